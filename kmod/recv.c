// SPDX-License-Identifier: GPL-2.0
/*
 * A destination stream: every frame from the wire is checked before it
 * touches guest memory (known type, reserved fields zero, the right round,
 * gfn and count in this stream's shard and inside one memslot of this VM);
 * then pages go straight from the socket into the guest. A compressed
 * page goes in only once it has made exactly one page. Pages for
 * addresses the VM does not map yet are held, bounded (held.h), and so
 * is every page that comes before the VM.
 */

#include <linux/kthread.h>
#include <linux/pagemap.h>
#include <linux/uaccess.h>

#include "engine.h"
#include "holes.h"

struct shm_recv {
	struct shm_stream *stream;
	u32 round;
	bool final;
	/* The engine's VM is there, and its address space ours. */
	bool vm;
};

static int shm_recv_reject(struct shm_recv *r, const char *what,
			   const struct shm_wire_frame *f)
{
	shm_engine_fail(r->stream->engine, -EPROTO,
			"stream %u: %s (frame type %u, round %u, gfn %llu, count %u)",
			r->stream->index, what, f->type, be32_to_cpu(f->round),
			be64_to_cpu(f->arg), be32_to_cpu(f->count));
	return -EPROTO;
}

/*
 * Where the frame's pages go: *@hva, in one memslot of the VM, or 0 when
 * the VM does not map them yet (they are held, see held.h). Either way
 * they must be of one shard run, and that shard this stream's.
 */
static int shm_recv_place(struct shm_recv *r, const struct shm_wire_frame *f,
			  u64 count, unsigned long *hva)
{
	struct shm_engine *engine = r->stream->engine;
	u64 gfn = be64_to_cpu(f->arg);
	const struct shm_memslot *slot;

	if ((gfn >> SHM_WIRE_SHARD_SHIFT) !=
	    ((gfn + count - 1) >> SHM_WIRE_SHARD_SHIFT) ||
	    shm_wire_shard(gfn, engine->nr_streams) != r->stream->index)
		return shm_recv_reject(r, "pages of another stream's shard", f);
	slot = r->vm ? shm_vm_find_slot(&engine->vm, be16_to_cpu(f->as_id),
					gfn, count) : NULL;
	*hva = slot ? shm_memslot_hva(slot, gfn) : 0;
	return 0;
}

/* @err of holding a frame's pages: the refusals are the peer's doing. */
static int shm_recv_held(struct shm_recv *r, const struct shm_wire_frame *f,
			 int err)
{
	if (err == -E2BIG)
		return shm_recv_reject(r, "too many pages for addresses the VM does not map", f);
	if (err == -ERANGE)
		return shm_recv_reject(r, "pages outside any VM's memory", f);
	return err;
}

/* Where pages the VM does not map wait: see held.h. */
static struct shm_held *shm_recv_store(struct shm_recv *r)
{
	struct shm_engine *engine = r->stream->engine;

	return r->vm ? &engine->held : &engine->early;
}

static int shm_recv_hold(struct shm_recv *r, const struct shm_wire_frame *f,
			 u32 count, bool zero)
{
	return shm_recv_held(r, f, shm_held_recv(shm_recv_store(r), r->stream,
						 be16_to_cpu(f->as_id),
						 be64_to_cpu(f->arg), count,
						 zero));
}

/*
 * Guest memory that will not take a write: most likely the filesystem of
 * the VM's RAM file is full (its VMM maps it shared, so every page the
 * guest gets takes room there), or the VMM unmapped it. Found before the
 * frame's pages are read off the socket, so that this is the reason
 * given, not a short read.
 */
static int shm_recv_unwritable(struct shm_recv *r,
			       const struct shm_wire_frame *f, u32 pages)
{
	shm_engine_fail(r->stream->engine, -EFAULT,
			"cannot write the VM's memory at gfn %llu (%u pages): is the filesystem of its RAM file full?",
			be64_to_cpu(f->arg), pages);
	return -EFAULT;
}

