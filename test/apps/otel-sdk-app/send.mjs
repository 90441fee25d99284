#!/usr/bin/env node
// A real OpenTelemetry JS SDK application (NodeSDK + OTLP exporters) that sends a trace of known
// shape plus log records, then prints on stdout one JSON document describing exactly what it sent.
//
// Usage:
//   node send.mjs [--endpoint URL] [--protocol grpc|http] [--service NAME] [--no-logs]
//                 [--spans N [--per-trace M] [--interval-ms T]] [--timeout-ms T]
// Env: OTEL_EXPORTER_OTLP_ENDPOINT (default http://127.0.0.1:4317 for grpc, :4318 for http),
//      OTEL_EXPORTER_OTLP_PROTOCOL (grpc, or anything starting with "http" = OTLP/HTTP JSON),
//      OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES (merged by the SDK as usual).
//
// Default mode ("shape"): two traces. Trace A: root `checkout` (SERVER) with every span attribute
// type, children `db.query` (CLIENT, events), `payment.charge` (CLIENT, status ERROR + exception
// event), `queue.publish` (PRODUCER, link to trace B's span), `compute` (INTERNAL) -> `render`.
// Trace B: `background.job` (CONSUMER). Log records: INFO string body in the root span's context,
// ERROR with a kvlist body and map/bytes attributes in `payment.charge`'s context, and one WARN with
// no trace context.
// `--spans N` mode: N spans named `load.span.<i>` grouped into traces of M spans (default 100; the
// first span of each group is the root), optionally spaced by --interval-ms.
//
// Output (stdout, one JSON line): { mode, endpoint, protocol, traceIds, resource, spans:[...],
// logs:[...], export:{ spans:{ok,failed,calls}, logs:{ok,failed,calls}, errors:[...] } }.
// Times are unix nanoseconds as strings; span ids/trace ids lowercase hex.
// Exit code 0 even if exporting failed (see export.*.failed); 2 on bad arguments.

import { NodeSDK } from '@opentelemetry/sdk-node';
import { trace, context, SpanKind, SpanStatusCode, diag, DiagLogLevel } from '@opentelemetry/api';
import { logs, SeverityNumber } from '@opentelemetry/api-logs';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPTraceExporter as HttpTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPLogExporter as HttpLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { parseArgs } from '../lib/args.mjs';


const args = parseArgs(process.argv.slice(2));
const protoRaw = String(args.protocol ?? process.env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'grpc');
const protocol = protoRaw.startsWith('http') ? 'http' : 'grpc';
if (!['grpc', 'http'].includes(protocol)) { console.error(`bad --protocol ${protoRaw}`); process.exit(2); }
const endpoint = String(args.endpoint ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT
  ?? (protocol === 'grpc' ? 'http://127.0.0.1:4317' : 'http://127.0.0.1:4318')).replace(/\/$/, '');
const serviceName = String(args.service ?? process.env.OTEL_SERVICE_NAME ?? 'otel-sdk-app');
const timeoutMillis = Number(args['timeout-ms'] ?? 5000);
const nSpans = args.spans != null ? Number(args.spans) : 0;
const perTrace = Math.max(1, Number(args['per-trace'] ?? 100));
const intervalMs = Number(args['interval-ms'] ?? 0);
const withLogs = !args['no-logs'];
if (args.spans != null && !(nSpans > 0)) { console.error('--spans needs a positive number'); process.exit(2); }

const exportStats = { spans: { ok: 0, failed: 0, calls: 0 }, logs: { ok: 0, failed: 0, calls: 0 }, errors: [] };
let seenResource = null;

// Wrap an exporter to count what was acknowledged by the receiver.
function counted(exporter, kind) {
  const orig = exporter.export.bind(exporter);
  exporter.export = (items, cb) => {
    exportStats[kind].calls++;
    if (!seenResource && items[0]?.resource) seenResource = items[0].resource;
    orig(items, (result) => {
      if (result.code === 0) exportStats[kind].ok += items.length;
      else {
        exportStats[kind].failed += items.length;
        exportStats.errors.push(`${kind}: ${result.error?.message ?? 'export failed'}`);
      }
      cb(result);
    });
  };
  return exporter;
}

const traceExporter = counted(protocol === 'grpc'
  ? new GrpcTraceExporter({ url: endpoint, timeoutMillis })
  : new HttpTraceExporter({ url: `${endpoint}/v1/traces`, timeoutMillis }), 'spans');
const logExporter = counted(protocol === 'grpc'
  ? new GrpcLogExporter({ url: endpoint, timeoutMillis })
  : new HttpLogExporter({ url: `${endpoint}/v1/logs`, timeoutMillis }), 'logs');

if (process.env.OTEL_LOG_LEVEL) diag.setLogger({ error: console.error, warn: console.error, info: console.error, debug: console.error, verbose: console.error }, DiagLogLevel[process.env.OTEL_LOG_LEVEL.toUpperCase()] ?? DiagLogLevel.WARN);

