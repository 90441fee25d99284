import Long from 'long';
import { describe, expect, test } from 'vitest';
import { attr } from './attributes.js';
import { OtlpDecodeError, tracesCodec } from './codec.js';
import { createEncoder } from './encoder.js';
import { root } from './proto-root.js';
import { appendAttributes, eachAttribute, hasReservedAttribute, spanIds } from './span-view.js';
import type { AnyValue, KeyValue, Span, TracesData } from './types.js';
import { WireSpan } from './wire-span.js';

// Property test: random OTLP requests (every field type, unknown fields, empty and huge values)
// survive receive (decodeReceived) -> read through the views -> modify -> encode, identical to
// eager decoding with the same modification; what was not changed is copied byte for byte.

const encodeSpan = createEncoder(root.lookupType('opentelemetry.proto.trace.v1.Span'));
const encodeResource = createEncoder(root.lookupType('opentelemetry.proto.resource.v1.Resource'));
const encodeScope = createEncoder(root.lookupType('opentelemetry.proto.common.v1.InstrumentationScope'));

/** mulberry32: the same cases on every run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gen(seed: number) {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const str = (): string =>
    pick([
      () => '',
      () => pick(['gen_ai.request.model', 'server.address', 'http.request.method', 'gen_ai.operation.name', 'url.full']),
      () => 'x'.repeat(int(40)),
      () => 'ünïcode 🚀 ' + int(1000),
      () => 'h'.repeat(70_000 + int(1000)), // huge: multi-byte length varint
    ])();
  const value = (depth: number): AnyValue =>
    pick([
      () => ({ stringValue: str() }),
      () => ({ boolValue: r() < 0.5 }),
      () => ({ intValue: Long.fromBits(int(2 ** 32), int(2 ** 32) - 2 ** 31) }),
      () => ({ intValue: int(100) - 50 }),
      () => ({ doubleValue: pick([0, -0.5, 1e300, Number.NaN, r()]) }),
      () => ({ bytesValue: bytes(int(20)) }),
      () => (depth < 3 ? { arrayValue: { values: Array.from({ length: int(4) }, () => value(depth + 1)) } } : { stringValue: 'leaf' }),
      () => (depth < 3 ? { kvlistValue: { values: Array.from({ length: int(4) }, () => ({ key: str(), value: value(depth + 1) })) } } : { boolValue: true }),
      () => ({}),
    ])();
  const attrs = (): KeyValue[] => Array.from({ length: int(8) }, () => ({ key: pick([str(), 'aibom.tool.name', 'k' + int(5)]), value: value(0) }));
  const long = () => Long.fromBits(int(2 ** 32), int(2 ** 32), true);
  const span = (): Span => ({
    traceId: bytes(pick([16, 16, 0, 3])),
    spanId: bytes(pick([8, 8, 0])),
    traceState: r() < 0.3 ? str() : '',
    parentSpanId: bytes(pick([8, 0])),
    flags: pick([0, 1, 0xffffffff]),
    name: str(),
    kind: int(6),
    startTimeUnixNano: long(),
    endTimeUnixNano: long(),
    attributes: attrs(),
    droppedAttributesCount: int(3),
    events: Array.from({ length: int(3) }, () => ({ timeUnixNano: long(), name: str(), attributes: attrs(), droppedAttributesCount: int(2) })),
    droppedEventsCount: int(2),
    links: Array.from({ length: int(2) }, () => ({ traceId: bytes(16), spanId: bytes(8), traceState: str(), attributes: attrs(), droppedAttributesCount: int(2), flags: int(3) })),
    droppedLinksCount: int(2),
    status: r() < 0.7 ? { message: str(), code: int(3) } : null,
  });
  /** Unknown fields a newer sender may add: varint, fixed64, length-delimited, fixed32. */
  const unknown = () =>
    pick([
      () => Buffer.alloc(0),
      () => Buffer.from([0xa0, 0x06, 0x96, 0x01]), // field 100, varint 150
      () => Buffer.concat([Buffer.from([0xa9, 0x06]), bytes(8)]), // field 101, fixed64
      () => Buffer.concat([Buffer.from([0xb2, 0x06, 5]), Buffer.from('hello')]), // field 102, bytes
      () => Buffer.concat([Buffer.from([0xbd, 0x06]), bytes(4)]), // field 103, fixed32
    ])();
  return { int, pick, r, span, attrs, unknown, str };
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
const field = (number: number, body: Uint8Array) => Buffer.concat([varint((number << 3) | 2), varint(body.length), body]);

/** A request built by hand so spans can carry unknown fields: returns its bytes. */
function request(seed: number): Buffer {
  const g = gen(seed);
  const resources = Array.from({ length: 1 + g.int(2) }, () => {
    const scopes = Array.from({ length: 1 + g.int(2) }, () => {
      const spans = Array.from({ length: g.int(5) }, () => field(2, Buffer.concat([encodeSpan(g.span()), g.unknown()])));
      const scope = g.r() < 0.8 ? [field(1, encodeScope({ name: g.str(), version: '1.0', attributes: g.attrs() }))] : [];
      return field(2, Buffer.concat([...scope, ...spans, ...(g.r() < 0.5 ? [field(3, Buffer.from('https://opentelemetry.io/schemas/1.30.0'))] : [])]));
    });
    return field(1, Buffer.concat([field(1, encodeResource({ attributes: g.attrs() })), ...scopes]));
  });
  return Buffer.concat(resources);
}

const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
const spansOf = (d: TracesData) => d.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
const json = (d: TracesData) => tracesCodec.toJson(d);
const SCALARS = ['traceId', 'spanId', 'traceState', 'parentSpanId', 'flags', 'name', 'kind', 'startTimeUnixNano', 'endTimeUnixNano', 'droppedAttributesCount', 'droppedEventsCount', 'droppedLinksCount'] as const;

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
        switch (g.int(5)) {
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
