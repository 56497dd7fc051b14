// SPDX-License-Identifier: GPL-2.0
/*
 * The memory engine of shm.ko between two VMs of this process, over TCP on
 * loopback: a source and a destination session attached, memory moved and
 * compared byte for byte, plain and compressed; attach refusals; and a fake
 * source that feeds the destination malformed, out-of-range and truncated
 * frames (compressed ones among them), each of which must fail the session
 * without touching guest memory.
 *
 * The VMs here have memory but no vCPUs: what the guest would dirty is the
 * business of the tests with a running guest.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <shm/wire.h>

#include "kselftest_harness.h"
#include "memvm.h"
#include "nl.h"
#include "proc.h"

#define PAGE 4096
#define STREAMS 2

/* Two memslots, the second above a hole, as a PC has below 4 GiB. */
static const struct {
	uint64_t gpa, size;
} layout[] = {
	{ 0, 6 << 20 },
	{ 16 << 20, 2 << 20 },
};
#define NR_SLOTS (sizeof(layout) / sizeof(layout[0]))

/* A slot the VMM adds during the migration, above the others. */
#define EXTRA NR_SLOTS
#define EXTRA_GPA (32 << 20)
#define EXTRA_SIZE (1 << 20)

static int vm_create(struct memvm *vm, uint8_t fill)
{
	unsigned int i;
	int err = memvm_create(vm);

	for (i = 0; i < NR_SLOTS && !err; i++)
		err = memvm_add_slot(vm, layout[i].gpa, layout[i].size, fill);
	return err;
}

static uint32_t session_state(struct nl_sock *sk, uint32_t id,
			      struct nl_result *res)
{
	if (nl_session_get(sk, id, res) || !res->attrs[SHM_SESSION_A_STATE])
		return 0;
	return nla_get_u32(res->attrs[SHM_SESSION_A_STATE]);
}

/* Waits up to 20 s (TCG is slow) for the session to reach @state. */
static uint32_t wait_state(struct nl_sock *sk, uint32_t id, uint32_t state,
			   struct nl_result *res)
{
	struct timespec tick = { .tv_nsec = 20 * 1000 * 1000 };
	uint32_t now = 0;
	int i;

	for (i = 0; i < 1000; i++) {
		now = session_state(sk, id, res);
		if (now == state || now == SHM_STATE_FAILED ||
		    now == SHM_STATE_CANCELLED || now == SHM_STATE_DONE)
			break;
		nanosleep(&tick, NULL);
	}
	return now;
}

static const char *reason(struct nl_result *res)
{
	return res->attrs[SHM_SESSION_A_REASON] ?
	       nla_get_string(res->attrs[SHM_SESSION_A_REASON]) : "";
}

/* A figure of a reply's or an event's SHM_SESSION_A_STATS. */
static uint64_t stat_of(struct nlattr **attrs, int type)
{
	struct nlattr *tb[SHM_STATS_A_MAX + 1];

	if (!attrs[SHM_SESSION_A_STATS] ||
	    nla_parse_nested(tb, SHM_STATS_A_MAX, attrs[SHM_SESSION_A_STATS],
			     NULL) ||
	    !tb[type])
		return 0;
	return nla_get_u64(tb[type]);
}

static long long monotonic_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec * 1000LL + now.tv_nsec / 1000000;
}

/*
 * The next event @cmd of session @id within @timeout_ms (0: of those that
 * came already), its attributes in @attrs until the next event is read:
 * 0, or -ETIMEDOUT.
 */
static int event_of(struct nl_sock *events, int cmd, uint32_t id,
		    struct nlattr **attrs, int timeout_ms)
{
	long long end = monotonic_ms() + timeout_ms, left;
	int got;

	for (;;) {
		left = end - monotonic_ms();
		got = nl_next_event(events, attrs, left > 0 ? left : 0);
		if (got == -ETIMEDOUT)
			return got;
		if (got == cmd && attrs[SHM_SESSION_A_ID] &&
		    nla_get_u32(attrs[SHM_SESSION_A_ID]) == id)
			return 0;
	}
}

/* Page @i of the source: a third zero, the rest unlike any other page. */
static void fill_source(struct memvm *vm)
{
	uint64_t page = 0, seed = 0x9e3779b97f4a7c15ULL;
	unsigned int s;
	size_t off, w;

	for (s = 0; s < NR_SLOTS; s++) {
		for (off = 0; off < layout[s].size; off += PAGE, page++) {
			uint64_t *words = (uint64_t *)(vm->slots[s].mem + off);

			if (page % 3 == 0) {
				memset(words, 0, PAGE);
				continue;
			}
			for (w = 0; w < PAGE / 8; w++) {
				seed ^= seed << 13;
				seed ^= seed >> 7;
				seed ^= seed << 17;
				words[w] = seed ^ page;
			}
		}
	}
}

FIXTURE(migration) {
	struct nl_sock *sk;
	struct memvm src, dst;
	int src_fds[STREAMS], dst_fds[STREAMS];
	uint32_t src_id, dst_id;
};

FIXTURE_SETUP(migration)
{
	unsigned int i;
	int pair[2];

	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no /dev/kvm");
	self->sk = nl_open();
	ASSERT_NE(NULL, self->sk);
	ASSERT_EQ(0, vm_create(&self->src, 0));
	ASSERT_EQ(0, vm_create(&self->dst, 0xaa));
	for (i = 0; i < STREAMS; i++) {
		ASSERT_EQ(0, tcp_pair(pair));
		self->src_fds[i] = pair[0];
		self->dst_fds[i] = pair[1];
	}
	ASSERT_EQ(0, nl_session_new_streams(self->sk, SHM_ROLE_SOURCE, STREAMS,
					    &self->src_id));
	ASSERT_EQ(0, nl_session_new_streams(self->sk, SHM_ROLE_DESTINATION,
					    STREAMS, &self->dst_id));
}

FIXTURE_TEARDOWN(migration)
{
	unsigned int i;

	if (!self->sk)
		return;
	nl_session_del(self->sk, self->src_id);
	nl_session_del(self->sk, self->dst_id);
	for (i = 0; i < STREAMS; i++) {
		close(self->src_fds[i]);
		close(self->dst_fds[i]);
	}
	memvm_destroy(&self->src);
	memvm_destroy(&self->dst);
	nl_close(self->sk);
}

static int attach_both(struct __test_metadata *_metadata,
		       FIXTURE_DATA(migration) *self)
{
	struct nl_result res;

	EXPECT_EQ(0, nl_session_attach(self->sk, self->dst_id, self->dst.fd,
				       self->dst_fds, STREAMS, &res))
		TH_LOG("%s", res.message);
	EXPECT_EQ(0, nl_session_attach(self->sk, self->src_id, self->src.fd,
				       self->src_fds, STREAMS, &res))
		TH_LOG("%s", res.message);
	return res.error;
}

