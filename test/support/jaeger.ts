import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from './ports.js';
import { Proc, waitFor } from './process.js';

export interface JaegerPorts {
  otlpGrpc: number;
  otlpHttp: number;
  query: number;
  queryGrpc: number;
  health: number;
  metrics: number;
}

/**
 * A real Jaeger v2 (all-in-one, in-memory storage) on loopback with ports of our choosing, so it
 * never collides with a collector on 4317/4318/8888. Jaeger has no logs storage, so its logs
 * pipeline ends in `nop`: logs are checked through our file exporter instead.
 */
export function jaegerConfig(p: JaegerPorts): string {
  return `
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
    logs:
      receivers: [otlp]
      exporters: [nop]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:${p.query}
    grpc:
      endpoint: 127.0.0.1:${p.queryGrpc}
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:${p.health}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${p.otlpGrpc}
      http:
        endpoint: 127.0.0.1:${p.otlpHttp}
processors:
  batch:
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
  nop:
`;
}

export class Jaeger {
  private proc: Proc | undefined;
  private readonly configPath: string;

  private constructor(
    readonly bin: string,
    readonly ports: JaegerPorts,
  ) {
    const dir = mkdtempSync(join(tmpdir(), 'aibom-jaeger-'));
    this.configPath = join(dir, 'jaeger.yaml');
    writeFileSync(this.configPath, jaegerConfig(ports));
  }

  static async start(bin: string): Promise<Jaeger> {
    const [otlpGrpc, otlpHttp, query, queryGrpc, health, metrics] = await freePorts(6);
    const j = new Jaeger(bin, { otlpGrpc: otlpGrpc!, otlpHttp: otlpHttp!, query: query!, queryGrpc: queryGrpc!, health: health!, metrics: metrics! });
    await j.resume();
    return j;
  }

  get otlpGrpcEndpoint(): string {
    return `127.0.0.1:${this.ports.otlpGrpc}`;
  }

  get queryUrl(): string {
    return `http://127.0.0.1:${this.ports.query}`;
  }

  /** (Re)starts the process on the same ports; in-memory storage starts empty. */
  async resume(): Promise<void> {
    const proc = new Proc(this.bin, ['--config', this.configPath]);
    this.proc = proc;
    await waitFor(`jaeger to serve queries\n${proc.tail()}`, async () => {
      if (!proc.running) throw new Error(`jaeger exited\n${proc.tail()}`);
      const res = await fetch(`${this.queryUrl}/api/services`).catch(() => undefined);
      return res?.ok ? true : undefined;
    }, 60_000, 200);
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
    this.proc = undefined;
  }

  /** The trace as Jaeger's v3 API returns it (OTLP JSON), or undefined while it is not there. */
  async trace(traceIdHex: string): Promise<JaegerTrace | undefined> {
    const res = await fetch(`${this.queryUrl}/api/v3/traces/${traceIdHex}`);
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`jaeger /api/v3/traces/${traceIdHex}: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { result?: JaegerTrace };
    return body.result;
  }

  /** Every span of the trace, flattened with its resource attributes. */
  async spans(traceIdHex: string): Promise<JaegerSpan[] | undefined> {
    const t = await this.trace(traceIdHex);
    return t && flattenSpans(t);
  }

  /** Polls until the trace holds at least `count` spans. */
  async waitForSpans(traceIdHex: string, count: number, timeoutMs = 30_000): Promise<JaegerSpan[]> {
    return waitFor(`${count} spans of trace ${traceIdHex} in Jaeger`, async () => {
      const spans = await this.spans(traceIdHex);
      return spans && spans.length >= count ? spans : undefined;
    }, timeoutMs, 250);
  }
}

/** Every span of an OTLP JSON traces document, with its resource attributes and scope. */
export function flattenSpans(t: JaegerTrace): JaegerSpan[] {
  const out: JaegerSpan[] = [];
  for (const rs of t.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) out.push({ ...s, resource: rs.resource?.attributes ?? [], scope: ss.scope });
  }
  return out;
}

export interface JsonKeyValue {
  key: string;
  value: Record<string, unknown>;
}

export interface JaegerSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: JsonKeyValue[];
  events?: { name: string; timeUnixNano: string; attributes?: JsonKeyValue[] }[];
  links?: { traceId: string; spanId: string; attributes?: JsonKeyValue[] }[];
  status?: { code?: number; message?: string };
  resource: JsonKeyValue[];
  scope?: { name?: string; version?: string };
}

export interface JaegerTrace {
  resourceSpans?: {
    resource?: { attributes?: JsonKeyValue[] };
    scopeSpans?: { scope?: { name?: string; version?: string }; spans?: Omit<JaegerSpan, 'resource' | 'scope'>[] }[];
  }[];
}
