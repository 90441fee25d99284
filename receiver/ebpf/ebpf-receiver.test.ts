// The ebpf receiver with the real sensor on the real kernel: OTLP log records of Python and Node workloads,
// socket mode, restart after kill -9, backpressure. Needs root, BTF and `make -C bpf`; skips locally
// without them and FAILS under CI (process.env.CI), where they are available.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KERNEL_SCOPE } from '../../pipeline/semconv.js';
import { EbpfReceiver } from './ebpf-receiver.js';
import { GAP_ATTR, SENSOR_GAP_EVENT } from './convert.js';
import { SensorProcess } from './sensor-process.js';
import { assertKernelPrerequisites, SENSOR, startPeers, startWorkload, TESTDATA, type Peers, type Workload } from './testdata/kernel-harness.js';
import { collector, config, testSettings, type Row } from './testdata/receiver-harness.js';
import { createHost } from '../../pipeline/host.js';

assertKernelPrerequisites();
const host = createHost((err) => {
  throw err;
});
const SECRET = 'Bearer sk-test-123';

/** The container id of this test process (the workloads are its children, so they share it), if any. */
function ownContainerId(): string | undefined {
  const m = /([0-9a-f]{64})/.exec(readFileSync('/proc/self/cgroup', 'latin1'));
  return m?.[1];
}

