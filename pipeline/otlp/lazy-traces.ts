import type protobuf from 'protobufjs';
import { OtlpDecodeError } from './otlp-decode-error.js';
import { root } from './proto-root.js';
import { InterningReader } from './reader.js';
import type { InstrumentationScope, Resource, ResourceSpans, ScopeSpans, TracesData } from './types.js';
import { checkSpan, INVALID_UTF8 } from './wire-check.js';
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

function scopeSpans(r: Reader, end: number): ScopeSpans {
  const out: ScopeSpans = { spans: [] };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectLen(tag, 'ScopeSpans.scope');
        out.scope = ScopeType.decode(r, r.uint32()) as unknown as InstrumentationScope;
        break;
      case 2: {
        expectLen(tag, 'ScopeSpans.spans');
        const len = r.uint32();
        const start = r.pos;
        if (start + len > end) throw new OtlpDecodeError(`invalid ExportTraceServiceRequest protobuf: span at byte ${start} runs past its ScopeSpans`);
        const bits = checkSpan(r.buf, start, start + len);
        const span = new WireSpan(r.buf, start, start + len, bits);
        // protobufjs replaces invalid UTF-8 with U+FFFD: such a span is re-encoded from what it decodes to.
        if (bits & INVALID_UTF8) span.decode();
        out.spans.push(span);
        r.pos = start + len;
        break;
      }
      case 3:
        expectLen(tag, 'ScopeSpans.schema_url');
        out.schemaUrl = r.string();
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  ends(r, end);
  return out;
}

function resourceSpans(r: Reader, end: number): ResourceSpans {
  const out: ResourceSpans = { scopeSpans: [] };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectLen(tag, 'ResourceSpans.resource');
        out.resource = ResourceType.decode(r, r.uint32()) as unknown as Resource;
        break;
      case 2: {
        expectLen(tag, 'ResourceSpans.scope_spans');
        const len = r.uint32();
        ends(r, r.pos + len, end);
        out.scopeSpans.push(scopeSpans(r, r.pos + len));
        break;
      }
      case 3:
        expectLen(tag, 'ResourceSpans.schema_url');
        out.schemaUrl = r.string();
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  ends(r, end);
  return out;
}

/**
 * An ExportTraceServiceRequest whose resources and scopes are decoded and whose spans are WireSpans
 * over `buf` (which must not be reused while the data is in the pipeline; receivers own their
 * request bodies). Same result as `tracesCodec.decode` for every field a component reads.
 */
export function decodeTracesLazily(buf: Buffer): TracesData {
  const r = new InterningReader(buf) as Reader;
  const data: TracesData = { resourceSpans: [] };
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
