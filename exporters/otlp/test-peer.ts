import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { codecFor } from '../../pipeline/otlp/codec.js';
import type { LogsData, PartialSuccess, Signal, SignalData, TracesData } from '../../pipeline/otlp/types.js';
import { ConfigError, ConfigErrors, Section } from '../../pipeline/config/section.js';
import { silentLogger, type Logger } from '../../pipeline/telemetry/logger.js';
import { Metrics } from '../../pipeline/telemetry/metrics.js';
import type { OtlpExporterConfig } from './config.js';
import { readConfig } from './config.js';
import { OtlpExporter } from './exporter.js';
import { encodeRpcStatus } from '../../pipeline/otlp/rpc-status.js';

/**
 * A scriptable OTLP peer for exporter tests (gRPC or HTTP, real sockets on 127.0.0.1): each request
 * takes the next scripted answer, or `fallback` when the script is used up. Not a test itself.
 */
export type Answer =
  | { ok: true; partial?: PartialSuccess; delayMs?: number }
  | { grpcCode: grpc.status; message?: string; retryDelayMs?: number }
  | { httpStatus: number; retryAfter?: string; body?: string };

export interface Received {
  signal: Signal;
  items: number;
  data: SignalData<Signal>;
  at: number;
  headers: Record<string, string>;
  contentType?: string;
}

export class TestPeer {
  readonly received: Received[] = [];
  readonly script: Answer[] = [];
  fallback: Answer = { ok: true };
  port = 0;
  private grpcServer: grpc.Server | undefined;
  private httpServer: http.Server | undefined;

  constructor(readonly protocol: 'grpc' | 'http') {}

  get items(): number {
    return this.received.reduce((n, r) => n + r.items, 0);
  }

  private next(): Answer {
    return this.script.shift() ?? this.fallback;
  }

  async start(port = this.port): Promise<number> {
    this.port = this.protocol === 'grpc' ? await this.startGrpc(port) : await this.startHttp(port);
    return this.port;
  }

  async stop(): Promise<void> {
    const g = this.grpcServer;
    const h = this.httpServer;
    this.grpcServer = undefined;
    this.httpServer = undefined;
    g?.forceShutdown();
    if (h) {
      h.closeAllConnections();
      await new Promise((r) => h.close(r));
    }
  }

  private record(signal: Signal, data: SignalData<Signal>, headers: Record<string, string>, contentType?: string): void {
    const items = codecFor(signal).count(data as never);
    this.received.push({ signal, items, data, at: Date.now(), headers, ...(contentType ? { contentType } : {}) });
  }

  private startGrpc(port: number): Promise<number> {
    const server = new grpc.Server();
    for (const signal of ['traces', 'logs'] as const) {
      const codec = codecFor(signal);
      const definition: grpc.ServiceDefinition = {
        Export: {
          path: codec.grpcPath,
          requestStream: false,
          responseStream: false,
          requestDeserialize: (b: Buffer) => codec.decode(b),
          requestSerialize: (d: SignalData<Signal>) => Buffer.from(codec.encode(d as never)),
          responseSerialize: (b: Uint8Array) => Buffer.from(b),
          responseDeserialize: (b: Buffer) => b,
        },
      };
      server.addService(definition, {
        Export: (call: grpc.ServerUnaryCall<SignalData<Signal>, Uint8Array>, callback: grpc.sendUnaryData<Uint8Array>) => {
          const answer = this.next();
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(call.metadata.getMap())) headers[k] = String(v);
          const reply = () => {
            if ('ok' in answer) {
              this.record(signal, call.request, headers);
              return callback(null, codec.encodeResponse(answer.partial));
            }
            if ('grpcCode' in answer) {
              const metadata = new grpc.Metadata();
              if (answer.retryDelayMs !== undefined) {
                const status = { code: answer.grpcCode, message: answer.message ?? 'scripted', retryDelayMs: answer.retryDelayMs };
                metadata.set('grpc-status-details-bin', Buffer.from(encodeRpcStatus(status)));
              }
              return callback({ code: answer.grpcCode, details: answer.message ?? 'scripted', metadata });
            }
            callback({ code: grpc.status.INTERNAL, details: 'HTTP answer scripted on a gRPC peer' });
          };
          const delay = 'ok' in answer ? answer.delayMs : undefined;
          if (delay) setTimeout(reply, delay);
          else reply();
        },
      });
    }
    this.grpcServer = server;
    return new Promise((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
  }

  private startHttp(port: number): Promise<number> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
        const signal: Signal = req.url?.endsWith('logs') ? 'logs' : 'traces';
        const codec = codecFor(signal);
        const json = (req.headers['content-type'] ?? '').includes('json');
        const answer = this.next();
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) headers[k] = String(v);
        const reply = () => {
          if ('ok' in answer) {
            this.record(signal, json ? codec.fromJson(body.toString('utf8')) : codec.decode(body), headers, req.headers['content-type']);
            res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
            return res.end(json ? codec.responseToJson(answer.partial) : codec.encodeResponse(answer.partial));
          }
          if ('httpStatus' in answer) {
            res.writeHead(answer.httpStatus, {
              'content-type': 'application/json',
              ...(answer.retryAfter ? { 'retry-after': answer.retryAfter } : {}),
            });
            return res.end(answer.body ?? JSON.stringify({ code: 14, message: `scripted ${answer.httpStatus}` }));
          }
          res.writeHead(500).end('gRPC answer scripted on an HTTP peer');
        };
        const delay = 'ok' in answer ? answer.delayMs : undefined;
        if (delay) setTimeout(reply, delay);
        else reply();
      });
    });
    this.httpServer = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  }
}

