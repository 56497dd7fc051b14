// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink contract of shm.ko (include/uapi/shm/netlink.h): every
 * command's replies, dumps split over several messages, events, network
 * namespaces, privileges, and the refusal of every malformed request with a
 * message a person can read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <netlink/genl/genl.h>

#include "kselftest_harness.h"
#include "nl.h"

struct id_list {
	uint32_t ids[SHM_MAX_SESSIONS];
	unsigned int count;
};

static void collect_id(struct nlattr **attrs, void *arg)
{
	struct id_list *list = arg;

	if (list->count < SHM_MAX_SESSIONS)
		list->ids[list->count++] = nla_get_u32(attrs[SHM_SESSION_A_ID]);
}

/* Leaves the namespace without sessions, whatever a test left behind. */
static void delete_all_sessions(struct nl_sock *sk)
{
	static struct id_list list;
	struct nl_result res;
	unsigned int i;

	list.count = 0;
	nl_transact(sk, nl_request(SHM_CMD_SESSION_GET, NLM_F_DUMP), &res,
		    collect_id, &list);
	for (i = 0; i < list.count; i++)
		nl_session_del(sk, list.ids[i]);
}

static uint32_t attr_u32(struct nl_result *res, int type)
{
	return res->attrs[type] ? nla_get_u32(res->attrs[type]) : 0;
}

FIXTURE(shm) {
	struct nl_sock *sk;
};

FIXTURE_SETUP(shm)
{
	self->sk = nl_open();
	ASSERT_NE(NULL, self->sk) TH_LOG("cannot reach the shm family");
	delete_all_sessions(self->sk);
}

FIXTURE_TEARDOWN(shm)
{
	delete_all_sessions(self->sk);
	nl_close(self->sk);
}

