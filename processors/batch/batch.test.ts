import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigErrors, Section } from '../../pipeline/config/section.js';
import type { Consumers } from '../../pipeline/consumer.js';
import { PermanentError, RetryableError } from '../../pipeline/consumer.js';
import { isKernelRecord, markKernelRecord } from '../../pipeline/kernel-event/index.js';
import type { LogsData, TracesData } from '../../pipeline/otlp/types.js';
import { silentLogger } from '../../pipeline/telemetry/logger.js';
import { Metrics } from '../../pipeline/telemetry/metrics.js';
import { makeLogs, makeTraces, waitFor } from '../../exporters/otlp/test-peer.js';
import { createDefaultConfig, readConfig } from './config.js';
import { batchProcessorFactory } from './factory.js';
import type { BatchProcessor } from './processor.js';

/** A next hop that records batches, and can be made slow (gate) or failing. */
class Sink {
  traces: TracesData[] = [];
  logs: LogsData[] = [];
  fail: Error | undefined;
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  hold(): void {
    this.gate = new Promise((r) => (this.open = r));
  }
  release(): void {
    this.open?.();
    this.gate = undefined;
  }
  readonly consumers: Consumers = {
    traces: { consume: async (d) => this.take(() => this.traces.push(d)) },
    logs: { consume: async (d) => this.take(() => this.logs.push(d)) },
  };
  private async take(record: () => void): Promise<void> {
    if (this.gate) await this.gate;
    if (this.fail) throw this.fail;
    record();
  }
}

const spanCount = (d: TracesData) => d.resourceSpans.reduce((n, r) => n + r.scopeSpans.reduce((m, s) => m + s.spans.length, 0), 0);

function setup(raw: Record<string, unknown>): { p: BatchProcessor; sink: Sink; metrics: Metrics } {
  const errors = new ConfigErrors();
  const section = new Section(raw, 'processors.batch', errors);
  const config = readConfig(section);
  section.done();
  expect(errors.list).toEqual([]);
  const sink = new Sink();
  const metrics = new Metrics();
  const p = batchProcessorFactory.create({ id: 'batch', name: '', logger: silentLogger(), metrics }, config, sink.consumers) as BatchProcessor;
  return { p, sink, metrics };
}

