import client from 'prom-client';
import { CLASSIC_CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE, renderExposition } from './exposition.js';

/**
 * The collector's self-observability counters, shared by every component so names stay uniform.
 * Every item a component receives is eventually counted as accepted/refused (receivers),
 * sent/dropped (exporters) or dropped (processors); `reason` says why, so no loss is silent.
 */
export class Metrics {
  // OpenMetrics-typed because prom-client only accepts exemplar counters on such a registry; /metrics
  // still answers classic text to scrapers that do not ask for OpenMetrics (see exposition.ts).
  readonly registry : client.Registry = openMetricsRegistry();

  readonly receiverAccepted = this.counter('aibom_receiver_accepted_items_total', 'Items accepted by a receiver and passed to the pipeline.', ['component', 'signal', 'transport']);
  readonly receiverRefused = this.counter('aibom_receiver_refused_items_total', 'Items a receiver answered with an error (the sender keeps or retries them).', ['component', 'signal', 'transport', 'reason']);
  readonly receiverNeutralized = this.counter('aibom_receiver_neutralized_items_total', 'Items accepted with the names this product reserves (aibom.*) renamed to untrusted.aibom.*, by the first reserved name found.', ['component', 'signal', 'transport', 'reason']);
  readonly receiverRequestsRejected = this.counter('aibom_receiver_rejected_requests_total', 'Requests rejected before their items could be counted (malformed, too large, unauthorised), and connections refused before a request (too_many_connections, handshake_timeout).', ['component', 'transport', 'reason']);
  readonly processorDropped = this.counter('aibom_processor_dropped_items_total', 'Items a processor dropped, by reason.', ['component', 'signal', 'reason']);
  readonly exporterSent = this.counter('aibom_exporter_sent_items_total', 'Items the backend acknowledged.', ['component', 'signal']);
  readonly exporterRetries = this.counter('aibom_exporter_retries_total', 'Export attempts that failed and were retried.', ['component', 'signal']);
  readonly exporterDropped = this.counter('aibom_exporter_dropped_items_total', 'Items an exporter gave up on, by reason.', ['component', 'signal', 'reason']);
  readonly exporterQueueSize = this.gauge('aibom_exporter_queue_items', 'Items waiting in an exporter queue.', ['component', 'signal']);
  readonly exporterQueueCapacity = this.gauge('aibom_exporter_queue_capacity_items', 'Capacity of an exporter queue.', ['component', 'signal']);

  /** The counter of that name, registered on first use (instances of one component type share it). */
  counter<L extends string>(name: string, help: string, labelNames: readonly L[]): client.Counter<L> {
    return (this.registry.getSingleMetric(name) as client.Counter<L> | undefined) ?? new client.Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /** Like counter(), incremented with an OpenMetrics exemplar (the latest one per series is kept). */
  exemplarCounter<L extends string>(name: string, help: string, labelNames: readonly L[]): { inc(labels: Record<L, string>, exemplar: Record<string, string>): void } {
    const c = (this.registry.getSingleMetric(name) as client.Counter<L> | undefined) ?? new client.Counter({ name, help, labelNames, registers: [this.registry], enableExemplars: true });
    // prom-client's typings tie exemplar label names to the metric's; its code takes any names.
    return { inc: (labels, exemplar) => c.inc({ labels: labels as client.LabelValues<L>, exemplarLabels: exemplar as client.LabelValues<L> }) };
  }

  /** The exposition text and its content type: OpenMetrics (with exemplars) or classic Prometheus text. */
  async render(openMetrics: boolean): Promise<{ contentType: string; body: string }> {
    return { contentType: openMetrics ? OPENMETRICS_CONTENT_TYPE : CLASSIC_CONTENT_TYPE, body: await renderExposition(this.registry, openMetrics) };
  }

  /** The gauge of that name, registered on first use. */
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): client.Gauge<L> {
    return (this.registry.getSingleMetric(name) as client.Gauge<L> | undefined) ?? new client.Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  /** The histogram of that name (seconds buckets unless given), registered on first use. */
  histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets?: number[]): client.Histogram<L> {
    return (this.registry.getSingleMetric(name) as client.Histogram<L> | undefined) ?? new client.Histogram({ name, help, labelNames, registers: [this.registry], ...(buckets ? { buckets } : {}) });
  }

  /** Current value of a counter or gauge for the given labels, 0 when never touched. */
  async value(metric: client.Counter<string> | client.Gauge<string>, labels: Record<string, string>): Promise<number> {
    const { values } = await metric.get();
    let sum = 0;
    for (const v of values) {
      if (Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)) sum += v.value;
    }
    return sum;
  }
}

// prom-client's typings bind a registry's metrics to its content type; the metrics here are typed for
// the classic one, which is what every component sees.
function openMetricsRegistry(): client.Registry {
  const r = new client.Registry<client.OpenMetricsContentType>();
  r.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE as client.OpenMetricsContentType);
  return r as unknown as client.Registry;
}
