import Long from 'long';
import type { AnyValue, Int64, KeyValue } from './types.js';

export type AttributeValue = string | number | boolean | bigint | readonly string[] | readonly number[];

/** Builds an OTLP AnyValue; integral numbers become intValue, others doubleValue. */
export function anyValue(v: AttributeValue): AnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'bigint') return { intValue: Long.fromString(v.toString()) };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: v } : { doubleValue: v };
  return { arrayValue: { values: (v as readonly (string | number)[]).map((x) => anyValue(x)) } };
}

export function attr(key: string, value: AttributeValue): KeyValue {
  return { key, value: anyValue(value) };
}

/** Attributes from a plain record, skipping undefined values so optional facts stay absent. */
export function attrs(record: Record<string, AttributeValue | undefined>): KeyValue[] {
  const out: KeyValue[] = [];
  for (const key in record) {
    const v = record[key];
    if (v !== undefined) out.push(attr(key, v));
  }
  return out;
}

/** The primitive value of an AnyValue (arrays and maps are returned as JS arrays / objects). */
export function fromAnyValue(v: AnyValue | null | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue != null) return v.stringValue;
  if (v.boolValue != null) return v.boolValue;
  if (v.intValue != null) return int64ToNumber(v.intValue);
  if (v.doubleValue != null) return v.doubleValue;
  if (v.arrayValue != null) return (v.arrayValue.values ?? []).map(fromAnyValue);
  if (v.kvlistValue != null) {
    return Object.fromEntries((v.kvlistValue.values ?? []).map((kv) => [kv.key, fromAnyValue(kv.value)]));
  }
  if (v.bytesValue != null) return v.bytesValue;
  return undefined;
}

export function findAttr(list: readonly KeyValue[] | null | undefined, key: string): unknown {
  if (!list) return undefined;
  for (const kv of list) if (kv.key === key) return fromAnyValue(kv.value);
  return undefined;
}

export function findStringAttr(list: readonly KeyValue[] | null | undefined, key: string): string | undefined {
  const v = findAttr(list, key);
  return typeof v === 'string' ? v : undefined;
}

/** Sets or replaces one attribute in place. */
export function setAttr(list: KeyValue[], key: string, value: AttributeValue): void {
  const i = list.findIndex((kv) => kv.key === key);
  const kv = attr(key, value);
  if (i >= 0) list[i] = kv;
  else list.push(kv);
}

export function int64ToNumber(v: Int64): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  return v.toNumber();
}

/** Exact nanoseconds of a 64-bit OTLP timestamp. */
export function int64ToBigInt(v: Int64 | null | undefined): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'string') return BigInt(v);
  // From the two 32-bit halves: Long#toString's division loop was most of a span record's cost.
  const bits = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return v.unsigned ? bits : BigInt.asIntN(64, bits);
}

/**
 * Exact microseconds (floor) of a 64-bit nanosecond timestamp. For a Long (what protobufjs decodes and
 * receiver/ebpf writes) without the string and BigInt round trip: ns = hi * 2^32 + lo and
 * 2^32 = 4294967 * 1000 + 296; below 2^62 ns (year 2116) every partial product stays below 2^53.
 */
export function int64ToMicros(v: Int64 | null | undefined): number {
  if (v !== null && typeof v === 'object' && v.high >= 0 && v.high < 0x40000000) return wordsToMicros(v.high, v.low >>> 0);
  return Number(int64ToBigInt(v) / 1000n);
}

/**
 * Microseconds of the nanoseconds `hi` * 2^32 + `lo` (unsigned 32-bit words, `hi` below 2^30), exact
 * without a BigInt: 2^32 = 4294967 * 1000 + 296.
 */
export function wordsToMicros(hi: number, lo: number): number {
  return hi * 4294967 + Math.floor((hi * 296 + lo) / 1000);
}

export function bigIntToLong(ns: bigint): Long {
  return Long.fromString(ns.toString(), true);
}

export function nowUnixNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
