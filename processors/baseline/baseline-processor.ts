import type { Component, CreateSettings, Host } from '../../pipeline/component.js';
import { PermanentError, type Consumers } from '../../pipeline/consumer.js';
import { PendingEmits } from '../../pipeline/pending-emits.js';
import { WorkTicker } from '../../pipeline/work-ticker.js';
import { DeviationLimiter, countDeviation, deviationData, type Deviation, type Rule } from '../../pipeline/deviation/index.js';
import { logsCodec } from '../../pipeline/otlp/codec.js';
import type { LogsData, TracesData } from '../../pipeline/otlp/types.js';
import { hexAt } from '../../pipeline/otlp/id-hex.js';
import { locateId, spanIds } from '../../pipeline/otlp/span-view.js';
import { registerBaselineRoutes, unregisterBaselineRoutes } from './admin.js';
import { buildChain } from './chain.js';
import type { BaselineConfig } from './config.js';
import { Detector, type QuietReason } from './detector.js';
import type { ComponentOf } from './facts.js';
import type { Check } from './rules/index.js';
import { agentObservations, kernelObservations, type ObserveOptions } from './observe.js';
import type { Completeness, ProfileSettings, ProfileState } from './profile.js';
import { loadProfiles, saveProfile } from './store.js';
import { rareOf, readPrompt, resourceFacts, spanIdOf, spanRecord, startUs, type Finding, type SpanRecord } from './span-record.js';
import { TraceBuffer, pending, type OpenTrace } from './trace-buffer.js';

export const BASELINE_SCOPE = 'aibom.baseline';
/** Deviation batches the next hop refused, kept for the next tick. */
const MAX_PENDING = 64;

/** The profiles gauge's label values as indexes (every state and completeness: the records make TypeScript check that). */
const STATE_INDEX: Readonly<Record<ProfileState, number>> = { learning: 0, ready: 1, frozen: 2 };
const COMPLETENESS_INDEX: Readonly<Record<Completeness, number>> = { complete: 0, partial: 1 };
const COMPLETENESS_KINDS = Object.keys(COMPLETENESS_INDEX).length;

const NO_BYTES = new Uint8Array(0);

/** Whether the 16-byte trace ids at `a[aAt]` and `b[bAt]` are the same. */
function sameTraceId(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number): boolean {
  for (let i = 0; i < 16; i++) if (a[aAt + i] !== b[bAt + i]) return false;
  return true;
}

/** A number counted here and added to its metric once per tick. */
interface Count {
  counter: { inc(n: number): void };
  n: number;
}

function addCount(c: Count): void {
  if (c.n > 0) {
    c.counter.inc(c.n);
    c.n = 0;
  }
}

/** `forEach` with functions made once: `for...of` over the maps made an iterator and a result per entry on every tick. */
const addEach = (byReason: Map<QuietReason, Count>): void => byReason.forEach(addCount);

const sameNumbers = (a: readonly number[], b: readonly number[]): boolean => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};


/**
 * Behavioural baselines: per AI component (agent, tool, MCP server, model endpoint, by AI-BOM entity
 * id) a profile learned from the agents' spans and the kernel spans correlate put under them, then
 * deviations from it. Spans are recorded (a few fields each) and passed on at once; a trace is
 * evaluated when it has been quiet for `settle`, so kernel spans arriving after the agent's are
 * judged with their chain. Deviations go out as `aibom.deviation` log records and `deviation <rule>`
 * child spans (pipeline/deviation), deduplicated and rate-limited per component and rule.
 */
