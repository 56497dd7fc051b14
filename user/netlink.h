/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shmctl's side of the generic netlink family "shm" (include/uapi/shm/
 * netlink.h): a socket with the family resolved, one request at a time,
 * and errors turned into messages and exit status.
 */
#ifndef SHMCTL_NETLINK_H
#define SHMCTL_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

#include <netlink/genl/genl.h>

/* Why the last request failed, for shm_nl_report(). */
struct shm_nl_failure {
	bool local;		/* shmctl's side failed, not the kernel */
	char msg[256];		/* the kernel's extack message, or ours */
	int attr;		/* request attribute the kernel blamed, or 0 */
	bool missing;		/* ... for being absent */
};

struct shm_nl {
	struct nl_sock *sock;
	int family;
	struct shm_nl_failure failure;
};

/*
 * Open a generic netlink socket and resolve the family. On failure, say why
 * on stderr and return the exit status: SHMCTL_EXIT_NO_MODULE when the
 * family is not registered, SHMCTL_EXIT_FAILURE otherwise.
 */
int shm_nl_open(struct shm_nl *nl);
void shm_nl_close(struct shm_nl *nl);

/*
 * A request for @cmd with its generic netlink header, or NULL if out of
 * memory: then give -ENOMEM to shm_nl_report().
 */
struct nl_msg *shm_nl_request_new(struct shm_nl *nl, uint8_t cmd, int flags);

/*
 * Called once per reply; return 0, or a negative errno to stop: -EBADMSG
 * when the reply lacks what the uapi promises, which shm_nl_report() then
 * calls a malformed reply.
 */
typedef int (*shm_nl_reply_fn)(struct nl_msg *reply, void *arg);

/*
 * Send @msg (a dump if it has NLM_F_DUMP) and call @fn on every reply, but
 * only once the kernel has acknowledged the request or ended the dump, so
 * that a failed request prints nothing, and only for a dump that did not
 * race with a change (one flagged NLM_F_DUMP_INTR is repeated, a few times
 * at most). @fn is NULL for a request answered by the ack alone; when it is
 * given, a request other than a dump that gets no reply fails (-EBADMSG).
 * Returns 0 or a negative errno, the kernel's or shmctl's; the details are
 * in nl->failure. Frees @msg.
 */
int shm_nl_request(struct shm_nl *nl, struct nl_msg *msg,
		   shm_nl_reply_fn fn, void *arg);

/*
 * Join the "events" multicast group and call @fn for each event of the
 * family, until @fn returns a negative errno or receiving fails. Returns
 * that error; the details are in nl->failure.
 */
int shm_nl_monitor(struct shm_nl *nl, shm_nl_reply_fn fn, void *arg);

/*
 * Join the "events" multicast group, to be woken by events: returns the
 * socket's file descriptor for poll(), non-blocking, or a negative errno.
 * shm_nl_drain() reads what has come, without waiting, and calls @fn (if
 * not NULL) for each event of the family, until @fn returns an error,
 * which it returns. Events lost to a full buffer are not seen.
 */
int shm_nl_watch(struct shm_nl *nl);
int shm_nl_drain(struct shm_nl *nl, shm_nl_reply_fn fn, void *arg);

/*
 * Say on stderr why a request failed with @err, the way every subcommand
 * does, and return the exit status: SHMCTL_EXIT_PERMISSION for EPERM and
 * EACCES, SHMCTL_EXIT_FAILURE for anything else. Errors with a meaning of
 * their own for one command (ENOENT for a session id) are the caller's.
 */
int shm_nl_report(const struct shm_nl *nl, int err);

#endif /* SHMCTL_NETLINK_H */
