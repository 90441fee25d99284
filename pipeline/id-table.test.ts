import { describe, expect, it } from 'vitest';
import { IdGenerations, IdTable } from './id-table.js';

/** An id of `bytes` whose words are `n`, `hi` (and, for 16 bytes, `hi` again and `n`). */
const id = (bytes: 8 | 16, n: number, hi = 0) => {
  const b = Buffer.alloc(bytes);
  b.writeUInt32LE(n >>> 0, 0);
  b.writeUInt32LE(hi >>> 0, 4);
  if (bytes === 16) {
    b.writeUInt32LE(hi >>> 0, 8);
    b.writeUInt32LE(n >>> 0, 12);
  }
  return b;
};

/** xorshift32: the same sequence every run. */
const randomFrom = (seed: number) => (n: number) => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
};

describe.each([8, 16] as const)('IdTable of %i-byte ids', (bytes) => {
  it('answers as a Map that drops its oldest key past the bound, over random sets, updates, moves, deletes and lookups', () => {
    const random = randomFrom(7);
    for (const max of [1, 3, 64, 1000]) {
      const table = new IdTable<number>(max, bytes);
      const model = new Map<string, number>();
      // Few distinct ids, so updates of known ids and ids coming back after eviction are common;
      // ids differing only in their high word test every word of the key.
      const universe = max * 3;
      for (let step = 0; step < 8_000; step++) {
        const n = random(universe);
        const key = id(bytes, (n % 97) + 1, Math.floor(n / 97));
        const hex = key.toString('hex');
        const op = random(8);
        if (op < 2) {
          expect(table.get(key)).toBe(model.get(hex));
          continue;
        }
        if (op === 2) {
          // Move to the end, as a Map does when a key is deleted and set again.
          const e = table.find(key);
          expect(e >= 0).toBe(model.has(hex));
          if (e < 0) continue;
          table.moveToEnd(e);
          const v = model.get(hex)!;
          model.delete(hex);
          model.set(hex, v);
          continue;
        }
        if (op === 3) {
          const e = table.find(key);
          if (e >= 0) table.delete(e);
          model.delete(hex);
          expect(table.size).toBe(model.size);
          continue;
        }
        const evicted: number[] = [];
        const expected: number[] = [];
        table.set(key, step, (v) => evicted.push(v));
        if (!model.has(hex) && model.size === max) {
          const oldest = model.keys().next().value!;
          expected.push(model.get(oldest)!);
          model.delete(oldest);
        }
        model.set(hex, step);
        expect(evicted).toEqual(expected);
        expect(table.size).toBe(model.size);
      }
      for (let n = 0; n < universe; n++) {
        const key = id(bytes, (n % 97) + 1, Math.floor(n / 97));
        expect(table.get(key)).toBe(model.get(key.toString('hex')));
      }
      const order: number[] = [];
      for (let e = table.first(); e >= 0; e = table.after(e)) order.push(table.value(e));
      expect(order).toEqual([...model.values()]);
    }
  });

  it('keeps the newest max ids of a stream of new ids', () => {
    const table = new IdTable<number>(1000, bytes);
    for (let n = 1; n <= 10_000; n++) table.set(id(bytes, n, n * 7), n);
    expect(table.size).toBe(1000);
    expect(table.get(id(bytes, 9000, 9000 * 7))).toBeUndefined();
    for (let n = 9001; n <= 10_000; n++) expect(table.get(id(bytes, n, n * 7))).toBe(n);
  });

  it(`does not keep ids that are not ${bytes} bytes or all zero`, () => {
    const table = new IdTable<string>(4, bytes);
    const other = bytes === 8 ? 16 : 8;
    expect(table.set(Buffer.alloc(bytes), 'zero')).toBe(-1);
    expect(table.set(Buffer.alloc(0), 'empty')).toBe(-1);
    expect(table.set(Buffer.alloc(other, 1), 'other length')).toBe(-1);
    expect(table.set(undefined, 'none')).toBe(-1);
    expect(table.size).toBe(0);
    expect(table.keeps(Buffer.alloc(bytes))).toBe(false);
    expect(table.keeps(Buffer.alloc(bytes, 1))).toBe(true);
    expect(table.get(Buffer.alloc(bytes))).toBeUndefined();
    expect(table.get(Buffer.alloc(0))).toBeUndefined();
    expect(table.get(Buffer.alloc(other, 1))).toBeUndefined();
  });

  it('finds ids where they are inside a larger buffer (*At), as a received span holds them: the same entries as the ids alone', () => {
    const table = new IdTable<number>(64, bytes);
    // Ids side by side in one buffer, as spans of one request: each lookup's miss is for that offset only.
    const ids = Array.from({ length: 100 }, (_, n) => id(bytes, n + 1, n * 3));
    const buf = Buffer.concat([Buffer.alloc(5, 0xff), ...ids, Buffer.alloc(5, 0xee)]);
    for (let n = 0; n < 100; n++) {
      const at = 5 + n * bytes;
      expect(table.getAt(buf, at, bytes)).toBeUndefined();
      // Odd ids: another lookup between the miss and the set (the set must not reuse the miss).
      if (n % 2 === 1) expect(table.getAt(buf, at - bytes, bytes)).toBe(n - 1);
      expect(table.setAt(buf, at, bytes, n)).toBeGreaterThanOrEqual(0);
      expect(table.get(ids[n])).toBe(n);
    }
    expect(table.size).toBe(64);
    for (let n = 0; n < 100; n++) expect(table.getAt(buf, 5 + n * bytes, bytes)).toBe(n >= 36 ? n : undefined);
    // A miss at one offset, then a set at another of the same buffer: the id set is the one at the set's offset.
    const fresh = new IdTable<number>(4, bytes);
    expect(fresh.getAt(buf, 5, bytes)).toBeUndefined();
    fresh.setAt(buf, 5 + bytes, bytes, 1);
    expect(fresh.get(ids[1])).toBe(1);
    expect(fresh.get(ids[0])).toBeUndefined();
    expect(table.keepsAt(buf, 5, bytes - 1)).toBe(false);
    expect(table.setAt(Buffer.alloc(bytes + 4), 2, bytes, -1)).toBe(-1); // all zero
  });

  it('refuses a bound below 1', () => {
    expect(() => new IdTable(0, bytes)).toThrow(RangeError);
  });
});

