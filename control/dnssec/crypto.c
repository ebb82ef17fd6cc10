/*
 * DNSSEC cryptography on OpenSSL 3 (EVP only): DNSKEY/RRSIG/DS RDATA, key
 * tags, DS digests, signed data and signature checks. See crypto.h.
 *
 * Error policy: a verdict on the data (bad signature, malformed key or
 * record) is returned as such and not logged, since it comes from the
 * network; a failure of the library itself is logged once through
 * crypto_error(), which also drains OpenSSL's error queue, and returned as
 * HF_ECRYPTO so that the validator never calls it BOGUS.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "include/holdfast/canon.h"
#include "include/holdfast/defines.h"
#include "include/holdfast/errcode.h"
#include "include/holdfast/name.h"
#include "include/holdfast/wire_ctx.h"
#include "control/dnssec/crypto.h"

/* Wire sizes (RFC 4034 §2.1, §3.1, §5.1). */
#define DNSKEY_FIXED 4   /* flags, protocol, algorithm */
#define RRSIG_FIXED 18   /* up to the signer's name */
#define DS_FIXED 4       /* key tag, algorithm, digest type */

/* RFC 3110 §2: modulus 512..4096 bits; the exponent no longer than that. */
#define RSA_MODULUS_MIN 64    /* octets */
#define RSA_MODULUS_MAX 512   /* octets */

/* Room for a DER ECDSA-Sig-Value of P-384: SEQUENCE of two 49-octet INTEGERs. */
#define ECDSA_DER_MAX 112

/*
 * Logs a library failure with the first queued OpenSSL error, empties the
 * queue (a later, unrelated call must not report a stale error) and returns
 * HF_ECRYPTO.
 */
HF_COLD static int crypto_error(const char *what)
{
	unsigned long first = ERR_get_error();
	char text[256] = "no OpenSSL error queued";

	if (first != 0)
		ERR_error_string_n(first, text, sizeof(text));
	while (ERR_get_error() != 0)
		;
	fprintf(stderr, "hf-dnssec: %s: %s\n", what, text);
	return HF_ECRYPTO;
}

uint16_t hf_key_tag(const uint8_t *rdata, uint16_t len)
{
	uint32_t ac = 0;

	for (uint16_t i = 0; i < len; i++)
		ac += (i & 1) ? rdata[i] : (uint32_t)rdata[i] << 8;
	ac += (ac >> 16) & 0xffff;
	return (uint16_t)(ac & 0xffff);
}

int hf_dnskey_parse(const uint8_t *rdata, uint16_t len, struct hf_dnskey *out)
{
	struct hf_wire_ctx ctx;

	hf_wire_ctx_init(&ctx, rdata, len);
	out->flags = hf_wire_ctx_read_u16(&ctx);
	out->protocol = hf_wire_ctx_read_u8(&ctx);
	out->alg = hf_wire_ctx_read_u8(&ctx);
	if (ctx.error != 0 || out->protocol != 3)
		return HF_ERDATA;
	out->key_len = (uint16_t)hf_wire_ctx_available(&ctx);
	out->key = hf_wire_ctx_take(&ctx, out->key_len);
	out->rdata = rdata;
	out->rdlen = len;
	out->tag = hf_key_tag(rdata, len);
	return 0;
}

int hf_rrsig_parse(const uint8_t *rdata, uint16_t len, struct hf_rrsig *out)
{
	struct hf_wire_ctx ctx;

	hf_wire_ctx_init(&ctx, rdata, len);
	out->type_covered = hf_wire_ctx_read_u16(&ctx);
	out->alg = hf_wire_ctx_read_u8(&ctx);
	out->labels = hf_wire_ctx_read_u8(&ctx);
	out->orig_ttl = hf_wire_ctx_read_u32(&ctx);
	out->expiration = hf_wire_ctx_read_u32(&ctx);
	out->inception = hf_wire_ctx_read_u32(&ctx);
	out->key_tag = hf_wire_ctx_read_u16(&ctx);
	if (ctx.error != 0)
		return HF_ERDATA;
	int nlen = hf_name_check(rdata + ctx.pos, hf_wire_ctx_available(&ctx));
	if (nlen < 0)
		return HF_ERDATA;
	memcpy(out->signer, rdata + ctx.pos, (size_t)nlen);
	hf_name_lower(out->signer);
	hf_wire_ctx_skip(&ctx, (size_t)nlen);
	out->fixed_len = (uint16_t)ctx.pos;
	out->sig_len = (uint16_t)hf_wire_ctx_available(&ctx);
	out->sig = hf_wire_ctx_take(&ctx, out->sig_len);
	out->rdata = rdata;
	/* No signature at all cannot be checked, only misread. */
	if (ctx.error != 0 || out->sig_len == 0)
		return HF_ERDATA;
	return 0;
}

