import { viewOf } from './buffer-view.js';
import { type KeyShape, readerSlot } from './key-shapes.js';
import { internedString } from './reader.js';
import type { AnyValue, Span } from './types.js';
import { RECORD_INTS } from './wire-check.js';
import { WireSpan } from './wire-span.js';

/** `at` codes besides a value's offset in the request buffer. */
const ABSENT = -1;
/** The KeyValue has no value (protobufjs: `value` null). */
const NO_VALUE = -2;
/** The value is an object (a decoded span's, or an appended attribute): `objects[i]`. */
const OBJECT = -3;

/** Strings each slot remembers (`recall`), and the longest remembered, in bytes (a multiple of 4). */
const RECALL = 4;
const RECALL_BYTES = 64;

/** AnyValue tags (field << 3 | wire type) read here; wire-check.ts checked every known field's wire type. */
const STRING_VALUE = 0x0a;
const INT_VALUE = 0x18;
const DOUBLE_VALUE = 0x21;

/**
 * A reader's fixed set of attribute keys, one slot each. `read(span)` finds where each key's value
 * is (first occurrence wins, as `findAttr`) in one pass over the span's attributes; `string(i)`,
 * `int(i)` and `double(i)` then read just that value's field, from the request bytes for a received
 * span (no AnyValue or Long made), with the values protobufjs's decoded AnyValue would have.
 * One instance per reader, reused for every span: nothing is allocated per span but the strings
 * asked for (short ones interned). Not re-entrant: a `read` replaces what the last one found.
 */
export class AttributeSlots {
  readonly slotOf: ReadonlyMap<string, number>;
  /** Where this reader keeps, on a shared key list, the slot of each of its keys (`slotsOf`). */
  private readonly id = readerSlot();
  /**
   * 1 where the last `read` found a value (`has`), else 0: a caller testing many keys reads it
   * inline, without a call per absent key.
   */
  readonly present: Uint8Array;
  private readonly at: Int32Array;
  private readonly end: Int32Array;
  private readonly objects: (AnyValue | undefined)[];
  /** The slots the last `read` set (each once), to reset at the next. */
  private readonly filled: Int16Array;
  private filledCount = 0;
  /** Each slot's string once `string` has made it in this `read` (a view asks for some keys twice). */
  private readonly strings: (string | undefined)[];
  /**
   * The last RECALL strings made for each slot and their bytes (`recall`): slot i's at
   * [RECALL i, RECALL i + RECALL), RECALL_BYTES bytes each in `recallBytes` (read as words too).
   */
  private readonly recallStrings: (string | undefined)[];
  private readonly recallLengths: Int32Array;
  private readonly recallBytes: Uint8Array;
  private readonly recallWords: Int32Array;
  /** Each slot's entry to replace next (round robin). */
  private readonly recallNext: Uint8Array;
  private buf: Buffer = Buffer.alloc(0);
  /** The slot `parse` last read, and what it found there. */
  private parsed = -1;
  private stringAt = -1;
  private stringEnd = -1;
  private intAt = -1;
  private doubleAt = -1;

  constructor(keys: readonly string[]) {
    this.slotOf = new Map(keys.map((k, i) => [k, i]));
    this.present = new Uint8Array(keys.length);
    this.at = new Int32Array(keys.length).fill(ABSENT);
    this.end = new Int32Array(keys.length);
    this.objects = new Array<AnyValue | undefined>(keys.length).fill(undefined);
    this.filled = new Int16Array(keys.length);
    this.strings = new Array<string | undefined>(keys.length).fill(undefined);
    this.recallStrings = new Array<string | undefined>(RECALL * keys.length).fill(undefined);
    this.recallLengths = new Int32Array(RECALL * keys.length).fill(-1);
    this.recallBytes = new Uint8Array(RECALL * RECALL_BYTES * keys.length);
    this.recallWords = new Int32Array(this.recallBytes.buffer);
    this.recallNext = new Uint8Array(keys.length);
  }

