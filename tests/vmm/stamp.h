/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Page stamps, shared by the guest (its workloads and self-check) and the
 * VMM (its writer thread, prefill and host-side check): one code, so both
 * sides agree on what a correct page is.
 *
 * Writing generation G into page P stores (STAMP_TAG ^ P, G) at the head
 * and again at the tail of P, then record[P] = G, then folds the change
 * into its range's checksum, csum = XOR of stamp_mix(P, record[P]) over the
 * range. Generations count the range's writes, so no two writes of a range
 * leave the same stamp. The check finds:
 *  - a stale page (a copy missed a write): page and record disagree;
 *  - a torn page (copied while written): head and tail disagree;
 *  - page and record both stale (a copy missed both, consistently): the
 *    checksum, written on every write, no longer matches the records.
 *
 * A vCPU may be paused anywhere, also halfway through a write, and its RAM
 * copied then. So each write is announced in the range's op first; a check
 * accepts the page named there in any state the write passes through, in
 * order, and nothing else.
 *
 * ram is where guest physical address 0 is: 0 in the guest, the VMM's
 * mapping in the host.
 */
#ifndef _SHM_TESTVMM_STAMP_H
#define _SHM_TESTVMM_STAMP_H

#include <stdbool.h>
#include <stdint.h>
#include "abi.h"

#define STAMP_TAG	0x73686d7374616d70ULL	/* "shmstamp" */
#define STAMP_WORDS	(GUEST_PAGE_SIZE / 8)

/* What a failed check found. */
struct stamp_bad {
	uint64_t gfn;			/* the page, or ~0: the checksum */
	uint64_t want, found;		/* generations, or checksums */
	uint64_t tag;			/* head tag found, for a page */
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Keeps the compiler from reordering the steps of a write. */
static inline void stamp_barrier(void)
{
	asm volatile("" : : : "memory");
}

/* splitmix64's finalizer; generation 0 (never written) weighs nothing. */
static inline uint64_t stamp_mix(uint64_t gfn, uint64_t gen)
{
	uint64_t x = gfn * 0x9e3779b97f4a7c15ULL ^ gen;

	if (!gen)
		return 0;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static inline uint64_t *stamp_page(uintptr_t ram, uint64_t gfn)
{
	return (uint64_t *)(ram + gfn * GUEST_PAGE_SIZE);
}

static inline uint64_t *stamp_record(uintptr_t ram)
{
	return (uint64_t *)(ram + GUEST_RECORD_GPA);
}

/* A page's first stamp, generation 0, before the guest runs. */
static inline void stamp_init(uintptr_t ram, uint64_t gfn)
{
	uint64_t *page = stamp_page(ram, gfn);

	page[0] = page[STAMP_WORDS - 2] = STAMP_TAG ^ gfn;
	page[1] = page[STAMP_WORDS - 1] = 0;
	stamp_record(ram)[gfn] = 0;
}

/* The next write of range r, into its page gfn. */
static inline void stamp_write(uintptr_t ram, struct stamp_range *r,
			       uint64_t gfn)
{
	uint64_t *page = stamp_page(ram, gfn), *rec = stamp_record(ram) + gfn;
	uint64_t old = *rec, gen = r->count + 1;

	r->op.gfn = gfn;
	r->op.old = old;
	stamp_barrier();
	r->op.gen = gen;
	stamp_barrier();
	page[0] = STAMP_TAG ^ gfn;
	page[1] = gen;
	stamp_barrier();
	page[STAMP_WORDS - 2] = STAMP_TAG ^ gfn;
	page[STAMP_WORDS - 1] = gen;
	stamp_barrier();
	*rec = gen;
	stamp_barrier();
	r->csum ^= stamp_mix(gfn, old) ^ stamp_mix(gfn, gen);
	stamp_barrier();
	r->count = gen;
	stamp_barrier();
	r->op.gen = 0;
}

static inline bool stamp_report(struct stamp_bad *bad, uint64_t gfn,
				uint64_t want, uint64_t found, uint64_t tag)
{
	bad->gfn = gfn;
	bad->want = want;
	bad->found = found;
	bad->tag = tag;
	return false;
}

static inline bool stamp_page_ok(uintptr_t ram, uint64_t gfn, uint64_t want,
				 struct stamp_bad *bad)
{
	const uint64_t *page = stamp_page(ram, gfn);

	if (page[0] != (STAMP_TAG ^ gfn) || page[1] != want)
		return stamp_report(bad, gfn, want, page[1], page[0]);
	if (page[STAMP_WORDS - 2] != (STAMP_TAG ^ gfn) ||
	    page[STAMP_WORDS - 1] != want)
		return stamp_report(bad, gfn, want, page[STAMP_WORDS - 1],
				    page[STAMP_WORDS - 2]);
	return true;
}

/*
 * The steps of the write in flight, given csum of all the other pages: each
 * is done (holds the new value) or not yet (the old one), and none is done
 * after one that is not.
 */
static inline bool stamp_op_steps_ok(uintptr_t ram, const struct stamp_range *r,
				     uint64_t csum, struct stamp_bad *bad)
{
	const struct stamp_op *op = &r->op;
	const uint64_t *page = stamp_page(ram, op->gfn);
	const struct {
		uint64_t gfn, found, old, new;
	} step[] = {
		{ op->gfn, page[1], op->old, op->gen },
		{ op->gfn, page[STAMP_WORDS - 1], op->old, op->gen },
		{ op->gfn, stamp_record(ram)[op->gfn], op->old, op->gen },
		{ ~0ULL, r->csum, csum ^ stamp_mix(op->gfn, op->old),
		  csum ^ stamp_mix(op->gfn, op->gen) },
		{ ~0ULL, r->count, op->gen - 1, op->gen },
	};
	bool done = true;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(step); i++) {
		if (done && step[i].found == step[i].new)
			continue;
		done = false;
		if (step[i].found != step[i].old)
			return stamp_report(bad, step[i].gfn, step[i].old,
					    step[i].found, page[0]);
	}
	return true;
}

static inline bool stamp_op_ok(uintptr_t ram, const struct stamp_range *r,
			       uint64_t csum, struct stamp_bad *bad)
{
	uint64_t gfn = r->op.gfn, *page = stamp_page(ram, gfn);

	if (gfn < r->first || gfn >= r->first + r->nr)
		return stamp_report(bad, gfn, r->op.gen, 0, 0);
	if (page[0] != (STAMP_TAG ^ gfn) || page[STAMP_WORDS - 2] != page[0])
		return stamp_report(bad, gfn, r->op.gen, page[1], page[0]);
	return stamp_op_steps_ok(ram, r, csum, bad);
}

/* Every page of r against the record, then the checksum. */
static inline bool stamp_check(uintptr_t ram, const struct stamp_range *r,
			       struct stamp_bad *bad)
{
	const uint64_t *rec = stamp_record(ram);
	uint64_t gfn, csum = 0;

	for (gfn = r->first; gfn < r->first + r->nr; gfn++) {
		if (r->op.gen && gfn == r->op.gfn)
			continue;
		if (!stamp_page_ok(ram, gfn, rec[gfn], bad))
			return false;
		csum ^= stamp_mix(gfn, rec[gfn]);
	}
	if (r->op.gen)
		return stamp_op_ok(ram, r, csum, bad);
	if (csum != r->csum)
		return stamp_report(bad, ~0ULL, r->csum, csum, 0);
	return true;
}

#endif
