// Test-only helpers for the OTLP receiver: sample data, a collecting consumer, and real HTTP/gRPC clients.
import { Client, credentials as grpcCredentials, Metadata, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import http from 'node:http';
import https from 'node:https';
import Long from 'long';
import type { Consumer } from '../../../pipeline/consumer.js';
import type { SignalCodec } from '../../../pipeline/otlp/codec.js';
import { attr } from '../../../pipeline/otlp/attributes.js';
import type { LogsData, Signal, TracesData } from '../../../pipeline/otlp/types.js';
import { silentLogger, type Logger } from '../../../pipeline/telemetry/logger.js';
import { Metrics } from '../../../pipeline/telemetry/metrics.js';
import { createDefaultConfig, type OtlpReceiverConfig } from '../config.js';
import { otlpReceiverFactory } from '../factory.js';
import type { OtlpReceiver } from '../otlp-receiver.js';
import { createHost } from '../../../pipeline/host.js';

/** Above 2^53 and with non-zero low digits, so any float rounding shows. */
export const START_NS = '1700000000123456789';
export const END_NS = '1700000000987654321';

export function hexBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function traceIdOf(i: number): string {
  return `0af7651916cd43dd8448eb211c80319${(i % 16).toString(16)}`;
}

export function sampleTraces(spans = 3): TracesData {
  return {
    resourceSpans: [
      {
        resource: { attributes: [attr('service.name', 'agent'), attr('process.pid', 4242)] },
        scopeSpans: [
          {
            scope: { name: 'langchain', version: '0.3.0' },
            spans: Array.from({ length: spans }, (_, i) => ({
              traceId: hexBytes(traceIdOf(i)),
              spanId: hexBytes(`b7ad6b71692033${(16 + i).toString(16).padStart(2, '0')}`),
              parentSpanId: hexBytes('00f067aa0ba902b7'),
              name: `chat gpt-4o #${i}`,
              kind: 3,
              startTimeUnixNano: Long.fromString(START_NS, true),
              endTimeUnixNano: Long.fromString(END_NS, true),
              attributes: [attr('gen_ai.request.model', 'gpt-4o'), attr('gen_ai.usage.input_tokens', 17 + i)],
              status: { code: 1 },
            })),
          },
        ],
      },
    ],
  };
}

export function sampleLogs(records = 2): LogsData {
  return {
    resourceLogs: [
      {
        resource: { attributes: [attr('service.name', 'agent')] },
        scopeLogs: [
          {
            scope: { name: 'aibom' },
            logRecords: Array.from({ length: records }, (_, i) => ({
              timeUnixNano: Long.fromString(START_NS, true),
              observedTimeUnixNano: Long.fromString(END_NS, true),
              severityNumber: 9,
              severityText: 'INFO',
              body: { stringValue: `deviation ${i}` },
              traceId: hexBytes(traceIdOf(i)),
              spanId: hexBytes('b7ad6b7169203331'),
            })),
          },
        ],
      },
    ],
  };
}

/** The in-test next hop: collects what it gets, or fails with `failWith`; `gate` holds it open. */
export class Sink<T> implements Consumer<T> {
  readonly received: T[] = [];
  failWith: Error | undefined;
  gate: Promise<void> | undefined;
  /** Calls made so far, including those still waiting on the gate. */
  calls = 0;
  async consume(data: T): Promise<void> {
    this.calls++;
    if (this.gate) await this.gate;
    if (this.failWith) throw this.failWith;
    this.received.push(data);
  }
}

export interface Harness {
  receiver: OtlpReceiver;
  metrics: Metrics;
  traces: Sink<TracesData>;
  logs: Sink<LogsData>;
  httpUrl: string;
  grpcAddress: string;
}

/** Both protocols on 127.0.0.1 with ephemeral ports, changed by `edit`, started. */
export async function startReceiver(
  edit: (c: OtlpReceiverConfig) => void = () => {},
  signals: readonly Signal[] = ['traces', 'logs'],
  logger: Logger = silentLogger(),
): Promise<Harness> {
  const config = createDefaultConfig();
  config.protocols.grpc!.endpoint = '127.0.0.1:0';
  config.protocols.http!.endpoint = '127.0.0.1:0';
  edit(config);
  const metrics = new Metrics();
  const traces = new Sink<TracesData>();
  const logs = new Sink<LogsData>();
  const receiver = otlpReceiverFactory.create(
    { id: 'otlp', name: '', logger, metrics },
    config,
    { ...(signals.includes('traces') ? { traces } : {}), ...(signals.includes('logs') ? { logs } : {}) },
  ) as OtlpReceiver;
  await receiver.start(createHost((err) => {
    throw err;
  }));
  const scheme = config.protocols.http?.tls ? 'https' : 'http';
  return { receiver, metrics, traces, logs, httpUrl: `${scheme}://${receiver.addresses.http}`, grpcAddress: receiver.addresses.grpc };
}

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface PostOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Send without content-length (chunked). */
  chunked?: boolean;
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
}

export function post(url: string, body: Uint8Array | string, options: PostOptions = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const buf = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
    const headers: Record<string, string | number> = { ...options.headers };
    if (!options.chunked) headers['content-length'] = buf.length;
    const opts = { method: options.method ?? 'POST', headers, agent: false as const, ...options.tls };
    const req = (url.startsWith('https:') ? https : http).request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    // write() before end() keeps Node from computing a content-length, so the body goes chunked.
    if (options.chunked) req.write(buf);
    req.end(options.chunked ? undefined : buf);
  });
}

export interface GrpcReply {
  error: ServiceError | null;
  response: Buffer | undefined;
}

export interface GrpcCallOptions {
  metadata?: Record<string, string>;
  credentials?: ChannelCredentials;
  channelOptions?: Record<string, string | number>;
  /** A channel the caller keeps (and closes) across calls; otherwise a fresh one, closed afterwards. */
  client?: Client;
}

/** One unary Export call with raw request bytes, through a fresh channel that is closed afterwards. */
export function grpcExport(address: string, codec: SignalCodec<Signal>, request: Uint8Array, options: GrpcCallOptions = {}): Promise<GrpcReply> {
  const client = options.client ?? new Client(address, options.credentials ?? grpcCredentials.createInsecure(), options.channelOptions ?? {});
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(options.metadata ?? {})) metadata.set(k, v);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      codec.grpcPath,
      (b: Uint8Array) => Buffer.from(b),
      (b: Buffer) => b,
      request,
      metadata,
      { deadline: Date.now() + 10_000 },
      (error, response) => {
        if (!options.client) client.close();
        resolve({ error: error ?? null, response });
      },
    );
  });
}