const sdk = new NodeSDK({
  resource: resourceFromAttributes({
    'service.name': serviceName,
    'service.version': '1.0.0',
    'deployment.environment.name': 'test',
  }),
  spanProcessors: [new BatchSpanProcessor(traceExporter, {
    maxQueueSize: Math.max(2048, nSpans + 16),
    maxExportBatchSize: 512,
    scheduledDelayMillis: 200,
    exportTimeoutMillis: timeoutMillis,
  })],
  logRecordProcessors: withLogs ? [new BatchLogRecordProcessor({ exporter: logExporter, scheduledDelayMillis: 200, exportTimeoutMillis: timeoutMillis })] : [],
  instrumentations: [],
});
sdk.start();

const tracer = trace.getTracer('aibom-test-otel-sdk-app', '1.0.0');
const logger = logs.getLogger('aibom-test-otel-sdk-app', '1.0.0');

const KIND_NAMES = { [SpanKind.INTERNAL]: 'INTERNAL', [SpanKind.SERVER]: 'SERVER', [SpanKind.CLIENT]: 'CLIENT', [SpanKind.PRODUCER]: 'PRODUCER', [SpanKind.CONSUMER]: 'CONSUMER' };
const STATUS_NAMES = { [SpanStatusCode.UNSET]: 'UNSET', [SpanStatusCode.OK]: 'OK', [SpanStatusCode.ERROR]: 'ERROR' };
const msToNs = (ms) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();

const described = [];
const describedLogs = [];

// Start, describe, and end a span with explicit timestamps (ms since epoch).
function makeSpan({ name, kind, parent, attributes = {}, events = [], links = [], status, exception, start, end }) {
  const ctx = parent ? trace.setSpan(context.active(), parent.span) : context.active();
  const span = tracer.startSpan(name, { kind, attributes, links: links.map((l) => ({ context: l.span.spanContext(), attributes: l.attributes })), startTime: start, root: !parent }, ctx);
  for (const ev of events) span.addEvent(ev.name, ev.attributes, ev.time);
  let excEvent = null;
  if (exception) {
    const err = new Error(exception.message);
    err.name = exception.type;
    span.recordException(err, exception.time);
    excEvent = { name: 'exception', time: msToNs(exception.time), attributes: { 'exception.type': exception.type, 'exception.message': exception.message } };
  }
  if (status) span.setStatus(status);
  const sc = span.spanContext();
  const d = {
    name,
    traceId: sc.traceId,
    spanId: sc.spanId,
    parentSpanId: parent ? parent.spanId : null,
    kind: KIND_NAMES[kind],
    startTimeUnixNano: msToNs(start),
    endTimeUnixNano: msToNs(end),
    attributes,
    events: events.map((e) => ({ name: e.name, time: msToNs(e.time), attributes: e.attributes ?? {} })).concat(excEvent ? [excEvent] : []),
    links: links.map((l) => ({ traceId: l.span.spanContext().traceId, spanId: l.span.spanContext().spanId, attributes: l.attributes ?? {} })),
    status: { code: STATUS_NAMES[status?.code ?? SpanStatusCode.UNSET], message: status?.message ?? '' },
  };
  described.push(d);
  return { span, end: () => span.end(end), spanId: sc.spanId, traceId: sc.traceId, d };
}

function emitLog({ severityNumber, severityText, body, attributes, spanRef, time }) {
  const rec = { severityNumber, severityText, body, attributes, timestamp: time };
  if (spanRef) rec.context = trace.setSpan(context.active(), spanRef.span);
  logger.emit(rec);
  describedLogs.push({
    severityNumber, severityText, body, attributes: jsonable(attributes), timeUnixNano: msToNs(time),
    traceId: spanRef?.traceId ?? null, spanId: spanRef?.spanId ?? null,
  });
}

function jsonable(v) {
  if (v instanceof Uint8Array) return { bytesBase64: Buffer.from(v).toString('base64') };
  if (Array.isArray(v)) return v.map(jsonable);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonable(x)]));
  return v;
}

