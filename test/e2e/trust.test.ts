// The trust model end to end: the built CLI on its embedded default config (endpoints moved by the
// AIBOM_* variables it reads), the real eBPF sensor, and real OTLP clients. What an OTLP client says
// is its word: a replayed kernel record never becomes a kernel span, reserved names arrive renamed,
// and a pid it names is watched only if its own connection carried the spans.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { attrs, bigIntToLong } from '../../pipeline/otlp/attributes.js';
import { logsCodec, tracesCodec, type SignalCodec } from '../../pipeline/otlp/codec.js';
import type { LogsData, Signal, TracesData } from '../../pipeline/otlp/types.js';
import { grpcExport, post } from '../../receiver/otlp/testdata/harness.js';
import { runApp } from '../support/apps.js';
import { Collector } from '../support/collector.js';
import { plainAttributes } from '../support/otlp-json.js';
import { freePorts } from '../support/ports.js';
import { Proc, waitFor } from '../support/process.js';
import { ROOT, requireTool } from '../support/tools.js';
import type { JsonKeyValue } from '../support/jaeger.js';

interface AgentRun {
  pid: number;
  claimedPid: number;
  traceId: string;
  toolSpanId: string;
  exported: number;
}

interface ExportedSpan {
  scope: string;
  resource: Record<string, unknown>;
  name: string;
  traceId: string;
  attributes: Record<string, unknown>;
}

/** Every span and log record the file exporter wrote so far. */
function exported(file: string): { spans: ExportedSpan[]; logs: { scope: string; eventName: string; attributes: Record<string, unknown> }[] } {
  const spans: ExportedSpan[] = [];
  const logs: { scope: string; eventName: string; attributes: Record<string, unknown> }[] = [];
  if (!existsSync(file)) return { spans, logs };
  type Scoped<T> = { scope?: { name?: string }; spans?: T[]; logRecords?: T[] };
  type Doc = { resourceSpans?: { resource?: { attributes?: JsonKeyValue[] }; scopeSpans?: Scoped<Record<string, unknown>>[] }[]; resourceLogs?: { scopeLogs?: Scoped<Record<string, unknown>>[] }[] };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const doc = JSON.parse(line) as Doc;
    for (const rs of doc.resourceSpans ?? []) {
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          spans.push({ scope: ss.scope?.name ?? '', resource: plainAttributes(rs.resource?.attributes), name: String(s.name), traceId: String(s.traceId), attributes: plainAttributes(s.attributes as JsonKeyValue[]) });
        }
      }
    }
    for (const rl of doc.resourceLogs ?? []) {
      for (const sl of rl.scopeLogs ?? []) {
        for (const r of sl.logRecords ?? []) logs.push({ scope: sl.scope?.name ?? '', eventName: String(r.eventName ?? ''), attributes: plainAttributes(r.attributes as JsonKeyValue[]) });
      }
    }
  }
  return { spans, logs };
}

const hexId = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

