import { freePort } from '../../demo/reference-run.js';

// One implementation, in the demo's driver (built into dist/, which test/support is not).
export { freePort };

export async function freePorts(n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const p = await freePort();
    if (!out.includes(p)) out.push(p);
  }
  return out;
}
