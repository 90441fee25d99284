import type protobuf from 'protobufjs';
import { OtlpDecodeError } from './otlp-decode-error.js';
import { root } from './proto-root.js';
import { InterningReader } from './reader.js';
import type { InstrumentationScope, Resource, ResourceSpans, ScopeSpans, TracesData } from './types.js';
import { AttributeRecords, checkSpan, INVALID_UTF8 } from './wire-check.js';
import { WireSpan } from './wire-span.js';

const ResourceType = root.lookupType('opentelemetry.proto.resource.v1.Resource');
const ScopeType = root.lookupType('opentelemetry.proto.common.v1.InstrumentationScope');

/** Reads the request's outer levels (a handful of fields per request) with protobufjs's own reader. */
type Reader = protobuf.Reader & { buf: Buffer };

const WIRE_LEN = 2;

function expectLen(tag: number, what: string): void {
  if ((tag & 7) !== WIRE_LEN) throw new OtlpDecodeError(`invalid ExportTraceServiceRequest protobuf: ${what} has wire type ${tag & 7}, expected 2`);
}

/** Throws unless the message that should end at `end` did (or, with `outer`, unless `end` stays inside it). */
function ends(r: Reader, end: number, outer?: number): void {
  if (outer === undefined ? r.pos !== end : end > outer) {
    throw new OtlpDecodeError(`invalid ExportTraceServiceRequest protobuf: a message ending at byte ${end} overruns its enclosing one`);
  }
}

/**
 * One of the two outer levels (ResourceSpans, ScopeSpans): field 1 a message decoded with
 * protobufjs (`first`), field 2 repeated children (`each`, given the length, reader at the child),
 * field 3 the schema URL; anything else skipped as protobufjs would.
 */
function level<T extends { schemaUrl?: string }>(r: Reader, end: number, names: readonly [string, string, string], out: T, first: (len: number) => void, each: (len: number) => void): T {
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field < 1 || field > 3) {
      r.skipType(tag & 7);
      continue;
    }
    expectLen(tag, names[field - 1]!);
    if (field === 1) first(r.uint32());
    else if (field === 2) each(r.uint32());
    else out.schemaUrl = r.string();
  }
  ends(r, end);
  return out;
}

function scopeSpans(r: Reader, end: number): ScopeSpans {
  const out: ScopeSpans = { spans: [] };
  return level(r, end, ['ScopeSpans.scope', 'ScopeSpans.spans', 'ScopeSpans.schema_url'], out, (len) => {
    out.scope = ScopeType.decode(r, len) as unknown as InstrumentationScope;
  }, (len) => {
    const start = r.pos;
    if (start + len > end) throw new OtlpDecodeError(`invalid ExportTraceServiceRequest protobuf: span at byte ${start} runs past its ScopeSpans`);
    const bits = checkSpan(r.buf, start, start + len, records);
    const span = new WireSpan(r.buf, start, start + len, bits, records.spanAt < 0 ? undefined : records.ints, records.spanAt);
    // protobufjs replaces invalid UTF-8 with U+FFFD: such a span is re-encoded from what it decodes to.
    if (bits & INVALID_UTF8) span.decode();
    out.spans.push(span);
    r.pos = start + len;
  });
}

function resourceSpans(r: Reader, end: number): ResourceSpans {
  const out: ResourceSpans = { scopeSpans: [] };
  return level(r, end, ['ResourceSpans.resource', 'ResourceSpans.scope_spans', 'ResourceSpans.schema_url'], out, (len) => {
    out.resource = ResourceType.decode(r, len) as unknown as Resource;
  }, (len) => {
    ends(r, r.pos + len, end);
    out.scopeSpans.push(scopeSpans(r, r.pos + len));
  });
}

/** Where the arrival check writes the spans' attributes down (wire-span.ts builds their tables from that). */
const records = new AttributeRecords();

/**
 * An ExportTraceServiceRequest whose resources and scopes are decoded and whose spans are WireSpans
 * over `buf` (which must not be reused while the data is in the pipeline; receivers own their
 * request bodies). Same result as `tracesCodec.decode` for every field a component reads.
 */
export function decodeTracesLazily(buf: Buffer): TracesData {
  const r = new InterningReader(buf) as Reader;
  const data: TracesData = { resourceSpans: [] };
  records.begin(buf.length);
  try {
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag >>> 3 === 1) {
        expectLen(tag, 'ExportTraceServiceRequest.resource_spans');
        const len = r.uint32();
        const end = r.pos + len;
        ends(r, end, r.len);
        data.resourceSpans.push(resourceSpans(r, end));
      } else r.skipType(tag & 7);
    }
  } catch (err) {
    if (err instanceof OtlpDecodeError && err.message.startsWith('invalid ')) throw err;
    throw new OtlpDecodeError(`invalid ExportTraceServiceRequest protobuf: ${(err as Error).message}`);
  }
  return data;
}
