// SPDX-License-Identifier: GPL-2.0
/*
 * Live migrations of a running guest between two hosts (network namespaces
 * joined by a shaped veth), by shm.ko, driven from here as a migration tool
 * would drive it: a source and a destination test VMM (tests/vmm/), their
 * VMs taken with pidfd_getfd, TCP streams connected and handed over.
 *
 *   source host                               destination host
 *   shm-testvmm run (guest writing)           shm-testvmm run --incoming
 *   session SOURCE  ====== mig0 (tbf) =====>  session DESTINATION
 *
 * migrate: pre-copy until the engine says READY or STALLED, pause, final
 * round; then every page of the destination equals the source's at the
 * pause (a hash per page), and the guest carries on there and passes its
 * own check. Across guests idle, dirtying well below, near and above the
 * link's bandwidth, and with the VMM writing guest pages itself. Memory
 * nobody wrote (holes in the RAM's memfd) stays unallocated on both sides.
 *
 * broken: the same migration, broken mid-way on either side. The source
 * guest must run on, its memory intact; the destination must not run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "hosts.h"
#include "nl.h"
#include "testvmm.h"

#define STREAMS		2
#define LINK_RATE	"80mbit"	/* 10 MB/s: some 2400 pages/s */
#define MAX_DOWNTIME_MS	300
#define WAIT_MS		(90 * 1000)	/* for convergence; TCG is slow */

struct migration {
	struct hosts hosts;
	struct testvmm vmm[NR_HOSTS];
	struct nl_sock *sk[NR_HOSTS];
	struct nl_sock *events;		/* the source host's progress */
	uint32_t id[NR_HOSTS];
	int fds[NR_HOSTS][STREAMS];
};

static const char *const host_names[NR_HOSTS] = { "source", "destination" };

/* Tests end in _exit(): the figures they print must not sit in a buffer. */
static void __attribute__((constructor)) stdout_line_buffered(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, ms % 1000 * 1000000 };

	nanosleep(&t, NULL);
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static uint32_t attr_u32(struct nlattr **attrs, int type)
{
	return attrs[type] ? nla_get_u32(attrs[type]) : 0;
}

static uint64_t stat_of(struct nlattr **attrs, int type)
{
	struct nlattr *tb[SHM_STATS_A_MAX + 1];

	if (!attrs[SHM_SESSION_A_STATS] ||
	    nla_parse_nested(tb, SHM_STATS_A_MAX, attrs[SHM_SESSION_A_STATS],
			     NULL) || !tb[type])
		return 0;
	return nla_get_u64(tb[type]);
}

static const char *reason(struct nl_result *res)
{
	return res->attrs[SHM_SESSION_A_REASON] ?
	       nla_get_string(res->attrs[SHM_SESSION_A_REASON]) : "";
}

static bool state_is_final(uint32_t state)
{
	return state == SHM_STATE_DONE || state == SHM_STATE_FAILED ||
	       state == SHM_STATE_CANCELLED;
}

/* Waits for a final state of @host's session; returns it. */
static uint32_t wait_final(struct migration *m, enum host host,
			   struct nl_result *res)
{
	long end = now_ms() + WAIT_MS;
	uint32_t state = 0;

	while (now_ms() < end) {
		if (nl_session_get(m->sk[host], m->id[host], res))
			return 0;
		state = attr_u32(res->attrs, SHM_SESSION_A_STATE);
		if (state_is_final(state))
			break;
		sleep_ms(50);
	}
	return state;
}

/* Opens a netlink socket that lives in @host. */
static struct nl_sock *host_nl_open(struct migration *m, enum host host)
{
	struct nl_sock *sk = NULL;

	if (!hosts_enter(&m->hosts, host))
		sk = nl_open();
	hosts_leave(&m->hosts);
	return sk;
}

/*
 * Two hosts, a source VMM running ARGS SRC_ARGS and a destination VMM
 * waiting with ARGS DST_ARGS, sessions on both attached to their VMs and to
 * STREAMS connections between them.
 */
