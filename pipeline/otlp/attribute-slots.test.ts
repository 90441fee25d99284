import { describe, expect, test } from 'vitest';
import { AttributeSlots } from './attribute-slots.js';
import { attr, int64ToNumber } from './attributes.js';
import { tracesCodec } from './codec.js';
import { appendAttributes, eachAttribute } from './span-view.js';
import { field, gen, varint } from './testdata/random-requests.js';
import type { AnyValue, Span, TracesData } from './types.js';
import { WireSpan } from './wire-span.js';

// Property test: what AttributeSlots reads from a received span's bytes equals what protobufjs's
// decoded AnyValue holds, for AnyValues with any mix of fields (repeated ones: the last wins),
// unknown fields, 10-byte varints, empty and huge strings, keys given more than once, KeyValues
// encoded in any field order or form, and an event's attributes among the span's.

const spansOf = (d: TracesData) => d.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
const KEYS = ['a', 'b', 'c', 'gen_ai.request.model', 'server.port'];

/** A random varint of up to 10 bytes (any 64-bit value, negative ones included). */
function randomVarint(g: ReturnType<typeof gen>): Buffer {
  const len = g.pick([1, 2, 5, 9, 10]);
  return Buffer.from(Array.from({ length: len }, (_, i) => (i < len - 1 ? 0x80 : 0) | g.int(i === 9 ? 2 : 128)));
}

/** AnyValue bytes: 0-4 fields of any kind, repeated ones included. */
function anyValueBytes(g: ReturnType<typeof gen>): Buffer {
  const parts = Array.from({ length: g.int(5) }, () =>
    g.pick([
      () => field(1, Buffer.from(g.str())),
      () => Buffer.concat([Buffer.from([0x10]), varint(g.int(2))]),
      () => Buffer.concat([Buffer.from([0x18]), randomVarint(g)]),
      () => {
        const d = Buffer.alloc(8);
        d.writeDoubleLE(g.pick([0, -0.5, 1e300, Number.NaN, 443, g.r()]));
        return Buffer.concat([Buffer.from([0x21]), d]);
      },
      () => field(7, Buffer.from([1, 2, 3])),
      () => Buffer.from([0xa0, 0x06, 0x96, 0x01]), // field 100, varint
      () => Buffer.concat([Buffer.from([0xbd, 0x06]), Buffer.alloc(4, 7)]), // field 103, fixed32
      () => Buffer.concat([Buffer.from([0xb2, 0x06, 5]), Buffer.from('hello')]), // field 102, bytes
      () => Buffer.concat([Buffer.from([0x41]), Buffer.alloc(8, 9)]), // field 8, fixed64
    ])(),
  );
  return Buffer.concat(parts);
}

/**
 * KeyValue bytes as any encoder may send them: the key alone, key then value, or the odd forms a
 * reader must take as protobufjs does (the last key and the last value given win): value first, a
 * key or value given twice, an unknown field among them, a key tag in two bytes (0x8a 0x00).
 */
function keyValueBytes(g: ReturnType<typeof gen>): Buffer {
  const key = () => field(1, Buffer.from(g.pick(KEYS)));
  const value = () => field(2, anyValueBytes(g));
  return g.pick([
    () => key(),
    () => Buffer.concat([key(), value()]),
    () => Buffer.concat([value(), key()]),
    () => Buffer.concat([key(), value(), key()]),
    () => Buffer.concat([key(), value(), value()]),
    () => Buffer.concat([key(), Buffer.from([0xa0, 0x06, 0x01]), value()]), // field 100, varint
    () => {
      const k = Buffer.from(g.pick(KEYS));
      return Buffer.concat([Buffer.from([0x8a, 0x00, k.length]), k, value()]);
    },
    () => Buffer.alloc(0), // no key, no value: the empty key
  ])();
}

function requestWith(g: ReturnType<typeof gen>): Buffer {
  const attributes = Array.from({ length: g.int(8) }, () => field(9, g.r() < 0.7 ? Buffer.concat([field(1, Buffer.from(g.pick(KEYS))), field(2, anyValueBytes(g))]) : keyValueBytes(g)));
  // An event with attributes of its own between the span's: not the span's.
  const event = field(11, Buffer.concat([field(2, Buffer.from('ev')), field(3, Buffer.concat([field(1, Buffer.from('a')), field(2, field(1, Buffer.from('event')))]))]));
  const at = g.int(attributes.length + 1);
  const span = Buffer.concat([field(1, Buffer.alloc(16, 1)), field(2, Buffer.alloc(8, 2)), ...attributes.slice(0, at), event, ...attributes.slice(at)]);
  return field(1, field(2, field(2, span)));
}

const expected = (v: AnyValue | null | undefined) => ({
  has: !!v,
  string: v?.stringValue ?? undefined,
  int: v?.intValue == null ? undefined : int64ToNumber(v.intValue),
  double: v?.doubleValue ?? undefined,
});

function firstValues(span: Span): Map<string, AnyValue | null | undefined> {
  const out = new Map<string, AnyValue | null | undefined>();
  for (const kv of span.attributes ?? []) if (!out.has(kv.key)) out.set(kv.key, kv.value);
  return out;
}

