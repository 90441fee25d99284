import { randomInt } from 'node:crypto';

/**
 * What each span stood for, by its 8-byte span id, for kernel spans that arrive later under it: at
 * most `max` ids, the oldest forgotten first. The ids are two 32-bit numbers in typed arrays (open
 * addressing with linear probing, insertion order in a ring), so remembering a span makes no hex
 * string and no Map entry: with a new span id on every span, a Map of hex ids and its evictions were
 * most of this processor's per-span cost. The hash is seeded per process, so ids a sender chooses
 * cannot pile up in one probe run. Ids that are not 8 bytes (invalid in OTLP) are not remembered.
 */
export class SpanOwners<V> {
  private readonly mask: number;
  private readonly lo: Int32Array;
  private readonly hi: Int32Array;
  /** undefined: a free slot. */
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
    this.lo = new Int32Array(slots);
    this.hi = new Int32Array(slots);
    this.values = new Array<V | undefined>(slots).fill(undefined);
    this.ringLo = new Int32Array(max);
    this.ringHi = new Int32Array(max);
  }

  get(id: Uint8Array | null | undefined): V | undefined {
    if (!id || id.length !== 8) return undefined;
    const lo = word(id, 0);
    const hi = word(id, 4);
    const at = this.find(lo, hi);
    return at < 0 ? undefined : this.values[at];
  }

  /** Remembers `value` for `id`; an id already known keeps its place in the order (as in a Map). */
  set(id: Uint8Array | null | undefined, value: V): void {
    if (!id || id.length !== 8) return;
    const lo = word(id, 0);
    const hi = word(id, 4);
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
    let i = this.slot(lo, hi);
    while (this.values[i] !== undefined) i = (i + 1) & this.mask;
    this.lo[i] = lo;
    this.hi[i] = hi;
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
    for (let i = this.slot(lo, hi); this.values[i] !== undefined; i = (i + 1) & this.mask) if (this.lo[i] === lo && this.hi[i] === hi) return i;
    return -1;
  }

  /** Deletes by shifting the entries after it back, so no tombstones lengthen later probes. */
  private remove(lo: number, hi: number): void {
    let free = this.find(lo, hi);
    if (free < 0) return;
    for (let j = (free + 1) & this.mask; this.values[j] !== undefined; j = (j + 1) & this.mask) {
      const home = this.slot(this.lo[j]!, this.hi[j]!);
      // The entry at j may move to `free` unless its home lies cyclically in (free, j].
      const stays = free < j ? home > free && home <= j : home > free || home <= j;
      if (stays) continue;
      this.lo[free] = this.lo[j]!;
      this.hi[free] = this.hi[j]!;
      this.values[free] = this.values[j];
      free = j;
    }
    this.values[free] = undefined;
  }
}

function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

const word = (b: Uint8Array, at: number): number => b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
