/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The names shmctl prints and reads for the uapi's numbers, all here so that
 * text, JSON and the command line agree.
 */
#ifndef SHMCTL_NAMES_H
#define SHMCTL_NAMES_H

#include <stdint.h>

/* "source", "destination"; "unknown" for a value this shmctl predates. */
const char *role_name(uint32_t role);
/* The inverse of role_name(): 0, or -EINVAL for any other word. */
int role_parse(const char *name, uint32_t *role);

/* "never", "auto", "always" (enum shm_compress); "unknown" likewise. */
const char *compress_name(uint32_t compress);
/* Its inverse, for --compress[=WHEN]: no word (NULL) is "always". */
int compress_parse(const char *name, uint32_t *compress);
#define COMPRESS_USAGE_ERROR	"--compress is never, auto or always, not '%s'"

/* "new", "attached", ... "cancelled"; "unknown" as for role_name(). */
const char *state_name(uint32_t state);

/* Name of the single SHM_CAP_* bit @cap, or NULL if it has none. */
const char *cap_name(uint64_t cap);

/*
 * Name of a request attribute, as the option that sets it ("max-downtime"),
 * for errors the kernel blames on an attribute; NULL if unknown.
 */
const char *session_attr_name(int type);

#endif /* SHMCTL_NAMES_H */
