import type { AnyValue, Int64, KeyValue, LogRecord } from '../otlp/types.js';
import { KERNEL_EVENT_PREFIX, type KernelEventKind } from '../semconv.js';
import { markKernelRecord } from './provenance.js';

const SEVERITY_INFO = 9;

export interface KernelRecordFields {
  kind: KernelEventKind;
  timeUnixNano: Int64;
  observedTimeUnixNano: Int64;
  body: string;
  /** Semantic-convention and `aibom.*` names from pipeline/semconv.ts (`ATTR`). */
  attributes: KeyValue[];
}

/** The log record of one kernel event, marked as such (see provenance.ts). */
export function writeKernelRecord(f: KernelRecordFields): LogRecord {
  const body: AnyValue = { stringValue: f.body };
  return markKernelRecord({
    timeUnixNano: f.timeUnixNano,
    observedTimeUnixNano: f.observedTimeUnixNano,
    severityNumber: SEVERITY_INFO,
    severityText: 'INFO',
    eventName: KERNEL_EVENT_PREFIX + f.kind,
    body,
    attributes: f.attributes,
  });
}
