/*
 * DNSSEC cryptography (control/dnssec/crypto.c): key tags, DS digests, the
 * signed data of an RRset and signature checks, on the examples published
 * in the RFCs and on Unbound's test vectors (../shared/data).
 *
 * Records are written in zone-file text and read by the small reader below
 * (enough of RFC 1035 §5 for the types these vectors use), so each vector
 * can be compared with its source by eye.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "include/holdfast/dns.h"
#include "include/holdfast/errcode.h"
#include "include/holdfast/name.h"
#include "control/dnssec/crypto.h"
#include "control/resolver/rrset.h"
#include "tests/unit/hex.h"

/*
 * Every signature check below goes both through the stateless
 * hf_sig_verify() and through one hf_sig_ctx shared by the whole run, and
 * the two must agree. The shared context is reused across checks, keys and
 * tests: its prepared contexts are hit (a bad signature right after a good
 * one on the same key, an algorithm the key does not fit) and replaced (the
 * Unbound vectors hold more keys than HF_SIG_CTX_KEYS).
 */
static struct hf_sig_ctx *sig_ctx;

static int verify(EVP_PKEY *key, uint8_t alg, const uint8_t *data, size_t len,
		  const uint8_t *sig, size_t sig_len)
{
	int plain = hf_sig_verify(key, alg, data, len, sig, sig_len);
	int ctx = hf_sig_verify_ctx(sig_ctx, key, alg, data, len, sig, sig_len);
	assert_int_equal(ctx, plain);
	return plain;
}

