// Streaming decoder for the aibom-sensor frame stream (bpf/README.md): Buffer chunks in, typed records out.
//
// Fields are read in place at the offsets in layout.ts; a record object and its
// strings are created only when a frame is complete and valid. Chunks are concatenated only when a frame
// straddles a chunk boundary. Corruption never throws: the decoder reports a FrameDecodeError through
// `onError`, counts what it skipped, and resynchronises on the next frame magic.

import { stringCache } from '../../pipeline/string-cache.js';
import { DecodedEvent } from './decoded-event.js';
import { CONSTANTS as C, STRUCTS as S, frameHeaderCheck } from './layout.js';

export type EventKind = 'exec' | 'exit' | 'fork' | 'open' | 'connect' | 'accept' | 'dns' | 'tls' | 'http';

export const EVENT_KINDS: readonly EventKind[] = [
  'exec',
  'exit',
  'fork',
  'open',
  'connect',
  'accept',
  'dns',
  'tls',
  'http',
];

/** Fields every kernel event carries (struct event_hdr). */
export interface EventBase {
  /** Frame sequence number from the loader; gaps are counted in `counters.seqGaps`. */
  readonly seq: number;
  /** CLOCK_BOOTTIME nanoseconds as read in the kernel. */
  readonly ktimeNs: bigint;
  /** Unix epoch nanoseconds (ktime + the stream header's boot offset); undefined before the header arrived. */
  readonly timeUnixNano: bigint | undefined;
  readonly pid: number;
  readonly tid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly cgroupId: bigint;
  readonly comm: string;
  /** Raw EVF_* bits. */
  readonly flags: number;
  /** Identical events the kernel suppressed (dedupe) since the previous emitted one. */
  readonly repeat: number;
  /** Variable data was cut at its bound. */
  readonly truncated: boolean;
}

export interface ExecEvent extends EventBase {
  readonly kind: 'exec';
  readonly oldPid: number;
  /** Path as passed to execve (bprm->filename), may be relative. */
  readonly filename: string;
  readonly args: readonly string[];
  /** argc as the kernel saw it; larger than args.length when truncated. */
  readonly argsCount: number;
  /** Why monitoring starts at this exec (a monitor record precedes it); `none`: watched before it. */
  readonly monitorReason: MonitorReason | 'none';
}

export interface ExitEvent extends EventBase {
  readonly kind: 'exit';
  /** Raw wait status: (code << 8) | signal. */
  readonly exitStatus: number;
  /** Exit code when the process exited normally, else null. */
  readonly exitCode: number | null;
  /** Terminating signal, else null. */
  readonly signal: number | null;
  readonly startKtimeNs: bigint;
}

export interface ForkEvent extends EventBase {
  readonly kind: 'fork';
  readonly childPid: number;
}

export interface OpenEvent extends EventBase {
  readonly kind: 'open';
  readonly path: string;
  readonly openFlags: number;
  readonly mode: number;
  /** fd, or -errno. */
  readonly ret: number;
  /** The path is under a credential prefix ("identity touched"); the content is never captured. */
  readonly credential: boolean;
}

export type Transport = 'tcp' | 'udp' | 'other';

export interface SocketEvent extends EventBase {
  readonly kind: 'connect' | 'accept';
  /** connect: 0 / -errno (-115 EINPROGRESS for non-blocking sockets); accept: the new fd. */
  readonly ret: number;
  readonly family: 4 | 6 | 0;
  readonly transport: Transport;
  readonly protocol: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** connect: destination; accept: the peer. */
  readonly peerAddress: string;
  readonly peerPort: number;
  /** Non-blocking connect: the outcome is not known yet. */
  readonly inProgress: boolean;
}

export interface DnsEvent extends EventBase {
  readonly kind: 'dns';
  readonly name: string;
  readonly qtype: number;
  readonly qclass: number;
  readonly txid: number;
  readonly serverAddress: string;
  readonly serverPort: number;
}

