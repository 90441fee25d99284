// The ebpf receiver without a kernel: availability decisions, lifecycle, and the data path fed with
// synthetic frames over socket mode (conversion, batching, backpressure, gap on reconnect); socket mode
// needs the built sensor binary, whose --peercred mode reads each connection's peer credentials.

import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { PermanentError } from '../../pipeline/consumer.js';
import { GAP_ATTR, SENSOR_GAP_EVENT } from './convert.js';
import { EbpfReceiver } from './ebpf-receiver.js';
import {
  connectEventPayload,
  encodeFrame,
  execEventPayload,
  logPayload,
  openEventPayload,
  statsPayload,
  streamHeaderPayload,
  tlsEventPayload,
} from './frame-fixtures.js';
import { CONSTANTS as C } from './layout.js';
import { SENSOR } from './testdata/kernel-harness.js';
import { collector, config, testSettings } from './testdata/receiver-harness.js';
import { createHost } from '../../pipeline/host.js';

const host = createHost((err) => {
  throw err;
});
const BOOT_OFFSET = 1_700_000_000_000_000_000n;
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('availability', () => {
  test('missing sensor binary: one clear log line, start resolves, OTLP would keep running', async () => {
    const settings = testSettings();
    const r = new EbpfReceiver(settings, config({ sensor: { path: '/nonexistent/aibom-sensor' } }), { logs: collector() });
    await expect(r.start(host)).resolves.toBeUndefined();
    const msg = 'eBPF sensor disabled: sensor binary /nonexistent/aibom-sensor not found (build it with make -C bpf, or set sensor.path)';
    expect(settings.lines.map((l) => [l.level, l.msg])).toEqual([[40, msg]]);
    expect(r.running).toBe(false);
    expect(r.disabledReason).toBe(msg);
    await expect(r.monitorPid(1)).rejects.toThrow(`eBPF sensor is not running: ${msg}`);
    await r.shutdown();
  });

  test('required: start rejects with that message', async () => {
    const settings = testSettings();
    const r = new EbpfReceiver(settings, config({ required: true, sensor: { path: '/nonexistent/aibom-sensor' } }), { logs: collector() });
    await expect(r.start(host)).rejects.toThrow('receiver ebpf: eBPF sensor disabled: sensor binary /nonexistent/aibom-sensor not found');
    await r.shutdown();
  });

  test('a sensor that exits before ready: its exit code becomes the message', async () => {
    const settings = testSettings();
    // /bin/false exits 1 like a sensor that rejected its arguments.
    const r = new EbpfReceiver(settings, config({ sensor: { path: '/bin/false' } }), { logs: collector() });
    await r.start(host);
    expect(settings.lines.filter((l) => l.level >= 40).map((l) => l.msg)).toEqual(['eBPF sensor disabled: the sensor rejected its arguments (exit 1)']);
    await r.shutdown();
  });

  test('shutdown without start, twice', async () => {
    const r = new EbpfReceiver(testSettings(), config({}), { logs: collector() });
    await r.shutdown();
    await r.shutdown();
    await expect(r.start(host)).resolves.toBeUndefined(); // after shutdown: a no-op
    expect(r.running).toBe(false);
  });
});

