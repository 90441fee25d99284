import { describe, expect, it } from 'vitest';
import { Metrics } from '../../pipeline/telemetry/metrics.js';
import { EbpfMetrics } from './metrics.js';

describe('per-chunk tallies', () => {
  it('are written when the metrics are read and when released, per receiver on a shared registry', async () => {
    const m = new Metrics();
    const a = new EbpfMetrics(m);
    const b = new EbpfMetrics(m);
    let pendingA = 7;
    const ta = a.tally('ebpf', () => pendingA);
    const tb = b.tally('ebpf/2', () => 1);
    ta.kinds.open += 5;
    ta.kinds.exit += 1;
    ta.lagMax = 0.25;
    tb.kinds.open += 2;
    const text = (await m.render(false)).body;
    expect(text).toContain('aibom_ebpf_events_received_total{component="ebpf",kind="open"} 5');
    expect(text).toContain('aibom_ebpf_events_received_total{component="ebpf",kind="exit"} 1');
    expect(text).toContain('aibom_ebpf_events_received_total{component="ebpf/2",kind="open"} 2');
    expect(text).toContain('aibom_ebpf_pending_events{component="ebpf"} 7');
    expect(text).toContain('aibom_ebpf_event_lag_max_seconds{component="ebpf"} 0.25');
    expect(text).not.toContain('aibom_ebpf_event_lag_max_seconds{component="ebpf/2"}'); // no chunk yet
    // Counted again after a read: added, not replaced; a read with nothing new adds nothing.
    ta.kinds.open += 3;
    await m.render(false);
    expect(await m.value(a.received, { component: 'ebpf', kind: 'open' })).toBe(8);
    // Released (the receiver stopped): what it held is written without a read, and it is read no more.
    ta.kinds.open += 1;
    pendingA = 0;
    a.release(ta);
    ta.kinds.open += 100;
    expect(await m.value(a.received, { component: 'ebpf', kind: 'open' })).toBe(9);
    expect(await m.value(a.pending, { component: 'ebpf' })).toBe(0);
    expect(await m.value(b.received, { component: 'ebpf/2', kind: 'open' })).toBe(2);
  });
});
