// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * aibom-sensor kernel side: process, file, network, DNS, TLS-plaintext and
 * HTTP-first-bytes events for the monitored workloads only.
 *
 * Every handler decides as early as possible whether the event is wanted
 * (monitored pid/cgroup first, then path rules, then dedupe) so that the
 * common case, an unmonitored process, costs one hash lookup. Only then is
 * ring-buffer space used. Every outcome is counted in the per-CPU
 * `counters` map: nothing is dropped silently.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "aibom-sensor.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 0170000
#define S_IFSOCK 0140000
#define EINPROGRESS 115

/* Load-time settings, written by the loader through the skeleton's rodata. */
const volatile bool monitor_all = false;
const volatile __u32 sensor_tgid = 0;          /* never report ourselves */
/* --ignore-pid: processes never reported (the collector that reads us). Zero-terminated. */
const volatile __u32 ignored_tgids[AIBOM_MAX_IGNORED_PIDS] = {};
const volatile __u64 dedupe_window_ns = 1000000000ULL;
const volatile __u64 wakeup_bytes = 65536;     /* wake the consumer when this much is queued */

/* Runtime switches the loader flips through .bss when rules are added, so
 * the hot path skips lookups in maps that are empty. */
volatile __u32 cgroup_rules_active = 0;
volatile __u32 comm_rules_active = 0;
volatile __u32 path_rules_active = 0;
volatile __u32 env_rules_active = 0;
/* Shadow-AI signatures (provider DNS names, inference API paths, model artifacts, server executables)
 * are checked host-wide, for processes nothing watches, only while this is set. */
volatile __u32 shadow_active = 0;
/* Bit (b0 << 8 | b1) set when a --shadow-artifact suffix ends in bytes b0 b1 (either case). */
volatile __u64 artifact_last2[1024] = {};
/* Bit (b0 << 8 | b1) set when some env marker can match a name starting with bytes b0 b1: most
 * variables (PATH, HOME, LC_*...) are passed over without an LPM lookup. */
volatile __u64 env_first2[1024] = {};
/* Set by the loader at shutdown, before a grace period (see `quiesce_outer`):
 * from then on no program touches the ring or the counters, so the final stats
 * frame is exact without waiting for the slow per-link detach first. */
volatile __u32 stopping = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20); /* overridden by --ringbuf-kb */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sensor_counters);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);   /* tgid */
	__type(value, __u32); /* MON_* bits */
} monitored_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);   /* cgroup v2 id */
	__type(value, __u8);
} monitored_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u8[AIBOM_COMM_LEN]); /* zero padded */
	__type(value, __u8);
} comm_rules SEC(".maps");

struct path_lpm_key {
	__u32 prefixlen; /* bits */
	__u8 path[AIBOM_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct path_lpm_key);
	__type(value, __u32); /* PATH_RULE_* */
} path_rules SEC(".maps");

/*
 * Dedupe key for opens. The tail {prefixlen, path} has the exact layout of
 * struct path_lpm_key, so the same buffer serves the LPM lookup and the
 * dedupe lookup without copying the path twice.
 */
struct open_key {
	__u32 tgid;
	__u32 open_flags;
	__s32 ret;
	__u32 prefixlen;
	__u8 path[AIBOM_PATH_MAX];
};

struct dedupe_val {
	__u32 suppressed; /* identical events dropped since the last emitted one */
	__u32 _pad0;
	__u64 last_emit_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct open_key);
	__type(value, struct dedupe_val);
} dedupe SEC(".maps");

/*
 * Environment markers (--env-marker): an exec whose environment has a variable
 * named by a marker starts being monitored. Exact names are stored with their
 * '=' ("OPENAI_API_KEY="), prefixes without ("TRACELOOP_"); the lookup key is
 * the variable's name plus '=', so one longest-prefix lookup per variable
 * serves both. Value: the marker's 1-based id.
 */
struct env_lpm_key {
	__u32 prefixlen; /* bits */
	__u8 name[AIBOM_ENV_NAME_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct env_lpm_key);
	__type(value, __u32);
} env_markers SEC(".maps");

/* The new image's environment, copied once per exec of an unmonitored process,
 * and the scan's cursor. The cursor lives here, not on the stack, on purpose:
 * values read from a map are unknown to the verifier, so the scan's callbacks
 * verify once instead of once per constant position. Slack after the buffer:
 * names are copied and words read without a bound check per byte. */
#define ENV_SKIP_WORDS 16 /* words of a value skipped per callback; longer values take several */

struct env_scratch {
	__u8 buf[AIBOM_ENV_SCAN_MAX + AIBOM_ENV_NAME_MAX];
	struct env_lpm_key key;
	__u32 len;      /* bytes of environment copied */
	__u32 pos;      /* where the scan is */
	__u32 cur;      /* find_cb: where the search for '=' is */
	__u32 in_value; /* pos is inside a value, not at a name */
	__u32 marker;   /* id of the marker found, 0 while none */
	__u32 _pad0;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct env_scratch);
} env_scratch_map SEC(".maps");

/*
 * Shadow-AI signatures. Names and paths whose END identifies them are stored reversed, so one
 * longest-prefix lookup is a suffix match: "api.openai.com" as "moc.ianepo.ipa\0" (exact: the NUL
 * that ends the name is part of the key), "*.openai.azure.com" as "moc.eruza.ianepo." (any name ending
 * so); artifacts ("*.gguf") as "fugg." over the reversed path. API paths are stored as written and
 * matched as prefixes of what follows "POST ". Values: 1-based ids in --shadow-* order.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 512);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct path_lpm_key);
	__type(value, __u32);
} shadow_hosts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 128);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct path_lpm_key);
	__type(value, __u32);
} shadow_artifacts SEC(".maps");

struct shadow_path_key {
	__u32 prefixlen; /* bits */
	__u8 path[AIBOM_SHADOW_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 128);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct shadow_path_key);
	__type(value, __u32);
} shadow_paths SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, __u8[AIBOM_COMM_LEN]); /* comm after exec (basename, 15 bytes), zero padded */
	__type(value, __u32);
} shadow_exes SEC(".maps");

/* (tgid << 32 | fd) of a socket that just sent a shadow API request head: its next send (the JSON
 * body with "model") is captured too, once. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u8);
} shadow_bodies SEC(".maps");

struct pending_open {
	__u64 filename;
	__u32 open_flags;
	__u32 mode;
	__u32 candidate; /* an unwatched listener: emit only a model-artifact open */
	__u32 _pad0;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct pending_open);
} pending_opens SEC(".maps");

struct pending_connect {
	__u32 fd;
	__u16 family;
	__u16 port; /* host order */
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct pending_connect);
} pending_connects SEC(".maps");

struct pending_ssl {
	__u64 buf;
	__u64 outlen_ptr; /* size_t * of the _ex forms, 0 otherwise */
	__u32 num;
	__u8 source;      /* DATA_SRC_SSL_* */
	__u8 ex;
	__u16 _pad0;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct pending_ssl);
} pending_ssl SEC(".maps");