bool hf_alg_supported(uint8_t alg)
{
	switch (alg) {
	case HF_ALG_RSASHA1:
	case HF_ALG_RSASHA1_NSEC3:
	case HF_ALG_RSASHA256:
	case HF_ALG_RSASHA512:
	case HF_ALG_ECDSAP256SHA256:
	case HF_ALG_ECDSAP384SHA384:
	case HF_ALG_ED25519:
	case HF_ALG_ED448:
		return true;
	default:
		return false;
	}
}

/* The digest of a DS digest type, or NULL (GOST R 34.11-94, type 3, is not supported). */
static const EVP_MD *ds_md(uint8_t digest_type)
{
	switch (digest_type) {
	case HF_DS_SHA1:
		return EVP_sha1();
	case HF_DS_SHA256:
		return EVP_sha256();
	case HF_DS_SHA384:
		return EVP_sha384();
	default:
		return NULL;
	}
}

bool hf_ds_digest_supported(uint8_t digest_type)
{
	return digest_type == HF_DS_SHA1 || digest_type == HF_DS_SHA256 ||
	       digest_type == HF_DS_SHA384;
}

const char *hf_alg_name(uint8_t alg, char *buf, size_t size)
{
	/* Mnemonics of the IANA registry, including those we do not validate. */
	switch (alg) {
	case 1: return "RSAMD5";
	case 3: return "DSA";
	case HF_ALG_RSASHA1: return "RSASHA1";
	case 6: return "DSA-NSEC3-SHA1";
	case HF_ALG_RSASHA1_NSEC3: return "RSASHA1-NSEC3-SHA1";
	case HF_ALG_RSASHA256: return "RSASHA256";
	case HF_ALG_RSASHA512: return "RSASHA512";
	case 12: return "ECC-GOST";
	case HF_ALG_ECDSAP256SHA256: return "ECDSAP256SHA256";
	case HF_ALG_ECDSAP384SHA384: return "ECDSAP384SHA384";
	case HF_ALG_ED25519: return "ED25519";
	case HF_ALG_ED448: return "ED448";
	default:
		break;
	}
	if (buf == NULL || size == 0)
		return "ALG?";
	snprintf(buf, size, "ALG%u", (unsigned)alg);
	return buf;
}

