// SPDX-License-Identifier: GPL-2.0
/*
 * Command-line numbers, in one place so every option reads them the same way.
 * strtoull() is not used: it accepts blanks, signs (and wraps "-1" around to
 * 2^64 - 1) and hex, none of which an operator means in a migration setting.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "parse.h"
#include "shmctl.h"

static const struct {
	const char *suffix;
	uint64_t factor;
} units[] = {
	/* Largest first: format_bytes() wants the largest exact divisor. */
	{ "Ti", 1ULL << 40 },
	{ "T",  1000ULL * 1000 * 1000 * 1000 },
	{ "Gi", 1ULL << 30 },
	{ "G",  1000ULL * 1000 * 1000 },
	{ "Mi", 1ULL << 20 },
	{ "M",  1000ULL * 1000 },
	{ "Ki", 1ULL << 10 },
	{ "K",  1000ULL },
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Parse the leading digits of @s. *@end points past all of them even when
 * they overflow, so that callers judge what follows before the magnitude:
 * "99999999999999999999x" is not a number rather than too large a one.
 */
static int parse_digits(const char *s, const char **end, uint64_t *val)
{
	bool overflow = false;
	uint64_t v = 0;

	if (!is_digit(*s))
		return -EINVAL;
	for (; is_digit(*s); s++) {
		unsigned int digit = *s - '0';

		if (v > (UINT64_MAX - digit) / 10)
			overflow = true;
		v = v * 10 + digit;
	}
	*end = s;
	*val = v;
	return overflow ? -ERANGE : 0;
}

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *val)
{
	const char *end;
	uint64_t v;
	int err;

	err = parse_digits(s, &end, &v);
	if (err == -EINVAL || *end)
		return -EINVAL;
	if (err || v < min || v > max)
		return -ERANGE;
	*val = v;
	return 0;
}

int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *val)
{
	uint64_t v;
	int err;

	err = parse_u64(s, min, max, &v);
	if (!err)
		*val = v;
	return err;
}

int parse_bytes(const char *s, uint64_t *val)
{
	uint64_t factor = 1, v;
	const char *end;
	size_t i;
	int err;

	err = parse_digits(s, &end, &v);
	if (err == -EINVAL)
		return err;
	if (*end) {
		for (i = 0; i < ARRAY_SIZE(units); i++) {
			if (!strcasecmp(end, units[i].suffix))
				break;
		}
		if (i == ARRAY_SIZE(units))
			return -EINVAL;
		factor = units[i].factor;
	}
	if (err || v > UINT64_MAX / factor)
		return -ERANGE;
	*val = v * factor;
	return 0;
}

void format_bytes(uint64_t bytes, char buf[FORMAT_BYTES_MAX])
{
	size_t i;

	for (i = 0; bytes && i < ARRAY_SIZE(units); i++) {
		if (bytes % units[i].factor == 0) {
			snprintf(buf, FORMAT_BYTES_MAX, "%" PRIu64 "%s",
				 bytes / units[i].factor, units[i].suffix);
			return;
		}
	}
	snprintf(buf, FORMAT_BYTES_MAX, "%" PRIu64, bytes);
}
