import {
  Metadata,
  Server,
  ServerCredentials,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import { splitHostPort } from '../../pipeline/listen.js';
import type { ClientInfo } from '../../pipeline/client-info.js';
import { codecFor, OtlpDecodeError, type SignalCodec } from '../../pipeline/otlp/codec.js';
import type { Signal, SignalData } from '../../pipeline/otlp/types.js';
import type { Logger } from '../../pipeline/telemetry/logger.js';
import type { GrpcConfig } from './config.js';
import { DEFAULT_RETRY_AFTER_MS, type Intake, within } from './intake.js';
import { encodeRpcStatus, GrpcCode } from '../../pipeline/otlp/rpc-status.js';
import { loadTls } from './tls.js';
import { BoundedMap } from '../../pipeline/bounded-map.js';

const SIGNALS: readonly Signal[] = ['traces', 'logs'];
/** Distinct peers (connections) remembered; the oldest is forgotten first. */
const MAX_CLIENTS = 1024;

/** `ipv4:127.0.0.1:5000`, `ipv6:[::1]:5000`, `127.0.0.1:5000`, `[::1]:5000`; undefined for `unix:` and the like. */
export function parsePeer(peer: string): ClientInfo['peer'] {
  const m = /^(?:ipv[46]:)?(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(peer);
  if (!m) return undefined;
  return { address: m[1] ?? m[2]!, port: Number(m[3]) };
}

/** Bytes in, bytes out: decoding happens in the handler so a bad message gets INVALID_ARGUMENT, not INTERNAL. */
function serviceFor(codec: SignalCodec<Signal>): ServiceDefinition {
  const identity = (b: Buffer) => b;
  return {
    Export: {
      path: codec.grpcPath,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
      responseDeserialize: identity,
      originalName: 'export',
    },
  };
}

function statusError(code: number, message: string, retryAfterMs?: number): Partial<{ code: number; details: string; metadata: Metadata }> {
  const metadata = new Metadata();
  if (retryAfterMs !== undefined) {
    // google.rpc.Status with RetryInfo, as grpc-go senders (and the collector's exporter) read it.
    metadata.set('grpc-status-details-bin', Buffer.from(encodeRpcStatus({ code, message, retryDelayMs: retryAfterMs })));
  }
  return { code, details: message, metadata };
}

/**
 * OTLP/gRPC: the TraceService and LogsService Export methods (only those of signals this receiver
 * feeds; the other answers UNIMPLEMENTED). grpc-js handles compression and enforces
 * max_recv_msg_size_mib on the decompressed message (RESOURCE_EXHAUSTED).
 */
export class OtlpGrpcServer {
  private server: Server | undefined;
  private stopping = false;
  private port = 0;
  private readonly clients = new BoundedMap<string, ClientInfo>(MAX_CLIENTS);
  address = '';

  constructor(
    private readonly config: GrpcConfig,
    private readonly intake: Intake,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const { config } = this;
    const credentials = config.tls ? await this.credentials() : ServerCredentials.createInsecure();
    const server = new Server({
      'grpc.max_receive_message_length': config.maxRecvMsgSizeMib * 1024 * 1024,
    });
    for (const signal of SIGNALS) {
      if (!this.intake.accepts(signal)) continue;
      const codec = codecFor(signal) as SignalCodec<Signal>;
      server.addService(serviceFor(codec), {
        Export: (call: ServerUnaryCall<Buffer, Uint8Array>, callback: sendUnaryData<Uint8Array>) => {
          void this.handle(codec, call, callback);
        },
      });
    }
    const { host, port } = splitHostPort(config.endpoint);
    const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const bound = await new Promise<number>((resolve, reject) => {
      server.bindAsync(target, credentials, (err, p) => {
        if (err) reject(new Error(`OTLP/gRPC cannot listen on ${target}: ${err.message}`));
        else resolve(p);
      });
    }).catch((err: Error) => {
      server.forceShutdown();
      throw err;
    });
    this.address = host.includes(':') ? `[${host}]:${bound}` : `${host}:${bound}`;
    this.port = bound;
    if (this.stopping) {
      // shutdown() ran while we were binding: do not leave the port open behind it.
      server.forceShutdown();
      return;
    }
    this.server = server;
  }

  private async credentials(): Promise<ServerCredentials> {
    const tls = await loadTls(this.config.tls!, 'protocols.grpc.tls');
    return ServerCredentials.createSsl(tls.clientCa ?? null, [{ cert_chain: tls.cert, private_key: tls.key }], tls.clientCa !== undefined);
  }

  /** Stops accepting calls, waits up to `deadlineMs` for running ones, then cancels the rest. */
  async shutdown(deadlineMs: number): Promise<void> {
    this.stopping = true;
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    // tryShutdown refuses new calls and completes once running calls have sent their answers.
    const done = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    if (!(await within(done, deadlineMs))) {
      this.logger.warn({ deadlineMs }, 'OTLP/gRPC calls still running at shutdown deadline; cancelling them');
      server.forceShutdown();
    }
  }

  /**
   * grpc-js names a call's peer but shows no connection object: one ClientInfo per peer string
   * (address and port), bounded; a reused port is caught where the connection is checked.
   */
  private clientOf(peer: string): ClientInfo {
    let info = this.clients.get(peer);
    if (info) return info;
    info = { transport: 'grpc', peer: parsePeer(peer), localPort: this.port };
    this.clients.set(peer, info);
    return info;
  }

  private async handle(
    codec: SignalCodec<Signal>,
    call: ServerUnaryCall<Buffer, Uint8Array>,
    callback: sendUnaryData<Uint8Array>,
  ): Promise<void> {
    const intake = this.intake;
    if (this.stopping) {
      intake.rejected('grpc', 'shutting_down', codec.grpcPath);
      return callback(statusError(GrpcCode.UNAVAILABLE, 'the receiver is shutting down', DEFAULT_RETRY_AFTER_MS));
    }
    const auth = call.metadata.get('authorization')[0];
    if (!intake.authorized(typeof auth === 'string' ? auth : undefined)) {
      intake.rejected('grpc', 'unauthenticated', codec.grpcPath);
      return callback(statusError(GrpcCode.UNAUTHENTICATED, 'missing or invalid bearer token'));
    }
    let data: SignalData<Signal>;
    try {
      data = codec.decodeReceived(call.request);
    } catch (err) {
      const message = err instanceof OtlpDecodeError ? err.message : `cannot decode request: ${(err as Error).message}`;
      intake.rejected('grpc', 'malformed', message);
      return callback(statusError(GrpcCode.INVALID_ARGUMENT, message));
    }
    try {
      const outcome = await intake.deliver(codec, data, this.clientOf(call.getPeer()));
      switch (outcome.kind) {
        case 'accepted':
          return callback(null, codec.encodeResponse());
        case 'permanent':
          return callback(statusError(GrpcCode.INVALID_ARGUMENT, outcome.message));
        case 'retryable':
          return callback(statusError(GrpcCode.UNAVAILABLE, outcome.message, outcome.retryAfterMs));
      }
    } catch (err) {
      this.logger.error({ err }, 'OTLP/gRPC call failed unexpectedly');
      callback(statusError(GrpcCode.INTERNAL, 'internal error'));
    }
  }
}
