/*
 * Validating a finished resolution (validate.h, "the answer").
 *
 * The parts are the RRsets the client will see: the CNAME/DNAME chain, the
 * answer, the SOA of a negative answer and the NSEC/NSEC3 RRsets. Each is
 * checked against the keys of the zone that signed it (the RRSIG's signer;
 * for unsigned data, the closest enclosing cut known to the cache, whose
 * keys then have to be provably absent). Then the proofs: NXDOMAIN/NODATA
 * must be denied by the negative answer's zone, and a wildcard expansion
 * must come with the proof that the name itself does not exist.
 *
 * Parts already validated (their cached copy carries the verdict, see
 * hf_cache_set_sec()) are not checked again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "include/holdfast/name.h"
#include "control/dnssec/crypto.h"
#include "control/dnssec/denial.h"
#include "control/resolver/resolver_impl.h"

enum vstage { V_KEYS, V_KEYS_GOT, V_SIG_GOT };

struct part {
	const struct hf_rrset *set;
	uint8_t zone[HF_NAME_MAXLEN];
	uint8_t sec;
	uint8_t labels;          /*!< RRSIG labels of the signature that verified */
	bool proof;              /*!< an NSEC/NSEC3 RRset */
	bool nta;                /*!< insecure by an NTA: not a verdict to remember */
};

struct hf_val {
	struct hf_req *q;
	unsigned n_parts, i;
	enum vstage stage;
	bool waiting, running, done;
	struct hf_zwait w;
	struct hf_zstate st;
	struct hf_sigcheck sc;
	struct hf_verdict sc_v;
	unsigned sc_labels;
	struct hf_verdict fail;  /*!< the first BOGUS/INDETERMINATE part */
	struct hf_verdict info;  /*!< an insecure part's EDE (1, 2, 27), if any */
	bool any_insecure;
	struct part parts[HF_VAL_MAX_PARTS];
};

bool hf_val_wanted(const struct hf_req *q)
{
	return q->r->cfg.dnssec && q->parent == NULL && !q->internal && !(q->variant & HF_VARIANT_CD);
}

/* The zone whose keys vouch for s: its RRSIG's signer, or for unsigned data the closest cut. */
static void zone_of(const struct hf_req *q, const struct hf_rrset *s, uint8_t *zone)
{
	for (unsigned i = 0; i < s->n_sig; i++) {
		uint16_t len;
		const uint8_t *rd = hf_rrset_rdata(s, s->n_rr + i, &len);
		struct hf_rrsig sig;
		if (hf_rrsig_parse(rd, len, &sig) == 0 && hf_name_is_subdomain(s->owner, sig.signer)) {
			memcpy(zone, sig.signer, hf_name_len(sig.signer));
			return;
		}
	}
	if (s->type == HF_TYPE_SOA) {
		memcpy(zone, s->owner, hf_name_len(s->owner));
		return;
	}
	/* DS lives in the parent: start above the owner. */
	const uint8_t *from = s->owner;
	if (s->type == HF_TYPE_DS && from[0] != 0)
		from += from[0] + 1;
	struct hf_rrset *ns = hf_cache_find_ns(q->r->cache, from, s->rclass, hf_resolver_now_s());
	const uint8_t *z = ns ? ns->owner : (const uint8_t *)"";
	memcpy(zone, z, hf_name_len(z));
	free(ns);
}

static void on_done_timer(uv_timer_t *t)
{
	hf_req_complete(t->data);
}

static void note(struct hf_val *v, const struct hf_verdict *vd)
{
	if (vd->sec == HF_SEC_BOGUS || vd->sec == HF_SEC_INDETERMINATE) {
		if (v->fail.sec == HF_SEC_UNCHECKED)
			v->fail = *vd;
	} else if (vd->sec == HF_SEC_INSECURE) {
		v->any_insecure = true;
		if (vd->has_ede && !v->info.has_ede)
			v->info = *vd;
	}
}

