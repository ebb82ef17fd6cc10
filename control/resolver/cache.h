/*
 * The resolver's RRset cache: positive RRsets (answers, delegation NS sets,
 * glue), negative entries (NXDOMAIN for a name, NODATA for a name and type,
 * RFC 2308, each with the SOA that proves it), and cached failures (RFC 9520:
 * a resolution that failed is not retried for a few seconds).
 *
 * Used from the resolver's loop thread only; no locking. Entries are keyed by
 * (lower-case owner, type, class, kind); a name's delegation is simply its NS
 * RRset, so the closest enclosing cut is the nearest ancestor that has one.
 *
 * Trust (RFC 2181 §5.4.1): an RRset from an authoritative answer is not
 * replaced by the same RRset seen as a referral's NS or as glue, until it
 * expires.
 *
 * Memory: every entry counts its allocation; when the total exceeds the
 * bound, the least recently used entries go first. Pointers returned by the
 * lookups are copies the caller frees, so eviction never pulls data away
 * from a running resolution.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "control/resolver/rrset.h"

#define HF_CACHE_MAX_TTL   86400u  /*!< seconds; longer TTLs are capped (as Unbound's cache-max-ttl) */
#define HF_CACHE_NEG_MAX_TTL 3600u /*!< seconds; RFC 2308 §5 suggests 1-3 hours at most */
#define HF_CACHE_FAIL_TTL  5u      /*!< seconds a failure is remembered (RFC 9520 §3.2: at least 1) */

enum hf_cache_rank {
	HF_RANK_GLUE      = 1,  /*!< additional section, or a referral's NS from the parent */
	HF_RANK_AUTHORITY = 2,  /*!< authority section of an authoritative answer */
	HF_RANK_ANSWER    = 3,  /*!< answer section of an authoritative answer */
};

enum hf_neg_kind {
	HF_NEG_NONE = 0,
	HF_NEG_NXDOMAIN,
	HF_NEG_NODATA,
};

struct hf_cache;

/*! \brief A cache holding at most about max_bytes. \return NULL on allocation failure. */
struct hf_cache *hf_cache_create(size_t max_bytes);
void hf_cache_destroy(struct hf_cache *c);

/*! \brief Octets held now. */
size_t hf_cache_bytes(const struct hf_cache *c);

/*!
 * \brief Store a copy of an RRset for its TTL (capped).
 * \return 0 (also when a more trusted copy is kept instead), or -ENOMEM.
 */
int hf_cache_put_rrset(struct hf_cache *c, const struct hf_rrset *s, enum hf_cache_rank rank,
		       uint64_t now);

/*!
 * \brief Look an RRset up.
 * \return A copy whose ttl is the time left (free()), or NULL.
 */
struct hf_rrset *hf_cache_get_rrset(struct hf_cache *c, const uint8_t *name, uint16_t type,
				    uint16_t rclass, uint64_t now);

/*!
 * \brief Look an RRset up, only if it was stored with at least min_rank
 *        (answers to clients must not come from glue, RFC 2181 §5.4.1).
 * \return A copy whose ttl is the time left (free()), or NULL.
 */
struct hf_rrset *hf_cache_get_rrset_ranked(struct hf_cache *c, const uint8_t *name, uint16_t type,
					   uint16_t rclass, uint64_t now, enum hf_cache_rank min_rank);

/*!
 * \brief Closest enclosing delegation: the NS RRset at name or its nearest
 *        ancestor that has one (for a DS question, pass the parent of the name).
 * \return A copy (free()), or NULL if not even the root's NS is cached.
 */
struct hf_rrset *hf_cache_find_ns(struct hf_cache *c, const uint8_t *name, uint16_t rclass,
				  uint64_t now);

/*!
 * \brief Store a negative answer proved by soa; the entry lives min(SOA TTL,
 *        SOA MINIMUM) seconds (RFC 2308 §5), capped.
 * \param kind  HF_NEG_NXDOMAIN (type ignored) or HF_NEG_NODATA.
 * \return 0, -EINVAL (no usable SOA), or -ENOMEM.
 */
int hf_cache_put_neg(struct hf_cache *c, enum hf_neg_kind kind, const uint8_t *name, uint16_t type,
		     uint16_t rclass, const struct hf_rrset *soa, uint64_t now);

/*!
 * \brief Is name (or name and type) known not to exist?
 * \param soa  receives a copy of the proving SOA with its time left as TTL (free()).
 * \return HF_NEG_NONE, HF_NEG_NXDOMAIN or HF_NEG_NODATA.
 */
enum hf_neg_kind hf_cache_get_neg(struct hf_cache *c, const uint8_t *name, uint16_t type,
				  uint16_t rclass, uint64_t now, struct hf_rrset **soa);

/*! \brief Remember that resolving (name, type) failed with an EDE and its text. */
int hf_cache_put_fail(struct hf_cache *c, const uint8_t *name, uint16_t type, uint16_t rclass,
		      uint16_t ede, const char *text, uint32_t seconds, uint64_t now);

/*!
 * \brief A remembered failure.
 * \return 1 and the EDE (text copied into text, text_size), or 0.
 */
int hf_cache_get_fail(struct hf_cache *c, const uint8_t *name, uint16_t type, uint16_t rclass,
		      uint64_t now, uint16_t *ede, char *text, size_t text_size);

/*! \brief The SOA negative TTL: min(TTL, MINIMUM), or 0 if the RDATA is short. */
uint32_t hf_soa_neg_ttl(const struct hf_rrset *soa);

/*!
 * \brief Record validation's verdict (enum hf_sec) on the cached copy of s,
 *        if the cache still holds exactly that data: as the RRset itself
 *        (neg HF_NEG_NONE) or as the SOA of the negative entry for
 *        (name, type) (the verdict on the whole denial). Lookups return it in
 *        the copy's sec field, so a cached answer is not validated again.
 */
void hf_cache_set_sec(struct hf_cache *c, enum hf_neg_kind neg, const uint8_t *name, uint16_t type,
		      const struct hf_rrset *s, uint8_t sec, uint64_t now);

/*! \brief Drop every entry at or below name. */
void hf_cache_flush(struct hf_cache *c, const uint8_t *name);