/* The @len bytes of an LZ4 frame, unpacked into stream->lz4.page. */
static int shm_recv_unpack(struct shm_recv *r, const struct shm_wire_frame *f,
			   u32 len)
{
	struct shm_stream *stream = r->stream;
	int err;

	if (!stream->lz4.tfm)
		return shm_recv_reject(r, "a compressed page from a source that said it would not compress", f);
	err = shm_stream_recv_bytes(stream, stream->lz4.packed, len);
	if (err)
		return err;
	if (!shm_lz4_unpack(&stream->lz4, len))
		return shm_recv_reject(r, "a compressed page that does not make one page", f);
	return 0;
}

static int shm_recv_frame(struct shm_recv *r, const struct shm_wire_frame *f)
{
	struct shm_stream *stream = r->stream;
	struct shm_engine *engine = stream->engine;
	u32 count = be32_to_cpu(f->count);
	struct shm_round_stats stats = {};
	unsigned long hva;
	int err;

	if (be32_to_cpu(f->round) != r->round)
		return shm_recv_reject(r, "frame of the wrong round", f);

	switch (f->type) {
	case SHM_WIRE_PAGE:
		if (!count || count > SHM_WIRE_MAX_RUN || f->flags)
			return shm_recv_reject(r, "malformed page frame", f);
		err = shm_recv_place(r, f, count, &hva);
		if (err)
			return err;
		if (!hva)
			err = shm_recv_hold(r, f, count, false);
		else if (fault_in_writeable((char __user *)hva,
					    (size_t)count * PAGE_SIZE))
			err = shm_recv_unwritable(r, f, count);
		else
			err = shm_stream_recv_user(stream, hva,
						   (size_t)count * PAGE_SIZE);
		if (err)
			return err;
		stream->round_pages += count;
		stats.sent_pages = count;
		stats.bytes = sizeof(*f) + (u64)count * PAGE_SIZE;
		shm_engine_count(engine, &stats);
		return 0;
	case SHM_WIRE_ZERO:
		if (!count || count > SHM_WIRE_MAX_RUN || f->flags)
			return shm_recv_reject(r, "malformed zero run", f);
		err = shm_recv_place(r, f, count, &hva);
		if (err)
			return err;
		/* A hole is zero already; clearing it would fill it. */
		if (!hva)
			err = shm_recv_hold(r, f, count, true);
		else if (!shm_holes_only(engine->vm.mm, hva, count * PAGE_SIZE) &&
			 clear_user((void __user *)hva, (size_t)count * PAGE_SIZE))
			err = shm_recv_unwritable(r, f, count);
		if (err)
			return err;
		stream->round_pages += count;
		stats.zero_pages = count;
		stats.bytes = sizeof(*f);
		shm_engine_count(engine, &stats);
		return 0;
	case SHM_WIRE_LZ4:
		if (!count || count > SHM_WIRE_LZ4_MAX || f->flags)
			return shm_recv_reject(r, "malformed compressed page", f);
		err = shm_recv_place(r, f, 1, &hva) ?:
		      shm_recv_unpack(r, f, count);
		if (err)
			return err;
		if (!hva)
			err = shm_recv_held(r, f,
					    shm_held_copy(shm_recv_store(r),
							  be16_to_cpu(f->as_id),
							  be64_to_cpu(f->arg),
							  stream->lz4.page));
		else if (copy_to_user((void __user *)hva, stream->lz4.page,
				      PAGE_SIZE))
			err = shm_recv_unwritable(r, f, 1);
		if (err)
			return err;
		stream->round_pages++;
		stats.sent_pages = 1;
		stats.bytes = sizeof(*f) + count;
		shm_engine_count(engine, &stats);
		return 0;
	case SHM_WIRE_ROUND_END:
		if (f->as_id || f->arg || (f->flags & ~SHM_WIRE_F_FINAL))
			return shm_recv_reject(r, "malformed round end", f);
		/* The source pauses its VM only once ours is READY. */
		if ((f->flags & SHM_WIRE_F_FINAL) && !r->vm)
			return shm_recv_reject(r, "the final round before the destination had its VM", f);
		if (count != stream->round_pages)
			return shm_recv_reject(r, "round end counts other pages than arrived", f);
		err = shm_stream_send_frame(stream, SHM_WIRE_ACK, 0, 0, r->round,
					    0, 0, false);
		if (err)
			return err;
		spin_lock(&engine->lock);
		engine->rounds_done = max(engine->rounds_done, r->round);
		engine->total_bytes += sizeof(*f);
		spin_unlock(&engine->lock);
		r->final = f->flags & SHM_WIRE_F_FINAL;
		stream->round_pages = 0;
		r->round++;
		return 0;
	default:
		return shm_recv_reject(r, "unexpected frame type", f);
	}
}

