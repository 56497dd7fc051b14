// SPDX-License-Identifier: GPL-2.0
/*
 * The writer thread: the VMM itself writing guest pages through its own
 * mapping, as device emulation (a virtio-net receive, a disk read) does.
 * KVM's dirty log never sees these writes; a migration must carry them all
 * the same. It stamps its own range of pages (abi.h) exactly like a vCPU
 * does, keeping its counters in guest RAM, so the guest's self-check and
 * the host-side check verify its pages too.
 *
 * It writes cfg.writer_rate pages per second, what is due every 1 ms tick
 * (or unthrottled with rate 0), and stops between two writes whenever the
 * VM is paused or a self-check holds it.
 *
 * Once told which shm session migrates the VM, it reports every batch of
 * writes to shm.ko (SHM_CMD_SESSION_DIRTY) before it writes the next, or
 * parks: when a pause returns, every write made has been reported.
 */
#include <stdio.h>
#include <time.h>
#include "nl.h"
#include "vmm.h"

#define NSEC_PER_SEC	1000000000ULL
#define TICK_NS		1000000ULL
#define BATCH		256	/* pages per round, unthrottled */

/* Returns the session to report to, 0 for none. */
static uint32_t writer_park(struct vm *vm)
{
	uint32_t session;

	pthread_mutex_lock(&vm->lock);
	while (vm->pause || vm->hold_writer) {
		vm->writer_out = true;
		pthread_cond_broadcast(&vm->cond);
		pthread_cond_wait(&vm->cond, &vm->lock);
	}
	vm->writer_out = false;
	session = vm->report_session;
	pthread_mutex_unlock(&vm->lock);
	return session;
}

/*
 * What writing @n pages of range @w from page @gfn on changed: the pages,
 * their record entries and the range's counters. A batch that wrapped
 * around the range is reported as the whole range.
 */
static void writer_report(struct vm *vm, uint32_t session,
			  const struct stamp_range *w, uint64_t gfn, uint64_t n)
{
	uintptr_t ram = (uintptr_t)vm->ram;
	struct nl_range ranges[3];
	struct nl_result res;
	int err;

	if (!session || !n)
		return;
	if (gfn + n > w->first + w->nr) {
		gfn = w->first;
		n = w->nr;
	}
	ranges[0] = (struct nl_range){ ram + gfn * GUEST_PAGE_SIZE,
				       n * GUEST_PAGE_SIZE };
	ranges[1] = (struct nl_range){ (uintptr_t)(stamp_record(ram) + gfn),
				       n * sizeof(uint64_t) };
	ranges[2] = (struct nl_range){ (uintptr_t)w, sizeof(*w) };
	err = nl_session_dirty(vm->report_sk, session, ranges, 3, 0, &res);
	pthread_mutex_lock(&vm->lock);
	if (err && !vm->report_errors++)
		fprintf(stderr, "shm-testvmm: reporting writes to session %u: %s (%d)\n",
			session, res.message, err);
	vm->reports += !err;
	pthread_mutex_unlock(&vm->lock);
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * NSEC_PER_SEC + t.tv_nsec;
}

static void *writer_thread(void *arg)
{
	struct vm *vm = arg;
	/* In guest RAM: a destination carries on from what the copy brought. */
	struct stamp_range *w = &vm_params(vm)->writer;
	const uint64_t rate = vm->cfg.writer_rate;
	const struct timespec tick = { 0, TICK_NS };
	uint64_t credit = 0, last = now_ns(), now, n, gfn, i;
	uint32_t session;

	for (;;) {
		session = writer_park(vm);
		if (rate) {
			/*
			 * Pages due for the time gone by, however long the
			 * sleep took; at most 10 ticks' worth, so a pause or
			 * a stall does not end in a burst.
			 */
			now = now_ns();
			credit += (now - last < 10 * TICK_NS ?
				   now - last : 10 * TICK_NS) * rate;
			last = now;
			n = credit / NSEC_PER_SEC;
			credit %= NSEC_PER_SEC;
		} else {
			n = BATCH;
		}
		gfn = w->first + w->count % w->nr;
		for (i = 0; i < n; i++)
			stamp_write((uintptr_t)vm->ram, w,
				    w->first + w->count % w->nr);
		writer_report(vm, session, w, gfn, n);
		if (rate)
			nanosleep(&tick, NULL);
	}
	return NULL;
}

void writer_start(struct vm *vm)
{
	if (pthread_create(&vm->writer, NULL, writer_thread, vm))
		die("writer thread: %m");
}

int writer_report_to(struct vm *vm, uint32_t session)
{
	struct nl_sock *sk;

	if (!vm->cfg.writer_pages)
		return vm_error(vm, "no writer: nothing to report");
	/*
	 * A new session takes over from an earlier one, which failed: a
	 * migration tried again. The socket stays, opened once, in the
	 * session's namespace: the one this VMM runs in.
	 */
	sk = vm->report_sk ?: nl_open();
	if (!sk)
		return vm_error(vm, "cannot open the shm netlink family");
	pthread_mutex_lock(&vm->lock);
	vm->report_sk = sk;
	vm->report_session = session;
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

void writer_hold(struct vm *vm)
{
	if (!vm->cfg.writer_pages)
		return;
	pthread_mutex_lock(&vm->lock);
	vm->hold_writer = true;
	while (!vm->writer_out)
		pthread_cond_wait(&vm->cond, &vm->lock);
	pthread_mutex_unlock(&vm->lock);
}

void writer_release(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->hold_writer = false;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}
