// SPDX-License-Identifier: GPL-2.0
/*
 * The migration engine of one session: its threads, the pre-copy rounds of
 * a source, and how failures and the end reach the session.
 */

#include <linux/kthread.h>
#include <linux/slab.h>

#include "engine.h"
#include "netlink.h"
#include "session.h"

/* An idle guest dirties nothing: look again this often, not in a spin. */
#define SHM_IDLE_POLL (HZ / 10)

/*
 * Pre-copy has stalled when this many rounds in a row each left at least
 * SHM_FLAT_PERCENT of the previous round's dirty pages, and what is left
 * would still take longer than the max downtime.
 */
#define SHM_STALLED_ROUNDS 3
#define SHM_FLAT_PERCENT 90

/* How often a running engine checks that its VMM is still there. */
#define SHM_WATCH_INTERVAL (HZ / 10)

/* How long a round's end waits for the tracker's answer (uapi: a second). */
#define SHM_SCAN_WAIT HZ
/* How often the tracker is asked while no round ends (uapi: a second). */
#define SHM_SCAN_IDLE HZ

void shm_engine_fail(struct shm_engine *engine, int err, const char *fmt, ...)
{
	bool first = false;
	unsigned int i;
	va_list args;

	spin_lock(&engine->lock);
	if (!engine->error) {
		engine->error = err ?: -EIO;
		va_start(args, fmt);
		vsnprintf(engine->reason, sizeof(engine->reason), fmt, args);
		va_end(args);
		first = true;
	}
	spin_unlock(&engine->lock);
	if (!first)
		return;

	/* Unblock every thread, and tell the peer: its reads end too. */
	for (i = 0; i < engine->nr_streams; i++)
		shm_stream_shutdown(&engine->streams[i]);
	wake_up_all(&engine->wait);
	complete_all(&engine->finished);
	schedule_work(&engine->update_work);
}

bool shm_engine_failed(struct shm_engine *engine)
{
	return READ_ONCE(engine->error);
}

/* The work is queued before waiters wake, so they can flush it. */
static void shm_engine_finished(struct shm_engine *engine)
{
	shm_session_trace_cutover(engine->session, SHM_CUTOVER_ACKED);
	WRITE_ONCE(engine->finished_ok, true);
	schedule_work(&engine->update_work);
	complete_all(&engine->finished);
}

void shm_engine_stream_sent_final(struct shm_engine *engine)
{
	if (atomic_inc_return(&engine->final_sent) == engine->nr_streams)
		shm_session_trace_cutover(engine->session,
					  SHM_CUTOVER_FINAL_SENT);
}

void shm_engine_stream_finished(struct shm_engine *engine)
{
	if (atomic_dec_and_test(&engine->busy))
		shm_engine_finished(engine);
}

static void shm_engine_update(struct work_struct *work)
{
	struct shm_engine *engine = container_of(work, struct shm_engine,
						 update_work);

	shm_session_engine_changed(engine->session);
}

/*
 * A VMM that exits leaves its VM to us alone (we hold its file and address
 * space): moving memory into or out of it then makes no sense.
 */
static void shm_engine_watch(struct work_struct *work)
{
	struct shm_engine *engine = container_of(work, struct shm_engine,
						 watch_work.work);

	if (shm_engine_failed(engine) || completion_done(&engine->finished))
		return;
	if (shm_engine_has_vm(engine) && shm_vm_vmm_exited(&engine->vm)) {
		shm_engine_fail(engine, -ESRCH, "the %s VMM has exited",
				engine->role == SHM_ROLE_SOURCE ? "source" :
								  "destination");
		return;
	}
	schedule_delayed_work(&engine->watch_work, SHM_WATCH_INTERVAL);
}

