// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* SO_PEERCRED for socket mode: see peercred.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "peercred.h"

static int peer(int fd, struct ucred *cred)
{
	socklen_t len = sizeof(*cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len))
		return -errno;
	return 0;
}

int peercred_print(int fd)
{
	struct ucred cred;
	int err = peer(fd, &cred);

	if (err) {
		fprintf(stderr, "aibom-sensor --peercred: SO_PEERCRED on fd %d: %s (stdin must be a connected Unix socket)\n",
			fd, strerror(-err));
		return 1;
	}
	printf("%d %u %u\n", cred.pid, cred.uid, cred.gid);
	return fflush(stdout) ? 1 : 0;
}

int peercred_check_listener(int fd, const char *path, long expected_uid)
{
	struct ucred cred;
	struct stat st;
	int err = peer(fd, &cred);

	if (err) {
		fprintf(stderr, "aibom-sensor: SO_PEERCRED on %s: %s\n", path, strerror(-err));
		return err;
	}
	if (expected_uid < 0) {
		/* Only as good as the directory's permissions: pass --socket-peer-uid where others can write it. */
		if (stat(path, &st)) {
			err = -errno;
			fprintf(stderr, "aibom-sensor: stat %s: %s\n", path, strerror(errno));
			return err;
		}
		expected_uid = st.st_uid;
	}
	if (cred.uid == 0 || (long)cred.uid == expected_uid)
		return 0;
	fprintf(stderr, "aibom-sensor: refusing to send to %s: the listener (pid %d) runs as uid %u, expected uid %ld or root (--socket-peer-uid)\n",
		path, cred.pid, cred.uid, expected_uid);
	return -EPERM;
}
