// SPDX-License-Identifier: GPL-2.0
/*
 * The testvmm driver (vmm.h): shm-testvmm (tests/vmm/) as shmctl migrate
 * and serve drive it, one control-socket command per operation
 * (vmm_testvmm.h says how the driver's files share the work).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "parse.h"
#include "vmm_testvmm.h"

#define TV_RUNNING_MS	10000	/* for a resumed guest to be seen running */
#define TV_IDLE_MS	1000	/* counters still this long: ask a selfcheck */
#define TV_QUIT_MS	2000	/* between quit and SIGKILL */
#define TV_PIECE	65536	/* of the state, handed on at once */

/* The VM we are told of: its socket's full path, for temporary files. */
static int tv_attach(struct vmm *v, const char *where)
{
	char path[PATH_MAX];
	struct tv *tv = tv_new(v);
	int err;

	if (!tv)
		return -ENOMEM;
	if (!realpath(where, path)) {
		err = tv_fail(v, -errno, "%s: %m", where);
	} else if (strlen(path) >= sizeof(tv->sock)) {
		err = tv_fail(v, -ENAMETOOLONG, "%s: too long for a socket", path);
	} else {
		strcpy(tv->sock, path);
		err = tv_connect(v);
	}
	if (err)
		tv_free(v);
	return err;
}

static int tv_vm_fd(struct vmm *v)
{
	struct tv *tv = v->priv;
	int pidfd = pidfd_open(tv->pid, 0), fd;

	if (pidfd < 0)
		return tv_fail(v, -errno, "pidfd_open(%d): %m", tv->pid);
	/* It still answers, so the pid is still the VMM's, not a new one's. */
	fd = tv_cmd(v, NULL, 0, "info");
	if (!fd) {
		fd = pidfd_getfd(pidfd, tv->vmfd, 0);
		if (fd < 0)
			fd = tv_fail(v, -errno, "cannot take its VM fd %d: %m", tv->vmfd);
	}
	close(pidfd);
	return fd;
}

/* A VMM without a writer thread never writes guest RAM itself. */
static int tv_track_writes(struct vmm *v, uint32_t session)
{
	struct tv *tv = v->priv;

	return tv->cfg.writer_pages ? tv_cmd(v, NULL, 0, "report %u", session) : 0;
}

static int tv_pause(struct vmm *v, const struct vmm_state_out *out)
{
	struct tv *tv = v->priv;

	tv->out = out;
	return tv_cmd(v, NULL, 0, "pause");
}

static int tv_resume(struct vmm *v)
{
	return tv_cmd(v, NULL, 0, "resume");
}

/*
 * A state file next to the control socket: the VMM sees that directory
 * too (it made its socket there), where /tmp may be private to either.
 */
static int tv_state_file(struct vmm *v, char *path, size_t len)
{
	struct tv *tv = v->priv;
	int fd;

	snprintf(path, len, "%.*s/shm-state-XXXXXX",
		 (int)(strrchr(tv->sock, '/') - tv->sock), tv->sock);
	if (strpbrk(path, " \t\r\n"))
		return tv_fail(v, -EINVAL, "%s: no blank allowed in a command", path);
	fd = mkostemp(path, O_CLOEXEC);
	return fd < 0 ? tv_fail(v, -errno, "%s: %m", path) : fd;
}

static int tv_save_state(struct vmm *v)
{
	struct tv *tv = v->priv;
	char path[PATH_MAX], piece[TV_PIECE];
	int fd = tv_state_file(v, path, sizeof(path)), err;
	off_t at = 0;
	ssize_t n = 0;

	if (fd < 0)
		return fd;
	/* The VMM truncates and fills the file we hold open. */
	err = tv_cmd(v, NULL, 0, "save %s", path);
	while (!err && (n = pread(fd, piece, sizeof(piece), at)) > 0) {
		err = tv->out->put(tv->out->ctx, piece, n, true);
		if (err)
			tv_fail(v, err, "handing on its state: %s", strerror(-err));
		at += n;
	}
	if (!err && (n < 0 || !at))
		err = tv_fail(v, -EIO, "%s: cannot read the state saved", path);
	unlink(path);
	close(fd);
	return err;
}

static int tv_put_state(struct vmm *v, const void *buf, size_t len)
{
	struct tv *tv = v->priv;

	if (tv->state_fd < 0) {
		tv->state_fd = tv_state_file(v, tv->state_path,
					     sizeof(tv->state_path));
		if (tv->state_fd < 0)
			return tv->state_fd;
	}
	if (write(tv->state_fd, buf, len) != (ssize_t)len)
		return tv_fail(v, -EIO, "%s: cannot write the state", tv->state_path);
	return 0;
}

