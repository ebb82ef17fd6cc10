/*
 * The shared-memory link to holdfast-dataplane; the protocol is described in
 * control/link.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "control/link.h"
#include "control/log.h"
#include "include/holdfast/errcode.h"
#include "include/holdfast/msg.h"
#include "include/holdfast/name.h"
#include "include/holdfast/ring.h"
#include "include/holdfast/shm.h"

#define HF_LINK_BUCKETS  16384  /* hash buckets of the in-flight table, a power of two */
#define HF_LINK_INLINE_WAITERS 4  /* waiters kept without a separate allocation */

/* One worker's request for an answer. */
struct hf_link_waiter {
	uint32_t req_id;
	uint32_t worker;
};

/* A resolution in flight and everyone waiting for it. */
struct hf_link_query {
	struct hf_link_query *hnext;          /* hash chain, while hashed */
	struct hf_link_query *lnext, *lprev;  /* every query, hashed or orphaned */
	struct hf_link *link;
	bool hashed;
	uint32_t hash;
	uint16_t qtype, qclass;
	uint8_t variant;
	uint8_t qname_len;
	uint16_t n_waiters, cap_waiters;
	struct hf_link_waiter *waiters;       /* inline_w or a heap array */
	struct hf_link_waiter inline_w[HF_LINK_INLINE_WAITERS];
	uint8_t qname[HF_NAME_MAXLEN];
};

/* A fill that did not fit its worker's ring. */
struct hf_link_held {
	uint32_t len;
	uint8_t data[];
};

/* Per-worker state, for the attached region only. */
struct hf_link_worker {
	struct hf_ring *miss, *fill;
	unsigned bl_head, bl_count;           /* FIFO in bl[] */
	struct hf_link_held *bl[HF_LINK_BACKLOG_MAX];
};

struct hf_link {
	uv_loop_t *loop;
	struct hf_link_config cfg;
	char instance[HF_SHM_INSTANCE_MAX + 1];

	struct hf_shm *shm;                   /* NULL while detached */
	unsigned n_workers;
	struct hf_link_worker *workers;

	uv_timer_t retry_timer;               /* attaching */
	uv_timer_t poll_timer;                /* polling while idle */
	uv_timer_t beat_timer;                /* heartbeat and check */
	uv_idle_t repoll;                     /* polling while busy */
	unsigned open_handles;
	bool closing;

	bool waiting_logged;
	bool peer_dead_logged;
	int last_attach_error;

	struct hf_link_query all;             /* list head of every query */
	unsigned n_hashed;
	struct hf_link_query **buckets;
	struct hf_link_stats stats;
	uint32_t purge_seq;
	uint8_t fillbuf[HF_SHM_FILL_SLOT_SIZE];
};

static void hf_link_try_attach(struct hf_link *link);
static void hf_link_detach(struct hf_link *link);

int hf_link_fill_encode(const struct hf_rendered *ans, uint32_t req_id, uint8_t variant,
			void *buf, size_t cap)
{
	struct hf_msg_fill hdr = {
		.req_id = req_id,
		.ttl = ans->ttl,
		.rcode = ans->rcode,
		.msg_len = ans->msg_len,
		.ede_len = ans->ede_len,
		.variant = variant,
		.flags = ans->flags,
		.n_ttl = ans->n_ttl,
	};

	return hf_msg_fill_encode(buf, cap, &hdr, ans->ttl_off, ans->ede, ans->msg);
}

/* ---- in-flight table ---------------------------------------------------- */

static uint32_t hf_link_hash(const uint8_t *qname, uint8_t qname_len, uint16_t qtype,
			     uint16_t qclass, uint8_t variant)
{
	uint32_t h = 2166136261u;  /* FNV-1a: cheap and good enough for a private table */

	for (unsigned i = 0; i < qname_len; i++)
		h = (h ^ qname[i]) * 16777619u;
	h = (h ^ (qtype & 0xff)) * 16777619u;
	h = (h ^ (qtype >> 8)) * 16777619u;
	h = (h ^ (qclass & 0xff)) * 16777619u;
	h = (h ^ (qclass >> 8)) * 16777619u;
	return (h ^ variant) * 16777619u;
}

