import { randomInt } from 'node:crypto';
import { locateId, spanIds } from '../../pipeline/otlp/span-view.js';
import type { Span } from '../../pipeline/otlp/types.js';

/** The number of an absent id (hex ''): a span without one, a root's parent. */
export const NO_ID = -1;

/** Seeds the hash per process, so ids a sender chooses cannot pile up in one probe run. */
const SEED = randomInt(2 ** 31);

/**
 * The span ids one trace's view refers to, each as a number: equal ids, equal numbers, as their hex
 * strings would compare. An 8-byte id is read from the span's bytes (`locateId`) as two 32-bit words
 * and kept as them (0, 1, ... in the order they came); its hex is made only when a deviation names
 * it. Making every span's ids hex (`spanIds`) for the view's parent links was most of provenance's
 * per-span cost under agent load, where nearly every trace is open. An id of another length (invalid
 * in OTLP) is kept by its hex and numbered -2, -3, ...; an absent one is NO_ID. Grows with the ids
 * asked for: the view bounds them (parent links, items per trace).
 */
export class SpanIdIndex {
  /** Per number: the id's big-endian words. */
  private words = new Int32Array(16);
  /** Open addressing, linear probing, at most half full: number + 1 (0: a free slot). */
  private slots = new Int32Array(16);
  private size = 0;
  /** Ids of another length, by hex, and their hex by -2 - number. */
  private others: Map<string, number> | undefined;
  private otherHex: string[] | undefined;

  /** The number of the span's span id or parent span id. */
  of(span: Span, field: 'spanId' | 'parentSpanId'): number {
    const id = locateId(span, field);
    if (id.length === 8) return this.intern(word(id.buf, id.at), word(id.buf, id.at + 4));
    return id.length === 0 ? NO_ID : this.other(spanIds(span)[field]);
  }

  /** The id's lower-case hex, as `spanIds` gives it. */
  hex(n: number): string {
    if (n === NO_ID) return '';
    if (n < 0) return this.otherHex![-2 - n]!;
    return wordHex(this.words[2 * n]!) + wordHex(this.words[2 * n + 1]!);
  }

  private intern(w0: number, w1: number): number {
    const { slots, words } = this;
    const mask = slots.length - 1;
    let i = home(w0, w1) & mask;
    for (let s = slots[i]!; s !== 0; s = slots[(i = (i + 1) & mask)]!) {
      if (words[2 * (s - 1)] === w0 && words[2 * (s - 1) + 1] === w1) return s - 1;
    }
    const n = this.size++;
    if (2 * n + 1 >= words.length) {
      this.words = new Int32Array(2 * words.length);
      this.words.set(words);
    }
    this.words[2 * n] = w0;
    this.words[2 * n + 1] = w1;
    slots[i] = n + 1;
    if (2 * this.size > slots.length) this.grow();
    return n;
  }

  /** Twice the slots, the ids put in again. */
  private grow(): void {
    const slots = new Int32Array(2 * this.slots.length);
    const mask = slots.length - 1;
    for (let n = 0; n < this.size; n++) {
      let i = home(this.words[2 * n]!, this.words[2 * n + 1]!) & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = n + 1;
    }
    this.slots = slots;
  }

  private other(hex: string): number {
    const others = (this.others ??= new Map());
    let n = others.get(hex);
    if (n === undefined) {
      const list = (this.otherHex ??= []);
      n = -2 - list.length;
      list.push(hex);
      others.set(hex, n);
    }
    return n;
  }
}

/** The big-endian 32-bit word at `at` (so the hex is the words' hex in turn). */
const word = (b: Uint8Array, at: number): number => (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
const wordHex = (w: number): string => (w >>> 0).toString(16).padStart(8, '0');

/** murmur3's finalizer over each word in turn. */
function home(w0: number, w1: number): number {
  return mix(mix(w0 ^ SEED) ^ w1);
}

function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}
