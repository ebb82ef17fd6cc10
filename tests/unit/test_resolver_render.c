/* Rendering (control/resolver/render.c): TTL offsets point at TTLs, the answer TTL, negative TTL, EDEs, truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "include/holdfast/defines.h"
#include "include/holdfast/msg.h"
#include "include/holdfast/wire_ctx.h"
#include "control/resolver/render.h"
#include "tests/unit/resolver_pkt.h"

/* Every offset is the TTL field of one record (6 octets before its RDATA), each record listed once. */
static void check_ttl_offsets(const struct hf_rendered *out, struct hf_pkt *pkt)
{
	static struct hf_rr rr[300];
	assert_int_equal(hf_pkt_parse(pkt, out->msg, out->msg_len, rr, 300), 0);
	assert_int_equal(out->n_ttl, pkt->rr_count);
	for (unsigned i = 0; i < pkt->rr_count; i++) {
		assert_int_equal(out->ttl_off[i], rr[i].rdata_off - 6);
		assert_int_equal(hf_wire_get_u32(out->msg + out->ttl_off[i]), rr[i].ttl);
	}
}

static void test_positive_chain(void **state)
{
	(void)state;
	static struct hf_rendered out;
	struct hf_pkt pkt;
	struct hf_rrset *chain[2] = { rrset_name("www.a.test.", HF_TYPE_CNAME, 300, "host.a.test."),
				      rrset_a("host.a.test.", 40, "192.0.2.1") };
	struct hf_render_in in = { .qname = N("WWW.A.Test."), .qtype = HF_TYPE_A, .qclass = HF_CLASS_IN,
				   .answer = (const struct hf_rrset *const *)chain, .n_answer = 2 };
	assert_int_equal(hf_render(&out, &in), 0);
	check_ttl_offsets(&out, &pkt);
	assert_int_equal(out.ttl, 40);
	assert_int_equal(out.rcode, HF_RCODE_NOERROR);
	assert_int_equal(pkt.flags, HF_FLAG_QR | HF_FLAG_RA);
	assert_int_equal(pkt.ancount, 2);
	/* The question name in lower case. */
	assert_memory_equal(out.msg + 12, N("www.a.test."), 12);
	assert_int_equal(out.ede_len, 0);
	/* The fill codec accepts it. */
	static uint8_t buf[8192];
	struct hf_msg_fill hdr = { .ttl = out.ttl, .rcode = out.rcode, .msg_len = out.msg_len,
				   .n_ttl = out.n_ttl };
	assert_true(hf_msg_fill_encode(buf, sizeof(buf), &hdr, out.ttl_off, out.ede, out.msg) > 0);
	free(chain[0]);
	free(chain[1]);
}

static void test_negative_ttl(void **state)
{
	(void)state;
	static struct hf_rendered out;
	struct hf_pkt pkt;
	struct hf_rrset *soa = rrset_soa("a.test.", 300, 30);
	struct hf_render_in in = { .qname = N("nx.a.test."), .qtype = HF_TYPE_A, .qclass = HF_CLASS_IN,
				   .rcode = HF_RCODE_NXDOMAIN, .soa = soa };
	assert_int_equal(hf_render(&out, &in), 0);
	check_ttl_offsets(&out, &pkt);
	/* min(SOA TTL 300, MINIMUM 30), on the entry and on the SOA record itself. */
	assert_int_equal(out.ttl, 30);
	assert_int_equal(hf_wire_get_u32(out.msg + out.ttl_off[0]), 30);
	assert_int_equal(pkt.nscount, 1);
	assert_int_equal(HF_FLAGS_RCODE(pkt.flags), HF_RCODE_NXDOMAIN);
	free(soa);
	soa = rrset_soa("a.test.", 10, 3600);
	in.soa = soa;
	assert_int_equal(hf_render(&out, &in), 0);
	assert_int_equal(out.ttl, 10);
	free(soa);
}

