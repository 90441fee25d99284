/**
 * A string two resources (or two scopes) share only if they encode to the same message: the fields
 * the encoder writes (Resource, InstrumentationScope, KeyValue, AnyValue), each with a tag, strings
 * with their length, so two different values never give one string. Made once per received resource and
 * scope: `JSON.stringify` went through protobufjs's `toJSON` (a converted copy of the message), ~6 µs
 * per loadgen request against ~1 µs (bench/README.md).
 */
export function identity(value: unknown, schemaUrl: unknown): string {
  try {
    if (typeof schemaUrl === 'string' && schemaUrl !== '') str(schemaUrl);
    else ch(UNSET);
    if (value !== null && typeof value === 'object') {
      const v = value as Fields;
      ch(0x7b); // {
      field(v['name']);
      field(v['version']);
      field(v['droppedAttributesCount']);
      keyValues(v['attributes']);
      field(v['entityRefs']);
      ch(0x7d); // }
    }
    return out.ucs2Slice(0, at);
  } finally {
    at = 0;
    if (out.length > MAX_KEPT_BYTES) out = Buffer.allocUnsafe(INITIAL_BYTES) as Ucs2Buffer;
  }
}

/**
 * The key being made, as UTF-16 code units (every JavaScript string written as it is, lone surrogates
 * too), read into one string at the end: a template string per field and value made a chain of partial
 * strings per resource (~4 KB of garbage for a resource of ten attributes), and `Array.join` of the
 * pieces still ~2.5 KB. `identity` is synchronous; the functions below only append.
 */
type Ucs2Buffer = Buffer & { ucs2Write(s: string, offset: number): number; ucs2Slice(start: number, end: number): string };
const INITIAL_BYTES = 4096;
/** The buffer grows for a large resource; past this it is let go after the key. */
const MAX_KEPT_BYTES = 64 * 1024;
let out = Buffer.allocUnsafe(INITIAL_BYTES) as Ucs2Buffer;
let at = 0;

function room(bytes: number): void {
  if (at + bytes <= out.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, at + bytes)) as Ucs2Buffer;
  out.copy(bigger, 0, 0, at);
  out = bigger;
}

/** One ASCII character. */
function ch(c: number): void {
  room(2);
  out[at++] = c;
  out[at++] = 0;
}

function text(s: string): void {
  room(s.length * 2);
  at += out.ucs2Write(s, at);
}

/** `${n}` of a number. */
function signed(n: number): void {
  if (n < 0 && Number.isInteger(n)) {
    ch(0x2d); // -
    decimal(-n);
  } else decimal(n);
}

/** `${n}` of a number that is not negative: the digits of an integer written here, anything else through `String`. */
function decimal(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) return text(String(n));
  let digits = 1;
  for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
  room(digits * 2);
  for (let i = digits - 1, m = n; i >= 0; i--, m = Math.floor(m / 10)) {
    out[at + i * 2] = 0x30 + (m % 10);
    out[at + i * 2 + 1] = 0;
  }
  at += digits * 2;
}

const UNSET = 0x5f; // _

/**
 * A field of the resource or scope itself. Unset, empty and the proto3 default read the same
 * (protobufjs's decoded messages have '' and 0 on their prototype and own empty lists; objects made
 * here leave them out), as they did under `toJSON`.
 */
function field(v: unknown): void {
  if (v === undefined || v === null || v === '' || v === 0 || (Array.isArray(v) && v.length === 0)) ch(UNSET);
  else any(v);
}

type Fields = Record<string, unknown>;

/** `s<length>:<string>`. */
function str(v: unknown): void {
  if (typeof v !== 'string') return any(v);
  ch(0x73); // s
  decimal(v.length);
  ch(0x3a); // :
  text(v);
}

/** `n<number>;` (-0 apart from 0). */
function num(v: unknown): void {
  if (typeof v !== 'number') return any(v);
  ch(0x6e); // n
  if (Object.is(v, -0)) text('-0');
  else signed(v);
  ch(0x3b); // ;
}

/** 64-bit integers as protobufjs gives them (Long) or a component set them (number, string): `L<high>,<low>;`. */
function int64(v: unknown): void {
  if (v !== null && typeof v === 'object' && 'high' in v && 'low' in v) {
    ch(0x4c); // L
    signed((v as { high: number }).high);
    ch(0x2c); // ,
    signed((v as { low: number }).low);
    ch(0x3b);
  } else if (typeof v === 'number') num(v);
  else str(v);
}

function keyValues(list: unknown): void {
  if (!Array.isArray(list) || list.length === 0) return field(list);
  ch(0x5b); // [
  for (const kv of list as (Fields | null)[]) {
    if (kv === null || typeof kv !== 'object') any(kv);
    else {
      ch(0x6b); // k
      str(kv['key']);
      anyValue(kv['value']);
    }
  }
  ch(0x5d); // ]
}

/** Every member of the oneof that is set (a valid value has one; the encoder would write them all): `v...;`. */
function anyValue(value: unknown): void {
  if (value === null || value === undefined) return ch(UNSET);
  if (typeof value !== 'object') return any(value);
  const v = value as Fields;
  ch(0x76); // v
  if (v['stringValue'] != null) {
    ch(0x53); // S
    str(v['stringValue']);
  }
  if (v['boolValue'] != null) {
    ch(0x42); // B
    any(v['boolValue']);
  }
  if (v['intValue'] != null) {
    ch(0x49); // I
    int64(v['intValue']);
  }
  if (v['doubleValue'] != null) {
    ch(0x44); // D
    num(v['doubleValue']);
  }
  if (v['arrayValue'] != null) {
    ch(0x41); // A
    list(v['arrayValue']);
  }
  if (v['kvlistValue'] != null) {
    ch(0x4b); // K
    keyValues((v['kvlistValue'] as Fields)['values']);
  }
  if (v['bytesValue'] != null) {
    ch(0x59); // Y
    any(v['bytesValue']);
  }
  ch(0x3b); // ;
}

function list(arrayValue: unknown): void {
  const values = (arrayValue as Fields)['values'];
  if (!Array.isArray(values)) return any(values);
  ch(0x5b);
  for (const item of values) anyValue(item);
  ch(0x5d);
}

/** Anything else (entity refs, a value of an unexpected type): every own field, tagged by type. */
function any(v: unknown): void {
  switch (typeof v) {
    case 'string':
      return str(v);
    case 'number':
      return num(v);
    case 'boolean':
      return ch(v ? 0x74 : 0x66); // t, f
    case 'bigint':
      ch(0x69); // i
      text(String(v));
      return ch(0x3b);
    case 'object': {
      if (v === null) return ch(UNSET);
      if (ArrayBuffer.isView(v)) {
        ch(0x62); // b
        text(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex'));
        return ch(0x3b);
      }
      if (Array.isArray(v)) {
        ch(0x5b);
        for (const item of v) any(item);
        return ch(0x5d);
      }
      ch(0x7b);
      for (const key of Object.keys(v)) {
        const field = (v as Fields)[key];
        // The encoder writes nothing for these: a decoded message's empty lists, an unset field.
        if (field === undefined || field === null || (Array.isArray(field) && field.length === 0)) continue;
        str(key);
        any(field);
      }
      return ch(0x7d);
    }
    default:
      return ch(UNSET);
  }
}
