// SPDX-License-Identifier: GPL-2.0
/*
 * The "shm" generic netlink family: requests, replies and events. The
 * contract, attribute by attribute, is include/uapi/shm/netlink.h.
 */

#include <linux/ctype.h>
#include <linux/math64.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include "engine.h"
#include "netlink.h"
#include "session.h"

static struct genl_family shm_family;

enum shm_mcgrp {
	SHM_MCGRP_EVENTS,
};

static const struct genl_multicast_group shm_mcgrps[] = {
	[SHM_MCGRP_EVENTS] = { .name = SHM_GENL_MCGRP_EVENTS },
};

/* Beyond what the s16 bounds of NLA_POLICY_RANGE can hold. */
static struct netlink_range_validation shm_max_downtime_range = {
	.min = 1,
	.max = SHM_MAX_DOWNTIME_MS_LIMIT,
};

static const struct nla_policy shm_session_new_policy[SHM_SESSION_A_MAX + 1] = {
	[SHM_SESSION_A_ROLE] = NLA_POLICY_RANGE(NLA_U32, SHM_ROLE_SOURCE,
						SHM_ROLE_MAX),
	[SHM_SESSION_A_NAME] = { .type = NLA_NUL_STRING,
				 .len = SHM_NAME_MAX - 1 },
	[SHM_SESSION_A_MAX_DOWNTIME_MS] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &shm_max_downtime_range),
	[SHM_SESSION_A_STREAMS] = NLA_POLICY_RANGE(NLA_U32, 1, SHM_MAX_STREAMS),
	[SHM_SESSION_A_BANDWIDTH] = { .type = NLA_U64 },
	[SHM_SESSION_A_OWNED] = { .type = NLA_FLAG },
	[SHM_SESSION_A_COMPRESS] = NLA_POLICY_MAX(NLA_U32, SHM_COMPRESS_ALWAYS),
};

