// SPDX-License-Identifier: GPL-2.0
/*
 * How shmctl migrate combines the two hosts' halves of the downtime
 * (user/measure.h), against a fake destination on a socketpair that
 * answers CLOCK as shmctl serve would: on one kernel the figures are the
 * plain difference; with another boot id (another machine) its clock is
 * matched by the exchange, within the uncertainty the report states,
 * whatever the offset between the clocks; a half that is missing or runs
 * backwards is "not measured", with the destination's reason.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "link.h"
#include "measure.h"

#define MS	1000000ULL

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ULL + t.tv_nsec;
}

static void boot_id(char *id, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	if (!f || !fgets(id, len, f))
		snprintf(id, len, "unknown");
	id[strcspn(id, "\n")] = '\0';
	if (f)
		fclose(f);
}

/*
 * The destination: its clock runs @offset ns ahead of ours; the VM first
 * ran there @run_after ns after "now", and sent @packet_after ns after.
 */
struct fake_dest {
	bool same_boot;
	int64_t offset;
	uint64_t run_after, packet_after;
	const char *why;
};

/* Tells @truth when, in our clock, it read its own. */
static void fake_destination(int fd, int truth, const struct fake_dest *d)
{
	char line[LINK_LINE_MAX], id[64] = "another-machine";
	uint64_t here, there;

	if (link_recv(fd, line, sizeof(line), 5000) || !link_is(line, "CLOCK"))
		_exit(1);
	if (d->same_boot)
		boot_id(id, sizeof(id));
	usleep(2000);		/* a round trip worth stating */
	here = now_ns();
	there = here + d->offset;
	if (write(truth, &here, sizeof(here)) != sizeof(here))
		_exit(1);
	link_send(fd, "CLOCK boot=%s now=%llu first_run=%llu first_packet=%llu%s%s",
		  id, (unsigned long long)there,
		  (unsigned long long)(d->run_after ? there + d->run_after : 0),
		  (unsigned long long)(d->packet_after ?
				       there + d->packet_after : 0),
		  d->why ? " why=" : "", d->why ?: "");
	_exit(0);
}

/* Our half: the VM last ran here @ran_before ns before now. */
static void combine(struct __test_metadata *_metadata,
		    const struct fake_dest *d, uint64_t ran_before,
		    struct downtime_figures *f, uint64_t *truth_blackout)
{
	struct measure ms = { .packets = true };
	int sv[2], truth[2], status;
	uint64_t start, there;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	ASSERT_EQ(0, pipe(truth));
	start = now_ns();
	ms.vcpu_ns = ms.packet_ns = start - ran_before;
	/* Not NULL: as if our probe ran (measure_stop is not called). */
	ms.probe = (struct probe *)&ms;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(sv[0]);
		fake_destination(sv[1], truth[1], d);
	}
	close(sv[1]);
	EXPECT_EQ(0, measure_source_combine(&ms, sv[0], f));
	close(sv[0]);
	waitpid(pid, &status, 0);
	EXPECT_EQ(0, status);
	ASSERT_EQ(sizeof(there), read(truth[0], &there, sizeof(there)));
	close(truth[0]);
	close(truth[1]);
	*truth_blackout = there + d->run_after - ms.vcpu_ns;
}

TEST(one_kernel_is_one_clock)
{
	struct fake_dest d = { .same_boot = true, .run_after = 3 * MS,
			       .packet_after = 5 * MS };
	struct downtime_figures f;
	uint64_t truth;

	combine(_metadata, &d, 100 * MS, &f, &truth);
	ASSERT_TRUE(f.blackout_ok);
	ASSERT_TRUE(f.gap_ok);
	EXPECT_TRUE(f.one_clock);
	EXPECT_EQ(0, f.uncertainty_ns);
	EXPECT_EQ(truth, f.blackout_ns);
	EXPECT_EQ(2 * MS, f.gap_ns - f.blackout_ns);
}

TEST(another_machine_clock_matched_within_uncertainty)
{
	static const int64_t offsets[] = { 0, 7200000 * MS, -3600000 * MS,
					   123456789 };
	struct downtime_figures f;
	struct fake_dest d = { .run_after = 3 * MS, .packet_after = 4 * MS };
	uint64_t truth;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(offsets); i++) {
		d.offset = offsets[i];
		combine(_metadata, &d, 200 * MS, &f, &truth);
		ASSERT_TRUE(f.blackout_ok);
		EXPECT_FALSE(f.one_clock);
		EXPECT_LE(2 * MS / 2, f.uncertainty_ns);
		EXPECT_GE(truth + f.uncertainty_ns, f.blackout_ns);
		EXPECT_LE(truth - f.uncertainty_ns, f.blackout_ns);
		TH_LOG("offset %lld ns: blackout %llu ns, truth %llu +- %llu",
		       (long long)offsets[i], (unsigned long long)f.blackout_ns,
		       (unsigned long long)truth,
		       (unsigned long long)f.uncertainty_ns);
	}
}

TEST(missing_halves_are_not_measured)
{
	struct fake_dest d = { .same_boot = true,
			       .why = "cannot_load_the_BPF_probe" };
	struct downtime_figures f;
	uint64_t truth;

	combine(_metadata, &d, 10 * MS, &f, &truth);
	EXPECT_FALSE(f.blackout_ok);
	EXPECT_FALSE(f.gap_ok);
	EXPECT_STREQ("cannot load the BPF probe", f.why_blackout);
}

TEST(backwards_is_not_measured)
{
	/* The destination says it ran before we stopped: not believed. */
	struct fake_dest d = { .same_boot = true, .offset = -500 * MS,
			       .run_after = 1 * MS, .packet_after = 1 * MS };
	struct downtime_figures f;
	uint64_t truth;

	combine(_metadata, &d, 10 * MS, &f, &truth);
	EXPECT_FALSE(f.blackout_ok);
	EXPECT_FALSE(f.gap_ok);
}

TEST_HARNESS_MAIN
