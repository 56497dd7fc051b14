/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The downtime probes (bpf/downtime.bpf.c), loaded into this process:
 * the vCPU blackout of VMMs named by process id, from KVM's tracepoints,
 * and the gaps between packets from one address on one device, from a tc
 * program on its ingress and egress. Root only (BPF, tc).
 *
 * Times are CLOCK_MONOTONIC nanoseconds, as BPF reads them.
 */
#ifndef SHMCTL_PROBE_H
#define SHMCTL_PROBE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>

#include "../bpf/downtime.h"

struct probe;

/*
 * Loads the probes: the vCPU one, and the packet one if @addr (IPv4 or
 * IPv6) is given, on @dev, or where the route to @addr goes if @dev is
 * NULL. NULL on failure, with the reason in @why.
 */
struct probe *probe_open(const char *addr, const char *dev, char *why,
			 size_t len);
void probe_close(struct probe *p);

/* Starts watching the vCPUs of process @pid; 0 or a negative errno. */
int probe_watch_vm(struct probe *p, pid_t pid);
int probe_vm(struct probe *p, pid_t pid, struct shm_probe_vm *vm);

/* The device the packet probe watches; "" without one. */
const char *probe_dev(const struct probe *p);
void probe_packets(struct probe *p, struct shm_probe_packets *pk);
/* Forgets the packets so far: the next one is "first". */
void probe_packets_reset(struct probe *p);

/*
 * Calls @fn for each gap of a millisecond or more (vCPUs or packets) that
 * ended since the last call, waiting up to @timeout_ms for one. Returns
 * how many, or a negative errno.
 */
typedef void (*probe_gap_fn)(const struct shm_probe_gap *gap, void *arg);
int probe_poll_gaps(struct probe *p, int timeout_ms, probe_gap_fn fn,
		    void *arg);

#endif /* SHMCTL_PROBE_H */
