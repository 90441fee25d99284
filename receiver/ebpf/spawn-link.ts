// Spawn mode: the sensor as a child process of the collector, one SensorProcess per start.

import type { Logger } from '../../pipeline/telemetry/logger.js';
import { sensorExitReason } from './availability.js';
import { untrustedBinary, untrustedBinaryMessage } from './binary-trust.js';
import type { SensorLink, SensorLinkHandlers } from './sensor-link.js';
import { SensorExitError, SensorProcess } from './sensor-process.js';

export interface SpawnLinkOptions {
  path: string;
  /** The command line of the next start (pids added at runtime are carried over a restart). */
  args(): string[];
  startTimeoutMs: number;
  /** The collector's own missing capabilities (preflight), named when the sensor exits 3. */
  privileges?: string;
  logger: Logger;
  /** Called before every spawn: the sensor counters start from zero again. */
  onSpawn?(): void;
}

export class SpawnLink implements SensorLink {
  readonly recovery = 'restart';
  private sensor: SensorProcess | undefined;
  private stopping = false;

  constructor(
    private readonly opts: SpawnLinkOptions,
    private readonly on: SensorLinkHandlers,
  ) {}

  get sensorPid(): number | undefined {
    return this.sensor?.running ? this.sensor.pid : undefined;
  }

  async start(): Promise<void> {
    if (this.stopping) throw new Error('stopped');
    // Checked before every exec: the file or a directory on its path may have changed since the last one.
    if (process.geteuid?.() === 0) {
      const why = untrustedBinary(this.opts.path);
      if (why) throw new Error(untrustedBinaryMessage(this.opts.path, why));
    }
    this.opts.onSpawn?.();
    const s = new SensorProcess({
      path: this.opts.path,
      args: this.opts.args(),
      onRecords: (recs) => this.on.records(recs, s.decoder),
      onDecodeError: (e) => this.opts.logger.debug({ err: e.message, reason: e.reason }, 'eBPF frame decode problem'),
    });
    this.sensor = s;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the sensor did not report ready within ${this.opts.startTimeoutMs} ms${s.stderr ? `: ${s.stderr.trim().split('\n').pop()}` : ''}`)), this.opts.startTimeoutMs);
      timer.unref();
    });
    try {
      await Promise.race([s.ready, timeout]);
    } catch (err) {
      await s.stop(1000);
      throw new Error(this.describe(err), { cause: err });
    } finally {
      clearTimeout(timer);
    }
    // Only a sensor that was ready can be lost; one that fails its start rejects start() instead.
    void s.closed.then((exit) => {
      if (s === this.sensor && !this.stopping) this.on.lost({ sensorPid: s.pid, exit, reason: sensorExitReason(exit.code, exit.signal, s.stderr, this.opts.privileges) });
    });
    const h = s.decoder.streamHeader;
    this.opts.logger.info({ sensorPid: s.pid, ncpus: h?.ncpus, ringBufferBytes: h?.ringbufBytes, monitorAll: h?.monitorAll }, 'eBPF sensor ready');
    this.on.ready(s.pid);
  }

  private describe(err: unknown): string {
    if (err instanceof SensorExitError) return sensorExitReason(err.exit.code, err.exit.signal, err.stderr, this.opts.privileges);
    return (err as Error).message;
  }

  control(line: string): Promise<void> {
    if (!this.sensor?.running) return Promise.reject(new Error('sensor is not running'));
    return this.sensor.control(line);
  }

  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    await this.sensor?.stop(timeoutMs);
  }
}
