import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { attr } from '../../pipeline/otlp/attributes.js';
import { tracesCodec } from '../../pipeline/otlp/codec.js';
import { appendAttributes } from '../../pipeline/otlp/span-view.js';
import { rng } from '../../pipeline/otlp/testdata/random-requests.js';
import type { AnyValue, KeyValue, Span, TracesData } from '../../pipeline/otlp/types.js';
import { SpanKind } from '../../pipeline/otlp/types.js';
import { canonicalView } from './canonical.js';
import { canonicalContent, hasContent } from './content.js';

function span(attributes: Record<string, string>, name = 'span'): Span {
  return {
    traceId: new Uint8Array(16),
    spanId: new Uint8Array(8),
    name,
    kind: SpanKind.INTERNAL,
    startTimeUnixNano: 0,
    endTimeUnixNano: 0,
    attributes: Object.entries(attributes).map(([k, v]) => attr(k, v)),
  };
}

const content = (attributes: Record<string, string>, name?: string) => {
  const s = span(attributes, name);
  return canonicalContent(s, canonicalView(s)!);
};

describe('canonicalContent: what a span read and wrote, per convention', () => {
  test('OpenInference LLM span: indexed messages; a list-of-parts system prompt from input.value; tool schemas', () => {
    const c = content({
      'openinference.span.kind': 'LLM',
      'llm.input_messages.0.message.role': 'system',
      'llm.input_messages.1.message.role': 'user',
      'llm.input_messages.1.message.content': 'My order A1001',
      'llm.input_messages.2.message.role': 'tool',
      'llm.input_messages.2.message.content': '{"status":"shipped"}',
      'llm.output_messages.0.message.role': 'assistant',
      'llm.output_messages.0.message.contents.0.message_content.text': 'It shipped.',
      'input.value': JSON.stringify({ messages: [[{ lc: 1, type: 'constructor', id: ['langchain_core', 'messages', 'SystemMessage'], kwargs: { content: [{ type: 'text', text: 'You are support.' }] } }]] }),
      'llm.tools.0.tool.json_schema': '{"name":"http_post","description":"e.g. path /tickets"}',
    });
    expect(c.inputMessages).toEqual([
      { role: 'user', content: 'My order A1001' },
      { role: 'tool', content: '{"status":"shipped"}' },
      { role: 'system', content: 'You are support.' },
    ]);
    expect(c.outputMessages).toEqual([{ role: 'assistant', content: 'It shipped.' }]);
    expect(c.toolDefinitions).toEqual(['{"name":"http_post","description":"e.g. path /tickets"}']);
  });

  test('OpenInference tool and retriever spans', () => {
    expect(content({ 'openinference.span.kind': 'TOOL', 'tool.name': 'read_file', 'input.value': 'customers.csv', 'output.value': 'id,name', 'tool.parameters': '{"type":"object"}' })).toMatchObject({ toolArguments: 'customers.csv', toolResult: 'id,name' });
    const r = content({ 'openinference.span.kind': 'RETRIEVER', 'retrieval.documents.0.document.content': 'doc one', 'retrieval.documents.1.document.content': 'doc two' });
    expect(r.documents).toEqual(['doc one', 'doc two']);
  });

  test('GenAI semantic conventions: system instructions, input/output messages with parts, tool call arguments and result', () => {
    const llm = content({
      'gen_ai.operation.name': 'chat',
      'gen_ai.system_instructions': '[{"type":"text","content":"Be brief."}]',
      'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"Hi"}]},{"role":"tool","parts":[{"type":"tool_call_response","id":"c1","response":"42"}]}]',
      'gen_ai.output.messages': '[{"role":"assistant","parts":[{"type":"tool_call","name":"x","arguments":{"a":1}}]},{"role":"assistant","parts":[{"type":"text","content":"ok"}]}]',
      'gen_ai.tool.definitions': '[{"name":"x"}]',
    });
    expect(llm.inputMessages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'tool', content: '42' },
    ]);
    expect(llm.outputMessages).toEqual([{ role: 'assistant', content: 'ok' }]);
    const tool = content({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'x', 'gen_ai.tool.call.arguments': '{"a":1}', 'gen_ai.tool.call.result': '{"b":2}' });
    expect(tool).toMatchObject({ toolArguments: '{"a":1}', toolResult: '{"b":2}' });
  });

  test('OpenLLMetry: legacy indexed prompt/completion, and traceloop.entity.input/output on tools', () => {
    const llm = content({ 'llm.request.type': 'chat', 'gen_ai.prompt.0.role': 'system', 'gen_ai.prompt.0.content': 'Sys', 'gen_ai.prompt.1.role': 'user', 'gen_ai.prompt.1.content': 'Hello', 'gen_ai.completion.0.role': 'assistant', 'gen_ai.completion.0.content': 'Hi' });
    expect(llm.inputMessages).toEqual([{ role: 'system', content: 'Sys' }, { role: 'user', content: 'Hello' }]);
    expect(llm.outputMessages).toEqual([{ role: 'assistant', content: 'Hi' }]);
    const tool = content({ 'traceloop.span.kind': 'tool', 'traceloop.entity.name': 'search', 'traceloop.entity.input': '{"input_str": "{\'q\': \'x\'}"}', 'traceloop.entity.output': '{"output": "found"}' });
    expect(tool).toMatchObject({ toolArguments: '{"input_str": "{\'q\': \'x\'}"}', toolResult: '{"output": "found"}' });
  });

  test('LangSmith: run inputs/outputs as JSON messages; tool inputs/outputs', () => {
    const llm = content({ 'langsmith.span.kind': 'llm', 'gen_ai.prompt': '{"messages":[[{"type":"system","content":"S"},{"type":"human","content":"Q"}]]}', 'gen_ai.completion': '{"generations":[[{"message":{"type":"ai","content":"A"}}]]}' });
    expect(llm.inputMessages).toEqual([{ role: 'system', content: 'S' }, { role: 'user', content: 'Q' }]);
    expect(llm.outputMessages).toEqual([{ role: 'assistant', content: 'A' }]);
    expect(content({ 'langsmith.span.kind': 'tool', 'langsmith.trace.name': 'lookup', 'gen_ai.prompt': '{"input":"A1001"}', 'gen_ai.completion': '{"output":"shipped"}' })).toMatchObject({ toolArguments: '{"input":"A1001"}', toolResult: '{"output":"shipped"}' });
  });

  test('indexed messages complete: input.value and output.value (the conversation again, as one string) are never read', () => {
    const reads: string[] = [];
    const counted = (key: string, stringValue: string): KeyValue => ({
      key,
      get value() {
        reads.push(key);
        return { stringValue };
      },
    });
    const llm = (indexed: Record<string, string>) => {
      const s = span({ 'openinference.span.kind': 'LLM', ...indexed });
      s.attributes!.push(counted('input.value', '{"messages":[{"role":"system","content":"From input.value"}]}'), counted('output.value', '{"role":"assistant","content":"From output.value"}'));
      // The view's own reads (a decoded span's slots hold its AnyValue objects) are not counted: only canonicalContent's.
      const view = canonicalView(s)!;
      reads.length = 0;
      return canonicalContent(s, view);
    };
    const complete = { 'llm.input_messages.0.message.role': 'user', 'llm.input_messages.0.message.content': 'Hi', 'llm.output_messages.0.message.role': 'assistant', 'llm.output_messages.0.message.content': 'Hello' };
    expect(llm(complete)).toMatchObject({ inputMessages: [{ role: 'user', content: 'Hi' }], outputMessages: [{ role: 'assistant', content: 'Hello' }] });
    expect(reads).toEqual([]);
    // A message without content takes it from input.value; no output messages take output.value: each read once.
    const c = llm({ 'llm.input_messages.0.message.role': 'system', 'llm.input_messages.1.message.role': 'user', 'llm.input_messages.1.message.content': 'Hi' });
    expect(c.inputMessages).toEqual([{ role: 'user', content: 'Hi' }, { role: 'system', content: 'From input.value' }]);
    expect(c.outputMessages).toEqual([{ role: 'assistant', content: 'From output.value' }]);
    expect(reads).toEqual(['input.value', 'output.value']);
  });

  test('no content captured: empty lists, no arguments or result', () => {
    expect(content({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'x' })).toEqual({ inputMessages: [], outputMessages: [], documents: [], toolDefinitions: [] });
  });
});

