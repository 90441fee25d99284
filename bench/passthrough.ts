/**
 * Issue 2's figures: spans/s through OTLP gRPC in -> batch -> OTLP gRPC out on one core, for
 * aibom-collector and, in the same run and under the same load, for Jaeger v2 used as a pass-through
 * collector; CPU and RSS of each.
 *
 *   bench/setup.sh && npm run build && node dist/bench/passthrough.js
 *     [--seconds 15] [--warmup 5] [--rate 10000] [--concurrency 16] [--spans-per-request 100]
 *     [--only aibom|jaeger] [--node-args "--max-semi-space-size=..."] [--cpu-prof DIR] [--pipeline batch|default]
 *     [--baseline-main OTHER/dist/pipeline/cli/main.js] [--shape llm|agent|content] [--exporter otlp|file]
 *     [--launcher bin|node] [--values varied|fixed]
 *
 * Layout (2 cores): the collector under test is pinned to CPU 1 (Jaeger with GOMAXPROCS=1); the load
 * generator and the sink (Go, .tools/bin/otlpbench, both GOMAXPROCS=1) share CPU 0. The sink counts
 * spans by walking the wire format, without decoding. A first phase sends the load straight to the
 * sink, which shows what the harness alone sustains on its one core: far more than either collector.
 *
 * Per collector (fresh process): 1. fixed rate (--rate spans/s, which both must sustain): steady RSS
 * and CPU at the same load; 2. closed loop (--concurrency senders, each sends its next request when
 * the last is answered): max spans/s and CPU; then peak RSS (VmHWM) over both phases.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { defaultConfigPath } from '../pipeline/package-root.js';
import { Proc, waitFor } from '../test/support/process.js';
import { freePorts } from '../test/support/ports.js';
import { collectorMain, findTool } from '../test/support/tools.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '5' },
    rate: { type: 'string', default: '10000' },
    'spans-per-request': { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '16' },
    only: { type: 'string' },
    'node-args': { type: 'string', default: '' },
    'cpu-prof': { type: 'string' },
    // batch: the pass-through both collectors run; default: ours with the embedded default's traces
    // processors as otel-config/default.yaml lists and configures them (enrich, normalize, correlate,
    // aibom, baseline, provenance, batch; data under a temporary AIBOM_DATA_DIR), still against
    // Jaeger's pass-through.
    pipeline: { type: 'string', default: 'batch' },
    // Another build's dist/pipeline/cli/main.js, measured first in the same run (before/after figures).
    'baseline-main': { type: 'string' },
    // llm: every span an LLM client call in its own trace (the costliest case for the AI processors);
    // agent: agent-run traces of 10 spans (root, 3 LLM calls, 3 tools, 2 HTTP calls, 1 MCP call).
    shape: { type: 'string', default: 'llm' },
    // otlp: ours exports to the sink only; file: also to the embedded default's exporters, `debug`
    // (basic) and `file` (OTLP/JSON lines in the run's temporary directory, rotated at 64 MB, one
    // backup kept), as the product runs; the sink still counts the spans.
    exporter: { type: 'string', default: 'otlp' },
    // bin: ours (and a --baseline-main build that has one) started through bin/aibom-collector, as
    // users start it (its malloc and heap settings; --node-args go in NODE_OPTIONS);
    // node: `node [--node-args] main.js`, without the launcher's settings (so is a --cpu-prof run).
    launcher: { type: 'string', default: 'bin' },
    // varied: token counts, tool call ids, timestamps and durations, content digits differ on every
    // request, as a real agent's do (bench/loadgen/varied.go); fixed: only the ids do, every other
    // value repeats every 64 requests (the load of the figures before --values).
    values: { type: 'string', default: 'varied' },
  },
});
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const RATE = Number(values.rate);
const SPANS = Number(values['spans-per-request']);
const CONCURRENCY = Number(values.concurrency);
const SHAPE = values.shape!;
if (!['llm', 'agent', 'content'].includes(SHAPE)) throw new Error(`--shape: llm, agent or content, got ${SHAPE}`);
if (values.values !== 'varied' && values.values !== 'fixed') throw new Error(`--values: varied or fixed, got ${values.values}`);
const NODE_ARGS = values['node-args']!.split(/\s+/).filter(Boolean);
if (values.launcher !== 'bin' && values.launcher !== 'node') throw new Error(`--launcher: bin or node, got ${values.launcher}`);
const HARNESS_CPU = '0';
const COLLECTOR_CPU = '1';

const otlpbench = findTool('OTLPBENCH_BIN', '.tools/bin/otlpbench');
if (!otlpbench) {
  console.error('.tools/bin/otlpbench is missing: run bench/setup.sh');
  process.exit(2);
}

// This driver only polls counters, but keep it off the collector's core too.
execFileSync('taskset', ['-cp', HARNESS_CPU, String(process.pid)], { stdio: 'ignore' });

const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

/** The last complete JSON line an otlpbench process printed. */
function counters(p: Proc): Record<string, number> {
  const lines = p.stdout.trimEnd().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      return JSON.parse(lines[i]!) as Record<string, number>;
    } catch {
      // a line still being written
    }
  }
  return {};
}

