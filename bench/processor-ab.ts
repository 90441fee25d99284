/**
 * One processor of two builds side by side in one process, fed the pass-through bench's load, in
 * alternating rounds: CPU µs per span of `traces.consume` (and the tick, for baseline), median and
 * mean of the rounds per build. On a shared machine runs of separate processes move ±30%; here both
 * builds see the same load on the machine at the same time. A script:
 *
 *   npm run build && node --expose-gc dist/bench/processor-ab.js <aibom|baseline|provenance> <llm|agent|kernel> <build A> <build B> [rounds] [ms per round]
 *
 * A build is a checkout with `dist/` built (e.g. `git worktree add /tmp/base <rev>`, node_modules
 * linked, `npx tsc -p tsconfig.build.json`). Every request has ids of its own (1000 distinct, so the
 * bounded tables are full and evicting); each is decoded as received bytes and put through the real
 * `normalize`, then has its ids, canonical view and times read as the stages before would, all
 * outside the measured window; 10 requests are measured at a time after a `gc()` (so the garbage of
 * decoding is not charged to the processor), less what a `process.cpuUsage` pair itself costs.
 * `kernel`: the agent-run requests, each followed by what correlate makes under its spans (the
 * kernel-path bench's shapes, as objects: an exec, connects, TLS writes and reads, folded module
 * loads with their sample paths, a data file a tool reads), the figure per kernel span (the agent
 * spans before them not measured), on the main thread alone (schedstat).
 */
import { readFileSync } from 'node:fs';
import Long from 'long';
import { loadgenRequest } from './loadgen-shape.js';
import { abArgs, median } from './ab-rounds.js';

type Processor = 'aibom' | 'baseline' | 'provenance';
type TracesData = { resourceSpans: { scopeSpans: { spans: { startTimeUnixNano: unknown }[] }[] }[] };
interface Consumer {
  traces: { consume(d: TracesData): Promise<void> };
  tick?: () => Promise<void>;
  start?: (host: unknown) => Promise<void>;
}

const args = abArgs('processor-ab', [['aibom', 'baseline', 'provenance'], ['llm', 'agent', 'kernel']], { rounds: 16, ms: 300 });
const proc = args.picked[0] as Processor;
const shape = args.picked[1] as 'llm' | 'agent' | 'kernel';
const { buildA, buildB, rounds: ROUNDS, roundMs: ROUND_MS } = args;
const BATCH = 10;
const POOL = 1000;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

/** The processor of one build, and that build's own decoding (received spans are its own classes). */
async function build(dir: string) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const load = (path: string): Promise<any> => import(`${dir}/dist/${path}`);
  const { tracesCodec } = await load('pipeline/otlp/codec.js');
  const { spanIds } = await load('pipeline/otlp/span-view.js');
  const { silentLogger } = await load('pipeline/telemetry/logger.js');
  const { Metrics } = await load('pipeline/telemetry/metrics.js');
  const { createHost } = await load('pipeline/host.js');
  const { normalizeProcessorFactory, canonicalView } = await load('processors/normalize/index.js');
  const settings = (id: string) => ({ id, name: '', logger: silentLogger(), metrics: new Metrics() });
  const normalize = normalizeProcessorFactory.create(settings('normalize'), normalizeProcessorFactory.createDefaultConfig(), { traces: { consume: async () => {} } });
  const next = { traces: { consume: async () => {} }, logs: { consume: async () => {} } };
  const clock = { ms: 1_000_000 };
  const file = { aibom: 'aibom/aibom-processor.js', baseline: 'baseline/baseline-processor.js', provenance: 'provenance/provenance-processor.js' }[proc];
  const Class = Object.values(await load(`processors/${file}`)).find((v) => typeof v === 'function' && /Processor$/.test((v as { name: string }).name)) as new (...a: unknown[]) => Consumer;
  const { createDefaultConfig } = await load(`processors/${proc}/config.js`);
  const p = new Class(settings(proc), createDefaultConfig(), next, () => clock.ms);
  if (proc === 'baseline') await p.start!(createHost());
  const { attr, attrs } = await load('pipeline/otlp/attributes.js');
  return {
    /** What correlate makes under the agent spans of `d` (its own objects: correlate's spans are never received bytes). */
    kernel(d: TracesData): TracesData {
      return kernelSpans(d as unknown as ReceivedTraces, spanIds, attr, attrs);
    },
    async received(bytes: Buffer): Promise<TracesData> {
      const d = tracesCodec.decodeReceived(Buffer.from(bytes)) as TracesData;
      await normalize.traces.consume(d);
      // As correlate and aibom leave them before baseline and provenance: viewed and their times read;
      // no processor makes every span's ids hex any more, so neither does this.
      for (const rs of d.resourceSpans)
        for (const ss of rs.scopeSpans)
          for (const s of ss.spans) {
            canonicalView(s);
            void s.startTimeUnixNano;
          }
      return d;
    },
    async step(d: TracesData): Promise<void> {
      await p.traces.consume(d);
      // The pass-through bench's rate: a request of 100 spans every 5 ms of the clock (20k spans/s).
      clock.ms += 5;
      if (clock.ms % 100 === 0) await p.tick?.();
    },
  };
}

