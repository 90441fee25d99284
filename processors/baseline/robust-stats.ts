/**
 * Robust statistics of a size (argument length, request body bytes): median and MAD over a bounded
 * sample, so one huge learned value cannot hide the next one the way a mean and standard deviation
 * would. The newest samples replace the oldest past `max`.
 */
export class SizeStats {
  private cache: { median: number; mad: number; max: number } | undefined;

  constructor(
    readonly samples: number[] = [],
    private readonly maxSamples = 256,
  ) {}

  add(x: number): void {
    this.samples.push(x);
    if (this.samples.length > this.maxSamples) this.samples.splice(0, this.samples.length - this.maxSamples);
    this.cache = undefined;
  }

  get count(): number {
    return this.samples.length;
  }

  summary(): { median: number; mad: number; max: number } {
    if (!this.cache) {
      const s = [...this.samples].sort((a, b) => a - b);
      const median = quantile(s, 0.5);
      const dev = s.map((x) => Math.abs(x - median)).sort((a, b) => a - b);
      this.cache = { median, mad: quantile(dev, 0.5), max: s.length > 0 ? s[s.length - 1]! : 0 };
    }
    return this.cache;
  }

  /**
   * Above the learned range: larger than `tolerance` times the largest learned value and than
   * median + `madFactor` x MAD (scaled to a standard deviation, x 1.4826). Both, so a constant size
   * (MAD 0) still allows natural variation and a spread-out one is judged by its spread.
   */
  threshold(tolerance: number, madFactor: number): number {
    const { median, mad, max } = this.summary();
    return Math.max(max * tolerance, median + madFactor * 1.4826 * mad);
  }
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (i - lo);
}
