// SPDX-License-Identifier: GPL-2.0
/*
 * The beacon: the guest's network traffic, as far as the downtime probes
 * care. vCPU 0 of a guest with a beacon asks every millisecond it runs
 * (UCALL_BEACON), and its vCPU thread sends one UDP datagram from the VM's
 * address right then, as a NIC emulation transmits what its guest queued.
 * A paused guest sends nothing: the gap a client sees in the beacon is
 * the gap in the guest's own running.
 *
 * The VM's address need not be one of the host's (IP_TRANSPARENT, which
 * needs CAP_NET_ADMIN): on both ends of a migration the beacon comes from
 * the same address.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "vmm.h"

void beacon_open(struct vm *vm)
{
	struct sockaddr_in from = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(vm->cfg.beacon_from),
	};
	int one = 1;

	vm->beacon_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (vm->beacon_fd < 0 ||
	    setsockopt(vm->beacon_fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one)) ||
	    bind(vm->beacon_fd, (struct sockaddr *)&from, sizeof(from)))
		die("beacon socket: %m");
}

void beacon_send(struct vm *vm, uint64_t seq)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(vm->cfg.beacon_to),
		.sin_port = htons(vm->cfg.beacon_port),
	};

	if (vm->cfg.beacon_to)
		sendto(vm->beacon_fd, &seq, sizeof(seq), MSG_DONTWAIT,
		       (struct sockaddr *)&to, sizeof(to));
}
