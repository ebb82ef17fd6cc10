/*
 * The resolver's validation stage (control/resolver/sigcheck.c): one RRset
 * against a zone's DNSKEY set through the batch verifier, with keys made
 * and RRSIGs signed at test time (Ed25519 and ECDSA P-256), and the names
 * EDE texts give RRsets (hf_val_rrname(), hf_val_type_name()).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <uv.h>

#include "include/holdfast/errcode.h"
#include "include/holdfast/wire_ctx.h"
#include "control/dnssec/crypto.h"
#include "control/dnssec/verifier.h"
#include "control/resolver/resolver_impl.h"
#include "tests/unit/resolver_pkt.h"

#define ZONE "example.de."
#define SET_ROOM 8192   /* octets of data[] in a test RRset */

/* ------------------------------------------------------------------------ */
/* Keys, RRsets and RRSIGs                                                   */
/* ------------------------------------------------------------------------ */

/*! A signing key and its DNSKEY RDATA. */
struct tkey {
	EVP_PKEY *priv;
	uint8_t alg;
	uint8_t rdata[4 + 64];
	uint16_t rdlen;
	uint16_t tag;
};

static void key_make(struct tkey *k, uint8_t alg, uint16_t flags)
{
	uint8_t pub[65];
	size_t n = 0;

	memset(k, 0, sizeof(*k));
	k->alg = alg;
	if (alg == HF_ALG_ED25519) {
		k->priv = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		assert_non_null(k->priv);
		n = 32;
		assert_int_equal(EVP_PKEY_get_raw_public_key(k->priv, k->rdata + 4, &n), 1);
		assert_int_equal(n, 32);
	} else {
		k->priv = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		assert_non_null(k->priv);
		assert_int_equal(EVP_PKEY_get_octet_string_param(k->priv, OSSL_PKEY_PARAM_PUB_KEY, pub,
								 sizeof(pub), &n), 1);
		assert_int_equal(n, 65);  /* 04 | x | y; the DNSKEY keeps x | y (RFC 6605 §4) */
		memcpy(k->rdata + 4, pub + 1, 64);
		n = 64;
	}
	hf_wire_put_u16(k->rdata, flags);
	k->rdata[2] = 3;
	k->rdata[3] = alg;
	k->rdlen = (uint16_t)(4 + n);
	k->tag = hf_key_tag(k->rdata, k->rdlen);
}

/* Sign data with k: Ed25519 as is, ECDSA as r | s (RFC 6605 §4). Returns the length. */
static size_t key_sign(const struct tkey *k, const uint8_t *data, size_t len, uint8_t *sig)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t n;

	assert_non_null(md);
	if (k->alg == HF_ALG_ED25519) {
		assert_int_equal(EVP_DigestSignInit(md, NULL, NULL, NULL, k->priv), 1);
		n = 64;
		assert_int_equal(EVP_DigestSign(md, sig, &n, data, len), 1);
	} else {
		uint8_t der[80];
		size_t dlen = sizeof(der);
		assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k->priv), 1);
		assert_int_equal(EVP_DigestSign(md, der, &dlen, data, len), 1);
		const uint8_t *p = der;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
		assert_non_null(es);
		const BIGNUM *r, *s;
		ECDSA_SIG_get0(es, &r, &s);
		assert_int_equal(BN_bn2binpad(r, sig, 32), 32);
		assert_int_equal(BN_bn2binpad(s, sig + 32, 32), 32);
		ECDSA_SIG_free(es);
		n = 64;
	}
	EVP_MD_CTX_free(md);
	return n;
}

/* An empty RRset with room for SET_ROOM octets of records and RRSIGs. */
static struct hf_rrset *set_new(const char *owner, uint16_t type, uint32_t ttl)
{
	struct hf_rrset *s = calloc(1, sizeof(*s) + SET_ROOM);
	assert_non_null(s);
	const uint8_t *o = N(owner);
	memcpy(s->owner, o, hf_name_len(o));
	hf_name_lower(s->owner);
	s->type = type;
	s->rclass = HF_CLASS_IN;
	s->ttl = ttl;
	return s;
}

/* Append a record (before any RRSIG) or an RRSIG, rrset.h layout: u16 length in host order, RDATA. */
static void set_add(struct hf_rrset *s, const uint8_t *rd, uint16_t len, bool is_sig)
{
	assert_true(s->len + 2u + len <= SET_ROOM);
	if (!is_sig)
		assert_int_equal(s->n_sig, 0);
	memcpy(s->data + s->len, &len, 2);
	memcpy(s->data + s->len + 2, rd, len);
	s->len += 2u + len;
	if (is_sig)
		s->n_sig++;
	else
		s->n_rr++;
}

