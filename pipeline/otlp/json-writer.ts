import Long from 'long';
import protobuf from 'protobufjs';
import { logsCodec, tracesCodec } from './codec.js';
import { root } from './proto-root.js';
import { unchangeable, unchangeableList } from './frozen-attributes.js';
import type { KeyValue, LogsData, Span, SpanLink, TracesData } from './types.js';
import { WireSpan } from './wire-span.js';

/**
 * OTLP/JSON for traces and logs, written straight into the caller's buffer: the same text
 * `tracesCodec.toJson` / `logsCodec.toJson` give (protobufjs's toObject with longs as decimal
 * strings, enums as numbers, bytes as base64, ids as hex, fields present when they were on the
 * wire, in field-number order), without decoding the spans nobody decoded. A span still as received
 * is transcoded from its bytes (plus its appended attributes); spans and log records that are
 * objects are written from them when their values are of the usual types (`objectMessage`);
 * resources, scopes and anything else go through protobufjs as before. Any span whose bytes
 * protobufjs would read differently from a clean walk (a bad varint, a field running past its
 * message; wire-check.ts rejects these on arrival) is decoded and written the old way, so the text
 * is the old text in every case.
 */

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: Number, bytes: String, defaults: false };

const SpanType = root.lookupType('opentelemetry.proto.trace.v1.Span');
const ResourceType = root.lookupType('opentelemetry.proto.resource.v1.Resource');
const ScopeType = root.lookupType('opentelemetry.proto.common.v1.InstrumentationScope');
const KeyValueType = root.lookupType('opentelemetry.proto.common.v1.KeyValue');

// What one field's value is written as.
const STRING = 0;
const BASE64 = 1;
const HEX = 2;
const UINT32 = 3;
const INT32 = 4;
const FIXED32 = 5;
const FIXED64 = 6;
const INT64 = 7;
const UINT64 = 8;
const DOUBLE = 9;
const BOOL = 10;
const MESSAGE = 11;

interface Field {
  /** The property name (camelCase), as protobufjs's objects hold it. */
  name: string;
  /** `"name":` as toObject names it, as bytes. */
  key: Uint8Array;
  tag: number;
  wire: number;
  kind: number;
  repeated: boolean;
  sub: Message | undefined;
}

interface Message {
  /** In field-number order, as toObject writes them. */
  fields: Field[];
  /** Field number -> index in `fields`, -1 for unknown fields. */
  index: Int16Array;
  /** What protobufjs's decoded messages of this type inherit from. */
  prototype: object;
  /** The type's name (of its generated object writer). */
  name: string;
  /** Its class: protobufjs's fromObject takes an instance (of a subclass too) as it is. */
  type: new () => object;
  /** Writes an object of the type (`objectWriter`), made on first use. */
  object: ObjectWriter | undefined;
}

/** Writes `obj`; `own`: it is inside a protobufjs message (toJson's toObject reads it, own fields only). */
type ObjectWriter = (obj: object, own: boolean) => void;

/** The fields toObject writes as hex instead of base64 (codec.ts does the same after toObject). */
const HEX_IDS: Record<string, readonly string[]> = {
  '.opentelemetry.proto.trace.v1.Span': ['traceId', 'spanId', 'parentSpanId'],
  '.opentelemetry.proto.trace.v1.Span.Link': ['traceId', 'spanId'],
  '.opentelemetry.proto.logs.v1.LogRecord': ['traceId', 'spanId'],
};

const KINDS: Record<string, number> = {
  string: STRING,
  bytes: BASE64,
  uint32: UINT32,
  int32: INT32,
  fixed32: FIXED32,
  fixed64: FIXED64,
  int64: INT64,
  uint64: UINT64,
  double: DOUBLE,
  bool: BOOL,
};

const compiled = new Map<protobuf.Type, Message>();

/** The transcoding table for `type` and every message type it holds, from the reflected schema. */
function compile(type: protobuf.Type): Message {
  const done = compiled.get(type);
  if (done) return done;
  const fields = type.fieldsArray.slice().sort((a, b) => a.id - b.id);
  const msg: Message = { fields: [], index: new Int16Array(1 + Math.max(0, ...fields.map((f) => f.id))).fill(-1), prototype: type.ctor.prototype as object, name: type.name, type: type.ctor as unknown as new () => object, object: undefined };
  compiled.set(type, msg);
  for (const f of fields) {
    f.resolve();
    if (f.map) throw new Error(`json-writer: map field ${type.name}.${f.name} is not supported`);
    const isMsg = f.resolvedType instanceof protobuf.Type;
    let kind = isMsg ? MESSAGE : f.resolvedType instanceof protobuf.Enum ? INT32 : KINDS[f.type];
    if (kind === undefined) throw new Error(`json-writer: field type ${f.type} is not supported`);
    if (kind === BASE64 && HEX_IDS[type.fullName]?.includes(f.name)) kind = HEX;
    // A repeated scalar (Resource's entity refs' keys) is written from objects only: wire type -1
    // matches no tag, so a walk of bytes that meets one gives the span to protobufjs.
    const wire = isMsg ? 2 : f.repeated ? -1 : (protobuf.types.basic as Record<string, number>)[f.resolvedType instanceof protobuf.Enum ? 'int32' : f.type]!;
    msg.index[f.id] = msg.fields.length;
    msg.fields.push({ name: f.name, key: Buffer.from(`${JSON.stringify(f.name)}:`), tag: ((f.id << 3) | wire) >>> 0, wire, kind, repeated: f.repeated, sub: undefined });
    if (isMsg) msg.fields[msg.fields.length - 1]!.sub = compile(f.resolvedType as protobuf.Type);
  }
  return msg;
}

