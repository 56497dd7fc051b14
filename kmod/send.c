// SPDX-License-Identifier: GPL-2.0
/*
 * A source stream: each round, the dirty pages of its shard, straight from
 * guest memory to the socket, consecutive pages under one frame header;
 * zero pages as a run, not as 4 KiB of zeros each. A session that
 * compresses sends a page LZ4 shrinks enough as an LZ4 frame instead, a
 * copy: the link is what it saves, not the CPU. Compressing only as it
 * pays (SHM_COMPRESS_AUTO), it does so while the socket is backed up.
 */

#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <net/sock.h>

#include "engine.h"
#include "session.h"

/*
 * stream->run: consecutive pages waiting to go as one frame, all zero (a
 * ZERO frame, up to SHM_WIRE_MAX_RUN of them) or not (a PAGE frame and the
 * pages, at most SHM_SEND_BATCH, held until sent).
 */

static void shm_run_release(struct shm_run *run)
{
	u32 i;

	if (run->type == SHM_WIRE_PAGE)
		for (i = 0; i < run->count; i++)
			put_page(run->pages[i]);
	run->count = 0;
}

static int shm_run_flush(struct shm_stream *stream, struct shm_run *run,
			 u32 round, struct shm_round_stats *stats)
{
	int err;

	if (!run->count)
		return 0;
	err = shm_engine_throttle(stream->engine, sizeof(struct shm_wire_frame) +
				  (run->type == SHM_WIRE_PAGE ?
				   (u64)run->count * PAGE_SIZE : 0));
	if (!err)
		err = shm_stream_send_frame(stream, run->type, 0,
					    run->slot->as_id, round,
					    run->count, run->gfn, true);
	if (!err && run->type == SHM_WIRE_PAGE)
		err = shm_stream_send_pages(stream, run->pages, run->count);
	if (!err) {
		stream->round_pages += run->count;
		stats->bytes += sizeof(struct shm_wire_frame);
		if (run->type == SHM_WIRE_PAGE) {
			stats->sent_pages += run->count;
			stats->bytes += (u64)run->count * PAGE_SIZE;
		} else {
			stats->zero_pages += run->count;
		}
	}
	/* TCP holds its own references to the pages it still has to send. */
	shm_run_release(run);
	return err;
}

/* @page, compressed to the @len bytes in stream->lz4.packed. */
static int shm_send_packed(struct shm_stream *stream,
			   const struct shm_memslot *slot, u64 gfn,
			   unsigned int len, u32 round,
			   struct shm_round_stats *stats)
{
	int err;

	err = shm_engine_throttle(stream->engine,
				  sizeof(struct shm_wire_frame) + len) ?:
	      shm_stream_send_frame(stream, SHM_WIRE_LZ4, 0, slot->as_id,
				    round, len, gfn, true) ?:
	      shm_stream_send_bytes(stream, stream->lz4.packed, len, true);
	if (err)
		return err;
	stream->round_pages++;
	stats->sent_pages++;
	stats->lz4_pages++;
	stats->bytes += sizeof(struct shm_wire_frame) + len;
	return 0;
}

/* The most pages that go untried after pages LZ4 could not shrink. */
#define SHM_LZ4_SKIP_MAX	64

/*
 * Whether to spend a copy and LZ4 on the next page: always, if asked; on
 * SHM_COMPRESS_AUTO only while the link, not this thread, holds the
 * stream back: while the bandwidth cap makes sends wait, or TCP's queue
 * is fuller than poll calls writable (two thirds of its buffer). Raw
 * pages fill the queue at memory speed and then wait; packed ones keep it
 * at that mark as long as LZ4 keeps up with the link, and when it does
 * not the queue drains below it and pages go as they are again: the CPU
 * goes to LZ4 only as fast as the link takes its output. Unlocked reads,
 * as poll makes them: a wrong guess costs a page's worth of either.
 */
