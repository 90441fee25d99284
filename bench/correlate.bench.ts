/**
 * processors/correlate figures: memory of the window buffer, added latency, throughput. A script, not
 * a timed unit test:
 *
 *   npm run build && node --expose-gc dist/bench/correlate.bench.js [memory|memory-startup|tick|latency|throughput|fold|index|query|all]
 *
 * Kernel events are made by receiver/ebpf's own LogsBuilder from synthetic decoded sensor events, so the
 * log records held in the window have exactly the in-memory shape the receiver hands the pipeline.
 * Agent spans are shaped like an OpenInference agent's (agent run > LLM call + its HTTP client span >
 * tool call), one process per agent.
 *
 * - memory: 10k events/s (opens and connects from 8 processes, a few DNS lookups) for 45 s of an
 *   injected clock (ticks every 250 ms of it), no span matches: every event is held for the whole
 *   window. heapUsed after gc() minus the heap before, per held event; with the window as the bound, with
 *   the default max_buffered_events and with a small one (memory flat, evicted counter climbs).
 *   `memory-startup`: the same with module loads only, each batch the processes' opens in turn (runs of
 *   consecutive opens under one root, which correlate holds as one).
 * - held-records: the records of runs of 2, 10 and 100 opens (the receiver's, from its LogsBuilder; kernel
 *   time, fd, sequence number, time and path differ per open, as on a real agent) held as HeldRecords
 *   (pipeline/kernel-event): heap per open with the records kept as they are and with the runs' columns
 *   instead, and CPU per open of holding them (start, add, done).
 * - tick: CPU of one matching round over the full window held by `memory` (every held event is
 *   matched again on every tick).
 * - latency: real time and the processor's own timer (tick 250 ms, settle 1 s). 100 agent traces/s
 *   over 1k agents; each trace's kernel events arrive first, its spans 0.5 s later (SDK batching).
 *   Pass-through: traces consume() -> the next consumer. Placement: span arrival -> the kernel spans
 *   made for that trace reaching the next consumer.
 * - throughput: 1k agents' spans indexed (20k spans), events matched by pid+time, socket tuple and
 *   process tree; events consumed + matched + emitted per CPU second (user + system).
 * - fold: the per-open cost of the fold rules alone (fold.ts), over PATHS plus the shapes a Python MCP
 *   server's start-up opens (stdlib, site-packages, shared libraries, locale, missing files) and data
 *   files no rule matches (the worst case: every rule is tried).
 * - index: the span side alone, shaped like bench/loadgen (requests of 100 LLM client spans of one
 *   process, each its own trace, 10 GenAI/HTTP attributes), received as bytes with their canonical view
 *   already made (normalize runs first): CPU per span of `traces.consume` (indexing) and of the ticks
 *   evicting them (10k spans/s of an injected clock, past `max_indexed_spans`), heap + array buffers per
 *   indexed span, then kernel events of that process matched by pid and time against its 200k spans.
 * - query: `SpanIndex.innermostOfPid` alone (the pid + time lookup), 1 000 agents with 20 spans each
 *   (agentTrace's shape, 5 traces 5 s apart) and 10 agents with 2 000 each.
 */
import { createHost } from '../pipeline/host.js';
import { bigIntToLong } from '../pipeline/otlp/attributes.js';
import { attrs } from '../pipeline/otlp/attributes.js';
import type { LogsData, Span, TracesData } from '../pipeline/otlp/types.js';
import { asReceived } from '../pipeline/otlp/testdata/received.js';
import { canonicalView } from '../processors/normalize/index.js';
import { silentLogger } from '../pipeline/telemetry/logger.js';
import { Metrics } from '../pipeline/telemetry/metrics.js';
import { createDefaultConfig, type CorrelateConfig } from '../processors/correlate/config.js';
import { CorrelateProcessor } from '../processors/correlate/correlate-processor.js';
import { defaultFoldConfig, Folder } from '../processors/correlate/fold.js';
import { SpanIndex } from '../processors/correlate/span-index.js';
import type { CanonicalSpan } from '../processors/normalize/index.js';
import { createContainerResolver } from '../receiver/ebpf/container.js';
import { HeldRecords } from '../pipeline/kernel-event/index.js';
import { LogsBuilder, nsToLong } from '../receiver/ebpf/convert.js';
import type { SensorEvent } from '../receiver/ebpf/frame-decoder.js';
import { LOADGEN_CHOICE_ATTRIBUTES, LOADGEN_LLM_ATTRIBUTES } from './loadgen-shape.js';

