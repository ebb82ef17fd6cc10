/*
 * Rendering a resolution into struct hf_rendered (control/resolver.h), the
 * form the dataplane caches: header QR|RA|rcode, the question with the name
 * in lower case, the CNAME/DNAME chain and the answer RRset in the answer
 * section, the SOA in the authority section of a negative answer, the offset
 * of every TTL field, and the EDEs in EDNS option wire form. For DO
 * clients each RRset is followed by its RRSIGs, and the NSEC/NSEC3 proofs
 * (with theirs) go in the authority section.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "control/resolver.h"
#include "control/resolver/rrset.h"

struct hf_render_in {
	const uint8_t *qname;
	uint16_t qtype;
	uint16_t qclass;
	uint16_t rcode;
	const struct hf_rrset *const *answer;  /*!< chain then answer, each with its TTL left */
	unsigned n_answer;
	const struct hf_rrset *soa;            /*!< negative answers: the proving SOA, or NULL */
	uint32_t fail_ttl;                     /*!< TTL of an answer with no records (SERVFAIL) */
	bool has_ede;
	uint16_t ede;
	const char *ede_text;
	bool cached_error;                     /*!< add EDE 13 (Cached Error) after the first EDE */
	bool dnssec;                           /*!< DO client: RRSIGs and NSEC/NSEC3 proofs too */
	const struct hf_rrset *const *proof;   /*!< NSEC/NSEC3 RRsets for the authority section */
	unsigned n_proof;
	bool ad;                               /*!< validated secure (HF_FILL_AD) */
};

/*!
 * \brief Render an answer.
 *
 * TTL: the smallest TTL of the records; for a negative answer also
 * min(SOA TTL, SOA MINIMUM) (RFC 2308 §5), which the SOA record carries too.
 * If the message exceeds HF_RENDERED_MSG_MAX the authority section goes
 * first; if the answer still does not fit, TC is set and no records remain.
 *
 * \return 0, or HF_ESPACE if not even the header and question fit.
 */
int hf_render(struct hf_rendered *out, const struct hf_render_in *in);
