import Long from 'long';
import { describe, expect, test } from 'vitest';
import { writeKernelRecord } from '../kernel-event/writer.js';
import { attr } from './attributes.js';
import { logsCodec, tracesCodec } from './codec.js';
import { appendLogsJson, appendTracesJson, appendUtf8 } from './json-writer.js';

const tracesToJson = (d: TracesData) => {
  const out = { bytes: Buffer.alloc(0), length: 0 };
  appendTracesJson(d, out);
  return out.bytes.toString('utf8', 0, out.length);
};
import { appendAttributes, eachAttribute, spanIds } from './span-view.js';
import { encodeSpan, field, gen, request, varint } from './testdata/random-requests.js';
import type { KeyValue, LogRecord, LogsData, Span, TracesData } from './types.js';
import { WireSpan } from './wire-span.js';

// Property test: random OTLP requests received (decodeReceived), read through the views, changed,
// then written as OTLP/JSON by the writer give the text tracesCodec.toJson gives for the same
// request and changes; spans nobody decoded stay undecoded.

const spansOf = (d: TracesData) => d.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));

/** A field with any wire type: tag, then `body` as it is. */
const raw = (number: number, wire: number, body: Uint8Array) => Buffer.concat([varint(number * 8 + wire), body]);
/** A 10-byte varint of a negative 64-bit value (how int32 -1 and int64 negatives are sent). */
const negative = (v: bigint) => {
  let u = BigInt.asUintN(64, v);
  const out: number[] = [];
  for (let i = 0; i < 10; i++, u >>= 7n) out.push(Number(u & 127n) | (i < 9 ? 128 : 0));
  return Buffer.from(out);
};
const keyValue = (key: Buffer, value?: Buffer) => Buffer.concat([field(1, key), ...(value ? [field(2, value)] : [])]);

/** What a sender may put after a span's fields: repeats, out-of-order fields, edge encodings, invalid UTF-8. */
function extras(g: ReturnType<typeof gen>): Buffer {
  const all = [
    () => g.unknown(),
    () => field(5, Buffer.from(g.str())), // name again: the last one counts
    () => field(15, Buffer.concat([field(2, Buffer.from('again')), raw(3, 0, varint(2))])), // status again: replaces the first
    () => raw(6, 0, negative(-1n)), // kind -1 as ten bytes
    () => raw(10, 0, negative(-5n)), // dropped_attributes_count as ten bytes: protobufjs keeps the low 32 bits
    () => field(1, Buffer.alloc(16, 0xcd)), // trace id again, after the attributes
    () => field(9, keyValue(Buffer.from([0x61, 0xff, 0x62]), field(1, Buffer.from('v')))), // invalid UTF-8 key: decoded on arrival
    () => field(9, keyValue(Buffer.from('bad'), field(1, Buffer.from([0x22, 0x61, 0xc3, 0x0a, 0xed, 0xa0, 0x80, 0x5c])))), // invalid UTF-8 (a cut character, a surrogate) among escapes
    () => field(9, keyValue(Buffer.from('b'), raw(2, 0, varint(2)))), // bool sent as 2
    () => field(9, keyValue(Buffer.from('i'), raw(3, 0, negative(g.pick([-1n, -(2n ** 63n), -1234567890123n]))))),
    () => field(9, keyValue(Buffer.from('u'), raw(3, 0, varint(g.int(2 ** 31))))),
    () => field(9, keyValue(Buffer.from('two'), Buffer.concat([field(1, Buffer.from('s')), raw(3, 0, varint(7))]))), // two oneof members
    () => field(9, keyValue(Buffer.from('empty'), Buffer.alloc(0))), // a value with nothing set
    () => field(9, keyValue(Buffer.from('none'))), // no value at all
    () => field(9, keyValue(Buffer.from('ü'), raw(4, 1, Buffer.from(new Float64Array([g.pick([Infinity, -0, 5e-324, 1.5, Number.MAX_VALUE])]).buffer)))),
    () => raw(7, 1, Buffer.from(new BigUint64Array([g.pick([0n, 2n ** 64n - 1n, 2n ** 53n, 2n ** 53n + 1n, 1700000000123456789n])]).buffer)),
    () => raw(16, 5, Buffer.from([0xff, 0xff, 0xff, 0xff])),
  ];
  return Buffer.concat(Array.from({ length: g.int(4) }, () => g.pick(all)()));
}

