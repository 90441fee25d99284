import protobuf from 'protobufjs';

/**
 * google.rpc.Status, the error body OTLP/HTTP sends (in the request's encoding) and the detail
 * gRPC carries in `grpc-status-details-bin`, with a google.rpc.RetryInfo telling the sender when
 * to come back. Only the fields we write are declared.
 */
const root = protobuf.parse(`syntax = "proto3";
package google.rpc;
message Any { string type_url = 1; bytes value = 2; }
message Duration { int64 seconds = 1; int32 nanos = 2; }
message RetryInfo { Duration retry_delay = 1; }
message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
`, { keepCase: false }).root;

const StatusType = root.lookupType('google.rpc.Status');
const RetryInfoType = root.lookupType('google.rpc.RetryInfo');
export const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

/** gRPC status codes we answer with (same numbers as @grpc/grpc-js `status`). */
export const GrpcCode = {
  INVALID_ARGUMENT: 3,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
  RESOURCE_EXHAUSTED: 8,
  INTERNAL: 13,
} as const;

export interface RpcStatus {
  code: number;
  message: string;
  /** Set on retryable answers: how long the sender should wait. */
  retryAfterMs?: number;
}

function duration(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

export function encodeRpcStatus(s: RpcStatus): Uint8Array {
  const details =
    s.retryAfterMs === undefined
      ? []
      : [{ typeUrl: RETRY_INFO_TYPE_URL, value: RetryInfoType.encode(RetryInfoType.fromObject({ retryDelay: duration(s.retryAfterMs) })).finish() }];
  return StatusType.encode(StatusType.fromObject({ code: s.code, message: s.message, details })).finish();
}

/** The proto3 JSON mapping of the same Status (Duration as "1.5s", Any with "@type"). */
export function rpcStatusToJson(s: RpcStatus): string {
  const out: Record<string, unknown> = { code: s.code, message: s.message };
  if (s.retryAfterMs !== undefined) {
    out['details'] = [{ '@type': RETRY_INFO_TYPE_URL, retryDelay: `${s.retryAfterMs / 1000}s` }];
  }
  return JSON.stringify(out);
}

/** For tests and tools: reads a Status, returning RetryInfo's delay in ms when present. */
export function decodeRpcStatus(bytes: Uint8Array): RpcStatus {
  const msg = StatusType.toObject(StatusType.decode(bytes), { longs: Number, defaults: true }) as {
    code: number;
    message: string;
    details: { typeUrl: string; value: Uint8Array }[];
  };
  const out: RpcStatus = { code: msg.code, message: msg.message };
  for (const d of msg.details) {
    if (d.typeUrl !== RETRY_INFO_TYPE_URL) continue;
    const info = RetryInfoType.toObject(RetryInfoType.decode(d.value), { longs: Number, defaults: true }) as {
      retryDelay?: { seconds: number; nanos: number };
    };
    if (info.retryDelay) out.retryAfterMs = info.retryDelay.seconds * 1000 + info.retryDelay.nanos / 1e6;
  }
  return out;
}
