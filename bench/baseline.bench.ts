/**
 * processors/baseline figures: cost per agent span and per kernel span, memory per profile. A script,
 * not a timed unit test:
 *
 *   npm run build && node --expose-gc dist/bench/baseline.bench.js [reference] [loadgen] [agent] [conversation] [memory]
 *
 * (no case named: all of them; BENCH_SECONDS per timed case, default 3)
 * - per span: the recorded reference run (processors/aibom/testdata/reference-js.jsonl: the
 *   LangChain.js attack run's agent spans and correlate's kernel spans) copied under fresh trace ids,
 *   fed through the traces consumer and evaluated (tick after settle), with frozen profiles learned
 *   from the same run: recording, trace buffer, observation, rule checks. Agent spans are measured
 *   alone; a kernel span's cost is what the kernel spans add to the whole run. The next hop does nothing.
 * - loadgen-shaped (what `bench/passthrough.ts --pipeline default` sends: 100 LLM client spans per
 *   request, each its own trace, 10 GenAI/HTTP attributes + 1 event; received as bytes and put
 *   through the real `normalize` first, as in the default pipeline), the embedded default's config
 *   (learning profiles, 4096 open traces: at this rate traces are pushed out before `settle`), at a
 *   clock of 20k spans/s: CPU µs per span (process.cpuUsage), and the heap an open trace holds.
 * - agent (`passthrough.ts --shape agent`): ten agent-run traces of 10 spans per request (root, 3
 *   LLM calls, 3 tool calls, 2 HTTP calls, 1 MCP call; no content), the same way, a tick every 100 ms
 *   of the clock: the traces settle and are evaluated there.
 * - conversation: 20 LLM calls in one trace, each carrying the conversation so far
 *   (`gen_ai.input.messages`), the first user message of the trace read from them.
 * - memory: heapUsed after gc() per profile, for the profiles the reference run makes (typical) and
 *   for profiles filled to every bound of the default config (worst case: 100-character values).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../pipeline/package-root.js';
import { tracesCodec } from '../pipeline/otlp/codec.js';
import type { TracesData } from '../pipeline/otlp/types.js';
import { CORRELATE_SCOPE } from '../pipeline/semconv.js';
import { silentLogger } from '../pipeline/telemetry/logger.js';
import { Metrics } from '../pipeline/telemetry/metrics.js';
import { createHost } from '../pipeline/host.js';
import { BaselineProcessor } from '../processors/baseline/baseline-processor.js';
import { createDefaultConfig } from '../processors/baseline/config.js';
import { Profile } from '../processors/baseline/profile.js';
import { normalizeProcessorFactory } from '../processors/normalize/index.js';
import { attrs } from '../pipeline/otlp/attributes.js';
import { LOADGEN_CHOICE_ATTRIBUTES, LOADGEN_LLM_ATTRIBUTES, loadgenIds } from './loadgen-shape.js';
import { agentRunSpans } from './loadgen-agent-run.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) console.warn('run with node --expose-gc for the memory figures');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CASES = new Set(process.argv.slice(2));
const run = (name: string) => CASES.size === 0 || CASES.has(name);

const reference: TracesData[] = readFileSync(join(packageRoot(), 'processors', 'aibom', 'testdata', 'reference-js.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => tracesCodec.decode(tracesCodec.encode(tracesCodec.fromJson(l))));

/** The batches with only agent spans, or only kernel spans. */
function only(kernel: boolean): TracesData[] {
  return reference.map((b) => ({ resourceSpans: b.resourceSpans.map((rs) => ({ ...rs, scopeSpans: rs.scopeSpans.filter((ss) => (ss.scope?.name === CORRELATE_SCOPE) === kernel) })) }));
}

/** `n` copies of the batches, each copy's traces under other trace ids (so each is a new open trace). */
function copies(batches: TracesData[], n: number): TracesData[][] {
  return Array.from({ length: n }, (_, i) =>
    batches.map((b) => ({
      resourceSpans: b.resourceSpans.map((rs) => ({
        ...rs,
        scopeSpans: rs.scopeSpans.map((ss) => ({ ...ss, spans: ss.spans.map((s) => ({ ...s, traceId: Buffer.concat([Buffer.from(s.traceId!).subarray(0, 12), Buffer.from([i >> 24, i >> 16, i >> 8, i])]) })) })),
      })),
    })),
  );
}

