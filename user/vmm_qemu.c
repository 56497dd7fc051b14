// SPDX-License-Identifier: GPL-2.0
/*
 * The qemu driver (vmm.h): a QEMU/KVM VM, driven through QMP.
 *
 * Source: shm.ko moves guest RAM; QEMU's writes to it (device emulation)
 * are tracked by soft-dirty bits (softdirty.h) from track_writes to
 * pause. pause starts QEMU's own migration with x-ignore-shared (RAM in
 * the shared backend stays out of it) and pause-before-switchover, into
 * a pipe a thread of ours reads, handing the stream on as it comes
 * (struct vmm_state_out): QEMU sends its few non-shared blocks (ROMs)
 * while the guest runs, for the destination to load meanwhile, then stops
 * the VM and waits in "pre-switchover" while shm.ko sends the final
 * round. save_state lets it finish: device and vCPU state follow.
 *
 * Destination: QEMU started from the description with -incoming defer
 * and -S; expect_state starts its incoming migration on a pipe while
 * pre-copy runs, put_state feeds it the pieces as they come, and
 * restore_state waits until QEMU has loaded them all; resume is "cont".
 * Any failure on the source cancels QEMU's migration, which restarts the
 * guest as it was. Either way QEMU's migration capabilities are its own
 * again afterwards (qemu_set_caps); should shmctl die, its guard process
 * sees to what it left (qemu_guard).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "procmaps.h"
#include "vmm_qemu.h"

#define QEMU_FDNAME		"shm-migration"
/* In a run directory of ours: it goes with the VM when the VM leaves. */
#define QEMU_DIR_MARK		"made-by-shmctl-serve"
/*
 * How long a wait for QEMU's state sleeps with no word from QEMU: its
 * events (MIGRATION at each step, RESUME) wake it at once.
 */
#define QEMU_WAKE_MS		100
/* A piece of the state read at once: what a pipe holds. */
#define QEMU_PIECE		65536
#define QEMU_RUNNING_MS		10000	/* for a resumed guest to run */
/* For a step of QEMU's migration: it moves kilobytes of state and ROMs. */
#define QEMU_STEP_MS		60000
#define QEMU_QUIT_MS		3000	/* between quit and SIGKILL */

int qemu_fail(struct vmm *v, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->err, sizeof(v->err), fmt, ap);
	va_end(ap);
	return err;
}

int qemu_qmp_fail(struct vmm *v, int err)
{
	struct qemu *q = v->priv;

	return qemu_fail(v, err, "QEMU (pid %d): %s", v->pid, q->qmp.err);
}

struct qemu *qemu_new(struct vmm *v)
{
	struct qemu *q = calloc(1, sizeof(*q));

	if (!q) {
		qemu_fail(v, -ENOMEM, "out of memory");
		return NULL;
	}
	q->qmp.fd = q->pidfd = q->stream.fd = q->state_fd = -1;
	v->priv = q;
	return q;
}

/* Our end of the state pipe closed: QEMU reads to its end. */
static void qemu_close_state(struct qemu *q)
{
	if (q->state_fd >= 0)
		close(q->state_fd);
	q->state_fd = -1;
}

void qemu_free(struct vmm *v)
{
	struct qemu *q = v->priv;

	guard_disarm(&q->guard);
	qmp_close(&q->qmp);
	if (q->domain)
		sym_virDomainFree(q->domain);
	if (q->libvirt)
		sym_virConnectClose(q->libvirt);
	if (q->pidfd >= 0)
		close(q->pidfd);
	qemu_close_state(q);
	free(q);
	v->priv = NULL;
}

int qemu_adopt_pid(struct vmm *v, pid_t pid)
{
	struct qemu *q = v->priv;

	v->pid = pid;
	q->pidfd = pidfd_open(pid, 0);
	return q->pidfd < 0 ? qemu_fail(v, -errno, "pidfd_open(%d): %m", pid) : 0;
}

/* Monitor connected: who QEMU is, and a pidfd that stays its. */
static int qemu_adopt(struct vmm *v, const char *qmp_path)
{
	struct qemu *q = v->priv;
	int err = qmp_connect(&q->qmp, qmp_path);

	if (err)
		return qemu_fail(v, err, "QEMU monitor %s", q->qmp.err);
	snprintf(q->qmp_path, sizeof(q->qmp_path), "%s", qmp_path);
	return qemu_adopt_pid(v, q->qmp.pid);
}

