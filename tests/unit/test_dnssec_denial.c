/*
 * Denial of existence (control/dnssec/denial.c): NSEC3 hashes (RFC 5155
 * Appendix A, Unbound's vectors), base32hex, type bitmaps, and the proofs
 * of RFC 5155 Appendix B and RFC 4035 Appendix B, each with a broken twin.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "include/holdfast/errcode.h"
#include "include/holdfast/wire_ctx.h"
#include "control/dnssec/denial.h"
#include "tests/unit/hex.h"
#include "tests/unit/resolver_pkt.h"

/* ------------------------------------------------------------------------ */
/* Records from presentation-like text                                       */
/* ------------------------------------------------------------------------ */

static uint16_t type_code(const char *s)
{
	static const struct { const char *s; uint16_t t; } types[] = {
		{ "A", HF_TYPE_A }, { "NS", HF_TYPE_NS }, { "CNAME", HF_TYPE_CNAME },
		{ "SOA", HF_TYPE_SOA }, { "MX", HF_TYPE_MX }, { "TXT", HF_TYPE_TXT },
		{ "HINFO", HF_TYPE_HINFO }, { "AAAA", HF_TYPE_AAAA }, { "DNAME", HF_TYPE_DNAME },
		{ "DS", HF_TYPE_DS }, { "RRSIG", HF_TYPE_RRSIG }, { "NSEC", HF_TYPE_NSEC },
		{ "DNSKEY", HF_TYPE_DNSKEY }, { "NSEC3", HF_TYPE_NSEC3 },
		{ "NSEC3PARAM", HF_TYPE_NSEC3PARAM },
	};
	for (size_t i = 0; i < HF_ARRAY_LEN(types); i++)
		if (strcasecmp(types[i].s, s) == 0)
			return types[i].t;
	if (strncasecmp(s, "TYPE", 4) == 0)
		return (uint16_t)atoi(s + 4);
	fail_msg("unknown type %s", s);
	return 0;
}

/* Type bitmap (RFC 4034 §4.1.2) of the type mnemonics tok[0..n). */
static size_t make_bitmap(char **tok, unsigned n, uint8_t *out)
{
	uint8_t win[256][32];
	uint8_t wlen[256] = { 0 };
	memset(win, 0, sizeof(win));
	for (unsigned i = 0; i < n; i++) {
		uint16_t t = type_code(tok[i]);
		uint8_t w = (uint8_t)(t >> 8), b = (uint8_t)t;
		win[w][b / 8] |= (uint8_t)(0x80u >> (b % 8));
		if (wlen[w] < b / 8 + 1)
			wlen[w] = (uint8_t)(b / 8 + 1);
	}
	size_t len = 0;
	for (unsigned w = 0; w < 256; w++) {
		if (wlen[w] == 0)
			continue;
		out[len++] = (uint8_t)w;
		out[len++] = wlen[w];
		memcpy(out + len, win[w], wlen[w]);
		len += wlen[w];
	}
	return len;
}

/*
 * One NSEC or NSEC3 record as an RRset, from
 *   "owner NSEC next TYPES..."  or  "owner NSEC3 alg flags iter salt|- next-hash TYPES..."
 */
static struct hf_rrset *rr(const char *line)
{
	char buf[1024];
	char *tok[64];
	unsigned n = 0;
	char *save = NULL;
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok_r(buf, " \t", &save); t && n < 64; t = strtok_r(NULL, " \t", &save))
		tok[n++] = t;
	assert_true(n >= 3);
	uint8_t rd[2048];
	size_t len = 0;
	uint16_t type = type_code(tok[1]);
	if (type == HF_TYPE_NSEC) {
		const uint8_t *next = N(tok[2]);
		len = hf_name_len(next);
		memcpy(rd, next, len);
		len += make_bitmap(tok + 3, n - 3, rd + len);
	} else {
		assert_int_equal(type, HF_TYPE_NSEC3);
		assert_true(n >= 7);
		rd[0] = (uint8_t)atoi(tok[2]);
		rd[1] = (uint8_t)atoi(tok[3]);
		hf_wire_put_u16(rd + 2, (uint16_t)atoi(tok[4]));
		int salt_len = strcmp(tok[5], "-") == 0 ? 0 : hex_decode(tok[5], rd + 5, 255);
		assert_true(salt_len >= 0);
		rd[4] = (uint8_t)salt_len;
		len = 5 + (size_t)salt_len;
		int hl = hf_base32hex_decode(tok[6], strlen(tok[6]), rd + len + 1, 64);
		assert_int_equal(hl, HF_NSEC3_HASH_LEN);
		rd[len] = (uint8_t)hl;
		len += 1 + (size_t)hl;
		len += make_bitmap(tok + 7, n - 7, rd + len);
	}
	struct hf_rrset *s = hf_rrset_new1(N(tok[0]), type, HF_CLASS_IN, 3600, rd, (uint16_t)len);
	assert_non_null(s);
	return s;
}

struct proof {
	struct hf_rrset *own[32];
	const struct hf_rrset *sets[32];
	struct hf_denial_in in;
	char why[200];
};

/* Load records into p (zone as text); lines end with NULL. */
static struct proof *proof_new(const char *zone, ...)
{
	struct proof *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	static uint8_t zbuf[8][HF_NAME_MAXLEN];
	static unsigned zn;
	uint8_t *z = zbuf[zn++ % 8];
	memcpy(z, N(zone), hf_name_len(N(zone)));
	p->in.zone = z;
	p->in.sets = p->sets;
	va_list ap;
	va_start(ap, zone);
	for (const char *l = va_arg(ap, const char *); l; l = va_arg(ap, const char *)) {
		assert_true(p->in.n < HF_ARRAY_LEN(p->sets));
		p->own[p->in.n] = rr(l);
		p->sets[p->in.n] = p->own[p->in.n];
		p->in.n++;
	}
	va_end(ap);
	return p;
}

static void proof_free(struct proof *p)
{
	for (unsigned i = 0; i < p->in.n; i++)
		free(p->own[i]);
	free(p);
}

static void expect_why(const struct proof *p, const char *want)
{
	if (strstr(p->why, want) == NULL)
		fail_msg("reason '%s' does not contain '%s'", p->why, want);
}