const SPAN = compile(SpanType);
const SPAN_ATTRIBUTES = (9 << 3) | 2;

/** Thrown when the bytes are not what a clean walk expects: the span is written the old way. */
const FALLBACK = new Error('json-writer: span written through protobufjs');

type NodeBuffer = Buffer & {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
  base64Slice(start: number, end: number): string;
  utf8Write(s: string, at: number): number;
  latin1Write(s: string, at: number): number;
};

// The walk's state: the span's bytes, the read position, where the span ends.
let buf = Buffer.alloc(0) as NodeBuffer;
let pos = 0;
let limit = 0;
// The output: UTF-8 JSON written straight into the caller's buffer (grown as needed), no string per value.
let ob = Buffer.alloc(0) as NodeBuffer;
let op = 0;
// Per nested message, for each of its fields: where the (last, or for repeated fields first) value
// starts, and how many times a repeated field occurs; a stack of frames, one per nesting level.
let first = new Int32Array(2048);
let count = new Int32Array(2048);
let top = 0;

/** A byte of the span; past its end the walk gives up (protobufjs would throw or read differently). */
function next(): number {
  if (pos >= limit) throw FALLBACK;
  return buf[pos++]!;
}

/** protobufjs's Reader.uint32: five bytes give the low 32 bits; a longer (10-byte) varint skips its other five. */
function uint32(): number {
  let b = next();
  if (b < 128) return b;
  let v = b & 127;
  b = next();
  v = (v | ((b & 127) << 7)) >>> 0;
  if (b < 128) return v;
  b = next();
  v = (v | ((b & 127) << 14)) >>> 0;
  if (b < 128) return v;
  b = next();
  v = (v | ((b & 127) << 21)) >>> 0;
  if (b < 128) return v;
  b = next();
  v = (v | ((b & 15) << 28)) >>> 0;
  if (b < 128) return v;
  if ((pos += 5) > limit) throw FALLBACK;
  return v;
}

// The last 64-bit value read, as protobufjs's LongBits.
let lo = 0;
let hi = 0;

/** protobufjs's readLongVarint (for a varint inside the span; one that is not makes the walk give up). */
function varint64(): void {
  lo = 0;
  hi = 0;
  let b = 0;
  for (let i = 0; i < 4; ++i) {
    b = next();
    lo = (lo | ((b & 127) << (i * 7))) >>> 0;
    if (b < 128) return;
  }
  b = next();
  lo = (lo | ((b & 127) << 28)) >>> 0;
  hi = (hi | ((b & 127) >> 4)) >>> 0;
  if (b < 128) return;
  for (let i = 0; i < 5; ++i) {
    b = next();
    hi = (hi | ((b & 127) << (i * 7 + 3))) >>> 0;
    if (b < 128) return;
  }
  throw FALLBACK;
}

function fixed32(): number {
  if (pos + 4 > limit) throw FALLBACK;
  const v = buf.readUInt32LE(pos);
  pos += 4;
  return v;
}

function ensure(n: number): void {
  if (op + n <= ob.length) return;
  const grown = Buffer.allocUnsafe(Math.max(ob.length * 2, op + n, 1 << 16)) as NodeBuffer;
  ob.copy(grown, 0, 0, op);
  ob = grown;
}

function byte(c: number): void {
  ensure(1);
  ob[op++] = c;
}

/** Bytes that are JSON already (field names, literals, a KeyValue written before). */
function raw(b: Uint8Array): void {
  const n = b.length;
  ensure(n);
  // A native copy costs a call; a short copy is cheaper as a loop. Locals: module variables are
  // context slots, loaded and stored on every access.
  if (n >= 64) {
    ob.set(b, op);
    op += n;
    return;
  }
  const o = ob;
  let p = op;
  for (let i = 0; i < n; i++) o[p++] = b[i]!;
  op = p;
}

/** Any JS string, as UTF-8 (JSON made by JSON.stringify, numbers). */
function text(s: string): void {
  ensure(s.length * 3);
  op += ob.utf8Write(s, op);
}

/** A 32-bit integer. */
function number(n: number): void {
  if (n < 0) text(String(n));
  else {
    ensure(10);
    digits(n);
  }
}

const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const HEX_DIGITS = Buffer.from('0123456789abcdef');

/** Ids: lower-case hex in quotes, as codec.toJson turns their base64 into hex. */
function writeHex(from: Uint8Array, start: number, end: number): void {
  ensure(2 * (end - start) + 2);
  const o = ob;
  let p = op;
  o[p++] = 0x22;
  for (let i = start; i < end; i++) {
    const b = from[i]!;
    o[p++] = HEX_DIGITS[b >>> 4]!;
    o[p++] = HEX_DIGITS[b & 15]!;
  }
  o[p++] = 0x22;
  op = p;
}

/** 1 for a byte JSON.stringify would not copy as it is (control characters, '"', '\\', DEL), or that starts a multi-byte character. */
const NOT_PLAIN = new Uint8Array(256).map((_, b) => (b < 0x20 || b > 0x7e || b === 0x22 || b === 0x5c ? 1 : 0));

/**
 * What JSON.stringify writes for each ASCII byte it escapes ('"', '\\', control characters: the short
 * forms where JSON has them, else \u00xx in lower-case hex); undefined for a byte it copies.
 */
const ESCAPES: (Uint8Array | undefined)[] = Array.from({ length: 0x80 }, (_, b) =>
  b < 0x20 || b === 0x22 || b === 0x5c ? Buffer.from(JSON.stringify(String.fromCharCode(b)).slice(1, -1), 'latin1') : undefined,
);

/**
 * A string field: its bytes as they are when JSON.stringify would write them unchanged (printable
 * ASCII but '"' and '\\'), checked while copied; from the first byte that is not, escaped
 * (writeEscaped).
 */