int qemu_ram_size(struct vmm *v)
{
	struct qemu *q = v->priv;
	struct json_object *list, *size;
	size_t i;
	int err = qmp_call(&q->qmp, "query-memdev", NULL, -1, &list);

	if (err)
		return qemu_qmp_fail(v, err);
	for (i = 0; i < json_object_array_length(list); i++) {
		struct json_object *m = json_object_array_get_idx(list, i);

		if (!strcmp(qmp_str(m, "id"), q->facts.ram_id) &&
		    json_object_object_get_ex(m, "size", &size))
			v->ram_bytes = json_object_get_uint64(size);
	}
	json_object_put(list);
	return v->ram_bytes ? 0 :
	       qemu_fail(v, -ENOENT, "QEMU does not list memory backend %s",
			 q->facts.ram_id);
}

/* A migration not over, as query-migrate says. */
static bool qemu_migration_active(const char *status)
{
	return strcmp(status, "none") && strcmp(status, "completed") &&
	       strcmp(status, "failed") && strcmp(status, "cancelled");
}

int qemu_check_source(struct vmm *v)
{
	struct qemu *q = v->priv;
	char status[32], migration[32], path[PATH_MAX];
	int err = qemu_ram_size(v);

	if (err)
		return err;
	if (qmp_status(&q->qmp, status, sizeof(status)) ||
	    qmp_migration_status(&q->qmp, migration, sizeof(migration)))
		return qemu_qmp_fail(v, -EIO);
	if (strcmp(status, "running") && strcmp(status, "paused"))
		return qemu_fail(v, -EBUSY, "its VM is %s, neither running nor paused", status);
	if (qemu_migration_active(migration))
		return qemu_fail(v, -EBUSY, "QEMU is running a migration of its own (%s)", migration);
	if (q->facts.ram_path[0] && !realpath(q->facts.ram_path, path))
		return qemu_fail(v, -errno, "%s: %m", q->facts.ram_path);
	return 0;
}

static int qemu_attach(struct vmm *v, const char *where)
{
	struct qemu_args args = { 0 };
	struct qemu *q = qemu_new(v);
	int err;

	if (!q)
		return -ENOMEM;
	err = qemu_adopt(v, where) ?:
	      qemu_args_of_pid(v, v->pid, &args) ?:
	      qemu_args_check(v, &args, false, &q->facts) ?:
	      qemu_check_source(v);
	qemu_args_free(&args);
	if (err)
		qemu_free(v);
	return err;
}

static int qemu_describe(struct vmm *v, char *desc, size_t len)
{
	struct qemu_args args = { 0 };
	struct qemu_facts facts;
	int err = qemu_args_of_pid(v, v->pid, &args) ?:
		  qemu_args_check(v, &args, false, &facts) ?:
		  qemu_args_encode(v, &args, desc, len);

	qemu_args_free(&args);
	return err;
}

/* One of QEMU's feature-words: {"cpuid-register", "cpuid-input-eax", ...}. */
static int qemu_add_word(struct cpuid_words *words, struct json_object *w)
{
	struct json_object *leaf, *subleaf, *bits;
	int64_t value;

	if (!json_object_object_get_ex(w, "cpuid-input-eax", &leaf) ||
	    !json_object_object_get_ex(w, "features", &bits))
		return -EPROTO;
	value = json_object_get_int64(bits);
	if (value < 0 || value > UINT32_MAX)
		return -EPROTO;
	/* Absent where the leaf has no subleaves. */
	if (!json_object_object_get_ex(w, "cpuid-input-ecx", &subleaf))
		subleaf = NULL;
	return cpuid_add(words, json_object_get_int64(leaf),
			 subleaf ? json_object_get_int64(subleaf) : 0,
			 qmp_str(w, "cpuid-register"), value);
}

/*
 * The first vCPU's feature words: QEMU gives every vCPU the same model.
 * x86 only: another target's vCPUs have none.
 */
int qemu_guest_cpu(struct vmm *v, struct cpuid_words *words)
{
	struct qemu *q = v->priv;
	struct json_object *cpus, *cpu, *path, *list = NULL;
	char args[PATH_MAX + 64];
	const char *target;
	size_t i;
	int err = qmp_call(&q->qmp, "query-cpus-fast", NULL, -1, &cpus);

	if (err)
		return qemu_qmp_fail(v, err);
	words->nr = 0;
	cpu = json_object_array_get_idx(cpus, 0);
	target = qmp_str(cpu, "target");
	if (!cpu) {
		err = qemu_fail(v, -ENOENT, "QEMU lists no vCPU");
	} else if (strcmp(target, "x86_64") && strcmp(target, "i386")) {
		err = -EOPNOTSUPP;
	} else {
		path = json_object_new_string(qmp_str(cpu, "qom-path"));
		snprintf(args, sizeof(args),
			 "\"path\":%s,\"property\":\"feature-words\"",
			 json_object_to_json_string(path));
		json_object_put(path);
		err = qmp_call(&q->qmp, "qom-get", args, -1, &list);
		if (err)
			err = qemu_qmp_fail(v, err);
	}
	for (i = 0; !err && i < json_object_array_length(list); i++)
		if (qemu_add_word(words, json_object_array_get_idx(list, i)))
			err = qemu_fail(v, -EPROTO, "QEMU's vCPU feature words make no sense to shmctl");
	json_object_put(list);
	json_object_put(cpus);
	return err;
}