TEST_F(shm, info)
{
	char version[64] = "";
	struct nl_result res;
	FILE *f;

	ASSERT_EQ(0, nl_transact(self->sk, nl_request(SHM_CMD_GET_INFO, 0),
				 &res, NULL, NULL));
	ASSERT_EQ(1, res.messages);
	EXPECT_EQ(SHM_PROTOCOL_VERSION, attr_u32(&res, SHM_INFO_A_PROTOCOL));
	EXPECT_EQ(SHM_MAX_SESSIONS, attr_u32(&res, SHM_INFO_A_MAX_SESSIONS));
	EXPECT_EQ(SHM_MAX_STREAMS, attr_u32(&res, SHM_INFO_A_MAX_STREAMS));
	EXPECT_EQ(0, attr_u32(&res, SHM_INFO_A_SESSIONS));
	ASSERT_NE(NULL, res.attrs[SHM_INFO_A_CAPS]);
	EXPECT_TRUE(nla_get_u64(res.attrs[SHM_INFO_A_CAPS]) &
		    SHM_CAP_TRACEPOINTS);

	/* The version reported is the one modinfo shows. */
	f = fopen("/sys/module/shm/version", "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fscanf(f, "%63s", version));
	fclose(f);
	ASSERT_NE(NULL, res.attrs[SHM_INFO_A_MODULE_VERSION]);
	EXPECT_STREQ(version,
		     nla_get_string(res.attrs[SHM_INFO_A_MODULE_VERSION]));
}

TEST_F(shm, session_lifecycle)
{
	struct nl_result res;
	struct nl_msg *msg;
	uint32_t id;

	msg = nl_request(SHM_CMD_SESSION_NEW, 0);
	nla_put_u32(msg, SHM_SESSION_A_ROLE, SHM_ROLE_DESTINATION);
	nla_put_string(msg, SHM_SESSION_A_NAME, "vm-42");
	nla_put_u32(msg, SHM_SESSION_A_STREAMS, 8);
	nla_put_u32(msg, SHM_SESSION_A_MAX_DOWNTIME_MS, 150);
	nla_put_u64(msg, SHM_SESSION_A_BANDWIDTH, 1ULL << 30);
	ASSERT_EQ(0, nl_transact(self->sk, msg, &res, NULL, NULL));
	id = attr_u32(&res, SHM_SESSION_A_ID);
	ASSERT_NE(0, id);

	ASSERT_EQ(0, nl_session_get(self->sk, id, &res));
	EXPECT_EQ(id, attr_u32(&res, SHM_SESSION_A_ID));
	EXPECT_EQ(SHM_ROLE_DESTINATION, attr_u32(&res, SHM_SESSION_A_ROLE));
	EXPECT_EQ(SHM_STATE_NEW, attr_u32(&res, SHM_SESSION_A_STATE));
	EXPECT_EQ(8, attr_u32(&res, SHM_SESSION_A_STREAMS));
	EXPECT_EQ(150, attr_u32(&res, SHM_SESSION_A_MAX_DOWNTIME_MS));
	ASSERT_NE(NULL, res.attrs[SHM_SESSION_A_BANDWIDTH]);
	EXPECT_EQ(1ULL << 30, nla_get_u64(res.attrs[SHM_SESSION_A_BANDWIDTH]));
	ASSERT_NE(NULL, res.attrs[SHM_SESSION_A_NAME]);
	EXPECT_STREQ("vm-42", nla_get_string(res.attrs[SHM_SESSION_A_NAME]));
	EXPECT_NE(NULL, res.attrs[SHM_SESSION_A_AGE_MS]);
	EXPECT_EQ(NULL, res.attrs[SHM_SESSION_A_REASON]);

	ASSERT_EQ(0, nl_transact(self->sk,
				 nl_request(SHM_CMD_SESSION_GET, NLM_F_DUMP),
				 &res, NULL, NULL));
	EXPECT_EQ(1, res.messages);
	EXPECT_EQ(id, attr_u32(&res, SHM_SESSION_A_ID));

	ASSERT_EQ(0, nl_session_del(self->sk, id));
	EXPECT_EQ(-ENOENT, nl_session_get(self->sk, id, &res));
	EXPECT_STREQ("no such session in this network namespace", res.message);
	EXPECT_EQ(-ENOENT, nl_session_del(self->sk, id));
}

/* Resumed is the destination's last word, once all memory arrived. */
TEST_F(shm, resumed_only_after_the_last_round)
{
	struct nl_result res;
	uint32_t id;

	ASSERT_EQ(0, nl_session_new(self->sk, SHM_ROLE_DESTINATION, &id));
	EXPECT_EQ(-EBUSY, nl_session_cmd(self->sk, SHM_CMD_SESSION_RESUMED,
					  id, &res));
	EXPECT_STREQ("only a session that received all memory can resume",
		     res.message);
	EXPECT_EQ(0, nl_session_del(self->sk, id));
	EXPECT_EQ(-ENOENT, nl_session_cmd(self->sk, SHM_CMD_SESSION_RESUMED,
					  id, &res));
}

TEST_F(shm, session_defaults)
{
	struct nl_result res;
	struct nl_msg *msg;

	msg = nl_request(SHM_CMD_SESSION_NEW, 0);
	nla_put_u32(msg, SHM_SESSION_A_ROLE, SHM_ROLE_SOURCE);
	ASSERT_EQ(0, nl_transact(self->sk, msg, &res, NULL, NULL));
	EXPECT_EQ(SHM_ROLE_SOURCE, attr_u32(&res, SHM_SESSION_A_ROLE));
	EXPECT_EQ(SHM_DEFAULT_STREAMS, attr_u32(&res, SHM_SESSION_A_STREAMS));
	EXPECT_EQ(SHM_DEFAULT_MAX_DOWNTIME_MS,
		  attr_u32(&res, SHM_SESSION_A_MAX_DOWNTIME_MS));
	ASSERT_NE(NULL, res.attrs[SHM_SESSION_A_BANDWIDTH]);
	EXPECT_EQ(0, nla_get_u64(res.attrs[SHM_SESSION_A_BANDWIDTH]));
	EXPECT_EQ(NULL, res.attrs[SHM_SESSION_A_NAME]);
	ASSERT_NE(NULL, res.attrs[SHM_SESSION_A_COMPRESS]);
	EXPECT_EQ(SHM_DEFAULT_COMPRESS, attr_u32(&res, SHM_SESSION_A_COMPRESS));

	msg = nl_request(SHM_CMD_SESSION_NEW, 0);
	nla_put_u32(msg, SHM_SESSION_A_ROLE, SHM_ROLE_SOURCE);
	nla_put_u32(msg, SHM_SESSION_A_COMPRESS, SHM_COMPRESS_AUTO);
	ASSERT_EQ(0, nl_transact(self->sk, msg, &res, NULL, NULL));
	EXPECT_EQ(SHM_COMPRESS_AUTO, attr_u32(&res, SHM_SESSION_A_COMPRESS));
}

struct dump_check {
	unsigned char seen[SHM_MAX_SESSIONS + 1];
	uint32_t *ids;
	unsigned int duplicates, unknown;
};

static void check_dumped(struct nlattr **attrs, void *arg)
{
	struct dump_check *check = arg;
	uint32_t id = nla_get_u32(attrs[SHM_SESSION_A_ID]);
	unsigned int i;

	for (i = 0; i < SHM_MAX_SESSIONS; i++) {
		if (check->ids[i] == id) {
			check->duplicates += check->seen[i]++;
			return;
		}
	}
	check->unknown++;
}

/* Fill the namespace to its limit: the dump must span several messages. */
TEST_F(shm, dump_many_sessions)
{
	static uint32_t ids[SHM_MAX_SESSIONS];
	struct dump_check check = { .ids = ids };
	struct nl_result res;
	struct nl_msg *msg;
	uint32_t extra;
	unsigned int i;

	for (i = 0; i < SHM_MAX_SESSIONS; i++)
		ASSERT_EQ(0, nl_session_new(self->sk, SHM_ROLE_SOURCE, &ids[i]));

	msg = nl_request(SHM_CMD_SESSION_NEW, 0);
	nla_put_u32(msg, SHM_SESSION_A_ROLE, SHM_ROLE_SOURCE);
	EXPECT_EQ(-ENOSPC, nl_transact(self->sk, msg, &res, NULL, NULL));
	EXPECT_STREQ("too many sessions in this network namespace",
		     res.message);

	ASSERT_EQ(0, nl_transact(self->sk,
				 nl_request(SHM_CMD_SESSION_GET, NLM_F_DUMP),
				 &res, check_dumped, &check));
	EXPECT_EQ(SHM_MAX_SESSIONS, res.messages);
	EXPECT_LT(1, res.parts);
	EXPECT_FALSE(res.interrupted);
	EXPECT_EQ(0, check.duplicates);
	EXPECT_EQ(0, check.unknown);

	/* A free slot can be taken again after a delete. */
	ASSERT_EQ(0, nl_session_del(self->sk, ids[0]));
	EXPECT_EQ(0, nl_session_new(self->sk, SHM_ROLE_SOURCE, &extra));
	EXPECT_NE(ids[0], extra);
}

/*
 * A dump during which sessions come and go is flagged NLM_F_DUMP_INTR, so
 * user space knows to retry: here the dump is read part by part while
 * another socket deletes sessions between parts.
 */
TEST_F(shm, dump_flags_concurrent_change)
{
	static char buf[65536];
	struct nl_sock *dumper = nl_open();
	bool interrupted = false, done = false;
	uint32_t id;
	unsigned int i;

	ASSERT_NE(NULL, dumper);
	for (i = 0; i < 600; i++)
		ASSERT_EQ(0, nl_session_new(self->sk, SHM_ROLE_SOURCE, &id));
	ASSERT_LE(0, nl_send_auto(dumper,
				  nl_request(SHM_CMD_SESSION_GET, NLM_F_DUMP)));
	while (!done) {
		ssize_t len = recv(nl_socket_get_fd(dumper), buf, sizeof(buf), 0);
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf;

		ASSERT_LT(0, len);
		for (; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
			interrupted |= !!(nlh->nlmsg_flags & NLM_F_DUMP_INTR);
			done |= nlh->nlmsg_type == NLMSG_DONE ||
				nlh->nlmsg_type == NLMSG_ERROR;
		}
		/* Change the table while the rest of the dump is pending. */
		nl_session_del(self->sk, id--);
	}
	nl_close(dumper);
	EXPECT_TRUE(interrupted);
}

TEST_F(shm, events)
{
	struct nl_sock *listener = nl_open();
	struct nlattr *attrs[NL_MAXATTR + 1];
	uint32_t id;

	ASSERT_NE(NULL, listener);
	ASSERT_EQ(0, nl_subscribe(listener));
	ASSERT_EQ(0, nl_session_new(self->sk, SHM_ROLE_SOURCE, &id));
	ASSERT_EQ(0, nl_session_del(self->sk, id));

	ASSERT_EQ(SHM_CMD_SESSION_NEW, nl_next_event(listener, attrs, 2000));
	EXPECT_EQ(id, nla_get_u32(attrs[SHM_SESSION_A_ID]));
	EXPECT_EQ(SHM_STATE_NEW, nla_get_u32(attrs[SHM_SESSION_A_STATE]));
	EXPECT_EQ(SHM_ROLE_SOURCE, nla_get_u32(attrs[SHM_SESSION_A_ROLE]));

	ASSERT_EQ(SHM_CMD_SESSION_STATE, nl_next_event(listener, attrs, 2000));
	EXPECT_EQ(id, nla_get_u32(attrs[SHM_SESSION_A_ID]));
	EXPECT_EQ(SHM_STATE_NEW, nla_get_u32(attrs[SHM_SESSION_A_OLD_STATE]));
	EXPECT_EQ(SHM_STATE_CANCELLED, nla_get_u32(attrs[SHM_SESSION_A_STATE]));
	ASSERT_NE(NULL, attrs[SHM_SESSION_A_REASON]);
	EXPECT_STREQ("session deleted", nla_get_string(attrs[SHM_SESSION_A_REASON]));

	ASSERT_EQ(SHM_CMD_SESSION_DEL, nl_next_event(listener, attrs, 2000));
	EXPECT_EQ(id, nla_get_u32(attrs[SHM_SESSION_A_ID]));

	EXPECT_EQ(-ETIMEDOUT, nl_next_event(listener, attrs, 100));
	nl_close(listener);
}

/* Runs @body in a child process; the test fails if the child does. */
#define IN_CHILD(body) do {						\
	pid_t pid = fork();						\
	int status;							\
									\
	ASSERT_LE(0, pid);						\
	if (!pid) {							\
		body;							\
		_exit(0);						\
	}								\
	ASSERT_EQ(pid, waitpid(pid, &status, 0));			\
	ASSERT_TRUE(WIFEXITED(status));					\
	ASSERT_EQ(0, WEXITSTATUS(status));				\
} while (0)

