import type { LogRecord, LogsData, Span, TracesData } from '../otlp/types.js';

/** The next hop of a processor under test: keeps what it is handed, per signal. */
export class PipelineSink {
  traces: TracesData[] = [];
  logs: LogsData[] = [];
  readonly consumers = {
    traces: { consume: async (d: TracesData) => void this.traces.push(d) },
    logs: { consume: async (d: LogsData) => void this.logs.push(d) },
  };

  records(): LogRecord[] {
    return this.logs.flatMap((l) => l.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)));
  }

  /** The spans of one instrumentation scope. */
  spans(scope: string): Span[] {
    return this.traces.flatMap((t) => t.resourceSpans.flatMap((rs) => rs.scopeSpans.filter((ss) => ss.scope?.name === scope).flatMap((ss) => ss.spans)));
  }
}
