/*
 * The iterator: from the closest known delegation down to an answer.
 *
 * Each step first asks the cache (RFC 9520 failures, the RRset, a CNAME, a
 * negative entry), then the current delegation's servers, one at a time,
 * chosen by the infrastructure cache. A referral replaces the delegation; a
 * CNAME leading out of the zone restarts from the closest delegation of its
 * target; name servers without glue are resolved by a child request.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "include/holdfast/name.h"
#include "control/dnssec/crypto.h"
#include "control/resolver/rand.h"
#include "control/resolver/resolver_impl.h"

static void on_upstream(void *ctx, const struct hf_upstream_result *res);

static void trace(const struct hf_req *q, const char *what, const union hf_addr *a)
{
	if (!q->r->trace)
		return;
	char name[HF_NAME_TEXT_MAXLEN], zone[HF_NAME_TEXT_MAXLEN], addr[HF_ADDR_TEXT_MAX] = "";
	hf_name_to_text(q->qname, name, sizeof(name));
	hf_name_to_text(q->dp.zone, zone, sizeof(zone));
	if (a)
		hf_addr_to_text(a, addr, sizeof(addr));
	char sent[HF_NAME_TEXT_MAXLEN] = "";
	if (strncmp(what, "ask", 3) == 0)
		hf_name_to_text(q->up_name, sent, sizeof(sent));
	fprintf(stderr, "hf-iter[%u] %s %u zone %s %s %s%s%s\n", q->depth, name, q->qtype, zone, what,
		addr, sent[0] ? " for " : "", sent);
}

static void set_fail(struct hf_req *q, uint16_t ede, const char *text)
{
	q->rcode = HF_RCODE_SERVFAIL;
	q->has_ede = true;
	q->ede = ede;
	snprintf(q->ede_text, sizeof(q->ede_text), "%s", text);
}

/* Hand a child's addresses to its parent and let the parent go on. */
static void child_done(struct hf_req *c);

static void finish(struct hf_req *q)
{
	q->done = true;
	if (q->parent)
		child_done(q);
	else if (q->internal)
		q->on_done(q->done_ctx, q);
	else if (hf_val_wanted(q) && q->rcode != HF_RCODE_SERVFAIL)
		hf_val_start(q);
	else
		hf_req_complete(q);
}

static void fail(struct hf_req *q, uint16_t ede, const char *text)
{
	set_fail(q, ede, text);
	finish(q);
}

static bool add_answer(struct hf_req *q, struct hf_rrset *s)
{
	if (q->n_answer >= HF_ITER_MAX_ANSWER) {
		free(s);
		return false;
	}
	q->answer[q->n_answer++] = s;
	return true;
}

/* Fill in addresses of dp.ns[i] from the cache (glue or earlier answers). */
static void addrs_from_cache(struct hf_req *q, struct hf_dp_ns *ns)
{
	static const uint16_t types[] = { HF_TYPE_A, HF_TYPE_AAAA };
	uint64_t now = hf_resolver_now_s();
	for (unsigned t = 0; t < 2; t++) {
		struct hf_rrset *s = hf_cache_get_rrset(q->r->cache, ns->name, types[t], q->qclass, now);
		if (s == NULL)
			continue;
		for (unsigned i = 0; i < s->n_rr && ns->n_addr < HF_ITER_MAX_NS_ADDR; i++) {
			uint16_t len;
			const uint8_t *rd = hf_rrset_rdata(s, i, &len);
			union hf_addr a;
			if (hf_addr_from_rdata(&a, types[t], rd, len) != 0)
				continue;
			bool dup = false;
			for (unsigned k = 0; k < ns->n_addr; k++)
				dup |= hf_addr_equal(&ns->addr[k], &a);
			if (!dup)
				ns->addr[ns->n_addr++] = a;
		}
		free(s);
	}
}

static void dp_reset(struct hf_dp *dp, const uint8_t *zone)
{
	memset(dp, 0, sizeof(*dp));
	memcpy(dp->zone, zone, hf_name_len(zone));
	dp->round = 1;
}

