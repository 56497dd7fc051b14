/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMM driver interface: what shmctl migrate and shmctl serve need from
 * the program that runs a VM, whatever it is: the test VMM (tests/vmm/,
 * driver "testvmm"), QEMU (vmm_qemu.h, driver "qemu") and QEMU under
 * libvirt (driver "libvirt"), behind the same operations.
 *
 * Source: attach, describe (what a destination needs to start a VM like
 * it), vm_fd, track_writes, then pause, save_state, and release once the
 * destination runs it; when the migration failed, resume (if paused) and
 * detach. Destination: check_incoming and create_incoming from the
 * description, vm_fd,
 * expect_state, put_state for each piece of the source's state,
 * restore_state, resume, running, detach; destroy when the migration
 * failed.
 *
 * Every operation that fails returns a negative errno and leaves a
 * sentence in v->err (release, detach and destroy leave v->err as it
 * was). An attach or create_incoming that fails leaves nothing to release,
 * detach or destroy; each of those three ends the struct vmm's use. One
 * struct vmm is used by one thread at a time.
 */
#ifndef SHMCTL_VMM_H
#define SHMCTL_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpuid.h"

/*
 * A description travels as one line of words without spaces inside: a
 * command line, or a libvirt domain's XML, %XX-escaped (a domain of many
 * devices has 10 to 20 KiB of XML, which escaping makes up to twice as
 * long).
 */
#define VMM_DESC_MAX	(64 << 10)
#define VMM_ERR_MAX	256

struct vmm {
	const struct vmm_driver *driver;
	uint64_t ram_bytes;		/* guest RAM, for preflight */
	int pid;			/* the VMM, for the downtime probe */
	char err[VMM_ERR_MAX];		/* why the last operation failed */
	void *priv;			/* the driver's */
};

/*
 * Source: where the VM's vCPU and device state goes, piece by piece, as its
 * VMM gives it out, from pause on; maybe from a thread of the driver's.
 * @paused: the piece came out with the guest paused for good. Pieces
 * before may come while the guest still runs (QEMU's ROMs), so that the
 * destination can load them then. put() returns 0 or a negative errno.
 */
struct vmm_state_out {
	int (*put)(void *ctx, const void *buf, size_t len, bool paused);
	void *ctx;
};

struct vmm_place {
	uint32_t as_id;
	uint64_t gpa, hva, len;
};

struct vmm_driver {
	const char *name;
	/* Source: the VM at @where (the driver's notation, e.g. a socket). */
	int (*attach)(struct vmm *v, const char *where);
	/* Source: a one-line description for create_incoming, no spaces. */
	int (*describe)(struct vmm *v, char *desc, size_t len);
	/*
	 * Optional: the CPUID feature words the guest sees (cpuid.h); the
	 * destination then checks the VM it started against the source's,
	 * and not its host's CPU against the source host's. -EOPNOTSUPP for
	 * a VM whose driver cannot tell.
	 */
	int (*guest_cpu)(struct vmm *v, struct cpuid_words *words);
	/*
	 * Destination: whether @desc passes its own checks, before anything
	 * starts (create_incoming makes them again, then more that need the
	 * VM started).
	 */
	int (*check_incoming)(struct vmm *v, const char *desc);
	/* Destination: starts a VM from @desc, paused, waiting for memory. */
	int (*create_incoming)(struct vmm *v, const char *desc,
			       const char *rundir);
	/* The KVM VM's file descriptor, duplicated into this process. */
	int (*vm_fd)(struct vmm *v);
	/*
	 * Destination, optional: where the VMM keeps guest-physical memory
	 * its VM may not map until its device state is loaded (QEMU: the
	 * PC's BIOS area and SMRAM, in its RAM block).
	 */
	int (*places)(struct vmm *v, struct vmm_place *places,
		      unsigned int max, unsigned int *nr);
	/*
	 * Optional: a descriptor of the VM's whole RAM, read-only, for
	 * migrate --verify.
	 */
	int (*ram_fd)(struct vmm *v);
	/* Source: from now on the VMM reports its own writes to @session. */
	int (*track_writes)(struct vmm *v, uint32_t session);
	/*
	 * ... which it finds by scanning when shm.ko asks, at each round's
	 * end and while the source idles (SHM_SESSION_A_TRACKER), rather
	 * than as they happen.
	 */
	bool scans_writes;
	/*
	 * Stops the guest. Its state goes to @out until save_state returns
	 * (all of it put() then), or after a failure, until detach does:
	 * @out lives that long.
	 */
	int (*pause)(struct vmm *v, const struct vmm_state_out *out);
	int (*save_state)(struct vmm *v);
	/*
	 * Destination, optional: the VMM readied for put_state. A driver that
	 * has it needs it called first; callers call it while pre-copy runs,
	 * so that the VM's pause does not wait for it.
	 */
	int (*expect_state)(struct vmm *v);
	/* A piece of the source's state, in the order they were put(). */
	int (*put_state)(struct vmm *v, const void *buf, size_t len);
	/* All pieces in: the VM restored from them. */
	int (*restore_state)(struct vmm *v);
	int (*resume)(struct vmm *v);
	/* 0 once the guest is seen running (waits a little for it). */
	int (*running)(struct vmm *v);
	/* Source, after success: the VMM lets go of the VM and exits. */
	void (*release)(struct vmm *v);
	/* shmctl lets go of the VMM; its VM goes on as it is. */
	void (*detach)(struct vmm *v);
	/* Destination, after failure: the VM and its VMM are removed. */
	void (*destroy)(struct vmm *v);
};

/*
 * "testvmm:/run/vm1.sock" → the testvmm driver, where "/run/vm1.sock". A
 * spec without "NAME:" (or whose part before ':' holds a '/') is a test
 * VMM's socket. NULL for an unknown driver or an empty WHERE.
 */
const struct vmm_driver *vmm_driver_find(const char *spec,
					 const char **where);
const struct vmm_driver *vmm_driver_by_name(const char *name);

/*
 * @s appended to the description at desc[*n], every byte but letters,
 * digits and "-_./,=:@+" as %XX (a driver may separate words with other
 * bytes); -E2BIG if it does not fit in @len.
 */
int vmm_desc_put(char *desc, size_t len, size_t *n, const char *s);
/*
 * The byte a description spells at *@p, which moves past it; -EINVAL for
 * a bad escape or a byte that cannot be there. The caller stops at its
 * separators and the end.
 */
int vmm_desc_get(const char **p);

/* The digest of the VM's RAM (digest.h), through the driver's ram_fd. */
int vmm_ram_digest(struct vmm *v, char hex[33]);

extern const struct vmm_driver vmm_testvmm_driver;
extern const struct vmm_driver vmm_qemu_driver;
extern const struct vmm_driver vmm_libvirt_driver;

#endif /* SHMCTL_VMM_H */
