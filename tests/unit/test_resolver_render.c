/* Rendering (control/resolver/render.c): TTL offsets point at TTLs, the answer TTL, negative TTL, EDEs, truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positive_chain),
		cmocka_unit_test(test_negative_ttl),
		cmocka_unit_test(test_servfail_with_ede),
		cmocka_unit_test(test_too_big_sets_tc_without_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
