/*
 * Rendering answers for the dataplane.
 */
#include <string.h>

#include "include/holdfast/build.h"
#include "include/holdfast/errcode.h"
#include "include/holdfast/name.h"
#include "control/resolver/cache.h"
#include "control/resolver/render.h"

/* Append all records of s (and its RRSIGs for DO clients); record each TTL offset. */
static int put_rrset(struct hf_build *b, struct hf_rendered *out, uint8_t section,
		     const struct hf_rrset *s, uint32_t ttl, bool dnssec)
{
	unsigned n = s->n_rr + (dnssec ? s->n_sig : 0);
	for (unsigned i = 0; i < n; i++) {
		uint16_t len;
		const uint8_t *rd = hf_rrset_rdata(s, i, &len);
		if (out->n_ttl >= HF_FILL_MAX_TTLS)
			return HF_ESPACE;
		uint16_t type = i < s->n_rr ? s->type : HF_TYPE_RRSIG;
		int off = hf_build_rr(b, section, s->owner, type, s->rclass, ttl, rd, len);
		if (off < 0)
			return off;
		out->ttl_off[out->n_ttl++] = (uint16_t)off;
	}
	return 0;
}

/* One attempt: with or without the authority section, or with no records at all. */
static int build(struct hf_rendered *out, const struct hf_render_in *in, bool authority,
		 bool records, uint32_t neg_ttl)
{
	struct hf_build b;
	uint8_t qname[HF_NAME_MAXLEN];
	memcpy(qname, in->qname, hf_name_len(in->qname));
	hf_name_lower(qname);
	out->n_ttl = 0;
	uint16_t flags = HF_FLAG_QR | HF_FLAG_RA | (in->rcode & 0xf);
	if (!records)
		flags |= HF_FLAG_TC;
	int ret = hf_build_init(&b, out->msg, HF_RENDERED_MSG_MAX, 0, flags);
	if (ret == 0)
		ret = hf_build_question(&b, qname, in->qtype, in->qclass);
	for (unsigned i = 0; ret == 0 && records && i < in->n_answer; i++)
		ret = put_rrset(&b, out, HF_SECTION_ANSWER, in->answer[i], in->answer[i]->ttl, in->dnssec);
	if (ret == 0 && records && authority && in->soa)
		ret = put_rrset(&b, out, HF_SECTION_AUTHORITY, in->soa, neg_ttl, in->dnssec);
	for (unsigned i = 0; ret == 0 && records && authority && in->dnssec && i < in->n_proof; i++)
		ret = put_rrset(&b, out, HF_SECTION_AUTHORITY, in->proof[i],
				in->proof[i]->ttl < neg_ttl || !in->soa ? in->proof[i]->ttl : neg_ttl, true);
	if (ret < 0)
		return ret;
	ret = hf_build_finish(&b);
	if (ret < 0)
		return ret;
	out->msg_len = (uint16_t)ret;
	return 0;
}

int hf_render(struct hf_rendered *out, const struct hf_render_in *in)
{
	memset(out, 0, offsetof(struct hf_rendered, ede));
	out->rcode = in->rcode;

	uint32_t ttl = UINT32_MAX;
	for (unsigned i = 0; i < in->n_answer; i++)
		if (in->answer[i]->ttl < ttl)
			ttl = in->answer[i]->ttl;
	uint32_t neg_ttl = 0;
	if (in->soa) {
		neg_ttl = hf_soa_neg_ttl(in->soa);
		if (neg_ttl < ttl)
			ttl = neg_ttl;
	}
	for (unsigned i = 0; in->dnssec && i < in->n_proof; i++)
		if (in->proof[i]->ttl < ttl)
			ttl = in->proof[i]->ttl;
	if (ttl == UINT32_MAX)
		ttl = in->fail_ttl;
	out->ttl = ttl;
	if (in->ad)
		out->flags |= HF_FILL_AD;

	int ret = build(out, in, true, true, neg_ttl);
	/* A DO client's authority section is the proof (RFC 4035 §3.1.3): all of it, or TC. */
	bool proof = in->dnssec && (in->soa || in->n_proof > 0);
	if (ret == HF_ESPACE && !proof)
		ret = build(out, in, false, true, neg_ttl);
	if (ret == HF_ESPACE)
		ret = build(out, in, false, false, neg_ttl);
	if (ret < 0)
		return ret;

	if (in->has_ede) {
		int n = hf_ede_render(out->ede, HF_RENDERED_EDE_MAX, in->ede, in->ede_text);
		if (n == HF_ESPACE) {
			/* Keep the code even if the text is too long for the room we have. */
			n = hf_ede_render(out->ede, HF_RENDERED_EDE_MAX, in->ede, NULL);
		}
		if (n < 0)
			return n;
		out->ede_len = (uint16_t)n;
		if (in->cached_error) {
			n = hf_ede_render(out->ede + out->ede_len, HF_RENDERED_EDE_MAX - out->ede_len,
					  HF_EDE_CACHED_ERROR, NULL);
			if (n > 0)
				out->ede_len += (uint16_t)n;
		}
	}
	return 0;
}
