import { status } from '@grpc/grpc-js';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { tracesCodec, type SignalCodec } from '../../pipeline/otlp/codec.js';
import type { Signal } from '../../pipeline/otlp/types.js';
import { silentLogger } from '../../pipeline/telemetry/logger.js';
import { Metrics } from '../../pipeline/telemetry/metrics.js';
import { createDefaultConfig } from './config.js';
import { otlpReceiverFactory } from './factory.js';
import type { OtlpReceiver } from './otlp-receiver.js';
import { OtlpGrpcServer } from './grpc-server.js';
import { OtlpHttpServer } from './http-server.js';
import { Intake } from './intake.js';
import { RequestBudget } from './request-budget.js';
import { grpcExport, post, sampleTraces, startReceiver, type Harness } from './testdata/harness.js';
import { createHost } from '../../pipeline/host.js';

const PROTO = { 'content-type': 'application/x-protobuf' };
const traces = tracesCodec as unknown as SignalCodec<Signal>;
const host = createHost((err) => {
  throw err;
});

function create(edit: (c: ReturnType<typeof createDefaultConfig>) => void): OtlpReceiver {
  const config = createDefaultConfig();
  config.protocols.grpc!.endpoint = '127.0.0.1:0';
  config.protocols.http!.endpoint = '127.0.0.1:0';
  edit(config);
  const settings = { id: 'otlp/test', name: 'test', logger: silentLogger(), metrics: new Metrics() };
  return otlpReceiverFactory.create(settings, config, { traces: { consume: async () => {} } }) as OtlpReceiver;
}

function listenOn(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

function closeServer(s: net.Server): Promise<void> {
  return new Promise((resolve) => s.close(() => resolve()));
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.receiver.shutdown();
  h = undefined;
});

describe('OTLP receiver lifecycle', () => {
  it('exposes the factory contract', () => {
    expect(otlpReceiverFactory.type).toBe('otlp');
    expect(otlpReceiverFactory.kind).toBe('receiver');
    expect(otlpReceiverFactory.signals).toEqual(['traces', 'logs']);
  });

  it('allocates only in the constructor; shutdown works without start and is idempotent', async () => {
    const r = create(() => {});
    expect(r.addresses).toEqual({ grpc: '', http: '' });
    await r.shutdown();
    await r.shutdown();
    await r.start(host); // after shutdown: stays stopped, binds nothing
    expect(r.addresses).toEqual({ grpc: '', http: '' });
  });

  it('shutdown during start leaves no listener behind', async () => {
    const r = create(() => {});
    const starting = r.start(host);
    await r.shutdown();
    await starting;
    const { grpc, http } = r.addresses;
    expect(grpc).not.toBe('');
    expect(http).toBe(''); // start stopped before binding HTTP
    for (const address of [grpc]) {
      await closeServer(await listenOn(Number(address.split(':')[1])));
    }
  });

  it('when the second listener cannot bind, closes the first and names the address', async () => {
    const blocker = await listenOn(0);
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = create((c) => (c.protocols.http!.endpoint = `127.0.0.1:${port}`));
      await expect(r.start(host)).rejects.toThrow(`receiver otlp/test: OTLP/HTTP cannot listen on 127.0.0.1:${port}`);
      const grpcPort = Number(r.addresses.grpc.split(':')[1]);
      expect(grpcPort).toBeGreaterThan(0);
      // The gRPC port bound first is free again.
      await closeServer(await listenOn(grpcPort));
      await r.shutdown();
    } finally {
      await closeServer(blocker);
    }
  });

  it('fails to start with a clear error when a TLS file is missing', async () => {
    const r = create((c) => (c.protocols.grpc!.tls = { certFile: '/nonexistent/cert.pem', keyFile: '/nonexistent/key.pem' }));
    await expect(r.start(host)).rejects.toThrow('receiver otlp/test: protocols.grpc.tls.cert_file: cannot read /nonexistent/cert.pem');
  });

  it('runs with only one protocol enabled', async () => {
    h = await startReceiver((c) => delete c.protocols.grpc);
    expect(h.receiver.addresses.grpc).toBe('');
    expect((await post(`${h.httpUrl}/v1/traces`, tracesCodec.encode(sampleTraces(1)), { headers: PROTO })).status).toBe(200);
  });

  it('shutdown waits for requests in flight, then refuses new ones', async () => {
    h = await startReceiver();
    let release!: () => void;
    h.traces.gate = new Promise((r) => (release = r));
    const body = tracesCodec.encode(sampleTraces(2));
    const httpReply = post(`${h.httpUrl}/v1/traces`, body, { headers: PROTO });
    const grpcReply = grpcExport(h.grpcAddress, traces, body);
    await waitFor(() => h!.traces.calls === 2);

    let stopped = false;
    const shutdown = h.receiver.shutdown().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(stopped).toBe(false);
    // Listeners are closed: a new connection is refused.
    await expect(post(`${h.httpUrl}/v1/traces`, body, { headers: PROTO })).rejects.toThrow(/ECONNREFUSED/);

    release();
    expect((await httpReply).status).toBe(200);
    expect((await grpcReply).error).toBeNull();
    await shutdown;
    expect(h.traces.received).toHaveLength(2);
    const after = await grpcExport(h.grpcAddress, traces, body);
    expect(after.error?.code).toBe(status.UNAVAILABLE);
  });
});

describe('OTLP receiver shutdown deadline', () => {
  it('cuts off requests the pipeline never answers once the deadline passes', async () => {
    const stuck = { consume: () => new Promise<void>(() => {}) };
    const intake = new Intake('otlp', { traces: stuck }, new Metrics(), silentLogger(), '');
    const config = createDefaultConfig();
    const budget = new RequestBudget(config.maxInFlightBytes);
    const httpServer = new OtlpHttpServer({ ...config.protocols.http!, endpoint: '127.0.0.1:0' }, intake, silentLogger(), budget);
    const grpcServer = new OtlpGrpcServer({ ...config.protocols.grpc!, endpoint: '127.0.0.1:0' }, intake, silentLogger(), budget);
    await httpServer.start();
    await grpcServer.start();
    const body = tracesCodec.encode(sampleTraces(1));
    // Settled into a value at once, so the expected failure is never an unhandled rejection.
    const httpReply = post(`http://${httpServer.address}/v1/traces`, body, { headers: PROTO }).then(
      (r) => `answered ${r.status}`,
      (err: Error) => err.message,
    );
    const grpcReply = grpcExport(grpcServer.address, traces, body);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await Promise.all([httpServer.shutdown(300), grpcServer.shutdown(300)]);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(3000);
    expect(await httpReply).toMatch(/socket hang up|ECONNRESET/);
    expect([status.CANCELLED, status.UNAVAILABLE]).toContain((await grpcReply).error?.code);
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
