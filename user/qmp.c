// SPDX-License-Identifier: GPL-2.0
/*
 * The QMP client (qmp.h): lines of JSON both ways on a Unix socket, every
 * read bounded by QMP_TIMEOUT_MS, so a QEMU that hangs fails a call
 * instead of hanging shmctl; or the same commands through libvirt.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "qmp.h"

static int qmp_fail(struct qmp *q, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->err, sizeof(q->err), fmt, ap);
	va_end(ap);
	return err;
}

/*
 * The next line QEMU sends within @timeout_ms, parsed; NULL (and q->err)
 * if none came.
 */
static struct json_object *qmp_read(struct qmp *q, int timeout_ms, int *err)
{
	uint64_t deadline = monotonic_ms() + timeout_ms;
	struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
	struct json_object *obj;
	char *nl;
	ssize_t n;

	while (!(nl = memchr(q->buf, '\n', q->len))) {
		uint64_t now = monotonic_ms();

		if (q->len == sizeof(q->buf)) {
			*err = qmp_fail(q, -EPROTO, "QEMU sent a line over %zu bytes",
					sizeof(q->buf));
			return NULL;
		}
		if (now >= deadline || poll(&pfd, 1, deadline - now) == 0) {
			*err = qmp_fail(q, -ETIMEDOUT, "QEMU did not answer in %d s",
					timeout_ms / 1000);
			return NULL;
		}
		n = read(q->fd, q->buf + q->len, sizeof(q->buf) - q->len);
		if (n <= 0 && !(n < 0 && errno == EINTR)) {
			*err = qmp_fail(q, n ? -errno : -ECONNRESET,
					"QEMU's monitor connection broke: %s",
					n ? strerror(errno) : "closed");
			return NULL;
		}
		if (n > 0)
			q->len += n;
	}
	*nl = '\0';
	obj = json_tokener_parse(q->buf);
	q->len -= nl + 1 - q->buf;
	memmove(q->buf, nl + 1, q->len);
	if (!obj || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		*err = qmp_fail(q, -EPROTO, "QEMU sent something that is not a JSON object");
		return NULL;
	}
	return obj;
}

/* QEMU's answer @obj to @cmd, which this puts: its "return" in *@ret. */
static int qmp_reply(struct qmp *q, const char *cmd, struct json_object *obj,
		     struct json_object **ret)
{
	struct json_object *val, *error;
	int err = 0;

	if (json_object_object_get_ex(obj, "error", &error)) {
		err = qmp_fail(q, -EREMOTEIO, "QEMU refused %s: %s", cmd,
			       qmp_str(error, "desc"));
	} else if (!json_object_object_get_ex(obj, "return", &val)) {
		err = qmp_fail(q, -EPROTO, "QEMU answered %s with neither return nor error",
			       cmd);
	} else if (ret) {
		*ret = json_object_get(val);
	}
	json_object_put(obj);
	return err;
}

/* The answer to the command just sent: events before it are skipped. */
static int qmp_answer(struct qmp *q, const char *cmd, struct json_object **ret)
{
	struct json_object *obj;
	int err = 0;

	while ((obj = qmp_read(q, QMP_TIMEOUT_MS, &err)) &&
	       json_object_object_get_ex(obj, "event", NULL))
		json_object_put(obj);
	return obj ? qmp_reply(q, cmd, obj, ret) : err;
}

/*
 * Through libvirt, which owns the monitor: libvirtd sends the command and
 * hands back QEMU's answer (the passthrough of `virsh qemu-monitor-command`).
 */
static int qmp_call_libvirt(struct qmp *q, const char *cmd, const char *line,
			    int fd, struct json_object **ret)
{
	struct json_object *obj;
	char *answer = NULL;
	int err;

	err = sym_virDomainQemuMonitorCommandWithFiles(q->domain, line,
						       fd >= 0, fd >= 0 ? &fd : NULL,
						       NULL, NULL, &answer, 0);
	if (err < 0)
		return qmp_fail(q, -EIO, "libvirt did not pass on %s: %s", cmd,
				sym_virGetLastErrorMessage());
	obj = json_tokener_parse(answer);
	free(answer);
	if (!obj || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return qmp_fail(q, -EPROTO, "QEMU's answer to %s through libvirt is not a JSON object",
				cmd);
	}
	return qmp_reply(q, cmd, obj, ret);
}

int qmp_wait(struct qmp *q, int timeout_ms)
{
	struct pollfd pfd = { .fd = q->fd, .events = POLLIN };

	/* libvirtd takes QEMU's events: ask again soon. */
	if (q->domain) {
		poll(NULL, 0, timeout_ms < QMP_LIBVIRT_POLL_MS ? timeout_ms :
			      QMP_LIBVIRT_POLL_MS);
		return 0;
	}
	/* A line already read, with the last answer. */
	if (memchr(q->buf, '\n', q->len))
		return 0;
	if (poll(&pfd, 1, timeout_ms) > 0 && (pfd.revents & (POLLERR | POLLHUP)))
		return qmp_fail(q, -ECONNRESET, "QEMU's monitor connection broke");
	return 0;
}

