import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, ConfigErrors, Section } from '../../pipeline/config/section.js';
import { RetryableError } from '../../pipeline/consumer.js';
import { attr } from '../../pipeline/otlp/attributes.js';
import { logsCodec, tracesCodec } from '../../pipeline/otlp/codec.js';
import { appendAttributes } from '../../pipeline/otlp/span-view.js';
import { asReceived, decodedSpans } from '../../pipeline/otlp/testdata/received.js';
import { silentLogger } from '../../pipeline/telemetry/logger.js';
import { Metrics } from '../../pipeline/telemetry/metrics.js';
import { makeLogs, makeTraces, waitFor } from '../otlp/test-peer.js';
import { readConfig } from './config.js';
import { fileExporterFactory } from './factory.js';
import type { FileExporter } from './file-exporter.js';
import { backupName, pruneBackups } from './rotation.js';
import { createHost } from '../../pipeline/host.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tmp(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'aibom-file-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function create(raw: Record<string, unknown>): { exporter: FileExporter; metrics: Metrics } {
  const errors = new ConfigErrors();
  const section = new Section(raw, 'exporters.file', errors);
  const config = readConfig(section);
  section.done();
  if (!errors.empty) throw new ConfigError(errors.list);
  const metrics = new Metrics();
  const exporter = fileExporterFactory.create({ id: 'file', name: '', logger: silentLogger(), metrics }, config) as FileExporter;
  cleanups.push(() => exporter.shutdown());
  return { exporter, metrics };
}

const host = createHost();

