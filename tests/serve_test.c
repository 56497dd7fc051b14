// SPDX-License-Identifier: GPL-2.0
/*
 * shmctl serve against a source that holds the key but says the wrong
 * things: another protocol version, malformed or oversized requests, data
 * streams for migrations that do not exist, an unknown VMM driver, lines
 * with no end, a libvirt domain's XML that libvirtd would run unchecked;
 * and, once a migration runs, VM state that is not what link.h says. Each
 * gets a clear ERR (or the connection closed), nothing stays on this
 * host, and serve goes on serving.
 *
 * The fake source speaks link.h's lines after auth.h's handshake, through
 * the same code shmctl migrate uses; serve runs as a child, on loopback.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shm/netlink.h>

#include "kselftest_harness.h"
#include "auth.h"
#include "keyfile.h"
#include "link.h"

#define PORT		17410
#define TIMEOUT_MS	10000

FIXTURE(serve) {
	char dir[64], key_path[96], log[96], rundir[96];
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
	char why[256];
	int fd, i;

	if (!shmctl)
		SKIP(return, "SHMCTL is not set (tests/vm/guest-run sets it)");
	snprintf(self->dir, sizeof(self->dir), "/tmp/shm-serve-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->key_path, sizeof(self->key_path), "%s/key", self->dir);
	snprintf(self->log, sizeof(self->log), "%s/serve.log", self->dir);
	snprintf(self->rundir, sizeof(self->rundir), "%s/run", self->dir);
	ASSERT_EQ(0, keyfile_create(self->key_path));
	ASSERT_EQ(0, auth_load_key(self->key_path, &self->key, why,
				   sizeof(why)));

	self->pid = fork();
	ASSERT_LE(0, self->pid);
	if (!self->pid) {
		fd = open(self->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(shmctl, shmctl, "serve", "--listen", "127.0.0.1:17410",
		      "--key", self->key_path, "--rundir", self->rundir, NULL);
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

#define STR(x)		#x
#define XSTR(x)		STR(x)
/* A request's start, as this shmctl makes it. */
#define REQUEST		"MIGRATE link=" XSTR(LINK_VERSION)
#define FLAGS	"vendor=AuthenticAMD flags=fpu"
#define DESC	"desc=ram=33554432,vcpus=1,slots=1,writer_pages=0,writer_rate=0,manual_protect=0,beacon_from=0,beacon_to=0,beacon_port=0"

/* No VM, control socket or state file of a migration left in its rundir. */
static bool rundir_clean(FIXTURE_DATA(serve) *self)
{
	DIR *d = opendir(self->rundir);
	struct dirent *e;
	bool clean = true;

	while (d && (e = readdir(d)))
		clean &= e->d_name[0] == '.' || !!strstr(e->d_name, ".log");
	if (d)
		closedir(d);
	return clean;
}

TEST_F(serve, other_protocol_refused)
{
	char answer[LINK_LINE_MAX];

	ASSERT_EQ(0, ask(_metadata, self, REQUEST " proto=999 driver=testvmm "
			 DESC " ram=33554432 streams=1 compress=never " FLAGS, answer,
			 sizeof(answer)));
	EXPECT_TRUE(link_is(answer, "ERR"));
	EXPECT_NE(NULL, strstr(answer, "the source's 999"));
}

/* A source's shmctl from before control protocol versions, or of another. */
TEST_F(serve, other_control_version_refused)
{
	static const char *const requests[][2] = {
		{ "MIGRATE proto=1 driver=testvmm " DESC
		  " ram=33554432 streams=1 compress=never " FLAGS,
		  "the source's shmctl is older than this one" },
		{ "MIGRATE link=999 proto=1 driver=testvmm " DESC
		  " ram=33554432 streams=1 compress=never " FLAGS,
		  "the source's shmctl speaks control protocol 999" },
	};
	char answer[LINK_LINE_MAX];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(requests); i++) {
		ASSERT_EQ(0, ask(_metadata, self, requests[i][0], answer,
				 sizeof(answer)));
		TH_LOG("%s", answer);
		EXPECT_TRUE(link_is(answer, "ERR"));
		EXPECT_NE(NULL, strstr(answer, requests[i][1]));
		EXPECT_NE(NULL, strstr(answer, "run the same shmctl version on both hosts"));
	}
	EXPECT_TRUE(rundir_clean(self));
}

