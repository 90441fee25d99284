/**
 * processors/correlate alone over agent runs shaped like the reference agent's (what the sensor saw in
 * `sensor-overhead.js agent --collector`: ~94% file opens, most of them module loads that fold), on an
 * injected clock, so its per-event CPU and V8's recompiles of its hot functions can be read without the
 * rest of the pipeline. A script:
 *
 *   npx tsc -p tsconfig.build.json && node --expose-gc dist/bench/correlate-run.bench.js [runs] [--root DIR] [--marks]
 *
 * Each run is a new agent process: its start-up (module loads, missing-file probes, shared libraries,
 * /proc/self reads: before its first span, so they wait the whole window and become process activity),
 * then 20 attacks of 400 ms (an LLM call with its HTTP client span, the request naming it in a traceparent
 * and the response as HTTP events; a tool call reading two data files), two of which start an MCP server
 * (fork, exec, ~500 module loads, a connect, exit) under the tool call; the attack's spans arrive
 * 100 ms after it ends, the run's root span at its end. Events arrive every 50 ms of the clock (made
 * into log records by receiver/ebpf's LogsBuilder before the run is measured), a round every 250 ms. CPU per event (all threads, and the main thread from schedstat) per run, and
 * over the warm runs (from the 9th). `--marks`: a line `correlate-run N` on stdout as run N begins, to
 * split V8's `--trace-opt --trace-deopt` output (also on stdout) by run. `--root`: another build.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const value = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const RUNS = Number(argv.find((a, i) => /^\d+$/.test(a) && argv[i - 1] !== '--root') ?? 24);
const WARM_FROM = Math.min(8, RUNS - 1);
const marks = argv.includes('--marks');
const root = path.resolve(value('root') ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '../..'));
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const load = (p: string): Promise<any> => import(path.join(root, 'dist', p));

const { CorrelateProcessor } = await load('processors/correlate/correlate-processor.js');
const { createDefaultConfig } = await load('processors/correlate/config.js');
const { LogsBuilder, nsToLong } = await load('receiver/ebpf/convert.js');
const { createContainerResolver } = await load('receiver/ebpf/container.js');
const { attrs, bigIntToLong } = await load('pipeline/otlp/attributes.js');
const { Metrics } = await load('pipeline/telemetry/metrics.js');
const { silentLogger } = await load('pipeline/telemetry/logger.js');

const T0_MS = 1_790_000_000_000;
const RUN_MS = 12_000;
const ATTACKS = 20;
const ATTACK_MS = 400;
const FIRST_ATTACK_MS = 1000;
const FEED_MS = 50;
const TICK_MS = 250;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type SensorEvent = any;
interface TimedSpans {
  at: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data: any;
}

let seq = 0;
const base = (pid: number, ppid: number, comm: string, ms: number) => ({
  seq: ++seq,
  ktimeNs: 0n,
  timeUnixNano: BigInt(Math.round(ms * 1000)) * 1000n,
  pid,
  tid: pid,
  ppid,
  uid: 1000,
  cgroupId: 4242n,
  comm,
  flags: 0,
  repeat: 0,
  truncated: false,
});
const open = (pid: number, ppid: number, comm: string, ms: number, p: string, ret = 3): SensorEvent => ({ ...base(pid, ppid, comm, ms), kind: 'open', path: p, openFlags: 0o2000000, mode: 0, ret, credential: false });
const hex = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, '0');

/** Module loads of a node process: `n` files of a few packages under one node_modules. */
const modules = (rootDir: string, n: number) => Array.from({ length: n }, (_, i) => `${rootDir}/node_modules/pkg-${i % 37}/lib/file-${i}.js`);

