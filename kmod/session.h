/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHM_SESSION_H
#define _SHM_SESSION_H

#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <net/net_namespace.h>
#include <shm/netlink.h>

#define SHM_REASON_MAX 128

/*
 * The sessions of one network namespace, which is one "host" to shm. Sessions
 * of different namespaces never see each other.
 */
struct shm_net {
	struct net *net;
	/* Protects sessions, count, generation and every session's state. */
	struct mutex lock;
	struct idr sessions;
	unsigned int count;
	/* Bumped on every add and remove so that dumps detect a change. */
	unsigned int generation;
};

struct shm_session_params {
	enum shm_role role;
	char name[SHM_NAME_MAX];
	u32 max_downtime_ms;
	u32 streams;
	u64 bandwidth;
	enum shm_compress compress;	/* SHM_SESSION_A_COMPRESS */
	/* The netlink port the session goes away with (SHM_SESSION_A_OWNED). */
	u32 owner;
};

struct shm_engine;

struct shm_session {
	struct kref ref;
	struct shm_net *sn;
	u32 id;
	/* Cleared once the session is out of the namespace's table. */
	bool linked;
	struct shm_session_params params;
	u64 created_ns;
	enum shm_state state;
	/* Why the session failed or was cancelled; empty otherwise. */
	char reason[SHM_REASON_MAX];
	/* From attach on: the VM, the streams and their threads. */
	struct shm_engine *engine;
};

struct shm_net *shm_net(struct net *net);
struct shm_session *shm_session_new(struct shm_net *sn,
				    const struct shm_session_params *params);
struct shm_session *shm_session_find(struct shm_net *sn, u32 id);
int shm_session_set_state(struct shm_session *s, enum shm_state state,
			  const char *reason);
bool shm_session_is_final(const struct shm_session *s);
/* Cancels the session unless it ended, and stops its engine. */
void shm_session_cancel(struct shm_session *s, const char *reason);
/* Takes the session out of its table; drop the table's reference after. */
void shm_session_unlink(struct shm_session *s);
void shm_session_get(struct shm_session *s);
/* Not under sn->lock: the last reference frees the engine. */
void shm_session_put(struct shm_session *s);
/* Removes the sessions netlink port @portid owned: the socket has closed. */
void shm_session_release_owner(struct shm_net *sn, u32 portid);
/* The engine failed or finished: bring the session's state in line. */
void shm_session_engine_changed(struct shm_session *s);

/* Tracepoints of a session's engine (trace.h), with its netns and id. */
struct shm_round_stats;
void shm_session_trace_round_start(const struct shm_session *s, u32 round,
				   u64 dirty_pages, bool final);
void shm_session_trace_round_end(const struct shm_session *s, u32 round,
				 const struct shm_round_stats *stats);
void shm_session_trace_cutover(const struct shm_session *s,
			       enum shm_cutover_milestone milestone);

int shm_session_init(void);
void shm_session_exit(void);

#endif /* _SHM_SESSION_H */
