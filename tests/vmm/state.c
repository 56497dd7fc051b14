// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU state to a file and back: what a migration carries besides RAM.
 *
 * Per vCPU: general and special registers (control registers, segments,
 * descriptor tables, EFER), pending events, XCRs, the XSAVE area (FPU and
 * SSE) and the MSRs that long mode and the TSC need. No debug registers, no
 * nested state, no mp_state: the guest uses none of them, and without an
 * in-kernel irqchip a vCPU is always runnable.
 *
 * Also the writer's counters, as the VMM's "device state". The writer keeps
 * them in guest RAM, which only a copy that carries the VMM's own writes
 * brings along: a restore whose RAM disagrees with the file is refused.
 *
 * The file is raw structs: for the same VMM binary on the same machine.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "vmm.h"

#define STATE_MAGIC	"SHMVMST1"

static const uint32_t state_msr_index[] = {
	0x00000010,	/* TSC */
	0x00000174,	/* SYSENTER_CS */
	0x00000175,	/* SYSENTER_ESP */
	0x00000176,	/* SYSENTER_EIP */
	0x000001a0,	/* MISC_ENABLE */
	0x00000277,	/* PAT */
	0xc0000081,	/* STAR */
	0xc0000082,	/* LSTAR */
	0xc0000083,	/* CSTAR */
	0xc0000084,	/* SYSCALL_MASK */
	0xc0000102,	/* KERNEL_GS_BASE */
};
#define STATE_NR_MSRS	ARRAY_SIZE(state_msr_index)

struct state_header {
	char magic[8];
	uint32_t nr_vcpus, pad;
	uint64_t ram_size;
	struct stamp_range writer;
};

struct state_vcpu {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_vcpu_events events;
	struct kvm_xcrs xcrs;
	struct kvm_xsave xsave;
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entry[STATE_NR_MSRS];
	} msrs;
};

/* Both ways through the same table, so that save and restore agree. */
static int state_vcpu_io(struct vm *vm, struct vcpu *v, struct state_vcpu *s,
			 bool save)
{
	const struct {
		const char *name;
		unsigned long get, set;
		void *arg;
	} op[] = {
		{ "sregs", KVM_GET_SREGS, KVM_SET_SREGS, &s->sregs },
		{ "xcrs", KVM_GET_XCRS, KVM_SET_XCRS, &s->xcrs },
		{ "xsave", KVM_GET_XSAVE, KVM_SET_XSAVE, &s->xsave },
		{ "events", KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS, &s->events },
		{ "regs", KVM_GET_REGS, KVM_SET_REGS, &s->regs },
	};
	unsigned int i;
	int r;

	for (i = 0; i < ARRAY_SIZE(op); i++)
		if (ioctl(v->fd, save ? op[i].get : op[i].set, op[i].arg))
			return vm_error(vm, "vCPU %u: %s %s: %m", v->id,
					save ? "get" : "set", op[i].name);
	if (save) {
		s->msrs.hdr.nmsrs = STATE_NR_MSRS;
		for (i = 0; i < STATE_NR_MSRS; i++)
			s->msrs.entry[i].index = state_msr_index[i];
	}
	/* KVM_[GS]ET_MSRS stop at the first MSR they cannot do. */
	r = ioctl(v->fd, save ? KVM_GET_MSRS : KVM_SET_MSRS, &s->msrs);
	if (r != STATE_NR_MSRS)
		return vm_error(vm, "vCPU %u: %s MSR %#x: %s", v->id,
				save ? "get" : "set",
				r < 0 ? 0 : s->msrs.entry[r].index,
				r < 0 ? strerror(errno) : "refused");
	return 0;
}

static int state_check_paused(struct vm *vm)
{
	if (!vm_paused(vm))
		return vm_error(vm, "pause the VM first");
	return 0;
}

int state_save(struct vm *vm, const char *path)
{
	struct state_header hdr = { STATE_MAGIC, vm->cfg.nr_vcpus, 0,
				    vm->cfg.ram_size, vm_params(vm)->writer };
	struct state_vcpu s;
	unsigned int i;
	FILE *f;

	if (state_check_paused(vm))
		return -1;
	f = fopen(path, "we");
	if (!f)
		return vm_error(vm, "%s: %m", path);
	fwrite(&hdr, sizeof(hdr), 1, f);
	for (i = 0; i < vm->cfg.nr_vcpus; i++) {
		memset(&s, 0, sizeof(s));
		if (state_vcpu_io(vm, &vm->vcpus[i], &s, true)) {
			fclose(f);
			return -1;
		}
		fwrite(&s, sizeof(s), 1, f);
	}
	if (ferror(f) | fclose(f))
		return vm_error(vm, "writing %s: %m", path);
	return 0;
}

/* The writer must carry on where the source's stopped, from the same RAM. */
static int state_check_writer(struct vm *vm, const struct stamp_range *saved)
{
	const struct stamp_range *w = &vm_params(vm)->writer;

	if (w->nr != vm->cfg.writer_pages || saved->nr != w->nr)
		return vm_error(vm, "writer pages: %llu here, %llu in the file, %llu in RAM",
				(unsigned long long)vm->cfg.writer_pages,
				(unsigned long long)saved->nr,
				(unsigned long long)w->nr);
	if (memcmp(w, saved, sizeof(*w)))
		return vm_error(vm, "writer: %llu writes in RAM, %llu saved: the VMM's own writes did not all arrive",
				(unsigned long long)w->count,
				(unsigned long long)saved->count);
	return 0;
}

int state_restore(struct vm *vm, const char *path)
{
	struct state_header hdr;
	struct state_vcpu s;
	unsigned int i;
	int ret = -1;
	FILE *f;

	if (state_check_paused(vm))
		return -1;
	f = fopen(path, "re");
	if (!f)
		return vm_error(vm, "%s: %m", path);
	if (fread(&hdr, sizeof(hdr), 1, f) != 1 ||
	    memcmp(hdr.magic, STATE_MAGIC, sizeof(hdr.magic))) {
		vm_error(vm, "%s: not a state file", path);
		goto out;
	}
	if (hdr.nr_vcpus != vm->cfg.nr_vcpus || hdr.ram_size != vm->cfg.ram_size) {
		vm_error(vm, "%s: %u vCPUs and %llu MiB, not %u and %llu", path,
			 hdr.nr_vcpus, (unsigned long long)(hdr.ram_size / MIB),
			 vm->cfg.nr_vcpus,
			 (unsigned long long)(vm->cfg.ram_size / MIB));
		goto out;
	}
	if (state_check_writer(vm, &hdr.writer))
		goto out;
	for (i = 0; i < vm->cfg.nr_vcpus; i++) {
		if (fread(&s, sizeof(s), 1, f) != 1) {
			vm_error(vm, "%s: cut short", path);
			goto out;
		}
		if (state_vcpu_io(vm, &vm->vcpus[i], &s, false))
			goto out;
	}
	vm->restored = true;
	ret = 0;
out:
	fclose(f);
	return ret;
}
