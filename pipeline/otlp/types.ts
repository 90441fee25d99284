import type Long from 'long';

/**
 * OTLP data as it flows between components: the shape protobufjs decodes into (camelCase fields,
 * `Uint8Array` ids, 64-bit integers as `Long`), so a span that passes through unchanged is decoded
 * once and encoded once. Fields the sender left unset read as their proto3 defaults.
 */
export type Int64 = Long | number | string;

export interface AnyValue {
  stringValue?: string | null;
  boolValue?: boolean | null;
  intValue?: Int64 | null;
  doubleValue?: number | null;
  arrayValue?: { values?: AnyValue[] | null } | null;
  kvlistValue?: { values?: KeyValue[] | null } | null;
  bytesValue?: Uint8Array | null;
}

export interface KeyValue {
  key: string;
  value?: AnyValue | null;
}

export interface InstrumentationScope {
  name?: string;
  version?: string;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
}

export interface Resource {
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
}

export const SpanKind = {
  UNSPECIFIED: 0,
  INTERNAL: 1,
  SERVER: 2,
  CLIENT: 3,
  PRODUCER: 4,
  CONSUMER: 5,
} as const;

export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;

export interface SpanEvent {
  timeUnixNano: Int64;
  name: string;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
}

export interface SpanLink {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState?: string;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
  flags?: number;
}

export interface Span {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState?: string;
  parentSpanId?: Uint8Array;
  flags?: number;
  name: string;
  kind?: number;
  startTimeUnixNano: Int64;
  endTimeUnixNano: Int64;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
  events?: SpanEvent[];
  droppedEventsCount?: number;
  links?: SpanLink[];
  droppedLinksCount?: number;
  status?: { message?: string; code?: number } | null;
}

export interface ScopeSpans {
  scope?: InstrumentationScope | null;
  spans: Span[];
  schemaUrl?: string;
}

export interface ResourceSpans {
  resource?: Resource | null;
  scopeSpans: ScopeSpans[];
  schemaUrl?: string;
}

export interface LogRecord {
  timeUnixNano?: Int64;
  observedTimeUnixNano?: Int64;
  severityNumber?: number;
  severityText?: string;
  body?: AnyValue | null;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
  flags?: number;
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  eventName?: string;
}

export interface ScopeLogs {
  scope?: InstrumentationScope | null;
  logRecords: LogRecord[];
  schemaUrl?: string;
}

export interface ResourceLogs {
  resource?: Resource | null;
  scopeLogs: ScopeLogs[];
  schemaUrl?: string;
}

/** One export request's worth of spans (ExportTraceServiceRequest). */
export interface TracesData {
  resourceSpans: ResourceSpans[];
}

/** One export request's worth of log records (ExportLogsServiceRequest). */
export interface LogsData {
  resourceLogs: ResourceLogs[];
}

export type Signal = 'traces' | 'logs';

export type SignalData<S extends Signal> = S extends 'traces' ? TracesData : LogsData;

export interface PartialSuccess {
  rejected: number;
  errorMessage: string;
}

/** A span's ids as lower-case hex, '' when unset: what processors key their per-trace state by. */
export interface SpanIds {
  traceId: string;
  spanId: string;
  parentSpanId: string;
}

/**
 * A message class whose fields are accessors on its prototype (made on first read, like the kernel
 * records of pipeline/kernel-event) names them here, so that the OTLP encoder (encoder.ts) writes a
 * set single-valued one: its presence rule, protobufjs's, counts own properties only, since its
 * decoded messages carry their defaults on the prototype. Repeated fields need no name: any non-empty
 * list is written.
 */
export const ACCESSOR_FIELDS: unique symbol = Symbol('aibom.otlp.accessorFields');
