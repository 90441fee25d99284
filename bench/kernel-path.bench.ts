/**
 * The kernel-event path of the embedded default in one process: sensor frames -> the real EbpfReceiver
 * (frame decoding, conversion, metrics, batching, queue) -> the default's logs pipeline (enrich,
 * correlate, aibom, baseline, provenance, history, batch) -> its exporters (debug, file), with the
 * agents' spans through the traces pipeline so correlate places the events in their traces. What
 * `sensor-overhead.js agent --collector` measures, less the sensor and the kernel, with CPU time per
 * event instead of a noisy share of an agent's CPU. A script:
 *
 *   npx tsc -p tsconfig.build.json && node --expose-gc dist/bench/kernel-path.bench.js [rounds] [--alloc [--alloc-save FILE] [--top N] [--under FN[@FILE],... [--not FN[@FILE],...]] | --cpu-prof FILE] [--root DIR] [--marks]
 *
 * Each round is one agent run of 4 agent processes (live `sleep` children, so /proc reads succeed as for
 * a real agent; two `python3`, two `node` MCP servers): 150 events each, the reference agent's mix (module
 * opens, 8% of them failing with ENOENT; HTTP requests naming the LLM span in a traceparent and their
 * responses, TLS writes and reads, connects, an exec; in the first agent a DNS lookup and a shell child
 * that is forked, execs, opens and exits), fed to the receiver in chunks of 16 every 10 ms as the sensor's
 * polls deliver them, then the agents' spans (4 per agent) as the OTLP receiver hands them on. CPU of
 * the whole process (all threads: GC and the optimising compiler included) from a round's first chunk
 * to the next round's, per event, and per thread over the warm rounds (from the 9th: the first ones
 * compile, and V8's workers stay busy for seconds). `--alloc`: a sampled allocation profile of the warm rounds
 * (objects collected by GC included): bytes allocated per event and the functions that allocate them.
 * `--under FN[@FILE],...`: only the bytes allocated below frames of those functions (the receiver's:
 * `ingest,push@frame-decoder.js`); builtins are named with their caller. `--not FN[@FILE],...`: less what is
 * below those (`drain`: the pipeline, which the receiver's queue calls).
 * `--alloc-save FILE`: the sampled profile too (Chrome's .heapprofile), to read the callers of an allocation.
 * `--cpu-prof FILE`: a CPU profile of the warm rounds (main thread, 200 µs sampling).
 * `--root DIR`: another build (its dist/), to compare in alternation.
 * `--marks`: a line `kernel-path round N` on stdout as round N begins, so V8's traces (`--trace-opt
 * --trace-deopt`, also on stdout) can be told apart by round (bench/jit-churn.ts reads them so).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const value = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
// The rounds: the one argument that is not a flag nor a flag's value.
const ROUNDS = Number(argv.find((a, i) => /^\d+$/.test(a) && !/^--(root|cpu-prof|top|under|not|alloc-save)$/.test(argv[i - 1] ?? '')) ?? 24);
const WARM_FROM = Math.min(8, ROUNDS - 1);
const root = path.resolve(value('root') ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '../..'));
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const load = (p: string): Promise<any> => import(path.join(root, 'dist', p));

const AGENTS = 4;
const EVENTS_PER_AGENT = 150;
const CHUNK = 16;
const PACE_MS = 10;
const ROUND_GAP_MS = 600;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const { parseServiceConfig } = await load('pipeline/config/service-config.js');
const { findFactory } = await load('pipeline/cli/components.js');
const { Service } = await load('pipeline/service/service.js');
const { createFrameDecoder } = await load('receiver/ebpf/frame-decoder.js');
const { encodeFrame, openEventPayload, connectEventPayload, tlsEventPayload, execEventPayload, streamHeaderPayload } = await load('receiver/ebpf/frame-fixtures.js');
// The kinds the fixtures of older builds lack come from this build's.
const { httpEventPayload, forkEventPayload, exitEventPayload, dnsEventPayload } = await import('../receiver/ebpf/frame-fixtures.js');
const { CONSTANTS: C, STRUCTS: S } = await load('receiver/ebpf/layout.js');
const { tracesCodec } = await load('pipeline/otlp/codec.js');
const { attrs, bigIntToLong } = await load('pipeline/otlp/attributes.js');
const { silentLogger } = await load('pipeline/telemetry/logger.js');
const { freePort } = await load('demo/reference-run.js');

// ---------------------------------------------------------------- the embedded default, receivers captured

const dataDir = mkdtempSync(path.join(tmpdir(), 'aibom-kernel-path-'));
const env = {
  ...process.env,
  AIBOM_DATA_DIR: dataDir,
  AIBOM_ADMIN_ENDPOINT: `127.0.0.1:${await freePort()}`,
  AIBOM_OTLP_GRPC_ENDPOINT: `127.0.0.1:${await freePort()}`,
  AIBOM_OTLP_HTTP_ENDPOINT: `127.0.0.1:${await freePort()}`,
};
interface Receiver {
  ingest(recs: readonly unknown[], decoder: unknown): void;
  flush(): void;
}
let ebpf: Receiver | undefined;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let traces: { consume(d: any): Promise<void> } | undefined;
const idle = { start: async () => undefined, shutdown: async () => undefined };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const factories = (kind: string, type: string): any => {
  const f = findFactory(kind, type);
  if (kind !== 'receiver' || !f) return f;
  return {
    ...f,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    create: (settings: any, config: any, next: any) => {
      if (type === 'otlp') {
        traces = next.traces;
        return idle;
      }
      // The real receiver, its sensor never started: the bench hands it what the sensor link would.
      ebpf = f.create(settings, config, next) as unknown as Receiver;
      return idle;
    },
  };
};
const config = parseServiceConfig(readFileSync(path.join(root, 'otel-config/default.yaml'), 'utf8'), factories, env);
const service = new Service(config, silentLogger(), { version: 'bench' });
await service.start();

// ---------------------------------------------------------------- the agents and their frames

const children = Array.from({ length: AGENTS }, () => spawn('sleep', ['1000'], { stdio: 'ignore' }));
const pids = children.map((c) => c.pid!);
const T0_NS = BigInt(Date.now()) * 1_000_000n;
const hdr = S.event_hdr.fields;
const withTime = (payload: Buffer, ktimeNs: bigint) => (payload.writeBigUInt64LE(ktimeNs, hdr.ktime_ns.offset), payload);
const hex = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, '0');

interface Round {
  frames: Buffer[][];
  spans: Buffer;
  events: number;
}

/** Round `r` of an agent run starting `startMs` after T0: its frames in chunks, and its spans as bytes. */
function round(r: number, startMs: number, durMs: number): Round {
  const perAgent: Buffer[][] = [];
  const resourceSpans = [];
  for (let a = 0; a < AGENTS; a++) {
    const pid = pids[a]!;
    const trace = hex(r * 16 + a + 1, 16);
    const span = (id: number) => hex((r * 16 + a) * 8 + id, 8);
    const at = (f: number) => BigInt(Math.round((startMs + f * durMs) * 1e6));
    const tls = Buffer.from(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: api.openai.com\r\ntraceparent: 00-${trace}-${span(2)}-01\r\ncontent-length: 200\r\n\r\n{"model":"gpt-4o","messages":[{"role":"user","content":"${'x'.repeat(120)}"}]}`,
    );
    // The reference agents reach their (fake) LLM over plain HTTP: most of an agent's request events are http.
    const http = Buffer.from(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:8080\r\ntraceparent: 00-${trace}-${span(2)}-01\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{"model":"gpt-4o","messages":[{"role":"user","content":"${'y'.repeat(120)}"}]}`,
    );
    const httpOk = Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 120\r\n\r\n{"id":"chatcmpl-2","choices":[]}');
    const frames: Buffer[] = [];
    // Agents 0-1 are Python, 2-3 Node MCP servers; agent 0 also resolves a name and runs a shell child.
    const comm = a < 2 ? 'python3' : 'node';
    const lib = a < 2 ? '/usr/lib/python3.11/site-packages/langchain_core/runnables' : '/srv/mcp/node_modules/@modelcontextprotocol/sdk/dist/esm';
    const child = 3_000_000 + r * 8 + a;
    for (let i = 0; i < EVENTS_PER_AGENT; i++) {
      const t = at(0.02 + (0.96 * i) / EVENTS_PER_AGENT);
      const k = i % 25;
      const payload =
        i === 0
          ? execEventPayload({ pid, ppid: 1, comm, filename: a < 2 ? '/usr/bin/python3' : '/usr/bin/node', args: [comm, '-m', 'agent', '--api-key', 'sk-secret'] })
          : a === 0 && i === 50
            ? dnsEventPayload({ pid, comm, name: 'api.openai.com', server: [127, 0, 0, 53] })
            : a === 0 && i === 60
              ? forkEventPayload({ pid, comm, childPid: child })
              : a === 0 && i === 61
                ? execEventPayload({ pid: child, ppid: pid, comm: 'sh', filename: '/bin/sh', args: ['sh', '-c', 'ls'] })
                : a === 0 && i === 62
                  ? openEventPayload({ pid: child, comm: 'sh', path: '/etc/ld.so.cache' })
                  : a === 0 && i === 63
                    ? exitEventPayload({ pid: child, comm: 'sh', status: i === 63 && r % 2 ? 256 : 0 })
                    : k === 1
                      ? connectEventPayload({ pid, daddr: [104, 18, 7, 192], dport: 443 })
                      : k === 2
                        ? httpEventPayload({ pid, comm, data: http, daddr: [127, 0, 0, 1], dport: 8080 })
                        : k === 3
                          ? httpEventPayload({ pid, comm, data: httpOk, daddr: [127, 0, 0, 1], dport: 8080 })
                          : k === 13
                            ? tlsEventPayload({ pid, data: tls })
                            : k === 14
                              ? tlsEventPayload({ pid, data: Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{"id":"chatcmpl-1"}'), read: true })
                              : k === 7 || k === 19
                                ? openEventPayload({ pid, comm, path: `${lib}/missing${i % 40}/package.json`, ret: -2 })
                                : openEventPayload({ pid, comm, path: `${lib}/mod${i % 60}.${a < 2 ? 'py' : 'js'}` });
      frames.push(encodeFrame(C.FRAME_EVENT, withTime(payload, t), 0));
    }
    perAgent.push(frames);
    const s = (id: number, parent: number, name: string, from: number, to: number, kind: number, a2: Record<string, string | number>) => ({
      traceId: Buffer.from(trace, 'hex'),
      spanId: Buffer.from(span(id), 'hex'),
      parentSpanId: parent ? Buffer.from(span(parent), 'hex') : Buffer.alloc(0),
      name,
      kind,
      startTimeUnixNano: bigIntToLong(T0_NS + at(from)),
      endTimeUnixNano: bigIntToLong(T0_NS + at(to)),
      attributes: attrs(a2),
    });
    resourceSpans.push({
      resource: { attributes: attrs({ 'service.name': `agent-${a}`, 'process.pid': pid, 'telemetry.sdk.language': 'python' }) },
      scopeSpans: [
        {
          scope: { name: 'openinference.instrumentation.langchain' },
          spans: [
            s(1, 0, 'invoke_agent support-agent', 0, 1, 1, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'support-agent' }),
            s(2, 1, 'chat gpt-4o', 0.05, 0.45, 3, { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'server.address': 'api.openai.com' }),
            s(3, 1, 'execute_tool search_kb', 0.5, 0.95, 1, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search_kb' }),
            s(4, 3, 'POST', 0.55, 0.9, 3, { 'http.request.method': 'POST', 'server.address': 'kb.internal', 'server.port': 8080 }),
          ],
        },
      ],
    });
  }
  // The sensor's polls deliver the agents' events interleaved in time order.
  const all: Buffer[] = [];
  for (let i = 0; i < EVENTS_PER_AGENT; i++) for (const f of perAgent) all.push(f[i]!);
  const frames: Buffer[][] = [];
  for (let i = 0; i < all.length; i += CHUNK) frames.push(all.slice(i, i + CHUNK));
  return { frames, spans: Buffer.from(tracesCodec.encode({ resourceSpans })), events: all.length };
}

const FEED_MS = Math.ceil((AGENTS * EVENTS_PER_AGENT) / CHUNK) * PACE_MS;
const rounds: Round[] = [];
for (let r = 0; r < ROUNDS; r++) rounds.push(round(r, 1000 + r * (FEED_MS + ROUND_GAP_MS), FEED_MS));

// ---------------------------------------------------------------- feeding and measuring

const decoder = createFrameDecoder();
decoder.push(encodeFrame(C.FRAME_STREAM_HEADER, streamHeaderPayload(T0_NS), 0));
let seq = 1;
const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
/** ns on the main thread so far (schedstat: exact, unlike stat's 10 ms ticks). */
const mainNs = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'latin1').split(' ')[0]);
/** ns per thread name so far (V8's GC and compiler workers, libuv's pool, the main thread). */
function threadNs(): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const name = Number(t) === process.pid ? 'main' : readFileSync(`/proc/self/task/${t}/comm`, 'latin1').trim() + '/' + t;
      out.set(name, (out.get(name) ?? 0) + Number(readFileSync(`/proc/self/task/${t}/schedstat`, 'latin1').split(' ')[0]));
    } catch {
      // the thread ended
    }
  }
  return out;
}