static void dp_from_ns(struct hf_req *q, const struct hf_rrset *ns)
{
	dp_reset(&q->dp, ns->owner);
	for (unsigned i = 0; i < ns->n_rr && q->dp.n_ns < HF_ITER_MAX_NS; i++) {
		uint16_t len;
		const uint8_t *target = hf_rrset_rdata(ns, i, &len);
		struct hf_dp_ns *n = &q->dp.ns[q->dp.n_ns++];
		memcpy(n->name, target, len);
		hf_name_lower(n->name);
		addrs_from_cache(q, n);
	}
	q->have_dp = true;
}

static void dp_from_hints(struct hf_req *q)
{
	static const uint8_t root[1] = { 0 };
	dp_reset(&q->dp, root);
	const struct hf_hints *h = &q->r->hints;
	for (unsigned i = 0; i < h->n_ns && i < HF_ITER_MAX_NS; i++) {
		struct hf_dp_ns *n = &q->dp.ns[q->dp.n_ns++];
		memcpy(n->name, h->ns[i].name, hf_name_len(h->ns[i].name));
		for (unsigned k = 0; k < h->ns[i].n_addr && k < HF_ITER_MAX_NS_ADDR; k++)
			n->addr[n->n_addr++] = h->ns[i].addr[k];
		/* Hints are never resolved as glueless names: they are the seed. */
		n->resolve_state = 2;
	}
	q->have_dp = true;
}

/* Closest enclosing delegation in the cache; for DS, the parent side of the cut. */
static void load_dp(struct hf_req *q)
{
	const uint8_t *name = q->qname;
	if (q->qtype == HF_TYPE_DS && name[0] != 0)
		name += name[0] + 1;
	struct hf_rrset *ns = hf_cache_find_ns(q->r->cache, name, q->qclass, hf_resolver_now_s());
	if (ns == NULL) {
		dp_from_hints(q);
		return;
	}
	dp_from_ns(q, ns);
	free(ns);
}

static void tried_append(struct hf_dp *dp, const union hf_addr *a, const char *what)
{
	char addr[HF_ADDR_TEXT_MAX];
	hf_addr_to_text(a, addr, sizeof(addr));
	size_t len = strlen(dp->tried);
	if (len + 1 >= sizeof(dp->tried))
		return;
	snprintf(dp->tried + len, sizeof(dp->tried) - len, "%s%s %s", len ? ", " : "", addr, what);
}

static void fail_unreachable(struct hf_req *q)
{
	char zone[HF_NAME_TEXT_MAXLEN], text[sizeof(q->ede_text)];
	hf_name_to_text(q->dp.zone, zone, sizeof(zone));
	uint16_t ede = q->dp.any_net_error && !q->dp.any_answer_failure ? HF_EDE_NETWORK_ERROR
									   : HF_EDE_NO_REACHABLE_AUTHORITY;
	(void)hf_text_fmt(text, sizeof(text), "no server of %s answered: %s", zone,
		 q->dp.tried[0] ? q->dp.tried : "no usable address");
	fail(q, ede, text);
}

static void start_child(struct hf_req *q, int ns_index, uint16_t type);

/*
 * QNAME minimisation (RFC 9156, relaxed): below a zone, ask for one label
 * more than the zone has, type A (RFC 9156 §3), until a referral or the full
 * name; any surprise (NXDOMAIN, an error, a lame answer) makes us ask the
 * full question of this zone instead, as the relaxed mode allows.
 */
