import { beforeEach, describe, expect, test } from 'vitest';
import type { Consumers } from '../../pipeline/consumer.js';
import { attr, bigIntToLong, findAttr, int64ToBigInt } from '../../pipeline/otlp/attributes.js';
import type { LogsData, Span, TracesData } from '../../pipeline/otlp/types.js';
import { silentLogger } from '../../pipeline/telemetry/logger.js';
import { Metrics } from '../../pipeline/telemetry/metrics.js';
import { ATTR, KERNEL_SCOPE } from '../../pipeline/semconv.js';
import { createDefaultConfig, type CorrelateConfig } from './config.js';
import { CorrelateProcessor } from './correlate-processor.js';
import { at, kernelEvents, spanHex, spans, T0, traceHex } from './testdata/builders.js';

const AGENT = { pid: 100, ppid: 1, comm: 'node', exe: '/usr/bin/node', args: ['node', 'agent.mjs'] };
const MCP = { pid: 200, ppid: 150, comm: 'node', exe: '/usr/bin/node', args: ['node', 'server-filesystem', '/data'] };
const NPX = { pid: 150, ppid: 100, comm: 'npx', exe: '/usr/bin/npx' };

/** The agent's trace: agent.run > LLM call (with its undici HTTP span beside it) > tool call. */
const AGENT_TRACE = spans('support-agent', AGENT.pid, [
  { trace: 'a1', id: '1', name: 'agent.run', from: 0, to: 5000 },
  { trace: 'a1', id: '2', parent: '1', name: 'ChatOpenAI', from: 100, to: 900, attributes: { 'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4o' } },
  { trace: 'a1', id: '3', parent: '1', name: 'POST', kind: 3, from: 120, to: 880, attributes: { 'http.request.method': 'POST', 'server.address': 'localhost', 'server.port': 8080 } },
  { trace: 'a1', id: '4', parent: '1', name: 'read_file', from: 1000, to: 2000, attributes: { 'openinference.span.kind': 'TOOL', 'tool.name': 'read_file' } },
]);

class Collect {
  traces: TracesData[] = [];
  logs: LogsData[] = [];
  consumers: Consumers = {
    traces: { consume: async (d) => void this.traces.push(d) },
    logs: { consume: async (d) => void this.logs.push(d) },
  };
  /** Spans this processor made (scope aibom.correlate), flattened with their resource. */
  made(): (Span & { resource: Record<string, unknown> })[] {
    return this.traces.flatMap((t) =>
      t.resourceSpans.flatMap((rs) =>
        rs.scopeSpans
          .filter((ss) => ss.scope?.name === 'aibom.correlate')
          .flatMap((ss) => ss.spans.map((s) => ({ ...s, resource: Object.fromEntries((rs.resource?.attributes ?? []).map((kv) => [kv.key, findAttr([kv], kv.key)])) }))),
      ),
    );
  }
}

const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');
const key = (s: Span) => findAttr(s.attributes, ATTR.correlationKey);

