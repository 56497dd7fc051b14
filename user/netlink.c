// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink plumbing on libnl. libnl's default auto-ack sets NLM_F_ACK
 * on every request, so a request ends with an NLMSG_ERROR (an ack when its
 * error is 0) or, for a dump, with NLMSG_DONE; the kernel's errno and its
 * extended ack come back in either. Replies are held until that end.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include <shm/netlink.h>

#include "names.h"
#include "netlink.h"
#include "shmctl.h"

/* How often a dump that raced with a change is tried before giving up. */
#define DUMP_ATTEMPTS 5

/* Big enough for a burst of events while the reader is descheduled. */
#define MONITOR_RCVBUF (1 << 20)

/* One request in flight. */
struct request {
	struct shm_nl *nl;
	struct nl_msg *msg;
	struct nl_msg **replies;
	size_t n_replies, max_replies;
	bool done;		/* acked, refused, or the dump ended */
	bool interrupted;	/* the dump raced with a change */
	int error;		/* negative errno, filled in with nl->failure */
};

/* Something failed on shmctl's side: remember what, return @err. */
static int fail_local(struct shm_nl *nl, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_local(struct shm_nl *nl, int err, const char *fmt, ...)
{
	va_list ap;

	nl->failure.local = true;
	va_start(ap, fmt);
	vsnprintf(nl->failure.msg, sizeof(nl->failure.msg), fmt, ap);
	va_end(ap);
	return err;
}

/* A reply callback refused what it was given. */
static int fail_reply(struct shm_nl *nl, int err)
{
	if (err == -EBADMSG)
		return fail_local(nl, err,
				  "malformed reply from the kernel module (are shm.ko and shmctl the same version?)");
	return fail_local(nl, err, "%s", strerror(-err));
}

int shm_nl_open(struct shm_nl *nl)
{
	int ret = SHMCTL_EXIT_FAILURE;
	int one = 1;
	int err;

	*nl = (struct shm_nl){};
	nl->sock = nl_socket_alloc();
	if (!nl->sock) {
		fputs("shmctl: out of memory\n", stderr);
		return ret;
	}

	err = genl_connect(nl->sock);
	if (err) {
		fprintf(stderr, "shmctl: cannot open a generic netlink socket: %s\n",
			nl_geterror(err));
		goto fail;
	}

	/*
	 * Ask the kernel to explain refusals (libnl 3.7 has no helper for
	 * this). A kernel that cannot still sends the errno, so failing here
	 * only costs the explanation.
	 */
	setsockopt(nl_socket_get_fd(nl->sock), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));

	err = genl_ctrl_resolve(nl->sock, SHM_GENL_NAME);
	if (err == -NLE_OBJ_NOTFOUND) {
		fputs("shmctl: shm kernel module not loaded (load it with 'modprobe shm' or 'insmod shm.ko')\n",
		      stderr);
		ret = SHMCTL_EXIT_NO_MODULE;
		goto fail;
	}
	if (err < 0) {
		fprintf(stderr, "shmctl: cannot look up generic netlink family \"%s\": %s\n",
			SHM_GENL_NAME, nl_geterror(err));
		goto fail;
	}
	nl->family = err;
	return SHMCTL_EXIT_OK;

fail:
	nl_socket_free(nl->sock);
	nl->sock = NULL;
	return ret;
}

void shm_nl_close(struct shm_nl *nl)
{
	nl_socket_free(nl->sock);
	nl->sock = NULL;
}

struct nl_msg *shm_nl_request_new(struct shm_nl *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
				flags, cmd, SHM_GENL_VERSION)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	if (!msg)
		fail_local(nl, -ENOMEM, "out of memory");
	return msg;
}

/*
 * Type of the attribute at byte @offset of our request, which is how
 * NLMSGERR_ATTR_OFFS points at the one to blame; 0 if none is there.
 * Requests of this family are flat, so no nest needs walking.
 */
static int attr_at(struct nl_msg *msg, uint32_t offset)
{
	const struct nlmsghdr *hdr = nlmsg_hdr(msg);
	const struct nlattr *nla;

	if (offset < NLMSG_HDRLEN + GENL_HDRLEN ||
	    offset > hdr->nlmsg_len - NLA_HDRLEN)
		return 0;
	nla = (const struct nlattr *)((const char *)hdr + offset);
	return nla->nla_type & NLA_TYPE_MASK;
}

static const struct nla_policy ext_ack_policy[NLMSGERR_ATTR_MAX + 1] = {
	[NLMSGERR_ATTR_MSG]		= { .type = NLA_STRING },
	[NLMSGERR_ATTR_OFFS]		= { .type = NLA_U32 },
	[NLMSGERR_ATTR_MISS_TYPE]	= { .type = NLA_U32 },
};

/*
 * Read the extended ack that follows the first @skip bytes of the payload of
 * @hdr, an NLMSG_ERROR or NLMSG_DONE, into nl->failure.
 */
