import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../pipeline/telemetry/logger.js';
import type { Metrics } from '../../pipeline/telemetry/metrics.js';
import type { OtlpExporter } from './exporter.js';
import { parseRetryAfter } from './http-transport.js';
import { createTestExporter, makeLogs, makeTraces, receivedNames, TestPeer, waitFor } from './test-peer.js';
import { createHost } from '../../pipeline/host.js';

const FAST_RETRY = { initial_interval: '10ms', max_interval: '50ms', randomization_factor: 0, max_elapsed_time: '10s' };
const T = { component: 'otlp/test', signal: 'traces' };

let peer: TestPeer;
const cleanups: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  peer = new TestPeer('http');
  await peer.start(0);
  cleanups.push(() => peer.stop());
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function exporterFor(raw: Record<string, unknown> = {}): { exporter: OtlpExporter; metrics: Metrics } {
  const { exporter, metrics } = createTestExporter('http', {
    endpoint: `http://127.0.0.1:${peer.port}`,
    retry_on_failure: FAST_RETRY,
    shutdown_timeout: '2s',
    ...raw,
  });
  cleanups.push(() => exporter.shutdown());
  return { exporter, metrics };
}

describe('otlphttp exporter', () => {
  it.each(['proto', 'json'] as const)('posts %s to /v1/traces and /v1/logs with gzip and headers', async (encoding) => {
    const { exporter, metrics } = exporterFor({ encoding, headers: { authorization: 'Bearer x' } });
    await exporter.start(createHost());
    await exporter.traces.consume(makeTraces(2, 't'));
    await exporter.logs.consume(makeLogs(3, 'l'));
    await waitFor(() => peer.items === 5);
    expect(receivedNames(peer).sort()).toEqual(['l-0', 'l-1', 'l-2', 't-0', 't-1']);
    const r = peer.received[0]!;
    expect(r.contentType).toBe(encoding === 'json' ? 'application/json' : 'application/x-protobuf');
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.headers['authorization']).toBe('Bearer x');
    await waitFor(async () => (await metrics.value(metrics.exporterSent, T)) === 2);
  });

  it('uses traces_endpoint as given', async () => {
    const other = new TestPeer('http');
    await other.start(0);
    cleanups.push(() => other.stop());
    const { exporter } = exporterFor({ traces_endpoint: `http://127.0.0.1:${other.port}/custom/v1/traces`, compression: 'none' });
    await exporter.start(createHost());
    await exporter.traces.consume(makeTraces(1));
    await exporter.logs.consume(makeLogs(1));
    await waitFor(() => other.items === 1 && peer.items === 1);
    expect(other.received[0]!.headers['content-encoding']).toBeUndefined();
  });

  it('honours Retry-After in seconds on 503', async () => {
    peer.script.push({ httpStatus: 503, retryAfter: '1' });
    const { exporter, metrics } = exporterFor();
    await exporter.start(createHost());
    const t0 = Date.now();
    await exporter.traces.consume(makeTraces(2));
    await waitFor(() => peer.items === 2, 3_000);
    expect(peer.received[0]!.at - t0).toBeGreaterThanOrEqual(950);
    expect(await metrics.value(metrics.exporterRetries, T)).toBe(1);
  });

  it('honours Retry-After as an HTTP date on 429', async () => {
    // HTTP dates have one-second resolution: ask for 2 s so the wait is clearly above the back-off.
    peer.script.push({ httpStatus: 429, retryAfter: new Date(Date.now() + 2_000).toUTCString() });
    const { exporter } = exporterFor();
    await exporter.start(createHost());
    const t0 = Date.now();
    await exporter.traces.consume(makeTraces(1));
    await waitFor(() => peer.items === 1, 4_000);
    expect(peer.received[0]!.at - t0).toBeGreaterThanOrEqual(900);
  });

  it('retries 502 and 504 with back-off', async () => {
    peer.script.push({ httpStatus: 502 }, { httpStatus: 504 });
    const { exporter, metrics } = exporterFor();
    await exporter.start(createHost());
    await exporter.traces.consume(makeTraces(3));
    await waitFor(async () => (await metrics.value(metrics.exporterSent, T)) === 3);
    expect(await metrics.value(metrics.exporterRetries, T)).toBe(2);
  });

  it('drops on 400 as permanent_error', async () => {
    peer.fallback = { httpStatus: 400, body: JSON.stringify({ code: 3, message: 'invalid trace id' }) };
    const { exporter, metrics } = exporterFor();
    await exporter.start(createHost());
    await exporter.traces.consume(makeTraces(4));
    await waitFor(async () => (await metrics.value(metrics.exporterDropped, { ...T, reason: 'permanent_error' })) === 4);
    expect(await metrics.value(metrics.exporterRetries, T)).toBe(0);
  });

  it.each(['proto', 'json'] as const)('reads partial success (%s)', async (encoding) => {
    peer.script.push({ ok: true, partial: { rejected: 1, errorMessage: 'dup' } });
    const { exporter, metrics } = exporterFor({ encoding });
    await exporter.start(createHost());
    await exporter.logs.consume(makeLogs(4));
    const L = { component: 'otlp/test', signal: 'logs' };
    await waitFor(async () => (await metrics.value(metrics.exporterSent, L)) === 3);
    expect(await metrics.value(metrics.exporterDropped, { ...L, reason: 'rejected_by_backend' })).toBe(1);
  });

  it('retries connection refused until the peer is back', async () => {
    const port = peer.port;
    await peer.stop();
    const { exporter, metrics } = exporterFor({ endpoint: `http://127.0.0.1:${port}` });
    await exporter.start(createHost());
    await exporter.traces.consume(makeTraces(2));
    await waitFor(async () => (await metrics.value(metrics.exporterRetries, T)) >= 2);
    await peer.start(port);
    await waitFor(() => peer.items === 2);
  });
});

