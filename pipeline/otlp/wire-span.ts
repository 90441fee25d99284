import Long from 'long';
import type protobuf from 'protobufjs';
import { root } from './proto-root.js';
import { EMPTY_SHAPE, type KeyShape, listAt, listById } from './key-shapes.js';
import { int64ToMicros, wordsToMicros } from './attributes.js';
import { hexAt } from './id-hex.js';
import { type DependsOn, NOT_KEPT } from './kept-derived.js';
import { InterningReader, internedString } from './reader.js';
import type { AnyValue, KeyValue, Span, SpanIds } from './types.js';
import { WireBacked } from './wire-backed.js';
import { RECORD_HEAD, RECORD_INTS, RESERVED_KEY } from './wire-check.js';

const SpanType: protobuf.Type = root.lookupType('opentelemetry.proto.trace.v1.Span');
const AnyValueType: protobuf.Type = root.lookupType('opentelemetry.proto.common.v1.AnyValue');

/** Span fields that hold one immutable value: read from the bytes without decoding the span. */
const SCALAR_FIELDS = [
  'traceId',
  'spanId',
  'traceState',
  'parentSpanId',
  'flags',
  'name',
  'kind',
  'startTimeUnixNano',
  'endTimeUnixNano',
  'droppedAttributesCount',
  'droppedEventsCount',
  'droppedLinksCount',
] as const satisfies readonly (keyof Span)[];

/** Span fields a reader may change in place (lists, status): reading one decodes the span. */
const DECODING_FIELDS = ['attributes', 'events', 'links', 'status'] as const satisfies readonly (keyof Span)[];

type Reader = protobuf.Reader & { buf: Buffer };

/**
 * Received attributes: `keys[i]`'s value is at `bounds[boundsAt + 4i + 2]` up to
 * `bounds[boundsAt + 4i + 3]` in the buffer (-1: no value); its key at `[boundsAt + 4i]` up to
 * `[boundsAt + 4i + 1]` (wire-check.ts's record layout: usually the request's records themselves).
 */
export interface AttributeTable {
  keys: readonly string[];
  /** The shared list `keys` is (undefined for a list too long to share). */
  shape: KeyShape | undefined;
  bounds: Int32Array;
  boundsAt: number;
}

/** The bounds while a table is walked (then copied at their length). */
const scratch: number[] = [];
const NO_KEYS: readonly string[] = [];
const NO_BOUNDS = new Int32Array(0);

/** One reader re-pointed at each span (all reads are synchronous). */
const reader = new InterningReader(Buffer.alloc(0)) as Reader;

function readerAt(buf: Buffer, start: number, end: number): Reader {
  reader.buf = buf;
  reader.pos = start;
  reader.len = end;
  return reader;
}

/** Where the last `varint` or `tag` ended (their multi-byte path; the walks keep their position in a local). */
let at = 0;

/** A varint at `p` (exact to 2^53, all a length needs); leaves `at` after it. */
function varint(buf: Buffer, p: number): number {
  let b = buf[p++]!;
  let v = b & 0x7f;
  let mul = 0x80;
  while (b >= 0x80) {
    b = buf[p++]!;
    v += (b & 0x7f) * mul;
    mul *= 0x80;
  }
  at = p;
  return v;
}

/** A tag at `p` as protobufjs's `uint32` reads it (its low 32 bits); leaves `at` after it. */
function tag(buf: Buffer, p: number): number {
  let v = buf[p++]!;
  if (v >= 0x80) {
    v &= 0x7f;
    for (let shift = 7; shift < 70; shift += 7) {
      const c = buf[p++]!;
      if (shift < 32) v |= (c & 0x7f) << shift;
      if (c < 0x80) break;
    }
    v >>>= 0;
  }
  at = p;
  return v;
}

/** A length or 32-bit value at `p` as protobufjs's `uint32` reads it (its reader past one byte); leaves `at` after it. */
function uint32(buf: Buffer, p: number, end: number): number {
  const b = buf[p]!;
  if (b < 0x80) {
    at = p + 1;
    return b;
  }
  const r = readerAt(buf, p, end);
  const v = r.uint32();
  at = r.pos;
  return v;
}

/** An id read by `readScalars` (a Buffer over the request, or the prototype's default) as hex. */
/** The hex of the id `readScalars` found at `at` ('' when absent or empty). */

