import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../pipeline/consumer.js';
import type { Metrics } from '../../pipeline/telemetry/metrics.js';
import type { OtlpExporter } from './exporter.js';
import { storageDir } from './exporter.js';
import { createTestExporter, makeLogs, makeTraces, receivedNames, TestPeer, waitFor } from './test-peer.js';
import { createHost } from '../../pipeline/host.js';
import type { GrpcKeepalive } from '../../receiver/otlp/config.js';
import { startReceiver, type Harness } from '../../receiver/otlp/testdata/harness.js';
import { makeTestCerts, type TestCerts } from '../../test/support/certs.js';

const FAST_RETRY = { initial_interval: '10ms', max_interval: '50ms', randomization_factor: 0, max_elapsed_time: '10s' };
const T = { component: 'otlp/test', signal: 'traces' };

let peer: TestPeer;
const cleanups: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  peer = new TestPeer('grpc');
  await peer.start(0);
  cleanups.push(() => peer.stop());
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function exporterFor(raw: Record<string, unknown> = {}): { exporter: OtlpExporter; metrics: Metrics } {
  const { exporter, metrics } = createTestExporter('grpc', {
    endpoint: `127.0.0.1:${peer.port}`,
    tls: { insecure: true },
    retry_on_failure: FAST_RETRY,
    shutdown_timeout: '2s',
    ...raw,
  });
  cleanups.push(() => exporter.shutdown());
  return { exporter, metrics };
}

