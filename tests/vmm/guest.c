// SPDX-License-Identifier: GPL-2.0
/*
 * The guest program of shm-testvmm: freestanding, linked at GUEST_CODE_GPA
 * by guest.lds and loaded there as a flat blob. Each vCPU enters
 * guest_main() with its id in rdi and a stack of its own, then loops: serve
 * the host's command if there is one, do one step of the workload, wait for
 * its time if the rate is limited.
 *
 * Its state is guest RAM (abi.h) and its registers, nothing else: that is
 * what lets a RAM copy plus the vCPU registers move it to another VM.
 */
#include "abi.h"
#include "stamp.h"

#define params ((struct guest_params *)GUEST_PARAMS_GPA)

static inline void outl(uint16_t port, uint32_t val)
{
	asm volatile("outl %0, %1" : : "a"(val), "Nd"(port) : "memory");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* Reports to the host: a KVM_EXIT_IO it reads the arguments with. */
static void ucall(struct guest_vcpu *v, uint32_t type, uint64_t a0,
		  uint64_t a1, uint64_t a2, uint64_t a3)
{
	v->ucall[0] = a0;
	v->ucall[1] = a1;
	v->ucall[2] = a2;
	v->ucall[3] = a3;
	outl(UCALL_PORT, type);
}

/* vCPU 0 also checks the writer thread's pages: the host holds it meanwhile. */
static void self_check(struct guest_vcpu *v, uint64_t id)
{
	struct stamp_bad bad;
	uint64_t pages = v->range.nr;
	bool ok = stamp_check(0, &v->range, &bad);

	if (ok && id == 0) {
		ok = stamp_check(0, &params->writer, &bad);
		pages += params->writer.nr;
	}
	v->cmd = GUEST_CMD_NONE;
	if (ok)
		ucall(v, UCALL_DONE, pages, 0, 0, 0);
	else
		ucall(v, UCALL_FAIL, bad.gfn, bad.want, bad.found, bad.tag);
}

static uint64_t xorshift64(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

static uint64_t next_page(struct guest_vcpu *v, uint32_t workload)
{
	uint64_t i;

	switch (workload) {
	case WORKLOAD_SEQ:
		i = v->cursor;
		v->cursor = i + 1 < params->span ? i + 1 : 0;
		break;
	case WORKLOAD_RANDOM:
		i = xorshift64(&v->rng) % params->span;
		break;
	default:
		i = xorshift64(&v->rng) % params->hot;
		break;
	}
	return v->range.first + i;
}

/*
 * One page every period TSC cycles. After falling behind by more than
 * slack (the VM was paused, or the host is slow), start over from now
 * rather than burst to catch up.
 */
static uint64_t pace(uint64_t next, uint64_t period, uint64_t slack)
{
	uint64_t now = rdtsc();

	next += period;
	if ((int64_t)(now - next) > (int64_t)slack)
		return now;
	while ((int64_t)(next - rdtsc()) > 0)
		asm volatile("pause");
	return next;
}

__attribute__((section(".text.entry"), noreturn))
void guest_main(uint64_t id)
{
	struct guest_vcpu *v = (void *)(GUEST_VCPU_GPA + id * GUEST_PAGE_SIZE);
	const uint32_t workload = params->workload;
	const uint64_t period = params->rate ?
		params->tsc_khz * 1000 / params->rate : 0;
	const uint64_t slack = params->tsc_khz * 50;
	const uint64_t beacon = id ? 0 : params->beacon * params->tsc_khz;
	uint64_t next = rdtsc(), next_beacon = next, sent = 0;

	ucall(v, UCALL_PRINT, workload, period, 0, 0);
	ucall(v, UCALL_SYNC, SYNC_STARTED, 0, 0, 0);
	/* Every way round the loop has a compiler barrier: cmd is re-read. */
	for (;;) {
		if (v->cmd == GUEST_CMD_CHECK)
			self_check(v, id);
		if (workload == WORKLOAD_IDLE) {
			asm volatile("hlt" : : : "memory");
			continue;
		}
		stamp_write(0, &v->range, next_page(v, workload));
		/* A packet a millisecond: the guest's own network traffic. */
		if (beacon && (int64_t)(rdtsc() - next_beacon) >= 0) {
			ucall(v, UCALL_BEACON, ++sent, 0, 0, 0);
			next_beacon = rdtsc() + beacon;
		}
		if (period)
			next = pace(next, period, slack);
	}
}
