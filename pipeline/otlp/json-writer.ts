import protobuf from 'protobufjs';
import { tracesCodec } from './codec.js';
import { root } from './proto-root.js';
import type { KeyValue, Span, SpanLink, TracesData } from './types.js';
import { WireSpan } from './wire-span.js';

/**
 * OTLP/JSON for traces, written from the received bytes: the same text `tracesCodec.toJson` gives
 * (protobufjs's toObject with longs as decimal strings, enums as numbers, bytes as base64, ids as
 * hex, fields present when they were on the wire, in field-number order), without decoding the
 * spans nobody decoded. A span still as received is transcoded from its bytes (plus its appended
 * attributes); resources, scopes and spans that are objects go through protobufjs as before. Any
 * span whose bytes protobufjs would read differently from a clean walk (a bad varint, a field
 * running past its message; wire-check.ts rejects these on arrival) is decoded and written the old
 * way, so the text is the old text in every case.
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
  /** `"name":` as toObject names it (camelCase). */
  key: string;
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
}

/** The fields toObject writes as hex instead of base64 (codec.ts does the same after toObject). */
const HEX_IDS: Record<string, readonly string[]> = {
  '.opentelemetry.proto.trace.v1.Span': ['traceId', 'spanId', 'parentSpanId'],
  '.opentelemetry.proto.trace.v1.Span.Link': ['traceId', 'spanId'],
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
  const msg: Message = { fields: [], index: new Int16Array(1 + Math.max(0, ...fields.map((f) => f.id))).fill(-1) };
  compiled.set(type, msg);
  for (const f of fields) {
    f.resolve();
    if (f.map) throw new Error(`json-writer: map field ${type.name}.${f.name} is not supported`);
    const isMsg = f.resolvedType instanceof protobuf.Type;
    let kind = isMsg ? MESSAGE : f.resolvedType instanceof protobuf.Enum ? INT32 : KINDS[f.type];
    if (kind === undefined) throw new Error(`json-writer: field type ${f.type} is not supported`);
    if (kind === BASE64 && HEX_IDS[type.fullName]?.includes(f.name)) kind = HEX;
    if (f.repeated && !isMsg) throw new Error(`json-writer: repeated scalar ${type.name}.${f.name} is not supported`);
    const wire = isMsg ? 2 : (protobuf.types.basic as Record<string, number>)[f.resolvedType instanceof protobuf.Enum ? 'int32' : f.type]!;
    msg.index[f.id] = msg.fields.length;
    msg.fields.push({ key: `${JSON.stringify(f.name)}:`, tag: ((f.id << 3) | wire) >>> 0, wire, kind, repeated: f.repeated, sub: undefined });
    if (isMsg) msg.fields[msg.fields.length - 1]!.sub = compile(f.resolvedType as protobuf.Type);
  }
  return msg;
}

const SPAN = compile(SpanType);
const SPAN_ATTRIBUTES = (9 << 3) | 2;

/** Thrown when the bytes are not what a clean walk expects: the span is written the old way. */
const FALLBACK = new Error('json-writer: span written through protobufjs');

type NodeBuffer = Buffer & { utf8Slice(start: number, end: number): string; hexSlice(start: number, end: number): string; base64Slice(start: number, end: number): string };

// The walk's state: the span's bytes, the read position, where the span ends, the text so far.
let buf = Buffer.alloc(0) as NodeBuffer;
let pos = 0;
let limit = 0;
let out = '';
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

/**
 * An unsigned 64-bit value as Long#toString gives it: exact decimal, via one long division by 1e9
 * over 16-bit limbs (every step below 2^53), no Long or BigInt per value.
 */
function u64(l: number, h: number): string {
  if (h < 0x200000) return String(h * 4294967296 + l);
  let t = h >>> 16;
  const q3 = Math.floor(t / 1e9);
  t = (t - q3 * 1e9) * 65536 + (h & 0xffff);
  const q2 = Math.floor(t / 1e9);
  t = (t - q2 * 1e9) * 65536 + (l >>> 16);
  const q1 = Math.floor(t / 1e9);
  t = (t - q1 * 1e9) * 65536 + (l & 0xffff);
  const q0 = Math.floor(t / 1e9);
  const rest = t - q0 * 1e9;
  return String(((q3 * 65536 + q2) * 65536 + q1) * 65536 + q0) + String(rest).padStart(9, '0');
}

/** A signed 64-bit value (two's complement lo/hi) as Long#toString gives it. */
function i64(l: number, h: number): string {
  if (h < 0x80000000) return u64(l, h);
  // Negate: ~x + 1.
  const nl = (~l + 1) >>> 0;
  const nh = (~h + (nl === 0 ? 1 : 0)) >>> 0;
  return `-${u64(nl, nh)}`;
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
      message(f.sub!, end, undefined);
      return;
    }
    case STRING: {
      const len = uint32();
      const end = pos + len;
      if (end > limit) throw FALLBACK;
      out += len === 0 ? '""' : JSON.stringify(buf.utf8Slice(pos, end));
      pos = end;
      return;
    }
    case BASE64:
    case HEX: {
      const len = uint32();
      const end = pos + len;
      if (end > limit) throw FALLBACK;
      out += `"${len === 0 ? '' : f.kind === HEX ? buf.hexSlice(pos, end) : buf.base64Slice(pos, end)}"`;
      pos = end;
      return;
    }
    case UINT32:
      out += String(uint32());
      return;
    case INT32:
      out += String(uint32() | 0);
      return;
    case BOOL:
      out += uint32() !== 0 ? 'true' : 'false';
      return;
    case FIXED32:
      out += String(fixed32());
      return;
    case FIXED64:
      lo = fixed32();
      hi = fixed32();
      out += `"${u64(lo, hi)}"`;
      return;
    case INT64:
      varint64();
      out += `"${i64(lo, hi)}"`;
      return;
    case UINT64:
      varint64();
      out += `"${u64(lo, hi)}"`;
      return;
    case DOUBLE: {
      if (pos + 8 > limit) throw FALLBACK;
      const d = buf.readDoubleLE(pos);
      pos += 8;
      out += Number.isFinite(d) ? String(d) : 'null';
      return;
    }
  }
}

