// SPDX-License-Identifier: GPL-2.0
/*
 * shm.ko's engine, one owned session at a time (engine.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <netlink/attr.h>
#include <shm/netlink.h>
#include <shm/wire.h>

#include "engine.h"
#include "names.h"
#include "shmctl.h"

static int id_reply(struct nl_msg *reply, void *arg)
{
	struct nlattr *tb[SHM_SESSION_A_MAX + 1];
	struct engine *e = arg;

	if (genlmsg_parse(nlmsg_hdr(reply), 0, tb, SHM_SESSION_A_MAX, NULL) ||
	    !tb[SHM_SESSION_A_ID])
		return -EBADMSG;
	e->id = nla_get_u32(tb[SHM_SESSION_A_ID]);
	return 0;
}

int engine_open(struct engine *e, const struct engine_params *p)
{
	struct nl_msg *msg;

	memset(e, 0, sizeof(*e));
	switch (shm_nl_open(&e->nl)) {
	case SHMCTL_EXIT_OK:
		break;
	case SHMCTL_EXIT_NO_MODULE:
		snprintf(e->nl.failure.msg, sizeof(e->nl.failure.msg),
			 "shm.ko is not loaded on this host (modprobe shm)");
		return -ENOENT;
	default:
		return -EIO;
	}
	msg = shm_nl_request_new(&e->nl, SHM_CMD_SESSION_NEW, 0);
	if (!msg)
		return -ENOMEM;
	nla_put_u32(msg, SHM_SESSION_A_ROLE, p->role);
	nla_put_string(msg, SHM_SESSION_A_NAME, p->name);
	nla_put_u32(msg, SHM_SESSION_A_STREAMS, p->streams);
	nla_put_u32(msg, SHM_SESSION_A_MAX_DOWNTIME_MS, p->max_downtime_ms);
	nla_put_u64(msg, SHM_SESSION_A_BANDWIDTH, p->bandwidth);
	nla_put_flag(msg, SHM_SESSION_A_OWNED);
	nla_put_u32(msg, SHM_SESSION_A_COMPRESS, p->compress);
	return shm_nl_request(&e->nl, msg, id_reply, e);
}

static struct nl_msg *engine_request(struct engine *e, uint8_t cmd)
{
	struct nl_msg *msg = shm_nl_request_new(&e->nl, cmd, 0);

	if (msg && e->id)
		nla_put_u32(msg, SHM_SESSION_A_ID, e->id);
	return msg;
}

int engine_attach(struct engine *e, int vm_fd, const int *fds,
		  unsigned int nr)
{
	struct nl_msg *msg = engine_request(e, SHM_CMD_SESSION_ATTACH);
	struct nlattr *list;
	unsigned int i;

	if (!msg)
		return -ENOMEM;
	if (vm_fd >= 0)
		nla_put_u32(msg, SHM_SESSION_A_VM_FD, vm_fd);
	list = nla_nest_start(msg, SHM_SESSION_A_STREAM_FDS);
	for (i = 0; i < nr; i++)
		nla_put_u32(msg, SHM_STREAM_A_FD, fds[i]);
	nla_nest_end(msg, list);
	return shm_nl_request(&e->nl, msg, NULL, NULL);
}

int engine_attach_vm(struct engine *e, int vm_fd)
{
	struct nl_msg *msg = engine_request(e, SHM_CMD_SESSION_ATTACH_VM);

	if (!msg)
		return -ENOMEM;
	nla_put_u32(msg, SHM_SESSION_A_VM_FD, vm_fd);
	return shm_nl_request(&e->nl, msg, NULL, NULL);
}

int engine_place(struct engine *e, int vm_fd, const struct vmm_place *places,
		 unsigned int nr)
{
	struct nl_msg *msg = engine_request(e, SHM_CMD_SESSION_PLACE);
	struct nlattr *list, *range;
	unsigned int i;

	if (!msg)
		return -ENOMEM;
	nla_put_u32(msg, SHM_SESSION_A_VM_FD, vm_fd);
	list = nla_nest_start(msg, SHM_SESSION_A_PLACES);
	for (i = 0; i < nr; i++) {
		range = nla_nest_start(msg, i + 1);
		nla_put_u32(msg, SHM_RANGE_A_AS_ID, places[i].as_id);
		nla_put_u64(msg, SHM_RANGE_A_GPA, places[i].gpa);
		nla_put_u64(msg, SHM_RANGE_A_HVA, places[i].hva);
		nla_put_u64(msg, SHM_RANGE_A_LEN, places[i].len);
		nla_nest_end(msg, range);
	}
	nla_nest_end(msg, list);
	return shm_nl_request(&e->nl, msg, NULL, NULL);
}

int engine_start(struct engine *e, bool tracker)
{
	struct nl_msg *msg = engine_request(e, SHM_CMD_SESSION_START);

	if (!msg)
		return -ENOMEM;
	if (tracker)
		nla_put_flag(msg, SHM_SESSION_A_TRACKER);
	return shm_nl_request(&e->nl, msg, NULL, NULL);
}

int engine_command(struct engine *e, uint8_t cmd)
{
	struct nl_msg *msg = engine_request(e, cmd);

	return msg ? shm_nl_request(&e->nl, msg, NULL, NULL) : -ENOMEM;
}

static uint64_t u64_of(struct nlattr **tb, int type)
{
	return tb[type] ? nla_get_u64(tb[type]) : 0;
}

static int figures_reply(struct nl_msg *reply, void *arg)
{
	struct nlattr *tb[SHM_SESSION_A_MAX + 1], *st[SHM_STATS_A_MAX + 1];
	struct nlattr *slot, *sl[SHM_MEMSLOT_A_MAX + 1];
	struct engine_figures *f = arg;
	int rem;

	if (genlmsg_parse(nlmsg_hdr(reply), 0, tb, SHM_SESSION_A_MAX, NULL) ||
	    !tb[SHM_SESSION_A_ID] || !tb[SHM_SESSION_A_ROLE] ||
	    !tb[SHM_SESSION_A_STATE])
		return -EBADMSG;
	memset(f, 0, sizeof(*f));
	f->id = nla_get_u32(tb[SHM_SESSION_A_ID]);
	f->role = nla_get_u32(tb[SHM_SESSION_A_ROLE]);
	f->state = nla_get_u32(tb[SHM_SESSION_A_STATE]);
	f->age_ms = u64_of(tb, SHM_SESSION_A_AGE_MS);
	if (tb[SHM_SESSION_A_NAME])
		snprintf(f->name, sizeof(f->name), "%s",
			 nla_get_string(tb[SHM_SESSION_A_NAME]));
	if (tb[SHM_SESSION_A_CONVERGENCE])
		f->convergence = nla_get_u32(tb[SHM_SESSION_A_CONVERGENCE]);
	f->estimate_ms = u64_of(tb, SHM_SESSION_A_ESTIMATE_MS);
	if (tb[SHM_SESSION_A_REASON])
		snprintf(f->reason, sizeof(f->reason), "%s",
			 nla_get_string(tb[SHM_SESSION_A_REASON]));
	if (tb[SHM_SESSION_A_STATS] &&
	    !nla_parse_nested(st, SHM_STATS_A_MAX, tb[SHM_SESSION_A_STATS],
			      NULL)) {
		f->rounds = u64_of(st, SHM_STATS_A_ROUNDS);
		f->dirty = u64_of(st, SHM_STATS_A_DIRTY_PAGES);
		f->bytes = u64_of(st, SHM_STATS_A_BYTES);
		f->duration_ns = u64_of(st, SHM_STATS_A_DURATION_NS);
		f->dirty_rate = u64_of(st, SHM_STATS_A_DIRTY_RATE);
		f->throughput = u64_of(st, SHM_STATS_A_THROUGHPUT);
		f->total_bytes = u64_of(st, SHM_STATS_A_TOTAL_BYTES);
		f->total_sent_pages = u64_of(st, SHM_STATS_A_TOTAL_SENT_PAGES);
		f->total_zero_pages = u64_of(st, SHM_STATS_A_TOTAL_ZERO_PAGES);
		f->total_lz4_pages = u64_of(st, SHM_STATS_A_TOTAL_LZ4_PAGES);
		f->round_pages = u64_of(st, SHM_STATS_A_ROUND_PAGES);
		f->round_done = u64_of(st, SHM_STATS_A_ROUND_DONE_PAGES);
		f->cpu_ns = u64_of(st, SHM_STATS_A_CPU_NS);
	}
	if (tb[SHM_SESSION_A_MEMSLOTS])
		nla_for_each_nested(slot, tb[SHM_SESSION_A_MEMSLOTS], rem)
			if (!nla_parse_nested(sl, SHM_MEMSLOT_A_MAX, slot, NULL))
				f->memory_bytes += u64_of(sl, SHM_MEMSLOT_A_SIZE);
	return 0;
}

int engine_figures(struct engine *e, struct engine_figures *f)
{
	struct nl_msg *msg = engine_request(e, SHM_CMD_SESSION_GET);

	return msg ? shm_nl_request(&e->nl, msg, figures_reply, f) : -ENOMEM;
}

/*
 * A source's round 1 sends every page: once done, all memory went once. A
 * destination does not know a round's size, so it counts against the
 * VM's memory what it has received, the rounds together.
 */
