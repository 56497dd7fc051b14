// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU threads: KVM_RUN in a loop, one switch on the exit reason, and the
 * pause that a migration's cutover needs.
 *
 * Pausing kicks each vCPU out of KVM_RUN with SIGUSR1 and keeps it out. A
 * vCPU about to enter KVM_RUN when the signal comes would miss it, so the
 * pauser sets kvm_run.immediate_exit first: KVM_RUN then returns -EINTR at
 * once. KVM_RUN finishes the previous exit (for an `out`, it moves rip past
 * the instruction) before it looks at immediate_exit, so a vCPU parks only
 * after -EINTR, or before its first run: its registers are then whole and
 * can be saved. SA_RESTART keeps the signal from breaking other syscalls;
 * KVM_RUN returns -EINTR regardless.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include "vmm.h"

#define CHECK_TIMEOUT_S	100	/* tests run under TCG: slow */

static void vcpu_kick_handler(int sig)
{
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ULL + t.tv_nsec;
}

/* Only the first failure is kept: the later ones tend to be its echoes. */
static bool vcpu_fail(struct vcpu *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static bool vcpu_fail(struct vcpu *v, const char *fmt, ...)
{
	struct vm *vm = v->vm;
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "shm-testvmm: vCPU %u: %s\n", v->id, msg);
	pthread_mutex_lock(&vm->lock);
	if (!vm->failed[0])
		snprintf(vm->failed, sizeof(vm->failed), "vCPU %u: %s", v->id, msg);
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	return false;
}

static void vcpu_park(struct vcpu *v)
{
	struct vm *vm = v->vm;

	pthread_mutex_lock(&vm->lock);
	if (vm->pause) {
		v->parked_ns = now_ns();
		v->out = true;
		pthread_cond_broadcast(&vm->cond);
		while (vm->pause)
			pthread_cond_wait(&vm->cond, &vm->lock);
		v->out = false;
		v->unparked_ns = now_ns();
		pthread_cond_broadcast(&vm->cond);
	}
	v->run->immediate_exit = 0;
	pthread_mutex_unlock(&vm->lock);
}

static bool vcpu_ucall(struct vcpu *v, uint32_t type)
{
	struct vm *vm = v->vm;
	const uint64_t *arg = vm_guest_vcpu(vm, v->id)->ucall;

	switch (type) {
	case UCALL_SYNC:
		if (arg[0] != SYNC_STARTED)
			return vcpu_fail(v, "unknown sync stage %llu",
					 (unsigned long long)arg[0]);
		pthread_mutex_lock(&vm->lock);
		v->started = true;
		pthread_mutex_unlock(&vm->lock);
		return true;
	case UCALL_DONE:
	case UCALL_FAIL:
		pthread_mutex_lock(&vm->lock);
		if (v->check == CHECK_PENDING) {
			v->check = type == UCALL_DONE ? CHECK_PASSED : CHECK_FAILED;
			v->check_pages = arg[0];
			v->bad = (struct stamp_bad){ arg[0], arg[1], arg[2], arg[3] };
			pthread_cond_broadcast(&vm->cond);
		}
		pthread_mutex_unlock(&vm->lock);
		return true;
	case UCALL_BEACON:
		beacon_send(vm, arg[0]);
		return true;
	case UCALL_PRINT:
		if (vm->cfg.verbose)
			fprintf(stderr, "shm-testvmm: vCPU %u says %#llx %#llx\n",
				v->id, (unsigned long long)arg[0],
				(unsigned long long)arg[1]);
		return true;
	}
	return vcpu_fail(v, "unknown ucall %u", type);
}

static bool vcpu_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct timespec tick = { 0, 1000000 };
	struct kvm_regs regs;

	v->exits++;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		if (run->io.port != UCALL_PORT || run->io.size != 4 ||
		    run->io.direction != KVM_EXIT_IO_OUT || run->io.count != 1)
			return vcpu_fail(v, "unexpected I/O on port %#x",
					 run->io.port);
		return vcpu_ucall(v, *(uint32_t *)((char *)run +
						   run->io.data_offset));
	case KVM_EXIT_HLT:
		/* Idle: with no irqchip in the kernel, hlt comes here. */
		nanosleep(&tick, NULL);
		return true;
	case KVM_EXIT_SHUTDOWN:
		ioctl(v->fd, KVM_GET_REGS, &regs);
		return vcpu_fail(v, "triple fault, rip %#llx rsp %#llx",
				 regs.rip, regs.rsp);
	case KVM_EXIT_FAIL_ENTRY:
		return vcpu_fail(v, "entry failed, reason %#llx",
			run->fail_entry.hardware_entry_failure_reason);
	case KVM_EXIT_INTERNAL_ERROR:
		return vcpu_fail(v, "KVM internal error %u",
				 run->internal.suberror);
	}
	return vcpu_fail(v, "unexpected exit reason %u", run->exit_reason);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	bool can_park = true;
	int r;

	for (;;) {
		if (can_park)
			vcpu_park(v);
		r = ioctl(v->fd, KVM_RUN, 0);
		can_park = r < 0 && errno == EINTR;
		if (can_park)
			continue;
		if (r < 0 ? !vcpu_fail(v, "KVM_RUN: %m") : !vcpu_exit(v))
			break;
	}
	pthread_mutex_lock(&vm->lock);
	v->out = true;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	return NULL;
}

