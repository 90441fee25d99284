import type { Component, CreateSettings, Host } from '../../pipeline/component.js';
import { PermanentError, type Consumers } from '../../pipeline/consumer.js';
import { countDeviation, deviationData, DeviationLimiter, type Deviation } from '../../pipeline/deviation/index.js';
import { findStringAttr } from '../../pipeline/otlp/attributes.js';
import type { LogsData, Span, TracesData } from '../../pipeline/otlp/types.js';
import { endMicros, startMicros } from '../../pipeline/otlp/span-view.js';
import { TraceHex } from '../../pipeline/otlp/trace-hex.js';
import { ATTR } from '../../pipeline/semconv.js';
import { WorkTicker } from '../../pipeline/work-ticker.js';
import { readKernelSpan } from '../aibom/kernel-span.js';
import { canonicalContent, canonicalView, hasContent, type CanonicalKind, type CanonicalSpan } from '../normalize/index.js';
import type { ProvenanceConfig } from './config.js';
import { INSTRUCTION_RULE } from './rules.js';
import { SharedPieces } from './pieces.js';
import { TraceView, type ViewLimits } from './trace-view.js';

/** Instrumentation scope of provenance's deviations. */
export const PROVENANCE_SCOPE = 'aibom.provenance';
/** Agents whose content-capture state is remembered (the gauge's label values). */
const MAX_AGENTS = 1_024;
/** Span kinds whose content provenance reads. */
const CONTENT_KINDS: ReadonlySet<CanonicalKind> = new Set(['llm', 'agent', 'tool', 'mcp_client', 'retriever']);


type CloseReason = 'settled' | 'max_age' | 'overflow' | 'shutdown';

/**
 * Misuse detection by provenance. Spans pass on at once and unchanged; on the side, each trace with
 * agent spans gets a TraceView (hashes of what the user asked and what the agent read, the tool calls'
 * values, the kernel facts under them). When the trace settles, it is evaluated once and forgotten;
 * its deviations go out as `aibom.deviation` log records and `deviation <rule>` child spans.
 */
export class ProvenanceProcessor implements Component, Consumers {
  private readonly open = new Map<string, TraceView>();
  /** `oldestOpen`'s iterator over `open`, kept across calls, and the view it gave last. */
  private oldestIt: Iterator<TraceView> | undefined;
  private oldestGiven: TraceView | undefined;
  /** Content hashes held by the open traces (bounded by max_total_entries). */
  private totalEntries = 0;
  /** Pieces of content the open traces read, shared between them (each piece read once while held). */
  private readonly pieces = new SharedPieces();
  /** The trace id of the span being read, made hex once per run of spans of one trace. */
  private readonly traceHex = new TraceHex();
  private readonly limiter: DeviationLimiter;
  private readonly version: string;
  /** Per agent: whether its last trace with tool spans carried content (logged once per change). */
  private readonly contentByAgent = new Map<string, boolean>();
  /** Ticks while traces are open: none in an idle collector. */
  private ticker: WorkTicker | undefined;
  private stopped = false;
  private readonly labels;
  private readonly m;
  private readonly limits: ViewLimits;

  readonly traces = { consume: (data: TracesData) => this.consumeTraces(data) };
  readonly logs = { consume: (data: LogsData) => this.forwardLogs(data) };

