/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A QMP client: QEMU's JSON monitor on a Unix socket, one command at a
 * time, its answer parsed with json-c. Events that arrive between
 * answers are skipped: a caller waiting for a state asks for it again
 * each time QEMU says something (qmp_wait). A QEMU of libvirt's is
 * reached through libvirtd, which holds its monitor (qmp_connect_libvirt):
 * the same calls, and a caller's wait polls.
 */
#ifndef SHMCTL_QMP_H
#define SHMCTL_QMP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "libvirt.h"

#define QMP_TIMEOUT_MS	30000
/* QEMU greets a client as soon as it accepts it. */
#define QMP_GREETING_MS	5000
/* How often a wait through libvirt asks again. */
#define QMP_LIBVIRT_POLL_MS	20

struct qmp {
	int fd;			/* -1 when closed */
	virDomainPtr domain;	/* through libvirt when not NULL */
	pid_t pid;		/* QEMU, as the kernel saw it at connect */
	size_t len;		/* bytes of buf not yet taken as lines */
	char buf[65536];
	char err[256];		/* why the last call failed */
};

/* Connects, reads the greeting and leaves capabilities negotiation. */
int qmp_connect(struct qmp *q, const char *path);
/* Commands to libvirt's @domain, whose QEMU is @pid, go through libvirtd. */
int qmp_connect_libvirt(struct qmp *q, virDomainPtr domain, pid_t pid);
void qmp_close(struct qmp *q);

/*
 * Runs the command "@cmd" with arguments @args (a JSON object's members,
 * e.g. "\"state\":\"pre-switchover\"", or NULL), passing descriptor @fd
 * along when it is not -1 (for getfd). *@ret, if @ret is not NULL, gets
 * the "return" value, which the caller puts. A QMP error is -EREMOTEIO
 * with QEMU's description in q->err.
 */
int qmp_call(struct qmp *q, const char *cmd, const char *args, int fd,
	     struct json_object **ret);

/*
 * Returns once QEMU has said something since the last answer (an event:
 * STOP, RESUME, MIGRATION with the "events" capability), or after
 * @timeout_ms: 0 either way, or -ECONNRESET if the connection broke.
 */
int qmp_wait(struct qmp *q, int timeout_ms);

/* The string member @key of @obj, or "" when absent. */
const char *qmp_str(struct json_object *obj, const char *key);

/* query-status's "status" into @buf ("running", "paused", ...). */
int qmp_status(struct qmp *q, char *buf, size_t len);
/* query-migrate's "status" into @buf ("none" when there was none). */
int qmp_migration_status(struct qmp *q, char *buf, size_t len);

#endif /* SHMCTL_QMP_H */
