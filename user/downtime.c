// SPDX-License-Identifier: GPL-2.0
/*
 * shmctl downtime: the downtime probes on their own, for any migration,
 * shm's or another tool's, until interrupted or for a while:
 *
 *   --pid PID    the longest stretch in which no vCPU of that VMM ran in
 *                guest mode (KVM's tracepoints): its blackout;
 *   --ip ADDR    the longest gap between packets from ADDR on a device,
 *                either way, with a histogram of the gaps: what a client
 *                pinging the VM would see, to the microsecond.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "json.h"
#include "parse.h"
#include "probe.h"
#include "shmctl.h"
#include "subcommands.h"

static const char downtime_usage[] =
	"downtime [--ip ADDR [--dev IF]] [--pid PID]... [--duration SECONDS]\n"
	"         [--json]";

#define MAX_PIDS	SHM_PROBE_MAX_VMS

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

#define MAX_GAPS	4096

struct downtime {
	const char *ip, *dev;
	struct shm_probe_gap gaps[MAX_GAPS];	/* over 1 ms, as they came */
	unsigned int nr_gaps, gaps_lost;
	pid_t pids[MAX_PIDS];
	unsigned int nr_pids;
	uint32_t duration;
	bool json;
	uint64_t start_ns;
};

/* Seconds from the start of the probe to @ns; 0 for "never". */
static double since_start(const struct downtime *d, uint64_t ns)
{
	return ns ? (double)(int64_t)(ns - d->start_ns) / 1e9 : 0;
}

static void keep_gap(const struct shm_probe_gap *gap, void *arg)
{
	struct downtime *d = arg;

	if (d->nr_gaps < MAX_GAPS)
		d->gaps[d->nr_gaps++] = *gap;
	else
		d->gaps_lost++;
}

static void print_histogram(const struct shm_probe_packets *pk)
{
	uint64_t most = 0;
	unsigned int i, last = 0, bar;

	for (i = 0; i < SHM_PROBE_GAP_SLOTS; i++) {
		if (pk->gaps[i] > most)
			most = pk->gaps[i];
		if (pk->gaps[i])
			last = i;
	}
	if (!most)
		return;
	printf("  %22s : %-10s %s\n", "gap (us)", "count", "distribution");
	for (i = 0; i <= last; i++) {
		bar = pk->gaps[i] * 40 / most;
		printf("  %10llu -> %-9llu : %-10llu |%-40.*s|\n",
		       i ? 1ULL << i : 0ULL, (2ULL << i) - 1,
		       (unsigned long long)pk->gaps[i], bar,
		       "****************************************");
	}
}

static void print_text(struct downtime *d, struct probe *p)
{
	struct shm_probe_packets pk;
	struct shm_probe_vm vm;
	unsigned int i;

	for (i = 0; i < d->nr_pids; i++) {
		if (probe_vm(p, d->pids[i], &vm) || !vm.first_entry_ns) {
			printf("vCPUs of pid %d: never seen in guest mode\n",
			       d->pids[i]);
			continue;
		}
		printf("vCPUs of pid %d: longest blackout %.3f ms (no vCPU in guest mode), ended at %.3f s\n",
		       d->pids[i], vm.max_gap_ns / 1e6,
		       since_start(d, vm.max_gap_end_ns));
	}
	if (!d->ip)
		return;
	probe_packets(p, &pk);
	printf("packets from %s on %s (in and out): %llu, longest gap %.3f ms, ended at %.3f s\n",
	       d->ip, probe_dev(p), (unsigned long long)pk.packets,
	       pk.max_gap_ns / 1e6, since_start(d, pk.max_gap_end_ns));
	print_histogram(&pk);
}

