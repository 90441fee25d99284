import type { Component, CreateSettings, Host } from '../../pipeline/component.js';
import { PermanentError, RetryableError, type Consumers } from '../../pipeline/consumer.js';
import { findAttr, int64ToMicros } from '../../pipeline/otlp/attributes.js';
import { clientInfoOf, type ClientInfo } from '../../pipeline/client-info.js';
import { addHostId, readMachineId } from '../../pipeline/machine-id.js';
import { PendingEmits } from '../../pipeline/pending-emits.js';
import { WorkTicker } from '../../pipeline/work-ticker.js';
import type { KeyValue, LogsData, Resource, ResourceLogs, Span, TracesData } from '../../pipeline/otlp/types.js';
import { ATTR, KERNEL_SCOPE } from '../../pipeline/semconv.js';
import { canonicalView, type CanonicalKind, type CanonicalSpan } from '../normalize/index.js';
import type { CorrelateConfig } from './config.js';
import { Folder } from './fold.js';
import { HeldEvents, KernelEvent, NO_SEQ, OPEN_RUN_GAP_US, OpenRun, OpenRunCollector, unmatchedItem, type Held } from './kernel-event.js';
import { readKernelFacts, readKernelProcess, type KernelProcess } from '../../pipeline/kernel-event/index.js';
import { match, matchByProcess, placedAlike, type Match, type MatchContext } from './matcher.js';
import { MAX_ANCESTRY, ProcessTable } from './process-table.js';
import { Assignment, SpanBuilder } from './span-builder.js';
import { NONE, SpanIndex, type ResourceFacts, type SpanRef } from './span-index.js';
import { SpanSourceCheck, type Sender } from './span-source.js';

/** Span kinds that show a process is an AI workload worth watching in the kernel. */
const WORKLOAD_KINDS: ReadonlySet<CanonicalKind> = new Set(['agent', 'llm', 'tool', 'retriever', 'embedding', 'mcp_client', 'mcp_server']);

/** Times in µs, `from` to `to` (empty when `from` > `to`). */
interface TimeRange {
  from: number;
  to: number;
}

/** Emitted spans the next hop refused, kept for the next tick up to this many batches. */
const MAX_PENDING_EMITS = 64;

/** Refused pids remembered per connection; past it, claims are checked (and logged) again. */
const MAX_REFUSED_PER_CLIENT = 64;
/** Stands for "no OTLP client" (spans made in this process) among the refused claims. */
const NO_CLIENT: ClientInfo = Object.freeze({ transport: 'grpc', peer: undefined, localPort: 0 });

/**
 * Places kernel activity (log records from receiver/ebpf) under the span that caused it.
 *
 * Spans pass straight through (indexed on the way, never delayed). Kernel events are held in a
 * bounded window, because SDKs export spans seconds after the fact; on each tick every held event is
 * matched (strongest key first, see matcher.ts) and, once the matched span has settled, emitted as
 * spans of that trace. Events no span claims within the window become process activity. Nothing is
 * dropped silently: every event ends up in a span, and the counters say which key placed it.
 */
export class CorrelateProcessor implements Component, Consumers {
  private readonly spans: SpanIndex;
  private readonly processes: ProcessTable;
  private readonly builder: SpanBuilder;
  private readonly ctx: MatchContext;
  private readonly held = new HeldEvents();
  /** Classifies opens as they are held: plumbing opens of a process in a row are held as one (OpenRun). */
  private readonly folder: Folder;
  private readonly openRuns: OpenRunCollector;
  /** Where `match` says what it found (one object, not one per lookup). */
  private readonly found: Match = { row: NONE, key: 'pid_time' };
  /**
   * Per pid, the times (µs) covered by the spans it got since the last round began, or all time when
   * its parent or executable changed: what a lookup by pid and time of that process could find anew.
   */
  private changed = new Map<number, TimeRange>();
  /** consumeTraces' scratch: one scope's canonical views, and the times of the spans it indexed. */
  private readonly views: (CanonicalSpan | undefined)[] = [];
  private readonly covered: TimeRange = { from: 0, to: 0 };
  private readonly pendingEmits = new PendingEmits<TracesData>({
    max: MAX_PENDING_EMITS,
    send: (data) => {
      if (!this.next.traces) throw new PermanentError('correlate is in no traces pipeline, so spans made from kernel events have nowhere to go');
      return this.next.traces.consume(data);
    },
    sent: (data) => this.emitted.inc(this.labels, countSpans(data)),
    dropped: (data, reason, err) => {
      if (reason === 'next_permanent_error') this.settings.logger.error({ err }, 'spans made from kernel events were refused permanently');
      this.countDropped(data, reason);
    },
  });
  /** Rounds run while events are held, spans indexed or emits pending: none in an idle collector. */
  private ticker: WorkTicker | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private host: Host | undefined;
  private readonly announced = new Set<number>();
  /** Claims already refused, per connection (forgotten with the connection). */
  private readonly refused = new WeakMap<ClientInfo, Set<number>>();
  private readonly sources = new SpanSourceCheck();
  /** Given to pid-less resources whose sender holds the connection here, as kernel spans carry it. */
  private readonly hostId = readMachineId();
  private readonly unverified;

