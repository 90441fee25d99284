// End-to-end sensor figures on the real kernel (root, `make -C bpf` first). A script, not a test:
//   npx tsc -p tsconfig.build.json && node dist/bench/frame-decoder-sensor.bench.js
// 1. Overhead: a C loop of 500k open/close of one file, median of 5 runs, without the sensor, with the
//    sensor but the loop unmonitored, monitored (identical opens deduped in kernel), monitored with dedupe off.
// 2. Throughput: a monitored loop opening distinct paths at a fixed rate for 2 s, frames decoded here by
//    the TypeScript decoder; reports received events/s and ring-buffer drops per rate.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFrameDecoder, type SensorRecord, type StatsRecord } from '../receiver/ebpf/frame-decoder.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SENSOR = process.env.AIBOM_SENSOR ?? path.join(root, 'bpf/.output/aibom-sensor');
const dir = mkdtempSync(path.join(tmpdir(), 'aibom-bench-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const LOOP = path.join(dir, 'aibomloop');

// mode 0: open/close argv[3] N times. mode 1: open distinct missing paths at argv[4] opens/s (0 = max).
writeFileSync(
  `${LOOP}.c`,
  `#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
int main(int argc,char**argv){long n=atol(argv[2]);int mode=atoi(argv[1]);char p[256];
 getchar();
 double t0=now(),rate=argc>4?atof(argv[4]):0;
 for(long i=0;i<n;i++){
  if(mode==0){int fd=open(argv[3],O_RDONLY);if(fd>=0)close(fd);}
  else{snprintf(p,sizeof p,"%s%ld",argv[3],i);open(p,O_RDONLY);}
  if(rate>0&&(i%500)==0){double due=t0+i/rate,d=due-now();if(d>0)usleep(d*1e6);}
 }
 printf("%.6f\\n",now()-t0);return 0;}
`,
);
execFileSync('cc', ['-O2', '-o', LOOP, `${LOOP}.c`]);

interface Sensor {
  records: SensorRecord[];
  stop(): Promise<StatsRecord | undefined>;
  ready: Promise<void>;
}

function startSensor(args: string[], keep: boolean): Sensor {
  const proc = spawn(SENSOR, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const dec = createFrameDecoder();
  const records: SensorRecord[] = [];
  const scratch: SensorRecord[] = [];
  let last: StatsRecord | undefined;
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));
  proc.stdout.on('data', (c: Buffer) => {
    scratch.length = 0;
    dec.push(c, scratch);
    for (const r of scratch) {
      if (r.kind === 'log' && r.code === 'ready') resolveReady();
      if (r.kind === 'stats') last = r;
      if (keep || r.kind === 'stats') records.push(r);
    }
  });
  const exited = once(proc, 'exit');
  return {
    records,
    ready,
    async stop() {
      proc.kill('SIGTERM');
      await exited;
      return last;
    },
  };
}

function runLoop(args: string[]): Promise<{ seconds: number; pid: number }> {
  const p = spawn(LOOP, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve) => {
    p.on('exit', () => resolve({ seconds: Number(out.trim()), pid: p.pid! }));
    setTimeout(() => p.stdin.write('\n'), 50);
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function overhead(): Promise<void> {
  const n = '500000';
  const target = '/etc/hostname';
  const cases: [string, string[] | undefined][] = [
    ['none', undefined],
    ['sensor, loop not monitored', ['--comm', 'nobody-matches', '--no-ssl']],
    ['sensor, loop monitored (dedupe on)', ['--comm', 'aibomloop', '--no-ssl']],
    ['sensor, loop monitored, dedupe off (every open emitted+decoded)', ['--comm', 'aibomloop', '--no-ssl', '--dedupe-ms', '0']],
  ];
  let base = 0;
  for (const [name, args] of cases) {
    const times: number[] = [];
    let stats: StatsRecord | undefined;
    for (let i = 0; i < 5; i++) {
      const s = args ? startSensor(args, false) : undefined;
      if (s) await s.ready;
      times.push((await runLoop(['0', n, target])).seconds);
      if (s) stats = await s.stop();
    }
    const m = median(times);
    if (!args) base = m;
    const o = stats?.perType.open;
    console.log(
      `${name.padEnd(62)} median ${m.toFixed(3)} s  ${(m / base).toFixed(2)}x` +
        (o ? `  (last run: emitted ${o.emitted}, deduped ${o.deduped}, drops ${o.rbDrops})` : ''),
    );
  }
}

async function throughput(): Promise<void> {
  // [opens/s per producer (0 = as fast as it can), producers, ring KiB]
  const cases: [number, number, number][] = [
    [100_000, 1, 4096],
    [200_000, 1, 4096],
    [0, 1, 4096],
    [0, 2, 4096],
    [0, 1, 256],
    [0, 1, 64],
    [0, 1, 16],
  ];
  for (const [rate, producers, kb] of cases) {
    const count = rate ? rate * 2 : 1_000_000;
    const s = startSensor(
      ['--comm', 'aibomloop', '--no-ssl', '--dedupe-ms', '0', '--stats-interval-ms', '0', '--ringbuf-kb', String(kb)],
      false,
    );
    await s.ready;
    const runs = await Promise.all(
      Array.from({ length: producers }, (_, i) => runLoop(['1', String(count), path.join(dir, `nx${i}-`), String(rate)])),
    );
    const stats = await s.stop();
    const secs = Math.max(...runs.map((r) => r.seconds));
    const o = stats!.perType.open;
    console.log(
      `${producers} producer(s) at ${rate ? String(rate) : 'max'} opens/s, ring ${kb} KiB: ` +
        `attempted ${(o.attempted / secs).toFixed(0)}/s, delivered ${(o.emitted / secs).toFixed(0)}/s, ` +
        `dropped ${o.rbDrops} (${((100 * o.rbDrops) / Math.max(1, o.attempted)).toFixed(2)}%), ` +
        `received==emitted: ${stats!.rbConsumed === stats!.totals.emitted}`,
    );
  }
}

if (process.getuid?.() !== 0 || spawnSync(SENSOR, ['--help']).error) {
  console.error('needs root and bpf/.output/aibom-sensor');
  process.exit(1);
}
await overhead();
await throughput();
