#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_memcpy.h>

#include "dataplane/csum_fast.h"
#include "dataplane/query.h"
#include "include/holdfast/defines.h"
#include "include/holdfast/build.h"
#include "include/holdfast/csum.h"
#include "include/holdfast/msg.h"
#include "include/holdfast/pkt.h"
#include "include/holdfast/wire_ctx.h"

static const char *const hf_query_reason_names[HF_QREASON_COUNT] = {
	[HF_QREASON_NONE]      = "none",
	[HF_QREASON_SHORT]     = "short",
	[HF_QREASON_RESPONSE]  = "response",
	[HF_QREASON_MALFORMED] = "malformed",
	[HF_QREASON_QDCOUNT]   = "qdcount",
	[HF_QREASON_OPCODE]    = "opcode",
	[HF_QREASON_BADVERS]   = "badvers",
	[HF_QREASON_CLASS]     = "class",
	[HF_QREASON_QTYPE]     = "qtype",
};

const char *hf_query_reason_name(enum hf_query_reason r)
{
	return (unsigned)r < HF_QREASON_COUNT ? hf_query_reason_names[r] : "unknown";
}

/* Header flags of a response to a query with these flags: RD and CD are
 * copied (RFC 1035 §4.1.1, RFC 4035 §3.2.2), RA is set (we recurse). */
static uint16_t hf_response_flags(uint16_t qflags, unsigned rcode)
{
	return (uint16_t)(HF_FLAG_QR | (qflags & (0xf << 11)) | (qflags & (HF_FLAG_RD | HF_FLAG_CD)) |
			  HF_FLAG_RA | (rcode & 0xf));
}

/*
 * Writes a response made of the client's header fields, its question when it
 * has a usable one (question_end != 0), and an OPT record when it sent one.
 */
static int hf_respond(uint8_t *dns, uint16_t room, uint16_t id, uint16_t qflags,
		      uint16_t question_end, bool edns, bool do_bit, unsigned rcode,
		      int ede, const char *text)
{
	struct hf_build b;

	hf_build_init(&b, dns, room, id, hf_response_flags(qflags, rcode));
	/* A question that cannot be kept leaves QDCOUNT at 0, still a valid reply. */
	if (question_end != 0)
		(void)hf_build_keep_question(&b, question_end);
	if (edns) {
		hf_build_opt_begin(&b, HF_QUERY_EDNS_MAX, (uint8_t)(rcode >> 4), 0,
				   do_bit ? HF_EDNS_FLAG_DO : 0);
		if (ede >= 0 && hf_build_opt_ede(&b, (uint16_t)ede, text) == HF_ESPACE)
			hf_build_opt_ede(&b, (uint16_t)ede, NULL);
		hf_build_opt_end(&b);
	}
	return hf_build_finish(&b);
}

static bool hf_qtype_refused(uint16_t qtype, enum hf_query_reason *reason)
{
	switch (qtype) {
	case HF_TYPE_AXFR:
	case HF_TYPE_IXFR:
	case HF_TYPE_OPT:
	case 253:  /* MAILB */
	case 254:  /* MAILA */
		*reason = HF_QREASON_QTYPE;
		return true;
	default:
		return false;
	}
}

/* Everything of a well-formed query but its name. */
static void hf_query_set(struct hf_query *q, const uint8_t *dns, uint16_t flags,
			 uint16_t question_end, uint16_t qtype, uint16_t qclass, bool edns,
			 bool do_bit, uint16_t udp_size, uint16_t room)
{
	q->id = hf_wire_get_u16(dns);
	q->flags = flags;
	q->question_end = question_end;
	q->qtype = qtype;
	q->qclass = qclass;
	q->edns = edns;
	q->variant = (uint8_t)((do_bit ? HF_VARIANT_DO : 0) |
			       ((flags & HF_FLAG_CD) ? HF_VARIANT_CD : 0));
	uint16_t limit = HF_UDP_MIN_SIZE;
	if (edns && udp_size > limit)
		limit = udp_size < HF_QUERY_EDNS_MAX ? udp_size : HF_QUERY_EDNS_MAX;
	q->udp_limit = limit < room ? limit : room;
}

