/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Numbers on shmctl's command line, and the inverse for byte counts so that
 * what shmctl prints is spelled the way it reads.
 */
#ifndef SHMCTL_PARSE_H
#define SHMCTL_PARSE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse a decimal number in [min, max]: ASCII digits only, so no sign, no
 * blanks, no base prefix. Returns 0, -EINVAL if @s is not such a number, or
 * -ERANGE if it is one outside [min, max]; *@val is set only on success.
 */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *val);
int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *val);

/*
 * Parse a byte count: a decimal number with an optional unit, K, M, G or T
 * for powers of 1000 and Ki, Mi, Gi or Ti for powers of 1024 (either case),
 * so "100M" is 100000000 and "1Gi" is 1073741824. Returns 0, -EINVAL or
 * -ERANGE (larger than 2^64 - 1) like parse_u64().
 */
int parse_bytes(const char *s, uint64_t *val);

/* Longest output of format_bytes(), with its NUL. */
#define FORMAT_BYTES_MAX sizeof("18446744073709551615Ki")

/*
 * Write @bytes with the largest unit parse_bytes() knows that divides it
 * exactly ("100M", "1Gi", "1234"), so the text reads back to the same value.
 */
void format_bytes(uint64_t bytes, char buf[FORMAT_BYTES_MAX]);

#endif /* SHMCTL_PARSE_H */
