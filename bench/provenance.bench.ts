/**
 * provenance cost per span and memory per open trace. A plain script, not a timed test:
 *
 *   npm run build && node --expose-gc dist/bench/provenance.bench.js [seconds=2] [traces=200]
 *
 * Spans: the processor's testdata `reference-agents.jsonl` (real LangChain.js/OpenInference and
 * LangChain Python/OpenLLMetry spans with content: the attack, ticket, FAQ-file and FAQ runs; strings
 * cut at 8 KB), each batch under fresh trace ids so every round opens new traces.
 * Cases: observe (the work on the span path: canonical view, content, hashing into the view; the
 * content new to the processor); observe, repeated (the same content in every round's traces, the
 * earlier rounds still open); observe + evaluate (the whole life of the traces, deviations built and rate-limited).
 * Load spans: bench/loadgen's requests (`-shape llm`: 100 LLM client spans, each its own trace, ten
 * GenAI/HTTP attributes; `-shape agent`: ten agent-run traces of 10 spans; no content), received as bytes with the canonical view and ids already read (normalize
 * and correlate do so before provenance in the default pipeline), through `traces.consume` with the
 * default config, the clock 1 s further per request and a tick every 10: what provenance costs on
 * spans that carry no content.
 * Memory: heap held per open trace, for the reference traces and for a trace that read 256 KB of
 * tool results (the per-trace bound `max_entries_per_trace` caps the latter).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Long from 'long';
import { attr, attrs } from '../pipeline/otlp/attributes.js';
import { tracesCodec } from '../pipeline/otlp/codec.js';
import { spanIds } from '../pipeline/otlp/span-view.js';
import type { Span, TracesData } from '../pipeline/otlp/types.js';
import { packageRoot } from '../pipeline/package-root.js';
import { silentLogger } from '../pipeline/telemetry/logger.js';
import { Metrics } from '../pipeline/telemetry/metrics.js';
import { canonicalView } from '../processors/normalize/canonical.js';
import { createDefaultConfig } from '../processors/provenance/config.js';
import { ProvenanceProcessor } from '../processors/provenance/provenance-processor.js';
import { measure } from './measure.js';
import { LOADGEN_CHOICE_ATTRIBUTES, LOADGEN_LLM_ATTRIBUTES } from './loadgen-shape.js';
import { agentRunSpans, loadgenId, loadgenSpan } from './loadgen-agent-run.js';

const SECONDS = Number(process.argv[2] ?? 2);
const TRACES = Number(process.argv[3] ?? 200);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const lines = readFileSync(join(packageRoot(), 'processors', 'provenance', 'testdata', 'reference-agents.jsonl'), 'utf8').split('\n').filter(Boolean);
const reference: TracesData[] = lines.map((l) => tracesCodec.fromJson(l));
const spanCount = reference.reduce((n, t) => n + tracesCodec.count(t), 0);

let round = 0;
/** The reference batches with trace ids no earlier round used. */
function fresh(batches: TracesData[]): TracesData[] {
  round++;
  return batches.map((b) => ({
    resourceSpans: b.resourceSpans.map((rs) => ({
      ...rs,
      scopeSpans: rs.scopeSpans.map((ss) => ({
        ...ss,
        spans: ss.spans.map((s) => {
          const traceId = Buffer.from(s.traceId);
          traceId.writeUInt32BE(round >>> 0, 0);
          return { ...s, traceId };
        }),
      })),
    })),
  }));
}

let t = 0;
function processor(maxOpenTraces = 1_000_000): ProvenanceProcessor {
  return new ProvenanceProcessor({ id: 'provenance', name: '', logger: silentLogger(), metrics: new Metrics() }, { ...createDefaultConfig(), maxOpenTraces }, { traces: { consume: async () => {} }, logs: { consume: async () => {} } }, () => t);
}

