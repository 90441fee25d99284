// `aibom_ebpf_event_lag_seconds`, a histogram whose children are plain counts the receiver adds to per
// event: prom-client's `observe` hashes and validates the labels on every call (~0.6 µs, once per kernel
// event). It exports what a prom-client Histogram with the same observations exports (`get()`: the same
// samples, names, labels and order), so /metrics does not change.

/** One child (label set): counts per bucket, not cumulative; the last slot counts values above every bound. */
export class LagCounts {
  readonly buckets: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.buckets = new Float64Array(bounds.length + 1);
  }

  observe(seconds: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.buckets[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

interface Sample {
  value: number;
  labels: Record<string, string | number>;
  metricName: string;
  exemplar?: null;
}

/** Registered in a prom-client registry as a metric of its own (`registry.registerMetric`). */
export class LagHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly children = new Map<string, LagCounts>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelName: string,
    private readonly bounds: readonly number[],
  ) {}

  /** The counts of label value `value`, made on first use. */
  child(value: string): LagCounts {
    let c = this.children.get(value);
    if (!c) this.children.set(value, (c = new LagCounts(this.bounds)));
    return c;
  }

  /** As prom-client's Histogram `get()`: label sets in first-observed order, cumulative buckets, +Inf, sum, count. */
  async get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    const values: Sample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const [value, c] of this.children) {
      if (c.count === 0) continue; // prom-client has no series before its first observation
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += c.buckets[i]!;
        values.push({ value: acc, metricName: bucket, exemplar: null, labels: { le: this.bounds[i]!, [this.labelName]: value } });
      }
      values.push({ value: c.count, metricName: bucket, exemplar: null, labels: { le: '+Inf', [this.labelName]: value } });
      values.push({ value: c.sum, metricName: `${this.name}_sum`, labels: { [this.labelName]: value } });
      values.push({ value: c.count, metricName: `${this.name}_count`, labels: { [this.labelName]: value } });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Zeroes every child (prom-client forgets its series; the receiver keeps its child). */
  reset(): void {
    for (const c of this.children.values()) {
      c.buckets.fill(0);
      c.sum = 0;
      c.count = 0;
    }
  }
}
