import type { LogRecord, Resource } from '../../pipeline/otlp/types.js';
import { readKernelEvent, type KernelEventView, type KernelProcess } from '../../pipeline/kernel-event/index.js';

/** A kernel event held in correlate's window. */
export interface KernelEvent extends KernelEventView {
  arrivedAtMs: number;
  /**
   * Set when the last round found no span at all for it: it needs matching again only once spans of
   * its process or an ancestor arrive, its ancestry changes, its patience ends (`patient`), or its window
   * ends (see CorrelateProcessor).
   */
  unmatched: boolean;
  /** Whether the last round matched it patiently (see `match`): exact containment only. */
  patient: boolean;
}

/** Undefined for log records that are not kernel events (see pipeline/kernel-event). */
export function holdKernelEvent(record: LogRecord, resource: Resource, proc: KernelProcess, arrivedAtMs: number): KernelEvent | undefined {
  const ev = readKernelEvent(record, resource, proc) as KernelEvent | undefined;
  if (!ev) return undefined;
  // Added in the same order to every event: one object shape for every held event.
  ev.arrivedAtMs = arrivedAtMs;
  ev.unmatched = false;
  ev.patient = true;
  return ev;
}
