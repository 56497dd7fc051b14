/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The testvmm driver's insides, shared by its three files:
 *
 *   vmm_testvmm_ctl.c    the control socket: connect, one command, answers
 *   vmm_testvmm_start.c  descriptions, and a destination VMM started here
 *   vmm_testvmm.c        the driver's operations (vmm.h)
 *
 * shm-testvmm (tests/vmm/) is named by the path of its control socket and
 * driven through it: one command a line, one answer line each, "ok[
 * DETAILS]" or "err MESSAGE" (tests/vmm/cmd.c lists the commands). One
 * connection lasts as long as the driver holds the VMM, so a VMM that dies
 * shows as a connection that breaks.
 */
#ifndef SHMCTL_VMM_TESTVMM_H
#define SHMCTL_VMM_TESTVMM_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

#include "vmm.h"

#define MIB		(1ULL << 20)
#define TV_POLL_MS	50

/* What a VMM runs with: `shm-testvmm run` options of the same names. */
struct tv_config {
	uint64_t ram, vcpus, slots, writer_pages, writer_rate, manual_protect;
	/* Its beacon (tests/vmm/beacon.c): IPv4 addresses in host order. */
	uint64_t beacon_from, beacon_to, beacon_port;
};

/* struct vmm's priv. */
struct tv {
	char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];	/* absolute */
	char log[sizeof(((struct sockaddr_un *)0)->sun_path)];	/* if ours */
	int ctl;		/* the connection, -1 once broken */
	pid_t pid;		/* the VMM, as the kernel saw it listen */
	pid_t child;		/* the same, while it is our unreaped child */
	int vmfd;		/* the VM's fd number in the VMM */
	struct tv_config cfg;
	const struct vmm_state_out *out;	/* source: from pause on */
	/* Destination: the state file put_state fills, -1 until then. */
	int state_fd;
	char state_path[PATH_MAX];
};

/* vmm_testvmm_ctl.c */

/* "test VMM at SOCKET: " and the sentence into v->err; returns @err. */
int tv_fail(struct vmm *v, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* v->priv, zeroed but for ctl = -1; NULL (and v->err) if out of memory. */
struct tv *tv_new(struct vmm *v);
void tv_free(struct vmm *v);
/* The destination's state file gone, if put_state made one. */
void tv_drop_state(struct tv *tv);
/*
 * Connects to tv->sock, once, and reads the VMM's info into tv. A failed
 * connect() returns its -errno (the caller may retry on -ENOENT and
 * -ECONNREFUSED while a VMM starts).
 */
int tv_connect(struct vmm *v);
/*
 * Sends one command and reads its answer: 0 on "ok", what follows it in
 * @reply (may be NULL); -EREMOTEIO on "err", with the VMM's message in
 * v->err; any other negative errno when the connection failed, which then
 * is closed: an answer arriving late must not pass for the next one's.
 */
int tv_cmd(struct vmm *v, char *reply, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The value of the word "KEY=VALUE" in an answer, into @val. */
bool tv_word(const char *reply, const char *key, char *val, size_t len);

/* vmm_testvmm_start.c */

/*
 * "KEY=N" words separated by @sep into @cfg. A description (@strict) must
 * have every field once and nothing else; an answer to info has more.
 * @whose starts the sentence in v->err.
 */
int tv_parse(struct vmm *v, const char *text, char sep, bool strict,
	     const char *whose, struct tv_config *cfg);
int tv_describe(struct vmm *v, char *desc, size_t len);
int tv_check_incoming(struct vmm *v, const char *desc);
int tv_create_incoming(struct vmm *v, const char *desc, const char *rundir);

/* vmm_testvmm.c */

/*
 * "quit", then with @kill: SIGKILL if it still lives after a while, and
 * its control socket removed (its log stays). Frees v->priv; v->err is
 * left as it was.
 */
void tv_end(struct vmm *v, bool kill);

#endif /* SHMCTL_VMM_TESTVMM_H */