static const struct nla_policy shm_session_id_policy[SHM_SESSION_A_MAX + 1] = {
	[SHM_SESSION_A_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

static const struct nla_policy shm_session_start_policy[SHM_SESSION_A_MAX + 1] = {
	[SHM_SESSION_A_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[SHM_SESSION_A_TRACKER] = { .type = NLA_FLAG },
};

static const struct nla_policy shm_stream_policy[SHM_STREAM_A_MAX + 1] = {
	[SHM_STREAM_A_FD] = { .type = NLA_U32 },
};

static const struct nla_policy shm_session_attach_policy[SHM_SESSION_A_MAX + 1] = {
	[SHM_SESSION_A_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[SHM_SESSION_A_VM_FD] = { .type = NLA_U32 },
	[SHM_SESSION_A_STREAM_FDS] = NLA_POLICY_NESTED(shm_stream_policy),
};

static const struct nla_policy shm_range_policy[SHM_RANGE_A_MAX + 1] = {
	[SHM_RANGE_A_HVA] = { .type = NLA_U64 },
	[SHM_RANGE_A_LEN] = NLA_POLICY_MIN(NLA_U64, 1),
};

static const struct nla_policy shm_place_policy[SHM_RANGE_A_MAX + 1] = {
	[SHM_RANGE_A_AS_ID] = NLA_POLICY_MAX(NLA_U32, SHM_KVM_ADDRESS_SPACES - 1),
	[SHM_RANGE_A_GPA] = { .type = NLA_U64 },
	[SHM_RANGE_A_HVA] = { .type = NLA_U64 },
	[SHM_RANGE_A_LEN] = NLA_POLICY_MIN(NLA_U64, 1),
};

static const struct nla_policy shm_session_place_policy[SHM_SESSION_A_MAX + 1] = {
	[SHM_SESSION_A_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[SHM_SESSION_A_VM_FD] = { .type = NLA_U32 },
	[SHM_SESSION_A_PLACES] = NLA_POLICY_NESTED_ARRAY(shm_place_policy),
};

static const struct nla_policy shm_session_dirty_policy[SHM_SESSION_A_MAX + 1] = {
	[SHM_SESSION_A_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[SHM_SESSION_A_DIRTY] = NLA_POLICY_NESTED_ARRAY(shm_range_policy),
	[SHM_SESSION_A_SCAN_ROUND] = NLA_POLICY_MIN(NLA_U32, 1),
};

static int shm_nl_put_u64(struct sk_buff *skb, int type, u64 value, int pad)
{
	return nla_put_u64_64bit(skb, type, value, pad);
}

static int shm_nl_fill_memslots(struct sk_buff *skb,
				struct shm_engine *engine)
{
	const struct shm_memslot *slot;
	struct nlattr *list, *nest;
	unsigned int i;

	int err = -EMSGSIZE;

	list = nla_nest_start(skb, SHM_SESSION_A_MEMSLOTS);
	if (!list)
		return -EMSGSIZE;
	spin_lock(&engine->vm.slots_lock);
	for (i = 0; i < engine->vm.nr_slots; i++) {
		slot = &engine->vm.slots[i];
		nest = nla_nest_start(skb, i + 1);
		if (!nest ||
		    nla_put_u32(skb, SHM_MEMSLOT_A_AS_ID, slot->as_id) ||
		    nla_put_u32(skb, SHM_MEMSLOT_A_SLOT, slot->id) ||
		    shm_nl_put_u64(skb, SHM_MEMSLOT_A_GPA,
				   slot->base_gfn << PAGE_SHIFT,
				   SHM_MEMSLOT_A_PAD) ||
		    shm_nl_put_u64(skb, SHM_MEMSLOT_A_SIZE,
				   slot->npages << PAGE_SHIFT,
				   SHM_MEMSLOT_A_PAD) ||
		    nla_put_u32(skb, SHM_MEMSLOT_A_FLAGS, slot->flags))
			goto out;
		nla_nest_end(skb, nest);
	}
	nla_nest_end(skb, list);
	err = 0;
out:
	spin_unlock(&engine->vm.slots_lock);
	return err;
}

/* The engine's figures, and when they would allow a cutover. */
static int shm_nl_fill_stats(struct sk_buff *skb, struct shm_engine *engine)
{
	enum shm_convergence convergence;
	struct shm_round_stats last, cur;
	u64 rounds, total, total_zero, total_sent, total_lz4, rate, dirty_rate;
	u64 cpu_ns;
	struct nlattr *nest;

	spin_lock(&engine->lock);
	last = engine->last;
	cur = engine->cur;
	rounds = engine->rounds_done;
	total = engine->total_bytes + cur.bytes;
	total_zero = engine->total_zero_pages + cur.zero_pages;
	total_sent = engine->total_sent_pages + cur.sent_pages;
	total_lz4 = engine->total_lz4_pages + cur.lz4_pages;
	dirty_rate = engine->dirty_rate;
	rate = engine->bytes_per_sec;
	convergence = engine->convergence;
	cpu_ns = engine->cpu_ns;
	spin_unlock(&engine->lock);

	nest = nla_nest_start(skb, SHM_SESSION_A_STATS);
	if (!nest ||
	    shm_nl_put_u64(skb, SHM_STATS_A_ROUNDS, rounds, SHM_STATS_A_PAD) ||
	    shm_nl_put_u64(skb, SHM_STATS_A_DIRTY_PAGES, last.dirty_pages,
			   SHM_STATS_A_PAD) ||
	    shm_nl_put_u64(skb, SHM_STATS_A_SENT_PAGES, last.sent_pages,
			   SHM_STATS_A_PAD) ||
	    shm_nl_put_u64(skb, SHM_STATS_A_ZERO_PAGES, last.zero_pages,
			   SHM_STATS_A_PAD) ||
	    shm_nl_put_u64(skb, SHM_STATS_A_BYTES, last.bytes,
			   SHM_STATS_A_PAD) ||
	    shm_nl_put_u64(skb, SHM_STATS_A_DURATION_NS, last.duration_ns,
			   SHM_STATS_A_PAD) ||
	    shm_nl_put_u64(skb, SHM_STATS_A_DIRTY_RATE, dirty_rate,
			   SHM_STATS_A_PAD) ||
	    shm_nl_put_u64(skb, SHM_STATS_A_THROUGHPUT, rate,
			   SHM_STATS_A_PAD) ||
	    shm_nl_put_u64(skb, SHM_STATS_A_TOTAL_BYTES, total,
			   SHM_STATS_A_PAD) ||
	    shm_nl_put_u64(skb, SHM_STATS_A_CPU_NS, cpu_ns, SHM_STATS_A_PAD) ||
	    shm_nl_put_u64(skb, SHM_STATS_A_TOTAL_ZERO_PAGES, total_zero,
			   SHM_STATS_A_PAD) ||
	    shm_nl_put_u64(skb, SHM_STATS_A_TOTAL_SENT_PAGES, total_sent,
			   SHM_STATS_A_PAD) ||
	    shm_nl_put_u64(skb, SHM_STATS_A_TOTAL_LZ4_PAGES, total_lz4,
			   SHM_STATS_A_PAD) ||
	    shm_nl_put_u64(skb, SHM_STATS_A_ROUND_PAGES, cur.dirty_pages,
			   SHM_STATS_A_PAD) ||
	    shm_nl_put_u64(skb, SHM_STATS_A_ROUND_DONE_PAGES,
			   cur.sent_pages + cur.zero_pages, SHM_STATS_A_PAD))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	if (engine->role == SHM_ROLE_SOURCE &&
	    (shm_nl_put_u64(skb, SHM_SESSION_A_ESTIMATE_MS,
			    shm_engine_estimate_ms(engine), SHM_SESSION_A_PAD) ||
	     nla_put_u32(skb, SHM_SESSION_A_CONVERGENCE, convergence)))
		return -EMSGSIZE;
	return 0;
}

static int shm_nl_fill_session(struct sk_buff *skb,
			       const struct shm_session *s)
{
	const struct shm_session_params *p = &s->params;
	u64 age_ms = div_u64(ktime_get_ns() - s->created_ns, NSEC_PER_MSEC);

	if (nla_put_u32(skb, SHM_SESSION_A_ID, s->id) ||
	    nla_put_u32(skb, SHM_SESSION_A_ROLE, p->role) ||
	    nla_put_u32(skb, SHM_SESSION_A_STATE, s->state) ||
	    (p->name[0] && nla_put_string(skb, SHM_SESSION_A_NAME, p->name)) ||
	    nla_put_u32(skb, SHM_SESSION_A_MAX_DOWNTIME_MS,
			p->max_downtime_ms) ||
	    nla_put_u32(skb, SHM_SESSION_A_STREAMS, p->streams) ||
	    nla_put_u64_64bit(skb, SHM_SESSION_A_BANDWIDTH, p->bandwidth,
			      SHM_SESSION_A_PAD) ||
	    nla_put_u64_64bit(skb, SHM_SESSION_A_AGE_MS, age_ms,
			      SHM_SESSION_A_PAD) ||
	    (s->reason[0] &&
	     nla_put_string(skb, SHM_SESSION_A_REASON, s->reason)) ||
	    (p->owner && nla_put_flag(skb, SHM_SESSION_A_OWNED)) ||
	    nla_put_u32(skb, SHM_SESSION_A_COMPRESS, p->compress))
		return -EMSGSIZE;
	if (s->engine && (shm_nl_fill_memslots(skb, s->engine) ||
			  shm_nl_fill_stats(skb, s->engine)))
		return -EMSGSIZE;
	return 0;
}

/*
 * A whole message: the session's attributes under a header for @cmd.
 * Returns the header, or NULL when @skb is full.
 */
static void *shm_nl_put_session(struct sk_buff *skb,
				const struct shm_session *s, u32 portid,
				u32 seq, int flags, u8 cmd)
{
	void *hdr = genlmsg_put(skb, portid, seq, &shm_family, flags, cmd);

	if (!hdr)
		return NULL;
	if (shm_nl_fill_session(skb, s)) {
		genlmsg_cancel(skb, hdr);
		return NULL;
	}
	genlmsg_end(skb, hdr);
	return hdr;
}

static int shm_nl_reply_session(struct genl_info *info,
				const struct shm_session *s)
{
	struct sk_buff *msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);

	if (!msg)
		return -ENOMEM;
	if (!shm_nl_put_session(msg, s, info->snd_portid, info->snd_seq, 0,
				info->genlhdr->cmd)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return genlmsg_reply(msg, info);
}

static int shm_nl_get_info(struct sk_buff *skb, struct genl_info *info)
{
	struct shm_net *sn = shm_net(genl_info_net(info));
	struct sk_buff *msg;
	unsigned int count;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &shm_family, 0, SHM_CMD_GET_INFO);
	if (!hdr)
		goto too_big;

	mutex_lock(&sn->lock);
	count = sn->count;
	mutex_unlock(&sn->lock);

	if (nla_put_string(msg, SHM_INFO_A_MODULE_VERSION, SHM_VERSION) ||
	    nla_put_u32(msg, SHM_INFO_A_PROTOCOL, SHM_PROTOCOL_VERSION) ||
	    nla_put_u64_64bit(msg, SHM_INFO_A_CAPS, SHM_CAP_TRACEPOINTS,
			      SHM_INFO_A_PAD) ||
	    nla_put_u32(msg, SHM_INFO_A_MAX_SESSIONS, SHM_MAX_SESSIONS) ||
	    nla_put_u32(msg, SHM_INFO_A_MAX_STREAMS, SHM_MAX_STREAMS) ||
	    nla_put_u32(msg, SHM_INFO_A_SESSIONS, count))
		goto too_big;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

too_big:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static int shm_nl_parse_name(struct genl_info *info, char *name)
{
	struct nlattr *attr = info->attrs[SHM_SESSION_A_NAME];
	const char *c;

	if (!attr)
		return 0;
	nla_strscpy(name, attr, SHM_NAME_MAX);
	if (!name[0]) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "session name must not be empty");
		return -EINVAL;
	}
	/* Names end up on operators' terminals: no control characters. */
	for (c = name; *c; c++) {
		if (iscntrl(*c)) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "session name contains a control character");
			return -EINVAL;
		}
	}
	return 0;
}

static int shm_nl_session_new(struct sk_buff *skb, struct genl_info *info)
{
	struct shm_net *sn = shm_net(genl_info_net(info));
	struct shm_session_params params = {
		.max_downtime_ms = SHM_DEFAULT_MAX_DOWNTIME_MS,
		.streams = SHM_DEFAULT_STREAMS,
		.compress = SHM_DEFAULT_COMPRESS,
	};
	struct nlattr **attrs = info->attrs;
	struct shm_session *s;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, SHM_SESSION_A_ROLE)) {
		GENL_SET_ERR_MSG(info, "a session needs a role (source or destination)");
		return -EINVAL;
	}
	params.role = nla_get_u32(attrs[SHM_SESSION_A_ROLE]);
	err = shm_nl_parse_name(info, params.name);
	if (err)
		return err;
	if (attrs[SHM_SESSION_A_MAX_DOWNTIME_MS])
		params.max_downtime_ms =
			nla_get_u32(attrs[SHM_SESSION_A_MAX_DOWNTIME_MS]);
	if (attrs[SHM_SESSION_A_STREAMS])
		params.streams = nla_get_u32(attrs[SHM_SESSION_A_STREAMS]);
	if (attrs[SHM_SESSION_A_BANDWIDTH])
		params.bandwidth = nla_get_u64(attrs[SHM_SESSION_A_BANDWIDTH]);
	if (nla_get_flag(attrs[SHM_SESSION_A_OWNED]))
		params.owner = info->snd_portid;
	if (attrs[SHM_SESSION_A_COMPRESS])
		params.compress = nla_get_u32(attrs[SHM_SESSION_A_COMPRESS]);
	if (params.compress != SHM_COMPRESS_NEVER && !shm_lz4_available()) {
		if (params.role == SHM_ROLE_SOURCE)
			NL_SET_ERR_MSG_ATTR(info->extack, attrs[SHM_SESSION_A_COMPRESS],
					    "cannot compress: no LZ4 in this kernel (crypto module lz4)");
		else
			NL_SET_ERR_MSG_ATTR(info->extack, attrs[SHM_SESSION_A_COMPRESS],
					    "cannot take compressed pages: no LZ4 in this kernel (crypto module lz4)");
		return -EOPNOTSUPP;
	}

	mutex_lock(&sn->lock);
	s = shm_session_new(sn, &params);
	if (IS_ERR(s)) {
		err = PTR_ERR(s);
		if (err == -ENOSPC)
			GENL_SET_ERR_MSG(info, "too many sessions in this network namespace");
	} else {
		err = shm_nl_reply_session(info, s);
	}
	mutex_unlock(&sn->lock);
	return err;
}

