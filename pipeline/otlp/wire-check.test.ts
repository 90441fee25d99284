import { isUtf8 } from 'node:buffer';
import protobuf from 'protobufjs';
import { describe, expect, test } from 'vitest';
import { RESERVED_PREFIX } from '../semconv.js';
import { listAt, listById } from './key-shapes.js';
import { OtlpDecodeError } from './otlp-decode-error.js';
import { root } from './proto-root.js';
import { encodeSpan, field, gen, varint } from './testdata/random-requests.js';
import { AttributeRecords, checkSpan, INVALID_UTF8, MAX_RECORDED, RECORD_HEAD, RECORD_INTS, RESERVED_KEY } from './wire-check.js';

// wire-check.ts walks spans with flat tables and one loop; this oracle is the same check said
// plainly (recursion over the reflected schema, one field at a time). Both must give the same bits
// or the same error, byte position included, for valid, mutated, cut and hand-made spans.

const Span = root.lookupType('opentelemetry.proto.trace.v1.Span');

function wireOf(f: protobuf.Field): number {
  f.resolve();
  if (f.resolvedType instanceof protobuf.Type) return 2;
  if (f.resolvedType instanceof protobuf.Enum) return 0;
  return (protobuf.types.basic as Record<string, number>)[f.type]!;
}

function oracle(buf: Buffer, start: number, end: number): number | string {
  let pos = start;
  let bits = 0;
  const fail = (what: string, at: number): never => {
    throw new OtlpDecodeError(`span at byte ${at}: ${what}`);
  };
  const readVarint = (end: number): number => {
    let v = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) fail('truncated varint', pos);
      const b = buf[pos++]!;
      v += (b & 0x7f) * 2 ** (7 * i);
      if (b < 0x80) return v;
    }
    return fail('varint longer than 10 bytes', pos);
  };
  const walk = (type: protobuf.Type, attributeKeys: boolean, end: number, depth: number): void => {
    if (depth > 100) fail('nested more than 100 deep', pos);
    while (pos < end) {
      const at = pos;
      const tag = readVarint(end);
      const wire = tag % 8;
      const number = Math.floor(tag / 8);
      if (number === 0) fail('field number 0', at);
      const f = type.fieldsById[number];
      if (f && wireOf(f) !== wire) fail(`field ${number} has wire type ${wire}, expected ${wireOf(f)}`, at);
      if (wire === 0) readVarint(end);
      else if (wire === 1 || wire === 5) {
        pos += wire === 1 ? 8 : 4;
        if (pos > end) fail(`field ${number} runs past the end of its message`, at);
      } else if (wire === 2) {
        const len = readVarint(end);
        if (pos + len > end) fail(`field ${number}: length ${len} runs past the end of its message`, at);
        const stop = pos + len;
        const body = buf.subarray(pos, stop);
        if (f?.resolvedType instanceof protobuf.Type) walk(f.resolvedType, f.name === 'attributes', stop, depth + 1);
        else if (f?.type === 'string') {
          if (!Buffer.from(body.toString('utf8')).equals(body)) bits |= INVALID_UTF8;
          if (attributeKeys && f.name === 'key' && body.toString('latin1').startsWith('aibom.')) bits |= RESERVED_KEY;
        }
        pos = stop;
      } else fail(`wire type ${wire} (groups are not used by OTLP)`, at);
    }
  };
  try {
    walk(Span, false, end, 3);
    return bits;
  } catch (err) {
    return (err as Error).message;
  }
}

function outcome(f: () => number): number | string {
  try {
    return f();
  } catch (err) {
    expect(err).toBeInstanceOf(OtlpDecodeError);
    return (err as Error).message;
  }
}

const checkRecords = new AttributeRecords();

/**
 * The check's answer, the same three ways: without a record; recording the attributes (their keys
 * then checked at the end, or when the record is given up); and again once the span's key list is
 * the recent one of its count and lengths (key-shapes.ts; its bits then taken from the list).
 */