describe('ebpf receiver on the real kernel', () => {
  let peers!: Peers;
  const cleanup: (() => unknown)[] = [];

  // The interpreter itself, not a wrapper (a pyenv shim would exec it after the pid was added).
  let python = 'python3';
  beforeAll(async () => {
    peers = await startPeers('127.0.0.78');
    python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  });
  afterAll(() => peers?.close());
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  function track(w: Workload): Workload {
    cleanup.push(() => w.proc.kill('SIGKILL'));
    return w;
  }

  function pyWorkload(tag: string, extra: Record<string, unknown> = {}): { w: Workload; cfg: Record<string, unknown> } {
    const cfg = peers.workloadConfig(tag, extra);
    return { w: track(startWorkload(python, [path.join(TESTDATA, 'workload.py'), JSON.stringify(cfg)])), cfg };
  }

  function receiverWith(raw: Record<string, unknown>, refuse = false) {
    const settings = testSettings();
    const sink = collector();
    sink.refuse = refuse;
    const r = new EbpfReceiver(settings, config({ stats_interval: '200ms', batch: { timeout: '50ms' }, ...raw }), { logs: sink });
    cleanup.push(() => r.shutdown());
    return { r, sink, settings };
  }

  function assertProcessRecords(all: Row[], pid: number, cfg: Record<string, unknown>, exitCode: number, tag: string): void {
    const mine = all.filter((x) => x.res['process.pid'] === pid);
    const kinds = (): string => JSON.stringify(mine.map((x) => x.rec.eventName));
    expect(mine.length, `records of ${pid}`).toBeGreaterThan(5);
    for (const x of mine) {
      expect(x.res['process.parent_pid']).toBe(process.pid);
      expect(x.res['service.name']).toBe(`unknown_service:${x.res['process.executable.name']}`);
      expect(x.res['host.name']).toBeTypeOf('string');
      expect(x.res['process.user.id']).toBe(0);
      expect(x.res['container.id']).toBe(ownContainerId());
      expect(x.rec.severityNumber).toBe(9);
      expect(x.attrs['aibom.kernel.seq']).toBeTypeOf('number');
      expect(x.attrs['aibom.kernel.cgroup_id']).toBeTypeOf('number');
      // Epoch conversion from the stream header: within a minute of now.
      expect(Math.abs(Number(x.time / 1_000_000n) - Date.now())).toBeLessThan(60_000);
    }
    // Started before it was monitored: exe path and args were read from /proc when the pid was added.
    expect(String(mine[0]!.res['process.executable.path'])).toMatch(/python|node/);
    // Its argv carries the config, with a credential: redacted at the source, the rest kept.
    expect(mine[0]!.res['process.command_args']).toContain(JSON.stringify({ ...cfg, authorization: '[REDACTED]' }));

    // The child: exec event, then resource from the exec (path + args), parent = workload.
    const exec = all.find((x) => x.rec.eventName === 'aibom.kernel.exec' && x.res['process.parent_pid'] === pid);
    expect(exec, `exec of the child: ${kinds()}`).toBeDefined();
    expect(exec!.res['process.executable.path']).toBe('/bin/echo');
    expect(exec!.res['process.command_args']).toEqual(['/bin/echo', `aibom-child-${tag}`]);
    expect(exec!.attrs['process.executable.path']).toBe('/bin/echo');
    expect(exec!.rec.body?.stringValue).toBe('exec /bin/echo');
    const fork = mine.find((x) => x.rec.eventName === 'aibom.kernel.fork');
    expect(fork?.attrs['aibom.process.child_pid']).toBe(exec!.res['process.pid']);

    const open = mine.find((x) => x.attrs['file.path'] === cfg.file);
    expect(open?.rec.body?.stringValue).toBe(`open ${String(cfg.file)}`);
    expect(open?.attrs['aibom.file.result']).toBeGreaterThanOrEqual(0);
    expect(open?.attrs['aibom.identity.credential']).toBeUndefined();
    const cred = mine.find((x) => x.attrs['file.path'] === cfg.credFile);
    expect(cred?.attrs['aibom.identity.credential']).toBe(true);

    const conn = mine.find((x) => x.rec.eventName === 'aibom.kernel.connect' && x.attrs['network.peer.port'] === cfg.tcpPort);
    expect(conn?.attrs).toMatchObject({
      'network.transport': 'tcp',
      'network.type': 'ipv4',
      'network.peer.address': '127.0.0.1',
      'server.address': '127.0.0.1',
      'server.port': cfg.tcpPort,
    });
    expect(conn?.rec.body?.stringValue).toBe(`connect 127.0.0.1:${String(cfg.tcpPort)}`);

    const dns = mine.find((x) => x.rec.eventName === 'aibom.kernel.dns');
    expect(dns?.attrs).toMatchObject({
      'dns.question.name': cfg.dnsName,
      'aibom.dns.qtype': 'A',
      'network.peer.address': cfg.dnsHost,
      'network.peer.port': 53,
    });

    const tls = mine.find((x) => x.rec.eventName === 'aibom.kernel.tls' && x.attrs['aibom.wire.traceparent'] === cfg.traceparentTls);
    expect(tls, 'TLS write with the traceparent').toBeDefined();
    expect(tls!.attrs).toMatchObject({
      'aibom.wire.traceparent_source': 'tls',
      'aibom.tls.direction': 'write',
      'http.request.method': 'POST',
      'url.path': `/tls-${tag}`,
      'server.address': '127.0.0.1',
      'server.port': peers.tlsPort,
    });
    expect(tls!.attrs['aibom.payload.size']).toBeGreaterThan(0);
    const tlsIn = mine.find((x) => x.rec.eventName === 'aibom.kernel.tls' && x.attrs['aibom.tls.direction'] === 'read' && x.attrs['http.response.status_code'] === 200);
    expect(tlsIn, 'TLS response').toBeDefined();

    const plain = mine.find((x) => x.rec.eventName === 'aibom.kernel.http' && x.attrs['aibom.wire.traceparent'] === cfg.traceparentHttp);
    expect(plain, 'plain HTTP with the traceparent').toBeDefined();
    expect(plain!.attrs).toMatchObject({
      'aibom.wire.traceparent_source': 'http',
      'http.request.method': 'GET',
      'url.path': `/plain-${tag}`,
      'network.peer.port': peers.httpPort,
      'server.port': peers.httpPort,
    });

    const exit = mine.find((x) => x.rec.eventName === 'aibom.kernel.exit');
    expect(exit?.attrs['process.exit.code']).toBe(exitCode);
  }

  it('turns Python and Node workload events into log records per process; payloads redacted; never the collector', async () => {
    const selfComm = readFileSync('/proc/self/comm', 'utf8').trim();
    const { w: py, cfg: pyCfg } = pyWorkload('py', { authorization: SECRET });
    const ndCfg = peers.workloadConfig('node', { authorization: SECRET });
    const nd = track(startWorkload(process.execPath, [path.join(TESTDATA, 'workload.mjs'), JSON.stringify(ndCfg)]));
    const { r, sink, settings } = receiverWith({
      capture_payload: true,
      // The collector's own comm: it would be monitored if --ignore-pid did not work.
      monitor: { pids: [py.proc.pid], comms: [selfComm] },
      credential_paths: [`${peers.credDir}/`],
    });
    await r.start(host);
    expect(r.running, JSON.stringify(settings.lines)).toBe(true);
    await r.monitorPid(nd.proc.pid!);
    py.proc.stdin!.write('go\n');
    nd.proc.stdin!.write('go\n');
    expect(await py.exit, py.output.join('')).toBe(7);
    expect(await nd.exit, nd.output.join('')).toBe(9);
    await sink.waitFor((x) => x.rec.eventName === 'aibom.kernel.exit' && x.res['process.pid'] === py.proc.pid, 20_000, 'python exit');
    await sink.waitFor((x) => x.rec.eventName === 'aibom.kernel.exit' && x.res['process.pid'] === nd.proc.pid, 20_000, 'node exit');
    await r.shutdown();

    const all = sink.rows();
    assertProcessRecords(all, py.proc.pid!, pyCfg, 7, 'py');
    assertProcessRecords(all, nd.proc.pid!, ndCfg, 9, 'node');
    for (const b of sink.batches) for (const rl of b.resourceLogs) expect(rl.scopeLogs[0]!.scope?.name).toBe(KERNEL_SCOPE);

    // The collector itself never appears, and the kernel (not the TypeScript filter) kept it out.
    expect(all.filter((x) => x.res['process.pid'] === process.pid)).toEqual([]);
    expect(await settings.metrics.value(settings.metrics.registry.getSingleMetric('aibom_ebpf_dropped_events_total') as never, { reason: 'self' })).toBe(0);
    const sensorPids = new Set(all.map((x) => x.res['process.pid']));
    expect(sensorPids.has(r.sensorPid)).toBe(false);

    // capture_payload: the plaintext is attached, the credential is not.
    const payloads = all.map((x) => x.attrs['aibom.payload.text']).filter((t): t is string => typeof t === 'string');
    expect(payloads.length).toBeGreaterThan(0);
    expect(payloads.join('\n')).not.toContain('sk-test-123');
    expect(JSON.stringify(all.map((x) => [x.res, x.attrs]))).not.toContain('sk-test-123'); // argv too
    const withAuth = payloads.filter((t) => /authorization: /i.test(t));
    expect(withAuth.length).toBeGreaterThanOrEqual(2);
    for (const t of withAuth) expect(t).toMatch(/authorization: \[REDACTED\]/i);

    // Metrics mirror the sensor's counters and the receiver's own.
    const text = await settings.metrics.registry.metrics();
    expect(text).toMatch(/aibom_ebpf_events_received_total\{component="ebpf",kind="tls"\} [1-9]/);
    expect(text).toMatch(/aibom_ebpf_kernel_events_total\{component="ebpf",type="open",outcome="emitted"\} [1-9]/);
    expect(text).toMatch(/aibom_ebpf_event_lag_seconds_count\{component="ebpf"\} [1-9]/);
    expect(text).toMatch(/aibom_ebpf_log_records_sent_total\{component="ebpf"\} [1-9]/);
    const lagSum = Number(/aibom_ebpf_event_lag_seconds_sum\{component="ebpf"\} (\S+)/.exec(text)![1]);
    const lagCount = Number(/aibom_ebpf_event_lag_seconds_count\{component="ebpf"\} (\S+)/.exec(text)![1]);
    console.log(`lag: mean ${((lagSum / lagCount) * 1000).toFixed(1)} ms over ${lagCount} events`);
  });

  it('says why and how completely each process is watched: env marker at exec (complete), discovered from telemetry (partial), children (complete)', async () => {
    const { r, sink, settings } = receiverWith({ monitor: { discover: true }, tls: false });
    const h = createHost();
    await r.start(h);
    expect(r.running, JSON.stringify(settings.lines)).toBe(true);
    // An agent started now with an API key in its environment, and one nothing recognises until its telemetry arrives.
    const marked = track(startWorkload(python, [path.join(TESTDATA, 'workload.py'), JSON.stringify(peers.workloadConfig('marked'))], { PATH: process.env.PATH, OPENAI_API_KEY: 'sk-test-cov' }));
    const { w: told, cfg } = pyWorkload('told');
    h.workloads.announce({ pid: told.proc.pid!, evidence: { kind: 'otlp_connection', holderPid: told.proc.pid! }, reason: 'llm span "chat" of test' });
    for (let i = 0; i < 200 && !settings.lines.some((l) => l.msg === 'monitoring workload discovered from its telemetry'); i++) await new Promise((res) => setTimeout(res, 50));
    expect(settings.lines.map((l) => l.msg), 'the discovery acknowledged').toContain('monitoring workload discovered from its telemetry');
    marked.proc.stdin!.write('go\n');
    told.proc.stdin!.write('go\n');
    expect(await marked.exit, marked.output.join('')).toBe(7);
    expect(await told.exit, told.output.join('')).toBe(7);
    for (const w of [marked, told]) await sink.waitFor((x) => x.rec.eventName === 'aibom.kernel.exit' && x.res['process.pid'] === w.proc.pid, 20_000, 'exit');
    await r.shutdown();
    const all = sink.rows();
    const of = (pid: number) => all.filter((x) => x.res['process.pid'] === pid);
    for (const x of of(marked.proc.pid!)) {
      expect(x.res).toMatchObject({ 'aibom.monitor.reason': 'env_marker', 'aibom.monitor.env_marker': 'OPENAI_*', 'aibom.monitor.coverage': 'complete' });
    }
    expect(of(marked.proc.pid!)[0]!.rec.eventName).toBe('aibom.kernel.exec');
    const toldRecs = of(told.proc.pid!);
    expect(toldRecs.some((x) => x.attrs['file.path'] === cfg.file)).toBe(true);
    for (const x of toldRecs) {
      expect(x.res).toMatchObject({ 'aibom.monitor.reason': 'discovered', 'aibom.monitor.coverage': 'partial', 'aibom.monitor.partial_reason': 'discovered_from_telemetry' });
      expect(x.res['aibom.monitor.since_unix_nano']).toBeDefined();
    }
    // Children forked after monitoring began are seen from their first instruction.
    for (const parent of [marked.proc.pid, told.proc.pid]) {
      const child = all.find((x) => x.rec.eventName === 'aibom.kernel.exec' && x.res['process.parent_pid'] === parent);
      expect(child?.res, `child of ${parent}`).toMatchObject({ 'aibom.monitor.reason': 'inherited', 'aibom.monitor.coverage': 'complete' });
    }
  });

  // The race a 200 ms poll exposed (default-coverage.test.ts lost an MCP server's args): a process found by
  // the start-up scan whose first event comes just before it exits is gone, or a zombie, when that event is
  // converted; so is a forked child that never execs. Their identity must not depend on /proc by then.
  it('processes that ran before the sensor, and children forked without exec, keep exe and args when they exit before a 200 ms poll delivers their first event', async () => {
    const file = path.join(peers.tmp, 'known-file.txt');
    const fifo = path.join(peers.tmp, `early-child-${process.pid}.fifo`);
    execFileSync('mkfifo', [fifo]);
    cleanup.push(() => execFileSync('rm', ['-f', fifo]));
    // A marked agent (env marker, found by the scan) with a child it started before the sensor (inherited at
    // start). Each one's first event after the sensor starts is an open just before it exits; the agent's
    // subshell forks, opens and exits without an exec.
    const child = `read a < ${fifo}; read b < ${file}; exit 4 # early-child`;
    const script = `sh -c '${child}' & echo started; read x; read y < ${file}; ( read z < ${file} ); wait $!; exit 3`;
    const agent = track(startWorkload('/bin/sh', ['-c', script, 'early-agent'], { PATH: process.env.PATH, OPENAI_API_KEY: 'sk-test-early' }));
    for (let i = 0; i < 100 && !agent.output.join('').includes('started'); i++) await new Promise((res) => setTimeout(res, 20));
    const { r, sink, settings } = receiverWith({ poll_interval: '200ms', tls: false });
    await r.start(host);
    expect(r.running, JSON.stringify(settings.lines)).toBe(true);
    agent.proc.stdin!.write('go\n');
    writeFileSync(fifo, 'go\n'); // blocks until the child opened it for reading
    expect(await agent.exit, agent.output.join('')).toBe(3);
    await sink.waitFor((x) => x.rec.eventName === 'aibom.kernel.exit' && x.res['process.pid'] === agent.proc.pid, 20_000, 'exit of the agent');
    await r.shutdown();
    const all = sink.rows();
    const opensOf = (pred: (x: Row) => boolean) => all.filter((x) => x.attrs['file.path'] === file && pred(x));
    const agentOpens = opensOf((x) => x.res['process.pid'] === agent.proc.pid);
    // The child found at start is partial, the subshell forked later complete.
    const childOpens = opensOf((x) => x.res['process.parent_pid'] === agent.proc.pid && x.res['aibom.monitor.coverage'] === 'partial');
    const subshellOpens = opensOf((x) => x.res['process.parent_pid'] === agent.proc.pid && x.res['aibom.monitor.coverage'] === 'complete');
    const outline = JSON.stringify(opensOf(() => true).map((x) => x.res));
    expect(agentOpens.length, outline).toBe(1);
    expect(agentOpens[0]!.res, outline).toMatchObject({ 'process.executable.path': '/usr/bin/dash', 'aibom.monitor.reason': 'env_marker', 'aibom.monitor.partial_reason': 'started_before_sensor' });
    expect(agentOpens[0]!.res['process.command_args'], outline).toEqual(['/bin/sh', '-c', script, 'early-agent']);
    expect(childOpens.length, outline).toBe(1);
    expect(childOpens[0]!.res, outline).toMatchObject({ 'process.executable.path': '/usr/bin/dash', 'aibom.monitor.reason': 'inherited', 'aibom.monitor.partial_reason': 'started_before_sensor' });
    expect(childOpens[0]!.res['process.command_args'], outline).toEqual(['sh', '-c', child]);
    // The subshell is the agent's image: same exe and args, watched from its fork.
    expect(subshellOpens.length, outline).toBe(1);
    expect(subshellOpens[0]!.res, outline).toMatchObject({ 'process.executable.path': '/usr/bin/dash', 'aibom.monitor.reason': 'inherited', 'aibom.monitor.coverage': 'complete' });
    expect(subshellOpens[0]!.res['process.command_args'], outline).toEqual(['/bin/sh', '-c', script, 'early-agent']);
  });

  it('capture_payload false: no payload text at all', async () => {
    const { w, cfg } = pyWorkload('nopayload', { authorization: SECRET });
    const { r, sink } = receiverWith({ monitor: { pids: [w.proc.pid] } });
    await r.start(host);
    w.proc.stdin!.write('go\n');
    expect(await w.exit).toBe(7);
    await sink.waitFor((x) => x.rec.eventName === 'aibom.kernel.exit' && x.res['process.pid'] === w.proc.pid);
    await r.shutdown();
    const all = sink.rows();
    expect(all.some((x) => x.attrs['aibom.wire.traceparent'] === cfg.traceparentTls)).toBe(true);
    expect(all.filter((x) => 'aibom.payload.text' in x.attrs)).toEqual([]);
    expect(JSON.stringify(all.map((x) => x.attrs))).not.toContain('sk-test-123');
  });

  /** A Python process that opens `file` every 50 ms until killed. */
  function ticker(file: string): Workload {
    return track(startWorkload('python3', ['-c', `import time\nwhile True:\n  open(${JSON.stringify(file)}).read()\n  time.sleep(0.05)`]));
  }

  it('restarts a sensor killed with SIGKILL, emits the gap record, and events flow again', async () => {
    const file = path.join(peers.tmp, 'known-file.txt');
    const w = ticker(file);
    const { r, sink } = receiverWith({ restart: { initial_interval: '200ms', max_interval: '1s' }, dedupe_window: '0s', tls: false });
    await r.start(host);
    await r.monitorPid(w.proc.pid!); // added at runtime: must survive the restart
    await sink.waitFor((x) => x.res['process.pid'] === w.proc.pid && x.attrs['file.path'] === file);
    const old = r.sensorPid!;
    process.kill(old, 'SIGKILL');
    const gap = await sink.waitFor((x) => x.rec.eventName === SENSOR_GAP_EVENT, 20_000, 'gap record');
    expect(gap.rec.severityNumber).toBe(13);
    expect(gap.attrs[GAP_ATTR.exitSignal]).toBe('SIGKILL');
    expect(gap.attrs[GAP_ATTR.restartCount]).toBe(1);
    expect(gap.attrs[GAP_ATTR.reason]).toBe('sensor_restart');
    expect(gap.res['process.pid']).toBe(old);
    const end = BigInt(gap.attrs[GAP_ATTR.end] as number);
    expect(BigInt(gap.attrs[GAP_ATTR.start] as number)).toBeLessThan(end);
    expect(r.sensorPid).not.toBe(old);
    await sink.waitFor((x) => x.res['process.pid'] === w.proc.pid && x.attrs['file.path'] === file && x.time > end, 20_000, 'an open after the restart');
  });

  it('socket mode: a separately started sensor connects; a reconnect after kill -9 is a gap record', async () => {
    const file = path.join(peers.tmp, 'known-file.txt');
    const w = ticker(file);
    const socketPath = path.join(peers.tmp, 'sensor.sock');
    const { r, sink } = receiverWith({ mode: 'socket', socket: { path: socketPath } });
    await r.start(host);
    const sensorArgs = ['--socket', socketPath, '--pid', String(w.proc.pid), '--no-ssl', '--dedupe-ms', '0', '--stats-interval-ms', '200'];
    const first = new SensorProcess({ path: SENSOR, args: sensorArgs, onRecords: () => {} });
    cleanup.push(() => first.stop());
    await sink.waitFor((x) => x.res['process.pid'] === w.proc.pid && x.attrs['file.path'] === file, 20_000, 'an open over the socket');
    first.proc.kill('SIGKILL');
    await first.closed;
    const second = new SensorProcess({ path: SENSOR, args: sensorArgs, onRecords: () => {} });
    cleanup.push(() => second.stop());
    const gap = await sink.waitFor((x) => x.rec.eventName === SENSOR_GAP_EVENT, 20_000, 'gap record');
    expect(gap.attrs[GAP_ATTR.reason]).toBe('sensor_reconnect');
    const end = BigInt(gap.attrs[GAP_ATTR.end] as number);
    await sink.waitFor((x) => x.res['process.pid'] === w.proc.pid && x.attrs['file.path'] === file && x.time > end, 20_000, 'an open after the reconnect');
    await expect(r.monitorPid(1)).rejects.toThrow(/mode: spawn/);
  });

  it('backpressure: a refusing pipeline holds at most max_pending_events; every event is sent, pending or counted', async () => {
    const n = 400;
    const w = track(
      startWorkload('python3', ['-c', `import sys\nsys.stdin.readline()\nfor i in range(${n}): open(${JSON.stringify(path.join(peers.tmp, 'known-file.txt'))}).read()`]),
    );
    const { r, sink, settings } = receiverWith({ dedupe_window: '0s', tls: false, batch: { max_events: 10, timeout: '20ms' }, max_pending_events: 25, monitor: { pids: [w.proc.pid] } }, true);
    await r.start(host);
    w.proc.stdin!.write('go\n');
    expect(await w.exit).toBe(0);
    const m = settings.metrics;
    const get = (name: string, labels: Record<string, string> = {}): Promise<number> => m.value(m.registry.getSingleMetric(name) as never, labels);
    // Wait for the exit event to be decoded (it is the last event of the workload).
    const until = Date.now() + 20_000;
    while ((await get('aibom_ebpf_events_received_total', { kind: 'exit' })) < 1 && Date.now() < until) await new Promise((res) => setTimeout(res, 50));
    await new Promise((res) => setTimeout(res, 100)); // batch timer
    const received = await get('aibom_ebpf_events_received_total');
    const dropped = await get('aibom_ebpf_dropped_events_total', { reason: 'pipeline_full' });
    expect(received).toBeGreaterThanOrEqual(n);
    expect(sink.batches).toEqual([]);
    expect(sink.attempts).toBeGreaterThan(0);
    expect(r.pendingCount).toBeLessThanOrEqual(25);
    expect(dropped + r.pendingCount).toBe(received);
    expect(await get('aibom_ebpf_pending_events')).toBe(r.pendingCount);
    const pendingBefore = r.pendingCount;
    await r.shutdown();
    expect(await get('aibom_ebpf_dropped_events_total', { reason: 'shutdown' })).toBe(pendingBefore);
    expect(await get('aibom_ebpf_dropped_events_total')).toBe(received);
  });
});
