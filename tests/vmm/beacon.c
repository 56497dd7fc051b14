// SPDX-License-Identifier: GPL-2.0
/*
 * The beacon: the guest's network traffic, as far as the downtime probes
 * care. Every millisecond in which the guest made progress (its vCPUs'
 * write counters, in guest RAM, moved) the VMM sends one UDP datagram
 * from the VM's address, as a NIC emulation forwards what its guest
 * sends. A paused guest makes no progress and sends nothing, so the gap a
 * client sees in the beacon is the gap in the guest's own traffic.
 *
 * The VM's address need not be one of the host's (IP_TRANSPARENT, which
 * needs CAP_NET_ADMIN): on both ends of a migration the beacon comes from
 * the same address.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "vmm.h"

static uint64_t guest_progress(struct vm *vm)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < vm->cfg.nr_vcpus; i++)
		sum += __atomic_load_n(&vm_guest_vcpu(vm, i)->range.count,
				       __ATOMIC_RELAXED);
	return sum;
}

static void *beacon_thread(void *arg)
{
	struct vm *vm = arg;
	const struct vm_config *cfg = &vm->cfg;
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(cfg->beacon_to),
		.sin_port = htons(cfg->beacon_port),
	};
	const struct timespec tick = { 0, 1000000 };
	uint64_t seen = guest_progress(vm), now, seq = 0;

	for (;;) {
		nanosleep(&tick, NULL);
		now = guest_progress(vm);
		/*
		 * Only the guest's own progress counts: not a paused VM's
		 * counters arriving from the source in its RAM.
		 */
		if (now == seen || vm_paused(vm)) {
			seen = now;
			continue;
		}
		seen = now;
		seq++;
		sendto(vm->beacon_fd, &seq, sizeof(seq), MSG_DONTWAIT,
		       (struct sockaddr *)&to, sizeof(to));
	}
	return NULL;
}

void beacon_start(struct vm *vm)
{
	struct sockaddr_in from = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(vm->cfg.beacon_from),
	};
	pthread_t thread;
	int one = 1;

	vm->beacon_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (vm->beacon_fd < 0 ||
	    setsockopt(vm->beacon_fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one)) ||
	    bind(vm->beacon_fd, (struct sockaddr *)&from, sizeof(from)))
		die("beacon socket: %m");
	if (pthread_create(&thread, NULL, beacon_thread, vm))
		die("beacon thread: %m");
	pthread_detach(thread);
}
