import { lookup } from 'node:dns/promises';
import http2 from 'node:http2';
import { isIP, type AddressInfo, type Socket } from 'node:net';
import zlib from 'node:zlib';
import { listen, splitHostPort } from '../../pipeline/listen.js';
import type { ClientInfo } from '../../pipeline/client-info.js';
import { codecFor, OtlpDecodeError, type SignalCodec } from '../../pipeline/otlp/codec.js';
import { GrpcCode } from '../../pipeline/otlp/rpc-status.js';
import type { Signal, SignalData } from '../../pipeline/otlp/types.js';
import type { Logger } from '../../pipeline/telemetry/logger.js';
import type { GrpcConfig } from './config.js';
import { frame, FrameError, UnaryFrameReader } from './grpc-frame.js';
import { ACCEPTED_ENCODINGS, GRPC_CONTENT_TYPE, parseTimeout, statusHeaders } from './grpc-status.js';
import { DEFAULT_RETRY_AFTER_MS, type Intake, type RejectReason, within } from './intake.js';
import { handshakeTimeoutMs, SessionKeepalive } from './grpc-keepalive.js';
import { budgetMessage, type RequestBudget } from './request-budget.js';
import { loadTls, watchTlsFailures } from './tls.js';

type Http2Server = http2.Http2Server | http2.Http2SecureServer;
type Session = http2.Http2Session;
type Stream = http2.ServerHttp2Stream;

const SIGNALS: readonly Signal[] = ['traces', 'logs'];
const { NGHTTP2_NO_ERROR, NGHTTP2_CANCEL } = http2.constants;

/** Calls one connection may run at once (grpc-go's servers commonly set 100); more wait in the client. */
export const MAX_CONCURRENT_STREAMS = 100;
/**
 * Flow-control windows: a 4 MiB export arrives without waiting on WINDOW_UPDATEs (Node's 64 KiB
 * default cost round trips per message); what a client may send ahead is bounded by the call's
 * message limit anyway, which the reader enforces as bytes arrive.
 */
const STREAM_WINDOW = 1 << 20;
const SESSION_WINDOW = 8 << 20;
/**
 * nghttp2's own buffers per connection, in MB; past it Node refuses new streams. Node's default is 10;
 * grpc-js lifted the limit altogether because Node degrades badly when it is hit; 64 keeps a bound.
 */
const MAX_SESSION_MEMORY_MB = 64;
/** How long a request that ended inside its message waits to learn it was a cancel (see UnaryCall.message). */
const CANCEL_GRACE_MS = 20;
/** Longer timeouts than setTimeout can hold (~24.8 days) are no deadline at all. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const OK_HEADERS: http2.OutgoingHttpHeaders = { ':status': 200, 'content-type': GRPC_CONTENT_TYPE };
const OK_TRAILERS: http2.OutgoingHttpHeaders = { 'grpc-status': '0' };
const WITH_TRAILERS: http2.ServerStreamResponseOptions & { sendDate: boolean } = { waitForTrailers: true, sendDate: false };
const TRAILERS_ONLY: http2.ServerStreamResponseOptions & { sendDate: boolean } = { endStream: true, sendDate: false };

function sendOkTrailers(this: Stream): void {
  this.sendTrailers(OK_TRAILERS);
}

/** Inflates with a cap on the output: zlib stops once `limit` is passed, so a zip bomb costs at most `limit`. */
function inflate(encoding: string, raw: Buffer, limit: number): Promise<Buffer> {
  const fn = encoding === 'gzip' ? zlib.gunzip : zlib.inflate;
  return new Promise((resolve, reject) => fn(raw, { maxOutputLength: limit }, (err, out) => (err ? reject(err) : resolve(out))));
}

interface Route {
  codec: SignalCodec<Signal>;
  /** The framed Export*ServiceResponse of a full success, the same bytes every time. */
  accepted: Buffer;
}

/**
 * OTLP/gRPC over node:http2: unary TraceService/Export and LogsService/Export (only those of
 * signals this receiver feeds; any other path answers UNIMPLEMENTED), one length-prefixed message
 * per call, identity/gzip/deflate messages, `grpc-timeout`, TLS and mTLS. See README.md for what it
 * answers and what it bounds.
 */
