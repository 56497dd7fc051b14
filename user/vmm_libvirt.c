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
 * vhost-user devices, the KVM dirty ring. Both hosts refuse XML that
 * libvirtd would run unchecked (lv_check_node): the destination's comes
 * from the network.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libvirt.h"
#include "shmctl.h"
#include "vmm_qemu.h"

#define LV_QEMU_NS	"http://libvirt.org/schemas/domain/qemu/1.0"

/* @err, with what libvirt said about its last failure. */
static int lv_fail(struct vmm *v, int err, const char *what)
{
	return qemu_fail(v, err, "%s: %s", what, sym_virGetLastErrorMessage());
}

/* libvirt's errors are said once, by shmctl, not on stderr as they happen. */
static void lv_quiet(void *data, virErrorPtr error)
{
}

static int lv_connect(struct vmm *v)
{
	struct qemu *q = v->priv;
	int err = libvirt_load(v->err, sizeof(v->err));

	if (err)
		return err;
	sym_virSetErrorFunc(NULL, lv_quiet);
	q->libvirt = sym_virConnectOpen(NULL);
	return q->libvirt ? 0 :
	       lv_fail(v, -ECONNREFUSED, "cannot reach this host's libvirtd (LIBVIRT_DEFAULT_URI may name another)");
}

/*
 * Whether process @pid runs domain @uuid: its command line has "-uuid"
 * then @uuid, as libvirt writes it, and it shares our network namespace
 * (@netns), as a host's libvirtd and its QEMUs do, for hosts that share a
 * kernel (network namespaces, as in shm's tests).
 */
static bool lv_runs_uuid(struct vmm *v, pid_t pid, const char *uuid,
			 const struct stat *netns)
{
	struct qemu_args a = { 0 };
	bool found = false;
	char path[64];
	struct stat st;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	if (stat(path, &st) || st.st_ino != netns->st_ino ||
	    st.st_dev != netns->st_dev || qemu_args_of_pid(v, pid, &a))
		return false;
	for (i = 1; !found && i + 1 < a.argc; i++)
		found = !strcmp(a.argv[i], "-uuid") && !strcmp(a.argv[i + 1], uuid);
	qemu_args_free(&a);
	return found;
}

/* The domain's QEMU: the process libvirt started with its UUID. */
static int lv_find_qemu(struct vmm *v)
{
	struct qemu *q = v->priv;
	char uuid[VIR_UUID_STRING_BUFLEN];
	unsigned int found = 0;
	struct stat netns;
	pid_t pid = 0;
	struct dirent *d;
	DIR *dir;

	if (sym_virDomainGetUUIDString(q->domain, uuid))
		return lv_fail(v, -EIO, "the domain's UUID");
	if (stat("/proc/self/ns/net", &netns))
		return qemu_fail(v, -errno, "/proc/self/ns/net: %m");
	dir = opendir("/proc");
	if (!dir)
		return qemu_fail(v, -errno, "/proc: %m");
	while ((d = readdir(dir)))
		if (d->d_name[0] >= '1' && d->d_name[0] <= '9' &&
		    lv_runs_uuid(v, atoi(d->d_name), uuid, &netns) && !found++)
			pid = atoi(d->d_name);
	closedir(dir);
	if (!found)
		return qemu_fail(v, -ESRCH, "no QEMU of domain %s runs here",
				 sym_virDomainGetName(q->domain));
	if (found > 1)
		return qemu_fail(v, -EEXIST, "%u QEMUs here run domain %s: which is libvirt's?",
				 found, sym_virDomainGetName(q->domain));
	return qemu_adopt_pid(v, pid) ?:
	       (qmp_connect_libvirt(&q->qmp, q->domain, pid) ?
		qemu_fail(v, -EIO, "%s", q->qmp.err) : 0);
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
		 sym_virDomainGetName(q->domain));
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

/* What shm adds to a domain's QEMU command line on the destination. */
static const char *const lv_incoming_args[] = { "-incoming", "defer" };

/* The value of attribute @name of @node, NULL if it has none. */
static const char *lv_attr(xmlNode *node, const char *name)
{
	xmlAttr *attr;

	for (attr = node->properties; attr; attr = attr->next)
		if (!attr->ns && !strcmp((char *)attr->name, name))
			return attr->children ? (char *)attr->children->content : "";
	return NULL;
}

