import Long from 'long';
import { describe, expect, test } from 'vitest';
import { attr, int64ToBigInt } from './attributes.js';
import { logsCodec, OtlpDecodeError, tracesCodec } from './codec.js';
import type { LogsData, TracesData } from './types.js';

const traceId = Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex');
const spanId = Buffer.from('b7ad6b7169203331', 'hex');
const start = 1_763_000_000_123_456_789n; // beyond 2^53: must survive exactly

function sampleTraces(): TracesData {
  return {
    resourceSpans: [
      {
        resource: { attributes: [attr('service.name', 'agent'), attr('process.pid', 4242)] },
        scopeSpans: [
          {
            scope: { name: 'test', version: '1.0' },
            spans: [
              {
                traceId,
                spanId,
                parentSpanId: Buffer.alloc(0),
                name: 'tool search_kb',
                kind: 3,
                startTimeUnixNano: Long.fromString(start.toString(), true),
                endTimeUnixNano: Long.fromString((start + 1500n).toString(), true),
                attributes: [
                  attr('gen_ai.tool.name', 'search_kb'),
                  attr('ok', true),
                  attr('ratio', 0.25),
                  attr('big', 9_007_199_254_740_993n),
                  attr('tags', ['a', 'b']),
                  { key: 'raw', value: { bytesValue: Buffer.from([1, 2, 3]) } },
                  { key: 'map', value: { kvlistValue: { values: [attr('k', 'v')] } } },
                ],
                events: [{ timeUnixNano: Long.fromString((start + 10n).toString(), true), name: 'exception', attributes: [attr('exception.message', 'boom')] }],
                links: [{ traceId, spanId: Buffer.from('0000000000000001', 'hex'), attributes: [attr('link.kind', 'follows')] }],
                status: { code: 2, message: 'failed' },
              },
            ],
          },
        ],
      },
    ],
  };
}

describe('traces codec', () => {
  test('protobuf round trip keeps ids, nanoseconds and every attribute type', () => {
    const decoded = tracesCodec.decode(tracesCodec.encode(sampleTraces()));
    const span = decoded.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(Buffer.from(span.traceId).toString('hex')).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(int64ToBigInt(span.startTimeUnixNano)).toBe(start);
    expect(int64ToBigInt(span.attributes!.find((a) => a.key === 'big')!.value!.intValue!)).toBe(9_007_199_254_740_993n);
    expect(span.status).toMatchObject({ code: 2, message: 'failed' });
    expect(tracesCodec.count(decoded)).toBe(1);
  });

  test('int64ToBigInt of a Long: signed and unsigned, both halves, the extremes', () => {
    for (const text of ['0', '1', '4294967295', '4294967296', '1700000000123456789', '9223372036854775807', '-1', '-4294967296', '-9223372036854775808']) {
      expect(int64ToBigInt(Long.fromString(text, false))).toBe(BigInt(text));
      if (!text.startsWith('-')) expect(int64ToBigInt(Long.fromString(text, true))).toBe(BigInt(text));
    }
    expect(int64ToBigInt(Long.fromString('18446744073709551615', true))).toBe(18446744073709551615n);
  });

  test('OTLP/JSON uses hex ids and decimal-string nanoseconds, and parses back identically', () => {
    const json = tracesCodec.toJson(sampleTraces());
    const obj = JSON.parse(json);
    const span = obj.resourceSpans[0].scopeSpans[0].spans[0];
    expect(span.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span.links[0].spanId).toBe('0000000000000001');
    expect(span.startTimeUnixNano).toBe(start.toString());
    const back = tracesCodec.fromJson(json);
    expect(Buffer.from(tracesCodec.encode(back))).toEqual(Buffer.from(tracesCodec.encode(sampleTraces())));
  });

  test('truncated protobuf is a decode error, not a crash', () => {
    const bytes = tracesCodec.encode(sampleTraces());
    expect(() => tracesCodec.decode(bytes.subarray(0, bytes.length - 7))).toThrow(OtlpDecodeError);
  });

  test('JSON errors name what is wrong', () => {
    expect(() => tracesCodec.fromJson('{"resourceSpans": [')).toThrow(/invalid ExportTraceServiceRequest JSON/);
    expect(() => tracesCodec.fromJson('[]')).toThrow(/expected an object/);
    expect(() => tracesCodec.fromJson('{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}')).toThrow(
      'resourceSpans[0].scopeSpans[0].spans[0].traceId: expected a hex string',
    );
    expect(() => tracesCodec.fromJson('{"resourceSpans":{}}')).toThrow(/resourceSpans: expected an array/);
  });

  test('partial success responses in both encodings', () => {
    const partial = { rejected: 3, errorMessage: 'bad spans' };
    expect(tracesCodec.decodeResponse(tracesCodec.encodeResponse(partial))).toEqual(partial);
    expect(tracesCodec.responseFromJson(tracesCodec.responseToJson(partial))).toEqual(partial);
    expect(tracesCodec.decodeResponse(tracesCodec.encodeResponse())).toBeUndefined();
  });
});

