// Which log records are kernel events is a fact about where a record was made, not about what it
// says: an OTLP client can send any scope name, event name and attribute, so nothing that can be
// serialised may decide it. The mark exists only in this process's memory: a record made by the
// writer (writer.ts, a class of its own, branded by a private field), or membership of the record
// object in a module-private WeakMap (the sensor's gap records, tests). No codec writes or reads
// it, and a record decoded from bytes (OTLP over the network, the exporters' persistent queue, the
// fan-out's copy) starts unmarked. Components pass records on by reference (enrich works in place,
// correlate and batch regroup the same objects), so the mark travels with the record; the fan-out's
// copy carries it explicitly. The mark may hold what the writer already knew of the event (its facts,
// see reader.ts), so the reader need not look through the record's attributes for them.

import type { LogRecord, LogsData } from '../otlp/types.js';
import type { KernelEventFacts } from './reader.js';
import { writtenFacts } from './writer.js';

const kernelRecords = new WeakMap<LogRecord, KernelEventFacts | null>();

/**
 * Marks `record` as made from kernel data in this process, with facts that say what its attributes
 * say when given. Only the writer of kernel events (receiver/ebpf's gap records) and tests standing
 * in for it call this.
 */
export function markKernelRecord<R extends LogRecord>(record: R, facts?: KernelEventFacts): R {
  kernelRecords.set(record, facts ?? null);
  return record;
}

export function isKernelRecord(record: LogRecord): boolean {
  return kernelFacts(record) !== undefined;
}

/** The facts given with the mark: undefined for unmarked records, null for marked ones without. */
export function kernelFacts(record: LogRecord): KernelEventFacts | null | undefined {
  const written = writtenFacts(record);
  return written !== undefined ? written : kernelRecords.get(record);
}

/**
 * Marks in `copy` the records at the positions that are marked in `original`, with their facts. For an
 * exact copy of the same data (same shape, same order), such as an encode/decode round trip.
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
      for (let k = 0; k < fr.length && k < tr.length; k++) {
        const facts = kernelFacts(fr[k]!);
        if (facts !== undefined) kernelRecords.set(tr[k]!, facts);
      }
    }
  }
}
