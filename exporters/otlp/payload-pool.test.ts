import { describe, expect, it } from 'vitest';
import { PayloadPool } from './payload-pool.js';

describe('payload pool', () => {
  it('gives exactly the length asked for, and the same memory again only after it was handed back', () => {
    const pool = new PayloadPool(8 << 20);
    const a = pool.take(100_000);
    expect(a.length).toBe(100_000);
    const b = pool.take(100_000);
    expect(b.buffer).not.toBe(a.buffer);
    pool.give(a);
    pool.give(a); // a second give must not hand the same memory out twice
    const c = pool.take(120_000); // same power-of-two size
    expect(c.buffer).toBe(a.buffer);
    expect(c.length).toBe(120_000);
    expect(pool.take(100_000).buffer).not.toBe(a.buffer);
  });

  it('leaves small payloads and foreign buffers to the allocator, and keeps at most maxFreeBytes unused', () => {
    const pool = new PayloadPool(300_000);
    const small = pool.take(1000);
    expect(small.length).toBe(1000);
    pool.give(small); // Node's shared slab: not the pool's to hand out
    const foreign = Buffer.alloc(262_144);
    pool.give(foreign);
    expect(pool.take(200_000).buffer).not.toBe(foreign.buffer);
    const [x, y] = [pool.take(200_000), pool.take(200_000)]; // 256 KiB each
    pool.give(x);
    pool.give(y); // over the bound: left to the GC
    expect(pool.take(200_000).buffer).toBe(x.buffer);
    expect(pool.take(200_000).buffer).not.toBe(y.buffer);
  });
});
