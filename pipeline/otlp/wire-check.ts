import { isUtf8 } from 'node:buffer';
import protobuf from 'protobufjs';
import { RESERVED_PREFIX } from '../semconv.js';
import { viewOf } from './buffer-view.js';
import { recentList } from './key-shapes.js';
import { OtlpDecodeError } from './otlp-decode-error.js';
import { root } from './proto-root.js';

/**
 * Checks one received span's bytes before they may be passed on as they are: every field well
 * formed and inside its message, every known field with the wire type the schema gives it, nesting
 * at most 100 deep (protobufjs's limit), so what the exporter copies is something a strict decoder
 * (the Collector's, Jaeger's) accepts. One walk, no allocation for ASCII strings. It also answers
 * what the receiver must know without decoding: does an attribute key use the reserved prefix, and
 * is a string not valid UTF-8 (protobufjs decodes those with U+FFFD, so such a span is decoded and
 * re-encoded as before rather than copied). Given an `AttributeRecords`, it also writes down where each
 * of the span's attributes is (wire-span.ts builds the span's attribute table from that instead of
 * walking the bytes a second time). Its attribute keys' bits are then checked once per key list, not
 * per span: a recorded span whose keys are a recent list (key-shapes.ts, compared by bytes) takes
 * the list's bits and records its number, so the view finds the list without comparing again.
 */

/** Result bits of `checkSpan`. */
export const RESERVED_KEY = 1;
export const INVALID_UTF8 = 2;

const VARINT = 0;
const LEN = 2;
const I64 = 1;
const I32 = 5;

// The Span schema derived from the reflected schema (proto-root.ts), one row per message: by field
// number, the wire type a known field must have (absent: unknown, skipped as sent), and for LEN what
// it holds: bytes, a string, an attribute key (a KeyValue key reached through an `attributes` field:
// checked for the reserved prefix) or a message (its row in `sub`).
const BYTES = 0;
const STRING = 1;
const KEY = 2;
const MESSAGE = 3;

interface Row {
  wire: number[];
  holds: number[];
  sub: number[];
}

const rows: Row[] = [];
const rowOf = new Map<string, number>();

function row(type: protobuf.Type, attributeKeys: boolean): number {
  const name = `${type.fullName}${attributeKeys ? '#attributes' : ''}`;
  const known = rowOf.get(name);
  if (known !== undefined) return known;
  const at = rows.length;
  const r: Row = { wire: [], holds: [], sub: [] };
  rows.push(r);
  rowOf.set(name, at);
  for (const f of type.fieldsArray) {
    f.resolve();
    const message = f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined;
    if (f.repeated && !message) throw new Error(`wire-check: repeated scalar ${type.name}.${f.name} (packed or not) is not supported`);
    r.wire[f.id] = message ? LEN : f.resolvedType instanceof protobuf.Enum ? VARINT : (protobuf.types.basic as Record<string, number>)[f.type]!;
    if (message) {
      r.holds[f.id] = MESSAGE;
      r.sub[f.id] = row(message, f.name === 'attributes');
    } else if (f.type === 'string') r.holds[f.id] = attributeKeys && f.name === 'key' ? KEY : STRING;
    else r.holds[f.id] = BYTES;
  }
  return at;
}

const SPAN = row(root.lookupType('opentelemetry.proto.trace.v1.Span'), false);
/** The row of an attribute's KeyValue (Span, Event and Link attributes): `plainAttribute` takes most of them at once. */
const ATTRIBUTE = rowOf.get('.opentelemetry.proto.common.v1.KeyValue#attributes')!;