const count = (batches: TracesData[]) => batches.reduce((n, b) => n + b.resourceSpans.reduce((m, rs) => m + rs.scopeSpans.reduce((k, ss) => k + ss.spans.length, 0), 0), 0);

async function processor() {
  let clock = 1_000_000;
  const next = { traces: { consume: async (_d: TracesData) => {} }, logs: { consume: async () => {} } };
  const c = { ...createDefaultConfig(), settleMs: 10, traceTtlMs: 10 };
  const p = new BaselineProcessor({ id: 'baseline', name: '', logger: silentLogger(), metrics: new Metrics() }, c, next, () => clock);
  await p.start(createHost());
  const round = async (batches: TracesData[]) => {
    for (const b of batches) await p.traces.consume(b);
    clock += 20;
    await p.tick();
  };
  return { p, round };
}

/** Spans per second through consume + evaluation, with frozen profiles learned from the full run. */
async function measure(name: string, batches: TracesData[]): Promise<number> {
  const { p, round } = await processor();
  for (const c of copies(reference, 5)) await round(c);
  p.detector.freeze(Date.now());
  const rounds = copies(batches, 400);
  const spans = count(batches);
  for (const c of rounds.slice(0, 50)) await round(c);
  gc?.();
  let n = 0;
  // CPU time, not the wall clock: on a shared machine the latter counts other processes' time too.
  const cpu = process.cpuUsage();
  const deadline = Date.now() + SECONDS * 1000;
  while (Date.now() < deadline) await round(rounds[n++ % rounds.length]!);
  const used = process.cpuUsage(cpu);
  const perSec = (n * spans) / ((used.user + used.system) / 1e6);
  console.log(`${name.padEnd(34)} ${spans} spans/run  ${Math.round(perSec).toLocaleString('en-US').padStart(10)} spans per CPU second  ${(1e6 / perSec).toFixed(2)} µs CPU/span`);
  await p.shutdown();
  return perSec;
}

if (run('reference')) {
  const all = await measure('agent + kernel spans', reference);
  const agentOnly = await measure('agent spans only', only(false));
  // Kernel spans alone have no agent span to belong to (and are skipped): their cost is what they add to a whole run.
  const kernelSpans = count(only(true));
  const perKernelUs = ((count(reference) / all - count(only(false)) / agentOnly) / kernelSpans) * 1e6;
  console.log(`per kernel span (what ${kernelSpans} kernel spans add to a run): ${perKernelUs.toFixed(2)} µs`);
}

// ---------------------------------------------------------------- loadgen-shaped spans, conversations
/** An LLM client span of `bench-agent` as OTLP JSON-ish fields (protobufjs takes them), parent outside the trace. */
function llmSpan(traceId: Buffer, spanId: Buffer, startNs: number, endNs: number, attributes: Record<string, string | number>) {
  return { traceId, spanId, parentSpanId: Buffer.from('b7ad6b7169203331', 'hex'), name: 'chat gpt-4o', kind: 3, startTimeUnixNano: String(startNs), endTimeUnixNano: String(endNs), attributes: attrs(attributes) };
}

/** A request of `spans` as protobuf bytes, as an exporter sends it. */
function request(spans: object[], resource: Record<string, string | number>): Buffer {
  const data = { resourceSpans: [{ resource: { attributes: attrs(resource) }, scopeSpans: [{ scope: { name: 'bench', version: '1' }, spans }] }] };
  return Buffer.from(tracesCodec.encode(data as unknown as TracesData));
}

/** One loadgen request (bench/loadgen/main.go `request`): 100 spans, each its own trace, trace ids starting with `seq`. */
function loadgenRequest(seq: number): Buffer {
  const now = Date.now() * 1e6;
  const spans = Array.from({ length: 100 }, (_, i) => {
    const { traceId, spanId } = loadgenIds(seq, i);
    return {
      ...llmSpan(traceId, spanId, now, now + 1_500_000_000, LOADGEN_LLM_ATTRIBUTES),
      events: [{ timeUnixNano: String(now + 10), name: 'gen_ai.choice', attributes: attrs(LOADGEN_CHOICE_ATTRIBUTES) }],
      status: { code: 1 },
    };
  });
  return request(spans, { 'service.name': 'bench-agent', 'process.pid': 1234, 'host.name': 'bench' });
}

