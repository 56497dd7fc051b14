// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/PID/maps lookups (procmaps.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "procmaps.h"

int proc_maps_find(pid_t pid, const char *path, struct proc_map *maps,
		   unsigned int max, unsigned int *nr, char *why, size_t len)
{
	char file[64], line[PATH_MAX + 128], name[PATH_MAX];
	unsigned long long start, end, ino;
	unsigned int major, minor;
	struct stat st = { 0 };
	FILE *f;

	*nr = 0;
	if (*path && stat(path, &st))
		return snprintf(why, len, "%s: %s", path, strerror(errno)), -errno;
	snprintf(file, sizeof(file), "/proc/%d/maps", pid);
	f = fopen(file, "re");
	if (!f)
		return snprintf(why, len, "%s: %s", file, strerror(errno)), -errno;
	while (fgets(line, sizeof(line), f)) {
		name[0] = '\0';
		if (sscanf(line, "%llx-%llx %*s %*s %x:%x %llu %4095[^\n]", &start,
			   &end, &major, &minor, &ino, name) < 5)
			continue;
		if (*path ? ino != st.st_ino || makedev(major, minor) != st.st_dev :
			    strncmp(name, "/memfd:", 7))
			continue;
		if (*nr == max) {
			fclose(f);
			return snprintf(why, len, "%s mapped over %u times",
					*path ? path : "memfd", max), -E2BIG;
		}
		maps[*nr].start = start;
		maps[(*nr)++].len = end - start;
	}
	fclose(f);
	if (!*nr)
		return snprintf(why, len, "process %d does not map %s", pid,
				*path ? path : "a memfd"), -ENOENT;
	return 0;
}
