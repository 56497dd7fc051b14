// SPDX-License-Identifier: GPL-2.0
/*
 * The control port (7001): one line per command, one line per answer.
 *
 *   check          the full self-check: "ok pages=N gen_total=N writes=N
 *                  reads=N checks=N slots=N", or "FAIL <what, where>"
 *   stats          the counters, no check: "ok pages=N gen_total=N writes=N
 *                  reads=N checks=N fails=N rate=N disk_rate=N
 *                  read_errors=N pfn0=N" (pfn0: guest frame of the
 *                  region's first page, -1 if unknown)
 *   rate N         pages/s the writer rewrites: "ok"
 *   disk-rate N    reads/s of the disk reader: "ok"
 *   pfn I          guest frame of page I of the region: "ok pfn=N"
 *
 * Anything else, or a bad number: "err <why>". The host's side is
 * --ctl IP[:PORT] COMMAND, which prints the answer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "guest.h"

#define LINE_MAX_LEN	256

static int parse_u64(const char *s, uint64_t *n)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*n = strtoull(s, &end, 10);
	return *end || errno ? -1 : 0;
}

static void answer_check(char *ans, size_t len)
{
	struct check_result r;

	check_all(&r);
	if (!r.ok) {
		snprintf(ans, len, "FAIL %s", r.why);
		return;
	}
	pthread_mutex_lock(&guest.lock);
	snprintf(ans, len, "ok pages=%" PRIu64 " gen_total=%" PRIu64 " writes=%"
		 PRIu64 " reads=%" PRIu64 " checks=%" PRIu64 " slots=%" PRIu64,
		 r.pages, r.gen_total, guest.writes, guest.reads, guest.checks,
		 r.slots);
	pthread_mutex_unlock(&guest.lock);
}

static void answer_stats(char *ans, size_t len)
{
	uint64_t gen_total = mem_gen_total();
	int64_t pfn0 = mem_pfn(0);

	pthread_mutex_lock(&guest.lock);
	snprintf(ans, len, "ok pages=%" PRIu64 " gen_total=%" PRIu64 " writes=%"
		 PRIu64 " reads=%" PRIu64 " checks=%" PRIu64 " fails=%" PRIu64
		 " rate=%u disk_rate=%u read_errors=%" PRIu64 " pfn0=%" PRId64,
		 guest.npages, gen_total, guest.writes, guest.reads,
		 guest.checks, guest.fails,
		 __atomic_load_n(&guest.rate, __ATOMIC_RELAXED),
		 __atomic_load_n(&guest.disk_rate, __ATOMIC_RELAXED),
		 guest.read_errors, pfn0 < 0 ? -1 : pfn0);
	pthread_mutex_unlock(&guest.lock);
}

static void command(char *line, char *ans, size_t len)
{
	char *arg = strchr(line, ' ');
	uint64_t n;
	int64_t pfn;

	if (arg)
		*arg++ = 0;
	if (!strcmp(line, "check") && !arg) {
		answer_check(ans, len);
	} else if (!strcmp(line, "stats") && !arg) {
		answer_stats(ans, len);
	} else if (!strcmp(line, "rate") || !strcmp(line, "disk-rate")) {
		if (parse_u64(arg, &n) || n > UINT32_MAX) {
			snprintf(ans, len, "err %s: want pages or reads per second",
				 line);
			return;
		}
		__atomic_store_n(line[0] == 'r' ? &guest.rate : &guest.disk_rate,
				 (unsigned int)n, __ATOMIC_RELAXED);
		snprintf(ans, len, "ok");
	} else if (!strcmp(line, "pfn")) {
		if (parse_u64(arg, &n)) {
			snprintf(ans, len, "err pfn: want a page of the region");
			return;
		}
		pfn = mem_pfn(n);
		if (pfn < 0)
			snprintf(ans, len, "err pfn %" PRIu64 ": %s", n,
				 strerror(-pfn));
		else
			snprintf(ans, len, "ok pfn=%" PRId64, pfn);
	} else {
		snprintf(ans, len, "err unknown command '%s'", line);
	}
}

void *control_conn(void *arg)
{
	int fd = (intptr_t)arg;
	char buf[LINE_MAX_LEN], ans[512];
	size_t have = 0;

	for (;;) {
		char *nl = memchr(buf, '\n', have);
		ssize_t n;

		if (nl) {
			size_t used = nl - buf + 1;

			*nl = 0;
			if (nl > buf && nl[-1] == '\r')
				nl[-1] = 0;
			command(buf, ans, sizeof(ans) - 1);
			strcat(ans, "\n");
			if (write_all(fd, ans, strlen(ans)))
				break;
			memmove(buf, buf + used, have - used);
			have -= used;
			continue;
		}
		if (have == sizeof(buf)) {
			write_all(fd, "err line too long\n", 18);
			break;
		}
		n = read(fd, buf + have, sizeof(buf) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += n;
	}
	close(fd);
	return NULL;
}

/*
 * Sends LINE, prints the answer. Exit status: 0 it starts with "ok", 1
 * any other answer, 2 none within TIMEOUT s.
 */
int control_client(const char *target, const char *line, unsigned int timeout)
{
	char ans[1024] = "";
	size_t have = 0;
	uint64_t deadline = now_ns() + timeout * 1000000000ULL;
	int fd = net_connect(target, CTL_PORT, timeout);
	char *nl = NULL;

	if (fd < 0)
		return 2;
	/* A line this short fits any fresh socket's buffer. */
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) != (ssize_t)strlen(line) ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) != 1) {
		fprintf(stderr, "shm-guest: send to %s: %s\n", target, strerror(errno));
		close(fd);
		return 2;
	}
	while (!nl && have < sizeof(ans) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = now_ns();
		ssize_t n;

		if (now >= deadline ||
		    poll(&p, 1, (deadline - now) / 1000000 + 1) <= 0) {
			fprintf(stderr, "shm-guest: no answer from %s in %u s\n",
				target, timeout);
			close(fd);
			return 2;
		}
		n = recv(fd, ans + have, sizeof(ans) - 1 - have, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			fprintf(stderr, "shm-guest: %s hung up without an answer\n",
				target);
			close(fd);
			return 2;
		}
		have += n;
		ans[have] = 0;
		nl = strchr(ans, '\n');
	}
	close(fd);
	if (nl)
		*nl = 0;
	puts(ans);
	return strncmp(ans, "ok", 2) ? 1 : 0;
}