describe('correlate processor', () => {
  let clock: number;
  let out: Collect;
  let metrics: Metrics;
  let p: CorrelateProcessor;
  const make = (over: Partial<CorrelateConfig> = {}) => {
    metrics = new Metrics();
    p = new CorrelateProcessor({ id: 'correlate', name: '', logger: silentLogger(), metrics }, { ...createDefaultConfig(), ...over }, out.consumers, () => clock);
  };

  beforeEach(() => {
    clock = Number(T0);
    out = new Collect();
    make();
  });

  test("the sensor's gap record goes on to the logs pipeline; kernel events do not (they become spans)", async () => {
    const gap: LogsData = {
      resourceLogs: [
        {
          resource: { attributes: [attr(ATTR.serviceName, 'aibom-sensor')] },
          scopeLogs: [{ scope: { name: KERNEL_SCOPE }, logRecords: [{ eventName: 'aibom.sensor.gap', severityNumber: 13, timeUnixNano: bigIntToLong(at(1)), attributes: [] }] }],
        },
      ],
    };
    await p.logs.consume(gap);
    await p.logs.consume(kernelEvents(AGENT, [{ kind: 'open', ms: 1500, attributes: { [ATTR.filePath]: '/etc/hosts' } }]));
    expect(out.logs).toEqual([gap]);
  });

  test('spans pass through at once and unchanged', async () => {
    await p.traces.consume(AGENT_TRACE);
    expect(out.traces).toEqual([AGENT_TRACE]);
  });

  test('a trace arriving 10 s after its kernel events still gets them, under the innermost span of the process', async () => {
    clock = Number(T0) + 1500;
    await p.logs.consume(kernelEvents(AGENT, [{ kind: 'open', ms: 1500, attributes: { [ATTR.filePath]: '/etc/hosts' } }]));
    clock += 10_000;
    await p.traces.consume(AGENT_TRACE);
    await p.tick();
    expect(out.made()).toHaveLength(0); // the span has not settled yet
    clock += 1000;
    await p.tick();
    const [open] = out.made();
    expect(open!.name).toBe('open /etc/hosts');
    expect(hex(open!.parentSpanId)).toBe(spanHex('4'));
    expect(hex(open!.traceId)).toBe(traceHex('a1'));
    expect(key(open!)).toBe('pid_time');
    expect(int64ToBigInt(open!.startTimeUnixNano)).toBe(at(1500));
    expect(out.logs).toHaveLength(0); // kernel events become spans; not forwarded unless asked
  });

  test('a traceparent on the wire names the HTTP span; the event goes under the LLM call it served', async () => {
    await p.traces.consume(AGENT_TRACE);
    await p.logs.consume(
      kernelEvents(AGENT, [
        { kind: 'http', ms: 130, attributes: { [ATTR.httpRequestMethod]: 'POST', [ATTR.urlPath]: '/v1/chat/completions', [ATTR.serverAddress]: 'localhost', [ATTR.wireTraceparent]: `00-${traceHex('a1')}-${spanHex('3')}-01` } },
        { kind: 'connect', ms: 125, attributes: { [ATTR.networkPeerAddress]: '127.0.0.1', [ATTR.networkPeerPort]: 8080 } },
      ]),
    );
    clock += 2000;
    await p.tick();
    const made = out.made();
    const http = made.find((s) => s.name.startsWith('http'))!;
    const connect = made.find((s) => s.name.startsWith('connect'))!;
    expect(http.name).toBe('http POST localhost/v1/chat/completions');
    expect(hex(http.parentSpanId)).toBe(spanHex('2'));
    expect(key(http)).toBe('traceparent');
    expect(connect.name).toBe('connect 127.0.0.1:8080');
    expect(hex(connect.parentSpanId)).toBe(spanHex('2'));
    expect(key(connect)).toBe('socket_tuple');
  });

  test('an MCP server started through npx: its file open goes under the tool call, inside a span for its process', async () => {
    await p.logs.consume(kernelEvents(AGENT, [{ kind: 'fork', ms: 50, attributes: { [ATTR.processChildPid]: NPX.pid } }]));
    await p.logs.consume(kernelEvents(NPX, [{ kind: 'fork', ms: 60, attributes: { [ATTR.processChildPid]: MCP.pid } }]));
    await p.logs.consume(kernelEvents(MCP, [{ kind: 'open', ms: 1200, attributes: { [ATTR.filePath]: '/data/customers.csv' } }]));
    await p.traces.consume(AGENT_TRACE);
    clock += 2000;
    await p.tick();
    const made = out.made();
    const open = made.find((s) => s.name === 'open /data/customers.csv')!;
    const proc = made.find((s) => hex(s.spanId) === hex(open.parentSpanId))!;
    expect(proc.name).toBe('process node (pid 200)');
    expect(findAttr(proc.attributes, ATTR.processCommandArgs)).toEqual(['node', 'server-filesystem', '/data']);
    expect(hex(proc.parentSpanId)).toBe(spanHex('4'));
    expect(key(open)).toBe('process_tree');
    expect(proc.resource[ATTR.serviceName]).toBe('support-agent');
    expect(proc.resource[ATTR.processPid]).toBe(200);
  });

  test('a request of more spans than the index reads at once: spans past the first chunk are found by traceparent, pid and time, and ancestor', async () => {
    // 150 spans of the agent (the index reads 64 at a time), 5 ms each, 10 ms apart: span i (id i + 1, hex) from 10 i to 10 i + 5.
    const specs = Array.from({ length: 150 }, (_, i) => ({ trace: 'e1', id: (i + 1).toString(16), name: `step ${i}`, from: 10 * i, to: 10 * i + 5 }));
    await p.traces.consume(spans('support-agent', AGENT.pid, specs));
    await p.logs.consume(
      kernelEvents(AGENT, [
        // Inside span 70, but the traceparent names span 130.
        { kind: 'http', ms: 702, attributes: { [ATTR.httpRequestMethod]: 'POST', [ATTR.urlPath]: '/v1', [ATTR.serverAddress]: 'localhost', [ATTR.wireTraceparent]: `00-${traceHex('e1')}-${spanHex('83')}-01` } },
        { kind: 'open', ms: 1002, attributes: { [ATTR.filePath]: '/x' } },
      ]),
    );
    await p.logs.consume(kernelEvents({ ...MCP, ppid: AGENT.pid }, [{ kind: 'open', ms: 1402, attributes: { [ATTR.filePath]: '/y' } }]));
    clock += 2000;
    await p.tick();
    const made = out.made();
    const http = made.find((s) => s.name.startsWith('http'))!;
    expect([hex(http.parentSpanId), key(http)]).toEqual([spanHex('83'), 'traceparent']);
    const x = made.find((s) => s.name === 'open /x')!;
    expect([hex(x.parentSpanId), key(x)]).toEqual([spanHex('65'), 'pid_time']);
    const y = made.find((s) => s.name === 'open /y')!;
    const proc = made.find((s) => hex(s.spanId) === hex(y.parentSpanId))!;
    expect([proc.name, hex(proc.parentSpanId), key(y)]).toEqual(['process node (pid 200)', spanHex('8d'), 'process_tree']);
  });

  test('repeats are aggregated: one span per distinct action, with the count', async () => {
    await p.traces.consume(AGENT_TRACE);
    const opens = Array.from({ length: 50 }, (_, i) => ({ kind: 'open' as const, ms: 1100 + i, attributes: { [ATTR.filePath]: '/data/faq.md', [ATTR.kernelRepeat]: i === 0 ? 9 : undefined } }));
    await p.logs.consume(kernelEvents(AGENT, opens));
    clock += 2000;
    await p.tick();
    const made = out.made();
    expect(made).toHaveLength(1);
    expect(findAttr(made[0]!.attributes, ATTR.kernelCount)).toBe(59);
    expect(int64ToBigInt(made[0]!.endTimeUnixNano) - int64ToBigInt(made[0]!.startTimeUnixNano)).toBe(49_000_000n);
  });

  test('events no span claims within the window become activity of their process, in a trace of their own', async () => {
    await p.logs.consume(kernelEvents(MCP, [{ kind: 'connect', ms: 10, attributes: { [ATTR.networkPeerAddress]: '10.0.0.9', [ATTR.networkPeerPort]: 443 } }]));
    clock += 29_000;
    await p.tick();
    expect(out.made()).toHaveLength(0);
    clock += 1_000;
    await p.tick();
    const made = out.made();
    const root = made.find((s) => s.parentSpanId?.length === 0)!;
    expect(root.name).toBe('process activity node (pid 200)');
    expect(made.find((s) => s.name === 'connect 10.0.0.9:443')!.parentSpanId).toEqual(root.spanId);
    expect(await metrics.value(metrics.registry.getSingleMetric('aibom_correlate_events_total') as never, { key: 'unmatched' })).toBe(1);
  });

  test('a flood of unmatched events stays within the bound; every event is still emitted and counted', async () => {
    make({ maxBufferedEvents: 100 });
    for (let i = 0; i < 10; i++) {
      await p.logs.consume(kernelEvents(MCP, Array.from({ length: 100 }, (_, j) => ({ kind: 'open' as const, ms: i * 100 + j, attributes: { [ATTR.filePath]: `/tmp/f${i}-${j}` } }))));
    }
    expect(await metrics.value(metrics.registry.getSingleMetric('aibom_correlate_held_events') as never, {})).toBe(100);
    await p.shutdown();
    const placed = await metrics.value(metrics.registry.getSingleMetric('aibom_correlate_events_total') as never, {});
    expect(placed).toBe(1000);
    expect(await metrics.value(metrics.registry.getSingleMetric('aibom_correlate_evicted_events_total') as never, {})).toBe(900);
    // Folded per directory and round, every open is still accounted for in a span's count.
    const opens = out.made().filter((s) => s.name.startsWith('open '));
    expect(opens.reduce((n, s) => n + Number(findAttr(s.attributes, ATTR.kernelCount)), 0)).toBe(1000);
  });

  test('other log records pass through; kernel events too when asked', async () => {
    make({ forwardKernelEvents: true });
    const app: LogsData = { resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ scope: { name: 'app' }, logRecords: [{ body: { stringValue: 'hello' } }] }] }] };
    await p.logs.consume(app);
    await p.logs.consume(kernelEvents(AGENT, [{ kind: 'open', ms: 1, attributes: { [ATTR.filePath]: '/x' } }]));
    expect(out.logs).toHaveLength(2);
    expect(out.logs[0]).toEqual(app);
  });

  test('records in the kernel scope that are not kernel events pass on; the events themselves are held', async () => {
    const data = kernelEvents(AGENT, [{ kind: 'open', ms: 1, attributes: { [ATTR.filePath]: '/x' } }]);
    const notice = { eventName: 'aibom.sensor.notice', body: { stringValue: 'not a kernel event' } };
    data.resourceLogs[0]!.scopeLogs[0]!.logRecords.push(notice);
    await p.logs.consume(data);
    expect(out.logs.flatMap((d) => d.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)))).toEqual([notice]);
  });
});

