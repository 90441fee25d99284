// SPDX-License-Identifier: Apache-2.0
/*
 * aibom-sensor: loads aibom-sensor.bpf.o, applies the workload filters given
 * on the command line (and on stdin at runtime), and streams length-prefixed
 * binary frames (see README.md) to stdout or a Unix socket.
 *
 * Order follows libbpf-bootstrap: parse args -> print callback -> signals ->
 * preflight -> open -> rodata -> load -> maps -> attach -> poll -> cleanup.
 */
#define _GNU_SOURCE
#include <argp.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/prctl.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/types.h>
#include <pthread.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "aibom-sensor.h"
#include "peercred.h"
#include "aibom-sensor.skel.h"

/* Distinct exit codes so a supervisor can tell what is missing. */
enum {
	EXIT_OK = 0,
	EXIT_USAGE = 1,
	EXIT_NO_BTF = 2,
	EXIT_NO_PRIVS = 3,
	EXIT_NO_TRACEFS = 4,
	EXIT_LOAD = 5,
	EXIT_ATTACH = 6,
	EXIT_OUTPUT = 7,
};

#define MAX_RULES 256
#define MAX_SSL_TARGETS 256

static struct env {
	bool verbose;
	bool all;
	__u32 pids[MAX_RULES];
	int n_pids;
	__u32 ignored_pids[AIBOM_MAX_IGNORED_PIDS];
	int n_ignored_pids;
	__u64 cgroups[MAX_RULES];
	int n_cgroups;
	char comms[MAX_RULES][AIBOM_COMM_LEN];
	int n_comms;
	const char *ignore_paths[MAX_RULES];
	int n_ignore;
	const char *cred_paths[MAX_RULES];
	int n_cred;
	bool no_default_creds;
	const char *env_markers[MAX_RULES];
	int n_env_markers;
	bool no_default_env_markers;
	const char *ssl_libs[MAX_RULES];
	int n_ssl_libs;
	bool no_shadow;
	bool no_default_shadow;
	const char *shadow_hosts[MAX_RULES];
	int n_shadow_hosts;
	const char *shadow_paths[MAX_RULES];
	int n_shadow_paths;
	const char *shadow_artifacts[MAX_RULES];
	int n_shadow_artifacts;
	const char *shadow_exes[MAX_RULES];
	int n_shadow_exes;
	bool no_ssl;
	const char *socket_path;
	long socket_peer_uid;
	bool peercred;
	__u32 ringbuf_kb;
	__u32 stats_interval_ms;
	__u32 poll_ms;
	__u64 dedupe_ms;
} env = {
	.socket_peer_uid = -1,
	.ringbuf_kb = 4096,
	.stats_interval_ms = 1000,
	.poll_ms = 50,
	.dedupe_ms = 1000,
};

static const char *default_ssl_lib = "/usr/lib/x86_64-linux-gnu/libssl.so.3";

/* Home-relative entries are expanded for every home directory in /etc/passwd. */
static const char *default_cred_paths[] = {
	"/var/run/secrets/kubernetes.io/serviceaccount/",
	"/run/secrets/kubernetes.io/serviceaccount/",
	"/var/run/secrets/eks.amazonaws.com/serviceaccount/",
	"/var/run/secrets/azure/tokens/",
	"~/.aws/credentials",
	"~/.aws/config",
	"~/.config/gcloud/",
	"~/.azure/",
	"~/.kube/config",
	"~/.docker/config.json",
	"~/.netrc",
};

/*
 * Environment variables that mark an AI workload: provider API keys and the
 * settings of AI instrumentation and agent frameworks. `NAME*` is a prefix.
 * Deliberately not OTEL_* in general: an OpenTelemetry-instrumented service
 * that is not an AI agent is not watched for that alone.
 */
static const char *default_env_markers[] = {
	/* model providers */
	"OPENAI_*", "AZURE_OPENAI_*", "ANTHROPIC_*", "GEMINI_*", "GOOGLE_API_KEY", "MISTRAL_*", "GROQ_*",
	"COHERE_*", "CO_API_KEY", "TOGETHER_API_KEY", "OPENROUTER_*", "DEEPSEEK_*", "XAI_API_KEY",
	"FIREWORKS_API_KEY", "PERPLEXITY_API_KEY", "CEREBRAS_API_KEY", "AI21_API_KEY", "NVIDIA_API_KEY",
	"REPLICATE_API_TOKEN", "VOYAGE_API_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HUGGINGFACEHUB_API_TOKEN",
	"AWS_BEARER_TOKEN_BEDROCK", "OLLAMA_HOST",
	/* AI instrumentation, tracing and agent frameworks */
	"TRACELOOP_*", "OPENINFERENCE_*", "OPENLIT_*", "OTEL_INSTRUMENTATION_GENAI_*", "LANGSMITH_*",
	"LANGCHAIN_*", "LANGFUSE_*", "PHOENIX_*", "AGENTOPS_*", "LITELLM_*", "TAVILY_API_KEY", "MCP_*",
};

/*
 * Shadow-AI signatures, checked for every process nothing watches (bpf/README.md "Shadow AI").
 * Hosts: exact names, or `*SUFFIX` (any name ending so). Kept to API hosts: a provider's web site is
 * not a model call.
 */
static const char *default_shadow_hosts[] = {
	"api.openai.com", "*.openai.azure.com", "*.cognitiveservices.azure.com", "*.services.ai.azure.com",
	"api.anthropic.com", "generativelanguage.googleapis.com", "*-aiplatform.googleapis.com",
	"aiplatform.googleapis.com",
	/* bedrock-runtime.REGION.amazonaws.com: a suffix lookup cannot skip the region, so the regions are listed */
	"bedrock-runtime.us-east-1.amazonaws.com", "bedrock-runtime.us-east-2.amazonaws.com", "bedrock-runtime.us-west-2.amazonaws.com",
	"bedrock-runtime.eu-central-1.amazonaws.com", "bedrock-runtime.eu-west-1.amazonaws.com", "bedrock-runtime.eu-west-3.amazonaws.com",
	"bedrock-runtime.ap-northeast-1.amazonaws.com", "bedrock-runtime.ap-southeast-1.amazonaws.com",
	"bedrock-runtime.ap-southeast-2.amazonaws.com", "bedrock-runtime.ap-south-1.amazonaws.com",
	"bedrock-runtime.ca-central-1.amazonaws.com", "bedrock-runtime.sa-east-1.amazonaws.com",
	"api.mistral.ai", "api.groq.com", "api.together.xyz", "api.together.ai", "openrouter.ai", "api.cohere.com",
	"api.cohere.ai", "api.deepseek.com", "api.x.ai", "api-inference.huggingface.co", "router.huggingface.co",
	"api.fireworks.ai", "api.perplexity.ai", "api.cerebras.ai", "api.replicate.com", "api.voyageai.com",
	"integrate.api.nvidia.com", "api.ai21.com",
};
/* Inference API paths, matched as prefixes of what follows "POST ". */
static const char *default_shadow_paths[] = {
	"/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses", "/v1/messages",
	"/api/generate", "/api/chat", "/api/embed", "/generate", "/v1/models/", "/openai/deployments/",
};
/* Model artifacts: path suffixes. */
static const char *default_shadow_artifacts[] = { "*.gguf", "*.safetensors", "*.onnx", "*.ggml" };
/* Model servers, by the comm an exec gives them (basename, first 15 bytes). */
static const char *default_shadow_exes[] = {
	"ollama", "llama-server", "llamafile", "vllm", "text-generation", "local-ai", "tritonserver", "koboldcpp",
	"lmdeploy", "tabby", "mlc_llm",
};

/* Every marker in force, in id order (id = index + 1): the defaults, then --env-marker. */
static const char *markers[MAX_RULES + sizeof(default_env_markers) / sizeof(default_env_markers[0])];
static int n_markers;

const char *argp_program_version = "aibom-sensor 0.1";
static const char argp_doc[] =
	"aibom-sensor: eBPF sensor for aibom-collector.\n"
	"Streams binary frames (bpf/README.md) to stdout or --socket.\n"
	"Control lines on stdin: '+pid N', '-pid N', '+comm NAME', '-comm NAME', '+cgroup ID|PATH', '-cgroup ID|PATH'.";

enum {
	OPT_ALL = 1000, OPT_CGROUP, OPT_COMM, OPT_IGNORE, OPT_CRED, OPT_NO_DEFAULT_CREDS, OPT_RINGBUF,
	OPT_STATS, OPT_SOCKET, OPT_SSL_LIB, OPT_NO_SSL, OPT_POLL, OPT_DEDUPE, OPT_IGNORE_PID, OPT_ENV_MARKER,
	OPT_NO_DEFAULT_ENV_MARKERS, OPT_SOCKET_PEER_UID, OPT_PEERCRED, OPT_SHADOW_HOST, OPT_SHADOW_PATH,
	OPT_SHADOW_ARTIFACT, OPT_SHADOW_EXE, OPT_NO_SHADOW, OPT_NO_DEFAULT_SHADOW,
};