static void choose_qname(struct hf_req *q)
{
	struct hf_dp *dp = &q->dp;
	int zl = hf_name_labels(dp->zone), ql = hf_name_labels(q->qname);
	int want = dp->qmin_labels ? dp->qmin_labels : zl + 1;
	/* Skip the steps the cache already answers, as Unbound does ("we know the
	 * name exists with no cut: skip"): a cached A RRset or negative answer
	 * (NODATA, NXDOMAIN) for the minimised name means no cut there (a cut
	 * would have its NS cached, and load_dp() would have started below it).
	 * Asking it again would cost a round trip per resolution and teach
	 * nothing; the privacy of RFC 9156 is kept, as the server already saw it. */
	uint64_t now = hf_resolver_now_s();
	while (!dp->qmin_off && want < ql) {
		const uint8_t *n = q->qname;
		for (int strip = ql - want; strip > 0; strip--)
			n += n[0] + 1;
		struct hf_rrset *known = NULL;
		if (hf_cache_get_neg(q->r->cache, n, HF_TYPE_A, q->qclass, now, &known) == HF_NEG_NONE)
			known = hf_cache_get_rrset(q->r->cache, n, HF_TYPE_A, q->qclass, now);
		if (known == NULL)
			break;
		free(known);
		want++;
		dp->qmin_labels = (uint8_t)want;
	}
	q->up_min = !dp->qmin_off && dp->qmin_steps < HF_ITER_MAX_QMIN_STEPS && want < ql;
	const uint8_t *name = q->qname;
	if (q->up_min)
		for (int strip = ql - want; strip > 0; strip--)
			name += name[0] + 1;
	memcpy(q->up_name, name, hf_name_len(name));
	q->up_type = q->up_min ? HF_TYPE_A : q->qtype;
}

/* Make addr askable again in this round (after a minimised step it answered). */
static void addr_retry(struct hf_dp *dp, const union hf_addr *addr)
{
	for (unsigned i = 0; i < dp->n_ns; i++)
		for (unsigned k = 0; k < dp->ns[i].n_addr; k++)
			if (hf_addr_equal(&dp->ns[i].addr[k], addr) && dp->ns[i].tries[k] != HF_TRY_DEAD)
				dp->ns[i].tries[k] = (uint8_t)(dp->round - 1);
}

/* Pick an address to ask, or resolve a glueless NS name, or give up. */
static void ask_next(struct hf_req *q)
{
	struct hf_resolver *r = q->r;
	struct hf_dp *dp = &q->dp;
	uint64_t now_ms = hf_resolver_now_ms();

	if (q->top->n_queries >= HF_ITER_MAX_QUERIES) {
		fail(q, HF_EDE_OTHER, "query limit reached");
		return;
	}
	for (;;) {
		union hf_addr cand[HF_ITER_MAX_NS * HF_ITER_MAX_NS_ADDR];
		int idx_ns[HF_ITER_MAX_NS * HF_ITER_MAX_NS_ADDR], idx_a[HF_ITER_MAX_NS * HF_ITER_MAX_NS_ADDR];
		unsigned n = 0;
		for (unsigned i = 0; i < dp->n_ns; i++) {
			struct hf_dp_ns *ns = &dp->ns[i];
			if (ns->n_addr == 0)
				addrs_from_cache(q, ns);
			for (unsigned k = 0; k < ns->n_addr; k++) {
				if (ns->tries[k] >= dp->round)
					continue;
				if (!hf_addr_allowed(&ns->addr[k], r->cfg.allow_loopback_upstreams, r->own,
						     r->cfg.n_own_addresses)) {
					ns->tries[k] = HF_TRY_DEAD;
					tried_append(dp, &ns->addr[k], "not allowed");
					continue;
				}
				/* One address may serve several names: ask it once per round. */
				bool dup = false;
				for (unsigned c = 0; c < n; c++)
					dup |= hf_addr_equal(&cand[c], &ns->addr[k]);
				if (dup)
					continue;
				cand[n] = ns->addr[k];
				idx_ns[n] = (int)i;
				idx_a[n] = (int)k;
				n++;
			}
		}
		if (n > 0) {
			int pick = hf_infra_select(r->infra, cand, n, now_ms, hf_rand_u32());
			q->up_ns = idx_ns[pick];
			q->up_ai = idx_a[pick];
			q->up_addr = cand[pick];
			uint8_t flags = hf_infra_flags(r->infra, &q->up_addr, now_ms);
			q->up_tcp = false;
			q->up_edns = !(flags & HF_INFRA_NO_EDNS);
			/* Mark the address (and its duplicates under other names) as asked this round. */
			for (unsigned i = 0; i < dp->n_ns; i++)
				for (unsigned k = 0; k < dp->ns[i].n_addr; k++)
					if (dp->ns[i].tries[k] != HF_TRY_DEAD &&
					    hf_addr_equal(&dp->ns[i].addr[k], &q->up_addr))
						dp->ns[i].tries[k] = (uint8_t)dp->round;
			choose_qname(q);
			struct hf_upstream_query uq = {
				.to = q->up_addr,
				.qname = q->up_name,
				.qtype = q->up_type,
				.qclass = q->qclass,
				.tcp = false,
				.edns = q->up_edns,
				.use_0x20 = !(flags & HF_INFRA_NO_0X20),
				.timeout_ms = hf_infra_rto(r->infra, &q->up_addr, now_ms),
			};
			q->top->n_queries++;
			trace(q, q->up_min ? "ask minimised" : "ask", &q->up_addr);
			int ret = hf_upstream_send(r->loop, &uq, on_upstream, q, &q->up);
			if (ret == 0)
				return;
			q->up = NULL;
			dp->any_net_error = true;
			tried_append(dp, &q->up_addr, "send failed");
			continue;
		}
		/* No address left this round: find one for a glueless name first. */
		if (dp->n_resolved < HF_ITER_MAX_NS_RESOLVE && q->depth < HF_ITER_MAX_DEPTH) {
			for (unsigned i = 0; i < dp->n_ns; i++) {
				struct hf_dp_ns *ns = &dp->ns[i];
				if (ns->n_addr > 0 || ns->resolve_state >= 2)
					continue;
				/* A name inside the zone needed glue; asking for it would come back here. */
				if (hf_name_is_subdomain(ns->name, dp->zone)) {
					ns->resolve_state = 2;
					continue;
				}
				start_child(q, (int)i, ns->resolve_state == 0 ? HF_TYPE_A : HF_TYPE_AAAA);
				return;
			}
		}
		if (dp->round < HF_ITER_MAX_ROUNDS) {
			bool any = false;
			for (unsigned i = 0; i < dp->n_ns; i++)
				for (unsigned k = 0; k < dp->ns[i].n_addr; k++)
					any |= dp->ns[i].tries[k] != HF_TRY_DEAD;
			if (any) {
				dp->round++;
				continue;
			}
		}
		fail_unreachable(q);
		return;
	}
}

