import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AdminRoutes } from '../../pipeline/admin-routes.js';
import { ConfigErrors, Section } from '../../pipeline/config/section.js';
import { createHost } from '../../pipeline/host.js';
import { fromAnyValue } from '../../pipeline/otlp/attributes.js';
import { asReceived, decodedSpans } from '../../pipeline/otlp/testdata/received.js';
import type { LogRecord, TracesData } from '../../pipeline/otlp/types.js';
import { silentLogger } from '../../pipeline/telemetry/logger.js';
import { PipelineSink } from '../../pipeline/testdata/pipeline-sink.js';
import { Metrics } from '../../pipeline/telemetry/metrics.js';
import { entityId } from '../aibom/entity.js';
import { BaselineProcessor } from './baseline-processor.js';
import { createDefaultConfig, readConfig, type BaselineConfig } from './config.js';
import { FileSet, normalizePath } from './file-set.js';
import { SizeStats } from './robust-stats.js';
import { dataShapedLabel } from './rules/index.js';
import { BaselineStoreError } from './store.js';
import { kernel, llm, root, tool, trace, type TestSpan } from './testdata/traces.js';
import { parsePythonLiteral, toolArguments } from './tool-arguments.js';

const attrsOf = (r: { attributes?: LogRecord['attributes'] }) => Object.fromEntries((r.attributes ?? []).map((kv) => [kv.key, fromAnyValue(kv.value)])) as Record<string, any>;
const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');

/** A processor on a hand-driven clock: `run` consumes a trace and lets it settle. */
async function make(config: Partial<BaselineConfig> = {}, routes = new AdminRoutes(), received = false) {
  let clock = 1_000_000;
  const sink = new PipelineSink();
  const metrics = new Metrics();
  const c = { ...createDefaultConfig(), settleMs: 100, learning: { durationMs: 0, minObservations: 1_000_000 }, ...config };
  const p = new BaselineProcessor({ id: 'baseline', name: '', logger: silentLogger(), metrics, build: { version: '1.2.3' } }, c, sink.consumers, () => clock);
  await p.start(createHost(undefined, routes));
  let n = 0;
  /** What was fed, as the OTLP receiver hands it on when `received` (spans still bytes). */
  const fed: TracesData[] = [];
  const run = async (spans: TestSpan[], resource = {}) => {
    const traceId = (++n).toString(16).padStart(32, 'a');
    const data = received ? asReceived(trace(traceId, spans, resource)) : trace(traceId, spans, resource);
    fed.push(data);
    await p.traces.consume(data);
    clock += c.settleMs;
    await p.tick();
    return traceId;
  };
  const freeze = async () => {
    const r = await routes.get('/v1/baselines/freeze', 'POST')!(new URLSearchParams(), { method: 'POST', params: {} });
    expect(r.status).toBe(200);
  };
  const deviations = (): Record<string, any>[] => sink.records().map((r) => ({ traceId: hex(r.traceId), spanId: hex(r.spanId), ...attrsOf(r) }));
  return { p, sink, metrics, run, freeze, deviations, routes, fed, advance: (ms: number) => (clock += ms) };
}

/** A normal run: the LLM chooses search_kb, which reaches the kb; sometimes the MCP server reads faq.md. */
function normal(i: number): TestSpan[] {
  return [
    root,
    llm('b1', 1, 'gpt-4o-mini', `How do I reset my password, take ${i}?`),
    tool('c1', 10, 'search_kb', { query: `reset password ${i}`, collection: 'faq', top_k: 3 }),
    kernel('d1', 'c1', 'connect', { 'network.peer.address': '127.0.0.1', 'network.peer.port': 8081 }),
    kernel('d2', 'c1', 'http', { 'network.peer.address': '127.0.0.1', 'network.peer.port': 8081, 'url.path': '/search', 'http.request.body.size': 60 + (i % 7) }),
    tool('c2', 20, 'read_text_file', { path: 'faq.md' }),
    kernel('e1', 'c2', 'process', { 'process.executable.path': '/usr/bin/node', 'process.command_args': ['/usr/bin/node', '/srv/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js', '/srv/data'] }),
    kernel('e2', 'e1', 'open', { 'file.path': `/srv/data/faq.md`, 'aibom.file.result': 17 }),
    kernel('e3', 'e1', 'open', { 'file.path': `/srv/node_modules/x/index.js`, 'aibom.file.result': 17 }),
  ];
}

async function learned(config: Partial<BaselineConfig> = {}, received = false) {
  const t = await make(config, new AdminRoutes(), received);
  for (let i = 0; i < 20; i++) await t.run(normal(i));
  await t.freeze();
  return t;
}