  constructor(
    private readonly settings: CreateSettings,
    private readonly config: ProvenanceConfig,
    private readonly next: Consumers,
    private readonly now: () => number = Date.now,
  ) {
    this.version = settings.build?.version ?? '';
    this.limits = { maxEntries: config.maxEntriesPerTrace, maxItems: config.maxItemsPerTrace, ignorePaths: config.ignorePaths };
    this.limiter = new DeviationLimiter({ dedupeWindowMs: config.dedupeWindowMs, maxPerMinute: config.maxPerMinute, maxKeys: 16_384 }, now);
    const metrics = settings.metrics;
    this.labels = { component: settings.id };
    this.m = {
      open: metrics.gauge('aibom_provenance_open_traces', 'Traces whose provenance view is held, waiting to settle.', ['component']),
      closed: metrics.counter('aibom_provenance_traces_total', 'Traces evaluated, by why: settled, max_age (still receiving spans), overflow (max_open_traces or max_total_entries reached, evaluated early), shutdown.', ['component', 'reason']),
      truncated: metrics.counter('aibom_provenance_truncated_traces_total', 'Traces whose content or items exceeded a per-trace bound (max_entries_per_trace, max_items_per_trace): evaluated on what was kept.', ['component']),
      late: metrics.counter('aibom_provenance_late_spans_total', 'Kernel spans that arrived after their trace was evaluated (raise settle if this grows).', ['component']),
      suppressed: metrics.counter('aibom_provenance_suppressed_total', 'Deviations not emitted: duplicate within dedupe_window or over max_per_minute.', ['component', 'rule', 'reason']),
      content: metrics.gauge('aibom_provenance_content_available', '1 when the agent\'s last trace with tool calls carried their arguments or results (content capture on), 0 when not: provenance detection needs it.', ['agent']),
      errors: metrics.counter('aibom_provenance_errors_total', 'Batches provenance could not read; spans passed on unchanged.', ['component']),
      dropped: metrics.processorDropped,
    };
  }

  async start(_host: Host): Promise<void> {
    if (this.ticker || this.stopped) return;
    this.ticker = new WorkTicker(this.config.tickMs, () => this.tick(), () => this.open.size > 0);
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.ticker?.stop();
    await this.closeAll('shutdown');
  }

  private async consumeTraces(data: TracesData): Promise<void> {
    if (!this.next.traces) throw new PermanentError('provenance has no traces consumer after it');
    this.ticker?.wake();
    const overflowed: TraceView[] = [];
    try {
      this.observe(data, overflowed);
    } catch (err) {
      this.m.errors.inc(this.labels);
      this.settings.logger.warn({ err }, 'provenance could not read a batch; spans passed on unchanged');
    }
    await this.next.traces.consume(data);
    if (overflowed.length > 0) await this.emit(overflowed, 'overflow');
  }

  private async forwardLogs(data: LogsData): Promise<void> {
    if (!this.next.logs) throw new PermanentError('provenance has no logs consumer after it');
    await this.next.logs.consume(data);
  }

