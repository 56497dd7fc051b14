/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The qemu driver's insides, shared by its files:
 *
 *   vmm_qemu_args.c   QEMU's command line: what a VM may use to be moved,
 *                     the description, the destination's command line
 *   vmm_qemu.c        the driver's operations (vmm.h), through QMP
 *   vmm_libvirt.c     the libvirt driver: a QEMU of libvirtd's, the same
 *                     operations through libvirtd, and its domain XML
 *                     (libvirt and libxml2 opened on its first use:
 *                     libvirt.c)
 *   softdirty.c       QEMU's own writes to guest RAM (softdirty.h)
 *
 * A VM is named by its QMP socket ("qemu:/run/vm1.qmp"). Its RAM must be
 * one shared memory backend (memory-backend-file or -memfd, share=on,
 * -machine memory-backend=ID): shm.ko moves it, and QEMU's own migration
 * moves the rest (x-ignore-shared), through a pipe shmctl reads, as the
 * state handed on as it comes (struct vmm_state_out).
 */
#ifndef SHMCTL_VMM_QEMU_H
#define SHMCTL_VMM_QEMU_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "guard.h"
#include "qmp.h"
#include "softdirty.h"
#include "vmm.h"

/* A command line, argv[0] included; each string malloc()ed. */
struct qemu_args {
	char **argv;
	int argc;
};

/* What a command line says that the driver needs. */
struct qemu_facts {
	char name[64];			/* -name, or "vm" */
	char ram_path[PATH_MAX];	/* memory-backend-file's, or "" */
	char ram_id[64];		/* the backend's id */
};

/* QEMU's migration stream on the source, handed on as it comes. */
struct qemu_stream {
	int fd;				/* our end, -1 when not running */
	pthread_t reader;
	const struct vmm_state_out *out;
	/* Set before QEMU may write device state: what is read after, is. */
	atomic_bool paused;
	int err;			/* the reader's, read once it is joined */
};

/* The migration capabilities the driver sets (qemu_caps, vmm_qemu.c). */
enum qemu_cap {
	QEMU_CAP_IGNORE_SHARED,
	QEMU_CAP_PAUSE_BEFORE_SWITCHOVER,
	QEMU_CAP_MULTIFD,
	QEMU_CAP_RETURN_PATH,
	QEMU_CAP_POSTCOPY_RAM,
	QEMU_CAP_EVENTS,
	QEMU_CAPS
};

/* struct vmm's priv. */
struct qemu {
	struct qmp qmp;
	char qmp_path[PATH_MAX];
	struct qemu_facts facts;
	char dir[PATH_MAX];		/* destination: our run directory */
	int pidfd;			/* QEMU, -1 if none */
	bool migrating;			/* its migration was started */
	struct qemu_stream stream;	/* source */
	int state_fd;			/* destination: the state goes in, -1 */
	struct softdirty writes;
	bool tracking;
	/* QEMU's own capabilities, while ours are set. */
	bool caps_set;
	bool caps_before[QEMU_CAPS];
	struct guard guard;		/* should shmctl die (qemu_guard) */
	/* A domain of libvirt's (vmm_libvirt.c), NULL for a QEMU of ours. */
	virConnectPtr libvirt;
	virDomainPtr domain;
};

int qemu_fail(struct vmm *v, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * vmm_qemu.c: besides the qemu driver, what the libvirt driver shares of
 * it: a QEMU under libvirt is driven the same way, through libvirtd.
 */
int qemu_qmp_fail(struct vmm *v, int err);
struct qemu *qemu_new(struct vmm *v);
void qemu_free(struct vmm *v);
/* QEMU @pid is the VM's: v->pid, and a pidfd that stays its. */
int qemu_adopt_pid(struct vmm *v, pid_t pid);
/* The RAM backend's size, in v->ram_bytes. */
int qemu_ram_size(struct vmm *v);
/* Source: whether the attached QEMU may be moved now (ram_bytes set). */
int qemu_check_source(struct vmm *v);
int qemu_guard(struct vmm *v, bool source, const bool *caps);
/*
 * A destination's QEMU until it is up (qemu_guard then): should shmctl die
 * before, its guard has it quit as soon as it answers where @undo says
 * (at its monitor, or through virsh to its domain), and removes undo->dir.
 */
int qemu_guard_starting(struct vmm *v, struct guard_undo *undo);
void qemu_stream_end(struct qemu *q);
int qemu_guest_cpu(struct vmm *v, struct cpuid_words *words);
int qemu_vm_fd(struct vmm *v);
int qemu_places(struct vmm *v, struct vmm_place *places, unsigned int max,
		unsigned int *nr);
int qemu_ram_fd(struct vmm *v);
int qemu_track_writes(struct vmm *v, uint32_t session);
int qemu_pause(struct vmm *v, const struct vmm_state_out *out);
int qemu_save_state(struct vmm *v);
int qemu_expect_state(struct vmm *v);
int qemu_put_state(struct vmm *v, const void *buf, size_t len);
int qemu_restore_state(struct vmm *v);
int qemu_running(struct vmm *v);
void qemu_detach(struct vmm *v);

/* vmm_libvirt.c: the guard's undo of a domain's capabilities, by virsh. */
int qemu_libvirt_guard(struct vmm *v, struct guard_undo *undo);

/* vmm_qemu_args.c */
void qemu_args_free(struct qemu_args *a);
/* QEMU @pid's command line. */
int qemu_args_of_pid(struct vmm *v, pid_t pid, struct qemu_args *a);
/*
 * Whether shm can move the VM this command line runs: a sentence in
 * v->err saying what to change if not. @here: the files it names must
 * exist on this host (the destination's check of shared storage).
 */
int qemu_args_check(struct vmm *v, const struct qemu_args *a, bool here,
		    struct qemu_facts *facts);
int qemu_args_encode(struct vmm *v, const struct qemu_args *a, char *desc,
		     size_t len);
int qemu_args_decode(struct vmm *v, const char *desc, struct qemu_args *a);
/*
 * The destination's command line: @a's, with files of its own in @dir
 * (RAM, monitor, pid file, serial), paused, waiting for its migration.
 */
int qemu_args_incoming(struct vmm *v, const struct qemu_args *a,
		       const struct qemu_facts *facts, const char *dir,
		       struct qemu_args *out);

#endif /* SHMCTL_VMM_QEMU_H */