export class OtlpGrpcServer {
  private readonly servers: Http2Server[] = [];
  private readonly sessions = new Set<Session>();
  /** Every connection, including those still in their TLS handshake (no session yet). */
  private readonly sockets = new Set<Socket>();
  private readonly clients = new WeakMap<Session, ClientInfo>();
  private readonly keepalives = new WeakMap<Session, SessionKeepalive>();
  private readonly routes = new Map<string, Route>();
  private readonly context: CallContext;
  private stopping = false;
  address = '';

  constructor(
    private readonly config: GrpcConfig,
    private readonly intake: Intake,
    private readonly logger: Logger,
    budget: RequestBudget,
  ) {
    this.context = { intake, logger, limit: config.maxRecvMsgSizeMib * 1024 * 1024, budget, clientOf: (session) => this.clientOf(session) };
    for (const signal of SIGNALS) {
      if (!intake.accepts(signal)) continue;
      const codec = codecFor(signal) as SignalCodec<Signal>;
      this.routes.set(codec.grpcPath, { codec, accepted: frame(codec.encodeResponse()) });
    }
  }

  /**
   * Binds every address the endpoint's host resolves to (`localhost` may be 127.0.0.1 and ::1, as
   * grpc-js bound them), all on the first one's port; rejects with an error naming the endpoint
   * when the first cannot bind.
   */
  async start(): Promise<void> {
    const tls = this.config.tls ? await loadTls(this.config.tls, 'protocols.grpc.tls') : undefined;
    const { host, port } = splitHostPort(this.config.endpoint);
    const hosts = isIP(host) ? [host] : await lookup(host, { all: true }).then((all) => all.map((a) => a.address), () => [host]);
    let bound = port;
    for (const [i, address] of hosts.entries()) {
      if (this.stopping) break;
      const server = this.createServer(tls);
      try {
        await listen(server, bound, address);
      } catch (err) {
        if (i === 0) throw new Error(`OTLP/gRPC ${(err as Error).message}`);
        this.logger.warn({ address, err }, 'OTLP/gRPC cannot listen on another address of its endpoint; serving the others');
        continue;
      }
      this.servers.push(server);
      if (i > 0) continue;
      const a = server.address() as AddressInfo;
      bound = a.port;
      this.address = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
    }
    // shutdown() ran while we were binding: do not leave a port open behind it.
    if (this.stopping) for (const server of this.servers.splice(0)) server.close();
  }

