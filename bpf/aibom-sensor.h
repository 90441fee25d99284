/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Event structs shared by the kernel programs (aibom-sensor.bpf.c), the loader
 * (aibom-sensor.c), the layout dumper (layout-dump.c) and, through
 * bpf/.output/layout.json, the TypeScript decoder (receiver/ebpf/layout.ts).
 *
 * Rules (checked by _Static_assert below and by receiver/ebpf/layout.test.ts):
 *  - only __u8..__u64 / __s32 / __s64 fields, every pad explicit, so the
 *    layout is identical for the BPF target, x86_64 user space and TypeScript;
 *  - every event starts with struct event_hdr;
 *  - variable-length events keep their variable data last; hdr.size counts
 *    only the bytes in use, and only those bytes travel in the frame.
 *
 * Bump AIBOM_LAYOUT_VERSION whenever any struct below changes.
 */
#ifndef AIBOM_SENSOR_H
#define AIBOM_SENSOR_H

#define AIBOM_LAYOUT_VERSION 3
#define AIBOM_PROTOCOL_VERSION 2

/* Bounds on captured data (documented in README.md). Powers of two so the
 * BPF side can mask lengths for the verifier. */
#define AIBOM_COMM_LEN 16
#define AIBOM_PATH_MAX 256   /* open path, exec filename */
#define AIBOM_ARGS_MAX 1024  /* exec argv, NUL separated */
#define AIBOM_DNS_NAME_MAX 256
#define AIBOM_DATA_MAX 2048  /* TLS plaintext / HTTP first bytes */
#define AIBOM_HTTP_MAX 1024  /* HTTP first bytes captured from sockets */
#define AIBOM_MAX_IGNORED_PIDS 8 /* --ignore-pid entries */
#define AIBOM_ENV_SCAN_MAX 16384 /* environment bytes searched for markers at exec */
#define AIBOM_ENV_NAME_MAX 64    /* longest marker (variable name or prefix), NUL included */

enum aibom_event_type {
	EV_EXEC = 1,
	EV_EXIT = 2,
	EV_FORK = 3,
	EV_OPEN = 4,
	EV_CONNECT = 5,
	EV_ACCEPT = 6,
	EV_DNS = 7,
	EV_TLS = 8,
	EV_HTTP = 9,
	EV_MAX = 16, /* size of per-type counter arrays */
};

enum aibom_filter_reason {
	FILT_NOT_MONITORED = 0, /* pid/cgroup/comm rules did not select it */
	FILT_PATH_IGNORED = 1,  /* --ignore-path prefix */
	FILT_NOT_INTERESTING = 2, /* e.g. write that is not HTTP, UDP not port 53 */
	FILT_NO_SIGNATURE = 3,  /* shadow-AI check of an unwatched process found nothing (DNS name, API path, artifact) */
	FILT_MAX = 8,
};

/* event_hdr.flags */
#define EVF_TRUNCATED 0x0001   /* variable data was cut at its bound */
#define EVF_CREDENTIAL 0x0002  /* open of a --credential-path prefix ("identity touched") */
#define EVF_IPV6 0x0004        /* addresses are IPv6 (else IPv4 in the first 4 bytes) */
#define EVF_NO_RESULT 0x0008   /* result not known (e.g. connect still in progress) */
#define EVF_SHADOW 0x0010      /* matched a shadow-AI signature (provider DNS name, inference API path, model artifact, server executable) */
#define EVF_SHADOW_START 0x0020 /* ...and monitoring of the process begins with this event (the loader writes a monitor frame) */
#define EVF_SHADOW_BODY 0x0040 /* EV_HTTP: the send after a shadow API request head on the same socket (the body, for the model name) */

