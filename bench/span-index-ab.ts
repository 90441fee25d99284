/**
 * correlate's span index alone (`SpanIndex.addAll`, what correlate does per span on arrival) of two
 * builds side by side in one process, on the pass-through bench's load (bench/loadgen-shape.ts, ids of
 * their own per request), in alternating steps of 2000 spans: CPU µs per span. Each index is filled to
 * the default bound (200k rows, the oldest leaving as spans arrive, as in a collector under load)
 * before the measured rounds, so the columns' growth is not measured. Each step's requests are made,
 * received and given their canonical views outside the measured window, and their ids and times read
 * once (in the pipeline the arrival check's first reader pays that, whichever processor it is), so the
 * index's own work is what is measured. A script:
 *
 *   npm run build && node dist/bench/span-index-ab.js <llm|agent> <build A> <build B> [rounds=12] [ms per round=1000]
 */
import { abArgs, abRounds, median } from './ab-rounds.js';
import { loadgenRequest } from './loadgen-shape.js';
import type { Shape } from './pipeline-build.js';

const args = abArgs('span-index-ab', [['llm', 'agent']], { rounds: 12, ms: 1000 });
const shape = args.picked[0] as Shape;
const { buildA, buildB, rounds: ROUNDS, roundMs: ROUND_MS } = args;
/** Requests (of 100 spans) per step. */
const STEP = 20;
const BOUND = 200_000;

interface Received {
  spans: unknown[];
  views: unknown[];
}

async function build(dir: string) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const load = (p: string): Promise<any> => import(`${dir}/dist/${p}`);
  const { tracesCodec } = await load('pipeline/otlp/codec.js');
  const { neutralize } = await load('receiver/otlp/neutralize.js');
  const { SpanIndex } = await load('processors/correlate/span-index.js');
  const { canonicalView } = await load('processors/normalize/index.js');
  const { locateId, startMicros } = await load('pipeline/otlp/span-view.js');
  const index = new SpanIndex(BOUND);
  const facts = { pid: 1234, pidSource: undefined, serviceName: 'bench-agent' };
  const covered = { from: 0, to: 0 };
  return {
    received(bytes: Buffer): Received {
      const d = tracesCodec.decodeReceived(bytes);
      neutralize('traces', d);
      const spans = d.resourceSpans[0].scopeSpans[0].spans as unknown[];
      const views = spans.map((s) => {
        locateId(s, 'traceId');
        startMicros(s);
        return canonicalView(s);
      });
      return { spans, views };
    },
    add: (r: Received) => index.addAll(r.spans, r.views, facts, Date.now(), covered),
  };
}

const builds = [await build(buildA), await build(buildB)];
let seq = 1;

/** One step of build `b`: STEP requests made and received, then indexed: CPU µs of the latter. */
async function step(b: number): Promise<number> {
  const x = builds[b]!;
  const requests: Received[] = [];
  for (let i = 0; i < STEP; i++) requests.push(x.received(loadgenRequest(shape, seq++, 100)));
  const c0 = process.cpuUsage();
  for (const r of requests) x.add(r);
  const c = process.cpuUsage(c0);
  return c.user + c.system;
}

for (let filled = 0; filled < BOUND; filled += STEP * 100) for (let b = 0; b < 2; b++) await step(b);
const results = await abRounds(step, 100 * STEP, ROUNDS, ROUND_MS);
const ratios = results[1]!.map((b, i) => b / results[0]![i]!);
console.log(
  `span index, ${shape} load, fresh ids: A median ${median(results[0]!).toFixed(3)} | B median ${median(results[1]!).toFixed(3)} µs CPU per span; B/A per round median ${median(ratios).toFixed(3)} (${ratios.map((r) => r.toFixed(2)).join(' ')})`,
);