static inline uint8_t hf_ascii_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* ASCII lower case of eight octets at once (SWAR): a byte gets 0x20 added
 * when it is below 0x80 and its low seven bits are in 'A'..'Z'. Per-byte
 * sums stay below 0x100, so nothing carries into the next byte. */
static inline uint64_t hf_ascii_lower8(uint64_t x)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	const uint64_t low7 = x & (0x7f * ones);
	const uint64_t ge_a = low7 + (0x80 - 'A') * ones;  /* high bit: >= 'A' */
	const uint64_t gt_z = low7 + (0x7f - 'Z') * ones;  /* high bit: > 'Z' */
	const uint64_t upper = (ge_a ^ gt_z) & ~x & (0x80 * ones);
	return x | (upper >> 2);
}

/*
 * Copies the n-octet name at src lower-cased into dst, and returns the
 * checksum sum (csum_fast.h, host order, unfolded) of the question as
 * received: the name and the 4 octets of type and class after it. One pass
 * over the name serves the cache key and the response's UDP checksum.
 */
static inline uint64_t hf_question_lower_sum(uint8_t *dst, const uint8_t *src, size_t n,
					     size_t src_room)
{
	uint64_t acc = 0;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, src + i, 8);
		acc += (w & 0xffffffffu) + (w >> 32);
		w = hf_ascii_lower8(w);
		memcpy(dst + i, &w, 8);
	}
	/* i is even, so the rest keeps the parity of its offsets. */
	acc = hf_csum_fast_add(acc, src + i, n - i + 4);
	if (i < n && i + 8 <= HF_NAME_MAXLEN && i + 8 <= src_room) {
		/* The last few octets as one more word: what follows the name
		 * in both buffers (type and class, the tailroom; the rest of
		 * the key array) is read and written but never used. */
		uint64_t w;
		memcpy(&w, src + i, 8);
		w = hf_ascii_lower8(w);
		memcpy(dst + i, &w, 8);
		return acc;
	}
	for (; i < n; i++)
		dst[i] = hf_ascii_lower(src[i]);
	return acc;
}

/*
 * True for the common OPT RDATA the full option parser would accept without
 * a second look: a single COOKIE option, client cookie alone or with a
 * server cookie (RFC 7873 §4). Anything else: false, and the caller asks
 * hf_edns_parse_options(), which decides.
 */
static inline bool hf_opt_options_ok(const uint8_t *rdata, uint16_t rdlen)
{
	if (rdlen < 4 || hf_wire_get_u16(rdata) != HF_EDNS_OPT_COOKIE)
		return false;
	const uint16_t olen = hf_wire_get_u16(rdata + 2);
	return olen + 4u == rdlen &&
	       (olen == HF_COOKIE_CLIENT_LEN ||
		(olen >= HF_COOKIE_CLIENT_LEN + HF_COOKIE_SERVER_MIN_LEN &&
		 olen <= HF_COOKIE_CLIENT_LEN + HF_COOKIE_SERVER_MAX_LEN));
}

/*
 * The shape of nearly every query: one question whose name is not
 * compressed, empty answer and authority sections, at most an OPT record,
 * class IN, an ordinary type. Read it in one pass, lower-casing the name
 * straight into the cache key. Anything else (and every error) goes to the
 * full parser, which also names the problem; so this may only say yes to
 * what hf_pkt_parse() accepts and the checks below would let through.
 */
static bool hf_query_fast(const uint8_t *dns, uint16_t len, uint16_t room, uint16_t flags,
			  struct hf_query *q)
{
	/* QDCOUNT 1, ANCOUNT 0, NSCOUNT 0, ARCOUNT 0 or 1: the eight octets
	 * 00 01 00 00 00 00 00 0x with x in {0, 1}, tested as one word (the
	 * caller checked that the 12-octet header is there). */
	uint64_t counts;
	memcpy(&counts, dns + 4, sizeof(counts));
	counts = rte_be_to_cpu_64(counts);
	if ((counts & ~UINT64_C(1)) != UINT64_C(1) << 48 ||
	    HF_FLAGS_OPCODE(flags) != HF_OPCODE_QUERY)
		return false;
	const bool has_ar = counts & 1;

