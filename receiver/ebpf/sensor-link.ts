// The receiver's contract with one sensor, whatever carries its frames: a child process (SpawnLink) or a
// Unix socket a separately started sensor connects to (SocketLink). The link decodes frames and reports
// what happened; what to do about it (restart, gap records, batching) belongs to its owner.

import type { FrameDecoder, SensorRecord } from './frame-decoder.js';
import type { SensorExit } from './sensor-process.js';

/** A sensor that was ready and is gone: exited (spawn) or disconnected (socket). */
export interface SensorLoss {
  /** Pid of the sensor that went away, when known. */
  sensorPid?: number;
  /** Its exit (spawn mode). */
  exit?: SensorExit;
  /** One sentence saying why, for the log. */
  reason: string;
}

/** Called by a link; never throws into the link. */
export interface SensorLinkHandlers {
  /** Records decoded from one chunk. The array is reused after the call: copy what you keep. */
  records(records: readonly SensorRecord[], decoder: FrameDecoder): void;
  /** A sensor became ready: at start, after a restart, or when a socket sensor (re)connected. */
  ready(sensorPid: number | undefined): void;
  /** The sensor is gone: a spawned one that had been ready exited, or the socket connection closed. Not after `stop`. */
  lost(loss: SensorLoss): void;
}

export interface SensorLink {
  /** What brings the sensor back after a loss: the owner restarts it, or it reconnects by itself. */
  readonly recovery: 'restart' | 'reconnect';
  /** Pid of the sensor while one is running or connected. */
  readonly sensorPid: number | undefined;
  /**
   * spawn: runs a sensor until its `ready` frame (rejects with the reason when it exits or times out
   * first; the sensor is then stopped); socket: listens. Called again by the owner to restart.
   */
  start(): Promise<void>;
  /** Sends a control line (`+pid 123`); resolves when the sensor acknowledged it. */
  control(line: string): Promise<void>;
  /** Ends the sensor (or connection and listener) within `timeoutMs`. Idempotent, safe without start. */
  stop(timeoutMs: number): Promise<void>;
}
