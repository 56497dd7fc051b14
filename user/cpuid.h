/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The CPU a guest sees: the CPUID feature words its VMM gives it (vmm.h,
 * guest_cpu). The source sends its VM's in the MIGRATE line (link.h); the
 * destination starts the VM and refuses it if the guest would find a
 * feature gone there (serve.c). Words of no bits are left out: nothing in
 * them can go missing.
 *
 * As they travel: "LEAF.SUBLEAF.REG=BITS" words, comma-separated, numbers
 * in hex, REG one of eax, ebx, ecx, edx: "7.0.ebx=9f8c39,1.0.ecx=f7fa3203".
 */
#ifndef SHMCTL_CPUID_H
#define SHMCTL_CPUID_H

#include <stddef.h>
#include <stdint.h>

/* QEMU 7.2 has 24 CPUID feature words for x86; room for twice as many. */
#define CPUID_WORDS_MAX	48

/* The longest words as they travel, with their terminating NUL. */
#define CPUID_TEXT_MAX	(CPUID_WORDS_MAX * sizeof("ffffffff.ffffffff.eax=ffffffff,"))

struct cpuid_word {
	uint32_t leaf, subleaf;
	unsigned int reg;		/* index into "eax ebx ecx edx" */
	uint32_t bits;
};

struct cpuid_words {
	unsigned int nr;
	struct cpuid_word word[CPUID_WORDS_MAX];
};

/*
 * Adds @bits to the word of @leaf, @subleaf, register @reg ("EAX" or
 * "eax", ...). -EINVAL for another register name, -E2BIG when full.
 */
int cpuid_add(struct cpuid_words *c, uint32_t leaf, uint32_t subleaf,
	      const char *reg, uint32_t bits);
/* The words as they travel; -E2BIG if they do not fit in @len. */
int cpuid_format(const struct cpuid_words *c, char *buf, size_t len);
/* Words as they travel, checked; -EINVAL if anything is amiss. */
int cpuid_parse(const char *s, struct cpuid_words *c);
/*
 * The bits of @need that @have lacks, in the SDM's words, e.g.
 * "CPUID.(EAX=07H,ECX=0H):EBX bits 5 8"; "" if none.
 */
void cpuid_missing(const struct cpuid_words *need,
		   const struct cpuid_words *have, char *buf, size_t len);

#endif /* SHMCTL_CPUID_H */
