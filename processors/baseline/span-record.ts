import { findAttr, fromAnyValue } from '../../pipeline/otlp/attributes.js';
import { eachAttribute, endMicros, locateId, spanIds, startMicros, type IdLocation } from '../../pipeline/otlp/span-view.js';
import type { AnyValue, KeyValue, Span, SpanIds } from '../../pipeline/otlp/types.js';
import { ATTR } from '../../pipeline/semconv.js';
import { readKernelSpan, type KernelSpanFacts } from '../aibom/kernel-span.js';
import { canonicalView, hasContent, type CanonicalSpan } from '../normalize/index.js';
import type { ComponentOf, Observation } from './facts.js';
import type { Check } from './rules/index.js';

/**
 * What the baseline keeps of one span while its trace is open: ids, times and the facts it reads.
 * Little is made per span that the span does not already hold: the ids are the hex strings
 * `spanIds` keeps on the span for the pipeline, the times two numbers in microseconds read from the
 * bytes (a BigInt each, then a Long each, was most of a record's cost; held while the trace is open
 * they are promoted out of the young generation), the resource's facts one object shared by its
 * spans, the agent span's facts its canonical view.
 */
export interface SpanRecord {
  /**
   * The span id and parent span id: an 8-byte id as two 32-bit words (big-endian; `spanIdOf` and
   * `parentIdOf` give the hex, `isParentOf` compares), not its hex string. The hex strings are made
   * young per span for the pipeline (`spanIds`), and a record held one past the young generation's
   * life, so it was promoted because of the record. `idForms` says which form each id has
   * (`ID_EMPTY`, `ID_WORDS`, `ID_OTHER`; the span id's in bits 0-1, the parent's in bits 2-3); an id
   * of another length (invalid in OTLP) keeps its hex in `rare.otherIds`.
   */
  spanW0: number;
  spanW1: number;
  parentW0: number;
  parentW1: number;
  idForms: number;
  /**
   * Start and end in microseconds (`int64ToMicros`; read them with `startUs` and `endUs`): what the
   * trace is ordered by, as provenance orders it. Each is two small integers (`hi` * 2^30 + `lo`,
   * `split`), which V8 holds in the record itself: a number held as itself is a heap number of its
   * own, made young per record and promoted with it.
   */
  startHi: number;
  startLo: number;
  endHi: number;
  endLo: number;
  resource: ResourceFacts;
  /** An agent span's facts the baseline reads (`recordView`); undefined for kernel spans. */
  view: RecordView | undefined;
  kernel: KernelSpanFacts | undefined;
  /** What few records have, in one object made for the first of them (`rareOf`); undefined: none of it. */
  rare: RareFacts | undefined;
}

/** What a record holds only for some spans: five fields in every record were 40 of its bytes. */
export interface RareFacts {
  /** The hex of the span and parent ids when one is of a length OTLP does not allow (`ID_OTHER`). */
  otherIds: { spanId: string; parentId: string } | undefined;
  /** The kernel did not watch the process from its start (coverage facts on the kernel span's resource). */
  partialReason: string | undefined;
  /** The first user message of an LLM span, when the agent's spans carry content. */
  prompt: string | undefined;
  /** The MCP server a kernel process span stands for (null: none), worked out once: every span under it asks. */
  mcp: { id: string; kind: 'mcp_server'; name: string } | null | undefined;
  /**
   * What an agent span's observations deviated in, judged as the span arrived (its deviations go out
   * with the trace's evaluation, when the chain holds what the trace brought); undefined: nothing.
   */
  found: Finding[] | undefined;
}

/** The record's rare facts, made at the first write. */
export function rareOf(r: SpanRecord): RareFacts {
  return (r.rare ??= { otherIds: undefined, partialReason: undefined, prompt: undefined, mcp: undefined, found: undefined });
}

/** An id's form in `idForms`: none (hex ''), 8 bytes in two words, any other length (hex in `rare.otherIds`). */
const ID_EMPTY = 0;
const ID_WORDS = 1;
const ID_OTHER = 2;