TEST_F(migration, memory_arrives_byte_exact)
{
	struct nl_result res;
	unsigned int s;

	fill_source(&self->src);
	ASSERT_EQ(0, attach_both(_metadata, self));

	/* Attached: the memslots are reported as the VMM set them up. */
	ASSERT_EQ(0, nl_session_get(self->sk, self->src_id, &res));
	EXPECT_EQ(SHM_STATE_ATTACHED, nla_get_u32(res.attrs[SHM_SESSION_A_STATE]));
	EXPECT_NE(NULL, res.attrs[SHM_SESSION_A_MEMSLOTS]);

	ASSERT_EQ(0, nl_session_cmd(self->sk, SHM_CMD_SESSION_START,
				    self->dst_id, &res)) TH_LOG("%s", res.message);
	ASSERT_EQ(0, nl_session_cmd(self->sk, SHM_CMD_SESSION_START,
				    self->src_id, &res)) TH_LOG("%s", res.message);
	/* No vCPU runs: the final round may follow at once. */
	ASSERT_EQ(0, nl_session_cmd(self->sk, SHM_CMD_SESSION_FINAL,
				    self->src_id, &res)) TH_LOG("%s", res.message);

	EXPECT_EQ(SHM_STATE_DONE, session_state(self->sk, self->src_id, &res));
	EXPECT_LE(2, stat_of(res.attrs, SHM_STATS_A_ROUNDS));
	EXPECT_LT(0, stat_of(res.attrs, SHM_STATS_A_TOTAL_BYTES));
	EXPECT_EQ(SHM_COMPRESS_NEVER,
		  nla_get_u32(res.attrs[SHM_SESSION_A_COMPRESS]));
	EXPECT_EQ(0, stat_of(res.attrs, SHM_STATS_A_TOTAL_LZ4_PAGES));
	EXPECT_EQ(SHM_STATE_DONE, wait_state(self->sk, self->dst_id,
					     SHM_STATE_DONE, &res))
		TH_LOG("destination: %s", reason(&res));
	for (s = 0; s < NR_SLOTS; s++)
		EXPECT_EQ(0, memcmp(self->src.slots[s].mem, self->dst.slots[s].mem,
				    layout[s].size)) TH_LOG("slot %u differs", s);
}

/* Waits until the source, started, finished round 1. */
static void wait_round_one(struct __test_metadata *_metadata,
			   FIXTURE_DATA(migration) *self)
{
	struct timespec tick = { .tv_nsec = 20 * 1000 * 1000 };
	struct nl_result res;
	int i;

	for (i = 0; i < 1000; i++) {
		ASSERT_EQ(SHM_STATE_PRECOPY,
			  session_state(self->sk, self->src_id, &res));
		if (stat_of(res.attrs, SHM_STATS_A_ROUNDS) >= 1)
			return;
		nanosleep(&tick, NULL);
	}
	ASSERT_TRUE(false) TH_LOG("round 1 never ended");
}

/* Starts both sides and waits until the source finished round 1. */
static void start_both(struct __test_metadata *_metadata,
		       FIXTURE_DATA(migration) *self)
{
	struct nl_result res;

	ASSERT_EQ(0, attach_both(_metadata, self));
	ASSERT_EQ(0, nl_session_cmd(self->sk, SHM_CMD_SESSION_START,
				    self->dst_id, &res));
	ASSERT_EQ(0, nl_session_cmd(self->sk, SHM_CMD_SESSION_START,
				    self->src_id, &res));
	wait_round_one(_metadata, self);
}

static void final_round(struct __test_metadata *_metadata,
			FIXTURE_DATA(migration) *self)
{
	struct nl_result res;

	ASSERT_EQ(0, nl_session_cmd(self->sk, SHM_CMD_SESSION_FINAL,
				    self->src_id, &res)) TH_LOG("%s", res.message);
	ASSERT_EQ(SHM_STATE_DONE, wait_state(self->sk, self->dst_id,
					     SHM_STATE_DONE, &res))
		TH_LOG("destination: %s", reason(&res));
}

/*
 * Writes the VMM makes through its own mapping (device emulation) are not
 * in KVM's dirty log: reported, they arrive; unreported, they do not. The
 * second half shows the first is not luck.
 */
TEST_F(migration, vmm_writes_arrive_when_reported)
{
	uint8_t *reported = self->src.slots[0].mem + 100 * PAGE;
	uint8_t *unreported = self->src.slots[0].mem + 200 * PAGE;
	struct nl_range range = { (uintptr_t)reported, 3 * PAGE };
	struct nl_result res;

	fill_source(&self->src);
	start_both(_metadata, self);
	memset(reported, 0x11, 3 * PAGE);
	memset(unreported, 0x22, PAGE);
	ASSERT_EQ(0, nl_session_dirty(self->sk, self->src_id, &range, 1, 0, &res))
		TH_LOG("%s", res.message);
	final_round(_metadata, self);
	EXPECT_EQ(0, memcmp(reported, self->dst.slots[0].mem + 100 * PAGE,
			    3 * PAGE));
	EXPECT_NE(0, memcmp(unreported, self->dst.slots[0].mem + 200 * PAGE, PAGE));

	/* Too late once the final round was asked for. */
	EXPECT_EQ(-EBUSY, nl_session_dirty(self->sk, self->src_id, &range, 1, 0,
					   &res));
}

/*
 * Both sides started, the source with a tracker of its VMM's writes (a
 * destination cannot have one); returns a socket subscribed to events. Its
 * ASSERTs end the test (the harness jumps out of helpers).
 */
static struct nl_sock *start_tracked(struct __test_metadata *_metadata,
				     FIXTURE_DATA(migration) *self)
{
	struct nl_sock *events = nl_open();
	struct nl_result res;

	ASSERT_NE(NULL, events);
	ASSERT_EQ(0, nl_subscribe(events));
	fill_source(&self->src);
	ASSERT_EQ(0, attach_both(_metadata, self));
	EXPECT_EQ(-EINVAL, nl_session_start_tracked(self->sk, self->dst_id, &res));
	EXPECT_STREQ("a tracker of the VMM's writes serves the source",
		     res.message);
	ASSERT_EQ(0, nl_session_cmd(self->sk, SHM_CMD_SESSION_START,
				    self->dst_id, &res));
	ASSERT_EQ(0, nl_session_start_tracked(self->sk, self->src_id, &res))
		TH_LOG("%s", res.message);
	return events;
}

/* The final round, and every slot of the destination as the source's. */
static void final_round_equal(struct __test_metadata *_metadata,
			      FIXTURE_DATA(migration) *self)
{
	unsigned int s;

	final_round(_metadata, self);
	for (s = 0; s < NR_SLOTS; s++)
		EXPECT_EQ(0, memcmp(self->src.slots[s].mem, self->dst.slots[s].mem,
				    layout[s].size)) TH_LOG("slot %u differs", s);
}

/*
 * A tracker of the VMM's writes that scans for them (soft-dirty bits, which
 * see the guest's writes too) is asked at each round's end, and KVM's dirty
 * log is read only once it answered: no round's figures come before its
 * answer, and what it reports goes in the very next round, alone (no vCPU
 * dirties anything here).
 */
