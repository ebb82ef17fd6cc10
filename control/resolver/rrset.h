/*
 * An RRset as the resolver keeps it: owner, type, class, TTL and the records'
 * uncompressed RDATA, plus the RRSIGs that cover it (kept for DO clients and
 * for validation, issue 5).
 *
 * Layout of data[] (Unbound's packed_rrset idea, simplified):
 *
 *     n_rr  x { u16 rdlength (host order), rdlength octets }   the records
 *     n_sig x { u16 rdlength (host order), rdlength octets }   the RRSIGs
 *
 * One allocation per RRset; copies are memcpy of sizeof + len.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/holdfast/dns.h"
#include "include/holdfast/pkt.h"

/*! Records kept per RRset; a larger set in a response is cut (TTL-bounded anyway). */
#define HF_RRSET_MAX_RR 64

/*! DNSSEC status of an RRset (Unbound's sec_status): what validation concluded. */
enum hf_sec {
	HF_SEC_UNCHECKED = 0,   /*!< not validated (yet): a library failure also stays here */
	HF_SEC_INSECURE,        /*!< provably unsigned, or under an NTA */
	HF_SEC_SECURE,
	HF_SEC_BOGUS,
	HF_SEC_INDETERMINATE,   /*!< the chain could not be fetched (servers unreachable) */
};

enum hf_rrset_flag {
	HF_RRSET_SYNTH = 1 << 0,  /*!< a CNAME synthesised from a DNAME: no RRSIG of its own */
};

struct hf_rrset {
	uint8_t owner[HF_NAME_MAXLEN];  /*!< lower case, uncompressed */
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;    /*!< smallest TTL of the records (RFC 2181 §5.2), seconds */
	uint16_t n_rr;
	uint16_t n_sig;
	uint8_t sec;     /*!< enum hf_sec */
	uint8_t flags;   /*!< enum hf_rrset_flag */
	uint32_t len;    /*!< octets used in data[] */
	uint8_t data[];
};

/*!
 * \brief Collect an RRset from a parsed message: every record of the given
 *        sections with this owner, type and class, plus the RRSIGs covering it.
 * \param sections  bit mask of (1 << enum hf_section).
 * \return A new RRset (free()), or NULL if there is no such record or on
 *         malformed RDATA or allocation failure.
 */
struct hf_rrset *hf_rrset_from_pkt(const struct hf_pkt *pkt, unsigned sections,
				   const uint8_t *owner, uint16_t type, uint16_t rclass);

/*!
 * \brief An empty RRset (no records yet) with room for rdata_room octets of
 *        records, each taking 2 + its RDATA length; fill it with
 *        hf_rrset_add_rr(). For sets built from parts (trust anchors, tests).
 * \return A new RRset (free()), or NULL on allocation failure.
 */
struct hf_rrset *hf_rrset_alloc(const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
				size_t rdata_room);

/*!
 * \brief Append a record to an RRset of hf_rrset_alloc() (before any RRSIG);
 *        the records added must fit the room it was given.
 */
void hf_rrset_add_rr(struct hf_rrset *s, const uint8_t *rdata, uint16_t rdlen);

/*!
 * \brief Build an RRset from one record's RDATA (tests, synthesised CNAMEs).
 * \return A new RRset (free()), or NULL on allocation failure.
 */
struct hf_rrset *hf_rrset_new1(const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
			       const uint8_t *rdata, uint16_t rdlen);

/*! \brief A copy (free()), or NULL on allocation failure. */
struct hf_rrset *hf_rrset_dup(const struct hf_rrset *s);

/*! \brief Octets allocated for s. */
size_t hf_rrset_size(const struct hf_rrset *s);

/*!
 * \brief Walk records: i in [0, n_rr) are the records, [n_rr, n_rr + n_sig) the RRSIGs.
 * \return Pointer to the RDATA of entry i (its length in *rdlen), or NULL if out of range.
 */
const uint8_t *hf_rrset_rdata(const struct hf_rrset *s, unsigned i, uint16_t *rdlen);


/*! \brief Owner name of a record, uncompressed and lower-cased into out. \return 0 or HF_E*. */
int hf_rr_owner(const struct hf_pkt *pkt, const struct hf_rr *rr, uint8_t *out);
