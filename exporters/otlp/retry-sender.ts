import type { PartialSuccess } from '../../pipeline/otlp/types.js';
import type { RetryConfig } from './config.js';
import type { ExportResult, Transport } from './result.js';

/** How one request ended after the retry and timeout senders. */
export type SendOutcome =
  | { kind: 'ok'; partial?: PartialSuccess }
  | { kind: 'failed'; reason: 'permanent_error' | 'retries_exhausted' | 'send_failed'; message: string }
  /** Shutdown's deadline interrupted it; the request is neither sent nor given up. */
  | { kind: 'stopped'; message: string };

/** Exponential back-off with jitter, as the collector's: interval * (1 ± randomization_factor), capped. */
export class Backoff {
  private interval: number;
  constructor(
    private readonly cfg: RetryConfig,
    private readonly random: () => number = Math.random,
  ) {
    this.interval = cfg.initialIntervalMs;
  }

  next(): number {
    const delta = this.cfg.randomizationFactor * this.interval;
    const delay = this.interval - delta + this.random() * 2 * delta;
    this.interval = Math.min(this.interval * this.cfg.multiplier, this.cfg.maxIntervalMs);
    return Math.round(delay);
  }
}

/** Resolves after `ms`, or early (false) when `signal` aborts. The timer never keeps the process alive. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    timer.unref();
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * retry -> timeout -> export. Each attempt gets its own deadline (`timeout`); a retryable failure
 * waits max(back-off, the peer's hint: gRPC RetryInfo or HTTP Retry-After) and tries again until
 * `max_elapsed_time` would be exceeded. `stop` (shutdown's deadline) interrupts both the wait and
 * the attempt in flight.
 */
export class RetrySender {
  constructor(
    private readonly cfg: RetryConfig,
    private readonly timeoutMs: number,
    private readonly transport: Transport,
    private readonly onRetry: (message: string, delayMs: number) => void,
    private readonly random: () => number = Math.random,
  ) {}

  async send(payload: Uint8Array, stop: AbortSignal): Promise<SendOutcome> {
    const started = Date.now();
    const backoff = new Backoff(this.cfg, this.random);
    for (;;) {
      const attempt = AbortSignal.any([stop, AbortSignal.timeout(this.timeoutMs)]);
      // Transports report outcomes rather than throw; anything thrown anyway is a bug, not worth retrying.
      const result: ExportResult = await this.transport
        .export(payload, attempt)
        .catch((err: unknown) => ({ kind: 'permanent', message: `export failed: ${(err as Error)?.message ?? String(err)}` }) as const);
      if (stop.aborted) {
        if (result.kind === 'ok') return result;
        return { kind: 'stopped', message: result.message };
      }
      if (result.kind === 'ok') return result;
      if (result.kind === 'permanent') return { kind: 'failed', reason: 'permanent_error', message: result.message };
      if (!this.cfg.enabled) return { kind: 'failed', reason: 'send_failed', message: result.message };
      const delay = Math.max(backoff.next(), result.retryAfterMs ?? 0);
      const elapsed = Date.now() - started;
      if (this.cfg.maxElapsedTimeMs > 0 && elapsed + delay > this.cfg.maxElapsedTimeMs) {
        return {
          kind: 'failed',
          reason: 'retries_exhausted',
          message: `${result.message} (gave up after ${elapsed} ms; next retry in ${delay} ms would exceed max_elapsed_time)`,
        };
      }
      this.onRetry(result.message, delay);
      if (!(await sleep(delay, stop))) return { kind: 'stopped', message: result.message };
    }
  }
}
