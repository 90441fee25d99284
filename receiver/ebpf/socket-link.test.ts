// Socket mode on the real kernel: the socket exists only with mode 0600, both ends check the other's
// kernel credentials (SO_PEERCRED): the receiver reads only root (or socket.sensor_uid), the sensor sends
// only to the expected listener.

import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { createHost } from '../../pipeline/host.js';
import { EbpfReceiver } from './ebpf-receiver.js';
import { encodeFrame, logPayload, openEventPayload, streamHeaderPayload } from './frame-fixtures.js';
import { CONSTANTS as C } from './layout.js';
import { SensorProcess } from './sensor-process.js';
import { assertKernelPrerequisites, SENSOR, startWorkload, type Workload } from './testdata/kernel-harness.js';
import { collector, config, testSettings } from './testdata/receiver-harness.js';

assertKernelPrerequisites();
const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];
/** Not a shim under /root: nobody runs it. */
const SYSTEM_PYTHON = '/usr/bin/python3';
const host = createHost((err) => {
  throw err;
});
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function dir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'aibom-sock-test-'));
  chmodSync(d, 0o755);
  cleanup.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function track(w: Workload): Workload {
  cleanup.push(() => w.proc.kill('SIGKILL'));
  return w;
}

/** A Python script run as nobody, after `s = socket.socket(socket.AF_UNIX)`; argv[1] is the socket path. */
function unixSocketAsNobody(script: string, socketPath: string, ...args: string[]): Workload {
  return track(startWorkload('setpriv', [...NOBODY, SYSTEM_PYTHON, '-c', `import socket, sys\ns = socket.socket(socket.AF_UNIX)\n${script}`, socketPath, ...args]));
}

