// SPDX-License-Identifier: GPL-2.0
/*
 * shmctl's pre-shared-key authentication (user/auth.h): the key files it
 * takes and the ones it refuses, and the handshake over a socketpair with a
 * forked peer that holds the same key, another key, speaks something else,
 * hangs up, says nothing, or reflects our own messages back to us. After a
 * handshake, what the peer sent next is still on the socket for the caller.
 *
 * The handshake's HMAC comes from the kernel (AF_ALG, algif_hash); tests
 * that need it are skipped on a kernel without it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/if_alg.h>

#include "kselftest_harness.h"
#include "auth.h"

#define TIMEOUT_MS	5000
#define HELLO_LEN	40	/* magic and nonce */
#define TRAILER		"the first bytes after the handshake"

static const char key16[] = "0123456789abcdef";

/* Can this kernel compute hmac(sha256) for user space? */
static bool have_hmac(void)
{
	struct sockaddr_alg sa = {
		.salg_family = AF_ALG,
		.salg_type = "hash",
		.salg_name = "hmac(sha256)",
	};
	int fd = socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa));

	if (fd >= 0)
		close(fd);
	return ok;
}

#define NO_HMAC "no hmac(sha256) over AF_ALG (CONFIG_CRYPTO_USER_API_HASH)"

static bool read_all(int fd, void *buf, size_t len)
{
	return recv(fd, buf, len, MSG_WAITALL) == (ssize_t)len;
}

static bool write_all(int fd, const void *buf, size_t len)
{
	return send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len;
}

/* Waits for the other side to hang up, discarding what it sends. */
static void drain(int fd)
{
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/*
 * The peers, run in a child on its end of the socketpair. Each returns 0 or
 * a negative errno, which becomes its exit status.
 */
static int peer_auth(int fd, const struct auth_key *key)
{
	int err = auth_handshake(fd, key, false, TIMEOUT_MS);

	if (!err && !write_all(fd, TRAILER, sizeof(TRAILER)))
		err = -EIO;
	return err;
}

static int peer_garbage(int fd, const struct auth_key *key)
{
	char hello[HELLO_LEN] = "NOTSHM!!";

	if (!write_all(fd, hello, sizeof(hello)))
		return -EIO;
	drain(fd);
	return 0;
}

/* Takes our HELLO, then hangs up in the middle of its own. */
static int peer_hangup(int fd, const struct auth_key *key)
{
	char hello[HELLO_LEN];

	if (!read_all(fd, hello, sizeof(hello)) || !write_all(fd, hello, 20))
		return -EIO;
	return 0;
}

static int peer_silent(int fd, const struct auth_key *key)
{
	drain(fd);
	return 0;
}

/*
 * Sends back our own HELLO and PROOF, and says yes: an attacker without the
 * key trying to make us accept our own proof as its.
 */
static int peer_reflect(int fd, const struct auth_key *key)
{
	char hello[HELLO_LEN], proof[AUTH_MAC_LEN], verdict;

	if (!read_all(fd, hello, sizeof(hello)) ||
	    !write_all(fd, hello, sizeof(hello)) ||
	    !read_all(fd, proof, sizeof(proof)) ||
	    !write_all(fd, proof, sizeof(proof)) ||
	    !read_all(fd, &verdict, 1) || !write_all(fd, "Y", 1))
		return -EIO;
	drain(fd);
	return verdict == 'N' ? 0 : -EPROTO;
}

/* Passes @len bytes (at most a HELLO) each way between @a and @b. */
static bool relay(int a, int b, size_t len)
{
	char ab[HELLO_LEN], ba[HELLO_LEN];

	return read_all(a, ab, len) && read_all(b, ba, len) &&
	       write_all(b, ab, len) && write_all(a, ba, len);
}

/*
 * Relays between us and a peer that holds the key, and turns that peer's
 * yes into a no: our check of the peer passes, the peer's of us fails.
 */
static int peer_says_no(int fd, const struct auth_key *key)
{
	char ours, theirs;
	int sk[2], err;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sk))
		return -errno;
	pid = fork();
	if (!pid) {
		close(fd);
		close(sk[0]);
		_exit(-auth_handshake(sk[1], key, false, TIMEOUT_MS));
	}
	close(sk[1]);
	err = relay(fd, sk[0], HELLO_LEN) && relay(fd, sk[0], AUTH_MAC_LEN) &&
	      read_all(fd, &ours, 1) && read_all(sk[0], &theirs, 1) &&
	      write_all(sk[0], &ours, 1) && write_all(fd, "N", 1) ? 0 : -EIO;
	close(sk[0]);
	waitpid(pid, NULL, 0);
	if (!err && theirs != 'Y')
		err = -EPROTO;
	return err;
}

