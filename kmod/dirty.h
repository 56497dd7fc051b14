/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHM_DIRTY_H
#define _SHM_DIRTY_H

#include "vm.h"

/*
 * KVM's dirty log, read by a kernel thread that has adopted the VMM's
 * address space (shm_vm_use_mm): the ioctls want their arguments there, so
 * a small buffer is mapped into it for as long as the log is read.
 */
struct shm_dirty_log {
	struct shm_vm *vm;
	void __user *ubuf;
	size_t ubuf_size;
};

/* Turns the log on; every page is dirty (*@pages of them, once each). */
int shm_dirty_start(struct shm_dirty_log *log, struct shm_vm *vm, u64 *pages);
/*
 * ORs into each slot->dirty what the guest dirtied since the last harvest,
 * and what the VMM reported writing: *@pages pages, a page two slots map
 * counted (and sent) once. Memslots the VMM changed meanwhile are read
 * again; a new or changed one is wholly dirty.
 */
int shm_dirty_harvest(struct shm_dirty_log *log, u64 *pages);
/* Pages the VMM wrote from user space at [@hva, @hva + @len). */
void shm_dirty_report(struct shm_vm *vm, unsigned long hva, u64 len);
void shm_dirty_stop(struct shm_dirty_log *log);

#endif /* _SHM_DIRTY_H */
