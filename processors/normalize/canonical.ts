import { AttributeSlots } from '../../pipeline/otlp/attribute-slots.js';
import { DependsOn, keepDerived, keptDerived, NOT_KEPT } from '../../pipeline/otlp/span-view.js';
import type { Span } from '../../pipeline/otlp/types.js';
import { SpanKind } from '../../pipeline/otlp/types.js';
import { normalizeProvider, providerFromModel, providerFromServer } from './provider.js';

/**
 * One canonical view of an agent span, whatever instrumented it: OTel GenAI and MCP semantic
 * conventions, OpenLLMetry (Traceloop), OpenInference (Arize), LangSmith's OTel export, and plain
 * HTTP client spans. `canonicalView` is pure and reads only the span, so correlate, aibom and
 * baseline call it on the spans they see and get the same answer normalize wrote.
 */

/** What the span is. `other`: a recognised convention, but none of our kinds (guardrail, evaluator, reranker, prompt). */
export type CanonicalKind =
  | 'agent'
  | 'llm'
  | 'tool'
  | 'retriever'
  | 'embedding'
  | 'mcp_client'
  | 'mcp_server'
  | 'chain'
  | 'http'
  | 'other';

/** The convention whose attributes decided `kind` (fields may come from others on the same span). */
export type NormalizeSource = 'gen_ai' | 'openinference' | 'openllmetry' | 'langsmith' | 'mcp' | 'http';

export interface CanonicalSpan {
  kind: CanonicalKind;
  source: NormalizeSource;
  /** `gen_ai.operation.name` as written (chat, invoke_agent, create_agent, execute_tool, ...). */
  operation?: string;
  /** The model that answered (response model), else the one requested. */
  modelName?: string;
  /** The model the application asked for, when the span says. */
  requestModel?: string;
  /** Normalised: openai, anthropic, azure.openai, aws.bedrock, gcp.vertex_ai, gcp.gemini, ollama, ... */
  provider?: string;
  toolName?: string;
  toolCallId?: string;
  /** `gen_ai.tool.type`: function, extension, datastore. */
  toolType?: string;
  /** Arguments as the instrumentation recorded them; the shape differs by source (see README). */
  toolArguments?: string;
  agentName?: string;
  agentId?: string;
  mcpMethod?: string;
  mcpSessionId?: string;
  /** `network.transport`: `pipe` for MCP stdio, `tcp`, `udp`, `unix`. */
  networkTransport?: string;
  /** `gen_ai.data_source.id`, or the `mcp.resource.uri` an MCP resources/* call names. */
  dataSourceId?: string;
  serverAddress?: string;
  serverPort?: number;
  /** `url.full` (or old `http.url`) of HTTP client spans. */
  url?: string;
  inputTokens?: number;
  outputTokens?: number;
  /** `gen_ai.conversation.id`, else OpenInference `session.id`. */
  conversationId?: string;
}

// ---------------------------------------------------------------- one pass into slots

/** Every attribute key the view reads, each a slot of `slots` filled in one pass. */
export const VIEW_KEYS = [
  'gen_ai.operation.name',
  'gen_ai.provider.name',
  'gen_ai.system',
  'gen_ai.request.model',
  'gen_ai.response.model',
  'gen_ai.tool.name',
  'gen_ai.tool.call.id',
  'gen_ai.tool.type',
  'gen_ai.tool.call.arguments',
  'gen_ai.agent.name',
  'gen_ai.agent.id',
  'gen_ai.data_source.id',
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'gen_ai.usage.prompt_tokens',
  'gen_ai.usage.completion_tokens',
  'gen_ai.conversation.id',
  'gen_ai.prompt',
  'server.address',
  'server.port',
  'mcp.method.name',
  'mcp.session.id',
  'mcp.resource.uri',
  'network.transport',
  'traceloop.span.kind',
  'traceloop.entity.name',
  'traceloop.entity.input',
  'traceloop.association.properties.ls_provider',
  'traceloop.association.properties.ls_model_name',
  'llm.request.type',
  'llm.request.model',
  'llm.response.model',
  'llm.usage.prompt_tokens',
  'llm.usage.completion_tokens',
  'openinference.span.kind',
  'llm.model_name',
  'llm.provider',
  'llm.system',
  'llm.token_count.prompt',
  'llm.token_count.completion',
  'embedding.model_name',
  'reranker.model_name',
  'tool.name',
  'input.value',
  'agent.name',
  'session.id',
  'metadata',
  'langsmith.span.kind',
  'langsmith.trace.name',
  'langsmith.metadata.ls_provider',
  'langsmith.metadata.ls_model_name',
  'http.request.method',
  'http.method',
  'url.full',
  'http.url',
  'net.peer.name',
  'net.peer.port',
] as const;

