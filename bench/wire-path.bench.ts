/**
 * The batch-only path in process, per span: what `passthrough.ts --pipeline batch` makes the
 * collector do between grpc-js handing over a request's bytes and grpc-js taking the encoded batch,
 * on bench/loadgen's requests (100 LLM client spans, each its own trace, 10 attributes + 1 event).
 *
 *   npm run build && node --expose-gc dist/bench/wire-path.bench.js [seconds=2] [case...]
 *
 * Cases: `check` (wire-check.ts over every span of a request), `receive` (decodeReceived +
 * neutralize, what the receiver does), `batch` (receive, then the batch processor with its defaults,
 * whose full batches are encoded as the exporter does, into its payload pool), `encode` (an 8192-span
 * batch of received spans into a new buffer each time). Figures are CPU time (user + system, GC included) per span, so a shared machine moves them
 * less than wall time.
 */
import { randomBytes } from 'node:crypto';
import Long from 'long';
import { attr } from '../pipeline/otlp/attributes.js';
import { tracesCodec } from '../pipeline/otlp/codec.js';
import type { Span, TracesData } from '../pipeline/otlp/types.js';
import { checkSpan } from '../pipeline/otlp/wire-check.js';
import { WireSpan } from '../pipeline/otlp/wire-span.js';
import { silentLogger } from '../pipeline/telemetry/logger.js';
import { Metrics } from '../pipeline/telemetry/metrics.js';
import { PayloadPool } from '../exporters/otlp/payload-pool.js';
import { Batcher } from '../processors/batch/batcher.js';
import { createDefaultConfig } from '../processors/batch/config.js';
import { neutralize } from '../receiver/otlp/neutralize.js';
import { LOADGEN_CHOICE_ATTRIBUTES, LOADGEN_LLM_ATTRIBUTES } from './loadgen-shape.js';

const SECONDS = Number(process.argv[2] ?? 2);
const CASES = process.argv.slice(3);
const SPANS = 100;
const DISTINCT = 64;
const gc = (globalThis as { gc?: () => void }).gc;

/** One loadgen LLM request (bench/loadgen/main.go `llmRequest`) with fresh random ids. */
function request(): Buffer {
  const start = Long.fromString(String(Date.now()) + '000000', true);
  const parent = randomBytes(8);
  const spans: Span[] = [];
  for (let i = 0; i < SPANS; i++) {
    spans.push({
      traceId: randomBytes(16),
      spanId: randomBytes(8),
      parentSpanId: parent,
      name: 'chat gpt-4o',
      kind: 3,
      startTimeUnixNano: start,
      endTimeUnixNano: start.add(1_500_000_000),
      attributes: Object.entries(LOADGEN_LLM_ATTRIBUTES).map(([k, v]) => attr(k, v)),
      events: [{ timeUnixNano: start.add(10), name: 'gen_ai.choice', attributes: Object.entries(LOADGEN_CHOICE_ATTRIBUTES).map(([k, v]) => attr(k, v)) }],
      status: { code: 1 },
    });
  }
  const data: TracesData = {
    resourceSpans: [
      {
        resource: { attributes: [attr('service.name', 'bench-agent'), attr('process.pid', 1234), attr('host.name', 'bench')] },
        scopeSpans: [{ scope: { name: 'bench', version: '1' }, spans }],
      },
    ],
  };
  return Buffer.from(tracesCodec.encode(data));
}

const requests = Array.from({ length: DISTINCT }, request);

/** Runs `round` (awaited) for SECONDS; CPU microseconds per span. */
async function perSpan(name: string, round: (i: number) => unknown, spansPerRound = SPANS): Promise<void> {
  for (let i = 0; i < 200; i++) await round(i);
  gc?.();
  let n = 0;
  const cpu = process.cpuUsage();
  const deadline = performance.now() + SECONDS * 1000;
  while (performance.now() < deadline) for (let k = 0; k < 16; k++) await round(n++);
  const used = process.cpuUsage(cpu);
  const us = (used.user + used.system) / (n * spansPerRound);
  console.log(`${name.padEnd(44)} ${us.toFixed(3).padStart(7)} us CPU per span   (${Math.round(1e6 / us).toLocaleString('en-US').padStart(9)} spans per CPU second)`);
}

const bounds = requests.map((buf) => {
  const spans = tracesCodec.decodeReceived(buf).resourceSpans[0]!.scopeSpans[0]!.spans as WireSpan[];
  return spans.flatMap((s) => [s.start, s.end]);
});

const want = (c: string) => CASES.length === 0 || CASES.includes(c);
const receive = (i: number) => {
  const d = tracesCodec.decodeReceived(requests[i % DISTINCT]!);
  neutralize('traces', d);
  return d;
};

console.log(`loadgen LLM requests: ${SPANS} spans, ${requests[0]!.length} bytes; node ${process.version}; ${SECONDS} s per case`);
if (want('check')) {
  await perSpan('check (wire-check.ts, every span)', (i) => {
    const buf = requests[i % DISTINCT]!;
    const b = bounds[i % DISTINCT]!;
    for (let k = 0; k < b.length; k += 2) checkSpan(buf, b[k]!, b[k + 1]!);
  });
}
if (want('receive')) await perSpan('receive (decodeReceived + neutralize)', receive);
if (want('batch')) {
  let sink = 0;
  // As the exporter encodes: into its payload pool, the payload handed back once sent.
  const pool = new PayloadPool(16 << 20);
  const exporter = async (d: TracesData) => {
    const payload = tracesCodec.encode(d, (len) => pool.take(len));
    sink += payload.length;
    pool.give(payload);
  };
  const batcher = new Batcher('traces', createDefaultConfig(), { consume: exporter }, 'batch', new Metrics(), silentLogger());
  await perSpan('batch-only path (receive, batch, encode)', (i) => batcher.consume(receive(i)));
  await batcher.shutdown();
  if (sink === 0) throw new Error('nothing was encoded');
}
if (want('encode')) {
  const batch: TracesData = { resourceSpans: [] };
  const merged = new Batcher('traces', { ...createDefaultConfig(), sendBatchSize: 8192 }, { consume: async (d) => void batch.resourceSpans.push(...d.resourceSpans) }, 'batch', new Metrics(), silentLogger());
  for (let i = 0; i < 82; i++) await merged.consume(receive(i));
  await merged.shutdown();
  const n = tracesCodec.count(batch);
  await perSpan(`encode (a batch of ${n} received spans)`, () => tracesCodec.encode(batch), n);
}