static int shm_recv_hello(struct shm_recv *r)
{
	struct shm_stream *stream = r->stream;
	struct shm_wire_frame f;
	int err;

	err = shm_stream_recv_frame(stream, &f);
	if (err)
		return err;
	if (be16_to_cpu(f.magic) != SHM_WIRE_MAGIC || f.type != SHM_WIRE_HELLO)
		return shm_recv_reject(r, "the peer does not speak shm", &f);
	if (be32_to_cpu(f.round) != SHM_PROTOCOL_VERSION)
		return shm_recv_reject(r, "the peer speaks another protocol version", &f);
	if (be32_to_cpu(f.count) != stream->index ||
	    be64_to_cpu(f.arg) != stream->engine->nr_streams)
		return shm_recv_reject(r, "streams connected in another order or number", &f);
	return 0;
}

/*
 * Until the destination's VM is attached (SHM_CMD_SESSION_ATTACH_VM), what
 * arrives waits in the engine's early store; once that is full, the
 * stream stops reading and the source's sends back up behind it. With the
 * VM there, the stream takes its address space and first writes its own
 * shard's early pages: later copies of those pages come down this stream
 * only, after them.
 */
static int shm_recv_await_vm(struct shm_recv *r, const struct shm_wire_frame *f)
{
	struct shm_stream *stream = r->stream;
	struct shm_engine *engine = stream->engine;
	int err;

	wait_event_idle(engine->wait,
			atomic_read(&engine->early.nr) < SHM_HELD_EARLY_PAGES ||
			shm_engine_has_vm(engine) ||
			shm_engine_failed(engine) || kthread_should_stop());
	if (!shm_engine_has_vm(engine))
		return shm_engine_failed(engine) || kthread_should_stop() ?
		       -ECANCELED : 0;
	shm_vm_use_mm(&engine->vm);
	r->vm = true;
	err = shm_held_settle(&engine->early, stream->index,
			      engine->nr_streams, &engine->vm, &engine->held);
	if (err == -EFAULT) {
		shm_engine_fail(engine, err,
				"cannot write the VM's memory: is the filesystem of its RAM file full?");
		return err;
	}
	return shm_recv_held(r, f, err);
}

int shm_recv_stream(void *data)
{
	struct shm_stream *stream = data;
	struct shm_engine *engine = stream->engine;
	struct shm_recv r = { .stream = stream, .round = 1 };
	struct shm_wire_frame f;
	int err;

	err = shm_recv_hello(&r);
	while (!err && !r.final) {
		err = shm_stream_recv_frame(stream, &f);
		if (err)
			break;
		if (be16_to_cpu(f.magic) != SHM_WIRE_MAGIC || f.reserved) {
			err = shm_recv_reject(&r, "bad frame header", &f);
			break;
		}
		if (!r.vm)
			err = shm_recv_await_vm(&r, &f);
		err = err ?: shm_recv_frame(&r, &f);
	}
	if (r.vm)
		shm_vm_unuse_mm(&engine->vm);
	if (r.final)
		shm_engine_stream_finished(engine);
	else if (err != -EPROTO)
		shm_engine_fail(engine, err, "stream %u from the source failed (%pe)",
				stream->index, ERR_PTR(err));
	return shm_thread_park();
}