let spanSeq = 0;

/** `n` spans in one resource/scope, each with distinct ids and the name `${prefix}-${i}`. */
export function makeTraces(n: number, prefix = 'span'): TracesData {
  const spans = Array.from({ length: n }, (_, i) => {
    const seq = ++spanSeq;
    const traceId = Buffer.alloc(16);
    traceId.writeUInt32BE(seq, 12);
    const spanId = Buffer.alloc(8);
    spanId.writeUInt32BE(seq, 4);
    return { traceId, spanId, name: `${prefix}-${i}`, kind: 1, startTimeUnixNano: 1_700_000_000_000_000_000n.toString(), endTimeUnixNano: '1700000000001000000', attributes: [{ key: 'i', value: { intValue: i } }] };
  });
  return { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'test' } }] }, scopeSpans: [{ scope: { name: 'test' }, spans }] }] };
}

export function makeLogs(n: number, prefix = 'log'): LogsData {
  const logRecords = Array.from({ length: n }, (_, i) => ({ timeUnixNano: '1700000000000000000', severityNumber: 9, body: { stringValue: `${prefix}-${i}` } }));
  return { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'test' } }] }, scopeLogs: [{ scope: { name: 'test' }, logRecords }] }] };
}

/** Polls `cond` until it holds or `timeoutMs` passes. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Names of the spans (or log bodies) a peer received, in arrival order. */
export function receivedNames(peer: TestPeer): string[] {
  const out: string[] = [];
  for (const r of peer.received) {
    if (r.signal === 'traces') {
      for (const rs of (r.data as TracesData).resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) out.push(s.name);
    } else {
      for (const rl of (r.data as LogsData).resourceLogs) for (const sl of rl.scopeLogs) for (const l of sl.logRecords) out.push(String(l.body?.stringValue));
    }
  }
  return out;
}

/** An exporter built the way the service builds it: YAML-shaped config read over the defaults. */
export function createTestExporter(
  protocol: 'grpc' | 'http',
  raw: Record<string, unknown>,
  metrics = new Metrics(),
  id = 'otlp/test',
  logger: Logger = silentLogger(),
): { exporter: OtlpExporter; metrics: Metrics; config: OtlpExporterConfig } {
  const errors = new ConfigErrors();
  const section = new Section(raw, `exporters.${id}`, errors);
  const config = readConfig(section, protocol);
  section.done();
  if (!errors.empty) throw new ConfigError(errors.list);
  const exporter = new OtlpExporter({ id, name: id.split('/')[1] ?? '', logger, metrics }, config);
  return { exporter, metrics, config };
}
