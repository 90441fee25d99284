/**
 * One traces processor of two builds side by side in one process, fed requests with ids of their own
 * (bench/loadgen-shape.ts, a new sequence number each, as pipeline-ab.ts): CPU µs per span of its
 * `traces.consume`, in alternating steps of 1000 spans. For the processors whose per-span state is
 * kept by span id (correlate's span index, aibom's span owners): processor-ab.ts replays a pool of
 * 1000 requests, whose ids correlate has indexed already the second time round. A script:
 *
 *   npm run build && node dist/bench/processor-fresh-ab.js <correlate|aibom|baseline|provenance> <llm|agent> <build A> <build B> [rounds=10] [ms per round=1000] [--values varied|fixed]
 *
 * Each step's 10 requests are made, received and put through that build's `normalize` outside the
 * measured window; the processor's next hop does nothing. Its timers run as in the collector, between
 * steps. CPU is `process.cpuUsage` (every thread: V8's GC and compiler threads count). The ratio
 * B/A is per round; on a shared machine the builds see the same load at the same time.
 */
import { abRounds, median } from './ab-rounds.js';
import { parseArgs } from 'node:util';
import { loadValues } from './loadgen-agent-run.js';
import { loadgenRequest } from './loadgen-shape.js';
import { buildModules, type Shape } from './pipeline-build.js';

const PROCESSORS = ['correlate', 'aibom', 'baseline', 'provenance'];
const args = parseArgs({ allowPositionals: true, options: { values: { type: 'string' } } });
const VALUES = loadValues(args.values.values);
const [proc, shape, buildA, buildB, roundsArg, msArg] = args.positionals as [string, Shape, string, string, string?, string?];
if (!PROCESSORS.includes(proc) || !['llm', 'agent'].includes(shape) || !buildA || !buildB) {
  console.error('usage: processor-fresh-ab.js <correlate|aibom|baseline|provenance> <llm|agent> <build A> <build B> [rounds] [ms per round] [--values varied|fixed]');
  process.exit(2);
}
const ROUNDS = Number(roundsArg ?? 10);
const ROUND_MS = Number(msArg ?? 1000);
/** Requests (of 100 spans) per measured step. */
const STEP = 10;

interface Consumer {
  traces: { consume(d: unknown): Promise<void> };
  start(host: unknown): Promise<void>;
  shutdown(): Promise<void>;
}
interface Factory {
  createDefaultConfig(): unknown;
  create(settings: unknown, config: unknown, next: unknown): Consumer;
}

async function build(dir: string) {
  const { tracesCodec, neutralize, silentLogger, Metrics, createHost, findFactory } = await buildModules(dir);
  const metrics = new Metrics();
  const sink = { traces: { consume: async () => {} }, logs: { consume: async () => {} } };
  const make = (id: string) => {
    const f = findFactory('processor', id) as Factory;
    return f.create({ id, name: '', logger: silentLogger(), metrics }, f.createDefaultConfig(), sink);
  };
  const normalize = make('normalize');
  const p = make(proc);
  await p.start(createHost());
  return {
    async received(bytes: Buffer): Promise<unknown> {
      const d = tracesCodec.decodeReceived(bytes);
      neutralize('traces', d);
      await normalize.traces.consume(d);
      return d;
    },
    consume: (d: unknown) => p.traces.consume(d),
    shutdown: () => p.shutdown(),
  };
}

const builds = [await build(buildA), await build(buildB)];
let seq = 1;

/** One step of build `b`: STEP requests made, received and normalized, then consumed: CPU µs of the latter. */
async function step(b: number): Promise<number> {
  const x = builds[b]!;
  const requests: unknown[] = [];
  for (let i = 0; i < STEP; i++) requests.push(await x.received(loadgenRequest(shape, seq++, 100, VALUES)));
  const c0 = process.cpuUsage();
  for (const d of requests) await x.consume(d);
  const c = process.cpuUsage(c0);
  await new Promise((resolve) => setImmediate(resolve));
  return c.user + c.system;
}

const results = await abRounds(step, 100 * STEP, ROUNDS, ROUND_MS);
const ratios = results[1]!.map((b, i) => b / results[0]![i]!);
console.log(
  `${proc}, ${shape} load, fresh ids, ${VALUES} values: A median ${median(results[0]!).toFixed(3)} | B median ${median(results[1]!).toFixed(3)} µs CPU per span; B/A per round median ${median(ratios).toFixed(3)} (${ratios.map((r) => r.toFixed(2)).join(' ')})`,
);
for (const b of builds) await b.shutdown();
