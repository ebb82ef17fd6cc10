/* Response classification and bailiwick (control/resolver/response.c): what a zone's server may tell us. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
