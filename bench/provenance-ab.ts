/**
 * provenance of two builds side by side in one process, on the reference spans with content
 * (processors/provenance/testdata/reference-agents.jsonl: 7 traces, 44 spans, 249 KiB of attribute
 * text), in alternating steps (ab-rounds.ts): CPU µs per span of `observe` (the work on the span path:
 * canonical view, content, hashing into the views). A script:
 *
 *   npm run build && node dist/bench/provenance-ab.js <fresh|repeated> <build A> <build B> [rounds=10] [ms per round=1000]
 *
 * fresh: a processor of its own per step, so no open trace has read the step's content before (what
 * every trace costs when no two carry the same text); repeated: one processor per build, every step's
 * traces (the same content under trace ids of their own) added while the earlier steps' are open, as
 * the reference agent's runs (a trace each) read the same tool results again; a new processor every 64
 * steps. Each build decodes its own copies (its own span classes and caches), made before the rounds.
 * CPU is `process.cpuUsage` (every thread). The ratio B/A is per round.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { abArgs, abRounds, median } from './ab-rounds.js';

const {
  picked: [mode],
  buildA,
  buildB,
  rounds: ROUNDS,
  roundMs: ROUND_MS,
} = abArgs('provenance-ab', [['fresh', 'repeated']], { rounds: 10, ms: 1000 });
const COPIES = 64;

type Batch = { resourceSpans: { scopeSpans: { spans: { traceId: Uint8Array }[] }[] }[] };
interface Observer {
  observe(d: Batch): void;
}

const lines = readFileSync(join(buildA, 'processors', 'provenance', 'testdata', 'reference-agents.jsonl'), 'utf8').split('\n').filter(Boolean);
const SPANS = 44;

async function build(dir: string) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const load = (path: string): Promise<any> => import(`${dir}/dist/${path}`);
  const { tracesCodec } = await load('pipeline/otlp/codec.js');
  const { silentLogger } = await load('pipeline/telemetry/logger.js');
  const { Metrics } = await load('pipeline/telemetry/metrics.js');
  const { createDefaultConfig } = await load('processors/provenance/config.js');
  const { ProvenanceProcessor } = await load('processors/provenance/provenance-processor.js');
  const make = (): Observer =>
    new ProvenanceProcessor({ id: 'provenance', name: '', logger: silentLogger(), metrics: new Metrics() }, { ...createDefaultConfig(), maxOpenTraces: 1_000_000 }, { traces: { consume: async () => {} }, logs: { consume: async () => {} } }, () => 0);
  /** The reference batches, copy `c` under trace ids of its own. */
  const copies = Array.from({ length: COPIES }, (_, c) =>
    lines.map((l) => {
      const d = tracesCodec.fromJson(l) as Batch;
      for (const rs of d.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) Buffer.from(s.traceId.buffer, s.traceId.byteOffset, 4).writeUInt32BE(c + 1);
      return d;
    }),
  );
  let p = make();
  let n = 0;
  return {
    step(): number {
      if (mode === 'fresh' || n % COPIES === 0) p = make();
      const round = copies[n++ % COPIES]!;
      const c0 = process.cpuUsage();
      for (const b of round) p.observe(b);
      const c = process.cpuUsage(c0);
      return c.user + c.system;
    },
  };
}

const builds = [await build(buildA), await build(buildB)];
const [a, b] = await abRounds(async (i) => builds[i]!.step(), SPANS, ROUNDS, ROUND_MS);
const ratios = a.map((x, i) => b[i]! / x);
console.log(`provenance observe, ${mode} content: A median ${median(a).toFixed(1)} | B median ${median(b).toFixed(1)} µs CPU per span; B/A per round ${ratios.map((r) => r.toFixed(2)).join(' ')}; median ${median(ratios).toFixed(3)} (${ROUNDS} rounds of ${ROUND_MS} ms)`);
