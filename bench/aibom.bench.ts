/**
 * processors/aibom figures: cost per span, memory per entity, the inventory at 10k entities. A script,
 * not a timed unit test:
 *
 *   npm run build && node --expose-gc dist/bench/aibom.bench.js
 *
 * - per span: the recorded reference run (processors/aibom/testdata/reference-js.jsonl: the LangChain.js
 *   attack run's agent spans and the kernel spans correlate placed under them, as the collector
 *   exported them) fed again and again through the processor's traces consumer (the next hop does
 *   nothing). Steady state: every entity already exists, which is the common case.
 * - memory: 10k distinct entities (tools, endpoints and data sources, each with 16 trace ids of
 *   evidence, a list attribute and two relations, as a busy inventory holds them): heapUsed after gc()
 *   minus before, per entity; then the store write, the CycloneDX build and the entity-event build at
 *   that size.
 * - the pass-through bench's load (`bench/passthrough.ts --pipeline default`, `--shape llm`: 100 LLM
 *   client spans per request, each its own trace; `--shape agent`: ten agent-run traces of 10 spans,
 *   root + 3 LLM calls + 3 tools + 2 HTTP calls + 1 MCP call), every request with fresh trace and span
 *   ids as the load generator sends them, received as bytes and put through the real `normalize`
 *   first: CPU µs per span of the processor's `traces.consume` alone (process.cpuUsage around it),
 *   the span owners full (65,536) and evicting, as in a long run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { attrs } from '../pipeline/otlp/attributes.js';
import { packageRoot } from '../pipeline/package-root.js';
import { tracesCodec } from '../pipeline/otlp/codec.js';
import type { TracesData } from '../pipeline/otlp/types.js';
import { silentLogger } from '../pipeline/telemetry/logger.js';
import { Metrics } from '../pipeline/telemetry/metrics.js';
import { AibomProcessor } from '../processors/aibom/aibom-processor.js';
import { createDefaultConfig } from '../processors/aibom/config.js';
import { toCycloneDx } from '../processors/aibom/cyclonedx.js';
import { stateRecord } from '../processors/aibom/entity-events.js';
import { Inventory } from '../processors/aibom/inventory.js';
import { saveInventory } from '../processors/aibom/store.js';
import { normalizeProcessorFactory } from '../processors/normalize/index.js';
import { LOADGEN_CHOICE_ATTRIBUTES, LOADGEN_LLM_ATTRIBUTES } from './loadgen-shape.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) console.warn('run with node --expose-gc for the memory figures');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const MiB = 1024 * 1024;

const batches: TracesData[] = readFileSync(join(packageRoot(), 'processors', 'aibom', 'testdata', 'reference-js.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  // Through protobuf, so the spans have the in-memory shape the OTLP receiver hands the pipeline.
  .map((l) => tracesCodec.decode(tracesCodec.encode(tracesCodec.fromJson(l))));
let spans = 0;
for (const b of batches) for (const rs of b.resourceSpans) for (const ss of rs.scopeSpans) spans += ss.spans.length;

const next = { traces: { consume: async (_d: TracesData) => {} }, logs: { consume: async () => {} } };
const processor = new AibomProcessor({ id: 'aibom', name: '', logger: silentLogger(), metrics: new Metrics() }, createDefaultConfig(), next);
const passthrough = { consume: async (d: TracesData) => next.traces.consume(d) };

/** Batches per second through `consume`, awaiting each (as the pipeline does), after a warm-up. */
async function measureAsync(name: string, consume: (d: TracesData) => Promise<void>): Promise<{ name: string; opsPerSec: number }> {
  for (let i = 0; i < 200; i++) for (const b of batches) await consume(b);
  gc?.();
  let runs = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(SECONDS * 1e9);
  while (process.hrtime.bigint() < deadline) {
    for (const b of batches) await consume(b);
    runs++;
  }
  return { name, opsPerSec: runs / (Number(process.hrtime.bigint() - start) / 1e9) };
}
const results = [await measureAsync('pass-through (no processor)', (d) => passthrough.consume(d)), await measureAsync('aibom processor', (d) => processor.traces.consume(d))];
console.log(`reference run: ${batches.length} batches, ${spans} spans (agent + kernel), ${processor.inventory.size} entities`);
for (const r of results) console.log(`${r.name.padEnd(30)} ${Math.round(r.opsPerSec * spans).toLocaleString('en-US').padStart(12)} spans/s`);
const perSpanUs = (1 / results[1]!.opsPerSec - 1 / results[0]!.opsPerSec) / spans * 1e6;
console.log(`processor cost per span: ${perSpanUs.toFixed(2)} µs`);