/*
 * QEMU's migration for shm: the shared RAM left out, and on the source a
 * pause before the switchover; off, what cannot work through a pipe, one
 * way (multifd, a return path, postcopy), whatever the VM's owner chose;
 * on, events, which end the driver's waits for each step (qmp_wait).
 */
static const char *const qemu_caps[QEMU_CAPS] = {
	[QEMU_CAP_IGNORE_SHARED] = "x-ignore-shared",
	[QEMU_CAP_PAUSE_BEFORE_SWITCHOVER] = "pause-before-switchover",
	[QEMU_CAP_MULTIFD] = "multifd",
	[QEMU_CAP_RETURN_PATH] = "return-path",
	[QEMU_CAP_POSTCOPY_RAM] = "postcopy-ram",
	[QEMU_CAP_EVENTS] = "events",
};

/* migrate-set-capabilities' arguments for @states of qemu_caps. */
static void qemu_caps_args(const bool *states, char *args, size_t len)
{
	size_t n = snprintf(args, len, "\"capabilities\":[");
	int c;

	for (c = 0; c < QEMU_CAPS; c++)
		n += snprintf(args + n, len - n,
			      "%s{\"capability\":\"%s\",\"state\":%s}",
			      c ? "," : "", qemu_caps[c],
			      states[c] ? "true" : "false");
	snprintf(args + n, len - n, "]");
}

/* A guard for @undo replaces QEMU's guard, if it had one. */
static int qemu_guard_arm(struct vmm *v, const struct guard_undo *undo)
{
	struct qemu *q = v->priv;
	struct guard old = q->guard;
	int err = guard_arm(&q->guard, undo);

	if (err) {
		q->guard = old;
		return qemu_fail(v, err, "cannot start a guard process: %s",
				 strerror(-err));
	}
	guard_disarm(&old);
	return 0;
}

/*
 * Should shmctl die mid-way, SIGKILL included, its guard (guard.h) undoes
 * what the driver did. On the source: a soft-dirty scan's SIGSTOP, and
 * once set, our migration capabilities (QEMU's own back, @caps: a
 * migration QEMU runs later must carry the RAM again). On the destination:
 * the QEMU it started and its run directory, until the guest's state is
 * in it. A new guard replaces the old one.
 */
int qemu_guard(struct vmm *v, bool source, const bool *caps)
{
	struct qemu *q = v->priv;
	struct guard_undo undo = {
		.pidfd = q->pidfd, .signal = source ? SIGCONT : SIGKILL,
	};
	char args[512];
	int err = 0;

	if (source && caps) {
		qemu_caps_args(caps, args, sizeof(args));
		if (snprintf(undo.qmp_command, sizeof(undo.qmp_command),
			     "{\"execute\":\"migrate-set-capabilities\",\"arguments\":{%s}}\n",
			     args) >= (int)sizeof(undo.qmp_command))
			err = qemu_fail(v, -E2BIG, "QEMU's capabilities: too long a command");
		else if (q->domain)
			err = qemu_libvirt_guard(v, &undo);
		else if (snprintf(undo.qmp_path, sizeof(undo.qmp_path), "%s",
				  q->qmp_path) >= (int)sizeof(undo.qmp_path))
			err = qemu_fail(v, -ENAMETOOLONG, "%s: too long a socket path",
					q->qmp_path);
		if (err)
			return err;
	}
	if (!source)
		snprintf(undo.dir, sizeof(undo.dir), "%s", q->dir);
	return qemu_guard_arm(v, &undo);
}

int qemu_guard_starting(struct vmm *v, struct guard_undo *undo)
{
	snprintf(undo->qmp_command, sizeof(undo->qmp_command),
		 "{\"execute\":\"quit\"}\n");
	return qemu_guard_arm(v, undo);
}

static int qemu_rm_one(const char *path, const struct stat *st, int type,
		       struct FTW *ftw)
{
	return remove(path);
}

/* Our run directory and all in it: a destination leaves nothing behind. */
static void qemu_rm_dir(struct qemu *q)
{
	if (q->dir[0])
		nftw(q->dir, qemu_rm_one, 8, FTW_DEPTH | FTW_PHYS);
	q->dir[0] = '\0';
}

