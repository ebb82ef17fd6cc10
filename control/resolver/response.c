/*
 * Response classification with bailiwick checks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "include/holdfast/name.h"
#include "control/resolver/response.h"

#define SEC(s) (1u << (s))

void hf_resp_clear(struct hf_resp *out)
{
	for (unsigned i = 0; i < out->n_chain; i++)
		free(out->chain[i]);
	for (unsigned i = 0; i < out->n_glue; i++)
		free(out->glue[i]);
	for (unsigned i = 0; i < out->n_proof; i++)
		free(out->proof[i]);
	free(out->ds);
	free(out->answer);
	free(out->soa);
	free(out->ns);
	memset(out, 0, sizeof(*out));
}

/* A DNAME in the answer section at a proper ancestor of name, inside zone. */
static struct hf_rrset *find_dname(const struct hf_pkt *pkt, const uint8_t *zone, const uint8_t *name,
				   uint16_t qclass)
{
	for (const uint8_t *a = name + name[0] + 1;; a += a[0] + 1) {
		if (!hf_name_is_subdomain(a, zone))
			return NULL;
		struct hf_rrset *d = hf_rrset_from_pkt(pkt, SEC(HF_SECTION_ANSWER), a, HF_TYPE_DNAME, qclass);
		if (d)
			return d;
		if (a[0] == 0)
			return NULL;
	}
}

/* The CNAME a DNAME implies for name: name's labels above the DNAME owner, then the target. */
static struct hf_rrset *synth_cname(const struct hf_rrset *dname, const uint8_t *name)
{
	uint16_t tlen;
	const uint8_t *target = hf_rrset_rdata(dname, 0, &tlen);
	size_t nlen = hf_name_len(name), olen = hf_name_len(dname->owner);
	size_t prefix = nlen - olen;
	if (target == NULL || prefix + tlen > HF_NAME_MAXLEN)
		return NULL;  /* would be YXDOMAIN; treat as unusable */
	uint8_t out[HF_NAME_MAXLEN];
	memcpy(out, name, prefix);
	memcpy(out + prefix, target, tlen);
	struct hf_rrset *cn = hf_rrset_new1(name, HF_TYPE_CNAME, dname->rclass, dname->ttl, out,
					    (uint16_t)(prefix + tlen));
	if (cn)
		cn->flags |= HF_RRSET_SYNTH;
	return cn;
}

/* The SOA of a negative answer: in the authority section, owner in zone, name at or below it. */
static struct hf_rrset *find_soa(const struct hf_pkt *pkt, const uint8_t *zone, const uint8_t *name,
				 uint16_t qclass)
{
	uint8_t owner[HF_NAME_MAXLEN];
	for (unsigned i = 0; i < pkt->rr_count; i++) {
		const struct hf_rr *rr = &pkt->rr[i];
		if (rr->section != HF_SECTION_AUTHORITY || rr->type != HF_TYPE_SOA || rr->rclass != qclass)
			continue;
		if (hf_rr_owner(pkt, rr, owner) != 0)
			continue;
		if (hf_name_is_subdomain(owner, zone) && hf_name_is_subdomain(name, owner))
			return hf_rrset_from_pkt(pkt, SEC(HF_SECTION_AUTHORITY), owner, HF_TYPE_SOA, qclass);
	}
	return NULL;
}

/* A referral's NS RRset: owner strictly below zone, name at or below the owner. */
static struct hf_rrset *find_referral(const struct hf_pkt *pkt, const uint8_t *zone,
				      const uint8_t *name, uint16_t qclass)
{
	uint8_t owner[HF_NAME_MAXLEN];
	for (unsigned i = 0; i < pkt->rr_count; i++) {
		const struct hf_rr *rr = &pkt->rr[i];
		if (rr->section != HF_SECTION_AUTHORITY || rr->type != HF_TYPE_NS || rr->rclass != qclass)
			continue;
		if (hf_rr_owner(pkt, rr, owner) != 0)
			continue;
		if (hf_name_is_subdomain(owner, zone) && !hf_name_equal(owner, zone) &&
		    hf_name_is_subdomain(name, owner))
			return hf_rrset_from_pkt(pkt, SEC(HF_SECTION_AUTHORITY), owner, HF_TYPE_NS, qclass);
	}
	return NULL;
}

static int collect_glue(const struct hf_pkt *pkt, const uint8_t *zone, struct hf_resp *out,
			uint16_t qclass)
{
	static const uint16_t types[] = { HF_TYPE_A, HF_TYPE_AAAA };
	for (unsigned i = 0; i < out->ns->n_rr; i++) {
		uint16_t len;
		const uint8_t *target = hf_rrset_rdata(out->ns, i, &len);
		if (!hf_name_is_subdomain(target, zone))
			continue;  /* out of bailiwick: the server cannot vouch for it */
		for (unsigned t = 0; t < 2 && out->n_glue < HF_RESP_MAX_GLUE; t++) {
			struct hf_rrset *g = hf_rrset_from_pkt(pkt, SEC(HF_SECTION_ADDITIONAL), target,
							       types[t], qclass);
			if (g)
				out->glue[out->n_glue++] = g;
		}
	}
	return 0;
}