/* Looks up the session named by SHM_SESSION_A_ID; sn->lock must be held. */
static struct shm_session *shm_nl_find_session(struct shm_net *sn,
					       struct genl_info *info)
{
	struct nlattr *attr = info->attrs[SHM_SESSION_A_ID];
	struct shm_session *s;

	if (GENL_REQ_ATTR_CHECK(info, SHM_SESSION_A_ID)) {
		GENL_SET_ERR_MSG(info, "a session id is required");
		return ERR_PTR(-EINVAL);
	}
	s = shm_session_find(sn, nla_get_u32(attr));
	if (!s) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "no such session in this network namespace");
		return ERR_PTR(-ENOENT);
	}
	return s;
}

static int shm_nl_session_get(struct sk_buff *skb, struct genl_info *info)
{
	struct shm_net *sn = shm_net(genl_info_net(info));
	struct shm_session *s;
	int err;

	mutex_lock(&sn->lock);
	s = shm_nl_find_session(sn, info);
	err = IS_ERR(s) ? PTR_ERR(s) : shm_nl_reply_session(info, s);
	mutex_unlock(&sn->lock);
	return err;
}

/* cb->args[0] holds the id to resume from when the dump goes on. */
static int shm_nl_session_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct shm_net *sn = shm_net(sock_net(skb->sk));
	int id = cb->args[0];
	struct shm_session *s;
	void *hdr;

	mutex_lock(&sn->lock);
	cb->seq = sn->generation;
	idr_for_each_entry_continue(&sn->sessions, s, id) {
		hdr = shm_nl_put_session(skb, s, NETLINK_CB(cb->skb).portid,
					 cb->nlh->nlmsg_seq, NLM_F_MULTI,
					 SHM_CMD_SESSION_GET);
		/* A full skb ends this part; the next one resumes at id. */
		if (!hdr)
			break;
		genl_dump_check_consistent(cb, hdr);
	}
	mutex_unlock(&sn->lock);

	cb->args[0] = id;
	return skb->len;
}