type Key = (typeof VIEW_KEYS)[number];
/** Filled by `read` for one span at a time (computeView is synchronous). */
const slots = new AttributeSlots(VIEW_KEYS);
const SLOT = slots.slotOf;
const slot = (k: Key): number => SLOT.get(k)!;
/** `slots.has`, read inline by `str` and `num` (kept under V8's size for always inlining a call). */
const PRESENT = slots.present;

// Named slot numbers, resolved once at load.
const S = {
  op: slot('gen_ai.operation.name'),
  gaProvider: slot('gen_ai.provider.name'),
  gaSystem: slot('gen_ai.system'),
  gaReqModel: slot('gen_ai.request.model'),
  gaRespModel: slot('gen_ai.response.model'),
  gaToolName: slot('gen_ai.tool.name'),
  gaToolCallId: slot('gen_ai.tool.call.id'),
  gaToolType: slot('gen_ai.tool.type'),
  gaToolArgs: slot('gen_ai.tool.call.arguments'),
  gaAgentName: slot('gen_ai.agent.name'),
  gaAgentId: slot('gen_ai.agent.id'),
  gaDataSource: slot('gen_ai.data_source.id'),
  gaIn: slot('gen_ai.usage.input_tokens'),
  gaOut: slot('gen_ai.usage.output_tokens'),
  gaPromptTok: slot('gen_ai.usage.prompt_tokens'),
  gaComplTok: slot('gen_ai.usage.completion_tokens'),
  gaConversation: slot('gen_ai.conversation.id'),
  gaPrompt: slot('gen_ai.prompt'),
  serverAddress: slot('server.address'),
  serverPort: slot('server.port'),
  mcpMethod: slot('mcp.method.name'),
  mcpSession: slot('mcp.session.id'),
  mcpResource: slot('mcp.resource.uri'),
  transport: slot('network.transport'),
  tlKind: slot('traceloop.span.kind'),
  tlEntity: slot('traceloop.entity.name'),
  tlInput: slot('traceloop.entity.input'),
  tlLsProvider: slot('traceloop.association.properties.ls_provider'),
  tlLsModel: slot('traceloop.association.properties.ls_model_name'),
  llmRequestType: slot('llm.request.type'),
  llmReqModel: slot('llm.request.model'),
  llmRespModel: slot('llm.response.model'),
  llmUsageIn: slot('llm.usage.prompt_tokens'),
  llmUsageOut: slot('llm.usage.completion_tokens'),
  oiKind: slot('openinference.span.kind'),
  oiModel: slot('llm.model_name'),
  oiProvider: slot('llm.provider'),
  oiSystem: slot('llm.system'),
  oiIn: slot('llm.token_count.prompt'),
  oiOut: slot('llm.token_count.completion'),
  oiEmbeddingModel: slot('embedding.model_name'),
  oiRerankerModel: slot('reranker.model_name'),
  oiToolName: slot('tool.name'),
  oiInput: slot('input.value'),
  oiAgentName: slot('agent.name'),
  oiSession: slot('session.id'),
  oiMetadata: slot('metadata'),
  lsKind: slot('langsmith.span.kind'),
  lsName: slot('langsmith.trace.name'),
  lsProvider: slot('langsmith.metadata.ls_provider'),
  lsModel: slot('langsmith.metadata.ls_model_name'),
  httpMethod: slot('http.request.method'),
  httpMethodOld: slot('http.method'),
  urlFull: slot('url.full'),
  httpUrl: slot('http.url'),
  netPeerName: slot('net.peer.name'),
  netPeerPort: slot('net.peer.port'),
} as const;