const pool = Array.from({ length: POOL }, (_, i) => loadgenRequest(shape === 'kernel' ? 'agent' : shape, i + 1));
const builds = [await build(buildA), await build(buildB)];
const next = [0, 0];
let pair = 0;
{
  const c0 = process.cpuUsage();
  for (let i = 0; i < 20_000; i++) process.cpuUsage(process.cpuUsage());
  const c = process.cpuUsage(c0);
  pair = (c.user + c.system) / 20_000;
}
/**
 * The main thread's CPU ns so far (schedstat): the kernel shape's requests are short, and the
 * process's CPU in them was mostly V8's other threads still sweeping after the `gc()` before.
 */
const mainNs = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'latin1').split(' ')[0]);
let mainPair = 0;
{
  const t0 = mainNs();
  for (let i = 0; i < 2_000; i++) mainNs();
  mainPair = (mainNs() - t0) / 1000 / 2_000;
}

/** CPU µs per span of build `b` over `ms` of the wall clock (per kernel span, for `kernel`: the agent spans before them are not measured). */
async function round(b: number, ms: number): Promise<number> {
  const x = builds[b]!;
  let cpu = 0;
  let spans = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const batch: TracesData[] = [];
    for (let i = 0; i < BATCH; i++) {
      batch.push(await x.received(pool[next[b]! % POOL]!));
      next[b]!++;
    }
    if (shape === 'kernel') {
      const kernel = batch.map((d) => x.kernel(d));
      gc!();
      for (let i = 0; i < BATCH; i++) {
        await x.step(batch[i]!);
        const t0 = mainNs();
        await x.step(kernel[i]!);
        cpu += (mainNs() - t0) / 1000 - mainPair;
        spans += kernel[i]!.resourceSpans[0]!.scopeSpans[0]!.spans.length;
      }
      continue;
    }
    gc!();
    const c0 = process.cpuUsage();
    for (const d of batch) await x.step(d);
    const c = process.cpuUsage(c0);
    cpu += c.user + c.system - pair;
    spans += 100 * BATCH;
  }
  return cpu / spans;
}

for (let w = 0; w < 3; w++) for (const b of [0, 1]) await round(b, 1000);
const results: number[][] = [[], []];
for (let r = 0; r < ROUNDS; r++) for (const b of r % 2 ? [1, 0] : [0, 1]) results[b]!.push(await round(b, ROUND_MS));
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
const show = (a: number[]) => `median ${median(a).toFixed(2)}, mean ${mean(a).toFixed(2)}`;
console.log(`${proc}, ${shape} load: A ${show(results[0]!)} | B ${show(results[1]!)} µs CPU per span (${ROUNDS} rounds of ${ROUND_MS} ms each)`);

// ---------------------------------------------------------------- correlate's spans for the kernel shape

interface ReceivedTraces {
  resourceSpans: { scopeSpans: { spans: object[] }[] }[];
}
type Attr = (key: string, value: unknown) => unknown;
type Attrs = (r: Record<string, unknown>) => unknown[];
type Ids = (s: object) => { traceId: string; spanId: string };


/**
 * Correlate's spans under the agent-run traces of `d` (13 per trace: what the kernel-path bench's
 * correlate makes per agent, plus an MCP server process a tool call started and the file it read), attribute for attribute as its span builder
 * writes them (the record's attributes, then kind, count and correlation key; a folded open's fold
 * facts instead of the record's), one resource per agent process as its Output makes them.
 */
