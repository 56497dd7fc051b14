/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHM_STREAM_H
#define _SHM_STREAM_H

#include <linux/net.h>
#include <linux/types.h>
#include <net/netlink.h>
#include <shm/wire.h>

#include "lz4.h"

struct shm_engine;

/* The pages a source stream has gathered for its next frame (send.c). */
#define SHM_SEND_BATCH SHM_COMPAT_MAX_PAGES
struct shm_run {
	const struct shm_memslot *slot;
	u8 type;
	u64 gfn;
	u32 count;
	struct page *pages[SHM_SEND_BATCH];
};

/* One TCP connection of a session, driven by one kernel thread. */
struct shm_stream {
	struct shm_engine *engine;
	unsigned int index;
	struct socket *sock;
	struct task_struct *thread;
	/* Pages of the current round so far, sent or written. */
	u32 round_pages;
	struct shm_run run;
	/* If the session compresses, or (a destination's) its source does. */
	struct shm_lz4 lz4;
	/*
	 * A source's on SHM_COMPRESS_AUTO: pages to send untried, after
	 * @lz4_misses pages in a row that LZ4 could not shrink (send.c).
	 */
	u32 lz4_skip;
	u32 lz4_misses;
};

int shm_stream_attach(struct shm_stream *stream, int fd,
		      struct netlink_ext_ack *extack);
void shm_stream_shutdown(struct shm_stream *stream);
void shm_stream_release(struct shm_stream *stream);

int shm_stream_send_frame(struct shm_stream *stream, u8 type, u8 flags,
			  u16 as_id, u32 round, u32 count, u64 arg, bool more);
int shm_stream_send_pages(struct shm_stream *stream, struct page **pages,
			  unsigned int n);
/* MSG_MORE if @more: a frame's header or page data, more to follow. */
int shm_stream_send_bytes(struct shm_stream *stream, const void *buf,
			  size_t len, bool more);
int shm_stream_recv_frame(struct shm_stream *stream,
			  struct shm_wire_frame *frame);
int shm_stream_recv_bytes(struct shm_stream *stream, void *buf, size_t len);
/* Receives one page into @page, a kernel page. */
int shm_stream_recv_page(struct shm_stream *stream, struct page *page);
/* Receives @len bytes straight into the adopted address space at @uaddr. */
int shm_stream_recv_user(struct shm_stream *stream, unsigned long uaddr,
			 size_t len);

#endif /* _SHM_STREAM_H */
