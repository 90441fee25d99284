import { describe, expect, test } from 'vitest';
import { BoundedMap } from './bounded-map.js';

describe('BoundedMap', () => {
  test('keeps the newest max keys in insertion order, like a Map that drops its first key', () => {
    const m = new BoundedMap<number, string>(3);
    const ref = new Map<number, string>();
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 10;
    for (let i = 0; i < 5000; i++) {
      const k = rnd();
      const op = rnd();
      if (op < 6) {
        m.set(k, `v${i}`);
        ref.set(k, `v${i}`);
        if (ref.size > 3) ref.delete(ref.keys().next().value!);
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