export interface TlsEvent extends EventBase {
  readonly kind: 'tls';
  readonly direction: 'write' | 'read';
  /** Bytes SSL_write/SSL_read moved in this call. */
  readonly totalLen: number;
  /** The captured plaintext (first bytes, bounded). */
  readonly data: Buffer;
}

export interface HttpEvent extends EventBase {
  readonly kind: 'http';
  readonly totalLen: number;
  readonly data: Buffer;
  readonly fd: number;
  readonly peerAddress: string;
  readonly peerPort: number;
}

export type SensorEvent = ExecEvent | ExitEvent | ForkEvent | OpenEvent | SocketEvent | DnsEvent | TlsEvent | HttpEvent;

export interface StreamHeaderRecord {
  readonly kind: 'stream-header';
  readonly seq: number;
  readonly protocolVersion: number;
  readonly layoutVersion: number;
  readonly realtimeNs: bigint;
  readonly boottimeNs: bigint;
  /** epoch_ns = ktime_ns + bootOffsetNs. */
  readonly bootOffsetNs: bigint;
  readonly sensorPid: number;
  readonly ncpus: number;
  readonly ringbufBytes: number;
  readonly monitorAll: boolean;
}

export interface TypeCounters {
  attempted: number;
  emitted: number;
  rbDrops: number;
  deduped: number;
  helperErrors: number;
}

export interface StatsRecord {
  readonly kind: 'stats';
  readonly seq: number;
  readonly ktimeNs: bigint;
  /** Last frame: programs detached and the ring drained before the counters were read. */
  readonly final: boolean;
  readonly ncpus: number;
  readonly rbConsumed: number;
  readonly framesWritten: number;
  readonly bytesWritten: number;
  readonly uprobeTargets: number;
  readonly monitoredPids: number;
  readonly perType: Readonly<Record<EventKind, TypeCounters>>;
  readonly filtered: { readonly notMonitored: number; readonly pathIgnored: number; readonly notInteresting: number; readonly noSignature: number };
  /** Sums over all types. */
  readonly totals: TypeCounters;
}

export type LogLevel = 'info' | 'warn' | 'error';
export type LogCode =
  | 'ready'
  | 'control-ok'
  | 'control-bad'
  | 'uprobe-attached'
  | 'uprobe-skipped'
  | 'uprobe-failed'
  | 'generic'
  | 'unknown';

export interface LogRecord {
  readonly kind: 'log';
  readonly seq: number;
  readonly level: LogLevel;
  readonly code: LogCode;
  /** -errno or 0. */
  readonly err: number;
  readonly message: string;
}

/** `shadow`: a shadow-AI signature matched (provider DNS name, inference API path, model artifact, server executable). */
export type MonitorReason = 'env_marker' | 'comm' | 'pid' | 'inherited' | 'shadow';

/** Monitoring of a process begins (frame kind 5): at an exec that matched a rule, or for a running process. */
export interface MonitorRecord {
  readonly kind: 'monitor';
  readonly seq: number;
  readonly pid: number;
  readonly ppid: number;
  readonly reason: MonitorReason;
  /** The process ran before monitoring began: what it did earlier was not seen. */
  readonly partial: boolean;
  /** Found by the sensor's start-up scan (it was running before the sensor). */
  readonly atStart: boolean;
  /** The env marker rule that matched (`OPENAI_API_KEY`, `TRACELOOP_*`), or for `shadow` the signature (`dns:api.openai.com`), or ''. Never a value. */
  readonly marker: string;
  /** Epoch ns when monitoring began; undefined before the stream header. */
  readonly sinceUnixNano: bigint | undefined;
  /** Epoch ns the process started (its exec for exec matches); undefined if unknown. */
  readonly startUnixNano: bigint | undefined;
}

export type SensorRecord = SensorEvent | StreamHeaderRecord | StatsRecord | LogRecord | MonitorRecord;