static void parse_ext_ack(struct request *r, const struct nlmsghdr *hdr,
			  size_t skip)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t payload = nlmsg_datalen(hdr);
	size_t start = NLMSG_ALIGN(skip);

	if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS) || start >= payload)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)nlmsg_data(hdr) + start),
		      payload - start, ext_ack_policy) < 0)
		return;

	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(r->nl->failure.msg, sizeof(r->nl->failure.msg), "%s",
			 nla_get_string(tb[NLMSGERR_ATTR_MSG]));
	if (tb[NLMSGERR_ATTR_MISS_TYPE]) {
		r->nl->failure.attr = nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]);
		r->nl->failure.missing = true;
	} else if (tb[NLMSGERR_ATTR_OFFS]) {
		r->nl->failure.attr = attr_at(r->msg,
					      nla_get_u32(tb[NLMSGERR_ATTR_OFFS]));
	}
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *err, void *arg)
{
	struct request *r = arg;
	/*
	 * libnl hands over the payload of the NLMSG_ERROR; the header, whose
	 * flags say whether and where the extack is, comes right before it.
	 */
	const struct nlmsghdr *hdr =
		(const struct nlmsghdr *)((const char *)err - NLMSG_HDRLEN);
	size_t skip = sizeof(*err);

	/* Unless capped, our whole request is quoted, not just its header. */
	if (!(hdr->nlmsg_flags & NLM_F_CAPPED))
		skip += err->msg.nlmsg_len - NLMSG_HDRLEN;
	parse_ext_ack(r, hdr, skip);
	r->error = err->error;
	r->done = true;
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct request *r = arg;

	r->done = true;
	return NL_STOP;
}

static int on_done(struct nl_msg *msg, void *arg)
{
	const struct nlmsghdr *hdr = nlmsg_hdr(msg);
	struct request *r = arg;
	int error;

	/* A dump that fails part way puts the errno in NLMSG_DONE. */
	if (nlmsg_datalen(hdr) >= (int)sizeof(error)) {
		memcpy(&error, nlmsg_data(hdr), sizeof(error));
		if (error < 0) {
			parse_ext_ack(r, hdr, sizeof(error));
			r->error = error;
		}
	}
	r->done = true;
	return NL_STOP;
}

static int on_dump_intr(struct nl_msg *msg, void *arg)
{
	struct request *r = arg;

	r->interrupted = true;
	return NL_OK;	/* read on to NLMSG_DONE, then start over */
}

static int on_reply(struct nl_msg *msg, void *arg)
{
	struct request *r = arg;

	if (r->n_replies == r->max_replies) {
		size_t max = r->max_replies ? 2 * r->max_replies : 16;
		struct nl_msg **replies;

		replies = realloc(r->replies, max * sizeof(*replies));
		if (!replies) {
			r->error = fail_local(r->nl, -ENOMEM, "out of memory");
			r->done = true;
			return NL_STOP;
		}
		r->replies = replies;
		r->max_replies = max;
	}
	nlmsg_get(msg);
	r->replies[r->n_replies++] = msg;
	return NL_OK;
}

static void drop_replies(struct request *r)
{
	while (r->n_replies)
		nlmsg_free(r->replies[--r->n_replies]);
}

/* Send the request and collect what comes back, once. */
static int request_once(struct request *r)
{
	struct shm_nl *nl = r->nl;
	struct nl_cb *cb;
	int err;

	r->done = false;
	r->interrupted = false;
	r->error = 0;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return fail_local(nl, -ENOMEM, "out of memory");
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_reply, r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_done, r);
	nl_cb_set(cb, NL_CB_DUMP_INTR, NL_CB_CUSTOM, on_dump_intr, r);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, r);

	/* libnl numbers only NL_AUTO_SEQ requests; a repeat needs a new one. */
	nlmsg_hdr(r->msg)->nlmsg_seq = NL_AUTO_SEQ;
	err = nl_send_auto(nl->sock, r->msg);
	while (err >= 0 && !r->done)
		err = nl_recvmsgs(nl->sock, cb);
	nl_cb_put(cb);

	if (r->done)
		return r->error;
	return fail_local(nl, -EIO, "netlink: %s", nl_geterror(err));
}

int shm_nl_request(struct shm_nl *nl, struct nl_msg *msg,
		   shm_nl_reply_fn fn, void *arg)
{
	struct request r = { .nl = nl, .msg = msg };
	int attempt;
	size_t i;
	int err;

	nl->failure = (struct shm_nl_failure){};

	for (attempt = 1; ; attempt++) {
		err = request_once(&r);
		if (err || !r.interrupted)
			break;
		drop_replies(&r);
		if (attempt == DUMP_ATTEMPTS) {
			err = fail_local(nl, -EAGAIN,
					 "the list changed while shmctl read it, %d times in a row; try again",
					 DUMP_ATTEMPTS);
			goto out;
		}
	}

	/* The uapi answers every request but a dump or a deletion. */
	if (!err && fn && !r.n_replies &&
	    !(nlmsg_hdr(msg)->nlmsg_flags & NLM_F_DUMP))
		err = fail_reply(nl, -EBADMSG);

	for (i = 0; fn && !err && i < r.n_replies; i++) {
		err = fn(r.replies[i], arg);
		if (err)
			fail_reply(nl, err);
	}

out:
	drop_replies(&r);
	free(r.replies);
	nlmsg_free(msg);
	return err;
}

