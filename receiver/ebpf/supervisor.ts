// Keeps a sensor link alive: restarts a spawned sensor that died (exponential back-off, reset after it
// ran longer than the longest interval), waits for a socket sensor to reconnect, and turns the time
// without a sensor into one `aibom.sensor.gap` log record once kernel data flows again.

import type { KeyValue, LogRecord } from '../../pipeline/otlp/types.js';
import { ATTR } from '../../pipeline/semconv.js';
import type { Logger } from '../../pipeline/telemetry/logger.js';
import { GAP_ATTR, nsToLong, SENSOR_GAP_EVENT, SEVERITY_WARN } from './convert.js';
import type { EbpfMetrics } from './metrics.js';
import type { SensorLink, SensorLoss } from './sensor-link.js';

export interface SupervisorOptions {
  restart: { initialIntervalMs: number; maxIntervalMs: number };
  logger: Logger;
  metrics: EbpfMetrics;
  component: string;
  /** `host.name` / `host.id` of the gap record's resource. */
  hostAttributes: KeyValue[];
  /** Receives the gap record (resource attributes + record) when a sensor is back. */
  gap(resource: KeyValue[], record: LogRecord): void;
}

interface Gap {
  startMs: number;
  loss: SensorLoss;
}

export class Supervisor {
  private link: SensorLink | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private restartCount = 0;
  private readyAt = 0;
  private gapOpen: Gap | undefined;
  private stopped = false;

  constructor(private readonly opts: SupervisorOptions) {}

  /** The link to keep alive; its handlers call `ready` and `lost`. */
  watch(link: SensorLink): void {
    this.link = link;
  }

  ready(): void {
    if (this.stopped) return;
    this.opts.metrics.up.set({ component: this.opts.component }, 1);
    this.readyAt = Date.now();
    if (!this.gapOpen || !this.link) return;
    this.restartCount++;
    this.opts.metrics.restarts.inc({ component: this.opts.component });
    this.endGap(this.link.recovery === 'restart' ? 'sensor_restart' : 'sensor_reconnect');
  }

  lost(loss: SensorLoss): void {
    if (this.stopped) return;
    this.opts.metrics.up.set({ component: this.opts.component }, 0);
    this.gapOpen ??= { startMs: Date.now(), loss };
    if (this.link?.recovery !== 'restart') {
      this.opts.logger.warn('eBPF sensor disconnected: waiting for it to reconnect');
      return;
    }
    if (Date.now() - this.readyAt > this.opts.restart.maxIntervalMs) this.failures = 0;
    this.opts.logger.warn({ code: loss.exit?.code, signal: loss.exit?.signal }, `eBPF sensor stopped: ${loss.reason}; restarting`);
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    const { initialIntervalMs, maxIntervalMs } = this.opts.restart;
    const delay = Math.min(initialIntervalMs * 2 ** Math.min(this.failures, 30), maxIntervalMs);
    this.failures++;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped || !this.link) return;
      this.link.start().catch((err: unknown) => {
        if (this.stopped) return;
        this.opts.logger.warn(`eBPF sensor restart failed: ${(err as Error).message}`);
        this.scheduleRestart();
      });
    }, delay);
    this.restartTimer.unref();
  }

  /** The log record that makes a period without kernel data visible downstream. */
  private endGap(reason: 'sensor_restart' | 'sensor_reconnect'): void {
    const gap = this.gapOpen!;
    this.gapOpen = undefined;
    const { exit, sensorPid } = gap.loss;
    const endMs = Date.now();
    const startNs = BigInt(gap.startMs) * 1_000_000n;
    const endNs = BigInt(endMs) * 1_000_000n;
    const attributes: KeyValue[] = [
      { key: GAP_ATTR.start, value: { intValue: nsToLong(startNs) } },
      { key: GAP_ATTR.end, value: { intValue: nsToLong(endNs) } },
      { key: GAP_ATTR.durationMs, value: { intValue: endMs - gap.startMs } },
      { key: GAP_ATTR.restartCount, value: { intValue: this.restartCount } },
      { key: GAP_ATTR.reason, value: { stringValue: reason } },
    ];
    if (exit?.code !== undefined && exit.code !== null) attributes.push({ key: GAP_ATTR.exitCode, value: { intValue: exit.code } });
    if (exit?.signal) attributes.push({ key: GAP_ATTR.exitSignal, value: { stringValue: exit.signal } });
    const why = exit ? (exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`) : 'disconnected';
    const resource: KeyValue[] = [
      ...this.opts.hostAttributes,
      { key: ATTR.serviceName, value: { stringValue: 'aibom-sensor' } },
      { key: ATTR.processExecutableName, value: { stringValue: 'aibom-sensor' } },
    ];
    if (sensorPid) resource.push({ key: ATTR.processPid, value: { intValue: sensorPid } });
    this.opts.gap(resource, {
      timeUnixNano: nsToLong(startNs),
      observedTimeUnixNano: nsToLong(endNs),
      severityNumber: SEVERITY_WARN,
      severityText: 'WARN',
      eventName: SENSOR_GAP_EVENT,
      body: { stringValue: `no kernel events observed for ${endMs - gap.startMs} ms: sensor ${why}, restart ${this.restartCount}` },
      attributes,
    });
  }

  /** No more restarts or gap records. Idempotent. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.opts.metrics.up.set({ component: this.opts.component }, 0);
  }
}
