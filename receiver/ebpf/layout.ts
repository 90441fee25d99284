// Byte layout of the sensor's frames and event structs (bpf/aibom-sensor.h), as the decoder reads them.
// Hand-maintained on purpose: layout.test.ts compares it with bpf/.output/layout.json, which a C program
// prints from the real structs, so a C change without a matching change here fails the build.

export interface FieldLayout {
  readonly offset: number;
  readonly size: number;
}

export interface StructLayout {
  readonly size: number;
  readonly fields: Readonly<Record<string, FieldLayout>>;
}

export const LAYOUT_VERSION = 3;
export const PROTOCOL_VERSION = 2;

export const STRUCTS = {
  event_hdr: {
    size: 64,
    fields: {
      type: { offset: 0, size: 2 },
      flags: { offset: 2, size: 2 },
      size: { offset: 4, size: 4 },
      ktime_ns: { offset: 8, size: 8 },
      pid: { offset: 16, size: 4 },
      tid: { offset: 20, size: 4 },
      ppid: { offset: 24, size: 4 },
      uid: { offset: 28, size: 4 },
      cgroup_id: { offset: 32, size: 8 },
      repeat: { offset: 40, size: 4 },
      _pad0: { offset: 44, size: 4 },
      comm: { offset: 48, size: 16 },
    },
  },
  exec_event: {
    size: 1360,
    fields: {
      hdr: { offset: 0, size: 64 },
      old_pid: { offset: 64, size: 4 },
      filename_len: { offset: 68, size: 2 },
      args_len: { offset: 70, size: 2 },
      args_count: { offset: 72, size: 4 },
      monitor_reason: { offset: 76, size: 2 },
      env_marker: { offset: 78, size: 2 },
      filename: { offset: 80, size: 256 },
      args: { offset: 336, size: 1024 },
    },
  },
  exit_event: {
    size: 80,
    fields: {
      hdr: { offset: 0, size: 64 },
      exit_code: { offset: 64, size: 4 },
      _pad0: { offset: 68, size: 4 },
      start_ktime_ns: { offset: 72, size: 8 },
    },
  },
  fork_event: {
    size: 72,
    fields: {
      hdr: { offset: 0, size: 64 },
      child_pid: { offset: 64, size: 4 },
      _pad0: { offset: 68, size: 4 },
    },
  },
  open_event: {
    size: 336,
    fields: {
      hdr: { offset: 0, size: 64 },
      ret: { offset: 64, size: 4 },
      open_flags: { offset: 68, size: 4 },
      mode: { offset: 72, size: 4 },
      path_len: { offset: 76, size: 2 },
      _pad0: { offset: 78, size: 2 },
      path: { offset: 80, size: 256 },
    },
  },
  sock_event: {
    size: 112,
    fields: {
      hdr: { offset: 0, size: 64 },
      ret: { offset: 64, size: 4 },
      family: { offset: 68, size: 2 },
      protocol: { offset: 70, size: 2 },
      sport: { offset: 72, size: 2 },
      dport: { offset: 74, size: 2 },
      _pad0: { offset: 76, size: 4 },
      saddr: { offset: 80, size: 16 },
      daddr: { offset: 96, size: 16 },
    },
  },
  dns_event: {
    size: 352,
    fields: {
      hdr: { offset: 0, size: 64 },
      family: { offset: 64, size: 2 },
      dport: { offset: 66, size: 2 },
      txid: { offset: 68, size: 2 },
      qtype: { offset: 70, size: 2 },
      qclass: { offset: 72, size: 2 },
      name_len: { offset: 74, size: 2 },
      _pad0: { offset: 76, size: 4 },
      daddr: { offset: 80, size: 16 },
      name: { offset: 96, size: 256 },
    },
  },
  data_event: {
    size: 2144,
    fields: {
      hdr: { offset: 0, size: 64 },
      total_len: { offset: 64, size: 4 },
      data_len: { offset: 68, size: 2 },
      source: { offset: 70, size: 1 },
      _pad0: { offset: 71, size: 1 },
      family: { offset: 72, size: 2 },
      dport: { offset: 74, size: 2 },
      fd: { offset: 76, size: 4 },
      daddr: { offset: 80, size: 16 },
      data: { offset: 96, size: 2048 },
    },
  },
  sensor_counters: {
    size: 704,
    fields: {
      attempted: { offset: 0, size: 128 },
      emitted: { offset: 128, size: 128 },
      rb_drops: { offset: 256, size: 128 },
      deduped: { offset: 384, size: 128 },
      helper_errors: { offset: 512, size: 128 },
      filtered: { offset: 640, size: 64 },
    },
  },
  frame_hdr: {
    size: 16,
    fields: {
      magic: { offset: 0, size: 4 },
      kind: { offset: 4, size: 2 },
      hdr_check: { offset: 6, size: 2 },
      payload_len: { offset: 8, size: 4 },
      seq: { offset: 12, size: 4 },
    },
  },
  stream_header: {
    size: 48,
    fields: {
      protocol_version: { offset: 0, size: 4 },
      layout_version: { offset: 4, size: 4 },
      realtime_ns: { offset: 8, size: 8 },
      boottime_ns: { offset: 16, size: 8 },
      boot_offset_ns: { offset: 24, size: 8 },
      sensor_pid: { offset: 32, size: 4 },
      ncpus: { offset: 36, size: 4 },
      ringbuf_bytes: { offset: 40, size: 4 },
      flags: { offset: 44, size: 4 },
    },
  },
  stats_frame: {
    size: 760,
    fields: {
      ktime_ns: { offset: 0, size: 8 },
      final: { offset: 8, size: 4 },
      ncpus: { offset: 12, size: 4 },
      rb_consumed: { offset: 16, size: 8 },
      frames_written: { offset: 24, size: 8 },
      bytes_written: { offset: 32, size: 8 },
      uprobe_targets: { offset: 40, size: 8 },
      monitored_pids: { offset: 48, size: 8 },
      counters: { offset: 56, size: 704 },
    },
  },
  monitor_frame: {
    size: 96,
    fields: {
      ktime_ns: { offset: 0, size: 8 },
      start_ktime_ns: { offset: 8, size: 8 },
      pid: { offset: 16, size: 4 },
      ppid: { offset: 20, size: 4 },
      reason: { offset: 24, size: 2 },
      flags: { offset: 26, size: 2 },
      marker_len: { offset: 28, size: 2 },
      _pad0: { offset: 30, size: 2 },
      marker: { offset: 32, size: 64 },
    },
  },
  log_frame: {
    size: 16,
    fields: {
      level: { offset: 0, size: 2 },
      code: { offset: 2, size: 2 },
      err: { offset: 4, size: 4 },
      msg_len: { offset: 8, size: 4 },
      _pad0: { offset: 12, size: 4 },
    },
  },
} as const satisfies Record<string, StructLayout>;

