// SPDX-License-Identifier: GPL-2.0
/*
 * TCP plumbing for both sides: the guest's listening sockets, the host's
 * connections to them (bounded in time: a guest being migrated may not
 * answer for a while, a broken one never).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "guest.h"

int net_listen(uint16_t port)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_ANY),
	};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 64)) {
		fprintf(stderr, "shm-guest: listen on port %u: %s\n", port,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * Accepts on LFD forever, each connection served by CONN(fd) in a thread of
 * its own: connections are few and long-lived. Returns only on a fatal
 * error.
 */
int net_serve(int lfd, void *(*conn)(void *))
{
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		pthread_t t;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* Out of descriptors or memory: wait, not spin. */
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				sleep(1);
				continue;
			}
			return -errno;
		}
		if (pthread_create(&t, &attr, conn, (void *)(intptr_t)fd))
			close(fd);
	}
}

/* TARGET is IPv4[:PORT]; PORT is the default. */
static int parse_target(const char *target, uint16_t port,
			struct sockaddr_in *a)
{
	char host[64], *colon, *end;

	if (strlen(target) >= sizeof(host))
		return -1;
	strcpy(host, target);
	colon = strchr(host, ':');
	if (colon) {
		unsigned long p = strtoul(colon + 1, &end, 10);

		if (end == colon + 1 || *end || !p || p > 65535)
			return -1;
		port = p;
		*colon = 0;
	}
	*a = (struct sockaddr_in){ .sin_family = AF_INET,
				   .sin_port = htons(port) };
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

/* A connected socket, non-blocking, or -1 with the reason on stderr. */
int net_connect(const char *target, uint16_t port, unsigned int timeout)
{
	struct sockaddr_in a;
	struct pollfd p;
	int fd, ready, err = 0;
	socklen_t len = sizeof(err);

	if (parse_target(target, port, &a)) {
		fprintf(stderr, "shm-guest: bad address '%s' (want IPv4[:PORT])\n",
			target);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) && errno != EINPROGRESS)
		goto fail;
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	ready = poll(&p, 1, timeout * 1000);
	if (ready <= 0) {
		errno = ready ? errno : ETIMEDOUT;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		goto fail;
	if (err) {
		errno = err;
		goto fail;
	}
	return fd;
fail:
	fprintf(stderr, "shm-guest: connect to %s: %s\n", target, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* For the guest's blocking sockets. */
int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}