  /** Finds the slots' values in `span`: its received attributes in the bytes, then any objects (decoded or appended). */
  read(span: Span): void {
    const { at, end, slotOf, filled, strings, objects, present } = this;
    // Only the slots the last read set are reset (a view reads ~60 keys, a span has ~10); objects and strings let go.
    for (let j = 0; j < this.filledCount; j++) {
      const i = filled[j]!;
      at[i] = ABSENT;
      present[i] = 0;
      strings[i] = undefined;
      objects[i] = undefined;
    }
    this.filledCount = 0;
    this.parsed = -1;
    const wire = span instanceof WireSpan ? span : undefined;
    const table = wire?.receivedAttributes();
    if (table) {
      this.buf = wire!.buf;
      const { keys, bounds, shape } = table;
      // Key k's value bounds: bounds[values + RECORD_INTS * k], and the int after.
      const values = table.boundsAt + 2;
      if (shape) {
        // The list's plan: each slot's first key, worked out once per list.
        const plan = (shape.derived[this.id] as Int16Array | undefined) ?? this.planOf(shape);
        for (let j = 0; j < plan.length; j += 2) {
          const b = values + RECORD_INTS * plan[j]!;
          const i = plan[j + 1]!;
          const start = bounds[b]!;
          at[i] = start < 0 ? NO_VALUE : start;
          present[i] = start < 0 ? 0 : 1;
          end[i] = bounds[b + 1]!;
          filled[this.filledCount++] = i;
        }
      } else {
        for (let k = 0; k < keys.length; k++) {
          const i = slotOf.get(keys[k]!);
          if (i === undefined || at[i] !== ABSENT) continue;
          const b = values + RECORD_INTS * k;
          const start = bounds[b]!;
          at[i] = start < 0 ? NO_VALUE : start;
          present[i] = start < 0 ? 0 : 1;
          end[i] = bounds[b + 1]!;
          filled[this.filledCount++] = i;
        }
      }
    }
    const list = table ? wire!.appended : span.attributes;
    if (!list) return;
    for (let j = 0; j < list.length; j++) {
      const kv = list[j]!;
      const i = slotOf.get(kv.key);
      // An object without a value leaves the key to a later occurrence, as `findAttr` does; null is protobufjs's "no value".
      if (i === undefined || at[i] !== ABSENT || kv.value === undefined) continue;
      filled[this.filledCount++] = i;
      if (kv.value === null) {
        at[i] = NO_VALUE;
        continue;
      }
      at[i] = OBJECT;
      present[i] = 1;
      objects[i] = kv.value;
    }
  }

  /**
   * A shared key list's plan: for each slot whose key the list has, the pair (the key's index in
   * the list, the slot), the first occurrence only (`findAttr`'s); worked out once per list.
   */
  private planOf(shape: KeyShape): Int16Array {
    const keys = shape.keys;
    const pairs: number[] = [];
    const taken = new Set<number>();
    for (let k = 0; k < keys.length; k++) {
      const i = this.slotOf.get(keys[k]!);
      if (i === undefined || taken.has(i)) continue;
      taken.add(i);
      pairs.push(k, i);
    }
    return (shape.derived[this.id] = Int16Array.from(pairs));
  }

  /** The key has a value (an AnyValue, even an empty one): what `!!value` says of the decoded attribute. */
  has(i: number): boolean {
    return this.present[i] === 1;
  }

  /** The value's `stringValue` ('' included), undefined when it has none. */
  string(i: number): string | undefined {
    const at = this.at[i]!;
    if (at === OBJECT) return this.objects[i]!.stringValue ?? undefined;
    const known = this.strings[i];
    if (known !== undefined) return known;
    if (at < 0) return undefined;
    // Most values are a string and nothing else (its tag, a one-byte length, the bytes): no walk.
    const buf = this.buf;
    const end = this.end[i]!;
    if (buf[at] === STRING_VALUE && buf[at + 1]! < 128 && at + 2 + buf[at + 1]! === end) return (this.strings[i] = this.recall(i, at + 2, end));
    if (!this.parse(i) || this.stringAt < 0) return undefined;
    return (this.strings[i] = this.recall(i, this.stringAt, this.stringEnd));
  }

  /**
   * The string of `buf[start, end)`, slot `i`'s value: one of the slot's last strings when it has
   * these bytes (compared with them, no hash), else made through the string cache and remembered.
   * A key's values mostly recur (an operation, a model, a host): this skips the cache's hash and its
   * table's cold lines. Platform byte order (little-endian where node runs): on a big-endian host
   * the words never match and every value is made as before, still correct.
   */
  private recall(i: number, start: number, end: number): string {
    const n = end - start;
    const buf = this.buf;
    if (n > RECALL_BYTES) return internedString(buf, start, end);
    const lengths = this.recallLengths;
    const first = RECALL * i;
    for (let e = first; e < first + RECALL; e++) if (lengths[e] === n && this.holds(e, buf, start, n)) return this.recallStrings[e]!;
    const s = internedString(buf, start, end);
    const e = first + this.recallNext[i]!;
    this.recallNext[i] = (this.recallNext[i]! + 1) % RECALL;
    this.recallStrings[e] = s;
    lengths[e] = n;
    const bytes = this.recallBytes;
    for (let b = 0, at = RECALL_BYTES * e; b < n; b++) bytes[at + b] = buf[start + b]!;
    return s;
  }