#define DNS_BUF 512

/* Events are built here and copied to the ring buffer with their used size
 * only, so a short path does not occupy 256 bytes of ring. One slot per
 * context class so a uprobe cannot clobber a half-built syscall event. */
struct scratch {
	union {
		struct exec_event exec;
		struct open_event open;
		struct dns_event dns;
		struct data_event data;
	} ev;
	struct open_key key;
	__u8 buf[DNS_BUF];
	/* emit_dns: the sender is watched by no rule (read after the parse loop, so the verifier's states
	 * for watched and unwatched senders are the same inside it and pruned as one). */
	__u32 unwatched;
	__u32 _pad0;
};

#define SCRATCH_SYSCALL 0
#define SCRATCH_UPROBE 1
#define SCRATCH_SCHED 2

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

/*
 * Grace period on demand: updating a map-in-map from user space returns only
 * after synchronize_rcu() (kernel/bpf/syscall.c maybe_wait_bpf_programs; the
 * btf_map_in_map selftest uses the same fact). Every program runs inside an
 * RCU read section, so once the update returns, no program that could have
 * read `stopping == 0` is still running. Never used by the programs.
 */
struct quiesce_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} quiesce_inner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct quiesce_inner);
} quiesce_outer SEC(".maps");

/* ---------------------------------------------------------------- counters */

static __always_inline struct sensor_counters *ctrs(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&counters, &zero);
}

#define COUNT(field, idx)                                                     \
	do {                                                                  \
		struct sensor_counters *__c = ctrs();                         \
		__u32 __i = (idx);                                            \
		if (__c && __i < sizeof(__c->field) / sizeof(__c->field[0]))  \
			__sync_fetch_and_add(&__c->field[__i], 1);            \
	} while (0)

/* ------------------------------------------------------------- filtering */

/* Checked only once a process is known to be monitored, so unmonitored ones pay nothing extra. */
static __always_inline bool is_ignored(__u32 tgid)
{
	for (int i = 0; i < AIBOM_MAX_IGNORED_PIDS; i++) {
		if (!ignored_tgids[i])
			return false;
		if (ignored_tgids[i] == tgid)
			return true;
	}
	return false;
}

/* Watched: 1; an unwatched process that listens (MON_LISTEN only, shadow-AI artifact candidate): 2; else 0.
 * One hash lookup for an unwatched process, as always. */
static __always_inline int watch_state(__u32 tgid)
{
	__u32 *v;

	if (tgid == sensor_tgid)
		return 0;
	if (monitor_all)
		return !is_ignored(tgid);
	v = bpf_map_lookup_elem(&monitored_pids, &tgid);
	if (v && (*v & ~MON_LISTEN))
		return !is_ignored(tgid);
	if (cgroup_rules_active) {
		__u64 cg = bpf_get_current_cgroup_id();
		if (bpf_map_lookup_elem(&monitored_cgroups, &cg))
			return !is_ignored(tgid);
	}
	return v ? 2 : 0;
}

static __always_inline bool is_monitored(__u32 tgid)
{
	return watch_state(tgid) == 1;
}

/* A shadow-AI signature matched an unwatched process: watch it from now on (MON_SHADOW replaces MON_LISTEN). */
static __always_inline bool shadow_promote(__u32 tgid)
{
	__u32 v = MON_SHADOW;

	if (is_ignored(tgid) || tgid == sensor_tgid)
		return false;
	if (bpf_map_update_elem(&monitored_pids, &tgid, &v, BPF_ANY))
		return false;
	return true;
}

static __always_inline bool monitored_or_count(__u32 tgid)
{
	if (is_monitored(tgid))
		return true;
	COUNT(filtered, FILT_NOT_MONITORED);
	return false;
}

/* --------------------------------------------------------------- emitting */

static __always_inline __u64 wakeup_flag(void)
{
	/* Batch wakeups: the consumer also polls on a timer, so it only needs
	 * an explicit kick once a meaningful amount of data is queued. */
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
									     : BPF_RB_NO_WAKEUP;
}

static __always_inline void fill_hdr(struct event_hdr *h, __u16 type, __u32 size)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();

	h->type = type;
	h->flags = 0;
	h->size = size;
	h->ktime_ns = bpf_ktime_get_boot_ns();
	h->pid = id >> 32;
	h->tid = (__u32)id;
	h->ppid = BPF_CORE_READ(t, real_parent, tgid);
	h->uid = (__u32)bpf_get_current_uid_gid();
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->repeat = 0;
	h->_pad0 = 0;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

/* Copy a scratch-built event of `size` used bytes into the ring buffer. A shadow-AI match that
 * starts monitoring wakes the consumer at once: the collector reads the process's executable and
 * command line from /proc when its monitor frame arrives, and a script that made one request and
 * exits is gone by the next poll. */
static __always_inline void emit_copy(void *ev, __u32 size, __u32 type, __u32 max)
{
	__u64 wf = (((struct event_hdr *)ev)->flags & EVF_SHADOW_START) ? BPF_RB_FORCE_WAKEUP : wakeup_flag();

	if (size > max)
		size = max;
	COUNT(attempted, type);
	if (bpf_ringbuf_output(&events, ev, size, wf))
		COUNT(rb_drops, type);
	else
		COUNT(emitted, type);
}

static __always_inline struct scratch *get_scratch(__u32 slot)
{
	return bpf_map_lookup_elem(&scratch_map, &slot);
}

/* ------------------------------------------------------- process lifecycle */

static __always_inline struct env_scratch *env_scratch(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&env_scratch_map, &zero);
}

/* Offset of the lowest zero byte of w given its zero-byte mask z != 0 (little-endian). */
static __always_inline __u32 first_zero(__u64 z)
{
	__u32 b = 0;

	if (!(z & 0xffffffffULL)) {
		b += 4;
		z >>= 32;
	}
	if (!(z & 0xffffULL)) {
		b += 2;
		z >>= 16;
	}
	if (!(z & 0xffULL))
		b += 1;
	return b;
}

/* (w - 0x01..) & ~w & 0x80..: its lowest set bit is in the first zero byte of w. */
#define ZERO_BYTES(w) (((w) - 0x0101010101010101ULL) & ~(w) & 0x8080808080808080ULL)

/* bpf_loop callback: moves s->cur to the first '=' or NUL at or after it, a
 * word at a time (x ^ 0x3d.. turns '=' into zero). */
static long find_cb(__u32 i, void *data)
{
	struct env_scratch *s = env_scratch();
	__u64 w, e, z;
	__u32 j;

	if (!s)
		return 1;
	j = s->cur;
	w = *(__u64 *)&s->buf[j & (AIBOM_ENV_SCAN_MAX - 1)];
	e = w ^ 0x3d3d3d3d3d3d3d3dULL;
	z = ZERO_BYTES(w) | ZERO_BYTES(e);
	if (!z) {
		s->cur = j + 8;
		return 0;
	}
	s->cur = j + first_zero(z);
	return 1;
}

