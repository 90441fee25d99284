/**
 * A Map holding at most `max` entries: setting a new key past the bound drops the oldest inserted one.
 * The oldest is taken from one iterator kept across evictions. A fresh `keys()` iterator per eviction,
 * the obvious way, walks every entry deleted since V8 last rehashed the table before it finds a live
 * one, so each eviction cost grew with the evictions before it: with a new key on every span (an
 * owner per span id) that was a third of the default pipeline's CPU. A kept iterator passes each
 * deleted entry once.
 */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();
  private oldest: Iterator<K> | undefined;

  constructor(readonly max: number) {
    if (!(max >= 1)) throw new RangeError(`BoundedMap: max must be at least 1, got ${max}`);
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /**
   * Sets `key`; a key already present keeps its place in the insertion order (as in a Map). `evicted`
   * gets what the bound pushed out, after it left the map.
   */
  set(key: K, value: V, evicted?: (key: K, value: V) => void): this {
    this.map.set(key, value);
    while (this.map.size > this.max) this.evictOldest(evicted);
    return this;
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
    this.oldest = undefined;
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }

  entries(): IterableIterator<[K, V]> {
    return this.map.entries();
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.map.entries();
  }

  private evictOldest(evicted: ((key: K, value: V) => void) | undefined): void {
    // Every key this iterator yielded was deleted here, so while the map is not empty it has one more
    // to give; a finished iterator (the map was emptied and refilled) is replaced.
    let next = (this.oldest ??= this.map.keys()).next();
    if (next.done) next = (this.oldest = this.map.keys()).next();
    const key = next.value as K;
    const value = this.map.get(key) as V;
    this.map.delete(key);
    evicted?.(key, value);
  }
}
