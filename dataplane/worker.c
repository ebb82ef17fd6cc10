#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <urcu/urcu-qsbr.h>

#include "dataplane/cache.h"
#include "dataplane/net/packet.h"
#include "dataplane/pending.h"
#include "dataplane/query.h"
#include "dataplane/override.h"
#include "dataplane/worker.h"
#include "include/holdfast/build.h"
#include "include/holdfast/msg.h"
#include "include/holdfast/ring.h"
#include "include/holdfast/shm.h"
#include "include/holdfast/wire_ctx.h"

#define HF_WORKER_TX_MAX 64
#define HF_HOUSEKEEPING_NS UINT64_C(1000000)  /* liveness, restarts, stats: every 1 ms */

_Static_assert(HF_STAT_Q_QTYPE - HF_STAT_Q_SHORT + 2 == HF_QREASON_COUNT,
	       "query reason counters follow enum hf_query_reason");
_Static_assert(HF_STAT_NET_ICMP_TYPE - HF_STAT_NET_SHORT + 2 == HF_NET_R_COUNT,
	       "net reason counters follow enum hf_net_reason");

/* Room for a stale answer's EDNS options: the entry's, EDE 3/19, the failed refresh's. */
#define HF_STALE_EDE_MAX 1024

struct hf_worker {
	struct hf_worker_config cfg;
	struct hf_pending *pending;
	struct hf_pending *refresh;   /* serve-stale refreshes: clients wait client_timeout at most */
	struct hf_ring *miss_ring;
	struct hf_ring *fill_ring;
	struct hf_shm_stats *stats;
	bool control_alive;
	uint32_t cp_generation;
	uint64_t next_housekeeping_ns;
	uint16_t n_tx;
	uint16_t n_exc;
	struct rte_mbuf *tx[HF_WORKER_TX_MAX];
	struct rte_mbuf *exc[HF_WORKER_BURST];
	void **cookies;         /* max_waiters_per_q, for taking waiters out */
	char timeout_text[64];  /* formatted once: no printf per packet */
	uint8_t stale_ede[HF_STALE_EDE_MAX];
	uint8_t ovr_msg[HF_QUERY_EDNS_MAX];   /* an override's answer, built per match */
	uint64_t counter[HF_STAT_COUNT];
} __rte_cache_aligned;

/* A DNS query of the current burst on its way to the cache. */
struct hf_lookup {
	struct rte_mbuf *m;
	const struct hf_net_meta *meta;
	uint8_t *dns;
	uint16_t room;
	uint64_t hash;
	const struct hf_cache_entry *e;
	struct hf_cache_key key;
	struct hf_query q;
};