function writeString(start: number, end: number): void {
  ensure(end - start + 2);
  const o = ob;
  const from = buf;
  let p = op;
  o[p++] = 0x22;
  for (let i = start; i < end; i++) {
    const b = from[i]!;
    if (NOT_PLAIN[b] !== 0) {
      op = p;
      writeEscaped(i, end);
      return;
    }
    o[p++] = b;
  }
  o[p++] = 0x22;
  op = p;
}

/**
 * From this many bytes on, the rest of a string is escaped natively (`escapedNatively`): ~180 ns a
 * call more, ~1 ns a byte less (bench/README.md, branch v-json).
 */
const NATIVE_ESCAPE_BYTES = 256;
/**
 * The rest is escaped in pieces of at most this many bytes (a byte a character, escapes per byte, so any
 * cut is safe): the pieces' strings stay below V8's large-object size (128 KiB) and die young in new
 * space. A rest of 100 KB+ (an agent's conversation) escaped whole made two large objects, each
 * counted against the old generation: 300 KB strings cost 837 µs a span to write, 493 in pieces
 * (bench/README.md, "the JSON writer's pieces"). Pieces also keep any rest within V8's longest string.
 */
const NATIVE_ESCAPE_CHUNK = 16 * 1024;

/**
 * The rest of a string (its opening quote and the bytes before `start` written) with bytes
 * JSON.stringify escapes or with multi-byte characters (an agent's prompts and tool results: JSON,
 * newlines, any language), escaped straight from its bytes, and its closing quote. They are valid
 * UTF-8 (a span holding a string that is not was decoded on arrival, wire-check.ts, and is not
 * written from its bytes), which every decoder reads alike, and JSON.stringify copies every
 * character from U+0080 on (valid UTF-8 holds no lone surrogate, the only ones it escapes): its text
 * is these bytes with the ASCII escapes. Decoding it as UTF-8, JSON.stringify and encoding again
 * (as before) cost ~10% more on 4 KB strings (`bench/file-exporter.bench.ts --shape content`) and
 * twice as much on 100 KB ones with a character beyond Latin-1.
 */
function writeEscaped(start: number, end: number): void {
  if (end - start >= NATIVE_ESCAPE_BYTES) {
    escapedNatively(start, end);
    return;
  }
  const from = buf;
  // Room for the string as it is; an escape makes more as it comes (a string must not grow the
  // output to six times its size).
  ensure(end - start + 1);
  let o = ob;
  let p = op;
  for (let i = start; i < end; i++) {
    const b = from[i]!;
    const e = b < 0x80 ? ESCAPES[b] : undefined;
    if (e === undefined) o[p++] = b;
    else {
      op = p;
      ensure(end - i + e.length + 1);
      o = ob;
      for (let k = 0; k < e.length; k++) o[p++] = e[k]!;
    }
  }
  o[p++] = 0x22;
  op = p;
}

/**
 * writeEscaped for a long rest (content: ~2 ns a byte against ~3 in the loop above, which touches
 * every byte in JavaScript): the bytes read as Latin-1, one character per byte, so JSON.stringify
 * escapes exactly the ASCII bytes it escapes in text and copies every other byte as it is (a
 * one-byte string holds no surrogate), and its text written back as Latin-1, a byte per character.
 * The same bytes as the loop for any bytes, valid UTF-8 or not; both strings are one byte a
 * character, copied natively. The text's own opening quote is left out (written before `start`).
 */
function escapedNatively(start: number, end: number): void {
  for (let from = start; from < end; from += NATIVE_ESCAPE_CHUNK) {
    const to = Math.min(end, from + NATIVE_ESCAPE_CHUNK);
    const json = JSON.stringify(buf.latin1Slice(from, to));
    ensure(json.length);
    // Each piece's quotes are left out; the last piece's closing one closes the string.
    op += ob.latin1Write(to === end ? json.slice(1) : json.slice(1, -1), op);
  }
}

/** `n` (an integer below 2^53) in decimal. */
function digits(n: number): void {
  if (n <= 0x7fffffff) {
    int31Digits(n);
    return;
  }
  // Integer steps only (a double's % is a library call): the part above 1e9 (below 2^24), then nine digits.
  let upper = Math.floor(n / 1e9);
  let rest = n - upper * 1e9;
  if (rest < 0) {
    upper--;
    rest += 1e9;
  } else if (rest >= 1e9) {
    upper++;
    rest -= 1e9;
  }
  int31Digits(upper);
  nineDigits(rest);
}

/** 0 <= n < 2^31 in decimal, in int32 arithmetic. */
function int31Digits(n: number): void {
  n |= 0;
  let length = 1;
  for (let v = n; v >= 10; v = (v / 10) | 0) length++;
  const o = ob;
  let i = op + length - 1;
  op += length;
  do {
    const q = (n / 10) | 0;
    o[i--] = 0x30 + n - q * 10;
    n = q;
  } while (n > 0);
}

/** 0 <= n < 1e9 as nine digits, leading zeros included. */
function nineDigits(n: number): void {
  n |= 0;
  const o = ob;
  for (let i = op + 8; i >= op; i--) {
    const q = (n / 10) | 0;
    o[i] = 0x30 + n - q * 10;
    n = q;
  }
  op += 9;
}

// h * 2^32 = highQuotient * 1e9 + highRest for h = high, the last high word at least 2^21 written:
// a batch's timestamps share it (it changes every ~4.3 s), so each costs one division.
let high = -1;
let highQuotient = 0;
let highRest = 0;
// The part above 1e9 of the last such value, and its digits.
let lastSeconds = -1;
let lastSecondsLength = 0;
const lastSecondsDigits = new Uint8Array(20);

