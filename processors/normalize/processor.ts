import type { Counter } from 'prom-client';
import type { Component, CreateSettings, Host } from '../../pipeline/component.js';
import type { Consumers, TracesConsumer } from '../../pipeline/consumer.js';
import { appendAttributes, hasReservedAttribute } from '../../pipeline/otlp/span-view.js';
import type { KeyValue, Span, TracesData } from '../../pipeline/otlp/types.js';
import type { Logger } from '../../pipeline/telemetry/logger.js';
import type { Metrics } from '../../pipeline/telemetry/metrics.js';
import type { CanonicalKind, CanonicalSpan, NormalizeSource } from './canonical.js';
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

/**
 * The attributes normalize writes, as one frozen list per distinct set of values, shared by every
 * span that gets it: appended to a received span as it is (no array per span), its protobuf bytes
 * encoded once by the exporter's encoder and its JSON written once by the file exporter's writer.
 * Frozen (KeyValues and values too), a component changing one in place fails loudly instead of
 * changing every span. Sets are few (kinds, providers, the models and tools in use): at most
 * MAX_LISTS are kept, then the cache starts over (junk input); the last few sets of each kind are
 * checked first, so spans of one instrumentation find their list with a few comparisons.
 */
const MAX_LISTS = 1024;

/** What normalize writes for one view, and its row in the per-batch tally. */
interface Written {
  readonly view: Readonly<Fields>;
  readonly list: readonly KeyValue[];
  readonly tally: number;
}

type Fields = Pick<CanonicalSpan, 'kind' | 'source' | 'modelName' | 'provider' | 'toolName' | 'agentName' | 'mcpMethod' | 'dataSourceId'>;

/** Tally rows: kind by source, `none` for spans no convention recognises. */
const KINDS: Readonly<Record<CanonicalKind | 'none', number>> = { none: 0, agent: 1, llm: 2, tool: 3, retriever: 4, embedding: 5, mcp_client: 6, mcp_server: 7, chain: 8, http: 9, other: 10 };
const SOURCES: Readonly<Record<NormalizeSource | 'none', number>> = { none: 0, gen_ai: 1, openinference: 2, openllmetry: 3, langsmith: 4, mcp: 5, http: 6 };
const KIND_NAMES = Object.keys(KINDS);
const SOURCE_NAMES = Object.keys(SOURCES);
const TALLY_ROWS = KIND_NAMES.length * SOURCE_NAMES.length;
const UNRECOGNISED = 0; // none, none

const sameFields = (a: Readonly<Fields>, b: Readonly<Fields>): boolean =>
  a.kind === b.kind &&
  a.source === b.source &&
  a.modelName === b.modelName &&
  a.provider === b.provider &&
  a.toolName === b.toolName &&
  a.agentName === b.agentName &&
  a.mcpMethod === b.mcpMethod &&
  a.dataSourceId === b.dataSourceId;

/** The sets written last per kind (by KINDS), newest first, then all sets by a key of their values. */
const RECENT = 4;
const recentOfKind: Written[][] = KIND_NAMES.map(() => []);
const lists = new Map<string, Written>();

function written(view: Readonly<CanonicalSpan>): Written {
  const k = KINDS[view.kind];
  const recent = recentOfKind[k]!;
  for (let i = 0; i < recent.length; i++) if (sameFields(recent[i]!.view, view)) return recent[i]!;
  const fields: Fields = {
    kind: view.kind,
    source: view.source,
    modelName: view.modelName,
    provider: view.provider,
    toolName: view.toolName,
    agentName: view.agentName,
    mcpMethod: view.mcpMethod,
    dataSourceId: view.dataSourceId,
  };
  const key = JSON.stringify([fields.kind, fields.source, fields.modelName, fields.provider, fields.toolName, fields.agentName, fields.mcpMethod, fields.dataSourceId]);
  let w = lists.get(key);
  if (!w) {
    if (lists.size >= MAX_LISTS) lists.clear();
    w = Object.freeze({ view: Object.freeze(fields), list: attributeList(fields), tally: k * SOURCE_NAMES.length + SOURCES[fields.source] });
    lists.set(key, w);
  }
  if (recent.length === RECENT) recent.pop();
  recent.unshift(w);
  return w;
}

function attributeList(view: Fields): readonly KeyValue[] {
  const add: KeyValue[] = [];
  const put = (key: (typeof OWN_KEYS)[number], value: string | undefined) => {
    if (value !== undefined) add.push(Object.freeze({ key, value: Object.freeze({ stringValue: value }) }));
  };
  if (view.kind !== 'other') put('aibom.span.kind', view.kind);
  put('aibom.model.name', view.modelName);
  put('aibom.model.provider', view.provider);
  put('aibom.tool.name', view.toolName);
  put('aibom.agent.name', view.agentName);
  put('aibom.mcp.method', view.mcpMethod);
  put('aibom.data_source.id', view.dataSourceId);
  put('aibom.normalize.source', view.source);
  return Object.freeze(add);
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
  /** Spans of the batch being normalised per tally row (kind by source); zeroed as they are counted. */
  private readonly tally = new Float64Array(TALLY_ROWS);

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
    // Spans by kind and source, counted in a row per pair and added to the metric once per batch.
    const tally = this.tally;
    let failed = 0;
    let firstError: unknown;
    for (const rs of data.resourceSpans) {
      for (const ss of rs.scopeSpans) {
        for (const span of ss.spans) {
          try {
            const view = canonicalView(span);
            const w = view ? written(view) : undefined;
            writeList(span, w ? w.list : NONE);
            const row = w ? w.tally : UNRECOGNISED;
            tally[row] = tally[row]! + 1;
          } catch (err) {
            // Not expected (every field is optional and checked); the span goes on as it came.
            failed++;
            firstError ??= err;
          }
        }
      }
    }
    for (let i = 0; i < TALLY_ROWS; i++) {
      if (tally[i] === 0) continue;
      const kind = KIND_NAMES[Math.floor(i / SOURCE_NAMES.length)]!;
      const source = SOURCE_NAMES[i % SOURCE_NAMES.length]!;
      this.spans.inc({ component: this.id, kind, source }, tally[i]!);
      tally[i] = 0;
    }
    if (failed > 0) {
      this.failures.inc({ component: this.id, reason: 'exception' }, failed);
      this.logger.warn({ component: this.id, spans: failed, err: String(firstError) }, 'normalize failed on spans; passed on unchanged');
    }
  }
}

const NONE: readonly KeyValue[] = Object.freeze([]);

/**
 * Writes the view's attributes, replacing any value of our keys the span already had (an upstream
 * tier, or an application spoofing them); a span nobody recognises loses such values too, so
 * `aibom.*` always means what normalize decided.
 */
export function writeAttributes(span: Span, view: CanonicalSpan | undefined): void {
  writeList(span, view ? written(view).list : NONE);
}

function writeList(span: Span, add: readonly KeyValue[]): void {
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
