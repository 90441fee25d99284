import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hexAt } from './id-hex.js';

describe('hexAt', () => {
  it('gives the hex of the bytes, for ids seen before, ids sharing an entry and ids of any length', () => {
    // A small pool seen over and over (hits), far more distinct ids than entries (collisions replace
    // entries), each at a random offset inside a larger buffer, some differing from a pooled id in one bit.
    const pool = Array.from({ length: 300 }, (_, i) => randomBytes(i % 2 ? 16 : 8));
    for (let n = 0; n < 40_000; n++) {
      let id = n % 3 === 0 ? randomBytes(n % 2 ? 16 : 8) : Buffer.from(pool[n % pool.length]!);
      if (n % 7 === 0) {
        id = Buffer.from(id);
        id[n % id.length]! ^= 1 << (n % 8);
      }
      const at = n % 13;
      const buf = Buffer.concat([randomBytes(at), id, randomBytes(5)]);
      expect(hexAt(buf, at, id.length)).toBe(id.toString('hex'));
    }
  });

  it('is the same string for the same id wherever it is', () => {
    const id = randomBytes(16);
    const a = hexAt(Buffer.concat([Buffer.alloc(3), id]), 3, 16);
    expect(hexAt(Buffer.from(id), 0, 16)).toBe(a);
  });

  it('gives "" for no id and the plain hex for ids of other lengths', () => {
    const buf = randomBytes(32);
    expect(hexAt(buf, 4, 0)).toBe('');
    expect(hexAt(buf, -1, 8)).toBe('');
    expect(hexAt(buf, 2, 5)).toBe(buf.subarray(2, 7).toString('hex'));
    expect(hexAt(buf, 0, 32)).toBe(buf.toString('hex'));
  });
});
