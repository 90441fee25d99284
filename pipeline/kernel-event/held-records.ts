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
  /** Their own keys, in order (at most 31: a bit each in `diff`'s answer). */
  keys: string[];
  /** Copies a source's fields into `out` in `keys` order; returns a bit per field that is not the template's (`===`). */
  diff: (source: object, template: object, out: unknown[]) => number;
  /** `diff`'s output for the record being added (one array per class, not per record). */
  scratch: unknown[];
  /** The layouts of runs of these sources, by the bits of their columns and of those that are FLOAT. */
  layouts: Map<number, Map<number, Layout>>;
}

const shapes = new WeakMap<object, SourceShape>();

/**
 * A differ over the fields named `keys`, one property load and comparison per field written out: each
 * site learns its field's type, so a number or string compares inline. Through a variable key a load is a
 * megamorphic lookup (~1 µs a record), `Object.values` and a generic loop ~250 ns; this ~30 ns. The names
 * are quoted with JSON.stringify, so they cannot be anything but property names in the code made.
 */
function differOf(keys: readonly string[]): SourceShape['diff'] {
  const body = keys.map((k, j) => `v = s[${JSON.stringify(k)}]; out[${j}] = v; if (v !== t[${JSON.stringify(k)}]) d |= ${2 ** j};`).join('\n');
  return new Function('s', 't', 'out', `let d = 0; let v;\n${body}\nreturn d;`) as SourceShape['diff'];
}

const isInt32 = (v: number) => (v | 0) === v && !Object.is(v, -0);
/**
 * How many enumerable keys `o` has (its class's methods and accessors are not). A `for in` over an object
 * of a known shape reads V8's enum cache and allocates nothing (`Object.keys` made an array per record).
 */
function ownKeys(o: object): number {
  let n = 0;
  for (const k in o) if (k !== undefined) n++;
  return n;
}

/** Whether a field that differs from the template's can be held in a column: numbers and strings. */
const columnable = (v: unknown, t: unknown) => typeof v === typeof t && (typeof v === 'number' || typeof v === 'string');

/**
 * Which fields of a run's sources differ from its template's, and where their columns are: shared by the
 * runs with the same ones (an object and three arrays per run were ~250 B).
 */
interface Layout {
  /** Per column, in key order: the key (index in `keys`), its type and its column among those of its type. */
  key: number[];
  type: number[];
  at: number[];
  /** Columns of each type (the time's two words are the first INT ones). */
  ints: number;
  floats: number;
  strs: number;
}

function layoutOf(shape: SourceShape, mask: number, floatMask: number, values: readonly unknown[]): Layout {
  let byFloats = shape.layouts.get(mask);
  if (byFloats === undefined) shape.layouts.set(mask, (byFloats = new Map()));
  let layout = byFloats.get(floatMask);
  if (layout === undefined) {
    layout = { key: [], type: [], at: [], ints: 2, floats: 0, strs: 0 };
    for (let j = 0; j < 31; j++) {
      if ((mask & (1 << j)) === 0) continue;
      const type = typeof values[j] === 'string' ? STRING : (floatMask & (1 << j)) !== 0 ? FLOAT : INT;
      layout.key.push(j);
      layout.type.push(type);
      layout.at.push(type === INT ? layout.ints++ : type === FLOAT ? layout.floats++ : layout.strs++);
    }
    byFloats.set(floatMask, layout);
  }
  return layout;
}

/**
 * Below this many 32-bit words a run's INT columns are a plain array of small integers (8 B a word, no
 * typed array and buffer objects of ~150 B); from it, an Int32Array (4 B a word).
 */
const TYPED_FROM = 40;

/**
 * The log records of kernel events held together (correlate's runs of opens), without an object per
 * record. A kept record (~380 B of JS objects: the record, its time, its source) survives the whole
 * window, so the young generation copied it and promoted it; here a run keeps its first record (the
 * template) and, per record, its time as two 32-bit words and only the source fields that differ from
 * the template's (an open's sequence number, kernel time, result, path...), column after column: 32-bit
 * integers (an Int32Array, or a plain array in a short run), other numbers (a Float64Array) and strings
 * (an array of the strings the receiver already shares). `recordAt` makes a record again with
 * `writeKernelEvent`, as the receiver made it.
 *
 * Only a record `writeKernelEvent` made and nobody has read the body or attributes of is held this way
 * (`writtenSource`), and only when its source is a plain instance of its class: own data fields (no
 * `#private` ones, no accessor of its class by the same name) that are numbers, strings, or values it
 * shares with the template (the receiver's DecodedEvent). Any other record is kept as it is, and so is
 * every record of a run whose first record is one (`HeldRecordsBuilder.add` says when a record cannot join).
 */
