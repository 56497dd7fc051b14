// SPDX-License-Identifier: GPL-2.0
/*
 * The "shm" generic netlink family: requests, replies and events. The
 * contract, attribute by attribute, is include/uapi/shm/netlink.h.
 */

#include <linux/ctype.h>
#include <linux/math64.h>
#include <net/genetlink.h>
#include <net/sock.h>

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
};

static const struct nla_policy shm_session_id_policy[SHM_SESSION_A_MAX + 1] = {
	[SHM_SESSION_A_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

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
	     nla_put_string(skb, SHM_SESSION_A_REASON, s->reason)))
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
	struct sk_buff *msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);

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
		shm_session_del(s);
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
};

static struct genl_family shm_family __ro_after_init = {
	.name = SHM_GENL_NAME,
	.version = SHM_GENL_VERSION,
	.netnsok = true,
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

int __init shm_netlink_init(void)
{
	return genl_register_family(&shm_family);
}

void shm_netlink_exit(void)
{
	genl_unregister_family(&shm_family);
}

/* Lets the genetlink core load shm.ko when the family is first asked for. */
MODULE_ALIAS_GENL_FAMILY(SHM_GENL_NAME);
