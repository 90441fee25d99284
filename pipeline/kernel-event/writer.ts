import type { AnyValue, Int64, KeyValue, LogRecord } from '../otlp/types.js';
import { KERNEL_EVENT_PREFIX, type KernelEventKind } from '../semconv.js';
import type { KernelEventFacts } from './reader.js';

const SEVERITY_INFO = 9;

export interface KernelRecordFields {
  kind: KernelEventKind;
  timeUnixNano: Int64;
  observedTimeUnixNano: Int64;
  body: string;
  /**
   * Semantic-convention and `aibom.*` names from pipeline/semconv.ts (`ATTR`), or what makes them on
   * their first read: in the embedded default correlate turns kernel events into a few spans and passes
   * no record on, so most records' attributes are never read (it reads `facts`).
   */
  attributes: KeyValue[] | (() => KeyValue[]);
  /** What `readKernelEvent` would read from the attributes, known to the writer from the event itself. */
  facts?: KernelEventFacts;
}

/**
 * The log record of one kernel event. Being one is the mark (provenance.ts): only `writeKernelRecord`
 * makes them, and no codec or copy does. `attributes` is made on its first read and kept.
 */
class KernelRecord implements LogRecord {
  readonly severityNumber = SEVERITY_INFO;
  readonly severityText = 'INFO';
  readonly timeUnixNano: Int64;
  readonly observedTimeUnixNano: Int64;
  readonly eventName: string;
  readonly body: AnyValue;
  #attributes: KeyValue[] | undefined;
  #make: (() => KeyValue[]) | undefined;
  readonly #facts: KernelEventFacts | undefined;

  constructor(f: KernelRecordFields) {
    this.timeUnixNano = f.timeUnixNano;
    this.observedTimeUnixNano = f.observedTimeUnixNano;
    this.eventName = KERNEL_EVENT_PREFIX + f.kind;
    this.body = { stringValue: f.body };
    if (typeof f.attributes === 'function') this.#make = f.attributes;
    else this.#attributes = f.attributes;
    this.#facts = f.facts;
  }

  get attributes(): KeyValue[] {
    if (this.#attributes === undefined) {
      this.#attributes = this.#make!();
      this.#make = undefined;
    }
    return this.#attributes;
  }

  set attributes(list: KeyValue[]) {
    this.#attributes = list;
    this.#make = undefined;
  }

  /** `attributes` is an accessor, which JSON.stringify (own properties only) would leave out. */
  toJSON(): LogRecord {
    return { ...this, attributes: this.attributes };
  }

  /** The writer's facts of `record` if this writer made it (null: made without), else undefined. */
  static factsOf(record: LogRecord): KernelEventFacts | null | undefined {
    return #facts in record ? (record.#facts ?? null) : undefined;
  }
}

/** The log record of one kernel event, marked as such (see provenance.ts). */
export function writeKernelRecord(f: KernelRecordFields): LogRecord {
  return new KernelRecord(f);
}

/** See `KernelRecord.factsOf`. */
export const writtenFacts = KernelRecord.factsOf;