/**
 * An agent's conversation: one trace (`seq`) of 20 LLM calls, each carrying the conversation so far
 * as GenAI `gen_ai.input.messages` (JSON; the n-th call 2n messages of ~300 characters), as
 * OpenLLMetry writes it.
 */
function conversation(seq: number): Buffer {
  const now = Date.now() * 1e6;
  const messages: { role: string; parts: { type: string; content: string }[] }[] = [];
  const spans = Array.from({ length: 20 }, (_, i) => {
    messages.push({ role: 'user', parts: [{ type: 'text', content: `question ${i} `.padEnd(300, 'q') }] });
    const input = JSON.stringify(messages);
    messages.push({ role: 'assistant', parts: [{ type: 'text', content: `answer ${i} `.padEnd(300, 'a') }] });
    const traceId = Buffer.alloc(16);
    traceId.writeUInt32BE(seq >>> 0, 12);
    const spanId = Buffer.alloc(8);
    spanId.writeUInt32BE(i + 1, 4);
    return llmSpan(traceId, spanId, now + i * 2e9, now + i * 2e9 + 1.5e9, { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.input.messages': input });
  });
  return request(spans, { 'service.name': 'bench-agent', 'host.name': 'bench' });
}

const normalize = normalizeProcessorFactory.create(
  { id: 'normalize', name: '', logger: silentLogger(), metrics: new Metrics() },
  normalizeProcessorFactory.createDefaultConfig(),
  { traces: { consume: async () => {} } },
);
/** Requests `from` .. `from + n - 1` as the receiver hands them on (spans still bytes), through normalize. */
async function received(make: (seq: number) => Buffer, n: number, from: number): Promise<TracesData[]> {
  const out: TracesData[] = [];
  for (let i = 0; i < n; i++) {
    const d = tracesCodec.decodeReceived(make(from + i));
    await normalize.traces!.consume(d);
    out.push(d);
  }
  return out;
}

/** A baseline processor as the embedded default configures it, on a clock the caller moves. */
async function defaultProcessor() {
  const clock = { ms: 1_000_000 };
  const next = { traces: { consume: async (_d: TracesData) => {} }, logs: { consume: async () => {} } };
  const p = new BaselineProcessor({ id: 'baseline', name: '', logger: silentLogger(), metrics: new Metrics() }, createDefaultConfig(), next, () => clock.ms);
  await p.start(createHost());
  return { p, clock };
}

/** CPU µs per span of `step` (which feeds `spans` spans), after a warm-up. */
async function cpuPerSpan(step: () => Promise<void>, spans: number): Promise<number> {
  for (let w = 0; w < 400; w++) await step();
  gc?.();
  const cpu = process.cpuUsage();
  const end = Date.now() + SECONDS * 1000;
  let n = 0;
  while (Date.now() < end) {
    await step();
    n++;
  }
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / (n * spans);
}

if (run('loadgen')) {
  const { p, clock } = await defaultProcessor();
  // 200 requests = 20k traces, so a trace id comes back only long after it was pushed out.
  const pool = await received(loadgenRequest, 200, 0);
  let i = 0;
  // One request at 20k spans/s (5 ms of the clock), a tick every 100 ms of it.
  const us = await cpuPerSpan(async () => {
    await p.traces.consume(pool[i++ % pool.length]!);
    clock.ms += 5;
    if (clock.ms % 100 === 0) await p.tick();
  }, 100);
  console.log(`loadgen-shaped (1 LLM span per trace, learning, default config)  ${us.toFixed(2)} µs CPU per span`);
  await p.shutdown();
}
if (run('agent')) {
  const { p, clock } = await defaultProcessor();
  // 200 requests = 2000 traces of 10 spans, 200 ms of the clock apart (500 spans/s, so ~1500 traces
  // open): each is evaluated at the tick after it settles and forgotten after trace_ttl (30 s), before
  // its id comes back (40 s later).
  const pool = await received((seq) => request(agentRunSpans(seq, 10), { 'service.name': 'bench-agent', 'process.pid': 1234, 'host.name': 'bench' }), 200, 0);
  let i = 0;
  const us = await cpuPerSpan(async () => {
    await p.traces.consume(pool[i++ % pool.length]!);
    clock.ms += 200;
    await p.tick();
  }, 100);
  console.log(`agent-run traces (10 spans each, learning, default config)  ${us.toFixed(2)} µs CPU per span`);
  await p.shutdown();
}
if (run('conversation')) {
  const { p, clock } = await defaultProcessor();
  const pool = await received(conversation, 200, 0);
  let i = 0;
  const us = await cpuPerSpan(async () => {
    await p.traces.consume(pool[i++ % pool.length]!);
    // A second apart: each trace is evaluated at the next tick and forgotten (trace_ttl) long before its id comes back.
    clock.ms += 1000;
    await p.tick();
  }, 20);
  console.log(`conversation (20 LLM calls per trace, gen_ai.input.messages)  ${us.toFixed(2)} µs CPU per span`);
  await p.shutdown();
}
if (run('loadgen')) {
  // Heap an open trace holds: 4000 one-span traces open (below max_open_traces), spans dropped after.
  const { p, clock } = await defaultProcessor();
  await p.traces.consume((await received(loadgenRequest, 1, 1_000_000))[0]!);
  clock.ms += 1000;
  await p.tick();
  gc?.();
  const before = process.memoryUsage().heapUsed;
  for (let r = 0; r < 40; r++) await p.traces.consume((await received(loadgenRequest, 1, 2_000_000 + r))[0]!);
  gc?.();
  console.log(`loadgen-shaped open trace (1 LLM span, not yet evaluated): ${((process.memoryUsage().heapUsed - before) / 4000).toFixed(0)} B of heap per trace`);
  await p.shutdown();
}

// ---------------------------------------------------------------- memory per profile
if (run('memory')) {
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const made: { p: BaselineProcessor }[] = [];
  for (let i = 0; i < 50; i++) {
    const { p, round } = await processor();
    await round(copies(reference, 1)[0]!);
    made.push({ p });
  }
  gc?.();
  const profiles = made.reduce((n, m) => n + m.p.detector.profiles.size, 0);
  console.log(`typical (reference run): ${profiles} profiles, ${((process.memoryUsage().heapUsed - before) / profiles / 1024).toFixed(1)} KiB per profile (incl. the processor's share)`);
}
if (run('memory')) {
  const d = createDefaultConfig();
  const settings = { collapseThreshold: d.collapseThreshold, isSensitive: () => false, maxFactsPerList: d.maxFactsPerList, maxSamples: d.maxSamples, maxStatistics: d.maxStatistics };
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const list: Profile[] = [];
  for (let i = 0; i < 20; i++) {
    const p = new Profile(`tool:${i.toString(16).padStart(16, '0')}`, { kind: 'tool', name: `t${i}` }, 0, settings);
    for (let j = 0; j < d.maxFactsPerList; j++) {
      for (const k of ['executables', 'credentials', 'egress', 'tools', 'mcpTools', 'models', 'modelVersions'] as const) p.learnValue(k, `/some/fairly/long/path/value-${k}-${j}-${i}`.padEnd(100, "x"));
      p.learnFile(`/srv/data/dir${j}/file-${j}.csv`.padStart(100, "/"));
      p.learnArgument(`arg_${j}`, 'string', j, `v${j}`, undefined, d.lowCardinalityMax);
      p.learnPayload(`10.0.0.${j}:443/api/v1/items`, j);
    }
    for (const a of p.args.values()) for (let s = 1; s < d.maxSamples; s++) a.lengths.add(s);
    for (const s of p.payloads.values()) for (let x = 1; x < d.maxSamples; x++) s.add(x);
    list.push(p);
  }
  gc?.();
  console.log(`worst case (every list at max_facts_per_list=${d.maxFactsPerList}, max_statistics=${d.maxStatistics} at max_samples=${d.maxSamples}): ${((process.memoryUsage().heapUsed - before) / list.length / 1024 / 1024).toFixed(2)} MiB per profile`);
}
