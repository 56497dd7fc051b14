// SPDX-License-Identifier: GPL-2.0
/*
 * Pacing for the writer and the reader: so many operations per second,
 * done in batches of whatever is due every 10 ms tick. A wake-up per
 * operation would cost more than the operation in a nested guest, where
 * every timer interrupt is an exit of an emulated CPU.
 */
#include <time.h>
#include "guest.h"

#define NSEC_PER_SEC	1000000000ULL
#define TICK_NS		10000000ULL

uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * NSEC_PER_SEC + t.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec t = { ns / NSEC_PER_SEC, ns % NSEC_PER_SEC };

	nanosleep(&t, NULL);
}

/*
 * Waits until at least one operation is due at *rate per second, and
 * returns how many are: the caller does them all. Returns 0 after a tick
 * while the rate is 0, so that the caller may look around. The rate is read
 * on each call: a new one takes effect within a tick.
 */
uint64_t pace_due(struct pace *p, const unsigned int *rate)
{
	for (;;) {
		unsigned int r = __atomic_load_n(rate, __ATOMIC_RELAXED);
		uint64_t now = now_ns(), ops, due;

		if (r != p->rate) {
			p->rate = r;
			p->start_ns = now;
			p->done = 0;
		}
		if (!r) {
			sleep_ns(TICK_NS);
			return 0;
		}
		ops = (now - p->start_ns) * r / NSEC_PER_SEC;
		/*
		 * More than a second behind: the guest was stopped (a
		 * migration's downtime) or starved. Carry on at the rate
		 * rather than in a burst of all that was missed.
		 */
		if (ops > p->done + r) {
			p->start_ns = now - NSEC_PER_SEC / r;
			p->done = 0;
			ops = 1;
		}
		if (ops > p->done) {
			due = ops - p->done;
			p->done = ops;
			/* Whole seconds done: keep the products small. */
			while (p->done >= r) {
				p->start_ns += NSEC_PER_SEC;
				p->done -= r;
			}
			return due;
		}
		sleep_ns(TICK_NS);
	}
}