FIXTURE(auth) {
	char dir[64];
	char path[128];
	char why[512];
	struct auth_key key, peer_key;
	int sk[2];	/* ours, the peer's */
	pid_t peer;
};

FIXTURE_SETUP(auth)
{
	snprintf(self->dir, sizeof(self->dir), "%s/auth_test.XXXXXX",
		 getenv("TMPDIR") ?: "/tmp");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				self->sk));
	self->peer = -1;
}

FIXTURE_TEARDOWN(auth)
{
	struct dirent *d;
	DIR *dir;

	close(self->sk[0]);
	if (self->sk[1] >= 0)
		close(self->sk[1]);
	if (self->peer > 0)
		waitpid(self->peer, NULL, 0);
	dir = opendir(self->dir);
	while (dir && (d = readdir(dir)))
		unlinkat(dirfd(dir), d->d_name, 0);
	if (dir)
		closedir(dir);
	rmdir(self->dir);
}

/* Writes a key file @name with @mode under the test's directory. */
static const char *key_file(FIXTURE_DATA(auth) *self, const char *name,
			    const void *data, size_t len, mode_t mode)
{
	int fd;

	snprintf(self->path, sizeof(self->path), "%s/%s", self->dir, name);
	fd = open(self->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len || fchmod(fd, mode))
		self->path[0] = '\0';
	if (fd >= 0)
		close(fd);
	return self->path;
}

static int load(FIXTURE_DATA(auth) *self, struct auth_key *key,
		const char *name, const void *data, size_t len, mode_t mode)
{
	self->why[0] = '\0';
	return auth_load_key(key_file(self, name, data, len, mode), key,
			     self->why, sizeof(self->why));
}

/* Runs @peer on the other end; our end alone stays open here. */
static void start_peer(FIXTURE_DATA(auth) *self,
		       int (*peer)(int fd, const struct auth_key *key))
{
	self->peer = fork();
	if (!self->peer) {
		close(self->sk[0]);
		_exit(-peer(self->sk[1], &self->peer_key));
	}
	close(self->sk[1]);
	self->sk[1] = -1;
}

/* The peer's result: 0 or a negative errno. */
static int peer_result(FIXTURE_DATA(auth) *self)
{
	int status;

	if (waitpid(self->peer, &status, 0) != self->peer)
		return -ECHILD;
	self->peer = -1;
	return WIFEXITED(status) ? -WEXITSTATUS(status) : -EINTR;
}

TEST_F(auth, key_private_file)
{
	ASSERT_EQ(0, load(self, &self->key, "key", key16, 16, 0600));
	ASSERT_EQ(16, self->key.len);
	EXPECT_EQ(0, memcmp(key16, self->key.bytes, 16));
}

TEST_F(auth, key_open_to_others)
{
	static const mode_t modes[] = { 0644, 0640, 0604, 0602, 0660 };
	char want[256];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		EXPECT_EQ(-EPERM, load(self, &self->key, "key", key16, 16,
				       modes[i]));
		snprintf(want, sizeof(want), "chmod 600 %s", self->path);
		EXPECT_NE(NULL, strstr(self->why, want));
	}
	TH_LOG("refused: %s", self->why);
}

TEST_F(auth, key_length)
{
	char big[AUTH_KEY_MAX + 1];

	EXPECT_EQ(-EINVAL, load(self, &self->key, "k", key16, 15, 0600));
	EXPECT_NE(0, strlen(self->why));
	TH_LOG("refused: %s", self->why);
	/* Its newline does not make a 15-byte key long enough. */
	EXPECT_EQ(-EINVAL, load(self, &self->key, "k", "0123456789abcde\n",
				16, 0600));

	memset(big, 'k', sizeof(big));
	EXPECT_EQ(-EFBIG, load(self, &self->key, "k", big, sizeof(big), 0600));
	TH_LOG("refused: %s", self->why);
	big[AUTH_KEY_MAX] = '\n';
	EXPECT_EQ(0, load(self, &self->key, "k", big, sizeof(big), 0600));
	EXPECT_EQ(AUTH_KEY_MAX, self->key.len);
}