struct event_hdr {
	__u16 type;       /* enum aibom_event_type */
	__u16 flags;      /* EVF_* */
	__u32 size;       /* bytes of this event in use, header included */
	__u64 ktime_ns;   /* bpf_ktime_get_boot_ns() (CLOCK_BOOTTIME) */
	__u32 pid;        /* tgid */
	__u32 tid;
	__u32 ppid;       /* tgid of real_parent */
	__u32 uid;
	__u64 cgroup_id;  /* cgroup v2 id */
	__u32 repeat;     /* identical events suppressed by dedupe before this one */
	__u32 _pad0;
	__u8 comm[AIBOM_COMM_LEN];
};
_Static_assert(sizeof(struct event_hdr) == 64, "event_hdr layout");

struct exec_event {
	struct event_hdr hdr;
	__u32 old_pid;     /* pid before exec (differs when a non-leader thread execs) */
	__u16 filename_len;
	__u16 args_len;    /* bytes in args, NUL separated argv */
	__u32 args_count;  /* argc as the kernel saw it (may exceed what fits) */
	__u16 monitor_reason; /* enum aibom_monitor_reason: why monitoring starts at this exec; 0 = watched before it */
	__u16 env_marker;  /* MONR_ENV_MARKER: 1-based id of the marker that matched (--env-marker order) */
	__u8 filename[AIBOM_PATH_MAX];
	__u8 args[AIBOM_ARGS_MAX]; /* variable: only args_len bytes are sent */
};
_Static_assert(sizeof(struct exec_event) == 64 + 16 + AIBOM_PATH_MAX + AIBOM_ARGS_MAX, "exec_event layout");

struct exit_event {
	struct event_hdr hdr;
	__u32 exit_code;   /* wait status: (code << 8) | signal */
	__u32 _pad0;
	__u64 start_ktime_ns; /* task start (boottime), lets user space compute duration */
};
_Static_assert(sizeof(struct exit_event) == 80, "exit_event layout");

struct fork_event {
	struct event_hdr hdr;
	__u32 child_pid;
	__u32 _pad0;
};
_Static_assert(sizeof(struct fork_event) == 72, "fork_event layout");

struct open_event {
	struct event_hdr hdr;
	__s32 ret;         /* fd or -errno */
	__u32 open_flags;  /* O_* */
	__u32 mode;
	__u16 path_len;
	__u16 _pad0;
	__u8 path[AIBOM_PATH_MAX]; /* variable: only path_len bytes are sent */
};
_Static_assert(sizeof(struct open_event) == 64 + 16 + AIBOM_PATH_MAX, "open_event layout");

/* Addresses: IPv4 in the first 4 bytes of the 16 (network order), IPv6 when
 * hdr.flags has EVF_IPV6. Ports in host order. */
struct sock_event {
	struct event_hdr hdr;
	__s32 ret;         /* syscall result: 0 / fd / -errno */
	__u16 family;      /* AF_INET / AF_INET6 */
	__u16 protocol;    /* IPPROTO_TCP / IPPROTO_UDP */
	__u16 sport;
	__u16 dport;
	__u32 _pad0;
	__u8 saddr[16];
	__u8 daddr[16];
};
_Static_assert(sizeof(struct sock_event) == 64 + 16 + 32, "sock_event layout");

struct dns_event {
	struct event_hdr hdr;
	__u16 family;
	__u16 dport;
	__u16 txid;        /* DNS transaction id */
	__u16 qtype;
	__u16 qclass;
	__u16 name_len;
	__u32 _pad0;
	__u8 daddr[16];
	__u8 name[AIBOM_DNS_NAME_MAX]; /* dotted, variable: only name_len bytes sent */
};
_Static_assert(sizeof(struct dns_event) == 64 + 16 + 16 + AIBOM_DNS_NAME_MAX, "dns_event layout");

/* data_event.source */
#define DATA_SRC_SSL_WRITE 1
#define DATA_SRC_SSL_READ 2
#define DATA_SRC_SOCKET_SEND 3