/* RFC 7646: data at or below an NTA is insecure by the operator's word (EDE 33). */
static bool under_nta(struct hf_val *v, struct part *p)
{
	struct hf_resolver *r = v->q->r;
	uint8_t zone[HF_NAME_MAXLEN];
	char reason[200] = "";
	if (r->nta_lookup == NULL || v->q->probe ||
	    !r->nta_lookup(r->nta_ctx, p->set->owner, zone, reason, sizeof(reason)))
		return false;
	char z[HF_NAME_TEXT_MAXLEN];
	hf_name_to_text(zone, z, sizeof(z));
	struct hf_verdict vd;
	hf_verdict_set(&vd, HF_SEC_INSECURE, HF_EDE_NTA, "negative trust anchor for %s%s%s", z,
		       reason[0] ? ": " : "", reason);
	memcpy(p->zone, zone, hf_name_len(zone));
	p->sec = HF_SEC_INSECURE;
	p->nta = true;
	note(v, &vd);
	v->i++;
	return true;
}

/* A proof over the proofs of zone that validated. */
static enum hf_denial prove(struct hf_val *v, const uint8_t *zone, int kind, const uint8_t *name,
			    uint16_t type, unsigned labels, char *why, size_t why_size)
{
	const struct hf_rrset *sets[HF_VAL_MAX_PARTS];
	unsigned n = 0;
	for (unsigned i = 0; i < v->n_parts; i++)
		if (v->parts[i].proof && v->parts[i].sec == HF_SEC_SECURE &&
		    hf_name_equal(v->parts[i].zone, zone))
			sets[n++] = v->parts[i].set;
	struct hf_denial_in in = { .zone = zone, .sets = sets, .n = n };
	if (n == 0) {
		snprintf(why, why_size, "no NSEC or NSEC3 records");
		return HF_DENIAL_MISSING;
	}
	switch (kind) {
	case HF_RCODE_NXDOMAIN:
		return hf_denial_nxdomain(&in, name, why, why_size);
	case HF_RCODE_NOERROR:
		return hf_denial_nodata(&in, name, type, why, why_size);
	default:
		return hf_denial_wildcard(&in, name, labels, why, why_size);
	}
}

/* Apply a denial result; what kind of answer it was goes in the text. */
static void take_denial(struct hf_val *v, enum hf_denial d, const char *what, const char *why,
			const uint8_t *zone)
{
	struct hf_verdict vd;
	char z[HF_NAME_TEXT_MAXLEN];
	hf_name_to_text(zone, z, sizeof(z));
	switch (d) {
	case HF_DENIAL_PROVEN:
		return;
	case HF_DENIAL_OPTOUT:
		hf_verdict_set(&vd, HF_SEC_INSECURE, -1, "opt-out");
		break;
	case HF_DENIAL_ITERATIONS:
		hf_verdict_set(&vd, HF_SEC_INSECURE, HF_EDE_NSEC3_ITERATIONS,
			       "NSEC3 of %s uses more than %u iterations: %s treated as insecure", z,
			       HF_NSEC3_MAX_ITERATIONS, what);
		break;
	case HF_DENIAL_ERROR:
		hf_verdict_set(&vd, HF_SEC_INDETERMINATE, HF_EDE_OTHER, "could not check the proof of %s: %s",
			       what, why);
		break;
	case HF_DENIAL_MISSING:
	default:
		hf_verdict_set(&vd, HF_SEC_BOGUS, HF_EDE_NSEC_MISSING, "no proof of %s in %s: %s", what, z, why);
		break;
	}
	note(v, &vd);
}

