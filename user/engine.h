/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One side of a migration as shmctl drives shm.ko's engine: an owned
 * session (it goes when shmctl does, however it ends), attached to a VM
 * and its streams, started, finished or cancelled, and its figures.
 */
#ifndef SHMCTL_ENGINE_H
#define SHMCTL_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <shm/netlink.h>

#include "netlink.h"
#include "vmm.h"

struct engine {
	struct shm_nl nl;
	struct shm_nl events;	/* engine_watch()'s, or no socket */
	uint32_t id;
};

/* What GET says of a session now; rounds and totals so far. */
struct engine_figures {
	uint32_t id, role, state, convergence;
	uint64_t age_ms;
	char name[SHM_NAME_MAX];
	/* The last round done. */
	uint64_t rounds, dirty, bytes, duration_ns, dirty_rate, throughput;
	/* So far, and of the round running now. */
	uint64_t total_bytes, total_sent_pages, total_zero_pages;
	uint64_t total_lz4_pages;	/* of total_sent_pages */
	uint64_t round_pages, round_done;
	uint64_t estimate_ms, memory_bytes;
	uint64_t cpu_ns;	/* shm.ko's threads, once the session ended */
	char reason[128];
};

/* A new session's (SHM_CMD_SESSION_NEW). */
struct engine_params {
	uint32_t role;
	const char *name;
	uint32_t streams, max_downtime_ms;
	uint64_t bandwidth;	/* bytes per second, 0: no cap */
	uint32_t compress;	/* a source's: enum shm_compress */
};

/* Each returns 0 or a negative errno, the kernel's words in engine_why(). */
int engine_open(struct engine *e, const struct engine_params *p);
/* @vm_fd -1: a destination's VM comes later, with engine_attach_vm(). */
int engine_attach(struct engine *e, int vm_fd, const int *fds,
		  unsigned int nr);
int engine_attach_vm(struct engine *e, int vm_fd);
/* Destination, before the VMM loads its state: held pages go in. */
int engine_place(struct engine *e, int vm_fd, const struct vmm_place *places,
		 unsigned int nr);
/* Pre-copy starts; @tracker: see vmm_driver.scans_writes. */
int engine_start(struct engine *e, bool tracker);
/* SHM_CMD_SESSION_FINAL, _CANCEL or _RESUMED. */
int engine_command(struct engine *e, uint8_t cmd);
int engine_figures(struct engine *e, struct engine_figures *f);
/*
 * A file descriptor that polls readable when shm.ko has news of this
 * host's sessions (a source's round ended, a state changed), or a negative
 * errno; engine_watched() once it has woken the caller.
 */
int engine_watch(struct engine *e);
void engine_watched(struct engine *e);
/* The protocol version of the loaded shm.ko. */
int engine_protocol(struct engine *e, uint32_t *protocol);
/* How much of the VM's memory has been sent (received) once, 0 to 100. */
unsigned int engine_percent(const struct engine_figures *f);
/*
 * The state, or for a source in pre-copy its convergence: "precopy" (round
 * 1), "converging", "ready" or "stalled".
 */
const char *engine_phase(const struct engine_figures *f);
/* Whether a session in @state is still moving memory or about to. */
bool engine_state_active(uint32_t state);
/* Calls @fn for every session of this host (network namespace). */
int engine_for_each(struct engine *e,
		    void (*fn)(const struct engine_figures *f, void *arg),
		    void *arg);
/* Counts this host's sessions of @role that have not ended, but @e's. */
int engine_count_active(struct engine *e, uint32_t role, unsigned int *n);
const char *engine_why(const struct engine *e, int err);
/* Closing the socket removes the session (SHM_SESSION_A_OWNED). */
void engine_close(struct engine *e);

#endif /* SHMCTL_ENGINE_H */
