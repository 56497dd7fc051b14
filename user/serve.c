// SPDX-License-Identifier: GPL-2.0
/*
 * shmctl serve: the destination host's daemon. It accepts migrations from
 * hosts that hold the same key (auth.h), checks that this host can take
 * the VM (preflight), starts an empty VM like it through the VMM driver
 * and checks the CPU it gives the guest, receives its memory through
 * shm.ko, restores its vCPUs and resumes it. A dry run ends after the
 * CPU check, the VM removed.
 * The conversation is link.h's.
 *
 * A thread per connection. Data streams find their migration by id in
 * serve.incoming; everything about one migration stays in its thread, and
 * anything that fails before the guest runs here removes the VM and the
 * session (an owned one: it goes with the thread's netlink socket).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <shm/netlink.h>

#include "auth.h"
#include "clock.h"
#include "cpuid.h"
#include "digest.h"
#include "engine.h"
#include "host.h"
#include "link.h"
#include "measure.h"
#include "names.h"
#include "parse.h"
#include "shmctl.h"
#include "vmm.h"

#define SERVE_USAGE							\
	"serve [--listen [ADDR][:PORT]] [--key FILE] [--max-migrations N]\n" \
	"      [--reserve BYTES] [--rundir DIR]"
#define AUTH_TIMEOUT_MS		5000
#define STREAMS_TIMEOUT_S	15
#define DEFAULT_MAX_MIGRATIONS	2
#define LIMIT_MAX_MIGRATIONS	10

/* A migration waiting for its data streams. */
struct incoming {
	uint32_t id;
	unsigned int streams, arrived;
	int fds[SHM_MAX_STREAMS];
	struct incoming *next;
};

static struct {
	struct auth_key key;
	unsigned int max_migrations;
	uint64_t reserve;
	const char *rundir;

	/* Protects everything below. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct incoming *incoming;
	unsigned int active;
	uint32_t last_id;
} serve = {
	.max_migrations = DEFAULT_MAX_MIGRATIONS,
	.reserve = 256 << 20,
	.rundir = "/run/shm",
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

static void say(uint32_t id, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(uint32_t id, const char *fmt, ...)
{
	va_list ap;

	flockfile(stdout);
	if (id)
		printf("migration %u: ", id);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	funlockfile(stdout);
}

/*
 * The CPU the VM needs here: the source guest's feature words, if its
 * driver could tell (cpu=); and the flags of the source host's CPU that
 * this host's lacks, which refuse the VM only without those words.
 */
struct cpu_need {
	bool words_given;
	struct cpuid_words words;
	char host_lacks[384];
};

/*
 * Whether this host can take the VM @line describes, before it starts
 * it; if not, the sentence the source will print, in @why.
 */
static int preflight(const char *line, struct engine *e,
		     struct cpu_need *cpu_need, char *why, size_t len)
{
	char vendor[64], flags[sizeof(((struct host_cpu *)0)->flags)];
	char words[CPUID_TEXT_MAX];
	struct host_cpu cpu;
	uint64_t ram, avail, proto;
	uint32_t ours;
	int err;

