// Real-kernel tests: run bpf/.output/aibom-sensor against Python and Node workloads and assert the events.
// They need root, BTF and the built sensor (`make -C bpf`). Without them the tests skip locally, but under
// CI (process.env.CI set) a missing prerequisite is a failure: CI machines can run them.

import { execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FrameDecodeError, type MonitorRecord, type SensorEvent, type SensorRecord, type StatsRecord } from './frame-decoder.js';
import { SensorProcess } from './sensor-process.js';
import { assertKernelPrerequisites, SENSOR, startPeers, startWorkload, TESTDATA, type Peers } from './testdata/kernel-harness.js';

assertKernelPrerequisites();

interface RunningSensor {
  proc: ChildProcess;
  records: SensorRecord[];
  errors: FrameDecodeError[];
  stderr(): string;
  waitFor(pred: (r: SensorRecord) => boolean, timeoutMs?: number): Promise<SensorRecord>;
  control(line: string): Promise<void>;
  stop(): Promise<{ code: number | null; records: SensorRecord[] }>;
}

function startSensor(args: string[]): RunningSensor {
  const records: SensorRecord[] = [];
  const errors: FrameDecodeError[] = [];
  const waiters: { pred: (r: SensorRecord) => boolean; resolve: (r: SensorRecord) => void }[] = [];
  const sensor = new SensorProcess({
    path: SENSOR,
    args,
    onDecodeError: (e) => errors.push(e),
    onRecords: (recs) => {
      for (const r of recs) {
        records.push(r);
        for (let w = waiters.length - 1; w >= 0; w--) {
          if (waiters[w]!.pred(r)) {
            waiters[w]!.resolve(r);
            waiters.splice(w, 1);
          }
        }
      }
    },
  });
  const waitFor = (pred: (r: SensorRecord) => boolean, timeoutMs = 20_000): Promise<SensorRecord> => {
    const found = records.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`sensor: timed out waiting; stderr: ${sensor.stderr}`)), timeoutMs);
      waiters.push({
        pred,
        resolve: (r) => {
          clearTimeout(t);
          resolve(r);
        },
      });
      void sensor.closed.then(({ code }) => reject(new Error(`sensor exited (${code}): ${sensor.stderr}`)));
    });
  };
  return {
    proc: sensor.proc,
    records,
    errors,
    stderr: () => sensor.stderr,
    waitFor,
    control: (line: string) => sensor.control(line),
    async stop() {
      const { code } = await sensor.stop();
      return { code, records };
    },
  };
}

const events = (recs: SensorRecord[]): SensorEvent[] =>
  recs.filter((r): r is SensorEvent => r.kind !== 'stream-header' && r.kind !== 'stats' && r.kind !== 'log' && r.kind !== 'monitor');
const finalStats = (recs: SensorRecord[]): StatsRecord | undefined =>
  recs.filter((r): r is StatsRecord => r.kind === 'stats' && r.final).pop();

