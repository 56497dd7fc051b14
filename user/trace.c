// SPDX-License-Identifier: GPL-2.0
/*
 * shmctl trace: shm.ko's session events as BPF sees them on the module's
 * tracepoints (bpf/trace.bpf.c), printed as they come, then counted.
 */
#include <errno.h>
#include <linux/types.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <shm/netlink.h>

#include "bpf/trace.skel.h"
#include "../bpf/trace.h"
#include "clock.h"
#include "json.h"
#include "names.h"
#include "netlink.h"
#include "parse.h"
#include "shmctl.h"
#include "subcommands.h"

static const char trace_usage[] =
	"trace [--duration SECONDS] [--all-namespaces] [--json]";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

struct tracer {
	struct json json;
	bool use_json;
	uint64_t start_ns;
	unsigned long events;
};

static const char *const kind_names[] = {
	[SHM_TRACE_NEW] = "new",
	[SHM_TRACE_STATE] = "state",
	[SHM_TRACE_DEL] = "del",
};

static void print_event_json(struct tracer *t, const struct shm_trace_event *e)
{
	struct json *j = &t->json;

	json_object_begin(j);
	json_member_uint(j, "time_ns", e->time_ns);
	json_member_string(j, "event", kind_names[e->kind]);
	json_member_uint(j, "netns", e->netns);
	json_member_uint(j, "session", e->session);
	if (e->kind == SHM_TRACE_NEW)
		json_member_string(j, "role", role_name(e->role));
	if (e->kind == SHM_TRACE_STATE)
		json_member_string(j, "from", state_name(e->old_state));
	json_member_string(j, "state", state_name(e->state));
	json_object_end(j);
}

static void print_event_text(struct tracer *t, const struct shm_trace_event *e)
{
	double secs = (double)(int64_t)(e->time_ns - t->start_ns) / 1e9;

	if (!t->events)
		printf("%-12s %-11s %-8s %s\n", "TIME(s)", "NETNS", "SESSION",
		       "EVENT");
	printf("%-12.6f %-11u %-8u ", secs, e->netns, e->session);
	switch (e->kind) {
	case SHM_TRACE_NEW:
		printf("created (%s)\n", role_name(e->role));
		break;
	case SHM_TRACE_STATE:
		printf("%s -> %s\n", state_name(e->old_state),
		       state_name(e->state));
		break;
	case SHM_TRACE_DEL:
		printf("deleted (%s)\n", state_name(e->state));
		break;
	}
	fflush(stdout);
}

static int on_event(void *ctx, void *data, size_t size)
{
	const struct shm_trace_event *e = data;
	struct tracer *t = ctx;

	if (size < sizeof(*e) || e->kind > SHM_TRACE_DEL)
		return 0;
	if (t->use_json)
		print_event_json(t, e);
	else
		print_event_text(t, e);
	t->events++;
	return 0;
}

/* What the BPF side counted, read once the trace has ended. */
struct trace_counts {
	__u64 created, deleted, dropped;
	__u64 transitions[SHM_TRACE_STATES][SHM_TRACE_STATES];
};

static int read_counts(const struct trace_bpf *skel, struct trace_counts *c)
{
	__u32 key;

	c->created = skel->bss->created;
	c->deleted = skel->bss->deleted;
	c->dropped = skel->bss->dropped;
	for (key = 0; key < SHM_TRACE_STATES * SHM_TRACE_STATES; key++) {
		if (bpf_map__lookup_elem(skel->maps.transitions, &key,
					 sizeof(key),
					 &c->transitions[0][0] + key,
					 sizeof(__u64), 0))
			return -errno;
	}
	return 0;
}

static void print_counts_json(struct tracer *t, const struct trace_counts *c)
{
	struct json *j = &t->json;
	unsigned int from, to;

	json_array_end(j);
	json_member_uint(j, "created", c->created);
	json_member_uint(j, "deleted", c->deleted);
	json_key(j, "transitions");
	json_array_begin(j);
	for (from = 0; from < SHM_TRACE_STATES; from++) {
		for (to = 0; to < SHM_TRACE_STATES; to++) {
			if (!c->transitions[from][to])
				continue;
			json_object_begin(j);
			json_member_string(j, "from", state_name(from));
			json_member_string(j, "to", state_name(to));
			json_member_uint(j, "count", c->transitions[from][to]);
			json_object_end(j);
		}
	}
	json_array_end(j);
	json_member_uint(j, "dropped", c->dropped);
	json_object_end(j);
}

