import { describe, expect, test } from 'vitest';
import { findAttr } from '../otlp/attributes.js';
import { logsCodec, tracesCodec } from '../otlp/codec.js';
import { DEVIATION_ATTR, DEVIATION_EVENT, DeviationLimiter, deviationData, ruleUuid, type Deviation } from './index.js';

const rule = { id: 'new-executable', name: 'New executable', category: 'execution' as const, description: 'A process ran an executable its baseline never ran.', severity: 'high' as const };

function deviation(observed = '/usr/bin/curl'): Deviation {
  return {
    rule,
    component: { id: 'tool:0123456789abcdef', kind: 'tool', name: 'http_post' },
    fact: 'executables of tool http_post: (none)',
    observed,
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    timeUnixNano: 1_795_989_410_960_712_329n,
    chain: {
      prompt: 'My warranty claim, key sk-abcdefghijklmnop',
      llm: { spanId: '00f067aa0ba902b7', model: 'gpt-4o-mini' },
      tool: { spanId: 'b7ad6b7169203331', name: 'http_post', arguments: '{"url":"http://x/?token=secret123","body":"..."}' },
      data: ['/srv/data/customers.csv'],
      destination: ['evil.example:443'],
      identity: ['/var/run/secrets/token'],
      process: Array.from({ length: 20 }, (_, i) => `/bin/p${i}`),
    },
  };
}

describe('deviation contract', () => {
  test('a deviation becomes a log record linked to its span and a child span with the same attributes', () => {
    const { logs, traces } = deviationData([{ d: deviation(), count: 3 }], { scope: 'aibom.baseline', scopeVersion: '1.2.3', serviceName: 'support-agent' });
    const rec = logs.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    expect(rec.eventName).toBe(DEVIATION_EVENT);
    expect(Buffer.from(rec.traceId!).toString('hex')).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(Buffer.from(rec.spanId!).toString('hex')).toBe('b7ad6b7169203331');
    expect(rec.severityNumber).toBe(17);
    const span = traces.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(span.name).toBe('deviation new-executable');
    expect(Buffer.from(span.parentSpanId!).toString('hex')).toBe('b7ad6b7169203331');
    expect(span.attributes).toEqual(rec.attributes);
    const a = rec.attributes;
    expect(findAttr(a, DEVIATION_ATTR.ruleName)).toBe('New executable');
    expect(findAttr(a, DEVIATION_ATTR.ruleUuid)).toBe(ruleUuid(rule));
    expect(findAttr(a, DEVIATION_ATTR.rule)).toBe('new-executable');
    expect(findAttr(a, DEVIATION_ATTR.count)).toBe(3);
    expect(findAttr(a, DEVIATION_ATTR.chainLlmModel)).toBe('gpt-4o-mini');
    // Secrets in the chain never leave: redacted, and lists bounded.
    expect(String(findAttr(a, DEVIATION_ATTR.chainPrompt))).not.toContain('sk-abcdefghijklmnop');
    expect(String(findAttr(a, DEVIATION_ATTR.chainToolArguments))).not.toContain('secret123');
    expect((findAttr(a, DEVIATION_ATTR.chainProcess) as string[]).length).toBe(16);
    // It survives the wire both ways.
    expect(logsCodec.decode(logsCodec.encode(logs)).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.eventName).toBe(DEVIATION_EVENT);
    expect(tracesCodec.decode(tracesCodec.encode(traces)).resourceSpans[0]!.scopeSpans[0]!.spans[0]!.name).toBe('deviation new-executable');
  });

  test('rule uuids are stable, distinct per rule and shaped as version-5 UUIDs', () => {
    expect(ruleUuid(rule)).toBe(ruleUuid({ id: 'new-executable' }));
    expect(ruleUuid(rule)).not.toBe(ruleUuid({ id: 'new-egress' }));
    expect(ruleUuid(rule)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test('the limiter emits once per value in the dedupe window, caps a rule per minute, and counts what it held back', () => {
    let t = 0;
    const l = new DeviationLimiter({ dedupeWindowMs: 1000, maxPerMinute: 2, maxKeys: 100 }, () => t);
    expect(l.check(deviation('a'))).toEqual({ emit: true, count: 1 });
    expect(l.check(deviation('a'))).toEqual({ emit: false, reason: 'duplicate' });
    expect(l.check(deviation('b'))).toEqual({ emit: true, count: 1 });
    expect(l.check(deviation('c'))).toEqual({ emit: false, reason: 'rate_limited' });
    t = 60_000;
    expect(l.check(deviation('a'))).toEqual({ emit: true, count: 2 });
  });
});
