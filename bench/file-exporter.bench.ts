/**
 * The embedded default's `file` exporter per span: pipeline/otlp/json-writer.ts (received spans
 * transcoded from their bytes) alone, and the exporter's whole `consume` (the JSON, its line, the
 * write) into /dev/null, on bench/loadgen's requests as the default pipeline hands them over:
 * received, normalize's attributes appended, merged by `batch` into batches of `--batch` spans
 * (its default 8192: one resource and scope, as batch merges identical ones). `--shape llm`: 100 LLM
 * client spans a request, 10 GenAI/HTTP attributes and a gen_ai.choice event each; `--shape agent`:
 * agent-run traces of 10 spans (bench/loadgen-agent-run.ts); `--shape content`: those with what
 * OpenInference records on an agent's LLM and tool spans, `input.value` and `output.value` (a chat's
 * JSON: quotes, newlines, accents, ~4 KB each, or `--content-bytes N` of it, each message also holding
 * an emoji; the reference agent's are 2-20 KB, tool results up to ~100 KB); `--shape kernel`: spans that are objects,
 * as correlate makes them for kernel events (ids as Buffers, times as Longs, the event's attributes and
 * correlate's), and besides them the kernel log records the eBPF receiver makes (writeKernelRecord),
 * written by the exporter as a logs batch of as many records. `--build` adds another build's dist/
 * (e.g. a frozen main) measured in the same rounds, interleaved, each with its own decoding;
 * `--to-json` adds codec.toJson (which decodes every span, so it gets fresh data each call and that
 * is taken off). CPU time (user + system, GC included) per span, median of the rounds. A script:
 *
 *   npm run build && node --expose-gc dist/bench/file-exporter.bench.js [--shape agent|llm|content|kernel] [--batch 8192]
 *     [--content-bytes N] [--rounds 5] [--seconds 2] [--build OTHER/dist] [--to-json]
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import Long from 'long';
import { writeKernelRecord } from '../pipeline/kernel-event/writer.js';
import { attr } from '../pipeline/otlp/attributes.js';
import type { KeyValue } from '../pipeline/otlp/types.js';
import { loadgenRequest } from './loadgen-shape.js';
import { measure } from './measure.js';

const { values } = parseArgs({
  options: {
    shape: { type: 'string', default: 'agent' },
    batch: { type: 'string', default: '8192' },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '2' },
    build: { type: 'string' },
    'to-json': { type: 'boolean', default: false },
    'content-bytes': { type: 'string' },
  },
});
const SHAPE = values.shape as 'llm' | 'agent' | 'content' | 'kernel';
if (!['llm', 'agent', 'content', 'kernel'].includes(SHAPE)) throw new Error(`--shape: llm, agent, content or kernel, got ${SHAPE}`);
const BATCH = Number(values.batch);
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
/** Distinct batches, used in turn, so ids and times differ from one call to the next. */
const DISTINCT = 4;
const REQUEST_SPANS = 100;

type Data = { resourceSpans: { resource?: unknown; scopeSpans: { scope?: unknown; spans: unknown[] }[] }[] };
interface Build {
  name: string;
  /** The JSON of `d` (a view of the writer's reused buffer where the build has one). */
  json(d: Data): Buffer;
  toJson(d: Data): string;
  /** One batch as `batch` hands it to the exporters. */
  batch(seq: number): Data;
  exporter: { traces: { consume(d: Data): Promise<void> }; logs: { consume(d: unknown): Promise<void> }; start(h?: unknown): Promise<void>; shutdown(): Promise<void> };
}

const T0 = 1764470000123456789n;
const long = (ns: bigint) => Long.fromBits(Number(ns & 0xffffffffn), Number(ns >> 32n), true);
const id = (bytes: number, seq: number, i: number) => {
  const b = Buffer.alloc(bytes);
  b.writeUInt32BE(seq, bytes - 8);
  b.writeUInt32BE(i + 1, bytes - 4);
  return b;
};
/** What one kernel event (a file open) adds to its record and its span. */
const eventAttributes = (i: number): KeyValue[] => [attr('file.path', `/srv/data/doc-${i % 50}.txt`), attr('file.open.flags', 0), attr('file.result', 3)];