function harness(cmd: 'sink' | 'load', args: string[]): Proc {
  return new Proc('taskset', ['-c', HARNESS_CPU, otlpbench!, cmd, ...args], { env: { ...process.env, GOMAXPROCS: '1' } });
}

async function waitListening(p: Proc, what: string): Promise<void> {
  await waitFor(what, () => (p.stdout.includes('{') ? true : !p.running ? Promise.reject(new Error(p.tail())) : undefined), 60_000, 50);
}

/** CPU seconds (user + system, all threads) a process has used so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** Busy seconds of one CPU (all processes), from /proc/stat: everything but idle and iowait. */
function cpuBusySeconds(cpu: string): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${cpu} `))!;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

function statusKiB(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

interface Window {
  spansPerSec: number;
  cpuPct: number;
  rssMiB: number;
  refused: number;
  missed: number;
  /** CPU% of the collector's core used by anything else (other processes on a shared machine). */
  otherPct: number;
}

/** Measures `seconds` of what reaches the sink, the collector's CPU and its RSS (mean of samples). */
async function window(sink: Proc, load: Proc, pid: number | undefined, seconds: number): Promise<Window> {
  const s0 = counters(sink).spans ?? 0;
  const l0 = counters(load);
  const c0 = pid ? cpuSeconds(pid) : 0;
  const b0 = cpuBusySeconds(COLLECTOR_CPU);
  const t0 = performance.now();
  const rss: number[] = [];
  const deadline = t0 + seconds * 1000;
  while (performance.now() < deadline) {
    await sleep(0.25);
    if (pid) rss.push(statusKiB(pid, 'VmRSS'));
  }
  const dt = (performance.now() - t0) / 1000;
  const l1 = counters(load);
  const cpuPct = pid ? ((cpuSeconds(pid) - c0) / dt) * 100 : NaN;
  return {
    otherPct: Math.max(0, ((cpuBusySeconds(COLLECTOR_CPU) - b0) / dt) * 100 - (pid ? cpuPct : 0)),
    spansPerSec: ((counters(sink).spans ?? 0) - s0) / dt,
    cpuPct,
    rssMiB: rss.length ? rss.reduce((a, b) => a + b, 0) / rss.length / 1024 : NaN,
    refused: (l1.refused ?? 0) - (l0.refused ?? 0),
    missed: (l1.missed ?? 0) - (l0.missed ?? 0),
  };
}

async function phase(sink: Proc, target: string, rate: number, pid: number | undefined): Promise<Window> {
  const load = harness('load', ['-target', target, '-concurrency', String(CONCURRENCY), '-spans', String(SPANS), '-rate', String(rate), '-shape', SHAPE, '-values', values.values!]);
  try {
    await waitListening(load, 'load generator');
    await sleep(WARMUP);
    return await window(sink, load, pid, SECONDS);
  } finally {
    await load.stop();
  }
}

async function waitPort(port: number, p: Proc): Promise<void> {
  const net = await import('node:net');
  await waitFor(
    `port ${port}`,
    () =>
      !p.running
        ? Promise.reject(new Error(p.tail()))
        : new Promise<true | undefined>((resolve) => {
            const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
            s.on('error', () => resolve(undefined));
          }),
    60_000,
  );
}

const fmt = (n: number, w = 8) => Math.round(n).toString().padStart(w);

interface Result {
  label: string;
  fixed: Window;
  closed: Window;
  peakMiB: number;
}

async function measure(label: string, sink: Proc, start: (inPort: number, dir: string) => Proc): Promise<Result> {
  const [inPort] = (await freePorts(1)) as [number];
  const dir = mkdtempSync(join(tmpdir(), 'aibom-bench-'));
  const proc = start(inPort, dir);
  try {
    await waitPort(inPort, proc);
    const pid = proc.child.pid!;
    const fixed = await phase(sink, `127.0.0.1:${inPort}`, RATE, pid);
    const closed = await phase(sink, `127.0.0.1:${inPort}`, 0, pid);
    const peakMiB = statusKiB(pid, 'VmHWM') / 1024;
    if (!proc.running) throw new Error(`${label} exited during the run\n${proc.tail()}`);
    return { label, fixed, closed, peakMiB };
  } finally {
    await proc.stop();
    // The file exporter's output (up to 2 x 64 MB per run) goes with it.
    rmSync(dir, { recursive: true, force: true });
  }
}

if (values.pipeline !== 'default' && values.pipeline !== 'batch') throw new Error(`--pipeline: batch or default, got ${values.pipeline}`);

/** The traces processors of the embedded default with their settings, or `batch` alone. */
function processorsOf(pipeline: string): { names: string[]; settings: Record<string, unknown> } {
  if (pipeline !== 'default') return { names: ['batch'], settings: { batch: {} } };
  const d = parse(readFileSync(defaultConfigPath(), 'utf8')) as { processors: Record<string, unknown>; service: { pipelines: { traces: { processors: string[] } } } };
  const names = d.service.pipelines.traces.processors;
  return { names, settings: Object.fromEntries(names.map((n) => [n, d.processors[n] ?? {}])) };
}
const PROCESSORS = processorsOf(values.pipeline!);
if (values.exporter !== 'otlp' && values.exporter !== 'file') throw new Error(`--exporter: otlp or file, got ${values.exporter}`);

const SINK_ONLY = { names: ['otlp'], settings: {} };
/** Ours: the sink, plus the embedded default's exporters with --exporter file (Jaeger: the sink only). */
const exportersOf = (dir: string) =>
  values.exporter === 'file'
    ? { names: ['otlp', 'debug', 'file'], settings: { debug: { verbosity: 'basic' }, file: { path: join(dir, 'telemetry.jsonl'), rotation: { max_megabytes: 64, max_backups: 1 } } } }
    : SINK_ONLY;

// Processor settings as JSON (a YAML flow mapping); `${env:...}` in them is expanded by the collector.
const collectorConfig = (inPort: number, sinkPort: number, extraService = '', processors = processorsOf('batch'), exporters: { names: string[]; settings: object } = SINK_ONLY) =>
  `receivers: { otlp: { protocols: { grpc: { endpoint: 127.0.0.1:${inPort}, max_recv_msg_size_mib: 64 } } } }
