import { describe, expect, it } from 'vitest';
import { SpanOwners } from './span-owners.js';

const id = (n: number, hi = 0) => {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(n >>> 0, 0);
  b.writeUInt32LE(hi >>> 0, 4);
  return b;
};

describe('SpanOwners', () => {
  it('answers as a Map that drops its oldest key past the bound, over random sets, updates and lookups', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (const max of [1, 3, 64, 1000]) {
      const owners = new SpanOwners<number>(max);
      const model = new Map<string, number>();
      // Few distinct ids, so updates of known ids and ids coming back after eviction are common;
      // ids differing only in their high word test both halves of the key.
      const universe = max * 3;
      for (let step = 0; step < 8_000; step++) {
        const n = random(universe);
        const key = id((n % 97) + 1, Math.floor(n / 97));
        const hex = key.toString('hex');
        if (random(3) === 0) {
          expect(owners.get(key)).toBe(model.get(hex));
          continue;
        }
        owners.set(key, step);
        if (!model.has(hex) && model.size === max) model.delete(model.keys().next().value!);
        model.set(hex, step);
        expect(owners.size).toBe(model.size);
      }
      for (let n = 0; n < universe; n++) expect(owners.get(id((n % 97) + 1, Math.floor(n / 97)))).toBe(model.get(id((n % 97) + 1, Math.floor(n / 97)).toString('hex')));
    }
  });

  it('keeps the newest max ids of a stream of new ids', () => {
    const owners = new SpanOwners<number>(1000);
    for (let n = 1; n <= 10_000; n++) owners.set(id(n, n * 7), n);
    expect(owners.size).toBe(1000);
    expect(owners.get(id(9000, 9000 * 7))).toBeUndefined();
    for (let n = 9001; n <= 10_000; n++) expect(owners.get(id(n, n * 7))).toBe(n);
  });

  it('does not remember ids that are not 8 bytes or all zero', () => {
    const owners = new SpanOwners<string>(4);
    owners.set(Buffer.alloc(8), 'zero');
    owners.set(Buffer.alloc(0), 'empty');
    owners.set(Buffer.alloc(16, 1), 'long');
    owners.set(undefined, 'none');
    expect(owners.size).toBe(0);
    expect(owners.get(Buffer.alloc(8))).toBeUndefined();
    expect(owners.get(Buffer.alloc(0))).toBeUndefined();
    expect(owners.get(Buffer.alloc(16, 1))).toBeUndefined();
  });

  it('refuses a bound below 1', () => {
    expect(() => new SpanOwners(0)).toThrow(RangeError);
  });
});
