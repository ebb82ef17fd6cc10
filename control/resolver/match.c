/*
 * Response matching.
 */
#include <string.h>

#include "include/holdfast/name.h"
#include "control/resolver/match.h"

static bool same_host(const union hf_addr *a, const union hf_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	return memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
}

static uint16_t port_of(const union hf_addr *a)
{
	return a->sa.sa_family == AF_INET6 ? a->in6.sin6_port : a->in.sin_port;
}

enum hf_match hf_match_response(const struct hf_match_key *key, const union hf_addr *from,
				const uint8_t *wire, size_t len, struct hf_pkt *pkt,
				struct hf_rr *rr, uint16_t rr_cap)
{
	if (from != NULL) {
		if (!same_host(from, &key->to))
			return HF_MATCH_ADDR;
		if (port_of(from) != port_of(&key->to))
			return HF_MATCH_PORT;
	}
	int ret = hf_pkt_parse(pkt, wire, len, rr, rr_cap);
	/* Check the ID even on a bad parse: a stray datagram is not a broken server. */
	if (!pkt->header_ok)
		return HF_MATCH_MALFORMED;
	if (pkt->id != key->id)
		return HF_MATCH_ID;
	if (ret != 0)
		return HF_MATCH_MALFORMED;
	if (!(pkt->flags & HF_FLAG_QR) || HF_FLAGS_OPCODE(pkt->flags) != HF_OPCODE_QUERY)
		return HF_MATCH_NOT_RESPONSE;
	if (!pkt->has_question) {
		/* Some servers drop the question when they reject EDNS; allow it
		 * for FORMERR only, so the EDNS fallback can see it. */
		return HF_FLAGS_RCODE(pkt->flags) == HF_RCODE_FORMERR ? HF_MATCH_OK : HF_MATCH_QUESTION;
	}
	if (pkt->qtype != key->qtype || pkt->qclass != key->qclass ||
	    !hf_name_equal(pkt->qname, key->qname))
		return HF_MATCH_QUESTION;
	if (pkt->qname_len != hf_name_len(key->qname) ||
	    memcmp(wire + pkt->qname_off, key->qname, pkt->qname_len) != 0)
		return HF_MATCH_CASE;
	return HF_MATCH_OK;
}

const char *hf_match_str(enum hf_match m)
{
	switch (m) {
	case HF_MATCH_OK: return "ok";
	case HF_MATCH_ADDR: return "wrong address";
	case HF_MATCH_PORT: return "wrong port";
	case HF_MATCH_MALFORMED: return "malformed";
	case HF_MATCH_NOT_RESPONSE: return "not a response";
	case HF_MATCH_ID: return "wrong ID";
	case HF_MATCH_QUESTION: return "wrong question";
	case HF_MATCH_CASE: return "wrong case";
	}
	return "?";
}
