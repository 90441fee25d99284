import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import zlib from 'node:zlib';
import { listen, splitHostPort } from '../../pipeline/listen.js';
import type { ClientInfo } from '../../pipeline/client-info.js';
import { codecFor, OtlpDecodeError, type SignalCodec } from '../../pipeline/otlp/codec.js';
import type { Signal, SignalData } from '../../pipeline/otlp/types.js';
import type { Logger } from '../../pipeline/telemetry/logger.js';
import type { HttpConfig } from './config.js';
import { DEFAULT_RETRY_AFTER_MS, type Intake, type RejectReason, within } from './intake.js';
import { GrpcCode, encodeRpcStatus, rpcStatusToJson, type RpcStatus } from '../../pipeline/otlp/rpc-status.js';
import { budgetMessage, type RequestBudget } from './request-budget.js';
import { loadTls, watchTlsFailures } from './tls.js';

/** Inflates with a cap on the output: stops as soon as `limit` is passed, so a zip bomb costs at most `limit`. */
function decompress(encoding: 'gzip' | 'deflate', raw: Buffer, limit: number): Promise<Buffer> {
  const fn = encoding === 'gzip' ? zlib.gunzip : zlib.inflate;
  return new Promise((resolve, reject) => fn(raw, { maxOutputLength: limit }, (err, out) => (err ? reject(err) : resolve(out))));
}

type Format = 'protobuf' | 'json';
const MEDIA_TYPES: Record<string, Format> = { 'application/x-protobuf': 'protobuf', 'application/json': 'json' };
const CONTENT_TYPE: Record<Format, string> = { protobuf: 'application/x-protobuf', json: 'application/json' };
const ENCODINGS = ['gzip', 'deflate', 'identity'] as const;
/**
 * How often Node checks read_header_timeout and read_timeout (its default, 30 s, lets a half-sent
 * header live up to 30 s past its timeout); one pass walks the open connections, at most max_connections.
 */
const MAX_TIMEOUT_CHECK_INTERVAL_MS = 1000;
/** What Node answers before closing a connection whose request was cut (as it does without a clientError listener). */
const REQUEST_TIMEOUT_RESPONSE = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n';
const BAD_REQUEST_RESPONSE = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n';
const HEADERS_TOO_LARGE_RESPONSE = 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n';

/** How long a sender may keep streaming a refused body (we discard it) before we cut the connection. */
const DRAIN_GRACE_MS = 5000;

/** An answer that ends the request early, with the counter reason it is filed under. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly reason: RejectReason,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * OTLP/HTTP: POST of an ExportTraceServiceRequest / ExportLogsServiceRequest as protobuf or JSON,
 * optionally gzip/deflate-compressed; the response uses the request's encoding, and errors carry
 * a google.rpc.Status in that encoding once it is known (plain text before that).
 */
export class OtlpHttpServer {
  private server: http.Server | undefined;
  private readonly routes = new Map<string, SignalCodec<Signal>>();
  private readonly clients = new WeakMap<Socket, ClientInfo>();
  /** Connections Node cut for read_header_timeout / read_timeout: counted there, not again by the handler. */
  private readonly timedOut = new WeakSet<Socket>();
  private stopping = false;
  address = '';

  constructor(
    private readonly config: HttpConfig,
    private readonly intake: Intake,
    private readonly logger: Logger,
    private readonly budget: RequestBudget,
  ) {
    for (const [signal, path] of [['traces', config.tracesUrlPath], ['logs', config.logsUrlPath]] as const) {
      if (intake.accepts(signal)) this.routes.set(path, codecFor(signal) as SignalCodec<Signal>);
    }
  }

