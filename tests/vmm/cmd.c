// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket's commands, one line each:
 *
 *   pause            kick the vCPUs out and keep them (and the writer) out;
 *                    answers once all are out
 *   resume           let them run again (a destination: after restore)
 *   blackout MS      pause for MS ms, then resume: "ok paused_us=N
 *                    start_ns=T end_ns=T", how long and when (CLOCK_MONOTONIC)
 *                    the vCPU threads were all out of KVM_RUN (running)
 *   save FILE        vCPU and writer state to FILE (paused)
 *   restore FILE     and back, into this VM (paused)
 *   report SESSION   the writer reports its writes to this shm session
 *   hash FILE        "GFN HASH" per page of RAM to FILE
 *   check            host-side check of every stamped page (paused)
 *   selfcheck        the guest checks every stamped page (running)
 *   stats            state=running|paused|failed started=VCPUS writes=N
 *                    vcpu0=N... writer=N exits=N reports=N report_errors=N
 *   info             pid=PID vmfd=FD ramfd=FD ram=BYTES slots=N vcpus=N
 *                    writer_pages=N writer_rate=N manual_protect=0|1
 *                    beacon_from=IP beacon_to=IP beacon_port=N (numbers):
 *                    pidfd_getfd(pidfd_open(PID), vmfd) gets the VM, and
 *                    /proc/PID/fd/RAMFD the RAM, memfd or file; the rest
 *                    says how to start a destination like it (run's
 *                    --ram, --vcpus, --writer-pages, --writer-rate,
 *                    --manual-protect and --beacon-*)
 *   quit             exit (the answer comes first)
 *
 * check and selfcheck answer "ok pages=N", the others "ok" plus details;
 * any failure "err MESSAGE".
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "vmm.h"

struct cmd {
	const char *name;
	const char *arg;	/* what its one argument is, if it takes one */
	int (*fn)(struct vm *vm, const char *arg, char *reply, size_t len);
};

static int cmd_pause(struct vm *vm, const char *arg, char *reply, size_t len)
{
	vm_pause(vm);
	return 0;
}

static int cmd_resume(struct vm *vm, const char *arg, char *reply, size_t len)
{
	if (vm_resume(vm))
		return -1;
	vm->resumed = true;
	return 0;
}

/*
 * A blackout of a known length, for the downtime probes to measure: the
 * vCPUs (and the writer) out for MS milliseconds, then back. Answers when
 * the last vCPU thread left KVM_RUN and the first went back in, and how
 * long that was: the guest ran at neither end of it.
 */
static int cmd_blackout(struct vm *vm, const char *arg, char *reply,
			size_t len)
{
	uint64_t start, end;
	struct timespec wait;
	char *end_arg;
	unsigned long ms = strtoul(arg, &end_arg, 10);

	if (*end_arg || !ms || ms > 60000)
		return vm_error(vm, "blackout: '%s' is not 1 to 60000 ms", arg);
	if (vm_paused(vm))
		return vm_error(vm, "blackout: the VM is paused already");
	wait.tv_sec = ms / 1000;
	wait.tv_nsec = ms % 1000 * 1000000;
	vm_pause(vm);
	nanosleep(&wait, NULL);
	if (vm_resume(vm) || vm_last_blackout(vm, &start, &end))
		return -1;
	snprintf(reply, len, "paused_us=%llu start_ns=%llu end_ns=%llu",
		 (unsigned long long)((end - start) / 1000),
		 (unsigned long long)start, (unsigned long long)end);
	return 0;
}

/*
 * SHM_TESTVMM_HASH=FILE: the page hashes of RAM to FILE as save and
 * restore find it (paused both times), for tests that compare the two ends
 * of a migration someone else drives (shmctl migrate and serve).
 */
static int hash_for_test(struct vm *vm)
{
	const char *path = getenv("SHM_TESTVMM_HASH");

	return path && *path ? ram_hash(vm, path) : 0;
}

static int cmd_save(struct vm *vm, const char *arg, char *reply, size_t len)
{
	return state_save(vm, arg) ?: hash_for_test(vm);
}

/*
 * SHM_TESTVMM_RESTORE_DELAY_MS=N: restore takes N ms longer, a window in
 * which tests break the link at the very end of a migration.
 */
static int cmd_restore(struct vm *vm, const char *arg, char *reply, size_t len)
{
	const char *delay = getenv("SHM_TESTVMM_RESTORE_DELAY_MS");

	if (delay)
		usleep(strtoul(delay, NULL, 10) * 1000);
	return state_restore(vm, arg) ?: hash_for_test(vm);
}

static int cmd_hash(struct vm *vm, const char *arg, char *reply, size_t len)
{
	return ram_hash(vm, arg);
}