/* The last line QEMU printed before it gave up, for the error. */
static void qemu_log_tail(const char *log, char *buf, size_t len)
{
	char line[512];
	FILE *f = fopen(log, "re");

	snprintf(buf, len, "no message");
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (*line)
			snprintf(buf, len, "%.*s", (int)len - 1, line);
	}
	if (f)
		fclose(f);
}

/* QEMU -daemonize: its first process exits once the VM is set up. */
static int qemu_spawn(struct vmm *v, const struct qemu_args *a)
{
	struct qemu *q = v->priv;
	char log[PATH_MAX + 16], path[PATH_MAX + 16], tail[256];
	int status, fd;
	pid_t child;
	FILE *f;

	snprintf(log, sizeof(log), "%s/qemu.log", q->dir);
	child = fork();
	if (child < 0)
		return qemu_fail(v, -errno, "fork: %m");
	if (!child) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		fd = open("/dev/null", O_RDONLY);
		if (fd < 0 || dup2(fd, 0) < 0)
			_exit(127);
		execvp(a->argv[0], a->argv);
		fprintf(stderr, "%s: %m\n", a->argv[0]);
		_exit(127);
	}
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		qemu_log_tail(log, tail, sizeof(tail));
		return qemu_fail(v, -EIO, "the destination's QEMU did not start: %s", tail);
	}
	snprintf(path, sizeof(path), "%s/pid", q->dir);
	f = fopen(path, "re");
	if (!f || fscanf(f, "%d", &status) != 1) {
		if (f)
			fclose(f);
		return qemu_fail(v, -EIO, "%s: no pid of QEMU", path);
	}
	fclose(f);
	snprintf(path, sizeof(path), "%s/qmp", q->dir);
	return qemu_adopt(v, path) ?:
	       (v->pid != status ? qemu_fail(v, -EIO, "%s is not QEMU %d's", path, status) : 0);
}

/*
 * The RAM file takes room as the guest's pages arrive, up to all of its
 * RAM: room the filesystem must have now, or the migration would fail
 * half-way. (A memfd's is memory, which preflight counted.)
 */
static int qemu_ram_room(struct vmm *v, const char *rundir)
{
	struct qemu *q = v->priv;
	struct statvfs fs;
	uint64_t room;

	if (!q->facts.ram_path[0])
		return 0;
	if (statvfs(q->dir, &fs))
		return qemu_fail(v, -errno, "%s: %m", q->dir);
	room = (uint64_t)fs.f_bavail * fs.f_frsize;
	if (room < v->ram_bytes)
		return qemu_fail(v, -ENOSPC, "%s has %llu MiB free, the VM's RAM file there needs %llu MiB: give shmctl serve a --rundir with room (a tmpfs such as /dev/shm)",
				 rundir, (unsigned long long)(room >> 20),
				 (unsigned long long)(v->ram_bytes >> 20));
	return 0;
}

/*
 * The destination's QEMU until it is up: it daemonizes, so its pid comes
 * last. Its monitor, once there is one, and its run directory.
 */
static int qemu_guard_start(struct vmm *v)
{
	struct qemu *q = v->priv;
	struct guard_undo undo = { .pidfd = -1 };

	if (snprintf(undo.qmp_path, sizeof(undo.qmp_path), "%s/qmp",
		     q->dir) >= (int)sizeof(undo.qmp_path))
		return qemu_fail(v, -ENAMETOOLONG, "%s/qmp: too long a socket path",
				 q->dir);
	snprintf(undo.dir, sizeof(undo.dir), "%s", q->dir);
	return qemu_guard_starting(v, &undo);
}

static int qemu_check_incoming(struct vmm *v, const char *desc)
{
	struct qemu_args args = { 0 };
	struct qemu_facts facts;
	int err;

	err = qemu_args_decode(v, desc, &args) ?:
	      qemu_args_check(v, &args, true, &facts);
	qemu_args_free(&args);
	return err;
}

