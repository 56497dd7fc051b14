// SPDX-License-Identifier: GPL-2.0
/*
 * Harvesting KVM's dirty log. Works with both of KVM's modes: the classic
 * one, where KVM_GET_DIRTY_LOG returns the bits and re-protects the pages,
 * and manual protection (KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, as QEMU enables
 * it), where GET only reads and KVM_CLEAR_DIRTY_LOG re-protects. Either
 * way a page written after its bit was taken is dirty again next time.
 */

#include <linux/bitmap.h>
#include <linux/mman.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "dirty.h"

/* Where the ioctl arguments live in the user buffer, bitmap first. */
struct shm_dirty_args {
	union {
		struct kvm_dirty_log get;
		struct kvm_clear_dirty_log clear;
		struct kvm_userspace_memory_region region;
	};
};

static size_t shm_bitmap_bytes(u64 npages)
{
	return BITS_TO_LONGS(npages) * sizeof(long);
}

static u32 shm_slot_arg(const struct shm_memslot *slot)
{
	return (u32)slot->as_id << 16 | slot->id;
}

static void __user *shm_dirty_args(struct shm_dirty_log *log)
{
	return log->ubuf + log->ubuf_size - sizeof(struct shm_dirty_args);
}

static int shm_dirty_set_logging(struct shm_dirty_log *log,
				 struct shm_memslot *slot, bool on)
{
	struct kvm_userspace_memory_region region = {
		.slot = shm_slot_arg(slot),
		.flags = on ? slot->flags | KVM_MEM_LOG_DIRTY_PAGES :
			      slot->flags & ~KVM_MEM_LOG_DIRTY_PAGES,
		.guest_phys_addr = slot->base_gfn << PAGE_SHIFT,
		.memory_size = slot->npages << PAGE_SHIFT,
		.userspace_addr = slot->hva,
	};
	void __user *uarg = shm_dirty_args(log);

	if (copy_to_user(uarg, &region, sizeof(region)))
		return -EFAULT;
	return shm_vm_ioctl(log->vm, KVM_SET_USER_MEMORY_REGION, uarg);
}

/* Reads (and in manual mode clears) one slot's log into slot->dirty. */
static int shm_dirty_harvest_slot(struct shm_dirty_log *log,
				  struct shm_memslot *slot, u64 *pages)
{
	size_t bytes = shm_bitmap_bytes(slot->npages);
	void __user *uarg = shm_dirty_args(log);
	unsigned long *bits;
	struct kvm_dirty_log get = {
		.slot = shm_slot_arg(slot),
		.dirty_bitmap = log->ubuf,
	};
	struct kvm_clear_dirty_log clear = {
		.slot = shm_slot_arg(slot),
		.num_pages = slot->npages,
		.dirty_bitmap = log->ubuf,
	};
	long ret;

	if (copy_to_user(uarg, &get, sizeof(get)))
		return -EFAULT;
	ret = shm_vm_ioctl(log->vm, KVM_GET_DIRTY_LOG, uarg);
	if (ret)
		return ret;
	/* Re-protect exactly the pages we take: the rest keep their bits. */
	if (log->vm->kvm->manual_dirty_log_protect) {
		if (copy_to_user(uarg, &clear, sizeof(clear)))
			return -EFAULT;
		ret = shm_vm_ioctl(log->vm, KVM_CLEAR_DIRTY_LOG, uarg);
		if (ret)
			return ret;
	}

	bits = kvmalloc(bytes, GFP_KERNEL);
	if (!bits)
		return -ENOMEM;
	if (copy_from_user(bits, log->ubuf, bytes)) {
		kvfree(bits);
		return -EFAULT;
	}
	*pages += bitmap_weight(bits, slot->npages);
	bitmap_or(slot->dirty, slot->dirty, bits, slot->npages);
	kvfree(bits);
	return 0;
}

int shm_dirty_harvest(struct shm_dirty_log *log, u64 *pages)
{
	unsigned int i;
	int err;

	*pages = 0;
	if (shm_vm_slots_changed(log->vm))
		return -ESTALE;
	for (i = 0; i < log->vm->nr_slots; i++) {
		err = shm_dirty_harvest_slot(log, &log->vm->slots[i], pages);
		if (err)
			return err;
	}
	return 0;
}

int shm_dirty_start(struct shm_dirty_log *log, struct shm_vm *vm)
{
	u64 largest = 0, discarded;
	struct shm_memslot *slot;
	unsigned int i;
	int err;

	log->vm = vm;
	for (i = 0; i < vm->nr_slots; i++) {
		slot = &vm->slots[i];
		largest = max(largest, slot->npages);
		slot->dirty = kvcalloc(BITS_TO_LONGS(slot->npages),
				       sizeof(long), GFP_KERNEL);
		if (!slot->dirty)
			return -ENOMEM;
	}
	log->enabled = bitmap_zalloc(vm->nr_slots, GFP_KERNEL);
	if (!log->enabled)
		return -ENOMEM;

	log->ubuf_size = PAGE_ALIGN(shm_bitmap_bytes(largest) +
				    sizeof(struct shm_dirty_args));
	log->ubuf = (void __user *)vm_mmap(NULL, 0, log->ubuf_size,
					   PROT_READ | PROT_WRITE,
					   MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (IS_ERR((void *)log->ubuf)) {
		err = PTR_ERR((void *)log->ubuf);
		log->ubuf = NULL;
		return err;
	}

	for (i = 0; i < vm->nr_slots; i++) {
		slot = &vm->slots[i];
		if (slot->flags & KVM_MEM_LOG_DIRTY_PAGES)
			continue;
		err = shm_dirty_set_logging(log, slot, true);
		if (err)
			return err;
		set_bit(i, log->enabled);
	}
	/* The slot changes above were ours: they are the new baseline. */
	for (i = 0; i < SHM_KVM_ADDRESS_SPACES; i++)
		vm->generation[i] = __kvm_memslots(vm->kvm, i)->generation;

	/* Start from a clean log; the first round sends everything anyway. */
	err = shm_dirty_harvest(log, &discarded);
	if (err)
		return err;
	shm_dirty_mark_all(vm);
	return 0;
}

void shm_dirty_mark_all(struct shm_vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_slots; i++)
		bitmap_fill(vm->slots[i].dirty, vm->slots[i].npages);
}

/* Called with the VMM's address space adopted, or without it if it died. */
void shm_dirty_stop(struct shm_dirty_log *log)
{
	struct shm_vm *vm = log->vm;
	unsigned int i;

	if (!vm)
		return;
	if (log->ubuf && current->mm) {
		for (i = 0; i < vm->nr_slots; i++)
			if (log->enabled && test_bit(i, log->enabled))
				shm_dirty_set_logging(log, &vm->slots[i], false);
		vm_munmap((unsigned long)log->ubuf, log->ubuf_size);
	}
	bitmap_free(log->enabled);
	for (i = 0; i < vm->nr_slots; i++) {
		kvfree(vm->slots[i].dirty);
		vm->slots[i].dirty = NULL;
	}
	memset(log, 0, sizeof(*log));
}
