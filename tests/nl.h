/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small generic netlink client for the tests: it builds requests with
 * libnl but sends and receives with plain syscalls, so that a test sees
 * exactly what the kernel answered (errno, extended ack, dump parts).
 */
#ifndef _SHM_TESTS_NL_H
#define _SHM_TESTS_NL_H

#include <stdbool.h>
#include <stdint.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <shm/netlink.h>

struct nl_sock;

/* The larger of the family's two attribute sets. */
#define NL_MAXATTR (SHM_SESSION_A_MAX > SHM_INFO_A_MAX ? \
		    SHM_SESSION_A_MAX : SHM_INFO_A_MAX)

/* What the kernel answered to one request. */
struct nl_result {
	int error;			/* 0 or a negative errno */
	char message[256];		/* extended ack message, if any */
	uint32_t missing_attr;		/* NLMSGERR_ATTR_MISS_TYPE, or 0 */
	unsigned int messages;		/* data messages received */
	unsigned int parts;		/* recv() calls that returned data */
	bool interrupted;		/* a part carried NLM_F_DUMP_INTR */
	/* The attributes of the last data message, for doit replies. */
	struct nlattr *attrs[NL_MAXATTR + 1];
	unsigned char last[8192];
};

struct nl_sock *nl_open(void);
void nl_close(struct nl_sock *sk);

/* A request for @cmd of the shm family with room for attributes. */
struct nl_msg *nl_request(int cmd, int flags);

/*
 * Sends @msg (and frees it), then reads until the kernel's final ack or
 * error. @on_message, when given, sees each data message's attributes.
 */
int nl_transact(struct nl_sock *sk, struct nl_msg *msg,
		struct nl_result *res,
		void (*on_message)(struct nlattr **attrs, void *arg),
		void *arg);

/* Joins the events group; nl_next_event() then returns one event's command. */
int nl_subscribe(struct nl_sock *sk);
int nl_next_event(struct nl_sock *sk, struct nlattr **attrs, int timeout_ms);

/* Shortcuts for the common requests; they return 0 or a negative errno. */
int nl_session_new(struct nl_sock *sk, uint32_t role, uint32_t *id);
int nl_session_new_streams(struct nl_sock *sk, uint32_t role,
			   uint32_t streams, uint32_t *id);
/*
 * A source that compresses as @compress says (enum shm_compress), under
 * a cap of @bandwidth bytes per second (0: none); or a destination whose
 * source does.
 */
int nl_session_new_compressing(struct nl_sock *sk, uint32_t role,
			       uint32_t streams, uint32_t compress,
			       uint64_t bandwidth, uint32_t *id);
int nl_session_del(struct nl_sock *sk, uint32_t id);
int nl_session_get(struct nl_sock *sk, uint32_t id, struct nl_result *res);
/* SHM_CMD_SESSION_{START,FINAL,CANCEL,RESUMED}: commands of the id alone. */
int nl_session_cmd(struct nl_sock *sk, int cmd, uint32_t id,
		   struct nl_result *res);
/* SHM_CMD_SESSION_START of a source whose VMM's writes a tracker scans. */
int nl_session_start_tracked(struct nl_sock *sk, uint32_t id,
			     struct nl_result *res);
/*
 * SHM_CMD_SESSION_DIRTY: the VMM wrote these bytes of guest memory (@nr
 * may be 0), and, unless @scan_round is 0, that is the tracker's answer to
 * the scan of that round.
 */
struct nl_range {
	uint64_t hva, len;
};
int nl_session_dirty(struct nl_sock *sk, uint32_t id,
		     const struct nl_range *ranges, unsigned int nr,
		     uint32_t scan_round, struct nl_result *res);
/* @vm_fd -1: a destination's streams alone (SHM_CMD_SESSION_ATTACH_VM). */
int nl_session_attach(struct nl_sock *sk, uint32_t id, int vm_fd,
		      const int *stream_fds, unsigned int nr,
		      struct nl_result *res);
int nl_session_attach_vm(struct nl_sock *sk, uint32_t id, int vm_fd,
			 struct nl_result *res);
/* SHM_CMD_SESSION_PLACE: held pages go in, where @places say if they do. */
struct nl_place {
	uint32_t as_id;
	uint64_t gpa, hva, len;
};
int nl_session_place(struct nl_sock *sk, uint32_t id, int vm_fd,
		     const struct nl_place *places, unsigned int nr,
		     struct nl_result *res);

#endif /* _SHM_TESTS_NL_H */