function check(buf: Buffer, start = 0, end = buf.length): number | string {
  const plain = outcome(() => checkSpan(buf, start, end));
  checkRecords.begin(1 << 20);
  expect(outcome(() => checkSpan(buf, start, end, checkRecords))).toBe(plain);
  const at = checkRecords.spanAt;
  if (at >= 0) {
    const list = listAt(buf, checkRecords.ints, at + RECORD_HEAD, checkRecords.ints[at]!, RECORD_INTS);
    checkRecords.begin(1 << 20);
    expect(outcome(() => checkSpan(buf, start, end, checkRecords))).toBe(plain);
    // Keys not valid UTF-8 may share a list with other bytes that decode to the same string (its bytes the first's): then no list is recorded.
    const id = checkRecords.ints[checkRecords.spanAt + 1]!;
    if (id >= 0 || (typeof plain === 'number' && !(plain & INVALID_UTF8))) expect(id).toBe(list ? list.id : -1);
    if (id >= 0 && typeof plain === 'number') expect(list!.keyBits).toBe(keyBitsOf(buf, checkRecords.ints, checkRecords.spanAt));
  }
  return plain;
}

/** The bits of a record's keys, said plainly. */
function keyBitsOf(buf: Buffer, ints: Int32Array, at: number): number {
  let bits = 0;
  for (let k = 0, q = at + RECORD_HEAD; k < ints[at]!; k++, q += RECORD_INTS) {
    const key = buf.subarray(ints[q]!, ints[q + 1]!);
    if (key.toString('latin1').startsWith(RESERVED_PREFIX)) bits |= RESERVED_KEY;
    if (!isUtf8(key)) bits |= INVALID_UTF8;
  }
  return bits;
}

const tag = (number: number, wire: number) => varint(number * 8 + wire);
const kv = (key: string, value: Buffer) => Buffer.concat([field(1, Buffer.from(key)), field(2, value)]);
/** An AnyValue holding an array nested `n` levels deep. */
const nested = (n: number): Buffer => (n === 0 ? field(1, Buffer.from('leaf')) : field(5, field(1, nested(n - 1))));