/** Changes a component may make, the same on both copies. */
// One KeyValue appended to many spans, frozen, as normalize shares its aibom.* attributes.
const SHARED: KeyValue = Object.freeze({ key: 'aibom.tool.name', value: Object.freeze({ stringValue: 'héllo "quoted"' }) });
// A frozen list of them appended as it is (normalize shares one list per set of values): its JSON written once.
const SHARED_LIST: readonly KeyValue[] = Object.freeze([Object.freeze({ key: 'aibom.span.kind', value: Object.freeze({ stringValue: 'llm' }) }), SHARED]);

function change(g: ReturnType<typeof gen>, a: TracesData, b: TracesData): void {
  const as = spansOf(a);
  const bs = spansOf(b);
  as.forEach((s, i) => {
    const t = bs[i]!;
    spanIds(s);
    eachAttribute(s, () => undefined);
    switch (g.int(7)) {
      case 0: {
        const add = [attr('aibom.span.kind', 'llm'), attr('n', g.int(9)), { key: 'big', value: { intValue: Long.fromString('-9007199254740993') } }, SHARED];
        appendAttributes(s, add);
        appendAttributes(t, add);
        break;
      }
      case 1:
        s.name = t.name = 'renamed ' + g.str();
        break;
      case 2:
        s.attributes!.push(attr('late', true));
        t.attributes!.push(attr('late', true));
        break;
      case 4:
        appendAttributes(s, SHARED_LIST);
        appendAttributes(t, SHARED_LIST);
        break;
      case 3: {
        // A span a component made itself, as a plain object (64-bit values as decimal strings or numbers).
        const made = (): Span => ({ traceId: Buffer.alloc(16, 3), spanId: Buffer.alloc(8, 4), name: 'made', kind: 1, startTimeUnixNano: '1700000000000000001', endTimeUnixNano: 17, attributes: [attr('k', 'v')], links: [{ traceId: Buffer.alloc(16, 5), spanId: Buffer.alloc(8, 6) }] });
        for (const [d, list] of [[a, as], [b, bs]] as const) {
          const ss = d.resourceSpans.flatMap((rs) => rs.scopeSpans).find((x) => x.spans.includes(list[i]!))!;
          ss.spans[ss.spans.indexOf(list[i]!)] = made();
        }
        break;
      }
      default:
    }
  });
  const r = g.int(3);
  for (const d of [a, b]) {
    if (r === 0) (d.resourceSpans[0]!.resource ??= { attributes: [] }).attributes!.push(attr('host.name', 'h'));
    if (r === 1) d.resourceSpans[0]!.schemaUrl = 'https://opentelemetry.io/schemas/1.30.0';
  }
}

