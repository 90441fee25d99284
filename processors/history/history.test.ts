import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { AdminRoutes } from '../../pipeline/admin-routes.js';
import { findFactory } from '../../pipeline/cli/components.js';
import { parseServiceConfig } from '../../pipeline/config/service-config.js';
import { defaultConfigPath } from '../../pipeline/package-root.js';
import { ConfigErrors, Section } from '../../pipeline/config/section.js';
import { createHost } from '../../pipeline/host.js';
import { attr, bigIntToLong } from '../../pipeline/otlp/attributes.js';
import type { LogsData } from '../../pipeline/otlp/types.js';
import { silentLogger } from '../../pipeline/telemetry/logger.js';
import { Metrics } from '../../pipeline/telemetry/metrics.js';
import { HistoryProcessor, HistoryStore, readConfig, readHistory, type HistoryConfig } from './index.js';

const DAY = 86_400_000;
const deviation = (ms: number, observed = 'x'): LogsData => ({
  resourceLogs: [{ resource: { attributes: [attr('service.name', 'agent')] }, scopeLogs: [{ scope: { name: 'aibom.baseline' }, logRecords: [{ timeUnixNano: bigIntToLong(BigInt(ms) * 1_000_000n), eventName: 'aibom.deviation', traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), attributes: [attr('aibom.deviation.rule', 'new-file'), attr('aibom.deviation.observed', observed)] }] }] }],
});

function processor(config: Partial<HistoryConfig> & { path: string }, metrics = new Metrics()) {
  const passed: LogsData[] = [];
  const p = new HistoryProcessor({ id: 'history', name: '', logger: silentLogger(), metrics }, { retentionMs: 30 * DAY, maxEntries: 100, maxEntryBytes: 8192, ...config }, { logs: { consume: async (d) => void passed.push(d) } });
  return { p, passed, metrics };
}
const dropped = (m: Metrics, reason: string) => m.value(m.counter('aibom_history_dropped_entries_total', '', ['component', 'reason']), { reason });

describe('history processor', () => {
  test('retention: entries past it go at start-up, counted', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aibom-history-')), 'h.jsonl');
    const a = processor({ path });
    await a.p.start(createHost());
    await a.p.consume(deviation(Date.now() - 40 * DAY, 'old'));
    await a.p.consume(deviation(Date.now() - DAY, 'recent'));
    await a.p.shutdown();
    const b = processor({ path });
    await b.p.start(createHost());
    expect(readHistory(path).map((e) => e.attributes['aibom.deviation.observed'])).toEqual(['recent']);
    expect(await dropped(b.metrics, 'expired')).toBe(1);
    expect(b.passed).toEqual([]);
    expect(a.passed.length).toBe(2);
  });

  test('max_entries: past a tenth over the bound, the oldest go (counted); the file never holds more than 1.1x', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aibom-history-')), 'h.jsonl');
    const { p, metrics } = processor({ path, maxEntries: 10 });
    await p.start(createHost());
    for (let i = 0; i < 25; i++) await p.consume(deviation(Date.now(), `v${i}`));
    const kept = readHistory(path).map((e) => String(e.attributes['aibom.deviation.observed']));
    expect(kept.length).toBeLessThanOrEqual(11);
    expect(kept.at(-1)).toBe('v24');
    expect(await dropped(metrics, 'over_limit')).toBe(25 - kept.length);
  });

  test('an entry past max_entry_bytes is kept with its attributes cut, counted', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aibom-history-')), 'h.jsonl');
    const { p, metrics } = processor({ path, maxEntryBytes: 1024 });
    await p.start(createHost());
    await p.consume(deviation(Date.now(), 'y'.repeat(5000)));
    const line = readFileSync(path, 'utf8').trim();
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(1024);
    expect(JSON.parse(line).attributes['aibom.history.truncated']).toBe(true);
    expect(await metrics.value(metrics.counter('aibom_history_truncated_entries_total', '', ['component']), {})).toBe(1);
  });

  test('a corrupt file stops start-up naming file and line, and is left as it was', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aibom-history-')), 'h.jsonl');
    writeFileSync(path, '{"kind":"deviation","timeMs":1,"attributes":{}}\n{"kind":"nonsense","timeMs":1,"attributes":{}}\n');
    const { p } = processor({ path });
    await expect(p.start(createHost())).rejects.toThrow(`history ${path} cannot be used: line 2: unknown kind "nonsense"`);
    expect(readFileSync(path, 'utf8')).toContain('nonsense');
  });

  test('GET /v1/history filters by period; a bad time is a 400', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aibom-history-')), 'h.jsonl');
    const routes = new AdminRoutes();
    const { p } = processor({ path });
    await p.start(createHost(undefined, routes));
    await p.consume(deviation(Date.parse('2026-11-01T00:00:00Z'), 'a'));
    await p.consume(deviation(Date.parse('2026-11-02T00:00:00Z'), 'b'));
    const route = routes.match('GET', '/v1/history').route!;
    const r = await route(new URLSearchParams('from=2026-11-01T12:00:00Z&to=2026-11-03T00:00:00Z'), { method: 'GET', params: {} });
    expect((JSON.parse(r.body) as { entries: { traceId: string; attributes: Record<string, unknown> }[] }).entries.map((e) => [e.traceId, e.attributes['aibom.deviation.observed']])).toEqual([['01'.repeat(16), 'b']]);
    expect((await route(new URLSearchParams('from=yesterday'), { method: 'GET', params: {} })).status).toBe(400);
    await p.shutdown();
    expect(routes.match('GET', '/v1/history').route).toBeUndefined();
  });

  test('config: defaults, validation', () => {
    const errors = new ConfigErrors();
    const s = new Section({ retention: '0s', max_entry_bytes: 10 }, 'processors.history', errors);
    const c = readConfig(s);
    s.done();
    expect(errors.list.map((e) => e.split(':')[0])).toEqual(['processors.history.retention', 'processors.history.max_entry_bytes']);
    expect(readConfig(new Section({}, 'processors.history', new ConfigErrors()))).toMatchObject({ path: '', maxEntries: 20_000, maxEntryBytes: 8192, retentionMs: 90 * DAY });
    expect(c.path).toBe('');
  });

  test('the store compacts through a rename (no partial file)', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aibom-history-')), 'h.jsonl');
    writeFileSync(path, `${JSON.stringify({ kind: 'deviation', timeMs: 1, attributes: {} })}\n`);
    expect(new HistoryStore(path, DAY, 10).open(10 * DAY)).toEqual({ kept: 0, expired: 1, overLimit: 0 });
    expect(readFileSync(path, 'utf8')).toBe('');
  });
});

describe('the embedded default config', () => {
  test('runs history in the logs pipeline after every detector, before batch, under the data directory', () => {
    const service = parseServiceConfig(readFileSync(defaultConfigPath(), 'utf8'), findFactory, { AIBOM_DATA_DIR: '/var/lib/aibom' });
    expect(service.processors.get('history')!.config).toMatchObject({ path: '/var/lib/aibom/history/history.jsonl' });
    const logs = service.pipelines.find((p) => p.id === 'logs')!;
    expect(logs.processors.slice(-2)).toEqual(['history', 'batch']);
    for (const detector of ['aibom', 'baseline', 'provenance']) expect(logs.processors.indexOf(detector)).toBeLessThan(logs.processors.indexOf('history'));
  });
});
