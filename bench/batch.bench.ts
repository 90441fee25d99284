/**
 * The batch processor's own CPU per span on bench/loadgen's requests as the receiver hands them on
 * (spans still bytes), with its default config (send_batch_size 8192, timeout 200ms) and a next hop
 * that takes every batch at once. A plain script, not a timed test:
 *
 *   npm run build && node --expose-gc dist/bench/batch.bench.js [requests=2000] [rounds=5]
 *
 * Each round decodes `requests` requests outside the timed part, then times `consume` of each, the
 * size-triggered cuts and hand-overs included; the median of the rounds is printed per shape.
 */
import { tracesCodec } from '../pipeline/otlp/codec.js';
import type { TracesData } from '../pipeline/otlp/types.js';
import { silentLogger } from '../pipeline/telemetry/logger.js';
import { Metrics } from '../pipeline/telemetry/metrics.js';
import { batchProcessorFactory } from '../processors/batch/index.js';
import { loadgenRequest } from './loadgen-shape.js';

const REQUESTS = Number(process.argv[2] ?? 2000);
const ROUNDS = Number(process.argv[3] ?? 5);
const gc = (globalThis as { gc?: () => void }).gc;

const cpuUs = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function round(shape: 'llm' | 'agent', seq: number): Promise<number> {
  const batch = batchProcessorFactory.create(
    { id: 'batch', name: '', logger: silentLogger(), metrics: new Metrics() },
    batchProcessorFactory.createDefaultConfig(),
    { traces: { consume: async () => {} } },
  );
  const requests: TracesData[] = [];
  let spans = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const d = tracesCodec.decodeReceived(loadgenRequest(shape, seq + i));
    spans += tracesCodec.count(d);
    requests.push(d);
  }
  gc?.();
  const c0 = cpuUs();
  for (const d of requests) await batch.traces!.consume(d);
  const used = cpuUs() - c0;
  await batch.shutdown();
  return used / spans;
}

for (const shape of ['llm', 'agent'] as const) {
  const perSpan: number[] = [];
  for (let r = 0; r < ROUNDS; r++) perSpan.push(await round(shape, r * REQUESTS));
  console.log(`batch, bench/loadgen --shape ${shape}, ${REQUESTS} requests x ${ROUNDS} rounds: ${median(perSpan).toFixed(3)} µs CPU per span (median; rounds ${perSpan.map((x) => x.toFixed(3)).join(' ')})`);
}
