// Batches of log records waiting for the next consumer. The kernel cannot be paused, so the queue is
// bounded in records: beyond the bound the oldest whole batches not being sent are dropped and counted.
// One drain loop sends in order, retrying a refusing consumer (its retryAfterMs, else doubling back-off).

import { isPermanent, RetryableError, type LogsConsumer } from '../../pipeline/consumer.js';
import type { LogsData } from '../../pipeline/otlp/types.js';
import type { Logger } from '../../pipeline/telemetry/logger.js';
import type { DropReason, EbpfMetrics } from './metrics.js';

const RETRY_INITIAL_MS = 100;
const RETRY_MAX_MS = 5000;

interface PendingBatch {
  data: LogsData;
  records: number;
}

export interface EventQueueOptions {
  consumer: LogsConsumer;
  /** Most records held; must hold the batch in flight and one more. */
  maxRecords: number;
  logger: Logger;
  metrics: EbpfMetrics;
  component: string;
}

export class EventQueue {
  private readonly pending: PendingBatch[] = [];
  private pendingRecords = 0;
  private inFlight = false;
  private draining: Promise<void> | undefined;
  private wakeDrain: (() => void) | undefined;
  private deadline = Infinity;

  constructor(private readonly opts: EventQueueOptions) {}

  /** Records waiting, including the batch being sent. */
  get records(): number {
    return this.pendingRecords;
  }

  /** Takes ownership of `data` and makes sure it drains. */
  push(data: LogsData, records: number): void {
    this.pending.push({ data, records });
    this.pendingRecords += records;
    while (this.pendingRecords > this.opts.maxRecords) {
      const victim = this.inFlight ? 1 : 0;
      if (victim >= this.pending.length - 1) break; // never the batch just added
      const [dropped] = this.pending.splice(victim, 1);
      this.pendingRecords -= dropped!.records;
      this.opts.metrics.dropped.inc({ component: this.opts.component, reason: 'pipeline_full' }, dropped!.records);
    }
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  private drop(batch: PendingBatch, reason: DropReason): void {
    const i = this.pending.indexOf(batch);
    if (i >= 0) this.pending.splice(i, 1);
    this.pendingRecords -= batch.records;
    this.opts.metrics.dropped.inc({ component: this.opts.component, reason }, batch.records);
  }

  private async drain(): Promise<void> {
    let backoff = RETRY_INITIAL_MS;
    while (this.pending.length > 0 && Date.now() < this.deadline) {
      const batch = this.pending[0]!;
      this.inFlight = true;
      let retryIn = 0;
      try {
        await this.opts.consumer.consume(batch.data);
        this.pending.shift();
        this.pendingRecords -= batch.records;
        this.opts.metrics.sent.inc({ component: this.opts.component }, batch.records);
        backoff = RETRY_INITIAL_MS;
      } catch (err) {
        if (isPermanent(err)) {
          this.opts.logger.warn({ records: batch.records, err: (err as Error).message }, 'pipeline rejected kernel events permanently: dropped');
          this.drop(batch, 'permanent_error');
        } else {
          retryIn = err instanceof RetryableError && err.retryAfterMs ? err.retryAfterMs : backoff;
          backoff = Math.min(backoff * 2, RETRY_MAX_MS);
        }
      } finally {
        this.inFlight = false;
      }
        if (retryIn > 0) await this.sleep(Math.min(retryIn, Math.max(0, this.deadline - Date.now())));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      t.unref();
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wakeDrain = done;
    });
  }

  /**
   * Drains until `deadline` (epoch ms), then drops what is left as `shutdown`, except a batch its
   * consumer still owns.
   */
  async close(deadline: number): Promise<void> {
    this.deadline = deadline;
    this.wakeDrain?.(); // a drain waiting to retry tries once more now, within the deadline
    if (this.draining) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([this.draining, new Promise<void>((r) => (t = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(t);
    }
    for (const batch of [...this.pending]) {
      if (this.inFlight && batch === this.pending[0]) continue; // its consumer still owns it
      this.drop(batch, 'shutdown');
    }
  }
}
