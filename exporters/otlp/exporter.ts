import path from 'node:path';
import type client from 'prom-client';
import type { Component, CreateSettings, Host } from '../../pipeline/component.js';
import type { Consumer, Consumers, LogsConsumer, TracesConsumer } from '../../pipeline/consumer.js';
import { PermanentError, RetryableError } from '../../pipeline/consumer.js';
import type { SignalCodec } from '../../pipeline/otlp/codec.js';
import { codecFor } from '../../pipeline/otlp/codec.js';
import { redactSecrets } from '../../pipeline/redact.js';
import type { Signal, SignalData } from '../../pipeline/otlp/types.js';
import type { Logger } from '../../pipeline/telemetry/logger.js';
import type { Metrics } from '../../pipeline/telemetry/metrics.js';
import type { OtlpExporterConfig } from './config.js';
import { DiskStore } from './disk-store.js';
import { PayloadPool } from './payload-pool.js';
import { createGrpcTransport } from './grpc-transport.js';
import { createHttpTransport } from './http-transport.js';
import type { QueuedRequest } from './queue-sender.js';
import { QueueSender } from './queue-sender.js';
import type { Transport } from './result.js';
import type { SendOutcome } from './retry-sender.js';
import { RetrySender } from './retry-sender.js';

export type DropReason = 'rejected_by_backend' | 'permanent_error' | 'retries_exhausted' | 'send_failed' | 'shutdown' | 'unreadable_storage';

const ENQUEUE_FAILED = 'aibom_exporter_enqueue_failed_items_total';
/** Encoded payloads kept for reuse per signal (payload-pool.ts): four batches of 8192 LLM spans. */
const MAX_POOLED_BYTES = 16 * 1024 * 1024;

/** Items refused at the queue's door (full or shutting down): not lost, the caller keeps them. */
function enqueueFailedCounter(metrics: Metrics): client.Counter<'component' | 'signal'> {
  const existing = metrics.registry.getSingleMetric(ENQUEUE_FAILED) as client.Counter<'component' | 'signal'> | undefined;
  return existing ?? metrics.counter(ENQUEUE_FAILED, 'Items an exporter refused because its sending queue was full or shutting down (the caller keeps them).', ['component', 'signal']);
}

/** A storage directory per exporter and signal, so two exporters can share `sending_queue.storage`. */
export function storageDir(root: string, id: string, signal: Signal): string {
  return path.join(root, id.replace(/[^A-Za-z0-9._-]/g, '_'), signal);
}

type State = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * One signal's sender chain: queue -> retry -> timeout -> export.
 *
 * Shutdown order (also in README.md): 1. refuse new data (RetryableError); 2. workers keep draining
 * the queue, retries included, until it is empty or `shutdown_timeout` passes; 3. at the deadline,
 * interrupt back-off waits and attempts in flight; 4. what is left stays on disk (persistent queue,
 * sent at next start) or is counted as dropped{reason="shutdown"}; 5. close the connection.
 */
class SignalSender<S extends Signal> implements Consumer<SignalData<S>> {
  private readonly labels: { component: string; signal: S };
  private readonly logger: Logger;
  private readonly enqueueFailed: client.Counter<'component' | 'signal'>;
  private transport: Transport | undefined;
  private retry: RetrySender | undefined;
  private queue: QueueSender | undefined;
  private store: DiskStore | undefined;
  private state: State = 'created';
  /** Without a queue: callers' requests in flight, interrupted at the shutdown deadline. */
  private readonly direct = new Set<Promise<unknown>>();
  private readonly directStop = new AbortController();
  private readonly pool = new PayloadPool(MAX_POOLED_BYTES);

  constructor(
    private readonly settings: CreateSettings,
    private readonly config: OtlpExporterConfig,
    private readonly codec: SignalCodec<S>,
  ) {
    this.labels = { component: settings.id, signal: codec.signal };
    this.logger = settings.logger.child({ signal: codec.signal });
    this.enqueueFailed = enqueueFailedCounter(settings.metrics);
  }

