// SPDX-License-Identifier: GPL-2.0
/*
 * JSON output (RFC 8259). Strings from the kernel are bytes, not necessarily
 * UTF-8, so they are validated here: anything that is not well-formed UTF-8
 * becomes U+FFFD rather than invalid JSON.
 */
#include <assert.h>
#include <inttypes.h>

#include "json.h"

void json_init(struct json *j, FILE *out)
{
	*j = (struct json){ .out = out };
}

/* Before any value or key: the comma that separates it from the previous. */
static void json_item(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth) {
		if (j->has_items[j->depth])
			fputc(',', j->out);
		j->has_items[j->depth] = true;
	}
}

/* After a complete value: a finished top-level value ends its line. */
static void json_done(struct json *j)
{
	if (!j->depth)
		fputc('\n', j->out);
}

static void json_open(struct json *j, char bracket)
{
	json_item(j);
	fputc(bracket, j->out);
	j->depth++;
	assert(j->depth < JSON_MAX_DEPTH);
	j->has_items[j->depth] = false;
}

static void json_close(struct json *j, char bracket)
{
	assert(j->depth > 0 && !j->after_key);
	j->depth--;
	fputc(bracket, j->out);
	json_done(j);
}

void json_object_begin(struct json *j)
{
	json_open(j, '{');
}

void json_object_end(struct json *j)
{
	json_close(j, '}');
}

void json_array_begin(struct json *j)
{
	json_open(j, '[');
}

void json_array_end(struct json *j)
{
	json_close(j, ']');
}

void json_key(struct json *j, const char *key)
{
	assert(j->depth > 0 && !j->after_key);
	json_item(j);
	json_quote(j->out, key);
	fputc(':', j->out);
	j->after_key = true;
}

void json_string(struct json *j, const char *s)
{
	json_item(j);
	json_quote(j->out, s);
	json_done(j);
}

void json_uint(struct json *j, uint64_t v)
{
	json_item(j);
	fprintf(j->out, "%" PRIu64, v);
	json_done(j);
}

void json_bool(struct json *j, bool v)
{
	json_item(j);
	fputs(v ? "true" : "false", j->out);
	json_done(j);
}

void json_member_string(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_string(j, s);
}

void json_member_uint(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_uint(j, v);
}

void json_member_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}

/*
 * Length of the well-formed UTF-8 sequence at @s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0 if there is none.
 * The NUL terminator is never a continuation byte, so this stops at it.
 */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
	size_t len, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return len;
}

void json_quote(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', out);
	while (*p) {
		uint32_t cp;
		size_t len = utf8_decode(p, &cp);

		if (!len) {
			fputs("\\ufffd", out);
			p++;
			continue;
		}
		switch (cp) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\b':
			fputs("\\b", out);
			break;
		case '\f':
			fputs("\\f", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			/*
			 * JSON only requires escaping C0 controls; DEL and
			 * the C1 controls are escaped too because some
			 * terminals act on them when a name is shown as text.
			 */
			if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
				fprintf(out, "\\u%04" PRIx32, cp);
			else
				fwrite(p, 1, len, out);
		}
		p += len;
	}
	fputc('"', out);
}