describe('hasContent: whether canonicalContent would find anything, from the keys alone', () => {
  const EMPTY = { inputMessages: [], outputMessages: [], documents: [], toolDefinitions: [] };
  test.each<[string, Record<string, string>, boolean]>([
    ['GenAI chat without capture (bench/loadgen)', { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.provider.name': 'openai', 'server.address': 'api.openai.com', 'gen_ai.usage.input_tokens': '812' }, false],
    ['GenAI tool without capture', { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'x' }, false],
    ['OpenInference LLM without messages', { 'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4o', 'llm.token_count.prompt': '3' }, false],
    ['GenAI chat with input messages', { 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"hi"}]}]' }, true],
    ['GenAI tool arguments (through the view)', { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'x', 'gen_ai.tool.call.arguments': '{"a":1}' }, true],
    ['GenAI tool result', { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'x', 'gen_ai.tool.call.result': 'ok' }, true],
    ['OpenInference indexed message', { 'openinference.span.kind': 'LLM', 'llm.input_messages.0.message.content': 'hi', 'llm.input_messages.0.message.role': 'user' }, true],
    ['OpenInference tool schema', { 'openinference.span.kind': 'LLM', 'llm.tools.0.tool.json_schema': '{"name":"x"}' }, true],
    ['OpenInference retriever document', { 'openinference.span.kind': 'RETRIEVER', 'retrieval.documents.0.document.content': 'doc' }, true],
    ['OpenInference chain input', { 'openinference.span.kind': 'CHAIN', 'input.value': '{"messages":[{"role":"user","content":"hi"}]}' }, true],
    ['OpenInference tool output', { 'openinference.span.kind': 'TOOL', 'tool.name': 'x', 'output.value': 'ok' }, true],
    ['OpenLLMetry legacy prompt', { 'gen_ai.system': 'openai', 'gen_ai.prompt.0.role': 'user', 'gen_ai.prompt.0.content': 'hi' }, true],
    ['OpenLLMetry tool output', { 'traceloop.span.kind': 'tool', 'traceloop.entity.name': 'x', 'traceloop.entity.output': 'ok' }, true],
    ['LangSmith prompt', { 'langsmith.span.kind': 'llm', 'gen_ai.prompt': '{"messages":[{"role":"user","content":"hi"}]}' }, true],
    ['GenAI tool definitions', { 'gen_ai.operation.name': 'chat', 'gen_ai.tool.definitions': '[{"name":"x"}]' }, true],
  ])('%s: %s', (_, attributes, expected) => {
    const s = span(attributes);
    const view = canonicalView(s)!;
    expect(hasContent(s, view)).toBe(expected);
    const c = canonicalContent(s, view);
    // Without content keys canonicalContent finds nothing: skipping it loses nothing.
    if (!expected) expect(c).toEqual(EMPTY);
    else expect(c).not.toEqual(EMPTY);
  });
});

