/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Facts about this host that preflight compares with the other one's: the
 * CPU (vendor and feature flags, from /proc/cpuinfo, or from the file
 * SHM_PROC_CPUINFO names, which tests use to play another CPU) and the
 * memory available for a VM.
 */
#ifndef SHMCTL_HOST_H
#define SHMCTL_HOST_H

#include <stddef.h>
#include <stdint.h>

struct host_cpu {
	char vendor[32];
	char flags[3072];	/* comma-separated, as they travel */
};

int host_cpu(struct host_cpu *cpu);
int host_mem_available(uint64_t *bytes);
/* The flags of @need (comma-separated) that @have lacks, into @missing. */
void host_missing_flags(const char *need, const char *have, char *missing,
			size_t len);

#endif /* SHMCTL_HOST_H */
