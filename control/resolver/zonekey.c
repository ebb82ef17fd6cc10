/*
 * Zone keys: the trusted DNSKEY set of a zone, or proof that it is
 * insecure, or why neither could be had (validate.h, "zone keys").
 *
 * An entry per zone in a small hash table. While an entry is being fetched
 * it holds a struct fetch, which walks these stages:
 *
 *   START      the closest trust anchor: none → INSECURE; the zone is the
 *              anchor → KEYS; else → DS
 *   DS         an internal request for zone/DS (asked of the parent's servers)
 *   PARENT     the key state of the zone that answered it (the DS RRSIG's
 *              signer, or the SOA owner of "no DS"), by the same machinery;
 *              insecure or failed parents end here
 *   DS_CHECK   the DS RRset against the parent's keys
 *   NODS_CHECK or, with no DS: the NSEC/NSEC3 RRsets against the parent's
 *              keys, then the denial proof → INSECURE (or BOGUS, EDE 12)
 *   KEYS       an internal request for zone/DNSKEY; keep the keys that match
 *              a DS (or equal an anchor DNSKEY)
 *   KEYS_CHECK the DNSKEY RRset signed by one of those keys → SECURE
 *
 * Every step that waits (a request, a parent, a signature) resumes on the
 * resolver's loop through r->zkey_kick, never inside the iterator or the
 * verifier's callback, so a fetch never re-enters itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "include/holdfast/name.h"
#include "control/dnssec/crypto.h"
#include "control/dnssec/denial.h"
#include "control/resolver/resolver_impl.h"

#define ZKEY_MAX_ENTRIES 8192
#define ZKEY_INSECURE_TTL 3600u   /*!< seconds: no anchor above the zone */

enum stage {
	ST_START,
	ST_DS,
	ST_DS_GOT,
	ST_PARENT,
	ST_DS_CHECK,
	ST_NODS_CHECK,
	ST_KEYS,
	ST_KEYS_GOT,
	ST_KEYS_CHECK,
};

struct fetch {
	enum stage stage;
	bool waiting;
	struct hf_req *req;            /*!< internal request in flight */
	struct hf_req *ds_req;         /*!< the finished DS request */
	struct hf_req *key_req;        /*!< the finished DNSKEY request */
	const struct hf_anchor *anchor;
	uint8_t parent[HF_NAME_MAXLEN];
	struct hf_zwait pw;
	struct hf_zstate pst;          /*!< the parent's state */
	struct hf_sigcheck sc;
	struct hf_verdict sc_v;
	unsigned proof_i;
	const struct hf_rrset *ds;     /*!< anchor's DS or the DS request's answer */
	struct hf_rrset *trusted;      /*!< DNSKEYs that match a DS or an anchor */
	uint32_t ttl;
};

struct hf_zkey {
	struct hf_resolver *r;
	struct hf_zkey *hnext;
	struct hf_zkey *kick_next;
	bool kicked;
	uint8_t zone[HF_NAME_MAXLEN];
	struct hf_verdict v;
	struct hf_rrset *dnskey;
	uint64_t expire;
	struct hf_zwait *waiters;
	struct fetch *f;
};

static size_t bucket_of(const uint8_t *zone)
{
	/* FNV-1a over the lower-case name: few zones, no adversary choosing them cheaply. */
	uint32_t h = 2166136261u;
	for (size_t i = 0, n = hf_name_len(zone); i < n; i++) {
		uint8_t c = zone[i];
		if (c >= 'A' && c <= 'Z')
			c += 32;
		h = (h ^ c) * 16777619u;
	}
	return h & (HF_ZKEY_BUCKETS - 1);
}

int hf_zkeys_init(struct hf_resolver *r)
{
	r->zkeys = calloc(HF_ZKEY_BUCKETS, sizeof(*r->zkeys));
	r->zkey_kick = malloc(sizeof(*r->zkey_kick));
	if (r->zkeys == NULL || r->zkey_kick == NULL)
		goto err_free;
	int ret = uv_timer_init(r->loop, r->zkey_kick);
	if (ret < 0)
		goto err_free;
	r->zkey_kick->data = r;
	return 0;

err_free:
	free(r->zkeys);
	free(r->zkey_kick);
	r->zkeys = NULL;
	r->zkey_kick = NULL;
	return -ENOMEM;
}