export class BaselineProcessor implements Component, Consumers {
  readonly detector: Detector;
  private readonly buffer: TraceBuffer;
  private readonly limiter: DeviationLimiter;
  private readonly observe: ObserveOptions;
  private readonly profileSettings: ProfileSettings;
  private readonly version: string;
  private host: Host | undefined;
  private routes: string[] = [];
  private timers: NodeJS.Timeout[] = [];
  /** Evaluation ticks while traces are buffered or deviations pending: none in an idle collector. */
  private ticker: WorkTicker | undefined;
  private readonly pending = new PendingEmits<{ traces: TracesData; logs: LogsData; arrivalMs: number }>({
    max: MAX_PENDING,
    send: async (p) => {
      if (!this.next.logs) throw new PermanentError('baseline is in no logs pipeline, so its deviation records have nowhere to go');
      await this.next.logs.consume(p.logs);
      await this.next.traces?.consume(p.traces);
    },
    sent: (p) => this.m.latency.observe(this.labels, (this.now() - p.arrivalMs) / 1000),
    dropped: (p, reason, err) => {
      this.m.dropped.inc({ ...this.labels, signal: 'logs', reason }, logsCodec.count(p.logs));
      if (err) this.settings.logger.warn({ err, reason }, 'deviations were refused');
    },
  });
  private stopped = false;
  private readonly labels;
  private readonly m;
  /**
   * countProfiles' tally: a count, and the gauge's labels, per state and completeness; the order they were
   * first seen in; what the gauge shows of this instance (label sets in order, counts).
   */
  private readonly profileTally: {
    counts: number[];
    labels: Record<'component' | 'state' | 'completeness', string>[];
    order: number[];
    shown: number[];
    shownCounts: number[];
  };
  /**
   * Quiet observations per rule and reason, counted here per observation while learning and added to
   * the metric once per tick: prom-client hashes the labels on every `inc`, even a child's.
   */
  private readonly quietBy = new Map<Rule, Map<QuietReason, Count>>();
  /**
   * Unevaluated spans, counted per trace under load (every trace pushed out early) in a number and
   * added to the metric once per tick, like the quiet observations: even a bound child's `inc` costs.
   */
  private readonly unevaluated: Record<'traceFull' | 'evictedEarly' | 'invalidTraceId', Count>;

  readonly traces = { consume: (data: TracesData) => this.consumeTraces(data) };
  readonly logs = { consume: (data: LogsData) => this.forwardLogs(data) };