static const struct argp_option opts[] = {
	{ "pid", 'p', "PID", 0, "Monitor PID and its descendants (repeatable)" },
	{ "cgroup", OPT_CGROUP, "PATH|ID", 0, "Monitor a cgroup v2 (path under a cgroup2 mount, or numeric id)" },
	{ "comm", OPT_COMM, "NAME", 0, "Monitor processes whose comm is NAME (at exec, and already running)" },
	{ "all", OPT_ALL, NULL, 0, "Monitor every process (except the sensor)" },
	{ "env-marker", OPT_ENV_MARKER, "NAME|PREFIX*", 0, "Monitor processes whose environment has variable NAME (or one starting with PREFIX): at exec, and those already running" },
	{ "no-default-env-markers", OPT_NO_DEFAULT_ENV_MARKERS, NULL, 0, "Do not add the built-in AI environment markers" },
	{ "ignore-pid", OPT_IGNORE_PID, "PID", 0, "Never report process PID (the collector itself), even under --all (up to 8)" },
	{ "ignore-path", OPT_IGNORE, "PREFIX", 0, "Drop opens whose path starts with PREFIX (in kernel)" },
	{ "credential-path", OPT_CRED, "PREFIX", 0, "Flag opens under PREFIX as credential access (~/ expands to every home)" },
	{ "no-default-credential-paths", OPT_NO_DEFAULT_CREDS, NULL, 0, "Do not add the built-in credential prefixes" },
	{ "ssl-lib", OPT_SSL_LIB, "PATH", 0, "Also attach OpenSSL uprobes to PATH (repeatable)" },
	{ "no-ssl", OPT_NO_SSL, NULL, 0, "Do not attach OpenSSL uprobes" },
	{ "ringbuf-kb", OPT_RINGBUF, "KB", 0, "Ring buffer size in KiB, power of two >= 4 (default 4096)" },
	{ "stats-interval-ms", OPT_STATS, "MS", 0, "Stats frame period (default 1000, 0 = only at exit)" },
	{ "poll-ms", OPT_POLL, "MS", 0, "Max latency before queued events are read (default 50)" },
	{ "dedupe-ms", OPT_DEDUPE, "MS", 0, "Identical-open suppression window (default 1000, 0 = off)" },
	{ "socket", OPT_SOCKET, "PATH", 0, "Connect to the Unix stream socket PATH and write frames there" },
	{ "socket-peer-uid", OPT_SOCKET_PEER_UID, "UID", 0, "Send only to a listener running as UID or root (default: the socket file's owner)" },
	{ "peercred", OPT_PEERCRED, NULL, 0, "Print 'pid uid gid' of the peer of the Unix socket on stdin, then exit" },
	{ "shadow-provider", OPT_SHADOW_HOST, "HOST|*SUFFIX", 0, "Shadow AI: a DNS query for HOST (or a name ending in SUFFIX) by any process is reported (repeatable)" },
	{ "shadow-api-path", OPT_SHADOW_PATH, "/PATH", 0, "Shadow AI: a POST whose path starts with PATH, sent by any process, is reported (repeatable)" },
	{ "shadow-artifact", OPT_SHADOW_ARTIFACT, "*SUFFIX", 0, "Shadow AI: a read-only open of a file ending in SUFFIX by a listening process is reported (repeatable)" },
	{ "shadow-server-exe", OPT_SHADOW_EXE, "NAME", 0, "Shadow AI: an exec whose comm is NAME is reported and watched (repeatable)" },
	{ "no-default-shadow", OPT_NO_DEFAULT_SHADOW, NULL, 0, "Do not add the built-in shadow-AI signatures" },
	{ "no-shadow", OPT_NO_SHADOW, NULL, 0, "No shadow-AI signatures at all" },
	{ "verbose", 'v', NULL, 0, "libbpf debug output on stderr" },
	{},
};

static int parse_cgroup(const char *arg, __u64 *id)
{
	char *end;
	struct stat st;
	unsigned long long v = strtoull(arg, &end, 0);

	if (*arg && !*end) {
		*id = v;
		return 0;
	}
	/* On cgroup v2 the cgroup id is the kernfs inode number of its directory. */
	if (stat(arg, &st))
		return -errno;
	*id = st.st_ino;
	return 0;
}

/* NAME or PREFIX*: [A-Za-z_][A-Za-z0-9_]*, room for the '=' the kernel key adds. */
static bool valid_marker(const char *m)
{
	size_t n = strlen(m);

	if (n && m[n - 1] == '*')
		n--;
	if (!n || n > AIBOM_ENV_NAME_MAX - 2 || !(isalpha((unsigned char)m[0]) || m[0] == '_'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)m[i]) || m[i] == '_'))
			return false;
	return true;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	char *end;
	unsigned long v;

	switch (key) {
	case 'v': env.verbose = true; break;
	case 'p':
		v = strtoul(arg, &end, 10);
		if (!*arg || *end || !v || env.n_pids >= MAX_RULES)
			argp_error(state, "--pid: bad pid '%s'", arg);
		env.pids[env.n_pids++] = v;
		break;
	case OPT_CGROUP:
		if (env.n_cgroups >= MAX_RULES || parse_cgroup(arg, &env.cgroups[env.n_cgroups]))
			argp_error(state, "--cgroup: cannot resolve '%s' (need a cgroup2 directory or a numeric id)", arg);
		env.n_cgroups++;
		break;
	case OPT_COMM:
		if (env.n_comms >= MAX_RULES || strlen(arg) >= AIBOM_COMM_LEN)
			argp_error(state, "--comm: '%s' longer than %d bytes", arg, AIBOM_COMM_LEN - 1);
		strncpy(env.comms[env.n_comms++], arg, AIBOM_COMM_LEN - 1);
		break;
	case OPT_ALL: env.all = true; break;
	case OPT_ENV_MARKER:
		/* A NAME=value is not echoed: the value may be the secret itself. */
		if (env.n_env_markers >= MAX_RULES || !valid_marker(arg))
			argp_error(state, "--env-marker: '%s' must be a variable name, or a prefix ending in *, of at most %d characters",
				   strchr(arg, '=') ? "NAME=value" : arg, AIBOM_ENV_NAME_MAX - 2);
		env.env_markers[env.n_env_markers++] = arg;
		break;
	case OPT_NO_DEFAULT_ENV_MARKERS: env.no_default_env_markers = true; break;
	case OPT_IGNORE_PID:
		v = strtoul(arg, &end, 10);
		if (!*arg || *end || !v || env.n_ignored_pids >= AIBOM_MAX_IGNORED_PIDS)
			argp_error(state, "--ignore-pid: bad pid '%s' (at most %d)", arg, AIBOM_MAX_IGNORED_PIDS);
		env.ignored_pids[env.n_ignored_pids++] = v;
		break;
	case OPT_IGNORE:
		if (env.n_ignore >= MAX_RULES || arg[0] != '/')
			argp_error(state, "--ignore-path: '%s' must be an absolute prefix", arg);
		env.ignore_paths[env.n_ignore++] = arg;
		break;
	case OPT_CRED:
		if (env.n_cred >= MAX_RULES || (arg[0] != '/' && strncmp(arg, "~/", 2)))
			argp_error(state, "--credential-path: '%s' must be absolute or start with ~/", arg);
		env.cred_paths[env.n_cred++] = arg;
		break;
	case OPT_NO_DEFAULT_CREDS: env.no_default_creds = true; break;
	case OPT_SSL_LIB:
		if (env.n_ssl_libs >= MAX_RULES)
			argp_error(state, "--ssl-lib: too many");
		env.ssl_libs[env.n_ssl_libs++] = arg;
		break;
	case OPT_NO_SSL: env.no_ssl = true; break;
	case OPT_RINGBUF:
		v = strtoul(arg, &end, 10);
		if (!*arg || *end || v < 4 || (v & (v - 1)) || v > (1UL << 20))
			argp_error(state, "--ringbuf-kb: '%s' must be a power of two between 4 and 1048576", arg);
		env.ringbuf_kb = v;
		break;
	case OPT_STATS:
		v = strtoul(arg, &end, 10);
		if (!*arg || *end)
			argp_error(state, "--stats-interval-ms: bad value '%s'", arg);
		env.stats_interval_ms = v;
		break;
	case OPT_POLL:
		v = strtoul(arg, &end, 10);
		if (!*arg || *end || !v)
			argp_error(state, "--poll-ms: bad value '%s'", arg);
		env.poll_ms = v;
		break;
	case OPT_DEDUPE:
		v = strtoul(arg, &end, 10);
		if (!*arg || *end)
			argp_error(state, "--dedupe-ms: bad value '%s'", arg);
		env.dedupe_ms = v;
		break;
	case OPT_SOCKET: env.socket_path = arg; break;
	case OPT_SOCKET_PEER_UID:
		v = strtoul(arg, &end, 10);
		if (!*arg || *end || v > 0xfffffffeUL)
			argp_error(state, "--socket-peer-uid: bad uid '%s'", arg);
		env.socket_peer_uid = v;
		break;
	case OPT_PEERCRED: env.peercred = true; break;
	case OPT_SHADOW_HOST:
		if (env.n_shadow_hosts >= MAX_RULES || !*arg || strlen(arg) >= AIBOM_DNS_NAME_MAX - 1)
			argp_error(state, "--shadow-provider: '%s' must be a host name or *SUFFIX shorter than %d bytes", arg, AIBOM_DNS_NAME_MAX - 1);
		env.shadow_hosts[env.n_shadow_hosts++] = arg;
		break;
	case OPT_SHADOW_PATH:
		if (env.n_shadow_paths >= MAX_RULES || arg[0] != '/' || strlen(arg) > AIBOM_SHADOW_PATH_MAX)
			argp_error(state, "--shadow-api-path: '%s' must start with / and have at most %d bytes", arg, AIBOM_SHADOW_PATH_MAX);
		env.shadow_paths[env.n_shadow_paths++] = arg;
		break;
	case OPT_SHADOW_ARTIFACT:
		if (env.n_shadow_artifacts >= MAX_RULES || arg[0] != '*' || strlen(arg) < 2 || strlen(arg) >= AIBOM_PATH_MAX - 1)
			argp_error(state, "--shadow-artifact: '%s' must be *SUFFIX (e.g. *.gguf)", arg);
		env.shadow_artifacts[env.n_shadow_artifacts++] = arg;
		break;
	case OPT_SHADOW_EXE:
		if (env.n_shadow_exes >= MAX_RULES || !*arg || strlen(arg) >= AIBOM_COMM_LEN)
			argp_error(state, "--shadow-server-exe: '%s' must be 1..%d bytes (the kernel's comm)", arg, AIBOM_COMM_LEN - 1);
		env.shadow_exes[env.n_shadow_exes++] = arg;
		break;
	case OPT_NO_SHADOW: env.no_shadow = true; break;
	case OPT_NO_DEFAULT_SHADOW: env.no_default_shadow = true; break;
	case ARGP_KEY_ARG: argp_usage(state); break;
	default: return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp argp = { .options = opts, .parser = parse_arg, .doc = argp_doc };

/* ------------------------------------------------------------------ output */

static int out_fd = STDOUT_FILENO;
static __u8 out_buf[1 << 18];
static size_t out_len;
static __u32 frame_seq;
static __u64 frames_written, bytes_written, rb_consumed;
static bool output_broken;

static int flush_output(void)
{
	size_t off = 0;

	while (off < out_len && !output_broken) {
		ssize_t n = write(out_fd, out_buf + off, out_len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "aibom-sensor: output write failed: %s\n", strerror(errno));
			output_broken = true;
			break;
		}
		off += n;
	}
	out_len = 0;
	return output_broken ? -EPIPE : 0;
}

