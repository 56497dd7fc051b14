// SPDX-License-Identifier: GPL-2.0
/*
 * What a destination needs to start a test VMM like the source's, both
 * ways: the description (vmm_testvmm.h), and `shm-testvmm run --incoming`
 * started from one. A description comes from the network: every field
 * within range, nothing unknown, or the VMM is not started.
 *
 * The VMM is our child, in a session of its own: it outlives shmctl once it
 * runs the guest; before that it quits when our connection to it closes,
 * however we end (--exit-on-hangup). Its socket and log go in the run
 * directory; the log stays there, for the post-mortem of a failure.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "parse.h"
#include "shmctl.h"
#include "vmm_testvmm.h"

#define TV_START_MS	20000	/* for a new VMM's control socket; TCG is slow */

/* The fields of `info` answers and of descriptions, both ways. */
static const struct tv_field {
	const char *key;
	size_t off;
	uint64_t min, max;
} tv_fields[] = {
	{ "ram", offsetof(struct tv_config, ram), 2 * MIB, 1ULL << 40 },
	/* GUEST_MAX_VCPUS (tests/vmm/abi.h), and KVM's memslots on x86 */
	{ "vcpus", offsetof(struct tv_config, vcpus), 1, 16 },
	{ "slots", offsetof(struct tv_config, slots), 1, 32764 },
	{ "writer_pages", offsetof(struct tv_config, writer_pages), 0, 1 << 28 },
	{ "writer_rate", offsetof(struct tv_config, writer_rate), 0, 1000000000 },
	{ "manual_protect", offsetof(struct tv_config, manual_protect), 0, 1 },
	{ "beacon_from", offsetof(struct tv_config, beacon_from), 0, UINT32_MAX },
	{ "beacon_to", offsetof(struct tv_config, beacon_to), 0, UINT32_MAX },
	{ "beacon_port", offsetof(struct tv_config, beacon_port), 0, 65535 },
};

static uint64_t *tv_at(struct tv_config *cfg, const struct tv_field *f)
{
	return (uint64_t *)((char *)cfg + f->off);
}

/* One word "KEY=N" into @cfg; @seen has a bit per field set so far. */
static int tv_parse_word(struct vmm *v, char *word, bool strict,
			 const char *whose, struct tv_config *cfg,
			 unsigned int *seen)
{
	char *val = strchr(word, '=');
	const struct tv_field *f;
	unsigned int i;

	if (val)
		*val++ = '\0';
	for (i = 0; val && i < ARRAY_SIZE(tv_fields); i++) {
		f = &tv_fields[i];
		if (strcmp(word, f->key))
			continue;
		if (*seen & 1u << i)
			return tv_fail(v, -EINVAL, "%s: %s given twice", whose, word);
		if (parse_u64(val, f->min, f->max, tv_at(cfg, f)))
			return tv_fail(v, -EINVAL, "%s: %s=%s is not a number from %llu to %llu",
				       whose, word, val, (unsigned long long)f->min,
				       (unsigned long long)f->max);
		*seen |= 1u << i;
		return 0;
	}
	if (strict)
		return tv_fail(v, -EINVAL, "%s: unknown field '%s'", whose, word);
	return 0;
}

int tv_parse(struct vmm *v, const char *text, char sep, bool strict,
	     const char *whose, struct tv_config *cfg)
{
	unsigned int seen = 0, i;
	const char *w = text, *end;
	char word[64];
	int err;

	do {
		end = strchrnul(w, sep);
		if (end - w >= (ptrdiff_t)sizeof(word))
			return tv_fail(v, -EINVAL, "%s: '%.20s...' is too long", whose, w);
		memcpy(word, w, end - w);
		word[end - w] = '\0';
		err = tv_parse_word(v, word, strict, whose, cfg, &seen);
		if (err)
			return err;
		w = end + 1;
	} while (*end);
	for (i = 0; i < ARRAY_SIZE(tv_fields); i++) {
		if (!(seen & 1u << i))
			return tv_fail(v, -EINVAL, "%s: no %s", whose, tv_fields[i].key);
	}
	if (!cfg->beacon_from != !cfg->beacon_to ||
	    !cfg->beacon_to != !cfg->beacon_port)
		return tv_fail(v, -EINVAL, "%s: a beacon needs both addresses and a port",
			       whose);
	if (cfg->ram % (2 * MIB))
		return tv_fail(v, -EINVAL, "%s: ram=%llu is not a multiple of 2 MiB",
			       whose, (unsigned long long)cfg->ram);
	if (cfg->slots > cfg->ram / (2 * MIB) ||
	    cfg->writer_pages + cfg->vcpus >= cfg->ram / 4096)
		return tv_fail(v, -EINVAL, "%s: %llu MiB of RAM cannot hold %llu slots, %llu vCPUs and %llu writer pages",
			       whose, (unsigned long long)(cfg->ram / MIB),
			       (unsigned long long)cfg->slots,
			       (unsigned long long)cfg->vcpus,
			       (unsigned long long)cfg->writer_pages);
	return 0;
}

