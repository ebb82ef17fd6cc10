/* Response classification and bailiwick (control/resolver/response.c): what a zone's server may tell us. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "control/resolver/response.h"
#include "tests/unit/resolver_pkt.h"

#define AUTH HF_SECTION_AUTHORITY
#define ADD HF_SECTION_ADDITIONAL
#define ANS HF_SECTION_ANSWER

static void classify(struct test_msg *m, const char *zone, const char *qname, uint16_t qtype,
		     struct hf_resp *r)
{
	msg_end(m);
	uint8_t z[HF_NAME_MAXLEN], q[HF_NAME_MAXLEN];
	memcpy(z, N(zone), HF_NAME_MAXLEN);
	memcpy(q, N(qname), HF_NAME_MAXLEN);
	assert_int_equal(hf_resp_classify(&m->pkt, z, q, qtype, HF_CLASS_IN, r), 0);
}

static void test_referral_keeps_only_in_bailiwick_glue(void **state)
{
	(void)state;
	struct test_msg m;
	struct hf_resp r;
	msg_begin(&m, 1, HF_FLAG_QR, "host.a.test.", HF_TYPE_A);
	msg_name_rr(&m, AUTH, "a.test.", HF_TYPE_NS, "ns1.a.test.");
	msg_name_rr(&m, AUTH, "a.test.", HF_TYPE_NS, "ns.elsewhere.example.");
	msg_a_rr(&m, ADD, "ns1.a.test.", "127.53.2.1");
	/* test.'s server cannot vouch for a name in example.: dropped. */
	msg_a_rr(&m, ADD, "ns.elsewhere.example.", "203.0.113.66");
	/* Nor for addresses of names that are no server of the cut. */
	msg_a_rr(&m, ADD, "www.test.", "203.0.113.67");
	classify(&m, "test.", "host.a.test.", HF_TYPE_A, &r);
	assert_int_equal(r.kind, HF_RESP_REFERRAL);
	assert_true(hf_name_equal(r.ns->owner, N("a.test.")));
	assert_int_equal(r.ns->n_rr, 2);
	assert_int_equal(r.n_glue, 1);
	assert_true(hf_name_equal(r.glue[0]->owner, N("ns1.a.test.")));
	hf_resp_clear(&r);
}

static void test_upward_and_sideways_referrals_are_lame(void **state)
{
	(void)state;
	struct test_msg m;
	struct hf_resp r;
	/* a.test.'s server refers us back to the root: no progress, lame. */
	msg_begin(&m, 1, HF_FLAG_QR, "host.a.test.", HF_TYPE_A);
	msg_name_rr(&m, AUTH, ".", HF_TYPE_NS, "a.root-servers.test.");
	classify(&m, "a.test.", "host.a.test.", HF_TYPE_A, &r);
	assert_int_equal(r.kind, HF_RESP_LAME);
	hf_resp_clear(&r);
	/* ...or to the zone it is asked about. */
	msg_begin(&m, 1, HF_FLAG_QR, "host.a.test.", HF_TYPE_A);
	msg_name_rr(&m, AUTH, "a.test.", HF_TYPE_NS, "ns1.a.test.");
	classify(&m, "a.test.", "host.a.test.", HF_TYPE_A, &r);
	assert_int_equal(r.kind, HF_RESP_LAME);
	hf_resp_clear(&r);
	/* ...or sideways, to a cut that does not contain the name. */
	msg_begin(&m, 1, HF_FLAG_QR, "host.a.test.", HF_TYPE_A);
	msg_name_rr(&m, AUTH, "b.test.", HF_TYPE_NS, "ns1.b.test.");
	classify(&m, "test.", "host.a.test.", HF_TYPE_A, &r);
	assert_int_equal(r.kind, HF_RESP_LAME);
	hf_resp_clear(&r);
}

