import protobuf from 'protobufjs';
import { type Alloc, createEncoder } from './encoder.js';
import { decodeTracesLazily } from './lazy-traces.js';
import { OtlpDecodeError } from './otlp-decode-error.js';
import { root } from './proto-root.js';
import { InterningReader } from './reader.js';
import { WireSpan } from './wire-span.js';
import type { LogsData, PartialSuccess, Signal, SignalData, TracesData } from './types.js';

export { OtlpDecodeError };

/** Everything a receiver or exporter needs to speak one OTLP signal, on either transport. */
export interface SignalCodec<S extends Signal> {
  readonly signal: S;
  /** gRPC method path, e.g. /opentelemetry.proto.collector.trace.v1.TraceService/Export */
  readonly grpcPath: string;
  /** Default OTLP/HTTP path, e.g. /v1/traces */
  readonly httpPath: string;
  /** Name of the unit counted in metrics and partial-success responses. */
  readonly itemName: 'spans' | 'log_records';
  decode(bytes: Uint8Array): SignalData<S>;
  /**
   * What receivers use: as `decode`, but for traces in a Buffer the spans stay their received bytes
   * until a component reads them (wire-span.ts), so untouched spans are copied, not re-encoded.
   */
  decodeReceived(bytes: Uint8Array): SignalData<S>;
  /** Protobuf bytes; `alloc` gives the buffer they are written into (default: a new one). */
  encode(data: SignalData<S>, alloc?: Alloc): Uint8Array;
  fromJson(text: string): SignalData<S>;
  toJson(data: SignalData<S>): string;
  /** Number of spans or log records in the data. */
  count(data: SignalData<S>): number;
  encodeResponse(partial?: PartialSuccess): Uint8Array;
  responseToJson(partial?: PartialSuccess): string;
  decodeResponse(bytes: Uint8Array): PartialSuccess | undefined;
  responseFromJson(text: string): PartialSuccess | undefined;
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: Number, bytes: String, defaults: false };

function decodeWith<T>(type: protobuf.Type, bytes: Uint8Array): T {
  try {
    // Buffers only: for other Uint8Arrays protobufjs reads strings with its own UTF-8 decoder.
    return type.decode(Buffer.isBuffer(bytes) ? new InterningReader(bytes) : bytes) as unknown as T;
  } catch (err) {
    throw new OtlpDecodeError(`invalid ${type.name} protobuf: ${(err as Error).message}`);
  }
}