void hf_worker_clock_read(struct hf_worker_clock *now)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	now->real_s = (uint32_t)ts.tv_sec;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now->mono_ns = (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

struct hf_worker *hf_worker_create(const struct hf_worker_config *cfg)
{
	struct hf_worker *w = rte_zmalloc("hf_worker", sizeof(*w), RTE_CACHE_LINE_SIZE);
	if (!w)
		return NULL;
	w->cfg = *cfg;
	w->pending = hf_pending_create(&cfg->pending);
	if (cfg->stale.enabled) {
		struct hf_pending_config rc = cfg->pending;
		rc.timeout_ns = cfg->stale.client_timeout_ns;
		rc.tagged = true;
		w->refresh = hf_pending_create(&rc);
		if (!w->refresh) {
			hf_worker_destroy(w);
			return NULL;
		}
	}
	w->cookies = calloc(cfg->pending.max_waiters_per_q, sizeof(*w->cookies));
	w->miss_ring = hf_shm_miss_ring(cfg->shm, cfg->index);
	w->fill_ring = hf_shm_fill_ring(cfg->shm, cfg->index);
	w->stats = hf_shm_stats(cfg->shm, cfg->index);
	if (!w->pending || !w->cookies || !w->miss_ring || !w->fill_ring || !w->stats) {
		hf_worker_destroy(w);
		return NULL;
	}
	w->cp_generation = hf_shm_cp_generation(cfg->shm);
	snprintf(w->timeout_text, sizeof(w->timeout_text),
		 "no answer from the control plane within %llu ms",
		 (unsigned long long)(cfg->pending.timeout_ns / 1000000));
	return w;
}

static void hf_free_cookie_cb(void *ctx, const struct hf_pending_key *k, uint32_t req_id)
{
	struct hf_worker *w = ctx;
	(void)k;
	struct hf_pending *p = (req_id & HF_PENDING_ID_TAG) ? w->refresh : w->pending;
	unsigned n = hf_pending_take(p, req_id, w->cookies);
	for (unsigned i = 0; i < n; i++)
		rte_pktmbuf_free(w->cookies[i]);
}

void hf_worker_destroy(struct hf_worker *w)
{
	if (!w)
		return;
	if (w->pending && w->cookies)
		hf_pending_foreach(w->pending, hf_free_cookie_cb, w);
	if (w->refresh && w->cookies)
		hf_pending_foreach(w->refresh, hf_free_cookie_cb, w);
	hf_pending_destroy(w->pending);
	hf_pending_destroy(w->refresh);
	free(w->cookies);
	rte_free(w);
}

/* Sends a burst; what the port does not take is freed and counted. */
static void hf_send_burst(struct hf_worker *w, uint16_t port, uint16_t queue,
			  struct rte_mbuf **pkts, uint16_t n, enum hf_shm_stat sent_stat)
{
	uint16_t sent = rte_eth_tx_burst(port, queue, pkts, n);
	w->counter[sent_stat] += sent;
	if (hf_unlikely(sent < n)) {
		rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
		w->counter[HF_STAT_TX_DROPPED] += n - sent;
	}
}

static void hf_tx_flush(struct hf_worker *w)
{
	if (w->n_tx == 0)
		return;
	hf_send_burst(w, w->cfg.port_id, w->cfg.queue_id, w->tx, w->n_tx, HF_STAT_TX_PACKETS);
	w->n_tx = 0;
}

static inline void hf_tx_push(struct hf_worker *w, struct rte_mbuf *m)
{
	w->tx[w->n_tx++] = m;
	if (hf_unlikely(w->n_tx == HF_WORKER_TX_MAX))
		hf_tx_flush(w);
}

static void hf_exc_flush(struct hf_worker *w)
{
	if (w->n_exc == 0)
		return;
	hf_send_burst(w, w->cfg.exc_port_id, w->cfg.exc_queue_id, w->exc, w->n_exc,
		      HF_STAT_EXCEPTION_TX);
	w->n_exc = 0;
}

/*
 * Sends the DNS response written at the frame's payload. sum is the
 * response's checksum sum when the caller knows it (0: compute it).
 */
static void hf_send_dns_sum(struct hf_worker *w, struct rte_mbuf *m,
			    const struct hf_net_meta *meta, int len, uint32_t sum)
{
	int ret = len < 0 ? -EINVAL :
		  sum ? hf_net_udp_reply_sum(m, meta, (uint16_t)len, sum) :
			hf_net_udp_reply(m, meta, (uint16_t)len);
	if (hf_unlikely(ret != 0)) {
		rte_pktmbuf_free(m);
		w->counter[HF_STAT_TX_DROPPED]++;
		return;
	}
	w->counter[HF_STAT_DNS_ANSWERS]++;
	hf_tx_push(w, m);
}

static void hf_send_dns(struct hf_worker *w, struct rte_mbuf *m, const struct hf_net_meta *meta,
			int len)
{
	hf_send_dns_sum(w, m, meta, len, 0);
}

static void hf_answer_from_entry(struct hf_answer *a, const struct hf_cache_entry *e, uint32_t now)
{
	*a = (struct hf_answer){
		.msg = hf_cache_entry_msg(e), .msg_len = e->msg_len, .question_end = e->question_end,
		.ttl_off = hf_cache_entry_ttl_off(e), .n_ttl = e->n_ttl,
		.ede = hf_cache_entry_ede(e), .ede_len = e->ede_len,
		.rcode = e->rcode, .ad = e->flags & HF_CACHE_F_AD,
		.has_sum = true, .sections_sum = e->sections_sum,
		.age = now > e->inserted ? now - e->inserted : 0,
	};
}

static void hf_answer_from_fill(struct hf_answer *a, const struct hf_fill_view *v)
{
	*a = (struct hf_answer){
		.msg = v->msg, .msg_len = v->hdr->msg_len, .question_end = v->question_end,
		.ttl_off = v->ttl_off, .n_ttl = v->hdr->n_ttl, .ede = v->ede,
		.ede_len = v->hdr->ede_len, .rcode = v->hdr->rcode,
		.ad = v->hdr->flags & HF_FILL_AD, .age = 0,
	};
}

/*
 * A stale answer (RFC 8767 §4): the entry's records with the stale TTL, and
 * its EDNS options followed by EDE 3 (19 for NXDOMAIN) and the options of
 * the refresh that failed, if any (its EDE says why: 6 for a bogus zone).
 */
static void hf_answer_stale(struct hf_worker *w, struct hf_answer *a, const struct hf_cache_entry *e,
			    uint32_t now, const uint8_t *extra, uint16_t extra_len)
{
	uint16_t len = 0;
	hf_answer_from_entry(a, e, now);
	if (a->ede_len > 0 && a->ede_len <= sizeof(w->stale_ede)) {
		memcpy(w->stale_ede, a->ede, a->ede_len);
		len = a->ede_len;
	}
	int n = hf_ede_render(w->stale_ede + len, sizeof(w->stale_ede) - len,
			      e->rcode == HF_RCODE_NXDOMAIN ? HF_EDE_STALE_NXDOMAIN : HF_EDE_STALE_ANSWER,
			      NULL);
	if (n > 0)
		len = (uint16_t)(len + n);
	if (extra_len > 0 && extra_len <= sizeof(w->stale_ede) - len) {
		memcpy(w->stale_ede + len, extra, extra_len);
		len = (uint16_t)(len + extra_len);
	}
	a->ede = w->stale_ede;
	a->ede_len = len;
	a->stale_ttl = w->cfg.stale.ttl;
	w->counter[HF_STAT_STALE_ANSWERS]++;
}

/* The cache entry for a question, or NULL. Valid until this turn's quiescent state. */
static const struct hf_cache_entry *hf_lookup_key(struct hf_worker *w, const uint8_t *qname,
						  uint8_t qname_len, uint16_t qtype, uint16_t qclass,
						  uint8_t variant)
{
	struct hf_cache_key k = {
		.name = qname, .qtype = qtype, .qclass = qclass, .name_len = qname_len,
		.variant = variant,
	};
	return hf_cache_lookup(w->cfg.cache, &k, hf_cache_hash(w->cfg.cache, &k));
}

/*
 * Answers a client that waited for a fill (a == NULL: SERVFAIL with the
 * given EDE). Its query is read again from the mbuf it arrived in.
 */
static void hf_answer_waiter(struct hf_worker *w, struct rte_mbuf *m, const struct hf_answer *a,
			     int ede, const char *text)
{
	struct hf_net_meta meta;
	struct hf_query q;
	enum hf_query_reason why;
	uint16_t room, out;

	hf_net_classify(m, w->cfg.addrs, &meta);
	uint8_t *dns = meta.kind == HF_NET_DNS ? hf_net_udp_payload(m, &meta, &room) : NULL;
	if (hf_unlikely(!dns ||
			hf_query_parse(dns, meta.payload_len, room, &q, &out, &why) != HF_QUERY_LOOKUP)) {
		rte_pktmbuf_free(m);  /* cannot happen: it was parsed before */
		return;
	}
	uint32_t sum = 0;
	int len = a ? hf_query_answer(dns, room, &q, a, &sum) : -1;
	if (len < 0)
		len = hf_query_error(dns, room, &q, HF_RCODE_SERVFAIL, ede, text);
	else if (dns[2] & (HF_FLAG_TC >> 8))
		w->counter[HF_STAT_TRUNCATED]++;
	hf_send_dns_sum(w, m, &meta, len, sum);
}

static void hf_servfail_lookup(struct hf_worker *w, struct hf_lookup *lk, enum hf_shm_stat why,
			       int ede, const char *text)
{
	w->counter[why]++;
	hf_send_dns(w, lk->m, lk->meta,
		    hf_query_error(lk->dns, lk->room, &lk->q, HF_RCODE_SERVFAIL, ede, text));
}

static int hf_send_miss(struct hf_worker *w, const struct hf_pending_key *k, uint32_t req_id)
{
	struct hf_msg_miss miss = {
		.req_id = req_id, .qtype = k->qtype, .qclass = k->qclass,
		.variant = k->variant, .qname_len = k->qname_len,
		.flags = (req_id & HF_PENDING_ID_TAG) ? HF_MISS_REFRESH : 0,
	};
	memcpy(miss.qname, k->qname, k->qname_len);
	int ret = hf_ring_enqueue(w->miss_ring, HF_MSG_MISS, &miss, HF_MSG_MISS_LEN(k->qname_len));
	w->counter[ret == 0 ? HF_STAT_MISS_SENT : HF_STAT_MISS_RING_FULL]++;
	return ret;
}

static void hf_miss(struct hf_worker *w, struct hf_lookup *lk, const struct hf_worker_clock *now)
{
	const struct hf_pending_key pk = {
		.qname = lk->q.qname, .qname_len = lk->q.qname_len, .variant = lk->q.variant,
		.qtype = lk->q.qtype, .qclass = lk->q.qclass,
	};
	uint32_t req_id = 0;

	w->counter[HF_STAT_CACHE_MISSES]++;
	if (!w->control_alive) {
		hf_servfail_lookup(w, lk, HF_STAT_SERVFAIL_NO_CONTROL, HF_EDE_NOT_READY,
				   "control plane not running");
		return;
	}
	switch (hf_pending_add(w->pending, &pk, lk->hash, lk->m, now->mono_ns, &req_id)) {
	case HF_PENDING_NEW:
		if (hf_send_miss(w, &pk, req_id) != 0) {
			/* Nobody will answer it: give the client back its SERVFAIL. */
			unsigned n = hf_pending_take(w->pending, req_id, w->cookies);
			for (unsigned i = 0; i < n; i++)
				hf_answer_waiter(w, w->cookies[i], NULL, HF_EDE_OTHER,
						 "control plane queue full");
			w->counter[HF_STAT_SERVFAIL_BUSY] += n;
		}
		break;
	case HF_PENDING_JOINED:
		w->counter[HF_STAT_COALESCED]++;
		break;
	case HF_PENDING_FULL:
		hf_servfail_lookup(w, lk, HF_STAT_SERVFAIL_BUSY, HF_EDE_OTHER,
				   "too many questions outstanding");
		break;
	case HF_PENDING_BUSY:
		hf_servfail_lookup(w, lk, HF_STAT_SERVFAIL_BUSY, HF_EDE_OTHER,
				   "too many clients waiting for this question");
		break;
	}
}

/*
 * An override rule matched (before the cache: operators' rules win over
 * cached answers). Returns true when the query is dealt with; "insecure"
 * rules are the control plane's business and go on to the cache.
 */
static bool hf_override(struct hf_worker *w, const struct hf_ovr_set *set, struct hf_lookup *lk)
{
	char text[HF_OVR_TEXT_MAX];
	size_t len = hf_ovr_name_text(lk->q.qname, text);
	const struct hf_ovr_rule *r = hf_ovr_match(set, hf_ovr_scratch(set, w->cfg.index), text, len,
						   lk->q.qtype);
	if (r == NULL || r->action == HF_OVR_INSECURE)
		return false;
	hf_ovr_count_hit(set, w->cfg.index, r);
	w->counter[HF_STAT_OVERRIDE_HITS]++;
	char reason[HF_OVR_REASON_MAX + 1];
	memcpy(reason, r->reason, r->reason_len);
	reason[r->reason_len] = '\0';
	int ede = r->ede == HF_OVR_NO_EDE ? -1 : r->ede;
	uint16_t rcode;
	switch (r->action) {
	case HF_OVR_DROP:
		rte_pktmbuf_free(lk->m);
		return true;
	case HF_OVR_NXDOMAIN: rcode = HF_RCODE_NXDOMAIN; break;
	case HF_OVR_NODATA: rcode = HF_RCODE_NOERROR; break;
	case HF_OVR_REFUSE: rcode = HF_RCODE_REFUSED; break;
	case HF_OVR_ANSWER: {
		/* Header and question as asked, the rule's records behind them. */
		uint8_t *msg = w->ovr_msg;
		uint16_t qe = lk->q.question_end, an = 0;
		memcpy(msg, lk->dns, qe);
		int n = hf_ovr_render_answers(hf_ovr_answers(set), r, lk->q.qtype, msg + qe,
					      sizeof(w->ovr_msg) - qe, &an);
		hf_wire_put_u16(msg + 2, n < 0 ? HF_FLAG_TC : 0);
		hf_wire_put_u16(msg + 6, an);
		hf_wire_put_u16(msg + 8, 0);
		hf_wire_put_u16(msg + 10, 0);
		struct hf_answer a = {
			.msg = msg, .msg_len = (uint16_t)(qe + (n > 0 ? n : 0)), .question_end = qe,
			.rcode = HF_RCODE_NOERROR,
		};
		int out = hf_query_answer(lk->dns, lk->room, &lk->q, &a, NULL);
		if (out < 0)
			out = hf_query_error(lk->dns, lk->room, &lk->q, HF_RCODE_SERVFAIL, HF_EDE_OTHER,
					     "override answer did not fit");
		hf_send_dns(w, lk->m, lk->meta, out);
		return true;
	}
	case HF_OVR_SERVFAIL:
	default:
		rcode = HF_RCODE_SERVFAIL;
		break;
	}
	hf_send_dns(w, lk->m, lk->meta, hf_query_error(lk->dns, lk->room, &lk->q, rcode, ede, reason));
	return true;
}

/*
 * An expired entry still in its stale window (RFC 8767). Answered stale at
 * once when no control plane runs or a refresh failed less than
 * failure-recheck ago; otherwise the client waits on the refresh table
 * (client-timeout at most) while the control plane resolves the question.
 */
static void hf_stale_hit(struct hf_worker *w, struct hf_lookup *lk, const struct hf_cache_entry *e,
			 const struct hf_worker_clock *now)
{
	struct hf_answer a;
	uint32_t sum;
	uint32_t recheck = atomic_load_explicit(&e->recheck_until, memory_order_relaxed);

	if (w->control_alive && now->real_s >= recheck) {
		const struct hf_pending_key pk = {
			.qname = lk->q.qname, .qname_len = lk->q.qname_len, .variant = lk->q.variant,
			.qtype = lk->q.qtype, .qclass = lk->q.qclass,
		};
		uint32_t req_id = 0;
		switch (hf_pending_add(w->refresh, &pk, lk->hash, lk->m, now->mono_ns, &req_id)) {
		case HF_PENDING_NEW:
			if (hf_send_miss(w, &pk, req_id) == 0) {
				w->counter[HF_STAT_STALE_REFRESHES]++;
				return;
			}
			/* Nobody will refresh it: stale now (the mbuf comes back to us). */
			hf_pending_take(w->refresh, req_id, w->cookies);
			break;
		case HF_PENDING_JOINED:
			w->counter[HF_STAT_COALESCED]++;
			return;
		default:
			break;  /* no room to wait: stale now */
		}
	}
	hf_answer_stale(w, &a, e, now->real_s, NULL, 0);
	int len = hf_query_answer(lk->dns, lk->room, &lk->q, &a, &sum);
	if (hf_unlikely(len < 0)) {
		hf_servfail_lookup(w, lk, HF_STAT_SERVFAIL_BUSY, HF_EDE_OTHER, "stale answer did not fit");
		return;
	}
	hf_send_dns_sum(w, lk->m, lk->meta, len, sum);
}

static void hf_lookup_burst(struct hf_worker *w, struct hf_lookup *lk, unsigned n,
			    const struct hf_worker_clock *now)
{
	struct hf_answer a;

	/*
	 * Override rules apply before the cached answer. The set stays valid
	 * until this turn's quiescent state. A cache entry remembers the set
	 * (generation) that has no rule for its question, so a repeated
	 * question costs one compare, not a match; a new set re-checks.
	 */
	const struct hf_ovr_set *set = w->cfg.ovr ? hf_ovr_current(w->cfg.ovr) : NULL;
	uint32_t ovr_gen = 0;
	if (hf_unlikely(set && hf_ovr_active(set)))
		ovr_gen = (uint32_t)set->generation ? (uint32_t)set->generation : 1;

	/* Three passes over the burst, so that memory latency overlaps instead
	 * of queueing behind each step: hash every question and prefetch its
	 * index bucket; probe, and prefetch each hit's rendered message (the
	 * probe read only the entry's first line and its name); then answer. The entries stay valid until this
	 * turn's quiescent state. */
	for (unsigned i = 0; i < n; i++) {
		lk[i].key = (struct hf_cache_key){
			.name = lk[i].q.qname, .qtype = lk[i].q.qtype, .qclass = lk[i].q.qclass,
			.name_len = lk[i].q.qname_len, .variant = lk[i].q.variant,
		};
		lk[i].hash = hf_cache_hash(w->cfg.cache, &lk[i].key);
		hf_cache_prefetch(w->cfg.cache, lk[i].hash);
	}
	for (unsigned i = 0; i < n; i++) {
		const struct hf_cache_entry *e = hf_cache_lookup(w->cfg.cache, &lk[i].key, lk[i].hash);
		lk[i].e = e;
		if (e) {
			rte_prefetch0(e->data);
			rte_prefetch0(hf_cache_entry_msg(e) + e->question_end);
		}
	}
	/* Hits are counted once per burst: a counter bumped per packet is a
	 * store-to-load chain through memory. */
	uint64_t hits = 0, answers = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct hf_cache_entry *e = lk[i].e;
		if (hf_unlikely(ovr_gen != 0) &&
		    !(e && atomic_load_explicit(&e->ovr_checked, memory_order_relaxed) == ovr_gen)) {
			if (hf_override(w, set, &lk[i]))
				continue;
			if (e)
				hf_cache_entry_set_ovr_checked(e, ovr_gen);
		}
		if (e && now->real_s < e->expires) {
			uint32_t sum;
			hf_answer_from_entry(&a, e, now->real_s);
			int len = hf_query_answer(lk[i].dns, lk[i].room, &lk[i].q, &a, &sum);
			if (hf_likely(len >= 0)) {
				hits++;
				if (lk[i].dns[2] & (HF_FLAG_TC >> 8))
					w->counter[HF_STAT_TRUNCATED]++;
				/* hf_send_dns_sum(), with the answer counted per burst. */
				const int sent = sum ? hf_net_udp_reply_sum(lk[i].m, lk[i].meta,
									    (uint16_t)len, sum) :
						       hf_net_udp_reply(lk[i].m, lk[i].meta, (uint16_t)len);
				if (hf_unlikely(sent != 0)) {
					rte_pktmbuf_free(lk[i].m);
					w->counter[HF_STAT_TX_DROPPED]++;
					continue;
				}
				answers++;
				hf_tx_push(w, lk[i].m);
				continue;
			}
		}
		if (e && w->refresh && now->real_s < e->stale_until) {
			hf_stale_hit(w, &lk[i], e, now);
			continue;
		}
		hf_miss(w, &lk[i], now);
	}
	w->counter[HF_STAT_CACHE_HITS] += hits;
	w->counter[HF_STAT_DNS_ANSWERS] += answers;
}