struct monitor {
	struct shm_nl *nl;
	shm_nl_reply_fn fn;
	void *arg;
	int error;
};

static int any_seq(struct nl_msg *msg, void *arg)
{
	return NL_OK;
}

static int on_event(struct nl_msg *msg, void *arg)
{
	struct monitor *m = arg;
	int err;

	if (nlmsg_hdr(msg)->nlmsg_type != m->nl->family)
		return NL_SKIP;
	err = m->fn(msg, m->arg);
	if (err) {
		m->error = fail_reply(m->nl, err);
		return NL_STOP;
	}
	return NL_OK;
}

static int join_events(struct shm_nl *nl)
{
	int group, err;

	nl->failure = (struct shm_nl_failure){};
	group = genl_ctrl_resolve_grp(nl->sock, SHM_GENL_NAME,
				      SHM_GENL_MCGRP_EVENTS);
	if (group < 0)
		return fail_local(nl, -EIO,
				  "cannot find multicast group \"%s\" of family \"%s\": %s",
				  SHM_GENL_MCGRP_EVENTS, SHM_GENL_NAME,
				  nl_geterror(group));
	err = nl_socket_add_membership(nl->sock, group);
	if (err)
		return fail_local(nl, -EIO, "cannot join multicast group \"%s\": %s",
				  SHM_GENL_MCGRP_EVENTS, nl_geterror(err));
	/* Too small a buffer loses events; a failure here only risks that. */
	nl_socket_set_buffer_size(nl->sock, MONITOR_RCVBUF, 0);
	return 0;
}

int shm_nl_monitor(struct shm_nl *nl, shm_nl_reply_fn fn, void *arg)
{
	struct monitor m = { .nl = nl, .fn = fn, .arg = arg };
	struct nl_cb *cb;
	int err;

	err = join_events(nl);
	if (err)
		return err;
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return fail_local(nl, -ENOMEM, "out of memory");
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_event, &m);
	/* Events answer no request: their sequence number is 0. */
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, any_seq, NULL);

	for (;;) {
		err = nl_recvmsgs(nl->sock, cb);
		if (m.error) {
			err = m.error;
			break;
		}
		/*
		 * libnl reports the socket's ENOBUFS, events dropped because
		 * the buffer was full, as NLE_NOMEM. Later events still come.
		 */
		if (err == -NLE_NOMEM) {
			fputs("shmctl: events were lost: they came faster than they were read\n",
			      stderr);
			continue;
		}
		if (err < 0) {
			err = fail_local(nl, -EIO, "netlink: %s",
					 nl_geterror(err));
			break;
		}
	}
	nl_cb_put(cb);
	return err;
}

int shm_nl_watch(struct shm_nl *nl)
{
	int err = join_events(nl);

	if (err)
		return err;
	err = nl_socket_set_nonblocking(nl->sock);
	if (err)
		return fail_local(nl, -EIO, "netlink: %s", nl_geterror(err));
	return nl_socket_get_fd(nl->sock);
}

int shm_nl_drain(struct shm_nl *nl, shm_nl_reply_fn fn, void *arg)
{
	/* An event fits in a page of the kernel's (NLMSG_DEFAULT_SIZE). */
	char buf[16384];
	struct nlmsghdr *nlh;
	struct nl_msg *msg;
	int len, err = 0;

	for (;;) {
		len = recv(nl_socket_get_fd(nl->sock), buf, sizeof(buf), 0);
		/* ENOBUFS: events overflowed the buffer; later ones still come. */
		if (len < 0 && errno == ENOBUFS)
			continue;
		if (len <= 0)
			return err;
		for (nlh = (struct nlmsghdr *)buf; fn && !err && nlmsg_ok(nlh, len);
		     nlh = nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_type != nl->family)
				continue;
			msg = nlmsg_convert(nlh);
			if (!msg)
				return fail_local(nl, -ENOMEM, "out of memory");
			err = fn(msg, arg);
			nlmsg_free(msg);
		}
	}
}

int shm_nl_report(const struct shm_nl *nl, int err)
{
	const char *attr;

	if (nl->failure.local) {
		fprintf(stderr, "shmctl: %s\n", nl->failure.msg);
		return SHMCTL_EXIT_FAILURE;
	}
	if (err == -EPERM || err == -EACCES) {
		fputs("shmctl: permission denied: this needs CAP_NET_ADMIN (run as root)\n",
		      stderr);
		return SHMCTL_EXIT_PERMISSION;
	}

	fprintf(stderr, "shmctl: %s", strerror(-err));
	if (nl->failure.msg[0])
		fprintf(stderr, ": %s", nl->failure.msg);
	if (nl->failure.attr) {
		attr = session_attr_name(nl->failure.attr);
		if (attr)
			fprintf(stderr, " (attribute %s", attr);
		else
			fprintf(stderr, " (attribute %d", nl->failure.attr);
		fputs(nl->failure.missing ? " is missing)" : ")", stderr);
	}
	fputc('\n', stderr);
	return SHMCTL_EXIT_FAILURE;
}