static void migration_setup(struct __test_metadata *_metadata,
			    struct migration *m, const char *rate,
			    const char *args, const char *src_args,
			    const char *dst_args)
{
	static const uint32_t roles[NR_HOSTS] = {
		SHM_ROLE_SOURCE, SHM_ROLE_DESTINATION,
	};
	char words[256];
	struct nl_result res;
	struct nl_msg *msg;
	int i, vm_fd;

	memset(m->fds, -1, sizeof(m->fds));
	ASSERT_EQ(0, hosts_create(&m->hosts, rate));
	snprintf(words, sizeof(words), "%s %s", args, src_args);
	ASSERT_EQ(0, testvmm_start(&m->vmm[HOST_SRC], &m->hosts, HOST_SRC,
				   words));
	snprintf(words, sizeof(words), "--incoming %s %s", args, dst_args);
	ASSERT_EQ(0, testvmm_start(&m->vmm[HOST_DST], &m->hosts, HOST_DST,
				   words));
	ASSERT_EQ(0, hosts_connect(&m->hosts, m->fds[HOST_SRC],
				   m->fds[HOST_DST], STREAMS));
	m->events = host_nl_open(m, HOST_SRC);
	ASSERT_NE(NULL, m->events);
	ASSERT_EQ(0, nl_subscribe(m->events));

	for (i = 0; i < NR_HOSTS; i++) {
		m->sk[i] = host_nl_open(m, i);
		ASSERT_NE(NULL, m->sk[i]);
		msg = nl_request(SHM_CMD_SESSION_NEW, 0);
		nla_put_u32(msg, SHM_SESSION_A_ROLE, roles[i]);
		nla_put_u32(msg, SHM_SESSION_A_STREAMS, STREAMS);
		nla_put_u32(msg, SHM_SESSION_A_MAX_DOWNTIME_MS, MAX_DOWNTIME_MS);
		ASSERT_EQ(0, nl_transact(m->sk[i], msg, &res, NULL, NULL))
			TH_LOG("%s: %s", host_names[i], res.message);
		m->id[i] = attr_u32(res.attrs, SHM_SESSION_A_ID);

		vm_fd = testvmm_vm_fd(&m->vmm[i]);
		ASSERT_LE(0, vm_fd);
		EXPECT_EQ(0, nl_session_attach(m->sk[i], m->id[i], vm_fd,
					       m->fds[i], STREAMS, &res))
			TH_LOG("%s: %s", host_names[i], res.message);
		close(vm_fd);
	}
}

static void migration_teardown(struct migration *m)
{
	int i, j;

	for (i = 0; i < NR_HOSTS; i++) {
		if (m->sk[i]) {
			nl_session_del(m->sk[i], m->id[i]);
			nl_close(m->sk[i]);
		}
		for (j = 0; j < STREAMS; j++)
			if (m->fds[i][j] >= 0)
				close(m->fds[i][j]);
	}
	if (m->events)
		nl_close(m->events);
	for (i = 0; i < NR_HOSTS; i++)
		testvmm_stop(&m->vmm[i]);
	hosts_destroy(&m->hosts);
}

/* Starts pre-copy; with @report, the source VMM reports its own writes. */
static void migration_start(struct __test_metadata *_metadata,
			    struct migration *m, bool report)
{
	struct nl_result res;

	if (report)
		ASSERT_EQ(0, testvmm_ctl(&m->vmm[HOST_SRC], "report %u",
					 m->id[HOST_SRC]))
			TH_LOG("%s", m->vmm[HOST_SRC].reply);
	ASSERT_EQ(0, nl_session_cmd(m->sk[HOST_DST], SHM_CMD_SESSION_START,
				    m->id[HOST_DST], &res)) TH_LOG("%s", res.message);
	ASSERT_EQ(0, nl_session_cmd(m->sk[HOST_SRC], SHM_CMD_SESSION_START,
				    m->id[HOST_SRC], &res)) TH_LOG("%s", res.message);
}

static const char *convergence_name(uint32_t c)
{
	static const char *const names[] = {
		[SHM_CONVERGENCE_PENDING] = "pending",
		[SHM_CONVERGENCE_CONVERGING] = "converging",
		[SHM_CONVERGENCE_READY] = "ready",
		[SHM_CONVERGENCE_STALLED] = "stalled",
	};

	return c <= SHM_CONVERGENCE_MAX && names[c] ? names[c] : "?";
}

/*
 * Waits for the source's verdict after a round, READY or STALLED, printing
 * each round's figures from the progress events as they come. Returns the
 * verdict, or 0 if pre-copy ended or never came to one.
 */