static int shm_nl_session_del(struct sk_buff *skb, struct genl_info *info)
{
	struct shm_net *sn = shm_net(genl_info_net(info));
	struct shm_session *s;
	int err = 0;

	mutex_lock(&sn->lock);
	s = shm_nl_find_session(sn, info);
	if (IS_ERR(s))
		err = PTR_ERR(s);
	else
		shm_session_unlink(s);
	mutex_unlock(&sn->lock);
	if (!err)
		shm_session_put(s);
	return err;
}

static int shm_nl_stream_fds(struct genl_info *info,
			     const struct shm_session *s, int *fds)
{
	struct nlattr *list = info->attrs[SHM_SESSION_A_STREAM_FDS];
	unsigned int n = 0;
	struct nlattr *fd;
	int rem;

	nla_for_each_nested(fd, list, rem) {
		if (nla_type(fd) != SHM_STREAM_A_FD ||
		    n == s->params.streams) {
			NL_SET_ERR_MSG_ATTR(info->extack, fd,
					    "more stream sockets than the session has streams");
			return -EINVAL;
		}
		fds[n++] = nla_get_u32(fd);
	}
	if (n != s->params.streams) {
		NL_SET_ERR_MSG_ATTR(info->extack, list,
				    "fewer stream sockets than the session has streams");
		return -EINVAL;
	}
	return 0;
}