TEST_F(migration, tracker_answers_before_the_harvest)
{
	const struct timespec think = { .tv_nsec = 100 * 1000 * 1000 };
	struct nlattr *attrs[NL_MAXATTR + 1];
	struct nl_sock *events = start_tracked(_metadata, self);
	struct nl_range range = { .len = PAGE };
	struct nl_result res;
	uint32_t round;

	for (round = 1; round <= 3; round++) {
		ASSERT_EQ(0, event_of(events, SHM_CMD_SESSION_SCAN,
				      self->src_id, attrs, 20000))
			TH_LOG("no scan asked for after round %u", round);
		ASSERT_EQ(round, nla_get_u32(attrs[SHM_SESSION_A_SCAN_ROUND]));
		nanosleep(&think, NULL);
		ASSERT_EQ(-ETIMEDOUT, event_of(events, SHM_CMD_SESSION_PROGRESS,
					       self->src_id, attrs, 0))
			TH_LOG("round %u was harvested before the tracker answered",
			       round);
		/* A device wrote a page; the tracker found it. */
		range.hva = (uintptr_t)self->src.slots[0].mem + round * 10 * PAGE;
		memset((void *)(uintptr_t)range.hva, round, PAGE);
		ASSERT_EQ(0, nl_session_dirty(self->sk, self->src_id, &range, 1,
					      round, &res))
			TH_LOG("%s", res.message);
		ASSERT_EQ(0, event_of(events, SHM_CMD_SESSION_PROGRESS,
				      self->src_id, attrs, 20000));
		EXPECT_EQ(round, stat_of(attrs, SHM_STATS_A_ROUNDS));
		if (round > 1)
			EXPECT_EQ(1, stat_of(attrs, SHM_STATS_A_DIRTY_PAGES));
	}
	final_round_equal(_metadata, self);
	nl_close(events);
}

/*
 * A tracker that never answers holds each round's end for a second at
 * most (five allowed here, for TCG), not the migration; the writes it
 * reports as they happen still go.
 */
TEST_F(migration, silent_tracker_holds_no_round_for_good)
{
	struct nlattr *attrs[NL_MAXATTR + 1];
	struct nl_sock *events = start_tracked(_metadata, self);
	struct nl_range range = { .len = PAGE };
	struct nl_result res;
	uint32_t round;
	for (round = 1; round <= 2; round++) {
		ASSERT_EQ(0, event_of(events, SHM_CMD_SESSION_SCAN,
				      self->src_id, attrs, 20000))
			TH_LOG("no scan asked for after round %u", round);
		range.hva = (uintptr_t)self->src.slots[1].mem + round * PAGE;
		memset((void *)(uintptr_t)range.hva, round, PAGE);
		ASSERT_EQ(0, nl_session_dirty(self->sk, self->src_id, &range, 1,
					      0, &res));
		ASSERT_EQ(0, event_of(events, SHM_CMD_SESSION_PROGRESS,
				      self->src_id, attrs, 5000))
			TH_LOG("round %u still waits for the tracker", round);
	}
	final_round_equal(_metadata, self);
	nl_close(events);
}

/*
 * While the guest writes nothing no round ends, yet the VMM may write: the
 * tracker is asked again every second, and what it reports then makes the
 * next round.
 */
TEST_F(migration, idle_source_asks_its_tracker_again)
{
	struct nlattr *attrs[NL_MAXATTR + 1];
	struct nl_sock *events = start_tracked(_metadata, self);
	struct nl_range range = {
		.hva = (uintptr_t)self->src.slots[0].mem + 5 * PAGE,
		.len = PAGE,
	};
	struct nl_result res;
	int again;

	ASSERT_EQ(0, event_of(events, SHM_CMD_SESSION_SCAN, self->src_id,
			      attrs, 20000));
	ASSERT_EQ(1, nla_get_u32(attrs[SHM_SESSION_A_SCAN_ROUND]));
	/* Nothing found: round 1's harvest is empty, no round 2 starts. */
	ASSERT_EQ(0, nl_session_dirty(self->sk, self->src_id, NULL, 0, 1, &res))
		TH_LOG("%s", res.message);
	for (again = 0; again < 2; again++) {
		ASSERT_EQ(0, event_of(events, SHM_CMD_SESSION_SCAN,
				      self->src_id, attrs, 5000))
			TH_LOG("asked %d times again, not more", again);
		ASSERT_EQ(1, nla_get_u32(attrs[SHM_SESSION_A_SCAN_ROUND]));
	}
	memset((void *)(uintptr_t)range.hva, 0x5a, PAGE);
	ASSERT_EQ(0, nl_session_dirty(self->sk, self->src_id, &range, 1, 1, &res))
		TH_LOG("%s", res.message);
	ASSERT_EQ(0, event_of(events, SHM_CMD_SESSION_SCAN, self->src_id,
			      attrs, 20000));
	EXPECT_EQ(2, nla_get_u32(attrs[SHM_SESSION_A_SCAN_ROUND]))
		TH_LOG("the page reported did not make round 2");
	final_round_equal(_metadata, self);
	nl_close(events);
}

/*
 * The VMM changes its memslots during pre-copy: a slot added, and logging
 * turned off on another (which drops KVM's log of it). Both are sent whole
 * again, so even a write nobody reported arrives.
 */
TEST_F(migration, memslot_changes_resend_the_slot)
{
	uint8_t *unreported = self->src.slots[1].mem + 7 * PAGE;
	struct nl_result res;
	unsigned int s;

	fill_source(&self->src);
	ASSERT_EQ(0, memvm_add_slot(&self->dst, EXTRA_GPA, EXTRA_SIZE, 0xaa));
	start_both(_metadata, self);
	ASSERT_EQ(0, memvm_add_slot(&self->src, EXTRA_GPA, EXTRA_SIZE, 0x33));
	memset(unreported, 0x44, PAGE);
	ASSERT_EQ(0, memvm_set_flags(&self->src, 1, 0));
	final_round(_metadata, self);
	ASSERT_EQ(0, nl_session_get(self->sk, self->src_id, &res));
	for (s = 0; s < NR_SLOTS; s++)
		EXPECT_EQ(0, memcmp(self->src.slots[s].mem, self->dst.slots[s].mem,
				    layout[s].size)) TH_LOG("slot %u differs", s);
	EXPECT_EQ(0, memcmp(self->src.slots[EXTRA].mem,
			    self->dst.slots[EXTRA].mem, EXTRA_SIZE));
}

/*
 * A PC's RAM is in its SMM address space too: each page of it goes once,
 * and what only SMM maps (SMRAM) goes as well.
 */
TEST_F(migration, memory_in_two_address_spaces_goes_once)
{
	uint64_t pages = EXTRA_SIZE / PAGE;
	struct nl_result res;
	unsigned int s;

	fill_source(&self->src);
	for (s = 0; s < NR_SLOTS; s++)
		pages += layout[s].size / PAGE;
	ASSERT_EQ(0, memvm_add_alias(&self->src, 1, 0));
	ASSERT_EQ(0, memvm_add_slot_as(&self->src, 1, EXTRA_GPA, EXTRA_SIZE, 0x55));
	ASSERT_EQ(0, memvm_add_alias(&self->dst, 1, 0));
	ASSERT_EQ(0, memvm_add_slot_as(&self->dst, 1, EXTRA_GPA, EXTRA_SIZE, 0xaa));
	start_both(_metadata, self);
	ASSERT_EQ(0, nl_session_get(self->sk, self->src_id, &res));
	EXPECT_EQ(pages, stat_of(res.attrs, SHM_STATS_A_DIRTY_PAGES));
	final_round(_metadata, self);
	for (s = 0; s < self->src.nr_slots; s++)
		EXPECT_EQ(0, memcmp(self->src.slots[s].mem, self->dst.slots[s].mem,
				    self->src.slots[s].size))
			TH_LOG("slot %u differs", s);
}