  constructor(
    private readonly settings: CreateSettings,
    private readonly config: BaselineConfig,
    private readonly next: Consumers,
    private readonly now: () => number = Date.now,
  ) {
    this.version = settings.build?.version ?? '';
    const sensitive = config.sensitivePaths;
    const isSensitive = (path: string) => sensitive.some((s) => path.includes(s));
    this.profileSettings = { collapseThreshold: config.collapseThreshold, isSensitive, maxFactsPerList: config.maxFactsPerList, maxSamples: config.maxSamples, maxStatistics: config.maxStatistics };
    this.observe = { mcpCommandPatterns: config.mcpCommandPatterns, ignorePaths: config.ignorePaths, isSensitive };
    this.buffer = new TraceBuffer({ settleMs: config.settleMs, ttlMs: config.traceTtlMs, maxTraces: config.maxOpenTraces, maxSpansPerTrace: config.maxSpansPerTrace });
    this.limiter = new DeviationLimiter(config.noise, now);
    const metrics = settings.metrics;
    this.labels = { component: settings.id };
    this.m = {
      profiles: metrics.gauge('aibom_baseline_profiles', 'Baseline profiles, by state and completeness.', ['component', 'state', 'completeness']),
      quiet: metrics.counter('aibom_baseline_quiet_total', 'Observations a rule that needs a profile did not judge, because the profile was learning or (for kernel facts) partial.', ['component', 'rule', 'reason']),
      suppressed: metrics.counter('aibom_baseline_deviations_suppressed_total', 'Deviations not emitted by noise control (duplicate within the dedupe window, or over the per-minute rate).', ['component', 'rule', 'reason']),
      unevaluated: metrics.counter('aibom_baseline_unevaluated_spans_total', 'Spans not evaluated: their trace was full, it was evicted from the open traces early (evaluated then, possibly before its kernel spans), or its id was not a valid trace id (not 16 bytes, or all zero).', ['component', 'reason']),
      overflow: metrics.counter('aibom_baseline_profile_overflow_total', 'Observations of components past max_profiles, not profiled.', ['component']),
      errors: metrics.counter('aibom_baseline_errors_total', 'Spans the baseline could not read, or profiles it could not write.', ['component', 'what']),
      latency: metrics.histogram('aibom_baseline_deviation_latency_seconds', "From the arrival of a trace's last span to its deviations handed to the next hop.", ['component'], [0.1, 0.25, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8, 0.9, 1, 1.5, 2, 5]),
      dropped: metrics.processorDropped,
    };
    const labels: Record<'component' | 'state' | 'completeness', string>[] = [];
    for (const state of Object.keys(STATE_INDEX) as ProfileState[]) {
      for (const completeness of Object.keys(COMPLETENESS_INDEX) as Completeness[]) {
        labels[STATE_INDEX[state] * COMPLETENESS_KINDS + COMPLETENESS_INDEX[completeness]] = { ...this.labels, state, completeness };
      }
    }
    // Shown at first: every label set of this component, so the first count removes what an instance of
    // the same id before this one (a restarted pipeline) left.
    this.profileTally = { counts: labels.map(() => 0), labels, order: [], shown: labels.map((_, i) => i), shownCounts: [] };
    this.unevaluated = {
      traceFull: { counter: this.m.unevaluated.labels({ ...this.labels, reason: 'trace_full' }), n: 0 },
      evictedEarly: { counter: this.m.unevaluated.labels({ ...this.labels, reason: 'evicted_early' }), n: 0 },
      invalidTraceId: { counter: this.m.unevaluated.labels({ ...this.labels, reason: 'invalid_trace_id' }), n: 0 },
    };
    this.detector = new Detector(
      {
        learningDurationMs: config.learning.durationMs,
        minObservations: config.learning.minObservations,
        maxProfiles: config.maxProfiles,
        profile: this.profileSettings,
        lowCardinalityMax: config.lowCardinalityMax,
        sizeTolerance: config.sizeTolerance,
        madFactor: config.madFactor,
        dnsLabelMin: config.dnsLabelMin,
      },
      {
        quiet: (rule, reason) => {
          let byReason = this.quietBy.get(rule);
          if (!byReason) this.quietBy.set(rule, (byReason = new Map()));
          let c = byReason.get(reason);
          if (!c) byReason.set(reason, (c = { counter: this.m.quiet.labels({ ...this.labels, rule: rule.id, reason }), n: 0 }));
          c.n++;
        },
        profileOverflow: () => this.m.overflow.inc(this.labels),
        stateChanged: (p) => this.settings.logger.info({ profile: p.id, component: `${p.component.kind}/${p.component.name}`, state: p.state, observations: p.observations }, 'baseline profile state changed'),
      },
    );
  }

  /** Loads the stored profiles: a bad file stops start-up with its name. */
  async start(host: Host): Promise<void> {
    if (this.host || this.stopped) return;
    if (this.config.directory) {
      for (const p of loadProfiles(this.config.directory, this.profileSettings)) this.detector.profiles.set(p.id, p);
      this.settings.logger.info({ directory: this.config.directory, profiles: this.detector.profiles.size }, 'baseline profiles loaded');
    }
    // A profile changed over the admin listener shows in the profiles gauge at once, not at the next tick.
    const changed = (): void => {
      this.persist();
      this.countProfiles();
    };
    this.routes = registerBaselineRoutes(host.admin, this.settings.id, this.detector, changed, this.now);
    this.host = host;
    this.ticker = new WorkTicker(Math.max(10, Math.min(100, this.config.settleMs / 2)), () => this.tick(), () => this.buffer.size > 0 || this.pending.size > 0);
    const flush = setInterval(() => this.persist(), this.config.flushIntervalMs);
    flush.unref();
    this.timers.push(flush);
    this.countProfiles();
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.ticker?.stop();
    if (!this.host) return;
    for (const t of this.buffer.all()) this.evaluate(t);
    this.addCounts();
    await this.pending.flush(true);
    this.persist();
    unregisterBaselineRoutes(this.host.admin, this.settings.id, this.routes);
  }

