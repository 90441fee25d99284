// Sensor figures on the real kernel (root, BTF, `make -C bpf`, `npm run build`). A script, not a test:
//   node dist/bench/sensor-overhead.js [lag|exit|throughput|storm|floor|agent|idle|all] [--rounds N] [--runs N]
// lag         event lag (decode time - event time) while a monitored Node process starts (--comm rule, +pid)
// exit        SIGTERM -> final stats frame / process exit, with Node's uprobes attached
// throughput  sensor + ebpf receiver (frames -> OTLP log records) pinned to CPU 1, open storm of distinct
//             paths on CPU 0 at increasing rates: delivered events/s, ring drops, CPU% of sensor and receiver
// storm       CPU time of an open/close storm and of a loopback connect storm, with and without the
//             sensor + receiver, alternating, median of --rounds
// floor       the storm rows of processes the sensor does NOT watch: the open/close loop (syscall-tracepoint
//             floor), an exec storm of /bin/true with a 3 KiB environment (the env-marker scan at exec), and
//             what the host-wide shadow-AI signatures look at: a loopback connect+accept storm (listen makes
//             the process an artifact candidate), DNS queries for a non-AI name, other UDP sends, and POSTs to
//             a non-inference path; each also with `shadow_ai.enabled: false`, and the events let through
// letthrough  the sensor alone with its defaults (env markers, shadow-AI signatures), unwatched storms (DNS
//             for a non-AI name, UDP, POST to a non-inference path, connect, open/close): the events each
//             storm's pid produced (0 expected), all events meanwhile, and the no_signature checks
// agent       the JS agent's `attack` scenario --runs times (fake LLM + services on loopback), with and without,
//             alternating, median of --rounds; RSS of sensor and receiver; each "with" round runs the agent a
//             second time with the receiver warm (compiled, optimised; --warm N: N more times, averaged, each
//             run's own CPU per event printed); --cpu-prof DIR writes a V8 CPU
//             profile of each receiver process there; --collector: watched by `aibom-collector run` (the
//             embedded default, by a provider key in the agent's environment; --root DIR for another build)
//             instead of a receiver process alone; with --collector the warm runs in which correlate emitted
//             spans (its window's end, for an agent that exports none) are also averaged apart from the others;
//             --spans (with --collector): the agent exports its spans (OTLP/gRPC, its SDK's defaults) to the
//             collector, and in the runs without it to a sink that stands for the collector a team already runs
//             (.tools/bin/otlpbench, bench/setup.sh; its CPU is not the agent's), as an instrumented agent runs;
//             --peer jaeger,otelcol (with --spans): after the collector's runs in every round, the same runs (a
//             first and --warm N more) with the agent's spans going to each peer instead (bench/peer-collector.ts,
//             no sensor): its own CPU per run from /proc beside the collector's and the agent's, spans it accepted
// idle        `aibom-collector run` (embedded default) with nothing watched running, --seconds N (30) after
//             --settle N (3) seconds from ready: CPU and
//             wakeups per second of the collector (main thread, other threads) and its sensor
// --node-args 'FLAGS': node/V8 flags of the receiver processes.
// --gc-log FILE (with --collector): the collector runs with --trace-gc, its stdout into FILE (FILE.2, ... for a
// later round's), and its GC summary is printed when it stops (bench/gc-log.ts).
// AIBOM_SENSOR overrides the sensor binary (e.g. an older build, to compare); --ebpf JSON the agent rows'
// receiver config (e.g. '{"poll_interval":"200ms"}').
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import type { LogsConsumer } from '../pipeline/consumer.js';
import { ConfigErrors, Section } from '../pipeline/config/section.js';
import { createHost } from '../pipeline/host.js';
import type { LogsData } from '../pipeline/otlp/types.js';
import { Metrics } from '../pipeline/telemetry/metrics.js';
import { DEFAULT_BATCH_TIMEOUT_MS, DEFAULT_POLL_INTERVAL_MS, readConfig } from '../receiver/ebpf/config.js';
import { EbpfReceiver } from '../receiver/ebpf/ebpf-receiver.js';
import type { SensorRecord, StatsRecord } from '../receiver/ebpf/frame-decoder.js';
import { SensorProcess } from '../receiver/ebpf/sensor-process.js';
import { findTool } from '../test/support/tools.js';
import { showGcLog, summariseGcLog } from './gc-log.js';
import { jsonLinesBytes, parsePeers, startPeer, type PeerName } from './peer-collector.js';
import { attackAgentEnv, startListening } from './test-app.js';


const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SENSOR = process.env.AIBOM_SENSOR ?? path.join(root, 'bpf/.output/aibom-sensor');
const APPS = path.join(root, 'test/apps');
const SELF = fileURLToPath(import.meta.url);
const argv = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
/** `--ebpf JSON`: receiver config over the defaults for the agent rows, e.g. '{"poll_interval":"200ms"}' to compare in one build. */
const ebpfOverrides = ((): Record<string, unknown> => {
  const i = argv.indexOf('--ebpf');
  return i >= 0 ? (JSON.parse(argv[i + 1]!) as Record<string, unknown>) : {};
})();
// Long enough for the sensor's last poll and the receiver's last batch to be done and counted (polls up to 1 s).
const DRAIN_MS = Math.max(DEFAULT_POLL_INTERVAL_MS, 1000) + DEFAULT_BATCH_TIMEOUT_MS + 100;
/** `--idle S`: seconds per round the sensor and receiver are measured with nothing they watch running. */
const IDLE_MS = 1000 * opt('idle', 3);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? NaN;
const clk = 100; // USER_HZ
/** utime + stime of a live process, seconds. */
function cpuOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / clk;
  } catch {
    return NaN;
  }
}
/**
 * CPU seconds (ns resolution) and wakeups (voluntary context switches: the thread slept and was woken) of a live process,
 * main thread apart from the others: in a Node process those are V8's platform workers (GC marking and
 * sweeping, the optimising compiler) and libuv's threadpool; in the sensor, its /proc scan worker.
 */
interface ThreadSplit {
  main: number;
  others: number;
  mainWakeups: number;
  otherWakeups: number;
}
function threadSplit(pid: number): ThreadSplit {
  const out: ThreadSplit = { main: 0, others: 0, mainWakeups: 0, otherWakeups: 0 };
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return { main: NaN, others: NaN, mainWakeups: NaN, otherWakeups: NaN };
  }
  for (const tid of tids) {
    try {
      // schedstat's first field: time on a CPU in ns (stat's utime + stime tick at 10 ms, too coarse here)
      const cpu = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]) / 1e9;
      const wakeups = Number(/\nvoluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'latin1'))?.[1] ?? 0);
      if (Number(tid) === pid) {
        out.main += cpu;
        out.mainWakeups += wakeups;
      } else {
        out.others += cpu;
        out.otherWakeups += wakeups;
      }
    } catch {
      // the thread ended between the listing and the read: its time is in neither snapshot
    }
  }
  return out;
}
const splitDiff = (a: ThreadSplit, b: ThreadSplit): ThreadSplit => ({ main: b.main - a.main, others: b.others - a.others, mainWakeups: b.mainWakeups - a.mainWakeups, otherWakeups: b.otherWakeups - a.otherWakeups });
const splitSum = (xs: ThreadSplit[]): ThreadSplit => xs.reduce((a, x) => ({ main: a.main + x.main, others: a.others + x.others, mainWakeups: a.mainWakeups + x.mainWakeups, otherWakeups: a.otherWakeups + x.otherWakeups }), { main: 0, others: 0, mainWakeups: 0, otherWakeups: 0 });
const showSplit = (x: ThreadSplit): string => `main ${(1000 * x.main).toFixed(0)} ms / ${x.mainWakeups} wakeups, other threads ${(1000 * x.others).toFixed(0)} ms / ${x.otherWakeups} wakeups`;

