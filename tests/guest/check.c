// SPDX-License-Identifier: GPL-2.0
/*
 * The self-check: every page of the region holds its generation, every
 * slot its block. Asked for on the control port, and run every few
 * seconds on its own, which says something on the console only when it
 * fails: a guest that broke while nobody asked still leaves a trace.
 */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>
#include "guest.h"

unsigned int check_interval = 5;

void check_all(struct check_result *r)
{
	char mem_why[256], disk_why[256];
	uint64_t bad_pages, bad_slots;

	bad_pages = mem_check(&r->gen_total, mem_why, sizeof(mem_why));
	bad_slots = disk_check(&r->slots, disk_why, sizeof(disk_why));
	r->pages = guest.npages;
	r->ok = !bad_pages && !bad_slots;
	if (bad_pages)
		snprintf(r->why, sizeof(r->why), "%s (%" PRIu64 " bad pages, %"
			 PRIu64 " bad slots)", mem_why, bad_pages, bad_slots);
	else if (bad_slots)
		snprintf(r->why, sizeof(r->why), "%s (%" PRIu64 " bad slots)",
			 disk_why, bad_slots);

	pthread_mutex_lock(&guest.lock);
	guest.checks++;
	guest.fails += !r->ok;
	pthread_mutex_unlock(&guest.lock);
}

void *check_loop(void *arg)
{
	struct check_result r;

	for (;;) {
		sleep(check_interval);
		check_all(&r);
		if (!r.ok)
			printf("shm-guest: FAIL %s\n", r.why);
	}
	return arg;
}
