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
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
