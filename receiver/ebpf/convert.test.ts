// The converter's process resource: read from /proc when a process is first seen, and from what was read
// when it was added if it is already exiting by then (a zombie has no exe link and an empty cmdline).

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { readFileSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { fromAnyValue } from '../../pipeline/otlp/attributes.js';
import { LogsBuilder, msToLong, nsToLong } from './convert.js';
import { createContainerResolver } from './container.js';
import type { SensorEvent } from './frame-decoder.js';
import { APPS } from '../../test/support/apps.js';

/** `hostName` undefined: this machine's, as in production. */
function builder(hostName?: string): LogsBuilder {
  return new LogsBuilder({ capturePayload: false, containers: createContainerResolver({ procRoot: '/nonexistent' }), processCacheSize: 64, hostName, scopeVersion: 'test' });
}

function openEvent(pid: number): SensorEvent {
  const now = BigInt(Date.now()) * 1_000_000n;
  return { seq: 1, ktimeNs: 0n, timeUnixNano: now, pid, tid: pid, ppid: 1, uid: 0, cgroupId: 1n, comm: 'sleep', flags: 0, repeat: 0, truncated: false, kind: 'open', path: '/etc/hosts', openFlags: 0, mode: 0, ret: 3, credential: false };
}

function resourceOf(b: LogsBuilder, pid: number): Record<string, unknown> {
  const now = nsToLong(BigInt(Date.now()) * 1_000_000n);
  b.add(openEvent(pid), now, now);
  const [rl] = b.take().resourceLogs;
  return Object.fromEntries((rl!.resource?.attributes ?? []).map((a) => [a.key, fromAnyValue(a.value)]));
}

describe('LogsBuilder process resource', () => {
  it('a process that is a zombie when its first event is converted keeps the exe path and args read when it was added', async () => {
    // The shell execs into `sleep 60` and never waits, so its child `sleep 30`, once killed, stays a zombie.
    const sh = spawn('sh', ['-c', 'sleep 30 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const pid = Number((await new Promise<Buffer>((resolve) => sh.stdout.once('data', resolve))).toString().trim());
      // `$!` is known before the forked shell has exec'd `sleep`: wait for the exec, so the process
      // read below is the one that becomes the zombie.
      for (let i = 0; i < 200 && readFileSync(`/proc/${pid}/comm`, 'latin1').trim() !== 'sleep'; i++) await sleep(10);
      const exe = readlinkSync(`/proc/${pid}/exe`);
      expect(exe).toMatch(/\/sleep$/);
      const b = builder();
      b.prime(pid);
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 200 && !/^\S+ \(sleep\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'latin1')); i++) await sleep(25);
      expect(readFileSync(`/proc/${pid}/stat`, 'latin1')).toMatch(/^\S+ \(sleep\) Z/);
      const res = resourceOf(b, pid);
      expect(res['process.executable.path']).toBe(exe);
      expect(res['process.command_args']).toEqual(['sleep', '30']);
    } finally {
      sh.kill('SIGKILL');
    }
  });

  it('a live process is read when its first event is converted, not when it was added', () => {
    const b = builder();
    const res = resourceOf(b, process.pid);
    expect(res['process.executable.path']).toBe(readlinkSync('/proc/self/exe'));
    expect(res['process.command_args']).toEqual(readFileSync('/proc/self/cmdline', 'utf8').split('\0').filter(Boolean));
  });

  it("names the host exactly as the agents' OpenTelemetry SDK does (host.name, host.id), so backends see one host", async () => {
    // The real host detector of the JS SDK the test agents use.
    const sdkRequire = createRequire(join(APPS, 'package.json'));
    const { detectResources, hostDetector } = sdkRequire('@opentelemetry/resources') as {
      detectResources(c: { detectors: unknown[] }): { waitForAsyncAttributes?(): Promise<void>; attributes: Record<string, unknown> };
      hostDetector: unknown;
    };
    const detected = detectResources({ detectors: [hostDetector] });
    await detected.waitForAsyncAttributes?.();
    expect(detected.attributes['host.id']).toMatch(/\S/);
    const res = resourceOf(builder(), process.pid);
    expect(res['host.id']).toBe(detected.attributes['host.id']);
    expect(res['host.name']).toBe(detected.attributes['host.name']);
  });

  it('keeps the processes used lately when the cache is full: the least recently used ones go first', () => {
    const b = new LogsBuilder({ capturePayload: false, containers: createContainerResolver({ procRoot: '/nonexistent' }), processCacheSize: 4, readProc: false, hostName: 'h', scopeVersion: 'test' });
    const now = nsToLong(BigInt(Date.now()) * 1_000_000n);
    const exec = (pid: number): SensorEvent => ({ ...openEvent(pid), kind: 'exec', oldPid: pid, filename: `/bin/p${pid}`, args: [`p${pid}`], argsCount: 1, monitorReason: 'none' });
    const path = (pid: number) => {
      b.add(openEvent(pid), now, now);
      const rl = b.take().resourceLogs[0]!;
      return (rl.resource?.attributes ?? []).find((a) => a.key === 'process.executable.path')?.value?.stringValue;
    };
    for (const pid of [1, 2, 3]) b.add(exec(pid), now, now);
    b.add(openEvent(1), now, now); // 1 used again
    for (const pid of [4, 5]) b.add(exec(pid), now, now); // 5 pushes the least recently used out: 2
    b.take();
    expect(path(1)).toBe('/bin/p1');
    expect(path(3)).toBe('/bin/p3');
    expect(path(2)).toBeUndefined(); // forgotten, and /proc is not read here
    expect(b.cachedProcesses).toBe(4);
  });

  it('makes the receive time from epoch milliseconds as the BigInt product would', () => {
    for (const ms of [0, 1, 999, 4294, 4295, 4294967295, 4294967296, Date.now(), 1_795_989_410_960, 2 ** 42 - 1, 8_640_000_000_000]) {
      expect(msToLong(ms).toString(), String(ms)).toBe(nsToLong(BigInt(ms) * 1_000_000n).toString());
    }
  });
});