describe('otlp exporter (gRPC)', () => {
  it('sends traces and logs with headers and gzip, and counts sent items exactly', async () => {
    const { exporter, metrics } = exporterFor({ headers: { 'x-tenant': 'acme' }, compression: 'gzip' });
    await exporter.start(createHost());
    await exporter.traces.consume(makeTraces(3, 't'));
    await exporter.logs.consume(makeLogs(2, 'l'));
    await waitFor(() => peer.items === 5);
    expect(receivedNames(peer).sort()).toEqual(['l-0', 'l-1', 't-0', 't-1', 't-2']);
    expect(peer.received[0]!.headers['x-tenant']).toBe('acme');
    // The peer has the data before the exporter has read its answers: wait for both counters.
    await waitFor(async () => (await metrics.value(metrics.exporterSent, T)) === 3);
    await waitFor(async () => (await metrics.value(metrics.exporterSent, { component: 'otlp/test', signal: 'logs' })) === 2);
    expect(await metrics.value(metrics.exporterQueueCapacity, T)).toBe(100_000);
    await waitFor(async () => (await metrics.value(metrics.exporterQueueSize, T)) === 0);
  });

  it('large batches one after another, several in flight and some retried: every span arrives intact (encoded payloads are reused)', async () => {
    // Batches over the payload pool's threshold; every third request is refused once, so a payload
    // is sent again after others were encoded, and ten workers send at once.
    for (let i = 0; i < 12; i++) peer.script.push(i % 3 === 0 ? { grpcCode: grpc.status.UNAVAILABLE } : { ok: true, delayMs: 20 });
    const { exporter, metrics } = exporterFor({ sending_queue: { num_consumers: 10 } });
    await exporter.start(createHost());
    const batches = Array.from({ length: 12 }, (_, b) => makeTraces(1500 + 97 * b, `b${b}`));
    for (const batch of batches) await exporter.traces.consume(batch);
    const total = batches.reduce((n, b) => n + b.resourceSpans[0]!.scopeSpans[0]!.spans.length, 0);
    await waitFor(async () => (await metrics.value(metrics.exporterSent, T)) === total, 10_000);
    const want = batches.flatMap((b) => b.resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => s.name));
    expect(receivedNames(peer).sort()).toEqual(want.sort());
    expect(peer.items).toBe(total);
  });

  it('honours RetryInfo on UNAVAILABLE and counts retries', async () => {
    peer.script.push({ grpcCode: grpc.status.UNAVAILABLE, retryDelayMs: 300 }, { grpcCode: grpc.status.UNAVAILABLE, retryDelayMs: 300 });
    const { exporter, metrics } = exporterFor();
    await exporter.start(createHost());
    const t0 = Date.now();
    await exporter.traces.consume(makeTraces(4));
    await waitFor(() => peer.items === 4);
    const took = peer.received[0]!.at - t0;
    expect(took).toBeGreaterThanOrEqual(580);
    expect(took).toBeLessThan(2_000);
    expect(await metrics.value(metrics.exporterRetries, T)).toBe(2);
    await waitFor(async () => (await metrics.value(metrics.exporterSent, T)) === 4);
  });

  it('retries RESOURCE_EXHAUSTED only when the server sent RetryInfo', async () => {
    peer.script.push({ grpcCode: grpc.status.RESOURCE_EXHAUSTED, retryDelayMs: 50 }, { grpcCode: grpc.status.RESOURCE_EXHAUSTED });
    const { exporter, metrics } = exporterFor();
    await exporter.start(createHost());
    await exporter.traces.consume(makeTraces(2));
    await waitFor(async () => (await metrics.value(metrics.exporterDropped, { ...T, reason: 'permanent_error' })) === 2);
    expect(await metrics.value(metrics.exporterRetries, T)).toBe(1);
    expect(peer.items).toBe(0);
  });

  it('drops permanent errors at once', async () => {
    peer.fallback = { grpcCode: grpc.status.INVALID_ARGUMENT, message: 'bad span' };
    const { exporter, metrics } = exporterFor();
    await exporter.start(createHost());
    await exporter.traces.consume(makeTraces(7));
    await waitFor(async () => (await metrics.value(metrics.exporterDropped, { ...T, reason: 'permanent_error' })) === 7);
    expect(await metrics.value(metrics.exporterRetries, T)).toBe(0);
  });

  it('counts partially rejected items as rejected_by_backend', async () => {
    peer.script.push({ ok: true, partial: { rejected: 3, errorMessage: 'too old' } });
    const { exporter, metrics } = exporterFor();
    await exporter.start(createHost());
    await exporter.traces.consume(makeTraces(10));
    await waitFor(async () => (await metrics.value(metrics.exporterSent, T)) === 7);
    expect(await metrics.value(metrics.exporterDropped, { ...T, reason: 'rejected_by_backend' })).toBe(3);
  });

  it('gives up after max_elapsed_time and counts retries_exhausted', async () => {
    peer.fallback = { grpcCode: grpc.status.UNAVAILABLE };
    const { exporter, metrics } = exporterFor({ retry_on_failure: { ...FAST_RETRY, max_elapsed_time: '200ms' } });
    await exporter.start(createHost());
    await exporter.traces.consume(makeTraces(5));
    await waitFor(async () => (await metrics.value(metrics.exporterDropped, { ...T, reason: 'retries_exhausted' })) === 5, 3_000);
    expect(await metrics.value(metrics.exporterRetries, T)).toBeGreaterThanOrEqual(3);
  });

  it('retries an attempt that exceeds timeout (DEADLINE_EXCEEDED)', async () => {
    peer.script.push({ ok: true, delayMs: 400 });
    const { exporter, metrics } = exporterFor({ timeout: '100ms' });
    await exporter.start(createHost());
    await exporter.traces.consume(makeTraces(1, 'slow'));
    // The first (slow) answer is recorded by the peer too; what matters is the exporter retried and succeeded.
    await waitFor(async () => (await metrics.value(metrics.exporterSent, T)) === 1, 3_000);
    expect(await metrics.value(metrics.exporterRetries, T)).toBe(1);
  });

  it('rejects with RetryableError when the queue is full (backpressure) and counts it', async () => {
    peer.fallback = { ok: true, delayMs: 300 };
    const { exporter, metrics } = exporterFor({ sending_queue: { num_consumers: 1, queue_size: 10 } });
    await exporter.start(createHost());
    await exporter.traces.consume(makeTraces(5));
    await exporter.traces.consume(makeTraces(5));
    await expect(exporter.traces.consume(makeTraces(1))).rejects.toBeInstanceOf(RetryableError);
    expect(await metrics.value(metrics.exporterQueueSize, T)).toBe(10);
    const counted = await metrics.registry.getSingleMetricAsString('aibom_exporter_enqueue_failed_items_total');
    expect(counted).toContain('component="otlp/test",signal="traces"} 1');
    await waitFor(async () => (await metrics.value(metrics.exporterSent, T)) === 10, 3_000);
    await exporter.traces.consume(makeTraces(1));
  });

  it('accepts a request larger than queue_size only into an empty queue', async () => {
    const { exporter } = exporterFor({ sending_queue: { queue_size: 5 } });
    await exporter.start(createHost());
    await exporter.traces.consume(makeTraces(8));
    await waitFor(() => peer.items === 8);
  });

  it('without a queue, the caller waits and gets the error', async () => {
    peer.fallback = { grpcCode: grpc.status.PERMISSION_DENIED };
    const { exporter, metrics } = exporterFor({ sending_queue: { enabled: false } });
    await exporter.start(createHost());
    await expect(exporter.traces.consume(makeTraces(2))).rejects.toBeInstanceOf(PermanentError);
    peer.fallback = { ok: true };
    await exporter.traces.consume(makeTraces(2));
    expect(peer.items).toBe(2);
    expect(await metrics.value(metrics.exporterSent, T)).toBe(2);
    expect(await metrics.value(metrics.exporterDropped, T)).toBe(0);
  });

  it('shutdown drains within the deadline, then counts what is left as dropped{shutdown}', async () => {
    await peer.stop();
    const { exporter, metrics } = exporterFor({ shutdown_timeout: '300ms' });
    await exporter.start(createHost());
    await exporter.traces.consume(makeTraces(4));
    await exporter.traces.consume(makeTraces(6));
    const t0 = Date.now();
    await exporter.shutdown();
    expect(Date.now() - t0).toBeLessThan(1_500);
    expect(await metrics.value(metrics.exporterDropped, { ...T, reason: 'shutdown' })).toBe(10);
    expect(await metrics.value(metrics.exporterQueueSize, T)).toBe(0);
    await exporter.shutdown();
    await expect(exporter.traces.consume(makeTraces(1))).rejects.toBeInstanceOf(RetryableError);
  });

  it('shutdown works without start and is idempotent', async () => {
    const { exporter } = exporterFor();
    await Promise.all([exporter.shutdown(), exporter.shutdown()]);
    await expect(exporter.traces.consume(makeTraces(1))).rejects.toBeInstanceOf(RetryableError);
  });

  it('a persistent queue survives a restart: everything arrives exactly once', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'aibom-queue-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const port = peer.port;
    await peer.stop();
    const raw = { endpoint: `127.0.0.1:${port}`, sending_queue: { storage: dir, num_consumers: 2 }, shutdown_timeout: '200ms' };

    const first = exporterFor(raw);
    await first.exporter.start(createHost());
    for (let i = 0; i < 5; i++) await first.exporter.traces.consume(makeTraces(3, `r${i}`));
    await first.exporter.logs.consume(makeLogs(2, 'kept'));
    expect((await readdir(storageDir(dir, 'otlp/test', 'traces'))).length).toBe(5);
    await first.exporter.shutdown();
    expect(await first.metrics.value(first.metrics.exporterDropped, {})).toBe(0);
    expect((await readdir(storageDir(dir, 'otlp/test', 'traces'))).length).toBe(5);

    await peer.start(port);
    const second = exporterFor(raw);
    await second.exporter.start(createHost());
    await waitFor(() => peer.items === 17, 8_000, 'all 17 items');
    await second.exporter.shutdown();
    const names = receivedNames(peer);
    expect(names.length).toBe(17);
    expect(new Set(names).size).toBe(17);
    expect(await second.metrics.value(second.metrics.exporterSent, T)).toBe(15);
    expect((await readdir(storageDir(dir, 'otlp/test', 'traces'))).length).toBe(0);
    expect((await readdir(storageDir(dir, 'otlp/test', 'logs'))).length).toBe(0);
  });
});