static int qemu_create_incoming(struct vmm *v, const char *desc,
				const char *rundir)
{
	struct qemu_args args = { 0 }, incoming = { 0 };
	struct qemu *q = qemu_new(v);
	int err;

	if (!q)
		return -ENOMEM;
	err = qemu_args_decode(v, desc, &args) ?:
	      qemu_args_check(v, &args, true, &q->facts);
	if (!err && mkdir(rundir, 0700) && errno != EEXIST)
		err = qemu_fail(v, -errno, "%s: %m", rundir);
	if (!err) {
		snprintf(q->dir, sizeof(q->dir), "%s/qemu-%s-XXXXXX", rundir,
			 q->facts.name);
		if (!mkdtemp(q->dir)) {
			err = qemu_fail(v, -errno, "%s: %m", q->dir);
			q->dir[0] = '\0';
		}
	}
	if (!err) {
		char mark[PATH_MAX + 32];
		int fd;

		snprintf(mark, sizeof(mark), "%s/" QEMU_DIR_MARK, q->dir);
		fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			err = qemu_fail(v, -errno, "%s: %m", mark);
		else
			close(fd);
	}
	err = err ?: qemu_guard_start(v) ?:
	      qemu_args_incoming(v, &args, &q->facts, q->dir, &incoming) ?:
	      qemu_spawn(v, &incoming) ?:
	      qemu_guard(v, false, NULL) ?:
	      qemu_ram_size(v) ?:
	      qemu_ram_room(v, rundir);
	qemu_args_free(&args);
	qemu_args_free(&incoming);
	if (err) {
		if (q->pidfd >= 0)
			pidfd_send_signal(q->pidfd, SIGKILL, NULL, 0);
		qemu_rm_dir(q);
		qemu_free(v);
	}
	return err;
}

/* A descriptor of QEMU's whose /proc/PID/fd link starts with @prefix. */
static int qemu_take_fd(struct vmm *v, const char *prefix, const char *what)
{
	struct qemu *q = v->priv;
	char path[300], link[PATH_MAX], status[32];
	int fd, found = -1;
	struct dirent *d;
	DIR *dir;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd", v->pid);
	dir = opendir(path);
	if (!dir)
		return qemu_fail(v, -errno, "%s: %m", path);
	while ((d = readdir(dir))) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%s", v->pid, d->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0 && (link[n] = '\0', !strncmp(link, prefix, strlen(prefix)))) {
			found = atoi(d->d_name);
			break;
		}
	}
	closedir(dir);
	if (found < 0)
		return qemu_fail(v, -ENOENT, "QEMU (pid %d) has no %s", v->pid, what);
	/* It still answers on the monitor: the pid is still QEMU's. */
	if (qmp_status(&q->qmp, status, sizeof(status)))
		return qemu_qmp_fail(v, -EIO);
	fd = pidfd_getfd(q->pidfd, found, 0);
	return fd < 0 ? qemu_fail(v, -errno, "cannot take QEMU's %s (fd %d): %m",
				  what, found) : fd;
}

int qemu_vm_fd(struct vmm *v)
{
	return qemu_take_fd(v, "anon_inode:kvm-vm", "KVM VM");
}

/* The RAM file here: the source's own, or ours; "" for a memfd. */
static int qemu_ram_path(struct vmm *v, char *path, size_t len)
{
	struct qemu *q = v->priv;

	*path = '\0';
	if (!q->facts.ram_path[0])
		return 0;
	if (q->dir[0]) {
		snprintf(path, len, "%s/ram", q->dir);
		return 0;
	}
	if (len < PATH_MAX || !realpath(q->facts.ram_path, path))
		return qemu_fail(v, -errno, "%s: %m", q->facts.ram_path);
	return 0;
}

int qemu_ram_fd(struct vmm *v)
{
	char path[PATH_MAX + 8];
	int fd, err = qemu_ram_path(v, path, sizeof(path));

	if (err)
		return err;
	if (!*path)
		return qemu_take_fd(v, "/memfd:", "memfd of its RAM");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? qemu_fail(v, -errno, "%s: %m", path) : fd;
}

/*
 * QEMU keeps guest-physical RAM below 4 GiB at the same offset of its RAM
 * block (the "ram-below-4g" alias starts at 0), the windows a PC remaps
 * (BIOS area, SMRAM, TSEG) included; 2 GiB is below where pc and q35
 * split it, for any RAM size. Both address spaces see it so.
 */
#define QEMU_IDENTITY_MAX	(2ULL << 30)

int qemu_places(struct vmm *v, struct vmm_place *places,
		       unsigned int max, unsigned int *nr)
{
	char path[PATH_MAX + 8], why[256];
	struct proc_map map;
	unsigned int n, i;
	int err = qemu_ram_path(v, path, sizeof(path));

	if (err)
		return err;
	err = proc_maps_find(v->pid, path, &map, 1, &n, why, sizeof(why));
	if (err)
		return qemu_fail(v, err, "QEMU's RAM: %s", why);
	for (i = 0; i < 2 && i < max; i++)
		places[i] = (struct vmm_place) {
			.as_id = i,
			.hva = map.start,
			.len = v->ram_bytes < QEMU_IDENTITY_MAX ? v->ram_bytes :
				QEMU_IDENTITY_MAX,
		};
	*nr = i;
	return 0;
}

