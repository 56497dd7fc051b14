// SPDX-License-Identifier: GPL-2.0
/*
 * x86-64 long mode from the first instruction: no firmware, no real mode.
 * The page tables, GDT and TSS are written into guest RAM (abi.h), so they
 * move with it; the control registers and segments go into the vCPUs.
 * RAM is identity-mapped with 2 MiB pages, or 1 GiB pages if asked.
 * There is no IDT: a guest exception is a triple fault, KVM_EXIT_SHUTDOWN.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include "vmm.h"

#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PS		(1ULL << 7)

#define CR0_PE		(1ULL << 0)
#define CR0_MP		(1ULL << 1)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define CR4_OSFXSR	(1ULL << 9)
#define CR4_OSXMMEXCPT	(1ULL << 10)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

#define CPUID_EXT_PDPE1GB	(1U << 26)	/* 0x80000001 edx */

/* What KVM supports, as is: the guest needs nothing beyond long mode. */
void x86_set_cpuid(struct vm *vm, struct vcpu *v)
{
	static struct kvm_cpuid2 *cpuid;
	unsigned int i, n = 64;

	while (!cpuid) {
		cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
		cpuid->nent = n;
		if (!ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid))
			break;
		if (errno != E2BIG)
			die("KVM_GET_SUPPORTED_CPUID: %m");
		free(cpuid);
		cpuid = NULL;
		n *= 2;
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, cpuid))
		die("KVM_SET_CPUID2 on vCPU %u: %m", v->id);
	if (!vm->cfg.gib_pages)
		return;
	for (i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 0x80000001 &&
		    cpuid->entries[i].edx & CPUID_EXT_PDPE1GB)
			return;
	die("1 GiB pages: not supported by this CPU (pdpe1gb)");
}

void x86_setup_memory(struct vm *vm)
{
	uint64_t gibs = (vm->cfg.ram_size + GIB - 1) / GIB;
	uint64_t *pml4 = vm_gpa(vm, GUEST_PML4_GPA);
	uint64_t *pdpt = vm_gpa(vm, GUEST_PDPT_GPA);
	uint64_t *gdt = vm_gpa(vm, GUEST_GDT_GPA);
	uint64_t i, j, pd_gpa, *pd;

	if (!vm->cfg.gib_pages && gibs > GUEST_MAX_PDS)
		die("more than %d GiB of RAM needs 1 GiB pages", GUEST_MAX_PDS);
	pml4[0] = GUEST_PDPT_GPA | PTE_P | PTE_RW;
	for (i = 0; i < gibs; i++) {
		if (vm->cfg.gib_pages) {
			pdpt[i] = (i * GIB) | PTE_P | PTE_RW | PTE_PS;
			continue;
		}
		pd_gpa = GUEST_PD_GPA + i * GUEST_PAGE_SIZE;
		pd = vm_gpa(vm, pd_gpa);
		pdpt[i] = pd_gpa | PTE_P | PTE_RW;
		for (j = 0; j < 512; j++)
			pd[j] = (i * GIB + j * 2 * MIB) | PTE_P | PTE_RW | PTE_PS;
	}

	/* Flat 64-bit code, flat data, and a 64-bit TSS (two slots). */
	gdt[GUEST_SEL_CODE / 8] = 0x00af9b000000ffffULL;
	gdt[GUEST_SEL_DATA / 8] = 0x00cf93000000ffffULL;
	gdt[GUEST_SEL_TSS / 8] = 0x67 | (GUEST_TSS_GPA & 0xffffff) << 16 |
		0x8bULL << 40 | (GUEST_TSS_GPA >> 24 & 0xff) << 56;
	gdt[GUEST_SEL_TSS / 8 + 1] = GUEST_TSS_GPA >> 32;
}

/* The kvm_segment view of the GDT entries above. */
static void segment(struct kvm_segment *s, uint16_t selector)
{
	memset(s, 0, sizeof(*s));
	s->selector = selector;
	s->present = 1;
	switch (selector) {
	case GUEST_SEL_CODE:
		s->limit = 0xffffffff;
		s->type = 0xb;
		s->s = 1;
		s->l = 1;
		s->g = 1;
		break;
	case GUEST_SEL_DATA:
		s->limit = 0xffffffff;
		s->type = 0x3;
		s->s = 1;
		s->db = 1;
		s->g = 1;
		break;
	case GUEST_SEL_TSS:
		s->base = GUEST_TSS_GPA;
		s->limit = 0x67;
		s->type = 0xb;
		break;
	}
}

/* Every vCPU starts in guest_main(id) on its own stack. */
void x86_setup_vcpu(struct vm *vm, struct vcpu *v)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs))
		die("KVM_GET_SREGS: %m");
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_PG;
	sregs.cr3 = GUEST_PML4_GPA;
	sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs.efer = EFER_LME | EFER_LMA;
	segment(&sregs.cs, GUEST_SEL_CODE);
	segment(&sregs.ds, GUEST_SEL_DATA);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	segment(&sregs.tr, GUEST_SEL_TSS);
	memset(&sregs.ldt, 0, sizeof(sregs.ldt));
	sregs.ldt.unusable = 1;
	sregs.gdt.base = GUEST_GDT_GPA;
	sregs.gdt.limit = (GUEST_SEL_TSS + 16) - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs))
		die("KVM_SET_SREGS: %m");

	regs.rflags = 0x2;
	regs.rip = GUEST_CODE_GPA;
	regs.rdi = v->id;
	/* As after a call: the ABI wants rsp + 8 16-byte aligned at entry. */
	regs.rsp = GUEST_STACK_GPA + (v->id + 1) * GUEST_STACK_SIZE - 8;
	if (ioctl(v->fd, KVM_SET_REGS, &regs))
		die("KVM_SET_REGS: %m");
}
