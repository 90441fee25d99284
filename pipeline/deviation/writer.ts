import { createHash } from 'node:crypto';
import { attr, bigIntToLong } from '../otlp/attributes.js';
import type { KeyValue, LogRecord, LogsData, Span, TracesData } from '../otlp/types.js';
import { SpanKind } from '../otlp/types.js';
import { redactSecrets } from '../redact.js';
import { ATTR } from '../semconv.js';
import { DEVIATION_EVENT, RULESET, SEVERITY_NUMBER, type Deviation, type Rule } from './deviation.js';
import { DEVIATION_ATTR as A } from './names.js';

/** Longest string a deviation carries (prompt, arguments, facts): enough to read, bounded to export. */
export const MAX_TEXT = 512;
/** Most entries of a list attribute (data, destinations, identities, processes). */
export const MAX_LIST = 16;

/** Who says it: the detector's scope and the service the causing span belongs to. */
export interface DeviationOrigin {
  /** Instrumentation scope of the detector, e.g. `aibom.baseline`. */
  scope: string;
  scopeVersion: string;
  /** `service.name` of the span that caused it, so the backend shows it with the agent. */
  serviceName: string;
  /** More resource attributes of the causing span's resource (host, process, container), optional. */
  resource?: KeyValue[];
}

/** A stable UUID per rule id (name-based, SHA-1, version 5 layout): the same rule has the same uuid everywhere. */
export function ruleUuid(rule: Pick<Rule, 'id'>): string {
  const h = createHash('sha1').update(`${RULESET}/${rule.id}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Redacted and bounded: what a deviation may carry off the host. */
export function safeText(s: string, max = MAX_TEXT): string {
  const r = redactSecrets(s);
  return r.length > max ? `${r.slice(0, max - 1)}…` : r;
}

function safeList(list: readonly string[] | undefined): string[] | undefined {
  if (!list || list.length === 0) return undefined;
  const out = [...new Set(list.map((s) => safeText(s, 256)))];
  return out.length > MAX_LIST ? [...out.slice(0, MAX_LIST - 1), `… ${out.length - MAX_LIST + 1} more`] : out;
}

/** Every attribute of a deviation, on its log record and (the same) on its span. */
export function deviationAttributes(d: Deviation, scopeVersion: string, count = 1): KeyValue[] {
  const c = d.chain;
  const pairs: [string, string | number | boolean | string[] | undefined][] = [
    [A.ruleName, d.rule.name],
    [A.ruleCategory, d.rule.category],
    [A.ruleUuid, ruleUuid(d.rule)],
    [A.ruleDescription, d.rule.description],
    [A.rulesetName, RULESET],
    [A.ruleVersion, scopeVersion],
    [A.rule, d.rule.id],
    [A.severity, d.rule.severity],
    [A.componentId, d.component.id || undefined],
    [A.componentKind, d.component.kind],
    [A.componentName, safeText(d.component.name, 256)],
    [A.fact, safeText(d.fact)],
    [A.observed, safeText(d.observed)],
    [A.count, count],
    [A.sourceSpanId, d.source?.spanId],
    [A.sourceName, d.source ? safeText(d.source.name, 256) : undefined],
    [A.chainPrompt, c.prompt !== undefined ? safeText(c.prompt) : undefined],
    [A.chainLlmSpanId, c.llm?.spanId],
    [A.chainLlmModel, c.llm?.model],
    [A.chainToolSpanId, c.tool?.spanId],
    [A.chainToolName, c.tool?.name],
    [A.chainToolArguments, c.tool?.arguments !== undefined ? safeText(c.tool.arguments) : undefined],
    [A.chainData, safeList(c.data)],
    [A.chainDestination, safeList(c.destination)],
    [A.chainIdentity, safeList(c.identity)],
    [A.chainProcess, safeList(c.process)],
  ];
  const out: KeyValue[] = [];
  for (const [k, v] of pairs) if (v !== undefined) out.push(attr(k, v));
  for (const [k, v] of Object.entries(d.attributes ?? {})) out.push(attr(k, typeof v === 'string' ? safeText(v) : Array.isArray(v) ? (safeList(v) ?? []) : v));
  return out;
}

/** The `aibom.deviation` log record, linked to the causing span by trace and span id. */
export function deviationRecord(d: Deviation, scopeVersion: string, count = 1): LogRecord {
  const t = bigIntToLong(d.timeUnixNano);
  return {
    timeUnixNano: t,
    observedTimeUnixNano: bigIntToLong(BigInt(Date.now()) * 1_000_000n),
    severityNumber: SEVERITY_NUMBER[d.rule.severity],
    severityText: d.rule.severity.toUpperCase(),
    eventName: DEVIATION_EVENT,
    traceId: Buffer.from(d.traceId, 'hex'),
    spanId: Buffer.from(d.spanId, 'hex'),
    body: { stringValue: safeText(`${d.rule.name}: ${d.component.kind} ${d.component.name}: ${d.observed} (baseline: ${d.fact})`) },
    attributes: deviationAttributes(d, scopeVersion, count),
  };
}

/**
 * The span `deviation <rule>` as a child of the causing span, so a tag search (Jaeger) or TraceQL
 * (`{ span.aibom.deviation.rule = "new-executable" }`) finds the attack trace itself. One microsecond
 * long: a zero-length span reads as a negative duration in some backends.
 */
export function deviationSpan(d: Deviation, scopeVersion: string, count = 1): Span {
  return {
    traceId: Buffer.from(d.traceId, 'hex'),
    spanId: createHash('sha256').update(`${d.traceId}/${d.spanId}/${d.rule.id}/${d.observed}`).digest().subarray(0, 8),
    parentSpanId: Buffer.from(d.spanId, 'hex'),
    name: `deviation ${d.rule.id}`,
    kind: SpanKind.INTERNAL,
    startTimeUnixNano: bigIntToLong(d.timeUnixNano),
    endTimeUnixNano: bigIntToLong(d.timeUnixNano + 1000n),
    attributes: deviationAttributes(d, scopeVersion, count),
    status: { code: 0 },
  };
}

function resourceOf(o: DeviationOrigin): KeyValue[] {
  return [attr(ATTR.serviceName, o.serviceName), ...(o.resource ?? []).filter((kv) => kv.key !== ATTR.serviceName)];
}

/** Deviations of one origin as OTLP logs and spans (one resource, one scope each). */
export function deviationData(items: readonly { d: Deviation; count: number }[], o: DeviationOrigin): { logs: LogsData; traces: TracesData } {
  const scope = { name: o.scope, version: o.scopeVersion };
  return {
    logs: { resourceLogs: [{ resource: { attributes: resourceOf(o) }, scopeLogs: [{ scope, logRecords: items.map(({ d, count }) => deviationRecord(d, o.scopeVersion, count)) }] }] },
    traces: { resourceSpans: [{ resource: { attributes: resourceOf(o) }, scopeSpans: [{ scope, spans: items.map(({ d, count }) => deviationSpan(d, o.scopeVersion, count)) }] }] },
  };
}
