/**
 * normalize throughput on realistic spans: the processor's testdata (spans captured from the
 * LangChain.js/OpenInference and LangChain/OpenLLMetry test apps, plus GenAI, MCP, LangSmith and
 * OpenInference semconv spans), repeated into one protobuf ExportTraceServiceRequest. A plain script,
 * not a timed test:
 *
 *   npm run build && node --expose-gc dist/bench/normalize.bench.js [spans=1024] [seconds=2] [rounds=3]
 *
 * Cases: `canonicalView` alone (reads only); protobuf decode alone; decode + the normalize processor
 * (view + attributes written). The processor's own cost is the difference of the last two.
 *
 * Then bench/loadgen's requests (`--shape llm` and `agent`) as the receiver hands them on (spans
 * still bytes), CPU µs per span, the cases interleaved over `rounds` (median): received alone (taken
 * off the others); + `canonicalView`; + the normalize processor; + what the rest of the default
 * pipeline reads through the span view after it (the view again per processor, ids, times,
 * `hasContent`, one more key walk as baseline's first user message does); normalize + the exporter's
 * encode of its output (82 requests batched, as the batch processor hands them on).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../pipeline/package-root.js';
import { tracesCodec } from '../pipeline/otlp/codec.js';
import type { ResourceSpans, Span, TracesData } from '../pipeline/otlp/types.js';
import { silentLogger } from '../pipeline/telemetry/logger.js';
import { Metrics } from '../pipeline/telemetry/metrics.js';
import { eachAttribute, spanIds } from '../pipeline/otlp/span-view.js';
import { canonicalView, hasContent, normalizeProcessorFactory } from '../processors/normalize/index.js';
import { loadgenRequest } from './loadgen-shape.js';
import { measure } from './measure.js';

const SPANS = Number(process.argv[2] ?? 1024);
const SECONDS = Number(process.argv[3] ?? 2);
const ROUNDS = Number(process.argv[4] ?? 3);
const FIXTURES = [
  'openinference-langchain-js.json',
  'openllmetry-langchain-py.json',
  'gen-ai-semconv.json',
  'mcp-semconv.json',
  'langsmith-otel.json',
  'openinference-semconv.json',
  'openllmetry-legacy.json',
];

function request(spans: number): TracesData {
  const dir = join(packageRoot(), 'processors', 'normalize', 'testdata');
  const groups: ResourceSpans[] = FIXTURES.flatMap((f) => tracesCodec.fromJson(readFileSync(join(dir, f), 'utf8')).resourceSpans);
  const out: ResourceSpans[] = [];
  let n = 0;
  for (let i = 0; n < spans; i++) {
    const g = groups[i % groups.length]!;
    const scopeSpans = [];
    for (const ss of g.scopeSpans) {
      if (n >= spans) break;
      const taken = ss.spans.slice(0, spans - n);
      n += taken.length;
      scopeSpans.push({ ...ss, spans: taken });
    }
    out.push({ ...g, scopeSpans });
  }
  return { resourceSpans: out };
}


const proto = tracesCodec.encode(request(SPANS));
const decoded = tracesCodec.decode(proto);
const count = tracesCodec.count(decoded);
let attributes = 0;
let recognised = 0;
for (const rs of decoded.resourceSpans) {
  for (const ss of rs.scopeSpans) {
    for (const s of ss.spans) {
      attributes += s.attributes?.length ?? 0;
      if (canonicalView(s)) recognised++;
    }
  }
}

const processor = normalizeProcessorFactory.create(
  { id: 'normalize', name: '', logger: silentLogger(), metrics: new Metrics() },
  normalizeProcessorFactory.createDefaultConfig(),
  { traces: { consume: async () => {} } },
);
let sink = 0;
const results = [
  measure('canonicalView (read only)', () => {
    for (const rs of decoded.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) if (canonicalView(s)) sink++;
  }, SECONDS, 5),
  measure('protobuf decode', () => tracesCodec.decode(proto), SECONDS, 5),
  measure('protobuf decode + normalize', () => processor.traces!.consume(tracesCodec.decode(proto)), SECONDS, 5),
];
if (sink < 0) console.log(sink); // keep the view calls observable

console.log(`ExportTraceServiceRequest: ${count} spans (${recognised} recognised), ${(attributes / count).toFixed(1)} attributes/span, protobuf ${proto.length} bytes`);
console.log(`node ${process.version}, ${SECONDS}s per case`);
console.log('case                            requests/s      spans/s');
for (const r of results) {
  console.log(`${r.name.padEnd(30)} ${r.opsPerSec.toFixed(1).padStart(10)} ${Math.round(r.opsPerSec * count).toLocaleString('en-US').padStart(12)}`);
}
const decodeOnly = 1 / results[1]!.opsPerSec;
const withNormalize = 1 / results[2]!.opsPerSec;
console.log(`normalize processor alone (difference): ${Math.round(count / (withNormalize - decodeOnly)).toLocaleString('en-US')} spans/s`);

// ---------------------------------------------------------------- bench/loadgen's requests, received

/** Each span of a received request. */
function eachSpan(data: TracesData, fn: (s: Span) => void): void {
  for (const rs of data.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) fn(s);
}