int hf_ds_match(const uint8_t *owner, const uint8_t *ds, uint16_t ds_len,
		const uint8_t *dnskey, uint16_t dnskey_len)
{
	struct hf_wire_ctx ctx;
	uint8_t name[HF_NAME_MAXLEN];
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	EVP_MD_CTX *md_ctx = NULL;
	int ret;

	hf_wire_ctx_init(&ctx, ds, ds_len);
	uint16_t tag = hf_wire_ctx_read_u16(&ctx);
	uint8_t alg = hf_wire_ctx_read_u8(&ctx);
	uint8_t digest_type = hf_wire_ctx_read_u8(&ctx);
	if (ctx.error != 0 || dnskey_len < DNSKEY_FIXED)
		return HF_ERDATA;
	const EVP_MD *md = ds_md(digest_type);
	if (md == NULL)
		return HF_EALGORITHM;
	if (hf_wire_ctx_available(&ctx) != (size_t)EVP_MD_get_size(md))
		return HF_ERDATA;
	if (tag != hf_key_tag(dnskey, dnskey_len) || alg != dnskey[3])
		return HF_EBADSIG;

	/* RFC 4034 §5.1.4: digest = HASH(canonical owner | DNSKEY RDATA). */
	size_t name_len = hf_name_len(owner);
	memcpy(name, owner, name_len);
	hf_name_lower(name);
	md_ctx = EVP_MD_CTX_new();
	if (md_ctx == NULL)
		return -ENOMEM;
	if (EVP_DigestInit_ex(md_ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(md_ctx, name, name_len) != 1 ||
	    EVP_DigestUpdate(md_ctx, dnskey, dnskey_len) != 1 ||
	    EVP_DigestFinal_ex(md_ctx, digest, &digest_len) != 1) {
		ret = crypto_error("DS digest");
		goto out_free_ctx;
	}
	ret = CRYPTO_memcmp(digest, ds + DS_FIXED, digest_len) == 0 ? 0 : HF_EBADSIG;

out_free_ctx:
	EVP_MD_CTX_free(md_ctx);
	return ret;
}

/*
 * Builds a public key from parameters. A rejection by OpenSSL is a verdict
 * on the key (an EC point off its curve) when bad_key says so, otherwise a
 * library failure.
 */
static int pkey_from_params(const char *type, OSSL_PARAM_BLD *bld, bool bad_key, EVP_PKEY **out)
{
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	int ret = 0;

	params = OSSL_PARAM_BLD_to_param(bld);
	if (params == NULL) {
		ret = -ENOMEM;
		goto out_free;
	}
	ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	if (ctx == NULL) {
		ret = crypto_error(type);
		goto out_free;
	}
	if (EVP_PKEY_fromdata_init(ctx) != 1) {
		ret = crypto_error(type);
		goto out_free;
	}
	if (EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		if (bad_key) {
			ERR_clear_error();
			ret = HF_EKEY;
		} else {
			ret = crypto_error(type);
		}
	}

out_free:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return ret;
}

/* RFC 3110 §2: exponent length (1 octet, or 0 then 2 octets), exponent, modulus. */
static int rsa_pkey(const uint8_t *key, uint16_t key_len, EVP_PKEY **out)
{
	struct hf_wire_ctx ctx;
	OSSL_PARAM_BLD *bld = NULL;
	BIGNUM *e = NULL, *n = NULL;
	int ret;

	hf_wire_ctx_init(&ctx, key, key_len);
	size_t e_len = hf_wire_ctx_read_u8(&ctx);
	if (e_len == 0)
		e_len = hf_wire_ctx_read_u16(&ctx);
	const uint8_t *e_bin = hf_wire_ctx_take(&ctx, e_len);
	size_t n_len = hf_wire_ctx_available(&ctx);
	const uint8_t *n_bin = hf_wire_ctx_take(&ctx, n_len);
	if (ctx.error != 0 || e_len == 0 || e_len > RSA_MODULUS_MAX ||
	    n_len < RSA_MODULUS_MIN || n_len > RSA_MODULUS_MAX)
		return HF_EKEY;

	e = BN_bin2bn(e_bin, (int)e_len, NULL);
	n = BN_bin2bn(n_bin, (int)n_len, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (e == NULL || n == NULL || bld == NULL) {
		ret = -ENOMEM;
		goto out_free;
	}
	if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1) {
		ret = crypto_error("RSA parameters");
		goto out_free;
	}
	ret = pkey_from_params("RSA", bld, false, out);

out_free:
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return ret;
}

/* RFC 6605 §4: x | y, each the size of the field; OpenSSL wants 0x04 | x | y. */
static int ecdsa_pkey(const uint8_t *key, uint16_t key_len, const char *group, size_t want,
		      EVP_PKEY **out)
{
	uint8_t point[1 + 96];
	OSSL_PARAM_BLD *bld = NULL;
	int ret;

	if (key_len != want)
		return HF_EKEY;
	point[0] = 0x04;
	memcpy(point + 1, key, key_len);
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL)
		return -ENOMEM;
	if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
					     1 + (size_t)key_len) != 1) {
		ret = crypto_error("EC parameters");
		goto out_free;
	}
	ret = pkey_from_params("EC", bld, true, out);

out_free:
	OSSL_PARAM_BLD_free(bld);
	return ret;
}