describe('canonicalContent of received spans (bytes): what the decoded span gives, nothing decoded', () => {
  const spansOf = (d: TracesData) => d.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
  const both = (list: Span[]): [Span[], Span[]] => {
    const bytes = tracesCodec.encode({ resourceSpans: [{ scopeSpans: [{ spans: list }] }] });
    return [spansOf(tracesCodec.decodeReceived(Buffer.from(bytes))), spansOf(tracesCodec.decode(bytes))];
  };
  const same = (list: Span[], appended: KeyValue[] = []) => {
    const [received, decoded] = both(list);
    received.forEach((r, i) => {
      const d = decoded[i]!;
      appendAttributes(r, appended);
      appendAttributes(d, appended);
      const view = canonicalView(d);
      if (!view) return;
      expect(canonicalContent(r, canonicalView(r)!), JSON.stringify(list[i]!.attributes)).toEqual(canonicalContent(d, view));
      expect((r as unknown as { message: unknown }).message).toBeUndefined();
    });
  };
  const fileSpans = (path: URL) =>
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .flatMap((line) => spansOf(tracesCodec.fromJson(line)));

  test('the captured and convention testdata, and provenance\'s reference agents', () => {
    for (const name of ['openinference-langchain-js.json', 'openllmetry-langchain-py.json', 'gen-ai-semconv.json', 'mcp-semconv.json', 'openinference-semconv.json', 'langsmith-otel.json', 'openllmetry-legacy.json']) {
      same(spansOf(tracesCodec.fromJson(readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8'))));
    }
    same(fileSpans(new URL('../provenance/testdata/reference-agents.jsonl', import.meta.url)));
  });

  test('a content key twice: the first non-empty string counts, as decoded (an empty or non-string first one does not)', () => {
    const chat = '{"messages":[{"role":"user","content":"Ich möchte eine Garantie für mein \\"Modell X-3\\" anmelden."}]}';
    for (const first of [{ stringValue: '' }, { intValue: 3 }, null, { stringValue: '{"messages":[{"role":"user","content":"first"}]}' }]) {
      const s = span({ 'openinference.span.kind': 'LLM' });
      s.attributes!.push({ key: 'input.value', value: first }, attr('input.value', chat), attr('output.value', ''), attr('output.value', '{"role":"assistant","content":"ok"}'));
      same([s]);
      const [[r]] = both([s]);
      const c = canonicalContent(r!, canonicalView(r!)!);
      expect(c.inputMessages[0]!.content).toBe(first?.stringValue ? 'first' : 'Ich möchte eine Garantie für mein "Modell X-3" anmelden.');
      expect(c.outputMessages).toEqual([{ role: 'assistant', content: 'ok' }]);
    }
  });

  test('content keys appended to a received span are read', () => {
    same([span({ 'openinference.span.kind': 'TOOL', 'tool.name': 't', 'output.value': 'received' })], [attr('output.value', 'appended')]);
    same([span({ 'openinference.span.kind': 'TOOL', 'tool.name': 't' })], [attr('output.value', 'appended'), attr('gen_ai.tool.definitions', '[{"name":"x"}]')]);
    same([span({ 'openinference.span.kind': 'LLM', 'output.value': '' })], [attr('output.value', '{"role":"assistant","content":"appended"}')]);
  });

  const rand = rng(11);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const KINDS: Record<string, string>[] = [
    { 'openinference.span.kind': 'LLM' },
    { 'openinference.span.kind': 'TOOL', 'tool.name': 't' },
    { 'openinference.span.kind': 'RETRIEVER' },
    { 'gen_ai.operation.name': 'chat' },
    { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 't' },
    { 'traceloop.span.kind': 'tool' },
    { 'traceloop.span.kind': 'workflow' },
    { 'langsmith.span.kind': 'llm' },
    { 'langsmith.span.kind': 'tool' },
    { 'mcp.method.name': 'tools/call' },
  ];
  const KEYS = ['gen_ai.system_instructions', 'gen_ai.input.messages', 'gen_ai.output.messages', 'gen_ai.tool.call.result', 'gen_ai.prompt', 'gen_ai.completion', 'input.value', 'output.value', 'traceloop.entity.input', 'traceloop.entity.output', 'gen_ai.tool.definitions', 'llm.input_messages.0.message.role', 'llm.input_messages.0.message.content', 'llm.output_messages.1.message.content', 'retrieval.documents.0.document.content', 'llm.tools.0.tool.json_schema', 'gen_ai.tool.call.arguments', 'other.key'];
  const STRINGS = ['', 'plain text', 'ünï 🚀 Grüße', '[{"type":"text","content":"Be brief."}]', '{"messages":[{"role":"user","content":"Fräulein"},{"role":"tool","content":"{\\"a\\":1}"}]}', '{"role":"assistant","content":"ok"}', '[{"role":"system","parts":[{"type":"text","content":"S"}]}]', '{"generations":[[{"message":{"type":"ai","content":"A"}}]]}', '{not json', 'user'];
  const value = (): AnyValue | null => pick<() => AnyValue | null>([() => ({ stringValue: pick(STRINGS) }), () => ({ stringValue: pick(STRINGS) }), () => ({ intValue: 3 }), () => ({}), () => null])();

  test('random content attributes, repeated keys included', () => {
    for (let i = 0; i < 1500; i++) {
      const s = span(pick(KINDS));
      const n = Math.floor(rand() * 6);
      for (let j = 0; j < n; j++) s.attributes!.push({ key: pick(KEYS), value: value() });
      same([s]);
    }
  });
});