static int group_setup(void **state)
{
	(void)state;
	sig_ctx = hf_sig_ctx_new();
	return sig_ctx == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	hf_sig_ctx_free(sig_ctx);
	sig_ctx = NULL;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* A tiny zone-text reader                                                  */
/* ------------------------------------------------------------------------ */

#define ZRR_RDATA_MAX 4096
#define ZRR_TOKENS_MAX 160

struct zrr {
	uint8_t owner[HF_NAME_MAXLEN];
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t rdata[ZRR_RDATA_MAX];
};

static const struct {
	const char *name;
	uint16_t type;
} zone_types[] = {
	{ "A", HF_TYPE_A }, { "NS", HF_TYPE_NS }, { "CNAME", HF_TYPE_CNAME },
	{ "SOA", HF_TYPE_SOA }, { "HINFO", HF_TYPE_HINFO }, { "MX", HF_TYPE_MX },
	{ "TXT", HF_TYPE_TXT }, { "AAAA", HF_TYPE_AAAA }, { "SRV", HF_TYPE_SRV },
	{ "NAPTR", HF_TYPE_NAPTR }, { "DS", HF_TYPE_DS }, { "RRSIG", HF_TYPE_RRSIG },
	{ "NSEC", HF_TYPE_NSEC }, { "DNSKEY", HF_TYPE_DNSKEY },
};

static int type_from_text(const char *t)
{
	for (size_t i = 0; i < HF_ARRAY_LEN(zone_types); i++)
		if (strcasecmp(t, zone_types[i].name) == 0)
			return zone_types[i].type;
	if (strncasecmp(t, "TYPE", 4) == 0 && isdigit((unsigned char)t[4]))
		return atoi(t + 4);
	return -1;
}

static int alg_from_text(const char *t)
{
	static const struct {
		const char *name;
		int alg;
	} algs[] = {
		{ "RSASHA1", 5 }, { "RSASHA1-NSEC3-SHA1", 7 }, { "RSASHA256", 8 },
		{ "RSASHA512", 10 }, { "ECDSAP256SHA256", 13 }, { "ECDSAP384SHA384", 14 },
		{ "ED25519", 15 }, { "ED448", 16 }, { "DSA", 3 },
	};
	if (isdigit((unsigned char)t[0]))
		return atoi(t);
	for (size_t i = 0; i < HF_ARRAY_LEN(algs); i++)
		if (strcasecmp(t, algs[i].name) == 0)
			return algs[i].alg;
	return -1;
}

/* Base64 with white space removed; returns the octet count or -1. */
static int b64_decode(const char *text, uint8_t *out, size_t cap)
{
	size_t n = 0, pad = 0;
	char *clean = malloc(strlen(text) + 1);
	if (clean == NULL)
		return -1;
	for (const char *p = text; *p; p++)
		if (!isspace((unsigned char)*p))
			clean[n++] = *p;
	clean[n] = '\0';
	if (n == 0 || n % 4 != 0 || n / 4 * 3 > cap) {
		free(clean);
		return -1;
	}
	for (size_t i = n; i > 0 && clean[i - 1] == '='; i--)
		pad++;
	int len = EVP_DecodeBlock(out, (const unsigned char *)clean, (int)n);
	free(clean);
	return len < 0 ? -1 : len - (int)pad;
}

/* YYYYMMDDhhmmss (RFC 4034 §3.2) or seconds. */
static uint32_t time_from_text(const char *t)
{
	if (strlen(t) == 14) {
		struct tm tm = { 0 };
		if (sscanf(t, "%4d%2d%2d%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) == 6) {
			tm.tm_year -= 1900;
			tm.tm_mon -= 1;
			return (uint32_t)timegm(&tm);
		}
	}
	return (uint32_t)strtoul(t, NULL, 10);
}

struct wbuf {
	uint8_t *p;
	size_t len;
	int err;
};

static void w_bytes(struct wbuf *w, const void *d, size_t n)
{
	if (w->len + n > ZRR_RDATA_MAX) {
		w->err = 1;
		return;
	}
	memcpy(w->p + w->len, d, n);
	w->len += n;
}

static void w_u8(struct wbuf *w, unsigned long v)
{
	uint8_t b = (uint8_t)v;
	w_bytes(w, &b, 1);
}

static void w_u16(struct wbuf *w, unsigned long v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	w_bytes(w, b, 2);
}

static void w_u32(struct wbuf *w, unsigned long v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	w_bytes(w, b, 4);
}

static void w_name(struct wbuf *w, const char *t)
{
	uint8_t name[HF_NAME_MAXLEN];
	int n = t ? hf_name_from_text(t, name) : -1;
	if (n < 0) {
		w->err = 1;
		return;
	}
	w_bytes(w, name, (size_t)n);
}

static void w_string(struct wbuf *w, const char *t)
{
	size_t n = t ? strlen(t) : 256;
	if (n > 255) {
		w->err = 1;
		return;
	}
	w_u8(w, n);
	w_bytes(w, t, n);
}

/* Concatenates tokens [from, n) and decodes them as base64 or hex. */
static void w_encoded(struct wbuf *w, char **tok, int from, int n, bool hex)
{
	char joined[8192] = "";
	uint8_t bin[ZRR_RDATA_MAX];
	for (int i = from; i < n; i++)
		if (strlen(joined) + strlen(tok[i]) < sizeof(joined))
			strcat(joined, tok[i]);
	int len = hex ? hex_decode(joined, bin, sizeof(bin)) : b64_decode(joined, bin, sizeof(bin));
	if (len < 0 || from >= n) {
		w->err = 1;
		return;
	}
	w_bytes(w, bin, (size_t)len);
}

/* Splits a record into tokens: quotes kept together (and marked), parentheses and comments dropped. */
static int tokenize(char *line, char **tok, int max)
{
	int n = 0;
	char *p = line;
	for (;;) {
		while (*p && (isspace((unsigned char)*p) || *p == '(' || *p == ')'))
			p++;
		if (*p == '\0' || *p == ';')
			break;
		if (n == max)
			return -1;
		if (*p == '"') {
			tok[n++] = ++p;
			while (*p && *p != '"')
				p++;
		} else {
			tok[n++] = p;
			while (*p && !isspace((unsigned char)*p) && *p != '(' && *p != ')' && *p != ';')
				p++;
		}
		if (*p == '\0')
			break;
		char c = *p;
		*p++ = '\0';
		if (c == ';')
			break;
	}
	return n;
}

/* Reads one record "owner [ttl] [class] type rdata". \return 0, or -1 if unreadable. */
static int zrr_parse(const char *text, struct zrr *rr)
{
	char *line = strdup(text);
	char *tok[ZRR_TOKENS_MAX];
	struct wbuf w = { rr->rdata, 0, 0 };
	int ret = -1;

	if (line == NULL)
		return -1;
	int n = tokenize(line, tok, ZRR_TOKENS_MAX);
	if (n < 2 || hf_name_from_text(tok[0], rr->owner) < 0)
		goto out;
	int i = 1;
	rr->ttl = 3600;
	rr->rclass = HF_CLASS_IN;
	for (int k = 0; k < 2 && i < n; k++) {
		if (isdigit((unsigned char)tok[i][0]))
			rr->ttl = (uint32_t)strtoul(tok[i++], NULL, 10);
		else if (strcasecmp(tok[i], "IN") == 0)
			i++;
	}
	if (i >= n)
		goto out;
	int type = type_from_text(tok[i++]);
	if (type < 0)
		goto out;
	rr->type = (uint16_t)type;
	char **a = tok + i;
	int na = n - i;
#define ARG(k) ((k) < na ? a[k] : NULL)
#define NUM(k) ((k) < na ? strtoul(a[k], NULL, 10) : (w.err = 1, 0ul))
	switch (rr->type) {
	case HF_TYPE_A:
	case HF_TYPE_AAAA: {
		uint8_t addr[16];
		int af = rr->type == HF_TYPE_A ? AF_INET : AF_INET6;
		if (na < 1 || inet_pton(af, a[0], addr) != 1)
			goto out;
		w_bytes(&w, addr, rr->type == HF_TYPE_A ? 4 : 16);
		break;
	}
	case HF_TYPE_NS:
	case HF_TYPE_CNAME:
		w_name(&w, ARG(0));
		break;
	case HF_TYPE_MX:
		w_u16(&w, NUM(0));
		w_name(&w, ARG(1));
		break;
	case HF_TYPE_SOA:
		w_name(&w, ARG(0));
		w_name(&w, ARG(1));
		for (int k = 2; k < 7; k++)
			w_u32(&w, NUM(k));
		break;
	case HF_TYPE_TXT:
	case HF_TYPE_HINFO:
		for (int k = 0; k < na; k++)
			w_string(&w, a[k]);
		break;
	case HF_TYPE_SRV:
		w_u16(&w, NUM(0));
		w_u16(&w, NUM(1));
		w_u16(&w, NUM(2));
		w_name(&w, ARG(3));
		break;
	case HF_TYPE_NAPTR:
		w_u16(&w, NUM(0));
		w_u16(&w, NUM(1));
		w_string(&w, ARG(2));
		w_string(&w, ARG(3));
		w_string(&w, ARG(4));
		w_name(&w, ARG(5));
		break;
	case HF_TYPE_DS:
		w_u16(&w, NUM(0));
		w_u8(&w, (unsigned long)(na > 1 ? alg_from_text(a[1]) : -1));
		w_u8(&w, NUM(2));
		w_encoded(&w, a, 3, na, true);
		break;
	case HF_TYPE_DNSKEY:
		w_u16(&w, NUM(0));
		w_u8(&w, NUM(1));
		w_u8(&w, (unsigned long)(na > 2 ? alg_from_text(a[2]) : -1));
		w_encoded(&w, a, 3, na, false);
		break;
	case HF_TYPE_RRSIG: {
		int covered = na > 0 ? type_from_text(a[0]) : -1;
		if (covered < 0 || na < 9)
			goto out;
		w_u16(&w, (unsigned long)covered);
		w_u8(&w, (unsigned long)alg_from_text(a[1]));
		w_u8(&w, NUM(2));
		w_u32(&w, NUM(3));
		w_u32(&w, time_from_text(a[4]));
		w_u32(&w, time_from_text(a[5]));
		w_u16(&w, NUM(6));
		w_name(&w, a[7]);
		w_encoded(&w, a, 8, na, false);
		break;
	}
	case HF_TYPE_NSEC: {
		uint8_t bitmap[256][34] = { { 0 } };
		w_name(&w, ARG(0));
		for (int k = 1; k < na; k++) {
			int t = type_from_text(a[k]);
			if (t < 0)
				goto out;
			uint8_t *win = bitmap[t >> 8];
			int octet = (t & 0xff) / 8;
			win[2 + octet] |= (uint8_t)(0x80 >> (t & 7));
			if (octet + 1 > win[1])
				win[1] = (uint8_t)(octet + 1);
		}
		for (int k = 0; k < 256; k++) {
			if (bitmap[k][1] == 0)
				continue;
			bitmap[k][0] = (uint8_t)k;
			w_bytes(&w, bitmap[k], 2 + (size_t)bitmap[k][1]);
		}
		break;
	}
	default:
		goto out;
	}
#undef ARG
#undef NUM
	if (w.err)
		goto out;
	rr->rdlen = (uint16_t)w.len;
	ret = 0;
out:
	free(line);
	return ret;
}

static struct zrr *zrr_new(const char *text)
{
	struct zrr *rr = calloc(1, sizeof(*rr));
	assert_non_null(rr);
	if (zrr_parse(text, rr) != 0)
		fail_msg("unreadable record: %s", text);
	return rr;
}

/* An RRset of the given records (the layout of control/resolver/rrset.h), no RRSIGs. */
static struct hf_rrset *rrset_of(struct zrr *const *rrs, size_t n)
{
	size_t need = 0;
	for (size_t i = 0; i < n; i++)
		need += 2 + rrs[i]->rdlen;
	struct hf_rrset *s = calloc(1, sizeof(*s) + need);
	assert_non_null(s);
	memcpy(s->owner, rrs[0]->owner, hf_name_len(rrs[0]->owner));
	hf_name_lower(s->owner);
	s->type = rrs[0]->type;
	s->rclass = rrs[0]->rclass;
	s->ttl = rrs[0]->ttl;
	for (size_t i = 0; i < n; i++) {
		memcpy(s->data + s->len, &rrs[i]->rdlen, 2);
		memcpy(s->data + s->len + 2, rrs[i]->rdata, rrs[i]->rdlen);
		s->len += 2 + (uint32_t)rrs[i]->rdlen;
		s->n_rr++;
	}
	return s;
}

/* ------------------------------------------------------------------------ */
/* Published examples                                                       */
/* ------------------------------------------------------------------------ */

struct vector {
	const char *what;
	const char *dnskey;
	const char *rrs[4];
	const char *rrsig;
	uint16_t tag;
	const char *ds;    /* optional: a DS of the key */
};

/* RFC 5702 §6.1: RSA/SHA-256, 512-bit key. */
static const struct vector rfc5702_6_1 = {
	"RFC 5702 6.1",
	"example.net. 3600 IN DNSKEY (256 3 8 AwEAAcFcGsaxxdgiuuGmCkVI"
	" my4h99CqT7jwY3pexPGcnUFtR2Fh36BponcwtkZ4cAgtvd4Qs8P"
	" kxUdp6p/DlUmObdk= )",
	{ "www.example.net. 3600 IN A 192.0.2.91" },
	"www.example.net. 3600 IN RRSIG (A 8 3 3600 20300101000000"
	" 20000101000000 9033 example.net. kRCOH6u7l0QGy9qpC9"
	" l1sLncJcOKFLJ7GhiUOibu4teYp5VE9RncriShZNz85mwlMgNEa"
	" cFYK/lPtPiVYP4bwg== )",
	9033, NULL,
};

/* RFC 5702 §6.2: RSA/SHA-512, 1024-bit key. */
static const struct vector rfc5702_6_2 = {
	"RFC 5702 6.2",
	"example.net. 3600 IN DNSKEY (256 3 10 AwEAAdHoNTOW+et86KuJOWRD"
	" p1pndvwb6Y83nSVXXyLA3DLroROUkN6X0O6pnWnjJQujX/AyhqFD"
	" xj13tOnD9u/1kTg7cV6rklMrZDtJCQ5PCl/D7QNPsgVsMu1J2Q8g"
	" pMpztNFLpPBz1bWXjDtaR7ZQBlZ3PFY12ZTSncorffcGmhOL )",
	{ "www.example.net. 3600 IN A 192.0.2.91" },
	"www.example.net. 3600 IN RRSIG (A 10 3 3600 20300101000000"
	" 20000101000000 3740 example.net. tsb4wnjRUDnB1BUi+t"
	" 6TMTXThjVnG+eCkWqjvvjhzQL1d0YRoOe0CbxrVDYd0xDtsuJRa"
	" eUw1ep94PzEWzr0iGYgZBWm/zpq+9fOuagYJRfDqfReKBzMweOL"
	" DiNa8iP5g9vMhpuv6OPlvpXwm9Sa9ZXIbNl1MBGk0fthPgxdDLw= )",
	3740, NULL,
};

/* RFC 6605 §6.1: ECDSA P-256 with SHA-256 (the signature is randomized; this one must verify). */
static const struct vector rfc6605_6_1 = {
	"RFC 6605 6.1",
	"example.net. 3600 IN DNSKEY 257 3 13 ( GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edb"
	" krSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA== )",
	{ "www.example.net. 3600 IN A 192.0.2.1" },
	"www.example.net. 3600 IN RRSIG A 13 3 3600 ( 20100909100439 20100812100439 55648"
	" example.net. qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXA"
	" yGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw== )",
	55648,
	"example.net. 3600 IN DS 55648 13 2 ( b4c8c1fe2e7477127b27115656ad6256f424625bf5c1"
	" e2770ce6d6e37df61d17 )",
};

/* RFC 6605 §6.2: ECDSA P-384 with SHA-384. */
static const struct vector rfc6605_6_2 = {
	"RFC 6605 6.2",
	"example.net. 3600 IN DNSKEY 257 3 14 ( xKYaNhWdGOfJ+nPrL8/arkwf2EY3MDJ+SErKivBVSum1"
	" w/egsXvSADtNJhyem5RCOpgQ6K8X1DRSEkrbYQ+OB+v8"
	" /uX45NBwY8rp65F6Glur8I/mlVNgF6W/qTI37m40 )",
	{ "www.example.net. 3600 IN A 192.0.2.1" },
	"www.example.net. 3600 IN RRSIG A 14 3 3600 ( 20100909102025 20100812102025 10771"
	" example.net. /L5hDKIvGDyI1fcARX3z65qrmPsVz73QD1Mr5CEqOiLP"
	" 95hxQouuroGCeZOvzFaxsT8Glr74hbavRKayJNuydCuz"
	" WTSSPdz7wnqXL5bdcJzusdnI0RSMROxxwGipWcJm )",
	10771,
	"example.net. 3600 IN DS 10771 14 4 ( 72d7b62976ce06438e9c0bf319013cf801f09ecc84b8"
	" d7e9495f27e305c6a9b0563a9b5f4d288405c3008a94 6df983d6 )",
};

/*
 * RFC 8080 §6.1, Ed25519, with the RRSIGs of verified erratum 4935 (the
 * published ones lack the algorithm field and count 3 labels; EdDSA is
 * deterministic, so the corrected signatures are exact).
 */
static const struct vector rfc8080_6_1a = {
	"RFC 8080 6.1 (erratum 4935), key 3613",
	"example.com. 3600 IN DNSKEY 257 3 15 ( l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4= )",
	{ "example.com. 3600 IN MX 10 mail.example.com." },
	"example.com. 3600 IN RRSIG MX 15 2 3600 ( 1440021600 1438207200 3613 example.com. ("
	" oL9krJun7xfBOIWcGHi7mag5/hdZrKWw15jPGrHpjQeRAvTdszaPD+QLs3fx8A4M3e23mRZ9VrbpMngwcrqNAg== )",
	3613,
	"example.com. 3600 IN DS 3613 15 2 ( 3aa5ab37efce57f737fc1627013fee07bdf241bd10f3b1964ab55c78e79a304b )",
};

static const struct vector rfc8080_6_1b = {
	"RFC 8080 6.1 (erratum 4935), key 35217",
	"example.com. 3600 IN DNSKEY 257 3 15 ( zPnZ/QwEe7S8C5SPz2OfS5RR40ATk2/rYnE9xHIEijs= )",
	{ "example.com. 3600 IN MX 10 mail.example.com." },
	"example.com. 3600 IN RRSIG MX 15 2 3600 ( 1440021600 1438207200 35217 example.com. ("
	" zXQ0bkYgQTEFyfLyi9QoiY6D8ZdYo4wyUhVioYZXFdT410QPRITQSqJSnzQoSm5poJ7gD7AQR0O7KuI5k2pcBg== )",
	35217,
	"example.com. 3600 IN DS 35217 15 2 ( 401781b934e392de492ec77ae2e15d70f6575a1c0bc59c5275c04ebe80c6614c )",
};

/* RFC 8080 §6.2, Ed448, erratum 4935 values. */
static const struct vector rfc8080_6_2a = {
	"RFC 8080 6.2 (erratum 4935), key 9713",
	"example.com. 3600 IN DNSKEY 257 3 16 ( 3kgROaDjrh0H2iuixWBrc8g2EpBBLCdGzHmn+G2MpTPhpj/OiBVHHSfPodx"
	" 1FYYUcJKm1MDpJtIA )",
	{ "example.com. 3600 IN MX 10 mail.example.com." },
	"example.com. 3600 IN RRSIG MX 16 2 3600 ( 1440021600 1438207200 9713 example.com. ("
	" 3cPAHkmlnxcDHMyg7vFC34l0blBhuG1qpwLmjInI8w1CMB29FkEAIJUA0am"
	" xWndkmnBZ6SKiwZSAxGILn/NBtOXft0+Gj7FSvOKxE/07+4RQvE581N3Aj/"
	" JtIyaiYVdnYtyMWbSNyGEY2213WKsJlwEA )",
	9713,
	"example.com. 3600 IN DS 9713 16 2 ( 6ccf18d5bc5d7fc2fceb1d59d17321402f2aa8d368048db93dd811f5cb2b19c7 )",
};

static const struct vector rfc8080_6_2b = {
	"RFC 8080 6.2 (erratum 4935), key 38353",
	"example.com. 3600 IN DNSKEY 257 3 16 ( kkreGWoccSDmUBGAe7+zsbG6ZAFQp+syPmYUurBRQc3tDjeMCJcVMRDmgcNL"
	" p5HlHAMy12VoISsA )",
	{ "example.com. 3600 IN MX 10 mail.example.com." },
	"example.com. 3600 IN RRSIG MX 16 2 3600 ( 1440021600 1438207200 38353 example.com. ("
	" E1/oLjSGIbmLny/4fcgM1z4oL6aqo+izT3urCyHyvEp4Sp8Syg1eI+lJ57CSnZqjJP41O/9l4m0AsQ4f7qI1gVnML8vWW"
	" iyW2KXhT9kuAICUSxv5OWbf81Rq7Yu60npabODB0QFPb/rkW3kUZmQ0YQUA )",
	38353, NULL,
};

/* Key, signed data and signature of one example (release() frees them). */
struct prepared {
	struct zrr *key_rr, *sig_rr;
	struct hf_dnskey key;
	struct hf_rrsig sig;
	EVP_PKEY *pkey;
	uint8_t data[8192];
	int len;
};

static void prepare(const struct vector *v, struct prepared *p)
{
	struct zrr *rrs[4];
	size_t n = 0;

	p->key_rr = zrr_new(v->dnskey);
	p->sig_rr = zrr_new(v->rrsig);
	assert_int_equal(hf_dnskey_parse(p->key_rr->rdata, p->key_rr->rdlen, &p->key), 0);
	assert_int_equal(hf_key_tag(p->key_rr->rdata, p->key_rr->rdlen), v->tag);
	assert_int_equal(p->key.tag, v->tag);
	assert_int_equal(hf_dnskey_pkey(&p->key, &p->pkey), 0);
	assert_non_null(p->pkey);
	assert_int_equal(hf_rrsig_parse(p->sig_rr->rdata, p->sig_rr->rdlen, &p->sig), 0);
	assert_int_equal(p->sig.key_tag, v->tag);
	assert_int_equal(p->sig.alg, p->key.alg);
	for (; n < HF_ARRAY_LEN(v->rrs) && v->rrs[n]; n++)
		rrs[n] = zrr_new(v->rrs[n]);
	struct hf_rrset *s = rrset_of(rrs, n);
	p->len = hf_rrsig_signed_data(s, &p->sig, p->data, sizeof(p->data));
	assert_true(p->len > 0);
	free(s);
	for (size_t i = 0; i < n; i++)
		free(rrs[i]);
}

static void release(struct prepared *p)
{
	EVP_PKEY_free(p->pkey);
	free(p->key_rr);
	free(p->sig_rr);
}

/* The published signature verifies; one flipped bit in it or in the data does not. */
static void check_vector(const struct vector *v)
{
	struct prepared *p = calloc(1, sizeof(*p));
	uint8_t sig[1024];

	assert_non_null(p);
	prepare(v, p);
	print_message("%s\n", v->what);
	assert_int_equal(verify(p->pkey, p->sig.alg, p->data, (size_t)p->len,
				       p->sig.sig, p->sig.sig_len), 0);

	memcpy(sig, p->sig.sig, p->sig.sig_len);
	sig[p->sig.sig_len / 2] ^= 0x10;
	assert_int_equal(verify(p->pkey, p->sig.alg, p->data, (size_t)p->len,
				       sig, p->sig.sig_len), HF_EBADSIG);
	sig[p->sig.sig_len / 2] ^= 0x10;
	sig[p->sig.sig_len - 1] ^= 0x01;
	assert_int_equal(verify(p->pkey, p->sig.alg, p->data, (size_t)p->len,
				       sig, p->sig.sig_len), HF_EBADSIG);

	p->data[p->len - 1] ^= 0x01;  /* last octet of the RDATA */
	assert_int_equal(verify(p->pkey, p->sig.alg, p->data, (size_t)p->len,
				       p->sig.sig, p->sig.sig_len), HF_EBADSIG);
	p->data[p->len - 1] ^= 0x01;
	p->data[20] ^= 0x20;          /* in the signer's name: case matters once canonical */
	assert_int_equal(verify(p->pkey, p->sig.alg, p->data, (size_t)p->len,
				       p->sig.sig, p->sig.sig_len), HF_EBADSIG);
	/* A truncated signature is a bad one, not a library failure. */
	assert_int_equal(verify(p->pkey, p->sig.alg, p->data, (size_t)p->len,
				       p->sig.sig, p->sig.sig_len - 1), HF_EBADSIG);

	if (v->ds != NULL) {
		struct zrr *ds = zrr_new(v->ds);
		assert_int_equal(hf_ds_match(ds->owner, ds->rdata, ds->rdlen,
					     p->key_rr->rdata, p->key_rr->rdlen), 0);
		ds->rdata[ds->rdlen - 1] ^= 0x01;
		assert_int_equal(hf_ds_match(ds->owner, ds->rdata, ds->rdlen,
					     p->key_rr->rdata, p->key_rr->rdlen), HF_EBADSIG);
		free(ds);
	}
	release(p);
	free(p);
}

static void test_rfc5702_rsasha256(void **state)
{
	(void)state;
	check_vector(&rfc5702_6_1);
}

static void test_rfc5702_rsasha512(void **state)
{
	(void)state;
	check_vector(&rfc5702_6_2);
}

static void test_rfc6605_ecdsa(void **state)
{
	(void)state;
	check_vector(&rfc6605_6_1);
	check_vector(&rfc6605_6_2);
}

static void test_rfc8080_eddsa(void **state)
{
	(void)state;
	check_vector(&rfc8080_6_1a);
	check_vector(&rfc8080_6_1b);
	check_vector(&rfc8080_6_2a);
	check_vector(&rfc8080_6_2b);
}

/* A key of one algorithm is no use for a signature of another, nor for another curve. */
static void test_key_algorithm_mismatch(void **state)
{
	(void)state;
	struct prepared *rsa = calloc(1, sizeof(*rsa)), *p256 = calloc(1, sizeof(*p256));
	struct prepared *p384 = calloc(1, sizeof(*p384));
	assert_non_null(rsa);
	assert_non_null(p256);
	assert_non_null(p384);
	prepare(&rfc5702_6_1, rsa);
	prepare(&rfc6605_6_1, p256);
	prepare(&rfc6605_6_2, p384);
	assert_int_equal(verify(rsa->pkey, HF_ALG_ECDSAP256SHA256, p256->data,
				       (size_t)p256->len, p256->sig.sig, p256->sig.sig_len), HF_EBADSIG);
	assert_int_equal(verify(p256->pkey, HF_ALG_ECDSAP384SHA384, p384->data,
				       (size_t)p384->len, p384->sig.sig, p384->sig.sig_len), HF_EBADSIG);
	assert_int_equal(verify(p256->pkey, HF_ALG_RSASHA256, rsa->data,
				       (size_t)rsa->len, rsa->sig.sig, rsa->sig.sig_len), HF_EBADSIG);
	/* RSA/SHA-1 is not RSA/SHA-256: the digest is part of the check. */
	assert_int_equal(verify(rsa->pkey, HF_ALG_RSASHA1, rsa->data,
				       (size_t)rsa->len, rsa->sig.sig, rsa->sig.sig_len), HF_EBADSIG);
	release(rsa);
	release(p256);
	release(p384);
	free(rsa);
	free(p256);
	free(p384);
}

/* RFC 3110 §2: the exponent length in three octets (0, then 16 bits) is the same key. */
static void test_rsa_long_exponent_form(void **state)
{
	(void)state;
	struct prepared *p = calloc(1, sizeof(*p));
	uint8_t rdata[600];
	struct hf_dnskey key;
	EVP_PKEY *pkey = NULL;

	assert_non_null(p);
	prepare(&rfc5702_6_1, p);
	/* AwEAAc...: exponent length 3 (01 00 01), then the modulus. */
	assert_int_equal(p->key.key[0], 3);
	memcpy(rdata, p->key_rr->rdata, 4);
	rdata[4] = 0;
	rdata[5] = 0;
	rdata[6] = 3;
	memcpy(rdata + 7, p->key.key + 1, p->key.key_len - 1u);
	uint16_t len = (uint16_t)(p->key_rr->rdlen + 2);
	assert_int_equal(hf_dnskey_parse(rdata, len, &key), 0);
	assert_int_equal(hf_dnskey_pkey(&key, &pkey), 0);
	assert_int_equal(verify(pkey, p->sig.alg, p->data, (size_t)p->len,
				       p->sig.sig, p->sig.sig_len), 0);
	EVP_PKEY_free(pkey);
	release(p);
	free(p);
}

/* RFC 4034 §5.4 (SHA-1) and RFC 4509 §2.3 (SHA-256, same key): DS of dskey.example.com. */
static void test_ds_rfc4034(void **state)
{
	(void)state;
	struct zrr *key = zrr_new("dskey.example.com. 86400 IN DNSKEY 256 3 5 ( AQOeiiR0GOMYkDshWoSKz9Xz"
				  " fwJr1AYtsmx3TGkJaNXVbfi/ 2pHm822aJ5iI9BMzNXxeYCmZ"
				  " DRD99WYwYqUSdjMmmAphXdvx egXd/M5+X7OrzKBaMbCVdFLU"
				  " Uh6DhweJBjEVv5f2wwjM9Xzc nOf+EPbtG9DMBmADjFDc2w/r"
				  " ljwvFw== ) ;  key id = 60485");
	struct zrr *ds1 = zrr_new("dskey.example.com. 86400 IN DS 60485 5 1 ( 2BB183AF5F22588179A53B0A"
				  " 98631FAD1A292118 )");
	struct zrr *ds2 = zrr_new("dskey.example.com. 86400 IN DS 60485 5 2 ( D4B7D520E7BB5F0F67674A0C"
				  " CEB1E3E0614B93C4F9E99B83 83F6A1E4469DA50A )");
	uint8_t upper[HF_NAME_MAXLEN];

	assert_int_equal(hf_key_tag(key->rdata, key->rdlen), 60485);
	assert_int_equal(hf_ds_match(key->owner, ds1->rdata, ds1->rdlen, key->rdata, key->rdlen), 0);
	assert_int_equal(hf_ds_match(key->owner, ds2->rdata, ds2->rdlen, key->rdata, key->rdlen), 0);
	/* The owner is hashed in canonical form, whatever its case. */
	assert_true(hf_name_from_text("DSKEY.Example.COM.", upper) > 0);
	assert_int_equal(hf_ds_match(upper, ds1->rdata, ds1->rdlen, key->rdata, key->rdlen), 0);
	/* Another owner gives another digest. */
	assert_true(hf_name_from_text("dskey.example.net.", upper) > 0);
	assert_int_equal(hf_ds_match(upper, ds1->rdata, ds1->rdlen, key->rdata, key->rdlen), HF_EBADSIG);

	/* Key tag and algorithm must agree before any digest. */
	ds1->rdata[1] ^= 1;
	assert_int_equal(hf_ds_match(key->owner, ds1->rdata, ds1->rdlen, key->rdata, key->rdlen), HF_EBADSIG);
	ds1->rdata[1] ^= 1;
	ds1->rdata[2] = 8;
	assert_int_equal(hf_ds_match(key->owner, ds1->rdata, ds1->rdlen, key->rdata, key->rdlen), HF_EBADSIG);
	ds1->rdata[2] = 5;
	/* GOST (3) and unassigned types are not ours to compute. */
	ds1->rdata[3] = 3;
	assert_int_equal(hf_ds_match(key->owner, ds1->rdata, ds1->rdlen, key->rdata, key->rdlen), HF_EALGORITHM);
	ds1->rdata[3] = 200;
	assert_int_equal(hf_ds_match(key->owner, ds1->rdata, ds1->rdlen, key->rdata, key->rdlen), HF_EALGORITHM);
	ds1->rdata[3] = 1;
	/* A digest of the wrong length for its type, and a DS too short for its fields. */
	assert_int_equal(hf_ds_match(key->owner, ds1->rdata, (uint16_t)(ds1->rdlen - 1), key->rdata,
				     key->rdlen), HF_ERDATA);
	assert_int_equal(hf_ds_match(key->owner, ds1->rdata, 3, key->rdata, key->rdlen), HF_ERDATA);
	assert_int_equal(hf_ds_match(key->owner, ds1->rdata, ds1->rdlen, key->rdata, key->rdlen), 0);

	assert_true(hf_ds_digest_supported(HF_DS_SHA1));
	assert_true(hf_ds_digest_supported(HF_DS_SHA256));
	assert_true(hf_ds_digest_supported(HF_DS_SHA384));
	assert_false(hf_ds_digest_supported(3));
	free(key);
	free(ds1);
	free(ds2);
}

static void test_key_errors(void **state)
{
	(void)state;
	struct hf_dnskey key;
	EVP_PKEY *pkey = (EVP_PKEY *)&key;  /* must be reset to NULL on failure */
	uint8_t rdata[128];

	/* ECDSA P-256 one octet short, and one long. */
	struct zrr *p256 = zrr_new(rfc6605_6_1.dnskey);
	assert_int_equal(hf_dnskey_parse(p256->rdata, (uint16_t)(p256->rdlen - 1), &key), 0);
	assert_int_equal(hf_dnskey_pkey(&key, &pkey), HF_EKEY);
	assert_null(pkey);
	memcpy(rdata, p256->rdata, p256->rdlen);
	rdata[p256->rdlen] = 0;
	assert_int_equal(hf_dnskey_parse(rdata, (uint16_t)(p256->rdlen + 1), &key), 0);
	assert_int_equal(hf_dnskey_pkey(&key, &pkey), HF_EKEY);
	/* A point off the curve. */
	memcpy(rdata, p256->rdata, p256->rdlen);
	rdata[p256->rdlen - 1] ^= 0x01;
	assert_int_equal(hf_dnskey_parse(rdata, p256->rdlen, &key), 0);
	assert_int_equal(hf_dnskey_pkey(&key, &pkey), HF_EKEY);
	assert_null(pkey);
	/* The same bytes called P-384 are the wrong size. */
	memcpy(rdata, p256->rdata, p256->rdlen);
	rdata[3] = HF_ALG_ECDSAP384SHA384;
	assert_int_equal(hf_dnskey_parse(rdata, p256->rdlen, &key), 0);
	assert_int_equal(hf_dnskey_pkey(&key, &pkey), HF_EKEY);
	free(p256);

	/* Ed25519 one octet short. */
	struct zrr *ed = zrr_new(rfc8080_6_1a.dnskey);
	assert_int_equal(hf_dnskey_parse(ed->rdata, (uint16_t)(ed->rdlen - 1), &key), 0);
	assert_int_equal(hf_dnskey_pkey(&key, &pkey), HF_EKEY);
	free(ed);

	/* RSA: exponent running past the key, no modulus, empty key, short long form. */
	struct zrr *rsa = zrr_new(rfc5702_6_1.dnskey);
	assert_int_equal(hf_dnskey_parse(rsa->rdata, 4 + 3, &key), 0);
	assert_int_equal(hf_dnskey_pkey(&key, &pkey), HF_EKEY);
	assert_int_equal(hf_dnskey_parse(rsa->rdata, 4 + 4, &key), 0);
	assert_int_equal(hf_dnskey_pkey(&key, &pkey), HF_EKEY);
	assert_int_equal(hf_dnskey_parse(rsa->rdata, 4, &key), 0);
	assert_int_equal(hf_dnskey_pkey(&key, &pkey), HF_EKEY);
	memcpy(rdata, rsa->rdata, 4);
	rdata[4] = 0;
	rdata[5] = 0;
	assert_int_equal(hf_dnskey_parse(rdata, 6, &key), 0);
	assert_int_equal(hf_dnskey_pkey(&key, &pkey), HF_EKEY);
	rsa->rdata[4] = 200;  /* exponent longer than what follows */
	assert_int_equal(hf_dnskey_parse(rsa->rdata, rsa->rdlen, &key), 0);
	assert_int_equal(hf_dnskey_pkey(&key, &pkey), HF_EKEY);

	/* Unknown or unsupported algorithms. */
	rsa->rdata[3] = 3;  /* DSA */
	assert_int_equal(hf_dnskey_parse(rsa->rdata, rsa->rdlen, &key), 0);
	assert_int_equal(hf_dnskey_pkey(&key, &pkey), HF_EALGORITHM);
	rsa->rdata[3] = 200;
	assert_int_equal(hf_dnskey_parse(rsa->rdata, rsa->rdlen, &key), 0);
	assert_int_equal(hf_dnskey_pkey(&key, &pkey), HF_EALGORITHM);

	/* DNSKEY RDATA: too short, and protocol other than 3. */
	assert_int_equal(hf_dnskey_parse(rsa->rdata, 3, &key), HF_ERDATA);
	rsa->rdata[2] = 2;
	assert_int_equal(hf_dnskey_parse(rsa->rdata, rsa->rdlen, &key), HF_ERDATA);
	free(rsa);
}

static void test_unknown_algorithm(void **state)
{
	(void)state;
	struct prepared *p = calloc(1, sizeof(*p));
	char buf[16];

	assert_non_null(p);
	prepare(&rfc8080_6_1a, p);
	assert_int_equal(verify(p->pkey, 200, p->data, (size_t)p->len, p->sig.sig,
				       p->sig.sig_len), HF_EALGORITHM);
	assert_int_equal(verify(p->pkey, 3, p->data, (size_t)p->len, p->sig.sig,
				       p->sig.sig_len), HF_EALGORITHM);
	release(p);
	free(p);

	static const uint8_t ok[] = { 5, 7, 8, 10, 13, 14, 15, 16 };
	for (size_t i = 0; i < sizeof(ok); i++)
		assert_true(hf_alg_supported(ok[i]));
	assert_false(hf_alg_supported(1));   /* RSAMD5 */
	assert_false(hf_alg_supported(3));   /* DSA */
	assert_false(hf_alg_supported(6));
	assert_false(hf_alg_supported(12));  /* GOST */
	assert_false(hf_alg_supported(17));
	assert_string_equal(hf_alg_name(8, buf, sizeof(buf)), "RSASHA256");
	assert_string_equal(hf_alg_name(13, buf, sizeof(buf)), "ECDSAP256SHA256");
	assert_string_equal(hf_alg_name(16, buf, sizeof(buf)), "ED448");
	assert_string_equal(hf_alg_name(200, buf, sizeof(buf)), "ALG200");
}

/* ------------------------------------------------------------------------ */
/* Signed data                                                              */
/* ------------------------------------------------------------------------ */

static void test_rrsig_parse(void **state)
{
	(void)state;
	struct zrr *rr = zrr_new("x. 1 IN RRSIG A 13 3 3600 20100909100439 20100812100439 55648"
				 " EXAMPLE.Net. qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXA"
				 " yGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw==");
	struct hf_rrsig sig;
	uint8_t name[HF_NAME_MAXLEN];

	assert_int_equal(hf_rrsig_parse(rr->rdata, rr->rdlen, &sig), 0);
	assert_int_equal(sig.type_covered, HF_TYPE_A);
	assert_int_equal(sig.alg, 13);
	assert_int_equal(sig.labels, 3);
	assert_int_equal(sig.orig_ttl, 3600);
	assert_int_equal(sig.expiration, 1284026679);  /* 2010-09-09 10:04:39 UTC */
	assert_int_equal(sig.inception, 1281607479);
	assert_int_equal(sig.key_tag, 55648);
	assert_true(hf_name_from_text("example.net.", name) > 0);
	assert_memory_equal(sig.signer, name, 13);  /* lower-cased copy */
	assert_int_equal(sig.fixed_len, 18 + 13);
	assert_int_equal(sig.sig_len, 64);
	assert_ptr_equal(sig.sig, rr->rdata + 31);
	assert_ptr_equal(sig.rdata, rr->rdata);
	/* Truncated inside the fixed part, inside the name, and with no signature. */
	assert_int_equal(hf_rrsig_parse(rr->rdata, 17, &sig), HF_ERDATA);
	assert_int_equal(hf_rrsig_parse(rr->rdata, 25, &sig), HF_ERDATA);
	assert_int_equal(hf_rrsig_parse(rr->rdata, 31, &sig), HF_ERDATA);
	free(rr);
}

/* RRSIG labels of 2 on a 4-label owner: the owner is signed as "*.example.com.". */
static void test_wildcard_owner(void **state)
{
	(void)state;
	struct zrr *a = zrr_new("A.b.Example.COM. 300 IN A 192.0.2.1");
	struct zrr *sig_rr = zrr_new("a.b.example.com. 300 IN RRSIG A 13 2 3600 20300101000000"
				     " 20000101000000 1 Example.COM. AAAA");
	struct hf_rrset *s = rrset_of(&a, 1);
	struct hf_rrsig sig;
	uint8_t out[256];
	/* RRsets keep owners in lower case; signed data must not depend on it. */
	memcpy(s->owner, a->owner, hf_name_len(a->owner));
	uint8_t want[256];

	assert_int_equal(hf_rrsig_parse(sig_rr->rdata, sig_rr->rdlen, &sig), 0);
	int len = hf_rrsig_signed_data(s, &sig, out, sizeof(out));
	int want_len = hex_decode("0001 0d 02 00000e10", want, sizeof(want));
	memcpy(want + want_len, sig_rr->rdata + 8, 10);  /* expiration, inception, key tag */
	want_len += 10;
	want_len += hex_decode("076578616d706c6503636f6d00"          /* example.com. */
			       "012a076578616d706c6503636f6d00"      /* *.example.com. */
			       "0001 0001 00000e10 0004 c0000201",   /* A IN 3600 4 192.0.2.1 */
			       want + want_len, sizeof(want) - (size_t)want_len);
	assert_int_equal(len, want_len);
	assert_memory_equal(out, want, (size_t)want_len);

	/* Labels equal to the owner's: no reduction. Labels 0: "*." alone. */
	sig_rr->rdata[3] = 4;
	assert_int_equal(hf_rrsig_parse(sig_rr->rdata, sig_rr->rdlen, &sig), 0);
	len = hf_rrsig_signed_data(s, &sig, out, sizeof(out));
	assert_int_equal(len, 18 + 13 + 17 + 10 + 4);
	assert_memory_equal(out + 31, "\1a\1b\7example\3com", 17);
	sig_rr->rdata[3] = 0;
	assert_int_equal(hf_rrsig_parse(sig_rr->rdata, sig_rr->rdlen, &sig), 0);
	len = hf_rrsig_signed_data(s, &sig, out, sizeof(out));
	assert_int_equal(len, 18 + 13 + 3 + 10 + 4);
	assert_memory_equal(out + 31, "\1*", 3);

	/* More labels than the owner has: malformed. */
	sig_rr->rdata[3] = 5;
	assert_int_equal(hf_rrsig_parse(sig_rr->rdata, sig_rr->rdlen, &sig), 0);
	assert_int_equal(hf_rrsig_signed_data(s, &sig, out, sizeof(out)), HF_ERDATA);
	free(s);
	free(a);
	free(sig_rr);
}

/* §6.2/§6.3: RDATA names lower-cased, records sorted as octet strings, duplicates dropped. */
static void test_canonical_order(void **state)
{
	(void)state;
	struct zrr *rrs[4] = {
		zrr_new("Example.com. 60 IN MX 20 MAIL.example.com."),
		zrr_new("example.com. 60 IN MX 10 Mx.Example.com."),
		zrr_new("example.com. 60 IN MX 20 mail.EXAMPLE.com."),  /* same once canonical */
		zrr_new("example.com. 60 IN MX 10 a.example.com."),
	};
	struct zrr *sig_rr = zrr_new("example.com. 60 IN RRSIG MX 8 2 7200 20300101000000"
				     " 20000101000000 1 example.com. AAAA");
	struct hf_rrset *s = rrset_of(rrs, 4);
	struct hf_rrsig sig;
	uint8_t out[512], want[512];

	assert_int_equal(hf_rrsig_parse(sig_rr->rdata, sig_rr->rdlen, &sig), 0);
	int len = hf_rrsig_signed_data(s, &sig, out, sizeof(out));
	memcpy(want, sig_rr->rdata, 31);
	int want_len = 31;
	static const char *const rdata[] = {
		"000a 0161 076578616d706c6503636f6d00",       /* 10 a.example.com. */
		"000a 026d78 076578616d706c6503636f6d00",     /* 10 mx.example.com. */
		"0014 046d61696c 076578616d706c6503636f6d00", /* 20 mail.example.com. */
	};
	for (size_t i = 0; i < HF_ARRAY_LEN(rdata); i++) {
		uint8_t rd[64];
		int rdlen = hex_decode(rdata[i], rd, sizeof(rd));
		want_len += hex_decode("076578616d706c6503636f6d00 000f 0001 00001c20",
				       want + want_len, sizeof(want) - (size_t)want_len);
		want[want_len++] = 0;
		want[want_len++] = (uint8_t)rdlen;
		memcpy(want + want_len, rd, (size_t)rdlen);
		want_len += rdlen;
	}
	assert_int_equal(len, want_len);
	assert_memory_equal(out, want, (size_t)want_len);
	/* The RRset itself is left as it was. */
	uint16_t l0;
	assert_memory_equal(hf_rrset_rdata(s, 0, &l0), rrs[0]->rdata, rrs[0]->rdlen);

	/* Too little room: for the RRSIG part, and for the last record by one octet. */
	assert_int_equal(hf_rrsig_signed_data(s, &sig, out, 17), HF_ESPACE);
	assert_int_equal(hf_rrsig_signed_data(s, &sig, out, 30), HF_ESPACE);
	assert_int_equal(hf_rrsig_signed_data(s, &sig, out, (size_t)want_len - 1), HF_ESPACE);
	assert_int_equal(hf_rrsig_signed_data(s, &sig, out, (size_t)want_len), want_len);

	/* A record whose embedded name is broken. */
	struct hf_rrset *bad = rrset_of(rrs, 1);
	bad->data[2 + 2] = 40;  /* first label length past the end */
	assert_int_equal(hf_rrsig_signed_data(bad, &sig, out, sizeof(out)), HF_ERDATA);
	free(bad);
	free(s);
	for (size_t i = 0; i < 4; i++)
		free(rrs[i]);
	free(sig_rr);
}

/* ------------------------------------------------------------------------ */
/* Unbound's vectors                                                        */
/* ------------------------------------------------------------------------ */

struct entry {
	char qname[HF_NAME_TEXT_MAXLEN];
	struct zrr **rr;
	size_t n;
};

static void entries_free(struct entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < e[i].n; j++)
			free(e[i].rr[j]);
		free(e[i].rr);
	}
	free(e);
}

