// SPDX-License-Identifier: GPL-2.0
/*
 * One migration's downtime from both hosts' probes (measure.h).
 *
 * On the control connection, after RUNNING:
 *   source: CLOCK
 *   dest:   CLOCK boot=ID now=NS first_run=NS first_packet=NS [why=WORDS]
 * NS are the destination's CLOCK_MONOTONIC nanoseconds, 0 for "not seen";
 * why says, with '_' for blanks, why the destination measured nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "link.h"
#include "measure.h"
#include "probe.h"

#define FIRST_PACKET_WAIT_MS	1000
#define CLOCK_TIMEOUT_MS	5000

static void boot_id(char *id, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	if (!f || !fgets(id, len, f))
		snprintf(id, len, "unknown");
	id[strcspn(id, "\n")] = '\0';
	if (f)
		fclose(f);
}

void measure_start(struct measure *ms, pid_t pid, const char *watch)
{
	char addr[64] = "", *at;
	int err;

	memset(ms, 0, sizeof(*ms));
	ms->pid = pid;
	if (watch) {
		snprintf(addr, sizeof(addr), "%s", watch);
		at = strchr(addr, '@');
		if (at)
			*at++ = '\0';
		ms->packets = true;
		ms->probe = probe_open(addr, at, ms->why, sizeof(ms->why));
	} else {
		ms->probe = probe_open(NULL, NULL, ms->why, sizeof(ms->why));
	}
	if (!ms->probe)
		return;
	err = probe_watch_vm(ms->probe, pid);
	if (err) {
		snprintf(ms->why, sizeof(ms->why), "cannot watch the VMM: %s",
			 strerror(-err));
		probe_close(ms->probe);
		ms->probe = NULL;
	}
}

void measure_stop(struct measure *ms)
{
	probe_close(ms->probe);
	ms->probe = NULL;
}

void measure_source_paused(struct measure *ms)
{
	struct shm_probe_packets pk;
	struct shm_probe_vm vm;

	if (!ms->probe)
		return;
	if (!probe_vm(ms->probe, ms->pid, &vm))
		ms->vcpu_ns = vm.last_exit_ns;
	probe_packets(ms->probe, &pk);
	ms->packet_ns = pk.last_ns;
}

void measure_dest_resuming(struct measure *ms)
{
	if (ms->probe)
		probe_packets_reset(ms->probe);
}

/* The destination's half, once the guest runs. */
static void measure_dest_ran(struct measure *ms)
{
	uint64_t until = monotonic_ns() + FIRST_PACKET_WAIT_MS * 1000000ULL;
	struct shm_probe_packets pk;
	struct shm_probe_vm vm;

	if (!ms->probe)
		return;
	if (!probe_vm(ms->probe, ms->pid, &vm))
		ms->vcpu_ns = vm.first_entry_ns;
	do {
		probe_packets(ms->probe, &pk);
		if (pk.first_ns || !ms->packets)
			break;
		usleep(10000);
	} while (monotonic_ns() < until);
	ms->packet_ns = pk.first_ns;
}

int measure_dest_answer(struct measure *ms, int fd)
{
	char line[LINK_LINE_MAX], id[64], why[sizeof(ms->why)], *c;
	int err;

	err = link_recv(fd, line, sizeof(line), CLOCK_TIMEOUT_MS);
	if (err)
		return err;
	if (!link_is(line, "CLOCK"))
		return -EPROTO;
	measure_dest_ran(ms);
	boot_id(id, sizeof(id));
	snprintf(why, sizeof(why), "%s", ms->why);
	for (c = why; *c; c++)
		if (*c == ' ')
			*c = '_';
	return link_send(fd, "CLOCK boot=%s now=%llu first_run=%llu first_packet=%llu%s%s",
			 id, (unsigned long long)monotonic_ns(),
			 (unsigned long long)ms->vcpu_ns,
			 (unsigned long long)ms->packet_ns,
			 why[0] ? " why=" : "", why);
}

/* @to minus @from, both in the source's clock; false if backwards. */
static bool interval(uint64_t from, int64_t to, uint64_t *ns)
{
	if (!from || to <= 0 || (uint64_t)to < from)
		return false;
	*ns = to - from;
	return true;
}

int measure_source_combine(struct measure *ms, int fd,
			   struct downtime_figures *f)
{
	char line[LINK_LINE_MAX], ours[64], theirs[64], why[192] = "", *c;
	uint64_t t0, t3, now, run, packet;
	int64_t offset = 0;
	int err;

	memset(f, 0, sizeof(*f));
	t0 = monotonic_ns();
	err = link_send(fd, "CLOCK") ?:
	      link_recv(fd, line, sizeof(line), CLOCK_TIMEOUT_MS);
	t3 = monotonic_ns();
	if (!err && (!link_is(line, "CLOCK") ||
		     link_get(line, "boot", theirs, sizeof(theirs)) ||
		     link_get_u64(line, "now", UINT64_MAX, &now) ||
		     link_get_u64(line, "first_run", UINT64_MAX, &run) ||
		     link_get_u64(line, "first_packet", UINT64_MAX, &packet)))
		err = -EPROTO;
	if (err) {
		snprintf(f->why_blackout, sizeof(f->why_blackout),
			 "the destination did not tell its half");
		snprintf(f->why_gap, sizeof(f->why_gap), "%s", f->why_blackout);
		return err;
	}
	link_get(line, "why", why, sizeof(why));
	for (c = why; *c; c++)
		if (*c == '_')
			*c = ' ';
	boot_id(ours, sizeof(ours));
	f->one_clock = !strcmp(ours, theirs) && strcmp(ours, "unknown");
	if (!f->one_clock) {
		/* Their "now" was read between our t0 and t3. */
		offset = (int64_t)(now - (t0 / 2 + t3 / 2));
		f->uncertainty_ns = (t3 - t0) / 2;
	}
	f->blackout_ok = run && interval(ms->vcpu_ns, run - offset,
					 &f->blackout_ns);
	f->gap_ok = packet && interval(ms->packet_ns, packet - offset,
				       &f->gap_ns);
	if (!f->blackout_ok)
		snprintf(f->why_blackout, sizeof(f->why_blackout), "%s",
			 !ms->probe ? ms->why : why[0] ? why :
			 !ms->vcpu_ns ? "the VM never ran here under the probe" :
			 "the destination never saw the VM run");
	if (!f->gap_ok)
		snprintf(f->why_gap, sizeof(f->why_gap), "%s",
			 !ms->packets ? "no address to watch (--watch-ip)" :
			 !ms->probe ? ms->why : why[0] ? why :
			 !ms->packet_ns ? "no packet from the VM here before the cutover" :
			 "no packet from the VM on the destination within a second");
	return 0;
}
