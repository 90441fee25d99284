import { IdTable } from '../../pipeline/id-table.js';
import type { IdLocation } from '../../pipeline/otlp/span-view.js';
import type { ComponentOf } from './facts.js';
import { isParentOf, parentIdOf, spanIdOf, startUs, type SpanRecord } from './span-record.js';

/** Below this many spans a trace finds a span by id by scanning its records: cheaper than a Map per trace. */
const SCAN_MAX = 16;

/**
 * One trace while its spans arrive: the agent's spans first, correlate's kernel spans 1-2 s later.
 * Its records in arrival order in one array (most traces the load sees have one span or a few); those
 * from `evaluated` on are still to be evaluated. A span id sent twice in a trace is kept twice (each
 * is evaluated, as before); `parentOf` finds the later one. An object literal (`openTrace`), not a
 * class: V8 allocates a literal whose objects outlive the young generation (an open trace does,
 * under load) in the old generation at once, where a class's would be copied and promoted.
 */
export interface OpenTrace {
  readonly traceId: string;
  /**
   * Its records, `size` of them from index 0 (slots past them undefined): an array literal of one
   * (most traces under load are one LLM span), replaced at the second record by one of 8 (an
   * agent-run trace of the throughput bench has 8 records). Literals are allocated with the trace in
   * the old generation under load; `push` grew the literal of one to 17 slots in the young
   * generation, promoted with the trace.
   */
  records: (SpanRecord | undefined)[];
  /** Records before this index have been evaluated. */
  evaluated: number;
  /**
   * How many records it has, kept beside `evaluated`: a trace pushed out by the bound (every new
   * trace under load) is counted and evaluated from these fields, its records array (one more cold
   * line) not read unless evaluation has work.
   */
  size: number;
  /**
   * Records from `evaluated` on that evaluation has to look at: kernel spans (judged then) and agent
   * spans whose arrival found a deviation. None: evaluating touches no record (a trace of LLM spans
   * pushed out by the bound, the common case under load).
   */
  work: number;
  /** The agent of the trace's agent spans, once known. */
  agent: ComponentOf | undefined;
  /** The earliest LLM span with a first user message. */
  prompt: SpanRecord | undefined;
  /** Records by span id (hex), made when the trace grows past `SCAN_MAX`. */
  byId: Map<string, SpanRecord> | undefined;
  /** Its entry in the buffer's table. */
  entry: number;
  lastArrivalMs: number;
}

function openTrace(traceId: string, first: SpanRecord, lastArrivalMs: number): OpenTrace {
  return {
    traceId,
    records: [first],
    evaluated: 0,
    size: 1,
    work: first.kernel || first.rare?.found ? 1 : 0,
    agent: undefined,
    prompt: first.rare?.prompt ? first : undefined,
    byId: undefined,
    entry: -1,
    lastArrivalMs,
  };
}

/** Records of `t` still to be evaluated. */
export const pending = (t: OpenTrace): number => t.size - t.evaluated;

/** The record of `r`'s parent span, if `t` has it (the later one of an id sent twice). */
export function parentOf(t: OpenTrace, r: SpanRecord): SpanRecord | undefined {
  if (t.byId) return t.byId.get(parentIdOf(r));
  const records = t.records;
  for (let i = t.size - 1; i >= 0; i--) if (isParentOf(records[i]!, r)) return records[i];
  return undefined;
}

/** Adds a record after the first. */
function addRecord(t: OpenTrace, r: SpanRecord): void {
  let records = t.records;
  if (t.size === 1) records = t.records = [records[0], r, undefined, undefined, undefined, undefined, undefined, undefined];
  else if (t.size < records.length) records[t.size] = r;
  else records.push(r);
  t.size++;
  if (r.kernel || r.rare?.found) t.work++;
  if (t.byId) t.byId.set(spanIdOf(r), r);
  else if (t.size > SCAN_MAX) {
    t.byId = new Map();
    for (let i = 0; i < t.size; i++) t.byId.set(spanIdOf(records[i]!), records[i]!);
  }
  if (r.rare?.prompt && (!t.prompt || startUs(r) < startUs(t.prompt))) t.prompt = r;
}

