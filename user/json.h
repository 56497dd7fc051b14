/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal JSON writer: compact output, one top-level value per line, so
 * that "shmctl monitor --json" is JSON Lines and everything else is one line
 * for jq. It tracks nesting only to place commas; the caller is trusted to
 * pair begins with ends and to give every object member a key.
 */
#ifndef SHMCTL_JSON_H
#define SHMCTL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 8

struct json {
	FILE *out;
	unsigned int depth;
	bool after_key;			/* the next value completes a member */
	bool has_items[JSON_MAX_DEPTH];	/* per level: a comma goes first */
};

void json_init(struct json *j, FILE *out);

void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);

void json_key(struct json *j, const char *key);
void json_string(struct json *j, const char *s);
void json_uint(struct json *j, uint64_t v);
void json_bool(struct json *j, bool v);

/* Object members: json_key() followed by the value. */
void json_member_string(struct json *j, const char *key, const char *s);
void json_member_uint(struct json *j, const char *key, uint64_t v);
void json_member_bool(struct json *j, const char *key, bool v);

/*
 * Write @s as a JSON string literal, quotes included. Text output uses it
 * too, for strings that must stay on one line and away from the terminal.
 */
void json_quote(FILE *out, const char *s);

#endif /* SHMCTL_JSON_H */
