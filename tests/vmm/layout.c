// SPDX-License-Identifier: GPL-2.0
/*
 * A source VM's guest RAM before its first instruction: the guest program,
 * its parameters, each vCPU's pages and the writer's, and a first stamp
 * (generation 0) in every one of those pages, so that a page a copy missed
 * altogether (still zero) fails the check as surely as a stale one.
 */
#include <string.h>
#include <sys/ioctl.h>
#include "vmm.h"

extern const uint8_t guest_bin[], guest_bin_end[];

static void layout_prefill(struct vm *vm, const struct stamp_range *r)
{
	uint64_t gfn;

	for (gfn = r->first; gfn < r->first + r->nr; gfn++)
		stamp_init((uintptr_t)vm->ram, gfn);
}

void layout_load(struct vm *vm)
{
	const struct vm_config *cfg = &vm->cfg;
	struct guest_params *p = vm_params(vm);
	uint64_t record_end = GUEST_RECORD_GPA + vm->ram_pages * 8;
	uint64_t first = (record_end + 2 * MIB - 1) / (2 * MIB) * (2 * MIB) /
		GUEST_PAGE_SIZE;
	uint64_t per_vcpu, size = guest_bin_end - guest_bin;
	int khz = ioctl(vm->vcpus[0].fd, KVM_GET_TSC_KHZ, 0);
	unsigned int i;

	if (size > GUEST_CODE_MAX)
		die("guest image of %llu bytes does not fit", (unsigned long long)size);
	memcpy(vm_gpa(vm, GUEST_CODE_GPA), guest_bin, size);
	if (first + cfg->writer_pages + cfg->nr_vcpus > vm->ram_pages)
		die("%llu MiB of RAM leave no page for the workload",
		    (unsigned long long)(cfg->ram_size / MIB));
	per_vcpu = (vm->ram_pages - first - cfg->writer_pages) / cfg->nr_vcpus;
	if (cfg->span > per_vcpu || cfg->hot > (cfg->span ?: per_vcpu))
		die("span %llu, hot %llu: each vCPU has %llu pages",
		    (unsigned long long)cfg->span, (unsigned long long)cfg->hot,
		    (unsigned long long)per_vcpu);
	if (khz <= 0)
		die("KVM_GET_TSC_KHZ: %m");

	p->ram_pages = vm->ram_pages;
	p->tsc_khz = khz;
	p->workload = cfg->workload;
	p->nr_vcpus = cfg->nr_vcpus;
	p->rate = cfg->rate;
	p->span = cfg->span ?: per_vcpu;
	p->hot = cfg->hot;
	p->beacon = !!cfg->beacon_to;
	for (i = 0; i < cfg->nr_vcpus; i++) {
		struct guest_vcpu *gv = vm_guest_vcpu(vm, i);

		gv->range.first = first + i * per_vcpu;
		gv->range.nr = per_vcpu;
		gv->rng = cfg->seed + i ?: 1;	/* xorshift's one bad seed */
		layout_prefill(vm, &gv->range);
	}
	p->writer.first = first + cfg->nr_vcpus * per_vcpu;
	p->writer.nr = cfg->writer_pages;
	layout_prefill(vm, &p->writer);
}
