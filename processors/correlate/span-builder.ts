import { randomFillSync } from 'node:crypto';
import { BoundedMap } from '../../pipeline/bounded-map.js';
import { attr, bigIntToLong, findAttr, int64ToBigInt } from '../../pipeline/otlp/attributes.js';
import type { KeyValue, ResourceSpans, Span, TracesData } from '../../pipeline/otlp/types.js';
import { SpanKind } from '../../pipeline/otlp/types.js';
import { ATTR, CORRELATE_SCOPE } from '../../pipeline/semconv.js';
import { foldedName, type Fold, type Folder } from './fold.js';
import type { KernelEvent } from './kernel-event.js';
import type { CorrelationKey } from './matcher.js';
import type { SpanRef } from './span-index.js';

/** A kernel event and where it goes; `parent` undefined = no span caused it (process activity). */
export class Assignment {
  constructor(
    readonly ev: KernelEvent,
    readonly parent: SpanRef | undefined,
    readonly key: CorrelationKey | 'unmatched',
  ) {}
}

interface Context {
  traceId: string;
  spanId: string;
  serviceName: string;
  /** Set when the parent span's pid was not in its resource but is the process holding its OTLP connection. */
  pidSource?: 'otlp_connection';
}

interface Group {
  ctx: Context;
  count: number;
  first: KernelEvent;
  last: KernelEvent;
  key: Assignment['key'];
  /** Set when the group stands for plumbing opens folded by a rule. */
  fold: FoldGroup | undefined;
}

/** Opens one rule folds under one parent and root, with their distinct paths in the order seen. */
interface FoldGroup {
  fold: Fold;
  key: string;
  paths: Set<string>;
}

/** A fold applies once it groups this many distinct paths; a single plumbing file keeps its plain span. */
const MIN_FOLDED_PATHS = 2;

const ID_POOL = Buffer.alloc(8 * 1024);
let idOffset = ID_POOL.length;