static void write_frame(__u16 kind, const void *a, __u32 alen, const void *b, __u32 blen)
{
	struct frame_hdr fh;
	__u32 len = alen + blen;

	if (len > AIBOM_FRAME_MAX_PAYLOAD)
		return; /* cannot happen for kernel events (bounded structs) */
	if (out_len + sizeof(fh) + len > sizeof(out_buf))
		flush_output();
	fh.magic = AIBOM_FRAME_MAGIC;
	fh.kind = kind;
	fh.hdr_check = kind ^ (len & 0xffff) ^ (len >> 16) ^ 0xA1B0;
	fh.payload_len = len;
	fh.seq = frame_seq++;
	memcpy(out_buf + out_len, &fh, sizeof(fh));
	out_len += sizeof(fh);
	if (alen)
		memcpy(out_buf + out_len, a, alen);
	out_len += alen;
	if (blen)
		memcpy(out_buf + out_len, b, blen);
	out_len += blen;
	frames_written++;
	bytes_written += sizeof(fh) + len;
}

/*
 * Frames are written by the main thread only. The uprobe worker (below) hands
 * its log lines over through this queue and wakes the main loop's epoll with
 * `worker_efd`; order is kept, so a control-ok posted after a scan follows the
 * scan's uprobe-attached line.
 */
struct posted_log {
	struct posted_log *next;
	struct log_frame lf;
	char msg[];
};
static pthread_mutex_t posted_lock = PTHREAD_MUTEX_INITIALIZER;
static struct posted_log *posted_head, **posted_tail = &posted_head;
static pthread_t main_thread;
static int worker_efd = -1;

static void emit_log(__u16 level, __u16 code, int err, const char *fmt, ...)
{
	char msg[1024];
	struct log_frame lf = { .level = level, .code = code, .err = err };
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	lf.msg_len = n;
	if (env.verbose || level >= LOG_WARN)
		fprintf(stderr, "aibom-sensor: %s%s\n", level >= LOG_WARN ? "warning: " : "", msg);
	if (!pthread_equal(pthread_self(), main_thread)) {
		struct posted_log *pl = malloc(sizeof(*pl) + n);
		__u64 one = 1;
		if (!pl)
			return;
		pl->next = NULL;
		pl->lf = lf;
		memcpy(pl->msg, msg, n);
		pthread_mutex_lock(&posted_lock);
		*posted_tail = pl;
		posted_tail = &pl->next;
		pthread_mutex_unlock(&posted_lock);
		if (worker_efd >= 0 && write(worker_efd, &one, sizeof(one)) < 0) {
			/* the main loop also polls on a timer */
		}
		return;
	}
	write_frame(FRAME_LOG, &lf, sizeof(lf), msg, n);
}

/* Main thread: write the worker's queued log lines as frames. */
static void write_posted_logs(void)
{
	struct posted_log *pl;
	__u64 cnt;

	if (worker_efd >= 0 && read(worker_efd, &cnt, sizeof(cnt)) < 0) {
		/* EAGAIN: nothing signalled */
	}
	pthread_mutex_lock(&posted_lock);
	pl = posted_head;
	posted_head = NULL;
	posted_tail = &posted_head;
	pthread_mutex_unlock(&posted_lock);
	while (pl) {
		struct posted_log *next = pl->next;
		write_frame(FRAME_LOG, &pl->lf, sizeof(pl->lf), pl->msg, pl->lf.msg_len);
		free(pl);
		pl = next;
	}
}

static int libbpf_print_fn(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level == LIBBPF_DEBUG && !env.verbose)
		return 0;
	return vfprintf(stderr, format, args);
}

static volatile sig_atomic_t exiting;

static void sig_handler(int sig)
{
	exiting = 1;
}

/* --------------------------------------------------------------- preflight */

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

static int preflight(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2] = {};
	struct stat st;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		fprintf(stderr, "aibom-sensor: /sys/kernel/btf/vmlinux: %s: the kernel needs CONFIG_DEBUG_INFO_BTF for CO-RE\n",
			strerror(errno));
		return EXIT_NO_BTF;
	}
	if (syscall(SYS_capget, &h, d)) {
		fprintf(stderr, "aibom-sensor: capget: %s\n", strerror(errno));
		return EXIT_NO_PRIVS;
	}
	{
		bool admin = has_cap(d, CAP_SYS_ADMIN);
		const char *missing[3];
		int n = 0;
		if (!admin && !has_cap(d, CAP_BPF))
			missing[n++] = "CAP_BPF";
		if (!admin && !has_cap(d, CAP_PERFMON))
			missing[n++] = "CAP_PERFMON";
		if (n) {
			fprintf(stderr, "aibom-sensor: missing capabilit%s %s%s%s (or CAP_SYS_ADMIN): run as root or grant them\n",
				n > 1 ? "ies" : "y", missing[0], n > 1 ? " and " : "", n > 1 ? missing[1] : "");
			return EXIT_NO_PRIVS;
		}
		/* Since 5.11 BPF memory is charged to the memcg, not RLIMIT_MEMLOCK,
		 * so CAP_SYS_RESOURCE only matters on older kernels: warn. */
		if (!has_cap(d, CAP_SYS_RESOURCE))
			fprintf(stderr, "aibom-sensor: warning: CAP_SYS_RESOURCE missing; map creation fails on kernels < 5.11 with a low RLIMIT_MEMLOCK\n");
	}
	if (stat("/sys/kernel/tracing/events", &st) && stat("/sys/kernel/debug/tracing/events", &st)) {
		if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) ||
		    stat("/sys/kernel/tracing/events", &st)) {
			fprintf(stderr, "aibom-sensor: tracefs not mounted and `mount -t tracefs nodev /sys/kernel/tracing` failed: %s\n",
				strerror(errno));
			return EXIT_NO_TRACEFS;
		}
		fprintf(stderr, "aibom-sensor: mounted tracefs at /sys/kernel/tracing\n");
	}
	return 0;
}

/* ------------------------------------------------------------------- rules */

static struct aibom_sensor *skel;

/* True until `ready`: processes added meanwhile were found by the start-up scan. */
static bool starting = true;

