// SPDX-License-Identifier: GPL-2.0
/*
 * The libvirt driver (vmm.h): a QEMU/KVM domain of libvirtd's, named
 * "libvirt:NAME", on this host's libvirt connection (LIBVIRT_DEFAULT_URI,
 * else libvirt's default: qemu:///system for root).
 *
 * libvirtd holds the domain's QEMU monitor, so the qemu driver's
 * operations (vmm_qemu.c) reach QEMU through libvirtd
 * (qmp_connect_libvirt), and the domain moves as a QEMU of ours does:
 * shm.ko moves its RAM, QEMU's own migration the rest. What is libvirt's
 * stays libvirt's: the description is the domain's migratable XML, from
 * which the destination's libvirtd starts the domain paused, waiting for
 * its migration (-incoming defer); the destination resumes it through
 * libvirt, and the source's libvirtd destroys the source's once the
 * destination runs it. As after `virsh migrate` without --persistent and
 * --undefinesource, the destination's domain is transient and a source
 * domain that was defined stays defined there, shut off.
 *
 * Where the domain's XML asks for what shm cannot move, attach refuses
 * and says what to change in the XML: RAM not in a shared memory backend,
 * vhost-net, disks with native or io_uring I/O, passed-through or
 * vhost-user devices, the KVM dirty ring.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm_qemu.h"

#define LV_QEMU_NS	"http://libvirt.org/schemas/domain/qemu/1.0"

/* @err, with what libvirt said about its last failure. */
static int lv_fail(struct vmm *v, int err, const char *what)
{
	return qemu_fail(v, err, "%s: %s", what, virGetLastErrorMessage());
}

/* libvirt's errors are said once, by shmctl, not on stderr as they happen. */
static void lv_quiet(void *data, virErrorPtr error)
{
}

static int lv_connect(struct vmm *v)
{
	struct qemu *q = v->priv;

	virSetErrorFunc(NULL, lv_quiet);
	q->libvirt = virConnectOpen(NULL);
	return q->libvirt ? 0 :
	       lv_fail(v, -ECONNREFUSED, "cannot reach this host's libvirtd (LIBVIRT_DEFAULT_URI may name another)");
}

/*
 * Whether process @pid runs domain @uuid: its command line has "-uuid"
 * then @uuid, as libvirt writes it, and it shares our network namespace
 * (@netns), as a host's libvirtd and its QEMUs do, for hosts that share a
 * kernel (network namespaces, as in shm's tests).
 */
static bool lv_runs_uuid(const char *pid, const char *uuid,
			 const struct stat *netns)
{
	char path[300], buf[16384], *p;
	bool found = false;
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/ns/net", pid);
	if (stat(path, &st) || st.st_ino != netns->st_ino ||
	    st.st_dev != netns->st_dev)
		return false;
	snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (p = buf; !found && p < buf + n; p += strlen(p) + 1)
		found = !strcmp(p, "-uuid") && p + 6 < buf + n && !strcmp(p + 6, uuid);
	return found;
}

/* The domain's QEMU: the process libvirt started with its UUID. */
static int lv_find_qemu(struct vmm *v)
{
	struct qemu *q = v->priv;
	char uuid[VIR_UUID_STRING_BUFLEN];
	unsigned int found = 0;
	struct stat netns;
	struct dirent *d;
	DIR *dir;

	if (virDomainGetUUIDString(q->domain, uuid))
		return lv_fail(v, -EIO, "the domain's UUID");
	if (stat("/proc/self/ns/net", &netns))
		return qemu_fail(v, -errno, "/proc/self/ns/net: %m");
	dir = opendir("/proc");
	if (!dir)
		return qemu_fail(v, -errno, "/proc: %m");
	while ((d = readdir(dir)))
		if (d->d_name[0] >= '1' && d->d_name[0] <= '9' &&
		    lv_runs_uuid(d->d_name, uuid, &netns) && !found++)
			v->pid = atoi(d->d_name);
	closedir(dir);
	if (!found)
		return qemu_fail(v, -ESRCH, "no QEMU of domain %s runs here",
				 virDomainGetName(q->domain));
	if (found > 1)
		return qemu_fail(v, -EEXIST, "%u QEMUs here run domain %s: which is libvirt's?",
				 found, virDomainGetName(q->domain));
	q->pidfd = pidfd_open(v->pid, 0);
	if (q->pidfd < 0)
		return qemu_fail(v, -errno, "pidfd_open(%d): %m", v->pid);
	if (qmp_connect_libvirt(&q->qmp, q->domain, v->pid))
		return qemu_fail(v, -EIO, "%s", q->qmp.err);
	return 0;
}

