import { createHash, timingSafeEqual } from 'node:crypto';
import type { Consumers } from '../../pipeline/consumer.js';
import { consumerFor, isPermanent, RetryableError } from '../../pipeline/consumer.js';
import type { SignalCodec } from '../../pipeline/otlp/codec.js';
import { attachClientInfo, type ClientInfo } from '../../pipeline/client-info.js';
import type { LogsData, Signal, SignalData, TracesData } from '../../pipeline/otlp/types.js';
import type { Logger } from '../../pipeline/telemetry/logger.js';
import type { Metrics } from '../../pipeline/telemetry/metrics.js';
import { neutralize } from './neutralize.js';

export type Transport = ClientInfo['transport'];

/** Why a request was answered before its items could be counted (`receiverRequestsRejected`). */
export type RejectReason =
  | 'unauthenticated'
  | 'malformed'
  | 'too_large'
  | 'unsupported_media_type'
  | 'unsupported_encoding'
  | 'method_not_allowed'
  | 'not_found'
  | 'shutting_down'
  /** The receiver held its max_in_flight_bytes: refused as retryable (gRPC UNAVAILABLE, HTTP 503). */
  | 'over_budget'
  /** gRPC: the call's deadline passed before its data reached the pipeline. */
  | 'deadline_exceeded'
  /** gRPC: the client cancelled the call (RST_STREAM) or lost the connection before its data reached the pipeline. */
  | 'cancelled'
  /** A connection over `max_connections`: closed as it arrived. */
  | 'too_many_connections'
  /** HTTP: headers not in within `read_header_timeout`, or the request not within `read_timeout` (408, connection closed). */
  | 'request_timeout'
  /** gRPC: a connection that did not finish its TLS or HTTP/2 handshake in time (destroyed). */
  | 'handshake_timeout';

/** Connection refusals come in floods: one warning per this interval at most, with the count since the last. */
const CONNECTION_LOG_INTERVAL_MS = 10_000;

/** Why items were handed back to the sender (`receiverRefused`). */
export type RefuseReason = 'permanent' | 'retryable';

/** Sent when the pipeline refused without a back-off hint of its own. */
export const DEFAULT_RETRY_AFTER_MS = 1000;

export type Outcome =
  | { kind: 'accepted'; items: number }
  | { kind: 'permanent'; message: string }
  | { kind: 'retryable'; message: string; retryAfterMs: number };

/**
 * What both transports share once a request is decoded: authorisation, handing data to the
 * pipeline, and counting every request and item so nothing is lost silently.
 */
export class Intake {
  private readonly tokenDigest: Buffer | undefined;
  /** Connection refusals since the last warning, by `transport/reason`. */
  private readonly unlogged = new Map<string, number>();
  private lastWarningAt = -Infinity;

  constructor(
    private readonly component: string,
    private readonly next: Consumers,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    bearerToken: string,
  ) {
    this.tokenDigest = bearerToken === '' ? undefined : digest(bearerToken);
  }

  accepts(signal: Signal): boolean {
    return consumerFor(this.next, signal) !== undefined;
  }

  /** True when no token is configured, or the header is `Bearer <token>` (scheme case-insensitive). */
  authorized(header: string | undefined): boolean {
    if (!this.tokenDigest) return true;
    const m = header === undefined ? null : /^bearer\s+(\S+)\s*$/i.exec(header);
    // Compare digests so the comparison takes the same time whatever the length of the guess.
    return m !== null && timingSafeEqual(digest(m[1]!), this.tokenDigest);
  }

  rejected(transport: Transport, reason: RejectReason, detail: string): void {
    this.metrics.receiverRequestsRejected.inc({ component: this.component, transport, reason });
    this.logger.debug({ transport, reason, detail }, 'OTLP request rejected');
  }

  /**
   * A connection refused before it carried a request: counted like a request, but logged at most once
   * per CONNECTION_LOG_INTERVAL_MS (a flood of connections must not become a flood of log lines).
   */
  connectionRefused(transport: Transport, reason: RejectReason): void {
    this.metrics.receiverRequestsRejected.inc({ component: this.component, transport, reason });
    const key = `${transport}/${reason}`;
    this.unlogged.set(key, (this.unlogged.get(key) ?? 0) + 1);
    const now = performance.now();
    if (now - this.lastWarningAt < CONNECTION_LOG_INTERVAL_MS) return;
    this.lastWarningAt = now;
    const refused = Object.fromEntries(this.unlogged);
    this.unlogged.clear();
    this.logger.warn({ refused }, `OTLP connections refused (at most one line per ${CONNECTION_LOG_INTERVAL_MS / 1000} s; the counters have every one)`);
  }

  /**
   * Hands decoded data to the pipeline; never throws. Empty requests never reach the pipeline. Names
   * this product reserves are renamed first (the sender's word may not pass for the product's own), and
   * who sent it is attached beside the data (pipeline/client-info.ts).
   */
  async deliver<S extends Signal>(codec: SignalCodec<S>, data: SignalData<S>, client: ClientInfo): Promise<Outcome> {
    const signal = codec.signal;
    const transport = client.transport;
    const items = codec.count(data);
    if (items === 0) return { kind: 'accepted', items };
    const consumer = consumerFor(this.next, signal);
    if (!consumer) return { kind: 'permanent', message: `this receiver is not in a ${signal} pipeline` };
    for (const [reason, n] of neutralize(signal, data)) this.metrics.receiverNeutralized.inc({ component: this.component, signal, transport, reason }, n);
    attachClientInfo(signal === 'traces' ? (data as TracesData).resourceSpans : (data as LogsData).resourceLogs, client);
    try {
      await consumer.consume(data);
    } catch (err) {
      const permanent = isPermanent(err);
      const reason: RefuseReason = permanent ? 'permanent' : 'retryable';
      this.metrics.receiverRefused.inc({ component: this.component, signal, transport, reason }, items);
      const message = `pipeline refused ${items} ${codec.itemName}: ${(err as Error).message ?? String(err)}`;
      this.logger.debug({ transport, signal, items, reason, err }, 'pipeline refused an OTLP request');
      if (permanent) return { kind: 'permanent', message };
      const hint = err instanceof RetryableError ? err.retryAfterMs : undefined;
      return { kind: 'retryable', message, retryAfterMs: hint !== undefined && hint > 0 ? hint : DEFAULT_RETRY_AFTER_MS };
    }
    this.metrics.receiverAccepted.inc({ component: this.component, signal, transport }, items);
    return { kind: 'accepted', items };
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Resolves true if `p` settles within `ms`, false otherwise (the timer does not hold the process). */
export function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    timer.unref();
    void p.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
