import { randomInt } from 'node:crypto';

/**
 * Values by an 8-byte span id or a 16-byte trace id, at most `max`, oldest first: a new id goes to the
 * end, `moveToEnd` moves one there, and past the bound the oldest is pushed out. The ids are 32-bit
 * words in a typed array (open addressing with linear probing), so keeping an id makes no hex string
 * and no Map entry: with a new id on every span, a Map of hex ids and its evictions were most of
 * aibom's and baseline's per-span cost. The hash is seeded per process, so ids a sender chooses cannot
 * pile up in one probe run. A slot holds the id's words and its entry side by side, so a probe reads
 * one cache line; entries (value, slot, neighbours in the order) are numbered 0 .. max - 1 and keep
 * their number while their id shifts between slots. Ids that are not `bytes` long or all zero (both
 * invalid in OTLP) are not kept (`keeps`).
 */
export class IdTable<V> {
  private readonly words: number;
  /** The id's words, then its entry + 1 (0: a free slot). */
  private readonly stride: number;
  private readonly mask: number;
  private readonly slots: Int32Array;
  /** Per entry: its slot, and its neighbours in the order (-1: none); `next` also chains the free entries. */
  private readonly slotOf: Int32Array;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private readonly values: (V | undefined)[];
  private head = -1;
  private tail = -1;
  private free = 0;
  size = 0;
  private readonly seed0 = randomInt(2 ** 31);
  private readonly seed1 = randomInt(2 ** 31);
  /**
   * The id `find` missed last, its words still loaded (any other id's lookup forgets it): `set` of
   * that same id (the usual look-up-then-add) skips the second lookup.
   */
  private missed: Uint8Array | undefined = undefined;
  private missedAt = 0;
  /** The id being looked up, as words (one at a time: no array per lookup). */
  private k0 = 0;
  private k1 = 0;
  private k2 = 0;
  private k3 = 0;

  constructor(
    readonly max: number,
    readonly bytes: 8 | 16,
  ) {
    if (!(max >= 1)) throw new RangeError(`IdTable: max must be at least 1, got ${max}`);
    this.words = bytes / 4;
    this.stride = this.words + 1;
    // At most half full, so probe runs stay short.
    let slots = 2;
    while (slots < 2 * max) slots *= 2;
    this.mask = slots - 1;
    this.slots = new Int32Array(this.stride * slots);
    this.slotOf = new Int32Array(max);
    this.prev = new Int32Array(max);
    this.next = new Int32Array(max);
    for (let e = 0; e < max; e++) this.next[e] = e + 1 < max ? e + 1 : -1;
    this.values = new Array<V | undefined>(max).fill(undefined);
  }

  /** Whether `id` is one this table keeps: `bytes` long and not all zero. */
  keeps(id: Uint8Array | null | undefined): id is Uint8Array {
    return !!id && this.keepsAt(id, 0, id.length);
  }

  /** `keeps` of the id at `buf[at, at + length)` (span-view.ts `locateId`: no Buffer per id). */
  keepsAt(buf: Uint8Array, at: number, length: number): boolean {
    return length === this.bytes && this.load(buf, at);
  }

  /** The entry of `id`, or -1. */
  find(id: Uint8Array | null | undefined): number {
    return id ? this.findAt(id, 0, id.length) : -1;
  }

  /** `find` of the id at `buf[at, at + length)`. */
  findAt(buf: Uint8Array, at: number, length: number): number {
    if (!this.keepsAt(buf, at, length)) return -1;
    const slot = this.lookup();
    if (slot >= 0) return this.slots[slot * this.stride + this.words]! - 1;
    this.missed = buf;
    this.missedAt = at;
    return -1;
  }

  get(id: Uint8Array | null | undefined): V | undefined {
    return id ? this.getAt(id, 0, id.length) : undefined;
  }

  /** `get` of the id at `buf[at, at + length)`. */
  getAt(buf: Uint8Array, at: number, length: number): V | undefined {
    const e = this.findAt(buf, at, length);
    return e < 0 ? undefined : this.values[e];
  }

  /** The value of an entry `find`, `set`, `first` or `after` gave. */
  value(entry: number): V {
    return this.values[entry] as V;
  }

  /**
   * Keeps `value` for `id` and gives its entry (-1: an id this table does not keep). An id already
   * known keeps its place in the order (as in a Map). `evicted` gets the value the bound pushed out,
   * after it left the table.
   */
  set(id: Uint8Array | null | undefined, value: V, evicted?: (value: V) => void): number {
    return id ? this.setAt(id, 0, id.length, value, evicted) : -1;
  }

