import { randomInt } from 'node:crypto';

/**
 * What each span stood for, by its 8-byte span id, for kernel spans that arrive later under it: at
 * most `max` ids, the oldest forgotten first. The ids are two 32-bit numbers in typed arrays (open
 * addressing with linear probing, insertion order in a ring), so remembering a span makes no hex
 * string and no Map entry: with a new span id on every span, a Map of hex ids and its evictions were
 * most of this processor's per-span cost. The hash is seeded per process, so ids a sender chooses
 * cannot pile up in one probe run. Both words of a slot sit side by side and an all-zero id marks a
 * free slot, so a probe reads one cache line. Ids that are not 8 bytes or all zero (both invalid in
 * OTLP) are not remembered.
 */
export class SpanOwners<V> {
  private readonly mask: number;
  /** Slot i's id is keys[2i], keys[2i + 1]; 0, 0: a free slot. */
  private readonly keys: Int32Array;
  private readonly values: (V | undefined)[];
  /** Ids in insertion order, oldest at `head`. */
  private readonly ringLo: Int32Array;
  private readonly ringHi: Int32Array;
  private head = 0;
  size = 0;
  private readonly seedLo = randomInt(2 ** 31);
  private readonly seedHi = randomInt(2 ** 31);

  constructor(readonly max: number) {
    if (!(max >= 1)) throw new RangeError(`SpanOwners: max must be at least 1, got ${max}`);
    // At most half full, so probe runs stay short.
    let slots = 2;
    while (slots < 2 * max) slots *= 2;
    this.mask = slots - 1;
    this.keys = new Int32Array(2 * slots);
    this.values = new Array<V | undefined>(slots).fill(undefined);
    this.ringLo = new Int32Array(max);
    this.ringHi = new Int32Array(max);
  }

  get(id: Uint8Array | null | undefined): V | undefined {
    if (!id || id.length !== 8) return undefined;
    const lo = word(id, 0);
    const hi = word(id, 4);
    if (lo === 0 && hi === 0) return undefined;
    const at = this.find(lo, hi);
    return at < 0 ? undefined : this.values[at];
  }

  /** Remembers `value` for `id`; an id already known keeps its place in the order (as in a Map). */
  set(id: Uint8Array | null | undefined, value: V): void {
    if (!id || id.length !== 8) return;
    const lo = word(id, 0);
    const hi = word(id, 4);
    if (lo === 0 && hi === 0) return;
    const at = this.find(lo, hi);
    if (at >= 0) {
      this.values[at] = value;
      return;
    }
    if (this.size === this.max) {
      this.remove(this.ringLo[this.head]!, this.ringHi[this.head]!);
      this.head = (this.head + 1) % this.max;
      this.size--;
    }
    const keys = this.keys;
    let i = this.slot(lo, hi);
    while (keys[2 * i] !== 0 || keys[2 * i + 1] !== 0) i = (i + 1) & this.mask;
    keys[2 * i] = lo;
    keys[2 * i + 1] = hi;
    this.values[i] = value;
    const tail = (this.head + this.size) % this.max;
    this.ringLo[tail] = lo;
    this.ringHi[tail] = hi;
    this.size++;
  }

  /** murmur3's finalizer over each half in turn: ids that differ in any bit (counters too) spread out. */
  private slot(lo: number, hi: number): number {
    let h = mix(lo ^ this.seedLo);
    h = mix(h ^ hi ^ this.seedHi);
    return h & this.mask;
  }

  /** The slot holding the id, or -1. */
  private find(lo: number, hi: number): number {
    const keys = this.keys;
    for (let i = this.slot(lo, hi); ; i = (i + 1) & this.mask) {
      const l = keys[2 * i]!;
      const h = keys[2 * i + 1]!;
      if (l === lo && h === hi) return i;
      if (l === 0 && h === 0) return -1;
    }
  }

  /** Deletes by shifting the entries after it back, so no tombstones lengthen later probes. */
  private remove(lo: number, hi: number): void {
    const keys = this.keys;
    let free = this.find(lo, hi);
    if (free < 0) return;
    for (let j = (free + 1) & this.mask; keys[2 * j] !== 0 || keys[2 * j + 1] !== 0; j = (j + 1) & this.mask) {
      const home = this.slot(keys[2 * j]!, keys[2 * j + 1]!);
      // The entry at j may move to `free` unless its home lies cyclically in (free, j].
      const stays = free < j ? home > free && home <= j : home > free || home <= j;
      if (stays) continue;
      keys[2 * free] = keys[2 * j]!;
      keys[2 * free + 1] = keys[2 * j + 1]!;
      this.values[free] = this.values[j];
      free = j;
    }
    keys[2 * free] = 0;
    keys[2 * free + 1] = 0;
    this.values[free] = undefined;
  }
}

function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

const word = (b: Uint8Array, at: number): number => b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
