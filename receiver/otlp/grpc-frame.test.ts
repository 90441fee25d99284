import { describe, expect, it } from 'vitest';
import { frame, FrameError, UnaryFrameReader } from './grpc-frame.js';

/** A deterministic generator (xorshift), so a failing split can be replayed. */
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

/** `bytes` cut at random places (pieces of 1 byte to a few KiB, the prefix cut too). */
function pieces(bytes: Buffer, int: (n: number) => number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = 1 + int(int(4) === 0 ? 6 : 4096);
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

describe('UnaryFrameReader', () => {
  it('gives the message whatever the chunks it came in, and refuses a byte past it', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const int = rng(seed);
      const message = Buffer.from(Array.from({ length: int(4) === 0 ? int(8) : int(20_000) }, () => int(256)));
      const chunks = pieces(frame(message), int);
      const reader = new UnaryFrameReader(1 << 20);
      for (const c of chunks) reader.push(c);
      expect(reader.length).toBe(message.length);
      expect(reader.finish().equals(message)).toBe(true);
      // The chunks are the caller's: what it was given is untouched (a copy, or a view of a single chunk).
      expect(Buffer.concat(chunks).equals(frame(message))).toBe(true);
      expect(() => reader.push(Buffer.from([0]))).toThrow(FrameError);
    }
  });

  it('refuses a request that ends inside its message, however it was cut', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const int = rng(seed);
      const whole = frame(Buffer.alloc(1 + int(10_000), 7));
      const cut = whole.subarray(0, int(whole.length));
      const reader = new UnaryFrameReader(1 << 20);
      for (const c of pieces(cut, int)) reader.push(c);
      expect(() => reader.finish()).toThrow(/a unary call carried no message|request ended inside a message/);
    }
  });
});