// ---------------------------------------------------------------- the pass-through bench's load
/** Every id of a template request starts with these bytes; each round writes its own number over them. */
const MARK = Buffer.from([0xa1, 0xb2, 0xc3, 0xd4]);
let ids = 0;
const idOf = (bytes: number) => {
  const id = Buffer.alloc(bytes);
  MARK.copy(id);
  id.writeUInt32BE(++ids, bytes - 4);
  return id;
};
const startNs = BigInt(Date.now()) * 1_000_000n;
type Attrs = Record<string, string | number>;
const loadSpan = (traceId: Buffer, spanId: Buffer, parent: Buffer | undefined, name: string, kind: number, atMs: number, ms: number, attributes: Attrs, events?: object[]) => ({
  traceId,
  spanId,
  parentSpanId: parent ?? Buffer.alloc(0),
  name,
  kind,
  startTimeUnixNano: String(startNs + BigInt(atMs) * 1_000_000n),
  endTimeUnixNano: String(startNs + BigInt(atMs + ms) * 1_000_000n),
  attributes: attrs(attributes),
  ...(events ? { events } : {}),
  status: { code: 1 },
});
/** bench/loadgen's `llmSpan`: ten GenAI and HTTP attributes and a gen_ai.choice event. */
const llmSpan = (traceId: Buffer, parent: Buffer, atMs: number) =>
  loadSpan(traceId, idOf(8), parent, 'chat gpt-4o', 3, atMs, 1_500, LOADGEN_LLM_ATTRIBUTES, [{ timeUnixNano: String(startNs + BigInt(atMs) * 1_000_000n + 10n), name: 'gen_ai.choice', attributes: attrs(LOADGEN_CHOICE_ATTRIBUTES) }]);

/** bench/loadgen's `-shape llm` request: 100 LLM client spans, each its own trace, under a parent the request does not carry. */
function llmRequest(): object[] {
  const parent = idOf(8);
  return Array.from({ length: 100 }, () => llmSpan(idOf(16), parent, 0));
}

/** bench/loadgen's `-shape agent` request: ten agent-run traces of 10 spans. */
function agentRequest(): object[] {
  const spans: object[] = [];
  for (let t = 0; t < 10; t++) {
    const traceId = idOf(16);
    const root = idOf(8);
    let at = 0;
    const span = (parent: Buffer | undefined, name: string, kind: number, ms: number, a: Attrs, id: Buffer = idOf(8)) => loadSpan(traceId, id, parent, name, kind, at, ms, a);
    const tool = (name: string, call: string, id: Buffer) => span(root, `execute_tool ${name}`, 1, 300, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name, 'gen_ai.tool.call.id': call, 'gen_ai.tool.type': 'function' }, id);
    const http = (parent: Buffer, url: string, host: string, port: number) => span(parent, 'POST', 3, 250, { 'http.request.method': 'POST', 'url.full': url, 'server.address': host, 'server.port': port, 'http.response.status_code': 200 });
    spans.push(span(undefined, 'invoke_agent support-agent', 1, 9_000, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'support-agent', 'gen_ai.provider.name': 'openai' }, root));
    spans.push(llmSpan(traceId, root, at));
    at += 1_600;
    const kb = idOf(8);
    spans.push(tool('search_kb', 'call_kb1', kb), http(kb, 'http://kb.internal:8080/search', 'kb.internal', 8080));
    at += 400;
    spans.push(llmSpan(traceId, root, at));
    at += 1_600;
    const fs = idOf(8);
    spans.push(tool('read_file', 'call_fs1', fs), span(fs, 'tools/call read_file', 3, 200, { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'read_file', 'gen_ai.operation.name': 'execute_tool', 'mcp.session.id': '8f2c1e', 'network.transport': 'pipe' }));
    at += 400;
    spans.push(llmSpan(traceId, root, at));
    at += 1_600;
    const tk = idOf(8);
    spans.push(tool('create_ticket', 'call_tk1', tk), http(tk, 'http://tickets.internal:8081/tickets', 'tickets.internal', 8081));
  }
  return spans;
}

/** The request's bytes and where its ids' marks are. */
function template(spans: object[]): { bytes: Buffer; marks: number[]; spans: number } {
  const data = { resourceSpans: [{ resource: { attributes: attrs({ 'service.name': 'bench-agent', 'process.pid': 1234, 'host.name': 'bench' }) }, scopeSpans: [{ scope: { name: 'bench', version: '1' }, spans }] }] };
  const bytes = Buffer.from(tracesCodec.encode(data as unknown as TracesData));
  const marks: number[] = [];
  for (let at = bytes.indexOf(MARK); at >= 0; at = bytes.indexOf(MARK, at + 1)) marks.push(at);
  return { bytes, marks, spans: spans.length };
}

