// SPDX-License-Identifier: GPL-2.0
/*
 * The VM: /dev/kvm, the VM fd, guest RAM and its memslots, the vCPU fds.
 *
 * RAM is one shared mapping of a memfd or of a file (say on /dev/shm), gpa
 * 0 at offset 0, cut into cfg.nr_slots memslots of equal size (the last one
 * takes the rest). A shared file lets another process read or fill the RAM,
 * as a test does to copy it into a destination VM; and it is what QEMU uses
 * for the RAM shm migrates.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "vmm.h"

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("shm-testvmm: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

int vm_error(struct vm *vm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vm->err, sizeof(vm->err), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * A source starts from zeroed RAM; a destination keeps what the file holds,
 * so its RAM may also be filled before it starts.
 */
static void vm_ram_create(struct vm *vm)
{
	const struct vm_config *cfg = &vm->cfg;

	if (cfg->mem_path)
		vm->ram_fd = open(cfg->mem_path, O_RDWR | O_CREAT | O_CLOEXEC |
				  (cfg->incoming ? 0 : O_TRUNC), 0600);
	else
		vm->ram_fd = memfd_create("shm-testvmm", MFD_CLOEXEC);
	if (vm->ram_fd < 0)
		die("guest RAM %s: %m", cfg->mem_path ?: "memfd");
	if (ftruncate(vm->ram_fd, cfg->ram_size))
		die("guest RAM to %llu MiB: %m",
		    (unsigned long long)(cfg->ram_size / MIB));
	vm->ram = mmap(NULL, cfg->ram_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->ram_fd, 0);
	if (vm->ram == MAP_FAILED)
		die("mmap of guest RAM: %m");
	vm->ram_pages = cfg->ram_size / GUEST_PAGE_SIZE;
}

static void vm_memslots(struct vm *vm)
{
	uint64_t size = vm->cfg.ram_size / vm->cfg.nr_slots & ~(2 * MIB - 1);
	struct kvm_userspace_memory_region slot = { 0 };
	unsigned int i;

	for (i = 0; i < vm->cfg.nr_slots; i++) {
		slot.slot = i;
		slot.guest_phys_addr = i * size;
		slot.memory_size = i + 1 < vm->cfg.nr_slots ? size :
			vm->cfg.ram_size - i * size;
		slot.userspace_addr = (uintptr_t)vm_gpa(vm, i * size);
		if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &slot))
			die("memslot %u: %m", i);
	}
}

static void vcpu_create(struct vm *vm, struct vcpu *v, unsigned int id)
{
	int size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);

	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0 || size < 0)
		die("vCPU %u: %m", id);
	v->run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED)
		die("mmap of vCPU %u's kvm_run: %m", id);
	x86_set_cpuid(vm, v);
}

void vm_create(struct vm *vm, const struct vm_config *cfg)
{
	unsigned int i;

	vm->cfg = *cfg;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		die("/dev/kvm: %m");
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		die("unexpected KVM API version");
	vm->fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		die("KVM_CREATE_VM: %m");
	if (cfg->manual_protect) {
		/* As QEMU does: before any memslot, whose log starts all set. */
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
			.args[0] = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE |
				   KVM_DIRTY_LOG_INITIALLY_SET,
		};

		if (ioctl(vm->fd, KVM_ENABLE_CAP, &cap))
			die("KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: %m");
	}
	vm_ram_create(vm);
	vm_memslots(vm);
	for (i = 0; i < cfg->nr_vcpus; i++)
		vcpu_create(vm, &vm->vcpus[i], i);
}
