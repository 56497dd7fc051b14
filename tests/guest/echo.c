// SPDX-License-Identifier: GPL-2.0
/*
 * TCP echo (port 7): the guest's side is one thread per connection that
 * sends back whatever comes. The host's side (--echo-client) is a long-lived
 * connection that keeps sending a known byte stream at a steady rate and
 * verifies every byte that comes back, in order: a migrated guest must keep
 * its connections, losing and corrupting nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "guest.h"
#include "pattern.h"

#define WINDOW		(256 << 10)	/* bytes in flight at most */
#define CHUNK		(16 << 10)

static void *echo_conn(void *arg)
{
	int fd = (intptr_t)arg;
	char buf[CHUNK];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || write_all(fd, buf, n))
			break;
	}
	close(fd);
	return NULL;
}

/* The echo port's accept loop, a thread of its own. */
void *echo_server(void *arg)
{
	int err = net_serve((intptr_t)arg, echo_conn);

	fprintf(stderr, "shm-guest: echo port: %s\n", strerror(-err));
	exit(1);
}

static volatile sig_atomic_t stop;

static void on_signal(int sig __attribute__((unused)))
{
	stop = 1;
}

struct echo {
	uint64_t sent, verified, max_stall_ns;
	uint64_t last_ns;		/* of the last progress with data out */
	char why[160];
};

static int echo_fail(struct echo *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->why, sizeof(e->why), fmt, ap);
	va_end(ap);
	return -1;
}

static int echo_send(struct echo *e, int fd, uint64_t allowed)
{
	uint8_t buf[CHUNK];
	uint64_t k, n = allowed - e->sent;
	ssize_t done;

	if (n > CHUNK)
		n = CHUNK;
	if (n > WINDOW - (e->sent - e->verified))
		n = WINDOW - (e->sent - e->verified);
	for (k = 0; k < n; k++)
		buf[k] = echo_byte(e->sent + k);
	done = send(fd, buf, n, MSG_NOSIGNAL);
	if (done < 0)
		return errno == EAGAIN || errno == EINTR ? 0 :
			echo_fail(e, "send: %s", strerror(errno));
	/* Nothing was out: the wait for an echo starts now. */
	if (e->sent == e->verified)
		e->last_ns = now_ns();
	e->sent += done;
	return 0;
}

static int echo_receive(struct echo *e, int fd)
{
	uint8_t buf[CHUNK];
	ssize_t n = recv(fd, buf, sizeof(buf), 0), k;
	uint64_t now;

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 :
			echo_fail(e, "receive: %s", strerror(errno));
	if (n == 0)
		return echo_fail(e, "connection closed by the guest");
	if (e->verified + n > e->sent)
		return echo_fail(e, "%" PRIu64 " bytes came back, only %" PRIu64
				 " were sent", e->verified + n, e->sent);
	for (k = 0; k < n; k++)
		if (buf[k] != echo_byte(e->verified + k))
			return echo_fail(e, "byte %" PRIu64 " is 0x%02x, want 0x%02x",
					 e->verified + k, buf[k],
					 echo_byte(e->verified + k));
	now = now_ns();
	if (now - e->last_ns > e->max_stall_ns)
		e->max_stall_ns = now - e->last_ns;
	e->last_ns = now;
	e->verified += n;
	return 0;
}

/*
 * Sends RATE bytes/s for DURATION s (or until SIGTERM/SIGINT), then waits
 * for the rest to come back. Fails when the connection breaks, a byte comes
 * back wrong, or nothing comes back for TIMEOUT s while something is out.
 * The last line says it all; max_stall_ms is the longest wait for an echo.
 */
int echo_client(const char *target, unsigned int duration, unsigned int rate,
		unsigned int timeout)
{
	struct echo e = { 0 };
	uint64_t start, now, allowed;
	int fd, err = 0;

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	fd = net_connect(target, ECHO_PORT, timeout);
	if (fd < 0) {
		printf("echo: FAIL: no connection to %s\n", target);
		return 1;
	}
	start = now = now_ns();
	while (!err) {
		bool sending = !stop && now - start < duration * 1000000000ULL;
		struct pollfd p = { .fd = fd, .events = POLLIN };

		allowed = (now - start) / 1000000 * rate / 1000;
		if (!sending && e.verified == e.sent)
			break;
		if (e.sent > e.verified && now - e.last_ns > timeout * 1000000000ULL) {
			err = echo_fail(&e, "nothing came back for %u s", timeout);
			break;
		}
		if (sending && allowed > e.sent && e.sent - e.verified < WINDOW)
			p.events |= POLLOUT;
		if (poll(&p, 1, 10) < 0 && errno != EINTR) {
			err = echo_fail(&e, "poll: %s", strerror(errno));
			break;
		}
		if (p.revents & (POLLIN | POLLERR | POLLHUP))
			err = echo_receive(&e, fd);
		if (!err && (p.revents & POLLOUT))
			err = echo_send(&e, fd, allowed);
		now = now_ns();
	}
	close(fd);
	printf("echo: sent=%" PRIu64 " verified=%" PRIu64 " max_stall_ms=%" PRIu64
	       " %s%s\n", e.sent, e.verified, e.max_stall_ns / 1000000,
	       err ? "FAIL: " : "ok", err ? e.why : "");
	return !!err;
}
