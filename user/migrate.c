// SPDX-License-Identifier: GPL-2.0
/*
 * shmctl migrate VM --to HOST[:PORT]: the source side of a live migration.
 *
 *   attach the VM (its VMM driver), preflight here, authenticate with the
 *   destination's shmctl serve, which preflights there and starts an empty
 *   VM; open the data streams and hand them to shm.ko; pre-copy (its first
 *   pages wait there while that VM starts) until the destination is
 *   READY and the engine says the rest fits in the max downtime;
 *   pause, final round, the
 *   VM's state across (as its VMM gives it out, vmm.h); once the
 *   destination says the guest runs, release the VM here and print the
 *   report.
 *
 * Until the destination says RUNNING, any failure (refusal, the network,
 * the other side dying, Ctrl-C) leaves the VM running here: it is resumed
 * if it was paused, the session (an owned one) goes with our netlink
 * socket, and the destination removes what it made when the control
 * connection closes. Even SIGKILL leaves only that: the guest was never
 * stopped before the last round.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <shm/netlink.h>
#include <shm/wire.h>

#include "auth.h"
#include "clock.h"
#include "cpuid.h"
#include "digest.h"
#include "engine.h"
#include "host.h"
#include "json.h"
#include "link.h"
#include "measure.h"
#include "names.h"
#include "parse.h"
#include "shmctl.h"
#include "vmm.h"

#define MIGRATE_USAGE							\
	"migrate VM --to HOST[:PORT] [--key FILE] [--max-downtime MS]\n" \
	"        [--streams N] [--bandwidth RATE] [--compress[=WHEN]]\n"	\
	"        [--max-migrations N] [--watch-ip ADDR[@DEV]]\n"		\
	"        [--stall-wait SECONDS] [--force-cutover] [--keep-source]\n" \
	"        [--verify] [--dry-run] [--json]\n"			\
	"        where VM is qemu:QMP_SOCKET (QEMU/KVM), libvirt:DOMAIN\n" \
	"        or testvmm:SOCKET"
/* At least this often; a round's end (an event) wakes it at once. */
#define POLL_MS		200
#define STALL_WAIT_S	30	/* for a stalled pre-copy to converge after all */
#define AUTH_TIMEOUT_MS	5000
/* For the destination's word on why a session failed (serve.c). */
#define PEER_WORD_MS	2000

struct migrate_opts {
	const char *vm, *to, *key, *watch;
	uint32_t max_downtime_ms, streams, max_migrations, stall_wait_s;
	uint32_t compress;	/* enum shm_compress */
	uint64_t bandwidth;
	bool force, keep_source, verify, dry_run, json;
};

/* One migration in flight, and what the report will say of it. */
struct migration {
	const struct migrate_opts *o;
	struct vmm vm;
	struct engine e;
	int ctl;
	int fds[SHM_MAX_STREAMS];
	struct vmm_state_out state_out;	/* send_state */
	bool attached, started, ready, paused, committed, tty;
	uint64_t t_start, t_precopy, t_pause, t_end;
	uint64_t t_sample;		/* of m->last */
	double rate;			/* bytes/s, measured here */
	uint64_t shown_step;		/* the last progress line's */
	struct engine_figures last;
	struct measure ms;
	struct downtime_figures dt;
	char why[512];
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static int fail(struct migration *m, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct migration *m, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->why, sizeof(m->why), fmt, ap);
	va_end(ap);
	return err ?: -EIO;
}

/*
 * Whether the destination said why it gave up, "ERR sentence" in @line,
 * within PEER_WORD_MS: a failure seen here first (a data stream it
 * closed) often has its reason there.
 */
static bool peer_said_err(struct migration *m, char *line, size_t len)
{
	return !link_recv(m->ctl, line, len, PEER_WORD_MS) &&
	       link_is(line, "ERR");
}

/* Authenticates a new connection to the destination. */
static int connect_peer(struct migration *m, const struct auth_key *key)
{
	char host[128], why[256];
	uint16_t port;
	int fd, err;

	if (link_parse_address(m->o->to, host, sizeof(host), &port))
		return fail(m, -EINVAL, "--to takes HOST[:PORT], not '%s'",
			    m->o->to);
	fd = link_connect(host, port, why, sizeof(why));
	if (fd < 0)
		return fail(m, fd, "%s", why);
	err = auth_handshake(fd, key, true, AUTH_TIMEOUT_MS);
	if (err) {
		close(fd);
		return fail(m, err, err == -EACCES ?
			    "%s refused the key, or did not prove it holds it: both hosts need the same key file" :
			    "authentication with %s failed: %s", m->o->to,
			    strerror(-err));
	}
	return fd;
}