  /** True if recall entry `e` holds the `n` bytes at `buf[start]`: four at a time, then the last 0-3. */
  private holds(e: number, buf: Buffer, start: number, n: number): boolean {
    const view = viewOf(buf);
    const words = this.recallWords;
    const w0 = (RECALL_BYTES >>> 2) * e;
    const whole = n >>> 2;
    for (let j = 0; j < whole; j++) if (view.getInt32(start + 4 * j, true) !== words[w0 + j]) return false;
    const bytes = this.recallBytes;
    for (let b = 4 * whole; b < n; b++) if (bytes[RECALL_BYTES * e + b] !== buf[start + b]) return false;
    return true;
  }

  /** The value's `intValue` as `int64ToNumber` gives it, undefined when it has none. */
  int(i: number): number | undefined {
    const at = this.at[i]!;
    if (at === OBJECT) {
      const v = this.objects[i]!.intValue;
      return v == null ? undefined : typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : v.toNumber();
    }
    if (at < 0) return undefined;
    const buf = this.buf;
    let p = -1;
    if (buf[at] === INT_VALUE) {
      // Most values are an int and nothing else (its tag, then the varint to the end): no walk.
      const end = this.end[i]!;
      let q = at + 1;
      while (q < end && buf[q]! >= 128) q++;
      if (q + 1 === end) p = at + 1;
    }
    if (p < 0) {
      if (!this.parse(i) || this.intAt < 0) return undefined;
      p = this.intAt;
    }
    // As protobufjs reads an int64 varint (its low and high 32 bits) and Long#toNumber makes it a number.
    let lo = 0;
    let hi = 0;
    let b = 0;
    for (let k = 0; k < 4; k++) {
      b = buf[p++]!;
      lo |= (b & 127) << (7 * k);
      if (b < 128) return lo >>> 0;
    }
    b = buf[p++]!;
    lo |= (b & 127) << 28;
    hi = (b & 127) >> 4;
    if (b >= 128) {
      for (let k = 0; k < 5; k++) {
        b = buf[p++]!;
        hi |= (b & 127) << (7 * k + 3);
        if (b < 128) break;
      }
    }
    return (hi | 0) * 4294967296 + (lo >>> 0);
  }

  /** The value's `doubleValue`, undefined when it has none. */
  double(i: number): number | undefined {
    const at = this.at[i]!;
    if (at === OBJECT) return this.objects[i]!.doubleValue ?? undefined;
    if (at < 0 || !this.parse(i) || this.doubleAt < 0) return undefined;
    return this.buf.readDoubleLE(this.doubleAt);
  }

  /**
   * Where slot `i`'s AnyValue (in the bytes) has its string, int and double fields; the last
   * occurrence of each wins, as protobufjs decodes it. Once per slot and `read`.
   */
  private parse(i: number): boolean {
    if (this.parsed === i) return true;
    this.parsed = i;
    this.stringAt = this.intAt = this.doubleAt = -1;
    const buf = this.buf;
    let p = this.at[i]!;
    const end = this.end[i]!;
    while (p < end) {
      let tag = buf[p++]!;
      if (tag >= 128) {
        // A field number past 15, none of ours: only its wire type (the first byte's low bits) matters.
        tag = 0x100 | (tag & 7);
        while (buf[p++]! >= 128);
      }
      switch (tag & 7) {
        case 0: {
          if (tag === INT_VALUE) this.intAt = p;
          while (buf[p++]! >= 128);
          break;
        }
        case 1:
          if (tag === DOUBLE_VALUE) this.doubleAt = p;
          p += 8;
          break;
        case 2: {
          let len = 0;
          let shift = 0;
          let b: number;
          do {
            b = buf[p++]!;
            len += (b & 127) * 2 ** shift;
            shift += 7;
          } while (b >= 128);
          if (tag === STRING_VALUE) {
            this.stringAt = p;
            this.stringEnd = p + len;
          }
          p += len;
          break;
        }
        default: // 5: fixed32 (wire-check.ts refuses groups)
          p += 4;
      }
    }
    return true;
  }
}
