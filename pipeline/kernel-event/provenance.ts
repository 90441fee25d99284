// Which log records are kernel events is a fact about where a record was made, not about what it
// says: an OTLP client can send any scope name, event name and attribute, so nothing that can be
// serialised may decide it. The mark is membership of the record object in a module-private WeakSet:
// it exists only in this process's memory, no codec writes or reads it, and a record decoded from
// bytes (OTLP over the network, the exporters' persistent queue, the fan-out's copy) starts unmarked.
// Components pass records on by reference (enrich works in place, correlate and batch regroup the
// same objects), so the mark travels with the record; the fan-out's copy carries it explicitly.

import type { LogRecord, LogsData } from '../otlp/types.js';

const kernelRecords = new WeakSet<LogRecord>();

/**
 * Marks `record` as made from kernel data in this process. Only the writer of kernel events
 * (receiver/ebpf through `writeKernelRecord`, its gap records) and tests standing in for it call this.
 */
export function markKernelRecord<R extends LogRecord>(record: R): R {
  kernelRecords.add(record);
  return record;
}

export function isKernelRecord(record: LogRecord): boolean {
  return kernelRecords.has(record);
}

/**
 * Marks in `copy` the records at the positions that are marked in `original`. For an exact copy
 * of the same data (same shape, same order), such as an encode/decode round trip.
 */
export function carryKernelMarks(original: LogsData, copy: LogsData): void {
  const from = original.resourceLogs;
  const to = copy.resourceLogs;
  for (let i = 0; i < from.length && i < to.length; i++) {
    const fs = from[i]!.scopeLogs;
    const ts = to[i]!.scopeLogs;
    for (let j = 0; j < fs.length && j < ts.length; j++) {
      const fr = fs[j]!.logRecords;
      const tr = ts[j]!.logRecords;
      for (let k = 0; k < fr.length && k < tr.length; k++) if (kernelRecords.has(fr[k]!)) kernelRecords.add(tr[k]!);
    }
  }
}
