#!/usr/bin/env node
// Tiny OTLP sink for checking the apps without the collector: OTLP/gRPC (traces + logs) and
// OTLP/HTTP (protobuf or JSON) on loopback. Decodes what arrives into plain JSON records.
//
// Usage: node lib/otlp-sink.mjs [--grpc-port 0] [--http-port 0] [--out FILE.jsonl]
// Prints `LISTENING <grpcPort> <httpPort>` when ready.
// HTTP: POST /v1/traces, POST /v1/logs; GET /_spans, GET /_logs (decoded records), POST /_reset.
// Each record: span {traceId, spanId, parentSpanId, name, kind, start, end, attributes, events,
// links, status, resource, scope}; log {traceId, spanId, severityNumber, severityText, body,
// attributes, time, resource, scope}. Attribute values become plain JS values (int64 -> number
// when safe, else string; kvlist -> plain object; bytes -> {bytesBase64}), same as send.mjs prints.

import http from 'node:http';
import fs from 'node:fs';
import grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { parseArgs } from './args.mjs';

const PROTO = `
syntax = "proto3";
package otlp;
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3;
  double double_value = 4; ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7; } }
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message Status { string message = 2; int32 code = 3; }
message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4; uint32 dropped_attributes_count = 5; fixed32 flags = 6; }
message Span { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; fixed32 flags = 16;
  string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; uint32 dropped_attributes_count = 10; repeated Event events = 11;
  uint32 dropped_events_count = 12; repeated Link links = 13; uint32 dropped_links_count = 14; Status status = 15; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message LogRecord { fixed64 time_unix_nano = 1; fixed64 observed_time_unix_nano = 11; int32 severity_number = 2;
  string severity_text = 3; AnyValue body = 5; repeated KeyValue attributes = 6; uint32 dropped_attributes_count = 7;
  fixed32 flags = 8; bytes trace_id = 9; bytes span_id = 10; string event_name = 12; }
message ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; string schema_url = 3; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; string schema_url = 3; }
message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
`;
const root = protobuf.parse(PROTO, { keepCase: false }).root;
const TraceReq = root.lookupType('otlp.ExportTraceServiceRequest');
const LogsReq = root.lookupType('otlp.ExportLogsServiceRequest');
const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUS = ['UNSET', 'OK', 'ERROR'];

const args = parseArgs(process.argv.slice(2));
const outFile = args.out ?? process.env.OTLP_SINK_OUT ?? '';
const spans = [];
const logRecords = [];

// ---- decoding (protobuf objects via toObject, or OTLP/JSON) to plain values ----
const hex = (b) => (b == null ? '' : typeof b === 'string' ? (/^[0-9a-f]*$/i.test(b) ? b.toLowerCase() : Buffer.from(b, 'base64').toString('hex')) : Buffer.from(b).toString('hex'));
const num = (v) => {
  if (v == null) return undefined;
  if (typeof v === 'object' && 'low' in v) v = protobuf.util.Long.fromValue(v).toString();
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : String(v);
};
const nanos = (v) => (v == null ? '0' : typeof v === 'object' && 'low' in v ? protobuf.util.Long.fromValue(v).toUnsigned().toString() : String(v));