static void hf_count_net(struct hf_worker *w, uint8_t reason)
{
	if (reason != HF_NET_R_NONE && reason < HF_NET_R_COUNT)
		w->counter[HF_STAT_NET_SHORT + reason - 1]++;
}

static void hf_rx_burst(struct hf_worker *w, struct rte_mbuf **pkts, uint16_t nb,
			const struct hf_worker_clock *now)
{
	struct hf_net_meta meta[HF_WORKER_BURST];
	struct hf_lookup lk[HF_WORKER_BURST];
	unsigned n_lk = 0, n_dns = 0;

	hf_net_classify_burst(pkts, nb, w->cfg.addrs, meta);
	for (uint16_t i = 0; i < nb; i++) {
		struct rte_mbuf *m = pkts[i];
		switch (meta[i].kind) {
		case HF_NET_DNS: {
			struct hf_lookup *l = &lk[n_lk];
			enum hf_query_reason why;
			uint16_t out;
			l->m = m;
			l->meta = &meta[i];
			l->dns = hf_net_udp_payload(m, &meta[i], &l->room);
			n_dns++;
			if (hf_unlikely(!l->dns)) {
				w->counter[HF_STAT_NET_MULTISEG]++;
				rte_pktmbuf_free(m);
				break;
			}
			switch (hf_query_parse(l->dns, meta[i].payload_len, l->room, &l->q, &out, &why)) {
			case HF_QUERY_LOOKUP:
				n_lk++;
				break;
			case HF_QUERY_RESPOND:
				w->counter[HF_STAT_Q_SHORT + why - 1]++;
				hf_send_dns(w, m, &meta[i], out);
				break;
			case HF_QUERY_DROP:
				w->counter[HF_STAT_Q_SHORT + why - 1]++;
				rte_pktmbuf_free(m);
				break;
			}
			break;
		}
		case HF_NET_ARP:
		case HF_NET_ICMP_ECHO:
		case HF_NET_ICMP6_ECHO:
		case HF_NET_ND_SOLICIT:
			if (hf_net_reply(m, &meta[i], w->cfg.addrs) != 0) {
				rte_pktmbuf_free(m);
				break;
			}
			w->counter[meta[i].kind == HF_NET_ARP ? HF_STAT_ARP_REPLIES :
				   meta[i].kind == HF_NET_ND_SOLICIT ? HF_STAT_ND_ADVERTS :
				   HF_STAT_ICMP_REPLIES]++;
			hf_tx_push(w, m);
			break;
		case HF_NET_OTHER:
			hf_count_net(w, meta[i].reason);
			if (w->cfg.has_exception) {
				w->exc[w->n_exc++] = m;
			} else {
				w->counter[HF_STAT_OTHER_DROPPED]++;
				rte_pktmbuf_free(m);
			}
			break;
		default:
			hf_count_net(w, meta[i].reason);
			rte_pktmbuf_free(m);
			break;
		}
	}
	w->counter[HF_STAT_DNS_QUERIES] += n_dns;
	hf_lookup_burst(w, lk, n_lk, now);
}

