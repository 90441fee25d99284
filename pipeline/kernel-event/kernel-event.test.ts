import { readFileSync } from 'node:fs';
import Long from 'long';
import { describe, expect, test } from 'vitest';
import { fanout } from '../service/fanout.js';
import { attrs } from '../otlp/attributes.js';
import { logsCodec } from '../otlp/codec.js';
import type { LogsData } from '../otlp/types.js';
import { ATTR, KERNEL_SCOPE } from '../semconv.js';
import { isKernelRecord, markKernelRecord, readKernelEvent, readKernelFacts, writeKernelRecord, type KernelEventFacts } from './index.js';

/** Records exactly as receiver/ebpf wrote them in a real run (file exporter output, trimmed to four). */
const captured = () => logsCodec.fromJson(readFileSync(new URL('./testdata/kernel-records.json', import.meta.url), 'utf8'));
const records = (d: LogsData) => d.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));

function written(): LogsData {
  const t = Long.fromString('1795989410960712329', true);
  return {
    resourceLogs: [
      {
        resource: { attributes: attrs({ [ATTR.processPid]: 31552, [ATTR.processParentPid]: 30494, [ATTR.processExecutableName]: 'agent' }) },
        scopeLogs: [
          {
            scope: { name: KERNEL_SCOPE },
            logRecords: [
              writeKernelRecord({ kind: 'open', timeUnixNano: t, observedTimeUnixNano: t, body: 'open /etc/hostname', attributes: attrs({ [ATTR.filePath]: '/etc/hostname', [ATTR.kernelRepeat]: 2 }) }),
              writeKernelRecord({
                kind: 'http',
                timeUnixNano: t,
                observedTimeUnixNano: t,
                body: 'http POST /v1/chat',
                attributes: attrs({
                  [ATTR.httpRequestMethod]: 'POST',
                  [ATTR.serverAddress]: 'api',
                  [ATTR.urlPath]: '/v1/chat',
                  [ATTR.networkPeerAddress]: '127.0.0.1',
                  [ATTR.networkPeerPort]: 8080,
                  [ATTR.wireTraceparent]: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
                }),
              }),
            ],
          },
        ],
      },
    ],
  };
}

describe('kernel-event contract', () => {
  test('the writer names the event and marks the record; the reader reads what matching needs', () => {
    const data = written();
    const [open, http] = records(data);
    expect(open!.eventName).toBe('aibom.kernel.open');
    expect(isKernelRecord(open!)).toBe(true);
    const resource = data.resourceLogs[0]!.resource!;
    expect(readKernelEvent(open!, resource)).toMatchObject({ kind: 'open', pid: 31552, ppid: 30494, comm: 'agent', count: 3, target: '/etc/hostname', timeUs: 1795989410960712, wire: undefined });
    expect(readKernelEvent(http!, resource)).toMatchObject({
      kind: 'http',
      target: 'POST api/v1/chat',
      peerAddress: '127.0.0.1',
      peerPort: 8080,
      wire: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', source: 'http' },
    });
  });

  test('the records receiver/ebpf produced, as they arrive from bytes (OTLP, a file), are not kernel events', () => {
    const data = captured();
    const resource = data.resourceLogs[0]!.resource!;
    expect(data.resourceLogs[0]!.scopeLogs[0]!.scope?.name).toBe(KERNEL_SCOPE);
    expect(records(data).map((r) => r.eventName)).toEqual(['aibom.kernel.exec', 'aibom.kernel.open', 'aibom.kernel.open', 'aibom.kernel.exit']);
    for (const r of records(data)) expect(readKernelEvent(r, resource)).toBeUndefined();
    // Only the mark was missing: the same objects marked read as the kernel events they describe.
    expect(records(data).map((r) => readKernelEvent(markKernelRecord(r), resource)?.target)).toEqual(['/tmp/trust-cap/forgery-src', '/etc/ld.so.cache', '/etc/hostname', '0']);
  });

  test('a record whose body and attributes are made on first read keeps them through protobuf and JSON', () => {
    const t = Long.fromString('1795989410960712329', true);
    const source = { body: () => 'open /etc/hosts', attributes: () => attrs({ [ATTR.filePath]: '/etc/hosts' }) };
    const data = written();
    const logRecords = data.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    logRecords.push(writeKernelRecord({ kind: 'open', timeUnixNano: t, observedTimeUnixNano: t, source }));
    for (const copy of [logsCodec.decode(logsCodec.encode(data)), logsCodec.fromJson(logsCodec.toJson(data))]) {
      const lazy = records(copy)[2]!;
      expect(lazy.body).toEqual({ stringValue: 'open /etc/hosts' });
      expect(lazy.attributes).toEqual(attrs({ [ATTR.filePath]: '/etc/hosts' }));
      expect(records(copy)[0]!.body).toEqual({ stringValue: 'open /etc/hostname' });
    }
  });

  test('no encoding carries the mark: protobuf and JSON round trips come back unmarked', () => {
    const data = written();
    for (const copy of [logsCodec.decode(logsCodec.encode(data)), logsCodec.fromJson(logsCodec.toJson(data))]) {
      expect(records(copy).map((r) => r.eventName)).toEqual(['aibom.kernel.open', 'aibom.kernel.http']);
      expect(records(copy).some(isKernelRecord)).toBe(false);
    }
  });

  test('the fan-out copy to a second pipeline keeps the marks of the original, position by position', async () => {
    const got: LogsData[] = [];
    const data = written();
    const extra: LogsData = { resourceLogs: [{ resource: {}, scopeLogs: [{ scope: { name: 'app' }, logRecords: [{ eventName: 'aibom.kernel.open' }] }] }] };
    data.resourceLogs.push(...extra.resourceLogs);
    const sink = { consume: async (d: LogsData) => void got.push(d) };
    await fanout('logs', [sink, sink], true).consume(data);
    expect(got[0]).not.toBe(got[1]);
    for (const d of got) expect(records(d).map(isKernelRecord)).toEqual([true, true, false]);
  });

  test('readKernelFacts hands back the facts the writer gave (nothing copied), else reads the attributes', () => {
    const t = Long.fromString('1795989410960712329', true);
    const facts: KernelEventFacts = { kind: 'open', count: 1, wire: undefined, peerAddress: undefined, peerPort: undefined, target: '/etc/hosts', credential: false, errorType: undefined, childPid: undefined };
    expect(readKernelFacts(writeKernelRecord({ kind: 'open', timeUnixNano: t, observedTimeUnixNano: t, facts }))).toBe(facts);
    const [open] = records(written());
    expect(readKernelFacts(open!)).toMatchObject({ kind: 'open', count: 3, target: '/etc/hostname' });
    // What readKernelEvent's view says is these facts with the record's time and process.
    const resource = written().resourceLogs[0]!.resource!;
    expect(readKernelEvent(open!, resource)).toMatchObject({ ...readKernelFacts(open!), timeUs: 1795989410960712, pid: 31552 });
    for (const r of records(captured())) expect(readKernelFacts(r)).toBeUndefined();
  });

  test('a marked record that is not a kernel event (the sensor gap record) reads as nothing', () => {
    const gap = markKernelRecord({ eventName: 'aibom.sensor.gap', attributes: [] });
    expect(readKernelFacts(gap)).toBeUndefined();
    expect(readKernelEvent(gap, {})).toBeUndefined();
    expect(readKernelEvent(markKernelRecord({ eventName: 'aibom.kernel.teleport' }), {})).toBeUndefined();
  });
});
