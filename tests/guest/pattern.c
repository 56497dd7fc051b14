// SPDX-License-Identifier: GPL-2.0
/*
 * What a failed check found, in words: most bugs of a migration leave a
 * whole block of the wrong version or of the wrong place, which words 0
 * and 1 of every block name (pattern.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include "pattern.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static const struct {
	uint64_t magic;
	const char *name;
} kinds[] = {
	{ MEM_MAGIC, "page" },
	{ DISK_MAGIC, "disk block" },
};

void pattern_explain(char *buf, size_t len, const void *block, uint64_t magic,
		     uint64_t id, uint64_t gen)
{
	/* Read once each: the host or a device may be writing it. */
	const volatile uint64_t *p = block;
	uint64_t w0 = p[0], w1 = p[1];
	unsigned int k;
	int w;

	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		uint64_t fid = w0 ^ kinds[k].magic, fgen = w1 ^ ~kinds[k].magic;

		if (pattern_diff(block, kinds[k].magic, fid, fgen) >= 0)
			continue;
		if (kinds[k].magic == magic && fid == id)
			snprintf(buf, len, "found gen %" PRIu64, fgen);
		else if (kinds[k].magic == DISK_MAGIC)
			snprintf(buf, len, "found %s %" PRIu64, kinds[k].name, fid);
		else
			snprintf(buf, len, "found %s %" PRIu64 " gen %" PRIu64,
				 kinds[k].name, fid, fgen);
		return;
	}
	w = pattern_diff(block, magic, id, gen);
	if (w < 0) {
		/* Rewritten since: by the host, or a device's late DMA. */
		snprintf(buf, len, "found it right on a second look");
		return;
	}
	snprintf(buf, len, "word %d is 0x%016" PRIx64 ", want 0x%016" PRIx64,
		 w, p[w], pattern_word(magic, pattern_seed(magic, id, gen), id,
				       gen, w));
}