/* Reads the ENTRY_BEGIN .. ENTRY_END blocks of a file; NULL if it cannot be opened. */
static struct entry *entries_read(const char *path, size_t *count)
{
	FILE *f = fopen(path, "r");
	struct entry *e = NULL;
	size_t n = 0;
	char line[8192];
	bool in_entry = false, question = false;

	if (f == NULL)
		return NULL;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == ';' || *p == '\0')
			continue;
		if (strncmp(p, "ENTRY_BEGIN", 11) == 0) {
			e = realloc(e, (n + 1) * sizeof(*e));
			assert_non_null(e);
			memset(&e[n++], 0, sizeof(*e));
			in_entry = true;
			continue;
		}
		if (strncmp(p, "ENTRY_END", 9) == 0) {
			in_entry = false;
			continue;
		}
		if (!in_entry)
			continue;
		if (strncmp(p, "SECTION", 7) == 0) {
			question = strstr(p, "QUESTION") != NULL;
			continue;
		}
		/* Records here are on one line each; join the rare one split by parentheses. */
		while (strchr(p, '(') != NULL && strchr(p, ')') == NULL) {
			size_t used = strlen(line);
			char *nl = strchr(line, '\n');
			if (nl != NULL)
				*nl = ' ', used = (size_t)(nl - line) + 1;
			if (fgets(line + used, (int)(sizeof(line) - used), f) == NULL)
				break;
		}
		struct entry *cur = &e[n - 1];
		if (question) {
			sscanf(p, "%1023s", cur->qname);
			continue;
		}
		struct zrr *rr = calloc(1, sizeof(*rr));
		assert_non_null(rr);
		if (zrr_parse(p, rr) != 0)
			fail_msg("%s: unreadable record: %s", path, p);
		cur->rr = realloc(cur->rr, (cur->n + 1) * sizeof(*cur->rr));
		assert_non_null(cur->rr);
		cur->rr[cur->n++] = rr;
	}
	fclose(f);
	*count = n;
	return e;
}