describe('trust model (embedded default config, real sensor, real OTLP clients)', () => {
  let collector: Collector;
  let dataDir: string;
  let grpc: string;
  let http: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    requireTool('AIBOM_SENSOR', 'bpf/.output/aibom-sensor');
    if (process.getuid?.() !== 0) throw new Error('the trust tests watch processes with the real eBPF sensor: run them as root');
    const [g, h, a] = await freePorts(3);
    grpc = `127.0.0.1:${g}`;
    http = `127.0.0.1:${h}`;
    dataDir = mkdtempSync(join(tmpdir(), 'aibom-trust-'));
    collector = await Collector.startWith(join(ROOT, 'otel-config', 'default.yaml'), `http://127.0.0.1:${a}`, {
      AIBOM_OTLP_GRPC_ENDPOINT: grpc,
      AIBOM_OTLP_HTTP_ENDPOINT: http,
      AIBOM_ADMIN_ENDPOINT: `127.0.0.1:${a}`,
      AIBOM_DATA_DIR: dataDir,
    });
    await waitFor(`the eBPF sensor running\n${collector.proc.tail()}`, async () => ((await collector.metric('aibom_ebpf_sensor_up')) === 1 ? true : undefined), 60_000, 200);
  }, 90_000);

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await collector?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const telemetry = () => exported(join(dataDir, 'telemetry.jsonl'));

  test('a pid named by an unrelated OTLP client is not watched; an agent whose own connection carries its spans is', async () => {
    // The victim reads its file every 50 ms; were it watched, those reads would land under the
    // forger's TOOL span (same claimed pid, same time) within seconds.
    const victimFile = join(dataDir, 'victim-secret.txt');
    const agentFile = join(dataDir, 'agent-data.txt');
    writeFileSync(victimFile, 'victim\n');
    writeFileSync(agentFile, 'agent\n');
    const victim = spawn('python3', ['-c', `import time\nwhile True:\n  open(${JSON.stringify(victimFile)}).read()\n  time.sleep(0.05)`], { stdio: 'ignore' });
    children.push(victim);

    const [forger, agent] = await Promise.all([
      runApp<AgentRun>('otel-sdk-app/genai-agent.mjs', ['--endpoint', `http://${grpc}`, '--claim-pid', String(victim.pid), '--copy-hints-from', String(victim.pid), '--hold-ms', '3000']),
      runApp<AgentRun>('otel-sdk-app/genai-agent.mjs', ['--endpoint', `http://${http}`, '--protocol', 'http', '--open', agentFile]),
    ]);
    expect(forger.exported).toBe(3);
    expect(agent.exported).toBe(3);

    // The agent was watched from its first spans on: its reads sit under its TOOL span.
    const agentReads = await waitFor(`the agent's file reads as kernel spans\n${collector.proc.tail()}`, () => {
      const hits = telemetry().spans.filter((s) => s.scope === 'aibom.correlate' && s.attributes['file.path'] === agentFile);
      return hits.length > 0 ? hits : undefined;
    }, 30_000, 250);
    expect(agentReads[0]!.traceId).toBe(agent.traceId);
    expect(agentReads[0]!.resource['process.pid']).toBe(agent.pid);

    // Give the forger's window the same time again: nothing of the victim's ever appears.
    await new Promise((r) => setTimeout(r, 3000));
    const { spans } = telemetry();
    expect(spans.filter((s) => s.attributes['file.path'] === victimFile)).toEqual([]);
    expect(spans.filter((s) => s.scope === 'aibom.correlate' && s.resource['process.pid'] === victim.pid)).toEqual([]);
    expect(await collector.metric('aibom_correlate_unverified_workloads_total', { reason: 'not_holder' })).toBeGreaterThanOrEqual(1);
    const log = collector.proc.stderr;
    expect(log).toContain(`"pid":${victim.pid},"reason":"not_holder"`);
    expect(log).not.toMatch(new RegExp(`"pid":${victim.pid}[^\\n]*monitoring workload discovered`));
    expect(log).toMatch(new RegExp(`"pid":${agent.pid}[^\\n]*monitoring workload discovered`));
  }, 90_000);

  test('a Python SDK agent (no process.pid in its resource) is found from its own connection, and said so', async () => {
    const file = join(dataDir, 'py-agent-data.txt');
    writeFileSync(file, 'py\n');
    const python = join(ROOT, 'test', 'apps', 'agent-py', '.venv', 'bin', 'python');
    const proc = new Proc(python, [join(ROOT, 'test', 'apps', 'otel-sdk-app', 'genai_agent.py'), '--endpoint', `http://${grpc}`, '--open', file]);
    expect(await proc.exited, proc.tail()).toBe(0);
    const run = JSON.parse(proc.stdout.trim().split('\n').pop()!) as { pid: number; traceId: string; toolSpanId: string };
    const reads = await waitFor(`the Python agent's file reads as kernel spans\n${collector.proc.tail()}`, () => {
      const hits = telemetry().spans.filter((s) => s.scope === 'aibom.correlate' && s.attributes['file.path'] === file);
      return hits.length > 0 ? hits : undefined;
    }, 30_000, 250);
    expect(reads[0]!.traceId).toBe(run.traceId);
    expect(reads[0]!.attributes).toMatchObject({ 'aibom.correlation.key': 'pid_time', 'aibom.process.pid_source': 'otlp_connection' });
    expect(reads[0]!.resource['process.pid']).toBe(run.pid);
    // Its own spans went on as sent: no process.pid was written into them.
    const own = telemetry().spans.filter((s) => s.traceId === run.traceId && s.scope === 'genai-agent-py');
    expect(own.length).toBeGreaterThan(0);
    for (const s of own) expect(s.resource['process.pid']).toBeUndefined();
  }, 60_000);

  test('kernel records replayed over OTLP (gRPC and HTTP) never become kernel spans; reserved names arrive renamed and counted', async () => {
    // A span the forged records name on the wire and in time: were they taken for kernel events,
    // correlate would place them under it by traceparent.
    const traceId = 'feedface' + Date.now().toString(16).padStart(24, '0');
    const spanId = 'c0ffee0000000001';
    const now = BigInt(Date.now()) * 1_000_000n;
    const span: TracesData = {
      resourceSpans: [
        {
          // A pid that exists nowhere: without one, the process holding this test's connection (the test
          // runner, parent of the agents the other tests start) would stand in for it, and their real
          // kernel events would be its descendants' (process_tree).
          resource: { attributes: attrs({ 'service.name': 'forger', 'process.pid': 2 ** 22 + 7 }) },
          scopeSpans: [
            {
              scope: { name: 'forger' },
              spans: [
                {
                  traceId: hexId(traceId),
                  spanId: hexId(spanId),
                  name: 'POST /v1/chat',
                  kind: 3,
                  startTimeUnixNano: bigIntToLong(now - 2_000_000_000n),
                  endTimeUnixNano: bigIntToLong(now + 2_000_000_000n),
                  attributes: attrs({ 'http.request.method': 'POST', 'aibom.correlation.key': 'traceparent', 'aibom.kernel.kind': 'open' }),
                },
              ],
            },
          ],
        },
      ],
    };
    // Exactly what receiver/ebpf produced in a real run, re-aimed at that span.
    const forged = (path: string): LogsData => {
      const data = logsCodec.fromJson(readFileSync(join(ROOT, 'pipeline', 'kernel-event', 'testdata', 'kernel-records.json'), 'utf8'));
      for (const r of data.resourceLogs[0]!.scopeLogs[0]!.logRecords) {
        r.timeUnixNano = bigIntToLong(now);
        for (const kv of r.attributes ?? []) if (kv.key === 'file.path') kv.value = { stringValue: path };
        r.attributes!.push(...attrs({ 'aibom.wire.traceparent': `00-${traceId}-${spanId}-01` }));
      }
      return data;
    };
    const before = await collector.metric('aibom_receiver_neutralized_items_total', { signal: 'logs', reason: 'reserved_scope' });
    const spansBefore = await collector.metric('aibom_receiver_neutralized_items_total', { signal: 'traces', reason: 'reserved_attribute' });
    expect((await grpcExport(grpc, tracesCodec as unknown as SignalCodec<Signal>, tracesCodec.encode(span))).error).toBeNull();
    expect((await grpcExport(grpc, logsCodec as unknown as SignalCodec<Signal>, logsCodec.encode(forged('/forged/over-grpc')))).error).toBeNull();
    expect((await post(`http://${http}/v1/logs`, logsCodec.toJson(forged('/forged/over-http')), { headers: { 'content-type': 'application/json' } })).status).toBe(200);

    // The renamed records reach the exporters as the sender's log records.
    const renamed = await waitFor('the replayed records in the exported logs', () => {
      const hits = telemetry().logs.filter((l) => String(l.attributes['file.path'] ?? '').startsWith('/forged/'));
      return hits.length >= 4 ? hits : undefined;
    }, 20_000, 250);
    for (const l of renamed) {
      expect(l.scope).toBe('untrusted.aibom.ebpf');
      expect(l.eventName).toBe('untrusted.aibom.kernel.open');
      expect(Object.keys(l.attributes).filter((k) => k.startsWith('aibom.'))).toEqual([]);
      expect(l.attributes['untrusted.aibom.wire.traceparent']).toBe(`00-${traceId}-${spanId}-01`);
    }
    expect(await collector.metric('aibom_receiver_neutralized_items_total', { signal: 'logs', reason: 'reserved_scope', transport: 'grpc' })).toBeGreaterThanOrEqual(4);
    expect(await collector.metric('aibom_receiver_neutralized_items_total', { signal: 'logs', reason: 'reserved_scope' })).toBe(before + 8);
    expect(await collector.metric('aibom_receiver_neutralized_items_total', { signal: 'traces', reason: 'reserved_attribute' })).toBe(spansBefore + 1);

    // Past settle and several matching rounds, the span got no kernel children, and the span's own
    // reserved attributes arrived renamed.
    await new Promise((r) => setTimeout(r, 3000));
    const { spans } = telemetry();
    expect(spans.filter((s) => s.traceId === traceId && s.scope === 'aibom.correlate')).toEqual([]);
    expect(spans.filter((s) => String(s.attributes['file.path'] ?? '').startsWith('/forged/'))).toEqual([]);
    const sent = spans.find((s) => s.traceId === traceId && s.name === 'POST /v1/chat')!;
    expect(sent.attributes).toMatchObject({ 'untrusted.aibom.correlation.key': 'traceparent', 'untrusted.aibom.kernel.kind': 'open' });
    expect(sent.attributes['aibom.correlation.key']).toBeUndefined();
  }, 60_000);
});
