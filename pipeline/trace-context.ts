// W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header): the one
// parser for every place a traceparent is read (captured on the wire by receiver/ebpf, matched to
// spans by processors/correlate).

export interface Traceparent {
  /** The first four fields as sent (a later version's extra fields are cut off). */
  value: string;
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** 16 lowercase hex digits, not all zero. */
  spanId: string;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZERO = /^0+$/;

/**
 * Parses a traceparent value; undefined when it is not valid. Surrounding whitespace is ignored
 * (header values); hex must be lowercase (the spec's HEXDIGLC); version `ff` is invalid; version
 * `00` has exactly four fields, later versions may append more (the spec says read the first four).
 */
export function parseTraceparent(raw: unknown): Traceparent | undefined {
  if (typeof raw !== 'string') return undefined;
  const v = raw.trim();
  const m = TRACEPARENT.exec(v);
  if (!m) return undefined;
  const [, version, traceId, spanId, , rest] = m;
  if (version === 'ff') return undefined;
  if (version === '00' && rest !== undefined) return undefined;
  if (ALL_ZERO.test(traceId!) || ALL_ZERO.test(spanId!)) return undefined;
  return { value: rest === undefined ? v : v.slice(0, 55), traceId: traceId!, spanId: spanId! };
}
