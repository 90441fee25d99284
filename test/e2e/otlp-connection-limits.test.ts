// The embedded default (`run` with no --config) bounds the OTLP receiver's connections: at most
// 1000 per protocol, the rest closed and counted; a gRPC connection that never says hello and an
// HTTP request whose header never ends are cut after 10 s (not before), and counted.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Collector } from '../support/collector.js';

const DEFAULT_MAX_CONNECTIONS = 1000;
const DEFAULT_DEADLINE_MS = 10_000;

const sockets: net.Socket[] = [];
let collector: Collector | undefined;
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await collector?.stop();
  collector = undefined;
});

interface Watched {
  socket: net.Socket;
  /** When the collector closed it (performance.now()), 0 while open. */
  closedAt: number;
  received: string;
}

async function open(port: number): Promise<Watched> {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  const w: Watched = { socket, closedAt: 0, received: '' };
  socket.on('error', () => {});
  socket.on('data', (c: Buffer) => (w.received += c.toString('latin1')));
  socket.once('close', () => (w.closedAt = performance.now()));
  await new Promise((resolve) => socket.once('connect', resolve));
  return w;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const rejected = (transport: string, reason: string) =>
  collector!.metric('aibom_receiver_rejected_requests_total', { component: 'otlp', transport, reason });

describe('OTLP receiver connection limits in the embedded default', () => {
  it('caps connections at 1000 per protocol and cuts silent ones after 10 s', async () => {
    const started = await Collector.startDefault();
    collector = started.collector;
    const grpc: Watched[] = [];
    const firstAt = performance.now();
    for (let i = 0; i < DEFAULT_MAX_CONNECTIONS; i++) grpc.push(await open(started.grpcPort));
    const slowloris = await open(started.httpPort);
    slowloris.socket.write('POST /v1/traces HTTP/1.1\r\nhost: x\r\n');
    const lastAt = performance.now();
    // The 1001st gRPC connection is closed as it arrives; the HTTP port has its own cap.
    const over = await open(started.grpcPort);
    await sleep(500);
    expect(over.closedAt).toBeGreaterThan(0);
    expect(await rejected('grpc', 'too_many_connections')).toBe(1);
    expect(await rejected('http', 'too_many_connections')).toBe(0);
    // Not cut before the deadline ...
    await sleep(firstAt + DEFAULT_DEADLINE_MS - 1500 - performance.now());
    expect(grpc.filter((w) => w.closedAt > 0)).toHaveLength(0);
    expect(slowloris.closedAt).toBe(0);
    // ... and cut after it (HTTP's timeouts are checked once a second).
    await sleep(lastAt + DEFAULT_DEADLINE_MS + 2500 - performance.now());
    expect(grpc.filter((w) => w.closedAt === 0)).toHaveLength(0);
    expect(slowloris.closedAt).toBeGreaterThan(0);
    expect(slowloris.received).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(await rejected('grpc', 'handshake_timeout')).toBe(DEFAULT_MAX_CONNECTIONS);
    expect(await rejected('http', 'request_timeout')).toBe(1);
    // Room again once they are gone.
    const again = await open(started.grpcPort);
    await sleep(300);
    expect(again.closedAt).toBe(0);
    expect(await rejected('grpc', 'too_many_connections')).toBe(1);
  }, 60_000);
});
