#include <errno.h>
#include <string.h>

#include "include/holdfast/errcode.h"
#include "include/holdfast/name.h"
#include "include/holdfast/pkt.h"
#include "include/holdfast/wire_ctx.h"
#include "lib/wire/rdata.h"

/* Reads a name out of the message at the cursor, advancing past it. */
static int hf_ctx_name(struct hf_wire_ctx *ctx, uint8_t *out)
{
	if (ctx->error)
		return ctx->error;
	size_t pos = ctx->pos;
	int len = hf_name_unpack(ctx->wire, ctx->size, &pos, out);
	if (len < 0)
		hf_wire_ctx_fail(ctx, len);
	else
		ctx->pos = pos;
	return len;
}

/*
 * Checks a name embedded in RDATA [*pos, end). The name's own octets must lie
 * inside the RDATA; a name that runs off its end is malformed RDATA rather than
 * a truncated message.
 */
static int hf_rdata_name(const uint8_t *wire, size_t *pos, size_t end)
{
	int ret = hf_name_unpack(wire, end, pos, NULL);
	return ret == HF_ETRUNC ? HF_ERDATA : ret;
}

/*
 * Checks RDATA of the types whose layout we rely on later: fixed-size
 * addresses and the types that embed names (which may be compressed, so a bad
 * pointer there must be caught now, not when the control plane decompresses).
 * Other types are opaque octets.
 */
static int hf_rdata_check(const uint8_t *wire, uint16_t type, size_t off, size_t len)
{
	const struct hf_rdata_layout *lay = hf_rdata_layout(type);
	size_t end = off + len;
	size_t pos = off + (lay ? lay->before : 0);

	if (lay == NULL)
		return 0;
	if (lay->flags & HF_RDATA_EXACT)
		return len == lay->before ? 0 : HF_ERDATA;
	if (len < lay->before)
		return HF_ERDATA;
	for (int i = 0; i < lay->names; i++) {
		int ret = hf_rdata_name(wire, &pos, end);
		if (ret < 0)
			return ret;
	}
	if (lay->flags & HF_RDATA_TAIL)
		return 0;
	return end - pos == lay->after ? 0 : HF_ERDATA;
}

static int hf_opt_options(struct hf_pkt *pkt, size_t off, size_t len)
{
	return hf_edns_parse_options(&pkt->edns, pkt->wire, off, len);
}

int hf_edns_parse_options(struct hf_edns *edns, const uint8_t *wire, size_t off, size_t len)
{
	struct hf_wire_ctx ctx;
	hf_wire_ctx_init(&ctx, wire, off + len);
	ctx.pos = off;

	while (hf_wire_ctx_available(&ctx) > 0) {
		if (hf_wire_ctx_available(&ctx) < 4)
			return HF_EOPTLEN;
		uint16_t code = hf_wire_ctx_read_u16(&ctx);
		uint16_t olen = hf_wire_ctx_read_u16(&ctx);
		if (hf_wire_ctx_available(&ctx) < olen)
			return HF_EOPTLEN;
		if (edns->n_opts == HF_EDNS_MAX_OPTS)
			return HF_ETOOMANYOPT;

		switch (code) {
		case HF_EDNS_OPT_COOKIE:
			if (olen != HF_COOKIE_CLIENT_LEN &&
			    (olen < HF_COOKIE_CLIENT_LEN + HF_COOKIE_SERVER_MIN_LEN ||
			     olen > HF_COOKIE_CLIENT_LEN + HF_COOKIE_SERVER_MAX_LEN))
				return HF_ECOOKIE;
			break;
		case HF_EDNS_OPT_EDE:
			if (olen < 2)
				return HF_EEDELEN;
			break;
		default:
			break;
		}
		edns->opts[edns->n_opts++] = (struct hf_edns_opt){
			.code = code, .len = olen, .off = (uint16_t)ctx.pos,
		};
		hf_wire_ctx_skip(&ctx, olen);
	}
	return 0;
}

static int hf_opt_record(struct hf_pkt *pkt, const struct hf_rr *rr, size_t owner_len)
{
	if (pkt->edns.present)
		return HF_EMULTIOPT;
	if (rr->section != HF_SECTION_ADDITIONAL)
		return HF_EOPTSECTION;
	if (owner_len != 1)
		return HF_EOPTOWNER;

	pkt->edns.present = true;
	pkt->edns.rr_off = rr->owner_off;
	pkt->edns.udp_size = rr->rclass;
	pkt->edns.ext_rcode = (uint8_t)(rr->ttl >> 24);
	pkt->edns.version = (uint8_t)(rr->ttl >> 16);
	pkt->edns.flags = (uint16_t)rr->ttl;
	return hf_opt_options(pkt, rr->rdata_off, rr->rdlength);
}

