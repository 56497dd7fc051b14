/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of shm.ko, under the "shm" system.
 *
 * Their arguments are plain integers on purpose: BPF programs attach with
 * raw_tp and read them as ctx[0..n] without BTF for this module (Debian's
 * headers cannot build module BTF). bpf/ relies on the argument order below;
 * change it only together with the programs there.
 *
 * netns is the inode number of the session's network namespace, as in
 * `stat -L -c %i /proc/self/ns/net`: session ids are only unique within one.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM shm

#if !defined(_SHM_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _SHM_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(shm_session_new,
	TP_PROTO(u32 netns, u32 id, u32 role),
	TP_ARGS(netns, id, role),
	TP_STRUCT__entry(
		__field(u32, netns)
		__field(u32, id)
		__field(u32, role)
	),
	TP_fast_assign(
		__entry->netns = netns;
		__entry->id = id;
		__entry->role = role;
	),
	TP_printk("netns=%u session=%u role=%u",
		  __entry->netns, __entry->id, __entry->role)
);

TRACE_EVENT(shm_session_state,
	TP_PROTO(u32 netns, u32 id, u32 old_state, u32 new_state),
	TP_ARGS(netns, id, old_state, new_state),
	TP_STRUCT__entry(
		__field(u32, netns)
		__field(u32, id)
		__field(u32, old_state)
		__field(u32, new_state)
	),
	TP_fast_assign(
		__entry->netns = netns;
		__entry->id = id;
		__entry->old_state = old_state;
		__entry->new_state = new_state;
	),
	TP_printk("netns=%u session=%u state=%u->%u", __entry->netns,
		  __entry->id, __entry->old_state, __entry->new_state)
);

TRACE_EVENT(shm_session_del,
	TP_PROTO(u32 netns, u32 id, u32 state),
	TP_ARGS(netns, id, state),
	TP_STRUCT__entry(
		__field(u32, netns)
		__field(u32, id)
		__field(u32, state)
	),
	TP_fast_assign(
		__entry->netns = netns;
		__entry->id = id;
		__entry->state = state;
	),
	TP_printk("netns=%u session=%u state=%u",
		  __entry->netns, __entry->id, __entry->state)
);

/* A source's round: every page dirty at its start goes (@final: paused). */
TRACE_EVENT(shm_round_start,
	TP_PROTO(u32 netns, u32 id, u32 round, u64 dirty_pages, bool final),
	TP_ARGS(netns, id, round, dirty_pages, final),
	TP_STRUCT__entry(
		__field(u32, netns)
		__field(u32, id)
		__field(u32, round)
		__field(u64, dirty_pages)
		__field(bool, final)
	),
	TP_fast_assign(
		__entry->netns = netns;
		__entry->id = id;
		__entry->round = round;
		__entry->dirty_pages = dirty_pages;
		__entry->final = final;
	),
	TP_printk("netns=%u session=%u round=%u dirty=%llu final=%d",
		  __entry->netns, __entry->id, __entry->round,
		  __entry->dirty_pages, __entry->final)
);

/* ... and its end, the destination having applied every page of it. */
TRACE_EVENT(shm_round_end,
	TP_PROTO(u32 netns, u32 id, u32 round, u64 sent_pages, u64 zero_pages,
		 u64 bytes, u64 duration_ns),
	TP_ARGS(netns, id, round, sent_pages, zero_pages, bytes, duration_ns),
	TP_STRUCT__entry(
		__field(u32, netns)
		__field(u32, id)
		__field(u32, round)
		__field(u64, sent_pages)
		__field(u64, zero_pages)
		__field(u64, bytes)
		__field(u64, duration_ns)
	),
	TP_fast_assign(
		__entry->netns = netns;
		__entry->id = id;
		__entry->round = round;
		__entry->sent_pages = sent_pages;
		__entry->zero_pages = zero_pages;
		__entry->bytes = bytes;
		__entry->duration_ns = duration_ns;
	),
	TP_printk("netns=%u session=%u round=%u sent=%llu zero=%llu bytes=%llu ns=%llu",
		  __entry->netns, __entry->id, __entry->round,
		  __entry->sent_pages, __entry->zero_pages, __entry->bytes,
		  __entry->duration_ns)
);

/*
 * The cutover's milestones after the session's move to CUTOVER (a state
 * event): @SHM_CUTOVER_FINAL_SENT, the source's every stream has put its
 * last frame of the final round on the wire; @SHM_CUTOVER_ACKED, the
 * destination acknowledged every page of it (either side says so);
 * @SHM_CUTOVER_RESUMED, the destination's VMM runs the VM again.
 */
TRACE_EVENT(shm_cutover,
	TP_PROTO(u32 netns, u32 id, u32 milestone),
	TP_ARGS(netns, id, milestone),
	TP_STRUCT__entry(
		__field(u32, netns)
		__field(u32, id)
		__field(u32, milestone)
	),
	TP_fast_assign(
		__entry->netns = netns;
		__entry->id = id;
		__entry->milestone = milestone;
	),
	TP_printk("netns=%u session=%u milestone=%u",
		  __entry->netns, __entry->id, __entry->milestone)
);

#endif /* _SHM_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