#define CHILD_CHECK(cond) do { if (!(cond)) _exit(__LINE__ & 0xff ?: 1); } while (0)

TEST_F(shm, unprivileged_rejected)
{
	uint32_t id;

	ASSERT_EQ(0, nl_session_new(self->sk, SHM_ROLE_SOURCE, &id));
	IN_CHILD({
		struct nl_result res;
		struct nl_sock *sk;
		uint32_t other;

		/* "nobody": no capabilities left once all uids are non-zero. */
		CHILD_CHECK(!setresgid(65534, 65534, 65534));
		CHILD_CHECK(!setresuid(65534, 65534, 65534));
		sk = nl_open();
		CHILD_CHECK(sk);
		CHILD_CHECK(nl_session_new(sk, SHM_ROLE_SOURCE, &other) == -EPERM);
		CHILD_CHECK(nl_session_del(sk, id) == -EPERM);
		/* Reading is allowed. */
		CHILD_CHECK(!nl_transact(sk, nl_request(SHM_CMD_GET_INFO, 0),
					 &res, NULL, NULL));
		CHILD_CHECK(!nl_session_get(sk, id, &res));
	});
	EXPECT_EQ(0, nl_session_del(self->sk, id));
}

TEST_F(shm, namespaces_are_separate_hosts)
{
	uint32_t id;

	ASSERT_EQ(0, nl_session_new(self->sk, SHM_ROLE_SOURCE, &id));
	IN_CHILD({
		struct nl_result res;
		struct nl_sock *sk;
		uint32_t own;

		CHILD_CHECK(!unshare(CLONE_NEWNET));
		sk = nl_open();
		CHILD_CHECK(sk);
		CHILD_CHECK(nl_session_get(sk, id, &res) == -ENOENT);
		CHILD_CHECK(!nl_session_new(sk, SHM_ROLE_DESTINATION, &own));
		CHILD_CHECK(!nl_transact(sk, nl_request(SHM_CMD_GET_INFO, 0),
					 &res, NULL, NULL));
		CHILD_CHECK(nla_get_u32(res.attrs[SHM_INFO_A_SESSIONS]) == 1);
		/* The namespace dies with its session still in it. */
	});
	{
		struct nl_result res;

		ASSERT_EQ(0, nl_transact(self->sk,
					 nl_request(SHM_CMD_GET_INFO, 0), &res,
					 NULL, NULL));
		EXPECT_EQ(1, attr_u32(&res, SHM_INFO_A_SESSIONS));
	}
}

