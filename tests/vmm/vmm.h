/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shm-testvmm's library: one KVM VM with guest RAM in a shared mapping,
 * vCPU threads that can be paused and resumed, vCPU state to a file and
 * back, a writer thread that writes guest RAM the way device emulation does,
 * a beacon that sends the guest's traffic, and the checks. The command-line program (main.c) and its control socket
 * (ctl.c, cmd.c) are thin layers over it.
 *
 * Threads: the main thread serves the control socket and calls everything
 * below that is not a thread body; one thread per vCPU; one writer
 * thread.
 * vm->lock and vm->cond guard pause, the parked flags and the self-check.
 */
#ifndef _SHM_TESTVMM_VMM_H
#define _SHM_TESTVMM_VMM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>
#include "abi.h"
#include "stamp.h"

struct nl_sock;

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

struct vm_config {
	uint64_t ram_size;		/* a multiple of 2 MiB */
	unsigned int nr_slots, nr_vcpus;
	const char *mem_path;		/* RAM in this file, else in a memfd */
	bool incoming;			/* destination: RAM and vCPUs come later */
	bool exit_on_hangup;		/* ... and exits if its driver goes first */
	bool gib_pages;			/* map the guest with 1 GiB pages */
	bool manual_protect;		/* KVM's dirty log as QEMU sets it up */
	uint32_t workload;		/* enum guest_workload */
	uint64_t rate, span, hot;	/* see struct guest_params */
	uint64_t seed;
	uint64_t writer_pages, writer_rate;	/* the writer thread's */
	/* The beacon's IPv4 addresses (host order) and port; 0: none. */
	uint32_t beacon_from, beacon_to;
	uint16_t beacon_port;
	bool verbose;
};

enum check_state {
	CHECK_IDLE,
	CHECK_PENDING,			/* asked the guest, no answer yet */
	CHECK_PASSED,
	CHECK_FAILED,
};

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool out;			/* parked or ended: not in KVM_RUN */
	/* CLOCK_MONOTONIC ns of its last park and of the end of it. */
	uint64_t parked_ns, unparked_ns;
	bool started;			/* the guest said SYNC_STARTED */
	uint64_t exits;			/* to user space */
	enum check_state check;
	uint64_t check_pages;
	struct stamp_bad bad;
};

struct vm {
	struct vm_config cfg;
	int kvm_fd, fd;
	int ram_fd;			/* /proc/PID/fd/N reaches a memfd */
	uint8_t *ram;			/* guest physical address 0 */
	uint64_t ram_pages;
	struct vcpu vcpus[GUEST_MAX_VCPUS];

	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool pause;			/* vCPUs and writer must stay out */
	bool hold_writer;		/* the writer alone must stay out */
	bool writer_out;
	bool restored;			/* incoming: vCPU state has been loaded */
	bool resumed;			/* ... and run; control thread only */
	pthread_t writer;
	int beacon_fd;
	/* Where the writer reports its writes to (`report`), and how often. */
	struct nl_sock *report_sk;
	uint32_t report_session;
	uint64_t reports, report_errors;
	char failed[256];		/* the first fatal error of a vCPU */
	char err[512];			/* why the last call below failed */
};

/* vm.c: the VM, its RAM and memslots, its vCPUs (not yet running). */
void vm_create(struct vm *vm, const struct vm_config *cfg);
int vm_error(struct vm *vm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static inline void *vm_gpa(struct vm *vm, uint64_t gpa)
{
	return vm->ram + gpa;
}

static inline struct guest_params *vm_params(struct vm *vm)
{
	return vm_gpa(vm, GUEST_PARAMS_GPA);
}

static inline struct guest_vcpu *vm_guest_vcpu(struct vm *vm, unsigned int id)
{
	return vm_gpa(vm, GUEST_VCPU_GPA + id * GUEST_PAGE_SIZE);
}

/* x86.c: long mode. */
void x86_set_cpuid(struct vm *vm, struct vcpu *v);
void x86_setup_memory(struct vm *vm);
void x86_setup_vcpu(struct vm *vm, struct vcpu *v);

/* layout.c: the guest program, its parameters and its pages. */
void layout_load(struct vm *vm);

/* vcpu.c: vCPU threads. pause returns once every vCPU is out. */
void vcpus_start(struct vm *vm);
void vm_pause(struct vm *vm);
int vm_resume(struct vm *vm);
/*
 * After a resume, once every vCPU is back: from the last one out of
 * KVM_RUN to the first one back in, CLOCK_MONOTONIC ns.
 */
int vm_last_blackout(struct vm *vm, uint64_t *start_ns, uint64_t *end_ns);
bool vm_paused(struct vm *vm);
int vm_selfcheck(struct vm *vm, uint64_t *pages);

/* writer.c: the VMM writing guest pages itself. */
void writer_start(struct vm *vm);
/* From now on, each write is reported to shm session @session. */
int writer_report_to(struct vm *vm, uint32_t session);
void writer_hold(struct vm *vm);
void writer_release(struct vm *vm);

/* beacon.c: the guest's traffic, a datagram per UCALL_BEACON. */
void beacon_open(struct vm *vm);
void beacon_send(struct vm *vm, uint64_t seq);

/* state.c: vCPU state (and the writer's) to a file and back; paused only. */
int state_save(struct vm *vm, const char *path);
int state_restore(struct vm *vm, const char *path);

/* ram.c: guest RAM from outside; paused only. */
int ram_hash(struct vm *vm, const char *path);
int ram_check(struct vm *vm, uint64_t *pages);
const char *stamp_describe(const struct stamp_bad *bad);

/* ctl.c: the control socket (server) and the `ctl` subcommand (client). */
int ctl_listen(const char *path);
bool ctl_serve(struct vm *vm, int lfd, int timeout_ms);
int ctl_client(const char *path, int argc, char **argv);

/* cmd.c: the commands the control socket takes. */
bool cmd_run(struct vm *vm, char *line, char *reply, size_t len);

/* getfd.c: the `getfd` subcommand. */
int getfd_main(int argc, char **argv);

#endif
