// SPDX-License-Identifier: GPL-2.0
/*
 * The downtime probes: load, attach, read (probe.h).
 *
 * The tc hook is a clsact qdisc on the device, made if it was not there
 * and left there after (empty, it does nothing): another probe may be
 * using it. A probe killed with SIGKILL leaves its filters behind too (tc
 * filters outlive their loader); they only count packets.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* The skeleton names the types downtime.h defines: that goes first. */
#include "probe.h"
#include "bpf/downtime.skel.h"

#define PROBE_TC_PRIORITY	0x5348

struct probe {
	struct downtime_bpf *skel;
	struct bpf_link *entry, *exit;
	struct ring_buffer *gaps;
	probe_gap_fn gap_fn;		/* during probe_poll_gaps() */
	void *gap_arg;
	char dev[IF_NAMESIZE];
	struct bpf_tc_hook hook;
	struct bpf_tc_opts ingress, egress;
	bool attached;
};

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* The device a packet to @ss would leave by: the one holding our source. */
static int route_dev(const struct sockaddr_storage *ss, socklen_t len,
		     char *dev, char *why, size_t why_len)
{
	struct sockaddr_storage local;
	socklen_t local_len = sizeof(local);
	struct ifaddrs *ifs, *i;
	int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0 || connect(fd, (const struct sockaddr *)ss, len) ||
	    getsockname(fd, (struct sockaddr *)&local, &local_len))
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (err || getifaddrs(&ifs)) {
		snprintf(why, why_len, "no route to the address: %s",
			 strerror(err ? -err : errno));
		return err ?: -errno;
	}
	err = -ENODEV;
	for (i = ifs; i && err; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != ss->ss_family)
			continue;
		if (ss->ss_family == AF_INET ?
		    ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr ==
		    ((struct sockaddr_in *)&local)->sin_addr.s_addr :
		    !memcmp(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
			    &((struct sockaddr_in6 *)&local)->sin6_addr, 16)) {
			snprintf(dev, IF_NAMESIZE, "%s", i->ifa_name);
			err = 0;
		}
	}
	freeifaddrs(ifs);
	if (err)
		snprintf(why, why_len, "no device holds the route to the address: name one");
	return err;
}

/* The address into the program's rodata, the device into p->dev. */
static int set_address(struct probe *p, const char *addr, const char *dev,
		       char *why, size_t len)
{
	struct sockaddr_storage ss = {};
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t ss_len;

	if (inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(9);
		ss_len = sizeof(*in);
		memcpy((void *)p->skel->rodata->watch_addr, &in->sin_addr, 4);
		p->skel->rodata->watch_addr_len = 4;
	} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(9);
		ss_len = sizeof(*in6);
		memcpy((void *)p->skel->rodata->watch_addr, &in6->sin6_addr, 16);
		p->skel->rodata->watch_addr_len = 16;
	} else {
		snprintf(why, len, "'%s' is not an IPv4 or IPv6 address", addr);
		return -EINVAL;
	}
	if (!dev)
		return route_dev(&ss, ss_len, p->dev, why, len);
	if (strlen(dev) >= sizeof(p->dev) || !if_nametoindex(dev)) {
		snprintf(why, len, "no device '%s' on this host", dev);
		return -ENODEV;
	}
	snprintf(p->dev, sizeof(p->dev), "%s", dev);
	return 0;
}

static int attach_tc(struct probe *p, char *why, size_t len)
{
	int fd = bpf_program__fd(p->skel->progs.watch_packets), err;

	p->hook = (struct bpf_tc_hook){
		.sz = sizeof(p->hook),
		.ifindex = if_nametoindex(p->dev),
		.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS,
	};
	/* Quiet: libbpf would print the kernel's words for "exists". */
	libbpf_set_print(NULL);
	err = bpf_tc_hook_create(&p->hook);
	libbpf_set_print(quiet);
	if (err && err != -EEXIST) {
		snprintf(why, len, "cannot add a clsact qdisc to %s: %s",
			 p->dev, strerror(-err));
		return err;
	}
	/*
	 * One priority for every probe, a handle of our own: probes on the
	 * same device (shmctl migrate's and shmctl downtime's) coexist.
	 */
	p->ingress = (struct bpf_tc_opts){ .sz = sizeof(p->ingress),
					   .prog_fd = fd,
					   .handle = getpid() & 0xffff ?: 1,
					   .priority = PROBE_TC_PRIORITY };
	p->egress = p->ingress;
	p->hook.attach_point = BPF_TC_INGRESS;
	err = bpf_tc_attach(&p->hook, &p->ingress);
	if (!err) {
		p->hook.attach_point = BPF_TC_EGRESS;
		err = bpf_tc_attach(&p->hook, &p->egress);
		if (err) {
			p->hook.attach_point = BPF_TC_INGRESS;
			p->ingress.prog_fd = p->ingress.prog_id = 0;
			p->ingress.flags = 0;
			bpf_tc_detach(&p->hook, &p->ingress);
		}
	}
	if (err) {
		snprintf(why, len, "cannot attach to %s: %s", p->dev,
			 strerror(-err));
		return err;
	}
	p->attached = true;
	return 0;
}

