/**
 * The alternation of the in-process A/B benches (pipeline-ab.ts, processor-fresh-ab.ts): `step(b)` runs
 * one step of build b and returns its CPU µs; a round alternates the builds' steps (A B B A ...) for `ms`
 * of the wall clock, so both see the same machine and the same state of the shared heap at a step's grain.
 * Three rounds of a second warm up first. Per round and build: CPU µs per span.
 */
export async function abRounds(step: (b: number) => Promise<number>, spansPerStep: number, rounds: number, ms: number): Promise<[number[], number[]]> {
  const round = async (wallMs: number): Promise<[number, number]> => {
    const cpu = [0, 0];
    let steps = 0;
    const end = Date.now() + wallMs;
    while (Date.now() < end) {
      for (const b of steps % 2 ? [1, 0] : [0, 1]) cpu[b]! += await step(b);
      steps++;
    }
    return [cpu[0]! / (steps * spansPerStep), cpu[1]! / (steps * spansPerStep)];
  };
  for (let w = 0; w < 3; w++) await round(1000);
  const results: [number[], number[]] = [[], []];
  for (let r = 0; r < rounds; r++) {
    const [a, b] = await round(ms);
    results[0].push(a);
    results[1].push(b);
  }
  return results;
}

export const median = (a: readonly number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1]!;