TEST_F(serve, malformed_requests_refused)
{
	static const char *const requests[] = {
		"MIGRATE",
		REQUEST " proto=1 driver=testvmm " DESC " streams=1 compress=never " FLAGS,
		REQUEST " proto=1 driver=testvmm " DESC " ram=-1 streams=1 compress=never " FLAGS,
		REQUEST " proto=1 driver=testvmm " DESC " ram=33554432 streams=0 " FLAGS,
		REQUEST " proto=1 driver=testvmm " DESC " ram=33554432 streams=99 " FLAGS,
		REQUEST " proto=1 driver=testvmm " DESC " ram=33554432 streams=1 " FLAGS,
		REQUEST " proto=1 driver=testvmm " DESC " ram=33554432 streams=1 compress=fast " FLAGS,
		REQUEST " proto=1 driver=testvmm ram=33554432 streams=1 compress=never " FLAGS,
		REQUEST " proto=1 driver=testvmm " DESC " ram=33554432 streams=1 compress=never " FLAGS " cpu=1.0.ecx=5,",
		REQUEST " proto=1 driver=testvmm " DESC " ram=33554432 streams=1 compress=never " FLAGS " cpu=1.0.esp=5",
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
	used = snprintf(endless, sizeof(endless), REQUEST " proto=1 driver=testvmm "
			DESC " ram=33554432 streams=1 compress=never " FLAGS " cpu=1.0.ecx=5");
	while (used + 12 < sizeof(endless))
		used += snprintf(endless + used, sizeof(endless) - used,
				 ",1.0.ecx=5");
	ASSERT_EQ(0, ask(_metadata, self, endless, answer, sizeof(answer)));
	EXPECT_NE(NULL, strstr(answer, "malformed request"));
}

TEST_F(serve, unknown_driver_and_bad_description_refused)
{
	char answer[LINK_LINE_MAX];

	ASSERT_EQ(0, ask(_metadata, self, REQUEST " proto=1 driver=xen " DESC
			 " ram=33554432 streams=1 compress=never " FLAGS, answer,
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

/* This host's CPU vendor, which a source here would send. */
static void cpu_vendor(char vendor[64])
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	vendor[0] = '\0';
	while (f && fgets(line, sizeof(line), f) && !vendor[0])
		sscanf(line, "vendor_id : %63s", vendor);
	if (f)
		fclose(f);
}

/*
 * A migration from a fake source, as far as READY: serve has started a
 * test VM and a session for it. The control connection's fd, or -1.
 */
static int migration_ready(struct __test_metadata *_metadata,
			   FIXTURE_DATA(serve) *self)
{
	char line[LINK_LINE_MAX], vendor[64], id[16];
	int ctl = source(_metadata, self), data = -1;

	cpu_vendor(vendor);
	if (ctl < 0 ||
	    link_send(ctl, REQUEST " proto=%u driver=testvmm " DESC
		      " ram=33554432 streams=1 compress=never vendor=%s flags=fpu",
		      SHM_PROTOCOL_VERSION, vendor) ||
	    link_recv(ctl, line, sizeof(line), TIMEOUT_MS) ||
	    link_get(line, "id", id, sizeof(id)))
		goto fail;
	data = source(_metadata, self);
	if (data < 0 || link_send(data, "STREAM id=%s index=0", id) ||
	    link_recv(data, line, sizeof(line), TIMEOUT_MS) ||
	    !link_is(line, "OK") ||
	    link_recv(ctl, line, sizeof(line), TIMEOUT_MS) ||
	    !link_is(line, "READY"))
		goto fail;
	/* shm.ko has its socket now; its session ends with the migration. */
	close(data);
	return ctl;
fail:
	TH_LOG("no migration to READY: '%s' (%s)", line, self->log);
	if (data >= 0)
		close(data);
	if (ctl >= 0)
		close(ctl);
	return -1;
}

/* VM state that is not pieces as link.h has them: refused, nothing left. */
TEST_F(serve, malformed_state_refused)
{
	static const char *const bad[] = {
		"GO",
		"SAVED",
		"STATE",
		"STATE len=0",
		"STATE len=1048577",
		"STATE len=-1",
	};
	char answer[LINK_LINE_MAX];
	unsigned int i;
	int ctl;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ctl = migration_ready(_metadata, self);
		ASSERT_LE(0, ctl);
		ASSERT_EQ(0, link_send(ctl, "%s", bad[i]));
		ASSERT_EQ(0, link_recv(ctl, answer, sizeof(answer), TIMEOUT_MS));
		TH_LOG("%s -> %s", bad[i], answer);
		EXPECT_TRUE(link_is(answer, "ERR"));
		EXPECT_NE(NULL, strstr(answer, "expected the VM's state"));
		close(ctl);
		EXPECT_TRUE(rundir_clean(self));
	}
}

/* A piece cut short by a source that goes away: nothing left either. */
TEST_F(serve, truncated_state_cleaned_up)
{
	char answer[LINK_LINE_MAX];
	int ctl = migration_ready(_metadata, self), i;

	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, link_send(ctl, "STATE len=4096"));
	ASSERT_EQ(0, link_send_bytes(ctl, "0123456789", 10));
	shutdown(ctl, SHUT_WR);
	ASSERT_EQ(0, link_recv(ctl, answer, sizeof(answer), TIMEOUT_MS));
	EXPECT_NE(NULL, strstr(answer, "did not arrive whole"));
	close(ctl);
	for (i = 0; i < 50 && !rundir_clean(self); i++)
		usleep(100000);
	EXPECT_TRUE(rundir_clean(self));
}

/*
 * A libvirt domain's XML that libvirtd would run unchecked, or without the
 * UUID that its start guard knows it by, from a source that holds the
 * key: refused before libvirtd hears of it. The last one
 * passes (another namespace in <metadata> is the domain's business) and
 * goes on to libvirtd, which the test VM does not run.
 */
TEST_F(serve, libvirt_xml_run_unchecked_refused)
{
	static const struct {
		const char *xml, *answer;
	} cases[] = {
		{ "<domain type='kvm' xmlns:q='&#104;ttp://libvirt.org/schemas/domain/qemu/1.0'><name>x</name><q:commandline><q:arg value='-S'/></q:commandline></domain>",
		  "has an element <q:commandline> (http://libvirt.org/schemas/domain/qemu/1.0)" },
		{ "<domain type='kvm'><name>x</name><devices><emulator>/bin/sh</emulator></devices></domain>",
		  "its <emulator> /bin/sh is not a QEMU system emulator" },
		{ "<!DOCTYPE domain [<!ENTITY e 'x'>]><domain type='kvm'><name>&e;</name></domain>",
		  "not a domain's XML" },
		{ "<domain type='kvm'><name>x</name><uuid>x</uuid></domain>",
		  "the domain's XML has no well-formed <uuid>" },
		{ "<domain type='kvm'><name>x</name><uuid>6f1d3b2e-0c4a-4e8b-9a55-2d7c1e0f3b94</uuid><metadata><q:commandline xmlns:q='http://libvirt.org/schemas/domain/qemu/1.0'/></metadata><devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>",
		  "libvirtd" },
	};
	char answer[LINK_LINE_MAX], request[LINK_LINE_MAX], vendor[64];
	unsigned int i;
	size_t n;
	const char *c;

	cpu_vendor(vendor);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		n = snprintf(request, sizeof(request), REQUEST " proto=%u driver=libvirt desc=",
			     SHM_PROTOCOL_VERSION);
		/* %XX-escaped, as a description travels (vmm.h). */
		for (c = cases[i].xml; *c; c++)
			n += snprintf(request + n, sizeof(request) - n,
				      isalnum(*c) ? "%c" : "%%%02X", *c);
		snprintf(request + n, sizeof(request) - n,
			 " ram=33554432 streams=1 compress=never vendor=%s flags=fpu", vendor);
		ASSERT_EQ(0, ask(_metadata, self, request, answer, sizeof(answer)));
		TH_LOG("%s -> %s", cases[i].xml, answer);
		EXPECT_TRUE(link_is(answer, "ERR"));
		EXPECT_NE(NULL, strstr(answer, cases[i].answer));
		EXPECT_TRUE(rundir_clean(self));
	}
}

/* After all that, serve still serves. */
TEST_F(serve, survives_a_hostile_source)
{
	char answer[LINK_LINE_MAX];
	int i;

	for (i = 0; i < 20; i++)
		ASSERT_EQ(0, ask(_metadata, self, "STREAM id=1 index=0",
				 answer, sizeof(answer)));
	ASSERT_EQ(0, ask(_metadata, self, REQUEST " proto=999 driver=testvmm "
			 DESC " ram=33554432 streams=1 compress=never " FLAGS, answer,
			 sizeof(answer)));
	EXPECT_TRUE(link_is(answer, "ERR"));
	EXPECT_EQ(0, kill(self->pid, 0));
}

TEST_HARNESS_MAIN