const LOAD_SPANS = 100;
const now = Long.fromNumber(Date.now() * 1e6, true);
/** A bench/loadgen request as the receiver hands it on, its spans' views read as earlier processors would. */
function received(spans: Span[]): TracesData {
  const data: TracesData = { resourceSpans: [{ resource: { attributes: [attr('service.name', 'bench-agent'), attr('process.pid', 1234), attr('host.name', 'bench')] }, scopeSpans: [{ scope: { name: 'bench', version: '1' }, spans }] }] };
  const out = tracesCodec.decodeReceived(Buffer.from(tracesCodec.encode(data)));
  for (const s of out.resourceSpans[0]!.scopeSpans[0]!.spans) {
    canonicalView(s);
    spanIds(s);
  }
  return out;
}
/** `-shape agent`: ten traces of an agent run (root, 3 LLM calls, 3 tool calls, 2 HTTP calls, 1 MCP call), no content. */
function agentRequest(seq: number): TracesData {
  return received(agentRunSpans(seq, LOAD_SPANS / 10, now));
}
/** `-shape llm`: every span an LLM call in its own trace. */
function loadRequest(seq: number): TracesData {
  return received(
    Array.from({ length: LOAD_SPANS }, (_, i) => ({
      ...loadgenSpan(now, 'chat gpt-4o', loadgenId(16, seq, i), loadgenId(8, seq, i), Buffer.from('b7ad6b7169203331', 'hex'), 3, attrs(LOADGEN_LLM_ATTRIBUTES)),
      events: [{ timeUnixNano: now.add(10), name: 'gen_ai.choice', attributes: attrs(LOADGEN_CHOICE_ATTRIBUTES) }],
    })),
  );
}

// Pre-built rounds, so the copies are not measured.
const pool = Array.from({ length: 64 }, () => fresh(reference));
let next = 0;

/**
 * CPU time (user + system, all threads) per call: on a shared machine the wall clock counts the other
 * processes' time too; `measure` (wall clock) is printed beside it.
 */
function cpuPerCall(fn: () => void, seconds: number): number {
  for (let i = 0; i < 5; i++) fn();
  gc!();
  const c0 = process.cpuUsage();
  const end = Date.now() + seconds * 1000;
  let n = 0;
  while (Date.now() < end) {
    fn();
    n++;
  }
  const d = process.cpuUsage(c0);
  return (d.user + d.system) / n;
}

/**
 * Observe only, content new: a processor of its own per round, so no open trace has read the round's
 * content before (open traces share what they read: processors/provenance/pieces.ts).
 */
const observeRound = () => {
  const observer = processor();
  for (const b of pool[next++ % pool.length]!) observer.observe(b);
};
let repeater = processor();
/**
 * Observe only, content repeated: every round's traces into one processor, while the earlier rounds'
 * are still open (as the reference agent's runs, one trace each, read the same tool results again);
 * a new processor when the pool's trace ids come round again.
 */
const repeatedRound = () => {
  if (next % pool.length === 0) repeater = processor();
  for (const b of pool[next++ % pool.length]!) repeater.observe(b);
};
const lifecycle = processor();
const wholeRound = () => {
  for (const b of pool[next++ % pool.length]!) lifecycle.observe(b);
  t += 10_000_000;
  void lifecycle.tick();
};
/** CPU time per call of an async `fn`, awaited one after the other. */
async function cpuPerAsyncCall(fn: () => Promise<void>, seconds: number): Promise<number> {
  for (let i = 0; i < 20; i++) await fn();
  gc!();
  const c0 = process.cpuUsage();
  const end = Date.now() + seconds * 1000;
  let n = 0;
  while (Date.now() < end) {
    await fn();
    n++;
  }
  const d = process.cpuUsage(c0);
  return (d.user + d.system) / n;
}
/** CPU µs per span of `make`'s requests through `traces.consume`, default config, the clock 1 s further per request and a tick every 10. */
async function loadCase(make: (seq: number) => TracesData): Promise<number> {
  const pool = Array.from({ length: 256 }, (_, i) => make(i + 1));
  const p = processor(createDefaultConfig().maxOpenTraces);
  let n = 0;
  const us = await cpuPerAsyncCall(async () => {
    await p.traces.consume(pool[n++ % pool.length]!);
    t += 1_000;
    if (n % 10 === 0) await p.tick();
  }, SECONDS);
  return us / LOAD_SPANS;
}
const loadLlm = await loadCase(loadRequest);
const loadAgent = await loadCase(agentRequest);

const observe = { ...measure('observe', observeRound, SECONDS, 1), cpuUs: cpuPerCall(observeRound, SECONDS) };
const repeated = { ...measure('observe, repeated', repeatedRound, SECONDS, 1), cpuUs: cpuPerCall(repeatedRound, SECONDS) };
const whole = { ...measure('observe + evaluate', wholeRound, SECONDS, 1), cpuUs: cpuPerCall(wholeRound, SECONDS) };
const contentChars = reference.reduce((n, b) => n + b.resourceSpans.reduce((m, rs) => m + rs.scopeSpans.reduce((k, ss) => k + ss.spans.reduce((j, sp) => j + (sp.attributes ?? []).reduce((i, kv) => i + (kv.value?.stringValue?.length ?? 0), 0), 0), 0), 0), 0);