describe('batch processor', () => {
  it('sends when send_batch_size is reached, merging requests into one resource and scope', async () => {
    const { p, sink } = setup({ send_batch_size: 10, timeout: '10s' });
    await p.traces.consume(makeTraces(4));
    await p.traces.consume(makeTraces(4));
    expect(sink.traces).toHaveLength(0);
    await p.traces.consume(makeTraces(4));
    expect(sink.traces).toHaveLength(1);
    expect(spanCount(sink.traces[0]!)).toBe(12);
    expect(sink.traces[0]!.resourceSpans).toHaveLength(1);
    expect(sink.traces[0]!.resourceSpans[0]!.scopeSpans).toHaveLength(1);
    await p.shutdown();
  });

  it('splits batches larger than send_batch_max_size and keeps the rest for the timeout', async () => {
    const { p, sink } = setup({ send_batch_size: 10, send_batch_max_size: 10, timeout: '50ms' });
    await p.traces.consume(makeTraces(25, 's'));
    expect(sink.traces.map(spanCount)).toEqual([10, 10]);
    await waitFor(() => sink.traces.length === 3);
    expect(sink.traces.map(spanCount)).toEqual([10, 10, 5]);
    const names = sink.traces.flatMap((d) => d.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((x) => x.name))));
    expect(names).toEqual(Array.from({ length: 25 }, (_, i) => `s-${i}`));
    await p.shutdown();
  });

  it('sends on timeout', async () => {
    const { p, sink } = setup({ timeout: '60ms' });
    const t0 = Date.now();
    await p.logs.consume(makeLogs(3));
    await waitFor(() => sink.logs.length === 1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
    expect(sink.logs[0]!.resourceLogs[0]!.scopeLogs[0]!.logRecords).toHaveLength(3);
    await p.shutdown();
  });

  it('keeps different resources apart and merges equal ones', async () => {
    const { p, sink } = setup({ timeout: '10s' });
    const other = makeTraces(2);
    other.resourceSpans[0]!.resource = { attributes: [{ key: 'service.name', value: { stringValue: 'other' } }] };
    await p.traces.consume(makeTraces(1));
    await p.traces.consume(other);
    await p.traces.consume(makeTraces(3));
    await p.shutdown();
    expect(sink.traces).toHaveLength(1);
    expect(sink.traces[0]!.resourceSpans.map((r) => r.scopeSpans[0]!.spans.length)).toEqual([4, 2]);
  });

  it('flushes on shutdown, is idempotent and works without start', async () => {
    const { p, sink } = setup({ timeout: '10s' });
    await p.traces.consume(makeTraces(5));
    await p.logs.consume(makeLogs(2));
    await Promise.all([p.shutdown(), p.shutdown()]);
    expect(sink.traces.map(spanCount)).toEqual([5]);
    expect(sink.logs).toHaveLength(1);
    await expect(p.traces.consume(makeTraces(1))).rejects.toBeInstanceOf(RetryableError);
  });

  it('pushes back with RetryableError when max_pending_items are held by a slow next consumer', async () => {
    const { p, sink } = setup({ send_batch_size: 10, timeout: '5ms', max_pending_items: 20 });
    sink.hold();
    await p.traces.consume(makeTraces(8));
    await new Promise((r) => setTimeout(r, 30));
    await p.traces.consume(makeTraces(8));
    await new Promise((r) => setTimeout(r, 30));
    // 16 items are now stuck in the next consumer; 8 more would exceed 20.
    await expect(p.traces.consume(makeTraces(8))).rejects.toBeInstanceOf(RetryableError);
    sink.release();
    await waitFor(() => sink.traces.reduce((n, d) => n + spanCount(d), 0) === 16);
    await p.traces.consume(makeTraces(8));
    await p.shutdown();
  });

  it('counts and logs batches the next consumer refuses on a timer flush', async () => {
    const { p, sink, metrics } = setup({ timeout: '10ms' });
    sink.fail = new PermanentError('bad');
    await p.traces.consume(makeTraces(6));
    const labels = { component: 'batch', signal: 'traces', reason: 'next_permanent_error' };
    await waitFor(async () => (await metrics.value(metrics.processorDropped, labels)) === 6);
    await p.shutdown();
  });

  it('on a size-triggered flush, returns the error to the caller and counts only earlier callers’ items', async () => {
    const { p, sink, metrics } = setup({ send_batch_size: 10, timeout: '10s' });
    await p.traces.consume(makeTraces(4));
    sink.fail = new RetryableError('queue full');
    await expect(p.traces.consume(makeTraces(6))).rejects.toThrow('queue full');
    expect(await metrics.value(metrics.processorDropped, { component: 'batch', signal: 'traces', reason: 'next_retryable_error' })).toBe(4);
    await p.shutdown();
  });

  it('passes log records on by reference, split or merged, so kernel-event marks survive', async () => {
    const { p, sink } = setup({ send_batch_size: 4, send_batch_max_size: 4, timeout: '10s' });
    const a = makeLogs(3, 'kernel');
    const b = makeLogs(3, 'app');
    const kernel = a.resourceLogs[0]!.scopeLogs[0]!.logRecords.map((r) => markKernelRecord(r));
    await p.logs.consume(a);
    await p.logs.consume(b);
    await p.shutdown();
    const out = sink.logs.flatMap((d) => d.resourceLogs.flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords)));
    expect(out).toHaveLength(6);
    expect(out.filter(isKernelRecord)).toEqual(kernel);
    expect(out.filter(isKernelRecord).every((r, i) => r === kernel[i])).toBe(true);
  });
});

describe('batch processor config', () => {
  it('has the collector defaults', () => {
    expect(createDefaultConfig()).toEqual({ sendBatchSize: 8192, sendBatchMaxSize: 0, timeoutMs: 200, maxPendingItems: 100_000 });
  });

  it('reads testdata/config.yaml', () => {
    const errors = new ConfigErrors();
    const raw = YAML.parse(readFileSync(new URL('./testdata/config.yaml', import.meta.url), 'utf8'));
    expect(readConfig(new Section(raw, 'processors.batch', errors))).toEqual({ sendBatchSize: 1000, sendBatchMaxSize: 2000, timeoutMs: 1000, maxPendingItems: 50_000 });
    expect(errors.list).toEqual([]);
  });

  it('rejects a max size below the batch size, naming the key', () => {
    const errors = new ConfigErrors();
    const s = new Section({ send_batch_size: 100, send_batch_max_size: 10, timout: '1s' }, 'processors.batch', errors);
    readConfig(s);
    s.done();
    expect(errors.list).toEqual([
      'processors.batch.send_batch_max_size: must be 0 or at least send_batch_size (100), got 10',
      'processors.batch: has invalid keys: timout',
    ]);
  });
});
