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

/**
 * The A/B benches' command line: `<bench>.js <choice>... <build A> <build B> [rounds] [ms per round]`, one
 * word of each list in `choices` first; usage and exit status 2 otherwise.
 */
export function abArgs(bench: string, choices: readonly (readonly string[])[], defaults: { rounds: number; ms: number }): { picked: string[]; buildA: string; buildB: string; rounds: number; roundMs: number } {
  const args = process.argv.slice(2);
  const picked = args.slice(0, choices.length);
  const [buildA, buildB, roundsArg, msArg] = args.slice(choices.length);
  if (picked.some((p, i) => !choices[i]!.includes(p)) || picked.length < choices.length || !buildA || !buildB) {
    console.error(`usage: ${bench}.js ${choices.map((c) => `<${c.join('|')}>`).join(' ')} <build A> <build B> [rounds] [ms per round]`);
    process.exit(2);
  }
  return { picked, buildA, buildB, rounds: Number(roundsArg ?? defaults.rounds), roundMs: Number(msArg ?? defaults.ms) };
}
