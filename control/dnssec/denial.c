/*
 * Authenticated denial of existence: NSEC (RFC 4034 §4, RFC 4035 §5.4,
 * RFC 6840 §4.1 and §4.3) and NSEC3 (RFC 5155 §8, RFC 9276).
 *
 * The records handed in are already verified; what is left is order and
 * bitmaps. Two rules from RFC 6840 §4.1 run through both halves:
 *  - an NSEC/NSEC3 with NS set and SOA clear is the parent side of a zone
 *    cut: it says nothing about names below the cut, nor about types at
 *    the cut other than DS;
 *  - one with DNAME set says nothing about names below its owner (they are
 *    redirected, not absent).
 *
 * NSEC3 hashes are cached per call on the stack: a proof asks for the same
 * few names (qname's ancestors, one wildcard) against every record.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "include/holdfast/defines.h"
#include "include/holdfast/errcode.h"
#include "include/holdfast/name.h"
#include "include/holdfast/rrtype.h"
#include "include/holdfast/wire_ctx.h"
#include "control/log.h"
#include "control/dnssec/denial.h"

#define NSEC3_FLAG_OPTOUT 0x01
#define NSEC3_HASH_SHA1   1
#define N3_CACHE_SIZE     8   /*!< hashed names kept per proof (qname ancestors, wildcard) */
#define NAME_MAXLABELS    128 /*!< 255 octets hold at most 127 labels plus the root */

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------ */

static void log_crypto_error(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];
	ERR_error_string_n(e, buf, sizeof(buf));
	hf_log_warning(RESOLVE, "NSEC3 hash: %s failed: %s", what, e ? buf : "no OpenSSL error queued");
	ERR_clear_error();
}

/* Presentation form for a reason text; never fails (a name always fits 1024). */
static const char *ntxt(const uint8_t *name, char *buf, size_t size)
{
	if (hf_name_to_text(name, buf, size) < 0)
		snprintf(buf, size, "?");
	return buf;
}

/* Offsets of each label of a well-formed name; returns the label count (root not counted). */
static unsigned label_offsets(const uint8_t *name, uint8_t offs[NAME_MAXLABELS])
{
	unsigned n = 0;
	size_t pos = 0;
	while (name[pos] != 0 && n < NAME_MAXLABELS) {
		offs[n++] = (uint8_t)pos;
		pos += 1u + name[pos];
	}
	return n;
}

/* The name made of the last k labels of name (a pointer into it). */
static const uint8_t *name_suffix(const uint8_t *name, unsigned k)
{
	unsigned n = (unsigned)hf_name_labels(name);
	const uint8_t *p = name;
	for (unsigned i = k; i < n; i++)
		p += 1u + p[0];
	return p;
}

/* Number of trailing labels a and b share (case-insensitive). */
static unsigned common_labels(const uint8_t *a, const uint8_t *b)
{
	uint8_t oa[NAME_MAXLABELS], ob[NAME_MAXLABELS];
	unsigned na = label_offsets(a, oa), nb = label_offsets(b, ob), k = 0;
	while (k < na && k < nb) {
		const uint8_t *la = a + oa[na - 1 - k], *lb = b + ob[nb - 1 - k];
		if (la[0] != lb[0])
			break;
		bool same = true;
		for (unsigned i = 1; i <= la[0] && same; i++) {
			uint8_t x = la[i], y = lb[i];
			if (x >= 'A' && x <= 'Z')
				x = (uint8_t)(x + 32);
			if (y >= 'A' && y <= 'Z')
				y = (uint8_t)(y + 32);
			same = x == y;
		}
		if (!same)
			break;
		k++;
	}
	return k;
}

/* a lies strictly below b. */
static bool name_below(const uint8_t *a, const uint8_t *b)
{
	return hf_name_is_subdomain(a, b) && !hf_name_equal(a, b);
}

/* "*." + ce into out; false if that would exceed 255 octets (such a wildcard cannot exist). */
static bool make_wildcard(const uint8_t *ce, uint8_t out[HF_NAME_MAXLEN])
{
	size_t len = hf_name_len(ce);
	if (len + 2 > HF_NAME_MAXLEN)
		return false;
	out[0] = 1;
	out[1] = '*';
	memcpy(out + 2, ce, len);
	return true;
}

/* RFC 4034 §4.1.2: windows in increasing order, each 1..32 octets. */
static bool bitmap_ok(const uint8_t *bm, size_t len)
{
	int last = -1;
	size_t pos = 0;
	while (pos < len) {
		if (len - pos < 2)
			return false;
		uint8_t win = bm[pos], wlen = bm[pos + 1];
		if ((int)win <= last || wlen == 0 || wlen > 32 || len - pos - 2 < wlen)
			return false;
		last = win;
		pos += 2u + wlen;
	}
	return true;
}