  /** `set` of the id at `buf[at, at + length)`. */
  setAt(buf: Uint8Array, at: number, length: number, value: V, evicted?: (value: V) => void): number {
    if (buf === this.missed && at === this.missedAt && length === this.bytes) this.missed = undefined;
    else {
      if (!this.keepsAt(buf, at, length)) return -1;
      const found = this.lookup();
      if (found >= 0) {
        const e = this.slots[found * this.stride + this.words]! - 1;
        this.values[e] = value;
        return e;
      }
    }
    let out: V | undefined;
    let pushedOut = false;
    if (this.size === this.max) {
      const oldest = this.head;
      out = this.values[oldest];
      pushedOut = true;
      this.delete(oldest);
    }
    const e = this.free;
    this.free = this.next[e]!;
    const { slots, stride, words } = this;
    let i = this.home(this.k0, this.k1, this.k2, this.k3);
    while (slots[i * stride + words] !== 0) i = (i + 1) & this.mask;
    const base = i * stride;
    slots[base] = this.k0;
    slots[base + 1] = this.k1;
    if (words === 4) {
      slots[base + 2] = this.k2;
      slots[base + 3] = this.k3;
    }
    slots[base + words] = e + 1;
    this.slotOf[e] = i;
    this.values[e] = value;
    this.link(e);
    this.size++;
    if (pushedOut) evicted?.(out as V);
    return e;
  }

  /** Moves an entry to the end of the order (the newest). */
  moveToEnd(entry: number): void {
    if (entry === this.tail) return;
    this.unlink(entry);
    this.link(entry);
  }

  /** Forgets an entry. */
  delete(entry: number): void {
    this.unlink(entry);
    this.removeSlot(this.slotOf[entry]!);
    this.values[entry] = undefined;
    this.next[entry] = this.free;
    this.free = entry;
    this.size--;
  }

  /** Forgets every id at once (a fill of the columns: no walk per id). */
  clear(): void {
    this.slots.fill(0);
    this.values.fill(undefined);
    for (let e = 0; e < this.max; e++) this.next[e] = e + 1 < this.max ? e + 1 : -1;
    this.head = this.tail = -1;
    this.free = 0;
    this.size = 0;
    this.missed = undefined;
  }

  /** The oldest entry, or -1. */
  first(): number {
    return this.head;
  }

  /** The entry after `entry` in the order, or -1 (ask before deleting `entry`). */
  after(entry: number): number {
    return this.next[entry]!;
  }

  /** Loads the words of the id at `buf[at, at + bytes)`; false when they are all zero. */
  private load(buf: Uint8Array, at: number): boolean {
    this.missed = undefined;
    this.k0 = idWord(buf, at);
    this.k1 = idWord(buf, at + 4);
    if (this.words === 4) {
      this.k2 = idWord(buf, at + 8);
      this.k3 = idWord(buf, at + 12);
    } else this.k2 = this.k3 = 0;
    return (this.k0 | this.k1 | this.k2 | this.k3) !== 0;
  }

  /** murmur3's finalizer over each word in turn: ids that differ in any bit (counters too) spread out. */
  private home(k0: number, k1: number, k2: number, k3: number): number {
    let h = mix(k0 ^ this.seed0);
    h = mix(h ^ k1 ^ this.seed1);
    if (this.words === 4) {
      h = mix(h ^ k2);
      h = mix(h ^ k3);
    }
    return h & this.mask;
  }

  /** The slot holding the loaded id, or -1. */
  private lookup(): number {
    const { slots, stride, words, k0, k1, k2, k3 } = this;
    for (let i = this.home(k0, k1, k2, k3); ; i = (i + 1) & this.mask) {
      const at = i * stride;
      if (slots[at + words] === 0) return -1;
      if (slots[at] === k0 && slots[at + 1] === k1 && (words === 2 || (slots[at + 2] === k2 && slots[at + 3] === k3))) return i;
    }
  }

  /** Empties a slot by shifting the entries after it back, so no tombstones lengthen later probes. */
  private removeSlot(slot: number): void {
    const { slots, stride, words } = this;
    let free = slot;
    for (let j = (free + 1) & this.mask; slots[j * stride + words] !== 0; j = (j + 1) & this.mask) {
      const at = j * stride;
      const home = this.home(slots[at]!, slots[at + 1]!, words === 4 ? slots[at + 2]! : 0, words === 4 ? slots[at + 3]! : 0);
      // The entry at j may move to `free` unless its home lies cyclically in (free, j].
      const stays = free < j ? home > free && home <= j : home > free || home <= j;
      if (stays) continue;
      for (let w = 0; w <= words; w++) slots[free * stride + w] = slots[at + w]!;
      this.slotOf[slots[at + words]! - 1] = free;
      free = j;
    }
    for (let w = 0; w <= words; w++) slots[free * stride + w] = 0;
  }