/* The destination's "ERR sentence" @line, as ours. */
static int refused(struct migration *m, const char *line)
{
	return fail(m, -EREMOTEIO, "the destination refused: %s", line + 4);
}

/* A line from the destination; its ERR sentences become ours. */
static int expect(struct migration *m, const char *word, char *line,
		  size_t len, int timeout_ms)
{
	int err = link_recv(m->ctl, line, len, timeout_ms);

	if (err)
		return fail(m, err, "the destination went away (%s)",
			    strerror(-err));
	if (link_is(line, "ERR"))
		return refused(m, line);
	if (!link_is(line, word))
		return fail(m, -EPROTO, "the destination said '%.40s', not %s",
			    line, word);
	return 0;
}

/*
 * The CPU the guest sees, as the destination checks it (" cpu=WORDS"), or
 * "" if the driver cannot tell: the destination checks its host's CPU.
 */
static int guest_cpu(struct migration *m, char *field, size_t len)
{
	char text[CPUID_TEXT_MAX];
	struct cpuid_words words;
	int err;

	*field = '\0';
	if (!m->vm.driver->guest_cpu)
		return 0;
	err = m->vm.driver->guest_cpu(&m->vm, &words);
	if (err == -EOPNOTSUPP)
		return 0;
	if (err)
		return fail(m, err, "%s", m->vm.err);
	/* CPUID_TEXT_MAX holds any words. */
	cpuid_format(&words, text, sizeof(text));
	snprintf(field, len, " cpu=%s", text);
	return 0;
}

/* The MIGRATE line's variable parts at their longest, and the rest. */
_Static_assert(LINK_LINE_MAX >= VMM_DESC_MAX + CPUID_TEXT_MAX +
	       sizeof(((struct host_cpu *)0)->flags) + 1024,
	       "a MIGRATE line fits in LINK_LINE_MAX");

/* Preflight here, then the destination's, which answers with an id. */
static int propose(struct migration *m, uint32_t *id)
{
	char desc[VMM_DESC_MAX], line[LINK_LINE_MAX];
	char cpu_words[sizeof(" cpu=") + CPUID_TEXT_MAX];
	struct host_cpu cpu;
	unsigned int active;
	uint32_t proto;
	uint64_t n;
	int err;

	err = engine_protocol(&m->e, &proto) ?:
	      engine_count_active(&m->e, SHM_ROLE_SOURCE, &active);
	if (err)
		return fail(m, err, "%s", engine_why(&m->e, err));
	if (active >= m->o->max_migrations)
		return fail(m, -EBUSY, "this host already sends %u migrations, the limit (--max-migrations): try again later",
			    active);
	err = m->vm.driver->describe(&m->vm, desc, sizeof(desc));
	if (err)
		return fail(m, err, "%s", m->vm.err);
	err = guest_cpu(m, cpu_words, sizeof(cpu_words));
	if (err)
		return err;
	if (host_cpu(&cpu))
		return fail(m, -EIO, "cannot read this host's CPU description");
	err = link_send(m->ctl, "MIGRATE link=%u proto=%u driver=%s desc=%s ram=%llu streams=%u compress=%s%s%s%s vendor=%s flags=%s%s",
			LINK_VERSION, proto, m->vm.driver->name, desc,
			(unsigned long long)m->vm.ram_bytes, m->o->streams,
			compress_name(m->o->compress),
			m->o->dry_run ? " dry=1" : "",
			m->o->watch ? " watch=" : "", m->o->watch ?: "",
			cpu.vendor, cpu.flags, cpu_words);
	err = err ?: expect(m, "OK", line, sizeof(line), LINK_TIMEOUT_MS);
	if (err)
		return err;
	err = link_check_version(line, "destination", m->why, sizeof(m->why));
	if (err || m->o->dry_run)
		return err;
	if (link_get_u64(line, "id", UINT32_MAX, &n))
		return fail(m, -EPROTO, "the destination gave no migration id");
	*id = n;
	return 0;
}