  private get metrics(): Metrics {
    return this.settings.metrics;
  }

  async start(): Promise<void> {
    if (this.state !== 'created') return;
    this.state = 'starting';
    const { config } = this;
    this.transport = config.protocol === 'grpc' ? await createGrpcTransport(config, this.codec) : await createHttpTransport(config, this.codec);
    this.retry = new RetrySender(config.retryOnFailure, config.timeoutMs, this.transport, (message, delayMs) => {
      this.metrics.exporterRetries.inc(this.labels);
      this.logger.warn({ error: redactSecrets(message), retry_in_ms: delayMs }, 'export failed; will retry');
    });
    const q = config.sendingQueue;
    if (q.enabled) {
      this.metrics.exporterQueueCapacity.set(this.labels, q.queueSize);
      this.metrics.exporterQueueSize.set(this.labels, 0);
      let restored: QueuedRequest[] = [];
      if (q.storage) {
        this.store = new DiskStore(storageDir(q.storage, this.settings.id, this.codec.signal));
        try {
          restored = await this.restore(await this.store.open());
        } catch (err) {
          await this.transport.close();
          this.state = 'stopped';
          throw new Error(`exporter ${this.settings.id}: cannot open sending_queue.storage ${this.store.dir}: ${(err as Error).message}`);
        }
      }
      this.queue = new QueueSender({
        capacity: q.queueSize,
        numConsumers: q.numConsumers,
        ...(this.store ? { store: this.store } : {}),
        handle: (req, stop) => this.handle(req, stop),
        onSize: (n) => this.metrics.exporterQueueSize.set(this.labels, n),
      });
      this.queue.start(restored);
      if (restored.length > 0) {
        const items = restored.reduce((n, r) => n + r.items, 0);
        this.logger.info({ requests: restored.length, items, dir: this.store?.dir }, 'restored queued requests from a previous run');
      }
    }
    this.state = 'running';
  }

  /** Brings stored requests to the current encoding (the user may have switched `encoding`). */
  private async restore(stored: Awaited<ReturnType<DiskStore['open']>>): Promise<QueuedRequest[]> {
    const want = this.transport!.encoding;
    const out: QueuedRequest[] = [];
    for (const s of stored) {
      if (s.encoding === want) {
        out.push(s);
        continue;
      }
      try {
        const data = s.encoding === 'proto' ? this.codec.decode(s.payload) : this.codec.fromJson(Buffer.from(s.payload).toString('utf8'));
        const payload = this.encode(data);
        const key = await this.store!.put(payload, s.items, want);
        await this.store!.remove(s.key);
        out.push({ items: s.items, payload, encoding: want, key });
      } catch (err) {
        this.drop('unreadable_storage', s.items, (err as Error).message);
        await this.store!.remove(s.key);
      }
    }
    return out;
  }

  private encode(data: SignalData<S>): Uint8Array {
    return this.transport!.encoding === 'json' ? Buffer.from(this.codec.toJson(data)) : this.codec.encode(data, (len) => this.pool.take(len));
  }

  async consume(data: SignalData<S>): Promise<void> {
    if (this.state !== 'running') throw new RetryableError(`exporter ${this.settings.id} is not running (${this.state})`);
    const items = this.codec.count(data);
    if (items === 0) return;
    const req: QueuedRequest = { items, payload: this.encode(data), encoding: this.transport!.encoding };
    if (this.queue) {
      try {
        await this.queue.offer(req);
      } catch (err) {
        this.pool.give(req.payload);
        this.enqueueFailed.inc(this.labels, items);
        throw err;
      }
      return;
    }
    const p = this.retry!.send(req.payload, this.directStop.signal);
    this.direct.add(p);
    let outcome: SendOutcome;
    try {
      outcome = await p;
    } finally {
      this.direct.delete(p);
      this.pool.give(req.payload);
    }
    if (outcome.kind === 'ok') return this.accountOk(items, outcome.partial);
    // Without a queue the caller keeps responsibility for failed data, so it is not counted as dropped here.
    if (outcome.kind === 'stopped') throw new RetryableError(`exporter ${this.settings.id} shut down: ${outcome.message}`);
    if (outcome.reason === 'permanent_error') throw new PermanentError(outcome.message);
    throw new RetryableError(outcome.message);
  }