  /** Appends an entry at the end of the order. */
  private link(e: number): void {
    this.prev[e] = this.tail;
    this.next[e] = -1;
    if (this.tail >= 0) this.next[this.tail] = e;
    else this.head = e;
    this.tail = e;
  }

  private unlink(e: number): void {
    const p = this.prev[e]!;
    const n = this.next[e]!;
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
  }
}

/**
 * Values by id for the newest `max` ids at most and the newest `max / 2` at least, with no order
 * kept per id: two generations of `max / 2`; new ids go into the newer one, and when it is full the
 * older one is emptied in one go and the two swap. For values only ever looked up by id (aibom's
 * span owners), kept smaller than an IdTable: a generation's slots hold only an entry number and 8
 * bits of the id's hash (4 bytes a slot, not 12 or 20), the ids' words go by entry, in the order they
 * came, and no order is linked per entry. A new id (nearly every span's) is only appended: its words
 * and value written next to the last id's, no hash and no slot read. The slots of the ids appended
 * since are filled when the generation is next looked up or fills, in one tight loop whose cache
 * misses overlap: a span whose id is never looked up (no kernel span comes under it) costs no random
 * access until then. An id appended twice counts once, as in a Map: the fill keeps the later value.
 */
export class IdGenerations<V> {
  private newer: Generation<V>;
  private older: Generation<V>;
  private readonly words: number;
  private readonly seed0 = randomInt(2 ** 31);
  private readonly seed1 = randomInt(2 ** 31);

  constructor(
    max: number,
    readonly bytes: 8 | 16,
  ) {
    if (!(max >= 2 && max / 2 < MAX_ENTRIES)) throw new RangeError(`IdGenerations: max must be 2 .. ${2 * MAX_ENTRIES - 1}, got ${max}`);
    this.words = bytes / 4;
    const hash = (k0: number, k1: number, k2: number, k3: number) => this.hash(k0, k1, k2, k3);
    this.newer = new Generation(Math.floor(max / 2), this.words, hash);
    this.older = new Generation(Math.floor(max / 2), this.words, hash);
  }

  /** Ids kept now (one kept in both generations counts twice). */
  get size(): number {
    this.newer.fill();
    return this.newer.size + this.older.size;
  }

  /** Keeps `value` for the id at `buf[at, at + length)`; false for an id IdTable does not keep (`keepsAt`). */
  setAt(buf: Uint8Array, at: number, length: number, value: V): boolean {
    if (length !== this.bytes) return false;
    const four = this.words === 4;
    const k0 = idWord(buf, at);
    const k1 = idWord(buf, at + 4);
    const k2 = four ? idWord(buf, at + 8) : 0;
    const k3 = four ? idWord(buf, at + 12) : 0;
    if ((k0 | k1 | k2 | k3) === 0) return false;
    let newer = this.newer;
    if (newer.size === newer.max) {
      // Full counting repeats: the ids appended since the last fill may hold some.
      newer.fill();
      if (newer.size === newer.max) {
        const slot = newer.find(this.hash(k0, k1, k2, k3), buf, at);
        if (slot >= 0) {
          newer.values[newer.entry(slot)] = value;
          return true;
        }
        this.newer = this.older;
        this.older = newer;
        newer = this.newer;
        newer.clear();
      }
    }
    newer.append(k0, k1, k2, k3, value);
    return true;
  }

  /** The value of the id at `buf[at, at + length)`, the newer generation's if both have it. */
  getAt(buf: Uint8Array, at: number, length: number): V | undefined {
    const h = this.hashAt(buf, at, length);
    if (h === NOT_KEPT) return undefined;
    this.newer.fill();
    return this.newer.get(h, buf, at) ?? this.older.get(h, buf, at);
  }

  /** The hash of the id at `buf[at, at + length)`, or NOT_KEPT for one IdTable would not keep. */
  private hashAt(buf: Uint8Array, at: number, length: number): number {
    if (length !== this.bytes) return NOT_KEPT;
    const four = this.words === 4;
    const k0 = idWord(buf, at);
    const k1 = idWord(buf, at + 4);
    const k2 = four ? idWord(buf, at + 8) : 0;
    const k3 = four ? idWord(buf, at + 12) : 0;
    if ((k0 | k1 | k2 | k3) === 0) return NOT_KEPT;
    return this.hash(k0, k1, k2, k3);
  }

  /** IdTable's hash (seeded per process), as a non-negative 31-bit number. */
  private hash(k0: number, k1: number, k2: number, k3: number): number {
    let h = mix(k0 ^ this.seed0);
    h = mix(h ^ k1 ^ this.seed1);
    if (this.words === 4) {
      h = mix(h ^ k2);
      h = mix(h ^ k3);
    }
    return h & 0x7fffffff;
  }
}

