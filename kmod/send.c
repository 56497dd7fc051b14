// SPDX-License-Identifier: GPL-2.0
/*
 * A source stream: each round, the dirty pages of its shard, straight from
 * guest memory to the socket; zero pages as a run, not as 4 KiB of zeros.
 */

#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/mm.h>

#include "engine.h"

/* A run of zero pages not sent yet. */
struct shm_zero_run {
	const struct shm_memslot *slot;
	u64 gfn;
	u32 count;
};

static int shm_flush_zero_run(struct shm_stream *stream,
			      struct shm_zero_run *run, u32 round)
{
	int err;

	if (!run->count)
		return 0;
	err = shm_stream_send_frame(stream, SHM_WIRE_ZERO, 0,
				    run->slot->as_id, round, run->count,
				    run->gfn, true);
	stream->round_pages += run->count;
	run->count = 0;
	return err;
}

static bool shm_page_is_zero(struct page *page)
{
	void *addr = kmap_local_page(page);
	bool zero = !memchr_inv(addr, 0, PAGE_SIZE);

	kunmap_local(addr);
	return zero;
}

static int shm_send_one(struct shm_stream *stream,
			const struct shm_memslot *slot, u64 index,
			struct shm_zero_run *run, u32 round,
			struct shm_round_stats *stats)
{
	u64 gfn = slot->base_gfn + index;
	struct page *page;
	int err;

	err = get_user_pages_fast(slot->hva + index * PAGE_SIZE, 1, 0, &page);
	if (err != 1)
		return err < 0 ? err : -EFAULT;

	if (shm_page_is_zero(page)) {
		put_page(page);
		if (run->count && (run->slot != slot ||
				   run->gfn + run->count != gfn ||
				   run->count == SHM_WIRE_MAX_RUN)) {
			err = shm_flush_zero_run(stream, run, round);
			if (err)
				return err;
		}
		if (!run->count) {
			run->slot = slot;
			run->gfn = gfn;
		}
		run->count++;
		stats->zero_pages++;
		stats->bytes += run->count == 1 ? sizeof(struct shm_wire_frame) : 0;
		return 0;
	}

	err = shm_flush_zero_run(stream, run, round);
	if (!err)
		err = shm_stream_send_frame(stream, SHM_WIRE_PAGE, 0,
					    slot->as_id, round, 0, gfn, true);
	if (!err)
		err = shm_stream_send_page(stream, page);
	put_page(page);
	if (err)
		return err;
	stream->round_pages++;
	stats->sent_pages++;
	stats->bytes += sizeof(struct shm_wire_frame) + PAGE_SIZE;
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
	struct shm_zero_run run = {};
	u64 first, last;
	int err;

	for (; chunk < end; chunk += 1 << SHM_WIRE_SHARD_SHIFT) {
		if (shm_wire_shard(chunk, streams) != stream->index)
			continue;
		first = max(chunk, slot->base_gfn) - slot->base_gfn;
		last = min(chunk + (1 << SHM_WIRE_SHARD_SHIFT), end) -
		       slot->base_gfn;
		for_each_set_bit_from(first, slot->dirty, last) {
			err = shm_send_one(stream, slot, first, &run, round,
					   stats);
			if (err)
				return err;
		}
		err = shm_flush_zero_run(stream, &run, round);
		if (err)
			return err;
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
		if (err)
			return err;
	}
	err = shm_stream_send_frame(stream, SHM_WIRE_ROUND_END,
				    final ? SHM_WIRE_F_FINAL : 0, 0, round,
				    stream->round_pages, 0, false);
	if (err)
		return err;
	stats.bytes += sizeof(struct shm_wire_frame);

	/* Applied, not just sent: the destination wrote every page. */
	err = shm_stream_recv_frame(stream, &ack);
	if (err)
		return err;
	if (be16_to_cpu(ack.magic) != SHM_WIRE_MAGIC ||
	    ack.type != SHM_WIRE_ACK || be32_to_cpu(ack.round) != round)
		return -EPROTO;

	spin_lock(&engine->lock);
	engine->last.sent_pages += stats.sent_pages;
	engine->last.zero_pages += stats.zero_pages;
	engine->last.bytes += stats.bytes;
	spin_unlock(&engine->lock);
	return 0;
}

int shm_send_stream(void *data)
{
	struct shm_stream *stream = data;
	struct shm_engine *engine = stream->engine;
	u32 done = 0, round;
	bool final;
	int err;

	err = shm_vm_use_mm(&engine->vm);
	if (err) {
		shm_engine_fail(engine, err, "the source VMM has exited");
		goto park;
	}
	err = shm_stream_send_frame(stream, SHM_WIRE_HELLO, 0, 0,
				    SHM_PROTOCOL_VERSION, stream->index,
				    engine->nr_streams, false);
	while (!err) {
		wait_event(engine->wait, READ_ONCE(engine->round) != done ||
			   shm_engine_failed(engine) || kthread_should_stop());
		if (shm_engine_failed(engine) || kthread_should_stop())
			break;
		round = READ_ONCE(engine->round);
		/* Pairs with the smp_wmb() in shm_run_round(). */
		smp_rmb();
		final = READ_ONCE(engine->final_round);
		err = shm_send_round(stream, round, final);
		if (err)
			break;
		done = round;
		if (atomic_dec_and_test(&engine->busy))
			wake_up_all(&engine->wait);
		if (final)
			break;
	}
	if (err && err != -EINTR)
		shm_engine_fail(engine, err, "stream %u to the destination failed (%d)",
				stream->index, err);
	shm_vm_unuse_mm(&engine->vm);
park:
	return shm_thread_park();
}
