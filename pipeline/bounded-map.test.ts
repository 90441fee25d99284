import { describe, expect, test } from 'vitest';
import { BoundedMap } from './bounded-map.js';

describe('BoundedMap', () => {
  test('keeps the newest max keys in insertion order, like a Map that drops its first key, and says which it dropped', () => {
    const m = new BoundedMap<number, string>(3);
    const ref = new Map<number, string>();
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 10;
    for (let i = 0; i < 5000; i++) {
      const k = rnd();
      const op = rnd();
      if (op < 6) {
        const evicted: [number, string][] = [];
        m.set(k, `v${i}`, (key, value) => evicted.push([key, value]));
        ref.set(k, `v${i}`);
        const expected: [number, string][] = [];
        if (ref.size > 3) {
          const oldest = ref.keys().next().value!;
          expected.push([oldest, ref.get(oldest)!]);
          ref.delete(oldest);
        }
        expect(evicted).toEqual(expected);
      } else if (op < 8) {
        expect(m.delete(k)).toBe(ref.delete(k));
      } else if (op === 8) {
        m.clear();
        ref.clear();
      }
      expect([...m.entries()]).toEqual([...ref.entries()]);
      expect(m.size).toBe(ref.size);
    }
  });

  test('max below 1 is refused', () => {
    expect(() => new BoundedMap(0)).toThrow(/at least 1/);
  });
});