/** A slot of a Generation: (entry + 1) << TAG_BITS | the top TAG_BITS of the id's hash; 0 is free. */
const TAG_BITS = 8;
const TAG_MASK = (1 << TAG_BITS) - 1;
/** Entries a generation can number in the bits left. */
const MAX_ENTRIES = 2 ** (31 - TAG_BITS) - 1;
const NOT_KEPT = -1;

/**
 * One generation of IdGenerations: open addressing with linear probing, at most half full, never
 * deleted from (emptied whole). Entries `[filled, size)` are appended and not in the slots yet (`fill`).
 */
class Generation<V> {
  readonly mask: number;
  readonly slots: Int32Array;
  /** The ids' words by entry. */
  private readonly keys: Int32Array;
  readonly values: (V | undefined)[];
  size = 0;
  private filled = 0;

  constructor(
    readonly max: number,
    private readonly words: number,
    private readonly hash: (k0: number, k1: number, k2: number, k3: number) => number,
  ) {
    let slots = 2;
    while (slots < 2 * max) slots *= 2;
    this.mask = slots - 1;
    this.slots = new Int32Array(slots);
    this.keys = new Int32Array(max * words);
    this.values = new Array<V | undefined>(max).fill(undefined);
  }

  /** The slot of the id at `buf[at, ...)` with hash `h`, or -1 (of the entries filled in). */
  find(h: number, buf: Uint8Array, at: number): number {
    const { slots, mask } = this;
    const tag = h >>> (31 - TAG_BITS);
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const s = slots[i]!;
      if (s === 0) return -1;
      if ((s & TAG_MASK) === tag && this.holds(this.entry(i), buf, at)) return i;
    }
  }

  /** The value of the id at `buf[at, ...)` with hash `h`, if this generation has it (call `fill` first). */
  get(h: number, buf: Uint8Array, at: number): V | undefined {
    const slot = this.find(h, buf, at);
    return slot < 0 ? undefined : this.values[this.entry(slot)];
  }

  entry(slot: number): number {
    return (this.slots[slot]! >>> TAG_BITS) - 1;
  }

  /** Appends an id (its words) and its value; there is room (`size < max`). */
  append(k0: number, k1: number, k2: number, k3: number, value: V): void {
    const e = this.size++;
    const k = e * this.words;
    const keys = this.keys;
    keys[k] = k0;
    keys[k + 1] = k1;
    if (this.words === 4) {
      keys[k + 2] = k2;
      keys[k + 3] = k3;
    }
    this.values[e] = value;
  }

  /**
   * Puts the ids appended since the last fill into the slots, in order. An id already there (kept
   * before, or appended twice) takes the later value and its later entry goes, the entries after it
   * moving down: `size` counts distinct ids again.
   */
  fill(): void {
    if (this.filled === this.size) return;
    const { slots, mask, words, keys, values } = this;
    const four = words === 4;
    let w = this.filled;
    for (let r = this.filled; r < this.size; r++) {
      const k = r * words;
      const k0 = keys[k]!;
      const k1 = keys[k + 1]!;
      const k2 = four ? keys[k + 2]! : 0;
      const k3 = four ? keys[k + 3]! : 0;
      const h = this.hash(k0, k1, k2, k3);
      const tag = h >>> (31 - TAG_BITS);
      let i = h & mask;
      let known = -1;
      for (let s = slots[i]!; s !== 0; s = slots[(i = (i + 1) & mask)]!) {
        if ((s & TAG_MASK) !== tag) continue;
        const e = (s >>> TAG_BITS) - 1;
        const at = e * words;
        if (keys[at] === k0 && keys[at + 1] === k1 && (!four || (keys[at + 2] === k2 && keys[at + 3] === k3))) {
          known = e;
          break;
        }
      }
      if (known >= 0) {
        values[known] = values[r];
        continue;
      }
      if (w !== r) {
        const to = w * words;
        for (let x = 0; x < words; x++) keys[to + x] = keys[k + x]!;
        values[w] = values[r];
      }
      slots[i] = ((w + 1) << TAG_BITS) | tag;
      w++;
    }
    // Values of entries that went (repeats) are let go.
    for (let r = w; r < this.size; r++) values[r] = undefined;
    this.size = this.filled = w;
  }

  /** Forgets every id (the values too, so they can be collected). */
  clear(): void {
    this.slots.fill(0);
    this.values.fill(undefined);
    this.size = this.filled = 0;
  }

  private holds(e: number, buf: Uint8Array, at: number): boolean {
    const k = e * this.words;
    for (let w = 0; w < this.words; w++) if (this.keys[k + w] !== idWord(buf, at + 4 * w)) return false;
    return true;
  }
}

function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** The little-endian 32 bits of an id at `at`, as a signed int: how ids are hashed and compared here and in `id-hex.ts`. */
export const idWord = (b: Uint8Array, at: number): number => b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
