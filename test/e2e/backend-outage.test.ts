import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { runApp, type SentDescription } from '../support/apps.js';
import { Collector } from '../support/collector.js';
import { Jaeger } from '../support/jaeger.js';
import { freePort } from '../support/ports.js';
import { waitFor } from '../support/process.js';
import { jaegerBin } from '../support/tools.js';

const bin = jaegerBin();

/** A collector forwarding to `jaeger` with fast retries, so outages resolve within a test. */
function config(jaeger: Jaeger, grpcPort: number, queue: string): string {
  return `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${grpcPort} }
exporters:
  otlp/jaeger:
    endpoint: ${jaeger.otlpGrpcEndpoint}
    tls: { insecure: true }
    timeout: 2s
    shutdown_timeout: 1s
    sending_queue: { ${queue} }
    retry_on_failure: { initial_interval: 100ms, max_interval: 500ms, max_elapsed_time: 120s }
service:
  admin: { endpoint: \${ADMIN} }
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp/jaeger] }
`;
}

async function send(grpcPort: number, spans: number): Promise<SentDescription> {
  return runApp<SentDescription>('otel-sdk-app/send.mjs', ['--endpoint', `http://127.0.0.1:${grpcPort}`, '--spans', String(spans), '--per-trace', '100', '--no-logs']);
}

async function arrived(jaeger: Jaeger, traceIds: string[]): Promise<number> {
  let n = 0;
  for (const id of traceIds) n += (await jaeger.spans(id))?.length ?? 0;
  return n;
}

describe('backend outage and restarts, with a real Jaeger v2', () => {
  const running: { stop(): Promise<unknown> }[] = [];
  afterEach(async () => {
    for (const r of running.splice(0).reverse()) await r.stop();
  });

  test('Jaeger down while spans arrive: all of them reach it once it is back', async () => {
    const jaeger = await Jaeger.start(bin);
    running.push(jaeger);
    const port = await freePort();
    const collector = await Collector.start(config(jaeger, port, 'queue_size: 5000'));
    running.push(collector);
    await jaeger.stop();

    const sent = await send(port, 300);
    expect(sent.export.spans.failed).toBe(0);
    await waitFor('300 spans queued', async () => ((await collector.metric('aibom_exporter_queue_items')) === 300 ? true : undefined));
    expect(await collector.metric('aibom_exporter_retries_total')).toBeGreaterThan(0);

    await jaeger.resume();
    await waitFor('every span in Jaeger', async () => ((await arrived(jaeger, sent.traceIds)) === 300 ? true : undefined), 30_000);
    expect(await collector.metric('aibom_exporter_sent_items_total')).toBe(300);
    expect(await collector.metric('aibom_exporter_dropped_items_total')).toBe(0);
  });

  test('past the queue bound, the drops reported in /metrics equal what is missing', async () => {
    const jaeger = await Jaeger.start(bin);
    running.push(jaeger);
    const port = await freePort();
    const collector = await Collector.start(config(jaeger, port, 'queue_size: 300').replace('max_elapsed_time: 120s', 'max_elapsed_time: 2s'));
    running.push(collector);
    await jaeger.stop();

    const sent = await send(port, 1000);
    // The queue holds at most 300 items; the exporter gives up on them after 2 s of retries. The
    // SDK reports what the collector refused (queue full) and it could not deliver on its own retries.
    await waitFor('queued spans given up', async () => ((await collector.metric('aibom_exporter_queue_items')) === 0 ? true : undefined), 30_000);
    await jaeger.resume();
    const dropped = await collector.metric('aibom_exporter_dropped_items_total', { reason: 'retries_exhausted' });
    const refused = await collector.metric('aibom_receiver_refused_items_total');
    expect(dropped).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    const inJaeger = await arrived(jaeger, sent.traceIds);
    expect(inJaeger + dropped + sent.export.spans.failed).toBe(1000);
  });

  test('persistent queue: spans queued when the collector restarts are delivered after it', async () => {
    const jaeger = await Jaeger.start(bin);
    running.push(jaeger);
    const port = await freePort();
    const storage = mkdtempSync(join(tmpdir(), 'aibom-queue-'));
    let collector = await Collector.start(config(jaeger, port, `queue_size: 5000, storage: ${storage}`));
    running.push({ stop: () => collector.stop() });
    await jaeger.stop();

    const sent = await send(port, 400);
    expect(sent.export.spans.failed).toBe(0);
    await waitFor('400 spans queued', async () => ((await collector.metric('aibom_exporter_queue_items')) === 400 ? true : undefined));
    expect(await collector.stop()).toBe(0);

    await jaeger.resume();
    collector = await collector.restart();
    await waitFor('every span in Jaeger after the restart', async () => ((await arrived(jaeger, sent.traceIds)) === 400 ? true : undefined), 30_000);
    expect(await collector.metric('aibom_exporter_dropped_items_total')).toBe(0);
  });
});