static void test_answer_out_of_zone_is_ignored(void **state)
{
	(void)state;
	struct test_msg m;
	struct hf_resp r;
	/* A server for a.test. answering about b.example.: not its to say. */
	msg_begin(&m, 1, HF_FLAG_QR | HF_FLAG_AA, "host.b.example.", HF_TYPE_A);
	msg_a_rr(&m, ANS, "host.b.example.", "203.0.113.1");
	classify(&m, "a.test.", "host.b.example.", HF_TYPE_A, &r);
	assert_int_equal(r.kind, HF_RESP_LAME);
	assert_null(r.answer);
	hf_resp_clear(&r);
}

static void test_cname_leaving_zone_is_followed_anew(void **state)
{
	(void)state;
	struct test_msg m;
	struct hf_resp r;
	msg_begin(&m, 1, HF_FLAG_QR | HF_FLAG_AA, "www.a.test.", HF_TYPE_A);
	msg_name_rr(&m, ANS, "www.a.test.", HF_TYPE_CNAME, "x.b.example.");
	/* The target's data from a.test.'s server is out of bailiwick: must not be used. */
	msg_name_rr(&m, ANS, "x.b.example.", HF_TYPE_CNAME, "host.c.de.");
	msg_a_rr(&m, ANS, "host.c.de.", "203.0.113.99");
	classify(&m, "a.test.", "www.a.test.", HF_TYPE_A, &r);
	assert_int_equal(r.kind, HF_RESP_CNAME);
	assert_int_equal(r.n_chain, 1);
	assert_null(r.answer);
	assert_true(hf_name_equal(r.next_name, N("x.b.example.")));
	hf_resp_clear(&r);
}

static void test_cname_inside_zone_and_answer(void **state)
{
	(void)state;
	struct test_msg m;
	struct hf_resp r;
	msg_begin(&m, 1, HF_FLAG_QR | HF_FLAG_AA, "www.a.test.", HF_TYPE_A);
	msg_name_rr(&m, ANS, "www.a.test.", HF_TYPE_CNAME, "host.a.test.");
	msg_a_rr(&m, ANS, "host.a.test.", "192.0.2.1");
	classify(&m, "a.test.", "WWW.A.TEST.", HF_TYPE_A, &r);
	assert_int_equal(r.kind, HF_RESP_ANSWER);
	assert_int_equal(r.n_chain, 1);
	assert_true(hf_name_equal(r.answer->owner, N("host.a.test.")));
	hf_resp_clear(&r);
}

static void test_negative_answers_need_a_fitting_soa(void **state)
{
	(void)state;
	struct test_msg m;
	struct hf_resp r;
	msg_begin(&m, 1, HF_FLAG_QR | HF_FLAG_AA | HF_RCODE_NXDOMAIN, "nx.a.test.", HF_TYPE_A);
	msg_soa_rr(&m, "a.test.");
	classify(&m, "a.test.", "nx.a.test.", HF_TYPE_A, &r);
	assert_int_equal(r.kind, HF_RESP_NXDOMAIN);
	assert_non_null(r.soa);
	hf_resp_clear(&r);
	/* An SOA of another zone is not kept (it would poison the negative cache). */
	msg_begin(&m, 1, HF_FLAG_QR | HF_FLAG_AA | HF_RCODE_NXDOMAIN, "nx.a.test.", HF_TYPE_A);
	msg_soa_rr(&m, "example.");
	classify(&m, "a.test.", "nx.a.test.", HF_TYPE_A, &r);
	assert_int_equal(r.kind, HF_RESP_NXDOMAIN);
	assert_null(r.soa);
	hf_resp_clear(&r);
	/* NODATA: NOERROR, empty answer, SOA. */
	msg_begin(&m, 1, HF_FLAG_QR | HF_FLAG_AA, "host.a.test.", HF_TYPE_MX);
	msg_soa_rr(&m, "a.test.");
	classify(&m, "a.test.", "host.a.test.", HF_TYPE_MX, &r);
	assert_int_equal(r.kind, HF_RESP_NODATA);
	assert_non_null(r.soa);
	hf_resp_clear(&r);
	/* Server errors are for the iterator to retry elsewhere. */
	msg_begin(&m, 1, HF_FLAG_QR | HF_RCODE_REFUSED, "host.a.test.", HF_TYPE_A);
	classify(&m, "a.test.", "host.a.test.", HF_TYPE_A, &r);
	assert_int_equal(r.kind, HF_RESP_ERROR);
	hf_resp_clear(&r);
}

