// SPDX-License-Identifier: GPL-2.0
/*
 * shmctl status: the migrations in flight on this host, sending and
 * receiving, as their sessions in shm.ko describe them. A migration is in
 * flight from the moment shmctl migrate or serve makes its session until
 * the session is done, failed or cancelled (and then removed with the
 * process that made it).
 */
#include <getopt.h>
#include <stdio.h>

#include <shm/netlink.h>

#include "engine.h"
#include "json.h"
#include "names.h"
#include "shmctl.h"
#include "subcommands.h"

static const char status_usage[] = "status [--json]";

struct status {
	bool json;
	struct json j;
	unsigned int shown;
};

/* The round running, or the rounds done once none runs. */
static uint64_t round_of(const struct engine_figures *f)
{
	return f->rounds + (f->state == SHM_STATE_PRECOPY);
}

/* The last round's throughput; in round 1, the average so far. */
static uint64_t rate_of(const struct engine_figures *f)
{
	if (f->throughput || !f->age_ms)
		return f->throughput;
	return f->total_bytes * 1000 / f->age_ms;
}

static void status_json(struct status *st, const struct engine_figures *f)
{
	struct json *j = &st->j;

	json_object_begin(j);
	json_member_uint(j, "id", f->id);
	json_member_string(j, "role", role_name(f->role));
	json_member_string(j, "name", f->name);
	json_member_string(j, "phase", engine_phase(f));
	json_member_uint(j, "round", round_of(f));
	json_member_uint(j, "memory_bytes", f->memory_bytes);
	json_member_uint(j, "bytes", f->total_bytes);
	json_member_uint(j, "percent", engine_percent(f));
	json_member_uint(j, "dirty_rate", f->dirty_rate);
	json_member_uint(j, "throughput", rate_of(f));
	json_member_uint(j, "age_ms", f->age_ms);
	json_object_end(j);
}

static void status_line(struct status *st, const struct engine_figures *f)
{
	if (!st->shown)
		printf("%-4s %-12s %-11s %5s %4s %10s %8s  %s\n", "ID", "ROLE",
		       "PHASE", "ROUND", "SENT", "MB/S", "AGE", "MIGRATION");
	printf("%-4u %-12s %-11s %5llu %3u%% %10.1f %7.1fs  %s\n", f->id,
	       role_name(f->role), engine_phase(f),
	       (unsigned long long)round_of(f), engine_percent(f),
	       rate_of(f) / 1e6, f->age_ms / 1e3, f->name);
}

static void status_one(const struct engine_figures *f, void *arg)
{
	struct status *st = arg;

	if (!engine_state_active(f->state))
		return;
	if (st->json)
		status_json(st, f);
	else
		status_line(st, f);
	st->shown++;
}

int status_main(int argc, char *argv[], const struct shmctl_opts *opts)
{
	struct status st = {};
	struct engine e;
	int ret, err;

	ret = parse_options(argc, argv, status_usage, opts, &st.json);
	if (ret != SHMCTL_PROCEED)
		return ret;
	if (optind != argc)
		return usage_error(status_usage, "unexpected argument '%s'",
				   argv[optind]);
	ret = shm_nl_open(&e.nl);
	if (ret != SHMCTL_EXIT_OK)
		return ret;
	e.id = 0;
	if (st.json) {
		json_init(&st.j, stdout);
		json_array_begin(&st.j);
	}
	err = engine_for_each(&e, status_one, &st);
	if (st.json) {
		json_array_end(&st.j);
		putchar('\n');
	} else if (!err && !st.shown) {
		printf("no migrations in flight on this host\n");
	}
	ret = err ? shm_nl_report(&e.nl, err) : SHMCTL_EXIT_OK;
	shm_nl_close(&e.nl);
	return ret;
}
