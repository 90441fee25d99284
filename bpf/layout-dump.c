// SPDX-License-Identifier: Apache-2.0
/*
 * Prints the byte layout of every struct in aibom-sensor.h as JSON
 * (bpf/.output/layout.json). receiver/ebpf/layout.test.ts compares it with
 * receiver/ebpf/layout.ts so the C structs and the TypeScript decoder cannot
 * drift apart (the habit of Tetragon's alignchecker).
 */
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include "aibom-sensor.h"

static int first_struct = 1, first_field;

static void begin(const char *name, size_t size)
{
	printf("%s\n    \"%s\": { \"size\": %zu, \"fields\": {", first_struct ? "" : ",", name, size);
	first_struct = 0;
	first_field = 1;
}

static void field(const char *name, size_t off, size_t size)
{
	printf("%s\n      \"%s\": { \"offset\": %zu, \"size\": %zu }", first_field ? "" : ",", name, off, size);
	first_field = 0;
}

static void end(void)
{
	printf("\n    } }");
}

#define S(t) begin(#t, sizeof(struct t))
#define F(t, f) field(#f, offsetof(struct t, f), sizeof(((struct t *)0)->f))
#define E() end()

int main(void)
{
	printf("{\n  \"layoutVersion\": %d,\n  \"protocolVersion\": %d,\n  \"structs\": {", AIBOM_LAYOUT_VERSION,
	       AIBOM_PROTOCOL_VERSION);

	S(event_hdr);
	F(event_hdr, type); F(event_hdr, flags); F(event_hdr, size); F(event_hdr, ktime_ns);
	F(event_hdr, pid); F(event_hdr, tid); F(event_hdr, ppid); F(event_hdr, uid);
	F(event_hdr, cgroup_id); F(event_hdr, repeat); F(event_hdr, _pad0); F(event_hdr, comm);
	E();

	S(exec_event);
	F(exec_event, hdr); F(exec_event, old_pid); F(exec_event, filename_len); F(exec_event, args_len);
	F(exec_event, args_count); F(exec_event, monitor_reason); F(exec_event, env_marker);
	F(exec_event, filename); F(exec_event, args);
	E();

	S(exit_event);
	F(exit_event, hdr); F(exit_event, exit_code); F(exit_event, _pad0); F(exit_event, start_ktime_ns);
	E();

	S(fork_event);
	F(fork_event, hdr); F(fork_event, child_pid); F(fork_event, _pad0);
	E();

	S(open_event);
	F(open_event, hdr); F(open_event, ret); F(open_event, open_flags); F(open_event, mode);
	F(open_event, path_len); F(open_event, _pad0); F(open_event, path);
	E();

	S(sock_event);
	F(sock_event, hdr); F(sock_event, ret); F(sock_event, family); F(sock_event, protocol);
	F(sock_event, sport); F(sock_event, dport); F(sock_event, _pad0); F(sock_event, saddr);
	F(sock_event, daddr);
	E();

	S(dns_event);
	F(dns_event, hdr); F(dns_event, family); F(dns_event, dport); F(dns_event, txid); F(dns_event, qtype);
	F(dns_event, qclass); F(dns_event, name_len); F(dns_event, _pad0); F(dns_event, daddr); F(dns_event, name);
	E();

	S(data_event);
	F(data_event, hdr); F(data_event, total_len); F(data_event, data_len); F(data_event, source);
	F(data_event, _pad0); F(data_event, family); F(data_event, dport); F(data_event, fd);
	F(data_event, daddr); F(data_event, data);
	E();

	S(sensor_counters);
	F(sensor_counters, attempted); F(sensor_counters, emitted); F(sensor_counters, rb_drops);
	F(sensor_counters, deduped); F(sensor_counters, helper_errors); F(sensor_counters, filtered);
	E();

	S(frame_hdr);
	F(frame_hdr, magic); F(frame_hdr, kind); F(frame_hdr, hdr_check); F(frame_hdr, payload_len); F(frame_hdr, seq);
	E();

	S(stream_header);
	F(stream_header, protocol_version); F(stream_header, layout_version); F(stream_header, realtime_ns);
	F(stream_header, boottime_ns); F(stream_header, boot_offset_ns); F(stream_header, sensor_pid);
	F(stream_header, ncpus); F(stream_header, ringbuf_bytes); F(stream_header, flags);
	E();

	S(stats_frame);
	F(stats_frame, ktime_ns); F(stats_frame, final); F(stats_frame, ncpus); F(stats_frame, rb_consumed);
	F(stats_frame, frames_written); F(stats_frame, bytes_written); F(stats_frame, uprobe_targets);
	F(stats_frame, monitored_pids); F(stats_frame, counters);
	E();

	S(monitor_frame);
	F(monitor_frame, ktime_ns); F(monitor_frame, start_ktime_ns); F(monitor_frame, pid); F(monitor_frame, ppid);
	F(monitor_frame, reason); F(monitor_frame, flags); F(monitor_frame, marker_len); F(monitor_frame, _pad0);
	F(monitor_frame, marker);
	E();

	S(log_frame);
	F(log_frame, level); F(log_frame, code); F(log_frame, err); F(log_frame, msg_len); F(log_frame, _pad0);
	E();

	printf("\n  },\n  \"constants\": {\n");
	printf("    \"AIBOM_FRAME_MAGIC\": %u,\n", AIBOM_FRAME_MAGIC);
	printf("    \"AIBOM_FRAME_MAX_PAYLOAD\": %d,\n", AIBOM_FRAME_MAX_PAYLOAD);
	printf("    \"EV_EXEC\": %d, \"EV_EXIT\": %d, \"EV_FORK\": %d, \"EV_OPEN\": %d, \"EV_CONNECT\": %d,\n",
	       EV_EXEC, EV_EXIT, EV_FORK, EV_OPEN, EV_CONNECT);
	printf("    \"EV_ACCEPT\": %d, \"EV_DNS\": %d, \"EV_TLS\": %d, \"EV_HTTP\": %d, \"EV_MAX\": %d,\n",
	       EV_ACCEPT, EV_DNS, EV_TLS, EV_HTTP, EV_MAX);
	printf("    \"FILT_NOT_MONITORED\": %d, \"FILT_PATH_IGNORED\": %d, \"FILT_NOT_INTERESTING\": %d, \"FILT_NO_SIGNATURE\": %d, \"FILT_MAX\": %d,\n",
	       FILT_NOT_MONITORED, FILT_PATH_IGNORED, FILT_NOT_INTERESTING, FILT_NO_SIGNATURE, FILT_MAX);
	printf("    \"EVF_TRUNCATED\": %d, \"EVF_CREDENTIAL\": %d, \"EVF_IPV6\": %d, \"EVF_NO_RESULT\": %d,\n",
	       EVF_TRUNCATED, EVF_CREDENTIAL, EVF_IPV6, EVF_NO_RESULT);
	printf("    \"EVF_SHADOW\": %d, \"EVF_SHADOW_START\": %d, \"EVF_SHADOW_BODY\": %d,\n", EVF_SHADOW, EVF_SHADOW_START, EVF_SHADOW_BODY);
	printf("    \"FRAME_STREAM_HEADER\": %d, \"FRAME_EVENT\": %d, \"FRAME_STATS\": %d, \"FRAME_LOG\": %d, \"FRAME_MONITOR\": %d,\n",
	       FRAME_STREAM_HEADER, FRAME_EVENT, FRAME_STATS, FRAME_LOG, FRAME_MONITOR);
	printf("    \"MONR_NONE\": %d, \"MONR_ENV_MARKER\": %d, \"MONR_COMM\": %d, \"MONR_PID\": %d, \"MONR_INHERITED\": %d, \"MONR_SHADOW\": %d,\n",
	       MONR_NONE, MONR_ENV_MARKER, MONR_COMM, MONR_PID, MONR_INHERITED, MONR_SHADOW);
	printf("    \"MONF_PARTIAL\": %d, \"MONF_AT_START\": %d,\n", MONF_PARTIAL, MONF_AT_START);
	printf("    \"DATA_SRC_SSL_WRITE\": %d, \"DATA_SRC_SSL_READ\": %d, \"DATA_SRC_SOCKET_SEND\": %d\n",
	       DATA_SRC_SSL_WRITE, DATA_SRC_SSL_READ, DATA_SRC_SOCKET_SEND);
	printf("  }\n}\n");
	return 0;
}
