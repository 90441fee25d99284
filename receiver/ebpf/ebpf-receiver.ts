import { existsSync } from 'node:fs';
import type { Component, CreateSettings, Host } from '../../pipeline/component.js';
import type { Consumers, LogsConsumer } from '../../pipeline/consumer.js';
import { mismatch } from '../../pipeline/process-identity.js';
import type { WorkloadHint } from '../../pipeline/workloads.js';
import { preflight } from './availability.js';
import { sensorArgs, type EbpfReceiverConfig } from './config.js';
import { createContainerResolver } from './container.js';
import { LogsBuilder, msToLong } from './convert.js';
import { CoverageTable } from './coverage.js';
import { EventQueue } from './event-queue.js';
import { DecodedEvent } from './decoded-event.js';
import type { FrameDecoder, SensorEvent, SensorRecord } from './frame-decoder.js';
import type { LagCounts } from './lag-histogram.js';
import { EbpfMetrics, StatsMirror, type ChunkTally } from './metrics.js';
import type { SensorLink, SensorLinkHandlers } from './sensor-link.js';
import { SocketLink } from './socket-link.js';
import { SpawnLink } from './spawn-link.js';
import { Supervisor } from './supervisor.js';

type State = 'created' | 'starting' | 'running' | 'disabled' | 'stopped';

const MAX_RUNTIME_PIDS = 4096;

/**
 * Kernel events from the aibom-sensor as OTLP log records on the logs signal. Wiring: a sensor link
 * (spawned child or Unix socket) feeds records into per-process batches, a bounded queue hands them to
 * the pipeline, and a supervisor restarts the sensor and records the gap.
 */
export class EbpfReceiver implements Component {
  private state: State = 'created';
  private readonly logs: LogsConsumer | undefined;
  private readonly m: EbpfMetrics;
  private readonly mirror: StatsMirror;
  private readonly builder: LogsBuilder;
  private readonly coverage: CoverageTable;
  private readonly component: string;
  /** Events by kind, the last chunk's largest lag and the pending count, read when the metrics are. */
  private readonly tally: ChunkTally;
  private readonly lagChild: LagCounts;
  private readonly selfPid = process.pid;

  private batchTimer: NodeJS.Timeout | undefined;
  /** When the oldest event of the batch being built happened (epoch ms): `batch.timeout` counts from there. */
  private batchOldestMs = 0;
  private readonly queue: EventQueue | undefined;
  private readonly supervisor: Supervisor;
  private link: SensorLink | undefined;
  private readonly runtimePids = new Set<number>();
  private unsubscribe: (() => void) | undefined;
  private stopped: Promise<void> | undefined;
  /** Why there is no sensor, once start decided to run without it. */
  disabledReason = '';

  constructor(
    private readonly settings: CreateSettings,
    private readonly config: EbpfReceiverConfig,
    next: Consumers,
  ) {
    this.logs = next.logs;
    this.component = settings.id;
    this.m = new EbpfMetrics(settings.metrics);
    this.mirror = new StatsMirror(this.m, this.component);
    this.coverage = new CoverageTable(config.processCacheSize);
    this.builder = new LogsBuilder({
      coverage: (pid) => this.coverage.attributes(pid),
      capturePayload: config.capturePayload,
      containers: createContainerResolver(),
      processCacheSize: config.processCacheSize,
      scopeVersion: settings.build?.version ?? '',
    });
    this.tally = this.m.tally(this.component, () => this.pendingCount);
    this.lagChild = this.m.lag.child(this.component);
    this.m.up.set({ component: this.component }, 0);
    if (this.logs) {
      this.queue = new EventQueue({
        consumer: this.logs,
        maxRecords: config.maxPendingEvents,
        logger: settings.logger,
        metrics: this.m,
        component: this.component,
      });
    }
    this.supervisor = new Supervisor({
      restart: config.restart,
      logger: settings.logger,
      metrics: this.m,
      component: this.component,
      hostAttributes: this.builder.hostAttributes,
      gap: (resource, record) => {
        this.coverage.gap(); // nothing watched across the gap is complete any more
        this.builder.addRecord(resource, record);
        this.flush();
      },
    });
  }

  /** Events and gap records batched or waiting for the next consumer. */
  get pendingCount(): number {
    return (this.queue?.records ?? 0) + this.builder.count;
  }

