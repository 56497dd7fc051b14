// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU's command line, both ways (vmm_qemu.h). The source's describes the
 * VM; the destination runs the same, with its own files. A description
 * comes from the network: it is checked again where it lands, option by
 * option, against the same table, and run without a shell.
 *
 * Options QEMU takes with a value are listed; anything else is refused,
 * as is whatever would make guest memory change behind shm's back:
 * vhost, vhost-user, passed-through devices and asynchronous disk I/O
 * write guest RAM where neither KVM's dirty log nor the soft-dirty
 * tracker (softdirty.h) sees it in time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shmctl.h"
#include "vmm_qemu.h"

enum qa_kind {
	QA_FLAG,	/* no value, kept */
	QA_VALUE,	/* a value, kept */
	QA_OURS,	/* the destination gets its own (monitor, pid file) */
	QA_SPECIAL,	/* a value, checked by qa_check_one() */
};

static const struct qa_option {
	const char *name;
	enum qa_kind kind;
} qa_options[] = {
	{ "nodefaults", QA_FLAG }, { "no-user-config", QA_FLAG },
	{ "enable-kvm", QA_FLAG }, { "no-reboot", QA_FLAG },
	{ "no-shutdown", QA_FLAG }, { "no-hpet", QA_FLAG },
	{ "nographic", QA_SPECIAL }, { "daemonize", QA_OURS },
	{ "S", QA_OURS }, { "pidfile", QA_OURS }, { "qmp", QA_OURS },
	{ "D", QA_OURS }, { "incoming", QA_OURS },
	{ "name", QA_SPECIAL }, { "accel", QA_SPECIAL },
	{ "machine", QA_SPECIAL }, { "M", QA_SPECIAL },
	{ "object", QA_SPECIAL }, { "netdev", QA_SPECIAL },
	{ "device", QA_SPECIAL }, { "drive", QA_SPECIAL },
	{ "serial", QA_SPECIAL }, { "kernel", QA_SPECIAL },
	{ "initrd", QA_SPECIAL }, { "bios", QA_SPECIAL },
	{ "cpu", QA_VALUE }, { "m", QA_VALUE }, { "smp", QA_VALUE },
	{ "append", QA_VALUE }, { "display", QA_VALUE }, { "vga", QA_VALUE },
	{ "rtc", QA_VALUE }, { "boot", QA_VALUE }, { "global", QA_VALUE },
	{ "uuid", QA_VALUE }, { "msg", QA_VALUE }, { "overcommit", QA_VALUE },
	{ "smbios", QA_VALUE }, { "k", QA_VALUE },
};

void qemu_args_free(struct qemu_args *a)
{
	int i;

	for (i = 0; i < a->argc; i++)
		free(a->argv[i]);
	free(a->argv);
	a->argv = NULL;
	a->argc = 0;
}

static int qa_push(struct qemu_args *a, const char *arg)
{
	char **argv = realloc(a->argv, (a->argc + 2) * sizeof(*argv));

	if (!argv)
		return -ENOMEM;
	a->argv = argv;
	argv[a->argc] = strdup(arg);
	if (!argv[a->argc])
		return -ENOMEM;
	argv[++a->argc] = NULL;
	return 0;
}

int qemu_args_of_pid(struct vmm *v, pid_t pid, struct qemu_args *a)
{
	char path[64], buf[16384], *p;
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return qemu_fail(v, -errno, "%s: %m", path);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0 || n == sizeof(buf) || buf[n - 1])
		return qemu_fail(v, -E2BIG, "%s: unreadable or over %zu bytes",
				 path, sizeof(buf) - 1);
	for (p = buf; !err && p < buf + n; p += strlen(p) + 1)
		err = qa_push(a, p);
	return err ? qemu_fail(v, err, "out of memory") : 0;
}

/*
 * The value of @key in QEMU's "a=1,b=2" syntax (",," is a comma), into
 * @buf; @first names an implicit first key ("tap" in "tap,id=n0" is the
 * type). False if absent.
 */
static bool qa_param(const char *opts, const char *key, const char *first,
		     char *buf, size_t len)
{
	const char *p = opts;
	bool is_first = true;

	while (*p) {
		const char *end = p, *eq = NULL;
		size_t n = 0;

		for (; *end && !(*end == ',' && end[1] != ','); end++) {
			if (*end == ',')
				end++;
			else if (*end == '=' && !eq)
				eq = end;
		}
		if (eq ? (size_t)(eq - p) == strlen(key) && !strncmp(p, key, eq - p) :
			 is_first && first && !strcmp(first, key)) {
			const char *s = eq ? eq + 1 : p;

			for (; s < end && n + 1 < len; s++) {
				buf[n++] = *s;
				if (*s == ',')
					s++;
			}
			buf[n] = '\0';
			return true;
		}
		is_first = false;
		p = *end ? end + 1 : end;
	}
	return false;
}

