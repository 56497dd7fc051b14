/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A KVM VM with guest memory and no vCPU, and TCP on loopback: all that
 * moving memory between two VMs needs, for tests and benchmarks.
 */
#ifndef _SHM_TESTS_MEMVM_H
#define _SHM_TESTS_MEMVM_H

#include <stdbool.h>
#include <stdint.h>

#define MEMVM_MAX_SLOTS 4

struct memvm {
	int fd;
	unsigned int nr_slots;
	struct memvm_slot {
		uint16_t as_id;
		bool alias;	/* @mem is another slot's */
		uint64_t gpa, size;
		uint8_t *mem;
	} slots[MEMVM_MAX_SLOTS];
};

int memvm_create(struct memvm *vm);
/* A new memslot (the next id) of @size bytes at @gpa, every byte @fill. */
int memvm_add_slot(struct memvm *vm, uint64_t gpa, uint64_t size,
		   uint8_t fill);
/* The same in address space @as_id (x86: 1 is SMM's). */
int memvm_add_slot_as(struct memvm *vm, uint16_t as_id, uint64_t gpa,
		      uint64_t size, uint8_t fill);
/*
 * Slot @of's memory once more, at the same address in address space
 * @as_id: as a PC's RAM is in its SMM address space too.
 */
int memvm_add_alias(struct memvm *vm, uint16_t as_id, unsigned int of);
/* KVM_SET_USER_MEMORY_REGION again for slot @i, with other @flags. */
int memvm_set_flags(struct memvm *vm, unsigned int i, uint32_t flags);
void memvm_destroy(struct memvm *vm);

/* A connected TCP pair on loopback. */
int tcp_pair(int fds[2]);

#endif /* _SHM_TESTS_MEMVM_H */