function kernelSpans(d: ReceivedTraces, spanIds: Ids, attr: Attr, attrs: Attrs): TracesData {
  const agent = d.resourceSpans[0]!.scopeSpans[0]!.spans;
  const MODULES = '/usr/lib/python3.11/site-packages';
  const pid = 4000;
  const resource = {
    attributes: [
      ...attrs({ 'service.name': 'bench-agent', 'host.name': 'bench', 'host.id': '3d1219c7c4c5404aaa1f6d2a48adfda4', 'process.pid': pid, 'process.parent_pid': 1, 'process.executable.name': 'python3', 'process.user.id': 0, 'process.executable.path': '/usr/bin/python3' }),
      attr('process.command_args', ['python3', '-m', 'agent', '--api-key', '[REDACTED]']),
    ],
  };
  const spans: object[] = [];
  let seq = 0;
  let n = 0;
  const at = Long.fromString('1764470000123456789', true);
  const span = (traceId: string, parent: string, name: string, a: unknown[], kind: string, key = 'pid_time', count = 1) => {
    const spanId = Buffer.alloc(8);
    spanId.writeUInt32BE(++n, 4);
    spanId.writeUInt32BE(0xfeed0000 + (n >>> 16), 0);
    spans.push({
      traceId: Buffer.from(traceId, 'hex'),
      spanId,
      parentSpanId: Buffer.from(parent, 'hex'),
      name,
      kind: 1,
      startTimeUnixNano: at,
      endTimeUnixNano: at.add(n),
      attributes: [...a, attr('aibom.kernel.kind', kind), attr('aibom.kernel.count', count), attr('aibom.correlation.key', key)],
    });
    return spanId.toString('hex');
  };
  const record = (r: Record<string, unknown>) => [...attrs({ 'thread.id': pid, 'aibom.kernel.seq': ++seq, 'aibom.kernel.cgroup_id': 1 }), ...attrs(r)];
  const connect = (traceId: string, parent: string, address: string, port: number, count = 1) =>
    span(traceId, parent, `connect ${address}:${port}`, record({ 'network.transport': 'tcp', 'network.type': 'ipv4', 'network.peer.address': address, 'network.peer.port': port, 'server.address': address, 'server.port': port, 'aibom.network.in_progress': false, 'aibom.network.result': 0 }), 'connect', 'pid_time', count);
  const folded = (traceId: string, parent: string, root: string, rule: string, from: number, count: number) =>
    span(traceId, parent, `load ${count} modules under ${root}`, [attr('aibom.fold.rule', rule), attr('file.directory', root), attr('aibom.file.distinct_paths', count), attr('aibom.fold.sample_paths', Array.from({ length: 10 }, (_, i) => `${root}/langchain_core/runnables/mod${from + i}.py`))], 'open', 'pid_time', count);
  for (let t = 0; t + 10 <= agent.length; t += 10) {
    const ids = agent.slice(t, t + 10).map((s) => spanIds(s));
    const trace = ids[0]!.traceId;
    const [root, llm, kb, , , readFile, , , ticket] = ids.map((i) => i.spanId);
    span(trace, root!, 'exec /usr/bin/python3', record({ 'process.executable.path': '/usr/bin/python3', 'process.command_args': ['python3', '-m', 'agent', '--api-key', '[REDACTED]'] }), 'exec');
    folded(trace, root!, MODULES, 'python_packages', 0, 51);
    folded(trace, root!, MODULES, 'python_packages', 20, 12);
    connect(trace, llm!, '104.18.7.192', 443);
    span(trace, llm!, 'tls POST api.openai.com/v1/chat/completions', record({ 'aibom.tls.direction': 'write', 'aibom.payload.size': 331, 'http.request.method': 'POST', 'url.path': '/v1/chat/completions', 'server.address': 'api.openai.com', 'http.request.body.size': 200, 'aibom.wire.traceparent': `00-${trace}-${llm}-01`, 'aibom.wire.traceparent_source': 'tls', 'gen_ai.request.model': 'gpt-4o' }), 'tls', 'traceparent');
    span(trace, llm!, 'tls response 200', record({ 'aibom.tls.direction': 'read', 'aibom.payload.size': 70, 'http.response.status_code': 200 }), 'tls', 'pid_time', 2);
    connect(trace, kb!, '10.0.0.7', 8080, 5);
    folded(trace, kb!, MODULES, 'python_packages', 40, 33);
    // The MCP server a tool call started, and what it read.
    const server = span(trace, readFile!, `process node (pid ${pid + 1})`, [...attrs({ 'process.pid': pid + 1, 'process.parent_pid': pid, 'process.executable.name': 'node', 'process.executable.path': '/usr/bin/node' }), attr('process.command_args', ['node', '/opt/mcp/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js', '/srv/data'])], 'process');
    span(trace, server, 'open /srv/data/faq.md', record({ 'file.path': '/srv/data/faq.md', 'aibom.file.open_flags': 0, 'aibom.file.result': 3 }), 'open');
    folded(trace, server, '/opt/mcp/node_modules', 'node_modules', 0, 40);
    connect(trace, ticket!, '10.0.0.8', 8081);
    span(trace, ticket!, 'http POST tickets.internal/tickets', record({ 'network.peer.address': '10.0.0.8', 'network.peer.port': 8081, 'http.request.method': 'POST', 'url.path': '/tickets', 'server.address': 'tickets.internal', 'http.request.body.size': 420 }), 'http');
  }
  return { resourceSpans: [{ resource, scopeSpans: [{ scope: { name: 'aibom.correlate', version: 'bench' }, spans }] }] } as unknown as TracesData;
}
