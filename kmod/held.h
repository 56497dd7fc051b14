/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Held pages (destination): pages for guest addresses the destination VM
 * does not map yet. A VMM maps some of guest memory as its devices say
 * (a PC's shadowed BIOS area, SMRAM): until the source's device state is
 * restored, the destination's memslots lack addresses the source's have.
 * Pages for those wait here, bounded, and are written before the VMM
 * loads that state, where it says it keeps that memory
 * (SHM_CMD_SESSION_PLACE). One without a place fails the migration before
 * the VM runs.
 *
 * Before there is a VM at all (a session attached while its VMM starts,
 * SHM_CMD_SESSION_ATTACH_VM), every page waits, in a store of its own:
 * once the VM is there, each stream settles its shard's share of it.
 */
#ifndef _SHM_HELD_H
#define _SHM_HELD_H

#include <linux/xarray.h>
#include <net/netlink.h>
#include <shm/netlink.h>
#include <shm/wire.h>

#include "stream.h"
#include "vm.h"

/* 16 MiB: far more than the few windows a PC remaps. */
#define SHM_HELD_MAX_PAGES	4096
/*
 * Before the VM: streams stop reading there (recv.c), so each adds one
 * frame at most past it.
 */
#define SHM_HELD_EARLY_PAGES	(SHM_EARLY_BYTES >> PAGE_SHIFT)
#define SHM_HELD_EARLY_MAX_PAGES \
	(SHM_HELD_EARLY_PAGES + SHM_MAX_STREAMS * SHM_WIRE_MAX_RUN)
/* Guest frame numbers of 52-bit physical addresses, x86's most. */
#define SHM_HELD_GFN_BITS	40

struct shm_held {
	/* (as_id, gfn) -> struct page *, or a value entry for a zero page. */
	struct xarray pages;
	atomic_t nr;
	unsigned int max;	/* pages; -E2BIG past it */
};

void shm_held_init(struct shm_held *held, unsigned int max);
void shm_held_free(struct shm_held *held);

/*
 * Receives @count pages from @stream (a zero run: none) for @as_id and
 * @gfn into @held. -E2BIG past its max, -ERANGE for an address no VM can
 * have.
 */
int shm_held_recv(struct shm_held *held, struct shm_stream *stream,
		  u16 as_id, u64 gfn, u32 count, bool zero);
/* Holds a copy of the page at @data, as shm_held_recv() does. */
int shm_held_copy(struct shm_held *held, u16 as_id, u64 gfn,
		  const void *data);

/*
 * Takes out of @held the pages of stream @index's shard (of @nr_streams)
 * and writes each where a memslot of @vm maps it, or else moves it to
 * @rest. From a thread that uses the VMM's address space (shm_vm_use_mm).
 */
int shm_held_settle(struct shm_held *held, unsigned int index,
		    unsigned int nr_streams, const struct shm_vm *vm,
		    struct shm_held *rest);

/* Where the VMM keeps some guest-physical memory (SHM_CMD_SESSION_PLACE). */
struct shm_place {
	u16 as_id;
	u64 gpa, len;
	unsigned long hva;
};

/*
 * Writes every held page into @vm, where one of @places says, or else
 * where a writable memslot maps it, and lets go of them. Each place must
 * lie inside the VMM's mapping of the VM's memory.
 */
int shm_held_place(struct shm_held *held, struct shm_vm *vm,
		   const struct shm_place *places, unsigned int nr_places,
		   struct netlink_ext_ack *extack);

#endif /* _SHM_HELD_H */
