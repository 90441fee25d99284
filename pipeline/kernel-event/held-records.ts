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
/** Whether a column of `type` holds `v` exactly. */
const fits = (type: number, v: unknown) => (type === STRING ? typeof v === 'string' : typeof v === 'number' && (type === FLOAT || isInt32(v)));

/** The fields of a run's sources that differ from its template's: the key (index in `keys`) and place of each. */
interface Columns {
  shape: SourceShape;
  /** The template's source (its record may have made its attributes since). */
  source: Source;
  key: number[];
  type: number[];
  /** Its column among those of its type (INT columns after the two of the time). */
  at: number[];
  ints: number;
  floats: number;
  strs: number;
}

/**
 * The log records of kernel events held together (correlate's runs of opens), without an object per
 * record. A kept record (~390 B of JS objects: the record, its time, its source) survives the whole
 * window, so the young generation copied it and promoted it; here a run keeps its first record (the
 * template) and, per record, its time as two 32-bit words and only the source fields that differ from
 * the template's (an open's sequence number, kernel time, result, path...), in columns: one Int32Array,
 * one Float64Array (numbers that are not 32-bit integers) and one string array (strings the receiver
 * already shares). `recordAt` makes a record again with `writeKernelEvent`, as the receiver made it.
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
    private readonly cols: Columns | null,
    readonly size: number,
    /** Column-major, `size` rows: the time's low and high words, then the INT columns. */
    private readonly ints: Int32Array,
    private readonly floats: Float64Array | null,
    private readonly strs: readonly string[] | null,
  ) {}

  /** The records of a run, starting with `first`; `compact` false keeps every record as it is. */
  static start(first: LogRecord, compact: boolean): HeldRecordsBuilder {
    return new HeldRecordsBuilder(first, compact);
  }

  /** The `i`-th record: the template itself, a kept record, or one made again from its columns. */
  recordAt(i: number): LogRecord {
    if (this.kept !== null) return this.kept[i]!;
    if (i === 0 && this.firstIsTemplate) return this.template;
    const { shape, key, source: template } = this.cols!;
    const tpl = template as unknown as Record<string, unknown>;
    const src = Object.create(shape.proto) as Record<string, unknown>;
    for (const k of shape.keys) src[k] = tpl[k];
    for (let c = 0; c < key.length; c++) src[shape.keys[key[c]!]!] = this.valueAt(c, i);
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
    if (this.kept !== null) return new HeldRecords(this.template, first, this.kept.slice(from, to), null, to - from, this.ints, null, null);
    const part = (width: number) => {
      const out: number[] = [];
      for (let c = 0; c < width; c++) for (let i = from; i < to; i++) out.push(c * this.size + i);
      return out;
    };
    const ints = Int32Array.from(part(this.cols!.ints), (j) => this.ints[j]!);
    const floats = this.floats && Float64Array.from(part(this.cols!.floats), (j) => this.floats![j]!);
    const strs = this.strs && part(this.cols!.strs).map((j) => this.strs![j]!);
    return new HeldRecords(this.template, first, null, this.cols, to - from, ints, floats, strs);
  }

  private valueAt(c: number, i: number): number | string {
    const { type, at } = this.cols!;
    const j = at[c]! * this.size + i;
    return type[c] === INT ? this.ints[j]! : type[c] === FLOAT ? this.floats![j]! : this.strs![j]!;
  }
}

const NO_INTS = new Int32Array(0);

/** A run's records as they are added (plain arrays, which grow cheaply), made into HeldRecords at its end. */
export class HeldRecordsBuilder {
  private readonly source: Source | undefined;
  private readonly shape: SourceShape | undefined;
  /** The template's source's values in `keys` order. */
  private readonly values: unknown[] = [];
  private readonly kept: LogRecord[] | null = null;
  private n = 1;
  private readonly timeLow: number[] = [];
  private readonly timeHigh: number[] = [];
  private key: number[] = [];
  private type: number[] = [];
  private at: number[] = [];
  /** Per column, its values, one per record. */
  private readonly columns: (number | string)[][] = [];
  /** A bit per key that has a column (`SourceShape.diff`'s bits). */
  private colMask = 0;
  private widths = [2, 0, 0];

