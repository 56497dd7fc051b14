// SPDX-License-Identifier: GPL-2.0
/*
 * Sessions: one migration, seen from one side, and its state machine. Each
 * network namespace keeps its own table of sessions (struct shm_net).
 */

#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <net/netns/generic.h>

#include "engine.h"
#include "netlink.h"
#include "session.h"
#include "trace.h"

static unsigned int shm_net_id __read_mostly;

#define STATE_BIT(state) BIT(SHM_STATE_##state)

/* The states each state may move to; final states have none. */
static const unsigned long shm_next_states[SHM_STATE_MAX + 1] = {
	[SHM_STATE_NEW] = STATE_BIT(ATTACHED) | STATE_BIT(FAILED) |
			  STATE_BIT(CANCELLED),
	[SHM_STATE_ATTACHED] = STATE_BIT(PRECOPY) | STATE_BIT(FAILED) |
			       STATE_BIT(CANCELLED),
	[SHM_STATE_PRECOPY] = STATE_BIT(CUTOVER) | STATE_BIT(FAILED) |
			      STATE_BIT(CANCELLED),
	[SHM_STATE_CUTOVER] = STATE_BIT(DONE) | STATE_BIT(FAILED) |
			      STATE_BIT(CANCELLED),
};

static bool shm_state_is_final(enum shm_state state)
{
	return !shm_next_states[state];
}

bool shm_session_is_final(const struct shm_session *s)
{
	return shm_state_is_final(s->state);
}

struct shm_net *shm_net(struct net *net)
{
	return net_generic(net, shm_net_id);
}

static u32 shm_net_inum(const struct shm_net *sn)
{
	return sn->net->ns.inum;
}

void shm_session_trace_cutover(const struct shm_session *s,
			       enum shm_cutover_milestone milestone)
{
	trace_shm_cutover(shm_net_inum(s->sn), s->id, milestone);
}

void shm_session_trace_round_start(const struct shm_session *s, u32 round,
				   u64 dirty_pages, bool final)
{
	trace_shm_round_start(shm_net_inum(s->sn), s->id, round, dirty_pages,
			      final);
}

void shm_session_trace_round_end(const struct shm_session *s, u32 round,
				 const struct shm_round_stats *stats)
{
	trace_shm_round_end(shm_net_inum(s->sn), s->id, round,
			    stats->sent_pages, stats->zero_pages, stats->bytes,
			    stats->duration_ns);
}

struct shm_session *shm_session_new(struct shm_net *sn,
				    const struct shm_session_params *params)
{
	struct shm_session *s;
	int id;

	lockdep_assert_held(&sn->lock);

	if (sn->count >= SHM_MAX_SESSIONS)
		return ERR_PTR(-ENOSPC);

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return ERR_PTR(-ENOMEM);

	/* Cyclic ids: a deleted session's id is not handed out again soon. */
	id = idr_alloc_cyclic(&sn->sessions, s, 1, 0, GFP_KERNEL);
	if (id < 0) {
		kfree(s);
		return ERR_PTR(id);
	}

	kref_init(&s->ref);
	s->sn = sn;
	s->id = id;
	s->linked = true;
	s->params = *params;
	s->created_ns = ktime_get_ns();
	s->state = SHM_STATE_NEW;
	sn->count++;
	sn->generation++;

	trace_shm_session_new(shm_net_inum(sn), s->id, s->params.role);
	shm_nl_notify_new(s);
	return s;
}

struct shm_session *shm_session_find(struct shm_net *sn, u32 id)
{
	lockdep_assert_held(&sn->lock);
	return idr_find(&sn->sessions, id);
}

static int __shm_session_set_state(struct shm_session *s,
				   enum shm_state state, const char *reason,
				   bool notify)
{
	enum shm_state old = s->state;

	lockdep_assert_held(&s->sn->lock);

	if (!(shm_next_states[old] & BIT(state)))
		return -EINVAL;

	s->state = state;
	if (reason)
		strscpy(s->reason, reason, sizeof(s->reason));

	trace_shm_session_state(shm_net_inum(s->sn), s->id, old, state);
	if (notify)
		shm_nl_notify_state(s, old);
	return 0;
}

int shm_session_set_state(struct shm_session *s, enum shm_state state,
			  const char *reason)
{
	return __shm_session_set_state(s, state, reason, true);
}

