// Builds sensor frames in TypeScript, byte-compatible with bpf/aibom-sensor.c, for decoder tests and the
// decoder benchmark. Not used on the production path.

import { CONSTANTS as C, STRUCTS as S, frameHeaderCheck } from './layout.js';

export function encodeFrame(kind: number, payload: Buffer, seq: number): Buffer {
  const f = S.frame_hdr.fields;
  const b = Buffer.alloc(S.frame_hdr.size + payload.length);
  b.writeUInt32LE(C.AIBOM_FRAME_MAGIC, f.magic.offset);
  b.writeUInt16LE(kind, f.kind.offset);
  b.writeUInt16LE(frameHeaderCheck(kind, payload.length), f.hdr_check.offset);
  b.writeUInt32LE(payload.length, f.payload_len.offset);
  b.writeUInt32LE(seq >>> 0, f.seq.offset);
  payload.copy(b, S.frame_hdr.size);
  return b;
}

export interface HdrInit {
  type: number;
  size: number;
  pid?: number;
  ppid?: number;
  flags?: number;
  ktimeNs?: bigint;
  comm?: string;
  repeat?: number;
}

function writeHdr(b: Buffer, h: HdrInit): void {
  const f = S.event_hdr.fields;
  b.writeUInt16LE(h.type, f.type.offset);
  b.writeUInt16LE(h.flags ?? 0, f.flags.offset);
  b.writeUInt32LE(h.size, f.size.offset);
  b.writeBigUInt64LE(h.ktimeNs ?? 1_000_000_000n, f.ktime_ns.offset);
  b.writeUInt32LE(h.pid ?? 100, f.pid.offset);
  b.writeUInt32LE(h.pid ?? 100, f.tid.offset);
  b.writeUInt32LE(h.ppid ?? 1, f.ppid.offset);
  b.writeUInt32LE(0, f.uid.offset);
  b.writeBigUInt64LE(1n, f.cgroup_id.offset);
  b.writeUInt32LE(h.repeat ?? 0, f.repeat.offset);
  b.write(h.comm ?? 'python3', f.comm.offset, f.comm.size, 'utf8');
}

export function openEventPayload(opts: { pid?: number; path: string; ret?: number; flags?: number; comm?: string }): Buffer {
  const f = S.open_event.fields;
  const path = Buffer.from(opts.path);
  const size = f.path.offset + path.length;
  const b = Buffer.alloc(size);
  writeHdr(b, { type: C.EV_OPEN, size, pid: opts.pid, flags: opts.flags, comm: opts.comm });
  b.writeInt32LE(opts.ret ?? 3, f.ret.offset);
  b.writeUInt32LE(0o2000000, f.open_flags.offset);
  b.writeUInt16LE(path.length, f.path_len.offset);
  path.copy(b, f.path.offset);
  return b;
}

export function execEventPayload(opts: { pid?: number; ppid?: number; filename: string; args: string[]; comm?: string }): Buffer {
  const f = S.exec_event.fields;
  const args = Buffer.from(opts.args.map((a) => `${a}\0`).join(''));
  const size = f.args.offset + args.length;
  const b = Buffer.alloc(size);
  writeHdr(b, { type: C.EV_EXEC, size, pid: opts.pid, ppid: opts.ppid, comm: opts.comm });
  b.writeUInt16LE(Buffer.byteLength(opts.filename), f.filename_len.offset);
  b.write(opts.filename, f.filename.offset, f.filename.size, 'utf8');
  b.writeUInt16LE(args.length, f.args_len.offset);
  b.writeUInt32LE(opts.args.length, f.args_count.offset);
  args.copy(b, f.args.offset);
  return b;
}

export function connectEventPayload(opts: { pid?: number; daddr: number[]; dport: number; ipv6?: boolean }): Buffer {
  const f = S.sock_event.fields;
  const b = Buffer.alloc(S.sock_event.size);
  writeHdr(b, { type: C.EV_CONNECT, size: S.sock_event.size, pid: opts.pid, flags: opts.ipv6 ? C.EVF_IPV6 : 0 });
  b.writeUInt16LE(opts.ipv6 ? 10 : 2, f.family.offset);
  b.writeUInt16LE(6, f.protocol.offset);
  b.writeUInt16LE(opts.dport, f.dport.offset);
  Buffer.from(opts.daddr).copy(b, f.daddr.offset);
  return b;
}

export function tlsEventPayload(opts: { pid?: number; data: Buffer; read?: boolean }): Buffer {
  const f = S.data_event.fields;
  const size = f.data.offset + opts.data.length;
  const b = Buffer.alloc(size);
  writeHdr(b, { type: C.EV_TLS, size, pid: opts.pid });
  b.writeUInt32LE(opts.data.length, f.total_len.offset);
  b.writeUInt16LE(opts.data.length, f.data_len.offset);
  b.writeUInt8(opts.read ? C.DATA_SRC_SSL_READ : C.DATA_SRC_SSL_WRITE, f.source.offset);
  opts.data.copy(b, f.data.offset);
  return b;
}

