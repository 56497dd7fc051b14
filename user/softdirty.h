/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Writes a VMM makes to guest RAM itself (device emulation: a virtio-net
 * receive, a disk read landing in guest memory), which KVM's dirty log
 * does not see, found with the kernel's soft-dirty bits on the VMM's
 * mapping of guest RAM (/proc/PID/pagemap, /proc/PID/clear_refs) and
 * reported to shm.ko (SHM_CMD_SESSION_DIRTY).
 *
 * Reading the bits and clearing them are two steps: a write between them
 * would be lost. So each scan stops the VMM (SIGSTOP, every thread seen
 * stopped), reads, clears and lets it go on: a few milliseconds. After its
 * final scan, with the VM paused for good, no write of the VMM goes
 * unreported.
 *
 * The bits also see every page the guest writes (KVM faults them in
 * through the VMM's page tables). A scan at any time would report again
 * the guest's writes that the last round's harvest of KVM's dirty log sent
 * already, and with a busy guest pre-copy would never converge. So the
 * tracker scans when shm.ko asks, at each round's end before it harvests
 * (SHM_CMD_SESSION_SCAN), and answers: both then cover the same time.
 * While no round ends because the guest writes nothing, shm.ko asks every
 * second. It never scans in the middle of a long round: the round's end
 * finds the same writes, and a scan costs CPU (clearing the bits makes
 * KVM fault the guest's pages in again).
 */
#ifndef SHMCTL_SOFTDIRTY_H
#define SHMCTL_SOFTDIRTY_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "netlink.h"
#include "procmaps.h"

#define SOFTDIRTY_MAX_RANGES	8

struct softdirty {
	pid_t pid;
	int pidfd, pagemap, clear_refs;
	uint32_t session;
	struct proc_map ranges[SOFTDIRTY_MAX_RANGES];	/* of guest RAM */
	unsigned int nr_ranges;
	uint64_t *entries;		/* a pagemap buffer */
	struct shm_nl nl;		/* the reports' */
	struct shm_nl events;		/* shm.ko's requests to scan */
	pthread_t thread;
	int stop;			/* an eventfd: the thread ends */
	uint32_t asked;			/* the last round to scan for */
	bool pending;			/* ... not scanned yet */
	int err;			/* the thread's, once it ended */
	char why[256];
	uint64_t scans, pages;		/* for the curious */
};

/*
 * Starts tracking QEMU @pid's writes to its mapping of @ram_path (a file,
 * or "" for the one memfd mapping) for @session: a first scan clears the
 * bits, then a thread scans and reports when asked.
 */
int softdirty_start(struct softdirty *sd, pid_t pid, int pidfd,
		    const char *ram_path, uint32_t session);
/*
 * The VMM stopped writing for good (its VM is paused): the last scan,
 * reported before this returns; tracking ends. 0 or a negative errno,
 * with sd->why.
 */
int softdirty_finish(struct softdirty *sd);
/* Tracking ends without a last scan (the migration failed). */
void softdirty_cancel(struct softdirty *sd);

#endif /* SHMCTL_SOFTDIRTY_H */
