import type { OutgoingHttpHeaders } from 'node:http2';
import { encodeRpcStatus } from '../../pipeline/otlp/rpc-status.js';

/** What every gRPC answer's HEADERS carry; `application/grpc` means protobuf messages. */
export const GRPC_CONTENT_TYPE = 'application/grpc';
/** The message encodings the server inflates, in the `grpc-accept-encoding` form. */
export const ACCEPTED_ENCODINGS = 'identity,deflate,gzip';

/**
 * `grpc-message` as the gRPC HTTP/2 protocol asks: UTF-8, every byte outside 0x20-0x7E and `%`
 * itself percent-encoded (clients decode it back; a raw newline or non-ASCII byte is not a valid
 * header value).
 */
export function percentEncode(message: string): string {
  if (/^[\x20-\x24\x26-\x7e]*$/.test(message)) return message;
  let out = '';
  for (const b of Buffer.from(message, 'utf8')) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * A trailers-only answer (HEADERS with END_STREAM): status, message and, with a back-off hint, a
 * google.rpc.Status carrying RetryInfo in `grpc-status-details-bin` (base64 without padding, which
 * the protocol asks senders to emit and every reader accepts), as grpc-go senders read it.
 */
export function statusHeaders(code: number, message: string, retryAfterMs?: number, extra?: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {
    ':status': 200,
    'content-type': GRPC_CONTENT_TYPE,
    'grpc-status': String(code),
    'grpc-message': percentEncode(message),
    ...extra,
  };
  if (retryAfterMs !== undefined) {
    headers['grpc-status-details-bin'] = Buffer.from(encodeRpcStatus({ code, message, retryDelayMs: retryAfterMs })).toString('base64').replace(/=+$/, '');
  }
  return headers;
}

/**
 * `grpc-timeout` in milliseconds: 1-8 digits and a unit (Hours, Minutes, Seconds, milli, micro,
 * nano); undefined when the value is not one.
 */
export function parseTimeout(value: string): number | undefined {
  const m = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (!m) return undefined;
  return Number(m[1]) * TIMEOUT_UNITS_MS[m[2]!]!;
}

const TIMEOUT_UNITS_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };
