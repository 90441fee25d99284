// Who is at the other end of an accepted Unix socket connection. Node has no SO_PEERCRED, so the
// sensor binary reads it: `aibom-sensor --peercred` with the connection's fd as its stdin prints
// "pid uid gid" (bpf/peercred.c). The kernel records these at connect time; the peer cannot forge them.

import { spawn } from 'node:child_process';
import type net from 'node:net';
import { untrustedBinary, untrustedBinaryMessage } from './binary-trust.js';

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

const TIMEOUT_MS = 5000;

/** The connection's file descriptor: passed as a number, so the child gets a dup and ours stays open. */
function fdOf(conn: net.Socket): number | undefined {
  const fd = (conn as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** Rejects with a sentence saying why the credentials could not be read. */
export function peerCredentials(helper: string, conn: net.Socket): Promise<PeerCredentials> {
  const fd = fdOf(conn);
  if (fd === undefined) return Promise.reject(new Error('the connection has no file descriptor'));
  if (process.geteuid?.() === 0) {
    const why = untrustedBinary(helper);
    if (why) return Promise.reject(new Error(untrustedBinaryMessage(helper, why)));
  }
  return new Promise((resolve, reject) => {
    const child = spawn(helper, ['--peercred'], { stdio: [fd, 'pipe', 'pipe'], timeout: TIMEOUT_MS });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()).length > 256 && child.kill());
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-512)));
    child.on('error', (e) => reject(new Error(`${helper} --peercred: ${e.message}`)));
    child.on('close', (code, signal) => {
      const m = /^(\d+) (\d+) (\d+)\n$/.exec(out);
      if (code === 0 && m) return resolve({ pid: Number(m[1]), uid: Number(m[2]), gid: Number(m[3]) });
      const why = err.trim().split('\n').pop() || (signal ? `killed by ${signal}` : `exit ${code}`);
      reject(new Error(`${helper} --peercred failed: ${why}`));
    });
  });
}
