import type { CanonicalKind } from '../normalize/index.js';

/** What correlation keeps of a span after passing it on (the span itself belongs to the next hop). */
export interface SpanRef {
  traceId: string;
  spanId: string;
  startUs: number;
  endUs: number;
  /**
   * `process.pid` of the span's resource; without one, the process holding the OTLP connection the
   * span came over (`pidSource`); 0 when neither is known.
   */
  pid: number;
  pidSource?: 'otlp_connection';
  kind: CanonicalKind | undefined;
  name: string;
  serviceName: string;
  serverAddress?: string;
  serverPort?: number;
  arrivedAtMs: number;
}

/** Kinds that name the operation a kernel event served; outer kinds (agent, chain, http) only frame it. */
const SEMANTIC: ReadonlySet<CanonicalKind> = new Set(['llm', 'tool', 'retriever', 'embedding', 'mcp_client', 'mcp_server']);

export function isSemantic(s: SpanRef): boolean {
  return s.kind !== undefined && SEMANTIC.has(s.kind);
}

/**
 * The innermost span containing `timeUs` (latest start, then earliest end), preferring spans that
 * name an operation (LLM call, tool call) over the HTTP or chain spans around or beside them.
 * The clock tolerance only applies when no span contains the time exactly: with it, the next
 * operation (starting a few ms after the event) would otherwise win as "latest start".
 */
export function innermost(spans: readonly SpanRef[], timeUs: number, toleranceUs: number, accept: (s: SpanRef) => boolean = () => true): SpanRef | undefined {
  return containing(spans, timeUs, 0, accept) ?? (toleranceUs > 0 ? containing(spans, timeUs, toleranceUs, accept) : undefined);
}

function containing(spans: readonly SpanRef[], timeUs: number, toleranceUs: number, accept: (s: SpanRef) => boolean): SpanRef | undefined {
  let best: SpanRef | undefined;
  let bestSemantic = false;
  for (const s of spans) {
    if (timeUs < s.startUs - toleranceUs || timeUs > s.endUs + toleranceUs || !accept(s)) continue;
    const semantic = isSemantic(s);
    if (
      !best ||
      (semantic && !bestSemantic) ||
      (semantic === bestSemantic && (s.startUs > best.startUs || (s.startUs === best.startUs && s.endUs < best.endUs)))
    ) {
      best = s;
      bestSemantic = semantic;
    }
  }
  return best;
}

/** Spans seen in the last window, by id, by process and by trace; bounded, oldest evicted first. */
export class SpanIndex {
  private readonly byId = new Map<string, SpanRef>();
  private readonly byPid = new Map<number, SpanRef[]>();
  private readonly byTrace = new Map<string, SpanRef[]>();
  private readonly arrivals: SpanRef[] = [];
  private head = 0;

  get size(): number {
    return this.byId.size;
  }

  add(s: SpanRef): void {
    const id = `${s.traceId}:${s.spanId}`;
    if (this.byId.has(id)) return;
    this.byId.set(id, s);
    this.arrivals.push(s);
    push(this.byTrace, s.traceId, s);
    if (s.pid) push(this.byPid, s.pid, s);
  }

  get(traceId: string, spanId: string): SpanRef | undefined {
    return this.byId.get(`${traceId}:${spanId}`);
  }

  ofPid(pid: number): readonly SpanRef[] {
    return this.byPid.get(pid) ?? [];
  }

  ofTrace(traceId: string): readonly SpanRef[] {
    return this.byTrace.get(traceId) ?? [];
  }

  /** Forgets spans that arrived before `beforeMs`, and the oldest beyond `max`; returns how many. */
  evict(beforeMs: number, max: number): number {
    const gone = new Set<SpanRef>();
    while (this.head < this.arrivals.length) {
      const s = this.arrivals[this.head]!;
      if (s.arrivedAtMs >= beforeMs && this.byId.size - gone.size <= max) break;
      gone.add(s);
      this.byId.delete(`${s.traceId}:${s.spanId}`);
      this.head++;
    }
    if (gone.size === 0) return 0;
    if (this.head > 4096 && this.head * 2 > this.arrivals.length) {
      this.arrivals.splice(0, this.head);
      this.head = 0;
    }
    for (const map of [this.byPid, this.byTrace] as Map<unknown, SpanRef[]>[]) {
      for (const [k, list] of map) {
        if (!list.some((s) => gone.has(s))) continue;
        const kept = list.filter((s) => !gone.has(s));
        if (kept.length === 0) map.delete(k);
        else map.set(k, kept);
      }
    }
    return gone.size;
  }
}

function push<K>(map: Map<K, SpanRef[]>, key: K, s: SpanRef): void {
  const list = map.get(key);
  if (list) list.push(s);
  else map.set(key, [s]);
}