/**
 * A non-empty string; numbers are stringified (ids, ports written as ints). Small enough to be
 * inlined at each of the view's ~45 reads, most of them of absent keys: one test there, no call.
 */
function str(i: number): string | undefined {
  return PRESENT[i] === 1 ? presentStr(i) : undefined;
}

function presentStr(i: number): string | undefined {
  const s = slots.string(i);
  if (s !== undefined) return s === '' ? undefined : s;
  const n = slots.int(i);
  if (n !== undefined) return String(n);
  const d = slots.double(i);
  return d === undefined ? undefined : String(d);
}

/** A finite number; numeric strings are accepted (some SDKs stringify token counts and ports). */
function num(i: number): number | undefined {
  return PRESENT[i] === 1 ? presentNum(i) : undefined;
}

function presentNum(i: number): number | undefined {
  const n = slots.int(i);
  if (n !== undefined) return n;
  const d = slots.double(i);
  if (d !== undefined) return d;
  const s = slots.string(i);
  if (s === undefined || s === '') return undefined;
  const x = Number(s);
  return Number.isFinite(x) ? x : undefined;
}

// ---------------------------------------------------------------- kind and source

const OPENINFERENCE_KINDS: Readonly<Record<string, CanonicalKind>> = {
  LLM: 'llm',
  CHAIN: 'chain',
  TOOL: 'tool',
  AGENT: 'agent',
  RETRIEVER: 'retriever',
  EMBEDDING: 'embedding',
  RERANKER: 'other',
  GUARDRAIL: 'other',
  EVALUATOR: 'other',
  PROMPT: 'other',
  UNKNOWN: 'other',
};

const LANGSMITH_KINDS: Readonly<Record<string, CanonicalKind>> = {
  llm: 'llm',
  chain: 'chain',
  tool: 'tool',
  retriever: 'retriever',
  embedding: 'embedding',
  prompt: 'other',
  parser: 'other',
};

/** OpenLLMetry's root `workflow` and its `task`s are chains: only `agent` says agent. `unknown` falls through. */
const TRACELOOP_KINDS: Readonly<Record<string, CanonicalKind>> = {
  workflow: 'chain',
  task: 'chain',
  agent: 'agent',
  tool: 'tool',
};

const GEN_AI_OPERATIONS: Readonly<Record<string, CanonicalKind>> = {
  chat: 'llm',
  text_completion: 'llm',
  generate_content: 'llm',
  embeddings: 'embedding',
  execute_tool: 'tool',
  invoke_agent: 'agent',
  create_agent: 'agent',
  retrieval: 'retriever',
};

const LLM_REQUEST_TYPES: Readonly<Record<string, CanonicalKind>> = {
  chat: 'llm',
  completion: 'llm',
  embedding: 'embedding',
  rerank: 'other',
};

type Classified = Readonly<{ kind: CanonicalKind; source: NormalizeSource }>;

const KINDS: readonly CanonicalKind[] = ['agent', 'llm', 'tool', 'retriever', 'embedding', 'mcp_client', 'mcp_server', 'chain', 'http', 'other'];
const SOURCES: readonly NormalizeSource[] = ['gen_ai', 'openinference', 'openllmetry', 'langsmith', 'mcp', 'http'];

/** Every (kind, source) answer made once: `classify` runs per span and hands back one of these. */
const CLASSIFIED = Object.fromEntries(
  SOURCES.map((source) => [source, Object.fromEntries(KINDS.map((kind) => [kind, Object.freeze({ kind, source })]))]),
) as Readonly<Record<NormalizeSource, Readonly<Record<CanonicalKind, Classified>>>>;