/* RFC 8080 §3: the public key is the raw encoding of RFC 8032. */
static int eddsa_pkey(const uint8_t *key, uint16_t key_len, int type, size_t want,
		      EVP_PKEY **out)
{
	if (key_len != want)
		return HF_EKEY;
	*out = EVP_PKEY_new_raw_public_key(type, NULL, key, key_len);
	if (*out == NULL)
		return crypto_error("EdDSA key");
	return 0;
}

int hf_dnskey_pkey(const struct hf_dnskey *key, EVP_PKEY **out)
{
	*out = NULL;
	switch (key->alg) {
	case HF_ALG_RSASHA1:
	case HF_ALG_RSASHA1_NSEC3:
	case HF_ALG_RSASHA256:
	case HF_ALG_RSASHA512:
		return rsa_pkey(key->key, key->key_len, out);
	case HF_ALG_ECDSAP256SHA256:
		return ecdsa_pkey(key->key, key->key_len, "prime256v1", 64, out);
	case HF_ALG_ECDSAP384SHA384:
		return ecdsa_pkey(key->key, key->key_len, "secp384r1", 96, out);
	case HF_ALG_ED25519:
		return eddsa_pkey(key->key, key->key_len, EVP_PKEY_ED25519, 32, out);
	case HF_ALG_ED448:
		return eddsa_pkey(key->key, key->key_len, EVP_PKEY_ED448, 57, out);
	default:
		return HF_EALGORITHM;
	}
}

/* Owner name as signed: lower case, "*." + the last `labels` labels for a wildcard. */
static size_t signed_owner(const uint8_t *owner, int owner_labels, uint8_t labels, uint8_t *out)
{
	const uint8_t *tail = owner;
	size_t pos = 0;

	if (labels < owner_labels) {
		for (int i = 0; i < owner_labels - labels; i++)
			tail += 1 + *tail;
		out[pos++] = 1;
		out[pos++] = '*';
	}
	size_t tail_len = hf_name_len(tail);
	memcpy(out + pos, tail, tail_len);
	hf_name_lower(out);
	return pos + tail_len;
}

int hf_rrsig_signed_data(const struct hf_rrset *s, const struct hf_rrsig *sig,
			 uint8_t *out, size_t cap)
{
	uint8_t owner[HF_NAME_MAXLEN + 2];
	struct hf_rdata_ref *refs = NULL;
	uint8_t *scratch = NULL;
	size_t pos = 0, n;
	int ret;

	int owner_labels = hf_name_labels(s->owner);
	if (sig->labels > owner_labels || sig->fixed_len < RRSIG_FIXED)
		return HF_ERDATA;
	size_t owner_len = signed_owner(s->owner, owner_labels, sig->labels, owner);
	size_t signer_len = hf_name_len(sig->signer);

	/* RFC 4034 §3.1.8.1: the RRSIG RDATA without the signature, signer canonical. */
	if (cap < RRSIG_FIXED + signer_len)
		return HF_ESPACE;
	memcpy(out, sig->rdata, RRSIG_FIXED);
	memcpy(out + RRSIG_FIXED, sig->signer, signer_len);
	pos = RRSIG_FIXED + signer_len;
	if (s->n_rr == 0)
		return (int)pos;

	/* Canonical RDATA of every record (§6.2), then canonical order without duplicates (§6.3). */
	size_t total = 0;
	for (unsigned i = 0; i < s->n_rr; i++) {
		uint16_t len;
		hf_rrset_rdata(s, i, &len);
		total += len;
	}
	refs = malloc(s->n_rr * sizeof(*refs));
	scratch = malloc(total ? total : 1);
	if (refs == NULL || scratch == NULL) {
		ret = -ENOMEM;
		goto out_free;
	}
	size_t used = 0;
	for (unsigned i = 0; i < s->n_rr; i++) {
		uint16_t len;
		const uint8_t *rd = hf_rrset_rdata(s, i, &len);
		ret = hf_rdata_to_canonical(s->type, rd, len, scratch + used, total - used);
		if (ret < 0)
			goto out_free;
		refs[i].rdata = scratch + used;
		refs[i].len = len;
		used += len;
	}
	n = hf_rrset_canonical_order(refs, s->n_rr);

	/* Each RR: owner | type | class | original TTL | RDATA length | RDATA. */
	for (size_t i = 0; i < n; i++) {
		if (cap - pos < owner_len + 10 + refs[i].len) {
			ret = HF_ESPACE;
			goto out_free;
		}
		memcpy(out + pos, owner, owner_len);
		pos += owner_len;
		hf_wire_put_u16(out + pos, s->type);
		hf_wire_put_u16(out + pos + 2, s->rclass);
		hf_wire_put_u32(out + pos + 4, sig->orig_ttl);
		hf_wire_put_u16(out + pos + 8, refs[i].len);
		pos += 10;
		memcpy(out + pos, refs[i].rdata, refs[i].len);
		pos += refs[i].len;
	}
	ret = (int)pos;

out_free:
	free(scratch);
	free(refs);
	return ret;
}