int qemu_track_writes(struct vmm *v, uint32_t session)
{
	struct qemu *q = v->priv;
	char path[PATH_MAX + 8];
	int err = qemu_ram_path(v, path, sizeof(path));

	if (err)
		return err;
	err = qemu_guard(v, true, NULL);
	if (err)
		return err;
	err = softdirty_start(&q->writes, v->pid, q->pidfd, path, session);
	if (err)
		return qemu_fail(v, err, "%s", q->writes.why);
	q->tracking = true;
	return 0;
}

static void *qemu_stream_read(void *arg)
{
	struct qemu_stream *s = arg;
	char buf[QEMU_PIECE];
	bool paused;
	ssize_t n;

	for (;;) {
		n = read(s->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0 && !s->err)
				s->err = -errno;
			break;
		}
		/* Looked at after the read, so never late for what it read. */
		paused = atomic_load(&s->paused);
		/* Once a piece failed, read on: QEMU must not block on us. */
		if (!s->err)
			s->err = s->out->put(s->out->ctx, buf, n, paused);
	}
	return NULL;
}

void qemu_stream_end(struct qemu *q)
{
	if (q->stream.fd < 0)
		return;
	pthread_join(q->stream.reader, NULL);
	close(q->stream.fd);
	q->stream.fd = -1;
}

static int qemu_put_caps(struct vmm *v, const bool *states)
{
	struct qemu *q = v->priv;
	char args[512];
	int err;

	qemu_caps_args(states, args, sizeof(args));
	err = qmp_call(&q->qmp, "migrate-set-capabilities", args, -1, NULL);
	return err ? qemu_qmp_fail(v, err) : 0;
}

/* Ours set (@source: with the pause); QEMU's own kept for qemu_put_back_caps. */
static int qemu_set_caps(struct vmm *v, bool source)
{
	const bool ours[QEMU_CAPS] = {
		[QEMU_CAP_IGNORE_SHARED] = true,
		[QEMU_CAP_PAUSE_BEFORE_SWITCHOVER] = source,
		[QEMU_CAP_EVENTS] = true,
	};
	struct json_object *list, *cap, *state;
	struct qemu *q = v->priv;
	size_t i;
	int c, err;

	err = qmp_call(&q->qmp, "query-migrate-capabilities", NULL, -1, &list);
	if (err)
		return qemu_qmp_fail(v, err);
	memset(q->caps_before, 0, sizeof(q->caps_before));
	for (i = 0; json_object_is_type(list, json_type_array) &&
		    i < json_object_array_length(list); i++) {
		cap = json_object_array_get_idx(list, i);
		for (c = 0; c < QEMU_CAPS; c++)
			if (!strcmp(qmp_str(cap, "capability"), qemu_caps[c]) &&
			    json_object_object_get_ex(cap, "state", &state))
				q->caps_before[c] = json_object_get_boolean(state);
	}
	json_object_put(list);
	err = (source ? qemu_guard(v, true, q->caps_before) : 0) ?:
	      qemu_put_caps(v, ours);
	q->caps_set = !err;
	return err;
}

/*
 * QEMU's own capabilities back, once its migration is over: one it runs
 * later, for itself, must carry the RAM again.
 */
static void qemu_put_back_caps(struct vmm *v)
{
	struct qemu *q = v->priv;

	if (q->caps_set && !qemu_put_caps(v, q->caps_before))
		q->caps_set = false;
}

/*
 * Hands QEMU one end of a pipe as QEMU_FDNAME; @ours gets the other.
 * @write: QEMU writes (the source), else reads.
 */
static int qemu_give_pipe(struct vmm *v, bool write, int *ours)
{
	struct qemu *q = v->priv;
	int fds[2], err;

	if (pipe2(fds, O_CLOEXEC))
		return qemu_fail(v, -errno, "pipe: %m");
	err = qmp_call(&q->qmp, "getfd", "\"fdname\":\"" QEMU_FDNAME "\"",
		       fds[write], NULL);
	close(fds[write]);
	if (err) {
		close(fds[!write]);
		return qemu_qmp_fail(v, err);
	}
	*ours = fds[!write];
	return 0;
}

/*
 * Polls QEMU's migration until it is @want; over otherwise, or stuck in a
 * step, it fails.
 */
static int qemu_wait_migration(struct vmm *v, const char *want)
{
	struct qemu *q = v->priv;
	uint64_t start = monotonic_ms();
	struct json_object *info;
	char status[32];
	int err;

	for (;;) {
		err = qmp_call(&q->qmp, "query-migrate", NULL, -1, &info);
		if (err)
			return qemu_qmp_fail(v, err);
		snprintf(status, sizeof(status), "%s", qmp_str(info, "status"));
		if (!strcmp(status, want)) {
			json_object_put(info);
			return 0;
		}
		if (!qemu_migration_active(status)) {
			err = qemu_fail(v, -EIO, "QEMU's migration %s: %s", status,
					*qmp_str(info, "error-desc") ?
					qmp_str(info, "error-desc") : "no reason given");
			json_object_put(info);
			return err;
		}
		json_object_put(info);
		if (monotonic_ms() - start >= QEMU_STEP_MS)
			return qemu_fail(v, -ETIMEDOUT, "QEMU's migration is still %s, not %s, after %d s",
					 status, want, QEMU_STEP_MS / 1000);
		err = qmp_wait(&q->qmp, QEMU_WAKE_MS);
		if (err)
			return qemu_qmp_fail(v, err);
	}
}

