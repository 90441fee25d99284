import { NO_PORT, type KernelEvent } from './kernel-event.js';
import { MAX_ANCESTRY, type ProcessTable } from './process-table.js';
import { NONE, type SpanIndex } from './span-index.js';

/** Which correlation key placed an event, strongest first (recorded as `aibom.correlation.key`). */
export type CorrelationKey = 'traceparent' | 'mcp_meta' | 'socket_tuple' | 'pid_time' | 'process_tree';

export interface Match {
  /** The span's row in the index (valid until the index next changes). */
  row: number;
  key: CorrelationKey;
}

export interface MatchContext {
  spans: SpanIndex;
  processes: ProcessTable;
  toleranceUs: number;
}

const LOOPBACK_NAMES = new Set(['localhost', 'ip6-localhost', '127.0.0.1', '::1']);

function sameHost(spanAddress: string | undefined, peer: string): boolean {
  if (!spanAddress || !peer) return true;
  if (spanAddress === peer) return true;
  const loopbackPeer = peer.startsWith('127.') || peer === '::1' || peer === '::ffff:127.0.0.1';
  if (LOOPBACK_NAMES.has(spanAddress)) return loopbackPeer;
  // A host name we cannot resolve here: the port and the time window decide.
  return !/^[\d.:]+$/.test(spanAddress);
}

/**
 * HTTP client spans are often siblings of the LLM or tool span that made the request (OpenInference
 * does not make its spans active), so an event tied to one is placed under the operation span of the
 * same trace and process that was running at that moment, when there is one.
 */
function refine(ctx: MatchContext, anchor: number, timeUs: number): number {
  const spans = ctx.spans;
  if (spans.semantic(anchor)) return anchor;
  const pid = spans.pid(anchor);
  const op = spans.innermostOfTrace(anchor, timeUs, ctx.toleranceUs, (s) => spans.pid(s) === pid || !pid || !spans.pid(s));
  return op === NONE ? anchor : op;
}

/**
 * The span that caused a kernel event, strongest key first:
 * 1. a traceparent the event carried on the wire (HTTP header / TLS plaintext / MCP `_meta`),
 * 2. a connect whose destination is the server of an HTTP client span running in that process,
 * 3. the innermost span of the same process containing the event,
 * 4. the innermost span of the nearest ancestor process that has spans (MCP stdio servers and
 *    tools run as children of the agent).
 * False while no span matches yet; what matched goes to `out` (one object for every lookup).
 * While `patient`, an event that names its span on the wire
 * waits for that span (it may never come: unsampled, or exported elsewhere), and one of a process
 * (3, 4) waits for a span that contains it exactly: SDKs export a span after it ends and batch for
 * seconds, so the tool span a child was spawned under often arrives after the LLM span that ended
 * a few ms before the spawn, which the clock-skew tolerance alone would take. Afterwards a span
 * within the tolerance is taken.
 */
export function match(ev: KernelEvent, ctx: MatchContext, patient: boolean, out: Match): boolean {
  const t = ev.timeUs;
  const spans = ctx.spans;
  if (ev.wire) {
    const named = spans.get(ev.wire.traceId, ev.wire.spanId);
    if (named !== NONE) return found(out, refine(ctx, named, t), ev.wire.source === 'mcp_meta' ? 'mcp_meta' : 'traceparent');
    if (patient) return false;
  }
  if (ev.kind === 'connect' && ev.peerPort !== NO_PORT) {
    const client = spans.innermostOfPid(ev.pid, t, ctx.toleranceUs, (s) => spans.serverPort(s) === ev.peerPort && sameHost(spans.serverAddress(s), ev.peerAddress));
    if (client !== NONE) return found(out, refine(ctx, client, t), 'socket_tuple');
  }
  return matchByProcess(ctx, ev.pid, t, patient, out);
}

/** Keys 3 and 4 of `match`: the innermost span of process `pid`, else of its nearest ancestor with one, containing `t`. */
export function matchByProcess(ctx: MatchContext, pid: number, t: number, patient: boolean, out: Match): boolean {
  const spans = ctx.spans;
  // Read whether or not it applies: a load first reached when an event's patience ends had no type feedback until then.
  const slack = ctx.toleranceUs;
  const tolerance = patient ? 0 : slack;
  const inOwn = spans.innermostOfPid(pid, t, tolerance);
  if (inOwn !== NONE) return found(out, inOwn, 'pid_time');
  // A loop of parents (pid reuse) only repeats lookups that found nothing: bounded by the depth.
  for (let ancestor = ctx.processes.parentOf(pid), depth = 0; ancestor > 0 && ancestor !== pid && depth < MAX_ANCESTRY; ancestor = ctx.processes.parentOf(ancestor), depth++) {
    const inAncestor = spans.innermostOfPid(ancestor, t, tolerance);
    if (inAncestor !== NONE) return found(out, inAncestor, 'process_tree');
  }
  return false;
}

/**
 * Whether `matchByProcess` gives the same answer for every time from `fromUs` to `toUs`: no span of
 * `pid` or of an ancestor it would look at starts or ends within them, give or take the tolerance
 * (the spans containing a time, exactly or within the tolerance, change only where one does).
 */
export function placedAlike(ctx: MatchContext, pid: number, fromUs: number, toUs: number): boolean {
  const from = fromUs - ctx.toleranceUs;
  const to = toUs + ctx.toleranceUs;
  const spans = ctx.spans;
  if (spans.edgeOfPid(pid, from, to)) return false;
  for (let ancestor = ctx.processes.parentOf(pid), depth = 0; ancestor > 0 && ancestor !== pid && depth < MAX_ANCESTRY; ancestor = ctx.processes.parentOf(ancestor), depth++) {
    if (spans.edgeOfPid(ancestor, from, to)) return false;
  }
  return true;
}

function found(out: Match, row: number, key: CorrelationKey): true {
  out.row = row;
  out.key = key;
  return true;
}