/**
 * Writes the message in `[pos, end)` as toObject would: a first walk notes where each known field
 * is (the last value of a singular field wins, as protobufjs decodes), then the fields are written
 * in number order; a repeated field's values are found again from its first one. `appended`: the
 * KeyValues a WireSpan holds beside its bytes, written after the received attributes.
 */
function message(m: Message, end: number, appended: readonly KeyValue[] | undefined): void {
  const n = m.fields.length;
  const frame = top;
  if ((top += n) > first.length) grow();
  first.fill(-1, frame, top);
  count.fill(0, frame, top);
  const index = m.index;
  while (pos < end) {
    const tag = uint32();
    const id = tag >>> 3;
    const i = id < index.length ? index[id]! : -1;
    if (i < 0) {
      skip(tag & 7);
      continue;
    }
    const f = m.fields[i]!;
    // protobufjs reads a known field by its declared type whatever the wire type; wire-check.ts refuses a mismatch.
    if ((tag & 7) !== f.wire) throw FALLBACK;
    if (!f.repeated || count[frame + i]! === 0) first[frame + i] = pos;
    if (f.repeated) count[frame + i]!++;
    skip(f.wire);
  }
  if (pos !== end) throw FALLBACK;
  out += '{';
  let comma = false;
  for (let i = 0; i < n; i++) {
    const f = m.fields[i]!;
    const at = first[frame + i]!;
    const extra = appended !== undefined && f.tag === SPAN_ATTRIBUTES ? appended.length : 0;
    if (at < 0 && extra === 0) continue;
    out += comma ? `,${f.key}` : f.key;
    comma = true;
    if (!f.repeated) {
      pos = at;
      value(f);
      continue;
    }
    out += '[';
    let left = count[frame + i]!;
    pos = at;
    while (left > 0) {
      value(f);
      if (--left === 0) break;
      out += ',';
      // The next value of this field: skip the others between.
      for (;;) {
        const tag = uint32();
        if (tag === f.tag) break;
        skip(tag & 7);
      }
    }
    for (let j = 0; j < extra; j++) {
      if (j > 0 || count[frame + i]! > 0) out += ',';
      out += JSON.stringify(KeyValueType.toObject(appended![j] as unknown as protobuf.Message, TO_OBJECT));
    }
    out += ']';
  }
  out += '}';
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

/** A received span never decoded, from its bytes; undefined when protobufjs must do it. */
function transcodeSpan(span: WireSpan): string | undefined {
  buf = span.buf as NodeBuffer;
  pos = span.start;
  limit = span.end;
  out = '';
  top = 0;
  try {
    message(SPAN, span.end, span.appended);
    return out;
  } catch (err) {
    if (err !== FALLBACK) throw err;
    return undefined;
  } finally {
    out = '';
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

function spanJson(span: Span): string {
  if (span instanceof WireSpan && span.message === undefined) {
    const text = transcodeSpan(span);
    if (text !== undefined) return text;
  }
  return objectSpan(span instanceof WireSpan ? span.decode() : span);
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

/** Appends `,"key":[...]` or nothing, as toObject writes a repeated field (absent when empty). */
function list<T>(key: string, items: readonly T[], write: (item: T) => string): string {
  if (items.length === 0) return '';
  let s = `${key}:[`;
  for (let i = 0; i < items.length; i++) s += i === 0 ? write(items[i]!) : `,${write(items[i]!)}`;
  return `${s}]`;
}

/** `"key":value` pairs joined by commas, inside braces. */
function object(parts: string[]): string {
  let s = '{';
  for (const p of parts) if (p !== '') s += s.length === 1 ? p : `,${p}`;
  return `${s}}`;
}

const schemaUrl = (o: object) => (present(o, 'schemaUrl') ? `"schemaUrl":${JSON.stringify(String((o as { schemaUrl: unknown }).schemaUrl))}` : '');

/**
 * `tracesCodec.toJson(data)`, character for character, without decoding received spans; unlike it,
 * leaves every span as it was (toJson decodes them).
 */
export function tracesToJson(data: TracesData): string {
  if (!wellFormed(data)) return tracesCodec.toJson(data);
  return object([
    list('"resourceSpans"', data.resourceSpans, (rs) =>
      object([
        present(rs, 'resource') ? `"resource":${JSON.stringify(ResourceType.toObject(ResourceType.fromObject(rs.resource!), TO_OBJECT))}` : '',
        list('"scopeSpans"', rs.scopeSpans, (ss) =>
          object([
            present(ss, 'scope') ? `"scope":${JSON.stringify(ScopeType.toObject(ScopeType.fromObject(ss.scope!), TO_OBJECT))}` : '',
            list('"spans"', ss.spans, spanJson),
            schemaUrl(ss),
          ]),
        ),
        schemaUrl(rs),
      ]),
    ),
  ]);
}
