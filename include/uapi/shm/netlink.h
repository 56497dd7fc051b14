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
 *	SHM_SESSION_A_AGE_MS		u64, milliseconds since creation
 *	SHM_SESSION_A_REASON		string, why it failed or was cancelled
 *
 * SHM_CMD_SESSION_DEL (admin): SHM_SESSION_A_ID (required). A session that
 *   has not finished is cancelled first (a state event is sent), then it is
 *   removed.
 *
 * Events, multicast on group SHM_GENL_MCGRP_EVENTS of the session's
 * namespace, one per change, in the order the changes happened:
 *	SHM_CMD_SESSION_NEW	the session's attributes, as SHM_CMD_SESSION_GET
 *	SHM_CMD_SESSION_STATE	SHM_SESSION_A_ID, SHM_SESSION_A_STATE,
 *				SHM_SESSION_A_OLD_STATE, and SHM_SESSION_A_REASON
 *				when it failed or was cancelled
 *	SHM_CMD_SESSION_DEL	SHM_SESSION_A_ID
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
#define SHM_PROTOCOL_VERSION	1

#define SHM_NAME_MAX			64
#define SHM_MAX_SESSIONS		1024
#define SHM_MAX_STREAMS			16
#define SHM_MAX_DOWNTIME_MS_LIMIT	60000
#define SHM_DEFAULT_STREAMS		4
#define SHM_DEFAULT_MAX_DOWNTIME_MS	300

enum shm_cmd {
	SHM_CMD_UNSPEC,
	SHM_CMD_GET_INFO,
	SHM_CMD_SESSION_NEW,
	SHM_CMD_SESSION_GET,
	SHM_CMD_SESSION_DEL,
	SHM_CMD_SESSION_STATE,	/* event only */
	__SHM_CMD_MAX
};
#define SHM_CMD_MAX (__SHM_CMD_MAX - 1)

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
	__SHM_SESSION_A_MAX
};
#define SHM_SESSION_A_MAX (__SHM_SESSION_A_MAX - 1)

#endif /* _UAPI_SHM_NETLINK_H */