  private async handle(req: QueuedRequest, stop: AbortSignal): Promise<'done' | 'stopped'> {
    const outcome = await this.retry!.send(req.payload, stop);
    if (outcome.kind === 'stopped') return 'stopped';
    this.pool.give(req.payload);
    if (outcome.kind === 'ok') this.accountOk(req.items, outcome.partial);
    else this.drop(outcome.reason, req.items, outcome.message);
    return 'done';
  }

  private accountOk(items: number, partial: { rejected: number; errorMessage: string } | undefined): void {
    const rejected = Math.min(items, Math.max(0, partial?.rejected ?? 0));
    this.metrics.exporterSent.inc(this.labels, items - rejected);
    if (rejected > 0) this.drop('rejected_by_backend', rejected, partial!.errorMessage);
    else if (partial?.errorMessage) this.logger.warn({ backend_message: redactSecrets(partial.errorMessage) }, 'backend accepted the request with a warning');
  }

  private drop(reason: DropReason, items: number, message: string): void {
    this.metrics.exporterDropped.inc({ ...this.labels, reason }, items);
    this.logger.error({ reason, [this.codec.itemName]: items, error: redactSecrets(message) }, `dropped ${items} ${this.codec.itemName}`);
  }

  async shutdown(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    const wasStarted = this.state !== 'created';
    this.state = 'stopping';
    if (wasStarted) {
      const deadlineMs = this.config.shutdownTimeoutMs;
      if (this.queue) {
        const rest = await this.queue.shutdown(deadlineMs);
        const items = rest.reduce((n, r) => n + r.items, 0);
        if (items > 0 && this.store) {
          this.logger.info({ requests: rest.length, [this.codec.itemName]: items, dir: this.store.dir }, 'left queued requests on disk; they are sent at next start');
        } else if (items > 0) {
          this.drop('shutdown', items, `not sent within shutdown_timeout (${deadlineMs} ms)`);
        }
      } else if (this.direct.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.allSettled([...this.direct]), new Promise((r) => (timer = setTimeout(r, deadlineMs)))]);
        clearTimeout(timer);
        this.directStop.abort(new Error('shutdown deadline reached'));
        await Promise.allSettled([...this.direct]);
      }
      await this.transport?.close();
    }
    this.state = 'stopped';
  }
}

/** The `otlp` / `otlphttp` exporter: one sender chain per signal, sharing nothing but config. */
export class OtlpExporter implements Component, Consumers {
  readonly traces: TracesConsumer;
  readonly logs: LogsConsumer;
  private readonly senders: [SignalSender<'traces'>, SignalSender<'logs'>];
  private started: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;

  constructor(settings: CreateSettings, config: OtlpExporterConfig) {
    this.senders = [new SignalSender(settings, config, codecFor('traces')), new SignalSender(settings, config, codecFor('logs'))];
    const [traces, logs] = this.senders;
    this.traces = { consume: (d) => traces.consume(d) };
    this.logs = { consume: (d) => logs.consume(d) };
  }

  start(_host?: Host): Promise<void> {
    this.started ??= (async () => {
      const results = await Promise.allSettled(this.senders.map((s) => s.start()));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) {
        // Undo the half-done start: whatever started is shut down before reporting the failure.
        await Promise.allSettled(this.senders.map((s) => s.shutdown()));
        throw failed.reason;
      }
    })();
    return this.started;
  }

  shutdown(): Promise<void> {
    this.stopped ??= (async () => {
      await this.started?.catch(() => undefined);
      await Promise.all(this.senders.map((s) => s.shutdown()));
    })();
    return this.stopped;
  }
}
