import type { Consumer } from '../../pipeline/consumer.js';
import { PermanentError, RetryableError } from '../../pipeline/consumer.js';
import { forgetReads } from '../../pipeline/otlp/span-view.js';
import type { Signal, SignalData } from '../../pipeline/otlp/types.js';
import type { Logger } from '../../pipeline/telemetry/logger.js';
import type { Metrics } from '../../pipeline/telemetry/metrics.js';
import type { BatchConfig } from './config.js';
import { identity } from './identity.js';

/** Field names of the resource -> scope -> item levels, per signal. */
const SHAPE = {
  traces: { top: 'resourceSpans', scope: 'scopeSpans', item: 'spans' },
  logs: { top: 'resourceLogs', scope: 'scopeLogs', item: 'logRecords' },
} as const;

type Obj = Record<string, unknown>;

interface ScopeGroup {
  key: string;
  scope: unknown;
  schemaUrl: unknown;
  items: unknown[];
}

interface ResourceGroup {
  key: string;
  resource: unknown;
  schemaUrl: unknown;
  scopes: ScopeGroup[];
  byKey: Map<string, ScopeGroup>;
}

/**
 * Batches one signal. Incoming data is merged into pending resource -> scope groups (identical
 * resources and scopes are merged); batches are cut from the front, at most `send_batch_max_size`
 * items each. A batch cut from a group shares that group's resource and scope objects with the
 * following batch, so processors after `batch` must not change resources in place (exporters
 * don't).
 */
export class Batcher<S extends Signal> implements Consumer<SignalData<S>> {
  private readonly shape: (typeof SHAPE)[S];
  private groups: ResourceGroup[] = [];
  private byKey = new Map<string, ResourceGroup>();
  private pending = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly flushes = new Set<Promise<void>>();
  private readonly labels: { component: string; signal: S };

  constructor(
    private readonly signal: S,
    private readonly config: BatchConfig,
    private readonly next: Consumer<SignalData<S>>,
    private readonly id: string,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.shape = SHAPE[signal];
    this.labels = { component: id, signal };
  }

  /** Items waiting for a batch plus items being handed to the next consumer. */
  get held(): number {
    return this.pending + this.inFlight;
  }

  async consume(data: SignalData<S>): Promise<void> {
    if (this.closed) throw new RetryableError(`processor ${this.id} is shut down`);
    const before = this.pending;
    const n = this.countOf(data);
    if (n === 0) return;
    const held = this.held;
    if (held > 0 && held + n > this.config.maxPendingItems) {
      throw new RetryableError(`processor ${this.id}: ${held} ${this.signal} items already held (max_pending_items ${this.config.maxPendingItems})`);
    }
    this.merge(data);
    const { sendBatchSize, timeoutMs } = this.config;
    const now = timeoutMs === 0 || (sendBatchSize > 0 && this.pending >= sendBatchSize);
    if (!now) {
      this.arm();
      return;
    }
    // Size-triggered: cut full batches now and hand them on while the caller waits, so the caller
    // gets the next consumer's error. Items of earlier callers in a failed batch have no one to
    // return the error to: they are counted as dropped.
    const batches: { data: SignalData<S>; items: number; own: number }[] = [];
    let offset = 0;
    const ownStart = before;
    const ownEnd = before + n;
    while (this.pending > 0 && (timeoutMs === 0 || this.pending >= Math.max(1, sendBatchSize))) {
      const cut = this.take(this.limit());
      const own = Math.max(0, Math.min(offset + cut.items, ownEnd) - Math.max(offset, ownStart));
      batches.push({ ...cut, own });
      offset += cut.items;
    }
    if (this.pending > 0) this.arm();
    else this.disarm();
    let firstError: unknown;
    for (const b of batches) {
      try {
        await this.send(b.data, b.items);
      } catch (err) {
        firstError ??= err;
        if (b.items > b.own) this.dropped(b.items - b.own, err);
      }
    }
    if (firstError !== undefined) throw firstError;
  }

  private limit(): number {
    return this.config.sendBatchMaxSize > 0 ? this.config.sendBatchMaxSize : this.pending;
  }