static void fetch_free(struct hf_zkey *zk)
{
	struct fetch *f = zk->f;
	if (f == NULL)
		return;
	hf_sigcheck_cancel(&f->sc);
	hf_zkey_unwait(&f->pw);
	free(f->pst.dnskey);
	if (f->req)
		hf_req_internal_free(f->req);
	if (f->ds_req)
		hf_req_internal_free(f->ds_req);
	if (f->key_req)
		hf_req_internal_free(f->key_req);
	free(f->trusted);
	free(f);
	zk->f = NULL;
}

static void kick_remove(struct hf_zkey *zk)
{
	if (!zk->kicked)
		return;
	for (struct hf_zkey **pp = &zk->r->zkey_starting; *pp; pp = &(*pp)->kick_next)
		if (*pp == zk) {
			*pp = zk->kick_next;
			break;
		}
	zk->kicked = false;
}

static void entry_free(struct hf_zkey *zk)
{
	kick_remove(zk);
	fetch_free(zk);
	for (struct hf_zwait *w = zk->waiters; w; w = w->next)
		w->zk = NULL;
	free(zk->dnskey);
	free(zk);
}

static void on_kick_closed(uv_handle_t *h)
{
	free(h);  /* outlives the resolver: closing completes on a later loop turn */
}

void hf_zkeys_destroy(struct hf_resolver *r)
{
	if (r->zkeys == NULL)
		return;
	for (size_t b = 0; b < HF_ZKEY_BUCKETS; b++)
		while (r->zkeys[b]) {
			struct hf_zkey *zk = r->zkeys[b];
			r->zkeys[b] = zk->hnext;
			entry_free(zk);
		}
	free(r->zkeys);
	r->zkeys = NULL;
	r->n_zkeys = 0;
	if (r->zkey_kick) {
		uv_close((uv_handle_t *)r->zkey_kick, on_kick_closed);
		r->zkey_kick = NULL;
	}
}

void hf_zkeys_flush(struct hf_resolver *r, const uint8_t *name)
{
	if (r->zkeys == NULL)
		return;
	for (size_t b = 0; b < HF_ZKEY_BUCKETS; b++)
		for (struct hf_zkey **pp = &r->zkeys[b]; *pp;) {
			struct hf_zkey *zk = *pp;
			/* Entries being fetched or waited on finish first; their results are short-lived anyway. */
			if (hf_name_is_subdomain(zk->zone, name) && zk->f == NULL && zk->waiters == NULL &&
			    !zk->kicked) {
				*pp = zk->hnext;
				r->n_zkeys--;
				entry_free(zk);
				continue;
			}
			pp = &zk->hnext;
		}
}

static void on_kick(uv_timer_t *t);

static void schedule(struct hf_zkey *zk)
{
	struct hf_resolver *r = zk->r;
	if (!zk->kicked) {
		zk->kicked = true;
		zk->kick_next = r->zkey_starting;
		r->zkey_starting = zk;
	}
	uv_timer_start(r->zkey_kick, on_kick, 0, 0);
}

static void fill_state(const struct hf_zkey *zk, struct hf_zstate *st)
{
	st->v = zk->v;
	st->dnskey = NULL;
	if (zk->v.sec == HF_SEC_SECURE && zk->dnskey) {
		st->dnskey = hf_rrset_dup(zk->dnskey);
		if (st->dnskey == NULL)
			hf_verdict_set(&st->v, HF_SEC_INDETERMINATE, HF_EDE_OTHER, "out of memory");
	}
}

/* The fetch is over: record, tell every waiter. */
static void conclude(struct hf_zkey *zk, const struct hf_verdict *v, struct hf_rrset *dnskey,
		     uint32_t ttl)
{
	zk->v = *v;
	free(zk->dnskey);
	zk->dnskey = dnskey;
	if (v->sec != HF_SEC_SECURE && v->sec != HF_SEC_INSECURE)
		ttl = HF_VAL_BOGUS_TTL_S;
	zk->expire = hf_resolver_now_s() + ttl;
	fetch_free(zk);
	if (zk->r->trace) {
		char zone[HF_NAME_TEXT_MAXLEN];
		static const char *const names[] = { "unchecked", "insecure", "secure", "bogus", "indeterminate" };
		hf_name_to_text(zk->zone, zone, sizeof(zone));
		fprintf(stderr, "hf-val zone %s keys %s%s%s\n", zone, names[v->sec % 5],
			v->text[0] ? ": " : "", v->text);
	}
	struct hf_zwait *w;
	while ((w = zk->waiters) != NULL) {
		zk->waiters = w->next;
		w->zk = NULL;
		w->next = NULL;
		struct hf_zstate st;
		fill_state(zk, &st);
		w->cb(w->ctx, &st);
	}
}

