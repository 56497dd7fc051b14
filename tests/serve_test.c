// SPDX-License-Identifier: GPL-2.0
/*
 * shmctl serve against a source that holds the key but says the wrong
 * things: another protocol version, malformed or oversized requests, data
 * streams for migrations that do not exist, an unknown VMM driver, lines
 * with no end. Each gets a clear ERR (or the connection closed), nothing is
 * started on this host, and serve goes on serving.
 *
 * The fake source speaks link.h's lines after auth.h's handshake, through
 * the same code shmctl migrate uses; serve runs as a child, on loopback.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "auth.h"
#include "link.h"

#define PORT		17410
#define TIMEOUT_MS	10000

FIXTURE(serve) {
	char dir[64], key_path[96], log[96];
	struct auth_key key;
	pid_t pid;
};

static bool serve_listening(const char *log)
{
	char line[256];
	bool ok = false;
	FILE *f = fopen(log, "r");

	while (f && fgets(line, sizeof(line), f))
		ok |= !!strstr(line, "serving migrations");
	if (f)
		fclose(f);
	return ok;
}

FIXTURE_SETUP(serve)
{
	const char *shmctl = getenv("SHMCTL");
	char why[256], rundir[128];
	int fd, i;

	if (!shmctl)
		SKIP(return, "SHMCTL is not set (tests/vm/guest-run sets it)");
	snprintf(self->dir, sizeof(self->dir), "/tmp/shm-serve-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->key_path, sizeof(self->key_path), "%s/key", self->dir);
	snprintf(self->log, sizeof(self->log), "%s/serve.log", self->dir);
	snprintf(rundir, sizeof(rundir), "%s/run", self->dir);
	fd = open(self->key_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(32, write(fd, "0123456789abcdef0123456789abcdef", 32));
	close(fd);
	ASSERT_EQ(0, auth_load_key(self->key_path, &self->key, why,
				   sizeof(why)));

	self->pid = fork();
	ASSERT_LE(0, self->pid);
	if (!self->pid) {
		fd = open(self->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(shmctl, shmctl, "serve", "--listen", "127.0.0.1:17410",
		      "--key", self->key_path, "--rundir", rundir, NULL);
		_exit(127);
	}
	for (i = 0; i < 100 && !serve_listening(self->log); i++)
		usleep(100000);
	ASSERT_TRUE(serve_listening(self->log));
}

FIXTURE_TEARDOWN(serve)
{
	char cmd[128];

	if (self->pid > 0) {
		kill(self->pid, SIGTERM);
		waitpid(self->pid, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	if (self->dir[0] && system(cmd))
		TH_LOG("could not remove %s", self->dir);
}

/* An authenticated connection to serve, as a source opens one. */
static int source(struct __test_metadata *_metadata,
		  FIXTURE_DATA(serve) *self)
{
	char why[256];
	int fd = link_connect("127.0.0.1", PORT, why, sizeof(why));

	if (fd < 0)
		TH_LOG("%s", why);
	if (fd >= 0 && auth_handshake(fd, &self->key, true, TIMEOUT_MS)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Sends @request and returns serve's answer line in @answer. */
static int ask(struct __test_metadata *_metadata, FIXTURE_DATA(serve) *self,
	       const char *request, char *answer, size_t len)
{
	int fd = source(_metadata, self), err;

	if (fd < 0)
		return -ECONNREFUSED;
	err = link_send(fd, "%s", request) ?:
	      link_recv(fd, answer, len, TIMEOUT_MS);
	close(fd);
	return err;
}

#define FLAGS	"vendor=AuthenticAMD flags=fpu"
#define DESC	"desc=ram=33554432,vcpus=1,slots=1,writer_pages=0,writer_rate=0,manual_protect=0,beacon_from=0,beacon_to=0,beacon_port=0"

TEST_F(serve, other_protocol_refused)
{
	char answer[LINK_LINE_MAX];

	ASSERT_EQ(0, ask(_metadata, self, "MIGRATE proto=999 driver=testvmm "
			 DESC " ram=33554432 streams=1 " FLAGS, answer,
			 sizeof(answer)));
	EXPECT_TRUE(link_is(answer, "ERR"));
	EXPECT_NE(NULL, strstr(answer, "the source's 999"));
}

TEST_F(serve, malformed_requests_refused)
{
	static const char *const requests[] = {
		"MIGRATE",
		"MIGRATE proto=1 driver=testvmm " DESC " streams=1 " FLAGS,
		"MIGRATE proto=1 driver=testvmm " DESC " ram=-1 streams=1 " FLAGS,
		"MIGRATE proto=1 driver=testvmm " DESC " ram=33554432 streams=0 " FLAGS,
		"MIGRATE proto=1 driver=testvmm " DESC " ram=33554432 streams=99 " FLAGS,
		"MIGRATE proto=1 driver=testvmm ram=33554432 streams=1 " FLAGS,
		"MIGRATE proto=1 driver=testvmm " DESC " ram=33554432 streams=1 " FLAGS " cpu=1.0.ecx=5,",
		"MIGRATE proto=1 driver=testvmm " DESC " ram=33554432 streams=1 " FLAGS " cpu=1.0.esp=5",
	};
	char answer[LINK_LINE_MAX], endless[LINK_LINE_MAX - 64];
	size_t used;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(requests); i++) {
		ASSERT_EQ(0, ask(_metadata, self, requests[i], answer,
				 sizeof(answer)));
		EXPECT_TRUE(link_is(answer, "ERR"));
		TH_LOG("%s -> %s", requests[i], answer);
	}
	/* More words than any CPU has, in a line that is not too long. */
	used = snprintf(endless, sizeof(endless), "MIGRATE proto=1 driver=testvmm "
			DESC " ram=33554432 streams=1 " FLAGS " cpu=1.0.ecx=5");
	while (used + 12 < sizeof(endless))
		used += snprintf(endless + used, sizeof(endless) - used,
				 ",1.0.ecx=5");
	ASSERT_EQ(0, ask(_metadata, self, endless, answer, sizeof(answer)));
	EXPECT_NE(NULL, strstr(answer, "malformed request"));
}

TEST_F(serve, unknown_driver_and_bad_description_refused)
{
	char answer[LINK_LINE_MAX];

	ASSERT_EQ(0, ask(_metadata, self, "MIGRATE proto=1 driver=xen " DESC
			 " ram=33554432 streams=1 " FLAGS, answer,
			 sizeof(answer)));
	EXPECT_NE(NULL, strstr(answer, "no VMM driver 'xen'"));
}

TEST_F(serve, streams_of_no_migration_refused)
{
	char answer[LINK_LINE_MAX];

	ASSERT_EQ(0, ask(_metadata, self, "STREAM id=4242 index=0", answer,
			 sizeof(answer)));
	EXPECT_TRUE(link_is(answer, "ERR"));
	ASSERT_EQ(0, ask(_metadata, self, "HELLO there", answer,
		  sizeof(answer)));
	EXPECT_TRUE(link_is(answer, "ERR"));
}

/* A line longer than any request, or one that never ends: cut off. */
TEST_F(serve, endless_line_cut_off)
{
	char big[LINK_LINE_MAX + 64], answer[64];
	int fd = source(_metadata, self);

	ASSERT_LE(0, fd);
	memset(big, 'A', sizeof(big));
	ASSERT_EQ(0, link_send_bytes(fd, big, sizeof(big)));
	EXPECT_NE(0, link_recv(fd, answer, sizeof(answer), TIMEOUT_MS));
	close(fd);
}

/* After all that, serve still serves. */
TEST_F(serve, survives_a_hostile_source)
{
	char answer[LINK_LINE_MAX];
	int i;

	for (i = 0; i < 20; i++)
		ASSERT_EQ(0, ask(_metadata, self, "STREAM id=1 index=0",
				 answer, sizeof(answer)));
	ASSERT_EQ(0, ask(_metadata, self, "MIGRATE proto=999 driver=testvmm "
			 DESC " ram=33554432 streams=1 " FLAGS, answer,
			 sizeof(answer)));
	EXPECT_TRUE(link_is(answer, "ERR"));
	EXPECT_EQ(0, kill(self->pid, 0));
}

TEST_HARNESS_MAIN