/*
 * Signature digests, fetched once for the process (never freed): with
 * OpenSSL 3.0, EVP_sha256() and friends make every init look the
 * implementation up again, and a fetched EVP_MD does not. EVP_MD objects
 * are immutable once fetched and may be shared between threads.
 */
enum { MD_SHA1, MD_SHA256, MD_SHA384, MD_SHA512, MD_COUNT };
static EVP_MD *fetched_md[MD_COUNT];
static pthread_once_t fetched_md_once = PTHREAD_ONCE_INIT;

static void fetch_mds(void)
{
	static const char *const names[MD_COUNT] = { "SHA1", "SHA256", "SHA384", "SHA512" };

	for (int i = 0; i < MD_COUNT; i++) {
		fetched_md[i] = EVP_MD_fetch(NULL, names[i], NULL);
		if (fetched_md[i] == NULL)
			crypto_error(names[i]);  /* logged once; each use returns HF_ECRYPTO */
	}
}

/*
 * The digest an algorithm signs with: *md NULL for EdDSA (one-shot, no
 * digest). \return 0, HF_EALGORITHM, or HF_ECRYPTO if it could not be fetched.
 */
static int sig_md(uint8_t alg, const EVP_MD **md)
{
	int i;

	switch (alg) {
	case HF_ALG_RSASHA1:
	case HF_ALG_RSASHA1_NSEC3:
		i = MD_SHA1;
		break;
	case HF_ALG_RSASHA256:
	case HF_ALG_ECDSAP256SHA256:
		i = MD_SHA256;
		break;
	case HF_ALG_RSASHA512:
		i = MD_SHA512;
		break;
	case HF_ALG_ECDSAP384SHA384:
		i = MD_SHA384;
		break;
	case HF_ALG_ED25519:
	case HF_ALG_ED448:
		*md = NULL;
		return 0;
	default:
		return HF_EALGORITHM;
	}
	if (pthread_once(&fetched_md_once, fetch_mds) != 0 || fetched_md[i] == NULL)
		return HF_ECRYPTO;
	*md = fetched_md[i];
	return 0;
}

/*
 * RFC 6605 §4: r | s, each the size of the field, to the DER ECDSA-Sig-Value
 * OpenSSL verifies. \return DER length, HF_EBADSIG or -ENOMEM.
 */
static int ecdsa_sig_der(const uint8_t *sig, size_t sig_len, uint8_t der[ECDSA_DER_MAX])
{
	size_t half = sig_len / 2;
	BIGNUM *r = BN_bin2bn(sig, (int)half, NULL);
	BIGNUM *s = BN_bin2bn(sig + half, (int)half, NULL);
	ECDSA_SIG *es = ECDSA_SIG_new();
	int ret;

	if (r == NULL || s == NULL || es == NULL) {
		BN_free(r);
		BN_free(s);
		ret = -ENOMEM;
		goto out_free;
	}
	ECDSA_SIG_set0(es, r, s);  /* es owns r and s from here */
	int len = i2d_ECDSA_SIG(es, NULL);
	if (len <= 0 || len > ECDSA_DER_MAX) {
		ret = crypto_error("ECDSA signature encoding");
		goto out_free;
	}
	uint8_t *p = der;
	ret = i2d_ECDSA_SIG(es, &p);
	if (ret <= 0)
		ret = crypto_error("ECDSA signature encoding");

out_free:
	ECDSA_SIG_free(es);
	return ret;
}

