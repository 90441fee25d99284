import { isPermanent } from './consumer.js';

export type PendingDropReason = 'pending_full' | 'next_permanent_error' | 'shutdown';

export interface PendingEmitsOptions<T> {
  /** Items held at most; past it the oldest is dropped (`pending_full`). */
  max: number;
  /** Hands one item to the next hop (throws as `Consumer.consume` does). */
  send(item: T): Promise<void>;
  /** Counts (and logs) an item that will never be delivered. */
  dropped(item: T, reason: PendingDropReason, err?: unknown): void;
  sent?(item: T): void;
}

/**
 * What a processor made itself (entity events, deviations, spans of kernel events) on its way to the
 * next hop. Bounded, delivered in order; what the next hop refuses for now stays for the next flush,
 * since by the consumer contract anything but a `PermanentError` may pass later. Nothing leaves
 * without being delivered or counted as dropped: refused for good, pushed out by the bound, or
 * still held at the final flush.
 */
export class PendingEmits<T> {
  private readonly items: T[] = [];

  constructor(private readonly opts: PendingEmitsOptions<T>) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    this.items.push(item);
    while (this.items.length > this.opts.max) this.opts.dropped(this.items.shift()!, 'pending_full');
  }

  /** Delivers in order; stops at the first refusal that may pass later, unless this is the `final` flush. */
  async flush(final = false): Promise<void> {
    while (this.items.length > 0) {
      const item = this.items[0]!;
      try {
        await this.opts.send(item);
      } catch (err) {
        if (!isPermanent(err) && !final) return;
        this.items.shift();
        this.opts.dropped(item, isPermanent(err) ? 'next_permanent_error' : 'shutdown', err);
        continue;
      }
      this.items.shift();
      this.opts.sent?.(item);
    }
  }
}