describe.each([8, 16] as const)('IdGenerations of %i-byte ids', (bytes) => {
  // Looked up often (every id filled into the slots at once), or seldom: long runs of ids appended
  // (repeats among them) before the slots are filled, as aibom's spans between kernel spans.
  it.each([
    [3, true],
    [60, false],
  ])('answers as two Maps of max/2 where the newer, when full, takes the older one\'s place emptied (a lookup in %i, size checked each step: %s)', (lookups, sizeEachStep) => {
    const random = randomFrom(11);
    for (const max of [2, 5, 64, 1000]) {
      const table = new IdGenerations<number>(max, bytes);
      const half = Math.floor(max / 2);
      let newer = new Map<string, number>();
      let older = new Map<string, number>();
      const universe = max * 3;
      for (let step = 0; step < 8_000; step++) {
        const n = random(universe);
        const key = id(bytes, (n % 97) + 1, Math.floor(n / 97));
        const hex = key.toString('hex');
        if (random(lookups) === 0) {
          expect(table.getAt(key, 0, bytes)).toBe(newer.get(hex) ?? older.get(hex));
          continue;
        }
        // At an offset inside a larger buffer, as a received span's id is.
        const at = 1 + random(5);
        const buf = Buffer.concat([Buffer.alloc(at, 0xee), key, Buffer.alloc(3, 0xee)]);
        expect(table.setAt(buf, at, bytes, step)).toBe(true);
        if (!newer.has(hex) && newer.size === half) {
          older = newer;
          newer = new Map();
        }
        newer.set(hex, step);
        if (sizeEachStep) expect(table.size).toBe(newer.size + older.size);
      }
      expect(table.size).toBe(newer.size + older.size);
      for (let n = 0; n < universe; n++) {
        const key = id(bytes, (n % 97) + 1, Math.floor(n / 97));
        const hex = key.toString('hex');
        expect(table.getAt(key, 0, bytes)).toBe(newer.get(hex) ?? older.get(hex));
      }
    }
  });

  it('keeps no id IdTable would not keep (wrong length, all zero)', () => {
    const table = new IdGenerations<number>(8, bytes);
    expect(table.setAt(Buffer.alloc(bytes), 0, bytes, 1)).toBe(false);
    expect(table.setAt(id(bytes, 1), 0, bytes - 1, 1)).toBe(false);
    expect(table.size).toBe(0);
    expect(() => new IdGenerations<number>(1, bytes)).toThrow(RangeError);
  });
});