static bool shm_send_packs(struct shm_stream *stream)
{
	struct shm_engine *engine = stream->engine;

	if (!stream->lz4.tfm)
		return false;
	if (engine->session->params.compress == SHM_COMPRESS_ALWAYS)
		return true;
	if (stream->lz4_skip) {
		stream->lz4_skip--;
		return false;
	}
	return !sk_stream_is_writeable(stream->sock->sk) ||
	       shm_engine_capped(engine);
}

/*
 * On auto, a page LZ4 could not shrink lets the next ones go untried,
 * twice as many after each such page in a row: memory that does not
 * compress (random, encrypted or compressed data) comes in long runs,
 * and each try would cost a copy and LZ4's time for nothing.
 */
static void shm_send_tried(struct shm_stream *stream, bool shrank)
{
	if (shrank ||
	    stream->engine->session->params.compress != SHM_COMPRESS_AUTO) {
		stream->lz4_misses = 0;
		return;
	}
	if (stream->lz4_misses < ilog2(SHM_LZ4_SKIP_MAX))
		stream->lz4_misses++;
	stream->lz4_skip = 1U << stream->lz4_misses;
}

/*
 * Eight words ORed at a time: half of a guest's pages may be zero, each
 * read whole, and memchr_inv() takes a compare and a branch per word.
 */
static bool shm_page_is_zero(struct page *page)
{
	const u64 *addr = kmap_local_page(page), *word;
	u64 bits = 0;

	for (word = addr; !bits && word < addr + PAGE_SIZE / sizeof(u64);
	     word += 8)
		bits = word[0] | word[1] | word[2] | word[3] |
		       word[4] | word[5] | word[6] | word[7];
	kunmap_local(addr);
	return !bits;
}

static int shm_send_one(struct shm_stream *stream,
			const struct shm_memslot *slot, u64 index,
			struct shm_run *run, u32 round,
			struct shm_round_stats *stats)
{
	u64 gfn = slot->base_gfn + index;
	u8 type = SHM_WIRE_ZERO;
	unsigned int packed;
	struct page *page;
	int err;

	/* A hole is zero, with no page to read (nor to allocate by reading). */
	if (!slot->holes || !test_bit(index, slot->holes)) {
		err = get_user_pages_fast(slot->hva + index * PAGE_SIZE, 1, 0,
					  &page);
		if (err != 1)
			return err < 0 ? err : -EFAULT;
		if (shm_page_is_zero(page))
			put_page(page);
		else
			type = SHM_WIRE_PAGE;
	}
	if (type == SHM_WIRE_PAGE && shm_send_packs(stream)) {
		packed = shm_lz4_pack(&stream->lz4, page);
		shm_send_tried(stream, packed);
		if (packed) {
			put_page(page);
			return shm_run_flush(stream, run, round, stats) ?:
			       shm_send_packed(stream, slot, gfn, packed,
					       round, stats);
		}
	}

	if (run->count && (run->type != type || run->slot != slot ||
			   run->gfn + run->count != gfn ||
			   run->count == (type == SHM_WIRE_PAGE ?
					  SHM_SEND_BATCH : SHM_WIRE_MAX_RUN))) {
		err = shm_run_flush(stream, run, round, stats);
		if (err) {
			if (type == SHM_WIRE_PAGE)
				put_page(page);
			return err;
		}
	}
	if (!run->count) {
		run->slot = slot;
		run->type = type;
		run->gfn = gfn;
	}
	if (type == SHM_WIRE_PAGE)
		run->pages[run->count] = page;
	run->count++;
	return 0;
}

/*
 * The shard's pages of one slot: whole 2 MiB runs of guest frames belong to
 * one stream, and a zero run never crosses one (the receiver checks that).
 */
static int shm_send_slot(struct shm_stream *stream,
			 const struct shm_memslot *slot, u32 round,
			 struct shm_round_stats *stats)
{
	unsigned int streams = stream->engine->nr_streams;
	u64 end = slot->base_gfn + slot->npages;
	u64 chunk = round_down(slot->base_gfn, 1 << SHM_WIRE_SHARD_SHIFT);
	struct shm_run *run = &stream->run;
	u64 first, last;
	int err;