  /** Binds the listener; rejects with an error naming the endpoint. */
  async start(): Promise<void> {
    const { config } = this;
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
      void this.handle(req, res);
    };
    // Node's defaults are headersTimeout 60 s, requestTimeout 300 s, keepAliveTimeout 5 s, checked every 30 s;
    // config.ts says why ours differ. Requests already read (waiting on the pipeline) are never cut by them.
    const smallest = Math.min(...[config.readHeaderTimeoutMs, config.readTimeoutMs].filter((t) => t > 0));
    const timeouts: http.ServerOptions = {
      headersTimeout: config.readHeaderTimeoutMs,
      requestTimeout: config.readTimeoutMs,
      keepAliveTimeout: config.idleTimeoutMs,
      connectionsCheckingInterval: Math.max(1, Math.min(MAX_TIMEOUT_CHECK_INTERVAL_MS, Math.ceil(smallest / 4))),
    };
    let server: http.Server;
    if (config.tls) {
      const tls = await loadTls(config.tls, 'protocols.http.tls');
      server = https.createServer(
        {
          ...timeouts,
          // A connection that never finishes TLS is a slow header too.
          ...(config.readHeaderTimeoutMs > 0 ? { handshakeTimeout: config.readHeaderTimeoutMs } : {}),
          cert: tls.cert,
          key: tls.key,
          ca: tls.clientCa,
          requestCert: tls.clientCa !== undefined,
          rejectUnauthorized: tls.clientCa !== undefined,
        },
        onRequest,
      );
    } else {
      server = http.createServer(timeouts, onRequest);
    }
    // Over the cap, Node closes the connection as it is accepted, before it costs a parser or TLS.
    server.maxConnections = config.maxConnections;
    server.on('drop', () => this.intake.connectionRefused('http', 'too_many_connections'));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.onClientError(err, socket));
    if (config.tls) watchTlsFailures(server, () => this.intake.connectionRefused('http', 'request_timeout'), this.logger, 'OTLP/HTTP');
    const { host, port } = splitHostPort(config.endpoint);
    try {
      await listen(server, port, host);
    } catch (err) {
      throw new Error(`OTLP/HTTP ${(err as Error).message}`);
    }
    const a = server.address() as AddressInfo;
    this.address = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
    if (this.stopping) {
      // shutdown() ran while we were binding: do not leave the port open behind it.
      server.close();
      return;
    }
    this.server = server;
  }

  /**
   * What Node's own clientError handling does (answer 408/431/400 if nothing was written, close),
   * plus the count: a cut request (timeout) and a request that is not HTTP are refusals.
   */
  private onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    const code = err.code ?? '';
    let response: string | undefined;
    if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      this.timedOut.add(socket);
      this.intake.connectionRefused('http', 'request_timeout');
      response = REQUEST_TIMEOUT_RESPONSE;
    } else if (code === 'HPE_HEADER_OVERFLOW') {
      this.intake.rejected('http', 'too_large', err.message);
      response = HEADERS_TOO_LARGE_RESPONSE;
    } else if (code.startsWith('HPE_')) {
      this.intake.rejected('http', 'malformed', err.message);
      response = BAD_REQUEST_RESPONSE;
    }
    // Anything else is the connection failing (a reset): no request to answer or count.
    if (response && socket.writable && socket.bytesWritten === 0) socket.write(response);
    socket.destroy();
  }

  /** Stops accepting, waits up to `deadlineMs` for requests being served, then cuts connections. */
  async shutdown(deadlineMs: number): Promise<void> {
    this.stopping = true;
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    // close() refuses new connections; idle keep-alive ones close now, busy ones after their answer
    // (sent with `connection: close` while stopping), and `closed` resolves when the last one is gone.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (!(await within(closed, deadlineMs))) {
      this.logger.warn({ deadlineMs }, 'OTLP/HTTP requests still running at shutdown deadline; closing their connections');
      server.closeAllConnections();
      await closed;
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let format: Format | undefined;
    // What this request holds of the receiver's budget, given back when it is answered.
    const held = { bytes: 0 };
    try {
      if (this.stopping) {
        throw new Refusal(503, 'shutting_down', 'the receiver is shutting down', { 'retry-after': String(DEFAULT_RETRY_AFTER_MS / 1000) });
      }
      format = MEDIA_TYPES[mediaType(req.headers['content-type'])];
      if (!this.intake.authorized(req.headers.authorization)) {
        throw new Refusal(401, 'unauthenticated', 'missing or invalid bearer token', { 'www-authenticate': 'Bearer' });
      }
      const path = (req.url ?? '/').split('?')[0]!;
      const codec = this.routes.get(path);
      if (!codec) {
        const shown = path.length > 100 ? `${path.slice(0, 100)}...` : path;
        throw new Refusal(404, 'not_found', `no OTLP endpoint at ${shown}; POST to ${[...this.routes.keys()].join(' or ')}`);
      }
      if (req.method !== 'POST') {
        throw new Refusal(405, 'method_not_allowed', `method ${req.method} not allowed on ${path}; use POST`, { allow: 'POST' });
      }
      if (!format) {
        throw new Refusal(
          415,
          'unsupported_media_type',
          `unsupported content-type ${JSON.stringify(req.headers['content-type'] ?? '')}; use application/x-protobuf or application/json`,
        );
      }
      const body = await this.readBody(req, held);
      let data: SignalData<Signal>;
      try {
        data = format === 'protobuf' ? codec.decodeReceived(body) : codec.fromJson(body.toString('utf8'));
      } catch (err) {
        const message = err instanceof OtlpDecodeError ? err.message : `cannot decode request: ${(err as Error).message}`;
        throw new Refusal(400, 'malformed', message);
      }
      const outcome = await this.intake.deliver(codec, data, this.clientOf(req.socket));
      switch (outcome.kind) {
        case 'accepted': {
          const out = format === 'protobuf' ? codec.encodeResponse() : codec.responseToJson();
          return this.send(res, 200, CONTENT_TYPE[format], out);
        }
        case 'permanent':
          return this.sendStatus(res, 400, format, { code: GrpcCode.INVALID_ARGUMENT, message: outcome.message });
        case 'retryable':
          return this.sendStatus(
            res,
            503,
            format,
            { code: GrpcCode.UNAVAILABLE, message: outcome.message, retryDelayMs: outcome.retryAfterMs },
            { 'retry-after': String(Math.max(1, Math.ceil(outcome.retryAfterMs / 1000))) },
          );
      }
    } catch (err) {
      if (err instanceof Refusal) {
        // A request Node cut for its timeout was counted (request_timeout) when it was cut.
        if (this.timedOut.has(req.socket)) return;
        this.intake.rejected('http', err.reason, err.message);
        this.discardRest(req, res);
        return this.sendStatus(res, err.status, format, { code: grpcCodeFor(err.status), message: err.message }, err.headers);
      }
      this.logger.error({ err }, 'OTLP/HTTP request failed unexpectedly');
      this.discardRest(req, res);
      return this.sendStatus(res, 500, format, { code: GrpcCode.INTERNAL, message: 'internal error' });
    } finally {
      this.budget.give(held.bytes);
    }
  }

  /** Takes `bytes` more of the budget for a request, or refuses it as retryable. */
  private hold(held: { bytes: number }, bytes: number): void {
    if (!this.budget.take(bytes)) {
      throw new Refusal(503, 'over_budget', budgetMessage(bytes, this.budget), { 'retry-after': String(Math.ceil(DEFAULT_RETRY_AFTER_MS / 1000)) });
    }
    held.bytes += bytes;
  }

  /** One ClientInfo per connection, so what is learned about a connection is kept as long as it lives. */
  private clientOf(socket: Socket): ClientInfo {
    let info = this.clients.get(socket);
    if (!info) {
      const peer = socket.remoteAddress !== undefined && socket.remotePort !== undefined ? { address: socket.remoteAddress, port: socket.remotePort } : undefined;
      info = { transport: 'http', peer, localPort: socket.localPort ?? 0 };
      this.clients.set(socket, info);
    }
    return info;
  }

  /** The body, bounded by max_request_body_size both as sent and after decompression. */
  private async readBody(req: http.IncomingMessage, held: { bytes: number }): Promise<Buffer> {
    const limit = this.config.maxRequestBodySize;
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase() || 'identity';
    if (!(ENCODINGS as readonly string[]).includes(encoding)) {
      throw new Refusal(415, 'unsupported_encoding', `unsupported content-encoding ${JSON.stringify(encoding)}; use ${ENCODINGS.join(', ')}`);
    }
    const tooLarge = (what: string) => new Refusal(413, 'too_large', `${what} exceeds max_request_body_size (${limit} bytes)`);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) throw tooLarge(`request body of ${declared} bytes`);
    // A declared length is held at once, before any of it is read; a chunked body as it arrives.
    const sized = Number.isFinite(declared) && declared >= 0;
    if (sized) this.hold(held, declared);

    const chunks: Buffer[] = [];
    let size = 0;
    // destroyOnReturn: false keeps the socket open when we stop early, so the 413 reaches the sender.
    try {
      for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > limit) throw tooLarge('request body');
        if (!sized) this.hold(held, chunk.length);
        chunks.push(chunk);
      }
    } catch (err) {
      if (err instanceof Refusal) throw err;
      // The sender hung up mid-body: nobody will read the answer, but the request is still counted.
      throw new Refusal(400, 'malformed', `cannot read request body: ${(err as Error).message}`);
    }
    const raw = Buffer.concat(chunks, size);
    if (encoding === 'identity') return raw;
    try {
      const inflated = await decompress(encoding as 'gzip' | 'deflate', raw, limit);
      this.hold(held, inflated.length);
      return inflated;
    } catch (err) {
      if (err instanceof Refusal) throw err;
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(`decompressed ${encoding} body`);
      throw new Refusal(400, 'malformed', `invalid ${encoding} body: ${(err as Error).message}`);
    }
  }

  private send(res: http.ServerResponse, status: number, contentType: string, body: Uint8Array | string, headers: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    // While stopping, no connection stays open for another request: Node closes it once this answer is out.
    const connection: Record<string, string> = this.stopping ? { connection: 'close' } : {};
    res.writeHead(status, { ...headers, ...connection, 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  /** Errors in the request's encoding once known (OTLP/HTTP spec), plain text otherwise. */
  private sendStatus(res: http.ServerResponse, status: number, format: Format | undefined, s: RpcStatus, headers: Record<string, string> = {}): void {
    if (format === 'protobuf') return this.send(res, status, CONTENT_TYPE.protobuf, encodeRpcStatus(s), headers);
    if (format === 'json') return this.send(res, status, CONTENT_TYPE.json, rpcStatusToJson(s), headers);
    this.send(res, status, 'text/plain; charset=utf-8', `${s.message}\n`, headers);
  }

  /**
   * Answering before the body is read keeps the connection usable: Node discards the rest of the
   * body. A sender that keeps streaming long after the answer is cut off.
   */
  private discardRest(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.complete) return;
    req.resume();
    res.once('finish', () => {
      if (req.complete) return;
      const timer = setTimeout(() => req.socket.destroy(), DRAIN_GRACE_MS);
      timer.unref();
      req.once('end', () => clearTimeout(timer));
      req.once('close', () => clearTimeout(timer));
    });
  }
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

function grpcCodeFor(status: number): number {
  if (status === 401) return GrpcCode.UNAUTHENTICATED;
  if (status === 413) return GrpcCode.RESOURCE_EXHAUSTED;
  if (status === 503) return GrpcCode.UNAVAILABLE;
  return GrpcCode.INVALID_ARGUMENT;
}