static uint32_t wait_verdict(struct migration *m)
{
	struct nlattr *attrs[NL_MAXATTR + 1];
	long end = now_ms() + WAIT_MS;
	uint32_t verdict;
	int cmd;

	while (now_ms() < end) {
		cmd = nl_next_event(m->events, attrs, 1000);
		if (cmd == -ETIMEDOUT)
			continue;
		if (cmd == SHM_CMD_SESSION_STATE &&
		    attr_u32(attrs, SHM_SESSION_A_ID) == m->id[HOST_SRC] &&
		    state_is_final(attr_u32(attrs, SHM_SESSION_A_STATE)))
			return 0;
		if (cmd != SHM_CMD_SESSION_PROGRESS ||
		    attr_u32(attrs, SHM_SESSION_A_ID) != m->id[HOST_SRC])
			continue;
		verdict = attr_u32(attrs, SHM_SESSION_A_CONVERGENCE);
		ksft_print_msg("round %llu: %llu dirty, %llu sent, %llu zero, %llu KiB in %llu ms, %llu KiB/s; dirtying %llu pages/s, %llu ms left: %s\n",
			       (unsigned long long)stat_of(attrs, SHM_STATS_A_ROUNDS),
			       (unsigned long long)stat_of(attrs, SHM_STATS_A_DIRTY_PAGES),
			       (unsigned long long)stat_of(attrs, SHM_STATS_A_SENT_PAGES),
			       (unsigned long long)stat_of(attrs, SHM_STATS_A_ZERO_PAGES),
			       (unsigned long long)stat_of(attrs, SHM_STATS_A_BYTES) >> 10,
			       (unsigned long long)stat_of(attrs, SHM_STATS_A_DURATION_NS) / 1000000,
			       (unsigned long long)stat_of(attrs, SHM_STATS_A_THROUGHPUT) >> 10,
			       (unsigned long long)stat_of(attrs, SHM_STATS_A_DIRTY_RATE),
			       (unsigned long long)(attrs[SHM_SESSION_A_ESTIMATE_MS] ?
				       nla_get_u64(attrs[SHM_SESSION_A_ESTIMATE_MS]) : 0),
			       convergence_name(verdict));
		if (verdict == SHM_CONVERGENCE_READY ||
		    verdict == SHM_CONVERGENCE_STALLED)
			return verdict;
	}
	return 0;
}

/* Whether two "GFN HASH" files agree; logs the first page that does not. */
static bool same_pages(struct __test_metadata *_metadata, const char *a,
		       const char *b)
{
	FILE *fa = fopen(a, "r"), *fb = fopen(b, "r");
	char la[128], lb[128];
	bool same = fa && fb;
	unsigned long pages = 0;

	while (same && fgets(la, sizeof(la), fa)) {
		same = fgets(lb, sizeof(lb), fb) && !strcmp(la, lb);
		if (!same)
			TH_LOG("first difference: source %.*s, destination %.*s",
			       (int)strcspn(la, "\n"), la,
			       (int)strcspn(lb, "\n"), lb);
		pages++;
	}
	same = same && !fgets(lb, sizeof(lb), fb) && pages;
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

/* Waits until the guest's counters on @host move past @before. */
static bool guest_moves(struct testvmm *v, int64_t before)
{
	long end = now_ms() + 20000;

	while (now_ms() < end) {
		if (testvmm_value(v, "stats", "writes") +
		    testvmm_value(v, "stats", "writer") > before)
			return true;
		sleep_ms(100);
	}
	return false;
}

static int64_t guest_progress(struct testvmm *v)
{
	return testvmm_value(v, "stats", "writes") +
	       testvmm_value(v, "stats", "writer");
}

/* Bytes of @v's RAM that hold pages: its memfd's or file's blocks. */
static long long ram_allocated(struct testvmm *v)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%lld/fd/%lld",
		 (long long)testvmm_value(v, "info", "pid"),
		 (long long)testvmm_value(v, "info", "ramfd"));
	return stat(path, &st) ? -1 : (long long)st.st_blocks * 512;
}

/* The source guest still runs, and its memory passes its own check. */
static void source_runs_on(struct __test_metadata *_metadata,
			   struct migration *m)
{
	struct testvmm *src = &m->vmm[HOST_SRC];

