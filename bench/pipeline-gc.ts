/**
 * What the embedded default's traces pipeline leaves to the garbage collector per span: one build's
 * pipeline alone in a child process under V8's `--trace-gc-nvp`, at the launcher's semi-space size
 * (4 MiB, bin/aibom-collector) unless told otherwise. Over the measured steps: bytes promoted to the
 * old generation and bytes surviving a scavenge per span, scavenges and their pause per span,
 * mark-compacts and their pause, and the pipeline's CPU µs per span (requests made outside the
 * window, as pipeline-ab.ts). Objects that outlive two scavenges (~28 ms each at 70k spans/s) are
 * copied twice and die in the old generation, which the mark-compacts then pay for.
 *
 *   npm run build && node dist/bench/pipeline-gc.js <llm|agent|content> <build> [<build> ...] [--steps 500] [--runs 1] [--semi MiB] [--without p,q]
 *
 * Builds run one after another, `--runs` times each, alternating (A B A B ...): separate processes,
 * so CPU figures move with the machine's load; bytes promoted do not. `--without p,q` leaves those
 * processors out (what each one makes the pipeline promote). A step is 10 requests of 100 spans;
 * the first 100 steps warm up.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadgenRequest } from './loadgen-shape.js';
import { buildPipeline, PROCESSORS, type Shape } from './pipeline-build.js';

const WARM_STEPS = 100;
const REQUESTS_PER_STEP = 10;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    steps: { type: 'string', default: '500' },
    runs: { type: 'string', default: '1' },
    semi: { type: 'string', default: '4' },
    without: { type: 'string', default: '' },
    child: { type: 'boolean', default: false },
  },
});
const [shape, ...builds] = positionals as [Shape, ...string[]];
if (!['llm', 'agent', 'content'].includes(shape) || builds.length === 0) {
  console.error('usage: pipeline-gc.js <llm|agent|content> <build> [<build> ...] [--steps 500] [--runs 1] [--semi MiB] [--without p,q]');
  process.exit(2);
}
const steps = Number(values.steps);
const without = values.without!.split(',').filter(Boolean);

if (values.child) await child(builds[0]!);
else await parent();

/** Runs the pipeline, printing marks around the measured steps and the CPU over them (stdout, between V8's lines). */
async function child(dir: string): Promise<void> {
  const p = await buildPipeline(dir, PROCESSORS.filter((x) => !without.includes(x)));
  let seq = 1;
  let cpu = 0;
  let from = 0;
  for (let s = 0; s < steps; s++) {
    const requests: Buffer[] = [];
    for (let i = 0; i < REQUESTS_PER_STEP; i++) requests.push(loadgenRequest(shape, seq++));
    if (s === WARM_STEPS) {
      from = p.spansOut;
      cpu = 0;
      console.log('pipeline-gc measure');
    }
    const c0 = process.cpuUsage();
    for (const r of requests) await p.consume(p.received(r));
    const c = process.cpuUsage(c0);
    cpu += c.user + c.system;
    // Lets timers run (batch's timeout, the processors' ticks), as pipeline-ab does.
    await new Promise((resolve) => setImmediate(resolve));
  }
  console.log(`pipeline-gc end ${p.spansOut - from} ${cpu}`);
  await p.shutdown();
}

interface Figures {
  spans: number;
  cpuUs: number;
  scavenges: number;
  scavengeMs: number;
  promoted: number;
  survived: number;
  markCompacts: number;
  markCompactMs: number;
}

function run(dir: string): Promise<Figures> {
  const args = [`--max-semi-space-size=${values.semi}`, '--trace-gc-nvp', fileURLToPath(import.meta.url), shape, dir, '--child', '--steps', String(steps), '--without', without.join(',')];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`pipeline-gc child for ${dir} exited with ${code}`));
      const f: Figures = { spans: 0, cpuUs: 0, scavenges: 0, scavengeMs: 0, promoted: 0, survived: 0, markCompacts: 0, markCompactMs: 0 };
      let measuring = false;
      for (const line of out.split('\n')) {
        if (line === 'pipeline-gc measure') measuring = true;
        const end = /^pipeline-gc end (\d+) (\d+)/.exec(line);
        if (end) {
          measuring = false;
          f.spans = Number(end[1]);
          f.cpuUs = Number(end[2]);
        }
        const gc = measuring && / pause=([\d.]+) .*gc=(\w+)/.exec(line);
        if (!gc) continue;
        const field = (name: string) => Number(new RegExp(` ${name}=(\\d+)`).exec(line)?.[1] ?? 0);
        if (gc[2] === 's') {
          f.scavenges++;
          f.scavengeMs += Number(gc[1]);
          f.promoted += field('promoted');
          f.survived += field('new_space_survived');
        } else if (gc[2] === 'mc') {
          f.markCompacts++;
          f.markCompactMs += Number(gc[1]);
        }
      }
      resolve(f);
    });
  });
}

async function parent(): Promise<void> {
  console.log(`traces pipeline (${PROCESSORS.filter((x) => !without.includes(x)).join(', ')}), ${shape} load, --max-semi-space-size=${values.semi}, ${steps - WARM_STEPS} measured steps of ${REQUESTS_PER_STEP * 100} spans`);
  for (let r = 0; r < Number(values.runs); r++) {
    for (const dir of builds) {
      const f = await run(dir);
      const per = (x: number) => x / f.spans;
      console.log(
        `${dir}: CPU ${per(f.cpuUs).toFixed(2)} µs/span | promoted ${per(f.promoted).toFixed(0)} B/span, survived ${per(f.survived).toFixed(0)} B/span | ` +
          `${f.scavenges} scavenges, ${((1000 * f.scavengeMs) / f.spans).toFixed(2)} µs/span | ${f.markCompacts} mark-compacts, ${f.markCompactMs.toFixed(0)} ms`,
      );
    }
  }
}
