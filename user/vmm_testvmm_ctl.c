// SPDX-License-Identifier: GPL-2.0
/*
 * The testvmm driver's side of shm-testvmm's control socket (see
 * vmm_testvmm.h): the connection, one command and its answer, the words
 * of an answer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "parse.h"
#include "vmm_testvmm.h"

/* The longest wait for one answer: a selfcheck may take 100 s under TCG. */
#define TV_ANSWER_S	120
/* The VMM's answers are at most 1024 bytes with their newline. */
#define TV_LINE_MAX	1024

int tv_fail(struct vmm *v, int err, const char *fmt, ...)
{
	struct tv *tv = v->priv;
	int n, saved = errno;	/* for %m */
	va_list ap;

	if (tv && tv->sock[0])
		n = snprintf(v->err, sizeof(v->err), "test VMM at %s: ", tv->sock);
	else
		n = snprintf(v->err, sizeof(v->err), "test VMM: ");
	errno = saved;
	va_start(ap, fmt);
	vsnprintf(v->err + n, sizeof(v->err) - n, fmt, ap);
	va_end(ap);
	return err;
}

struct tv *tv_new(struct vmm *v)
{
	struct tv *tv = calloc(1, sizeof(*tv));

	v->priv = tv;
	if (!tv) {
		tv_fail(v, -ENOMEM, "out of memory");
		return NULL;
	}
	tv->ctl = tv->state_fd = -1;
	return tv;
}

void tv_drop_state(struct tv *tv)
{
	if (tv->state_fd < 0)
		return;
	unlink(tv->state_path);
	close(tv->state_fd);
	tv->state_fd = -1;
}

void tv_free(struct vmm *v)
{
	struct tv *tv = v->priv;

	if (tv->ctl >= 0)
		close(tv->ctl);
	tv_drop_state(tv);
	free(tv);
	v->priv = NULL;
}

int tv_connect(struct vmm *v)
{
	struct tv *tv = v->priv;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tmo = { .tv_sec = TV_ANSWER_S };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char reply[TV_LINE_MAX], val[24];
	uint64_t vmfd;
	int err;

	memcpy(addr.sun_path, tv->sock, sizeof(tv->sock));
	tv->ctl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (tv->ctl < 0)
		return tv_fail(v, -errno, "socket: %m");
	if (connect(tv->ctl, (struct sockaddr *)&addr, sizeof(addr))) {
		err = tv_fail(v, -errno, "cannot connect: %m");
		close(tv->ctl);
		tv->ctl = -1;
		return err;
	}
	/* The pid as the kernel gives it, in our pid namespace. */
	if (setsockopt(tv->ctl, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)) ||
	    getsockopt(tv->ctl, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return tv_fail(v, -errno, "control socket: %m");
	tv->pid = cred.pid;
	v->pid = cred.pid;
	err = tv_cmd(v, reply, sizeof(reply), "info") ?:
	      tv_parse(v, reply, ' ', false, "its info", &tv->cfg);
	if (err)
		return err;
	if (!tv_word(reply, "vmfd", val, sizeof(val)) ||
	    parse_u64(val, 0, INT_MAX, &vmfd))
		return tv_fail(v, -EPROTO, "no vmfd in its info: %s", reply);
	tv->vmfd = vmfd;
	v->ram_bytes = tv->cfg.ram;
	return 0;
}

/* Until a whole line came; a socket with a timeout is not restarted. */
static int tv_read_line(int fd, char *line, size_t size)
{
	size_t got = 0;
	ssize_t n;
	char *nl;

	for (;;) {
		n = recv(fd, line + got, size - 1 - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return !n ? -ECONNRESET : errno == EAGAIN ? -ETIMEDOUT : -errno;
		got += n;
		nl = memchr(line, '\n', got);
		/* One answer per command: nothing may follow it. */
		if (nl) {
			*nl = '\0';
			return nl + 1 == line + got ? 0 : -EPROTO;
		}
		if (got == size - 1)
			return -EPROTO;
	}
}

int tv_cmd(struct vmm *v, char *reply, size_t len, const char *fmt, ...)
{
	struct tv *tv = v->priv;
	char cmd[512], line[TV_LINE_MAX + 1];
	va_list ap;
	int n, err;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(cmd) - 1)
		return tv_fail(v, -E2BIG, "command too long: %.40s...", cmd);
	if (tv->ctl < 0)
		return tv_fail(v, -ENOTCONN, "cannot send '%s': connection lost",
			       cmd);
	cmd[n] = '\n';
	if (send(tv->ctl, cmd, n + 1, MSG_NOSIGNAL) != n + 1)
		err = -EPIPE;
	else
		err = tv_read_line(tv->ctl, line, sizeof(line));
	cmd[n] = '\0';
	if (!err && !strncmp(line, "ok", 2) && (!line[2] || line[2] == ' ')) {
		if (reply)
			snprintf(reply, len, "%s", line + 2 + !!line[2]);
		return 0;
	}
	if (!err && !strncmp(line, "err ", 4))
		return tv_fail(v, -EREMOTEIO, "'%s' failed: %s", cmd, line + 4);
	err = err ?: -EPROTO;
	close(tv->ctl);
	tv->ctl = -1;
	return tv_fail(v, err, "no answer to '%s': %s", cmd, strerror(-err));
}

bool tv_word(const char *reply, const char *key, char *val, size_t len)
{
	size_t klen = strlen(key), n;
	const char *w;

	for (w = reply; *w; w += n + (w[n] == ' ')) {
		n = strcspn(w, " ");
		if (n > klen && w[klen] == '=' && !strncmp(w, key, klen) &&
		    n - klen - 1 < len) {
			memcpy(val, w + klen + 1, n - klen - 1);
			val[n - klen - 1] = '\0';
			return true;
		}
	}
	return false;
}
