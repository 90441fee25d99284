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

function setup(maxIndexedSpans = createDefaultConfig().maxIndexedSpans) {
  let clock = Number(T0);
  const made: Span[] = [];
  const next: Consumers = {
    traces: { consume: async (d: TracesData) => void made.push(...d.resourceSpans.flatMap((rs) => rs.scopeSpans.filter((ss) => ss.scope?.name === 'aibom.correlate').flatMap((ss) => ss.spans))) },
    logs: { consume: async () => undefined },
  };
  const p = new CorrelateProcessor({ id: 'correlate', name: '', logger: silentLogger(), metrics: new Metrics() }, { ...createDefaultConfig(), maxIndexedSpans }, next, () => clock);
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

describe('a match waiting for its span to settle is kept only while the same lookup would find it', () => {
  const parentOf = (made: Span[], name: string) => Buffer.from(made.find((s) => s.name === name)!.parentSpanId!).toString('hex');

  test('an inner span of its process arriving before the match settles takes the event', async () => {
    const { p, made, advance } = setup();
    await p.logs.consume(kernelEvents(AGENT, [{ kind: 'open', ms: 1500, attributes: { [ATTR.filePath]: '/data/a.md' } }]));
    await p.traces.consume(spans('agent', AGENT.pid, [{ trace: 'b1', id: '1', name: 'agent.run', from: 0, to: 9000 }]));
    await p.tick(); // matched to agent.run, not settled
    advance(500);
    await p.traces.consume(TOOL_SPAN);
    await p.tick();
    advance(1000);
    await p.tick();
    expect(made.map((s) => [s.name, findAttr(s.attributes, ATTR.correlationKey)])).toEqual([['open /data/a.md', 'pid_time']]);
    expect(parentOf(made, 'open /data/a.md')).toBe(spanHex('9'));
  });

  test('an inner span of an ancestor arriving before the match settles takes a child process\'s event', async () => {
    const { p, made, advance } = setup();
    const CHILD = { pid: 101, ppid: AGENT.pid, comm: 'python3' };
    await p.logs.consume(kernelEvents(CHILD, [{ kind: 'open', ms: 1500, attributes: { [ATTR.filePath]: '/data/c.md' } }]));
    await p.traces.consume(spans('agent', AGENT.pid, [{ trace: 'b1', id: '1', name: 'agent.run', from: 0, to: 9000 }]));
    await p.tick();
    advance(500);
    await p.traces.consume(TOOL_SPAN);
    await p.tick();
    advance(1000);
    await p.tick();
    const process = made.find((s) => s.name.startsWith('process '))!;
    expect(Buffer.from(process.parentSpanId!).toString('hex')).toBe(spanHex('9'));
    expect(findAttr(made.find((s) => s.name === 'open /data/c.md')!.attributes, ATTR.correlationKey)).toBe('process_tree');
  });

  test('a matched span that left the index (its bound) is not taken: the event is matched again', async () => {
    const { p, made, advance } = setup(1);
    await p.logs.consume(kernelEvents(AGENT, [{ kind: 'open', ms: 1500, attributes: { [ATTR.filePath]: '/data/a.md' } }]));
    await p.traces.consume(TOOL_SPAN);
    await p.tick(); // matched to run_tool, not settled
    // Another process's span takes the index's one row: the event's process is not touched.
    await p.traces.consume(spans('other', 555, [{ trace: 'c1', id: '5', name: 'other', from: 0, to: 9000 }]));
    advance(1000);
    await p.tick();
    expect(made).toHaveLength(0);
    advance(30_000);
    await p.tick();
    expect(made.map((s) => [s.name, findAttr(s.attributes, ATTR.correlationKey)])).toEqual([
      ['process activity node (pid 100)', 'unmatched'],
      ['open /data/a.md', 'unmatched'],
    ]);
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