  private createServer(tls: Awaited<ReturnType<typeof loadTls>> | undefined): Http2Server {
    const options: http2.ServerOptions = {
      maxSessionMemory: MAX_SESSION_MEMORY_MB,
      settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS, initialWindowSize: STREAM_WINDOW },
    };
    const server = tls
      ? http2.createSecureServer({
          ...options,
          cert: tls.cert,
          key: tls.key,
          ca: tls.clientCa,
          requestCert: tls.clientCa !== undefined,
          rejectUnauthorized: tls.clientCa !== undefined,
          minVersion: 'TLSv1.2',
          ALPNProtocols: ['h2'],
          handshakeTimeout: handshakeTimeoutMs(this.config.keepalive),
        })
      : http2.createServer(options);
    // A running call ends by its deadline or the client's cancel, never by the socket's inactivity:
    // connections without calls are closed by SessionKeepalive (max_connection_idle).
    server.setTimeout(0);
    // Over the cap, Node closes the connection as it is accepted, before TLS or HTTP/2 cost anything.
    server.maxConnections = this.config.maxConnections;
    server.on('drop', () => this.intake.connectionRefused('grpc', 'too_many_connections'));
    if (tls) watchTlsFailures(server, () => this.intake.connectionRefused('grpc', 'handshake_timeout'), this.logger, 'OTLP/gRPC');
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('session', (session: Session) => this.onSession(session));
    server.on('stream', (stream: Stream, headers: http2.IncomingHttpHeaders) => this.onStream(stream, headers));
    server.on('sessionError', (err: Error) => this.logger.debug({ err }, 'OTLP/gRPC connection failed'));
    return server;
  }

  private onSession(session: Session): void {
    this.sessions.add(session);
    session.once('close', () => this.sessions.delete(session));
    if (this.stopping) return void session.close();
    this.keepalives.set(
      session,
      new SessionKeepalive(
        session as http2.ServerHttp2Session,
        this.config.keepalive,
        () => this.intake.connectionRefused('grpc', 'handshake_timeout'),
        (why) => this.logger.debug({ why }, 'OTLP/gRPC connection sent GOAWAY (keepalive.server_parameters)'),
      ),
    );
    try {
      session.setLocalWindowSize(SESSION_WINDOW);
    } catch (err) {
      this.logger.debug({ err }, 'OTLP/gRPC connection closed before its window was set');
    }
  }

  /**
   * Stops accepting connections, sends GOAWAY on every one (no new calls; running calls finish),
   * waits up to `deadlineMs` for them, then destroys the connections still open.
   */
  async shutdown(deadlineMs: number): Promise<void> {
    this.stopping = true;
    const servers = this.servers.splice(0);
    if (servers.length === 0) return;
    const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    const sessions = [...this.sessions];
    const finished = Promise.all(sessions.map((s) => new Promise((resolve) => s.once('close', resolve))));
    for (const session of sessions) session.close();
    if (!(await within(finished, deadlineMs))) {
      this.logger.warn({ deadlineMs }, 'OTLP/gRPC calls still running at shutdown deadline; cancelling them');
      for (const session of this.sessions) session.destroy(undefined, NGHTTP2_CANCEL);
    }
    // What is left carries no call: connections still in their TLS handshake, or just closing.
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /**
   * One ClientInfo per connection (HTTP/2 session), so what correlate learns about a connection is
   * kept exactly as long as the connection lives, and a new connection from a reused port is new.
   */
  private clientOf(session: Session | undefined): ClientInfo {
    let info = session && this.clients.get(session);
    if (info) return info;
    const socket = session?.socket;
    const peer = socket?.remoteAddress !== undefined && socket.remotePort !== undefined ? { address: socket.remoteAddress, port: socket.remotePort } : undefined;
    info = { transport: 'grpc', peer, localPort: socket?.localPort ?? 0 };
    if (session) this.clients.set(session, info);
    return info;
  }

  /** A reset or lost stream: its call ends through 'close'; the error itself is only worth a debug line. */
  private readonly onStreamError = (err: Error): void => this.logger.debug({ err }, 'OTLP/gRPC stream failed');

  private onStream(stream: Stream, headers: http2.IncomingHttpHeaders): void {
    stream.on('error', this.onStreamError);
    this.keepalives.get(stream.session!)?.opened(stream);
    const path = headers[':path'] ?? '';
    // The gRPC HTTP/2 protocol's answers before the call is a gRPC call at all: plain HTTP statuses.
    if (headers[':method'] !== 'POST') {
      return this.refuseHttp(stream, 405, 'method_not_allowed', `method ${headers[':method']} on ${path}`, { allow: 'POST' });
    }
    const contentType = headers['content-type'];
    if (typeof contentType !== 'string' || !contentType.startsWith(GRPC_CONTENT_TYPE)) {
      return this.refuseHttp(stream, 415, 'unsupported_media_type', `content-type ${JSON.stringify(contentType ?? '')}`);
    }
    const route = this.routes.get(path);
    if (!route) {
      const shown = path.length > 100 ? `${path.slice(0, 100)}...` : path;
      return this.refuse(stream, 'not_found', GrpcCode.UNIMPLEMENTED, `The server does not implement the method ${shown}`);
    }
    if (this.stopping) {
      return this.refuse(stream, 'shutting_down', GrpcCode.UNAVAILABLE, 'the receiver is shutting down', DEFAULT_RETRY_AFTER_MS);
    }
    if (!this.intake.authorized(headers.authorization)) {
      return this.refuse(stream, 'unauthenticated', GrpcCode.UNAUTHENTICATED, 'missing or invalid bearer token');
    }
    let timeoutMs: number | undefined;
    // Node joins a repeated header with ', ' (only set-cookie comes as an array).
    const timeout = headers['grpc-timeout'] as string | undefined;
    if (timeout !== undefined) {
      timeoutMs = parseTimeout(timeout);
      if (timeoutMs === undefined) return this.refuse(stream, 'malformed', GrpcCode.INTERNAL, `Invalid grpc-timeout value ${JSON.stringify(timeout)}`);
    }
    new UnaryCall(this.context, stream, route, headers['grpc-encoding'] as string | undefined, timeoutMs);
  }

  private refuseHttp(stream: Stream, status: number, reason: RejectReason, detail: string, extra: http2.OutgoingHttpHeaders = {}): void {
    this.intake.rejected('grpc', reason, detail);
    answer(stream, { ':status': status, ...extra });
  }

  private refuse(stream: Stream, reason: RejectReason, code: number, message: string, retryAfterMs?: number): void {
    this.intake.rejected('grpc', reason, message);
    answer(stream, statusHeaders(code, message, retryAfterMs));
  }
}

