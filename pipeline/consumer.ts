import type { LogsData, Signal, SignalData, TracesData } from './otlp/types.js';

/**
 * One hop of the pipeline.
 *
 * Ownership: once `consume` is called the callee owns `data`; the caller must neither read nor
 * change it afterwards. Exporters treat data as read-only, which is what lets a fan-out hand one
 * batch to several exporters without copying.
 *
 * The promise resolves when the callee has taken responsibility for the data (queued, exported,
 * or passed on). It rejects with a `PermanentError` when retrying the same data can never succeed,
 * and with a `RetryableError` (possibly carrying a back-off hint) when it may succeed later, e.g.
 * because a queue is full. Any other error is treated as retryable.
 */
export interface Consumer<T> {
  consume(data: T): Promise<void>;
}

export type TracesConsumer = Consumer<TracesData>;
export type LogsConsumer = Consumer<LogsData>;

/** The consumers a component offers or is given, per signal. */
export interface Consumers {
  traces?: TracesConsumer;
  logs?: LogsConsumer;
}

export function consumerFor<S extends Signal>(c: Consumers, signal: S): Consumer<SignalData<S>> | undefined {
  return c[signal] as Consumer<SignalData<S>> | undefined;
}

/** Retrying the same data will never succeed (malformed, rejected by the backend as invalid). */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
}

/** The data may be accepted later; `retryAfterMs` is the peer's hint, when it gave one. */
export class RetryableError extends Error {
  override readonly name = 'RetryableError';
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export function isPermanent(err: unknown): err is PermanentError {
  return err instanceof PermanentError;
}
