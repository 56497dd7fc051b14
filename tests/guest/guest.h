/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shm-guest: the workload of the Linux guests that migration tests move.
 * Inside the guest it keeps memory and disk reads busy and can prove that
 * both are intact; it serves TCP echo (port 7) and a line-based control
 * port (7001). On the host the same binary makes the guest's disk image
 * and plays the client of both ports.
 *
 * Threads in the guest: the memory writer (memory.c), the disk reader
 * (disk.c), the periodic self-check (check.c), one per echo or control
 * connection (echo.c, control.c); main() starts them, then accepts on the
 * control port.
 *
 * guest.lock: a check never sees a page or slot halfway through a write of
 * our own threads. It also guards every counter below; rate and disk_rate
 * are atomics, read by their threads without it.
 */
#ifndef _SHM_GUEST_GUEST_H
#define _SHM_GUEST_GUEST_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ECHO_PORT	7
#define CTL_PORT	7001
#define NR_SLOTS	256
#define SLOT_EMPTY	UINT64_MAX	/* nothing read yet, or a read under way */

struct guest {
	pthread_mutex_t lock;

	/* The memory region: page i holds version gen[i] (pattern.h). */
	uint8_t *mem;
	uint64_t *gen;
	uint64_t npages;
	unsigned int rate;		/* pages/s the writer writes; 0 idle */
	uint64_t writes;

	/* The disk: slot s holds block slot_block[s]. */
	int disk_fd;			/* -1: no disk */
	const char *disk_path;
	uint64_t nblocks;
	uint8_t *slots;
	uint64_t slot_block[NR_SLOTS];
	unsigned int disk_rate;		/* reads/s; 0 idle */
	uint64_t reads, read_errors;
	int read_errno;			/* of the last failed read */

	uint64_t checks, fails;
};

extern struct guest guest;

/* What a full self-check found; why says it when ok is false. */
struct check_result {
	bool ok;
	uint64_t pages, gen_total, slots;
	char why[384];
};

/* memory.c */
int mem_init(uint64_t mib);
void *mem_writer(void *arg);
uint64_t mem_check(uint64_t *gen_total, char *why, size_t len);
uint64_t mem_gen_total(void);
int64_t mem_pfn(uint64_t page);

/* disk.c */
int disk_init(const char *path);
void *disk_reader(void *arg);
uint64_t disk_check(uint64_t *slots, char *why, size_t len);
int disk_make(const char *path, uint64_t mib);

/* check.c */
void check_all(struct check_result *r);
void *check_loop(void *arg);
extern unsigned int check_interval;

/* echo.c */
void *echo_server(void *arg);
int echo_client(const char *target, unsigned int duration, unsigned int rate,
		unsigned int timeout);

/* control.c */
void *control_conn(void *arg);
int control_client(const char *target, const char *line, unsigned int timeout);

/* net.c */
int net_listen(uint16_t port);
int net_serve(int lfd, void *(*conn)(void *));
int net_connect(const char *target, uint16_t port, unsigned int timeout);
int write_all(int fd, const void *buf, size_t len);

/* pace.c: RATE operations per second, whatever is due now. */
struct pace {
	uint64_t start_ns, done;
	unsigned int rate;
};
uint64_t pace_due(struct pace *p, const unsigned int *rate);
uint64_t now_ns(void);

#endif