/* Only gpa matters to shm: the destination keeps its RAM in one slot. */
int tv_describe(struct vmm *v, char *desc, size_t len)
{
	struct tv *tv = v->priv;
	struct tv_config cfg = tv->cfg;
	size_t n = 0, i;

	cfg.slots = 1;
	for (i = 0; i < ARRAY_SIZE(tv_fields) && n < len; i++)
		n += snprintf(desc + n, len - n, "%s%s=%llu", i ? "," : "",
			      tv_fields[i].key,
			      (unsigned long long)*tv_at(&cfg, &tv_fields[i]));
	return n < len ? 0 : tv_fail(v, -ENOSPC, "description over %zu bytes", len);
}

/* $SHM_TESTVMM, or build/tests/vmm/shm-testvmm beside build/shmctl. */
static int tv_find_exe(struct vmm *v, char *exe, size_t len)
{
	static const char beside[] = "/tests/vmm/shm-testvmm";
	const char *env = getenv("SHM_TESTVMM");
	ssize_t n;

	if (env && *env) {
		snprintf(exe, len, "%s", env);
	} else {
		n = readlink("/proc/self/exe", exe, len - sizeof(beside));
		if (n <= 0 || (size_t)n >= len - sizeof(beside))
			return tv_fail(v, -ENAMETOOLONG, "cannot find shmctl's own path");
		exe[n] = '\0';
		strcpy(strrchr(exe, '/'), beside);
	}
	if (access(exe, X_OK))
		return tv_fail(v, -errno, "cannot run %s (%m): set SHM_TESTVMM", exe);
	return 0;
}

/*
 * The child gets no fd of ours (a data stream must end when we close it),
 * no terminal, and no blocked signal: SIGUSR1 kicks its vCPUs out. From
 * fork to exec only async-signal-safe calls: shmctl serve has threads.
 */
