import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigErrors, Section } from '../../pipeline/config/section.js';
import { asReceived, decodedSpans } from '../../pipeline/otlp/testdata/received.js';
import { Metrics } from '../../pipeline/telemetry/metrics.js';
import { makeLogs, makeTraces } from '../otlp/test-peer.js';
import { readConfig } from './config.js';
import type { Verbosity } from './config.js';
import { debugExporterFactory } from './factory.js';

function capture(verbosity: Verbosity) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const logger = pino({ level: 'info' }, stream);
  const exporter = debugExporterFactory.create({ id: 'debug', name: '', logger, metrics: new Metrics() }, { verbosity });
  return { exporter, lines };
}

describe('debug exporter', () => {
  it('basic: one summary line per batch', async () => {
    const { exporter, lines } = capture('basic');
    await exporter.traces!.consume(makeTraces(3));
    await exporter.logs!.consume(makeLogs(2));
    expect(lines.map((l) => [l['msg'], l['spans'] ?? l['log_records']])).toEqual([['Traces', 3], ['Logs', 2]]);
  });

  it('basic: received spans are counted, not decoded', async () => {
    const { exporter, lines } = capture('basic');
    const received = asReceived(makeTraces(4));
    await exporter.traces!.consume(received);
    expect(lines.map((l) => l['spans'])).toEqual([4]);
    expect(decodedSpans([received])).toEqual({ received: 4, decoded: 0 });
  });

  it('normal: one line per span and log record with ids and name', async () => {
    const { exporter, lines } = capture('normal');
    await exporter.traces!.consume(makeTraces(2, 'op'));
    await exporter.logs!.consume(makeLogs(1, 'hello'));
    const spans = lines.filter((l) => l['msg'] === 'span');
    expect(spans.map((s) => s['name'])).toEqual(['op-0', 'op-1']);
    expect(spans[0]!['trace_id']).toMatch(/^[0-9a-f]{32}$/);
    expect(spans[0]!['span_id']).toMatch(/^[0-9a-f]{16}$/);
    expect(spans[0]!['attributes']).toBeUndefined();
    expect(lines.find((l) => l['msg'] === 'log record')!['body']).toBe('hello-0');
  });

  it('detailed: attributes, resource and scope too', async () => {
    const { exporter, lines } = capture('detailed');
    await exporter.traces!.consume(makeTraces(1, 'op'));
    const span = lines.find((l) => l['msg'] === 'span')!;
    expect(span['attributes']).toEqual({ i: 0 });
    expect(span['resource']).toEqual({ 'service.name': 'test' });
    expect(span['scope']).toBe('test');
    expect(span['start_time_unix_nano']).toBe('1700000000000000000');
  });

  it('validates verbosity', () => {
    const errors = new ConfigErrors();
    expect(readConfig(new Section({}, 'exporters.debug', errors))).toEqual({ verbosity: 'basic' });
    readConfig(new Section({ verbosity: 'loud' }, 'exporters.debug', errors));
    expect(errors.list).toEqual(['exporters.debug.verbosity: must be one of basic, normal, detailed, got string "loud"']);
  });
});