/* TLS plaintext (EV_TLS) and plaintext HTTP first bytes (EV_HTTP). */
struct data_event {
	struct event_hdr hdr;
	__u32 total_len;   /* bytes the call carried */
	__u16 data_len;    /* bytes captured below */
	__u8 source;       /* DATA_SRC_* */
	__u8 _pad0;
	__u16 family;      /* EV_HTTP: destination socket; 0 for EV_TLS */
	__u16 dport;
	__u32 fd;
	__u8 daddr[16];
	__u8 data[AIBOM_DATA_MAX]; /* variable: only data_len bytes sent */
};
_Static_assert(sizeof(struct data_event) == 64 + 16 + 16 + AIBOM_DATA_MAX, "data_event layout");

/* Per-CPU counters; the loader sums them into stats frames. */
struct sensor_counters {
	__u64 attempted[EV_MAX];     /* passed all filters, ring buffer reserve tried */
	__u64 emitted[EV_MAX];       /* submitted to the ring buffer */
	__u64 rb_drops[EV_MAX];      /* reserve failed: lost, counted */
	__u64 deduped[EV_MAX];       /* suppressed by the LRU dedupe */
	__u64 helper_errors[EV_MAX]; /* failed probe reads / map updates */
	__u64 filtered[FILT_MAX];    /* by enum aibom_filter_reason */
};
_Static_assert(sizeof(struct sensor_counters) == 5 * 16 * 8 + 8 * 8, "sensor_counters layout");

/* ---- frames (loader -> consumer), all little-endian ---- */

#define AIBOM_FRAME_MAGIC 0x46424941u /* bytes "AIBF" */
#define AIBOM_FRAME_MAX_PAYLOAD 65536

enum aibom_frame_kind {
	FRAME_STREAM_HEADER = 1,
	FRAME_EVENT = 2,
	FRAME_STATS = 3,
	FRAME_LOG = 4,
	FRAME_MONITOR = 5,
};

struct frame_hdr {
	__u32 magic;       /* AIBOM_FRAME_MAGIC: resynchronisation point */
	__u16 kind;        /* enum aibom_frame_kind */
	__u16 hdr_check;   /* kind ^ (len & 0xffff) ^ (len >> 16) ^ 0xA1B0: cheap corruption check */
	__u32 payload_len; /* bytes after this header */
	__u32 seq;         /* frame sequence number, starts at 0 */
};
_Static_assert(sizeof(struct frame_hdr) == 16, "frame_hdr layout");

struct stream_header {
	__u32 protocol_version; /* AIBOM_PROTOCOL_VERSION */
	__u32 layout_version;   /* AIBOM_LAYOUT_VERSION */
	__u64 realtime_ns;      /* CLOCK_REALTIME read once at start */
	__u64 boottime_ns;      /* CLOCK_BOOTTIME read right after */
	__u64 boot_offset_ns;   /* realtime - boottime: epoch_ns = ktime_ns + this */
	__u32 sensor_pid;
	__u32 ncpus;
	__u32 ringbuf_bytes;
	__u32 flags;            /* STREAM_F_* */
};
_Static_assert(sizeof(struct stream_header) == 48, "stream_header layout");

#define STREAM_F_MONITOR_ALL 0x1

struct stats_frame {
	__u64 ktime_ns;         /* boottime when the counters were read */
	__u32 final;            /* 1 for the last frame, after programs were detached and the ring drained */
	__u32 ncpus;
	__u64 rb_consumed;      /* ring buffer samples the loader read */
	__u64 frames_written;   /* frames written before this one */
	__u64 bytes_written;
	__u64 uprobe_targets;   /* binaries with SSL uprobes attached */
	__u64 monitored_pids;   /* entries in the pid map when read */
	struct sensor_counters counters; /* summed over CPUs */
};
_Static_assert(sizeof(struct stats_frame) == 56 + sizeof(struct sensor_counters), "stats_frame layout");

enum aibom_log_level {
	LOG_INFO = 1,
	LOG_WARN = 2,
	LOG_ERROR = 3,
};