export class HeldRecords {
  constructor(
    /** The first record, returned as it is for the first index (unless this is a later part of a run). */
    private readonly template: LogRecord,
    private readonly firstIsTemplate: boolean,
    /** Every record as it is; or null, and the rest below. */
    private readonly kept: LogRecord[] | null,
    /** The template's source (its record may have made its attributes since). */
    private readonly source: Source | null,
    private readonly shape: SourceShape | null,
    private readonly layout: Layout | null,
    readonly size: number,
    /** Column after column, `size` rows each: the time's low and high words, then the INT columns. */
    private readonly ints: ArrayLike<number>,
    private readonly floats: Float64Array | null,
    private readonly strs: readonly string[] | null,
  ) {}

  /** A builder of a run's records, started with `first` (see `HeldRecordsBuilder.start`). */
  static start(first: LogRecord, compact: boolean): HeldRecordsBuilder {
    const b = new HeldRecordsBuilder();
    b.start(first, compact);
    return b;
  }

  /** The `i`-th record: the template itself, a kept record, or one made again from its columns. */
  recordAt(i: number): LogRecord {
    if (this.kept !== null) return this.kept[i]!;
    if (i === 0 && this.firstIsTemplate) return this.template;
    const { proto, keys } = this.shape!;
    const key = this.layout!.key;
    const tpl = this.source as unknown as Record<string, unknown>;
    const src = Object.create(proto) as Record<string, unknown>;
    for (const k of keys) src[k] = tpl[k];
    for (let c = 0; c < key.length; c++) src[keys[key[c]!]!] = this.valueAt(c, i);
    const source = src as unknown as Source;
    return writeKernelEvent(source.kind, this.timeAt(i)!, this.template.observedTimeUnixNano!, source);
  }

  /** The `i`-th record's time (`recordAt(i).timeUnixNano`, without making the record). */
  timeAt(i: number): Int64 | undefined {
    if (this.kept !== null) return this.kept[i]!.timeUnixNano;
    if (i === 0 && this.firstIsTemplate) return this.template.timeUnixNano;
    return Long.fromBits(this.ints[i]!, this.ints[this.size + i]!, true);
  }

  /** Records `from` to `to` (exclusive) as records of their own. */
  slice(from: number, to: number): HeldRecords {
    const first = this.firstIsTemplate && from === 0;
    const n = to - from;
    if (this.kept !== null) return new HeldRecords(this.template, first, this.kept.slice(from, to), null, null, null, n, NO_INTS, null, null);
    const layout = this.layout!;
    const ints = intsOf(n * layout.ints);
    for (let c = 0; c < layout.ints; c++) for (let i = 0; i < n; i++) ints[c * n + i] = this.ints[c * this.size + from + i]!;
    let floats: Float64Array | null = null;
    if (this.floats !== null) {
      floats = new Float64Array(n * layout.floats);
      for (let c = 0; c < layout.floats; c++) floats.set(this.floats.subarray(c * this.size + from, c * this.size + to), c * n);
    }
    let strs: string[] | null = null;
    if (this.strs !== null) {
      strs = [];
      for (let c = 0; c < layout.strs; c++) for (let i = from; i < to; i++) strs.push(this.strs[c * this.size + i]!);
    }
    return new HeldRecords(this.template, first, null, this.source, this.shape, layout, n, ints, floats, strs);
  }

  private valueAt(c: number, i: number): number | string {
    const { type, at } = this.layout!;
    const j = at[c]! * this.size + i;
    return type[c] === INT ? this.ints[j]! : type[c] === FLOAT ? this.floats![j]! : this.strs![j]!;
  }
}

const NO_INTS: readonly number[] = [];

const intsOf = (length: number): number[] | Int32Array => (length < TYPED_FROM ? new Array<number>(length).fill(0) : new Int32Array(length));

/**
 * A run's records as they are added (plain arrays, which grow cheaply), made into HeldRecords at its end
 * (`done`). One per collector, reused run after run.
 */
export class HeldRecordsBuilder {
  private template: LogRecord | undefined;
  private source: Source | undefined;
  private shape: SourceShape | undefined;
  /** The template's source's values in `keys` order. */
  private values: unknown[] = [];
  private kept: LogRecord[] | null = null;
  private n = 0;
  private readonly timeLow: number[] = [];
  private readonly timeHigh: number[] = [];
  /** Per key (index in `keys`): its values so far, one per record, once it differs from the template's. */
  private columns: ((number | string)[] | undefined)[] = [];
  /** A bit per key with a column (`SourceShape.diff`'s bits), and per such column holding non-32-bit numbers. */
  private colMask = 0;
  private floatMask = 0;

