import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadInChromium } from '../../test/support/chromium.js';
import { collectorMain, ROOT } from '../../test/support/tools.js';
import { HistoryProcessor } from '../../processors/history/index.js';
import { deviationData, type Deviation, type Rule } from '../deviation/index.js';
import { createHost } from '../host.js';
import { attr, bigIntToLong } from '../otlp/attributes.js';
import type { LogsData } from '../otlp/types.js';
import { silentLogger } from '../telemetry/logger.js';
import { Metrics } from '../telemetry/metrics.js';
import { gatherFromDataDir, renderHtml, renderMarkdown } from './index.js';

const ms = (iso: string) => Date.parse(iso);
const FROM = ms('2026-11-29T09:00:00Z');
const TO = ms('2026-11-29T12:00:00Z');
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

const rule = (id: string, category: Rule['category'], severity: Rule['severity']): Rule => ({ id, name: id.replace(/-/g, ' '), category, description: `${id} rule`, severity });
const dev = (r: Rule, kind: string, name: string, observed: string, at: string, chain: Deviation['chain'], traceId = TRACE): Deviation => ({
  rule: r, component: { id: `${kind}:0123456789abcdef`, kind, name }, fact: `${r.id} baseline of ${name}`, observed, traceId, spanId: '00f067aa0ba902b7', timeUnixNano: BigInt(ms(at)) * 1_000_000n, chain,
});
const PROMPT = 'I need help with my warranty claim';
const DEVIATIONS = [
  dev(rule('tool-argument-anomaly', 'misuse', 'high'), 'tool', 'search_kb', 'collection=customers', '2026-11-29T11:30:01Z', { prompt: PROMPT, llm: { spanId: '1111111111111111', model: 'gpt-4o-mini' }, tool: { spanId: '2222222222222222', name: 'search_kb', arguments: '{"collection":"customers"}' } }),
  dev(rule('new-file', 'data-access', 'medium'), 'mcp_server', 'filesystem', '/srv/kb/customers.csv', '2026-11-29T11:30:02Z', { prompt: PROMPT, tool: { spanId: '3333333333333333', name: 'read_text_file' }, data: ['/srv/kb/customers.csv'] }),
  dev(rule('payload-size-anomaly', 'misuse', 'high'), 'tool', 'http_post', '48213 bytes', '2026-11-29T11:30:03Z', { prompt: PROMPT, tool: { spanId: '4444444444444444', name: 'http_post' }, destination: ['http://127.0.0.1:8701/tickets'], identity: ['OPENAI_API_KEY'] }),
  dev(rule('new-egress', 'egress', 'high'), 'tool', 'http_post', 'dns:outside.example', '2026-11-29T13:10:00Z', {}, '5bf92f3577b34da6a3ce929d0e0e4736'),
];

function otherRecords(): LogsData {
  const at = (iso: string) => bigIntToLong(BigInt(ms(iso)) * 1_000_000n);
  return {
    resourceLogs: [{
      resource: { attributes: [attr('service.name', 'aibom-collector')] },
      scopeLogs: [{
        scope: { name: 'aibom.inventory' },
        logRecords: [
          { timeUnixNano: at('2026-11-29T10:00:00Z'), eventName: 'aibom.finding', severityText: 'WARN', attributes: [attr('aibom.finding.type', 'undeclared'), attr('aibom.finding.kind', 'tool'), attr('aibom.finding.name', 'read_text_file'), attr('aibom.finding.detail', 'observed, not in the declared AI-BOM')] },
          { timeUnixNano: at('2026-11-29T10:20:00Z'), eventName: 'aibom.sensor.gap', attributes: [attr('aibom.sensor.gap.start_unix_nano', String(BigInt(ms('2026-11-29T10:15:00Z')) * 1_000_000n)), attr('aibom.sensor.gap.end_unix_nano', String(BigInt(ms('2026-11-29T10:20:00Z')) * 1_000_000n)), attr('aibom.sensor.gap.duration_ms', 300_000), attr('aibom.sensor.gap.reason', 'sensor restarted')] },
          { timeUnixNano: at('2026-11-29T10:00:00Z'), eventName: 'aibom.kernel.exec', attributes: [] },
        ],
      }],
    }],
  };
}

/** A data directory as the embedded default leaves it: AI-BOM, baselines, and a history written by the history processor. */
async function dataDir(): Promise<{ dir: string; metrics: Metrics; passed: LogsData[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'aibom-report-'));
  mkdirSync(join(dir, 'aibom'));
  copyFileSync(join(ROOT, 'pipeline', 'report', 'testdata', 'aibom.cdx.json'), join(dir, 'aibom', 'aibom.cdx.json'));
  mkdirSync(join(dir, 'baselines'));
  const profile = (id: string, kind: string, name: string, completeness: string, partialReason?: string) =>
    writeFileSync(join(dir, 'baselines', `${id.replace(':', '-')}.json`), JSON.stringify({ format: 'aibom-collector/baseline', version: 1, id, component: { kind, name }, state: 'frozen', completeness, ...(partialReason ? { partialReason } : {}), observations: 30, firstSeen: '2026-11-29T09:00:00.000Z', lastSeen: '2026-11-29T11:30:00.000Z' }));
  profile('tool:3c', 'tool', 'search_kb', 'complete');
  profile('tool:4d', 'tool', 'http_post', 'partial', 'no kernel data for pid 4242 (sensor down)');
  const metrics = new Metrics();
  const passed: LogsData[] = [];
  const p = new HistoryProcessor({ id: 'history', name: '', logger: silentLogger(), metrics }, { path: join(dir, 'history', 'history.jsonl'), retentionMs: 10 * 365 * 86_400_000, maxEntries: 1000, maxEntryBytes: 8192 }, { logs: { consume: async (d) => void passed.push(d) } });
  await p.start(createHost());
  await p.consume(deviationData(DEVIATIONS.map((d) => ({ d, count: 1 })), { scope: 'aibom.baseline', scopeVersion: '0.1.0', serviceName: 'support-agent-js' }).logs);
  await p.consume(otherRecords());
  await p.shutdown();
  return { dir, metrics, passed };
}