/* Does the key fit the algorithm, and the signature the key? (A mismatch is a bad signature.) */
static bool sig_fits_key(EVP_PKEY *key, uint8_t alg, size_t sig_len)
{
	switch (alg) {
	case HF_ALG_RSASHA1:
	case HF_ALG_RSASHA1_NSEC3:
	case HF_ALG_RSASHA256:
	case HF_ALG_RSASHA512:
		/* A signature is an integer below the modulus, written in its size. */
		return EVP_PKEY_is_a(key, "RSA") && sig_len > 0 &&
		       sig_len <= (size_t)EVP_PKEY_get_size(key);
	case HF_ALG_ECDSAP256SHA256:
		return EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_bits(key) == 256 && sig_len == 64;
	case HF_ALG_ECDSAP384SHA384:
		return EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_bits(key) == 384 && sig_len == 96;
	case HF_ALG_ED25519:
		return EVP_PKEY_is_a(key, "ED25519") && sig_len == 64;
	case HF_ALG_ED448:
		return EVP_PKEY_is_a(key, "ED448") && sig_len == 114;
	default:
		return false;
	}
}

/*
 * A verification context prepared for one (key, algorithm): for RSA and
 * ECDSA an EVP_PKEY_CTX set up once for EVP_PKEY_verify() (padding and
 * signature digest included), which then checks a digest computed
 * separately; for EdDSA nothing (no pre-hash form: EVP_DigestVerify() per
 * call). Holds its own reference to the key, so that the key, and with it
 * the address the cache compares, stays valid as long as the entry does.
 */
struct prepared {
	EVP_PKEY *key;               /*!< our reference; NULL: empty entry */
	EVP_PKEY_CTX *pctx;          /*!< NULL for EdDSA */
	const EVP_MD *md;            /*!< NULL for EdDSA */
	uint8_t alg;
};

struct hf_sig_ctx {
	struct prepared entry[HF_SIG_CTX_KEYS];
	unsigned hand;               /*!< next entry replaced (round robin) */
	EVP_MD_CTX *hash;            /*!< reused for every pre-hash; NULL until first */
};

static void prepared_clear(struct prepared *p)
{
	EVP_PKEY_CTX_free(p->pctx);
	EVP_PKEY_free(p->key);
	memset(p, 0, sizeof(*p));
}

/*! \return 0, HF_EALGORITHM or HF_ECRYPTO; p is left empty unless 0. */
static int prepared_init(struct prepared *p, EVP_PKEY *key, uint8_t alg)
{
	const EVP_MD *md;
	int ret = sig_md(alg, &md);

	memset(p, 0, sizeof(*p));
	if (ret != 0)
		return ret;
	if (md != NULL) {
		bool rsa = alg != HF_ALG_ECDSAP256SHA256 && alg != HF_ALG_ECDSAP384SHA384;
		p->pctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
		if (p->pctx == NULL)
			return crypto_error("verify context");
		if (EVP_PKEY_verify_init(p->pctx) != 1 ||
		    (rsa && EVP_PKEY_CTX_set_rsa_padding(p->pctx, RSA_PKCS1_PADDING) != 1) ||
		    EVP_PKEY_CTX_set_signature_md(p->pctx, md) != 1) {
			ret = crypto_error("verify init");
			EVP_PKEY_CTX_free(p->pctx);
			p->pctx = NULL;
			return ret;
		}
	}
	if (EVP_PKEY_up_ref(key) != 1) {
		ret = crypto_error("key reference");
		EVP_PKEY_CTX_free(p->pctx);
		p->pctx = NULL;
		return ret;
	}
	p->key = key;
	p->md = md;
	p->alg = alg;
	return 0;
}

/* 1 valid, 0 invalid; below 0 the library failed (the form was checked before). */
static int verdict(int rc)
{
	if (rc == 1)
		return 0;
	if (rc == 0) {
		ERR_clear_error();
		return HF_EBADSIG;
	}
	return crypto_error("verify");
}