/** The little-endian unsigned 32 bits at `p`. */
function fixed32(buf: Buffer, p: number): number {
  return (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
}

/** Where the value of a field of tag `t` starting at `p` ends (wire-check.ts checked it is well formed and no group). */
function fieldEnd(buf: Buffer, p: number, t: number): number {
  switch (t & 7) {
    case 0:
      while (buf[p++]! >= 0x80);
      return p;
    case 1:
      return p + 8;
    case 2: {
      const b = buf[p]!;
      if (b < 0x80) return p + 1 + b;
      const len = varint(buf, p);
      return at + len;
    }
    default:
      return p + 4;
  }
}

/** The generated Span's defaults, which a field absent from the bytes reads as. */
const DEFAULTS = SpanType.ctor.prototype as unknown as Span;

/**
 * What readers read from a span's bytes, in one object per span made on the first read and let go
 * of at once (`forgetReads`): the scalar fields, every one set up front (the generated Span's
 * defaults), so all have one shape with the fields in the object itself; the hex ids, the attribute
 * table and a reader's derived value. Kept out of the span itself, whose fields a span waiting in a
 * batch carries into the old generation: the span is 3 fields (24 B) smaller for it. Ids and times are kept as where they
 * are in the bytes: the pipeline's readers take them from there (span-view.ts `locateId`,
 * `startMicros`), and the Buffer or Long the Span API gives is made only when a reader asks for it
 * (a Buffer per id and a Long per time were most of what reading a span allocated).
 */
class SpanReads implements AttributeTable {
  /** The scalar fields below have been read from the bytes (`readScalars`); until then they hold the defaults. */
  scanned = false;
  /** What a reader derived from the bytes (span-view.ts `keepDerived`); NOT_KEPT until one is kept. */
  derived: unknown = NOT_KEPT;
  /** How many appended attributes `derived` is known to hold for (span-view.ts `keptDerived`). */
  derivedFor = 0;
  /** The ids as hex (span-view.ts `spanIds`), computed once for the pipeline. */
  hexIds: SpanIds | undefined = undefined;
  /**
   * The received attributes' keys and where their values are (this object is the span's
   * AttributeTable, one allocation fewer per span), from the first `receivedAttributes`: the
   * canonical view, provenance's content and baseline's first user message each go through them,
   * and one walk through the bytes serves all three.
   */
  tabled = false;
  keys: readonly string[] = NO_KEYS;
  shape: KeyShape | undefined = undefined;
  bounds: Int32Array = NO_BOUNDS;
  boundsAt = 0;
  /** Where each id's bytes are in `buf` (-1: absent), and how many. */
  traceIdAt = -1;
  traceIdLength = 0;
  spanIdAt = -1;
  spanIdLength = 0;
  parentSpanIdAt = -1;
  parentSpanIdLength = 0;
  /** Where each time's 8 bytes (fixed64) are in `buf` (-1: absent). */
  startAt = -1;
  endAt = -1;
  traceState: string | undefined = DEFAULTS.traceState;
  flags: number | undefined = DEFAULTS.flags;
  name: string = DEFAULTS.name;
  kind: number | undefined = DEFAULTS.kind;
  droppedAttributesCount: number | undefined = DEFAULTS.droppedAttributesCount;
  droppedEventsCount: number | undefined = DEFAULTS.droppedEventsCount;
  droppedLinksCount: number | undefined = DEFAULTS.droppedLinksCount;
  /** The Span API's values of the ids and times, made on first use. */
  private traceIdValue: Uint8Array | undefined = undefined;
  private spanIdValue: Uint8Array | undefined = undefined;
  private parentSpanIdValue: Uint8Array | undefined = undefined;
  private startValue: Long | undefined = undefined;
  private endValue: Long | undefined = undefined;

  constructor(readonly buf: Buffer) {}

  get traceId(): Uint8Array {
    return (this.traceIdValue ??= this.id(this.traceIdAt, this.traceIdLength, DEFAULTS.traceId));
  }

  get spanId(): Uint8Array {
    return (this.spanIdValue ??= this.id(this.spanIdAt, this.spanIdLength, DEFAULTS.spanId));
  }

  get parentSpanId(): Uint8Array | undefined {
    return (this.parentSpanIdValue ??= this.id(this.parentSpanIdAt, this.parentSpanIdLength, DEFAULTS.parentSpanId!));
  }

  get startTimeUnixNano(): Long {
    return (this.startValue ??= this.time(this.startAt, DEFAULTS.startTimeUnixNano as Long));
  }

  get endTimeUnixNano(): Long {
    return (this.endValue ??= this.time(this.endAt, DEFAULTS.endTimeUnixNano as Long));
  }

  private id(at: number, length: number, absent: Uint8Array): Uint8Array {
    return at < 0 ? absent : length === 0 ? Buffer.alloc(0) : this.buf.subarray(at, at + length);
  }

  private time(at: number, absent: Long): Long {
    return at < 0 ? absent : new Long(fixed32(this.buf, at) | 0, fixed32(this.buf, at + 4) | 0, true);
  }
}

/** Microseconds of the fixed64 nanoseconds at `at` (-1: absent, 0), as `int64ToMicros` gives them. */
function microsAt(buf: Buffer, at: number): number {
  if (at < 0) return 0;
  const lo = fixed32(buf, at);
  const hi = fixed32(buf, at + 4);
  if (hi < 0x40000000) return wordsToMicros(hi, lo);
  return int64ToMicros(new Long(lo | 0, hi | 0, true));
}

/** Where an id is: `buf[at, at + length)`; length 0: the span has none. */
export interface IdLocation {
  buf: Uint8Array;
  at: number;
  length: number;
}

export type IdField = 'traceId' | 'spanId' | 'parentSpanId';

const NO_BYTES = new Uint8Array(0);
/** WireSpan's `bits` above wire-check.ts's two. */
const RECORD_SHIFT = 2;

/**
 * A received span kept as its bytes (checked by wire-check.ts) inside the request buffer. It reads
 * and writes like a decoded `Span`, with the same values the eager decoder gives:
 * - ids, times, name, kind, trace state, flags and dropped counts are read from the bytes (once);
 * - reading attributes, events, links or status, or writing any field, decodes the span with
 *   protobufjs, and from then on it is that decoded span (`message`);
 * - `appendAttributes` adds attributes without decoding; they follow the received ones.
 * A span that was never decoded goes to the exporter as its bytes (unknown fields included) plus
 * the appended attributes, encoded as more entries of the repeated field.
 */
export class WireSpan extends WireBacked<Span> {
  /** What was read from the bytes (SpanReads), made on the first read; dropped when the span is decoded. */
  private reads: SpanReads | undefined = undefined;
  /** Attributes added while the span is still bytes (a frozen list shared with other spans, or its own). */
  declare appended: KeyValue[] | undefined;
  /** wire-check.ts bits (RESERVED_KEY when an attribute key uses the reserved prefix); above them, where in `records` the span's record is, plus one (0: none). */
  private readonly bits: number;
  constructor(
    buf: Buffer,
    start: number,
    end: number,
    bits: number,
    /**
     * The chunk of the arrival check's attribute records (wire-check.ts `AttributeRecords`) holding
     * the span's, at `recordAt`: the attribute table is built from it without walking the bytes again.
     */
    public records: Int32Array | undefined = undefined,
    recordAt = -1,
  ) {
    super(buf, start, end);
    this.bits = bits | ((recordAt + 1) << RECORD_SHIFT);
  }

  /** True while the span is its received bytes and one of its attribute keys is reserved. */
  get reservedKey(): boolean {
    return (this.bits & RESERVED_KEY) !== 0;
  }

  decode(): Span {
    if (this.message) return this.message;
    const m = SpanType.decode(new InterningReader(this.buf.subarray(this.start, this.end))) as unknown as Span;
    if (this.appended) {
      m.attributes = [...(m.attributes ?? []), ...this.appended];
      this.appended = undefined;
    }
    this.forgetReads();
    this.records = undefined; // the chunk is not kept for a span that no longer reads its bytes
    return (this.message = m);
  }

  /**
   * Forgets what was read from the bytes (scalars, attribute table, hex ids, a reader's derived
   * value); a later read makes them again. For a span that waits after the processors (in a batch,
   * ~200 ms): those reads are most of what it holds, and held that long they would survive the young
   * generation's collections and be copied into the old one, the default pipeline's largest GC cost.
   */
  forgetReads(): void {
    this.reads = undefined;
  }

  /**
   * What a reader derived from the bytes (`keepDerived`), if every attribute appended since it was
   * kept has a key outside `dependsOn`; NOT_KEPT if none was kept, the span was decoded or its reads
   * forgotten, or one of those keys was appended. Each appended attribute is checked once: the next
   * call looks only at what is appended after.
   */
  keptDerived(dependsOn: DependsOn): unknown {
    const r = this.reads;
    if (r === undefined || r.derived === NOT_KEPT) return NOT_KEPT;
    const appended = this.appended;
    const n = appended === undefined ? 0 : appended.length;
    if (r.derivedFor !== n) {
      if (dependsOn.touches(appended!, r.derivedFor)) return NOT_KEPT;
      r.derivedFor = n;
    }
    return r.derived;
  }

  /** Keeps what a reader derived from the bytes as they are now, appended attributes included (`keptDerived`). */
  keepDerived(value: unknown): void {
    const r = (this.reads ??= new SpanReads(this.buf));
    r.derived = value;
    r.derivedFor = this.appended === undefined ? 0 : this.appended.length;
  }

  /** The ids as hex (span-view.ts `spanIds`), computed once for the pipeline. */
  hexIds(): SpanIds {
    const r = (this.reads ??= new SpanReads(this.buf));
    return (r.hexIds ??= this.idsFromBytes(r));
  }

  /** The scalar fields read from the bytes (once). */
  private scalars(): SpanReads {
    const r = (this.reads ??= new SpanReads(this.buf));
    if (!r.scanned) this.readScalars(r);
    return r;
  }

  /** The scalar fields: the decoded message's once there is one, else read from the bytes once. */
  scalar(): Partial<Span> {
    return this.message ?? this.scalars();
  }

  /** Where the id is in the request's bytes (span-view.ts `locateId`, for a span not decoded). */
  locateId(field: IdField, out: IdLocation): void {
    const s = this.scalars();
    const at = field === 'traceId' ? s.traceIdAt : field === 'spanId' ? s.spanIdAt : s.parentSpanIdAt;
    out.buf = at < 0 ? NO_BYTES : this.buf;
    out.at = at < 0 ? 0 : at;
    out.length = at < 0 ? 0 : field === 'traceId' ? s.traceIdLength : field === 'spanId' ? s.spanIdLength : s.parentSpanIdLength;
  }

  /** The start (or end) time in microseconds, as `int64ToMicros` gives it, without a Long while the span is bytes. */
  micros(end: boolean): number {
    if (this.message) return int64ToMicros(end ? this.message.endTimeUnixNano : this.message.startTimeUnixNano);
    const s = this.scalars();
    return microsAt(this.buf, end ? s.endAt : s.startAt);
  }

  /**
   * As protobufjs's generated Span decoder reads each scalar field (wire-check.ts has checked the
   * wire types), by hand: one-byte varints and lengths (every id, kind and count in practice) and
   * fixed-width values read in place, anything longer through protobufjs's reader at that byte.
   */
  private readScalars(s: SpanReads): void {
    s.scanned = true;
    const buf = this.buf;
    const end = this.end;
    let p = this.start;
    while (p < end) {
      const t = tag(buf, p);
      p = at;
      switch (t) {
        case 0x0a: // 1 traceId
        case 0x12: // 2 spanId
        case 0x22: // 4 parentSpanId
        case 0x1a: // 3 traceState
        case 0x2a: { // 5 name
          const len = uint32(buf, p, end);
          p = at;
          const next = p + len;
          if (t === 0x1a || t === 0x2a) {
            const v = internedString(buf, p, next);
            if (t === 0x1a) s.traceState = v;
            else s.name = v;
          } else if (t === 0x0a) {
            s.traceIdAt = p;
            s.traceIdLength = len;
          } else if (t === 0x12) {
            s.spanIdAt = p;
            s.spanIdLength = len;
          } else {
            s.parentSpanIdAt = p;
            s.parentSpanIdLength = len;
          }
          p = next;
          break;
        }
        case 0x30: // 6 kind
        case 0x50: // 10 droppedAttributesCount
        case 0x60: // 12 droppedEventsCount
        case 0x70: { // 14 droppedLinksCount
          const v = uint32(buf, p, end);
          p = at;
          if (t === 0x30) s.kind = v | 0;
          else if (t === 0x50) s.droppedAttributesCount = v >>> 0;
          else if (t === 0x60) s.droppedEventsCount = v >>> 0;
          else s.droppedLinksCount = v >>> 0;
          break;
        }
        case 0x39: // 7 startTimeUnixNano
        case 0x41: // 8 endTimeUnixNano
          if (t === 0x39) s.startAt = p;
          else s.endAt = p;
          p += 8;
          break;
        case 0x85: // 16 flags, a two-byte tag read above
          s.flags = fixed32(buf, p);
          p += 4;
          break;
        default:
          p = fieldEnd(buf, p, t);
      }
    }
  }

  /**
   * The trace, span and parent span id as lower-case hex, straight from the bytes (no Buffer per
   * id); the last occurrence of a field wins, as protobufjs reads it.
   */
  private idsFromBytes(read: SpanReads): SpanIds {
    // Scalars read already (correlate reads the ids as Buffers first): their bytes, without another walk.
    const buf = this.buf;
    if (read.scanned) return { traceId: hexAt(buf, read.traceIdAt, read.traceIdLength), spanId: hexAt(buf, read.spanIdAt, read.spanIdLength), parentSpanId: hexAt(buf, read.parentSpanIdAt, read.parentSpanIdLength) };
    const end = this.end;
    let traceId = '';
    let spanId = '';
    let parentSpanId = '';
    let p = this.start;
    while (p < end) {
      const t = tag(buf, p);
      p = at;
      if (t === 0x0a || t === 0x12 || t === 0x22) {
        const len = varint(buf, p);
        p = at;
        const hex = hexAt(buf, p, len);
        p += len;
        if (t === 0x0a) traceId = hex;
        else if (t === 0x12) spanId = hex;
        else parentSpanId = hex;
      } else p = fieldEnd(buf, p, t);
    }
    return { traceId, spanId, parentSpanId };
  }

  /**
   * Adds attributes after the received ones; while the span is bytes, without decoding it. A frozen
   * list (normalize's, shared by every span it tags) is kept as it is while it is all that was
   * appended: the encoders write its bytes once (encoder.ts, json-writer.ts).
   */
  appendAttributes(list: readonly KeyValue[]): void {
    if (this.message) (this.message.attributes ??= []).push(...list);
    else if (this.appended === undefined) this.appended = Object.isFrozen(list) ? (list as KeyValue[]) : [...list];
    else if (Object.isFrozen(this.appended)) this.appended = [...this.appended, ...list];
    else this.appended.push(...list);
  }

  /**
   * Calls `visit` with each attribute key and a function decoding its value, in order (the
   * received ones, then the appended ones), without decoding the span; stops when `visit` returns true.
   * The table is made once (`attributeTable`); later calls go through it.
   */
  eachAttribute(visit: (key: string, value: () => AnyValue | null | undefined) => boolean | void): void {
    if (this.message) {
      for (const kv of this.message.attributes ?? []) if (visit(kv.key, () => kv.value)) return;
      return;
    }
    const { keys, bounds, boundsAt } = this.receivedAttributes()!;
    const buf = this.buf;
    let at = 0;
    const value = () => {
      const start = bounds[at]!;
      return start < 0 ? null : (AnyValueType.decode(readerAt(buf, start, bounds[at + 1]!), bounds[at + 1]! - start) as unknown as AnyValue);
    };
    for (let i = 0; i < keys.length; i++) {
      at = boundsAt + RECORD_INTS * i + 2;
      if (visit(keys[i]!, value)) return;
    }
    for (const kv of this.appended ?? []) if (visit(kv.key, () => kv.value)) return;
  }

  /**
   * While the span is bytes, its received attributes' keys and value bounds in `buf` (made once,
   * then kept); undefined once it is decoded. For the view layer's readers (attribute-slots.ts).
   */
  receivedAttributes(): AttributeTable | undefined {
    if (this.message) return undefined;
    const r = (this.reads ??= new SpanReads(this.buf));
    if (!r.tabled) this.attributeTable(r);
    return r;
  }

  /**
   * Every received attribute's key and value bounds, from the arrival check's record (or one walk
   * through the bytes when there is none); the keys are found through the shared key lists
   * (key-shapes.ts), so a list seen before makes no string.
   */
  private attributeTable(r: SpanReads): void {
    const records = this.records;
    const recordAt = (this.bits >>> RECORD_SHIFT) - 1;
    if (records !== undefined && recordAt >= 0) this.tableFromRecord(r, records, recordAt);
    else this.tableFromBytes(r);
    r.tabled = true;
  }

  /**
   * The table from the arrival check's record (wire-check.ts): the keys' list by the number the check
   * recorded (it compared the bytes), else found by their bytes; the bounds are the record's.
   */
  private tableFromRecord(r: SpanReads, records: Int32Array, recordAt: number): void {
    const buf = this.buf;
    const n = records[recordAt]!;
    const id = records[recordAt + 1]!;
    const at = recordAt + RECORD_HEAD;
    const shape = (id >= 0 ? listById(id) : undefined) ?? listAt(buf, records, at, n, RECORD_INTS);
    if (shape) r.keys = shape.keys;
    else {
      // Longer than key-shapes keeps: the span's own list.
      const own = new Array<string>(n);
      for (let k = 0, q = at; k < n; k++, q += RECORD_INTS) own[k] = internedString(buf, records[q]!, records[q + 1]!);
      r.keys = own;
    }
    r.shape = shape;
    r.bounds = records;
    r.boundsAt = at;
  }

  /** The table walked from the bytes (a span the arrival check did not record). */
  private tableFromBytes(r: SpanReads): void {
    const buf = this.buf;
    const end = this.end;
    const bounds = scratch;
    let n = 0;
    let shape: KeyShape | undefined = EMPTY_SHAPE;
    let own: string[] | undefined; // the keys past MAX_DEPTH: kept per span
    let p = this.start;
    while (p < end) {
      const t = tag(buf, p);
      p = at;
      if (t !== 0x4a /* field 9 (attributes), length-delimited */) {
        p = fieldEnd(buf, p, t);
        continue;
      }
      const kvLen = varint(buf, p);
      p = at;
      const kvEnd = p + kvLen;
      // As protobufjs reads a KeyValue: the last key and the last value given win.
      let keyAt = p;
      let keyEnd = p;
      let valueAt = -1; // -1: the KeyValue has no value (protobufjs: null)
      let valueEnd = -1;
      while (p < kvEnd) {
        // A tag is one byte but for a sender that writes it in more (protobufjs reads 0x8a 0x00 as field 1 too).
        let f = buf[p]!;
        let q = p + 1;
        if (f >= 0x80) {
          f = tag(buf, p);
          q = at;
        }
        if (f !== 0x0a && f !== 0x12) {
          p = fieldEnd(buf, q, f);
          continue;
        }
        const len = varint(buf, q);
        p = at;
        if (f === 0x0a) {
          keyAt = p;
          keyEnd = p += len;
        } else {
          valueAt = p;
          valueEnd = p += len;
        }
      }
      if (shape) {
        const next: KeyShape | undefined = shape.step(buf, keyAt, keyEnd);
        if (!next) own = [...shape.keys];
        shape = next;
      }
      if (own) own.push(internedString(buf, keyAt, keyEnd));
      bounds[n++] = keyAt;
      bounds[n++] = keyEnd;
      bounds[n++] = valueAt;
      bounds[n++] = valueEnd;
    }
    r.keys = shape ? shape.keys : own!;
    r.shape = shape;
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = bounds[i]!;
    r.bounds = out;
    r.boundsAt = 0;
  }

  /** JSON.stringify sees the decoded span, as it would have before. */
  toJSON(): unknown {
    return (this.decode() as unknown as protobuf.Message).toJSON();
  }
}

// Declaration merging: a WireSpan is a Span through the accessors defined below.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface WireSpan extends Span {}

/**
 * One getter function per field, each naming its field (a closure over a shared `field` variable would
 * make every getter one function with a keyed, megamorphic load: ~0.7% of the default pipeline's busy time).
 */
const getter = (field: string, from: 'scalar' | 'decode') => new Function(`return function ${field}() { return this.${from}().${field}; }`)() as (this: WireSpan) => unknown;

for (const field of [...SCALAR_FIELDS, ...DECODING_FIELDS]) {
  const scalar = (SCALAR_FIELDS as readonly string[]).includes(field);
  Object.defineProperty(WireSpan.prototype, field, {
    get: getter(field, scalar ? 'scalar' : 'decode'),
    set(this: WireSpan, v: unknown) {
      (this.decode() as unknown as Record<string, unknown>)[field] = v;
    },
    enumerable: true,
    configurable: true,
  });
}
