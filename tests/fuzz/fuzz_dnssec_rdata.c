/*
 * libFuzzer target for the DNSSEC parsers and the proofs built on them
 * (control/dnssec/crypto.h, denial.h): every byte they read comes from the
 * network, and the denial functions walk names and bitmaps out of RDATA.
 *
 * The input is a sequence of pieces (a 16-bit big-endian length, then that
 * many octets; a short input just ends the pieces early) and single bytes:
 *
 *   dnskey, rrsig, ds                     RDATA pieces
 *   params (8 octets): type(2) n_rr cap qtype(2) labels why/iterations
 *   owner, then n_rr record pieces        the RRset the RRSIG signs
 *   zone, qname                           names for the denial proofs
 *   n_sets (byte), each: kind (byte: even NSEC, odd NSEC3), owner,
 *     n_records (byte), record pieces     the NSEC/NSEC3 RRsets
 *
 * Names are taken only when hf_name_check() accepts them (the callers get
 * names from the wire parser, which checks them). Beyond "no crash", it
 * checks what the parsers promise: fields inside the RDATA, lengths that
 * add up, a signed-data length within the room given.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "include/holdfast/errcode.h"
#include "include/holdfast/name.h"
#include "control/dnssec/crypto.h"
#include "control/dnssec/denial.h"
#include "control/resolver/rrset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RR 8       /* records per RRset built here */
#define MAX_SETS 6     /* NSEC/NSEC3 RRsets per proof */

struct cur {
	const uint8_t *p;
	size_t left;
};

static const uint8_t *piece(struct cur *c, uint16_t *len)
{
	size_t n = 0;
	if (c->left >= 2) {
		n = (size_t)c->p[0] << 8 | c->p[1];
		c->p += 2;
		c->left -= 2;
	} else {
		c->p += c->left;
		c->left = 0;
	}
	if (n > c->left)
		n = c->left;
	const uint8_t *out = c->p;
	c->p += n;
	c->left -= n;
	*len = (uint16_t)n;
	return out;
}

static uint8_t byte(struct cur *c)
{
	if (c->left == 0)
		return 0;
	c->left--;
	return *c->p++;
}

/* A checked, lower-cased name from a piece; the root if the piece is not a name. */
static void name_piece(struct cur *c, uint8_t out[HF_NAME_MAXLEN])
{
	uint16_t len;
	const uint8_t *p = piece(c, &len);
	int n = hf_name_check(p, len);
	if (n < 0) {
		out[0] = 0;
		return;
	}
	assert(n <= HF_NAME_MAXLEN);
	memcpy(out, p, (size_t)n);
	hf_name_lower(out);
}

/* An RRset of n record pieces, or NULL if n is 0. */
static struct hf_rrset *set_piece(struct cur *c, const uint8_t *owner, uint16_t type, unsigned n)
{
	const uint8_t *rd[MAX_RR];
	uint16_t len[MAX_RR];
	size_t need = 0;
	if (n > MAX_RR)
		n = MAX_RR;
	if (n == 0)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		rd[i] = piece(c, &len[i]);
		need += 2u + len[i];
	}
	struct hf_rrset *s = hf_rrset_alloc(owner, type, HF_CLASS_IN, 300, need);
	if (s == NULL)
		return NULL;
	for (unsigned i = 0; i < n; i++)
		hf_rrset_add_rr(s, rd[i], len[i]);
	return s;
}

