/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHM_ENGINE_H
#define _SHM_ENGINE_H

#include <linux/completion.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <shm/netlink.h>

#include "dirty.h"
#include "held.h"
#include "stream.h"
#include "vm.h"

struct shm_session;

/* Figures of one round, as SHM_STATS_A_* report them. */
struct shm_round_stats {
	u64 dirty_pages;
	u64 sent_pages;
	u64 lz4_pages;		/* of @sent_pages */
	u64 zero_pages;
	u64 bytes;
	u64 duration_ns;
};

/*
 * What moves a session's memory: its VM, its streams and their threads. A
 * source has a control thread that runs the rounds and a thread per stream
 * that sends the stream's shard of each round; a destination has a thread
 * per stream that checks and writes what arrives. The threads never take
 * the session lock: they report through @error and @update_work.
 */
struct shm_engine {
	struct shm_session *session;
	enum shm_role role;
	/*
	 * Set once, under the namespace lock, with @vm_ready last: a
	 * destination may get its VM after its streams started (ATTACH_VM).
	 * The streams read @vm only once they saw @vm_ready.
	 */
	struct shm_vm vm;
	bool vm_ready;
	/* The VM attached, compared but not held: PLACE names it again. */
	const struct kvm *kvm;
	struct shm_dirty_log log;
	/* Destination: pages for addresses the VM does not map yet. */
	struct shm_held held;
	/* ... and every page that came before the VM did. */
	struct shm_held early;
	unsigned int nr_streams;
	struct shm_stream *streams;
	struct task_struct *control;

	/*
	 * Round hand-off between the control thread and the streams. They
	 * sleep on it idle (TASK_IDLE): a stream waits as long as the guest
	 * writes nothing, and a round takes as long as the link needs, which
	 * is neither a hung task nor load.
	 */
	wait_queue_head_t wait;
	u32 round;		/* the round the streams work on */
	bool final_round;	/* ... and it is the last one */
	atomic_t busy;		/* streams not done with the round */
	atomic_t final_sent;	/* streams that sent all of the final round */
	bool final_requested;
	/*
	 * A tracker finds the VMM's writes when asked, at each round's end
	 * and every second while none ends (SHM_SESSION_A_TRACKER); it scans
	 * only then. @scanned is the last round it answered,
	 * set by its DIRTY requests (under the namespace lock).
	 */
	bool tracker;
	u32 scanned;
	/* Set before @finished completes: the final round was acknowledged. */
	bool finished_ok;
	struct completion finished;

	/* Protects everything below. */
	spinlock_t lock;
	struct shm_round_stats cur;	/* the round running, so far */
	struct shm_round_stats last;	/* the last round done */
	u32 rounds_done;
	u64 total_bytes;
	u64 total_zero_pages;
	u64 total_sent_pages;
	u64 total_lz4_pages;
	u64 cpu_ns;		/* the threads', added as each is reaped */
	u64 dirty_now;		/* pages dirty for the next round */
	u64 dirty_rate;		/* pages/s, while they were gathered */
	u64 bytes_per_sec;	/* measured over the last round */
	/* Bandwidth cap: when the bytes sent so far may have left. */
	u64 cap_due_ns;
	enum shm_convergence convergence;
	u32 flat_rounds;	/* rounds in a row that left as much dirty */

	/* The first failure wins; then every thread winds down. */
	int error;
	char reason[128];
	struct work_struct update_work;
	/* Looks for the VMM's exit while the engine runs. */
	struct delayed_work watch_work;
	bool running;
};

struct shm_engine *shm_engine_new(struct shm_session *s,
				  const int *stream_fds, unsigned int nr,
				  struct netlink_ext_ack *extack);
/* The engine's VM: at once for a source, maybe later for a destination. */
int shm_engine_attach_vm(struct shm_engine *engine, int vm_fd,
			 struct netlink_ext_ack *extack);
int shm_engine_start(struct shm_engine *engine, bool tracker);
/* Source: the tracker answered the scan of @round. */
void shm_engine_scanned(struct shm_engine *engine, u32 round);
/* Source: ask for the last round; the vCPUs must be paused already. */
void shm_engine_request_final(struct shm_engine *engine);
/* Stops the threads, closes the streams and lets go of the VM. */
void shm_engine_stop(struct shm_engine *engine);
void shm_engine_free(struct shm_engine *engine);

void shm_engine_fail(struct shm_engine *engine, int err, const char *fmt, ...)
	__printf(3, 4);
bool shm_engine_failed(struct shm_engine *engine);

/* Source: waits until @bytes more fit under the session's bandwidth cap. */
int shm_engine_throttle(struct shm_engine *engine, u64 bytes);
/* Source: whether a send now would wait for the bandwidth cap. */
bool shm_engine_capped(struct shm_engine *engine);

/* Adds a stream's figures to the running round's; zeroes @stats. */
void shm_engine_count(struct shm_engine *engine, struct shm_round_stats *stats);

/* Estimated milliseconds to send what is dirty now. */
u64 shm_engine_estimate_ms(struct shm_engine *engine);

/* Whether the engine has its VM: then @vm may be read. */
static inline bool shm_engine_has_vm(struct shm_engine *engine)
{
	/* Pairs with shm_engine_attach_vm()'s release: @vm is whole. */
	return smp_load_acquire(&engine->vm_ready);
}

/* Per-role thread bodies (send.c, recv.c). */
int shm_send_stream(void *stream);
int shm_recv_stream(void *stream);
/* Parks a thread that is done until shm_engine_stop() reaps it. */
int shm_thread_park(void);
/* A source stream put the final round's last frame on the wire. */
void shm_engine_stream_sent_final(struct shm_engine *engine);
/* A destination stream finished its final round (recv.c -> engine.c). */
void shm_engine_stream_finished(struct shm_engine *engine);

#endif /* _SHM_ENGINE_H */