static int tv_restore_state(struct vmm *v)
{
	struct tv *tv = v->priv;
	int err;

	if (tv->state_fd < 0)
		return tv_fail(v, -EINVAL, "no state came");
	err = tv_cmd(v, NULL, 0, "restore %s", tv->state_path);
	tv_drop_state(tv);
	return err;
}

/*
 * Running: the guest's counters (its vCPUs' and the writer's, kept in
 * guest RAM) move. An idle guest moves none: its passing a self-check
 * shows its vCPUs run, and the RAM they run on is whole.
 */
static int tv_running(struct vmm *v)
{
	uint64_t start = monotonic_ms(), since = 0, base = 0, writes, writer;
	char reply[1024], state[16], a[24], b[24];
	int err;

	for (;;) {
		err = tv_cmd(v, reply, sizeof(reply), "stats");
		if (err)
			return err;
		if (!tv_word(reply, "state", state, sizeof(state)) ||
		    !tv_word(reply, "writes", a, sizeof(a)) ||
		    !tv_word(reply, "writer", b, sizeof(b)) ||
		    parse_u64(a, 0, UINT64_MAX, &writes) ||
		    parse_u64(b, 0, UINT64_MAX, &writer))
			return tv_fail(v, -EPROTO, "unreadable stats: %s", reply);
		/* Its selfcheck answers with the guest's first failure. */
		if (!strcmp(state, "failed"))
			return tv_cmd(v, NULL, 0, "selfcheck") ?:
			       tv_fail(v, -EIO, "the guest failed");
		if (!strcmp(state, "running") && !since) {
			since = monotonic_ms();
			base = writes + writer;
		} else if (since && writes + writer != base) {
			return 0;
		} else if (since && monotonic_ms() - since >= TV_IDLE_MS) {
			return tv_cmd(v, NULL, 0, "selfcheck");
		}
		if (monotonic_ms() - start >= TV_RUNNING_MS)
			return tv_fail(v, -ETIMEDOUT, "guest not seen running in %d s: %s",
				       TV_RUNNING_MS / 1000, reply);
		usleep(TV_POLL_MS * 1000);
	}
}

void tv_end(struct vmm *v, bool kill)
{
	struct tv *tv = v->priv;
	struct pollfd pfd = { .fd = -1, .events = POLLIN };
	char err[sizeof(v->err)];
	bool quit;

	if (!tv)
		return;
	memcpy(err, v->err, sizeof(err));
	/* Opened first: an answer to quit then proves the pid was its. */
	if (kill && (tv->child || tv->ctl >= 0))
		pfd.fd = pidfd_open(tv->child ?: tv->pid, 0);
	quit = tv->ctl >= 0 && !tv_cmd(v, NULL, 0, "quit");
	if (pfd.fd >= 0 && (quit || tv->child) &&
	    poll(&pfd, 1, quit ? TV_QUIT_MS : 0) != 1)
		pidfd_send_signal(pfd.fd, SIGKILL, NULL, 0);
	if (pfd.fd >= 0)
		close(pfd.fd);
	if (tv->child)
		waitpid(tv->child, NULL, kill ? 0 : WNOHANG);
	if (kill && tv->log[0])
		unlink(tv->sock);
	memcpy(v->err, err, sizeof(err));
	tv_free(v);
}

static void tv_release(struct vmm *v)
{
	tv_end(v, false);
}

static void *tv_reap(void *child)
{
	waitpid((pid_t)(intptr_t)child, NULL, 0);
	return NULL;
}

/*
 * The connection closes, so that others may drive the VMM. One we started
 * is our child still: a thread waits to reap it whenever it exits, as
 * shmctl serve lives on.
 */
static void tv_detach(struct vmm *v)
{
	struct tv *tv = v->priv;
	pthread_t reaper;

	if (tv->child &&
	    !pthread_create(&reaper, NULL, tv_reap, (void *)(intptr_t)tv->child))
		pthread_detach(reaper);
	tv_free(v);
}

static void tv_destroy(struct vmm *v)
{
	tv_end(v, true);
}

const struct vmm_driver vmm_testvmm_driver = {
	.name		= "testvmm",
	.attach		= tv_attach,
	.describe	= tv_describe,
	.check_incoming = tv_check_incoming,
	.create_incoming = tv_create_incoming,
	.vm_fd		= tv_vm_fd,
	.track_writes	= tv_track_writes,
	.pause		= tv_pause,
	.save_state	= tv_save_state,
	.put_state	= tv_put_state,
	.restore_state	= tv_restore_state,
	.resume		= tv_resume,
	.running	= tv_running,
	.release	= tv_release,
	.detach		= tv_detach,
	.destroy	= tv_destroy,
};