/* A capped session sends no faster than its cap, over all its streams. */
TEST_F(migration, bandwidth_cap_holds)
{
	const uint64_t cap = 2 << 20;
	struct nl_result res;
	struct nl_msg *msg;
	uint64_t bytes, ns;

	ASSERT_EQ(0, nl_session_del(self->sk, self->src_id));
	msg = nl_request(SHM_CMD_SESSION_NEW, 0);
	nla_put_u32(msg, SHM_SESSION_A_ROLE, SHM_ROLE_SOURCE);
	nla_put_u32(msg, SHM_SESSION_A_STREAMS, STREAMS);
	nla_put_u64(msg, SHM_SESSION_A_BANDWIDTH, cap);
	ASSERT_EQ(0, nl_transact(self->sk, msg, &res, NULL, NULL));
	self->src_id = nla_get_u32(res.attrs[SHM_SESSION_A_ID]);

	fill_source(&self->src);
	start_both(_metadata, self);
	ASSERT_EQ(0, nl_session_get(self->sk, self->src_id, &res));
	bytes = stat_of(res.attrs, SHM_STATS_A_BYTES);
	ns = stat_of(res.attrs, SHM_STATS_A_DURATION_NS);
	ASSERT_LT(1 << 20, bytes);
	EXPECT_GE(cap + cap / 10, bytes * 1000000000ULL / ns)
		TH_LOG("%llu bytes in %llu ms", (unsigned long long)bytes,
		       (unsigned long long)ns / 1000000);
	final_round(_metadata, self);
}

/*
 * How many of session @id's threads are in uninterruptible sleep, and how
 * many there are: its kernel threads are named "shm-ID-..." (kthread_run()
 * in kmod/engine.c).
 */
static int threads_asleep_hung(uint32_t id, int *threads)
{
	char prefix[32], path[64], name[32], state;
	struct dirent *entry;
	int hung = 0;
	DIR *proc;

	snprintf(prefix, sizeof(prefix), "shm-%u-", id);
	*threads = 0;
	proc = opendir("/proc");
	if (!proc)
		return -1;
	while ((entry = readdir(proc))) {
		snprintf(path, sizeof(path), "/proc/%.20s/stat", entry->d_name);
		state = proc_state(path, name, sizeof(name));
		if (!state || strncmp(name, prefix, strlen(prefix)))
			continue;
		(*threads)++;
		hung += state == 'D';
	}
	closedir(proc);
	return hung;
}

/*
 * Between rounds the streams wait for the next one, as long as the guest
 * writes nothing, and the control thread waits for a round as long as the
 * link takes: idle sleep, which neither the hung task detector (a host
 * with hung_task_panic set would go down) nor the load average counts.
 */
TEST_F(migration, waiting_threads_are_idle_not_hung)
{
	struct timespec tick = { .tv_nsec = 50 * 1000 * 1000 };
	int i, src_threads, dst_threads, hung = 0;

	fill_source(&self->src);
	start_both(_metadata, self);
	for (i = 0; i < 10; i++) {
		hung += threads_asleep_hung(self->src_id, &src_threads);
		hung += threads_asleep_hung(self->dst_id, &dst_threads);
		nanosleep(&tick, NULL);
	}
	EXPECT_EQ(0, hung) TH_LOG("in 10 looks, %d threads in uninterruptible sleep",
				  hung);
	/* Two streams each, and the source's control thread. */
	EXPECT_EQ(STREAMS + 1, src_threads);
	EXPECT_EQ(STREAMS, dst_threads);
	final_round(_metadata, self);
}

TEST_F(migration, zero_pages_travel_as_flags)
{
	struct nl_result res;
	uint64_t pages = 0, total;
	unsigned int s;

	/* An all-zero source: almost nothing but frame headers on the wire. */
	for (s = 0; s < NR_SLOTS; s++)
		pages += layout[s].size / PAGE;
	ASSERT_EQ(0, attach_both(_metadata, self));
	ASSERT_EQ(0, nl_session_cmd(self->sk, SHM_CMD_SESSION_START,
				    self->dst_id, &res));
	ASSERT_EQ(0, nl_session_cmd(self->sk, SHM_CMD_SESSION_START,
				    self->src_id, &res));
	ASSERT_EQ(0, nl_session_cmd(self->sk, SHM_CMD_SESSION_FINAL,
				    self->src_id, &res)) TH_LOG("%s", res.message);
	ASSERT_EQ(SHM_STATE_DONE, session_state(self->sk, self->src_id, &res));
	total = stat_of(res.attrs, SHM_STATS_A_TOTAL_BYTES);
	EXPECT_GT(pages * PAGE / 100, total) TH_LOG("%llu bytes sent",
						    (unsigned long long)total);
	EXPECT_EQ(SHM_STATE_DONE, wait_state(self->sk, self->dst_id,
					     SHM_STATE_DONE, &res));
	for (s = 0; s < NR_SLOTS; s++)
		EXPECT_EQ(NULL, memchr(self->dst.slots[s].mem, 0xaa, layout[s].size));
}

/*
 * For compression: fill_source's zero and unlike pages, and every third
 * page (page % 3 == 2) one byte repeated but for its number, which LZ4
 * makes a few dozen bytes of. The unlike pages go as they are.
 */
static void fill_shrinkable(struct memvm *vm, uint64_t *unlike,
			    uint64_t *shrinkable)
{
	uint64_t page = 0;
	unsigned int s;
	size_t off;

	fill_source(vm);
	*unlike = *shrinkable = 0;
	for (s = 0; s < NR_SLOTS; s++) {
		for (off = 0; off < layout[s].size; off += PAGE, page++) {
			uint8_t *p = vm->slots[s].mem + off;

			if (page % 3 == 1) {
				(*unlike)++;
				continue;
			}
			if (page % 3 == 0)
				continue;
			memset(p, 'a' + page % 26, PAGE);
			memcpy(p + PAGE / 2, &page, sizeof(page));
			(*shrinkable)++;
		}
	}
}

/* Both sessions anew: the source compresses as @compress says. */
static void compressing(struct __test_metadata *_metadata,
			FIXTURE_DATA(migration) *self, uint32_t compress,
			uint64_t bandwidth)
{
	ASSERT_EQ(0, nl_session_del(self->sk, self->src_id));
	ASSERT_EQ(0, nl_session_del(self->sk, self->dst_id));
	ASSERT_EQ(0, nl_session_new_compressing(self->sk, SHM_ROLE_SOURCE,
						STREAMS, compress, bandwidth,
						&self->src_id));
	ASSERT_EQ(0, nl_session_new_compressing(self->sk,
						SHM_ROLE_DESTINATION, STREAMS,
						compress, 0, &self->dst_id));
}

TEST_F(migration, compressed_pages_arrive_byte_exact)
{
	uint64_t unlike, shrinkable, total;
	struct nl_result res;

	fill_shrinkable(&self->src, &unlike, &shrinkable);
	compressing(_metadata, self, SHM_COMPRESS_ALWAYS, 0);
	start_both(_metadata, self);
	final_round_equal(_metadata, self);

	ASSERT_EQ(SHM_STATE_DONE, session_state(self->sk, self->src_id, &res));
	EXPECT_EQ(SHM_COMPRESS_ALWAYS,
		  nla_get_u32(res.attrs[SHM_SESSION_A_COMPRESS]));
	total = stat_of(res.attrs, SHM_STATS_A_TOTAL_BYTES);
	EXPECT_EQ(unlike + shrinkable,
		  stat_of(res.attrs, SHM_STATS_A_TOTAL_SENT_PAGES));
	EXPECT_EQ(shrinkable, stat_of(res.attrs, SHM_STATS_A_TOTAL_LZ4_PAGES));
	EXPECT_LT(unlike * PAGE, total);
	EXPECT_GT(unlike * PAGE + shrinkable * PAGE / 20, total)
		TH_LOG("%llu bytes sent for %llu unlike and %llu shrinkable pages",
		       (unsigned long long)total, (unsigned long long)unlike,
		       (unsigned long long)shrinkable);
}