static void set_add_a(struct hf_rrset *s, uint8_t last)
{
	uint8_t rd[4] = { 192, 0, 2, last };
	set_add(s, rd, 4, false);
}

/* What an RRSIG says; zero fields take the usual values (see sig_add()). */
struct sigp {
	const struct tkey *key;
	uint16_t covered;         /*!< 0: the set's type */
	uint8_t alg;              /*!< 0: the key's */
	int labels;               /*!< -1: the owner's label count (a '*' not counted) */
	int64_t expiration;       /*!< relative to now; 0: +1 day */
	int64_t inception;        /*!< relative to now; 0: -1 day */
	int key_tag;              /*!< -1: the key's */
	const char *signer;       /*!< NULL: ZONE */
	bool flip;                /*!< flip a bit of the signature after signing */
};

static int owner_labels(const struct hf_rrset *s)
{
	int n = hf_name_labels(s->owner);
	return s->owner[0] == 1 && s->owner[1] == '*' ? n - 1 : n;
}

/* Sign the records of s as p says and append the RRSIG to s. */
static void sig_add(struct hf_rrset *s, const struct sigp *p)
{
	uint8_t rd[18 + HF_NAME_MAXLEN + 64];
	uint32_t now = hf_val_now_epoch();
	const uint8_t *signer = N(p->signer ? p->signer : ZONE);
	size_t slen = hf_name_len(signer);

	hf_wire_put_u16(rd, p->covered ? p->covered : s->type);
	rd[2] = p->alg ? p->alg : p->key->alg;
	rd[3] = (uint8_t)(p->labels >= 0 ? p->labels : owner_labels(s));
	hf_wire_put_u32(rd + 4, s->ttl);
	hf_wire_put_u32(rd + 8, (uint32_t)(now + (p->expiration ? p->expiration : 86400)));
	hf_wire_put_u32(rd + 12, (uint32_t)(now + (p->inception ? p->inception : -86400)));
	hf_wire_put_u16(rd + 16, (uint16_t)(p->key_tag >= 0 ? p->key_tag : p->key->tag));
	memcpy(rd + 18, signer, slen);  /* as given: the signed data has it in lower case */
	size_t fixed = 18 + slen;

	/* Parse it with a placeholder signature to get the signed data. */
	struct hf_rrsig sig;
	rd[fixed] = 0;
	assert_int_equal(hf_rrsig_parse(rd, (uint16_t)(fixed + 1), &sig), 0);
	static uint8_t data[SET_ROOM + 4096];
	int dlen = hf_rrsig_signed_data(s, &sig, data, sizeof(data));
	size_t n;
	if (dlen > 0) {
		n = key_sign(p->key, data, (size_t)dlen, rd + fixed);
	} else {
		/* Labels past the owner's: nothing to sign over; any signature will do. */
		memset(rd + fixed, 0x5a, 64);
		n = 64;
	}
	if (p->flip)
		rd[fixed + 10] ^= 0x04;
	set_add(s, rd, (uint16_t)(fixed + n), true);
}

/* ------------------------------------------------------------------------ */
/* Fixture: a loop, a resolver with a verifier, a KSK and a ZSK             */
/* ------------------------------------------------------------------------ */

struct fixture {
	uv_loop_t loop;
	struct hf_resolver *r;
	struct tkey ksk;          /*!< Ed25519, flags 257 */
	struct tkey zsk;          /*!< ECDSA P-256, flags 256 */
	struct hf_rrset *keys;    /*!< the zone's DNSKEY set: both */
};

/* What the callback was told. */
struct result {
	int calls;
	struct hf_verdict v;
	unsigned labels;
};