static int qmp_send(struct qmp *q, const char *line, size_t len, int fd)
{
	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)line, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;
	ssize_t n;

	if (fd >= 0) {
		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	do {
		n = sendmsg(q->fd, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len)
		return qmp_fail(q, n < 0 ? -errno : -EIO,
				"cannot write to QEMU's monitor: %s",
				n < 0 ? strerror(errno) : "short write");
	return 0;
}

int qmp_call(struct qmp *q, const char *cmd, const char *args, int fd,
	     struct json_object **ret)
{
	char line[1024];
	int len;

	if (q->fd < 0 && !q->domain)
		return qmp_fail(q, -ENOTCONN, "QEMU's monitor connection is closed");
	len = snprintf(line, sizeof(line), "{\"execute\":\"%s\"%s%s%s}\n", cmd,
		       args ? ",\"arguments\":{" : "", args ?: "", args ? "}" : "");
	if (len >= (int)sizeof(line))
		return qmp_fail(q, -E2BIG, "QMP command %s too long", cmd);
	if (q->domain)
		return qmp_call_libvirt(q, cmd, line, fd, ret);
	return qmp_send(q, line, len, fd) ?: qmp_answer(q, cmd, ret);
}

/*
 * QEMU greets each client it accepts at once, and takes one at a time per
 * monitor: a connection it leaves unanswered most likely waits behind
 * another client's. libvirtd keeps one to each of its domains' monitors,
 * at DIR/domain-ID-NAME/monitor.sock.
 */
static int qmp_no_greeting(struct qmp *q, const char *path)
{
	const char *domain = strstr(path, "/domain-");
	const char *end = domain ? strchrnul(domain + 1, '/') : NULL;

	if (end && !strcmp(end, "/monitor.sock"))
		return qmp_fail(q, -EBUSY, "%s: no greeting in %d s: this is libvirt's %.*s, whose monitor libvirtd holds: name the domain as libvirt:NAME",
				path, QMP_GREETING_MS / 1000,
				(int)(end - domain - 1), domain + 1);
	return qmp_fail(q, -EBUSY, "%s: no greeting in %d s: another client has this monitor (QEMU serves one at a time: is a migration of this VM running?), or QEMU hangs",
			path, QMP_GREETING_MS / 1000);
}

int qmp_connect(struct qmp *q, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct json_object *greeting;
	int err = 0;

	q->len = 0;
	q->err[0] = '\0';
	if (strlen(path) >= sizeof(addr.sun_path))
		return qmp_fail(q, -ENAMETOOLONG, "%s: too long for a socket", path);
	strcpy(addr.sun_path, path);
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (q->fd < 0)
		return qmp_fail(q, -errno, "socket: %m");
	if (connect(q->fd, (struct sockaddr *)&addr, sizeof(addr))) {
		err = qmp_fail(q, -errno, "%s: %m", path);
	} else if (getsockopt(q->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
		err = qmp_fail(q, -errno, "%s: whose socket: %m", path);
	} else {
		q->pid = cred.pid;
		greeting = qmp_read(q, QMP_GREETING_MS, &err);
		if (err == -ETIMEDOUT)
			err = qmp_no_greeting(q, path);
		else if (greeting &&
			 !json_object_object_get_ex(greeting, "QMP", NULL))
			err = qmp_fail(q, -EPROTO, "%s: not a QMP monitor", path);
		json_object_put(greeting);
		if (!err)
			err = qmp_call(q, "qmp_capabilities", NULL, -1, NULL);
	}
	if (err)
		qmp_close(q);
	return err;
}

int qmp_connect_libvirt(struct qmp *q, virDomainPtr domain, pid_t pid)
{
	q->err[0] = '\0';
	q->pid = pid;
	if (sym_virDomainRef(domain))
		return qmp_fail(q, -EIO, "%s", sym_virGetLastErrorMessage());
	q->domain = domain;
	return 0;
}

void qmp_close(struct qmp *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	if (q->domain)
		sym_virDomainFree(q->domain);
	q->domain = NULL;
}

const char *qmp_str(struct json_object *obj, const char *key)
{
	struct json_object *val;

	if (!obj || !json_object_object_get_ex(obj, key, &val) ||
	    !json_object_is_type(val, json_type_string))
		return "";
	return json_object_get_string(val);
}

static int qmp_query_str(struct qmp *q, const char *cmd, const char *key,
			 const char *absent, char *buf, size_t len)
{
	struct json_object *ret;
	int err = qmp_call(q, cmd, NULL, -1, &ret);

	if (err)
		return err;
	snprintf(buf, len, "%s", *qmp_str(ret, key) ? qmp_str(ret, key) : absent);
	json_object_put(ret);
	return 0;
}

int qmp_status(struct qmp *q, char *buf, size_t len)
{
	return qmp_query_str(q, "query-status", "status", "unknown", buf, len);
}

int qmp_migration_status(struct qmp *q, char *buf, size_t len)
{
	return qmp_query_str(q, "query-migrate", "status", "none", buf, len);
}
