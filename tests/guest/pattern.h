/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The contents shm-guest expects: of a page of its memory region, of a block
 * of its disk, of its echo stream. Everything is a function of where it is
 * and which version it is, so a check needs no copy to compare against, and
 * the host can make the disk image with the same code (--make-disk).
 *
 * A 4 KiB block of kind MAGIC (memory or disk), number ID, generation GEN:
 *   word 0   MAGIC ^ ID         what it is, in plain sight: a failed check
 *   word 1   ~MAGIC ^ GEN       can name the page or version it found
 *   word W   splitmix64 of (MAGIC, ID, GEN, W): no two blocks or versions
 *            alike, so no stale or misplaced copy passes.
 */
#ifndef _SHM_GUEST_PATTERN_H
#define _SHM_GUEST_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLOCK_SIZE	4096
#define BLOCK_WORDS	(BLOCK_SIZE / 8)

/* Different per kind: a disk block is never taken for a memory page. */
#define MEM_MAGIC	0x53484d2d4d454d00ULL	/* "SHM-MEM" */
#define DISK_MAGIC	0x53484d2d44534b00ULL	/* "SHM-DSK" */
#define ECHO_MAGIC	0x53484d2d45434800ULL	/* "SHM-ECH" */

static inline uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static inline uint64_t pattern_seed(uint64_t magic, uint64_t id, uint64_t gen)
{
	return splitmix64(splitmix64(magic ^ id) ^ gen);
}

/* Word W of the block; SEED is pattern_seed() of the same three. */
static inline uint64_t pattern_word(uint64_t magic, uint64_t seed, uint64_t id,
				    uint64_t gen, unsigned int w)
{
	if (w == 0)
		return magic ^ id;
	if (w == 1)
		return ~magic ^ gen;
	return splitmix64(seed + w * 0x9e3779b97f4a7c15ULL);
}

static inline void pattern_fill(void *block, uint64_t magic, uint64_t id,
				uint64_t gen)
{
	uint64_t seed = pattern_seed(magic, id, gen), *p = block;
	unsigned int w;

	for (w = 0; w < BLOCK_WORDS; w++)
		p[w] = pattern_word(magic, seed, id, gen, w);
}

/*
 * The first word of BLOCK that is not as expected, or -1. Volatile: what
 * the host or a device writes behind our back is what we are looking for.
 */
static inline int pattern_diff(const void *block, uint64_t magic, uint64_t id,
			       uint64_t gen)
{
	const volatile uint64_t *p = block;
	uint64_t seed = pattern_seed(magic, id, gen);
	unsigned int w;

	for (w = 0; w < BLOCK_WORDS; w++)
		if (p[w] != pattern_word(magic, seed, id, gen, w))
			return w;
	return -1;
}

/*
 * Says in BUF what BLOCK holds instead of version GEN of ID of kind MAGIC:
 * "found gen G" (another version of it), "found page J gen G" or "found
 * disk block J" (a whole block of someone else's), else the first bad word.
 */
void pattern_explain(char *buf, size_t len, const void *block, uint64_t magic,
		     uint64_t id, uint64_t gen);

/* Byte N of the echo stream. */
static inline uint8_t echo_byte(uint64_t n)
{
	return splitmix64(ECHO_MAGIC ^ (n / 8)) >> (n % 8 * 8);
}

#endif