static void __shm_session_cancel(struct shm_session *s, const char *reason,
				 bool notify)
{
	lockdep_assert_held(&s->sn->lock);

	if (!shm_state_is_final(s->state))
		__shm_session_set_state(s, SHM_STATE_CANCELLED, reason, notify);
	/* Threads never take sn->lock: stopping them here cannot deadlock. */
	if (s->engine)
		shm_engine_stop(s->engine);
}

void shm_session_cancel(struct shm_session *s, const char *reason)
{
	__shm_session_cancel(s, reason, true);
}

/*
 * Without @notify nothing is multicast: used when the namespace or the
 * module goes away, when nobody can listen any more.
 */
static void __shm_session_unlink(struct shm_session *s, const char *reason,
				 bool notify)
{
	struct shm_net *sn = s->sn;

	__shm_session_cancel(s, reason, notify);
	idr_remove(&sn->sessions, s->id);
	s->linked = false;
	sn->count--;
	sn->generation++;

	trace_shm_session_del(shm_net_inum(sn), s->id, s->state);
	if (notify)
		shm_nl_notify_del(s);
}

void shm_session_unlink(struct shm_session *s)
{
	__shm_session_unlink(s, "session deleted", true);
}

void shm_session_get(struct shm_session *s)
{
	kref_get(&s->ref);
}

static void shm_session_release(struct kref *ref)
{
	struct shm_session *s = container_of(ref, struct shm_session, ref);

	shm_engine_free(s->engine);
	kfree(s);
}

void shm_session_put(struct shm_session *s)
{
	kref_put(&s->ref, shm_session_release);
}

void shm_session_engine_changed(struct shm_session *s)
{
	struct shm_engine *engine = s->engine;
	struct shm_net *sn = s->sn;

	mutex_lock(&sn->lock);
	if (s->linked && !shm_state_is_final(s->state)) {
		if (engine->error) {
			shm_session_set_state(s, SHM_STATE_FAILED,
					      engine->reason);
			shm_engine_stop(engine);
		} else if (READ_ONCE(engine->finished_ok)) {
			/* A destination learns of the cutover from the wire. */
			if (s->state == SHM_STATE_PRECOPY)
				shm_session_set_state(s, SHM_STATE_CUTOVER,
						      NULL);
			shm_session_set_state(s, SHM_STATE_DONE, NULL);
			shm_engine_stop(engine);
		}
	}
	mutex_unlock(&sn->lock);
}

static int __net_init shm_net_init(struct net *net)
{
	struct shm_net *sn = shm_net(net);

	sn->net = net;
	mutex_init(&sn->lock);
	idr_init(&sn->sessions);
	return 0;
}

/* The first session @portid owns, unlinked; NULL when there is none left. */
static struct shm_session *shm_session_unlink_owned(struct shm_net *sn,
						    u32 portid)
{
	struct shm_session *s;
	int id;

	mutex_lock(&sn->lock);
	idr_for_each_entry(&sn->sessions, s, id)
		if (s->params.owner == portid)
			break;
	if (s)
		__shm_session_unlink(s, "its owner closed its netlink socket",
				     true);
	mutex_unlock(&sn->lock);
	return s;
}

void shm_session_release_owner(struct shm_net *sn, u32 portid)
{
	struct shm_session *s;

	/* One at a time: the last put may wait for an engine's work. */
	while ((s = shm_session_unlink_owned(sn, portid)))
		shm_session_put(s);
}

static void __net_exit shm_net_exit(struct net *net)
{
	struct shm_net *sn = shm_net(net);
	struct shm_session *s;
	int id;

	/* One at a time: the last put may wait for an engine's work. */
	for (;;) {
		mutex_lock(&sn->lock);
		id = 0;
		s = idr_get_next(&sn->sessions, &id);
		if (s)
			__shm_session_unlink(s, "namespace or module removed",
					     false);
		mutex_unlock(&sn->lock);
		if (!s)
			break;
		shm_session_put(s);
	}
	idr_destroy(&sn->sessions);
}

static struct pernet_operations shm_net_ops = {
	.init = shm_net_init,
	.exit = shm_net_exit,
	.id = &shm_net_id,
	.size = sizeof(struct shm_net),
};

int shm_session_init(void)
{
	return register_pernet_subsys(&shm_net_ops);
}

/* Callers unregister the netlink family first: no request can race this. */
void shm_session_exit(void)
{
	unregister_pernet_subsys(&shm_net_ops);
}
