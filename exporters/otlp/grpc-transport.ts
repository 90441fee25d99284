import { readFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import type { SignalCodec } from '../../pipeline/otlp/codec.js';
import type { PartialSuccess, Signal } from '../../pipeline/otlp/types.js';
import type { OtlpExporterConfig } from './config.js';
import type { ExportResult, Transport } from './result.js';
import { decodeRpcStatus } from '../../pipeline/otlp/rpc-status.js';

/** Retryable per the OTLP spec; RESOURCE_EXHAUSTED only when the server sent RetryInfo. */
const RETRYABLE = new Set<grpc.status>([
  grpc.status.CANCELLED,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.ABORTED,
  grpc.status.OUT_OF_RANGE,
  grpc.status.UNAVAILABLE,
  grpc.status.DATA_LOSS,
]);

const MAX_RECONNECT_BACKOFF_MS = 5_000;
const identity = (b: Buffer): Buffer => b;

/** Target and TLS choice: an http:// prefix means plaintext, https:// means TLS, else `tls.insecure`. */
export function grpcTarget(config: OtlpExporterConfig): { target: string; insecure: boolean } {
  const m = /^(https?):\/\/(.*)$/.exec(config.endpoint);
  if (m) return { target: m[2]!, insecure: m[1] === 'http' };
  return { target: config.endpoint, insecure: config.tls.insecure };
}

async function credentials(config: OtlpExporterConfig, insecure: boolean): Promise<grpc.ChannelCredentials> {
  if (insecure) return grpc.credentials.createInsecure();
  const { caFile, certFile, keyFile, insecureSkipVerify } = config.tls;
  const [ca, cert, key] = await Promise.all([caFile, certFile, keyFile].map((f) => (f ? readFile(f) : Promise.resolve(null))));
  const verify: grpc.VerifyOptions = insecureSkipVerify ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {};
  return grpc.credentials.createSsl(ca ?? null, key ?? null, cert ?? null, verify);
}

/** OTLP/gRPC through grpc-js's generic client: the payload is already protobuf, so (de)serialisation is identity. */
export async function createGrpcTransport<S extends Signal>(config: OtlpExporterConfig, codec: SignalCodec<S>): Promise<Transport> {
  const { target, insecure } = grpcTarget(config);
  const options: grpc.ChannelOptions = {
    'grpc.max_send_message_length': -1,
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
    // grpc-js would back off reconnecting up to 120 s; a recovered backend should be used sooner.
    'grpc.max_reconnect_backoff_ms': MAX_RECONNECT_BACKOFF_MS,
  };
  if (config.compression === 'gzip') options['grpc.default_compression_algorithm'] = grpc.compressionAlgorithms.gzip;
  const client = new grpc.Client(target, await credentials(config, insecure), options);
  const headers = config.headers;

  return {
    encoding: 'proto',
    export(payload, signal) {
      return new Promise<ExportResult>((resolve) => {
        if (signal.aborted) return resolve({ kind: 'retryable', message: 'aborted before sending' });
        const metadata = new grpc.Metadata();
        for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
        const call = client.makeUnaryRequest<Buffer, PartialSuccess | undefined>(
          codec.grpcPath,
          identity,
          (b) => codec.decodeResponse(b),
          Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
          metadata,
          {},
          (err, partial) => {
            signal.removeEventListener('abort', onAbort);
            if (!err) return resolve({ kind: 'ok', ...(partial ? { partial } : {}) });
            resolve(classify(err, signal));
          },
        );
        const onAbort = () => call.cancel();
        signal.addEventListener('abort', onAbort, { once: true });
      });
    },
    async close() {
      client.close();
    },
  };
}

function classify(err: grpc.ServiceError, signal: AbortSignal): ExportResult {
  const message = `gRPC ${grpc.status[err.code] ?? err.code}: ${err.details || err.message}`;
  if (signal.aborted) return { kind: 'retryable', message: `${message} (${String(signal.reason?.message ?? signal.reason ?? 'aborted')})` };
  const raw = err.metadata?.get('grpc-status-details-bin')[0];
  const retryAfterMs = raw instanceof Buffer ? decodeRpcStatus(raw)?.retryDelayMs : undefined;
  const hint = retryAfterMs !== undefined ? { retryAfterMs } : {};
  if (RETRYABLE.has(err.code)) return { kind: 'retryable', message, ...hint };
  if (err.code === grpc.status.RESOURCE_EXHAUSTED && retryAfterMs !== undefined) return { kind: 'retryable', message, ...hint };
  return { kind: 'permanent', message };
}