int shm_thread_park(void)
{
	set_current_state(TASK_INTERRUPTIBLE);
	while (!kthread_should_stop()) {
		schedule();
		set_current_state(TASK_INTERRUPTIBLE);
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

/* Hands @round to the streams and waits until they are all done with it. */
static bool shm_run_round(struct shm_engine *engine, u32 round, bool final,
			  u64 dirty)
{
	u64 start = ktime_get_ns(), ns;
	struct shm_round_stats stats;

	spin_lock(&engine->lock);
	memset(&engine->cur, 0, sizeof(engine->cur));
	engine->cur.dirty_pages = dirty;
	spin_unlock(&engine->lock);
	shm_session_trace_round_start(engine->session, round, dirty, final);

	atomic_set(&engine->busy, engine->nr_streams);
	WRITE_ONCE(engine->final_round, final);
	/* final_round before round: streams read round, then final_round. */
	smp_wmb();
	WRITE_ONCE(engine->round, round);
	wake_up_all(&engine->wait);
	/*
	 * Every stream leaves the round, done or not (a failure or a stop
	 * shuts the sockets down under them), before the bitmaps they read
	 * may change or go.
	 */
	wait_event_idle(engine->wait, !atomic_read(&engine->busy));
	if (shm_engine_failed(engine) || kthread_should_stop())
		return false;

	ns = ktime_get_ns() - start;
	spin_lock(&engine->lock);
	engine->last = engine->cur;
	engine->last.duration_ns = ns;
	memset(&engine->cur, 0, sizeof(engine->cur));
	stats = engine->last;
	engine->rounds_done = round;
	engine->total_bytes += engine->last.bytes;
	engine->total_zero_pages += engine->last.zero_pages;
	engine->total_sent_pages += engine->last.sent_pages;
	engine->total_lz4_pages += engine->last.lz4_pages;
	if (ns && engine->last.bytes)
		engine->bytes_per_sec = div64_u64(engine->last.bytes *
						  NSEC_PER_SEC, ns);
	spin_unlock(&engine->lock);
	shm_session_trace_round_end(engine->session, round, &stats);
	return true;
}

void shm_engine_count(struct shm_engine *engine, struct shm_round_stats *stats)
{
	spin_lock(&engine->lock);
	engine->cur.sent_pages += stats->sent_pages;
	engine->cur.lz4_pages += stats->lz4_pages;
	engine->cur.zero_pages += stats->zero_pages;
	engine->cur.bytes += stats->bytes;
	spin_unlock(&engine->lock);
	memset(stats, 0, sizeof(*stats));
}

static u64 shm_engine_estimate_ms_locked(struct shm_engine *engine)
{
	u64 bytes = engine->dirty_now *
		    (PAGE_SIZE + sizeof(struct shm_wire_frame));

	lockdep_assert_held(&engine->lock);
	if (!bytes)
		return 0;
	if (!engine->bytes_per_sec)
		return U64_MAX;
	return div64_u64(bytes * MSEC_PER_SEC, engine->bytes_per_sec);
}

/* What the harvest of @dirty pages, gathered over @ns, says of convergence. */
static void shm_engine_judge(struct shm_engine *engine, u64 dirty, u64 ns)
{
	u32 max_ms = engine->session->params.max_downtime_ms;
	u64 before;

	spin_lock(&engine->lock);
	before = engine->dirty_now;
	engine->dirty_now = dirty;
	engine->dirty_rate = ns ? div64_u64(dirty * NSEC_PER_SEC, ns) : 0;
	if (shm_engine_estimate_ms_locked(engine) <= max_ms) {
		engine->flat_rounds = 0;
		engine->convergence = SHM_CONVERGENCE_READY;
	} else {
		if (dirty * 100 >= before * SHM_FLAT_PERCENT)
			engine->flat_rounds++;
		else
			engine->flat_rounds = 0;
		engine->convergence = engine->flat_rounds >= SHM_STALLED_ROUNDS ?
				      SHM_CONVERGENCE_STALLED :
				      SHM_CONVERGENCE_CONVERGING;
	}
	spin_unlock(&engine->lock);
}

/*
 * Clears the round just sent and takes what the guest dirtied since
 * *@since (updated), which is judged for convergence.
 */
static int shm_next_dirty(struct shm_engine *engine, u64 *dirty, u64 *since)
{
	u64 now;
	unsigned int i;
	int err;

	for (i = 0; i < engine->vm.nr_slots; i++)
		bitmap_zero(engine->vm.slots[i].dirty,
			    engine->vm.slots[i].npages);
	err = shm_dirty_harvest(&engine->log, dirty);
	if (err) {
		shm_engine_fail(engine, err, "reading KVM's dirty log failed (%pe)",
				ERR_PTR(err));
		return err;
	}
	now = ktime_get_ns();
	shm_engine_judge(engine, *dirty, now - *since);
	*since = now;
	return 0;
}

/*
 * The tracker scans for the VMM's writes when asked, and KVM's dirty log is
 * read after its answer: both then end at the same time, and a page the
 * guest wrote, which the tracker sees too, goes once, in the next round.
 * Without an answer the round goes on all the same: the tracker's writes
 * arrive with a later harvest.
 */
static void shm_await_scan(struct shm_engine *engine, u32 round)
{
	if (!engine->tracker)
		return;
	shm_nl_notify_scan(engine->session, round);
	wait_event_idle_timeout(engine->wait,
				READ_ONCE(engine->scanned) >= round ||
				READ_ONCE(engine->final_requested) ||
				shm_engine_failed(engine) ||
				kthread_should_stop(), SHM_SCAN_WAIT);
}

void shm_engine_scanned(struct shm_engine *engine, u32 round)
{
	if (round > engine->scanned)
		WRITE_ONCE(engine->scanned, round);
	wake_up_all(&engine->wait);
}

/* The source's control thread: round after round until the final one. */
static int shm_control(void *data)
{
	struct shm_engine *engine = data;
	u64 dirty, since;
	bool final = false, notified;
	unsigned long asked;
	u32 round;
	int err;

	shm_vm_use_mm(&engine->vm);
	err = shm_dirty_start(&engine->log, &engine->vm, &dirty);
	if (err) {
		shm_engine_fail(engine, err, "cannot turn on KVM's dirty log (%pe)",
				ERR_PTR(err));
		goto out;
	}
	/* The log counts from here: round 1's pages are gathered from now. */
	since = ktime_get_ns();

	for (round = 1; ; round++) {
		if (!shm_run_round(engine, round, final, dirty) || final)
			break;
		shm_await_scan(engine, round);
		asked = jiffies;
		notified = false;
		do {
			final = READ_ONCE(engine->final_requested);
			/*
			 * Read before the harvest, so that the last harvest
			 * follows the pause the final request vouches for.
			 */
			smp_rmb();
			if (shm_next_dirty(engine, &dirty, &since))
				goto out;
			/* The round's figures, and what its harvest says. */
			if (!notified)
				shm_nl_notify_progress(engine->session);
			notified = true;
			if (dirty || final)
				break;
			/*
			 * No round ends while the guest writes nothing: the
			 * tracker is asked all the same, and what it reports
			 * makes the next harvest, and round.
			 */
			if (engine->tracker &&
			    time_after_eq(jiffies, asked + SHM_SCAN_IDLE)) {
				shm_nl_notify_scan(engine->session, round);
				asked = jiffies;
			}
			wait_event_idle_timeout(engine->wait,
						READ_ONCE(engine->final_requested) ||
						shm_engine_failed(engine) ||
						kthread_should_stop(),
						SHM_IDLE_POLL);
		} while (!shm_engine_failed(engine) && !kthread_should_stop());
		if (shm_engine_failed(engine) || kthread_should_stop())
			goto out;
	}
	if (final && !shm_engine_failed(engine))
		shm_engine_finished(engine);
out:
	shm_dirty_stop(&engine->log);
	shm_vm_unuse_mm(&engine->vm);
	return shm_thread_park();
}

/*
 * One budget for all streams: each send books its bytes at the cap's rate
 * after those booked before, and waits until its turn has come. Idle time
 * is not saved up for a burst later.
 */
int shm_engine_throttle(struct shm_engine *engine, u64 bytes)
{
	u64 cap = engine->session->params.bandwidth, now, due;

	if (!cap)
		return 0;
	now = ktime_get_ns();
	spin_lock(&engine->lock);
	due = max(engine->cap_due_ns, now);
	WRITE_ONCE(engine->cap_due_ns,
		   due + div64_u64(bytes * NSEC_PER_SEC, cap));
	spin_unlock(&engine->lock);
	while (now < due) {
		if (kthread_should_stop() || shm_engine_failed(engine))
			return -EINTR;
		schedule_timeout_interruptible(nsecs_to_jiffies(due - now) ?: 1);
		now = ktime_get_ns();
	}
	return 0;
}

bool shm_engine_capped(struct shm_engine *engine)
{
	/* Unlocked: a send booked meanwhile only makes it more so. */
	return engine->session->params.bandwidth &&
	       READ_ONCE(engine->cap_due_ns) > ktime_get_ns();
}

u64 shm_engine_estimate_ms(struct shm_engine *engine)
{
	u64 ms;

	spin_lock(&engine->lock);
	ms = shm_engine_estimate_ms_locked(engine);
	spin_unlock(&engine->lock);
	return ms;
}

struct shm_engine *shm_engine_new(struct shm_session *s,
				  const int *stream_fds, unsigned int nr,
				  struct netlink_ext_ack *extack)
{
	struct shm_engine *engine;
	unsigned int i;
	int err;

	engine = kzalloc(sizeof(*engine), GFP_KERNEL);
	if (!engine)
		return ERR_PTR(-ENOMEM);
	engine->session = s;
	engine->role = s->params.role;
	init_waitqueue_head(&engine->wait);
	init_completion(&engine->finished);
	spin_lock_init(&engine->lock);
	INIT_WORK(&engine->update_work, shm_engine_update);
	INIT_DELAYED_WORK(&engine->watch_work, shm_engine_watch);
	spin_lock_init(&engine->vm.slots_lock);
	shm_held_init(&engine->held, SHM_HELD_MAX_PAGES);
	shm_held_init(&engine->early, SHM_HELD_EARLY_MAX_PAGES);

	engine->streams = kcalloc(nr, sizeof(*engine->streams), GFP_KERNEL);
	if (!engine->streams) {
		err = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < nr; i++) {
		engine->streams[i].engine = engine;
		engine->streams[i].index = i;
		err = shm_stream_attach(&engine->streams[i], stream_fds[i],
					extack);
		if (err)
			goto fail;
		engine->nr_streams++;
		if (s->params.compress != SHM_COMPRESS_NEVER) {
			err = shm_lz4_init(&engine->streams[i].lz4);
			if (err) {
				NL_SET_ERR_MSG(extack, "cannot set up LZ4 (crypto module lz4)");
				goto fail;
			}
		}
	}
	engine->convergence = SHM_CONVERGENCE_PENDING;
	return engine;
fail:
	shm_engine_free(engine);
	return ERR_PTR(err);
}

int shm_engine_attach_vm(struct shm_engine *engine, int vm_fd,
			 struct netlink_ext_ack *extack)
{
	int err;

	err = shm_vm_attach(&engine->vm, vm_fd, extack);
	if (err)
		return err;
	engine->kvm = engine->vm.kvm;
	spin_lock(&engine->lock);
	engine->dirty_now = shm_vm_pages(&engine->vm);
	spin_unlock(&engine->lock);
	/* The streams read @vm once they see this (shm_engine_has_vm()). */
	smp_store_release(&engine->vm_ready, true);
	/* Streams that stopped reading with their early store full. */
	wake_up_all(&engine->wait);
	return 0;
}

static int shm_engine_spawn(struct shm_engine *engine,
			    struct task_struct **task, int (*fn)(void *),
			    void *arg, const char *what, unsigned int index)
{
	struct task_struct *t;

	t = kthread_run(fn, arg, "shm-%u-%s%u", engine->session->id, what,
			index);
	if (IS_ERR(t))
		return PTR_ERR(t);
	/* Threads may finish before they are stopped: keep them reapable. */
	get_task_struct(t);
	*task = t;
	return 0;
}

int shm_engine_start(struct shm_engine *engine, bool tracker)
{
	bool source = engine->role == SHM_ROLE_SOURCE;
	unsigned int i;
	int err;

	engine->tracker = tracker;
	engine->running = true;
	schedule_delayed_work(&engine->watch_work, 0);
	/* A destination counts the streams still to finish in @busy. */
	atomic_set(&engine->busy, source ? 0 : engine->nr_streams);
	for (i = 0; i < engine->nr_streams; i++) {
		err = shm_engine_spawn(engine, &engine->streams[i].thread,
				       source ? shm_send_stream :
						shm_recv_stream,
				       &engine->streams[i],
				       source ? "send" : "recv", i);
		if (err)
			return err;
	}
	if (source)
		return shm_engine_spawn(engine, &engine->control, shm_control,
					engine, "control", 0);
	return 0;
}

void shm_engine_request_final(struct shm_engine *engine)
{
	WRITE_ONCE(engine->final_requested, true);
	wake_up_all(&engine->wait);
}

static void shm_engine_reap(struct shm_engine *engine,
			    struct task_struct **task)
{
	if (!*task)
		return;
	kthread_stop(*task);
	spin_lock(&engine->lock);
	engine->cpu_ns += (*task)->se.sum_exec_runtime;
	spin_unlock(&engine->lock);
	put_task_struct(*task);
	*task = NULL;
}

void shm_engine_stop(struct shm_engine *engine)
{
	unsigned int i;

	cancel_delayed_work_sync(&engine->watch_work);
	for (i = 0; i < engine->nr_streams; i++)
		shm_stream_shutdown(&engine->streams[i]);
	wake_up_all(&engine->wait);
	shm_engine_reap(engine, &engine->control);
	for (i = 0; i < engine->nr_streams; i++) {
		shm_engine_reap(engine, &engine->streams[i].thread);
		shm_stream_release(&engine->streams[i]);
	}
	shm_vm_detach(&engine->vm);
	engine->running = false;
}

/* Not under the session lock: the update work takes it. */
void shm_engine_free(struct shm_engine *engine)
{
	if (!engine)
		return;
	shm_engine_stop(engine);
	cancel_work_sync(&engine->update_work);
	shm_held_free(&engine->held);
	shm_held_free(&engine->early);
	kfree(engine->streams);
	kfree(engine);
}
