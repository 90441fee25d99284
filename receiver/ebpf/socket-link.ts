// Socket mode: the receiver listens on a Unix socket and a separately started (privileged) sensor
// connects with `--socket PATH`, so the pipeline itself stays unprivileged. A newer connection replaces
// an older one (a restarted sensor reconnects before the old connection is noticed as closed).

import { chmodSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import type { Logger } from '../../pipeline/telemetry/logger.js';
import { createFrameDecoder, type SensorRecord } from './frame-decoder.js';
import type { SensorLink, SensorLinkHandlers } from './sensor-link.js';

export interface SocketLinkOptions {
  path: string;
  logger: Logger;
  /** Called for every new connection: the sensor counters start from zero again. */
  onConnect?(): void;
}

export class SocketLink implements SensorLink {
  readonly recovery = 'reconnect';
  private server: net.Server | undefined;
  private conn: net.Socket | undefined;
  private connPid: number | undefined;
  private listening = false;
  private stopped = false;

  constructor(
    private readonly opts: SocketLinkOptions,
    private readonly on: SensorLinkHandlers,
  ) {}

  get sensorPid(): number | undefined {
    return this.conn ? this.connPid : undefined;
  }

  async start(): Promise<void> {
    const path = this.opts.path;
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
    this.listening = true;
    // Only the owner (and root, the sensor) may connect: nobody else can inject events.
    chmodSync(path, 0o600);
    server.on('error', (err) => this.opts.logger.error({ err: err.message }, 'eBPF socket server error'));
  }

  control(): Promise<void> {
    return Promise.reject(new Error('a separately started sensor takes control lines on its own stdin'));
  }

  private onConnection(conn: net.Socket): void {
    if (this.stopped) return void conn.destroy();
    if (this.conn) {
      this.opts.logger.warn('a second sensor connected: closing the previous connection');
      this.conn.destroy();
    }
    this.conn = conn;
    this.connPid = undefined;
    this.opts.onConnect?.();
    const decoder = createFrameDecoder({
      onError: (e) => this.opts.logger.debug({ err: e.message, reason: e.reason }, 'eBPF frame decode problem'),
    });
    const out: SensorRecord[] = [];
    let ready = false;
    conn.on('data', (chunk: Buffer) => {
      out.length = 0;
      decoder.push(chunk, out);
      if (!ready && out.some((r) => r.kind === 'log' && r.code === 'ready')) {
        ready = true;
        if (this.conn === conn) this.connPid = decoder.streamHeader?.sensorPid;
        this.opts.logger.info({ sensorPid: decoder.streamHeader?.sensorPid }, 'eBPF sensor connected and ready');
        this.on.ready(decoder.streamHeader?.sensorPid);
      }
      this.on.records(out, decoder);
    });
    conn.on('error', () => {});
    conn.on('close', () => {
      decoder.end();
      if (this.conn !== conn) return;
      this.conn = undefined;
      if (!this.stopped) this.on.lost({ sensorPid: decoder.streamHeader?.sensorPid, reason: 'disconnected' });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.conn?.destroy();
    this.conn = undefined;
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (!this.listening) return;
    this.listening = false;
    try {
      if (lstatSync(this.opts.path).isSocket()) unlinkSync(this.opts.path);
    } catch {
      /* already gone */
    }
  }
}