export function httpEventPayload(opts: { pid?: number; data: Buffer; daddr: number[]; dport: number; fd?: number; comm?: string }): Buffer {
  const f = S.data_event.fields;
  const size = f.data.offset + opts.data.length;
  const b = Buffer.alloc(size);
  writeHdr(b, { type: C.EV_HTTP, size, pid: opts.pid, comm: opts.comm });
  b.writeUInt32LE(opts.data.length, f.total_len.offset);
  b.writeUInt16LE(opts.data.length, f.data_len.offset);
  b.writeUInt32LE(opts.fd ?? 21, f.fd.offset);
  b.writeUInt16LE(opts.dport, f.dport.offset);
  Buffer.from(opts.daddr).copy(b, f.daddr.offset);
  opts.data.copy(b, f.data.offset);
  return b;
}

export function forkEventPayload(opts: { pid?: number; childPid: number; comm?: string }): Buffer {
  const b = Buffer.alloc(S.fork_event.size);
  writeHdr(b, { type: C.EV_FORK, size: S.fork_event.size, pid: opts.pid, comm: opts.comm });
  b.writeUInt32LE(opts.childPid, S.fork_event.fields.child_pid.offset);
  return b;
}

/** `status`: the raw wait status, (code << 8) | signal. */
export function exitEventPayload(opts: { pid?: number; status: number; comm?: string }): Buffer {
  const f = S.exit_event.fields;
  const b = Buffer.alloc(S.exit_event.size);
  writeHdr(b, { type: C.EV_EXIT, size: S.exit_event.size, pid: opts.pid, comm: opts.comm });
  b.writeUInt32LE(opts.status, f.exit_code.offset);
  return b;
}

export function dnsEventPayload(opts: { pid?: number; name: string; qtype?: number; server: number[]; comm?: string }): Buffer {
  const f = S.dns_event.fields;
  const name = Buffer.from(opts.name, 'latin1');
  const size = f.name.offset + name.length;
  const b = Buffer.alloc(size);
  writeHdr(b, { type: C.EV_DNS, size, pid: opts.pid, comm: opts.comm });
  b.writeUInt16LE(name.length, f.name_len.offset);
  b.writeUInt16LE(opts.qtype ?? 1, f.qtype.offset);
  b.writeUInt16LE(1, f.qclass.offset);
  b.writeUInt16LE(53, f.dport.offset);
  Buffer.from(opts.server).copy(b, f.daddr.offset);
  name.copy(b, f.name.offset);
  return b;
}

export function streamHeaderPayload(bootOffsetNs: bigint): Buffer {
  const f = S.stream_header.fields;
  const b = Buffer.alloc(S.stream_header.size);
  b.writeUInt32LE(1, f.protocol_version.offset);
  b.writeUInt32LE(1, f.layout_version.offset);
  b.writeBigUInt64LE(bootOffsetNs + 5_000_000_000n, f.realtime_ns.offset);
  b.writeBigUInt64LE(5_000_000_000n, f.boottime_ns.offset);
  b.writeBigUInt64LE(bootOffsetNs, f.boot_offset_ns.offset);
  b.writeUInt32LE(4242, f.sensor_pid.offset);
  b.writeUInt32LE(2, f.ncpus.offset);
  b.writeUInt32LE(1 << 22, f.ringbuf_bytes.offset);
  return b;
}

export function logPayload(level: number, code: number, message: string): Buffer {
  const f = S.log_frame.fields;
  const msg = Buffer.from(message);
  const b = Buffer.alloc(S.log_frame.size + msg.length);
  b.writeUInt16LE(level, f.level.offset);
  b.writeUInt16LE(code, f.code.offset);
  b.writeUInt32LE(msg.length, f.msg_len.offset);
  msg.copy(b, S.log_frame.size);
  return b;
}

export function monitorPayload(opts: { pid: number; ppid: number; reason: number; flags?: number; marker?: string; ktimeNs: bigint; startKtimeNs?: bigint }): Buffer {
  const f = S.monitor_frame.fields;
  const b = Buffer.alloc(S.monitor_frame.size);
  b.writeBigUInt64LE(opts.ktimeNs, f.ktime_ns.offset);
  b.writeBigUInt64LE(opts.startKtimeNs ?? 0n, f.start_ktime_ns.offset);
  b.writeUInt32LE(opts.pid, f.pid.offset);
  b.writeUInt32LE(opts.ppid, f.ppid.offset);
  b.writeUInt16LE(opts.reason, f.reason.offset);
  b.writeUInt16LE(opts.flags ?? 0, f.flags.offset);
  const marker = Buffer.from(opts.marker ?? '', 'latin1');
  b.writeUInt16LE(marker.length, f.marker_len.offset);
  marker.copy(b, f.marker.offset);
  return b;
}

export function statsPayload(emittedOpen: number, dropsOpen: number, final = false): Buffer {
  const f = S.stats_frame.fields;
  const cf = S.sensor_counters.fields;
  const b = Buffer.alloc(S.stats_frame.size);
  b.writeUInt32LE(final ? 1 : 0, f.final.offset);
  const base = f.counters.offset;
  b.writeBigUInt64LE(BigInt(emittedOpen + dropsOpen), base + cf.attempted.offset + C.EV_OPEN * 8);
  b.writeBigUInt64LE(BigInt(emittedOpen), base + cf.emitted.offset + C.EV_OPEN * 8);
  b.writeBigUInt64LE(BigInt(dropsOpen), base + cf.rb_drops.offset + C.EV_OPEN * 8);
  b.writeBigUInt64LE(7n, base + cf.filtered.offset + C.FILT_NOT_MONITORED * 8);
  return b;
}
