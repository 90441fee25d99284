import { describe, expect, it } from 'vitest';
import { WorkTicker } from './work-ticker.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('WorkTicker', () => {
  it('ticks only between a wake and the first tick that finds no work, and never after stop', async () => {
    let work = 0;
    let ticks = 0;
    const t = new WorkTicker(10, () => {
      ticks++;
      if (work > 0) work--;
    }, () => work > 0);
    await sleep(60);
    expect(ticks).toBe(0); // never woken: no timer at all

    work = 3;
    t.wake();
    t.wake(); // a second wake while ticking adds no second timer
    await sleep(150);
    expect(ticks).toBe(3); // the third tick took the last work and stopped the timer
    await sleep(60);
    expect(ticks).toBe(3);

    work = 1;
    t.wake();
    await sleep(60);
    expect(ticks).toBe(4);

    work = 5;
    t.wake();
    t.stop();
    await sleep(60);
    expect(ticks).toBe(4);
    t.wake(); // after stop, a wake starts nothing
    await sleep(60);
    expect(ticks).toBe(4);
  });

  it('keeps ticking when work arrives while an asynchronous tick runs', async () => {
    let work = 1;
    let ticks = 0;
    const t = new WorkTicker(10, async () => {
      ticks++;
      work = 0;
      await sleep(15);
      if (ticks === 1) {
        work = 1; // arrived mid-tick: its wake found the timer armed
        t.wake();
      }
    }, () => work > 0);
    t.wake();
    await sleep(150);
    t.stop();
    expect(ticks).toBeGreaterThanOrEqual(2);
  });
});
