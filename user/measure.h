/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The downtime of one migration, each host measuring its half with the
 * downtime probes (probe.h), the source combining them:
 *
 *   blackout   the destination's first vCPU entry minus the source's last
 *              vCPU exit before the final round;
 *   client gap the first packet from the VM's address on the destination's
 *              device after it resumed, minus the last one on the source's
 *              before the cutover (with --watch-ip ADDR[@DEV]).
 *
 * The two halves are CLOCK_MONOTONIC times of two hosts. On one kernel
 * (the same boot id, e.g. hosts as network namespaces) that is one clock
 * and the figures are exact. Otherwise the source estimates the offset
 * between the clocks from one exchange on the control connection, as NTP
 * does: the destination's time falls between the source's send and
 * receive, so the error is at most half that round trip, reported with
 * the figures.
 *
 * Each half is best effort: a probe that cannot load (no root, no BPF, no
 * such device) leaves that figure "not measured", with why.
 */
#ifndef SHMCTL_MEASURE_H
#define SHMCTL_MEASURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct probe;

struct measure {
	struct probe *probe;
	pid_t pid;
	bool packets;			/* watching an address */
	/* Source: last exit, last packet; destination: first of each. */
	uint64_t vcpu_ns, packet_ns;
	char why[192];			/* why nothing is measured */
};

struct downtime_figures {
	bool blackout_ok, gap_ok;
	uint64_t blackout_ns, gap_ns;
	bool one_clock;
	uint64_t uncertainty_ns;	/* of both, without one clock */
	char why_blackout[192], why_gap[192];
};

/* Starts the probes on VMM @pid, and on @watch ("ADDR[@DEV]") if given. */
void measure_start(struct measure *ms, pid_t pid, const char *watch);
void measure_stop(struct measure *ms);

/* Source, vCPUs paused and the final round done: its half. */
void measure_source_paused(struct measure *ms);
/* Destination, just before it resumes the VM: packets count from here. */
void measure_dest_resuming(struct measure *ms);

/*
 * After RUNNING. The destination answers the source's CLOCK line with its
 * half (waiting up to a second for the VM's first packet); the source
 * sends it and combines both into @f. 0, or the link's negative errno.
 */
int measure_dest_answer(struct measure *ms, int fd);
int measure_source_combine(struct measure *ms, int fd,
			   struct downtime_figures *f);

#endif /* SHMCTL_MEASURE_H */