	/* Walk the label lengths first, then lower-case the whole name eight
	 * octets at a time: length octets (at most 63) are below 'A', so they
	 * go through the case fold unchanged. */
	size_t pos = HF_DNS_HEADER_SIZE;
	for (;;) {
		if (pos >= len)
			return false;
		uint8_t lb = dns[pos];
		if (lb > HF_LABEL_MAXLEN)
			return false;  /* pointer or reserved label type */
		pos += 1 + (size_t)lb;
		if (lb == 0)
			break;
	}
	const size_t n = pos - HF_DNS_HEADER_SIZE;
	if (n > HF_NAME_MAXLEN || pos + 4 > len)
		return false;
	const uint64_t qsum = hf_question_lower_sum(q->qname, dns + HF_DNS_HEADER_SIZE, n,
						    (size_t)room - HF_DNS_HEADER_SIZE);
	uint16_t qtype = hf_wire_get_u16(dns + pos);
	uint16_t qclass = hf_wire_get_u16(dns + pos + 2);
	enum hf_query_reason unused;
	if (qclass != HF_CLASS_IN || hf_qtype_refused(qtype, &unused))
		return false;
	pos += 4;
	const uint16_t question_end = (uint16_t)pos;

	bool edns = false, do_bit = false;
	uint16_t udp_size = 0;
	if (has_ar) {
		/* The only additional record must be a well-formed OPT, version 0. */
		if (pos + HF_OPT_RR_FIXED > len || dns[pos] != 0 ||
		    hf_wire_get_u16(dns + pos + 1) != HF_TYPE_OPT || dns[pos + 6] != 0)
			return false;
		uint16_t rdlen = hf_wire_get_u16(dns + pos + 9);
		if (pos + HF_OPT_RR_FIXED + rdlen != len)
			return false;
		if (rdlen != 0 && !hf_opt_options_ok(dns + pos + HF_OPT_RR_FIXED, rdlen)) {
			struct hf_edns e;
			e.n_opts = 0;
			if (hf_edns_parse_options(&e, dns, pos + HF_OPT_RR_FIXED, rdlen) != 0)
				return false;
		}
		edns = true;
		udp_size = hf_wire_get_u16(dns + pos + 3);
		do_bit = hf_wire_get_u16(dns + pos + 7) & HF_EDNS_FLAG_DO;
	} else if (pos != len) {
		return false;
	}
	hf_query_set(q, dns, flags, question_end, qtype, qclass, edns, do_bit, udp_size, room);
	q->qname_len = (uint8_t)n;
	/* The question starts at offset 12: even, so no swap. */
	q->question_sum = rte_be_to_cpu_16(hf_csum_fast_fold(qsum));
	return true;
}

enum hf_query_verdict hf_query_parse(uint8_t *dns, uint16_t len, uint16_t room,
				     struct hf_query *q, uint16_t *out_len,
				     enum hf_query_reason *reason)
{
	struct hf_pkt pkt;
	unsigned rcode;
	int ede = -1;

	*reason = HF_QREASON_NONE;
	if (len < HF_DNS_HEADER_SIZE) {
		*reason = HF_QREASON_SHORT;
		return HF_QUERY_DROP;
	}
	uint16_t id = hf_wire_get_u16(dns);
	uint16_t flags = hf_wire_get_u16(dns + 2);
	if (flags & HF_FLAG_QR) {
		*reason = HF_QREASON_RESPONSE;
		return HF_QUERY_DROP;
	}
	if (hf_likely(hf_query_fast(dns, len, room, flags, q)))
		return HF_QUERY_LOOKUP;

	int ret = hf_pkt_parse(&pkt, dns, len, NULL, 0);
	bool question = ret == 0 && pkt.has_question;
	bool edns = ret == 0 && pkt.edns.present;
	bool do_bit = edns && (pkt.edns.flags & HF_EDNS_FLAG_DO);

