/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Socket mode trusts nobody by path alone: each end reads the other's credentials from the kernel
 * (SO_PEERCRED, the credentials at connect/listen time, which the peer cannot forge).
 * The sensor checks the listener before it sends a byte; the receiver (Node has no SO_PEERCRED)
 * runs `aibom-sensor --peercred` with the accepted connection as its stdin.
 */
#ifndef AIBOM_PEERCRED_H
#define AIBOM_PEERCRED_H

/* Prints "pid uid gid\n" of fd's peer on stdout. Returns the exit code: 0, or 1 with a message. */
int peercred_print(int fd);

/*
 * 0 when the process listening behind the connected fd is root or expected_uid (< 0: the owner of
 * the socket file at path); otherwise -EPERM (or -errno) with a message on stderr naming both uids.
 */
int peercred_check_listener(int fd, const char *path, long expected_uid);

#endif
