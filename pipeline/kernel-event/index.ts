// The kernel-event contract: receiver/ebpf writes kernel events with `writeKernelEvent` (or
// `writeKernelRecord`; names in pipeline/semconv.ts), processors read them with `readKernelFacts` (or
// `readKernelEvent`, one view), and only records the writer made in this process count as kernel events
// (provenance.ts says why and how).
export { HeldRecords, HeldRecordsBuilder } from './held-records.js';
export { carryKernelMarks, isKernelRecord, markKernelRecord } from './provenance.js';
export { readKernelEvent, readKernelFacts, readKernelProcess, type KernelEventFacts, type KernelEventView, type KernelProcess } from './reader.js';
export { writeKernelEvent, writeKernelRecord, type KernelRecordFields, type KernelRecordSource } from './writer.js';
