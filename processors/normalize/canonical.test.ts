import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { attr } from '../../pipeline/otlp/attributes.js';
import { tracesCodec } from '../../pipeline/otlp/codec.js';
import { appendAttributes } from '../../pipeline/otlp/span-view.js';
import { rng } from '../../pipeline/otlp/testdata/random-requests.js';
import type { AnyValue, KeyValue, Span, TracesData } from '../../pipeline/otlp/types.js';
import { SpanKind } from '../../pipeline/otlp/types.js';
import type { CanonicalSpan } from './canonical.js';
import { canonicalView, hostPort, VIEW_KEYS } from './canonical.js';
import { normalizeProvider, providerFromModel, providerFromServer } from './provider.js';

/** A fixture as the receiver would hand it on: OTLP/JSON through the codec. */
function fixture(name: string): TracesData {
  return tracesCodec.fromJson(readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8'));
}

function spans(data: TracesData): Span[] {
  return data.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
}

function views(data: TracesData): Map<string, CanonicalSpan | undefined> {
  return new Map(spans(data).map((s) => [s.name, canonicalView(s)]));
}

function span(name: string, kind: number, attributes: Record<string, string | number>): Span {
  return {
    traceId: new Uint8Array(16),
    spanId: new Uint8Array(8),
    name,
    kind,
    startTimeUnixNano: 0,
    endTimeUnixNano: 0,
    attributes: Object.entries(attributes).map(([k, v]) => attr(k, v)),
  };
}

describe('canonicalView: OTel GenAI semantic conventions', () => {
  const v = views(fixture('gen-ai-semconv.json'));

  it('reads a chat span fully: response model over request model, usage, server', () => {
    expect(v.get('chat gpt-4o')).toEqual({
      kind: 'llm',
      source: 'gen_ai',
      operation: 'chat',
      modelName: 'gpt-4o-2024-08-06',
      requestModel: 'gpt-4o',
      provider: 'openai',
      serverAddress: 'api.openai.com',
      serverPort: 443,
      inputTokens: 97,
      outputTokens: 52,
    });
  });

  it('reads agents, tools, embeddings and retrieval', () => {
    expect(v.get('invoke_agent TravelPlanner')).toMatchObject({
      kind: 'agent',
      source: 'gen_ai',
      agentName: 'TravelPlanner',
      agentId: 'asst_5j66UpCpwteGg4YSxUnt7lPY',
      conversationId: 'conv_5j66UpCpwteGg4YSxUnt7lPY',
      provider: 'openai',
    });
    expect(v.get('execute_tool get_weather')).toEqual({
      kind: 'tool',
      source: 'gen_ai',
      operation: 'execute_tool',
      toolName: 'get_weather',
      toolCallId: 'call_mszuSIzqtI65i1wAUOE8w5H4',
      toolType: 'function',
      toolArguments: '{"location":"Paris","unit":"celsius"}',
    });
    expect(v.get('embeddings text-embedding-3-small')).toMatchObject({ kind: 'embedding', modelName: 'text-embedding-3-small', provider: 'openai', inputTokens: 12 });
    expect(v.get('retrieval products-kb')).toMatchObject({ kind: 'retriever', dataSourceId: 'products-kb', serverAddress: 'qdrant.internal', serverPort: 6333 });
    expect(v.get('retrieval products-kb')?.provider).toBeUndefined();
    expect(v.get('create_agent Math Tutor')).toMatchObject({ kind: 'agent', operation: 'create_agent', agentName: 'Math Tutor', provider: 'azure.openai' });
  });

  it('reads legacy gen_ai.system and prompt/completion tokens without an operation name', () => {
    expect(v.get('chat gpt-4')).toMatchObject({ kind: 'llm', source: 'gen_ai', provider: 'azure.openai', modelName: 'gpt-4', inputTokens: 100, outputTokens: 20 });
    expect(v.get('chat gpt-4')?.operation).toBeUndefined();
  });

  it('normalises providers, guessing from host or model only when the span names none', () => {
    expect(v.get('chat llama3.1:8b')).toMatchObject({ provider: 'ollama', serverPort: 11434 });
    expect(v.get('generate_content gemini-2.0-flash')).toMatchObject({ kind: 'llm', provider: 'gcp.vertex_ai' });
    expect(v.get('chat anthropic.claude-3-5-sonnet-20240620-v1:0')).toMatchObject({ provider: 'aws.bedrock' });
  });
});

describe('canonicalView: MCP semantic conventions', () => {
  const data = fixture('mcp-semconv.json');
  const [client, server] = data.resourceSpans.map((rs) => rs.scopeSpans[0]!.spans.map((s) => canonicalView(s)));

  it('tells client from server by span kind, and MCP wins over execute_tool', () => {
    expect(client![1]).toEqual({
      kind: 'mcp_client',
      source: 'mcp',
      operation: 'execute_tool',
      mcpMethod: 'tools/call',
      mcpSessionId: '191c4850af6c49e08843a3f6c80e5046',
      networkTransport: 'pipe',
      toolName: 'get-weather',
      toolArguments: '{"city":"Paris"}',
    });
    expect(server![0]).toMatchObject({ kind: 'mcp_server', source: 'mcp', mcpMethod: 'tools/call', toolName: 'get-weather', networkTransport: 'pipe' });
    expect(server![1]).toMatchObject({ kind: 'mcp_server', mcpMethod: 'notifications/initialized' });
  });

  it('reads non-tool methods, resource URIs as data sources, and remote (tcp) servers', () => {
    expect(client![0]).toEqual({ kind: 'mcp_client', source: 'mcp', mcpMethod: 'initialize', networkTransport: 'pipe' });
    expect(client![2]).toMatchObject({ kind: 'mcp_client', mcpMethod: 'resources/read', dataSourceId: 'file:///srv/data/customers.csv' });
    expect(client![2]?.toolName).toBeUndefined();
    expect(client![3]).toMatchObject({ kind: 'mcp_client', toolName: 'search', networkTransport: 'tcp', serverAddress: 'mcp.example.com', serverPort: 443 });
  });

  it('takes the tool name from a tools/call span name when gen_ai.tool.name is missing', () => {
    expect(canonicalView(span('tools/call read_file', SpanKind.CLIENT, { 'mcp.method.name': 'tools/call' }))?.toolName).toBe('read_file');
    expect(canonicalView(span('tools/call', SpanKind.CLIENT, { 'mcp.method.name': 'tools/call' }))?.toolName).toBeUndefined();
  });
});

describe('canonicalView: OpenLLMetry', () => {
  it('captured LangChain (Python, 0.62): the root workflow is a chain although it says invoke_agent', () => {
    const v = views(fixture('openllmetry-langchain-py.json'));
    expect(v.get('LangGraph.workflow')).toMatchObject({ kind: 'chain', source: 'openllmetry', operation: 'invoke_agent', agentName: 'LangGraph' });
    expect(v.get('LangGraph.workflow')?.provider).toBeUndefined(); // gen_ai.provider.name=langgraph is the framework
    expect(v.get('invoke_agent LangGraph')).toMatchObject({ kind: 'agent', source: 'gen_ai', agentName: 'LangGraph' });
    expect(v.get('create_agent agent')).toMatchObject({ kind: 'agent', source: 'gen_ai', agentName: 'agent' });
    expect(v.get('execute_task model')).toMatchObject({ kind: 'chain', source: 'openllmetry', operation: 'execute_task' });
    expect(v.get('ChatOpenAI.chat')).toMatchObject({ kind: 'llm', source: 'gen_ai', modelName: 'gpt-4o-mini', provider: 'openai' });
    expect(v.get('ChatOpenAI.chat')?.inputTokens).toBeGreaterThan(0);
    const tool = v.get('execute_tool search_kb');
    expect(tool).toMatchObject({ kind: 'tool', source: 'openllmetry', toolName: 'search_kb', toolType: 'function' });
    expect(tool?.provider).toBeUndefined();
    expect(tool?.toolArguments).toContain('collection');
    expect(v.get('execute_tool read_text_file')?.toolName).toBe('read_text_file');
    // requests instrumentation, old HTTP semconv: http.method + http.url only.
    const http = v.get('POST');
    expect(http).toMatchObject({ kind: 'http', source: 'http', serverAddress: '127.0.0.1' });
    expect(http?.serverPort).toBeGreaterThan(0);
    expect(v.get('agent.run')).toBeUndefined(); // the application's own span
  });

  it('legacy spans: traceloop.span.kind, llm.request.type, capitalised gen_ai.system, llm.usage.*', () => {
    const v = views(fixture('openllmetry-legacy.json'));
    expect(v.get('AgentExecutor.workflow')).toEqual({ kind: 'chain', source: 'openllmetry' });
    expect(v.get('research.agent')).toEqual({ kind: 'agent', source: 'openllmetry', agentName: 'research' });
    expect(v.get('ChatOpenAI.chat')).toEqual({
      kind: 'llm',
      source: 'openllmetry',
      modelName: 'gpt-3.5-turbo-0125',
      requestModel: 'gpt-3.5-turbo',
      provider: 'openai',
      inputTokens: 50,
      outputTokens: 10,
    });
    expect(v.get('get_weather.tool')).toEqual({ kind: 'tool', source: 'openllmetry', toolName: 'get_weather', toolArguments: '{"inputs":{"city":"Paris"}}' });
    expect(v.get('openai.embeddings')).toMatchObject({ kind: 'embedding', modelName: 'text-embedding-ada-002', provider: 'openai' });
    expect(v.get('anthropic.chat')).toMatchObject({ kind: 'llm', provider: 'anthropic', inputTokens: 30, outputTokens: 5 });
    expect(v.get('summarize.task')).toEqual({ kind: 'chain', source: 'openllmetry' }); // gen_ai.system=Langchain is no provider
  });
});

describe('canonicalView: OpenInference', () => {
  it('captured LangChain.js: LangGraph chain, ChatOpenAI LLM (provider from metadata), tools with arguments', () => {
    const data = fixture('openinference-langchain-js.json');
    const v = views(data);
    expect(v.get('LangGraph')).toEqual({ kind: 'chain', source: 'openinference' });
    expect(v.get('model_request')).toEqual({ kind: 'chain', source: 'openinference' });
    expect(v.get('tools')).toEqual({ kind: 'chain', source: 'openinference' });
    const llm = v.get('ChatOpenAI');
    expect(llm).toMatchObject({ kind: 'llm', source: 'openinference', modelName: 'gpt-4o-mini', provider: 'openai' });
    expect(llm?.inputTokens).toBeGreaterThan(0);
    expect(llm?.outputTokens).toBeGreaterThan(0);
    expect(v.get('search_kb')).toMatchObject({ kind: 'tool', toolName: 'search_kb' });
    expect(JSON.parse(v.get('search_kb')!.toolArguments!)).toHaveProperty('query');
    expect(v.get('read_text_file')).toMatchObject({ kind: 'tool', toolName: 'read_text_file', toolArguments: 'customers.csv' });
    expect(v.get('http_post')).toMatchObject({ kind: 'tool', toolName: 'http_post' });
    // undici, new HTTP semconv: the POSTs to the model and to the services.
    const posts = spans(data).filter((s) => s.name === 'POST').map((s) => canonicalView(s));
    expect(posts.length).toBeGreaterThan(0);
    for (const p of posts) expect(p).toMatchObject({ kind: 'http', source: 'http', serverAddress: '127.0.0.1' });
    expect(posts.some((p) => p?.url?.endsWith('/v1/chat/completions'))).toBe(true);
    expect(v.get('agent.run')).toBeUndefined();
  });

  it('documented kinds: agent, providers, tool input (not tool.parameters), retriever, embedding, reranker, guardrail', () => {
    const v = views(fixture('openinference-semconv.json'));
    expect(v.get('support_agent')).toEqual({ kind: 'agent', source: 'openinference', agentName: 'support_agent', conversationId: 'sess-42' });
    expect(v.get('Anthropic.chat')).toMatchObject({ kind: 'llm', provider: 'anthropic', modelName: 'claude-3-5-sonnet-20241022', inputTokens: 420, outputTokens: 88 });
    expect(v.get('AzureOpenAI.chat')).toMatchObject({ kind: 'llm', provider: 'azure.openai' }); // llm.provider before llm.system
    expect(v.get('lookup_order')).toEqual({ kind: 'tool', source: 'openinference', toolName: 'lookup_order', toolArguments: '{"order_id":"A-1001"}' });
    expect(v.get('VectorIndexRetriever.retrieve')).toEqual({ kind: 'retriever', source: 'openinference' });
    expect(v.get('OpenAIEmbedding.get_query_embedding')).toEqual({ kind: 'embedding', source: 'openinference', modelName: 'text-embedding-3-small', provider: 'openai' });
    expect(v.get('CohereRerank.postprocess_nodes')).toEqual({ kind: 'other', source: 'openinference', modelName: 'rerank-english-v3.0' });
    expect(v.get('input_guardrail')).toEqual({ kind: 'other', source: 'openinference' });
    expect(v.get('query_pipeline')).toEqual({ kind: 'chain', source: 'openinference' }); // metadata read only for model spans
  });
});

describe('canonicalView: LangSmith OTel export', () => {
  const v = views(fixture('langsmith-otel.json'));

  it('uses langsmith.span.kind, not the gen_ai.operation.name it derives', () => {
    expect(v.get('LangGraph')).toEqual({ kind: 'chain', source: 'langsmith', operation: 'chain' });
    expect(v.get('VectorStoreRetriever')).toEqual({ kind: 'retriever', source: 'langsmith', operation: 'embeddings' });
    expect(v.get('ChatPromptTemplate')).toEqual({ kind: 'other', source: 'langsmith', operation: 'chat' });
  });

  it('reads models, tools and their inputs; gen_ai.system=langchain is no provider', () => {
    expect(v.get('ChatOpenAI')).toMatchObject({ kind: 'llm', modelName: 'gpt-4o-mini', provider: 'openai', inputTokens: 312, outputTokens: 41 });
    expect(v.get('ChatAnthropic')).toMatchObject({ kind: 'llm', modelName: 'claude-sonnet-4-5', provider: 'anthropic' });
    expect(v.get('search_kb')).toEqual({
      kind: 'tool',
      source: 'langsmith',
      operation: 'execute_tool',
      toolName: 'search_kb',
      toolArguments: '{"input":"{\\"query\\":\\"refund policy\\",\\"top_k\\":3}"}',
    });
  });
});

describe('canonicalView: precedence and edge cases', () => {
  it('an instrumentation kind beats gen_ai.operation.name; MCP beats everything', () => {
    expect(canonicalView(span('x', 1, { 'openinference.span.kind': 'TOOL', 'gen_ai.operation.name': 'chat', 'tool.name': 't' }))).toMatchObject({ kind: 'tool', source: 'openinference' });
    expect(canonicalView(span('x', 1, { 'traceloop.span.kind': 'workflow', 'gen_ai.operation.name': 'invoke_agent' }))).toMatchObject({ kind: 'chain', source: 'openllmetry' });
    expect(canonicalView(span('x', 3, { 'mcp.method.name': 'tools/call', 'openinference.span.kind': 'TOOL', 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 't' }))).toMatchObject({ kind: 'mcp_client', source: 'mcp', toolName: 't' });
    expect(canonicalView(span('x', 1, { 'openinference.span.kind': 'LLM', 'langsmith.span.kind': 'tool' }))).toMatchObject({ kind: 'llm', source: 'openinference' });
  });

  it('traceloop.span.kind=unknown falls through to gen_ai.operation.name', () => {
    expect(canonicalView(span('x', 1, { 'traceloop.span.kind': 'unknown', 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o' }))).toMatchObject({ kind: 'llm', source: 'gen_ai' });
    expect(canonicalView(span('x', 1, { 'traceloop.span.kind': 'unknown' }))).toEqual({ kind: 'other', source: 'openllmetry' });
  });

  it('provider: gen_ai.provider.name, then gen_ai.system, then llm.provider, then llm.system', () => {
    const all = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'anthropic', 'gen_ai.system': 'openai', 'llm.provider': 'cohere', 'llm.system': 'mistralai' };
    expect(canonicalView(span('x', 3, all))?.provider).toBe('anthropic');
    expect(canonicalView(span('x', 3, { ...all, 'gen_ai.provider.name': 'langgraph' }))?.provider).toBe('openai');
    const { 'gen_ai.provider.name': _a, 'gen_ai.system': _b, ...rest } = all;
    expect(canonicalView(span('x', 3, rest))?.provider).toBe('cohere');
    expect(canonicalView(span('x', 3, { 'gen_ai.operation.name': 'chat', 'llm.system': 'mistralai' }))?.provider).toBe('mistral_ai');
  });

  it('guesses from the host before the model name, and never for non-model spans', () => {
    expect(canonicalView(span('x', 3, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'server.address': 'contoso.openai.azure.com' }))?.provider).toBe('azure.openai');
    expect(canonicalView(span('x', 3, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'server.address': '10.0.0.5' }))?.provider).toBe('openai');
    expect(canonicalView(span('x', 3, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'my-finetune' }))?.provider).toBeUndefined();
    expect(canonicalView(span('GET', 3, { 'http.request.method': 'GET', 'url.full': 'https://api.openai.com/v1/models' }))?.provider).toBeUndefined();
  });

  it('HTTP: client spans only; server.address before the URL; old and new semconv', () => {
    expect(canonicalView(span('GET', SpanKind.SERVER, { 'http.request.method': 'GET', 'url.path': '/' }))).toBeUndefined();
    expect(canonicalView(span('GET', SpanKind.CLIENT, { 'http.request.method': 'GET', 'url.full': 'https://kb.internal:8443/search?q=1', 'server.address': 'kb.internal' }))).toEqual({
      kind: 'http',
      source: 'http',
      serverAddress: 'kb.internal',
      serverPort: 8443,
      url: 'https://kb.internal:8443/search?q=1',
    });
    expect(canonicalView(span('GET', SpanKind.CLIENT, { 'http.method': 'GET', 'net.peer.name': 'kb.internal', 'net.peer.port': 8080 }))).toEqual({ kind: 'http', source: 'http', serverAddress: 'kb.internal', serverPort: 8080 });
  });

  it('values named like an object\'s own properties are no kind (`constructor`, `__proto__`, `toString`)', () => {
    for (const v of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect(canonicalView(span('x', 1, { 'gen_ai.operation.name': v }))).toEqual({ kind: 'other', source: 'gen_ai', operation: v });
      expect(canonicalView(span('x', 1, { 'openinference.span.kind': v }))).toEqual({ kind: 'other', source: 'openinference' });
      expect(canonicalView(span('x', 1, { 'langsmith.span.kind': v }))).toEqual({ kind: 'other', source: 'langsmith' });
      expect(canonicalView(span('x', 1, { 'traceloop.span.kind': v, 'llm.request.type': v }))).toEqual({ kind: 'other', source: 'openllmetry' });
      expect(canonicalView(span('x', 1, { 'traceloop.span.kind': v, 'gen_ai.operation.name': 'chat' }))).toEqual({ kind: 'llm', source: 'gen_ai', operation: 'chat' });
    }
  });

  it('unknown operations and bare gen_ai facts are `other`; nothing known is undefined', () => {
    expect(canonicalView(span('x', 1, { 'gen_ai.operation.name': 'rerank' }))).toEqual({ kind: 'other', source: 'gen_ai', operation: 'rerank' });
    expect(canonicalView(span('x', 1, { 'gen_ai.tool.name': 'calc' }))).toEqual({ kind: 'tool', source: 'gen_ai', toolName: 'calc' });
    expect(canonicalView(span('x', 1, { 'db.system.name': 'postgresql' }))).toBeUndefined();
    expect(canonicalView({ ...span('x', 1, {}), attributes: undefined })).toBeUndefined();
  });

  it('ignores empty strings, accepts numeric strings and Long token counts, first duplicate wins', () => {
    const s = span('x', 3, { 'gen_ai.operation.name': 'chat', 'gen_ai.response.model': '', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': '17' });
    s.attributes!.push(attr('gen_ai.request.model', 'other-model'));
    expect(canonicalView(s)).toMatchObject({ modelName: 'gpt-4o', inputTokens: 17 });
    const decoded = tracesCodec.decode(tracesCodec.encode({ resourceSpans: [{ scopeSpans: [{ spans: [span('x', 3, { 'gen_ai.operation.name': 'chat', 'gen_ai.usage.output_tokens': 5_000_000_000 })] }] }] }));
    expect(canonicalView(decoded.resourceSpans[0]!.scopeSpans[0]!.spans[0]!)?.outputTokens).toBe(5_000_000_000);
  });

  it('does not change the span', () => {
    const s = span('chat gpt-4o', 3, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o' });
    const before = structuredClone(s);
    canonicalView(s);
    expect(s).toEqual(before);
  });
});

describe('hostPort', () => {
  it.each([
    ['http://127.0.0.1:33249/v1/chat/completions', { host: '127.0.0.1', port: 33249 }],
    ['https://api.openai.com/v1/models', { host: 'api.openai.com', port: 443 }],
    ['http://kb.internal?x=1', { host: 'kb.internal', port: 80 }],
    ['https://user:pw@example.com:8443/p', { host: 'example.com', port: 8443 }],
    ['http://[::1]:8080/x', { host: '::1', port: 8080 }],
    ['https://[2001:db8::1]/x', { host: '2001:db8::1', port: 443 }],
    ['grpc://svc:99999/', { host: 'svc' }],
    ['unix:///run/x.sock', {}],
    ['/relative/path', {}],
  ])('%s', (url, want) => {
    expect(hostPort(url)).toEqual(want);
  });
});

describe('provider normalisation', () => {
  it.each([
    ['OpenAI', 'openai'],
    ['Anthropic', 'anthropic'],
    ['az.ai.openai', 'azure.openai'],
    ['azure.ai.openai', 'azure.openai'],
    ['azure', 'azure.openai'],
    ['az.ai.inference', 'azure.ai.inference'],
    ['aws.bedrock', 'aws.bedrock'],
    ['vertex_ai', 'gcp.vertex_ai'],
    ['gemini', 'gcp.gemini'],
    ['google', 'gcp.gen_ai'],
    ['mistralai', 'mistral_ai'],
    ['xai', 'x_ai'],
    ['ollama', 'ollama'],
    ['some_new_vendor', 'some_new_vendor'],
    ['Langchain', undefined],
    ['langgraph', undefined],
    ['', undefined],
  ])('%s -> %s', (raw, want) => {
    expect(normalizeProvider(raw)).toBe(want);
  });

  it.each([
    ['gpt-4o-mini', 'openai'],
    ['o3-mini', 'openai'],
    ['o1', 'openai'],
    ['ft:gpt-4o-mini:acme::abc', 'openai'],
    ['text-embedding-3-small', 'openai'],
    ['claude-3-5-sonnet-20241022', 'anthropic'],
    ['anthropic.claude-3-haiku-20240307-v1:0', 'aws.bedrock'],
    ['us.anthropic.claude-3-7-sonnet-20250219-v1:0', 'aws.bedrock'],
    ['gemini-2.0-flash', 'gcp.gen_ai'],
    ['llama3.1:8b', 'ollama'],
    ['mistral-large-latest', 'mistral_ai'],
    ['command-r-plus', 'cohere'],
    ['omega', undefined],
    ['llama-3.1-70b', undefined],
  ])('model %s -> %s', (model, want) => {
    expect(providerFromModel(model)).toBe(want);
  });

  it('server hosts', () => {
    expect(providerFromServer('bedrock-runtime.eu-west-1.amazonaws.com', 443)).toBe('aws.bedrock');
    expect(providerFromServer('generativelanguage.googleapis.com', 443)).toBe('gcp.gemini');
    expect(providerFromServer('127.0.0.1', 11434)).toBe('ollama');
    expect(providerFromServer('127.0.0.1', 8080)).toBeUndefined();
  });
});

describe('canonicalView of a received span (bytes, pipeline/otlp/wire-span.ts)', () => {
  const received = (attributes: Record<string, string>) => {
    const data = tracesCodec.encode({ resourceSpans: [{ scopeSpans: [{ spans: [span('x', SpanKind.CLIENT, attributes)] }] }] });
    return spans(tracesCodec.decodeReceived(Buffer.from(data)))[0]!;
  };

  it('equals the decoded span\'s view, kept while only keys it does not read are appended, recomputed once they are', () => {
    const attrs = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai' };
    const s = received(attrs);
    expect(canonicalView(s)).toEqual(canonicalView(span('x', SpanKind.CLIENT, attrs)));
    appendAttributes(s, [attr('aibom.span.kind', 'llm')]);
    expect(canonicalView(s)?.modelName).toBeUndefined();
    appendAttributes(s, [attr('gen_ai.request.model', 'gpt-4o')]);
    expect(canonicalView(s)?.modelName).toBe('gpt-4o');
  });

  it('one view for every reader while only keys it does not read are appended (shared frozen lists too); a fresh one from the first key it reads appended on', () => {
    const frozen = (...kvs: KeyValue[]): readonly KeyValue[] => Object.freeze(kvs.map((kv) => Object.freeze({ key: kv.key, value: Object.freeze({ ...kv.value }) })));
    const own = frozen(attr('aibom.span.kind', 'llm'), attr('aibom.normalize.source', 'gen_ai'));
    const reads = frozen(attr('aibom.tool.name', 't'), attr('gen_ai.request.model', 'gpt-4o'));
    const attrs = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai' };
    for (let i = 0; i < 3; i++) {
      // The first span finds `own` clean key by key, the next ones by the list.
      const s = received(attrs);
      const first = canonicalView(s);
      appendAttributes(s, own);
      expect(canonicalView(s)).toBe(first);
      expect(canonicalView(s)).toBe(first);
      // A key it reads, after the checked ones (the list is copied and grown): a fresh view, then kept.
      appendAttributes(s, [attr('gen_ai.response.model', `gpt-4o-${i}`)]);
      const second = canonicalView(s);
      expect(second).not.toBe(first);
      expect(second?.modelName).toBe(`gpt-4o-${i}`);
      expect(canonicalView(s)).toBe(second);
      // A shared frozen list holding a key it reads, as the first thing appended: never taken as clean.
      const t = received(attrs);
      const before = canonicalView(t);
      appendAttributes(t, reads);
      expect(canonicalView(t)).not.toBe(before);
      expect(canonicalView(t)).toMatchObject({ modelName: 'gpt-4o', toolName: undefined });
    }
  });

  it('a span decoded after its view was kept gets a fresh view on every call, of what it holds now', () => {
    const s = received({ 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai' });
    const kept = canonicalView(s);
    expect(canonicalView(s)).toBe(kept);
    void s.attributes; // decodes it
    const a = canonicalView(s);
    expect(a).not.toBe(kept);
    expect(a).toEqual(kept);
    expect(canonicalView(s)).not.toBe(a);
    s.attributes!.push(attr('gen_ai.request.model', 'o3'));
    expect(canonicalView(s)?.modelName).toBe('o3');
  });

  it('follows the span once it is decoded and changed', () => {
    const s = received({ 'gen_ai.operation.name': 'chat' });
    expect(canonicalView(s)?.kind).toBe('llm');
    s.attributes = [attr('gen_ai.operation.name', 'execute_tool'), attr('gen_ai.tool.name', 't')];
    expect(canonicalView(s)).toMatchObject({ kind: 'tool', toolName: 't' });
  });
});

describe('canonicalView of received spans: random attributes over every key it reads', () => {
  const rand = rng(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const STRINGS = ['', 'chat', 'execute_tool', 'invoke_agent', 'create_agent', 'embeddings', 'tools/call', 'resources/read', 'openai', 'langchain', 'LLM', 'TOOL', 'agent', 'workflow', 'tool', 'chain', 'rerank', 'gpt-4o', 'llama3.1:8b', 'http://127.0.0.1:11434/api', 'https://user@[::1]/x', '{"ls_provider":"anthropic","ls_model_name":"claude-3"}', '443', 'x', 'ünï 🚀'];
  const value = (): AnyValue | null =>
    pick<() => AnyValue | null>([
      () => ({ stringValue: pick(STRINGS) }),
      () => ({ intValue: pick([0, 443, -1, 812, 2 ** 40]) }),
      () => ({ doubleValue: pick([0.5, 96, Number.NaN, -3]) }),
      () => ({ boolValue: true }),
      () => ({}),
      () => null,
    ])();
  const randomSpan = (): Span => ({
    traceId: new Uint8Array(16),
    spanId: new Uint8Array(8),
    name: pick(['', 'chat gpt-4o', 'execute_tool lookup', 'tools/call read_file', 'tools/call', 'invoke_agent support', 'create_agent a', 'POST']),
    kind: Math.floor(rand() * 6),
    startTimeUnixNano: 0,
    endTimeUnixNano: 0,
    attributes: Array.from({ length: Math.floor(rand() * 10) }, (): KeyValue => ({ key: pick(VIEW_KEYS), value: value() })),
  });

  it('equals the decoded span\'s view, nothing decoded', () => {
    for (let i = 0; i < 3000; i++) {
      const s = randomSpan();
      const [received] = spans(tracesCodec.decodeReceived(Buffer.from(tracesCodec.encode({ resourceSpans: [{ scopeSpans: [{ spans: [s] }] }] }))));
      const decoded = spans(tracesCodec.decode(tracesCodec.encode({ resourceSpans: [{ scopeSpans: [{ spans: [s] }] }] })))[0]!;
      expect(canonicalView(received!), JSON.stringify(s.attributes)).toEqual(canonicalView(decoded));
      expect((received as unknown as { message: unknown }).message).toBeUndefined();
    }
  });
});