/**
 * An unsigned 64-bit value in quotes, as Long#toString gives it (`minus`: with a '-'): exact
 * decimal without a Long, BigInt or string per value. Below 2^53 a double holds it; above, it is
 * q * 1e9 + r with q from the high word's part (one long division by 1e9 over 16-bit limbs, every
 * step below 2^53, once per high word) and the low word added.
 */
function quotedU64(l: number, h: number, minus: boolean): void {
  ensure(23);
  ob[op++] = 0x22;
  if (minus) ob[op++] = 0x2d;
  if (h < 0x200000) digits(h * 4294967296 + l);
  else {
    if (h !== high) {
      let t = h >>> 16;
      const q3 = Math.floor(t / 1e9);
      t = (t - q3 * 1e9) * 65536 + (h & 0xffff);
      const q2 = Math.floor(t / 1e9);
      t = (t - q2 * 1e9) * 65536;
      const q1 = Math.floor(t / 1e9);
      t = (t - q1 * 1e9) * 65536;
      const q0 = Math.floor(t / 1e9);
      highQuotient = ((q3 * 65536 + q2) * 65536 + q1) * 65536 + q0;
      highRest = t - q0 * 1e9;
      high = h;
    }
    // Below 1e9 + 2^32: exact.
    let rest = highRest + l;
    let q = highQuotient;
    if (rest >= 1e9) {
      const k = Math.floor(rest / 1e9);
      q += k;
      rest -= k * 1e9;
    }
    // h >= 2^21: the value is >= 2^53 > 1e9, so q is not 0 and the rest takes nine digits. q is the
    // whole seconds of a timestamp, mostly the last one's within a batch: its digits are copied.
    if (q === lastSeconds) {
      const o = ob;
      let p = op;
      for (let i = 0; i < lastSecondsLength; i++) o[p++] = lastSecondsDigits[i]!;
      op = p;
    } else {
      const at = op;
      digits(q);
      lastSecondsLength = op - at;
      for (let i = 0; i < lastSecondsLength; i++) lastSecondsDigits[i] = ob[at + i]!;
      lastSeconds = q;
    }
    nineDigits(rest);
  }
  ob[op++] = 0x22;
}

/** protobufjs's Reader.skipType. */
function skip(wire: number): void {
  switch (wire) {
    case 0:
      while (next() & 128);
      break;
    case 1:
      if ((pos += 8) > limit) throw FALLBACK;
      break;
    case 2: {
      const len = uint32();
      if ((pos += len) > limit) throw FALLBACK;
      break;
    }
    case 5:
      if ((pos += 4) > limit) throw FALLBACK;
      break;
    default:
      // Groups (3) are valid protobuf but not OTLP, and wire-check.ts refuses them; 4, 6, 7 are errors.
      throw FALLBACK;
  }
}

/** Writes the value of `f` at `pos` (after its tag) and moves past it. */
function value(f: Field): void {
  switch (f.kind) {
    case MESSAGE: {
      const len = uint32();
      const end = pos + len;
      if (end > limit) throw FALLBACK;
      if (f.sub !== KEY_VALUE || !scalarKeyValueBytes(end)) message(f.sub!, end, undefined);
      return;
    }
    case STRING: {
      const len = uint32();
      const end = pos + len;
      if (end > limit) throw FALLBACK;
      writeString(pos, end);
      pos = end;
      return;
    }
    case BASE64:
    case HEX: {
      const len = uint32();
      const end = pos + len;
      if (end > limit) throw FALLBACK;
      if (f.kind === HEX) writeHex(buf, pos, end);
      else text(`"${buf.base64Slice(pos, end)}"`);
      pos = end;
      return;
    }
    case UINT32:
      number(uint32());
      return;
    case INT32:
      number(uint32() | 0);
      return;
    case BOOL:
      raw(uint32() !== 0 ? TRUE : FALSE);
      return;
    case FIXED32:
      number(fixed32());
      return;
    case FIXED64:
      lo = fixed32();
      hi = fixed32();
      quotedU64(lo, hi, false);
      return;
    case INT64:
      int64();
      return;
    case UINT64:
      varint64();
      quotedU64(lo, hi, false);
      return;
    case DOUBLE:
      double();
      return;
  }
}

function int64(): void {
  varint64();
  if (hi < 0x80000000) quotedU64(lo, hi, false);
  else {
    // Negative: '-' and the magnitude (~x + 1), as Long#toString.
    lo = (~lo + 1) >>> 0;
    quotedU64(lo, (~hi + (lo === 0 ? 1 : 0)) >>> 0, true);
  }
}

function double(): void {
  if (pos + 8 > limit) throw FALLBACK;
  const d = buf.readDoubleLE(pos);
  pos += 8;
  text(Number.isFinite(d) ? String(d) : 'null');
}

const KEY_VALUE = compile(KeyValueType);
const KV_KEY = Buffer.from('{"key":');
const KV_EMPTY = Buffer.from(',"value":{');
const KV_STRING = Buffer.from(',"value":{"stringValue":');
const KV_BOOL = Buffer.from(',"value":{"boolValue":');
const KV_INT = Buffer.from(',"value":{"intValue":');
const KV_DOUBLE = Buffer.from(',"value":{"doubleValue":');

/**
 * A received KeyValue in `[pos, end)` laid out as encoders write attributes (key, then a value with
 * at most one of string, bool, int or double) without the walk of its two nested messages: the
 * same text `message` writes. False (nothing written, `pos` as it was) for any other layout, which
 * `message` then writes.
 */
