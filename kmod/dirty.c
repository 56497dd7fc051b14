// SPDX-License-Identifier: GPL-2.0
/*
 * What to send each round: KVM's dirty log, plus what the VMM reports.
 *
 * KVM's log works in both of its modes: the classic one, where
 * KVM_GET_DIRTY_LOG returns the bits and re-protects the pages, and manual
 * protection (KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, as QEMU enables it), where
 * GET only reads and KVM_CLEAR_DIRTY_LOG re-protects. Either way a page
 * written after its bit was taken is dirty again next time.
 *
 * KVM's log only sees the vCPUs' writes. What the VMM writes into guest
 * memory itself (device emulation, vhost) the VMM reports, as QEMU keeps
 * its own bitmap for its own migration: SHM_CMD_SESSION_DIRTY sets bits in
 * slot->reported, which every harvest takes over. Reports are exact and
 * race-free; soft-dirty tracking through procfs cannot be on 6.1, whose
 * pagemap has no atomic read-and-clear (PAGEMAP_SCAN came in 6.7).
 */

#include <linux/bitmap.h>
#include <linux/mman.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "dirty.h"
#include "holes.h"

/* The ioctl argument lives in the user buffer, after the bitmap. */
union shm_dirty_args {
	struct kvm_dirty_log get;
	struct kvm_clear_dirty_log clear;
	struct kvm_userspace_memory_region region;
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
	return log->ubuf + log->ubuf_size - sizeof(union shm_dirty_args);
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
	int err;

	if (copy_to_user(uarg, &region, sizeof(region)))
		return -EFAULT;
	err = shm_vm_ioctl(log->vm, KVM_SET_USER_MEMORY_REGION, uarg);
	if (!err)
		slot->flags = region.flags;
	return err;
}

static int shm_dirty_alloc(struct shm_memslot *slot)
{
	slot->dirty = kvcalloc(BITS_TO_LONGS(slot->npages), sizeof(long),
			       GFP_KERNEL);
	slot->reported = kvcalloc(BITS_TO_LONGS(slot->npages), sizeof(long),
				  GFP_KERNEL);
	return slot->dirty && slot->reported ? 0 : -ENOMEM;
}

static void shm_dirty_free(struct shm_memslot *slot)
{
	kvfree(slot->dirty);
	kvfree(slot->reported);
	kvfree(slot->holes);
	slot->dirty = NULL;
	slot->reported = NULL;
	slot->holes = NULL;
}

/* Round 1's holes, where the slot's memory has them (or none: no harm). */
static void shm_dirty_find_holes(struct shm_vm *vm, struct shm_memslot *slot)
{
	slot->holes = kvcalloc(BITS_TO_LONGS(slot->npages), sizeof(long),
			       GFP_KERNEL);
	if (slot->holes)
		shm_holes_find(vm->mm, slot->hva, slot->npages, slot->holes);
}