static void detach_tc(struct probe *p)
{
	struct bpf_tc_opts *o[] = { &p->ingress, &p->egress };
	enum bpf_tc_attach_point at[] = { BPF_TC_INGRESS, BPF_TC_EGRESS };
	unsigned int i;

	for (i = 0; p->attached && i < 2; i++) {
		p->hook.attach_point = at[i];
		o[i]->prog_fd = o[i]->prog_id = 0;
		o[i]->flags = 0;
		bpf_tc_detach(&p->hook, o[i]);
	}
}

static int on_gap(void *ctx, void *data, size_t size)
{
	struct probe *p = ctx;

	if (size >= sizeof(struct shm_probe_gap) && p->gap_fn)
		p->gap_fn(data, p->gap_arg);
	return 0;
}

int probe_poll_gaps(struct probe *p, int timeout_ms, probe_gap_fn fn,
		    void *arg)
{
	int n;

	p->gap_fn = fn;
	p->gap_arg = arg;
	n = ring_buffer__poll(p->gaps, timeout_ms);
	p->gap_fn = NULL;
	return n == -EINTR ? 0 : n;
}

struct probe *probe_open(const char *addr, const char *dev, char *why,
			 size_t len)
{
	struct probe *p = calloc(1, sizeof(*p));
	int err;

	if (!p) {
		snprintf(why, len, "out of memory");
		return NULL;
	}
	libbpf_set_print(quiet);
	p->skel = downtime_bpf__open();
	err = p->skel ? 0 : -errno;
	if (!err && addr)
		err = set_address(p, addr, dev, why, len);
	else if (err)
		snprintf(why, len, "cannot open the BPF probe: %s", strerror(-err));
	if (!err) {
		err = downtime_bpf__load(p->skel);
		if (err)
			snprintf(why, len, "cannot load the BPF probe: %s%s",
				 strerror(-err),
				 err == -EPERM ? " (needs root)" : "");
	}
	/* No kvm module, no KVM tracepoints: then nothing to watch either. */
	if (!err) {
		p->entry = bpf_program__attach(p->skel->progs.vcpu_entry);
		p->exit = bpf_program__attach(p->skel->progs.vcpu_exit);
		if (!p->entry || !p->exit) {
			err = -errno;
			snprintf(why, len, "cannot attach to KVM's tracepoints: %s",
				 strerror(-err));
		}
	}
	if (!err && addr)
		err = attach_tc(p, why, len);
	if (!err) {
		p->gaps = ring_buffer__new(bpf_map__fd(p->skel->maps.gap_events),
					   on_gap, p, NULL);
		if (!p->gaps) {
			err = -errno;
			snprintf(why, len, "cannot read the probe's gaps: %s",
				 strerror(-err));
		}
	}
	if (err) {
		probe_close(p);
		return NULL;
	}
	return p;
}

void probe_close(struct probe *p)
{
	if (!p)
		return;
	ring_buffer__free(p->gaps);
	detach_tc(p);
	bpf_link__destroy(p->entry);
	bpf_link__destroy(p->exit);
	downtime_bpf__destroy(p->skel);
	free(p);
}

int probe_watch_vm(struct probe *p, pid_t pid)
{
	struct shm_probe_vm vm = {};
	__u32 key = pid;

	if (bpf_map__update_elem(p->skel->maps.vms, &key, sizeof(key), &vm,
				 sizeof(vm), BPF_NOEXIST))
		return -errno;
	return 0;
}

int probe_vm(struct probe *p, pid_t pid, struct shm_probe_vm *vm)
{
	__u32 key = pid;

	if (bpf_map__lookup_elem(p->skel->maps.vms, &key, sizeof(key), vm,
				 sizeof(*vm), 0))
		return -errno;
	return 0;
}

const char *probe_dev(const struct probe *p)
{
	return p->dev;
}

void probe_packets(struct probe *p, struct shm_probe_packets *pk)
{
	memcpy(pk, &p->skel->bss->packets, sizeof(*pk));
}

void probe_packets_reset(struct probe *p)
{
	memset(&p->skel->bss->packets, 0, sizeof(p->skel->bss->packets));
}