/* ------------------------------------------------------------------------ */
/* Hashes, base32hex, bitmaps                                                */
/* ------------------------------------------------------------------------ */

static const uint8_t SALT_A[] = { 0xaa, 0xbb, 0xcc, 0xdd };

static void expect_hash(const char *name, uint16_t iter, const uint8_t *salt, uint8_t salt_len,
			const char *want)
{
	uint8_t h[HF_NSEC3_HASH_LEN];
	char txt[64];
	assert_int_equal(hf_nsec3_hash(N(name), 1, iter, salt, salt_len, h), 0);
	assert_int_equal(hf_base32hex_encode(h, sizeof(h), txt, sizeof(txt)), 32);
	if (strcasecmp(txt, want) != 0)
		fail_msg("H(%s) = %s, want %s", name, txt, want);
	/* And back: the label decodes to the same octets. */
	uint8_t back[HF_NSEC3_HASH_LEN];
	assert_int_equal(hf_base32hex_decode(want, strlen(want), back, sizeof(back)), HF_NSEC3_HASH_LEN);
	assert_memory_equal(back, h, sizeof(h));
}

/* RFC 5155 Appendix A: zone example, salt aabbccdd, 12 iterations. */
static void test_rfc5155_appendix_a_hashes(void **state)
{
	(void)state;
	static const char *const v[][2] = {
		{ "example.", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom" },
		{ "a.example.", "35mthgpgcu1qg68fab165klnsnk3dpvl" },
		{ "ai.example.", "gjeqe526plbf1g8mklp59enfd789njgi" },
		{ "ns1.example.", "2t7b4g4vsa5smi47k61mv5bv1a22bojr" },
		{ "ns2.example.", "q04jkcevqvmu85r014c7dkba38o0ji5r" },
		{ "w.example.", "k8udemvp1j2f7eg6jebps17vp3n8i58h" },
		{ "*.w.example.", "r53bq7cc2uvmubfu5ocmm6pers9tk9en" },
		{ "x.w.example.", "b4um86eghhds6nea196smvmlo4ors995" },
		{ "y.w.example.", "ji6neoaepv8b5o6k4ev33abha8ht9fgc" },
		{ "x.y.w.example.", "2vptu5timamqttgl4luu9kg21e0aor3s" },
		{ "xx.example.", "t644ebqk9bibcna874givr6joj62mlhv" },
		{ "2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.", "kohar7mbb8dc2ce8a9qvl8hon4k53uhi" },
	};
	for (size_t i = 0; i < HF_ARRAY_LEN(v); i++)
		expect_hash(v[i][0], 12, SALT_A, sizeof(SALT_A), v[i][1]);
	/* The hash is over the lower-cased name. */
	expect_hash("XX.Example.", 12, SALT_A, sizeof(SALT_A), "t644ebqk9bibcna874givr6joj62mlhv");
	/* A different salt or count gives another hash. */
	uint8_t h1[HF_NSEC3_HASH_LEN], h2[HF_NSEC3_HASH_LEN];
	assert_int_equal(hf_nsec3_hash(N("example."), 1, 11, SALT_A, 4, h1), 0);
	assert_int_equal(hf_nsec3_hash(N("example."), 1, 12, SALT_A, 3, h2), 0);
	char t1[40], t2[40];
	hf_base32hex_encode(h1, sizeof(h1), t1, sizeof(t1));
	hf_base32hex_encode(h2, sizeof(h2), t2, sizeof(t2));
	assert_string_not_equal(t1, "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom");
	assert_string_not_equal(t2, "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom");
	assert_int_equal(hf_nsec3_hash(N("example."), 2, 12, SALT_A, 4, h1), HF_EALGORITHM);
}

/* Unbound's testdata/test_nsec3_hash.1: QUESTION name, ANSWER owner's first label, NSEC3 params. */
static void test_unbound_hash_vectors(void **state)
{
	(void)state;
	char path[1024];
	snprintf(path, sizeof(path), "%s/unbound-dnssec-vectors/test_nsec3_hash.1", shared_data_dir());
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		print_message("no %s, skipped\n", path);
		skip();
	}
	char line[1024], qname[512] = "", want[128] = "";
	enum { NONE, QUESTION, ANSWER, AUTHORITY } sect = NONE;
	unsigned checked = 0, alg = 0, iter = 0;
	uint8_t salt[255];
	int salt_len = -1;
	while (fgets(line, sizeof(line), f)) {
		char *tok[32];
		unsigned n = 0;
		char *save = NULL;
		for (char *t = strtok_r(line, " \t\r\n()", &save); t && n < 32; t = strtok_r(NULL, " \t\r\n()", &save))
			tok[n++] = t;
		if (n == 0 || tok[0][0] == ';')
			continue;
		if (strcmp(tok[0], "ENTRY_BEGIN") == 0) {
			qname[0] = want[0] = '\0';
			salt_len = -1;
			sect = NONE;
		} else if (strcmp(tok[0], "SECTION") == 0 && n > 1) {
			sect = strcmp(tok[1], "QUESTION") == 0 ? QUESTION :
			       strcmp(tok[1], "ANSWER") == 0 ? ANSWER :
			       strcmp(tok[1], "AUTHORITY") == 0 ? AUTHORITY : NONE;
		} else if (strcmp(tok[0], "ENTRY_END") == 0) {
			assert_true(qname[0] && want[0] && salt_len >= 0);
			uint8_t h[HF_NSEC3_HASH_LEN];
			char txt[64];
			assert_int_equal(hf_nsec3_hash(N(qname), (uint8_t)alg, (uint16_t)iter, salt,
						       (uint8_t)salt_len, h), 0);
			hf_base32hex_encode(h, sizeof(h), txt, sizeof(txt));
			if (strcasecmp(txt, want) != 0)
				fail_msg("H(%s) = %s, want %s", qname, txt, want);
			checked++;
		} else if (sect == QUESTION) {
			snprintf(qname, sizeof(qname), "%s", tok[0]);
		} else if (sect == ANSWER) {
			char *dot = strchr(tok[0], '.');
			assert_non_null(dot);
			snprintf(want, sizeof(want), "%.*s", (int)(dot - tok[0]), tok[0]);
		} else if (sect == AUTHORITY) {
			for (unsigned i = 0; i + 4 < n; i++) {
				if (strcmp(tok[i], "NSEC3") != 0)
					continue;
				alg = (unsigned)atoi(tok[i + 1]);
				iter = (unsigned)atoi(tok[i + 3]);
				salt_len = strcmp(tok[i + 4], "-") == 0 ? 0 : hex_decode(tok[i + 4], salt, sizeof(salt));
				assert_true(salt_len >= 0);
			}
		}
	}
	fclose(f);
	assert_true(checked >= 10);
}

