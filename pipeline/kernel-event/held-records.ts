import Long from 'long';
import type { Int64, LogRecord } from '../otlp/types.js';
import type { KernelEventFacts } from './reader.js';
import { writeKernelEvent, writtenSource, type KernelRecordSource } from './writer.js';

type Source = KernelEventFacts & KernelRecordSource;

/** Where a column of a differing source field lives. */
const INT = 0;
const FLOAT = 1;
const STRING = 2;

/** The own keys of sources of one class, shared by the runs that hold them (an array per run was ~230 B). */
const keysOf = new WeakMap<object, string[]>();

const isInt32 = (v: number) => (v | 0) === v && !Object.is(v, -0);

/**
 * The log records of kernel events held together (correlate's runs of opens), without an object per
 * record. A kept record (~390 B of JS objects: the record, its time, its source) survives the whole
 * window, so the young generation copied it and promoted it; here a run keeps its first record (the
 * template) and, per record, its time as two 32-bit words and only the source fields that differ from
 * the template's (an open's sequence number, kernel time, result, path...), as rows of one Int32Array,
 * one Float64Array (numbers that are not 32-bit integers) and one string array (strings the receiver
 * already shares). `recordAt` makes a record again with `writeKernelEvent`, as the receiver made it.
 *
 * Only a record `writeKernelEvent` made and nobody has read the body or attributes of is held this way
 * (`writtenSource`), and only when its source is a plain instance of its class: own data fields (no
 * `#private` ones, no accessor of its class by the same name) that are numbers, strings, or values it
 * shares with the template (the receiver's DecodedEvent). Any other record is kept as it is, and so is
 * every record of a run whose first record is one (`add` says when a record cannot join).
 */
export class HeldRecords {
  private n = 0;
  private cap: number;
  /** Per record: time (low, high word), then the INT columns. */
  private ints: Int32Array;
  private floats: Float64Array | null = null;
  private strs: string[] | null = null;
  /** Per differing key: its index in `keys`, its place (INT, FLOAT, STRING) and its offset in that row. */
  private colKey: number[] = [];
  private colType: number[] = [];
  private colOff: number[] = [];
  private intWidth = 2;
  private floatWidth = 0;
  private strWidth = 0;
  /** The template's source's values in `keys` order, while records are added. */
  private values: unknown[] | null = null;

  private constructor(
    /** The first record, returned as it is for the first index (unless this is a later part of a run). */
    private readonly template: LogRecord,
    /** The template's source; null: every record is kept in `kept`. */
    private readonly source: Source | null,
    private readonly proto: object | null,
    private readonly keys: readonly string[],
    private readonly kept: LogRecord[] | null,
    private readonly firstIsTemplate: boolean,
    cap: number,
  ) {
    this.cap = cap;
    this.ints = new Int32Array(source === null ? 0 : cap * 2);
  }

  /** A run's records, starting with `first`; `compact` false keeps every record as it is. */
  static start(first: LogRecord, compact: boolean): HeldRecords {
    const source = compact ? writtenSource(first) : undefined;
    const time = first.timeUnixNano;
    if (source === undefined || !Long.isLong(time) || !time.unsigned) return new HeldRecords(first, null, null, [], [first], true, 0);
    const proto = Object.getPrototypeOf(source) as object;
    const own = Object.keys(source);
    const cached = keysOf.get(proto);
    const keys = cached !== undefined && cached.length === own.length && cached.every((k, i) => k === own[i]) ? cached : own;
    // A field a class accessor shadows could not be set back by assignment.
    if (keys.some((k) => k in proto)) return new HeldRecords(first, null, null, [], [first], true, 0);
    keysOf.set(proto, keys);
    const r = new HeldRecords(first, source, proto, keys, null, true, 8);
    r.values = Object.values(source);
    r.ints[0] = time.low;
    r.ints[1] = time.high;
    r.n = 1;
    return r;
  }

  get size(): number {
    return this.n;
  }

  /** Adds a record after the others; false when it cannot join this run's columns (nothing changed then). */
  add(record: LogRecord): boolean {
    if (this.kept !== null) {
      this.kept.push(record);
      this.n++;
      return true;
    }
    const s = writtenSource(record);
    const time = record.timeUnixNano;
    if (s === undefined || !Long.isLong(time) || !time.unsigned || record.observedTimeUnixNano !== this.template.observedTimeUnixNano || Object.getPrototypeOf(s) !== this.proto) return false;
    // The builtins read an object's own keys and values from its map (a keyed load per field was ~1 µs
    // per record); the same keys in the same order are the same fields.
    const keys = this.keys;
    const own = Object.keys(s);
    if (own.length !== keys.length) return false;
    for (let j = 0; j < keys.length; j++) if (own[j] !== keys[j]) return false;
    const vals = Object.values(s);
    const tpl = this.values!;
    for (let j = 0; j < vals.length; j++) {
      const v = vals[j];
      const t = tpl[j];
      if (v === t) continue;
      if (typeof v !== typeof t || (typeof v !== 'number' && typeof v !== 'string')) return false;
      const c = this.colKey.indexOf(j);
      if (c >= 0 && this.colType[c] === INT && !isInt32(v as number)) return false;
    }
    // Columns first (a new one fills the rows so far), then the row.
    for (let j = 0; j < vals.length; j++) if (vals[j] !== tpl[j] && this.colKey.indexOf(j) < 0) this.addColumn(j);
    if (this.n === this.cap) this.grow(this.cap * 2);
    const i = this.n;
    this.ints[i * this.intWidth] = time.low;
    this.ints[i * this.intWidth + 1] = time.high;
    for (let c = 0; c < this.colKey.length; c++) {
      const v = vals[this.colKey[c]!];
      const off = this.colOff[c]!;
      if (this.colType[c] === INT) this.ints[i * this.intWidth + off] = v as number;
      else if (this.colType[c] === FLOAT) this.floats![i * this.floatWidth + off] = v as number;
      else this.strs![i * this.strWidth + off] = v as string;
    }
    this.n++;
    return true;
  }