	if (link_get_u64(line, "proto", UINT32_MAX, &proto) ||
	    link_get_u64(line, "ram", UINT64_MAX >> 1, &ram) ||
	    link_get(line, "vendor", vendor, sizeof(vendor)) ||
	    link_get(line, "flags", flags, sizeof(flags)))
		return snprintf(why, len, "malformed request"), -EPROTO;
	err = link_get(line, "cpu", words, sizeof(words));
	cpu_need->words_given = err != -ENOENT;
	if (cpu_need->words_given &&
	    (err || cpuid_parse(words, &cpu_need->words)))
		return snprintf(why, len, "malformed request: the guest's CPU"), -EPROTO;
	if (engine_protocol(e, &ours))
		return snprintf(why, len, "shm.ko is not loaded on the destination: modprobe shm there"), -ENOENT;
	if (proto != ours)
		return snprintf(why, len, "the destination's shm.ko speaks protocol %u, the source's %llu: run the same shm version on both",
				ours, (unsigned long long)proto), -EPROTO;
	/* Pages that arrive before the VM has started wait in shm.ko. */
	if (host_mem_available(&avail) ||
	    avail < ram + SHM_EARLY_BYTES + serve.reserve)
		return snprintf(why, len, "the destination has %llu MiB of memory available; the VM needs %llu MiB, its first pages up to %u MiB more while it starts, and %llu MiB stay free: free memory there or choose another host",
				(unsigned long long)(avail >> 20),
				(unsigned long long)(ram >> 20),
				SHM_EARLY_BYTES >> 20,
				(unsigned long long)(serve.reserve >> 20)), -ENOMEM;
	if (host_cpu(&cpu))
		return snprintf(why, len, "the destination cannot read its own CPU description"), -EIO;
	if (strcmp(cpu.vendor, vendor))
		return snprintf(why, len, "the source's CPU is %s, the destination's %s: shm does not migrate between CPU vendors",
				vendor, cpu.vendor), -EOPNOTSUPP;
	host_missing_flags(flags, cpu.flags, cpu_need->host_lacks,
			   sizeof(cpu_need->host_lacks));
	if (cpu_need->host_lacks[0] && !cpu_need->words_given)
		return snprintf(why, len, "the destination's CPU lacks features the VM uses: %s",
				cpu_need->host_lacks), -EOPNOTSUPP;
	return 0;
}

/*
 * The VM started here gives the guest every CPU feature it had at the
 * source: a feature that went away under a running guest could crash it.
 * More is fine: the guest never looked for it.
 */
static int check_guest_cpu(struct vmm *vm, const struct cpu_need *need,
			   char *why, size_t len)
{
	struct cpuid_words here;
	char missing[192];
	int err;

	if (!need->words_given)
		return 0;
	err = vm->driver->guest_cpu ? vm->driver->guest_cpu(vm, &here) :
	      -EOPNOTSUPP;
	if (err)
		return snprintf(why, len, "cannot read the CPU of the VM started on the destination: %s",
				err == -EOPNOTSUPP ? "its driver cannot tell" : vm->err), err;
	cpuid_missing(&need->words, &here, missing, sizeof(missing));
	if (!missing[0])
		return 0;
	return snprintf(why, len, "on the destination the guest's CPU would lack features it uses: %s%s%.160s%s: give the VM a CPU model both hosts have, or choose another host",
			missing, need->host_lacks[0] ? " (the destination's CPU lacks " : "",
			need->host_lacks, need->host_lacks[0] ? ")" : ""), -EOPNOTSUPP;
}

static struct incoming *incoming_add(unsigned int streams)
{
	struct incoming *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->streams = streams;
	pthread_mutex_lock(&serve.lock);
	in->id = ++serve.last_id;
	in->next = serve.incoming;
	serve.incoming = in;
	pthread_mutex_unlock(&serve.lock);
	return in;
}

/* Waits for every stream; false if they did not all come in time. */
static bool incoming_wait(struct incoming *in)
{
	struct timespec until;
	bool all;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += STREAMS_TIMEOUT_S;
	pthread_mutex_lock(&serve.lock);
	while (in->arrived < in->streams &&
	       !pthread_cond_timedwait(&serve.cond, &serve.lock, &until))
		;
	all = in->arrived == in->streams;
	pthread_mutex_unlock(&serve.lock);
	return all;
}

static void incoming_remove(struct incoming *in)
{
	struct incoming **p;
	unsigned int i;

	pthread_mutex_lock(&serve.lock);
	for (p = &serve.incoming; *p; p = &(*p)->next)
		if (*p == in) {
			*p = in->next;
			break;
		}
	pthread_mutex_unlock(&serve.lock);
	for (i = 0; i < in->arrived; i++)
		close(in->fds[i]);
	free(in);
}

/* A data stream: "STREAM id=ID index=I". Keeps @fd if it is taken. */
static bool take_stream(int fd, const char *line)
{
	uint64_t id, index;
	struct incoming *in;
	bool taken = false;

	if (link_get_u64(line, "id", UINT32_MAX, &id) ||
	    link_get_u64(line, "index", SHM_MAX_STREAMS - 1, &index))
		return false;
	pthread_mutex_lock(&serve.lock);
	for (in = serve.incoming; in; in = in->next)
		if (in->id == id && index == in->arrived &&
		    in->arrived < in->streams)
			break;
	/* In order: stream i of the source must be stream i here. */
	if (in && !link_send(fd, "OK")) {
		in->fds[in->arrived++] = fd;
		pthread_cond_broadcast(&serve.cond);
		taken = true;
	}
	pthread_mutex_unlock(&serve.lock);
	return taken;
}

/*
 * The last round acknowledged, the session here ends DONE. shm.ko says
 * when: the session's events are watched from its start (engine_watch).
 */
static int wait_done(struct engine *e, char *why, size_t len)
{
	struct pollfd news = { .fd = engine_watch(e), .events = POLLIN };
	uint64_t start = monotonic_ms(), waited;
	struct engine_figures f;

	while ((waited = monotonic_ms() - start) < LINK_TIMEOUT_MS) {
		/* What is read after, is newer than any news dropped here. */
		engine_watched(e);
		if (engine_figures(e, &f))
			break;
		if (f.state == SHM_STATE_DONE)
			return 0;
		if (f.state == SHM_STATE_FAILED || f.state == SHM_STATE_CANCELLED)
			return snprintf(why, len, "the destination session ended: %s",
					f.reason), -EIO;
		poll(&news, 1, LINK_TIMEOUT_MS - waited);
	}
	return snprintf(why, len, "the destination never saw the final round end"), -ETIMEDOUT;
}

/*
 * Where the pages go that the VM did not map while they came: where its
 * VMM keeps them. Found, and the VM's fd taken, before the pause (neither
 * changes), so that the pause waits only for the pages to be put there.
 */
struct placement {
	struct vmm_place places[SHM_MAX_PLACES];
	unsigned int nr;
	int vm_fd;			/* -1 until found */
};

static int find_places(struct vmm *vm, struct placement *p, char *why,
		       size_t len)
{
	int err = 0;

	p->nr = 0;
	if (vm->driver->places)
		err = vm->driver->places(vm, p->places, SHM_MAX_PLACES, &p->nr);
	p->vm_fd = err ? err : vm->driver->vm_fd(vm);
	if (p->vm_fd < 0)
		return snprintf(why, len, "the memory received has no place in the VM: %s",
				vm->err), p->vm_fd;
	return 0;
}

/*
 * The final round in, and the pages held put in place, before the VMM
 * loads the device state that reads them.
 */
static int memory_in_place(struct engine *e, const struct placement *p,
			   char *why, size_t len)
{
	int err = wait_done(e, why, len);

	if (err)
		return err;
	err = engine_place(e, p->vm_fd, p->places, p->nr);
	if (err)
		snprintf(why, len, "the memory received has no place in the VM: %s",
			 engine_why(e, err));
	return err;
}

/* Pre-copy goes on until the source's word: unless the engine broke. */
static int wait_cutover(int fd, struct engine *e, char *line, size_t len,
			char *why, size_t why_len)
{
	struct engine_figures f;
	int err;

	/* The source waits for our word on why (migrate.c). */
	while ((err = link_recv(fd, line, len, 200)) == -ETIMEDOUT) {
		if (!engine_figures(e, &f) && (f.state == SHM_STATE_FAILED ||
					       f.state == SHM_STATE_CANCELLED))
			return snprintf(why, why_len, "the destination session ended: %s",
					f.reason), -EIO;
	}
	if (err)
		snprintf(why, why_len, "the source went away (%s)", strerror(-err));
	return err;
}

/*
 * The VM's state, piece by piece into its VMM (link.h), until SAVED. The
 * pieces from while the guest still ran load at once, during pre-copy
 * here; the first paused one waits for the memory to be in place.
 */
static int receive_state(int fd, struct engine *e, struct vmm *vm,
			 const struct placement *placed,
			 char digest[DIGEST_HEX], char *why, size_t why_len)
{
	char line[LINK_LINE_MAX], *piece = malloc(LINK_STATE_PIECE_MAX);
	uint64_t n, total = 0;
	bool in_place = false;
	int err = piece ? 0 : -ENOMEM;

	while (!err && !(err = wait_cutover(fd, e, line, sizeof(line), why,
					    why_len))) {
		if (link_is(line, "SAVED") && total) {
			/* Asked for with migrate --verify. */
			if (link_get(line, "digest", digest, DIGEST_HEX))
				*digest = '\0';
			err = in_place ? 0 : memory_in_place(e, placed, why, why_len);
			break;
		}
		if (!link_is(line, "STATE") ||
		    link_get_u64(line, "len", LINK_STATE_PIECE_MAX, &n) || !n ||
		    total + n > LINK_STATE_MAX) {
			snprintf(why, why_len, "expected the VM's state, got '%.40s'",
				 line);
			err = -EPROTO;
			break;
		}
		total += n;
		err = link_recv_bytes(fd, piece, n, LINK_TIMEOUT_MS);
		if (err) {
			snprintf(why, why_len, "the VM's state did not arrive whole");
			break;
		}
		if (!in_place && strstr(line, " paused=1")) {
			err = memory_in_place(e, placed, why, why_len);
			in_place = !err;
		}
		err = err ?: vm->driver->put_state(vm, piece, n);
		if (err && !why[0])
			snprintf(why, why_len, "the VM did not take its state: %s",
				 vm->err);
	}
	free(piece);
	return err;
}

/* migrate --verify: this VM's RAM must be the source's at its pause. */
static int verify(struct vmm *vm, const char *theirs, char *why, size_t len)
{
	char ours[DIGEST_HEX];
	int err;

	if (!*theirs)
		return 0;
	err = vmm_ram_digest(vm, ours);
	if (err)
		return snprintf(why, len, "cannot verify guest memory: %s", vm->err), err;
	if (strcmp(ours, theirs))
		return snprintf(why, len, "guest memory differs from the source's at the pause (digest %s here, %s there)",
				ours, theirs), -EIO;
	return 0;
}

/*
 * The migration's data streams, once all came, to a session of shm.ko's
 * that takes pages before there is a VM to write them to.
 */
static int take_streams(struct engine *e, struct incoming *in, char *why,
			size_t len)
{
	int err;

	if (!incoming_wait(in))
		return snprintf(why, len, "only %u of %u data streams arrived",
				in->arrived, in->streams), -ETIMEDOUT;
	err = engine_attach(e, -1, in->fds, in->arrived) ?:
	      engine_start(e, false);
	if (!err && engine_watch(e) < 0)
		err = -EIO;
	if (err)
		snprintf(why, len, "the destination session did not start: %s",
			 engine_why(e, err));
	return err;
}

/* Why the VM cannot be had here, as its driver said; returns @err. */
static int cannot_start(const struct vmm *vm, int err, char *why, size_t len)
{
	snprintf(why, len, "the destination cannot start the VM: %s", vm->err);
	return err;
}

/* The VM from @desc, started and checked; nothing left if it fails. */
static int start_vm(struct vmm *vm, const char *desc,
		    const struct cpu_need *cpu_need, char *why, size_t len)
{
	int err;

	err = vm->driver->create_incoming(vm, desc, serve.rundir);
	if (err)
		return cannot_start(vm, err, why, len);
	err = check_guest_cpu(vm, cpu_need, why, len);
	if (err)
		vm->driver->destroy(vm);
	return err;
}

/* One migration, from MIGRATE to RUNNING; on any failure, nothing stays. */
static void receive_migration(int fd, const char *line, const char *peer)
{
	char why[512] = "", desc[VMM_DESC_MAX], driver[32], name[SHM_NAME_MAX];
	char watch[64], go[64], digest[DIGEST_HEX], compress_word[16];
	struct cpu_need cpu_need;
	struct measure ms = {};
	struct vmm vm = {};
	struct engine e = {};
	struct incoming *in = NULL;
	uint64_t streams;
	uint32_t compress;
	bool counted = false, created = false, dry;
	struct placement placed = { .vm_fd = -1 };
	int err = -EINVAL;

	dry = strstr(line, " dry=1") != NULL;
	if (link_check_version(line, "source", why, sizeof(why)))
		goto fail;
	if (link_get(line, "driver", driver, sizeof(driver)) ||
	    link_get(line, "desc", desc, sizeof(desc)) ||
	    link_get_u64(line, "streams", SHM_MAX_STREAMS, &streams) || !streams ||
	    link_get(line, "compress", compress_word, sizeof(compress_word)) ||
	    compress_parse(compress_word, &compress)) {
		snprintf(why, sizeof(why), "malformed request");
		goto fail;
	}
	vm.driver = vmm_driver_by_name(driver);
	if (!vm.driver) {
		snprintf(why, sizeof(why), "the destination has no VMM driver '%s'",
			 driver);
		goto fail;
	}
	pthread_mutex_lock(&serve.lock);
	counted = serve.active < serve.max_migrations;
	serve.active += counted;
	pthread_mutex_unlock(&serve.lock);
	if (!counted) {
		snprintf(why, sizeof(why), "the destination already receives %u migrations, its limit (shmctl serve --max-migrations): try again later",
			 serve.max_migrations);
		goto fail;
	}
	snprintf(name, sizeof(name), "from %.58s", peer);
	err = engine_open(&e, &(struct engine_params){
				.role = SHM_ROLE_DESTINATION, .name = name,
				.streams = streams, .max_downtime_ms = 1,
				.compress = compress,
			  });
	if (err == -ENOENT) {
		snprintf(why, sizeof(why), "shm.ko is not loaded on the destination: modprobe shm there");
		goto fail;
	}
	if (err == -EOPNOTSUPP) {
		snprintf(why, sizeof(why), "the source compresses pages (--compress=%s) and the destination's kernel has no LZ4 to take them (crypto module lz4): load it there, or migrate with --compress=never",
			 compress_word);
		goto fail;
	}
	err = err ?: preflight(line, &e, &cpu_need, why, sizeof(why));
	if (!err && vm.driver->check_incoming(&vm, desc))
		err = cannot_start(&vm, -EINVAL, why, sizeof(why));
	if (err)
		goto fail;
	if (dry) {
		err = start_vm(&vm, desc, &cpu_need, why, sizeof(why));
		if (err)
			goto fail;
		vm.driver->destroy(&vm);
		link_send(fd, "OK link=%u dry=1", LINK_VERSION);
		say(0, "preflight for %s passed (dry run)", peer);
		goto out;
	}
	/*
	 * The source's pages come while the VM starts here, its start most
	 * of the set-up: shm.ko holds them until the VM is there. A refusal
	 * from here on still comes before READY, and the source takes it as
	 * one.
	 */
	in = incoming_add(streams);
	if (!in || link_send(fd, "OK link=%u id=%u", LINK_VERSION, in->id)) {
		err = -ENOMEM;
		goto fail;
	}
	say(in->id, "from %s, %llu streams", peer, (unsigned long long)streams);
	err = take_streams(&e, in, why, sizeof(why)) ?:
	      start_vm(&vm, desc, &cpu_need, why, sizeof(why));
	if (err)
		goto fail;
	created = true;
	measure_start(&ms, vm.pid,
		      link_get(line, "watch", watch, sizeof(watch)) ? NULL : watch);
	err = find_places(&vm, &placed, why, sizeof(why));
	if (err)
		goto fail;
	err = engine_attach_vm(&e, placed.vm_fd);
	if (err) {
		snprintf(why, sizeof(why), "the destination session did not take its VM: %s",
			 engine_why(&e, err));
		goto fail;
	}
	err = link_send(fd, "READY");
	if (!err && vm.driver->expect_state) {
		err = vm.driver->expect_state(&vm);
		if (err) {
			snprintf(why, sizeof(why), "the destination's VM cannot take its state: %s",
				 vm.err);
			goto fail;
		}
	}
	err = err ?: receive_state(fd, &e, &vm, &placed, digest, why,
				   sizeof(why));
	if (err)
		goto fail;
	err = vm.driver->restore_state(&vm) ?:
	      verify(&vm, digest, why, sizeof(why));
	if (err && !why[0]) {
		snprintf(why, sizeof(why), "the VM did not run on the destination: %s",
			 vm.err);
		goto fail;
	}
	/* Run only with the source's word that it never will again. */
	err = link_send(fd, "RESTORED") ?:
	      link_recv(fd, go, sizeof(go), LINK_TIMEOUT_MS);
	if (err || !link_is(go, "GO")) {
		snprintf(why, sizeof(why), "the source did not say go (%s)",
			 err ? strerror(-err) : go);
		err = err ?: -EPROTO;
		goto fail;
	}
	measure_dest_resuming(&ms);
	err = vm.driver->resume(&vm) ?: vm.driver->running(&vm);
	if (err) {
		snprintf(why, sizeof(why), "the VM did not run on the destination: %s",
			 vm.err);
		goto fail;
	}
	/* The milestone for tracing; the guest runs, whatever it says. */
	engine_command(&e, SHM_CMD_SESSION_RESUMED);
	link_send(fd, "RUNNING");
	say(in->id, "the VM runs here now");
	vm.driver->detach(&vm);
	measure_dest_answer(&ms, fd);
	goto out;
fail:
	if (in)
		say(in->id, "failed: %s", why[0] ? why : strerror(-err));
	else
		say(0, "refused %s: %s", peer, why[0] ? why : strerror(-err));
	/* Gone before we say so: the source may resume its VM on ERR. */
	if (created)
		vm.driver->destroy(&vm);
	link_send(fd, "ERR %s", why[0] ? why : strerror(-err));
out:
	measure_stop(&ms);
	if (placed.vm_fd >= 0)
		close(placed.vm_fd);
	engine_close(&e);
	if (in)
		incoming_remove(in);
	if (counted) {
		pthread_mutex_lock(&serve.lock);
		serve.active--;
		pthread_mutex_unlock(&serve.lock);
	}
}

struct connection {
	int fd;
	char peer[64];
};

static void *connection_thread(void *arg)
{
	struct connection *c = arg;
	char line[LINK_LINE_MAX];
	int err;

	err = auth_handshake(c->fd, &serve.key, false, AUTH_TIMEOUT_MS);
	if (err) {
		say(0, "refused %s: %s", c->peer, err == -EACCES ?
		    "it does not hold the key" : strerror(-err));
	} else if (!link_recv(c->fd, line, sizeof(line), AUTH_TIMEOUT_MS)) {
		if (link_is(line, "MIGRATE"))
			receive_migration(c->fd, line, c->peer);
		else if (link_is(line, "STREAM") && take_stream(c->fd, line))
			c->fd = -1;
		else
			link_send(c->fd, "ERR unexpected '%.20s'", line);
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	return NULL;
}

static int serve_option(int c, const char *arg, char *listen_spec,
			size_t listen_len, const char **key_path)
{
	switch (c) {
	case 'l':
		snprintf(listen_spec, listen_len, "%s", arg);
		return SHMCTL_PROCEED;
	case 'k':
		*key_path = arg;
		return SHMCTL_PROCEED;
	case 'm':
		if (parse_u32(arg, 1, LIMIT_MAX_MIGRATIONS, &serve.max_migrations))
			return usage_error(SERVE_USAGE, "--max-migrations is 1 to %d, not '%s'",
					   LIMIT_MAX_MIGRATIONS, arg);
		return SHMCTL_PROCEED;
	case 'r':
		if (parse_bytes(arg, &serve.reserve))
			return usage_error(SERVE_USAGE, "--reserve takes bytes, e.g. 512Mi, not '%s'",
					   arg);
		return SHMCTL_PROCEED;
	case 'd':
		serve.rundir = arg;
		return SHMCTL_PROCEED;
	case 'h':
		return usage_help(SERVE_USAGE);
	}
	return SHMCTL_EXIT_USAGE;
}

int serve_main(int argc, char *argv[], const struct shmctl_opts *opts)
{
	static const struct option options[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "key", required_argument, NULL, 'k' },
		{ "max-migrations", required_argument, NULL, 'm' },
		{ "reserve", required_argument, NULL, 'r' },
		{ "rundir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	char listen_spec[128] = ":" "7410", host[128] = "", why[256];
	const char *key_path = SHMCTL_DEFAULT_KEY;
	struct connection *c;
	uint16_t port;
	pthread_t thread;
	int lfd, fd, c_opt, ret;

	opterr = 0;
	optind = 0;
	while ((c_opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		if (c_opt == '?' || c_opt == ':')
			return option_error(SERVE_USAGE, argv, c_opt);
		ret = serve_option(c_opt, optarg, listen_spec,
				   sizeof(listen_spec), &key_path);
		if (ret != SHMCTL_PROCEED)
			return ret;
	}
	if (optind != argc)
		return usage_error(SERVE_USAGE, "unexpected argument '%s'",
				   argv[optind]);
	if (listen_spec[0] == ':') {
		memmove(listen_spec + 1, listen_spec, strlen(listen_spec) + 1);
		listen_spec[0] = '*';
	}
	if (link_parse_address(listen_spec, host, sizeof(host), &port))
		return usage_error(SERVE_USAGE, "--listen takes [ADDR][:PORT], not '%s'",
				   listen_spec);
	if (auth_load_key(key_path, &serve.key, why, sizeof(why))) {
		fprintf(stderr, "shmctl: %s\n", why);
		return SHMCTL_EXIT_FAILURE;
	}
	lfd = link_listen(strcmp(host, "*") ? host : NULL, port, why,
			  sizeof(why));
	if (lfd < 0) {
		fprintf(stderr, "shmctl: %s\n", why);
		return SHMCTL_EXIT_FAILURE;
	}
	signal(SIGPIPE, SIG_IGN);
	say(0, "serving migrations on %s port %u (at most %u at once)", host,
	    port, serve.max_migrations);
	for (;;) {
		fd = link_accept(lfd);
		if (fd < 0)
			continue;
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		link_peer_name(fd, c->peer, sizeof(c->peer));
		if (pthread_create(&thread, NULL, connection_thread, c)) {
			close(fd);
			free(c);
			continue;
		}
		pthread_detach(thread);
	}
}