static bool vectors_dir(char *out, size_t size)
{
	snprintf(out, size, "%s/unbound-dnssec-vectors", shared_data_dir());
	FILE *f;
	char probe[1200];
	snprintf(probe, sizeof(probe), "%s/SOURCE.md", out);
	f = fopen(probe, "r");
	if (f == NULL)
		return false;
	fclose(f);
	return true;
}

static bool first_label_is(const uint8_t *name, const char *label)
{
	size_t n = strlen(label);
	return name[0] == n && strncasecmp((const char *)name + 1, label, n) == 0;
}

struct sigfile_stats {
	unsigned rrsets_secure, rrsets_bogus, sigs_verified;
};

/*
 * Verifies every RRset of every entry after the first against the first
 * entry's DNSKEYs, at the file's fixed time. Expected: every RRSIG of a
 * supported algorithm verifies with a usable key (secure), unless the
 * owner or the query name starts with "bogus", when at least one does not.
 * A key with the REVOKE bit only signs its own DNSKEY RRset (RFC 5011 §2.1),
 * as the validator will require: test_sigs.revoked has a valid signature by
 * a revoked key over another zone's keys, which must not count.
 */
static void check_sigfile(const char *dir, const char *file, const char *now_text,
			  struct sigfile_stats *st)
{
	char path[1400];
	size_t n_entries = 0;
	uint32_t now = time_from_text(now_text);

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	struct entry *e = entries_read(path, &n_entries);
	if (e == NULL)
		fail_msg("cannot read %s", path);
	assert_true(n_entries >= 2);