/** What a call needs from its server. */
interface CallContext {
  intake: Intake;
  logger: Logger;
  limit: number;
  budget: RequestBudget;
  clientOf(session: Session | undefined): ClientInfo;
}

/**
 * A trailers-only answer; if the client is still sending the request, RST_STREAM(NO_ERROR) after it
 * asks it to stop (HTTP/2 §8.1), so a refused 4 MiB body is not streamed in for nothing.
 */
function answer(stream: Stream, headers: http2.OutgoingHttpHeaders): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  stream.respond(headers, TRAILERS_ONLY);
  if (!stream.readableEnded) {
    stream.resume();
    stream.close(NGHTTP2_NO_ERROR);
  }
}

/**
 * One Export call: collects its message, inflates and decodes it, hands it to the intake and
 * answers. Exactly one answer per call, whichever comes first: the call's own outcome, its
 * deadline, or the client's cancel (then no answer, but the request is counted).
 */
class UnaryCall {
  private readonly reader: UnaryFrameReader;
  private readonly timer: NodeJS.Timeout | undefined;
  /** Answered, refused or cancelled: nothing more is done for this call. */
  private done = false;
  /** Handed to the pipeline: from here on the intake counts the request, whatever happens to the call. */
  private delivered = false;
  /** Bytes this call holds of the receiver's budget (its message, then also the message inflated); -1 before its length is known. */
  private held = -1;

  constructor(
    private readonly context: CallContext,
    private readonly stream: Stream,
    private readonly route: Route,
    private readonly encoding: string | undefined,
    timeoutMs: number | undefined,
  ) {
    this.reader = new UnaryFrameReader(context.limit);
    if (timeoutMs !== undefined && timeoutMs < MAX_TIMER_MS) this.timer = setTimeout(() => this.expire(), timeoutMs);
    // `on`, not `once`: a stream emits 'end' and 'close' at most once, and `once` cost a wrapper and a
    // removeListener per call.
    stream.on('data', (chunk: Buffer) => this.data(chunk));
    stream.on('end', () => void this.end());
    stream.on('close', () => this.closed());
  }

  private data(chunk: Buffer): void {
    if (this.done) return;
    try {
      this.reader.push(chunk);
      if (this.held < 0 && this.reader.length >= 0) this.hold(this.reader.length);
    } catch (err) {
      this.fail(err);
    }
  }

  /** Takes `bytes` more of the budget, or refuses the call as retryable. */
  private hold(bytes: number): void {
    const { budget } = this.context;
    if (!budget.take(bytes)) throw new FrameError(GrpcCode.UNAVAILABLE, 'over_budget', budgetMessage(bytes, budget));
    this.held = Math.max(this.held, 0) + bytes;
  }

