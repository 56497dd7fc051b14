// SPDX-License-Identifier: GPL-2.0
/*
 * shmctl session list|show|new|del: the migration sessions of this network
 * namespace.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/genl/genl.h>
#include <shm/netlink.h>

#include "json.h"
#include "names.h"
#include "netlink.h"
#include "parse.h"
#include "session.h"
#include "shmctl.h"
#include "subcommands.h"

#define LIST_USAGE	"session list [--json]"
#define SHOW_USAGE	"session show ID [--json]"
#define NEW_USAGE	"session new --role source|destination [--name NAME] " \
			"[--max-downtime MS] [--streams N] [--bandwidth RATE] " \
			"[--compress[=WHEN]] [--json]"
#define DEL_USAGE	"session del ID"

static const char session_usage[] =
	LIST_USAGE "\n" SHOW_USAGE "\n" NEW_USAGE "\n" DEL_USAGE;

static const struct nla_policy session_policy[SHM_SESSION_A_MAX + 1] = {
	[SHM_SESSION_A_ID]		= { .type = NLA_U32 },
	[SHM_SESSION_A_ROLE]		= { .type = NLA_U32 },
	[SHM_SESSION_A_STATE]		= { .type = NLA_U32 },
	[SHM_SESSION_A_OLD_STATE]	= { .type = NLA_U32 },
	[SHM_SESSION_A_NAME]		= { .type = NLA_STRING,
					    .maxlen = SHM_NAME_MAX },
	[SHM_SESSION_A_MAX_DOWNTIME_MS]	= { .type = NLA_U32 },
	[SHM_SESSION_A_STREAMS]		= { .type = NLA_U32 },
	[SHM_SESSION_A_BANDWIDTH]	= { .type = NLA_U64 },
	[SHM_SESSION_A_AGE_MS]		= { .type = NLA_U64 },
	[SHM_SESSION_A_REASON]		= { .type = NLA_STRING },
	[SHM_SESSION_A_COMPRESS]	= { .type = NLA_U32 },
};

int session_attrs(struct nl_msg *msg, struct nlattr *tb[SHM_SESSION_A_MAX + 1])
{
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, SHM_SESSION_A_MAX,
			  session_policy) < 0)
		return -EBADMSG;
	return 0;
}

int session_parse(struct nl_msg *msg, struct shm_session *s)
{
	static const int mandatory[] = {
		SHM_SESSION_A_ID, SHM_SESSION_A_ROLE, SHM_SESSION_A_STATE,
		SHM_SESSION_A_MAX_DOWNTIME_MS, SHM_SESSION_A_STREAMS,
		SHM_SESSION_A_BANDWIDTH, SHM_SESSION_A_AGE_MS,
		SHM_SESSION_A_COMPRESS,
	};
	struct nlattr *tb[SHM_SESSION_A_MAX + 1];
	size_t i;
	int err;

	err = session_attrs(msg, tb);
	if (err)
		return err;
	for (i = 0; i < ARRAY_SIZE(mandatory); i++) {
		if (!tb[mandatory[i]])
			return -EBADMSG;
	}

	*s = (struct shm_session){
		.id		 = nla_get_u32(tb[SHM_SESSION_A_ID]),
		.role		 = nla_get_u32(tb[SHM_SESSION_A_ROLE]),
		.state		 = nla_get_u32(tb[SHM_SESSION_A_STATE]),
		.max_downtime_ms = nla_get_u32(tb[SHM_SESSION_A_MAX_DOWNTIME_MS]),
		.streams	 = nla_get_u32(tb[SHM_SESSION_A_STREAMS]),
		.bandwidth	 = nla_get_u64(tb[SHM_SESSION_A_BANDWIDTH]),
		.age_ms		 = nla_get_u64(tb[SHM_SESSION_A_AGE_MS]),
		.compress	 = nla_get_u32(tb[SHM_SESSION_A_COMPRESS]),
	};
	if (tb[SHM_SESSION_A_NAME])
		s->name = nla_get_string(tb[SHM_SESSION_A_NAME]);
	if (tb[SHM_SESSION_A_REASON])
		s->reason = nla_get_string(tb[SHM_SESSION_A_REASON]);
	return 0;
}

void session_json_members(struct json *j, const struct shm_session *s)
{
	json_member_uint(j, "id", s->id);
	json_member_string(j, "role", role_name(s->role));
	json_member_string(j, "state", state_name(s->state));
	if (s->name)
		json_member_string(j, "name", s->name);
	json_member_uint(j, "max_downtime_ms", s->max_downtime_ms);
	json_member_uint(j, "streams", s->streams);
	json_member_uint(j, "bandwidth", s->bandwidth);
	json_member_string(j, "compress", compress_name(s->compress));
	json_member_uint(j, "age_ms", s->age_ms);
	if (s->reason)
		json_member_string(j, "reason", s->reason);
}

static void session_json(const struct shm_session *s)
{
	struct json j;

	json_init(&j, stdout);
	json_object_begin(&j);
	session_json_members(&j, s);
	json_object_end(&j);
}

/* Longest text of a bandwidth, with its NUL. */
#define BANDWIDTH_TEXT_MAX (FORMAT_BYTES_MAX + sizeof("B/s") - 1)