/* Parent and start time (boottime ns) of a process from /proc/PID/stat; -1 if it is gone. */
static int read_proc_stat(__u32 pid, __u32 *ppid, __u64 *start_ns)
{
	static long ticks;
	char path[64], buf[1024], *p;
	unsigned long pp = 0;
	unsigned long long start = 0;
	FILE *f;
	int ok = 0;

	if (!ticks)
		ticks = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	/* Fields after the comm, which may hold spaces and parentheses: state ppid ... starttime (22nd). */
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		ok = sscanf(p + 2, "%*c %lu %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu", &pp, &start) == 2;
	fclose(f);
	if (!ok)
		return -1;
	*ppid = pp;
	*start_ns = start * (1000000000ull / ticks);
	return 0;
}

static __u64 boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Main thread only (frames are written there). */
static void write_monitor_frame(__u32 pid, __u32 ppid, __u16 reason, __u16 flags, __u32 marker, __u64 since, __u64 start)
{
	struct monitor_frame mf = {
		.ktime_ns = since, .start_ktime_ns = start, .pid = pid, .ppid = ppid, .reason = reason, .flags = flags,
	};

	if (marker && (int)marker <= n_markers) {
		size_t n = strlen(markers[marker - 1]);
		mf.marker_len = n < sizeof(mf.marker) ? n : sizeof(mf.marker);
		memcpy(mf.marker, markers[marker - 1], mf.marker_len);
	}
	write_frame(FRAME_MONITOR, &mf, sizeof(mf), NULL, 0);
}

/* Monitoring that a shadow-AI signature started (EVF_SHADOW_START): the marker says which, e.g. "dns:api.openai.com". */
static void write_shadow_monitor_frame(const struct event_hdr *h, const char *kind, const __u8 *what, size_t what_len)
{
	struct monitor_frame mf = {
		.ktime_ns = h->ktime_ns, .pid = h->pid, .ppid = h->ppid, .reason = MONR_SHADOW,
		.flags = h->type == EV_EXEC ? 0 : MONF_PARTIAL,
	};
	int n = snprintf((char *)mf.marker, sizeof(mf.marker), "%s:%.*s", kind, (int)what_len, (const char *)what);

	mf.start_ktime_ns = h->type == EV_EXEC ? h->ktime_ns : 0;
	mf.marker_len = n < 0 ? 0 : n >= (int)sizeof(mf.marker) ? (int)sizeof(mf.marker) - 1 : n;
	write_frame(FRAME_MONITOR, &mf, sizeof(mf), NULL, 0);
}

/*
 * Watches an already-running process and says so in a monitor frame (partial:
 * what it did before now was not seen). A process watched already keeps its
 * reason: 1 is returned only when monitoring begins now.
 */
static int start_monitoring(__u32 pid, __u32 how, __u16 reason, __u32 marker, __u32 known_ppid, __u64 known_start)
{
	__u32 ppid = known_ppid;
	__u64 start = known_start;

	/* Never ourselves or the processes we must not report (e.g. under a marked shell's tree). */
	if (pid == (__u32)getpid())
		return 0;
	for (int i = 0; i < env.n_ignored_pids; i++)
		if (env.ignored_pids[i] == pid)
			return 0;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.monitored_pids), &pid, &how, BPF_NOEXIST))
		return errno == EEXIST ? 0 : -errno;
	if (!ppid && read_proc_stat(pid, &ppid, &start))
		start = 0;
	write_monitor_frame(pid, ppid, reason, MONF_PARTIAL | (starting ? MONF_AT_START : 0), marker, boottime_ns(), start);
	return 1;
}

/* Existing descendants of `root` are not seen by the fork hook: find them in /proc. */
static void add_existing_descendants(__u32 root)
{
	static __u32 pids[65536], ppids[65536];
	static __u64 starts[65536];
	int n = 0, changed = 1;
	static bool mark[65536];
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)) && n < 65536) {
		char *p;
		unsigned long pid = strtoul(de->d_name, &p, 10);
		if (*p || !pid)
			continue;
		if (!read_proc_stat(pid, &ppids[n], &starts[n])) {
			pids[n] = pid;
			mark[n] = false;
			n++;
		}
	}
	closedir(d);
	while (changed) {
		changed = 0;
		for (int i = 0; i < n; i++) {
			if (mark[i])
				continue;
			bool parent_in = ppids[i] == root;
			for (int j = 0; !parent_in && j < n; j++)
				parent_in = mark[j] && pids[j] == ppids[i];
			if (parent_in) {
				mark[i] = true;
				changed = 1;
				start_monitoring(pids[i], MON_INHERITED, MONR_INHERITED, 0, ppids[i], starts[i]);
			}
		}
	}
}

static void request_scan(__u32 pid);

static void add_existing_comm(const char *comm)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[64], buf[64], *p;
		FILE *f;
		unsigned long pid = strtoul(de->d_name, &p, 10);
		if (*p || !pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%lu/comm", pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f)) {
			buf[strcspn(buf, "\n")] = 0;
			if (!strcmp(buf, comm) && pid != (unsigned long)getpid() && start_monitoring(pid, MON_COMM, MONR_COMM, 0, 0, 0) > 0) {
				add_existing_descendants(pid);
				request_scan(pid);
			}
		}
		fclose(f);
	}
	closedir(d);
}

static int set_comm_rule(const char *name, bool add)
{
	__u8 key[AIBOM_COMM_LEN] = {};
	__u8 one = 1;

	if (strlen(name) >= AIBOM_COMM_LEN)
		return -ENAMETOOLONG;
	memcpy(key, name, strlen(name));
	if (add ? bpf_map_update_elem(bpf_map__fd(skel->maps.comm_rules), key, &one, BPF_ANY)
		: bpf_map_delete_elem(bpf_map__fd(skel->maps.comm_rules), key))
		return -errno;
	if (add) {
		skel->bss->comm_rules_active = 1;
		add_existing_comm(name);
	}
	return 0;
}

static double now_ms(void);

/* Exact names are stored with the '=' that follows a name in the environment, prefixes without. */
static int add_env_rule(const char *marker, __u32 id)
{
	struct { __u32 prefixlen; __u8 name[AIBOM_ENV_NAME_MAX]; } k = {};
	size_t n = strlen(marker);

	if (marker[n - 1] == '*')
		n--;
	else
		k.name[n] = '=';
	memcpy(k.name, marker, n);
	k.prefixlen = (n + (k.name[n] == '=')) * 8;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.env_markers), &k, &id, BPF_ANY))
		return -errno;
	/* The kernel looks a name up only if its first two bytes may match: a one-byte prefix allows any second. */
	for (int b1 = 0; b1 < 256; b1++) {
		unsigned int f2 = (unsigned int)k.name[0] << 8 | (n > 1 || k.name[1] == '=' ? k.name[1] : b1);
		skel->bss->env_first2[f2 >> 6] |= 1ull << (f2 & 63);
	}
	skel->bss->env_rules_active = 1;
	return 0;
}

/* A name or path suffix, reversed into an LPM key: `*SUFFIX` without an end, an exact name with its NUL. */
static int add_reversed_rule(int map_fd, const char *rule, __u32 id)
{
	struct { __u32 prefixlen; __u8 s[AIBOM_PATH_MAX]; } k = {};
	bool suffix = rule[0] == '*';
	const char *r = suffix ? rule + 1 : rule;
	size_t n = strlen(r);

	if (n >= AIBOM_PATH_MAX - 1)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		k.s[i] = tolower((unsigned char)r[n - 1 - i]);
	k.prefixlen = (n + !suffix) * 8; /* exact: the NUL after the name is part of the key */
	if (bpf_map_update_elem(map_fd, &k, &id, BPF_ANY))
		return -errno;
	return 0;
}

#define NDEF(a) (env.no_default_shadow ? 0 : sizeof(a) / sizeof(a[0]))