void vcpus_start(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = vcpu_kick_handler,
				.sa_flags = SA_RESTART };
	unsigned int i;

	sigaction(SIGUSR1, &sa, NULL);
	for (i = 0; i < vm->cfg.nr_vcpus; i++)
		if (pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread,
				   &vm->vcpus[i]))
			die("vCPU thread: %m");
}

static bool vm_all_out(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->cfg.nr_vcpus; i++)
		if (!vm->vcpus[i].out)
			return false;
	return vm->writer_out || !vm->cfg.writer_pages;
}

/* The writer stops too: a device is quiesced at cutover as well. */
void vm_pause(struct vm *vm)
{
	unsigned int i;

	pthread_mutex_lock(&vm->lock);
	vm->pause = true;
	for (i = 0; i < vm->cfg.nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->run->immediate_exit = 1;
		if (!v->out)
			pthread_kill(v->thread, SIGUSR1);
	}
	while (!vm_all_out(vm))
		pthread_cond_wait(&vm->cond, &vm->lock);
	pthread_mutex_unlock(&vm->lock);
}

int vm_last_blackout(struct vm *vm, uint64_t *start_ns, uint64_t *end_ns)
{
	struct timespec until;
	unsigned int i, back;
	int err = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&vm->lock);
	do {
		for (i = back = 0; i < vm->cfg.nr_vcpus; i++)
			back += !vm->vcpus[i].out &&
				vm->vcpus[i].unparked_ns > vm->vcpus[i].parked_ns;
	} while (back < vm->cfg.nr_vcpus && !vm->pause &&
		 !(err = pthread_cond_timedwait(&vm->cond, &vm->lock, &until)));
	*start_ns = 0;
	*end_ns = UINT64_MAX;
	for (i = 0; i < vm->cfg.nr_vcpus; i++) {
		if (vm->vcpus[i].parked_ns > *start_ns)
			*start_ns = vm->vcpus[i].parked_ns;
		if (vm->vcpus[i].unparked_ns < *end_ns)
			*end_ns = vm->vcpus[i].unparked_ns;
	}
	pthread_mutex_unlock(&vm->lock);
	if (back < vm->cfg.nr_vcpus)
		return vm_error(vm, "the vCPUs did not all come back");
	return 0;
}

bool vm_paused(struct vm *vm)
{
	bool paused;

	pthread_mutex_lock(&vm->lock);
	paused = vm->pause;
	pthread_mutex_unlock(&vm->lock);
	return paused;
}

/* A destination has nothing to run until its vCPU state is restored. */
int vm_resume(struct vm *vm)
{
	if (vm->cfg.incoming && !vm->restored)
		return vm_error(vm, "restore the vCPU state first");
	pthread_mutex_lock(&vm->lock);
	vm->pause = false;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

/*
 * Asks every vCPU to check its pages (vCPU 0 also the writer's, held
 * meanwhile) and waits for all answers. Sets pages to the number checked.
 */
int vm_selfcheck(struct vm *vm, uint64_t *pages)
{
	struct timespec deadline;
	unsigned int i, pending;
	int ret = 0;

	if (vm_paused(vm))
		return vm_error(vm, "paused: the guest checks itself while it runs");
	writer_hold(vm);
	pthread_mutex_lock(&vm->lock);
	for (i = 0; i < vm->cfg.nr_vcpus; i++) {
		vm->vcpus[i].check = CHECK_PENDING;
		vm_guest_vcpu(vm, i)->cmd = GUEST_CMD_CHECK;
	}
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += CHECK_TIMEOUT_S;
	do {
		for (i = pending = 0; i < vm->cfg.nr_vcpus; i++)
			pending += vm->vcpus[i].check == CHECK_PENDING;
	} while (pending && !vm->failed[0] &&
		 pthread_cond_timedwait(&vm->cond, &vm->lock, &deadline) != ETIMEDOUT);

	*pages = 0;
	for (i = 0; i < vm->cfg.nr_vcpus && !ret; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->check == CHECK_PASSED)
			*pages += v->check_pages;
		else if (v->check == CHECK_FAILED)
			ret = vm_error(vm, "vCPU %u found %s", i,
				       stamp_describe(&v->bad));
		else
			ret = vm_error(vm, "vCPU %u: no answer%s%s", i,
				       vm->failed[0] ? ": " : " in time",
				       vm->failed);
		v->check = CHECK_IDLE;
	}
	pthread_mutex_unlock(&vm->lock);
	writer_release(vm);
	return ret;
}