bool hf_type_bitmap_has(const uint8_t *bitmap, size_t len, uint16_t type)
{
	uint8_t want_win = (uint8_t)(type >> 8), bit = (uint8_t)(type & 0xff);
	size_t pos = 0;
	while (len - pos >= 2) {
		uint8_t win = bitmap[pos], wlen = bitmap[pos + 1];
		if (wlen > 32 || len - pos - 2 < wlen)
			return false;
		if (win == want_win)
			return bit / 8u < wlen && (bitmap[pos + 2 + bit / 8u] & (0x80u >> (bit % 8u)));
		if (win > want_win)
			return false;
		pos += 2u + wlen;
	}
	return false;
}

/* ------------------------------------------------------------------------ */
/* Base32hex and the NSEC3 hash                                              */
/* ------------------------------------------------------------------------ */

int hf_base32hex_encode(const uint8_t *in, size_t len, char *out, size_t size)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
	size_t need = (len * 8 + 4) / 5;
	if (size < need + 1)
		return HF_ESPACE;
	size_t o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = digits[(acc >> bits) & 0x1f];
		}
	}
	if (bits > 0)
		out[o++] = digits[(acc << (5 - bits)) & 0x1f];
	out[o] = '\0';
	return (int)o;
}

int hf_base32hex_decode(const char *in, size_t len, uint8_t *out, size_t size)
{
	/* Unpadded lengths that leave 1, 3 or 6 characters over encode no whole octet. */
	unsigned rest = (unsigned)(len % 8);
	if (rest == 1 || rest == 3 || rest == 6)
		return HF_ERDATA;
	size_t need = len * 5 / 8;
	if (size < need)
		return HF_ESPACE;
	size_t o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		unsigned v;
		if (c >= '0' && c <= '9')
			v = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'v')
			v = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'V')
			v = (unsigned)(c - 'A' + 10);
		else
			return HF_ERDATA;
		acc = (acc << 5) | v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* The padding bits of the last character must be zero (canonical encoding). */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		return HF_ERDATA;
	return (int)o;
}

/* SHA-1 for the life of the process (shared read-only by every thread). */
static pthread_once_t sha1_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha1_md;

static void sha1_fetch(void)
{
	sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
}