  private readonly placed;
  private readonly evicted;
  private readonly emitted;
  private readonly dropped;
  private readonly heldGauge;
  private readonly indexedGauge;
  private readonly latency;
  private readonly labels;

  readonly traces = { consume: (data: TracesData) => this.consumeTraces(data) };
  readonly logs = { consume: (data: LogsData) => this.consumeLogs(data) };

  constructor(
    private readonly settings: CreateSettings,
    private readonly config: CorrelateConfig,
    private readonly next: Consumers,
    private readonly now: () => number = Date.now,
    /** false: every open is held alone (what the tests hold runs of opens to). */
    groupOpens = true,
  ) {
    this.processes = new ProcessTable(config.maxProcesses);
    this.spans = new SpanIndex(config.maxIndexedSpans);
    this.folder = new Folder(config.fold);
    this.openRuns = new OpenRunCollector(groupOpens ? OPEN_RUN_GAP_US : -1, !config.forwardKernelEvents);
    this.builder = new SpanBuilder(config.maxIndexedSpans, config.windowMs * 1000, this.folder.config.samplePaths, settings.build?.version ?? '');
    this.ctx = { spans: this.spans, processes: this.processes, toleranceUs: config.clockSkewMs * 1000 };
    const m = settings.metrics;
    this.labels = { component: settings.id };
    this.placed = shared(m, 'aibom_correlate_events_total', 'Kernel events placed in a trace, by the correlation key that placed them (`unmatched`: emitted as process activity).', ['component', 'key']);
    this.evicted = shared(m, 'aibom_correlate_evicted_events_total', 'Kernel events emitted as unmatched before their window ended because the buffer was full.', ['component']);
    this.emitted = shared(m, 'aibom_correlate_emitted_spans_total', 'Spans made from kernel events and handed to the next hop.', ['component']);
    this.dropped = m.processorDropped;
    this.unverified = shared(m, 'aibom_correlate_unverified_workloads_total', 'Pids named by GenAI spans that were not announced for watching, by why the claim could not be checked.', ['component', 'reason']);
    this.heldGauge = sharedGauge(m, 'aibom_correlate_held_events', 'Kernel events waiting for their span.', ['component']);
    this.indexedGauge = sharedGauge(m, 'aibom_correlate_indexed_spans', 'Spans remembered for matching.', ['component']);
    this.latency = sharedGauge(m, 'aibom_correlate_placement_delay_ms', 'Time from a kernel event arriving to its span being emitted (last tick, max).', ['component']);
  }

  async start(host: Host): Promise<void> {
    if (this.ticker || this.stopped) return;
    this.host = host;
    this.ticker = new WorkTicker(this.config.tickMs, () => this.tick(), () => this.held.size > 0 || this.spans.size > 0 || this.pendingEmits.size > 0);
  }