// What to do on each tag of each message, looked up by (row, tag) for every one-byte tag and the
// two-byte ones up to field 31 (all OTLP trace fields): one table load per field instead of a field
// number, a wire type and three lookups. Other tags (unknown fields past 31) take `slowAction`.
const SKIP_VARINT = 0;
const SKIP_I64 = 1;
const SKIP_LEN = 2;
const SKIP_I32 = 3;
const CHECK_STRING = 4;
const CHECK_KEY = 5;
const ENTER = 6; // a message: its row in the upper bits
const WRONG_WIRE = 7; // a known field sent with another wire type
const BAD_WIRE = 8; // wire types 3, 4 (groups), 6, 7
const FIELD_ZERO = 9;
const TAGS = 256;

/** A tag's field number (tags are read as exact numbers up to 2^53). */
const fieldOf = (tag: number): number => (tag < 0x80000000 ? tag >>> 3 : Math.floor(tag / 8));

function slowAction(r: Row, tag: number): number {
  const wire = tag & 7;
  const number = fieldOf(tag);
  if (number === 0) return FIELD_ZERO;
  const known = r.wire[number];
  if (known !== undefined && known !== wire) return WRONG_WIRE;
  if (wire !== LEN) return wire === VARINT ? SKIP_VARINT : wire === I64 ? SKIP_I64 : wire === I32 ? SKIP_I32 : BAD_WIRE;
  if (known === undefined) return SKIP_LEN;
  const holds = r.holds[number]!;
  return holds === MESSAGE ? ENTER | (r.sub[number]! << 4) : holds === STRING ? CHECK_STRING : holds === KEY ? CHECK_KEY : SKIP_LEN;
}

const ACTIONS = new Int32Array(rows.length * TAGS);
rows.forEach((r, i) => {
  for (let tag = 0; tag < TAGS; tag++) ACTIONS[i * TAGS + tag] = slowAction(r, tag);
});

const MAX_DEPTH = 100;
/** Depth of a span's own fields, as protobufjs's encoder counts (request > resource spans > scope spans > span). */
const SPAN_DEPTH = 3;
const PREFIX = Buffer.from(RESERVED_PREFIX);
const NO_INTS = new Int32Array(0);
/** The enclosing messages' ends and rows while a nested one is walked. */
const outerEnds = new Int32Array(MAX_DEPTH);
const outerRows = new Int32Array(MAX_DEPTH);

/** Where the last `varint` ended. */
let pos = 0;

function fail(what: string, at: number): never {
  throw new OtlpDecodeError(`span at byte ${at}: ${what}`);
}

/** A varint at `pos` as a number (exact up to 2^53, all a tag or a length needs); leaves `pos` after it. */
function varint(buf: Buffer, end: number): number {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) fail('truncated varint', pos);
    const b = buf[pos++]!;
    v += (b & 0x7f) * mul;
    if (b < 0x80) return v;
    mul *= 128;
  }
  return fail('varint longer than 10 bytes', pos);
}

function isReserved(buf: Buffer, start: number, end: number): boolean {
  if (end - start < PREFIX.length) return false;
  for (let i = 0; i < PREFIX.length; i++) if (buf[start + i] !== PREFIX[i]) return false;
  return true;
}

/**
 * Strings from this length on go to the native check at once (simdutf: tens of GB/s against ~1 ns a
 * byte for the loop below): an agent's prompts and tool results are kilobytes to megabytes.
 */
const NATIVE_FROM = 256;

/** True unless `buf[start, end)` holds a byte at or above 0x80 and is not valid UTF-8. */
function validString(buf: Buffer, start: number, end: number): boolean {
  if (end - start >= NATIVE_FROM) return isUtf8(buf.subarray(start, end));
  let i = start;
  // ASCII, four bytes at a time (one load through a DataView over the request); the first byte at or above 0x80 hands the string to the native check.
  const view = viewOf(buf);
  for (const last = end - 3; i < last; i += 4) if (view.getInt32(i) & 0x80808080) return isUtf8(buf.subarray(start, end));
  for (; i < end; i++) if (buf[i]! & 0x80) return isUtf8(buf.subarray(start, end));
  return true;
}