  private countOf(data: SignalData<S>): number {
    let n = 0;
    for (const r of ((data as unknown as Obj)[this.shape.top] as Obj[] | undefined) ?? []) {
      for (const s of (r[this.shape.scope] as Obj[] | undefined) ?? []) n += ((s[this.shape.item] as unknown[] | undefined) ?? []).length;
    }
    return n;
  }

  private merge(data: SignalData<S>): void {
    for (const r of ((data as unknown as Obj)[this.shape.top] as Obj[] | undefined) ?? []) {
      const rkey = identity(r['resource'], r['schemaUrl']);
      let rg = this.byKey.get(rkey);
      for (const s of (r[this.shape.scope] as Obj[] | undefined) ?? []) {
        const items = (s[this.shape.item] as unknown[] | undefined) ?? [];
        if (items.length === 0) continue;
        if (!rg) {
          rg = { key: rkey, resource: r['resource'], schemaUrl: r['schemaUrl'], scopes: [], byKey: new Map() };
          this.byKey.set(rkey, rg);
          this.groups.push(rg);
        }
        const skey = identity(s['scope'], s['schemaUrl']);
        let sg = rg.byKey.get(skey);
        if (!sg) {
          sg = { key: skey, scope: s['scope'], schemaUrl: s['schemaUrl'], items: [] };
          rg.byKey.set(skey, sg);
          rg.scopes.push(sg);
        }
        // Indexed: `for...of` made an iterator result per item where this runs unoptimised (once per batch).
        for (let i = 0; i < items.length; i++) {
          forgetReads(items[i]);
          sg.items.push(items[i]);
        }
        this.pending += items.length;
      }
    }
  }

  /** Cuts up to `max` items from the front of the pending groups. */
  private take(max: number): { data: SignalData<S>; items: number } {
    const out: Obj[] = [];
    let left = max;
    while (left > 0 && this.groups.length > 0) {
      const rg = this.groups[0]!;
      const scopes: Obj[] = [];
      while (left > 0 && rg.scopes.length > 0) {
        const sg = rg.scopes[0]!;
        const items = sg.items.length <= left ? sg.items : sg.items.splice(0, left);
        if (items === sg.items) {
          rg.scopes.shift();
          rg.byKey.delete(sg.key);
        }
        left -= items.length;
        scopes.push({ scope: sg.scope, schemaUrl: sg.schemaUrl, [this.shape.item]: items });
      }
      if (rg.scopes.length === 0) {
        this.groups.shift();
        this.byKey.delete(rg.key);
      }
      out.push({ resource: rg.resource, schemaUrl: rg.schemaUrl, [this.shape.scope]: scopes });
    }
    const items = max - left;
    this.pending -= items;
    return { data: { [this.shape.top]: out } as unknown as SignalData<S>, items };
  }

  private async send(data: SignalData<S>, items: number): Promise<void> {
    this.inFlight += items;
    try {
      await this.next.consume(data);
    } finally {
      this.inFlight -= items;
    }
  }

  private dropped(items: number, err: unknown): void {
    const reason = err instanceof PermanentError ? 'next_permanent_error' : 'next_retryable_error';
    this.metrics.processorDropped.inc({ ...this.labels, reason }, items);
    this.logger.error({ reason, signal: this.signal, items, error: (err as Error)?.message ?? String(err) }, `dropped ${items} ${this.signal} items: the next consumer refused a batch`);
  }

  private arm(): void {
    if (this.timer || this.pending === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.track(this.flushAll());
    }, this.config.timeoutMs);
    this.timer.unref();
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private track(p: Promise<void>): void {
    this.flushes.add(p);
    void p.finally(() => this.flushes.delete(p));
  }

  /** Timer and shutdown flushes: there is no caller, so a refused batch is counted and logged. */
  private async flushAll(): Promise<void> {
    while (this.pending > 0) {
      const { data, items } = this.take(this.limit());
      try {
        await this.send(data, items);
      } catch (err) {
        this.dropped(items, err);
      }
    }
  }

  async shutdown(): Promise<void> {
    if (this.closed) {
      await Promise.all([...this.flushes]);
      return;
    }
    this.closed = true;
    this.disarm();
    this.track(this.flushAll());
    await Promise.all([...this.flushes]);
  }
}