static void on_result(void *ctx, const struct hf_verdict *v, unsigned labels)
{
	struct result *res = ctx;
	res->calls++;
	res->v = *v;
	res->labels = labels;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[128] = "";

	assert_non_null(f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->r = calloc(1, sizeof(*f->r));
	assert_non_null(f->r);
	f->r->loop = &f->loop;
	f->r->verifier = hf_verifier_create(&f->loop, &(struct hf_verifier_config){ .threads = 1 },
					    err, sizeof(err));
	if (f->r->verifier == NULL)
		fail_msg("hf_verifier_create: %s", err);
	key_make(&f->ksk, HF_ALG_ED25519, 257);
	key_make(&f->zsk, HF_ALG_ECDSAP256SHA256, 256);
	/* Distinct tags keep the "no key with that tag" cases honest. */
	assert_int_not_equal(f->ksk.tag, f->zsk.tag);
	f->keys = set_new(ZONE, HF_TYPE_DNSKEY, 3600);
	set_add(f->keys, f->ksk.rdata, f->ksk.rdlen, false);
	set_add(f->keys, f->zsk.rdata, f->zsk.rdlen, false);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	hf_verifier_destroy(f->r->verifier);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	EVP_PKEY_free(f->ksk.priv);
	EVP_PKEY_free(f->zsk.priv);
	free(f->keys);
	free(f->r);
	free(f);
	return 0;
}

/* Check s against the zone's keys and run the loop until the verdict is in. */
static struct result check_with(struct fixture *f, const struct hf_rrset *s, const char *zone,
				const struct hf_rrset *keys)
{
	struct result res = { 0 };
	struct hf_sigcheck c;
	uint8_t z[HF_NAME_MAXLEN];
	memcpy(z, N(zone), HF_NAME_MAXLEN);
	hf_sigcheck_start(&c, f->r, s, z, keys, on_result, &res);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(res.calls, 1);
	return res;
}

static struct result check(struct fixture *f, const struct hf_rrset *s)
{
	return check_with(f, s, ZONE, f->keys);
}

static struct hf_rrset *a_set(const char *owner)
{
	struct hf_rrset *s = set_new(owner, HF_TYPE_A, 300);
	set_add_a(s, 1);
	set_add_a(s, 2);
	return s;
}

/* ------------------------------------------------------------------------ */
/* Cases                                                                     */
/* ------------------------------------------------------------------------ */

static void test_valid_is_secure(void **state)
{
	struct fixture *f = *state;
	const struct tkey *keys[] = { &f->ksk, &f->zsk };

	for (unsigned k = 0; k < 2; k++) {
		struct hf_rrset *s = a_set("WWW.Example.DE.");
		sig_add(s, &(struct sigp){ .key = keys[k], .labels = -1, .key_tag = -1 });
		struct result res = check(f, s);
		assert_int_equal(res.v.sec, HF_SEC_SECURE);
		assert_false(res.v.has_ede);
		assert_int_equal(res.labels, 3);
		free(s);
	}
}

static void test_wildcard_labels_reported(void **state)
{
	struct fixture *f = *state;
	/* a.b.example.de. expanded from *.example.de.: RRSIG labels 2. */
	struct hf_rrset *s = a_set("a.b.example.de.");
	sig_add(s, &(struct sigp){ .key = &f->zsk, .labels = 2, .key_tag = -1 });
	struct result res = check(f, s);
	assert_int_equal(res.v.sec, HF_SEC_SECURE);
	assert_int_equal(res.labels, 2);
	free(s);
	/* The wildcard owner itself: its '*' label does not count (RFC 4034 §3.1.3). */
	s = a_set("*.example.de.");
	sig_add(s, &(struct sigp){ .key = &f->zsk, .labels = -1, .key_tag = -1 });
	res = check(f, s);
	assert_int_equal(res.v.sec, HF_SEC_SECURE);
	assert_int_equal(res.labels, 2);
	free(s);
}

static void test_cache_hit_calls_back_synchronously(void **state)
{
	struct fixture *f = *state;
	struct hf_rrset *s = a_set("www.example.de.");
	sig_add(s, &(struct sigp){ .key = &f->ksk, .labels = -1, .key_tag = -1 });
	assert_int_equal(check(f, s).v.sec, HF_SEC_SECURE);

	/* Verified once: the second check is answered from the signature cache, inside start. */
	struct result res = { 0 };
	struct hf_sigcheck c;
	uint8_t z[HF_NAME_MAXLEN];
	memcpy(z, N(ZONE), HF_NAME_MAXLEN);
	hf_sigcheck_start(&c, f->r, s, z, f->keys, on_result, &res);
	assert_int_equal(res.calls, 1);
	assert_int_equal(res.v.sec, HF_SEC_SECURE);
	assert_int_equal(res.labels, 3);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(res.calls, 1);
	free(s);
}

static void test_flipped_signature_bit_is_bogus(void **state)
{
	struct fixture *f = *state;
	char want[128];
	struct hf_rrset *s = a_set("www.example.de.");
	sig_add(s, &(struct sigp){ .key = &f->ksk, .labels = -1, .key_tag = -1, .flip = true });
	struct result res = check(f, s);
	assert_int_equal(res.v.sec, HF_SEC_BOGUS);
	assert_true(res.v.has_ede);
	assert_int_equal(res.v.ede, HF_EDE_DNSSEC_BOGUS);
	snprintf(want, sizeof(want), "RRSIG with malformed signature found for www.example.de/a (keytag=%u)",
		 f->ksk.tag);
	assert_string_equal(res.v.text, want);
	assert_int_equal(res.labels, 0);
	free(s);

	/* The same with ECDSA, on another type. */
	s = set_new("example.de.", HF_TYPE_TXT, 300);
	set_add(s, (const uint8_t *)"\005hello", 6, false);
	sig_add(s, &(struct sigp){ .key = &f->zsk, .labels = -1, .key_tag = -1, .flip = true });
	res = check(f, s);
	assert_int_equal(res.v.sec, HF_SEC_BOGUS);
	assert_int_equal(res.v.ede, HF_EDE_DNSSEC_BOGUS);
	snprintf(want, sizeof(want), "RRSIG with malformed signature found for example.de/txt (keytag=%u)",
		 f->zsk.tag);
	assert_string_equal(res.v.text, want);
	free(s);
}

static void test_tampered_data_is_bogus(void **state)
{
	struct fixture *f = *state;
	struct hf_rrset *s = a_set("www.example.de.");
	sig_add(s, &(struct sigp){ .key = &f->ksk, .labels = -1, .key_tag = -1 });
	/* Change an address after signing: the records are what the RRSIG covers. */
	s->data[2 + 3] ^= 0xff;
	struct result res = check(f, s);
	assert_int_equal(res.v.sec, HF_SEC_BOGUS);
	assert_int_equal(res.v.ede, HF_EDE_DNSSEC_BOGUS);
	free(s);
}

static void test_expired_and_not_yet_valid(void **state)
{
	struct fixture *f = *state;
	char want[128];
	struct hf_rrset *s = a_set("www.example.de.");
	sig_add(s, &(struct sigp){ .key = &f->ksk, .labels = -1, .key_tag = -1, .expiration = -1000,
				   .inception = -86400 });
	struct result res = check(f, s);
	assert_int_equal(res.v.sec, HF_SEC_BOGUS);
	assert_int_equal(res.v.ede, HF_EDE_SIGNATURE_EXPIRED);
	snprintf(want, sizeof(want), "RRSIG over www.example.de/a expired (keytag=%u)", f->ksk.tag);
	assert_string_equal(res.v.text, want);
	free(s);

	s = a_set("www.example.de.");
	sig_add(s, &(struct sigp){ .key = &f->ksk, .labels = -1, .key_tag = -1, .inception = 1000,
				   .expiration = 86400 });
	res = check(f, s);
	assert_int_equal(res.v.sec, HF_SEC_BOGUS);
	assert_int_equal(res.v.ede, HF_EDE_SIGNATURE_NOT_YET);
	free(s);

	/* Within the allowed skew (HF_VAL_SKEW_S) either side: still fine. */
	s = a_set("www.example.de.");
	sig_add(s, &(struct sigp){ .key = &f->ksk, .labels = -1, .key_tag = -1, .inception = 100 });
	assert_int_equal(check(f, s).v.sec, HF_SEC_SECURE);
	free(s);
	s = a_set("www.example.de.");
	sig_add(s, &(struct sigp){ .key = &f->ksk, .labels = -1, .key_tag = -1, .expiration = -100 });
	assert_int_equal(check(f, s).v.sec, HF_SEC_SECURE);
	free(s);
}

static void test_no_key_with_the_tag(void **state)
{
	struct fixture *f = *state;
	uint16_t tag = (uint16_t)(f->ksk.tag + 1);
	if (tag == f->zsk.tag)
		tag++;
	struct hf_rrset *s = a_set("www.example.de.");
	sig_add(s, &(struct sigp){ .key = &f->ksk, .labels = -1, .key_tag = tag });
	struct result res = check(f, s);
	assert_int_equal(res.v.sec, HF_SEC_BOGUS);
	assert_int_equal(res.v.ede, HF_EDE_DNSKEY_MISSING);
	char want[160];
	snprintf(want, sizeof(want), "no DNSKEY of example.de. matches the RRSIG over www.example.de/a (keytag=%u, ED25519)",
		 tag);
	assert_string_equal(res.v.text, want);
	free(s);

	/* Right tag, wrong algorithm: no key either. */
	s = a_set("www.example.de.");
	sig_add(s, &(struct sigp){ .key = &f->ksk, .labels = -1, .key_tag = -1,
				   .alg = HF_ALG_ECDSAP256SHA256 });
	res = check(f, s);
	assert_int_equal(res.v.sec, HF_SEC_BOGUS);
	assert_int_equal(res.v.ede, HF_EDE_DNSKEY_MISSING);
	free(s);
}

static void test_key_without_zone_bit_or_revoked_is_not_used(void **state)
{
	struct fixture *f = *state;
	static const uint16_t flags[] = { 1 /* SEP only */, 257 | HF_DNSKEY_FLAG_REVOKE };
	for (unsigned i = 0; i < 2; i++) {
		struct tkey k;
		key_make(&k, HF_ALG_ED25519, flags[i]);
		struct hf_rrset *keys = set_new(ZONE, HF_TYPE_DNSKEY, 3600);
		set_add(keys, k.rdata, k.rdlen, false);
		struct hf_rrset *s = a_set("www.example.de.");
		sig_add(s, &(struct sigp){ .key = &k, .labels = -1, .key_tag = -1 });
		struct result res = check_with(f, s, ZONE, keys);
		assert_int_equal(res.v.sec, HF_SEC_BOGUS);
		assert_int_equal(res.v.ede, HF_EDE_DNSKEY_MISSING);
		free(s);
		free(keys);
		EVP_PKEY_free(k.priv);
	}
}

static void test_no_rrsig(void **state)
{
	struct fixture *f = *state;
	struct hf_rrset *s = a_set("www.example.de.");
	struct result res = check(f, s);
	assert_int_equal(res.v.sec, HF_SEC_BOGUS);
	assert_int_equal(res.v.ede, HF_EDE_RRSIGS_MISSING);
	assert_string_equal(res.v.text, "no RRSIG over www.example.de/a (zone example.de. is signed)");
	free(s);
}

static void test_signer_not_the_zone(void **state)
{
	struct fixture *f = *state;
	struct hf_verifier_stats st;
	/* Signed correctly, but by de. (or by a child): not the keys we were given. */
	static const char *signers[] = { "de.", "sub.example.de.", "EXAMPLE.com." };
	for (unsigned i = 0; i < 3; i++) {
		struct hf_rrset *s = a_set("www.sub.example.de.");
		sig_add(s, &(struct sigp){ .key = &f->ksk, .labels = -1, .key_tag = -1, .signer = signers[i] });
		struct result res = check(f, s);
		assert_int_equal(res.v.sec, HF_SEC_BOGUS);
		assert_int_equal(res.v.ede, HF_EDE_DNSKEY_MISSING);
		free(s);
	}
	/* Not even submitted to the verifier. */
	hf_verifier_stats(f->r->verifier, &st);
	assert_int_equal(st.submitted, 0);
	/* Signer in another case is the same zone. */
	struct hf_rrset *s = a_set("www.example.de.");
	sig_add(s, &(struct sigp){ .key = &f->ksk, .labels = -1, .key_tag = -1, .signer = "Example.DE." });
	assert_int_equal(check(f, s).v.sec, HF_SEC_SECURE);
	free(s);
}

static void test_labels_beyond_owner_not_usable(void **state)
{
	struct fixture *f = *state;
	struct hf_verifier_stats st;
	struct hf_rrset *s = a_set("www.example.de.");
	sig_add(s, &(struct sigp){ .key = &f->ksk, .labels = 4, .key_tag = -1 });
	struct result res = check(f, s);
	assert_int_not_equal(res.v.sec, HF_SEC_SECURE);
	assert_int_equal(res.v.sec, HF_SEC_BOGUS);
	hf_verifier_stats(f->r->verifier, &st);
	assert_int_equal(st.submitted, 0);
	free(s);
	/* "*.example.de." has two labels that count: labels 3 is one too many. */
	s = a_set("*.example.de.");
	sig_add(s, &(struct sigp){ .key = &f->ksk, .labels = 3, .key_tag = -1 });
	res = check(f, s);
	assert_int_equal(res.v.sec, HF_SEC_BOGUS);
	free(s);
}

static void test_good_rrsig_after_bad_ones(void **state)
{
	struct fixture *f = *state;
	struct hf_rrset *s = a_set("www.example.de.");
	/* An expired one, a broken one, one by another signer, then a good one by the ZSK. */
	sig_add(s, &(struct sigp){ .key = &f->ksk, .labels = -1, .key_tag = -1, .expiration = -5000,
				   .inception = -90000 });
	sig_add(s, &(struct sigp){ .key = &f->ksk, .labels = -1, .key_tag = -1, .flip = true });
	sig_add(s, &(struct sigp){ .key = &f->ksk, .labels = -1, .key_tag = -1, .signer = "de." });
	sig_add(s, &(struct sigp){ .key = &f->zsk, .labels = -1, .key_tag = -1 });
	struct result res = check(f, s);
	assert_int_equal(res.v.sec, HF_SEC_SECURE);
	assert_false(res.v.has_ede);
	assert_int_equal(res.labels, 3);
	free(s);
}

/* Flags (Zone Key set, not revoked) that give k the key tag tag; false if none does. */
static bool flags_for_tag(struct tkey *k, uint16_t tag)
{
	for (uint32_t fl = 0; fl < 65536; fl++) {
		if (!(fl & HF_DNSKEY_FLAG_ZONE) || (fl & HF_DNSKEY_FLAG_REVOKE))
			continue;
		hf_wire_put_u16(k->rdata, (uint16_t)fl);
		if (hf_key_tag(k->rdata, k->rdlen) == tag) {
			k->tag = tag;
			return true;
		}
	}
	return false;
}

static void test_second_key_with_same_tag(void **state)
{
	struct fixture *f = *state;
	/*
	 * Two DNSKEYs share the RRSIG's tag (tags are not unique, RFC 4034
	 * §5.3.1): the wrong one, listed first, fails; the second is tried and
	 * verifies. The flags feed the tag, so pick flags that make them collide.
	 */
	struct tkey other, signer = f->ksk;
	static uint8_t reach[65536];  /* tags other can have */
	bool found = false;
	/* Only some flags are allowed, so a pair of keys may not collide: try other keys. */
	for (unsigned attempt = 0; attempt < 64 && !found; attempt++) {
		if (attempt > 0)
			EVP_PKEY_free(other.priv);
		key_make(&other, HF_ALG_ED25519, 257);
		memset(reach, 0, sizeof(reach));
		for (uint32_t fl = 0; fl < 65536; fl++) {
			if ((fl & HF_DNSKEY_FLAG_ZONE) && !(fl & HF_DNSKEY_FLAG_REVOKE)) {
				hf_wire_put_u16(other.rdata, (uint16_t)fl);
				reach[hf_key_tag(other.rdata, other.rdlen)] = 1;
			}
		}
		for (uint32_t fl = 0; fl < 65536 && !found; fl++) {
			if ((fl & HF_DNSKEY_FLAG_ZONE) && !(fl & HF_DNSKEY_FLAG_REVOKE)) {
				hf_wire_put_u16(signer.rdata, (uint16_t)fl);
				found = reach[hf_key_tag(signer.rdata, signer.rdlen)];
			}
		}
	}
	assert_true(found);
	signer.tag = hf_key_tag(signer.rdata, signer.rdlen);
	assert_true(flags_for_tag(&other, signer.tag));
	assert_int_equal(other.tag, signer.tag);

	struct hf_rrset *keys = set_new(ZONE, HF_TYPE_DNSKEY, 3600);
	set_add(keys, other.rdata, other.rdlen, false);
	set_add(keys, signer.rdata, signer.rdlen, false);
	struct hf_rrset *s = a_set("www.example.de.");
	sig_add(s, &(struct sigp){ .key = &signer, .labels = -1, .key_tag = -1 });
	struct result res = check_with(f, s, ZONE, keys);
	assert_int_equal(res.v.sec, HF_SEC_SECURE);
	free(s);

	/* Signed by a key that is not in the set but shares the tag: bogus, EDE 6 (the check ran). */
	free(keys);
	keys = set_new(ZONE, HF_TYPE_DNSKEY, 3600);
	set_add(keys, other.rdata, other.rdlen, false);
	s = a_set("www.example.de.");
	sig_add(s, &(struct sigp){ .key = &signer, .labels = -1, .key_tag = -1 });
	res = check_with(f, s, ZONE, keys);
	assert_int_equal(res.v.sec, HF_SEC_BOGUS);
	assert_int_equal(res.v.ede, HF_EDE_DNSSEC_BOGUS);
	free(s);
	free(keys);
	EVP_PKEY_free(other.priv);
}

static void test_cancel_before_answer(void **state)
{
	struct fixture *f = *state;
	struct result res = { 0 };
	struct hf_sigcheck c;
	uint8_t z[HF_NAME_MAXLEN];
	memcpy(z, N(ZONE), HF_NAME_MAXLEN);
	struct hf_rrset *s = a_set("www.example.de.");
	sig_add(s, &(struct sigp){ .key = &f->ksk, .labels = -1, .key_tag = -1 });
	hf_sigcheck_start(&c, f->r, s, z, f->keys, on_result, &res);
	assert_int_equal(res.calls, 0);  /* queued with the verifier */
	hf_sigcheck_cancel(&c);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(res.calls, 0);
	/* Cancelling twice, or a finished check, is harmless. */
	hf_sigcheck_cancel(&c);
	free(s);
}

static void test_unsupported_algorithm_alone(void **state)
{
	struct fixture *f = *state;
	/* Only an RRSIG of an algorithm we cannot validate (RSAMD5, 1): insecure, EDE 1. */
	struct hf_rrset *s = a_set("www.example.de.");
	sig_add(s, &(struct sigp){ .key = &f->ksk, .labels = -1, .key_tag = -1, .alg = 1 });
	struct result res = check(f, s);
	assert_int_not_equal(res.v.sec, HF_SEC_SECURE);
	assert_true(res.v.has_ede);
	free(s);
}

/*
 * Regression: an RRSIG that cannot be parsed (here: one with no signature octets,
 * or covering another type) leaves sigcheck with no reason recorded, and
 * fail() then falls through to "!any_supported": the RRset is INSECURE
 * with EDE 1 "RRSIG over www.example.de/a uses unsupported algorithm ALG0".
 * In a zone whose DNSKEY set is SECURE, forged data with a junk RRSIG
 * attached is thus accepted as insecure instead of BOGUS (validate.c's
 * note() only marks the answer insecure): a downgrade. The same happens
 * with an RRSIG of an algorithm we do not support (e.g. 253) while the
 * zone's keys use supported ones (RFC 6840 §5.11 / RFC 4035 §5.2 decide
 * "insecure" from the DS/DNSKEY algorithms, not from an RRSIG's).
 */
static void test_junk_rrsig_must_not_downgrade(void **state)
{
	struct fixture *f = *state;
	struct hf_rrset *s = a_set("www.example.de.");
	/* RRSIG RDATA: fixed part and signer, no signature (hf_rrsig_parse refuses it). */
	uint8_t rd[18 + 12];
	memset(rd, 0, sizeof(rd));
	hf_wire_put_u16(rd, HF_TYPE_A);
	rd[2] = HF_ALG_ED25519;
	rd[3] = 3;
	hf_wire_put_u32(rd + 4, 300);
	hf_wire_put_u32(rd + 8, hf_val_now_epoch() + 86400);
	hf_wire_put_u32(rd + 12, hf_val_now_epoch() - 86400);
	hf_wire_put_u16(rd + 16, f->ksk.tag);
	memcpy(rd + 18, N(ZONE), 12);
	set_add(s, rd, sizeof(rd), true);
	struct result res = check(f, s);
	assert_int_equal(res.v.sec, HF_SEC_BOGUS);
	free(s);

	/* An RRSIG of another type only. */
	s = a_set("www.example.de.");
	sig_add(s, &(struct sigp){ .key = &f->ksk, .labels = -1, .key_tag = -1, .covered = HF_TYPE_AAAA });
	res = check(f, s);
	assert_int_equal(res.v.sec, HF_SEC_BOGUS);
	free(s);

	/* A private algorithm on forged data, the zone signed with Ed25519/ECDSA. */
	s = a_set("www.example.de.");
	sig_add(s, &(struct sigp){ .key = &f->ksk, .labels = -1, .key_tag = -1, .alg = 253 });
	res = check(f, s);
	assert_int_equal(res.v.sec, HF_SEC_BOGUS);
	free(s);
}

/*
 * Regression: one bad_tag field served every reason, and sig_usable() overwrites it
 * for each expired / not-yet-valid RRSIG while the other reasons do not
 * check which reason it belongs to. With an RRSIG that failed to verify
 * (keytag A) followed by an expired one (keytag B), the EDE 6 text says
 * "RRSIG with malformed signature found for ... (keytag=B)": the tag of
 * the expired signature, not of the one that failed. Likewise an expired
 * RRSIG (tag A) followed by one with an unknown tag (B) reports
 * "expired (keytag=B)".
 */
static void test_reason_names_the_right_key_tag(void **state)
{
	struct fixture *f = *state;
	char want[160];
	struct hf_rrset *s = a_set("www.example.de.");
	sig_add(s, &(struct sigp){ .key = &f->ksk, .labels = -1, .key_tag = -1, .flip = true });
	sig_add(s, &(struct sigp){ .key = &f->zsk, .labels = -1, .key_tag = -1, .expiration = -5000,
				   .inception = -90000 });
	struct result res = check(f, s);
	assert_int_equal(res.v.ede, HF_EDE_DNSSEC_BOGUS);
	snprintf(want, sizeof(want), "RRSIG with malformed signature found for www.example.de/a (keytag=%u)",
		 f->ksk.tag);
	assert_string_equal(res.v.text, want);
	free(s);

	s = a_set("www.example.de.");
	sig_add(s, &(struct sigp){ .key = &f->ksk, .labels = -1, .key_tag = -1, .expiration = -5000,
				   .inception = -90000 });
	sig_add(s, &(struct sigp){ .key = &f->ksk, .labels = -1, .key_tag = (uint16_t)(f->ksk.tag ^ 0x5555) });
	res = check(f, s);
	assert_int_equal(res.v.ede, HF_EDE_SIGNATURE_EXPIRED);
	snprintf(want, sizeof(want), "RRSIG over www.example.de/a expired (keytag=%u)", f->ksk.tag);
	assert_string_equal(res.v.text, want);
	free(s);
}

static void test_rrname_and_type_name(void **state)
{
	(void)state;
	char out[HF_NAME_TEXT_MAXLEN + 16], buf[16];

	assert_string_equal(hf_val_rrname(N("Example.DE."), HF_TYPE_NSEC3, out, sizeof(out)),
			    "Example.DE/nsec3");
	assert_string_equal(hf_val_rrname(N("example.de."), HF_TYPE_NSEC3, out, sizeof(out)),
			    "example.de/nsec3");
	/* The root keeps its dot. */
	assert_string_equal(hf_val_rrname(N("."), HF_TYPE_DNSKEY, out, sizeof(out)), "./dnskey");
	assert_string_equal(hf_val_rrname(N("www.example.de."), 65280, out, sizeof(out)),
			    "www.example.de/type65280");
	/* Cut to the buffer, terminated. */
	assert_string_equal(hf_val_rrname(N("example.de."), HF_TYPE_A, out, 8), "example");

	assert_string_equal(hf_val_type_name(HF_TYPE_A, buf, sizeof(buf)), "a");
	assert_string_equal(hf_val_type_name(HF_TYPE_DS, buf, sizeof(buf)), "ds");
	assert_string_equal(hf_val_type_name(HF_TYPE_NSEC, buf, sizeof(buf)), "nsec");
	assert_string_equal(hf_val_type_name(HF_TYPE_NSEC3PARAM, buf, sizeof(buf)), "nsec3param");
	assert_string_equal(hf_val_type_name(HF_TYPE_HTTPS, buf, sizeof(buf)), "https");
	assert_string_equal(hf_val_type_name(0, buf, sizeof(buf)), "type0");
	assert_string_equal(hf_val_type_name(65535, buf, sizeof(buf)), "type65535");
	assert_ptr_equal(hf_val_type_name(99, buf, sizeof(buf)), buf);
}

static void test_verdict_set(void **state)
{
	(void)state;
	struct hf_verdict v;
	hf_verdict_set(&v, HF_SEC_BOGUS, HF_EDE_DNSSEC_BOGUS, "x=%d", 5);
	assert_int_equal(v.sec, HF_SEC_BOGUS);
	assert_true(v.has_ede);
	assert_int_equal(v.ede, 6);
	assert_string_equal(v.text, "x=5");
	hf_verdict_set(&v, HF_SEC_SECURE, -1, NULL);
	assert_false(v.has_ede);
	assert_string_equal(v.text, "");
	/* A long text is cut to the EDE room, terminated. */
	char big[HF_VAL_TEXT * 2];
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	hf_verdict_set(&v, HF_SEC_BOGUS, 0, "%s", big);
	assert_int_equal(strlen(v.text), HF_VAL_TEXT - 1);
	assert_true(v.has_ede);
	assert_int_equal(v.ede, 0);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_valid_is_secure),
		T(test_wildcard_labels_reported),
		T(test_cache_hit_calls_back_synchronously),
		T(test_flipped_signature_bit_is_bogus),
		T(test_tampered_data_is_bogus),
		T(test_expired_and_not_yet_valid),
		T(test_no_key_with_the_tag),
		T(test_key_without_zone_bit_or_revoked_is_not_used),
		T(test_no_rrsig),
		T(test_signer_not_the_zone),
		T(test_labels_beyond_owner_not_usable),
		T(test_good_rrsig_after_bad_ones),
		T(test_second_key_with_same_tag),
		T(test_cancel_before_answer),
		T(test_unsupported_algorithm_alone),
		T(test_junk_rrsig_must_not_downgrade),
		T(test_reason_names_the_right_key_tag),
		cmocka_unit_test(test_rrname_and_type_name),
		cmocka_unit_test(test_verdict_set),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
