import type { Component, CreateSettings, Host } from '../../pipeline/component.js';
import type { Consumers, LogsConsumer, TracesConsumer } from '../../pipeline/consumer.js';
import { fromAnyValue } from '../../pipeline/otlp/attributes.js';
import type { Int64, KeyValue, LogsData, TracesData } from '../../pipeline/otlp/types.js';
import type { Logger } from '../../pipeline/telemetry/logger.js';
import type { DebugConfig } from './config.js';

const hex = (id: Uint8Array | undefined | null): string => (id && id.length > 0 ? Buffer.from(id).toString('hex') : '');
const nanos = (v: Int64 | undefined | null): string => (v === undefined || v === null ? '0' : v.toString());

function attributeMap(kvs: KeyValue[] | undefined | null): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of kvs ?? []) out[kv.key] = fromAnyValue(kv.value);
  return out;
}

/**
 * The `debug` exporter: a human-readable summary of what passes, through the collector's own log.
 * basic: counts per batch; normal: one line per span / log record with ids and name; detailed: the
 * same plus resource, scope and item attributes. Never fails, never holds data.
 */
export class DebugExporter implements Component, Consumers {
  readonly traces: TracesConsumer = { consume: async (d) => this.logTraces(d) };
  readonly logs: LogsConsumer = { consume: async (d) => this.logLogs(d) };
  private readonly logger: Logger;

  constructor(
    settings: CreateSettings,
    private readonly config: DebugConfig,
  ) {
    this.logger = settings.logger;
  }

  async start(_host?: Host): Promise<void> {}
  async shutdown(): Promise<void> {}

  private logTraces(data: TracesData): void {
    const spans = data.resourceSpans.reduce((n, r) => n + r.scopeSpans.reduce((m, s) => m + s.spans.length, 0), 0);
    this.logger.info({ signal: 'traces', resource_spans: data.resourceSpans.length, spans }, 'Traces');
    if (this.config.verbosity === 'basic') return;
    const detailed = this.config.verbosity === 'detailed';
    for (const rs of data.resourceSpans) {
      const resource = detailed ? { resource: attributeMap(rs.resource?.attributes) } : {};
      for (const ss of rs.scopeSpans) {
        const scope = detailed ? { scope: ss.scope?.name ?? '', scope_version: ss.scope?.version ?? '' } : {};
        for (const span of ss.spans) {
          const line: Record<string, unknown> = {
            trace_id: hex(span.traceId),
            span_id: hex(span.spanId),
            parent_span_id: hex(span.parentSpanId),
            name: span.name,
          };
          if (detailed) {
            Object.assign(line, resource, scope, {
              kind: span.kind ?? 0,
              start_time_unix_nano: nanos(span.startTimeUnixNano),
              end_time_unix_nano: nanos(span.endTimeUnixNano),
              status: { code: span.status?.code ?? 0, message: span.status?.message ?? '' },
              attributes: attributeMap(span.attributes),
              events: (span.events ?? []).map((e) => ({ name: e.name, time_unix_nano: nanos(e.timeUnixNano), attributes: attributeMap(e.attributes) })),
              links: (span.links ?? []).map((l) => ({ trace_id: hex(l.traceId), span_id: hex(l.spanId) })),
            });
          }
          this.logger.info(line, 'span');
        }
      }
    }
  }

  private logLogs(data: LogsData): void {
    const records = data.resourceLogs.reduce((n, r) => n + r.scopeLogs.reduce((m, s) => m + s.logRecords.length, 0), 0);
    this.logger.info({ signal: 'logs', resource_logs: data.resourceLogs.length, log_records: records }, 'Logs');
    if (this.config.verbosity === 'basic') return;
    const detailed = this.config.verbosity === 'detailed';
    for (const rl of data.resourceLogs) {
      const resource = detailed ? { resource: attributeMap(rl.resource?.attributes) } : {};
      for (const sl of rl.scopeLogs) {
        const scope = detailed ? { scope: sl.scope?.name ?? '', scope_version: sl.scope?.version ?? '' } : {};
        for (const r of sl.logRecords) {
          const line: Record<string, unknown> = {
            trace_id: hex(r.traceId),
            span_id: hex(r.spanId),
            severity: r.severityText || r.severityNumber || 0,
            event_name: r.eventName ?? '',
            body: fromAnyValue(r.body),
          };
          if (detailed) {
            Object.assign(line, resource, scope, {
              time_unix_nano: nanos(r.timeUnixNano),
              observed_time_unix_nano: nanos(r.observedTimeUnixNano),
              attributes: attributeMap(r.attributes),
            });
          }
          this.logger.info(line, 'log record');
        }
      }
    }
  }
}