static int open_streams(struct migration *m, const struct auth_key *key,
			uint32_t id)
{
	char line[LINK_LINE_MAX];
	unsigned int i;
	int err;

	for (i = 0; i < m->o->streams; i++) {
		m->fds[i] = connect_peer(m, key);
		if (m->fds[i] < 0)
			return m->fds[i];
		err = link_send(m->fds[i], "STREAM id=%u index=%u", id, i) ?:
		      link_recv(m->fds[i], line, sizeof(line), LINK_TIMEOUT_MS);
		if (!err && link_is(line, "OK"))
			continue;
		/* Its VM did not start, say: a refusal, as serve.c says. */
		if (peer_said_err(m, line, sizeof(line)))
			return refused(m, line);
		return fail(m, err ?: -EPROTO,
			    "the destination did not take data stream %u", i);
	}
	return 0;
}

/*
 * Throughput as seen from here, smoothed over the last polls: the engine's
 * own figure is the last whole round's, and round 1 has none until done.
 */
static void measure_rate(struct migration *m, const struct engine_figures *f)
{
	uint64_t now = monotonic_ms();
	double rate;

	if (m->t_sample && now > m->t_sample &&
	    f->total_bytes >= m->last.total_bytes) {
		rate = (f->total_bytes - m->last.total_bytes) * 1000.0 /
		       (now - m->t_sample);
		m->rate = m->rate ? 0.7 * m->rate + 0.3 * rate : rate;
	}
	m->t_sample = now;
}

/*
 * The progress line: phase, share of memory sent once, round, dirty rate,
 * throughput and time left (the rest of this round, then what is dirty
 * already). Rewritten in place on a terminal.
 */
static void show_progress(struct migration *m, const struct engine_figures *f)
{
	uint64_t left = f->round_pages > f->round_done ?
			f->round_pages - f->round_done : 0, step;
	char eta[32] = "?";

	if (m->rate >= 1) {
		double s = left * (double)SHM_WIRE_PAGE_SIZE / m->rate;

		if (f->rounds && f->estimate_ms != UINT64_MAX)
			s += f->estimate_ms / 1e3;
		snprintf(eta, sizeof(eta), "%.1f s", s);
	}
	/* Not on a terminal: a line per round, and per quarter of round 1. */
	step = (f->rounds + 1) * 4 + engine_percent(f) / 25;
	if (m->o->json || (!m->tty && step == m->shown_step))
		return;
	m->shown_step = step;
	printf("%s%-10s %3u%%  round %llu  dirty %llu pages/s  %.1f MB/s  ETA %s%s",
	       m->tty ? "\r" : "", m->ready ? engine_phase(f) : "starting",
	       engine_percent(f),
	       (unsigned long long)f->rounds + 1,
	       (unsigned long long)f->dirty_rate, m->rate / 1e6, eta,
	       m->tty ? "   " : "\n");
	fflush(stdout);
}

/*
 * The session here failed. Often the destination's did first (its disk
 * full, its VM gone), and ours saw only the streams break: the
 * destination says why on the control connection, within a second.
 */
static int session_failed(struct migration *m, const struct engine_figures *f)
{
	char line[LINK_LINE_MAX];

	if (!peer_said_err(m, line, sizeof(line)))
		return fail(m, -EIO, "the migration failed: %s", f->reason);
	if (!m->ready)
		return refused(m, line);
	return fail(m, -EIO, "the migration failed: %s; and %s", f->reason,
		    line + 4);
}

/*
 * Pre-copy until the engine says the rest fits in the max downtime. Once
 * it stalls, with --force-cutover that is the end of it; else it goes on
 * --stall-wait seconds more, for the guest's dirtying to ease off (a
 * burst that ends, a dip), before it gives up.
 */
