/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * The data protocol between the shm.ko of two hosts: what travels on each
 * TCP stream of a session once user space has handed the sockets over.
 * Version SHM_PROTOCOL_VERSION (netlink.h); peers must match exactly.
 *
 * Everything is a 24-byte frame header (struct shm_wire_frame, big endian),
 * sometimes followed by a payload. Unused fields are zero, and the receiver
 * checks that they are.
 *
 * Source to destination, on every stream:
 *   HELLO	first frame, once: round = SHM_PROTOCOL_VERSION, count = this
 *		stream's index, arg = the number of streams.
 *   PAGE	as_id, arg = first gfn, count = pages (1..SHM_WIRE_MAX_RUN);
 *		followed by count * SHM_WIRE_PAGE_SIZE bytes, the contents
 *		of these consecutive pages.
 *   ZERO	as_id, arg = first gfn, count = pages (1..SHM_WIRE_MAX_RUN):
 *		these consecutive pages hold only zeros.
 *   LZ4	as_id, arg = gfn, count = bytes (1..SHM_WIRE_LZ4_MAX);
 *		followed by that many bytes: one LZ4 block (no frame
 *		header) that decompresses to exactly SHM_WIRE_PAGE_SIZE
 *		bytes, the page's contents. Only from a source asked to
 *		compress (SHM_SESSION_A_COMPRESS).
 * The pages of a PAGE or ZERO frame lie within one memslot and one shard
 * run (below).
 *   ROUND_END	count = pages (PAGE, ZERO and LZ4) this stream sent in the
 *		round;
 *		flags SHM_WIRE_F_FINAL on the last round.
 * Destination to source, on every stream:
 *   ACK	round: every page of that round on this stream is written.
 *
 * Every PAGE, ZERO, LZ4 and ROUND_END carries the round it belongs to; rounds
 * start at 1 and go up by one. A page is always sent on the stream of its
 * shard, shm_wire_shard(gfn, streams), so that two versions of one page
 * never race each other on different streams. After the ACK of the final
 * round both sides close the stream.
 */
#ifndef _UAPI_SHM_WIRE_H
#define _UAPI_SHM_WIRE_H

#include <linux/types.h>

#define SHM_WIRE_MAGIC		0x5348	/* "SH" */
#define SHM_WIRE_PAGE_SHIFT	12
#define SHM_WIRE_PAGE_SIZE	(1 << SHM_WIRE_PAGE_SHIFT)
#define SHM_WIRE_MAX_RUN	512
/* A page that LZ4 does not shrink to this goes as a PAGE. */
#define SHM_WIRE_LZ4_MAX	(SHM_WIRE_PAGE_SIZE * 3 / 4)
/* Pages go to streams in runs of 2^SHM_WIRE_SHARD_SHIFT (2 MiB). */
#define SHM_WIRE_SHARD_SHIFT	9

enum shm_wire_type {
	SHM_WIRE_HELLO = 1,
	SHM_WIRE_PAGE,
	SHM_WIRE_ZERO,
	SHM_WIRE_ROUND_END,
	SHM_WIRE_ACK,
	SHM_WIRE_LZ4,
};

#define SHM_WIRE_F_FINAL	0x01

struct shm_wire_frame {
	__be16 magic;
	__u8 type;
	__u8 flags;
	__be16 as_id;
	__be16 reserved;
	__be32 round;
	__be32 count;
	__be64 arg;
};

static inline unsigned int shm_wire_shard(__u64 gfn, unsigned int streams)
{
	return (gfn >> SHM_WIRE_SHARD_SHIFT) % streams;
}

#endif /* _UAPI_SHM_WIRE_H */
