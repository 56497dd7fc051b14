/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A digest of a VM's whole RAM, for migrate --verify: both hosts compute
 * it, the source at the pause, the destination before it runs the VM, and
 * the VM runs there only if they agree. 128 bits from two multiply-mix
 * lanes over every 8-byte word and its place: it finds a page lost or
 * torn by a bug, not an adversary's forgery (the link is authenticated).
 */
#ifndef SHMCTL_DIGEST_H
#define SHMCTL_DIGEST_H

#include <stddef.h>

#define DIGEST_HEX	33	/* 32 hex digits and the NUL */

/* The digest of everything in file @fd, as hex into @hex. */
int ram_digest(int fd, char hex[DIGEST_HEX], char *why, size_t len);

#endif /* SHMCTL_DIGEST_H */