/* Every part checked: the proofs, the verdict, and the cache told. */
static void conclude(struct hf_val *v)
{
	struct hf_req *q = v->q;
	struct hf_resolver *r = q->r;
	char why[200], what[HF_NAME_TEXT_MAXLEN + 40], rr[HF_NAME_TEXT_MAXLEN + 16];

	/* Wildcard expansions: the name asked must not exist (RFC 4035 §5.3.4). */
	for (unsigned i = 0; i < v->n_parts && v->fail.sec == HF_SEC_UNCHECKED; i++) {
		const struct part *p = &v->parts[i];
		if (p->proof || p->sec != HF_SEC_SECURE || p->set->sec == HF_SEC_SECURE)
			continue;
		int owner_labels = hf_name_labels(p->set->owner);
		if (p->labels == 0 || p->labels >= owner_labels)
			continue;
		hf_val_rrname(p->set->owner, p->set->type, rr, sizeof(rr));
		snprintf(what, sizeof(what), "the wildcard answer %s", rr);
		enum hf_denial d = prove(v, p->zone, -1, p->set->owner, 0, p->labels, why, sizeof(why));
		take_denial(v, d, what, why, p->zone);
	}
	/* A negative answer: the zone of its SOA must deny the name (or the type). */
	bool negative = q->rcode == HF_RCODE_NXDOMAIN ||
			(q->rcode == HF_RCODE_NOERROR &&
			 (q->n_answer == 0 || q->answer[q->n_answer - 1]->type != q->qtype ||
			  !hf_name_equal(q->answer[q->n_answer - 1]->owner, q->qname)));
	uint8_t neg_sec = HF_SEC_UNCHECKED;
	if (negative && q->soa && v->fail.sec == HF_SEC_UNCHECKED) {
		const struct part *soa = NULL;
		for (unsigned i = 0; i < v->n_parts; i++)
			if (v->parts[i].set == q->soa)
				soa = &v->parts[i];
		if (q->soa->sec == HF_SEC_SECURE || q->soa->sec == HF_SEC_INSECURE) {
			neg_sec = q->soa->sec;  /* the cached verdict on this very denial */
			if (neg_sec == HF_SEC_INSECURE)
				v->any_insecure = true;
		} else if (soa && soa->sec == HF_SEC_SECURE) {
			hf_val_rrname(q->qname, q->qtype, rr, sizeof(rr));
			snprintf(what, sizeof(what), "%s %s", q->rcode == HF_RCODE_NXDOMAIN ? "NXDOMAIN for" : "NODATA for", rr);
			bool insecure_before = v->any_insecure;
			enum hf_denial d = prove(v, soa->zone, q->rcode, q->qname, q->qtype, 0, why, sizeof(why));
			take_denial(v, d, what, why, soa->zone);
			neg_sec = v->fail.sec != HF_SEC_UNCHECKED ? HF_SEC_BOGUS
				  : v->any_insecure && !insecure_before ? HF_SEC_INSECURE : HF_SEC_SECURE;
		} else if (soa && !soa->nta) {
			neg_sec = soa->sec;
		}
	}

	uint8_t sec = v->fail.sec != HF_SEC_UNCHECKED ? v->fail.sec
		      : v->any_insecure ? HF_SEC_INSECURE : HF_SEC_SECURE;
	q->sec = sec;
	if (sec == HF_SEC_BOGUS || sec == HF_SEC_INDETERMINATE) {
		q->rcode = HF_RCODE_SERVFAIL;
		q->has_ede = true;
		q->ede_info = false;
		q->ede = v->fail.has_ede ? v->fail.ede : HF_EDE_DNSSEC_BOGUS;
		snprintf(q->ede_text, sizeof(q->ede_text), "%s", v->fail.text);
	} else if (sec == HF_SEC_INSECURE && v->info.has_ede && !q->has_ede) {
		q->has_ede = true;
		q->ede_info = true;
		q->ede = v->info.ede;
		snprintf(q->ede_text, sizeof(q->ede_text), "%s", v->info.text);
	}

	/* Remember the verdicts: a later hit is not validated again, a bogus one is refetched. */
	uint64_t now = hf_resolver_now_s();
	for (unsigned i = 0; i < v->n_parts; i++) {
		const struct part *p = &v->parts[i];
		uint8_t s = sec == HF_SEC_BOGUS ? HF_SEC_BOGUS : p->sec;
		if (p->proof || p->nta || p->set == q->soa || p->set->sec == s || s == HF_SEC_INDETERMINATE)
			continue;
		hf_cache_set_sec(r->cache, HF_NEG_NONE, p->set->owner, p->set->type, p->set, s, now);
	}
	if (negative && q->soa && neg_sec != HF_SEC_UNCHECKED && neg_sec != q->soa->sec &&
	    neg_sec != HF_SEC_INDETERMINATE)
		hf_cache_set_sec(r->cache, q->rcode == HF_RCODE_NXDOMAIN ? HF_NEG_NXDOMAIN : HF_NEG_NODATA,
				 q->qname, q->qtype, q->soa, sec == HF_SEC_BOGUS ? HF_SEC_BOGUS : neg_sec, now);

	v->done = true;
	/* The client's callback runs from the timer, never deep inside a fetch or a check. */
	uv_timer_start(&q->kick, on_done_timer, 0, 0);
}

static void advance(struct hf_val *v);