	if (HF_FLAGS_OPCODE(flags) != HF_OPCODE_QUERY) {
		*reason = HF_QREASON_OPCODE;
		rcode = HF_RCODE_NOTIMP;
	} else if (ret != 0 || !question) {
		*reason = ret == HF_EQDCOUNT || ret == 0 ? HF_QREASON_QDCOUNT : HF_QREASON_MALFORMED;
		rcode = HF_RCODE_FORMERR;
		question = false;
		edns = false;  /* whatever it sent cannot be trusted */
	} else if (edns && pkt.edns.version > 0) {
		/* RFC 6891 §6.1.3: BADVERS, naming the version we speak (0). */
		*reason = HF_QREASON_BADVERS;
		rcode = HF_RCODE_BADVERS;
	} else if (pkt.qclass != HF_CLASS_IN) {
		*reason = HF_QREASON_CLASS;
		rcode = HF_RCODE_REFUSED;
		ede = HF_EDE_NOT_SUPPORTED;
	} else if (hf_qtype_refused(pkt.qtype, reason)) {
		rcode = pkt.qtype == HF_TYPE_OPT ? HF_RCODE_FORMERR : HF_RCODE_NOTIMP;
		ede = HF_EDE_NOT_SUPPORTED;
	} else {
		hf_query_set(q, dns, flags, pkt.question_end, pkt.qtype, pkt.qclass, edns, do_bit,
			     edns ? pkt.edns.udp_size : 0, room);
		q->qname_len = pkt.qname_len;
		memcpy(q->qname, pkt.qname, pkt.qname_len);
		q->question_sum = hf_csum_fast_at(dns + HF_DNS_HEADER_SIZE,
						  pkt.question_end - HF_DNS_HEADER_SIZE,
						  HF_DNS_HEADER_SIZE);
		return HF_QUERY_LOOKUP;
	}

	int n = hf_respond(dns, room, id, flags, question ? pkt.question_end : 0, edns, do_bit,
			   rcode, ede, NULL);
	if (n < 0)
		return HF_QUERY_DROP;
	*out_len = (uint16_t)n;
	return HF_QUERY_RESPOND;
}

int hf_query_error(uint8_t *dns, uint16_t room, const struct hf_query *q, uint16_t rcode,
		   int ede, const char *text)
{
	return hf_respond(dns, room, q->id, q->flags, q->question_end, q->edns,
			  q->variant & HF_VARIANT_DO, rcode, ede, text);
}

/*
 * hf_csum_at() of the OPT record hf_query_answer() writes at offset pos,
 * made from its field values: summing the bytes just written, in pieces
 * narrower than the loads, would stall on store forwarding. The options are
 * summed where they come from.
 */
static inline uint16_t hf_opt_sum(uint32_t ext, const uint8_t *ede, uint16_t ede_len, uint16_t pos)
{
	/* Octets 0..10 as if at an even offset: owner 0, type 41, class 1232,
	 * ext (rcode, version, flags), rdlength. Octet j is a word's high
	 * half when j is even. */
	uint32_t s = HF_TYPE_OPT << 8 | (HF_QUERY_EDNS_MAX >> 8) | (HF_QUERY_EDNS_MAX & 0xff) << 8;
	s += (ext >> 24) + ((ext >> 16) & 0xff) * 256 + ((ext >> 8) & 0xff) + (ext & 0xff) * 256;
	s += (uint32_t)(ede_len >> 8) + (uint32_t)(ede_len & 0xff) * 256;
	s = hf_csum_fold(s);
	if (pos & 1)
		s = (s << 8 | s >> 8) & 0xffff;
	return (uint16_t)hf_csum_fold(s + hf_csum_fast_at(ede, ede_len, (size_t)pos + HF_OPT_RR_FIXED));
}