  private async consumeTraces(data: TracesData): Promise<void> {
    this.ticker?.wake();
    const nowMs = this.now();
    /** The open trace of the span before in this batch (nothing else is added or forgotten in between). */
    let last: OpenTrace | undefined;
    /** Where its trace id's bytes are. */
    let lastBuf: Uint8Array = NO_BYTES;
    let lastAt = 0;
    try {
      // Indexed loops: `for...of` made an iterator result per span where this runs unoptimised (once per batch).
      for (let ri = 0; ri < data.resourceSpans.length; ri++) {
        const rs = data.resourceSpans[ri]!;
        const resource = resourceFacts(rs.resource?.attributes);
        for (let si = 0; si < rs.scopeSpans.length; si++) {
          const ss = rs.scopeSpans[si]!;
          const scopeName = ss.scope?.name;
          for (let pi = 0; pi < ss.spans.length; pi++) {
            const span = ss.spans[pi]!;
            const r = spanRecord(span, scopeName, resource);
            if (!r) continue;
            // `locateId`'s answer is shared and rewritten by the next call: its place is kept.
            const id = locateId(span, 'traceId');
            const buf = id.buf;
            const at = id.at;
            let t: OpenTrace | undefined;
            // An agent's spans of one trace come together: the same trace id bytes as the span before need no lookup.
            if (last !== undefined && id.length === 16 && sameTraceId(buf, at, lastBuf, lastAt)) t = last;
            else {
              if (!this.buffer.keeps(id)) {
                this.unevaluated.invalidTraceId.n++;
                continue;
              }
              t = this.buffer.get(id);
            }
            if (!this.buffer.accepts(t)) {
              this.unevaluated.traceFull.n++;
              continue;
            }
            // The hex only for a trace it opens: an open trace holds its own.
            const traceId = t ? t.traceId : Buffer.isBuffer(buf) ? hexAt(buf, at, 16) : spanIds(span).traceId;
            readPrompt(r, span, t?.prompt);
            if (r.view) {
              const found = this.judgeAgentSpan(r, traceId, nowMs);
              if (found) rareOf(r).found = found;
            }
            lastBuf = buf;
            lastAt = at;
            last = this.buffer.add(locateId(span, 'traceId'), traceId, r, nowMs, this.evict, t);
          }
        }
      }
    } catch (err) {
      // Baselines are a by-product: a span they cannot read must never stop the span itself.
      this.m.errors.inc({ ...this.labels, what: 'read' });
      this.settings.logger.warn({ err }, 'could not read a batch for baselines; spans passed on unchanged');
    }
    if (!this.next.traces) throw new PermanentError('baseline has no traces consumer after it');
    await this.next.traces.consume(data);
  }

  private async forwardLogs(data: LogsData): Promise<void> {
    if (!this.next.logs) throw new PermanentError('baseline has no logs consumer after it');
    await this.next.logs.consume(data);
  }

  /** A trace pushed out of the buffer by its bound (bound once: the buffer calls it per new trace at most). */
  private readonly evict = (t: OpenTrace): void => {
    if (pending(t) > 0) {
      this.unevaluated.evictedEarly.n += pending(t);
      this.evaluate(t);
    }
  };

  /** Evaluates the settled traces and sends their deviations. */
  async tick(): Promise<void> {
    for (const t of this.buffer.settled(this.now())) this.evaluate(t);
    this.addCounts();
    await this.pending.flush(false);
    this.countProfiles();
  }

  /** Adds what was counted in numbers since the last tick to the metrics. */
  private addCounts(): void {
    this.quietBy.forEach(addEach);
    addCount(this.unevaluated.traceFull);
    addCount(this.unevaluated.evictedEarly);
    addCount(this.unevaluated.invalidTraceId);
  }

  /**
   * Learns from, or checks, what an agent span shows, as it arrives: it reads the span alone (not the
   * trace), and its record, view and profiles are in the CPU's caches now, not when a trace pushed
   * out by the bound is evaluated thousands of traces later. What it found waits in the record for
   * the trace's evaluation, which builds the deviations with their chain.
   */
  private judgeAgentSpan(r: SpanRecord, traceId: string, nowMs: number): Finding[] | undefined {
    let found: Finding[] | undefined;
    try {
      for (const o of agentObservations(r)) for (const check of this.detector.observe(o, nowMs)) (found ??= []).push({ component: o.component, check });
    } catch (err) {
      this.m.errors.inc({ ...this.labels, what: 'read' });
      this.settings.logger.warn({ err, traceId }, 'could not read a span for baselines');
    }
    return found;
  }