const gc = (globalThis as { gc?: () => void }).gc;
const phase = process.argv[2] ?? 'all';
const MiB = 1024 * 1024;
const T0_MS = 1_790_000_000_000;

// ---------------------------------------------------------------- synthetic kernel events

const PATHS = [
  ...Array.from({ length: 40 }, (_, i) => `/usr/lib/python3.11/site-packages/langchain_core/runnables/mod${i}.py`),
  ...Array.from({ length: 20 }, (_, i) => `/usr/local/lib/node_modules/@modelcontextprotocol/server-filesystem/dist/chunk-${i}.js`),
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/resolv.conf',
  '/etc/hosts',
  '/data/kb/faq.md',
  '/data/kb/customers.csv',
  '/home/agent/.config/gcloud/application_default_credentials.json',
  '/proc/self/status',
  '/tmp/agent-cache/embeddings.sqlite',
];
const PEERS: [string, number][] = [
  ['10.0.12.7', 443],
  ['127.0.0.1', 8080],
  ['104.18.7.192', 443],
  ['10.96.0.10', 53],
];
const DNS = ['api.openai.com', 'kb.internal', 'pypi.org'];

let seq = 0;
function base(pid: number, ppid: number, comm: string, timeUnixNano: bigint) {
  return { seq: ++seq, ktimeNs: 0n, timeUnixNano, pid, tid: pid, ppid, uid: 1000, cgroupId: 4242n, comm, flags: 0, repeat: 0, truncated: false };
}

/** One kernel event of process `pid` at `timeMs`: mostly opens, some connects, a few DNS lookups. */
function kernelEvent(i: number, pid: number, ppid: number, comm: string, timeMs: number): SensorEvent {
  const b = base(pid, ppid, comm, BigInt(timeMs) * 1_000_000n + BigInt(i % 1000));
  const r = i % 20;
  if (r < 3) {
    const [peerAddress, peerPort] = PEERS[i % PEERS.length]!;
    return { ...b, kind: 'connect', ret: -115, family: 4, transport: 'tcp', protocol: 6, localAddress: '10.0.0.5', localPort: 40000 + (i % 20000), peerAddress, peerPort, inProgress: true };
  }
  if (r === 3) return { ...b, kind: 'dns', name: DNS[i % DNS.length]!, qtype: 1, qclass: 1, txid: i & 0xffff, serverAddress: '10.96.0.10', serverPort: 53 };
  const path = PATHS[i % PATHS.length]!;
  return { ...b, kind: 'open', path, openFlags: 0o2000000, mode: 0, ret: 3 + (i % 40), credential: path.includes('credentials') };
}

function execEvent(pid: number, ppid: number, comm: string, filename: string, args: string[], timeMs: number): SensorEvent {
  return { ...base(pid, ppid, comm, BigInt(timeMs) * 1_000_000n), kind: 'exec', oldPid: pid, filename, args, argsCount: args.length, monitorReason: 'none' };
}

function forkEvent(pid: number, ppid: number, comm: string, child: number, timeMs: number): SensorEvent {
  return { ...base(pid, ppid, comm, BigInt(timeMs) * 1_000_000n), kind: 'fork', childPid: child };
}

function newBuilder(): LogsBuilder {
  return new LogsBuilder({ capturePayload: false, containers: createContainerResolver({ procRoot: '/nonexistent' }), processCacheSize: 16_384, readProc: false, hostName: 'node-1', scopeVersion: 'bench' });
}