/* Loads the shadow-AI signature tables and switches the checks on. */
static void add_shadow_rules(void)
{
	int hosts = bpf_map__fd(skel->maps.shadow_hosts), arts = bpf_map__fd(skel->maps.shadow_artifacts);
	int paths = bpf_map__fd(skel->maps.shadow_paths), exes = bpf_map__fd(skel->maps.shadow_exes);
	__u32 id = 0;
	int err;

	if (env.no_shadow)
		return;
	for (size_t i = 0; i < NDEF(default_shadow_hosts) + env.n_shadow_hosts; i++) {
		const char *h = i < NDEF(default_shadow_hosts) ? default_shadow_hosts[i] : env.shadow_hosts[i - NDEF(default_shadow_hosts)];
		if ((err = add_reversed_rule(hosts, h, ++id)))
			fprintf(stderr, "aibom-sensor: --shadow-provider %s: %s\n", h, strerror(-err));
	}
	for (size_t i = 0; i < NDEF(default_shadow_artifacts) + env.n_shadow_artifacts; i++) {
		const char *a = i < NDEF(default_shadow_artifacts) ? default_shadow_artifacts[i] : env.shadow_artifacts[i - NDEF(default_shadow_artifacts)];
		size_t n = strlen(a);
		if ((err = add_reversed_rule(arts, a, ++id))) {
			fprintf(stderr, "aibom-sensor: --shadow-artifact %s: %s\n", a, strerror(-err));
			continue;
		}
		/* The kernel reverses a path only if its last two bytes end some suffix (any case). */
		for (int c0 = 0; c0 < 2; c0++)
			for (int c1 = 0; c1 < 2; c1++) {
				unsigned char b0 = n > 2 ? (c0 ? toupper((unsigned char)a[n - 2]) : tolower((unsigned char)a[n - 2])) : 0;
				unsigned char b1 = c1 ? toupper((unsigned char)a[n - 1]) : tolower((unsigned char)a[n - 1]);
				for (int any = 0; any < 256; any++) {
					unsigned int f2 = (unsigned int)(n > 2 ? b0 : any) << 8 | b1;
					skel->bss->artifact_last2[f2 >> 6] |= 1ull << (f2 & 63);
					if (n > 2)
						break;
				}
			}
	}
	for (size_t i = 0; i < NDEF(default_shadow_paths) + env.n_shadow_paths; i++) {
		const char *p = i < NDEF(default_shadow_paths) ? default_shadow_paths[i] : env.shadow_paths[i - NDEF(default_shadow_paths)];
		struct { __u32 prefixlen; __u8 s[AIBOM_SHADOW_PATH_MAX]; } k = {};
		size_t n = strlen(p);
		memcpy(k.s, p, n);
		k.prefixlen = n * 8;
		++id;
		if (bpf_map_update_elem(paths, &k, &id, BPF_ANY))
			fprintf(stderr, "aibom-sensor: --shadow-api-path %s: %s\n", p, strerror(errno));
	}
	for (size_t i = 0; i < NDEF(default_shadow_exes) + env.n_shadow_exes; i++) {
		const char *e = i < NDEF(default_shadow_exes) ? default_shadow_exes[i] : env.shadow_exes[i - NDEF(default_shadow_exes)];
		__u8 comm[AIBOM_COMM_LEN] = {};
		strncpy((char *)comm, e, AIBOM_COMM_LEN - 1);
		++id;
		if (bpf_map_update_elem(exes, comm, &id, BPF_ANY))
			fprintf(stderr, "aibom-sensor: --shadow-server-exe %s: %s\n", e, strerror(errno));
	}
	skel->bss->shadow_active = 1;
}

/* Id of the longest marker matching variable `name` (`len` bytes), as the kernel's LPM lookup finds it. */
static __u32 env_marker_match(const char *name, size_t len)
{
	__u32 best = 0;
	size_t best_len = 0;

	for (int i = 0; i < n_markers; i++) {
		size_t m = strlen(markers[i]);
		bool prefix = markers[i][m - 1] == '*';
		size_t k = prefix ? m - 1 : m;
		if ((prefix ? len >= k : len == k) && !memcmp(name, markers[i], k) && k + !prefix > best_len) {
			best = i + 1;
			best_len = k + !prefix;
		}
	}
	return best;
}

/* Id of the first marker in /proc/PID/environ (its first 256 KiB), 0 if none or unreadable. */
static __u32 environ_marker(__u32 pid)
{
	static char buf[256 * 1024];
	char path[64];
	ssize_t n, len = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/environ", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	while (len < (ssize_t)sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += n;
	close(fd);
	for (ssize_t i = 0; i < len;) {
		char *var = buf + i, *end = memchr(var, 0, len - i), *eq;
		size_t vlen = end ? (size_t)(end - var) : (size_t)(len - i);
		__u32 id;
		if ((eq = memchr(var, '=', vlen)) && (id = env_marker_match(var, eq - var)))
			return id;
		i += vlen + 1;
	}
	return 0;
}

/* Start-up: processes already running with a marker in their environment, and their descendants. */
static void add_existing_env(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	double t0 = now_ms();
	int seen = 0, marked = 0;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char *p;
		unsigned long pid = strtoul(de->d_name, &p, 10);
		__u32 id;
		if (*p || !pid)
			continue;
		seen++;
		if (!(id = environ_marker(pid)))
			continue;
		if (start_monitoring(pid, MON_ENV, MONR_ENV_MARKER, id, 0, 0) > 0) {
			marked++;
			add_existing_descendants(pid);
			request_scan(pid);
		}
	}
	closedir(d);
	if (env.verbose)
		fprintf(stderr, "aibom-sensor: start-up env scan: %d processes, %d marked, %.1f ms\n", seen, marked, now_ms() - t0);
}

static int set_cgroup_rule(__u64 id, bool add)
{
	__u8 one = 1;

	if (add ? bpf_map_update_elem(bpf_map__fd(skel->maps.monitored_cgroups), &id, &one, BPF_ANY)
		: bpf_map_delete_elem(bpf_map__fd(skel->maps.monitored_cgroups), &id))
		return -errno;
	if (add)
		skel->bss->cgroup_rules_active = 1;
	return 0;
}

struct path_lpm_key_u {
	__u32 prefixlen;
	__u8 path[AIBOM_PATH_MAX];
};

static int add_path_rule(const char *prefix, __u32 rule)
{
	struct path_lpm_key_u k = {};
	size_t n = strlen(prefix);

	if (n >= AIBOM_PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(k.path, prefix, n);
	k.prefixlen = n * 8;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.path_rules), &k, &rule, BPF_ANY))
		return -errno;
	skel->bss->path_rules_active = 1;
	return 0;
}

