// SPDX-License-Identifier: GPL-2.0
/*
 * The table of VMM drivers (vmm.h), how a VM named on the command line
 * finds its own ("NAME:WHERE", or a bare WHERE for the test VMM), and what
 * every driver's operations make together.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "shmctl.h"
#include "vmm.h"

static const struct vmm_driver *const vmm_drivers[] = {
	&vmm_testvmm_driver,
	&vmm_qemu_driver,
	&vmm_libvirt_driver,
};

const struct vmm_driver *vmm_driver_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vmm_drivers); i++) {
		if (!strcmp(name, vmm_drivers[i]->name))
			return vmm_drivers[i];
	}
	return NULL;
}

/*
 * What comes before the first ':' is a driver's name only if it holds no
 * '/': "/run/vm:1.sock" is a socket path, not driver "/run/vm". A bare
 * relative path with a colon must then be spelled "./vm:1.sock".
 * *@where is set only on success, so @where may point to @spec.
 */
const struct vmm_driver *vmm_driver_find(const char *spec,
					 const char **where)
{
	const char *colon = strchr(spec, ':'), *rest = spec;
	size_t len = colon ? (size_t)(colon - spec) : 0;
	const struct vmm_driver *d = &vmm_testvmm_driver;
	char name[32];

	if (colon && !memchr(spec, '/', len)) {
		if (len >= sizeof(name))
			return NULL;
		memcpy(name, spec, len);
		name[len] = '\0';
		d = vmm_driver_by_name(name);
		rest = colon + 1;
	}
	if (!d || !*rest)
		return NULL;
	*where = rest;
	return d;
}

/* Every byte but these is written %XX: a description has no spaces. */
static bool vmm_desc_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("-_./,=:@+", c);
}

int vmm_desc_put(char *desc, size_t len, size_t *n, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p && *n + 4 < len; p++) {
		if (vmm_desc_plain(*p))
			desc[(*n)++] = *p;
		else
			*n += sprintf(desc + *n, "%%%02X", *p);
	}
	desc[*n] = '\0';
	return *p ? -E2BIG : 0;
}

int vmm_desc_get(const char **p)
{
	const char *s = *p;
	unsigned int c;

	if (*s == '%') {
		if (!s[1] || !s[2] || sscanf(s + 1, "%2x", &c) != 1 || !c)
			return -EINVAL;
		*p += 3;
		return c;
	}
	if (!vmm_desc_plain(*s))
		return -EINVAL;
	(*p)++;
	return (unsigned char)*s;
}

int vmm_ram_digest(struct vmm *v, char hex[DIGEST_HEX])
{
	int fd, err;

	if (!v->driver->ram_fd) {
		snprintf(v->err, sizeof(v->err), "the %s driver cannot read guest RAM to verify it",
			 v->driver->name);
		return -EOPNOTSUPP;
	}
	fd = v->driver->ram_fd(v);
	if (fd < 0)
		return fd;
	err = ram_digest(fd, hex, v->err, sizeof(v->err));
	close(fd);
	return err;
}