static void advance(struct hf_zkey *zk);

static void on_req_done(void *ctx, struct hf_req *q)
{
	struct hf_zkey *zk = ctx;
	struct fetch *f = zk->f;
	f->req = NULL;
	if (f->stage == ST_DS)
		f->ds_req = q;
	else
		f->key_req = q;
	f->stage++;
	f->waiting = false;
	schedule(zk);
}

static void on_parent(void *ctx, struct hf_zstate *st)
{
	struct hf_zkey *zk = ctx;
	struct fetch *f = zk->f;
	f->pst = *st;
	f->waiting = false;
	schedule(zk);
}

static void on_sigcheck(void *ctx, const struct hf_verdict *v, unsigned labels)
{
	(void)labels;
	struct hf_zkey *zk = ctx;
	struct fetch *f = zk->f;
	f->sc_v = *v;
	f->waiting = false;
	schedule(zk);
}

static void on_kick(uv_timer_t *t)
{
	struct hf_resolver *r = t->data;
	struct hf_zkey *list = r->zkey_starting;
	r->zkey_starting = NULL;
	/*
	 * Entries stay "kicked" while on this local list: schedule() leaves them
	 * here, and prune()/flush skip them, so none is freed under our feet.
	 */
	while (list) {
		struct hf_zkey *zk = list;
		list = zk->kick_next;
		zk->kick_next = NULL;
		zk->kicked = false;
		if (zk->f && !zk->f->waiting)
			advance(zk);
	}
}

static void start_req(struct hf_zkey *zk, uint16_t type)
{
	struct fetch *f = zk->f;
	f->waiting = true;
	struct hf_req *q = hf_req_internal(zk->r, zk->zone, type, HF_CLASS_IN, on_req_done, zk);
	if (q == NULL) {
		struct hf_verdict v;
		f->waiting = false;
		hf_verdict_set(&v, HF_SEC_INDETERMINATE, HF_EDE_OTHER, "out of memory");
		conclude(zk, &v, NULL, 0);
		return;
	}
	if (f->waiting)
		f->req = q;
}

/* A failed request: its EDE (22, 23, ...) is the truth about the chain of trust. */
static void conclude_req_failed(struct hf_zkey *zk, const struct hf_req *q, const char *what)
{
	struct hf_verdict v;
	char rr[HF_NAME_TEXT_MAXLEN + 16];
	hf_val_rrname(zk->zone, q->orig_qtype, rr, sizeof(rr));
	hf_verdict_set(&v, HF_SEC_INDETERMINATE, q->has_ede ? q->ede : HF_EDE_DNSSEC_INDETERMINATE,
		       "%s %s: %s", what, rr, q->has_ede ? q->ede_text : "resolution failed");
	conclude(zk, &v, NULL, 0);
}

/* The zone that answered the DS question: the RRSIG signer, the SOA owner, or the cut above. */
static void find_parent(struct hf_zkey *zk, const struct hf_req *q)
{
	struct fetch *f = zk->f;
	const uint8_t *up = zk->zone + zk->zone[0] + 1;
	const struct hf_rrset *s = q->n_answer ? q->answer[q->n_answer - 1] : q->soa;
	if (s == NULL && q->n_proof > 0)
		s = q->proof[0];
	if (s) {
		for (unsigned i = 0; i < s->n_sig; i++) {
			uint16_t len;
			const uint8_t *rd = hf_rrset_rdata(s, s->n_rr + i, &len);
			struct hf_rrsig sig;
			if (hf_rrsig_parse(rd, len, &sig) == 0 && hf_name_is_subdomain(up, sig.signer) &&
			    hf_name_is_subdomain(sig.signer, f->anchor->zone)) {
				memcpy(f->parent, sig.signer, hf_name_len(sig.signer));
				return;
			}
		}
	}
	if (q->soa && hf_name_is_subdomain(up, q->soa->owner) &&
	    hf_name_is_subdomain(q->soa->owner, f->anchor->zone)) {
		memcpy(f->parent, q->soa->owner, hf_name_len(q->soa->owner));
		return;
	}
	struct hf_rrset *ns = hf_cache_find_ns(zk->r->cache, up, HF_CLASS_IN, hf_resolver_now_s());
	const uint8_t *p = ns && hf_name_is_subdomain(ns->owner, f->anchor->zone) ? ns->owner
										 : f->anchor->zone;
	memcpy(f->parent, p, hf_name_len(p));
	free(ns);
}

