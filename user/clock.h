/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CLOCK_MONOTONIC, the clock of every timeout and figure in shmctl, and
 * of bpf_ktime_get_ns() in the BPF probes.
 */
#ifndef SHMCTL_CLOCK_H
#define SHMCTL_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t monotonic_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ULL + t.tv_nsec;
}

static inline uint64_t monotonic_ms(void)
{
	return monotonic_ns() / 1000000;
}

#endif /* SHMCTL_CLOCK_H */