static int add_cred_rule(const char *p)
{
	char buf[PATH_MAX];
	int err = 0;

	if (strncmp(p, "~/", 2))
		return add_path_rule(p, PATH_RULE_CREDENTIAL);
	/* ~/x applies to every account's home. */
	{
		FILE *f = fopen("/etc/passwd", "r");
		char line[1024];
		bool root_seen = false;
		while (f && fgets(line, sizeof(line), f)) {
			char *fields[7] = {0}, *s = line;
			for (int i = 0; i < 7 && s; i++) {
				fields[i] = s;
				s = strchr(s, ':');
				if (s)
					*s++ = 0;
			}
			if (!fields[5] || fields[5][0] != '/' || !strcmp(fields[5], "/"))
				continue;
			if (!strcmp(fields[5], "/root"))
				root_seen = true;
			snprintf(buf, sizeof(buf), "%s/%s", fields[5], p + 2);
			if (strlen(buf) < AIBOM_PATH_MAX)
				err = add_path_rule(buf, PATH_RULE_CREDENTIAL) ?: err;
		}
		if (f)
			fclose(f);
		if (!root_seen) {
			snprintf(buf, sizeof(buf), "/root/%s", p + 2);
			err = add_path_rule(buf, PATH_RULE_CREDENTIAL) ?: err;
		}
	}
	return err;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------- OpenSSL uprobes */
/*
 * Scanning a binary for the OpenSSL symbols (libelf over Node's ~100 MB
 * executable) and attaching uprobes takes hundreds of milliseconds. It runs on
 * its own thread so the main loop keeps draining the ring buffer meanwhile:
 * the main thread queues requests (a pid to scan, a library path, or a log
 * line to post once everything queued before it is done: control acks and
 * `ready`), the worker owns every uprobe target and link until shutdown.
 * Targets are cached by (dev, inode, mtime): each binary is scanned once, and a
 * binary replaced in place is scanned again.
 */

static struct ssl_target {
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	bool attached;
	int n_links;
	struct bpf_link *links[8];
} ssl_targets[MAX_SSL_TARGETS];
static int n_ssl_targets;
static __u64 n_ssl_attached; /* written by the worker, read by write_stats: __atomic */

enum scan_req_kind { REQ_PID, REQ_PATH, REQ_LOG };

struct scan_req {
	struct scan_req *next;
	enum scan_req_kind kind;
	__u32 pid;
	bool loud;
	__u16 level, code;
	int err;
	char text[]; /* REQ_PATH: the path; REQ_LOG: the message */
};

static pthread_mutex_t req_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t req_cond = PTHREAD_COND_INITIALIZER;
static struct scan_req *req_head, **req_tail = &req_head;
static bool worker_stop, worker_running;
static pthread_t worker_thread;

static bool worker_should_stop(void)
{
	return __atomic_load_n(&worker_stop, __ATOMIC_RELAXED);
}

static void enqueue(enum scan_req_kind kind, __u32 pid, const char *text, bool loud, __u16 level, __u16 code, int err)
{
	size_t n = text ? strlen(text) : 0;
	struct scan_req *r = calloc(1, sizeof(*r) + n + 1);

	if (!r)
		return;
	r->kind = kind;
	r->pid = pid;
	r->loud = loud;
	r->level = level;
	r->code = code;
	r->err = err;
	if (n)
		memcpy(r->text, text, n);
	pthread_mutex_lock(&req_lock);
	*req_tail = r;
	req_tail = &r->next;
	pthread_cond_signal(&req_cond);
	pthread_mutex_unlock(&req_lock);
}

static void request_scan(__u32 pid)
{
	if (!env.no_ssl)
		enqueue(REQ_PID, pid, NULL, false, 0, 0, 0);
}

/* A log line written once every request queued before it is done. */
static void post_after_scans(__u16 level, __u16 code, int err, const char *msg)
{
	enqueue(REQ_LOG, 0, msg, false, level, code, err);
}

/* File offset of each function symbol; 0 if absent. One pass over the ELF
 * (libbpf would rescan a 100 MB Node binary once per probe). */
static int elf_find_funcs(const char *path, const char *const *names, long *offs, int n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), found = 0;
	Elf *e;
	Elf_Scn *scn = NULL;
	size_t phnum;
	__u64 vaddrs[8] = {0};

	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e) {
		close(fd);
		return -EINVAL;
	}
	while ((scn = elf_nextscn(e, scn)) && found < n) {
		GElf_Shdr sh;
		Elf_Data *data;
		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_SYMTAB) || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t i = 0; data && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			if (!(i & 4095) && worker_should_stop())
				break; /* shutting down: a half scan is never cached (see attach_ssl) */
			const char *nm;
			if (!gelf_getsym(data, i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
			    sym.st_shndx == SHN_UNDEF || !sym.st_value)
				continue;
			nm = elf_strptr(e, sh.sh_link, sym.st_name);
			if (!nm)
				continue;
			for (int j = 0; j < n; j++) {
				if (!vaddrs[j] && !strcmp(nm, names[j])) {
					vaddrs[j] = sym.st_value;
					found++;
				}
			}
		}
	}
	/* Symbol value (virtual address) -> file offset via its PT_LOAD segment. */
	for (int j = 0; j < n; j++)
		offs[j] = 0;
	if (!elf_getphdrnum(e, &phnum)) {
		for (size_t i = 0; i < phnum; i++) {
			GElf_Phdr ph;
			if (!gelf_getphdr(e, i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
				continue;
			for (int j = 0; j < n; j++)
				if (vaddrs[j] >= ph.p_vaddr && vaddrs[j] < ph.p_vaddr + ph.p_memsz)
					offs[j] = vaddrs[j] - ph.p_vaddr + ph.p_offset;
		}
	}
	elf_end(e);
	close(fd);
	return 0;
}

static void detach_target(struct ssl_target *t)
{
	for (int i = 0; i < t->n_links; i++)
		bpf_link__destroy(t->links[i]);
	t->n_links = 0;
	if (t->attached)
		__atomic_sub_fetch(&n_ssl_attached, 1, __ATOMIC_RELAXED);
	t->attached = false;
}

/* Worker thread only. `path` may be a /proc/PID/exe or /proc/PID/root/...
 * path: uprobes bind to the inode, so this also covers binaries in other
 * mount namespaces. */
static void attach_ssl(const char *path, const char *display, bool loud)
{
	static const char *const names[4] = { "SSL_write", "SSL_read", "SSL_write_ex", "SSL_read_ex" };
	struct bpf_program *progs[4] = {
		skel->progs.ssl_write_enter, skel->progs.ssl_read_enter,
		skel->progs.ssl_write_ex_enter, skel->progs.ssl_read_ex_enter,
	};
	struct stat st;
	long offs[4] = {0};
	int attached = 0, err;
	struct ssl_target *t = NULL;
	double t0, t1;

	if (stat(path, &st))
		return;
	for (int i = 0; i < n_ssl_targets; i++) {
		struct ssl_target *c = &ssl_targets[i];
		if (c->dev != st.st_dev || c->ino != st.st_ino)
			continue;
		if (c->mtime.tv_sec == st.st_mtim.tv_sec && c->mtime.tv_nsec == st.st_mtim.tv_nsec)
			return; /* already handled (attached or known to lack OpenSSL) */
		detach_target(c); /* rewritten in place: the offsets may have moved */
		t = c;
		break;
	}
	if (!t) {
		if (n_ssl_targets >= MAX_SSL_TARGETS) {
			emit_log(LOG_WARN, LOGC_UPROBE_FAILED, -ENOSPC, "too many uprobe targets, not attaching %s", display);
			return;
		}
		t = &ssl_targets[n_ssl_targets];
	}

	t0 = now_ms();
	err = elf_find_funcs(path, names, offs, 4);
	t1 = now_ms();
	if (worker_should_stop())
		return; /* possibly a partial scan: not cached */
	if (t == &ssl_targets[n_ssl_targets])
		n_ssl_targets++;
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->mtime = st.st_mtim;
	t->attached = false;
	t->n_links = 0;
	if (err || (!offs[0] && !offs[2])) {
		emit_log(loud ? LOG_WARN : LOG_INFO, LOGC_UPROBE_SKIPPED, err,
			 "%s: no SSL_write/SSL_write_ex symbol, TLS plaintext not captured there", display);
		return;
	}
	for (int i = 0; i < 4; i++) {
		struct bpf_link *l, *r;
		if (!offs[i])
			continue;
		l = bpf_program__attach_uprobe(progs[i], false, -1, path, offs[i]);
		r = l ? bpf_program__attach_uprobe(skel->progs.ssl_ret, true, -1, path, offs[i]) : NULL;
		if (!l || !r) {
			err = -errno;
			bpf_link__destroy(l);
			emit_log(LOG_WARN, LOGC_UPROBE_FAILED, err, "%s: attaching %s failed: %s", display, names[i],
				 strerror(-err));
			continue;
		}
		t->links[t->n_links++] = l;
		t->links[t->n_links++] = r;
		attached++;
	}
	if (env.verbose)
		fprintf(stderr, "aibom-sensor: %s: symbols %.1f ms, %d uprobes %.1f ms\n", display, t1 - t0, 2 * attached,
			now_ms() - t1);
	if (attached) {
		t->attached = true;
		__atomic_add_fetch(&n_ssl_attached, 1, __ATOMIC_RELAXED);
		emit_log(LOG_INFO, LOGC_UPROBE_ATTACHED, 0, "%s", display);
	}
}

/* Worker thread only. The executable (Node links OpenSSL statically) and any mapped libssl. */
static void scan_process_for_ssl(__u32 pid)
{
	char path[PATH_MAX], exe[PATH_MAX], line[PATH_MAX + 128];
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		attach_ssl(path, exe, false);
	}
	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f) && !worker_should_stop()) {
		char *lib = strchr(line, '/');
		if (!lib || !strstr(lib, "libssl"))
			continue;
		lib[strcspn(lib, "\n")] = 0;
		snprintf(path, sizeof(path), "/proc/%u/root%s", pid, lib);
		attach_ssl(path, lib, true);
	}
	if (f)
		fclose(f);
}

static void *scan_worker(void *arg)
{
	prctl(PR_SET_NAME, "aibom-uprobes");
	for (;;) {
		struct scan_req *r;

		pthread_mutex_lock(&req_lock);
		while (!req_head && !worker_stop)
			pthread_cond_wait(&req_cond, &req_lock);
		if (worker_stop) {
			pthread_mutex_unlock(&req_lock);
			return NULL;
		}
		r = req_head;
		req_head = r->next;
		if (!req_head)
			req_tail = &req_head;
		pthread_mutex_unlock(&req_lock);

		if (r->kind == REQ_PID)
			scan_process_for_ssl(r->pid);
		else if (r->kind == REQ_PATH)
			attach_ssl(r->text, r->text, r->loud);
		else
			emit_log(r->level, r->code, r->err, "%s", r->text);
		free(r);
	}
}

static int start_worker(void)
{
	int err = pthread_create(&worker_thread, NULL, scan_worker, NULL);

	if (err)
		return -err;
	worker_running = true;
	return 0;
}

/* Abandons queued requests and a scan in progress. */
static void stop_worker(void)
{
	struct scan_req *r;

	pthread_mutex_lock(&req_lock);
	__atomic_store_n(&worker_stop, true, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&req_cond);
	pthread_mutex_unlock(&req_lock);
	if (worker_running)
		pthread_join(worker_thread, NULL);
	worker_running = false;
	while ((r = req_head)) {
		req_head = r->next;
		free(r);
	}
	req_tail = &req_head;
}

/* ---------------------------------------------------------- event handling */

