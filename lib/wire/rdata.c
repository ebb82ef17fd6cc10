#include <stddef.h>

#include "include/holdfast/dns.h"
#include "lib/wire/rdata.h"

#define ONE_NAME(fl)    { .before = 0, .names = 1, .after = 0, .flags = (fl) }
#define PREF_NAME(fl)   { .before = 2, .names = 1, .after = 0, .flags = (fl) }

static const struct hf_rdata_layout hf_layout_a      = { .before = 4, .flags = HF_RDATA_EXACT };
static const struct hf_rdata_layout hf_layout_aaaa   = { .before = 16, .flags = HF_RDATA_EXACT };
static const struct hf_rdata_layout hf_layout_1035   = ONE_NAME(HF_RDATA_COMPRESS | HF_RDATA_LOWER);
static const struct hf_rdata_layout hf_layout_dname  = ONE_NAME(HF_RDATA_LOWER);
static const struct hf_rdata_layout hf_layout_soa    = {
	.names = 2, .after = 20, .flags = HF_RDATA_COMPRESS | HF_RDATA_LOWER };
static const struct hf_rdata_layout hf_layout_minfo  = {
	.names = 2, .flags = HF_RDATA_COMPRESS | HF_RDATA_LOWER };
static const struct hf_rdata_layout hf_layout_rp     = { .names = 2, .flags = HF_RDATA_LOWER };
static const struct hf_rdata_layout hf_layout_mx     = PREF_NAME(HF_RDATA_COMPRESS | HF_RDATA_LOWER);
static const struct hf_rdata_layout hf_layout_pref   = PREF_NAME(HF_RDATA_LOWER);
static const struct hf_rdata_layout hf_layout_px     = { .before = 2, .names = 2, .flags = HF_RDATA_LOWER };
static const struct hf_rdata_layout hf_layout_srv    = { .before = 6, .names = 1, .flags = HF_RDATA_LOWER };
static const struct hf_rdata_layout hf_layout_rrsig  = {
	.before = 18, .names = 1, .flags = HF_RDATA_LOWER | HF_RDATA_TAIL };
static const struct hf_rdata_layout hf_layout_nxt    = ONE_NAME(HF_RDATA_LOWER | HF_RDATA_TAIL);
/* RFC 6840 §5.1: the next-owner name of NSEC keeps its case. */
static const struct hf_rdata_layout hf_layout_nsec   = ONE_NAME(HF_RDATA_TAIL);

const struct hf_rdata_layout *hf_rdata_layout(uint16_t type)
{
	switch (type) {
	case HF_TYPE_A:
		return &hf_layout_a;
	case HF_TYPE_AAAA:
		return &hf_layout_aaaa;
	case HF_TYPE_NS: case HF_TYPE_MD: case HF_TYPE_MF: case HF_TYPE_CNAME:
	case HF_TYPE_MB: case HF_TYPE_MG: case HF_TYPE_MR: case HF_TYPE_PTR:
		return &hf_layout_1035;
	case HF_TYPE_DNAME:
		return &hf_layout_dname;
	case HF_TYPE_SOA:
		return &hf_layout_soa;
	case HF_TYPE_MINFO:
		return &hf_layout_minfo;
	case HF_TYPE_RP:
		return &hf_layout_rp;
	case HF_TYPE_MX:
		return &hf_layout_mx;
	case HF_TYPE_AFSDB: case HF_TYPE_RT: case HF_TYPE_KX:
		return &hf_layout_pref;
	case HF_TYPE_PX:
		return &hf_layout_px;
	case HF_TYPE_SRV:
		return &hf_layout_srv;
	case HF_TYPE_SIG: case HF_TYPE_RRSIG:
		return &hf_layout_rrsig;
	case HF_TYPE_NXT:
		return &hf_layout_nxt;
	case HF_TYPE_NSEC:
		return &hf_layout_nsec;
	default:
		/* NAPTR and A6 embed names after variable-length fields; they
		 * are rare enough on a resolver's path to stay opaque. */
		return NULL;
	}
}