/**
 * A table's values with their answers made, as a Map: the value read is a string the view has not
 * seen as a property name, and a keyed load of it from a plain object costs more than a Map's get.
 */
const answers = (source: NormalizeSource, table: Readonly<Record<string, CanonicalKind>>): ReadonlyMap<string, Classified> =>
  new Map(Object.entries(table).map(([value, kind]) => [value, CLASSIFIED[source][kind]]));

const BY_OPENINFERENCE_KIND = answers('openinference', OPENINFERENCE_KINDS);
const BY_LANGSMITH_KIND = answers('langsmith', LANGSMITH_KINDS);
const BY_TRACELOOP_KIND = answers('openllmetry', TRACELOOP_KINDS);
const BY_GEN_AI_OPERATION = answers('gen_ai', GEN_AI_OPERATIONS);
const BY_LLM_REQUEST_TYPE = answers('openllmetry', LLM_REQUEST_TYPES);

/**
 * Precedence, first match wins:
 * 1. `mcp.method.name` (MCP spans also carry `gen_ai.operation.name=execute_tool`; MCP says more);
 * 2. an instrumentation's own kind: `openinference.span.kind`, `langsmith.span.kind`,
 *    `traceloop.span.kind` (they know what the span is; their `gen_ai.operation.name` is derived and
 *    sometimes wrong: LangSmith writes `embeddings` on retrievers, OpenLLMetry `invoke_agent` on its
 *    root workflow);
 * 3. `gen_ai.operation.name` (well-known values only);
 * 4. OpenLLMetry `llm.request.type`;
 * 5. other `gen_ai.*` facts (legacy spans without an operation): a model means llm, a tool name tool;
 * 6. an HTTP client span.
 */
function classify(span: Span): Classified | undefined {
  if (str(S.mcpMethod) !== undefined) {
    const server = span.kind === SpanKind.SERVER || span.kind === SpanKind.CONSUMER;
    return CLASSIFIED.mcp[server ? 'mcp_server' : 'mcp_client'];
  }
  const oi = str(S.oiKind);
  if (oi !== undefined) return BY_OPENINFERENCE_KIND.get(oi.toUpperCase()) ?? CLASSIFIED.openinference.other;
  const ls = str(S.lsKind);
  if (ls !== undefined) return BY_LANGSMITH_KIND.get(ls.toLowerCase()) ?? CLASSIFIED.langsmith.other;
  const tl = str(S.tlKind);
  const byTl = tl === undefined ? undefined : BY_TRACELOOP_KIND.get(tl.toLowerCase());
  if (byTl !== undefined) return byTl;
  const op = str(S.op);
  const byOp = op === undefined ? undefined : BY_GEN_AI_OPERATION.get(op);
  if (byOp !== undefined) return byOp;
  const requestType = str(S.llmRequestType);
  const byRequestType = requestType === undefined ? undefined : BY_LLM_REQUEST_TYPE.get(requestType.toLowerCase());
  if (byRequestType !== undefined) return byRequestType;
  if (slots.has(S.gaReqModel) || slots.has(S.gaRespModel)) return CLASSIFIED.gen_ai.llm;
  if (slots.has(S.gaToolName)) return CLASSIFIED.gen_ai.tool;
  if (op !== undefined || str(S.gaSystem) !== undefined || str(S.gaProvider) !== undefined) return CLASSIFIED.gen_ai.other;
  if (slots.has(S.tlKind) || slots.has(S.llmRequestType)) return CLASSIFIED.openllmetry.other;
  if (span.kind === SpanKind.CLIENT && (slots.has(S.httpMethod) || slots.has(S.httpMethodOld))) return CLASSIFIED.http.http;
  return undefined;
}

// ---------------------------------------------------------------- fields