static int tv_spawn(struct vmm *v)
{
	struct tv *tv = v->priv;
	const struct tv_config *c = &tv->cfg;
	char exe[PATH_MAX], num[5][24], from[INET_ADDRSTRLEN];
	char to[INET_ADDRSTRLEN + 8];
	char *argv[22] = { exe, "run", "--incoming", "--exit-on-hangup",
		"--ctl", tv->sock,
		"--ram", num[0], "--vcpus", num[1], "--slots", num[2],
		"--writer-pages", num[3], "--writer-rate", num[4] };
	char **more = &argv[16];
	struct in_addr in;
	sigset_t none;
	int log, err;

	err = tv_find_exe(v, exe, sizeof(exe));
	if (err)
		return err;
	if (c->manual_protect)
		*more++ = "--manual-protect";
	if (c->beacon_to) {
		in.s_addr = htonl(c->beacon_from);
		inet_ntop(AF_INET, &in, from, sizeof(from));
		in.s_addr = htonl(c->beacon_to);
		inet_ntop(AF_INET, &in, to, sizeof(to));
		snprintf(to + strlen(to), sizeof(to) - strlen(to), ":%llu",
			 (unsigned long long)c->beacon_port);
		*more++ = "--beacon-from";
		*more++ = from;
		*more++ = "--beacon-to";
		*more++ = to;
	}
	snprintf(num[0], sizeof(num[0]), "%lluM", (unsigned long long)(c->ram / MIB));
	snprintf(num[1], sizeof(num[1]), "%llu", (unsigned long long)c->vcpus);
	snprintf(num[2], sizeof(num[2]), "%llu", (unsigned long long)c->slots);
	snprintf(num[3], sizeof(num[3]), "%llu", (unsigned long long)c->writer_pages);
	snprintf(num[4], sizeof(num[4]), "%llu", (unsigned long long)c->writer_rate);
	log = open(tv->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (log < 0)
		return tv_fail(v, -errno, "%s: %m", tv->log);
	sigemptyset(&none);
	tv->child = fork();
	if (!tv->child) {
		if (dup2(log, 1) < 0 || dup2(log, 2) < 0 || setsid() < 0 ||
		    sigprocmask(SIG_SETMASK, &none, NULL) ||
		    dup2(open("/dev/null", O_RDONLY), 0) < 0 ||
		    close_range(3, ~0U, 0))
			_exit(127);
		execv(exe, argv);
		_exit(127);
	}
	err = -errno;
	close(log);
	if (tv->child > 0)
		return 0;
	tv->child = 0;
	return tv_fail(v, err, "fork: %s", strerror(-err));
}

/* The last line of a VMM's log: why it exited, when it did at start. */
static const char *tv_last_words(struct tv *tv, char *buf, size_t len)
{
	FILE *f = fopen(tv->log, "re");
	char line[256];

	snprintf(buf, len, "its log is empty");
	while (f && fgets(line, sizeof(line), f)) {
		if (line[0] != '\n')
			snprintf(buf, len, "%.*s", (int)strcspn(line, "\n"), line);
	}
	if (f)
		fclose(f);
	return buf;
}

/* As soon as the new VMM listens, while it lives. */
static int tv_wait_connect(struct vmm *v)
{
	struct tv *tv = v->priv;
	uint64_t deadline = monotonic_ms() + TV_START_MS;
	char why[256];
	pid_t r;
	int err;

	for (;;) {
		err = tv_connect(v);
		if (err != -ENOENT && err != -ECONNREFUSED)
			return err;
		r = waitpid(tv->child, NULL, WNOHANG);
		if (r == tv->child || (r < 0 && errno == ECHILD)) {
			tv->child = 0;
			return tv_fail(v, -ECHILD, "it exited at start: %s",
				       tv_last_words(tv, why, sizeof(why)));
		}
		if (monotonic_ms() > deadline)
			return tv_fail(v, -ETIMEDOUT, "no control socket after %d s",
				       TV_START_MS / 1000);
		usleep(TV_POLL_MS * 1000);
	}
}

int tv_check_incoming(struct vmm *v, const char *desc)
{
	struct tv_config cfg;

	return tv_parse(v, desc, ',', true, "description from the source",
			&cfg);
}

int tv_create_incoming(struct vmm *v, const char *desc, const char *rundir)
{
	static unsigned int serial;
	struct tv *tv = tv_new(v);
	char dir[PATH_MAX];
	int n, err;

	if (!tv)
		return -ENOMEM;
	err = tv_parse(v, desc, ',', true, "description from the source", &tv->cfg);
	if (err)
		goto fail;
	if ((mkdir(rundir, 0700) && errno != EEXIST) || !realpath(rundir, dir)) {
		err = tv_fail(v, -errno, "run directory %s: %m", rundir);
		goto fail;
	}
	/* Unique: serve starts VMMs from several threads. */
	n = snprintf(tv->sock, sizeof(tv->sock), "%s/testvmm-%d-%u.sock", dir,
		     getpid(), __atomic_fetch_add(&serial, 1, __ATOMIC_RELAXED));
	if (n >= (int)sizeof(tv->sock)) {
		tv->sock[0] = '\0';
		err = tv_fail(v, -ENAMETOOLONG, "run directory %s: too long a path", dir);
		goto fail;
	}
	snprintf(tv->log, sizeof(tv->log), "%.*s.log", n - 5, tv->sock);
	err = tv_spawn(v) ?: tv_wait_connect(v);
	if (!err)
		return 0;
fail:
	tv_end(v, true);
	return err;
}
