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
};

/* The KVM VM a session is attached to. */
struct shm_vm {
	/* The VM's file: keeps the VM (not its VMM) alive while we hold it. */
	struct file *file;
	struct kvm *kvm;
	struct shm_memslot *slots;
	unsigned int nr_slots;
	u64 pages;
	u64 generation[SHM_KVM_ADDRESS_SPACES];
};

int shm_vm_attach(struct shm_vm *vm, int fd, struct netlink_ext_ack *extack);
void shm_vm_detach(struct shm_vm *vm);

/* Whether the VMM changed its memslots since the session attached. */
bool shm_vm_slots_changed(struct shm_vm *vm);

/*
 * The memslot holding @count pages from @gfn in address space @as_id, or
 * NULL: how the destination checks every page the wire names.
 */
const struct shm_memslot *shm_vm_find_slot(const struct shm_vm *vm,
					   u16 as_id, u64 gfn, u64 count);

/*
 * KVM's VM ioctls insist on being called from the VMM's address space: a
 * kernel thread adopts it (as vhost does) around them and around accesses
 * to guest memory. Fails with -ESRCH once the VMM has exited.
 */
int shm_vm_use_mm(struct shm_vm *vm);
void shm_vm_unuse_mm(struct shm_vm *vm);
long shm_vm_ioctl(struct shm_vm *vm, unsigned int cmd, void __user *arg);

/* True if no vCPU of the VM is inside KVM_RUN (or any vCPU ioctl). */
bool shm_vm_vcpus_stopped(struct shm_vm *vm);

#endif /* _SHM_VM_H */
