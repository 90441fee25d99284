import type { ComponentOf } from './facts.js';
import type { SpanRecord } from './span-record.js';

/** One trace while its spans arrive: the agent's spans first, correlate's kernel spans 1-2 s later. */
export interface OpenTrace {
  traceId: string;
  spans: Map<string, SpanRecord>;
  /** Spans not evaluated yet, in arrival order. */
  pending: SpanRecord[];
  lastArrivalMs: number;
  /** The agent of the trace's agent spans, once known. */
  agent?: ComponentOf;
  /** The first user message of the trace's earliest LLM span. */
  prompt?: { startNs: bigint; text: string };
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
  private readonly traces = new Map<string, OpenTrace>();
  /**
   * Where the bound takes the oldest trace from. A Map keeps deleted entries as holes until it is
   * rehashed, so a new iterator per eviction walks past every trace pushed out since (~2 µs per new
   * trace at 4096 open); this one stays just past the last trace it gave, and every trace still open
   * lies after it (traces are added, and moved on arrival, at the end).
   */
  private oldest: Iterator<OpenTrace> | undefined = undefined;

  constructor(private readonly limits: TraceBufferLimits) {}

  get size(): number {
    return this.traces.size;
  }

  /** False when the trace is full. `evict` gets a trace pushed out by the bound, before it is forgotten. */
  add(traceId: string, r: SpanRecord, nowMs: number, evict: (t: OpenTrace) => void): boolean {
    let t = this.traces.get(traceId);
    if (t) {
      if (t.spans.size >= this.limits.maxSpansPerTrace) return false;
      if (t.lastArrivalMs !== nowMs) {
        this.traces.delete(traceId);
        this.traces.set(traceId, t);
      }
    } else {
      t = { traceId, spans: new Map(), pending: [], lastArrivalMs: nowMs };
      this.traces.set(traceId, t);
      if (this.traces.size > this.limits.maxTraces) {
        const oldest = this.takeOldest();
        this.traces.delete(oldest.traceId);
        evict(oldest);
      }
    }
    t.lastArrivalMs = nowMs;
    t.spans.set(r.spanId, r);
    t.pending.push(r);
    if (r.prompt && (!t.prompt || r.startNs < t.prompt.startNs)) t.prompt = { startNs: r.startNs, text: r.prompt };
    return true;
  }

  private takeOldest(): OpenTrace {
    let next = this.oldest?.next();
    // A finished iterator stays finished: start again from the front.
    if (!next || next.done) next = (this.oldest = this.traces.values()).next();
    return next.value as OpenTrace;
  }

  /** Traces quiet for `settleMs` with spans to evaluate; forgets those quiet for `ttlMs`. */
  settled(nowMs: number): OpenTrace[] {
    const out: OpenTrace[] = [];
    for (const t of this.traces.values()) {
      const quiet = nowMs - t.lastArrivalMs;
      if (quiet < this.limits.settleMs) break;
      if (t.pending.length > 0) out.push(t);
      if (quiet >= this.limits.ttlMs) this.traces.delete(t.traceId);
    }
    return out;
  }

  /** Every trace with spans to evaluate (shutdown). */
  all(): OpenTrace[] {
    return [...this.traces.values()].filter((t) => t.pending.length > 0);
  }
}