static void test_servfail_with_ede(void **state)
{
	(void)state;
	static struct hf_rendered out;
	struct hf_pkt pkt;
	struct hf_render_in in = { .qname = N("nic.de."), .qtype = HF_TYPE_A, .qclass = HF_CLASS_IN,
				   .rcode = HF_RCODE_SERVFAIL, .fail_ttl = 5, .has_ede = true,
				   .ede = HF_EDE_NO_REACHABLE_AUTHORITY, .ede_text = "no server of de. answered",
				   .cached_error = true };
	assert_int_equal(hf_render(&out, &in), 0);
	check_ttl_offsets(&out, &pkt);
	assert_int_equal(out.ttl, 5);
	assert_int_equal(out.n_ttl, 0);
	/* EDE 22 with its text, then EDE 13 (Cached Error). */
	assert_int_equal(hf_wire_get_u16(out.ede), HF_EDNS_OPT_EDE);
	uint16_t len = hf_wire_get_u16(out.ede + 2);
	assert_int_equal(hf_wire_get_u16(out.ede + 4), 22);
	assert_memory_equal(out.ede + 6, "no server of de. answered", len - 2);
	assert_int_equal(hf_wire_get_u16(out.ede + 4 + len + 4), 13);
	assert_int_equal(out.ede_len, 4 + len + 6);
}

static void test_too_big_sets_tc_without_records(void **state)
{
	(void)state;
	static struct hf_rendered out;
	struct hf_pkt pkt;
	/* 300 TXT records of 200 octets: more than HF_RENDERED_MSG_MAX and than HF_FILL_MAX_TTLS. */
	uint8_t txt[201];
	txt[0] = 200;
	memset(txt + 1, 'x', 200);
	struct hf_rrset *one = hf_rrset_new1(N("big.test."), HF_TYPE_TXT, HF_CLASS_IN, 60, txt, 201);
	const struct hf_rrset *sets[1] = { one };
	struct hf_render_in in = { .qname = N("big.test."), .qtype = HF_TYPE_TXT, .qclass = HF_CLASS_IN,
				   .answer = sets, .n_answer = 1 };
	/* Make the one-record set large by repeating the record. */
	struct hf_rrset *big = malloc(sizeof(*big) + 30 * 203);
	memcpy(big, one, sizeof(*big));
	big->n_rr = 30;
	big->len = 0;
	for (int i = 0; i < 30; i++) {
		uint16_t l = 201;
		memcpy(big->data + big->len, &l, 2);
		memcpy(big->data + big->len + 2, txt, 201);
		big->len += 203;
	}
	sets[0] = big;
	assert_int_equal(hf_render(&out, &in), 0);
	check_ttl_offsets(&out, &pkt);
	assert_true(pkt.flags & HF_FLAG_TC);
	assert_int_equal(pkt.ancount, 0);
	free(one);
	free(big);
}

/* ---- DNSSEC rendering (DO clients): RRSIGs after each RRset, proofs in the authority section ---- */

/* A copy of base with n RRSIGs over its type appended (signer a.test., sig_len octets of signature). */
static struct hf_rrset *with_sigs(struct hf_rrset *base, unsigned n, unsigned sig_len)
{
	const uint8_t *signer = N("a.test.");
	size_t slen = hf_name_len(signer);
	uint16_t rdlen = (uint16_t)(18 + slen + sig_len);
	struct hf_rrset *s = malloc(hf_rrset_size(base) + n * (2u + rdlen));
	assert_non_null(s);
	memcpy(s, base, hf_rrset_size(base));
	free(base);
	for (unsigned i = 0; i < n; i++) {
		uint8_t rd[18 + HF_NAME_MAXLEN + 1024];
		memset(rd, 0, sizeof(rd));
		hf_wire_put_u16(rd, s->type);
		rd[2] = 13;
		rd[3] = (uint8_t)hf_name_labels(s->owner);
		hf_wire_put_u32(rd + 4, s->ttl);
		hf_wire_put_u32(rd + 8, 2000000000u);
		hf_wire_put_u32(rd + 12, 1000000000u);
		hf_wire_put_u16(rd + 16, (uint16_t)(1000 + i));
		memcpy(rd + 18, signer, slen);
		memset(rd + 18 + slen, 0xa0 + (int)i, sig_len);
		memcpy(s->data + s->len, &rdlen, 2);
		memcpy(s->data + s->len + 2, rd, rdlen);
		s->len += 2u + rdlen;
		s->n_sig++;
	}
	return s;
}