static struct hf_link_query *hf_link_find(struct hf_link *link, uint32_t hash,
					  const uint8_t *qname, uint8_t qname_len, uint16_t qtype,
					  uint16_t qclass, uint8_t variant)
{
	for (struct hf_link_query *q = link->buckets[hash & (HF_LINK_BUCKETS - 1)]; q; q = q->hnext)
		if (q->hash == hash && q->qtype == qtype && q->qclass == qclass &&
		    q->variant == variant && q->qname_len == qname_len &&
		    memcmp(q->qname, qname, qname_len) == 0)
			return q;
	return NULL;
}

static void hf_link_unhash(struct hf_link *link, struct hf_link_query *q)
{
	struct hf_link_query **pp = &link->buckets[q->hash & (HF_LINK_BUCKETS - 1)];

	if (!q->hashed)
		return;
	while (*pp != q)
		pp = &(*pp)->hnext;
	*pp = q->hnext;
	q->hashed = false;
	link->n_hashed--;
}

static void hf_link_query_free(struct hf_link *link, struct hf_link_query *q)
{
	hf_link_unhash(link, q);
	q->lprev->lnext = q->lnext;
	q->lnext->lprev = q->lprev;
	if (q->waiters != q->inline_w)
		free(q->waiters);
	free(q);
}

static int hf_link_add_waiter(struct hf_link_query *q, uint32_t worker, uint32_t req_id)
{
	if (q->n_waiters == q->cap_waiters) {
		unsigned cap = q->cap_waiters * 2u;
		struct hf_link_waiter *w;

		if (cap > HF_LINK_WAITERS_MAX)
			return -ENOSPC;
		w = malloc(cap * sizeof(*w));
		if (!w)
			return -ENOMEM;
		memcpy(w, q->waiters, q->n_waiters * sizeof(*w));
		if (q->waiters != q->inline_w)
			free(q->waiters);
		q->waiters = w;
		q->cap_waiters = (uint16_t)cap;
	}
	q->waiters[q->n_waiters++] = (struct hf_link_waiter){ .req_id = req_id, .worker = worker };
	return 0;
}

/* The region went away: nobody waits for these answers any more. The
 * resolutions cannot be cancelled, so the queries stay on the list until
 * their callbacks arrive, unhashed so that new misses start afresh. */
static void hf_link_orphan_all(struct hf_link *link)
{
	for (struct hf_link_query *q = link->all.lnext; q != &link->all; q = q->lnext) {
		link->stats.orphaned += q->n_waiters;
		q->n_waiters = 0;
		hf_link_unhash(link, q);
	}
}

/* ---- fills --------------------------------------------------------------- */

/* Move the worker's backlog onto its ring while there is room. */
static void hf_link_flush_backlog(struct hf_link_worker *w)
{
	while (w->bl_count) {
		struct hf_link_held *h = w->bl[w->bl_head];

		if (hf_ring_enqueue(w->fill, HF_MSG_FILL, h->data, h->len) == -ENOBUFS)
			return;
		free(h);
		w->bl_head = (w->bl_head + 1) % HF_LINK_BACKLOG_MAX;
		w->bl_count--;
	}
}

static void hf_link_free_backlog(struct hf_link_worker *w)
{
	while (w->bl_count) {
		free(w->bl[w->bl_head]);
		w->bl_head = (w->bl_head + 1) % HF_LINK_BACKLOG_MAX;
		w->bl_count--;
	}
}

/* Send one encoded fill to a worker, through its backlog if need be. */
static void hf_link_deliver(struct hf_link *link, uint32_t worker, const void *fill, uint32_t len)
{
	struct hf_link_worker *w;
	struct hf_link_held *h;
	int rc;

	if (!link->shm || worker >= link->n_workers)
		return;
	w = &link->workers[worker];
	/* Older fills first: a fill must not overtake the backlog, or a
	 * refreshed answer could be replaced by the older one behind it. */
	hf_link_flush_backlog(w);
	if (!w->bl_count) {
		rc = hf_ring_enqueue(w->fill, HF_MSG_FILL, fill, len);
		if (rc == 0) {
			link->stats.fills++;
			return;
		}
		if (rc != -ENOBUFS) {
			hf_log_warning(SHM, "fill of %u bytes refused by worker %u's ring: %s", len,
				       worker, hf_strerror(rc));
			return;
		}
	}
	if (w->bl_count == HF_LINK_BACKLOG_MAX || !(h = malloc(sizeof(*h) + len))) {
		if (link->stats.backlog_drops++ == 0)
			hf_log_warning(SHM, "worker %u takes no fills and its backlog is full: "
				       "dropping fills (counted)", worker);
		return;
	}
	h->len = len;
	memcpy(h->data, fill, len);
	w->bl[(w->bl_head + w->bl_count) % HF_LINK_BACKLOG_MAX] = h;
	w->bl_count++;
	link->stats.backlogged++;
	link->stats.fills++;  /* it will be delivered unless the region goes away */
}