  /** Pid of the spawned sensor while it runs. */
  get sensorPid(): number | undefined {
    return this.config.mode === 'spawn' ? this.link?.sensorPid : undefined;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  private handlers(): SensorLinkHandlers {
    return {
      records: (recs, decoder) => this.ingest(recs, decoder),
      ready: () => this.supervisor.ready(),
      lost: (loss) => this.supervisor.lost(loss),
    };
  }

  async start(host: Host): Promise<void> {
    if (this.state !== 'created') return;
    this.state = 'starting';
    if (!this.logs) {
      this.state = 'stopped';
      throw new Error(`receiver ${this.component}: needs a logs pipeline (kernel events are log records)`);
    }
    if (this.config.mode === 'socket') {
      const link = new SocketLink(
        {
          path: this.config.socket.path,
          sensorUid: this.config.socket.sensorUid,
          peercredHelper: this.config.sensor.path,
          logger: this.settings.logger,
          onConnect: () => this.mirror.reset(),
          onRefused: (reason) => this.m.socketRefused.inc({ component: this.component, reason }),
        },
        this.handlers(),
      );
      this.link = link;
      this.supervisor.watch(link);
      try {
        await link.start();
      } catch (err) {
        this.state = 'stopped';
        await link.stop();
        throw new Error(`receiver ${this.component}: socket ${this.config.socket.path}: ${(err as Error).message}`, { cause: err });
      }
      if ((this.state as State) === 'stopped') return link.stop();
      this.state = 'running';
      this.settings.logger.info({ socket: this.config.socket.path }, 'eBPF receiver waiting for the sensor to connect');
      return;
    }
    for (const pid of this.config.monitor.pids) this.builder.prime(pid);
    const pf = preflight(this.config.sensor.path);
    if (pf.problem) return this.unavailable(pf.problem);
    const link = new SpawnLink(
      {
        path: this.config.sensor.path,
        args: () => sensorArgs(this.config, { ignorePids: [this.selfPid], extraPids: [...this.runtimePids].filter((p) => existsSync(`/proc/${p}`)) }),
        startTimeoutMs: this.config.startTimeoutMs,
        privileges: pf.privileges,
        logger: this.settings.logger,
        onSpawn: () => this.mirror.reset(),
      },
      this.handlers(),
    );
    this.link = link;
    this.supervisor.watch(link);
    try {
      await link.start();
    } catch (err) {
      return this.unavailable(`eBPF sensor disabled: ${(err as Error).message}`);
    }
    if ((this.state as State) === 'stopped') {
      await link.stop(0);
      return;
    }
    this.state = 'running';
    if (this.config.monitor.discover) this.unsubscribe = host.workloads.subscribe((hint) => void this.discovered(hint));
  }

  /** An agent recognised from its telemetry: watch it (and what it starts from now on). */
  private async discovered(hint: WorkloadHint): Promise<void> {
    const why = mismatch(hint);
    if (why) {
      this.settings.logger.info({ pid: hint.pid, reason: hint.reason }, `not monitoring announced workload: ${why}`);
      return;
    }
    try {
      this.coverage.discovered(hint.pid);
      await this.monitorPid(hint.pid);
      this.settings.logger.info({ pid: hint.pid, reason: hint.reason, evidence: hint.evidence }, 'monitoring workload discovered from its telemetry');
    } catch (err) {
      this.settings.logger.warn({ pid: hint.pid, err }, 'could not monitor announced workload');
    }
  }

  /** One log line (or a rejected start when `required`), then the collector runs without kernel data. */
  private unavailable(message: string): void {
    this.disabledReason = message;
    if (this.config.required) {
      this.state = 'stopped';
      throw new Error(`receiver ${this.component}: ${message}`);
    }
    this.state = 'disabled';
    this.settings.logger.warn(message);
  }

  /**
   * Adds a process (and its descendants) to what the sensor monitors, e.g. an agent discovered later.
   * Spawn mode only; kept across sensor restarts. Resolves when the sensor acknowledged it.
   */
  async monitorPid(pid: number): Promise<void> {
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`monitorPid: not a process id: ${pid}`);
    if (this.config.mode !== 'spawn') throw new Error('monitorPid needs mode: spawn (a separately started sensor takes control lines on its own stdin)');
    if (this.state === 'disabled' || this.state === 'stopped') throw new Error(`eBPF sensor is not running${this.disabledReason ? `: ${this.disabledReason}` : ''}`);
    if (this.runtimePids.size >= MAX_RUNTIME_PIDS) {
      for (const p of this.runtimePids) if (!existsSync(`/proc/${p}`)) this.runtimePids.delete(p);
    }
    this.runtimePids.add(pid);
    this.builder.prime(pid);
    // While the sensor restarts, the pid is passed on its command line instead.
    if (this.link?.sensorPid !== undefined && this.state === 'running') await this.link.control(`+pid ${pid}`);
  }