static void print_counts_text(const struct trace_counts *c)
{
	unsigned int from, to;

	printf("\ncreated %llu, deleted %llu", (unsigned long long)c->created,
	       (unsigned long long)c->deleted);
	if (c->dropped)
		printf(", %llu events not shown (ring buffer full)",
		       (unsigned long long)c->dropped);
	printf("\n");
	for (from = 0; from < SHM_TRACE_STATES; from++)
		for (to = 0; to < SHM_TRACE_STATES; to++)
			if (c->transitions[from][to])
				printf("  %-10s -> %-10s %llu\n",
				       state_name(from), state_name(to),
				       (unsigned long long)c->transitions[from][to]);
}

/* The namespace whose sessions we trace: ours, as the module reports it. */
static int own_netns(__u32 *inum)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st))
		return -errno;
	*inum = st.st_ino;
	return 0;
}

static int load_tracer(struct trace_bpf **skelp, bool all_namespaces)
{
	struct trace_bpf *skel = trace_bpf__open();
	int err;

	if (!skel)
		return -errno;
	if (!all_namespaces) {
		err = own_netns(&skel->rodata->target_netns);
		if (err)
			goto fail;
	}
	err = trace_bpf__load(skel);
	if (err)
		goto fail;
	err = trace_bpf__attach(skel);
	if (err)
		goto fail;
	*skelp = skel;
	return 0;
fail:
	trace_bpf__destroy(skel);
	return err;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

int trace_main(int argc, char *argv[], const struct shmctl_opts *opts)
{
	static const struct option options[] = {
		{ "duration",		required_argument, NULL, 'd' },
		{ "all-namespaces",	no_argument,	   NULL, 'a' },
		{ "json",		no_argument,	   NULL, 'j' },
		{ "help",		no_argument,	   NULL, 'h' },
		{}
	};
	struct tracer t = { .use_json = opts->json };
	struct ring_buffer *rb = NULL;
	struct trace_counts counts;
	struct shm_nl nl;
	struct trace_bpf *skel = NULL;
	bool all_namespaces = false;
	uint32_t duration = 0;
	uint64_t deadline = 0;
	int c, err, ret = SHMCTL_EXIT_FAILURE;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":d:ajh", options, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (parse_u32(optarg, 1, 86400, &duration))
				return usage_error(trace_usage,
						   "duration must be 1 to 86400 seconds, not '%s'",
						   optarg);
			break;
		case 'a':
			all_namespaces = true;
			break;
		case 'j':
			t.use_json = true;
			break;
		case 'h':
			return usage_help(trace_usage);
		default:
			return option_error(trace_usage, argv, c);
		}
	}
	if (optind != argc)
		return usage_error(trace_usage, "unexpected argument '%s'",
				   argv[optind]);

	/* Without the module there are no tracepoints to attach to. */
	ret = shm_nl_open(&nl);
	if (ret)
		return ret;
	shm_nl_close(&nl);
	ret = SHMCTL_EXIT_FAILURE;

	libbpf_set_print(libbpf_quiet);
	err = load_tracer(&skel, all_namespaces);
	if (err) {
		fprintf(stderr, "shmctl: cannot load the BPF tracer: %s%s\n",
			strerror(-err),
			err == -EPERM ? " (tracing needs root)" : "");
		return err == -EPERM ? SHMCTL_EXIT_PERMISSION :
				       SHMCTL_EXIT_FAILURE;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, &t,
			      NULL);
	if (!rb) {
		fprintf(stderr, "shmctl: cannot open the BPF ring buffer: %s\n",
			strerror(errno));
		goto out;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t.start_ns = monotonic_ns();
	if (duration)
		deadline = t.start_ns + duration * 1000000000ULL;
	/* Scripts wait for this line before they make events. */
	fprintf(stderr, "tracing shm session events%s; Ctrl-C to stop\n",
		all_namespaces ? " in all namespaces" : "");

	if (t.use_json) {
		json_init(&t.json, stdout);
		json_object_begin(&t.json);
		json_key(&t.json, "events");
		json_array_begin(&t.json);
	}
	while (!stop && (!deadline || monotonic_ns() < deadline)) {
		err = ring_buffer__poll(rb, 100);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "shmctl: reading BPF events: %s\n",
				strerror(-err));
			goto out;
		}
	}
	ring_buffer__consume(rb);

	err = read_counts(skel, &counts);
	if (err) {
		fprintf(stderr, "shmctl: reading BPF counts: %s\n",
			strerror(-err));
		goto out;
	}
	if (t.use_json)
		print_counts_json(&t, &counts);
	else
		print_counts_text(&counts);
	ret = SHMCTL_EXIT_OK;
out:
	ring_buffer__free(rb);
	trace_bpf__destroy(skel);
	return ret;
}