describe('otlphttp exporter logs', () => {
  function capturing(): { logger: ReturnType<typeof createLogger>; text: () => string } {
    let out = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    return { logger: createLogger('info', sink), text: () => out };
  }

  it('never show a credential: not the endpoint userinfo in a retry, not a header a backend echoes in a drop', async () => {
    const log = capturing();
    const port = peer.port;
    await peer.stop();
    const refused = createTestExporter('http', { endpoint: `http://agent:pw-secret-1@127.0.0.1:${port}`, retry_on_failure: FAST_RETRY, shutdown_timeout: '1s' }, undefined, 'otlp/test', log.logger);
    cleanups.push(() => refused.exporter.shutdown());
    await refused.exporter.start(createHost());
    await refused.exporter.traces.consume(makeTraces(1));
    await waitFor(async () => (await refused.metrics.value(refused.metrics.exporterRetries, T)) >= 1);
    await refused.exporter.shutdown();

    await peer.start(port);
    peer.fallback = { httpStatus: 400, body: 'bad request; you sent Authorization: Bearer sk-secret-2 and api_key=sk-secret-3' };
    const echoed = createTestExporter('http', { endpoint: `http://127.0.0.1:${port}`, retry_on_failure: FAST_RETRY, shutdown_timeout: '1s' }, undefined, 'otlp/test', log.logger);
    cleanups.push(() => echoed.exporter.shutdown());
    await echoed.exporter.start(createHost());
    await echoed.exporter.traces.consume(makeTraces(1));
    await waitFor(async () => (await echoed.metrics.value(echoed.metrics.exporterDropped, { ...T, reason: 'permanent_error' })) === 1);

    const text = log.text();
    expect(text).toContain('export failed; will retry');
    expect(text).toContain('agent:[REDACTED]@127.0.0.1');
    expect(text).toContain('dropped 1 spans');
    expect(text).not.toMatch(/pw-secret-1|sk-secret-2|sk-secret-3/);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
