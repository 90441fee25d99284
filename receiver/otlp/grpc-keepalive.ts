import type http2 from 'node:http2';
import type { GrpcKeepalive } from './config.js';

/**
 * A connection must finish its handshake (TLS, then the HTTP/2 preface and SETTINGS) within this
 * long, or within `max_connection_idle` if that is shorter: until then it has no call, so it is idle
 * too. grpc-go's ConnectionTimeout is 120 s; a client on any real network needs well under a second.
 */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** grpc-go's jitter on max_connection_age, so connections opened together do not all reconnect together. */
const AGE_JITTER = 0.1;

export function handshakeTimeoutMs(keepalive: GrpcKeepalive): number {
  const idle = keepalive.maxConnectionIdleMs;
  return idle > 0 ? Math.min(HANDSHAKE_TIMEOUT_MS, idle) : HANDSHAKE_TIMEOUT_MS;
}

/**
 * The timers of one HTTP/2 session, grpc-go's `keepalive.ServerParameters` semantics: one timer per
 * session, none per call (a call costs a counter and a close listener).
 * - Handshake: no SETTINGS from the client by `handshakeTimeoutMs` → destroyed (it never spoke HTTP/2).
 * - Idle: no call open for `max_connection_idle` since the last one ended (or since connecting) →
 *   GOAWAY and close; a call still running is never cut by it.
 * - Age: `max_connection_age` ±10% after connecting → GOAWAY (no new calls, running ones finish), and
 *   after `max_connection_age_grace` the connection is destroyed with what still runs on it.
 */
export class SessionKeepalive {
  private open = 0;
  private idleSince = performance.now();
  private settled = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private ageTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly session: http2.ServerHttp2Session,
    private readonly params: GrpcKeepalive,
    private readonly onHandshakeTimeout: () => void,
    private readonly onGoaway: (why: 'idle' | 'age') => void,
  ) {
    session.once('remoteSettings', () => (this.settled = true));
    session.once('close', () => this.stop());
    this.idleTimer = unref(setTimeout(this.check, handshakeTimeoutMs(params)));
    const age = params.maxConnectionAgeMs;
    if (age > 0) this.ageTimer = unref(setTimeout(this.aged, age * (1 + AGE_JITTER * (Math.random() * 2 - 1))));
  }

  /** A call started on the session; its end is tracked through the stream's close. */
  opened(stream: http2.ServerHttp2Stream): void {
    this.open++;
    // 'close' comes once per stream: `on` spares the wrapper `once` makes per call.
    stream.on('close', this.closed);
  }

  private readonly closed = (): void => {
    if (--this.open === 0) this.idleSince = performance.now();
  };

  private readonly check = (): void => {
    this.idleTimer = undefined;
    if (this.session.closed || this.session.destroyed) return;
    if (!this.settled) {
      this.session.destroy();
      this.onHandshakeTimeout();
      return;
    }
    const idleMs = this.params.maxConnectionIdleMs;
    if (idleMs === 0) return;
    if (this.open > 0) return void (this.idleTimer = unref(setTimeout(this.check, idleMs)));
    const idle = performance.now() - this.idleSince;
    if (idle < idleMs) return void (this.idleTimer = unref(setTimeout(this.check, idleMs - idle)));
    this.onGoaway('idle');
    this.session.close();
  };

  private readonly aged = (): void => {
    this.ageTimer = undefined;
    if (this.session.closed || this.session.destroyed) return;
    this.onGoaway('age');
    this.session.close();
    const grace = this.params.maxConnectionAgeGraceMs;
    if (grace > 0) this.ageTimer = unref(setTimeout(() => this.session.destroy(), grace));
  };

  private stop(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.ageTimer);
  }
}

function unref(timer: NodeJS.Timeout): NodeJS.Timeout {
  timer.unref();
  return timer;
}
