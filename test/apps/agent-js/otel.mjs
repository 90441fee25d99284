// OpenTelemetry setup for the LangChain.js agent, the way users wire it: NodeSDK + OTLP gRPC
// exporter + undici/http instrumentation + OpenInference LangChain (manuallyInstrument) and
// OpenInference MCP (context propagation into MCP `params._meta`).
// Import this module first.
// Env: OTEL_EXPORTER_OTLP_ENDPOINT (default http://127.0.0.1:4317), OTEL_EXPORTER_OTLP_PROTOCOL
// (grpc default; http/json also), OTEL_TRACES_EXPORTER=otlp|console|none, OTEL_SERVICE_NAME
// (default support-agent), AGENT_MCP_INSTRUMENT=0 to skip the OpenInference MCP instrumentation.
import { NodeSDK } from '@opentelemetry/sdk-node';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, SimpleSpanProcessor, ConsoleSpanExporter } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { LangChainInstrumentation } from '@arizeai/openinference-instrumentation-langchain';
import { MCPInstrumentation } from '@arizeai/openinference-instrumentation-mcp';
import * as CallbackManagerModule from '@langchain/core/callbacks/manager';
import * as MCPClientStdioModule from '@modelcontextprotocol/sdk/client/stdio.js';

const exporterKind = (process.env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',')[0].trim();
const protocol = (process.env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'grpc').startsWith('http') ? 'http' : 'grpc';
const endpoint = (process.env.OTEL_EXPORTER_OTLP_ENDPOINT
  ?? (protocol === 'grpc' ? 'http://127.0.0.1:4317' : 'http://127.0.0.1:4318')).replace(/\/$/, '');

export const exportStats = { ok: 0, failed: 0, errors: [] };
function counted(exporter) {
  const orig = exporter.export.bind(exporter);
  exporter.export = (items, cb) => orig(items, (r) => {
    if (r.code === 0) exportStats.ok += items.length;
    else { exportStats.failed += items.length; exportStats.errors.push(String(r.error?.message ?? 'export failed')); }
    cb(r);
  });
  return exporter;
}

let spanProcessors = [];
if (exporterKind === 'console') {
  spanProcessors = [new SimpleSpanProcessor(new ConsoleSpanExporter())];
} else if (exporterKind !== 'none') {
  const exporter = counted(protocol === 'grpc'
    ? new GrpcTraceExporter({ url: endpoint, timeoutMillis: 5000 })
    : new HttpTraceExporter({ url: `${endpoint}/v1/traces`, timeoutMillis: 5000 }));
  spanProcessors = [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 200 })];
}

export const sdk = new NodeSDK({
  resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME ?? 'support-agent', 'service.version': '1.0.0' }),
  spanProcessors,
  instrumentations: [new HttpInstrumentation(), new UndiciInstrumentation()],
});
sdk.start();

const lc = new LangChainInstrumentation();
lc.manuallyInstrument(CallbackManagerModule);
if (process.env.AGENT_MCP_INSTRUMENT !== '0') {
  const mcp = new MCPInstrumentation();
  mcp.manuallyInstrument({ clientStdioModule: MCPClientStdioModule });
}
