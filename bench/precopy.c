// SPDX-License-Identifier: GPL-2.0
/*
 * Round 1 of a migration, side by side: shm.ko's in-kernel zero-copy path
 * against a user-space baseline that reads the same guest memory and
 * write()s it to the same kind of socket (TCP on loopback, the same number
 * of streams, the same 2 MiB sharding and per-page framing), into a second
 * VM's memory on the other end.
 *
 * Reported per method: wall time, throughput, and the CPU the whole machine
 * spent meanwhile (from /proc/stat, so kernel threads, softirqs and both
 * ends count alike), then the ratio of bytes moved per CPU-second.
 *
 * usage: precopy_bench [MiB [STREAMS [RUNS]]]	(defaults 128 4 3)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <shm/wire.h>

#include "memvm.h"
#include "nl.h"

#define PAGE 4096
#define MAX_STREAMS 16

struct sample {
	double seconds, cpu_seconds;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds the machine spent busy: every /proc/stat field but idle. */
static double busy_seconds(void)
{
	unsigned long long v[10] = {};
	double busy = 0;
	FILE *f = fopen("/proc/stat", "r");
	int i;

	if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
			 &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			 &v[7]) != 8) {
		perror("/proc/stat");
		exit(1);
	}
	fclose(f);
	for (i = 0; i < 8; i++)
		if (i != 3 && i != 4)	/* idle, iowait */
			busy += v[i];
	return busy / sysconf(_SC_CLK_TCK);
}

static void fill_random(struct memvm *vm)
{
	uint64_t x = 0x243f6a8885a308d3ULL, *w = (uint64_t *)vm->slots[0].mem;
	size_t i;

	for (i = 0; i < vm->slots[0].size / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		w[i] = x | 1;	/* no zero page: every page travels whole */
	}
}

static void die(const char *what, int err)
{
	fprintf(stderr, "precopy_bench: %s: %s\n", what, strerror(-err));
	exit(1);
}

/* --- shm.ko ---------------------------------------------------------- */

static struct sample run_kernel(struct memvm *src, struct memvm *dst,
				unsigned int streams)
{
	int src_fds[MAX_STREAMS], dst_fds[MAX_STREAMS], pair[2];
	struct nl_sock *sk = nl_open();
	struct timespec tick = { .tv_nsec = 2 * 1000 * 1000 };
	uint32_t src_id, dst_id;
	struct nl_result res;
	struct sample s;
	double t0, c0;
	unsigned int i;
	int err;

	if (!sk)
		die("shm family", -ENOENT);
	for (i = 0; i < streams; i++) {
		err = tcp_pair(pair);
		if (err)
			die("tcp", err);
		src_fds[i] = pair[0];
		dst_fds[i] = pair[1];
	}
	if ((err = nl_session_new_streams(sk, SHM_ROLE_SOURCE, streams, &src_id)) ||
	    (err = nl_session_new_streams(sk, SHM_ROLE_DESTINATION, streams,
					  &dst_id)) ||
	    (err = nl_session_attach(sk, dst_id, dst->fd, dst_fds, streams,
				     &res)) ||
	    (err = nl_session_attach(sk, src_id, src->fd, src_fds, streams,
				     &res)) ||
	    (err = nl_session_cmd(sk, SHM_CMD_SESSION_START, dst_id, &res)))
		die("session setup", err);

	t0 = now();
	c0 = busy_seconds();
	err = nl_session_cmd(sk, SHM_CMD_SESSION_START, src_id, &res);
	if (err)
		die("start", err);
	for (;;) {
		struct nlattr *tb[SHM_STATS_A_MAX + 1];

		err = nl_session_get(sk, src_id, &res);
		if (err)
			die("get", err);
		if (res.attrs[SHM_SESSION_A_STATS] &&
		    !nla_parse_nested(tb, SHM_STATS_A_MAX,
				      res.attrs[SHM_SESSION_A_STATS], NULL) &&
		    tb[SHM_STATS_A_ROUNDS] && nla_get_u64(tb[SHM_STATS_A_ROUNDS]))
			break;
		nanosleep(&tick, NULL);
	}
	s.seconds = now() - t0;
	s.cpu_seconds = busy_seconds() - c0;

	nl_session_del(sk, src_id);
	nl_session_del(sk, dst_id);
	for (i = 0; i < streams; i++) {
		close(src_fds[i]);
		close(dst_fds[i]);
	}
	nl_close(sk);
	return s;
}

/* --- the user-space baseline ------------------------------------------ */

struct stream {
	struct memvm *vm;
	unsigned int index, streams;
	int fd;
};

static uint64_t pages_of(struct memvm *vm)
{
	return vm->slots[0].size / PAGE;
}

static void *send_stream(void *arg)
{
	struct stream *st = arg;
	struct shm_wire_frame f = { .type = SHM_WIRE_PAGE };
	uint64_t gfn;

	for (gfn = 0; gfn < pages_of(st->vm); gfn++) {
		struct iovec iov[2] = {
			{ &f, sizeof(f) },
			{ st->vm->slots[0].mem + gfn * PAGE, PAGE },
		};

		if (shm_wire_shard(gfn, st->streams) != st->index)
			continue;
		f.arg = gfn;
		if (writev(st->fd, iov, 2) != sizeof(f) + PAGE)
			die("writev", -errno);
	}
	shutdown(st->fd, SHUT_WR);
	return NULL;
}