/** Most attributes a span's record holds (key-shapes.ts shares lists up to this length); a span with more is not recorded. */
export const MAX_RECORDED = 64;
/** Ints per recorded attribute: key start, key end, value start, value end (-1 without a value). */
export const RECORD_INTS = 4;
/** Ints before a record's attributes: their count, and the number of their key list (key-shapes.ts `listById`; -1: none). */
export const RECORD_HEAD = 2;

/** Ints per chunk of records (64 KiB: ~700 spans of 5 attributes). */
const CHUNK_INTS = 16384;

/**
 * Where the checked spans' attributes (the KeyValues of Span field 9) are in the request, as
 * protobufjs reads a KeyValue (the last key and the last value win; no key: empty at the KeyValue's
 * start): per span RECORD_HEAD ints, then RECORD_INTS per attribute. Written into chunks of CHUNK_INTS
 * shared by the spans of consecutive requests (`ints`, from `spanAt`: the span keeps its chunk; no
 * copy per request); a full chunk is left to the spans that point into it and a new one started.
 * One per receiver thread. Bounded: a request's records take at most a quarter of its bytes in
 * ints (as many bytes as the request; ~16 B per attribute, which takes ~25-40 B on the wire); a span
 * past that, or with more than MAX_RECORDED attributes, is not recorded (its table is walked from
 * the bytes as before). A span held keeps its chunk alive as it keeps its request's bytes.
 */
export class AttributeRecords {
  ints = new Int32Array(CHUNK_INTS);
  /** Where the next record goes in `ints`. */
  length = 0;
  /** Where the last checked span's record starts in `ints` (its count), -1 if it was not recorded. */
  spanAt = -1;
  /** Ints the request's records may still take. */
  room = 0;

  /** A new request of `requestBytes` bytes. */
  begin(requestBytes: number): void {
    this.spanAt = -1;
    this.room = requestBytes >>> 2;
  }

  /** Room for one span's record at `length` (a new chunk if needed), or false when the request's records are at their limit. */
  open(): boolean {
    if (this.room < RECORD_HEAD) return false;
    if (this.length + RECORD_HEAD + RECORD_INTS * MAX_RECORDED > this.ints.length) {
      this.ints = new Int32Array(CHUNK_INTS);
      this.length = 0;
    }
    return true;
  }
}

/** Span field 9 (attributes), length-delimited. */
const ATTRIBUTES_TAG = 0x4a;

/** AnyValue tags (field << 3 | wire type) of the values `plainAttribute` takes. */
const STRING_VALUE = 0x0a;
const BOOL_VALUE = 0x10;
const INT_VALUE = 0x18;
const DOUBLE_VALUE = 0x21;
const BYTES_VALUE = 0x3a;

/**
 * The KeyValue `buf[p, end)` of an attribute laid out as encoders write it: its key, then its value
 * (an AnyValue of one string, bool, int, double or bytes, or empty), every tag and length in one byte:
 * the RESERVED_KEY | INVALID_UTF8 bits the field-by-field walk would find, in one step instead of
 * six turns of its loop (the key's only `withKey`: a recorded key is checked with its list, `keyBits`).
 * -1 for any other layout (the walk takes it, and finds whatever is wrong).
 */