processors: ${JSON.stringify(processors.settings)}
exporters: ${JSON.stringify({ otlp: { endpoint: `127.0.0.1:${sinkPort}`, tls: { insecure: true }, compression: 'none' }, ...exporters.settings })}
service:
${extraService}  pipelines: { traces: { receivers: [otlp], processors: [${processors.names.join(', ')}], exporters: [${exporters.names.join(', ')}] } }
`;

const [sinkPort] = (await freePorts(1)) as [number];
const sink = harness('sink', ['-addr', `127.0.0.1:${sinkPort}`]);
const results: Result[] = [];
try {
  await waitListening(sink, 'sink');
  console.log(
    `OTLP gRPC -> ${PROCESSORS.names.join(', ')} (ours; Jaeger: batch) -> OTLP gRPC${values.exporter === 'file' ? ' (ours also debug + file)' : ''}; ${SPANS} spans/request (${SHAPE === 'llm' ? 'LLM client spans, each its own trace: 10 attributes + 1 event each' : 'agent runs: traces of 10 root/LLM/tool/HTTP/MCP spans'}; fresh trace ids every request, ${values.values === 'varied' ? 'and fresh token counts, tool call ids, times, content digits' : 'other values repeating every 64'}); collector on CPU ${COLLECTOR_CPU}, ` +
      `Go load generator + sink on CPU ${HARNESS_CPU}; ours started ${values.launcher === 'bin' && !values['cpu-prof'] ? 'through bin/aibom-collector' : 'as node main.js'}${NODE_ARGS.length ? ` (${NODE_ARGS.join(' ')})` : ''}; ${WARMUP}s warm-up + ${SECONDS}s measured per phase`,
  );
  const alone = await phase(sink, `127.0.0.1:${sinkPort}`, 0, undefined);
  console.log(`harness alone (load -> sink, ${CONCURRENCY} senders, CPU ${HARNESS_CPU} only): ${fmt(alone.spansPerSec)} spans/s; meanwhile CPU ${COLLECTOR_CPU} was ${fmt(alone.otherPct, 0)}% busy with other processes`);

  const ours = (label: string, main: string) =>
    measure(label, sink, (inPort, dir) => {
      const cfg = join(dir, 'c.yaml');
      writeFileSync(cfg, collectorConfig(inPort, sinkPort, '  admin: { endpoint: "" }\n  telemetry: { logs: { level: warn } }\n', PROCESSORS, exportersOf(dir)));
      const nodeArgs = [...NODE_ARGS, ...(values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : [])];
      const env = { ...process.env, AIBOM_DATA_DIR: join(dir, 'data') };
      const bin = join(dirname(main), '..', '..', '..', 'bin', 'aibom-collector');
      // node refuses --cpu-prof in NODE_OPTIONS, so a profiled run starts node itself.
      if (values.launcher === 'bin' && !values['cpu-prof'] && existsSync(bin)) {
        return new Proc('taskset', ['-c', COLLECTOR_CPU, bin, 'run', '--config', cfg], { env: { ...env, NODE_OPTIONS: [process.env.NODE_OPTIONS ?? '', ...nodeArgs].join(' ').trim() } });
      }
      return new Proc('taskset', ['-c', COLLECTOR_CPU, process.execPath, ...nodeArgs, main, 'run', '--config', cfg], { env });
    });
  if (values.only !== 'jaeger') {
    if (values['baseline-main']) results.push(await ours('baseline build', values['baseline-main']));
    results.push(await ours('aibom-collector', collectorMain()));
  }
  const jaeger = findTool('JAEGER_BIN', '.tools/bin/jaeger');
  if (values.only !== 'aibom' && jaeger) {
    results.push(
      await measure('jaeger v2', sink, (inPort, dir) => {
        const cfg = join(dir, 'j.yaml');
        writeFileSync(cfg, collectorConfig(inPort, sinkPort, '  telemetry: { metrics: { level: none }, logs: { level: warn } }\n'));
        return new Proc('taskset', ['-c', COLLECTOR_CPU, jaeger, '--config', cfg], { env: { ...process.env, GOMAXPROCS: '1' } });
      }),
    );
  } else if (!jaeger) {
    console.log('jaeger v2 not built (.ci/install-tools.sh): comparison skipped');
  }

  console.log(`\n${'collector'.padEnd(16)} | closed loop: spans/s    CPU%  refused | fixed ${RATE} spans/s: got/s   CPU%  RSS MiB missed | peak RSS MiB | other load on CPU ${COLLECTOR_CPU}: closed/fixed %`);
  for (const r of results) {
    const { closed: c, fixed: f } = r;
    console.log(
      `${r.label.padEnd(16)} | ${fmt(c.spansPerSec, 20)} ${fmt(c.cpuPct, 7)} ${fmt(c.refused, 8)} | ${fmt(f.spansPerSec, 26)} ${fmt(f.cpuPct, 6)} ${fmt(f.rssMiB, 8)} ${fmt(f.missed, 6)} | ${fmt(r.peakMiB, 12)} | ${fmt(c.otherPct, 4)} /${fmt(f.otherPct, 3)}`,
    );
  }
  const mine = results.find((r) => r.label === 'aibom-collector');
  const theirs = results.find((r) => r.label === 'jaeger v2');
  const before = results.find((r) => r.label === 'baseline build');
  if (results.some((r) => r.closed.otherPct > 5 || r.fixed.otherPct > 5)) {
    console.log(`\nWARNING: other processes used CPU ${COLLECTOR_CPU} during the run (last column); the figures are low. Re-run on a quiet machine.`);
  }
  if (mine && theirs) {
    if (before) console.log(`\nratio baseline build / jaeger v2 (closed-loop spans/s) = ${(before.closed.spansPerSec / theirs.closed.spansPerSec).toFixed(2)}`);
    console.log(`\nratio aibom-collector / jaeger v2 (closed-loop spans/s) = ${(mine.closed.spansPerSec / theirs.closed.spansPerSec).toFixed(2)}`);
    const worst = Math.max(mine.closed.spansPerSec, theirs.closed.spansPerSec);
    console.log(`harness headroom: alone it moves ${(alone.spansPerSec / worst).toFixed(1)}x the faster collector's spans/s`);
  }
} finally {
  await sink.stop();
}