/** host and port of an absolute URL, without `new URL` (userinfo, IPv6 brackets, default ports). */
export function hostPort(url: string): { host?: string; port?: number } {
  const scheme = url.indexOf('://');
  if (scheme <= 0) return {};
  let start = scheme + 3;
  let end = url.length;
  for (let i = start; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) {
      end = i;
      break;
    }
  }
  const at = url.lastIndexOf('@', end);
  if (at >= start) start = at + 1;
  let host: string;
  let portText = '';
  if (url.charCodeAt(start) === 91 /* [ */) {
    const close = url.indexOf(']', start);
    if (close < 0 || close > end) return {};
    host = url.slice(start + 1, close);
    if (url.charCodeAt(close + 1) === 58 /* : */) portText = url.slice(close + 2, end);
  } else {
    const colon = url.indexOf(':', start);
    if (colon >= 0 && colon < end) {
      host = url.slice(start, colon);
      portText = url.slice(colon + 1, end);
    } else host = url.slice(start, end);
  }
  if (host === '') return {};
  let port: number | undefined = portText === '' ? undefined : Number(portText);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) port = undefined;
  if (port === undefined && portText === '') {
    const s = url.slice(0, scheme).toLowerCase();
    port = s === 'https' || s === 'wss' ? 443 : s === 'http' || s === 'ws' ? 80 : undefined;
  }
  return port === undefined ? { host } : { host, port };
}

/** `"key":"value"` out of a flat JSON string without parsing it (OpenInference `metadata`). */
function jsonStringField(json: string | undefined, field: string): string | undefined {
  if (!json) return undefined;
  const needle = `"${field}":"`;
  const at = json.indexOf(needle);
  if (at < 0) return undefined;
  const from = at + needle.length;
  const to = json.indexOf('"', from);
  return to > from ? json.slice(from, to) : undefined;
}

/** Where the instrumentation names the provider, in order (`ls_provider` in OpenInference `metadata` after them). */
const PROVIDER_SLOTS = [S.gaProvider, S.gaSystem, S.oiProvider, S.oiSystem, S.lsProvider, S.tlLsProvider];

/** The first provider the span names that is one (framework names are skipped). */
function namedProvider(metadata: string | undefined): string | undefined {
  for (let j = 0; j < PROVIDER_SLOTS.length; j++) {
    const v = str(PROVIDER_SLOTS[j]!);
    const p = v === undefined ? undefined : normalizeProvider(v);
    if (p !== undefined) return p;
  }
  const v = jsonStringField(metadata, 'ls_provider');
  return v === undefined ? undefined : normalizeProvider(v);
}

const MODEL_KINDS: ReadonlySet<CanonicalKind> = new Set(['llm', 'embedding', 'other']);

/**
 * Views of received spans still as their bytes: normalize, correlate, aibom, baseline and
 * provenance each ask for the same span's view. Such a span's name, kind and received attributes
 * cannot change without decoding it; appended attributes can, so a kept view holds while every
 * attribute appended since has a key the view does not read (normalize's own `aibom.*` ones).
 */
const VIEW_READS = new DependsOn(SLOT);

/**
 * The canonical view of one span, or undefined when no supported convention recognises it.
 * Pure: reads the span's name, kind and attributes (one pass), changes nothing. Read-only: every
 * processor reading the span shares the one view, so none may write to it (`Readonly`, and
 * view-readonly.test.ts runs the default pipeline's processors on views that record writes); it is
 * not frozen, a runtime call per span.
 */
export function canonicalView(span: Span): Readonly<CanonicalSpan> | undefined {
  const kept = keptDerived(span, VIEW_READS);
  if (kept !== NOT_KEPT) return kept as Readonly<CanonicalSpan> | undefined;
  const view = computeView(span);
  keepDerived(span, view);
  return view;
}