describe('AttributeSlots', () => {
  test('reads from the bytes what the decoded AnyValue holds, nothing decoded', () => {
    const slots = new AttributeSlots(KEYS);
    for (let seed = 1; seed <= 400; seed++) {
      const g = gen(seed);
      const bytes = requestWith(g);
      const received = spansOf(tracesCodec.decodeReceived(bytes))[0]!;
      const decoded = spansOf(tracesCodec.decode(bytes))[0]!;
      if (g.r() < 0.3) {
        // Appended attributes come after the received ones (a received key keeps its first value).
        const add = [attr('b', 'appended'), attr('c', 7)];
        appendAttributes(received, add);
        appendAttributes(decoded, add);
      }
      const want = firstValues(decoded);
      slots.read(received);
      KEYS.forEach((k, i) => {
        const got = { has: slots.has(i), string: slots.string(i), int: slots.int(i), double: slots.double(i) };
        expect(got, `seed ${seed} key ${k}`).toEqual(expected(want.get(k)));
      });
      // Every received attribute, in order, as the decoder gives them.
      const seen: [string, unknown][] = [];
      eachAttribute(received, (key, value) => void seen.push([key, value()]));
      expect(seen, `seed ${seed}`).toEqual((decoded.attributes ?? []).map((kv) => [kv.key, kv.value]));
      expect((received as WireSpan).message).toBeUndefined();
      // The same through a decoded span's objects.
      slots.read(decoded);
      KEYS.forEach((k, i) => expect({ has: slots.has(i), string: slots.string(i), int: slots.int(i), double: slots.double(i) }).toEqual(expected(want.get(k))));
    }
  });

  test('a value recurring under its key is the string of its bytes: near misses in any byte, more values than are remembered, long values', () => {
    const slots = new AttributeSlots(KEYS);
    const values: string[] = [];
    for (const base of ['', 'a', 'chat', 'execute_tool', 'gpt-4o-mini-2024', 'ünï', 'x'.repeat(63), 'y'.repeat(64), 'z'.repeat(65), 'w'.repeat(200)]) {
      values.push(base);
      const bytes = Buffer.from(base);
      // The same length, one byte changed: in a whole word and in the last 0-3 bytes.
      for (const at of new Set([0, bytes.length >> 1, bytes.length - 1])) {
        if (at < 0 || at >= bytes.length) continue;
        const other = Buffer.from(bytes);
        other[at] = other[at]! ^ 1;
        values.push(other.toString('utf8'));
        expect(Buffer.byteLength(values.at(-1)!)).toBe(bytes.length);
      }
    }
    const spans = spansOf(tracesCodec.decodeReceived(Buffer.from(tracesCodec.encode({ resourceSpans: [{ scopeSpans: [{ spans: values.map((v, i) => ({ traceId: new Uint8Array(16), spanId: new Uint8Array(8), name: 'x', startTimeUnixNano: 0, endTimeUnixNano: 0, attributes: [attr('gen_ai.request.model', v), attr('a', i)] })) }] }] }))));
    const model = KEYS.indexOf('gen_ai.request.model');
    // Each value's span read in turn, the values cycling in three orders: every read is its own bytes' string.
    const n = values.length;
    const order = [...values.keys(), ...[...values.keys()].reverse(), ...Array.from({ length: 3 * n }, (_, i) => (i * 5) % n)];
    for (const i of order) {
      slots.read(spans[i]!);
      expect(slots.string(model), `value ${i}`).toBe(values[i]);
      expect(slots.string(0), `value ${i}`).toBeUndefined(); // an int under the key: no string
    }
  });

  test('a key list\'s plan and a string asked for twice hold for that read only', () => {
    const slots = new AttributeSlots(KEYS);
    const requests = Array.from({ length: 300 }, (_, i) => requestWith(gen(i + 1)));
    const spans = requests.map((r) => spansOf(tracesCodec.decodeReceived(r))[0]!);
    const wants = requests.map((r) => firstValues(spansOf(tracesCodec.decode(r))[0]!));
    // Spans of the same and of other key lists interleaved, each string asked for twice.
    for (let n = 0; n < 900; n++) {
      const at = (n * 7) % spans.length;
      slots.read(spans[at]!);
      KEYS.forEach((k, i) => {
        const want = expected(wants[at]!.get(k));
        expect(slots.has(i), `span ${at} key ${k}`).toBe(want.has);
        expect(slots.string(i), `span ${at} key ${k}`).toBe(want.string);
        expect(slots.string(i), `span ${at} key ${k}, again`).toBe(want.string);
      });
    }
    expect(spans.every((s) => (s as WireSpan).message === undefined)).toBe(true);
  });

  test('an attribute object without a value leaves the key to a later one; null (no value) does not', () => {
    const slots = new AttributeSlots(['k']);
    slots.read({ name: 'x', traceId: new Uint8Array(16), spanId: new Uint8Array(8), startTimeUnixNano: 0, endTimeUnixNano: 0, attributes: [{ key: 'k' } as never, attr('k', 'later')] });
    expect(slots.string(0)).toBe('later');
    slots.read({ name: 'x', traceId: new Uint8Array(16), spanId: new Uint8Array(8), startTimeUnixNano: 0, endTimeUnixNano: 0, attributes: [{ key: 'k', value: null }, attr('k', 'later')] });
    expect(slots.has(0)).toBe(false);
    expect(slots.string(0)).toBeUndefined();
  });
});
