import { AttributeSlots } from '../../pipeline/otlp/attribute-slots.js';
import { eachAttribute, KeyTest } from '../../pipeline/otlp/span-view.js';
import type { AnyValue, Span } from '../../pipeline/otlp/types.js';
import type { CanonicalSpan } from './canonical.js';

/**
 * What an agent span says it read and wrote, when the instrumentation captured content: role-tagged
 * messages, a tool call's arguments and result, retrieved documents. Separate from `canonicalView`
 * (which stays cheap, no JSON parsing) because only a content reader (provenance) needs it, and it
 * costs a JSON parse of messages. Every convention in one place: OpenInference `llm.input_messages.*` /
 * `llm.output_messages.*` / `input.value` / `output.value` / `retrieval.documents.*`; GenAI
 * `gen_ai.system_instructions` / `gen_ai.input.messages` / `gen_ai.output.messages` /
 * `gen_ai.tool.call.arguments` / `gen_ai.tool.call.result`; OpenLLMetry `traceloop.entity.input/output`
 * and legacy `gen_ai.prompt.N.*` / `gen_ai.completion.N.*`; LangSmith `gen_ai.prompt` / `gen_ai.completion`.
 */

/** Who said it: `user` and `system` are the principal's words; `tool` is what a tool returned. */
export type MessageRole = 'system' | 'user' | 'assistant' | 'tool';

export interface CanonicalMessage {
  role: MessageRole;
  content: string;
}

export interface CanonicalContent {
  /** What the span sent to the model or received as its input (LLM, agent spans), role-tagged. */
  inputMessages: CanonicalMessage[];
  /** What the model answered (LLM spans). */
  outputMessages: CanonicalMessage[];
  /** Tool spans: the arguments as recorded (shape differs by source, see README). */
  toolArguments?: string;
  /** Tool spans: the result as recorded. */
  toolResult?: string;
  /** Retriever spans: the documents' contents (or the whole output when not split). */
  documents: string[];
  /** The tools offered to the model, as the application defined them (LLM spans): the developer's words. */
  toolDefinitions: string[];
}

/** Messages JSON bigger than this is not parsed (a bounded cost per span); the indexed attributes still are. */
export const MAX_PARSE_CHARS = 4 * 1024 * 1024;

const ROLES: Readonly<Record<string, MessageRole>> = {
  user: 'user',
  human: 'user',
  system: 'system',
  developer: 'system',
  assistant: 'assistant',
  ai: 'assistant',
  model: 'assistant',
  tool: 'tool',
  function: 'tool',
  ipython: 'tool',
  HumanMessage: 'user',
  HumanMessageChunk: 'user',
  SystemMessage: 'system',
  AIMessage: 'assistant',
  AIMessageChunk: 'assistant',
  ToolMessage: 'tool',
  FunctionMessage: 'tool',
};

function roleOf(v: unknown): MessageRole | undefined {
  return typeof v === 'string' && Object.hasOwn(ROLES, v) ? ROLES[v] : undefined;
}

function str(v: AnyValue | null | undefined): string | undefined {
  return v?.stringValue != null && v.stringValue !== '' ? v.stringValue : undefined;
}

function parse(s: string | undefined): unknown {
  if (s === undefined || s.length > MAX_PARSE_CHARS) return undefined;
  const c = s.charCodeAt(0);
  if (c !== 123 /* { */ && c !== 91 /* [ */) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** Text of a message's content: a string, or parts (`{type:'text', text|content}`, tool responses). */
function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(textOf).filter((s) => s !== '').join('\n');
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (o.type === 'tool_call') return '';
    for (const k of ['text', 'content', 'response', 'result']) if (o[k] !== undefined) return typeof o[k] === 'string' ? o[k] : textOf(o[k]) || JSON.stringify(o[k]);
  }
  return '';
}

/**
 * Role-tagged messages anywhere in a parsed value: OpenAI/GenAI `{role, content|parts}`, LangChain
 * dicts `{type: 'human', content}`, LangChain serialised `{lc, id: [..., 'HumanMessage'], kwargs}`.
 * Depth-bounded; an object that is a message is not searched further.
 */
export function messagesIn(v: unknown, out: CanonicalMessage[] = [], depth = 0): CanonicalMessage[] {
  if (depth > 12 || v === null || typeof v !== 'object') return out;
  if (Array.isArray(v)) {
    for (const x of v) messagesIn(x, out, depth + 1);
    return out;
  }
  const o = v as Record<string, unknown>;
  const lcId = Array.isArray(o.id) && o.lc !== undefined ? o.id[o.id.length - 1] : undefined;
  const role = roleOf(o.role) ?? roleOf(lcId) ?? (typeof o.type === 'string' && ('content' in o || 'parts' in o) ? roleOf(o.type) : undefined);
  if (role) {
    const kwargs = (o.kwargs && typeof o.kwargs === 'object' ? o.kwargs : o) as Record<string, unknown>;
    const content = textOf(kwargs.parts ?? kwargs.content);
    if (content !== '') out.push({ role, content });
    return out;
  }
  for (const k in o) messagesIn(o[k], out, depth + 1);
  return out;
}

