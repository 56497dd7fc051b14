/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * shm generic netlink interface: the one contract between shm.ko and
 * user space (shmctl, tests, anything else that drives a migration).
 *
 * Family SHM_GENL_NAME ("shm"), version SHM_GENL_VERSION. The family is
 * network-namespace aware: a namespace is one "host", and sessions are only
 * visible in, and announced to, the namespace that created them.
 *
 * Every request is strictly validated: unknown attributes, attributes of the
 * wrong type or length, out-of-range values and non-zero reserved header
 * fields are rejected. Errors come back as the usual NLMSG_ERROR with an
 * errno; when the request socket has NETLINK_EXT_ACK set, the error also
 * carries a human-readable message (NLMSGERR_ATTR_MSG) and, where one
 * attribute is to blame, its offset (NLMSGERR_ATTR_OFFS) or, for a missing
 * one, its type (NLMSGERR_ATTR_MISS_TYPE).
 *
 * Commands marked (admin) need CAP_NET_ADMIN and fail with EPERM otherwise.
 *
 * SHM_CMD_GET_INFO: no attributes. Reply:
 *	SHM_INFO_A_MODULE_VERSION	string, the module's version
 *	SHM_INFO_A_PROTOCOL		u32, SHM_PROTOCOL_VERSION of the module
 *	SHM_INFO_A_CAPS			u64, SHM_CAP_* bits
 *	SHM_INFO_A_MAX_SESSIONS		u32, sessions allowed per namespace
 *	SHM_INFO_A_MAX_STREAMS		u32, data streams allowed per session
 *	SHM_INFO_A_SESSIONS		u32, sessions in this namespace now
 *
 * SHM_CMD_SESSION_NEW (admin): create a session in state SHM_STATE_NEW.
 *	SHM_SESSION_A_ROLE		u32, enum shm_role (required)
 *	SHM_SESSION_A_NAME		string, < SHM_NAME_MAX bytes with NUL
 *	SHM_SESSION_A_MAX_DOWNTIME_MS	u32, 1..SHM_MAX_DOWNTIME_MS_LIMIT
 *	SHM_SESSION_A_STREAMS		u32, 1..SHM_MAX_STREAMS
 *	SHM_SESSION_A_BANDWIDTH		u64, bytes per second, 0 = no cap
 *	SHM_SESSION_A_COMPRESS		u32, enum shm_compress. A source's:
 *					when a page that LZ4 shrinks to
 *					SHM_WIRE_LZ4_MAX bytes or fewer goes
 *					compressed (wire.h): fewer bytes on a
 *					slow link, for CPU time on both hosts.
 *					A destination's: its source's; it
 *					takes compressed pages unless NEVER.
 *					Other than NEVER needs LZ4 in this
 *					kernel (EOPNOTSUPP).
 *	SHM_SESSION_A_OWNED		flag: the session belongs to the netlink
 *					socket that created it; when that socket
 *					closes (its process exits, even killed),
 *					the session is cancelled and removed. A
 *					migration tool asks for this, so that
 *					nothing it started outlives it.
 *   Omitted optional attributes take the SHM_DEFAULT_* values. Fails with
 *   ENOSPC when the namespace already holds SHM_MAX_SESSIONS sessions.
 *   Reply: the new session, as SHM_CMD_SESSION_GET.
 *
 * SHM_CMD_SESSION_GET: with SHM_SESSION_A_ID, that session (ENOENT if there
 *   is none); as a dump (NLM_F_DUMP, no attributes), every session of the
 *   namespace in id order, split over as many messages as needed. A dump that
 *   raced with a change is flagged NLM_F_DUMP_INTR: retry it. Each reply:
 *	SHM_SESSION_A_ID		u32
 *	SHM_SESSION_A_ROLE		u32, enum shm_role
 *	SHM_SESSION_A_STATE		u32, enum shm_state
 *	SHM_SESSION_A_NAME		string (only if one was given)
 *	SHM_SESSION_A_MAX_DOWNTIME_MS	u32
 *	SHM_SESSION_A_STREAMS		u32
 *	SHM_SESSION_A_BANDWIDTH		u64
 *	SHM_SESSION_A_COMPRESS		u32, enum shm_compress
 *	SHM_SESSION_A_AGE_MS		u64, milliseconds since creation
 *	SHM_SESSION_A_REASON		string, why it failed or was cancelled
 *	SHM_SESSION_A_OWNED		flag, if it was created owned
 *
 * SHM_CMD_SESSION_DEL (admin): SHM_SESSION_A_ID (required). A session that
 *   has not finished is cancelled first (a state event is sent), then it is
 *   removed.
 *
 * SHM_CMD_SESSION_ATTACH (admin): bind a NEW session to a KVM VM and to its
 *   data streams; the session moves to ATTACHED.
 *	SHM_SESSION_A_ID		u32 (required)
 *	SHM_SESSION_A_VM_FD		u32, a KVM VM file descriptor of the
 *					caller (from KVM_CREATE_VM, or taken
 *					from the VMM with pidfd_getfd)
 *	SHM_SESSION_A_STREAM_FDS	nest of u32 SHM_STREAM_A_FD, connected
 *					TCP socket descriptors of the caller, as
 *					many as the session's streams, in the
 *					same order on both sides
 *   The VM must not use the KVM dirty ring. The module keeps its own
 *   references: the caller may close its descriptors afterwards. A
 *   destination may come without SHM_SESSION_A_VM_FD while its VMM starts,
 *   and start: what arrives is held until SHM_CMD_SESSION_ATTACH_VM,
 *   SHM_EARLY_BYTES of pages (its streams stop reading there, and the
 *   source's sends wait).
 *   Reply: the session, with SHM_SESSION_A_MEMSLOTS.
 *
 * SHM_CMD_SESSION_ATTACH_VM (admin, destination): SHM_SESSION_A_ID and
 *   SHM_SESSION_A_VM_FD, the VM of a session attached without one
 *   (ATTACHED or PRECOPY). Its streams write into the VM from then on, the
 *   pages they held first; those for addresses the VM does not map wait
 *   for SHM_CMD_SESSION_PLACE. EBUSY for a session that has its VM.
 *   Reply: the session, with SHM_SESSION_A_MEMSLOTS.
 *
 * SHM_CMD_SESSION_START (admin): SHM_SESSION_A_ID. An ATTACHED session
 *   starts moving memory (PRECOPY): a source sends every page of every
 *   memslot, then round after round what the guest dirtied meanwhile; a
 *   destination writes what it receives into its VM. Progress events
 *   (SHM_CMD_SESSION_PROGRESS) follow every round.
 *	SHM_SESSION_A_TRACKER		flag, source: the VMM's writes are found
 *					by a tracker that scans for them when
 *					asked (SHM_CMD_SESSION_SCAN). At the end
 *					of each round but the last, the source
 *					asks it and waits for its answer (a
 *					second at most) before it reads KVM's
 *					dirty log: the two then cover the same
 *					stretch of time, and a page the tracker
 *					also sees the guest write (soft-dirty
 *					bits do) is sent once, not once more in
 *					the next round. While no round ends, as
 *					the guest writes nothing, it asks every
 *					second without waiting. A tracker need
 *					scan only when asked: not in the
 *					middle of a long round, whose end finds
 *					every write all the same.
 *
 * SHM_CMD_SESSION_FINAL (admin, source): SHM_SESSION_A_ID. With the VM's
 *   vCPUs paused (EBUSY if one is still inside KVM_RUN), send the last dirty
 *   round and wait until the destination acknowledged every page written:
 *   the reply comes then (CUTOVER, then DONE on both sides).
 *
 * SHM_CMD_SESSION_DIRTY (admin, source): SHM_SESSION_A_ID and
 *   SHM_SESSION_A_DIRTY, a nest of SHM_RANGE_A_* nests (HVA, LEN: u64): the
 *   VMM wrote these bytes of guest memory through its own mapping (device
 *   emulation), which KVM's dirty log does not see. They go in the next
 *   round. A VMM reports every write from before the start (ATTACHED:
 *   taken, and needless, as round 1 reads every page) until the final
 *   round is asked for: EBUSY once it has been.
 *	SHM_SESSION_A_SCAN_ROUND	u32, >= 1: this request ends the tracker's
 *					answer to the SCAN of that round; the
 *					ranges before it (in this request or
 *					earlier ones) are all it found. A
 *					request may carry this alone, without
 *					SHM_SESSION_A_DIRTY.
 *
 * SHM_CMD_SESSION_PLACE (admin, destination): SHM_SESSION_A_ID and
 *   SHM_SESSION_A_VM_FD, the session's VM again. A DONE session may hold
 *   pages for addresses its VM did not map while they arrived: a VMM maps
 *   some guest memory as its devices say (a PC's BIOS area, SMRAM), and
 *   their state comes after the memory. Before the VMM loads that state,
 *   the held pages are written, each where SHM_SESSION_A_PLACES (optional,
 *   a nest of SHM_RANGE_A_* nests: AS_ID u32, GPA, HVA, LEN u64, page
 *   aligned, at most SHM_MAX_PLACES) says the VMM keeps that guest-physical
 *   memory, or else where a writable memslot maps it now. A range must lie
 *   inside the VMM's mapping of the VM's memory. ENXIO if a page has no
 *   place: the two VMs' memory maps differ, and the VM must not run.
 *   Read-only memslots (ROM, which the VMM loads and migrates itself) are
 *   never sent nor written.
 *
 * SHM_CMD_SESSION_RESUMED (admin, destination): SHM_SESSION_A_ID. The VMM
 *   runs the VM it received (a DONE session's): the last milestone of the
 *   migration, for tracing (the shm_cutover tracepoint).
 *
 * SHM_CMD_SESSION_CANCEL (admin): SHM_SESSION_A_ID. Stop a session that has
 *   not finished; it moves to CANCELLED and lets go of its VM and streams.
 *   The VM itself is left as it is.
 *
 * While attached, SHM_CMD_SESSION_GET also returns:
 *	SHM_SESSION_A_MEMSLOTS		nest of SHM_MEMSLOT_A_* nests, one per
 *					memslot: AS_ID, SLOT, GPA, SIZE (u64
 *					bytes), FLAGS (KVM_MEM_*)
 *	SHM_SESSION_A_STATS		nest of SHM_STATS_A_*: the rounds done
 *					so far and the figures of the last one
 *	SHM_SESSION_A_ESTIMATE_MS	u64, the time the pages dirty now would
 *					take at the measured bandwidth: cut over
 *					once it is below the max downtime
 *	SHM_SESSION_A_CONVERGENCE	u32, enum shm_convergence (source)
 *
 * Events, multicast on group SHM_GENL_MCGRP_EVENTS of the session's
 * namespace, one per change, in the order the changes happened:
 *	SHM_CMD_SESSION_NEW	the session's attributes, as SHM_CMD_SESSION_GET
 *	SHM_CMD_SESSION_STATE	SHM_SESSION_A_ID, SHM_SESSION_A_STATE,
 *				SHM_SESSION_A_OLD_STATE, and SHM_SESSION_A_REASON
 *				when it failed or was cancelled
 *	SHM_CMD_SESSION_DEL	SHM_SESSION_A_ID
 *	SHM_CMD_SESSION_PROGRESS SHM_SESSION_A_ID, SHM_SESSION_A_STATS,
 *				SHM_SESSION_A_ESTIMATE_MS and
 *				SHM_SESSION_A_CONVERGENCE, after each round
 *	SHM_CMD_SESSION_SCAN	SHM_SESSION_A_ID, SHM_SESSION_A_SCAN_ROUND: a
 *				source started with SHM_SESSION_A_TRACKER
 *				finished that round (or is idle after it)
 *				and asks its tracker to report the VMM's
 *				writes up to now (DIRTY)
 *
 * A session's life (enum shm_state): NEW -> ATTACHED -> PRECOPY -> CUTOVER ->
 * DONE; any state before DONE may move to FAILED or CANCELLED. DONE, FAILED
 * and CANCELLED are final.
 */
#ifndef _UAPI_SHM_NETLINK_H
#define _UAPI_SHM_NETLINK_H

#define SHM_GENL_NAME		"shm"
#define SHM_GENL_VERSION	1
#define SHM_GENL_MCGRP_EVENTS	"events"

/* Version of the host-to-host data protocol; peers must match exactly. */
#define SHM_PROTOCOL_VERSION	2

#define SHM_NAME_MAX			64
#define SHM_MAX_SESSIONS		1024
#define SHM_MAX_STREAMS			16
#define SHM_MAX_DOWNTIME_MS_LIMIT	60000
#define SHM_DEFAULT_STREAMS		4
#define SHM_DEFAULT_MAX_DOWNTIME_MS	300
#define SHM_DEFAULT_COMPRESS		SHM_COMPRESS_NEVER
/* What a destination holds before its VM (SHM_CMD_SESSION_ATTACH_VM). */
#define SHM_EARLY_BYTES			(64 << 20)

enum shm_cmd {
	SHM_CMD_UNSPEC,
	SHM_CMD_GET_INFO,
	SHM_CMD_SESSION_NEW,
	SHM_CMD_SESSION_GET,
	SHM_CMD_SESSION_DEL,
	SHM_CMD_SESSION_STATE,	/* event only */
	SHM_CMD_SESSION_ATTACH,
	SHM_CMD_SESSION_START,
	SHM_CMD_SESSION_FINAL,
	SHM_CMD_SESSION_CANCEL,
	SHM_CMD_SESSION_PROGRESS, /* event only */
	SHM_CMD_SESSION_DIRTY,
	SHM_CMD_SESSION_RESUMED,
	SHM_CMD_SESSION_PLACE,
	SHM_CMD_SESSION_SCAN,	/* event only */
	SHM_CMD_SESSION_ATTACH_VM,
	__SHM_CMD_MAX
};
#define SHM_CMD_MAX (__SHM_CMD_MAX - 1)

/* Milestones of a cutover, as the shm_cutover tracepoint reports them. */
enum shm_cutover_milestone {
	SHM_CUTOVER_FINAL_SENT = 1,
	SHM_CUTOVER_ACKED,
	SHM_CUTOVER_RESUMED,
};

/* Capability bits of SHM_INFO_A_CAPS. */
enum shm_cap {
	SHM_CAP_TRACEPOINTS	= 1ULL << 0,	/* tracepoints under "shm" */
};

enum shm_info_attr {
	SHM_INFO_A_UNSPEC,
	SHM_INFO_A_PAD,
	SHM_INFO_A_MODULE_VERSION,
	SHM_INFO_A_PROTOCOL,
	SHM_INFO_A_CAPS,
	SHM_INFO_A_MAX_SESSIONS,
	SHM_INFO_A_MAX_STREAMS,
	SHM_INFO_A_SESSIONS,
	__SHM_INFO_A_MAX
};
#define SHM_INFO_A_MAX (__SHM_INFO_A_MAX - 1)

enum shm_role {
	SHM_ROLE_SOURCE = 1,
	SHM_ROLE_DESTINATION,
	__SHM_ROLE_MAX
};
#define SHM_ROLE_MAX (__SHM_ROLE_MAX - 1)

enum shm_state {
	SHM_STATE_NEW = 1,
	SHM_STATE_ATTACHED,
	SHM_STATE_PRECOPY,
	SHM_STATE_CUTOVER,
	SHM_STATE_DONE,
	SHM_STATE_FAILED,
	SHM_STATE_CANCELLED,
	__SHM_STATE_MAX
};
#define SHM_STATE_MAX (__SHM_STATE_MAX - 1)

/*
 * Where pre-copy stands, judged by the source after each round. STALLED is
 * the truthful answer for a guest that dirties memory as fast as the link
 * moves it: rounds no longer shrink what is left, and what is left would
 * take longer than the max downtime. Pre-copy goes on (the guest runs, the
 * destination stays as fresh as it can); whoever drives the migration
 * decides to cut over anyway, slow the guest down, or cancel.
 */
/*
 * When a source sends a page compressed. AUTO: while the stream's socket
 * is backed up or the bandwidth cap makes it wait, that is, while the
 * link and not the sender is the limit; the time LZ4 takes would go
 * waiting for the link anyway. A fast link gets pages as they are,
 * straight from guest memory, and no CPU is spent on them. After pages
 * LZ4 could not shrink, AUTO leaves the next few (up to 64) untried.
 */
enum shm_compress {
	SHM_COMPRESS_NEVER,
	SHM_COMPRESS_AUTO,
	SHM_COMPRESS_ALWAYS,
};

enum shm_convergence {
	SHM_CONVERGENCE_PENDING = 1,	/* round 1 has not ended */
	SHM_CONVERGENCE_CONVERGING,	/* shrinking, not yet short enough */
	SHM_CONVERGENCE_READY,		/* estimate within the max downtime */
	SHM_CONVERGENCE_STALLED,	/* not shrinking, and too long */
	__SHM_CONVERGENCE_MAX
};
#define SHM_CONVERGENCE_MAX (__SHM_CONVERGENCE_MAX - 1)

enum shm_session_attr {
	SHM_SESSION_A_UNSPEC,
	SHM_SESSION_A_PAD,
	SHM_SESSION_A_ID,
	SHM_SESSION_A_ROLE,
	SHM_SESSION_A_STATE,
	SHM_SESSION_A_OLD_STATE,
	SHM_SESSION_A_NAME,
	SHM_SESSION_A_MAX_DOWNTIME_MS,
	SHM_SESSION_A_STREAMS,
	SHM_SESSION_A_BANDWIDTH,
	SHM_SESSION_A_AGE_MS,
	SHM_SESSION_A_REASON,
	SHM_SESSION_A_VM_FD,
	SHM_SESSION_A_STREAM_FDS,
	SHM_SESSION_A_MEMSLOTS,
	SHM_SESSION_A_STATS,
	SHM_SESSION_A_ESTIMATE_MS,
	SHM_SESSION_A_DIRTY,
	SHM_SESSION_A_CONVERGENCE,
	SHM_SESSION_A_OWNED,
	SHM_SESSION_A_PLACES,
	SHM_SESSION_A_TRACKER,
	SHM_SESSION_A_SCAN_ROUND,
	SHM_SESSION_A_COMPRESS,
	__SHM_SESSION_A_MAX
};
#define SHM_SESSION_A_MAX (__SHM_SESSION_A_MAX - 1)

/* Ranges of one SHM_CMD_SESSION_PLACE. */
#define SHM_MAX_PLACES 16

enum shm_stream_attr {
	SHM_STREAM_A_UNSPEC,
	SHM_STREAM_A_FD,
	__SHM_STREAM_A_MAX
};
#define SHM_STREAM_A_MAX (__SHM_STREAM_A_MAX - 1)

enum shm_range_attr {
	SHM_RANGE_A_UNSPEC,
	SHM_RANGE_A_PAD,
	SHM_RANGE_A_HVA,
	SHM_RANGE_A_LEN,
	SHM_RANGE_A_AS_ID,
	SHM_RANGE_A_GPA,
	__SHM_RANGE_A_MAX
};
#define SHM_RANGE_A_MAX (__SHM_RANGE_A_MAX - 1)

enum shm_memslot_attr {
	SHM_MEMSLOT_A_UNSPEC,
	SHM_MEMSLOT_A_PAD,
	SHM_MEMSLOT_A_AS_ID,
	SHM_MEMSLOT_A_SLOT,
	SHM_MEMSLOT_A_GPA,
	SHM_MEMSLOT_A_SIZE,
	SHM_MEMSLOT_A_FLAGS,
	__SHM_MEMSLOT_A_MAX
};
#define SHM_MEMSLOT_A_MAX (__SHM_MEMSLOT_A_MAX - 1)

/*
 * Figures of the last round done (DIRTY_PAGES to THROUGHPUT), totals so
 * far, and the progress of the round running now; all u64. A destination
 * does not know a round's size: its ROUND_PAGES is 0, and it counts every
 * round as one.
 */
enum shm_stats_attr {
	SHM_STATS_A_UNSPEC,
	SHM_STATS_A_PAD,
	SHM_STATS_A_ROUNDS,		/* rounds done */
	SHM_STATS_A_DIRTY_PAGES,	/* pages found dirty for the round */
	SHM_STATS_A_SENT_PAGES,		/* pages sent, as they are or LZ4 */
	SHM_STATS_A_ZERO_PAGES,		/* pages sent as a zero flag */
	SHM_STATS_A_BYTES,		/* bytes put on the wire */
	SHM_STATS_A_DURATION_NS,
	SHM_STATS_A_DIRTY_RATE,		/* pages/s, up to the last harvest */
	SHM_STATS_A_THROUGHPUT,		/* bytes per second */
	SHM_STATS_A_TOTAL_BYTES,	/* all rounds, the running one too */
	SHM_STATS_A_TOTAL_ZERO_PAGES,	/* all rounds, the running one too */
	SHM_STATS_A_ROUND_PAGES,	/* pages the running round sends */
	SHM_STATS_A_ROUND_DONE_PAGES,	/* ... of which sent so far */
	SHM_STATS_A_CPU_NS,		/* shm.ko's threads, once ended */
	SHM_STATS_A_TOTAL_SENT_PAGES,	/* all rounds, the running one too */
	SHM_STATS_A_TOTAL_LZ4_PAGES,	/* ... of them sent LZ4 (source) */
	__SHM_STATS_A_MAX
};
#define SHM_STATS_A_MAX (__SHM_STATS_A_MAX - 1)

#endif /* _UAPI_SHM_NETLINK_H */
