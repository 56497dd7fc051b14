/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The link between shmctl migrate (source) and shmctl serve (destination):
 * TCP connections, each authenticated first (auth.h), then one line per
 * message, "WORD key=value ..." — and, for the VM's state, raw bytes of a
 * length given on the line before. Lines are read a byte at a time: a data
 * stream's socket goes to shm.ko right after its line, with nothing of
 * what follows already read.
 *
 * Control connection, in order:
 *   source: MIGRATE link=L proto=P driver=D desc=DESC ram=BYTES streams=N
 *           compress=C [dry=1] [watch=ADDR] vendor=V flags=F1,F2,...
 *           [cpu=WORDS]
 *           (L: LINK_VERSION; P: shm.ko's; C: never, auto or always, as
 *           migrate --compress; the guest's CPU, cpuid.h, if the VMM
 *           driver can tell)
 *   dest:   OK link=L id=ID  (dry run: OK link=L dry=1)  or  ERR sentence
 *           (its preflight passed; it starts the VM now; a dry run's OK
 *           comes once it did, with the VM's CPU checked)
 *   (source opens N data connections: STREAM id=ID index=I, each OK;
 *   it may send at once: shm.ko there holds pages until the VM started)
 *   dest:   READY                          its VM started, its session
 *                                          runs; an ERR before is a refusal
 *   source: STATE len=BYTES [paused=1], then the bytes: a piece of the
 *           VM's vCPU and device state, as its VMM gives it out (vmm.h),
 *           from the cutover on. Pieces without paused=1 may come while
 *           the guest still runs, and load at once; the first paused=1
 *           piece comes after the final round, and loads after it.
 *   source: SAVED [digest=HEX]             all the state is out
 *           (digest: migrate --verify, digest.h)
 *   dest:   RESTORED                       the VM could run there
 *   source: GO                             it will never run here again
 *   dest:   RUNNING                        the guest runs there
 *   source: CLOCK ...                      the downtime's halves (measure.h)
 * Either side ends the migration by closing the connection, or with an
 * ERR line saying why; before GO, that is a failure on both sides and the
 * VM runs on at the source. GO commits: the destination runs the VM once
 * it has GO, and never without; after GO the source resumes its VM only
 * on an ERR, which the destination sends once its VM is gone, never on
 * silence or a broken connection: one VM never runs twice.
 */
#ifndef SHMCTL_LINK_H
#define SHMCTL_LINK_H

#include <stddef.h>
#include <stdint.h>

#define LINK_DEFAULT_PORT	7410
/*
 * What this conversation is, as both sides speak it. Any change to it
 * bumps this: each side refuses the other's other version at MIGRATE,
 * before either starts anything, rather than misreading it at the cutover.
 */
#define LINK_VERSION		2
/*
 * A MIGRATE line with desc, flags and cpu at their longest fits (checked
 * where the line is made, in migrate.c).
 */
#define LINK_LINE_MAX		(72 << 10)
#define LINK_TIMEOUT_MS		30000
/* The VM's state: a STATE piece's bytes at most, and all pieces'. */
#define LINK_STATE_PIECE_MAX	(1 << 20)
#define LINK_STATE_MAX		(64 << 20)
/*
 * A peer that stops answering (dead host, cut link) fails a connection
 * within this long, whether it is sending (TCP_USER_TIMEOUT) or idle
 * (keepalive probes): data streams in shm.ko included.
 */
#define LINK_DEAD_PEER_S	10

/* "ADDR port PORT" of @fd's peer, for logs. */
void link_peer_name(int fd, char *buf, size_t len);
/* Parses HOST[:PORT]; 0 or -EINVAL. */
int link_parse_address(const char *spec, char *host, size_t host_len,
		       uint16_t *port);
/* A TCP connection to @host:@port; -errno, with @why filled. */
int link_connect(const char *host, uint16_t port, char *why, size_t len);
/* A listening socket on @addr (NULL: any) and @port. */
int link_listen(const char *addr, uint16_t port, char *why, size_t len);
/* An accepted connection, with the same dead-peer timeouts; -errno. */
int link_accept(int lfd);

int link_send(int fd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* One line, without its newline; -ETIMEDOUT, -ECONNRESET, -E2BIG. */
int link_recv(int fd, char *line, size_t len, int timeout_ms);
int link_send_bytes(int fd, const void *buf, size_t len);
int link_recv_bytes(int fd, void *buf, size_t len, int timeout_ms);

/* The value of key=... in @line, copied to @buf; -ENOENT if absent. */
int link_get(const char *line, const char *key, char *buf, size_t len);
/* The same, as an unsigned number no larger than @max. */
int link_get_u64(const char *line, const char *key, uint64_t max,
		 uint64_t *value);
/* Whether @line's first word is @word. */
int link_is(const char *line, const char *word);
/*
 * Whether @line (MIGRATE, or the OK to it) is of our LINK_VERSION; if not,
 * -EPROTO and the sentence to print in @why, for @peer ("source").
 */
int link_check_version(const char *line, const char *peer, char *why,
		       size_t len);

#endif /* SHMCTL_LINK_H */