/* A path a description brings must exist here, where it is used. */
static int qa_check_file(struct vmm *v, const char *what, const char *path,
			 bool here)
{
	if (*path != '/')
		return qemu_fail(v, -EINVAL, "%s %s is not an absolute path: the destination could not find it",
				 what, path);
	if (here && access(path, R_OK))
		return qemu_fail(v, -ENOENT, "%s %s is not on this host (%m): shared storage must show it at the same path",
				 what, path);
	return 0;
}

static int qa_check_object(struct vmm *v, const char *val,
			   struct qemu_facts *facts)
{
	char type[64] = "", id[64] = "", share[8] = "", path[PATH_MAX] = "";

	qa_param(val, "qom-type", "qom-type", type, sizeof(type));
	if (strncmp(type, "memory-backend-", 15))
		return 0;
	qa_param(val, "id", NULL, id, sizeof(id));
	qa_param(val, "share", NULL, share, sizeof(share));
	if (facts->ram_id[0])
		return qemu_fail(v, -EOPNOTSUPP, "more than one memory backend (%s, %s): shm moves one",
				 facts->ram_id, id);
	if (strcmp(type, "memory-backend-file") && strcmp(type, "memory-backend-memfd"))
		return qemu_fail(v, -EOPNOTSUPP, "its RAM (%s) is not shareable: use memory-backend-file (on /dev/shm) with share=on",
				 type);
	if (strcmp(share, "on") && strcmp(share, "yes") && strcmp(share, "true"))
		return qemu_fail(v, -EOPNOTSUPP, "its RAM backend %s is not shared: add share=on", id);
	if (!strcmp(type, "memory-backend-file") &&
	    (!qa_param(val, "mem-path", NULL, path, sizeof(path)) || *path != '/'))
		return qemu_fail(v, -EINVAL, "its RAM backend %s has no absolute mem-path", id);
	snprintf(facts->ram_id, sizeof(facts->ram_id), "%s", id);
	snprintf(facts->ram_path, sizeof(facts->ram_path), "%s", path);
	return 0;
}

static int qa_check_netdev(struct vmm *v, const char *val, bool here)
{
	char type[32] = "", buf[PATH_MAX];

	qa_param(val, "type", "type", type, sizeof(type));
	if (strcmp(type, "tap") && strcmp(type, "bridge") && strcmp(type, "user"))
		return qemu_fail(v, -EOPNOTSUPP, "network backend %s: shm moves tap, bridge and user", type);
	if (qa_param(val, "vhost", NULL, buf, sizeof(buf)) && strcmp(buf, "off"))
		return qemu_fail(v, -EOPNOTSUPP, "vhost writes guest memory where shm cannot see it in time: use vhost=off");
	if (qa_param(val, "fd", NULL, buf, sizeof(buf)) ||
	    qa_param(val, "fds", NULL, buf, sizeof(buf)))
		return qemu_fail(v, -EOPNOTSUPP, "a tap given as a descriptor cannot be opened again on the destination: use script= or a bridge");
	if (qa_param(val, "script", NULL, buf, sizeof(buf)) && strcmp(buf, "no"))
		return qa_check_file(v, "network script", buf, here);
	return 0;
}

static int qa_check_drive(struct vmm *v, const char *val, bool here)
{
	char buf[PATH_MAX];

	if (qa_param(val, "aio", NULL, buf, sizeof(buf)) && strcmp(buf, "threads"))
		return qemu_fail(v, -EOPNOTSUPP, "disk I/O with aio=%s lands in guest memory while QEMU is stopped: use aio=threads",
				 buf);
	if (qa_param(val, "snapshot", NULL, buf, sizeof(buf)) && strcmp(buf, "off"))
		return qemu_fail(v, -EOPNOTSUPP, "a snapshot disk lives on this host only");
	if (qa_param(val, "file", NULL, buf, sizeof(buf)))
		return qa_check_file(v, "disk", buf, here);
	return 0;
}

