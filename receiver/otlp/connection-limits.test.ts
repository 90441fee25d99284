// Connection bounds of both transports over real loopback sockets: max_connections, the gRPC
// keepalive.server_parameters and handshake deadline, the HTTP read/idle timeouts.
import { Client, connectivityState, credentials } from '@grpc/grpc-js';
import http2 from 'node:http2';
import net from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../pipeline/telemetry/logger.js';
import { tracesCodec, type SignalCodec } from '../../pipeline/otlp/codec.js';
import type { Signal } from '../../pipeline/otlp/types.js';
import { grpcExport, sampleTraces, startReceiver, type Harness } from './testdata/harness.js';

const traces = tracesCodec as unknown as SignalCodec<Signal>;
const TRACES = tracesCodec.encode(sampleTraces(2));

let h: Harness | undefined;
const cleanup: (() => void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) f();
  await h?.receiver.shutdown();
  h = undefined;
});

const rejected = (transport: 'grpc' | 'http', reason: string) => h!.metrics.value(h!.metrics.receiverRequestsRejected, { transport, reason });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when `p` settles or after `ms`, whichever is first: 'timeout' in the second case. */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  return Promise.race([p, sleep(ms).then(() => 'timeout' as const)]);
}

/** An HTTP/2 session that completed its handshake (the server's SETTINGS arrived). */
async function session(address: string): Promise<http2.ClientHttp2Session> {
  const s = http2.connect(`http://${address}`);
  s.on('error', () => {});
  cleanup.push(() => s.destroy());
  await new Promise<void>((resolve, reject) => {
    s.once('remoteSettings', () => resolve());
    s.once('close', () => reject(new Error('session closed before its handshake')));
  });
  return s;
}

/** A raw TCP connection, open once connected. */
async function tcp(address: string): Promise<net.Socket> {
  const i = address.lastIndexOf(':');
  const socket = net.connect(Number(address.slice(i + 1)), address.slice(0, i));
  socket.on('error', () => {});
  cleanup.push(() => socket.destroy());
  await new Promise((resolve) => socket.once('connect', resolve));
  return socket;
}

/** Everything the peer sends until it closes the connection. */
function untilClosed(socket: net.Socket): Promise<string> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks).toString('latin1'))));
}

/** One unary Export over an existing session; resolves with grpc-status (undefined: no answer). */
function exportOn(s: http2.ClientHttp2Session, message = TRACES): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = s.request({ ':method': 'POST', ':path': tracesCodec.grpcPath, 'content-type': 'application/grpc', te: 'trailers' });
    let status: string | undefined;
    req.on('response', (headers) => (status ??= headers['grpc-status'] as string | undefined));
    req.on('trailers', (trailers) => (status ??= trailers['grpc-status'] as string | undefined));
    req.on('error', () => {});
    req.resume();
    req.on('close', () => resolve(status === undefined ? undefined : Number(status)));
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(message.length, 1);
    req.end(Buffer.concat([prefix, message]));
  });
}

/** A POST on a kept-alive raw socket; resolves with the status line of the answer. */
function rawPost(socket: net.Socket, path = '/v1/traces', body = Buffer.from(TRACES)): Promise<string> {
  return new Promise((resolve) => {
    socket.once('data', (c: Buffer) => resolve(c.toString('latin1').split('\r\n')[0]!));
    socket.write(`POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\ncontent-length: ${body.length}\r\n\r\n`);
    socket.write(body);
  });
}