static int precopy(struct migration *m)
{
	/* The destination's line; shm.ko's events. */
	struct pollfd pfd[2] = {
		{ .fd = m->ctl, .events = POLLIN },
		{ .fd = engine_watch(&m->e), .events = POLLIN },
	};
	uint64_t stalled_since = 0;
	struct engine_figures f;
	char line[LINK_LINE_MAX];
	int err;

	for (;;) {
		if (interrupted)
			return fail(m, -EINTR, "interrupted by signal %d",
				    (int)interrupted);
		/* READY once its VM runs its session; else why it failed. */
		if (poll(pfd, 2, POLL_MS) > 0 && pfd[0].revents) {
			err = expect(m, "READY", line, sizeof(line), 0);
			if (err || m->ready)
				return err ?: fail(m, -EPROTO, "the destination spoke out of turn");
			m->ready = true;
			m->shown_step = 0;	/* a line says so */
		}
		if (pfd[1].revents)
			engine_watched(&m->e);
		err = engine_figures(&m->e, &f);
		if (err)
			return fail(m, err, "%s", engine_why(&m->e, err));
		if (f.state != SHM_STATE_PRECOPY)
			return session_failed(m, &f);
		measure_rate(m, &f);
		show_progress(m, &f);
		m->last = f;
		/* Nothing to cut over to until the destination has its VM. */
		if (!m->ready) {
			if (monotonic_ms() - m->t_precopy < LINK_TIMEOUT_MS)
				continue;
			return fail(m, -ETIMEDOUT, "the destination did not start its VM within %d s",
				    LINK_TIMEOUT_MS / 1000);
		}
		if (f.convergence == SHM_CONVERGENCE_READY)
			return 0;
		if (f.convergence != SHM_CONVERGENCE_STALLED)
			continue;
		if (m->o->force)
			return 0;
		if (!stalled_since)
			stalled_since = monotonic_ms();
		if (monotonic_ms() - stalled_since >= m->o->stall_wait_s * 1000ULL)
			return fail(m, -ETIME, "the guest dirties %llu pages/s, as fast as the link moves them: pre-copy cannot converge (stalled for %u s), the last rounds would take %llu ms against a max downtime of %u ms (raise --max-downtime, lower the guest's load, or --force-cutover)",
				    (unsigned long long)f.dirty_rate,
				    m->o->stall_wait_s,
				    (unsigned long long)f.estimate_ms,
				    m->o->max_downtime_ms);
	}
}

/*
 * A piece of the VM's state to the destination (struct vmm_state_out),
 * maybe from a thread of the VMM driver's: the control connection is its
 * alone from pause until save_state returns, as cutover sends nothing
 * else on it then.
 */
static int send_state(void *ctx, const void *buf, size_t len, bool paused)
{
	struct migration *m = ctx;
	const char *p = buf;
	size_t piece;
	int err = 0;

	for (; !err && len; p += piece, len -= piece) {
		piece = len < LINK_STATE_PIECE_MAX ? len : LINK_STATE_PIECE_MAX;
		err = link_send(m->ctl, "STATE len=%zu%s", piece,
				paused ? " paused=1" : "") ?:
		      link_send_bytes(m->ctl, p, piece);
	}
	return err;
}

/* Pause, last round, VM state across; the destination runs the guest. */
static int cutover(struct migration *m)
{
	char line[LINK_LINE_MAX], digest[DIGEST_HEX] = "";
	int err;

	m->t_pause = monotonic_ms();
	m->state_out = (struct vmm_state_out){ send_state, m };
	err = m->vm.driver->pause(&m->vm, &m->state_out);
	if (err)
		return fail(m, err, "%s", m->vm.err);
	m->paused = true;
	err = engine_command(&m->e, SHM_CMD_SESSION_FINAL);
	if (err)
		return fail(m, err, "the final round failed: %s",
			    engine_why(&m->e, err));
	measure_source_paused(&m->ms);
	err = m->vm.driver->save_state(&m->vm) ?:
	      (m->o->verify ? vmm_ram_digest(&m->vm, digest) : 0);
	if (err)
		return fail(m, err, "%s", m->vm.err);
	err = link_send(m->ctl, "SAVED%s%s", *digest ? " digest=" : "", digest);
	if (err)
		return fail(m, err, "the VM's state did not reach the destination");
	err = expect(m, "RESTORED", line, sizeof(line), LINK_TIMEOUT_MS);
	if (err)
		return err;
	/* From here on the VM is the destination's: see link.h. */
	m->committed = true;
	err = link_send(m->ctl, "GO") ?:
	      expect(m, "RUNNING", line, sizeof(line), LINK_TIMEOUT_MS);
	/* Its ERR says it removed its VM: ours may run again. */
	if (err == -EREMOTEIO)
		m->committed = false;
	m->t_end = monotonic_ms();
	return err;
}

/* "(one clock)", or how far the two hosts' clocks were matched. */
static const char *clock_note(const struct downtime_figures *dt, char *buf,
			      size_t len)
{
	if (dt->one_clock)
		return "one clock";
	snprintf(buf, len, "clocks matched to +-%.3f ms",
		 dt->uncertainty_ns / 1e6);
	return buf;
}