let session: Session | undefined;
let threads0 = new Map<string, number>();
const perRound: { us: number; mainUs: number; events: number }[] = [];
const start = Number(T0_NS / 1_000_000n);
let c0 = cpuUs();
let m0 = mainNs();
let fedEvents = 0;
for (let r = 0; r < ROUNDS; r++) {
  if (r === WARM_FROM) threads0 = threadNs();
  if (r === WARM_FROM && value('cpu-prof')) {
    session = new Session();
    session.connect();
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  if (r === WARM_FROM && flag('alloc')) {
    session = new Session();
    session.connect();
    await session.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  }
  // Round r's events happen at 1000 + r * (FEED + GAP) ms after T0: wait for that, as a live sensor would.
  const due = start + 1000 + r * (FEED_MS + ROUND_GAP_MS);
  const wait = due - Date.now();
  if (wait > 0) await sleep(wait);
  if (flag('marks')) console.log(`kernel-path round ${r + 1}`);
  const c = cpuUs();
  const m = mainNs();
  if (r > 0) perRound.push({ us: c - c0, mainUs: (m - m0) / 1000, events: rounds[r - 1]!.events });
  c0 = c;
  m0 = m;
  const rd = rounds[r]!;
  for (const chunk of rd.frames) {
    for (const f of chunk) f.writeUInt32LE(seq++ >>> 0, S.frame_hdr.fields.seq.offset);
    ebpf!.ingest(decoder.push(Buffer.concat(chunk)), decoder);
    await sleep(PACE_MS);
  }
  fedEvents += rd.events;
  // The SDK's batch arrives after the events (its schedule delay).
  await sleep(100);
  await traces!.consume(tracesCodec.decodeReceived(Buffer.from(rd.spans)));
}
// The last round: until correlate has emitted (window) and the batch has flushed.
await sleep(ROUND_GAP_MS + FEED_MS);
if (flag('marks')) console.log('kernel-path round end');
perRound.push({ us: cpuUs() - c0, mainUs: (mainNs() - m0) / 1000, events: rounds[ROUNDS - 1]!.events });
const threads1 = threadNs();

let allocLine = '';
if (session && value('cpu-prof')) {
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(value('cpu-prof')!, JSON.stringify(profile));
} else if (session) {
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: AllocNode } };
  session.disconnect();
  if (value('alloc-save')) writeFileSync(value('alloc-save')!, JSON.stringify(profile));
  const bySelf = new Map<string, number>();
  let total = 0;
  // `--under FN[@FILE],...`: only what is allocated below a frame of those functions (e.g. the receiver's).
  // `--not FN[@FILE],...`: minus what is below those (the pipeline the receiver's queue calls: `drain`).
  const frames = (v: string | undefined) => v?.split(',').map((u) => u.split('@'));
  const under = frames(value('under'));
  const not = frames(value('not')) ?? [];
  const isOne = (list: string[][], f: AllocNode['callFrame']) => list.some(([fn, file]) => f.functionName === fn && (file === undefined || path.basename(f.url) === file));
  let inside = 0;
  const name = (f: AllocNode['callFrame']) => `${f.functionName || '(anonymous)'} ${path.basename(f.url)}:${f.lineNumber + 1}`;
  const walk = (n: AllocNode, caller: string, counted: boolean) => {
    const f = n.callFrame;
    // A builtin (no script: Array's push, RegExp's exec, a Map) is named with the function that called it.
    const key = f.url ? name(f) : `${f.functionName || '(anonymous)'} <- ${caller}`;
    const here = !isOne(not, f) && (counted || under === undefined || isOne(under, f));
    if (here) {
      bySelf.set(key, (bySelf.get(key) ?? 0) + n.selfSize);
      inside += n.selfSize;
    }
    total += n.selfSize;
    for (const c of n.children) walk(c, f.url ? name(f) : caller, here);
  };
  walk(profile.head, '(root)', false);
  const warmEvents = rounds.slice(WARM_FROM).reduce((a, r) => a + r.events, 0);
  allocLine = `allocated (sampled, warm rounds ${WARM_FROM + 1}-${ROUNDS}): ${Math.round(total / warmEvents)} B per event\n`;
  if (under !== undefined) allocLine += `under ${value('under')}: ${Math.round(inside / warmEvents)} B per event\n`;
  for (const [k, v] of [...bySelf].sort((a, b) => b[1] - a[1]).slice(0, Number(value('top') ?? 25))) allocLine += `  ${(v / warmEvents).toFixed(0).padStart(6)} B/event  ${k}\n`;
}

