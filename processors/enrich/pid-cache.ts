import { BoundedMap } from '../../pipeline/bounded-map.js';

/**
 * A bounded map from pid to what was learned about that process, with a time to live: pids get
 * reused and processes end, so an entry older than `ttlMs` is read again. Least recently used first out.
 */
export class PidCache<V> {
  private readonly map: BoundedMap<number, { value: V; expiresAt: number }>;

  constructor(
    max: number,
    private readonly ttlMs: number,
  ) {
    this.map = new BoundedMap(max);
  }

  get size(): number {
    return this.map.size;
  }

  get(pid: number, now: number): V | undefined {
    const e = this.map.get(pid);
    if (!e) return undefined;
    this.map.delete(pid);
    if (e.expiresAt <= now) return undefined;
    this.map.set(pid, e); // most recently used last
    return e.value;
  }

  set(pid: number, value: V, now: number): void {
    this.map.delete(pid);
    this.map.set(pid, { value, expiresAt: now + this.ttlMs });
  }

  clear(): void {
    this.map.clear();
  }
}