  /** Places everything still held (unmatched becomes process activity) and emits it. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.ticker?.stop();
    await this.ticking;
    await this.tick(true);
  }

  private async consumeTraces(data: TracesData): Promise<void> {
    this.ticker?.wake();
    const arrived = this.now();
    const standIn = this.standIn(data);
    for (const rs of data.resourceSpans) {
      let pid = Number(findAttr(rs.resource?.attributes, ATTR.processPid) ?? 0);
      let pidSource: ResourceFacts['pidSource'];
      if (!pid && standIn) {
        pid = standIn;
        pidSource = 'otlp_connection';
        if (rs.resource) addHostId(rs.resource, this.hostId);
      }
      const facts: ResourceFacts = { pid, pidSource, serviceName: String(findAttr(rs.resource?.attributes, ATTR.serviceName) ?? 'unknown_service') };
      let agentSpan: Span | undefined;
      let agentKind: CanonicalKind | undefined;
      const views = this.views;
      const covered = this.covered;
      for (const ss of rs.scopeSpans) {
        const spans = ss.spans;
        views.length = spans.length;
        for (let i = 0; i < spans.length; i++) {
          const view = (views[i] = canonicalView(spans[i]!));
          if (view && WORKLOAD_KINDS.has(view.kind)) {
            agentSpan = spans[i];
            agentKind = view.kind;
          }
        }
        this.spans.addAll(spans, views, facts, arrived, covered);
        if (pid && covered.from <= covered.to) this.widen(pid, covered.from, covered.to);
      }
      views.length = 0;
      if (agentSpan && pid) this.announce(pid, rs.resource, () => `${agentKind} span "${agentSpan.name}" of ${facts.serviceName}`);
    }
    // The indexed-spans gauge is set by each round (every tick_interval), not per request: prom-client's label handling costs ~1 µs a call.
    if (!this.next.traces) throw new PermanentError('correlate has no traces consumer after it');
    await this.next.traces.consume(data);
  }

  /**
   * For SDKs that report no `process.pid` (Python's default): the process holding the connection the
   * request came over, on this processor's own index only (the resources pass on as sent, but for the
   * `host.id` such an SDK leaves out: the sender runs here). All resources of a request share its
   * connection.
   */
  private standIn(data: TracesData): number | undefined {
    const senders: Sender[] = [];
    let client: ClientInfo | undefined;
    for (const rs of data.resourceSpans) {
      if (findAttr(rs.resource?.attributes, ATTR.processPid) !== undefined) continue;
      client ??= clientInfoOf(rs.resource);
      senders.push(senderOf(rs.resource?.attributes));
    }
    return senders.length > 0 ? this.sources.owner(client, senders) : undefined;
  }

  /**
   * Tells the host this process is an AI workload, so the sensor watches it from now on; only when the
   * spans came over a connection of that process (or of an ancestor): see SpanSourceCheck.
   */
  private announce(pid: number, resource: Resource | null | undefined, reason: () => string): void {
    if (this.announced.has(pid)) return;
    const client = clientInfoOf(resource);
    const key = client ?? NO_CLIENT;
    let refused = this.refused.get(key);
    if (refused?.has(pid)) return;
    const source = this.sources.check(pid, client);
    if ('reason' in source) {
      this.unverified.inc({ ...this.labels, reason: source.reason });
      if (source.reason === 'rate_limited') return; // checked again with its next spans
      // Once per connection and pid: an agent sends many batches, and a forger would fill the log.
      if (!refused) this.refused.set(key, (refused = new Set()));
      if (refused.size < MAX_REFUSED_PER_CLIENT) refused.add(pid);
      this.settings.logger.warn(
        { pid, reason: source.reason, peer: client?.peer, transport: client?.transport },
        'not announcing a workload: the spans naming this pid did not come from that process',
      );
      return;
    }
    this.announced.add(pid);
    if (this.announced.size > this.config.maxProcesses) this.announced.delete(this.announced.values().next().value!);
    const args = findAttr(resource?.attributes, ATTR.processCommandArgs);
    const name = findAttr(resource?.attributes, ATTR.processExecutableName);
    this.host?.workloads.announce({
      pid,
      evidence: { kind: 'otlp_connection', holderPid: source.holderPid },
      commandArgs: Array.isArray(args) ? args.map(String) : undefined,
      executableName: typeof name === 'string' ? name : undefined,
      reason: reason(),
    });
  }