static void *recv_stream(void *arg)
{
	struct stream *st = arg;
	struct shm_wire_frame f;

	for (;;) {
		ssize_t n = recv(st->fd, &f, sizeof(f), MSG_WAITALL);

		if (n == 0)
			break;
		if (n != sizeof(f) || f.arg >= pages_of(st->vm))
			die("recv header", -EPROTO);
		if (recv(st->fd, st->vm->slots[0].mem + f.arg * PAGE, PAGE,
			 MSG_WAITALL) != PAGE)
			die("recv page", -errno);
	}
	return NULL;
}

static struct sample run_user(struct memvm *src, struct memvm *dst,
			      unsigned int streams)
{
	struct stream tx[MAX_STREAMS], rx[MAX_STREAMS];
	pthread_t threads[2 * MAX_STREAMS];
	struct sample s;
	double t0, c0;
	unsigned int i;
	int pair[2];

	for (i = 0; i < streams; i++) {
		int err = tcp_pair(pair);

		if (err)
			die("tcp", err);
		tx[i] = (struct stream){ src, i, streams, pair[0] };
		rx[i] = (struct stream){ dst, i, streams, pair[1] };
	}
	t0 = now();
	c0 = busy_seconds();
	for (i = 0; i < streams; i++) {
		pthread_create(&threads[2 * i], NULL, recv_stream, &rx[i]);
		pthread_create(&threads[2 * i + 1], NULL, send_stream, &tx[i]);
	}
	for (i = 0; i < 2 * streams; i++)
		pthread_join(threads[i], NULL);
	s.seconds = now() - t0;
	s.cpu_seconds = busy_seconds() - c0;
	for (i = 0; i < streams; i++) {
		close(tx[i].fd);
		close(rx[i].fd);
	}
	return s;
}

static struct memvm make_vm(uint64_t bytes)
{
	struct memvm vm;
	int err = memvm_create(&vm);

	if (!err)
		err = memvm_add_slot(&vm, 0, bytes, 0);
	if (err)
		die("VM", err);
	return vm;
}

static void report(const char *name, unsigned int streams, double mib,
		   const struct sample *s)
{
	printf("%-10s %7u %7.0f %9.3f %9.1f %9.3f %12.1f\n", name, streams, mib,
	       s->seconds, mib / s->seconds, s->cpu_seconds,
	       mib / s->cpu_seconds);
}

/* The two ways of moving round 1, run side by side. */
static const struct method {
	const char *name;
	struct sample (*run)(struct memvm *src, struct memvm *dst,
			     unsigned int streams);
} methods[] = {
	{ "shm.ko", run_kernel },
	{ "user", run_user },
};

int main(int argc, char *argv[])
{
	unsigned int mib = argc > 1 ? atoi(argv[1]) : 128;
	unsigned int streams = argc > 2 ? atoi(argv[2]) : 4;
	unsigned int runs = argc > 3 ? atoi(argv[3]) : 3;
	struct sample best[2] = {}, one;
	struct memvm src, dst;
	unsigned int r, m;

	if (!mib || !streams || streams > MAX_STREAMS || !runs) {
		fprintf(stderr, "usage: precopy_bench [MiB [STREAMS [RUNS]]]\n");
		return 2;
	}
	src = make_vm((uint64_t)mib << 20);
	dst = make_vm((uint64_t)mib << 20);
	fill_random(&src);

	printf("round 1 of %u MiB of guest memory, %u streams, best of %u runs\n",
	       mib, streams, runs);
	printf("%-10s %7s %7s %9s %9s %9s %12s\n", "method", "streams", "MiB",
	       "seconds", "MiB/s", "CPU-s", "MiB/CPU-s");
	/* Alternate, so that drift in the machine hits both alike. */
	for (r = 0; r < runs; r++) {
		for (m = 0; m < 2; m++) {
			memset(dst.slots[0].mem, 0, dst.slots[0].size);
			one = methods[m].run(&src, &dst, streams);
			if (memcmp(src.slots[0].mem, dst.slots[0].mem,
				   src.slots[0].size))
				die(methods[m].name, -EIO);
			report(methods[m].name, streams, mib, &one);
			if (!r || one.cpu_seconds < best[m].cpu_seconds)
				best[m] = one;
		}
	}
	printf("best: shm.ko %.1f MiB/CPU-s, user %.1f MiB/CPU-s: ratio %.2fx "
	       "per CPU-second (target >= 1.5x); wall-clock ratio %.2fx\n",
	       mib / best[0].cpu_seconds, mib / best[1].cpu_seconds,
	       best[1].cpu_seconds / best[0].cpu_seconds,
	       best[1].seconds / best[0].seconds);
	memvm_destroy(&src);
	memvm_destroy(&dst);
	return 0;
}