int hf_nsec3_hash(const uint8_t *name, uint8_t alg, uint16_t iterations, const uint8_t *salt,
		  uint8_t salt_len, uint8_t out[HF_NSEC3_HASH_LEN])
{
	if (alg != NSEC3_HASH_SHA1)
		return HF_EALGORITHM;
	uint8_t lower[HF_NAME_MAXLEN];
	size_t len = hf_name_len(name);
	memcpy(lower, name, len);
	hf_name_lower(lower);

	int ret = HF_ECRYPTO;
	/* Fetched once: an explicit fetch per hash would take the provider lock every time. */
	pthread_once(&sha1_once, sha1_fetch);
	const EVP_MD *md = sha1_md;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (md == NULL || ctx == NULL) {
		log_crypto_error(md == NULL ? "SHA-1 fetch" : "EVP_MD_CTX_new");
		goto out_free;
	}
	/* IH(salt, x, 0) = H(x || salt); IH(salt, x, k) = H(IH(salt, x, k-1) || salt). */
	const uint8_t *x = lower;
	size_t x_len = len;
	for (unsigned k = 0; k <= iterations; k++) {
		unsigned int n = 0;
		if (EVP_DigestInit_ex(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, x, x_len) != 1 ||
		    (salt_len && EVP_DigestUpdate(ctx, salt, salt_len) != 1) ||
		    EVP_DigestFinal_ex(ctx, out, &n) != 1 || n != HF_NSEC3_HASH_LEN) {
			log_crypto_error("SHA-1 digest");
			goto out_free;
		}
		x = out;
		x_len = HF_NSEC3_HASH_LEN;
	}
	ret = 0;
out_free:
	EVP_MD_CTX_free(ctx);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* Reading the records                                                       */
/* ------------------------------------------------------------------------ */

struct rec_iter {
	unsigned set, rr;
};

struct nsec_rec {
	const uint8_t *owner;
	const uint8_t *next;   /*!< inside the RDATA, any case */
	const uint8_t *bitmap;
	uint16_t bm_len;
};

static bool nsec_has(const struct nsec_rec *r, uint16_t type)
{
	return hf_type_bitmap_has(r->bitmap, r->bm_len, type);
}

/* Next usable NSEC: owner and next name inside the zone, RDATA well formed. */
static bool nsec_next(const struct hf_denial_in *in, struct rec_iter *it, struct nsec_rec *out)
{
	for (; it->set < in->n; it->set++, it->rr = 0) {
		const struct hf_rrset *s = in->sets[it->set];
		if (s == NULL || s->type != HF_TYPE_NSEC || !hf_name_is_subdomain(s->owner, in->zone))
			continue;
		while (it->rr < s->n_rr) {
			uint16_t rdlen;
			const uint8_t *rd = hf_rrset_rdata(s, it->rr++, &rdlen);
			int nlen = hf_name_check(rd, rdlen);
			if (nlen < 0 || !hf_name_is_subdomain(rd, in->zone) ||
			    !bitmap_ok(rd + nlen, rdlen - (size_t)nlen))
				continue;
			out->owner = s->owner;
			out->next = rd;
			out->bitmap = rd + nlen;
			out->bm_len = (uint16_t)(rdlen - nlen);
			return true;
		}
	}
	return false;
}

struct nsec3_rec {
	const uint8_t *owner;
	uint8_t flags;
	uint16_t iterations;
	uint8_t salt_len;
	const uint8_t *salt;
	uint8_t hash[HF_NSEC3_HASH_LEN];  /*!< from the owner's first label */
	const uint8_t *next;              /*!< next hashed owner, raw */
	const uint8_t *bitmap;
	uint16_t bm_len;
};

static bool nsec3_has(const struct nsec3_rec *r, uint16_t type)
{
	return hf_type_bitmap_has(r->bitmap, r->bm_len, type);
}

/* Parse one NSEC3; false if it is not one we may use (RFC 5155 §8.1, §8.2). */
static bool nsec3_parse(const uint8_t *owner, const uint8_t *zone, const uint8_t *rd, uint16_t rdlen,
			struct nsec3_rec *out)
{
	struct hf_wire_ctx c;
	hf_wire_ctx_init(&c, rd, rdlen);
	uint8_t alg = hf_wire_ctx_read_u8(&c);
	out->flags = hf_wire_ctx_read_u8(&c);
	out->iterations = hf_wire_ctx_read_u16(&c);
	out->salt_len = hf_wire_ctx_read_u8(&c);
	out->salt = hf_wire_ctx_take(&c, out->salt_len);
	uint8_t hash_len = hf_wire_ctx_read_u8(&c);
	out->next = hf_wire_ctx_take(&c, hash_len);
	size_t bm_len = hf_wire_ctx_available(&c);
	out->bitmap = hf_wire_ctx_take(&c, bm_len);
	if (c.error || alg != NSEC3_HASH_SHA1 || (out->flags & ~NSEC3_FLAG_OPTOUT) != 0 ||
	    hash_len != HF_NSEC3_HASH_LEN || !bitmap_ok(out->bitmap, bm_len))
		return false;
	out->bm_len = (uint16_t)bm_len;
	/* The owner is <base32hex(hash)>.<zone>. */
	if (owner[0] == 0 || !hf_name_equal(owner + 1 + owner[0], zone))
		return false;
	if (hf_base32hex_decode((const char *)owner + 1, owner[0], out->hash, sizeof(out->hash)) !=
	    HF_NSEC3_HASH_LEN)
		return false;
	out->owner = owner;
	return true;
}

static bool nsec3_next(const struct hf_denial_in *in, struct rec_iter *it, struct nsec3_rec *out)
{
	for (; it->set < in->n; it->set++, it->rr = 0) {
		const struct hf_rrset *s = in->sets[it->set];
		if (s == NULL || s->type != HF_TYPE_NSEC3)
			continue;
		while (it->rr < s->n_rr) {
			uint16_t rdlen;
			const uint8_t *rd = hf_rrset_rdata(s, it->rr++, &rdlen);
			if (nsec3_parse(s->owner, in->zone, rd, rdlen, out))
				return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------------------ */
/* NSEC (RFC 4035 §5.4, RFC 6840 §4.1)                                       */
/* ------------------------------------------------------------------------ */

static bool nsec_find_match(const struct hf_denial_in *in, const uint8_t *name, struct nsec_rec *out)
{
	struct rec_iter it = { 0, 0 };
	while (nsec_next(in, &it, out))
		if (hf_name_equal(out->owner, name))
			return true;
	return false;
}

/* owner < name < next in canonical order, the last NSEC wrapping round to the apex. */
static bool nsec_covers(const struct nsec_rec *r, const uint8_t *name)
{
	if (hf_name_cmp_canonical(r->owner, name) >= 0)
		return false;
	if (hf_name_cmp_canonical(r->owner, r->next) >= 0)
		return true;  /* the last NSEC: everything after the owner */
	return hf_name_cmp_canonical(name, r->next) < 0;
}

/* Covering NSEC that may speak for name: not the parent side of a cut above it, no DNAME above it. */
static bool nsec_find_cover(const struct hf_denial_in *in, const uint8_t *name, struct nsec_rec *out)
{
	struct rec_iter it = { 0, 0 };
	while (nsec_next(in, &it, out)) {
		if (!nsec_covers(out, name))
			continue;
		if (name_below(name, out->owner) &&
		    (nsec_has(out, HF_TYPE_DNAME) ||
		     (nsec_has(out, HF_TYPE_NS) && !nsec_has(out, HF_TYPE_SOA))))
			continue;
		return true;
	}
	return false;
}

/* Closest encloser of qname from the NSEC covering it: the longer common ancestor with owner or next. */
static unsigned nsec_ce_labels(const struct nsec_rec *r, const uint8_t *qname)
{
	unsigned a = common_labels(qname, r->owner), b = common_labels(qname, r->next);
	return a > b ? a : b;
}

/* qname has no NSEC of its own and one covers it (r); else why says which failed. */
static bool nsec_absent(const struct hf_denial_in *in, const uint8_t *qname, struct nsec_rec *r,
			char *why, size_t why_size)
{
	char t[HF_NAME_TEXT_MAXLEN];
	if (nsec_find_match(in, qname, r)) {
		snprintf(why, why_size, "NSEC at %s proves it exists", ntxt(qname, t, sizeof(t)));
		return false;
	}
	if (!nsec_find_cover(in, qname, r)) {
		snprintf(why, why_size, "no NSEC covers %s", ntxt(qname, t, sizeof(t)));
		return false;
	}
	return true;
}

static enum hf_denial nsec_nxdomain(const struct hf_denial_in *in, const uint8_t *qname,
				    char *why, size_t why_size)
{
	char t1[HF_NAME_TEXT_MAXLEN], t2[HF_NAME_TEXT_MAXLEN];
	struct nsec_rec r;

	if (!nsec_absent(in, qname, &r, why, why_size))
		return HF_DENIAL_MISSING;
	if (name_below(r.next, qname)) {
		snprintf(why, why_size, "%s is an empty non-terminal (NSEC next name %s)",
			 ntxt(qname, t1, sizeof(t1)), ntxt(r.next, t2, sizeof(t2)));
		return HF_DENIAL_MISSING;
	}
	uint8_t wild[HF_NAME_MAXLEN];
	if (!make_wildcard(name_suffix(qname, nsec_ce_labels(&r, qname)), wild))
		return HF_DENIAL_PROVEN;
	if (nsec_find_match(in, wild, &r)) {
		snprintf(why, why_size, "NSEC shows the wildcard %s exists", ntxt(wild, t1, sizeof(t1)));
		return HF_DENIAL_MISSING;
	}
	if (!nsec_find_cover(in, wild, &r)) {
		snprintf(why, why_size, "no NSEC covers the wildcard %s", ntxt(wild, t1, sizeof(t1)));
		return HF_DENIAL_MISSING;
	}
	return HF_DENIAL_PROVEN;
}

/* The type checks shared by NSEC and NSEC3 at qname itself (NODATA). */
static enum hf_denial nodata_at_name(bool has_type, bool has_cname, bool has_ns, bool has_soa,
				     const char *kind, const uint8_t *qname, uint16_t qtype,
				     char *why, size_t why_size)
{
	char t1[HF_NAME_TEXT_MAXLEN], tb[16];
	if (has_type) {
		snprintf(why, why_size, "%s at %s has %s", kind, ntxt(qname, t1, sizeof(t1)),
			 hf_type_to_text(qtype, tb, sizeof(tb)));
		return HF_DENIAL_MISSING;
	}
	if (has_cname) {
		snprintf(why, why_size, "%s at %s has CNAME", kind, ntxt(qname, t1, sizeof(t1)));
		return HF_DENIAL_MISSING;
	}
	if (qtype != HF_TYPE_DS && has_ns && !has_soa) {
		/* RFC 6840 §4.1: the parent side of a cut only speaks for DS. */
		snprintf(why, why_size, "%s at %s is the parent side of a delegation", kind,
			 ntxt(qname, t1, sizeof(t1)));
		return HF_DENIAL_MISSING;
	}
	if (qtype == HF_TYPE_DS && has_soa && qname[0] != 0) {
		/* DS lives in the parent: the child's apex record cannot deny it. */
		snprintf(why, why_size, "%s at %s is from the child zone (SOA set)", kind,
			 ntxt(qname, t1, sizeof(t1)));
		return HF_DENIAL_MISSING;
	}
	return HF_DENIAL_PROVEN;
}

static enum hf_denial nsec_nodata(const struct hf_denial_in *in, const uint8_t *qname, uint16_t qtype,
				  char *why, size_t why_size)
{
	char t1[HF_NAME_TEXT_MAXLEN], tb[16];
	struct nsec_rec r;

	if (nsec_find_match(in, qname, &r))
		return nodata_at_name(nsec_has(&r, qtype), nsec_has(&r, HF_TYPE_CNAME),
				      nsec_has(&r, HF_TYPE_NS), nsec_has(&r, HF_TYPE_SOA),
				      "NSEC", qname, qtype, why, why_size);
	if (!nsec_find_cover(in, qname, &r)) {
		snprintf(why, why_size, "no NSEC matches or covers %s", ntxt(qname, t1, sizeof(t1)));
		return HF_DENIAL_MISSING;
	}
	/* An empty non-terminal has no NSEC of its own; the one before it points below it. */
	if (name_below(r.next, qname))
		return HF_DENIAL_PROVEN;
	uint8_t wild[HF_NAME_MAXLEN];
	struct nsec_rec w;
	if (!make_wildcard(name_suffix(qname, nsec_ce_labels(&r, qname)), wild) ||
	    !nsec_find_match(in, wild, &w)) {
		snprintf(why, why_size, "no NSEC matches %s or its wildcard", ntxt(qname, t1, sizeof(t1)));
		return HF_DENIAL_MISSING;
	}
	if (nsec_has(&w, qtype) || nsec_has(&w, HF_TYPE_CNAME)) {
		snprintf(why, why_size, "NSEC at wildcard %s has %s", ntxt(wild, t1, sizeof(t1)),
			 nsec_has(&w, qtype) ? hf_type_to_text(qtype, tb, sizeof(tb)) : "CNAME");
		return HF_DENIAL_MISSING;
	}
	return HF_DENIAL_PROVEN;
}

static enum hf_denial nsec_wildcard(const struct hf_denial_in *in, const uint8_t *qname,
				    unsigned rrsig_labels, char *why, size_t why_size)
{
	char t2[HF_NAME_TEXT_MAXLEN];
	struct nsec_rec r;

	if (!nsec_absent(in, qname, &r, why, why_size))
		return HF_DENIAL_MISSING;
	/* A closer encloser than the source of synthesis would have blocked the wildcard. */
	unsigned ce = nsec_ce_labels(&r, qname);
	if (ce > rrsig_labels) {
		snprintf(why, why_size, "NSEC shows %s exists, closer than the wildcard",
			 ntxt(name_suffix(qname, ce), t2, sizeof(t2)));
		return HF_DENIAL_MISSING;
	}
	/* The NSEC gives the exact closest encloser; the wildcard's parent must be it. */
	if (ce < rrsig_labels) {
		snprintf(why, why_size, "NSEC shows the wildcard's parent %s does not exist",
			 ntxt(name_suffix(qname, rrsig_labels), t2, sizeof(t2)));
		return HF_DENIAL_MISSING;
	}
	return HF_DENIAL_PROVEN;
}

static enum hf_denial nsec_no_ds(const struct hf_denial_in *in, const uint8_t *child,
				 char *why, size_t why_size)
{
	char t1[HF_NAME_TEXT_MAXLEN];
	struct nsec_rec r;

	if (!nsec_find_match(in, child, &r)) {
		snprintf(why, why_size, "no NSEC at %s", ntxt(child, t1, sizeof(t1)));
		return HF_DENIAL_MISSING;
	}
	const char *bad = nsec_has(&r, HF_TYPE_DS) ? "has DS" :
			  nsec_has(&r, HF_TYPE_SOA) ? "is from the child zone (SOA set)" :
			  !nsec_has(&r, HF_TYPE_NS) ? "has no NS (not a delegation)" : NULL;
	if (bad) {
		snprintf(why, why_size, "NSEC at %s %s", ntxt(child, t1, sizeof(t1)), bad);
		return HF_DENIAL_MISSING;
	}
	return HF_DENIAL_PROVEN;
}

/* ------------------------------------------------------------------------ */
/* NSEC3 (RFC 5155 §8)                                                       */
/* ------------------------------------------------------------------------ */

struct n3_cached {
	uint8_t name[HF_NAME_MAXLEN];
	uint16_t iterations;
	uint8_t salt_len;
	const uint8_t *salt;
	uint8_t hash[HF_NSEC3_HASH_LEN];
};

struct n3_ctx {
	const struct hf_denial_in *in;
	struct n3_cached cache[N3_CACHE_SIZE];
	unsigned n_cached, next_slot;
	bool failed;  /*!< the crypto library failed: nothing proven, say why */
};

static int n3_hash(struct n3_ctx *ctx, const uint8_t *name, const struct nsec3_rec *p,
		   uint8_t out[HF_NSEC3_HASH_LEN])
{
	for (unsigned i = 0; i < ctx->n_cached; i++) {
		struct n3_cached *c = &ctx->cache[i];
		if (c->iterations == p->iterations && c->salt_len == p->salt_len &&
		    memcmp(c->salt, p->salt, p->salt_len) == 0 && hf_name_equal(c->name, name)) {
			memcpy(out, c->hash, HF_NSEC3_HASH_LEN);
			return 0;
		}
	}
	int ret = hf_nsec3_hash(name, NSEC3_HASH_SHA1, p->iterations, p->salt, p->salt_len, out);
	if (ret < 0) {
		ctx->failed = true;
		return ret;
	}
	struct n3_cached *c = &ctx->cache[ctx->next_slot];
	ctx->next_slot = (ctx->next_slot + 1) % N3_CACHE_SIZE;
	if (ctx->n_cached < N3_CACHE_SIZE)
		ctx->n_cached++;
	memcpy(c->name, name, hf_name_len(name));
	c->iterations = p->iterations;
	c->salt_len = p->salt_len;
	c->salt = p->salt;
	memcpy(c->hash, out, HF_NSEC3_HASH_LEN);
	return 0;
}

/* Is there an NSEC3 whose owner hash is H(name) (with that record's parameters)? */
static bool n3_find_match(struct n3_ctx *ctx, const uint8_t *name, struct nsec3_rec *out)
{
	struct rec_iter it = { 0, 0 };
	uint8_t h[HF_NSEC3_HASH_LEN];
	while (nsec3_next(ctx->in, &it, out)) {
		if (n3_hash(ctx, name, out, h) == 0 && memcmp(h, out->hash, sizeof(h)) == 0)
			return true;
	}
	return false;
}

/* An NSEC3 with owner < H(name) < next, the last one wrapping round. */
static bool n3_find_cover(struct n3_ctx *ctx, const uint8_t *name, struct nsec3_rec *out)
{
	struct rec_iter it = { 0, 0 };
	uint8_t h[HF_NSEC3_HASH_LEN];
	while (nsec3_next(ctx->in, &it, out)) {
		if (n3_hash(ctx, name, out, h) != 0)
			continue;
		int after_owner = memcmp(h, out->hash, sizeof(h)) > 0;
		int before_next = memcmp(h, out->next, sizeof(h)) < 0;
		bool wraps = memcmp(out->hash, out->next, sizeof(h)) >= 0;
		if (wraps ? (after_owner || before_next) : (after_owner && before_next))
			return true;
	}
	return false;
}

/* Write why for a failed proof, preferring the crypto failure (not a verdict on the data). */
static enum hf_denial n3_missing(const struct n3_ctx *ctx, char *why, size_t why_size)
{
	if (ctx->failed) {
		snprintf(why, why_size, "NSEC3 hash could not be computed (crypto library failure)");
		return HF_DENIAL_ERROR;
	}
	return HF_DENIAL_MISSING;
}

enum ce_result { CE_PROVEN, CE_QNAME_EXISTS, CE_FAILED };

/*
 * Closest (provable) encloser proof, RFC 5155 §8.3: the longest ancestor of
 * qname that has an NSEC3, and an NSEC3 covering the next closer name one
 * label below it. CE_QNAME_EXISTS: qname itself matches (the caller decides).
 */
static enum ce_result n3_closest_encloser(struct n3_ctx *ctx, const uint8_t *qname, unsigned *ce_labels,
					  struct nsec3_rec *nc_cover, char *why, size_t why_size)
{
	char t1[HF_NAME_TEXT_MAXLEN];
	unsigned qlabels = (unsigned)hf_name_labels(qname);
	unsigned zlabels = (unsigned)hf_name_labels(ctx->in->zone);
	struct nsec3_rec m;

	for (int k = (int)qlabels; k >= (int)zlabels; k--) {
		const uint8_t *anc = name_suffix(qname, (unsigned)k);
		if (!n3_find_match(ctx, anc, &m))
			continue;
		if ((unsigned)k == qlabels)
			return CE_QNAME_EXISTS;
		/* RFC 6840 §4.1 / RFC 5155 §8.3: a cut or a DNAME there means the answer is wrong. */
		if (nsec3_has(&m, HF_TYPE_DNAME) || (nsec3_has(&m, HF_TYPE_NS) && !nsec3_has(&m, HF_TYPE_SOA))) {
			snprintf(why, why_size, "closest encloser %s is a %s", ntxt(anc, t1, sizeof(t1)),
				 nsec3_has(&m, HF_TYPE_DNAME) ? "DNAME" : "delegation");
			return CE_FAILED;
		}
		const uint8_t *nc = name_suffix(qname, (unsigned)k + 1);
		if (!n3_find_cover(ctx, nc, nc_cover)) {
			snprintf(why, why_size, "no NSEC3 covers the next closer name %s", ntxt(nc, t1, sizeof(t1)));
			n3_missing(ctx, why, why_size);
			return CE_FAILED;
		}
		*ce_labels = (unsigned)k;
		return CE_PROVEN;
	}
	snprintf(why, why_size, "no NSEC3 matches an encloser of %s", ntxt(qname, t1, sizeof(t1)));
	n3_missing(ctx, why, why_size);
	return CE_FAILED;
}

static enum hf_denial n3_nxdomain(struct n3_ctx *ctx, const uint8_t *qname, char *why, size_t why_size)
{
	char t1[HF_NAME_TEXT_MAXLEN];
	struct nsec3_rec nc, w;
	unsigned ce;

	switch (n3_closest_encloser(ctx, qname, &ce, &nc, why, why_size)) {
	case CE_QNAME_EXISTS:
		snprintf(why, why_size, "NSEC3 at %s proves it exists", ntxt(qname, t1, sizeof(t1)));
		return HF_DENIAL_MISSING;
	case CE_FAILED:
		return HF_DENIAL_MISSING;
	case CE_PROVEN:
		break;
	}
	uint8_t wild[HF_NAME_MAXLEN];
	if (make_wildcard(name_suffix(qname, ce), wild) && !n3_find_cover(ctx, wild, &w)) {
		snprintf(why, why_size, "no NSEC3 covers the wildcard %s", ntxt(wild, t1, sizeof(t1)));
		return n3_missing(ctx, why, why_size);
	}
	/* As Unbound: the next closer name may be an unsigned delegation qname lies under. */
	if (nc.flags & NSEC3_FLAG_OPTOUT) {
		snprintf(why, why_size, "opt-out NSEC3 covers the next closer name %s",
			 ntxt(name_suffix(qname, ce + 1), t1, sizeof(t1)));
		return HF_DENIAL_OPTOUT;
	}
	return HF_DENIAL_PROVEN;
}

static enum hf_denial n3_nodata(struct n3_ctx *ctx, const uint8_t *qname, uint16_t qtype,
				char *why, size_t why_size)
{
	char t1[HF_NAME_TEXT_MAXLEN], tb[16];
	struct nsec3_rec m, nc, w;
	unsigned ce;

	/* §8.5 (and §8.6 when DS has an NSEC3 of its own). */
	if (n3_find_match(ctx, qname, &m))
		return nodata_at_name(nsec3_has(&m, qtype), nsec3_has(&m, HF_TYPE_CNAME),
				      nsec3_has(&m, HF_TYPE_NS), nsec3_has(&m, HF_TYPE_SOA),
				      "NSEC3", qname, qtype, why, why_size);
	if (ctx->failed)
		return n3_missing(ctx, why, why_size);
	if (n3_closest_encloser(ctx, qname, &ce, &nc, why, why_size) != CE_PROVEN)
		return HF_DENIAL_MISSING;
	/* §8.7: a wildcard at the closest encloser without the type. */
	uint8_t wild[HF_NAME_MAXLEN];
	if (make_wildcard(name_suffix(qname, ce), wild) && n3_find_match(ctx, wild, &w)) {
		if (nsec3_has(&w, qtype) || nsec3_has(&w, HF_TYPE_CNAME)) {
			snprintf(why, why_size, "NSEC3 at wildcard %s has %s", ntxt(wild, t1, sizeof(t1)),
				 nsec3_has(&w, qtype) ? hf_type_to_text(qtype, tb, sizeof(tb)) : "CNAME");
			return HF_DENIAL_MISSING;
		}
		return HF_DENIAL_PROVEN;
	}
	/* §8.6: DS at an unsigned delegation inside an opt-out span. */
	if (qtype == HF_TYPE_DS) {
		if (nc.flags & NSEC3_FLAG_OPTOUT) {
			snprintf(why, why_size, "opt-out NSEC3 covers %s",
				 ntxt(name_suffix(qname, ce + 1), t1, sizeof(t1)));
			return HF_DENIAL_OPTOUT;
		}
		snprintf(why, why_size, "NSEC3 covering %s is not opt-out",
			 ntxt(name_suffix(qname, ce + 1), t1, sizeof(t1)));
		return n3_missing(ctx, why, why_size);
	}
	snprintf(why, why_size, "no NSEC3 matches %s or its wildcard", ntxt(qname, t1, sizeof(t1)));
	return n3_missing(ctx, why, why_size);
}

static enum hf_denial n3_wildcard(struct n3_ctx *ctx, const uint8_t *qname, unsigned rrsig_labels,
				  char *why, size_t why_size)
{
	char t1[HF_NAME_TEXT_MAXLEN];
	struct nsec3_rec nc;
	/* §8.8: the next closer name below the source of synthesis must not exist. */
	const uint8_t *next_closer = name_suffix(qname, rrsig_labels + 1);
	if (!n3_find_cover(ctx, next_closer, &nc)) {
		snprintf(why, why_size, "no NSEC3 covers the next closer name %s",
			 ntxt(next_closer, t1, sizeof(t1)));
		return n3_missing(ctx, why, why_size);
	}
	return HF_DENIAL_PROVEN;
}

static enum hf_denial n3_no_ds(struct n3_ctx *ctx, const uint8_t *child, char *why, size_t why_size)
{
	char t1[HF_NAME_TEXT_MAXLEN], t2[HF_NAME_TEXT_MAXLEN];
	struct nsec3_rec m, nc;
	unsigned ce;

	if (n3_find_match(ctx, child, &m)) {
		const char *bad = nsec3_has(&m, HF_TYPE_DS) ? "has DS" :
				  nsec3_has(&m, HF_TYPE_SOA) ? "is from the child zone (SOA set)" :
				  !nsec3_has(&m, HF_TYPE_NS) ? "has no NS (not a delegation)" : NULL;
		if (bad) {
			snprintf(why, why_size, "NSEC3 at %s %s", ntxt(child, t1, sizeof(t1)), bad);
			return HF_DENIAL_MISSING;
		}
		return HF_DENIAL_PROVEN;
	}
	if (ctx->failed)
		return n3_missing(ctx, why, why_size);
	/* §8.9 via §8.6: the closest provable encloser, and opt-out over the next closer name. */
	if (n3_closest_encloser(ctx, child, &ce, &nc, why, why_size) != CE_PROVEN)
		return HF_DENIAL_MISSING;
	if (!(nc.flags & NSEC3_FLAG_OPTOUT)) {
		snprintf(why, why_size, "no NSEC3 at %s, and the one covering %s is not opt-out",
			 ntxt(child, t1, sizeof(t1)), ntxt(name_suffix(child, ce + 1), t2, sizeof(t2)));
		return HF_DENIAL_MISSING;
	}
	snprintf(why, why_size, "opt-out NSEC3 covers %s", ntxt(name_suffix(child, ce + 1), t1, sizeof(t1)));
	return HF_DENIAL_OPTOUT;
}

/* ------------------------------------------------------------------------ */
/* Dispatch                                                                  */
/* ------------------------------------------------------------------------ */

enum proof { P_NXDOMAIN, P_NODATA, P_WILDCARD, P_NO_DS };

struct proof_args {
	enum proof kind;
	const uint8_t *qname;
	uint16_t qtype;
	unsigned rrsig_labels;
};

static enum hf_denial prove(const struct hf_denial_in *in, const struct proof_args *a,
			    char *why, size_t why_size)
{
	char t1[HF_NAME_TEXT_MAXLEN], t2[HF_NAME_TEXT_MAXLEN];
	struct rec_iter it = { 0, 0 };
	struct nsec_rec nr;
	struct nsec3_rec n3;
	enum hf_denial v = HF_DENIAL_MISSING;

	if (why_size)
		why[0] = '\0';
	if (!hf_name_is_subdomain(a->qname, in->zone)) {
		snprintf(why, why_size, "%s is not in zone %s", ntxt(a->qname, t1, sizeof(t1)),
			 ntxt(in->zone, t2, sizeof(t2)));
		return HF_DENIAL_MISSING;
	}
	if (a->kind == P_WILDCARD) {
		unsigned qlabels = (unsigned)hf_name_labels(a->qname);
		if (a->rrsig_labels >= qlabels || a->rrsig_labels < (unsigned)hf_name_labels(in->zone)) {
			snprintf(why, why_size, "RRSIG labels %u do not make %s a wildcard expansion in %s",
				 a->rrsig_labels, ntxt(a->qname, t1, sizeof(t1)), ntxt(in->zone, t2, sizeof(t2)));
			return HF_DENIAL_MISSING;
		}
	}

	if (nsec_next(in, &it, &nr)) {
		switch (a->kind) {
		case P_NXDOMAIN: v = nsec_nxdomain(in, a->qname, why, why_size); break;
		case P_NODATA: v = nsec_nodata(in, a->qname, a->qtype, why, why_size); break;
		case P_WILDCARD: v = nsec_wildcard(in, a->qname, a->rrsig_labels, why, why_size); break;
		case P_NO_DS: v = nsec_no_ds(in, a->qname, why, why_size); break;
		}
		if (v == HF_DENIAL_PROVEN)
			return v;
	}

	it = (struct rec_iter){ 0, 0 };
	if (!nsec3_next(in, &it, &n3)) {
		if (v == HF_DENIAL_MISSING && why_size && why[0] == '\0')
			snprintf(why, why_size, "no NSEC or NSEC3 records of zone %s", ntxt(in->zone, t1, sizeof(t1)));
		return v;
	}
	/* RFC 9276 §3.2: refuse to hash at all past the cap (that cost is the attack). */
	unsigned cap = in->nsec3_max_iterations ? in->nsec3_max_iterations : HF_NSEC3_MAX_ITERATIONS;
	do {
		if (n3.iterations > cap) {
			snprintf(why, why_size, "NSEC3 at %s has %u iterations (limit %u)",
				 ntxt(n3.owner, t1, sizeof(t1)), n3.iterations, cap);
			return HF_DENIAL_ITERATIONS;
		}
	} while (nsec3_next(in, &it, &n3));

	struct n3_ctx ctx = { .in = in };
	switch (a->kind) {
	case P_NXDOMAIN: return n3_nxdomain(&ctx, a->qname, why, why_size);
	case P_NODATA: return n3_nodata(&ctx, a->qname, a->qtype, why, why_size);
	case P_WILDCARD: return n3_wildcard(&ctx, a->qname, a->rrsig_labels, why, why_size);
	case P_NO_DS: return n3_no_ds(&ctx, a->qname, why, why_size);
	}
	return HF_DENIAL_MISSING;
}

enum hf_denial hf_denial_nxdomain(const struct hf_denial_in *in, const uint8_t *qname,
				  char *why, size_t why_size)
{
	struct proof_args a = { .kind = P_NXDOMAIN, .qname = qname };
	return prove(in, &a, why, why_size);
}

enum hf_denial hf_denial_nodata(const struct hf_denial_in *in, const uint8_t *qname, uint16_t qtype,
				char *why, size_t why_size)
{
	struct proof_args a = { .kind = P_NODATA, .qname = qname, .qtype = qtype };
	return prove(in, &a, why, why_size);
}

enum hf_denial hf_denial_wildcard(const struct hf_denial_in *in, const uint8_t *qname,
				  unsigned rrsig_labels, char *why, size_t why_size)
{
	struct proof_args a = { .kind = P_WILDCARD, .qname = qname, .rrsig_labels = rrsig_labels };
	return prove(in, &a, why, why_size);
}

enum hf_denial hf_denial_no_ds(const struct hf_denial_in *in, const uint8_t *child,
			       char *why, size_t why_size)
{
	struct proof_args a = { .kind = P_NO_DS, .qname = child };
	return prove(in, &a, why, why_size);
}
