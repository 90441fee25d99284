import type { Counter } from 'prom-client';
import type { Component, CreateSettings, Host } from '../../pipeline/component.js';
import type { Consumers, TracesConsumer } from '../../pipeline/consumer.js';
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
const [KIND, MODEL, PROVIDER, TOOL, AGENT, MCP_METHOD, DATA_SOURCE, SOURCE] = [0, 1, 2, 3, 4, 5, 6, 7] as const; // OWN_KEYS' order

/**
 * The attributes normalize writes, one frozen KeyValue per key and value shared by every span that
 * gets it (the encoder and the JSON writer only read them; frozen, a component changing one in place
 * fails loudly instead of changing every span). Values are few (kinds, providers, the models and
 * tools in use); each key keeps at most MAX_SHARED and starts over when full (junk input).
 */
const MAX_SHARED = 256;
const sharedValues = OWN_KEYS.map(() => new Map<string, KeyValue>());

function shared(key: number, value: string): KeyValue {
  const byValue = sharedValues[key]!;
  let kv = byValue.get(value);
  if (!kv) {
    if (byValue.size >= MAX_SHARED) byValue.clear();
    kv = Object.freeze({ key: OWN_KEYS[key]!, value: Object.freeze({ stringValue: value }) });
    byValue.set(value, kv);
  }
  return kv;
}

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
    // Spans by kind, then source (`none` for spans no convention recognises): no string built per span.
    const tally = new Map<string, Map<string, number>>();
    let failed = 0;
    let firstError: unknown;
    for (const rs of data.resourceSpans) {
      for (const ss of rs.scopeSpans) {
        for (const span of ss.spans) {
          try {
            const view = canonicalView(span);
            writeAttributes(span, view);
            const kind = view ? view.kind : 'none';
            let bySource = tally.get(kind);
            if (!bySource) tally.set(kind, (bySource = new Map()));
            const source = view ? view.source : 'none';
            bySource.set(source, (bySource.get(source) ?? 0) + 1);
          } catch (err) {
            // Not expected (every field is optional and checked); the span goes on as it came.
            failed++;
            firstError ??= err;
          }
        }
      }
    }
    for (const [kind, bySource] of tally) for (const [source, n] of bySource) this.spans.inc({ component: this.id, kind, source }, n);
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
    if (view.kind !== 'other') add.push(shared(KIND, view.kind));
    if (view.modelName !== undefined) add.push(shared(MODEL, view.modelName));
    if (view.provider !== undefined) add.push(shared(PROVIDER, view.provider));
    if (view.toolName !== undefined) add.push(shared(TOOL, view.toolName));
    if (view.agentName !== undefined) add.push(shared(AGENT, view.agentName));
    if (view.mcpMethod !== undefined) add.push(shared(MCP_METHOD, view.mcpMethod));
    if (view.dataSourceId !== undefined) add.push(shared(DATA_SOURCE, view.dataSourceId));
    add.push(shared(SOURCE, view.source));
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
