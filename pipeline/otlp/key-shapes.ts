import { viewOf } from './buffer-view.js';
import { internedString } from './reader.js';

/**
 * Attribute key lists shared between received spans, as V8 shares hidden classes between objects:
 * spans of one instrumentation carry the same keys in the same order. A span's keys are found by
 * walking a tree of the lists seen so far, comparing each key's bytes with the key that followed
 * there last time (no hashing, no string made); every span with the same list shares one `keys`
 * array and what readers derived from the list alone (`derived`: the canonical view's slot of each
 * key, whether a key carries content), so that is worked out once per list, not per span.
 *
 * The arrival check (wire-check.ts) looks a span's list up among the recent ones (`recentList`) and
 * records its number (`id`): the view finds the list by that number (`listById`) without comparing
 * the key bytes a second time, and the check takes the list's key bits (`keyBits`) instead of
 * checking each key's bytes itself.
 *
 * Bounded: at most MAX_NODES keys in the tree and MAX_DEPTH keys per list (a longer list is kept
 * per span, as before); when the tree is full it starts over (lists already handed out stay valid;
 * numbered ones are forgotten, so a record's number then finds nothing and the list is looked up by bytes).
 */
const MAX_NODES = 4096;
const MAX_DEPTH = 64;
/** Children of a key compared by bytes before its string is looked up (`step`). */
const SCAN = 8;

export class KeyShape {
  /** The list ending here, made when a span's list first ends here. */
  private list: string[] | undefined = undefined;
  /** The key that followed this one last time (the one compared first). */
  next: KeyShape | undefined = undefined;
  /** Every key that has followed this one. */
  private children: Map<string, KeyShape> | undefined = undefined;
  /**
   * The first SCAN of them, compared by bytes when `next` is not the key: spans of a few kinds
   * interleaved (an agent run's LLM, tool and HTTP spans) take turns after a shared key, and each
   * turn would otherwise make or look up the key's string to find the child by name.
   */
  private scanned: KeyShape[] | undefined = undefined;
  /** What readers derived from this list, by reader (`readerSlot`). */
  readonly derived: unknown[] = [];
  /** The list's number in the arrival check's records (`listById`), -1 until it is one of the recent lists. */
  id = -1;
  /** The arrival check's RESERVED_KEY | INVALID_UTF8 bits of this list's keys (wire-check.ts), -1 until it has worked them out. */
  keyBits = -1;

  /** The key's UTF-8 bytes four at a time (little-endian), the last 0-3 left to `last`. */
  private readonly words: Int32Array;
  /** The key's length in bytes. */
  private readonly length: number;
  /** The key's last four bytes as a word, for a key of 4 bytes or more that `words` does not end. */
  private readonly last: number;

  constructor(
    readonly parent: KeyShape | undefined,
    readonly key: string,
    /** The key's UTF-8 bytes. */
    readonly bytes: Uint8Array,
    readonly depth: number,
  ) {
    this.words = new Int32Array(bytes.length >>> 2);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < this.words.length; i++) this.words[i] = view.getInt32(4 * i, true);
    this.length = bytes.length;
    this.last = bytes.length >= 4 ? view.getInt32(bytes.length - 4, true) : 0;
  }

  /**
   * True if `buf[start, end)` is this key: compared four bytes at a time through `view` (over `buf`),
   * the last 1-3 as the last four (overlapping the word before; a key shorter than 4 byte by byte).
   */
  is(buf: Buffer, view: DataView, start: number, end: number): boolean {
    const n = this.length;
    if (end - start !== n) return false;
    const words = this.words;
    for (let i = 0; i < words.length; i++) if (view.getInt32(start + 4 * i, true) !== words[i]) return false;
    if ((n & 3) === 0) return true;
    if (n >= 4) return view.getInt32(end - 4, true) === this.last;
    const bytes = this.bytes;
    for (let i = 0; i < n; i++) if (bytes[i] !== buf[start + i]) return false;
    return true;
  }

  get keys(): readonly string[] {
    if (this.list) return this.list;
    const list = new Array<string>(this.depth);
    for (let s: KeyShape = this; s.parent; s = s.parent) list[s.depth - 1] = s.key;
    return (this.list = list);
  }

  /** The shape after this one for the key `buf[start, end)`, or undefined past MAX_DEPTH. */
  step(buf: Buffer, start: number, end: number): KeyShape | undefined {
    const n = this.next;
    const view = viewOf(buf);
    if (n && n.is(buf, view, start, end)) return n;
    const scanned = this.scanned;
    if (scanned) {
      for (let i = 0; i < scanned.length; i++) {
        const c = scanned[i]!;
        if (c !== n && c.is(buf, view, start, end)) return (this.next = c);
      }
    }
    if (this.depth >= MAX_DEPTH) return undefined;
    const key = internedString(buf, start, end);
    // Every child is among the scanned ones while there are fewer than SCAN: none matched, so it is new.
    let child = scanned && scanned.length < SCAN ? undefined : this.children?.get(key);
    if (!child) {
      if (nodes >= MAX_NODES) startOver();
      nodes++;
      child = new KeyShape(this, key, Uint8Array.prototype.slice.call(buf, start, end), this.depth + 1);
      (this.children ??= new Map()).set(key, child);
      if ((this.scanned ??= []).length < SCAN) this.scanned.push(child);
    }
    return (this.next = child);
  }
}