int qemu_pause(struct vmm *v, const struct vmm_state_out *out)
{
	struct qemu *q = v->priv;
	int err = qemu_set_caps(v, true) ?:
		  qemu_give_pipe(v, true, &q->stream.fd);

	if (err)
		return err;
	q->stream.out = out;
	q->stream.err = 0;
	atomic_store(&q->stream.paused, false);
	err = -pthread_create(&q->stream.reader, NULL, qemu_stream_read, &q->stream);
	if (err) {
		close(q->stream.fd);
		q->stream.fd = -1;
		return qemu_fail(v, err, "cannot start a thread: %s", strerror(-err));
	}
	err = qmp_call(&q->qmp, "migrate", "\"uri\":\"fd:" QEMU_FDNAME "\"", -1, NULL);
	if (err) {
		qemu_qmp_fail(v, err);
		/* Our pipe's other end went with QEMU's refusal. */
		qemu_stream_end(q);
		return err;
	}
	q->migrating = true;
	err = qemu_wait_migration(v, "pre-switchover");
	if (!err && q->tracking) {
		q->tracking = false;
		err = softdirty_finish(&q->writes);
		if (err)
			qemu_fail(v, err, "%s", q->writes.why);
	}
	return err;
}

int qemu_save_state(struct vmm *v)
{
	struct qemu *q = v->priv;
	int err;

	atomic_store(&q->stream.paused, true);
	err = qmp_call(&q->qmp, "migrate-continue",
		       "\"state\":\"pre-switchover\"", -1, NULL);
	if (err)
		return qemu_qmp_fail(v, err);
	err = qemu_wait_migration(v, "completed");
	if (err)
		return err;
	qemu_stream_end(q);
	if (q->stream.err)
		return qemu_fail(v, q->stream.err, "handing on QEMU's migration stream: %s",
				 strerror(-q->stream.err));
	return 0;
}

/*
 * QEMU's incoming migration started on a pipe, our end in q->state_fd:
 * it waits for the state, which restore_state writes.
 */
int qemu_expect_state(struct vmm *v)
{
	struct qemu *q = v->priv;
	int err = qemu_set_caps(v, false) ?:
		  qemu_give_pipe(v, false, &q->state_fd);

	if (err)
		return err;
	err = qmp_call(&q->qmp, "migrate-incoming", "\"uri\":\"fd:" QEMU_FDNAME "\"",
		       -1, NULL);
	if (err) {
		qemu_close_state(q);
		return qemu_qmp_fail(v, err);
	}
	return 0;
}

/* @err, with the last words of the destination QEMU's log in v->err. */
static int qemu_incoming_fail(struct vmm *v, int err)
{
	struct qemu *q = v->priv;
	char log[PATH_MAX + 16], tail[128];

	snprintf(log, sizeof(log), "%s/debug.log", q->dir);
	qemu_log_tail(log, tail, sizeof(tail));
	snprintf(v->err + strlen(v->err), sizeof(v->err) - strlen(v->err),
		 " (QEMU: %s)", tail);
	return err;
}

/* Into the pipe, as QEMU loads what came before. */
int qemu_put_state(struct vmm *v, const void *buf, size_t len)
{
	struct qemu *q = v->priv;
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(q->state_fd, p, len);
		if (n > 0)
			p += n, len -= n;
		else if (errno != EINTR)
			/* QEMU's incoming migration ended: its status says why. */
			return qemu_incoming_fail(v, qemu_wait_migration(v, "completed") ?:
						  qemu_fail(v, -EIO, "QEMU stopped reading its migration stream"));
	}
	return 0;
}

int qemu_restore_state(struct vmm *v)
{
	struct qemu *q = v->priv;
	int err;

	qemu_close_state(q);
	err = qemu_wait_migration(v, "completed");
	if (err)
		return qemu_incoming_fail(v, err);
	/* The guest's only copy, soon: not the guard's to kill. */
	guard_disarm(&q->guard);
	return 0;
}

static int qemu_resume(struct vmm *v)
{
	struct qemu *q = v->priv;
	int err = qmp_call(&q->qmp, "cont", NULL, -1, NULL);

	return err ? qemu_qmp_fail(v, err) : 0;
}

