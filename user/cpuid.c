// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID feature words: as QEMU reports them, as they travel, compared
 * (cpuid.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cpuid.h"

static const char *const regs[] = { "eax", "ebx", "ecx", "edx" };

static struct cpuid_word *cpuid_find(const struct cpuid_words *c,
				     uint32_t leaf, uint32_t subleaf,
				     unsigned int reg)
{
	unsigned int i;

	for (i = 0; i < c->nr; i++) {
		const struct cpuid_word *w = &c->word[i];

		if (w->leaf == leaf && w->subleaf == subleaf && w->reg == reg)
			return (struct cpuid_word *)w;
	}
	return NULL;
}

/* The register named by the @len characters at @name, or -1. */
static int reg_index(const char *name, size_t len, bool any_case)
{
	unsigned int r;

	for (r = 0; len == 3 && r < 4; r++)
		if (!(any_case ? strncasecmp : strncmp)(name, regs[r], 3))
			return r;
	return -1;
}

static int add_word(struct cpuid_words *c, uint32_t leaf, uint32_t subleaf,
		    unsigned int reg, uint32_t bits)
{
	struct cpuid_word *w = cpuid_find(c, leaf, subleaf, reg);

	if (!w) {
		if (c->nr == CPUID_WORDS_MAX)
			return -E2BIG;
		w = &c->word[c->nr++];
		*w = (struct cpuid_word){ leaf, subleaf, reg, 0 };
	}
	w->bits |= bits;
	return 0;
}

int cpuid_add(struct cpuid_words *c, uint32_t leaf, uint32_t subleaf,
	      const char *reg, uint32_t bits)
{
	int r = reg_index(reg, strlen(reg), true);

	return r < 0 ? -EINVAL : add_word(c, leaf, subleaf, r, bits);
}

int cpuid_format(const struct cpuid_words *c, char *buf, size_t len)
{
	size_t used = 0;
	unsigned int i;
	int n;

	if (len)
		*buf = '\0';
	for (i = 0; i < c->nr; i++) {
		const struct cpuid_word *w = &c->word[i];

		if (!w->bits)
			continue;
		n = snprintf(buf + used, len - used, "%s%x.%x.%s=%x",
			     used ? "," : "", w->leaf, w->subleaf,
			     regs[w->reg], w->bits);
		if (n < 0 || (size_t)n >= len - used)
			return -E2BIG;
		used += n;
	}
	return 0;
}

/* 1 to 8 lowercase hex digits at *@s, and past them; false if none. */
static bool hex32(const char **s, uint32_t *v)
{
	unsigned int digits = 0;
	const char *p = *s;

	for (*v = 0; digits < 8; digits++, p++) {
		if (*p >= '0' && *p <= '9')
			*v = *v << 4 | (*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			*v = *v << 4 | (*p - 'a' + 10);
		else
			break;
	}
	*s = p;
	return digits;
}

/* One "LEAF.SUBLEAF.REG=BITS" at *@s, added to @c; and past it. */
static bool parse_word(const char **s, struct cpuid_words *c)
{
	uint32_t leaf, subleaf, bits;
	const char *p = *s;
	size_t name_len;
	int r;

	if (!hex32(&p, &leaf) || *p++ != '.' ||
	    !hex32(&p, &subleaf) || *p++ != '.')
		return false;
	/* As cpuid_format writes them: lower case. */
	name_len = strcspn(p, "=");
	r = reg_index(p, name_len, false);
	if (r < 0 || p[name_len] != '=')
		return false;
	p += name_len + 1;
	if (!hex32(&p, &bits) || add_word(c, leaf, subleaf, r, bits))
		return false;
	*s = p;
	return true;
}

int cpuid_parse(const char *s, struct cpuid_words *c)
{
	c->nr = 0;
	while (*s) {
		if (!parse_word(&s, c))
			return -EINVAL;
		/* A comma between words, none at the end. */
		if (*s == ',' && s[1])
			s++;
		else if (*s)
			return -EINVAL;
	}
	return 0;
}

/* printf to the end of @buf, what fits. */
static void __attribute__((format(printf, 4, 5)))
append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used + 1 >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used = *used + n < len ? *used + n : len - 1;
}

void cpuid_missing(const struct cpuid_words *need,
		   const struct cpuid_words *have, char *buf, size_t len)
{
	static const char *const upper[] = { "EAX", "EBX", "ECX", "EDX" };
	size_t used = 0;
	unsigned int i, bit;
	uint32_t lack;

	if (len)
		*buf = '\0';
	for (i = 0; i < need->nr; i++) {
		const struct cpuid_word *w = &need->word[i];
		const struct cpuid_word *h = cpuid_find(have, w->leaf,
							w->subleaf, w->reg);

		lack = w->bits & ~(h ? h->bits : 0);
		if (!lack)
			continue;
		append(buf, len, &used, "%sCPUID.(EAX=%02XH,ECX=%XH):%s bit%s",
		       used ? "; " : "", w->leaf, w->subleaf, upper[w->reg],
		       lack & (lack - 1) ? "s" : "");
		for (bit = 0; bit < 32; bit++)
			if (lack & 1u << bit)
				append(buf, len, &used, " %u", bit);
	}
}
