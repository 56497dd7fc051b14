// SPDX-License-Identifier: GPL-2.0
/*
 * The soft-dirty tracker (softdirty.h).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/pidfd.h>
#include <time.h>
#include <unistd.h>

#include <netlink/attr.h>
#include <shm/netlink.h>

#include "clock.h"
#include "netlink.h"
#include "procmaps.h"
#include "softdirty.h"

#define PAGE_SIZE		4096ULL
#define PM_SOFT_DIRTY		(1ULL << 55)
#define SD_FREEZE_MS		2000	/* for every thread to stop */
#define SD_RANGES_PER_MSG	96	/* 28 bytes each: within one page */

static int sd_fail(struct softdirty *sd, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sd->why, sizeof(sd->why), fmt, ap);
	va_end(ap);
	return err;
}

/* Every thread of the VMM stopped ('T'), or gone. */
static bool sd_all_stopped(struct softdirty *sd)
{
	char path[300], buf[512], *state;
	struct dirent *d;
	bool all = true;
	DIR *dir;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/task", sd->pid);
	dir = opendir(path);
	if (!dir)
		return true;
	while (all && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", sd->pid, d->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		/* "pid (comm) S ...": comm may hold spaces and parentheses. */
		state = strrchr(buf, ')');
		all = !state || state[1] != ' ' || strchr("TtZX", state[2]);
	}
	closedir(dir);
	return all;
}

static int sd_freeze(struct softdirty *sd)
{
	uint64_t start = monotonic_ms();
	struct timespec nap = { .tv_nsec = 1000000 };

	if (pidfd_send_signal(sd->pidfd, SIGSTOP, NULL, 0))
		return sd_fail(sd, -errno, "cannot stop QEMU to read its writes: %m");
	while (!sd_all_stopped(sd)) {
		if (monotonic_ms() - start > SD_FREEZE_MS) {
			pidfd_send_signal(sd->pidfd, SIGCONT, NULL, 0);
			return sd_fail(sd, -ETIMEDOUT, "QEMU's threads did not stop in %d ms",
				       SD_FREEZE_MS);
		}
		nanosleep(&nap, NULL);
	}
	return 0;
}

/* One batch of ranges to shm.ko; shm_nl_request() frees @msg. */
static int sd_send(struct softdirty *sd, struct nl_msg *msg,
		   struct nlattr *list)
{
	int err;

	nla_nest_end(msg, list);
	err = shm_nl_request(&sd->nl, msg, NULL, NULL);
	if (err)
		sd_fail(sd, err, "shm.ko took no report of QEMU's writes: %s",
			sd->nl.failure.msg);
	return err;
}

/* The dirty pages of range @r as runs, reported in batches. */
static int sd_report(struct softdirty *sd, const uint64_t *entries,
		     unsigned int r, uint64_t npages)
{
	uint64_t base = sd->ranges[r].start, i = 0, run;
	struct nlattr *list, *range;
	struct nl_msg *msg = NULL;
	unsigned int n = 0;
	int err = 0;

	while (!err && i < npages) {
		if (!(entries[i] & PM_SOFT_DIRTY)) {
			i++;
			continue;
		}
		for (run = 1; i + run < npages &&
			      (entries[i + run] & PM_SOFT_DIRTY); run++)
			;
		if (!msg) {
			msg = shm_nl_request_new(&sd->nl, SHM_CMD_SESSION_DIRTY, 0);
			if (!msg || nla_put_u32(msg, SHM_SESSION_A_ID, sd->session))
				goto nomem;
			list = nla_nest_start(msg, SHM_SESSION_A_DIRTY);
		}
		range = nla_nest_start(msg, ++n);
		if (!range || nla_put_u64(msg, SHM_RANGE_A_HVA, base + i * PAGE_SIZE) ||
		    nla_put_u64(msg, SHM_RANGE_A_LEN, run * PAGE_SIZE))
			goto nomem;
		nla_nest_end(msg, range);
		sd->pages += run;
		i += run;
		if (n == SD_RANGES_PER_MSG) {
			err = sd_send(sd, msg, list);
			msg = NULL;
			n = 0;
		}
	}
	return msg ? sd_send(sd, msg, list) : err;
nomem:
	nlmsg_free(msg);
	return sd_fail(sd, -ENOMEM, "out of memory");
}

/*
 * One scan: the VMM stopped, its soft-dirty bits read (@report) and
 * cleared (@clear), and it goes on; then the writes go to shm.ko.
 */
static int sd_scan(struct softdirty *sd, bool report, bool clear, bool freeze)
{
	uint64_t total = 0, off[SOFTDIRTY_MAX_RANGES];
	unsigned int r;
	int err = freeze ? sd_freeze(sd) : 0;

	for (r = 0; !err && report && r < sd->nr_ranges; r++) {
		uint64_t n = sd->ranges[r].len / PAGE_SIZE;
		ssize_t got = pread(sd->pagemap, sd->entries + total, n * 8,
				    sd->ranges[r].start / PAGE_SIZE * 8);

		if (got != (ssize_t)(n * 8))
			err = sd_fail(sd, -EIO, "cannot read QEMU's pagemap: %s",
				      got < 0 ? strerror(errno) : "short read");
		off[r] = total;
		total += n;
	}
	if (!err && clear && pwrite(sd->clear_refs, "4", 1, 0) != 1)
		err = sd_fail(sd, -errno, "cannot clear QEMU's soft-dirty bits: %m");
	if (freeze)
		pidfd_send_signal(sd->pidfd, SIGCONT, NULL, 0);
	if (err || !report)
		return err;
	sd->scans++;
	for (r = 0; !err && r < sd->nr_ranges; r++)
		err = sd_report(sd, sd->entries + off[r], r,
				sd->ranges[r].len / PAGE_SIZE);
	return err;
}

