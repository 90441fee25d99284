import type { PartialSuccess } from '../../pipeline/otlp/types.js';

/**
 * What one export attempt ended with. Transports never throw: every outcome is one of these, so the
 * retry sender decides in one place what is retried.
 */
export type ExportResult =
  | { kind: 'ok'; partial?: PartialSuccess }
  | { kind: 'retryable'; message: string; retryAfterMs?: number }
  | { kind: 'permanent'; message: string };

/** Sends one encoded request. `signal` aborts the attempt (per-attempt timeout or shutdown). */
export interface Transport {
  /** Wire body for the data (protobuf or JSON bytes), built once when the request is queued. */
  readonly encoding: 'proto' | 'json';
  export(payload: Uint8Array, signal: AbortSignal): Promise<ExportResult>;
  close(): Promise<void>;
}