function rssKb(pid: number, field = 'VmRSS'): number {
  try {
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1]);
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------- helpers built once
const dir = mkdtempSync(path.join(tmpdir(), 'aibom-sensor-bench-'));
// The collectors' data directories are under it too (with --spans ~340 MB of telemetry a run): gone however the bench ends.
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const STORM = path.join(dir, 'aibom-storm');
const RUSAGE = path.join(dir, 'rusage-run');
function buildTools(): void {
  // aibom-storm open N FILE | opend N PREFIX RATE | connect N | exec N ENV_BYTES | dns N | udp N | post N.
  // Waits for a stdin line,
  // prints "<user+sys s> <wall s>" of itself (exec: and of its waited-for children).
  writeFileSync(`${STORM}.c`, `#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
int main(int argc,char**argv){long n=atol(argv[2]);char p[256];getchar();double t0=now();
 if(!strcmp(argv[1],"open")){for(long i=0;i<n;i++){int fd=open(argv[3],O_RDONLY);if(fd>=0)close(fd);}}
 else if(!strcmp(argv[1],"opend")){double rate=atof(argv[4]);for(long i=0;i<n;i++){snprintf(p,sizeof p,"%s%ld",argv[3],i);open(p,O_RDONLY);
   if(rate>0&&(i%200)==0){double d=t0+i/rate-now();if(d>0)usleep(d*1e6);}}}
 else if(!strcmp(argv[1],"dns")||!strcmp(argv[1],"udp")){int u=socket(AF_INET,SOCK_DGRAM,0);
   struct sockaddr_in a={.sin_family=AF_INET,.sin_port=htons(argv[1][0]=='d'?53:9),.sin_addr.s_addr=htonl(0x7f000001)};
   unsigned char q[64]={0x12,0x34,1,0,0,1,0,0,0,0,0,0,8,'i','n','t','r','a','n','e','t',7,'e','x','a','m','p','l','e',4,'t','e','s','t',0,0,1,0,1};
   if(argv[1][0]=='u')memset(q,'u',sizeof q);
   for(long i=0;i<n;i++)sendto(u,q,argv[1][0]=='d'?39:64,0,(void*)&a,sizeof a);}
 else if(!strcmp(argv[1],"post")){int l=socket(AF_INET,SOCK_STREAM,0);struct sockaddr_in a={.sin_family=AF_INET,.sin_addr.s_addr=htonl(0x7f000001)};socklen_t al=sizeof a;
   bind(l,(void*)&a,sizeof a);listen(l,1);getsockname(l,(void*)&a,&al);int c=socket(AF_INET,SOCK_STREAM,0);connect(c,(void*)&a,sizeof a);int s=accept(l,0,0);
   const char*m="POST /api/items HTTP/1.1\\r\\nHost: intranet\\r\\nContent-Length: 2\\r\\n\\r\\n{}";char b[256];
   for(long i=0;i<n;i++){send(c,m,strlen(m),0);recv(s,b,sizeof b,0);}}
 else if(!strcmp(argv[1],"exec")){long eb=atol(argv[3]);int nv=eb/72+1;char**envp=calloc(nv+1,sizeof(char*));
   for(int v=0;v<nv;v++){envp[v]=malloc(80);snprintf(envp[v],80,"APP_SETTING_%03d=%0*d",v,56,v);}
   char*av[]={"/bin/true",0};for(long i=0;i<n;i++){pid_t c=fork();if(!c){execve(av[0],av,envp);_exit(127);}int st;waitpid(c,&st,0);}
   struct rusage r,k;getrusage(RUSAGE_SELF,&r);getrusage(RUSAGE_CHILDREN,&k);
   printf("%.4f %.4f\\n",r.ru_utime.tv_sec+r.ru_utime.tv_usec/1e6+r.ru_stime.tv_sec+r.ru_stime.tv_usec/1e6+k.ru_utime.tv_sec+k.ru_utime.tv_usec/1e6+k.ru_stime.tv_sec+k.ru_stime.tv_usec/1e6,now()-t0);return 0;}
 else{int l=socket(AF_INET,SOCK_STREAM,0);struct sockaddr_in a={.sin_family=AF_INET,.sin_addr.s_addr=htonl(0x7f000001)};socklen_t al=sizeof a;
   int one=1;setsockopt(l,SOL_SOCKET,SO_REUSEADDR,&one,sizeof one);bind(l,(void*)&a,sizeof a);listen(l,128);getsockname(l,(void*)&a,&al);
   for(long i=0;i<n;i++){int c=socket(AF_INET,SOCK_STREAM,0);if(connect(c,(void*)&a,sizeof a)){perror("connect");return 1;}
     struct linger lg={1,0};setsockopt(c,SOL_SOCKET,SO_LINGER,&lg,sizeof lg);int s=accept(l,0,0);close(c);close(s);}}
 struct rusage r;getrusage(RUSAGE_SELF,&r);
 printf("%.4f %.4f\\n",r.ru_utime.tv_sec+r.ru_utime.tv_usec/1e6+r.ru_stime.tv_sec+r.ru_stime.tv_usec/1e6,now()-t0);return 0;}
`);
  execFileSync('cc', ['-O2', '-o', STORM, `${STORM}.c`]);
  // rusage-run CMD ARGS...: runs CMD, prints "<user+sys of CMD and its waited-for descendants> <wall>" on fd 3.
  writeFileSync(`${RUSAGE}.c`, `#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
int main(int argc,char**argv){double t0=now();pid_t p=fork();if(!p){execv(argv[1],argv+1);_exit(127);}
 int st;waitpid(p,&st,0);struct rusage r;getrusage(RUSAGE_CHILDREN,&r);FILE*f=fdopen(3,"w");
 fprintf(f,"%.4f %.4f %d\\n",r.ru_utime.tv_sec+r.ru_utime.tv_usec/1e6+r.ru_stime.tv_sec+r.ru_stime.tv_usec/1e6,now()-t0,WEXITSTATUS(st));fclose(f);return 0;}
`);
  execFileSync('cc', ['-O2', '-o', RUSAGE, `${RUSAGE}.c`]);
}

/** Runs the storm binary (optionally pinned), returns its own CPU and wall seconds. */
async function storm(args: string[], cpu?: number): Promise<{ cpu: number; wall: number }> {
  const cmd = cpu === undefined ? STORM : 'taskset';
  const a = cpu === undefined ? args : ['-c', String(cpu), STORM, ...args];
  const p = spawn(cmd, a, { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (c: Buffer) => (out += c.toString()));
  p.stdin.end('go\n');
  await once(p, 'close');
  const [c, w] = out.trim().split(' ').map(Number);
  return { cpu: c!, wall: w! };
}

// ------------------------------------------------------- receiver child (its own process)
/** `receiver CONFIG_JSON`: an EbpfReceiver feeding a counting consumer. Prints `READY <sensorPid>`; on a
 * `stats` line prints JSON counts; on `stop` shuts down, prints the final counts and exits. */
async function receiverChild(raw: string): Promise<void> {
  const errors = new ConfigErrors();
  const s = new Section(JSON.parse(raw) as Record<string, unknown>, 'receivers.ebpf', errors);
  const cfg = readConfig(s);
  s.done();
  if (!errors.empty) throw new Error(errors.list.join('\n'));
  let records = 0;
  const consumer: LogsConsumer = {
    async consume(d: LogsData) {
      for (const rl of d.resourceLogs) for (const sl of rl.scopeLogs) records += sl.logRecords.length;
    },
  };
  const metrics = new Metrics();
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const r = new EbpfReceiver({ id: 'ebpf', name: '', logger, metrics }, cfg, { logs: consumer } as never);
  await r.start(createHost());
  const sum = async (name: string, pred: (l: Record<string, string | number>) => boolean): Promise<number> => {
    const m = metrics.registry.getSingleMetric(name);
    if (!m) return 0;
    const { values } = await (m as unknown as { get(): Promise<{ values: { value: number; labels: Record<string, string | number> }[] }> }).get();
    return values.filter((v) => pred(v.labels)).reduce((a, v) => a + v.value, 0);
  };
  const lagHistogram = async (): Promise<{ lagSum: number; lagCount: number }> => {
    const m = metrics.registry.getSingleMetric('aibom_ebpf_event_lag_seconds');
    if (!m) return { lagSum: 0, lagCount: 0 };
    const { values } = await (m as unknown as { get(): Promise<{ values: { value: number; metricName?: string }[] }> }).get();
    const pick = (suffix: string): number => values.filter((v) => v.metricName?.endsWith(suffix)).reduce((a, v) => a + v.value, 0);
    return { lagSum: pick('_sum'), lagCount: pick('_count') };
  };
  const counts = async (): Promise<Record<string, number>> => ({
    records,
    ringDrops: await sum('aibom_ebpf_kernel_events_total', (l) => l.outcome === 'ring_drop'),
    emitted: await sum('aibom_ebpf_kernel_events_total', (l) => l.outcome === 'emitted'),
    pipelineDrops: await sum('aibom_ebpf_dropped_events_total', () => true),
    lagMax: await sum('aibom_ebpf_event_lag_max_seconds', () => true),
    ...(await lagHistogram()),
  });
  console.log(`READY ${r.sensorPid}`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'stats') console.log(JSON.stringify(await counts()));
    if (line === 'stop') {
      await r.shutdown();
      console.log(JSON.stringify(await counts()));
      process.exit(0);
    }
  }
}

interface ReceiverHandle {
  proc: ChildProcess;
  sensorPid: number;
  /** The collector's data directory (its file exporter's telemetry.jsonl); a receiver alone has none. */
  dataDir?: string;
  request(cmd: 'stats' | 'stop'): Promise<Record<string, number>>;
}

/**
 * `--node-args 'FLAGS'`: node/V8 flags of the receiver processes (e.g. the launcher's, or GC and JIT flags to
 * compare); with `--collector`, of the collectors (node started with the launcher's settings and these flags).
 */
const receiverNodeArgs = ((i) => (i >= 0 ? argv[i + 1]!.split(/\s+/).filter(Boolean) : []))(argv.indexOf('--node-args'));
/** `--cpu-prof DIR`: the receiver processes (with `--collector`: the collectors) write V8 CPU profiles there. */
const cpuProfDir = ((i) => (i >= 0 ? argv[i + 1] : undefined))(argv.indexOf('--cpu-prof'));