function logsOf(builder: LogsBuilder, events: SensorEvent[], nowMs: number): LogsData {
  const now = nsToLong(BigInt(nowMs) * 1_000_000n);
  for (const ev of events) builder.add(ev, now, now);
  return builder.take();
}

// ---------------------------------------------------------------- synthetic agent spans

const hex = (n: number, bytes: number) => Buffer.from(n.toString(16).padStart(bytes * 2, '0'), 'hex');

/** One agent trace of process `pid`: run [t, t+4s] > LLM [t+0.1, t+1.5] (+ HTTP client span beside it) > tool [t+2, t+3.5]. */
function agentTrace(trace: number, pid: number, tMs: number): TracesData {
  const span = (id: number, parent: number, name: string, from: number, to: number, kind: number, a: Record<string, string | number>): Span => ({
    traceId: hex(trace, 16),
    spanId: hex(trace * 8 + id, 8),
    parentSpanId: parent ? hex(trace * 8 + parent, 8) : Buffer.alloc(0),
    name,
    kind,
    startTimeUnixNano: bigIntToLong(BigInt(tMs + from) * 1_000_000n),
    endTimeUnixNano: bigIntToLong(BigInt(tMs + to) * 1_000_000n),
    attributes: attrs(a),
  });
  return {
    resourceSpans: [
      {
        resource: { attributes: attrs({ 'service.name': `agent-${pid}`, 'process.pid': pid, 'process.executable.name': 'python3', 'telemetry.sdk.language': 'python' }) },
        scopeSpans: [
          {
            scope: { name: 'openinference.instrumentation.langchain' },
            spans: [
              span(1, 0, 'AgentExecutor', 0, 4000, 1, { 'openinference.span.kind': 'AGENT' }),
              span(2, 1, 'ChatOpenAI', 100, 1500, 1, { 'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4o', 'llm.provider': 'openai' }),
              span(3, 1, 'POST', 120, 1480, 3, { 'http.request.method': 'POST', 'server.address': '10.0.12.7', 'server.port': 443, 'url.full': 'https://10.0.12.7/v1/chat/completions' }),
              span(4, 1, 'search_kb', 2000, 3500, 1, { 'openinference.span.kind': 'TOOL', 'tool.name': 'search_kb' }),
            ],
          },
        ],
      },
    ],
  };
}

// ---------------------------------------------------------------- helpers

class Sink {
  madeSpans = 0;
  passed = 0;
  onTraces: ((d: TracesData) => void) | undefined;
  readonly consumers = {
    traces: {
      consume: async (d: TracesData) => {
        this.onTraces?.(d);
        for (const rs of d.resourceSpans) for (const ss of rs.scopeSpans) {
          if (ss.scope?.name === 'aibom.correlate') this.madeSpans += ss.spans.length;
          else this.passed += ss.spans.length;
        }
      },
    },
    logs: { consume: async () => undefined },
  };
}

function processor(over: Partial<CorrelateConfig>, sink: Sink, now: () => number) {
  const metrics = new Metrics();
  const p = new CorrelateProcessor({ id: 'correlate', name: '', logger: silentLogger(), metrics }, { ...createDefaultConfig(), ...over }, sink.consumers, now);
  const evicted = () => metrics.value(metrics.registry.getSingleMetric('aibom_correlate_evicted_events_total') as never, {});
  const heldNow = () => metrics.value(metrics.registry.getSingleMetric('aibom_correlate_held_events') as never, {});
  return { p, evicted, heldNow };
}