/*
 * A cached RRset for a request that will be validated: not one found bogus
 * (fetch it again), and not an unvalidated wildcard expansion (its proof
 * is not cached). Takes s; returns it or NULL.
 */
static struct hf_rrset *usable(const struct hf_req *q, struct hf_rrset *s)
{
	if (s == NULL || !hf_val_wanted(q->top) || q->parent)
		return s;
	/* A probe asks whether the zone validates now: fresh data, not the cache's. */
	if (q->probe && q->n_answer == 0) {
		free(s);
		return NULL;
	}
	bool ok = s->sec != HF_SEC_BOGUS;
	if (ok && s->sec == HF_SEC_UNCHECKED && s->n_sig > 0) {
		uint16_t len;
		struct hf_rrsig sig;
		const uint8_t *rd = hf_rrset_rdata(s, s->n_rr, &len);
		/* Fewer RRSIG labels than the owner has: synthesised from a wildcard. */
		if (rd && hf_rrsig_parse(rd, len, &sig) == 0 && sig.labels < hf_name_labels(s->owner))
			ok = false;
	}
	if (!ok) {
		free(s);
		return NULL;
	}
	return s;
}

void hf_iter_step(struct hf_req *q)
{
	struct hf_cache *c = q->r->cache;
	if (q->done)
		return;
	for (;;) {
		uint64_t now = hf_resolver_now_s();
		if (q->n_cname > HF_ITER_MAX_CNAME) {
			fail(q, HF_EDE_OTHER, "CNAME chain too long");
			return;
		}
		char text[sizeof(q->ede_text)];
		uint16_t ede;
		if (!q->top->probe &&
		    hf_cache_get_fail(c, q->qname, q->qtype, q->qclass, now, &ede, text, sizeof(text))) {
			/* RFC 9520: do not ask again for a while; say both what (the original
			 * EDE and text) and that it is cached (EDE 13). */
			q->cached_error = true;
			fail(q, ede, text);
			return;
		}
		/* Clients get authoritative data only; a glueless NS lookup may use glue. */
		enum hf_cache_rank min_rank = q->parent ? HF_RANK_GLUE : HF_RANK_AUTHORITY;
		struct hf_rrset *s = hf_cache_get_rrset_ranked(c, q->qname, q->qtype, q->qclass, now, min_rank);
		s = usable(q, s);
		if (s) {
			q->rcode = HF_RCODE_NOERROR;
			add_answer(q, s);
			finish(q);
			return;
		}
		if (q->qtype != HF_TYPE_CNAME) {
			s = hf_cache_get_rrset_ranked(c, q->qname, HF_TYPE_CNAME, q->qclass, now, min_rank);
			s = usable(q, s);
			if (s) {
				uint16_t len;
				const uint8_t *target = hf_rrset_rdata(s, 0, &len);
				memcpy(q->qname, target, len);
				hf_name_lower(q->qname);
				q->n_cname++;
				q->have_dp = false;
				if (!add_answer(q, s)) {
					fail(q, HF_EDE_OTHER, "CNAME chain too long");
					return;
				}
				continue;
			}
		}
		struct hf_rrset *soa = NULL;
		enum hf_neg_kind neg = hf_cache_get_neg(c, q->qname, q->qtype, q->qclass, now, &soa);
		/*
		 * Without its proofs, only a denial validated before can be given to
		 * a validating client; a zone-key fetch always needs the proofs.
		 */
		if (neg != HF_NEG_NONE &&
		    (q->internal || (hf_val_wanted(q->top) && soa->sec != HF_SEC_SECURE &&
				     soa->sec != HF_SEC_INSECURE))) {
			free(soa);
			soa = NULL;
			neg = HF_NEG_NONE;
		}
		if (neg != HF_NEG_NONE) {
			q->rcode = neg == HF_NEG_NXDOMAIN ? HF_RCODE_NXDOMAIN : HF_RCODE_NOERROR;
			q->soa = soa;
			finish(q);
			return;
		}
		break;
	}
	if (!q->have_dp)
		load_dp(q);
	ask_next(q);
}