describe('baseline rules', () => {
  it('stays quiet on normal runs after learning, and counts what it did not judge while learning', async () => {
    const t = await learned();
    for (let i = 20; i < 40; i++) await t.run(normal(i));
    expect(t.deviations()).toEqual([]);
    expect(await t.metrics.value(t.metrics.counter('aibom_baseline_quiet_total', '', ['component', 'rule', 'reason']), { reason: 'learning' })).toBeGreaterThan(0);
  });

  it('tool-argument-anomaly: a new value of a low-cardinality argument and a number beyond the learned range, on the tool span with the chain', async () => {
    const t = await learned();
    const spans = normal(99);
    spans[2] = tool('c1', 10, 'search_kb', { query: '*', collection: 'customers', top_k: 100 });
    const traceId = await t.run(spans);
    const d = t.deviations().filter((x) => x['aibom.deviation.rule'] === 'tool-argument-anomaly');
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ traceId, spanId: '00000000000000c1', 'aibom.deviation.component.id': entityId('tool', { 'gen_ai.tool.name': 'search_kb' }), 'security_rule.category': 'misuse' });
    expect(d[0]!['aibom.deviation.observed']).toBe('collection=customers; top_k=100');
    expect(d[0]!['aibom.deviation.fact']).toContain('collection: faq');
    expect(d[0]!['aibom.chain.prompt']).toBe('How do I reset my password, take 99?');
    expect(d[0]!['aibom.chain.llm.span_id']).toBe('00000000000000b1');
    expect(d[0]!['aibom.chain.tool.arguments']).toContain('customers');
    // The child span in the trace, under the causing span.
    const span = t.sink.spans('aibom.baseline').find((s) => s.name === 'deviation tool-argument-anomaly')!;
    expect(hex(span.parentSpanId)).toBe('00000000000000c1');
    expect(hex(span.traceId)).toBe(traceId);
  });

  it('tool-argument-anomaly: an argument far longer than learned (median/MAD and largest learned)', async () => {
    const t = await learned();
    const spans = normal(1);
    spans[2] = tool('c1', 10, 'search_kb', { query: 'x'.repeat(5000), collection: 'faq', top_k: 3 });
    await t.run(spans);
    expect(t.deviations().map((d) => d['aibom.deviation.observed'])).toEqual(['query is 5000 characters']);
  });

  it('free text seen a few times with all-different values is not a low-cardinality argument', async () => {
    const t = await make();
    for (let i = 0; i < 4; i++) await t.run([root, llm('b1', 1), tool('c4', 10, 'http_post', { path: '/tickets', body: `please call me about order ${i}` })]);
    await t.freeze();
    await t.run([root, llm('b1', 1), tool('c4', 10, 'http_post', { path: '/tickets', body: 'please call me about my refund' })]);
    expect(t.deviations()).toEqual([]);
    await t.run([root, llm('b1', 1), tool('c4', 10, 'http_post', { path: '/export', body: 'x' })]);
    expect(t.deviations().map((d) => d['aibom.deviation.observed'])).toEqual(['path=/export']);
  });

  it('a kernel fact its agent learned under another component is no deviation (placement varies between runs)', async () => {
    const t = await learned();
    const spans = normal(1);
    spans[6] = kernel('e1', 'c2', 'connect', { 'network.peer.address': '127.0.0.1', 'network.peer.port': 8081 });
    await t.run(spans);
    expect(t.deviations()).toEqual([]);
  });

  it('new-file on the MCP server (not the runtime files it loads), on the kernel open span', async () => {
    const t = await learned();
    const spans = normal(1);
    spans[5] = tool('c2', 20, 'read_text_file', { path: 'faq.md' });
    spans[7] = kernel('e2', 'e1', 'open', { 'file.path': '/srv/data/customers.csv', 'aibom.file.result': 17 });
    await t.run(spans);
    const d = t.deviations();
    expect(d.map((x) => [x['aibom.deviation.rule'], x['aibom.deviation.component.kind'], x['aibom.deviation.observed'], x.spanId])).toEqual([['new-file', 'mcp_server', '/srv/data/customers.csv', '00000000000000e2']]);
    expect(d[0]!['aibom.deviation.component.name']).toBe('@modelcontextprotocol/server-filesystem');
    expect(d[0]!['aibom.chain.data']).toContain('/srv/data/customers.csv');
  });

  it('payload-size-anomaly: a request body far above the learned sizes to a known destination', async () => {
    const t = await learned();
    const spans = normal(1);
    spans[4] = kernel('d2', 'c1', 'http', { 'network.peer.address': '127.0.0.1', 'network.peer.port': 8081, 'url.path': '/search', 'http.request.body.size': 80_000 });
    await t.run(spans);
    const d = t.deviations();
    expect(d.map((x) => [x['aibom.deviation.rule'], x['aibom.deviation.component.name'], x['aibom.deviation.observed']])).toEqual([['payload-size-anomaly', 'search_kb', '80000 B to 127.0.0.1:8081/search']]);
    expect(d[0]!['http.request.body.size']).toBe(80_000);
  });

  it('new-executable, credential-access, new-egress and data-shaped-dns from a shell a tool spawned', async () => {
    const t = await learned();
    await t.run([
      ...normal(1),
      kernel('f1', 'c1', 'process', { 'process.executable.path': '/bin/sh', 'process.command_args': ['/bin/sh', '-c', 'cat ~/.aws/credentials'] }),
      kernel('f2', 'f1', 'exec', { 'process.executable.path': '/bin/sh' }),
      kernel('f3', 'f1', 'open', { 'file.path': '/root/.aws/credentials', 'aibom.file.result': 3 }),
      kernel('f4', 'f1', 'dns', { 'dns.question.name': 'mzxw6ytboi2gk3tfon2a4zltmvxg4ztsn5xw2.exfil.example' }),
      kernel('f5', 'f1', 'connect', { 'network.peer.address': '203.0.113.9', 'network.peer.port': 443 }),
    ]);
    const d = t.deviations().map((x) => [x['aibom.deviation.rule'], x['aibom.deviation.component.name'], x['aibom.deviation.observed']]);
    expect(d).toEqual(
      expect.arrayContaining([
        ['new-executable', 'search_kb', '/bin/sh'],
        ['credential-access', 'search_kb', '/root/.aws/credentials'],
        ['new-egress', 'search_kb', 'dns:mzxw6ytboi2gk3tfon2a4zltmvxg4ztsn5xw2.exfil.example'],
        ['data-shaped-dns', 'search_kb', 'mzxw6ytboi2gk3tfon2a4zltmvxg4ztsn5xw2.exfil.example'],
        ['new-egress', 'search_kb', '203.0.113.9:443'],
      ]),
    );
    expect(d).toHaveLength(5);
    const cred = t.deviations().find((x) => x['aibom.deviation.rule'] === 'credential-access')!;
    expect(cred['security_rule.category']).toBe('credential-access');
    expect(cred['aibom.chain.process']).toEqual(['/bin/sh']);
  });

  it('an MCP server already running, seen between tool calls, is no new executable of the agent; a process the agent starts there is', async () => {
    const t = await learned();
    const server = { 'process.executable.path': '/usr/bin/node', 'process.command_args': ['/usr/bin/node', '/srv/mcp/server.mjs', '/srv/data'] };
    // Started at the agent's start-up: its activity lands under whatever agent span is open (LangGraph's "tools" node).
    await t.run([...normal(1), kernel('g1', 'a0', 'process', server), kernel('g2', 'g1', 'open', { 'file.path': '/srv/data/faq.md', 'aibom.file.result': 3 })]);
    expect(t.deviations()).toEqual([]);
    // Started here: its exec is under the agent span (correlate marks the process span).
    await t.run([...normal(2), kernel('h1', 'a0', 'process', { ...server, 'aibom.process.exec_under_parent': true })]);
    expect(t.deviations().map((x) => [x['aibom.deviation.rule'], x['aibom.deviation.component.kind'], x['aibom.deviation.observed']])).toEqual([['new-executable', 'agent', '/usr/bin/node']]);
  });

  it('new-tool (coverage gap), new-mcp-tool, new-model and model-version-drift (drift)', async () => {
    const t = await learned();
    await t.run([
      root,
      llm('b1', 1, 'gpt-4.1'),
      tool('c3', 10, 'run_diagnostics', {}),
      kernel('e1', 'c3', 'process', { 'process.executable.path': '/usr/bin/node', 'process.command_args': ['/usr/bin/node', '/srv/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js', '/srv/data'] }),
    ]);
    const d = t.deviations().map((x) => [x['aibom.deviation.rule'], x['aibom.deviation.component.kind'], x['aibom.deviation.observed']]);
    expect(d).toEqual(
      expect.arrayContaining([
        ['new-model', 'agent', 'gpt-4.1'],
        ['new-tool', 'agent', 'run_diagnostics'],
        ['new-mcp-tool', 'mcp_server', 'run_diagnostics'],
      ]),
    );
    // A model profile that learned one version sees another answer as drift.
    const m = await make();
    await m.run([root, { ...llm('b1', 1), attributes: { ...llm('b1', 1).attributes, 'llm.invocation_parameters': '{"model":"gpt-4o-mini"}' } }]);
    await m.freeze();
    await m.run([root, { ...llm('b1', 1), attributes: { ...llm('b1', 1).attributes, 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.response.model': 'gpt-4o-mini-2025-01-01' } }]);
    expect(m.deviations().map((x) => [x['aibom.deviation.rule'], x['aibom.deviation.observed']])).toEqual([['model-version-drift', 'gpt-4o-mini-2025-01-01']]);
  });

  it('kernel rules stay quiet for a partial profile (process not watched from its start), and say so', async () => {
    const t = await make();
    for (let i = 0; i < 5; i++) await t.run(normal(i), { 'aibom.monitor.coverage': 'partial', 'aibom.monitor.partial_reason': 'started_before_sensor' });
    await t.freeze();
    const spans = normal(1);
    spans[7] = kernel('e2', 'e1', 'open', { 'file.path': '/srv/data/customers.csv', 'aibom.file.result': 17 });
    await t.run(spans, { 'aibom.monitor.coverage': 'partial', 'aibom.monitor.partial_reason': 'started_before_sensor' });
    expect(t.deviations()).toEqual([]);
    const list = JSON.parse((await t.routes.get('/v1/baselines')!(new URLSearchParams(), { method: 'GET', params: {} })).body) as { profiles: { component: { kind: string }; completeness: string; partialReason?: string }[] };
    expect(list.profiles.find((p) => p.component.kind === 'mcp_server')).toMatchObject({ completeness: 'partial', partialReason: 'started_before_sensor' });
    expect(await t.metrics.value(t.metrics.counter('aibom_baseline_quiet_total', '', ['component', 'rule', 'reason']), { reason: 'partial', rule: 'new-file' })).toBeGreaterThan(0);
  });

  it('learning ends by itself after learning.duration and min_observations (state ready)', async () => {
    const t = await make({ learning: { durationMs: 60_000, minObservations: 10 } });
    for (let i = 0; i < 10; i++) await t.run(normal(i));
    t.advance(60_000);
    await t.run(normal(1));
    const spans = normal(2);
    spans[2] = tool('c1', 10, 'search_kb', { query: 'q', collection: 'customers', top_k: 3 });
    await t.run(spans);
    expect(t.deviations().map((d) => d['aibom.deviation.rule'])).toEqual(['tool-argument-anomaly']);
  });

  it('the chain prompt from GenAI gen_ai.input.messages (OpenLLMetry 0.62)', async () => {
    const t = await learned();
    const genai = { id: 'b1', parent: 'a0', name: 'ChatOpenAI.chat', ms: 1, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.input.messages': JSON.stringify([{ role: 'system', parts: [{ type: 'text', content: 'You help.' }] }, { role: 'user', parts: [{ type: 'text', content: 'I need help with my warranty claim' }] }]) } };
    await t.run([root, genai, tool('c1', 10, 'search_kb', { query: 'q', collection: 'customers', top_k: 3 })]);
    expect(t.deviations().find((d) => d['aibom.deviation.rule'] === 'tool-argument-anomaly')!['aibom.chain.prompt']).toBe('I need help with my warranty claim');
  });

  it("the chain prompt is the earliest LLM span's, whatever order they arrive in (later ones are not read)", async () => {
    const t = await learned();
    await t.run([root, llm('b2', 5, 'gpt-4o-mini', 'a later question'), llm('b1', 1, 'gpt-4o-mini', 'the first question'), llm('b3', 8, 'gpt-4o-mini', 'a third question'), tool('c1', 10, 'search_kb', { query: 'q', collection: 'customers', top_k: 3 })]);
    expect(t.deviations().find((d) => d['aibom.deviation.rule'] === 'tool-argument-anomaly')!['aibom.chain.prompt']).toBe('the first question');
  });

  it('dedupes the same deviation and counts it', async () => {
    const t = await learned();
    const spans = normal(1);
    spans[2] = tool('c1', 10, 'search_kb', { query: 'q', collection: 'customers', top_k: 3 });
    await t.run(spans);
    await t.run(spans);
    expect(t.deviations()).toHaveLength(1);
    expect(await t.metrics.value(t.metrics.counter('aibom_baseline_deviations_suppressed_total', '', ['component', 'rule', 'reason']), { reason: 'duplicate' })).toBe(1);
  });

  it('kernel spans arriving after the trace was evaluated are still judged with their parents', async () => {
    const t = await learned();
    const spans = normal(1);
    const agentOnly = spans.filter((s) => !s.kernel);
    const traceId = await t.run(agentOnly);
    await t.p.traces.consume(trace(traceId, [kernel('e9', 'c2', 'open', { 'file.path': '/srv/secret/plans.txt', 'aibom.file.result': 3 })]));
    t.advance(100);
    await t.p.tick();
    expect(t.deviations().map((d) => [d['aibom.deviation.rule'], d['aibom.deviation.component.name'], d.traceId])).toEqual([['new-file', 'read_text_file', traceId]]);
  });

  it('spans whose trace id is not 16 bytes or all zero are passed on, not evaluated, and counted', async () => {
    const t = await learned();
    const spans = normal(1);
    spans[2] = tool('c1', 10, 'search_kb', { query: 'q', collection: 'customers', top_k: 3 });
    // Every span of a normal run is one the baseline records (agent, LLM, tool and kernel spans).
    const records = spans.length;
    for (const bad of [Buffer.alloc(8, 1), Buffer.alloc(16), Buffer.alloc(0)]) {
      const data = trace('ff', spans);
      for (const rs of data.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) s.traceId = bad;
      await t.p.traces.consume(data);
      expect(t.sink.traces.at(-1)).toBe(data);
    }
    t.advance(1000);
    await t.p.tick();
    expect(t.deviations()).toEqual([]);
    expect(await t.metrics.value(t.metrics.counter('aibom_baseline_unevaluated_spans_total', '', ['component', 'reason']), { reason: 'invalid_trace_id' })).toBe(3 * records);
    // The same spans under a valid trace id are judged.
    await t.run(spans);
    expect(t.deviations().map((d) => d['aibom.deviation.rule'])).toEqual(['tool-argument-anomaly']);
  });
});

describe('baseline on received spans (bytes, pipeline/otlp/wire-span.ts)', () => {
  it('the same deviations as on decoded spans (prompts, arguments, kernel facts, coverage), and no span decoded to read them', async () => {
    const partial = { 'aibom.monitor.coverage': 'partial', 'aibom.monitor.partial_reason': 'started_before_sensor' };
    const genai = { id: 'b1', parent: 'a0', name: 'ChatOpenAI.chat', ms: 1, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'warranty' }] }]) } };
    const runs = [];
    for (const received of [false, true]) {
      const t = await learned({}, received);
      const spans = normal(99);
      spans[2] = tool('c1', 10, 'search_kb', { query: '*', collection: 'customers', top_k: 100 });
      await t.run([
        ...spans,
        kernel('f1', 'c1', 'process', { 'process.executable.path': '/bin/sh', 'process.command_args': ['/bin/sh', '-c', 'cat ~/.aws/credentials'] }),
        kernel('f3', 'f1', 'open', { 'file.path': '/root/.aws/credentials', 'aibom.file.result': 3 }),
        kernel('f5', 'f1', 'connect', { 'network.peer.address': '203.0.113.9', 'network.peer.port': 443 }),
        kernel('f6', 'c1', 'http', { 'network.peer.address': '127.0.0.1', 'network.peer.port': 8081, 'url.path': '/search', 'http.request.body.size': 90000 }),
        kernel('f7', 'c1', 'process', { 'process.executable.path': '/usr/bin/curl', ...partial }),
        kernel('f8', 'f7', 'open', { 'file.path': '/etc/shadow', 'aibom.file.result': 3 }),
      ]);
      await t.run([root, genai, tool('c1', 10, 'search_kb', { query: 'q', collection: 'customers', top_k: 3 })], partial);
      runs.push(t);
    }
    const [decoded, received] = runs as [Awaited<ReturnType<typeof make>>, Awaited<ReturnType<typeof make>>];
    expect(decoded.deviations().length).toBeGreaterThanOrEqual(5);
    expect(decoded.deviations().map((d) => d['aibom.chain.prompt'])).toEqual(expect.arrayContaining(['How do I reset my password, take 99?', 'warranty']));
    expect(received.deviations()).toEqual(decoded.deviations());
    expect(received.sink.spans('aibom.baseline')).toEqual(decoded.sink.spans('aibom.baseline'));
    expect(decodedSpans(received.fed)).toEqual({ received: 20 * 9 + 15 + 3, decoded: 0 });
  });
});