	/* Keys of the first entry. */
	struct {
		struct hf_dnskey key;
		const uint8_t *owner;
		EVP_PKEY *pkey;
	} keys[16];
	size_t n_keys = 0;
	for (size_t i = 0; i < e[0].n; i++) {
		struct zrr *rr = e[0].rr[i];
		if (rr->type != HF_TYPE_DNSKEY)
			continue;
		assert_true(n_keys < HF_ARRAY_LEN(keys));
		assert_int_equal(hf_dnskey_parse(rr->rdata, rr->rdlen, &keys[n_keys].key), 0);
		keys[n_keys].owner = rr->owner;
		keys[n_keys].pkey = NULL;
		if (hf_alg_supported(keys[n_keys].key.alg))
			assert_int_equal(hf_dnskey_pkey(&keys[n_keys].key, &keys[n_keys].pkey), 0);
		n_keys++;
	}
	assert_true(n_keys > 0);

	static uint8_t data[70000];
	for (size_t i = 1; i < n_entries; i++) {
		uint8_t qname[HF_NAME_MAXLEN];
		assert_true(hf_name_from_text(e[i].qname, qname) > 0);
		for (size_t j = 0; j < e[i].n; j++) {
			struct zrr *rr = e[i].rr[j];
			if (rr->type == HF_TYPE_RRSIG)
				continue;
			/* Handle each RRset once, at its first record. */
			bool seen = false;
			for (size_t k = 0; k < j && !seen; k++)
				seen = e[i].rr[k]->type == rr->type && e[i].rr[k]->rclass == rr->rclass &&
				       hf_name_equal(e[i].rr[k]->owner, rr->owner);
			if (seen)
				continue;
			struct zrr *set[64];
			size_t n_set = 0;
			for (size_t k = j; k < e[i].n; k++)
				if (e[i].rr[k]->type == rr->type && e[i].rr[k]->rclass == rr->rclass &&
				    hf_name_equal(e[i].rr[k]->owner, rr->owner) && n_set < 64)
					set[n_set++] = e[i].rr[k];
			struct hf_rrset *s = rrset_of(set, n_set);

			bool all_ok = true, checked = false;
			for (size_t k = 0; k < e[i].n; k++) {
				struct zrr *srr = e[i].rr[k];
				struct hf_rrsig sig;
				if (srr->type != HF_TYPE_RRSIG || !hf_name_equal(srr->owner, rr->owner))
					continue;
				assert_int_equal(hf_rrsig_parse(srr->rdata, srr->rdlen, &sig), 0);
				if (sig.type_covered != rr->type || !hf_alg_supported(sig.alg))
					continue;
				checked = true;
				bool ok = false;
				int len = hf_rrsig_signed_data(s, &sig, data, sizeof(data));
				assert_true(len > 0);
				for (size_t m = 0; m < n_keys && !ok; m++) {
					const struct hf_dnskey *key = &keys[m].key;
					if (key->tag != sig.key_tag || key->alg != sig.alg ||
					    !hf_name_equal(keys[m].owner, sig.signer) ||
					    ((key->flags & HF_DNSKEY_FLAG_REVOKE) &&
					     !(rr->type == HF_TYPE_DNSKEY && hf_name_equal(rr->owner, keys[m].owner))) ||
					    now < sig.inception || now > sig.expiration)
						continue;
					int ret = verify(keys[m].pkey, sig.alg, data, (size_t)len,
								sig.sig, sig.sig_len);
					if (ret != 0 && ret != HF_EBADSIG)
						fail_msg("%s: %s: %s", file, e[i].qname, hf_strerror(ret));
					ok = ret == 0;
				}
				st->sigs_verified += ok;
				all_ok = all_ok && ok;
			}
			if (checked) {
				char owner[HF_NAME_TEXT_MAXLEN];
				hf_name_to_text(rr->owner, owner, sizeof(owner));
				bool bogus = first_label_is(qname, "bogus") || first_label_is(rr->owner, "bogus");
				if (all_ok == bogus)
					fail_msg("%s: %s type %u: expected %s", file, owner, rr->type,
						 bogus ? "bogus" : "secure");
				if (bogus)
					st->rrsets_bogus++;
				else
					st->rrsets_secure++;
			}
			free(s);
		}
	}
	for (size_t m = 0; m < n_keys; m++)
		EVP_PKEY_free(keys[m].pkey);
	entries_free(e, n_entries);
}

