// SPDX-License-Identifier: GPL-2.0
/*
 * Attaching to a KVM VM by its file descriptor: its memslots, its VMM's
 * address space, and its VM ioctls, all through what KVM exports.
 */

#include <linux/file.h>
#include <linux/kthread.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "vm.h"

/* Counts (with @slots NULL) or records the guest memory of @memslots. */
static unsigned int shm_vm_walk_slots(struct kvm_memslots **memslots,
				      struct shm_memslot *slots)
{
	struct kvm_memory_slot *slot;
	unsigned int n = 0;
	int as_id, bkt;

	for (as_id = 0; as_id < SHM_KVM_ADDRESS_SPACES; as_id++) {
		kvm_for_each_memslot(slot, bkt, memslots[as_id]) {
			/* KVM's own slots (APIC page, TSS): not guest RAM. */
			if (slot->id >= KVM_USER_MEM_SLOTS)
				continue;
			/*
			 * ROM: the guest cannot write it, and the VMM loads
			 * (and migrates) its own.
			 */
			if (slot->flags & KVM_MEM_READONLY)
				continue;
			if (slots)
				slots[n] = (struct shm_memslot) {
					.as_id = as_id,
					.id = slot->id,
					.flags = slot->flags,
					.base_gfn = slot->base_gfn,
					.npages = slot->npages,
					.hva = slot->userspace_addr,
				};
			n++;
		}
	}
	return n;
}

int shm_vm_read_slots(struct shm_vm *vm, struct shm_memslot **slotsp,
		      unsigned int *nr, u64 *generation)
{
	struct kvm_memslots *memslots[SHM_KVM_ADDRESS_SPACES];
	struct kvm *kvm = vm->kvm;
	struct shm_memslot *slots;
	unsigned int n;
	int as_id, idx;

	/*
	 * One version of each address space's memslots, which SRCU keeps
	 * while the VMM installs newer ones: counted and copied alike.
	 */
	idx = srcu_read_lock(&kvm->srcu);
	for (as_id = 0; as_id < SHM_KVM_ADDRESS_SPACES; as_id++) {
		memslots[as_id] = __kvm_memslots(kvm, as_id);
		if (generation)
			generation[as_id] = memslots[as_id]->generation;
	}
	n = shm_vm_walk_slots(memslots, NULL);
	slots = kcalloc(n, sizeof(*slots), GFP_KERNEL);
	if (slots)
		shm_vm_walk_slots(memslots, slots);
	srcu_read_unlock(&kvm->srcu, idx);
	if (!slots)
		return -ENOMEM;
	*slotsp = slots;
	*nr = n;
	return 0;
}

u64 shm_vm_pages(const struct shm_vm *vm)
{
	u64 pages = 0;
	unsigned int i;

	for (i = 0; i < vm->nr_slots; i++)
		pages += vm->slots[i].npages;
	return pages;
}

int shm_vm_attach(struct shm_vm *vm, int fd, struct netlink_ext_ack *extack)
{
	int err;

	vm->file = fget(fd);
	if (!vm->file) {
		NL_SET_ERR_MSG(extack, "the VM file descriptor is not open");
		return -EBADF;
	}
	if (!file_is_kvm(vm->file)) {
		NL_SET_ERR_MSG(extack, "the file descriptor is not a KVM VM");
		err = -EINVAL;
		goto fail;
	}
	vm->kvm = vm->file->private_data;
	/*
	 * KVM holds only mmgrab() on its VMM's address space; we hold it
	 * whole, as vhost does, for as long as we are attached.
	 */
	if (!mmget_not_zero(vm->kvm->mm)) {
		NL_SET_ERR_MSG(extack, "the VMM of the VM has exited");
		err = -ESRCH;
		goto fail;
	}
	vm->mm = vm->kvm->mm;
	if (READ_ONCE(vm->kvm->dirty_ring_size)) {
		NL_SET_ERR_MSG(extack, "the VM uses the KVM dirty ring, which shm cannot harvest: use the dirty log");
		err = -EOPNOTSUPP;
		goto fail;
	}
	spin_lock_init(&vm->slots_lock);
	err = shm_vm_read_slots(vm, &vm->slots, &vm->nr_slots,
				vm->generation);
	if (err)
		goto fail;
	if (!shm_vm_pages(vm)) {
		NL_SET_ERR_MSG(extack, "the VM has no guest memory");
		err = -EINVAL;
		goto fail;
	}
	return 0;
fail:
	shm_vm_detach(vm);
	return err;
}

void shm_vm_detach(struct shm_vm *vm)
{
	kfree(vm->slots);
	if (vm->mm)
		mmput(vm->mm);
	if (vm->file)
		fput(vm->file);
	memset(vm, 0, sizeof(*vm));
}

bool shm_vm_slots_changed(struct shm_vm *vm)
{
	struct kvm *kvm = vm->kvm;
	bool changed = false;
	int as_id, idx;

	idx = srcu_read_lock(&kvm->srcu);
	for (as_id = 0; as_id < SHM_KVM_ADDRESS_SPACES; as_id++)
		changed |= __kvm_memslots(kvm, as_id)->generation !=
			   vm->generation[as_id];
	srcu_read_unlock(&kvm->srcu, idx);
	return changed;
}

const struct shm_memslot *shm_vm_find_slot(const struct shm_vm *vm,
					   u16 as_id, u64 gfn, u64 count)
{
	const struct shm_memslot *slot;
	unsigned int i;

	for (i = 0; i < vm->nr_slots; i++) {
		slot = &vm->slots[i];
		if (slot->as_id == as_id && gfn >= slot->base_gfn &&
		    gfn - slot->base_gfn < slot->npages &&
		    count <= slot->npages - (gfn - slot->base_gfn))
			return slot;
	}
	return NULL;
}

void shm_vm_use_mm(struct shm_vm *vm)
{
	kthread_use_mm(vm->mm);
}

void shm_vm_unuse_mm(struct shm_vm *vm)
{
	kthread_unuse_mm(vm->mm);
}

bool shm_vm_vmm_exited(struct shm_vm *vm)
{
	/* Every task of the VMM held a user; ours is the one left. */
	return atomic_read(&vm->mm->mm_users) <= 1;
}

long shm_vm_ioctl(struct shm_vm *vm, unsigned int cmd, void __user *arg)
{
	return vm->file->f_op->unlocked_ioctl(vm->file, cmd,
					      (unsigned long)arg);
}

bool shm_vm_vcpus_stopped(struct shm_vm *vm)
{
	struct kvm_vcpu *vcpu;
	unsigned long i;

	/* A vCPU inside KVM_RUN holds its mutex for as long as it runs. */
	kvm_for_each_vcpu(i, vcpu, vm->kvm) {
		if (!mutex_trylock(&vcpu->mutex))
			return false;
		mutex_unlock(&vcpu->mutex);
	}
	return true;
}
