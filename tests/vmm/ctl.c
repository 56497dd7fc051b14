// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket: a UNIX stream socket that takes one command per line
 * (cmd.c) and answers each with one line, "ok[ DETAILS]" or "err MESSAGE".
 * One client at a time, which may send several commands.
 *
 * `shm-testvmm ctl SOCKET COMMAND...` is its client: it sends one command,
 * prints the answer and exits 0 on "ok". It waits up to CTL_WAIT_S for the
 * socket to appear, so a script may start a VMM and talk to it at once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "vmm.h"

#define CTL_WAIT_S	20

static void ctl_addr(struct sockaddr_un *addr, const char *path)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr->sun_path))
		die("%s: socket path too long", path);
	strcpy(addr->sun_path, path);
}

int ctl_listen(const char *path)
{
	struct sockaddr_un addr;
	int fd;

	ctl_addr(&addr, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(fd, 4))
		die("control socket %s: %m", path);
	return fd;
}

/* One client, until it hangs up; false if it said quit. */
static bool ctl_serve_client(struct vm *vm, int fd)
{
	char line[1024], reply[1024];
	FILE *in = fdopen(fd, "r");
	bool more = true;

	if (!in)
		die("fdopen: %m");
	while (more && fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\r\n")] = '\0';
		more = cmd_run(vm, line, reply, sizeof(reply) - 1);
		strcat(reply, "\n");
		send(fd, reply, strlen(reply), MSG_NOSIGNAL);
	}
	fclose(in);
	return more;
}

/*
 * Serves clients until timeout_ms has passed (-1: no limit) or one said
 * quit; false in the second case. lfd -1: just waits.
 */
bool ctl_serve(struct vm *vm, int lfd, int timeout_ms)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	struct timespec start, now;
	int left = timeout_ms, fd;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (timeout_ms >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			left = timeout_ms - ((now.tv_sec - start.tv_sec) * 1000 +
					     (now.tv_nsec - start.tv_nsec) / 1000000);
			if (left <= 0)
				return true;
		}
		if (poll(&pfd, 1, left) <= 0)
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0 && !ctl_serve_client(vm, fd))
			return false;
		/* A destination nobody will finish, as shmctl serve died. */
		if (fd >= 0 && vm->cfg.exit_on_hangup && !vm->resumed)
			return false;
	}
}

static int ctl_connect(const char *path)
{
	struct sockaddr_un addr;
	int fd, tries;

	ctl_addr(&addr, path);
	for (tries = 0; tries < CTL_WAIT_S * 10; tries++) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			die("socket: %m");
		if (!connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
			return fd;
		close(fd);
		if (errno != ENOENT && errno != ECONNREFUSED)
			break;
		usleep(100000);
	}
	die("%s: %m", path);
}

int ctl_client(const char *path, int argc, char **argv)
{
	char line[1024] = "", reply[1024];
	int fd = ctl_connect(path), i;
	ssize_t n, len = 0;

	for (i = 0; i < argc; i++) {
		if (strlen(line) + strlen(argv[i]) + 2 >= sizeof(line))
			die("command too long");
		strcat(line, argv[i]);
		strcat(line, i + 1 < argc ? " " : "\n");
	}
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0)
		die("%s: %m", path);
	shutdown(fd, SHUT_WR);
	while ((n = read(fd, reply + len, sizeof(reply) - 1 - len)) > 0)
		len += n;
	reply[len] = '\0';
	close(fd);
	if (!len)
		die("%s: no answer (VMM gone?)", path);
	fputs(reply, stdout);
	return strncmp(reply, "ok", 2) || (reply[2] != ' ' && reply[2] != '\n');
}