function randomId(bytes: 8 | 16): string {
  if (idOffset + bytes > ID_POOL.length) {
    randomFillSync(ID_POOL);
    idOffset = 0;
  }
  const hex = ID_POOL.toString('hex', idOffset, idOffset + bytes);
  idOffset += bytes;
  return hex;
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function spanName(g: Group): string {
  return g.first.target ? `${g.first.kind} ${g.first.target}` : g.first.kind;
}

/** Resource facts a process span repeats, so the trace alone tells which process it was. */
const PROCESS_FACTS = new Set<string>([
  ATTR.processPid, ATTR.processParentPid, ATTR.processExecutableName, ATTR.processExecutablePath, ATTR.processCommandArgs, ATTR.processUserId,
  ATTR.containerId, ATTR.k8sPodUid, ATTR.k8sPodName, ATTR.k8sNamespaceName,
  // Whether the process was seen from its start (receiver/ebpf): a process span says how far to trust its absence of activity.
  ATTR.monitorReason, ATTR.monitorCoverage, ATTR.monitorPartialReason, ATTR.monitorSince, ATTR.monitorEnvMarker,
]);

/** What an exit says, kept on the process span that absorbs it. */
const EXIT_FACTS = new Set<string>([ATTR.processExitCode, ATTR.processExitSignal]);

const nanos = (ev: KernelEvent) => int64ToBigInt(ev.record.timeUnixNano);

/**
 * Turns assigned kernel events into spans: one span per distinct action (kind + target) under each
 * parent, with `aibom.kernel.count` for repeats, so a trace stays readable however busy the process.
 * Activity of a process other than the parent span's own is grouped under one span for that process
 * (its pid, executable and arguments), so a trace reads tool call -> MCP server process -> file.
 * Unmatched events get one root per process and window.
 */
export class SpanBuilder {
  private readonly processSpans: BoundedMap<string, string>;
  private readonly activityRoots: BoundedMap<string, Context>;
  private readonly madeNow = new Map<string, Span>();

  constructor(
    remember: number,
    private readonly windowUs: number,
    private readonly folder: Folder,
    private readonly scopeVersion: string,
  ) {
    this.processSpans = new BoundedMap(remember);
    this.activityRoots = new BoundedMap(remember);
  }

  build(assignments: readonly Assignment[]): { data: TracesData; spans: number } {
    const out = new Output(this.scopeVersion);
    this.madeNow.clear();
    const placed = assignments.map((a) => ({ a, ...(a.parent ? this.underSpan(a, out) : { ctx: this.underActivityRoot(a, out), absorbed: false }) }));
    const folds = this.folds(placed);
    const groups = new Map<string, Group>();
    placed.forEach(({ a, ctx, absorbed }, i) => {
      if (absorbed || this.toldByProcessSpan(a, ctx)) return;
      const f = folds[i];
      const folded = f && f.paths.size >= MIN_FOLDED_PATHS ? f : undefined;
      const gk = folded ? folded.key : `${ctx.spanId}|${a.ev.kind}|${a.ev.target}`;
      const g = groups.get(gk);
      if (!g) groups.set(gk, { ctx, count: a.ev.count, first: a.ev, last: a.ev, key: a.key, fold: folded });
      else {
        g.count += a.ev.count;
        if (a.ev.timeUs < g.first.timeUs) g.first = a.ev;
        if (a.ev.timeUs > g.last.timeUs) g.last = a.ev;
      }
    });
    for (const g of groups.values()) {
      out.add(g.first, g.ctx.serviceName, {
        traceId: Buffer.from(g.ctx.traceId, 'hex'),
        spanId: Buffer.from(randomId(8), 'hex'),
        parentSpanId: Buffer.from(g.ctx.spanId, 'hex'),
        name: g.fold ? foldedName(g.fold.fold, g.fold.paths.size) : spanName(g),
        kind: SpanKind.INTERNAL,
        startTimeUnixNano: bigIntToLong(nanos(g.first)),
        endTimeUnixNano: bigIntToLong(nanos(g.last)),
        attributes: [...(g.fold ? this.foldAttributes(g.fold) : (g.first.record.attributes ?? [])), attr(ATTR.kernelKind, g.first.kind), attr(ATTR.kernelCount, g.count), attr(ATTR.correlationKey, g.key), ...(g.ctx.pidSource ? [attr(ATTR.processPidSource, g.ctx.pidSource)] : [])],
      });
      // A process span made in this build covers the activity placed under it.
      const holder = this.madeNow.get(g.ctx.spanId);
      if (holder) {
        if (nanos(g.first) < int64ToBigInt(holder.startTimeUnixNano)) holder.startTimeUnixNano = bigIntToLong(nanos(g.first));
        if (nanos(g.last) > int64ToBigInt(holder.endTimeUnixNano)) holder.endTimeUnixNano = bigIntToLong(nanos(g.last));
      }
    }
    return { data: out.data(), spans: out.count };
  }

  /**
   * Forks and exits that a process span already tells: a fork whose child has its process span under
   * the same parent (the nesting shows it), and the exit of the process a span of this build stands
   * for (its exit code becomes the span's attribute and the exit its end).
   */
  private toldByProcessSpan(a: Assignment, ctx: Context): boolean {
    if (a.ev.kind === 'fork') return a.parent !== undefined && a.ev.childPid !== 0 && this.processSpans.get(`${a.parent.spanId}:${a.ev.childPid}`) !== undefined;
    if (a.ev.kind !== 'exit') return false;
    const holder = this.madeNow.get(ctx.spanId);
    if (!holder) return false;
    (holder.attributes ??= []).push(...(a.ev.record.attributes ?? []).filter((kv) => EXIT_FACTS.has(kv.key)));
    if (nanos(a.ev) > int64ToBigInt(holder.endTimeUnixNano)) holder.endTimeUnixNano = bigIntToLong(nanos(a.ev));
    return true;
  }

  /**
   * The fold group of every placed open (by index): one group per parent span, rule and root.
   * Credential reads and paths no rule matches get none.
   */
  private folds(placed: readonly { a: Assignment; ctx: Context; absorbed: boolean }[]): (FoldGroup | undefined)[] {
    const groups = new Map<string, FoldGroup>();
    return placed.map(({ a, ctx, absorbed }) => {
      const ev = a.ev;
      if (ev.kind !== 'open' || absorbed) return undefined;
      const fold = this.folder.classify(ev.target, ev.pid, ev.credential, ev.errorType);
      if (!fold) return undefined;
      const key = `${ctx.spanId}|${fold.rule.name}|${fold.root}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { fold, key, paths: new Set() }));
      g.paths.add(ev.target);
      return g;
    });
  }

  /** What a folded span stands for: rule, root, how many distinct files, and the first of them. */
  private foldAttributes({ fold, paths }: FoldGroup): KeyValue[] {
    const sample: string[] = [];
    for (const p of paths) {
      if (sample.length === this.folder.config.samplePaths) break;
      sample.push(p);
    }
    return [
      attr(ATTR.foldRule, fold.rule.name),
      ...(fold.root ? [attr(ATTR.fileDirectory, fold.root)] : []),
      attr(ATTR.fileDistinctPaths, paths.size),
      attr(ATTR.foldSamplePaths, sample),
    ];
  }

  /**
   * The span itself for its own process; else the span of this process under it (made once).
   * `absorbed`: the event is the exec that span stands for, so it needs no span of its own.
   */
  private underSpan(a: Assignment, out: Output): { ctx: Context; absorbed: boolean } {
    const parent = a.parent!;
    const base: Context = { traceId: parent.traceId, spanId: parent.spanId, serviceName: parent.serviceName, pidSource: parent.pidSource };
    if (a.ev.pid === parent.pid || !parent.pid) return { ctx: base, absorbed: false };
    const pk = `${parent.spanId}:${a.ev.pid}`;
    const known = this.processSpans.get(pk);
    if (known) return { ctx: { ...base, spanId: known }, absorbed: false };
    // A child of a process that already has a span under this parent nests inside it.
    const parentProcess = this.processSpans.get(`${parent.spanId}:${a.ev.ppid}`);
    const spanId = randomId(8);
    this.processSpans.set(pk, spanId);
    out.add(a.ev, parent.serviceName, this.processSpan(a, base.traceId, spanId, parentProcess ?? parent.spanId));
    return { ctx: { ...base, spanId }, absorbed: a.ev.kind === 'exec' };
  }

  private underActivityRoot(a: Assignment, out: Output): Context {
    const bucket = Math.floor(a.ev.timeUs / this.windowUs);
    const rk = `${a.ev.pid}:${bucket}`;
    const known = this.activityRoots.get(rk);
    if (known) return known;
    const serviceName = String(findAttr(a.ev.resource.attributes, ATTR.serviceName) ?? `unknown_service:${a.ev.comm}`);
    const ctx: Context = { traceId: randomId(16), spanId: randomId(8), serviceName };
    this.activityRoots.set(rk, ctx);
    const root = this.processSpan(a, ctx.traceId, ctx.spanId, undefined);
    root.name = `process activity ${a.ev.comm} (pid ${a.ev.pid})`;
    out.add(a.ev, serviceName, root);
    return ctx;
  }

  private processSpan(a: Assignment, traceId: string, spanId: string, parentSpanId: string | undefined): Span {
    const r = a.ev.resource.attributes ?? [];
    const exe = findAttr(r, ATTR.processExecutablePath);
    const time = bigIntToLong(nanos(a.ev));
    const span: Span = {
      traceId: Buffer.from(traceId, 'hex'),
      spanId: Buffer.from(spanId, 'hex'),
      parentSpanId: parentSpanId ? Buffer.from(parentSpanId, 'hex') : Buffer.alloc(0),
      name: a.ev.kind === 'exec' ? `exec ${a.ev.target}` : `process ${typeof exe === 'string' ? basename(exe) : a.ev.comm} (pid ${a.ev.pid})`,
      kind: SpanKind.INTERNAL,
      startTimeUnixNano: time,
      endTimeUnixNano: time,
      attributes: [...r.filter((kv) => PROCESS_FACTS.has(kv.key)), attr(ATTR.kernelKind, 'process'), attr(ATTR.correlationKey, a.key)],
    };
    if (a.ev.kind === 'exec') span.attributes!.push(attr(ATTR.processExecUnderParent, true));
    this.madeNow.set(spanId, span);
    return span;
  }
}

/** Collects spans into one ResourceSpans per (service, process). */
class Output {
  private readonly resources = new Map<string, ResourceSpans>();
  count = 0;

  constructor(private readonly scopeVersion: string) {}

  add(ev: KernelEvent, serviceName: string, span: Span): void {
    const rk = `${serviceName}|${ev.pid}`;
    let rs = this.resources.get(rk);
    if (!rs) {
      const attributes = (ev.resource.attributes ?? []).filter((kv) => kv.key !== ATTR.serviceName);
      rs = {
        resource: { attributes: [attr(ATTR.serviceName, serviceName), ...attributes] },
        scopeSpans: [{ scope: { name: CORRELATE_SCOPE, version: this.scopeVersion }, spans: [] }],
      };
      this.resources.set(rk, rs);
    }
    rs.scopeSpans[0]!.spans.push(span);
    this.count++;
  }

  data(): TracesData {
    return { resourceSpans: [...this.resources.values()] };
  }
}