describe('socket mode with synthetic frames', () => {
  // The receiver reads a connection's peer credentials with the built sensor (`--peercred`, no BPF).
  if (!existsSync(SENSOR)) throw new Error(`${SENSOR} is missing: run make -C bpf (socket mode checks peers with it)`);

  function setup(raw: Record<string, unknown> = {}) {
    const dir = mkdtempSync(path.join(tmpdir(), 'ebpf-sock-'));
    const socketPath = path.join(dir, 'sensor.sock');
    const settings = testSettings();
    const sink = collector();
    const r = new EbpfReceiver(settings, config({ mode: 'socket', socket: { path: socketPath }, batch: { timeout: '10ms' }, ...raw }), { logs: sink });
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    cleanup.push(() => r.shutdown());
    return { r, sink, settings, socketPath };
  }

  /** A fake sensor: stream header + ready, then the given payloads as event frames. */
  async function connectSensor(socketPath: string, events: Buffer[], extra: Buffer[] = [], bootOffset = BOOT_OFFSET): Promise<net.Socket> {
    const c = net.connect(socketPath);
    await once(c, 'connect');
    let seq = 0;
    const frames = [encodeFrame(C.FRAME_STREAM_HEADER, streamHeaderPayload(bootOffset), seq++), encodeFrame(C.FRAME_LOG, logPayload(1, 1, 'ready'), seq++)];
    for (const e of events) frames.push(encodeFrame(C.FRAME_EVENT, e, seq++));
    for (const e of extra) frames.push(encodeFrame(C.FRAME_STATS, e, seq++));
    c.write(Buffer.concat(frames));
    cleanup.push(() => c.destroy());
    return c;
  }

  const metric = (s: ReturnType<typeof testSettings>, name: string, labels: Record<string, string> = {}) =>
    s.metrics.value(s.metrics.registry.getSingleMetric(name) as never, labels);

  test('events become log records grouped per process; exec starts a new resource; the collector is dropped', async () => {
    const { r, sink, settings, socketPath } = setup({ capture_payload: true });
    await r.start(host);
    const tls = Buffer.from(
      'POST /v1/chat/completions HTTP/1.1\r\nHost: api.example.com\r\nAuthorization: Bearer sk-test-123\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\nContent-Length: 12\r\n\r\n{"model":"m"}',
    );
    await connectSensor(
      socketPath,
      [
        openEventPayload({ pid: 4000001, path: '/data/faq.md' }),
        execEventPayload({ pid: 4000001, ppid: 1, filename: '/usr/bin/python3', args: ['python3', 'agent.py'] }),
        openEventPayload({ pid: 4000001, path: '/nope', ret: -2 }),
        connectEventPayload({ pid: 4000001, daddr: [10, 0, 0, 7], dport: 8080 }),
        tlsEventPayload({ pid: 4000002, data: tls }),
        openEventPayload({ pid: process.pid, path: '/self' }),
      ],
      [statsPayload(6, 2)],
    );
    await sink.waitFor((x) => x.rec.eventName === 'aibom.kernel.tls');
    const all = sink.rows();
    expect(all.map((x) => x.rec.body?.stringValue)).toEqual([
      'open /data/faq.md',
      'exec /usr/bin/python3',
      'open /nope',
      'connect 10.0.0.7:8080',
      'tls write POST /v1/chat/completions',
    ]);
    const rl = sink.batches.flatMap((b) => b.resourceLogs);
    expect(rl).toHaveLength(3); // pid before exec, pid after exec, the other pid
    const [before, after] = [all[0]!, all[1]!];
    expect(before.res['process.executable.path']).toBeUndefined(); // no such process in /proc
    expect(after.res).toMatchObject({
      'process.pid': 4000001,
      'process.parent_pid': 1,
      'process.executable.name': 'python3',
      'process.executable.path': '/usr/bin/python3',
      'process.command_args': ['python3', 'agent.py'],
      'service.name': 'unknown_service:python3',
      'process.user.id': 0,
    });
    expect(all[0]!.time).toBe(BOOT_OFFSET + 1_000_000_000n); // ktime + boot offset
    expect(all[0]!.attrs).toMatchObject({ 'file.path': '/data/faq.md', 'aibom.file.result': 3, 'thread.id': 4000001, 'aibom.kernel.cgroup_id': 1 });
    expect(all[2]!.attrs).toMatchObject({ 'aibom.file.result': -2, 'error.type': 'ENOENT' });
    expect(all[3]!.attrs).toMatchObject({ 'network.transport': 'tcp', 'network.type': 'ipv4', 'server.address': '10.0.0.7', 'server.port': 8080, 'aibom.network.result': 0, 'aibom.network.in_progress': false });
    expect(all[4]!.attrs).toMatchObject({
      'aibom.wire.traceparent': '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      'aibom.wire.traceparent_source': 'tls',
      'http.request.method': 'POST',
      'url.path': '/v1/chat/completions',
      'server.address': 'api.example.com',
      'http.request.body.size': 12,
      'aibom.tls.direction': 'write',
      'aibom.payload.size': tls.length,
    });
    expect(all[4]!.attrs['aibom.payload.text']).toContain('Authorization: [REDACTED]\r\n');
    expect(String(all[4]!.attrs['aibom.payload.text'])).not.toContain('sk-test-123');
    expect(all.some((x) => x.res['process.pid'] === process.pid)).toBe(false);
    expect(await metric(settings, 'aibom_ebpf_dropped_events_total', { reason: 'self' })).toBe(1);
    expect(await metric(settings, 'aibom_ebpf_events_received_total')).toBe(5);
    expect(await metric(settings, 'aibom_ebpf_kernel_events_total', { type: 'open', outcome: 'ring_drop' })).toBe(2);
    expect(await metric(settings, 'aibom_ebpf_kernel_filtered_total', { reason: 'not_monitored' })).toBe(7);
    expect(await metric(settings, 'aibom_ebpf_sensor_up')).toBe(1);
  });

  test('batch.max_events splits batches; a permanent error drops and counts the batch', async () => {
    const { r, sink, settings, socketPath } = setup({ batch: { max_events: 3, timeout: '1s' }, max_pending_events: 100 });
    let calls = 0;
    const consume = sink.consume.bind(sink);
    sink.consume = async (d) => {
      if (++calls === 1) throw new PermanentError('bad');
      return consume(d);
    };
    await r.start(host);
    await connectSensor(socketPath, Array.from({ length: 9 }, (_, i) => openEventPayload({ pid: 4000100, path: `/f${i}` })));
    await sink.waitFor((x) => x.attrs['file.path'] === '/f8');
    expect(sink.batches.map((b) => b.resourceLogs[0]!.scopeLogs[0]!.logRecords.length)).toEqual([3, 3]);
    expect(await metric(settings, 'aibom_ebpf_dropped_events_total', { reason: 'permanent_error' })).toBe(3);
    expect(await metric(settings, 'aibom_ebpf_log_records_sent_total')).toBe(6);
  });

  test('batch.timeout counts from when the oldest event happened: events the sensor held that long go on at once, recent ones wait the rest', async () => {
    const old = setup({ batch: { timeout: '2s' } });
    await old.r.start(host);
    const t0 = Date.now();
    // The fixtures' events happen 1 s after the boot offset: in 2023 with the default one.
    await connectSensor(old.socketPath, [openEventPayload({ pid: 4000300, path: '/old' })]);
    await old.sink.waitFor((x) => x.attrs['file.path'] === '/old', 1500);
    expect(Date.now() - t0).toBeLessThan(1500);
    const recent = setup({ batch: { timeout: '2s' } });
    await recent.r.start(host);
    const t1 = Date.now();
    await connectSensor(recent.socketPath, [openEventPayload({ pid: 4000301, path: '/recent' })], [], BigInt(t1) * 1_000_000n - 1_000_000_000n);
    await new Promise((res) => setTimeout(res, 1000));
    expect(recent.sink.rows()).toEqual([]);
    await recent.sink.waitFor((x) => x.attrs['file.path'] === '/recent', 3000);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(1900);
  });

  test('backpressure: while refused, the oldest batches beyond max_pending_events are dropped and counted exactly', async () => {
    const { r, sink, settings, socketPath } = setup({ batch: { max_events: 10, timeout: '5ms' }, max_pending_events: 30 });
    sink.refuse = true;
    await r.start(host);
    await connectSensor(socketPath, Array.from({ length: 95 }, (_, i) => openEventPayload({ pid: 4000200, path: `/g${i}` })));
    const until = Date.now() + 5000;
    while ((await metric(settings, 'aibom_ebpf_events_received_total')) < 95 && Date.now() < until) await new Promise((res) => setTimeout(res, 10));
    await new Promise((res) => setTimeout(res, 50));
    // Whole batches are dropped, oldest first (never the one being sent): pending stays within the bound.
    const pending = r.pendingCount;
    const dropped = await metric(settings, 'aibom_ebpf_dropped_events_total', { reason: 'pipeline_full' });
    expect(pending).toBeLessThanOrEqual(30);
    expect(pending).toBeGreaterThanOrEqual(20);
    expect(dropped + pending).toBe(95);
    expect(await metric(settings, 'aibom_ebpf_pending_events')).toBe(pending);
    sink.refuse = false;
    await sink.waitFor((x) => x.attrs['file.path'] === '/g94', 5000);
    // What survived is the newest events, in order, after the first batch if it was being sent (retried,
    // not waiting) whenever the bound was reached: the receiver hands each batch on as soon as it is due.
    const got = sink.rows().map((x) => x.attrs['file.path']);
    const sent = got[0] === '/g0' ? 10 : 0;
    expect(got).toEqual([...Array.from({ length: sent }, (_, i) => `/g${i}`), ...Array.from({ length: pending - sent }, (_, i) => `/g${95 - pending + sent + i}`)]);
    expect(await metric(settings, 'aibom_ebpf_log_records_sent_total')).toBe(pending);
    expect(r.pendingCount).toBe(0);
  });

  test('a sensor that reconnects after a disconnect: gap record with the times, restart counted', async () => {
    const { r, sink, settings, socketPath } = setup();
    await r.start(host);
    const first = await connectSensor(socketPath, [openEventPayload({ pid: 4000300, path: '/a' })]);
    await sink.waitFor((x) => x.attrs['file.path'] === '/a');
    first.destroy();
    await new Promise((res) => setTimeout(res, 30));
    expect(await metric(settings, 'aibom_ebpf_sensor_up')).toBe(0);
    await connectSensor(socketPath, [openEventPayload({ pid: 4000300, path: '/b' })]);
    const gap = await sink.waitFor((x) => x.rec.eventName === SENSOR_GAP_EVENT);
    expect(gap.rec.severityNumber).toBe(13);
    expect(gap.attrs[GAP_ATTR.reason]).toBe('sensor_reconnect');
    expect(gap.attrs[GAP_ATTR.restartCount]).toBe(1);
    expect(gap.attrs[GAP_ATTR.durationMs]).toBeGreaterThanOrEqual(25);
    expect(gap.res['service.name']).toBe('aibom-sensor');
    expect(gap.res['process.pid']).toBe(4242); // from the fixture's stream header
    await sink.waitFor((x) => x.attrs['file.path'] === '/b');
    expect(await metric(settings, 'aibom_ebpf_sensor_restarts_total')).toBe(1);
  });
});