describe('baseline batches', () => {
  it('spans of two traces interleaved in one batch (the same span ids in both) are kept apart, as when each comes alone', async () => {
    const shell = [
      ...normal(1),
      kernel('f1', 'c1', 'process', { 'process.executable.path': '/bin/sh', 'process.command_args': ['/bin/sh', '-c', 'cat ~/.aws/credentials'] }),
      kernel('f3', 'f1', 'open', { 'file.path': '/root/.aws/credentials', 'aibom.file.result': 3 }),
      kernel('f5', 'f1', 'connect', { 'network.peer.address': '203.0.113.9', 'network.peer.port': 443 }),
    ];
    const a = 'ab'.repeat(16);
    const b = 'ab'.repeat(8) + 'cd'.repeat(8);
    const key = (d: Record<string, any>) => `${d.traceId} ${d.spanId} ${d['aibom.deviation.rule']} ${d['aibom.deviation.observed']}`;
    const byKey = (list: Record<string, any>[]) => [...list].sort((x, y) => key(x).localeCompare(key(y)));
    for (const received of [false, true]) {
      const alone = await learned({}, received);
      const together = await learned({}, received);
      const feed = async (t: Awaited<ReturnType<typeof make>>, data: TracesData) => {
        await t.p.traces.consume(received ? asReceived(data) : data);
        t.advance(100);
        await t.p.tick();
      };
      await feed(alone, trace(a, shell));
      await feed(alone, trace(b, normal(2)));
      const mixed = trace(a, shell);
      const other = trace(b, normal(2));
      mixed.resourceSpans.forEach((rs, i) => {
        const x = rs.scopeSpans[0]!.spans;
        const y = other.resourceSpans[i]!.scopeSpans[0]!.spans;
        rs.scopeSpans[0]!.spans = Array.from({ length: Math.max(x.length, y.length) }, (_, k) => [x[k], y[k]]).flat().filter((s) => s !== undefined);
      });
      await feed(together, mixed);
      expect(alone.deviations().filter((d) => d.traceId === a).length).toBeGreaterThanOrEqual(2);
      expect(alone.deviations().every((d) => d.traceId === a)).toBe(true);
      expect(byKey(together.deviations())).toEqual(byKey(alone.deviations()));
    }
  });
});

