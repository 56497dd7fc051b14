/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where a process maps a file (/proc/PID/maps): by device and inode, as a
 * path reads differently from another mount namespace or chroot. A path
 * of "" means the process's memfd mappings.
 */
#ifndef SHMCTL_PROCMAPS_H
#define SHMCTL_PROCMAPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_map {
	uint64_t start, len;
};

/*
 * Up to @max mappings of @path by @pid into @maps, *@nr of them; -ENOENT
 * if none, with a sentence in @why.
 */
int proc_maps_find(pid_t pid, const char *path, struct proc_map *maps,
		   unsigned int max, unsigned int *nr, char *why, size_t len);

#endif /* SHMCTL_PROCMAPS_H */