/** Heap held per open trace, after `TRACES` batches of traces stay open. */
function heapPerTrace(make: () => TracesData[], tracesPerRound: number, traces = TRACES): number {
  const p = processor();
  const batches = Array.from({ length: Math.ceil(traces / tracesPerRound) }, make);
  gc!();
  const before = process.memoryUsage().heapUsed;
  for (const round of batches) for (const b of round) p.observe(b);
  gc!();
  const after = process.memoryUsage().heapUsed;
  const open = batches.length * tracesPerRound;
  if (after < 0) console.log(p); // keep p alive until measured
  return (after - before) / open;
}
const refHeap = heapPerTrace(() => fresh(reference), reference.length);
const record = (i: number) => `customer C${10000 + i}, Kira Rossi, kira.rossi${i}@example.com, +1-555-504-1791, Berlin, card 8779, plan basic, 1841.13 EUR`;
const bigText = Array.from({ length: 2300 }, (_, i) => record(i)).join('\n');
/** A flat copy of `s` (a concatenation flattened later, when read, would count its copy as the trace's). */
const flat = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');
/** The first reference trace with its first tool result replaced by `bigText`, a text of its own per trace (none shared). */
const bigTrace = (): TracesData[] => {
  const [first] = fresh([reference[0]!]);
  const tool = first!.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)).find((sp) => sp.attributes?.some((kv) => kv.key === 'output.value' && kv.value?.stringValue?.includes('ToolMessage')))!;
  tool.attributes = tool.attributes!.map((kv) => (kv.key === 'output.value' ? { key: kv.key, value: { stringValue: flat(`${bigText}\nround ${round}`) } } : kv));
  return [first!];
};
const bigHeap = heapPerTrace(bigTrace, 1);
/** The reference traces as an agent with content capture off writes them. */
const CONTENT_KEY = /^(?:llm\.(?:input_messages|output_messages|tools)\.|input\.value|output\.value|traceloop\.entity\.(?:input|output)|gen_ai\.(?:prompt|completion|input\.messages|output\.messages|system_instructions|tool\.call\.arguments|tool\.call\.result|tool\.definitions)|retrieval\.documents\.)/;
const withoutContent = (): TracesData[] =>
  fresh(reference).map((b) => ({ resourceSpans: b.resourceSpans.map((rs) => ({ ...rs, scopeSpans: rs.scopeSpans.map((ss) => ({ ...ss, spans: ss.spans.map((sp) => ({ ...sp, attributes: sp.attributes?.filter((kv) => !CONTENT_KEY.test(kv.key)) })) })) })) }));
const quietHeap = heapPerTrace(withoutContent, reference.length, 20 * TRACES);

console.log(`node ${process.version}, ${SECONDS}s per case; reference batches: ${reference.length} traces, ${spanCount} spans`);
console.log(`attribute text per round: ${(contentChars / 1024).toFixed(0)} KiB`);
console.log('case                  spans/s (wall)  µs/span (wall)  µs/span (CPU)  ns/char (CPU)');
for (const r of [observe, repeated, whole]) {
  const spansPerSec = r.opsPerSec * spanCount;
  console.log(`${r.name.padEnd(20)} ${Math.round(spansPerSec).toLocaleString('en-US').padStart(14)} ${(1e6 / spansPerSec).toFixed(1).padStart(15)} ${(r.cpuUs / spanCount).toFixed(1).padStart(14)} ${((r.cpuUs * 1000) / contentChars).toFixed(1).padStart(14)}`);
}
console.log(`load spans without content, default config: LLM calls each its own trace ${loadLlm.toFixed(2)} µs/span (CPU); agent runs of 10 spans ${loadAgent.toFixed(2)} µs/span (CPU)`);
console.log(`heap per open trace: reference traces ${(refHeap / 1024).toFixed(1)} KiB (the same content in every copy); a trace with ${(bigText.length / 1024).toFixed(0)} KiB of tool results ${(bigHeap / 1024).toFixed(1)} KiB; reference traces without content ${(quietHeap / 1024).toFixed(2)} KiB (${TRACES} traces open, ${20 * TRACES} without content)`);