/* Encode ans once and send it to every waiter, each with its own req_id. */
static void hf_link_answer_waiters(struct hf_link *link, const struct hf_link_waiter *waiters,
				   unsigned n, uint8_t variant, const struct hf_rendered *ans)
{
	int len;

	if (!n || !link->shm)
		return;
	len = hf_link_fill_encode(ans, 0, variant, link->fillbuf, sizeof(link->fillbuf));
	if (len < 0) {
		hf_log_warning(RESOLVE, "answer cannot be encoded as a fill: %s", hf_strerror(len));
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		/* req_id is the first field of the fill header (msg.h). */
		memcpy(link->fillbuf + offsetof(struct hf_msg_fill, req_id), &waiters[i].req_id,
		       sizeof(waiters[i].req_id));
		hf_link_deliver(link, waiters[i].worker, link->fillbuf, (uint32_t)len);
	}
}

static void hf_link_on_answer(void *ctx, const struct hf_rendered *ans)
{
	struct hf_link_query *q = ctx;
	struct hf_link *link = q->link;

	/* Unhash first: nothing can join a resolution that has finished. */
	hf_link_unhash(link, q);
	hf_link_answer_waiters(link, q->waiters, q->n_waiters, q->variant, ans);
	hf_link_query_free(link, q);
}

/* ---- misses -------------------------------------------------------------- */

static void hf_link_resolve(struct hf_link *link, uint32_t worker, const struct hf_msg_miss *m,
			    const uint8_t *qname)
{
	struct hf_link_waiter self = { .req_id = m->req_id, .worker = worker };
	uint32_t hash = hf_link_hash(qname, m->qname_len, m->qtype, m->qclass, m->variant);
	struct hf_link_query *q;
	struct hf_rendered *fail;
	int rc;

	q = hf_link_find(link, hash, qname, m->qname_len, m->qtype, m->qclass, m->variant);
	if (q) {
		if (hf_link_add_waiter(q, worker, m->req_id) < 0)
			link->stats.limit_drops++;
		else
			link->stats.coalesced++;
		return;
	}
	if (link->n_hashed >= HF_LINK_INFLIGHT_MAX || !(q = calloc(1, sizeof(*q)))) {
		link->stats.limit_drops++;
		return;
	}
	q->link = link;
	q->hash = hash;
	q->qtype = m->qtype;
	q->qclass = m->qclass;
	q->variant = m->variant;
	q->qname_len = m->qname_len;
	memcpy(q->qname, qname, m->qname_len);
	q->waiters = q->inline_w;
	q->cap_waiters = HF_LINK_INLINE_WAITERS;
	q->waiters[q->n_waiters++] = self;
	q->hnext = link->buckets[hash & (HF_LINK_BUCKETS - 1)];
	link->buckets[hash & (HF_LINK_BUCKETS - 1)] = q;
	q->hashed = true;
	link->n_hashed++;
	q->lnext = &link->all;
	q->lprev = link->all.lprev;
	link->all.lprev->lnext = q;
	link->all.lprev = q;
	link->stats.resolutions++;

	/* Everything about q is in place before the call: a resolver that
	 * answers from its cache may call back before it returns, and q is
	 * not touched after a successful call. */
	rc = hf_resolver_resolve(link->cfg.resolver, q->qname, q->qtype, q->qclass, q->variant,
				 hf_link_on_answer, q);
	if (rc == 0)
		return;
	link->stats.resolve_errors++;
	hf_log_warning(RESOLVE, "cannot start a resolution: %s", hf_strerror(rc));
	fail = malloc(sizeof(*fail));
	if (fail && hf_local_render_error(q->qname, q->qtype, q->qclass, HF_RCODE_SERVFAIL,
					  HF_EDE_OTHER, "control plane cannot start a resolution",
					  fail) == 0)
		hf_link_answer_waiters(link, q->waiters, q->n_waiters, q->variant, fail);
	free(fail);
	hf_link_query_free(link, q);
}

