import protobuf from 'protobufjs';

/**
 * google.rpc.Status and google.rpc.RetryInfo, the only parts of the gRPC error model the exporter
 * reads: a server that throttles puts a RetryInfo into `grpc-status-details-bin` (gRPC) or into the
 * Status body of an HTTP error, and the OTLP spec asks clients to wait that long before retrying.
 */
const root = protobuf.parse(`
syntax = "proto3";
package google.rpc;
message Any { string type_url = 1; bytes value = 2; }
message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
message Duration { int64 seconds = 1; int32 nanos = 2; }
message RetryInfo { Duration retry_delay = 1; }
`).root;

const StatusType = root.lookupType('google.rpc.Status');
const RetryInfoType = root.lookupType('google.rpc.RetryInfo');
export const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

export interface RpcStatus {
  code: number;
  message: string;
  /** The RetryInfo delay in milliseconds, when the status carried one. */
  retryDelayMs?: number;
}

/** Decodes a google.rpc.Status; undefined when the bytes are not one. */
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
      if (ri.retryDelay) out.retryDelayMs = ri.retryDelay.seconds * 1000 + Math.floor(ri.retryDelay.nanos / 1e6);
    }
    return out;
  } catch {
    return undefined;
  }
}

/** Encodes a google.rpc.Status, optionally with a RetryInfo; used by peers in tests. */
export function encodeRpcStatus(status: RpcStatus): Uint8Array {
  const details: { typeUrl: string; value: Uint8Array }[] = [];
  if (status.retryDelayMs !== undefined) {
    const seconds = Math.floor(status.retryDelayMs / 1000);
    const nanos = (status.retryDelayMs % 1000) * 1e6;
    const value = RetryInfoType.encode(RetryInfoType.fromObject({ retryDelay: { seconds, nanos } })).finish();
    details.push({ typeUrl: RETRY_INFO_TYPE_URL, value });
  }
  return StatusType.encode(StatusType.fromObject({ code: status.code, message: status.message, details })).finish();
}