/* A string property of a QOM object, into @buf. */
static int lv_qom_get(struct vmm *v, const char *path, const char *property,
		      char *buf, size_t len)
{
	struct qemu *q = v->priv;
	struct json_object *val;
	char args[256];
	int err;

	snprintf(args, sizeof(args), "\"path\":\"%s\",\"property\":\"%s\"",
		 path, property);
	err = qmp_call(&q->qmp, "qom-get", args, -1, &val);
	if (err)
		return qemu_qmp_fail(v, err);
	snprintf(buf, len, "%s", json_object_get_string(val) ?: "");
	json_object_put(val);
	return 0;
}

#define LV_SHARED_RAM "add <memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking> to its domain XML"

/*
 * The RAM backend, as QEMU has it: one, shared, a memfd; the qemu
 * driver's facts from it.
 */
static int lv_facts(struct vmm *v)
{
	struct qemu *q = v->priv;
	struct json_object *list, *m, *share;
	char path[80], type[64];
	size_t nr;
	int err;

	snprintf(q->facts.name, sizeof(q->facts.name), "%s",
		 virDomainGetName(q->domain));
	err = lv_qom_get(v, "/machine", "memory-backend", q->facts.ram_id,
			 sizeof(q->facts.ram_id));
	if (err)
		return err;
	if (!q->facts.ram_id[0])
		return qemu_fail(v, -EOPNOTSUPP, "its RAM is not in a memory backend: " LV_SHARED_RAM);
	/* QEMU names the backend by its path, "/objects/ID". */
	if (!strncmp(q->facts.ram_id, "/objects/", 9))
		memmove(q->facts.ram_id, q->facts.ram_id + 9,
			strlen(q->facts.ram_id + 9) + 1);
	err = qmp_call(&q->qmp, "query-memdev", NULL, -1, &list);
	if (err)
		return qemu_qmp_fail(v, err);
	nr = json_object_array_length(list);
	m = json_object_array_get_idx(list, 0);
	if (nr != 1)
		err = qemu_fail(v, -EOPNOTSUPP, "it has %zu memory backends (NUMA cells or memory devices): shm moves one",
				nr);
	else if (!json_object_object_get_ex(m, "share", &share) ||
		 !json_object_get_boolean(share))
		err = qemu_fail(v, -EOPNOTSUPP, "its RAM is not shared: " LV_SHARED_RAM);
	json_object_put(list);
	if (err)
		return err;
	snprintf(path, sizeof(path), "/objects/%s", q->facts.ram_id);
	err = lv_qom_get(v, path, "type", type, sizeof(type));
	if (err)
		return err;
	/* A file source's file is one QEMU makes in a directory and unlinks. */
	if (strcmp(type, "memory-backend-memfd"))
		return qemu_fail(v, -EOPNOTSUPP, "its RAM (%s) is not in a memfd: " LV_SHARED_RAM,
				 type);
	return 0;
}

/*
 * Whether QEMU option @opt's value @val (libvirt writes JSON) sets @key to
 * @value (a string, or true for "true").
 */
static bool lv_arg_says(const char *val, const char *key, const char *value)
{
	struct json_object *obj, *member;
	bool says = false;
	char plain[128];

	if (*val != '{') {
		snprintf(plain, sizeof(plain), "%s=%s", key,
			 strcmp(value, "true") ? value : "on");
		return strstr(val, plain);
	}
	obj = json_tokener_parse(val);
	if (json_object_object_get_ex(obj, key, &member))
		says = json_object_is_type(member, json_type_boolean) ?
		       json_object_get_boolean(member) && !strcmp(value, "true") :
		       !strcmp(json_object_get_string(member), value);
	json_object_put(obj);
	return says;
}

