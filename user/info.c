// SPDX-License-Identifier: GPL-2.0
/*
 * shmctl info: which module is loaded, what it can do and allows, and how
 * many sessions this network namespace holds.
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
#include "shmctl.h"
#include "subcommands.h"

static const char info_usage[] = "info [--json]";

static const struct nla_policy info_policy[SHM_INFO_A_MAX + 1] = {
	[SHM_INFO_A_MODULE_VERSION]	= { .type = NLA_STRING },
	[SHM_INFO_A_PROTOCOL]		= { .type = NLA_U32 },
	[SHM_INFO_A_CAPS]		= { .type = NLA_U64 },
	[SHM_INFO_A_MAX_SESSIONS]	= { .type = NLA_U32 },
	[SHM_INFO_A_MAX_STREAMS]	= { .type = NLA_U32 },
	[SHM_INFO_A_SESSIONS]		= { .type = NLA_U32 },
};

struct info {
	const char *module_version;
	uint32_t protocol;
	uint64_t caps;
	uint32_t max_sessions;
	uint32_t max_streams;
	uint32_t sessions;
};

/* Longest name cap_text() gives, with its NUL. */
#define CAP_TEXT_MAX sizeof("bit63")

/* A capability by name; one this shmctl predates by its bit number. */
static const char *cap_text(unsigned int bit, char buf[CAP_TEXT_MAX])
{
	const char *name = cap_name(1ULL << bit);

	if (name)
		return name;
	snprintf(buf, CAP_TEXT_MAX, "bit%u", bit);
	return buf;
}

static void info_print_json(const struct info *info)
{
	char buf[CAP_TEXT_MAX];
	struct json j;
	unsigned int bit;

	json_init(&j, stdout);
	json_object_begin(&j);
	json_member_string(&j, "module_version", info->module_version);
	json_member_uint(&j, "protocol", info->protocol);
	json_member_uint(&j, "shmctl_protocol", SHM_PROTOCOL_VERSION);
	json_member_bool(&j, "protocol_match",
			 info->protocol == SHM_PROTOCOL_VERSION);
	json_key(&j, "capabilities");
	json_array_begin(&j);
	for (bit = 0; bit < 64; bit++) {
		if (info->caps & (1ULL << bit))
			json_string(&j, cap_text(bit, buf));
	}
	json_array_end(&j);
	json_member_uint(&j, "max_sessions", info->max_sessions);
	json_member_uint(&j, "max_streams", info->max_streams);
	json_member_uint(&j, "sessions", info->sessions);
	json_object_end(&j);
}

static void info_print_text(const struct info *info)
{
	char buf[CAP_TEXT_MAX];
	const char *sep = "";
	unsigned int bit;

	printf("module version:  %s\n", info->module_version);
	printf("data protocol:   %" PRIu32, info->protocol);
	/* Hosts on different protocols cannot migrate to each other. */
	if (info->protocol != SHM_PROTOCOL_VERSION)
		printf(" (MISMATCH: this shmctl was built for protocol %d)",
		       SHM_PROTOCOL_VERSION);
	putchar('\n');

	fputs("capabilities:    ", stdout);
	for (bit = 0; bit < 64; bit++) {
		if (info->caps & (1ULL << bit)) {
			printf("%s%s", sep, cap_text(bit, buf));
			sep = " ";
		}
	}
	puts(info->caps ? "" : "none");

	printf("max sessions:    %" PRIu32 " per network namespace\n",
	       info->max_sessions);
	printf("max streams:     %" PRIu32 " per session\n", info->max_streams);
	printf("sessions:        %" PRIu32 " in this network namespace\n",
	       info->sessions);
}

static int info_reply(struct nl_msg *msg, void *arg)
{
	static const int mandatory[] = {
		SHM_INFO_A_MODULE_VERSION, SHM_INFO_A_PROTOCOL, SHM_INFO_A_CAPS,
		SHM_INFO_A_MAX_SESSIONS, SHM_INFO_A_MAX_STREAMS,
		SHM_INFO_A_SESSIONS,
	};
	struct nlattr *tb[SHM_INFO_A_MAX + 1];
	const bool *json = arg;
	struct info info;
	size_t i;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, SHM_INFO_A_MAX,
			  info_policy) < 0)
		return -EBADMSG;
	for (i = 0; i < ARRAY_SIZE(mandatory); i++) {
		if (!tb[mandatory[i]])
			return -EBADMSG;
	}

	info = (struct info){
		.module_version	= nla_get_string(tb[SHM_INFO_A_MODULE_VERSION]),
		.protocol	= nla_get_u32(tb[SHM_INFO_A_PROTOCOL]),
		.caps		= nla_get_u64(tb[SHM_INFO_A_CAPS]),
		.max_sessions	= nla_get_u32(tb[SHM_INFO_A_MAX_SESSIONS]),
		.max_streams	= nla_get_u32(tb[SHM_INFO_A_MAX_STREAMS]),
		.sessions	= nla_get_u32(tb[SHM_INFO_A_SESSIONS]),
	};
	if (*json)
		info_print_json(&info);
	else
		info_print_text(&info);
	return 0;
}

int info_main(int argc, char *argv[], const struct shmctl_opts *opts)
{
	struct shm_nl nl;
	struct nl_msg *msg;
	bool json;
	int ret, err;

	ret = parse_options(argc, argv, info_usage, opts, &json);
	if (ret != SHMCTL_PROCEED)
		return ret;
	if (optind != argc)
		return usage_error(info_usage, "unexpected argument '%s'",
				   argv[optind]);

	ret = shm_nl_open(&nl);
	if (ret)
		return ret;

	msg = shm_nl_request_new(&nl, SHM_CMD_GET_INFO, 0);
	err = msg ? shm_nl_request(&nl, msg, info_reply, &json) : -ENOMEM;
	if (err)
		ret = shm_nl_report(&nl, err);

	shm_nl_close(&nl);
	return ret;
}