static void test_unbound_signatures(void **state)
{
	(void)state;
	/* The fixed "now" of each file, from SOURCE.md (Unbound's unitverify.c). */
	static const struct {
		const char *file, *now;
		unsigned min_secure, min_bogus;
	} files[] = {
		{ "test_signatures.1", "20070818005004", 10, 0 },
		{ "test_signatures.7", "20070829144150", 0, 0 },
		{ "test_signatures.8", "20070829144150", 0, 0 },
		{ "test_signatures.9", "20171215000000", 1, 0 },
		{ "test_sigs.rsasha256", "20070829144150", 1, 0 },
		{ "test_sigs.sha1_and_256", "20070829144150", 1, 3 },
		{ "test_sigs.rsasha256_draft", "20090101000000", 1, 0 },
		{ "test_sigs.rsasha512_draft", "20070829144150", 1, 0 },
		{ "test_sigs.hinfo", "20090107100022", 3, 1 },
		{ "test_sigs.revoked", "20080414005004", 1, 2 },
		{ "test_sigs.ecdsa_p256", "20100908100439", 1, 0 },
		{ "test_sigs.ecdsa_p384", "20100908100439", 1, 0 },
		{ "test_sigs.ed25519", "20170530140439", 1, 0 },
		{ "test_sigs.ed448", "20180408143630", 1, 0 },
	};
	char dir[1100];

	if (!vectors_dir(dir, sizeof(dir)))
		skip();
	for (size_t i = 0; i < HF_ARRAY_LEN(files); i++) {
		struct sigfile_stats st = { 0 };
		check_sigfile(dir, files[i].file, files[i].now, &st);
		print_message("%s: %u secure, %u bogus RRsets, %u signatures verified\n",
			      files[i].file, st.rrsets_secure, st.rrsets_bogus, st.sigs_verified);
		assert_true(st.rrsets_secure >= files[i].min_secure);
		assert_true(st.rrsets_bogus >= files[i].min_bogus);
	}
}