/*
 * The refresh of a stale entry failed (RFC 8767 §4): keep the entry, start
 * its failure-recheck timer (shared by every worker: it lives in the
 * entry), and give the waiting clients the stale answer with the failure's
 * EDE after EDE 3 (the .de case: EDE 6 says the zone turned bogus).
 */
static void hf_refresh_failed(struct hf_worker *w, const struct hf_fill_view *v,
			      const struct hf_worker_clock *now)
{
	struct hf_answer a;
	w->counter[HF_STAT_STALE_FAILED]++;
	const struct hf_cache_entry *e = hf_lookup_key(w, v->qname, v->qname_len, v->qtype, v->qclass,
						       v->hdr->variant);
	if (e)
		hf_cache_entry_set_recheck(e, now->real_s + w->cfg.stale.failure_recheck);
	unsigned n = hf_pending_take(w->refresh, v->hdr->req_id, w->cookies);
	if (n == 0)
		return;  /* the client-response timer answered them already */
	const bool stale = e && now->real_s < e->stale_until;
	if (stale)
		hf_answer_stale(w, &a, e, now->real_s, v->ede, v->hdr->ede_len);
	else
		hf_answer_from_fill(&a, v);
	for (unsigned i = 0; i < n; i++)
		hf_answer_waiter(w, w->cookies[i], &a, HF_EDE_OTHER, "answer did not fit");
	if (stale && n > 1)
		w->counter[HF_STAT_STALE_ANSWERS] += n - 1;
}

