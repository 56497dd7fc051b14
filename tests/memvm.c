// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "memvm.h"

int memvm_create(struct memvm *vm)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	memset(vm, 0, sizeof(*vm));
	vm->fd = -1;
	if (kvm < 0)
		return -errno;
	vm->fd = ioctl(kvm, KVM_CREATE_VM, 0);
	close(kvm);
	return vm->fd < 0 ? -errno : 0;
}

static int memvm_set_region(struct memvm *vm, unsigned int i, uint32_t flags)
{
	struct kvm_userspace_memory_region region = {
		.slot = (uint32_t)vm->slots[i].as_id << 16 | i,
		.flags = flags,
		.guest_phys_addr = vm->slots[i].gpa,
		.memory_size = vm->slots[i].size,
		.userspace_addr = (uintptr_t)vm->slots[i].mem,
	};

	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) ? -errno : 0;
}

int memvm_add_slot_as(struct memvm *vm, uint16_t as_id, uint64_t gpa,
		      uint64_t size, uint8_t fill)
{
	struct memvm_slot *slot = &vm->slots[vm->nr_slots];
	void *mem;

	if (vm->nr_slots == MEMVM_MAX_SLOTS)
		return -ENOSPC;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return -errno;
	memset(mem, fill, size);
	*slot = (struct memvm_slot){ .as_id = as_id, .gpa = gpa, .size = size,
				     .mem = mem };
	vm->nr_slots++;
	return memvm_set_region(vm, vm->nr_slots - 1, 0);
}

int memvm_add_slot(struct memvm *vm, uint64_t gpa, uint64_t size,
		   uint8_t fill)
{
	return memvm_add_slot_as(vm, 0, gpa, size, fill);
}

int memvm_add_alias(struct memvm *vm, uint16_t as_id, unsigned int of)
{
	if (vm->nr_slots == MEMVM_MAX_SLOTS)
		return -ENOSPC;
	vm->slots[vm->nr_slots] = vm->slots[of];
	vm->slots[vm->nr_slots].as_id = as_id;
	vm->slots[vm->nr_slots].alias = true;
	vm->nr_slots++;
	return memvm_set_region(vm, vm->nr_slots - 1, 0);
}

int memvm_set_flags(struct memvm *vm, unsigned int i, uint32_t flags)
{
	return memvm_set_region(vm, i, flags);
}

void memvm_destroy(struct memvm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_slots; i++)
		if (!vm->slots[i].alias)
			munmap(vm->slots[i].mem, vm->slots[i].size);
	if (vm->fd >= 0)
		close(vm->fd);
	vm->nr_slots = 0;
	vm->fd = -1;
}

int tcp_pair(int fds[2])
{
	struct sockaddr_in addr = { .sin_family = AF_INET,
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	int listener = socket(AF_INET, SOCK_STREAM, 0);
	int err = 0;

	if (listener < 0)
		return -errno;
	if (bind(listener, (void *)&addr, sizeof(addr)) ||
	    listen(listener, 1) || getsockname(listener, (void *)&addr, &len)) {
		err = -errno;
		goto out;
	}
	fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	if (fds[0] < 0 || connect(fds[0], (void *)&addr, sizeof(addr))) {
		err = -errno;
		goto out;
	}
	fds[1] = accept(listener, NULL, NULL);
	if (fds[1] < 0)
		err = -errno;
out:
	close(listener);
	return err;
}
