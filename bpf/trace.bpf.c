// SPDX-License-Identifier: GPL-2.0
/*
 * Counts and timestamps shm.ko's session events: creations, state changes
 * and removals. Attached with raw_tp because the module has no BTF; the
 * argument order is the TP_PROTO order in kmod/trace.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <shm/netlink.h>

#include "trace.h"

/* Set before load: only this network namespace's sessions; 0 for all. */
const volatile __u32 target_netns;

__u64 created;
__u64 deleted;
__u64 dropped;	/* events the ring buffer had no room for */

/* Count of each state change, at old_state * SHM_TRACE_STATES + new state. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SHM_TRACE_STATES * SHM_TRACE_STATES);
	__type(key, __u32);
	__type(value, __u64);
} transitions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static bool wanted(__u32 netns)
{
	return !target_netns || netns == target_netns;
}

static void emit(enum shm_trace_kind kind, __u32 netns, __u32 session,
		 __u32 role, __u32 old_state, __u32 state)
{
	struct shm_trace_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return;
	}
	e->time_ns = bpf_ktime_get_ns();
	e->kind = kind;
	e->netns = netns;
	e->session = session;
	e->role = role;
	e->old_state = old_state;
	e->state = state;
	bpf_ringbuf_submit(e, 0);
}

SEC("raw_tp/shm_session_new")
int BPF_PROG(session_new, __u32 netns, __u32 session, __u32 role)
{
	if (!wanted(netns))
		return 0;
	__sync_fetch_and_add(&created, 1);
	emit(SHM_TRACE_NEW, netns, session, role, 0, SHM_STATE_NEW);
	return 0;
}

SEC("raw_tp/shm_session_state")
int BPF_PROG(session_state, __u32 netns, __u32 session, __u32 old_state,
	     __u32 state)
{
	__u32 key = old_state * SHM_TRACE_STATES + state;
	__u64 *count;

	if (!wanted(netns))
		return 0;
	count = bpf_map_lookup_elem(&transitions, &key);
	if (count && old_state < SHM_TRACE_STATES && state < SHM_TRACE_STATES)
		__sync_fetch_and_add(count, 1);
	emit(SHM_TRACE_STATE, netns, session, 0, old_state, state);
	return 0;
}

SEC("raw_tp/shm_session_del")
int BPF_PROG(session_del, __u32 netns, __u32 session, __u32 state)
{
	if (!wanted(netns))
		return 0;
	__sync_fetch_and_add(&deleted, 1);
	emit(SHM_TRACE_DEL, netns, session, 0, 0, state);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