/** See the header (`held-records`): 60 000 opens of one process in runs of `k`. */
function heldRecords(k: number): void {
  const n = 60_000;
  const builder = newBuilder();
  const proc = PROCS[0]!;
  const make = () => {
    const records = [];
    for (let i = 0; i < n; i += 500) {
      const events: SensorEvent[] = [];
      for (let j = i; j < i + 500; j++) {
        const time = BigInt(T0_MS) * 1_000_000n + BigInt(j * 3_000);
        events.push({ ...base(proc.pid, proc.ppid, proc.comm, time), ktimeNs: 9_000_000_000n + BigInt(j * 3_000 + (j % 7)), kind: 'open', path: PATHS[j % PATHS.length]!, openFlags: 0o2000000, mode: 0, ret: 3 + (j % 40), credential: false });
      }
      for (const rl of logsOf(builder, events, T0_MS).resourceLogs) for (const sl of rl.scopeLogs) records.push(...sl.logRecords);
    }
    return records;
  };
  make(); // warm the builder's caches and the code
  const h0 = heapMiB();
  let records = make();
  const kept = heapMiB() - h0;
  const c0 = cpuMs();
  const held: HeldRecords[] = [];
  for (let i = 0; i < n; i += k) {
    const run = HeldRecords.start(records[i]!, true);
    for (let j = i + 1; j < i + k; j++) run.add(records[j]!);
    held.push(run.done());
  }
  const cpu = cpuMs() - c0;
  records = [];
  const columns = heapMiB() - h0;
  console.log(`[held-records] runs of ${k}: records as they are ${Math.round((kept * MiB) / n)} B per open, as a run's columns ${Math.round((columns * MiB) / n)} B per open (${held.length} runs), ${((cpu * 1000) / n).toFixed(2)} µs CPU per open to hold`);
}

function heapMiB(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / MiB;
}