function plainAttribute(buf: Buffer, p: number, end: number, withKey: boolean): number {
  if (end - p < 4 || buf[p] !== 0x0a) return -1;
  const keyEnd = p + 2 + buf[p + 1]!;
  if (buf[p + 1]! >= 0x80 || keyEnd + 2 > end || buf[keyEnd] !== 0x12 || buf[keyEnd + 1]! >= 0x80) return -1;
  const v = keyEnd + 2;
  if (v + buf[keyEnd + 1]! !== end) return -1;
  let flags = 0;
  if (v < end) {
    const t = buf[v]!;
    if (t === STRING_VALUE || t === BYTES_VALUE) {
      if (buf[v + 1]! >= 0x80 || v + 2 + buf[v + 1]! !== end) return -1;
      if (t === STRING_VALUE && !validString(buf, v + 2, end)) flags = INVALID_UTF8;
    } else if (t === BOOL_VALUE || t === INT_VALUE) {
      // One varint up to the end: at most 10 bytes, only the last below 0x80.
      if (end - v < 2 || end - v > 11 || buf[end - 1]! >= 0x80) return -1;
      for (let q = v + 1; q < end - 1; q++) if (buf[q]! < 0x80) return -1;
    } else if (t !== DOUBLE_VALUE || end - v !== 9) return -1;
  }
  return withKey ? flags | keyBits(buf, p + 2, keyEnd) : flags;
}

/** The RESERVED_KEY | INVALID_UTF8 bits of the attribute key `buf[start, end)`. */
function keyBits(buf: Buffer, start: number, end: number): number {
  return (isReserved(buf, start, end) ? RESERVED_KEY : 0) | (validString(buf, start, end) ? 0 : INVALID_UTF8);
}

/** The bits of the keys recorded in `ints[from, to)` (a record's attributes). */
function recordedKeyBits(buf: Buffer, ints: Int32Array, from: number, to: number): number {
  let bits = 0;
  for (let q = from; q < to; q += RECORD_INTS) bits |= keyBits(buf, ints[q]!, ints[q + 1]!);
  return bits;
}

/**
 * Checks `buf[start, end)` as an OTLP Span; throws OtlpDecodeError, else returns RESERVED_KEY |
 * INVALID_UTF8 bits. One loop over the fields with the enclosing messages on a small stack (no call
 * per message, the position in a local). With `records`, writes down the span's attributes there
 * (`records.spanAt`); their keys are checked at the end, once the list is known (or when the record
 * is given up: every key is checked either way).
 */