/* What of its QEMU command line writes guest RAM where shm cannot see it. */
static int lv_check_args(struct vmm *v)
{
	struct qemu_args a = { 0 };
	int i, err = qemu_args_of_pid(v, v->pid, &a);

	for (i = 1; !err && i + 1 < a.argc; i++) {
		const char *opt = a.argv[i], *val = a.argv[i + 1];

		if (!strcmp(opt, "-netdev") && lv_arg_says(val, "vhost", "true"))
			err = qemu_fail(v, -EOPNOTSUPP, "its interface uses vhost-net, which writes guest memory where shm cannot see it in time: add <driver name='qemu'/> to its <interface>");
		else if (!strcmp(opt, "-blockdev") &&
			 (lv_arg_says(val, "aio", "native") ||
			  lv_arg_says(val, "aio", "io_uring")))
			err = qemu_fail(v, -EOPNOTSUPP, "a disk's I/O lands in guest memory while QEMU is stopped: give its <driver> io='threads'");
		else if (!strcmp(opt, "-device") &&
			 (strstr(val, "vfio-") || strstr(val, "vhost-")))
			err = qemu_fail(v, -EOPNOTSUPP, "a device of it (a <hostdev>, vhost or vhost-user) writes guest memory outside QEMU: shm cannot move it");
		else if (!strcmp(opt, "-accel") && strstr(val, "dirty-ring-size"))
			err = qemu_fail(v, -EOPNOTSUPP, "it uses the KVM dirty ring: remove <dirty-ring> from its <features><kvm>");
	}
	qemu_args_free(&a);
	return err;
}

static int lv_attach(struct vmm *v, const char *name)
{
	struct qemu *q = qemu_new(v);
	int err;

	if (!q)
		return -ENOMEM;
	err = lv_connect(v);
	if (!err) {
		q->domain = virDomainLookupByName(q->libvirt, name);
		if (!q->domain)
			err = lv_fail(v, -ENOENT, "libvirt has no such domain");
	}
	if (!err && virDomainIsActive(q->domain) != 1)
		err = qemu_fail(v, -EBUSY, "domain %s is not running", name);
	err = err ?: lv_find_qemu(v) ?: lv_facts(v) ?: lv_check_args(v) ?:
	      qemu_check_source(v);
	if (err)
		qemu_free(v);
	return err;
}

/*
 * What of a domain's XML libvirt would run unchecked: a QEMU command line
 * of its own (libvirt's QEMU namespace), an emulator that is not a QEMU
 * system emulator. The destination's libvirtd starts what the XML says,
 * and the XML comes from the network.
 */
