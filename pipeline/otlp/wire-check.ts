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

// The schema as flat tables, one row of STRIDE field numbers per message (no Span field number
// exceeds 16): the wire type a known field must have (-1: unknown, skipped as sent), and for LEN
// what it holds: a string, an attribute key (a string checked for the reserved prefix), a message
// (its row in SUB) or bytes.
const STRIDE = 17;
const BYTES = 0;
const STRING = 1;
const KEY = 2;
const MESSAGE = 3;
const [SPAN, EVENT, LINK, STATUS, ATTRIBUTE, KEY_VALUE, ANY_VALUE, ARRAY_VALUE, KV_LIST] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
const WIRE = new Int8Array(9 * STRIDE).fill(-1);
const HOLDS = new Uint8Array(9 * STRIDE);
const SUB = new Uint8Array(9 * STRIDE);

/** Declares field `number` of message `msg`: its wire type, and for LEN what it holds. */
function field(msg: number, number: number, wire: number, holds = BYTES, sub = 0): void {
  WIRE[msg * STRIDE + number] = wire;
  HOLDS[msg * STRIDE + number] = holds;
  SUB[msg * STRIDE + number] = sub;
}

field(ANY_VALUE, 1, LEN, STRING);
field(ANY_VALUE, 2, VARINT);
field(ANY_VALUE, 3, VARINT);
field(ANY_VALUE, 4, I64);
field(ANY_VALUE, 5, LEN, MESSAGE, ARRAY_VALUE);
field(ANY_VALUE, 6, LEN, MESSAGE, KV_LIST);
field(ANY_VALUE, 7, LEN);
field(ARRAY_VALUE, 1, LEN, MESSAGE, ANY_VALUE);
field(KV_LIST, 1, LEN, MESSAGE, KEY_VALUE);
field(KEY_VALUE, 1, LEN, STRING);
field(KEY_VALUE, 2, LEN, MESSAGE, ANY_VALUE);
field(ATTRIBUTE, 1, LEN, KEY);
field(ATTRIBUTE, 2, LEN, MESSAGE, ANY_VALUE);
field(EVENT, 1, I64); // time_unix_nano
field(EVENT, 2, LEN, STRING); // name
field(EVENT, 3, LEN, MESSAGE, ATTRIBUTE);
field(EVENT, 4, VARINT); // dropped_attributes_count
field(LINK, 1, LEN); // trace_id
field(LINK, 2, LEN); // span_id
field(LINK, 3, LEN, STRING); // trace_state
field(LINK, 4, LEN, MESSAGE, ATTRIBUTE);
field(LINK, 5, VARINT); // dropped_attributes_count
field(LINK, 6, I32); // flags
field(STATUS, 2, LEN, STRING); // message
field(STATUS, 3, VARINT); // code
field(SPAN, 1, LEN); // trace_id
field(SPAN, 2, LEN); // span_id
field(SPAN, 3, LEN, STRING); // trace_state
field(SPAN, 4, LEN); // parent_span_id
field(SPAN, 5, LEN, STRING); // name
field(SPAN, 6, VARINT); // kind
field(SPAN, 7, I64); // start_time_unix_nano
field(SPAN, 8, I64); // end_time_unix_nano
field(SPAN, 9, LEN, MESSAGE, ATTRIBUTE);
field(SPAN, 10, VARINT); // dropped_attributes_count
field(SPAN, 11, LEN, MESSAGE, EVENT);
field(SPAN, 12, VARINT); // dropped_events_count
field(SPAN, 13, LEN, MESSAGE, LINK);
field(SPAN, 14, VARINT); // dropped_links_count
field(SPAN, 15, LEN, MESSAGE, STATUS);
field(SPAN, 16, I32); // flags

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