/* An NSEC RRset at owner (next name, bitmap A RRSIG NSEC), signed. */
static struct hf_rrset *nsec_set(const char *owner, const char *next, uint32_t ttl)
{
	uint8_t rd[HF_NAME_MAXLEN + 8];
	const uint8_t *nx = N(next);
	size_t n = hf_name_len(nx);
	memcpy(rd, nx, n);
	static const uint8_t bm[] = { 0, 6, 0x40, 0, 0, 0, 0, 0x03 };
	memcpy(rd + n, bm, sizeof(bm));
	return with_sigs(hf_rrset_new1(N(owner), HF_TYPE_NSEC, HF_CLASS_IN, ttl, rd, (uint16_t)(n + sizeof(bm))), 1, 64);
}

/* An NSEC3 RRset (SHA-1, no flags, 0 iterations, no salt, bitmap A RRSIG), signed. */
static struct hf_rrset *nsec3_set(const char *owner, uint32_t ttl)
{
	uint8_t rd[5 + 1 + 20 + 6] = { 1, 0, 0, 0, 0, 20 };
	memset(rd + 6, 0x77, 20);
	static const uint8_t bm[] = { 0, 4, 0x40, 0, 0, 0x02 };
	memcpy(rd + 26, bm, sizeof(bm));
	return with_sigs(hf_rrset_new1(N(owner), HF_TYPE_NSEC3, HF_CLASS_IN, ttl, rd, sizeof(rd)), 1, 64);
}

struct rr_want {
	uint8_t section;
	uint16_t type;
};

static void check_order(const struct hf_pkt *pkt, const struct rr_want *want, unsigned n)
{
	assert_int_equal(pkt->rr_count, n);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(pkt->rr[i].section, want[i].section);
		assert_int_equal(pkt->rr[i].type, want[i].type);
	}
}

static void test_dnssec_positive_with_wildcard_proof(void **state)
{
	(void)state;
	static struct hf_rendered out;
	struct hf_pkt pkt;
	struct hf_rrset *chain[2] = { with_sigs(rrset_name("www.a.test.", HF_TYPE_CNAME, 300, "host.a.test."), 1, 64),
				      with_sigs(rrset_a("host.a.test.", 200, "192.0.2.1"), 2, 64) };
	struct hf_rrset *proof[1] = { nsec_set("h.a.test.", "i.a.test.", 100) };
	struct hf_render_in in = { .qname = N("www.a.test."), .qtype = HF_TYPE_A, .qclass = HF_CLASS_IN,
				   .answer = (const struct hf_rrset *const *)chain, .n_answer = 2,
				   .dnssec = true, .proof = (const struct hf_rrset *const *)proof, .n_proof = 1,
				   .ad = true };
	assert_int_equal(hf_render(&out, &in), 0);
	check_ttl_offsets(&out, &pkt);
	static const struct rr_want want[] = {
		{ HF_SECTION_ANSWER, HF_TYPE_CNAME }, { HF_SECTION_ANSWER, HF_TYPE_RRSIG },
		{ HF_SECTION_ANSWER, HF_TYPE_A }, { HF_SECTION_ANSWER, HF_TYPE_RRSIG },
		{ HF_SECTION_ANSWER, HF_TYPE_RRSIG },
		{ HF_SECTION_AUTHORITY, HF_TYPE_NSEC }, { HF_SECTION_AUTHORITY, HF_TYPE_RRSIG },
	};
	check_order(&pkt, want, HF_ARRAY_SIZE(want));
	assert_int_equal(pkt.ancount, 5);
	assert_int_equal(pkt.nscount, 2);
	/* An RRSIG carries its RRset's TTL; the RRSIG covers that RRset's type. */
	assert_int_equal(pkt.rr[1].ttl, 300);
	assert_int_equal(hf_wire_get_u16(out.msg + pkt.rr[1].rdata_off), HF_TYPE_CNAME);
	assert_int_equal(pkt.rr[4].ttl, 200);
	assert_int_equal(hf_wire_get_u16(out.msg + pkt.rr[4].rdata_off), HF_TYPE_A);
	/* The proof's TTL counts for the entry. */
	assert_int_equal(out.ttl, 100);
	assert_true(out.flags & HF_FILL_AD);

	/* Not a DO client: no RRSIG, no proof, and the proof's TTL does not count. */
	in.dnssec = false;
	in.ad = false;
	assert_int_equal(hf_render(&out, &in), 0);
	check_ttl_offsets(&out, &pkt);
	static const struct rr_want plain[] = {
		{ HF_SECTION_ANSWER, HF_TYPE_CNAME }, { HF_SECTION_ANSWER, HF_TYPE_A },
	};
	check_order(&pkt, plain, HF_ARRAY_SIZE(plain));
	assert_int_equal(out.ttl, 200);
	assert_false(out.flags & HF_FILL_AD);
	free(chain[0]);
	free(chain[1]);
	free(proof[0]);
}

