import protobuf from 'protobufjs';
import { describe, expect, test } from 'vitest';
import { OtlpDecodeError } from './otlp-decode-error.js';
import { root } from './proto-root.js';
import { encodeSpan, field, gen, varint } from './testdata/random-requests.js';
import { checkSpan, INVALID_UTF8, RESERVED_KEY } from './wire-check.js';

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

function check(buf: Buffer, start = 0, end = buf.length): number | string {
  try {
    return checkSpan(buf, start, end);
  } catch (err) {
    expect(err).toBeInstanceOf(OtlpDecodeError);
    return (err as Error).message;
  }
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