const logsToJson = (d: LogsData) => {
  const out = { bytes: Buffer.alloc(0), length: 0 };
  appendLogsJson(d, out);
  return out.bytes.toString('utf8', 0, out.length);
};
const outcome = (f: () => string) => {
  try {
    return f();
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
};

/** A value toJson may or may not take, or takes differently through fromObject and toObject: what a component could put in an object it makes. */
function odd(g: ReturnType<typeof gen>): unknown {
  return g.pick([
    undefined,
    null,
    'SPAN_KIND_CLIENT',
    '1700000000000000001',
    'aGVsbG8=',
    12.5,
    -1,
    2 ** 40,
    2 ** 53 + 2,
    Number.NaN,
    true,
    Long.fromString('-5'),
    Long.fromString('18446744073709551615', true),
    Long.fromNumber(7, true),
    new Uint8Array([1, 2, 255]),
    Buffer.alloc(0),
    [1, 2],
    [],
    {},
    Object.create(null),
    // An instance of some class (fromObject reads its fields, inherited and accessors too).
    new OddValue(),
  ]);
}

class OddValue {
  readonly stringValue = 'own';
  get intValue(): number {
    return 5;
  }
}

/**
 * A kernel event's log record as the eBPF receiver makes it: body and attributes made on their
 * first read (accessors of its class), or given; `read`: already read (made) before it is written.
 */
function kernelRecord(g: ReturnType<typeof gen>): LogRecord {
  const body = g.str();
  const attributes = g.attrs();
  const given = g.int(3);
  const record = writeKernelRecord({
    kind: g.pick(['open', 'exec', 'connect'] as const),
    timeUnixNano: g.long(),
    observedTimeUnixNano: g.pick([g.long(), g.int(1000)]),
    ...(given === 0 ? { body, attributes } : { source: { body: () => body, attributes: () => attributes } }),
  });
  if (given === 1) void record.body;
  return record;
}

/** Sets one field somewhere in `obj` (the item, a nested message, an attribute's value) to `value`. */
function perturb(g: ReturnType<typeof gen>, obj: Record<string, unknown>, value: unknown): void {
  let at: Record<string, unknown> = obj;
  for (let depth = 0; depth < 3; depth++) {
    const nested = Object.keys(at).filter((k) => at[k] !== null && typeof at[k] === 'object' && !(at[k] instanceof Uint8Array) && !Long.isLong(at[k]));
    if (nested.length === 0 || g.r() < 0.4) break;
    const next = at[g.pick(nested)] as Record<string, unknown> | unknown[];
    const inner = Array.isArray(next) ? next[g.int(next.length)] : next;
    if (inner === null || typeof inner !== 'object') break;
    at = inner as Record<string, unknown>;
  }
  const keys = Object.keys(at);
  at[keys.length > 0 && g.r() < 0.8 ? g.pick(keys) : g.pick(['stringValue', 'intValue', 'doubleValue', 'kind', 'flags', 'timeUnixNano'])] = value;
}

function logRecord(g: ReturnType<typeof gen>): LogRecord {
  return {
    timeUnixNano: g.long(),
    observedTimeUnixNano: g.pick([g.long(), Long.fromNumber(g.int(2 ** 40), true), g.int(1000)]),
    severityNumber: g.int(25),
    severityText: g.str(),
    body: g.value(0),
    attributes: g.attrs(),
    droppedAttributesCount: g.int(3),
    flags: g.pick([0, 1, 0xffffffff]),
    traceId: g.bytes(g.pick([16, 0])),
    spanId: g.bytes(g.pick([8, 0])),
  } as LogRecord;
}

describe('objects (made spans, kernel log records, decoded messages) -> OTLP/JSON', () => {
  test('the text toJson gives, or its error, for random spans, log records, resources and scopes, plain or decoded, with odd values', () => {
    const kinds = { traces: 0, logs: 0, kernel: 0 };
    for (let seed = 1; seed <= 400; seed++) {
      // Two copies from one seed: nothing either writer does to its objects can show in the other's text.
      const make = () => {
        const g = gen(seed);
        const spans = Array.from({ length: 1 + g.int(3) }, () => g.span());
        const records = Array.from({ length: 1 + g.int(3) }, () => (seed % 4 === 2 ? kernelRecord(g) : logRecord(g)));
        const scope = seed % 5 === 0 ? { name: g.str(), version: '1', attributes: g.attrs(), droppedAttributesCount: g.int(3) } : { name: 's', version: '1' };
        const traces: TracesData = { resourceSpans: [{ resource: { attributes: g.attrs(), ...(seed % 7 === 0 ? { droppedAttributesCount: g.int(3) } : {}) }, scopeSpans: [{ scope, spans }] }] };
        const logs: LogsData = { resourceLogs: [{ resource: { attributes: g.attrs() }, scopeLogs: [{ scope: { name: 'aibom.ebpf' }, logRecords: records }], schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' }] };
        const decoded = seed % 3 === 0;
        const t = decoded ? tracesCodec.decode(tracesCodec.encode(traces)) : traces;
        const l = decoded ? logsCodec.decode(logsCodec.encode(logs)) : logs;
        const oddity = gen(seed * 31);
        if (seed % 2 === 0) {
          const value = odd(oddity);
          perturb(oddity, t.resourceSpans[0]!.scopeSpans[0]!.spans[0] as unknown as Record<string, unknown>, value);
          perturb(oddity, l.resourceLogs[0]!.scopeLogs[0]!.logRecords[0] as unknown as Record<string, unknown>, value);
        }
        // Resources and scopes are written from their objects too (correlate makes its own per batch).
        if (seed % 4 === 1) perturb(oddity, t.resourceSpans[0]!.resource as unknown as Record<string, unknown>, odd(oddity));
        if (seed % 4 === 3) perturb(oddity, t.resourceSpans[0]!.scopeSpans[0]!.scope as unknown as Record<string, unknown>, odd(oddity));
        return { t, l };
      };
      const a = make();
      const b = make();
      const traces = outcome(() => tracesToJson(a.t));
      expect(traces, `seed ${seed} traces`).toBe(outcome(() => tracesCodec.toJson(b.t)));
      const logs = outcome(() => logsToJson(a.l));
      expect(logs, `seed ${seed} logs`).toBe(outcome(() => logsCodec.toJson(b.l)));
      if (!traces.startsWith('error')) kinds.traces++;
      if (!logs.startsWith('error')) kinds.logs++;
      if (seed % 4 === 2 && !logs.startsWith('error')) kinds.kernel++;
    }
    expect(kinds.kernel).toBeGreaterThan(80);
    expect(kinds.traces).toBeGreaterThan(300);
    expect(kinds.logs).toBeGreaterThan(300);
  });
  test('a class instance is read as toJson reads it: accessors too at the top, own fields only inside a decoded message', () => {
    const logs = (body: unknown, decoded: boolean): LogsData => {
      const record = { timeUnixNano: 1, body: { stringValue: 'b' } };
      const data: LogsData = { resourceLogs: [{ scopeLogs: [{ logRecords: [record as LogRecord] }] }] };
      const d = decoded ? logsCodec.decode(logsCodec.encode(data)) : data;
      d.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.body = body as LogRecord['body'];
      return d;
    };
    for (const decoded of [false, true]) {
      const text = logsToJson(logs(new OddValue(), decoded));
      expect(text).toBe(logsCodec.toJson(logs(new OddValue(), decoded)));
      expect(text).toContain(decoded ? '"body":{"stringValue":"own"}' : '"body":{"stringValue":"own","intValue":"5"}');
    }
    // A kernel record's body and attributes, made on first read (accessors), are written.
    const made = () => ({ resourceLogs: [{ scopeLogs: [{ logRecords: [writeKernelRecord({ kind: 'open', timeUnixNano: 1, observedTimeUnixNano: 2, source: { body: () => 'open /etc/hosts', attributes: () => [attr('file.path', '/etc/hosts')] } })] }] }] });
    const text = logsToJson(made());
    expect(text).toBe(logsCodec.toJson(made()));
    expect(text).toContain('"body":{"stringValue":"open /etc/hosts"},"attributes":[{"key":"file.path","value":{"stringValue":"/etc/hosts"}}]');
  });
});

describe('tracesToJson: received -> views -> changed -> OTLP/JSON', () => {
  test('the text tracesCodec.toJson gives, for random requests; untouched spans stay bytes', () => {
    let transcoded = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const bytes = request(seed, extras);
      const a = tracesCodec.decodeReceived(Buffer.from(bytes));
      const b = tracesCodec.decodeReceived(Buffer.from(bytes));
      change(gen(seed + 7), a, b);
      const before = spansOf(a).map((s) => s instanceof WireSpan && s.message === undefined);
      const expected = tracesCodec.toJson(b);
      expect(tracesToJson(a), `seed ${seed}`).toBe(expected);
      // Again: what the writer keeps between requests (the high word of the last 64-bit value, the JSON of frozen KeyValues) changes nothing.
      expect(tracesToJson(a), `seed ${seed}, again`).toBe(expected);
      expect(spansOf(a).map((s) => s instanceof WireSpan && s.message === undefined)).toEqual(before);
      transcoded += before.filter(Boolean).length;
    }
    expect(transcoded).toBeGreaterThan(200);
  });

  test('an appended KeyValue is written as it is now unless nothing in it can change', () => {
    const bytes = Buffer.from(tracesCodec.encode({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), name: 's', startTimeUnixNano: 1, endTimeUnixNano: 2 }] }] }] }));
    const open: KeyValue = { key: 'open', value: { stringValue: 'a' } };
    const frozenLong: KeyValue = Object.freeze({ key: 'n', value: Object.freeze({ intValue: Long.fromNumber(1) }) });
    const frozen: KeyValue = Object.freeze({ key: 'f', value: Object.freeze({ boolValue: true }) });
    // The same three in a frozen list: still written as they are now (the list holds what can change).
    const list = Object.freeze([open, frozenLong, frozen]);
    for (const append of [[open, frozenLong, frozen], list]) {
      const written = () => {
        const d = tracesCodec.decodeReceived(bytes);
        appendAttributes(spansOf(d)[0]!, append);
        const text = tracesToJson(d);
        expect(text).toBe(tracesCodec.toJson(d));
        return text;
      };
      open.value!.stringValue = 'a';
      (frozenLong.value!.intValue as Long).low = 1;
      expect(written()).toContain('{"key":"open","value":{"stringValue":"a"}},{"key":"n","value":{"intValue":"1"}},{"key":"f","value":{"boolValue":true}}');
      open.value!.stringValue = 'b';
      (frozenLong.value!.intValue as Long).low = 2;
      expect(written()).toContain('{"key":"open","value":{"stringValue":"b"}},{"key":"n","value":{"intValue":"2"}},{"key":"f","value":{"boolValue":true}}');
    }
  });

  test('64-bit values at the edges come out as Long#toString gives them', () => {
    const values = [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 999999999999999999n, 1000000000000000000n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];
    const spans: Span[] = values.map((v) => ({
      traceId: Buffer.alloc(16, 1),
      spanId: Buffer.alloc(8, 2),
      name: String(v),
      startTimeUnixNano: Long.fromString(String(v), true),
      endTimeUnixNano: Long.fromString(String(v), true),
      attributes: [{ key: 'i', value: { intValue: Long.fromString(String(BigInt.asIntN(64, v))) } }],
    }));
    const bytes = Buffer.from(tracesCodec.encode({ resourceSpans: [{ scopeSpans: [{ spans }] }] }));
    const text = tracesToJson(tracesCodec.decodeReceived(bytes));
    expect(text).toBe(tracesCodec.toJson(tracesCodec.decode(bytes)));
    expect(text).toContain('"startTimeUnixNano":"18446744073709551615"');
    expect(text).toContain('"intValue":"-9223372036854775808"');
  });

  test('64-bit values sharing a high word (a batch\'s timestamps), across it, and back', () => {
    const base = 1764470000123456789n & ~0xffffffffn;
    const lows = [0n, 1n, 999999999n, 1000000000n, 4294967295n, 2705032704n, 2705032703n];
    const values = [...lows.map((l) => base + l), ...lows.map((l) => base + 2n ** 32n + l), base + 5n, 2n ** 53n + 7n, base + 6n];
    const u32 = [0, 9, 10, 99, 100, 4294967295];
    const spans: Span[] = values.map((v, i) => ({
      traceId: Buffer.alloc(16, 1),
      spanId: Buffer.alloc(8, 2),
      name: 'n',
      kind: i % 6,
      droppedAttributesCount: u32[i % u32.length],
      startTimeUnixNano: Long.fromString(String(v), true),
      endTimeUnixNano: Long.fromString(String(v + 1n), true),
      attributes: [{ key: 'i', value: { intValue: Long.fromString(String(BigInt.asIntN(64, -v))) } }],
    }));
    const bytes = Buffer.from(tracesCodec.encode({ resourceSpans: [{ scopeSpans: [{ spans }] }] }));
    const received = tracesCodec.decodeReceived(bytes);
    const text = tracesToJson(received);
    expect(text).toBe(tracesCodec.toJson(tracesCodec.decode(bytes)));
    // Transcoded from the bytes, not written through protobufjs.
    expect(spansOf(received).every((s) => s instanceof WireSpan && s.message === undefined)).toBe(true);
    for (const v of values) expect(text).toContain(`"startTimeUnixNano":"${v}"`);
    expect(text).toContain('"droppedAttributesCount":4294967295');
  });

  test('received attributes in every layout: the usual ones short-cut, the others walked, the same text', () => {
    const long = 'x'.repeat(200);
    const kv = (key: Buffer, value?: Buffer) => field(9, keyValue(key, value));
    const str = (s: string) => field(1, Buffer.from(s));
    const layouts = [
      kv(Buffer.from('k'), str('v')),
      kv(Buffer.from(long), str(long)), // two-byte lengths
      kv(Buffer.from('q"\\\n'), str('é "\u2028" \u0000')), // escapes, non-ASCII
      kv(Buffer.alloc(0), str('')), // empty key and value
      kv(Buffer.from('b'), raw(2, 0, varint(0))),
      kv(Buffer.from('b'), raw(2, 0, varint(300))), // bool sent as 300
      kv(Buffer.from('i'), raw(3, 0, negative(-42n))),
      kv(Buffer.from('d'), raw(4, 1, Buffer.from(new Float64Array([NaN]).buffer))),
      kv(Buffer.from('empty'), Buffer.alloc(0)),
      kv(Buffer.from('none')),
      kv(Buffer.from('two'), Buffer.concat([str('a'), str('b')])), // a value's field twice: the last counts
      kv(Buffer.from('tail'), Buffer.concat([raw(3, 0, varint(1)), str('s')])),
      kv(Buffer.from('bytes'), field(7, Buffer.from([1, 2, 3]))),
      kv(Buffer.from('array'), field(5, field(1, str('a')))),
      field(9, Buffer.concat([field(2, str('v')), field(1, Buffer.from('value first'))])),
      field(9, Buffer.concat([field(1, Buffer.from('k')), field(2, str('v')), raw(99, 0, varint(1))])), // an unknown field after the value
      field(9, Buffer.concat([field(1, Buffer.from('k')), field(1, Buffer.from('k2')), field(2, str('v'))])), // the key twice
      field(9, Buffer.concat([Buffer.from([0x8a, 0x00]), varint(1), Buffer.from('k'), field(2, str('v'))])), // a tag in two bytes
    ];
    const span = encodeSpan({ traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), name: 's', startTimeUnixNano: 1, endTimeUnixNano: 2 });
    const buf = Buffer.concat([span, ...layouts]);
    const mk = (): TracesData => ({ resourceSpans: [{ scopeSpans: [{ spans: [new WireSpan(buf, 0, buf.length, 0)] }] }] });
    const received = mk();
    const text = tracesToJson(received);
    expect(text).toBe(tracesCodec.toJson(mk()));
    expect((spansOf(received)[0] as WireSpan).message).toBeUndefined();
    expect(text).toContain(`{"key":"${long}","value":{"stringValue":"${long}"}}`);
    expect(text).toContain('{"key":"b","value":{"boolValue":true}}');
  });

  test('content-sized strings with escapes and multi-byte characters: the text toJson gives, from the bytes', () => {
    // Every byte JSON.stringify escapes, DEL, U+2028, 2-4 byte characters, LLM-like text; the first
    // escape at the start, after a plain prefix, or none, the rest around the length where the
    // writer escapes natively (256 bytes), around its piece (16 KiB) and content-sized.
    const special = [...Array.from({ length: 0x20 }, (_, c) => String.fromCharCode(c)), '"', '\\', '\x7f', '\u2028', '\u2029', 'é', 'ß', '€', '中', '😀', '{"role":"user","content":"Bitte prüfen:\\n"}'];
    const g = gen(11);
    const text = (n: number) => {
      const t: string[] = [];
      for (let length = 0; length < n; ) {
        t.push(g.r() < 0.3 ? g.pick(special) : 'plain words ');
        length += Buffer.byteLength(t[t.length - 1]!);
      }
      return t.join('');
    };
    const values: string[] = [];
    for (const n of [200, 254, 255, 256, 257, 300, 1000, 16_383, 16_385, 100_000, 300_000]) {
      for (const prefix of [0, 1, 40, 300]) {
        const body = text(n);
        values.push('p'.repeat(prefix) + body, 'p'.repeat(prefix) + '\n' + body, 'x'.repeat(prefix) + '€'.repeat(n));
      }
      values.push('a'.repeat(n) + '"', 'a'.repeat(n));
    }
    // The native escape works in pieces of 16 KiB from the first escape: an escape, and a multi-byte
    // character, just before, on and just after a piece's end.
    for (const k of [-2, -1, 0, 1, 2]) values.push('"' + 'a'.repeat(16_383 + k) + '"\n\\' + 'b'.repeat(20_000), '"' + 'a'.repeat(16_382 + k) + '€😀é' + 'b'.repeat(40_000) + '"');
    const spans: Span[] = values.map((v, i) => ({ traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), name: v.slice(0, 300 + i), startTimeUnixNano: 1, endTimeUnixNano: 2, attributes: [attr('input.value', v), attr(v.slice(i % 7), 'k')] }));
    const bytes = Buffer.from(tracesCodec.encode({ resourceSpans: [{ scopeSpans: [{ spans }] }] }));
    const received = tracesCodec.decodeReceived(bytes);
    expect(tracesToJson(received)).toBe(tracesCodec.toJson(tracesCodec.decode(bytes)));
    expect(spansOf(received).every((s) => s instanceof WireSpan && s.message === undefined)).toBe(true);
  });

  test('bytes a clean walk does not expect are written by protobufjs, as before (same text or same error)', () => {
    const good = encodeSpan({ traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), name: 'ok', startTimeUnixNano: 1, endTimeUnixNano: 2 });
    // Spans wire-check.ts would refuse, made directly: name as a varint, a length past the span, a group, wire type 7.
    for (const tail of [raw(5, 0, varint(3)), Buffer.from([0x2a, 0x7f, 0x61]), raw(100, 3, Buffer.from([0xa4, 0x06])), Buffer.from([0x2f])]) {
      const buf = Buffer.concat([good, tail]);
      const mk = (): TracesData => ({ resourceSpans: [{ scopeSpans: [{ spans: [new WireSpan(buf, 0, buf.length, 0)] }] }] });
      expect(outcome(() => tracesToJson(mk()))).toBe(outcome(() => tracesCodec.toJson(mk())));
    }
    // Shapes toJson refuses: its own error.
    const bad = { resourceSpans: [{ scopeSpans: [{ spans: [null] }] }] } as unknown as TracesData;
    expect(outcome(() => tracesToJson(bad))).toBe(outcome(() => tracesCodec.toJson(bad)));
  });

  test('appends to what the buffer holds, growing it; a request that throws leaves it as it was', () => {
    const bytes = Buffer.from(tracesCodec.encode({ resourceSpans: [{ scopeSpans: [{ spans: Array.from({ length: 300 }, (_, i) => ({ traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), name: `s${i}`, startTimeUnixNano: 1, endTimeUnixNano: 2, attributes: [attr('k', 'v'.repeat(i))] })) }] }] }));
    const one = tracesCodec.toJson(tracesCodec.decode(bytes));
    const out = { bytes: Buffer.alloc(8), length: 0 };
    appendUtf8(out, 'é\n');
    appendTracesJson(tracesCodec.decodeReceived(bytes), out);
    appendUtf8(out, '\n');
    const bad = { resourceSpans: [{ scopeSpans: [{ spans: [null] }] }] } as unknown as TracesData;
    const before = { ...out };
    expect(() => appendTracesJson(bad, out)).toThrow();
    expect(out).toEqual(before);
    appendTracesJson(tracesCodec.decodeReceived(bytes), out);
    expect(out.bytes.toString('utf8', 0, out.length)).toBe(`é\n${one}\n${one}`);
  });
});