static int shm_nl_session_attach(struct sk_buff *skb, struct genl_info *info)
{
	struct shm_net *sn = shm_net(genl_info_net(info));
	struct nlattr *vm_fd = info->attrs[SHM_SESSION_A_VM_FD];
	int fds[SHM_MAX_STREAMS];
	struct shm_engine *engine;
	struct shm_session *s;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, SHM_SESSION_A_STREAM_FDS)) {
		GENL_SET_ERR_MSG(info, "attach needs the session's stream sockets");
		return -EINVAL;
	}

	mutex_lock(&sn->lock);
	s = shm_nl_find_session(sn, info);
	if (IS_ERR(s)) {
		err = PTR_ERR(s);
		goto out;
	}
	if (s->state != SHM_STATE_NEW) {
		GENL_SET_ERR_MSG(info, "only a new session can be attached");
		err = -EBUSY;
		goto out;
	}
	if (!vm_fd && s->params.role != SHM_ROLE_DESTINATION) {
		GENL_SET_ERR_MSG(info, "a source attaches with its VM");
		err = -EINVAL;
		goto out;
	}
	err = shm_nl_stream_fds(info, s, fds);
	if (err)
		goto out;
	engine = shm_engine_new(s, fds, s->params.streams, info->extack);
	if (IS_ERR(engine)) {
		err = PTR_ERR(engine);
		goto out;
	}
	err = vm_fd ? shm_engine_attach_vm(engine, nla_get_u32(vm_fd),
					   info->extack) : 0;
	if (err) {
		shm_engine_free(engine);
		goto out;
	}
	s->engine = engine;
	shm_session_set_state(s, SHM_STATE_ATTACHED, NULL);
	err = shm_nl_reply_session(info, s);
out:
	mutex_unlock(&sn->lock);
	return err;
}

static int shm_nl_session_attach_vm(struct sk_buff *skb,
				    struct genl_info *info)
{
	struct shm_net *sn = shm_net(genl_info_net(info));
	struct shm_session *s;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, SHM_SESSION_A_VM_FD)) {
		GENL_SET_ERR_MSG(info, "the VM's file descriptor is required");
		return -EINVAL;
	}
	mutex_lock(&sn->lock);
	s = shm_nl_find_session(sn, info);
	err = PTR_ERR_OR_ZERO(s);
	if (!err && ((s->state != SHM_STATE_ATTACHED &&
		      s->state != SHM_STATE_PRECOPY) ||
		     shm_engine_has_vm(s->engine))) {
		GENL_SET_ERR_MSG(info, "only a destination session attached without its VM takes one");
		err = -EBUSY;
	}
	if (!err)
		err = shm_engine_attach_vm(s->engine,
					   nla_get_u32(info->attrs[SHM_SESSION_A_VM_FD]),
					   info->extack);
	if (!err)
		err = shm_nl_reply_session(info, s);
	mutex_unlock(&sn->lock);
	return err;
}

/*
 * Finds the session and checks it is in @state, under sn->lock. @refusal
 * must be a string literal: the ack quotes it after we return.
 */
static struct shm_session *shm_nl_session_in(struct shm_net *sn,
					     struct genl_info *info,
					     enum shm_state state,
					     const char *refusal)
{
	struct shm_session *s = shm_nl_find_session(sn, info);

	if (!IS_ERR(s) && s->state != state) {
		info->extack->_msg = refusal;
		return ERR_PTR(-EBUSY);
	}
	return s;
}

static int shm_nl_session_start(struct sk_buff *skb, struct genl_info *info)
{
	struct shm_net *sn = shm_net(genl_info_net(info));
	struct nlattr *tracker = info->attrs[SHM_SESSION_A_TRACKER];
	struct shm_session *s;
	int err;

	mutex_lock(&sn->lock);
	s = shm_nl_session_in(sn, info, SHM_STATE_ATTACHED,
			      "only an attached session can start");
	err = PTR_ERR_OR_ZERO(s);
	if (err)
		goto out;
	if (tracker && s->params.role != SHM_ROLE_SOURCE) {
		NL_SET_ERR_MSG_ATTR(info->extack, tracker,
				    "a tracker of the VMM's writes serves the source");
		err = -EINVAL;
		goto out;
	}
	err = shm_engine_start(s->engine, tracker);
	if (!err) {
		shm_session_set_state(s, SHM_STATE_PRECOPY, NULL);
	} else {
		GENL_SET_ERR_MSG(info, "cannot start the session's threads");
		shm_session_set_state(s, SHM_STATE_FAILED,
				      "cannot start the session's threads");
		shm_engine_stop(s->engine);
	}
out:
	mutex_unlock(&sn->lock);
	return err;
}