export type FrameErrorReason =
  | 'bad-magic' // bytes that are not a frame start (skipped until the next magic)
  | 'bad-header' // header check, kind or length invalid
  | 'bad-payload' // payload inconsistent with its frame (size, type, lengths)
  | 'truncated'; // stream ended inside a frame

export class FrameDecodeError extends Error {
  constructor(
    readonly reason: FrameErrorReason,
    /** Offset in the whole stream (bytes pushed so far) where the problem starts. */
    readonly streamOffset: number,
    message: string,
  ) {
    super(message);
    this.name = 'FrameDecodeError';
  }
}

export interface FrameDecoderCounters {
  bytesIn: number;
  frames: number;
  events: number;
  /** Bytes discarded while resynchronising, including rejected frames' bytes. */
  bytesSkipped: number;
  framesRejected: number;
  resyncs: number;
  /** Frames missing according to the sequence numbers. */
  seqGaps: number;
}

export interface FrameDecoderOptions {
  /** Called for every problem; decoding continues. */
  readonly onError?: (err: FrameDecodeError) => void;
  /** Upper bound on a payload; larger lengths count as corruption. */
  readonly maxPayload?: number;
}

export interface FrameDecoder {
  /** Decodes what `chunk` completes; records are appended to `out` (a new array if omitted) and returned. */
  push(chunk: Buffer, out?: SensorRecord[]): SensorRecord[];
  /** Declares end of stream: leftover bytes are reported as a truncated frame. */
  end(): void;
  readonly counters: Readonly<FrameDecoderCounters>;
  /** The stream header, once seen. */
  readonly streamHeader: StreamHeaderRecord | undefined;
}

// Offsets, hoisted so the hot path does not walk the layout objects.
const FH = S.frame_hdr.fields;
const FH_SIZE = S.frame_hdr.size;
const H = S.event_hdr.fields;
const HDR_SIZE = S.event_hdr.size;
const MAGIC = C.AIBOM_FRAME_MAGIC;
const MAGIC_BYTES = Buffer.from([0x41, 0x49, 0x42, 0x46]);

// Little-endian integers read byte by byte: Buffer's readUInt32LE and friends validate their offset in a
// call that is not inlined (~15 reads per event, 0.2 µs of it); every read here is inside a length the
// decoder checked first.
const u16 = (b: Buffer, o: number): number => b[o]! | (b[o + 1]! << 8);
const i32 = (b: Buffer, o: number): number => b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);
const u32 = (b: Buffer, o: number): number => i32(b, o) >>> 0;

/** A lookup table indexed by a C enum value (packed: every slot up to `size` exists). */
function enumTable<T>(size: number, pairs: readonly (readonly [number, T])[]): readonly (T | undefined)[] {
  const t = new Array<T | undefined>(size).fill(undefined);
  for (const [code, v] of pairs) t[code] = v;
  return t;
}

const TYPE_KIND = enumTable<EventKind>(C.EV_MAX, [
  [C.EV_EXEC, 'exec'],
  [C.EV_EXIT, 'exit'],
  [C.EV_FORK, 'fork'],
  [C.EV_OPEN, 'open'],
  [C.EV_CONNECT, 'connect'],
  [C.EV_ACCEPT, 'accept'],
  [C.EV_DNS, 'dns'],
  [C.EV_TLS, 'tls'],
  [C.EV_HTTP, 'http'],
]);

/** Fixed part (bytes before the variable tail) of each event type; frames shorter than this are corrupt. */
const FIXED_SIZE: Readonly<Record<EventKind, number>> = {
  exec: S.exec_event.fields.args.offset,
  exit: S.exit_event.size,
  fork: S.fork_event.size,
  open: S.open_event.fields.path.offset,
  connect: S.sock_event.size,
  accept: S.sock_event.size,
  dns: S.dns_event.fields.name.offset,
  tls: S.data_event.fields.data.offset,
  http: S.data_event.fields.data.offset,
};
const MAX_SIZE: Readonly<Record<EventKind, number>> = {
  exec: S.exec_event.size,
  exit: S.exit_event.size,
  fork: S.fork_event.size,
  open: S.open_event.size,
  connect: S.sock_event.size,
  accept: S.sock_event.size,
  dns: S.dns_event.size,
  tls: S.data_event.size,
  http: S.data_event.size,
};

