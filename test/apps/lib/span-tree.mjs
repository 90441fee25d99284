#!/usr/bin/env node
// Print the span trees in an OTLP sink JSONL file (lib/otlp-sink.mjs --out) or a sink URL.
//   node lib/span-tree.mjs FILE.jsonl|http://127.0.0.1:HTTPPORT [traceId...]
// One line per span: indentation = depth; name [KIND] pid=<resource process.pid> service=<...> and a
// few telling attributes (openinference.span.kind, url.full/http.url, tool name).
import fs from 'node:fs';

const [src, ...want] = process.argv.slice(2);
let spans;
if (/^https?:/.test(src)) spans = await (await fetch(`${src.replace(/\/$/, '')}/_spans`)).json();
else spans = fs.readFileSync(src, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((r) => r.type === 'span');

const byTrace = new Map();
for (const s of spans) {
  if (want.length && !want.includes(s.traceId)) continue;
  if (!byTrace.has(s.traceId)) byTrace.set(s.traceId, []);
  byTrace.get(s.traceId).push(s);
}
const pick = (a) => {
  const keys = ['openinference.span.kind', 'tool.name', 'llm.model_name', 'gen_ai.operation.name', 'gen_ai.request.model', 'traceloop.span.kind', 'traceloop.entity.name', 'http.request.method', 'url.full', 'http.url', 'server.port', 'mcp.method.name'];
  return keys.filter((k) => a[k] != null).map((k) => `${k}=${String(a[k]).slice(0, 80)}`).join(' ');
};
for (const [tid, list] of byTrace) {
  list.sort((a, b) => (BigInt(a.start) < BigInt(b.start) ? -1 : 1));
  const ids = new Set(list.map((s) => s.spanId));
  const kids = new Map();
  for (const s of list) {
    const p = s.parentSpanId && ids.has(s.parentSpanId) ? s.parentSpanId : 'ROOT';
    if (!kids.has(p)) kids.set(p, []);
    kids.get(p).push(s);
  }
  console.log(`trace ${tid} (${list.length} spans)`);
  const walk = (p, depth) => {
    for (const s of kids.get(p) ?? []) {
      const dur = Number(BigInt(s.end) - BigInt(s.start)) / 1e6;
      const orphan = depth === 0 && s.parentSpanId ? ` (parent ${s.parentSpanId} missing)` : '';
      console.log(`${'  '.repeat(depth + 1)}${s.name} [${s.kind}] ${dur.toFixed(1)}ms pid=${s.resource?.['process.pid'] ?? '-'} svc=${s.resource?.['service.name'] ?? '-'} ${s.status?.code === 'ERROR' ? 'ERROR ' : ''}${pick(s.attributes)}${orphan}`);
      walk(s.spanId, depth + 1);
    }
  };
  walk('ROOT', 0);
}