/*
 * RFC 4035 §5.2: a zone whose DS records all name algorithms or digests we
 * cannot use is treated as insecure (and the answer says why: EDE 1 or 2).
 * Returns false (and concludes) in that case.
 */
static bool ds_usable(struct hf_zkey *zk)
{
	struct fetch *f = zk->f;
	if (f->ds == NULL)
		return true;  /* an anchor given as DNSKEY only */
	unsigned bad_digest = 0, bad_alg = 0;
	uint8_t digest = 0, alg = 0;
	for (unsigned d = 0; d < f->ds->n_rr; d++) {
		uint16_t dlen;
		const uint8_t *drd = hf_rrset_rdata(f->ds, d, &dlen);
		if (dlen < 4)
			continue;
		if (!hf_alg_supported(drd[2])) {
			bad_alg++;
			alg = drd[2];
		} else if (!hf_ds_digest_supported(drd[3])) {
			bad_digest++;
			digest = drd[3];
		} else {
			return true;
		}
	}
	struct hf_verdict v;
	char zone[HF_NAME_TEXT_MAXLEN], name[16];
	hf_name_to_text(zk->zone, zone, sizeof(zone));
	if (bad_alg > 0)
		hf_verdict_set(&v, HF_SEC_INSECURE, HF_EDE_UNSUPPORTED_DNSKEY_ALG,
			       "DS of %s names unsupported algorithm %s", zone,
			       hf_alg_name(alg, name, sizeof(name)));
	else if (bad_digest > 0)
		hf_verdict_set(&v, HF_SEC_INSECURE, HF_EDE_UNSUPPORTED_DS_DIGEST,
			       "DS of %s uses unsupported digest type %u", zone, digest);
	else
		return true;  /* only malformed DS records: pick_trusted() finds no match */
	conclude(zk, &v, NULL, f->ttl);
	return false;
}

/* Keep the DNSKEYs a DS or an anchor vouches for. Returns false (and concludes) if none. */
static bool pick_trusted(struct hf_zkey *zk, const struct hf_rrset *keys)
{
	struct fetch *f = zk->f;
	struct hf_verdict v;
	char zone[HF_NAME_TEXT_MAXLEN], alg[16];
	hf_name_to_text(zk->zone, zone, sizeof(zone));
	f->trusted = calloc(1, sizeof(*f->trusted) + keys->len);
	if (f->trusted == NULL) {
		hf_verdict_set(&v, HF_SEC_INDETERMINATE, HF_EDE_OTHER, "out of memory");
		conclude(zk, &v, NULL, 0);
		return false;
	}
	memcpy(f->trusted, keys, sizeof(*keys));
	f->trusted->n_rr = 0;
	f->trusted->n_sig = 0;
	f->trusted->len = 0;
	const struct hf_rrset *anchor_keys = f->anchor && hf_name_equal(f->anchor->zone, zk->zone)
						     ? f->anchor->dnskey : NULL;
	for (unsigned i = 0; i < keys->n_rr; i++) {
		uint16_t klen;
		const uint8_t *krd = hf_rrset_rdata(keys, i, &klen);
		bool ok = false;
		for (unsigned a = 0; anchor_keys && a < anchor_keys->n_rr && !ok; a++) {
			uint16_t alen;
			const uint8_t *ard = hf_rrset_rdata(anchor_keys, a, &alen);
			ok = alen == klen && memcmp(ard, krd, klen) == 0;
		}
		for (unsigned d = 0; f->ds && d < f->ds->n_rr && !ok; d++) {
			uint16_t dlen;
			const uint8_t *drd = hf_rrset_rdata(f->ds, d, &dlen);
			ok = hf_ds_match(zk->zone, drd, dlen, krd, klen) == 0;
		}
		if (!ok)
			continue;
		uint8_t *dst = f->trusted->data + f->trusted->len;
		memcpy(dst, &klen, sizeof(klen));  /* host order: see rrset.h */
		memcpy(dst + 2, krd, klen);
		f->trusted->len += 2u + klen;
		f->trusted->n_rr++;
	}
	if (f->trusted->n_rr > 0)
		return true;
	uint16_t tag = 0;
	uint8_t first_alg = 0;
	uint16_t dlen;
	const uint8_t *drd = f->ds ? hf_rrset_rdata(f->ds, 0, &dlen) : NULL;
	if (drd && dlen >= 4) {
		tag = (uint16_t)(drd[0] << 8 | drd[1]);
		first_alg = drd[2];
	}
	if (drd)
		hf_verdict_set(&v, HF_SEC_BOGUS, HF_EDE_DNSKEY_MISSING,
			       "no DNSKEY of %s matches its DS (keytag=%u, %s)", zone, tag,
			       hf_alg_name(first_alg, alg, sizeof(alg)));
	else
		hf_verdict_set(&v, HF_SEC_BOGUS, HF_EDE_DNSKEY_MISSING,
			       "no DNSKEY of %s matches its trust anchor", zone);
	conclude(zk, &v, NULL, 0);
	return false;
}