/* shmctl's own CPU time, its threads' (the soft-dirty tracker's) too. */
static uint64_t own_cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000ULL +
	       ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static void report_json(struct migration *m, const struct engine_figures *f,
			uint64_t total)
{
	const struct downtime_figures *dt = &m->dt;
	struct json j;

	json_init(&j, stdout);
	json_object_begin(&j);
	json_member_string(&j, "vm", m->o->vm);
	json_member_string(&j, "to", m->o->to);
	json_member_uint(&j, "total_ms", total);
	json_member_uint(&j, "setup_ms", m->t_precopy - m->t_start);
	json_member_uint(&j, "paused_ms", m->t_end - m->t_pause);
	if (dt->blackout_ok)
		json_member_uint(&j, "blackout_us", dt->blackout_ns / 1000);
	else
		json_member_string(&j, "blackout_why", dt->why_blackout);
	if (dt->gap_ok)
		json_member_uint(&j, "gap_us", dt->gap_ns / 1000);
	else
		json_member_string(&j, "gap_why", dt->why_gap);
	json_member_bool(&j, "one_clock", dt->one_clock);
	json_member_uint(&j, "clock_uncertainty_us", dt->uncertainty_ns / 1000);
	json_member_uint(&j, "rounds", f->rounds);
	json_member_uint(&j, "bytes", f->total_bytes);
	json_member_uint(&j, "pages", f->total_sent_pages);
	json_member_string(&j, "compress", compress_name(m->o->compress));
	json_member_uint(&j, "lz4_pages", f->total_lz4_pages);
	json_member_uint(&j, "zero_pages", f->total_zero_pages);
	json_member_uint(&j, "bytes_per_sec",
			 total ? f->total_bytes * 1000 / total : 0);
	json_member_uint(&j, "cpu_shm_ko_us", f->cpu_ns / 1000);
	json_member_uint(&j, "cpu_shmctl_us", own_cpu_us());
	json_object_end(&j);
	putchar('\n');
}

static void report(struct migration *m)
{
	const struct downtime_figures *dt = &m->dt;
	struct engine_figures f = m->last;
	uint64_t total = m->t_end - m->t_start;
	char note[64];

	engine_figures(&m->e, &f);
	if (m->o->json)
		return report_json(m, &f, total);
	printf("%smigrated %s to %s in %.2f s\n", m->tty ? "\n" : "",
	       m->o->vm, m->o->to, total / 1e3);
	if (dt->blackout_ok)
		printf("  blackout     %.1f ms (vCPUs: last ran here, first ran there; %s)\n",
		       dt->blackout_ns / 1e6, clock_note(dt, note, sizeof(note)));
	else
		printf("  blackout     not measured: %s\n", dt->why_blackout);
	if (dt->gap_ok)
		printf("  client gap   %.1f ms (packets from %s; %s)\n",
		       dt->gap_ns / 1e6, m->o->watch,
		       clock_note(dt, note, sizeof(note)));
	else
		printf("  client gap   not measured: %s\n", dt->why_gap);
	printf("  setup        %llu ms (until pre-copy: checks, streams)\n",
	       (unsigned long long)(m->t_precopy - m->t_start));
	printf("  paused       %llu ms (here, until the destination said it runs)\n",
	       (unsigned long long)(m->t_end - m->t_pause));
	printf("  rounds       %llu\n", (unsigned long long)f.rounds);
	printf("  sent         %.1f MiB", f.total_bytes / 1048576.0);
	if (f.total_lz4_pages)
		printf(" for %.1f MiB of pages, %llu of them LZ4 (--compress=%s)",
		       f.total_sent_pages * (double)SHM_WIRE_PAGE_SIZE / 1048576.0,
		       (unsigned long long)f.total_lz4_pages,
		       compress_name(m->o->compress));
	putchar('\n');
	printf("  zero pages   %llu, sent as flags\n",
	       (unsigned long long)f.total_zero_pages);
	printf("  throughput   %.1f MB/s on average\n",
	       total ? f.total_bytes / 1e3 / total : 0.0);
	printf("  CPU here     %.2f s in shm.ko, %.2f s in shmctl (not the VMM's)\n",
	       f.cpu_ns / 1e9, own_cpu_us() / 1e6);
}

