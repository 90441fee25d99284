/**
 * One processor of two builds side by side in one process, fed the pass-through bench's load, in
 * alternating rounds: CPU µs per span of `traces.consume` (and the tick, for baseline), median and
 * mean of the rounds per build. On a shared machine runs of separate processes move ±30%; here both
 * builds see the same load on the machine at the same time. A script:
 *
 *   npm run build && node --expose-gc dist/bench/processor-ab.js <aibom|baseline|provenance> <llm|agent> <build A> <build B> [rounds] [ms per round]
 *
 * A build is a checkout with `dist/` built (e.g. `git worktree add /tmp/base <rev>`, node_modules
 * linked, `npx tsc -p tsconfig.build.json`). Every request has ids of its own (1000 distinct, so the
 * bounded tables are full and evicting); each is decoded as received bytes and put through the real
 * `normalize`, then has its ids, canonical view and times read as the stages before would, all
 * outside the measured window; 10 requests are measured at a time after a `gc()` (so the garbage of
 * decoding is not charged to the processor), less what a `process.cpuUsage` pair itself costs.
 */
import { loadgenRequest } from './loadgen-shape.js';

type Processor = 'aibom' | 'baseline' | 'provenance';
type TracesData = { resourceSpans: { scopeSpans: { spans: { startTimeUnixNano: unknown }[] }[] }[] };
interface Consumer {
  traces: { consume(d: TracesData): Promise<void> };
  tick?: () => Promise<void>;
  start?: (host: unknown) => Promise<void>;
}

const [proc, shape, buildA, buildB, roundsArg, msArg] = process.argv.slice(2) as [Processor, 'llm' | 'agent', string, string, string?, string?];
if (!['aibom', 'baseline', 'provenance'].includes(proc) || !['llm', 'agent'].includes(shape) || !buildA || !buildB) {
  console.error('usage: processor-ab.js <aibom|baseline|provenance> <llm|agent> <build A> <build B> [rounds] [ms per round]');
  process.exit(2);
}
const ROUNDS = Number(roundsArg ?? 16);
const ROUND_MS = Number(msArg ?? 300);
const BATCH = 10;
const POOL = 1000;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

/** The processor of one build, and that build's own decoding (received spans are its own classes). */
async function build(dir: string) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const load = (path: string): Promise<any> => import(`${dir}/dist/${path}`);
  const { tracesCodec } = await load('pipeline/otlp/codec.js');
  const { spanIds } = await load('pipeline/otlp/span-view.js');
  const { silentLogger } = await load('pipeline/telemetry/logger.js');
  const { Metrics } = await load('pipeline/telemetry/metrics.js');
  const { createHost } = await load('pipeline/host.js');
  const { normalizeProcessorFactory, canonicalView } = await load('processors/normalize/index.js');
  const settings = (id: string) => ({ id, name: '', logger: silentLogger(), metrics: new Metrics() });
  const normalize = normalizeProcessorFactory.create(settings('normalize'), normalizeProcessorFactory.createDefaultConfig(), { traces: { consume: async () => {} } });
  const next = { traces: { consume: async () => {} }, logs: { consume: async () => {} } };
  const clock = { ms: 1_000_000 };
  const file = { aibom: 'aibom/aibom-processor.js', baseline: 'baseline/baseline-processor.js', provenance: 'provenance/provenance-processor.js' }[proc];
  const Class = Object.values(await load(`processors/${file}`)).find((v) => typeof v === 'function' && /Processor$/.test((v as { name: string }).name)) as new (...a: unknown[]) => Consumer;
  const { createDefaultConfig } = await load(`processors/${proc}/config.js`);
  const p = new Class(settings(proc), createDefaultConfig(), next, () => clock.ms);
  if (proc === 'baseline') await p.start!(createHost());
  return {
    async received(bytes: Buffer): Promise<TracesData> {
      const d = tracesCodec.decodeReceived(Buffer.from(bytes)) as TracesData;
      await normalize.traces.consume(d);
      // As correlate and aibom leave them before baseline and provenance.
      for (const rs of d.resourceSpans)
        for (const ss of rs.scopeSpans)
          for (const s of ss.spans) {
            spanIds(s);
            canonicalView(s);
            void s.startTimeUnixNano;
          }
      return d;
    },
    async step(d: TracesData): Promise<void> {
      await p.traces.consume(d);
      // The pass-through bench's rate: a request of 100 spans every 5 ms of the clock (20k spans/s).
      clock.ms += 5;
      if (clock.ms % 100 === 0) await p.tick?.();
    },
  };
}

const pool = Array.from({ length: POOL }, (_, i) => loadgenRequest(shape, i + 1));
const builds = [await build(buildA), await build(buildB)];
const next = [0, 0];
let pair = 0;
{
  const c0 = process.cpuUsage();
  for (let i = 0; i < 20_000; i++) process.cpuUsage(process.cpuUsage());
  const c = process.cpuUsage(c0);
  pair = (c.user + c.system) / 20_000;
}

/** CPU µs per span of build `b` over `ms` of the wall clock. */
async function round(b: number, ms: number): Promise<number> {
  const x = builds[b]!;
  let cpu = 0;
  let spans = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const batch: TracesData[] = [];
    for (let i = 0; i < BATCH; i++) {
      batch.push(await x.received(pool[next[b]! % POOL]!));
      next[b]!++;
    }
    gc!();
    const c0 = process.cpuUsage();
    for (const d of batch) await x.step(d);
    const c = process.cpuUsage(c0);
    cpu += c.user + c.system - pair;
    spans += 100 * BATCH;
  }
  return cpu / spans;
}

for (let w = 0; w < 3; w++) for (const b of [0, 1]) await round(b, 1000);
const results: number[][] = [[], []];
for (let r = 0; r < ROUNDS; r++) for (const b of r % 2 ? [1, 0] : [0, 1]) results[b]!.push(await round(b, ROUND_MS));
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
const show = (a: number[]) => `median ${median(a).toFixed(2)}, mean ${mean(a).toFixed(2)}`;
console.log(`${proc}, ${shape} load: A ${show(results[0]!)} | B ${show(results[1]!)} µs CPU per span (${ROUNDS} rounds of ${ROUND_MS} ms each)`);