/* bpf_loop callback: at a name whose first two bytes some marker can match,
 * looks it up in env_markers; then skips up to ENV_SKIP_WORDS words towards
 * the NUL that ends the variable. Only names are compared; values are skipped
 * unread (a word at a time, looking for a zero byte). */
static long env_var_cb(__u32 i, void *data)
{
	struct env_scratch *s = env_scratch();
	__u32 pos, n, *id, k;

	if (!s || s->pos >= s->len)
		return 1;
	pos = s->pos;
	if (!s->in_value) {
		k = (__u32)s->buf[pos & (AIBOM_ENV_SCAN_MAX - 1)] << 8 | s->buf[(pos + 1) & (AIBOM_ENV_SCAN_MAX - 1)];
		if ((env_first2[(k >> 6) & 1023] >> (k & 63)) & 1) {
			/* The name with what follows it; the LPM lookup reads only prefixlen bits. */
			__builtin_memcpy(s->key.name, &s->buf[pos & (AIBOM_ENV_SCAN_MAX - 1)], AIBOM_ENV_NAME_MAX);
			s->cur = pos;
			bpf_loop(AIBOM_ENV_NAME_MAX / 8, find_cb, NULL, 0);
			n = s->cur - pos;
			if (n > 0 && n < AIBOM_ENV_NAME_MAX - 1 && s->buf[s->cur & (AIBOM_ENV_SCAN_MAX - 1)] == '=') {
				s->key.prefixlen = (n + 1) * 8; /* the name and its '=' */
				id = bpf_map_lookup_elem(&env_markers, &s->key);
				if (id) {
					s->marker = *id;
					return 1;
				}
			}
		}
	}
	for (int w = 0; w < ENV_SKIP_WORDS; w++) {
		__u32 j = pos + w * 8;
		__u64 z = ZERO_BYTES(*(__u64 *)&s->buf[j & (AIBOM_ENV_SCAN_MAX - 1)]);
		if (z) {
			s->pos = j + first_zero(z) + 1;
			s->in_value = 0;
			return 0;
		}
	}
	s->pos = pos + ENV_SKIP_WORDS * 8;
	s->in_value = 1;
	return 0;
}

/* Id of the first environment marker in the new image's environment (first
 * AIBOM_ENV_SCAN_MAX bytes), 0 if none. Only names are compared. */
static __always_inline __u32 env_marker_of(struct task_struct *p)
{
	struct env_scratch *s = env_scratch();
	struct mm_struct *mm = BPF_CORE_READ(p, mm);
	__u64 start = BPF_CORE_READ(mm, env_start);
	__u64 end = BPF_CORE_READ(mm, env_end);
	__u64 len = end > start ? end - start : 0;

	if (!s || !len)
		return 0;
	if (len >= AIBOM_ENV_SCAN_MAX) {
		len = AIBOM_ENV_SCAN_MAX;
		if (bpf_probe_read_user(s->buf, AIBOM_ENV_SCAN_MAX, (void *)start))
			goto fail;
	} else if (bpf_probe_read_user(s->buf, len & (AIBOM_ENV_SCAN_MAX - 1), (void *)start)) {
		goto fail;
	}
	/* A NUL after the copied bytes ends a variable cut by the bound, so every skip stops by len + 1. */
	s->buf[len] = 0;
	s->len = len;
	s->pos = 0;
	s->in_value = 0;
	s->marker = 0;
	bpf_loop(AIBOM_ENV_SCAN_MAX, env_var_cb, NULL, 0); /* each round moves on by a byte at least */
	return s->marker;
fail:
	COUNT(helper_errors, EV_EXEC);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	if (stopping)
		return 0;
	__u32 tgid = p->tgid, marker = 0;
	__u16 reason = MONR_NONE;
	struct scratch *s;
	struct exec_event *e;
	long n;

	if (!is_monitored(tgid)) {
		__u32 v = 0;
		if (comm_rules_active) {
			__u8 comm[AIBOM_COMM_LEN] = {};
			bpf_get_current_comm(comm, sizeof(comm));
			if (bpf_map_lookup_elem(&comm_rules, comm)) {
				v = MON_COMM;
				reason = MONR_COMM;
			}
		}
		if (!v && env_rules_active) {
			marker = env_marker_of(p);
			if (marker) {
				v = MON_ENV;
				reason = MONR_ENV_MARKER;
			}
		}
		if (!v && shadow_active) {
			/* The new image's comm: the executable's basename (exec is rare; one hash lookup). */
			__u8 comm[AIBOM_COMM_LEN] = {};
			bpf_get_current_comm(comm, sizeof(comm));
			if (bpf_map_lookup_elem(&shadow_exes, comm)) {
				v = MON_SHADOW;
				reason = MONR_SHADOW;
			}
		}
		if (!v || is_ignored(tgid) || tgid == sensor_tgid) {
			COUNT(filtered, FILT_NOT_MONITORED);
			return 0;
		}
		if (bpf_map_update_elem(&monitored_pids, &tgid, &v, BPF_ANY))
			COUNT(helper_errors, EV_EXEC);
	}

	s = get_scratch(SCRATCH_SCHED);
	if (!s)
		return 0;
	e = &s->ev.exec;
	fill_hdr(&e->hdr, EV_EXEC, 0);
	e->old_pid = old_pid;
	e->monitor_reason = reason;
	e->env_marker = marker;
	if (reason == MONR_SHADOW)
		e->hdr.flags |= EVF_SHADOW;
	e->args_count = BPF_CORE_READ(bprm, argc);

	n = bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
	if (n < 0) {
		COUNT(helper_errors, EV_EXEC);
		n = 1;
		e->filename[0] = 0;
	}
	e->filename_len = n > 0 ? n - 1 : 0;

	/* argv lives in the new image's user memory: current is the exec'ing task. */
	{
		struct mm_struct *mm = BPF_CORE_READ(p, mm);
		__u64 start = BPF_CORE_READ(mm, arg_start);
		__u64 end = BPF_CORE_READ(mm, arg_end);
		__u64 len = end > start ? end - start : 0;

		if (len > AIBOM_ARGS_MAX) {
			len = AIBOM_ARGS_MAX;
			e->hdr.flags |= EVF_TRUNCATED;
		}
		if (len == AIBOM_ARGS_MAX) {
			if (bpf_probe_read_user(e->args, AIBOM_ARGS_MAX, (void *)start)) {
				COUNT(helper_errors, EV_EXEC);
				len = 0;
			}
		} else if (len && bpf_probe_read_user(e->args, len & (AIBOM_ARGS_MAX - 1), (void *)start)) {
			COUNT(helper_errors, EV_EXEC);
			len = 0;
		}
		e->args_len = len;
	}
	e->hdr.size = offsetof(struct exec_event, args) + e->args_len;
	emit_copy(e, e->hdr.size, EV_EXEC, sizeof(*e));
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	if (stopping)
		return 0;
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	struct fork_event *e;
	__u64 wf;

	if (child->pid != ctgid) /* a new thread, not a new process */
		return 0;
	if (!monitored_or_count(ptgid))
		return 0;
	if (!monitor_all) {
		__u32 v = MON_INHERITED;
		long err = bpf_map_update_elem(&monitored_pids, &ctgid, &v, BPF_NOEXIST);
		if (err && err != -17 /* EEXIST */)
			COUNT(helper_errors, EV_FORK);
	}
	COUNT(attempted, EV_FORK);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		COUNT(rb_drops, EV_FORK);
		return 0;
	}
	fill_hdr(&e->hdr, EV_FORK, sizeof(*e));
	e->child_pid = ctgid;
	e->_pad0 = 0;
	wf = wakeup_flag();
	bpf_ringbuf_submit(e, wf);
	COUNT(emitted, EV_FORK);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *p)
{
	if (stopping)
		return 0;
	__u32 tgid = p->tgid;
	struct exit_event *e;
	__u64 wf;

	/* Per-thread tracepoint: report the process once, when its last
	 * thread leaves (signal->live already decremented here). */
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	if (!monitored_or_count(tgid)) {
		if (shadow_active && !monitor_all)
			bpf_map_delete_elem(&monitored_pids, &tgid); /* a MON_LISTEN candidate */
		return 0;
	}

	COUNT(attempted, EV_EXIT);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		COUNT(rb_drops, EV_EXIT);
	} else {
		fill_hdr(&e->hdr, EV_EXIT, sizeof(*e));
		e->exit_code = p->exit_code;
		e->_pad0 = 0;
		e->start_ktime_ns = p->start_boottime;
		wf = wakeup_flag();
		bpf_ringbuf_submit(e, wf);
		COUNT(emitted, EV_EXIT);
	}
	/* Pid numbers get reused: forget the process. */
	if (!monitor_all)
		bpf_map_delete_elem(&monitored_pids, &tgid);
	return 0;
}