describe('wire-check: the same answer as the schema walked field by field', () => {
  test('random spans as sent, mutated and cut, inside a larger buffer', () => {
    const outcomes = new Set<string>();
    for (let seed = 1; seed <= 600; seed++) {
      const g = gen(seed);
      const good = Buffer.concat([encodeSpan(g.span()), g.unknown()]);
      let bytes = good;
      if (seed % 3 === 1) {
        bytes = Buffer.from(good);
        for (let k = 0; k < 1 + g.int(4); k++) bytes[g.int(bytes.length)] = g.int(256);
      } else if (seed % 3 === 2) bytes = good.subarray(0, g.int(good.length + 1));
      // Bytes around the span must not be read.
      const framed = Buffer.concat([Buffer.from([0xff, 0x80]), bytes, Buffer.from([0x80, 0xff])]);
      const want = oracle(framed, 2, 2 + bytes.length);
      expect(check(framed, 2, 2 + bytes.length), `seed ${seed}`).toBe(want);
      outcomes.add(typeof want === 'number' ? `bits ${want}` : want.replace(/\d+/g, 'N'));
    }
    // The cases reached the interesting answers, not just "ok".
    expect([...outcomes].filter((o) => !o.startsWith('bits')).length).toBeGreaterThan(5);
    expect(outcomes.has(`bits ${RESERVED_KEY}`)).toBe(true);
  });

  test('hand-made spans: every kind of refusal, long tags, keys, strings and nesting at the limit', () => {
    const name = field(5, Buffer.from('chat'));
    const cases: Buffer[] = [
      name,
      Buffer.alloc(0),
      Buffer.concat([name, tag(5, 0), Buffer.from([1])]), // known field, wrong wire type
      Buffer.concat([tag(16, 0), Buffer.from([1])]), // flags (two-byte tag) as a varint
      Buffer.concat([tag(16, 5), Buffer.from([1, 2, 3, 4])]), // flags as sent
      Buffer.concat([tag(16, 5), Buffer.from([1, 2, 3])]), // flags cut short
      Buffer.concat([tag(0, 0), Buffer.from([1])]), // field number 0
      Buffer.concat([tag(40, 3)]), // a group
      Buffer.concat([tag(7, 3)]), // a known field as a group: its wire type is what is wrong
      Buffer.concat([tag(41, 7)]),
      Buffer.concat([tag(300, 0), Buffer.from([0x96, 0x01])]), // unknown field past 31
      Buffer.concat([tag(300, 2), varint(3), Buffer.from('abc')]),
      Buffer.concat([tag(2 ** 28, 1), Buffer.alloc(8)]),
      Buffer.concat([Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), Buffer.alloc(1)]), // 10-byte tag
      Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])]), // 11-byte tag
      Buffer.concat([tag(6, 0), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])]), // 10-byte value
      Buffer.concat([tag(6, 0), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])]), // 11-byte value
      Buffer.concat([tag(6, 0), Buffer.from([0xff])]), // value cut
      Buffer.concat([tag(5, 2)]), // length missing
      Buffer.concat([tag(5, 2), Buffer.from([0x85])]), // length cut
      Buffer.concat([tag(5, 2), varint(10), Buffer.from('abc')]), // length past the end
      Buffer.concat([tag(7, 1), Buffer.alloc(7)]),
      field(9, kv('aibom.tool.name', field(1, Buffer.from('x')))),
      field(9, kv('aibom', field(1, Buffer.from('x')))),
      field(9, kv('k', field(6, field(1, kv('aibom.inner', field(1, Buffer.from('x'))))))), // kvlist keys are not attribute keys
      field(11, Buffer.concat([field(3, Buffer.from('e')), field(4, kv('aibom.e', Buffer.alloc(0)))])), // event attribute
      field(13, Buffer.concat([field(1, Buffer.alloc(16)), field(4, kv('aibom.l', Buffer.alloc(0)))])), // link attribute
      field(5, Buffer.from('ünïcode 🚀')),
      field(5, Buffer.from([0x61, 0xff, 0x62])),
      field(5, Buffer.from([0x61, 0x62, 0x63, 0x64, 0xc3])), // cut multi-byte sequence after a 4-byte run
      field(9, kv('k\u00e9', field(1, Buffer.from([0xed, 0xa0, 0x80])))), // a surrogate, invalid in UTF-8
      field(9, kv('k', Buffer.concat([field(7, Buffer.from([0xff, 0xfe]))]))), // bytes value: not a string
      // A byte at or above 0x80 at each place of a string of each length around the 8-byte runs the check reads.
      ...Array.from({ length: 20 }, (_, n) => n + 1).flatMap((n) => Array.from({ length: n }, (_, at) => field(5, Buffer.from('abcdefghijklmnopqrst'.slice(0, n)).fill(0xff, at, at + 1)))),
      ...Array.from({ length: 20 }, (_, n) => field(9, kv('k', field(1, Buffer.concat([Buffer.from('x'.repeat(n)), Buffer.from('é')]))))), // valid: two bytes above 0x7f at each offset
      // Content-sized strings (the native check): valid with multi-byte characters, and one bad byte at its start, middle or end.
      field(9, kv('input.value', field(1, Buffer.from('{"role":"user","content":"Grüße, \u20ac ' + 'x'.repeat(400) + '"}')))),
      ...[0, 200, 511].map((at) => field(9, kv('output.value', field(1, Buffer.from('y'.repeat(512)).fill(0xc3, at, at + 1))))),
      // Attributes as encoders lay them out (taken in one step) and near misses of that layout (walked field by field).
      ...[
        Buffer.alloc(0),
        field(1, Buffer.from('s')),
        field(1, Buffer.from([0x61, 0xff])),
        field(7, Buffer.from([0x61, 0xff])), // bytes: not checked as UTF-8
        Buffer.concat([tag(2, 0), Buffer.from([1])]),
        Buffer.concat([tag(3, 0), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])]), // 10-byte int
        Buffer.concat([tag(3, 0), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])]), // 11 bytes: refused
        Buffer.concat([tag(3, 0), Buffer.from([0x80, 0x01, 0x02])]), // a varint, then a byte of another field
        Buffer.concat([tag(3, 0), Buffer.from([0x80])]), // cut
        Buffer.concat([tag(3, 0)]),
        Buffer.concat([tag(4, 1), Buffer.alloc(8)]),
        Buffer.concat([tag(4, 1), Buffer.alloc(7)]),
        Buffer.concat([tag(4, 1), Buffer.alloc(9)]),
        Buffer.concat([tag(4, 0), Buffer.from([1])]), // double as a varint
        Buffer.concat([tag(1, 0), Buffer.from([1])]), // string as a varint
        Buffer.concat([tag(1, 2), varint(3), Buffer.from('ab')]), // string cut
        Buffer.concat([field(1, Buffer.from('a')), Buffer.from([0x10, 0x01])]), // two values
        field(1, Buffer.from('x'.repeat(200))), // a two-byte length
        Buffer.concat([tag(9, 0), Buffer.from([1])]), // unknown field
      ].flatMap((value) =>
        ['k', '', 'aibom.x', 'k\u00e9', String.fromCharCode(0xff)].flatMap((key) => [
          field(9, kv(key, value)),
          field(9, Buffer.concat([field(1, Buffer.from(key, 'latin1')), Buffer.from([0x12, value.length + 1]), value])), // value length past its KeyValue
          field(9, Buffer.concat([field(1, Buffer.from(key, 'latin1')), Buffer.from([0x12, Math.max(0, value.length - 1)]), value])), // short of it
          field(11, Buffer.concat([field(2, Buffer.from('e')), field(3, kv(key, value))])), // an event's attribute
        ]),
      ),
      field(9, kv('deep', nested(94))),
      field(9, kv('deep', nested(95))),
      field(9, kv('deep', nested(200))),
    ];
    const seen = new Set<number | string>();
    cases.forEach((bytes, i) => {
      const want = oracle(bytes, 0, bytes.length);
      expect(check(bytes), `case ${i}`).toBe(want);
      seen.add(want);
    });
    expect(seen).toContain(RESERVED_KEY);
    expect(seen).toContain(INVALID_UTF8);
    expect([...seen].some((s) => String(s).includes('nested more than 100 deep'))).toBe(true);
    expect([...seen].filter((s) => typeof s === 'string').length).toBeGreaterThan(12);
  });
});