static void bandwidth_text(uint64_t bandwidth, char buf[BANDWIDTH_TEXT_MAX])
{
	char bytes[FORMAT_BYTES_MAX];

	if (!bandwidth) {
		snprintf(buf, BANDWIDTH_TEXT_MAX, "unlimited");
		return;
	}
	format_bytes(bandwidth, bytes);
	snprintf(buf, BANDWIDTH_TEXT_MAX, "%sB/s", bytes);
}

/* "45s", "12m05s", "3h04m", "2d05h": two units are plenty for an age. */
static void age_text(uint64_t ms, char *buf, size_t size)
{
	uint64_t s = ms / 1000;

	if (s < 60)
		snprintf(buf, size, "%" PRIu64 "s", s);
	else if (s < 60 * 60)
		snprintf(buf, size, "%" PRIu64 "m%02" PRIu64 "s",
			 s / 60, s % 60);
	else if (s < 24 * 60 * 60)
		snprintf(buf, size, "%" PRIu64 "h%02" PRIu64 "m",
			 s / 3600, s / 60 % 60);
	else
		snprintf(buf, size, "%" PRIu64 "d%02" PRIu64 "h",
			 s / 86400, s / 3600 % 24);
}

/*
 * Names and reasons in text output show control characters as '?', so that
 * one cannot rewrite the operator's terminal.
 */
static char plain_char(char c)
{
	return (unsigned char)c < 0x20 || c == 0x7f ? '?' : c;
}

static void plain_copy(const char *s, char *buf, size_t size)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < size; i++)
		buf[i] = plain_char(s[i]);
	buf[i] = '\0';
}

static void plain_print(const char *s)
{
	for (; *s; s++)
		putchar(plain_char(*s));
}

void session_print_line(const struct shm_session *s)
{
	char bandwidth[BANDWIDTH_TEXT_MAX];

	bandwidth_text(s->bandwidth, bandwidth);
	printf("id=%" PRIu32 " role=%s state=%s", s->id, role_name(s->role),
	       state_name(s->state));
	if (s->name) {
		fputs(" name=", stdout);
		json_quote(stdout, s->name);
	}
	printf(" streams=%" PRIu32 " max-downtime=%" PRIu32 "ms bandwidth=%s",
	       s->streams, s->max_downtime_ms, bandwidth);
	if (s->reason) {
		fputs(" reason=", stdout);
		json_quote(stdout, s->reason);
	}
}

/* The one argument of show and del, after their options: a session id. */
static int one_id(int argc, char *argv[], const char *usage, uint32_t *id)
{
	if (optind == argc)
		return usage_error(usage, "which session? give its ID");
	if (argc - optind > 1)
		return usage_error(usage, "unexpected argument '%s'",
				   argv[optind + 1]);
	/* The module numbers sessions from 1. */
	if (parse_u32(argv[optind], 1, UINT32_MAX, id))
		return usage_error(usage,
				   "a session ID is a number from 1 to %" PRIu32 ", not '%s'",
				   UINT32_MAX, argv[optind]);
	return SHMCTL_PROCEED;
}

