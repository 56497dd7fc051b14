// SPDX-License-Identifier: GPL-2.0
/*
 * Driving shm-testvmm from a test (testvmm.h). The binary is found next to
 * the test's own: build/tests/vmm/shm-testvmm.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "testvmm.h"

#define MAX_ARGS	32
#define CONNECT_TRIES	400	/* of 50 ms: TCG boots a VM slowly */

static void testvmm_exec(struct testvmm *v, struct hosts *h, enum host host,
			 const char *args)
{
	char exe[256], *argv[MAX_ARGS], *words, *word, *dir;
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 32);
	int argc = 0, fd;

	if (len < 0)
		_exit(127);
	exe[len] = 0;
	dir = strrchr(exe, '/');
	strcpy(dir, "/vmm/shm-testvmm");
	argv[argc++] = exe;
	argv[argc++] = "run";
	argv[argc++] = "--ctl";
	argv[argc++] = strdup(testvmm_path(v, "ctl.sock"));
	words = strdup(args);
	for (word = strtok(words, " "); word && argc < MAX_ARGS - 1;
	     word = strtok(NULL, " "))
		argv[argc++] = word;
	argv[argc] = NULL;

	fd = open(testvmm_path(v, "log"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 ||
	    setns(h->netns[host], CLONE_NEWNET))
		_exit(127);
	execv(exe, argv);
	_exit(127);
}

static int testvmm_connect(struct testvmm *v)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	strcpy(addr.sun_path, testvmm_path(v, "ctl.sock"));
	v->ctl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (v->ctl < 0)
		return -errno;
	if (!connect(v->ctl, (struct sockaddr *)&addr, sizeof(addr)))
		return 0;
	close(v->ctl);
	v->ctl = -1;
	return -ECONNREFUSED;
}

int testvmm_start(struct testvmm *v, struct hosts *h, enum host host,
		  const char *args)
{
	struct timespec tick = { .tv_nsec = 50 * 1000 * 1000 };
	int i;

	memset(v, 0, sizeof(*v));
	v->ctl = -1;
	strcpy(v->dir, "/tmp/shm-testvmm-XXXXXX");
	if (!mkdtemp(v->dir))
		return -errno;
	v->pid = fork();
	if (v->pid < 0)
		return -errno;
	if (!v->pid)
		testvmm_exec(v, h, host, args);

	for (i = 0; i < CONNECT_TRIES; i++) {
		if (waitpid(v->pid, NULL, WNOHANG) == v->pid) {
			v->pid = 0;
			return -ECHILD;
		}
		if (!testvmm_connect(v))
			return 0;
		nanosleep(&tick, NULL);
	}
	return -ETIMEDOUT;
}

void testvmm_release(struct testvmm *v)
{
	if (v->ctl >= 0)
		close(v->ctl);
	v->ctl = -1;
}

int testvmm_ctl(struct testvmm *v, const char *fmt, ...)
{
	char line[256];
	size_t got = 0;
	ssize_t n;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	line[len++] = '\n';
	snprintf(v->reply, sizeof(v->reply), "err no answer");
	/* A VMM a test killed must fail the call, not kill the test. */
	if ((v->ctl < 0 && (v->pid <= 0 || testvmm_connect(v))) ||
	    send(v->ctl, line, len, MSG_NOSIGNAL) != len)
		return -EIO;
	while (got < sizeof(v->reply) - 1) {
		n = read(v->ctl, v->reply + got, 1);
		if (n <= 0) {
			snprintf(v->reply, sizeof(v->reply), "err no answer");
			return -EIO;
		}
		if (v->reply[got] == '\n')
			break;
		got++;
	}
	v->reply[got] = 0;
	return strncmp(v->reply, "ok", 2) ? -EINVAL : 0;
}

int64_t testvmm_value(struct testvmm *v, const char *cmd, const char *key)
{
	char pattern[64];
	const char *at;

	if (testvmm_ctl(v, "%s", cmd))
		return -1;
	snprintf(pattern, sizeof(pattern), " %s=", key);
	at = strstr(v->reply, pattern);
	return at ? strtoll(at + strlen(pattern), NULL, 0) : -1;
}

int testvmm_vm_fd(struct testvmm *v)
{
	int64_t vmfd = testvmm_value(v, "info", "vmfd");
	int pidfd, fd;

	if (vmfd < 0)
		return -EINVAL;
	pidfd = pidfd_open(v->pid, 0);
	if (pidfd < 0)
		return -errno;
	fd = pidfd_getfd(pidfd, vmfd, 0);
	close(pidfd);
	return fd < 0 ? -errno : fd;
}

void testvmm_stop(struct testvmm *v)
{
	if (v->pid > 0) {
		testvmm_ctl(v, "quit");
		kill(v->pid, SIGKILL);
		waitpid(v->pid, NULL, 0);
	}
	if (v->ctl >= 0)
		close(v->ctl);
	v->pid = 0;
	v->ctl = -1;
	if (v->dir[0]) {
		char cmd[96];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", v->dir);
		if (system(cmd))
			fprintf(stderr, "# could not remove %s\n", v->dir);
	}
	v->dir[0] = 0;
}

const char *testvmm_path(struct testvmm *v, const char *name)
{
	snprintf(v->path, sizeof(v->path), "%s/%s", v->dir, name);
	return v->path;
}

void testvmm_dump_log(struct testvmm *v)
{
	char line[256];
	FILE *f = fopen(testvmm_path(v, "log"), "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "# %s", line);
	fclose(f);
}