static int hf_parse_question(struct hf_pkt *pkt, struct hf_wire_ctx *ctx)
{
	pkt->qname_off = (uint16_t)ctx->pos;
	int len = hf_ctx_name(ctx, pkt->qname);
	pkt->qtype = hf_wire_ctx_read_u16(ctx);
	pkt->qclass = hf_wire_ctx_read_u16(ctx);
	if (ctx->error)
		return ctx->error;
	pkt->qname_len = (uint8_t)len;
	hf_name_lower(pkt->qname);
	pkt->has_question = true;
	pkt->question_end = (uint16_t)ctx->pos;
	return 0;
}

static int hf_parse_record(struct hf_pkt *pkt, struct hf_wire_ctx *ctx, uint8_t section)
{
	struct hf_rr rr = { .owner_off = (uint16_t)ctx->pos, .section = section };
	int owner_len = hf_ctx_name(ctx, NULL);
	rr.type = hf_wire_ctx_read_u16(ctx);
	rr.rclass = hf_wire_ctx_read_u16(ctx);
	rr.ttl = hf_wire_ctx_read_u32(ctx);
	rr.rdlength = hf_wire_ctx_read_u16(ctx);
	if (ctx->error)
		return ctx->error;
	if (hf_wire_ctx_available(ctx) < rr.rdlength)
		return HF_ERDLEN;
	rr.rdata_off = (uint16_t)ctx->pos;
	hf_wire_ctx_skip(ctx, rr.rdlength);

	if (rr.type == HF_TYPE_OPT)
		return hf_opt_record(pkt, &rr, (size_t)owner_len);

	int ret = hf_rdata_check(pkt->wire, rr.type, rr.rdata_off, rr.rdlength);
	if (ret < 0)
		return ret;
	if (pkt->rr == NULL)
		return 0;
	if (pkt->rr_count == pkt->rr_cap)
		return HF_ETOOMANYRR;
	pkt->rr[pkt->rr_count++] = rr;
	return 0;
}

int hf_pkt_parse(struct hf_pkt *pkt, const uint8_t *wire, size_t size,
		 struct hf_rr *rr, uint16_t rr_cap)
{
	struct hf_wire_ctx ctx;
	int ret;

	memset(pkt, 0, offsetof(struct hf_pkt, qname));
	pkt->qname[0] = 0;
	memset(&pkt->edns, 0, offsetof(struct hf_edns, opts));
	pkt->wire = wire;
	pkt->rr = rr;
	pkt->rr_cap = rr ? rr_cap : 0;
	pkt->rr_count = 0;
	if (size > UINT16_MAX)
		return -EMSGSIZE;
	pkt->size = (uint16_t)size;

	hf_wire_ctx_init(&ctx, wire, size);
	pkt->id = hf_wire_ctx_read_u16(&ctx);
	pkt->flags = hf_wire_ctx_read_u16(&ctx);
	pkt->qdcount = hf_wire_ctx_read_u16(&ctx);
	pkt->ancount = hf_wire_ctx_read_u16(&ctx);
	pkt->nscount = hf_wire_ctx_read_u16(&ctx);
	pkt->arcount = hf_wire_ctx_read_u16(&ctx);
	if (ctx.error)
		return ctx.error;
	pkt->header_ok = true;

	if (pkt->qdcount > 1)
		return HF_EQDCOUNT;
	if (pkt->qdcount == 1) {
		ret = hf_parse_question(pkt, &ctx);
		if (ret < 0)
			return ret;
	}

	const uint16_t counts[HF_SECTION_COUNT] = { pkt->ancount, pkt->nscount, pkt->arcount };
	for (uint8_t s = 0; s < HF_SECTION_COUNT; s++) {
		for (unsigned i = 0; i < counts[s]; i++) {
			ret = hf_parse_record(pkt, &ctx, s);
			if (ret < 0)
				return ret;
		}
	}
	if (ctx.pos != ctx.size)
		return HF_ETRAILING;
	return 0;
}

const struct hf_edns_opt *hf_edns_find(const struct hf_edns *edns, uint16_t code, unsigned *from)
{
	unsigned i = from ? *from : 0;
	for (; i < edns->n_opts; i++) {
		if (edns->opts[i].code == code) {
			if (from)
				*from = i + 1;
			return &edns->opts[i];
		}
	}
	if (from)
		*from = i;
	return NULL;
}
