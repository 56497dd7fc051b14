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
	/* Slots whose logging we turned on, to turn it off again. */
	unsigned long *enabled;
};

int shm_dirty_start(struct shm_dirty_log *log, struct shm_vm *vm);
/* ORs what the guest dirtied since the last harvest into each slot->dirty. */
int shm_dirty_harvest(struct shm_dirty_log *log, u64 *pages);
void shm_dirty_stop(struct shm_dirty_log *log);

/* Every page of every slot in slot->dirty, as for the first round. */
void shm_dirty_mark_all(struct shm_vm *vm);

#endif /* _SHM_DIRTY_H */