static int handle_event(void *ctx, void *data, size_t size)
{
	const struct event_hdr *h = data;

	rb_consumed++;
	if (size < sizeof(*h) || h->size > size || h->size < sizeof(*h)) {
		emit_log(LOG_ERROR, LOGC_GENERIC, -EINVAL, "malformed ring buffer sample (%zu bytes)", size);
		return 0;
	}
	/* Monitoring that began at this exec is announced before the exec itself. */
	if (h->type == EV_EXEC && size >= offsetof(struct exec_event, filename)) {
		const struct exec_event *x = data;
		if (x->monitor_reason == MONR_SHADOW)
			write_shadow_monitor_frame(h, "exe", h->comm, strnlen((const char *)h->comm, AIBOM_COMM_LEN));
		else if (x->monitor_reason != MONR_NONE)
			write_monitor_frame(h->pid, h->ppid, x->monitor_reason, 0, x->env_marker, h->ktime_ns, h->ktime_ns);
	}
	/* ...and so is monitoring a shadow-AI signature started; its TLS plaintext needs its uprobes. */
	if (h->flags & EVF_SHADOW_START) {
		if (h->type == EV_DNS && h->size >= offsetof(struct dns_event, name)) {
			const struct dns_event *d = data;
			write_shadow_monitor_frame(h, "dns", d->name, d->name_len < h->size - offsetof(struct dns_event, name) ? d->name_len : h->size - offsetof(struct dns_event, name));
		} else if (h->type == EV_OPEN && h->size >= offsetof(struct open_event, path)) {
			const struct open_event *o = data;
			write_shadow_monitor_frame(h, "artifact", o->path, o->path_len < h->size - offsetof(struct open_event, path) ? o->path_len : h->size - offsetof(struct open_event, path));
		} else if (h->type == EV_HTTP) {
			write_shadow_monitor_frame(h, "http", (const __u8 *)"", 0);
		}
	}
	write_frame(FRAME_EVENT, data, h->size, NULL, 0);
	if ((h->flags & EVF_SHADOW_START) && !env.no_ssl)
		request_scan(h->pid);

	/* Newly exec'd images may carry OpenSSL: the worker scans them. */
	if (h->type == EV_EXEC)
		request_scan(h->pid);
	else if (h->type == EV_OPEN && !env.no_ssl) {
		const struct open_event *o = data;
		char p[AIBOM_PATH_MAX + 1];
		memcpy(p, o->path, o->path_len);
		p[o->path_len] = 0;
		if (o->ret >= 0 && strstr(p, "libssl") && strstr(p, ".so"))
			request_scan(h->pid);
	}
	return 0;
}

static void write_stats(bool final)
{
	int ncpus = libbpf_num_possible_cpus();
	struct sensor_counters *pc = calloc(ncpus, sizeof(*pc));
	struct stats_frame sf = {};
	struct timespec ts;
	__u32 zero = 0, key, next;
	int fd = bpf_map__fd(skel->maps.monitored_pids);

	if (!pc)
		return;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	sf.ktime_ns = (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	sf.final = final;
	sf.ncpus = ncpus;
	if (!bpf_map_lookup_elem(bpf_map__fd(skel->maps.counters), &zero, pc)) {
		__u64 *sum = (__u64 *)&sf.counters;
		for (int c = 0; c < ncpus; c++) {
			__u64 *v = (__u64 *)&pc[c];
			for (size_t i = 0; i < sizeof(sf.counters) / 8; i++)
				sum[i] += v[i];
		}
	}
	free(pc);
	for (int err = bpf_map_get_next_key(fd, NULL, &key); !err; err = bpf_map_get_next_key(fd, &key, &next), key = next)
		sf.monitored_pids++;
	sf.rb_consumed = rb_consumed;
	sf.frames_written = frames_written;
	sf.bytes_written = bytes_written;
	sf.uprobe_targets = __atomic_load_n(&n_ssl_attached, __ATOMIC_RELAXED);
	write_frame(FRAME_STATS, &sf, sizeof(sf), NULL, 0);
}

/* stdin control protocol: one command per line. */
static void handle_control_line(char *line)
{
	char cmd[16] = "", arg[PATH_MAX] = "";
	int err = 0;

	line[strcspn(line, "\r\n")] = 0;
	if (!*line)
		return;
	if (sscanf(line, "%15s %4095s", cmd, arg) != 2) {
		emit_log(LOG_WARN, LOGC_CONTROL_BAD, -EINVAL, "%s", line);
		return;
	}
	if (!strcmp(cmd, "+pid") || !strcmp(cmd, "-pid")) {
		char *end;
		unsigned long pid = strtoul(arg, &end, 10);
		if (*end || !pid) {
			err = -EINVAL;
		} else if (cmd[0] == '+') {
			err = start_monitoring(pid, MON_EXPLICIT, MONR_PID, 0, 0, 0);
			err = err < 0 ? err : 0;
			add_existing_descendants(pid);
			request_scan(pid);
		} else {
			__u32 p = pid;
			err = bpf_map_delete_elem(bpf_map__fd(skel->maps.monitored_pids), &p) ? -errno : 0;
		}
	} else if (!strcmp(cmd, "+comm") || !strcmp(cmd, "-comm")) {
		err = set_comm_rule(arg, cmd[0] == '+');
	} else if (!strcmp(cmd, "+cgroup") || !strcmp(cmd, "-cgroup")) {
		__u64 id;
		err = parse_cgroup(arg, &id) ?: set_cgroup_rule(id, cmd[0] == '+');
	} else {
		err = -EINVAL;
	}
	/* Acknowledged once the scans this line asked for are done (a `+pid` of
	 * a Node process is answered after its uprobes are attached). */
	if (err)
		post_after_scans(LOG_WARN, LOGC_CONTROL_BAD, err, line);
	else
		post_after_scans(LOG_INFO, LOGC_CONTROL_OK, 0, line);
}

static void handle_stdin(int *fdp, int epfd)
{
	static char buf[8192];
	static size_t len;
	ssize_t n = read(*fdp, buf + len, sizeof(buf) - 1 - len);

	if (n <= 0) {
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		/* EOF: keep running, just stop listening. */
		epoll_ctl(epfd, EPOLL_CTL_DEL, *fdp, NULL);
		*fdp = -1;
		return;
	}
	len += n;
	buf[len] = 0;
	for (char *nl; (nl = memchr(buf, '\n', len));) {
		*nl = 0;
		handle_control_line(buf);
		len -= nl + 1 - buf;
		memmove(buf, nl + 1, len);
	}
	if (len == sizeof(buf) - 1)
		len = 0; /* over-long line: discard */
}


/* Sets `stopping` and waits until no program that saw it clear can still run. */
static int quiesce_programs(void)
{
	__u32 zero = 0;
	int inner = bpf_map__fd(skel->maps.quiesce_inner);

	__atomic_store_n(&skel->bss->stopping, 1, __ATOMIC_SEQ_CST);
	/* Returns after synchronize_rcu(): see quiesce_outer in aibom-sensor.bpf.c. */
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.quiesce_outer), &zero, &inner, BPF_ANY))
		return -errno;
	return 0;
}

/* Worker joined: the uprobe links are the main thread's now. */
static void teardown_links(void)
{
	for (int i = 0; i < n_ssl_targets; i++)
		detach_target(&ssl_targets[i]);
	aibom_sensor__detach(skel);
}

/*
 * The detach itself cannot be made fast: closing the last reference of a
 * perf-event link waits for a tasks-trace RCU grace period under the kernel's
 * global event_mutex (one after another, ~30 ms per syscall tracepoint and
 * ~100 ms per uprobe here, ~2.5 s in all with Node's uprobes), and skipping it
 * does not help because exit() releases the same links the same way. The
 * programs are inert already (`stopping`), so a child that inherited every
 * link does the detach after we exit. It lets go of stdin/stdout/stderr
 * first, so the consumer sees EOF and our exit status at once.
 */
static int detach_in_background(void)
{
	pid_t parent = getpid(), pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, STDIN_FILENO);
			dup2(nul, STDOUT_FILENO);
			dup2(nul, STDERR_FILENO);
		}
		setsid(); /* not in the consumer's process group or terminal */
		prctl(PR_SET_NAME, "aibom-detach");
		/* Start only once the parent is gone: we are reparented after it
		 * released its files. Closing a link while the parent still holds
		 * it would make the parent's exit the last, slow release. */
		for (int i = 0; i < 10000 && getppid() == parent; i++)
			usleep(1000);
		teardown_links();
		_exit(0);
	}
	return 0;
}

static int open_output(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (!env.socket_path)
		return 0;
	if (strlen(env.socket_path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "aibom-sensor: --socket path too long\n");
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, env.socket_path);
	out_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (out_fd < 0 || connect(out_fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "aibom-sensor: connect %s: %s\n", env.socket_path, strerror(errno));
		return -errno;
	}
	/* Kernel events are sensitive: never to a listener someone else put at that path. */
	return peercred_check_listener(out_fd, env.socket_path, env.socket_peer_uid);
}

