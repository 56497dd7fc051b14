// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/genetlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/socket.h>

#include "nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static int family_id;

struct nl_sock *nl_open(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	int one = 1;

	if (!sk)
		return NULL;
	if (genl_connect(sk) < 0)
		goto fail;
	family_id = genl_ctrl_resolve(sk, SHM_GENL_NAME);
	if (family_id < 0)
		goto fail;
	nl_socket_disable_seq_check(sk);
	if (setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK,
		       &one, sizeof(one)) < 0)
		goto fail;
	return sk;
fail:
	nl_socket_free(sk);
	return NULL;
}

void nl_close(struct nl_sock *sk)
{
	nl_socket_free(sk);
}

struct nl_msg *nl_request(int cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family_id, 0,
				flags | NLM_F_ACK, cmd, SHM_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static void parse_ack(const struct nlmsghdr *nlh, struct nl_result *res)
{
	const struct nlmsgerr *err = NLMSG_DATA(nlh);
	const struct nlattr *tlv;
	size_t offset = sizeof(*err);
	int rem;

	res->error = err->error;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	/* Unless capped, the error quotes our whole request before the TLVs. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		offset += err->msg.nlmsg_len - sizeof(err->msg);
	tlv = (const struct nlattr *)((const char *)err + offset);
	rem = (int)nlh->nlmsg_len - NLMSG_HDRLEN - (int)offset;
	for (; rem >= (int)sizeof(*tlv) && tlv->nla_len >= sizeof(*tlv) &&
	       tlv->nla_len <= rem;
	     rem -= NLA_ALIGN(tlv->nla_len),
	     tlv = (const void *)((const char *)tlv + NLA_ALIGN(tlv->nla_len))) {
		const char *data = (const char *)tlv + NLA_HDRLEN;
		int len = tlv->nla_len - NLA_HDRLEN;

		if (tlv->nla_type == NLMSGERR_ATTR_MSG)
			snprintf(res->message, sizeof(res->message), "%.*s",
				 len, data);
		else if (tlv->nla_type == NLMSGERR_ATTR_MISS_TYPE &&
			 len == sizeof(uint32_t))
			memcpy(&res->missing_attr, data, sizeof(uint32_t));
	}
}

static void parse_data(const struct nlmsghdr *nlh, struct nl_result *res,
		       void (*on_message)(struct nlattr **attrs, void *arg),
		       void *arg)
{
	struct nlmsghdr *copy = (struct nlmsghdr *)res->last;
	struct nlattr *attrs;
	int len;

	res->messages++;
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		res->interrupted = true;
	if (nlh->nlmsg_len > sizeof(res->last))
		return;
	memcpy(copy, nlh, nlh->nlmsg_len);
	attrs = (struct nlattr *)((char *)NLMSG_DATA(copy) + GENL_HDRLEN);
	len = copy->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	nla_parse(res->attrs, NL_MAXATTR, attrs, len, NULL);
	if (on_message)
		on_message(res->attrs, arg);
}

int nl_transact(struct nl_sock *sk, struct nl_msg *msg,
		struct nl_result *res,
		void (*on_message)(struct nlattr **attrs, void *arg),
		void *arg)
{
	char buf[65536];
	int sent = nl_send_auto(sk, msg);

	nlmsg_free(msg);
	memset(res, 0, sizeof(*res));
	if (sent < 0)
		return res->error = -EIO;

	for (;;) {
		ssize_t len = recv(nl_socket_get_fd(sk), buf, sizeof(buf), 0);
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf;

		if (len < 0)
			return res->error = -errno;
		res->parts++;
		for (; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				parse_ack(nlh, res);
				return res->error;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				/* A dump ends here, with no ack after it. */
				res->error = *(int *)NLMSG_DATA(nlh);
				return res->error;
			}
			parse_data(nlh, res, on_message, arg);
		}
	}
}

int nl_subscribe(struct nl_sock *sk)
{
	int group = genl_ctrl_resolve_grp(sk, SHM_GENL_NAME,
					  SHM_GENL_MCGRP_EVENTS);

	return group < 0 ? group : nl_socket_add_membership(sk, group);
}

int nl_next_event(struct nl_sock *sk, struct nlattr **attrs, int timeout_ms)
{
	static char buf[8192];
	struct pollfd pfd = { .fd = nl_socket_get_fd(sk), .events = POLLIN };
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct genlmsghdr *genl;
	ssize_t len;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return -ETIMEDOUT;
	len = recv(pfd.fd, buf, sizeof(buf), 0);
	if (len < 0)
		return -errno;
	if (!NLMSG_OK(nlh, len) || nlh->nlmsg_type != family_id)
		return -EPROTO;
	genl = NLMSG_DATA(nlh);
	nla_parse(attrs, NL_MAXATTR,
		  (struct nlattr *)((char *)genl + GENL_HDRLEN),
		  nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, NULL);
	return genl->cmd;
}

int nl_session_new(struct nl_sock *sk, uint32_t role, uint32_t *id)
{
	return nl_session_new_streams(sk, role, SHM_DEFAULT_STREAMS, id);
}

static int session_new(struct nl_sock *sk, uint32_t role, uint32_t streams,
		       uint32_t compress, uint64_t bandwidth, uint32_t *id)
{
	struct nl_msg *msg = nl_request(SHM_CMD_SESSION_NEW, 0);
	struct nl_result res;

	nla_put_u32(msg, SHM_SESSION_A_ROLE, role);
	nla_put_u32(msg, SHM_SESSION_A_STREAMS, streams);
	if (compress != SHM_COMPRESS_NEVER)
		nla_put_u32(msg, SHM_SESSION_A_COMPRESS, compress);
	if (bandwidth)
		nla_put_u64(msg, SHM_SESSION_A_BANDWIDTH, bandwidth);
	if (nl_transact(sk, msg, &res, NULL, NULL))
		return res.error;
	if (!res.attrs[SHM_SESSION_A_ID])
		return -EPROTO;
	*id = nla_get_u32(res.attrs[SHM_SESSION_A_ID]);
	return 0;
}