static void on_keys(void *ctx, struct hf_zstate *st)
{
	struct hf_val *v = ctx;
	v->st = *st;
	v->stage = V_KEYS_GOT;
	v->waiting = false;
	if (!v->running)
		advance(v);
}

static void on_sig(void *ctx, const struct hf_verdict *vd, unsigned labels)
{
	struct hf_val *v = ctx;
	v->sc_v = *vd;
	v->sc_labels = labels;
	v->stage = V_SIG_GOT;
	v->waiting = false;
	if (!v->running)
		advance(v);
}

static void advance(struct hf_val *v)
{
	struct hf_resolver *r = v->q->r;
	v->running = true;
	while (!v->waiting && !v->done) {
		if (v->i >= v->n_parts || v->fail.sec != HF_SEC_UNCHECKED) {
			conclude(v);
			break;
		}
		struct part *p = &v->parts[v->i];
		switch (v->stage) {
		case V_KEYS: {
			if (under_nta(v, p))
				continue;
			uint8_t cached = p->set->sec;
			if (cached == HF_SEC_SECURE || cached == HF_SEC_INSECURE) {
				p->sec = cached;
				if (cached == HF_SEC_INSECURE)
					v->any_insecure = true;
				v->i++;
				continue;
			}
			if (p->set->flags & HF_RRSET_SYNTH) {
				/* A CNAME made from the DNAME just before it: as good as that DNAME. */
				p->sec = v->i > 0 ? v->parts[v->i - 1].sec : HF_SEC_INSECURE;
				v->i++;
				continue;
			}
			zone_of(v->q, p->set, p->zone);
			v->waiting = true;
			int ret = hf_zkey_get(r, p->zone, &v->w, on_keys, v, &v->st);
			if (ret == 1) {
				v->waiting = false;
				v->stage = V_KEYS_GOT;
			} else if (ret < 0) {
				v->waiting = false;
				hf_verdict_set(&v->fail, HF_SEC_INDETERMINATE, HF_EDE_OTHER, "out of memory");
			}
			continue;
		}
		case V_KEYS_GOT:
			if (v->st.v.sec != HF_SEC_SECURE) {
				p->sec = v->st.v.sec;
				note(v, &v->st.v);
				free(v->st.dnskey);
				v->st.dnskey = NULL;
				v->stage = V_KEYS;
				v->i++;
				continue;
			}
			v->stage = V_SIG_GOT;
			v->waiting = true;
			hf_sigcheck_start(&v->sc, r, p->set, p->zone, v->st.dnskey, on_sig, v);
			continue;
		case V_SIG_GOT:
			p->sec = v->sc_v.sec;
			p->labels = (uint8_t)v->sc_labels;
			note(v, &v->sc_v);
			free(v->st.dnskey);
			v->st.dnskey = NULL;
			v->stage = V_KEYS;
			v->i++;
			continue;
		}
	}
	v->running = false;
}

static void add_part(struct hf_val *v, const struct hf_rrset *s, bool proof)
{
	if (s == NULL || v->n_parts >= HF_VAL_MAX_PARTS)
		return;
	v->parts[v->n_parts].set = s;
	v->parts[v->n_parts].proof = proof;
	v->n_parts++;
}

void hf_val_start(struct hf_req *q)
{
	struct hf_val *v = calloc(1, sizeof(*v));
	if (v == NULL) {
		q->rcode = HF_RCODE_SERVFAIL;
		q->has_ede = true;
		q->ede = HF_EDE_OTHER;
		snprintf(q->ede_text, sizeof(q->ede_text), "out of memory for validation");
		uv_timer_start(&q->kick, on_done_timer, 0, 0);
		return;
	}
	v->q = q;
	q->val = v;
	/* Proofs first: a wildcard or denial check needs them validated anyway. */
	for (unsigned i = 0; i < q->n_proof; i++)
		add_part(v, q->proof[i], true);
	for (unsigned i = 0; i < q->n_answer; i++)
		add_part(v, q->answer[i], false);
	add_part(v, q->soa, false);
	advance(v);
}

void hf_val_cancel(struct hf_req *q)
{
	struct hf_val *v = q->val;
	if (v == NULL)
		return;
	hf_zkey_unwait(&v->w);
	hf_sigcheck_cancel(&v->sc);
	free(v->st.dnskey);
	free(v);
	q->val = NULL;
}
