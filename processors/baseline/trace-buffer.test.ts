import { describe, expect, it } from 'vitest';
import { resourceFacts, spanIdOf, type SpanRecord } from './span-record.js';
import { TraceBuffer, parentOf, pending, type OpenTrace } from './trace-buffer.js';

const resource = resourceFacts(undefined);
/** A 16-byte trace id for step `n`, and its hex. */
const traceId = (n: number) => {
  const b = Buffer.alloc(16, 0xaa);
  b.writeUInt32BE(n, 12);
  return b;
};
/** A record of span id `n` (8 bytes: 0, n) under span id `parent` (none: a root). */
const record = (n: number, parent?: number): SpanRecord => ({
  spanW0: 0,
  spanW1: n,
  parentW0: 0,
  parentW1: parent ?? 0,
  idForms: 1 | ((parent === undefined ? 0 : 1) << 2),
  startHi: 0,
  startLo: 0,
  endHi: 0,
  endLo: 0,
  resource,
  view: undefined,
  kernel: undefined,
  rare: undefined,
});

describe('TraceBuffer bound', () => {
  it('pushes out the trace with the oldest arrival, as a list kept in arrival order would, across arrivals, settling and emptying', () => {
    const limits = { settleMs: 50, ttlMs: 100, maxTraces: 8, maxSpansPerTrace: 1000 };
    const buffer = new TraceBuffer(limits);
    // The model: trace ids, oldest arrival first; a trace moves to the end when a span of it arrives.
    let model: { id: string; lastMs: number }[] = [];
    const evicted: string[] = [];
    const expected: string[] = [];
    let seed = 7;
    // xorshift32: the same sequence every run.
    const random = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    let nowMs = 0;
    for (let step = 0; step < 5000; step++) {
      nowMs += random(3);
      if (random(50) === 0) {
        // Quiet long enough for some traces to expire at the front.
        nowMs += limits.ttlMs;
        buffer.settled(nowMs);
        model = model.filter((t) => nowMs - t.lastMs < limits.ttlMs);
        continue;
      }
      const id = random(4) === 0 && model.length > 0 ? model[random(model.length)]!.id : traceId(step).toString('hex');
      const known = model.find((t) => t.id === id);
      if (known) {
        if (known.lastMs !== nowMs) model = [...model.filter((t) => t !== known), known];
        known.lastMs = nowMs;
      } else {
        model.push({ id, lastMs: nowMs });
        if (model.length > limits.maxTraces) expected.push(model.shift()!.id);
      }
      // The id inside a larger buffer, as a received span's is (span-view.ts locateId).
      const buf = Buffer.concat([Buffer.alloc(step % 7, 0xff), Buffer.from(id, 'hex'), Buffer.alloc(3, 0xee)]);
      const at = { buf, at: step % 7, length: 16 };
      expect(buffer.add(at, id, record(step), nowMs, (t: OpenTrace) => evicted.push(t.traceId), buffer.get(at))?.traceId).toBe(id);
      expect(buffer.size).toBe(model.length);
    }
    expect(expected.length).toBeGreaterThan(1000);
    expect(evicted).toEqual(expected);
  });
});

describe('OpenTrace', () => {
  it('counts its pending records from its size, which follows its records through adds, evaluations and the switch to a Map', () => {
    const buffer = new TraceBuffer({ settleMs: 50, ttlMs: 100, maxTraces: 8, maxSpansPerTrace: 1000 });
    const id = { buf: traceId(1), at: 0, length: 16 };
    const t = buffer.add(id, 'aa', record(0), 0, () => {}, undefined)!;
    for (let i = 1; i < 40; i++) {
      if (i % 7 === 0) t.evaluated = i;
      expect(buffer.add(id, 'aa', record(i), i, () => {}, buffer.get(id))).toBe(t);
      expect([t.size, pending(t)]).toEqual([i + 1, i + 1 - t.evaluated]);
      expect(t.records.slice(0, t.size).map((r) => r!.spanW1)).toEqual(Array.from({ length: i + 1 }, (_, n) => n));
      expect(spanIdOf(parentOf(t, record(1000, i))!)).toBe(i.toString(16).padStart(16, '0'));
      expect(parentOf(t, record(1000, i + 1))).toBeUndefined();
    }
    expect(t.size).toBe(40);
  });
});