  // ------------------------------------------------------------------ data path

  /** Records decoded from one chunk. Events go to the batch; stats and logs to metrics and the log. */
  private ingest(recs: readonly SensorRecord[], decoder: FrameDecoder): void {
    const nowMs = Date.now();
    const observed = msToLong(nowMs);
    const maxBatch = this.config.batch.maxEvents;
    // Lags in seconds as doubles: a BigInt subtraction per event allocated one (ns precision is not needed).
    let maxLag = 0;
    let self = 0;
    for (let i = 0; i < recs.length; i++) {
      const r = recs[i]!;
      switch (r.kind) {
        case 'stream-header':
          this.m.clockSkew.set({ component: this.component }, Number(r.realtimeNs - msToNs(nowMs)) / 1e9);
          continue;
        case 'stats':
          this.mirror.stats(r);
          continue;
        case 'monitor':
          this.coverage.monitor(r, msToNs(nowMs));
          // Ran before it was watched: its identity is read now, while it surely exists (no exec event will say it).
          if (r.partial) this.builder.watched(r.pid);
          continue;
        case 'log':
          if (r.level === 'info') this.settings.logger.debug({ code: r.code, err: r.err }, `sensor: ${r.message}`);
          else this.settings.logger[r.level]({ code: r.code, err: r.err }, `sensor: ${r.message}`);
          continue;
      }
      if (r.pid === this.selfPid) {
        self++;
        continue;
      }
      this.tally.kinds[r.kind]++;
      const timeMs = epochMs(r);
      if (timeMs !== undefined) {
        const lag = (nowMs - timeMs) / 1e3;
        if (lag > maxLag) maxLag = lag;
        this.lagChild.observe(lag);
      }
      if (r.kind === 'exit' && this.runtimePids.has(r.pid)) this.runtimePids.delete(r.pid);
      else if (r.kind === 'fork') this.coverage.fork(r.pid, r.childPid, r.timeUnixNano, msToNs(nowMs));
      if (this.builder.count === 0) this.batchOldestMs = timeMs === undefined ? nowMs : Math.min(nowMs, Math.floor(timeMs));
      this.builder.add(r, observed, observed);
      if (r.kind === 'exit') this.coverage.exit(r.pid);
      if (this.builder.count >= maxBatch) this.flush();
    }
    if (self > 0) this.m.dropped.inc({ component: this.component, reason: 'self' }, self);
    this.tally.lagMax = maxLag;
    this.mirror.decoder(decoder.counters);
    // The sensor already held these events for up to a poll interval: the batch waits only for what is
    // left of `batch.timeout` since its oldest event happened, so a poll at least that long hands each
    // chunk on at once (no timer wakeup) and an event reaches the pipeline within max(poll, timeout).
    if (this.builder.count > 0) {
      const wait = this.batchOldestMs + this.config.batch.timeoutMs - nowMs;
      if (wait <= 0) this.flush();
      else if (!this.batchTimer) {
        this.batchTimer = setTimeout(() => this.flush(), wait);
        this.batchTimer.unref();
      }
    }
  }

  /** Moves the current batch to the queue. */
  private flush(): void {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    const records = this.builder.count;
    if (records === 0 || !this.queue) return;
    this.queue.push(this.builder.take(), records);
  }

  /**
   * Stops the sensor (SIGTERM; its final stats frame is read), flushes what is batched and waits for the
   * queue to drain until the shutdown deadline; what is left is dropped and counted. Idempotent, safe
   * without start.
   */
  shutdown(): Promise<void> {
    this.stopped ??= this.doShutdown();
    return this.stopped;
  }

  private async doShutdown(): Promise<void> {
    this.unsubscribe?.();
    this.state = 'stopped';
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    this.supervisor.stop();
    // Most of the budget goes to the sensor: detaching uprobes takes seconds, and only a clean exit writes
    // the final stats frame. What it sends meanwhile is already queued; the rest drains within the deadline.
    await this.link?.stop(Math.max(100, Math.floor(this.config.shutdownTimeoutMs * 0.8)));
    this.m.up.set({ component: this.component }, 0);
    this.flush();
    await this.queue?.close(deadline);
    this.m.release(this.tally);
  }
}

const msToNs = (ms: number): bigint => BigInt(ms) * 1_000_000n;

/** An event's epoch milliseconds (a double); a decoded event's without a BigInt. */
function epochMs(ev: SensorEvent): number | undefined {
  if (ev instanceof DecodedEvent) return ev.timeUnixMs;
  return ev.timeUnixNano === undefined ? undefined : Number(ev.timeUnixNano) / 1e6;
}
