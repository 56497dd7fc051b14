// SPDX-License-Identifier: GPL-2.0
/* libvirt and libxml2 opened on first use (libvirt.h). */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "libvirt.h"
#include "shmctl.h"

enum libvirt_lib { LIBVIRT, LIBVIRT_QEMU, LIBXML2, LIBVIRT_LIBS };

/* Sonames, as Debian's libvirt0 and libxml2 packages install them. */
static const char *const libvirt_sonames[LIBVIRT_LIBS] = {
	[LIBVIRT]	= "libvirt.so.0",
	[LIBVIRT_QEMU]	= "libvirt-qemu.so.0",
	[LIBXML2]	= "libxml2.so.2",
};

#define LIBVIRT_SYMBOL_DEFINE(lib, name) typeof(name) *sym_##name;
LIBVIRT_SYMBOLS(LIBVIRT_SYMBOL_DEFINE)

#define LIBVIRT_SYMBOL_ENTRY(lib, name) { lib, #name, (void **)&sym_##name },
static const struct libvirt_symbol {
	enum libvirt_lib lib;
	const char *name;
	void **sym;
} libvirt_symbols[] = { LIBVIRT_SYMBOLS(LIBVIRT_SYMBOL_ENTRY) };

int libvirt_load(char *err, size_t len)
{
	/* Opened for good: shmctl never closes them. */
	static void *handle[LIBVIRT_LIBS];
	static bool loaded;
	const struct libvirt_symbol *s;
	int i;

	for (i = 0; !loaded && i < LIBVIRT_LIBS; i++) {
		handle[i] = handle[i] ?: dlopen(libvirt_sonames[i], RTLD_NOW | RTLD_LOCAL);
		if (!handle[i]) {
			snprintf(err, len, "libvirt's domains need %s (install libvirt0): %s",
				 libvirt_sonames[i], dlerror());
			return -ENOENT;
		}
	}
	for (s = libvirt_symbols; !loaded && s < libvirt_symbols + ARRAY_SIZE(libvirt_symbols); s++) {
		*s->sym = dlsym(handle[s->lib], s->name);
		if (!*s->sym) {
			snprintf(err, len, "%s has no %s: too old for shmctl",
				 libvirt_sonames[s->lib], s->name);
			return -ENOENT;
		}
	}
	loaded = true;
	return 0;
}