static void cache_rrsets(struct hf_req *q, struct hf_rrset *const *sets, unsigned n,
			 enum hf_cache_rank rank)
{
	uint64_t now = hf_resolver_now_s();
	for (unsigned i = 0; i < n; i++)
		if (sets[i])
			hf_cache_put_rrset(q->r->cache, sets[i], rank, now);
}

/* Keep the response's NSEC/NSEC3 for validation (top-level and internal requests). */
static void take_proof(struct hf_req *q, struct hf_resp *resp)
{
	for (unsigned i = 0; i < resp->n_proof; i++) {
		if (q->n_proof < HF_ITER_MAX_PROOF && q->parent == NULL) {
			q->proof[q->n_proof++] = resp->proof[i];
			resp->proof[i] = NULL;
		}
	}
}

/* Move the chain out of resp into the request's answer. */
static bool take_chain(struct hf_req *q, struct hf_resp *resp)
{
	take_proof(q, resp);
	for (unsigned i = 0; i < resp->n_chain; i++) {
		if (resp->chain[i]->type == HF_TYPE_CNAME)
			q->n_cname++;
		struct hf_rrset *s = resp->chain[i];
		resp->chain[i] = NULL;
		if (!add_answer(q, s))
			return false;
	}
	resp->n_chain = 0;
	return true;
}