const normalize = normalizeProcessorFactory.create({ id: 'normalize', name: '', logger: silentLogger(), metrics: new Metrics() }, normalizeProcessorFactory.createDefaultConfig(), { traces: { consume: async () => {} } });

/** CPU µs per span of a default-config processor's `traces.consume` on copies of `t` with fresh ids. */
async function loadCase(t: ReturnType<typeof template>): Promise<number> {
  const p = new AibomProcessor({ id: 'aibom', name: '', logger: silentLogger(), metrics: new Metrics() }, createDefaultConfig(), next);
  let seq = 0;
  const received = async () => {
    const bytes = Buffer.from(t.bytes);
    seq++;
    for (const at of t.marks) bytes.writeUInt32BE(seq, at);
    const d = tracesCodec.decodeReceived(bytes);
    await normalize.traces!.consume(d);
    return d;
  };
  // Past the 65,536 span owners, so every new span id pushes the oldest out.
  for (let i = 0; i < 1_000; i++) await p.traces.consume(await received());
  gc?.();
  let cpu = 0;
  let n = 0;
  const end = Date.now() + SECONDS * 1000;
  while (Date.now() < end) {
    const d = await received();
    const c0 = process.cpuUsage();
    await p.traces.consume(d);
    const c = process.cpuUsage(c0);
    cpu += c.user + c.system;
    n++;
  }
  return cpu / (n * t.spans);
}
console.log(`pass-through load, fresh ids, CPU per span: LLM calls each its own trace ${(await loadCase(template(llmRequest()))).toFixed(2)} µs; agent runs of 10 spans ${(await loadCase(template(agentRequest()))).toFixed(2)} µs`);

// ---------------------------------------------------------------- memory
const N = 10_000;
const trace = (i: number, j: number) => (i * 31 + j).toString(16).padStart(32, '0');
gc?.();
const before = process.memoryUsage().heapUsed;
const inv = new Inventory({ maxEntities: N, maxEvidence: 16, maxListValues: 32, maxRelations: 256 });
for (let i = 0; i < N; i++) {
  const kind = i % 3 === 0 ? 'tool' : i % 3 === 1 ? 'endpoint' : 'data_source';
  const key: Record<string, string | number> = kind === 'tool' ? { 'gen_ai.tool.name': `tool_${i}` } : kind === 'endpoint' ? { 'server.address': `10.0.${i >> 8}.${i & 255}`, 'server.port': 443 } : { 'aibom.file.pattern': `/srv/data/set${i}/*.csv` };
  for (let j = 0; j < 16; j++) {
    const e = inv.observe({ kind, key, name: `entity ${i}`, timeMs: 1_790_000_000_000 + j, traceId: trace(i, j), spanId: '00000000000000aa', attributes: { 'url.path': [`/api/v1/items`, `/api/v1/items/{id}`], 'aibom-collector:called_by': ['support-agent'] } })!;
    if (j === 0 && i > 1) {
      inv.relate(e, 'reaches', inv.get([...inv.all()][i - 1]!.id));
      inv.relate(e, 'reads', inv.get([...inv.all()][i - 2]!.id));
    }
  }
}
gc?.();
const after = process.memoryUsage().heapUsed;
console.log(`\ninventory of ${N} entities: ${((after - before) / MiB).toFixed(1)} MiB heap, ${Math.round((after - before) / N)} B per entity (16 trace ids of evidence, 2 relations, 2 list attributes)`);
const all = [...inv.all()];
let t = process.hrtime.bigint();
const file = join(process.env.TMPDIR ?? '/tmp', `aibom-bench-${process.pid}.json`);
saveInventory(file, { entities: all, overflow: 0 });
const saveMs = Number(process.hrtime.bigint() - t) / 1e6;
const storeBytes = readFileSync(file).length;
t = process.hrtime.bigint();
const bom = JSON.stringify(toCycloneDx(all, { specVersion: '1.6', toolVersion: 'bench' }));
const bomMs = Number(process.hrtime.bigint() - t) / 1e6;
t = process.hrtime.bigint();
for (const e of all) stateRecord(e, (id) => inv.get(id), 300_000, Date.now());
const eventsMs = Number(process.hrtime.bigint() - t) / 1e6;
console.log(`store write: ${saveMs.toFixed(0)} ms, ${(storeBytes / MiB).toFixed(1)} MiB; CycloneDX build + JSON: ${bomMs.toFixed(0)} ms, ${(bom.length / MiB).toFixed(1)} MiB; entity.state for all: ${eventsMs.toFixed(0)} ms`);
const reference = JSON.stringify(processor.bom('1.6'));
console.log(`reference-run BOM: ${reference.length} bytes compact (${processor.inventory.size} entities)`);
