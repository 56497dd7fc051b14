// SPDX-License-Identifier: GPL-2.0
/*
 * shm-guest: the workload of the Linux guest that migration tests move
 * (tests/guest/init runs it; tests/qemu.sh boots the guest), and its
 * host-side tools. See guest.h for the parts.
 *
 *   shm-guest [OPTIONS]                  the workload, in the guest
 *   shm-guest --make-disk FILE MIB       the guest's disk image, on the host
 *   shm-guest --ctl IP[:PORT] COMMAND    one command to its control port
 *   shm-guest --echo-client IP[:PORT]    a long-lived echo connection
 *
 * Static: the guest's initramfs has no libc, and the host side runs
 * wherever the tests do.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "guest.h"

struct guest guest = { .lock = PTHREAD_MUTEX_INITIALIZER, .disk_fd = -1 };

static const char usage[] =
"usage: shm-guest [OPTIONS]               the workload, in the guest\n"
"  --mem MIB            memory region, every page checked (64)\n"
"  --rate N             pages/s the writer rewrites (0)\n"
"  --disk DEV           read random 4 KiB blocks of DEV (none)\n"
"  --disk-rate N        its reads/s (0)\n"
"  --check-interval S   self-check every S s, 0: only when asked (5)\n"
"  serves TCP echo on port 7 and commands on port 7001 (control.c)\n"
"       shm-guest --make-disk FILE MIB   the disk image the guest expects\n"
"       shm-guest --ctl IP[:PORT] [--timeout S] COMMAND...\n"
"                            one command to port 7001, prints the answer;\n"
"                            exit 0 ok, 1 other answer, 2 none (30 s)\n"
"       shm-guest --echo-client IP[:PORT] [--duration S] [--echo-rate B]\n"
"                 [--timeout S]\n"
"                            echo B bytes/s (65536) for S s (10) or until\n"
"                            SIGTERM, verify all; exit 0 only if all came\n"
"                            back intact; fails after --timeout s (30) of\n"
"                            silence\n";

enum {
	OPT_MEM = 256, OPT_RATE, OPT_DISK, OPT_DISK_RATE, OPT_CHECK_INTERVAL,
	OPT_MAKE_DISK, OPT_CTL, OPT_TIMEOUT, OPT_ECHO_CLIENT, OPT_DURATION,
	OPT_ECHO_RATE,
};

static const struct option options[] = {
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "disk-rate", required_argument, NULL, OPT_DISK_RATE },
	{ "check-interval", required_argument, NULL, OPT_CHECK_INTERVAL },
	{ "make-disk", required_argument, NULL, OPT_MAKE_DISK },
	{ "ctl", required_argument, NULL, OPT_CTL },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "echo-client", required_argument, NULL, OPT_ECHO_CLIENT },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "echo-rate", required_argument, NULL, OPT_ECHO_RATE },
	{ "help", no_argument, NULL, 'h' },
	{ }
};

static void __attribute__((noreturn)) bad_usage(const char *fmt, const char *s)
{
	fprintf(stderr, "shm-guest: ");
	fprintf(stderr, fmt, s);
	fprintf(stderr, "\n%s", usage);
	exit(2);
}

static unsigned int parse_uint(const char *s, const char *what)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno || n > UINT32_MAX)
		bad_usage("%s: want a number", what);
	return n;
}

static void start(void *(*fn)(void *), void *arg, const char *what)
{
	pthread_t t;

	if (pthread_create(&t, NULL, fn, arg)) {
		fprintf(stderr, "shm-guest: cannot start the %s\n", what);
		exit(1);
	}
}

static int run(unsigned int mib, const char *disk)
{
	int echo_fd, ctl_fd;
	int64_t pfn0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* A client that hangs up mid-answer must not kill the guest's workload. */
	signal(SIGPIPE, SIG_IGN);
	if (!mib || mem_init(mib) || disk_init(disk))
		return 1;
	echo_fd = net_listen(ECHO_PORT);
	ctl_fd = net_listen(CTL_PORT);
	if (echo_fd < 0 || ctl_fd < 0)
		return 1;

	start(mem_writer, NULL, "memory writer");
	if (guest.disk_fd >= 0)
		start(disk_reader, NULL, "disk reader");
	if (check_interval)
		start(check_loop, NULL, "self-check");
	start(echo_server, (void *)(intptr_t)echo_fd, "echo server");

	pfn0 = mem_pfn(0);
	printf("shm-guest: %" PRIu64 " pages (%u MiB) from pfn %" PRId64
	       ", %u pages/s; disk %s, %" PRIu64 " blocks, %u reads/s\n",
	       guest.npages, mib, pfn0, guest.rate, disk ? disk : "none",
	       guest.nblocks, guest.disk_rate);
	printf("shm-guest: ready\n");

	errno = -net_serve(ctl_fd, control_conn);
	fprintf(stderr, "shm-guest: control port: %s\n", strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	const char *disk = NULL, *make_disk = NULL, *ctl = NULL, *echo = NULL;
	unsigned int mib = 64, timeout = 30, duration = 10, echo_rate = 65536;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case OPT_MEM:
			mib = parse_uint(optarg, "--mem");
			break;
		case OPT_RATE:
			guest.rate = parse_uint(optarg, "--rate");
			break;
		case OPT_DISK:
			disk = optarg;
			break;
		case OPT_DISK_RATE:
			guest.disk_rate = parse_uint(optarg, "--disk-rate");
			break;
		case OPT_CHECK_INTERVAL:
			check_interval = parse_uint(optarg, "--check-interval");
			break;
		case OPT_MAKE_DISK:
			make_disk = optarg;
			break;
		case OPT_CTL:
			ctl = optarg;
			break;
		case OPT_TIMEOUT:
			timeout = parse_uint(optarg, "--timeout");
			break;
		case OPT_ECHO_CLIENT:
			echo = optarg;
			break;
		case OPT_DURATION:
			duration = parse_uint(optarg, "--duration");
			break;
		case OPT_ECHO_RATE:
			echo_rate = parse_uint(optarg, "--echo-rate");
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	argv += optind;
	argc -= optind;

	if (make_disk) {
		if (argc != 1)
			bad_usage("--make-disk %s: want FILE MIB", make_disk);
		return disk_make(make_disk, parse_uint(argv[0], "MIB"));
	}
	if (ctl) {
		char line[256] = "";
		int i;

		if (!argc)
			bad_usage("--ctl %s: want a COMMAND", ctl);
		for (i = 0; i < argc; i++) {
			if (strlen(line) + strlen(argv[i]) + 2 > sizeof(line))
				bad_usage("%s: command too long", argv[i]);
			if (i)
				strcat(line, " ");
			strcat(line, argv[i]);
		}
		return control_client(ctl, line, timeout);
	}
	if (echo) {
		if (argc || !echo_rate)
			bad_usage("--echo-client %s: want no arguments, a rate > 0",
				  echo);
		return echo_client(echo, duration, echo_rate, timeout);
	}
	if (argc)
		bad_usage("unexpected argument '%s'", argv[0]);
	return run(mib, disk);
}
