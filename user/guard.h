/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What must be undone even if shmctl dies, SIGKILL included.
 *
 * A guard is a small child process that waits on a pipe only we write to.
 * Disarmed, it reads our word and exits. If we die first, the pipe reads
 * end-of-file and it undoes what struct guard_undo names, in order: a
 * signal to a process (and, for SIGKILL, the wait for it to be gone), one
 * QMP command on a monitor socket (once our own connection to it is gone,
 * or once there is one: a QEMU may still be starting) or through virsh to
 * a libvirt domain, a directory removed with all in it. It lives in a session of its own,
 * ignoring the signals a terminal or a test runner sends to our process
 * group, so that it outlives us by the moment it needs.
 */
#ifndef SHMCTL_GUARD_H
#define SHMCTL_GUARD_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/un.h>

struct guard_undo {
	int pidfd;			/* -1: no signal */
	int signal;
	char qmp_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char qmp_command[512];		/* JSON and a newline; "": none */
	/* Else the QMP command goes to this domain of libvirtd at this URI. */
	char libvirt_uri[256];
	char libvirt_domain[64];	/* its UUID */
	char dir[PATH_MAX];		/* "": none */
};

struct guard {
	pid_t child;			/* 0: not armed */
	int pipe;			/* our end */
};

/* Forks the guard; 0 or a negative errno. */
int guard_arm(struct guard *g, const struct guard_undo *undo);
/* We did it ourselves, or there is nothing left to undo: the guard goes. */
void guard_disarm(struct guard *g);

#endif /* SHMCTL_GUARD_H */