  /** Judges the pending kernel spans of a trace, and queues what they and its agent spans deviate in. */
  private evaluate(t: OpenTrace): void {
    const from = t.evaluated;
    const to = t.size;
    t.evaluated = to;
    if (t.work === 0) return;
    t.work = 0;
    const nowMs = this.now();
    let out: Map<string, { d: Deviation; count: number }[]> | undefined;
    const queue = (r: SpanRecord, component: ComponentOf, c: Check): void => {
      const d: Deviation = {
        rule: c.rule,
        component,
        fact: c.fact,
        observed: c.observed,
        traceId: t.traceId,
        spanId: spanIdOf(r),
        timeUnixNano: BigInt(startUs(r)) * 1000n,
        chain: buildChain(t, r, this.config.ignorePaths),
        ...(c.attributes ? { attributes: c.attributes } : {}),
      };
      const v = this.limiter.check(d);
      if (!v.emit) {
        this.m.suppressed.inc({ ...this.labels, rule: d.rule.id, reason: v.reason });
        return;
      }
      const service = r.resource.serviceName.startsWith('unknown_service') ? component.name : r.resource.serviceName;
      out ??= new Map();
      let list = out.get(service);
      if (!list) out.set(service, (list = []));
      list.push({ d, count: v.count });
    };
    for (let i = from; i < to; i++) {
      const r = t.records[i]!;
      if (!r.kernel) {
        for (const f of r.rare?.found ?? []) queue(r, f.component, f.check);
        continue;
      }
      let observations;
      try {
        observations = kernelObservations(t, r, this.observe);
      } catch (err) {
        this.m.errors.inc({ ...this.labels, what: 'read' });
        this.settings.logger.warn({ err, traceId: t.traceId }, 'could not read a span for baselines');
        continue;
      }
      for (let oi = 0; oi < observations.length; oi++) {
        const o = observations[oi]!;
        const checks = this.detector.observe(o, nowMs);
        for (let ci = 0; ci < checks.length; ci++) queue(r, o.component, checks[ci]!);
      }
    }
    if (out === undefined) return;
    for (const [serviceName, items] of out) {
      const data = deviationData(items, { scope: BASELINE_SCOPE, scopeVersion: this.version, serviceName });
      this.pending.push({ ...data, arrivalMs: t.lastArrivalMs });
      for (const { d } of items) countDeviation(this.settings.metrics, d);
    }
  }

  /** Writes the profiles that changed (each atomically); a failure keeps them dirty for the next time. */
  private persist(): void {
    if (!this.config.directory) return;
    for (const p of this.detector.profiles.values()) {
      if (!p.dirty) continue;
      try {
        saveProfile(this.config.directory, p);
      } catch (err) {
        this.m.errors.inc({ ...this.labels, what: 'write' });
        this.settings.logger.error({ err, profile: p.id }, 'could not write a baseline profile; it stays in memory and is written at the next flush');
      }
    }
  }

  /**
   * The profiles gauge, counted by state and completeness here and set once per label set, and only when
   * a count changed: an `inc` per profile on every tick (up to 100 a second) hashed a new label object per
   * profile (prom-client), the largest allocation of a tick. The label sets appear in the order their
   * first profile has, as with one `inc` each. Only this instance's label sets are removed (the gauge is
   * shared by every baseline processor: a `reset` took the others' away until their next tick).
   */
  private countProfiles(): void {
    const t = this.profileTally;
    t.counts.fill(0);
    t.order.length = 0;
    for (const p of this.detector.profiles.values()) {
      const i = STATE_INDEX[p.state] * COMPLETENESS_KINDS + COMPLETENESS_INDEX[p.completeness];
      if (t.counts[i] === 0) t.order.push(i);
      t.counts[i]!++;
    }
    const sameOrder = sameNumbers(t.order, t.shown);
    if (sameOrder && sameNumbers(t.counts, t.shownCounts)) return;
    if (!sameOrder) for (const i of t.shown) this.m.profiles.remove(t.labels[i]!);
    for (const i of t.order) this.m.profiles.set(t.labels[i]!, t.counts[i]!);
    t.shown = [...t.order];
    t.shownCounts = [...t.counts];
  }
}
