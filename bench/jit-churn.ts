/**
 * JIT churn of the kernel-event path: runs `kernel-path.bench.js` under V8's `--trace-opt --trace-deopt`
 * and tallies, per round, the optimising compiles (count and the compile ms: the middle figure of V8's
 * "took a, b, c ms", the concurrent phase on a worker thread) and the bailouts (deoptimisations); then, over
 * the warm rounds, the functions compiled more than once or deoptimised, with each bailout's reason and
 * bytecode offset. A function that deopts and is compiled again on every run is compile time paid per run.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/jit-churn.js [rounds] [--root DIR] [--verbose] [--fn a,b,c]
 *
 * `--fn a,b,c`: those functions' compiles, compile ms and bailouts over all rounds (cold ones included).
 * `--root DIR` as in kernel-path.bench (another build's dist/, this build's bench script); `--verbose` adds
 * `--trace-deopt-verbose` (each bailout's source position) and prints those lines of the warm rounds.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const verbose = argv.includes('--verbose');
const fnAt = argv.indexOf('--fn');
const named = new Set(fnAt >= 0 ? argv[fnAt + 1]!.split(',') : []);
const passOn = argv.filter((a, i) => a !== '--verbose' && i !== fnAt && i !== fnAt + 1);
const rounds = Number(passOn.find((a, i) => /^\d+$/.test(a) && passOn[i - 1] !== '--root') ?? 24);
const WARM_FROM = Math.min(9, rounds);
const bench = path.join(path.dirname(fileURLToPath(import.meta.url)), 'kernel-path.bench.js');

const v8Flags = ['--expose-gc', '--trace-opt', verbose ? '--trace-deopt-verbose' : '--trace-deopt'];
const child = spawn(process.execPath, [...v8Flags, bench, ...passOn, '--marks'], { stdio: ['ignore', 'pipe', 'inherit'] });

interface Tally {
  compiles: number;
  compileMs: number;
  bailouts: number;
}
const perRound = new Map<number, Tally>();
const byFunction = new Map<string, { compiles: number; compileMs: number; bailouts: Map<string, number> }>();
/** The `--fn` functions over all rounds. */
const namedAll = new Map<string, { compiles: number; compileMs: number; bailouts: Map<string, number> }>();
const summary: string[] = [];
const verboseLines: string[] = [];
let round = 0;
let inBailout = false;

const fn = (line: string) => /<JSFunction ([^ >]*)/.exec(line)?.[1] || '(anonymous)';
const tally = (r: number): Tally => {
  let t = perRound.get(r);
  if (!t) perRound.set(r, (t = { compiles: 0, compileMs: 0, bailouts: 0 }));
  return t;
};
const entry = (name: string, table = byFunction) => {
  let e = table.get(name);
  if (!e) table.set(name, (e = { compiles: 0, compileMs: 0, bailouts: new Map() }));
  return e;
};

for await (const line of createInterface({ input: child.stdout! })) {
  const mark = /^kernel-path round (\d+|end)$/.exec(line);
  if (mark) {
    round = mark[1] === 'end' ? rounds + 1 : Number(mark[1]);
    continue;
  }
  const warm = round >= WARM_FROM;
  const compiled = /^\[completed compiling .* took [\d.]+, ([\d.]+), [\d.]+ ms\]/.exec(line);
  if (compiled) {
    const ms = Number(compiled[1]);
    const t = tally(round);
    t.compiles++;
    t.compileMs += ms;
    for (const [on, table] of [[warm, byFunction], [named.has(fn(line)), namedAll]] as const) {
      if (!on) continue;
      const e = entry(fn(line), table);
      e.compiles++;
      e.compileMs += ms;
    }
    continue;
  }
  const bail = /^\[bailout \(kind: ([^,]+), reason: (.*?)\): begin\. deoptimizing .*bytecode offset (\d+)/.exec(line);
  if (bail) {
    tally(round).bailouts++;
    const key = `${bail[1]} "${bail[2]}" @${bail[3]}`;
    for (const [on, table] of [[warm, byFunction], [named.has(fn(line)), namedAll]] as const) {
      if (!on) continue;
      const b = entry(fn(line), table).bailouts;
      b.set(key, (b.get(key) ?? 0) + 1);
    }
    inBailout = verbose && warm;
    if (inBailout) verboseLines.push(line);
    continue;
  }
  // Optimised code thrown away because an assumption it made no longer holds (a map that changed, a
  // field generalised): a bailout the next time it runs, counted here with its reason.
  const dropped = /^\[marking dependent code .*<SharedFunctionInfo ([^>]*)>\) \(opt id \d+\) for deoptimization, reason: (.*)\]$/.exec(line);
  if (dropped) {
    tally(round).bailouts++;
    const key = `dependency "${dropped[2]}"`;
    for (const [on, table] of [[warm, byFunction], [named.has(dropped[1]!), namedAll]] as const) {
      if (!on) continue;
      const b = entry(dropped[1]!, table).bailouts;
      b.set(key, (b.get(key) ?? 0) + 1);
    }
    continue;
  }
  if (inBailout) {
    if (line.startsWith('[bailout') || line.startsWith('[marking') || line.startsWith('[compiling') || line.startsWith('[completed')) inBailout = false;
    else if (/;;; deoptimize at|^\s+;;;|<.*>:\d+:\d+/.test(line)) verboseLines.push(`  ${line.trim()}`);
  }
  if (!line.startsWith('[') && !line.startsWith(' ') && line.trim() !== '') summary.push(line);
}
await new Promise((resolve) => child.once('close', resolve));

for (const s of summary) console.log(s);
const warmRounds = [...perRound].filter(([r]) => r >= WARM_FROM && r <= rounds);
const sum = (f: (t: Tally) => number) => warmRounds.reduce((a, [, t]) => a + f(t), 0);
console.log(
  `per round (compiles / compile ms / bailouts): ${[...perRound]
    .filter(([r]) => r >= 1)
    .sort((a, b) => a[0] - b[0])
    .map(([r, t]) => `${r > rounds ? 'end' : r}: ${t.compiles}/${t.compileMs.toFixed(0)}/${t.bailouts}`)
    .join('  ')}`,
);
console.log(
  `warm rounds ${WARM_FROM}-${rounds}, per round: ${(sum((t) => t.compiles) / warmRounds.length).toFixed(1)} compiles, ${(sum((t) => t.compileMs) / warmRounds.length).toFixed(1)} ms compiling, ${(sum((t) => t.bailouts) / warmRounds.length).toFixed(1)} bailouts`,
);
const churn = [...byFunction].filter(([, e]) => e.compiles > 1 || e.bailouts.size > 0).sort((a, b) => b[1].compileMs - a[1].compileMs);
console.log(`warm rounds, functions compiled more than once or deoptimised:`);
for (const [name, e] of churn) {
  console.log(`  ${name}: ${e.compiles} compiles, ${e.compileMs.toFixed(1)} ms${[...e.bailouts].map(([k, n]) => `; ${n}x ${k}`).join('')}`);
}
if (named.size > 0) {
  console.log(`all rounds, the functions named:`);
  for (const name of named) {
    const e = namedAll.get(name) ?? { compiles: 0, compileMs: 0, bailouts: new Map<string, number>() };
    console.log(`  ${name}: ${e.compiles} compiles, ${e.compileMs.toFixed(1)} ms${[...e.bailouts].map(([k, n]) => `; ${n}x ${k}`).join('')}`);
  }
}
if (verbose) for (const l of verboseLines) console.log(l);
