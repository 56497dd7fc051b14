// SPDX-License-Identifier: GPL-2.0
/*
 * The downtime probes (downtime.h):
 *
 * vCPU blackout: KVM's kvm_entry and kvm_exit tracepoints (raw_tp: by
 * name, without tracefs, which `ip netns exec` hides), in the vCPU
 * threads of the VMMs user space puts in the vms map (by process id). A
 * VM's vCPUs are out of guest mode while it is paused; across a migration
 * the source's last exit and the destination's first entry bound the time
 * the guest did not run.
 *
 * Client-visible gap: a tc program on a device's ingress and egress that
 * timestamps every IPv4 or IPv6 packet from one address, what `ping -t`
 * would show, but to the microsecond and with a histogram of the gaps. It
 * only watches: every packet goes on to the device's other filters.
 *
 * Each gap of a millisecond or more is also reported as it ends, with its
 * start and end, so that user space can pick out the one it cares about.
 *
 * Counters are updated by several CPUs without a lock (tracing programs
 * may not take bpf_spin_lock): in_guest with atomics, the times with plain
 * stores, at worst a gap measured from a neighbouring exit's timestamp.
 */
/*
 * uapi headers, not vmlinux.h: the probes read no kernel structure, only
 * the tc context (__sk_buff, which the verifier maps onto the running
 * kernel's) and packet headers (the wire fixes those). Without CO-RE
 * relocations libbpf does not parse the kernel's BTF (5 MiB) at every
 * migration, which made up nearly all of the probe's load time.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <stdbool.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "downtime.h"

/* Set before load: the address whose packets count; 4 or 16 bytes used. */
const volatile __u8 watch_addr[16];
const volatile __u32 watch_addr_len;
/* Gaps at least this long are reported one by one, in gap_events. */
const volatile __u64 min_gap_ns = 1000000;

__u64 gaps_dropped;	/* gaps the ring buffer had no room for */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} gap_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SHM_PROBE_MAX_VMS);
	__type(key, __u32);		/* tgid */
	__type(value, struct shm_probe_vm);
} vms SEC(".maps");

/* Whether a vCPU thread is in guest mode; unknown until its first entry. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SHM_PROBE_MAX_THREADS);
	__type(key, __u32);		/* tid */
	__type(value, __u8);
} in_guest SEC(".maps");

struct shm_probe_packets packets;

static void report_gap(__u32 kind, __u32 pid, __u64 start, __u64 end)
{
	struct shm_probe_gap *g;

	if (end - start < min_gap_ns)
		return;
	g = bpf_ringbuf_reserve(&gap_events, sizeof(*g), 0);
	if (!g) {
		__sync_fetch_and_add(&gaps_dropped, 1);
		return;
	}
	g->kind = kind;
	g->pid = pid;
	g->start_ns = start;
	g->end_ns = end;
	bpf_ringbuf_submit(g, 0);
}

SEC("raw_tp/kvm_entry")
int vcpu_entry(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), now, gap;
	__u32 tgid = id >> 32, tid = id;
	struct shm_probe_vm *vm = bpf_map_lookup_elem(&vms, &tgid);
	__u8 one = 1, *in;

	if (!vm)
		return 0;
	in = bpf_map_lookup_elem(&in_guest, &tid);
	if (in && *in)
		return 0;
	now = bpf_ktime_get_ns();
	bpf_map_update_elem(&in_guest, &tid, &one, BPF_ANY);
	if (!__sync_fetch_and_add(&vm->in_guest, 1) && vm->last_exit_ns) {
		gap = now - vm->last_exit_ns;
		if (gap > vm->max_gap_ns) {
			vm->max_gap_ns = gap;
			vm->max_gap_end_ns = now;
		}
		report_gap(SHM_PROBE_GAP_VCPUS, tgid, vm->last_exit_ns, now);
	}
	if (!vm->first_entry_ns)
		__sync_val_compare_and_swap(&vm->first_entry_ns, 0, now);
	return 0;
}

SEC("raw_tp/kvm_exit")
int vcpu_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = id;
	struct shm_probe_vm *vm = bpf_map_lookup_elem(&vms, &tgid);
	__u8 *in;

	if (!vm)
		return 0;
	in = bpf_map_lookup_elem(&in_guest, &tid);
	if (!in || !*in)
		return 0;
	*in = 0;
	/* Before the count drops: an entry that sees 0 sees this time. */
	vm->last_exit_ns = bpf_ktime_get_ns();
	__sync_fetch_and_add(&vm->in_guest, -1);
	return 0;
}

static __u32 log2_us(__u64 ns)
{
	__u64 us = ns / 1000;
	__u32 slot = 0;

	while (us > 1 && slot < SHM_PROBE_GAP_SLOTS - 1) {
		us >>= 1;
		slot++;
	}
	return slot;
}

static bool from_watched(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u8 *src;
	__u32 i;

	if (skb->protocol == bpf_htons(ETH_P_IP) && watch_addr_len == 4) {
		struct iphdr *ip = data + sizeof(struct ethhdr);

		if ((void *)(ip + 1) > end)
			return false;
		src = (__u8 *)&ip->saddr;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6) &&
		   watch_addr_len == 16) {
		struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);

		if ((void *)(ip6 + 1) > end)
			return false;
		src = (__u8 *)&ip6->saddr;
	} else {
		return false;
	}
	for (i = 0; i < 16 && i < watch_addr_len; i++) {
		if (src[i] != watch_addr[i])
			return false;
	}
	return true;
}

/* TC_ACT_UNSPEC, "not mine": the packet goes on to the next filter. */
SEC("tc")
int watch_packets(struct __sk_buff *skb)
{
	__u64 now, prev, gap;
	__u32 slot;

	if (!from_watched(skb))
		return TC_ACT_UNSPEC;
	now = bpf_ktime_get_ns();
	prev = packets.last_ns;
	packets.last_ns = now;
	__sync_fetch_and_add(&packets.packets, 1);
	if (!prev) {
		packets.first_ns = now;
		return TC_ACT_UNSPEC;
	}
	gap = now > prev ? now - prev : 0;
	slot = log2_us(gap);
	if (slot < SHM_PROBE_GAP_SLOTS)
		__sync_fetch_and_add(&packets.gaps[slot], 1);
	if (gap > packets.max_gap_ns) {
		packets.max_gap_ns = gap;
		packets.max_gap_end_ns = now;
	}
	report_gap(SHM_PROBE_GAP_PACKETS, 0, prev, now);
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
