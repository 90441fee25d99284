import type { Component, CreateSettings, Host } from '../../pipeline/component.js';
import type { Consumers } from '../../pipeline/consumer.js';
import type { OtlpReceiverConfig } from './config.js';
import { OtlpGrpcServer } from './grpc-server.js';
import { OtlpHttpServer } from './http-server.js';
import { Intake } from './intake.js';
import { RequestBudget } from './request-budget.js';

/** How long shutdown waits for requests already being served before cutting them off. */
export const SHUTDOWN_DEADLINE_MS = 5000;

type State = 'created' | 'starting' | 'running' | 'stopped';

/**
 * Receives OTLP traces and logs over gRPC and/or HTTP and hands them to the pipeline. Answers
 * tell the sender whether to retry: the pipeline's RetryableError (or any non-permanent error)
 * becomes UNAVAILABLE / 503 with a back-off hint, a PermanentError INVALID_ARGUMENT / 400.
 */
export class OtlpReceiver implements Component {
  private readonly grpc: OtlpGrpcServer | undefined;
  private readonly http: OtlpHttpServer | undefined;
  private state: State = 'created';
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly settings: CreateSettings,
    config: OtlpReceiverConfig,
    next: Consumers,
  ) {
    const intake = new Intake(settings.id, next, settings.metrics, settings.logger, config.auth.bearerToken);
    const { grpc, http } = config.protocols;
    // One budget for both protocols: memory is the process's, whichever way requests come.
    const budget = new RequestBudget(config.maxInFlightBytes);
    this.grpc = grpc ? new OtlpGrpcServer(grpc, intake, settings.logger, budget) : undefined;
    this.http = http ? new OtlpHttpServer(http, intake, settings.logger, budget) : undefined;
  }

  /** Bound addresses (host:port, with the real port when the config said 0); '' when disabled or not started. */
  get addresses(): { grpc: string; http: string } {
    return { grpc: this.grpc?.address ?? '', http: this.http?.address ?? '' };
  }

  async start(_host: Host): Promise<void> {
    if (this.state !== 'created') return;
    this.state = 'starting';
    try {
      await this.grpc?.start();
      if ((this.state as State) !== 'stopped') await this.http?.start();
    } catch (err) {
      // Undo a half-done start: the listener that did bind must not keep the port.
      await this.grpc?.shutdown(0);
      await this.http?.shutdown(0);
      this.state = 'stopped';
      throw new Error(`receiver ${this.settings.id}: ${(err as Error).message}`, { cause: err });
    }
    // shutdown() may have run while we were binding; the servers then closed what they bound.
    if ((this.state as State) === 'stopped') return;
    this.state = 'running';
    this.settings.logger.info(this.addresses, 'OTLP receiver listening');
  }

  /** Idempotent; safe without start. Waits (bounded) for requests in flight. */
  shutdown(): Promise<void> {
    this.state = 'stopped';
    this.stopped ??= Promise.all([this.grpc?.shutdown(SHUTDOWN_DEADLINE_MS), this.http?.shutdown(SHUTDOWN_DEADLINE_MS)]).then(() => undefined);
    return this.stopped;
  }
}