static void hf_link_handle_miss(struct hf_link *link, uint32_t worker,
				const struct hf_ring_msg *msg)
{
	const struct hf_msg_miss *m = (const void *)msg->data;
	uint8_t qname[HF_NAME_MAXLEN];
	struct hf_rendered *ans;

	link->stats.misses++;
	/* The dataplane is trusted but not blindly (msg.h): a bad message is
	 * counted and skipped, and its worker's timeout answers the client. */
	if (msg->type != HF_MSG_MISS || msg->len < HF_MSG_MISS_LEN(1) || m->qname_len == 0 ||
	    msg->len < HF_MSG_MISS_LEN(m->qname_len) ||
	    hf_name_check(m->qname, m->qname_len) != m->qname_len) {
		if (link->stats.bad_misses++ == 0)
			hf_log_warning(SHM, "worker %u sent a malformed miss (type %u, %u bytes); "
				       "counting such messages from now on",
				       worker, msg->type, msg->len);
		return;
	}
	memcpy(qname, m->qname, m->qname_len);
	hf_name_lower(qname);

	if (!hf_local_match(link->cfg.local, qname)) {
		hf_link_resolve(link, worker, m, qname);
		return;
	}
	ans = malloc(sizeof(*ans));
	if (!ans)
		return;
	if (hf_local_answer(link->cfg.local, qname, m->qtype, m->qclass, ans) == 1) {
		struct hf_link_waiter self = { .req_id = m->req_id, .worker = worker };

		link->stats.local++;
		hf_link_answer_waiters(link, &self, 1, m->variant, ans);
	}
	free(ans);
}

/* One pass over every worker. Returns the number of misses handled. */
static unsigned hf_link_poll(struct hf_link *link)
{
	unsigned total = 0;
	int rc;

	if (!link->shm)
		return 0;
	rc = hf_shm_check(link->shm);
	if (rc == HF_ESHMRETIRED) {
		hf_log_notice(SHM, "%s was retired (holdfast-dataplane restarted or stopped); "
			      "attaching again", hf_shm_region_name(link->shm));
		hf_link_detach(link);
		hf_link_try_attach(link);
		return 0;
	}
	if (rc != 0) {
		hf_log_error(SHM, "%s: %s; another holdfast-control took over",
			     hf_shm_region_name(link->shm), hf_strerror(rc));
		hf_link_detach(link);
		if (link->cfg.on_fatal)
			link->cfg.on_fatal(link->cfg.ctx, rc);
		return 0;
	}
	for (unsigned w = 0; w < link->n_workers && link->shm; w++) {
		struct hf_link_worker *wk = &link->workers[w];
		unsigned done = 0;

		hf_link_flush_backlog(wk);
		while (done < HF_LINK_POLL_BUDGET) {
			const struct hf_ring_msg *msgs[HF_LINK_BURST];
			unsigned n = hf_ring_peek_burst(wk->miss, msgs, HF_LINK_BURST);

			for (unsigned i = 0; i < n; i++)
				hf_link_handle_miss(link, w, msgs[i]);
			if (n)
				hf_ring_release(wk->miss, n);
			done += n;
			if (n < HF_LINK_BURST)
				break;
		}
		total += done;
	}
	return total;
}

static void hf_link_on_repoll(uv_idle_t *h);

static void hf_link_poll_and_schedule(struct hf_link *link)
{
	/* libuv cannot wait on shared memory (there is no fd to poll), so the
	 * rings are polled: every HF_LINK_POLL_MS by a timer while they are
	 * quiet, which costs little CPU and adds at most 1 ms to a miss, and on
	 * every loop turn (an idle handle, which makes libuv poll its fds with
	 * a zero timeout) while the last pass found work, so a burst of misses
	 * is drained at full speed without waiting a millisecond per burst. */
	if (hf_link_poll(link) > 0) {
		if (!uv_is_active((uv_handle_t *)&link->repoll))
			uv_idle_start(&link->repoll, hf_link_on_repoll);
	} else if (uv_is_active((uv_handle_t *)&link->repoll)) {
		uv_idle_stop(&link->repoll);
	}
}

static void hf_link_on_poll_timer(uv_timer_t *t)
{
	hf_link_poll_and_schedule(t->data);
}

