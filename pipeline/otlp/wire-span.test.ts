import Long from 'long';
import { describe, expect, test } from 'vitest';
import { attr } from './attributes.js';
import { OtlpDecodeError, tracesCodec } from './codec.js';
import { int64ToMicros } from './attributes.js';
import { appendAttributes, DependsOn, eachAttribute, endMicros, forgetReads, hasReservedAttribute, keepDerived, keptDerived, locateId, NOT_KEPT, spanIds, startMicros } from './span-view.js';
import type { KeyValue, Span, TracesData } from './types.js';
import { WireSpan } from './wire-span.js';
import { encodeSpan, field, gen, request } from './testdata/random-requests.js';

// Property test: random OTLP requests (every field type, unknown fields, empty and huge values)
// survive receive (decodeReceived) -> read through the views -> modify -> encode, identical to
// eager decoding with the same modification; what was not changed is copied byte for byte.

const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
const spansOf = (d: TracesData) => d.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
const json = (d: TracesData) => tracesCodec.toJson(d);
const SCALARS = ['traceId', 'spanId', 'traceState', 'parentSpanId', 'flags', 'name', 'kind', 'startTimeUnixNano', 'endTimeUnixNano', 'droppedAttributesCount', 'droppedEventsCount', 'droppedLinksCount'] as const;

/** Frozen lists as normalize shares them (frozen all the way down), one that holds a Long (not all frozen), an empty one. */
const frozen = (kv: KeyValue): KeyValue => Object.freeze({ key: kv.key, value: Object.freeze({ ...kv.value }) });
const SHARED: readonly (readonly KeyValue[])[] = [
  Object.freeze([frozen(attr('aibom.span.kind', 'llm')), frozen(attr('aibom.model.name', 'gpt-4o')), frozen(attr('aibom.normalize.source', 'gen_ai'))]),
  Object.freeze([frozen(attr('aibom.tool.name', 'ünïcode 🚀'.repeat(20))), frozen({ key: 'n', value: { intValue: 7 } }), frozen({ key: 'r', value: { doubleValue: 0.5 } }), frozen({ key: 'b', value: { boolValue: false } })]),
  Object.freeze([]),
  Object.freeze([frozen({ key: 'big', value: { intValue: Long.fromString('9007199254740993') } }), frozen({ key: 'l', value: { arrayValue: { values: [{ stringValue: 'x' }] } } })]),
];

/** `locateId` finds each id's own bytes and `startMicros`/`endMicros` the times `int64ToMicros` reads from the eager span. */
function expectIdsAndTimes(s: Span, e: Span, what: string): void {
  for (const f of ['traceId', 'spanId', 'parentSpanId'] as const) {
    const at = locateId(s, f);
    expect(Buffer.from(at.buf.subarray(at.at, at.at + at.length)).toString('hex'), `${what} ${f}`).toBe(Buffer.from(e[f] ?? []).toString('hex'));
  }
  expect(startMicros(s), `${what} start`).toBe(int64ToMicros(e.startTimeUnixNano));
  expect(endMicros(s), `${what} end`).toBe(int64ToMicros(e.endTimeUnixNano));
}