describe('aibom-sensor on the real kernel', () => {
  let peers!: Peers;
  let tmp = '';
  let credDir = '';
  let httpPort = 0;

  beforeAll(async () => {
    peers = await startPeers('127.0.0.77');
    ({ tmp, credDir, httpPort } = peers);
  });

  afterAll(() => peers?.close());

  const workloadConfig = (tag: string): Record<string, unknown> => peers.workloadConfig(tag);

  function assertWorkloadEvents(all: SensorEvent[], pid: number, cfg: Record<string, unknown>, exitCode: number, childArg: string): void {
    const mine = all.filter((e) => e.pid === pid);
    const ctx = (): string => JSON.stringify(mine.map((e) => `${e.kind}`));

    const fork = mine.find((e) => e.kind === 'fork');
    expect(fork, `fork event of ${pid}: ${ctx()}`).toBeDefined();
    const childExec = all.find((e) => e.kind === 'exec' && e.ppid === pid && e.filename === cfg.childExe);
    expect(childExec, 'exec of the child, ppid = workload').toBeDefined();
    if (childExec?.kind === 'exec') {
      expect(childExec.args).toEqual([cfg.childExe, childArg]);
      expect(childExec.pid).not.toBe(pid);
    }
    const childExit = all.find((e) => e.kind === 'exit' && e.pid === childExec?.pid);
    expect(childExit?.kind === 'exit' && childExit.exitCode).toBe(0);

    const open = mine.find((e) => e.kind === 'open' && e.path === cfg.file);
    expect(open?.kind === 'open' && open.ret >= 0, `open of ${String(cfg.file)}`).toBe(true);
    expect(open?.kind === 'open' && open.credential).toBe(false);
    const cred = mine.find((e) => e.kind === 'open' && e.path === cfg.credFile);
    expect(cred?.kind === 'open' && cred.credential, 'credential flag on the token open').toBe(true);

    const conn = mine.find((e) => e.kind === 'connect' && e.peerPort === cfg.tcpPort);
    expect(conn, 'connect to the TCP port').toBeDefined();
    if (conn?.kind === 'connect') {
      expect(conn.peerAddress).toBe('127.0.0.1');
      expect(conn.transport).toBe('tcp');
      expect(conn.family).toBe(4);
      expect(conn.ret === 0 || conn.inProgress).toBe(true);
    }

    const dns = mine.find((e) => e.kind === 'dns');
    expect(dns?.kind === 'dns' && dns.name, 'DNS QNAME').toBe(cfg.dnsName);
    if (dns?.kind === 'dns') {
      expect(dns.serverAddress).toBe(cfg.dnsHost);
      expect(dns.serverPort).toBe(53);
      expect(dns.qtype).toBe(1);
    }

    const tlsOut = mine
      .filter((e) => e.kind === 'tls' && e.direction === 'write')
      .map((e) => (e.kind === 'tls' ? e.data.toString('latin1') : ''))
      .join('');
    expect(tlsOut, 'TLS plaintext carries the traceparent').toContain(`traceparent: ${String(cfg.traceparentTls)}`);
    expect(tlsOut).toContain(String(cfg.tlsBody));
    const tlsIn = mine.find((e) => e.kind === 'tls' && e.direction === 'read');
    expect(tlsIn?.kind === 'tls' && tlsIn.data.toString('latin1'), 'TLS response plaintext').toMatch(/^HTTP\/1\.1 200/);

    const httpEv = mine.find((e) => e.kind === 'http' && e.data.toString('latin1').includes(String(cfg.traceparentHttp)));
    expect(httpEv, 'plain HTTP first bytes with traceparent').toBeDefined();
    if (httpEv?.kind === 'http') {
      expect(httpEv.data.toString('latin1')).toMatch(/^GET \/plain-/);
      expect(httpEv.peerPort).toBe(httpPort);
      expect(httpEv.peerAddress).toBe('127.0.0.1');
    }

    const exit = mine.find((e) => e.kind === 'exit');
    expect(exit?.kind === 'exit' && exit.exitCode).toBe(exitCode);
  }

  it('reports exec/fork/exit, opens, connects, DNS, TLS and HTTP of Python and Node workloads', async () => {
    const pyCfg = workloadConfig('py');
    const nodeCfg = workloadConfig('node');
    const py = startWorkload('python3', [path.join(TESTDATA, 'workload.py'), JSON.stringify(pyCfg)]);
    const nd = startWorkload(process.execPath, [path.join(TESTDATA, 'workload.mjs'), JSON.stringify(nodeCfg)]);
    // Python by --pid at start, Node through the runtime control channel.
    const sensor = startSensor([
      '--pid', String(py.proc.pid),
      '--credential-path', `${credDir}/`,
      '--stats-interval-ms', '200',
    ]);
    try {
      await sensor.waitFor((r) => r.kind === 'log' && r.code === 'ready');
      await sensor.control(`+pid ${nd.proc.pid}`);
      // An unmonitored process doing the same kind of thing must not show up.
      const un = startWorkload('python3', ['-c', `open(${JSON.stringify(path.join(tmp, 'unmonitored-marker.txt'))}).read()`]);
      expect(await un.exit).toBe(0);

      py.proc.stdin!.write('go\n');
      nd.proc.stdin!.write('go\n');
      expect(await py.exit, py.output.join('')).toBe(7);
      expect(await nd.exit, nd.output.join('')).toBe(9);
      await sensor.waitFor((r) => r.kind === 'exit' && r.pid === nd.proc.pid);
      await sensor.waitFor((r) => r.kind === 'exit' && r.pid === py.proc.pid);

      const { code, records } = await sensor.stop();
      expect(code, sensor.stderr()).toBe(0);
      expect(sensor.errors).toEqual([]);
      const evs = events(records);

      assertWorkloadEvents(evs, py.proc.pid!, pyCfg, 7, 'aibom-child-py');
      assertWorkloadEvents(evs, nd.proc.pid!, nodeCfg, 9, 'aibom-child-node');

      // accept(): Python accepts a connection on its own listener.
      const acc = evs.find((e) => e.kind === 'accept' && e.pid === py.proc.pid);
      expect(acc?.kind === 'accept' && acc.peerAddress).toBe('127.0.0.1');

      // The servers saw the same requests (the workloads really did them).
      expect(peers.received.some((r) => r.includes(String(pyCfg.tlsBody)))).toBe(true);
      expect(peers.received.some((r) => r.includes(String(nodeCfg.tlsBody)))).toBe(true);

      // Filtering: nothing from the unmonitored process reached user space, and the kernel counted it.
      expect(evs.filter((e) => e.pid === un.proc.pid)).toEqual([]);
      expect(evs.some((e) => e.kind === 'open' && e.path.endsWith('unmonitored-marker.txt'))).toBe(false);
      const stats = finalStats(records);
      expect(stats).toBeDefined();
      expect(stats!.filtered.notMonitored).toBeGreaterThan(0);
      expect(stats!.uprobeTargets).toBeGreaterThanOrEqual(2); // system libssl + node binary
      // Every event the kernel emitted arrived, in order, once.
      expect(stats!.rbConsumed).toBe(stats!.totals.emitted);
      expect(evs.length).toBe(stats!.totals.emitted);
      expect(stats!.totals.rbDrops).toBe(0);
      // Epoch conversion from the stream header is sane (within a minute of now).
      const t = evs[0]!.timeUnixNano!;
      expect(Math.abs(Number(t / 1_000_000n) - Date.now())).toBeLessThan(60_000);
    } finally {
      py.proc.kill();
      nd.proc.kill();
      await sensor.stop();
    }
  });

  it('counts every event under overload: emitted + dropped == attempted, received == emitted', async () => {
    // The ring overflows for certain only if nobody drains it: the sensor is stopped (SIGSTOP) while
    // the burst runs, so at most a ring's worth of opens fits and the rest must be counted as drops,
    // however fast this machine's consumer would have been.
    const n = 50_000;
    const ringKb = 8;
    const prefix = path.join(tmp, 'burst-');
    const burst = startWorkload('python3', [path.join(TESTDATA, 'burst.py'), String(n), prefix]);
    const sensor = startSensor([
      '--pid', String(burst.proc.pid),
      '--ringbuf-kb', String(ringKb),
      '--dedupe-ms', '0',
      '--stats-interval-ms', '0',
      '--no-ssl',
      // Exact accounting of one burst: agents elsewhere on the host (AI variables, model clients) stay out of it.
      '--no-default-env-markers',
      '--no-shadow',
    ]);
    try {
      await sensor.waitFor((r) => r.kind === 'log' && r.code === 'ready');
      sensor.proc.kill('SIGSTOP');
      // Delivery is asynchronous: start the burst only once the sensor is really stopped.
      const stopped = (): boolean => /^\S+ \(.*\) T/.test(readFileSync(`/proc/${sensor.proc.pid}/stat`, 'latin1'));
      for (let i = 0; i < 200 && !stopped(); i++) await new Promise((r) => setTimeout(r, 5));
      expect(stopped(), 'sensor stopped').toBe(true);
      try {
        burst.proc.stdin!.write('go\n');
        expect(await burst.exit).toBe(0);
      } finally {
        sensor.proc.kill('SIGCONT');
      }
      // No waiting for the burst's exit event: it met a full ring too. stop() drains what is queued.
      const { code, records } = await sensor.stop();
      expect(code).toBe(0);
      expect(sensor.errors).toEqual([]);
      const stats = finalStats(records)!;
      const opens = events(records).filter((e) => e.kind === 'open');
      const burstOpens = opens.filter((e) => e.kind === 'open' && e.path.includes('burst-'));
      const o = stats.perType.open;
      // Exact accounting, whatever the load.
      for (const c of Object.values(stats.perType)) expect(c.attempted).toBe(c.emitted + c.rbDrops);
      expect(opens.length).toBe(o.emitted);
      expect(stats.rbConsumed).toBe(stats.totals.emitted);
      expect(events(records).length).toBe(stats.totals.emitted);
      // The burst is fully accounted for: seen or counted as dropped (other opens are few).
      expect(burstOpens.length + o.rbDrops).toBeGreaterThanOrEqual(n);
      expect(o.attempted).toBeLessThan(n + 200);
      // A ring record is an 8-byte header plus the event (80 bytes + path), 8-byte aligned: at most this
      // many burst opens fit while the consumer is stopped.
      const capacity = Math.floor((ringKb * 1024) / (8 + Math.ceil((80 + prefix.length + 1) / 8) * 8));
      expect(o.rbDrops).toBeGreaterThanOrEqual(n - capacity - 200);
      console.log(
        `overload: ${n} opens, ring ${ringKb} KiB (~${capacity} opens), consumer stopped: emitted ${o.emitted}, dropped ${o.rbDrops}, received ${opens.length}`,
      );
    } finally {
      sensor.proc.kill('SIGCONT');
      burst.proc.kill();
      await sensor.stop();
    }
  });

  it('drops ignored path prefixes in the kernel and dedupes repeats with a carried count', async () => {
    const w = startWorkload('python3', [
      '-c',
      [
        'import sys, time',
        'sys.stdin.readline()',
        `for i in range(5): open(${JSON.stringify(path.join(tmp, 'known-file.txt'))}).read()`,
        'time.sleep(0.4)',
        `open(${JSON.stringify(path.join(tmp, 'known-file.txt'))}).read()`,
        `open(${JSON.stringify(path.join(tmp, 'unmonitored-marker.txt'))}).read()`,
      ].join('\n'),
    ]);
    const sensor = startSensor([
      '--pid', String(w.proc.pid),
      '--ignore-path', path.join(tmp, 'unmonitored'),
      '--dedupe-ms', '200',
      '--stats-interval-ms', '0',
      '--no-ssl',
    ]);
    try {
      await sensor.waitFor((r) => r.kind === 'log' && r.code === 'ready');
      w.proc.stdin!.write('go\n');
      expect(await w.exit).toBe(0);
      await sensor.waitFor((r) => r.kind === 'exit' && r.pid === w.proc.pid);
      const { records } = await sensor.stop();
      const evs = events(records);
      const known = evs.filter((e) => e.kind === 'open' && e.path.endsWith('known-file.txt'));
      // 4 repeats within the 200 ms window are suppressed; the open after the window carries their count.
      expect(known.map((e) => e.repeat)).toEqual([0, 4]);
      const stats = finalStats(records)!;
      expect(stats.perType.open.deduped).toBeGreaterThanOrEqual(4);
      expect(stats.filtered.pathIgnored).toBeGreaterThanOrEqual(1);
      expect(evs.some((e) => e.kind === 'open' && e.path.includes('unmonitored-marker'))).toBe(false);
    } finally {
      w.proc.kill();
      await sensor.stop();
    }
  });

  describe('environment markers: AI workloads watched without being named', () => {
    // What a user's shell typically carries, so the marker sits behind ~3 KiB the kernel must skip.
    const filler: Record<string, string> = {};
    for (let i = 0; i < 40; i++) filler[`FILLER_VAR_${i}`] = 'x'.repeat(60 + i);
    // A value longer than the sensor copies at once (LS_COLORS-like), holding a marker-like text that is no name.
    filler.LONG_VALUE = `${'y'.repeat(1500)}:OPENAI_API_KEY=inside-a-value:${'z'.repeat(1500)}`;
    const PATH = process.env.PATH ?? '/usr/bin:/bin';
    // The interpreter itself, not a version-manager shim (a shim's own helpers would be its first children).
    const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
    const monitors = (recs: SensorRecord[]): MonitorRecord[] => recs.filter((r): r is MonitorRecord => r.kind === 'monitor');
    // Opens a file, starts a child with a bare environment that opens another and connects, then exits.
    const script = (file: string, childFile: string, port: number): string =>
      [
        'import os, socket, subprocess, sys',
        `open(${JSON.stringify(file)}).read()`,
        `subprocess.run([sys.executable, '-c', ${JSON.stringify(`open(${JSON.stringify(childFile)}).read()
import socket
s = socket.socket()
s.connect(('127.0.0.1', ${port}))
s.close()`)}], env={'PATH': os.environ['PATH']}, check=True)`,
      ].join('\n');

    it('watches an exec whose environment has a marker from its first instruction, with its children; ordinary and OTel-only environments stay unwatched', async () => {
      const file = (n: string): string => {
        const f = path.join(tmp, `env-${n}.txt`);
        writeFileSync(f, n);
        return f;
      };
      const sensor = startSensor(['--env-marker', 'ACME_AGENT_TOKEN', '--stats-interval-ms', '0', '--no-ssl']);
      try {
        await sensor.waitFor((r) => r.kind === 'log' && r.code === 'ready');
        const agent = startWorkload(python, ['-c', script(file('agent'), file('agent-child'), peers.tcpPort)], { PATH, ...filler, OPENAI_API_KEY: 'sk-test-not-a-real-key' });
        const custom = startWorkload('/bin/cat', [file('custom')], { PATH, ...filler, ACME_AGENT_TOKEN: 'x' });
        const plain = startWorkload('/bin/cat', [file('plain')], { PATH, HOME: '/root', LANG: 'C.UTF-8', ...filler });
        const otel = startWorkload('/bin/cat', [file('otel')], { PATH, OTEL_SERVICE_NAME: 'billing', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4317', OTEL_TRACES_SAMPLER: 'always_on' });
        // An exact marker is a whole name: GOOGLE_API_KEY does not match GOOGLE_API_KEYS.
        const near = startWorkload('/bin/cat', [file('near')], { PATH, GOOGLE_API_KEYS: '1', OPENAI: '1' });
        for (const w of [agent, custom, plain, otel, near]) expect(await w.exit, w.output.join('')).toBe(0);
        await sensor.waitFor((r) => r.kind === 'exit' && r.pid === agent.proc.pid);
        await sensor.waitFor((r) => r.kind === 'exit' && r.pid === custom.proc.pid);
        const { records } = await sensor.stop();
        expect(sensor.errors).toEqual([]);
        const evs = events(records);

        // The agent: a monitor record, then its exec, then everything from the loader's first open on.
        const mine = evs.filter((e) => e.pid === agent.proc.pid);
        expect(mine[0]?.kind === 'exec' && mine[0].monitorReason, mine.slice(0, 3).map((e) => e.kind).join()).toBe('env_marker');
        const mon = monitors(records).find((m) => m.pid === agent.proc.pid);
        expect(mon).toMatchObject({ reason: 'env_marker', marker: 'OPENAI_*', partial: false, atStart: false, ppid: process.pid });
        expect(records.indexOf(mon!)).toBeLessThan(records.indexOf(mine[0]!));
        // Right after the exec: the dynamic loader looking for the interpreter's libraries.
        expect(mine[1]?.kind === 'open' && mine[1].path, 'the dynamic loader\'s first open').toMatch(/ld\.so\.cache|\/lib/);
        expect(mine.some((e) => e.kind === 'open' && e.path === file('agent'))).toBe(true);
        // Its child has no marker of its own: watched because its parent is.
        const childExec = evs.find((e) => e.kind === 'exec' && e.ppid === agent.proc.pid);
        expect(childExec?.kind === 'exec' && childExec.monitorReason).toBe('none');
        const child = evs.filter((e) => e.pid === childExec?.pid);
        expect(child.some((e) => e.kind === 'open' && e.path === file('agent-child'))).toBe(true);
        expect(child.some((e) => e.kind === 'connect' && e.peerPort === peers.tcpPort)).toBe(true);
        expect(monitors(records).some((m) => m.pid === childExec?.pid), 'children are announced by their fork, not a monitor record').toBe(false);

        expect(monitors(records).find((m) => m.pid === custom.proc.pid)).toMatchObject({ reason: 'env_marker', marker: 'ACME_AGENT_TOKEN', partial: false });
        expect(evs.some((e) => e.pid === custom.proc.pid && e.kind === 'open' && e.path === file('custom'))).toBe(true);

        for (const w of [plain, otel, near]) expect(evs.filter((e) => e.pid === w.proc.pid), `pid ${w.proc.pid}`).toEqual([]);
        expect(evs.some((e) => e.kind === 'open' && /env-(plain|otel|near)/.test(e.path))).toBe(false);
        // The marker's value never travels: only the rule's name is in the stream.
        expect(JSON.stringify(records, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : Buffer.isBuffer(v) ? v.toString('latin1') : v))).not.toContain('sk-test-not-a-real-key');
        const stats = finalStats(records)!;
        expect(stats.filtered.notMonitored).toBeGreaterThanOrEqual(3); // at least the three unwatched execs
        expect(stats.perType.exec.helperErrors).toBe(0);
      } finally {
        await sensor.stop();
      }
    });

    it('watches a marked process that ran before the sensor from start-up, with its existing children, marked partial', async () => {
      const parentFile = path.join(tmp, 'pre-parent.txt');
      const childFile = path.join(tmp, 'pre-child.txt');
      writeFileSync(parentFile, 'p');
      writeFileSync(childFile, 'c');
      // The child (bare environment, like an MCP server over stdio) waits on its stdin; the parent on ours.
      const agent = startWorkload(python, ['-c', [
        'import os, subprocess, sys',
        `c = subprocess.Popen([sys.executable, '-c', ${JSON.stringify(`import sys
sys.stdin.readline()
open(${JSON.stringify(childFile)}).read()`)}], stdin=subprocess.PIPE, env={'PATH': os.environ['PATH']})`,
        'print(c.pid, flush=True)',
        'sys.stdin.readline()',
        `open(${JSON.stringify(parentFile)}).read()`,
        "c.stdin.write(b'go\\n'); c.stdin.close(); c.wait()",
      ].join('\n')], { PATH, ANTHROPIC_API_KEY: 'sk-ant-test' });
      let childPid = 0;
      for (let i = 0; i < 200 && !childPid; i++) {
        childPid = Number(agent.output.join('').trim().split('\n')[0]) || 0;
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(childPid, agent.output.join('')).toBeGreaterThan(0);
      const sensor = startSensor(['--stats-interval-ms', '0', '--no-ssl']);
      try {
        await sensor.waitFor((r) => r.kind === 'log' && r.code === 'ready');
        const roots = monitors(sensor.records);
        expect(roots.find((m) => m.pid === agent.proc.pid)).toMatchObject({ reason: 'env_marker', marker: 'ANTHROPIC_*', partial: true, atStart: true });
        expect(roots.find((m) => m.pid === childPid)).toMatchObject({ reason: 'inherited', ppid: agent.proc.pid, partial: true, atStart: true });
        const started = roots.find((m) => m.pid === agent.proc.pid)!;
        expect(started.startUnixNano! < started.sinceUnixNano!, `started ${started.startUnixNano} before monitoring began ${started.sinceUnixNano}`).toBe(true);
        agent.proc.stdin!.write('go\n');
        expect(await agent.exit, agent.output.join('')).toBe(0);
        await sensor.waitFor((r) => r.kind === 'exit' && r.pid === agent.proc.pid);
        const { records } = await sensor.stop();
        const evs = events(records);
        expect(evs.some((e) => e.pid === agent.proc.pid && e.kind === 'open' && e.path === parentFile)).toBe(true);
        expect(evs.some((e) => e.pid === childPid && e.kind === 'open' && e.path === childFile)).toBe(true);
      } finally {
        agent.proc.kill();
        await sensor.stop();
      }
    });
  });
});