export function checkSpan(buf: Buffer, start: number, end: number, records?: AttributeRecords): number {
  let flags = 0;
  let p = start;
  let stop = end; // end of the message being walked
  let row = SPAN * TAGS;
  let depth = 0; // messages entered below the span
  // The record: `w` the next int to write (-1: not recorded), `kv` the attribute being walked (-1: none).
  let ints = NO_INTS;
  let base = -1;
  let w = -1;
  let limit = 0;
  let kv = -1;
  if (records) {
    records.spanAt = -1;
    if (records.open()) {
      ints = records.ints;
      base = records.length;
      w = base + RECORD_HEAD;
      limit = base + RECORD_HEAD + Math.min(records.room - RECORD_HEAD, RECORD_INTS * MAX_RECORDED);
    }
  }
  for (;;) {
    if (p >= stop) {
      if (depth === 0) {
        if (w >= 0) {
          const n = (w - base - RECORD_HEAD) / RECORD_INTS;
          ints[base] = n;
          const list = recentList(buf, ints, base + RECORD_HEAD, n, RECORD_INTS);
          if (list !== undefined && list.keyBits >= 0) flags |= list.keyBits;
          else {
            const bits = recordedKeyBits(buf, ints, base + RECORD_HEAD, w);
            flags |= bits;
            if (list !== undefined) list.keyBits = bits;
          }
          ints[base + 1] = list !== undefined ? list.id : -1;
          records!.length = w;
          records!.room -= w - base;
          records!.spanAt = base;
        }
        return flags;
      }
      depth--;
      stop = outerEnds[depth]!;
      row = outerRows[depth]!;
      if (depth === 0) kv = -1;
      continue;
    }
    const at = p;
    let tag = buf[p]!;
    if (tag < 0x80) p++;
    else {
      pos = p;
      tag = varint(buf, stop);
      p = pos;
    }
    // protobufjs reads a tag's low 32 bits, this walk all of it: past 2^32 the two may see other fields, and the table is walked as protobufjs reads it.
    if (tag > 0xffffffff && w >= 0) {
      flags |= recordedKeyBits(buf, ints, base + RECORD_HEAD, w);
      w = kv = -1;
    }
    const action = tag < TAGS ? ACTIONS[row + tag]! : slowAction(rows[row / TAGS]!, tag);
    switch (action & 15) {
      case SKIP_VARINT:
        for (let i = 0; ; i++) {
          if (p >= stop) fail('truncated varint', p);
          if (buf[p++]! < 0x80) break;
          if (i === 9) fail('varint longer than 10 bytes', p);
        }
        continue;
      case SKIP_I64:
        p += 8;
        if (p > stop) fail(`field ${fieldOf(tag)} runs past the end of its message`, at);
        continue;
      case SKIP_I32:
        p += 4;
        if (p > stop) fail(`field ${fieldOf(tag)} runs past the end of its message`, at);
        continue;
      case WRONG_WIRE:
        return fail(`field ${fieldOf(tag)} has wire type ${tag & 7}, expected ${rows[row / TAGS]!.wire[fieldOf(tag)]}`, at);
      case BAD_WIRE:
        return fail(`wire type ${tag & 7} (groups are not used by OTLP)`, at);
      case FIELD_ZERO:
        return fail('field number 0', at);
    }
    // Length-delimited.
    let len: number = p < stop ? buf[p]! : 0x80;
    if (len < 0x80) p++;
    else {
      pos = p;
      len = varint(buf, stop);
      p = pos;
    }
    const next = p + len;
    if (next > stop) fail(`field ${fieldOf(tag)}: length ${len} runs past the end of its message`, at);
    if ((action & 15) === ENTER) {
      if (SPAN_DEPTH + depth + 1 > MAX_DEPTH) fail('nested more than 100 deep', p);
      // At depth 0 an attribute is the span's own (field 9): past the record's limit, the record is given up.
      if (w >= 0 && depth === 0 && tag === ATTRIBUTES_TAG && w + RECORD_INTS > limit) {
        flags |= recordedKeyBits(buf, ints, base + RECORD_HEAD, w);
        w = kv = -1;
      }
      // An attribute as encoders write it, in one step (its value one level further down: within the limit).
      if (action >>> 4 === ATTRIBUTE && SPAN_DEPTH + depth + 2 <= MAX_DEPTH) {
        const recorded = w >= 0 && depth === 0;
        const plain = plainAttribute(buf, p, next, !recorded);
        if (plain >= 0) {
          flags |= plain;
          if (recorded) {
            const keyEnd = p + 2 + buf[p + 1]!;
            ints[w] = p + 2;
            ints[w + 1] = keyEnd;
            ints[w + 2] = keyEnd + 2;
            ints[w + 3] = next;
            w += RECORD_INTS;
          }
          p = next;
          continue;
        }
      }
      if (w >= 0) {
        if (depth === 0 && tag === ATTRIBUTES_TAG) {
          kv = w;
          ints[w] = ints[w + 1] = p;
          ints[w + 2] = ints[w + 3] = -1;
          w += RECORD_INTS;
        } else if (kv >= 0 && depth === 1) {
          // A KeyValue's only message field is its value.
          ints[kv + 2] = p;
          ints[kv + 3] = next;
        }
      }
      outerEnds[depth] = stop;
      outerRows[depth] = row;
      depth++;
      stop = next;
      row = (action >>> 4) * TAGS;
      continue;
    }
    if (action === CHECK_KEY) {
      // Checked here too when recorded: a KeyValue may hold more than one key (the last is recorded).
      if (isReserved(buf, p, next)) flags |= RESERVED_KEY;
      if (kv >= 0 && depth === 1) {
        ints[kv] = p;
        ints[kv + 1] = next;
      }
    }
    if ((action === CHECK_STRING || action === CHECK_KEY) && !validString(buf, p, next)) flags |= INVALID_UTF8;
    p = next;
  }
}
