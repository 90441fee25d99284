import Long from 'long';
import { describe, expect, test } from 'vitest';
import { DecodedEvent } from '../../receiver/ebpf/decoded-event.js';
import { attrs } from '../otlp/attributes.js';
import type { LogRecord } from '../otlp/types.js';
import { HeldRecords } from './held-records.js';
import { markKernelRecord, readKernelFacts, writeKernelEvent, type KernelEventFacts, type KernelRecordSource } from './index.js';

const T0 = 1_795_989_410_960_712_329n;

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32);
}

/** An open as receiver/ebpf's converter writes it (convert.ts: DecodedEvent, target, writeKernelEvent). */
function open(o: { seq: number; ns: bigint; tid: number; path: string; ret: number; openFlags: number; mode: number; repeat: number; truncated: boolean; credential: boolean }, observed: Long): LogRecord {
  const ev = DecodedEvent.of({ kind: 'open', ktimeNs: o.ns - 1_700_000_000_000_000_000n, timeUnixNano: o.ns, pid: 4242, ppid: 1, uid: 1000, cgroupId: 0x1_0000_0042n, comm: 'python3', flags: 0, ...o });
  ev.target = ev.path;
  return writeKernelEvent('open', Long.fromBits(ev.timeLow, ev.timeHigh, true), observed, ev);
}

/** Everything a reader of the record can see: fields, body, attributes, facts, JSON. */
function view(r: LogRecord) {
  return { json: JSON.parse(JSON.stringify(r)) as unknown, time: String(r.timeUnixNano), observed: String(r.observedTimeUnixNano), body: r.body, attributes: r.attributes, facts: { ...readKernelFacts(r) } as KernelEventFacts };
}

/** Random opens of one run: results and errnos, flags, modes, repeats, paths, tids, times within one µs and across 2^32 ns. */
function run(seed: number, n: number): LogRecord[] {
  const rnd = random(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const observed = Long.fromString((T0 + 99n).toString(), true);
  let ns = T0 - BigInt(Math.floor(rnd() * 4e9));
  return Array.from({ length: n }, (_, i) => {
    ns += BigInt(pick([0, 1, 7, 300, 999, 20_000, 3_000_000]));
    return open(
      {
        seq: 1000 + i,
        ns,
        tid: pick([4242, 4243, 4250]),
        path: pick(['/app/node_modules/a/index.js', '/app/node_modules/b/lib/x.js', '/usr/lib/libc.so.6', '/proc/self/stat']),
        ret: pick([3, 4, 17, -2, -13, 2_000_000]),
        openFlags: pick([0, 0o2000000, 0o100 | 0o1]),
        mode: pick([0, 0o644]),
        repeat: pick([0, 0, 0, 2]),
        truncated: rnd() < 0.1,
        credential: rnd() < 0.1,
      },
      observed,
    );
  });
}

describe('HeldRecords', () => {
  for (const [seed, n] of [[1, 60], [2, 60], [3, 60], [4, 3], [5, 4], [6, 200]] as const) {
    test(`makes each open of a run again exactly as the receiver wrote it (seed ${seed}, ${n} opens)`, () => {
      const records = run(seed, n);
      const expected = run(seed, n).map(view);
      const held = HeldRecords.start(records[0]!, true);
      for (const r of records.slice(1)) expect(held.add(r)).toBe(true);
      const all = held.done();
      expect(all.size).toBe(n);
      expect(all.recordAt(0)).toBe(records[0]);
      for (let i = 0; i < n; i++) {
        // Made again, not kept.
        if (i > 0) expect(all.recordAt(i)).not.toBe(records[i]);
        expect(view(all.recordAt(i))).toEqual(expected[i]);
        expect(String(all.timeAt(i))).toBe(expected[i]!.time);
      }
      for (const [from, to] of [[1, n - 1], [0, 2], [Math.floor(n / 3), n]]) {
        const part = all.slice(from!, to!);
        for (let i = 0; i < part.size; i++) expect(view(part.recordAt(i))).toEqual(expected[from! + i]);
      }
    });
  }

  test('a record it cannot hold as columns does not join; one it cannot hold at all is kept', () => {
    const [a, b, c] = run(9, 3);
    const held = HeldRecords.start(a!, true);
    // Another receive time, a record whose attributes were read, a marked record.
    const later = open({ seq: 1, ns: T0, tid: 1, path: '/x', ret: 3, openFlags: 0, mode: 0, repeat: 0, truncated: false, credential: false }, Long.fromString('5', true));
    void b!.attributes;
    const marked = markKernelRecord({ timeUnixNano: Long.fromString(T0.toString(), true), eventName: 'aibom.kernel.open', attributes: attrs({ 'file.path': '/x' }) });
    for (const r of [later, b!, marked]) expect(held.add(r)).toBe(false);
    expect(held.size).toBe(1);
    expect(held.add(c!)).toBe(true);
    const kept = HeldRecords.start(marked, true);
    expect(kept.add(c!)).toBe(true);
    const keptDone = kept.done();
    expect(keptDone.recordAt(0)).toBe(marked);
    expect(keptDone.recordAt(1)).toBe(c);
    // Not compact (records that go on): kept as they are.
    const forwarded = HeldRecords.start(a!, false);
    forwarded.add(c!);
    expect(forwarded.done().recordAt(1)).toBe(c);
  });

  test('numbers that are not 32-bit integers, strings, a field that turns fractional, one that turns a string', () => {
    class Source implements KernelRecordSource {
      readonly kind = 'open' as const;
      count = 1;
      wire = undefined;
      peerAddress = undefined;
      peerPort = undefined;
      credential = false;
      errorType: string | undefined = undefined;
      childPid = undefined;
      constructor(
        public target: string,
        public size: number,
        public ratio: number,
      ) {}
      body(): string {
        return `open ${this.target}`;
      }
      attributes() {
        return attrs({ 'file.path': this.target, size: this.size, ratio: this.ratio });
      }
    }
    const observed = Long.fromNumber(1, true);
    const write = (s: Source, ns: number) => writeKernelEvent('open', Long.fromNumber(ns, true), observed, s);
    const first = write(new Source('/a', 1, 0.5), 10);
    const held = HeldRecords.start(first, true);
    expect(held.add(write(new Source('/b', 1, 2 ** 40 + 0.25), 11))).toBe(true);
    expect(held.add(write(new Source('/c', -7, -0), 12))).toBe(true);
    // `size` had 32-bit integers so far: a fraction makes its column one of doubles.
    expect(held.add(write(new Source('/d', 1.5, 0), 13))).toBe(true);
    // A number where the template had a number cannot be a string: the run ends there.
    expect(held.add(write(new Source('/e', 'x' as unknown as number, 0), 14))).toBe(false);
    expect(held.size).toBe(4);
    const done = held.done();
    const again = [1, 2, 3].map((i) => done.recordAt(i));
    expect(again.map((r) => [r.body, r.attributes, String(r.timeUnixNano)])).toEqual([
      [{ stringValue: 'open /b' }, attrs({ 'file.path': '/b', size: 1, ratio: 2 ** 40 + 0.25 }), '11'],
      [{ stringValue: 'open /c' }, attrs({ 'file.path': '/c', size: -7, ratio: -0 }), '12'],
      [{ stringValue: 'open /d' }, attrs({ 'file.path': '/d', size: 1.5, ratio: 0 }), '13'],
    ]);
    // The source made again is of the template's class, -0 kept.
    const source = readKernelFacts(again[1]!) as unknown as Source;
    expect(source).toBeInstanceOf(Source);
    expect(Object.is(source.ratio, -0)).toBe(true);
  });
});