function anyValue(v) {
  if (v == null) return null;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return num(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('arrayValue' in v) return (v.arrayValue?.values ?? []).map(anyValue);
  if ('kvlistValue' in v) return attrs(v.kvlistValue?.values);
  if ('bytesValue' in v) return { bytesBase64: typeof v.bytesValue === 'string' ? v.bytesValue : Buffer.from(v.bytesValue).toString('base64') };
  return null;
}
function attrs(kvs) {
  const o = {};
  for (const kv of kvs ?? []) o[kv.key] = anyValue(kv.value);
  return o;
}
const kindName = (k) => (typeof k === 'string' ? k.replace(/^SPAN_KIND_/, '') : KINDS[k ?? 0]);
const statusName = (c) => (typeof c === 'string' ? c.replace(/^STATUS_CODE_/, '') : STATUS[c ?? 0]);

function ingestTraces(req, via) {
  let n = 0;
  for (const rs of req.resourceSpans ?? []) {
    const resource = attrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const rec = {
          type: 'span', via, resource, scope: { name: ss.scope?.name ?? '', version: ss.scope?.version ?? '' },
          traceId: hex(s.traceId), spanId: hex(s.spanId), parentSpanId: hex(s.parentSpanId) || null,
          name: s.name, kind: kindName(s.kind), start: nanos(s.startTimeUnixNano), end: nanos(s.endTimeUnixNano),
          attributes: attrs(s.attributes),
          events: (s.events ?? []).map((e) => ({ name: e.name, time: nanos(e.timeUnixNano), attributes: attrs(e.attributes) })),
          links: (s.links ?? []).map((l) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId), attributes: attrs(l.attributes) })),
          status: { code: statusName(s.status?.code), message: s.status?.message ?? '' },
        };
        spans.push(rec);
        if (outFile) fs.appendFileSync(outFile, JSON.stringify(rec) + '\n');
        n++;
      }
    }
  }
  return n;
}
function ingestLogs(req, via) {
  let n = 0;
  for (const rl of req.resourceLogs ?? []) {
    const resource = attrs(rl.resource?.attributes);
    for (const sl of rl.scopeLogs ?? []) {
      for (const l of sl.logRecords ?? []) {
        const rec = {
          type: 'log', via, resource, scope: { name: sl.scope?.name ?? '', version: sl.scope?.version ?? '' },
          traceId: hex(l.traceId) || null, spanId: hex(l.spanId) || null,
          time: nanos(l.timeUnixNano), severityNumber: l.severityNumber ?? 0, severityText: l.severityText ?? '',
          body: anyValue(l.body), attributes: attrs(l.attributes), eventName: l.eventName ?? '',
        };
        logRecords.push(rec);
        if (outFile) fs.appendFileSync(outFile, JSON.stringify(rec) + '\n');
        n++;
      }
    }
  }
  return n;
}
const toObj = (T, buf) => T.toObject(T.decode(buf), { longs: String, bytes: Buffer, defaults: false, oneofs: false });

// ---- gRPC ----
const raw = { requestSerialize: (b) => b, requestDeserialize: (b) => b, responseSerialize: (b) => b, responseDeserialize: (b) => b, requestStream: false, responseStream: false };
const grpcServer = new grpc.Server();
grpcServer.addService({ Export: { path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export', ...raw } }, {
  Export: (call, cb) => { try { ingestTraces(toObj(TraceReq, call.request), 'grpc'); cb(null, Buffer.alloc(0)); } catch (e) { cb({ code: grpc.status.INVALID_ARGUMENT, details: String(e) }); } },
});
grpcServer.addService({ Export: { path: '/opentelemetry.proto.collector.logs.v1.LogsService/Export', ...raw } }, {
  Export: (call, cb) => { try { ingestLogs(toObj(LogsReq, call.request), 'grpc'); cb(null, Buffer.alloc(0)); } catch (e) { cb({ code: grpc.status.INVALID_ARGUMENT, details: String(e) }); } },
});

// ---- HTTP ----
const httpServer = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const json = (status, obj) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(obj)); };
    try {
      const isJson = String(req.headers['content-type'] ?? '').includes('json');
      if (req.method === 'POST' && req.url === '/v1/traces') {
        ingestTraces(isJson ? JSON.parse(body.toString('utf8')) : toObj(TraceReq, body), isJson ? 'http/json' : 'http/protobuf');
        return json(200, {});
      }
      if (req.method === 'POST' && req.url === '/v1/logs') {
        ingestLogs(isJson ? JSON.parse(body.toString('utf8')) : toObj(LogsReq, body), isJson ? 'http/json' : 'http/protobuf');
        return json(200, {});
      }
      if (req.method === 'GET' && req.url === '/_spans') return json(200, spans);
      if (req.method === 'GET' && req.url === '/_logs') return json(200, logRecords);
      if (req.method === 'POST' && req.url === '/_reset') { spans.length = 0; logRecords.length = 0; return json(200, { ok: true }); }
      json(404, { error: 'not found' });
    } catch (e) {
      json(400, { error: String(e) });
    }
  });
});

const grpcPort = await new Promise((resolve, reject) => {
  grpcServer.bindAsync(`127.0.0.1:${Number(args['grpc-port'] ?? 0)}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
});
await new Promise((r) => httpServer.listen(Number(args['http-port'] ?? 0), '127.0.0.1', r));
process.stdout.write(`LISTENING ${grpcPort} ${httpServer.address().port}\n`);

const stop = () => { httpServer.close(); grpcServer.tryShutdown(() => process.exit(0)); setTimeout(() => process.exit(0), 1000).unref(); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