describe('clock tolerance', () => {
  test('an event inside a tool call stays there even when the next LLM call starts within the tolerance', async () => {
    const out = new Collect();
    const p = new CorrelateProcessor({ id: 'c', name: '', logger: silentLogger(), metrics: new Metrics() }, { ...createDefaultConfig(), clockSkewMs: 10 }, out.consumers, () => Number(T0) + 5000);
    await p.traces.consume(
      spans('agent', AGENT.pid, [
        { trace: 'b1', id: '1', name: 'http_post', from: 100, to: 105, attributes: { 'openinference.span.kind': 'TOOL', 'tool.name': 'http_post' } },
        { trace: 'b1', id: '2', name: 'ChatOpenAI', from: 110, to: 200, attributes: { 'openinference.span.kind': 'LLM' } },
      ]),
    );
    await p.logs.consume(kernelEvents(AGENT, [{ kind: 'open', ms: 103, attributes: { [ATTR.filePath]: '/x' } }, { kind: 'open', ms: 107, attributes: { [ATTR.filePath]: '/y' } }]));
    await p.shutdown();
    const made = out.made();
    expect(hex(made.find((s) => s.name === 'open /x')!.parentSpanId)).toBe(spanHex('1'));
    // Between the two spans: the tolerance decides, and the latest start wins.
    expect(hex(made.find((s) => s.name === 'open /y')!.parentSpanId)).toBe(spanHex('2'));
  });

  test('an event just after a span ended waits for a span that contains it: the tool span an SDK exports later', async () => {
    const out = new Collect();
    let now = Number(T0) + 1000;
    const config = { ...createDefaultConfig(), clockSkewMs: 10 };
    const p = new CorrelateProcessor({ id: 'c', name: '', logger: silentLogger(), metrics: new Metrics() }, config, out.consumers, () => now);
    // The LLM call ended at 200; 3 ms later the tool it asked for spawned the MCP server (a child of the agent).
    await p.traces.consume(spans('agent', AGENT.pid, [{ trace: 'c1', id: '1', name: 'ChatOpenAI', from: 100, to: 200, attributes: { 'openinference.span.kind': 'LLM' } }]));
    await p.logs.consume(kernelEvents({ ...MCP, ppid: AGENT.pid }, [{ kind: 'exec', ms: 203 }]));
    now += 5 * config.settleMs;
    await p.tick();
    expect(out.made(), 'placed before the span that contains it arrived').toEqual([]);
    // The tool span arrives with the SDK's next export.
    await p.traces.consume(spans('agent', AGENT.pid, [{ trace: 'c1', id: '2', name: 'read_file', from: 202, to: 900, attributes: { 'openinference.span.kind': 'TOOL', 'tool.name': 'read_file' } }]));
    now += 2 * config.settleMs;
    await p.tick();
    expect(out.made().map((s) => [s.name, hex(s.parentSpanId), key(s)])).toEqual([[expect.stringContaining('exec'), spanHex('2'), 'process_tree']]);
  });

  test('with no span containing it for half the window, the one within the tolerance is taken', async () => {
    const out = new Collect();
    let now = Number(T0) + 1000;
    const config = { ...createDefaultConfig(), clockSkewMs: 10 };
    const p = new CorrelateProcessor({ id: 'c', name: '', logger: silentLogger(), metrics: new Metrics() }, config, out.consumers, () => now);
    await p.traces.consume(spans('agent', AGENT.pid, [{ trace: 'd1', id: '1', name: 'ChatOpenAI', from: 100, to: 200, attributes: { 'openinference.span.kind': 'LLM' } }]));
    await p.logs.consume(kernelEvents(AGENT, [{ kind: 'open', ms: 205, attributes: { [ATTR.filePath]: '/z' } }]));
    now += config.windowMs / 2 - 1000;
    await p.tick();
    expect(out.made()).toEqual([]);
    now += 2000;
    await p.tick();
    expect(out.made().map((s) => [s.name, hex(s.parentSpanId), key(s)])).toEqual([['open /z', spanHex('1'), 'pid_time']]);
  });
});

