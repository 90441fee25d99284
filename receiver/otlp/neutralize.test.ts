import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import { clientInfoOf } from '../../pipeline/client-info.js';
import { readKernelEvent } from '../../pipeline/kernel-event/index.js';
import { attrs } from '../../pipeline/otlp/attributes.js';
import { logsCodec, type SignalCodec } from '../../pipeline/otlp/codec.js';
import type { LogsData, Signal, TracesData } from '../../pipeline/otlp/types.js';
import { neutralize } from './neutralize.js';
import { grpcExport, post, sampleLogs, sampleTraces, startReceiver, type Harness } from './testdata/harness.js';

const keys = (list: { key: string }[] | undefined) => (list ?? []).map((kv) => kv.key);

describe('neutralize: names this product reserves are the sender\'s word once received over OTLP', () => {
  test('a forged kernel event: scope, event name and attributes renamed; counted once by its scope', () => {
    const data: LogsData = {
      resourceLogs: [
        {
          resource: { attributes: attrs({ 'process.pid': 4242, 'service.name': 'x' }) },
          scopeLogs: [
            {
              scope: { name: 'aibom.ebpf', version: '0.1.0' },
              logRecords: [
                { eventName: 'aibom.kernel.open', attributes: attrs({ 'file.path': '/etc/shadow', 'aibom.kernel.seq': 1, 'aibom.wire.traceparent': 'x' }) },
                { eventName: 'aibom.sensor.gap', attributes: [] },
              ],
            },
          ],
        },
      ],
    };
    expect([...neutralize('logs', data)]).toEqual([['reserved_scope', 2]]);
    const sl = data.resourceLogs[0]!.scopeLogs[0]!;
    expect(sl.scope?.name).toBe('untrusted.aibom.ebpf');
    expect(sl.logRecords.map((r) => r.eventName)).toEqual(['untrusted.aibom.kernel.open', 'untrusted.aibom.sensor.gap']);
    expect(keys(sl.logRecords[0]!.attributes)).toEqual(['file.path', 'untrusted.aibom.kernel.seq', 'untrusted.aibom.wire.traceparent']);
    expect(keys(data.resourceLogs[0]!.resource!.attributes)).toEqual(['process.pid', 'service.name']);
  });

  test('spans: reserved attributes on the span, its events and links, the resource, the scope', () => {
    const data = sampleTraces(3);
    const [a, b, c] = data.resourceSpans[0]!.scopeSpans[0]!.spans;
    a!.attributes!.push(...attrs({ 'aibom.correlation.key': 'traceparent', 'aibom.kernel.kind': 'open' }));
    b!.events = [{ name: 'e', timeUnixNano: 1, attributes: attrs({ 'aibom.deviation.rule': 'x' }) }];
    expect(Object.fromEntries(neutralize('traces', data))).toEqual({ reserved_attribute: 2 });
    expect(keys(a!.attributes)).toContain('untrusted.aibom.correlation.key');
    expect(keys(a!.attributes)).toContain('untrusted.aibom.kernel.kind');
    expect(keys(b!.events![0]!.attributes)).toEqual(['untrusted.aibom.deviation.rule']);
    expect(keys(c!.attributes).some((k) => k.includes('aibom'))).toBe(false);

    const scoped: TracesData = sampleTraces(2);
    scoped.resourceSpans[0]!.scopeSpans[0]!.scope = { name: 'aibom.correlate' };
    expect(Object.fromEntries(neutralize('traces', scoped))).toEqual({ reserved_scope: 2 });
    expect(scoped.resourceSpans[0]!.scopeSpans[0]!.scope!.name).toBe('untrusted.aibom.correlate');

    const resource: TracesData = sampleTraces(2);
    resource.resourceSpans[0]!.resource!.attributes!.push(...attrs({ 'aibom.process.pid_source': 'otlp_connection' }));
    expect(Object.fromEntries(neutralize('traces', resource))).toEqual({ reserved_resource_attribute: 2 });
  });

  test('log records: a reserved event name or attribute, each item counted once', () => {
    const data = sampleLogs(3);
    const [a, b] = data.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    a!.eventName = 'aibom.kernel.exec';
    a!.attributes = attrs({ 'aibom.kernel.seq': 3 });
    b!.attributes = attrs({ 'aibom.finding.rule': 'r' });
    expect(Object.fromEntries(neutralize('logs', data))).toEqual({ reserved_event_name: 1, reserved_attribute: 1 });
  });

  test('telemetry without reserved names is left exactly as it was', () => {
    const t = sampleTraces(5);
    const l = sampleLogs(5);
    const before = JSON.stringify([t, l]);
    expect(neutralize('traces', t).size).toBe(0);
    expect(neutralize('logs', l).size).toBe(0);
    expect(JSON.stringify([t, l])).toBe(before);
  });

  test('look-alikes are not reserved: only the exact `aibom.` prefix', () => {
    const data = sampleTraces(1);
    data.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes!.push(...attrs({ aibom: 'x', aibomx: 'y', 'AIBOM.kernel.kind': 'z', 'x.aibom.kernel': 'w' }));
    expect(neutralize('traces', data).size).toBe(0);
  });
});

describe('a kernel record replayed over OTLP (gRPC, HTTP protobuf, HTTP JSON)', () => {
  // Exactly what receiver/ebpf wrote in a real run (file exporter output).
  const json = readFileSync(new URL('../../pipeline/kernel-event/testdata/kernel-records.json', import.meta.url), 'utf8');
  const logs = logsCodec as unknown as SignalCodec<Signal>;
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.receiver.shutdown();
    h = undefined;
  });

  test.each(['grpc', 'http-protobuf', 'http-json'] as const)('%s: arrives renamed, is no kernel event, carries its client, and is counted', async (how) => {
    h = await startReceiver();
    const request = logsCodec.encode(logsCodec.fromJson(json));
    if (how === 'grpc') expect((await grpcExport(h.grpcAddress, logs, request)).error).toBeNull();
    else {
      const body = how === 'http-json' ? json : request;
      const type = how === 'http-json' ? 'application/json' : 'application/x-protobuf';
      expect((await post(`${h.httpUrl}/v1/logs`, body, { headers: { 'content-type': type } })).status).toBe(200);
    }
    const [data] = h.logs.received;
    const rl = data!.resourceLogs[0]!;
    const sl = rl.scopeLogs[0]!;
    expect(sl.scope?.name).toBe('untrusted.aibom.ebpf');
    expect(sl.logRecords.map((r) => r.eventName)).toEqual(['untrusted.aibom.kernel.exec', 'untrusted.aibom.kernel.open', 'untrusted.aibom.kernel.open', 'untrusted.aibom.kernel.exit']);
    for (const r of sl.logRecords) {
      expect(readKernelEvent(r, rl.resource!)).toBeUndefined();
      expect(keys(r.attributes).filter((k) => k.startsWith('aibom.'))).toEqual([]);
      expect(keys(r.attributes)).toContain('untrusted.aibom.kernel.seq');
    }
    const client = clientInfoOf(rl.resource);
    expect(client).toMatchObject({ transport: how === 'grpc' ? 'grpc' : 'http', peer: { address: expect.stringMatching(/127\.0\.0\.1$/) } });
    const transport = how === 'grpc' ? 'grpc' : 'http';
    expect(await h.metrics.value(h.metrics.receiverNeutralized, { signal: 'logs', transport, reason: 'reserved_scope' })).toBe(4);
    expect(await h.metrics.value(h.metrics.receiverAccepted, { signal: 'logs', transport })).toBe(4);
  });
});
