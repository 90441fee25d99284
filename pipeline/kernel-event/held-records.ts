import Long from 'long';
import type { Int64, LogRecord } from '../otlp/types.js';
import type { KernelEventFacts } from './reader.js';
import { writeKernelEvent, writtenSource, type KernelRecordSource } from './writer.js';

type Source = KernelEventFacts & KernelRecordSource;

/** Where a column of a differing source field lives. */
const INT = 0;
const FLOAT = 1;
const STRING = 2;

/** How the sources of one class (prototype) are read: shared by the runs that hold them. */
interface SourceShape {
  proto: object;
  /** Their own keys, in order. */
  keys: string[];
  /** Copies a source's fields into `out` in `keys` order. */
  read: (source: object, out: unknown[]) => void;
  /** `read`'s output for the record being added (one array per class, not per record). */
  scratch: unknown[];
}

const shapes = new WeakMap<object, SourceShape>();

/**
 * A reader of the fields named `keys`, one property load per field written out: a load through a
 * variable key is a megamorphic lookup (~40 ns a field, ~1 µs a record), `Object.values` ~250 ns a
 * record; loads by name are inline-cached, ~30 ns a record. The names are quoted with JSON.stringify, so
 * they cannot be anything but property names in the code made.
 */
function readerOf(keys: readonly string[]): (source: object, out: unknown[]) => void {
  const body = keys.map((k, j) => `out[${j}] = s[${JSON.stringify(k)}];`).join('\n');
  return new Function('s', 'out', body) as (source: object, out: unknown[]) => void;
}

const isInt32 = (v: number) => (v | 0) === v && !Object.is(v, -0);
/** Whether a field that differs from the template's can be held in a column: numbers and strings. */
const columnable = (v: unknown, t: unknown) => typeof v === typeof t && (typeof v === 'number' || typeof v === 'string');
/** Whether a column of `type` holds `v` exactly. */
const fits = (type: number, v: unknown) => (type === STRING ? typeof v === 'string' : typeof v === 'number' && (type === FLOAT || isInt32(v)));

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
  /** While records are added: the template's source's values in `keys` order, and each key's column (-1: none). */
  private values: unknown[] | null = null;
  private colOf: Int16Array | null = null;

  private constructor(
    /** The first record, returned as it is for the first index (unless this is a later part of a run). */
    private readonly template: LogRecord,
    /** The template's source; null: every record is kept in `kept`. */
    private readonly source: Source | null,
    /** How the template's source and the rows' are read and made again; null with `kept`. */
    private readonly shape: SourceShape | null,
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
    if (source === undefined || !Long.isLong(time) || !time.unsigned) return new HeldRecords(first, null, null, [first], true, 0);
    const proto = Object.getPrototypeOf(source) as object;
    const own = Object.keys(source);
    let shape = shapes.get(proto);
    if (shape === undefined || shape.keys.length !== own.length || !shape.keys.every((k, i) => k === own[i])) {
      // A field a class accessor shadows could not be set back by assignment.
      if (own.some((k) => k in proto)) return new HeldRecords(first, null, null, [first], true, 0);
      shape = { proto, keys: own, read: readerOf(own), scratch: new Array<unknown>(own.length) };
      shapes.set(proto, shape);
    }
    const r = new HeldRecords(first, source, shape, null, true, 8);
    r.values = new Array<unknown>(own.length);
    shape.read(source, r.values);
    r.colOf = new Int16Array(own.length).fill(-1);
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
    const shape = this.shape!;
    if (s === undefined || !Long.isLong(time) || !time.unsigned || record.observedTimeUnixNano !== this.template.observedTimeUnixNano || Object.getPrototypeOf(s) !== shape.proto) return false;
    // The same own keys in the same order: the fields `read` reads are all it has.
    const keys = shape.keys;
    const own = Object.keys(s);
    if (own.length !== keys.length) return false;
    for (let j = 0; j < keys.length; j++) if (own[j] !== keys[j]) return false;
    const vals = shape.scratch;
    shape.read(s, vals);
    const tpl = this.values!;
    const colOf = this.colOf!;
    for (let j = 0; j < vals.length; j++) {
      const c = colOf[j]!;
      // A field with a column takes any value its column holds; one without, the template's or a new column.
      if (c >= 0 ? !fits(this.colType[c]!, vals[j]) : vals[j] !== tpl[j] && !columnable(vals[j], tpl[j])) return false;
    }
    // Columns first (a new one fills the rows so far), then the row.
    for (let j = 0; j < vals.length; j++) if (colOf[j]! < 0 && vals[j] !== tpl[j]) this.addColumn(j);
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
    const { proto, keys } = this.shape!;
    const src = Object.create(proto) as Record<string, unknown>;
    for (let j = 0; j < keys.length; j++) src[keys[j]!] = tpl[keys[j]!];
    for (let c = 0; c < this.colKey.length; c++) src[keys[this.colKey[c]!]!] = this.valueAt(c, i);
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
    const r = new HeldRecords(this.template, this.source, this.shape, this.kept && this.kept.slice(from, to), this.firstIsTemplate && from === 0, 0);
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
    this.colOf = null;
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
    const t = this.values![j];
    const type = typeof t === 'string' ? STRING : isInt32(t as number) ? INT : FLOAT;
    this.colOf![j] = this.colKey.length;
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