export interface TraceBufferLimits {
  settleMs: number;
  ttlMs: number;
  maxTraces: number;
  maxSpansPerTrace: number;
}

/**
 * Open traces, oldest arrival first (a trace moves to the end when a span of it arrives), so the
 * settled and expired ones are found from the front without scanning the rest. A trace is evaluated
 * when it has been quiet for `settleMs`; it stays `ttlMs` for kernel spans arriving later (they still
 * find their parents and the chain). Bounded: `maxTraces` (the oldest is evaluated early and
 * forgotten) and `maxSpansPerTrace` (more are refused and counted by the caller).
 */
export class TraceBuffer {
  /**
   * By the trace id's 16 bytes, the oldest arrival first: traces are added, and moved on arrival, at
   * the end. Not a Map of hex ids: with a new trace on every LLM span under load, hashing a new
   * string, setting it and pushing the oldest out were half of this processor's per-span cost.
   */
  private readonly traces: IdTable<OpenTrace>;

  constructor(private readonly limits: TraceBufferLimits) {
    this.traces = new IdTable(limits.maxTraces, 16);
  }

  get size(): number {
    return this.traces.size;
  }

  /** Whether spans of this trace id can be kept: 16 bytes, not all zero (OTLP's valid trace ids). */
  keeps(id: Readonly<IdLocation>): boolean {
    return this.traces.keepsAt(id.buf, id.at, id.length);
  }

  /** The open trace of `id`, if any. */
  get(id: Readonly<IdLocation>): OpenTrace | undefined {
    return this.traces.getAt(id.buf, id.at, id.length);
  }

  /** False when `t` (the open trace `get` found, or none) has no room for another span. */
  accepts(t: OpenTrace | undefined): boolean {
    return !t || t.size < this.limits.maxSpansPerTrace;
  }

  /**
   * The trace the record went to; undefined when the trace is full. `id` is one the buffer `keeps`,
   * `traceId` its hex. `evict` gets a trace pushed out by the bound, before it is forgotten. `t` is
   * the trace as `get` found it just before (one lookup per span: a new id's `set` reuses the miss).
   */
  add(id: Readonly<IdLocation>, traceId: string, r: SpanRecord, nowMs: number, evict: (t: OpenTrace) => void, t: OpenTrace | undefined): OpenTrace | undefined {
    if (!t) {
      const opened = openTrace(traceId, r, nowMs);
      opened.entry = this.traces.setAt(id.buf, id.at, id.length, opened, evict);
      return opened;
    }
    if (!this.accepts(t)) return undefined;
    if (t.lastArrivalMs !== nowMs) this.traces.moveToEnd(t.entry);
    t.lastArrivalMs = nowMs;
    addRecord(t, r);
    return t;
  }

  /** Traces quiet for `settleMs` with spans to evaluate; forgets those quiet for `ttlMs`. */
  settled(nowMs: number): OpenTrace[] {
    const out: OpenTrace[] = [];
    for (let e = this.traces.first(); e >= 0; ) {
      const t = this.traces.value(e);
      const next = this.traces.after(e);
      const quiet = nowMs - t.lastArrivalMs;
      if (quiet < this.limits.settleMs) break;
      if (pending(t) > 0) out.push(t);
      if (quiet >= this.limits.ttlMs) this.traces.delete(e);
      e = next;
    }
    return out;
  }

  /** Every trace with spans to evaluate (shutdown). */
  all(): OpenTrace[] {
    const out: OpenTrace[] = [];
    for (let e = this.traces.first(); e >= 0; e = this.traces.after(e)) if (pending(this.traces.value(e)) > 0) out.push(this.traces.value(e));
    return out;
  }
}