/** Run `r`: its events (time order) and its spans (when they arrive). */
function run(r: number): { events: SensorEvent[]; spans: TimedSpans[] } {
  const t0 = T0_MS + r * RUN_MS;
  const pid = 40_000 + r * 10;
  const comm = 'node';
  const ev: SensorEvent[] = [];
  ev.push({ ...base(pid, 1, comm, t0), kind: 'exec', oldPid: pid, filename: '/usr/bin/node', args: ['node', 'agent.mjs', '--api-key', 'sk-secret'], argsCount: 4, monitorReason: 'none' });
  const startup = [
    ...modules('/app', 600),
    ...Array.from({ length: 100 }, (_, i) => `/app/src/missing-${i}.json`),
    ...Array.from({ length: 20 }, (_, i) => `/usr/lib/x86_64-linux-gnu/lib${i}.so.1`),
    ...Array.from({ length: 20 }, () => '/proc/self/stat'),
  ];
  startup.forEach((p, i) => ev.push(open(pid, 1, comm, t0 + 10 + (400 * i) / startup.length, p, p.includes('missing') ? -2 : 3)));
  const spans: TimedSpans[] = [];
  const trace = hex(r + 1, 16);
  const span = (id: number, parent: number, name: string, from: number, to: number, kind: number, a: Record<string, string | number>) => ({
    traceId: Buffer.from(trace, 'hex'),
    spanId: Buffer.from(hex(r * 1000 + id, 8), 'hex'),
    parentSpanId: parent ? Buffer.from(hex(r * 1000 + parent, 8), 'hex') : Buffer.alloc(0),
    name,
    kind,
    startTimeUnixNano: bigIntToLong(BigInt(Math.round(from * 1000)) * 1000n),
    endTimeUnixNano: bigIntToLong(BigInt(Math.round(to * 1000)) * 1000n),
    attributes: attrs(a),
  });
  const resource = { attributes: attrs({ 'service.name': 'support-agent', 'process.pid': pid, 'telemetry.sdk.language': 'nodejs' }) };
  const sent = (at: number, list: unknown[]) => spans.push({ at, data: { resourceSpans: [{ resource, scopeSpans: [{ scope: { name: 'openinference' }, spans: list }] }] } });
  for (let k = 0; k < ATTACKS; k++) {
    const t = t0 + FIRST_ATTACK_MS + k * ATTACK_MS;
    const llm = 10 + k * 4;
    const request = Buffer.from(`POST /v1/chat/completions HTTP/1.1\r\nhost: llm.local\r\ntraceparent: 00-${trace}-${hex(r * 1000 + llm + 1, 8)}-01\r\n\r\n{"model":"gpt-4o"}`);
    if (k === 0) ev.push({ ...base(pid, 1, comm, t + 5), kind: 'connect', ret: -115, family: 4, transport: 'tcp', protocol: 6, localAddress: '127.0.0.1', localPort: 40_000 + r, peerAddress: '127.0.0.1', peerPort: 8080, inProgress: true });
    ev.push({ ...base(pid, 1, comm, t + 20), kind: 'http', data: request, totalLen: request.length, fd: 20, peerAddress: '127.0.0.1', peerPort: 8080 });
    const reply = Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{}');
    ev.push({ ...base(pid, 1, comm, t + 140), kind: 'http', data: reply, totalLen: reply.length, fd: 20, peerAddress: '127.0.0.1', peerPort: 8080 });
    ev.push(open(pid, 1, comm, t + 220, `/data/kb/doc-${k % 5}.md`));
    ev.push(open(pid, 1, comm, t + 230, '/data/kb/index.json'));
    if (k === 3 || k === 13) {
      // The tool starts an MCP server: fork, exec, its module loads, a connect, exit.
      const child = pid + (k === 3 ? 1 : 2);
      ev.push({ ...base(pid, 1, comm, t + 205), kind: 'fork', childPid: child });
      ev.push({ ...base(child, pid, comm, t + 206), kind: 'exec', oldPid: child, filename: '/usr/bin/node', args: ['node', 'mcp-server.js'], argsCount: 2, monitorReason: 'none' });
      modules('/opt/mcp', 500).forEach((p, i) => ev.push(open(child, pid, comm, t + 207 + (150 * i) / 500, p)));
      ev.push({ ...base(child, pid, comm, t + 360), kind: 'connect', ret: 0, family: 4, transport: 'tcp', protocol: 6, localAddress: '127.0.0.1', localPort: 50_000 + k, peerAddress: '127.0.0.1', peerPort: 9000, inProgress: false });
      ev.push({ ...base(child, pid, comm, t + 375), kind: 'exit', exitStatus: 0, exitCode: 0, signal: null, startKtimeNs: 0n });
    }
    sent(t + ATTACK_MS + 100, [
      span(llm, 1, 'chat gpt-4o', t, t + 150, 3, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o' }),
      span(llm + 1, 1, 'POST', t + 10, t + 145, 3, { 'http.request.method': 'POST', 'server.address': 'llm.local', 'server.port': 8080 }),
      span(llm + 2, 1, 'execute_tool search_kb', t + 200, t + 380, 1, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search_kb' }),
    ]);
  }
  const end = t0 + FIRST_ATTACK_MS + ATTACKS * ATTACK_MS;
  ev.push({ ...base(pid, 1, comm, end + 50), kind: 'exit', exitStatus: 0, exitCode: 0, signal: null, startKtimeNs: 0n });
  sent(end + 100, [span(1, 0, 'invoke_agent support-agent', t0 + 500, end, 1, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'support-agent' })]);
  ev.sort((a: SensorEvent, b: SensorEvent) => (a.timeUnixNano < b.timeUnixNano ? -1 : 1));
  return { events: ev, spans };
}

const runs = Array.from({ length: RUNS }, (_, r) => run(r));
let clock = T0_MS;
let made = 0;
const next = {
  traces: {
    consume: async (d: { resourceSpans: { scopeSpans: { scope?: { name?: string }; spans: unknown[] }[] }[] }) => {
      for (const rs of d.resourceSpans) for (const ss of rs.scopeSpans) if (ss.scope?.name === 'aibom.correlate') made += ss.spans.length;
    },
  },
  logs: { consume: async () => undefined },
};
const metrics = new Metrics();
const p = new CorrelateProcessor({ id: 'correlate', name: '', logger: silentLogger(), metrics }, createDefaultConfig(), next, () => clock);
const builder = new LogsBuilder({ capturePayload: true, containers: createContainerResolver({ procRoot: '/nonexistent' }), processCacheSize: 16_384, readProc: false, hostName: 'node-1', scopeVersion: 'bench' });

const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const mainUs = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'latin1').split(' ')[0]) / 1000;

