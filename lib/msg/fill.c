#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "include/holdfast/errcode.h"
#include "include/holdfast/msg.h"
#include "include/holdfast/name.h"
#include "include/holdfast/pkt.h"
#include "include/holdfast/wire_ctx.h"

static size_t hf_fill_size(const struct hf_msg_fill *hdr)
{
	return sizeof(*hdr) + (size_t)hdr->n_ttl * sizeof(uint16_t) + hdr->ede_len + hdr->msg_len;
}

/* EDNS options in wire form: each a code, a length and that many bytes. */
static bool hf_ede_well_formed(const uint8_t *ede, size_t len)
{
	size_t pos = 0;
	while (pos < len) {
		if (len - pos < 4)
			return false;
		uint16_t olen = hf_wire_get_u16(ede + pos + 2);
		if (len - pos - 4 < olen)
			return false;
		pos += 4 + (size_t)olen;
	}
	return true;
}

static int hf_fill_check(struct hf_fill_view *v, const char **why)
{
	struct hf_pkt pkt;
	const struct hf_msg_fill *hdr = v->hdr;

	if (hf_pkt_parse(&pkt, v->msg, hdr->msg_len, NULL, 0) != 0) {
		*why = "rendered message does not parse";
		return -EBADMSG;
	}
	if (!pkt.has_question || pkt.edns.present) {
		*why = "rendered message needs one question and no OPT record";
		return -EBADMSG;
	}
	for (unsigned i = 0; i < hdr->n_ttl; i++) {
		if (v->ttl_off[i] < pkt.question_end || v->ttl_off[i] + 4u > hdr->msg_len) {
			*why = "TTL offset outside the answer sections";
			return -EBADMSG;
		}
	}
	if (!hf_ede_well_formed(v->ede, hdr->ede_len)) {
		*why = "EDNS options malformed";
		return -EBADMSG;
	}
	v->question_end = pkt.question_end;
	v->qtype = pkt.qtype;
	v->qclass = pkt.qclass;
	v->qname_len = pkt.qname_len;
	memcpy(v->qname, pkt.qname, pkt.qname_len);
	return 0;
}

static void hf_fill_locate(struct hf_fill_view *v, const uint8_t *base)
{
	const struct hf_msg_fill *hdr = (const struct hf_msg_fill *)base;
	size_t pos = sizeof(*hdr);

	v->hdr = hdr;
	v->ttl_off = (const uint16_t *)(base + pos);
	pos += (size_t)hdr->n_ttl * sizeof(uint16_t);
	v->ede = base + pos;
	pos += hdr->ede_len;
	v->msg = base + pos;
}

int hf_msg_fill_encode(void *buf, size_t cap, const struct hf_msg_fill *hdr,
		       const uint16_t *ttl_off, const uint8_t *ede, const uint8_t *msg)
{
	size_t need = hf_fill_size(hdr);
	const char *why;
	struct hf_fill_view v;

	if (need > cap)
		return HF_ESPACE;
	uint8_t *p = buf;
	memcpy(p, hdr, sizeof(*hdr));
	size_t pos = sizeof(*hdr);
	if (hdr->n_ttl)
		memcpy(p + pos, ttl_off, (size_t)hdr->n_ttl * sizeof(uint16_t));
	pos += (size_t)hdr->n_ttl * sizeof(uint16_t);
	if (hdr->ede_len)
		memcpy(p + pos, ede, hdr->ede_len);
	pos += hdr->ede_len;
	memcpy(p + pos, msg, hdr->msg_len);

	hf_fill_locate(&v, p);
	if (hf_fill_check(&v, &why) != 0)
		return -EINVAL;
	return (int)need;
}

int hf_msg_fill_decode(const void *payload, size_t len, struct hf_fill_view *view,
		       const char **why)
{
	const struct hf_msg_fill *hdr = payload;

	if (len < sizeof(*hdr)) {
		*why = "shorter than a fill header";
		return -EBADMSG;
	}
	if (hf_fill_size(hdr) != len) {
		*why = "lengths in the header do not add up to the payload";
		return -EBADMSG;
	}
	hf_fill_locate(view, payload);
	return hf_fill_check(view, why);
}