static int shm_nl_session_final(struct sk_buff *skb, struct genl_info *info)
{
	struct shm_net *sn = shm_net(genl_info_net(info));
	struct shm_engine *engine;
	struct shm_session *s;
	int err;

	mutex_lock(&sn->lock);
	s = shm_nl_session_in(sn, info, SHM_STATE_PRECOPY,
			      "only a session in pre-copy can cut over");
	err = PTR_ERR_OR_ZERO(s);
	if (!err && s->params.role != SHM_ROLE_SOURCE) {
		GENL_SET_ERR_MSG(info, "the final round is the source's to send");
		err = -EINVAL;
	} else if (!err && !shm_vm_vcpus_stopped(&s->engine->vm)) {
		GENL_SET_ERR_MSG(info, "a vCPU is still running: pause the VM first");
		err = -EBUSY;
	}
	if (err) {
		mutex_unlock(&sn->lock);
		return err;
	}
	engine = s->engine;
	shm_session_set_state(s, SHM_STATE_CUTOVER, NULL);
	shm_engine_request_final(engine);
	shm_session_get(s);
	mutex_unlock(&sn->lock);

	err = wait_for_completion_killable(&engine->finished);
	flush_work(&engine->update_work);

	mutex_lock(&sn->lock);
	if (!err && s->state != SHM_STATE_DONE) {
		GENL_SET_ERR_MSG(info, "the final round did not complete: the session's reason says why");
		err = engine->error ?: -ECANCELED;
	}
	mutex_unlock(&sn->lock);
	shm_session_put(s);
	return err;
}

/* The ranges of a DIRTY request into the source's dirty log. */
static int shm_nl_report_ranges(struct genl_info *info, struct shm_session *s)
{
	struct nlattr *range, *tb[SHM_RANGE_A_MAX + 1];
	int rem, err;

	if (!info->attrs[SHM_SESSION_A_DIRTY])
		return 0;
	nla_for_each_nested(range, info->attrs[SHM_SESSION_A_DIRTY], rem) {
		/* The policy checked each range's fields; both must be there. */
		err = nla_parse_nested(tb, SHM_RANGE_A_MAX, range,
				       shm_range_policy, info->extack);
		if (err)
			return err;
		if (!tb[SHM_RANGE_A_HVA] || !tb[SHM_RANGE_A_LEN]) {
			NL_SET_ERR_MSG_ATTR(info->extack, range,
					    "a range needs an address and a length");
			return -EINVAL;
		}
		shm_dirty_report(&s->engine->vm,
				 nla_get_u64(tb[SHM_RANGE_A_HVA]),
				 nla_get_u64(tb[SHM_RANGE_A_LEN]));
	}
	return 0;
}

static int shm_nl_session_dirty(struct sk_buff *skb, struct genl_info *info)
{
	struct shm_net *sn = shm_net(genl_info_net(info));
	struct nlattr *scan = info->attrs[SHM_SESSION_A_SCAN_ROUND];
	struct shm_session *s;
	int err;

	if (!info->attrs[SHM_SESSION_A_DIRTY] && !scan) {
		GENL_SET_ERR_MSG(info, "no ranges of guest memory given, nor the scan they end");
		return -EINVAL;
	}
	mutex_lock(&sn->lock);
	/*
	 * Attached, not started, the reports change nothing (round 1 reads
	 * every page after they were written) but they are welcome: a VMM
	 * may start reporting before the start, and miss nothing.
	 */
	s = shm_nl_find_session(sn, info);
	err = PTR_ERR_OR_ZERO(s);
	if (!err && s->state != SHM_STATE_ATTACHED &&
	    s->state != SHM_STATE_PRECOPY) {
		GENL_SET_ERR_MSG(info, "writes are reported before the final round");
		err = -EBUSY;
	}
	if (!err && s->params.role != SHM_ROLE_SOURCE) {
		GENL_SET_ERR_MSG(info, "writes are reported to the source");
		err = -EINVAL;
	}
	if (!err)
		err = shm_nl_report_ranges(info, s);
	if (!err && scan)
		shm_engine_scanned(s->engine, nla_get_u32(scan));
	mutex_unlock(&sn->lock);
	return err;
}

static int shm_nl_session_resumed(struct sk_buff *skb, struct genl_info *info)
{
	struct shm_net *sn = shm_net(genl_info_net(info));
	struct shm_session *s;
	int err;

	mutex_lock(&sn->lock);
	s = shm_nl_session_in(sn, info, SHM_STATE_DONE,
			      "only a session that received all memory can resume");
	err = PTR_ERR_OR_ZERO(s);
	if (!err && s->params.role != SHM_ROLE_DESTINATION) {
		GENL_SET_ERR_MSG(info, "the destination resumes, not the source");
		err = -EINVAL;
	}
	if (!err)
		shm_session_trace_cutover(s, SHM_CUTOVER_RESUMED);
	mutex_unlock(&sn->lock);
	return err;
}

/* SHM_SESSION_A_PLACES into @places: whole pages, known fields only. */
static int shm_nl_parse_places(struct genl_info *info,
			       struct shm_place *places, unsigned int *nr)
{
	struct nlattr *range, *tb[SHM_RANGE_A_MAX + 1];
	struct shm_place *p;
	int rem, err;

