/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The contract between shm-testvmm and its guest program (guest.c): where
 * things live in guest physical memory, the parameter block the host fills
 * in, each vCPU's area, and the I/O port the guest reports on.
 *
 * Guest RAM is identity-mapped (gva == gpa) and everything the workload
 * knows lives in it, never in the VMM: code, stacks, page tables, counters,
 * the record of what each page must hold. Copy the RAM into another VM,
 * restore the vCPU registers there, and the workload carries on.
 *
 *   gpa 0x001000  GDT               0x080000  struct guest_params
 *       0x002000  TSS               0x090000  struct guest_vcpu, a page each
 *       0x003000  PML4              0x100000  code (guest.bin), < 1 MiB
 *       0x004000  PDPT              0x200000  stacks, 64 KiB per vCPU
 *       0x010000  PDs, 1 per GiB    0x400000  record: u64 per page of RAM
 *                                   then      data pages, from a 2 MiB boundary
 *
 * Data pages are split into one range per vCPU and, at the end, a range
 * that only the VMM's writer thread writes (as a device would). Every page
 * write leaves a stamp in the page and its generation in the record;
 * stamp.h says how, and how both sides check it.
 */
#ifndef _SHM_TESTVMM_ABI_H
#define _SHM_TESTVMM_ABI_H

#include <stdint.h>

#define GUEST_PAGE_SIZE		4096ULL
#define GUEST_MAX_VCPUS		16
#define GUEST_MAX_PDS		64	/* 2 MiB pages map at most 64 GiB */

#define GUEST_GDT_GPA		0x1000ULL
#define GUEST_TSS_GPA		0x2000ULL
#define GUEST_PML4_GPA		0x3000ULL
#define GUEST_PDPT_GPA		0x4000ULL
#define GUEST_PD_GPA		0x10000ULL
#define GUEST_PARAMS_GPA	0x80000ULL
#define GUEST_VCPU_GPA		0x90000ULL
#define GUEST_CODE_GPA		0x100000ULL
#define GUEST_CODE_MAX		0x100000ULL
#define GUEST_STACK_GPA		0x200000ULL
#define GUEST_STACK_SIZE	0x10000ULL
#define GUEST_RECORD_GPA	0x400000ULL

/* GDT selectors (guest.c never loads one; the host sets them in sregs). */
#define GUEST_SEL_CODE		0x08
#define GUEST_SEL_DATA		0x10
#define GUEST_SEL_TSS		0x18

/* The guest's reports: `outl TYPE, UCALL_PORT`, arguments in its ucall[]. */
#define UCALL_PORT		0xe0
enum ucall_type {
	UCALL_SYNC = 1,		/* args[0]: a SYNC_* stage */
	UCALL_DONE,		/* self-check passed: args[0] pages checked */
	UCALL_FAIL,		/* self-check failed: args = struct stamp_bad */
	UCALL_PRINT,		/* args[0..1]: values for a -v host's log */
	UCALL_BEACON,		/* vCPU 0 sends its traffic: args[0] a count */
};
enum sync_stage {
	SYNC_STARTED = 1,	/* the workload loop is running */
};

/* Host to guest, in guest_vcpu.cmd; the guest clears it when done. */
enum guest_cmd {
	GUEST_CMD_NONE,
	GUEST_CMD_CHECK,	/* run the self-check, answer DONE or FAIL */
};

enum guest_workload {
	WORKLOAD_IDLE,		/* hlt loop: the host sleeps a tick per exit */
	WORKLOAD_SEQ,		/* pages in order, wrapping */
	WORKLOAD_RANDOM,	/* xorshift64 over the span */
	WORKLOAD_HOT,		/* xorshift64 over the first `hot` pages */
};

/* A page write in flight: its record said old, it will say gen. */
struct stamp_op {
	uint64_t gfn, old, gen;		/* gen == 0: none in flight */
};

/* Pages written by one writer (a vCPU, or the VMM's writer thread). */
struct stamp_range {
	uint64_t first, nr;		/* the pages (set by the host) */
	uint64_t count;			/* writes so far = last generation */
	uint64_t csum;			/* see stamp.h */
	struct stamp_op op;		/* the write in flight, if any */
};

/* At GUEST_PARAMS_GPA. The host fills it in before the first run. */
struct guest_params {
	uint64_t ram_pages;
	uint64_t tsc_khz;		/* for pacing */
	uint32_t workload;		/* enum guest_workload */
	uint32_t nr_vcpus;
	uint64_t rate;			/* pages/s per vCPU, 0: unthrottled */
	uint64_t span;			/* pages of its range a vCPU writes */
	uint64_t hot;			/* pages in the hot set */
	uint64_t beacon;		/* vCPU 0: UCALL_BEACON a ms; 0: never */
	struct stamp_range writer;	/* written by the VMM, not the guest */
};

/* At GUEST_VCPU_GPA + id * GUEST_PAGE_SIZE. */
struct guest_vcpu {
	struct stamp_range range;
	uint64_t cursor;		/* WORKLOAD_SEQ */
	uint64_t rng;			/* WORKLOAD_RANDOM and _HOT */
	uint32_t cmd;			/* enum guest_cmd */
	uint32_t pad;
	uint64_t ucall[4];		/* arguments of the last ucall */
};

#endif