/*
 * SHM_COMPRESS_AUTO packs pages only while the link holds the source back
 * (@bandwidth: its cap; @unread: the destination reads nothing at first
 * from streams of small socket buffers). The first pages of each stream
 * go as they are, the link not yet full; later the pages LZ4 shrinks go
 * packed.
 */
static void auto_compressed(struct __test_metadata *_metadata,
			    FIXTURE_DATA(migration) *self, uint64_t bandwidth,
			    bool unread)
{
	struct timespec stalled = { .tv_nsec = 300 * 1000 * 1000 };
	uint64_t unlike, shrinkable, packed;
	int small = 64 << 10;
	struct nl_result res;
	unsigned int i;

	fill_shrinkable(&self->src, &unlike, &shrinkable);
	for (i = 0; unread && i < STREAMS; i++) {
		ASSERT_EQ(0, setsockopt(self->src_fds[i], SOL_SOCKET, SO_SNDBUF,
					&small, sizeof(small)));
		ASSERT_EQ(0, setsockopt(self->dst_fds[i], SOL_SOCKET, SO_RCVBUF,
					&small, sizeof(small)));
	}
	compressing(_metadata, self, SHM_COMPRESS_AUTO, bandwidth);
	ASSERT_EQ(0, attach_both(_metadata, self));
	ASSERT_EQ(0, nl_session_cmd(self->sk, SHM_CMD_SESSION_START,
				    self->src_id, &res));
	if (unread)
		nanosleep(&stalled, NULL);
	ASSERT_EQ(0, nl_session_cmd(self->sk, SHM_CMD_SESSION_START,
				    self->dst_id, &res));
	wait_round_one(_metadata, self);
	final_round_equal(_metadata, self);

	ASSERT_EQ(SHM_STATE_DONE, session_state(self->sk, self->src_id, &res));
	EXPECT_EQ(SHM_COMPRESS_AUTO,
		  nla_get_u32(res.attrs[SHM_SESSION_A_COMPRESS]));
	EXPECT_EQ(unlike + shrinkable,
		  stat_of(res.attrs, SHM_STATS_A_TOTAL_SENT_PAGES));
	packed = stat_of(res.attrs, SHM_STATS_A_TOTAL_LZ4_PAGES);
	EXPECT_LT(0, packed);
	EXPECT_GT(shrinkable, packed)
		TH_LOG("%llu of %llu shrinkable pages packed",
		       (unsigned long long)packed,
		       (unsigned long long)shrinkable);
}

TEST_F(migration, auto_compresses_while_the_link_is_full)
{
	auto_compressed(_metadata, self, 0, true);
}

/* 16 MB/s: round 1, some 3 MB of pages as they are, takes a fifth of a second. */
TEST_F(migration, auto_compresses_under_the_bandwidth_cap)
{
	auto_compressed(_metadata, self, 16000000, false);
}

TEST_F(migration, cancel_leaves_source_and_fails_destination)
{
	struct nl_result res;

	fill_source(&self->src);
	ASSERT_EQ(0, attach_both(_metadata, self));
	ASSERT_EQ(0, nl_session_cmd(self->sk, SHM_CMD_SESSION_START,
				    self->dst_id, &res));
	ASSERT_EQ(0, nl_session_cmd(self->sk, SHM_CMD_SESSION_START,
				    self->src_id, &res));
	ASSERT_EQ(0, nl_session_cmd(self->sk, SHM_CMD_SESSION_CANCEL,
				    self->src_id, &res));
	EXPECT_EQ(SHM_STATE_CANCELLED,
		  session_state(self->sk, self->src_id, &res));
	EXPECT_STREQ("cancelled by user", reason(&res));
	/* The source's end closed: the destination must not wait forever. */
	EXPECT_EQ(SHM_STATE_FAILED, wait_state(self->sk, self->dst_id,
					       SHM_STATE_FAILED, &res));
	TH_LOG("destination: %s", reason(&res));
	EXPECT_EQ(-EINVAL, nl_session_cmd(self->sk, SHM_CMD_SESSION_CANCEL,
					  self->src_id, &res));
}

TEST_F(migration, final_needs_precopy_and_a_source)
{
	struct nl_result res;

	EXPECT_EQ(-EBUSY, nl_session_cmd(self->sk, SHM_CMD_SESSION_FINAL,
					 self->src_id, &res));
	EXPECT_STREQ("only a session in pre-copy can cut over", res.message);
	EXPECT_EQ(-EBUSY, nl_session_cmd(self->sk, SHM_CMD_SESSION_START,
					 self->src_id, &res));
	EXPECT_STREQ("only an attached session can start", res.message);
	ASSERT_EQ(0, attach_both(_metadata, self));
	ASSERT_EQ(0, nl_session_cmd(self->sk, SHM_CMD_SESSION_START,
				    self->dst_id, &res));
	EXPECT_EQ(-EINVAL, nl_session_cmd(self->sk, SHM_CMD_SESSION_FINAL,
					  self->dst_id, &res));
	EXPECT_STREQ("the final round is the source's to send", res.message);
}

/* Whether the @len bytes at @mem are all @fill. */
static bool all_of(const uint8_t *mem, size_t len, uint8_t fill)
{
	return mem[0] == fill && !memcmp(mem, mem + 1, len - 1);
}

/* The pages the destination took, zero ones too, once still for 1 s. */
static uint64_t pages_when_still(struct __test_metadata *_metadata,
				 FIXTURE_DATA(migration) *self)
{
	struct timespec tick = { .tv_nsec = 100 * 1000 * 1000 };
	uint64_t pages = 0, last = 0;
	struct nl_result res;
	int i, still = 0;

	for (i = 0; i < 300 && still < 10; i++) {
		nanosleep(&tick, NULL);
		EXPECT_EQ(SHM_STATE_PRECOPY,
			  session_state(self->sk, self->dst_id, &res))
			TH_LOG("destination: %s", reason(&res));
		pages = stat_of(res.attrs, SHM_STATS_A_TOTAL_SENT_PAGES) +
			stat_of(res.attrs, SHM_STATS_A_TOTAL_ZERO_PAGES);
		still = pages && pages == last ? still + 1 : 0;
		last = pages;
	}
	return pages;
}

/*
 * A destination whose VMM still starts takes its streams first: pages
 * come and wait, up to SHM_EARLY_BYTES (then the streams stop reading),
 * and go into the VM once it is attached. Here the VM is bigger than
 * that, and its memory stays untouched until then.
 */