function scalarKeyValueBytes(end: number): boolean {
  const start = pos;
  const mark = op;
  if (buf[pos] !== 0x0a) return false;
  pos++;
  const keyLength = uint32();
  const keyStart = pos;
  const keyEnd = keyStart + keyLength;
  if (keyEnd >= end || buf[keyEnd] !== 0x12) return notScalar(start, mark);
  pos = keyEnd + 1;
  if (uint32() + pos !== end) return notScalar(start, mark);
  const valueStart = pos;
  raw(KV_KEY);
  writeString(keyStart, keyEnd);
  pos = valueStart;
  if (pos === end) raw(KV_EMPTY);
  else {
    const tag = buf[pos++];
    if (tag === 0x0a) {
      const length = uint32();
      if (pos + length !== end) return notScalar(start, mark);
      raw(KV_STRING);
      writeString(pos, end);
      pos = end;
    } else if (tag === 0x18) {
      raw(KV_INT);
      int64();
    } else if (tag === 0x10) {
      raw(KV_BOOL);
      raw(uint32() !== 0 ? TRUE : FALSE);
    } else if (tag === 0x21) {
      raw(KV_DOUBLE);
      double();
    } else return notScalar(start, mark);
    if (pos !== end) return notScalar(start, mark);
  }
  ensure(2);
  ob[op++] = 0x7d;
  ob[op++] = 0x7d;
  return true;
}

/** Undoes what `scalarKeyValueBytes` read and wrote. */
function notScalar(start: number, mark: number): false {
  pos = start;
  op = mark;
  return false;
}

/**
 * Writes the message in `[pos, end)` as toObject would. `appended`: the KeyValues a WireSpan holds
 * beside its bytes, written after the received attributes.
 */
function message(m: Message, end: number, appended: readonly KeyValue[] | undefined): void {
  const mark = op;
  const start = pos;
  if (inOrder(m, end, appended)) return;
  op = mark;
  pos = start;
  anyOrder(m, end, appended);
}

/** Reads tags from `pos` up to `end`, skipping unknown fields: the next known field's index in `m.fields` (its value at `pos`), or -1. */
function nextField(m: Message, end: number): number {
  const index = m.index;
  while (pos < end) {
    const tag = uint32();
    const id = tag >>> 3;
    const i = id < index.length ? index[id]! : -1;
    if (i < 0) {
      skip(tag & 7);
      continue;
    }
    // protobufjs reads a known field by its declared type whatever the wire type; wire-check.ts refuses a mismatch.
    if ((tag & 7) !== m.fields[i]!.wire) throw FALLBACK;
    return i;
  }
  return -1;
}

/** Closes the array of field `f`, the appended attributes first if it is the field they belong to. */
function closeList(f: Field, received: boolean, appended: readonly KeyValue[] | undefined): void {
  if (appended !== undefined && appended.length > 0 && f.tag === SPAN_ATTRIBUTES) {
    if (received) byte(0x2c);
    const known = Object.isFrozen(appended) ? fixedListJson.get(appended) : undefined;
    if (known !== undefined) raw(known);
    else {
      const mark = op;
      for (let j = 0; j < appended.length; j++) {
        if (j > 0) byte(0x2c);
        writeKeyValue(appended[j]!);
      }
      if (Object.isFrozen(appended) && unchangeableList(appended)) fixedListJson.set(appended, Buffer.from(ob.subarray(mark, op)));
    }
  }
  byte(0x5d);
}

/** The JSON of a frozen list of unchangeable KeyValues (normalize's, one per set of values it writes), written once. */
const fixedListJson = new WeakMap<readonly KeyValue[], Buffer>();

/**
 * The usual case, one walk: fields in number order, a singular field once, a repeated field's
 * values together (how protobuf encoders write). False when the bytes are otherwise (then what was
 * written is dropped and `anyOrder` writes the message).
 */
function inOrder(m: Message, end: number, appended: readonly KeyValue[] | undefined): boolean {
  const fields = m.fields;
  const index = m.index;
  // Where appended attributes go when the span has no received ones: in the attributes field's place.
  const appendAt = appended !== undefined && appended.length > 0 ? index[SPAN_ATTRIBUTES >>> 3]! : fields.length;
  byte(0x7b);
  let last = -1;
  let list = false; // the array of field `last` is open
  for (let i = nextField(m, end); i >= 0; i = nextField(m, end)) {
    const f = fields[i]!;
    if (i === last && list) {
      byte(0x2c);
      value(f);
      continue;
    }
    if (i <= last) return false;
    if (list) closeList(fields[last]!, true, appended);
    if (last < appendAt && appendAt < i) {
      if (last >= 0) byte(0x2c);
      raw(fields[appendAt]!.key);
      byte(0x5b);
      closeList(fields[appendAt]!, false, appended);
      last = appendAt;
    }
    if (last >= 0) byte(0x2c);
    raw(f.key);
    list = f.repeated;
    if (list) byte(0x5b);
    value(f);
    last = i;
  }
  if (pos !== end) throw FALLBACK;
  if (list) closeList(fields[last]!, true, appended);
  if (last < appendAt && appendAt < fields.length) {
    if (last >= 0) byte(0x2c);
    raw(fields[appendAt]!.key);
    byte(0x5b);
    closeList(fields[appendAt]!, false, appended);
  }
  byte(0x7d);
  return true;
}

/**
 * Any field order: a first walk notes where each known field is (the last value of a singular
 * field wins, as protobufjs decodes), then the fields are written in number order; a repeated
 * field's values are found again from its first one.
 */
