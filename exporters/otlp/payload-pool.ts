/** Payloads below this are left to the allocator: they are not what costs. */
const MIN_POOLED = 64 * 1024;

/**
 * Buffers for encoded requests, used again once a request is sent or given up. A batch of 8192 LLM
 * spans encodes to ~4 MB; a new buffer of that size is new memory from the kernel each time, and
 * faulting its pages in cost more than the encoding itself (0.25 of 0.33 us CPU per span,
 * bench/wire-path.bench.ts), while the freed ones fragment malloc's heap. Buffers come in
 * power-of-two sizes; at most `maxFreeBytes` wait unused (the rest are left to the GC), so the
 * pool adds at most that to what the queue holds.
 */
export class PayloadPool {
  /** Unused buffers by size. */
  private readonly free = new Map<number, ArrayBuffer[]>();
  private freeBytes = 0;
  private readonly mine = new WeakSet<ArrayBuffer>();
  private readonly unused = new WeakSet<ArrayBuffer>();

  constructor(private readonly maxFreeBytes: number) {}

  /** A buffer of exactly `len` bytes, owned by the caller until `give`. */
  take(len: number): Buffer {
    if (len < MIN_POOLED) return Buffer.allocUnsafe(len);
    const size = 2 ** Math.ceil(Math.log2(len));
    const ab = this.free.get(size)?.pop();
    if (ab) {
      this.freeBytes -= size;
      this.unused.delete(ab);
      return Buffer.from(ab, 0, len);
    }
    const fresh = Buffer.allocUnsafeSlow(size).buffer as ArrayBuffer;
    this.mine.add(fresh);
    return Buffer.from(fresh, 0, len);
  }

  /** Hands a payload from `take` back once nothing reads it any more; others are ignored, as is a second give. */
  give(payload: Uint8Array): void {
    const ab = payload.buffer as ArrayBuffer;
    if (!this.mine.has(ab) || this.unused.has(ab) || this.freeBytes + ab.byteLength > this.maxFreeBytes) return;
    let list = this.free.get(ab.byteLength);
    if (!list) this.free.set(ab.byteLength, (list = []));
    list.push(ab);
    this.unused.add(ab);
    this.freeBytes += ab.byteLength;
  }
}
