import { isUtf8 } from 'node:buffer';
import { RESERVED_PREFIX } from '../semconv.js';
import { OtlpDecodeError } from './otlp-decode-error.js';

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
const I64 = 1;
const LEN = 2;
const I32 = 5;

/** How a known field is read: its wire type, and for LEN what it holds. */
interface Field {
  wire: number;
  /** A nested message's fields, indexed by field number. */
  msg?: (Field | undefined)[];
  str?: boolean;
  /** An attribute key at span, event or link level: checked for the reserved prefix. */
  key?: boolean;
}

const STRING: Field = { wire: LEN, str: true };
const BYTES: Field = { wire: LEN };
const INT: Field = { wire: VARINT };
const FIXED64: Field = { wire: I64 };
const FIXED32: Field = { wire: I32 };

const anyValue: (Field | undefined)[] = [];
const keyValue: (Field | undefined)[] = [];
const attribute: (Field | undefined)[] = [];
anyValue[1] = STRING;
anyValue[2] = INT;
anyValue[3] = INT;
anyValue[4] = FIXED64;
anyValue[5] = { wire: LEN, msg: [, { wire: LEN, msg: anyValue }] };
anyValue[6] = { wire: LEN, msg: [, { wire: LEN, msg: keyValue }] };
anyValue[7] = BYTES;
keyValue[1] = STRING;
keyValue[2] = { wire: LEN, msg: anyValue };
attribute[1] = { wire: LEN, str: true, key: true };
attribute[2] = keyValue[2];
const ATTRIBUTES: Field = { wire: LEN, msg: attribute };

const event: (Field | undefined)[] = [, FIXED64, STRING, ATTRIBUTES, INT];
const link: (Field | undefined)[] = [, BYTES, BYTES, STRING, ATTRIBUTES, INT, FIXED32];
const status: (Field | undefined)[] = [, , STRING, INT];
const span: (Field | undefined)[] = [
  ,
  BYTES, // trace_id
  BYTES, // span_id
  STRING, // trace_state
  BYTES, // parent_span_id
  STRING, // name
  INT, // kind
  FIXED64, // start_time_unix_nano
  FIXED64, // end_time_unix_nano
  ATTRIBUTES,
  INT, // dropped_attributes_count
  { wire: LEN, msg: event },
  INT, // dropped_events_count
  { wire: LEN, msg: link },
  INT, // dropped_links_count
  { wire: LEN, msg: status },
  FIXED32, // flags
];

const MAX_DEPTH = 100;
const PREFIX = Buffer.from(RESERVED_PREFIX);

let pos = 0;
let flags = 0;

function fail(what: string, at: number): never {
  throw new OtlpDecodeError(`span at byte ${at}: ${what}`);
}

/** A varint as a number (exact up to 2^53; lengths beyond the message fail their bounds check anyway). */
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

function checkString(buf: Buffer, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    if (buf[i]! >= 0x80) {
      if (!isUtf8(buf.subarray(start, end))) flags |= INVALID_UTF8;
      return;
    }
  }
}

function checkMessage(buf: Buffer, end: number, fields: (Field | undefined)[], depth: number): void {
  if (depth > MAX_DEPTH) fail('nested more than 100 deep', pos);
  while (pos < end) {
    const at = pos;
    const tag = varint(buf, end);
    const number = Math.floor(tag / 8);
    const wire = tag % 8;
    if (number === 0) fail('field number 0', at);
    const field = number < fields.length ? fields[number] : undefined;
    if (field && field.wire !== wire) fail(`field ${number} has wire type ${wire}, expected ${field.wire}`, at);
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
        if (field?.msg) checkMessage(buf, stop, field.msg, depth + 1);
        else if (field?.str) {
          checkString(buf, pos, stop);
          if (field.key && isReserved(buf, pos, stop)) flags |= RESERVED_KEY;
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
  checkMessage(buf, end, span, 3); // request > resource spans > scope spans > span, as the encoder counts
  return flags;
}
