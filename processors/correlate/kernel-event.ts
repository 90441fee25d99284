import type { LogRecord, Resource } from '../../pipeline/otlp/types.js';
import type { KernelEventKind } from '../../pipeline/semconv.js';
import { HeldRecordsBuilder, type HeldRecords, type KernelEventFacts, type KernelProcess } from '../../pipeline/kernel-event/index.js';
import type { Fold } from './fold.js';
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

/** Where a held event or run of opens stands in matching: kept between rounds (see CorrelateProcessor.place). */
abstract class MatchState {
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
}

/**
 * A kernel event held in correlate's window. A class with every field set in its constructor, and
 * numbers that are never `undefined` (ports, child pids): one object shape and one representation per
 * field for every kind of event. The reader's facts hold `undefined` or a small integer in the same
 * field by kind, and V8 threw away the matching round's optimised code each time a warm collector saw
 * a new mix (a fork's child pid, a connect's port, a traceparent). Made straight from the reader's
 * facts (`readKernelFacts`), the one object per event correlate builds.
 */
export class KernelEvent extends MatchState {
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
  /** An open's fold (fold.ts), found when it was held; null when it keeps its own span or is no open. */
  readonly fold: Fold | null;
  /** A fork's child; 0 for other kinds. */
  readonly childPid: number;
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
  readonly timeUs: number;
  readonly record: LogRecord;
  readonly resource: Resource;
  readonly arrivedAtMs: number;

  constructor(facts: KernelEventFacts, fold: Fold | null, proc: KernelProcess, timeUs: number, record: LogRecord, resource: Resource, arrivedAtMs: number) {
    super();
    this.kind = facts.kind;
    this.count = facts.count;
    this.wire = facts.wire ?? null;
    this.peerAddress = facts.peerAddress ?? '';
    // Pids and ports as small integers (`| 0`: they fit 32 bits) even when the reader's arithmetic made
    // them heap numbers: a heap number where every other was a small integer deoptimised the round.
    this.peerPort = (facts.peerPort ?? NO_PORT) | 0;
    this.target = facts.target;
    this.credential = facts.credential;
    this.fold = fold;
    this.childPid = (facts.childPid ?? 0) | 0;
    this.pid = proc.pid | 0;
    this.ppid = proc.ppid | 0;
    this.comm = proc.comm;
    this.timeUs = timeUs;
    this.record = record;
    this.resource = resource;
    this.arrivedAtMs = arrivedAtMs;
  }

  get size(): number {
    return 1;
  }
}

/**
 * Consecutive plumbing opens of one process and batch (module loads at start-up) under one fold rule
 * and root, each at most OPEN_RUN_GAP_US from the one before, with nothing else of that process
 * between them: held, matched and placed as one, with a slot per open (its time, count, path, and its
 * record as columns of HeldRecords) instead of an object. A process's opens are placed alike (same
 * process, same fold, no wire, no peer: only their times differ), so a round looks the run up once when
 * no span of its process or an ancestor starts or ends within its times (give or take the clock-skew
 * tolerance), else opens one by one and splits the run where they are placed differently
 * (CorrelateProcessor.place); the span builder adds it to its group as the opens one after another
 * would be. `open-runs.test.ts` holds that to placing every open alone.
 */
export class OpenRun extends MatchState {
  readonly kind = 'open';
  /** Earliest and latest time (µs) of its opens. */
  readonly minUs: number;
  readonly maxUs: number;

  constructor(
    readonly fold: Fold,
    readonly pid: number,
    readonly ppid: number,
    readonly comm: string,
    readonly resource: Resource,
    readonly arrivedAtMs: number,
    /**
     * Per open, in arrival order: its time (µs), its count (kernel dedupe; null when every count is 1, as
     * nearly always: an array less per run), its path, its record (whose time a span takes, and whose
     * attributes a span of one path takes: made again from the run's columns when asked for).
     */
    readonly times: readonly number[],
    readonly counts: readonly number[] | null,
    readonly paths: readonly string[],
    readonly records: HeldRecords,
  ) {
    super();
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < times.length; i++) {
      const t = times[i]!;
      if (t < min) min = t;
      if (t > max) max = t;
    }
    this.minUs = min;
    this.maxUs = max;
  }

  get size(): number {
    return this.times.length;
  }

  countAt(i: number): number {
    return this.counts === null ? 1 : this.counts[i]!;
  }

  /** Opens `from` to `to` (exclusive) as a run of their own, with this run's matching state. */
  slice(from: number, to: number): OpenRun {
    const part = new OpenRun(this.fold, this.pid, this.ppid, this.comm, this.resource, this.arrivedAtMs, this.times.slice(from, to), this.counts && this.counts.slice(from, to), this.paths.slice(from, to), this.records.slice(from, to));
    part.unmatched = this.unmatched;
    part.patient = this.patient;
    part.matchedSeq = this.matchedSeq;
    part.matchedKey = this.matchedKey;
    return part;
  }
}

/** What correlate holds: an event, or a run of opens placed as one. */
export type Held = KernelEvent | OpenRun;

/**
 * The most time between two opens of one run: wider runs are split more often by the spans of their
 * process (each split looks its opens up one by one once). `event-mix` on the reference agent: 2 794
 * plumbing opens make 547 runs at 1 ms, 320 at 5 ms, 248 at 20 ms.
 */
export const OPEN_RUN_GAP_US = 5_000;

/**
 * Collects a batch's consecutive plumbing opens of one process into runs (see OpenRun): `add` an open,
 * `end` when anything else of the process comes or the batch ends. One per processor, reused.
 */