static void test_base32hex(void **state)
{
	(void)state;
	/* RFC 4648 §10, BASE32-HEX, without padding and in lower case. */
	static const char *const v[][2] = {
		{ "", "" }, { "f", "co" }, { "fo", "cpng" }, { "foo", "cpnmu" },
		{ "foob", "cpnmuog" }, { "fooba", "cpnmuoj1" }, { "foobar", "cpnmuoj1e8" },
	};
	for (size_t i = 0; i < HF_ARRAY_LEN(v); i++) {
		char txt[32];
		uint8_t back[16];
		size_t len = strlen(v[i][0]);
		assert_int_equal(hf_base32hex_encode((const uint8_t *)v[i][0], len, txt, sizeof(txt)),
				 (int)strlen(v[i][1]));
		assert_string_equal(txt, v[i][1]);
		assert_int_equal(hf_base32hex_decode(v[i][1], strlen(v[i][1]), back, sizeof(back)), (int)len);
		assert_memory_equal(back, v[i][0], len);
	}
	uint8_t out[32];
	assert_int_equal(hf_base32hex_decode("CPNMUOJ1E8", 10, out, sizeof(out)), 6);
	assert_memory_equal(out, "foobar", 6);
	assert_int_equal(hf_base32hex_decode("cw", 2, out, sizeof(out)), HF_ERDATA);   /* w is not base32hex */
	assert_int_equal(hf_base32hex_decode("c", 1, out, sizeof(out)), HF_ERDATA);    /* no whole octet */
	assert_int_equal(hf_base32hex_decode("cp", 2, out, sizeof(out)), HF_ERDATA);   /* pad bits set */
	assert_int_equal(hf_base32hex_decode("cpnmuoj1e8", 10, out, 5), HF_ESPACE);
	char small[10];
	assert_int_equal(hf_base32hex_encode((const uint8_t *)"foobar", 6, small, sizeof(small)), HF_ESPACE);
	/* Every octet value survives a round trip. */
	uint8_t all[256], dec[256];
	char enc[420];
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	for (size_t len = 0; len <= 256; len += 37) {
		int e = hf_base32hex_encode(all + 256 - len, len, enc, sizeof(enc));
		assert_true(e >= 0);
		assert_int_equal(hf_base32hex_decode(enc, (size_t)e, dec, sizeof(dec)), (int)len);
		assert_memory_equal(dec, all + 256 - len, len);
	}
}

static void test_type_bitmap(void **state)
{
	(void)state;
	/* RFC 4034 §4.3: "A MX RRSIG NSEC TYPE1234". */
	uint8_t bm[64];
	int len = hex_decode("0006400100000003 041b000000000000 0000000000000000 0000000000000000"
			     "0000000020", bm, sizeof(bm));
	assert_int_equal(len, 37);
	assert_true(hf_type_bitmap_has(bm, (size_t)len, HF_TYPE_A));
	assert_true(hf_type_bitmap_has(bm, (size_t)len, HF_TYPE_MX));
	assert_true(hf_type_bitmap_has(bm, (size_t)len, HF_TYPE_RRSIG));
	assert_true(hf_type_bitmap_has(bm, (size_t)len, HF_TYPE_NSEC));
	assert_true(hf_type_bitmap_has(bm, (size_t)len, 1234));
	assert_false(hf_type_bitmap_has(bm, (size_t)len, HF_TYPE_NS));
	assert_false(hf_type_bitmap_has(bm, (size_t)len, HF_TYPE_AAAA));
	assert_false(hf_type_bitmap_has(bm, (size_t)len, 1235));
	assert_false(hf_type_bitmap_has(bm, (size_t)len, 0xff00));
	assert_false(hf_type_bitmap_has(bm, 0, HF_TYPE_A));
	/* Truncated window: nothing is read past the end. */
	assert_false(hf_type_bitmap_has(bm, 5, 1234));
}

/* ------------------------------------------------------------------------ */
/* NSEC3: RFC 5155 Appendix B                                                */
/* ------------------------------------------------------------------------ */

#define Z5 "example."
/* The Appendix A chain (every record opt-out, flags 1). */
#define N3_APEX  "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example. NSEC3 1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr MX DNSKEY NS SOA NSEC3PARAM RRSIG"
#define N3_NS1   "2t7b4g4vsa5smi47k61mv5bv1a22bojr.example. NSEC3 1 1 12 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG"
#define N3_XYW   "2vptu5timamqttgl4luu9kg21e0aor3s.example. NSEC3 1 1 12 aabbccdd 35mthgpgcu1qg68fab165klnsnk3dpvl MX RRSIG"
#define N3_A     "35mthgpgcu1qg68fab165klnsnk3dpvl.example. NSEC3 1 1 12 aabbccdd b4um86eghhds6nea196smvmlo4ors995 NS DS RRSIG"
#define N3_XW    "b4um86eghhds6nea196smvmlo4ors995.example. NSEC3 1 1 12 aabbccdd gjeqe526plbf1g8mklp59enfd789njgi MX RRSIG"
#define N3_AI    "gjeqe526plbf1g8mklp59enfd789njgi.example. NSEC3 1 1 12 aabbccdd ji6neoaepv8b5o6k4ev33abha8ht9fgc A HINFO AAAA RRSIG"
#define N3_YW    "ji6neoaepv8b5o6k4ev33abha8ht9fgc.example. NSEC3 1 1 12 aabbccdd k8udemvp1j2f7eg6jebps17vp3n8i58h"
#define N3_W     "k8udemvp1j2f7eg6jebps17vp3n8i58h.example. NSEC3 1 1 12 aabbccdd kohar7mbb8dc2ce8a9qvl8hon4k53uhi"
#define N3_HASHN "kohar7mbb8dc2ce8a9qvl8hon4k53uhi.example. NSEC3 1 1 12 aabbccdd q04jkcevqvmu85r014c7dkba38o0ji5r A RRSIG"
#define N3_NS2   "q04jkcevqvmu85r014c7dkba38o0ji5r.example. NSEC3 1 1 12 aabbccdd r53bq7cc2uvmubfu5ocmm6pers9tk9en A RRSIG"
#define N3_WILDW "r53bq7cc2uvmubfu5ocmm6pers9tk9en.example. NSEC3 1 1 12 aabbccdd t644ebqk9bibcna874givr6joj62mlhv MX RRSIG"
#define N3_XX    "t644ebqk9bibcna874givr6joj62mlhv.example. NSEC3 1 1 12 aabbccdd 0p9mhaveqvm6t7vbl5lop2u3t2rp3tom A HINFO AAAA RRSIG"

