// The gRPC protocol's edges, with a raw node:http2 client (which can send what no gRPC library
// would) and grpc-js (the reference client) as peers.
import { status } from '@grpc/grpc-js';
import http2 from 'node:http2';
import net from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { clientInfoOf } from '../../pipeline/client-info.js';
import { PermanentError, RetryableError } from '../../pipeline/consumer.js';
import { tracesCodec, type SignalCodec } from '../../pipeline/otlp/codec.js';
import { decodeRpcStatus } from '../../pipeline/otlp/rpc-status.js';
import type { Signal } from '../../pipeline/otlp/types.js';
import { grpcExport, sampleTraces, startReceiver, type Harness } from './testdata/harness.js';

const traces = tracesCodec as unknown as SignalCodec<Signal>;

let h: Harness | undefined;
const sessions: http2.ClientHttp2Session[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) s.destroy();
  await h?.receiver.shutdown();
  h = undefined;
});

function connect(address: string): http2.ClientHttp2Session {
  const session = http2.connect(`http://${address}`);
  session.on('error', () => {});
  sessions.push(session);
  return session;
}

/** The 5-byte gRPC prefix and a message. */
function framed(message: Uint8Array, compressed = false, length = message.length): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out[0] = compressed ? 1 : 0;
  out.writeUInt32BE(length, 1);
  out.set(message, 5);
  return out;
}

interface RawReply {
  status: number;
  headers: http2.IncomingHttpHeaders;
  /** grpc-status from the trailers, or from the headers of a trailers-only answer. */
  grpcStatus: number | undefined;
  grpcMessage: string;
  data: Buffer;
  rstCode: number | undefined;
}

interface RawCall {
  path?: string;
  headers?: http2.OutgoingHttpHeaders;
  body?: Buffer[];
  /** false: leave the request open after the body. */
  end?: boolean;
  /** Called with the request once its body is written (to cancel it, for one). */
  then?: (req: http2.ClientHttp2Stream) => void;
}

function rawCall(session: http2.ClientHttp2Session, call: RawCall = {}): Promise<RawReply> {
  return new Promise((resolve) => {
    const req = session.request({
      ':method': 'POST',
      ':path': call.path ?? tracesCodec.grpcPath,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...call.headers,
    });
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => (headers = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => {});
    req.on('close', () => {
      const s = trailers['grpc-status'] ?? headers['grpc-status'];
      const m = (trailers['grpc-message'] ?? headers['grpc-message'] ?? '') as string;
      resolve({
        status: Number(headers[':status']),
        headers,
        grpcStatus: s === undefined ? undefined : Number(s),
        grpcMessage: decodeURIComponent(m),
        data: Buffer.concat(chunks),
        rstCode: req.rstCode,
      });
    });
    for (const b of call.body ?? []) req.write(b);
    if (call.end !== false) req.end();
    call.then?.(req);
  });
}

const rejected = (reason: string) => h!.metrics.value(h!.metrics.receiverRequestsRejected, { transport: 'grpc', reason });

