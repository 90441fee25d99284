/**
 * Runs `fn` repeatedly for `seconds` after a warm-up and returns calls per second of wall time and
 * per second of this process's CPU time (all threads, GC helpers included): on a shared machine the
 * second is the steadier figure, since time the process waited for a core is not counted. For
 * in-process micro-benchmarks of the hot paths; run with --expose-gc so each case starts from a
 * collected heap.
 */
export function measure(name: string, fn: () => unknown, seconds: number, callsPerCheck = 10): { name: string; opsPerSec: number; opsPerCpuSec: number } {
  for (let i = 0; i < 20; i++) fn(); // warm-up: let the JIT settle
  (globalThis as { gc?: () => void }).gc?.();
  let ops = 0;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < callsPerCheck; i++) fn();
    ops += callsPerCheck;
    now = process.hrtime.bigint();
  }
  const used = process.cpuUsage(cpu);
  return { name, opsPerSec: ops / (Number(now - start) / 1e9), opsPerCpuSec: ops / ((used.user + used.system) / 1e6) };
}