static void hf_link_on_repoll(uv_idle_t *h)
{
	hf_link_poll_and_schedule(h->data);
}

static void hf_link_on_beat(uv_timer_t *t)
{
	struct hf_link *link = t->data;
	int rc;

	if (!link->shm)
		return;
	rc = hf_shm_heartbeat(link->shm, hf_shm_now_ns());
	if (rc == 0)
		rc = hf_shm_check(link->shm);
	if (rc == 0) {
		/* A dataplane that crashed leaves its region READY; the next one
		 * retires it. Until then nobody asks, but say why. */
		bool alive = hf_shm_peer_alive(link->shm, hf_shm_now_ns());

		if (!alive && !link->peer_dead_logged)
			hf_log_warning(SHM, "holdfast-dataplane stopped beating (crashed or hung); "
				       "waiting for it to come back");
		else if (alive && link->peer_dead_logged)
			hf_log_notice(SHM, "holdfast-dataplane is beating again");
		link->peer_dead_logged = !alive;
		return;
	}
	/* hf_link_poll() knows what each code means. */
	hf_link_poll(link);
}

/* ---- attach / detach ----------------------------------------------------- */

static void hf_link_detach(struct hf_link *link)
{
	if (!link->shm)
		return;
	uv_timer_stop(&link->poll_timer);
	uv_timer_stop(&link->beat_timer);
	uv_idle_stop(&link->repoll);
	hf_link_orphan_all(link);
	for (unsigned w = 0; w < link->n_workers; w++)
		hf_link_free_backlog(&link->workers[w]);
	free(link->workers);
	link->workers = NULL;
	link->n_workers = 0;
	hf_shm_detach(link->shm);
	link->shm = NULL;
}

static void hf_link_on_retry(uv_timer_t *t)
{
	hf_link_try_attach(t->data);
}

static void hf_link_attach_failed(struct hf_link *link, int rc, const char *err)
{
	bool transient = rc == -ENOENT || rc == -EAGAIN || rc == HF_ESHMRETIRED;

	if (transient && !link->waiting_logged) {
		hf_log_notice(SHM, "waiting for holdfast-dataplane (%s)", err);
		link->waiting_logged = true;
	} else if (!transient && rc != link->last_attach_error) {
		hf_log_error(SHM, "%s; retrying every %u ms%s", err, HF_LINK_RETRY_MS,
			     rc == -EPERM || rc == -EACCES ? " (both processes must run as instance.user: "
					    "see control/privs.h)" : "");
	}
	link->last_attach_error = rc;
	if (!uv_is_active((uv_handle_t *)&link->retry_timer))
		uv_timer_start(&link->retry_timer, hf_link_on_retry, HF_LINK_RETRY_MS,
			       HF_LINK_RETRY_MS);
}

static void hf_link_try_attach(struct hf_link *link)
{
	struct hf_shm *shm = NULL;
	char err[256] = "";
	unsigned n;
	int rc;

	if (link->shm || link->closing)
		return;
	rc = hf_shm_attach(link->instance, &shm, err, sizeof(err));
	if (rc < 0) {
		hf_link_attach_failed(link, rc, err);
		return;
	}
	n = hf_shm_n_workers(shm);
	link->workers = calloc(n, sizeof(*link->workers));
	if (!link->workers) {
		hf_shm_detach(shm);
		hf_link_attach_failed(link, -ENOMEM, "out of memory for the worker table");
		return;
	}
	for (unsigned w = 0; w < n; w++) {
		link->workers[w].miss = hf_shm_miss_ring(shm, w);
		link->workers[w].fill = hf_shm_fill_ring(shm, w);
	}
	link->shm = shm;
	link->n_workers = n;
	link->waiting_logged = false;
	link->peer_dead_logged = false;
	link->last_attach_error = 0;
	link->stats.attaches++;
	uv_timer_stop(&link->retry_timer);
	hf_shm_heartbeat(shm, hf_shm_now_ns());
	uv_timer_start(&link->poll_timer, hf_link_on_poll_timer, HF_LINK_POLL_MS, HF_LINK_POLL_MS);
	uv_timer_start(&link->beat_timer, hf_link_on_beat, HF_SHM_HEARTBEAT_NS / 1000000,
		       HF_SHM_HEARTBEAT_NS / 1000000);
	hf_log_notice(SHM, "attached to %s (dataplane generation %llu, %u workers, "
		      "control generation %u)", hf_shm_region_name(shm),
		      (unsigned long long)hf_shm_dp_generation(shm), n, hf_shm_cp_generation(shm));
	/* State the dataplane must have (override rules) before it answers much. */
	if (link->cfg.on_attach)
		link->cfg.on_attach(link->cfg.ctx, shm);
	/* Misses may already be waiting (the dataplane re-sends what an earlier
	 * control plane left unanswered): take them now. */
	hf_link_poll_and_schedule(link);
}