static void check_why(const char *why, size_t size)
{
	if (size > 0)
		assert(memchr(why, '\0', size) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t signed_data[65536 + 8 * (HF_NAME_MAXLEN + 10) + HF_NAME_MAXLEN + 18];
	struct cur c = { data, size };
	uint16_t klen, slen, dlen;

	/* DNSKEY: tag over the whole RDATA, key inside it, a public key when the form allows. */
	const uint8_t *krd = piece(&c, &klen);
	struct hf_dnskey key;
	bool have_key = hf_dnskey_parse(krd, klen, &key) == 0;
	EVP_PKEY *pkey = NULL;
	if (have_key) {
		assert(key.protocol == 3 && key.key_len == klen - 4 && key.key == krd + 4);
		assert(key.tag == hf_key_tag(krd, klen));
		int ret = hf_dnskey_pkey(&key, &pkey);
		assert(ret == 0 ? pkey != NULL : pkey == NULL);
		assert(ret == 0 || ret == HF_EALGORITHM || ret == HF_EKEY || ret == HF_ECRYPTO ||
		       ret == -ENOMEM);
	}

	/* RRSIG: fixed part, a checked lower-case signer, a non-empty signature to the end. */
	const uint8_t *srd = piece(&c, &slen);
	struct hf_rrsig sig;
	bool have_sig = hf_rrsig_parse(srd, slen, &sig) == 0;
	if (have_sig) {
		assert(sig.fixed_len >= 18 + 1 && sig.sig_len > 0);
		assert((size_t)sig.fixed_len + sig.sig_len == slen);
		assert(sig.sig == srd + sig.fixed_len);
		assert(hf_name_check(sig.signer, HF_NAME_MAXLEN) == (int)(sig.fixed_len - 18));
		for (size_t i = 0; i < hf_name_len(sig.signer); i++)
			assert(!(sig.signer[i] >= 'A' && sig.signer[i] <= 'Z'));
	}

	/* DS against the DNSKEY piece (any RDATA of at least 4 octets may be asked). */
	const uint8_t *ds = piece(&c, &dlen);
	uint8_t params[8] = { 0 };
	uint16_t plen;
	const uint8_t *pp = piece(&c, &plen);
	memcpy(params, pp, plen < sizeof(params) ? plen : sizeof(params));
	uint16_t type = (uint16_t)(params[0] << 8 | params[1]);
	unsigned n_rr = params[2] % (MAX_RR + 1);
	uint16_t qtype = (uint16_t)(params[4] << 8 | params[5]);

	uint8_t owner[HF_NAME_MAXLEN];
	name_piece(&c, owner);
	int ret = hf_ds_match(owner, ds, dlen, krd, klen);
	assert(ret == 0 || ret == HF_EBADSIG || ret == HF_EALGORITHM || ret == HF_ERDATA ||
	       ret == HF_ECRYPTO || ret == -ENOMEM);

	/* Signed data of an RRset built from the input, in the room the input chooses. */
	struct hf_rrset *set = set_piece(&c, owner, type, n_rr);
	if (set != NULL && have_sig) {
		size_t cap = params[3] & 0x80 ? (size_t)(params[3] & 0x7f) * 8 : sizeof(signed_data);
		int n = hf_rrsig_signed_data(set, &sig, signed_data, cap);
		assert(n <= (int)cap);
		assert(n >= 0 || n == HF_ESPACE || n == HF_ERDATA || n == -ENOMEM);
		if (n > 0) {
			assert(n >= 18 + (int)hf_name_len(sig.signer));
			assert(memcmp(signed_data, srd, 18) == 0);
			if (pkey != NULL) {
				ret = hf_sig_verify(pkey, sig.alg, signed_data, (size_t)n, sig.sig, sig.sig_len);
				assert(ret == 0 || ret == HF_EBADSIG || ret == HF_EALGORITHM ||
				       ret == HF_ECRYPTO || ret == -ENOMEM);
			}
		}
	}
	free(set);
	EVP_PKEY_free(pkey);

	/* Denial proofs over NSEC/NSEC3 RRsets built from the input. */
	uint8_t zone[HF_NAME_MAXLEN], qname[HF_NAME_MAXLEN];
	name_piece(&c, zone);
	name_piece(&c, qname);
	struct hf_rrset *sets[MAX_SETS];
	unsigned n_sets = byte(&c) % (MAX_SETS + 1);
	for (unsigned i = 0; i < n_sets; i++) {
		uint16_t t = byte(&c) & 1 ? HF_TYPE_NSEC3 : HF_TYPE_NSEC;
		uint8_t so[HF_NAME_MAXLEN];
		name_piece(&c, so);
		unsigned n = byte(&c) % (MAX_RR + 1);
		sets[i] = set_piece(&c, so, t, n ? n : 1);
	}
	/* Keep the iteration cap small: the hashing cost is bounded by design, not what we test. */
	struct hf_denial_in in = {
		.zone = zone, .sets = (const struct hf_rrset *const *)sets, .n = n_sets,
		.nsec3_max_iterations = 1 + (params[7] & 0x0f),
	};
	char why[200];
	size_t why_size = params[7] & 0x80 ? (size_t)(params[7] >> 4 & 7) * 4 : sizeof(why);
	unsigned labels = params[6];

	enum hf_denial d = hf_denial_nxdomain(&in, qname, why, why_size);
	assert(d <= HF_DENIAL_ERROR);
	check_why(why, why_size);
	d = hf_denial_nodata(&in, qname, qtype, why, why_size);
	assert(d <= HF_DENIAL_ERROR);
	check_why(why, why_size);
	d = hf_denial_wildcard(&in, qname, labels, why, why_size);
	assert(d <= HF_DENIAL_ERROR);
	check_why(why, why_size);
	d = hf_denial_no_ds(&in, qname, why, why_size);
	assert(d <= HF_DENIAL_ERROR);
	check_why(why, why_size);
	/* The bitmap reader on any octets (its callers check the form first; it must not overrun). */
	if (n_sets > 0 && sets[0] != NULL) {
		uint16_t l;
		const uint8_t *rd = hf_rrset_rdata(sets[0], 0, &l);
		(void)hf_type_bitmap_has(rd, l, qtype);
	}
	for (unsigned i = 0; i < n_sets; i++)
		free(sets[i]);
	return 0;
}