/* Whether @node is the command line shm added (lv_incoming_xml). */
static bool lv_is_incoming(xmlNode *node)
{
	unsigned int i = 0;
	const char *value;

	if (!node->ns || strcmp((char *)node->ns->href, LV_QEMU_NS) ||
	    strcmp((char *)node->name, "commandline"))
		return false;
	for (node = node->children; node; node = node->next) {
		if (node->type != XML_ELEMENT_NODE)
			continue;
		value = lv_attr(node, "value");
		if (i == ARRAY_SIZE(lv_incoming_args) ||
		    strcmp((char *)node->name, "arg") || !value ||
		    strcmp(value, lv_incoming_args[i++]))
			return false;
	}
	return i == ARRAY_SIZE(lv_incoming_args);
}

/*
 * A domain that came here by shm still has its QEMU told to wait for a
 * migration, in its XML: not to be sent on, as it waits for none now.
 */
static void lv_unwait(xmlNode *root)
{
	xmlNode *node, *next;

	for (node = root->children; node; node = next) {
		next = node->next;
		if (node->type == XML_ELEMENT_NODE && lv_is_incoming(node)) {
			sym_xmlUnlinkNode(node);
			sym_xmlFreeNode(node);
		}
	}
}

/*
 * What of a domain's XML libvirt would run unchecked, which shm cannot
 * check either: elements or attributes of another namespace outside
 * <metadata> (libvirt's QEMU namespace passes QEMU arguments of the
 * domain's own), an emulator that is not a QEMU system emulator. The
 * destination's libvirtd starts what the XML says, and the XML comes from
 * the network.
 */
static int lv_check_node(struct vmm *v, xmlNode *node)
{
	const char *name = (const char *)node->name, *path, *base;
	xmlAttr *attr;
	int err = 0;

	if (!strcmp(name, "metadata") && !node->ns &&
	    node->parent == sym_xmlDocGetRootElement(node->doc))
		return 0;
	if (node->ns)
		return qemu_fail(v, -EOPNOTSUPP, "its XML has an element <%s:%s> (%s): shm cannot check what it does; remove it",
				 node->ns->prefix ?: (const xmlChar *)"",
				 name, node->ns->href);
	for (attr = node->properties; attr; attr = attr->next)
		if (attr->ns)
			return qemu_fail(v, -EOPNOTSUPP, "its XML has an attribute %s:%s of <%s> (%s): remove it",
					 attr->ns->prefix, attr->name, name, attr->ns->href);
	if (!strcmp(name, "emulator")) {
		/* Its one child, a text node, or it is not a path. */
		path = node->children && !node->children->next &&
		       node->children->type == XML_TEXT_NODE ?
		       (const char *)node->children->content : "";
		base = path[0] == '/' ? strrchr(path, '/') + 1 : "";
		if (strcmp(base, "qemu-kvm") &&
		    (strncmp(base, "qemu-system-", 12) || !base[12] ||
		     base[12 + strspn(base + 12, "abcdefghijklmnopqrstuvwxyz0123456789_")]))
			return qemu_fail(v, -EOPNOTSUPP, "its <emulator> %s is not a QEMU system emulator: shm moves QEMU's domains",
					 path);
	}
	for (node = node->children; !err && node; node = node->next)
		if (node->type == XML_ELEMENT_NODE)
			err = lv_check_node(v, node);
	return err;
}

/*
 * A domain's XML parsed, or NULL with @v's error set. No DTD: one could
 * define entities, and a domain's XML has none. Checked (lv_check_node)
 * unless it is the source's own (@ours), from which what shm adds goes
 * first.
 */
