// SPDX-License-Identifier: GPL-2.0
/*
 * shmctl monitor: one line per session event of this network namespace, as
 * it happens, until interrupted. Each line is flushed at once so that a
 * test reading through a pipe sees it without waiting for a buffer to fill.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include <netlink/genl/genl.h>
#include <shm/netlink.h>

#include "json.h"
#include "names.h"
#include "netlink.h"
#include "session.h"
#include "shmctl.h"
#include "subcommands.h"

static const char monitor_usage[] = "monitor [--json]";

static int print_new(struct nl_msg *msg, bool json)
{
	struct shm_session s;
	struct json j;
	int err;

	err = session_parse(msg, &s);
	if (err)
		return err;
	if (json) {
		json_init(&j, stdout);
		json_object_begin(&j);
		json_member_string(&j, "event", "new");
		session_json_members(&j, &s);
		json_object_end(&j);
	} else {
		fputs("new ", stdout);
		session_print_line(&s);
		putchar('\n');
	}
	return 0;
}

static int print_state(struct nl_msg *msg, bool json)
{
	struct nlattr *tb[SHM_SESSION_A_MAX + 1];
	uint32_t id, state, old_state;
	const char *reason = NULL;
	struct json j;
	int err;

	err = session_attrs(msg, tb);
	if (err)
		return err;
	if (!tb[SHM_SESSION_A_ID] || !tb[SHM_SESSION_A_STATE] ||
	    !tb[SHM_SESSION_A_OLD_STATE])
		return -EBADMSG;
	id = nla_get_u32(tb[SHM_SESSION_A_ID]);
	state = nla_get_u32(tb[SHM_SESSION_A_STATE]);
	old_state = nla_get_u32(tb[SHM_SESSION_A_OLD_STATE]);
	if (tb[SHM_SESSION_A_REASON])
		reason = nla_get_string(tb[SHM_SESSION_A_REASON]);

	if (json) {
		json_init(&j, stdout);
		json_object_begin(&j);
		json_member_string(&j, "event", "state");
		json_member_uint(&j, "id", id);
		json_member_string(&j, "state", state_name(state));
		json_member_string(&j, "old_state", state_name(old_state));
		if (reason)
			json_member_string(&j, "reason", reason);
		json_object_end(&j);
	} else {
		printf("state id=%" PRIu32 " state=%s old-state=%s", id,
		       state_name(state), state_name(old_state));
		if (reason) {
			fputs(" reason=", stdout);
			json_quote(stdout, reason);
		}
		putchar('\n');
	}
	return 0;
}

static int print_del(struct nl_msg *msg, bool json)
{
	struct nlattr *tb[SHM_SESSION_A_MAX + 1];
	struct json j;
	uint32_t id;
	int err;

	err = session_attrs(msg, tb);
	if (err)
		return err;
	if (!tb[SHM_SESSION_A_ID])
		return -EBADMSG;
	id = nla_get_u32(tb[SHM_SESSION_A_ID]);

	if (json) {
		json_init(&j, stdout);
		json_object_begin(&j);
		json_member_string(&j, "event", "del");
		json_member_uint(&j, "id", id);
		json_object_end(&j);
	} else {
		printf("del id=%" PRIu32 "\n", id);
	}
	return 0;
}

static int monitor_event(struct nl_msg *msg, void *arg)
{
	const bool *json = arg;
	struct nlmsghdr *hdr = nlmsg_hdr(msg);
	int err;

	if (!genlmsg_valid_hdr(hdr, 0)) {
		err = -EBADMSG;
		goto out;
	}
	switch (genlmsg_hdr(hdr)->cmd) {
	case SHM_CMD_SESSION_NEW:
		err = print_new(msg, *json);
		break;
	case SHM_CMD_SESSION_STATE:
		err = print_state(msg, *json);
		break;
	case SHM_CMD_SESSION_DEL:
		err = print_del(msg, *json);
		break;
	default:
		/* An event of a newer module: not ours to interpret. */
		return 0;
	}
out:
	/* One bad event is no reason to stop watching the others. */
	if (err)
		fputs("shmctl: ignoring a malformed event (are shm.ko and shmctl the same version?)\n",
		      stderr);
	if (fflush(stdout))
		return -errno;
	return 0;
}

int monitor_main(int argc, char *argv[], const struct shmctl_opts *opts)
{
	struct shm_nl nl;
	bool json;
	int ret;

	ret = parse_options(argc, argv, monitor_usage, opts, &json);
	if (ret != SHMCTL_PROCEED)
		return ret;
	if (optind != argc)
		return usage_error(monitor_usage, "unexpected argument '%s'",
				   argv[optind]);

	ret = shm_nl_open(&nl);
	if (ret)
		return ret;

	ret = shm_nl_report(&nl, shm_nl_monitor(&nl, monitor_event, &json));
	shm_nl_close(&nl);
	return ret;
}