function pct(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

// ---------------------------------------------------------------- memory (+ tick cost)

const PROCS = Array.from({ length: 8 }, (_, i) => ({ pid: 3000 + i, ppid: 1, comm: i % 2 ? 'node' : 'python3' }));

/**
 * `startup`: every batch is the 8 processes' module loads in turn (consecutive opens under one
 * node_modules 5 µs apart, as a process's start-up makes them: correlate holds them as runs of opens).
 */
async function memory(label: string, maxBufferedEvents: number, seconds = 45, rate = 10_000, startup = false): Promise<void> {
  let clock = T0_MS;
  const sink = new Sink();
  const { p, evicted, heldNow } = processor({ maxBufferedEvents }, sink, () => clock);
  const builder = newBuilder();
  // Execs first, so every resource carries executable path and args, as the receiver's would.
  await p.logs.consume(logsOf(builder, PROCS.map((x) => execEvent(x.pid, x.ppid, x.comm, `/usr/bin/${x.comm}`, [x.comm, 'agent', '--serve'], clock)), clock));
  await p.tick(); // nothing to place yet; lets the first round's allocations settle
  const before = heapMiB();
  const batchMs = 50;
  const perBatch = (rate * batchMs) / 1000;
  let i = 0;
  const samples: string[] = [];
  let tickCpu: number[] = [];
  /** CPU of consuming and placing at steady state (events arriving as others leave the window), and its events. */
  let steadyCpu = 0;
  let steadyEvents = 0;
  for (let t = 0; t < seconds * 1000; t += batchMs) {
    clock = T0_MS + t;
    const events: SensorEvent[] = [];
    for (let k = 0; k < perBatch; k++, i++) {
      if (startup) {
        const proc = PROCS[Math.floor((k * PROCS.length) / perBatch)]!;
        const path = `/srv/app/node_modules/pkg-${i % 37}/lib/file-${i % 600}.js`;
        events.push({ ...base(proc.pid, proc.ppid, proc.comm, BigInt(clock - 200) * 1_000_000n + BigInt(k * 5000)), kind: 'open', path, openFlags: 0o2000000, mode: 0, ret: 3, credential: false });
        continue;
      }
      const proc = PROCS[i % PROCS.length]!;
      events.push(kernelEvent(i, proc.pid, proc.ppid, proc.comm, clock - 200));
    }
    const data = logsOf(builder, events, clock);
    const c0 = cpuMs();
    await p.logs.consume(data);
    if (t % 250 === 0) {
      const t0 = cpuMs();
      await p.tick();
      if (t >= 31_000) tickCpu.push(cpuMs() - t0);
    }
    if (t >= 31_000) {
      steadyCpu += cpuMs() - c0;
      steadyEvents += perBatch;
    }
    if (t > 0 && t % 5000 === 0) samples.push(`t=${t / 1000}s held=${await heldNow()} heap=+${(heapMiB() - before).toFixed(1)}MiB`);
  }
  const held = await heldNow();
  const mib = heapMiB() - before;
  tickCpu = tickCpu.sort((a, b) => a - b);
  console.log(`\n[memory] ${label}: max_buffered_events=${maxBufferedEvents}, ${rate}/s for ${seconds}s (injected clock), window 30s, no matching spans${startup ? ', module loads (runs of opens)' : ''}`);
  for (const s of samples) console.log(`  ${s}`);
  console.log(`  steady state: ${held} events held, ${mib.toFixed(1)} MiB heap above baseline, ${held ? Math.round((mib * MiB) / held) : 0} B per held event`);
  console.log(`  evicted early (buffer full): ${await evicted()}, spans made (unmatched activity): ${sink.madeSpans}`);
  if (steadyEvents) console.log(`  [cpu] consuming and placing at steady state (records made by the receiver's builder first, not counted): ${((steadyCpu * 1000) / steadyEvents).toFixed(2)} µs per event`);
  if (tickCpu.length) console.log(`  [tick] one matching round at steady state: p50 ${pct(tickCpu, 0.5).toFixed(1)} ms CPU, max ${tickCpu.at(-1)!.toFixed(1)} ms (${((pct(tickCpu, 0.5) * 4) / 10).toFixed(1)}% of a core at 4 ticks/s)`);
  await p.shutdown();
}

// ---------------------------------------------------------------- latency (real time, real timer)

async function latency(seconds = 20): Promise<void> {
  const sink = new Sink();
  const { p } = processor({}, sink, Date.now);
  await p.start(createHost());
  const builder = newBuilder();
  const AGENTS = 1000;
  const arrivals = new Map<number, number>(); // trace -> span arrival (ms)
  const placement: number[] = [];
  const passThrough: number[] = [];
  let consumeStarted = 0n;
  sink.onTraces = (d) => {
    const now = Date.now();
    const made = d.resourceSpans.some((rs) => rs.scopeSpans.some((ss) => ss.scope?.name === 'aibom.correlate'));
    if (!made) {
      passThrough.push(Number(process.hrtime.bigint() - consumeStarted) / 1000);
      return;
    }
    for (const rs of d.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) {
      const trace = parseInt(Buffer.from(s.traceId).toString('hex'), 16);
      const at = arrivals.get(trace);
      if (at !== undefined) {
        placement.push(now - at);
        arrivals.delete(trace);
      }
    }
  };
  // Execs so the sensor side knows every agent process.
  await p.logs.consume(logsOf(builder, Array.from({ length: AGENTS }, (_, a) => execEvent(10_000 + a, 1, 'python3', '/usr/bin/python3', ['python3', 'agent.py'], Date.now())), Date.now()));
  let trace = 1;
  const pendingSpans: { at: number; data: TracesData; trace: number }[] = [];
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const now = Date.now();
    // 10 new traces per 100 ms: their kernel events now (the activity happened in the last 4 s)...
    const events: SensorEvent[] = [];
    for (let k = 0; k < 10; k++, trace++) {
      const pid = 10_000 + (trace % AGENTS);
      const t = now - 4000;
      for (let e = 0; e < 6; e++) events.push(kernelEvent(trace * 6 + e, pid, 1, 'python3', t + 2100 + e * 200));
      pendingSpans.push({ at: now + 500, data: agentTrace(trace, pid, t), trace });
    }
    await p.logs.consume(logsOf(builder, events, now));
    // ...their spans 0.5 s later, as an SDK's batch exporter sends them.
    while (pendingSpans.length && pendingSpans[0]!.at <= now) {
      const { data, trace: tr } = pendingSpans.shift()!;
      arrivals.set(tr, Date.now());
      consumeStarted = process.hrtime.bigint();
      await p.traces.consume(data);
    }
    await new Promise((r) => setTimeout(r, 100 - (Date.now() - now)));
  }
  await new Promise((r) => setTimeout(r, 2000)); // let the last spans settle and be placed
  await p.shutdown();
  placement.sort((a, b) => a - b);
  passThrough.sort((a, b) => a - b);
  console.log(`\n[latency] ${seconds}s real time, 100 traces/s over ${AGENTS} agents, 6 kernel events per trace, settle 1s, tick 250ms`);
  console.log(`  pass-through (traces consume() -> next consumer), ${passThrough.length} requests of 4 spans: p50 ${pct(passThrough, 0.5).toFixed(1)} µs, p99 ${pct(passThrough, 0.99).toFixed(1)} µs, max ${passThrough.at(-1)!.toFixed(1)} µs`);
  console.log(`  placement (span arrival -> its kernel spans at the next consumer), ${placement.length} traces: p50 ${pct(placement, 0.5)} ms, p90 ${pct(placement, 0.9)} ms, p99 ${pct(placement, 0.99)} ms, max ${placement.at(-1)} ms; not placed: ${arrivals.size}`);
}