/* NSEC and NSEC3 RRsets of the authority section owned by names in the zone. */
static void collect_proof(const struct hf_pkt *pkt, const uint8_t *zone, uint16_t qclass,
			  struct hf_resp *out)
{
	uint8_t owner[HF_NAME_MAXLEN];
	for (unsigned i = 0; i < pkt->rr_count && out->n_proof < HF_RESP_MAX_PROOF; i++) {
		const struct hf_rr *rr = &pkt->rr[i];
		if (rr->section != HF_SECTION_AUTHORITY || rr->rclass != qclass ||
		    (rr->type != HF_TYPE_NSEC && rr->type != HF_TYPE_NSEC3))
			continue;
		if (hf_rr_owner(pkt, rr, owner) != 0 || !hf_name_is_subdomain(owner, zone))
			continue;
		bool seen = false;
		for (unsigned k = 0; k < out->n_proof; k++)
			seen |= out->proof[k]->type == rr->type && hf_name_equal(out->proof[k]->owner, owner);
		if (seen)
			continue;
		struct hf_rrset *p = hf_rrset_from_pkt(pkt, SEC(HF_SECTION_AUTHORITY), owner, rr->type, qclass);
		if (p)
			out->proof[out->n_proof++] = p;
	}
}

static int classify(const struct hf_pkt *pkt, const uint8_t *zone, const uint8_t *qname,
		    uint16_t qtype, uint16_t qclass, struct hf_resp *out);

int hf_resp_classify(const struct hf_pkt *pkt, const uint8_t *zone, const uint8_t *qname,
		     uint16_t qtype, uint16_t qclass, struct hf_resp *out)
{
	int ret = classify(pkt, zone, qname, qtype, qclass, out);
	if (ret != 0 || out->kind == HF_RESP_ERROR || out->kind == HF_RESP_LAME)
		return ret;
	collect_proof(pkt, zone, qclass, out);
	if (out->kind == HF_RESP_REFERRAL)
		out->ds = hf_rrset_from_pkt(pkt, SEC(HF_SECTION_AUTHORITY), out->ns->owner, HF_TYPE_DS, qclass);
	return 0;
}

static int classify(const struct hf_pkt *pkt, const uint8_t *zone, const uint8_t *qname,
		    uint16_t qtype, uint16_t qclass, struct hf_resp *out)
{
	memset(out, 0, sizeof(*out));
	unsigned rcode = hf_pkt_rcode(pkt);
	memcpy(out->next_name, qname, hf_name_len(qname));
	hf_name_lower(out->next_name);
	if (rcode != HF_RCODE_NOERROR && rcode != HF_RCODE_NXDOMAIN) {
		out->kind = HF_RESP_ERROR;
		return 0;
	}

	/* Follow the chain inside the zone. */
	uint8_t *name = out->next_name;
	while (hf_name_is_subdomain(name, zone)) {
		struct hf_rrset *ans = hf_rrset_from_pkt(pkt, SEC(HF_SECTION_ANSWER), name, qtype, qclass);
		if (ans) {
			out->answer = ans;
			out->kind = HF_RESP_ANSWER;
			return 0;
		}
		if (out->n_chain + 2 > HF_RESP_MAX_CHAIN)
			break;
		/*
		 * A DNAME above the name wins over a CNAME at it: a DNAME-aware
		 * server sends the CNAME it synthesised too (RFC 6672 §3.1), but
		 * unsigned; we synthesise our own from the signed DNAME instead.
		 */
		struct hf_rrset *cn = NULL;
		struct hf_rrset *dn = find_dname(pkt, zone, name, qclass);
		if (dn) {
			cn = synth_cname(dn, name);
			out->chain[out->n_chain++] = dn;
			if (cn == NULL) {
				out->kind = HF_RESP_LAME;
				return 0;
			}
		} else if (qtype != HF_TYPE_CNAME) {
			cn = hf_rrset_from_pkt(pkt, SEC(HF_SECTION_ANSWER), name, HF_TYPE_CNAME, qclass);
		}
		if (cn == NULL)
			break;
		out->chain[out->n_chain++] = cn;
		uint16_t tlen;
		const uint8_t *target = hf_rrset_rdata(cn, 0, &tlen);
		memcpy(name, target, tlen);
		hf_name_lower(name);
	}

	bool in_zone = hf_name_is_subdomain(name, zone);
	if (in_zone) {
		out->soa = find_soa(pkt, zone, name, qclass);
		if (rcode == HF_RCODE_NXDOMAIN) {
			out->kind = HF_RESP_NXDOMAIN;
			return 0;
		}
		/* A referral for a CNAME target still in the zone's subtree is just a referral. */
		if (out->soa == NULL) {
			out->ns = find_referral(pkt, zone, name, qclass);
			if (out->ns) {
				out->kind = out->n_chain ? HF_RESP_CNAME : HF_RESP_REFERRAL;
				if (out->kind == HF_RESP_REFERRAL)
					collect_glue(pkt, zone, out, qclass);
				else {
					free(out->ns);
					out->ns = NULL;
				}
				return 0;
			}
		}
		if (out->soa || (pkt->flags & HF_FLAG_AA)) {
			out->kind = HF_RESP_NODATA;
			return 0;
		}
		if (out->n_chain == 0) {
			out->kind = HF_RESP_LAME;
			return 0;
		}
	} else if (rcode == HF_RCODE_NXDOMAIN && out->n_chain == 0) {
		out->kind = HF_RESP_LAME;
		return 0;
	}
	/* The chain leads out of the zone (or stopped early): resolve its end anew. */
	out->kind = out->n_chain ? HF_RESP_CNAME : HF_RESP_LAME;
	return 0;
}

const char *hf_resp_kind_str(enum hf_resp_kind k)
{
	switch (k) {
	case HF_RESP_ANSWER: return "answer";
	case HF_RESP_CNAME: return "cname";
	case HF_RESP_NXDOMAIN: return "nxdomain";
	case HF_RESP_NODATA: return "nodata";
	case HF_RESP_REFERRAL: return "referral";
	case HF_RESP_LAME: return "lame";
	case HF_RESP_ERROR: return "error";
	}
	return "?";
}