static void test_dname_synthesis(void **state)
{
	(void)state;
	struct test_msg m;
	struct hf_resp r;
	msg_begin(&m, 1, HF_FLAG_QR | HF_FLAG_AA, "host.old.a.test.", HF_TYPE_A);
	msg_name_rr(&m, ANS, "old.a.test.", HF_TYPE_DNAME, "new.b.example.");
	classify(&m, "a.test.", "host.old.a.test.", HF_TYPE_A, &r);
	assert_int_equal(r.kind, HF_RESP_CNAME);
	assert_int_equal(r.n_chain, 2);
	assert_int_equal(r.chain[0]->type, HF_TYPE_DNAME);
	assert_int_equal(r.chain[1]->type, HF_TYPE_CNAME);
	assert_true(hf_name_equal(r.next_name, N("host.new.b.example.")));
	hf_resp_clear(&r);
}

/* ---- DNSSEC material: proofs, the referral's DS, synthesised CNAMEs ---- */

/* An RRSIG over type by signer (ECDSA-sized fake signature). */
static void msg_rrsig(struct test_msg *m, uint8_t section, const char *owner, uint16_t covered,
		      uint8_t labels, const char *signer)
{
	uint8_t rd[18 + HF_NAME_MAXLEN + 64];
	const uint8_t *sn = N(signer);
	size_t slen = hf_name_len(sn);
	memset(rd, 0, sizeof(rd));
	rd[0] = (uint8_t)(covered >> 8);
	rd[1] = (uint8_t)covered;
	rd[2] = 13;
	rd[3] = labels;
	rd[7] = 0x2c;  /* original TTL 300 */
	rd[8] = 0x77;  /* far-away validity window, not checked here */
	rd[12] = 0x55;
	rd[16] = 0x12;
	rd[17] = 0x34;
	memcpy(rd + 18, sn, slen);
	memset(rd + 18 + slen, 0x42, 64);
	msg_rr(m, section, owner, HF_TYPE_RRSIG, rd, (uint16_t)(18 + slen + 64));
}

/* An NSEC record (next name, bitmap NS SOA RRSIG NSEC) and its RRSIG. */
static void msg_nsec(struct test_msg *m, const char *owner, const char *next, const char *signer)
{
	uint8_t rd[HF_NAME_MAXLEN + 8];
	const uint8_t *nx = N(next);
	size_t n = hf_name_len(nx);
	static const uint8_t bm[] = { 0, 6, 0x22, 0, 0, 0, 0, 0x03 };
	memcpy(rd, nx, n);
	memcpy(rd + n, bm, sizeof(bm));
	msg_rr(m, AUTH, owner, HF_TYPE_NSEC, rd, (uint16_t)(n + sizeof(bm)));
	msg_rrsig(m, AUTH, owner, HF_TYPE_NSEC, (uint8_t)hf_name_labels(N(owner)), signer);
}

/* An NSEC3 record (SHA-1, 1 iteration, salt ab, bitmap A RRSIG) and its RRSIG. */
static void msg_nsec3(struct test_msg *m, const char *owner, uint8_t flags, const char *signer)
{
	uint8_t rd[] = { 1, flags, 0, 1, 1, 0xab, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
			 16, 17, 18, 19, 20, 0, 6, 0x40, 0, 0, 0, 0, 0x02 };
	msg_rr(m, AUTH, owner, HF_TYPE_NSEC3, rd, sizeof(rd));
	msg_rrsig(m, AUTH, owner, HF_TYPE_NSEC3, (uint8_t)hf_name_labels(N(owner)), signer);
}

