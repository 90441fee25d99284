import type { Component, CreateSettings, Host } from '../../pipeline/component.js';
import type { Consumers, LogsConsumer, TracesConsumer } from '../../pipeline/consumer.js';
import { Batcher } from './batcher.js';
import type { BatchConfig } from './config.js';

/** The `batch` processor: one independent batcher per signal. */
export class BatchProcessor implements Component, Consumers {
  readonly traces: TracesConsumer;
  readonly logs: LogsConsumer;
  private readonly batchers: [Batcher<'traces'>, Batcher<'logs'>];

  constructor(settings: CreateSettings, config: BatchConfig, next: Consumers) {
    const missing = (signal: string) => ({
      consume: () => Promise.reject(new Error(`processor ${settings.id} has no next consumer for ${signal}`)),
    });
    const traces = new Batcher('traces', config, next.traces ?? missing('traces'), settings.id, settings.metrics, settings.logger);
    const logs = new Batcher('logs', config, next.logs ?? missing('logs'), settings.id, settings.metrics, settings.logger);
    this.batchers = [traces, logs];
    this.traces = { consume: (d) => traces.consume(d) };
    this.logs = { consume: (d) => logs.consume(d) };
  }

  async start(_host?: Host): Promise<void> {}

  /** Flushes what is pending to the next consumers; idempotent, works without start. */
  async shutdown(): Promise<void> {
    await Promise.all(this.batchers.map((b) => b.shutdown()));
  }
}
