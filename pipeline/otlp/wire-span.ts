import type protobuf from 'protobufjs';
import { root } from './proto-root.js';
import { InterningReader } from './reader.js';
import type { Span } from './types.js';
import { WireBacked } from './wire-backed.js';
import { RESERVED_KEY } from './wire-check.js';

const SpanType: protobuf.Type = root.lookupType('opentelemetry.proto.trace.v1.Span');

/** Every field of `Span`; reading or writing any of them through a WireSpan decodes it. */
const SPAN_FIELDS = [
  'traceId',
  'spanId',
  'traceState',
  'parentSpanId',
  'flags',
  'name',
  'kind',
  'startTimeUnixNano',
  'endTimeUnixNano',
  'attributes',
  'droppedAttributesCount',
  'events',
  'droppedEventsCount',
  'links',
  'droppedLinksCount',
  'status',
] as const satisfies readonly (keyof Span)[];

/**
 * A received span kept as its bytes (checked by wire-check.ts) inside the request buffer. It reads
 * and writes like a decoded `Span`: the first access to any field decodes it with protobufjs, exactly
 * as the eager decoder would, and from then on it is that decoded span. A span nobody touched is
 * copied to the exporter's request byte for byte, unknown fields included.
 */
export class WireSpan extends WireBacked<Span> {
  constructor(
    buf: Buffer,
    start: number,
    end: number,
    /** wire-check.ts bits: RESERVED_KEY when an attribute key uses the reserved prefix. */
    private readonly bits: number,
  ) {
    super(buf, start, end);
  }

  /** True while the span is its received bytes and one of its attribute keys is reserved. */
  get reservedKey(): boolean {
    return (this.bits & RESERVED_KEY) !== 0;
  }

  decode(): Span {
    return (this.message ??= SpanType.decode(new InterningReader(this.buf.subarray(this.start, this.end))) as unknown as Span);
  }

  /** JSON.stringify sees the decoded span, as it would have before. */
  toJSON(): unknown {
    return (this.decode() as unknown as protobuf.Message).toJSON();
  }
}

// Declaration merging: a WireSpan is a Span through the accessors defined below.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface WireSpan extends Span {}

for (const field of SPAN_FIELDS) {
  Object.defineProperty(WireSpan.prototype, field, {
    get(this: WireSpan) {
      return this.decode()[field];
    },
    set(this: WireSpan, v: unknown) {
      (this.decode() as unknown as Record<string, unknown>)[field] = v;
    },
    enumerable: true,
    configurable: true,
  });
}
