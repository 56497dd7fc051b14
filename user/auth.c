// SPDX-License-Identifier: GPL-2.0
/*
 * The pre-shared-key handshake (auth.h). Both sides run the same three
 * steps, each one "send ours, then read theirs", so neither waits on the
 * other and each direction carries exactly 73 bytes:
 *
 *   HELLO   40 bytes  "SHMAUTH1" || nonce           32 bytes from getrandom()
 *   PROOF   32 bytes  HMAC-SHA256(key, "shm-auth-v1" || role || own nonce
 *                                      || peer nonce)
 *   VERDICT  1 byte   'Y' the peer's proof is right, 'N' it is not
 *
 * role is 'I' for the side that connected, 'R' for the side that accepted.
 * The role and the order of the nonces make each proof good for one
 * direction of one connection: a proof reflected back, or replayed from an
 * earlier connection, is refused. Proofs are compared in constant time.
 *
 * Reads ask for what is left of the current message and no more, so the
 * kernel finds on the socket whatever the peer sends after the verdict.
 * The timeout bounds the whole handshake, so a peer trickling one byte at a
 * time cannot hold us longer than a silent one.
 *
 * The handshake authenticates the two ends; it does not protect what
 * follows from someone on the path between them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_alg.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "auth.h"
#include "clock.h"

#define AUTH_MAGIC	"SHMAUTH1"
#define AUTH_MAGIC_LEN	8
#define AUTH_NONCE_LEN	32
#define AUTH_CONTEXT	"shm-auth-v1"

struct auth_hello {
	char magic[AUTH_MAGIC_LEN];
	uint8_t nonce[AUTH_NONCE_LEN];
};

/* Leaves the sentence for @why and returns @err. */
static int refuse(int err, char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return err;
}

/* Reads the key from the file @fd, already found fit to hold one. */
static int auth_read_key(int fd, const char *path, struct auth_key *key,
			 char *why, size_t why_len)
{
	/* Room for the longest key, its newline and one byte too many. */
	uint8_t buf[AUTH_KEY_MAX + 2];
	size_t len = 0;
	ssize_t n = 1;
	int err = 0;

	while (n && len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno != EINTR)
			break;
		len += n > 0 ? n : 0;
	}
	if (len && buf[len - 1] == '\n')
		len--;
	if (n < 0)
		err = refuse(-errno, why, why_len, "cannot read key file %s: %m",
			     path);
	else if (len > AUTH_KEY_MAX)
		err = refuse(-EFBIG, why, why_len,
			     "key file %s holds more than %d bytes", path,
			     AUTH_KEY_MAX);
	else if (len < AUTH_KEY_MIN)
		err = refuse(-EINVAL, why, why_len,
			     "key file %s holds %zu bytes, fewer than %d", path,
			     len, AUTH_KEY_MIN);
	if (!err) {
		memcpy(key->bytes, buf, len);
		key->len = len;
	}
	explicit_bzero(buf, sizeof(buf));
	return err;
}

int auth_load_key(const char *path, struct auth_key *key, char *why,
		  size_t why_len)
{
	struct stat st;
	int fd, err;

	/* O_NONBLOCK: a FIFO must not hang us before fstat() refuses it. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return refuse(-errno, why, why_len, "cannot open key file %s: %m",
			      path);
	if (fstat(fd, &st))
		err = refuse(-errno, why, why_len, "cannot stat key file %s: %m",
			     path);
	else if (!S_ISREG(st.st_mode))
		err = refuse(-EINVAL, why, why_len,
			     "key file %s is not a regular file", path);
	else if (st.st_mode & 077)
		err = refuse(-EPERM, why, why_len,
			     "key file %s is open to its group or others: chmod 600 %s",
			     path, path);
	else
		err = auth_read_key(fd, path, key, why, why_len);
	close(fd);
	return err;
}

/* @mac = HMAC-SHA256(key, AUTH_CONTEXT || role || nonce1 || nonce2). */
static int auth_mac(const struct auth_key *key, char role,
		    const uint8_t *nonce1, const uint8_t *nonce2,
		    uint8_t mac[AUTH_MAC_LEN])
{
	struct sockaddr_alg sa = {
		.salg_family = AF_ALG,
		.salg_type = "hash",
		.salg_name = "hmac(sha256)",
	};
	uint8_t msg[sizeof(AUTH_CONTEXT) - 1 + 1 + 2 * AUTH_NONCE_LEN];
	uint8_t *p = msg;
	int tfm, op = -1, err = -EIO;

	p = mempcpy(p, AUTH_CONTEXT, sizeof(AUTH_CONTEXT) - 1);
	*p++ = role;
	p = mempcpy(p, nonce1, AUTH_NONCE_LEN);
	memcpy(p, nonce2, AUTH_NONCE_LEN);

	tfm = socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (tfm < 0)
		return -errno;
	errno = 0;
	if (bind(tfm, (struct sockaddr *)&sa, sizeof(sa)) ||
	    setsockopt(tfm, SOL_ALG, ALG_SET_KEY, key->bytes, key->len))
		goto out;
	/* One write of the whole message, then a read of its digest. */
	op = accept4(tfm, NULL, NULL, SOCK_CLOEXEC);
	if (op >= 0 && write(op, msg, sizeof(msg)) == (ssize_t)sizeof(msg) &&
	    read(op, mac, AUTH_MAC_LEN) == AUTH_MAC_LEN)
		err = 0;
out:
	if (err && errno)
		err = -errno;
	if (op >= 0)
		close(op);
	close(tfm);
	return err;
}

static bool auth_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	uint8_t diff = 0;

	while (len--)
		diff |= *a++ ^ *b++;
	return !diff;
}

