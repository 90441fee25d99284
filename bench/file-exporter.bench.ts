/**
 * The file exporter's OTLP/JSON: codec.toJson (decodes every span, then protobufjs toObject) against
 * pipeline/otlp/json-writer.ts (transcodes received spans from their bytes), on bench/loadgen's
 * request (100 LLM client spans, 10 GenAI/HTTP attributes and a gen_ai.choice event each) as the
 * embedded default's processors leave it (received, normalize's attributes appended). Each call
 * receives the request afresh (toJson decodes the spans in place), so that cost is measured alone
 * too and taken off. Cases interleaved, CPU time per span. A script, not a timed test:
 *
 *   npm run build && node --expose-gc dist/bench/file-exporter.bench.js [rounds=3] [seconds=2]
 */
import Long from 'long';
import { attr, attrs } from '../pipeline/otlp/attributes.js';
import { tracesCodec } from '../pipeline/otlp/codec.js';
import { tracesJson } from '../pipeline/otlp/json-writer.js';
import type { Span, TracesData } from '../pipeline/otlp/types.js';
import { canonicalView } from '../processors/normalize/canonical.js';
import { writeAttributes } from '../processors/normalize/processor.js';
import { measure } from './measure.js';
import { LOADGEN_CHOICE_ATTRIBUTES, LOADGEN_LLM_ATTRIBUTES } from './loadgen-shape.js';

const ROUNDS = Number(process.argv[2] ?? 3);
const SECONDS = Number(process.argv[3] ?? 2);
const SPANS = 100;

/** bench/loadgen's request(seq, 100). */
function loadgenRequest(seq: number): Buffer {
  const now = Long.fromString('1764470000123456789', true);
  const spans: Span[] = [];
  for (let i = 0; i < SPANS; i++) {
    const tid = Buffer.alloc(16);
    tid.writeBigUInt64BE(BigInt(seq));
    tid.writeBigUInt64BE(BigInt(i) | 0x0af7651916cd0000n, 8);
    const sid = Buffer.alloc(8);
    sid.writeBigUInt64BE((BigInt(seq) << 20n) | BigInt(i + 1));
    spans.push({
      traceId: tid,
      spanId: sid,
      parentSpanId: Buffer.from([0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31]),
      name: 'chat gpt-4o',
      kind: 3,
      startTimeUnixNano: now,
      endTimeUnixNano: now.add(1_500_000_000),
      attributes: attrs(LOADGEN_LLM_ATTRIBUTES),
      events: [{ timeUnixNano: now.add(10), name: 'gen_ai.choice', attributes: attrs(LOADGEN_CHOICE_ATTRIBUTES) }],
      status: { code: 1 },
    });
  }
  return Buffer.from(
    tracesCodec.encode({
      resourceSpans: [
        {
          resource: { attributes: [attr('service.name', 'bench-agent'), attr('process.pid', 1234), attr('host.name', 'bench')] },
          scopeSpans: [{ scope: { name: 'bench', version: '1' }, spans }],
        },
      ],
    }),
  );
}

const bytes = loadgenRequest(1);
if (process.env.BENCH_DUMP) (await import("node:fs")).writeFileSync(process.env.BENCH_DUMP, bytes);

/** The request as the default pipeline hands it to its exporters: received, normalize's attributes appended. */
function afterPipeline(): TracesData {
  const d = tracesCodec.decodeReceived(bytes);
  for (const rs of d.resourceSpans) for (const ss of rs.scopeSpans) for (const span of ss.spans) writeAttributes(span, canonicalView(span));
  return d;
}

if (tracesJson(afterPipeline()).toString() !== tracesCodec.toJson(afterPipeline())) throw new Error('json-writer and toJson differ on the bench request');

const cases: [string, () => unknown][] = [
  ['received + normalize (taken off)', afterPipeline],
  ['codec.toJson', () => tracesCodec.toJson(afterPipeline())],
  ['json-writer tracesJson', () => tracesJson(afterPipeline())],
];
const cpu = new Map<string, number[]>(cases.map(([n]) => [n, []]));
for (let r = 0; r < ROUNDS; r++) for (const [name, fn] of cases) cpu.get(name)!.push(1e6 / measure(name, fn, SECONDS).opsPerCpuSec / SPANS);

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(cpu.get(cases[0]![0])!);
console.log(`loadgen request: ${SPANS} spans, protobuf ${bytes.length} bytes, JSON ${tracesJson(afterPipeline()).length} bytes; node ${process.version}, ${ROUNDS} rounds x ${SECONDS}s, median`);
console.log('case                               us CPU/span (all)   us CPU/span (JSON only)   JSON spans per CPU second');
for (const [name] of cases) {
  const all = median(cpu.get(name)!);
  const own = name === cases[0]![0] ? all : all - base;
  console.log(`${name.padEnd(34)} ${all.toFixed(2).padStart(17)} ${own.toFixed(2).padStart(25)} ${name === cases[0]![0] ? '' : Math.round(1e6 / own).toLocaleString('en-US').padStart(27)}`);
}