// ---------------------------------------------------------------- throughput

async function throughput(events = 200_000): Promise<void> {
  let clock = T0_MS;
  const sink = new Sink();
  const { p } = processor({ maxBufferedEvents: 1_000_000 }, sink, () => clock);
  const builder = newBuilder();
  const AGENTS = 1000;
  const TRACES_PER_AGENT = 5;
  // 1k agents' spans indexed: 5 traces of 4 spans each per agent, traces 5 s apart.
  let trace = 1;
  for (let r = 0; r < TRACES_PER_AGENT; r++) for (let a = 0; a < AGENTS; a++) await p.traces.consume(agentTrace(trace++, 10_000 + a, T0_MS + r * 5000));
  // Each agent has one MCP server child (fork noted), so some events are placed by process tree.
  await p.logs.consume(logsOf(builder, Array.from({ length: AGENTS }, (_, a) => forkEvent(10_000 + a, 1, 'python3', 20_000 + a, T0_MS)), clock));
  clock = T0_MS + TRACES_PER_AGENT * 5000;
  await p.tick();
  sink.madeSpans = 0;
  const built: LogsData[] = [];
  for (let i = 0; i < events; i += 1000) {
    const evs: SensorEvent[] = [];
    for (let k = 0; k < 1000; k++) {
      const n = i + k;
      const a = n % AGENTS;
      const child = n % 10 === 9;
      const pid = child ? 20_000 + a : 10_000 + a;
      const r = Math.floor(n / AGENTS) % TRACES_PER_AGENT;
      // inside the LLM call (connects there match the HTTP span's server by socket tuple) or the tool call
      const at = T0_MS + r * 5000 + (n % 2 ? 300 + (n % 1000) : 2100 + (n % 1300));
      evs.push(kernelEvent(n, pid, child ? 10_000 + a : 1, child ? 'node' : 'python3', at));
    }
    built.push(logsOf(builder, evs, clock));
  }
  gc?.();
  const c0 = cpuMs();
  const w0 = performance.now();
  for (const d of built) await p.logs.consume(d);
  const c1 = cpuMs();
  clock += 1500;
  await p.tick();
  const c2 = cpuMs();
  const wall = performance.now() - w0;
  console.log(`\n[throughput] ${events} events from ${AGENTS} agents (+1 child each), ${AGENTS * TRACES_PER_AGENT * 4} spans indexed`);
  console.log(`  consume: ${(c1 - c0).toFixed(0)} ms CPU; one tick matching + building + emitting all: ${(c2 - c1).toFixed(0)} ms CPU; ${sink.madeSpans} spans made`);
  console.log(`  ${Math.round(events / ((c2 - c0) / 1000)).toLocaleString('en')} events/CPU-second (wall ${wall.toFixed(0)} ms)`);
  await p.shutdown();
}