const MONITOR_REASONS = enumTable<MonitorReason | 'none'>(C.MONR_SHADOW + 1, [
  [C.MONR_NONE, 'none'],
  [C.MONR_ENV_MARKER, 'env_marker'],
  [C.MONR_COMM, 'comm'],
  [C.MONR_PID, 'pid'],
  [C.MONR_INHERITED, 'inherited'],
  [C.MONR_SHADOW, 'shadow'],
]);

const LOG_LEVELS: readonly LogLevel[] = ['info', 'info', 'warn', 'error'];
const LOG_CODES: readonly LogCode[] = [
  'unknown',
  'ready',
  'control-ok',
  'control-bad',
  'uprobe-attached',
  'uprobe-skipped',
  'uprobe-failed',
  'generic',
];

/**
 * Open paths, exec filenames and comms repeat (a run opens the same modules again and again): each is made
 * once and shared while it stays in this cache (1024 strings of up to a path's 256 bytes, 256 KiB of keys).
 */
const repeated = stringCache(1024, S.open_event.fields.path.size);

/** NUL-terminated string inside [start, end). */
function cstr(buf: Buffer, start: number, end: number): string {
  let nul = start;
  while (nul < end && buf[nul] !== 0) nul++;
  return repeated(buf, start, nul);
}

/**
 * IPv4 addresses repeat (an agent talks to a few peers): the last string made for an address is kept in
 * one of 256 slots chosen by its bits, so a connect or HTTP event makes none.
 */
const V4_SLOTS = 256;
const v4Keys = new Int32Array(V4_SLOTS);
const v4Strings: (string | undefined)[] = new Array<string | undefined>(V4_SLOTS).fill(undefined);