const INDEXED = /^(llm\.input_messages|llm\.output_messages|gen_ai\.prompt|gen_ai\.completion|retrieval\.documents)\.(\d+)\.(.+)$/;
const TOOL_SCHEMA = /^llm\.tools\.\d+\.tool\.json_schema$/;

/** The keys read whole (the first occurrence of each). */
const SINGLE_KEYS: ReadonlySet<string> = new Set([
  'gen_ai.system_instructions',
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.tool.call.result',
  'gen_ai.prompt',
  'gen_ai.completion',
  'input.value',
  'output.value',
  'traceloop.entity.input',
  'traceloop.entity.output',
]);

/** A key `canonicalContent` reads; by its first letter first, as most keys of a span are none (it runs on every key of every agent span). */
function isContentKey(k: string): boolean {
  switch (k.charCodeAt(0)) {
    case 103 /* g */:
      return SINGLE_KEYS.has(k) || k === 'gen_ai.tool.definitions' || INDEXED.test(k);
    case 108 /* l */:
      return INDEXED.test(k) || TOOL_SCHEMA.test(k);
    case 114 /* r */:
      return INDEXED.test(k);
    case 105 /* i */:
    case 111 /* o */:
    case 116 /* t */:
      return SINGLE_KEYS.has(k);
    default:
      return false;
  }
}

/** Whether a span has a key `canonicalContent` reads: answered once per key list received spans share (span-view.ts `KeyTest`). */
const CONTENT_KEY = new KeyTest(isContentKey);

/**
 * Whether `canonicalContent` would find anything: the view's tool arguments, or an attribute key it
 * reads. Reads keys only, and for a received span whose key list was seen before only its appended
 * keys, so a reader skips spans without content capture for next to nothing.
 */
export function hasContent(span: Span, view: Pick<CanonicalSpan, 'toolArguments'>): boolean {
  return view.toolArguments !== undefined || CONTENT_KEY.any(span);
}

const DEFINITIONS = 'gen_ai.tool.definitions';

/**
 * Whether a received key list needs the visit of every attribute: a content key read by its pattern
 * (indexed messages and documents, tool schemas), or a content key twice (which occurrence counts
 * depends on the values). Other lists name each content key once, and `NAMED` reads them.
 */
function needsVisit(keys: readonly string[]): boolean {
  let seen: Set<string> | undefined;
  for (const k of keys) {
    if (!isContentKey(k)) continue;
    if (!SINGLE_KEYS.has(k) && k !== DEFINITIONS) return true;
    if ((seen ??= new Set()).has(k)) return true;
    seen.add(k);
  }
  return false;
}

/**
 * Spans read by visiting every attribute: a received list `needsVisit` says so of (answered once per
 * shared list), content keys appended, or a decoded span with content keys.
 */
const VISIT = new KeyTest(isContentKey, needsVisit);

/**
 * The content keys read by name, for the other spans: one slot each, their strings read straight
 * from the request bytes (no AnyValue per attribute) and only those the span's kind reads (a tool
 * span's `input.value` is not). Not re-entrant, as `canonicalContent` is synchronous.
 */
const NAMED = new AttributeSlots([...SINGLE_KEYS, DEFINITIONS]);

/** A named key's string as `str` gives it from the decoded value: non-empty, else undefined. */
function namedString(key: string): string | undefined {
  const i = NAMED.slotOf.get(key)!;
  if (!NAMED.has(i)) return undefined;
  const s = NAMED.string(i);
  return s === '' ? undefined : s;
}

interface Indexed {
  role?: string;
  content: string[];
}

function put(map: Map<number, Indexed>, i: number): Indexed {
  let m = map.get(i);
  if (!m) map.set(i, (m = { content: [] }));
  return m;
}

function ordered(map: Map<number, Indexed>, defaultRole?: MessageRole): CanonicalMessage[] {
  const out: CanonicalMessage[] = [];
  for (const i of [...map.keys()].sort((a, b) => a - b)) {
    const m = map.get(i)!;
    const role = roleOf(m.role) ?? defaultRole;
    const content = m.content.join('\n');
    if (role && content !== '') out.push({ role, content });
  }
  return out;
}

/**
 * The content of one span, read with its canonical view. Pure; reads attributes only. Spans without
 * content capture give empty lists and no arguments/result.
 */
