import { randomFillSync } from 'node:crypto';
import Long from 'long';
import { BoundedMap } from '../../pipeline/bounded-map.js';
import { attr, bigIntToLong, findAttr, int64ToBigInt } from '../../pipeline/otlp/attributes.js';
import type { Int64, KeyValue, ResourceSpans, Span, TracesData } from '../../pipeline/otlp/types.js';
import { SpanKind } from '../../pipeline/otlp/types.js';
import { ATTR, CORRELATE_SCOPE } from '../../pipeline/semconv.js';
import { foldedName, type Fold } from './fold.js';
import { OpenRun, type Held } from './kernel-event.js';
import type { CorrelationKey } from './matcher.js';
import type { SpanRef } from './span-index.js';

/** A kernel event (or a run of opens) and where it goes; `parent` undefined = no span caused it (process activity). */
export class Assignment {
  constructor(
    readonly ev: Held,
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

/** The events one span stands for; its first and last event each as an item and the event's place in it. */
class Group {
  constructor(
    readonly ctx: Context,
    public count: number,
    public first: Held,
    public firstAt: number,
    public last: Held,
    public lastAt: number,
    readonly key: Assignment['key'],
    /** Set when the group stands for plumbing opens folded by a rule. */
    readonly fold: FoldGroup | undefined,
  ) {}
}

/** Opens one rule folds under one parent and root, with their distinct paths in the order seen. */
interface FoldGroup {
  fold: Fold;
  paths: Set<string>;
  /** Its span's group, once an open of it is grouped (when it has MIN_FOLDED_PATHS paths). */
  group: Group | undefined;
}

/**
 * The groups of one build under one span id: plain ones by kind and target, folded ones by rule and
 * root. Maps of maps rather than one map keyed by `${spanId}|${kind}|${target}`: no string per event.
 */
class Groups {
  readonly plain = new Map<string, Map<string, Group>>();
  readonly folds = new Map<string, Map<string, FoldGroup>>();

  fold(fold: Fold): FoldGroup {
    let byRoot = this.folds.get(fold.rule.name);
    if (!byRoot) this.folds.set(fold.rule.name, (byRoot = new Map()));
    let g = byRoot.get(fold.root);
    if (!g) byRoot.set(fold.root, (g = { fold, paths: new Set(), group: undefined }));
    return g;
  }

  byTarget(kind: string): Map<string, Group> {
    let byTarget = this.plain.get(kind);
    if (!byTarget) this.plain.set(kind, (byTarget = new Map()));
    return byTarget;
  }
}

/** Where the events of one process under one parent span go in a build: worked out once, not per event. */
interface Placement {
  ctx: Context;
  groups: Groups;
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
  const target = targetAt(g.first, g.firstAt);
  return target ? `${g.first.kind} ${target}` : g.first.kind;
}

/** An item's `i`-th event (0 for an event): its time (µs), record, target and count. */
const timeUsAt = (h: Held, i: number) => (h instanceof OpenRun ? h.times[i]! : h.timeUs);
const recordAt = (h: Held, i: number) => (h instanceof OpenRun ? h.records.recordAt(i) : h.record);
/** `recordAt(h, i).timeUnixNano` without making a run's record. */
const timeAt = (h: Held, i: number) => (h instanceof OpenRun ? h.records.timeAt(i) : h.record.timeUnixNano);
const targetAt = (h: Held, i: number) => (h instanceof OpenRun ? h.paths[i]! : h.target);

/** Resource facts a process span repeats, so the trace alone tells which process it was. */
const PROCESS_FACTS = new Set<string>([
  ATTR.processPid, ATTR.processParentPid, ATTR.processExecutableName, ATTR.processExecutablePath, ATTR.processCommandArgs, ATTR.processUserId,
  ATTR.containerId, ATTR.k8sPodUid, ATTR.k8sPodName, ATTR.k8sNamespaceName,
  // Whether the process was seen from its start (receiver/ebpf): a process span says how far to trust its absence of activity.
  ATTR.monitorReason, ATTR.monitorCoverage, ATTR.monitorPartialReason, ATTR.monitorSince, ATTR.monitorEnvMarker,
]);

/** What an exit says, kept on the process span that absorbs it. */
const EXIT_FACTS = new Set<string>([ATTR.processExitCode, ATTR.processExitSignal]);

/** The event's time (its record's) as a span's: the record's own unsigned Long (immutable, so shared), not one made through a string. */
function timeOf(t: Int64 | undefined): Long {
  return Long.isLong(t) && t.unsigned ? t : bigIntToLong(int64ToBigInt(t));
}

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
    /** Paths a folded span lists (`fold.sample_paths`). */
    private readonly samplePaths: number,
    private readonly scopeVersion: string,
  ) {
    this.processSpans = new BoundedMap(remember);
    this.activityRoots = new BoundedMap(remember);
  }

