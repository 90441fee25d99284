import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonLinesBytes, parsePeers } from './peer-collector.js';

describe('peer-collector', () => {
  it('counts span lines apart from the others, over telemetry.jsonl and its rotated backups only', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'peer-collector-test-'));
    const spans = '{"resourceSpans":[]}';
    const logs = '{"resourceLogs":[]}';
    writeFileSync(path.join(dir, 'telemetry.jsonl'), `${spans}\n${logs}\n`);
    writeFileSync(path.join(dir, 'telemetry-2026-12-01T05-21-11.417-size.jsonl'), `${spans}\n${spans}\n`);
    writeFileSync(path.join(dir, 'otelcol.yaml'), `${spans}\n`);
    expect(jsonLinesBytes(dir)).toEqual({ spans: 3 * (spans.length + 1), other: logs.length + 1 });
  });

  it('takes a comma-separated list of known peers and names an unknown one', () => {
    expect(parsePeers(undefined)).toEqual([]);
    expect(parsePeers('jaeger,otelcol')).toEqual(['jaeger', 'otelcol']);
    expect(() => parsePeers('jaeger,zipkin')).toThrow(/got zipkin/);
  });
});
