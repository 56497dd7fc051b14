// SPDX-License-Identifier: GPL-2.0
/*
 * The memory region and its writer. Page i of the region holds version
 * gen[i] of memory page i (pattern.h); the writer rewrites whole pages in
 * a scattered order, each write a new version, at guest.rate pages/s.
 * gen[] lives in ordinary memory too: a migration must carry both alike.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "guest.h"
#include "pattern.h"

#define PAGEMAP_PRESENT	(1ULL << 63)
#define PAGEMAP_PFN	((1ULL << 55) - 1)

/*
 * Locked in RAM and in small pages, every page written before we report
 * ready: the region's pages stay where they are, so the host can find one
 * by the PFN we report (mem_pfn) and corrupt it on purpose.
 */
int mem_init(uint64_t mib)
{
	size_t size = mib << 20;
	uint64_t i;

	guest.npages = size / BLOCK_SIZE;
	guest.mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	guest.gen = calloc(guest.npages, sizeof(*guest.gen));
	if (guest.mem == MAP_FAILED || !guest.gen) {
		perror("shm-guest: memory region");
		return -1;
	}
	madvise(guest.mem, size, MADV_NOHUGEPAGE);
	if (mlock(guest.mem, size))
		perror("shm-guest: mlock (carrying on unlocked)");
	for (i = 0; i < guest.npages; i++)
		pattern_fill(guest.mem + i * BLOCK_SIZE, MEM_MAGIC, i, 0);
	return 0;
}

/* xorshift64*: a cheap scattered order, its state on our stack. */
static uint64_t next_random(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

void *mem_writer(void *arg)
{
	struct pace pace = { 0 };
	uint64_t s = now_ns() | 1;

	for (;;) {
		uint64_t n = pace_due(&pace, &guest.rate);

		while (n--) {
			uint64_t i = next_random(&s) % guest.npages;

			pthread_mutex_lock(&guest.lock);
			pattern_fill(guest.mem + i * BLOCK_SIZE, MEM_MAGIC, i,
				     ++guest.gen[i]);
			guest.writes++;
			pthread_mutex_unlock(&guest.lock);
		}
	}
	return arg;
}

/*
 * Checks every page against gen[], page by page under the lock (the writer
 * goes on in between). Returns the number of bad pages and says what the
 * first one holds in why; *gen_total is the sum of gen[] seen.
 */
uint64_t mem_check(uint64_t *gen_total, char *why, size_t len)
{
	uint64_t i, bad = 0, total = 0;

	for (i = 0; i < guest.npages; i++) {
		const uint8_t *page = guest.mem + i * BLOCK_SIZE;

		pthread_mutex_lock(&guest.lock);
		total += guest.gen[i];
		if (pattern_diff(page, MEM_MAGIC, i, guest.gen[i]) >= 0 &&
		    !bad++) {
			char what[160];

			pattern_explain(what, sizeof(what), page, MEM_MAGIC,
					i, guest.gen[i]);
			snprintf(why, len, "page %" PRIu64 ": want gen %" PRIu64
				 ", %s", i, guest.gen[i], what);
		}
		pthread_mutex_unlock(&guest.lock);
	}
	*gen_total = total;
	return bad;
}

uint64_t mem_gen_total(void)
{
	uint64_t i, total = 0;

	pthread_mutex_lock(&guest.lock);
	for (i = 0; i < guest.npages; i++)
		total += guest.gen[i];
	pthread_mutex_unlock(&guest.lock);
	return total;
}

/* The guest-physical frame of region page PAGE, or -errno. */
int64_t mem_pfn(uint64_t page)
{
	uintptr_t va = (uintptr_t)(guest.mem + page * BLOCK_SIZE);
	uint64_t entry;
	ssize_t n;
	int fd;

	if (page >= guest.npages)
		return -ERANGE;
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return -errno;
	n = pread(fd, &entry, sizeof(entry), va / BLOCK_SIZE * sizeof(entry));
	if (n < 0)
		n = -errno;
	close(fd);
	if (n != sizeof(entry))
		return n < 0 ? n : -EIO;
	/* Without CAP_SYS_ADMIN the kernel hides the PFN as 0. */
	if (!(entry & PAGEMAP_PRESENT) || !(entry & PAGEMAP_PFN))
		return -ENOENT;
	return entry & PAGEMAP_PFN;
}