/* The parent's "no DS": NSEC/NSEC3 checked one by one, then the proof. */
static void nods_check(struct hf_zkey *zk)
{
	struct fetch *f = zk->f;
	const struct hf_req *q = f->ds_req;
	struct hf_verdict v;
	char zone[HF_NAME_TEXT_MAXLEN], parent[HF_NAME_TEXT_MAXLEN];
	hf_name_to_text(zk->zone, zone, sizeof(zone));
	hf_name_to_text(f->parent, parent, sizeof(parent));
	if (f->proof_i > 0 && f->sc_v.sec != HF_SEC_SECURE) {
		conclude(zk, &f->sc_v, NULL, 0);
		return;
	}
	/* Only the parent's records can prove anything about its delegation. */
	while (f->proof_i < q->n_proof && !hf_name_is_subdomain(q->proof[f->proof_i]->owner, f->parent))
		f->proof_i++;
	if (f->proof_i < q->n_proof) {
		f->waiting = true;
		const struct hf_rrset *p = q->proof[f->proof_i++];
		hf_sigcheck_start(&f->sc, zk->r, p, f->parent, f->pst.dnskey, on_sigcheck, zk);
		return;
	}
	const struct hf_rrset *sets[HF_ITER_MAX_PROOF];
	unsigned n = 0;
	for (unsigned i = 0; i < q->n_proof; i++)
		if (hf_name_is_subdomain(q->proof[i]->owner, f->parent))
			sets[n++] = q->proof[i];
	if (n == 0) {
		hf_verdict_set(&v, HF_SEC_BOGUS, HF_EDE_NSEC_MISSING,
			       "no NSEC/NSEC3 from %s proves that %s has no DS", parent, zone);
		conclude(zk, &v, NULL, 0);
		return;
	}
	struct hf_denial_in in = { .zone = f->parent, .sets = sets, .n = n };
	char why[160] = "";
	enum hf_denial d = q->rcode == HF_RCODE_NXDOMAIN ? hf_denial_nxdomain(&in, zk->zone, why, sizeof(why))
							  : hf_denial_no_ds(&in, zk->zone, why, sizeof(why));
	uint32_t ttl = q->soa ? hf_soa_neg_ttl(q->soa) : HF_VAL_BOGUS_TTL_S;
	switch (d) {
	case HF_DENIAL_PROVEN:
	case HF_DENIAL_OPTOUT:
		hf_verdict_set(&v, HF_SEC_INSECURE, -1, "%s has no DS in %s", zone, parent);
		conclude(zk, &v, NULL, ttl);
		return;
	case HF_DENIAL_ITERATIONS:
		hf_verdict_set(&v, HF_SEC_INSECURE, HF_EDE_NSEC3_ITERATIONS,
			       "NSEC3 of %s uses more iterations than %u: %s treated as insecure", parent,
			       HF_NSEC3_MAX_ITERATIONS, zone);
		conclude(zk, &v, NULL, ttl);
		return;
	case HF_DENIAL_ERROR:
		hf_verdict_set(&v, HF_SEC_INDETERMINATE, HF_EDE_OTHER, "could not check that %s has no DS: %s",
			       zone, why);
		conclude(zk, &v, NULL, 0);
		return;
	case HF_DENIAL_MISSING:
		break;
	}
	hf_verdict_set(&v, HF_SEC_BOGUS, HF_EDE_NSEC_MISSING, "no proof that %s has no DS: %s", zone, why);
	conclude(zk, &v, NULL, 0);
}