static int lv_check_xml(struct vmm *v, const char *xml)
{
	const char *emulator = strstr(xml, "<emulator>"), *base, *end;

	if (strstr(xml, LV_QEMU_NS))
		return qemu_fail(v, -EOPNOTSUPP, "its XML passes QEMU arguments of its own (<qemu:commandline>, <qemu:capabilities>): shm cannot check what they do; remove them");
	if (!emulator)
		return 0;
	emulator += strlen("<emulator>");
	end = strstr(emulator, "</emulator>");
	base = memrchr(emulator, '/', end ? end - emulator : 0);
	if (!end || *emulator != '/' || !base ||
	    strncmp(base + 1, "qemu-system-", 12) ||
	    strspn(base + 13, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
	    (size_t)(end - base - 13))
		return qemu_fail(v, -EOPNOTSUPP, "its <emulator> is not a QEMU system emulator: shm moves QEMU's domains");
	return 0;
}

static int lv_describe(struct vmm *v, char *desc, size_t len)
{
	struct qemu *q = v->priv;
	char *xml = virDomainGetXMLDesc(q->domain, VIR_DOMAIN_XML_MIGRATABLE);
	size_t n = 0;
	int err;

	if (!xml)
		return lv_fail(v, -EIO, "the domain's XML");
	err = lv_check_xml(v, xml);
	if (err) {
		free(xml);
		return err;
	}
	err = vmm_desc_put(desc, len, &n, xml);
	free(xml);
	return err ? qemu_fail(v, err, "its domain XML is over %zu bytes described", len) : 0;
}

/*
 * The domain's XML with QEMU told to wait for its migration: libvirt's
 * QEMU namespace, and "-incoming defer" on its command line.
 */
static char *lv_incoming_xml(struct vmm *v, const char *desc)
{
	const char *open = " xmlns:qemu='" LV_QEMU_NS "'";
	const char *args = "<qemu:commandline><qemu:arg value='-incoming'/><qemu:arg value='defer'/></qemu:commandline>";
	size_t n = 0, cap = strlen(desc) + strlen(open) + strlen(args) + 2;
	char *xml = malloc(cap), *tag, *end;
	int c;

	if (!xml) {
		qemu_fail(v, -ENOMEM, "out of memory");
		return NULL;
	}
	while (*desc && (c = vmm_desc_get(&desc)) > 0)
		xml[n++] = c;
	xml[n] = '\0';
	tag = strstr(xml, "<domain ");
	end = strstr(xml, "</domain>");
	if (*desc || !tag || !end || strchr(xml, '\0') != end + 9 + (end[9] == '\n')) {
		free(xml);
		qemu_fail(v, -EINVAL, "description: not a domain's XML");
		return NULL;
	}
	if (lv_check_xml(v, xml)) {
		free(xml);
		return NULL;
	}
	/* Its last element first, then into its opening tag. */
	snprintf(end, cap - (end - xml), "%s</domain>\n", args);
	tag += strlen("<domain");
	memmove(tag + strlen(open), tag, strlen(tag) + 1);
	memcpy(tag, open, strlen(open));
	return xml;
}

static int lv_create_incoming(struct vmm *v, const char *desc,
			      const char *rundir)
{
	struct qemu *q = qemu_new(v);
	char *xml;
	int err;

	if (!q)
		return -ENOMEM;
	xml = lv_incoming_xml(v, desc);
	err = xml ? lv_connect(v) : -EINVAL;
	if (!err) {
		q->domain = virDomainCreateXML(q->libvirt, xml, VIR_DOMAIN_START_PAUSED);
		if (!q->domain)
			err = lv_fail(v, -EIO, "this host's libvirtd did not start the domain");
	}
	free(xml);
	err = err ?: lv_find_qemu(v) ?: qemu_guard(v, false, NULL) ?:
	      lv_facts(v) ?: qemu_ram_size(v);
	if (err) {
		if (q->domain)
			virDomainDestroy(q->domain);
		qemu_free(v);
	}
	return err;
}

static int lv_resume(struct vmm *v)
{
	struct qemu *q = v->priv;

	return virDomainResume(q->domain) ?
	       lv_fail(v, -EIO, "libvirt did not resume the domain") : 0;
}

/* The domain gone through libvirt, which cleans up after its QEMU. */
static void lv_destroy(struct vmm *v)
{
	struct qemu *q = v->priv;
	char err[sizeof(v->err)];

	memcpy(err, v->err, sizeof(err));
	q->migrating = false;
	qemu_stream_end(q);
	virDomainDestroy(q->domain);
	memcpy(v->err, err, sizeof(err));
	qemu_free(v);
}

int qemu_libvirt_guard(struct vmm *v, struct guard_undo *undo)
{
	struct qemu *q = v->priv;
	char *uri = virConnectGetURI(q->libvirt);

	if (!uri)
		return lv_fail(v, -EIO, "libvirt's URI");
	snprintf(undo->libvirt_uri, sizeof(undo->libvirt_uri), "%s", uri);
	free(uri);
	if (virDomainGetUUIDString(q->domain, undo->libvirt_domain))
		return lv_fail(v, -EIO, "the domain's UUID");
	return 0;
}

const struct vmm_driver vmm_libvirt_driver = {
	.name		= "libvirt",
	.attach		= lv_attach,
	.describe	= lv_describe,
	.guest_cpu	= qemu_guest_cpu,
	.create_incoming = lv_create_incoming,
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
	.resume		= lv_resume,
	.running	= qemu_running,
	.release	= lv_destroy,
	.detach		= qemu_detach,
	.destroy	= lv_destroy,
};