  private async consumeLogs(data: LogsData): Promise<void> {
    if (this.stopped) throw new RetryableError('correlate processor is shutting down');
    this.ticker?.wake();
    const arrived = this.now();
    const others: ResourceLogs[] = [];
    for (const rl of data.resourceLogs) {
      const resource = rl.resource ?? {};
      const rest = [];
      let proc: KernelProcess | undefined;
      for (const sl of rl.scopeLogs) {
        if (sl.scope?.name !== KERNEL_SCOPE) {
          rest.push(sl);
          continue;
        }
        // Only records receiver/ebpf made are kernel events (provenance, not the scope name); the rest
        // of the scope (its gap records) goes on.
        const passOn = [];
        for (const record of sl.logRecords) {
          const facts = readKernelFacts(record);
          if (!facts) {
            passOn.push(record);
            continue;
          }
          proc ??= readKernelProcess(resource);
          if (this.processes.note(proc.pid, proc.ppid, proc.comm)) this.widen(proc.pid, -Infinity, Infinity);
          const timeUs = int64ToMicros(record.timeUnixNano);
          const fold = facts.kind === 'open' ? (this.folder.classify(facts.target, proc.pid, facts.credential, facts.errorType) ?? null) : null;
          // A plumbing open joins a run of opens (the receiver gives an open no traceparent; a run has none).
          if (fold !== null && facts.wire === undefined) {
            this.openRuns.add(this.held, facts, fold, proc, timeUs, record, resource, arrived);
            continue;
          }
          this.openRuns.end(this.held);
          if (facts.kind === 'fork' && this.processes.note(facts.childPid ?? 0, proc.pid, proc.comm)) this.widen(facts.childPid ?? 0, -Infinity, Infinity);
          this.held.add(new KernelEvent(facts, fold, proc, timeUs, record, resource, arrived));
        }
        this.openRuns.end(this.held);
        if (this.config.forwardKernelEvents || passOn.length === sl.logRecords.length) rest.push(sl);
        else if (passOn.length > 0) rest.push({ ...sl, logRecords: passOn });
      }
      if (rest.length > 0) others.push({ ...rl, scopeLogs: rest });
    }
    this.makeRoom();
    this.heldGauge.set(this.labels, this.held.size);
    if (others.length > 0) {
      if (!this.next.logs) throw new PermanentError('correlate has no logs consumer after it');
      await this.next.logs.consume({ resourceLogs: others });
    }
  }

  /** Over the bound, the oldest held events go out now as unmatched activity: bounded memory, no loss. */
  private makeRoom(): void {
    const over = this.held.size - this.config.maxBufferedEvents;
    if (over <= 0) return;
    const early = this.held.takeOldest(over);
    this.evicted.inc(this.labels, over);
    this.emit(early.map((h) => new Assignment(h, undefined, 'unmatched')));
  }

  /** One matching round; `final` places everything (shutdown). Rounds never overlap. */
  tick(final = false): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = this.round(final).finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async round(final: boolean): Promise<void> {
    const now = this.now();
    const assignments = this.place(now, final);
    this.emit(assignments);
    this.spans.evict(now - 2 * this.config.windowMs);
    this.indexedGauge.set(this.labels, this.spans.size);
    // What the next hop refuses for now waits for the next tick; at shutdown it is counted as dropped.
    await this.pendingEmits.flush(this.stopped);
  }