/** What correlate, aibom, baseline and provenance read of each span through the views after normalize. */
function laterReads(s: Span): void {
  const ids = spanIds(s);
  const view = canonicalView(s);
  if (view && canonicalView(s) && canonicalView(s) && canonicalView(s) && hasContent(s, view)) sink++;
  eachAttribute(s, (k) => k.charCodeAt(0) === 0);
  if (ids.traceId.length + s.name.length + Number(s.startTimeUnixNano !== s.endTimeUnixNano) + (s.kind ?? 0) < 0) sink++;
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const shape of ['llm', 'agent'] as const) {
  const bytes = loadgenRequest(shape, 1);
  const batch: ResourceSpans[] = [];
  const n = tracesCodec.count(tracesCodec.decodeReceived(bytes));
  const cases: [string, () => unknown][] = [
    ['received (taken off)', () => tracesCodec.decodeReceived(bytes)],
    ['+ canonicalView', () => eachSpan(tracesCodec.decodeReceived(bytes), (s) => void canonicalView(s))],
    ['+ normalize processor', () => processor.traces!.consume(tracesCodec.decodeReceived(bytes))],
    [
      // What the exporter does with normalize's output: 82 requests (8200 spans) batched and encoded.
      '+ normalize + encode (batched)',
      () => {
        const d = tracesCodec.decodeReceived(bytes);
        void processor.traces!.consume(d);
        batch.push(...d.resourceSpans);
        if (batch.length === 82) {
          sink += tracesCodec.encode({ resourceSpans: batch }).length;
          batch.length = 0;
        }
      },
    ],
    [
      '+ normalize + later view reads',
      () => {
        const d = tracesCodec.decodeReceived(bytes);
        void processor.traces!.consume(d);
        eachSpan(d, laterReads);
      },
    ],
  ];
  const cpu = new Map<string, number[]>(cases.map(([c]) => [c, []]));
  for (let r = 0; r < ROUNDS; r++) for (const [c, fn] of cases) cpu.get(c)!.push(1e6 / measure(c, fn, SECONDS).opsPerCpuSec / n);
  const base = median(cpu.get(cases[0]![0])!);
  console.log(`\nbench/loadgen --shape ${shape}: ${n} spans per request, protobuf ${bytes.length} bytes, received (spans still bytes); ${ROUNDS} rounds x ${SECONDS}s, median CPU per span`);
  console.log('case                              µs CPU/span   less received');
  for (const [c] of cases) {
    const all = median(cpu.get(c)!);
    console.log(`${c.padEnd(32)} ${all.toFixed(2).padStart(12)} ${c === cases[0]![0] ? '' : (all - base).toFixed(2).padStart(15)}`);
  }
}
