// SPDX-License-Identifier: GPL-2.0
/*
 * Two hosts as network namespaces (hosts.h), made with iproute2 as an
 * operator would, so that a failing test can be reproduced by hand.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "hosts.h"

static const char *const addrs[NR_HOSTS] = { "10.213.0.1", HOSTS_DST_ADDR };

static int vrun(const char *prefix, const char *fmt, va_list ap)
{
	char cmd[512];
	int len, status;

	len = snprintf(cmd, sizeof(cmd), "%s", prefix);
	vsnprintf(cmd + len, sizeof(cmd) - len, fmt, ap);
	status = system(cmd);
	if (status == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vrun("", fmt, ap);
	va_end(ap);
	return ret;
}

int hosts_run(struct hosts *h, enum host host, const char *fmt, ...)
{
	char prefix[64];
	va_list ap;
	int ret;

	snprintf(prefix, sizeof(prefix), "ip netns exec %s ", h->name[host]);
	va_start(ap, fmt);
	ret = vrun(prefix, fmt, ap);
	va_end(ap);
	return ret;
}

int hosts_create(struct hosts *h, const char *rate)
{
	char path[64];
	int i;

	memset(h, 0, sizeof(*h));
	for (i = 0; i < NR_HOSTS; i++)
		h->netns[i] = -1;
	h->home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (h->home < 0)
		return -errno;
	for (i = 0; i < NR_HOSTS; i++) {
		snprintf(h->name[i], sizeof(h->name[i]), "shm-%s-%d",
			 i == HOST_SRC ? "src" : "dst", getpid());
		if (run("ip netns add %s", h->name[i]))
			goto fail;
		snprintf(path, sizeof(path), "/run/netns/%s", h->name[i]);
		h->netns[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (h->netns[i] < 0)
			goto fail;
	}
	if (run("ip link add mig0 netns %s type veth peer name mig0 netns %s",
		h->name[HOST_SRC], h->name[HOST_DST]))
		goto fail;
	for (i = 0; i < NR_HOSTS; i++)
		if (hosts_run(h, i, "ip addr add %s/24 dev mig0", addrs[i]) ||
		    hosts_run(h, i, "ip link set mig0 up") ||
		    hosts_run(h, i, "ip link set lo up"))
			goto fail;
	/* A token bucket on the source's side: pages flow that way. */
	if (rate && hosts_run(h, HOST_SRC,
			      "tc qdisc add dev mig0 root tbf rate %s burst 64kb latency 100ms",
			      rate))
		goto fail;
	return 0;
fail:
	hosts_destroy(h);
	return -EIO;
}

void hosts_destroy(struct hosts *h)
{
	int i;

	for (i = 0; i < NR_HOSTS; i++) {
		if (h->netns[i] >= 0)
			close(h->netns[i]);
		if (h->name[i][0])
			run("ip netns del %s 2>/dev/null", h->name[i]);
	}
	if (h->home >= 0)
		close(h->home);
	memset(h, 0, sizeof(*h));
	h->home = -1;
}

int hosts_enter(struct hosts *h, enum host host)
{
	return setns(h->netns[host], CLONE_NEWNET) ? -errno : 0;
}

int hosts_leave(struct hosts *h)
{
	return setns(h->home, CLONE_NEWNET) ? -errno : 0;
}

/* Sockets belong to the namespace they were made in, wherever used later. */
int hosts_connect(struct hosts *h, int *src_fds, int *dst_fds,
		  unsigned int nr)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET, .sin_port = htons(HOSTS_PORT),
	};
	int one = 1, lfd = -1, err = -EIO;
	unsigned int i;

	inet_pton(AF_INET, HOSTS_DST_ADDR, &addr.sin_addr);
	if (hosts_enter(h, HOST_DST))
		return -errno;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(lfd, nr))
		goto out;
	if (hosts_enter(h, HOST_SRC))
		goto out;
	for (i = 0; i < nr; i++) {
		src_fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (src_fds[i] < 0 ||
		    connect(src_fds[i], (struct sockaddr *)&addr, sizeof(addr)))
			goto out;
		/* One at a time: accept order is connect order. */
		dst_fds[i] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (dst_fds[i] < 0)
			goto out;
	}
	err = 0;
out:
	if (err)
		err = -errno ?: -EIO;
	if (lfd >= 0)
		close(lfd);
	hosts_leave(h);
	return err;
}
