/*
 * DNSSEC cryptography (RFC 4034, 4509, 5702, 6605, 8080, 8624) on OpenSSL 3:
 * DNSKEY and RRSIG RDATA, key tags, DS digests, the signed data of an RRset
 * and the signature check itself.
 *
 * No state but two things, and no caches of the data (the verifier,
 * control/dnssec/verifier.h, keeps parsed keys and verified signatures):
 *  - the signature digests (SHA-1, -256, -384, -512) are fetched once per
 *    process (EVP_MD_fetch, on first use, never freed) and shared: EVP_MD
 *    objects are immutable;
 *  - a struct hf_sig_ctx, which its owner creates for one thread, keeps
 *    verification contexts prepared per (EVP_PKEY, algorithm): for RSA and
 *    ECDSA an EVP_PKEY_CTX initialised once for EVP_PKEY_verify() (padding,
 *    signature digest), which then checks a digest of the data computed with
 *    the prefetched EVP_MD and a reused EVP_MD_CTX; EdDSA, which has no
 *    pre-hash form, is one EVP_DigestVerify() per call. With OpenSSL 3.0 the
 *    set-up (provider look-ups, context allocation) costs about a quarter of
 *    an RSA-2048 verification, so it is paid once per key and thread, not
 *    per signature.
 *
 * Thread safety: every function may be called from any thread at once,
 * except that one struct hf_sig_ctx must be used by one thread at a time
 * (its contexts are not thread-safe; give each thread its own). EVP_PKEYs
 * are shared read-only between threads, which OpenSSL 3 allows. A
 * hf_sig_ctx holds a reference to each key it has prepared (at most
 * HF_SIG_CTX_KEYS of them, replaced round robin), so a key compared by
 * address there is never a freed key's successor; the references go with
 * hf_sig_ctx_free(). hf_sig_verify() is the stateless form (prepares,
 * checks, releases) for callers that check few signatures per key.
 *
 * Results keep three outcomes apart, because the validator must never call
 * a library failure BOGUS: 0 (verified), HF_EBADSIG (the data is wrong),
 * and HF_ECRYPTO / -ENOMEM (we could not tell).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "include/holdfast/dns.h"
#include "control/resolver/rrset.h"

/*! DNSSEC algorithm numbers (IANA "DNS Security Algorithm Numbers"). */
enum hf_dnssec_alg {
	HF_ALG_RSASHA1         = 5,
	HF_ALG_RSASHA1_NSEC3   = 7,
	HF_ALG_RSASHA256       = 8,
	HF_ALG_RSASHA512       = 10,
	HF_ALG_ECDSAP256SHA256 = 13,
	HF_ALG_ECDSAP384SHA384 = 14,
	HF_ALG_ED25519         = 15,
	HF_ALG_ED448           = 16,
};

/*! DS digest types (IANA "Delegation Signer Digest Algorithms"). */
enum hf_ds_digest {
	HF_DS_SHA1   = 1,
	HF_DS_SHA256 = 2,
	HF_DS_SHA384 = 4,
};

#define HF_DNSKEY_FLAG_ZONE 0x0100  /*!< Zone Key bit (RFC 4034 §2.1.1) */
#define HF_DNSKEY_FLAG_SEP  0x0001  /*!< Secure Entry Point */
#define HF_DNSKEY_FLAG_REVOKE 0x0080 /*!< RFC 5011 */

/*! A DNSKEY record, by reference into its RDATA. */
struct hf_dnskey {
	uint16_t flags;
	uint8_t protocol;          /*!< must be 3 */
	uint8_t alg;
	uint16_t tag;              /*!< RFC 4034 Appendix B */
	const uint8_t *key;        /*!< public key field */
	uint16_t key_len;
	const uint8_t *rdata;
	uint16_t rdlen;
};

/*! An RRSIG record, by reference into its RDATA (signer copied, lower case). */
struct hf_rrsig {
	uint16_t type_covered;
	uint8_t alg;
	uint8_t labels;
	uint32_t orig_ttl;
	uint32_t expiration;       /*!< seconds since the epoch, serial arithmetic (RFC 1982) */
	uint32_t inception;
	uint16_t key_tag;
	uint8_t signer[HF_NAME_MAXLEN];
	const uint8_t *sig;
	uint16_t sig_len;
	const uint8_t *rdata;      /*!< whole RDATA */
	uint16_t fixed_len;        /*!< RDATA up to and including the signer's name */
};

