/*
 * What a response from a zone's server tells us, after the bailiwick checks
 * (Unbound's scrubber, in one pass): every RRset kept must be something a
 * server of `zone` may speak for.
 *
 *  - answer chain: starts at the question name; each CNAME (or DNAME, with
 *    its synthesised CNAME, RFC 6672) is followed only while its owner lies
 *    in the zone; records for names outside the zone are dropped;
 *  - negative answers: the SOA must be the zone's or a descendant's and an
 *    ancestor of (or equal to) the name denied;
 *  - referrals: the NS owner must lie strictly below the zone (no upward or
 *    sideways referrals) and be an ancestor of the name asked; glue is kept
 *    only for the NS names themselves, and only when they lie in the zone;
 *  - DNSSEC material: the referral's DS, and NSEC/NSEC3 RRsets owned by
 *    names in the zone, for the validator's proofs.
 */
#pragma once

#include <stdint.h>

#include "include/holdfast/pkt.h"
#include "control/resolver/rrset.h"

/*! Longest chain taken from one response (CNAMEs plus DNAMEs). */
#define HF_RESP_MAX_CHAIN 16
/*! Glue RRsets kept from one referral. */
#define HF_RESP_MAX_GLUE 32
/*! NSEC/NSEC3 RRsets kept from one response (RFC 5155 needs at most 3 per proof). */
#define HF_RESP_MAX_PROOF 8

enum hf_resp_kind {
	HF_RESP_ANSWER,    /*!< the asked type at the end of the chain */
	HF_RESP_CNAME,     /*!< chain leaves the zone: resolve next_name */
	HF_RESP_NXDOMAIN,
	HF_RESP_NODATA,
	HF_RESP_REFERRAL,
	HF_RESP_LAME,      /*!< nothing usable: try another server */
	HF_RESP_ERROR,     /*!< SERVFAIL, REFUSED, NOTIMP, FORMERR...: try another server */
};

struct hf_resp {
	enum hf_resp_kind kind;
	unsigned n_chain;
	struct hf_rrset *chain[HF_RESP_MAX_CHAIN];  /*!< CNAME/DNAME RRsets, in order */
	struct hf_rrset *answer;                    /*!< HF_RESP_ANSWER */
	uint8_t next_name[HF_NAME_MAXLEN];          /*!< end of the chain (qname if none) */
	struct hf_rrset *soa;                       /*!< negative answers, when present */
	struct hf_rrset *ns;                        /*!< HF_RESP_REFERRAL: owner is the cut */
	unsigned n_glue;
	struct hf_rrset *glue[HF_RESP_MAX_GLUE];
	struct hf_rrset *ds;                        /*!< HF_RESP_REFERRAL: the child's DS RRset, if any */
	unsigned n_proof;                           /*!< NSEC/NSEC3 of the zone in the authority section */
	struct hf_rrset *proof[HF_RESP_MAX_PROOF];  /*!< (denial, wildcard and no-DS proofs), with RRSIGs */
};

/*!
 * \brief Classify a matched response from a server of zone to (qname, qtype, qclass).
 * \return 0, or -ENOMEM (out is cleared either way before use; call hf_resp_clear()).
 */
int hf_resp_classify(const struct hf_pkt *pkt, const uint8_t *zone, const uint8_t *qname,
		     uint16_t qtype, uint16_t qclass, struct hf_resp *out);

/*! \brief Free what out holds. */
void hf_resp_clear(struct hf_resp *out);

/*! \brief Short name of a kind, for logs and tests. */
const char *hf_resp_kind_str(enum hf_resp_kind k);
