// SPDX-License-Identifier: GPL-2.0
/*
 * The table of VMM drivers (vmm.h), and how a VM named on the command line
 * finds its own: "NAME:WHERE", or a bare WHERE for the test VMM.
 */
#include <string.h>

#include "shmctl.h"
#include "vmm.h"

static const struct vmm_driver *const vmm_drivers[] = {
	&vmm_testvmm_driver,
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