static const struct hf_rrset *proof_at(const struct hf_resp *r, const char *owner, uint16_t type)
{
	for (unsigned i = 0; i < r->n_proof; i++)
		if (r->proof[i]->type == type && hf_name_equal(r->proof[i]->owner, N(owner)))
			return r->proof[i];
	return NULL;
}

static void test_nxdomain_keeps_zone_proofs(void **state)
{
	(void)state;
	struct test_msg m;
	struct hf_resp r;
	msg_begin(&m, 1, HF_FLAG_QR | HF_FLAG_AA | HF_RCODE_NXDOMAIN, "nx.a.test.", HF_TYPE_A);
	msg_soa_rr(&m, "a.test.");
	msg_rrsig(&m, AUTH, "a.test.", HF_TYPE_SOA, 2, "a.test.");
	msg_nsec(&m, "a.test.", "host.a.test.", "a.test.");
	msg_nsec(&m, "mail.a.test.", "www.a.test.", "a.test.");
	/* Not the zone's to speak for: its parent's and a stranger's NSEC. */
	msg_nsec(&m, "test.", "z.test.", "test.");
	msg_nsec(&m, "nx.example.", "zz.example.", "example.");
	classify(&m, "a.test.", "nx.a.test.", HF_TYPE_A, &r);
	assert_int_equal(r.kind, HF_RESP_NXDOMAIN);
	assert_non_null(r.soa);
	assert_int_equal(r.soa->n_sig, 1);
	assert_int_equal(r.n_proof, 2);
	const struct hf_rrset *p = proof_at(&r, "a.test.", HF_TYPE_NSEC);
	assert_non_null(p);
	assert_int_equal(p->n_rr, 1);
	assert_int_equal(p->n_sig, 1);
	p = proof_at(&r, "MAIL.a.test.", HF_TYPE_NSEC);
	assert_non_null(p);
	assert_int_equal(p->n_sig, 1);
	/* The RRSIG kept is the one over NSEC, not the SOA's. */
	uint16_t len;
	const uint8_t *rd = hf_rrset_rdata(p, p->n_rr, &len);
	assert_int_equal(rd[0] << 8 | rd[1], HF_TYPE_NSEC);
	assert_null(r.ds);
	hf_resp_clear(&r);
}

static void test_nodata_keeps_nsec3_proofs(void **state)
{
	(void)state;
	struct test_msg m;
	struct hf_resp r;
	msg_begin(&m, 1, HF_FLAG_QR | HF_FLAG_AA, "host.a.test.", HF_TYPE_MX);
	msg_soa_rr(&m, "a.test.");
	msg_nsec3(&m, "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.a.test.", 0, "a.test.");
	msg_nsec3(&m, "35mthgpgcu1qg68fab165klnsnk3dpvl.a.test.", 1, "a.test.");
	/* An NSEC3 of the parent zone: dropped. */
	msg_nsec3(&m, "b4um86eghhds6nea196smvmlo4ors995.test.", 0, "test.");
	classify(&m, "a.test.", "host.a.test.", HF_TYPE_MX, &r);
	assert_int_equal(r.kind, HF_RESP_NODATA);
	assert_int_equal(r.n_proof, 2);
	assert_non_null(proof_at(&r, "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.a.test.", HF_TYPE_NSEC3));
	assert_non_null(proof_at(&r, "35mthgpgcu1qg68fab165klnsnk3dpvl.a.test.", HF_TYPE_NSEC3));
	assert_int_equal(r.proof[0]->n_sig, 1);
	assert_int_equal(r.proof[1]->n_sig, 1);
	hf_resp_clear(&r);
}