static void test_dnssec_nxdomain_proofs_in_authority(void **state)
{
	(void)state;
	static struct hf_rendered out;
	struct hf_pkt pkt;
	struct hf_rrset *soa = with_sigs(rrset_soa("a.test.", 300, 60), 1, 64);
	struct hf_rrset *proof[3] = { nsec3_set("0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.a.test.", 3600),
				      nsec3_set("35mthgpgcu1qg68fab165klnsnk3dpvl.a.test.", 30),
				      nsec3_set("b4um86eghhds6nea196smvmlo4ors995.a.test.", 3600) };
	struct hf_render_in in = { .qname = N("nx.a.test."), .qtype = HF_TYPE_A, .qclass = HF_CLASS_IN,
				   .rcode = HF_RCODE_NXDOMAIN, .soa = soa, .dnssec = true,
				   .proof = (const struct hf_rrset *const *)proof, .n_proof = 3, .ad = true };
	assert_int_equal(hf_render(&out, &in), 0);
	check_ttl_offsets(&out, &pkt);
	static const struct rr_want want[] = {
		{ HF_SECTION_AUTHORITY, HF_TYPE_SOA }, { HF_SECTION_AUTHORITY, HF_TYPE_RRSIG },
		{ HF_SECTION_AUTHORITY, HF_TYPE_NSEC3 }, { HF_SECTION_AUTHORITY, HF_TYPE_RRSIG },
		{ HF_SECTION_AUTHORITY, HF_TYPE_NSEC3 }, { HF_SECTION_AUTHORITY, HF_TYPE_RRSIG },
		{ HF_SECTION_AUTHORITY, HF_TYPE_NSEC3 }, { HF_SECTION_AUTHORITY, HF_TYPE_RRSIG },
	};
	check_order(&pkt, want, HF_ARRAY_SIZE(want));
	assert_int_equal(pkt.ancount, 0);
	assert_int_equal(HF_FLAGS_RCODE(pkt.flags), HF_RCODE_NXDOMAIN);
	/* Negative TTL min(300, 60) on the SOA and its RRSIG; proofs no longer than that either. */
	assert_int_equal(out.ttl, 30);
	assert_int_equal(pkt.rr[0].ttl, 60);
	assert_int_equal(pkt.rr[1].ttl, 60);
	assert_int_equal(pkt.rr[2].ttl, 60);
	assert_int_equal(pkt.rr[4].ttl, 30);
	assert_true(out.flags & HF_FILL_AD);

	/* Without DO: the SOA alone. */
	in.dnssec = false;
	in.ad = false;
	assert_int_equal(hf_render(&out, &in), 0);
	check_ttl_offsets(&out, &pkt);
	static const struct rr_want plain[] = { { HF_SECTION_AUTHORITY, HF_TYPE_SOA } };
	check_order(&pkt, plain, HF_ARRAY_SIZE(plain));
	assert_int_equal(out.ttl, 60);
	assert_int_equal(out.flags & HF_FILL_AD, 0);
	free(soa);
	for (unsigned i = 0; i < 3; i++)
		free(proof[i]);
}

