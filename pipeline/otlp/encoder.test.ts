import Long from 'long';
import protobuf from 'protobufjs';
import { describe, expect, test } from 'vitest';
import { attr } from './attributes.js';
import { logsCodec, tracesCodec } from './codec.js';
import { createEncoder } from './encoder.js';
import type { KeyValue } from './types.js';
import { WireSpan } from './wire-span.js';
import { OTLP_PROTO_SOURCES } from './schema.js';

// The reference: protobufjs's own encoder over the same schema.
const root = new protobuf.Root();
for (const source of OTLP_PROTO_SOURCES) protobuf.parse(source, root, { keepCase: false });
root.resolveAll();
const TRACES = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const LOGS = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
const reference = (type: protobuf.Type, m: unknown) => Buffer.from(type.encode(m as protobuf.Message).finish());

const id = (hex: string) => Buffer.from(hex, 'hex');
const long = (s: string) => Long.fromString(s, true);

function traces(): unknown {
  return {
    resourceSpans: [
      {
        resource: { attributes: [attr('service.name', 'agent'), attr('process.pid', 4242)], droppedAttributesCount: 0, entityRefs: [{ type: 'service', idKeys: ['service.name', 'x'] }] },
        schemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
        scopeSpans: [
          {
            scope: { name: 'test', version: '', attributes: [attr('a', 'b')], droppedAttributesCount: 3 },
            spans: [
              {
                traceId: id('0af7651916cd43dd8448eb211c80319c'),
                spanId: id('b7ad6b7169203331'),
                parentSpanId: Buffer.alloc(0),
                traceState: 'k=v',
                flags: 0xffffffff,
                name: 'tool search_kb — ünïcode 🚀 and a lone \ud800 surrogate',
                kind: 3,
                startTimeUnixNano: long('1763000000123456789'),
                endTimeUnixNano: '1763000000123458289',
                attributes: [
                  attr('gen_ai.tool.name', 'search_kb'),
                  attr('ok', true),
                  attr('no', false),
                  attr('ratio', 0.25),
                  attr('nan', Number.NaN),
                  attr('big', 9_007_199_254_740_993n),
                  { key: 'neg', value: { intValue: -5 } },
                  { key: 'neglong', value: { intValue: Long.fromNumber(-1234567890123) } },
                  { key: 'str64', value: { intValue: '-42' } },
                  attr('tags', ['a', 'b']),
                  { key: 'raw', value: { bytesValue: Buffer.from([1, 2, 3]) } },
                  { key: 'b64', value: { bytesValue: 'AQID' } },
                  { key: 'bigraw', value: { bytesValue: Buffer.alloc(100, 7) } },
                  { key: 'map', value: { kvlistValue: { values: [attr('k', 'v'), { key: 'empty', value: {} }] } } },
                  { key: 'nested', value: { arrayValue: { values: [{ arrayValue: { values: [{ stringValue: 'x'.repeat(300) }] } }] } } },
                  { key: 'novalue' },
                  { key: '', value: { stringValue: '' } },
                ],
                droppedAttributesCount: 1,
                events: [{ timeUnixNano: long('1763000000123456799'), name: 'exception', attributes: [attr('exception.message', 'boom')] }, { timeUnixNano: 0, name: '' }],
                droppedEventsCount: 0,
                links: [{ traceId: id('0af7651916cd43dd8448eb211c80319c'), spanId: id('0000000000000001'), attributes: [attr('link.kind', 'follows')], flags: 1 }],
                status: { code: 2, message: 'failed' },
              },
              { traceId: id('00'), spanId: id('01'), name: 'minimal', kind: -1, startTimeUnixNano: 1, endTimeUnixNano: 2 ** 40, status: {} },
              { traceId: null, spanId: undefined, name: 'x'.repeat(20_000), startTimeUnixNano: Long.UZERO, endTimeUnixNano: Long.MAX_UNSIGNED_VALUE, attributes: [], events: null },
            ],
          },
        ],
      },
      { resource: null, scopeSpans: [] },
      {},
    ],
  };
}

function logs(): unknown {
  return {
    resourceLogs: [
      {
        resource: { attributes: [attr('service.name', 'agent')] },
        scopeLogs: [
          {
            scope: { name: 'ebpf' },
            logRecords: [
              {
                timeUnixNano: long('1763000000123456789'),
                observedTimeUnixNano: long('1763000000123456790'),
                severityNumber: 9,
                severityText: 'INFO',
                body: { kvlistValue: { values: [attr('syscall', 'connect'), attr('fd', 7)] } },
                attributes: [attr('process.pid', 77)],
                flags: 1,
                traceId: id('0af7651916cd43dd8448eb211c80319c'),
                spanId: id('b7ad6b7169203331'),
                eventName: 'kernel.connect',
              },
              {},
            ],
          },
        ],
      },
    ],
  };
}

