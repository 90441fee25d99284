import Long from 'long';
import { createEncoder } from '../encoder.js';
import { root } from '../proto-root.js';
import type { AnyValue, KeyValue, Span } from '../types.js';

// Random OTLP requests for the property tests of the span views (wire-span.test.ts) and the JSON
// writer (json-writer.test.ts): every field type, unknown fields, empty and huge values.

export const encodeSpan = createEncoder(root.lookupType('opentelemetry.proto.trace.v1.Span'));
const encodeResource = createEncoder(root.lookupType('opentelemetry.proto.resource.v1.Resource'));
const encodeScope = createEncoder(root.lookupType('opentelemetry.proto.common.v1.InstrumentationScope'));

/** mulberry32: the same cases on every run. */
export function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gen(seed: number) {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const str = (): string =>
    pick([
      () => '',
      () => pick(['gen_ai.request.model', 'server.address', 'http.request.method', 'gen_ai.operation.name', 'url.full']),
      () => 'x'.repeat(int(40)),
      () => 'ünïcode 🚀 ' + int(1000),
      () => 'h'.repeat(70_000 + int(1000)), // huge: multi-byte length varint
      // What JSON escapes beside what it copies: quotes, backslashes, every control character, DEL,
      // U+2028, two- to four-byte characters (an agent's prompts and tool results).
      () => String.fromCodePoint(...Array.from({ length: int(60) }, () => pick([int(0x20), 0x22, 0x5c, 0x7f, 0x2028, 0xe9, 0x20ac, 0x1f680, 0x41 + int(26)]))),
    ])();
  const value = (depth: number): AnyValue =>
    pick([
      () => ({ stringValue: str() }),
      () => ({ boolValue: r() < 0.5 }),
      () => ({ intValue: Long.fromBits(int(2 ** 32), int(2 ** 32) - 2 ** 31) }),
      () => ({ intValue: int(100) - 50 }),
      () => ({ doubleValue: pick([0, -0.5, 1e300, Number.NaN, r()]) }),
      () => ({ bytesValue: bytes(int(20)) }),
      () => (depth < 3 ? { arrayValue: { values: Array.from({ length: int(4) }, () => value(depth + 1)) } } : { stringValue: 'leaf' }),
      () => (depth < 3 ? { kvlistValue: { values: Array.from({ length: int(4) }, () => ({ key: str(), value: value(depth + 1) })) } } : { boolValue: true }),
      () => ({}),
    ])();
  const attrs = (): KeyValue[] => Array.from({ length: int(8) }, () => ({ key: pick([str(), 'aibom.tool.name', 'k' + int(5)]), value: value(0) }));
  const long = () => Long.fromBits(int(2 ** 32), int(2 ** 32), true);
  const span = (): Span => ({
    traceId: bytes(pick([16, 16, 0, 3])),
    spanId: bytes(pick([8, 8, 0])),
    traceState: r() < 0.3 ? str() : '',
    parentSpanId: bytes(pick([8, 0])),
    flags: pick([0, 1, 0xffffffff]),
    name: str(),
    kind: int(6),
    startTimeUnixNano: long(),
    endTimeUnixNano: long(),
    attributes: attrs(),
    droppedAttributesCount: int(3),
    events: Array.from({ length: int(3) }, () => ({ timeUnixNano: long(), name: str(), attributes: attrs(), droppedAttributesCount: int(2) })),
    droppedEventsCount: int(2),
    links: Array.from({ length: int(2) }, () => ({ traceId: bytes(16), spanId: bytes(8), traceState: str(), attributes: attrs(), droppedAttributesCount: int(2), flags: int(3) })),
    droppedLinksCount: int(2),
    status: r() < 0.7 ? { message: str(), code: int(3) } : null,
  });
  /** Unknown fields a newer sender may add: varint, fixed64, length-delimited, fixed32. */
  const unknown = () =>
    pick([
      () => Buffer.alloc(0),
      () => Buffer.from([0xa0, 0x06, 0x96, 0x01]), // field 100, varint 150
      () => Buffer.concat([Buffer.from([0xa9, 0x06]), bytes(8)]), // field 101, fixed64
      () => Buffer.concat([Buffer.from([0xb2, 0x06, 5]), Buffer.from('hello')]), // field 102, bytes
      () => Buffer.concat([Buffer.from([0xbd, 0x06]), bytes(4)]), // field 103, fixed32
    ])();
  return { int, pick, r, span, attrs, unknown, str, value, long, bytes };
}

export function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
export const field = (number: number, body: Uint8Array) => Buffer.concat([varint((number << 3) | 2), varint(body.length), body]);

/** A request built by hand so spans can carry unknown fields (`extra`: more bytes after each span's own): returns its bytes. */
export function request(seed: number, extra: (g: ReturnType<typeof gen>) => Buffer = (g) => g.unknown()): Buffer {
  const g = gen(seed);
  const resources = Array.from({ length: 1 + g.int(2) }, () => {
    const scopes = Array.from({ length: 1 + g.int(2) }, () => {
      const spans = Array.from({ length: g.int(5) }, () => field(2, Buffer.concat([encodeSpan(g.span()), extra(g)])));
      const scope = g.r() < 0.8 ? [field(1, encodeScope({ name: g.str(), version: '1.0', attributes: g.attrs() }))] : [];
      return field(2, Buffer.concat([...scope, ...spans, ...(g.r() < 0.5 ? [field(3, Buffer.from('https://opentelemetry.io/schemas/1.30.0'))] : [])]));
    });
    return field(1, Buffer.concat([field(1, encodeResource({ attributes: g.attrs() })), ...scopes]));
  });
  return Buffer.concat(resources);
}

