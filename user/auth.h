/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mutual authentication of two shm hosts with a pre-shared key, before
 * anything else is said on a TCP connection (control or data stream).
 *
 * The key file holds the key itself (any bytes, 16 to 4096 of them, a final
 * newline not counted); shmctl refuses a file group or others may read or
 * write, or that is not a regular file. Both sides prove they hold the key
 * without sending it: HMAC-SHA256 (computed by the kernel, AF_ALG) over the
 * other side's fresh random challenge, each proof bound to its direction.
 * Whoever does not hold the key learns nothing it could replay, and is
 * refused before it can start, feed or read a migration.
 */
#ifndef SHMCTL_AUTH_H
#define SHMCTL_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_KEY_MIN	16
#define AUTH_KEY_MAX	4096
#define AUTH_MAC_LEN	32

struct auth_key {
	uint8_t bytes[AUTH_KEY_MAX];
	size_t len;
};

/*
 * Loads the key in @path. On failure returns a negative errno (the open's
 * or read's own; -EINVAL not a regular file or too short a key; -EPERM
 * group or others have access; -EFBIG too long a key) and leaves in @why a
 * sentence saying what to fix (e.g. "key file /etc/shm/key is open to its
 * group or others: chmod 600 /etc/shm/key").
 */
int auth_load_key(const char *path, struct auth_key *key, char *why,
		  size_t why_len);

/*
 * Runs the handshake on connected socket @fd, as the side that connected
 * (@initiator) or the side that accepted. Returns 0 when both sides proved
 * they hold the key; -EACCES when the peer's proof is wrong (or the peer
 * refused ours); -EPROTO when the peer does not speak this handshake;
 * another negative errno when the connection failed or AF_ALG is missing.
 * Gives up (-ETIMEDOUT) when the whole handshake takes longer than
 * @timeout_ms; a negative @timeout_ms waits forever. Reads exactly the
 * handshake's bytes, never more: what follows on @fd is the caller's.
 */
int auth_handshake(int fd, const struct auth_key *key, bool initiator,
		   int timeout_ms);

#endif /* SHMCTL_AUTH_H */
