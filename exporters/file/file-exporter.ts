import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Component, CreateSettings, Host } from '../../pipeline/component.js';
import type { Consumers, LogsConsumer, TracesConsumer } from '../../pipeline/consumer.js';
import { RetryableError } from '../../pipeline/consumer.js';
import { codecFor } from '../../pipeline/otlp/codec.js';
import type { JsonOutput } from '../../pipeline/otlp/json-writer.js';
import { appendLogsJson, appendTracesJson, appendUtf8 } from '../../pipeline/otlp/json-writer.js';
import type { LogsData, Signal, SignalData, TracesData } from '../../pipeline/otlp/types.js';
import type { Logger } from '../../pipeline/telemetry/logger.js';
import type { Metrics } from '../../pipeline/telemetry/metrics.js';
import type { FileConfig } from './config.js';
import { MAX_BUFFER_BYTES } from './config.js';
import { backupName, pruneBackups } from './rotation.js';

interface Entry {
  signal: Signal;
  items: number;
}

const MIB = 1024 * 1024;
/**
 * A written chunk's buffer is kept for the next chunk up to this size (one batch of 8192 LLM spans
 * is ~11 MB of JSON): no allocation or page faults per batch, and no copy (the writer appends
 * straight into it).
 */
const MAX_SPARE_BYTES = 16 * MIB;
const NO_BYTES = Buffer.alloc(0);

/** A clear one-line cause for the usual write failures. */
function explain(err: NodeJS.ErrnoException, file: string): string {
  const why: Record<string, string> = {
    ENOSPC: 'no space left on device',
    EDQUOT: 'disk quota exceeded',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOENT: 'directory does not exist',
    EISDIR: 'path is a directory',
  };
  return `writing ${file}: ${(err.code && why[err.code]) || err.message}${err.code ? ` (${err.code})` : ''}`;
}

/**
 * The `file` exporter: one OTLP/JSON request per line (ExportTraceServiceRequest or
 * ExportLogsServiceRequest, as the collector's fileexporter writes them), traces and logs in one file.
 *
 * Buffering: `consume` appends the line to a buffer and resolves; the buffer is written every
 * `flush_interval`, or inside `consume` once it holds MAX_BUFFER_BYTES (or at once when the
 * interval is 0), so memory stays bounded. Writes are serialised. A failed write inside `consume`
 * rejects that caller (RetryableError with the cause); buffered lines of earlier callers, and of
 * timer flushes, are counted as dropped{reason="write_failed"} and logged.
 */
export class FileExporter implements Component, Consumers {
  readonly traces: TracesConsumer = { consume: (d) => this.consume('traces', d) };
  readonly logs: LogsConsumer = { consume: (d) => this.consume('logs', d) };
  private readonly logger: Logger;
  private readonly metrics: Metrics;
  private readonly id: string;
  /** The lines not written yet, and whose they are. */
  private pending: JsonOutput = { bytes: NO_BYTES, length: 0 };
  private entries: Entry[] = [];
  private spare: Buffer | undefined;
  private fh: FileHandle | undefined;
  private size = 0;
  private lastBackupMs = 0;
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private state: 'created' | 'running' | 'stopped' = 'created';
  private stopped: Promise<void> | undefined;

  constructor(
    settings: CreateSettings,
    private readonly config: FileConfig,
  ) {
    this.logger = settings.logger;
    this.metrics = settings.metrics;
    this.id = settings.id;
  }

  async start(_host?: Host): Promise<void> {
    if (this.state !== 'created') return;
    try {
      await mkdir(path.dirname(this.config.path), { recursive: true });
      await this.openFile();
    } catch (err) {
      throw new Error(`exporter ${this.id}: cannot open ${this.config.path}: ${explain(err as NodeJS.ErrnoException, this.config.path)}`);
    }
    if (this.config.flushIntervalMs > 0) {
      this.timer = setInterval(() => void this.flush().catch(() => undefined), this.config.flushIntervalMs);
      this.timer.unref();
    }
    this.state = 'running';
  }