describe('logs codec', () => {
  test('round trip keeps trace context and body', () => {
    const data: LogsData = {
      resourceLogs: [
        {
          resource: { attributes: [attr('service.name', 'agent')] },
          scopeLogs: [
            {
              logRecords: [
                { timeUnixNano: Long.fromString(start.toString(), true), severityNumber: 13, severityText: 'WARN', body: { stringValue: 'deviation' }, traceId, spanId, attributes: [attr('aibom.rule', 'new_file')] },
              ],
            },
          ],
        },
      ],
    };
    const viaJson = logsCodec.fromJson(logsCodec.toJson(data));
    const rec = viaJson.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    expect(Buffer.from(rec.spanId!).toString('hex')).toBe('b7ad6b7169203331');
    expect(rec.body?.stringValue).toBe('deviation');
    expect(logsCodec.count(logsCodec.decode(logsCodec.encode(data)))).toBe(1);
  });
});

describe('decoded AnyValue', () => {
  test('unset oneof members read as null, so an int attribute is not mistaken for an empty string', async () => {
    const { findAttr } = await import('./attributes.js');
    const decoded = tracesCodec.decode(tracesCodec.encode(sampleTraces()));
    const resource = decoded.resourceSpans[0]!.resource!.attributes!;
    expect(findAttr(resource, 'process.pid')).toBe(4242);
    expect(resource.find((kv) => kv.key === 'process.pid')!.value!.stringValue).toBeNull();
    expect(findAttr(resource, 'service.name')).toBe('agent');
  });
});

describe('interning reader (Buffer input)', () => {
  test('decodes every short string as protobufjs does: all lengths, word-boundary tails, one-byte differences, non-ASCII', () => {
    const strings: string[] = [];
    for (let n = 0; n <= 40; n++) {
      const base = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEF'.slice(0, n);
      strings.push(base);
      // Same length, one byte different at each position: must not be mistaken for `base`.
      for (let i = 0; i < n; i++) strings.push(base.slice(0, i) + '#' + base.slice(i + 1));
    }
    strings.push('é', 'ü-x', '日本語のキー', 'emoji 😀 key', 'a\u00ffb', 'gen_ai.usage.input_tokens', 'gen_ai.request.max_tokens');
    const data: TracesData = {
      resourceSpans: [
        {
          resource: { attributes: [] },
          scopeSpans: [
            {
              scope: { name: 's' },
              spans: [0, 1].map((k) => ({
                traceId: new Uint8Array(16).fill(1),
                spanId: new Uint8Array(8).fill(k + 1),
                name: 'span',
                startTimeUnixNano: Long.fromString('1700000000123456789', true),
                endTimeUnixNano: Long.fromString('1700000000223456789', true),
                attributes: strings.map((s, i) => attr(s, strings[(i + k) % strings.length]!)),
              })),
            },
          ],
        },
      ],
    };
    const bytes = Buffer.from(tracesCodec.encode(data));
    const viaReader = tracesCodec.decode(bytes); // Buffer: the interning reader
    const plain = tracesCodec.decode(new Uint8Array(bytes)); // protobufjs's own reader
    const strs = (d: TracesData) =>
      d.resourceSpans[0]!.scopeSpans[0]!.spans.flatMap((s) => (s.attributes ?? []).flatMap((a) => [a.key, a.value?.stringValue]));
    expect(strs(viaReader)).toEqual(strs(plain));
    expect(strs(viaReader)).toEqual(data.resourceSpans[0]!.scopeSpans[0]!.spans.flatMap((s) => s.attributes!.flatMap((a) => [a.key, a.value?.stringValue])));
    // Decoding again (now from the cache) gives the same strings.
    expect(strs(tracesCodec.decode(bytes))).toEqual(strs(plain));
  });
});
