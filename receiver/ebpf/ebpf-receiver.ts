import { chmodSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import type client from 'prom-client';
import type { Component, CreateSettings, Host } from '../../pipeline/component.js';
import { isPermanent, RetryableError, type Consumers, type LogsConsumer } from '../../pipeline/consumer.js';
import type { KeyValue, LogsData } from '../../pipeline/otlp/types.js';
import { ATTR } from '../../pipeline/semconv.js';
import { mismatch } from '../../pipeline/process-identity.js';
import type { WorkloadHint } from '../../pipeline/workloads.js';
import { preflight, sensorExitReason } from './availability.js';
import { sensorArgs, type EbpfReceiverConfig } from './config.js';
import { createContainerResolver } from './container.js';
import { CoverageTable } from './coverage.js';
import { GAP_ATTR, LogsBuilder, nsToLong, SENSOR_GAP_EVENT, SEVERITY_WARN } from './convert.js';
import { createFrameDecoder, EVENT_KINDS, type EventKind, type FrameDecoder, type SensorRecord } from './frame-decoder.js';
import { EbpfMetrics, StatsMirror, type DropReason } from './metrics.js';
import { SensorExitError, SensorProcess, type SensorExit } from './sensor-process.js';

type State = 'created' | 'starting' | 'running' | 'disabled' | 'stopped';

interface PendingBatch {
  data: LogsData;
  records: number;
}

const RETRY_INITIAL_MS = 100;
const RETRY_MAX_MS = 5000;
const MAX_RUNTIME_PIDS = 4096;

/**
 * Kernel events from the aibom-sensor as OTLP log records on the logs signal. Spawns the sensor (or
 * accepts a separately started one on a Unix socket), batches events per process, holds batches in a
 * bounded queue while the pipeline refuses, restarts a crashed sensor with back-off and records the gap.
 */
export class EbpfReceiver implements Component {
  private state: State = 'created';
  private readonly logs: LogsConsumer | undefined;
  private readonly m: EbpfMetrics;
  private readonly mirror: StatsMirror;
  private readonly builder: LogsBuilder;
  private readonly coverage: CoverageTable;
  private readonly component: string;
  private readonly receivedByKind: Record<EventKind, client.Counter.Internal>;
  private readonly lagChild: client.Histogram.Internal<'component'>;
  private readonly selfPid = process.pid;

  private batchTimer: NodeJS.Timeout | undefined;
  private readonly pending: PendingBatch[] = [];
  private pendingRecords = 0;
  private inFlight = false;
  private draining: Promise<void> | undefined;
  private wakeDrain: (() => void) | undefined;
  private deadline = Infinity;

  private sensor: SensorProcess | undefined;
  private privileges: string | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private restartCount = 0;
  private readyAt = 0;
  private gap: { startMs: number; exit?: SensorExit; sensorPid?: number } | undefined;
  private readonly runtimePids = new Set<number>();
  private unsubscribe: (() => void) | undefined;

  private server: net.Server | undefined;
  private conn: net.Socket | undefined;
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
    this.receivedByKind = {} as Record<EventKind, client.Counter.Internal>;
    for (const kind of EVENT_KINDS) this.receivedByKind[kind] = this.m.received.labels({ component: this.component, kind });
    this.lagChild = this.m.lag.labels({ component: this.component });
    this.m.up.set({ component: this.component }, 0);
  }

  /** Events and gap records batched or waiting for the next consumer. */
  get pendingCount(): number {
    return this.pendingRecords + this.builder.count;
  }

  /** Pid of the spawned sensor while it runs. */
  get sensorPid(): number | undefined {
    return this.sensor?.running ? this.sensor.pid : undefined;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  async start(host: Host): Promise<void> {
    if (this.state !== 'created') return;
    this.state = 'starting';
    if (!this.logs) {
      this.state = 'stopped';
      throw new Error(`receiver ${this.component}: needs a logs pipeline (kernel events are log records)`);
    }
    if (this.config.mode === 'socket') {
      try {
        await this.listen();
      } catch (err) {
        this.state = 'stopped';
        throw new Error(`receiver ${this.component}: socket ${this.config.socket.path}: ${(err as Error).message}`, { cause: err });
      }
      if ((this.state as State) === 'stopped') return this.closeServer();
      this.state = 'running';
      this.settings.logger.info({ socket: this.config.socket.path }, 'eBPF receiver waiting for the sensor to connect');
      return;
    }
    for (const pid of this.config.monitor.pids) this.builder.prime(pid);
    const pf = preflight(this.config.sensor.path);
    if (pf.problem) return this.unavailable(pf.problem);
    this.privileges = pf.privileges;
    try {
      await this.launch();
    } catch (err) {
      return this.unavailable(`eBPF sensor disabled: ${this.launchFailure(err)}`);
    }
    if ((this.state as State) === 'stopped') {
      await this.sensor?.stop(0);
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

  private launchFailure(err: unknown): string {
    if (err instanceof SensorExitError) return sensorExitReason(err.exit.code, err.exit.signal, err.stderr, this.privileges);
    return (err as Error).message;
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

  /** Runs the sensor until its `ready`; rejects (sensor stopped) when it exits or times out first. */
  private async launch(): Promise<void> {
    const extra = [...this.runtimePids].filter((p) => existsSync(`/proc/${p}`));
    const args = sensorArgs(this.config, { ignorePids: [this.selfPid], extraPids: extra });
    this.mirror.reset();
    const s = new SensorProcess({
      path: this.config.sensor.path,
      args,
      onRecords: (recs) => this.ingest(recs, s.decoder),
      onDecodeError: (e) => this.settings.logger.debug({ err: e.message, reason: e.reason }, 'eBPF frame decode problem'),
    });
    this.sensor = s;
    void s.closed.then((exit) => this.onSensorExit(s, exit));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the sensor did not report ready within ${this.config.startTimeoutMs} ms${s.stderr ? `: ${s.stderr.trim().split('\n').pop()}` : ''}`)), this.config.startTimeoutMs);
      timer.unref();
    });
    try {
      await Promise.race([s.ready, timeout]);
    } catch (err) {
      await s.stop(1000);
      throw err;
    } finally {
      clearTimeout(timer);
    }
    this.readyAt = Date.now();
    this.m.up.set({ component: this.component }, 1);
    const h = s.decoder.streamHeader;
    this.settings.logger.info(
      { sensorPid: s.pid, ncpus: h?.ncpus, ringBufferBytes: h?.ringbufBytes, monitorAll: h?.monitorAll },
      'eBPF sensor ready',
    );
  }

  private onSensorExit(s: SensorProcess, exit: SensorExit): void {
    if (s !== this.sensor || this.state !== 'running') return; // expected: stop, or a failed launch
    this.m.up.set({ component: this.component }, 0);
    this.gap ??= { startMs: Date.now(), exit, sensorPid: s.pid };
    if (Date.now() - this.readyAt > this.config.restart.maxIntervalMs) this.failures = 0;
    this.settings.logger.warn(
      { code: exit.code, signal: exit.signal },
      `eBPF sensor stopped: ${sensorExitReason(exit.code, exit.signal, s.stderr, this.privileges)}; restarting`,
    );
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    const { initialIntervalMs, maxIntervalMs } = this.config.restart;
    const delay = Math.min(initialIntervalMs * 2 ** Math.min(this.failures, 30), maxIntervalMs);
    this.failures++;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.state !== 'running') return;
      this.launch().then(
        () => {
          if (this.state !== 'running') return void this.sensor?.stop(0);
          this.restartCount++;
          this.m.restarts.inc({ component: this.component });
          this.endGap('sensor_restart');
        },
        (err: unknown) => {
          if (this.state !== 'running') return;
          this.settings.logger.warn(`eBPF sensor restart failed: ${this.launchFailure(err)}`);
          this.scheduleRestart();
        },
      );
    }, delay);
    this.restartTimer.unref();
  }

  /** The log record that makes a period without kernel data visible downstream. */
  private endGap(reason: 'sensor_restart' | 'sensor_reconnect'): void {
    const gap = this.gap;
    if (!gap) return;
    this.gap = undefined;
    this.coverage.gap();
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
    if (gap.exit?.code !== undefined && gap.exit.code !== null) attributes.push({ key: GAP_ATTR.exitCode, value: { intValue: gap.exit.code } });
    if (gap.exit?.signal) attributes.push({ key: GAP_ATTR.exitSignal, value: { stringValue: gap.exit.signal } });
    const why = gap.exit ? (gap.exit.signal ? `killed by ${gap.exit.signal}` : `exit code ${gap.exit.code}`) : 'disconnected';
    const resource: KeyValue[] = [
      { key: ATTR.hostName, value: { stringValue: this.builder.hostName } },
      { key: ATTR.serviceName, value: { stringValue: 'aibom-sensor' } },
      { key: ATTR.processExecutableName, value: { stringValue: 'aibom-sensor' } },
    ];
    if (gap.sensorPid) resource.push({ key: ATTR.processPid, value: { intValue: gap.sensorPid } });
    this.builder.addRecord(resource, {
      timeUnixNano: nsToLong(startNs),
      observedTimeUnixNano: nsToLong(endNs),
      severityNumber: SEVERITY_WARN,
      severityText: 'WARN',
      eventName: SENSOR_GAP_EVENT,
      body: { stringValue: `no kernel events observed for ${endMs - gap.startMs} ms: sensor ${why}, restart ${this.restartCount}` },
      attributes,
    });
    this.flush();
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
    if (this.sensor?.running && this.state === 'running') await this.sensor.control(`+pid ${pid}`);
  }

  // ------------------------------------------------------------------ socket mode

  private async listen(): Promise<void> {
    const path = this.config.socket.path;
    if (existsSync(path)) {
      // A socket file left by a previous run; anything else is not ours to delete.
      if (!lstatSync(path).isSocket()) throw new Error('exists and is not a socket');
      unlinkSync(path);
    }
    const server = net.createServer((c) => this.onConnection(c));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Only the owner (and root, the sensor) may connect: nobody else can inject events.
    chmodSync(path, 0o600);
    server.on('error', (err) => this.settings.logger.error({ err: err.message }, 'eBPF socket server error'));
  }

  private onConnection(conn: net.Socket): void {
    if (this.state === 'stopped') return void conn.destroy();
    if (this.conn) {
      this.settings.logger.warn('a second sensor connected: closing the previous connection');
      this.conn.destroy();
    }
    this.conn = conn;
    this.mirror.reset();
    const decoder = createFrameDecoder({
      onError: (e) => this.settings.logger.debug({ err: e.message, reason: e.reason }, 'eBPF frame decode problem'),
    });
    const out: SensorRecord[] = [];
    let ready = false;
    conn.on('data', (chunk: Buffer) => {
      out.length = 0;
      decoder.push(chunk, out);
      if (!ready && out.some((r) => r.kind === 'log' && r.code === 'ready')) {
        ready = true;
        this.m.up.set({ component: this.component }, 1);
        this.settings.logger.info({ sensorPid: decoder.streamHeader?.sensorPid }, 'eBPF sensor connected and ready');
        if (this.gap) {
          this.restartCount++;
          this.m.restarts.inc({ component: this.component });
          this.endGap('sensor_reconnect');
        }
      }
      this.ingest(out, decoder);
    });
    conn.on('error', () => {});
    conn.on('close', () => {
      decoder.end();
      if (this.conn !== conn) return;
      this.conn = undefined;
      this.m.up.set({ component: this.component }, 0);
      if (this.state === 'running') {
        this.gap ??= { startMs: Date.now(), sensorPid: decoder.streamHeader?.sensorPid };
        this.settings.logger.warn('eBPF sensor disconnected: waiting for it to reconnect');
      }
    });
  }

  private closeServer(): Promise<void> {
    this.conn?.destroy();
    this.conn = undefined;
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ------------------------------------------------------------------ data path

  /** Records decoded from one chunk. Events go to the batch; stats and logs to metrics and the log. */
  private ingest(recs: readonly SensorRecord[], decoder: FrameDecoder): void {
    const nowMs = Date.now();
    const nowNs = BigInt(nowMs) * 1_000_000n;
    const observed = nsToLong(nowNs);
    const maxBatch = this.config.batch.maxEvents;
    let maxLagNs = 0n;
    let self = 0;
    for (let i = 0; i < recs.length; i++) {
      const r = recs[i]!;
      switch (r.kind) {
        case 'stream-header':
          this.m.clockSkew.set({ component: this.component }, Number(r.realtimeNs - nowNs) / 1e9);
          continue;
        case 'stats':
          this.mirror.stats(r);
          continue;
        case 'monitor':
          this.coverage.monitor(r, nowNs);
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
      this.receivedByKind[r.kind].inc();
      if (r.timeUnixNano !== undefined) {
        const lag = nowNs - r.timeUnixNano;
        if (lag > maxLagNs) maxLagNs = lag;
        this.lagChild.observe(Number(lag) / 1e9);
      }
      if (r.kind === 'exit' && this.runtimePids.has(r.pid)) this.runtimePids.delete(r.pid);
      else if (r.kind === 'fork') this.coverage.fork(r.pid, r.childPid, r.timeUnixNano, nowNs);
      this.builder.add(r, observed, observed);
      if (r.kind === 'exit') this.coverage.exit(r.pid);
      if (this.builder.count >= maxBatch) this.flush();
    }
    if (self > 0) this.m.dropped.inc({ component: this.component, reason: 'self' }, self);
    this.m.lagMax.set({ component: this.component }, Number(maxLagNs) / 1e9);
    this.mirror.decoder(decoder.counters);
    if (this.builder.count > 0 && !this.batchTimer) {
      this.batchTimer = setTimeout(() => this.flush(), this.config.batch.timeoutMs);
      this.batchTimer.unref();
    }
    this.m.pending.set({ component: this.component }, this.pendingCount);
  }

  /** Moves the current batch to the pending queue and makes sure it drains. */
  private flush(): void {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    const records = this.builder.count;
    if (records === 0) return;
    this.pending.push({ data: this.builder.take(), records });
    this.pendingRecords += records;
    // The kernel cannot be paused: beyond the bound, the oldest batches not being sent go, counted.
    while (this.pendingRecords > this.config.maxPendingEvents) {
      const victim = this.inFlight ? 1 : 0;
      if (victim >= this.pending.length - 1) break; // never the batch just added
      const [dropped] = this.pending.splice(victim, 1);
      this.pendingRecords -= dropped!.records;
      this.m.dropped.inc({ component: this.component, reason: 'pipeline_full' }, dropped!.records);
    }
    this.m.pending.set({ component: this.component }, this.pendingCount);
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  private drop(batch: PendingBatch, reason: DropReason): void {
    const i = this.pending.indexOf(batch);
    if (i >= 0) this.pending.splice(i, 1);
    this.pendingRecords -= batch.records;
    this.m.dropped.inc({ component: this.component, reason }, batch.records);
  }

  private async drain(): Promise<void> {
    let backoff = RETRY_INITIAL_MS;
    while (this.pending.length > 0 && Date.now() < this.deadline) {
      const batch = this.pending[0]!;
      this.inFlight = true;
      let retryIn = 0;
      try {
        await this.logs!.consume(batch.data);
        this.pending.shift();
        this.pendingRecords -= batch.records;
        this.m.sent.inc({ component: this.component }, batch.records);
        backoff = RETRY_INITIAL_MS;
      } catch (err) {
        if (isPermanent(err)) {
          this.settings.logger.warn({ records: batch.records, err: (err as Error).message }, 'pipeline rejected kernel events permanently: dropped');
          this.drop(batch, 'permanent_error');
        } else {
          retryIn = err instanceof RetryableError && err.retryAfterMs ? err.retryAfterMs : backoff;
          backoff = Math.min(backoff * 2, RETRY_MAX_MS);
        }
      } finally {
        this.inFlight = false;
      }
      this.m.pending.set({ component: this.component }, this.pendingCount);
      if (retryIn > 0) await this.sleep(Math.min(retryIn, Math.max(0, this.deadline - Date.now())));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      t.unref();
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wakeDrain = done;
    });
  }

  /**
   * Stops the sensor (SIGTERM; its final stats frame is read), flushes what is batched and waits for the
   * pending queue to drain until the shutdown deadline; what is left is dropped and counted. Idempotent,
   * safe without start.
   */
  shutdown(): Promise<void> {
    this.stopped ??= this.doShutdown();
    return this.stopped;
  }

  private async doShutdown(): Promise<void> {
    this.unsubscribe?.();
    const wasRunning = this.state === 'running' || this.state === 'starting';
    this.state = 'stopped';
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    // Most of the budget goes to the sensor: detaching uprobes takes seconds, and only a clean exit writes
    // the final stats frame. What it sends meanwhile is already queued; the rest drains within the deadline.
    if (this.sensor) await this.sensor.stop(Math.max(100, Math.floor(this.config.shutdownTimeoutMs * 0.8)));
    await this.closeServer();
    if (this.config.mode === 'socket' && this.config.socket.path && wasRunning) {
      try {
        if (lstatSync(this.config.socket.path).isSocket()) unlinkSync(this.config.socket.path);
      } catch {
        /* already gone */
      }
    }
    this.m.up.set({ component: this.component }, 0);
    this.flush();
    this.deadline = deadline;
    this.wakeDrain?.(); // a drain waiting to retry tries once more now, within the deadline
    if (this.draining) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([this.draining, new Promise<void>((r) => (t = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(t);
    }
    for (const batch of [...this.pending]) {
      if (this.inFlight && batch === this.pending[0]) continue; // its consumer still owns it
      this.drop(batch, 'shutdown');
    }
    this.m.pending.set({ component: this.component }, this.pendingCount);
  }
}