/* The last round of this session whose end shm.ko asked to scan. */
static int sd_on_event(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[SHM_SESSION_A_MAX + 1];
	struct softdirty *sd = arg;

	if (genlmsg_hdr(nlmsg_hdr(msg))->cmd != SHM_CMD_SESSION_SCAN ||
	    genlmsg_parse(nlmsg_hdr(msg), 0, tb, SHM_SESSION_A_MAX, NULL) ||
	    !tb[SHM_SESSION_A_ID] || !tb[SHM_SESSION_A_SCAN_ROUND] ||
	    nla_get_u32(tb[SHM_SESSION_A_ID]) != sd->session)
		return 0;
	sd->asked = nla_get_u32(tb[SHM_SESSION_A_SCAN_ROUND]);
	sd->pending = true;
	return 0;
}

/* The scan of round @round's end is reported in full. */
static int sd_answer(struct softdirty *sd, uint32_t round)
{
	struct nl_msg *msg = shm_nl_request_new(&sd->nl, SHM_CMD_SESSION_DIRTY, 0);

	if (!msg || nla_put_u32(msg, SHM_SESSION_A_ID, sd->session) ||
	    nla_put_u32(msg, SHM_SESSION_A_SCAN_ROUND, round)) {
		nlmsg_free(msg);
		return sd_fail(sd, -ENOMEM, "out of memory");
	}
	if (shm_nl_request(&sd->nl, msg, NULL, NULL))
		return sd_fail(sd, -EIO, "shm.ko took no answer to its scan: %s",
			       sd->nl.failure.msg);
	return 0;
}

/* Scans when shm.ko asks, and answers; one scan for requests that queued. */
static void *sd_thread(void *arg)
{
	struct softdirty *sd = arg;
	struct pollfd fds[2] = {
		{ .fd = nl_socket_get_fd(sd->events.sock), .events = POLLIN },
		{ .fd = sd->stop, .events = POLLIN },
	};
	int err = 0;

	while (!err) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			err = sd_fail(sd, -errno, "poll: %m");
			break;
		}
		if (fds[1].revents)
			break;
		err = shm_nl_drain(&sd->events, sd_on_event, sd);
		if (err || !sd->pending)
			continue;
		sd->pending = false;
		err = sd_scan(sd, true, true, true);
		if (!err)
			err = sd_answer(sd, sd->asked);
	}
	sd->err = err;
	return NULL;
}

/* What softdirty_start() opened; a socket never opened is NULL. */
static void sd_release(struct softdirty *sd)
{
	if (sd->pagemap >= 0)
		close(sd->pagemap);
	if (sd->clear_refs >= 0)
		close(sd->clear_refs);
	if (sd->stop >= 0)
		close(sd->stop);
	free(sd->entries);
	if (sd->nl.sock)
		shm_nl_close(&sd->nl);
	if (sd->events.sock)
		shm_nl_close(&sd->events);
}

int softdirty_start(struct softdirty *sd, pid_t pid, int pidfd,
		    const char *ram_path, uint32_t session)
{
	uint64_t pages = 0;
	char path[64];
	unsigned int r;
	int err;

	memset(sd, 0, sizeof(*sd));
	sd->pid = pid;
	sd->pidfd = pidfd;
	sd->session = session;
	sd->pagemap = sd->clear_refs = sd->stop = -1;
	err = proc_maps_find(pid, ram_path, sd->ranges, SOFTDIRTY_MAX_RANGES,
			     &sd->nr_ranges, sd->why, sizeof(sd->why));
	if (err)
		return err;
	for (r = 0; r < sd->nr_ranges; r++)
		pages += sd->ranges[r].len / PAGE_SIZE;
	sd->entries = malloc(pages * 8);
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	sd->pagemap = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/clear_refs", pid);
	sd->clear_refs = open(path, O_WRONLY | O_CLOEXEC);
	sd->stop = eventfd(0, EFD_CLOEXEC);
	if (!sd->entries)
		err = sd_fail(sd, -ENOMEM, "out of memory");
	else if (sd->pagemap < 0 || sd->clear_refs < 0 || sd->stop < 0)
		err = sd_fail(sd, -errno, "/proc/%d: cannot track QEMU's writes: %m", pid);
	else if (shm_nl_open(&sd->nl) || shm_nl_open(&sd->events))
		err = sd_fail(sd, -EIO, "cannot talk to shm.ko");
	else if (shm_nl_watch(&sd->events) < 0)
		err = sd_fail(sd, -EIO, "%s", sd->events.failure.msg);
	else
		err = sd_scan(sd, false, true, true);
	if (!err) {
		err = -pthread_create(&sd->thread, NULL, sd_thread, sd);
		if (err)
			sd_fail(sd, err, "cannot start a thread: %s", strerror(-err));
	}
	if (err)
		sd_release(sd);
	return err;
}

static int sd_end(struct softdirty *sd, bool last_scan)
{
	uint64_t one = 1;
	int err;

	if (write(sd->stop, &one, sizeof(one)) != sizeof(one))
		return sd_fail(sd, -errno, "cannot stop the tracker: %m");
	pthread_join(sd->thread, NULL);
	err = sd->err;
	if (!err && last_scan)
		err = sd_scan(sd, true, false, false);
	sd_release(sd);
	return err;
}

int softdirty_finish(struct softdirty *sd)
{
	return sd_end(sd, true);
}

void softdirty_cancel(struct softdirty *sd)
{
	sd_end(sd, false);
}