export function formatIPv4(buf: Buffer, off: number): string {
  const key = i32(buf, off);
  const slot = Math.imul(key, 0x9e3779b1) >>> 24;
  const cached = v4Strings[slot];
  if (cached !== undefined && v4Keys[slot] === key) return cached;
  const s = `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
  v4Keys[slot] = key;
  v4Strings[slot] = s;
  return s;
}

/** RFC 5952 text form (longest zero run compressed, IPv4-mapped shown dotted). */
export function formatIPv6(buf: Buffer, off: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(buf.readUInt16BE(off + i * 2));
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIPv4(buf, off + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function formatAddr(buf: Buffer, off: number, ipv6: boolean): string {
  return ipv6 ? formatIPv6(buf, off) : formatIPv4(buf, off);
}

function transportOf(protocol: number): Transport {
  return protocol === 6 ? 'tcp' : protocol === 17 ? 'udp' : 'other';
}

function readCounters(buf: Buffer, base: number): Pick<StatsRecord, 'perType' | 'filtered' | 'totals'> {
  const f = S.sensor_counters.fields;
  const u64 = (fieldOff: number, i: number): number => Number(buf.readBigUInt64LE(base + fieldOff + i * 8));
  const perType = {} as Record<EventKind, TypeCounters>;
  const totals: TypeCounters = { attempted: 0, emitted: 0, rbDrops: 0, deduped: 0, helperErrors: 0 };
  for (let t = 0; t < C.EV_MAX; t++) {
    const c: TypeCounters = {
      attempted: u64(f.attempted.offset, t),
      emitted: u64(f.emitted.offset, t),
      rbDrops: u64(f.rb_drops.offset, t),
      deduped: u64(f.deduped.offset, t),
      helperErrors: u64(f.helper_errors.offset, t),
    };
    totals.attempted += c.attempted;
    totals.emitted += c.emitted;
    totals.rbDrops += c.rbDrops;
    totals.deduped += c.deduped;
    totals.helperErrors += c.helperErrors;
    const kind = TYPE_KIND[t];
    if (kind) perType[kind] = c;
  }
  return {
    perType,
    totals,
    filtered: {
      notMonitored: u64(f.filtered.offset, C.FILT_NOT_MONITORED),
      pathIgnored: u64(f.filtered.offset, C.FILT_PATH_IGNORED),
      notInteresting: u64(f.filtered.offset, C.FILT_NOT_INTERESTING),
      noSignature: u64(f.filtered.offset, C.FILT_NO_SIGNATURE),
    },
  };
}

class StreamFrameDecoder implements FrameDecoder {
  readonly counters: FrameDecoderCounters = {
    bytesIn: 0,
    frames: 0,
    events: 0,
    bytesSkipped: 0,
    framesRejected: 0,
    resyncs: 0,
    seqGaps: 0,
  };
  streamHeader: StreamHeaderRecord | undefined;

  private pending: Buffer | undefined;
  /** Stream offset of pending[0]. */
  private pendingBase = 0;
  private nextSeq = -1;
  private inResync = false;
  /** The stream header's boot offset as 32-bit words; high -1 before the header. */
  private offsetLow = 0;
  private offsetHigh = -1;
  private readonly onError: (err: FrameDecodeError) => void;
  private readonly maxPayload: number;

  constructor(opts: FrameDecoderOptions) {
    this.onError = opts.onError ?? (() => {});
    this.maxPayload = opts.maxPayload ?? C.AIBOM_FRAME_MAX_PAYLOAD;
  }

  push(chunk: Buffer, out: SensorRecord[] = []): SensorRecord[] {
    this.counters.bytesIn += chunk.length;
    let buf: Buffer;
    if (this.pending && this.pending.length > 0) {
      buf = Buffer.concat([this.pending, chunk]);
    } else {
      buf = chunk;
    }
    let pos = 0;
    const len = buf.length;
    while (len - pos >= FH_SIZE) {
      if (u32(buf, pos + FH.magic.offset) !== MAGIC) {
        pos = this.resync(buf, pos, 'bad-magic', 'no frame magic');
        continue;
      }
      const kind = u16(buf, pos + FH.kind.offset);
      const check = u16(buf, pos + FH.hdr_check.offset);
      const plen = u32(buf, pos + FH.payload_len.offset);
      if (
        check !== frameHeaderCheck(kind, plen) ||
        plen > this.maxPayload ||
        kind < C.FRAME_STREAM_HEADER ||
        kind > C.FRAME_MONITOR
      ) {
        this.counters.framesRejected++;
        pos = this.resync(buf, pos, 'bad-header', `invalid frame header (kind ${kind}, length ${plen})`);
        continue;
      }
      if (len - pos < FH_SIZE + plen) break; // wait for the rest of the frame
      const seq = u32(buf, pos + FH.seq.offset);
      const rec = this.decodePayload(buf, pos + FH_SIZE, plen, kind, seq);
      if (rec === undefined) {
        this.counters.framesRejected++;
        pos = this.resync(buf, pos, 'bad-payload', `frame ${seq}: payload inconsistent with kind ${kind}`);
        continue;
      }
      if (this.nextSeq >= 0 && seq !== this.nextSeq) {
        this.counters.seqGaps += (seq - this.nextSeq) >>> 0;
      }
      this.nextSeq = (seq + 1) >>> 0;
      this.inResync = false;
      this.counters.frames++;
      if (kind === C.FRAME_EVENT) this.counters.events++;
      out.push(rec);
      pos += FH_SIZE + plen;
    }
    this.pendingBase += pos;
    // Keep the unconsumed tail; copy it only if it aliases the caller's chunk.
    this.pending = pos >= len ? undefined : buf === chunk ? Buffer.from(buf.subarray(pos)) : buf.subarray(pos);
    return out;
  }

  end(): void {
    const rest = this.pending?.length ?? 0;
    if (rest > 0) {
      this.counters.bytesSkipped += rest;
      this.onError(
        new FrameDecodeError('truncated', this.pendingBase, `stream ended inside a frame (${rest} bytes left)`),
      );
    }
    this.pending = undefined;
    this.pendingBase += rest;
  }

  /** Skips from `pos` to the next possible frame start and returns it; reports once per resync episode. */
  private resync(buf: Buffer, pos: number, reason: FrameErrorReason, what: string): number {
    if (!this.inResync) {
      this.inResync = true;
      this.counters.resyncs++;
      this.onError(new FrameDecodeError(reason, this.pendingBase + pos, `${what} at stream offset ${this.pendingBase + pos}`));
    }
    const next = buf.indexOf(MAGIC_BYTES, pos + 1);
    // Without a magic, keep the last 3 bytes: they may be the start of one.
    const to = next >= 0 ? next : Math.max(pos + 1, buf.length - 3);
    this.counters.bytesSkipped += to - pos;
    return to;
  }

  private decodePayload(buf: Buffer, p: number, plen: number, kind: number, seq: number): SensorRecord | undefined {
    switch (kind) {
      case C.FRAME_EVENT:
        return this.decodeEvent(buf, p, plen, seq);
      case C.FRAME_STREAM_HEADER: {
        if (plen < S.stream_header.size) return undefined;
        const f = S.stream_header.fields;
        const rec: StreamHeaderRecord = {
          kind: 'stream-header',
          seq,
          protocolVersion: u32(buf, p + f.protocol_version.offset),
          layoutVersion: u32(buf, p + f.layout_version.offset),
          realtimeNs: buf.readBigUInt64LE(p + f.realtime_ns.offset),
          boottimeNs: buf.readBigUInt64LE(p + f.boottime_ns.offset),
          bootOffsetNs: buf.readBigUInt64LE(p + f.boot_offset_ns.offset),
          sensorPid: u32(buf, p + f.sensor_pid.offset),
          ncpus: u32(buf, p + f.ncpus.offset),
          ringbufBytes: u32(buf, p + f.ringbuf_bytes.offset),
          monitorAll: (u32(buf, p + f.flags.offset) & 1) !== 0,
        };
        this.streamHeader = rec;
        this.offsetLow = Number(rec.bootOffsetNs & 0xffffffffn);
        this.offsetHigh = Number(rec.bootOffsetNs >> 32n);
        return rec;
      }
      case C.FRAME_STATS: {
        if (plen < S.stats_frame.size) return undefined;
        const f = S.stats_frame.fields;
        return {
          kind: 'stats',
          seq,
          ktimeNs: buf.readBigUInt64LE(p + f.ktime_ns.offset),
          final: u32(buf, p + f.final.offset) !== 0,
          ncpus: u32(buf, p + f.ncpus.offset),
          rbConsumed: Number(buf.readBigUInt64LE(p + f.rb_consumed.offset)),
          framesWritten: Number(buf.readBigUInt64LE(p + f.frames_written.offset)),
          bytesWritten: Number(buf.readBigUInt64LE(p + f.bytes_written.offset)),
          uprobeTargets: Number(buf.readBigUInt64LE(p + f.uprobe_targets.offset)),
          monitoredPids: Number(buf.readBigUInt64LE(p + f.monitored_pids.offset)),
          ...readCounters(buf, p + f.counters.offset),
        };
      }
      case C.FRAME_LOG: {
        const f = S.log_frame.fields;
        if (plen < S.log_frame.size) return undefined;
        const msgLen = u32(buf, p + f.msg_len.offset);
        if (S.log_frame.size + msgLen !== plen) return undefined;
        const level = u16(buf, p + f.level.offset);
        const code = u16(buf, p + f.code.offset);
        return {
          kind: 'log',
          seq,
          level: LOG_LEVELS[level] ?? 'error',
          code: LOG_CODES[code] ?? 'unknown',
          err: i32(buf, p + f.err.offset),
          message: buf.toString('utf8', p + S.log_frame.size, p + plen),
        };
      }
      case C.FRAME_MONITOR: {
        const f = S.monitor_frame.fields;
        if (plen !== S.monitor_frame.size) return undefined;
        const reason = MONITOR_REASONS[u16(buf, p + f.reason.offset)];
        const markerLen = u16(buf, p + f.marker_len.offset);
        if (reason === undefined || reason === 'none' || markerLen > f.marker.size) return undefined;
        const flags = u16(buf, p + f.flags.offset);
        const off = this.streamHeader?.bootOffsetNs;
        const start = buf.readBigUInt64LE(p + f.start_ktime_ns.offset);
        const rec: MonitorRecord = {
          kind: 'monitor',
          seq,
          pid: u32(buf, p + f.pid.offset),
          ppid: u32(buf, p + f.ppid.offset),
          reason,
          partial: (flags & C.MONF_PARTIAL) !== 0,
          atStart: (flags & C.MONF_AT_START) !== 0,
          marker: buf.toString('latin1', p + f.marker.offset, p + f.marker.offset + markerLen),
          sinceUnixNano: off === undefined ? undefined : buf.readBigUInt64LE(p + f.ktime_ns.offset) + off,
          startUnixNano: off === undefined || start === 0n ? undefined : start + off,
        };
        return rec;
      }
      default:
        return undefined;
    }
  }

  private decodeEvent(buf: Buffer, p: number, plen: number, seq: number): SensorEvent | undefined {
    if (plen < HDR_SIZE) return undefined;
    const type = u16(buf, p + H.type.offset);
    const kind = TYPE_KIND[type];
    const size = u32(buf, p + H.size.offset);
    if (kind === undefined || size !== plen || plen < FIXED_SIZE[kind] || plen > MAX_SIZE[kind]) return undefined;

    const flags = u16(buf, p + H.flags.offset);
    // 32-bit words as signed integers (see DecodedEvent); the sum below on the unsigned ones.
    const kLow = u32(buf, p + H.ktime_ns.offset);
    const kHigh = u32(buf, p + H.ktime_ns.offset + 4);
    // epoch = ktime + the boot offset, word by word (the high word may pass 2^32: the BigInt sum's).
    const low = kLow + this.offsetLow;
    const carry = low >= 0x1_0000_0000 ? 1 : 0;
    const ipv6 = (flags & C.EVF_IPV6) !== 0;
    const r = new DecodedEvent(
      kind,
      seq,
      kLow | 0,
      kHigh | 0,
      (low - carry * 0x1_0000_0000) | 0,
      this.offsetHigh < 0 ? -1 : kHigh + this.offsetHigh + carry,
      u32(buf, p + H.pid.offset),
      u32(buf, p + H.tid.offset),
      u32(buf, p + H.ppid.offset),
      u32(buf, p + H.uid.offset),
      i32(buf, p + H.cgroup_id.offset),
      i32(buf, p + H.cgroup_id.offset + 4),
      cstr(buf, p + H.comm.offset, p + H.comm.offset + H.comm.size),
      flags,
      u32(buf, p + H.repeat.offset),
    );

    switch (kind) {
      case 'exec': {
        const f = S.exec_event.fields;
        const fnLen = u16(buf, p + f.filename_len.offset);
        const argsLen = u16(buf, p + f.args_len.offset);
        if (fnLen > f.filename.size || f.args.offset + argsLen !== plen) return undefined;
        const argsStart = p + f.args.offset;
        const args: string[] = [];
        let s = argsStart;
        const end = argsStart + argsLen;
        while (s < end) {
          let nul = buf.indexOf(0, s);
          if (nul < 0 || nul > end) nul = end;
          args.push(buf.toString('utf8', s, nul));
          s = nul + 1;
        }
        r.oldPid = u32(buf, p + f.old_pid.offset);
        r.filename = repeated(buf, p + f.filename.offset, p + f.filename.offset + fnLen);
        r.args = args;
        r.argsCount = u32(buf, p + f.args_count.offset);
        const why = MONITOR_REASONS[u16(buf, p + f.monitor_reason.offset)];
        if (why === undefined) return undefined;
        r.monitorReason = why;
        return r as unknown as SensorEvent;
      }
      case 'exit': {
        const f = S.exit_event.fields;
        r.exitStatus = u32(buf, p + f.exit_code.offset); // exitCode and signal are read from it
        r.startKtimeNs = buf.readBigUInt64LE(p + f.start_ktime_ns.offset);
        return r as unknown as SensorEvent;
      }
      case 'fork':
        r.childPid = u32(buf, p + S.fork_event.fields.child_pid.offset);
        return r as unknown as SensorEvent;
      case 'open': {
        const f = S.open_event.fields;
        const pathLen = u16(buf, p + f.path_len.offset);
        if (f.path.offset + pathLen !== plen) return undefined;
        r.path = repeated(buf, p + f.path.offset, p + plen);
        r.openFlags = u32(buf, p + f.open_flags.offset);
        r.mode = u32(buf, p + f.mode.offset);
        r.ret = i32(buf, p + f.ret.offset);
        return r as unknown as SensorEvent;
      }
      case 'connect':
      case 'accept': {
        const f = S.sock_event.fields;
        const family = u16(buf, p + f.family.offset);
        const protocol = u16(buf, p + f.protocol.offset);
        r.ret = i32(buf, p + f.ret.offset);
        r.family = family === 2 ? 4 : family === 10 ? 6 : 0;
        r.transport = transportOf(protocol);
        r.protocol = protocol;
        r.localAddress = formatAddr(buf, p + f.saddr.offset, ipv6);
        r.localPort = u16(buf, p + f.sport.offset);
        r.peerAddress = formatAddr(buf, p + f.daddr.offset, ipv6);
        r.peerPort = u16(buf, p + f.dport.offset);
        return r as unknown as SensorEvent;
      }
      case 'dns': {
        const f = S.dns_event.fields;
        const nameLen = u16(buf, p + f.name_len.offset);
        if (f.name.offset + nameLen !== plen) return undefined;
        r.name = buf.toString('latin1', p + f.name.offset, p + plen);
        r.qtype = u16(buf, p + f.qtype.offset);
        r.qclass = u16(buf, p + f.qclass.offset);
        r.txid = u16(buf, p + f.txid.offset);
        r.serverAddress = formatAddr(buf, p + f.daddr.offset, ipv6);
        r.serverPort = u16(buf, p + f.dport.offset);
        return r as unknown as SensorEvent;
      }
      case 'tls':
      case 'http': {
        const f = S.data_event.fields;
        const dataLen = u16(buf, p + f.data_len.offset);
        if (f.data.offset + dataLen !== plen) return undefined;
        // A view, not a copy: the receiver parses the data as it converts the event and then drops it, and a
        // chunk, once pushed, is never written again (the stream's buffers are new for every read).
        const data = buf.subarray(p + f.data.offset, p + plen);
        const totalLen = u32(buf, p + f.total_len.offset);
        if (kind === 'tls') {
          const source = buf.readUInt8(p + f.source.offset);
          r.direction = source === C.DATA_SRC_SSL_READ ? 'read' : 'write';
          r.totalLen = totalLen;
          r.data = data;
          return r as unknown as SensorEvent;
        }
        r.totalLen = totalLen;
        r.data = data;
        r.fd = u32(buf, p + f.fd.offset);
        r.peerAddress = formatAddr(buf, p + f.daddr.offset, ipv6);
        r.peerPort = u16(buf, p + f.dport.offset);
        return r as unknown as SensorEvent;
      }
    }
  }
}

export function createFrameDecoder(opts: FrameDecoderOptions = {}): FrameDecoder {
  return new StreamFrameDecoder(opts);
}