  build(assignments: readonly Assignment[]): { data: TracesData; spans: number } {
    const out = new Output(this.scopeVersion);
    this.madeNow.clear();
    // Per slice only array slots: an assignment's events under one context (all of them, but for a run
    // of opens of no span whose times cross a window's bucket), whose context and groups come from its
    // (parent span, process) pair, worked out once per build. A run of opens is added to its group as
    // its opens one after another would be.
    const sliced: Assignment[] = [];
    const froms: number[] = [];
    const tos: number[] = [];
    const ctxs: Context[] = [];
    const groupsOf: Groups[] = [];
    const absorbed: boolean[] = [];
    const placements = new Map<SpanRef, Map<number, Placement>>();
    const bySpanId = new Map<string, Groups>();
    const groupsFor = (spanId: string) => {
      let g = bySpanId.get(spanId);
      if (!g) bySpanId.set(spanId, (g = new Groups()));
      return g;
    };
    const slice = (a: Assignment, from: number, to: number, ctx: Context, groups: Groups, isExec: boolean) => {
      sliced.push(a);
      froms.push(from);
      tos.push(to);
      ctxs.push(ctx);
      groupsOf.push(groups);
      absorbed.push(isExec);
    };
    for (let i = 0; i < assignments.length; i++) {
      const a = assignments[i]!;
      const h = a.ev;
      if (!a.parent) {
        // One root per process and window bucket: a run of opens is cut where its bucket changes.
        let from = 0;
        let bucket = this.bucketOf(timeUsAt(h, 0));
        for (let j = 1; j <= h.size; j++) {
          const b = j < h.size ? this.bucketOf(timeUsAt(h, j)) : NaN;
          if (b === bucket) continue;
          const ctx = this.underActivityRoot(a, from, out);
          slice(a, from, j, ctx, groupsFor(ctx.spanId), false);
          from = j;
          bucket = b;
        }
        continue;
      }
      let byPid = placements.get(a.parent);
      if (!byPid) placements.set(a.parent, (byPid = new Map()));
      let p = byPid.get(h.pid);
      let isExec = false;
      if (!p) {
        // Only the first event of a pair can be the exec its process span stands for.
        const under = this.underSpan(a, out);
        byPid.set(h.pid, (p = { ctx: under.ctx, groups: groupsFor(under.ctx.spanId) }));
        isExec = under.absorbed;
      }
      slice(a, 0, h.size, p.ctx, p.groups, isExec);
    }
    const folds = this.folds(sliced, froms, tos, groupsOf, absorbed);
    const groups: Group[] = [];
    for (let s = 0; s < sliced.length; s++) {
      const a = sliced[s]!;
      const ctx = ctxs[s]!;
      if (absorbed[s] || this.toldByProcessSpan(a, ctx)) continue;
      const h = a.ev;
      const from = froms[s]!;
      const to = tos[s]!;
      const f = folds[s];
      let g: Group | undefined;
      let byTarget: Map<string, Group> | undefined;
      // A fold of one distinct path keeps its plain span: then every event of the slice has that path.
      if (f && f.paths.size >= MIN_FOLDED_PATHS) g = f.group;
      else g = (byTarget = groupsOf[s]!.byTarget(h.kind)).get(targetAt(h, from));
      // The slice's earliest and latest event (the first of equal times), and its count.
      let first = from;
      let last = from;
      let count = 0;
      for (let j = from; j < to; j++) {
        const t = timeUsAt(h, j);
        if (t < timeUsAt(h, first)) first = j;
        if (t > timeUsAt(h, last)) last = j;
        count += h instanceof OpenRun ? h.countAt(j) : h.count;
      }
      if (!g) {
        g = new Group(ctx, count, h, first, h, last, a.key, byTarget ? undefined : f);
        if (byTarget) byTarget.set(targetAt(h, from), g);
        else f!.group = g;
        groups.push(g);
      } else {
        g.count += count;
        if (timeUsAt(h, first) < timeUsAt(g.first, g.firstAt)) {
          g.first = h;
          g.firstAt = first;
        }
        if (timeUsAt(h, last) > timeUsAt(g.last, g.lastAt)) {
          g.last = h;
          g.lastAt = last;
        }
      }
    }
    for (const g of groups) {
      const first = timeOf(timeAt(g.first, g.firstAt));
      const last = timeOf(timeAt(g.last, g.lastAt));
      out.add(g.first, g.ctx.serviceName, {
        traceId: Buffer.from(g.ctx.traceId, 'hex'),
        spanId: Buffer.from(randomId(8), 'hex'),
        parentSpanId: Buffer.from(g.ctx.spanId, 'hex'),
        name: g.fold ? foldedName(g.fold.fold, g.fold.paths.size) : spanName(g),
        kind: SpanKind.INTERNAL,
        startTimeUnixNano: first,
        endTimeUnixNano: last,
        attributes: [...(g.fold ? this.foldAttributes(g.fold) : (recordAt(g.first, g.firstAt).attributes ?? [])), attr(ATTR.kernelKind, g.first.kind), attr(ATTR.kernelCount, g.count), attr(ATTR.correlationKey, g.key), ...(g.ctx.pidSource ? [attr(ATTR.processPidSource, g.ctx.pidSource)] : [])],
      });
      // A process span made in this build covers the activity placed under it.
      const holder = this.madeNow.get(g.ctx.spanId);
      if (holder) {
        if (int64ToBigInt(first) < int64ToBigInt(holder.startTimeUnixNano)) holder.startTimeUnixNano = first;
        if (int64ToBigInt(last) > int64ToBigInt(holder.endTimeUnixNano)) holder.endTimeUnixNano = last;
      }
    }
    return { data: out.data(), spans: out.count };
  }

