import { readFile } from 'node:fs/promises';
import http2 from 'node:http2';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { SignalCodec } from '../../pipeline/otlp/codec.js';
import type { PartialSuccess, Signal } from '../../pipeline/otlp/types.js';
import type { OtlpExporterConfig } from './config.js';
import type { ExportResult, Transport } from './result.js';
import { decodeRpcStatus } from '../../pipeline/otlp/rpc-status.js';

/** gRPC status names by code, for messages. */
const STATUS_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
];
const Code = { OK: 0, CANCELLED: 1, UNKNOWN: 2, DEADLINE_EXCEEDED: 4, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, ABORTED: 10, OUT_OF_RANGE: 11, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16 } as const;

/** Retryable per the OTLP spec; RESOURCE_EXHAUSTED only when the server sent RetryInfo. */
const RETRYABLE = new Set<number>([Code.CANCELLED, Code.DEADLINE_EXCEEDED, Code.ABORTED, Code.OUT_OF_RANGE, Code.UNAVAILABLE, Code.DATA_LOSS]);

/** gRPC's connection back-off (initial 1 s, ×1.6, ±20%), capped lower than its 120 s: a recovered backend is used sooner. */
const INITIAL_BACKOFF_MS = 1000;
const BACKOFF_MULTIPLIER = 1.6;
const BACKOFF_JITTER = 0.2;
const MAX_RECONNECT_BACKOFF_MS = 5_000;
/** gRPC's minimum connect timeout: a target that never answers the handshake is given up after this. */
const CONNECT_TIMEOUT_MS = 20_000;
/** Largest answer read (grpc-js's default receive limit); an Export*ServiceResponse is a few bytes. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_INADEQUATE_SECURITY } = http2.constants;
const gzip = promisify(zlib.gzip);

/** Target and TLS choice: an http:// prefix means plaintext, https:// means TLS, else `tls.insecure`. */
export function grpcTarget(config: OtlpExporterConfig): { target: string; insecure: boolean } {
  const m = /^(https?):\/\/(.*)$/.exec(config.endpoint);
  if (m) return { target: m[2]!, insecure: m[1] === 'http' };
  return { target: config.endpoint, insecure: config.tls.insecure };
}

async function tlsOptions(config: OtlpExporterConfig, host: string): Promise<http2.SecureClientSessionOptions> {
  const { caFile, certFile, keyFile, insecureSkipVerify } = config.tls;
  const [ca, cert, key] = await Promise.all([caFile, certFile, keyFile].map((f) => (f ? readFile(f) : Promise.resolve(undefined))));
  return {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(isIP(host) ? {} : { servername: host }),
    ...(insecureSkipVerify ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {}),
  };
}

/**
 * One HTTP/2 connection to the target, opened when first needed and again after it closed or got
 * GOAWAY; a failed attempt is not repeated before its back-off passed (exports meanwhile fail fast
 * with UNAVAILABLE, which the retry sender retries, as grpc-js did in TRANSIENT_FAILURE).
 */