/* The user buffer must hold the bitmap of the largest slot. */
static int shm_dirty_fit_buffer(struct shm_dirty_log *log)
{
	struct shm_vm *vm = log->vm;
	u64 largest = 0;
	unsigned long addr;
	unsigned int i;
	size_t size;

	for (i = 0; i < vm->nr_slots; i++)
		largest = max(largest, vm->slots[i].npages);
	size = PAGE_ALIGN(shm_bitmap_bytes(largest) +
			  sizeof(union shm_dirty_args));
	if (size <= log->ubuf_size)
		return 0;
	addr = vm_mmap(NULL, 0, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (IS_ERR_VALUE(addr))
		return addr;
	if (log->ubuf)
		vm_munmap((unsigned long)log->ubuf, log->ubuf_size);
	log->ubuf = (void __user *)addr;
	log->ubuf_size = size;
	return 0;
}

/* A slot we have not seen logging before: log it, and send it whole. */
static int shm_dirty_adopt(struct shm_dirty_log *log, struct shm_memslot *slot)
{
	int err = shm_dirty_alloc(slot);

	if (err)
		return err;
	bitmap_fill(slot->dirty, slot->npages);
	if (slot->flags & KVM_MEM_LOG_DIRTY_PAGES)
		return 0;
	slot->logging_ours = true;
	return shm_dirty_set_logging(log, slot, true);
}

/* Reads (and in manual mode clears) one slot's log into slot->dirty. */
static int shm_dirty_harvest_slot(struct shm_dirty_log *log,
				  struct shm_memslot *slot)
{
	size_t bytes = shm_bitmap_bytes(slot->npages);
	void __user *uarg = shm_dirty_args(log);
	struct kvm_dirty_log get = {
		.slot = shm_slot_arg(slot),
		.dirty_bitmap = log->ubuf,
	};
	struct kvm_clear_dirty_log clear = {
		.slot = shm_slot_arg(slot),
		.num_pages = slot->npages,
		.dirty_bitmap = log->ubuf,
	};
	unsigned long *bits;
	size_t i;
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
	/* Reports race with this: take each word whole, atomically. */
	for (i = 0; i < BITS_TO_LONGS(slot->npages); i++)
		slot->dirty[i] |= bits[i] | xchg(&slot->reported[i], 0);
	kvfree(bits);
	return 0;
}

/*
 * One page of the VMM may be guest memory twice: a PC's RAM is in its SMM
 * address space too. It is sent once, as the page of the slot met first
 * (address space 0 before 1), where the destination VMM, configured
 * alike, maps it too; the later slot keeps only what no earlier one maps
 * (SMRAM). Returns the pages left to send.
 */
static u64 shm_dirty_fold_aliases(struct shm_vm *vm)
{
	unsigned long start, end, bit, last;
	struct shm_memslot *a, *b;
	unsigned int i, j;
	u64 pages = 0;

	for (i = 0; i < vm->nr_slots; i++) {
		a = &vm->slots[i];
		for (j = 0; j < i; j++) {
			b = &vm->slots[j];
			start = max(a->hva, b->hva);
			end = min(a->hva + a->npages * PAGE_SIZE,
				  b->hva + b->npages * PAGE_SIZE);
			if (start >= end)
				continue;
			bit = (start - a->hva) >> PAGE_SHIFT;
			last = (end - a->hva) >> PAGE_SHIFT;
			for_each_set_bit_from(bit, a->dirty, last)
				__set_bit((shm_memslot_hva(a, a->base_gfn + bit) -
					   b->hva) >> PAGE_SHIFT, b->dirty);
			bit = (start - a->hva) >> PAGE_SHIFT;
			bitmap_clear(a->dirty, bit, last - bit);
		}
	}
	for (i = 0; i < vm->nr_slots; i++)
		pages += bitmap_weight(vm->slots[i].dirty, vm->slots[i].npages);
	return pages;
}

static bool shm_same_slot(const struct shm_memslot *a,
			  const struct shm_memslot *b)
{
	return a->as_id == b->as_id && a->id == b->id &&
	       a->base_gfn == b->base_gfn && a->npages == b->npages &&
	       a->hva == b->hva && a->flags == b->flags;
}

/*
 * Our own logging changes bumped the memslots' generation: the new one is
 * the baseline if they are the only change. If the VMM changed a slot
 * meanwhile, the old one stays, and the next harvest reads them again.
 */
static void shm_dirty_take_generation(struct shm_vm *vm)
{
	u64 generation[SHM_KVM_ADDRESS_SPACES];
	struct shm_memslot *now;
	unsigned int nr, i;

	if (shm_vm_read_slots(vm, &now, &nr, generation))
		return;
	for (i = 0; nr == vm->nr_slots && i < nr; i++)
		if (!shm_same_slot(&now[i], &vm->slots[i]))
			break;
	if (nr == vm->nr_slots && i == nr)
		memcpy(vm->generation, generation, sizeof(generation));
	kfree(now);
}

/*
 * The VMM changed its memslots. Slots still there as they were keep their
 * bitmaps; new or changed ones (moved, resized, or with logging turned off,
 * which drops KVM's log) are wholly dirty and logged again.
 */
static int shm_dirty_resync(struct shm_dirty_log *log)
{
	struct shm_vm *vm = log->vm;
	struct shm_memslot *slots, *old;
	unsigned int nr, i, j;
	int err;

	err = shm_vm_read_slots(vm, &slots, &nr, vm->generation);
	if (err)
		return err;
	for (i = 0; i < nr; i++) {
		for (j = 0; j < vm->nr_slots; j++) {
			old = &vm->slots[j];
			if (old->dirty && shm_same_slot(old, &slots[i])) {
				swap(slots[i], *old);
				break;
			}
		}
		if (j == vm->nr_slots) {
			err = shm_dirty_adopt(log, &slots[i]);
			if (err)
				break;
		}
	}
	spin_lock(&vm->slots_lock);
	swap(vm->slots, slots);
	swap(vm->nr_slots, nr);
	spin_unlock(&vm->slots_lock);
	for (i = 0; i < nr; i++)
		shm_dirty_free(&slots[i]);
	kfree(slots);
	if (err)
		return err;
	shm_dirty_take_generation(vm);
	return shm_dirty_fit_buffer(log);
}

int shm_dirty_harvest(struct shm_dirty_log *log, u64 *pages)
{
	unsigned int i;
	int err;

	/* Round 1 is over: its holes may hold data by now. */
	for (i = 0; i < log->vm->nr_slots; i++) {
		kvfree(log->vm->slots[i].holes);
		log->vm->slots[i].holes = NULL;
	}
	if (shm_vm_slots_changed(log->vm)) {
		err = shm_dirty_resync(log);
		if (err)
			return err;
	}
	for (i = 0; i < log->vm->nr_slots; i++) {
		err = shm_dirty_harvest_slot(log, &log->vm->slots[i]);
		if (err)
			return err;
	}
	*pages = shm_dirty_fold_aliases(log->vm);
	return 0;
}

void shm_dirty_report(struct shm_vm *vm, unsigned long hva, u64 len)
{
	unsigned long first, last, end = hva + len;
	struct shm_memslot *slot;
	unsigned int i;

	/* One host page may back a gfn in each address space: mark all. */
	spin_lock(&vm->slots_lock);
	for (i = 0; i < vm->nr_slots; i++) {
		slot = &vm->slots[i];
		if (!slot->reported || end <= slot->hva ||
		    hva >= slot->hva + slot->npages * PAGE_SIZE)
			continue;
		first = (max(hva, slot->hva) - slot->hva) >> PAGE_SHIFT;
		last = (min(end, slot->hva + slot->npages * PAGE_SIZE) -
			slot->hva + PAGE_SIZE - 1) >> PAGE_SHIFT;
		while (first < last)
			set_bit(first++, slot->reported);
	}
	spin_unlock(&vm->slots_lock);
}

int shm_dirty_start(struct shm_dirty_log *log, struct shm_vm *vm, u64 *pages)
{
	unsigned int i;
	int err;

	log->vm = vm;
	err = shm_dirty_fit_buffer(log);
	for (i = 0; i < vm->nr_slots && !err; i++)
		err = shm_dirty_adopt(log, &vm->slots[i]);
	if (err)
		return err;
	shm_dirty_take_generation(vm);
	/* Start from a clean log; the first round sends everything anyway. */
	err = shm_dirty_harvest(log, pages);
	if (err)
		return err;
	for (i = 0; i < vm->nr_slots; i++) {
		bitmap_fill(vm->slots[i].dirty, vm->slots[i].npages);
		/* After the log went on: a hole written since is dirty. */
		shm_dirty_find_holes(vm, &vm->slots[i]);
	}
	*pages = shm_dirty_fold_aliases(vm);
	return 0;
}

/*
 * Called with the VMM's address space adopted, or without it if it died.
 * Logging goes off where we turned it on, on the slots still as we know
 * them: KVM_SET_USER_MEMORY_REGION with what a slot was would move, or
 * bring back, one the VMM has changed since.
 */
void shm_dirty_stop(struct shm_dirty_log *log)
{
	struct shm_vm *vm = log->vm;
	struct shm_memslot *now = NULL;
	unsigned int i, j, nr = 0;

	if (!vm)
		return;
	if (log->ubuf && shm_vm_read_slots(vm, &now, &nr, NULL))
		nr = 0;
	for (i = 0; i < vm->nr_slots; i++) {
		for (j = 0; vm->slots[i].logging_ours && j < nr; j++) {
			if (shm_same_slot(&now[j], &vm->slots[i])) {
				shm_dirty_set_logging(log, &vm->slots[i], false);
				break;
			}
		}
		shm_dirty_free(&vm->slots[i]);
	}
	kfree(now);
	if (log->ubuf)
		vm_munmap((unsigned long)log->ubuf, log->ubuf_size);
	memset(log, 0, sizeof(*log));
}
