/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shm-testvmm (tests/vmm/) as a test drives it: a process started in one of
 * the hosts, its control socket, and its VM taken with pidfd_getfd as a
 * migration tool takes a VMM's.
 */
#ifndef _SHM_TESTS_TESTVMM_H
#define _SHM_TESTS_TESTVMM_H

#include <stdint.h>
#include <sys/types.h>
#include "hosts.h"

struct testvmm {
	pid_t pid;
	int ctl;		/* connected control socket */
	char dir[64];		/* its socket, log and files */
	char reply[512];	/* the last answer, "ok ..." or "err ..." */
	char path[128];		/* the last testvmm_path() */
};

/*
 * Starts `shm-testvmm run ARGS` in @host, with its control socket, and
 * connects to it. ARGS are words separated by spaces.
 */
int testvmm_start(struct testvmm *v, struct hosts *h, enum host host,
		  const char *args);
/*
 * Lets go of its control socket, which serves one client at a time, for
 * another (shmctl) to drive the VMM; the next testvmm_ctl() connects again.
 */
void testvmm_release(struct testvmm *v);
/* Sends one command; 0 if it answered "ok", reply in v->reply. */
int testvmm_ctl(struct testvmm *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A number from the answer to @cmd ("stats", "info"): "KEY=N". */
int64_t testvmm_value(struct testvmm *v, const char *cmd, const char *key);
/* The VM's file descriptor, duplicated into this process. */
int testvmm_vm_fd(struct testvmm *v);
/* "quit" if it still answers, then SIGKILL; returns once it is reaped. */
void testvmm_stop(struct testvmm *v);
/* A path in the VMM's directory, for save/restore/hash files (v->path). */
const char *testvmm_path(struct testvmm *v, const char *name);
/* Prints its log (stdout and stderr) as test diagnostics. */
void testvmm_dump_log(struct testvmm *v);

#endif /* _SHM_TESTS_TESTVMM_H */