  private bucketOf(timeUs: number): number {
    return Math.floor(timeUs / this.windowUs);
  }

  /**
   * Forks and exits that a process span already tells: a fork whose child has its process span under
   * the same parent (the nesting shows it), and the exit of the process a span of this build stands
   * for (its exit code becomes the span's attribute and the exit its end).
   */
  private toldByProcessSpan(a: Assignment, ctx: Context): boolean {
    const ev = a.ev;
    if (ev.kind === 'fork') return a.parent !== undefined && ev.childPid !== 0 && this.processSpans.get(`${a.parent.spanId}:${ev.childPid}`) !== undefined;
    if (ev.kind !== 'exit') return false;
    const holder = this.madeNow.get(ctx.spanId);
    if (!holder) return false;
    (holder.attributes ??= []).push(...(ev.record.attributes ?? []).filter((kv) => EXIT_FACTS.has(kv.key)));
    if (int64ToBigInt(ev.record.timeUnixNano) > int64ToBigInt(holder.endTimeUnixNano)) holder.endTimeUnixNano = timeOf(ev.record.timeUnixNano);
    return true;
  }

  /**
   * The fold group of every placed slice of opens (by index): one group per parent span, rule and
   * root, its distinct paths in the order seen. Credential reads and paths no rule matches get none
   * (their fold was found when they were held).
   */
  private folds(sliced: readonly Assignment[], froms: readonly number[], tos: readonly number[], groupsOf: readonly Groups[], absorbed: readonly boolean[]): (FoldGroup | undefined)[] {
    const out: (FoldGroup | undefined)[] = [];
    for (let s = 0; s < sliced.length; s++) {
      const h = sliced[s]!.ev;
      const fold = absorbed[s] ? null : h.fold;
      if (!fold) {
        out.push(undefined);
        continue;
      }
      const g = groupsOf[s]!.fold(fold);
      for (let j = froms[s]!, to = tos[s]!; j < to; j++) g.paths.add(targetAt(h, j));
      out.push(g);
    }
    return out;
  }

  /** What a folded span stands for: rule, root, how many distinct files, and the first of them. */
  private foldAttributes({ fold, paths }: FoldGroup): KeyValue[] {
    const sample: string[] = [];
    for (const p of paths) {
      if (sample.length === this.samplePaths) break;
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
    out.add(a.ev, parent.serviceName, this.processSpan(a, 0, base.traceId, spanId, parentProcess ?? parent.spanId));
    return { ctx: { ...base, spanId }, absorbed: a.ev.kind === 'exec' };
  }

  /** The root of the process's activity in the window bucket of its `at`-th event (made by that event when new). */
  private underActivityRoot(a: Assignment, at: number, out: Output): Context {
    const rk = `${a.ev.pid}:${this.bucketOf(timeUsAt(a.ev, at))}`;
    const known = this.activityRoots.get(rk);
    if (known) return known;
    const serviceName = String(findAttr(a.ev.resource.attributes, ATTR.serviceName) ?? `unknown_service:${a.ev.comm}`);
    const ctx: Context = { traceId: randomId(16), spanId: randomId(8), serviceName };
    this.activityRoots.set(rk, ctx);
    const root = this.processSpan(a, at, ctx.traceId, ctx.spanId, undefined);
    root.name = `process activity ${a.ev.comm} (pid ${a.ev.pid})`;
    out.add(a.ev, serviceName, root);
    return ctx;
  }

  /** The span of `a`'s process, made by its `at`-th event. */
  private processSpan(a: Assignment, at: number, traceId: string, spanId: string, parentSpanId: string | undefined): Span {
    const r = a.ev.resource.attributes ?? [];
    const exe = findAttr(r, ATTR.processExecutablePath);
    const time = timeOf(timeAt(a.ev, at));
    const span: Span = {
      traceId: Buffer.from(traceId, 'hex'),
      spanId: Buffer.from(spanId, 'hex'),
      parentSpanId: parentSpanId ? Buffer.from(parentSpanId, 'hex') : Buffer.alloc(0),
      name: a.ev.kind === 'exec' ? `exec ${targetAt(a.ev, at)}` : `process ${typeof exe === 'string' ? basename(exe) : a.ev.comm} (pid ${a.ev.pid})`,
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

  add(ev: Held, serviceName: string, span: Span): void {
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