static void test_wildcard_answer_keeps_proof(void **state)
{
	(void)state;
	struct test_msg m;
	struct hf_resp r;
	/* host.w.a.test. expanded from *.w.a.test. (RRSIG labels 3): the NSEC shows the name is absent. */
	msg_begin(&m, 1, HF_FLAG_QR | HF_FLAG_AA, "host.w.a.test.", HF_TYPE_A);
	msg_a_rr(&m, ANS, "host.w.a.test.", "192.0.2.7");
	msg_rrsig(&m, ANS, "host.w.a.test.", HF_TYPE_A, 3, "a.test.");
	msg_name_rr(&m, AUTH, "a.test.", HF_TYPE_NS, "ns1.a.test.");
	msg_nsec(&m, "h.w.a.test.", "i.w.a.test.", "a.test.");
	classify(&m, "a.test.", "host.w.a.test.", HF_TYPE_A, &r);
	assert_int_equal(r.kind, HF_RESP_ANSWER);
	assert_int_equal(r.answer->n_sig, 1);
	assert_int_equal(r.n_proof, 1);
	assert_non_null(proof_at(&r, "h.w.a.test.", HF_TYPE_NSEC));
	assert_int_equal(r.proof[0]->n_sig, 1);
	hf_resp_clear(&r);
}

static void test_referral_keeps_ds_and_no_ds_proof(void **state)
{
	(void)state;
	struct test_msg m;
	struct hf_resp r;
	/* Signed delegation: the DS and its RRSIG go to r.ds. */
	static const uint8_t ds[4 + 32] = { 0x12, 0x34, 13, 2 };
	msg_begin(&m, 1, HF_FLAG_QR, "host.a.test.", HF_TYPE_A);
	msg_name_rr(&m, AUTH, "a.test.", HF_TYPE_NS, "ns1.a.test.");
	msg_rr(&m, AUTH, "a.test.", HF_TYPE_DS, ds, sizeof(ds));
	msg_rrsig(&m, AUTH, "a.test.", HF_TYPE_DS, 2, "test.");
	/* Another child's DS is not this referral's. */
	msg_rr(&m, AUTH, "b.test.", HF_TYPE_DS, ds, sizeof(ds));
	msg_a_rr(&m, ADD, "ns1.a.test.", "127.53.2.1");
	classify(&m, "test.", "host.a.test.", HF_TYPE_A, &r);
	assert_int_equal(r.kind, HF_RESP_REFERRAL);
	assert_non_null(r.ds);
	assert_true(hf_name_equal(r.ds->owner, N("a.test.")));
	assert_int_equal(r.ds->type, HF_TYPE_DS);
	assert_int_equal(r.ds->n_rr, 1);
	assert_int_equal(r.ds->n_sig, 1);
	assert_int_equal(r.n_glue, 1);
	assert_int_equal(r.n_proof, 0);
	hf_resp_clear(&r);

	/* Unsigned delegation: no DS, the parent's NSEC at the cut proves it (NS, no DS). */
	msg_begin(&m, 1, HF_FLAG_QR, "host.a.test.", HF_TYPE_A);
	msg_name_rr(&m, AUTH, "a.test.", HF_TYPE_NS, "ns1.a.test.");
	msg_nsec(&m, "a.test.", "c.test.", "test.");
	msg_nsec(&m, "x.example.", "y.example.", "example.");
	classify(&m, "test.", "host.a.test.", HF_TYPE_A, &r);
	assert_int_equal(r.kind, HF_RESP_REFERRAL);
	assert_null(r.ds);
	assert_int_equal(r.n_proof, 1);
	assert_non_null(proof_at(&r, "a.test.", HF_TYPE_NSEC));
	hf_resp_clear(&r);

	/* Opt-out NSEC3 for the no-DS proof. */
	msg_begin(&m, 1, HF_FLAG_QR, "host.a.test.", HF_TYPE_A);
	msg_name_rr(&m, AUTH, "a.test.", HF_TYPE_NS, "ns1.a.test.");
	msg_nsec3(&m, "35mthgpgcu1qg68fab165klnsnk3dpvl.test.", 1, "test.");
	classify(&m, "test.", "host.a.test.", HF_TYPE_A, &r);
	assert_int_equal(r.kind, HF_RESP_REFERRAL);
	assert_int_equal(r.n_proof, 1);
	assert_int_equal(r.proof[0]->type, HF_TYPE_NSEC3);
	hf_resp_clear(&r);
}