  private async end(): Promise<void> {
    if (this.done) return;
    const { intake, logger, limit } = this.context;
    const { codec } = this.route;
    try {
      let bytes = this.message();
      if (!bytes) return;
      if (this.reader.compressed) {
        bytes = await this.inflate(bytes, limit);
        if (this.done) return;
        this.hold(bytes.length);
      }
      if (this.done) return;
      let data: SignalData<Signal>;
      try {
        data = codec.decodeReceived(bytes);
      } catch (err) {
        const message = err instanceof OtlpDecodeError ? err.message : `cannot decode request: ${(err as Error).message}`;
        throw new FrameError(GrpcCode.INVALID_ARGUMENT, 'malformed', message);
      }
      this.delivered = true;
      const outcome = await intake.deliver(codec, data, this.context.clientOf(this.stream.session));
      if (this.done) return;
      switch (outcome.kind) {
        case 'accepted':
          return this.ok();
        case 'permanent':
          return this.status(GrpcCode.INVALID_ARGUMENT, outcome.message);
        case 'retryable':
          return this.status(GrpcCode.UNAVAILABLE, outcome.message, outcome.retryAfterMs);
      }
    } catch (err) {
      if (err instanceof FrameError) return this.fail(err);
      logger.error({ err }, 'OTLP/gRPC call failed unexpectedly');
      this.status(GrpcCode.INTERNAL, 'internal error');
    }
  }

  /** The call's message once the request ended; undefined when there is none (then answered here). */
  private message(): Buffer | undefined {
    try {
      return this.reader.finish();
    } catch (err) {
      // On RST_STREAM Node ends the readable side a moment before it reports the reset: a cut-off
      // message waits briefly for that word (then closed() counts a cancel) before it is malformed.
      const timer = setTimeout(() => this.fail(err), CANCEL_GRACE_MS);
      this.stream.once('close', () => clearTimeout(timer));
      return undefined;
    }
  }

  private async inflate(raw: Buffer, limit: number): Promise<Buffer> {
    const encoding = this.encoding;
    if (encoding === undefined || encoding === 'identity') {
      throw new FrameError(GrpcCode.INTERNAL, 'malformed', 'compressed flag set but grpc-encoding names no compression');
    }
    if (encoding !== 'gzip' && encoding !== 'deflate') {
      throw new FrameError(GrpcCode.UNIMPLEMENTED, 'unsupported_encoding', `Received message compressed with unsupported encoding ${JSON.stringify(encoding)}`);
    }
    try {
      return await inflate(encoding, raw, limit);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new FrameError(GrpcCode.RESOURCE_EXHAUSTED, 'too_large', `Received message that decompresses to a size larger than ${limit}`);
      }
      throw new FrameError(GrpcCode.INVALID_ARGUMENT, 'malformed', `invalid ${encoding} message: ${(err as Error).message}`);
    }
  }

  /** A refusal before the pipeline saw the request: counted under its reason. */
  private fail(err: unknown): void {
    const e = err instanceof FrameError ? err : new FrameError(GrpcCode.INTERNAL, 'malformed', (err as Error).message);
    this.context.intake.rejected('grpc', e.reason, e.message);
    const extra = e.reason === 'unsupported_encoding' ? { 'grpc-accept-encoding': ACCEPTED_ENCODINGS } : undefined;
    this.status(e.code, e.message, e.reason === 'over_budget' ? DEFAULT_RETRY_AFTER_MS : undefined, extra);
  }

  private ok(): void {
    this.finish();
    const stream = this.stream;
    if (stream.destroyed || stream.closed) return;
    stream.respond(OK_HEADERS, WITH_TRAILERS);
    stream.on('wantTrailers', sendOkTrailers);
    stream.end(this.route.accepted);
  }

  private status(code: number, message: string, retryAfterMs?: number, extra?: http2.OutgoingHttpHeaders): void {
    this.finish();
    answer(this.stream, statusHeaders(code, message, retryAfterMs, extra));
  }

  private finish(): void {
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.held > 0) this.context.budget.give(this.held);
    this.held = 0;
  }

  /** The client's deadline passed: it stops waiting now, so answer now; undelivered data is dropped and counted. */
  private expire(): void {
    if (this.done) return;
    if (!this.delivered) this.context.intake.rejected('grpc', 'deadline_exceeded', this.route.codec.grpcPath);
    this.status(GrpcCode.DEADLINE_EXCEEDED, 'Deadline exceeded');
  }

  /** The stream closed; before an answer that is the client's cancel (RST_STREAM) or a lost connection. */
  private closed(): void {
    if (this.done) return;
    this.finish();
    if (!this.delivered) this.context.intake.rejected('grpc', 'cancelled', this.route.codec.grpcPath);
  }
}
