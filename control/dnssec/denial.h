/*
 * Authenticated denial of existence: what NSEC (RFC 4034 §4, RFC 4035 §5.4)
 * and NSEC3 (RFC 5155 §8) records prove, once their signatures are checked.
 *
 * The caller (the validator) has verified every RRset it passes here with
 * the zone's keys; these functions only reason about names, hashes and type
 * bitmaps. Pure functions, no allocation beyond the stack.
 *
 * Each proof returns a verdict and, when the proof fails, a short reason
 * for the EDE text ("no NSEC3 covers the next closer name b.example.").
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/resolver/rrset.h"

/*! RFC 9276 §3.2: above this many extra iterations, NSEC3 is treated as insecure. */
#define HF_NSEC3_MAX_ITERATIONS 150
#define HF_NSEC3_HASH_LEN 20     /*!< SHA-1, the only NSEC3 hash (RFC 5155 §11) */

enum hf_denial {
	HF_DENIAL_PROVEN = 0,   /*!< the records prove it */
	HF_DENIAL_OPTOUT,       /*!< an opt-out NSEC3 covers the name: unsigned delegations may exist, insecure */
	HF_DENIAL_ITERATIONS,   /*!< NSEC3 iterations above the cap: insecure, EDE 27 (RFC 9276) */
	HF_DENIAL_MISSING,      /*!< not proven: bogus, EDE 12 */
	HF_DENIAL_ERROR,        /*!< could not tell (crypto library failure): never bogus */
};

struct hf_denial_in {
	const uint8_t *zone;                 /*!< the signer: the zone whose records these are */
	const struct hf_rrset *const *sets;  /*!< NSEC and/or NSEC3 RRsets (others ignored) */
	unsigned n;
	unsigned nsec3_max_iterations;       /*!< 0: HF_NSEC3_MAX_ITERATIONS */
};

/*! \brief qname does not exist, and no wildcard could have matched it (NXDOMAIN). */
enum hf_denial hf_denial_nxdomain(const struct hf_denial_in *in, const uint8_t *qname,
				  char *why, size_t why_size);

/*!
 * \brief qname exists but has no qtype (and no CNAME) (NODATA), or it is
 *        matched by a wildcard without qtype (wildcard NODATA, RFC 4035
 *        §5.4 / RFC 5155 §8.7). For qtype DS, an opt-out NSEC3 covering the
 *        next closer name gives HF_DENIAL_OPTOUT (RFC 5155 §8.6).
 */
enum hf_denial hf_denial_nodata(const struct hf_denial_in *in, const uint8_t *qname, uint16_t qtype,
				char *why, size_t why_size);

/*!
 * \brief A wildcard expansion is legitimate: qname itself does not exist
 *        (its next closer name below the source of synthesis is covered).
 * \param rrsig_labels  the Labels field of the RRSIG over the expanded RRset.
 */
enum hf_denial hf_denial_wildcard(const struct hf_denial_in *in, const uint8_t *qname,
				  unsigned rrsig_labels, char *why, size_t why_size);

/*!
 * \brief The delegation to child is unsigned: the NSEC/NSEC3 at child has NS
 *        and neither DS nor SOA, or an opt-out NSEC3 covers child's next
 *        closer name (HF_DENIAL_OPTOUT).
 */
enum hf_denial hf_denial_no_ds(const struct hf_denial_in *in, const uint8_t *child,
			       char *why, size_t why_size);

/*! \brief Is type's bit set in an NSEC/NSEC3 type bitmap (RFC 4034 §4.1.2)? */
bool hf_type_bitmap_has(const uint8_t *bitmap, size_t len, uint16_t type);

/*!
 * \brief NSEC3 hash of a name (RFC 5155 §5): SHA-1 over the lower-cased name
 *        and salt, iterated.
 * \return 0, HF_EALGORITHM (hash algorithm other than 1), HF_ECRYPTO.
 */
int hf_nsec3_hash(const uint8_t *name, uint8_t alg, uint16_t iterations, const uint8_t *salt,
		  uint8_t salt_len, uint8_t out[HF_NSEC3_HASH_LEN]);

/*! \brief Base32hex without padding (RFC 4648 §7), lower case. \return chars written (+NUL) or HF_ESPACE. */
int hf_base32hex_encode(const uint8_t *in, size_t len, char *out, size_t size);
/*! \brief Inverse, either case. \return octets written, HF_ERDATA or HF_ESPACE. */
int hf_base32hex_decode(const char *in, size_t len, uint8_t *out, size_t size);