static void hf_fill_one(struct hf_worker *w, const struct hf_ring_msg *msg,
			const struct hf_worker_clock *now)
{
	struct hf_fill_view v;
	struct hf_answer a;
	const char *why;

	w->counter[HF_STAT_FILLS_RECEIVED]++;
	if (msg->type != HF_MSG_FILL || hf_msg_fill_decode(msg->data, msg->len, &v, &why) != 0) {
		w->counter[HF_STAT_BAD_MESSAGES]++;
		return;
	}
	const bool refresh = (v.hdr->req_id & HF_PENDING_ID_TAG) && w->refresh;
	if (refresh && v.hdr->rcode == HF_RCODE_SERVFAIL && !(v.hdr->flags & HF_FILL_NOSTALE)) {
		hf_refresh_failed(w, &v, now);
		return;
	}
	int inserted = hf_cache_insert(w->cfg.cache, &v, now->real_s);
	if (inserted < 0)
		w->counter[HF_STAT_CACHE_INSERT_FAIL]++;
	unsigned n = v.hdr->req_id ? hf_pending_take(refresh ? w->refresh : w->pending, v.hdr->req_id,
						     w->cookies) : 0;
	if (n == 0) {
		if (v.hdr->req_id)
			w->counter[HF_STAT_FILLS_UNCLAIMED]++;
		return;
	}
	/* Answer from the cached entry when there is one, so the first clients
	 * see the TTLs later ones will (clamped to the configured bounds). */
	const struct hf_cache_entry *e = NULL;
	if (inserted == 0) {
		struct hf_cache_key k = {
			.name = v.qname, .qtype = v.qtype, .qclass = v.qclass,
			.name_len = v.qname_len, .variant = v.hdr->variant,
		};
		e = hf_cache_lookup(w->cfg.cache, &k, hf_cache_hash(w->cfg.cache, &k));
	}
	if (e)
		hf_answer_from_entry(&a, e, now->real_s);
	else
		hf_answer_from_fill(&a, &v);
	for (unsigned i = 0; i < n; i++)
		hf_answer_waiter(w, w->cookies[i], &a, HF_EDE_OTHER, "answer did not fit");
}

