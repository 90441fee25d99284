// A summary of a node `--trace-gc` log (one process's stdout): how many scavenges and mark-compacts, why, and
// their main-thread ms (the pause plus, for a mark-compact, its incremental marking steps). Concurrent marking
// on V8's worker threads is not in the log: sensor-overhead's thread split shows it.
//   node dist/bench/gc-log.js FILE
// sensor-overhead `--gc-log FILE` writes the collector's log there and prints this summary when it stops.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface GcKind {
  count: number;
  /** Main-thread ms of the pauses. */
  pause: number;
  /** Main-thread ms of incremental marking steps before a mark-compact's pause. */
  steps: number;
  /** Count by the reason V8 gave (the last clause of the line, e.g. "GC in old space requested"). */
  reasons: Map<string, number>;
}

// `[pid:isolate]  T ms: Kind A (B) -> C (D) MB, PAUSE / EXTERNAL ms  (+ STEPS ms in N steps ...) (average mu ...) REASON`
const LINE = /^\[\d+:0x[0-9a-f]+\]\s+\d+ ms: (Scavenge|Mark-Compact|Minor Mark-Compact|Mark-Sweep)\b[^,]*, ([\d.]+) \/ [\d.]+ ms\s+(?:\(\+ ([\d.]+) ms in \d+ steps[^)]*\)\s+)?\(average mu[^)]*\)\s*(.*)$/;

export function summariseGcLog(text: string): Map<string, GcKind> {
  const kinds = new Map<string, GcKind>();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const [, kind, pause, steps, reasonText] = m;
    let k = kinds.get(kind!);
    if (!k) kinds.set(kind!, (k = { count: 0, pause: 0, steps: 0, reasons: new Map() }));
    k.count++;
    k.pause += Number(pause);
    if (steps !== undefined) k.steps += Number(steps);
    const reason = reasonText!.split(';').map((s) => s.trim()).filter(Boolean).pop() ?? '?';
    k.reasons.set(reason, (k.reasons.get(reason) ?? 0) + 1);
  }
  return kinds;
}

export function showGcLog(kinds: Map<string, GcKind>): string {
  if (kinds.size === 0) return 'no GC lines';
  return [...kinds]
    .map(([kind, k]) => `${kind} ${k.count} (main thread ${(k.pause + k.steps).toFixed(0)} ms${k.steps > 0 ? ` = pauses ${k.pause.toFixed(0)} + incremental steps ${k.steps.toFixed(0)}` : ''}; ${[...k.reasons].map(([r, n]) => `${n} ${r}`).join(', ')})`)
    .join('; ');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: gc-log.js FILE');
  console.log(showGcLog(summariseGcLog(readFileSync(file, 'latin1'))));
}