	*nr = 0;
	if (!info->attrs[SHM_SESSION_A_PLACES])
		return 0;
	nla_for_each_nested(range, info->attrs[SHM_SESSION_A_PLACES], rem) {
		if (*nr == SHM_MAX_PLACES) {
			NL_SET_ERR_MSG_ATTR(info->extack, range, "too many places");
			return -E2BIG;
		}
		err = nla_parse_nested(tb, SHM_RANGE_A_MAX, range,
				       shm_place_policy, info->extack);
		if (err)
			return err;
		if (!tb[SHM_RANGE_A_AS_ID] || !tb[SHM_RANGE_A_GPA] ||
		    !tb[SHM_RANGE_A_HVA] || !tb[SHM_RANGE_A_LEN]) {
			NL_SET_ERR_MSG_ATTR(info->extack, range,
					    "a place needs an address space, addresses and a length");
			return -EINVAL;
		}
		p = &places[(*nr)++];
		p->as_id = nla_get_u32(tb[SHM_RANGE_A_AS_ID]);
		p->gpa = nla_get_u64(tb[SHM_RANGE_A_GPA]);
		p->hva = nla_get_u64(tb[SHM_RANGE_A_HVA]);
		p->len = nla_get_u64(tb[SHM_RANGE_A_LEN]);
		if (!PAGE_ALIGNED(p->gpa) || !PAGE_ALIGNED(p->hva) ||
		    !PAGE_ALIGNED(p->len) || p->hva + p->len < p->hva ||
		    p->gpa + p->len < p->gpa) {
			NL_SET_ERR_MSG_ATTR(info->extack, range,
					    "a place must be whole pages");
			return -EINVAL;
		}
	}
	return 0;
}

static int shm_nl_session_place(struct sk_buff *skb, struct genl_info *info)
{
	struct shm_net *sn = shm_net(genl_info_net(info));
	struct shm_place places[SHM_MAX_PLACES];
	struct shm_session *s;
	struct shm_vm vm = {};
	unsigned int nr;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, SHM_SESSION_A_VM_FD))
		return -EINVAL;
	err = shm_nl_parse_places(info, places, &nr);
	if (err)
		return err;
	mutex_lock(&sn->lock);
	s = shm_nl_session_in(sn, info, SHM_STATE_DONE,
			      "only a session that received all memory can place it");
	err = PTR_ERR_OR_ZERO(s);
	if (!err && s->params.role != SHM_ROLE_DESTINATION) {
		GENL_SET_ERR_MSG(info, "pages are placed on the destination");
		err = -EINVAL;
	}
	if (!err)
		err = shm_vm_attach(&vm, nla_get_u32(info->attrs[SHM_SESSION_A_VM_FD]),
				    info->extack);
	if (!err && vm.kvm != s->engine->kvm) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[SHM_SESSION_A_VM_FD],
				    "not the session's VM");
		err = -EINVAL;
	}
	if (!err)
		err = shm_held_place(&s->engine->held, &vm, places, nr,
				     info->extack);
	shm_vm_detach(&vm);
	mutex_unlock(&sn->lock);
	return err;
}

static int shm_nl_session_cancel(struct sk_buff *skb, struct genl_info *info)
{
	struct shm_net *sn = shm_net(genl_info_net(info));
	struct shm_session *s;
	int err = 0;

	mutex_lock(&sn->lock);
	s = shm_nl_find_session(sn, info);
	if (IS_ERR(s)) {
		err = PTR_ERR(s);
	} else if (shm_session_is_final(s)) {
		GENL_SET_ERR_MSG(info, "the session has already ended");
		err = -EINVAL;
	} else {
		shm_session_cancel(s, "cancelled by user");
	}
	mutex_unlock(&sn->lock);
	return err;
}

static const struct genl_ops shm_nl_ops[] = {
	{
		.cmd = SHM_CMD_GET_INFO,
		.doit = shm_nl_get_info,
	},
	{
		.cmd = SHM_CMD_SESSION_NEW,
		.doit = shm_nl_session_new,
		.policy = shm_session_new_policy,
		.maxattr = SHM_SESSION_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = SHM_CMD_SESSION_GET,
		.doit = shm_nl_session_get,
		.dumpit = shm_nl_session_dump,
		.policy = shm_session_id_policy,
		.maxattr = SHM_SESSION_A_MAX,
	},
	{
		.cmd = SHM_CMD_SESSION_DEL,
		.doit = shm_nl_session_del,
		.policy = shm_session_id_policy,
		.maxattr = SHM_SESSION_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = SHM_CMD_SESSION_ATTACH,
		.doit = shm_nl_session_attach,
		.policy = shm_session_attach_policy,
		.maxattr = SHM_SESSION_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = SHM_CMD_SESSION_START,
		.doit = shm_nl_session_start,
		.policy = shm_session_start_policy,
		.maxattr = SHM_SESSION_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = SHM_CMD_SESSION_FINAL,
		.doit = shm_nl_session_final,
		.policy = shm_session_id_policy,
		.maxattr = SHM_SESSION_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = SHM_CMD_SESSION_DIRTY,
		.doit = shm_nl_session_dirty,
		.policy = shm_session_dirty_policy,
		.maxattr = SHM_SESSION_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = SHM_CMD_SESSION_CANCEL,
		.doit = shm_nl_session_cancel,
		.policy = shm_session_id_policy,
		.maxattr = SHM_SESSION_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = SHM_CMD_SESSION_RESUMED,
		.doit = shm_nl_session_resumed,
		.policy = shm_session_id_policy,
		.maxattr = SHM_SESSION_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = SHM_CMD_SESSION_PLACE,
		.doit = shm_nl_session_place,
		.policy = shm_session_place_policy,
		.maxattr = SHM_SESSION_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = SHM_CMD_SESSION_ATTACH_VM,
		.doit = shm_nl_session_attach_vm,
		.policy = shm_session_attach_policy,
		.maxattr = SHM_SESSION_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
};

static struct genl_family shm_family __ro_after_init = {
	.name = SHM_GENL_NAME,
	.version = SHM_GENL_VERSION,
	.netnsok = true,
	/*
	 * Our own locks, not the genetlink mutex: the final round's request
	 * waits for the destination, and must not hold up everyone else.
	 */
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = shm_nl_ops,
	.n_ops = ARRAY_SIZE(shm_nl_ops),
	.mcgrps = shm_mcgrps,
	.n_mcgrps = ARRAY_SIZE(shm_mcgrps),
};

static struct net *shm_session_net(const struct shm_session *s)
{
	return s->sn->net;
}

/* Sends one event, built by @fill, unless nobody listens. */
static void shm_nl_notify(const struct shm_session *s, u8 cmd,
			  int (*fill)(struct sk_buff *skb,
				      const struct shm_session *s,
				      const void *arg),
			  const void *arg)
{
	struct net *net = shm_session_net(s);
	struct sk_buff *msg;
	void *hdr;

	if (!genl_has_listeners(&shm_family, net, SHM_MCGRP_EVENTS))
		return;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &shm_family, 0, cmd);
	if (!hdr || fill(msg, s, arg)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&shm_family, net, msg, 0, SHM_MCGRP_EVENTS,
				GFP_KERNEL);
}