/*! \brief Parse DNSKEY RDATA (tag computed). \return 0 or HF_ERDATA. */
int hf_dnskey_parse(const uint8_t *rdata, uint16_t len, struct hf_dnskey *out);

/*! \brief Key tag of DNSKEY RDATA (RFC 4034 Appendix B; algorithm 1 is not special-cased). */
uint16_t hf_key_tag(const uint8_t *rdata, uint16_t len);

/*! \brief Parse RRSIG RDATA (uncompressed). \return 0 or HF_ERDATA. */
int hf_rrsig_parse(const uint8_t *rdata, uint16_t len, struct hf_rrsig *out);

/*! \brief Can we validate this algorithm (RFC 8624 "MUST"/"RECOMMENDED" validation set)? */
bool hf_alg_supported(uint8_t alg);

/*! \brief Can we compute this DS digest type? */
bool hf_ds_digest_supported(uint8_t digest_type);

/*! \brief Mnemonic of an algorithm ("RSASHA256", "ECDSAP256SHA256", ...; "ALG<n>" if unknown). */
const char *hf_alg_name(uint8_t alg, char *buf, size_t size);

/*!
 * \brief Does DS RDATA match DNSKEY RDATA of the zone owner?
 *        Key tag, algorithm and digest (over owner | DNSKEY RDATA) must agree.
 * \param owner  the zone's name, wire form (case does not matter).
 * \return 0 match, HF_EBADSIG no match, HF_EALGORITHM digest type not
 *         supported, HF_ERDATA malformed DS, HF_ECRYPTO library failure.
 */
int hf_ds_match(const uint8_t *owner, const uint8_t *ds, uint16_t ds_len,
		const uint8_t *dnskey, uint16_t dnskey_len);

/*!
 * \brief The public key of a DNSKEY as an OpenSSL key.
 * \param out  receives a new EVP_PKEY (EVP_PKEY_free()).
 * \return 0, HF_EALGORITHM, HF_EKEY (malformed key field), HF_ECRYPTO or -ENOMEM.
 */
int hf_dnskey_pkey(const struct hf_dnskey *key, EVP_PKEY **out);

/*!
 * \brief The data an RRSIG signs (RFC 4034 §3.1.8.1, §6.2 and RFC 4035
 *        §5.3.2): RRSIG RDATA without the signature, then each record of
 *        the RRset in canonical form and order, owner name lower-cased (and
 *        reduced to "*.<last labels>" when sig->labels is smaller than the
 *        owner's label count: a wildcard expansion), TTL = original TTL.
 * \return Length written, HF_ESPACE if cap is too small, HF_ERDATA if the
 *         RRSIG labels exceed the owner's labels or a record is malformed.
 */
int hf_rrsig_signed_data(const struct hf_rrset *s, const struct hf_rrsig *sig,
			 uint8_t *out, size_t cap);

/*!
 * \brief Verify a signature (as found in RRSIG RDATA) over data with a key.
 *        ECDSA signatures are r|s (RFC 6605) and converted to DER here.
 *        Stateless: sets a context up for this one check (see
 *        hf_sig_verify_ctx() for many checks on one thread).
 * \return 0 valid, HF_EBADSIG invalid, HF_EALGORITHM, HF_ECRYPTO or -ENOMEM.
 */
int hf_sig_verify(EVP_PKEY *key, uint8_t alg, const uint8_t *data, size_t len,
		  const uint8_t *sig, size_t sig_len);

#define HF_SIG_CTX_KEYS 16  /*!< (key, algorithm) pairs a hf_sig_ctx keeps prepared */

/*! Prepared verification contexts for one thread (see the top of this file). */
struct hf_sig_ctx;

/*! \return an empty hf_sig_ctx, or NULL (out of memory). */
struct hf_sig_ctx *hf_sig_ctx_new(void);

/*! \brief Free the contexts and release the key references (NULL: nothing). */
void hf_sig_ctx_free(struct hf_sig_ctx *c);

/*!
 * \brief hf_sig_verify(), reusing the context c keeps for (key, alg), which
 *        is prepared on first use (replacing the oldest of HF_SIG_CTX_KEYS).
 *        c is used by one thread at a time; NULL is the stateless form.
 * \return as hf_sig_verify(); a library failure to prepare is HF_ECRYPTO.
 */
int hf_sig_verify_ctx(struct hf_sig_ctx *c, EVP_PKEY *key, uint8_t alg, const uint8_t *data,
		      size_t len, const uint8_t *sig, size_t sig_len);