/** `BATCH` spans as correlate makes them under an agent's spans, one per distinct action (plain objects). */
function kernelSpans(seq: number): Data {
  const spans = Array.from({ length: BATCH }, (_, i) => ({
    traceId: id(16, seq, i >> 4),
    spanId: id(8, seq, i),
    parentSpanId: id(8, seq, (i >> 4) << 4),
    name: `file.open /srv/data/doc-${i % 50}.txt`,
    kind: 1,
    startTimeUnixNano: long(T0 + BigInt(i) * 1000n),
    endTimeUnixNano: long(T0 + BigInt(i) * 1000n + 5000n),
    attributes: [...eventAttributes(i), attr('aibom.kernel.kind', 'file.open'), attr('aibom.kernel.count', 1 + (i % 3)), attr('aibom.correlation.key', 'pid')],
  }));
  return { resourceSpans: [{ resource: { attributes: [attr('service.name', 'support-agent'), attr('process.pid', 4242)] }, scopeSpans: [{ scope: { name: 'aibom.correlate', version: '0.1.0' }, spans }] }] };
}

/** `BATCH` kernel log records of one watched process, as the eBPF receiver makes them. */
function kernelRecords(seq: number): unknown {
  const logRecords = Array.from({ length: BATCH }, (_, i) =>
    writeKernelRecord({ kind: 'open', timeUnixNano: long(T0 + BigInt(seq * BATCH + i) * 1000n), observedTimeUnixNano: long(T0 + BigInt(seq * BATCH + i) * 1000n + 70000n), body: `open /srv/data/doc-${i % 50}.txt`, attributes: eventAttributes(i) }),
  );
  const resource = { attributes: [attr('host.name', 'bench'), attr('service.name', 'unknown_service:python3'), attr('process.pid', 4242), attr('process.parent_pid', 1), attr('process.executable.name', 'python3'), attr('process.user.id', 1000)] };
  return { resourceLogs: [{ resource, scopeLogs: [{ scope: { name: 'aibom.ebpf', version: '0.1.0' }, logRecords }] }] };
}

/** A chat's messages as OpenInference writes them into `input.value`/`output.value`: JSON text. */
const message = (i: number, extra: string) => ({
  role: i % 2 ? 'assistant' : 'user',
  content: `Kundin #${i} fragt nach der Garantie für "Modell X-${i}".\nBitte prüfen: Rechnung, Seriennummer, Kaufdatum (2025-0${1 + (i % 9)}-1${i % 10}).\n\tDanke!${extra}`,
});
const chat = (messages: object[]) => JSON.stringify({ messages, tool_calls: [{ name: 'search_kb', arguments: '{"query":"warranty claim process","collection":"faq","top_k":3}' }] });
/** `--content-bytes`: messages added (each with a line of plain text and an emoji) until the text holds that many bytes. */
function sizedChat(bytes: number): string {
  const messages: object[] = [];
  let text = chat(messages);
  while (Buffer.byteLength(text) < bytes) {
    messages.push(message(messages.length, ' The order was placed online and delivered late; the customer attached a photo 📷.'));
    text = chat(messages);
  }
  return text;
}
const CONTENT_BYTES = values['content-bytes'] === undefined ? undefined : Number(values['content-bytes']);
const CHAT = CONTENT_BYTES === undefined ? chat(Array.from({ length: 12 }, (_, i) => message(i, ''))) : sizedChat(CONTENT_BYTES);
const OUTPUT = CONTENT_BYTES === undefined ? CHAT.slice(0, 2000) : CHAT.slice(0, CHAT.length >> 1);

/** The request with `input.value` and `output.value` on its every other span, re-encoded: content in the bytes, as an agent sends it. */
function withContent(codec: { decode(b: Uint8Array): unknown; encode(d: unknown): Uint8Array }, request: Uint8Array): Uint8Array {
  const d = codec.decode(request) as { resourceSpans: { scopeSpans: { spans: { attributes?: KeyValue[] }[] }[] }[] };
  let n = 0;
  for (const rs of d.resourceSpans) for (const ss of rs.scopeSpans) for (const span of ss.spans) if (n++ % 2 === 0) (span.attributes ??= []).push(attr('input.value', CHAT), attr('output.value', OUTPUT));
  return codec.encode(d);
}