/* A referral: remember the cut and its glue, and descend (takes resp). */
static void follow_referral(struct hf_req *q, struct hf_resp *rp)
{
	struct hf_dp *dp = &q->dp;
	if (++q->n_referrals > HF_ITER_MAX_REFERRALS) {
		hf_resp_clear(rp);
		fail(q, HF_EDE_OTHER, "too many referrals");
		return;
	}
	/* Referral NS and glue come from the parent, not the zone itself: lowest trust. */
	cache_rrsets(q, &rp->ns, 1, HF_RANK_GLUE);
	cache_rrsets(q, rp->glue, rp->n_glue, HF_RANK_GLUE);
	/* The DS is the parent's own data (RFC 4035 §2.4), signed by it: authoritative. */
	cache_rrsets(q, &rp->ds, 1, HF_RANK_AUTHORITY);
	dp_from_ns(q, rp->ns);
	/* Glue straight from the message too, in case the cache could not keep it (TTL 0). */
	for (unsigned g = 0; g < rp->n_glue; g++) {
		const struct hf_rrset *gs = rp->glue[g];
		for (unsigned i = 0; i < dp->n_ns; i++) {
			struct hf_dp_ns *n = &dp->ns[i];
			if (!hf_name_equal(n->name, gs->owner))
				continue;
			for (unsigned k = 0; k < gs->n_rr && n->n_addr < HF_ITER_MAX_NS_ADDR; k++) {
				uint16_t len;
				const uint8_t *rd = hf_rrset_rdata(gs, k, &len);
				union hf_addr a;
				bool dup = false;
				if (hf_addr_from_rdata(&a, gs->type, rd, len) != 0)
					continue;
				for (unsigned d = 0; d < n->n_addr; d++)
					dup |= hf_addr_equal(&n->addr[d], &a);
				if (!dup)
					n->addr[n->n_addr++] = a;
			}
		}
	}
	hf_resp_clear(rp);
	hf_iter_step(q);
}

/* The answer to a minimised query: a referral, or a step further down, or give up minimising. */
static void handle_min_response(struct hf_req *q, const struct hf_pkt *pkt)
{
	struct hf_dp *dp = &q->dp;
	struct hf_resp resp;
	if (hf_resp_classify(pkt, dp->zone, q->up_name, q->up_type, q->qclass, &resp) != 0) {
		hf_resp_clear(&resp);
		fail(q, HF_EDE_OTHER, "out of memory");
		return;
	}
	trace(q, hf_resp_kind_str(resp.kind), &q->up_addr);
	/* Keep what the answer taught, as for a full question: the next
	 * resolution below this name skips the step (choose_qname()). */
	enum hf_cache_rank rank = (pkt->flags & HF_FLAG_AA) ? HF_RANK_ANSWER : HF_RANK_GLUE;
	uint64_t now = hf_resolver_now_s();
	if (resp.kind == HF_RESP_ANSWER || resp.kind == HF_RESP_NODATA || resp.kind == HF_RESP_CNAME ||
	    resp.kind == HF_RESP_NXDOMAIN)
		cache_rrsets(q, resp.chain, resp.n_chain, rank);
	if (resp.kind == HF_RESP_ANSWER)
		cache_rrsets(q, &resp.answer, 1, rank);
	if ((resp.kind == HF_RESP_NODATA || resp.kind == HF_RESP_NXDOMAIN) && resp.soa)
		hf_cache_put_neg(q->r->cache, resp.kind == HF_RESP_NXDOMAIN ? HF_NEG_NXDOMAIN : HF_NEG_NODATA,
				 resp.next_name, q->up_type, q->qclass, resp.soa, now);
	switch (resp.kind) {
	case HF_RESP_REFERRAL:
		follow_referral(q, &resp);
		return;
	case HF_RESP_ANSWER:
	case HF_RESP_NODATA:
	case HF_RESP_CNAME:
		/* No cut at this name: one label more, same servers. */
		dp->qmin_labels = (uint8_t)(hf_name_labels(q->up_name) + 1);
		dp->qmin_steps++;
		break;
	default:
		/* NXDOMAIN for an ancestor, errors, lame: relaxed mode asks the full name. */
		dp->qmin_off = true;
		break;
	}
	hf_resp_clear(&resp);
	addr_retry(dp, &q->up_addr);
	ask_next(q);
}

