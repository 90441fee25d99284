import { describe, expect, it } from 'vitest';
import { CoverageTable } from './coverage.js';
import type { MonitorRecord } from './frame-decoder.js';

const NOW = 1_700_000_000_000_000_000n;
const mon = (m: Partial<MonitorRecord> & { pid: number }): MonitorRecord => ({
  kind: 'monitor', seq: 0, ppid: 1, reason: 'env_marker', partial: false, atStart: false, marker: '', sinceUnixNano: NOW, startUnixNano: undefined, ...m,
});
const attrs = (t: CoverageTable, pid: number): Record<string, string> | undefined =>
  t.attributes(pid) && Object.fromEntries(t.attributes(pid)!.map((kv) => [kv.key, kv.value.stringValue ?? String(kv.value.intValue)]));

describe('coverage facts', () => {
  it('an exec match is complete from its exec; children forked later are complete from their fork', () => {
    const t = new CoverageTable(100);
    t.monitor(mon({ pid: 10, marker: 'OPENAI_*' }), NOW);
    t.fork(10, 11, NOW + 5n, NOW);
    t.fork(99, 12, NOW, NOW); // a parent nobody announced: nothing to say
    expect(attrs(t, 10)).toEqual({ 'aibom.monitor.reason': 'env_marker', 'aibom.monitor.coverage': 'complete', 'aibom.monitor.since_unix_nano': String(NOW), 'aibom.monitor.env_marker': 'OPENAI_*' });
    expect(t.get(11)).toMatchObject({ reason: 'inherited', partialReason: undefined, sinceUnixNano: NOW + 5n });
    expect(t.attributes(12)).toBeUndefined();
  });

  it('a process running before monitoring is partial, with why; its existing descendants share the why', () => {
    const t = new CoverageTable(100);
    t.monitor(mon({ pid: 20, partial: true, atStart: true }), NOW);
    t.monitor(mon({ pid: 21, ppid: 20, reason: 'inherited', partial: true, atStart: true }), NOW);
    t.discovered(30);
    t.monitor(mon({ pid: 30, reason: 'pid', partial: true }), NOW);
    t.monitor(mon({ pid: 31, ppid: 30, reason: 'inherited', partial: true }), NOW);
    t.monitor(mon({ pid: 40, reason: 'pid', partial: true }), NOW);
    expect(t.get(20)).toMatchObject({ reason: 'env_marker', partialReason: 'started_before_sensor' });
    expect(t.get(21)).toMatchObject({ reason: 'inherited', partialReason: 'started_before_sensor' });
    expect(t.get(30)).toMatchObject({ reason: 'discovered', partialReason: 'discovered_from_telemetry' });
    expect(t.get(31)).toMatchObject({ reason: 'inherited', partialReason: 'discovered_from_telemetry' });
    expect(t.get(40)).toMatchObject({ reason: 'pid', partialReason: 'added_while_running' });
    expect(attrs(t, 30)).toMatchObject({ 'aibom.monitor.coverage': 'partial', 'aibom.monitor.partial_reason': 'discovered_from_telemetry' });
  });

  it('the first word stands (a discovered agent watched from its exec stays complete) until a sensor gap', () => {
    const t = new CoverageTable(100);
    t.monitor(mon({ pid: 50 }), NOW);
    t.discovered(50);
    t.monitor(mon({ pid: 50, reason: 'pid', partial: true }), NOW + 1n);
    expect(t.get(50)).toMatchObject({ reason: 'env_marker', partialReason: undefined, sinceUnixNano: NOW });
    t.gap();
    expect(t.get(50)).toMatchObject({ reason: 'env_marker', partialReason: 'sensor_gap', sinceUnixNano: NOW });
  });

  it('forgets a process at exit (pids are reused) and stays within its bound', () => {
    const t = new CoverageTable(3);
    for (let pid = 1; pid <= 5; pid++) t.monitor(mon({ pid }), NOW);
    expect(t.size).toBe(3);
    expect(t.get(1)).toBeUndefined();
    t.exit(5);
    expect(t.get(5)).toBeUndefined();
  });
});