  /** Starts a run with `first` (whatever was added and not `done` is let go); `compact` false keeps every record as it is. */
  start(first: LogRecord, compact: boolean): void {
    for (let m = this.colMask; m !== 0; m &= m - 1) this.columns[31 - Math.clz32(m & -m)] = undefined;
    this.timeLow.length = 0;
    this.timeHigh.length = 0;
    this.template = first;
    this.n = 1;
    this.colMask = 0;
    this.floatMask = 0;
    const source = compact ? writtenSource(first) : undefined;
    const time = first.timeUnixNano;
    const shape = source === undefined || !Long.isLong(time) || !time.unsigned ? undefined : shapeOf(source);
    if (shape === undefined) {
      this.kept = [first];
      return;
    }
    this.kept = null;
    this.source = source;
    this.shape = shape;
    if (this.values.length !== shape.keys.length) this.values = new Array<unknown>(shape.keys.length);
    if (this.columns.length !== shape.keys.length) this.columns = new Array(shape.keys.length).fill(undefined);
    shape.diff(source!, source!, this.values);
    this.timeLow.push((time as Long).low);
    this.timeHigh.push((time as Long).high);
  }

  get size(): number {
    return this.n;
  }

  get first(): LogRecord {
    return this.template!;
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
    if (s === undefined || !Long.isLong(time) || !time.unsigned || record.observedTimeUnixNano !== this.template!.observedTimeUnixNano || Object.getPrototypeOf(s) !== shape.proto) return false;
    // As many keys as the template's, all of which `diff` finds by name: these are all it has.
    if (ownKeys(s) !== shape.keys.length) return false;
    const vals = shape.scratch;
    const tpl = this.values;
    const diff = shape.diff(s, this.source!, vals);
    // A field with a column takes any value its type holds; one without, the template's or a new column.
    for (let m = this.colMask; m !== 0; m &= m - 1) {
      const j = 31 - Math.clz32(m & -m);
      if (!columnable(vals[j], tpl[j])) return false;
    }
    for (let m = diff & ~this.colMask; m !== 0; m &= m - 1) {
      const j = 31 - Math.clz32(m & -m);
      if (!columnable(vals[j], tpl[j])) return false;
    }
    for (let m = diff & ~this.colMask; m !== 0; m &= m - 1) {
      const j = 31 - Math.clz32(m & -m);
      this.columns[j] = new Array<number | string>(this.n).fill(tpl[j] as number | string);
      this.colMask |= 1 << j;
      if (typeof tpl[j] === 'number' && !isInt32(tpl[j] as number)) this.floatMask |= 1 << j;
    }
    this.timeLow.push(time.low);
    this.timeHigh.push(time.high);
    for (let m = this.colMask; m !== 0; m &= m - 1) {
      const j = 31 - Math.clz32(m & -m);
      const v = vals[j] as number | string;
      if (typeof v === 'number' && !isInt32(v)) this.floatMask |= 1 << j;
      this.columns[j]!.push(v);
    }
    this.n++;
    return true;
  }

  /** The records added, held; the builder is empty again. */
  done(): HeldRecords {
    const n = this.n;
    const template = this.template!;
    this.template = undefined;
    this.n = 0;
    if (this.kept !== null) {
      const kept = this.kept;
      this.kept = null;
      return new HeldRecords(template, true, kept, null, null, null, n, NO_INTS, null, null);
    }
    const layout = layoutOf(this.shape!, this.colMask, this.floatMask, this.values);
    const ints = intsOf(n * layout.ints);
    const floats = layout.floats > 0 ? new Float64Array(n * layout.floats) : null;
    const strs: string[] | null = layout.strs > 0 ? new Array<string>(n * layout.strs) : null;
    for (let i = 0; i < n; i++) {
      ints[i] = this.timeLow[i]!;
      ints[n + i] = this.timeHigh[i]!;
    }
    for (let c = 0; c < layout.key.length; c++) {
      const col = this.columns[layout.key[c]!]!;
      const base = layout.at[c]! * n;
      const type = layout.type[c];
      if (type === INT) for (let i = 0; i < n; i++) ints[base + i] = col[i] as number;
      else if (type === FLOAT) for (let i = 0; i < n; i++) floats![base + i] = col[i] as number;
      else for (let i = 0; i < n; i++) strs![base + i] = col[i] as string;
      this.columns[layout.key[c]!] = undefined;
    }
    this.timeLow.length = 0;
    this.timeHigh.length = 0;
    const held = new HeldRecords(template, true, null, this.source!, this.shape!, layout, n, ints, floats, strs);
    this.source = undefined;
    return held;
  }
}

/** How sources of `source`'s class are read (undefined: they cannot be held as columns). */
function shapeOf(source: object): SourceShape | undefined {
  const proto = Object.getPrototypeOf(source) as object;
  const known = shapes.get(proto);
  // As in `add`: as many keys as the shape's, which `diff` reads by name.
  if (known !== undefined && ownKeys(source) === known.keys.length) return known;
  const own = Object.keys(source);
  // A field a class accessor shadows could not be set back by assignment.
  if (own.length > 31 || own.some((k) => k in proto)) return undefined;
  const shape: SourceShape = { proto, keys: own, diff: differOf(own), scratch: new Array<unknown>(own.length), layouts: new Map() };
  shapes.set(proto, shape);
  return shape;
}
