import protobuf from 'protobufjs';
import { unchangeableList } from './frozen-attributes.js';
import { root } from './proto-root.js';
import { ACCESSOR_FIELDS, type KeyValue } from './types.js';
import { WireBacked, WIRE_BACKED_TYPES } from './wire-backed.js';

/**
 * A protobuf encoder that writes the same bytes as protobufjs's `Type.encode(m).finish()` (same
 * field order, same presence rules, same 64-bit and UTF-8 handling) without its per-field operation
 * list. protobufjs records one heap object per written field and copies them into the buffer at
 * `finish()`; for an 8192-span batch that is ~500k short-lived objects alive at once, which the
 * young-generation GC copies and promotes. Here a first pass computes every nested message's length
 * (and every string's byte length) into a reused Int32Array, a second pass writes straight into one
 * buffer of the exact size. Per-type size/write functions are generated from the reflected schema,
 * as protobufjs generates its own, so any schema change is picked up.
 */

type Msg = Record<string, unknown>;
type Fn = (m: Msg, q: number) => number;

interface State {
  /** Lengths computed by the size pass, in the order the write pass consumes them. */
  lens: Int32Array;
  /** Next free slot (size pass) / next slot to read (write pass). */
  n: number;
  buf: Buffer;
  pos: number;
  /** The last 64-bit value `bits` read, as protobufjs's LongBits. */
  lo: number;
  hi: number;
}

const { LongBits, utf8 } = protobuf.util as unknown as {
  LongBits: { from(v: unknown): { lo: number; hi: number } };
  utf8: { write(s: string, buf: Uint8Array, pos: number): number };
};

const st: State = { lens: new Int32Array(1024), n: 0, buf: Buffer.alloc(0), pos: 0, lo: 0, hi: 0 };

function slot(): number {
  if (st.n === st.lens.length) {
    const grown = new Int32Array(st.lens.length * 2);
    grown.set(st.lens);
    st.lens = grown;
  }
  return st.n++;
}

function vlen32(v: number): number {
  return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : v < 268435456 ? 4 : 5;
}

function vlen64(lo: number, hi: number): number {
  const p1 = ((lo >>> 28) | (hi << 4)) >>> 0;
  const p2 = hi >>> 24;
  return p2 === 0 ? (p1 === 0 ? (lo < 16384 ? (lo < 128 ? 1 : 2) : lo < 2097152 ? 3 : 4) : p1 < 16384 ? (p1 < 128 ? 5 : 6) : p1 < 2097152 ? 7 : 8) : p2 < 128 ? 9 : 10;
}

function w32(v: number): void {
  const b = st.buf;
  let p = st.pos;
  while (v > 127) {
    b[p++] = (v & 127) | 128;
    v >>>= 7;
  }
  b[p++] = v;
  st.pos = p;
}

