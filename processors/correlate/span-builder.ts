import { randomFillSync } from 'node:crypto';
import Long from 'long';
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

/** The event's time as a span's: the record's own unsigned Long (immutable, so shared), not one made through a string. */
function timeOf(ev: KernelEvent): Long {
  const t = ev.record.timeUnixNano;
  return Long.isLong(t) && t.unsigned ? t : bigIntToLong(nanos(ev));
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
    private readonly folder: Folder,
    private readonly scopeVersion: string,
  ) {
    this.processSpans = new BoundedMap(remember);
    this.activityRoots = new BoundedMap(remember);
  }

  build(assignments: readonly Assignment[]): { data: TracesData; spans: number } {
    const out = new Output(this.scopeVersion);
    this.madeNow.clear();
    const n = assignments.length;
    // Per event only array slots: its context and groups come from its (parent span, process) pair,
    // worked out once per build.
    const ctxs: Context[] = [];
    const groupsOf: Groups[] = [];
    const absorbed = new Uint8Array(n);
    const placements = new Map<SpanRef, Map<number, Placement>>();
    const bySpanId = new Map<string, Groups>();
    const groupsFor = (spanId: string) => {
      let g = bySpanId.get(spanId);
      if (!g) bySpanId.set(spanId, (g = new Groups()));
      return g;
    };
    for (let i = 0; i < n; i++) {
      const a = assignments[i]!;
      if (!a.parent) {
        const ctx = this.underActivityRoot(a, out);
        ctxs.push(ctx);
        groupsOf.push(groupsFor(ctx.spanId));
        continue;
      }
      let byPid = placements.get(a.parent);
      if (!byPid) placements.set(a.parent, (byPid = new Map()));
      let p = byPid.get(a.ev.pid);
      if (!p) {
        // Only the first event of a pair can be the exec its process span stands for.
        const { ctx, absorbed: isExec } = this.underSpan(a, out);
        byPid.set(a.ev.pid, (p = { ctx, groups: groupsFor(ctx.spanId) }));
        absorbed[i] = isExec ? 1 : 0;
      }
      ctxs.push(p.ctx);
      groupsOf.push(p.groups);
    }
    const folds = this.folds(assignments, groupsOf, absorbed);
    const groups: Group[] = [];
    for (let i = 0; i < n; i++) {
      const a = assignments[i]!;
      const ctx = ctxs[i]!;
      if (absorbed[i] || this.toldByProcessSpan(a, ctx)) continue;
      const ev = a.ev;
      const f = folds[i];
      let g: Group | undefined;
      let byTarget: Map<string, Group> | undefined;
      if (f && f.paths.size >= MIN_FOLDED_PATHS) g = f.group;
      else g = (byTarget = groupsOf[i]!.byTarget(ev.kind)).get(ev.target);
      if (!g) {
        g = { ctx, count: ev.count, first: ev, last: ev, key: a.key, fold: byTarget ? undefined : f };
        if (byTarget) byTarget.set(ev.target, g);
        else f!.group = g;
        groups.push(g);
      } else {
        g.count += ev.count;
        if (ev.timeUs < g.first.timeUs) g.first = ev;
        if (ev.timeUs > g.last.timeUs) g.last = ev;
      }
    }
    for (const g of groups) {
      out.add(g.first, g.ctx.serviceName, {
        traceId: Buffer.from(g.ctx.traceId, 'hex'),
        spanId: Buffer.from(randomId(8), 'hex'),
        parentSpanId: Buffer.from(g.ctx.spanId, 'hex'),
        name: g.fold ? foldedName(g.fold.fold, g.fold.paths.size) : spanName(g),
        kind: SpanKind.INTERNAL,
        startTimeUnixNano: timeOf(g.first),
        endTimeUnixNano: timeOf(g.last),
        attributes: [...(g.fold ? this.foldAttributes(g.fold) : (g.first.record.attributes ?? [])), attr(ATTR.kernelKind, g.first.kind), attr(ATTR.kernelCount, g.count), attr(ATTR.correlationKey, g.key), ...(g.ctx.pidSource ? [attr(ATTR.processPidSource, g.ctx.pidSource)] : [])],
      });
      // A process span made in this build covers the activity placed under it.
      const holder = this.madeNow.get(g.ctx.spanId);
      if (holder) {
        if (nanos(g.first) < int64ToBigInt(holder.startTimeUnixNano)) holder.startTimeUnixNano = timeOf(g.first);
        if (nanos(g.last) > int64ToBigInt(holder.endTimeUnixNano)) holder.endTimeUnixNano = timeOf(g.last);
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
    if (nanos(a.ev) > int64ToBigInt(holder.endTimeUnixNano)) holder.endTimeUnixNano = timeOf(a.ev);
    return true;
  }

  /**
   * The fold group of every placed open (by index): one group per parent span, rule and root.
   * Credential reads and paths no rule matches get none.
   */
  private folds(assignments: readonly Assignment[], groupsOf: readonly Groups[], absorbed: Uint8Array): (FoldGroup | undefined)[] {
    const out: (FoldGroup | undefined)[] = [];
    for (let i = 0; i < assignments.length; i++) {
      const ev = assignments[i]!.ev;
      const fold = ev.kind === 'open' && !absorbed[i] ? this.folder.classify(ev.target, ev.pid, ev.credential, ev.errorType) : undefined;
      if (!fold) {
        out.push(undefined);
        continue;
      }
      const g = groupsOf[i]!.fold(fold);
      g.paths.add(ev.target);
      out.push(g);
    }
    return out;
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
    const time = timeOf(a.ev);
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