/* A session created owned; returns its id, or 0. */
static uint32_t new_owned_session(struct nl_sock *sk)
{
	struct nl_msg *msg = nl_request(SHM_CMD_SESSION_NEW, 0);
	struct nl_result res;

	nla_put_u32(msg, SHM_SESSION_A_ROLE, SHM_ROLE_SOURCE);
	nla_put_flag(msg, SHM_SESSION_A_OWNED);
	if (nl_transact(sk, msg, &res, NULL, NULL) ||
	    !res.attrs[SHM_SESSION_A_OWNED])
		return 0;
	return attr_u32(&res, SHM_SESSION_A_ID);
}

/*
 * An owned session goes when the socket that made it closes, however its
 * process ends; sessions nobody owns stay.
 */
TEST_F(shm, owned_sessions_end_with_their_socket)
{
	struct nl_sock *owner = nl_open();
	struct nl_result res;
	uint32_t owned, kept;
	int pipefd[2], status;
	pid_t pid;

	ASSERT_NE(NULL, owner);
	owned = new_owned_session(owner);
	ASSERT_NE(0, owned);
	ASSERT_EQ(0, nl_session_new(owner, SHM_ROLE_SOURCE, &kept));
	nl_close(owner);
	EXPECT_EQ(-ENOENT, nl_session_get(self->sk, owned, &res));
	EXPECT_EQ(0, nl_session_get(self->sk, kept, &res));
	EXPECT_EQ(NULL, res.attrs[SHM_SESSION_A_OWNED]);

	/* Killed, as a migration tool may be. */
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		owned = new_owned_session(nl_open());
		if (write(pipefd[1], &owned, sizeof(owned)) == sizeof(owned))
			kill(getpid(), SIGKILL);
		_exit(1);
	}
	ASSERT_EQ(sizeof(owned), read(pipefd[0], &owned, sizeof(owned)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	ASSERT_NE(0, owned);
	EXPECT_EQ(-ENOENT, nl_session_get(self->sk, owned, &res));
	close(pipefd[0]);
	close(pipefd[1]);
}

/*
 * Malformed requests: each must be refused with the errno and, where shm
 * itself words it, the message below. Kernel policy messages differ between
 * kernel versions, so for those any non-empty message is accepted.
 */
FIXTURE(malformed) {
	struct nl_sock *sk;
};

FIXTURE_VARIANT(malformed) {
	int cmd;
	void (*build)(struct nl_msg *msg);
	int error;
	const char *message;	/* NULL: any non-empty message */
	uint32_t missing_attr;
};

FIXTURE_SETUP(malformed)
{
	self->sk = nl_open();
	ASSERT_NE(NULL, self->sk);
}

FIXTURE_TEARDOWN(malformed)
{
	delete_all_sessions(self->sk);
	nl_close(self->sk);
}

static void put_nothing(struct nl_msg *msg)
{
}

static void put_role(struct nl_msg *msg, uint32_t role)
{
	nla_put_u32(msg, SHM_SESSION_A_ROLE, role);
}

static void role_zero(struct nl_msg *msg) { put_role(msg, 0); }
static void role_too_big(struct nl_msg *msg) { put_role(msg, SHM_ROLE_MAX + 1); }

static void role_short(struct nl_msg *msg)
{
	nla_put_u8(msg, SHM_SESSION_A_ROLE, SHM_ROLE_SOURCE);
}

static void name_too_long(struct nl_msg *msg)
{
	char name[SHM_NAME_MAX + 1];

	memset(name, 'a', SHM_NAME_MAX);
	name[SHM_NAME_MAX] = '\0';
	put_role(msg, SHM_ROLE_SOURCE);
	nla_put_string(msg, SHM_SESSION_A_NAME, name);
}

static void name_unterminated(struct nl_msg *msg)
{
	put_role(msg, SHM_ROLE_SOURCE);
	nla_put(msg, SHM_SESSION_A_NAME, 3, "abc");
}

static void name_empty(struct nl_msg *msg)
{
	put_role(msg, SHM_ROLE_SOURCE);
	nla_put_string(msg, SHM_SESSION_A_NAME, "");
}

static void name_control_char(struct nl_msg *msg)
{
	put_role(msg, SHM_ROLE_SOURCE);
	nla_put_string(msg, SHM_SESSION_A_NAME, "vm\033[2J");
}

static void streams_zero(struct nl_msg *msg)
{
	put_role(msg, SHM_ROLE_SOURCE);
	nla_put_u32(msg, SHM_SESSION_A_STREAMS, 0);
}

static void streams_too_many(struct nl_msg *msg)
{
	put_role(msg, SHM_ROLE_SOURCE);
	nla_put_u32(msg, SHM_SESSION_A_STREAMS, SHM_MAX_STREAMS + 1);
}

static void downtime_zero(struct nl_msg *msg)
{
	put_role(msg, SHM_ROLE_SOURCE);
	nla_put_u32(msg, SHM_SESSION_A_MAX_DOWNTIME_MS, 0);
}

static void downtime_too_long(struct nl_msg *msg)
{
	put_role(msg, SHM_ROLE_SOURCE);
	nla_put_u32(msg, SHM_SESSION_A_MAX_DOWNTIME_MS,
		    SHM_MAX_DOWNTIME_MS_LIMIT + 1);
}

static void bandwidth_short(struct nl_msg *msg)
{
	put_role(msg, SHM_ROLE_SOURCE);
	nla_put_u32(msg, SHM_SESSION_A_BANDWIDTH, 1000);
}

static void unknown_attr(struct nl_msg *msg)
{
	put_role(msg, SHM_ROLE_SOURCE);
	nla_put_u32(msg, SHM_SESSION_A_MAX + 1, 1);
}

static void foreign_attr(struct nl_msg *msg)
{
	put_role(msg, SHM_ROLE_SOURCE);
	nla_put_u32(msg, SHM_SESSION_A_ID, 1);
}

static void truncated_attr(struct nl_msg *msg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);

	put_role(msg, SHM_ROLE_SOURCE);
	/* The attribute claims 8 bytes of payload, the message holds 4. */
	((struct nlattr *)((char *)nlmsg_data(nlh) + GENL_HDRLEN))->nla_len += 4;
}