static int qa_check_one(struct vmm *v, const char *opt, const char *val,
			bool here, struct qemu_facts *facts)
{
	char buf[64];

	if (!strcmp(opt, "name")) {
		if (!qa_param(val, "guest", "guest", buf, sizeof(buf)) ||
		    strspn(buf, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != strlen(buf) ||
		    buf[0] == '.')
			return qemu_fail(v, -EINVAL, "VM name %s: letters, digits, '_', '-' and '.' only", val);
		snprintf(facts->name, sizeof(facts->name), "%s", buf);
	} else if (!strcmp(opt, "accel")) {
		if (!qa_param(val, "accel", "accel", buf, sizeof(buf)) || strcmp(buf, "kvm"))
			return qemu_fail(v, -EOPNOTSUPP, "accelerator %s: shm moves KVM VMs", val);
		if (qa_param(val, "dirty-ring-size", NULL, buf, sizeof(buf)) && strcmp(buf, "0"))
			return qemu_fail(v, -EOPNOTSUPP, "it uses the KVM dirty ring: start it without dirty-ring-size");
	} else if (!strcmp(opt, "machine") || !strcmp(opt, "M")) {
		if (qa_param(val, "accel", NULL, buf, sizeof(buf)) && strcmp(buf, "kvm"))
			return qemu_fail(v, -EOPNOTSUPP, "accelerator %s: shm moves KVM VMs", buf);
	} else if (!strcmp(opt, "object")) {
		return qa_check_object(v, val, facts);
	} else if (!strcmp(opt, "netdev")) {
		return qa_check_netdev(v, val, here);
	} else if (!strcmp(opt, "device")) {
		if (!strncmp(val, "vfio", 4) || !strncmp(val, "vhost-user", 10) ||
		    strstr(val, "vhost-"))
			return qemu_fail(v, -EOPNOTSUPP, "device %.40s writes guest memory outside QEMU: shm cannot move it", val);
	} else if (!strcmp(opt, "drive")) {
		return qa_check_drive(v, val, here);
	} else if (!strcmp(opt, "serial")) {
		if (!strncmp(val, "file:", 5) || !strcmp(val, "none") ||
		    !strcmp(val, "null") || !strcmp(val, "pty") ||
		    !strcmp(val, "stdio") || !strcmp(val, "mon:stdio"))
			return 0;
		return qemu_fail(v, -EOPNOTSUPP, "serial %s: shm moves file:, pty, stdio, null and none", val);
	} else if (!strcmp(opt, "kernel") || !strcmp(opt, "initrd") ||
		   !strcmp(opt, "bios")) {
		return qa_check_file(v, opt, val, here);
	}
	return 0;
}

/* An option without a value: the table's flags, and three of the others. */
static bool qa_is_flag(const struct qa_option *o)
{
	return o->kind == QA_FLAG || !strcmp(o->name, "daemonize") ||
	       !strcmp(o->name, "S") || !strcmp(o->name, "nographic");
}

static const struct qa_option *qa_option(const char *arg)
{
	size_t i;

	if (arg[0] != '-')
		return NULL;
	arg += arg[1] == '-' ? 2 : 1;
	for (i = 0; i < ARRAY_SIZE(qa_options); i++) {
		if (!strcmp(arg, qa_options[i].name))
			return &qa_options[i];
	}
	return NULL;
}

int qemu_args_check(struct vmm *v, const struct qemu_args *a, bool here,
		    struct qemu_facts *facts)
{
	const char *prog = a->argc ? strrchr(a->argv[0], '/') : NULL;
	char backend[64] = "";
	bool kvm = false;
	int i, err;

	memset(facts, 0, sizeof(*facts));
	strcpy(facts->name, "vm");
	prog = prog ? prog + 1 : a->argc ? a->argv[0] : "";
	if (strncmp(prog, "qemu-system-", 12) ||
	    strspn(prog + 12, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(prog + 12))
		return qemu_fail(v, -EINVAL, "%s is not a QEMU system emulator", prog);
	for (i = 1; i < a->argc; i++) {
		const struct qa_option *o = qa_option(a->argv[i]);
		const char *val = a->argv[i + 1];

		if (!o)
			return qemu_fail(v, -EOPNOTSUPP, "QEMU option %s is not one shm's qemu driver knows how to move",
					 a->argv[i]);
		if (qa_is_flag(o)) {
			kvm |= !strcmp(o->name, "enable-kvm");
			continue;
		}
		if (!val)
			return qemu_fail(v, -EINVAL, "QEMU option %s without its value", a->argv[i]);
		i++;
		if (!strcmp(o->name, "accel") || !strcmp(o->name, "machine") ||
		    !strcmp(o->name, "M")) {
			char acc[16];

			kvm |= !strcmp(o->name, "accel") ?
			       qa_param(val, "accel", "accel", acc, sizeof(acc)) && !strcmp(acc, "kvm") :
			       qa_param(val, "accel", NULL, acc, sizeof(acc)) && !strcmp(acc, "kvm");
			if (strcmp(o->name, "accel"))
				qa_param(val, "memory-backend", NULL, backend, sizeof(backend));
		}
		if (o->kind == QA_SPECIAL) {
			err = qa_check_one(v, o->name, val, here, facts);
			if (err)
				return err;
		}
	}
	if (!kvm)
		return qemu_fail(v, -EOPNOTSUPP, "it does not run on KVM: start it with -accel kvm");
	if (!facts->ram_id[0] || strcmp(backend, facts->ram_id))
		return qemu_fail(v, -EOPNOTSUPP, "its RAM is not in a shared memory backend: start it with -object memory-backend-file,id=ram0,size=SIZE,mem-path=/dev/shm/NAME,share=on -machine memory-backend=ram0");
	return 0;
}

int qemu_args_encode(struct vmm *v, const struct qemu_args *a, char *desc,
		     size_t len)
{
	size_t n = 0;
	int i;

	for (i = 0; i < a->argc; i++) {
		if (i && n + 1 < len)
			desc[n++] = '!';
		if (vmm_desc_put(desc, len, &n, a->argv[i]))
			return qemu_fail(v, -E2BIG, "its command line is over %zu bytes described", len);
	}
	desc[n] = '\0';
	return 0;
}

int qemu_args_decode(struct vmm *v, const char *desc, struct qemu_args *a)
{
	char arg[PATH_MAX + 64];
	size_t n = 0;
	int c;

	for (;;) {
		if (!*desc || *desc == '!') {
			arg[n] = '\0';
			if (qa_push(a, arg))
				return qemu_fail(v, -ENOMEM, "out of memory");
			n = 0;
			if (!*desc++)
				return 0;
			continue;
		}
		if (n + 1 >= sizeof(arg))
			return qemu_fail(v, -EINVAL, "description: an argument over %zu bytes", sizeof(arg));
		c = vmm_desc_get(&desc);
		if (c < 0)
			return qemu_fail(v, -EINVAL, "description: bad escape or byte 0x%02x",
					 (unsigned char)*desc);
		arg[n++] = c;
	}
}

/* @val with its mem-path replaced by @path ("," doubled as QEMU wants). */
static char *qa_with_mem_path(const char *val, const char *path)
{
	char *out = malloc(strlen(val) + 2 * strlen(path) + 16), *o = out;
	const char *p = val;

	if (!out)
		return NULL;
	while (*p) {
		const char *end = p;

		while (*end && !(*end == ',' && end[1] != ','))
			end += *end == ',' ? 2 : 1;
		if (!strncmp(p, "mem-path=", 9)) {
			o = stpcpy(o, "mem-path=");
			for (const char *s = path; *s; s++) {
				*o++ = *s;
				if (*s == ',')
					*o++ = ',';
			}
		} else {
			o = mempcpy(o, p, end - p);
		}
		if (*end)
			*o++ = ',';
		p = *end ? end + 1 : end;
	}
	*o = '\0';
	return out;
}

int qemu_args_incoming(struct vmm *v, const struct qemu_args *a,
		       const struct qemu_facts *facts, const char *dir,
		       struct qemu_args *out)
{
	char path[PATH_MAX + 64], *obj;
	int i, err = qa_push(out, a->argv[0]);

	for (i = 1; !err && i < a->argc; i++) {
		const struct qa_option *o = qa_option(a->argv[i]);
		const char *val = a->argv[i + 1];
		bool flag = qa_is_flag(o);

		if (!flag)
			i++;
		if (o->kind == QA_OURS)
			continue;
		if (!strcmp(o->name, "nographic")) {
			err = qa_push(out, "-display") ?: qa_push(out, "none");
		} else if (!strcmp(o->name, "serial")) {
			snprintf(path, sizeof(path), "file:%s/serial.log", dir);
			err = qa_push(out, "-serial") ?:
			      qa_push(out, strncmp(val, "file:", 5) &&
					   strstr(val, "stdio") ? "none" :
					   strncmp(val, "file:", 5) ? val : path);
		} else if (!strcmp(o->name, "object") && facts->ram_path[0] &&
			   strstr(val, "mem-path=")) {
			snprintf(path, sizeof(path), "%s/ram", dir);
			obj = qa_with_mem_path(val, path);
			err = obj ? qa_push(out, a->argv[i - 1]) ?: qa_push(out, obj) : -ENOMEM;
			free(obj);
		} else {
			err = qa_push(out, a->argv[i - !flag]);
			if (!err && !flag)
				err = qa_push(out, val);
		}
	}
	snprintf(path, sizeof(path), "unix:%s/qmp,server=on,wait=off", dir);
	err = err ?: qa_push(out, "-qmp") ?: qa_push(out, path);
	/* With a log of its own, QEMU keeps its stderr when it daemonizes. */
	snprintf(path, sizeof(path), "%s/debug.log", dir);
	err = err ?: qa_push(out, "-D") ?: qa_push(out, path);
	snprintf(path, sizeof(path), "%s/pid", dir);
	err = err ?: qa_push(out, "-pidfile") ?: qa_push(out, path) ?:
	      qa_push(out, "-daemonize") ?: qa_push(out, "-S") ?:
	      qa_push(out, "-incoming") ?: qa_push(out, "defer");
	return err ? qemu_fail(v, err, "out of memory") : 0;
}
