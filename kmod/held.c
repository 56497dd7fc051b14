// SPDX-License-Identifier: GPL-2.0
/*
 * Held pages (held.h). Each page of the source goes down one stream (its
 * gfn's shard), so a later round's copy of a page replaces the earlier
 * one in order; the xarray's own lock covers the streams' stores.
 */

#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/uaccess.h>

#include "held.h"
#include "holes.h"

#define SHM_HELD_ZERO	xa_mk_value(0)

static unsigned long shm_held_key(u16 as_id, u64 gfn)
{
	return (unsigned long)as_id << SHM_HELD_GFN_BITS | gfn;
}

void shm_held_init(struct shm_held *held, unsigned int max)
{
	xa_init(&held->pages);
	atomic_set(&held->nr, 0);
	held->max = max;
}

void shm_held_free(struct shm_held *held)
{
	unsigned long key;
	void *entry;

	xa_for_each(&held->pages, key, entry) {
		if (!xa_is_value(entry))
			__free_page(entry);
	}
	xa_destroy(&held->pages);
	atomic_set(&held->nr, 0);
}

static int shm_held_check(u16 as_id, u64 gfn, u32 count)
{
	if (as_id >= SHM_KVM_ADDRESS_SPACES ||
	    gfn > BIT_ULL(SHM_HELD_GFN_BITS) - count)
		return -ERANGE;
	return 0;
}

/* Holds @page (NULL: a zero page) for @as_id and @gfn, or frees it. */
static int shm_held_store(struct shm_held *held, u16 as_id, u64 gfn,
			  struct page *page)
{
	void *old;

	old = xa_store(&held->pages, shm_held_key(as_id, gfn),
		       page ?: SHM_HELD_ZERO, GFP_KERNEL);
	if (xa_is_err(old)) {
		if (page)
			__free_page(page);
		return xa_err(old);
	}
	if (old && !xa_is_value(old))
		__free_page(old);
	if (!old && atomic_inc_return(&held->nr) > held->max)
		return -E2BIG;
	return 0;
}

int shm_held_recv(struct shm_held *held, struct shm_stream *stream,
		  u16 as_id, u64 gfn, u32 count, bool zero)
{
	struct page *page = NULL;
	u32 i;
	int err;

	err = shm_held_check(as_id, gfn, count);
	for (i = 0; !err && i < count; i++) {
		if (!zero) {
			page = alloc_page(GFP_KERNEL);
			if (!page)
				return -ENOMEM;
			err = shm_stream_recv_page(stream, page);
			if (err) {
				__free_page(page);
				return err;
			}
		}
		err = shm_held_store(held, as_id, gfn + i, page);
	}
	return err;
}

int shm_held_copy(struct shm_held *held, u16 as_id, u64 gfn,
		  const void *data)
{
	struct page *page;
	int err;

	err = shm_held_check(as_id, gfn, 1);
	if (err)
		return err;
	page = alloc_page(GFP_KERNEL);
	if (!page)
		return -ENOMEM;
	memcpy_to_page(page, 0, data, PAGE_SIZE);
	return shm_held_store(held, as_id, gfn, page);
}

/*
 * Writes @page (NULL: a zero page) at @hva of the address space in use,
 * as recv.c writes what arrives: a hole that would be cleared is left.
 */
static int shm_held_write(const struct shm_vm *vm, unsigned long hva,
			  struct page *page)
{
	void __user *to = (void __user *)hva;
	unsigned long left;
	void *data;

	if (!page)
		return shm_holes_only(vm->mm, hva, PAGE_SIZE) ||
		       !clear_user(to, PAGE_SIZE) ? 0 : -EFAULT;
	data = kmap_local_page(page);
	left = copy_to_user(to, data, PAGE_SIZE);
	kunmap_local(data);
	return left ? -EFAULT : 0;
}

int shm_held_settle(struct shm_held *held, unsigned int index,
		    unsigned int nr_streams, const struct shm_vm *vm,
		    struct shm_held *rest)
{
	const struct shm_memslot *slot;
	struct page *page;
	unsigned long key;
	void *entry;
	u16 as_id;
	u64 gfn;
	int err;