const m = service.metrics;
const placed = await m.registry.getSingleMetric('aibom_correlate_events_total')?.get();
const emitted = await m.registry.getSingleMetric('aibom_correlate_emitted_spans_total')?.get();
await service.shutdown();
for (const c of children) c.kill();
rmSync(dataDir, { recursive: true, force: true });

const warm = perRound.slice(WARM_FROM);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`build ${root}: ${ROUNDS} rounds of ${rounds[0]!.events} events (${AGENTS} agents), fed ${fedEvents}`);
console.log(`per round, CPU µs per event (all threads / main thread): ${perRound.map((p) => `${(p.us / p.events).toFixed(1)}/${(p.mainUs / p.events).toFixed(1)}`).join(' ')}`);
console.log(
  `warm (rounds ${WARM_FROM + 1}-${ROUNDS}): ${(sum(warm.map((p) => p.us)) / sum(warm.map((p) => p.events))).toFixed(1)} µs/event all threads (median round ${median(warm.map((p) => p.us / p.events)).toFixed(1)}), main thread ${(sum(warm.map((p) => p.mainUs)) / sum(warm.map((p) => p.events))).toFixed(1)}`,
);
const warmEvents = sum(rounds.slice(WARM_FROM).map((r) => r.events));
console.log(`warm, µs per event by thread: ${[...threads1].map(([k, v]) => `${k} ${((v - (threads0.get(k) ?? 0)) / 1000 / warmEvents).toFixed(1)}`).join(', ')}`);
const val = (d: { values?: { value: number; labels: Record<string, string> }[] } | undefined) => (d?.values ?? []).map((v) => `${v.labels.key ?? ''}=${v.value}`).join(' ');
console.log(`correlate placed: ${val(placed as never)}; spans emitted: ${val(emitted as never)}`);
if (allocLine) process.stdout.write(allocLine);

interface AllocNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: AllocNode[];
}
