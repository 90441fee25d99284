import { RESERVED_PREFIX } from '../semconv.js';
import { fromAnyValue, int64ToMicros } from './attributes.js';
import { readerSlot } from './key-shapes.js';
import type { AnyValue, KeyValue, Span, SpanIds } from './types.js';
import { hexAt } from './id-hex.js';
import { type DependsOn, NOT_KEPT } from './kept-derived.js';
import { type IdField, type IdLocation, WireSpan } from './wire-span.js';

export type { IdLocation } from './wire-span.js';
export { DependsOn, NOT_KEPT } from './kept-derived.js';

/**
 * How processors read a span's attributes and add to them without decoding a received span
 * (wire-span.ts). Ids, times, name and kind read straight from the span (`span.name`) cost no
 * decode either; reading `span.attributes`, events, links or status, or assigning any field, does.
 */

/**
 * Calls `visit` with each attribute's key and a function that decodes its value (call it inside
 * `visit`), in order; stops when `visit` returns true.
 */
export function eachAttribute(span: Span, visit: (key: string, value: () => AnyValue | null | undefined) => boolean | void): void {
  if (span instanceof WireSpan) return span.eachAttribute(visit);
  for (const kv of span.attributes ?? []) if (visit(kv.key, () => kv.value)) return;
}

/**
 * A question about a span's attribute keys alone: does any key pass `test`? For a received span the
 * answer for its received keys is kept on their shared key list (key-shapes.ts), so a span whose
 * list was seen before pays only for its appended keys. `listTest`, when given, answers for the
 * received list as a whole instead (a question about the list, such as a repeated key); appended
 * keys and a decoded span's keys are still asked one by one with `test`.
 */
export class KeyTest {
  private readonly id = readerSlot();

  constructor(
    private readonly test: (key: string) => boolean,
    private readonly listTest: (keys: readonly string[]) => boolean = (keys) => keys.some(test),
  ) {}

  any(span: Span): boolean {
    const table = span instanceof WireSpan ? span.receivedAttributes() : undefined;
    if (!table) return someKey(span.attributes, this.test);
    const { shape } = table;
    let received = shape?.derived[this.id] as boolean | undefined;
    if (received === undefined) {
      received = this.listTest(table.keys);
      if (shape) shape.derived[this.id] = received;
    }
    return received || someKey((span as WireSpan).appended, this.test);
  }
}

function someKey(list: readonly KeyValue[] | null | undefined, test: (key: string) => boolean): boolean {
  // An index loop: for-of over the (frozen, shared) appended lists made an iterator result per key, ~9% of the default pipeline's allocations.
  if (list) for (let i = 0; i < list.length; i++) if (test(list[i]!.key)) return true;
  return false;
}

/**
 * The values of `keys` the span has, as `findAttr` gives them (first occurrence wins), in one pass
 * through `eachAttribute`: only those values are decoded.
 */
export function attributeValues(span: Span, keys: ReadonlySet<string>): Map<string, unknown> {
  const out = new Map<string, unknown>();
  eachAttribute(span, (key, value) => {
    if (keys.has(key) && !out.has(key)) out.set(key, fromAnyValue(value()));
  });
  return out;
}

const NO_BYTES = new Uint8Array(0);
/** `locateId`'s one answer, rewritten by each call. */
const located: IdLocation = { buf: NO_BYTES, at: 0, length: 0 };

/**
 * Where the span's trace, span or parent span id is, as bytes: in a received span, inside the
 * request it came in (no Buffer per id); in any other, its own id. One shared answer, valid until the
 * next call: read it (or copy its three fields) before calling again. Length 0: the span has none.
 */
export function locateId(span: Span, field: IdField): Readonly<IdLocation> {
  if (span instanceof WireSpan && span.message === undefined) span.locateId(field, located);
  else {
    // An absent id: protobufjs's default is an empty plain array, not bytes.
    const id = span[field];
    located.buf = id && id.length > 0 ? id : NO_BYTES;
    located.at = 0;
    located.length = id?.length ?? 0;
  }
  return located;
}

