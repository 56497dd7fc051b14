/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHM_HOLES_H
#define _SHM_HOLES_H

#include <linux/mm_types.h>
#include <linux/types.h>

/*
 * Holes in a VMM's guest RAM. Where that RAM is a shared mapping of a tmpfs
 * file (a memory-backend-file in /dev/shm, a memfd, shared anonymous
 * memory), a page nobody wrote has no page behind it and reads as zeros.
 * Reading or clearing it through the mapping would allocate one: host
 * memory, and time, spent on a page that holds nothing. The file itself
 * says where its holes are (SEEK_HOLE, SEEK_DATA). Memory of any other
 * kind has no holes as far as these know.
 *
 * Both take the VMM's mmap lock for reading: not with it held.
 */

/* Sets in @holes the pages of the @npages from @hva that are holes. */
void shm_holes_find(struct mm_struct *mm, unsigned long hva, u64 npages,
		    unsigned long *holes);
/* Whether [@hva, @hva + @len) is all hole (page-aligned). */
bool shm_holes_only(struct mm_struct *mm, unsigned long hva, u64 len);

#endif /* _SHM_HOLES_H */