  /** Reads a batch into the open views. Nothing here keeps a reference to the spans. */
  observe(data: TracesData, overflowed: TraceView[] = []): void {
    const now = this.now();
    /** Agent spans without content of traces not open (yet), with their views: kept only if this batch opens their trace. */
    let waiting: (Span | CanonicalSpan)[] | undefined;
    /** Traces this batch opened: none, and no waiting span can find its trace (each looked when it came). */
    let opened = 0;
    // Indexed loops: `for...of` made an iterator result per span where this runs unoptimised (once per batch).
    for (let ri = 0; ri < data.resourceSpans.length; ri++) {
      const rs = data.resourceSpans[ri]!;
      let service: string | undefined;
      for (let si = 0; si < rs.scopeSpans.length; si++) {
        const ss = rs.scopeSpans[si]!;
        for (let pi = 0; pi < ss.spans.length; pi++) {
          const span = ss.spans[pi]!;
          // Span and parent ids are read only for a span of an open trace (most spans are of none), and not made hex (span-ids.ts).
          const traceId = this.traceHex.of(span);
          const kernel = readKernelSpan(span, ss.scope?.name);
          if (kernel) {
            const v = this.open.get(traceId);
            if (!v) {
              this.m.late.inc(this.labels);
              continue;
            }
            // Kernel spans do not hold the trace open: a long-lived MCP server keeps producing them
            // under its first tool call; `settle` after the last agent span covers their 1-2 s delay.
            v.addKernel(span, startMicros(span), kernel);
            continue;
          }
          const view = canonicalView(span);
          let v = this.open.get(traceId);
          if (!view || !CONTENT_KINDS.has(view.kind)) {
            // Process spans and other spans between a tool and its kernel spans keep the path up.
            if (v) v.parent(span);
            continue;
          }
          const content = hasContent(span, view);
          if (!v) {
            // A trace is held for content, or for a tool span (whether the agent captures content at
            // all); an LLM or agent span without content only adds to a trace something else opened.
            if (!content && view.kind !== 'tool' && view.kind !== 'mcp_client') {
              (waiting ??= []).push(span, view);
              continue;
            }
            if (this.open.size >= this.config.maxOpenTraces) {
              const oldest = this.oldestOpen();
              this.forget(oldest);
              overflowed.push(oldest);
            }
            service ??= findStringAttr(rs.resource?.attributes, ATTR.serviceName) ?? 'unknown_service';
            // An agent found without content (its last trace with tool calls had none): held light for the gauge.
            v = new TraceView(traceId, service, now, this.limits, this.pieces, this.contentByAgent.get(service) === false);
            this.open.set(traceId, v);
            opened++;
          }
          this.add(v, span, view, content, now);
          // Over the budget of all open traces: the oldest go first (evaluated on what they hold).
          while (this.totalEntries > this.config.maxTotalEntries && this.open.size > 1) {
            const oldest = this.oldestOpen();
            if (oldest === v) break;
            this.forget(oldest);
            overflowed.push(oldest);
          }
        }
      }
    }
    // Spans of one trace come in any order across scopes: an LLM span may precede the tool span that opens its trace.
    for (let i = 0; opened > 0 && i < (waiting?.length ?? 0); i += 2) {
      const span = waiting![i] as Span;
      const v = this.open.get(this.traceHex.of(span));
      if (v) this.add(v, span, waiting![i + 1] as CanonicalSpan, false, now);
    }
    this.m.open.set(this.labels, this.open.size);
  }

  /**
   * An agent span into its trace's view. Its name and times are read, and a reference to it made,
   * only for its content, when it has some: a span without content adds its parent, and an LLM span
   * its end (neither while the view is light: see TraceView); a span with content makes it whole.
   */
  private add(v: TraceView, span: Span, view: CanonicalSpan, content: boolean, now: number): void {
    v.lastMs = now;
    if (content) v.withContent();
    v.parent(span);
    const endUs = view.kind === 'llm' || content ? endMicros(span) : 0;
    v.addSpan(span, view, endUs);
    if (!content) return;
    const before = v.entries;
    v.addContent({ spanId: v.spanId(span), name: span.name, startUs: startMicros(span), endUs }, view, canonicalContent(span, view));
    this.totalEntries += v.entries - before;
  }

  /** Evaluates the traces that settled (or grew too old). */
  async tick(): Promise<void> {
    const now = this.now();
    const due: [TraceView, CloseReason][] = [];
    // forEach, not `for...of`: an iterator result per open trace on every tick where this runs unoptimised.
    this.open.forEach((v) => {
      if (now - v.lastMs >= this.config.settleMs) due.push([v, 'settled']);
      else if (now - v.openedMs >= this.config.maxTraceAgeMs) due.push([v, 'max_age']);
    });
    for (const [v] of due) this.forget(v);
    this.m.open.set(this.labels, this.open.size);
    for (const reason of ['settled', 'max_age'] as const) {
      const list = due.filter(([, r]) => r === reason).map(([v]) => v);
      if (list.length > 0) await this.emit(list, reason);
    }
  }

  /**
   * The open trace opened first (`open` is not empty). From one iterator kept across calls, as
   * pipeline/bounded-map.ts does: a fresh `values()` per call walks every entry deleted since V8
   * last rehashed the table before it finds a live one (under load a trace is pushed out for every
   * trace opened). Every view it gives is forgotten by the caller, or given again while it is open.
   */
  private oldestOpen(): TraceView {
    const given = this.oldestGiven;
    if (given && this.open.get(given.traceId) === given) return given;
    let next = (this.oldestIt ??= this.open.values()).next();
    if (next.done) next = (this.oldestIt = this.open.values()).next();
    return (this.oldestGiven = next.value as TraceView);
  }