/** The id's form, from its length. */
const idForm = (id: Readonly<IdLocation>): number => (id.length === 0 ? ID_EMPTY : id.length === 8 ? ID_WORDS : ID_OTHER);
/** The big-endian 32-bit word at `at`. */
const word = (b: Uint8Array, at: number): number => (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
const wordHex = (w: number): string => (w >>> 0).toString(16).padStart(8, '0');

/** The record's span id as lower-case hex (what `spanIds` gives), made anew. */
export function spanIdOf(r: SpanRecord): string {
  const form = r.idForms & 3;
  return form === ID_WORDS ? wordHex(r.spanW0) + wordHex(r.spanW1) : form === ID_EMPTY ? '' : r.rare!.otherIds!.spanId;
}

/** The record's parent span id as lower-case hex ('' for a root), made anew. */
export function parentIdOf(r: SpanRecord): string {
  const form = r.idForms >> 2;
  return form === ID_WORDS ? wordHex(r.parentW0) + wordHex(r.parentW1) : form === ID_EMPTY ? '' : r.rare!.otherIds!.parentId;
}

/** Whether `a`'s span id is `r`'s parent span id (as their hex strings would compare). */
export function isParentOf(a: SpanRecord, r: SpanRecord): boolean {
  const form = a.idForms & 3;
  if (form !== r.idForms >> 2) return false;
  if (form === ID_WORDS) return a.spanW0 === r.parentW0 && a.spanW1 === r.parentW1;
  return form === ID_EMPTY || a.rare!.otherIds!.spanId === r.rare!.otherIds!.parentId;
}

const otherIds = (ids: SpanIds): { spanId: string; parentId: string } => ({ spanId: ids.spanId, parentId: ids.parentSpanId });

/** 2^30: a time split at it is two integers V8 holds as small integers (31 bits) for any time below 2^60. */
const SPLIT = 0x40000000;

/**
 * `n` as a 32-bit integer when it is one, else itself: a number computed in floating point is a heap
 * number even when integral, and a field once given one keeps every value in a heap number.
 */
const small = (n: number): number => ((n | 0) === n ? n | 0 : n);

/** The high part of a time, `floor(us / 2^30)`; `loOf` the rest. Exact for every number: `hi` * 2^30 + `lo` is `us`. */
const hiOf = (us: number): number => small(Math.floor(us / SPLIT));
const loOf = (us: number, hi: number): number => small(us - hi * SPLIT);

/** A record's start in microseconds. */
export const startUs = (r: SpanRecord): number => r.startHi * SPLIT + r.startLo;
/** A record's end in microseconds. */
export const endUs = (r: SpanRecord): number => r.endHi * SPLIT + r.endLo;

/**
 * What a record keeps of an agent span's canonical view: the fields judging it and building a
 * deviation's chain read. Not the view itself: a record lives while its trace is open (seconds, or
 * until the bound pushes the trace out), and the whole view (22 fields and the strings only other
 * readers want) held that long was most of what the default pipeline promoted out of the young
 * generation per span (see bench/README.md, branch i-pipe).
 */
export type RecordView = Readonly<Pick<CanonicalSpan, 'kind' | 'modelName' | 'requestModel' | 'provider' | 'toolName' | 'toolArguments' | 'dataSourceId'>>;

/** Record views made last per kind, newest first: an agent's spans name a few models and tools, so most spans share one. */
const RECENT = 8;
const recentViews = new Map<CanonicalSpan['kind'], RecordView[]>();

const sameRecordView = (a: RecordView, v: CanonicalSpan): boolean =>
  a.modelName === v.modelName && a.requestModel === v.requestModel && a.provider === v.provider && a.toolName === v.toolName && a.dataSourceId === v.dataSourceId;

/**
 * The record view of `v`: one of the last RECENT made for its kind with the same values (frozen,
 * shared), else a new one. A span with tool arguments (content capture on) gets its own: arguments
 * are the call's own.
 */
export function recordView(v: CanonicalSpan): RecordView {
  const fields = (): RecordView => ({ kind: v.kind, modelName: v.modelName, requestModel: v.requestModel, provider: v.provider, toolName: v.toolName, toolArguments: v.toolArguments, dataSourceId: v.dataSourceId });
  if (v.toolArguments !== undefined) return fields();
  let recent = recentViews.get(v.kind);
  if (!recent) recentViews.set(v.kind, (recent = []));
  for (let i = 0; i < recent.length; i++) if (sameRecordView(recent[i]!, v)) return recent[i]!;
  const made = Object.freeze(fields());
  if (recent.length === RECENT) recent.pop();
  recent.unshift(made);
  return made;
}

/** A check that found something, and the component it is about. */
export interface Finding {
  component: ComponentOf;
  check: Check;
}

/**
 * What a span record takes from its resource: read once per resource, not per span, and shared by its
 * records, and by the resources with the same facts after it (`resourceFacts`).
 */
export interface ResourceFacts {
  /** `service.name` and `host.name` (the agent, for agent spans). */
  readonly serviceName: string;
  readonly hostName: string | undefined;
  /** Coverage facts of the kernel records' resource (receiver/ebpf). */
  readonly coverage: unknown;
  readonly partialReason: unknown;
  /** The agent these names make (observe.ts `agentOf`), once asked. */
  agent: ComponentOf | undefined;
  /** The model component last asked for by a span of this resource (observe.ts `modelOf`): agents call one or two. */
  model: { provider: string; component: ComponentOf } | undefined;
  /** The observations of this resource's last LLM span (observe.ts `agentObservations`), for the next one of the same model and version. */
  llm: { model: ComponentOf; version: string | undefined; observations: readonly Observation[] } | undefined;
}

/** Resource facts made last, newest first (module state, as `recentViews`). */
const RECENT_RESOURCES = 8;
const recentResources: ResourceFacts[] = [];

const sharable = (v: unknown): boolean => v === undefined || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/**
 * The facts of a resource: one of the last RECENT_RESOURCES made with the same four values, else a new
 * one. An agent sends every request with the same resource: its requests share one object, made
 * once, so what it caches (the agent's entity id, a hash; its model; its last LLM span's
 * observations) is worked out once per agent, not once per request, and records point to an object
 * that has left the young generation. The caches are worked out from the four values alone (and,
 * for `model` and `llm`, checked against the span asking), so sharing them changes no answer.
 * Values that are not primitives (an array or map as coverage) are compared by identity: never shared.
 */
export function resourceFacts(resource: readonly KeyValue[] | undefined): ResourceFacts {
  const serviceName = String(findAttr(resource, ATTR.serviceName) ?? 'unknown_service');
  const host = findAttr(resource, ATTR.hostName);
  const hostName = typeof host === 'string' ? host : undefined;
  const coverage = findAttr(resource, ATTR.monitorCoverage);
  const partialReason = findAttr(resource, ATTR.monitorPartialReason);
  for (let i = 0; i < recentResources.length; i++) {
    const f = recentResources[i]!;
    if (f.serviceName === serviceName && f.hostName === hostName && f.coverage === coverage && f.partialReason === partialReason) return f;
  }
  const made: ResourceFacts = { serviceName, hostName, coverage, partialReason, agent: undefined, model: undefined, llm: undefined };
  if (sharable(coverage) && sharable(partialReason)) {
    if (recentResources.length === RECENT_RESOURCES) recentResources.pop();
    recentResources.unshift(made);
  }
  return made;
}

/**
 * Undefined for spans that say nothing a profile keeps (chains, HTTP client spans, ...). An LLM span's
 * first user message is left to `readPrompt`, which needs the open trace. The ids are read as bytes
 * (`locateId`): their hex (`spanIds`) only for an id of a length OTLP does not allow.
 */
export function spanRecord(span: Span, scopeName: string | undefined, resource: ResourceFacts): SpanRecord | undefined {
  const kernel = readKernelSpan(span, scopeName);
  const view = kernel ? undefined : canonicalView(span);
  if (!kernel && (!view || (view.kind !== 'llm' && view.kind !== 'tool' && view.kind !== 'agent' && view.kind !== 'retriever'))) return undefined;
  let partialReason: string | undefined;
  if (kernel) {
    // Coverage facts: on the kernel records' resource (receiver/ebpf), and on correlate's process spans.
    const on = kernel.coverage ?? resource;
    if (on.coverage === 'partial') partialReason = String(on.partialReason ?? 'partial');
  }
  const start = startMicros(span);
  const end = endMicros(span);
  const startHi = hiOf(start);
  const endHi = hiOf(end);
  // An object literal, not a class: V8 tracks where literals are made and, when most made at a site
  // outlive the young generation (records live while their trace is open), allocates them in the old
  // generation at once, so they are never copied by a scavenge; `new` objects are not.
  // `locateId`'s answer is shared: each id is read before the next call.
  let id = locateId(span, 'spanId');
  const spanForm = idForm(id);
  const spanW0 = spanForm === ID_WORDS ? word(id.buf, id.at) : 0;
  const spanW1 = spanForm === ID_WORDS ? word(id.buf, id.at + 4) : 0;
  id = locateId(span, 'parentSpanId');
  const parentForm = idForm(id);
  const parentW0 = parentForm === ID_WORDS ? word(id.buf, id.at) : 0;
  const parentW1 = parentForm === ID_WORDS ? word(id.buf, id.at + 4) : 0;
  const r: SpanRecord = {
    spanW0,
    spanW1,
    parentW0,
    parentW1,
    idForms: spanForm | (parentForm << 2),
    startHi,
    startLo: loOf(start, startHi),
    endHi,
    endLo: loOf(end, endHi),
    resource,
    view: view ? recordView(view) : undefined,
    kernel: kernel ?? undefined,
    rare: undefined,
  };
  if (spanForm === ID_OTHER || parentForm === ID_OTHER) rareOf(r).otherIds = otherIds(spanIds(span));
  if (partialReason !== undefined) rareOf(r).partialReason = partialReason;
  return r;
}

/**
 * Reads an LLM span's first user message into its record, unless `promptFrom` (the open trace's
 * earliest LLM span with one, if any) started no later: this one's would never be the trace's, so it
 * is not read (an agent's LLM spans each carry the conversation so far, as JSON to parse or as
 * numbered attributes). A span without content capture (`hasContent`: its keys alone, answered once
 * per key list received spans share, and shared with provenance) is not walked.
 */
export function readPrompt(r: SpanRecord, span: Span, promptFrom: SpanRecord | undefined): void {
  const view = r.view;
  if (view?.kind === 'llm' && !(promptFrom && startUs(promptFrom) <= startUs(r)) && hasContent(span, view)) {
    const prompt = userMessage(span);
    if (prompt !== undefined) rareOf(r).prompt = prompt;
  }
}

const OI_MESSAGE = /^llm\.input_messages\.(\d+)\.message\.role$/;
const GENAI_PROMPT = /^gen_ai\.prompt\.(\d+)\.role$/;

const OI_PREFIX = 'llm.input_messages.';
const GENAI_PREFIX = 'gen_ai.prompt.';

/**
 * What `userMessage`'s visitors collect: module state, so no closure or Map per span; reset per call (the walks are
 * synchronous). `content` is the first value of the key `best` names, read by a second walk.
 */
const found: { messages: unknown; best: { n: number; key: string } | undefined; content: unknown } = { messages: undefined, best: undefined, content: undefined };
const forget = (): void => {
  found.messages = found.best = found.content = undefined;
};

/**
 * One attribute for `userMessage`. Most keys an LLM span carries are none of these: the first
 * character (and `gen_ai.`'s eighth: `i`nput, `p`rompt) turns them away before any string compare.
 */
function visitMessage(key: string, value: () => AnyValue | null | undefined): void {
  const c0 = key.charCodeAt(0);
  if (c0 === 103 /* g */) {
    const c7 = key.charCodeAt(7);
    if (c7 === 105 /* i */ && key === 'gen_ai.input.messages') {
      if (found.messages === undefined) found.messages = fromAnyValue(value());
      return;
    }
    if (c7 !== 112 /* p */ || !key.startsWith(GENAI_PREFIX)) return;
  } else if (c0 !== 108 /* l */ || !key.startsWith(OI_PREFIX)) return;
  const oi = OI_MESSAGE.exec(key);
  const m = oi ?? GENAI_PROMPT.exec(key);
  if (!m || value()?.stringValue !== 'user') return;
  const n = Number(m[1]);
  if (!found.best || n < found.best.n) found.best = { n, key: oi ? `${OI_PREFIX}${n}.message.content` : `${GENAI_PREFIX}${n}.content` };
}

/** The second walk's visitor: the first value of the best user message's content key, then stop. */
function visitContent(key: string, value: () => AnyValue | null | undefined): boolean {
  if (key !== found.best!.key) return false;
  found.content = fromAnyValue(value());
  return true;
}

/**
 * The first user message: GenAI `gen_ai.input.messages` (JSON, `parts` of type text; OpenLLMetry 0.62
 * writes it), OpenInference `llm.input_messages.N.message.*`, older OpenLLMetry `gen_ai.prompt.N.*`.
 * Through the span view: one pass for the roles, then, for indexed messages, one to the chosen
 * message's content. Only those values are decoded: an agent's LLM span carries the whole
 * conversation so far, its messages each a string that may pass V8's large-object size.
 */
function userMessage(span: Span): string | undefined {
  forget();
  eachAttribute(span, visitMessage);
  if (typeof found.messages !== 'string' && found.best) eachAttribute(span, visitContent);
  const { messages, content } = found;
  forget();
  if (typeof messages === 'string') return genAiUserMessage(messages);
  return typeof content === 'string' ? content : undefined;
}

function genAiUserMessage(json: string): string | undefined {
  let list: unknown;
  try {
    list = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (!Array.isArray(list)) return undefined;
  const user = list.find((m): m is { parts?: unknown } => typeof m === 'object' && m !== null && (m as { role?: unknown }).role === 'user');
  if (!user || !Array.isArray(user.parts)) return undefined;
  const text = user.parts.filter((p): p is { content: string } => typeof p?.content === 'string' && (p.type === undefined || p.type === 'text')).map((p) => p.content);
  return text.length > 0 ? text.join('\n') : undefined;
}