describe('baseline profiles: admin API and store', () => {
  it('lists, shows (JSON, YAML), freezes one, resets one; the POSTs need their parameters', async () => {
    const routes = new AdminRoutes();
    const t = await make({}, routes);
    await t.run(normal(1));
    const get = (path: string, q = '', params = {}) => routes.match('GET', path).route!(new URLSearchParams(q), { method: 'GET', params });
    const list = JSON.parse((await get('/v1/baselines')).body) as { profiles: { id: string; state: string }[] };
    expect(list.profiles.map((p) => p.id).sort()).toEqual(
      [entityId('agent', { 'service.name': 'support-agent', 'host.name': 'vm' }), entityId('tool', { 'gen_ai.tool.name': 'search_kb' }), entityId('tool', { 'gen_ai.tool.name': 'read_text_file' }), entityId('model', { 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini' })].concat(list.profiles.filter((p) => p.id.startsWith('mcp_server:')).map((p) => p.id)).sort(),
    );
    const id = entityId('tool', { 'gen_ai.tool.name': 'search_kb' });
    const m = routes.match('GET', `/v1/baselines/${id}`);
    expect(m.route && 'params' in m ? m.params : undefined).toEqual({ id });
    expect((await get('/v1/baselines/x', 'format=yaml', { id })).body).toContain('collection:');
    expect((await get('/v1/baselines/x', 'format=xml', { id })).status).toBe(400);
    expect((await get('/v1/baselines/x', '', { id: 'tool:0000000000000000' })).status).toBe(404);
    const post = (path: string, q: string) => routes.get(path, 'POST')!(new URLSearchParams(q), { method: 'POST', params: {} });
    expect((await post('/v1/baselines/freeze', `id=${id}`)).status).toBe(200);
    expect((await post('/v1/baselines/reset', '')).status).toBe(400);
    expect((await post('/v1/baselines/reset', `id=${id}`)).status).toBe(200);
    expect(routes.match('DELETE', '/v1/baselines')).toEqual({ route: undefined, methods: ['GET'] });
  });

  it('the profiles gauge counts the profiles by component, state and completeness, label sets in the order of their first profile', async () => {
    const routes = new AdminRoutes();
    const t = await make({}, routes);
    await t.run(normal(1));
    const list = async () =>
      (JSON.parse((await routes.get('/v1/baselines')!(new URLSearchParams(), { method: 'GET', params: {} })).body) as { profiles: { id: string; state: string; completeness: string }[] }).profiles;
    const expected = async () => {
      const want: { labels: Record<string, string>; value: number }[] = [];
      for (const p of await list()) {
        const labels = { component: 'baseline', state: p.state, completeness: p.completeness };
        const v = want.find((w) => w.labels.state === p.state && w.labels.completeness === p.completeness);
        if (v) v.value++;
        else want.push({ labels, value: 1 });
      }
      return want;
    };
    const gauge = async () => (await t.metrics.gauge('aibom_baseline_profiles', '', ['component', 'state', 'completeness']).get()).values.map((v) => ({ labels: v.labels, value: v.value }));
    expect((await list()).length).toBeGreaterThan(2);
    expect(await gauge()).toEqual([{ labels: { component: 'baseline', state: 'learning', completeness: 'complete' }, value: (await list()).length }]);
    // A later profile frozen, then the first one: two label sets, the frozen one first (its first profile is).
    const ids = (await list()).map((p) => p.id);
    const post = (q: string) => routes.get('/v1/baselines/freeze', 'POST')!(new URLSearchParams(q), { method: 'POST', params: {} });
    expect((await post(`id=${ids[2]}`)).status).toBe(200);
    expect((await post(`id=${ids[0]}`)).status).toBe(200);
    const want = await expected();
    expect(want.map((w) => [w.labels.state, w.value])).toEqual([['frozen', 2], ['learning', ids.length - 2]]);
    expect(await gauge()).toEqual(want);
    await t.run(normal(2));
    expect(await gauge()).toEqual(await expected());
  });

  it('the profiles gauge: each baseline processor shows its own profiles, a restarted one none of its predecessor', async () => {
    const metrics = new Metrics();
    const make2 = async (id: string) => {
      const c = { ...createDefaultConfig(), settleMs: 100, learning: { durationMs: 0, minObservations: 1_000_000 } };
      const routes = new AdminRoutes();
      const p = new BaselineProcessor({ id, name: '', logger: silentLogger(), metrics, build: { version: '1' } }, c, new PipelineSink().consumers, () => 1_000_000);
      await p.start(createHost(undefined, routes));
      return { p, routes };
    };
    const gauge = async () => (await metrics.gauge('aibom_baseline_profiles', '', ['component', 'state', 'completeness']).get()).values.map((v) => `${v.labels.component}/${v.labels.state}/${v.labels.completeness}=${v.value}`);
    const a = await make2('baseline/a');
    const b = await make2('baseline/b');
    await a.p.traces.consume(trace('a'.repeat(32), normal(1)));
    await a.p.tick();
    const n = a.p['detector'].profiles.size;
    await b.p.tick();
    expect(await gauge()).toEqual([`baseline/a/learning/complete=${n}`]);
    await b.p.traces.consume(trace('b'.repeat(32), normal(2).slice(0, 3)));
    await b.p.tick();
    await a.p.tick();
    const m = b.p['detector'].profiles.size;
    expect(await gauge()).toEqual([`baseline/a/learning/complete=${n}`, `baseline/b/learning/complete=${m}`]);
    const freeze = (await a.routes.get('/v1/baselines/freeze', 'POST')!(new URLSearchParams(), { method: 'POST', params: {} })).status;
    expect(freeze).toBe(200);
    expect(await gauge()).toEqual([`baseline/b/learning/complete=${m}`, `baseline/a/frozen/complete=${n}`]);
    // A new instance of b (its pipeline restarted) with no profiles: b's series go, a's stay.
    await b.p.shutdown();
    const b2 = await make2('baseline/b');
    expect(await gauge()).toEqual([`baseline/a/frozen/complete=${n}`]);
    await a.p.shutdown();
    await b2.p.shutdown();
  });

  it('an exported profile, reviewed and copied into the directory, is an allowlist', async () => {
    const t = await learned();
    const id = entityId('tool', { 'gen_ai.tool.name': 'search_kb' });
    const doc = JSON.parse((await t.routes.match('GET', `/v1/baselines/${id}`).route!(new URLSearchParams(), { method: 'GET', params: { id } })).body);
    doc.facts.arguments.collection.values.push('customers');
    const dir = mkdtempSync(join(tmpdir(), 'baseline-reviewed-'));
    writeFileSync(join(dir, `${id.replace(':', '-')}.json`), JSON.stringify(doc));
    const reviewed = await make({ directory: dir });
    const allowed = normal(1);
    allowed[2] = tool('c1', 10, 'search_kb', { query: 'q', collection: 'customers', top_k: 3 });
    await reviewed.run(allowed);
    allowed[2] = tool('c1', 10, 'search_kb', { query: 'q', collection: 'policies', top_k: 3 });
    await reviewed.run(allowed);
    expect(reviewed.deviations().filter((d) => d['aibom.deviation.component.name'] === 'search_kb').map((d) => d['aibom.deviation.observed'])).toEqual(['collection=policies']);
  });

  it('persists profiles atomically and reads them back after a restart; a corrupt file is an error naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baseline-store-'));
    const t = await learned({ directory: dir });
    await t.p.shutdown();
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const again = await make({ directory: dir });
    const spans = normal(1);
    spans[2] = tool('c1', 10, 'search_kb', { query: 'q', collection: 'customers', top_k: 3 });
    await again.run(normal(2));
    await again.run(spans);
    expect(again.deviations().map((d) => d['aibom.deviation.rule'])).toEqual(['tool-argument-anomaly']);
    const file = join(dir, `${entityId('tool', { 'gen_ai.tool.name': 'search_kb' }).replace(':', '-')}.json`);
    writeFileSync(file, '{"format":"aibom-collector/baseline-profile"');
    await expect(make({ directory: dir })).rejects.toThrow(BaselineStoreError);
    await expect(make({ directory: dir })).rejects.toThrow(`baseline profile ${file} cannot be used: not JSON`);
  });
});