export class OpenRunCollector {
  private fold: Fold | null = null;
  private proc: KernelProcess = { pid: 0, ppid: 0, comm: '' };
  private resource: Resource = {};
  private arrivedAtMs = 0;
  private times: number[] = [];
  private counts: number[] = [];
  /** Whether every count so far is 1. */
  private ones = true;
  private paths: string[] = [];
  private readonly records = new HeldRecordsBuilder();
  /** The first open's facts, to hold it as an event of its own when no other joins it. */
  private firstFacts: KernelEventFacts | undefined;

  /**
   * `gapUs` below 0: every open is held alone (the reference the tests compare runs with). `compact`:
   * the records are correlate's alone (not forwarded), so a run may keep them as columns (HeldRecords);
   * a forwarded record stays the object that went on, as whatever comes after may change it.
   */
  constructor(
    private readonly gapUs: number,
    private readonly compact: boolean,
  ) {}

  /** Adds an open to the run, ending the run before it when it does not belong there. */
  add(held: HeldEvents, facts: KernelEventFacts, fold: Fold, proc: KernelProcess, timeUs: number, record: LogRecord, resource: Resource, arrivedAtMs: number): void {
    const n = this.times.length;
    const joins = n > 0 && this.proc === proc && this.resource === resource && this.arrivedAtMs === arrivedAtMs && this.fold!.rule === fold.rule && this.fold!.root === fold.root && Math.abs(timeUs - this.times[n - 1]!) <= this.gapUs;
    // A record the run's columns cannot take (HeldRecords.add) starts a run of its own.
    if (n > 0 && !(joins && this.records.add(record))) this.end(held);
    if (this.times.length === 0) {
      this.records.start(record, this.compact);
      this.fold = fold;
      this.proc = proc;
      this.resource = resource;
      this.arrivedAtMs = arrivedAtMs;
      this.firstFacts = facts;
    }
    this.times.push(timeUs);
    this.counts.push(facts.count);
    if (facts.count !== 1) this.ones = false;
    this.paths.push(facts.target);
  }

  /** Holds what was collected: one open as an event, more as a run. */
  end(held: HeldEvents): void {
    const n = this.times.length;
    if (n === 0) return;
    const { proc, resource, arrivedAtMs } = this;
    if (n === 1) held.add(new KernelEvent(this.firstFacts!, this.fold, proc, this.times[0]!, this.records.first, resource, arrivedAtMs));
    else held.add(new OpenRun(this.fold!, proc.pid | 0, proc.ppid | 0, proc.comm, resource, arrivedAtMs, this.times.slice(), this.ones ? null : this.counts.slice(), this.paths.slice(), this.records.done()));
    this.times.length = 0;
    this.counts.length = 0;
    this.ones = true;
    this.paths.length = 0;
    this.fold = null;
    this.firstFacts = undefined;
    this.resource = {};
  }
}

/**
 * Kernel events of one process that arrived in one batch: they age together and are retried
 * together, so a round that would find nothing new for any of them (no span of the process or an
 * ancestor arrived that covers their times) passes the run by without visiting its events (see
 * CorrelateProcessor.place).
 */
export class HeldRun {
  /** Its events and runs of opens, in arrival order. */
  items: Held[] = [];
  /** How many events its items stand for. */
  events = 0;
  /** How many of `items` the last round found no span for and name none on the wire. */
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

/** Whether a held item counts in its run's `unmatched`. */
export const unmatchedItem = (h: Held) => h.unmatched && (h instanceof OpenRun || h.wire === null);

/**
 * The events correlate holds, in arrival order, as runs of one process and batch. A process's
 * start-up (module loads before its first span) waits the whole window unmatched: ~120 rounds in
 * which only its runs are looked at, not each of its hundreds of events. `size` counts events (an
 * OpenRun's opens each), as the bound does.
 */
export class HeldEvents {
  runs: HeldRun[] = [];
  size = 0;

  add(h: Held): void {
    const last = this.runs[this.runs.length - 1];
    let run = last !== undefined && last.pid === h.pid && last.arrivedAtMs === h.arrivedAtMs ? last : undefined;
    if (!run) this.runs.push((run = new HeldRun(h.pid, h.arrivedAtMs)));
    run.items.push(h);
    run.events += h.size;
    const min = h instanceof OpenRun ? h.minUs : h.timeUs;
    const max = h instanceof OpenRun ? h.maxUs : h.timeUs;
    if (min < run.minUs) run.minUs = min;
    if (max > run.maxUs) run.maxUs = max;
    this.size += h.size;
  }

  /** The `n` oldest events, taken out (a run of opens split where the count ends). */
  takeOldest(n: number): Held[] {
    const out: Held[] = [];
    let taken = 0;
    let r = 0;
    for (; r < this.runs.length && taken < n; r++) {
      const run = this.runs[r]!;
      const items = run.items;
      let i = 0;
      for (; i < items.length && taken < n; i++) {
        const h = items[i]!;
        if (taken + h.size <= n) {
          out.push(h);
          taken += h.size;
          continue;
        }
        // Part of a run of opens: the first opens go, the rest stays in its place.
        const k = n - taken;
        out.push((h as OpenRun).slice(0, k));
        items[i] = (h as OpenRun).slice(k, h.size);
        taken += k;
        break;
      }
      if (i < items.length) {
        items.splice(0, i);
        run.events = items.reduce((k, h) => k + h.size, 0);
        run.unmatched = items.reduce((k, h) => k + (unmatchedItem(h) ? 1 : 0), 0);
        break;
      }
    }
    this.runs.splice(0, r);
    this.size -= taken;
    return out;
  }
}
