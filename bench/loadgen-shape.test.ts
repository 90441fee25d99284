import { describe, expect, it } from 'vitest';
import { tracesCodec } from '../pipeline/otlp/codec.js';
import type { Span } from '../pipeline/otlp/types.js';
import { agentRunSpans, loadValues } from './loadgen-agent-run.js';
import { LOADGEN_LLM_ATTRIBUTES, loadgenRequest } from './loadgen-shape.js';

const spansOf = (b: Buffer): Span[] => tracesCodec.decode(b).resourceSpans[0]!.scopeSpans[0]!.spans;
const value = (s: Span, key: string) => s.attributes?.find((a) => a.key === key)?.value;
const keys = (s: Span) => (s.attributes ?? []).map((a) => a.key).join(',');
const duration = (s: Span) => Number(s.endTimeUnixNano) - Number(s.startTimeUnixNano);

describe('bench load values', () => {
  for (const shape of ['llm', 'agent'] as const) {
    it(`${shape}: two varied requests differ in token counts, tool call ids, times; same size, names and keys`, () => {
      const [a, b, f] = [loadgenRequest(shape, 1), loadgenRequest(shape, 2), loadgenRequest(shape, 1, 100, 'fixed')];
      expect(a.length).toBe(f.length);
      expect(b.length).toBe(f.length);
      const [sa, sb, sf] = [spansOf(a), spansOf(b), spansOf(f)];
      let counts = 0;
      let sameCounts = 0;
      let callIds = 0;
      sf.forEach((s, i) => {
        const [x, y] = [sa[i]!, sb[i]!];
        expect([x.name, y.name, keys(x), keys(y)]).toEqual([s.name, s.name, keys(s), keys(s)]);
        expect(Number(y.startTimeUnixNano) - Number(x.startTimeUnixNano)).toBeGreaterThan(0);
        for (const d of [duration(x), duration(y)]) {
          expect(d).toBeLessThanOrEqual(duration(s));
          expect(d).toBeGreaterThanOrEqual(duration(s) * 0.7);
        }
        for (const k of ['gen_ai.usage.input_tokens', 'gen_ai.usage.output_tokens']) {
          if (!value(s, k)) continue;
          counts++;
          const [vx, vy, vf] = [x, y, s].map((z) => Number(value(z, k)!.intValue));
          if (vx === vy || vx === vf) sameCounts++;
        }
        const id = value(s, 'gen_ai.tool.call.id')?.stringValue;
        if (typeof id === 'string') {
          callIds++;
          const [vx, vy] = [value(x, 'gen_ai.tool.call.id')!.stringValue!, value(y, 'gen_ai.tool.call.id')!.stringValue!];
          expect(vx).not.toBe(vy);
          expect(vx).not.toBe(id);
          expect(vx).toMatch(/^call_/);
          expect(vx.length).toBe(id.length);
        }
      });
      expect(counts).toBeGreaterThan(0);
      expect(sameCounts).toBeLessThanOrEqual(counts / 10);
      expect(callIds > 0).toBe(shape === 'agent');
      expect(new Set(sa.map(duration)).size).toBeGreaterThan(sa.length / 2);
    });
  }

  it('fixed: the values of the loads before --values', () => {
    const [a, b] = [spansOf(loadgenRequest('llm', 1, 100, 'fixed')), spansOf(loadgenRequest('llm', 2, 100, 'fixed'))];
    expect(a.map((s) => [s.startTimeUnixNano.toString(), duration(s), Number(value(s, 'gen_ai.usage.input_tokens')!.intValue)])).toEqual(
      b.map((s) => [s.startTimeUnixNano.toString(), 1_500_000_000, LOADGEN_LLM_ATTRIBUTES['gen_ai.usage.input_tokens']]),
    );
  });

  it('agentRunSpans: varied tool call ids and durations per request, fixed ones as before', () => {
    const ids = (spans: Span[]) => spans.flatMap((s) => value(s, 'gen_ai.tool.call.id')?.stringValue ?? []);
    const [a, b, f] = [agentRunSpans(1, 10), agentRunSpans(2, 10), agentRunSpans(1, 10, undefined, 'fixed')];
    expect(ids(f)).toContain('call_search_kb');
    expect(ids(a).map((i) => i.length)).toEqual(ids(f).map((i) => i.length));
    expect(ids(a).filter((i, n) => i === ids(b)[n] || i === ids(f)[n])).toEqual([]);
    expect(new Set(f.map(duration))).toEqual(new Set([1_500_000_000]));
    expect(new Set(a.map(duration)).size).toBeGreaterThan(a.length / 2);
    expect(a.map(keys)).toEqual(f.map(keys));
  });

  it('content: the agent load with OpenInference input.value/output.value on LLM and tool spans, as large as bench/loadgen\'s, digits varied per trace', () => {
    const [agent, c, d, f] = [spansOf(loadgenRequest('agent', 1, 100, 'fixed')), spansOf(loadgenRequest('content', 1)), spansOf(loadgenRequest('content', 2)), spansOf(loadgenRequest('content', 1, 100, 'fixed'))];
    expect(f.map((s) => s.name)).toEqual(agent.map((s) => s.name));
    const texts = (spans: Span[]) => spans.flatMap((s) => ['input.value', 'output.value'].flatMap((k) => value(s, k)?.stringValue ?? []));
    expect(f.filter((s) => value(s, 'input.value')).length).toBe(60); // 3 LLM and 3 tool spans a trace
    // bench/loadgen's contentRequest of 100 spans: 1716 bytes a span (agentRequest: 310).
    expect(Math.round(loadgenRequest('content', 1, 100, 'fixed').length / 100)).toBe(1717);
    for (const t of [...texts(c), ...texts(f)]) expect(() => JSON.parse(t)).not.toThrow();
    const [tc, td, tf] = [texts(c), texts(d), texts(f)];
    expect(tc.map((t) => t.length)).toEqual(tf.map((t) => t.length));
    expect(tc.filter((t, i) => /[0-9]/.test(t) && (t === td[i] || t === tf[i])).length).toBeLessThan(tc.length / 4);
    expect(JSON.parse(value(f[1]!, 'input.value')!.stringValue!).messages[1].content).toBe('Ich möchte eine Garantie für mein "Modell X-3" anmelden.');
  });

  it('--values accepts varied (the default) and fixed only', () => {
    expect([loadValues(undefined), loadValues('fixed'), loadValues('varied')]).toEqual(['varied', 'fixed', 'varied']);
    expect(() => loadValues('random')).toThrow(/--values/);
  });
});