/* Every DS of a "yes." entry matches its DNSKEY; none of a "no." entry does. */
static void check_dsfile(const char *dir, const char *file, unsigned *yes, unsigned *no)
{
	char path[1400];
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	struct entry *e = entries_read(path, &n);
	if (e == NULL)
		fail_msg("cannot read %s", path);
	for (size_t i = 0; i < n; i++) {
		struct zrr *ds = NULL, *key = NULL;
		for (size_t j = 0; j < e[i].n; j++) {
			if (e[i].rr[j]->type == HF_TYPE_DS)
				ds = e[i].rr[j];
			else if (e[i].rr[j]->type == HF_TYPE_DNSKEY)
				key = e[i].rr[j];
		}
		assert_non_null(ds);
		assert_non_null(key);
		int ret = hf_ds_match(ds->owner, ds->rdata, ds->rdlen, key->rdata, key->rdlen);
		if (strncmp(e[i].qname, "yes", 3) == 0) {
			assert_int_equal(ret, 0);
			(*yes)++;
		} else {
			assert_int_equal(ret, HF_EBADSIG);
			(*no)++;
		}
	}
	entries_free(e, n);
}

static void test_unbound_ds(void **state)
{
	(void)state;
	char dir[1100];
	unsigned yes = 0, no = 0;

	if (!vectors_dir(dir, sizeof(dir)))
		skip();
	check_dsfile(dir, "test_ds.sha1", &yes, &no);
	check_dsfile(dir, "test_ds.sha384", &yes, &no);
	print_message("DS: %u matching, %u not matching\n", yes, no);
	assert_true(yes >= 4);
	assert_true(no >= 3);
}