function fold(): void {
  const folder = new Folder(defaultFoldConfig());
  const startUp = [
    '/root/.pyenv/versions/3.11.7/lib/python3.11/encodings/__pycache__/utf_8.cpython-311.pyc',
    '/srv/app/.venv/lib/python3.11/site-packages/pydantic/__pycache__/main.cpython-311.pyc',
    '/lib/x86_64-linux-gnu/libssl.so.3',
    '/usr/lib/locale/C.utf8/LC_CTYPE',
    '/srv/app/.venv/lib/python3.11/site-packages/zstandard/backend_c.cpython-311-x86_64-linux-gnu.so',
  ];
  const kept = ['/data/kb/customers.csv', '/srv/app/agent-py/mcp_server.py', '/etc/os-release', '/proc/777/cmdline'];
  for (const [label, paths] of [['PATHS (bench mix)', PATHS], ['start-up opens (all fold)', startUp], ['kept opens (no rule matches)', kept]] as const) {
    const n = 2_000_000;
    let folded = 0;
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) if (folder.classify(paths[i % paths.length]!, 4242, false, undefined)) folded++;
    const { user, system } = process.cpuUsage(t0);
    console.log(`[fold] ${label}: ${(((user + system) * 1000) / n).toFixed(0)} ns per open (${((folded / n) * 100).toFixed(0)}% folded)`);
  }
}

// ---------------------------------------------------------------- index (span side alone)

/** A bench/loadgen request: `n` LLM client spans of pid 1234, each its own trace, [t, t + 1.5 s]. */
function loadgenRequest(first: number, n: number, tMs: number): TracesData {
  const spans: Span[] = [];
  for (let k = 0; k < n; k++) {
    const i = first + k;
    spans.push({
      traceId: hex(i + 1, 16),
      spanId: hex(i + 1, 8),
      name: 'chat gpt-4o',
      kind: 3,
      startTimeUnixNano: bigIntToLong(BigInt(tMs) * 1_000_000n),
      endTimeUnixNano: bigIntToLong(BigInt(tMs + 1500) * 1_000_000n),
      attributes: attrs(LOADGEN_LLM_ATTRIBUTES),
      events: [{ timeUnixNano: bigIntToLong(BigInt(tMs) * 1_000_000n + 10n), name: 'gen_ai.choice', attributes: attrs(LOADGEN_CHOICE_ATTRIBUTES) }],
      status: { code: 1 },
    });
  }
  return { resourceSpans: [{ resource: { attributes: attrs({ 'service.name': 'bench-agent', 'process.pid': 1234, 'host.name': 'bench' }) }, scopeSpans: [{ scope: { name: 'bench', version: '1' }, spans }] }] };
}

async function index(total = 400_000, events = 2_000): Promise<void> {
  const PER_REQUEST = 100;
  const RATE = 10_000; // spans per second of the injected clock
  let clock = T0_MS;
  const sink = new Sink();
  const { p } = processor({}, sink, () => clock);
  const max = createDefaultConfig().maxIndexedSpans;
  const memUsed = () => {
    gc?.();
    gc?.();
    const m = process.memoryUsage();
    return (m.heapUsed + m.arrayBuffers) / MiB;
  };
  let consumeMs = 0;
  let tickMs = 0;
  let before = 0;
  let perSpan = NaN;
  for (let n = 0; n < total; ) {
    if (n === 100 * PER_REQUEST) before = memUsed();
    if (n === max + 100 * PER_REQUEST) perSpan = ((memUsed() - before) * MiB) / max;
    // 100 requests at a time made and received outside the timed part.
    const chunk: TracesData[] = [];
    for (let r = 0; r < 100; r++, n += PER_REQUEST) {
      const d = asReceived(loadgenRequest(n, PER_REQUEST, clock + (n * 1000) / RATE - 2000));
      for (const rs of d.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) canonicalView(s);
      chunk.push(d);
    }
    for (const d of chunk) {
      clock = T0_MS + Math.floor((n * 1000) / RATE);
      const c0 = cpuMs();
      await p.traces.consume(d);
      const c1 = cpuMs();
      consumeMs += c1 - c0;
      if (clock % 250 < (PER_REQUEST * 1000) / RATE) {
        await p.tick();
        tickMs += cpuMs() - c1;
      }
    }
    chunk.length = 0;
  }
  console.log(`\n[index] ${total} loadgen spans (100 per request, one pid, each its own trace), ${RATE}/s of an injected clock, max_indexed_spans ${max}`);
  console.log(`  consume ${((consumeMs * 1000) / total).toFixed(2)} µs CPU per span, ticks (evicting) ${((tickMs * 1000) / total).toFixed(2)} µs per span; ${Math.round(perSpan)} B per indexed span (heap + array buffers)`);
  // Kernel events of that process, inside its latest spans: pid + time against all of its indexed spans.
  const builder = newBuilder();
  const evs: SensorEvent[] = [];
  for (let i = 0; i < events; i++) evs.push(kernelEvent(i * 20 + 4, 1234, 1, 'python3', clock - 1500 - (i % 500)));
  await p.logs.consume(logsOf(builder, evs, clock));
  sink.madeSpans = 0;
  clock += 1500;
  const c0 = cpuMs();
  await p.tick();
  const ms = cpuMs() - c0;
  console.log(`  ${events} kernel events of that process placed by pid+time among its ${max} spans: ${((ms * 1000) / events).toFixed(1)} µs CPU per event (${sink.madeSpans} spans made)`);
  await p.shutdown();
}