int qemu_running(struct vmm *v)
{
	struct qemu *q = v->priv;
	uint64_t start = monotonic_ms();
	char status[32];

	for (;;) {
		if (qmp_status(&q->qmp, status, sizeof(status)))
			return qemu_qmp_fail(v, -EIO);
		if (!strcmp(status, "running")) {
			/* QEMU's own, now that its guest runs. */
			qemu_put_back_caps(v);
			return 0;
		}
		if (monotonic_ms() - start >= QEMU_RUNNING_MS)
			return qemu_fail(v, -ETIMEDOUT, "its VM is %s, not running after %d s",
					 status, QEMU_RUNNING_MS / 1000);
		if (qmp_wait(&q->qmp, QEMU_WAKE_MS))
			return qemu_qmp_fail(v, -EIO);
	}
}

/*
 * The source's way back: QEMU's migration cancelled, which restarts a
 * guest that ran before it, and the guest running.
 */
static void qemu_cancel(struct vmm *v)
{
	struct qemu *q = v->priv;
	char status[32] = "";

	if (q->tracking)
		softdirty_cancel(&q->writes);
	q->tracking = false;
	if (q->migrating) {
		q->migrating = false;
		qmp_call(&q->qmp, "migrate_cancel", NULL, -1, NULL);
		while (!qmp_migration_status(&q->qmp, status, sizeof(status)) &&
		       qemu_migration_active(status))
			qmp_wait(&q->qmp, QEMU_WAKE_MS);
		qemu_stream_end(q);
	}
	qemu_put_back_caps(v);
}

static void qemu_end_process(struct vmm *v)
{
	struct qemu *q = v->priv;
	struct pollfd pfd = { .fd = q->pidfd, .events = POLLIN };

	if (q->pidfd < 0)
		return;
	if (qmp_call(&q->qmp, "quit", NULL, -1, NULL) ||
	    poll(&pfd, 1, QEMU_QUIT_MS) != 1)
		pidfd_send_signal(q->pidfd, SIGKILL, NULL, 0);
	poll(&pfd, 1, QEMU_QUIT_MS);
}

/*
 * The VM runs on the destination: QEMU quits and its RAM file goes, and
 * with it the whole run directory if shmctl serve made it for this VM.
 */
static void qemu_release(struct vmm *v)
{
	struct qemu *q = v->priv;
	char err[sizeof(v->err)], mark[PATH_MAX + 32];
	const char *slash = strrchr(q->facts.ram_path, '/');

	memcpy(err, v->err, sizeof(err));
	q->migrating = false;
	qemu_stream_end(q);
	qemu_end_process(v);
	if (q->facts.ram_path[0])
		unlink(q->facts.ram_path);
	if (slash) {
		snprintf(mark, sizeof(mark), "%.*s/" QEMU_DIR_MARK,
			 (int)(slash - q->facts.ram_path), q->facts.ram_path);
		if (!access(mark, F_OK))
			snprintf(q->dir, sizeof(q->dir), "%.*s",
				 (int)(slash - q->facts.ram_path), q->facts.ram_path);
		qemu_rm_dir(q);
	}
	memcpy(v->err, err, sizeof(err));
	qemu_free(v);
}

void qemu_detach(struct vmm *v)
{
	char err[sizeof(v->err)];

	memcpy(err, v->err, sizeof(err));
	qemu_cancel(v);
	memcpy(v->err, err, sizeof(err));
	qemu_free(v);
}

static void qemu_destroy(struct vmm *v)
{
	struct qemu *q = v->priv;
	char err[sizeof(v->err)];

	memcpy(err, v->err, sizeof(err));
	qemu_end_process(v);
	qemu_rm_dir(q);
	memcpy(v->err, err, sizeof(err));
	qemu_free(v);
}

const struct vmm_driver vmm_qemu_driver = {
	.name		= "qemu",
	.attach		= qemu_attach,
	.describe	= qemu_describe,
	.guest_cpu	= qemu_guest_cpu,
	.check_incoming = qemu_check_incoming,
	.create_incoming = qemu_create_incoming,
	.vm_fd		= qemu_vm_fd,
	.places		= qemu_places,
	.ram_fd		= qemu_ram_fd,
	.track_writes	= qemu_track_writes,
	.scans_writes	= true,
	.pause		= qemu_pause,
	.save_state	= qemu_save_state,
	.expect_state	= qemu_expect_state,
	.put_state	= qemu_put_state,
	.restore_state	= qemu_restore_state,
	.resume		= qemu_resume,
	.running	= qemu_running,
	.release	= qemu_release,
	.detach		= qemu_detach,
	.destroy	= qemu_destroy,
};