static void id_zero(struct nl_msg *msg)
{
	nla_put_u32(msg, SHM_SESSION_A_ID, 0);
}

static void id_missing_session(struct nl_msg *msg)
{
	nla_put_u32(msg, SHM_SESSION_A_ID, 0x7fffffff);
}

static void id_short(struct nl_msg *msg)
{
	nla_put_u16(msg, SHM_SESSION_A_ID, 1);
}

static void id_alone(struct nl_msg *msg)
{
	nla_put_u32(msg, SHM_SESSION_A_ID, 1);
}

static void vm_of_missing_session(struct nl_msg *msg)
{
	id_missing_session(msg);
	nla_put_u32(msg, SHM_SESSION_A_VM_FD, 0);
}

static void dirty_scan_round_zero(struct nl_msg *msg)
{
	nla_put_u32(msg, SHM_SESSION_A_ID, 1);
	nla_put_u32(msg, SHM_SESSION_A_SCAN_ROUND, 0);
}

static void start_tracker_with_payload(struct nl_msg *msg)
{
	nla_put_u32(msg, SHM_SESSION_A_ID, 1);
	nla_put_u32(msg, SHM_SESSION_A_TRACKER, 1);
}

static void compress_unknown(struct nl_msg *msg)
{
	put_role(msg, SHM_ROLE_SOURCE);
	nla_put_u32(msg, SHM_SESSION_A_COMPRESS, SHM_COMPRESS_ALWAYS + 1);
}