describe('encoder', () => {
  test('writes the bytes protobufjs writes for plain objects of every field type', () => {
    expect(createEncoder(TRACES)(traces())).toEqual(reference(TRACES, traces()));
    expect(createEncoder(LOGS)(logs())).toEqual(reference(LOGS, logs()));
  });

  test('writes the bytes protobufjs writes for decoded messages, and they decode back to the same', () => {
    const t = tracesCodec.decode(reference(TRACES, traces()));
    expect(Buffer.from(tracesCodec.encode(t))).toEqual(reference(TRACES, t));
    expect(tracesCodec.toJson(tracesCodec.decode(tracesCodec.encode(t)))).toBe(tracesCodec.toJson(t));
    const l = logsCodec.decode(reference(LOGS, logs()));
    expect(Buffer.from(logsCodec.encode(l))).toEqual(reference(LOGS, l));
  });

  test('empty requests, many encodes in a row, and a batch that outgrows the scratch space', () => {
    expect(createEncoder(TRACES)({ resourceSpans: [] })).toEqual(reference(TRACES, { resourceSpans: [] }));
    const t = tracesCodec.decode(reference(TRACES, traces()));
    const span = t.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    const big = { resourceSpans: [{ scopeSpans: [{ spans: Array.from({ length: 2000 }, () => span) }] }] };
    const want = reference(TRACES, big);
    for (let i = 0; i < 3; i++) expect(Buffer.from(tracesCodec.encode(big)).equals(want)).toBe(true);
  });

  test('nesting beyond the recursion limit fails as protobufjs does', () => {
    let v: Record<string, unknown> = { stringValue: 'leaf' };
    for (let i = 0; i < 60; i++) v = { arrayValue: { values: [v] } };
    const deep = { resourceSpans: [{ resource: { attributes: [{ key: 'deep', value: v }] } }] };
    expect(() => reference(TRACES, deep)).toThrow('max depth exceeded');
    expect(() => createEncoder(TRACES)(deep)).toThrow('max depth exceeded');
  });
});