describe('OTLP/gRPC protocol edges (raw HTTP/2 client)', () => {
  it('answers a good call with headers, the framed response and grpc-status 0 in trailers', async () => {
    h = await startReceiver();
    const reply = await rawCall(connect(h.grpcAddress), { body: [framed(tracesCodec.encode(sampleTraces(2)))] });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/grpc');
    expect(reply.grpcStatus).toBe(0);
    expect(reply.data).toEqual(Buffer.alloc(5)); // an empty ExportTraceServiceResponse, uncompressed
    expect(h.traces.received).toHaveLength(1);
  });

  it('a message split over many DATA chunks and one arriving in pieces of the prefix are reassembled', async () => {
    h = await startReceiver();
    const whole = framed(tracesCodec.encode(sampleTraces(50)));
    const pieces = [whole.subarray(0, 2), whole.subarray(2, 4), whole.subarray(4, 700), whole.subarray(700)];
    expect((await rawCall(connect(h.grpcAddress), { body: pieces })).grpcStatus).toBe(0);
    expect(tracesCodec.toJson(h.traces.received[0]!)).toBe(tracesCodec.toJson(sampleTraces(50)));
  });

  it('refuses a truncated frame, a second message and a missing message with INTERNAL, counted as malformed', async () => {
    h = await startReceiver();
    const session = connect(h.grpcAddress);
    const message = tracesCodec.encode(sampleTraces(2));
    const truncated = await rawCall(session, { body: [framed(message).subarray(0, 40)] });
    expect(truncated.grpcStatus).toBe(status.INTERNAL);
    expect(truncated.grpcMessage).toBe(`request ended inside a message: 40 bytes of ${message.length + 5} bytes`);
    const shortPrefix = await rawCall(session, { body: [Buffer.from([0, 0, 0])] });
    expect(shortPrefix.grpcMessage).toBe('request ended inside a message: 3 bytes of a 5-byte prefix');
    const two = await rawCall(session, { body: [framed(message), framed(message)] });
    expect(two.grpcStatus).toBe(status.INTERNAL);
    expect(two.grpcMessage).toBe('a unary call carried more than one message');
    const none = await rawCall(session);
    expect(none.grpcStatus).toBe(status.INTERNAL);
    expect(none.grpcMessage).toBe('a unary call carried no message');
    const badFlag = await rawCall(session, { body: [Buffer.concat([Buffer.from([7]), framed(message).subarray(1)])] });
    expect(badFlag.grpcMessage).toBe('invalid message flag 7 (0 or 1)');
    expect(await rejected('malformed')).toBe(5);
    expect(h.traces.calls).toBe(0);
    // The connection still serves.
    expect((await rawCall(session, { body: [framed(message)] })).grpcStatus).toBe(0);
  });

  it('answers HTTP 415 for a content-type that is not application/grpc*, 405 for a method other than POST', async () => {
    h = await startReceiver();
    const session = connect(h.grpcAddress);
    const body = [framed(tracesCodec.encode(sampleTraces(1)))];
    const json = await rawCall(session, { headers: { 'content-type': 'application/json' }, body });
    expect(json.status).toBe(415);
    expect(json.grpcStatus).toBeUndefined();
    const none = await rawCall(session, { headers: { 'content-type': undefined }, body });
    expect(none.status).toBe(415);
    const get = await rawCall(session, { headers: { ':method': 'GET' } });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    expect(await rejected('unsupported_media_type')).toBe(2);
    expect(await rejected('method_not_allowed')).toBe(1);
    // application/grpc+proto is application/grpc.
    expect((await rawCall(session, { headers: { 'content-type': 'application/grpc+proto' }, body })).grpcStatus).toBe(0);
  });

  it('answers UNIMPLEMENTED (trailers-only) for an unknown path, from grpc-js too, counted as not_found', async () => {
    h = await startReceiver();
    const reply = await rawCall(connect(h.grpcAddress), { path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', body: [framed(new Uint8Array())] });
    expect(reply.status).toBe(200);
    expect(reply.grpcStatus).toBe(status.UNIMPLEMENTED);
    expect(reply.grpcMessage).toBe('The server does not implement the method /opentelemetry.proto.collector.metrics.v1.MetricsService/Export');
    expect(reply.data.length).toBe(0);
    const viaGrpcJs = await grpcExport(h.grpcAddress, { ...traces, grpcPath: '/no.Such/Method' }, new Uint8Array());
    expect(viaGrpcJs.error?.code).toBe(status.UNIMPLEMENTED);
    expect(await rejected('not_found')).toBe(2);
  });

  it('inflates gzip and deflate messages; a message without the compressed flag is read as is', async () => {
    h = await startReceiver();
    const session = connect(h.grpcAddress);
    const message = Buffer.from(tracesCodec.encode(sampleTraces(3)));
    for (const [encoding, packed] of [['gzip', gzipSync(message)], ['deflate', deflateSync(message)]] as const) {
      expect((await rawCall(session, { headers: { 'grpc-encoding': encoding }, body: [framed(packed, true)] })).grpcStatus).toBe(0);
    }
    expect((await rawCall(session, { headers: { 'grpc-encoding': 'gzip' }, body: [framed(message)] })).grpcStatus).toBe(0);
    expect(h.traces.received).toHaveLength(3);
    for (const got of h.traces.received) expect(tracesCodec.toJson(got)).toBe(tracesCodec.toJson(sampleTraces(3)));
  });

  it('refuses an unknown encoding with UNIMPLEMENTED and grpc-accept-encoding, a compressed flag without encoding with INTERNAL, corrupt gzip with INVALID_ARGUMENT', async () => {
    h = await startReceiver();
    const session = connect(h.grpcAddress);
    const packed = gzipSync(Buffer.from(tracesCodec.encode(sampleTraces(1))));
    const br = await rawCall(session, { headers: { 'grpc-encoding': 'br' }, body: [framed(packed, true)] });
    expect(br.grpcStatus).toBe(status.UNIMPLEMENTED);
    expect(br.grpcMessage).toBe('Received message compressed with unsupported encoding "br"');
    expect(br.headers['grpc-accept-encoding']).toBe('identity,deflate,gzip');
    expect(await rejected('unsupported_encoding')).toBe(1);
    const noEncoding = await rawCall(session, { body: [framed(packed, true)] });
    expect(noEncoding.grpcStatus).toBe(status.INTERNAL);
    expect(noEncoding.grpcMessage).toBe('compressed flag set but grpc-encoding names no compression');
    const corrupt = await rawCall(session, { headers: { 'grpc-encoding': 'gzip' }, body: [framed(packed.subarray(0, packed.length - 8), true)] });
    expect(corrupt.grpcStatus).toBe(status.INVALID_ARGUMENT);
    expect(corrupt.grpcMessage).toMatch(/^invalid gzip message: /);
    expect(await rejected('malformed')).toBe(2);
  });

  it('stops inflating a gzip bomb at max_recv_msg_size_mib (RESOURCE_EXHAUSTED) and refuses a compressed message over it', async () => {
    h = await startReceiver((c) => (c.protocols.grpc!.maxRecvMsgSizeMib = 1));
    const session = connect(h.grpcAddress);
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const rssBefore = process.memoryUsage().rss;
    const reply = await rawCall(session, { headers: { 'grpc-encoding': 'gzip' }, body: [framed(bomb, true)] });
    expect(reply.grpcStatus).toBe(status.RESOURCE_EXHAUSTED);
    expect(reply.grpcMessage).toBe(`Received message that decompresses to a size larger than ${1024 * 1024}`);
    // Inflating all of it would have cost 64 MiB; the cap stops at 1 MiB.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(32 * 1024 * 1024);
    // The prefix announces more than the limit: refused before the body is read.
    const big = await rawCall(session, { headers: { 'grpc-encoding': 'gzip' }, body: [framed(Buffer.alloc(100), true, 2 * 1024 * 1024)], end: false });
    expect(big.grpcStatus).toBe(status.RESOURCE_EXHAUSTED);
    expect(big.grpcMessage).toBe(`Received message larger than max (${2 * 1024 * 1024} vs. ${1024 * 1024})`);
    expect(await rejected('too_large')).toBe(2);
    expect((await rawCall(session, { body: [framed(tracesCodec.encode(sampleTraces(1)))] })).grpcStatus).toBe(0);
  });

  it('accepts a message just under the default 4 MiB limit', async () => {
    h = await startReceiver();
    let spans = 30_000;
    let message = tracesCodec.encode(sampleTraces(spans));
    spans = Math.floor((spans * (4 * 1024 * 1024 - 1024)) / message.length);
    message = tracesCodec.encode(sampleTraces(spans));
    expect(message.length).toBeGreaterThan(3.9 * 1024 * 1024);
    expect(message.length).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect((await grpcExport(h.grpcAddress, traces, message)).error).toBeNull();
    expect(await h.metrics.value(h.metrics.receiverAccepted, { transport: 'grpc', signal: 'traces' })).toBe(spans);
  });

  it('answers DEADLINE_EXCEEDED when the pipeline answers after grpc-timeout, and drops a request whose body is late', async () => {
    h = await startReceiver();
    let release!: () => void;
    h.traces.gate = new Promise((r) => (release = r));
    const session = connect(h.grpcAddress);
    const body = [framed(tracesCodec.encode(sampleTraces(2)))];
    const t0 = Date.now();
    const slow = await rawCall(session, { headers: { 'grpc-timeout': '200m' }, body });
    expect(slow.grpcStatus).toBe(status.DEADLINE_EXCEEDED);
    expect(Date.now() - t0).toBeLessThan(2000);
    // The pipeline got it before the deadline: counted by the pipeline's answer, not as a rejection.
    expect(h.traces.calls).toBe(1);
    release();
    await h.traces.gate;
    const viaGrpcJs = await grpcExport(h.grpcAddress, traces, tracesCodec.encode(sampleTraces(1)));
    expect(viaGrpcJs.error).toBeNull();

    const late = await rawCall(session, { headers: { 'grpc-timeout': '100000u' }, body: [body[0]!.subarray(0, 10)], end: false });
    expect(late.grpcStatus).toBe(status.DEADLINE_EXCEEDED);
    expect(await rejected('deadline_exceeded')).toBe(1);
    expect(h.traces.calls).toBe(2);

    const invalid = await rawCall(session, { headers: { 'grpc-timeout': 'soon' }, body });
    expect(invalid.grpcStatus).toBe(status.INTERNAL);
    expect(invalid.grpcMessage).toBe('Invalid grpc-timeout value "soon"');
  });

  it('a client that cancels mid-body or while the pipeline works costs nothing but a count; the server keeps serving', async () => {
    h = await startReceiver();
    const session = connect(h.grpcAddress);
    const whole = framed(tracesCodec.encode(sampleTraces(5)));
    const midBody = await rawCall(session, { body: [whole.subarray(0, 30)], end: false, then: (req) => setTimeout(() => req.close(http2.constants.NGHTTP2_CANCEL), 50) });
    expect(midBody.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
    await waitFor(async () => (await rejected('cancelled')) === 1);
    expect(h.traces.calls).toBe(0);

    let release!: () => void;
    h.traces.gate = new Promise((r) => (release = r));
    await rawCall(session, { body: [whole], then: (req) => setTimeout(() => req.close(http2.constants.NGHTTP2_CANCEL), 50) });
    expect(h.traces.calls).toBe(1);
    release();
    await h.traces.gate;
    // Delivered before the cancel: the pipeline's answer counts it, not the cancel.
    await waitFor(async () => (await h!.metrics.value(h!.metrics.receiverAccepted, { transport: "grpc", signal: "traces" })) === 5);
    expect(await rejected('cancelled')).toBe(1);
    expect((await rawCall(session, { body: [whole] })).grpcStatus).toBe(0);
  });

  it('percent-encodes grpc-message and sends RetryInfo in unpadded base64', async () => {
    h = await startReceiver();
    h.traces.failWith = new PermanentError('bad\nrecord: 100% "é"');
    const { error } = await grpcExport(h.grpcAddress, traces, tracesCodec.encode(sampleTraces(1)));
    expect(error?.details).toBe('pipeline refused 1 spans: bad\nrecord: 100% "é"');
    const raw = await rawCall(connect(h.grpcAddress), { body: [framed(tracesCodec.encode(sampleTraces(1)))] });
    expect(raw.headers['grpc-message']).toBe('pipeline refused 1 spans: bad%0Arecord: 100%25 "%C3%A9"');

    h.traces.failWith = new RetryableError('full', 2500);
    const retry = await rawCall(connect(h.grpcAddress), { body: [framed(tracesCodec.encode(sampleTraces(1)))] });
    expect(retry.grpcStatus).toBe(status.UNAVAILABLE);
    const details = retry.headers['grpc-status-details-bin'] as string;
    expect(details).not.toMatch(/=$/);
    expect(decodeRpcStatus(Buffer.from(details, 'base64'))).toEqual({ code: 14, message: 'pipeline refused 1 spans: full', retryDelayMs: 2500 });
  });

  it('ties every request to one ClientInfo per connection: the client socket as the server sees it', async () => {
    h = await startReceiver();
    const body = [framed(tracesCodec.encode(sampleTraces(1)))];
    const one = connect(h.grpcAddress);
    await rawCall(one, { body });
    await rawCall(one, { body });
    const other = connect(h.grpcAddress);
    await rawCall(other, { body });
    const [a, b, c] = h.traces.received.map((d) => clientInfoOf(d.resourceSpans[0]!.resource));
    expect(a).toBeDefined();
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    const port = Number(h.grpcAddress.split(':')[1]);
    expect(a).toEqual({ transport: 'grpc', peer: { address: '127.0.0.1', port: one.socket.localPort }, localPort: port });
    expect(c!.peer!.port).toBe(other.socket.localPort);
  });

  it('shutdown sends GOAWAY, lets a running call finish, then closes; a second call on that connection is refused', async () => {
    h = await startReceiver();
    let release!: () => void;
    h.traces.gate = new Promise((r) => (release = r));
    const session = connect(h.grpcAddress);
    const body = [framed(tracesCodec.encode(sampleTraces(1)))];
    const running = rawCall(session, { body });
    await waitFor(async () => h!.traces.calls === 1);
    const goaway = new Promise<number>((resolve) => session.once('goaway', (code: number) => resolve(code)));
    const stopped = h.receiver.shutdown();
    expect(await goaway).toBe(http2.constants.NGHTTP2_NO_ERROR);
    release();
    expect((await running).grpcStatus).toBe(0);
    await stopped;
    expect(h.traces.received).toHaveLength(1);
    h = undefined;
  });

  it('survives an HTTP/1.1 request and garbage on the gRPC port', async () => {
    h = await startReceiver();
    const [host, port] = h.grpcAddress.split(':');
    for (const junk of ['POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n', '\x00\x01garbage'.repeat(100)]) {
      await new Promise<void>((resolve) => {
        const socket = net.connect(Number(port), host!, () => socket.end(junk));
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
        socket.resume();
      });
    }
    expect((await grpcExport(h.grpcAddress, traces, tracesCodec.encode(sampleTraces(1)))).error).toBeNull();
  });
});

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
