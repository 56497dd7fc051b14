// SPDX-License-Identifier: GPL-2.0
/*
 * The disk reader: random 4 KiB blocks of the disk, read with O_DIRECT into
 * a pool of slots, so that the device writes guest memory by DMA while the
 * guest runs, as a migration must expect. Block b of the disk holds
 * version 0 of disk block b (pattern.h); each slot records which block it
 * holds, and the self-check compares.
 *
 * The host makes the image with the same pattern: shm-guest --make-disk.
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

int disk_init(const char *path)
{
	off_t size;
	int s;

	for (s = 0; s < NR_SLOTS; s++)
		guest.slot_block[s] = SLOT_EMPTY;
	guest.disk_fd = -1;
	if (!path)
		return 0;
	guest.disk_fd = open(path, O_RDONLY | O_DIRECT);
	if (guest.disk_fd < 0) {
		fprintf(stderr, "shm-guest: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size = lseek(guest.disk_fd, 0, SEEK_END);
	if (size < BLOCK_SIZE) {
		fprintf(stderr, "shm-guest: %s: no block to read\n", path);
		return -1;
	}
	guest.disk_path = path;
	guest.nblocks = size / BLOCK_SIZE;
	/* Page aligned, as O_DIRECT wants; locked like the region. */
	guest.slots = mmap(NULL, NR_SLOTS * BLOCK_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (guest.slots == MAP_FAILED) {
		perror("shm-guest: disk slots");
		return -1;
	}
	mlock(guest.slots, NR_SLOTS * BLOCK_SIZE);
	return 0;
}

/*
 * A slot is marked empty while its read is under way, and gets its block
 * once the read is done: the lock is not held across the I/O, which a
 * migration may stall.
 */
static void disk_read(unsigned int s, uint64_t block)
{
	uint8_t *slot = guest.slots + (size_t)s * BLOCK_SIZE;
	ssize_t n;

	pthread_mutex_lock(&guest.lock);
	guest.slot_block[s] = SLOT_EMPTY;
	pthread_mutex_unlock(&guest.lock);

	n = pread(guest.disk_fd, slot, BLOCK_SIZE, block * BLOCK_SIZE);

	pthread_mutex_lock(&guest.lock);
	if (n == BLOCK_SIZE) {
		guest.slot_block[s] = block;
		guest.reads++;
	} else {
		guest.read_errors++;
		guest.read_errno = n < 0 ? errno : EIO;
	}
	pthread_mutex_unlock(&guest.lock);
}

void *disk_reader(void *arg)
{
	struct pace pace = { 0 };
	uint64_t s = now_ns() | 1;
	unsigned int slot = 0;

	for (;;) {
		uint64_t n = pace_due(&pace, &guest.disk_rate);

		while (n--) {
			/* splitmix64 as a generator: its state is a counter. */
			disk_read(slot, splitmix64(s++) % guest.nblocks);
			slot = (slot + 1) % NR_SLOTS;
		}
	}
	return arg;
}

/*
 * Checks every slot that holds a block, all under the lock (a slot is not
 * rewritten while checked: its read marks it empty first). Returns the
 * number of bad slots and says what the first one holds in why, or a read
 * error; *slots is the number of slots checked.
 */
uint64_t disk_check(uint64_t *slots, char *why, size_t len)
{
	uint64_t bad = 0, checked = 0;
	unsigned int s;

	if (guest.disk_fd < 0) {
		*slots = 0;
		return 0;
	}
	pthread_mutex_lock(&guest.lock);
	for (s = 0; s < NR_SLOTS; s++) {
		const uint8_t *slot = guest.slots + (size_t)s * BLOCK_SIZE;
		uint64_t b = guest.slot_block[s];

		if (b == SLOT_EMPTY)
			continue;
		checked++;
		if (pattern_diff(slot, DISK_MAGIC, b, 0) >= 0 && !bad++) {
			char what[160];

			pattern_explain(what, sizeof(what), slot, DISK_MAGIC,
					b, 0);
			snprintf(why, len, "slot %u: want block %" PRIu64 ", %s",
				 s, b, what);
		}
	}
	/* A read the device failed is a failure of the disk as we see it. */
	if (!bad && guest.read_errors) {
		snprintf(why, len, "disk %s: %" PRIu64 " failed reads, the last: %s",
			 guest.disk_path, guest.read_errors,
			 strerror(guest.read_errno));
		bad = 1;
	}
	pthread_mutex_unlock(&guest.lock);
	*slots = checked;
	return bad;
}

/* On the host: the image the guest's disk must hold, MIB MiB of it. */
int disk_make(const char *path, uint64_t mib)
{
	static uint64_t block[BLOCK_WORDS];
	uint64_t b, n = (mib << 20) / BLOCK_SIZE;
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "shm-guest: %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (b = 0; b < n; b++) {
		pattern_fill(block, DISK_MAGIC, b, 0);
		if (fwrite(block, sizeof(block), 1, f) != 1)
			break;
	}
	if (fclose(f) || b < n) {
		fprintf(stderr, "shm-guest: writing %s failed\n", path);
		unlink(path);
		return 1;
	}
	return 0;
}