/**
 * The attributes of a span as protobufjs reads them (its reader: tags as their low 32 bits, the last
 * key and value of a KeyValue win, no key: empty at the KeyValue's start): [key start, key end, value
 * start, value end] per attribute, said plainly, for the records the check writes.
 */
function attributesAsRead(buf: Buffer, start: number, end: number): number[] {
  const r = protobuf.Reader.create(buf.subarray(0, end));
  r.pos = start;
  const out: number[] = [];
  while (r.pos < end) {
    const t = r.uint32();
    if (t !== 0x4a) {
      r.skipType(t & 7);
      continue;
    }
    const kvEnd = r.uint32() + r.pos;
    const rec = [r.pos, r.pos, -1, -1];
    while (r.pos < kvEnd) {
      const f = r.uint32();
      if (f !== 0x0a && f !== 0x12) {
        r.skipType(f & 7);
        continue;
      }
      const len = r.uint32();
      rec[f === 0x0a ? 0 : 2] = r.pos;
      rec[f === 0x0a ? 1 : 3] = r.pos + len;
      r.pos += len;
    }
    out.push(...rec);
  }
  return out;
}

/** The span's record as `checkSpan` wrote it into `records` (undefined: not recorded). */
function recordOf(records: AttributeRecords): number[] | undefined {
  if (records.spanAt < 0) return undefined;
  const n = records.ints[records.spanAt]!;
  return [...records.ints.subarray(records.spanAt + RECORD_HEAD, records.spanAt + RECORD_HEAD + RECORD_INTS * n)];
}

