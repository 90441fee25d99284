// The receiver hands correlate what it knows of each event (the kernel-event facts) with the record's
// mark, and makes the record's attributes only when something reads them: both must say what a record
// whose attributes were made at once says.

import { describe, expect, it } from 'vitest';
import { isKernelRecord, markKernelRecord, readKernelEvent } from '../../pipeline/kernel-event/index.js';
import { fromAnyValue } from '../../pipeline/otlp/attributes.js';
import { logsCodec } from '../../pipeline/otlp/codec.js';
import type { LogRecord, LogsData } from '../../pipeline/otlp/types.js';
import { createContainerResolver } from './container.js';
import { LogsBuilder, nsToLong } from './convert.js';
import type { SensorEvent } from './frame-decoder.js';

const T = 1_795_989_410_960_712_329n;
const base = { seq: 7, ktimeNs: 0n, timeUnixNano: T, pid: 4_100_001, tid: 4_100_002, ppid: 4_100_000, uid: 1000, cgroupId: 0x1_0000_0001n, comm: 'python3', flags: 0, repeat: 0, truncated: false } as const;
const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const request = (extra = '') => Buffer.from(`POST /v1/chat/completions HTTP/1.1\r\nhost: api.openai.com\r\n${extra}content-length: 40\r\n\r\n{"model":"gpt-4o-mini","messages":[]}`);

/** One event of every kind, and the variants that change what the reader reads. */
const EVENTS: SensorEvent[] = [
  { ...base, kind: 'exec', oldPid: base.pid, filename: '/usr/bin/python3', args: ['python3', 'agent.py', '--api-key', 'sk-live-123456'], argsCount: 4, monitorReason: 'none' },
  { ...base, kind: 'exit', exitStatus: 256, exitCode: 1, signal: null, startKtimeNs: 0n },
  { ...base, kind: 'exit', exitStatus: 9, exitCode: null, signal: 9, startKtimeNs: 0n },
  { ...base, kind: 'fork', childPid: 4_100_003 },
  { ...base, kind: 'open', path: '/etc/hosts', openFlags: 0, mode: 0, ret: 3, credential: false, repeat: 4 },
  { ...base, kind: 'open', path: '/home/a/.aws/credentials', openFlags: 0, mode: 0, ret: -2, credential: true },
  { ...base, kind: 'connect', ret: -115, family: 4, transport: 'tcp', protocol: 6, localAddress: '10.0.0.5', localPort: 40000, peerAddress: '104.18.7.192', peerPort: 443, inProgress: true },
  { ...base, kind: 'connect', ret: -111, family: 6, transport: 'tcp', protocol: 6, localAddress: '::1', localPort: 0, peerAddress: '::1', peerPort: 8080, inProgress: false },
  { ...base, kind: 'accept', ret: 5, family: 4, transport: 'tcp', protocol: 6, localAddress: '127.0.0.1', localPort: 8080, peerAddress: '127.0.0.1', peerPort: 51000, inProgress: false },
  { ...base, kind: 'dns', name: 'api.openai.com', qtype: 1, qclass: 1, txid: 7, serverAddress: '127.0.0.53', serverPort: 53 },
  { ...base, kind: 'tls', direction: 'write', totalLen: 120, data: request(`traceparent: ${traceparent}\r\n`) },
  { ...base, kind: 'tls', direction: 'read', totalLen: 60, data: Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{}') },
  { ...base, kind: 'tls', direction: 'write', totalLen: 40, data: Buffer.from('{"model":"gpt-4o","stream":true}') },
  { ...base, kind: 'tls', direction: 'read', totalLen: 40, data: Buffer.from('data: {"choices":[]}') },
  {
    ...base,
    kind: 'http',
    totalLen: 200,
    fd: 9,
    peerAddress: '127.0.0.1',
    peerPort: 3000,
    data: Buffer.from(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","_meta":{"traceparent":"${traceparent}"}}}`),
  },
  { ...base, kind: 'http', totalLen: 200, fd: 9, peerAddress: '127.0.0.1', peerPort: 3000, data: request() },
  { ...base, kind: 'http', totalLen: 20, fd: 9, peerAddress: '127.0.0.1', peerPort: 3000, data: Buffer.from('binary\0data') },
];

function convert(events: readonly SensorEvent[], capturePayload = false): LogsData {
  const b = new LogsBuilder({ capturePayload, containers: createContainerResolver({ procRoot: '/nonexistent' }), processCacheSize: 64, readProc: false, hostName: 'h', scopeVersion: 'test' });
  const now = nsToLong(T + 1_000_000n);
  for (const ev of events) b.add(ev, now, now);
  return b.take();
}

const records = (d: LogsData): LogRecord[] => d.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));