function anyOrder(m: Message, end: number, appended: readonly KeyValue[] | undefined): void {
  const n = m.fields.length;
  const frame = top;
  if ((top += n) > first.length) grow();
  // Loops, not fill(): a builtin call per message costs more than these few stores.
  for (let i = frame; i < top; i++) {
    first[i] = -1;
    count[i] = 0;
  }
  for (let i = nextField(m, end); i >= 0; i = nextField(m, end)) {
    const f = m.fields[i]!;
    if (!f.repeated || count[frame + i]! === 0) first[frame + i] = pos;
    if (f.repeated) count[frame + i]!++;
    skip(f.wire);
  }
  if (pos !== end) throw FALLBACK;
  byte(0x7b);
  let comma = false;
  for (let i = 0; i < n; i++) {
    const f = m.fields[i]!;
    const at = first[frame + i]!;
    const extra = appended !== undefined && f.tag === SPAN_ATTRIBUTES ? appended.length : 0;
    if (at < 0 && extra === 0) continue;
    if (comma) byte(0x2c);
    raw(f.key);
    comma = true;
    if (!f.repeated) {
      pos = at;
      value(f);
      continue;
    }
    byte(0x5b);
    let left = count[frame + i]!;
    pos = at;
    while (left > 0) {
      value(f);
      if (--left === 0) break;
      byte(0x2c);
      // The next value of this field: skip the others between.
      for (;;) {
        const tag = uint32();
        if (tag === f.tag) break;
        skip(tag & 7);
      }
    }
    closeList(f, count[frame + i]! > 0, appended);
  }
  byte(0x7d);
  pos = end;
  top = frame;
}

function grow(): void {
  const size = first.length * 2;
  const f = new Int32Array(size);
  f.set(first);
  first = f;
  const c = new Int32Array(size);
  c.set(count);
  count = c;
}

/**
 * An appended attribute (an object; codec.toJson gives it to KeyValue.toObject as it is): written
 * by `objectMessage` when its values are of the usual types, else by toObject.
 */
function writeKeyValue(kv: KeyValue): void {
  const fixed = unchangeable(kv);
  const known = fixed ? fixedJson.get(kv) : undefined;
  if (known !== undefined) {
    raw(known);
    return;
  }
  const mark = op;
  if (!writtenObject(KEY_VALUE, kv)) text(JSON.stringify(KeyValueType.toObject(kv as unknown as protobuf.Message, TO_OBJECT)));
  if (fixed) fixedJson.set(kv, Buffer.from(ob.subarray(mark, op)));
}

/**
 * The JSON of appended attributes that cannot change, written once: normalize appends the same frozen
 * KeyValue (one per key and value) to every span it tags, and writing it was ~8% of the embedded
 * default's CPU with the file exporter. Entries go with their KeyValue.
 */
const fixedJson = new WeakMap<KeyValue, Buffer>();

/** `objectMessage(m, obj)`; false (nothing written) when a value is not of a type it writes. */
function writtenObject(m: Message, obj: object): boolean {
  const mark = op;
  try {
    objectMessage(m, obj);
    return true;
  } catch (err) {
    if (err !== FALLBACK) throw err;
    op = mark;
    return false;
  }
}

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * A message that is an object (a span a component made, a kernel log record, an appended
 * attribute, a decoded span), as toJson writes it. toJson reaches it two ways: plain objects
 * through fromObject (which converts values: 64-bit ones to a Long of the field's sign, strings
 * with String), decoded messages and what they hold straight through toObject (values as they are,
 * a Long printed with its own sign, own fields only). Written here only when both give the same
 * text: fields set (not null), strings, Uint8Array bytes, booleans, numbers, 32-bit integers in
 * range, 64-bit values as Long (sign bit clear, or its sign the field's) or safe integers (not
 * negative unless the field is signed), arrays of such messages (empty = absent). Anything else
 * throws FALLBACK: the item goes through protobufjs as before. The writer of each type is generated
 * (`objectWriter`).
 */
function objectMessage(m: Message, obj: object): void {
  (m.object ?? objectWriter(m))(obj, false);
}

/**
 * What a value of each kind is checked and written with, `v` the value (not null): a message's
 * writer is the generated one of its type, the others are calls of the functions below.
 */
function valueCode(f: Field, v: string, sub: string): string {
  switch (f.kind) {
    case MESSAGE:
      return `if(typeof ${v}!=='object'||${v}===null)throw FALLBACK;${sub}(${v},own);`;
    case STRING:
      return `if(typeof ${v}!=='string')throw FALLBACK;jsString(${v});`;
    case HEX:
      return `if(!(${v} instanceof Uint8Array))throw FALLBACK;writeHex(${v},0,${v}.length);`;
    case BASE64:
      return `objectBase64(${v});`;
    case UINT32:
    case FIXED32:
      return `objectUint32(${v});`;
    case INT32:
      return `objectInt32(${v});`;
    case FIXED64:
    case UINT64:
      return `objectInt64(${v},true);`;
    case INT64:
      return `objectInt64(${v},false);`;
    case DOUBLE:
      return `objectDouble(${v});`;
    case BOOL:
      return `if(typeof ${v}!=='boolean')throw FALLBACK;raw(${v}?TRUE:FALSE);`;
  }
  throw new Error(`json-writer: field kind ${f.kind}`);
}

/**
 * The object writer of `m`, generated from its fields as the encoder generates its own: one named
 * read per field in number order (monomorphic for objects of one shape), its check and write
 * inline, no walk of the field table and no dispatch on kinds per value (the walk it replaces did
 * both, ~11 µs per kernel span written on the kernel path). Which fields count is what toJson does with the object: own
 * fields of a protobufjs message of the type and of all it holds (fromObject takes it as it is,
 * toObject reads it), any set field, inherited or an accessor, of anything else (fromObject reads
 * it: plain objects, and classes such as the kernel records of pipeline/kernel-event, whose body and
 * attributes are made on first read).
 */
