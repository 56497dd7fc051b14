// SPDX-License-Identifier: GPL-2.0
/*
 * The guard (guard.h).
 *
 * The child is forked from a process that may have threads: it uses
 * system calls, and nftw(), whose malloc() glibc keeps usable in a child
 * of fork().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guard.h"

#define GUARD_PIPE_FD	3	/* in the child */
#define GUARD_PIDFD	4
#define GUARD_WAIT_MS	5000	/* for a killed process, for QEMU's monitor */
#define GUARD_QMP_TRIES	10	/* while QEMU's failing migration ends */

/* Lines from QMP until a reply: whether it was "return", not "error". */
static bool guard_qmp_reply(int fd)
{
	static char buf[4096];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t len = 0;
	char *line, *nl;
	ssize_t n;

	while (poll(&pfd, 1, GUARD_WAIT_MS) == 1) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return false;
		len += n;
		buf[len] = '\0';
		line = buf;
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			if (strstr(line, "\"return\""))
				return true;
			if (strstr(line, "\"error\""))
				return false;
			line = nl + 1;
		}
		len -= line - buf;
		memmove(buf, line, len);
		if (len == sizeof(buf) - 1)	/* a line longer than we care for */
			len = 0;
	}
	return false;
}

static bool guard_qmp_send(int fd, const char *command)
{
	size_t len = strlen(command);

	return write(fd, command, len) == (ssize_t)len && guard_qmp_reply(fd);
}

/* QEMU's monitor; a QEMU still starting has none yet for a moment. */
static int guard_qmp_connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timespec tick = { .tv_nsec = 100000000 };
	int fd, waited;

	memcpy(addr.sun_path, path, sizeof(addr.sun_path));
	for (waited = 0; waited < GUARD_WAIT_MS; waited += 100) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || !connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
			return fd;
		close(fd);
		nanosleep(&tick, NULL);
	}
	return -1;
}

/* QEMU serves one monitor client at a time: ours, now that we are gone. */
static void guard_qmp(const struct guard_undo *u)
{
	struct timespec pause = { .tv_nsec = 500000000 };
	struct pollfd pfd = { .events = POLLIN };
	int try;

	pfd.fd = guard_qmp_connect(u->qmp_path);
	if (pfd.fd < 0 || poll(&pfd, 1, GUARD_WAIT_MS) != 1 ||
	    !guard_qmp_send(pfd.fd, "{\"execute\":\"qmp_capabilities\"}\n"))
		goto out;
	for (try = 0; try < GUARD_QMP_TRIES; try++) {
		if (guard_qmp_send(pfd.fd, u->qmp_command))
			break;
		nanosleep(&pause, NULL);
	}
out:
	if (pfd.fd >= 0)
		close(pfd.fd);
}

/* libvirtd holds the monitor: virsh passes the command on. */
static void guard_virsh(const struct guard_undo *u)
{
	struct timespec pause = { .tv_nsec = 500000000 };
	int try, status;
	pid_t child;

	for (try = 0; try < GUARD_QMP_TRIES; try++) {
		child = fork();
		if (!child) {
			execlp("virsh", "virsh", "-q", "-c", u->libvirt_uri,
			       "qemu-monitor-command", "--return-value",
			       u->libvirt_domain, u->qmp_command, (char *)NULL);
			_exit(127);
		}
		if (child < 0 || waitpid(child, &status, 0) != child ||
		    (WIFEXITED(status) && WEXITSTATUS(status) == 127))
			return;
		if (WIFEXITED(status) && !WEXITSTATUS(status))
			return;
		nanosleep(&pause, NULL);
	}
}

static int guard_rm_one(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	return remove(path);
}

static void __attribute__((noreturn)) guard_run(int pipe_rd,
						 const struct guard_undo *u)
{
	struct pollfd dead = { .fd = GUARD_PIDFD, .events = POLLIN };
	int rd = fcntl(pipe_rd, F_DUPFD, 64);
	int pidfd = u->pidfd >= 0 ? fcntl(u->pidfd, F_DUPFD, 64) : -1;
	int null = open("/dev/null", O_RDWR);
	ssize_t n;
	char word;

	setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_NAME, "shmctl-guard");
	/* Nothing of ours kept open: a socket, a pipe someone reads to EOF. */
	if (rd < 0 || null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
	    dup2(null, 2) < 0 || dup2(rd, GUARD_PIPE_FD) < 0 ||
	    (pidfd >= 0 && dup2(pidfd, GUARD_PIDFD) < 0))
		_exit(1);
	close_range(pidfd >= 0 ? GUARD_PIDFD + 1 : GUARD_PIPE_FD + 1, ~0U, 0);

	do
		n = read(GUARD_PIPE_FD, &word, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1)
		_exit(0);
	if (pidfd >= 0 && !pidfd_send_signal(GUARD_PIDFD, u->signal, NULL, 0) &&
	    u->signal == SIGKILL)
		poll(&dead, 1, GUARD_WAIT_MS);
	if (u->qmp_command[0] && u->libvirt_domain[0])
		guard_virsh(u);
	else if (u->qmp_command[0])
		guard_qmp(u);
	if (u->dir[0])
		nftw(u->dir, guard_rm_one, 8, FTW_DEPTH | FTW_PHYS);
	_exit(0);
}

int guard_arm(struct guard *g, const struct guard_undo *undo)
{
	int fds[2], err;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	g->child = fork();
	if (g->child < 0) {
		err = -errno;
		g->child = 0;
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (!g->child)
		guard_run(fds[0], undo);
	close(fds[0]);
	g->pipe = fds[1];
	return 0;
}

void guard_disarm(struct guard *g)
{
	if (!g->child)
		return;
	if (write(g->pipe, "", 1) != 1)
		kill(g->child, SIGKILL);
	close(g->pipe);
	waitpid(g->child, NULL, 0);
	g->child = 0;
}