static xmlDoc *lv_parse_xml(struct vmm *v, const char *xml, size_t len,
			    bool ours)
{
	xmlDoc *doc = sym_xmlReadMemory(xml, len, "domain.xml", NULL,
					XML_PARSE_NONET | XML_PARSE_NOERROR |
					XML_PARSE_NOWARNING);
	xmlNode *root = doc ? sym_xmlDocGetRootElement(doc) : NULL;

	if (!root || doc->intSubset || strcmp((char *)root->name, "domain")) {
		sym_xmlFreeDoc(doc);
		qemu_fail(v, -EINVAL, "description: not a domain's XML");
		return NULL;
	}
	if (ours)
		lv_unwait(root);
	if (lv_check_node(v, root)) {
		sym_xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

/* @doc as text, malloc()ed; NULL with @v's error set. */
static char *lv_dump(struct vmm *v, xmlDoc *doc)
{
	xmlBuffer *buf = sym_xmlBufferCreate();
	char *xml = NULL;

	if (buf && sym_xmlNodeDump(buf, doc, sym_xmlDocGetRootElement(doc), 0, 0) > 0)
		xml = strdup((const char *)sym_xmlBufferContent(buf));
	sym_xmlBufferFree(buf);
	if (!xml)
		qemu_fail(v, -ENOMEM, "the domain's XML: out of memory");
	return xml;
}

/*
 * The source's domain, as the destination will get it, checked as the
 * destination will check it: refused here, saying so, rather than there.
 * The text of it, malloc()ed, in @text if not NULL.
 */
static int lv_source_xml(struct vmm *v, char **text)
{
	struct qemu *q = v->priv;
	char *xml = sym_virDomainGetXMLDesc(q->domain, VIR_DOMAIN_XML_MIGRATABLE);
	xmlDoc *doc;
	int err = 0;

	if (!xml)
		return lv_fail(v, -EIO, "the domain's XML");
	doc = lv_parse_xml(v, xml, strlen(xml), true);
	free(xml);
	if (!doc)
		return -EOPNOTSUPP;
	if (text) {
		*text = lv_dump(v, doc);
		err = *text ? 0 : -ENOMEM;
	}
	sym_xmlFreeDoc(doc);
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
		q->domain = sym_virDomainLookupByName(q->libvirt, name);
		if (!q->domain)
			err = lv_fail(v, -ENOENT, "libvirt has no such domain");
	}
	err = err ?: lv_source_xml(v, NULL);
	if (!err && sym_virDomainIsActive(q->domain) != 1)
		err = qemu_fail(v, -EBUSY, "domain %s is not running", name);
	err = err ?: lv_find_qemu(v) ?: lv_facts(v) ?: lv_check_args(v) ?:
	      qemu_check_source(v);
	if (err)
		qemu_free(v);
	return err;
}

static int lv_describe(struct vmm *v, char *desc, size_t len)
{
	size_t n = 0;
	char *xml;
	int err = lv_source_xml(v, &xml);

	if (err)
		return err;
	err = vmm_desc_put(desc, len, &n, xml);
	free(xml);
	return err ? qemu_fail(v, err, "its domain XML is over %zu bytes described", len) : 0;
}

/*
 * Tells the domain's QEMU to wait for its migration: lv_incoming_args on
 * its command line, in libvirt's QEMU namespace.
 */
static int lv_add_incoming(xmlNode *root)
{
	xmlNode *cmdline, *arg;
	unsigned int i;
	xmlNs *ns;

	/* Declared already (and unused: lv_check_node), or declared here. */
	ns = root->nsDef;
	while (ns && strcmp((char *)ns->href, LV_QEMU_NS))
		ns = ns->next;
	ns = ns ?: sym_xmlNewNs(root, BAD_CAST LV_QEMU_NS, BAD_CAST "qemu");
	if (!ns)
		return -EEXIST;
	cmdline = sym_xmlNewChild(root, ns, BAD_CAST "commandline", NULL);
	for (i = 0; cmdline && i < ARRAY_SIZE(lv_incoming_args); i++) {
		arg = sym_xmlNewChild(cmdline, ns, BAD_CAST "arg", NULL);
		if (!arg || !sym_xmlNewProp(arg, BAD_CAST "value",
					    BAD_CAST lv_incoming_args[i]))
			return -ENOMEM;
	}
	return cmdline ? 0 : -ENOMEM;
}

/*
 * The domain's UUID, as its XML has it (libvirt writes 36 characters),
 * in @uuid; -EINVAL without one.
 */
static int lv_xml_uuid(struct vmm *v, xmlNode *root,
		       char uuid[VIR_UUID_STRING_BUFLEN])
{
	const char *text;
	xmlNode *node;

	for (node = root->children; node; node = node->next) {
		if (node->type != XML_ELEMENT_NODE ||
		    strcmp((char *)node->name, "uuid") || !node->children ||
		    node->children->next ||
		    node->children->type != XML_TEXT_NODE)
			continue;
		text = (const char *)node->children->content;
		if (strlen(text) == VIR_UUID_STRING_BUFLEN - 1 &&
		    strspn(text, "0123456789abcdefABCDEF-") == strlen(text)) {
			memcpy(uuid, text, VIR_UUID_STRING_BUFLEN);
			return 0;
		}
	}
	return qemu_fail(v, -EINVAL, "description: the domain's XML has no well-formed <uuid>");
}

/*
 * The domain's XML from @desc, checked, its QEMU told to wait; its UUID in
 * @uuid.
 */
static char *lv_incoming_xml(struct vmm *v, const char *desc,
			     char uuid[VIR_UUID_STRING_BUFLEN])
{
	char *xml = malloc(strlen(desc) + 1);
	xmlDoc *doc = NULL;
	size_t n = 0;
	int c = 0, err;

	if (!xml) {
		qemu_fail(v, -ENOMEM, "out of memory");
		return NULL;
	}
	while (*desc && (c = vmm_desc_get(&desc)) > 0)
		xml[n++] = c;
	if (c < 0)
		qemu_fail(v, -EINVAL, "description: not a domain's XML");
	else
		doc = lv_parse_xml(v, xml, n, false);
	free(xml);
	if (!doc)
		return NULL;
	if (lv_xml_uuid(v, sym_xmlDocGetRootElement(doc), uuid)) {
		sym_xmlFreeDoc(doc);
		return NULL;
	}
	err = lv_add_incoming(sym_xmlDocGetRootElement(doc));
	xml = err ? NULL : lv_dump(v, doc);
	if (err == -EEXIST)
		qemu_fail(v, err, "its XML's prefix qemu: names another namespace");
	else if (err)
		qemu_fail(v, err, "out of memory");
	sym_xmlFreeDoc(doc);
	return xml;
}

/* The XML checked, and this host's libvirtd there to start it. */
static int lv_check_incoming(struct vmm *v, const char *desc)
{
	char uuid[VIR_UUID_STRING_BUFLEN];
	char *xml;
	int err;

	err = libvirt_load(v->err, sizeof(v->err));
	if (err)
		return err;
	xml = lv_incoming_xml(v, desc, uuid);
	if (!xml)
		return -EINVAL;
	free(xml);
	if (!qemu_new(v))
		return -ENOMEM;
	err = lv_connect(v);
	qemu_free(v);
	return err;
}

/* libvirtd's URI, for the guard's virsh. */
static int lv_guard_uri(struct vmm *v, struct guard_undo *undo)
{
	struct qemu *q = v->priv;
	char *uri = sym_virConnectGetURI(q->libvirt);

	if (!uri)
		return lv_fail(v, -EIO, "libvirt's URI");
	snprintf(undo->libvirt_uri, sizeof(undo->libvirt_uri), "%s", uri);
	free(uri);
	return 0;
}

/*
 * The domain that libvirtd starts while virDomainCreateXML waits, until
 * its QEMU is found: known by the UUID of its XML.
 */
static int lv_guard_start(struct vmm *v, const char *uuid)
{
	struct guard_undo undo = { .pidfd = -1 };

	snprintf(undo.libvirt_domain, sizeof(undo.libvirt_domain), "%s", uuid);
	return lv_guard_uri(v, &undo) ?: qemu_guard_starting(v, &undo);
}

static int lv_create_incoming(struct vmm *v, const char *desc,
			      const char *rundir)
{
	char uuid[VIR_UUID_STRING_BUFLEN];
	struct qemu *q = qemu_new(v);
	char *xml = NULL;
	int err;

	if (!q)
		return -ENOMEM;
	/* The XML checked before libvirtd hears of it. */
	err = libvirt_load(v->err, sizeof(v->err));
	if (!err) {
		xml = lv_incoming_xml(v, desc, uuid);
		err = xml ? lv_connect(v) : -EINVAL;
	}
	err = err ?: lv_guard_start(v, uuid);
	if (!err) {
		q->domain = sym_virDomainCreateXML(q->libvirt, xml,
						   VIR_DOMAIN_START_PAUSED);
		if (!q->domain)
			err = lv_fail(v, -EIO, "this host's libvirtd did not start the domain");
	}
	free(xml);
	err = err ?: lv_find_qemu(v) ?: qemu_guard(v, false, NULL) ?:
	      lv_facts(v) ?: qemu_ram_size(v);
	if (err) {
		if (q->domain)
			sym_virDomainDestroy(q->domain);
		qemu_free(v);
	}
	return err;
}

static int lv_resume(struct vmm *v)
{
	struct qemu *q = v->priv;

	return sym_virDomainResume(q->domain) ?
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
	sym_virDomainDestroy(q->domain);
	memcpy(v->err, err, sizeof(err));
	qemu_free(v);
}

int qemu_libvirt_guard(struct vmm *v, struct guard_undo *undo)
{
	struct qemu *q = v->priv;
	int err = lv_guard_uri(v, undo);

	if (err)
		return err;
	if (sym_virDomainGetUUIDString(q->domain, undo->libvirt_domain))
		return lv_fail(v, -EIO, "the domain's UUID");
	return 0;
}

const struct vmm_driver vmm_libvirt_driver = {
	.name		= "libvirt",
	.attach		= lv_attach,
	.describe	= lv_describe,
	.guest_cpu	= qemu_guest_cpu,
	.check_incoming = lv_check_incoming,
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