export type StructName = keyof typeof STRUCTS;

export const CONSTANTS = {
  AIBOM_FRAME_MAGIC: 0x46424941, // bytes "AIBF"
  AIBOM_FRAME_MAX_PAYLOAD: 65536,
  EV_EXEC: 1,
  EV_EXIT: 2,
  EV_FORK: 3,
  EV_OPEN: 4,
  EV_CONNECT: 5,
  EV_ACCEPT: 6,
  EV_DNS: 7,
  EV_TLS: 8,
  EV_HTTP: 9,
  EV_MAX: 16,
  FILT_NOT_MONITORED: 0,
  FILT_PATH_IGNORED: 1,
  FILT_NOT_INTERESTING: 2,
  FILT_NO_SIGNATURE: 3,
  FILT_MAX: 8,
  EVF_TRUNCATED: 0x1,
  EVF_CREDENTIAL: 0x2,
  EVF_IPV6: 0x4,
  EVF_NO_RESULT: 0x8,
  EVF_SHADOW: 0x10,
  EVF_SHADOW_START: 0x20,
  EVF_SHADOW_BODY: 0x40,
  FRAME_STREAM_HEADER: 1,
  FRAME_EVENT: 2,
  FRAME_STATS: 3,
  FRAME_LOG: 4,
  FRAME_MONITOR: 5,
  MONR_NONE: 0,
  MONR_ENV_MARKER: 1,
  MONR_COMM: 2,
  MONR_PID: 3,
  MONR_INHERITED: 4,
  MONR_SHADOW: 5,
  MONF_PARTIAL: 0x1,
  MONF_AT_START: 0x2,
  DATA_SRC_SSL_WRITE: 1,
  DATA_SRC_SSL_READ: 2,
  DATA_SRC_SOCKET_SEND: 3,
} as const;

/** Frame header check value, mirrored from the loader's write_frame(). */
export function frameHeaderCheck(kind: number, payloadLen: number): number {
  return (kind ^ (payloadLen & 0xffff) ^ (payloadLen >>> 16) ^ 0xa1b0) & 0xffff;
}
