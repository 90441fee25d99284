import { describe, expect, it } from 'vitest';
import { createFrameDecoder, formatIPv4, formatIPv6, type FrameDecodeError, type SensorRecord } from './frame-decoder.js';
import {
  connectEventPayload,
  encodeFrame,
  execEventPayload,
  logPayload,
  monitorPayload,
  openEventPayload,
  statsPayload,
  streamHeaderPayload,
  tlsEventPayload,
} from './frame-fixtures.js';
import { CONSTANTS as C, STRUCTS as S } from './layout.js';

const OFFSET = 1_700_000_000_000_000_000n;

function stream(): Buffer {
  return Buffer.concat([
    encodeFrame(C.FRAME_STREAM_HEADER, streamHeaderPayload(OFFSET), 0),
    encodeFrame(C.FRAME_EVENT, execEventPayload({ pid: 11, ppid: 10, filename: '/usr/bin/python3', args: ['python3', '-c', 'x'] }), 1),
    encodeFrame(C.FRAME_EVENT, openEventPayload({ pid: 11, path: '/etc/hosts' }), 2),
    encodeFrame(C.FRAME_EVENT, connectEventPayload({ pid: 11, daddr: [10, 0, 0, 7], dport: 443 }), 3),
    encodeFrame(C.FRAME_EVENT, tlsEventPayload({ pid: 11, data: Buffer.from('GET / HTTP/1.1\r\ntraceparent: 00-ab-cd-01\r\n') }), 4),
    encodeFrame(C.FRAME_LOG, logPayload(1, 1, 'ready'), 5),
    encodeFrame(C.FRAME_STATS, statsPayload(3, 2, true), 6),
  ]);
}

function decodeAll(bufs: Buffer[]): { recs: SensorRecord[]; errors: FrameDecodeError[]; dec: ReturnType<typeof createFrameDecoder> } {
  const errors: FrameDecodeError[] = [];
  const dec = createFrameDecoder({ onError: (e) => errors.push(e) });
  const recs: SensorRecord[] = [];
  for (const b of bufs) dec.push(b, recs);
  dec.end();
  return { recs, errors, dec };
}