describe('wire-check: the attribute records', () => {
  test('random spans, one request: each record is where protobufjs reads the attributes, the checks unchanged', () => {
    const records = new AttributeRecords();
    const spans: [number, number][] = [];
    const parts: Buffer[] = [Buffer.from([0xff])];
    let at = 1;
    for (let seed = 1; seed <= 300; seed++) {
      const g = gen(seed);
      const bytes = Buffer.concat([encodeSpan(g.span()), g.unknown()]);
      spans.push([at, at + bytes.length]);
      parts.push(bytes);
      at += bytes.length;
    }
    const buf = Buffer.concat(parts);
    records.begin(buf.length);
    let recorded = 0;
    for (const [start, end] of spans) {
      expect(checkSpan(buf, start, end, records)).toBe(checkSpan(buf, start, end));
      const want = attributesAsRead(buf, start, end);
      expect(recordOf(records), `span at ${start}`).toEqual(want.length > RECORD_INTS * MAX_RECORDED ? undefined : want);
      if (records.spanAt >= 0) recorded++;
    }
    expect(recorded).toBe(spans.length);
  });

  test('hand-made: odd KeyValues recorded as protobufjs reads them; a span refused, with a tag past 2^32 or too many attributes is not recorded', () => {
    const value = field(1, Buffer.from('v'));
    const padded = (n: number) => Buffer.from([(n << 3) | 2 | 0x80, 0x00]); // a one-byte tag written in two bytes
    const cases: Buffer[] = [
      field(9, kv('a', value)),
      field(9, Buffer.alloc(0)), // empty KeyValue: no key, no value
      field(9, field(2, value)), // a value, no key
      field(9, field(1, Buffer.from('k'))), // a key, no value
      field(9, Buffer.concat([field(2, value), field(1, Buffer.from('k'))])), // value first
      field(9, Buffer.concat([field(1, Buffer.from('k1')), field(2, value), field(1, Buffer.from('k2')), field(2, field(1, Buffer.from('w')))])), // the last key and value win
      field(9, Buffer.concat([Buffer.from([0xa0, 0x06, 0x96, 0x01]), field(1, Buffer.from('k')), field(3, Buffer.from('?')), field(2, value)])), // unknown fields around
      field(9, Buffer.concat([padded(1), varint(1), Buffer.from('k'), padded(2), varint(value.length), value])),
      Buffer.concat([padded(9), varint(kv('p', value).length), kv('p', value)]), // the attributes field's tag padded
      Buffer.concat([field(5, Buffer.from('n')), field(9, kv('a', value)), field(11, field(3, kv('e', value))), field(9, kv('b', field(6, field(1, kv('in', value)))))]), // event and kvlist keys are not the span's
    ];
    const records = new AttributeRecords();
    for (const [i, bytes] of cases.entries()) {
      records.begin(1 << 20);
      expect(typeof checkSpan(bytes, 0, bytes.length, records), `case ${i}`).toBe('number');
      const want = attributesAsRead(bytes, 0, bytes.length);
      expect(recordOf(records), `case ${i}`).toEqual(want);
      expect(want.length).toBeGreaterThan(0);
    }
    const notRecorded: Buffer[] = [
      Buffer.concat(Array.from({ length: MAX_RECORDED + 1 }, (_, k) => field(9, kv(`k${k}`, value)))),
      // Field 9 plus 2^32 in a 6-byte tag: protobufjs reads an attribute, the check an unknown field.
      Buffer.concat([field(9, kv('a', value)), Buffer.from([0xca, 0x80, 0x80, 0x80, 0x80, 0x02]), varint(kv('b', value).length), kv('b', value)]),
    ];
    for (const [i, bytes] of notRecorded.entries()) {
      records.begin(1 << 20);
      const length = records.length;
      checkSpan(bytes, 0, bytes.length, records);
      expect(records.spanAt, `case ${i}`).toBe(-1);
      expect(records.length).toBe(length);
    }
    // Exactly MAX_RECORDED are recorded.
    const full = Buffer.concat(Array.from({ length: MAX_RECORDED }, (_, k) => field(9, kv(`k${k}`, value))));
    records.begin(1 << 20);
    checkSpan(full, 0, full.length, records);
    expect(recordOf(records)).toEqual(attributesAsRead(full, 0, full.length));
    // Refused: nothing recorded, the next span's record starts where this one would have.
    const bad = Buffer.concat([field(9, kv('a', value)), tag(5, 0), Buffer.from([1])]);
    records.begin(1 << 20);
    const length = records.length;
    expect(() => checkSpan(bad, 0, bad.length, records)).toThrow(OtlpDecodeError);
    expect(records.length).toBe(length);
    expect(records.spanAt).toBe(-1);
  });

  test('bounded: a request\'s records stay within a quarter of its bytes in ints (past that a span is not recorded); a full chunk is left to its spans', () => {
    const span = Buffer.concat(Array.from({ length: 4 }, (_, k) => field(9, kv(`k${k}`, Buffer.alloc(0)))));
    const records = new AttributeRecords();
    records.begin(3 * (RECORD_HEAD + RECORD_INTS * 4) * 4 + 3);
    const outcomes: number[] = [];
    for (let i = 0; i < 5; i++) {
      checkSpan(span, 0, span.length, records);
      outcomes.push(records.spanAt);
    }
    expect(outcomes).toEqual([0, 18, 36, -1, -1]);
    // The next requests go on in the same chunk, then in new ones; their spans' records are where protobufjs reads them, earlier ones untouched.
    const chunk = records.ints;
    const first = [...chunk.subarray(0, 18)];
    const many = Buffer.concat(Array.from({ length: MAX_RECORDED }, (_, k) => field(9, kv(`key${k}`, field(1, Buffer.from('v'))))));
    const want = attributesAsRead(many, 0, many.length);
    const seen = new Set<Int32Array>();
    for (let i = 0; i < 200; i++) {
      records.begin(4 * many.length);
      checkSpan(many, 0, many.length, records);
      expect(recordOf(records)).toEqual(want);
      seen.add(records.ints);
    }
    expect(seen.size).toBeGreaterThan(1);
    expect([...chunk.subarray(0, 18)]).toEqual(first);
  });
});