static void print_json(struct downtime *d, struct probe *p)
{
	struct shm_probe_packets pk;
	struct shm_probe_vm vm;
	struct json j;
	unsigned int i;

	json_init(&j, stdout);
	json_object_begin(&j);
	json_member_uint(&j, "duration_ms", (monotonic_ns() - d->start_ns) / 1000000);
	json_key(&j, "vms");
	json_array_begin(&j);
	for (i = 0; i < d->nr_pids; i++) {
		if (probe_vm(p, d->pids[i], &vm))
			continue;
		json_object_begin(&j);
		json_member_uint(&j, "pid", d->pids[i]);
		json_member_bool(&j, "ran", vm.first_entry_ns);
		json_member_uint(&j, "max_blackout_us", vm.max_gap_ns / 1000);
		/* A migration's blackout: one VMM's first entry - the other's last exit. */
		json_member_uint(&j, "first_entry_ns", vm.first_entry_ns);
		json_member_uint(&j, "last_exit_ns", vm.last_exit_ns);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_key(&j, "long_gaps");
	json_array_begin(&j);
	for (i = 0; i < d->nr_gaps; i++) {
		json_object_begin(&j);
		json_member_string(&j, "kind", d->gaps[i].kind ==
				   SHM_PROBE_GAP_VCPUS ? "vcpus" : "packets");
		if (d->gaps[i].kind == SHM_PROBE_GAP_VCPUS)
			json_member_uint(&j, "pid", d->gaps[i].pid);
		json_member_uint(&j, "start_ns", d->gaps[i].start_ns);
		json_member_uint(&j, "end_ns", d->gaps[i].end_ns);
		json_member_uint(&j, "us", (d->gaps[i].end_ns -
					    d->gaps[i].start_ns) / 1000);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_member_uint(&j, "long_gaps_lost", d->gaps_lost);
	if (d->ip) {
		probe_packets(p, &pk);
		json_key(&j, "packets");
		json_object_begin(&j);
		json_member_string(&j, "address", d->ip);
		json_member_string(&j, "dev", probe_dev(p));
		json_member_uint(&j, "count", pk.packets);
		json_member_uint(&j, "max_gap_us", pk.max_gap_ns / 1000);
		json_key(&j, "gaps");
		json_array_begin(&j);
		for (i = 0; i < SHM_PROBE_GAP_SLOTS; i++) {
			if (!pk.gaps[i])
				continue;
			json_object_begin(&j);
			json_member_uint(&j, "from_us", i ? 1ULL << i : 0);
			json_member_uint(&j, "to_us", (2ULL << i) - 1);
			json_member_uint(&j, "count", pk.gaps[i]);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_object_end(&j);
	}
	json_object_end(&j);
	putchar('\n');
}

static int downtime_option(struct downtime *d, int c, const char *arg)
{
	uint32_t pid;

	switch (c) {
	case 'i':
		d->ip = arg;
		break;
	case 'D':
		d->dev = arg;
		break;
	case 'p':
		if (d->nr_pids == MAX_PIDS)
			return usage_error(downtime_usage, "at most %d --pid",
					   MAX_PIDS);
		if (parse_u32(arg, 1, INT32_MAX, &pid))
			return usage_error(downtime_usage, "--pid takes a process id, not '%s'",
					   arg);
		d->pids[d->nr_pids++] = pid;
		break;
	case 'd':
		if (parse_u32(arg, 1, 86400, &d->duration))
			return usage_error(downtime_usage, "--duration is 1 to 86400 seconds, not '%s'",
					   arg);
		break;
	case 'j':
		d->json = true;
		break;
	case 'h':
		return usage_help(downtime_usage);
	default:
		return SHMCTL_EXIT_USAGE;
	}
	return SHMCTL_PROCEED;
}

int downtime_main(int argc, char *argv[], const struct shmctl_opts *opts)
{
	static const struct option options[] = {
		{ "ip",		required_argument, NULL, 'i' },
		{ "dev",	required_argument, NULL, 'D' },
		{ "pid",	required_argument, NULL, 'p' },
		{ "duration",	required_argument, NULL, 'd' },
		{ "json",	no_argument,	   NULL, 'j' },
		{ "help",	no_argument,	   NULL, 'h' },
		{}
	};
	static struct downtime d;
	char why[256];
	struct probe *p;
	unsigned int i;
	int c, ret, err;

	d.json = opts->json;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		if (c == '?' || c == ':')
			return option_error(downtime_usage, argv, c);
		ret = downtime_option(&d, c, optarg);
		if (ret != SHMCTL_PROCEED)
			return ret;
	}
	if (optind != argc)
		return usage_error(downtime_usage, "unexpected argument '%s'",
				   argv[optind]);
	if (!d.ip && !d.nr_pids)
		return usage_error(downtime_usage, "name an --ip to watch, or a VMM's --pid");
	if (d.dev && !d.ip)
		return usage_error(downtime_usage, "--dev goes with --ip");

	p = probe_open(d.ip, d.dev, why, sizeof(why));
	if (!p) {
		fprintf(stderr, "shmctl: %s\n", why);
		return SHMCTL_EXIT_FAILURE;
	}
	for (i = 0; i < d.nr_pids; i++) {
		err = probe_watch_vm(p, d.pids[i]);
		if (err) {
			fprintf(stderr, "shmctl: cannot watch pid %d: %s\n",
				d.pids[i], strerror(-err));
			probe_close(p);
			return SHMCTL_EXIT_FAILURE;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	d.start_ns = monotonic_ns();
	/* Scripts wait for this line before they make the downtime. */
	fprintf(stderr, "probing%s%s%s%s; Ctrl-C to stop\n",
		d.nr_pids ? " vCPUs" : "", d.nr_pids && d.ip ? " and" : "",
		d.ip ? " packets on " : "", d.ip ? probe_dev(p) : "");
	while (!stop && (!d.duration ||
			 monotonic_ns() - d.start_ns < d.duration * 1000000000ULL))
		probe_poll_gaps(p, 50, keep_gap, &d);
	probe_poll_gaps(p, 0, keep_gap, &d);
	if (d.json)
		print_json(&d, p);
	else
		print_text(&d, p);
	probe_close(p);
	return SHMCTL_EXIT_OK;
}