static void test_dnssec_nodata_proof_without_soa_rrsig(void **state)
{
	(void)state;
	static struct hf_rendered out;
	struct hf_pkt pkt;
	/* An insecure zone's NODATA rendered for a DO client: no RRSIG to add, no AD. */
	struct hf_rrset *soa = rrset_soa("b.test.", 300, 600);
	struct hf_render_in in = { .qname = N("host.b.test."), .qtype = HF_TYPE_MX, .qclass = HF_CLASS_IN,
				   .soa = soa, .dnssec = true };
	assert_int_equal(hf_render(&out, &in), 0);
	check_ttl_offsets(&out, &pkt);
	static const struct rr_want want[] = { { HF_SECTION_AUTHORITY, HF_TYPE_SOA } };
	check_order(&pkt, want, HF_ARRAY_SIZE(want));
	assert_int_equal(out.ttl, 300);
	assert_int_equal(out.flags & HF_FILL_AD, 0);
	free(soa);
}

/*
 * Regression (RFC 4035 §3.1.1/§3.1.3): when a DO answer was too big, render.c
 * dropped the whole authority section (SOA, NSEC/NSEC3 and their RRSIGs)
 * and answers without TC. A DO client then gets an NXDOMAIN with no SOA and
 * no proof, which it can neither validate nor cache (RFC 2308 §5), and no
 * hint to retry over TCP. The RFC says: when the RRSIGs or NSEC records of
 * a negative answer do not fit, set TC. (render.h documents "authority goes
 * first", which is right for plain answers, not for DNSSEC proofs.)
 */
static void test_dnssec_proofs_that_do_not_fit_set_tc(void **state)
{
	(void)state;
	static struct hf_rendered out;
	struct hf_pkt pkt;
	/* Double-signed (algorithm rollover) with RSA-4096-sized signatures: over 4096 octets. */
	struct hf_rrset *soa = with_sigs(rrset_soa("a.test.", 300, 60), 2, 512);
	struct hf_rrset *proof[3];
	static const char *owners[3] = { "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.a.test.",
					 "35mthgpgcu1qg68fab165klnsnk3dpvl.a.test.",
					 "b4um86eghhds6nea196smvmlo4ors995.a.test." };
	for (unsigned i = 0; i < 3; i++) {
		struct hf_rrset *p = nsec3_set(owners[i], 300);
		proof[i] = with_sigs(p, 2, 512);
	}
	struct hf_render_in in = { .qname = N("nx.a.test."), .qtype = HF_TYPE_A, .qclass = HF_CLASS_IN,
				   .rcode = HF_RCODE_NXDOMAIN, .soa = soa, .dnssec = true,
				   .proof = (const struct hf_rrset *const *)proof, .n_proof = 3, .ad = true };
	assert_int_equal(hf_render(&out, &in), 0);
	check_ttl_offsets(&out, &pkt);
	assert_true(pkt.nscount > 0 || (pkt.flags & HF_FLAG_TC));
	free(soa);
	for (unsigned i = 0; i < 3; i++)
		free(proof[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positive_chain),
		cmocka_unit_test(test_negative_ttl),
		cmocka_unit_test(test_servfail_with_ede),
		cmocka_unit_test(test_too_big_sets_tc_without_records),
		cmocka_unit_test(test_dnssec_positive_with_wildcard_proof),
		cmocka_unit_test(test_dnssec_nxdomain_proofs_in_authority),
		cmocka_unit_test(test_dnssec_nodata_proof_without_soa_rrsig),
		cmocka_unit_test(test_dnssec_proofs_that_do_not_fit_set_tc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