static void compress_as_flag(struct nl_msg *msg)
{
	put_role(msg, SHM_ROLE_SOURCE);
	nla_put_flag(msg, SHM_SESSION_A_COMPRESS);
}

static void info_with_attr(struct nl_msg *msg)
{
	nla_put_u32(msg, SHM_INFO_A_PROTOCOL, 1);
}

static void reserved_set(struct nl_msg *msg)
{
	struct genlmsghdr *hdr = nlmsg_data(nlmsg_hdr(msg));

	hdr->reserved = 1;
}

#define MALFORMED(_name, _cmd, _build, _error, _message) \
	FIXTURE_VARIANT_ADD(malformed, _name) { \
		.cmd = _cmd, .build = _build, .error = _error, \
		.message = _message, \
	}

FIXTURE_VARIANT_ADD(malformed, new_without_role) {
	.cmd = SHM_CMD_SESSION_NEW, .build = put_nothing, .error = -EINVAL,
	.message = "a session needs a role (source or destination)",
	.missing_attr = SHM_SESSION_A_ROLE,
};
MALFORMED(new_role_zero, SHM_CMD_SESSION_NEW, role_zero, -ERANGE, NULL);
MALFORMED(new_role_too_big, SHM_CMD_SESSION_NEW, role_too_big, -ERANGE, NULL);
MALFORMED(new_role_short, SHM_CMD_SESSION_NEW, role_short, -EINVAL, NULL);
MALFORMED(new_name_too_long, SHM_CMD_SESSION_NEW, name_too_long, -EINVAL, NULL);
MALFORMED(new_name_unterminated, SHM_CMD_SESSION_NEW, name_unterminated,
	  -EINVAL, NULL);