enum aibom_log_code {
	LOGC_READY = 1,          /* programs attached, events flowing */
	LOGC_CONTROL_OK = 2,     /* a stdin control line was applied (message echoes it) */
	LOGC_CONTROL_BAD = 3,    /* a stdin control line was rejected */
	LOGC_UPROBE_ATTACHED = 4,/* message: path */
	LOGC_UPROBE_SKIPPED = 5, /* target lacks SSL_write & co (message: path) */
	LOGC_UPROBE_FAILED = 6,
	LOGC_GENERIC = 7,
};

struct log_frame {
	__u16 level;   /* enum aibom_log_level */
	__u16 code;    /* enum aibom_log_code */
	__s32 err;     /* -errno or 0 */
	__u32 msg_len;
	__u32 _pad0;
	/* followed by msg_len bytes of UTF-8 (not NUL terminated) */
};
_Static_assert(sizeof(struct log_frame) == 16, "log_frame layout");

/* Why a process is monitored (exec_event.monitor_reason, monitor_frame.reason). */
enum aibom_monitor_reason {
	MONR_NONE = 0,       /* exec of a process watched before it */
	MONR_ENV_MARKER = 1, /* its environment has an --env-marker variable */
	MONR_COMM = 2,       /* its comm matches a --comm rule */
	MONR_PID = 3,        /* named by --pid / +pid */
	MONR_INHERITED = 4,  /* a descendant of a monitored process */
	MONR_SHADOW = 5,     /* matched a shadow-AI signature (EVF_SHADOW_START); marker = the signature kind */
};

/* monitor_frame.flags */
#define MONF_PARTIAL 0x1  /* the process ran before monitoring began: what it did earlier was not seen */
#define MONF_AT_START 0x2 /* found by the sensor's start-up scan of /proc */

/*
 * Monitoring of one process begins (kind 5, written by the loader, never by
 * the kernel): at an exec that matched an env marker or a comm rule (before
 * that exec's event frame), or for an already-running process the loader
 * adds (start-up scan, --pid, +pid, and their existing descendants). Children
 * forked later are announced by their fork events only.
 */
struct monitor_frame {
	__u64 ktime_ns;       /* boottime when monitoring began */
	__u64 start_ktime_ns; /* boottime the process started (exec time for exec matches), 0 if unknown */
	__u32 pid;
	__u32 ppid;
	__u16 reason;         /* enum aibom_monitor_reason */
	__u16 flags;          /* MONF_* */
	__u16 marker_len;     /* MONR_ENV_MARKER: bytes of marker (the rule, e.g. OPENAI_API_KEY or TRACELOOP_*) */
	__u16 _pad0;
	__u8 marker[AIBOM_ENV_NAME_MAX];
};
_Static_assert(sizeof(struct monitor_frame) == 32 + AIBOM_ENV_NAME_MAX, "monitor_frame layout");

/* ---- loader -> kernel configuration maps ---- */

/* Value of the path_rules LPM trie (longest --ignore-path / --credential-path prefix wins). */
#define PATH_RULE_IGNORE 1
#define PATH_RULE_CREDENTIAL 2

/* monitored_pids value bits */
#define MON_EXPLICIT 1  /* added by --pid / +pid */
#define MON_INHERITED 2 /* followed through fork */
#define MON_COMM 4      /* matched a --comm rule at exec */
#define MON_ENV 8       /* its environment had an --env-marker variable (at exec or at start-up) */
#define MON_SHADOW 16   /* matched a shadow-AI signature */
#define MON_LISTEN 32   /* NOT monitored by itself: an unwatched process that called listen(), whose opens are checked for model artifacts */

/* Shadow-AI signature tables (--shadow-*): LPM keys of reversed names, so a longest-prefix lookup is a suffix match. */
#define AIBOM_SHADOW_PATH_MAX 64 /* API path bytes after "POST " compared */

#endif /* AIBOM_SENSOR_H */