/* Report a failed request about session @id. */
static int session_report(const struct shm_nl *nl, int err, uint32_t id)
{
	if (err == -ENOENT && !nl->failure.local) {
		fprintf(stderr, "shmctl: no session %" PRIu32 " in this network namespace\n",
			id);
		return SHMCTL_EXIT_NO_SESSION;
	}
	return shm_nl_report(nl, err);
}

/* --- session list ------------------------------------------------------ */

enum list_column {
	COL_ID, COL_ROLE, COL_STATE, COL_NAME, COL_STREAMS, COL_MAX_DOWNTIME,
	COL_BANDWIDTH, COL_AGE, N_COLUMNS
};

static const char *const list_header[N_COLUMNS] = {
	"ID", "ROLE", "STATE", "NAME", "STREAMS", "MAX-DOWNTIME", "BANDWIDTH",
	"AGE",
};

/* SHM_NAME_MAX fits the longest cell, a name, and all the others. */
struct list_row {
	char cell[N_COLUMNS][SHM_NAME_MAX];
};

struct list {
	bool json;
	/*
	 * JSON goes to memory first: a malformed reply part way through
	 * must not leave half an array on stdout.
	 */
	struct json j;
	char *json_text;
	size_t json_size;
	/* Text: columns are as wide as their widest cell, so rows wait. */
	struct list_row *rows;
	size_t n_rows, max_rows;
};

static void list_row_fill(struct list_row *row, const struct shm_session *s)
{
	char (*cell)[SHM_NAME_MAX] = row->cell;

	snprintf(cell[COL_ID], SHM_NAME_MAX, "%" PRIu32, s->id);
	snprintf(cell[COL_ROLE], SHM_NAME_MAX, "%s", role_name(s->role));
	snprintf(cell[COL_STATE], SHM_NAME_MAX, "%s", state_name(s->state));
	plain_copy(s->name ? s->name : "-", cell[COL_NAME], SHM_NAME_MAX);
	snprintf(cell[COL_STREAMS], SHM_NAME_MAX, "%" PRIu32, s->streams);
	snprintf(cell[COL_MAX_DOWNTIME], SHM_NAME_MAX, "%" PRIu32 "ms",
		 s->max_downtime_ms);
	bandwidth_text(s->bandwidth, cell[COL_BANDWIDTH]);
	age_text(s->age_ms, cell[COL_AGE], SHM_NAME_MAX);
}