	for (; chunk < end; chunk += 1 << SHM_WIRE_SHARD_SHIFT) {
		if (shm_wire_shard(chunk, streams) != stream->index)
			continue;
		first = max(chunk, slot->base_gfn) - slot->base_gfn;
		last = min(chunk + (1 << SHM_WIRE_SHARD_SHIFT), end) -
		       slot->base_gfn;
		for_each_set_bit_from(first, slot->dirty, last) {
			err = shm_send_one(stream, slot, first, run, round,
					   stats);
			if (err)
				return err;
		}
		/* A frame never spans two shard runs. */
		err = shm_run_flush(stream, run, round, stats);
		if (err)
			return err;
		/* Progress as it happens, not only when the round ends. */
		shm_engine_count(stream->engine, stats);
		if (kthread_should_stop() || shm_engine_failed(stream->engine))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

static int shm_send_round(struct shm_stream *stream, u32 round, bool final)
{
	struct shm_engine *engine = stream->engine;
	struct shm_round_stats stats = {};
	struct shm_wire_frame ack;
	unsigned int i;
	int err;

	stream->round_pages = 0;
	for (i = 0; i < engine->vm.nr_slots; i++) {
		err = shm_send_slot(stream, &engine->vm.slots[i], round,
				    &stats);
		if (err) {
			shm_run_release(&stream->run);
			return err;
		}
	}
	err = shm_stream_send_frame(stream, SHM_WIRE_ROUND_END,
				    final ? SHM_WIRE_F_FINAL : 0, 0, round,
				    stream->round_pages, 0, false);
	if (err)
		return err;
	if (final)
		shm_engine_stream_sent_final(engine);
	stats.bytes += sizeof(struct shm_wire_frame);

	/* Applied, not just sent: the destination wrote every page. */
	err = shm_stream_recv_frame(stream, &ack);
	if (err)
		return err;
	if (be16_to_cpu(ack.magic) != SHM_WIRE_MAGIC ||
	    ack.type != SHM_WIRE_ACK || be32_to_cpu(ack.round) != round)
		return -EPROTO;

	shm_engine_count(engine, &stats);
	return 0;
}

/* Fails the engine for @err (other than a stop); returns @err. */
static int shm_send_failed(struct shm_stream *stream, int err)
{
	if (err && err != -EINTR)
		shm_engine_fail(stream->engine, err,
				"stream %u to the destination failed (%pe)",
				stream->index, ERR_PTR(err));
	return err;
}

/*
 * Until stopped, the stream takes part in every round the control thread
 * starts, even after a failure (then at once, sending nothing): the control
 * thread counts on every stream leaving every round.
 */
int shm_send_stream(void *data)
{
	struct shm_stream *stream = data;
	struct shm_engine *engine = stream->engine;
	u32 done = 0, round;
	bool final;
	int err;

	shm_vm_use_mm(&engine->vm);
	err = shm_send_failed(stream,
			      shm_stream_send_frame(stream, SHM_WIRE_HELLO, 0, 0,
						    SHM_PROTOCOL_VERSION,
						    stream->index,
						    engine->nr_streams, false));
	while (!kthread_should_stop()) {
		wait_event_idle(engine->wait,
				READ_ONCE(engine->round) != done ||
				kthread_should_stop());
		round = READ_ONCE(engine->round);
		if (round == done)
			continue;
		/* Pairs with the smp_wmb() in shm_run_round(). */
		smp_rmb();
		final = READ_ONCE(engine->final_round);
		if (!err && shm_engine_failed(engine))
			err = -EINTR;
		if (!err)
			err = shm_send_failed(stream,
					      shm_send_round(stream, round, final));
		done = round;
		if (atomic_dec_and_test(&engine->busy))
			wake_up_all(&engine->wait);
	}
	shm_vm_unuse_mm(&engine->vm);
	return 0;
}
