// The bounded queue between the receiver and the pipeline, with the collecting consumer of the tests.

import { describe, expect, test } from 'vitest';
import { PermanentError } from '../../pipeline/consumer.js';
import type { LogsData } from '../../pipeline/otlp/types.js';
import { EventQueue } from './event-queue.js';
import { EbpfMetrics } from './metrics.js';
import { collector, testSettings } from './testdata/receiver-harness.js';

/** A batch of `n` records whose bodies are `tag-0..n-1`. */
function batch(tag: string, n: number): LogsData {
  return { resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ logRecords: Array.from({ length: n }, (_, i) => ({ body: { stringValue: `${tag}-${i}` } })) }] }] };
}

function setup(maxRecords: number) {
  const settings = testSettings();
  const sink = collector();
  const metrics = new EbpfMetrics(settings.metrics);
  const q = new EventQueue({ consumer: sink, maxRecords, logger: settings.logger, metrics, component: 'ebpf' });
  const value = (name: string, labels: Record<string, string> = {}) => settings.metrics.value(settings.metrics.registry.getSingleMetric(name) as never, labels);
  return { q, sink, value, settings };
}

const bodies = (sink: ReturnType<typeof collector>) => sink.rows().map((r) => r.rec.body?.stringValue);

describe('EventQueue', () => {
  test('sends in order; counts what was sent', async () => {
    const { q, sink, value } = setup(100);
    q.push(batch('a', 2), 2);
    q.push(batch('b', 3), 3);
    await sink.waitFor((r) => r.rec.body?.stringValue === 'b-2');
    expect(bodies(sink)).toEqual(['a-0', 'a-1', 'b-0', 'b-1', 'b-2']);
    expect(await value('aibom_ebpf_log_records_sent_total')).toBe(5);
    expect(q.records).toBe(0);
  });

  test('while refused: beyond the bound the oldest batches go, never the one in flight; the rest is sent when the consumer is back', async () => {
    const { q, sink, value } = setup(10);
    sink.refuse = true;
    for (const tag of ['a', 'b', 'c', 'd', 'e']) q.push(batch(tag, 4), 4);
    expect(q.records).toBeLessThanOrEqual(10);
    // 'a' was in flight when the bound was hit: kept; b, c and d made room for e.
    expect(await value('aibom_ebpf_dropped_events_total', { reason: 'pipeline_full' })).toBe(12);
    sink.refuse = false;
    await sink.waitFor((r) => r.rec.body?.stringValue === 'e-3', 5000);
    expect(bodies(sink)).toEqual(['a-0', 'a-1', 'a-2', 'a-3', 'e-0', 'e-1', 'e-2', 'e-3']);
  });

  test('a permanent error drops and counts that batch only', async () => {
    const { q, sink, value } = setup(100);
    const consume = sink.consume.bind(sink);
    let calls = 0;
    sink.consume = async (d) => {
      if (++calls === 1) throw new PermanentError('bad');
      return consume(d);
    };
    q.push(batch('a', 2), 2);
    q.push(batch('b', 1), 1);
    await sink.waitFor((r) => r.rec.body?.stringValue === 'b-0');
    expect(bodies(sink)).toEqual(['b-0']);
    expect(await value('aibom_ebpf_dropped_events_total', { reason: 'permanent_error' })).toBe(2);
  });

  test('close: drains until the deadline, then drops the rest as shutdown', async () => {
    const { q, sink, value } = setup(100);
    sink.refuse = true;
    q.push(batch('a', 3), 3);
    q.push(batch('b', 2), 2);
    const t0 = Date.now();
    await q.close(Date.now() + 150);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await value('aibom_ebpf_dropped_events_total', { reason: 'shutdown' })).toBe(5);
    expect(q.records).toBe(0);
  });
});