describe('received spans (WireSpan): decode -> view -> modify -> encode', () => {
  test('spanIds: kept while the span is bytes, recomputed once it is decoded (its ids may be assigned)', () => {
    const span: Span = { traceId: Buffer.alloc(16, 0xab), spanId: Buffer.alloc(8, 1), name: 'x', startTimeUnixNano: 1, endTimeUnixNano: 2 };
    const s = spansOf(tracesCodec.decodeReceived(Buffer.from(tracesCodec.encode({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] }))))[0]!;
    expect(spanIds(s)).toEqual({ traceId: 'ab'.repeat(16), spanId: '01'.repeat(8), parentSpanId: '' });
    s.spanId = new Uint8Array([9, 9, 9, 9, 9, 9, 9, 9]);
    expect(spanIds(s).spanId).toBe('09'.repeat(8));
    // A plain span's ids, as a Uint8Array view into a larger buffer: only its own bytes.
    expect(spanIds({ ...span, traceId: new Uint8Array(Buffer.alloc(32, 7).buffer, 8, 16), spanId: new Uint8Array(8) }).traceId).toBe('07'.repeat(16));
  });

  test('attribute table: from the arrival check\'s records the same keys, list and bounds as walked from the bytes', () => {
    let fromRecords = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const bytes = request(seed);
      for (const s of spansOf(tracesCodec.decodeReceived(bytes))) {
        if (!(s instanceof WireSpan) || s.message) continue;
        if (s.records) fromRecords++;
        const t = s.receivedAttributes()!;
        const walked = new WireSpan(s.buf, s.start, s.end, 0).receivedAttributes()!;
        expect(t.keys, `seed ${seed}`).toEqual(walked.keys);
        expect(t.shape).toBe(walked.shape);
        const table = (x: typeof t) => Array.from({ length: 4 * x.keys.length }, (_, i) => x.bounds[x.boundsAt + i]);
        expect(table(t), `seed ${seed}`).toEqual(table(walked));
      }
    }
    expect(fromRecords).toBeGreaterThan(100);
  });

  test('what readers read (ids, hex ids, times, attribute table, derived value) is the same in any order of first read, and again after forgetReads', () => {
    const span: Span = { traceId: Buffer.alloc(16, 0xab), spanId: Buffer.alloc(8, 1), parentSpanId: Buffer.alloc(8, 2), name: 'chat gpt-4o', kind: 3, startTimeUnixNano: Long.fromString('1700000000123456789', true), endTimeUnixNano: Long.fromString('1700000001123456789', true), attributes: [attr('gen_ai.operation.name', 'chat'), attr('server.port', 443)] };
    const bytes = Buffer.from(tracesCodec.encode({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] }));
    const read = (s: Span, first: number) => {
      const steps = [() => spanIds(s), () => [locateId(s, 'spanId').at, locateId(s, 'traceId').at, startMicros(s), endMicros(s), s.name, s.kind], () => { const keys: string[] = []; eachAttribute(s, (k) => void keys.push(k)); return keys; }, () => keptDerived(s, NO_KEYS)];
      const out = steps.map(() => undefined as unknown);
      for (let i = 0; i < steps.length; i++) out[(first + i) % steps.length] = steps[(first + i) % steps.length]!();
      return out;
    };
    const NO_KEYS = new DependsOn(new Set());
    const reference = read(spansOf(tracesCodec.decodeReceived(bytes))[0]!, 0);
    expect(reference[3]).toBe(NOT_KEPT);
    expect(reference[0]).toEqual({ traceId: 'ab'.repeat(16), spanId: '01'.repeat(8), parentSpanId: '02'.repeat(8) });
    expect(reference[2]).toEqual(['gen_ai.operation.name', 'server.port']);
    for (let first = 0; first < 4; first++) {
      const s = spansOf(tracesCodec.decodeReceived(bytes))[0]!;
      if (first === 3) keepDerived(s, 'kept');
      expect(read(s, first)).toEqual(first === 3 ? [...reference.slice(0, 3), 'kept'] : reference);
      forgetReads(s);
      expect(read(s, first)).toEqual(reference);
    }
  });

  test('unchanged: every span copied byte for byte, unknown fields included; the rest as the eager decoder reads it', () => {
    for (let seed = 1; seed <= 150; seed++) {
      const bytes = request(seed);
      const lazy = tracesCodec.decodeReceived(bytes);
      const eager = tracesCodec.decode(bytes);
      expect(tracesCodec.count(lazy)).toBe(tracesCodec.count(eager));
      // Reading ids, times, name, kind and attribute values through the views decodes nothing.
      const ls = spansOf(lazy);
      const es = spansOf(eager);
      ls.forEach((s, i) => {
        // Ids where they are and times in µs, before (odd spans) or after (even) the Span API made its Buffers and Longs.
        if (i % 2 === 1) for (const f of SCALARS) void s[f];
        expectIdsAndTimes(s, es[i]!, `seed ${seed} span ${i}`);
        for (const f of SCALARS) expect(s[f], `seed ${seed} span ${i} ${f}`).toEqual(es[i]![f]);
        const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');
        expect(spanIds(s)).toEqual({ traceId: hex(es[i]!.traceId), spanId: hex(es[i]!.spanId), parentSpanId: hex(es[i]!.parentSpanId) });
        expect(spanIds(s)).toBe(spanIds(s)); // kept on the span for the pipeline
        const seen: [string, unknown][] = [];
        eachAttribute(s, (k, v) => void seen.push([k, v()]));
        expect(seen).toEqual((es[i]!.attributes ?? []).map((kv) => [kv.key, kv.value]));
        const e = es[i]!;
        const lists = [e.attributes, ...(e.events ?? []).map((x) => x.attributes), ...(e.links ?? []).map((x) => x.attributes)];
        expect(hasReservedAttribute(s)).toBe(lists.some((l) => (l ?? []).some((kv) => kv.key.startsWith('aibom.'))));
        expect((s as WireSpan).message).toBeUndefined();
      });
      const out = tracesCodec.encode(lazy);
      expect(asBuffer(out).equals(bytes), `seed ${seed}`).toBe(true);
    }
  });

  test('changed: appended attributes, assigned fields and edited lists come out as the eager decoder would make them', () => {
    for (let seed = 1000; seed < 1150; seed++) {
      const bytes = request(seed);
      const lazy = tracesCodec.decodeReceived(bytes);
      const eager = tracesCodec.decode(bytes);
      const g = gen(seed);
      const untouched: Buffer[] = [];
      const es = spansOf(eager);
      spansOf(lazy).forEach((s, i) => {
        const e = es[i]!;
        const w = s as WireSpan;
        const raw = w.buf.subarray(w.start, w.end);
        switch (g.int(7)) {
          case 0:
            untouched.push(raw);
            break;
          case 1: {
            const add = [attr('aibom.span.kind', 'llm'), attr('n', g.int(9))];
            appendAttributes(s, add);
            appendAttributes(e, add);
            expect(w.message).toBeUndefined();
            break;
          }
          case 2:
            s.name = e.name = 'renamed ' + g.str();
            break;
          case 3:
            (s.attributes ??= []).push(attr('late', true));
            (e.attributes ??= []).push(attr('late', true));
            break;
          case 5: {
            // A frozen list shared by many spans (normalize's): kept as it is, its bytes written once; a later append copies it.
            const list = SHARED[g.int(SHARED.length)]!;
            appendAttributes(s, list);
            appendAttributes(e, list);
            expect(w.appended).toBe(list.length > 0 ? list : undefined);
            if (g.int(2) === 0) {
              appendAttributes(s, [attr('after', i)]);
              appendAttributes(e, [attr('after', i)]);
              expect(w.appended).not.toBe(list);
            }
            expect(w.message).toBeUndefined();
            break;
          }
          case 6: {
            // Two lists appended to the span, the first its own.
            appendAttributes(s, [attr('own', i)]);
            appendAttributes(e, [attr('own', i)]);
            const list = SHARED[g.int(SHARED.length)]!;
            appendAttributes(s, list);
            appendAttributes(e, list);
            break;
          }
          default: {
            // Appended, then decoded by a reader of the list: the appended ones stay, in order.
            appendAttributes(s, [attr('first', 1)]);
            appendAttributes(e, [attr('first', 1)]);
            s.attributes!.push(attr('second', 2));
            e.attributes!.push(attr('second', 2));
            expect(s.attributes!.map((kv) => kv.key)).toEqual(e.attributes!.map((kv) => kv.key));
          }
        }
      });
      const out = tracesCodec.encode(lazy);
      expect(json(tracesCodec.decode(out)), `seed ${seed}`).toBe(json(eager));
      for (const raw of untouched) expect(asBuffer(out).includes(raw)).toBe(true);
    }
    expect(SHARED.map((list) => list.length)).toEqual([3, 4, 0, 2]); // appending after a shared list copied it
  });

  test('scalar fields at their edges read as the eager decoder reads them: long and padded varints, repeated fields, empty ids', () => {
    const base = encodeSpan({ traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), name: 'n', kind: -1, droppedAttributesCount: 0xffffffff, droppedEventsCount: 300, droppedLinksCount: 2 ** 31, flags: 0x80000001, startTimeUnixNano: Long.MAX_UNSIGNED_VALUE, endTimeUnixNano: Long.fromBits(1, 0x80000000, true) });
    const tails = [
      Buffer.alloc(0),
      Buffer.from([0x30, 0x85, 0x80, 0x80, 0x00]), // kind 5 as a padded 4-byte varint
      Buffer.concat([field(1, Buffer.alloc(0)), field(2, Buffer.alloc(3, 9)), field(5, Buffer.from('second'))]), // later fields win
      Buffer.from([0x50, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // a count as a 10-byte varint
      Buffer.concat([Buffer.from([0x2a, 0x83, 0x00]), Buffer.from('abc')]), // name with a padded length
    ];
    for (const tail of tails) {
      const bytes = field(1, field(2, field(2, Buffer.concat([base, tail]))));
      const [s] = spansOf(tracesCodec.decodeReceived(bytes));
      const [e] = spansOf(tracesCodec.decode(bytes));
      expectIdsAndTimes(s!, e!, tail.toString('hex'));
      for (const f of SCALARS) expect(s![f], `${tail.toString('hex')} ${f}`).toEqual(e![f]);
      expect((s as WireSpan).message).toBeUndefined();
      // Once decoded, the decoded span's own ids and times.
      s!.spanId = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
      s!.startTimeUnixNano = Long.fromNumber(1_700_000_000_123_456_789, true);
      expectIdsAndTimes(s!, { ...e!, spanId: s!.spanId, startTimeUnixNano: s!.startTimeUnixNano }, `${tail.toString('hex')} decoded`);
    }
  });

  test('malformed spans are refused with an OtlpDecodeError, never passed on and never another error', () => {
    let refused = 0;
    for (let seed = 5000; seed < 5400; seed++) {
      const g = gen(seed);
      const good = request(seed);
      if (good.length === 0) continue;
      // Flipped bytes (mostly inside strings and ids, which stay valid) or a cut anywhere.
      let bad = Buffer.from(good);
      if (g.r() < 0.5) for (let k = 0; k < 1 + g.int(3); k++) bad[g.int(bad.length)] = g.int(256);
      else bad = bad.subarray(0, g.int(bad.length));
      let data: TracesData;
      try {
        data = tracesCodec.decodeReceived(bad);
      } catch (err) {
        expect(err).toBeInstanceOf(OtlpDecodeError);
        refused++;
        continue;
      }
      // Whatever was accepted re-encodes and decodes the same through the eager decoder.
      const out = tracesCodec.encode(data);
      expect(json(tracesCodec.decode(out))).toBe(json(tracesCodec.decode(tracesCodec.encode(data))));
    }
    expect(refused).toBeGreaterThan(100);
  });

  test('wire type of a known span field is checked; invalid UTF-8 is decoded as protobufjs does (U+FFFD), not copied', () => {
    const span = encodeSpan({ traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), name: 'ok', kind: 1, startTimeUnixNano: 1, endTimeUnixNano: 2 });
    const wrap = (s: Buffer) => field(1, field(2, field(2, s)));
    // name (field 5) sent as a varint
    expect(() => tracesCodec.decodeReceived(wrap(Buffer.concat([span, Buffer.from([0x28, 0x01])])))).toThrow(/field 5 has wire type 0/);
    const badUtf8 = Buffer.concat([span, field(5, Buffer.from([0x61, 0xff, 0x62]))]);
    const got = tracesCodec.decodeReceived(wrap(badUtf8));
    const s = spansOf(got)[0] as WireSpan;
    expect(s.message).toBeDefined();
    expect(s.name).toBe('a\ufffdb');
    expect(json(tracesCodec.decode(tracesCodec.encode(got)))).toBe(json(tracesCodec.decode(wrap(badUtf8))));
  });
});
