import { describe, expect, it } from 'vitest';
import { stringCache } from './string-cache.js';

describe('stringCache', () => {
  it('gives the string of the bytes, hit or miss, whatever else went through it (11 strings, 8 slots)', () => {
    const cached = stringCache(8, 64);
    const strings = [
      '/usr/lib/python3.11/site-packages/langchain_core/runnables/base.py',
      '/usr/lib/python3.11/site-packages/langchain_core/runnables/basf.py', // one byte apart
      '/srv/mcp/node_modules/ä/ü/€/package.json', // multi-byte UTF-8
      'x',
      'ab',
      'abc',
      'abcd',
      'a'.repeat(64), // at the bound
      'a'.repeat(65), // above it: made every time
      'bad utf-8 \u00ff',
    ];
    const buffers = strings.map((s) => Buffer.from(`\0\0${s}\0`));
    buffers.push(Buffer.from([0, 0, 0xc3, 0x28, 0xff, 0])); // invalid UTF-8: decoded as Buffer#toString does
    for (let round = 0; round < 3; round++) {
      for (const [i, b] of buffers.entries()) {
        const s = cached(Buffer.from(b), 2, b.length - 1); // other buffers, same bytes
        expect(s).toBe(b.toString('utf8', 2, b.length - 1));
        if (i < strings.length) expect(s).toBe(strings[i]);
      }
    }
    expect(cached(buffers[0]!, 2, 2)).toBe('');
  });

  it('reads the bytes as latin1 when asked, hit or miss, within and above the bound', () => {
    const cached = stringCache(4, 16, true);
    const buffers = [Buffer.from('Host'), Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from([0xc3, 0xa9]), Buffer.alloc(20, 0xa0)];
    for (let round = 0; round < 3; round++) {
      for (const b of buffers) expect(cached(Buffer.from(b), 0, b.length)).toBe(b.toString('latin1'));
    }
  });

  it('tells apart strings one byte apart anywhere (a compared word or the tail), at any length up to a bound that is not a multiple of 4', () => {
    const cached = stringCache(4, 30);
    for (let n = 1; n <= 31; n++) {
      const base = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789'.slice(0, n));
      const variants = [base, ...Array.from({ length: n }, (_, i) => Buffer.from(base).fill(base[i]! ^ 1, i, i + 1))];
      for (let round = 0; round < 2; round++) {
        for (const v of variants) {
          const b = Buffer.concat([Buffer.from([7]), v, Buffer.from([9])]);
          expect(cached(b, 1, b.length - 1)).toBe(v.toString('latin1'));
        }
      }
    }
  });

  it('refuses a slot count that is not a power of two', () => {
    expect(() => stringCache(100, 8)).toThrow('power of two');
  });
});