/** The span's start time in microseconds (`int64ToMicros`), without a Long for a received span. */
export function startMicros(span: Span): number {
  return span instanceof WireSpan ? span.micros(false) : int64ToMicros(span.startTimeUnixNano);
}

/** The span's end time in microseconds (`int64ToMicros`), without a Long for a received span. */
export function endMicros(span: Span): number {
  return span instanceof WireSpan ? span.micros(true) : int64ToMicros(span.endTimeUnixNano);
}

/** Lower-case hex of an id ('' when unset), without copying it (`Buffer.from(id)` copies). */
export function idHex(id: Uint8Array | null | undefined): string {
  if (!id || id.length === 0) return '';
  return hexAt(Buffer.isBuffer(id) ? id : Buffer.from(id.buffer, id.byteOffset, id.byteLength), 0, id.length);
}

/**
 * The span's trace, span and parent span id as hex. For a received span still as its bytes they are
 * computed once and kept on it, so correlate, aibom, baseline and provenance share them; any other
 * span (or one decoded since, whose ids may have been assigned) gets them computed now.
 */
export function spanIds(span: Span): SpanIds {
  if (span instanceof WireSpan && span.message === undefined) return span.hexIds();
  return idsOf(span);
}

const idsOf = (span: Span): SpanIds => ({ traceId: idHex(span.traceId), spanId: idHex(span.spanId), parentSpanId: idHex(span.parentSpanId) });

const reserved = (list: readonly KeyValue[] | null | undefined) => list != null && list.some((kv) => kv.key.startsWith(RESERVED_PREFIX));

/** True if an attribute key of the span, or of one of its events or links, uses the reserved prefix (`aibom.`). */
export function hasReservedAttribute(span: Span): boolean {
  if (span instanceof WireSpan && span.message === undefined) return span.reservedKey || reserved(span.appended);
  return reserved(span.attributes) || (span.events ?? []).some((e) => reserved(e.attributes)) || (span.links ?? []).some((l) => reserved(l.attributes));
}

/**
 * For a received span still as its bytes (whose name, kind and received attributes cannot change
 * without decoding it), the attributes appended to it so far; undefined for any other span.
 */
export function appendedAttributes(span: Span): readonly KeyValue[] | undefined {
  return span instanceof WireSpan && span.message === undefined ? (span.appended ?? NONE) : undefined;
}

const NONE: readonly KeyValue[] = [];

/**
 * The one value a reader derived from a received span still as its bytes (normalize's canonical
 * view) and kept on the span (`keepDerived`), while it holds: NOT_KEPT if none was kept, for any
 * other span (decoded, or not received), or once an attribute with a key in `dependsOn` was appended
 * after it was kept. Only attributes appended since the last call are checked (a length on the span).
 */
export function keptDerived(span: Span, dependsOn: DependsOn): unknown {
  return span instanceof WireSpan && span.message === undefined ? span.keptDerived(dependsOn) : NOT_KEPT;
}

/** Keeps `value` on a received span still as its bytes (for `keptDerived`); does nothing for any other span. */
export function keepDerived(span: Span, value: unknown): void {
  if (span instanceof WireSpan && span.message === undefined) span.keepDerived(value);
}

/**
 * A span about to wait (in a batch) forgets what readers derived from its bytes, which it would
 * otherwise hold until it is exported (WireSpan `forgetReads`); does nothing for any other item.
 */
export function forgetReads(item: unknown): void {
  if (item instanceof WireSpan) item.forgetReads();
}

/** Adds attributes after the span's own (the caller makes sure their keys are not there yet). */
export function appendAttributes(span: Span, list: readonly KeyValue[]): void {
  if (list.length === 0) return;
  if (span instanceof WireSpan) span.appendAttributes(list);
  else (span.attributes ??= []).push(...list);
}