int main(int argc, char **argv)
{
	struct ring_buffer *rb = NULL;
	struct stream_header sh = {};
	struct timespec rt, bt;
	int err, exit_code = EXIT_OK, epfd = -1, tfd = -1, in_fd = STDIN_FILENO;
	double t_stop = 0, t_final = 0;
	bool quiesced = false;

	main_thread = pthread_self();
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return EXIT_USAGE;
	if (env.peercred)
		return peercred_print(STDIN_FILENO);
	if (!env.no_default_env_markers)
		for (size_t i = 0; i < sizeof(default_env_markers) / sizeof(default_env_markers[0]); i++)
			markers[n_markers++] = default_env_markers[i];
	for (int i = 0; i < env.n_env_markers; i++)
		markers[n_markers++] = env.env_markers[i];
	if (!env.all && !env.n_pids && !env.n_cgroups && !env.n_comms && !n_markers)
		fprintf(stderr, "aibom-sensor: no --pid/--cgroup/--comm/--env-marker/--all: nothing monitored until '+pid N' arrives on stdin\n");

	libbpf_set_print(libbpf_print_fn);

	signal(SIGINT, sig_handler);
	signal(SIGTERM, sig_handler);
	signal(SIGPIPE, SIG_IGN); /* a gone consumer shows up as EPIPE */

	exit_code = preflight();
	if (exit_code)
		return exit_code;

	skel = aibom_sensor__open();
	if (!skel) {
		fprintf(stderr, "aibom-sensor: opening BPF object failed: %s\n", strerror(errno));
		return EXIT_LOAD;
	}
	skel->rodata->monitor_all = env.all;
	skel->rodata->sensor_tgid = getpid();
	for (int i = 0; i < env.n_ignored_pids; i++)
		skel->rodata->ignored_tgids[i] = env.ignored_pids[i];
	skel->rodata->dedupe_window_ns = env.dedupe_ms * 1000000ull;
	/* Wake the reader at a quarter full; the poll timeout covers trickles. */
	skel->rodata->wakeup_bytes = (__u64)env.ringbuf_kb * 1024 / 4;
	bpf_map__set_max_entries(skel->maps.events, env.ringbuf_kb * 1024);

	err = aibom_sensor__load(skel);
	if (err) {
		fprintf(stderr, "aibom-sensor: loading BPF programs failed: %s (run with -v for the verifier log)\n",
			strerror(-err));
		exit_code = err == -EPERM ? EXIT_NO_PRIVS : EXIT_LOAD;
		goto cleanup;
	}

	err = open_output();
	if (err) {
		exit_code = EXIT_OUTPUT;
		goto cleanup;
	}

	/* The header first: the monitor frames of --pid below follow it. Epoch
	 * conversion: read both clocks once; consumers add the offset. */
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	sh.protocol_version = AIBOM_PROTOCOL_VERSION;
	sh.layout_version = AIBOM_LAYOUT_VERSION;
	sh.realtime_ns = (__u64)rt.tv_sec * 1000000000ull + rt.tv_nsec;
	sh.boottime_ns = (__u64)bt.tv_sec * 1000000000ull + bt.tv_nsec;
	sh.boot_offset_ns = sh.realtime_ns - sh.boottime_ns;
	sh.sensor_pid = getpid();
	sh.ncpus = libbpf_num_possible_cpus();
	sh.ringbuf_bytes = env.ringbuf_kb * 1024;
	sh.flags = env.all ? STREAM_F_MONITOR_ALL : 0;
	write_frame(FRAME_STREAM_HEADER, &sh, sizeof(sh), NULL, 0);

	/* Rules before attach, so the first events already obey them. */
	for (int i = 0; i < env.n_pids; i++) {
		if ((err = start_monitoring(env.pids[i], MON_EXPLICIT, MONR_PID, 0, 0, 0)) < 0)
			fprintf(stderr, "aibom-sensor: --pid %u: %s\n", env.pids[i], strerror(-err));
		add_existing_descendants(env.pids[i]);
	}
	for (int i = 0; i < env.n_cgroups; i++)
		set_cgroup_rule(env.cgroups[i], true);
	for (int i = 0; i < n_markers; i++)
		if ((err = add_env_rule(markers[i], i + 1)))
			fprintf(stderr, "aibom-sensor: --env-marker %s: %s\n", markers[i], strerror(-err));
	add_shadow_rules();
	for (int i = 0; i < env.n_ignore; i++)
		if ((err = add_path_rule(env.ignore_paths[i], PATH_RULE_IGNORE)))
			fprintf(stderr, "aibom-sensor: --ignore-path %s: %s\n", env.ignore_paths[i], strerror(-err));
	if (!env.no_default_creds)
		for (size_t i = 0; i < sizeof(default_cred_paths) / sizeof(default_cred_paths[0]); i++)
			add_cred_rule(default_cred_paths[i]);
	for (int i = 0; i < env.n_cred; i++)
		if ((err = add_cred_rule(env.cred_paths[i])))
			fprintf(stderr, "aibom-sensor: --credential-path %s: %s\n", env.cred_paths[i], strerror(-err));

	err = aibom_sensor__attach(skel);
	if (err) {
		fprintf(stderr, "aibom-sensor: attaching BPF programs failed: %s\n", strerror(-err));
		exit_code = EXIT_ATTACH;
		goto cleanup;
	}

	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), handle_event, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "aibom-sensor: creating ring buffer reader failed: %s\n", strerror(errno));
		exit_code = EXIT_LOAD;
		goto cleanup;
	}


	worker_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (worker_efd < 0 || (err = start_worker())) {
		fprintf(stderr, "aibom-sensor: starting the uprobe worker failed: %s\n", strerror(errno));
		exit_code = EXIT_LOAD;
		goto cleanup;
	}
	for (int i = 0; i < env.n_comms; i++)
		set_comm_rule(env.comms[i], true);
	/* After attach: a marked process exec'd since is already watched from its
	 * exec (complete), so the scan finds only those that ran before. */
	if (n_markers)
		add_existing_env();
	if (!env.no_ssl) {
		if (!access(default_ssl_lib, R_OK))
			enqueue(REQ_PATH, 0, default_ssl_lib, true, 0, 0, 0);
		for (int i = 0; i < env.n_ssl_libs; i++)
			enqueue(REQ_PATH, 0, env.ssl_libs[i], true, 0, 0, 0);
		for (int i = 0; i < env.n_pids; i++)
			request_scan(env.pids[i]);
	}
	/* `ready` = programs attached and the start-up uprobe targets done; the
	 * ring is drained while the worker scans. */
	post_after_scans(LOG_INFO, LOGC_READY, 0, "ready");
	starting = false;
	flush_output();

	epfd = epoll_create1(EPOLL_CLOEXEC);
	{
		struct epoll_event ev = { .events = EPOLLIN };
		ev.data.u32 = 0;
		epoll_ctl(epfd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(rb), &ev);
		ev.data.u32 = 1;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, in_fd, &ev))
			in_fd = -1; /* e.g. /dev/null is not pollable: no control channel */
		if (env.stats_interval_ms) {
			struct itimerspec its = {
				.it_interval = { env.stats_interval_ms / 1000, (env.stats_interval_ms % 1000) * 1000000L },
			};
			its.it_value = its.it_interval;
			tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
			timerfd_settime(tfd, 0, &its, NULL);
			ev.data.u32 = 2;
			epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev);
		}
		ev.data.u32 = 3;
		epoll_ctl(epfd, EPOLL_CTL_ADD, worker_efd, &ev);
	}

	while (!exiting && !output_broken) {
		struct epoll_event evs[4];
		int n = epoll_wait(epfd, evs, 4, env.poll_ms);
		if (n < 0) {
			if (errno == EINTR)
				continue; /* signal: loop condition decides */
			fprintf(stderr, "aibom-sensor: epoll_wait: %s\n", strerror(errno));
			exit_code = EXIT_LOAD;
			break;
		}
		/* Consume on every wakeup, including the timeout: producers use
		 * BPF_RB_NO_WAKEUP below the size threshold. */
		err = ring_buffer__consume(rb);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "aibom-sensor: ring buffer: %s\n", strerror(-err));
			exit_code = EXIT_LOAD;
			break;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u32 == 1 && in_fd >= 0)
				handle_stdin(&in_fd, epfd);
			else if (evs[i].data.u32 == 2) {
				__u64 ticks;
				if (read(tfd, &ticks, sizeof(ticks)) > 0)
					write_stats(false);
			}
		}
		write_posted_logs();
		flush_output();
	}

cleanup:
	stop_worker();
	/* The final stats frame must count exactly what was delivered. Stop the
	 * programs with the `stopping` switch and a grace period, then drain and
	 * write it: detaching first (the obvious order) costs ~2 s here, because
	 * every perf-event link (syscall tracepoints, uprobes) waits for an RCU
	 * tasks-trace grace period of its own under the kernel's event_mutex. */
	t_stop = now_ms();
	quiesced = skel && quiesce_programs() == 0;
	if (skel && !quiesced)
		teardown_links(); /* fallback: the slow but exact order */
	if (rb && !output_broken) {
		ring_buffer__consume(rb);
		write_posted_logs();
		write_stats(true);
		if (flush_output())
			exit_code = exit_code ?: EXIT_OUTPUT;
	}
	if (output_broken && !exit_code)
		exit_code = EXIT_OUTPUT;
	/* EOF now: the consumer has everything and need not wait for the detach. */
	if (out_fd >= 0)
		close(out_fd);
	out_fd = -1;
	t_final = now_ms();
	if (env.verbose && t_stop)
		fprintf(stderr, "aibom-sensor: shutdown: final frame after %.1f ms\n", t_final - t_stop);
	if (skel && quiesced && detach_in_background() == 0)
		return exit_code; /* the child holds every link now: no detach, no wait here */
	if (skel && quiesced)
		teardown_links();
	ring_buffer__free(rb);
	aibom_sensor__destroy(skel);
	if (env.verbose && t_stop)
		fprintf(stderr, "aibom-sensor: shutdown: detach took %.1f ms\n", now_ms() - t_final);
	if (epfd >= 0)
		close(epfd);
	if (tfd >= 0)
		close(tfd);
	return exit_code;
}
