import { Client, connectivityState, credentials } from '@grpc/grpc-js';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tracesCodec, type SignalCodec } from '../../pipeline/otlp/codec.js';
import type { Signal } from '../../pipeline/otlp/types.js';
import { makeTestCerts, type TestCerts } from '../../test/support/certs.js';
import { grpcExport, post, sampleTraces, startReceiver, type Harness } from './testdata/harness.js';

const traces = tracesCodec as unknown as SignalCodec<Signal>;
const PROTO = { 'content-type': 'application/x-protobuf' };
// The server certificate names 127.0.0.1 and localhost; SNI must carry a name, not an IP.
const SNI = { 'grpc.ssl_target_name_override': 'localhost' };

let certs: TestCerts;
const file = (name: string) => certs.file(name);
const pem = (name: string) => certs.pem(name);

beforeAll(() => {
  certs = makeTestCerts();
});

afterAll(() => certs?.remove());

let h: Harness | undefined;
afterEach(async () => {
  await h?.receiver.shutdown();
  h = undefined;
});

function withTls(mtls: boolean) {
  const tls = { certFile: file('server.crt'), keyFile: file('server.key'), ...(mtls ? { clientCaFile: file('ca.crt') } : {}) };
  return startReceiver((c) => {
    c.protocols.grpc!.tls = tls;
    c.protocols.http!.tls = tls;
  });
}

describe('OTLP receiver over TLS', () => {
  it('serves HTTPS and gRPC over TLS', async () => {
    h = await withTls(false);
    expect(h.httpUrl).toMatch(/^https:/);
    const body = tracesCodec.encode(sampleTraces(2));
    expect((await post(`${h.httpUrl}/v1/traces`, body, { headers: PROTO, tls: { ca: pem('ca.crt') } })).status).toBe(200);
    const reply = await grpcExport(h.grpcAddress, traces, body, { credentials: credentials.createSsl(pem('ca.crt')), channelOptions: SNI });
    expect(reply.error).toBeNull();
    expect(h.traces.received).toHaveLength(2);
    // A plaintext client gets nowhere.
    await expect(post(`${h.httpUrl.replace('https:', 'http:')}/v1/traces`, body, { headers: PROTO })).rejects.toThrow();
    expect((await grpcExport(h.grpcAddress, traces, body)).error).not.toBeNull();
  });

  it('with client_ca_file, requires a client certificate signed by that CA (mTLS)', async () => {
    h = await withTls(true);
    const body = tracesCodec.encode(sampleTraces(1));
    const mtls = { ca: pem('ca.crt'), cert: pem('client.crt'), key: pem('client.key') };
    expect((await post(`${h.httpUrl}/v1/traces`, body, { headers: PROTO, tls: mtls })).status).toBe(200);
    const ok = await grpcExport(h.grpcAddress, traces, body, { credentials: credentials.createSsl(mtls.ca, mtls.key, mtls.cert), channelOptions: SNI });
    expect(ok.error).toBeNull();

    await expect(post(`${h.httpUrl}/v1/traces`, body, { headers: PROTO, tls: { ca: pem('ca.crt') } })).rejects.toThrow();
    const noCert = await grpcExport(h.grpcAddress, traces, body, { credentials: credentials.createSsl(pem('ca.crt')), channelOptions: SNI });
    expect(noCert.error).not.toBeNull();
    expect(h.traces.received).toHaveLength(2);
  });

  it('shutdown is not held up by a connection that never finishes its TLS handshake', async () => {
    h = await withTls(false);
    const [host, port] = h.grpcAddress.split(':');
    const idle = net.connect(Number(port), host!);
    idle.on('error', () => {});
    await new Promise((r) => idle.once('connect', r));
    const t0 = Date.now();
    await h.receiver.shutdown();
    expect(Date.now() - t0).toBeLessThan(3000); // far from the 5 s deadline it would otherwise wait
    idle.destroy();
    h = undefined;
  }, 15_000);

  it('cuts a TLS handshake that never finishes: gRPC handshake_timeout, HTTP request_timeout', async () => {
    h = await startReceiver((c) => {
      const tls = { certFile: file('server.crt'), keyFile: file('server.key') };
      Object.assign(c.protocols.grpc!, { tls });
      c.protocols.grpc!.keepalive.maxConnectionIdleMs = 300;
      Object.assign(c.protocols.http!, { tls, readHeaderTimeoutMs: 300 });
    });
    const silent = (address: string) =>
      new Promise<number>((resolve) => {
        const i = address.lastIndexOf(':');
        const started = performance.now();
        const socket = net.connect(Number(address.slice(i + 1)), address.slice(0, i));
        socket.on('error', () => {});
        socket.once('close', () => resolve(performance.now() - started));
        setTimeout(() => socket.destroy(), 5000).unref();
      });
    // A client that does finish its handshake is not mistaken for a silent one: its call succeeds and
    // it is later idled out (GOAWAY), not destroyed and counted.
    const client = new Client(h.grpcAddress, credentials.createSsl(pem('ca.crt')), SNI);
    expect((await grpcExport(h.grpcAddress, traces, tracesCodec.encode(sampleTraces(1)), { client })).error).toBeNull();
    const [grpcMs, httpMs] = await Promise.all([silent(h.grpcAddress), silent(h.httpUrl.slice('https://'.length))]);
    // The GOAWAY comes 300 ms after the call; on a loaded machine it may land after the silent ones were cut.
    const deadline = performance.now() + 3000;
    while (client.getChannel().getConnectivityState(false) === connectivityState.READY && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(client.getChannel().getConnectivityState(false)).not.toBe(connectivityState.READY);
    client.close();
    expect(grpcMs).toBeGreaterThanOrEqual(250);
    expect(grpcMs).toBeLessThan(4000);
    expect(httpMs).toBeGreaterThanOrEqual(250);
    expect(httpMs).toBeLessThan(4000);
    expect(await h.metrics.value(h.metrics.receiverRequestsRejected, { transport: 'grpc', reason: 'handshake_timeout' })).toBe(1);
    expect(await h.metrics.value(h.metrics.receiverRequestsRejected, { transport: 'http', reason: 'request_timeout' })).toBe(1);
  });
});