/** Resolves with the first stdout line matching `re` (or fails with the output so far). */
async function line(w: Workload, re: RegExp, timeoutMs = 20_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const m = w.output.join('').split('\n').find((l) => re.test(l));
    if (m) return m;
    if (w.proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no line ${re} from ${w.proc.spawnfile}: ${w.output.join('')}`);
}

const metric = (s: ReturnType<typeof testSettings>, name: string, labels: Record<string, string> = {}) =>
  s.metrics.value(s.metrics.registry.getSingleMetric(name) as never, labels);

describe('socket mode, both ends checked', () => {
  test('the socket never exists with a mode other than 0600: it arrives by rename from a private 0700 directory', async () => {
    const d = dir();
    const socketPath = path.join(d, 'sensor.sock');
    // inotify on the directory: how each entry arrived (created there, or moved in) and its mode then.
    const watcher = track(
      startWorkload('python3', [
        '-c',
        `import ctypes, os, struct, sys, json
d, name = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init()
IN_CREATE, IN_MOVED_TO = 0x100, 0x80
libc.inotify_add_watch(fd, d.encode(), IN_CREATE | IN_MOVED_TO)
print('ready', flush=True)
seen = []
while not any(n == name for n, _, _ in seen):
    buf = os.read(fd, 65536)
    i = 0
    while i < len(buf):
        wd, mask, cookie, ln = struct.unpack_from('iIII', buf, i)
        n = buf[i + 16:i + 16 + ln].rstrip(b'\\0').decode()
        i += 16 + ln
        try: mode = os.lstat(os.path.join(d, n)).st_mode
        except FileNotFoundError: mode = 0
        seen.append((n, 'moved' if mask & IN_MOVED_TO else 'created', mode))
print('seen ' + json.dumps(seen), flush=True)`,
        d,
        'sensor.sock',
      ]),
    );
    await line(watcher, /^ready$/);
    const r = new EbpfReceiver(testSettings(), config({ mode: 'socket', socket: { path: socketPath } }), { logs: collector() });
    cleanup.push(() => r.shutdown());
    await r.start(host);
    const seen = JSON.parse((await line(watcher, /^seen /)).slice(5)) as [string, string, number][];
    // bind() creates a socket with the umask's mode; at this path the socket only ever appears by rename.
    const sock = seen.filter(([n]) => n === 'sensor.sock');
    expect(sock.map(([n, how, mode]) => [n, how, mode.toString(8)])).toEqual([['sensor.sock', 'moved', '140600']]);
    for (const [n, how, mode] of seen.filter(([x]) => x !== 'sensor.sock')) {
      // The private bind directory: created 0700 (or already gone when looked at).
      expect([n, how, mode === 0 ? 'gone' : mode.toString(8)]).toEqual([expect.stringMatching(/^\.aibom-sock-/), 'created', expect.stringMatching(/^(40700|gone)$/)]);
    }
    await r.shutdown();
  });

  test('the real sensor (root) is accepted; a non-root process reaching the socket is refused and counted, never read', async () => {
    const d = dir();
    const socketPath = path.join(d, 'sensor.sock');
    const file = path.join(d, 'ticked.txt');
    writeFileSync(file, 'x');
    const ticker = track(startWorkload('python3', ['-c', `import time\nwhile True:\n  open(${JSON.stringify(file)}).read()\n  time.sleep(0.05)`]));
    const settings = testSettings();
    const sink = collector();
    const r = new EbpfReceiver(settings, config({ mode: 'socket', socket: { path: socketPath }, batch: { timeout: '20ms' } }), { logs: sink });
    cleanup.push(() => r.shutdown());
    await r.start(host);
    const sensor = new SensorProcess({ path: SENSOR, args: ['--socket', socketPath, '--pid', String(ticker.proc.pid), '--no-ssl', '--dedupe-ms', '0'], onRecords: () => {} });
    cleanup.push(() => sensor.stop());
    await sink.waitFor((x) => x.attrs['file.path'] === file, 20_000, 'an open from the real sensor');

    // Make the socket reachable for everyone: the peer check alone must keep a forger out.
    chmodSync(socketPath, 0o666);
    const frames = path.join(d, 'forged.bin');
    writeFileSync(
      frames,
      Buffer.concat([
        encodeFrame(C.FRAME_STREAM_HEADER, streamHeaderPayload(1_700_000_000_000_000_000n), 0),
        encodeFrame(C.FRAME_LOG, logPayload(1, 1, 'ready'), 1),
        encodeFrame(C.FRAME_EVENT, openEventPayload({ pid: 4000777, path: '/forged' }), 2),
      ]),
    );
    chmodSync(frames, 0o644);
    const forger = unixSocketAsNobody(
      // The receiver may refuse (close) before the frames are all written: a broken pipe is that refusal too.
      `s.connect(sys.argv[1])
try:
    s.sendall(open(sys.argv[2], 'rb').read())
    print('sent', flush=True)
    closed = s.recv(1) == b''
except (BrokenPipeError, ConnectionResetError):
    closed = True
print('closed by the receiver' if closed else 'still open', flush=True)`,
      socketPath,
      frames,
    );
    expect(await line(forger, /^closed by the receiver$/)).toBeTruthy();
    expect(await forger.exit).toBe(0);
    expect(await metric(settings, 'aibom_ebpf_socket_refused_total', { reason: 'peer_uid' })).toBe(1);
    expect(settings.lines.map((l) => l.msg)).toContainEqual(expect.stringMatching(/^refused a connection to the eBPF socket from pid \d+ uid 65534: only root or uid 0 \(socket.sensor_uid\) may send kernel events$/));
    // The real sensor was not displaced: its events keep coming, the forged one never does.
    const opens = () => sink.rows().filter((x) => x.attrs['file.path'] === file).length;
    const before = opens();
    await sink.waitFor(() => opens() > before, 20_000, 'an open after the refusal');
    expect(sink.rows().some((x) => x.attrs['file.path'] === '/forged')).toBe(false);
    expect(await metric(settings, 'aibom_ebpf_sensor_up')).toBe(1);
    expect(await metric(settings, 'aibom_ebpf_sensor_restarts_total')).toBe(0);
  });

  test('the sensor sends only to the expected listener: a non-root listener is refused unless it is --socket-peer-uid or the socket owner', async () => {
    const d = dir();
    chownSync(d, 65534, 65534);
    const socketPath = path.join(d, 'rogue.sock');
    const listener = unixSocketAsNobody(
      `s.bind(sys.argv[1])
s.listen(2)
print('ready', flush=True)
while True:
    c, _ = s.accept()
    n = 0
    while True:
        b = c.recv(65536)
        if not b: break
        if n == 0: print('first bytes', flush=True)
        n += len(b)
    print('received %d' % n, flush=True)`,
      socketPath,
    );
    await line(listener, /^ready$/);
    const args = ['--socket', socketPath, '--no-ssl', '--stats-interval-ms', '0', '--pid', '1'];
    const refused = new SensorProcess({ path: SENSOR, args: [...args, '--socket-peer-uid', '4242'], onRecords: () => {} });
    cleanup.push(() => refused.stop());
    expect(await refused.closed).toEqual({ code: 7, signal: null });
    expect(refused.stderr).toMatch(/aibom-sensor: refusing to send to \S+rogue.sock: the listener \(pid \d+\) runs as uid 65534, expected uid 4242 or root \(--socket-peer-uid\)/);
    expect(await line(listener, /^received /)).toBe('received 0'); // not one byte

    // By default the socket file's owner is the expected listener: here that is the nobody process.
    const accepted = new SensorProcess({ path: SENSOR, args, onRecords: () => {} });
    cleanup.push(() => accepted.stop());
    await line(listener, /^first bytes$/);
    await accepted.stop(5000);
    await line(listener, /^received [1-9]/);
    const got = listener.output.join('').split('\n').filter((l) => l.startsWith('received '));
    expect(got).toHaveLength(2);
    expect(Number(got[1]!.slice(9))).toBeGreaterThan(0);
  });
});