describe('OTLP receiver connection limits: gRPC', () => {
  it('refuses connections over max_connections at once, counts them, and keeps serving the open ones', async () => {
    h = await startReceiver((c) => (c.protocols.grpc!.maxConnections = 2));
    const [a, b] = [await session(h.grpcAddress), await session(h.grpcAddress)];
    const over = await tcp(h.grpcAddress);
    // Closed before the server says anything (no SETTINGS, no TLS): nothing was spent on it.
    expect(await within(untilClosed(over), 2000)).toBe('');
    expect(await rejected('grpc', 'too_many_connections')).toBe(1);
    expect([await exportOn(a), await exportOn(b)]).toEqual([0, 0]);
    expect(h.traces.received).toHaveLength(2);
    // A slot that frees up is usable again.
    a.destroy();
    await sleep(100);
    expect(await exportOn(await session(h.grpcAddress))).toBe(0);
    expect(await rejected('grpc', 'too_many_connections')).toBe(1);
  });

  it('logs a flood of refused connections once, the counter has every one', async () => {
    let log = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        log += chunk.toString();
        cb();
      },
    });
    h = await startReceiver((c) => (c.protocols.grpc!.maxConnections = 1), undefined, createLogger('info', sink));
    await session(h.grpcAddress);
    await Promise.all(Array.from({ length: 30 }, async () => untilClosed(await tcp(h!.grpcAddress))));
    expect(await rejected('grpc', 'too_many_connections')).toBe(30);
    const lines = log.split('\n').filter((l) => l.includes('OTLP connections refused'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, refused: { 'grpc/too_many_connections': 1 } });
  });

  it('sends GOAWAY to a session without calls after max_connection_idle, not before', async () => {
    h = await startReceiver((c) => (c.protocols.grpc!.keepalive.maxConnectionIdleMs = 400));
    const s = await session(h.grpcAddress);
    const opened = performance.now();
    expect(await exportOn(s)).toBe(0);
    const lastCall = performance.now();
    const goaway = new Promise<number>((resolve) => s.once('goaway', (code: number) => resolve(code)));
    const closed = new Promise<number>((resolve) => s.once('close', () => resolve(performance.now())));
    expect(await within(goaway, 3000)).toBe(http2.constants.NGHTTP2_NO_ERROR);
    const at = await closed;
    // Idle counts from the end of the last call, not from connecting.
    expect(at - lastCall).toBeGreaterThanOrEqual(390);
    expect(at - opened).toBeLessThan(2000);
    // An idle close is not a refusal.
    expect(await rejected('grpc', 'handshake_timeout')).toBe(0);
  });

  it('a grpc-js channel idled out by the receiver reconnects on its next call without an error', async () => {
    h = await startReceiver((c) => (c.protocols.grpc!.keepalive.maxConnectionIdleMs = 300));
    const client = new Client(h.grpcAddress, credentials.createInsecure());
    cleanup.push(() => client.close());
    expect((await grpcExport(h.grpcAddress, traces, TRACES, { client })).error).toBeNull();
    expect(client.getChannel().getConnectivityState(false)).toBe(connectivityState.READY);
    // The GOAWAY (300 ms after the call) moves the channel off READY: its connection is gone.
    const deadline = performance.now() + 3000;
    while (client.getChannel().getConnectivityState(false) === connectivityState.READY && performance.now() < deadline) await sleep(20);
    expect(client.getChannel().getConnectivityState(false)).not.toBe(connectivityState.READY);
    expect((await grpcExport(h.grpcAddress, traces, TRACES, { client })).error).toBeNull();
    expect(h.traces.received).toHaveLength(2);
  });

  it('does not cut a call that runs longer than max_connection_idle', async () => {
    h = await startReceiver((c) => (c.protocols.grpc!.keepalive.maxConnectionIdleMs = 200));
    let open!: () => void;
    h.traces.gate = new Promise((resolve) => (open = resolve));
    const s = await session(h.grpcAddress);
    let goawayAt = 0;
    s.once('goaway', () => (goawayAt = performance.now()));
    const call = exportOn(s);
    await sleep(800);
    expect(goawayAt).toBe(0);
    open();
    expect(await call).toBe(0);
    const answeredAt = performance.now();
    expect(h.traces.received).toHaveLength(1);
    // Idle from the end of that call on.
    await within(new Promise((resolve) => s.once('close', resolve)), 2000);
    expect(goawayAt - answeredAt).toBeGreaterThanOrEqual(150);
  });

  it('destroys a connection that never completes the HTTP/2 handshake, counted as handshake_timeout', async () => {
    h = await startReceiver((c) => (c.protocols.grpc!.keepalive.maxConnectionIdleMs = 300));
    const silent = await tcp(h.grpcAddress);
    const half = await tcp(h.grpcAddress);
    half.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'); // the preface's magic, never its SETTINGS
    const started = performance.now();
    const [a, b] = await Promise.all([within(untilClosed(silent), 3000), within(untilClosed(half), 3000)]);
    expect(a).not.toBe('timeout');
    expect(b).not.toBe('timeout');
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(await rejected('grpc', 'handshake_timeout')).toBe(2);
  });

  it('max_connection_age sends GOAWAY to a busy connection; its running call finishes within the grace', async () => {
    h = await startReceiver((c) => {
      c.protocols.grpc!.keepalive = { maxConnectionIdleMs: 0, maxConnectionAgeMs: 300, maxConnectionAgeGraceMs: 2000 };
    });
    let open!: () => void;
    h.traces.gate = new Promise((resolve) => (open = resolve));
    const s = await session(h.grpcAddress);
    const goaway = new Promise((resolve) => s.once('goaway', resolve));
    const call = exportOn(s);
    expect(await within(goaway, 2000)).not.toBe('timeout');
    open();
    expect(await call).toBe(0);
    expect(h.traces.received).toHaveLength(1);
  });

  it('max_connection_age_grace cuts a call that outlives it', async () => {
    h = await startReceiver((c) => {
      c.protocols.grpc!.keepalive = { maxConnectionIdleMs: 0, maxConnectionAgeMs: 200, maxConnectionAgeGraceMs: 200 };
    });
    h.traces.gate = new Promise(() => {});
    const s = await session(h.grpcAddress);
    expect(await within(exportOn(s), 3000)).toBeUndefined();
    expect(await rejected('grpc', 'cancelled')).toBe(0); // it reached the pipeline: the pipeline's answer counts it
  });
});