function shape() {
  const t0 = Date.now() - 1000; // a fixed layout inside the last second
  // Trace B first so trace A can link to it.
  const job = makeSpan({
    name: 'background.job', kind: SpanKind.CONSUMER, start: t0, end: t0 + 40,
    attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': 'orders', 'messaging.operation.type': 'process' },
  });
  job.end();

  const root = makeSpan({
    name: 'checkout', kind: SpanKind.SERVER, start: t0 + 50, end: t0 + 450,
    attributes: {
      'http.request.method': 'POST',
      'url.path': '/checkout',
      'http.response.status_code': 500,
      'test.string': 'hello',
      'test.bool': true,
      'test.bool_false': false,
      'test.int': 42,
      'test.int_negative': -7,
      'test.int_large': 9007199254740991,
      'test.double': 3.14159,
      'test.string_array': ['a', 'b', 'c'],
      'test.bool_array': [true, false, true],
      'test.int_array': [1, 2, 3],
      'test.double_array': [1.5, 2.5],
      'test.empty_string': '',
      'test.unicode': 'héllo wörld ✓',
    },
  });
  const db = makeSpan({
    name: 'db.query', kind: SpanKind.CLIENT, parent: root, start: t0 + 60, end: t0 + 120,
    attributes: { 'db.system.name': 'postgresql', 'db.query.text': 'SELECT * FROM carts WHERE id = $1', 'server.address': '127.0.0.1', 'server.port': 5432 },
    events: [
      { name: 'query.start', time: t0 + 61, attributes: { 'db.rows_expected': 1, 'db.cached': false } },
      { name: 'query.end', time: t0 + 119, attributes: { 'db.rows_returned': 1, 'db.duration_ms': 57.5, 'db.tables': ['carts', 'items'] } },
    ],
    status: { code: SpanStatusCode.OK },
  });
  db.end();
  const pay = makeSpan({
    name: 'payment.charge', kind: SpanKind.CLIENT, parent: root, start: t0 + 130, end: t0 + 300,
    attributes: { 'payment.provider': 'fakepay', 'payment.amount': 99.95, 'payment.currency': 'EUR', 'payment.retries': 2 },
    events: [{ name: 'retry', time: t0 + 200, attributes: { attempt: 1, 'backoff.ms': 50.0, reason: 'timeout' } }],
    exception: { type: 'CardDeclinedError', message: 'card declined', time: t0 + 290 },
    status: { code: SpanStatusCode.ERROR, message: 'card declined' },
  });
  const pub = makeSpan({
    name: 'queue.publish', kind: SpanKind.PRODUCER, parent: root, start: t0 + 310, end: t0 + 330,
    attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': 'orders' },
    links: [{ span: job.span, attributes: { 'link.reason': 'follows-from', 'link.count': 1 } }],
  });
  pub.end();
  const compute = makeSpan({ name: 'compute', kind: SpanKind.INTERNAL, parent: root, start: t0 + 340, end: t0 + 440, attributes: { 'compute.items': 3 } });
  const render = makeSpan({ name: 'render', kind: SpanKind.INTERNAL, parent: compute, start: t0 + 350, end: t0 + 430, attributes: { 'render.template': 'receipt.html' } });
  render.end();
  compute.end();

  if (withLogs) {
    emitLog({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'checkout started', attributes: { 'cart.id': 'c-123', 'cart.items': 3 }, spanRef: root, time: t0 + 55 });
    emitLog({
      severityNumber: SeverityNumber.ERROR, severityText: 'ERROR',
      body: { message: 'payment failed', code: 402, retryable: false, details: { provider: 'fakepay', attempts: [1, 2] } },
      attributes: { 'error.type': 'CardDeclinedError', 'payment.amount': 99.95, 'test.map': { nested: 'value', n: 1 }, 'test.bytes': new Uint8Array([0xde, 0xad, 0xbe, 0xef]), 'test.array': ['x', 'y'] },
      spanRef: pay, time: t0 + 295,
    });
    emitLog({ severityNumber: SeverityNumber.WARN, severityText: 'WARN', body: 'no trace context here', attributes: { component: 'scheduler' }, time: t0 + 460 });
  }
  pay.end();
  root.end();
  return [root.traceId, job.traceId];
}

async function load(n) {
  const traceIds = [];
  const t0 = Date.now();
  let root = null;
  for (let i = 0; i < n; i++) {
    const isRoot = i % perTrace === 0;
    if (isRoot && root) root.end();
    const start = intervalMs > 0 ? Date.now() : t0 + i;
    const ref = makeSpan({
      name: `load.span.${i}`, kind: isRoot ? SpanKind.SERVER : SpanKind.INTERNAL, parent: isRoot ? undefined : root,
      start, end: start + 1, attributes: { 'load.index': i, 'load.root': isRoot },
    });
    if (isRoot) { root = ref; traceIds.push(ref.traceId); } else ref.end();
    if (intervalMs > 0) await new Promise((r) => setTimeout(r, intervalMs));
  }
  if (root) root.end();
  return traceIds;
}

const mode = nSpans > 0 ? 'load' : 'shape';
const traceIds = mode === 'load' ? await load(nSpans) : shape();

// Flush and shut down cleanly; describe what was sent.
try {
  await sdk.shutdown();
} catch (err) {
  exportStats.errors.push(`shutdown: ${err?.message ?? err}`);
}

const out = {
  mode,
  endpoint,
  protocol,
  serviceName,
  traceIds,
  resource: seenResource ? jsonable(seenResource.attributes) : null,
  spanCount: described.length,
  spans: mode === 'load' && described.length > 1000 ? undefined : described,
  logs: describedLogs,
  export: exportStats,
};
// stdout is a pipe under tests: exit only once the whole description is written.
process.stdout.write(JSON.stringify(out) + '\n', () => process.exit(0));
