import type { Counter } from 'prom-client';
import type { Component, CreateSettings, Host } from '../../pipeline/component.js';
import type { Consumers, TracesConsumer } from '../../pipeline/consumer.js';
import { attr } from '../../pipeline/otlp/attributes.js';
import { appendAttributes, hasReservedAttribute } from '../../pipeline/otlp/span-view.js';
import type { KeyValue, Span, TracesData } from '../../pipeline/otlp/types.js';
import type { Logger } from '../../pipeline/telemetry/logger.js';
import type { Metrics } from '../../pipeline/telemetry/metrics.js';
import type { CanonicalSpan } from './canonical.js';
import { canonicalView } from './canonical.js';
import type { NormalizeConfig } from './config.js';

/** The attributes normalize owns: written from the canonical view, any earlier value replaced or removed. */
export const OWN_KEYS = [
  'aibom.span.kind',
  'aibom.model.name',
  'aibom.model.provider',
  'aibom.tool.name',
  'aibom.agent.name',
  'aibom.mcp.method',
  'aibom.data_source.id',
  'aibom.normalize.source',
] as const;
const OWN: ReadonlySet<string> = new Set(OWN_KEYS);

function sharedCounter<L extends string>(metrics: Metrics, name: string, help: string, labels: readonly L[]): Counter<L> {
  // Several normalize instances (normalize/a, normalize/b) share one registry; register once.
  return (metrics.registry.getSingleMetric(name) as Counter<L> | undefined) ?? metrics.counter(name, help, labels);
}

/**
 * The `normalize` processor: adds the canonical `aibom.*` attributes to every span a supported
 * convention recognises and hands the same batch on. Stateless; spans are changed in place (the
 * consumer owns what it is given).
 */
export class NormalizeProcessor implements Component, Consumers {
  readonly traces: TracesConsumer;
  private readonly spans: Counter<'component' | 'kind' | 'source'>;
  private readonly failures: Counter<'component' | 'reason'>;
  private readonly logger: Logger;
  private readonly id: string;

  constructor(settings: CreateSettings, _config: NormalizeConfig, next: Consumers) {
    this.id = settings.id;
    this.logger = settings.logger;
    this.spans = sharedCounter(settings.metrics, 'aibom_normalize_spans_total', 'Spans seen by normalize, by canonical kind and deciding convention (kind="none": not recognised).', ['component', 'kind', 'source']);
    this.failures = sharedCounter(settings.metrics, 'aibom_normalize_failed_spans_total', 'Spans normalize could not handle; they were passed on unchanged.', ['component', 'reason']);
    const downstream = next.traces;
    this.traces = {
      consume: (data) => {
        if (!downstream) return Promise.reject(new Error(`processor ${this.id} has no next consumer for traces`));
        this.normalize(data);
        return downstream.consume(data);
      },
    };
  }

  async start(_host?: Host): Promise<void> {}

  /** Nothing is held; idempotent, works without start. */
  async shutdown(): Promise<void> {}

  private normalize(data: TracesData): void {
    const tally = new Map<string, number>();
    let failed = 0;
    let firstError: unknown;
    for (const rs of data.resourceSpans) {
      for (const ss of rs.scopeSpans) {
        for (const span of ss.spans) {
          try {
            const view = canonicalView(span);
            writeAttributes(span, view);
            const key = view ? `${view.kind}|${view.source}` : 'none|none';
            tally.set(key, (tally.get(key) ?? 0) + 1);
          } catch (err) {
            // Not expected (every field is optional and checked); the span goes on as it came.
            failed++;
            firstError ??= err;
          }
        }
      }
    }
    for (const [key, n] of tally) {
      const bar = key.indexOf('|');
      this.spans.inc({ component: this.id, kind: key.slice(0, bar), source: key.slice(bar + 1) }, n);
    }
    if (failed > 0) {
      this.failures.inc({ component: this.id, reason: 'exception' }, failed);
      this.logger.warn({ component: this.id, spans: failed, err: String(firstError) }, 'normalize failed on spans; passed on unchanged');
    }
  }
}

/**
 * Writes the view's attributes, replacing any value of our keys the span already had (an upstream
 * tier, or an application spoofing them); a span nobody recognises loses such values too, so
 * `aibom.*` always means what normalize decided.
 */
export function writeAttributes(span: Span, view: CanonicalSpan | undefined): void {
  const add: KeyValue[] = [];
  if (view) {
    if (view.kind !== 'other') add.push(attr('aibom.span.kind', view.kind));
    if (view.modelName !== undefined) add.push(attr('aibom.model.name', view.modelName));
    if (view.provider !== undefined) add.push(attr('aibom.model.provider', view.provider));
    if (view.toolName !== undefined) add.push(attr('aibom.tool.name', view.toolName));
    if (view.agentName !== undefined) add.push(attr('aibom.agent.name', view.agentName));
    if (view.mcpMethod !== undefined) add.push(attr('aibom.mcp.method', view.mcpMethod));
    if (view.dataSourceId !== undefined) add.push(attr('aibom.data_source.id', view.dataSourceId));
    add.push(attr('aibom.normalize.source', view.source));
  }
  // Usual case: no `aibom.*` key yet, so nothing to replace: append (a received span stays undecoded).
  if (!hasReservedAttribute(span)) return appendAttributes(span, add);
  let list: KeyValue[] = span.attributes ?? [];
  for (let i = 0; i < list.length; i++) {
    const key = list[i]!.key;
    if (key.charCodeAt(0) === 97 /* a */ && OWN.has(key)) {
      list = list.filter((kv) => !OWN.has(kv.key)); // rare: only re-normalised or spoofed spans
      break;
    }
  }
  for (const kv of add) list.push(kv);
  if (list !== span.attributes && (list.length > 0 || span.attributes)) span.attributes = list;
}