/* ------------------------------------------------------------------ opens */

static __always_inline int open_enter(__u64 filename, __u32 flags, __u32 mode)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending_open po = { .filename = filename, .open_flags = flags, .mode = mode };
	int st = watch_state(id >> 32);

	if (!st) {
		COUNT(filtered, FILT_NOT_MONITORED);
		return 0;
	}
	/* A listener nothing watches: only its read-only opens can be a model artifact. */
	if (st == 2) {
		if ((flags & 3) != 0 /* O_RDONLY */) {
			COUNT(filtered, FILT_NOT_MONITORED);
			return 0;
		}
		po.candidate = 1;
	}
	if (bpf_map_update_elem(&pending_opens, &id, &po, BPF_ANY))
		COUNT(helper_errors, EV_OPEN);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int handle_openat_enter(struct trace_event_raw_sys_enter *ctx)
{
	if (stopping)
		return 0;
	return open_enter(ctx->args[1], ctx->args[2], ctx->args[3]);
}

SEC("tracepoint/syscalls/sys_enter_openat2")
int handle_openat2_enter(struct trace_event_raw_sys_enter *ctx)
{
	if (stopping)
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	struct open_how how = {};

	if (!watch_state(id >> 32)) {
		COUNT(filtered, FILT_NOT_MONITORED);
		return 0;
	}
	if (bpf_probe_read_user(&how, sizeof(how), (void *)ctx->args[2]))
		COUNT(helper_errors, EV_OPEN);
	return open_enter(ctx->args[1], how.flags, how.mode);
}

/* ASCII lower case by table: BPF has no set-on-condition, and a branch per byte multiplies verifier states. */
#define L8(x) x, x + 1, x + 2, x + 3, x + 4, x + 5, x + 6, x + 7
#define L32(x) L8(x), L8(x + 8), L8(x + 16), L8(x + 24)
static const volatile __u8 lower_tab[256] = {
	L32(0), L32(32), '@', L8('a'), L8('i'), L8('q'), 'y', 'z', '[', '\\', ']', '^', '_', L32(96),
	L32(128), L32(160), L32(192), L32(224),
};

/* Where a name or path is reversed for a suffix lookup (per CPU; see reverse_cb). */
struct rev_scratch {
	__u32 n;
	__u32 _pad0;
	struct path_lpm_key key;
	__u8 src[AIBOM_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rev_scratch);
} rev_map SEC(".maps");

/*
 * bpf_loop callback, round i: bytes 8i..8i+7 of key.path = bytes n-1-8i... of src, lower-cased. A few
 * bytes per round, no branch on n: this kernel verifies a callback once per caller state reaching the
 * call, and the DNS parse loop leaves hundreds; a 255-byte loop inside the callback pushed the send
 * programs past 1M insns, a byte per round cost ~3 us per DNS query.
 */
#define REV_STEP 8

static long reverse_cb(__u32 i, void *data)
{
	__u32 zero = 0;
	struct rev_scratch *r = bpf_map_lookup_elem(&rev_map, &zero);

	if (!r)
		return 1;
	for (int j = 0; j < REV_STEP; j++) {
		__u32 k = i * REV_STEP + j;
		r->key.path[k & (AIBOM_PATH_MAX - 1)] = lower_tab[r->src[(r->n - 1 - k) & (AIBOM_PATH_MAX - 1)]];
	}
	return 0;
}

/* Is the reversed src (n bytes, 0 < n < AIBOM_PATH_MAX - 1) in `map` (LPM over reversed names)? */
static __always_inline bool suffix_match(void *map, const __u8 *src, __u32 n)
{
	__u32 zero = 0;
	struct rev_scratch *r = bpf_map_lookup_elem(&rev_map, &zero);

	if (!r || !n || n >= AIBOM_PATH_MAX - 1)
		return false;
	if (bpf_probe_read_kernel(r->src, sizeof(r->src), src))
		return false;
	r->n = n;
	bpf_loop((n + REV_STEP - 1) / REV_STEP, reverse_cb, NULL, 0); /* bytes past n are overwritten by the NUL or lie outside prefixlen */
	r->key.path[n & (AIBOM_PATH_MAX - 1)] = 0;
	r->key.prefixlen = (n + 1) * 8;
	return bpf_map_lookup_elem(map, &r->key) != NULL;
}

/* Is the path in s->key (n bytes) a model artifact (--shadow-artifact suffix)? Its last two bytes
 * first (a bitmap the loader fills from the suffixes, both cases): `.so`, `.py`, `.html`... stop there,
 * without the byte-per-round reversal. */
static __always_inline bool artifact_match(struct scratch *s, __u32 n)
{
	__u32 k;

	if (n < 2 || n >= AIBOM_PATH_MAX)
		return false;
	k = (__u32)s->key.path[(n - 2) & (AIBOM_PATH_MAX - 1)] << 8 | s->key.path[(n - 1) & (AIBOM_PATH_MAX - 1)];
	if (!((artifact_last2[(k >> 6) & 1023] >> (k & 63)) & 1))
		return false;
	return suffix_match(&shadow_artifacts, s->key.path, n);
}

