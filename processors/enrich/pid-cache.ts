/**
 * A bounded map from pid to what was learned about that process, with a time to live: pids get
 * reused and processes end, so an entry older than `ttlMs` is read again. Least recently used first out.
 */
export class PidCache<V> {
  private readonly map = new Map<number, { value: V; expiresAt: number }>();

  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
  ) {}

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
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
    this.map.set(pid, { value, expiresAt: now + this.ttlMs });
  }

  clear(): void {
    this.map.clear();
  }
}