unsigned int engine_percent(const struct engine_figures *f)
{
	uint64_t pages = f->round_pages ?: f->memory_bytes / SHM_WIRE_PAGE_SIZE;

	if (f->role == SHM_ROLE_SOURCE && f->rounds)
		return 100;
	if (!pages)
		return 0;
	return f->round_done >= pages ? 100 : 100 * f->round_done / pages;
}

const char *engine_phase(const struct engine_figures *f)
{
	if (f->state != SHM_STATE_PRECOPY || f->role != SHM_ROLE_SOURCE)
		return state_name(f->state);
	switch (f->convergence) {
	case SHM_CONVERGENCE_CONVERGING:
		return "converging";
	case SHM_CONVERGENCE_READY:
		return "ready";
	case SHM_CONVERGENCE_STALLED:
		return "stalled";
	}
	return "precopy";
}

bool engine_state_active(uint32_t state)
{
	return state != SHM_STATE_DONE && state != SHM_STATE_FAILED &&
	       state != SHM_STATE_CANCELLED;
}

struct for_each {
	void (*fn)(const struct engine_figures *f, void *arg);
	void *arg;
};

static int for_each_reply(struct nl_msg *reply, void *arg)
{
	struct for_each *each = arg;
	struct engine_figures f;
	int err = figures_reply(reply, &f);

	if (!err)
		each->fn(&f, each->arg);
	return err;
}