  /** The `i`-th record: the template itself, a kept record, or one made again from its row. */
  recordAt(i: number): LogRecord {
    if (this.kept !== null) return this.kept[i]!;
    if (i === 0 && this.firstIsTemplate) return this.template;
    const tpl = this.source as unknown as Record<string, unknown>;
    const src = Object.create(this.proto) as Record<string, unknown>;
    for (let j = 0; j < this.keys.length; j++) src[this.keys[j]!] = tpl[this.keys[j]!];
    for (let c = 0; c < this.colKey.length; c++) src[this.keys[this.colKey[c]!]!] = this.valueAt(c, i);
    const source = src as unknown as Source;
    return writeKernelEvent(source.kind, this.timeAt(i)!, this.template.observedTimeUnixNano!, source);
  }

  /** The `i`-th record's time (`recordAt(i).timeUnixNano`, without making the record). */
  timeAt(i: number): Int64 | undefined {
    if (this.kept !== null) return this.kept[i]!.timeUnixNano;
    if (i === 0 && this.firstIsTemplate) return this.template.timeUnixNano;
    return Long.fromBits(this.ints[i * this.intWidth]!, this.ints[i * this.intWidth + 1]!, true);
  }

  /** Records `from` to `to` (exclusive) as records of their own. */
  slice(from: number, to: number): HeldRecords {
    const r = new HeldRecords(this.template, this.source, this.proto, this.keys, this.kept && this.kept.slice(from, to), this.firstIsTemplate && from === 0, 0);
    r.n = to - from;
    r.cap = r.n;
    if (this.kept !== null) return r;
    r.colKey = this.colKey;
    r.colType = this.colType;
    r.colOff = this.colOff;
    r.intWidth = this.intWidth;
    r.floatWidth = this.floatWidth;
    r.strWidth = this.strWidth;
    r.ints = this.ints.slice(from * this.intWidth, to * this.intWidth);
    r.floats = this.floats && this.floats.slice(from * this.floatWidth, to * this.floatWidth);
    r.strs = this.strs && this.strs.slice(from * this.strWidth, to * this.strWidth);
    return r;
  }

  /** These records with no room to spare, once no more are added. */
  trimmed(): HeldRecords {
    if (this.kept !== null) return this;
    if (this.n !== this.cap) return this.slice(0, this.n);
    this.values = null;
    return this;
  }

  private valueAt(c: number, i: number): number | string {
    const off = this.colOff[c]!;
    if (this.colType[c] === INT) return this.ints[i * this.intWidth + off]!;
    if (this.colType[c] === FLOAT) return this.floats![i * this.floatWidth + off]!;
    return this.strs![i * this.strWidth + off]!;
  }

  /** A column for key `j`, every record so far holding the template's value. */
  private addColumn(j: number): void {
    const t = (this.source as unknown as Record<string, unknown>)[this.keys[j]!];
    const type = typeof t === 'string' ? STRING : isInt32(t as number) ? INT : FLOAT;
    // Columns are fixed once the run is held: slices share these lists, so they are copied, not changed.
    this.colKey = [...this.colKey, j];
    this.colType = [...this.colType, type];
    if (type === INT) {
      this.colOff = [...this.colOff, this.intWidth];
      this.ints = widen(this.ints, this.intWidth, this.cap, this.n, t as number);
      this.intWidth++;
    } else if (type === FLOAT) {
      this.colOff = [...this.colOff, this.floatWidth];
      this.floats = widen(this.floats ?? new Float64Array(0), this.floatWidth, this.cap, this.n, t as number);
      this.floatWidth++;
    } else {
      this.colOff = [...this.colOff, this.strWidth];
      const w = this.strWidth;
      const old = this.strs ?? [];
      const next: string[] = [];
      for (let i = 0; i < this.n; i++) {
        for (let k = 0; k < w; k++) next.push(old[i * w + k]!);
        next.push(t as string);
      }
      this.strs = next;
      this.strWidth++;
    }
  }

  private grow(cap: number): void {
    const ints = new Int32Array(cap * this.intWidth);
    ints.set(this.ints);
    this.ints = ints;
    if (this.floats !== null) {
      const floats = new Float64Array(cap * this.floatWidth);
      floats.set(this.floats);
      this.floats = floats;
    }
    this.cap = cap;
  }
}

/** Rows of `width` numbers made one wider, the new last number of the first `n` rows `fill`. */
function widen<A extends Int32Array | Float64Array>(rows: A, width: number, cap: number, n: number, fill: number): A {
  const next = new (rows.constructor as new (length: number) => A)(cap * (width + 1));
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < width; k++) next[i * (width + 1) + k] = rows[i * width + k]!;
    next[i * (width + 1) + width] = fill;
  }
  return next;
}