function query(agents: number, traces: number, queries = 400_000): void {
  const index = new SpanIndex(createDefaultConfig().maxIndexedSpans);
  const SHAPE: [CanonicalSpan['kind'], number, number][] = [['agent', 0, 4000], ['llm', 100, 1500], ['http', 120, 1480], ['tool', 2000, 3500]];
  let trace = 1;
  for (let r = 0; r < traces; r++)
    for (let a = 0; a < agents; a++, trace++) {
      const facts = { pid: 10_000 + a, serviceName: `agent-${a}` };
      const t = T0_MS + r * 5000;
      SHAPE.forEach(([kind, from, to], k) => {
        const span: Span = { traceId: hex(trace, 16), spanId: hex(trace * 8 + k, 8), name: kind, startTimeUnixNano: bigIntToLong(BigInt(t + from) * 1_000_000n), endTimeUnixNano: bigIntToLong(BigInt(t + to) * 1_000_000n) };
        index.add(span, { kind, serverPort: kind === 'http' ? 443 : undefined } as CanonicalSpan, facts, T0_MS);
      });
    }
  let found = 0;
  const c0 = process.cpuUsage();
  for (let i = 0; i < queries; i++) {
    const r = Math.floor(i / agents) % traces;
    const atMs = T0_MS + r * 5000 + (i % 2 ? 300 + (i % 1000) : 2100 + (i % 1300));
    if (index.innermostOfPid(10_000 + (i % agents), atMs * 1000, 10_000) >= 0) found++;
  }
  const { user, system } = process.cpuUsage(c0);
  console.log(`[query] ${agents} agents x ${traces * SHAPE.length} spans: ${(((user + system) * 1000) / queries).toFixed(0)} ns per innermostOfPid (${found} of ${queries} found)`);
}

if (!gc) console.log('(run with --expose-gc for memory figures)');
if (phase === 'memory-startup') await memory('window-bound', 1_000_000, 45, 10_000, true);
if (phase === 'held-records') for (const k of [2, 10, 100]) heldRecords(k);
if (phase === 'all' || phase === 'memory' || phase === 'tick') {
  await memory('window-bound', 1_000_000);
  if (phase !== 'tick') {
    await memory('default bound', createDefaultConfig().maxBufferedEvents);
    await memory('small bound', 10_000);
  }
}
if (phase === 'all' || phase === 'throughput') await throughput();
if (phase === 'all' || phase === 'latency') await latency();
if (phase === 'all' || phase === 'fold') fold();
if (phase === 'all' || phase === 'index') await index();
if (phase === 'all' || phase === 'query') for (const [agents, traces] of [[1000, 5], [10, 500]] as const) query(agents, traces);
