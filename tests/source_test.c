// SPDX-License-Identifier: GPL-2.0
/*
 * shmctl migrate against a destination that holds the key but is not the
 * shmctl it should be: one from before control protocol versions, or one
 * of another version (link.h). migrate refuses at once, exit status 6,
 * saying to run the same shmctl on both hosts; the VM runs on.
 *
 *   source host                          destination host
 *   shm-testvmm run (guest writing)      fake destination (this test)
 *   shmctl migrate testvmm:SOCK  ======> auth.h handshake, then answers
 *                                        MIGRATE as told
 *
 * serve_test.c is the other way round: serve against a bad source.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "auth.h"
#include "hosts.h"
#include "keyfile.h"
#include "link.h"
#include "testvmm.h"

#define TIMEOUT_MS	10000

FIXTURE(source) {
	struct hosts hosts;
	struct testvmm vm;
	struct auth_key key;
	char dir[64], key_path[96], out[96];
	int lfd;
};

FIXTURE_VARIANT(source) {
	const char *answer;	/* the destination's, to MIGRATE */
	const char *why;	/* what shmctl migrate must say */
	bool dry_run;
};

FIXTURE_VARIANT_ADD(source, older_destination) {
	.answer = "OK id=1",
	.why = "the destination's shmctl is older than this one",
};

FIXTURE_VARIANT_ADD(source, older_destination_dry_run) {
	.answer = "OK dry=1",
	.why = "the destination's shmctl is older than this one",
	.dry_run = true,
};

FIXTURE_VARIANT_ADD(source, other_version) {
	.answer = "OK link=999 id=1",
	.why = "the destination's shmctl speaks control protocol 999",
};

FIXTURE_SETUP(source)
{
	char why[256];

	self->lfd = -1;
	if (!getenv("SHMCTL"))
		SKIP(return, "SHMCTL is not set (tests/vm/guest-run sets it)");
	snprintf(self->dir, sizeof(self->dir), "/tmp/shm-source-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->key_path, sizeof(self->key_path), "%s/key", self->dir);
	snprintf(self->out, sizeof(self->out), "%s/migrate.out", self->dir);
	ASSERT_EQ(0, keyfile_create(self->key_path));
	ASSERT_EQ(0, auth_load_key(self->key_path, &self->key, why,
				   sizeof(why)));

	ASSERT_EQ(0, hosts_create(&self->hosts, NULL));
	ASSERT_EQ(0, testvmm_start(&self->vm, &self->hosts, HOST_SRC,
				   "--ram 32M --workload seq --rate 300"));
	ASSERT_EQ(0, hosts_enter(&self->hosts, HOST_DST));
	self->lfd = link_listen(HOSTS_DST_ADDR, HOSTS_PORT, why, sizeof(why));
	ASSERT_EQ(0, hosts_leave(&self->hosts));
	if (self->lfd < 0)
		TH_LOG("%s", why);
	ASSERT_LE(0, self->lfd);
}

FIXTURE_TEARDOWN(source)
{
	char cmd[128];

	if (self->lfd >= 0)
		close(self->lfd);
	testvmm_stop(&self->vm);
	hosts_destroy(&self->hosts);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	if (self->dir[0] && system(cmd))
		TH_LOG("could not remove %s", self->dir);
}

struct fake_destination {
	int lfd;
	const struct auth_key *key;
	const char *answer;
	char request[LINK_LINE_MAX];
	int err;
};

/* One connection: the handshake, the request, our answer. */
static void *fake_destination(void *arg)
{
	struct fake_destination *d = arg;
	int fd = link_accept(d->lfd);

	if (fd < 0) {
		d->err = fd;
		return NULL;
	}
	d->err = auth_handshake(fd, d->key, false, TIMEOUT_MS) ?:
		 link_recv(fd, d->request, sizeof(d->request), TIMEOUT_MS) ?:
		 link_send(fd, "%s", d->answer);
	close(fd);
	return NULL;
}

/* shmctl's output, also printed as test diagnostics. */
static void read_output(const char *path, char *buf, size_t len)
{
	size_t got = 0;
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	while (f && got + 1 < len && fgets(buf + got, len - got, f)) {
		fprintf(stderr, "# shmctl: %s", buf + got);
		got += strlen(buf + got);
	}
	if (f)
		fclose(f);
}

TEST_F(source, refused_before_anything_moves)
{
	struct fake_destination dest = {
		.lfd = self->lfd,
		.key = &self->key,
		.answer = variant->answer,
	};
	char version[32], said[4096];
	pthread_t thread;
	int status;

	ASSERT_EQ(0, pthread_create(&thread, NULL, fake_destination, &dest));
	testvmm_release(&self->vm);
	status = hosts_run(&self->hosts, HOST_SRC,
			   "%s migrate testvmm:%s --to %s:%d --key %s%s >%s 2>&1",
			   getenv("SHMCTL"), testvmm_path(&self->vm, "ctl.sock"),
			   HOSTS_DST_ADDR, HOSTS_PORT, self->key_path,
			   variant->dry_run ? " --dry-run" : "", self->out);
	/* Should shmctl never have come, accept() returns now. */
	shutdown(self->lfd, SHUT_RDWR);
	pthread_join(thread, NULL);

	ASSERT_EQ(0, dest.err);
	snprintf(version, sizeof(version), "MIGRATE link=%u ", LINK_VERSION);
	EXPECT_TRUE(link_is(dest.request, "MIGRATE"));
	EXPECT_NE(NULL, strstr(dest.request, version));
	/* migrate's default, which the destination readies LZ4 for. */
	EXPECT_NE(NULL, strstr(dest.request, " compress=auto "));
	EXPECT_EQ(6, status);
	read_output(self->out, said, sizeof(said));
	EXPECT_NE(NULL, strstr(said, variant->why));
	EXPECT_NE(NULL, strstr(said, "run the same shmctl version on both hosts"));
	ASSERT_EQ(0, testvmm_ctl(&self->vm, "stats"));
	EXPECT_NE(NULL, strstr(self->vm.reply, "state=running"));
}

TEST_HARNESS_MAIN