export function canonicalContent(span: Span, view: CanonicalSpan): CanonicalContent {
  if (!VISIT.any(span)) {
    NAMED.read(span);
    const definition = namedString(DEFINITIONS);
    return assemble(view, namedString, definition === undefined ? [] : [definition]);
  }
  const oiIn = new Map<number, Indexed>();
  const oiOut = new Map<number, Indexed>();
  const docs = new Map<number, Indexed>();
  const definitions: string[] = [];
  // The keys read whole are only noted here (a bit per NAMED slot), their values read when `assemble` asks:
  // an LLM span's `input.value` / `output.value` repeat its indexed messages as one JSON string (the whole
  // conversation, often past V8's 128 KiB large-object size) and are asked for only when those are missing.
  let seen = 0;
  // Through the span view: a received span is not decoded, only the values of the keys below are.
  eachAttribute(span, (k, value) => {
    const m = INDEXED.exec(k);
    if (m) {
      const s = str(value());
      if (s === undefined) return;
      const [, family, index, rest] = m;
      const map = family === 'llm.input_messages' || family === 'gen_ai.prompt' ? oiIn : family === 'retrieval.documents' ? docs : oiOut;
      const entry = put(map, Number(index));
      if (rest === 'message.role' || rest === 'role') entry.role = s;
      else if (rest === 'message.content' || rest === 'content' || rest === 'document.content' || /^message\.contents\.\d+\.message_content\.text$/.test(rest!)) entry.content.push(s);
      return;
    }
    if (TOOL_SCHEMA.test(k) || k === DEFINITIONS) {
      const s = str(value());
      if (s !== undefined) definitions.push(s);
      return;
    }
    if (SINGLE_KEYS.has(k)) seen |= 1 << NAMED.slotOf.get(k)!;
  });
  const one = new Map<string, string | undefined>();
  const named = (k: string): string | undefined => {
    if (!(seen & (1 << NAMED.slotOf.get(k)!))) return undefined;
    if (!one.has(k)) one.set(k, firstString(span, k));
    return one.get(k);
  };
  return assemble(view, named, definitions, oiIn, oiOut, docs);
}

/** The first non-empty string value of `key` (as `str` gives it): one more walk of the keys, decoding only that key's values. */
function firstString(span: Span, key: string): string | undefined {
  let s: string | undefined;
  eachAttribute(span, (k, value) => k === key && (s = str(value())) !== undefined);
  return s;
}

/**
 * The content from what the span's attributes gave: `named(key)` the first non-empty string of a
 * key read whole (asked only for the keys the span's kind reads), the indexed messages and documents
 * (none when the span has no such keys), the tool definitions in attribute order.
 */
function assemble(
  view: CanonicalSpan,
  named: (key: string) => string | undefined,
  definitions: string[],
  oiIn?: Map<number, Indexed>,
  oiOut?: Map<number, Indexed>,
  docs?: Map<number, Indexed>,
): CanonicalContent {
  const content: CanonicalContent = { inputMessages: [], outputMessages: [], documents: [], toolDefinitions: definitions };
  const tool = view.kind === 'tool' || view.kind === 'mcp_client' || view.kind === 'mcp_server';
  if (tool) {
    if (view.toolArguments !== undefined) content.toolArguments = view.toolArguments;
    const result = named('gen_ai.tool.call.result') ?? (view.source === 'openinference' ? named('output.value') : view.source === 'openllmetry' ? named('traceloop.entity.output') : view.source === 'langsmith' ? named('gen_ai.completion') : undefined);
    if (result !== undefined) content.toolResult = result;
    return content;
  }

  const system = named('gen_ai.system_instructions');
  if (system !== undefined) {
    const parsed = parse(system);
    const text = parsed === undefined ? system : textOf(parsed);
    if (text !== '') content.inputMessages.push({ role: 'system', content: text });
  }
  if (oiIn) {
    content.inputMessages.push(...ordered(oiIn));
    // OpenInference flattens only string contents: a message whose content is a list of parts (LangChain.js
    // system prompts) has its role indexed and its text only in `input.value`.
    const missing = new Set([...oiIn.values()].filter((m) => m.content.length === 0).map((m) => roleOf(m.role)));
    if (missing.size > 0) for (const m of messagesIn(parse(named('input.value')))) if (missing.has(m.role)) content.inputMessages.push(m);
  }
  if (oiOut) content.outputMessages.push(...ordered(oiOut, 'assistant'));
  if (content.inputMessages.length <= (system !== undefined ? 1 : 0)) {
    // No indexed messages: the JSON forms, GenAI first, then each instrumentation's input/output.
    const input = named('gen_ai.input.messages') ?? named('input.value') ?? named('traceloop.entity.input') ?? named('gen_ai.prompt');
    messagesIn(parse(input), content.inputMessages);
  }
  if (content.outputMessages.length === 0) {
    const output = named('gen_ai.output.messages') ?? (view.kind === 'retriever' ? undefined : (named('output.value') ?? named('traceloop.entity.output') ?? named('gen_ai.completion')));
    messagesIn(parse(output), content.outputMessages);
  }
  if (view.kind === 'retriever') {
    if (docs) for (const d of ordered(docs, 'tool')) content.documents.push(d.content);
    if (content.documents.length === 0) {
      const out = named('output.value') ?? named('traceloop.entity.output') ?? named('gen_ai.completion') ?? named('gen_ai.output.messages');
      if (out !== undefined) content.documents.push(out);
    }
  }
  return content;
}