static int list_reply(struct nl_msg *msg, void *arg)
{
	struct list *l = arg;
	struct shm_session s;
	int err;

	err = session_parse(msg, &s);
	if (err)
		return err;

	if (l->json) {
		json_object_begin(&l->j);
		session_json_members(&l->j, &s);
		json_object_end(&l->j);
		return 0;
	}

	if (l->n_rows == l->max_rows) {
		size_t max = l->max_rows ? 2 * l->max_rows : 16;
		struct list_row *rows = realloc(l->rows, max * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		l->rows = rows;
		l->max_rows = max;
	}
	list_row_fill(&l->rows[l->n_rows++], &s);
	return 0;
}

static void list_print_row(const char *const *cells, const int *width)
{
	int c;

	for (c = 0; c < N_COLUMNS - 1; c++)
		printf("%-*s  ", width[c], cells[c]);
	printf("%s\n", cells[N_COLUMNS - 1]);
}

static void list_print_table(const struct list *l)
{
	const char *cells[N_COLUMNS];
	int width[N_COLUMNS];
	size_t r;
	int c;

	/* Not even the header for no sessions: "test -z" tells an empty list. */
	if (!l->n_rows)
		return;

	for (c = 0; c < N_COLUMNS; c++)
		width[c] = strlen(list_header[c]);
	for (r = 0; r < l->n_rows; r++) {
		for (c = 0; c < N_COLUMNS; c++) {
			int len = strlen(l->rows[r].cell[c]);

			if (len > width[c])
				width[c] = len;
		}
	}

	list_print_row(list_header, width);
	for (r = 0; r < l->n_rows; r++) {
		for (c = 0; c < N_COLUMNS; c++)
			cells[c] = l->rows[r].cell[c];
		list_print_row(cells, width);
	}
}

static int session_list(int argc, char *argv[], const struct shmctl_opts *opts)
{
	struct list l = {};
	struct shm_nl nl;
	struct nl_msg *msg;
	FILE *json_out = NULL;
	int ret, err;

	ret = parse_options(argc, argv, LIST_USAGE, opts, &l.json);
	if (ret != SHMCTL_PROCEED)
		return ret;
	if (optind != argc)
		return usage_error(LIST_USAGE, "unexpected argument '%s'",
				   argv[optind]);

	ret = shm_nl_open(&nl);
	if (ret)
		return ret;

	if (l.json) {
		json_out = open_memstream(&l.json_text, &l.json_size);
		if (!json_out) {
			ret = shm_nl_report(&nl, -errno);
			goto out;
		}
		json_init(&l.j, json_out);
		json_array_begin(&l.j);
	}

	msg = shm_nl_request_new(&nl, SHM_CMD_SESSION_GET, NLM_F_DUMP);
	err = msg ? shm_nl_request(&nl, msg, list_reply, &l) : -ENOMEM;
	if (err) {
		ret = shm_nl_report(&nl, err);
		goto out;
	}

	if (l.json) {
		json_array_end(&l.j);
		fclose(json_out);
		json_out = NULL;
		fwrite(l.json_text, 1, l.json_size, stdout);
	} else {
		list_print_table(&l);
	}
out:
	if (json_out)
		fclose(json_out);
	free(l.json_text);
	free(l.rows);
	shm_nl_close(&nl);
	return ret;
}

/* --- session show ------------------------------------------------------ */

static int show_reply(struct nl_msg *msg, void *arg)
{
	char bandwidth[BANDWIDTH_TEXT_MAX], age[32];
	const bool *json = arg;
	struct shm_session s;
	int err;

	err = session_parse(msg, &s);
	if (err)
		return err;
	if (*json) {
		session_json(&s);
		return 0;
	}

	bandwidth_text(s.bandwidth, bandwidth);
	age_text(s.age_ms, age, sizeof(age));
	printf("id:            %" PRIu32 "\n", s.id);
	printf("role:          %s\n", role_name(s.role));
	printf("state:         %s\n", state_name(s.state));
	if (s.name) {
		fputs("name:          ", stdout);
		plain_print(s.name);
		putchar('\n');
	}
	printf("streams:       %" PRIu32 "\n", s.streams);
	printf("max-downtime:  %" PRIu32 "ms\n", s.max_downtime_ms);
	printf("bandwidth:     %s\n", bandwidth);
	printf("compress:      %s\n", compress_name(s.compress));
	printf("age:           %s\n", age);
	if (s.reason) {
		fputs("reason:        ", stdout);
		plain_print(s.reason);
		putchar('\n');
	}
	return 0;
}

/*
 * show and del: one session id on the command line, one request naming it;
 * @fn prints the reply (NULL: the ack is the whole answer).
 */
static int session_by_id(int argc, char *argv[], const char *usage,
			 const struct shmctl_opts *opts, uint8_t cmd,
			 shm_nl_reply_fn fn)
{
	struct shm_nl nl;
	struct nl_msg *msg;
	uint32_t id;
	bool json;
	int ret, err;

	ret = parse_options(argc, argv, usage, opts, fn ? &json : NULL);
	if (ret != SHMCTL_PROCEED)
		return ret;
	ret = one_id(argc, argv, usage, &id);
	if (ret != SHMCTL_PROCEED)
		return ret;

	ret = shm_nl_open(&nl);
	if (ret)
		return ret;

	msg = shm_nl_request_new(&nl, cmd, 0);
	if (msg && nla_put_u32(msg, SHM_SESSION_A_ID, id) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	err = msg ? shm_nl_request(&nl, msg, fn, &json) : -ENOMEM;
	if (err)
		ret = session_report(&nl, err, id);

	shm_nl_close(&nl);
	return ret;
}

static int session_show(int argc, char *argv[], const struct shmctl_opts *opts)
{
	return session_by_id(argc, argv, SHOW_USAGE, opts, SHM_CMD_SESSION_GET,
			     show_reply);
}

/* --- session new ------------------------------------------------------- */

static int new_reply(struct nl_msg *msg, void *arg)
{
	const bool *json = arg;
	struct shm_session s;
	int err;

	err = session_parse(msg, &s);
	if (err)
		return err;
	if (*json)
		session_json(&s);
	else
		printf("%" PRIu32 "\n", s.id);
	return 0;
}

/* What the command line asks of the new session; 0 means "not given". */
struct new_session {
	uint32_t role;
	const char *name;
	uint32_t max_downtime_ms;
	uint32_t streams;
	uint64_t bandwidth;
	bool has_bandwidth;	/* 0 is a bandwidth: no cap */
	uint32_t compress;
	bool has_compress;	/* never is a choice too */
};

static int check_name(const char *name)
{
	const char *c;

	if (!*name)
		return usage_error(NEW_USAGE, "--name must not be empty");
	if (strlen(name) >= SHM_NAME_MAX)
		return usage_error(NEW_USAGE, "--name is at most %d bytes long",
				   SHM_NAME_MAX - 1);
	for (c = name; *c; c++) {
		if (plain_char(*c) != *c)
			return usage_error(NEW_USAGE,
					   "--name must not contain control characters");
	}
	return SHMCTL_PROCEED;
}

static int new_option(struct new_session *ns, int c, const char *arg)
{
	int err;

	switch (c) {
	case 'r':
		if (role_parse(arg, &ns->role))
			return usage_error(NEW_USAGE,
					   "--role is source or destination, not '%s'",
					   arg);
		break;
	case 'n':
		ns->name = arg;
		return check_name(arg);
	case 'd':
		if (parse_u32(arg, 1, SHM_MAX_DOWNTIME_MS_LIMIT,
			      &ns->max_downtime_ms))
			return usage_error(NEW_USAGE,
					   "--max-downtime takes milliseconds, from 1 to %d, not '%s'",
					   SHM_MAX_DOWNTIME_MS_LIMIT, arg);
		break;
	case 's':
		if (parse_u32(arg, 1, SHM_MAX_STREAMS, &ns->streams))
			return usage_error(NEW_USAGE,
					   "--streams takes a number from 1 to %d, not '%s'",
					   SHM_MAX_STREAMS, arg);
		break;
	case 'b':
		err = parse_bytes(arg, &ns->bandwidth);
		if (err == -ERANGE)
			return usage_error(NEW_USAGE,
					   "--bandwidth %s is more bytes per second than 64 bits hold",
					   arg);
		if (err)
			return usage_error(NEW_USAGE,
					   "--bandwidth takes bytes per second, such as 100M or 1Gi (K, M, G, T: powers of 1000; Ki, Mi, Gi, Ti: of 1024), or 0 for no cap; not '%s'",
					   arg);
		ns->has_bandwidth = true;
		break;
	case 'z':
		if (compress_parse(arg, &ns->compress))
			return usage_error(NEW_USAGE, COMPRESS_USAGE_ERROR, arg);
		ns->has_compress = true;
		break;
	}
	return SHMCTL_PROCEED;
}

static struct nl_msg *new_request(struct shm_nl *nl,
				  const struct new_session *ns)
{
	struct nl_msg *msg;

	msg = shm_nl_request_new(nl, SHM_CMD_SESSION_NEW, 0);
	if (!msg)
		return NULL;
	/* Whatever was not given is left out: the module's defaults apply. */
	if (nla_put_u32(msg, SHM_SESSION_A_ROLE, ns->role) < 0 ||
	    (ns->name &&
	     nla_put_string(msg, SHM_SESSION_A_NAME, ns->name) < 0) ||
	    (ns->max_downtime_ms &&
	     nla_put_u32(msg, SHM_SESSION_A_MAX_DOWNTIME_MS,
			 ns->max_downtime_ms) < 0) ||
	    (ns->streams &&
	     nla_put_u32(msg, SHM_SESSION_A_STREAMS, ns->streams) < 0) ||
	    (ns->has_bandwidth &&
	     nla_put_u64(msg, SHM_SESSION_A_BANDWIDTH, ns->bandwidth) < 0) ||
	    (ns->has_compress &&
	     nla_put_u32(msg, SHM_SESSION_A_COMPRESS, ns->compress) < 0)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static int session_new(int argc, char *argv[], const struct shmctl_opts *opts)
{
	static const struct option options[] = {
		{ "role",		required_argument,	NULL, 'r' },
		{ "name",		required_argument,	NULL, 'n' },
		{ "max-downtime",	required_argument,	NULL, 'd' },
		{ "streams",		required_argument,	NULL, 's' },
		{ "bandwidth",		required_argument,	NULL, 'b' },
		{ "compress",		optional_argument,	NULL, 'z' },
		{ "json",		no_argument,		NULL, 'j' },
		{ "help",		no_argument,		NULL, 'h' },
		{}
	};
	struct new_session ns = {};
	bool json = opts->json;
	struct shm_nl nl;
	struct nl_msg *msg;
	int ret, err, c;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":jh", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			return usage_help(NEW_USAGE);
		case 'r':
		case 'n':
		case 'd':
		case 's':
		case 'b':
		case 'z':
			ret = new_option(&ns, c, optarg);
			if (ret != SHMCTL_PROCEED)
				return ret;
			break;
		default:
			return option_error(NEW_USAGE, argv, c);
		}
	}
	if (optind != argc)
		return usage_error(NEW_USAGE, "unexpected argument '%s'",
				   argv[optind]);
	if (!ns.role)
		return usage_error(NEW_USAGE,
				   "--role is required: source or destination");

	ret = shm_nl_open(&nl);
	if (ret)
		return ret;

	msg = new_request(&nl, &ns);
	err = msg ? shm_nl_request(&nl, msg, new_reply, &json) : -ENOMEM;
	if (err)
		ret = shm_nl_report(&nl, err);

	shm_nl_close(&nl);
	return ret;
}

/* --- session del ------------------------------------------------------- */

static int session_del(int argc, char *argv[], const struct shmctl_opts *opts)
{
	return session_by_id(argc, argv, DEL_USAGE, opts, SHM_CMD_SESSION_DEL,
			     NULL);
}

/* --- session ----------------------------------------------------------- */

static const struct {
	const char *name;
	int (*run)(int argc, char *argv[], const struct shmctl_opts *opts);
} session_commands[] = {
	{ "list",	session_list },
	{ "show",	session_show },
	{ "new",	session_new },
	{ "del",	session_del },
};

int session_main(int argc, char *argv[], const struct shmctl_opts *opts)
{
	static const struct option options[] = {
		{ "json",	no_argument,	NULL, 'j' },
		{ "help",	no_argument,	NULL, 'h' },
		{}
	};
	struct shmctl_opts session_opts = *opts;
	size_t i;
	int c;

	optind = 0;
	/* '+': stop at the session command, which parses the rest. */
	while ((c = getopt_long(argc, argv, "+:jh", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			session_opts.json = true;
			break;
		case 'h':
			return usage_help(session_usage);
		default:
			return option_error(session_usage, argv, c);
		}
	}
	if (optind == argc)
		return usage_error(session_usage,
				   "which session command? list, show, new or del");

	for (i = 0; i < ARRAY_SIZE(session_commands); i++) {
		if (!strcmp(argv[optind], session_commands[i].name))
			return session_commands[i].run(argc - optind,
						       argv + optind,
						       &session_opts);
	}
	return usage_error(session_usage, "unknown session command '%s'",
			   argv[optind]);
}