	EXPECT_TRUE(guest_moves(src, guest_progress(src)));
	EXPECT_EQ(0, testvmm_ctl(src, "selfcheck")) TH_LOG("%s", src->reply);
	EXPECT_EQ(0, testvmm_value(&m->vmm[HOST_DST], "stats", "started"))
		TH_LOG("the destination guest ran");
}

FIXTURE(migrate) {
	struct migration m;
};

FIXTURE_VARIANT(migrate) {
	const char *args;		/* both VMMs */
	const char *src_args, *dst_args;
	bool report;			/* the source VMM reports its writes */
	uint32_t verdict;		/* what the engine must say; 0: either */
	bool lost_writes;		/* unreported writes: a copy that differs */
	bool writes_nothing;		/* the source's RAM allocates no page */
};

/* Every page zero but the guest's own: moved as flags, at once. */
FIXTURE_VARIANT_ADD(migrate, idle) {
	.args = "--ram 32M --workload idle",
	.src_args = "--slots 2", .dst_args = "--slots 1",
	.verdict = SHM_CONVERGENCE_READY,
	.writes_nothing = true,
};

/* Some 200 pages/s against some 2400 the link moves, and a device. */
FIXTURE_VARIANT_ADD(migrate, well_below_bandwidth) {
	.args = "--ram 32M --workload seq --rate 200 --writer-pages 256 --writer-rate 300",
	.src_args = "", .dst_args = "",
	.report = true,
	.verdict = SHM_CONVERGENCE_READY,
};

/* KVM's dirty log in QEMU's mode: manual protect, initially all set. */
FIXTURE_VARIANT_ADD(migrate, manual_protect_dirty_log) {
	.args = "--ram 32M --workload seq --rate 500",
	.src_args = "--manual-protect", .dst_args = "",
	.verdict = SHM_CONVERGENCE_READY,
};

/* Three quarters of the link: rounds shrink slowly, but they shrink. */
FIXTURE_VARIANT_ADD(migrate, near_bandwidth) {
	.args = "--ram 32M --workload random --rate 1800",
	.src_args = "", .dst_args = "--slots 2",
	.verdict = SHM_CONVERGENCE_READY,
};

/* Unthrottled over all its memory: pre-copy cannot win, and says so. */
FIXTURE_VARIANT_ADD(migrate, above_bandwidth) {
	.args = "--ram 32M --workload seq --writer-pages 128 --writer-rate 2000",
	.src_args = "", .dst_args = "",
	.report = true,
	.verdict = SHM_CONVERGENCE_STALLED,
};

/* Unthrottled, but on a small hot set: fast writes, few pages. */
FIXTURE_VARIANT_ADD(migrate, hot_set) {
	.args = "--ram 32M --workload hot --hot 64",
	.src_args = "", .dst_args = "",
	.verdict = SHM_CONVERGENCE_READY,
};

/* The VMM writes and does not say so: the check must catch it. */
FIXTURE_VARIANT_ADD(migrate, unreported_vmm_writes) {
	.args = "--ram 32M --workload idle --writer-pages 256 --writer-rate 2000",
	.src_args = "", .dst_args = "",
	.verdict = SHM_CONVERGENCE_READY,
	.lost_writes = true,
};

FIXTURE_SETUP(migrate)
{
	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no /dev/kvm");
	migration_setup(_metadata, &self->m, LINK_RATE, variant->args,
			variant->src_args, variant->dst_args);
}

FIXTURE_TEARDOWN(migrate)
{
	if (!_metadata->passed)
		for (int i = 0; i < NR_HOSTS; i++)
			testvmm_dump_log(&self->m.vmm[i]);
	migration_teardown(&self->m);
}

