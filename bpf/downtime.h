/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by bpf/downtime.bpf.c and user/probe.c: what the downtime probes
 * measure. Times are bpf_ktime_get_ns(), CLOCK_MONOTONIC.
 */
#ifndef _SHM_BPF_DOWNTIME_H
#define _SHM_BPF_DOWNTIME_H

/* VMMs watched at once, and their vCPU threads. */
#define SHM_PROBE_MAX_VMS	16
#define SHM_PROBE_MAX_THREADS	4096
/* Gaps between packets by log2 of microseconds: 1 us to over an hour. */
#define SHM_PROBE_GAP_SLOTS	32

/*
 * One VMM's vCPUs, from KVM's kvm_entry and kvm_exit: how many are in
 * guest mode, when the last left it and the first entered it, and the
 * longest stretch with none in it (its end too).
 */
struct shm_probe_vm {
	__s64 in_guest;
	__u64 last_exit_ns;
	__u64 first_entry_ns;
	__u64 max_gap_ns;
	__u64 max_gap_end_ns;
};

/* Packets from one address, on one device, both directions. */
struct shm_probe_packets {
	__u64 packets;
	__u64 first_ns;
	__u64 last_ns;
	__u64 max_gap_ns;
	__u64 max_gap_end_ns;
	__u64 gaps[SHM_PROBE_GAP_SLOTS];	/* gap >= 2^i us, < 2^(i+1) */
};

/* Every gap over the probe's threshold, as it ends (ring buffer). */
enum shm_probe_gap_kind {
	SHM_PROBE_GAP_VCPUS,	/* no vCPU of @pid in guest mode */
	SHM_PROBE_GAP_PACKETS,	/* no packet from the address */
};

struct shm_probe_gap {
	__u32 kind;		/* enum shm_probe_gap_kind */
	__u32 pid;		/* SHM_PROBE_GAP_VCPUS: the VMM */
	__u64 start_ns;
	__u64 end_ns;
};

#endif /* _SHM_BPF_DOWNTIME_H */
