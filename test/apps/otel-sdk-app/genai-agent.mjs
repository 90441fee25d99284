#!/usr/bin/env node
// A minimal GenAI-instrumented process (OTel JS SDK, the default BatchSpanProcessor): an LLM span, a
// pause, then a TOOL span during which it reads a file. Used to check which processes the collector
// agrees to watch: its own (spans over its own connection), or one it merely names.
//
// Usage: node genai-agent.mjs [--endpoint URL] [--protocol grpc|http] [--claim-pid PID]
//          [--copy-hints-from PID] [--open FILE] [--pause-ms T] [--hold-ms T]
//   --claim-pid PID        resource process.pid (default: this process's own pid)
//   --copy-hints-from PID  resource process.command_args / process.executable.name copied from /proc/PID
//   --open FILE            read FILE every 50 ms while the TOOL span runs
// Prints one JSON line: { pid, claimedPid, traceId, toolSpanId, exported }.

import { readFileSync } from 'node:fs';
import { trace, context } from '@opentelemetry/api';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { parseArgs } from '../lib/args.mjs';

const args = parseArgs(process.argv.slice(2));
const protocol = String(args.protocol ?? 'grpc');
const endpoint = String(args.endpoint ?? (protocol === 'grpc' ? 'http://127.0.0.1:4317' : 'http://127.0.0.1:4318')).replace(/\/$/, '');
const claimedPid = Number(args['claim-pid'] ?? process.pid);
const pauseMs = Number(args['pause-ms'] ?? 1500);
const holdMs = Number(args['hold-ms'] ?? 1000);

const resource = { 'service.name': 'genai-agent', 'process.pid': claimedPid };
if (args['copy-hints-from'] != null) {
  const cmdline = readFileSync(`/proc/${args['copy-hints-from']}/cmdline`, 'utf8').split('\0').filter(Boolean);
  resource['process.command_args'] = cmdline;
  resource['process.executable.name'] = readFileSync(`/proc/${args['copy-hints-from']}/comm`, 'utf8').trim();
}

let exported = 0;
const exporter = protocol === 'grpc' ? new GrpcTraceExporter({ url: endpoint }) : new HttpTraceExporter({ url: `${endpoint}/v1/traces` });
const orig = exporter.export.bind(exporter);
exporter.export = (spans, cb) => orig(spans, (r) => { if (r.code === 0) exported += spans.length; cb(r); });
const provider = new BasicTracerProvider({ resource: resourceFromAttributes(resource), spanProcessors: [new BatchSpanProcessor(exporter)] });
const tracer = provider.getTracer('genai-agent');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const root = tracer.startSpan('agent.run');
const rootCtx = trace.setSpan(context.active(), root);
const llm = tracer.startSpan('ChatOpenAI', { attributes: { 'openinference.span.kind': 'LLM', 'gen_ai.operation.name': 'chat' } }, rootCtx);
llm.end();
await provider.forceFlush();
await sleep(pauseMs);

const tool = tracer.startSpan('read_file', { attributes: { 'openinference.span.kind': 'TOOL', 'tool.name': 'read_file' } }, rootCtx);
const until = Date.now() + holdMs;
while (Date.now() < until) {
  if (args.open != null) readFileSync(String(args.open));
  await sleep(50);
}
tool.end();
root.end();
await provider.forceFlush();
await provider.shutdown();
process.stdout.write(JSON.stringify({ pid: process.pid, claimedPid, traceId: tool.spanContext().traceId, toolSpanId: tool.spanContext().spanId, exported }) + '\n');
