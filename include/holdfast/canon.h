/*
 * Canonical form and order of records (RFC 4034 §6), as DNSSEC needs them
 * to compute and check signatures.
 *
 * RDATA here is uncompressed (the control plane decompresses records when it
 * takes them out of a response).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*! One record's RDATA, by reference. */
struct hf_rdata_ref {
	const uint8_t *rdata;
	uint16_t len;
};

/*!
 * \brief Copy RDATA into canonical form: names embedded in the RDATA of the
 *        types listed in RFC 4034 §6.2 (as corrected by RFC 6840 §5.1, which
 *        drops NSEC) are lower-cased.
 * \return Length written (== len), HF_ERDATA or HF_ESPACE.
 */
int hf_rdata_to_canonical(uint16_t type, const uint8_t *rdata, uint16_t len,
			  uint8_t *out, size_t cap);

/*!
 * \brief Canonical RR order within an RRset (RFC 4034 §6.3): RDATA compared as
 *        left-justified octet strings, a missing octet sorting first.
 */
int hf_rdata_cmp_canonical(const struct hf_rdata_ref *a, const struct hf_rdata_ref *b);

/*!
 * \brief Sort an RRset's canonical RDATA into canonical order and drop
 *        duplicates (RFC 4034 §6.3 requires both before signing).
 * \return The number of records kept, at the front of the array.
 */
size_t hf_rrset_canonical_order(struct hf_rdata_ref *rrs, size_t n);