function computeView(span: Span): CanonicalSpan | undefined {
  slots.read(span);
  const cls = classify(span);
  if (!cls) return undefined;
  const { kind, source } = cls;

  const op = str(S.op);

  // Model: the answering model first, then what each convention calls the model.
  const requestModel = str(S.gaReqModel) ?? str(S.llmReqModel);
  let modelName =
    str(S.gaRespModel) ??
    requestModel ??
    str(S.oiModel) ??
    str(S.oiEmbeddingModel) ??
    str(S.oiRerankerModel) ??
    str(S.llmRespModel) ??
    str(S.lsModel) ??
    str(S.tlLsModel);
  const metadata = source === 'openinference' && MODEL_KINDS.has(kind) ? str(S.oiMetadata) : undefined;
  if (modelName === undefined) modelName = jsonStringField(metadata, 'ls_model_name');

  // Server address: semconv, old semconv, then the URL.
  const url = str(S.urlFull) ?? str(S.httpUrl);
  let serverAddress = str(S.serverAddress) ?? str(S.netPeerName);
  let serverPort = num(S.serverPort) ?? num(S.netPeerPort);
  if (url !== undefined && (serverAddress === undefined || serverPort === undefined)) {
    const hp = hostPort(url);
    if (serverAddress === undefined) serverAddress = hp.host;
    if (serverPort === undefined && (hp.host === serverAddress || hp.host === undefined)) serverPort = hp.port;
  }

  // Provider: what the instrumentation says, then LangChain's ls_provider, then the host, then the model name.
  let provider = namedProvider(metadata);
  if (provider === undefined && (modelName !== undefined || kind === 'llm' || kind === 'embedding')) {
    provider = providerFromServer(serverAddress, serverPort) ?? providerFromModel(modelName);
  }

  // Tool.
  let toolName = str(S.gaToolName) ?? str(S.oiToolName);
  if (toolName === undefined && kind === 'tool') {
    toolName = (source === 'openllmetry' ? str(S.tlEntity) : undefined) ?? str(S.lsName) ?? stripPrefix(span.name, 'execute_tool ');
  }
  if (toolName === undefined && source === 'mcp' && str(S.mcpMethod) === 'tools/call') toolName = stripPrefix(span.name, 'tools/call ', true);
  const toolCallId = str(S.gaToolCallId);
  const toolType = str(S.gaToolType);
  let toolArguments = str(S.gaToolArgs);
  if (toolArguments === undefined && kind === 'tool') {
    if (source === 'openinference') toolArguments = str(S.oiInput);
    else if (source === 'openllmetry') toolArguments = str(S.tlInput);
    else if (source === 'langsmith') toolArguments = str(S.gaPrompt);
  }

  // Agent.
  let agentName = str(S.gaAgentName) ?? str(S.oiAgentName);
  if (agentName === undefined && kind === 'agent') {
    agentName = (source === 'openllmetry' ? str(S.tlEntity) : undefined) ?? stripPrefix(span.name, op === 'create_agent' ? 'create_agent ' : 'invoke_agent ');
  }
  const agentId = str(S.gaAgentId);

  // MCP.
  const mcpMethod = str(S.mcpMethod);
  const mcpSessionId = str(S.mcpSession);
  const transport = str(S.transport);

  const dataSourceId = str(S.gaDataSource) ?? str(S.mcpResource);

  // Usage.
  const inputTokens = num(S.gaIn) ?? num(S.gaPromptTok) ?? num(S.oiIn) ?? num(S.llmUsageIn);
  const outputTokens = num(S.gaOut) ?? num(S.gaComplTok) ?? num(S.oiOut) ?? num(S.llmUsageOut);

  const conversationId = str(S.gaConversation) ?? str(S.oiSession);
  // One literal with every field (absent ones undefined): one shape for every view, made in one allocation.
  return {
    kind,
    source,
    operation: op,
    modelName,
    requestModel,
    provider,
    toolName,
    toolCallId,
    toolType,
    toolArguments,
    agentName,
    agentId,
    mcpMethod,
    mcpSessionId,
    networkTransport: transport,
    dataSourceId,
    serverAddress,
    serverPort,
    url,
    inputTokens,
    outputTokens,
    conversationId,
  };
}

/** `name` without `prefix`; the whole name when it lacks the prefix, unless `required`. */
function stripPrefix(name: string, prefix: string, required = false): string | undefined {
  if (name.startsWith(prefix) && name.length > prefix.length) return name.slice(prefix.length);
  if (required || name === '') return undefined;
  return name;
}
