#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "include/holdfast/build.h"
#include "include/holdfast/errcode.h"
#include "include/holdfast/name.h"
#include "include/holdfast/pkt.h"
#include "include/holdfast/wire_ctx.h"
#include "tests/unit/hex.h"

static const uint8_t qname_mixed[] = "\3WwW\7ExAmPlE\3cOm";  /* a 0x20-style client */

static void test_question_echo_preserves_case(void **state)
{
	(void)state;
	uint8_t wire[512];
	struct hf_build b;
	struct hf_pkt pkt;

	assert_int_equal(hf_build_init(&b, wire, sizeof(wire), 0xabcd,
				       HF_FLAG_QR | HF_FLAG_RD | HF_FLAG_RA), 0);
	assert_int_equal(hf_build_question(&b, qname_mixed, HF_TYPE_A, HF_CLASS_IN), 0);
	assert_int_equal(hf_build_question(&b, qname_mixed, HF_TYPE_A, HF_CLASS_IN), -EINVAL);
	int len = hf_build_finish(&b);
	assert_int_equal(len, 12 + 17 + 4);
	assert_int_equal(hf_pkt_parse(&pkt, wire, (size_t)len, NULL, 0), 0);
	assert_int_equal(pkt.id, 0xabcd);
	assert_int_equal(pkt.flags, HF_FLAG_QR | HF_FLAG_RD | HF_FLAG_RA);
	assert_memory_equal(wire + 12, qname_mixed, 17);
}

static void test_records_compress_against_question(void **state)
{
	(void)state;
	uint8_t wire[512];
	uint8_t owner[HF_NAME_MAXLEN], target[HF_NAME_MAXLEN], ns[HF_NAME_MAXLEN];
	uint8_t mx[2 + HF_NAME_MAXLEN];
	struct hf_build b;
	struct hf_pkt pkt;
	struct hf_rr rr[8];

	hf_name_from_text("www.example.com", owner);
	int tlen = hf_name_from_text("cdn.example.com", target);
	int nslen = hf_name_from_text("ns1.example.com", ns);
	hf_wire_put_u16(mx, 10);
	int mxlen = 2 + hf_name_from_text("mail.example.com", mx + 2);

	hf_build_init(&b, wire, sizeof(wire), 1, HF_FLAG_QR);
	hf_build_question(&b, qname_mixed, HF_TYPE_A, HF_CLASS_IN);
	int ttl_at = hf_build_rr(&b, HF_SECTION_ANSWER, owner, HF_TYPE_CNAME, HF_CLASS_IN, 300,
				 target, (uint16_t)tlen);
	assert_true(ttl_at > 0);
	assert_int_equal(hf_wire_get_u32(wire + ttl_at), 300);
	/* Owner compressed to the question: a single pointer to offset 12. */
	assert_memory_equal(wire + ttl_at - 6, "\xc0\x0c", 2);
	assert_true(hf_build_rr(&b, HF_SECTION_ANSWER, target, HF_TYPE_A, HF_CLASS_IN, 60,
				(const uint8_t *)"\xc0\x00\x02\x01", 4) > 0);
	assert_true(hf_build_rr(&b, HF_SECTION_AUTHORITY, owner + 4, HF_TYPE_NS, HF_CLASS_IN, 3600,
				ns, (uint16_t)nslen) > 0);
	assert_true(hf_build_rr(&b, HF_SECTION_AUTHORITY, owner + 4, HF_TYPE_MX, HF_CLASS_IN, 3600,
				mx, (uint16_t)mxlen) > 0);
	/* Going back a section is a caller bug. */
	assert_int_equal(hf_build_rr(&b, HF_SECTION_ANSWER, owner, HF_TYPE_A, HF_CLASS_IN, 1,
				     (const uint8_t *)"\1\2\3\4", 4), -EINVAL);
	int len = hf_build_finish(&b);
	/* Uncompressed it would be 12 + 21 + (17+10+17) + (17+10+4) + 2*(13+10) + 17 + 20. */
	assert_true(len < 120);

	assert_int_equal(hf_pkt_parse(&pkt, wire, (size_t)len, rr, HF_ARRAY_SIZE(rr)), 0);
	assert_int_equal(pkt.ancount, 2);
	assert_int_equal(pkt.nscount, 2);
	uint8_t got[HF_NAME_MAXLEN];
	size_t pos = rr[0].rdata_off;
	/* Compression matches names case-insensitively, as DNS compares them. */
	assert_int_equal(hf_name_unpack(wire, pkt.size, &pos, got), tlen);
	assert_true(hf_name_equal(got, target));
	pos = rr[1].owner_off;
	hf_name_unpack(wire, pkt.size, &pos, got);
	assert_true(hf_name_equal(got, target));
	pos = rr[3].rdata_off + 2;
	assert_int_equal(hf_name_unpack(wire, pkt.size, &pos, got), mxlen - 2);
	assert_true(hf_name_equal(got, mx + 2));
	assert_int_equal(hf_wire_get_u16(wire + rr[3].rdata_off), 10);
}