static const struct hf_rrset *answer_of(const struct hf_req *q, uint16_t type)
{
	if (q->rcode != HF_RCODE_NOERROR || q->n_answer == 0)
		return NULL;
	const struct hf_rrset *s = q->answer[q->n_answer - 1];
	return s->type == type ? s : NULL;
}

static void advance(struct hf_zkey *zk)
{
	struct hf_verdict v;
	char zone[HF_NAME_TEXT_MAXLEN];
	hf_name_to_text(zk->zone, zone, sizeof(zone));
	while (zk->f && !zk->f->waiting) {
		struct fetch *f = zk->f;
		switch (f->stage) {
		case ST_START:
			f->anchor = hf_anchors_find(&zk->r->anchors, zk->zone);
			if (f->anchor == NULL) {
				hf_verdict_set(&v, HF_SEC_INSECURE, -1, "no trust anchor above %s", zone);
				conclude(zk, &v, NULL, ZKEY_INSECURE_TTL);
				return;
			}
			if (hf_name_equal(f->anchor->zone, zk->zone)) {
				f->ds = f->anchor->ds;
				f->ttl = HF_CACHE_MAX_TTL;
				f->stage = ST_KEYS;
				if (!ds_usable(zk))
					return;
				continue;
			}
			f->stage = ST_DS;
			start_req(zk, HF_TYPE_DS);
			continue;
		case ST_DS:
		case ST_KEYS:
			start_req(zk, f->stage == ST_DS ? HF_TYPE_DS : HF_TYPE_DNSKEY);
			continue;
		case ST_DS_GOT: {
			const struct hf_req *q = f->ds_req;
			if (q->rcode != HF_RCODE_NOERROR && q->rcode != HF_RCODE_NXDOMAIN) {
				conclude_req_failed(zk, q, "no answer for");
				return;
			}
			f->ds = answer_of(q, HF_TYPE_DS);
			find_parent(zk, q);
			f->stage = ST_PARENT;
			f->waiting = true;
			int ret = hf_zkey_get(zk->r, f->parent, &f->pw, on_parent, zk, &f->pst);
			if (ret != 0)
				f->waiting = false;
			if (ret < 0) {
				hf_verdict_set(&v, HF_SEC_INDETERMINATE, HF_EDE_OTHER, "out of memory");
				conclude(zk, &v, NULL, 0);
				return;
			}
			continue;
		}
		case ST_PARENT:
			if (f->pst.v.sec != HF_SEC_SECURE) {
				/* An insecure parent makes us insecure; a failed one fails us the same way. */
				v = f->pst.v;
				if (v.sec == HF_SEC_INSECURE && !v.has_ede)
					hf_verdict_set(&v, HF_SEC_INSECURE, -1, "%s is under an insecure zone", zone);
				conclude(zk, &v, NULL, f->ds ? f->ds->ttl : HF_VAL_BOGUS_TTL_S);
				return;
			}
			if (f->ds) {
				f->ttl = f->ds->ttl;
				f->stage = ST_DS_CHECK;
				f->waiting = true;
				hf_sigcheck_start(&f->sc, zk->r, f->ds, f->parent, f->pst.dnskey, on_sigcheck, zk);
				continue;
			}
			f->stage = ST_NODS_CHECK;
			f->proof_i = 0;
			nods_check(zk);
			continue;
		case ST_NODS_CHECK:
			nods_check(zk);
			continue;
		case ST_DS_CHECK:
			if (f->sc_v.sec != HF_SEC_SECURE) {
				conclude(zk, &f->sc_v, NULL, f->ttl);
				return;
			}
			if (!ds_usable(zk))
				return;
			f->stage = ST_KEYS;
			continue;
		case ST_KEYS_GOT: {
			const struct hf_req *q = f->key_req;
			if (q->rcode != HF_RCODE_NOERROR && q->rcode != HF_RCODE_NXDOMAIN) {
				conclude_req_failed(zk, q, "no answer for");
				return;
			}
			const struct hf_rrset *keys = answer_of(q, HF_TYPE_DNSKEY);
			if (keys == NULL) {
				hf_verdict_set(&v, HF_SEC_BOGUS, HF_EDE_DNSKEY_MISSING,
					       "%s has a DS but no DNSKEY RRset", zone);
				conclude(zk, &v, NULL, 0);
				return;
			}
			if (keys->ttl < f->ttl)
				f->ttl = keys->ttl;
			if (!pick_trusted(zk, keys))
				return;
			f->stage = ST_KEYS_CHECK;
			f->waiting = true;
			hf_sigcheck_start(&f->sc, zk->r, keys, zk->zone, f->trusted, on_sigcheck, zk);
			continue;
		}
		case ST_KEYS_CHECK: {
			if (f->sc_v.sec != HF_SEC_SECURE) {
				conclude(zk, &f->sc_v, NULL, f->ttl);
				return;
			}
			const struct hf_rrset *keys = answer_of(f->key_req, HF_TYPE_DNSKEY);
			struct hf_rrset *copy = hf_rrset_dup(keys);
			if (copy == NULL) {
				hf_verdict_set(&v, HF_SEC_INDETERMINATE, HF_EDE_OTHER, "out of memory");
				conclude(zk, &v, NULL, 0);
				return;
			}
			hf_verdict_set(&v, HF_SEC_SECURE, -1, NULL);
			conclude(zk, &v, copy, f->ttl);
			return;
		}
		}
	}
}