struct hf_shm *hf_link_shm(struct hf_link *link)
{
	return link->shm;
}

/* ---- lifecycle ----------------------------------------------------------- */

int hf_link_purge(struct hf_link *link, const uint8_t *name, bool subtree)
{
	int len = hf_name_check(name, HF_NAME_MAXLEN);
	if (len < 0)
		return -EINVAL;
	if (link->shm == NULL)
		return -ENOTCONN;
	struct hf_msg_purge m = {
		.seq = ++link->purge_seq,
		.flags = subtree ? HF_PURGE_SUBTREE : 0,
		.name_len = (uint8_t)len,
	};
	memcpy(m.name, name, (size_t)len);
	hf_name_lower(m.name);
	/* The enqueue time travels behind the name (msg.h, HF_MSG_PURGE_TS_LEN). */
	uint8_t buf[HF_MSG_PURGE_TS_LEN(HF_NAME_MAXLEN)];
	uint64_t now = hf_shm_now_ns();
	memcpy(buf, &m, HF_MSG_PURGE_LEN(len));
	memcpy(buf + HF_MSG_PURGE_LEN(len), &now, sizeof(now));
	int rc = hf_ring_enqueue(hf_shm_ops_ring(link->shm), HF_MSG_PURGE, buf,
				 (uint32_t)HF_MSG_PURGE_TS_LEN(len));
	if (rc == 0)
		hf_shm_doorbell_ring(link->shm);
	return rc;
}

struct hf_link *hf_link_create(uv_loop_t *loop, const struct hf_link_config *cfg)
{
	struct hf_link *link;

	if (!cfg->instance || strlen(cfg->instance) > HF_SHM_INSTANCE_MAX)
		return NULL;
	link = calloc(1, sizeof(*link));
	if (!link)
		return NULL;
	link->buckets = calloc(HF_LINK_BUCKETS, sizeof(*link->buckets));
	if (!link->buckets)
		goto err_free_link;
	link->loop = loop;
	link->cfg = *cfg;
	strcpy(link->instance, cfg->instance);
	link->all.lnext = link->all.lprev = &link->all;
	uv_timer_init(loop, &link->retry_timer);
	uv_timer_init(loop, &link->poll_timer);
	uv_timer_init(loop, &link->beat_timer);
	uv_idle_init(loop, &link->repoll);
	link->retry_timer.data = link->poll_timer.data = link->beat_timer.data = link;
	link->repoll.data = link;
	link->open_handles = 4;
	return link;

err_free_link:
	free(link);
	return NULL;
}

int hf_link_start(struct hf_link *link)
{
	hf_link_try_attach(link);
	return 0;
}

static void hf_link_on_closed(uv_handle_t *h)
{
	struct hf_link *link = h->data;

	if (--link->open_handles == 0) {
		free(link->buckets);
		free(link);
	}
}

void hf_link_close(struct hf_link *link)
{
	if (!link || link->closing)
		return;
	link->closing = true;
	hf_link_detach(link);
	while (link->all.lnext != &link->all)
		hf_link_query_free(link, link->all.lnext);
	uv_close((uv_handle_t *)&link->retry_timer, hf_link_on_closed);
	uv_close((uv_handle_t *)&link->poll_timer, hf_link_on_closed);
	uv_close((uv_handle_t *)&link->beat_timer, hf_link_on_closed);
	uv_close((uv_handle_t *)&link->repoll, hf_link_on_closed);
}

bool hf_link_attached(const struct hf_link *link)
{
	return link->shm != NULL;
}

const struct hf_link_stats *hf_link_stats(const struct hf_link *link)
{
	return &link->stats;
}

unsigned hf_link_backlog(const struct hf_link *link, unsigned worker)
{
	return link->shm && worker < link->n_workers ? link->workers[worker].bl_count : 0;
}