static void test_proofs_bounded_and_grouped(void **state)
{
	(void)state;
	struct test_msg m;
	struct hf_resp r;
	char owner[32];
	msg_begin(&m, 1, HF_FLAG_QR | HF_FLAG_AA | HF_RCODE_NXDOMAIN, "nx.a.test.", HF_TYPE_A);
	msg_soa_rr(&m, "a.test.");
	/* Two records of one NSEC RRset (a server may repeat an owner): one RRset. */
	msg_nsec(&m, "a.test.", "b.a.test.", "a.test.");
	msg_nsec(&m, "a.test.", "c.a.test.", "a.test.");
	for (int i = 0; i < HF_RESP_MAX_PROOF + 3; i++) {
		snprintf(owner, sizeof(owner), "n%02d.a.test.", i);
		msg_nsec(&m, owner, "zz.a.test.", "a.test.");
	}
	classify(&m, "a.test.", "nx.a.test.", HF_TYPE_A, &r);
	assert_int_equal(r.kind, HF_RESP_NXDOMAIN);
	assert_int_equal(r.n_proof, HF_RESP_MAX_PROOF);
	const struct hf_rrset *p = proof_at(&r, "a.test.", HF_TYPE_NSEC);
	assert_non_null(p);
	assert_int_equal(p->n_rr, 2);
	assert_int_equal(p->n_sig, 2);
	hf_resp_clear(&r);

	/* Errors and lame answers keep nothing. */
	msg_begin(&m, 1, HF_FLAG_QR | HF_RCODE_SERVFAIL, "nx.a.test.", HF_TYPE_A);
	msg_nsec(&m, "a.test.", "b.a.test.", "a.test.");
	classify(&m, "a.test.", "nx.a.test.", HF_TYPE_A, &r);
	assert_int_equal(r.kind, HF_RESP_ERROR);
	assert_int_equal(r.n_proof, 0);
	hf_resp_clear(&r);
}

static void test_synthesised_cname_is_flagged(void **state)
{
	(void)state;
	struct test_msg m;
	struct hf_resp r;
	/* DNAME alone: the synthesised CNAME is flagged and carries no RRSIG. */
	msg_begin(&m, 1, HF_FLAG_QR | HF_FLAG_AA, "host.old.a.test.", HF_TYPE_A);
	msg_name_rr(&m, ANS, "old.a.test.", HF_TYPE_DNAME, "new.b.example.");
	msg_rrsig(&m, ANS, "old.a.test.", HF_TYPE_DNAME, 3, "a.test.");
	classify(&m, "a.test.", "host.old.a.test.", HF_TYPE_A, &r);
	assert_int_equal(r.kind, HF_RESP_CNAME);
	assert_int_equal(r.n_chain, 2);
	assert_int_equal(r.chain[0]->type, HF_TYPE_DNAME);
	assert_int_equal(r.chain[0]->flags & HF_RRSET_SYNTH, 0);
	assert_int_equal(r.chain[1]->type, HF_TYPE_CNAME);
	assert_true(r.chain[1]->flags & HF_RRSET_SYNTH);
	assert_int_equal(r.chain[1]->n_sig, 0);
	assert_true(hf_name_equal(r.chain[1]->owner, N("host.old.a.test.")));
	uint16_t len;
	assert_true(hf_name_equal(hf_rrset_rdata(r.chain[1], 0, &len), N("host.new.b.example.")));
	hf_resp_clear(&r);

	/* A plain CNAME is not flagged. */
	msg_begin(&m, 1, HF_FLAG_QR | HF_FLAG_AA, "www.a.test.", HF_TYPE_A);
	msg_name_rr(&m, ANS, "www.a.test.", HF_TYPE_CNAME, "x.b.example.");
	classify(&m, "a.test.", "www.a.test.", HF_TYPE_A, &r);
	assert_int_equal(r.n_chain, 1);
	assert_int_equal(r.chain[0]->flags & HF_RRSET_SYNTH, 0);
	hf_resp_clear(&r);
}