TEST_F(migration, pages_wait_for_the_destination_vm)
{
	const uint64_t early = SHM_EARLY_BYTES / PAGE, big = 80 << 20;
	struct memvm *vm[] = { &self->src, &self->dst };
	struct nl_result res;
	unsigned int s, i;
	uint64_t pages;

	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, memvm_add_slot(vm[i], EXTRA_GPA, big, i ? 0xaa : 0x5c));
	fill_source(&self->src);
	ASSERT_EQ(0, nl_session_attach(self->sk, self->dst_id, -1,
				       self->dst_fds, STREAMS, &res))
		TH_LOG("%s", res.message);
	EXPECT_EQ(-EBUSY, nl_session_attach_vm(self->sk, self->src_id,
					       self->src.fd, &res));
	EXPECT_EQ(-EINVAL, nl_session_attach(self->sk, self->src_id, -1,
					     self->src_fds, STREAMS, &res));
	EXPECT_STREQ("a source attaches with its VM", res.message);
	ASSERT_EQ(0, nl_session_attach(self->sk, self->src_id, self->src.fd,
				       self->src_fds, STREAMS, &res));
	EXPECT_EQ(-EBUSY, nl_session_attach_vm(self->sk, self->src_id,
					       self->src.fd, &res));
	EXPECT_STREQ("only a destination session attached without its VM takes one",
		     res.message);
	ASSERT_EQ(0, nl_session_cmd(self->sk, SHM_CMD_SESSION_START,
				    self->dst_id, &res));
	ASSERT_EQ(0, nl_session_cmd(self->sk, SHM_CMD_SESSION_START,
				    self->src_id, &res));

	pages = pages_when_still(_metadata, self);
	EXPECT_LE(early, pages);
	EXPECT_GT(early + STREAMS * SHM_WIRE_MAX_RUN, pages);
	for (s = 0; s < self->dst.nr_slots; s++)
		EXPECT_TRUE(all_of(self->dst.slots[s].mem,
				   self->dst.slots[s].size, 0xaa))
			TH_LOG("slot %u written before the VM was there", s);

	ASSERT_EQ(0, nl_session_attach_vm(self->sk, self->dst_id,
					  self->dst.fd, &res))
		TH_LOG("%s", res.message);
	EXPECT_NE(NULL, res.attrs[SHM_SESSION_A_MEMSLOTS]);
	EXPECT_EQ(-EBUSY, nl_session_attach_vm(self->sk, self->dst_id,
					       self->dst.fd, &res));
	wait_round_one(_metadata, self);
	final_round(_metadata, self);
	for (s = 0; s < NR_SLOTS; s++)
		EXPECT_EQ(0, memcmp(self->src.slots[s].mem, self->dst.slots[s].mem,
				    layout[s].size)) TH_LOG("slot %u differs", s);
	EXPECT_EQ(0, memcmp(self->src.slots[EXTRA].mem,
			    self->dst.slots[EXTRA].mem, big));
}

TEST_F(migration, attach_refusals)
{
	int pipefd[2], udp = socket(AF_INET, SOCK_DGRAM, 0);
	int fds[STREAMS + 1];
	struct nl_result res;

	ASSERT_EQ(0, pipe(pipefd));
	EXPECT_EQ(-EINVAL, nl_session_attach(self->sk, self->src_id, pipefd[0],
					     self->src_fds, STREAMS, &res));
	EXPECT_STREQ("the file descriptor is not a KVM VM", res.message);
	EXPECT_EQ(-EBADF, nl_session_attach(self->sk, self->src_id, 9999,
					    self->src_fds, STREAMS, &res));

	memcpy(fds, self->src_fds, sizeof(self->src_fds));
	fds[0] = pipefd[0];
	EXPECT_EQ(-ENOTSOCK, nl_session_attach(self->sk, self->src_id,
					       self->src.fd, fds, STREAMS,
					       &res));
	fds[0] = udp;
	EXPECT_EQ(-EINVAL, nl_session_attach(self->sk, self->src_id,
					     self->src.fd, fds, STREAMS, &res));
	EXPECT_STREQ("a stream descriptor is not a TCP socket", res.message);
	EXPECT_EQ(-EINVAL, nl_session_attach(self->sk, self->src_id,
					     self->src.fd, self->src_fds, 1,
					     &res));
	EXPECT_STREQ("fewer stream sockets than the session has streams",
		     res.message);
	memcpy(fds, self->src_fds, sizeof(self->src_fds));
	fds[STREAMS] = self->src_fds[0];
	EXPECT_EQ(-EINVAL, nl_session_attach(self->sk, self->src_id,
					     self->src.fd, fds, STREAMS + 1,
					     &res));
	EXPECT_STREQ("more stream sockets than the session has streams",
		     res.message);
	EXPECT_EQ(SHM_STATE_NEW, session_state(self->sk, self->src_id, &res));

	ASSERT_EQ(0, nl_session_attach(self->sk, self->src_id, self->src.fd,
				       self->src_fds, STREAMS, &res));
	EXPECT_EQ(-EBUSY, nl_session_attach(self->sk, self->src_id,
					    self->src.fd, self->src_fds,
					    STREAMS, &res));
	EXPECT_STREQ("only a new session can be attached", res.message);
	close(pipefd[0]);
	close(pipefd[1]);
	close(udp);
}

/*
 * A fake source: the test writes frames by hand to a destination session
 * with one stream. Each variant sends a sequence that must be refused.
 */
FIXTURE(fake_source) {
	struct nl_sock *sk;
	struct memvm dst;
	int peer, stream;
	uint32_t id;
};

struct frame_spec {
	uint8_t type, flags;
	uint16_t as_id, reserved;
	uint32_t round, count;
	uint64_t arg;
	int payload;	/* bytes of page data after the header */
	/*
	 * Or an LZ4 block that makes this many bytes of page data; count,
	 * when 0, is its length.
	 */
	int lz4_makes;
};

/* Where a page held for a gfn the destination does not map may go. */
enum held_place {
	HELD_NONE,		/* no page held */
	HELD_NOWHERE,		/* PLACE finds no place */
	HELD_NEW_SLOT,		/* a memslot added there meanwhile */
	HELD_IN_SLOT_0,		/* a place inside slot 0's mapping */
	HELD_IN_OTHER_MAPPING,	/* a place outside guest memory: refused */
};

FIXTURE_VARIANT(fake_source) {
	struct frame_spec frames[12];
	int nr_frames;
	const char *reason;	/* NULL: the session must be DONE */
	/* What was valid before the refusal may have been written. */
	bool partial;
	int written;		/* pages from gfn 5 a valid sequence writes */
	enum held_place held;	/* a page for HOLE_GFN came */
	bool no_vm;		/* the session attached without its VM */
	bool compressed;	/* the source said it would compress */
};

FIXTURE_SETUP(fake_source)
{
	struct nl_result res;
	int pair[2];

	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no /dev/kvm");
	self->sk = nl_open();
	ASSERT_NE(NULL, self->sk);
	ASSERT_EQ(0, vm_create(&self->dst, 0xaa));
	ASSERT_EQ(0, tcp_pair(pair));
	self->peer = pair[0];
	self->stream = pair[1];
	ASSERT_EQ(0, nl_session_new_compressing(self->sk, SHM_ROLE_DESTINATION,
						1, variant->compressed ?
						SHM_COMPRESS_AUTO :
						SHM_COMPRESS_NEVER, 0,
						&self->id));
	ASSERT_EQ(0, nl_session_attach(self->sk, self->id,
				       variant->no_vm ? -1 : self->dst.fd,
				       &self->stream, 1, &res));
	ASSERT_EQ(0, nl_session_cmd(self->sk, SHM_CMD_SESSION_START, self->id,
				    &res));
}

FIXTURE_TEARDOWN(fake_source)
{
	if (!self->sk)
		return;
	nl_session_del(self->sk, self->id);
	close(self->peer);
	close(self->stream);
	memvm_destroy(&self->dst);
	nl_close(self->sk);
}