MALFORMED(new_name_empty, SHM_CMD_SESSION_NEW, name_empty, -EINVAL,
	  "session name must not be empty");
MALFORMED(new_name_control_char, SHM_CMD_SESSION_NEW, name_control_char,
	  -EINVAL, "session name contains a control character");
MALFORMED(new_streams_zero, SHM_CMD_SESSION_NEW, streams_zero, -ERANGE, NULL);
MALFORMED(new_streams_too_many, SHM_CMD_SESSION_NEW, streams_too_many,
	  -ERANGE, NULL);
MALFORMED(new_downtime_zero, SHM_CMD_SESSION_NEW, downtime_zero, -ERANGE,
	  NULL);
MALFORMED(new_downtime_too_long, SHM_CMD_SESSION_NEW, downtime_too_long,
	  -ERANGE, NULL);
MALFORMED(new_bandwidth_short, SHM_CMD_SESSION_NEW, bandwidth_short, -EINVAL,
	  NULL);
MALFORMED(new_compress_unknown, SHM_CMD_SESSION_NEW, compress_unknown, -ERANGE,
	  NULL);
MALFORMED(new_compress_as_flag, SHM_CMD_SESSION_NEW, compress_as_flag, -EINVAL,
	  NULL);
MALFORMED(new_unknown_attr, SHM_CMD_SESSION_NEW, unknown_attr, -EINVAL, NULL);
MALFORMED(new_foreign_attr, SHM_CMD_SESSION_NEW, foreign_attr, -EINVAL, NULL);
MALFORMED(new_truncated_attr, SHM_CMD_SESSION_NEW, truncated_attr, -EINVAL,
	  NULL);