int nl_session_new_streams(struct nl_sock *sk, uint32_t role,
			   uint32_t streams, uint32_t *id)
{
	return session_new(sk, role, streams, SHM_COMPRESS_NEVER, 0, id);
}

int nl_session_new_compressing(struct nl_sock *sk, uint32_t role,
			       uint32_t streams, uint32_t compress,
			       uint64_t bandwidth, uint32_t *id)
{
	return session_new(sk, role, streams, compress, bandwidth, id);
}

int nl_session_cmd(struct nl_sock *sk, int cmd, uint32_t id,
		   struct nl_result *res)
{
	struct nl_msg *msg = nl_request(cmd, 0);

	nla_put_u32(msg, SHM_SESSION_A_ID, id);
	return nl_transact(sk, msg, res, NULL, NULL);
}

int nl_session_del(struct nl_sock *sk, uint32_t id)
{
	struct nl_result res;

	return nl_session_cmd(sk, SHM_CMD_SESSION_DEL, id, &res);
}

int nl_session_get(struct nl_sock *sk, uint32_t id, struct nl_result *res)
{
	return nl_session_cmd(sk, SHM_CMD_SESSION_GET, id, res);
}

int nl_session_attach(struct nl_sock *sk, uint32_t id, int vm_fd,
		      const int *stream_fds, unsigned int nr,
		      struct nl_result *res)
{
	struct nl_msg *msg = nl_request(SHM_CMD_SESSION_ATTACH, 0);
	struct nlattr *fds;
	unsigned int i;

	nla_put_u32(msg, SHM_SESSION_A_ID, id);
	if (vm_fd >= 0)
		nla_put_u32(msg, SHM_SESSION_A_VM_FD, vm_fd);
	fds = nla_nest_start(msg, SHM_SESSION_A_STREAM_FDS);
	for (i = 0; i < nr; i++)
		nla_put_u32(msg, SHM_STREAM_A_FD, stream_fds[i]);
	nla_nest_end(msg, fds);
	return nl_transact(sk, msg, res, NULL, NULL);
}

int nl_session_attach_vm(struct nl_sock *sk, uint32_t id, int vm_fd,
			 struct nl_result *res)
{
	struct nl_msg *msg = nl_request(SHM_CMD_SESSION_ATTACH_VM, 0);

	nla_put_u32(msg, SHM_SESSION_A_ID, id);
	nla_put_u32(msg, SHM_SESSION_A_VM_FD, vm_fd);
	return nl_transact(sk, msg, res, NULL, NULL);
}

int nl_session_start_tracked(struct nl_sock *sk, uint32_t id,
			     struct nl_result *res)
{
	struct nl_msg *msg = nl_request(SHM_CMD_SESSION_START, 0);

	nla_put_u32(msg, SHM_SESSION_A_ID, id);
	nla_put_flag(msg, SHM_SESSION_A_TRACKER);
	return nl_transact(sk, msg, res, NULL, NULL);
}

int nl_session_dirty(struct nl_sock *sk, uint32_t id,
		     const struct nl_range *ranges, unsigned int nr,
		     uint32_t scan_round, struct nl_result *res)
{
	struct nl_msg *msg = nl_request(SHM_CMD_SESSION_DIRTY, 0);
	struct nlattr *list, *range;
	unsigned int i;

	nla_put_u32(msg, SHM_SESSION_A_ID, id);
	if (nr) {
		list = nla_nest_start(msg, SHM_SESSION_A_DIRTY);
		for (i = 0; i < nr; i++) {
			range = nla_nest_start(msg, i + 1);
			nla_put_u64(msg, SHM_RANGE_A_HVA, ranges[i].hva);
			nla_put_u64(msg, SHM_RANGE_A_LEN, ranges[i].len);
			nla_nest_end(msg, range);
		}
		nla_nest_end(msg, list);
	}
	if (scan_round)
		nla_put_u32(msg, SHM_SESSION_A_SCAN_ROUND, scan_round);
	return nl_transact(sk, msg, res, NULL, NULL);
}

int nl_session_place(struct nl_sock *sk, uint32_t id, int vm_fd,
		     const struct nl_place *places, unsigned int nr,
		     struct nl_result *res)
{
	struct nl_msg *msg = nl_request(SHM_CMD_SESSION_PLACE, 0);
	struct nlattr *list, *range;
	unsigned int i;

	nla_put_u32(msg, SHM_SESSION_A_ID, id);
	nla_put_u32(msg, SHM_SESSION_A_VM_FD, vm_fd);
	list = nla_nest_start(msg, SHM_SESSION_A_PLACES);
	for (i = 0; i < nr; i++) {
		range = nla_nest_start(msg, i + 1);
		nla_put_u32(msg, SHM_RANGE_A_AS_ID, places[i].as_id);
		nla_put_u64(msg, SHM_RANGE_A_GPA, places[i].gpa);
		nla_put_u64(msg, SHM_RANGE_A_HVA, places[i].hva);
		nla_put_u64(msg, SHM_RANGE_A_LEN, places[i].len);
		nla_nest_end(msg, range);
	}
	nla_nest_end(msg, list);
	return nl_transact(sk, msg, res, NULL, NULL);
}