/** Run `r`'s kernel events as the receiver hands them on, one batch per FEED_MS of the clock (made before it is measured). */
function batches(r: number): Map<number, unknown> {
  const { events } = runs[r]!;
  const out = new Map<number, unknown>();
  let e = 0;
  for (let t = T0_MS + r * RUN_MS; t < T0_MS + (r + 1) * RUN_MS; t += FEED_MS) {
    const now = nsToLong(BigInt(t) * 1_000_000n);
    const from = e;
    while (e < events.length && Number(events[e].timeUnixNano / 1_000_000n) < t) builder.add(events[e++], now, now);
    if (e > from) out.set(t, builder.take());
  }
  return out;
}

const perRun: { us: number; main: number; events: number }[] = [];
let nextTick = clock + TICK_MS;
for (let r = 0; r < RUNS; r++) {
  const logs = batches(r);
  const { events, spans } = runs[r]!;
  if (marks) console.log(`correlate-run ${r + 1}`);
  const c0 = cpuUs();
  const m0 = mainUs();
  let s = 0;
  const end = T0_MS + (r + 1) * RUN_MS;
  for (clock = T0_MS + r * RUN_MS; clock < end; clock += FEED_MS) {
    const batch = logs.get(clock);
    if (batch) await p.logs.consume(batch);
    while (s < spans.length && spans[s]!.at <= clock) await p.traces.consume(spans[s++]!.data);
    if (clock >= nextTick) {
      await p.tick();
      nextTick += TICK_MS;
    }
  }
  perRun.push({ us: cpuUs() - c0, main: mainUs() - m0, events: events.length });
}
clock += 60_000;
await p.shutdown();

const warm = perRun.slice(WARM_FROM);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const placed = (await metrics.registry.getSingleMetric('aibom_correlate_events_total')?.get()) as { values: { value: number; labels: { key?: string } }[] };
console.log(`build ${root}: ${RUNS} runs of ${runs[0]!.events.length} events`);
console.log(`per run, CPU µs per event (all threads / main thread): ${perRun.map((x) => `${(x.us / x.events).toFixed(1)}/${(x.main / x.events).toFixed(1)}`).join(' ')}`);
console.log(`warm (runs ${WARM_FROM + 1}-${RUNS}): ${(sum(warm.map((x) => x.us)) / sum(warm.map((x) => x.events))).toFixed(2)} µs/event all threads, main thread ${(sum(warm.map((x) => x.main)) / sum(warm.map((x) => x.events))).toFixed(2)}`);
console.log(`placed: ${placed.values.map((v) => `${v.labels.key}=${v.value}`).join(' ')}; spans made: ${made}`);