  constructor(
    private readonly template: LogRecord,
    compact: boolean,
  ) {
    const source = compact ? writtenSource(template) : undefined;
    const time = template.timeUnixNano;
    const shape = source === undefined || !Long.isLong(time) || !time.unsigned ? undefined : shapeOf(source);
    if (shape === undefined) {
      this.kept = [template];
      return;
    }
    this.source = source;
    this.shape = shape;
    shape.diff(source!, source!, this.values);
    this.timeLow.push((time as Long).low);
    this.timeHigh.push((time as Long).high);
  }

  get size(): number {
    return this.n;
  }

  get first(): LogRecord {
    return this.template;
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
    // As many keys as the template's, all of which `diff` finds by name: these are all it has.
    if (ownKeys(s) !== shape.keys.length) return false;
    const vals = shape.scratch;
    const tpl = this.values;
    const diff = shape.diff(s, this.source!, vals);
    // A field with a column takes any value its column holds; one without, the template's or a new column.
    for (let c = 0; c < this.key.length; c++) if (!fits(this.type[c]!, vals[this.key[c]!])) return false;
    for (let m = diff & ~this.colMask; m !== 0; m &= m - 1) {
      const j = 31 - Math.clz32(m & -m);
      if (!columnable(vals[j], tpl[j])) return false;
    }
    for (let m = diff & ~this.colMask; m !== 0; m &= m - 1) this.addColumn(31 - Math.clz32(m & -m));
    this.timeLow.push(time.low);
    this.timeHigh.push(time.high);
    for (let c = 0; c < this.key.length; c++) this.columns[c]!.push(vals[this.key[c]!] as number | string);
    this.n++;
    return true;
  }

  /** The records added, held. */
  done(): HeldRecords {
    if (this.kept !== null) return new HeldRecords(this.template, true, this.kept, null, this.n, NO_INTS, null, null);
    const n = this.n;
    const [ints, floats, strs] = this.widths as [number, number, number];
    const i32 = new Int32Array(n * ints);
    const f64 = floats > 0 ? new Float64Array(n * floats) : null;
    const str: string[] | null = strs > 0 ? new Array<string>(n * strs) : null;
    for (let i = 0; i < n; i++) {
      i32[i] = this.timeLow[i]!;
      i32[n + i] = this.timeHigh[i]!;
    }
    for (let c = 0; c < this.key.length; c++) {
      const col = this.columns[c]!;
      const base = this.at[c]! * n;
      if (this.type[c] === INT) for (let i = 0; i < n; i++) i32[base + i] = col[i] as number;
      else if (this.type[c] === FLOAT) for (let i = 0; i < n; i++) f64![base + i] = col[i] as number;
      else for (let i = 0; i < n; i++) str![base + i] = col[i] as string;
    }
    const cols: Columns = { shape: this.shape!, source: this.source!, key: this.key, type: this.type, at: this.at, ints, floats, strs };
    return new HeldRecords(this.template, true, null, cols, n, i32, f64, str);
  }

  /** A column for key `j`, every record so far holding the template's value. */
  private addColumn(j: number): void {
    const t = this.values[j] as number | string;
    const type = typeof t === 'string' ? STRING : isInt32(t) ? INT : FLOAT;
    this.key.push(j);
    this.type.push(type);
    this.at.push(this.widths[type]!++);
    this.columns.push(new Array<number | string>(this.n).fill(t));
    this.colMask |= 1 << j;
  }
}

/** How sources of `source`'s class are read (undefined: they cannot be held as columns). */
function shapeOf(source: object): SourceShape | undefined {
  const proto = Object.getPrototypeOf(source) as object;
  const own = Object.keys(source);
  const known = shapes.get(proto);
  if (known !== undefined && known.keys.length === own.length && known.keys.every((k, i) => k === own[i])) return known;
  // A field a class accessor shadows could not be set back by assignment.
  if (own.length > 31 || own.some((k) => k in proto)) return undefined;
  const shape = { proto, keys: own, diff: differOf(own), scratch: new Array<unknown>(own.length) };
  shapes.set(proto, shape);
  return shape;
}