function objectWriter(m: Message): ObjectWriter {
  const subs: ObjectWriter[] = [];
  const keys: Uint8Array[] = [];
  let body = 'if(!own){const p=Object.getPrototypeOf(o);own=p===P||(p!==Object.prototype&&o instanceof C);}byte(0x7b);let c=false,v;\n';
  m.fields.forEach((f, i) => {
    // A field of another type: its writer, generated on its first call (types nest recursively).
    const sub = f.sub === undefined ? '' : `S[${i}]`;
    if (f.sub !== undefined) {
      const s = f.sub;
      subs[i] = (o, own) => {
        // Replaced by the writer itself once made: the calls after are direct.
        const w = s.object ?? objectWriter(s);
        subs[i] = w;
        w(o, own);
      };
    }
    keys[i] = f.key;
    keys[m.fields.length + i] = Buffer.concat([Buffer.from(','), f.key]);
    const name = JSON.stringify(f.name);
    const key = `raw(c?K[${m.fields.length + i}]:K[${i}]);`;
    body += `v=o[${name}];if(v!=null&&(!own||hasOwn.call(o,${name}))){`;
    if (f.repeated) {
      body += `if(!Array.isArray(v))throw FALLBACK;if(v.length>0){${key}byte(0x5b);for(let j=0;j<v.length;j++){if(j>0)byte(0x2c);const x=v[j];${valueCode(f, 'x', sub)}}byte(0x5d);c=true;}}\n`;
    } else body += `${key}${valueCode(f, 'v', sub)}c=true;}\n`;
  });
  body += 'byte(0x7d);';
  const helpers = { FALLBACK, hasOwn, byte, raw, jsString, writeHex, objectBase64, objectUint32, objectInt32, objectInt64, objectDouble, TRUE, FALSE };
  const write = new Function('P', 'C', 'S', 'K', ...Object.keys(helpers), `return function ${m.name}$json(o,own){${body}}`)(m.prototype, m.type, subs, keys, ...Object.values(helpers)) as ObjectWriter;
  m.object = write;
  return write;
}

function objectBase64(v: unknown): void {
  if (!(v instanceof Uint8Array)) throw FALLBACK;
  text(`"${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}"`);
}

function objectUint32(v: unknown): void {
  if (typeof v !== 'number' || !(v >= 0 && v <= 0xffffffff) || !Number.isInteger(v)) throw FALLBACK;
  ensure(10);
  digits(v);
}

function objectInt32(v: unknown): void {
  if (typeof v !== 'number' || !(v >= -0x80000000 && v <= 0x7fffffff) || !Number.isInteger(v)) throw FALLBACK;
  number(v);
}

function objectDouble(v: unknown): void {
  if (typeof v !== 'number') throw FALLBACK;
  text(Number.isFinite(v) ? String(v) : 'null');
}

/**
 * fromObject makes a new Long of the field's sign (unsigned for fixed64 and uint64, and 0 of a
 * negative number there); toObject prints a Long with its own sign. With the sign bit clear both
 * print the same; with it set, only a Long already of the field's sign does.
 */
function objectInt64(v: unknown, unsigned: boolean): void {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || (v < 0 && unsigned)) throw FALLBACK;
    if (v < 0) text(`"${v}"`);
    else {
      ensure(18);
      ob[op++] = 0x22;
      digits(v);
      ob[op++] = 0x22;
    }
    return;
  }
  if (!Long.isLong(v)) throw FALLBACK;
  const l = v as Long;
  const h = l.high >>> 0;
  if (h < 0x80000000 || unsigned) {
    if (h >= 0x80000000 && !l.unsigned) throw FALLBACK;
    quotedU64(l.low >>> 0, h, false);
    return;
  }
  if (l.unsigned) throw FALLBACK;
  const low = (~l.low + 1) >>> 0;
  quotedU64(low, (~h + (low === 0 ? 1 : 0)) >>> 0, true);
}

/** A JS string as JSON.stringify writes it: printable ASCII copied, anything else through JSON.stringify. */
function jsString(s: string): void {
  const n = s.length;
  ensure(n + 2);
  const o = ob;
  let p = op;
  o[p++] = 0x22;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || NOT_PLAIN[c] !== 0) {
      text(JSON.stringify(s));
      return;
    }
    o[p++] = c;
  }
  o[p++] = 0x22;
  op = p;
}

/** Writes a received span never decoded from its bytes; false (nothing written) when protobufjs must do it. */
function transcodeSpan(span: WireSpan): boolean {
  buf = span.buf as NodeBuffer;
  pos = span.start;
  limit = span.end;
  top = 0;
  const mark = op;
  try {
    message(SPAN, span.end, span.appended);
    return true;
  } catch (err) {
    if (err !== FALLBACK) throw err;
    op = mark;
    return false;
  } finally {
    buf = EMPTY;
  }
}

const EMPTY = Buffer.alloc(0) as NodeBuffer;

function idsToHex(obj: Record<string, unknown>, keys: readonly string[]): void {
  for (const key of keys) {
    const v = obj[key];
    if (typeof v === 'string') obj[key] = Buffer.from(v, 'base64').toString('hex');
  }
}

/** A span that is an object (decoded, or made by a component), as codec.toJson writes it. */
function objectSpan(span: Span): string {
  const obj = SpanType.toObject(SpanType.fromObject(span), TO_OBJECT);
  idsToHex(obj, HEX_IDS['.opentelemetry.proto.trace.v1.Span']!);
  if (Array.isArray(obj['links'])) for (const l of obj['links'] as SpanLink[]) idsToHex(l as unknown as Record<string, unknown>, HEX_IDS['.opentelemetry.proto.trace.v1.Span.Link']!);
  return JSON.stringify(obj);
}

function writeSpan(span: Span): void {
  if (span instanceof WireSpan && span.message === undefined && transcodeSpan(span)) return;
  const obj = span instanceof WireSpan ? span.decode() : span;
  if (!writtenObject(SPAN, obj)) text(objectSpan(obj));
}

