/**
 * OTLP codec throughput: decode and encode of a realistic ExportTraceServiceRequest, in spans/s
 * and MB/s (of protobuf), for protobuf and OTLP/JSON. A plain script, not a timed test:
 *
 *   npm run build && node --expose-gc dist/bench/otlp-codec.bench.js [spans=512] [seconds=2]
 */
import Long from 'long';
import { attr } from '../pipeline/otlp/attributes.js';
import { tracesCodec } from '../pipeline/otlp/codec.js';
import type { Span, TracesData } from '../pipeline/otlp/types.js';
import { canonicalView } from '../processors/normalize/canonical.js';
import { writeAttributes } from '../processors/normalize/processor.js';
import { neutralize } from '../receiver/otlp/neutralize.js';
import { measure } from './measure.js';

const SPANS = Number(process.argv[2] ?? 512);
const SECONDS = Number(process.argv[3] ?? 2);

function id(bytes: number, seed: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (seed * 131 + i * 7919) & 0xff;
  return out;
}

/** One agent process's batch: LLM and tool spans with GenAI attributes, one event each. */
function request(spans: number): TracesData {
  const base = Long.fromString('1700000000123456789', true);
  const list: Span[] = [];
  for (let i = 0; i < spans; i++) {
    const start = base.add(i * 1_000_003);
    list.push({
      traceId: id(16, i >> 4),
      spanId: id(8, i),
      parentSpanId: id(8, i - 1),
      name: i % 3 === 0 ? 'chat gpt-4o' : `execute_tool search_docs_${i % 7}`,
      kind: 3,
      startTimeUnixNano: start,
      endTimeUnixNano: start.add(250_000_000 + i),
      attributes: [
        attr('gen_ai.system', 'openai'),
        attr('gen_ai.operation.name', 'chat'),
        attr('gen_ai.request.model', 'gpt-4o-2024-08-06'),
        attr('gen_ai.usage.input_tokens', 1200 + i),
        attr('gen_ai.usage.output_tokens', 300 + (i % 50)),
        attr('gen_ai.request.temperature', 0.2),
        attr('server.address', 'api.openai.com'),
        attr('server.port', 443),
        attr('http.response.status_code', 200),
        attr('aibom.tool.argument_shape', '{"query":"string","top_k":"int"}'),
      ],
      events: [{ timeUnixNano: start.add(1000), name: 'gen_ai.content.prompt', attributes: [attr('gen_ai.prompt', 'Summarise the quarterly report in three bullet points.')] }],
      status: { code: 1 },
    });
  }
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [
            attr('service.name', 'research-agent'),
            attr('service.version', '1.4.2'),
            attr('process.pid', 4242),
            attr('process.executable.path', '/usr/local/bin/python3.12'),
            attr('container.id', 'a3f1c2d4e5b6a7980123456789abcdef0123456789abcdef0123456789abcdef'),
            attr('k8s.pod.name', 'research-agent-7d9f8c6b5-x2x9q'),
            attr('k8s.namespace.name', 'agents'),
            attr('telemetry.sdk.language', 'python'),
          ],
        },
        scopeSpans: [{ scope: { name: 'opentelemetry.instrumentation.langchain', version: '0.33.0' }, spans: list }],
      },
    ],
  };
}



const data = request(SPANS);
const proto = tracesCodec.encode(data);
const json = tracesCodec.toJson(tracesCodec.decode(proto));
const decoded = tracesCodec.decode(proto);
if (tracesCodec.count(decoded) !== SPANS) throw new Error('bench request does not round-trip');

// receiver/otlp renames reserved `aibom.*` names before handing a request on: the request above has
// one per span (worst case: every span renamed); once renamed, a pass finds none (the usual case).
const clean = tracesCodec.decode(proto);
neutralize('traces', clean);

// What a receiver does now (spans kept as their bytes, wire-span.ts) and what batch-only pass-through
// then costs: decodeReceived + encode copies every untouched span. On the renamed request (no reserved
// key, the usual case) and on the original (every span renamed, so decoded).
const cleanProto = tracesCodec.encode(clean);
const reader = (bytes: Uint8Array) => {
  const d = tracesCodec.decodeReceived(bytes);
  neutralize('traces', d);
  return d;
};

/** The per-span reads and writes of the default traces pipeline: normalize's view and additions, correlate's view, ids and times. */
function viewsOfDefaultPipeline(d: TracesData): TracesData {
  for (const rs of d.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) writeAttributes(span, canonicalView(span));
      for (const span of ss.spans) {
        const v = canonicalView(span);
        if (v && span.traceId.length + span.spanId.length === 0 && span.startTimeUnixNano === span.endTimeUnixNano && span.name === '') throw new Error('unreachable');
      }
    }
  }
  return d;
}

const results = [
  measure('received + pipeline views + encode', () => tracesCodec.encode(viewsOfDefaultPipeline(reader(cleanProto))), SECONDS),
  measure('decoded + pipeline views + encode', () => tracesCodec.encode(viewsOfDefaultPipeline(tracesCodec.decode(cleanProto))), SECONDS),
  measure('received decode, clean', () => reader(cleanProto), SECONDS),
  measure('received decode+encode, clean', () => tracesCodec.encode(reader(cleanProto)), SECONDS),
  measure('received decode+encode, reserved', () => tracesCodec.encode(reader(proto)), SECONDS),
  measure('protobuf decode', () => tracesCodec.decode(proto), SECONDS),
  measure('protobuf decode+neutralize', () => neutralize('traces', tracesCodec.decode(proto)), SECONDS),
  measure('neutralize, none reserved', () => neutralize('traces', clean), SECONDS),
  measure('protobuf encode', () => tracesCodec.encode(decoded), SECONDS),
  measure('protobuf decode+encode', () => tracesCodec.encode(tracesCodec.decode(proto)), SECONDS),
  measure('json decode (fromJson)', () => tracesCodec.fromJson(json), SECONDS),
  measure('json encode (toJson)', () => tracesCodec.toJson(decoded), SECONDS),
];

const mb = proto.length / 1e6;
console.log(`ExportTraceServiceRequest: ${SPANS} spans x 10 attributes + 1 event, protobuf ${proto.length} bytes, JSON ${json.length} bytes`);
console.log(`node ${process.version}, ${SECONDS}s per case`);
console.log('case                              requests/s     spans/s   MB/s (protobuf size)   spans per CPU second');
for (const r of results) {
  console.log(
    `${r.name.padEnd(33)} ${r.opsPerSec.toFixed(1).padStart(10)} ${Math.round(r.opsPerSec * SPANS).toLocaleString('en-US').padStart(11)} ${(r.opsPerSec * mb).toFixed(1).padStart(8)} ${Math.round(r.opsPerCpuSec * SPANS).toLocaleString('en-US').padStart(26)}`,
  );
}