/* The same record with flags 0 (no opt-out). */
static const char *no_optout(const char *line)
{
	static char buf[8][512];
	static unsigned n;
	char *b = buf[n++ % 8];
	snprintf(b, 512, "%s", line);
	char *p = strstr(b, " NSEC3 1 1 ");
	assert_non_null(p);
	p[strlen(" NSEC3 1 ")] = '0';
	return b;
}

/* B.1: a.c.x.w.example. MX: CE x.w.example, next closer c.x.w.example, wildcard *.x.w.example. */
static void test_n3_b1_name_error(void **state)
{
	(void)state;
	struct proof *p = proof_new(Z5, N3_APEX, N3_XW, N3_A, NULL);
	/* The next closer name falls in an opt-out span: it might be an unsigned delegation. */
	assert_int_equal(hf_denial_nxdomain(&p->in, N("a.c.x.w.example."), p->why, sizeof(p->why)),
			 HF_DENIAL_OPTOUT);
	expect_why(p, "opt-out NSEC3 covers the next closer name c.x.w.example.");
	proof_free(p);

	p = proof_new(Z5, no_optout(N3_APEX), N3_XW, N3_A, NULL);
	assert_int_equal(hf_denial_nxdomain(&p->in, N("a.c.x.w.example."), p->why, sizeof(p->why)),
			 HF_DENIAL_PROVEN);
	proof_free(p);

	/* Without the NSEC3 covering the wildcard. */
	p = proof_new(Z5, no_optout(N3_APEX), N3_XW, NULL);
	assert_int_equal(hf_denial_nxdomain(&p->in, N("a.c.x.w.example."), p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "no NSEC3 covers the wildcard *.x.w.example.");
	proof_free(p);

	/* Without the closest encloser's NSEC3, the longest match is the apex; c.x.w... is not next closer to it. */
	p = proof_new(Z5, no_optout(N3_APEX), N3_A, NULL);
	assert_int_equal(hf_denial_nxdomain(&p->in, N("a.c.x.w.example."), p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "no NSEC3 covers the next closer name w.example.");
	proof_free(p);

	/* Without the one covering the next closer name. */
	p = proof_new(Z5, N3_XW, N3_A, NULL);
	assert_int_equal(hf_denial_nxdomain(&p->in, N("a.c.x.w.example."), p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "no NSEC3 covers the next closer name c.x.w.example.");
	proof_free(p);

	/* A name that exists is no NXDOMAIN. */
	p = proof_new(Z5, N3_APEX, N3_XW, N3_A, NULL);
	assert_int_equal(hf_denial_nxdomain(&p->in, N("x.w.example."), p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "NSEC3 at x.w.example. proves it exists");
	proof_free(p);
}

/* B.2: ns1.example. MX; B.2.1: y.w.example. A (an empty non-terminal). */
static void test_n3_b2_no_data(void **state)
{
	(void)state;
	struct proof *p = proof_new(Z5, N3_NS1, NULL);
	assert_int_equal(hf_denial_nodata(&p->in, N("ns1.example."), HF_TYPE_MX, p->why, sizeof(p->why)),
			 HF_DENIAL_PROVEN);
	/* A is in the bitmap. */
	assert_int_equal(hf_denial_nodata(&p->in, N("ns1.example."), HF_TYPE_A, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "NSEC3 at ns1.example. has A");
	/* The record says nothing about another name. */
	assert_int_equal(hf_denial_nodata(&p->in, N("ns2.example."), HF_TYPE_MX, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	proof_free(p);

	p = proof_new(Z5, N3_YW, NULL);
	assert_int_equal(hf_denial_nodata(&p->in, N("y.w.example."), HF_TYPE_A, p->why, sizeof(p->why)),
			 HF_DENIAL_PROVEN);
	proof_free(p);

	/* The parent side of a delegation (NS, no SOA) only speaks for DS. */
	p = proof_new(Z5, N3_A, NULL);
	assert_int_equal(hf_denial_nodata(&p->in, N("a.example."), HF_TYPE_MX, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "parent side of a delegation");
	/* ... and here DS is present. */
	assert_int_equal(hf_denial_nodata(&p->in, N("a.example."), HF_TYPE_DS, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "has DS");
	proof_free(p);
}

/* B.3: mc.c.example. MX, a referral to an unsigned zone in an opt-out span. */
static void test_n3_b3_optout_referral(void **state)
{
	(void)state;
	struct proof *p = proof_new(Z5, N3_APEX, N3_A, NULL);
	assert_int_equal(hf_denial_no_ds(&p->in, N("c.example."), p->why, sizeof(p->why)), HF_DENIAL_OPTOUT);
	expect_why(p, "opt-out NSEC3 covers c.example.");
	assert_int_equal(hf_denial_nodata(&p->in, N("c.example."), HF_TYPE_DS, p->why, sizeof(p->why)),
			 HF_DENIAL_OPTOUT);
	/* Not a DS question: opt-out does not deny other types. */
	assert_int_equal(hf_denial_nodata(&p->in, N("c.example."), HF_TYPE_A, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	proof_free(p);

	/* Without opt-out on the covering record, the delegation cannot be unsigned. */
	p = proof_new(Z5, N3_APEX, no_optout(N3_A), NULL);
	assert_int_equal(hf_denial_no_ds(&p->in, N("c.example."), p->why, sizeof(p->why)), HF_DENIAL_MISSING);
	expect_why(p, "is not opt-out");
	proof_free(p);

	/* Without the closest provable encloser. */
	p = proof_new(Z5, N3_A, NULL);
	assert_int_equal(hf_denial_no_ds(&p->in, N("c.example."), p->why, sizeof(p->why)), HF_DENIAL_MISSING);
	expect_why(p, "no NSEC3 matches an encloser of c.example.");
	proof_free(p);

	/* A signed delegation (a.example., DS in the bitmap) is not insecure. */
	p = proof_new(Z5, N3_A, NULL);
	assert_int_equal(hf_denial_no_ds(&p->in, N("a.example."), p->why, sizeof(p->why)), HF_DENIAL_MISSING);
	expect_why(p, "NSEC3 at a.example. has DS");
	proof_free(p);

	/* A delegation with an NSEC3 of its own, NS and no DS. */
	p = proof_new(Z5, "35mthgpgcu1qg68fab165klnsnk3dpvl.example. NSEC3 1 0 12 aabbccdd b4um86eghhds6nea196smvmlo4ors995 NS", NULL);
	assert_int_equal(hf_denial_no_ds(&p->in, N("a.example."), p->why, sizeof(p->why)), HF_DENIAL_PROVEN);
	assert_int_equal(hf_denial_nodata(&p->in, N("a.example."), HF_TYPE_DS, p->why, sizeof(p->why)),
			 HF_DENIAL_PROVEN);
	proof_free(p);

	/* The child's apex NSEC3 (SOA set) cannot deny the DS in the parent. */
	p = proof_new(Z5, "35mthgpgcu1qg68fab165klnsnk3dpvl.example. NSEC3 1 0 12 aabbccdd b4um86eghhds6nea196smvmlo4ors995 NS SOA RRSIG DNSKEY", NULL);
	assert_int_equal(hf_denial_no_ds(&p->in, N("a.example."), p->why, sizeof(p->why)), HF_DENIAL_MISSING);
	expect_why(p, "from the child zone");
	assert_int_equal(hf_denial_nodata(&p->in, N("a.example."), HF_TYPE_DS, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	proof_free(p);
}

/* B.4: a.z.w.example. MX answered from *.w.example. (RRSIG labels 2). */
static void test_n3_b4_wildcard_expansion(void **state)
{
	(void)state;
	struct proof *p = proof_new(Z5, N3_NS2, NULL);
	assert_int_equal(hf_denial_wildcard(&p->in, N("a.z.w.example."), 2, p->why, sizeof(p->why)),
			 HF_DENIAL_PROVEN);
	/* Labels 3 would make z.w.example. the source's parent; its next closer a.z.w is not covered. */
	assert_int_equal(hf_denial_wildcard(&p->in, N("a.z.w.example."), 3, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "no NSEC3 covers the next closer name a.z.w.example.");
	/* Labels not below the owner's count: no expansion at all. */
	assert_int_equal(hf_denial_wildcard(&p->in, N("a.z.w.example."), 4, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	proof_free(p);

	p = proof_new(Z5, N3_WILDW, NULL);
	assert_int_equal(hf_denial_wildcard(&p->in, N("a.z.w.example."), 2, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "z.w.example.");
	proof_free(p);
}

/* B.5: a.z.w.example. AAAA, the wildcard *.w.example. exists without AAAA. */
static void test_n3_b5_wildcard_no_data(void **state)
{
	(void)state;
	struct proof *p = proof_new(Z5, N3_W, N3_NS2, N3_WILDW, NULL);
	assert_int_equal(hf_denial_nodata(&p->in, N("a.z.w.example."), HF_TYPE_AAAA, p->why, sizeof(p->why)),
			 HF_DENIAL_PROVEN);
	/* MX is at the wildcard. */
	assert_int_equal(hf_denial_nodata(&p->in, N("a.z.w.example."), HF_TYPE_MX, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "NSEC3 at wildcard *.w.example. has MX");
	proof_free(p);

	/* Without the wildcard's NSEC3. */
	p = proof_new(Z5, N3_W, N3_NS2, NULL);
	assert_int_equal(hf_denial_nodata(&p->in, N("a.z.w.example."), HF_TYPE_AAAA, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	proof_free(p);
}

/* Names below a delegation (a.example., NS and DS without SOA) cannot be denied by the parent. */
static void test_n3_ancestor_delegation(void **state)
{
	(void)state;
	struct proof *p = proof_new(Z5, N3_APEX, N3_NS1, N3_XYW, N3_A, N3_XW, N3_AI, N3_YW, N3_W, N3_HASHN,
				    N3_NS2, N3_WILDW, N3_XX, NULL);
	assert_int_equal(hf_denial_nxdomain(&p->in, N("www.a.example."), p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "closest encloser a.example. is a delegation");
	assert_int_equal(hf_denial_nodata(&p->in, N("www.a.example."), HF_TYPE_A, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	/* The full chain still proves the Appendix B answers. */
	assert_int_equal(hf_denial_nodata(&p->in, N("ns1.example."), HF_TYPE_MX, p->why, sizeof(p->why)),
			 HF_DENIAL_PROVEN);
	assert_int_equal(hf_denial_nodata(&p->in, N("a.z.w.example."), HF_TYPE_AAAA, p->why, sizeof(p->why)),
			 HF_DENIAL_PROVEN);
	assert_int_equal(hf_denial_wildcard(&p->in, N("a.z.w.example."), 2, p->why, sizeof(p->why)),
			 HF_DENIAL_PROVEN);
	assert_int_equal(hf_denial_nxdomain(&p->in, N("a.c.x.w.example."), p->why, sizeof(p->why)),
			 HF_DENIAL_OPTOUT);
	proof_free(p);

	/* DNAME at the closest encloser: names below it are redirected, not absent. */
	p = proof_new(Z5, no_optout(N3_APEX),
		      "b4um86eghhds6nea196smvmlo4ors995.example. NSEC3 1 0 12 aabbccdd gjeqe526plbf1g8mklp59enfd789njgi DNAME RRSIG",
		      N3_A, NULL);
	assert_int_equal(hf_denial_nxdomain(&p->in, N("a.c.x.w.example."), p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "closest encloser x.w.example. is a DNAME");
	proof_free(p);
}

/* The last NSEC3 (t644... -> 0p9m...) covers the hashes after it and before the first. */
static void test_n3_wrap_around(void **state)
{
	(void)state;
	uint8_t first[HF_NSEC3_HASH_LEN], last[HF_NSEC3_HASH_LEN], h[HF_NSEC3_HASH_LEN];
	hf_base32hex_decode("0p9mhaveqvm6t7vbl5lop2u3t2rp3tom", 32, first, sizeof(first));
	hf_base32hex_decode("t644ebqk9bibcna874givr6joj62mlhv", 32, last, sizeof(last));
	char name[64];
	bool found_after = false, found_before = false;
	for (int i = 0; i < 200 && !(found_after && found_before); i++) {
		snprintf(name, sizeof(name), "n%d.example.", i);
		assert_int_equal(hf_nsec3_hash(N(name), 1, 12, SALT_A, 4, h), 0);
		bool after = memcmp(h, last, sizeof(h)) > 0, before = memcmp(h, first, sizeof(h)) < 0;
		if ((after && found_after) || (before && found_before) || !(after || before))
			continue;
		found_after |= after;
		found_before |= before;
		struct proof *p = proof_new(Z5, N3_APEX, N3_XX, NULL);
		assert_int_equal(hf_denial_no_ds(&p->in, N(name), p->why, sizeof(p->why)), HF_DENIAL_OPTOUT);
		proof_free(p);
		p = proof_new(Z5, N3_APEX, no_optout(N3_XX), NULL);
		assert_int_equal(hf_denial_no_ds(&p->in, N(name), p->why, sizeof(p->why)), HF_DENIAL_MISSING);
		proof_free(p);
		p = proof_new(Z5, N3_APEX, N3_WILDW, NULL);
		assert_int_equal(hf_denial_no_ds(&p->in, N(name), p->why, sizeof(p->why)), HF_DENIAL_MISSING);
		proof_free(p);
	}
	assert_true(found_after && found_before);
}

static void test_n3_iterations(void **state)
{
	(void)state;
	/* 151 > HF_NSEC3_MAX_ITERATIONS: insecure without hashing (RFC 9276). */
	struct proof *p = proof_new(Z5,
		"2t7b4g4vsa5smi47k61mv5bv1a22bojr.example. NSEC3 1 0 151 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG",
		NULL);
	assert_int_equal(hf_denial_nodata(&p->in, N("ns1.example."), HF_TYPE_MX, p->why, sizeof(p->why)),
			 HF_DENIAL_ITERATIONS);
	expect_why(p, "151 iterations (limit 150)");
	assert_int_equal(hf_denial_nxdomain(&p->in, N("zz.example."), p->why, sizeof(p->why)),
			 HF_DENIAL_ITERATIONS);
	assert_int_equal(hf_denial_no_ds(&p->in, N("zz.example."), p->why, sizeof(p->why)),
			 HF_DENIAL_ITERATIONS);
	assert_int_equal(hf_denial_wildcard(&p->in, N("a.zz.example."), 1, p->why, sizeof(p->why)),
			 HF_DENIAL_ITERATIONS);
	/* A raised limit hashes with 151 iterations (the owner then no longer matches). */
	p->in.nsec3_max_iterations = 200;
	assert_int_equal(hf_denial_nodata(&p->in, N("ns1.example."), HF_TYPE_MX, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	proof_free(p);

	/* 150 is allowed; a lower configured limit applies. */
	p = proof_new(Z5, N3_NS1, NULL);
	p->in.nsec3_max_iterations = 150;
	assert_int_equal(hf_denial_nodata(&p->in, N("ns1.example."), HF_TYPE_MX, p->why, sizeof(p->why)),
			 HF_DENIAL_PROVEN);
	p->in.nsec3_max_iterations = 12;  /* at the limit is still fine */
	assert_int_equal(hf_denial_nodata(&p->in, N("ns1.example."), HF_TYPE_MX, p->why, sizeof(p->why)),
			 HF_DENIAL_PROVEN);
	p->in.nsec3_max_iterations = 11;
	assert_int_equal(hf_denial_nodata(&p->in, N("ns1.example."), HF_TYPE_MX, p->why, sizeof(p->why)),
			 HF_DENIAL_ITERATIONS);
	expect_why(p, "12 iterations (limit 11)");
	proof_free(p);
}

/* Records we must not use: unknown hash algorithm, unknown flags, another zone. */
static void test_n3_ignored_records(void **state)
{
	(void)state;
	struct proof *p = proof_new(Z5,
		"2t7b4g4vsa5smi47k61mv5bv1a22bojr.example. NSEC3 2 0 12 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG",
		"2t7b4g4vsa5smi47k61mv5bv1a22bojr.example. NSEC3 1 2 12 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG",
		"2t7b4g4vsa5smi47k61mv5bv1a22bojr.other. NSEC3 1 0 12 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG",
		"2t7b4g4vsa5smi47k61mv5bv1a22bojr.example. NSEC3 2 0 500 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG",
		NULL);
	assert_int_equal(hf_denial_nodata(&p->in, N("ns1.example."), HF_TYPE_MX, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "no NSEC or NSEC3 records");
	proof_free(p);

	/* Outside the zone. */
	p = proof_new(Z5, N3_NS1, NULL);
	assert_int_equal(hf_denial_nodata(&p->in, N("ns1.example.org."), HF_TYPE_MX, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "is not in zone example.");
	proof_free(p);

	/* Nothing at all. */
	p = proof_new(Z5, NULL);
	assert_int_equal(hf_denial_nxdomain(&p->in, N("ns1.example."), p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "no NSEC or NSEC3 records of zone example.");
	proof_free(p);
}

/* ------------------------------------------------------------------------ */
/* NSEC: RFC 4035 Appendix B                                                 */
/* ------------------------------------------------------------------------ */

#define NS_APEX "example. NSEC a.example. NS SOA MX RRSIG NSEC DNSKEY"
#define NS_A    "a.example. NSEC ai.example. NS DS RRSIG NSEC"
#define NS_AI   "ai.example. NSEC b.example. A HINFO AAAA RRSIG NSEC"
#define NS_B    "b.example. NSEC ns1.example. NS RRSIG NSEC"
#define NS_NS1  "ns1.example. NSEC ns2.example. A RRSIG NSEC"
#define NS_NS2  "ns2.example. NSEC *.w.example. A RRSIG NSEC"
#define NS_WILD "*.w.example. NSEC x.w.example. MX RRSIG NSEC"
#define NS_XW   "x.w.example. NSEC x.y.w.example. MX RRSIG NSEC"
#define NS_XYW  "x.y.w.example. NSEC xx.example. MX RRSIG NSEC"
#define NS_XX   "xx.example. NSEC example. A HINFO AAAA RRSIG NSEC"

/* B.2: ml.example. A. */
static void test_nsec_b2_name_error(void **state)
{
	(void)state;
	struct proof *p = proof_new(Z5, NS_B, NS_APEX, NULL);
	assert_int_equal(hf_denial_nxdomain(&p->in, N("ml.example."), p->why, sizeof(p->why)), HF_DENIAL_PROVEN);
	/* Case does not matter. */
	assert_int_equal(hf_denial_nxdomain(&p->in, N("ML.Example."), p->why, sizeof(p->why)), HF_DENIAL_PROVEN);
	/* ns1.example. exists: the same records do not deny it. */
	assert_int_equal(hf_denial_nxdomain(&p->in, N("ns1.example."), p->why, sizeof(p->why)), HF_DENIAL_MISSING);
	expect_why(p, "no NSEC covers ns1.example.");
	proof_free(p);

	/* Without the NSEC denying *.example. */
	p = proof_new(Z5, NS_B, NULL);
	assert_int_equal(hf_denial_nxdomain(&p->in, N("ml.example."), p->why, sizeof(p->why)), HF_DENIAL_MISSING);
	expect_why(p, "no NSEC covers the wildcard *.example.");
	proof_free(p);

	/* Without the NSEC covering ml.example. */
	p = proof_new(Z5, NS_APEX, NULL);
	assert_int_equal(hf_denial_nxdomain(&p->in, N("ml.example."), p->why, sizeof(p->why)), HF_DENIAL_MISSING);
	expect_why(p, "no NSEC covers ml.example.");
	proof_free(p);

	/* The last NSEC wraps round to the apex: zz.example. comes after xx.example. */
	p = proof_new(Z5, NS_XX, NS_APEX, NULL);
	assert_int_equal(hf_denial_nxdomain(&p->in, N("zz.example."), p->why, sizeof(p->why)), HF_DENIAL_PROVEN);
	proof_free(p);

	/* Closest encloser x.w.example. (from the owner): *.x.w.example. is covered by the same NSEC. */
	p = proof_new(Z5, NS_XW, NULL);
	assert_int_equal(hf_denial_nxdomain(&p->in, N("a.c.x.w.example."), p->why, sizeof(p->why)),
			 HF_DENIAL_PROVEN);
	proof_free(p);

	/* A name under the wildcard's parent with the wildcard present is no NXDOMAIN. */
	p = proof_new(Z5, NS_XYW, NS_WILD, NULL);
	assert_int_equal(hf_denial_nxdomain(&p->in, N("a.z.w.example."), p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "the wildcard *.w.example. exists");
	proof_free(p);

	/* w.example. is an empty non-terminal: the NSEC before it points below it. */
	p = proof_new(Z5, NS_NS2, NS_APEX, NULL);
	assert_int_equal(hf_denial_nxdomain(&p->in, N("w.example."), p->why, sizeof(p->why)), HF_DENIAL_MISSING);
	expect_why(p, "empty non-terminal");
	assert_int_equal(hf_denial_nodata(&p->in, N("w.example."), HF_TYPE_A, p->why, sizeof(p->why)),
			 HF_DENIAL_PROVEN);
	proof_free(p);
}

/* B.3: ns1.example. MX. */
static void test_nsec_b3_no_data(void **state)
{
	(void)state;
	struct proof *p = proof_new(Z5, NS_NS1, NULL);
	assert_int_equal(hf_denial_nodata(&p->in, N("ns1.example."), HF_TYPE_MX, p->why, sizeof(p->why)),
			 HF_DENIAL_PROVEN);
	assert_int_equal(hf_denial_nodata(&p->in, N("ns1.example."), HF_TYPE_A, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "NSEC at ns1.example. has A");
	proof_free(p);

	/* CNAME in the bitmap: the answer should have been the CNAME. */
	p = proof_new(Z5, "c.example. NSEC d.example. CNAME RRSIG NSEC", NULL);
	assert_int_equal(hf_denial_nodata(&p->in, N("c.example."), HF_TYPE_A, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "has CNAME");
	proof_free(p);
}

/* B.4 (a.example., signed) and B.5 (b.example., unsigned) referrals. */
static void test_nsec_b4_b5_referrals(void **state)
{
	(void)state;
	struct proof *p = proof_new(Z5, NS_A, NULL);
	assert_int_equal(hf_denial_no_ds(&p->in, N("a.example."), p->why, sizeof(p->why)), HF_DENIAL_MISSING);
	expect_why(p, "NSEC at a.example. has DS");
	proof_free(p);

	p = proof_new(Z5, NS_B, NULL);
	assert_int_equal(hf_denial_no_ds(&p->in, N("b.example."), p->why, sizeof(p->why)), HF_DENIAL_PROVEN);
	assert_int_equal(hf_denial_nodata(&p->in, N("b.example."), HF_TYPE_DS, p->why, sizeof(p->why)),
			 HF_DENIAL_PROVEN);
	/* No NSEC at the child. */
	assert_int_equal(hf_denial_no_ds(&p->in, N("c.example."), p->why, sizeof(p->why)), HF_DENIAL_MISSING);
	expect_why(p, "no NSEC at c.example.");
	proof_free(p);

	/* The child's apex NSEC (SOA set) and a name that is no delegation. */
	p = proof_new(Z5, "b.example. NSEC ns1.example. NS SOA RRSIG NSEC DNSKEY", NS_NS1, NULL);
	assert_int_equal(hf_denial_no_ds(&p->in, N("b.example."), p->why, sizeof(p->why)), HF_DENIAL_MISSING);
	expect_why(p, "from the child zone");
	assert_int_equal(hf_denial_no_ds(&p->in, N("ns1.example."), p->why, sizeof(p->why)), HF_DENIAL_MISSING);
	expect_why(p, "has no NS");
	proof_free(p);
}

/* RFC 6840 §4.1: the parent side of a cut (NS, no SOA) and DNAME say nothing below the owner. */
static void test_nsec_ancestor_delegation(void **state)
{
	(void)state;
	struct proof *p = proof_new(Z5, NS_B, NS_APEX, NULL);
	/* b.example. < mc.b.example. < ns1.example.: covered in order, but below the cut. */
	assert_int_equal(hf_denial_nxdomain(&p->in, N("mc.b.example."), p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "no NSEC covers mc.b.example.");
	assert_int_equal(hf_denial_nodata(&p->in, N("mc.b.example."), HF_TYPE_A, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	/* At the cut itself it denies DS only. */
	assert_int_equal(hf_denial_nodata(&p->in, N("b.example."), HF_TYPE_A, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "NSEC at b.example. is the parent side of a delegation");
	proof_free(p);

	/* With SOA set (a zone apex) the same span does deny names below. */
	p = proof_new(Z5, "b.example. NSEC ns1.example. NS SOA RRSIG NSEC", NS_APEX, NULL);
	assert_int_equal(hf_denial_nxdomain(&p->in, N("mc.b.example."), p->why, sizeof(p->why)),
			 HF_DENIAL_PROVEN);
	proof_free(p);

	p = proof_new(Z5, "d.example. NSEC e.example. DNAME RRSIG NSEC", NS_APEX, NULL);
	assert_int_equal(hf_denial_nxdomain(&p->in, N("x.d.example."), p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	/* d.example. itself has no A. */
	assert_int_equal(hf_denial_nodata(&p->in, N("d.example."), HF_TYPE_A, p->why, sizeof(p->why)),
			 HF_DENIAL_PROVEN);
	proof_free(p);
}

/* B.6: a.z.w.example. MX from *.w.example. */
static void test_nsec_b6_wildcard_expansion(void **state)
{
	(void)state;
	struct proof *p = proof_new(Z5, NS_XYW, NULL);
	assert_int_equal(hf_denial_wildcard(&p->in, N("a.z.w.example."), 2, p->why, sizeof(p->why)),
			 HF_DENIAL_PROVEN);
	/* Labels 3 claims *.z.w.example., but the NSEC shows z.w.example. does not exist. */
	assert_int_equal(hf_denial_wildcard(&p->in, N("a.z.w.example."), 3, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	/* Labels 1 claims *.example., but w.example. exists (closer). */
	assert_int_equal(hf_denial_wildcard(&p->in, N("a.z.w.example."), 1, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "w.example. exists, closer than the wildcard");
	/* The expanded name itself exists. */
	assert_int_equal(hf_denial_wildcard(&p->in, N("x.y.w.example."), 2, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	proof_free(p);

	p = proof_new(Z5, NS_XW, NULL);
	assert_int_equal(hf_denial_wildcard(&p->in, N("a.z.w.example."), 2, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "no NSEC covers a.z.w.example.");
	proof_free(p);
}

/* B.7: a.z.w.example. AAAA, the wildcard has MX only. */
static void test_nsec_b7_wildcard_no_data(void **state)
{
	(void)state;
	struct proof *p = proof_new(Z5, NS_XYW, NS_WILD, NULL);
	assert_int_equal(hf_denial_nodata(&p->in, N("a.z.w.example."), HF_TYPE_AAAA, p->why, sizeof(p->why)),
			 HF_DENIAL_PROVEN);
	assert_int_equal(hf_denial_nodata(&p->in, N("a.z.w.example."), HF_TYPE_MX, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "NSEC at wildcard *.w.example. has MX");
	proof_free(p);

	p = proof_new(Z5, NS_XYW, NULL);
	assert_int_equal(hf_denial_nodata(&p->in, N("a.z.w.example."), HF_TYPE_AAAA, p->why, sizeof(p->why)),
			 HF_DENIAL_MISSING);
	expect_why(p, "no NSEC matches a.z.w.example. or its wildcard");
	proof_free(p);
}

/* A reason longer than the buffer is cut, never overrun. */
static void test_why_truncated(void **state)
{
	(void)state;
	struct proof *p = proof_new(Z5, NS_APEX, NULL);
	char small[12];
	memset(small, 'X', sizeof(small));
	assert_int_equal(hf_denial_nxdomain(&p->in, N("ml.example."), small, 8), HF_DENIAL_MISSING);
	assert_int_equal(strlen(small), 7);
	assert_int_equal(small[8], 'X');
	proof_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5155_appendix_a_hashes),
		cmocka_unit_test(test_unbound_hash_vectors),
		cmocka_unit_test(test_base32hex),
		cmocka_unit_test(test_type_bitmap),
		cmocka_unit_test(test_n3_b1_name_error),
		cmocka_unit_test(test_n3_b2_no_data),
		cmocka_unit_test(test_n3_b3_optout_referral),
		cmocka_unit_test(test_n3_b4_wildcard_expansion),
		cmocka_unit_test(test_n3_b5_wildcard_no_data),
		cmocka_unit_test(test_n3_ancestor_delegation),
		cmocka_unit_test(test_n3_wrap_around),
		cmocka_unit_test(test_n3_iterations),
		cmocka_unit_test(test_n3_ignored_records),
		cmocka_unit_test(test_nsec_b2_name_error),
		cmocka_unit_test(test_nsec_b3_no_data),
		cmocka_unit_test(test_nsec_b4_b5_referrals),
		cmocka_unit_test(test_nsec_ancestor_delegation),
		cmocka_unit_test(test_nsec_b6_wildcard_expansion),
		cmocka_unit_test(test_nsec_b7_wildcard_no_data),
		cmocka_unit_test(test_why_truncated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