/*
 * A hf_sig_ctx keeps a reference to each key it prepared: dropping ours
 * right after a check, then parsing the same DNSKEY again (possibly at the
 * same address), must neither reuse a freed key nor confuse the entries,
 * across more keys than it keeps and two algorithms.
 */
static void test_sig_ctx_key_turnover(void **state)
{
	(void)state;
	struct prepared *rsa = calloc(1, sizeof(*rsa)), *p256 = calloc(1, sizeof(*p256));
	struct hf_sig_ctx *c = hf_sig_ctx_new();
	assert_non_null(rsa);
	assert_non_null(p256);
	assert_non_null(c);
	prepare(&rfc5702_6_1, rsa);
	prepare(&rfc6605_6_1, p256);
	for (unsigned i = 0; i < 3 * HF_SIG_CTX_KEYS; i++) {
		struct prepared *p = i % 3 == 0 ? p256 : rsa;
		EVP_PKEY *pkey = NULL;
		assert_int_equal(hf_dnskey_pkey(&p->key, &pkey), 0);
		assert_int_equal(hf_sig_verify_ctx(c, pkey, p->sig.alg, p->data, (size_t)p->len,
						   p->sig.sig, p->sig.sig_len), 0);
		p->data[p->len - 1] ^= 0x01;
		assert_int_equal(hf_sig_verify_ctx(c, pkey, p->sig.alg, p->data, (size_t)p->len,
						   p->sig.sig, p->sig.sig_len), HF_EBADSIG);
		p->data[p->len - 1] ^= 0x01;
		EVP_PKEY_free(pkey);
	}
	/* The stateless form is hf_sig_verify_ctx() without a context. */
	assert_int_equal(hf_sig_verify_ctx(NULL, rsa->pkey, rsa->sig.alg, rsa->data,
					   (size_t)rsa->len, rsa->sig.sig, rsa->sig.sig_len), 0);
	hf_sig_ctx_free(c);
	hf_sig_ctx_free(NULL);
	release(rsa);
	release(p256);
	free(rsa);
	free(p256);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5702_rsasha256),
		cmocka_unit_test(test_rfc5702_rsasha512),
		cmocka_unit_test(test_rfc6605_ecdsa),
		cmocka_unit_test(test_rfc8080_eddsa),
		cmocka_unit_test(test_key_algorithm_mismatch),
		cmocka_unit_test(test_sig_ctx_key_turnover),
		cmocka_unit_test(test_rsa_long_exponent_form),
		cmocka_unit_test(test_ds_rfc4034),
		cmocka_unit_test(test_key_errors),
		cmocka_unit_test(test_unknown_algorithm),
		cmocka_unit_test(test_rrsig_parse),
		cmocka_unit_test(test_wildcard_owner),
		cmocka_unit_test(test_canonical_order),
		cmocka_unit_test(test_unbound_signatures),
		cmocka_unit_test(test_unbound_ds),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