function w64(lo: number, hi: number): void {
  const b = st.buf;
  let p = st.pos;
  while (hi) {
    b[p++] = (lo & 127) | 128;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  while (lo > 127) {
    b[p++] = (lo & 127) | 128;
    lo >>>= 7;
  }
  b[p++] = lo;
  st.pos = p;
}

function wFixed32(v: number): void {
  const b = st.buf;
  const p = st.pos;
  b[p] = v & 255;
  b[p + 1] = (v >>> 8) & 255;
  b[p + 2] = (v >>> 16) & 255;
  b[p + 3] = v >>> 24;
  st.pos = p + 4;
}

/** A 64-bit value as protobufjs's LongBits.from reads it (Long, number or decimal string), into st.lo/hi. */
function bits(v: unknown): void {
  if (typeof v === 'object' && v !== null) {
    st.lo = (v as { low: number }).low >>> 0;
    st.hi = (v as { high: number }).high >>> 0;
  } else {
    const b = LongBits.from(v);
    st.lo = b.lo;
    st.hi = b.hi;
  }
}

function bytesOf(v: unknown): ArrayLike<number> {
  return typeof v === 'string' ? Buffer.from(v, 'base64') : (v as ArrayLike<number>);
}

function wString(s: string, len: number): void {
  w32(len);
  if (len === 0) return;
  // protobufjs's own choice: plain JS for short strings, the native writer for long ones.
  if (s.length < 40) utf8.write(s, st.buf, st.pos);
  else (st.buf as Buffer & { utf8Write(s: string, offset: number): number }).utf8Write(s, st.pos);
  st.pos += len;
}

function wBytes(v: ArrayLike<number>): void {
  const len = v.length >>> 0;
  w32(len);
  const b = st.buf;
  let p = st.pos;
  if (len < 32) for (let i = 0; i < len; i++) b[p++] = v[i]!;
  else {
    b.set(v, p);
    p += len;
  }
  st.pos = p;
}

/** A wire-backed message's own bytes (its length was written by the caller). */
function wRaw(m: WireBacked<object>): void {
  m.buf.copy(st.buf, st.pos, m.start, m.end);
  st.pos += m.end - m.start;
}

/** A wire-backed message still as received, with nothing appended: its bytes are all it is. */
function asReceived(m: unknown): m is WireBacked<object> {
  return m instanceof WireBacked && m.message === undefined && m.appended === undefined;
}

/**
 * Where `m`'s field header (one-byte `tag`, then its length) starts in its own buffer, if the bytes
 * just before it are exactly the header the encoder would write (what a sender that encodes like
 * protobufjs or Go wrote); else -1.
 */
function headerAt(m: WireBacked<object>, tag: number): number {
  const len = m.end - m.start;
  const from = m.start - 1 - vlen32(len);
  if (from < 0 || m.buf[from] !== tag) return -1;
  let v = len;
  for (let p = from + 1; p < m.start; p++, v >>>= 7) if (m.buf[p] !== (v > 127 ? (v & 127) | 128 : v)) return -1;
  return from;
}

/**
 * Writes the run of repeated wire-backed messages from `list[i]` on that are still as received,
 * nothing appended, each right after the one before in the same buffer with the header the
 * encoder would write between them: header and bytes of the whole run in one copy (a request's
 * spans are one run). Returns how many it wrote (0: `list[i]` is not such a message); their
 * length slots are passed.
 */
function wRawRun(list: readonly unknown[], i: number, tag: number): number {
  const first = list[i];
  if (!asReceived(first)) return 0;
  const from = headerAt(first, tag);
  if (from < 0) return 0;
  const buf = first.buf;
  let end = first.end;
  let j = i + 1;
  for (; j < list.length; j++) {
    const m = list[j];
    if (!asReceived(m) || m.buf !== buf || headerAt(m, tag) !== end) break;
    end = m.end;
  }
  buf.copy(st.buf, st.pos, from, end);
  st.pos += end - from;
  st.n += j - i;
  return j - i;
}

/**
 * Appended lists that cannot change (frozen-attributes.ts: normalize appends one such list to every
 * span it tags), encoded once as entries of the repeated field they are appended to, tag and length
 * included; null for a frozen list that holds something that could change. Entries go with their list.
 */
const fixedEntries = new WeakMap<readonly object[], Buffer | null>();
const KeyValueType = root.lookupType('opentelemetry.proto.common.v1.KeyValue');

/** The bytes of appended list `a` if it cannot change (written once), else null: encode its entries one by one. */
function fixed(a: readonly object[], tag: number): Buffer | null {
  if (!Object.isFrozen(a)) return null;
  let b = fixedEntries.get(a);
  if (b === undefined) {
    // protobufjs writes what this encoder writes (and leaves its scratch state alone).
    b = null;
    if (unchangeableList(a as readonly KeyValue[])) {
      const w = protobuf.Writer.create();
      for (const kv of a) KeyValueType.encode(kv as protobuf.Message, w.uint32(tag).fork()).ldelim();
      b = Buffer.from(w.finish());
    }
    fixedEntries.set(a, b);
  }
  return b;
}

function wFixed(b: Buffer): void {
  st.buf.set(b, st.pos);
  st.pos += b.length;
}

/** null for a wire-backed message still as received (copy its bytes), else the message to encode. */
function pick(m: unknown): unknown {
  return m instanceof WireBacked ? (m.message ?? null) : m;
}

function wDouble(v: number): void {
  st.buf.writeDoubleLE(v, st.pos);
  st.pos += 8;
}

/** Whether single-valued field `name` of `m` is set, given that its value is not null. */
function present(m: Msg, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(m, name) || (m as { [ACCESSOR_FIELDS]?: ReadonlySet<string> })[ACCESSOR_FIELDS]?.has(name) === true;
}

const R = {
  st,
  slot,
  vlen32,
  vlen64,
  w32,
  w64,
  wFixed32,
  wString,
  wBytes,
  wDouble,
  wRaw,
  wRawRun,
  pick,
  fixed,
  wFixed,
  bytesOf,
  bits,
  present,
  limit: (protobuf.util as unknown as { recursionLimit: number }).recursionLimit,
};

interface Compiled {
  size: Fn;
  write: Fn;
}

const compiled = new Map<protobuf.Type, Compiled>();

/** Generates size and write functions for `type` and every message type it contains. */
function compile(type: protobuf.Type): Compiled {
  const done = compiled.get(type);
  if (done) return done;
  const entry: Compiled = { size: () => 0, write: () => 0 };
  compiled.set(type, entry);
  const fields = type.fieldsArray.slice().sort((a, b) => a.id - b.id);
  const subs: Compiled[] = [];
  let size = 'if(q>R.limit)throw Error("max depth exceeded");let n=0,v,k,l,w,a,c;\n';
  let write = 'let v,l,w,a,c;\n';
  for (const f of fields) {
    f.resolve();
    if (f.map) throw new Error(`encoder: map field ${type.name}.${f.name} is not supported`);
    const isMsg = f.resolvedType instanceof protobuf.Type;
    const kind = f.resolvedType instanceof protobuf.Enum ? 'int32' : isMsg ? 'message' : f.type;
    const wire = isMsg ? 2 : (protobuf.types.basic as Record<string, number>)[kind];
    if (wire === undefined) throw new Error(`encoder: field type ${kind} is not supported`);
    const tag = ((f.id << 3) | wire) >>> 0;
    const tagLen = vlen32(tag);
    const name = JSON.stringify(f.name);
    let si = -1;
    if (isMsg) {
      si = subs.length;
      subs.push(compile(f.resolvedType as protobuf.Type));
    }
    const wireBacked = isMsg ? WIRE_BACKED_TYPES.get((f.resolvedType as protobuf.Type).fullName) : undefined;
    let ai = -1;
    if (wireBacked) {
      ai = subs.length;
      subs.push(compile(type.root.lookupType(wireBacked.appendType)));
    }
    // Size and write one value `x` (tag included).
    const one = (x: string): [string, string] => {
      switch (kind) {
        case 'message':
          if (wireBacked) {
            // Still bytes: its length (bytes plus appended entries) in a slot, then each appended entry's.
            const at = `S[${ai}]`;
            const appTag = ((wireBacked.appendField << 3) | 2) >>> 0;
            return [
              `k=R.slot();w=R.pick(${x});if(w===null){l=${x}.end-${x}.start;a=${x}.appended;if(a!==undefined){c=R.fixed(a,${appTag});if(c!==null)l+=c.length;else for(let j=0;j<a.length;j++){const k2=R.slot();const e=${at}.size(a[j],q+2);R.st.lens[k2]=e;l+=${vlen32(appTag)}+R.vlen32(e)+e}}}else l=S[${si}].size(w,q+1);R.st.lens[k]=l;n+=${tagLen}+R.vlen32(l)+l;`,
              `w=R.pick(${x});R.w32(${tag});R.w32(R.st.lens[R.st.n++]);if(w===null){R.wRaw(${x});a=${x}.appended;if(a!==undefined){c=R.fixed(a,${appTag});if(c!==null)R.wFixed(c);else for(let j=0;j<a.length;j++){R.w32(${appTag});R.w32(R.st.lens[R.st.n++]);${at}.write(a[j],q+2)}}}else S[${si}].write(w,q+1);`,
            ];
          }
          return [
            `k=R.slot();l=S[${si}].size(${x},q+1);R.st.lens[k]=l;n+=${tagLen}+R.vlen32(l)+l;`,
            `R.w32(${tag});R.w32(R.st.lens[R.st.n++]);S[${si}].write(${x},q+1);`,
          ];
        case 'string':
          return [`k=R.slot();l=Buffer.byteLength(${x});R.st.lens[k]=l;n+=${tagLen}+R.vlen32(l)+l;`, `R.w32(${tag});R.wString(${x},R.st.lens[R.st.n++]);`];
        case 'bytes':
          return [`l=R.bytesOf(${x}).length>>>0;n+=${tagLen}+R.vlen32(l)+l;`, `R.w32(${tag});R.wBytes(R.bytesOf(${x}));`];
        case 'uint32':
          return [`n+=${tagLen}+R.vlen32(${x}>>>0);`, `R.w32(${tag});R.w32(${x}>>>0);`];
        case 'int32':
          return [`l=${x}|0;n+=${tagLen}+(l<0?10:R.vlen32(l));`, `R.w32(${tag});l=${x}|0;if(l<0){R.bits(l);R.w64(R.st.lo,R.st.hi)}else R.w32(l);`];
        case 'int64':
        case 'uint64':
          return [`R.bits(${x});n+=${tagLen}+R.vlen64(R.st.lo,R.st.hi);`, `R.w32(${tag});R.bits(${x});R.w64(R.st.lo,R.st.hi);`];
        case 'fixed64':
        case 'sfixed64':
          return [`n+=${tagLen}+8;`, `R.w32(${tag});R.bits(${x});R.wFixed32(R.st.lo);R.wFixed32(R.st.hi);`];
        case 'fixed32':
        case 'sfixed32':
          return [`n+=${tagLen}+4;`, `R.w32(${tag});R.wFixed32(${x}>>>0);`];
        case 'double':
          return [`n+=${tagLen}+8;`, `R.w32(${tag});R.wDouble(${x});`];
        case 'bool':
          return [`n+=${tagLen}+1;`, `R.w32(${tag});R.st.buf[R.st.pos++]=${x}?1:0;`];
        default:
          throw new Error(`encoder: field type ${kind} is not supported`);
      }
    };
    if (f.repeated) {
      if (f.packed && (protobuf.types.packed as Record<string, number | undefined>)[kind] !== undefined) {
        throw new Error(`encoder: packed field ${type.name}.${f.name} is not supported`);
      }
      const [s, w] = one('v[i]');
      size += `v=m[${name}];if(v!=null&&v.length){for(let i=0;i<v.length;++i){${s}}}\n`;
      // Wire-backed messages: runs still as received are copied whole (wRawRun), the others one by one.
      const run = wireBacked && tag < 128 ? `l=R.wRawRun(v,i,${tag});if(l>0){i+=l-1;continue}` : '';
      write += `v=m[${name}];if(v!=null&&v.length){for(let i=0;i<v.length;++i){${run}${w}}}\n`;
    } else {
      const [s, w] = one('v');
      size += `v=m[${name}];if(v!=null&&R.present(m,${name})){${s}}\n`;
      write += `v=m[${name}];if(v!=null&&R.present(m,${name})){${w}}\n`;
    }
  }
  size += 'return n;';
  write += 'return 0;';
  const make = (body: string, what: string) =>
    new Function('R', 'S', 'Buffer', `return function ${type.name}$${what}(m,q){${body}}`)(R, subs, Buffer) as Fn;
  entry.size = make(size, 'size');
  entry.write = make(write, 'write');
  return entry;
}

/** Where an encoder writes: a buffer of exactly `len` bytes (default: a new one). */
export type Alloc = (len: number) => Buffer;

/** An `encode` for `type` with the bytes protobufjs would write. Not re-entrant (one shared scratch). */
export function createEncoder(type: protobuf.Type): (message: unknown, alloc?: Alloc) => Buffer {
  const c = compile(type);
  return (message, alloc) => {
    st.n = 0;
    const len = c.size(message as Msg, 0);
    const buf = alloc ? alloc(len) : Buffer.allocUnsafe(len);
    st.buf = buf;
    st.pos = 0;
    st.n = 0;
    c.write(message as Msg, 0);
    st.buf = EMPTY;
    if (st.pos !== len) throw new Error(`encoder: wrote ${st.pos} bytes of ${len} for ${type.name}`);
    return buf;
  };
}

const EMPTY = Buffer.alloc(0);