FIXTURE_VARIANT_ADD(malformed, get_without_id) {
	.cmd = SHM_CMD_SESSION_GET, .build = put_nothing, .error = -EINVAL,
	.message = "a session id is required",
	.missing_attr = SHM_SESSION_A_ID,
};
MALFORMED(get_id_zero, SHM_CMD_SESSION_GET, id_zero, -ERANGE, NULL);
MALFORMED(get_id_short, SHM_CMD_SESSION_GET, id_short, -EINVAL, NULL);
MALFORMED(get_unknown_session, SHM_CMD_SESSION_GET, id_missing_session,
	  -ENOENT, "no such session in this network namespace");
MALFORMED(del_unknown_session, SHM_CMD_SESSION_DEL, id_missing_session,
	  -ENOENT, "no such session in this network namespace");
MALFORMED(del_foreign_attr, SHM_CMD_SESSION_DEL, role_zero, -EINVAL, NULL);
MALFORMED(dirty_nothing, SHM_CMD_SESSION_DIRTY, id_alone, -EINVAL,
	  "no ranges of guest memory given, nor the scan they end");
MALFORMED(dirty_scan_round_zero, SHM_CMD_SESSION_DIRTY, dirty_scan_round_zero,
	  -ERANGE, NULL);
FIXTURE_VARIANT_ADD(malformed, attach_vm_without_vm) {
	.cmd = SHM_CMD_SESSION_ATTACH_VM, .build = id_alone, .error = -EINVAL,
	.message = "the VM's file descriptor is required",
	.missing_attr = SHM_SESSION_A_VM_FD,
};
MALFORMED(attach_vm_of_unknown_session, SHM_CMD_SESSION_ATTACH_VM,
	  vm_of_missing_session, -ENOENT,
	  "no such session in this network namespace");
MALFORMED(start_tracker_with_payload, SHM_CMD_SESSION_START,
	  start_tracker_with_payload, -ERANGE, NULL);
MALFORMED(info_with_attr, SHM_CMD_GET_INFO, info_with_attr, -EINVAL, NULL);
MALFORMED(reserved_header_field, SHM_CMD_GET_INFO, reserved_set, -EINVAL,
	  "genlmsghdr.reserved field is not 0");
MALFORMED(unknown_command, SHM_CMD_MAX + 1, put_nothing, -EOPNOTSUPP, NULL);

TEST_F(malformed, refused)
{
	struct nl_msg *msg = nl_request(variant->cmd, 0);
	struct nl_result res;

	ASSERT_NE(NULL, msg);
	variant->build(msg);
	EXPECT_EQ(variant->error, nl_transact(self->sk, msg, &res, NULL, NULL));
	if (variant->message) {
		EXPECT_STREQ(variant->message, res.message);
	} else if (variant->error != -EOPNOTSUPP) {
		EXPECT_NE(0, strlen(res.message));
	}
	if (variant->missing_attr) {
		EXPECT_EQ(variant->missing_attr, res.missing_attr);
	}
	TH_LOG("refused: %s (%s)", strerror(-res.error), res.message);

	/* Nothing was created by a refused request. */
	ASSERT_EQ(0, nl_transact(self->sk, nl_request(SHM_CMD_GET_INFO, 0),
				 &res, NULL, NULL));
	EXPECT_EQ(0, attr_u32(&res, SHM_INFO_A_SESSIONS));
}

TEST_HARNESS_MAIN