/* EdDSA: one-shot over the message (RFC 8032 "pure" mode has no pre-hash). */
static int eddsa_verify(EVP_PKEY *key, const uint8_t *data, size_t len, const uint8_t *sig,
			size_t sig_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ret;

	if (ctx == NULL)
		return -ENOMEM;
	if (EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, key, NULL) != 1)
		ret = crypto_error("verify init");
	else
		ret = verdict(EVP_DigestVerify(ctx, sig, sig_len, data, len));
	EVP_MD_CTX_free(ctx);
	return ret;
}

/* The check itself, with a prepared entry; hash NULL: a one-shot digest. */
static int prepared_verify(const struct prepared *p, EVP_MD_CTX *hash, const uint8_t *data,
			   size_t len, const uint8_t *sig, size_t sig_len)
{
	uint8_t der[ECDSA_DER_MAX];
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	int ret;

	if (p->pctx == NULL)
		return eddsa_verify(p->key, data, len, sig, sig_len);
	if (p->alg == HF_ALG_ECDSAP256SHA256 || p->alg == HF_ALG_ECDSAP384SHA384) {
		ret = ecdsa_sig_der(sig, sig_len, der);
		if (ret < 0)
			return ret;
		sig = der;
		sig_len = (size_t)ret;
	}
	if (hash != NULL) {
		if (EVP_DigestInit_ex(hash, p->md, NULL) != 1 ||
		    EVP_DigestUpdate(hash, data, len) != 1 ||
		    EVP_DigestFinal_ex(hash, digest, &digest_len) != 1)
			return crypto_error("signature digest");
	} else if (EVP_Digest(data, len, digest, &digest_len, p->md, NULL) != 1) {
		return crypto_error("signature digest");
	}
	/* EVP_PKEY_verify() leaves the context as it was: it serves the next check. */
	return verdict(EVP_PKEY_verify(p->pctx, sig, sig_len, digest, digest_len));
}

struct hf_sig_ctx *hf_sig_ctx_new(void)
{
	return calloc(1, sizeof(struct hf_sig_ctx));
}

void hf_sig_ctx_free(struct hf_sig_ctx *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < HF_SIG_CTX_KEYS; i++)
		prepared_clear(&c->entry[i]);
	EVP_MD_CTX_free(c->hash);
	free(c);
}

int hf_sig_verify_ctx(struct hf_sig_ctx *c, EVP_PKEY *key, uint8_t alg, const uint8_t *data,
		      size_t len, const uint8_t *sig, size_t sig_len)
{
	struct prepared *p = NULL, one;
	int ret;

	if (!hf_alg_supported(alg))
		return HF_EALGORITHM;
	if (!sig_fits_key(key, alg, sig_len))
		return HF_EBADSIG;
	if (c == NULL) {
		/* Stateless: prepare, check, release. */
		ret = prepared_init(&one, key, alg);
		if (ret != 0)
			return ret;
		ret = prepared_verify(&one, NULL, data, len, sig, sig_len);
		prepared_clear(&one);
		return ret;
	}

	/* The entry holds a reference to its key: an address found here is
	 * that very key, never a freed one's successor. */
	for (unsigned i = 0; i < HF_SIG_CTX_KEYS; i++) {
		if (c->entry[i].key == key && c->entry[i].alg == alg) {
			p = &c->entry[i];
			break;
		}
	}
	if (p == NULL) {
		p = &c->entry[c->hand];
		c->hand = (c->hand + 1) % HF_SIG_CTX_KEYS;
		prepared_clear(p);
		ret = prepared_init(p, key, alg);
		if (ret != 0)
			return ret;
	}
	if (c->hash == NULL && p->md != NULL && (c->hash = EVP_MD_CTX_new()) == NULL)
		return -ENOMEM;
	return prepared_verify(p, c->hash, data, len, sig, sig_len);
}

int hf_sig_verify(EVP_PKEY *key, uint8_t alg, const uint8_t *data, size_t len,
		  const uint8_t *sig, size_t sig_len)
{
	return hf_sig_verify_ctx(NULL, key, alg, data, len, sig, sig_len);
}
