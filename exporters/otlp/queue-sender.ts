import { RetryableError } from '../../pipeline/consumer.js';
import type { DiskStore } from './disk-store.js';

export interface QueuedRequest {
  items: number;
  payload: Uint8Array;
  encoding: 'proto' | 'json';
  /** File name in the disk store, when the queue is persistent. */
  key?: string;
}

/** What the handler did with a request: finished it (sent or given up) or was stopped by shutdown. */
export type HandleResult = 'done' | 'stopped';

export interface QueueSenderOptions {
  /** Capacity in items; a request larger than that is accepted only into an empty queue. */
  capacity: number;
  numConsumers: number;
  store?: DiskStore;
  /** Sends one request through retry -> timeout -> export and does the accounting. */
  handle(req: QueuedRequest, stop: AbortSignal): Promise<HandleResult>;
  /** Called whenever the number of held items (waiting + being sent) changes. */
  onSize(items: number): void;
}

/**
 * Bounded sending queue with `num_consumers` workers. `offer` never waits for the backend: it
 * resolves once the request is held (and, with storage, on disk) or rejects with RetryableError
 * when the queue is full, which is the pipeline's backpressure signal.
 */
export class QueueSender {
  private readonly waiting: QueuedRequest[] = [];
  private held = 0;
  private closed = false;
  private readonly stopController = new AbortController();
  private wake: (() => void)[] = [];
  private workers: Promise<void>[] = [];

  constructor(private readonly opts: QueueSenderOptions) {}

  get heldItems(): number {
    return this.held;
  }

  /** Re-queues what a previous run left on disk, then starts the workers. */
  start(restored: QueuedRequest[]): void {
    for (const r of restored) this.push(r);
    for (let i = 0; i < this.opts.numConsumers; i++) this.workers.push(this.work());
  }

  async offer(req: QueuedRequest): Promise<void> {
    if (this.closed) throw new RetryableError('exporter is shutting down');
    if (this.held > 0 && this.held + req.items > this.opts.capacity) {
      throw new RetryableError(`sending queue is full (${this.held} of ${this.opts.capacity} items held)`);
    }
    // Reserve the room before the disk write, so concurrent offers cannot overfill the queue.
    this.held += req.items;
    if (this.opts.store) {
      try {
        req.key = await this.opts.store.put(req.payload, req.items, req.encoding);
      } catch (err) {
        this.held -= req.items;
        throw new RetryableError(`cannot persist the request in ${this.opts.store.dir}: ${(err as Error).message}`);
      }
    }
    this.held -= req.items;
    this.push(req);
  }

  private push(req: QueuedRequest): void {
    this.waiting.push(req);
    this.held += req.items;
    this.opts.onSize(this.held);
    this.wake.shift()?.();
  }

  private async next(): Promise<QueuedRequest | undefined> {
    for (;;) {
      if (this.stopController.signal.aborted) return undefined;
      const req = this.waiting.shift();
      if (req) return req;
      if (this.closed) return undefined;
      await new Promise<void>((resolve) => this.wake.push(resolve));
    }
  }

  private async work(): Promise<void> {
    for (let req = await this.next(); req; req = await this.next()) {
      const result = await this.opts.handle(req, this.stopController.signal);
      if (result === 'stopped') {
        // Shutdown interrupted it: back to the front, so it is counted or kept on disk with the rest.
        this.waiting.unshift(req);
        continue;
      }
      if (req.key && this.opts.store) await this.opts.store.remove(req.key).catch(() => undefined);
      this.held -= req.items;
      this.opts.onSize(this.held);
    }
  }

  /**
   * Shutdown: refuse new requests, let the workers drain within `deadlineMs`, then interrupt them
   * (waits and attempts in flight). Returns the requests that were neither sent nor given up.
   */
  async shutdown(deadlineMs: number): Promise<QueuedRequest[]> {
    this.closed = true;
    for (const w of this.wake.splice(0)) w();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)));
    await Promise.race([Promise.all(this.workers), deadline]);
    clearTimeout(timer);
    this.stopController.abort(new Error('shutdown deadline reached'));
    for (const w of this.wake.splice(0)) w();
    await Promise.all(this.workers);
    const rest = this.waiting.splice(0);
    this.held = 0;
    this.opts.onSize(0);
    return rest;
  }
}