#define HELLO { .type = SHM_WIRE_HELLO, .round = SHM_PROTOCOL_VERSION, .arg = 1 }
#define PAGES_AT(gfn, n) { .type = SHM_WIRE_PAGE, .round = 1, .arg = (gfn), \
			   .count = (n), .payload = (n) * PAGE }
#define PAGE_AT(gfn) PAGES_AT(gfn, 1)
#define END(n) { .type = SHM_WIRE_ROUND_END, .round = 1, .count = (n), \
		 .flags = SHM_WIRE_F_FINAL }

FIXTURE_VARIANT_ADD(fake_source, valid) {
	.frames = { HELLO, PAGE_AT(5), END(1) }, .nr_frames = 3, .written = 1,
};
FIXTURE_VARIANT_ADD(fake_source, valid_run) {
	.frames = { HELLO, PAGES_AT(5, 3), END(3) }, .nr_frames = 3, .written = 3,
};
/* A source pauses its VM only once the destination has one. */
FIXTURE_VARIANT_ADD(fake_source, final_round_before_the_vm) {
	.frames = { HELLO, PAGE_AT(5), END(1) }, .nr_frames = 3, .no_vm = true,
	.reason = "the final round before the destination had its VM",
};
FIXTURE_VARIANT_ADD(fake_source, empty_page_frame) {
	.frames = { HELLO, PAGES_AT(5, 0) }, .nr_frames = 2,
	.reason = "malformed page frame",
};
FIXTURE_VARIANT_ADD(fake_source, page_run_across_shards) {
	.frames = { HELLO, PAGES_AT(510, 4) }, .nr_frames = 2,
	.reason = "pages of another stream's shard",
};
FIXTURE_VARIANT_ADD(fake_source, not_shm) {
	.frames = { { .type = 0x47, .round = 1 } }, .nr_frames = 1,
	.reason = "the peer does not speak shm",
};
FIXTURE_VARIANT_ADD(fake_source, other_version) {
	.frames = { { .type = SHM_WIRE_HELLO, .round = 99, .arg = 1 } },
	.nr_frames = 1,
	.reason = "the peer speaks another protocol version",
};
FIXTURE_VARIANT_ADD(fake_source, other_stream_count) {
	.frames = { { .type = SHM_WIRE_HELLO, .round = SHM_PROTOCOL_VERSION,
		      .arg = 2 } }, .nr_frames = 1,
	.reason = "streams connected in another order or number",
};
/* The hole between the two slots: held, then placed, or not. */
#define HOLE_GFN (8 << 8)
#define HELD { HELLO, PAGE_AT(HOLE_GFN), END(1) }, .nr_frames = 3
FIXTURE_VARIANT_ADD(fake_source, held_without_place) {
	.frames = HELD, .held = HELD_NOWHERE,
};
FIXTURE_VARIANT_ADD(fake_source, held_placed_in_new_slot) {
	.frames = HELD, .held = HELD_NEW_SLOT,
};
FIXTURE_VARIANT_ADD(fake_source, held_placed_where_told) {
	.frames = HELD, .held = HELD_IN_SLOT_0,
};
FIXTURE_VARIANT_ADD(fake_source, held_place_outside_guest_memory) {
	.frames = HELD, .held = HELD_IN_OTHER_MAPPING,
};
#define ZEROS_AT(gfn) { .type = SHM_WIRE_ZERO, .round = 1, .arg = (gfn), \
			.count = SHM_WIRE_MAX_RUN }
FIXTURE_VARIANT_ADD(fake_source, too_many_held) {
	.frames = { HELLO, ZEROS_AT(64 << 8), ZEROS_AT((64 << 8) + 512),
		    ZEROS_AT((64 << 8) + 1024), ZEROS_AT((64 << 8) + 1536),
		    ZEROS_AT((64 << 8) + 2048), ZEROS_AT((64 << 8) + 2560),
		    ZEROS_AT((64 << 8) + 3072), ZEROS_AT((64 << 8) + 3584),
		    ZEROS_AT((64 << 8) + 4096) }, .nr_frames = 10,
	.reason = "too many pages for addresses the VM does not map",
};
FIXTURE_VARIANT_ADD(fake_source, gfn_huge) {
	.frames = { HELLO, PAGE_AT(~0ULL) }, .nr_frames = 2,
	.reason = "pages outside any VM's memory",
};
FIXTURE_VARIANT_ADD(fake_source, third_address_space) {
	.frames = { HELLO, { .type = SHM_WIRE_PAGE, .as_id = 2, .round = 1,
			     .arg = 5, .count = 1, .payload = PAGE } },
	.nr_frames = 2,
	.reason = "pages outside any VM's memory",
};
FIXTURE_VARIANT_ADD(fake_source, zero_run_too_long) {
	.frames = { HELLO, { .type = SHM_WIRE_ZERO, .round = 1, .arg = 0,
			     .count = SHM_WIRE_MAX_RUN + 1 } }, .nr_frames = 2,
	.reason = "malformed zero run",
};
FIXTURE_VARIANT_ADD(fake_source, wrong_round) {
	.frames = { HELLO, { .type = SHM_WIRE_PAGE, .round = 2, .arg = 5,
			     .count = 1, .payload = PAGE } }, .nr_frames = 2,
	.reason = "frame of the wrong round",
};
FIXTURE_VARIANT_ADD(fake_source, replayed_round) {
	.frames = { HELLO, { .type = SHM_WIRE_ROUND_END, .round = 1 },
		    PAGE_AT(5) }, .nr_frames = 3,
	.reason = "frame of the wrong round",
};
FIXTURE_VARIANT_ADD(fake_source, round_end_miscounts) {
	.frames = { HELLO, PAGE_AT(5), END(7) }, .nr_frames = 3,
	.reason = "round end counts other pages than arrived", .partial = true,
};
FIXTURE_VARIANT_ADD(fake_source, reserved_field_set) {
	.frames = { HELLO, { .type = SHM_WIRE_PAGE, .round = 1, .arg = 5,
			     .count = 1, .reserved = 1, .payload = PAGE } },
	.nr_frames = 2,
	.reason = "bad frame header",
};
FIXTURE_VARIANT_ADD(fake_source, unknown_type) {
	.frames = { HELLO, { .type = 0x7f, .round = 1 } }, .nr_frames = 2,
	.reason = "unexpected frame type",
};
#define LZ4_AT(gfn) { .type = SHM_WIRE_LZ4, .round = 1, .arg = (gfn), \
		      .lz4_makes = PAGE }
FIXTURE_VARIANT_ADD(fake_source, compressed_page) {
	.frames = { HELLO, LZ4_AT(5), END(1) }, .nr_frames = 3, .written = 1,
	.compressed = true,
};
FIXTURE_VARIANT_ADD(fake_source, compressed_page_held) {
	.frames = { HELLO, LZ4_AT(HOLE_GFN), END(1) }, .nr_frames = 3,
	.held = HELD_IN_SLOT_0, .compressed = true,
};
FIXTURE_VARIANT_ADD(fake_source, compressed_page_unannounced) {
	.frames = { HELLO, LZ4_AT(5) }, .nr_frames = 2,
	.reason = "a compressed page from a source that said it would not compress",
};
/* An LZ4 frame for gfn 5, its other fields as given, refused for WHY. */
#define LZ4_REFUSED(name, why, ...)					\
	FIXTURE_VARIANT_ADD(fake_source, name) {			\
		.frames = { HELLO, { .type = SHM_WIRE_LZ4, .round = 1,	\
				     .arg = 5, __VA_ARGS__ } },		\
		.nr_frames = 2, .reason = why, .compressed = true,	\
	}