describe('file exporter', () => {
  it('writes one OTLP/JSON request per line that parses back to the same data', async () => {
    const file = path.join(await tmp(), 'sub', 'out.jsonl');
    const { exporter, metrics } = create({ path: file, flush_interval: '1h' });
    await exporter.start(host);
    const traces = makeTraces(3);
    const logs = makeLogs(2);
    await exporter.traces.consume(traces);
    await exporter.logs.consume(logs);
    expect(readFileSync(file, 'utf8')).toBe('');
    await exporter.shutdown();
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(tracesCodec.encode(tracesCodec.fromJson(lines[0]!))).toEqual(tracesCodec.encode(traces));
    expect(logsCodec.encode(logsCodec.fromJson(lines[1]!))).toEqual(logsCodec.encode(logs));
    expect(JSON.parse(lines[0]!).resourceSpans[0].scopeSpans[0].spans[0].traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(await metrics.value(metrics.exporterSent, { component: 'file', signal: 'traces' })).toBe(3);
    expect(await metrics.value(metrics.exporterSent, { component: 'file', signal: 'logs' })).toBe(2);
  });

  it('received spans: the line codec.toJson writes, with no span decoded (left as bytes for the other exporters)', async () => {
    const file = path.join(await tmp(), 'out.jsonl');
    const { exporter } = create({ path: file, flush_interval: '0s' });
    await exporter.start(host);
    const bytes = Buffer.from(tracesCodec.encode(makeTraces(5)));
    const received = asReceived(tracesCodec.decode(bytes));
    appendAttributes(received.resourceSpans[0]!.scopeSpans[0]!.spans[1]!, [attr('gen_ai.provider.name', 'openai'), attr('n', 3)]);
    const expected = asReceived(tracesCodec.decode(bytes));
    appendAttributes(expected.resourceSpans[0]!.scopeSpans[0]!.spans[1]!, [attr('gen_ai.provider.name', 'openai'), attr('n', 3)]);
    await exporter.traces.consume(received);
    const logs = makeLogs(2);
    await exporter.logs.consume(logs);
    expect(readFileSync(file, 'utf8')).toBe(`${tracesCodec.toJson(expected)}\n${logsCodec.toJson(logs)}\n`);
    expect(decodedSpans([received])).toEqual({ received: 5, decoded: 0 });
  });

  it('flushes on the interval, and in consume when flush_interval is 0', async () => {
    const dir = await tmp();
    const a = create({ path: path.join(dir, 'a.jsonl'), flush_interval: '30ms' });
    await a.exporter.start(host);
    await a.exporter.traces.consume(makeTraces(1));
    await waitFor(() => readFileSync(path.join(dir, 'a.jsonl'), 'utf8').length > 0);
    const b = create({ path: path.join(dir, 'b.jsonl'), flush_interval: '0s' });
    await b.exporter.start(host);
    await b.exporter.traces.consume(makeTraces(1));
    expect(readFileSync(path.join(dir, 'b.jsonl'), 'utf8').split('\n')).toHaveLength(2);
  });

  it('writes every line whole and in order while the buffer of a written chunk is reused for the next', async () => {
    const file = path.join(await tmp(), 'out.jsonl');
    const { exporter } = create({ path: file, flush_interval: '0s' });
    await exporter.start(host);
    const sizes = [200, 3, 50, 1, 400, 2];
    const requests = sizes.map((n, i) => Buffer.from(tracesCodec.encode(makeTraces(n, `r${i}`))));
    // Two rounds: the second writes into buffers the first left; each call comes while the write before it is under way.
    for (let round = 0; round < 2; round++) {
      const calls: Promise<void>[] = [];
      for (const [i, bytes] of requests.entries()) {
        calls.push(i % 2 ? exporter.logs.consume(makeLogs(sizes[i]!)) : exporter.traces.consume(tracesCodec.decodeReceived(bytes)));
        await new Promise((r) => setImmediate(r));
      }
      await Promise.all(calls);
    }
    const expected = requests.map((bytes, i) => (i % 2 ? logsCodec.toJson(makeLogs(sizes[i]!)) : tracesCodec.toJson(tracesCodec.decode(bytes)))).join('\n') + '\n';
    expect(readFileSync(file, 'utf8')).toBe(expected + expected);
  });

  it('rotates to timestamped backups and deletes beyond max_backups', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'out.json');
    const { exporter } = create({ path: file, flush_interval: '0s', rotation: { max_megabytes: 0.004, max_backups: 2 } });
    await exporter.start(host);
    const line = Buffer.byteLength(tracesCodec.toJson(makeTraces(10))) + 1;
    for (let i = 0; i < 8; i++) await exporter.traces.consume(makeTraces(10, `r${i}`));
    await exporter.shutdown();
    const names = (await readdir(dir)).sort();
    expect(names).toHaveLength(3);
    expect(names.filter((n) => /^out-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}\.json$/.test(n))).toHaveLength(2);
    for (const n of names) {
      const text = await readFile(path.join(dir, n), 'utf8');
      expect(text.length).toBeLessThanOrEqual(Math.max(0.004 * 1024 * 1024, line));
      for (const l of text.trimEnd().split('\n')) expect(tracesCodec.count(tracesCodec.fromJson(l))).toBe(10);
    }
  });

  it('prunes backups older than max_days', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'x.json');
    const now = Date.UTC(2025, 0, 10);
    const old = backupName(file, now - 5 * 86_400_000, false);
    const fresh = backupName(file, now - 86_400_000, false);
    await writeFile(old, '');
    await writeFile(fresh, '');
    await writeFile(path.join(dir, 'unrelated.json'), '');
    expect(await pruneBackups(file, { maxMegabytes: 1, maxDays: 3, maxBackups: 0, localtime: false }, now)).toEqual([old]);
    expect(existsSync(fresh)).toBe(true);
  });

  it('a write error in consume rejects the caller with the cause (disk full)', async () => {
    const { exporter, metrics } = create({ path: '/dev/full', flush_interval: '0s' });
    await exporter.start(host);
    const err = await exporter.traces.consume(makeTraces(2)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).toBe('writing /dev/full: no space left on device (ENOSPC)');
    expect(await metrics.value(metrics.exporterDropped, {})).toBe(0);
  });

  it('a write error on a timer flush is counted as dropped{write_failed}', async () => {
    const { exporter, metrics } = create({ path: '/dev/full', flush_interval: '20ms' });
    await exporter.start(host);
    await exporter.traces.consume(makeTraces(4));
    await exporter.logs.consume(makeLogs(1));
    const labels = { component: 'file', signal: 'traces', reason: 'write_failed' };
    await waitFor(async () => (await metrics.value(metrics.exporterDropped, labels)) === 4);
    expect(await metrics.value(metrics.exporterDropped, { ...labels, signal: 'logs' })).toBe(1);
  });

  it('fails start clearly when the path cannot be opened', async () => {
    const dir = await tmp();
    const { exporter } = create({ path: dir });
    await expect(exporter.start(host)).rejects.toThrow(`exporter file: cannot open ${dir}: writing ${dir}: path is a directory (EISDIR)`);
    await exporter.shutdown();
  });
});

describe('file exporter config', () => {
  it('reads testdata/config.yaml; rotation only when the block is present', () => {
    const errors = new ConfigErrors();
    const raw = YAML.parse(readFileSync(new URL('./testdata/config.yaml', import.meta.url), 'utf8'));
    expect(readConfig(new Section(raw, 'exporters.file', errors))).toEqual({
      path: '/var/log/aibom/otlp.jsonl',
      flushIntervalMs: 5000,
      rotation: { maxMegabytes: 10, maxDays: 3, maxBackups: 3, localtime: true },
    });
    expect(readConfig(new Section({ path: 'x', rotation: {} }, 'exporters.file', errors)).rotation).toEqual({ maxMegabytes: 100, maxDays: 0, maxBackups: 100, localtime: false });
    expect(readConfig(new Section({ path: 'x' }, 'exporters.file', errors)).rotation).toBeUndefined();
    expect(errors.list).toEqual([]);
  });

  it('requires path and names bad keys', () => {
    const errors = new ConfigErrors();
    readConfig(new Section({ format: 'proto', rotation: { max_backup: 1 } }, 'exporters.file', errors));
    expect(errors.list).toEqual([
      'exporters.file.path: is required',
      'exporters.file.format: must be one of json, got string "proto"',
      'exporters.file.rotation: has invalid keys: max_backup',
    ]);
  });
});
