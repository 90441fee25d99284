import Long from 'long';
import { describe, expect, test } from 'vitest';
import type { Consumers } from '../../pipeline/consumer.js';
import { findAttr } from '../../pipeline/otlp/attributes.js';
import type { Span, TracesData } from '../../pipeline/otlp/types.js';
import { ATTR } from '../../pipeline/semconv.js';
import { silentLogger } from '../../pipeline/telemetry/logger.js';
import { Metrics } from '../../pipeline/telemetry/metrics.js';
import { createDefaultConfig } from './config.js';
import { CorrelateProcessor } from './correlate-processor.js';
import { int64ToMicros } from '../../pipeline/otlp/attributes.js';
import { kernelEvents, spanHex, spans, T0 } from './testdata/builders.js';

const AGENT = { pid: 100, ppid: 1, comm: 'node' };
const TOOL = { pid: 300, ppid: 0, comm: 'python3' };

function setup() {
  let clock = Number(T0);
  const made: Span[] = [];
  const next: Consumers = {
    traces: { consume: async (d: TracesData) => void made.push(...d.resourceSpans.flatMap((rs) => rs.scopeSpans.filter((ss) => ss.scope?.name === 'aibom.correlate').flatMap((ss) => ss.spans))) },
    logs: { consume: async () => undefined },
  };
  const p = new CorrelateProcessor({ id: 'correlate', name: '', logger: silentLogger(), metrics: new Metrics() }, createDefaultConfig(), next, () => clock);
  return { p, made, advance: (ms: number) => (clock += ms) };
}

const TOOL_SPAN = spans('agent', AGENT.pid, [{ trace: 'b1', id: '9', name: 'run_tool', from: 0, to: 5000, attributes: { 'openinference.span.kind': 'TOOL' } }]);

describe('matching rounds skip events nothing new could match', () => {
  test('an event left unmatched is matched once spans of its process arrive', async () => {
    const { p, made, advance } = setup();
    await p.logs.consume(kernelEvents(AGENT, [{ kind: 'open', ms: 1000, attributes: { [ATTR.filePath]: '/data/a.md' } }]));
    await p.tick();
    advance(2000);
    await p.tick();
    await p.traces.consume(TOOL_SPAN);
    advance(1000);
    await p.tick();
    expect(made.map((s) => [s.name, Buffer.from(s.parentSpanId!).toString('hex'), findAttr(s.attributes, ATTR.correlationKey)])).toEqual([['open /data/a.md', spanHex('9'), 'pid_time']]);
  });

  test('an event left unmatched is matched once its ancestry is learned (late fork)', async () => {
    const { p, made, advance } = setup();
    await p.traces.consume(TOOL_SPAN);
    await p.logs.consume(kernelEvents(TOOL, [{ kind: 'open', ms: 1000, attributes: { [ATTR.filePath]: '/data/b.md' } }]));
    advance(2000);
    await p.tick(); // no span of pid 300 nor known parent: unmatched, held
    expect(made).toHaveLength(0);
    await p.logs.consume(kernelEvents(AGENT, [{ kind: 'fork', ms: 900, attributes: { [ATTR.processChildPid]: TOOL.pid } }]));
    await p.tick();
    const open = made.find((s) => s.name === 'open /data/b.md')!;
    expect(findAttr(open.attributes, ATTR.correlationKey)).toBe('process_tree');
  });
});

test('int64ToMicros: exact floor of ns / 1000 for Longs, numbers and strings', () => {
  for (const ns of [0n, 999n, 1000n, 1_790_000_000_123_456_789n, 4_294_967_295_999n, 2n ** 62n - 1n, 2n ** 62n + 12_345n, 2n ** 63n - 1n]) {
    const want = Number(ns / 1000n);
    expect(int64ToMicros(Long.fromString(ns.toString(), true))).toBe(want);
    expect(int64ToMicros(Long.fromString(ns.toString(), false))).toBe(want);
    expect(int64ToMicros(ns.toString())).toBe(want);
  }
  expect(int64ToMicros(1_500_000)).toBe(1500);
});