describe('kernel-event facts and lazily made attributes', () => {
  it('the facts the receiver hands over say what the attributes say, for every kind', () => {
    const data = convert(EVENTS);
    // The same records from bytes, marked again without facts: read from their attributes.
    const copy = logsCodec.decode(logsCodec.encode(data));
    const resource = data.resourceLogs[0]!.resource!;
    const [given, fromAttributes] = [records(data), records(copy)];
    expect(given).toHaveLength(EVENTS.length);
    for (let i = 0; i < given.length; i++) {
      const a = readKernelEvent(given[i]!, resource);
      const b = readKernelEvent(markKernelRecord(fromAttributes[i]!), resource);
      expect(a, EVENTS[i]!.kind).toBeDefined();
      expect({ ...a, record: undefined }, `${EVENTS[i]!.kind} #${i}`).toEqual({ ...b, record: undefined });
    }
    // The variants are read as such (not all empty alike).
    expect(given.map((r) => readKernelEvent(r, resource)!.target)).toEqual([
      '/usr/bin/python3',
      '1',
      '',
      '',
      '/etc/hosts',
      '/home/a/.aws/credentials',
      '104.18.7.192:443',
      '::1:8080',
      '127.0.0.1:51000',
      'api.openai.com',
      'POST api.openai.com/v1/chat/completions',
      'response 200',
      'model gpt-4o',
      'read',
      '',
      'POST api.openai.com/v1/chat/completions',
      '',
    ]);
    const views = given.map((r) => readKernelEvent(r, resource)!);
    expect(views[4]).toMatchObject({ count: 5, credential: false, errorType: undefined });
    expect(views[5]).toMatchObject({ credential: true, errorType: 'ENOENT' });
    expect(views[3]!.childPid).toBe(4_100_003);
    expect(views[10]!.wire).toEqual({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', source: 'tls' });
    expect(views[14]!.wire).toEqual({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', source: 'mcp_meta' });
  });

  it('attributes are made when first read, then kept; assigning replaces them; encoding reads them', () => {
    const data = convert(EVENTS.slice(0, 1));
    const [record] = records(data);
    const first = record!.attributes;
    expect(record!.attributes).toBe(first);
    const attrs = Object.fromEntries(first!.map((kv) => [kv.key, fromAnyValue(kv.value)]));
    // argv redaction holds for attributes made late as for those made at once.
    expect(attrs['process.command_args']).toEqual(['python3', 'agent.py', '--api-key', '[REDACTED]']);
    expect(JSON.stringify(record)).toContain('[REDACTED]');
    expect(JSON.stringify(record)).not.toContain('sk-live');
    record!.attributes = [];
    expect(record!.attributes).toEqual([]);
    expect(records(logsCodec.decode(logsCodec.encode(data)))[0]!.attributes ?? []).toEqual([]);
    expect(isKernelRecord(record!)).toBe(true);
  });

  it('captured plaintext is redacted when the event arrives, whenever the attributes are made', () => {
    const secret = Buffer.from('POST /v1/chat HTTP/1.1\r\nhost: api\r\nauthorization: Bearer sk-live-abcdefghijklmnop\r\n\r\n{}');
    const ev: SensorEvent = { ...base, kind: 'tls', direction: 'write', totalLen: secret.length, data: secret };
    const data = convert([ev], true);
    secret.fill(0); // the event's buffer is gone (reused) by the time an exporter reads the record
    const text = records(data)[0]!.attributes!.find((kv) => kv.key === 'aibom.payload.text');
    expect(text?.value?.stringValue).toContain('host: api');
    expect(text?.value?.stringValue).not.toContain('sk-live');
  });
});