TEST_F_TIMEOUT(migrate, byte_exact_and_guest_carries_on, 240)
{
	struct testvmm *src = &self->m.vmm[HOST_SRC], *dst = &self->m.vmm[HOST_DST];
	char src_hash[128], state[128];
	struct nl_result res;
	long long src_before, src_paused, dst_after;
	uint32_t verdict;
	int64_t before;
	long t0;

	src_before = ram_allocated(src);
	ASSERT_LE(0, src_before);
	migration_start(_metadata, &self->m, variant->report);
	verdict = wait_verdict(&self->m);
	ASSERT_NE(0, verdict) TH_LOG("pre-copy came to no verdict");
	if (variant->verdict)
		EXPECT_STREQ(convergence_name(variant->verdict),
			     convergence_name(verdict));

	/* Cutover, as a migration tool does it. */
	t0 = now_ms();
	ASSERT_EQ(0, testvmm_ctl(src, "pause")) TH_LOG("%s", src->reply);
	ASSERT_EQ(0, nl_session_cmd(self->m.sk[HOST_SRC], SHM_CMD_SESSION_FINAL,
				    self->m.id[HOST_SRC], &res))
		TH_LOG("%s", res.message);
	t0 = now_ms() - t0;
	ASSERT_EQ(0, nl_session_get(self->m.sk[HOST_SRC], self->m.id[HOST_SRC],
				    &res));
	ksft_print_msg("final round: %llu pages, %llu KiB, acknowledged %ld ms after the pause; %llu MiB in all\n",
		       (unsigned long long)stat_of(res.attrs, SHM_STATS_A_DIRTY_PAGES),
		       (unsigned long long)stat_of(res.attrs, SHM_STATS_A_BYTES) >> 10,
		       t0,
		       (unsigned long long)stat_of(res.attrs, SHM_STATS_A_TOTAL_BYTES) >> 20);
	ASSERT_EQ(SHM_STATE_DONE, wait_final(&self->m, HOST_DST, &res))
		TH_LOG("destination: %s", reason(&res));
	EXPECT_EQ(0, testvmm_value(src, "stats", "report_errors"));

	/*
	 * Pages nobody wrote were sent as zero without being read (which
	 * would have allocated them) and left as holes where they arrived.
	 */
	src_paused = ram_allocated(src);
	dst_after = ram_allocated(dst);
	ksft_print_msg("RAM allocated: source %lld KiB before, %lld KiB at the pause; destination %lld KiB\n",
		       src_before >> 10, src_paused >> 10, dst_after >> 10);
	EXPECT_LE(dst_after, src_paused);
	if (variant->writes_nothing)
		EXPECT_EQ(src_before, src_paused);

	/* Every page, as it was at the pause. */
	snprintf(src_hash, sizeof(src_hash), "%s", testvmm_path(src, "hash"));
	snprintf(state, sizeof(state), "%s", testvmm_path(src, "state"));
	ASSERT_EQ(0, testvmm_ctl(src, "hash %s", src_hash));
	ASSERT_EQ(0, testvmm_ctl(dst, "hash %s", testvmm_path(dst, "hash")));
	ASSERT_EQ(0, testvmm_ctl(src, "save %s", state));
	if (variant->lost_writes) {
		EXPECT_FALSE(same_pages(_metadata, src_hash, dst->path));
		EXPECT_NE(0, testvmm_ctl(dst, "restore %s", state));
		return;
	}
	ASSERT_TRUE(same_pages(_metadata, src_hash, dst->path));
	EXPECT_EQ(0, testvmm_ctl(dst, "check")) TH_LOG("%s", dst->reply);

	/* The guest carries on where it was paused, and checks itself. */
	before = guest_progress(src);
	ASSERT_EQ(0, testvmm_ctl(dst, "restore %s", state)) TH_LOG("%s", dst->reply);
	ASSERT_EQ(0, testvmm_ctl(dst, "resume")) TH_LOG("%s", dst->reply);
	if (before > 0)		/* an idle guest counts nothing */
		EXPECT_TRUE(guest_moves(dst, before));
	EXPECT_EQ(0, testvmm_ctl(dst, "selfcheck")) TH_LOG("%s", dst->reply);
}

FIXTURE(broken) {
	struct migration m;
};

FIXTURE_SETUP(broken)
{
	struct nl_result res;
	long end = now_ms() + WAIT_MS;

	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no /dev/kvm");
	migration_setup(_metadata, &self->m, LINK_RATE,
			"--ram 32M --workload seq --rate 500 --writer-pages 64 --writer-rate 200",
			"", "");
	migration_start(_metadata, &self->m, true);
	/* Mid pre-copy: round 1 done, the dirty log at work. */
	while (now_ms() < end) {
		ASSERT_EQ(0, nl_session_get(self->m.sk[HOST_SRC],
					    self->m.id[HOST_SRC], &res));
		ASSERT_EQ(SHM_STATE_PRECOPY,
			  attr_u32(res.attrs, SHM_SESSION_A_STATE))
			TH_LOG("source: %s", reason(&res));
		if (stat_of(res.attrs, SHM_STATS_A_ROUNDS) >= 1)
			return;
		sleep_ms(50);
	}
	ASSERT_TRUE(false) TH_LOG("round 1 never ended");
}