  /**
   * Matches the held events and takes out those whose span settled or whose window ended. Synchronous
   * and apart from the round's awaits, so V8 optimises this loop as a plain function (a loop inside an
   * async function is compiled with its generator's state around it, and was recompiled as it warmed).
   */
  private place(now: number, final: boolean): Assignment[] {
    const assignments: Assignment[] = [];
    // What stays held is compacted in place: a new array each round cost ~2 words per held event and round.
    const runs = this.held.runs;
    const spans = this.spans;
    const { windowMs, settleMs } = this.config;
    let keptRuns = 0;
    let held = 0;
    let maxDelay = 0;
    // Matching every held event again each round cost ~0.4 µs per event even when nothing could have
    // changed (300k held at 10k events/s: ~115 ms per round, 45% of a core). A lookup by pid and time
    // gives what it gave last round unless a span of the event's process or an ancestor arrived that
    // contains its time (give or take the clock-skew tolerance), its ancestry changed, or its patience
    // ended (then the tolerance applies): an event no span claimed stays unmatched, one matched keeps
    // its span (while that span is indexed) until it settles. An agent gets spans every few hundred ms
    // while the start-up of each process it ran waits the whole window: with any span of the process
    // counting, those were looked up again on each. Wire events are always retried (their span is named by id).
    const changed = this.changed;
    this.changed = new Map();
    const affected = new Map<number, TimeRange>();
    const slack = this.ctx.toleranceUs;
    // Most events of a round fall into a few spans: one SpanRef (its hex ids) per span, not per event.
    const refs = new Map<number, SpanRef>();
    const m = this.found;
    for (let r = 0; r < runs.length; r++) {
      const run = runs[r]!;
      const items = run.items;
      const age = now - run.arrivedAtMs;
      const expired = final || age >= windowMs;
      const patient = !expired && age < windowMs / 2;
      const touched = this.touched(run.pid, changed, affected);
      const from = touched.from - slack;
      const to = touched.to + slack;
      if (!expired && (run.maxUs < from || run.minUs > to) && patient === run.patient && run.unmatched === items.length) {
        // Nothing could match any of them now: the run stays as it is, its items not visited.
        runs[keptRuns++] = run;
        held += run.events;
        continue;
      }
      let kept = 0;
      let unmatched = 0;
      let events = 0;
      /** Items before this index are parts of a run of opens just looked up open by open: their state is this round's answer. */
      let fresh = 0;
      for (let i = 0; i < items.length; i++) {
        let h = items[i]!;
        let matched: boolean;
        if (i < fresh) matched = this.matchedBefore(h, m);
        else if (h instanceof OpenRun) {
          const same = patient === h.patient && (h.maxUs < from || h.minUs > to);
          if (same && h.unmatched) matched = false;
          else if (same && h.matchedSeq !== NO_SEQ && (m.row = spans.rowOf(h.matchedSeq)) !== NONE) {
            m.key = h.matchedKey;
            matched = true;
          } else if (h.minUs === h.maxUs || placedAlike(this.ctx, h.pid, h.minUs, h.maxUs)) matched = this.matchAnew(h, h.times[0]!, patient, m);
          else {
            // A span starts or ends among its opens: looked up one by one, split where they differ.
            const parts = this.split(h, patient, m);
            if (parts.length > 1) {
              items.splice(i, 1, ...parts);
              fresh = i + parts.length;
              h = parts[0]!;
            }
            matched = this.matchedBefore(h, m);
          }
        } else {
          const same = h.wire === null && patient === h.patient && (h.timeUs < from || h.timeUs > to);
          if (same && h.unmatched) matched = false;
          else if (same && h.matchedSeq !== NO_SEQ && (m.row = spans.rowOf(h.matchedSeq)) !== NONE) {
            m.key = h.matchedKey;
            matched = true;
          } else matched = this.matchAnew(h, h.timeUs, patient, m);
        }
        const settled = matched && (final || now - spans.arrivedAtMs(m.row) >= settleMs);
        if (!settled && !expired) {
          items[kept++] = h;
          events += h.size;
          if (unmatchedItem(h)) unmatched++;
          continue;
        }
        // One construction site: a second one, first reached when an event's window ends, had no type feedback until then.
        assignments.push(new Assignment(h, settled ? (refs.get(m.row) ?? this.ref(refs, m.row)) : undefined, settled ? m.key : 'unmatched'));
        if (age > maxDelay) maxDelay = age;
      }
      if (kept === 0) continue;
      items.length = kept;
      run.unmatched = unmatched;
      run.patient = patient;
      run.events = events;
      runs[keptRuns++] = run;
      held += events;
    }
    runs.length = keptRuns;
    this.held.size = held;
    this.heldGauge.set(this.labels, held);
    if (assignments.length > 0) this.latency.set(this.labels, maxDelay);
    return assignments;
  }

  /**
   * Looks `h`'s span up (a run of opens: at one of its times, any giving the same answer), and remembers
   * a match by pid and time for the next rounds (see KernelEvent.matchedSeq).
   */
  private matchAnew(h: Held, timeUs: number, patient: boolean, m: Match): boolean {
    const matched = h instanceof OpenRun ? matchByProcess(this.ctx, h.pid, timeUs, patient, m) : match(h, this.ctx, patient, m);
    this.remember(h, matched, patient, m);
    return matched;
  }

  private remember(h: Held, matched: boolean, patient: boolean, m: Match): void {
    h.unmatched = !matched;
    h.patient = patient;
    h.matchedSeq = matched && (m.key === 'pid_time' || m.key === 'process_tree') ? this.spans.seqOf(m.row) : NO_SEQ;
    h.matchedKey = m.key;
  }

  /** The match `h`'s state holds, as this round's answer (its span is still indexed: the index does not change during a round). */
  private matchedBefore(h: Held, m: Match): boolean {
    if (h.unmatched) return false;
    m.row = this.spans.rowOf(h.matchedSeq);
    m.key = h.matchedKey;
    return true;
  }