	xa_for_each(&held->pages, key, entry) {
		as_id = key >> SHM_HELD_GFN_BITS;
		gfn = key & (BIT_ULL(SHM_HELD_GFN_BITS) - 1);
		if (shm_wire_shard(gfn, nr_streams) != index)
			continue;
		xa_erase(&held->pages, key);
		atomic_dec(&held->nr);
		page = xa_is_value(entry) ? NULL : entry;
		slot = shm_vm_find_slot(vm, as_id, gfn, 1);
		if (!slot) {
			err = shm_held_store(rest, as_id, gfn, page);
		} else {
			err = shm_held_write(vm, shm_memslot_hva(slot, gfn),
					     page);
			if (page)
				__free_page(page);
		}
		if (err)
			return err;
	}
	return 0;
}

/*
 * Whether @place lies inside one mapping of the VMM that also maps a
 * writable memslot: the VM's own memory, not anything else of the VMM's.
 * Called with the VMM's mmap lock held.
 */
static bool shm_held_place_ok(struct shm_vm *vm, const struct shm_place *place)
{
	struct vm_area_struct *vma = find_vma(vm->mm, place->hva);
	unsigned int i;

	if (!vma || vma->vm_start > place->hva ||
	    place->len > vma->vm_end - place->hva || !(vma->vm_flags & VM_WRITE))
		return false;
	for (i = 0; i < vm->nr_slots; i++) {
		if (vm->slots[i].hva >= vma->vm_start &&
		    vm->slots[i].hva < vma->vm_end)
			return true;
	}
	return false;
}

/* Where the page at @as_id, @gfn goes in the VMM, or 0 if nowhere. */
static unsigned long shm_held_where(struct shm_vm *vm, u16 as_id, u64 gfn,
				    const struct shm_place *places,
				    unsigned int nr_places)
{
	const struct shm_memslot *slot;
	u64 gpa = gfn << PAGE_SHIFT;
	unsigned int i;

	for (i = 0; i < nr_places; i++) {
		if (places[i].as_id == as_id && gpa >= places[i].gpa &&
		    gpa - places[i].gpa < places[i].len)
			return places[i].hva + (gpa - places[i].gpa);
	}
	slot = shm_vm_find_slot(vm, as_id, gfn, 1);
	return slot ? shm_memslot_hva(slot, gfn) : 0;
}

int shm_held_place(struct shm_held *held, struct shm_vm *vm,
		   const struct shm_place *places, unsigned int nr_places,
		   struct netlink_ext_ack *extack)
{
	unsigned long key, hva;
	struct page *page;
	unsigned int i;
	void *entry;
	int err = 0;

	mmap_read_lock(vm->mm);
	for (i = 0; i < nr_places; i++) {
		if (!shm_held_place_ok(vm, &places[i])) {
			NL_SET_ERR_MSG(extack, "a place is not inside the VMM's mapping of the VM's memory");
			err = -EINVAL;
			goto out;
		}
	}
	xa_for_each(&held->pages, key, entry) {
		hva = shm_held_where(vm, key >> SHM_HELD_GFN_BITS,
				     key & (BIT_ULL(SHM_HELD_GFN_BITS) - 1),
				     places, nr_places);
		if (!hva) {
			NL_SET_ERR_MSG(extack, "a page of the source has no place in the VM's memory: the two VMs' memory maps differ");
			err = -ENXIO;
			goto out;
		}
		if (shm_compat_pin_page_remote(vm->mm, hva, &page) != 1) {
			NL_SET_ERR_MSG(extack, "cannot write a held page into the VM's memory");
			err = -EFAULT;
			goto out;
		}
		if (xa_is_value(entry))
			clear_highpage(page);
		else
			copy_highpage(page, entry);
		unpin_user_pages_dirty_lock(&page, 1, true);
	}
out:
	mmap_read_unlock(vm->mm);
	if (!err)
		shm_held_free(held);
	return err;
}