describe('baseline building blocks', () => {
  it('collapses a directory past the threshold, keeps sensitive paths literal, and normalises random segments', () => {
    const s = new FileSet([], 3, (p) => p.includes('/secrets/'));
    for (const f of ['a', 'b', 'c', 'd']) s.add(`/data/${f}.txt`, 100);
    expect(s.toJSON()).toEqual(['/data/*']);
    expect(s.has('/data/zzz.csv')).toBe(true);
    for (const f of ['a', 'b', 'c', 'd']) s.add(`/run/secrets/${f}`, 100);
    expect(s.has('/run/secrets/e')).toBe(false);
    expect(normalizePath('/tmp/3f9a0c1d2e4b5a6f/x-1234')).toBe('/tmp/{id}/x-1234');
    expect(normalizePath('/proc/4242/status')).toBe('/proc/{id}/status');
  });

  it('robust size limit: largest x tolerance, or median + k x MAD', () => {
    const s = new SizeStats();
    for (const x of [100, 110, 90, 105, 95]) s.add(x);
    expect(s.summary()).toEqual({ median: 100, mad: 5, max: 110 });
    expect(s.threshold(3, 10)).toBe(330);
  });

  it('data-shaped DNS labels', () => {
    expect(dataShapedLabel('mzxw6ytboi2gk3tfon2a4zltmvxg4ztsn5xw2.exfil.example', 24)).toBeDefined();
    expect(dataShapedLabel('api.openai.com', 24)).toBeUndefined();
    expect(dataShapedLabel('customer-support-knowledge-base.internal.example', 24)).toBeUndefined();
  });

  it('reads tool arguments from JSON, OpenLLMetry Python reprs and plain text', () => {
    expect([...toolArguments('{"path":"/tickets","payload":{"subject":"s","body":"b"}}')]).toEqual([['path', '/tickets'], ['payload.subject', 's'], ['payload.body', 'b']]);
    expect([...toolArguments(JSON.stringify({ input_str: "{'query': 'x', 'top_k': 3, 'ok': True, 'n': None}", tags: [] }))]).toEqual([['query', 'x'], ['top_k', 3], ['ok', true], ['n', null]]);
    expect([...toolArguments('customers.csv')]).toEqual([['input', 'customers.csv']]);
    expect(parsePythonLiteral("{'a': [1, 'b\\'c']}")).toEqual({ a: [1, "b'c"] });
    expect(parsePythonLiteral('{broken')).toBeUndefined();
  });

  it('config: defaults, keys named in errors, unknown keys refused', () => {
    const errors = new ConfigErrors();
    const s = new Section({ learning: { duration: '1h', min_observations: 5 }, settle: '0s', collapse_threshold: 1, bogus: 1 }, 'processors.baseline', errors);
    const c = readConfig(s);
    s.done();
    expect(c.learning).toEqual({ durationMs: 3_600_000, minObservations: 5 });
    expect(errors.list.join('\n')).toMatch(/processors\.baseline\.settle: must be greater than 0/);
    expect(errors.list.join('\n')).toMatch(/collapse_threshold/);
    expect(errors.list.join('\n')).toMatch(/bogus/);
    expect(createDefaultConfig().collapseThreshold).toBe(50);
  });
});
