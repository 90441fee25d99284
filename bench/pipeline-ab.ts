/**
 * The embedded default's traces pipeline (enrich, normalize, correlate, aibom, baseline, provenance,
 * batch, then the batch encoded as the OTLP exporter encodes it) of two builds side by side in one
 * process, in alternating steps of 1000 spans: CPU µs per span from the received request's bytes to the encoded
 * batch, GC included (no forced collections: a build's garbage is collected while it runs, as in
 * the collector). On a shared machine, runs of separate processes move ±20–30%; here both builds
 * see the same load on the machine at the same time, so steps of a few percent show. A script:
 *
 *   npm run build && node dist/bench/pipeline-ab.js <llm|agent|content> <build A> <build B> [rounds=12] [ms per round=1000] [--values varied|fixed[,varied|fixed]]
 *
 * `--values fixed`: every value but the ids repeats from request to request (the load before
 * `--values`); varied (the default): what a real agent varies differs per request too
 * (bench/loadgen-agent-run.ts `LoadValues`). `--values fixed,varied`: A's load fixed, B's varied
 * (with the same build as A and B, what the repetition saves, measured as the builds are).
 *
 * With `AB_WITHOUT=<processor>` in the environment, build B's pipeline leaves that processor out:
 * with the same build as A and B, what that processor costs within the pipeline (its garbage too).
 *
 * A build is a checkout with `dist/` built (e.g. `git worktree add /tmp/base <rev>`, node_modules
 * linked, `npx tsc -p tsconfig.build.json`). Every request has ids of its own (bench/loadgen-shape.ts,
 * a new sequence number each), made outside the measured window; processors keep their state in
 * memory (no directory). Their timers (batch's timeout, the ticks of correlate, baseline and
 * provenance) run between steps, outside the measured window: they are not counted. CPU is
 * `process.cpuUsage` (every thread of the process: V8's GC and compiler threads count).
 */
import { abRounds, median } from './ab-rounds.js';
import { parseArgs } from 'node:util';
import { loadValues } from './loadgen-agent-run.js';
import { loadgenRequest } from './loadgen-shape.js';
import { buildPipeline, PROCESSORS, type Shape } from './pipeline-build.js';

const args = parseArgs({ allowPositionals: true, options: { values: { type: 'string' } } });
const VALUES = (args.values.values ?? 'varied').split(',').map(loadValues);
if (VALUES.length > 2) throw new Error(`--values: one for both builds or A,B, got ${args.values.values}`);
const [shape, buildA, buildB, roundsArg, msArg] = args.positionals as [Shape, string, string, string?, string?];
if (!['llm', 'agent', 'content'].includes(shape) || !buildA || !buildB) {
  console.error('usage: pipeline-ab.js <llm|agent|content> <build A> <build B> [rounds] [ms per round] [--values varied|fixed[,varied|fixed]]');
  process.exit(2);
}
const ROUNDS = Number(roundsArg ?? 12);
const ROUND_MS = Number(msArg ?? 1000);
/** Requests (of 100 spans) made ahead of each measured step. */
const STEP = 10;

const builds = [await buildPipeline(buildA, PROCESSORS), await buildPipeline(buildB, PROCESSORS.filter((p) => p !== process.env.AB_WITHOUT))];
let seq = 1;

/** One step of build `b`: STEP requests made, then received and consumed: CPU µs of the latter. */
async function step(b: number): Promise<number> {
  const x = builds[b]!;
  const requests: Buffer[] = [];
  for (let i = 0; i < STEP; i++) requests.push(loadgenRequest(shape, seq++, 100, VALUES[b] ?? VALUES[0]));
  const c0 = process.cpuUsage();
  for (const r of requests) await x.consume(x.received(r));
  const c = process.cpuUsage(c0);
  // Lets timers run (batch's timeout, the processors' ticks), outside the measured window.
  await new Promise((resolve) => setImmediate(resolve));
  return c.user + c.system;
}

const results = await abRounds(step, 100 * STEP, ROUNDS, ROUND_MS);
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
const show = (a: number[]) => `median ${median(a).toFixed(2)}, mean ${mean(a).toFixed(2)}`;
const ratios = results[1]!.map((b, i) => b / results[0]![i]!);
console.log(`default traces pipeline, ${shape} load, ${VALUES.join(',')} values: A ${show(results[0]!)} | B ${show(results[1]!)} µs CPU per span; B/A per round ${show(ratios)} (${ROUNDS} rounds of ${ROUND_MS} ms each; spans out A ${builds[0]!.spansOut}, B ${builds[1]!.spansOut})`);
for (const b of builds) await b.shutdown();
