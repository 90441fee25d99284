#!/usr/bin/env node
// A tool call whose span reaches the collector long after the kernel saw what it did: the span is
// only exported `--delay-ms` after it ended (default 10 s), as a batching SDK under load would.
// Usage: node late-span/late.mjs --file PATH [--delay-ms 10000]
// Env: OTEL_EXPORTER_OTLP_ENDPOINT (default http://127.0.0.1:4317).
// Output (stdout, one JSON line): { pid, traceId, spanId, file, endedAt, exportedAt } (ms epoch).
import fs from 'node:fs';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { trace } from '@opentelemetry/api';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const file = arg('file');
const delayMs = Number(arg('delay-ms', '10000'));
if (!file) {
  console.error('late.mjs: --file is required');
  process.exit(2);
}

const sdk = new NodeSDK({
  resource: resourceFromAttributes({ 'service.name': 'late-agent' }),
  // Nothing leaves before the explicit flush below.
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://127.0.0.1:4317' }), { scheduledDelayMillis: 3_600_000 })],
});
sdk.start();

const tracer = trace.getTracer('late-span');
const ids = tracer.startActiveSpan('execute_tool read_file', { attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'read_file' } }, (span) => {
  fs.readFileSync(file);
  span.end();
  return span.spanContext();
});
const endedAt = Date.now();
await new Promise((r) => setTimeout(r, delayMs));
await sdk.shutdown();
process.stdout.write(JSON.stringify({ pid: process.pid, traceId: ids.traceId, spanId: ids.spanId, file, endedAt, exportedAt: Date.now() }) + '\n', () => process.exit(0));