FIXTURE_TEARDOWN(broken)
{
	if (!_metadata->passed)
		for (int i = 0; i < NR_HOSTS; i++)
			testvmm_dump_log(&self->m.vmm[i]);
	migration_teardown(&self->m);
}

/* Both sessions end with @src_state / @dst_state, each for a reason. */
static void both_end(struct __test_metadata *_metadata, struct migration *m,
		     uint32_t src_state, const char *src_why,
		     uint32_t dst_state, const char *dst_why)
{
	struct nl_result res;

	EXPECT_EQ(src_state, wait_final(m, HOST_SRC, &res));
	EXPECT_NE(NULL, strstr(reason(&res), src_why))
		TH_LOG("source: '%s'", reason(&res));
	EXPECT_EQ(dst_state, wait_final(m, HOST_DST, &res));
	EXPECT_NE(NULL, strstr(reason(&res), dst_why))
		TH_LOG("destination: '%s'", reason(&res));
}

TEST_F_TIMEOUT(broken, source_vmm_killed, 120)
{
	EXPECT_EQ(0, kill(self->m.vmm[HOST_SRC].pid, SIGKILL));
	both_end(_metadata, &self->m, SHM_STATE_FAILED, "source VMM has exited",
		 SHM_STATE_FAILED, "from the source");
	EXPECT_EQ(0, testvmm_value(&self->m.vmm[HOST_DST], "stats", "started"));
}

TEST_F_TIMEOUT(broken, destination_vmm_killed, 120)
{
	EXPECT_EQ(0, kill(self->m.vmm[HOST_DST].pid, SIGKILL));
	both_end(_metadata, &self->m, SHM_STATE_FAILED, "to the destination",
		 SHM_STATE_FAILED, "destination VMM has exited");
	EXPECT_TRUE(guest_moves(&self->m.vmm[HOST_SRC],
				guest_progress(&self->m.vmm[HOST_SRC])));
	EXPECT_EQ(0, testvmm_ctl(&self->m.vmm[HOST_SRC], "selfcheck"));
}

/* The destination's end of stream 1 closes under the module. */
TEST_F_TIMEOUT(broken, peer_closes_socket, 120)
{
	EXPECT_EQ(0, shutdown(self->m.fds[HOST_DST][1], SHUT_RDWR));
	both_end(_metadata, &self->m, SHM_STATE_FAILED, "to the destination",
		 SHM_STATE_FAILED, "from the source");
	source_runs_on(_metadata, &self->m);
}

TEST_F_TIMEOUT(broken, cancel, 120)
{
	struct nl_result res;

	EXPECT_EQ(0, nl_session_cmd(self->m.sk[HOST_SRC], SHM_CMD_SESSION_CANCEL,
				    self->m.id[HOST_SRC], &res));
	both_end(_metadata, &self->m, SHM_STATE_CANCELLED, "cancelled",
		 SHM_STATE_FAILED, "from the source");
	source_runs_on(_metadata, &self->m);
}

/* rmmod with both sessions in pre-copy; shm.ko is loaded again after. */
TEST_F_TIMEOUT(broken, module_unload, 120)
{
	const char *ko = getenv("SHM_KO");

	ASSERT_NE(NULL, ko) TH_LOG("SHM_KO is not set: cannot load shm.ko again");
	EXPECT_EQ(0, system("rmmod shm"));
	/* The sessions went with the module: nothing to delete later. */
	nl_close(self->m.sk[HOST_SRC]);
	nl_close(self->m.sk[HOST_DST]);
	self->m.sk[HOST_SRC] = self->m.sk[HOST_DST] = NULL;
	source_runs_on(_metadata, &self->m);
	ASSERT_EQ(0, hosts_run(&self->m.hosts, HOST_SRC, "insmod %s", ko));
}

TEST_HARNESS_MAIN