/*
 * Regression: response.c used to look for a CNAME at the name before a
 * DNAME above it. A DNAME-aware server also sends the CNAME it synthesised
 * (RFC 6672 §3.1: it MUST, for old resolvers), and that CNAME is unsigned
 * (§5.3.1). classify() then puts the server's unsigned CNAME in the chain,
 * without HF_RRSET_SYNTH and without the signed DNAME, so validate.c finds
 * no RRSIG over it and calls every DNAME answer from a signed zone BOGUS
 * (EDE 10, "no RRSIG over host.old.a.test/cname"). RFC 6672 §5.3.1 /
 * RFC 4035 §5.3: validate the DNAME and check (or replace) the CNAME
 * against it, as HF_RRSET_SYNTH is meant for.
 */
static void test_dname_with_server_cname_uses_the_dname(void **state)
{
	(void)state;
	struct test_msg m;
	struct hf_resp r;
	msg_begin(&m, 1, HF_FLAG_QR | HF_FLAG_AA, "host.old.a.test.", HF_TYPE_A);
	msg_name_rr(&m, ANS, "old.a.test.", HF_TYPE_DNAME, "new.a.test.");
	msg_rrsig(&m, ANS, "old.a.test.", HF_TYPE_DNAME, 3, "a.test.");
	msg_name_rr(&m, ANS, "host.old.a.test.", HF_TYPE_CNAME, "host.new.a.test.");
	msg_a_rr(&m, ANS, "host.new.a.test.", "192.0.2.9");
	msg_rrsig(&m, ANS, "host.new.a.test.", HF_TYPE_A, 4, "a.test.");
	classify(&m, "a.test.", "host.old.a.test.", HF_TYPE_A, &r);
	assert_int_equal(r.kind, HF_RESP_ANSWER);
	assert_int_equal(r.n_chain, 2);
	assert_int_equal(r.chain[0]->type, HF_TYPE_DNAME);
	assert_int_equal(r.chain[0]->n_sig, 1);
	assert_int_equal(r.chain[1]->type, HF_TYPE_CNAME);
	assert_true(r.chain[1]->flags & HF_RRSET_SYNTH);
	hf_resp_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_referral_keeps_only_in_bailiwick_glue),
		cmocka_unit_test(test_upward_and_sideways_referrals_are_lame),
		cmocka_unit_test(test_answer_out_of_zone_is_ignored),
		cmocka_unit_test(test_cname_leaving_zone_is_followed_anew),
		cmocka_unit_test(test_cname_inside_zone_and_answer),
		cmocka_unit_test(test_negative_answers_need_a_fitting_soa),
		cmocka_unit_test(test_dname_synthesis),
		cmocka_unit_test(test_nxdomain_keeps_zone_proofs),
		cmocka_unit_test(test_nodata_keeps_nsec3_proofs),
		cmocka_unit_test(test_wildcard_answer_keeps_proof),
		cmocka_unit_test(test_referral_keeps_ds_and_no_ds_proof),
		cmocka_unit_test(test_proofs_bounded_and_grouped),
		cmocka_unit_test(test_synthesised_cname_is_flagged),
		cmocka_unit_test(test_dname_with_server_cname_uses_the_dname),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