static void handle_response(struct hf_req *q, const struct hf_pkt *pkt)
{
	struct hf_resolver *r = q->r;
	struct hf_dp *dp = &q->dp;
	struct hf_dp_ns *ns = &dp->ns[q->up_ns];
	struct hf_resp resp;
	uint64_t now = hf_resolver_now_s();

	/* FORMERR to a query with EDNS and no OPT back: a pre-EDNS server (RFC 6891 §7). */
	if (hf_pkt_rcode(pkt) == HF_RCODE_FORMERR && q->up_edns && !pkt->edns.present) {
		hf_infra_set_flags(r->infra, &q->up_addr, HF_INFRA_NO_EDNS, hf_resolver_now_ms());
		ns->tries[q->up_ai] = 0;
		ask_next(q);
		return;
	}
	if (q->up_min) {
		handle_min_response(q, pkt);
		return;
	}
	if (hf_resp_classify(pkt, dp->zone, q->qname, q->qtype, q->qclass, &resp) != 0) {
		hf_resp_clear(&resp);
		fail(q, HF_EDE_OTHER, "out of memory");
		return;
	}
	enum hf_cache_rank rank = (pkt->flags & HF_FLAG_AA) ? HF_RANK_ANSWER : HF_RANK_GLUE;
	trace(q, hf_resp_kind_str(resp.kind), &q->up_addr);
	switch (resp.kind) {
	case HF_RESP_ERROR:
	case HF_RESP_LAME: {
		char what[32];
		if (resp.kind == HF_RESP_ERROR)
			snprintf(what, sizeof(what), "rcode %u", hf_pkt_rcode(pkt));
		else
			snprintf(what, sizeof(what), "lame");
		ns->tries[q->up_ai] = HF_TRY_DEAD;
		dp->any_answer_failure = true;
		tried_append(dp, &q->up_addr, what);
		hf_resp_clear(&resp);
		ask_next(q);
		return;
	}
	case HF_RESP_ANSWER:
		cache_rrsets(q, resp.chain, resp.n_chain, rank);
		cache_rrsets(q, &resp.answer, 1, rank);
		if (!take_chain(q, &resp))
			goto chain_too_long;
		add_answer(q, resp.answer);
		resp.answer = NULL;
		q->rcode = HF_RCODE_NOERROR;
		hf_resp_clear(&resp);
		finish(q);
		return;
	case HF_RESP_CNAME:
		cache_rrsets(q, resp.chain, resp.n_chain, rank);
		if (!take_chain(q, &resp))
			goto chain_too_long;
		memcpy(q->qname, resp.next_name, hf_name_len(resp.next_name));
		q->have_dp = false;
		hf_resp_clear(&resp);
		hf_iter_step(q);
		return;
	case HF_RESP_NXDOMAIN:
	case HF_RESP_NODATA:
		cache_rrsets(q, resp.chain, resp.n_chain, rank);
		if (resp.soa)
			hf_cache_put_neg(r->cache, resp.kind == HF_RESP_NXDOMAIN ? HF_NEG_NXDOMAIN : HF_NEG_NODATA,
					 resp.next_name, q->qtype, q->qclass, resp.soa, now);
		if (!take_chain(q, &resp))
			goto chain_too_long;
		q->rcode = resp.kind == HF_RESP_NXDOMAIN ? HF_RCODE_NXDOMAIN : HF_RCODE_NOERROR;
		q->soa = resp.soa;
		resp.soa = NULL;
		hf_resp_clear(&resp);
		finish(q);
		return;
	case HF_RESP_REFERRAL:
		follow_referral(q, &resp);
		return;
	}
	hf_resp_clear(&resp);
	return;

chain_too_long:
	hf_resp_clear(&resp);
	fail(q, HF_EDE_OTHER, "CNAME chain too long");
}

