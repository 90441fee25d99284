import { fromAnyValue, int64ToBigInt } from '../../pipeline/otlp/attributes.js';
import type { KeyValue, LogRecord } from '../../pipeline/otlp/types.js';

/** The log events the history keeps: what the controls concluded, not the raw activity. */
export const HISTORY_EVENTS = { 'aibom.deviation': 'deviation', 'aibom.finding': 'finding', 'aibom.sensor.gap': 'sensor-gap' } as const;
export type HistoryKind = (typeof HISTORY_EVENTS)[keyof typeof HISTORY_EVENTS];

/** One line of the store: a deviation, AI-BOM finding or sensor gap, as the report reads it. */
export interface HistoryEntry {
  kind: HistoryKind;
  /** Event time, ms since the epoch (the causing span's time for deviations). */
  timeMs: number;
  traceId?: string;
  spanId?: string;
  /** service.name of the record's resource. */
  service?: string;
  severity?: string;
  body?: string;
  attributes: Record<string, unknown>;
}

const hex = (b: Uint8Array | undefined): string | undefined => (b && b.length > 0 && b.some((x) => x !== 0) ? Buffer.from(b).toString('hex') : undefined);

/** The entry a log record becomes, or undefined when it is not one the history keeps. */
export function entryOf(record: LogRecord, resource: readonly KeyValue[] | null | undefined): HistoryEntry | undefined {
  const kind = HISTORY_EVENTS[(record.eventName ?? '') as keyof typeof HISTORY_EVENTS];
  if (!kind) return undefined;
  const ns = int64ToBigInt(record.timeUnixNano) || int64ToBigInt(record.observedTimeUnixNano);
  const service = resource?.find((kv) => kv.key === 'service.name');
  const body = fromAnyValue(record.body);
  const entry: HistoryEntry = {
    kind,
    timeMs: ns > 0n ? Number(ns / 1_000_000n) : Date.now(),
    attributes: Object.fromEntries((record.attributes ?? []).map((kv) => [kv.key, fromAnyValue(kv.value)])),
  };
  const traceId = hex(record.traceId);
  const spanId = hex(record.spanId);
  if (traceId) entry.traceId = traceId;
  if (spanId) entry.spanId = spanId;
  if (service) entry.service = String(fromAnyValue(service.value));
  if (record.severityText) entry.severity = record.severityText;
  if (typeof body === 'string') entry.body = body;
  return entry;
}

/** Checks one parsed line; the message says what is wrong. */
export function checkEntry(x: unknown): string | undefined {
  const e = x as Partial<HistoryEntry> | null;
  if (typeof e !== 'object' || e === null) return 'not an object';
  if (!Object.values(HISTORY_EVENTS).includes(e.kind as HistoryKind)) return `unknown kind ${JSON.stringify(e.kind)}`;
  if (typeof e.timeMs !== 'number' || !Number.isFinite(e.timeMs)) return 'timeMs is not a number';
  if (typeof e.attributes !== 'object' || e.attributes === null) return 'attributes is not an object';
  return undefined;
}