describe('encoder: received spans', () => {
  const spanOf = (i: number) => ({ traceId: Buffer.alloc(16, i), spanId: Buffer.alloc(8, i), name: `s${i}`.repeat(1 + (i % 70)), kind: 1, attributes: [attr('i', i)] });
  const encodeSpan = (i: number) => reference(root.lookupType('opentelemetry.proto.trace.v1.Span'), spanOf(i));
  /** ScopeSpans.spans entries by hand: `pad` writes a span's length one byte longer than it has to be. */
  const entry = (i: number, pad: boolean) => {
    const body = encodeSpan(i);
    const len = body.length < 128 ? (pad ? [body.length | 0x80, 0] : [body.length]) : pad ? [(body.length & 127) | 128, (body.length >>> 7) | 128, 0] : [(body.length & 127) | 128, body.length >>> 7];
    return Buffer.concat([Buffer.from([0x12, ...len]), body]);
  };
  const requestOf = (spans: Buffer[]) => {
    const scope = Buffer.concat([Buffer.from([0x0a, 0x02, 0x0a, 0x00]), ...spans]); // scope: { name: '' }, then the spans
    const rs = Buffer.concat([Buffer.from([0x12]), Buffer.from(lenBytes(scope.length)), scope]);
    return Buffer.concat([Buffer.from([0x0a]), Buffer.from(lenBytes(rs.length)), rs]);
  };
  const lenBytes = (n: number) => {
    const out: number[] = [];
    for (; n > 127; n >>>= 7) out.push((n & 127) | 128);
    return [...out, n];
  };

  test('untouched spans are copied in runs, byte for byte; decoded, appended, padded and foreign spans break a run and come out as protobufjs writes them', () => {
    for (let seed = 0; seed < 40; seed++) {
      const n = 1 + (seed % 13);
      // Some spans' lengths padded (as a sender may write them): the copy must not take the padding along.
      const bytes = requestOf(Array.from({ length: n }, (_, i) => entry(seed * 20 + i, (seed + i) % 5 === 0)));
      const other = tracesCodec.decodeReceived(requestOf([entry(999, false), entry(998, false)]));
      const lazy = tracesCodec.decodeReceived(bytes);
      const eager = tracesCodec.decode(bytes);
      const spans = lazy.resourceSpans[0]!.scopeSpans[0]!.spans;
      const want = eager.resourceSpans[0]!.scopeSpans[0]!.spans;
      spans.forEach((s, i) => {
        const pick = (seed * 7 + i * 3) % 6;
        if (pick === 1) s.name = want[i]!.name = 'renamed';
        else if (pick === 2) {
          (s as WireSpan).appendAttributes([attr('added', i)]);
          want[i]!.attributes!.push(attr('added', i));
        }
      });
      // A span of another request in the middle: its bytes sit in another buffer.
      if (seed % 4 === 3) {
        spans.splice(n >> 1, 0, other.resourceSpans[0]!.scopeSpans[0]!.spans[1]!);
        want.splice(n >> 1, 0, tracesCodec.decode(requestOf([entry(998, false)])).resourceSpans[0]!.scopeSpans[0]!.spans[0]!);
      }
      expect(Buffer.from(tracesCodec.encode(lazy)).equals(reference(TRACES, eager)), `seed ${seed}`).toBe(true);
    }
  });

  test('a frozen list appended to many spans (normalize shares one per set of values) is written once and copied: the bytes protobufjs writes', () => {
    const frozen = (kv: KeyValue): KeyValue => Object.freeze({ key: kv.key, value: Object.freeze({ ...kv.value }) });
    const shared = Object.freeze([frozen(attr('aibom.span.kind', 'llm')), frozen(attr('aibom.model.name', 'ünïcode 🚀'.repeat(30))), frozen({ key: 'n', value: { intValue: -5 } })]);
    // Frozen, but a Long inside could still change: encoded span by span.
    const open = Object.freeze([frozen({ key: 'big', value: { intValue: Long.fromString('9007199254740993') } })]);
    const bytes = requestOf(Array.from({ length: 6 }, (_, i) => entry(i, false)));
    for (let round = 0; round < 2; round++) {
      const lazy = tracesCodec.decodeReceived(bytes);
      const eager = tracesCodec.decode(bytes);
      const want = eager.resourceSpans[0]!.scopeSpans[0]!.spans;
      lazy.resourceSpans[0]!.scopeSpans[0]!.spans.forEach((s, i) => {
        const list = i === 4 ? open : shared;
        (s as WireSpan).appendAttributes(list);
        want[i]!.attributes!.push(...list);
        if (i === 5) {
          (s as WireSpan).appendAttributes([attr('own', 1)]);
          want[i]!.attributes!.push(attr('own', 1));
        }
      });
      expect(Buffer.from(tracesCodec.encode(lazy)).equals(reference(TRACES, eager)), `round ${round}`).toBe(true);
    }
    expect(shared).toHaveLength(3);
  });

  test('a run never crosses into another buffer laid out the same, nor takes bytes that only look like a header', () => {
    const a = requestOf([entry(1, false), entry(2, false)]);
    const b = Buffer.from(a);
    const at = a.indexOf(Buffer.alloc(16, 2));
    b[at] = b[at]! ^ 0xff; // the second span's trace id differs in one byte, at the same place
    const [a0] = tracesCodec.decodeReceived(a).resourceSpans[0]!.scopeSpans[0]!.spans;
    const [, b1] = tracesCodec.decodeReceived(b).resourceSpans[0]!.scopeSpans[0]!.spans;
    const mixed = { resourceSpans: [{ scopeSpans: [{ spans: [a0!, b1!] }] }] };
    const eager = (x: Buffer) => tracesCodec.decode(x).resourceSpans[0]!.scopeSpans[0]!.spans;
    const want = { resourceSpans: [{ scopeSpans: [{ spans: [eager(a)[0]!, eager(b)[1]!] }] }] };
    expect(Buffer.from(tracesCodec.encode(mixed)).equals(reference(TRACES, want))).toBe(true);
    // A span whose bytes follow a 0x12 and a wrong length: its header is written, not copied.
    const body = encodeSpan(3);
    const span = new WireSpan(Buffer.concat([Buffer.from([0x12, body.length + 1]), body]), 2, 2 + body.length, 0);
    expect(Buffer.from(tracesCodec.encode({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] }))).toEqual(
      reference(TRACES, { resourceSpans: [{ scopeSpans: [{ spans: [spanOf(3)] }] }] }),
    );
  });
});

describe('interning reader', () => {
  test('decodes repeated, long, empty, non-ASCII and invalid UTF-8 strings as protobufjs does', () => {
    const values = ['chat', 'chat', '', 'ü', 'x'.repeat(32), 'x'.repeat(33), 'ünïcode 🚀', 'chat', 'chaT', 'a\ud800b'];
    const m = { resourceSpans: [{ scopeSpans: [{ spans: values.map((v, i) => ({ name: v, attributes: [attr(`k${i % 3}`, v)] })) }] }] };
    const wire = reference(TRACES, m);
    // A name whose bytes are not valid UTF-8: the replacement character, as Buffer#toString gives.
    const bad = Buffer.from([0x0a, 0x0a, 0x12, 0x08, 0x12, 0x06, 0x2a, 0x04, 0xff, 0xfe, 0x41, 0x42]);
    for (const bytes of [wire, bad, new Uint8Array(wire)]) {
      const plain = (m: unknown) => TRACES.toObject(m as protobuf.Message, { longs: String, bytes: String, defaults: true });
      expect(plain(tracesCodec.decode(bytes))).toEqual(plain(TRACES.decode(bytes)));
    }
    const names = tracesCodec.decode(wire).resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => s.name);
    // protobufjs writes a lone surrogate as its three raw bytes; each decodes to a replacement character.
    expect(names).toEqual([...values.slice(0, -1), 'a\ufffd\ufffd\ufffdb']);
  });
});