static int shm_nl_fill_new(struct sk_buff *skb, const struct shm_session *s,
			   const void *arg)
{
	return shm_nl_fill_session(skb, s);
}

static int shm_nl_fill_state(struct sk_buff *skb, const struct shm_session *s,
			     const void *arg)
{
	const enum shm_state *old = arg;

	if (nla_put_u32(skb, SHM_SESSION_A_ID, s->id) ||
	    nla_put_u32(skb, SHM_SESSION_A_STATE, s->state) ||
	    nla_put_u32(skb, SHM_SESSION_A_OLD_STATE, *old) ||
	    (s->reason[0] &&
	     nla_put_string(skb, SHM_SESSION_A_REASON, s->reason)))
		return -EMSGSIZE;
	return 0;
}

static int shm_nl_fill_id(struct sk_buff *skb, const struct shm_session *s,
			  const void *arg)
{
	return nla_put_u32(skb, SHM_SESSION_A_ID, s->id);
}

void shm_nl_notify_new(const struct shm_session *s)
{
	shm_nl_notify(s, SHM_CMD_SESSION_NEW, shm_nl_fill_new, NULL);
}

void shm_nl_notify_state(const struct shm_session *s, enum shm_state old)
{
	shm_nl_notify(s, SHM_CMD_SESSION_STATE, shm_nl_fill_state, &old);
}

void shm_nl_notify_del(const struct shm_session *s)
{
	shm_nl_notify(s, SHM_CMD_SESSION_DEL, shm_nl_fill_id, NULL);
}

static int shm_nl_fill_progress(struct sk_buff *skb,
				const struct shm_session *s, const void *arg)
{
	return nla_put_u32(skb, SHM_SESSION_A_ID, s->id) ?:
	       shm_nl_fill_stats(skb, s->engine);
}

void shm_nl_notify_progress(const struct shm_session *s)
{
	shm_nl_notify(s, SHM_CMD_SESSION_PROGRESS, shm_nl_fill_progress, NULL);
}

static int shm_nl_fill_scan(struct sk_buff *skb, const struct shm_session *s,
			    const void *arg)
{
	const u32 *round = arg;

	return nla_put_u32(skb, SHM_SESSION_A_ID, s->id) ?:
	       nla_put_u32(skb, SHM_SESSION_A_SCAN_ROUND, *round);
}

void shm_nl_notify_scan(const struct shm_session *s, u32 round)
{
	shm_nl_notify(s, SHM_CMD_SESSION_SCAN, shm_nl_fill_scan, &round);
}

/* A closed generic netlink socket takes the sessions it owned with it. */
static int shm_nl_sock_event(struct notifier_block *nb, unsigned long event,
			     void *ptr)
{
	struct netlink_notify *n = ptr;

	if (event == NETLINK_URELEASE && n->protocol == NETLINK_GENERIC &&
	    n->portid)
		shm_session_release_owner(shm_net(n->net), n->portid);
	return NOTIFY_DONE;
}

static struct notifier_block shm_nl_notifier = {
	.notifier_call = shm_nl_sock_event,
};

int __init shm_netlink_init(void)
{
	int err = netlink_register_notifier(&shm_nl_notifier);

	if (err)
		return err;
	err = genl_register_family(&shm_family);
	if (err)
		netlink_unregister_notifier(&shm_nl_notifier);
	return err;
}

void shm_netlink_exit(void)
{
	genl_unregister_family(&shm_family);
	netlink_unregister_notifier(&shm_nl_notifier);
}

/* Lets the genetlink core load shm.ko when the family is first asked for. */
MODULE_ALIAS_GENL_FAMILY(SHM_GENL_NAME);
