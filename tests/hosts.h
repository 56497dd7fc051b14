/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Two "hosts" in one kernel: network namespaces joined by a veth pair,
 * optionally shaped with tc, as shm sees them (a namespace is a host: its
 * sessions and netlink events are its own). A test thread enters one to
 * open sockets there, and comes back.
 */
#ifndef _SHM_TESTS_HOSTS_H
#define _SHM_TESTS_HOSTS_H

enum host {
	HOST_SRC,
	HOST_DST,
	NR_HOSTS,
};

/* The destination's address on the link, and the port migrations use. */
#define HOSTS_DST_ADDR	"10.213.0.2"
#define HOSTS_PORT	7411

struct hosts {
	char name[NR_HOSTS][32];	/* under /run/netns */
	int netns[NR_HOSTS];
	int home;			/* the namespace we came from */
};

/*
 * Creates both namespaces and the link between them. @rate, if not NULL,
 * caps what the source sends, in tc's words ("80mbit").
 */
int hosts_create(struct hosts *h, const char *rate);
void hosts_destroy(struct hosts *h);
/* Moves the calling thread into @host's namespace, or back home. */
int hosts_enter(struct hosts *h, enum host host);
int hosts_leave(struct hosts *h);
/* Runs a shell command inside @host; returns its exit status. */
int hosts_run(struct hosts *h, enum host host, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* @nr TCP connections from the source to the destination, in order. */
int hosts_connect(struct hosts *h, int *src_fds, int *dst_fds,
		  unsigned int nr);

#endif /* _SHM_TESTS_HOSTS_H */