static __always_inline int open_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending_open *pp = bpf_map_lookup_elem(&pending_opens, &id);
	struct pending_open po;
	struct scratch *s;
	struct open_key *k;
	struct open_event *e;
	__u16 flags = 0;
	__u32 repeat = 0;
	long n;

	if (!pp)
		return 0;
	po = *pp;
	bpf_map_delete_elem(&pending_opens, &id);

	s = get_scratch(SCRATCH_SYSCALL);
	if (!s)
		return 0;
	k = &s->key;
	/* Zero the path so bytes after the NUL are identical in dedupe keys. */
	__builtin_memset(k, 0, sizeof(*k));
	k->tgid = id >> 32;
	k->open_flags = po.open_flags;
	k->ret = ret;
	n = bpf_probe_read_user_str(k->path, sizeof(k->path), (void *)po.filename);
	if (n < 0) {
		COUNT(helper_errors, EV_OPEN);
		return 0;
	}
	n = n > 0 ? n - 1 : 0;
	if (n >= AIBOM_PATH_MAX - 1)
		flags |= EVF_TRUNCATED;

	if (po.candidate) {
		if (ret < 0 || !artifact_match(s, n)) {
			COUNT(filtered, FILT_NO_SIGNATURE);
			return 0;
		}
		if (!shadow_promote(id >> 32))
			return 0;
		flags |= EVF_SHADOW | EVF_SHADOW_START;
	} else if (shadow_active && ret >= 0 && !(po.open_flags & 3) && artifact_match(s, n)) {
		flags |= EVF_SHADOW; /* a watched process (env marker, --all...) loading a model */
	}

	if (path_rules_active) {
		__u32 *rule;
		k->prefixlen = n * 8;
		rule = bpf_map_lookup_elem(&path_rules, &k->prefixlen);
		if (rule && *rule == PATH_RULE_IGNORE) {
			COUNT(filtered, FILT_PATH_IGNORED);
			return 0;
		}
		if (rule && *rule == PATH_RULE_CREDENTIAL)
			flags |= EVF_CREDENTIAL;
	}

	if (dedupe_window_ns) {
		__u64 now = bpf_ktime_get_boot_ns();
		struct dedupe_val *d = bpf_map_lookup_elem(&dedupe, k);
		if (d) {
			if (now - d->last_emit_ns < dedupe_window_ns) {
				__sync_fetch_and_add(&d->suppressed, 1);
				COUNT(deduped, EV_OPEN);
				return 0;
			}
			repeat = d->suppressed;
			d->suppressed = 0;
			d->last_emit_ns = now;
		} else {
			struct dedupe_val nv = { .suppressed = 0, .last_emit_ns = now };
			if (bpf_map_update_elem(&dedupe, k, &nv, BPF_ANY))
				COUNT(helper_errors, EV_OPEN);
		}
	}

	e = &s->ev.open;
	fill_hdr(&e->hdr, EV_OPEN, 0);
	e->hdr.flags = flags;
	e->hdr.repeat = repeat;
	e->ret = ret;
	e->open_flags = po.open_flags;
	e->mode = po.mode;
	e->path_len = n;
	e->_pad0 = 0;
	bpf_probe_read_kernel(e->path, sizeof(e->path), k->path);
	e->hdr.size = offsetof(struct open_event, path) + (n & (AIBOM_PATH_MAX - 1));
	emit_copy(e, e->hdr.size, EV_OPEN, sizeof(*e));
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int handle_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	if (stopping)
		return 0;
	return open_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int handle_openat2_exit(struct trace_event_raw_sys_exit *ctx)
{
	if (stopping)
		return 0;
	return open_exit(ctx->ret);
}

/* ---------------------------------------------------------------- sockets */

static __always_inline struct sock *fd_to_sock(__u32 fd)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds;
	struct file *f = NULL;
	struct socket *sock;
	__u32 mode;

	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return NULL;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(f, private_data);
	return BPF_CORE_READ(sock, sk);
}