static void test_opt_with_several_ede(void **state)
{
	(void)state;
	uint8_t wire[512];
	struct hf_build b;
	struct hf_pkt pkt;
	static const char text6[] =
		"RRSIG with malformed signature found for example.de/nsec3 (keytag=33834)";

	hf_build_init(&b, wire, sizeof(wire), 7, HF_FLAG_QR | HF_RCODE_SERVFAIL);
	hf_build_question(&b, qname_mixed, HF_TYPE_A, HF_CLASS_IN);
	assert_int_equal(hf_build_opt_ede(&b, 3, "x"), -EINVAL);  /* no OPT open */
	assert_int_equal(hf_build_opt_begin(&b, 1232, 0, 0, HF_EDNS_FLAG_DO), 0);
	assert_int_equal(hf_build_opt_ede(&b, HF_EDE_STALE_ANSWER, NULL), 0);
	assert_int_equal(hf_build_opt_ede(&b, HF_EDE_DNSSEC_BOGUS, text6), 0);
	assert_int_equal(hf_build_opt_option(&b, HF_EDNS_OPT_COOKIE, "\1\2\3\4\5\6\7\10", 8), 0);
	assert_int_equal(hf_build_finish(&b), -EINVAL);  /* OPT still open */
	assert_int_equal(hf_build_opt_end(&b), 0);
	assert_int_equal(hf_build_opt_begin(&b, 1232, 0, 0, 0), -EINVAL);  /* only one */
	int len = hf_build_finish(&b);
	assert_true(len > 0);

	assert_int_equal(hf_pkt_parse(&pkt, wire, (size_t)len, NULL, 0), 0);
	assert_int_equal(HF_FLAGS_RCODE(pkt.flags), HF_RCODE_SERVFAIL);
	assert_true(pkt.edns.present);
	assert_int_equal(pkt.edns.udp_size, 1232);
	assert_true(pkt.edns.flags & HF_EDNS_FLAG_DO);
	assert_int_equal(pkt.edns.n_opts, 3);
	unsigned from = 0;
	const struct hf_edns_opt *o = hf_edns_find(&pkt.edns, HF_EDNS_OPT_EDE, &from);
	assert_int_equal(o->len, 2);
	assert_int_equal(hf_wire_get_u16(wire + o->off), HF_EDE_STALE_ANSWER);
	o = hf_edns_find(&pkt.edns, HF_EDNS_OPT_EDE, &from);
	assert_int_equal(o->len, 2 + strlen(text6));
	assert_int_equal(hf_wire_get_u16(wire + o->off), HF_EDE_DNSSEC_BOGUS);
	assert_memory_equal(wire + o->off + 2, text6, strlen(text6));
	assert_null(hf_edns_find(&pkt.edns, HF_EDNS_OPT_EDE, &from));
}