/** A build's own modules (a received span is an instance of its build's WireSpan). */
async function load(dist: string, name: string): Promise<Build> {
  const m = (p: string) => import(pathToFileURL(path.join(dist, p)).href);
  const [{ tracesCodec }, writer, { canonicalView }, { writeAttributes }, { fileExporterFactory }, { silentLogger }, { Metrics }] = await Promise.all([
    m('pipeline/otlp/codec.js'),
    m('pipeline/otlp/json-writer.js'),
    m('processors/normalize/canonical.js'),
    m('processors/normalize/processor.js'),
    m('exporters/file/factory.js'),
    m('pipeline/telemetry/logger.js'),
    m('pipeline/telemetry/metrics.js'),
  ]);
  const batch = (seq: number): Data => {
    if (SHAPE === 'kernel') return kernelSpans(seq);
    const spans: unknown[] = [];
    let first: Data['resourceSpans'][number] | undefined;
    for (let r = 0; spans.length < BATCH; r++) {
      const request = loadgenRequest(SHAPE === 'content' ? 'agent' : SHAPE, seq * 1000 + r, REQUEST_SPANS);
      const d = tracesCodec.decodeReceived(SHAPE === 'content' ? withContent(tracesCodec, request) : request) as Data;
      first ??= d.resourceSpans[0]!;
      for (const span of d.resourceSpans[0]!.scopeSpans[0]!.spans) if (spans.length < BATCH) spans.push(span);
    }
    for (const span of spans) writeAttributes(span, canonicalView(span));
    return { resourceSpans: [{ resource: first!.resource, scopeSpans: [{ scope: first!.scopeSpans[0]!.scope, spans }] }] };
  };
  const exporter = fileExporterFactory.create({ id: 'file', name: '', logger: silentLogger(), metrics: new Metrics() }, { path: '/dev/null', flushIntervalMs: 1000 });
  await exporter.start();
  // As the exporter uses it: appended to a buffer kept from one call to the next (builds before had tracesJson(data): Buffer).
  const out = { bytes: Buffer.alloc(0), length: 0 };
  const json = writer.appendTracesJson
    ? (d: Data) => {
        out.length = 0;
        writer.appendTracesJson(d, out);
        return out.bytes.subarray(0, out.length);
      }
    : writer.tracesJson;
  return { name, json, toJson: (d) => tracesCodec.toJson(d), batch, exporter };
}

/** `measure` for an async call: calls per CPU second. */
async function measureAsync(fn: () => Promise<unknown>, seconds: number): Promise<number> {
  for (let i = 0; i < 5; i++) await fn();
  (globalThis as { gc?: () => void }).gc?.();
  let ops = 0;
  const cpu = process.cpuUsage();
  const deadline = performance.now() + seconds * 1000;
  while (performance.now() < deadline) {
    await fn();
    ops++;
  }
  const used = process.cpuUsage(cpu);
  return ops / ((used.user + used.system) / 1e6);
}

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const builds = [await load(here, 'this build')];
if (values.build) builds.push(await load(path.resolve(values.build), path.basename(path.dirname(path.resolve(values.build))) + ' build'));

const results = new Map<string, number[]>();
const record = (name: string, usPerSpan: number) => results.set(name, [...(results.get(name) ?? []), usPerSpan]);
const perSpan = (callsPerCpuSec: number) => 1e6 / callsPerCpuSec / BATCH;

const prepared = builds.map((b) => Array.from({ length: DISTINCT }, (_, i) => b.batch(i + 1)));
const records = Array.from({ length: DISTINCT }, (_, i) => kernelRecords(i + 1));
const reference = builds[0]!.toJson(builds[0]!.batch(1));
for (const [i, b] of builds.entries()) {
  if (b.json(prepared[i]![0]!).toString() !== reference) throw new Error(`${b.name}: json-writer and toJson differ on the bench batch`);
}
for (let r = 0; r < ROUNDS; r++) {
  for (const [i, b] of builds.entries()) {
    const pool = prepared[i]!;
    let n = 0;
    record(`${b.name}: json-writer`, perSpan(measure('json', () => b.json(pool[n++ % DISTINCT]!), SECONDS, 1).opsPerCpuSec));
    record(`${b.name}: file exporter consume`, perSpan(await measureAsync(() => b.exporter.traces.consume(pool[n++ % DISTINCT]!), SECONDS)));
    if (SHAPE === 'kernel') record(`${b.name}: file exporter consume, log records`, perSpan(await measureAsync(() => b.exporter.logs.consume(records[n++ % DISTINCT]), SECONDS)));
    if (values['to-json'] && i === 0) {
      const prep = perSpan(measure('prep', () => b.batch(1), SECONDS, 1).opsPerCpuSec);
      record(`${b.name}: codec.toJson (decoding taken off)`, perSpan(measure('toJson', () => b.toJson(b.batch(1)), SECONDS, 1).opsPerCpuSec) - prep);
    }
  }
}
for (const b of builds) await b.exporter.shutdown();

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`${SHAPE} batches of ${BATCH} ${SHAPE === 'kernel' ? 'spans made as objects (and log records)' : `spans (${REQUEST_SPANS}-span requests merged as batch does)`}, JSON ${reference.length} bytes; node ${process.version}, ${ROUNDS} rounds x ${SECONDS}s, interleaved`);
console.log('case                                                  us CPU/span: median (min-max)');
for (const [name, xs] of results) console.log(`${name.padEnd(53)} ${median(xs).toFixed(2).padStart(6)} (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`);