/* Local and remote endpoint of a socket; returns the family (0 if not inet). */
static __always_inline __u16 sock_endpoints(struct sock *sk, __u8 *saddr, __u16 *sport, __u8 *daddr,
					    __u16 *dport)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	/* Explicit sizes: BPF_CORE_READ_INTO would copy sizeof(*saddr) = 1 byte. */
	if (family == AF_INET) {
		bpf_core_read(saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(daddr, 4, &sk->__sk_common.skc_daddr);
	} else if (family == AF_INET6) {
		bpf_core_read(saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(daddr, 16, &sk->__sk_common.skc_v6_daddr);
	} else {
		return 0;
	}
	*sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	*dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	return family;
}

/* Reads family, port (host order) and address from a user sockaddr. */
static __always_inline int read_sockaddr(__u64 uaddr, __u16 *family, __u16 *port, __u8 *addr)
{
	struct sockaddr_in6 sa = {};

	if (bpf_probe_read_user(&sa, sizeof(struct sockaddr_in), (void *)uaddr))
		return -1;
	*family = sa.sin6_family;
	*port = bpf_ntohs(sa.sin6_port);
	if (sa.sin6_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&sa;
		__builtin_memcpy(addr, &in->sin_addr.s_addr, 4);
	} else if (sa.sin6_family == AF_INET6) {
		if (bpf_probe_read_user(&sa, sizeof(sa), (void *)uaddr))
			return -1;
		__builtin_memcpy(addr, sa.sin6_addr.in6_u.u6_addr8, 16);
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_connect")
int handle_connect_enter(struct trace_event_raw_sys_enter *ctx)
{
	if (stopping)
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	struct pending_connect pc = {};

	if (!monitored_or_count(id >> 32))
		return 0;
	pc.fd = ctx->args[0];
	if (read_sockaddr(ctx->args[1], &pc.family, &pc.port, pc.addr)) {
		COUNT(helper_errors, EV_CONNECT);
		return 0;
	}
	if (pc.family != AF_INET && pc.family != AF_INET6) {
		COUNT(filtered, FILT_NOT_INTERESTING); /* unix sockets etc. */
		return 0;
	}
	if (bpf_map_update_elem(&pending_connects, &id, &pc, BPF_ANY))
		COUNT(helper_errors, EV_CONNECT);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int handle_connect_exit(struct trace_event_raw_sys_exit *ctx)
{
	if (stopping)
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	struct pending_connect *pp = bpf_map_lookup_elem(&pending_connects, &id);
	struct pending_connect pc;
	struct sock_event *e;
	struct sock *sk;
	__u8 ignored[16];
	__u16 ignored_port;
	__u64 wf;

	if (!pp)
		return 0;
	pc = *pp;
	bpf_map_delete_elem(&pending_connects, &id);

	COUNT(attempted, EV_CONNECT);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		COUNT(rb_drops, EV_CONNECT);
		return 0;
	}
	fill_hdr(&e->hdr, EV_CONNECT, sizeof(*e));
	e->ret = ctx->ret;
	if (ctx->ret == -EINPROGRESS)
		e->hdr.flags |= EVF_NO_RESULT;
	e->family = pc.family;
	e->dport = pc.port;
	e->sport = 0;
	e->protocol = 0;
	e->_pad0 = 0;
	__builtin_memset(e->saddr, 0, sizeof(e->saddr));
	__builtin_memcpy(e->daddr, pc.addr, sizeof(e->daddr));
	if (pc.family == AF_INET6)
		e->hdr.flags |= EVF_IPV6;
	sk = fd_to_sock(pc.fd);
	if (sk) {
		e->protocol = BPF_CORE_READ(sk, sk_protocol);
		/* Local side is bound by now (or 0 if connect failed early). */
		sock_endpoints(sk, e->saddr, &e->sport, ignored, &ignored_port);
	}
	wf = wakeup_flag();
	bpf_ringbuf_submit(e, wf);
	COUNT(emitted, EV_CONNECT);
	return 0;
}

static __always_inline int accept_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct sock_event *e;
	struct sock *sk;
	__u64 wf;

	if (!monitored_or_count(id >> 32))
		return 0;
	if (ret < 0) { /* EAGAIN on non-blocking listeners is the common case */
		COUNT(filtered, FILT_NOT_INTERESTING);
		return 0;
	}
	sk = fd_to_sock(ret);
	if (!sk) {
		COUNT(helper_errors, EV_ACCEPT);
		return 0;
	}
	COUNT(attempted, EV_ACCEPT);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		COUNT(rb_drops, EV_ACCEPT);
		return 0;
	}
	fill_hdr(&e->hdr, EV_ACCEPT, sizeof(*e));
	e->ret = ret;
	e->_pad0 = 0;
	__builtin_memset(e->saddr, 0, sizeof(e->saddr));
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	e->sport = e->dport = 0;
	e->protocol = BPF_CORE_READ(sk, sk_protocol);
	/* For an accepted socket the "destination" is the peer. */
	e->family = sock_endpoints(sk, e->saddr, &e->sport, e->daddr, &e->dport);
	if (e->family == AF_INET6)
		e->hdr.flags |= EVF_IPV6;
	wf = wakeup_flag();
	bpf_ringbuf_submit(e, wf);
	COUNT(emitted, EV_ACCEPT);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int handle_accept4_exit(struct trace_event_raw_sys_exit *ctx)
{
	if (stopping)
		return 0;
	return accept_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int handle_accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	if (stopping)
		return 0;
	return accept_exit(ctx->ret);
}

/*
 * listen() is rare: an unwatched process that listens on an inet socket becomes a model-server
 * candidate (MON_LISTEN, not monitored), whose read-only opens are then checked for model artifacts.
 */
SEC("tracepoint/syscalls/sys_enter_listen")
int handle_listen_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, v = MON_LISTEN;
	struct sock *sk;
	__u16 family;

	if (stopping || !shadow_active || monitor_all)
		return 0;
	if (bpf_map_lookup_elem(&monitored_pids, &tgid))
		return 0;
	sk = fd_to_sock(ctx->args[0]);
	if (!sk)
		return 0;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return 0;
	bpf_map_update_elem(&monitored_pids, &tgid, &v, BPF_NOEXIST);
	return 0;
}

/* ------------------------------------------------------------ DNS and HTTP */

/* DNS QNAME (wire labels) -> dotted name, bounded. Runs on a scratch copy
 * of the payload so every index is masked for the verifier. */
static __always_inline void emit_dns(struct scratch *s, __u32 len, __u16 family, __u16 dport, __u8 *daddr)
{
	struct dns_event *e = &s->ev.dns;
	__u8 *b = s->buf;
	__u32 pos = 12, out = 0, rem = 0;
	bool done = false;

	if (len < 17 || (b[2] & 0x80)) { /* too short, or a response (QR set) */
		COUNT(filtered, FILT_NOT_INTERESTING);
		return;
	}
	fill_hdr(&e->hdr, EV_DNS, 0);
	e->family = family;
	e->dport = dport;
	e->txid = ((__u16)b[0] << 8) | b[1];
	e->_pad0 = 0;
	__builtin_memcpy(e->daddr, daddr, 16);
	if (family == AF_INET6)
		e->hdr.flags |= EVF_IPV6;

	for (int i = 0; i < AIBOM_DNS_NAME_MAX + 8; i++) {
		__u8 c;
		if (pos >= len || pos >= DNS_BUF)
			break;
		c = b[pos & (DNS_BUF - 1)];
		pos++;
		if (rem == 0) {
			if (c == 0) {
				done = true;
				break;
			}
			if (c & 0xc0) /* compression pointers are not used in queries */
				break;
			if (out) {
				if (out >= AIBOM_DNS_NAME_MAX - 1)
					break;
				e->name[out & (AIBOM_DNS_NAME_MAX - 1)] = '.';
				out++;
			}
			rem = c;
		} else {
			if (out >= AIBOM_DNS_NAME_MAX - 1)
				break;
			e->name[out & (AIBOM_DNS_NAME_MAX - 1)] = c;
			out++;
			rem--;
		}
	}
	if (!done)
		e->hdr.flags |= EVF_TRUNCATED;
	if (shadow_active) {
		/* A known AI provider's name (suffix match over the reversed name)? */
		bool hit = suffix_match(&shadow_hosts, e->name, out);
		if (s->unwatched) {
			if (!hit) {
				COUNT(filtered, FILT_NO_SIGNATURE);
				return;
			}
			if (!shadow_promote(e->hdr.pid))
				return;
			e->hdr.flags |= EVF_SHADOW_START;
		}
		if (hit)
			e->hdr.flags |= EVF_SHADOW;
	}
	e->qtype = done && pos + 1 < DNS_BUF ? ((__u16)b[pos & (DNS_BUF - 1)] << 8) | b[(pos + 1) & (DNS_BUF - 1)] : 0;
	e->qclass = done && pos + 3 < DNS_BUF ? ((__u16)b[(pos + 2) & (DNS_BUF - 1)] << 8) | b[(pos + 3) & (DNS_BUF - 1)] : 0;
	e->name_len = out;
	e->hdr.size = offsetof(struct dns_event, name) + (out & (AIBOM_DNS_NAME_MAX - 1));
	emit_copy(e, e->hdr.size, EV_DNS, sizeof(*e));
}

static __always_inline bool looks_like_http(const __u8 *b)
{
	switch (b[0]) {
	case 'G': return b[1] == 'E' && b[2] == 'T' && b[3] == ' ';
	case 'P': return (b[1] == 'O' && b[2] == 'S' && b[3] == 'T' && b[4] == ' ') ||
			 (b[1] == 'U' && b[2] == 'T' && b[3] == ' ') ||
			 (b[1] == 'A' && b[2] == 'T' && b[3] == 'C' && b[4] == 'H' && b[5] == ' ');
	case 'H': return b[1] == 'E' && b[2] == 'A' && b[3] == 'D' && b[4] == ' ';
	case 'D': return b[1] == 'E' && b[2] == 'L' && b[3] == 'E' && b[4] == 'T' && b[5] == 'E' && b[6] == ' ';
	case 'O': return b[1] == 'P' && b[2] == 'T' && b[3] == 'I' && b[4] == 'O' && b[5] == 'N' && b[6] == 'S';
	case 'C': return b[1] == 'O' && b[2] == 'N' && b[3] == 'N' && b[4] == 'E' && b[5] == 'C' && b[6] == 'T';
	}
	return false;
}

/* Does the request head in `buf` ("POST <path>") name a known inference API path (--shadow-api-path)? */
static __always_inline bool api_path_match(struct scratch *s, __u64 buf, __u64 len)
{
	struct shadow_path_key *k = (struct shadow_path_key *)s->buf;
	__u32 n = len - 5 > AIBOM_SHADOW_PATH_MAX ? AIBOM_SHADOW_PATH_MAX : len - 5;

	if (len < 6 || bpf_probe_read_user(k->path, AIBOM_SHADOW_PATH_MAX, (void *)(buf + 5)))
		return false;
	k->prefixlen = n * 8;
	return bpf_map_lookup_elem(&shadow_paths, k) != NULL;
}

/*
 * Cheap first look at what an unwatched process sends (12 bytes, no socket walk): could it be a DNS
 * query (one question, no answers: QDCOUNT 1, AN/NS 0, QR clear) or a "POST " request head? Everything
 * else stops here, counted as FILT_NO_SIGNATURE.
 */
static __always_inline bool maybe_shadow(__u64 buf, __u64 len)
{
	__u8 b[12] = {};

	if (len < 12 || bpf_probe_read_user(b, sizeof(b), (void *)buf))
		return false;
	if (!(b[2] & 0x80) && b[4] == 0 && b[5] == 1 && b[6] == 0 && b[7] == 0 && b[8] == 0 && b[9] == 0)
		return true;
	return b[0] == 'P' && b[1] == 'O' && b[2] == 'S' && b[3] == 'T' && b[4] == ' ' && b[5] == '/';
}

/*
 * Common path for sendto/sendmsg/sendmmsg/write/writev of a monitored
 * process: UDP to port 53 -> DNS query, TCP whose bytes start with an HTTP
 * method -> HTTP first bytes. `uaddr` is the explicit destination, if any.
 * `unwatched` (sendto/sendmsg/sendmmsg of a process nothing watches, shadow-AI
 * signatures on): only a DNS query for a known provider name or a POST to a
 * known inference API path is reported, and the process is watched from then on.
 */
static __always_inline int handle_send(__u32 fd, __u64 uaddr, __u64 buf, __u64 len, bool unwatched)
{
	__u8 daddr[16] = {}, saddr[16] = {};
	__u16 family = 0, dport = 0, sport = 0, proto = 0, flags = 0;
	struct sock *sk = NULL;
	struct scratch *s;
	__u64 body_key;
	__u32 n;

	if (!buf || !len)
		return 0;
	if (unwatched && !maybe_shadow(buf, len)) {
		COUNT(filtered, FILT_NO_SIGNATURE);
		return 0;
	}
	if (uaddr) {
		if (read_sockaddr(uaddr, &family, &dport, daddr))
			return 0;
		proto = IPPROTO_UDP; /* an explicit address on TCP is ignored by the kernel */
	} else {
		sk = fd_to_sock(fd);
		if (!sk) /* files and pipes: the common case for write() */
			return 0;
		proto = BPF_CORE_READ(sk, sk_protocol);
		family = sock_endpoints(sk, saddr, &sport, daddr, &dport);
	}
	if (family != AF_INET && family != AF_INET6) {
		if (unwatched)
			COUNT(filtered, FILT_NO_SIGNATURE);
		return 0;
	}

	s = get_scratch(SCRATCH_SYSCALL);
	if (!s)
		return 0;

	if (proto == IPPROTO_UDP && dport == 53) {
		n = len > DNS_BUF ? DNS_BUF : len;
		if (bpf_probe_read_user(s->buf, n & (DNS_BUF - 1) ? n & (DNS_BUF - 1) : DNS_BUF, (void *)buf)) {
			COUNT(helper_errors, EV_DNS);
			return 0;
		}
		s->unwatched = unwatched;
		emit_dns(s, n, family, dport, daddr);
		return 0;
	}
	if (proto == IPPROTO_TCP) {
		struct data_event *e = &s->ev.data;
		__u8 head[8] = {};

		if (len < 8 || bpf_probe_read_user(head, sizeof(head), (void *)buf))
			return 0;
		body_key = (bpf_get_current_pid_tgid() & 0xffffffff00000000ULL) | fd;
		if (!looks_like_http(head)) {
			/* The body after a shadow API request head: it names the model. */
			if (shadow_active && !unwatched && bpf_map_lookup_elem(&shadow_bodies, &body_key)) {
				bpf_map_delete_elem(&shadow_bodies, &body_key);
				flags = EVF_SHADOW | EVF_SHADOW_BODY;
			} else {
				COUNT(filtered, unwatched ? FILT_NO_SIGNATURE : FILT_NOT_INTERESTING);
				return 0;
			}
		} else if (shadow_active && head[0] == 'P' && head[1] == 'O' && api_path_match(s, buf, len)) {
			__u8 one = 1;
			if (unwatched) {
				if (!shadow_promote(bpf_get_current_pid_tgid() >> 32))
					return 0;
				flags = EVF_SHADOW | EVF_SHADOW_START;
			} else {
				flags = EVF_SHADOW;
			}
			bpf_map_update_elem(&shadow_bodies, &body_key, &one, BPF_ANY);
		} else if (unwatched) {
			COUNT(filtered, FILT_NO_SIGNATURE);
			return 0;
		}
		n = len > AIBOM_HTTP_MAX ? AIBOM_HTTP_MAX : len;
		fill_hdr(&e->hdr, EV_HTTP, 0);
		e->hdr.flags = flags;
		if (len > AIBOM_HTTP_MAX)
			e->hdr.flags |= EVF_TRUNCATED;
		if (family == AF_INET6)
			e->hdr.flags |= EVF_IPV6;
		e->total_len = len;
		e->source = DATA_SRC_SOCKET_SEND;
		e->_pad0 = 0;
		e->family = family;
		e->dport = dport;
		e->fd = fd;
		__builtin_memcpy(e->daddr, daddr, 16);
		if (bpf_probe_read_user(e->data, n & (AIBOM_DATA_MAX - 1), (void *)buf)) {
			COUNT(helper_errors, EV_HTTP);
			return 0;
		}
		e->data_len = n & (AIBOM_DATA_MAX - 1);
		e->hdr.size = offsetof(struct data_event, data) + e->data_len;
		emit_copy(e, e->hdr.size, EV_HTTP, sizeof(*e));
	}
	return 0;
}

/* sendto/sendmsg/sendmmsg: a process nothing watches is still checked for shadow-AI signatures
 * (DNS resolvers and most HTTP clients but Node's send this way; write/writev are not checked: too hot). */
static __always_inline int send_gate(bool *unwatched)
{
	if (monitored_or_count(bpf_get_current_pid_tgid() >> 32))
		return 1;
	*unwatched = true;
	return shadow_active;
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int handle_sendto_enter(struct trace_event_raw_sys_enter *ctx)
{
	bool unwatched = false;

	if (stopping)
		return 0;
	if (!send_gate(&unwatched))
		return 0;
	return handle_send(ctx->args[0], ctx->args[4], ctx->args[1], ctx->args[2], unwatched);
}

SEC("tracepoint/syscalls/sys_enter_write")
int handle_write_enter(struct trace_event_raw_sys_enter *ctx)
{
	if (stopping)
		return 0;
	if (!monitored_or_count(bpf_get_current_pid_tgid() >> 32))
		return 0;
	return handle_send(ctx->args[0], 0, ctx->args[1], ctx->args[2], false);
}

static __always_inline int send_msghdr(__u32 fd, __u64 umsg, bool unwatched)
{
	struct user_msghdr m = {};
	struct iovec iov = {};

	if (bpf_probe_read_user(&m, sizeof(m), (void *)umsg))
		return 0;
	if (!m.msg_iov || !m.msg_iovlen)
		return 0;
	/* Only the first iovec: enough for a DNS query or an HTTP request line. */
	if (bpf_probe_read_user(&iov, sizeof(iov), m.msg_iov))
		return 0;
	return handle_send(fd, (__u64)m.msg_name, (__u64)iov.iov_base, iov.iov_len, unwatched);
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int handle_sendmsg_enter(struct trace_event_raw_sys_enter *ctx)
{
	bool unwatched = false;

	if (stopping)
		return 0;
	if (!send_gate(&unwatched))
		return 0;
	return send_msghdr(ctx->args[0], ctx->args[1], unwatched);
}

SEC("tracepoint/syscalls/sys_enter_sendmmsg")
int handle_sendmmsg_enter(struct trace_event_raw_sys_enter *ctx)
{
	bool unwatched = false;

	if (stopping)
		return 0;
	/* First message only (glibc's resolver sends A and AAAA for one name). */
	if (!send_gate(&unwatched))
		return 0;
	return send_msghdr(ctx->args[0], ctx->args[1], unwatched);
}

SEC("tracepoint/syscalls/sys_enter_writev")
int handle_writev_enter(struct trace_event_raw_sys_enter *ctx)
{
	if (stopping)
		return 0;
	struct iovec iov = {};

	if (!monitored_or_count(bpf_get_current_pid_tgid() >> 32))
		return 0;
	if (!ctx->args[1] || !ctx->args[2] || bpf_probe_read_user(&iov, sizeof(iov), (void *)ctx->args[1]))
		return 0;
	return handle_send(ctx->args[0], 0, (__u64)iov.iov_base, iov.iov_len, false);
}

/* ------------------------------------------------------- OpenSSL uprobes */
/* libbpf 1.1 has no BPF_UPROBE yet; BPF_KPROBE reads the same pt_regs. */

static __always_inline int ssl_enter(__u64 buf, __u64 num, __u64 outlen_ptr, __u8 source, __u8 ex)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending_ssl ps = {
		.buf = buf, .outlen_ptr = outlen_ptr, .num = num, .source = source, .ex = ex,
	};

	if (!monitored_or_count(id >> 32))
		return 0;
	if (bpf_map_update_elem(&pending_ssl, &id, &ps, BPF_ANY))
		COUNT(helper_errors, EV_TLS);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_enter, void *ssl, const void *buf, int num)
{
	if (stopping)
		return 0;
	return ssl_enter((__u64)buf, num, 0, DATA_SRC_SSL_WRITE, 0);
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_enter, void *ssl, void *buf, int num)
{
	if (stopping)
		return 0;
	return ssl_enter((__u64)buf, num, 0, DATA_SRC_SSL_READ, 0);
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_ex_enter, void *ssl, const void *buf, __u64 num, __u64 *written)
{
	if (stopping)
		return 0;
	return ssl_enter((__u64)buf, num, (__u64)written, DATA_SRC_SSL_WRITE, 1);
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_ex_enter, void *ssl, void *buf, __u64 num, __u64 *readbytes)
{
	if (stopping)
		return 0;
	return ssl_enter((__u64)buf, num, (__u64)readbytes, DATA_SRC_SSL_READ, 1);
}

/* One return probe for all four: the plaintext is complete only on return
 * for reads, and the byte count is only known then for all of them. */
SEC("uretprobe")
int BPF_KRETPROBE(ssl_ret, long ret)
{
	if (stopping)
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	struct pending_ssl *pp = bpf_map_lookup_elem(&pending_ssl, &id);
	struct pending_ssl ps;
	struct data_event *e;
	struct scratch *s;
	__u64 total = 0;
	__u32 n;

	if (!pp)
		return 0;
	ps = *pp;
	bpf_map_delete_elem(&pending_ssl, &id);

	if (ps.ex) {
		if ((int)ret != 1 || !ps.outlen_ptr)
			return 0;
		if (bpf_probe_read_user(&total, sizeof(total), (void *)ps.outlen_ptr)) {
			COUNT(helper_errors, EV_TLS);
			return 0;
		}
	} else {
		if ((int)ret <= 0)
			return 0;
		total = (int)ret;
	}
	if (!total)
		return 0;

	s = get_scratch(SCRATCH_UPROBE);
	if (!s)
		return 0;
	e = &s->ev.data;
	fill_hdr(&e->hdr, EV_TLS, 0);
	n = total > AIBOM_DATA_MAX ? AIBOM_DATA_MAX : total;
	if (total > AIBOM_DATA_MAX)
		e->hdr.flags |= EVF_TRUNCATED;
	e->total_len = total;
	e->source = ps.source;
	e->_pad0 = 0;
	e->family = 0;
	e->dport = 0;
	e->fd = 0;
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	if (n == AIBOM_DATA_MAX) {
		if (bpf_probe_read_user(e->data, AIBOM_DATA_MAX, (void *)ps.buf))
			goto fail;
	} else if (bpf_probe_read_user(e->data, n & (AIBOM_DATA_MAX - 1), (void *)ps.buf)) {
		goto fail;
	}
	e->data_len = n;
	e->hdr.size = offsetof(struct data_event, data) + (n > AIBOM_DATA_MAX ? AIBOM_DATA_MAX : n);
	emit_copy(e, e->hdr.size, EV_TLS, sizeof(*e));
	return 0;
fail:
	COUNT(helper_errors, EV_TLS);
	return 0;
}
