import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../pipeline/telemetry/metrics.js';
import { renderExposition } from '../../pipeline/telemetry/exposition.js';
import { LagHistogram } from './lag-histogram.js';
import { EbpfMetrics, LAG_BUCKETS } from './metrics.js';

describe('LagHistogram', () => {
  it('exports what a prom-client Histogram with the same observations exports', async () => {
    const ours = new client.Registry();
    const theirs = new client.Registry();
    const h = new LagHistogram('lag_seconds', 'help text', 'component', LAG_BUCKETS);
    ours.registerMetric(h as unknown as client.Metric);
    const p = new client.Histogram({ name: 'lag_seconds', help: 'help text', labelNames: ['component'], buckets: LAG_BUCKETS, registers: [theirs] });
    // Bounds themselves (le is inclusive), between them, above all, zero and negative (a clock step).
    const values = [0, -0.002, 0.005, 0.0051, 0.1, 0.099, 0.2, 1, 29.9, 30, 31, 1e6, 0.0125, 0.3333];
    const a = h.child('ebpf');
    const b = h.child('ebpf/2');
    h.child('never'); // no series before its first observation, as prom-client
    for (const [i, v] of values.entries()) {
      a.observe(v);
      p.labels({ component: 'ebpf' }).observe(v);
      if (i % 3 === 0) {
        b.observe(v * 2);
        p.labels({ component: 'ebpf/2' }).observe(v * 2);
      }
    }
    expect(await h.get()).toEqual(await p.get());
    for (const openMetrics of [false, true]) expect(await renderExposition(ours, openMetrics)).toBe(await renderExposition(theirs, openMetrics));
    expect(await ours.metrics()).toBe(await theirs.metrics());
    h.reset();
    p.reset();
    expect(await renderExposition(ours, false)).toBe(await renderExposition(theirs, false));
    a.observe(0.02);
    p.labels({ component: 'ebpf' }).observe(0.02);
    expect(await renderExposition(ours, false)).toBe(await renderExposition(theirs, false));
  });

  it('is registered once per registry and shared by the receivers on it', () => {
    const m = new Metrics();
    const one = new EbpfMetrics(m);
    const two = new EbpfMetrics(m);
    expect(two.lag).toBe(one.lag);
    expect(m.registry.getSingleMetric('aibom_ebpf_event_lag_seconds')).toBe(one.lag);
  });
});
