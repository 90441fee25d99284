import { ACCESSOR_FIELDS, type AnyValue, type Int64, type KeyValue, type LogRecord } from '../otlp/types.js';
import { KERNEL_EVENT_KINDS, KERNEL_EVENT_PREFIX, type KernelEventKind } from '../semconv.js';
import type { KernelEventFacts } from './reader.js';

const SEVERITY_INFO = 9;

/** What makes a record's body and attributes when they are first read (receiver/ebpf: from the event). */
export interface KernelRecordSource {
  body(): string;
  attributes(): KeyValue[];
}

export interface KernelRecordFields {
  kind: KernelEventKind;
  timeUnixNano: Int64;
  observedTimeUnixNano: Int64;
  /** The body text (`open /etc/hosts`), or `source` makes it. */
  body?: string;
  /**
   * Semantic-convention and `aibom.*` names from pipeline/semconv.ts (`ATTR`), or `source` makes them
   * on their first read: in the embedded default correlate turns kernel events into a few spans and
   * passes no record on, so most records' body and attributes are never read (it reads `facts`).
   */
  attributes?: KeyValue[];
  source?: KernelRecordSource;
  /** What `readKernelEvent` would read from the attributes, known to the writer from the event itself. */
  facts?: KernelEventFacts;
}

/** `aibom.kernel.<kind>`, one string per kind (a concatenation per record was a string per record). */
const EVENT_NAMES = new Map<string, string>(KERNEL_EVENT_KINDS.map((k) => [k, KERNEL_EVENT_PREFIX + k]));

const ACCESSOR_ONLY_FIELDS: ReadonlySet<string> = new Set(['body']);

/**
 * The log record of one kernel event. Being one is the mark (provenance.ts): only `writeKernelRecord`
 * makes them, and no codec or copy does. `body` and `attributes` are made on their first read and kept.
 */
class KernelRecord implements LogRecord {
  readonly severityNumber = SEVERITY_INFO;
  readonly severityText = 'INFO';
  readonly timeUnixNano: Int64;
  readonly observedTimeUnixNano: Int64;
  readonly eventName: string;
  #body: AnyValue | undefined;
  #attributes: KeyValue[] | undefined;
  #source: KernelRecordSource | undefined;
  readonly #facts: KernelEventFacts | undefined;

  /** Positional: a fields object per record was one more allocation per kernel event. */
  constructor(
    kind: KernelEventKind,
    timeUnixNano: Int64,
    observedTimeUnixNano: Int64,
    body: string | undefined,
    attributes: KeyValue[] | undefined,
    source: KernelRecordSource | undefined,
    facts: KernelEventFacts | undefined,
  ) {
    this.timeUnixNano = timeUnixNano;
    this.observedTimeUnixNano = observedTimeUnixNano;
    this.eventName = EVENT_NAMES.get(kind) ?? KERNEL_EVENT_PREFIX + kind;
    this.#body = body === undefined ? undefined : { stringValue: body };
    this.#attributes = attributes;
    this.#source = source;
    this.#facts = facts;
  }

  get body(): AnyValue {
    return (this.#body ??= { stringValue: this.#source?.body() ?? '' });
  }

  set body(value: AnyValue) {
    this.#body = value;
  }

  get attributes(): KeyValue[] {
    return (this.#attributes ??= this.#source?.attributes() ?? []);
  }

  set attributes(list: KeyValue[]) {
    this.#attributes = list;
  }

  /** `body` is an accessor, which the OTLP encoder writes only when named (otlp/encoder.ts); `attributes` is a list. */
  get [ACCESSOR_FIELDS](): ReadonlySet<string> {
    return ACCESSOR_ONLY_FIELDS;
  }

  /** `body` and `attributes` are accessors, which JSON.stringify (own properties only) would leave out. */
  toJSON(): LogRecord {
    return { ...this, body: this.body, attributes: this.attributes };
  }

  /**
   * The source of `record` if `writeKernelEvent` made it and nothing has read or replaced its body or
   * attributes: such a record is its kind, its two times and its source, nothing more, so
   * `writeKernelEvent(kind, time, observed, source)` makes it again (held-records.ts).
   */
  static sourceOf(record: LogRecord): (KernelEventFacts & KernelRecordSource) | undefined {
    if (!(#facts in record) || record.#body !== undefined || record.#attributes !== undefined) return undefined;
    const source = record.#source;
    return source !== undefined && (source as unknown) === record.#facts ? (source as KernelEventFacts & KernelRecordSource) : undefined;
  }

  /** The writer's facts of `record` if this writer made it (null: made without), else undefined. */
  static factsOf(record: LogRecord): KernelEventFacts | null | undefined {
    return #facts in record ? (record.#facts ?? null) : undefined;
  }
}

/** The log record of one kernel event, marked as such (see provenance.ts). */
export function writeKernelRecord(f: KernelRecordFields): LogRecord {
  return new KernelRecord(f.kind, f.timeUnixNano, f.observedTimeUnixNano, f.body, f.attributes, f.source, f.facts);
}

/**
 * The record of one kernel event whose facts also make its body and attributes (receiver/ebpf's decoded
 * event): `writeKernelRecord({ kind, timeUnixNano, observedTimeUnixNano, source: event, facts: event })`
 * without the fields object, once per kernel event.
 */
export function writeKernelEvent(kind: KernelEventKind, timeUnixNano: Int64, observedTimeUnixNano: Int64, event: KernelEventFacts & KernelRecordSource): LogRecord {
  return new KernelRecord(kind, timeUnixNano, observedTimeUnixNano, undefined, undefined, event, event);
}

/** See `KernelRecord.factsOf`. */
export const writtenFacts = KernelRecord.factsOf;

/** See `KernelRecord.sourceOf`. */
export const writtenSource = KernelRecord.sourceOf;
