/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHM_VM_H
#define _SHM_VM_H

#include <linux/kvm_host.h>
#include <net/netlink.h>

/* One memslot of the VM, as it was when the session attached. */
struct shm_memslot {
	u16 as_id;
	u16 id;
	u32 flags;
	u64 base_gfn;
	u64 npages;
	unsigned long hva;
	/* Source: the pages to send in the current round. */
	unsigned long *dirty;
	/* Source: pages the VMM reported writing (SHM_CMD_SESSION_DIRTY). */
	unsigned long *reported;
	/*
	 * Source, round 1 only: pages that were holes (holes.h) once the
	 * dirty log was on. They go as zero without a look; one written
	 * since is dirty for round 2, and these are gone by then.
	 */
	unsigned long *holes;
	/* We turned KVM's dirty logging on, and turn it off at the end. */
	bool logging_ours;
};

/* The KVM VM a session is attached to. */
struct shm_vm {
	/* The VM's file: keeps the VM (not its VMM) alive while we hold it. */
	struct file *file;
	struct kvm *kvm;
	/* The VMM's address space, held (mmget) while attached. */
	struct mm_struct *mm;
	/*
	 * Replaced only between rounds, by the control thread, under
	 * @slots_lock; the engine's threads read them without it, anyone
	 * else with it.
	 */
	spinlock_t slots_lock;
	struct shm_memslot *slots;
	unsigned int nr_slots;
	u64 generation[SHM_KVM_ADDRESS_SPACES];
};

int shm_vm_attach(struct shm_vm *vm, int fd, struct netlink_ext_ack *extack);
void shm_vm_detach(struct shm_vm *vm);

/* Whether the VMM changed its memslots since they were last read. */
bool shm_vm_slots_changed(struct shm_vm *vm);
/* Reads the memslots afresh, with their generations, into a new array. */
int shm_vm_read_slots(struct shm_vm *vm, struct shm_memslot **slots,
		      unsigned int *nr, u64 *generation);
u64 shm_vm_pages(const struct shm_vm *vm);

/* The VMM's address of page @gfn, which @slot holds. */
static inline unsigned long shm_memslot_hva(const struct shm_memslot *slot,
					    u64 gfn)
{
	return slot->hva + (gfn - slot->base_gfn) * PAGE_SIZE;
}

/*
 * The memslot holding @count pages from @gfn in address space @as_id, or
 * NULL: how the destination checks every page the wire names.
 */
const struct shm_memslot *shm_vm_find_slot(const struct shm_vm *vm,
					   u16 as_id, u64 gfn, u64 count);

/*
 * KVM's VM ioctls insist on being called from the VMM's address space: a
 * kernel thread adopts it (as vhost does) around them and around accesses
 * to guest memory. It outlives the VMM for as long as we are attached.
 */
void shm_vm_use_mm(struct shm_vm *vm);
void shm_vm_unuse_mm(struct shm_vm *vm);
/* Whether every task of the VMM has exited (killed, or quit). */
bool shm_vm_vmm_exited(struct shm_vm *vm);
long shm_vm_ioctl(struct shm_vm *vm, unsigned int cmd, void __user *arg);

/* True if no vCPU of the VM is inside KVM_RUN (or any vCPU ioctl). */
bool shm_vm_vcpus_stopped(struct shm_vm *vm);

#endif /* _SHM_VM_H */