static void hf_drain_fills(struct hf_worker *w, const struct hf_worker_clock *now)
{
	const struct hf_ring_msg *msgs[HF_WORKER_BURST];
	unsigned n = hf_ring_peek_burst(w->fill_ring, msgs, HF_WORKER_BURST);

	for (unsigned i = 0; i < n; i++)
		hf_fill_one(w, msgs[i], now);
	if (n)
		hf_ring_release(w->fill_ring, n);
}

static void hf_resend_cb(void *ctx, const struct hf_pending_key *k, uint32_t req_id)
{
	hf_send_miss(ctx, k, req_id);
}

static void hf_housekeeping(struct hf_worker *w, const struct hf_worker_clock *now)
{
	w->control_alive = hf_shm_peer_alive(w->cfg.shm, now->mono_ns);
	uint32_t gen = hf_shm_cp_generation(w->cfg.shm);
	if (gen != w->cp_generation) {
		/* A new control plane: what the old one took off the miss ring
		 * and never answered is lost, so ask again. */
		w->cp_generation = gen;
		hf_pending_foreach(w->pending, hf_resend_cb, w);
	}
	hf_worker_flush_stats(w);
}

unsigned hf_worker_poll(struct hf_worker *w, const struct hf_worker_clock *now)
{
	struct rte_mbuf *pkts[HF_WORKER_BURST];
	unsigned n;

	if (hf_unlikely(now->mono_ns >= w->next_housekeeping_ns)) {
		hf_housekeeping(w, now);
		w->next_housekeeping_ns = now->mono_ns + HF_HOUSEKEEPING_NS;
	}
	w->counter[HF_STAT_LOOPS]++;

	uint16_t nb = rte_eth_rx_burst(w->cfg.port_id, w->cfg.queue_id, pkts, HF_WORKER_BURST);
	if (nb > 0) {
		uint64_t start = rte_rdtsc();
		w->counter[HF_STAT_RX_PACKETS] += nb;
		hf_rx_burst(w, pkts, nb, now);
		hf_tx_flush(w);
		hf_exc_flush(w);
		w->counter[HF_STAT_BUSY_CYCLES] += rte_rdtsc() - start;
	}
	n = nb;

	if (w->cfg.has_exception) {
		/* The host's own traffic goes out through our port unchanged. */
		nb = rte_eth_rx_burst(w->cfg.exc_port_id, w->cfg.exc_queue_id, pkts, HF_WORKER_BURST);
		for (uint16_t i = 0; i < nb; i++)
			hf_tx_push(w, pkts[i]);
	}

	hf_drain_fills(w, now);
	unsigned expired;
	struct hf_pending_expired key;
	while (w->refresh &&
	       (expired = hf_pending_expire_key(w->refresh, now->mono_ns, w->cookies, &key)) > 0) {
		/* The refresh is slower than the client-response timer: stale meanwhile. */
		struct hf_answer a;
		const struct hf_cache_entry *e = hf_lookup_key(w, key.qname, key.qname_len, key.qtype,
							       key.qclass, key.variant);
		bool stale = e && now->real_s < e->stale_until;
		if (stale) {
			hf_answer_stale(w, &a, e, now->real_s, NULL, 0);
			w->counter[HF_STAT_STALE_ANSWERS] += expired - 1;
		}
		for (unsigned i = 0; i < expired; i++)
			hf_answer_waiter(w, w->cookies[i], stale ? &a : NULL, HF_EDE_OTHER, w->timeout_text);
	}
	while ((expired = hf_pending_expire(w->pending, now->mono_ns, w->cookies)) > 0) {
		for (unsigned i = 0; i < expired; i++)
			hf_answer_waiter(w, w->cookies[i], NULL, HF_EDE_OTHER, w->timeout_text);
		w->counter[HF_STAT_SERVFAIL_TIMEOUT] += expired;
	}
	hf_tx_flush(w);
	return n;
}

void hf_worker_flush_stats(struct hf_worker *w)
{
	for (unsigned i = 0; i < HF_STAT_COUNT; i++)
		atomic_store_explicit(&w->stats->counter[i], w->counter[i], memory_order_relaxed);
}

int hf_worker_main(void *arg)
{
	struct hf_worker_run *run = arg;
	struct hf_worker_clock now;

	urcu_qsbr_register_thread();
	while (!atomic_load_explicit(run->stop, memory_order_relaxed)) {
		hf_worker_clock_read(&now);
		hf_worker_poll(run->worker, &now);
		urcu_qsbr_quiescent_state();
	}
	hf_worker_flush_stats(run->worker);
	urcu_qsbr_unregister_thread();
	return 0;
}
