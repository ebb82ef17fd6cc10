/*
 * RRsets taken out of responses: decompressed, lower-cased owners, RRSIGs kept.
 */
#include <stdlib.h>
#include <string.h>

#include "include/holdfast/defines.h"
#include "include/holdfast/errcode.h"
#include "include/holdfast/name.h"
#include "include/holdfast/wire_ctx.h"
#include "control/resolver/rrset.h"

int hf_rr_owner(const struct hf_pkt *pkt, const struct hf_rr *rr, uint8_t *out)
{
	size_t pos = rr->owner_off;
	int ret = hf_name_unpack(pkt->wire, pkt->size, &pos, out);
	if (ret < 0)
		return ret;
	hf_name_lower(out);
	return 0;
}

/* The identity of a freshly allocated RRset; owners are kept in lower case. */
static void rrset_init(struct hf_rrset *s, const uint8_t *owner, uint16_t type, uint16_t rclass,
		       uint32_t ttl)
{
	memcpy(s->owner, owner, hf_name_len(owner));
	hf_name_lower(s->owner);
	s->type = type;
	s->rclass = rclass;
	s->ttl = ttl;
}

static uint16_t rrsig_covered(const struct hf_pkt *pkt, const struct hf_rr *rr)
{
	if (rr->rdlength < 2)
		return 0;
	return hf_wire_get_u16(pkt->wire + rr->rdata_off);
}

struct hf_rrset *hf_rrset_from_pkt(const struct hf_pkt *pkt, unsigned sections,
				   const uint8_t *owner, uint16_t type, uint16_t rclass)
{
	/* Two passes: size, then copy; the message is small and parsed already. */
	uint8_t name[HF_NAME_MAXLEN];
	uint8_t rd[UINT16_MAX];
	size_t need = 0;
	unsigned n_rr = 0, n_sig = 0;
	uint32_t ttl = UINT32_MAX;
	struct hf_rrset *s = NULL;

	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < pkt->rr_count; i++) {
			const struct hf_rr *rr = &pkt->rr[i];
			if (!(sections & (1u << rr->section)) || rr->rclass != rclass)
				continue;
			bool is_sig = rr->type == HF_TYPE_RRSIG && type != HF_TYPE_RRSIG &&
				      rrsig_covered(pkt, rr) == type;
			if (rr->type != type && !is_sig)
				continue;
			if (hf_rr_owner(pkt, rr, name) != 0 || !hf_name_equal(name, owner))
				continue;
			if (!is_sig && n_rr >= HF_RRSET_MAX_RR && pass == 0)
				continue;
			int len = hf_rdata_unpack(pkt, rr, rd, sizeof(rd));
			if (len < 0)
				goto err_free;
			if (pass == 0) {
				if (is_sig) {
					n_sig++;
				} else {
					n_rr++;
					if (rr->ttl < ttl)
						ttl = rr->ttl;
				}
				need += 2 + (size_t)len;
				continue;
			}
			/* Pass 1 appends records first, then signatures (below). */
			if (is_sig)
				continue;
			if (s->n_rr >= n_rr)
				continue;
			memcpy(s->data + s->len, &(uint16_t){ (uint16_t)len }, 2);
			memcpy(s->data + s->len + 2, rd, (size_t)len);
			s->len += 2 + (uint32_t)len;
			s->n_rr++;
		}
		if (pass == 0) {
			if (n_rr == 0)
				return NULL;
			s = calloc(1, sizeof(*s) + need);
			if (s == NULL)
				return NULL;
			rrset_init(s, owner, type, rclass, ttl);
			continue;
		}
		for (unsigned i = 0; i < pkt->rr_count && s->n_sig < n_sig; i++) {
			const struct hf_rr *rr = &pkt->rr[i];
			if (!(sections & (1u << rr->section)) || rr->rclass != rclass ||
			    rr->type != HF_TYPE_RRSIG || rrsig_covered(pkt, rr) != type)
				continue;
			if (hf_rr_owner(pkt, rr, name) != 0 || !hf_name_equal(name, owner))
				continue;
			int len = hf_rdata_unpack(pkt, rr, rd, sizeof(rd));
			if (len < 0)
				goto err_free;
			memcpy(s->data + s->len, &(uint16_t){ (uint16_t)len }, 2);
			memcpy(s->data + s->len + 2, rd, (size_t)len);
			s->len += 2 + (uint32_t)len;
			s->n_sig++;
		}
	}
	return s;

err_free:
	free(s);
	return NULL;
}

struct hf_rrset *hf_rrset_alloc(const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
				size_t rdata_room)
{
	struct hf_rrset *s = calloc(1, sizeof(*s) + rdata_room);
	if (s != NULL)
		rrset_init(s, owner, type, rclass, ttl);
	return s;
}

void hf_rrset_add_rr(struct hf_rrset *s, const uint8_t *rdata, uint16_t rdlen)
{
	hf_assert(s->n_sig == 0);  /* records come before the RRSIGs in data[] */
	memcpy(s->data + s->len, &rdlen, 2);
	if (rdlen)
		memcpy(s->data + s->len + 2, rdata, rdlen);
	s->len += 2 + (uint32_t)rdlen;
	s->n_rr++;
}

struct hf_rrset *hf_rrset_new1(const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
			       const uint8_t *rdata, uint16_t rdlen)
{
	struct hf_rrset *s = hf_rrset_alloc(owner, type, rclass, ttl, 2 + (size_t)rdlen);
	if (s != NULL)
		hf_rrset_add_rr(s, rdata, rdlen);
	return s;
}

size_t hf_rrset_size(const struct hf_rrset *s)
{
	return sizeof(*s) + s->len;
}

struct hf_rrset *hf_rrset_dup(const struct hf_rrset *s)
{
	struct hf_rrset *c = malloc(hf_rrset_size(s));
	if (c != NULL)
		memcpy(c, s, hf_rrset_size(s));
	return c;
}

const uint8_t *hf_rrset_rdata(const struct hf_rrset *s, unsigned i, uint16_t *rdlen)
{
	if (i >= (unsigned)s->n_rr + s->n_sig)
		return NULL;
	uint32_t off = 0;
	for (;;) {
		uint16_t len;
		memcpy(&len, s->data + off, 2);
		if (i == 0) {
			*rdlen = len;
			return s->data + off + 2;
		}
		off += 2 + (uint32_t)len;
		i--;
	}
}