describe('otlp exporter (gRPC) connections: TLS, mTLS, reconnects', () => {
  let certs: TestCerts;
  let receiver: Harness | undefined;
  beforeAll(() => {
    certs = makeTestCerts();
  });
  afterAll(() => certs?.remove());
  afterEach(async () => {
    await receiver?.receiver.shutdown();
    receiver = undefined;
  });

  /** Our own OTLP receiver over TLS (mTLS with `mtls`) as the peer: a real gRPC server with real certificates. */
  async function tlsReceiver(mtls: boolean): Promise<Harness> {
    receiver = await startReceiver((c) => {
      c.protocols.grpc!.tls = { certFile: certs.file('server.crt'), keyFile: certs.file('server.key'), ...(mtls ? { clientCaFile: certs.file('ca.crt') } : {}) };
      delete c.protocols.http;
    });
    return receiver;
  }

  it('verifies the server with ca_file; https:// means TLS; insecure_skip_verify trusts any certificate', async () => {
    const r = await tlsReceiver(false);
    const withCa = exporterFor({ endpoint: `https://${r.grpcAddress}`, tls: { ca_file: certs.file('ca.crt') } });
    await withCa.exporter.start(createHost());
    await withCa.exporter.traces.consume(makeTraces(2, 'ca'));
    await waitFor(async () => (await withCa.metrics.value(withCa.metrics.exporterSent, T)) === 2);
    const skip = exporterFor({ endpoint: r.grpcAddress, tls: { insecure_skip_verify: true } });
    await skip.exporter.start(createHost());
    await skip.exporter.traces.consume(makeTraces(3, 'skip'));
    await waitFor(async () => (await skip.metrics.value(skip.metrics.exporterSent, T)) === 3);
    expect(r.traces.received.flatMap((d) => d.resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => s.name)).sort()).toEqual(['ca-0', 'ca-1', 'skip-0', 'skip-1', 'skip-2']);
    // Not trusted (no CA): retried, never sent.
    const untrusted = exporterFor({ endpoint: r.grpcAddress, tls: {} });
    await untrusted.exporter.start(createHost());
    await untrusted.exporter.traces.consume(makeTraces(1));
    await waitFor(async () => (await untrusted.metrics.value(untrusted.metrics.exporterRetries, T)) >= 2);
    expect(await untrusted.metrics.value(untrusted.metrics.exporterSent, T)).toBe(0);
  });

  it('presents cert_file/key_file to a server that requires client certificates (mTLS)', async () => {
    const r = await tlsReceiver(true);
    const tls = { ca_file: certs.file('ca.crt'), cert_file: certs.file('client.crt'), key_file: certs.file('client.key') };
    const { exporter, metrics } = exporterFor({ endpoint: r.grpcAddress, tls });
    await exporter.start(createHost());
    await exporter.logs.consume(makeLogs(2, 'm'));
    await waitFor(async () => (await metrics.value(metrics.exporterSent, { component: 'otlp/test', signal: 'logs' })) === 2);
    const noCert = exporterFor({ endpoint: r.grpcAddress, tls: { ca_file: certs.file('ca.crt') } });
    await noCert.exporter.start(createHost());
    await noCert.exporter.logs.consume(makeLogs(1));
    await waitFor(async () => (await noCert.metrics.value(noCert.metrics.exporterRetries, { component: 'otlp/test', signal: 'logs' })) >= 2);
    expect(r.logs.received).toHaveLength(1);
  });

  it('reconnects to a peer that went away and came back on the same port (back-off at most 5 s)', async () => {
    const { exporter, metrics } = exporterFor({ retry_on_failure: { ...FAST_RETRY, max_elapsed_time: '20s' } });
    await exporter.start(createHost());
    await exporter.traces.consume(makeTraces(1, 'before'));
    await waitFor(async () => (await metrics.value(metrics.exporterSent, T)) === 1);
    const port = peer.port;
    await peer.stop();
    await exporter.traces.consume(makeTraces(2, 'while-down'));
    await waitFor(async () => (await metrics.value(metrics.exporterRetries, T)) >= 3);
    await new Promise((r) => setTimeout(r, 1500)); // let the connection back-off grow past its first step
    await peer.start(port);
    const t0 = Date.now();
    await waitFor(async () => (await metrics.value(metrics.exporterSent, T)) === 3, 8_000, 'the batch sent while the peer was down');
    expect(Date.now() - t0).toBeLessThan(6_000);
    expect(receivedNames(peer).sort()).toEqual(['before-0', 'while-down-0', 'while-down-1']);
  });
});

