import protobuf from 'protobufjs';

/**
 * google.rpc.Status with a google.rpc.RetryInfo detail: the error body OTLP/HTTP sends in the
 * request's encoding, and what gRPC carries in `grpc-status-details-bin`. Receivers write it to tell
 * a sender when to come back; exporters read it, because the OTLP spec asks clients to wait that long.
 * Only the fields OTLP uses are declared.
 */
const root = protobuf.parse(
  `syntax = "proto3";
package google.rpc;
message Any { string type_url = 1; bytes value = 2; }
message Duration { int64 seconds = 1; int32 nanos = 2; }
message RetryInfo { Duration retry_delay = 1; }
message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
`,
  { keepCase: false },
).root;

const StatusType = root.lookupType('google.rpc.Status');
const RetryInfoType = root.lookupType('google.rpc.RetryInfo');
export const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

/** gRPC status codes the collector answers with (same numbers as @grpc/grpc-js `status`). */
export const GrpcCode = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export interface RpcStatus {
  code: number;
  message: string;
  /** RetryInfo's delay: how long the sender should wait before retrying. */
  retryDelayMs?: number;
}

function duration(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

export function encodeRpcStatus(s: RpcStatus): Uint8Array {
  const details =
    s.retryDelayMs === undefined
      ? []
      : [{ typeUrl: RETRY_INFO_TYPE_URL, value: RetryInfoType.encode(RetryInfoType.fromObject({ retryDelay: duration(s.retryDelayMs) })).finish() }];
  return StatusType.encode(StatusType.fromObject({ code: s.code, message: s.message, details })).finish();
}

/** The proto3 JSON mapping of the same Status (Duration as "1.5s", Any with "@type"). */
export function rpcStatusToJson(s: RpcStatus): string {
  const out: Record<string, unknown> = { code: s.code, message: s.message };
  if (s.retryDelayMs !== undefined) out['details'] = [{ '@type': RETRY_INFO_TYPE_URL, retryDelay: `${s.retryDelayMs / 1000}s` }];
  return JSON.stringify(out);
}

/** Reads a Status with RetryInfo's delay when present; undefined when the bytes are not one. */
export function decodeRpcStatus(bytes: Uint8Array): RpcStatus | undefined {
  try {
    const s = StatusType.toObject(StatusType.decode(bytes), { longs: Number, defaults: true }) as {
      code: number;
      message: string;
      details: { typeUrl: string; value: Uint8Array }[];
    };
    const out: RpcStatus = { code: s.code, message: s.message };
    for (const any of s.details) {
      if (any.typeUrl !== RETRY_INFO_TYPE_URL) continue;
      const ri = RetryInfoType.toObject(RetryInfoType.decode(any.value), { longs: Number, defaults: true }) as {
        retryDelay?: { seconds: number; nanos: number };
      };
      if (ri.retryDelay) out.retryDelayMs = ri.retryDelay.seconds * 1000 + ri.retryDelay.nanos / 1e6;
    }
    return out;
  } catch {
    return undefined;
  }
}