TEST_F(auth, key_newline)
{
	EXPECT_EQ(0, load(self, &self->key, "a", key16, 16, 0600));
	EXPECT_EQ(0, load(self, &self->peer_key, "b", "0123456789abcdef\n",
			  17, 0600));
	ASSERT_EQ(self->key.len, self->peer_key.len);
	EXPECT_EQ(0, memcmp(self->key.bytes, self->peer_key.bytes, 16));

	/* One newline, not all of them: the key is what is in the file. */
	EXPECT_EQ(0, load(self, &self->key, "c", "0123456789abcdef\n\n",
			  18, 0600));
	EXPECT_EQ(17, self->key.len);
}

TEST_F(auth, key_not_a_file)
{
	char why[256];

	snprintf(self->path, sizeof(self->path), "%s/fifo", self->dir);
	ASSERT_EQ(0, mkfifo(self->path, 0600));
	EXPECT_EQ(-EINVAL, auth_load_key(self->path, &self->key, why,
					 sizeof(why)));
	EXPECT_EQ(-EINVAL, auth_load_key(self->dir, &self->key, why,
					 sizeof(why)));
	EXPECT_EQ(-ENOENT, auth_load_key("/nonexistent/key", &self->key, why,
					 sizeof(why)));
	TH_LOG("refused: %s", why);
}

TEST_F(auth, same_key)
{
	char tail[sizeof(TRAILER)];

	if (!have_hmac())
		SKIP(return, NO_HMAC);
	ASSERT_EQ(0, load(self, &self->key, "a", key16, 16, 0600));
	ASSERT_EQ(0, load(self, &self->peer_key, "b", "0123456789abcdef\n",
			  17, 0600));
	start_peer(self, peer_auth);
	EXPECT_EQ(0, auth_handshake(self->sk[0], &self->key, true,
				    TIMEOUT_MS));
	EXPECT_EQ(0, peer_result(self));

	/* Sent after the handshake: the handshake must not have eaten it. */
	ASSERT_TRUE(read_all(self->sk[0], tail, sizeof(tail)));
	EXPECT_STREQ(TRAILER, tail);
}

TEST_F(auth, different_keys)
{
	if (!have_hmac())
		SKIP(return, NO_HMAC);
	ASSERT_EQ(0, load(self, &self->key, "a", key16, 16, 0600));
	ASSERT_EQ(0, load(self, &self->peer_key, "b", "0123456789abcdeF",
			  16, 0600));
	start_peer(self, peer_auth);
	EXPECT_EQ(-EACCES, auth_handshake(self->sk[0], &self->key, true,
					  TIMEOUT_MS));
	EXPECT_EQ(-EACCES, peer_result(self));
}

TEST_F(auth, reflected)
{
	if (!have_hmac())
		SKIP(return, NO_HMAC);
	ASSERT_EQ(0, load(self, &self->key, "a", key16, 16, 0600));
	start_peer(self, peer_reflect);
	EXPECT_EQ(-EACCES, auth_handshake(self->sk[0], &self->key, true,
					  TIMEOUT_MS));
	close(self->sk[0]);
	self->sk[0] = -1;
	EXPECT_EQ(0, peer_result(self));
}

TEST_F(auth, peer_refuses)
{
	if (!have_hmac())
		SKIP(return, NO_HMAC);
	ASSERT_EQ(0, load(self, &self->key, "a", key16, 16, 0600));
	self->peer_key = self->key;
	start_peer(self, peer_says_no);
	EXPECT_EQ(-EACCES, auth_handshake(self->sk[0], &self->key, true,
					  TIMEOUT_MS));
	EXPECT_EQ(0, peer_result(self));
}

TEST_F(auth, wrong_magic)
{
	ASSERT_EQ(0, load(self, &self->key, "a", key16, 16, 0600));
	start_peer(self, peer_garbage);
	EXPECT_EQ(-EPROTO, auth_handshake(self->sk[0], &self->key, true,
					  TIMEOUT_MS));
}

TEST_F(auth, peer_hangs_up)
{
	ASSERT_EQ(0, load(self, &self->key, "a", key16, 16, 0600));
	start_peer(self, peer_hangup);
	EXPECT_EQ(-ECONNRESET, auth_handshake(self->sk[0], &self->key, true,
					      TIMEOUT_MS));
	EXPECT_EQ(0, peer_result(self));
}

TEST_F(auth, timeout)
{
	ASSERT_EQ(0, load(self, &self->key, "a", key16, 16, 0600));
	start_peer(self, peer_silent);
	EXPECT_EQ(-ETIMEDOUT, auth_handshake(self->sk[0], &self->key, true,
					     200));
}

TEST_HARNESS_MAIN
