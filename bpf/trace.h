/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by bpf/trace.bpf.c and user/trace.c: what the session tracer
 * reports for each event of shm.ko's session tracepoints.
 */
#ifndef _SHM_BPF_TRACE_H
#define _SHM_BPF_TRACE_H

#include <shm/netlink.h>

/* Size of each dimension of the transitions map: every enum shm_state. */
#define SHM_TRACE_STATES (SHM_STATE_MAX + 1)

enum shm_trace_kind {
	SHM_TRACE_NEW,
	SHM_TRACE_STATE,
	SHM_TRACE_DEL,
};

struct shm_trace_event {
	__u64 time_ns;		/* bpf_ktime_get_ns(), CLOCK_MONOTONIC */
	__u32 kind;		/* enum shm_trace_kind */
	__u32 netns;
	__u32 session;
	__u32 role;		/* SHM_TRACE_NEW */
	__u32 old_state;	/* SHM_TRACE_STATE */
	__u32 state;		/* SHM_TRACE_STATE: new state; SHM_TRACE_DEL: last */
};

#endif /* _SHM_BPF_TRACE_H */