describe('frame decoder', () => {
  it('decodes monitor frames: reason, partial and start-up flags, marker, epoch times', () => {
    const { recs, errors } = decodeAll([
      Buffer.concat([
        encodeFrame(C.FRAME_STREAM_HEADER, streamHeaderPayload(OFFSET), 0),
        encodeFrame(C.FRAME_MONITOR, monitorPayload({ pid: 7, ppid: 1, reason: C.MONR_ENV_MARKER, flags: C.MONF_PARTIAL | C.MONF_AT_START, marker: 'OPENAI_*', ktimeNs: 5_000n, startKtimeNs: 2_000n }), 1),
        encodeFrame(C.FRAME_MONITOR, monitorPayload({ pid: 8, ppid: 7, reason: C.MONR_INHERITED, ktimeNs: 6_000n }), 2),
        encodeFrame(C.FRAME_MONITOR, monitorPayload({ pid: 9, ppid: 7, reason: 99, ktimeNs: 6_000n }), 3),
        encodeFrame(C.FRAME_MONITOR, monitorPayload({ pid: 10, ppid: 7, reason: C.MONR_COMM, ktimeNs: 7_000n }), 4),
      ]),
    ]);
    expect(recs.slice(1)).toEqual([
      { kind: 'monitor', seq: 1, pid: 7, ppid: 1, reason: 'env_marker', partial: true, atStart: true, marker: 'OPENAI_*', sinceUnixNano: OFFSET + 5_000n, startUnixNano: OFFSET + 2_000n },
      { kind: 'monitor', seq: 2, pid: 8, ppid: 7, reason: 'inherited', partial: false, atStart: false, marker: '', sinceUnixNano: OFFSET + 6_000n, startUnixNano: undefined },
      { kind: 'monitor', seq: 4, pid: 10, ppid: 7, reason: 'comm', partial: false, atStart: false, marker: '', sinceUnixNano: OFFSET + 7_000n, startUnixNano: undefined },
    ]);
    // An unknown reason is a corrupt frame, not a guess.
    expect(errors.map((e) => e.reason)).toEqual(['bad-payload']);
  });

  it('decodes every frame kind into typed records', () => {
    const { recs, errors, dec } = decodeAll([stream()]);
    expect(errors).toEqual([]);
    expect(recs.map((r) => r.kind)).toEqual(['stream-header', 'exec', 'open', 'connect', 'tls', 'log', 'stats']);
    const [hdr, exec, open, conn, tls, log, stats] = recs;
    expect(hdr).toMatchObject({ kind: 'stream-header', bootOffsetNs: OFFSET, sensorPid: 4242 });
    expect(exec).toMatchObject({ kind: 'exec', pid: 11, ppid: 10, filename: '/usr/bin/python3', args: ['python3', '-c', 'x'], argsCount: 3, comm: 'python3' });
    expect(exec?.kind === 'exec' && exec.timeUnixNano).toBe(OFFSET + 1_000_000_000n);
    expect(open).toMatchObject({ kind: 'open', path: '/etc/hosts', ret: 3, credential: false });
    expect(conn).toMatchObject({ kind: 'connect', peerAddress: '10.0.0.7', peerPort: 443, transport: 'tcp', family: 4 });
    expect(tls?.kind === 'tls' && tls.data.toString()).toContain('traceparent: 00-ab-cd-01');
    expect(tls).toMatchObject({ direction: 'write' });
    expect(log).toMatchObject({ kind: 'log', level: 'info', code: 'ready', message: 'ready' });
    expect(stats).toMatchObject({ kind: 'stats', final: true, filtered: { notMonitored: 7 } });
    expect(stats?.kind === 'stats' && stats.perType.open).toEqual({ attempted: 5, emitted: 3, rbDrops: 2, deduped: 0, helperErrors: 0 });
    expect(dec.counters).toMatchObject({ frames: 7, events: 4, bytesSkipped: 0, framesRejected: 0, seqGaps: 0 });
  });

  it('gives the same records for any chunking, down to one byte at a time', () => {
    const whole = stream();
    const ref = decodeAll([whole]).recs;
    for (const size of [1, 3, 16, 17, 100]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < whole.length; i += size) chunks.push(whole.subarray(i, i + size));
      const { recs, errors } = decodeAll(chunks);
      expect(errors).toEqual([]);
      expect(recs).toEqual(ref);
    }
  });

  it('reports a stream that ends inside a frame as truncated', () => {
    const whole = stream();
    const { recs, errors, dec } = decodeAll([whole.subarray(0, whole.length - 10)]);
    expect(recs.map((r) => r.kind)).toEqual(['stream-header', 'exec', 'open', 'connect', 'tls', 'log']);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.reason).toBe('truncated');
    expect(dec.counters.bytesSkipped).toBe(S.frame_hdr.size + S.stats_frame.size - 10);
  });

  it('resynchronises after garbage and counts the skipped bytes', () => {
    const garbage = Buffer.from('this is not a frame, AIB nor AIBx');
    const a = encodeFrame(C.FRAME_EVENT, openEventPayload({ path: '/a' }), 0);
    const b = encodeFrame(C.FRAME_EVENT, openEventPayload({ path: '/b' }), 1);
    const { recs, errors, dec } = decodeAll([Buffer.concat([garbage, a, garbage, b])]);
    expect(recs.map((r) => (r.kind === 'open' ? r.path : r.kind))).toEqual(['/a', '/b']);
    expect(errors.map((e) => e.reason)).toEqual(['bad-magic', 'bad-magic']);
    expect(errors[0]!.streamOffset).toBe(0);
    expect(dec.counters.bytesSkipped).toBe(2 * garbage.length);
    expect(dec.counters.resyncs).toBe(2);
  });

  it('rejects a corrupt length and resumes at the next frame', () => {
    const a = encodeFrame(C.FRAME_EVENT, openEventPayload({ path: '/a' }), 0);
    const b = encodeFrame(C.FRAME_EVENT, openEventPayload({ path: '/b' }), 1);
    const c = encodeFrame(C.FRAME_EVENT, openEventPayload({ path: '/c' }), 2);
    b.writeUInt32LE(0x00ffffff, S.frame_hdr.fields.payload_len.offset); // header check no longer matches
    const { recs, errors, dec } = decodeAll([Buffer.concat([a, b, c])]);
    expect(recs.map((r) => (r.kind === 'open' ? r.path : r.kind))).toEqual(['/a', '/c']);
    expect(errors.map((e) => e.reason)).toEqual(['bad-header']);
    expect(dec.counters.framesRejected).toBe(1);
    expect(dec.counters.bytesSkipped).toBe(b.length);
    expect(dec.counters.seqGaps).toBe(1); // frame 1 is missing
  });

  it('rejects a payload whose event size disagrees with the frame', () => {
    const p = openEventPayload({ path: '/etc/passwd' });
    p.writeUInt16LE(200, S.open_event.fields.path_len.offset); // path runs past the frame
    const bad = encodeFrame(C.FRAME_EVENT, p, 0);
    const good = encodeFrame(C.FRAME_EVENT, openEventPayload({ path: '/ok' }), 1);
    const { recs, errors } = decodeAll([Buffer.concat([bad, good])]);
    expect(recs.map((r) => (r.kind === 'open' ? r.path : r.kind))).toEqual(['/ok']);
    expect(errors.map((e) => e.reason)).toEqual(['bad-payload']);
  });

  it('rejects unknown event types and oversize lengths without throwing', () => {
    const p = openEventPayload({ path: '/x' });
    p.writeUInt16LE(15, S.event_hdr.fields.type.offset);
    const { recs, errors } = decodeAll([encodeFrame(C.FRAME_EVENT, p, 0)]);
    expect(recs).toEqual([]);
    expect(errors[0]?.reason).toBe('bad-payload');
  });

  it('formats IPv4 addresses through its cache: random ones among a few repeated ones', () => {
    const b = Buffer.alloc(4);
    let seed = 7;
    for (let i = 0; i < 20_000; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const addr = i % 3 === 0 ? seed : [0x0100007f, 0xc00712ac, 0x35000a7f][i % 2]!;
      b.writeUInt32LE(addr >>> 0);
      const s = formatIPv4(b, 0);
      expect(s).toBe(`${b[0]}.${b[1]}.${b[2]}.${b[3]}`);
    }
  });

  it('formats IPv6 addresses per RFC 5952', () => {
    const b = Buffer.alloc(16);
    expect(formatIPv6(b, 0)).toBe('::');
    b[15] = 1;
    expect(formatIPv6(b, 0)).toBe('::1');
    const m = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]);
    expect(formatIPv6(m, 0)).toBe('::ffff:127.0.0.1');
    const d = Buffer.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
    expect(formatIPv6(d, 0)).toBe('2001:db8::1:0:0:1');
  });
});