// Jaeger v2 and the OpenTelemetry Collector close connections with GOAWAY (keepalive
// max_connection_idle / max_connection_age); our own receiver plays that peer here.
describe('otlp exporter (gRPC) against a peer that sends GOAWAY', () => {
  async function goawayPeer(keepalive: Partial<GrpcKeepalive>): Promise<Harness> {
    const r = await startReceiver((c) => {
      Object.assign(c.protocols.grpc!.keepalive, keepalive);
      delete c.protocols.http;
    });
    cleanups.push(() => r.receiver.shutdown());
    return r;
  }
  const spanNames = (r: Harness) => r.traces.received.flatMap((d) => d.resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => s.name));

  it('reconnects on the next export after the peer idled the connection out: no retry, nothing lost', async () => {
    const r = await goawayPeer({ maxConnectionIdleMs: 200 });
    const { exporter, metrics } = exporterFor({ endpoint: r.grpcAddress });
    await exporter.start(createHost());
    for (const round of ['first', 'second', 'third']) {
      await exporter.traces.consume(makeTraces(2, round));
      await waitFor(async () => spanNames(r).length === (round === 'first' ? 2 : round === 'second' ? 4 : 6));
      await new Promise((resolve) => setTimeout(resolve, 500)); // the peer's GOAWAY comes at 200 ms
    }
    expect(spanNames(r).sort()).toEqual(['first-0', 'first-1', 'second-0', 'second-1', 'third-0', 'third-1']);
    expect(await metrics.value(metrics.exporterRetries, T)).toBe(0);
    expect(await metrics.value(metrics.exporterDropped, T)).toBe(0);
  });

  it('exports flowing across max_connection_age GOAWAYs all arrive exactly once, none dropped', async () => {
    const r = await goawayPeer({ maxConnectionIdleMs: 0, maxConnectionAgeMs: 100 });
    const { exporter, metrics } = exporterFor({ endpoint: r.grpcAddress });
    await exporter.start(createHost());
    const sent: string[] = [];
    for (let i = 0; i < 40; i++) {
      await exporter.traces.consume(makeTraces(1, `b${i}`));
      sent.push(`b${i}-0`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await waitFor(async () => (await metrics.value(metrics.exporterSent, T)) === 40, 10_000, 'every batch');
    expect(spanNames(r).sort()).toEqual(sent.sort());
    expect(await metrics.value(metrics.exporterDropped, T)).toBe(0);
    expect(await metrics.value(metrics.exporterRetries, T)).toBe(0);
  });
});
