// Discovery through the real OTLP receiver (both transports, real loopback connections held by this
// test process), so the kernel's record of who holds each connection is what decides.
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createHost } from '../../pipeline/host.js';
import { readMachineId } from '../../pipeline/machine-id.js';
import { tracesCodec, type SignalCodec } from '../../pipeline/otlp/codec.js';
import { findAttr } from '../../pipeline/otlp/attributes.js';
import type { Signal, TracesData } from '../../pipeline/otlp/types.js';
import { silentLogger } from '../../pipeline/telemetry/logger.js';
import { Metrics } from '../../pipeline/telemetry/metrics.js';
import type { WorkloadHint } from '../../pipeline/workloads.js';
import { createDefaultConfig as createOtlpConfig, otlpReceiverFactory, type OtlpReceiver } from '../../receiver/otlp/index.js';
import { grpcExport, post } from '../../receiver/otlp/testdata/harness.js';
import { createDefaultConfig } from './config.js';
import { CorrelateProcessor } from './correlate-processor.js';
import { kernelEvents, spans } from './testdata/builders.js';

describe('workload discovery: only a pid whose own connection carried the spans is announced', () => {
  const LLM_SPAN = [{ trace: 'd1', id: '1', name: 'ChatOpenAI', from: 0, to: 10, attributes: { 'openinference.span.kind': 'LLM' } }];
  let receiver: OtlpReceiver;
  let p: CorrelateProcessor;
  let metrics: Metrics;
  const seen: WorkloadHint[] = [];
  const made: TracesData[] = [];

  beforeEach(async () => {
    seen.length = 0;
    made.length = 0;
    metrics = new Metrics();
    const host = createHost();
    host.workloads.subscribe((h) => seen.push(h));
    p = new CorrelateProcessor({ id: 'c', name: '', logger: silentLogger(), metrics }, createDefaultConfig(), { traces: { consume: async (d) => void made.push(d) } });
    const config = createOtlpConfig();
    config.protocols.grpc!.endpoint = '127.0.0.1:0';
    config.protocols.http!.endpoint = '127.0.0.1:0';
    receiver = otlpReceiverFactory.create({ id: 'otlp', name: '', logger: silentLogger(), metrics }, config, { traces: p.traces }) as OtlpReceiver;
    await p.start(host);
    await receiver.start(host);
  });
  afterEach(async () => {
    await receiver.shutdown();
    await p.shutdown();
  });

  const unverified = (reason: string) => sumMetric(metrics, 'aibom_correlate_unverified_workloads_total', { reason });

  test('spans naming this process, sent over its own gRPC connection: announced once, with the kernel evidence', async () => {
    const request = tracesCodec.encode(spans('support-agent', process.pid, LLM_SPAN));
    expect((await grpcExport(receiver.addresses.grpc, tracesCodec as unknown as SignalCodec<Signal>, request)).error).toBeNull();
    expect((await grpcExport(receiver.addresses.grpc, tracesCodec as unknown as SignalCodec<Signal>, request)).error).toBeNull();
    expect(seen).toEqual([
      { pid: process.pid, evidence: { kind: 'otlp_connection', holderPid: process.pid }, commandArgs: undefined, executableName: undefined, reason: 'llm span "ChatOpenAI" of support-agent' },
    ]);
  });

  test('a child of the sending process may be named by it (the sender is its ancestor)', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const reply = await post(`http://${receiver.addresses.http}/v1/traces`, tracesCodec.encode(spans('agent', child.pid!, LLM_SPAN)), { headers: { 'content-type': 'application/x-protobuf' } });
      expect(reply.status).toBe(200);
      expect(seen.map((h) => [h.pid, h.evidence.holderPid])).toEqual([[child.pid, process.pid]]);
    } finally {
      child.kill();
    }
  });

  test('spans naming another process (not this one, nor a descendant): not announced, counted, over both transports', async () => {
    const other = process.ppid; // the test runner's parent: outside this process's lineage
    const json = tracesCodec.toJson(spans('forger', other, LLM_SPAN));
    expect((await post(`http://${receiver.addresses.http}/v1/traces`, json, { headers: { 'content-type': 'application/json' } })).status).toBe(200);
    expect((await grpcExport(receiver.addresses.grpc, tracesCodec as unknown as SignalCodec<Signal>, tracesCodec.encode(spans('forger', other, LLM_SPAN)))).error).toBeNull();
    expect(seen).toEqual([]);
    expect(await unverified('not_holder')).toBe(2);
    // The real owner of that pid is still announced when its own connection carries its spans.
  });

  test('spans with no process.pid (Python SDK default): the process holding the connection stands in, on correlate\'s own index', async () => {
    const data = spans('py-agent', process.pid, [{ trace: 'd2', id: '7', name: 'read_file', from: 0, to: 1000, attributes: { 'openinference.span.kind': 'TOOL' } }]);
    data.resourceSpans[0]!.resource!.attributes = data.resourceSpans[0]!.resource!.attributes!.filter((kv) => kv.key !== 'process.pid');
    expect((await grpcExport(receiver.addresses.grpc, tracesCodec as unknown as SignalCodec<Signal>, tracesCodec.encode(data))).error).toBeNull();
    expect(seen.map((h) => [h.pid, h.evidence.holderPid])).toEqual([[process.pid, process.pid]]);
    // A kernel event of this process inside the span is placed by pid and time, and says how the pid was known.
    await p.logs.consume(kernelEvents({ pid: process.pid, ppid: process.ppid, comm: 'node' }, [{ kind: 'open', ms: 500, attributes: { 'file.path': '/srv/data/customers.csv' } }]));
    await p.shutdown();
    const out = made.flatMap((d) => d.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
    const open = out.find((s) => s.name.startsWith('open'))!;
    expect(Buffer.from(open.parentSpanId!).toString('hex')).toBe('0000000000000007');
    expect(findAttr(open.attributes, 'aibom.correlation.key')).toBe('pid_time');
    expect(findAttr(open.attributes, 'aibom.process.pid_source')).toBe('otlp_connection');
    // The agent's own spans passed on with no process.pid written into their resource; only the host.id
    // such an SDK leaves out, the one the kernel spans carry (the sender runs here).
    const passed = made.find((d) => d.resourceSpans[0]!.scopeSpans[0]!.scope?.name === 'test')!;
    expect(findAttr(passed.resourceSpans[0]!.resource!.attributes, 'process.pid')).toBeUndefined();
    expect(findAttr(passed.resourceSpans[0]!.resource!.attributes, 'host.id')).toBe(readMachineId());
    expect(readMachineId()).toMatch(/\S/);
  });

  test('a relay is not the sender: no stand-in for a connection carrying several services, or whose holder does not run the SDK\'s language', async () => {
    const pidless = (service: string, language: string) => {
      const d = spans(service, process.pid, LLM_SPAN);
      const r = d.resourceSpans[0]!.resource!;
      r.attributes = [...r.attributes!.filter((kv) => kv.key !== 'process.pid'), { key: 'telemetry.sdk.language', value: { stringValue: language } }];
      return d;
    };
    const two = pidless('agent-a', 'nodejs');
    two.resourceSpans.push(...pidless('agent-b', 'nodejs').resourceSpans);
    const grpc = (d: TracesData) => grpcExport(receiver.addresses.grpc, tracesCodec as unknown as SignalCodec<Signal>, tracesCodec.encode(d));
    expect((await grpc(two)).error).toBeNull();
    // This test process runs node, not python: it cannot be the Python SDK's process.
    expect((await grpc(pidless('py-agent', 'python'))).error).toBeNull();
    expect(seen).toEqual([]);
    // The same sender in its own runtime is its own connection's owner.
    expect((await grpc(pidless('js-agent', 'nodejs'))).error).toBeNull();
    expect(seen.map((h) => h.pid)).toEqual([process.pid]);
  });

  test('spans that did not come through an OTLP receiver name nobody', async () => {
    await p.traces.consume(spans('in-process', process.pid, LLM_SPAN));
    expect(seen).toEqual([]);
    expect(await unverified('no_client')).toBe(1);
  });
});

async function sumMetric(metrics: Metrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name) as Parameters<Metrics['value']>[0] | undefined;
  return metric ? metrics.value(metric, labels) : 0;
}
