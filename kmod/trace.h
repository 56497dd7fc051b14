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

#endif /* _SHM_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
