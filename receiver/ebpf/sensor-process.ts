// One run of the aibom-sensor binary as a child process: frames from its stdout decoded into records,
// control lines (`+pid N`) on its stdin answered by the sensor's control-ok/control-bad log frames, a
// bounded stderr tail for error messages, and a stop that waits for the final stats frame. Used by the
// receiver (spawn mode) and by the real-kernel tests.

import { spawn, type ChildProcess } from 'node:child_process';
import {
  createFrameDecoder,
  type FrameDecodeError,
  type FrameDecoder,
  type SensorRecord,
} from './frame-decoder.js';

export interface SensorExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SensorProcessOptions {
  path: string;
  args: readonly string[];
  /** Called with the records each stdout chunk completes; the array is reused, copy what you keep. */
  onRecords(records: SensorRecord[]): void;
  onDecodeError?(err: FrameDecodeError): void;
}

const STDERR_TAIL_BYTES = 8192;

export class SensorProcess {
  readonly proc: ChildProcess;
  readonly decoder: FrameDecoder;
  /** Resolves once stdout is drained and the process has exited (every frame was decoded). */
  readonly closed: Promise<SensorExit>;
  /** Resolves on the sensor's `ready` log frame; rejects with the exit if it ends first. */
  readonly ready: Promise<void>;
  private stderrTail = '';
  private readonly acks = new Map<string, { resolve(): void; reject(err: Error): void }[]>();
  private readonly out: SensorRecord[] = [];
  private exitInfo: SensorExit | undefined;
  private readyResolve!: () => void;
  private readyReject!: (err: SensorExitError) => void;
  private isReady = false;

  constructor(private readonly opts: SensorProcessOptions) {
    this.decoder = createFrameDecoder({ onError: (e) => opts.onDecodeError?.(e) });
    this.ready = new Promise<void>((resolve, reject) => {
      this.readyResolve = resolve;
      this.readyReject = reject;
    });
    this.ready.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
    this.proc = spawn(opts.path, [...opts.args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdin!.on('error', () => {}); // EPIPE after the sensor exited: the exit is reported instead
    this.proc.stdout!.on('data', (chunk: Buffer) => this.onChunk(chunk));
    this.proc.stderr!.on('data', (c: Buffer) => {
      this.stderrTail = (this.stderrTail + c.toString()).slice(-STDERR_TAIL_BYTES);
    });
    this.closed = new Promise<SensorExit>((resolve) => {
      this.proc.on('error', (err) => {
        // spawn itself failed (ENOENT, EACCES): no 'exit' follows, 'close' does.
        this.stderrTail += `\nspawn ${opts.path}: ${err.message}`;
      });
      this.proc.on('close', (code, signal) => {
        this.decoder.end();
        this.exitInfo = { code, signal };
        const err = new SensorExitError(this.exitInfo, this.stderrTail);
        if (!this.isReady) this.readyReject(err);
        for (const list of this.acks.values()) for (const a of list) a.reject(err);
        this.acks.clear();
        resolve(this.exitInfo);
      });
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get stderr(): string {
    return this.stderrTail;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  private onChunk(chunk: Buffer): void {
    const out = this.out;
    out.length = 0;
    this.decoder.push(chunk, out);
    for (let i = 0; i < out.length; i++) {
      const r = out[i]!;
      if (r.kind !== 'log') continue;
      if (r.code === 'ready' && !this.isReady) {
        this.isReady = true;
        this.readyResolve();
      } else if (r.code === 'control-ok' || r.code === 'control-bad') {
        const list = this.acks.get(r.message);
        const a = list?.shift();
        if (list && list.length === 0) this.acks.delete(r.message);
        if (a) {
          if (r.code === 'control-ok') a.resolve();
          else a.reject(new Error(`sensor rejected control line "${r.message}" (${r.err})`));
        }
      }
    }
    this.opts.onRecords(out);
  }

  /** Sends one control line (`+pid 123`) and resolves when the sensor acknowledged it. */
  control(line: string, timeoutMs = 10_000): Promise<void> {
    if (!this.running) return Promise.reject(new Error('sensor is not running'));
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`sensor did not answer "${line}" within ${timeoutMs} ms`)), timeoutMs);
      t.unref();
      const entry = {
        resolve: () => (clearTimeout(t), resolve()),
        reject: (e: Error) => (clearTimeout(t), reject(e)),
      };
      const list = this.acks.get(line) ?? [];
      list.push(entry);
      this.acks.set(line, list);
      this.proc.stdin!.write(`${line}\n`);
    });
  }

  /**
   * SIGTERM, then wait for the exit and the last frames (the final stats frame); SIGKILL after
   * `timeoutMs`. Idempotent.
   */
  async stop(timeoutMs = 5000): Promise<SensorExit> {
    if (this.running && this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        if (this.running) this.proc.kill('SIGKILL');
        resolve();
      }, timeoutMs);
      timer.unref();
    });
    await Promise.race([this.closed, killed]);
    clearTimeout(timer);
    return this.closed;
  }
}

export class SensorExitError extends Error {
  override readonly name = 'SensorExitError';
  constructor(
    readonly exit: SensorExit,
    readonly stderr: string,
  ) {
    super(`sensor exited (${exit.code ?? exit.signal}) ${stderr.trim().split('\n').pop() ?? ''}`);
  }
}