async function startReceiver(cfg: Record<string, unknown>, cpu?: number): Promise<ReceiverHandle> {
  const args = [...(cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : []), ...receiverNodeArgs, SELF, 'receiver', JSON.stringify({ mode: 'spawn', required: true, sensor: { path: SENSOR }, ...cfg })];
  const proc = cpu === undefined ? spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] }) : spawn('taskset', ['-c', String(cpu), process.execPath, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  const m = /^READY (\d+)/.exec(String(first.value ?? ''));
  if (!m) throw new Error(`receiver child did not start: ${String(first.value)}`);
  return {
    proc,
    sensorPid: Number(m[1]),
    async request(cmd) {
      proc.stdin!.write(`${cmd}\n`);
      const l = await lines.next();
      if (cmd === 'stop') await once(proc, 'close').catch(() => undefined);
      return JSON.parse(String(l.value)) as Record<string, number>;
    },
  };
}

// ------------------------------------------------------------------------------- lag
function nodeCommand(name: string): string {
  const link = path.join(dir, name);
  if (!existsSync(link)) symlinkSync(process.execPath, link);
  return link;
}

let coldSeq = 0;
/** A fresh copy of the node binary (new inode) with its pages dropped from the page cache: the first
 * exec of a binary the sensor has never scanned, read from disk. */
function coldNode(name: string): string {
  const d = path.join(dir, `cold-${coldSeq++}`);
  mkdirSync(d);
  const bin = path.join(d, name);
  execFileSync('cp', [process.execPath, bin]);
  execFileSync('python3', ['-c', `import os;fd=os.open(${JSON.stringify(bin)},os.O_RDONLY);os.fsync(fd);os.posix_fadvise(fd,0,0,os.POSIX_FADV_DONTNEED)`]);
  return bin;
}

async function lagRound(how: 'comm' | 'pid', cold: boolean): Promise<number[]> {
  const lags: number[] = [];
  const openDir = path.join(dir, 'lag');
  mkdirSync(openDir, { recursive: true });
  // A Node process that opens a distinct missing file every 2 ms for 1.5 s from its first line on.
  const script = `const fs=require('fs');let i=0;const t=setInterval(()=>{try{fs.openSync(${JSON.stringify(openDir)}+'/f'+(i++))}catch{}},2);setTimeout(()=>{clearInterval(t)},1500);`;
  let target = 0;
  const sensor = new SensorProcess({
    path: SENSOR,
    args: how === 'comm' ? ['--comm', 'aibom-lagnode', '--stats-interval-ms', '0'] : ['--stats-interval-ms', '0'],
    onRecords: (recs: SensorRecord[]) => {
      const now = BigInt(Date.now()) * 1_000_000n;
      for (const r of recs) if (r.kind === 'open' && r.pid === target && r.timeUnixNano) lags.push(Number(now - r.timeUnixNano) / 1e6);
    },
  });
  await sensor.ready;
  const name = how === 'comm' ? 'aibom-lagnode' : 'aibom-lagnode2';
  const child = spawn(cold ? coldNode(name) : nodeCommand(name), ['-e', script], { stdio: 'ignore' });
  target = child.pid!;
  if (how === 'pid') void sensor.control(`+pid ${target}`).catch(() => undefined);
  await once(child, 'exit');
  await sleep(200);
  await sensor.stop();
  return lags;
}

async function lag(rounds: number): Promise<void> {
  for (const [how, cold] of [['comm', false], ['pid', false], ['comm', true], ['pid', true]] as const) {
    const all: number[] = [];
    for (let i = 0; i < rounds; i++) all.push(...(await lagRound(how, cold)));
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    console.log(`lag ${how === 'comm' ? '--comm rule' : '+pid'}${cold ? ', binary not in page cache' : ''}: ${all.length} opens of a starting Node process, mean ${mean.toFixed(0)} ms, p50 ${pct(all, 50).toFixed(0)} ms, p99 ${pct(all, 99).toFixed(0)} ms, max ${Math.max(...all).toFixed(0)} ms`);
    await sleep(3000); // let a background detach finish before the next sensor attaches
  }
}

// ------------------------------------------------------------------------------ exit
async function exitTime(rounds: number): Promise<void> {
  const toFinal: number[] = [];
  const toExit: number[] = [];
  const node = spawn(process.execPath, ['-e', 'setTimeout(()=>{},600000)'], { stdio: 'ignore' });
  for (let i = 0; i < rounds; i++) {
    let tFinal = 0;
    let final: StatsRecord | undefined;
    const sensor = new SensorProcess({
      path: SENSOR,
      args: ['--pid', String(node.pid), '--stats-interval-ms', '0'],
      onRecords: (recs) => {
        for (const r of recs) if (r.kind === 'stats' && r.final) ((tFinal = performance.now()), (final = r));
      },
    });
    await sensor.ready;
    await sleep(500);
    const t0 = performance.now();
    await sensor.stop(10_000);
    toExit.push(performance.now() - t0);
    toFinal.push(tFinal - t0);
    if (!final || final.rbConsumed !== final.totals.emitted) throw new Error('final stats frame missing or inexact');
    await sleep(3000);
  }
  node.kill();
  console.log(`exit (Node's uprobes attached): SIGTERM -> final stats frame median ${median(toFinal).toFixed(0)} ms (${toFinal.map((x) => x.toFixed(0)).join(", ")}), -> process closed median ${median(toExit).toFixed(0)} ms (${toExit.map((x) => x.toFixed(0)).join(', ')})`);
}

// ------------------------------------------------------------------------ throughput
async function throughput(): Promise<void> {
  const secs = 3;
  console.log('throughput: sensor + ebpf receiver pinned to CPU 1, distinct-path open storm on CPU 0, 3 s per rate');
  console.log('| offered opens/s | delivered events/s | ring drops | pipeline drops | sensor CPU % | receiver CPU % |');
  console.log('|---|---|---|---|---|---|');
  for (const rate of [10_000, 25_000, 50_000, 75_000, 100_000, 150_000, 0]) {
    const rcv = await startReceiver({ monitor: { comms: ['aibom-storm'] }, tls: false, dedupe_window: '0s', max_pending_events: 262144 }, 1);
    const s0 = cpuOf(rcv.sensorPid);
    const r0 = cpuOf(rcv.proc.pid!);
    const t0 = performance.now();
    const n = rate ? rate * secs : 600_000;
    const st = await storm(['opend', String(n), path.join(dir, 'tp-'), String(rate)], 0);
    await sleep(DRAIN_MS);
    const c = await rcv.request('stats');
    const el = (performance.now() - t0) / 1000;
    const s1 = cpuOf(rcv.sensorPid);
    const r1 = cpuOf(rcv.proc.pid!);
    const fin = await rcv.request('stop');
    console.log(`| ${rate ? rate.toLocaleString('en') : `max (${Math.round(n / st.wall).toLocaleString('en')})`} | ${Math.round(c.records! / st.wall).toLocaleString('en')} | ${fin.ringDrops} | ${fin.pipelineDrops} | ${((100 * (s1 - s0)) / el).toFixed(0)} | ${((100 * (r1 - r0)) / el).toFixed(0)} |`);
    await sleep(2500);
  }
}

// ----------------------------------------------------------------------------- storm
async function stormOverhead(rounds: number, onlyUnmonitored = false): Promise<void> {
  const file = path.join(dir, 'storm-file');
  writeFileSync(file, 'x');
  const unmonitored: [string, string[], string[]?][] = [
    ['open/close 500k, NOT monitored (the syscall-tracepoint floor)', ['open', '500000', file], ['nobody-at-all']],
    // Every exec of every process pays the env-marker scan; 3 KiB of variables, none a marker (the full scan).
    ['exec 5k of /bin/true, 3 KiB environment, NOT monitored (env-marker scan at exec)', ['exec', '5000', '3072'], ['nobody-at-all']],
    ['loopback TCP connect+accept 20k, NOT monitored (a listener: shadow artifact candidate)', ['connect', '20000'], ['nobody-at-all']],
    ['sendto 200k DNS queries for a non-AI name, NOT monitored (QNAME parsed, suffix lookup)', ['dns', '200000'], ['nobody-at-all']],
    ['sendto 200k UDP datagrams (not DNS), NOT monitored (12-byte peek)', ['udp', '200000'], ['nobody-at-all']],
    ['send 100k POST /api/items over loopback TCP, NOT monitored (API path lookup)', ['post', '100000'], ['nobody-at-all']],
  ];
  const kinds: [string, string[], string[]?][] = onlyUnmonitored ? unmonitored : [
    ...unmonitored,
    ['open/close 500k (same file, monitored, dedupe on)', ['open', '500000', file]],
    ['open 200k distinct paths (monitored, every open an event)', ['opend', '200000', path.join(dir, 'sd-'), '0']],
    ['loopback TCP connect+accept 20k (monitored, every connect an event)', ['connect', '20000']],
  ];
  console.log(`storm: CPU time (user+sys) and wall of the storm process, median of ${rounds} alternating rounds; "+sensor" = sensor and receiver running, their own CPU beside`);
  if (onlyUnmonitored) console.log('"shadow off": the same sensor with `shadow_ai.enabled: false`, in the same rounds; events: records delivered per second of the storm (the storm is unwatched: ~0 expected)');
  console.log(`| workload | without: cpu s / wall s | with: cpu s / wall s | ratio cpu / wall | sensor + receiver cpu s | (with + sensor + receiver) / without |${onlyUnmonitored ? ' shadow off: cpu s, ratio | events/s |' : ''}`);
  console.log(`|---|---|---|---|---|---|${onlyUnmonitored ? '---|---|' : ''}`);
  for (const [label, args, comms] of kinds) {
    const w: { cpu: number; wall: number }[] = [];
    const s: { cpu: number; wall: number; extra: number; rate: number }[] = [];
    const off: number[] = [];
    for (let i = 0; i < rounds; i++) {
      w.push(await storm(args));
      for (const shadow of onlyUnmonitored ? [true, false] : [true]) {
        const rcv = await startReceiver({ monitor: { comms: comms ?? ['aibom-storm'] }, tls: false, max_pending_events: 262144, shadow_ai: { enabled: shadow } });
        const before = await rcv.request('stats');
        const c0 = cpuOf(rcv.sensorPid) + cpuOf(rcv.proc.pid!);
        const r = await storm(args);
        await sleep(DRAIN_MS);
        const c1 = cpuOf(rcv.sensorPid) + cpuOf(rcv.proc.pid!);
        const after = await rcv.request('stats');
        await rcv.request('stop');
        if (shadow) s.push({ ...r, extra: c1 - c0, rate: (after.records! - before.records!) / r.wall });
        else off.push(r.cpu);
        await sleep(2500);
      }
    }
    const wc = median(w.map((x) => x.cpu));
    const ww = median(w.map((x) => x.wall));
    const sc = median(s.map((x) => x.cpu));
    const sw = median(s.map((x) => x.wall));
    const ex = median(s.map((x) => x.extra));
    const extraCols = onlyUnmonitored ? ` ${median(off).toFixed(2)}, ${(median(off) / wc).toFixed(2)}x | ${median(s.map((x) => x.rate)).toFixed(1)} |` : '';
    console.log(`| ${label} | ${wc.toFixed(2)} / ${ww.toFixed(2)} | ${sc.toFixed(2)} / ${sw.toFixed(2)} | ${(sc / wc).toFixed(2)}x / ${(sw / ww).toFixed(2)}x | ${ex.toFixed(2)} | ${((sc + ex) / wc).toFixed(2)}x |${extraCols}`);
  }
}

// ----------------------------------------------------------------------------- agent
async function agent(rounds: number, runs: number): Promise<void> {
  const llm = await startListening(APPS, [path.join(APPS, 'fake-llm/server.mjs'), '--port', '0']);
  const svc = await startListening(APPS, [path.join(APPS, 'services.mjs')]);
  try {
    await agentRounds(llm, svc, rounds, runs);
  } finally {
    llm.proc.kill();
    svc.proc.kill();
  }
}

/** `--collector`: the agent rows watched by `aibom-collector run` (embedded default, whole process) instead of a receiver alone. */
const viaCollector = argv.includes('--collector');
/** `--warm N`: how many runs after the first the collector watches; the warm figures are their average. */
const warmRuns = opt('warm', 1);
/** `--spans`: the agent exports its spans, to the collector or, in the runs without it, to a sink. */
const agentSpans = argv.includes('--spans');

/** `--peer jaeger,otelcol`: peers that take the agent's spans in runs of their own, measured as the collector is. */
const peers = parsePeers(((i) => (i >= 0 ? argv[i + 1] : undefined))(argv.indexOf('--peer')));

/** What receives the agent's spans in the runs without the collector: a counting OTLP/gRPC sink, not measured. */
async function startSink(port: number): Promise<{ spans: () => number; stop: () => Promise<void> }> {
  const bin = findTool('OTLPBENCH_BIN', '.tools/bin/otlpbench');
  if (!bin) throw new Error('--spans needs .tools/bin/otlpbench: run bench/setup.sh');
  const proc = spawn(bin, ['sink', '-addr', `127.0.0.1:${port}`], { env: { ...process.env, GOMAXPROCS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let last = 0;
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    const m = /"spans":(\d+)/.exec(l);
    if (m) last = Number(m[1]);
  });
  const lines = createInterface({ input: proc.stderr! })[Symbol.asyncIterator]();
  const first = String((await lines.next()).value ?? '');
  if (!first.startsWith('sink listening')) throw new Error(`otlpbench sink did not start: ${first}`);
  return {
    spans: () => last,
    async stop() {
      proc.kill();
      if (proc.exitCode === null) await once(proc, 'close');
    },
  };
}

async function agentRounds(llm: { proc: ChildProcess; ports: number[] }, svc: { proc: ChildProcess; ports: number[] }, rounds: number, runs: number): Promise<void> {
  const agentCmd = nodeCommand('aibom-bench-js');
  if (agentSpans && !viaCollector) throw new Error('--spans needs --collector (a receiver alone takes no spans)');
  if (peers.length > 0 && !agentSpans) throw new Error('--peer needs --spans (a peer takes only the agent\'s spans)');
  const spansPort = agentSpans ? await freePort() : 0;
  const env = {
    ...attackAgentEnv(llm, svc, runs),
    // `--collector`: the embedded default watches the agent as it would any, by a provider key in its environment.
    ...(viaCollector ? { OPENAI_API_KEY: 'sk-bench-not-a-key' } : {}),
    ...(agentSpans ? { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${spansPort}` } : {}),
  };
  // `--spans`: the sink listens on the agent's endpoint whenever the collector does not.
  let sink = agentSpans ? await startSink(spansPort) : undefined;
  const sinkSpans: number[] = [];
  const collectorSpans: number[] = [];
  const runAgent = async (): Promise<{ cpu: number; wall: number }> => {
    const servers0 = cpuOf(llm.proc.pid!) + cpuOf(svc.proc.pid!);
    const p = spawn(RUSAGE, [agentCmd, path.join(APPS, 'agent-js/agent.mjs')], { cwd: APPS, env, stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
    let out = '';
    (p.stdio[3] as NodeJS.ReadableStream).on('data', (c: Buffer) => (out += c.toString()));
    await once(p, 'close');
    const [cpu, wall, code] = out.trim().split(' ').map(Number);
    if (code !== 0) throw new Error(`agent exited ${code}`);
    return { cpu: cpu! + cpuOf(llm.proc.pid!) + cpuOf(svc.proc.pid!) - servers0, wall: wall! };
  };
  /**
   * The collector's runs again (a first, then `--warm N`), the agent's spans going to a peer and no sensor
   * watching: the peer's own CPU over each (all its threads, schedstat), the agent's, what it accepted.
   */
  const peerRound = async (name: PeerName): Promise<PeerRow> => {
    const peerDir = mkdtempSync(path.join(dir, `${name}-`));
    const peer = await startPeer(name, spansPort, await freePort(), peerDir);
    let report: string;
    let row: PeerRow;
    try {
      const pid = peer.proc.pid!;
      await sleep(1000);
      const c0 = threadSplit(pid);
      const first = await runAgent();
      await sleep(DRAIN_MS);
      const cold = total(splitDiff(c0, threadSplit(pid)));
      const afterFirst = await peer.spans();
      const own: number[] = [];
      let agentCpu = 0;
      let agentWall = 0;
      for (let k = 0; k < warmRuns; k++) {
        const c = threadSplit(pid);
        const rw = await runAgent();
        agentCpu += rw.cpu;
        agentWall += rw.wall;
        await sleep(DRAIN_MS);
        own.push(total(splitDiff(c, threadSplit(pid))));
      }
      const fin = await peer.spans();
      report = `${name}: first run ${cold.toFixed(2)} s (agent ${first.cpu.toFixed(2)} s, ${afterFirst.accepted} spans accepted); warm runs ${own.map((x) => x.toFixed(2)).join(', ')} s; spans accepted ${fin.accepted}, refused ${fin.refused}, exported ${fin.sent}`;
      row = { name, cold, coldAgent: first.cpu, warm: own.reduce((a, x) => a + x, 0) / warmRuns, warmAgent: agentCpu / warmRuns, warmWall: agentWall / warmRuns, spans: fin.accepted / (1 + warmRuns), refused: fin.refused, hwm: rssKb(pid, 'VmHWM') };
    } finally {
      await peer.stop();
    }
    // read once it has stopped: its file exporter flushes on shutdown
    const written = name === 'otelcol' ? `; its file exporter wrote ${(jsonLinesBytes(peerDir).spans / (1 + warmRuns) / 1e6).toFixed(1)} MB of spans per run` : '';
    rmSync(peerDir, { recursive: true });
    console.log(`${report}${written}`);
    return row;
  };
  const peerRows: PeerRow[] = [];
  await runAgent(); // warm caches (node_modules in the page cache)
  const w: { cpu: number; wall: number }[] = [];
  type Split = { sensor: ThreadSplit; receiver: ThreadSplit };
  const s: { cpu: number; wall: number; extra: number; sensorCpu: number; receiverCpu: number; sensorRss: number; rcvRss: number; sensorHwm: number; rcvHwm: number; records: number; lagMean: number; lagMax: number; cold: Split; idle: Split; idleS: number; warm: { cpu: number; wall: number; sensorCpu: number; receiverCpu: number; records: number; split: Split } }[] = [];
  const total = (x: ThreadSplit): number => x.main + x.others;
  try {
    for (let i = 0; i < rounds; i++) {
      // The sink reports every 250 ms: what an earlier run sent is in its count before this run starts.
      if (sink) await sleep(300);
      const sunk0 = sink?.spans() ?? 0;
      w.push(await runAgent());
      if (sink) {
        await sleep(300); // the sink's next report
        sinkSpans.push(sink.spans() - sunk0);
        await sink.stop();
        sink = undefined;
      }
      const rcv = viaCollector ? await startCollector(agentSpans ? spansPort : undefined) : await startReceiver({ ...ebpfOverrides, monitor: { comms: ['aibom-bench-js'] } });
      const snap = (): Split => ({ sensor: threadSplit(rcv.sensorPid), receiver: threadSplit(rcv.proc.pid!) });
      const diff = (a: Split, b: Split): Split => ({ sensor: splitDiff(a.sensor, b.sensor), receiver: splitDiff(a.receiver, b.receiver) });
      // What sensor and receiver cost while nothing they watch runs (timers, stats frames, polls): part of
      // every figure below, in proportion to the run's wall time plus the drain.
      await sleep(1000);
      const i0 = snap();
      await sleep(IDLE_MS);
      const idle = diff(i0, snap());
      const c0 = snap();
      let sensorRss = 0;
      let rcvRss = 0;
      const t = setInterval(() => {
        sensorRss = Math.max(sensorRss, rssKb(rcv.sensorPid));
        rcvRss = Math.max(rcvRss, rssKb(rcv.proc.pid!));
      }, 100);
      const r = await runAgent();
      await sleep(DRAIN_MS);
      const c1 = snap();
      const first = await rcv.request('stats');
      // The same run again with the receiver warm (its code compiled and optimised by the first run), as for
      // a collector that has been running: what an agent run costs beyond the receiver's one-off warm-up.
      // `--warm N`: N such runs (a collector that has run for a while: its optimising compiler done, its old
      // generation settled), reported together, per run on average; each one's own CPU per event is printed too,
      // since single runs spread 30-170 us per event (compiles, major GCs).
      const warmSplits: Split[] = [];
      const perRun: string[] = [];
      let warmAgentCpu = 0;
      let warmAgentWall = 0;
      let warmRecords = 0;
      let e2 = first.records!;
      let spans = first.spans ?? 0;
      // With `--collector` and an agent that exports no spans, correlate emits a run's events as process activity
      // when they reach the end of its window (30 s: several runs later): the runs in which that happens are apart.
      const byEmission = { emitting: { own: 0, agent: 0, events: 0, runs: 0 }, quiet: { own: 0, agent: 0, events: 0, runs: 0 } };
      for (let k = 0; k < warmRuns; k++) {
        const c2 = snap();
        const rw = await runAgent();
        await sleep(DRAIN_MS);
        const d = diff(c2, snap());
        const st = await rcv.request('stats');
        const e3 = st.records!;
        const emitted = (st.spans ?? 0) - spans;
        spans = st.spans ?? 0;
        const own = total(d.sensor) + total(d.receiver);
        perRun.push(`${((1e6 * own) / (e3 - e2)).toFixed(0)} us (${((100 * own) / rw.cpu).toFixed(1)}%${viaCollector ? `, ${emitted} spans` : ''})`);
        const b = emitted > 0 ? byEmission.emitting : byEmission.quiet;
        b.own += own;
        b.agent += rw.cpu;
        b.events += e3 - e2;
        b.runs++;
        warmSplits.push(d);
        warmAgentCpu += rw.cpu;
        warmAgentWall += rw.wall;
        warmRecords += e3 - e2;
        e2 = e3;
      }
      clearInterval(t);
      if (warmRuns > 1) console.log(`warm runs, own CPU per event (of the agent's CPU${viaCollector ? '; spans correlate emitted' : ''}): ${perRun.join(', ')}`);
      if (viaCollector && warmRuns > 1) {
        const show = (b: typeof byEmission.quiet): string => (b.runs === 0 ? 'none' : `${b.runs} runs, ${((1e6 * b.own) / b.events).toFixed(1)} us per event (${((100 * b.own) / b.agent).toFixed(1)}%)`);
        console.log(`warm runs in which correlate emitted spans: ${show(byEmission.emitting)}; the others: ${show(byEmission.quiet)}`);
      }
      const sensorHwm = rssKb(rcv.sensorPid, 'VmHWM');
      const rcvHwm = rssKb(rcv.proc.pid!, 'VmHWM');
      const fin = await rcv.request('stop');
      if (agentSpans) {
        collectorSpans.push(fin.agentSpans! / (1 + warmRuns));
        const b = jsonLinesBytes(rcv.dataDir!);
        console.log(`collector's file exporter wrote, per run: spans ${(b.spans / (1 + warmRuns) / 1e6).toFixed(1)} MB, log records ${(b.other / (1 + warmRuns) / 1e6).toFixed(1)} MB`);
      }
      const cold = diff(c0, c1);
      const warmSplit: Split = { sensor: splitSum(warmSplits.map((x) => x.sensor)), receiver: splitSum(warmSplits.map((x) => x.receiver)) };
      const sensorCpu = total(cold.sensor);
      const receiverCpu = total(cold.receiver);
      const warm = { cpu: warmAgentCpu / warmRuns, wall: warmAgentWall / warmRuns, sensorCpu: total(warmSplit.sensor) / warmRuns, receiverCpu: total(warmSplit.receiver) / warmRuns, records: warmRecords / warmRuns, split: warmSplit };
      s.push({ ...r, extra: sensorCpu + receiverCpu, sensorCpu, receiverCpu, sensorRss, rcvRss, sensorHwm, rcvHwm, records: first.records!, lagMean: (1000 * fin.lagSum!) / fin.lagCount!, lagMax: 1000 * fin.lagMax!, cold, idle, idleS: IDLE_MS / 1000, warm });
      await sleep(2500);
      for (const name of peers) {
        peerRows.push(await peerRound(name));
        await sleep(1000);
      }
      if (agentSpans) sink = await startSink(spansPort);
    }
  } finally {
    await sink?.stop();
  }
  const wc = median(w.map((x) => x.cpu));
  const ww = median(w.map((x) => x.wall));
  const sc = median(s.map((x) => x.cpu));
  const sw = median(s.map((x) => x.wall));
  const ex = median(s.map((x) => x.extra));
  console.log(`agent: JS agent, ${runs} x attack in one process (+ MCP children, fake LLM, services), median of ${rounds} alternating rounds; watched by ${viaCollector ? `${collectorRoot}/bin/aibom-collector run (embedded default): "receiver" below is the whole collector process` : 'a receiver process alone'}`);
  if (agentSpans) console.log(`the agent exported its spans (OTLP/gRPC): per run ${sinkSpans.join(', ')} to the sink without the collector; ${collectorSpans.map((x) => x.toFixed(0)).join(', ')} to the collector (its receiver's accepted spans over its runs)`);
  console.log('| | cpu s (agent+children+servers) | wall s |');
  console.log('|---|---|---|');
  console.log(`| without sensor | ${wc.toFixed(2)} | ${ww.toFixed(2)} |`);
  console.log(`| with sensor + receiver | ${sc.toFixed(2)} (${(sc / wc).toFixed(3)}x) | ${sw.toFixed(2)} (${(sw / ww).toFixed(3)}x) |`);
  console.log(`| sensor + receiver own cpu | ${ex.toFixed(2)} (total ${((sc + ex) / wc).toFixed(3)}x) | |`);
  const perEvent = (f: (x: (typeof s)[number]) => number): string => median(s.map((x) => (1e6 * f(x)) / x.records)).toFixed(1);
  console.log(`own cpu per delivered event (median of rounds): sensor ${perEvent((x) => x.sensorCpu)} us, receiver ${perEvent((x) => x.receiverCpu)} us, both ${perEvent((x) => x.extra)} us`);
  const wsc = median(s.map((x) => x.warm.cpu));
  const wex = median(s.map((x) => x.warm.sensorCpu + x.warm.receiverCpu));
  const warmPerEvent = (f: (x: (typeof s)[number]['warm']) => number): string => median(s.map((x) => (1e6 * f(x.warm)) / x.warm.records)).toFixed(1);
  console.log(`${warmRuns > 1 ? `runs 2-${warmRuns + 1} (average)` : 'second run'}, receiver warm: agent cpu ${wsc.toFixed(2)} s (${(wsc / wc).toFixed(3)}x), sensor + receiver own ${wex.toFixed(2)} s (total ${((wsc + wex) / wc).toFixed(3)}x); per event: sensor ${warmPerEvent((x) => x.sensorCpu)} us, receiver ${warmPerEvent((x) => x.receiverCpu)} us, both ${warmPerEvent((x) => x.sensorCpu + x.receiverCpu)} us; events ${s.map((x) => x.warm.records.toFixed(0)).join(', ')}`);
  console.log(`events delivered per round: ${s.map((x) => x.records).join(', ')}; event lag (receiver histogram) mean ${s.map((x) => x.lagMean.toFixed(0)).join(', ')} ms, max ${s.map((x) => x.lagMax.toFixed(0)).join(', ')} ms`);
  // The split, summed over the rounds: which threads, how many wakeups, and the idle rate's share.
  const sum = (f: (x: (typeof s)[number]) => ThreadSplit): ThreadSplit => splitSum(s.map(f));
  const idleS = s.reduce((a, x) => a + x.idleS, 0);
  const idleRate = (f: (x: (typeof s)[number]) => ThreadSplit): string => `${((1000 * total(sum(f))) / idleS).toFixed(2)} ms/s`;
  console.log(`split, all rounds: cold run (agent + ${DRAIN_MS} ms drain): sensor ${showSplit(sum((x) => x.cold.sensor))}; receiver ${showSplit(sum((x) => x.cold.receiver))}`);
  console.log(`split, all rounds: warm run: sensor ${showSplit(sum((x) => x.warm.split.sensor))}; receiver ${showSplit(sum((x) => x.warm.split.receiver))}`);
  console.log(`idle (${idleS} s, nothing watched running): sensor ${idleRate((x) => x.idle.sensor)} (${showSplit(sum((x) => x.idle.sensor))}); receiver ${idleRate((x) => x.idle.receiver)} (${showSplit(sum((x) => x.idle.receiver))}); a run's wall + drain ${(sw + DRAIN_MS / 1000).toFixed(1)} s`);
  if (peers.length > 0) peerTable(s, peerRows, collectorSpans);
  console.log(`RSS during the run (max sampled / VmHWM): sensor ${Math.max(...s.map((x) => x.sensorRss)) / 1024 | 0} / ${Math.max(...s.map((x) => x.sensorHwm)) / 1024 | 0} MiB, receiver process ${Math.max(...s.map((x) => x.rcvRss)) / 1024 | 0} / ${Math.max(...s.map((x) => x.rcvHwm)) / 1024 | 0} MiB`);
}

/** A peer's runs in one round: its own CPU and the agent's, seconds (warm: per run, averaged), spans accepted per run. */
interface PeerRow {
  name: PeerName;
  cold: number;
  coldAgent: number;
  warm: number;
  warmAgent: number;
  warmWall: number;
  spans: number;
  refused: number;
  hwm: number;
}

/** The collector's warm runs beside each peer's, per agent process (--runs attacks), medians of the rounds. */
function peerTable(s: { cpu: number; receiverCpu: number; sensorCpu: number; rcvHwm: number; warm: { cpu: number; wall: number; receiverCpu: number; sensorCpu: number } }[], rows: PeerRow[], collectorSpans: number[]): void {
  const ours = median(s.map((x) => x.warm.receiverCpu));
  const sensor = median(s.map((x) => x.warm.sensorCpu));
  const agentWith = median(s.map((x) => x.warm.cpu));
  console.log(`per agent process, warm runs (average of --warm), median of rounds; "first" = the first run after start`);
  console.log('| receives the spans | agent cpu s | agent wall s | its own cpu s | of the agent\'s | ours / it | first run: agent / own s | spans accepted per run | VmHWM MiB |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  console.log(`| aibom-collector (process; + sensor ${sensor.toFixed(2)} s) | ${agentWith.toFixed(2)} | ${median(s.map((x) => x.warm.wall)).toFixed(2)} | ${ours.toFixed(2)} | ${((100 * ours) / agentWith).toFixed(1)}% | 1 | ${median(s.map((x) => x.cpu)).toFixed(2)} / ${median(s.map((x) => x.receiverCpu)).toFixed(2)} | ${collectorSpans.map((x) => x.toFixed(0)).join(', ')} | ${Math.max(...s.map((x) => x.rcvHwm)) / 1024 | 0} |`);
  for (const name of new Set(rows.map((r) => r.name))) {
    const rs = rows.filter((r) => r.name === name);
    const own = median(rs.map((r) => r.warm));
    const agentCpu = median(rs.map((r) => r.warmAgent));
    console.log(`| ${name} | ${agentCpu.toFixed(2)} | ${median(rs.map((r) => r.warmWall)).toFixed(2)} | ${own.toFixed(3)} | ${((100 * own) / agentCpu).toFixed(1)}% | ${(ours / own).toFixed(1)} | ${median(rs.map((r) => r.coldAgent)).toFixed(2)} / ${median(rs.map((r) => r.cold)).toFixed(3)} | ${rs.map((r) => `${r.spans.toFixed(0)}${r.refused ? ` (${r.refused} refused)` : ''}`).join(', ')} | ${Math.max(...rs.map((r) => r.hwm)) / 1024 | 0} |`);
  }
}

// ------------------------------------------------------------------------- letthrough
async function letThrough(): Promise<void> {
  const events: number[] = [];
  let stats: StatsRecord | undefined;
  const sensor = new SensorProcess({
    path: SENSOR,
    args: ['--no-ssl', '--stats-interval-ms', '200'],
    onRecords: (records) => {
      for (const r of records) {
        if (r.kind === 'stats') stats = r;
        else if (r.kind !== 'log' && r.kind !== 'monitor' && r.kind !== 'stream-header') events.push(r.pid);
      }
    },
  });
  await sensor.ready;
  const file = path.join(dir, 'storm-file');
  writeFileSync(file, 'x');
  console.log('| storm (unwatched) | wall s | its events | events on the host meanwhile | no_signature checks |');
  console.log('|---|---|---|---|---|');
  for (const args of [['dns', '200000'], ['udp', '200000'], ['post', '100000'], ['connect', '20000'], ['open', '500000', file]]) {
    await sleep(500);
    const s0 = stats!.filtered.noSignature;
    const from = events.length;
    const p = spawn(STORM, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stdin.end('go\n');
    await once(p, 'close');
    await sleep(700); // a poll and a stats frame
    const mine = events.slice(from).filter((pid) => pid === p.pid).length;
    console.log(`| ${args.slice(0, 2).join(' ')} | ${Number(out.trim().split(' ')[1]).toFixed(2)} | ${mine} | ${events.length - from} | ${stats!.filtered.noSignature - s0} |`);
  }
  await sensor.stop();
}

// ------------------------------------------------------------------------------- idle
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** `--root DIR`: the build whose bin/aibom-collector the idle and `--collector` agent rows run (a before-worktree). */
const collectorRoot = ((i) => (i >= 0 ? path.resolve(argv[i + 1]!) : root))(argv.indexOf('--root'));
/** `--gc-log FILE`: the collectors' `--trace-gc` logs, one file per collector started (see the header). */
const gcLog = ((i) => (i >= 0 ? path.resolve(argv[i + 1]!) : undefined))(argv.indexOf('--gc-log'));
let gcLogs = 0;

/**
 * `aibom-collector run`, the embedded default (the product: receiver, the whole logs and traces pipelines,
 * their timers, the exporters), endpoints moved to free ports, data in a temp dir. The handle's counts
 * come from its /metrics.
 */
async function startCollector(grpcPort?: number): Promise<ReceiverHandle> {
  const [grpc, http, admin] = [grpcPort ?? (await freePort()), await freePort(), await freePort()];
  const dataDir = mkdtempSync(path.join(dir, 'data-'));
  const env = { ...process.env, AIBOM_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`, AIBOM_OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`, AIBOM_ADMIN_ENDPOINT: `127.0.0.1:${admin}`, AIBOM_DATA_DIR: dataDir };
  // `--cpu-prof DIR`: node itself with the launcher's flag (the launcher passes no profiler flags on).
  // node refuses --cpu-prof (and most V8 flags) in NODE_OPTIONS: a profiled or flagged run starts node itself,
  // with the launcher's settings.
  const direct = cpuProfDir !== undefined || receiverNodeArgs.length > 0 || gcLog !== undefined;
  // The collector's stdout is otherwise unused (its logs go to stderr): with `--gc-log`, V8's GC lines alone.
  const gcFile = gcLog === undefined ? undefined : gcLogs++ === 0 ? gcLog : `${gcLog}.${gcLogs}`;
  const gcFd = gcFile === undefined ? 'ignore' : openSync(gcFile, 'w');
  const flags = [...(cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : []), ...(gcFile ? ['--trace-gc'] : []), ...receiverNodeArgs];
  const proc = direct
    ? spawn(process.execPath, ['--max-semi-space-size=4', ...flags, path.join(collectorRoot, 'dist/pipeline/cli/main.js'), 'run'], { env: { ...env, MALLOC_MMAP_THRESHOLD_: '65536', MALLOC_ARENA_MAX: '2' }, stdio: ['ignore', gcFd, 'inherit'] })
    : spawn(path.join(collectorRoot, 'bin/aibom-collector'), ['run'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  if (typeof gcFd === 'number') closeSync(gcFd);
  const stop = async (): Promise<void> => {
    proc.kill('SIGTERM');
    if (proc.exitCode === null) await once(proc, 'close');
    if (gcFile) console.log(`collector's GC (${gcFile}): ${showGcLog(summariseGcLog(readFileSync(gcFile, 'latin1')))}`);
  };
  try {
    for (let i = 0; ; i++) {
      const res = await fetch(`http://127.0.0.1:${admin}/readyz`).catch(() => undefined);
      if (res?.ok) break;
      if (i > 300) throw new Error('collector not ready after 30 s');
      await sleep(100);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  // the launcher execs node: the collector is proc.pid; the sensor is its child
  const children = readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, 'latin1').trim().split(/\s+/).filter(Boolean).map(Number);
  const sensorPid = children.find((c) => readFileSync(`/proc/${c}/comm`, 'latin1').trim() === 'aibom-sensor') ?? NaN;
  const counts = async (): Promise<Record<string, number>> => {
    const text = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
    const sum = (re: RegExp): number => [...text.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
    return {
      records: sum(/^aibom_ebpf_kernel_events_total\{[^}]*outcome="emitted"[^}]*\} (\S+)$/gm),
      lagSum: sum(/^aibom_ebpf_event_lag_seconds_sum(?:\{[^}]*\})? (\S+)$/gm),
      lagCount: sum(/^aibom_ebpf_event_lag_seconds_count(?:\{[^}]*\})? (\S+)$/gm),
      lagMax: sum(/^aibom_ebpf_event_lag_max_seconds(?:\{[^}]*\})? (\S+)$/gm),
      spans: sum(/^aibom_correlate_emitted_spans_total(?:\{[^}]*\})? (\S+)$/gm),
      agentSpans: sum(/^aibom_receiver_accepted_items_total\{[^}]*signal="traces"[^}]*\} (\S+)$/gm),
    };
  };
  return {
    proc,
    sensorPid,
    dataDir,
    async request(cmd) {
      const c = await counts();
      if (cmd === 'stop') {
        // what the events were, for the whole collector run: the lever is their number as much as their cost
        const text = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
        const byType = [...text.matchAll(/^aibom_ebpf_kernel_events_total\{[^}]*type="([^"]+)"[^}]*outcome="emitted"[^}]*\} (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
        console.log(`collector's events by type (emitted, whole run): ${byType.join(', ')}`);
        await stop();
      }
      return c;
    },
  };
}

/**
 * The embedded default while nothing it watches runs: what its timers, the sensor's polls and stats frames
 * and the pipeline's periodic work cost per second, per thread, collector and sensor apart.
 */
async function idle(seconds: number): Promise<void> {
  const c0 = await startCollector();
  try {
    await sleep(1000 * opt('settle', 3)); // start-up work done (the sensor's scans, first AI-BOM write, V8's memory reducer)
    const pid = c0.proc.pid!;
    const e0 = (await c0.request('stats')).records!;
    const a = { collector: threadSplit(pid), sensor: threadSplit(c0.sensorPid) };
    await sleep(seconds * 1000);
    const events = (await c0.request('stats')).records! - e0;
    const c = splitDiff(a.collector, threadSplit(pid));
    const sn = splitDiff(a.sensor, threadSplit(c0.sensorPid));
    const rate = (x: ThreadSplit): string => `${((1000 * (x.main + x.others)) / seconds).toFixed(2)} ms/s, ${((x.mainWakeups + x.otherWakeups) / seconds).toFixed(1)} wakeups/s`;
    // The default watches every process with an AI provider key in its environment: another user's agent is not idle.
    console.log(`idle: ${collectorRoot}/bin/aibom-collector run (embedded default), ${seconds} s; kernel events meanwhile: ${events}${events > 0 ? ' (NOT idle: something watched ran)' : ''}`);
    console.log(`collector: ${rate(c)} (${showSplit(c)})`);
    console.log(`sensor: ${rate(sn)} (${showSplit(sn)})`);
  } finally {
    await c0.request('stop');
  }
}

// ------------------------------------------------------------------------------ main
async function main(): Promise<void> {
  const mode = argv[0] ?? 'all';
  if (mode === 'receiver') return receiverChild(argv[1]!);
  if (process.getuid?.() !== 0) throw new Error('needs root (the sensor)');
  if (!existsSync(SENSOR)) throw new Error(`${SENSOR} missing: make -C bpf`);
  const others = execFileSync('sh', ['-c', 'pgrep -x aibom-sensor || true'], { encoding: 'utf8' }).trim();
  if (others) console.log(`note: other aibom-sensor processes are running (${others.split('\n').join(', ')}): their syscall tracepoints are on for every process, baselines included`);
  buildTools();
  const rounds = opt('rounds', 5);
  if (mode === 'lag' || mode === 'all') await lag(Math.min(rounds, 3));
  if (mode === 'exit' || mode === 'all') await exitTime(Math.min(rounds, 3));
  if (mode === 'throughput' || mode === 'all') await throughput();
  if (mode === 'storm' || mode === 'all') await stormOverhead(rounds);
  if (mode === 'floor') await stormOverhead(rounds, true);
  if (mode === 'letthrough') await letThrough();
  if (mode === 'agent' || mode === 'all') await agent(rounds, opt('runs', 20));
  if (mode === 'idle') await idle(opt('seconds', 30));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
