// SPDX-License-Identifier: GPL-2.0
/*
 * qmp SOCKET COMMAND [ARGUMENTS]
 *
 * One QMP command to the QEMU at SOCKET (shmctl's own client, user/qmp.c),
 * its "return" printed as one line of JSON: how bench/vs_qemu.sh drives
 * QEMU's own migration, to compare with shm's. ARGUMENTS are the members
 * of the arguments object, e.g. '"uri":"tcp:10.0.0.2:4444"'. Exit status
 * 1 with QEMU's error on stderr if QEMU refused.
 */
#include <stdio.h>

#include "qmp.h"

int main(int argc, char *argv[])
{
	struct qmp q = { .fd = -1 };
	struct json_object *ret = NULL;
	int err;

	if (argc != 3 && argc != 4) {
		fputs("usage: qmp SOCKET COMMAND [ARGUMENTS]\n", stderr);
		return 2;
	}
	err = qmp_connect(&q, argv[1]) ?:
	      qmp_call(&q, argv[2], argc == 4 ? argv[3] : NULL, -1, &ret);
	if (err) {
		fprintf(stderr, "qmp: %s\n", q.err);
		qmp_close(&q);
		return 1;
	}
	puts(json_object_to_json_string_ext(ret, JSON_C_TO_STRING_PLAIN));
	json_object_put(ret);
	qmp_close(&q);
	return 0;
}