static int migrate(struct migration *m)
{
	char why[256];
	struct auth_key key;
	uint32_t id = 0;
	unsigned int i;
	char name[SHM_NAME_MAX];
	const char *base = strrchr(m->o->vm, '/');
	int vm_fd, err;

	/* What shmctl status shows: "web.sock to 10.0.0.2". */
	snprintf(name, sizeof(name), "%s to %s", base ? base + 1 : m->o->vm,
		 m->o->to);
	err = auth_load_key(m->o->key, &key, why, sizeof(why));
	if (err)
		return fail(m, err, "%s", why);
	err = m->vm.driver->attach(&m->vm, m->o->vm);
	if (err)
		return fail(m, err, "%s", m->vm.err);
	m->attached = true;
	if (m->o->verify && !m->vm.driver->ram_fd)
		return fail(m, -EOPNOTSUPP, "the %s driver cannot read guest RAM for --verify",
			    m->vm.driver->name);
	measure_start(&m->ms, m->vm.pid, m->o->watch);
	err = engine_open(&m->e, &(struct engine_params){
				.role = SHM_ROLE_SOURCE, .name = name,
				.streams = m->o->streams,
				.max_downtime_ms = m->o->max_downtime_ms,
				.bandwidth = m->o->bandwidth,
				.compress = m->o->compress,
			  });
	if (err)
		return fail(m, err, "%s", engine_why(&m->e, err));
	m->ctl = connect_peer(m, &key);
	if (m->ctl < 0)
		return m->ctl;
	err = propose(m, &id);
	if (err || m->o->dry_run)
		return err;
	err = open_streams(m, &key, id);
	if (err)
		return err;
	vm_fd = m->vm.driver->vm_fd(&m->vm);
	if (vm_fd < 0)
		return fail(m, vm_fd, "%s", m->vm.err);
	err = engine_attach(&m->e, vm_fd, m->fds, m->o->streams);
	close(vm_fd);
	for (i = 0; i < m->o->streams; i++) {
		close(m->fds[i]);
		m->fds[i] = -1;
	}
	if (err)
		return fail(m, err, "%s", engine_why(&m->e, err));
	err = m->vm.driver->track_writes(&m->vm, m->e.id);
	if (err)
		return fail(m, err, "%s", m->vm.err);
	err = engine_start(&m->e, m->vm.driver->scans_writes);
	if (err)
		return fail(m, err, "%s", engine_why(&m->e, err));
	m->started = true;
	m->t_precopy = monotonic_ms();
	return precopy(m) ?: cutover(m);
}

static int migrate_option(struct migrate_opts *o, int c, const char *arg)
{
	switch (c) {
	case 't':
		o->to = arg;
		break;
	case 'k':
		o->key = arg;
		break;
	case 'd':
		if (parse_u32(arg, 1, SHM_MAX_DOWNTIME_MS_LIMIT,
			      &o->max_downtime_ms))
			return usage_error(MIGRATE_USAGE, "--max-downtime takes milliseconds, 1 to %d, not '%s'",
					   SHM_MAX_DOWNTIME_MS_LIMIT, arg);
		break;
	case 's':
		if (parse_u32(arg, 1, SHM_MAX_STREAMS, &o->streams))
			return usage_error(MIGRATE_USAGE, "--streams is 1 to %d, not '%s'",
					   SHM_MAX_STREAMS, arg);
		break;
	case 'b':
		if (parse_bytes(arg, &o->bandwidth))
			return usage_error(MIGRATE_USAGE, "--bandwidth takes bytes per second, e.g. 100M, not '%s'",
					   arg);
		break;
	case 'm':
		if (parse_u32(arg, 1, 10, &o->max_migrations))
			return usage_error(MIGRATE_USAGE, "--max-migrations is 1 to 10, not '%s'",
					   arg);
		break;
	case 'w':
		if (strlen(arg) >= 64 || strchr(arg, ' '))
			return usage_error(MIGRATE_USAGE, "--watch-ip takes ADDR[@DEV], not '%s'",
					   arg);
		o->watch = arg;
		break;
	case 'S':
		if (parse_u32(arg, 0, 3600, &o->stall_wait_s))
			return usage_error(MIGRATE_USAGE, "--stall-wait takes seconds, 0 to 3600, not '%s'",
					   arg);
		break;
	case 'z':
		if (compress_parse(arg, &o->compress))
			return usage_error(MIGRATE_USAGE, COMPRESS_USAGE_ERROR,
					   arg);
		break;
	case 'f':
		o->force = true;
		break;
	case 'K':
		o->keep_source = true;
		break;
	case 'v':
		o->verify = true;
		break;
	case 'n':
		o->dry_run = true;
		break;
	case 'j':
		o->json = true;
		break;
	case 'h':
		return usage_help(MIGRATE_USAGE);
	default:
		return SHMCTL_EXIT_USAGE;
	}
	return SHMCTL_PROCEED;
}