static void test_extended_rcode(void **state)
{
	(void)state;
	uint8_t wire[128];
	struct hf_build b;
	struct hf_pkt pkt;

	hf_build_init(&b, wire, sizeof(wire), 9, HF_FLAG_QR | (HF_RCODE_BADVERS & 0xf));
	hf_build_question(&b, qname_mixed, HF_TYPE_A, HF_CLASS_IN);
	hf_build_opt_begin(&b, 1232, HF_RCODE_BADVERS >> 4, 0, 0);
	hf_build_opt_end(&b);
	int len = hf_build_finish(&b);
	assert_int_equal(hf_pkt_parse(&pkt, wire, (size_t)len, NULL, 0), 0);
	assert_int_equal(hf_pkt_rcode(&pkt), HF_RCODE_BADVERS);
}

/* A record that does not fit leaves the message as it was, so the caller can
 * set TC and send what fits. */
static void test_space_rolls_back(void **state)
{
	(void)state;
	uint8_t wire[64];
	uint8_t txt[40];
	struct hf_build b;
	struct hf_pkt pkt;
	uint8_t owner[HF_NAME_MAXLEN];

	memset(txt, 'a', sizeof(txt));
	txt[0] = 39;
	hf_name_from_text("other.name.test", owner);
	assert_int_equal(hf_build_init(&b, wire, 11, 1, 0), HF_ESPACE);
	hf_build_init(&b, wire, sizeof(wire), 1, HF_FLAG_QR);
	hf_build_question(&b, qname_mixed, HF_TYPE_TXT, HF_CLASS_IN);
	uint16_t before = b.pos;
	assert_int_equal(hf_build_rr(&b, HF_SECTION_ANSWER, owner, HF_TYPE_TXT, HF_CLASS_IN, 1,
				     txt, sizeof(txt)), HF_ESPACE);
	assert_int_equal(b.pos, before);
	assert_int_equal(b.count[1], 0);
	assert_int_equal(hf_build_opt_begin(&b, 512, 0, 0, 0), 0);
	assert_int_equal(hf_build_opt_ede(&b, 0, "a text much too long to fit in what is left"),
			 HF_ESPACE);
	assert_int_equal(hf_build_opt_end(&b), 0);
	hf_build_set_flags(&b, HF_FLAG_QR | HF_FLAG_TC);
	int len = hf_build_finish(&b);
	assert_int_equal(hf_pkt_parse(&pkt, wire, (size_t)len, NULL, 0), 0);
	assert_true(pkt.flags & HF_FLAG_TC);
	assert_int_equal(pkt.ancount, 0);
}

static void test_bad_rdata_refused(void **state)
{
	(void)state;
	uint8_t wire[128];
	struct hf_build b;

	hf_build_init(&b, wire, sizeof(wire), 1, HF_FLAG_QR);
	hf_build_question(&b, qname_mixed, HF_TYPE_NS, HF_CLASS_IN);
	uint16_t before = b.pos;
	/* NS RDATA whose name runs off its end, and one with a pointer. */
	assert_int_equal(hf_build_rr(&b, 0, qname_mixed, HF_TYPE_NS, HF_CLASS_IN, 1,
				     (const uint8_t *)"\3ab", 3), HF_ERDATA);
	assert_int_equal(hf_build_rr(&b, 0, qname_mixed, HF_TYPE_NS, HF_CLASS_IN, 1,
				     (const uint8_t *)"\xc0\x0c", 2), HF_ERDATA);
	assert_int_equal(b.pos, before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_question_echo_preserves_case),
		cmocka_unit_test(test_records_compress_against_question),
		cmocka_unit_test(test_opt_with_several_ede),
		cmocka_unit_test(test_extended_rcode),
		cmocka_unit_test(test_space_rolls_back),
		cmocka_unit_test(test_bad_rdata_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
