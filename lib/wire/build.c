#include <errno.h>
#include <string.h>

#include "include/holdfast/build.h"
#include "include/holdfast/errcode.h"
#include "include/holdfast/name.h"
#include "include/holdfast/wire_ctx.h"
#include "lib/wire/rdata.h"

#define HF_COMP_PTR_MAX 0x3fff  /* highest offset a compression pointer can hold */

enum { HF_COUNT_QD = 0, HF_COUNT_AN = 1 };

int hf_build_init(struct hf_build *b, uint8_t *wire, uint16_t cap, uint16_t id, uint16_t flags)
{
	memset(b, 0, sizeof(*b));
	if (cap < HF_DNS_HEADER_SIZE)
		return HF_ESPACE;
	b->wire = wire;
	b->cap = cap;
	memset(wire, 0, HF_DNS_HEADER_SIZE);
	hf_wire_put_u16(wire, id);
	hf_wire_put_u16(wire + 2, flags);
	b->pos = HF_DNS_HEADER_SIZE;
	return 0;
}

void hf_build_set_flags(struct hf_build *b, uint16_t flags)
{
	hf_wire_put_u16(b->wire + 2, flags);
}

static inline uint16_t hf_build_room(const struct hf_build *b)
{
	return (uint16_t)(b->cap - b->pos);
}

/* Offset of an earlier name in the message equal to name, or 0. */
static uint16_t hf_comp_find(const struct hf_build *b, const uint8_t *name)
{
	uint8_t seen[HF_NAME_MAXLEN];

	for (unsigned i = 0; i < b->n_comp; i++) {
		size_t pos = b->comp[i];
		if (hf_name_unpack(b->wire, b->pos, &pos, seen) > 0 && hf_name_equal(seen, name))
			return b->comp[i];
	}
	return 0;
}

static void hf_comp_remember(struct hf_build *b, uint16_t off)
{
	if (b->n_comp < HF_BUILD_COMP_MAX && off <= HF_COMP_PTR_MAX)
		b->comp[b->n_comp++] = off;
}

/*
 * Writes a name, replacing its longest suffix already in the message with a
 * pointer when compress is set. Returns 0 or HF_ESPACE (position unchanged
 * then is the caller's business: hf_build_rr rolls back the whole record).
 */
static int hf_build_name(struct hf_build *b, const uint8_t *name, bool compress)
{
	const uint8_t *l = name;

	while (*l != 0) {
		uint16_t ptr = compress ? hf_comp_find(b, l) : 0;
		if (ptr != 0) {
			if (hf_build_room(b) < 2)
				return HF_ESPACE;
			hf_wire_put_u16(b->wire + b->pos, (uint16_t)(0xC000 | ptr));
			b->pos += 2;
			return 0;
		}
		if (hf_build_room(b) < 1 + *l)
			return HF_ESPACE;
		hf_comp_remember(b, b->pos);
		memcpy(b->wire + b->pos, l, 1 + (size_t)*l);
		b->pos += 1 + *l;
		l += 1 + *l;
	}
	if (hf_build_room(b) < 1)
		return HF_ESPACE;
	b->wire[b->pos++] = 0;
	return 0;
}

static int hf_build_bytes(struct hf_build *b, const void *data, size_t len)
{
	if (hf_build_room(b) < len)
		return HF_ESPACE;
	if (len > 0)
		memcpy(b->wire + b->pos, data, len);
	b->pos += (uint16_t)len;
	return 0;
}

int hf_build_keep_question(struct hf_build *b, uint16_t question_end)
{
	if (b->count[HF_COUNT_QD] != 0 || b->pos != HF_DNS_HEADER_SIZE ||
	    question_end < HF_DNS_HEADER_SIZE + 5)
		return -EINVAL;
	if (question_end > b->cap)
		return HF_ESPACE;
	const uint8_t *qname = b->wire + HF_DNS_HEADER_SIZE;
	if (hf_name_check(qname, question_end - HF_DNS_HEADER_SIZE - 4) !=
	    question_end - HF_DNS_HEADER_SIZE - 4)
		return -EINVAL;
	for (const uint8_t *l = qname; *l != 0; l += 1 + *l)
		hf_comp_remember(b, (uint16_t)(l - b->wire));
	b->pos = question_end;
	b->count[HF_COUNT_QD] = 1;
	return 0;
}

int hf_build_question(struct hf_build *b, const uint8_t *qname, uint16_t qtype, uint16_t qclass)
{
	if (b->count[HF_COUNT_QD] != 0 || b->pos != HF_DNS_HEADER_SIZE)
		return -EINVAL;
	size_t len = hf_name_len(qname);
	if (hf_build_room(b) < len + 4)
		return HF_ESPACE;
	for (const uint8_t *l = qname; *l != 0; l += 1 + *l)
		hf_comp_remember(b, (uint16_t)(b->pos + (l - qname)));
	memcpy(b->wire + b->pos, qname, len);
	b->pos += (uint16_t)len;
	hf_wire_put_u16(b->wire + b->pos, qtype);
	hf_wire_put_u16(b->wire + b->pos + 2, qclass);
	b->pos += 4;
	b->count[HF_COUNT_QD] = 1;
	return 0;
}