  private forget(v: TraceView): void {
    this.open.delete(v.traceId);
    this.totalEntries -= v.entries;
    v.release();
  }

  private async closeAll(reason: CloseReason): Promise<void> {
    const list = [...this.open.values()];
    for (const v of list) v.release();
    this.open.clear();
    this.totalEntries = 0;
    this.m.open.set(this.labels, 0);
    if (list.length > 0) await this.emit(list, reason);
  }

  private async emit(views: TraceView[], reason: CloseReason): Promise<void> {
    this.m.closed.inc({ ...this.labels, reason }, views.length);
    const byService = new Map<string, { d: Deviation; count: number }[]>();
    for (const v of views) {
      if (v.truncated || v.overflow > 0) this.m.truncated.inc(this.labels);
      this.noteContent(v);
      let found: Deviation[];
      try {
        found = v.evaluate();
      } catch (err) {
        this.m.errors.inc(this.labels);
        this.settings.logger.warn({ err, traceId: v.traceId }, 'provenance could not evaluate a trace');
        continue;
      }
      for (const d of found) {
        if (d.rule.id === INSTRUCTION_RULE.id && !this.config.instructions) continue;
        const verdict = this.limiter.check(d);
        if (!verdict.emit) {
          this.m.suppressed.inc({ ...this.labels, rule: d.rule.id, reason: verdict.reason });
          continue;
        }
        countDeviation(this.settings.metrics, d);
        const list = byService.get(v.serviceName) ?? [];
        list.push({ d, count: verdict.count });
        byService.set(v.serviceName, list);
      }
    }
    for (const [serviceName, items] of byService) {
      const { logs, traces } = deviationData(items, { scope: PROVENANCE_SCOPE, scopeVersion: this.version, serviceName });
      await this.send('logs', logs, items.length);
      await this.send('traces', traces, items.length);
    }
  }

  private async send(signal: 'logs' | 'traces', data: LogsData | TracesData, n: number): Promise<void> {
    try {
      if (signal === 'logs') {
        if (!this.next.logs) throw new PermanentError('provenance is in no logs pipeline, so its deviation records have nowhere to go');
        await this.next.logs.consume(data as LogsData);
      } else await this.next.traces!.consume(data as TracesData);
    } catch (err) {
      this.m.dropped.inc({ ...this.labels, signal, reason: err instanceof PermanentError ? 'next_permanent_error' : 'next_error' }, n);
      this.settings.logger.warn({ err, signal }, 'provenance deviations were refused by the next hop');
    }
  }

  /** The gauge per agent, and one log line whenever an agent's content capture is found off (or back on). */
  private noteContent(v: TraceView): void {
    if (v.toolSpans === 0) return;
    const has = v.hasContent;
    const before = this.contentByAgent.get(v.serviceName);
    if (before === undefined && this.contentByAgent.size >= MAX_AGENTS) return;
    this.m.content.set({ agent: v.serviceName }, has ? 1 : 0);
    if (before === has) return;
    this.contentByAgent.set(v.serviceName, has);
    if (!has) {
      this.settings.logger.warn(
        { agent: v.serviceName },
        'provenance: this agent sends tool spans without their arguments or results, so misuse by provenance (tool-argument-from-untrusted-content) cannot be detected for it; baselines still apply. Turn content capture on (OpenInference records it by default; OpenLLMetry TRACELOOP_TRACE_CONTENT=true; OTel GenAI OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true)',
      );
    } else if (before === false) this.settings.logger.info({ agent: v.serviceName }, 'provenance: this agent now sends tool content; provenance detection is on for it');
  }
}