int hf_query_answer(uint8_t *dns, uint16_t room, const struct hf_query *q,
		    const struct hf_answer *a, uint32_t *sum)
{
	const uint16_t qe = q->question_end;
	const uint16_t opt_len = q->edns ? HF_OPT_RR_FIXED + a->ede_len : 0;
	const uint16_t sections = (uint16_t)(a->msg_len - a->question_end);
	uint16_t flags = hf_response_flags(q->flags, a->rcode);
	uint16_t an = 0, ns = 0, ar = 0;
	uint16_t pos = qe;
	uint32_t acc = 0;

	if (a->question_end != qe)
		return -EINVAL;
	/* The control plane marks an answer too large for any UDP client. */
	if (hf_wire_get_u16(a->msg + 2) & HF_FLAG_TC)
		flags |= HF_FLAG_TC;
	/* RFC 6840 §5.8: AD only for clients that show they understand it. */
	if (a->ad && ((q->variant & HF_VARIANT_DO) || (q->flags & HF_FLAG_AD)))
		flags |= HF_FLAG_AD;

	if ((uint32_t)qe + sections + opt_len > q->udp_limit || (uint32_t)qe + sections + opt_len > room) {
		flags |= HF_FLAG_TC;
	} else {
		/* rte_memcpy: inline, and exact for the few dozen octets of a
		 * typical answer (no library call, no over-read). */
		rte_memcpy(dns + qe, a->msg + qe, sections);
		acc = a->sections_sum;
		/* Two 32-bit tests, kept apart: the caller has just stored
		 * these fields one by one, and GCC otherwise merges the tests
		 * into one 64-bit load, which store forwarding cannot serve
		 * from two narrower stores (a stall on every answer). */
		uint32_t age = a->age, stale_ttl = a->stale_ttl;
		__asm__("" : "+r"(age));
		if (age != 0 || stale_ttl != 0) {
			for (unsigned i = 0; i < a->n_ttl; i++) {
				const uint16_t off = a->ttl_off[i];
				/* Read the TTL from the entry, not from the copy
				 * just written: a narrow load inside a wide store
				 * in flight can miss store forwarding. */
				const uint32_t ttl = hf_wire_get_u32(a->msg + off);
				const uint32_t aged = stale_ttl ? stale_ttl
							  : ttl > age ? ttl - age : 0;
				hf_wire_put_u32(dns + off, aged);
				acc = hf_csum_replace(acc, hf_csum_fast_u32_at(ttl, off),
						      hf_csum_fast_u32_at(aged, off));
			}
		}
		an = hf_wire_get_u16(a->msg + 6);
		ns = hf_wire_get_u16(a->msg + 8);
		ar = hf_wire_get_u16(a->msg + 10);
		pos = (uint16_t)(qe + sections);
	}

	if (q->edns) {
		uint8_t *opt = dns + pos;
		if ((uint32_t)pos + opt_len > room)
			return -ENOSPC;
		opt[0] = 0;
		hf_wire_put_u16(opt + 1, HF_TYPE_OPT);
		hf_wire_put_u16(opt + 3, HF_QUERY_EDNS_MAX);
		const uint32_t ext = (uint32_t)(a->rcode >> 4) << 24 |
				     ((q->variant & HF_VARIANT_DO) ? HF_EDNS_FLAG_DO : 0);
		hf_wire_put_u32(opt + 5, ext);
		hf_wire_put_u16(opt + 9, a->ede_len);
		memcpy(opt + HF_OPT_RR_FIXED, a->ede, a->ede_len);
		if (sum)
			acc += hf_opt_sum(ext, a->ede, a->ede_len, pos);
		pos = (uint16_t)(pos + opt_len);
		ar++;
	}

	hf_wire_put_u16(dns + 2, flags);
	hf_wire_put_u16(dns + 4, 1);
	hf_wire_put_u16(dns + 6, an);
	hf_wire_put_u16(dns + 8, ns);
	hf_wire_put_u16(dns + 10, ar);
	if (sum) {
		/* The header is summed from the values just written, the client's
		 * question was summed by the parse, the sections' sum came with
		 * the answer: nothing is read again. */
		*sum = a->has_sum ? acc + q->id + flags + 1u + an + ns + ar + q->question_sum : 0;
	}
	return pos;
}
