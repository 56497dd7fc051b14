// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>

#include <shm/netlink.h>

#include "names.h"
#include "shmctl.h"

static const char *const role_names[] = {
	[SHM_ROLE_SOURCE]	= "source",
	[SHM_ROLE_DESTINATION]	= "destination",
};

static const char *const compress_names[] = {
	[SHM_COMPRESS_NEVER]	= "never",
	[SHM_COMPRESS_AUTO]	= "auto",
	[SHM_COMPRESS_ALWAYS]	= "always",
};

static const char *const state_names[] = {
	[SHM_STATE_NEW]		= "new",
	[SHM_STATE_ATTACHED]	= "attached",
	[SHM_STATE_PRECOPY]	= "precopy",
	[SHM_STATE_CUTOVER]	= "cutover",
	[SHM_STATE_DONE]	= "done",
	[SHM_STATE_FAILED]	= "failed",
	[SHM_STATE_CANCELLED]	= "cancelled",
};

static const struct {
	uint64_t cap;
	const char *name;
} cap_names[] = {
	{ SHM_CAP_TRACEPOINTS, "tracepoints" },
};

static const char *const session_attr_names[] = {
	[SHM_SESSION_A_ID]		= "id",
	[SHM_SESSION_A_ROLE]		= "role",
	[SHM_SESSION_A_STATE]		= "state",
	[SHM_SESSION_A_OLD_STATE]	= "old-state",
	[SHM_SESSION_A_NAME]		= "name",
	[SHM_SESSION_A_MAX_DOWNTIME_MS]	= "max-downtime",
	[SHM_SESSION_A_STREAMS]		= "streams",
	[SHM_SESSION_A_BANDWIDTH]	= "bandwidth",
	[SHM_SESSION_A_AGE_MS]		= "age",
	[SHM_SESSION_A_REASON]		= "reason",
	[SHM_SESSION_A_COMPRESS]	= "compress",
};

/* Entry @i of a table indexed by value, or NULL past its end or in a gap. */
static const char *lookup(const char *const *names, size_t n, uint64_t i)
{
	return i < n ? names[i] : NULL;
}

const char *role_name(uint32_t role)
{
	const char *name = lookup(role_names, ARRAY_SIZE(role_names), role);

	return name ? name : "unknown";
}

/* The index of @name in a table indexed by value. */
static int parse(const char *const *names, size_t n, const char *name,
		 uint32_t *value)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (names[i] && !strcmp(name, names[i])) {
			*value = i;
			return 0;
		}
	}
	return -EINVAL;
}

int role_parse(const char *name, uint32_t *role)
{
	return parse(role_names, ARRAY_SIZE(role_names), name, role);
}

const char *compress_name(uint32_t compress)
{
	const char *name = lookup(compress_names, ARRAY_SIZE(compress_names),
				  compress);

	return name ? name : "unknown";
}

int compress_parse(const char *name, uint32_t *compress)
{
	if (!name) {
		*compress = SHM_COMPRESS_ALWAYS;
		return 0;
	}
	return parse(compress_names, ARRAY_SIZE(compress_names), name,
		     compress);
}

const char *state_name(uint32_t state)
{
	const char *name = lookup(state_names, ARRAY_SIZE(state_names), state);

	return name ? name : "unknown";
}

const char *cap_name(uint64_t cap)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cap_names); i++) {
		if (cap_names[i].cap == cap)
			return cap_names[i].name;
	}
	return NULL;
}

const char *session_attr_name(int type)
{
	if (type < 0)
		return NULL;
	return lookup(session_attr_names, ARRAY_SIZE(session_attr_names), type);
}
