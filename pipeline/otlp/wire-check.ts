import { isUtf8 } from 'node:buffer';
import protobuf from 'protobufjs';
import { RESERVED_PREFIX } from '../semconv.js';
import { OtlpDecodeError } from './otlp-decode-error.js';
import { root } from './proto-root.js';

/**
 * Checks one received span's bytes before they may be passed on as they are: every field well
 * formed and inside its message, every known field with the wire type the schema gives it, nesting
 * at most 100 deep (protobufjs's limit), so what the exporter copies is something a strict decoder
 * (the Collector's, Jaeger's) accepts. One walk, no allocation for ASCII strings. It also answers
 * what the receiver must know without decoding: does an attribute key use the reserved prefix, and
 * is a string not valid UTF-8 (protobufjs decodes those with U+FFFD, so such a span is decoded and
 * re-encoded as before rather than copied).
 */

/** Result bits of `checkSpan`. */
export const RESERVED_KEY = 1;
export const INVALID_UTF8 = 2;

const VARINT = 0;
const LEN = 2;
const I64 = 1;
const I32 = 5;

// The Span schema as flat tables, derived from the reflected schema (proto-root.ts), one row of
// STRIDE field numbers per message: the wire type a known field must have (-1: unknown, skipped as
// sent), and for LEN what it holds: bytes, a string, an attribute key (a KeyValue key reached
// through an `attributes` field: checked for the reserved prefix) or a message (its row in SUB).
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
const STRIDE = 1 + Math.max(...rows.map((r) => r.wire.length - 1));
const WIRE = new Int8Array(rows.length * STRIDE).fill(-1);
const HOLDS = new Uint8Array(rows.length * STRIDE);
const SUB = new Uint8Array(rows.length * STRIDE);
rows.forEach((r, i) =>
  r.wire.forEach((wire, id) => {
    WIRE[i * STRIDE + id] = wire;
    HOLDS[i * STRIDE + id] = r.holds[id]!;
    SUB[i * STRIDE + id] = r.sub[id] ?? 0;
  }),
);

const MAX_DEPTH = 100;
const PREFIX = Buffer.from(RESERVED_PREFIX);

let pos = 0;
let flags = 0;

function fail(what: string, at: number): never {
  throw new OtlpDecodeError(`span at byte ${at}: ${what}`);
}

/** A varint as a number: exact up to 2^53, which is all a tag or a length needs (lengths past the message fail anyway). */
function varint(buf: Buffer, end: number): number {
  if (pos < end) {
    const b = buf[pos]!;
    if (b < 0x80) {
      pos++;
      return b;
    }
  }
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

function checkString(buf: Buffer, start: number, end: number): void {
  let i = start;
  // ASCII, four bytes at a time; the first byte at or above 0x80 hands the string to the native check.
  for (const last = end - 3; i < last; i += 4) if ((buf[i]! | buf[i + 1]! | buf[i + 2]! | buf[i + 3]!) & 0x80) break;
  for (; i < end; i++) {
    if (buf[i]! >= 0x80) {
      if (!isUtf8(buf.subarray(start, end))) flags |= INVALID_UTF8;
      return;
    }
  }
}

function checkMessage(buf: Buffer, end: number, msg: number, depth: number): void {
  if (depth > MAX_DEPTH) fail('nested more than 100 deep', pos);
  const row = msg * STRIDE;
  while (pos < end) {
    const at = pos;
    const tag = varint(buf, end);
    const wire = tag & 7;
    const number = tag < 0x80000000 ? tag >>> 3 : Math.floor(tag / 8);
    if (number === 0) fail('field number 0', at);
    const known = number < STRIDE ? WIRE[row + number]! : -1;
    if (known !== -1 && known !== wire) fail(`field ${number} has wire type ${wire}, expected ${known}`, at);
    switch (wire) {
      case VARINT:
        varint(buf, end);
        break;
      case I64:
        pos += 8;
        break;
      case I32:
        pos += 4;
        break;
      case LEN: {
        const len = varint(buf, end);
        const stop = pos + len;
        if (stop > end) fail(`field ${number}: length ${len} runs past the end of its message`, at);
        if (known !== -1) {
          const holds = HOLDS[row + number]!;
          if (holds === MESSAGE) checkMessage(buf, stop, SUB[row + number]!, depth + 1);
          else if (holds !== BYTES) {
            checkString(buf, pos, stop);
            if (holds === KEY && isReserved(buf, pos, stop)) flags |= RESERVED_KEY;
          }
        }
        pos = stop;
        break;
      }
      default:
        fail(`wire type ${wire} (groups are not used by OTLP)`, at);
    }
    if (pos > end) fail(`field ${number} runs past the end of its message`, at);
  }
}

/** Checks `buf[start, end)` as an OTLP Span; throws OtlpDecodeError, else returns RESERVED_KEY | INVALID_UTF8 bits. */
export function checkSpan(buf: Buffer, start: number, end: number): number {
  pos = start;
  flags = 0;
  checkMessage(buf, end, SPAN, 3); // request > resource spans > scope spans > span, as the encoder counts
  return flags;
}
