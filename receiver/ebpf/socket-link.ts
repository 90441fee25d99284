// Socket mode: the receiver listens on a Unix socket and a separately started (privileged) sensor
// connects with `--socket PATH`, so the pipeline itself stays unprivileged. Only a peer whose kernel
// credentials say root (or the configured sensor uid) is read; a newer accepted connection replaces
// an older one (a restarted sensor reconnects before the old connection is noticed as closed).

import { chmodSync, existsSync, lstatSync, mkdtempSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../../pipeline/telemetry/logger.js';
import { createFrameDecoder, type SensorRecord } from './frame-decoder.js';
import { peerCredentials } from './peer-credentials.js';
import type { SensorLink, SensorLinkHandlers } from './sensor-link.js';

export type RefusalReason = 'peer_uid' | 'peer_unknown';

export interface SocketLinkOptions {
  path: string;
  /** Besides root, the uid a connecting sensor may run as. */
  sensorUid: number;
  /** The sensor binary, whose `--peercred` mode reads a connection's peer credentials. */
  peercredHelper: string;
  logger: Logger;
  /** Called for every accepted connection: the sensor counters start from zero again. */
  onConnect?(): void;
  /** Called for every connection refused by the peer check. */
  onRefused?(reason: RefusalReason): void;
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

  /**
   * The socket appears at its path with mode 0600 already: it is bound inside a fresh 0700 directory
   * beside the path (nobody else can reach it there), chmod'ed, then renamed into place, which is
   * atomic. (A umask around listen() would also narrow the mode, but the umask is process-wide and
   * libuv's worker threads may create files at the same moment.)
   */
  async start(): Promise<void> {
    const final = this.opts.path;
    if (existsSync(final)) {
      // A socket file left by a previous run; anything else is not ours to delete.
      if (!lstatSync(final).isSocket()) throw new Error('exists and is not a socket');
      unlinkSync(final);
    }
    const privateDir = mkdtempSync(path.join(path.dirname(final), '.aibom-sock-'));
    const bound = path.join(privateDir, 's');
    try {
      const server = net.createServer((c) => this.onConnection(c));
      this.server = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(bound, () => {
          server.off('error', reject);
          resolve();
        });
      });
      // Only the owner (and root, the sensor) may connect: nobody else can inject events.
      chmodSync(bound, 0o600);
      renameSync(bound, final);
      this.listening = true;
      server.on('error', (err) => this.opts.logger.error({ err: err.message }, 'eBPF socket server error'));
    } finally {
      rmSync(privateDir, { recursive: true, force: true });
    }
  }

  control(): Promise<void> {
    return Promise.reject(new Error('a separately started sensor takes control lines on its own stdin'));
  }

  /** Reads nothing from a connection before its peer is known to be the sensor. */
  private onConnection(conn: net.Socket): void {
    if (this.stopped) return void conn.destroy();
    conn.on('error', () => {});
    peerCredentials(this.opts.peercredHelper, conn).then(
      (peer) => {
        if (this.stopped || conn.destroyed) return void conn.destroy();
        if (peer.uid === 0 || peer.uid === this.opts.sensorUid) return this.accept(conn);
        this.refuse(conn, 'peer_uid', `refused a connection to the eBPF socket from pid ${peer.pid} uid ${peer.uid}: only root or uid ${this.opts.sensorUid} (socket.sensor_uid) may send kernel events`);
      },
      (err: Error) => this.refuse(conn, 'peer_unknown', `refused a connection to the eBPF socket: its peer credentials could not be read: ${err.message}`),
    );
  }

  private refuse(conn: net.Socket, reason: RefusalReason, message: string): void {
    conn.destroy();
    this.opts.onRefused?.(reason);
    this.opts.logger.warn(message);
  }

  private accept(conn: net.Socket): void {
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