static int cmd_report(struct vm *vm, const char *arg, char *reply, size_t len)
{
	char *end;
	unsigned long id = strtoul(arg, &end, 0);

	if (*end || !id || id > UINT32_MAX)
		return vm_error(vm, "report: '%s' is not a session id", arg);
	return writer_report_to(vm, id);
}

static int cmd_check(struct vm *vm, const char *arg, char *reply, size_t len)
{
	uint64_t pages;

	if (ram_check(vm, &pages))
		return -1;
	snprintf(reply, len, "pages=%llu", (unsigned long long)pages);
	return 0;
}

static int cmd_selfcheck(struct vm *vm, const char *arg, char *reply,
			 size_t len)
{
	uint64_t pages;

	if (vm_selfcheck(vm, &pages))
		return -1;
	snprintf(reply, len, "pages=%llu", (unsigned long long)pages);
	return 0;
}

/* Counters from guest RAM: they are the guest's, and move with it. */
static int cmd_stats(struct vm *vm, const char *arg, char *reply, size_t len)
{
	uint64_t writes = 0, exits = 0, n;
	unsigned int i, started = 0;
	char vcpus[512] = "";
	const char *state;

	pthread_mutex_lock(&vm->lock);
	state = vm->failed[0] ? "failed" : vm->pause ? "paused" : "running";
	for (i = 0; i < vm->cfg.nr_vcpus; i++) {
		n = vm_guest_vcpu(vm, i)->range.count;
		writes += n;
		exits += vm->vcpus[i].exits;
		started += vm->vcpus[i].started;
		snprintf(vcpus + strlen(vcpus), sizeof(vcpus) - strlen(vcpus),
			 " vcpu%u=%llu", i, (unsigned long long)n);
	}
	pthread_mutex_unlock(&vm->lock);
	snprintf(reply, len, "state=%s started=%u writes=%llu%s writer=%llu exits=%llu reports=%llu report_errors=%llu",
		 state, started, (unsigned long long)writes, vcpus,
		 (unsigned long long)vm_params(vm)->writer.count,
		 (unsigned long long)exits, (unsigned long long)vm->reports,
		 (unsigned long long)vm->report_errors);
	return 0;
}

static int cmd_info(struct vm *vm, const char *arg, char *reply, size_t len)
{
	const struct vm_config *cfg = &vm->cfg;

	snprintf(reply, len, "pid=%d vmfd=%d ramfd=%d ram=%llu slots=%u vcpus=%u writer_pages=%llu writer_rate=%llu manual_protect=%d beacon_from=%u beacon_to=%u beacon_port=%u",
		 getpid(), vm->fd, vm->ram_fd, (unsigned long long)cfg->ram_size,
		 cfg->nr_slots, cfg->nr_vcpus,
		 (unsigned long long)cfg->writer_pages,
		 (unsigned long long)cfg->writer_rate, cfg->manual_protect,
		 cfg->beacon_from, cfg->beacon_to, cfg->beacon_port);
	return 0;
}

static const struct cmd cmds[] = {
	{ "pause", NULL, cmd_pause },
	{ "resume", NULL, cmd_resume },
	{ "blackout", "MS", cmd_blackout },
	{ "save", "FILE", cmd_save },
	{ "restore", "FILE", cmd_restore },
	{ "report", "SESSION", cmd_report },
	{ "hash", "FILE", cmd_hash },
	{ "check", NULL, cmd_check },
	{ "selfcheck", NULL, cmd_selfcheck },
	{ "stats", NULL, cmd_stats },
	{ "info", NULL, cmd_info },
	{ "quit", NULL, NULL },
};

/* Runs one command line, answer in reply; false once told to quit. */
bool cmd_run(struct vm *vm, char *line, char *reply, size_t len)
{
	char *name = strtok(line, " \t"), *arg = strtok(NULL, " \t");
	char details[512] = "";
	unsigned int i;

	for (i = 0; name && i < ARRAY_SIZE(cmds); i++) {
		if (strcmp(name, cmds[i].name))
			continue;
		if (!arg != !cmds[i].arg || strtok(NULL, " \t")) {
			snprintf(reply, len, "err usage: %s%s%s", name,
				 cmds[i].arg ? " " : "", cmds[i].arg ?: "");
			return true;
		}
		if (!cmds[i].fn) {
			snprintf(reply, len, "ok");
			return false;
		}
		if (cmds[i].fn(vm, arg, details, sizeof(details)))
			snprintf(reply, len, "err %s", vm->err);
		else
			snprintf(reply, len, "ok%s%s", details[0] ? " " : "",
				 details);
		return true;
	}
	snprintf(reply, len, "err unknown command '%s'", name ?: "");
	return true;
}
