// SPDX-License-Identifier: GPL-2.0
/*
 * Connections and lines between source and destination hosts (link.h).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "link.h"

void link_peer_name(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t ss_len = sizeof(ss);
	char host[64], port[8];

	if (getpeername(fd, (struct sockaddr *)&ss, &ss_len) ||
	    getnameinfo((struct sockaddr *)&ss, ss_len, host, sizeof(host),
			port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV))
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, "%s port %s", host, port);
}

int link_parse_address(const char *spec, char *host, size_t host_len,
		       uint16_t *port)
{
	const char *colon = strrchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
	unsigned long p = LINK_DEFAULT_PORT;
	char *end;

	if (colon) {
		p = strtoul(colon + 1, &end, 10);
		if (*end || !p || p > 65535)
			return -EINVAL;
	}
	if (!n || n >= host_len)
		return -EINVAL;
	memcpy(host, spec, n);
	host[n] = 0;
	*port = p;
	return 0;
}

static int link_resolve(const char *host, uint16_t port, int passive,
			struct addrinfo **res, char *why, size_t len)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
		.ai_flags = passive ? AI_PASSIVE : 0,
	};
	char service[8];
	int err;

	snprintf(service, sizeof(service), "%u", port);
	err = getaddrinfo(host, service, &hints, res);
	if (err)
		snprintf(why, len, "cannot resolve %s: %s", host ?: "*",
			 gai_strerror(err));
	return err ? -EHOSTUNREACH : 0;
}

/*
 * Lines go at once, not held back by Nagle while the last is unacked:
 * each may be what the peer waits for, mid-blackout (shm.ko sets the same
 * on the data streams). LINK_DEAD_PEER_S: keepalive after 4 s idle, every
 * 2 s, 3 probes.
 */
static int link_set_options(int fd)
{
	unsigned int user_timeout = LINK_DEAD_PEER_S * 1000;
	int on = 1, idle = 4, interval = 2, probes = 3;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout,
		       sizeof(user_timeout)) ||
	    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval,
		       sizeof(interval)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof(probes)))
		return -errno;
	return 0;
}

int link_accept(int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	err = link_set_options(fd);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int link_connect(const char *host, uint16_t port, char *why, size_t len)
{
	struct addrinfo *res, *ai;
	int fd = -1, err;

	err = link_resolve(host, port, 0, &res, why, len);
	if (err)
		return err;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd >= 0 && !connect(fd, ai->ai_addr, ai->ai_addrlen) &&
		    !link_set_options(fd))
			break;
		err = -errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(why, len, "cannot connect to %s port %u: %s", host,
			 port, strerror(-err));
	return fd < 0 ? err : fd;
}

int link_listen(const char *addr, uint16_t port, char *why, size_t len)
{
	struct addrinfo *res;
	int fd, one = 1, err;

	err = link_resolve(addr, port, 1, &res, why, len);
	if (err)
		return err;
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 64)) {
		err = -errno;
		snprintf(why, len, "cannot listen on %s port %u: %s",
			 addr ?: "*", port, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = err;
	}
	freeaddrinfo(res);
	return fd;
}

int link_send_bytes(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		p += n;
		len -= n;
	}
	return 0;
}

int link_send(int fd, const char *fmt, ...)
{
	char line[LINK_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(line) - 1)
		return -E2BIG;
	line[n++] = '\n';
	return link_send_bytes(fd, line, n);
}

/* What has come, up to @len bytes, waiting for some; taken unless peeked. */
static ssize_t link_recv_some(int fd, void *buf, size_t len, int timeout_ms,
			      int flags)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	for (;;) {
		n = poll(&pfd, 1, timeout_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ETIMEDOUT;
		n = recv(fd, buf, len, flags);
		if (n < 0 && errno == EINTR)
			continue;
		return n > 0 ? n : n < 0 ? -errno : -ECONNRESET;
	}
}

int link_recv_bytes(int fd, void *buf, size_t len, int timeout_ms)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = link_recv_some(fd, p, len, timeout_ms, 0);
		if (n < 0)
			return n;
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * A line is looked at before it is taken, and taken up to its end only:
 * the bytes of a STATE piece may follow it. (A byte at a time would be a
 * system call per byte, for lines of up to LINK_LINE_MAX.)
 */
int link_recv(int fd, char *line, size_t len, int timeout_ms)
{
	size_t got = 0;
	ssize_t n;
	char *end;
	int err;

	while (got < len - 1) {
		n = link_recv_some(fd, line + got, len - 1 - got, timeout_ms,
				   MSG_PEEK);
		if (n < 0)
			return n;
		end = memchr(line + got, '\n', n);
		if (end)
			n = end - (line + got) + 1;
		/* Taken as peeked: it has come, and only we read @fd. */
		err = link_recv_bytes(fd, line + got, n, timeout_ms);
		if (err)
			return err;
		got += n;
		if (end) {
			line[got - 1] = 0;
			return 0;
		}
	}
	return -E2BIG;
}

int link_get(const char *line, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key), vlen;
	const char *p = line;

	while ((p = strstr(p, key))) {
		if ((p == line || p[-1] == ' ') && p[klen] == '=') {
			p += klen + 1;
			vlen = strcspn(p, " ");
			if (vlen >= len)
				return -E2BIG;
			memcpy(buf, p, vlen);
			buf[vlen] = 0;
			return 0;
		}
		p += klen;
	}
	return -ENOENT;
}

int link_get_u64(const char *line, const char *key, uint64_t max,
		 uint64_t *value)
{
	char buf[24], *end;
	int err = link_get(line, key, buf, sizeof(buf));

	if (err)
		return err;
	errno = 0;
	*value = strtoull(buf, &end, 10);
	if (!buf[0] || *end || errno || *value > max || buf[0] == '-')
		return -EINVAL;
	return 0;
}

int link_is(const char *line, const char *word)
{
	size_t n = strlen(word);

	return !strncmp(line, word, n) && (!line[n] || line[n] == ' ');
}

int link_check_version(const char *line, const char *peer, char *why,
		       size_t len)
{
	uint64_t theirs;

	/* shmctl gave no version before the first. */
	if (link_get_u64(line, "link", UINT32_MAX, &theirs))
		return snprintf(why, len, "the %s's shmctl is older than this one: run the same shmctl version on both hosts",
				peer), -EPROTO;
	if (theirs != LINK_VERSION)
		return snprintf(why, len, "the %s's shmctl speaks control protocol %llu, this one %u: run the same shmctl version on both hosts",
				peer, (unsigned long long)theirs, LINK_VERSION), -EPROTO;
	return 0;
}
