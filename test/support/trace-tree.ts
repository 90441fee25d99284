import type { JaegerSpan } from './jaeger.js';
import { plainAttributes } from './otlp-json.js';

/** A trace as Jaeger returned it, navigable by parent and child, with plain attribute values. */
export class TraceTree {
  readonly byId = new Map<string, JaegerSpan>();
  readonly attrs = new Map<string, Record<string, unknown>>();

  constructor(readonly spans: JaegerSpan[]) {
    for (const s of spans) {
      this.byId.set(s.spanId, s);
      this.attrs.set(s.spanId, { ...plainAttributes(s.resource), ...plainAttributes(s.attributes) });
    }
  }

  attr(s: JaegerSpan, key: string): unknown {
    return this.attrs.get(s.spanId)?.[key];
  }

  parent(s: JaegerSpan): JaegerSpan | undefined {
    return s.parentSpanId ? this.byId.get(s.parentSpanId) : undefined;
  }

  children(s: JaegerSpan): JaegerSpan[] {
    return this.spans.filter((c) => c.parentSpanId === s.spanId);
  }

  ancestors(s: JaegerSpan): JaegerSpan[] {
    const out: JaegerSpan[] = [];
    for (let p = this.parent(s); p; p = this.parent(p)) out.push(p);
    return out;
  }

  where(pred: (s: JaegerSpan, a: Record<string, unknown>) => boolean): JaegerSpan[] {
    return this.spans.filter((s) => pred(s, this.attrs.get(s.spanId)!));
  }

  /** Spans made from kernel events (scope aibom.correlate). */
  kernel(): JaegerSpan[] {
    return this.spans.filter((s) => s.scope?.name === 'aibom.correlate');
  }

  /** An indented outline, for failure messages and the closing note. */
  outline(maxDepth = 8): string {
    const lines: string[] = [];
    const walk = (s: JaegerSpan, depth: number) => {
      const a = this.attrs.get(s.spanId)!;
      const key = a['aibom.correlation.key'] ? ` [${String(a['aibom.correlation.key'])}${a['aibom.kernel.count'] && a['aibom.kernel.count'] !== 1 ? ` x${String(a['aibom.kernel.count'])}` : ''}]` : '';
      lines.push(`${'  '.repeat(depth)}${s.name}${key}`);
      if (depth < maxDepth) for (const c of this.children(s).sort((x, y) => x.startTimeUnixNano.localeCompare(y.startTimeUnixNano))) walk(c, depth + 1);
    };
    for (const root of this.spans.filter((s) => !s.parentSpanId || !this.byId.has(s.parentSpanId))) walk(root, 0);
    return lines.join('\n');
  }
}
