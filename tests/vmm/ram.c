// SPDX-License-Identifier: GPL-2.0
/*
 * Guest RAM seen from outside the guest: a hash of every page, so that two
 * VMs' memories can be compared byte for byte, and the host-side check,
 * the same check the guest runs (stamp.h) done through the VMM's mapping:
 * it needs no running guest, so a destination can be checked before it
 * resumes.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include "vmm.h"

/* FNV-1a over the page's 64-bit words: cheap, and any changed byte shows. */
static uint64_t ram_page_hash(const uint64_t *word)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned int i;

	for (i = 0; i < STAMP_WORDS; i++)
		h = (h ^ word[i]) * 0x100000001b3ULL;
	return h;
}

/* One line per page: "GFN HASH", both in hex. */
int ram_hash(struct vm *vm, const char *path)
{
	uint64_t gfn;
	FILE *f;

	f = fopen(path, "we");
	if (!f)
		return vm_error(vm, "%s: %m", path);
	for (gfn = 0; gfn < vm->ram_pages; gfn++)
		fprintf(f, "%08llx %016llx\n", (unsigned long long)gfn,
			(unsigned long long)ram_page_hash(vm_gpa(vm, gfn * GUEST_PAGE_SIZE)));
	if (ferror(f) | fclose(f))
		return vm_error(vm, "writing %s: %m", path);
	return 0;
}

const char *stamp_describe(const struct stamp_bad *bad)
{
	static char buf[160];

	if (bad->gfn == ~0ULL)
		snprintf(buf, sizeof(buf), "checksum %#llx, want %#llx",
			 (unsigned long long)bad->found,
			 (unsigned long long)bad->want);
	else
		snprintf(buf, sizeof(buf), "gfn %#llx: generation %llu (tag %#llx), want %llu",
			 (unsigned long long)bad->gfn,
			 (unsigned long long)bad->found,
			 (unsigned long long)bad->tag,
			 (unsigned long long)bad->want);
	return buf;
}

/* Ranges come from guest RAM: a bad copy must not lead us outside it. */
static int ram_check_range(struct vm *vm, const char *who,
			   const struct stamp_range *r, uint64_t *pages)
{
	struct stamp_bad bad;

	if (r->first > vm->ram_pages || r->nr > vm->ram_pages - r->first)
		return vm_error(vm, "%s pages %#llx+%llu: outside RAM", who,
				(unsigned long long)r->first,
				(unsigned long long)r->nr);
	if (!stamp_check((uintptr_t)vm->ram, r, &bad))
		return vm_error(vm, "%s pages: %s", who, stamp_describe(&bad));
	*pages += r->nr;
	return 0;
}

/* Every vCPU's pages and the writer's; pages is set to how many. */
int ram_check(struct vm *vm, uint64_t *pages)
{
	char who[32];
	unsigned int i;

	if (!vm_paused(vm))
		return vm_error(vm, "pause the VM first");
	*pages = 0;
	for (i = 0; i < vm->cfg.nr_vcpus; i++) {
		snprintf(who, sizeof(who), "vCPU %u's", i);
		if (ram_check_range(vm, who, &vm_guest_vcpu(vm, i)->range, pages))
			return -1;
	}
	return ram_check_range(vm, "the writer's", &vm_params(vm)->writer, pages);
}