describe('evidence report', () => {
  test('the history keeps deviations, findings and sensor gaps, passes every record on, counts what it kept', async () => {
    const { dir, metrics, passed } = await dataDir();
    expect(passed.length).toBe(2);
    const lines = readFileSync(join(dir, 'history', 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string });
    expect(lines.map((l) => l.kind)).toEqual(['deviation', 'deviation', 'deviation', 'deviation', 'finding', 'sensor-gap']);
    expect(await metrics.value(metrics.counter('aibom_history_entries_total', '', ['component', 'kind']), { kind: 'deviation' })).toBe(4);
  });

  test('Markdown: every deviation of the period with its chain and trace link, inventory at the end, findings, baselines, coverage', async () => {
    const { dir } = await dataDir();
    const md = renderMarkdown(gatherFromDataDir(dir, FROM, TO, 'https://tempo.example/trace/{traceId}'));
    for (const r of ['tool-argument-anomaly', 'new-file', 'payload-size-anomaly']) expect(md).toContain(`| ${r} |`);
    expect(md).not.toContain('new-egress |'); // 13:10, after the period
    expect(md).toContain(`(https://tempo.example/trace/${TRACE})`);
    expect(md).toContain('prompt: I need help with my warranty claim → LLM: gpt-4o-mini → tool: search_kb {"collection":"customers"}');
    expect(md).toContain('tool: http_post → identity: OPENAI_API_KEY → destination: http://127.0.0.1:8701/tickets');
    expect(md).toMatch(/\| tool \| search_kb \| 2026-11-29T09:00:00.000Z \| 2026-11-29T11:40:00.000Z \| 60 \| observed \|/);
    expect(md).not.toContain('late-agent'); // first seen after the period
    expect(md).toContain('| undeclared | tool | read_text_file |');
    expect(md).toContain('| tool/http_post | frozen | partial (no kernel data for pid 4242 (sensor down)) |');
    expect(md).toContain('| sensor gap | 2026-11-29T10:15:00Z for 300000 ms | sensor restarted |');
    expect(md).toContain('| partially watched | tool/http_post |');
    expect(md).toContain('```mermaid\nflowchart LR');
    expect(md).toMatch(/n\d+\["agent: support-agent-js"\]/);
  });

  test('HTML: self-contained, loads in headless Chromium with no console error, timeline and graph drawn; screenshot', async () => {
    const { dir } = await dataDir();
    const html = renderHtml(gatherFromDataDir(dir, FROM, TO, 'http://localhost:16686/trace/{traceId}'));
    expect(html).not.toMatch(/(?:src|href)="(?!http:\/\/localhost:16686\/trace\/)[a-z]+:/i); // nothing fetched; only trace links
    expect((html.match(/<circle /g) ?? []).length).toBe(3);
    expect(html).toContain('fill="#fee2e2"'); // a deviating component is red in the graph
    const file = join(dir, 'report.html');
    writeFileSync(file, html);
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    const shot = join(ROOT, 'test-results', 'evidence-report.png');
    const { console: messages } = await loadInChromium(file, shot);
    expect(messages).toEqual([]);
    expect(statSync(shot).size).toBeGreaterThan(20_000);
  }, 90_000);

  test('the browser check fails on a page that fetches something (the report could not hide an external asset)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aibom-report-bad-'));
    const file = join(dir, 'bad.html');
    const html = renderHtml(gatherFromDataDir((await dataDir()).dir, FROM, TO, 'x')).replace('</main>', '<img src="https://cdn.example.invalid/logo.png"></main>');
    writeFileSync(file, html);
    const { console: messages } = await loadInChromium(file, join(dir, 'bad.png'));
    expect(messages.join('\n')).toMatch(/Content Security Policy|Refused to load/);
  }, 90_000);

  test('a corrupt history stops the report with the file and line', async () => {
    const { dir } = await dataDir();
    const file = join(dir, 'history', 'history.jsonl');
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"kind":"deviation",\n`);
    expect(() => gatherFromDataDir(dir, FROM, TO, 'x')).toThrow(`history ${file} cannot be used: line 7 is not JSON`);
  });

  test('CLI: report --data-dir --format md --out writes the file; a bad time is a usage error', async () => {
    const { dir } = await dataDir();
    const out = join(dir, 'r.md');
    const ok = spawnSync(process.execPath, [collectorMain(), 'report', '--data-dir', dir, '--from', '2026-11-29T09:00:00Z', '--to', '2026-11-29T12:00:00Z', '--format', 'md', '--out', out], { encoding: 'utf8' });
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('3 deviations, 1 findings, 10 components');
    expect(existsSync(out)).toBe(true);
    const bad = spawnSync(process.execPath, [collectorMain(), 'report', '--data-dir', dir, '--from', 'yesterday'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('"yesterday" is not a time');
  });
});