describe('wire-check: keys checked once per recent key list (key-shapes.ts)', () => {
  const value = field(1, Buffer.from('v'));
  const spanOf = (keys: string[]) => Buffer.concat(keys.map((k) => field(9, Buffer.concat([field(1, Buffer.from(k, 'latin1')), field(2, value)]))));
  const records = new AttributeRecords();
  const recorded = (bytes: Buffer, room = 1 << 20): { bits: number; id: number } => {
    records.begin(room);
    const bits = checkSpan(bytes, 0, bytes.length, records);
    expect(bits).toBe(oracle(bytes, 0, bytes.length));
    return { bits, id: records.spanAt < 0 ? -2 : records.ints[records.spanAt + 1]! };
  };
  const makeRecent = (bytes: Buffer) => {
    recorded(bytes);
    return listAt(bytes, records.ints, records.spanAt + RECORD_HEAD, records.ints[records.spanAt]!, RECORD_INTS)!;
  };

  test('lists of the same count and key lengths (the same recent slot) with keys differing in one byte, or of another count, are checked key by key', () => {
    const base = ['aibxm.tool', 'model', 'k'];
    const list = makeRecent(spanOf(base));
    expect(recorded(spanOf(base))).toEqual({ bits: 0, id: list.id });
    expect(list.keyBits).toBe(0);
    const others: [string[], number][] = [
      [['aibom.tool', 'model', 'k'], RESERVED_KEY],
      [['aibxm.tool', 'mod\xffl', 'k'], INVALID_UTF8],
      [['aibxm.tool', 'model', '\x80'], INVALID_UTF8],
      [['aibxm.tooL', 'model', 'k'], 0],
      [['aibxm.tool', 'model'], 0],
      [['aibxm.tool', 'model', 'k', 'aibom.x'], RESERVED_KEY],
    ];
    for (const [keys, bits] of others) {
      const bytes = spanOf(keys);
      const sameSlot = keys.length === base.length;
      // While `base` is the recent list of that count and those lengths: not taken for these keys.
      if (sameSlot) makeRecent(spanOf(base));
      expect(recorded(bytes), keys.join()).toEqual({ bits, id: -1 });
      // Once these keys are the recent list: their own bits and number, never `base`'s.
      const own = makeRecent(bytes);
      expect(own).not.toBe(list);
      expect(recorded(bytes).bits).toBe(bits);
      if (!(bits & INVALID_UTF8)) expect(records.ints[records.spanAt + 1]).toBe(own.id);
      // And `base`, whose slot `own` may now hold, still reads as itself.
      expect(recorded(spanOf(base)).bits).toBe(0);
    }
  });

  test('a record given up part way (too many attributes, no room left, a tag past 2^32) still checks the keys it had recorded', () => {
    const padding = Array.from({ length: MAX_RECORDED }, (_, k) => `k${k}`);
    for (const [first, bits] of [['aibom.first', RESERVED_KEY], ['\xff', INVALID_UTF8], ['ok', 0]] as const) {
      const many = spanOf([first, ...padding]);
      expect(recorded(many)).toEqual({ bits, id: -2 });
      // Room for one attribute: the second gives the record up.
      const two = spanOf([first, 'second']);
      expect(recorded(two, 4 * (RECORD_HEAD + RECORD_INTS + 1))).toEqual({ bits, id: -2 });
      const huge = Buffer.concat([spanOf([first]), Buffer.from([0xca, 0x80, 0x80, 0x80, 0x80, 0x02]), varint(3), Buffer.from('abc')]);
      expect(recorded(huge)).toEqual({ bits, id: -2 });
    }
  });

  test('a list the view took by its recorded number is the one it finds by bytes, after the number is reused too', () => {
    const a = spanOf(['gen_ai.operation.name', 'server.port']);
    const list = makeRecent(a);
    const { id } = recorded(a);
    expect(listById(id)).toBe(list);
    // 2 * MAX lists later its number's place went to others (or the tree started over): nothing found by number.
    for (let i = 0; i < 8192; i++) makeRecent(spanOf([`x${i}`]));
    expect(listById(id)).toBeUndefined();
  });
});
