// SPDX-License-Identifier: GPL-2.0
/*
 * This host's CPU and memory, for preflight (host.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

/* The value after "KEY<spaces>: " on a line of /proc/cpuinfo or meminfo. */
static const char *field(const char *line, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(line, key, n) || !strchr(line, ':'))
		return NULL;
	line = strchr(line, ':') + 1;
	return line + strspn(line, " \t");
}

int host_cpu(struct host_cpu *cpu)
{
	const char *path = getenv("SHM_PROC_CPUINFO") ?: "/proc/cpuinfo";
	FILE *f = fopen(path, "r");
	char line[4096];
	const char *v;
	char *p;

	memset(cpu, 0, sizeof(*cpu));
	if (!f)
		return -errno;
	/* The first processor speaks for all. */
	while (fgets(line, sizeof(line), f) && line[0] != '\n') {
		line[strcspn(line, "\n")] = 0;
		if ((v = field(line, "vendor_id")))
			snprintf(cpu->vendor, sizeof(cpu->vendor), "%s", v);
		else if ((v = field(line, "flags")))
			snprintf(cpu->flags, sizeof(cpu->flags), "%s", v);
	}
	fclose(f);
	for (p = cpu->flags; *p; p++)
		if (*p == ' ')
			*p = ',';
	return cpu->vendor[0] && cpu->flags[0] ? 0 : -ENODATA;
}

int host_mem_available(uint64_t *bytes)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	const char *v;
	int err = -ENODATA;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if ((v = field(line, "MemAvailable"))) {
			*bytes = strtoull(v, NULL, 10) << 10;
			err = 0;
			break;
		}
	fclose(f);
	return err;
}

static int has_flag(const char *have, const char *flag, size_t n)
{
	const char *p = have;

	while ((p = strstr(p, flag))) {
		if ((p == have || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return 1;
		p += n;
	}
	return 0;
}

void host_missing_flags(const char *need, const char *have, char *missing,
			size_t len)
{
	char flag[64];
	size_t n, used = 0;

	missing[0] = 0;
	while (*need) {
		n = strcspn(need, ",");
		if (n && n < sizeof(flag)) {
			memcpy(flag, need, n);
			flag[n] = 0;
			if (!has_flag(have, flag, n) && used + n + 3 < len)
				used += snprintf(missing + used, len - used,
						 "%s%s", used ? ", " : "", flag);
		}
		need += n + !!need[n];
	}
}
