// SPDX-License-Identifier: GPL-2.0
/*
 * The RAM digest (digest.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "digest.h"

static inline uint64_t rotl(uint64_t x, int r)
{
	return x << r | x >> (64 - r);
}

int ram_digest(int fd, char hex[DIGEST_HEX], char *why, size_t len)
{
	uint64_t a = 0x9e3779b97f4a7c15ULL, b = 0xc2b2ae3d27d4eb4fULL, i, n;
	const uint64_t *w;
	struct stat st;

	if (fstat(fd, &st))
		return snprintf(why, len, "guest RAM: %s", strerror(errno)), -errno;
	n = st.st_size / sizeof(*w);
	w = n ? mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0) : NULL;
	if (w == MAP_FAILED)
		return snprintf(why, len, "guest RAM: %s", strerror(errno)), -errno;
	for (i = 0; i < n; i++) {
		a = rotl((a ^ w[i]) * 0xff51afd7ed558ccdULL, 29) + i;
		b = rotl((b + w[i]) * 0xc4ceb9fe1a85ec53ULL, 37) ^ i;
	}
	if (n)
		munmap((void *)w, st.st_size);
	snprintf(hex, DIGEST_HEX, "%016llx%016llx", (unsigned long long)a,
		 (unsigned long long)b);
	return 0;
}