/* Copies RDATA, compressing the names of the types that allow it (RFC 3597 §4). */
static int hf_build_rdata(struct hf_build *b, uint16_t type, const uint8_t *rdata, uint16_t len)
{
	const struct hf_rdata_layout *lay = hf_rdata_layout(type);
	int ret;

	if (lay == NULL || !(lay->flags & HF_RDATA_COMPRESS))
		return hf_build_bytes(b, rdata, len);
	if (len < lay->before)
		return HF_ERDATA;
	ret = hf_build_bytes(b, rdata, lay->before);
	size_t pos = lay->before;
	for (int i = 0; i < lay->names && ret == 0; i++) {
		/* The caller's RDATA is uncompressed: check the name fits in it. */
		int nlen = hf_name_check(rdata + pos, len - pos);
		if (nlen < 0)
			return HF_ERDATA;
		ret = hf_build_name(b, rdata + pos, true);
		pos += (size_t)nlen;
	}
	if (ret == 0)
		ret = hf_build_bytes(b, rdata + pos, len - pos);
	return ret;
}

int hf_build_rr(struct hf_build *b, uint8_t section, const uint8_t *owner, uint16_t type,
		uint16_t rclass, uint32_t ttl, const uint8_t *rdata, uint16_t rdlength)
{
	if (section >= HF_SECTION_COUNT || section < b->section || b->opt_rdlen_at != 0)
		return -EINVAL;

	const uint16_t start = b->pos;
	const uint16_t n_comp = b->n_comp;
	int ret = hf_build_name(b, owner, true);
	if (ret == 0 && hf_build_room(b) < 10)
		ret = HF_ESPACE;
	if (ret < 0)
		goto rollback;

	uint8_t *fixed = b->wire + b->pos;
	hf_wire_put_u16(fixed, type);
	hf_wire_put_u16(fixed + 2, rclass);
	hf_wire_put_u32(fixed + 4, ttl);
	b->pos += 10;
	const uint16_t rdata_at = b->pos;
	ret = hf_build_rdata(b, type, rdata, rdlength);
	if (ret < 0)
		goto rollback;
	/* Compression may have shortened the RDATA: write the length written. */
	hf_wire_put_u16(fixed + 8, (uint16_t)(b->pos - rdata_at));

	b->section = section;
	b->count[HF_COUNT_AN + section]++;
	return (int)(fixed + 4 - b->wire);

rollback:
	b->pos = start;
	b->n_comp = n_comp;
	return ret;
}

int hf_build_opt_begin(struct hf_build *b, uint16_t udp_size, uint8_t ext_rcode,
		       uint8_t version, uint16_t flags)
{
	if (b->has_opt)
		return -EINVAL;
	if (hf_build_room(b) < HF_OPT_RR_FIXED)
		return HF_ESPACE;
	uint8_t *p = b->wire + b->pos;
	p[0] = 0;  /* root owner */
	hf_wire_put_u16(p + 1, HF_TYPE_OPT);
	hf_wire_put_u16(p + 3, udp_size);
	hf_wire_put_u32(p + 5, (uint32_t)ext_rcode << 24 | (uint32_t)version << 16 | flags);
	hf_wire_put_u16(p + 9, 0);
	b->opt_rdlen_at = (uint16_t)(b->pos + 9);
	b->pos += HF_OPT_RR_FIXED;
	b->section = HF_SECTION_ADDITIONAL;
	b->has_opt = true;
	b->count[3]++;
	return 0;
}

int hf_build_opt_option(struct hf_build *b, uint16_t code, const void *data, uint16_t len)
{
	if (b->opt_rdlen_at == 0)
		return -EINVAL;
	if (hf_build_room(b) < 4 + (size_t)len)
		return HF_ESPACE;
	hf_wire_put_u16(b->wire + b->pos, code);
	hf_wire_put_u16(b->wire + b->pos + 2, len);
	b->pos += 4;
	return hf_build_bytes(b, data, len);
}

int hf_ede_render(uint8_t *buf, size_t cap, uint16_t info_code, const char *text)
{
	size_t tlen = text ? strlen(text) : 0;
	if (tlen > UINT16_MAX - 2 || cap < 6 + tlen)
		return HF_ESPACE;
	hf_wire_put_u16(buf, HF_EDNS_OPT_EDE);
	hf_wire_put_u16(buf + 2, (uint16_t)(2 + tlen));
	hf_wire_put_u16(buf + 4, info_code);
	if (tlen > 0)
		memcpy(buf + 6, text, tlen);
	return (int)(6 + tlen);
}

int hf_build_opt_ede(struct hf_build *b, uint16_t info_code, const char *text)
{
	if (b->opt_rdlen_at == 0)
		return -EINVAL;
	int len = hf_ede_render(b->wire + b->pos, hf_build_room(b), info_code, text);
	if (len < 0)
		return len;
	b->pos += (uint16_t)len;
	return 0;
}

int hf_build_opt_raw(struct hf_build *b, const uint8_t *options, uint16_t len)
{
	if (b->opt_rdlen_at == 0)
		return -EINVAL;
	return hf_build_bytes(b, options, len);
}

int hf_build_opt_end(struct hf_build *b)
{
	if (b->opt_rdlen_at == 0)
		return -EINVAL;
	hf_wire_put_u16(b->wire + b->opt_rdlen_at, (uint16_t)(b->pos - b->opt_rdlen_at - 2));
	b->opt_rdlen_at = 0;
	return 0;
}

int hf_build_finish(struct hf_build *b)
{
	if (b->opt_rdlen_at != 0)
		return -EINVAL;
	for (int i = 0; i < 4; i++)
		hf_wire_put_u16(b->wire + 4 + 2 * i, b->count[i]);
	return b->pos;
}