describe('OTLP receiver connection limits: HTTP', () => {
  it('refuses connections over max_connections at once, counts them, and keeps serving the open ones', async () => {
    h = await startReceiver((c) => (c.protocols.http!.maxConnections = 2));
    const [a, b] = [await tcp(h.httpUrl.slice(7)), await tcp(h.httpUrl.slice(7))];
    const over = await tcp(h.httpUrl.slice(7));
    expect(await within(untilClosed(over), 2000)).toBe('');
    expect(await rejected('http', 'too_many_connections')).toBe(1);
    expect([await rawPost(a), await rawPost(b)]).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    expect(h.traces.received).toHaveLength(2);
  });

  it('cuts a client that sends half a header (slowloris) after read_header_timeout with 408, counted', async () => {
    h = await startReceiver((c) => Object.assign(c.protocols.http!, { readHeaderTimeoutMs: 300, readTimeoutMs: 5000 }));
    const slow = await tcp(h.httpUrl.slice(7));
    const started = performance.now();
    slow.write('POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: appl');
    const drip = setInterval(() => slow.write('i'), 100); // bytes keep coming, the header never ends
    cleanup.push(() => clearInterval(drip));
    const got = await within(untilClosed(slow), 3000);
    expect(got).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(await rejected('http', 'request_timeout')).toBe(1);
  });

  it('cuts a body that trickles past read_timeout, counted once as request_timeout', async () => {
    h = await startReceiver((c) => Object.assign(c.protocols.http!, { readHeaderTimeoutMs: 200, readTimeoutMs: 500 }));
    const slow = await tcp(h.httpUrl.slice(7));
    slow.write(`POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\ncontent-length: ${TRACES.length}\r\n\r\n`);
    let sent = 0;
    const drip = setInterval(() => sent < TRACES.length - 1 && slow.write(TRACES.subarray(sent, ++sent)), 50);
    cleanup.push(() => clearInterval(drip));
    const got = await within(untilClosed(slow), 3000);
    expect(got).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    await sleep(50);
    expect(await rejected('http', 'request_timeout')).toBe(1);
    expect(await rejected('http', 'malformed')).toBe(0);
    expect(h.traces.received).toHaveLength(0);
  });

  it('does not cut a request waiting on the pipeline longer than read_timeout and idle_timeout', async () => {
    h = await startReceiver((c) => Object.assign(c.protocols.http!, { readHeaderTimeoutMs: 100, readTimeoutMs: 200, idleTimeoutMs: 200 }));
    let open!: () => void;
    h.traces.gate = new Promise((resolve) => (open = resolve));
    const socket = await tcp(h.httpUrl.slice(7));
    const answer = rawPost(socket);
    await sleep(800);
    open();
    expect(await answer).toBe('HTTP/1.1 200 OK');
    expect(await rejected('http', 'request_timeout')).toBe(0);
  });

  it('closes a keep-alive connection after idle_timeout without a request, not before', async () => {
    h = await startReceiver((c) => (c.protocols.http!.idleTimeoutMs = 400));
    const socket = await tcp(h.httpUrl.slice(7));
    expect(await rawPost(socket)).toBe('HTTP/1.1 200 OK');
    const answered = performance.now();
    expect(await within(untilClosed(socket), 3000)).not.toBe('timeout');
    // Node closes it 1 s after the advertised `keep-alive: timeout` (a fixed buffer in Node 20), so a
    // client reusing the connection just in time does not race the close.
    const idleFor = performance.now() - answered;
    expect(idleFor).toBeGreaterThanOrEqual(390);
    expect(idleFor).toBeLessThan(2400);
    expect(await rejected('http', 'request_timeout')).toBe(0);
  });

  it('answers 400 to bytes that are not HTTP and counts them as malformed', async () => {
    h = await startReceiver();
    const socket = await tcp(h.httpUrl.slice(7));
    socket.write('\x16\x03\x01 not http\r\n\r\n');
    expect(await within(untilClosed(socket), 3000)).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(await rejected('http', 'malformed')).toBe(1);
  });
});
