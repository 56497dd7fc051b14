/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A session as the kernel describes it (SHM_CMD_SESSION_GET replies and
 * SHM_CMD_SESSION_NEW events), shared by "session" and "monitor".
 */
#ifndef SHMCTL_SESSION_H
#define SHMCTL_SESSION_H

#include <stdint.h>

#include <netlink/msg.h>
#include <shm/netlink.h>

#include "json.h"

struct shm_session {
	uint32_t id;
	uint32_t role;			/* enum shm_role */
	uint32_t state;			/* enum shm_state */
	uint32_t max_downtime_ms;
	uint32_t streams;
	uint64_t bandwidth;		/* bytes per second, 0 = no cap */
	uint64_t age_ms;
	uint32_t compress;		/* enum shm_compress */
	/* Into the message, so valid as long as it is; NULL when absent. */
	const char *name;
	const char *reason;
};

/* The session attributes of @msg, checked against their policy. */
int session_attrs(struct nl_msg *msg, struct nlattr *tb[SHM_SESSION_A_MAX + 1]);

/* A whole session from @msg; -EBADMSG if it lacks a mandatory attribute. */
int session_parse(struct nl_msg *msg, struct shm_session *s);

/* The members of a session's JSON object, for the caller's object. */
void session_json_members(struct json *j, const struct shm_session *s);

/* "id=3 role=source ... bandwidth=100MB/s", without a newline. */
void session_print_line(const struct shm_session *s);

#endif /* SHMCTL_SESSION_H */