/*
 * Sends (@out) or receives exactly @len bytes by @deadline (ms of
 * CLOCK_MONOTONIC, negative for none). A receive never asks for more than
 * is missing.
 */
static int auth_io(int fd, void *buf, size_t len, bool out, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = out ? POLLOUT : POLLIN };
	uint8_t *p = buf;
	int64_t left;
	ssize_t n;

	while (len) {
		left = deadline < 0 ? -1 : deadline - (int64_t)monotonic_ms();
		if (deadline >= 0 && left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : left);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			continue;
		if (out)
			n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		else
			n = recv(fd, p, len, MSG_DONTWAIT);
		if (!n)
			return -ECONNRESET;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -errno;
		if (n > 0) {
			p += n;
			len -= n;
		}
	}
	return 0;
}

int auth_handshake(int fd, const struct auth_key *key, bool initiator,
		   int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : (int64_t)monotonic_ms() + timeout_ms;
	char role = initiator ? 'I' : 'R', peer_role = initiator ? 'R' : 'I';
	uint8_t mine[AUTH_MAC_LEN], peer[AUTH_MAC_LEN], expect[AUTH_MAC_LEN];
	struct auth_hello ours, theirs;
	char verdict, peer_verdict;
	ssize_t n;
	int err;

	memcpy(ours.magic, AUTH_MAGIC, AUTH_MAGIC_LEN);
	n = getrandom(ours.nonce, AUTH_NONCE_LEN, 0);
	if (n != AUTH_NONCE_LEN)
		return n < 0 ? -errno : -EIO;
	/*
	 * The magic alone first: a peer speaking something else is refused
	 * at once, not after 40 bytes it may never send.
	 */
	err = auth_io(fd, &ours, sizeof(ours), true, deadline) ?:
	      auth_io(fd, theirs.magic, AUTH_MAGIC_LEN, false, deadline);
	if (err)
		return err;
	if (memcmp(theirs.magic, AUTH_MAGIC, AUTH_MAGIC_LEN))
		return -EPROTO;
	err = auth_io(fd, theirs.nonce, AUTH_NONCE_LEN, false, deadline);
	if (err)
		return err;

	err = auth_mac(key, role, ours.nonce, theirs.nonce, mine) ?:
	      auth_mac(key, peer_role, theirs.nonce, ours.nonce, expect) ?:
	      auth_io(fd, mine, sizeof(mine), true, deadline) ?:
	      auth_io(fd, peer, sizeof(peer), false, deadline);
	if (err)
		return err;

	/*
	 * The peer's verdict is read even after we refuse, so that both sides
	 * always move the same bytes and our 'N' is not lost to a reset.
	 */
	verdict = auth_equal(peer, expect, AUTH_MAC_LEN) ? 'Y' : 'N';
	err = auth_io(fd, &verdict, 1, true, deadline) ?:
	      auth_io(fd, &peer_verdict, 1, false, deadline);
	if (verdict != 'Y')
		return -EACCES;
	if (err)
		return err;
	if (peer_verdict == 'N')
		return -EACCES;
	return peer_verdict == 'Y' ? 0 : -EPROTO;
}