int migrate_main(int argc, char *argv[], const struct shmctl_opts *opts)
{
	static const struct option options[] = {
		{ "to", required_argument, NULL, 't' },
		{ "key", required_argument, NULL, 'k' },
		{ "max-downtime", required_argument, NULL, 'd' },
		{ "streams", required_argument, NULL, 's' },
		{ "bandwidth", required_argument, NULL, 'b' },
		{ "compress", optional_argument, NULL, 'z' },
		{ "max-migrations", required_argument, NULL, 'm' },
		{ "watch-ip", required_argument, NULL, 'w' },
		{ "stall-wait", required_argument, NULL, 'S' },
		{ "force-cutover", no_argument, NULL, 'f' },
		{ "keep-source", no_argument, NULL, 'K' },
		{ "verify", no_argument, NULL, 'v' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct migrate_opts o = {
		.key = SHMCTL_DEFAULT_KEY,
		.max_downtime_ms = SHM_DEFAULT_MAX_DOWNTIME_MS,
		.streams = SHM_DEFAULT_STREAMS,
		.max_migrations = 2, .stall_wait_s = STALL_WAIT_S,
		.compress = SHM_COMPRESS_AUTO,
		.json = opts->json,
	};
	struct migration m = { .o = &o, .ctl = -1 };
	int c, ret, err;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		if (c == '?' || c == ':')
			return option_error(MIGRATE_USAGE, argv, c);
		ret = migrate_option(&o, c, optarg);
		if (ret != SHMCTL_PROCEED)
			return ret;
	}
	if (optind != argc - 1 || !o.to)
		return usage_error(MIGRATE_USAGE, "name one VM and --to HOST");
	o.vm = argv[optind];
	m.vm.driver = vmm_driver_find(o.vm, &o.vm);
	if (!m.vm.driver)
		return usage_error(MIGRATE_USAGE, "no VMM driver for '%s'", o.vm);
	memset(m.fds, -1, sizeof(m.fds));
	m.tty = isatty(STDOUT_FILENO);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	m.t_start = monotonic_ms();
	err = migrate(&m);
	if (!err && o.dry_run) {
		printf("preflight passed on both hosts: %s can move to %s\n",
		       o.vm, o.to);
	} else if (!err) {
		/* The guest runs there: let go here first, then measure. */
		if (!o.keep_source)
			m.vm.driver->release(&m.vm);
		m.attached = o.keep_source;
		measure_source_combine(&m.ms, m.ctl, &m.dt);
		report(&m);
	} else if (m.committed) {
		/* It may run there: resuming it here could run it twice. */
		fprintf(stderr, "%sshmctl: migration of %s: %s after the destination was told to run the VM; it may run there now: the VM stays paused here (check the destination before resuming it here)\n",
			m.tty ? "\n" : "", o.vm, m.why);
	} else {
		/* Nothing ran on the destination: the VM goes on here. */
		if (m.paused && m.vm.driver->resume(&m.vm))
			fprintf(stderr, "shmctl: could not resume the VM here: %s\n",
				m.vm.err);
		fprintf(stderr, "%sshmctl: migration of %s failed: %s; %s\n",
			m.tty ? "\n" : "", o.vm, m.why[0] ? m.why :
			strerror(-err), m.paused ? "the VM was resumed here" :
			"the VM runs on here, untouched");
	}
	if (m.attached)
		m.vm.driver->detach(&m.vm);
	measure_stop(&m.ms);
	engine_close(&m.e);
	if (m.ctl >= 0)
		close(m.ctl);
	if (!err)
		return SHMCTL_EXIT_OK;
	/* Pages sent before READY were dropped there with the refusal. */
	if (!m.started || (err == -EREMOTEIO && !m.ready))
		return SHMCTL_EXIT_REFUSED;
	return SHMCTL_EXIT_FAILURE;
}