const isEnumerable = Object.prototype.propertyIsEnumerable;

/** codec.toJson copies each ResourceSpans and ScopeSpans (own enumerable fields) and protobufjs's fromObject reads the copy. */
function present(obj: object, key: string): boolean {
  return isEnumerable.call(obj, key) && (obj as Record<string, unknown>)[key] != null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** The shapes codec.toJson takes without throwing; anything else goes to it, to throw its own error. */
function wellFormed(data: TracesData): boolean {
  if (!isObject(data) || !Array.isArray(data.resourceSpans)) return false;
  for (const rs of data.resourceSpans) {
    if (!isObject(rs) || !Array.isArray(rs.scopeSpans)) return false;
    if (present(rs, 'resource') && !isObject(rs.resource)) return false;
    for (const ss of rs.scopeSpans) {
      if (!isObject(ss) || !Array.isArray(ss.spans)) return false;
      if (present(ss, 'scope') && !isObject(ss.scope)) return false;
      for (const s of ss.spans) if (!isObject(s)) return false;
    }
  }
  return true;
}

const KEYS = Object.fromEntries(['resourceSpans', 'resource', 'scopeSpans', 'scope', 'spans', 'schemaUrl'].map((k) => [k, Buffer.from(`"${k}":`)]));

/** One message level as toObject writes it: `{`, the present fields in order, each after a comma but the first, `}`. */
class Level {
  private first = true;
  constructor() {
    byte(0x7b);
  }
  field(key: string): void {
    if (!this.first) byte(0x2c);
    this.first = false;
    raw(KEYS[key]!);
  }
  /** A repeated field: absent when empty. */
  list<T>(key: string, items: readonly T[], write: (item: T) => void): void {
    if (items.length === 0) return;
    this.field(key);
    byte(0x5b);
    for (let i = 0; i < items.length; i++) {
      if (i > 0) byte(0x2c);
      write(items[i]!);
    }
    byte(0x5d);
  }
  /** codec.toJson's fromObject makes it a string. */
  schemaUrl(o: { schemaUrl?: unknown }): void {
    if (!present(o, 'schemaUrl')) return;
    this.field('schemaUrl');
    text(JSON.stringify(String(o.schemaUrl)));
  }
  end(): void {
    byte(0x7d);
  }
}

const RESOURCE = compile(ResourceType);
const SCOPE = compile(ScopeType);

/**
 * A resource or scope (always an object: received requests decode them) as codec.toJson writes it:
 * from the object when fromObject and toObject agree on every value (`objectMessage`), else through
 * them. Every batch of correlate's kernel spans has its own resources of ~15 attributes: the two
 * protobufjs walks were a quarter of the file exporter's time on the kernel-event path.
 */
function writeResourceOrScope(m: Message, type: protobuf.Type, obj: object): void {
  if (!writtenObject(m, obj)) text(JSON.stringify(type.toObject(type.fromObject(obj), TO_OBJECT)));
}

function writeResourceSpans(rs: TracesData['resourceSpans'][number]): void {
  const l = new Level();
  if (present(rs, 'resource')) {
    l.field('resource');
    writeResourceOrScope(RESOURCE, ResourceType, rs.resource!);
  }
  l.list('scopeSpans', rs.scopeSpans, (ss) => {
    const s = new Level();
    if (present(ss, 'scope')) {
      s.field('scope');
      writeResourceOrScope(SCOPE, ScopeType, ss.scope!);
    }
    s.list('spans', ss.spans, writeSpan);
    s.schemaUrl(ss);
    s.end();
  });
  l.schemaUrl(rs);
  l.end();
}

/** Where the writer appends: `bytes[0, length)` is written; `bytes` is replaced by a larger copy when it fills. */
export interface JsonOutput {
  bytes: Buffer;
  length: number;
}

/**
 * Appends `tracesCodec.toJson(data)` as UTF-8 to `out`, byte for byte, without decoding received
 * spans; unlike toJson, leaves every span as it was (toJson decodes them). Straight into the
 * caller's buffer, so a buffer kept and reused costs no allocation and no copy per request. If it
 * throws (toJson's own error for shapes toJson refuses), `out` is as it was. Not re-entrant.
 */
export function appendTracesJson(data: TracesData, out: JsonOutput): void {
  ob = out.bytes as NodeBuffer;
  op = out.length;
  try {
    if (!wellFormed(data)) text(tracesCodec.toJson(data));
    else {
      const top = new Level();
      top.list('resourceSpans', data.resourceSpans, writeResourceSpans);
      top.end();
    }
    out.bytes = ob;
    out.length = op;
  } finally {
    ob = EMPTY;
  }
}

const LOGS_REQUEST = compile(root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'));

/**
 * Appends `logsCodec.toJson(data)` as UTF-8 to `out`, byte for byte: log records are objects (the
 * kernel's, or decoded), written by `objectMessage` when all their values are of the usual types,
 * else the whole request by toJson. If it throws, `out` is as it was. Not re-entrant.
 */
export function appendLogsJson(data: LogsData, out: JsonOutput): void {
  ob = out.bytes as NodeBuffer;
  op = out.length;
  try {
    if (!isObject(data) || !writtenObject(LOGS_REQUEST, data)) text(logsCodec.toJson(data));
    out.bytes = ob;
    out.length = op;
  } finally {
    ob = EMPTY;
  }
}

/** Appends `s` as UTF-8 to `out` (a line's end). */
export function appendUtf8(out: JsonOutput, s: string): void {
  ob = out.bytes as NodeBuffer;
  op = out.length;
  text(s);
  out.bytes = ob;
  out.length = op;
  ob = EMPTY;
}