class Connection {
  private session: http2.ClientHttp2Session | undefined;
  private connecting: Promise<http2.ClientHttp2Session | string> | undefined;
  private failures = 0;
  private retryAt = 0;
  private lastError = '';
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly options: http2.SecureClientSessionOptions,
  ) {}

  /** A connected session, or why there is none. */
  get(): Promise<http2.ClientHttp2Session | string> | http2.ClientHttp2Session | string {
    const session = this.session;
    if (session && !session.closed && !session.destroyed) return session;
    if (this.closed) return 'the exporter is shut down';
    if (this.connecting) return this.connecting;
    const wait = this.retryAt - Date.now();
    if (wait > 0) return `${this.lastError} (next attempt in ${wait} ms)`;
    this.connecting = this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private connect(): Promise<http2.ClientHttp2Session | string> {
    return new Promise((resolve) => {
      // Outgoing payloads (up to 10 requests of several MB in flight) count as session memory: our
      // queue bounds them, so nghttp2's 10 MB default must not refuse streams (grpc-js lifts it too).
      const session = http2.connect(this.url, { ...this.options, maxSessionMemory: 1024 });
      const timer = setTimeout(() => fail(new Error(`no connection after ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      const fail = (err: Error) => {
        clearTimeout(timer);
        session.destroy();
        const backoff = Math.min(INITIAL_BACKOFF_MS * BACKOFF_MULTIPLIER ** this.failures, MAX_RECONNECT_BACKOFF_MS);
        this.failures++;
        this.retryAt = Date.now() + backoff * (1 + BACKOFF_JITTER * (Math.random() * 2 - 1));
        this.lastError = `cannot connect to ${this.url}: ${err.message}`;
        resolve(this.lastError);
      };
      session.once('error', fail);
      session.once('connect', () => {
        clearTimeout(timer);
        session.off('error', fail);
        // Later errors end the streams they concern (each answers for itself); the session is dropped on close.
        session.on('error', () => {});
        const forget = () => {
          if (this.session === session) this.session = undefined;
        };
        session.once('close', forget);
        session.once('goaway', forget);
        this.failures = 0;
        if (this.closed) session.close();
        else this.session = session;
        resolve(session);
      });
    });
  }

  /** Closes the connection once its running calls ended (at most `deadlineMs`, then destroys it). */
  async close(deadlineMs: number): Promise<void> {
    this.closed = true;
    const session = this.session ?? (await this.connecting?.then((s) => (typeof s === 'string' ? undefined : s)));
    this.session = undefined;
    if (!session || session.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => session.destroy(), deadlineMs);
      session.close(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/**
 * OTLP/gRPC over node:http2: one unary Export call per request on one connection per exporter and
 * signal; the payload is already protobuf and goes out behind its 5-byte prefix without a copy.
 */
export async function createGrpcTransport<S extends Signal>(config: OtlpExporterConfig, codec: SignalCodec<S>): Promise<Transport> {
  const { target, insecure } = grpcTarget(config);
  const host = target.slice(0, target.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1');
  const connection = new Connection(`${insecure ? 'http' : 'https'}://${target}`, insecure ? {} : await tlsOptions(config, host));
  const compressed = config.compression === 'gzip';
  const requestHeaders: http2.OutgoingHttpHeaders = {
    ':method': 'POST',
    ':path': codec.grpcPath,
    'content-type': 'application/grpc',
    te: 'trailers',
    'grpc-accept-encoding': 'identity,deflate,gzip',
    'user-agent': 'aibom-collector',
    // The attempt's timeout, so the server stops working on a call we stopped waiting for.
    'grpc-timeout': grpcTimeout(config.timeoutMs),
    ...(compressed ? { 'grpc-encoding': 'gzip' } : {}),
  };
  for (const [k, v] of Object.entries(config.headers)) requestHeaders[k.toLowerCase()] = v;

  return {
    encoding: 'proto',
    async export(payload, signal) {
      if (signal.aborted) return { kind: 'retryable', message: 'aborted before sending' };
      const body = compressed ? await gzip(payload) : payload;
      // A call the server never saw (its GOAWAY crossed our request) is sent again at once on a new
      // connection, as gRPC's transparent retry does; a second refusal goes to the retry sender.
      for (let attempt = 1; ; attempt++) {
        const session = await untilAborted(connection.get(), signal);
        if (session === ABORTED) return aborted(`gRPC ${STATUS_NAMES[Code.CANCELLED]}: before the connection was ready`, signal);
        if (typeof session === 'string') return { kind: 'retryable', message: `gRPC UNAVAILABLE: ${session}` };
        if (signal.aborted) return aborted(`gRPC ${STATUS_NAMES[Code.CANCELLED]}: before sending`, signal);
        const result = await call(session, requestHeaders, body, compressed, signal, codec);
        if (result !== UNSEEN) return result;
        if (attempt === TRANSPARENT_ATTEMPTS) return { kind: 'retryable', message: 'gRPC UNAVAILABLE: the server refused the call (GOAWAY) on fresh connections' };
      }
    },
    async close() {
      await connection.close(2000);
    },
  };
}

/** `grpc-timeout`: at most 8 digits, in milliseconds while they fit, else seconds. */
function grpcTimeout(ms: number): string {
  const m = Math.ceil(ms);
  return m <= 99_999_999 ? `${m}m` : `${Math.min(Math.ceil(m / 1000), 99_999_999)}S`;
}

const ABORTED = Symbol('aborted');
/** The server did not process the call: refused (REFUSED_STREAM, HTTP/2 §8.7) or the session closed before it was sent. */
const UNSEEN = Symbol('unseen');
/** What session.request() throws when the session can take no new stream (the request was not sent). */
const NOT_SENT = new Set(['ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_INVALID_SESSION', 'ERR_HTTP2_OUT_OF_STREAMS']);
/** The first attempt and one transparent retry. */
const TRANSPARENT_ATTEMPTS = 2;

function untilAborted<T>(value: Promise<T> | T, signal: AbortSignal): Promise<T | typeof ABORTED> | T {
  if (!(value instanceof Promise)) return value;
  return new Promise((resolve) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    void value.then((v) => {
      signal.removeEventListener('abort', onAbort);
      resolve(v);
    });
  });
}

function aborted(message: string, signal: AbortSignal): ExportResult {
  return { kind: 'retryable', message: `${message} (${String(signal.reason?.message ?? signal.reason ?? 'aborted')})` };
}

/**
 * One Export call; resolves once the stream closed, so the payload buffer is no longer read by Node;
 * UNSEEN when the server provably did not process it (safe to send again at once).
 */
function call(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body: Uint8Array,
  compressed: boolean,
  signal: AbortSignal,
  codec: SignalCodec<Signal>,
): Promise<ExportResult | typeof UNSEEN> {
  return new Promise((resolve) => {
    let req: http2.ClientHttp2Stream;
    try {
      req = session.request(headers);
    } catch (err) {
      // The session got GOAWAY or closed between connection.get() and here: nothing was sent.
      if (NOT_SENT.has((err as NodeJS.ErrnoException).code ?? '')) return resolve(UNSEEN);
      return resolve({ kind: 'retryable', message: `gRPC UNAVAILABLE: ${(err as Error).message}` });
    }
    let response: http2.IncomingHttpHeaders | undefined;
    let trailers: http2.IncomingHttpHeaders | undefined;
    let error: Error | undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    req.once('response', (h) => (response = h));
    req.once('trailers', (t) => (trailers = t));
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_RESPONSE_BYTES + 5) chunks.push(chunk);
    });
    req.on('error', (err: Error) => (error ??= err));
    const onAbort = () => req.close(NGHTTP2_CANCEL);
    signal.addEventListener('abort', onAbort, { once: true });
    req.once('close', () => {
      signal.removeEventListener('abort', onAbort);
      if (!response && req.rstCode === NGHTTP2_REFUSED_STREAM && !signal.aborted) return resolve(UNSEEN);
      const status = statusOf(response, trailers, req.rstCode, error, size);
      if (status.code === Code.OK) return resolve(ok(chunks, response, codec));
      resolve(classify(status, signal));
    });
    const prefix = Buffer.allocUnsafe(5);
    prefix[0] = compressed ? 1 : 0;
    prefix.writeUInt32BE(body.length, 1);
    req.cork();
    req.write(prefix);
    req.end(body);
  });
}

interface CallStatus {
  code: number;
  details: string;
  /** `grpc-status-details-bin`, base64 (padded or not). */
  detailsBin?: string;
}

/**
 * The call's status as the gRPC HTTP/2 protocol defines it: from the trailers, or the headers of a
 * trailers-only answer; an HTTP error status maps to a gRPC code; a stream reset or lost connection
 * without a status maps as grpc-js maps it (no answer at all is UNAVAILABLE).
 */
function statusOf(
  response: http2.IncomingHttpHeaders | undefined,
  trailers: http2.IncomingHttpHeaders | undefined,
  rstCode: number | undefined,
  error: Error | undefined,
  size: number,
): CallStatus {
  const source = trailers?.['grpc-status'] !== undefined ? trailers : response?.['grpc-status'] !== undefined ? response : undefined;
  const httpStatus = Number(response?.[':status'] ?? 0);
  if (source) {
    const code = Number(source['grpc-status']);
    if (code === Code.OK && size > MAX_RESPONSE_BYTES + 5) return { code: Code.RESOURCE_EXHAUSTED, details: `response larger than ${MAX_RESPONSE_BYTES} bytes` };
    const bin = source['grpc-status-details-bin'];
    return {
      code: Number.isInteger(code) && code >= 0 && code <= 16 ? code : Code.UNKNOWN,
      details: percentDecode(String(source['grpc-message'] ?? '')),
      ...(typeof bin === 'string' ? { detailsBin: bin } : {}),
    };
  }
  if (response && httpStatus !== 200) return { code: httpToGrpc(httpStatus), details: `Received HTTP status code ${httpStatus}` };
  if (!response) return { code: rstCode === NGHTTP2_CANCEL ? Code.CANCELLED : Code.UNAVAILABLE, details: error?.message ?? `stream closed with code ${rstCode ?? 'none'} before an answer` };
  if (rstCode === NGHTTP2_CANCEL) return { code: Code.CANCELLED, details: 'call cancelled' };
  if (rstCode === NGHTTP2_REFUSED_STREAM) return { code: Code.UNAVAILABLE, details: 'stream refused by the server' };
  if (rstCode === NGHTTP2_ENHANCE_YOUR_CALM) return { code: Code.RESOURCE_EXHAUSTED, details: 'Bandwidth exhausted or memory limit exceeded' };
  if (rstCode === NGHTTP2_INADEQUATE_SECURITY) return { code: Code.PERMISSION_DENIED, details: 'Protocol not secure enough' };
  return { code: rstCode ? Code.INTERNAL : Code.UNKNOWN, details: rstCode ? `Received RST_STREAM with code ${rstCode}` : 'answer without grpc-status' };
}

/** The gRPC HTTP/2 protocol's mapping of HTTP statuses a proxy may answer with. */
function httpToGrpc(status: number): number {
  if (status === 400) return Code.INTERNAL;
  if (status === 401) return Code.UNAUTHENTICATED;
  if (status === 403) return Code.PERMISSION_DENIED;
  if (status === 404) return Code.UNIMPLEMENTED;
  if (status === 429 || status === 502 || status === 503 || status === 504) return Code.UNAVAILABLE;
  return Code.UNKNOWN;
}

function percentDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * A successful answer: the Export*ServiceResponse's partial success, if any. An answer that cannot
 * be read is still a success (grpc-status 0 says the data was taken).
 */
function ok(chunks: Buffer[], response: http2.IncomingHttpHeaders | undefined, codec: SignalCodec<Signal>): ExportResult {
  const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  if (data.length < 5) return { kind: 'ok' };
  try {
    let message = data.subarray(5, 5 + data.readUInt32BE(1));
    if (data[0] === 1) {
      const encoding = response?.['grpc-encoding'];
      message = encoding === 'deflate' ? zlib.inflateSync(message, { maxOutputLength: MAX_RESPONSE_BYTES }) : zlib.gunzipSync(message, { maxOutputLength: MAX_RESPONSE_BYTES });
    }
    const partial: PartialSuccess | undefined = codec.decodeResponse(message);
    return partial ? { kind: 'ok', partial } : { kind: 'ok' };
  } catch {
    return { kind: 'ok' };
  }
}

function classify(status: CallStatus, signal: AbortSignal): ExportResult {
  const message = `gRPC ${STATUS_NAMES[status.code] ?? status.code}: ${status.details}`;
  if (signal.aborted) return aborted(message, signal);
  const retryAfterMs = status.detailsBin === undefined ? undefined : decodeRpcStatus(Buffer.from(status.detailsBin, 'base64'))?.retryDelayMs;
  const hint = retryAfterMs !== undefined ? { retryAfterMs } : {};
  if (RETRYABLE.has(status.code)) return { kind: 'retryable', message, ...hint };
  if (status.code === Code.RESOURCE_EXHAUSTED && retryAfterMs !== undefined) return { kind: 'retryable', message, ...hint };
  return { kind: 'permanent', message };
}