let nodes = 0;
/** The empty list: every walk starts here. */
export let EMPTY_SHAPE = new KeyShape(undefined, '', new Uint8Array(0), 0);

/**
 * Lists found lately, by a hash of their key count and key lengths (ints the arrival check
 * recorded: no byte read to pick one). A span's list is compared whole with the one there, key by
 * key from the last, before it is walked from the root: spans of a few kinds taking turns mostly
 * miss a node's `next` near the root (every kind starts with `gen_ai.operation.name`, then differs).
 */
const RECENT = 64;
let recent: (KeyShape | undefined)[] = new Array<KeyShape | undefined>(RECENT).fill(undefined);
/**
 * Recent lists by number (`id` modulo IDS; a tree holds at most MAX_NODES lists). Numbers count up
 * to 2^31 before they repeat: a record's number could name another list only if 2^31 lists were
 * numbered while its span waited (seconds at most).
 */
const IDS = MAX_NODES;
let byId: (KeyShape | undefined)[] = new Array<KeyShape | undefined>(IDS).fill(undefined);
let ids = 0;

function startOver(): void {
  nodes = 0;
  EMPTY_SHAPE = new KeyShape(undefined, '', new Uint8Array(0), 0);
  recent = new Array<KeyShape | undefined>(RECENT).fill(undefined);
  byId = new Array<KeyShape | undefined>(IDS).fill(undefined);
}

/** The `recent` slot of the list of `n` keys with these bounds (see `listAt`). */
function slotOf(bounds: Int32Array, at: number, n: number, stride: number): number {
  let h = n;
  for (let k = 0, q = at; k < n; k++, q += stride) h = Math.imul(h ^ (bounds[q + 1]! - bounds[q]!), 0x01000193);
  h ^= h >>> 15;
  return h & (RECENT - 1);
}

/** True if `known` is the list of `n` keys with these bounds in `buf`: compared key by key from the last. */
function sameList(known: KeyShape, buf: Buffer, bounds: Int32Array, at: number, n: number, stride: number): boolean {
  if (known.depth !== n) return false;
  const view = viewOf(buf);
  let s: KeyShape = known;
  let q = at + stride * (n - 1);
  while (s.depth > 0 && s.is(buf, view, bounds[q]!, bounds[q + 1]!)) {
    s = s.parent!;
    q -= stride;
  }
  return s.depth === 0;
}

/** Gives `shape` a number `listById` finds (a new one if its old one's place went to another list). */
function number(shape: KeyShape): void {
  if (shape.id >= 0 && byId[shape.id % IDS] === shape) return;
  shape.id = ids;
  ids = (ids + 1) & 0x7fffffff;
  byId[shape.id % IDS] = shape;
}

/**
 * The recent list of `n` keys whose bounds are `bounds[at + stride k]` to `bounds[at + stride k + 1]`
 * in `buf`, compared by bytes, or undefined if it is not the recent one with its count and lengths.
 * For the arrival check: it makes and walks nothing.
 */
export function recentList(buf: Buffer, bounds: Int32Array, at: number, n: number, stride: number): KeyShape | undefined {
  if (n > MAX_DEPTH) return undefined;
  const known = recent[slotOf(bounds, at, n, stride)];
  return known !== undefined && sameList(known, buf, bounds, at, n, stride) ? known : undefined;
}

/** The list numbered `id` by `listAt`, or undefined if that number's place went to another list (or the tree started over). */
export function listById(id: number): KeyShape | undefined {
  const s = byId[id % IDS];
  return s !== undefined && s.id === id ? s : undefined;
}

/**
 * The shared list of `n` keys whose bounds are `bounds[at + stride k]` to `bounds[at + stride k + 1]`
 * in `buf` (wire-check.ts's record layout), or undefined past MAX_DEPTH: the list `step` walks to.
 * The list becomes the recent one of its count and lengths, numbered.
 */
export function listAt(buf: Buffer, bounds: Int32Array, at: number, n: number, stride: number): KeyShape | undefined {
  if (n > MAX_DEPTH) return undefined;
  const slot = slotOf(bounds, at, n, stride);
  const known = recent[slot];
  if (known !== undefined && sameList(known, buf, bounds, at, n, stride)) {
    number(known);
    return known;
  }
  let shape = EMPTY_SHAPE;
  for (let k = 0, q = at; k < n; k++, q += stride) shape = shape.step(buf, bounds[q]!, bounds[q + 1]!)!;
  number(shape);
  return (recent[slot] = shape);
}

let readers = 0;
/** A reader's index into `KeyShape.derived`: one per reader for the life of the process. */
export function readerSlot(): number {
  return readers++;
}
