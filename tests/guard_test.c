// SPDX-License-Identifier: GPL-2.0
/*
 * shmctl's guard (user/guard.h): an owner process arms one and is
 * SIGKILLed; the guard signals the process it names, says its QMP command
 * to a monitor socket (served here, as QEMU would: greeting, capabilities
 * negotiation, then the command) and removes its directory. Disarmed, it
 * does none of that.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "proc.h"
#include "guard.h"

#define TIMEOUT_MS	5000
#define COMMAND		"{\"execute\":\"migrate-set-capabilities\",\"arguments\":{}}\n"

/* Whether @pid is stopped ('T' in /proc/PID/stat). */
static bool stopped(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	return proc_state(path, NULL, 0) == 'T';
}

/* One line from @fd, within TIMEOUT_MS; "" if none. */
static void read_line(int fd, char *line, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t got = 0;

	while (got < len - 1 && poll(&pfd, 1, TIMEOUT_MS) == 1 &&
	       read(fd, line + got, 1) == 1 && line[got++] != '\n')
		;
	line[got] = '\0';
}

FIXTURE(guard) {
	char dir[64], victim_dir[80], sock[80];
	pid_t victim, owner;
	int listener, pidfd, armed[2];
	struct guard_undo undo;
};

FIXTURE_SETUP(guard)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char file[96];

	strcpy(self->dir, "/tmp/guard_test.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->victim_dir, sizeof(self->victim_dir), "%s/run", self->dir);
	snprintf(file, sizeof(file), "%s/ram", self->victim_dir);
	ASSERT_EQ(0, mkdir(self->victim_dir, 0700));
	ASSERT_EQ(0, close(open(file, O_WRONLY | O_CREAT, 0600)));
	snprintf(self->sock, sizeof(self->sock), "%s/qmp", self->dir);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", self->sock);
	self->listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, self->listener);
	ASSERT_EQ(0, bind(self->listener, (struct sockaddr *)&addr, sizeof(addr)));
	ASSERT_EQ(0, listen(self->listener, 1));

	self->victim = fork();
	ASSERT_LE(0, self->victim);
	if (!self->victim)
		for (;;)
			pause();
	self->pidfd = pidfd_open(self->victim, 0);
	ASSERT_LE(0, self->pidfd);
	self->undo.pidfd = self->pidfd;
	snprintf(self->undo.qmp_path, sizeof(self->undo.qmp_path), "%s", self->sock);
	snprintf(self->undo.qmp_command, sizeof(self->undo.qmp_command), COMMAND);
	snprintf(self->undo.dir, sizeof(self->undo.dir), "%s", self->victim_dir);
	ASSERT_EQ(0, pipe(self->armed));
}

FIXTURE_TEARDOWN(guard)
{
	char cmd[96];

	kill(self->victim, SIGKILL);
	waitpid(self->victim, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	system(cmd);
}

/*
 * The owner: arms a guard with @undo, says so, and then either waits to
 * be killed or (@disarm) disarms it and exits.
 */
static pid_t start_owner(struct __test_metadata *_metadata,
			 FIXTURE_DATA(guard) *self, bool disarm)
{
	struct guard g = { 0 };
	pid_t owner = fork();

	if (owner)
		return owner;
	if (guard_arm(&g, &self->undo) || write(self->armed[1], "", 1) != 1)
		_exit(1);
	if (disarm) {
		guard_disarm(&g);
		_exit(0);
	}
	for (;;)
		pause();
}

TEST_F(guard, killed_owner_continues_tells_qemu_removes)
{
	char word, line[512];
	int status, conn, i;

	self->undo.signal = SIGCONT;
	ASSERT_EQ(0, kill(self->victim, SIGSTOP));
	for (i = 0; i < 100 && !stopped(self->victim); i++)
		usleep(10000);
	ASSERT_TRUE(stopped(self->victim));
	self->owner = start_owner(_metadata, self, false);
	ASSERT_EQ(1, read(self->armed[0], &word, 1));
	ASSERT_EQ(0, kill(self->owner, SIGKILL));
	ASSERT_EQ(self->owner, waitpid(self->owner, &status, 0));

	/* The monitor: greeting, capabilities, then the command. */
	conn = accept(self->listener, NULL, NULL);
	ASSERT_LE(0, conn);
	for (i = 0; i < 100 && stopped(self->victim); i++)
		usleep(10000);
	EXPECT_FALSE(stopped(self->victim));
	dprintf(conn, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n");
	read_line(conn, line, sizeof(line));
	EXPECT_STREQ("{\"execute\":\"qmp_capabilities\"}\n", line);
	dprintf(conn, "{\"return\": {}}\r\n");
	read_line(conn, line, sizeof(line));
	EXPECT_STREQ(COMMAND, line);
	/* An event first, as QEMU may send: the guard waits for the reply. */
	dprintf(conn, "{\"event\": \"MIGRATION\"}\r\n{\"return\": {}}\r\n");
	read_line(conn, line, sizeof(line));
	EXPECT_STREQ("", line);		/* it hung up, nothing more */
	close(conn);
	for (i = 0; i < 500 && !access(self->victim_dir, F_OK); i++)
		usleep(10000);
	EXPECT_EQ(-1, access(self->victim_dir, F_OK));
	EXPECT_EQ(0, access(self->sock, F_OK));
}

TEST_F(guard, killed_owner_kills)
{
	siginfo_t info = { 0 };
	int status;
	char word;

	self->undo.signal = SIGKILL;
	self->undo.qmp_command[0] = '\0';
	self->owner = start_owner(_metadata, self, false);
	ASSERT_EQ(1, read(self->armed[0], &word, 1));
	ASSERT_EQ(0, kill(self->owner, SIGKILL));
	ASSERT_EQ(self->owner, waitpid(self->owner, &status, 0));
	ASSERT_EQ(0, waitid(P_PID, self->victim, &info, WEXITED));
	EXPECT_EQ(CLD_KILLED, info.si_code);
	EXPECT_EQ(SIGKILL, info.si_status);
	for (int i = 0; i < 500 && !access(self->victim_dir, F_OK); i++)
		usleep(10000);
	EXPECT_EQ(-1, access(self->victim_dir, F_OK));
}

TEST_F(guard, disarmed_undoes_nothing)
{
	struct pollfd pfd = { .fd = self->listener, .events = POLLIN };
	int status;
	char word;

	self->undo.signal = SIGKILL;
	self->owner = start_owner(_metadata, self, true);
	ASSERT_EQ(1, read(self->armed[0], &word, 1));
	ASSERT_EQ(self->owner, waitpid(self->owner, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	EXPECT_EQ(0, poll(&pfd, 1, 1000));	/* nobody came to the monitor */
	EXPECT_EQ(0, kill(self->victim, 0));
	EXPECT_EQ(0, waitpid(self->victim, &status, WNOHANG));
	EXPECT_EQ(0, access(self->victim_dir, F_OK));
}

TEST_HARNESS_MAIN