function parseJson(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new OtlpDecodeError(`invalid ${what} JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new OtlpDecodeError(`invalid ${what} JSON: expected an object at the top level`);
  }
  return value as Record<string, unknown>;
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** OTLP/JSON carries trace and span ids as hex, where protobuf's JSON mapping would use base64. */
function hexIdsToBytes(obj: Record<string, unknown>, path: string, keys: readonly string[]): void {
  for (const key of keys) {
    const v = obj[key];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string' || !HEX.test(v)) {
      throw new OtlpDecodeError(`${path}.${key}: expected a hex string, got ${JSON.stringify(v).slice(0, 60)}`);
    }
    obj[key] = Buffer.from(v, 'hex');
  }
}

function bytesIdsToHex(obj: Record<string, unknown>, keys: readonly string[]): void {
  for (const key of keys) {
    const v = obj[key];
    if (typeof v === 'string') obj[key] = Buffer.from(v, 'base64').toString('hex');
  }
}

function arrayAt(obj: Record<string, unknown>, key: string, path: string): Record<string, unknown>[] {
  const v = obj[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new OtlpDecodeError(`${path}.${key}: expected an array`);
  return v as Record<string, unknown>[];
}

/** Walks resource -> scope -> items, calling `visit` on each item object with its JSON path. */
function eachItem(
  top: Record<string, unknown>,
  keys: readonly [string, string, string],
  visit: (item: Record<string, unknown>, path: string) => void,
): void {
  const [resourceKey, scopeKey, itemKey] = keys;
  arrayAt(top, resourceKey, '').forEach((r, i) => {
    const rp = `${resourceKey}[${i}]`;
    arrayAt(r, scopeKey, rp).forEach((s, j) => {
      const sp = `${rp}.${scopeKey}[${j}]`;
      arrayAt(s, itemKey, sp).forEach((item, k) => visit(item, `${sp}.${itemKey}[${k}]`));
    });
  });
}

function fromObject<T>(type: protobuf.Type, obj: Record<string, unknown>): T {
  try {
    return type.fromObject(obj) as unknown as T;
  } catch (err) {
    throw new OtlpDecodeError(`invalid ${type.name} JSON: ${(err as Error).message}`);
  }
}

interface SignalSpec {
  request: string;
  response: string;
  partialKey: string;
  rejectedKey: string;
  grpcPath: string;
  httpPath: string;
  itemName: 'spans' | 'log_records';
  keys: readonly [string, string, string];
  fixIds(item: Record<string, unknown>, path: string, toBytes: boolean): void;
  count(data: unknown): number;
}

const SPAN_ID_KEYS = ['traceId', 'spanId', 'parentSpanId'] as const;
const LINK_ID_KEYS = ['traceId', 'spanId'] as const;

const TRACES: SignalSpec = {
  request: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
  response: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse',
  partialKey: 'partialSuccess',
  rejectedKey: 'rejectedSpans',
  grpcPath: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  httpPath: '/v1/traces',
  itemName: 'spans',
  keys: ['resourceSpans', 'scopeSpans', 'spans'],
  fixIds(span, path, toBytes) {
    if (toBytes) hexIdsToBytes(span, path, SPAN_ID_KEYS);
    else bytesIdsToHex(span, SPAN_ID_KEYS);
    arrayAt(span, 'links', path).forEach((link, i) => {
      if (toBytes) hexIdsToBytes(link, `${path}.links[${i}]`, LINK_ID_KEYS);
      else bytesIdsToHex(link, LINK_ID_KEYS);
    });
  },
  count(data) {
    let n = 0;
    for (const rs of (data as TracesData).resourceSpans) for (const ss of rs.scopeSpans) n += ss.spans.length;
    return n;
  },
};

const LOGS: SignalSpec = {
  request: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest',
  response: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse',
  partialKey: 'partialSuccess',
  rejectedKey: 'rejectedLogRecords',
  grpcPath: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  httpPath: '/v1/logs',
  itemName: 'log_records',
  keys: ['resourceLogs', 'scopeLogs', 'logRecords'],
  fixIds(record, path, toBytes) {
    if (toBytes) hexIdsToBytes(record, path, LINK_ID_KEYS);
    else bytesIdsToHex(record, LINK_ID_KEYS);
  },
  count(data) {
    let n = 0;
    for (const rl of (data as LogsData).resourceLogs) for (const sl of rl.scopeLogs) n += sl.logRecords.length;
    return n;
  },
};

/**
 * The same data with every WireSpan replaced by its decoded span: protobufjs's fromObject takes a
 * decoded message as it is but would read a WireSpan's proto3 defaults as set fields.
 */
function withDecodedSpans(data: TracesData): TracesData {
  return {
    resourceSpans: data.resourceSpans.map((rs) => ({
      ...rs,
      scopeSpans: rs.scopeSpans.map((ss) => ({ ...ss, spans: ss.spans.map((s) => (s instanceof WireSpan ? s.decode() : s)) })),
    })),
  };
}

function makeCodec<S extends Signal>(signal: S, spec: SignalSpec): SignalCodec<S> {
  const request = root.lookupType(spec.request);
  const response = root.lookupType(spec.response);
  const encodeRequest = createEncoder(request);
  const toPartial = (msg: Record<string, unknown> | undefined): PartialSuccess | undefined => {
    const p = msg?.[spec.partialKey] as Record<string, unknown> | undefined | null;
    if (!p) return undefined;
    const rejected = Number(p[spec.rejectedKey] ?? 0);
    const errorMessage = String(p['errorMessage'] ?? '');
    return rejected === 0 && errorMessage === '' ? undefined : { rejected, errorMessage };
  };
  const fromPartial = (partial?: PartialSuccess): Record<string, unknown> =>
    partial ? { [spec.partialKey]: { [spec.rejectedKey]: partial.rejected, errorMessage: partial.errorMessage } } : {};
  type D = SignalData<S>;
  return {
    signal,
    grpcPath: spec.grpcPath,
    httpPath: spec.httpPath,
    itemName: spec.itemName,
    decode: (bytes) => decodeWith<D>(request, bytes),
    decodeReceived: (bytes) =>
      signal === 'traces' && Buffer.isBuffer(bytes) ? (decodeTracesLazily(bytes) as D) : decodeWith<D>(request, bytes),
    encode: (data, alloc) => encodeRequest(data, alloc),
    fromJson(text) {
      const obj = parseJson(text, request.name);
      eachItem(obj, spec.keys, (item, path) => spec.fixIds(item, path, true));
      return fromObject<D>(request, obj);
    },
    toJson(data) {
      // toObject assumes 64-bit fields are Long or number; `Int64` also allows decimal strings, so plain
      // objects go through fromObject first (a no-op for decoded messages, which are returned as they are).
      const msg = request.fromObject((signal === 'traces' ? withDecodedSpans(data as TracesData) : data) as unknown as Record<string, unknown>);
      const obj = request.toObject(msg, TO_OBJECT);
      eachItem(obj, spec.keys, (item, path) => spec.fixIds(item, path, false));
      return JSON.stringify(obj);
    },
    count: (data) => spec.count(data),
    encodeResponse: (partial) => response.encode(response.fromObject(fromPartial(partial))).finish(),
    responseToJson: (partial) =>
      JSON.stringify(response.toObject(response.fromObject(fromPartial(partial)), TO_OBJECT)),
    decodeResponse: (bytes) =>
      toPartial(response.toObject(decodeWith<protobuf.Message>(response, bytes), { longs: Number })),
    responseFromJson: (text) => toPartial(response.toObject(fromObject(response, parseJson(text, response.name)), { longs: Number })),
  };
}

export const tracesCodec: SignalCodec<'traces'> = makeCodec('traces', TRACES);
export const logsCodec: SignalCodec<'logs'> = makeCodec('logs', LOGS);

export function codecFor<S extends Signal>(signal: S): SignalCodec<S> {
  return (signal === 'traces' ? tracesCodec : logsCodec) as unknown as SignalCodec<S>;
}