  private async openFile(): Promise<void> {
    this.fh = await open(this.config.path, 'a');
    this.size = (await stat(this.config.path)).size;
  }

  private async consume<S extends Signal>(signal: S, data: SignalData<S>): Promise<void> {
    if (this.state !== 'running') throw new RetryableError(`exporter ${this.id} is not running`);
    const codec = codecFor(signal);
    const items = codec.count(data);
    if (items === 0) return;
    if (this.pending.bytes === NO_BYTES && this.spare) {
      this.pending.bytes = this.spare;
      this.spare = undefined;
    }
    // Traces from the received bytes (spans stay undecoded for the other exporters); logs are objects already.
    if (signal === 'traces') appendTracesJson(data as TracesData, this.pending);
    else appendLogsJson(data as LogsData, this.pending);
    appendUtf8(this.pending, '\n');
    const entry: Entry = { signal, items };
    this.entries.push(entry);
    if (this.config.flushIntervalMs === 0 || this.pending.length >= MAX_BUFFER_BYTES) await this.flush(entry);
  }

  /** Writes what is buffered now, after the writes already queued. */
  private flush(own?: Entry): Promise<void> {
    if (this.entries.length === 0) return this.writing;
    const entries = this.entries;
    const out = this.pending;
    this.entries = [];
    this.pending = { bytes: NO_BYTES, length: 0 };
    const p = this.writing.then(() => this.write(entries, out, own));
    this.writing = p.catch(() => undefined);
    return p;
  }

  private async write(entries: Entry[], out: JsonOutput, own: Entry | undefined): Promise<void> {
    const chunk = out.bytes.subarray(0, out.length);
    try {
      if (!this.fh) await this.openFile();
      await this.rotateIfNeeded(chunk.length);
      await this.fh!.write(chunk);
      this.size += chunk.length;
      for (const e of entries) this.metrics.exporterSent.inc({ component: this.id, signal: e.signal }, e.items);
    } catch (err) {
      const message = explain(err as NodeJS.ErrnoException, this.config.path);
      const lost = new Map<Signal, number>();
      for (const e of entries) if (e !== own) lost.set(e.signal, (lost.get(e.signal) ?? 0) + e.items);
      for (const [signal, items] of lost) {
        this.metrics.exporterDropped.inc({ component: this.id, signal, reason: 'write_failed' }, items);
        this.logger.error({ reason: 'write_failed', signal, items, error: message }, `dropped ${items} ${signal} items: ${message}`);
      }
      if (own && entries.includes(own)) throw new RetryableError(message);
    } finally {
      if (out.bytes.length <= MAX_SPARE_BYTES && out.bytes.length > (this.spare?.length ?? 0)) this.spare = out.bytes;
    }
  }

  private async rotateIfNeeded(incoming: number): Promise<void> {
    const r = this.config.rotation;
    if (!r || this.size === 0 || this.size + incoming <= r.maxMegabytes * MIB) return;
    await this.fh?.close();
    this.fh = undefined;
    // Backup names carry milliseconds; two rotations within one millisecond must not collide.
    const ms = Math.max(Date.now(), this.lastBackupMs + 1);
    this.lastBackupMs = ms;
    await rename(this.config.path, backupName(this.config.path, ms, r.localtime));
    await this.openFile();
    try {
      await pruneBackups(this.config.path, r);
    } catch (err) {
      this.logger.warn({ error: (err as Error).message }, 'could not delete old backups');
    }
  }

  /** Writes what is buffered, closes the file; idempotent, works without start. */
  shutdown(): Promise<void> {
    this.stopped ??= (async () => {
      const wasRunning = this.state === 'running';
      this.state = 'stopped';
      clearInterval(this.timer);
      if (wasRunning) await this.flush().catch(() => undefined);
      await this.writing;
      await this.fh?.close().catch(() => undefined);
      this.fh = undefined;
    })();
    return this.stopped;
  }
}