LZ4_REFUSED(compressed_page_empty, "malformed compressed page", .count = 0);
LZ4_REFUSED(compressed_page_too_long, "malformed compressed page",
	    .count = SHM_WIRE_LZ4_MAX + 1, .payload = SHM_WIRE_LZ4_MAX + 1);
LZ4_REFUSED(compressed_page_with_flags, "malformed compressed page",
	    .flags = 1, .lz4_makes = PAGE);
/* 0x5a as LZ4: five literals, then a match 23130 bytes back, before any. */
LZ4_REFUSED(compressed_page_not_lz4,
	    "a compressed page that does not make one page",
	    .count = 100, .payload = 100);
LZ4_REFUSED(compressed_half_page,
	    "a compressed page that does not make one page",
	    .lz4_makes = PAGE / 2);
LZ4_REFUSED(compressed_page_truncated, "stream 0 from the source failed",
	    .count = 100, .lz4_makes = PAGE);
FIXTURE_VARIANT_ADD(fake_source, compressed_page_outside_memory) {
	.frames = { HELLO, LZ4_AT(~0ULL) }, .nr_frames = 2,
	.reason = "pages outside any VM's memory", .compressed = true,
};
FIXTURE_VARIANT_ADD(fake_source, truncated_page) {
	.frames = { HELLO, { .type = SHM_WIRE_PAGE, .round = 1, .arg = 5,
			     .count = 1, .payload = 100 } }, .nr_frames = 2,
	.reason = "stream 0 from the source failed", .partial = true,
};

/*
 * An LZ4 block (no frame header) into @out that makes @len (13 or more)
 * bytes of 0x5a, the fake source's page data: one literal, a match of the
 * byte before for all but the last five, which LZ4 wants as literals.
 * Returns its length.
 */
static int lz4_block_of_5a(uint8_t *out, int len)
{
	int n = 0, match = len - 1 - 5 - 4;	/* LZ4 counts from 4 */

	out[n++] = 0x10 | (match < 15 ? match : 15);
	out[n++] = 0x5a;
	out[n++] = 1;	/* the offset, 16-bit little endian */
	out[n++] = 0;
	if (match >= 15) {
		for (match -= 15; match >= 255; match -= 255)
			out[n++] = 255;
		out[n++] = match;
	}
	out[n++] = 0x50;	/* five literals, nothing after */
	memset(out + n, 0x5a, 5);
	return n + 5;
}

static int send_frame(int fd, const struct frame_spec *spec)
{
	static uint8_t page[4 * PAGE];
	uint8_t block[64];
	int block_len = spec->lz4_makes ?
			lz4_block_of_5a(block, spec->lz4_makes) : 0;
	struct shm_wire_frame f = {
		.magic = htobe16(spec->type == 0x47 ? 0x4745 : SHM_WIRE_MAGIC),
		.type = spec->type,
		.flags = spec->flags,
		.as_id = htobe16(spec->as_id),
		.reserved = htobe16(spec->reserved),
		.round = htobe32(spec->round),
		.count = htobe32(spec->count ?: block_len),
		.arg = htobe64(spec->arg),
	};

	memset(page, 0x5a, sizeof(page));
	if (send(fd, &f, sizeof(f), 0) != sizeof(f))
		return -errno;
	if (spec->payload && send(fd, page, spec->payload, 0) != spec->payload)
		return -errno;
	if (block_len && send(fd, block, block_len, 0) != block_len)
		return -errno;
	return 0;
}

/* The page held for HOLE_GFN, placed as @how says. */
static void place_held(struct __test_metadata *_metadata,
		       FIXTURE_DATA(fake_source) *self, enum held_place how)
{
	struct nl_place place = { .gpa = (uint64_t)HOLE_GFN * PAGE, .len = PAGE };
	uint8_t *other = NULL, *at = NULL;
	struct nl_result res;
	int err;

	switch (how) {
	case HELD_NEW_SLOT:
		ASSERT_EQ(0, memvm_add_slot(&self->dst, place.gpa, 1 << 20, 0xaa));
		at = self->dst.slots[NR_SLOTS].mem;
		break;
	case HELD_IN_SLOT_0:
		at = self->dst.slots[0].mem + (1 << 20);
		place.hva = (uintptr_t)at;
		break;
	case HELD_IN_OTHER_MAPPING:
		other = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, other);
		place.hva = (uintptr_t)other;
		break;
	default:
		break;
	}
	err = nl_session_place(self->sk, self->id, self->dst.fd, &place,
			       place.hva ? 1 : 0, &res);
	TH_LOG("place: %d %s", err, res.message);
	if (at) {
		EXPECT_EQ(0, err);
		EXPECT_EQ(0x5a, at[0]);
		EXPECT_EQ(0x5a, at[PAGE - 1]);
		EXPECT_EQ(0xaa, at[PAGE]);
	} else {
		EXPECT_EQ(how == HELD_NOWHERE ? -ENXIO : -EINVAL, err);
	}
	if (other) {
		EXPECT_EQ(0, other[0]);
		munmap(other, PAGE);
	}
}

TEST_F(fake_source, refused_or_applied)
{
	struct nl_result res;
	unsigned int s;
	int i;

	for (i = 0; i < variant->nr_frames; i++)
		ASSERT_EQ(0, send_frame(self->peer, &variant->frames[i]));
	/* A truncated page only shows once the peer is gone. */
	shutdown(self->peer, SHUT_WR);

	if (!variant->reason) {
		struct shm_wire_frame ack;

		ASSERT_EQ(sizeof(ack), recv(self->peer, &ack, sizeof(ack),
					    MSG_WAITALL));
		EXPECT_EQ(SHM_WIRE_ACK, ack.type);
		EXPECT_EQ(SHM_STATE_DONE, wait_state(self->sk, self->id,
						     SHM_STATE_DONE, &res))
			TH_LOG("%s", reason(&res));
		if (variant->held) {
			place_held(_metadata, self, variant->held);
			return;
		}
		EXPECT_EQ(0xaa, self->dst.slots[0].mem[5 * PAGE - 1]);
		EXPECT_EQ(0x5a, self->dst.slots[0].mem[5 * PAGE]);
		EXPECT_EQ(0x5a, self->dst.slots[0].mem[(5 + variant->written) *
							PAGE - 1]);
		EXPECT_EQ(0xaa, self->dst.slots[0].mem[(5 + variant->written) *
							PAGE]);
		return;
	}
	ASSERT_EQ(SHM_STATE_FAILED, wait_state(self->sk, self->id,
					       SHM_STATE_FAILED, &res));
	TH_LOG("reason: %s", reason(&res));
	EXPECT_NE(NULL, strstr(reason(&res), variant->reason));
	/* Guest memory is as it was: nothing of a refused frame landed. */
	for (s = 0; s < NR_SLOTS && !variant->partial; s++) {
		size_t off;

		for (off = 0; off < layout[s].size; off++)
			if (self->dst.slots[s].mem[off] != 0xaa)
				break;
		EXPECT_EQ(layout[s].size, off) TH_LOG("slot %u byte %zu", s, off);
	}
}

TEST_HARNESS_MAIN