static struct hf_zkey *lookup(struct hf_resolver *r, const uint8_t *zone)
{
	for (struct hf_zkey *zk = r->zkeys[bucket_of(zone)]; zk; zk = zk->hnext)
		if (hf_name_equal(zk->zone, zone))
			return zk;
	return NULL;
}

/* Make room: drop expired entries nobody waits on. */
static void prune(struct hf_resolver *r, uint64_t now)
{
	for (size_t b = 0; b < HF_ZKEY_BUCKETS && r->n_zkeys >= ZKEY_MAX_ENTRIES; b++)
		for (struct hf_zkey **pp = &r->zkeys[b]; *pp;) {
			struct hf_zkey *zk = *pp;
			if (zk->f == NULL && zk->waiters == NULL && !zk->kicked && zk->expire <= now) {
				*pp = zk->hnext;
				r->n_zkeys--;
				entry_free(zk);
				continue;
			}
			pp = &zk->hnext;
		}
}

int hf_zkey_get(struct hf_resolver *r, const uint8_t *zone, struct hf_zwait *w, hf_zkey_cb cb,
		void *ctx, struct hf_zstate *st)
{
	uint64_t now = hf_resolver_now_s();
	struct hf_zkey *zk = lookup(r, zone);
	if (zk && zk->f == NULL && zk->expire > now) {
		fill_state(zk, st);
		return 1;
	}
	if (zk == NULL) {
		if (r->n_zkeys >= ZKEY_MAX_ENTRIES)
			prune(r, now);
		zk = calloc(1, sizeof(*zk));
		if (zk == NULL)
			return -ENOMEM;
		zk->r = r;
		memcpy(zk->zone, zone, hf_name_len(zone));
		hf_name_lower(zk->zone);
		size_t b = bucket_of(zone);
		zk->hnext = r->zkeys[b];
		r->zkeys[b] = zk;
		r->n_zkeys++;
	}
	if (zk->f == NULL) {
		zk->f = calloc(1, sizeof(*zk->f));
		if (zk->f == NULL)
			return -ENOMEM;
		zk->f->stage = ST_START;
		schedule(zk);
	}
	w->zk = zk;
	w->cb = cb;
	w->ctx = ctx;
	w->next = zk->waiters;
	zk->waiters = w;
	return 0;
}

void hf_zkey_unwait(struct hf_zwait *w)
{
	struct hf_zkey *zk = w->zk;
	if (zk == NULL)
		return;
	for (struct hf_zwait **pp = &zk->waiters; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	w->zk = NULL;
	w->next = NULL;
}

_Static_assert(ST_DS + 1 == ST_DS_GOT && ST_KEYS + 1 == ST_KEYS_GOT,
	       "on_req_done advances a request stage by one");
