import type { LogRecord, Resource } from '../../pipeline/otlp/types.js';
import type { KernelEventKind } from '../../pipeline/semconv.js';
import { readKernelEvent, type KernelEventView, type KernelProcess } from '../../pipeline/kernel-event/index.js';
import type { CorrelationKey } from './matcher.js';

/** No port: a connect's peer unknown (ports are 0-65535, so -1 is never one). */
export const NO_PORT = -1;
/** No match remembered (arrival numbers in the span index are never negative). */
export const NO_SEQ = -1;

export interface WireIds {
  traceId: string;
  spanId: string;
  source: string;
}

/**
 * A kernel event held in correlate's window. A class with every field set in its constructor, and
 * numbers that are never `undefined` (ports, child pids): one object shape and one representation per
 * field for every kind of event. The view `readKernelEvent` gives held `undefined` or a small integer
 * in the same field by kind, and V8 threw away the matching round's optimised code each time a warm
 * collector saw a new mix (a fork's child pid, a connect's port, a traceparent).
 */
export class KernelEvent {
  readonly kind: KernelEventKind;
  /** Events the sensor folded into this one (kernel dedupe) plus this one. */
  readonly count: number;
  /** W3C ids named on the wire; null when the event named none. */
  readonly wire: WireIds | null;
  /** '' when the event has no peer. */
  readonly peerAddress: string;
  /** NO_PORT when the event has no peer. */
  readonly peerPort: number;
  readonly target: string;
  readonly credential: boolean;
  /** A failed call's errno name; '' when it did not fail. */
  readonly errorType: string;
  /** A fork's child; 0 for other kinds. */
  readonly childPid: number;
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
  readonly timeUs: number;
  readonly record: LogRecord;
  readonly resource: Resource;
  readonly arrivedAtMs: number;
  /**
   * Set when the last round found no span at all for it: it needs matching again only once spans of
   * its process or an ancestor arrive, its ancestry changes, its patience ends (`patient`), or its window
   * ends (see CorrelateProcessor).
   */
  unmatched = false;
  /** Whether the last round matched it patiently (see `match`): exact containment only. */
  patient = true;
  /**
   * What the last round matched by pid and time (`pid_time`, `process_tree`): the span's arrival number
   * in the index (NO_SEQ: none) and the key. The same lookup gives the same span until spans of its
   * process or an ancestor arrive, its ancestry or patience changes, or that span leaves the index, so
   * until then a round takes it from here (an event waits ~4 rounds for its span to settle).
   */
  matchedSeq = NO_SEQ;
  matchedKey: CorrelationKey = 'pid_time';

  constructor(view: KernelEventView, arrivedAtMs: number) {
    this.kind = view.kind;
    this.count = view.count;
    this.wire = view.wire ?? null;
    this.peerAddress = view.peerAddress ?? '';
    // Pids and ports as small integers (`| 0`: they fit 32 bits) even when the reader's arithmetic made
    // them heap numbers: a heap number where every other was a small integer deoptimised the round.
    this.peerPort = (view.peerPort ?? NO_PORT) | 0;
    this.target = view.target;
    this.credential = view.credential;
    this.errorType = view.errorType ?? '';
    this.childPid = (view.childPid ?? 0) | 0;
    this.pid = view.pid | 0;
    this.ppid = view.ppid | 0;
    this.comm = view.comm;
    this.timeUs = view.timeUs;
    this.record = view.record;
    this.resource = view.resource;
    this.arrivedAtMs = arrivedAtMs;
  }
}

/** Undefined for log records that are not kernel events (see pipeline/kernel-event). */
export function holdKernelEvent(record: LogRecord, resource: Resource, proc: KernelProcess, arrivedAtMs: number): KernelEvent | undefined {
  const view = readKernelEvent(record, resource, proc);
  return view ? new KernelEvent(view, arrivedAtMs) : undefined;
}

/**
 * Kernel events of one process that arrived in one batch: they age together and are retried
 * together, so a round that would find nothing new for any of them (no span of the process or an
 * ancestor arrived that covers their times) passes the run by without visiting its events (see
 * CorrelateProcessor.place).
 */
export class HeldRun {
  readonly events: KernelEvent[] = [];
  /** How many of `events` the last round found no span for and name none on the wire. */
  unmatched = 0;
  /** The patience the last round matched them with (the same for all: they are the same age). */
  patient = true;
  /** The earliest and latest event time (µs) it ever held: a span that contains neither changes nothing for it. */
  minUs = Infinity;
  maxUs = -Infinity;

  constructor(
    readonly pid: number,
    readonly arrivedAtMs: number,
  ) {}
}

/**
 * The events correlate holds, in arrival order, as runs of one process and batch. A process's
 * start-up (module loads before its first span) waits the whole window unmatched: ~120 rounds in
 * which only its runs are looked at, not each of its hundreds of events.
 */
export class HeldEvents {
  runs: HeldRun[] = [];
  size = 0;

  add(ev: KernelEvent): void {
    const last = this.runs[this.runs.length - 1];
    let run = last !== undefined && last.pid === ev.pid && last.arrivedAtMs === ev.arrivedAtMs ? last : undefined;
    if (!run) this.runs.push((run = new HeldRun(ev.pid, ev.arrivedAtMs)));
    run.events.push(ev);
    if (ev.timeUs < run.minUs) run.minUs = ev.timeUs;
    if (ev.timeUs > run.maxUs) run.maxUs = ev.timeUs;
    this.size++;
  }

  /** The `n` oldest events, taken out. */
  takeOldest(n: number): KernelEvent[] {
    const out: KernelEvent[] = [];
    let r = 0;
    for (; r < this.runs.length && out.length < n; r++) {
      const run = this.runs[r]!;
      const take = Math.min(n - out.length, run.events.length);
      for (let i = 0; i < take; i++) out.push(run.events[i]!);
      if (take < run.events.length) {
        run.events.splice(0, take);
        run.unmatched = run.events.reduce((k, ev) => k + (ev.unmatched && ev.wire === null ? 1 : 0), 0);
        break;
      }
    }
    this.runs.splice(0, r);
    this.size -= out.length;
    return out;
  }
}
