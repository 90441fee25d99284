/**
 * normalize throughput on realistic spans: the processor's testdata (spans captured from the
 * LangChain.js/OpenInference and LangChain/OpenLLMetry test apps, plus GenAI, MCP, LangSmith and
 * OpenInference semconv spans), repeated into one protobuf ExportTraceServiceRequest. A plain script,
 * not a timed test:
 *
 *   npm run build && node --expose-gc dist/bench/normalize.bench.js [spans=1024] [seconds=2]
 *
 * Cases: `canonicalView` alone (reads only); protobuf decode alone; decode + the normalize processor
 * (view + attributes written). The processor's own cost is the difference of the last two.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../pipeline/package-root.js';
import { tracesCodec } from '../pipeline/otlp/codec.js';
import type { ResourceSpans, TracesData } from '../pipeline/otlp/types.js';
import { silentLogger } from '../pipeline/telemetry/logger.js';
import { Metrics } from '../pipeline/telemetry/metrics.js';
import { canonicalView, normalizeProcessorFactory } from '../processors/normalize/index.js';
import { measure } from './measure.js';

const SPANS = Number(process.argv[2] ?? 1024);
const SECONDS = Number(process.argv[3] ?? 2);
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