int engine_for_each(struct engine *e,
		    void (*fn)(const struct engine_figures *f, void *arg),
		    void *arg)
{
	struct nl_msg *msg = shm_nl_request_new(&e->nl, SHM_CMD_SESSION_GET,
						NLM_F_DUMP);
	struct for_each each = { fn, arg };

	if (!msg)
		return -ENOMEM;
	return shm_nl_request(&e->nl, msg, for_each_reply, &each);
}

struct active_count {
	uint32_t role, own;
	unsigned int n;
};

static void count_active(const struct engine_figures *f, void *arg)
{
	struct active_count *c = arg;

	c->n += f->role == c->role && f->id != c->own &&
		engine_state_active(f->state);
}

int engine_count_active(struct engine *e, uint32_t role, unsigned int *n)
{
	struct active_count c = { .role = role, .own = e->id };
	int err = engine_for_each(e, count_active, &c);

	*n = c.n;
	return err;
}

static int protocol_reply(struct nl_msg *reply, void *arg)
{
	struct nlattr *tb[SHM_INFO_A_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(reply), 0, tb, SHM_INFO_A_MAX, NULL) ||
	    !tb[SHM_INFO_A_PROTOCOL])
		return -EBADMSG;
	*(uint32_t *)arg = nla_get_u32(tb[SHM_INFO_A_PROTOCOL]);
	return 0;
}

int engine_protocol(struct engine *e, uint32_t *protocol)
{
	struct nl_msg *msg = shm_nl_request_new(&e->nl, SHM_CMD_GET_INFO, 0);

	return msg ? shm_nl_request(&e->nl, msg, protocol_reply, protocol) :
		     -ENOMEM;
}

const char *engine_why(const struct engine *e, int err)
{
	return e->nl.failure.msg[0] ? e->nl.failure.msg : strerror(-err);
}

int engine_watch(struct engine *e)
{
	int fd;

	if (e->events.sock)
		return nl_socket_get_fd(e->events.sock);
	if (shm_nl_open(&e->events) != SHMCTL_EXIT_OK)
		return -EIO;
	fd = shm_nl_watch(&e->events);
	if (fd < 0)
		shm_nl_close(&e->events);
	return fd;
}

void engine_watched(struct engine *e)
{
	if (e->events.sock)
		shm_nl_drain(&e->events, NULL, NULL);
}

void engine_close(struct engine *e)
{
	if (e->nl.sock)
		shm_nl_close(&e->nl);
	if (e->events.sock)
		shm_nl_close(&e->events);
	e->id = 0;
}
