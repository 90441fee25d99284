import { readFileSync } from 'node:fs';

interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

interface Node {
  span: JsonSpan;
  scope: string;
  attrs: Record<string, unknown>;
  children: Node[];
}

const plain = (v: Record<string, unknown>): unknown => v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue ?? (v.arrayValue ? ((v.arrayValue as { values?: Record<string, unknown>[] }).values ?? []).map(plain) : undefined);

/** The spans of one trace from the file exporter's OTLP JSON lines. */
export function traceSpans(file: string, traceId: string): Node[] {
  const out: Node[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.includes(traceId)) continue;
    const doc = JSON.parse(line) as { resourceSpans?: { scopeSpans?: { scope?: { name?: string }; spans?: JsonSpan[] }[] }[] };
    for (const rs of doc.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) {
      if (s.traceId === traceId) out.push({ span: s, scope: ss.scope?.name ?? '', attrs: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, plain(a.value)])), children: [] });
    }
  }
  return out;
}

const KERNEL_SCOPE = 'aibom.correlate';
const isKernel = (n: Node) => n.scope === KERNEL_SCOPE;
const isDeviation = (n: Node) => n.span.name.startsWith('deviation ');
/**
 * Spans worth a line: the trace's root, the agent's LLM and tool calls (GenAI semantic conventions or
 * OpenInference), kernel activity, deviations; framework plumbing (chains, graph nodes) is folded.
 */
const kept = (n: Node) =>
  !n.span.parentSpanId || isKernel(n) || isDeviation(n) || n.attrs['gen_ai.operation.name'] !== undefined || ['LLM', 'TOOL', 'AGENT'].includes(String(n.attrs['openinference.span.kind'] ?? ''));

/**
 * The trace as an indented tree: the agent's LLM and tool spans with the kernel activity under the
 * tool that caused it, and each deviation under its causing span. At most `perParent` kernel lines
 * under one span (the rest counted).
 */
export function renderTree(nodes: Node[], perParent = 6): string {
  const byId = new Map(nodes.map((n) => [n.span.spanId, n]));
  const keptAncestor = (n: Node): Node | undefined => {
    for (let p = byId.get(n.span.parentSpanId ?? ''); p; p = byId.get(p.span.parentSpanId ?? '')) if (kept(p)) return p;
    return undefined;
  };
  const roots: Node[] = [];
  for (const n of nodes) {
    if (!kept(n)) continue;
    const a = keptAncestor(n);
    (a ? a.children : roots).push(n);
  }
  const byStart = (a: Node, b: Node) => (BigInt(a.span.startTimeUnixNano) < BigInt(b.span.startTimeUnixNano) ? -1 : 1);
  const lines: string[] = [];
  const label = (n: Node) => {
    if (isDeviation(n)) return `\u001b[31m⚠ ${n.span.name}\u001b[0m  ${String(n.attrs['aibom.deviation.observed'] ?? '')}`;
    if (isKernel(n)) return `\u001b[36m⚙ ${n.span.name}\u001b[0m`;
    return `${n.span.name}${n.attrs['gen_ai.request.model'] ? `  (${String(n.attrs['gen_ai.request.model'])})` : ''}`;
  };
  const walk = (n: Node, prefix: string, last: boolean, top: boolean) => {
    lines.push(`${top ? '' : `${prefix}${last ? '└─ ' : '├─ '}`}${label(n)}`);
    const kids = [...n.children].sort(byStart);
    const kernel = kids.filter(isKernel);
    const shown = [...kids.filter((k) => !isKernel(k)), ...kernel.slice(0, perParent)].sort(byStart);
    const more = kernel.length - Math.min(kernel.length, perParent);
    const next = top ? '' : `${prefix}${last ? '   ' : '│  '}`;
    shown.forEach((k, i) => walk(k, next, i === shown.length - 1 && more === 0, false));
    if (more > 0) lines.push(`${next}└─ \u001b[2m… ${more} more kernel events\u001b[0m`);
  };
  for (const r of roots.sort(byStart)) walk(r, '', true, true);
  return lines.join('\n');
}