  /**
   * A run of opens looked up open by open, as consecutive parts each placed alike (the run itself when
   * all are), each with its answer as its state.
   */
  private split(run: OpenRun, patient: boolean, m: Match): OpenRun[] {
    const parts: OpenRun[] = [];
    const times = run.times;
    let from = 0;
    let matched = matchByProcess(this.ctx, run.pid, times[0]!, patient, m);
    let seq = matched ? this.spans.seqOf(m.row) : NO_SEQ;
    let key = m.key;
    for (let i = 1; i <= times.length; i++) {
      const last = i === times.length;
      const now = !last && matchByProcess(this.ctx, run.pid, times[i]!, patient, m);
      const nowSeq = now ? this.spans.seqOf(m.row) : NO_SEQ;
      if (!last && now === matched && nowSeq === seq && (!now || m.key === key)) continue;
      const part = from === 0 && last ? run : run.slice(from, i);
      part.unmatched = !matched;
      part.patient = patient;
      part.matchedSeq = seq;
      part.matchedKey = key;
      parts.push(part);
      from = i;
      matched = now;
      seq = nowSeq;
      key = m.key;
    }
    return parts;
  }

  private ref(refs: Map<number, SpanRef>, row: number): SpanRef {
    const r = this.spans.ref(row);
    refs.set(row, r);
    return r;
  }

  /**
   * The times changed for `pid` and its known ancestors (see `changed`), as one range (what a
   * lookup for the process can find anew lies within it); empty when none changed. Memoised per round in `memo`.
   */
  private touched(pid: number, changed: ReadonlyMap<number, TimeRange>, memo: Map<number, TimeRange>): TimeRange {
    let hit = memo.get(pid);
    if (hit !== undefined) return hit;
    hit = { from: Infinity, to: -Infinity };
    for (let a = pid, depth = 0; a > 0 && depth <= MAX_ANCESTRY; a = this.processes.parentOf(a), depth++) {
      const r = changed.get(a);
      if (r) {
        hit.from = Math.min(hit.from, r.from);
        hit.to = Math.max(hit.to, r.to);
      }
      if (depth > 0 && a === pid) break; // a loop of parents (pid reuse)
    }
    memo.set(pid, hit);
    return hit;
  }

  /** Notes that lookups by pid and time for `pid` may find something new between `from` and `to` (µs). */
  private widen(pid: number, from: number, to: number): void {
    const r = this.changed.get(pid);
    if (!r) this.changed.set(pid, { from, to });
    else {
      if (from < r.from) r.from = from;
      if (to > r.to) r.to = to;
    }
  }

  private emit(assignments: Assignment[]): void {
    if (assignments.length === 0) return;
    // One counter update per key, not per event: prom-client's label handling costs ~1 µs a call.
    const byKey = new Map<Assignment['key'], number>();
    for (const a of assignments) byKey.set(a.key, (byKey.get(a.key) ?? 0) + a.ev.size);
    for (const [key, n] of byKey) this.placed.inc({ ...this.labels, key }, n);
    const { data } = this.builder.build(assignments);
    this.pendingEmits.push(data);
  }

  private countDropped(data: TracesData, reason: string): void {
    const n = countSpans(data);
    this.dropped.inc({ ...this.labels, signal: 'traces', reason }, n);
    this.settings.logger.warn({ spans: n, reason }, 'dropped spans made from kernel events');
  }
}

function senderOf(resource: KeyValue[] | undefined): Sender {
  const language = findAttr(resource, ATTR.telemetrySdkLanguage);
  const sdkLanguage = typeof language === 'string' ? language : undefined;
  const identity = `${String(findAttr(resource, ATTR.serviceName) ?? '')}\0${String(findAttr(resource, ATTR.serviceInstanceId) ?? '')}\0${sdkLanguage ?? ''}`;
  return { identity, sdkLanguage };
}

function countSpans(data: TracesData): number {
  let n = 0;
  for (const rs of data.resourceSpans) for (const ss of rs.scopeSpans) n += ss.spans.length;
  return n;
}

type Registry = CreateSettings['metrics'];

/** One metric per registry, shared by every instance of the processor. */
function shared<L extends string>(m: Registry, name: string, help: string, labels: readonly L[]) {
  return (m.registry.getSingleMetric(name) as ReturnType<Registry['counter']> | undefined) ?? m.counter(name, help, labels);
}

function sharedGauge<L extends string>(m: Registry, name: string, help: string, labels: readonly L[]) {
  return (m.registry.getSingleMetric(name) as ReturnType<Registry['gauge']> | undefined) ?? m.gauge(name, help, labels);
}