static void on_upstream(void *ctx, const struct hf_upstream_result *res)
{
	struct hf_req *q = ctx;
	struct hf_resolver *r = q->r;
	struct hf_dp *dp = &q->dp;
	struct hf_dp_ns *ns = &dp->ns[q->up_ns];
	uint64_t now_ms = hf_resolver_now_ms();
	q->up = NULL;

	if (res->status != 0) {
		const char *what;
		if (res->status == -ETIMEDOUT) {
			what = "timeout";
			hf_infra_timeout(r->infra, &q->up_addr, now_ms);
			dp->any_answer_failure = true;
			/* Answers came, but with the wrong case: the server breaks 0x20. */
			if (res->n_case_mismatch > 0) {
				hf_infra_set_flags(r->infra, &q->up_addr, HF_INFRA_NO_0X20, now_ms);
				ns->tries[q->up_ai] = 0;
			}
		} else if (res->status == -ECONNREFUSED) {
			what = "refused";
			hf_infra_timeout(r->infra, &q->up_addr, now_ms);
			ns->tries[q->up_ai] = HF_TRY_DEAD;
			dp->any_answer_failure = true;
		} else {
			what = "network error";
			ns->tries[q->up_ai] = HF_TRY_DEAD;
			dp->any_net_error = true;
		}
		char w[64];
		snprintf(w, sizeof(w), "%s%s", what, q->up_tcp ? " (tcp)" : "");
		tried_append(dp, &q->up_addr, w);
		trace(q, w, &q->up_addr);
		ask_next(q);
		return;
	}
	if (!q->up_tcp)
		hf_infra_rtt(r->infra, &q->up_addr, res->rtt_ms, now_ms);
	if ((res->pkt->flags & HF_FLAG_TC) && !q->up_tcp) {
		/* Truncated: the same server over TCP (RFC 7766 §5). */
		struct hf_upstream_query uq = {
			.to = q->up_addr,
			.qname = q->up_name,
			.qtype = q->up_type,
			.qclass = q->qclass,
			.tcp = true,
			.edns = q->up_edns,
			.use_0x20 = false,
			.timeout_ms = 2 * hf_infra_rto(r->infra, &q->up_addr, now_ms) + 200,
		};
		q->up_tcp = true;
		q->top->n_queries++;
		trace(q, "truncated, tcp", &q->up_addr);
		if (hf_upstream_send(r->loop, &uq, on_upstream, q, &q->up) == 0)
			return;
		q->up = NULL;
		ns->tries[q->up_ai] = HF_TRY_DEAD;
		dp->any_net_error = true;
		tried_append(dp, &q->up_addr, "tcp failed");
		ask_next(q);
		return;
	}
	handle_response(q, res->pkt);
}

/* ---- glueless name servers ---- */

static void start_child(struct hf_req *q, int ns_index, uint16_t type)
{
	struct hf_dp_ns *ns = &q->dp.ns[ns_index];
	ns->resolve_state++;
	q->dp.n_resolved++;
	struct hf_req *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		fail(q, HF_EDE_OTHER, "out of memory");
		return;
	}
	c->r = q->r;
	c->parent = q;
	c->top = q->top;
	c->depth = q->depth + 1;
	c->qclass = q->qclass;
	c->qtype = c->orig_qtype = type;
	memcpy(c->qname, ns->name, hf_name_len(ns->name));
	memcpy(c->orig_qname, ns->name, hf_name_len(ns->name));
	q->child = c;
	q->child_ns = ns_index;
	trace(q, type == HF_TYPE_A ? "resolve NS name A" : "resolve NS name AAAA", NULL);
	hf_iter_step(c);
}

static void child_done(struct hf_req *c)
{
	struct hf_req *q = c->parent;
	struct hf_dp_ns *ns = &q->dp.ns[q->child_ns];
	/* The last RRset of the answer is of the asked type (the rest is the CNAME chain). */
	if (c->rcode == HF_RCODE_NOERROR && c->n_answer > 0) {
		const struct hf_rrset *s = c->answer[c->n_answer - 1];
		for (unsigned k = 0; k < s->n_rr && ns->n_addr < HF_ITER_MAX_NS_ADDR; k++) {
			uint16_t len;
			const uint8_t *rd = hf_rrset_rdata(s, k, &len);
			union hf_addr a;
			if (s->type == c->qtype && hf_addr_from_rdata(&a, s->type, rd, len) == 0)
				ns->addr[ns->n_addr++] = a;
		}
	}
	q->child = NULL;
	c->parent = NULL;
	hf_iter_release(c);
	free(c);
	ask_next(q);
}

void hf_iter_release(struct hf_req *q)
{
	hf_val_cancel(q);
	if (q->up) {
		hf_upstream_cancel(q->up);
		q->up = NULL;
	}
	if (q->child) {
		struct hf_req *c = q->child;
		q->child = NULL;
		c->done = true;
		hf_iter_release(c);
		free(c);
	}
	for (unsigned i = 0; i < q->n_answer; i++)
		free(q->answer[i]);
	q->n_answer = 0;
	free(q->soa);
	q->soa = NULL;
	for (unsigned i = 0; i < q->n_proof; i++)
		free(q->proof[i]);
	q->n_proof = 0;
}
