#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dataplane/query.h"
#include "include/holdfast/build.h"
#include "include/holdfast/csum.h"
#include "include/holdfast/msg.h"
#include "include/holdfast/name.h"
#include "include/holdfast/pkt.h"
#include "include/holdfast/wire_ctx.h"
#include "tests/unit/hex.h"

#define ROOM 2048

/* "WwW.ExAmPlE.cOm" A IN, RD, optionally with EDNS (udp size, flags, version). */
static uint16_t make_query(uint8_t *buf, bool edns, uint16_t udp, uint16_t eflags, uint8_t version)
{
	struct hf_build b;
	hf_build_init(&b, buf, ROOM, 0x1234, HF_FLAG_RD);
	hf_build_question(&b, (const uint8_t *)"\3WwW\7ExAmPlE\3cOm", HF_TYPE_A, HF_CLASS_IN);
	if (edns) {
		hf_build_opt_begin(&b, udp, 0, version, eflags);
		hf_build_opt_end(&b);
	}
	return (uint16_t)hf_build_finish(&b);
}

static enum hf_query_verdict parse(uint8_t *buf, uint16_t len, struct hf_query *q,
				   uint16_t *out, enum hf_query_reason *why)
{
	return hf_query_parse(buf, len, ROOM, q, out, why);
}

static void test_lookup(void **state)
{
	(void)state;
	uint8_t buf[ROOM];
	struct hf_query q;
	uint16_t out;
	enum hf_query_reason why;

	uint16_t len = make_query(buf, true, 4096, HF_EDNS_FLAG_DO, 0);
	assert_int_equal(parse(buf, len, &q, &out, &why), HF_QUERY_LOOKUP);
	assert_int_equal(q.id, 0x1234);
	assert_int_equal(q.qtype, HF_TYPE_A);
	assert_int_equal(q.question_end, 12 + 17 + 4);
	assert_memory_equal(q.qname, "\3www\7example\3com", 17);
	assert_true(q.edns);
	assert_int_equal(q.variant, HF_VARIANT_DO);
	assert_int_equal(q.udp_limit, HF_QUERY_EDNS_MAX);  /* 4096 clamped */

	len = make_query(buf, false, 0, 0, 0);
	buf[3] |= HF_FLAG_CD;
	assert_int_equal(parse(buf, len, &q, &out, &why), HF_QUERY_LOOKUP);
	assert_false(q.edns);
	assert_int_equal(q.variant, HF_VARIANT_CD);
	assert_int_equal(q.udp_limit, 512);

	len = make_query(buf, true, 100, 0, 0);  /* below 512 counts as 512 */
	assert_int_equal(parse(buf, len, &q, &out, &why), HF_QUERY_LOOKUP);
	assert_int_equal(q.udp_limit, 512);
}

static void test_drops(void **state)
{
	(void)state;
	uint8_t buf[ROOM];
	struct hf_query q;
	uint16_t out;
	enum hf_query_reason why;

	uint16_t len = make_query(buf, false, 0, 0, 0);
	assert_int_equal(parse(buf, 11, &q, &out, &why), HF_QUERY_DROP);
	assert_int_equal(why, HF_QREASON_SHORT);
	buf[2] |= 0x80;  /* QR: a response must never be answered */
	assert_int_equal(parse(buf, len, &q, &out, &why), HF_QUERY_DROP);
	assert_int_equal(why, HF_QREASON_RESPONSE);
}

/* Parses a response and checks its rcode, counts and (optional) EDE code. */
static void check_response(const uint8_t *buf, uint16_t len, unsigned rcode, uint16_t qd,
			   bool edns, int ede)
{
	struct hf_pkt pkt;
	assert_int_equal(hf_pkt_parse(&pkt, buf, len, NULL, 0), 0);
	assert_true(pkt.flags & HF_FLAG_QR);
	assert_true(pkt.flags & HF_FLAG_RA);
	assert_int_equal(pkt.id, 0x1234);
	assert_int_equal(hf_pkt_rcode(&pkt), rcode);
	assert_int_equal(pkt.qdcount, qd);
	assert_int_equal(pkt.edns.present, edns);
	const struct hf_edns_opt *o = hf_edns_find(&pkt.edns, HF_EDNS_OPT_EDE, NULL);
	if (ede < 0) {
		assert_null(o);
	} else {
		assert_non_null(o);
		assert_int_equal(hf_wire_get_u16(buf + o->off), ede);
	}
}

static void test_error_responses(void **state)
{
	(void)state;
	uint8_t buf[ROOM];
	struct hf_query q;
	uint16_t out, len;
	enum hf_query_reason why;

	/* NOTIFY: NOTIMP, question echoed. */
	len = make_query(buf, false, 0, 0, 0);
	buf[2] = (uint8_t)(HF_OPCODE_NOTIFY << 3);
	assert_int_equal(parse(buf, len, &q, &out, &why), HF_QUERY_RESPOND);
	assert_int_equal(why, HF_QREASON_OPCODE);
	check_response(buf, out, HF_RCODE_NOTIMP, 1, false, -1);

	/* Trailing garbage: FORMERR, header only, no OPT. */
	len = make_query(buf, true, 1232, 0, 0);
	buf[len++] = 0xff;
	assert_int_equal(parse(buf, len, &q, &out, &why), HF_QUERY_RESPOND);
	assert_int_equal(why, HF_QREASON_MALFORMED);
	assert_int_equal(out, 12);
	check_response(buf, out, HF_RCODE_FORMERR, 0, false, -1);
	assert_true(buf[2] & 0x01);  /* RD copied */

	/* Two questions, and none. */
	len = make_query(buf, false, 0, 0, 0);
	buf[5] = 2;
	assert_int_equal(parse(buf, len, &q, &out, &why), HF_QUERY_RESPOND);
	assert_int_equal(why, HF_QREASON_QDCOUNT);
	check_response(buf, out, HF_RCODE_FORMERR, 0, false, -1);
	len = make_query(buf, false, 0, 0, 0);
	buf[5] = 0;
	assert_int_equal(parse(buf, 12, &q, &out, &why), HF_QUERY_RESPOND);
	assert_int_equal(why, HF_QREASON_QDCOUNT);

	/* EDNS version 1: BADVERS (16) through the OPT extension. */
	len = make_query(buf, true, 1232, 0, 1);
	assert_int_equal(parse(buf, len, &q, &out, &why), HF_QUERY_RESPOND);
	assert_int_equal(why, HF_QREASON_BADVERS);
	check_response(buf, out, HF_RCODE_BADVERS, 1, true, -1);
	assert_int_equal(buf[3] & 0xf, 0);

	/* Class CH: REFUSED with EDE 21. */
	len = make_query(buf, true, 1232, 0, 0);
	buf[12 + 17 + 3] = HF_CLASS_CH;
	assert_int_equal(parse(buf, len, &q, &out, &why), HF_QUERY_RESPOND);
	assert_int_equal(why, HF_QREASON_CLASS);
	check_response(buf, out, HF_RCODE_REFUSED, 1, true, HF_EDE_NOT_SUPPORTED);

	/* AXFR over UDP: NOTIMP; qtype OPT: FORMERR. */
	len = make_query(buf, true, 1232, 0, 0);
	buf[12 + 17 + 1] = HF_TYPE_AXFR;
	assert_int_equal(parse(buf, len, &q, &out, &why), HF_QUERY_RESPOND);
	check_response(buf, out, HF_RCODE_NOTIMP, 1, true, HF_EDE_NOT_SUPPORTED);
	len = make_query(buf, true, 1232, 0, 0);
	buf[12 + 17 + 1] = HF_TYPE_OPT;
	assert_int_equal(parse(buf, len, &q, &out, &why), HF_QUERY_RESPOND);
	assert_int_equal(why, HF_QREASON_QTYPE);
	check_response(buf, out, HF_RCODE_FORMERR, 1, true, HF_EDE_NOT_SUPPORTED);
}

/* A query whose OPT carries a COOKIE option of olen octets, then optionally
 * a second option (padding). */
static uint16_t make_cookie_query(uint8_t *buf, uint16_t olen, bool padding)
{
	struct hf_build b;
	uint8_t cookie[64];
	memset(cookie, 0xa5, sizeof(cookie));
	hf_build_init(&b, buf, ROOM, 0x1234, HF_FLAG_RD);
	hf_build_question(&b, (const uint8_t *)"\3WwW\7ExAmPlE\3cOm", HF_TYPE_A, HF_CLASS_IN);
	hf_build_opt_begin(&b, 1232, 0, 0, HF_EDNS_FLAG_DO);
	assert_int_equal(hf_build_opt_option(&b, HF_EDNS_OPT_COOKIE, cookie, olen), 0);
	if (padding)
		assert_int_equal(hf_build_opt_option(&b, HF_EDNS_OPT_PADDING, cookie, 4), 0);
	hf_build_opt_end(&b);
	return (uint16_t)hf_build_finish(&b);
}

/* The parser's shortcut for a lone COOKIE option agrees with the full
 * option parser: client cookie alone or with an 8..32-octet server cookie
 * is a lookup; any other length is FORMERR; other shapes still parse. */
static void test_edns_cookie(void **state)
{
	(void)state;
	uint8_t buf[ROOM];
	struct hf_query q;
	uint16_t out, len;
	enum hf_query_reason why;

	static const uint16_t ok[] = { 8, 16, 24, 40 };
	for (unsigned i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		for (int pad = 0; pad <= 1; pad++) {
			len = make_cookie_query(buf, ok[i], pad);
			assert_int_equal(parse(buf, len, &q, &out, &why), HF_QUERY_LOOKUP);
			assert_true(q.edns);
			assert_int_equal(q.variant, HF_VARIANT_DO);
			assert_int_equal(q.udp_limit, 1232);
			assert_int_equal(q.question_end, 12 + 17 + 4);
			assert_memory_equal(q.qname, "\3www\7example\3com", 17);
		}
	}
	static const uint16_t bad[] = { 0, 7, 9, 15, 41, 48 };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (int pad = 0; pad <= 1; pad++) {
			len = make_cookie_query(buf, bad[i], pad);
			assert_int_equal(parse(buf, len, &q, &out, &why), HF_QUERY_RESPOND);
			assert_int_equal(why, HF_QREASON_MALFORMED);
			check_response(buf, out, HF_RCODE_FORMERR, 0, false, -1);
		}
	}
	/* An option running past the RDATA: FORMERR, whatever its code. */
	len = make_cookie_query(buf, 8, false);
	buf[len - 8 - 1] = 9;  /* option length 9 > the 8 octets left */
	assert_int_equal(parse(buf, len, &q, &out, &why), HF_QUERY_RESPOND);
	assert_int_equal(why, HF_QREASON_MALFORMED);
}

/* A pre-rendered answer for www.example.com A: two records, TTL 300, one EDE. */
struct rendered {
	uint8_t msg[2048];
	uint16_t ttl_off[2];
	uint8_t ede[64];
	struct hf_answer a;
};

static void render(struct rendered *r, unsigned n_txt)
{
	struct hf_build b;
	uint8_t name[HF_NAME_MAXLEN];
	uint8_t txt[256];

	hf_name_from_text("www.example.com", name);
	hf_build_init(&b, r->msg, sizeof(r->msg), 0, HF_FLAG_QR);
	hf_build_question(&b, name, HF_TYPE_A, HF_CLASS_IN);
	r->ttl_off[0] = (uint16_t)hf_build_rr(&b, 0, name, HF_TYPE_A, HF_CLASS_IN, 300,
					      (const uint8_t *)"\xc0\x00\x02\x01", 4);
	r->ttl_off[1] = (uint16_t)hf_build_rr(&b, 0, name, HF_TYPE_A, HF_CLASS_IN, 100,
					      (const uint8_t *)"\xc0\x00\x02\x02", 4);
	memset(txt, 'x', sizeof(txt));
	txt[0] = 255;
	for (unsigned i = 0; i < n_txt; i++)
		hf_build_rr(&b, HF_SECTION_ADDITIONAL, name, HF_TYPE_TXT, HF_CLASS_IN, 300, txt, 256);
	int len = hf_build_finish(&b);
	int ede_len = hf_ede_render(r->ede, sizeof(r->ede), HF_EDE_STALE_ANSWER, "stale");
	r->a = (struct hf_answer){
		.msg = r->msg, .msg_len = (uint16_t)len, .question_end = 12 + 17 + 4,
		.ttl_off = r->ttl_off, .n_ttl = 2, .ede = r->ede, .ede_len = (uint16_t)ede_len,
		.rcode = HF_RCODE_NOERROR, .ad = true, .age = 120,
	};
}

static void test_answer(void **state)
{
	(void)state;
	uint8_t buf[ROOM];
	struct hf_query q;
	struct hf_pkt pkt;
	struct hf_rr rr[8];
	uint16_t out;
	enum hf_query_reason why;
	struct rendered r;

	render(&r, 0);
	uint16_t len = make_query(buf, true, 1232, HF_EDNS_FLAG_DO, 0);
	assert_int_equal(parse(buf, len, &q, &out, &why), HF_QUERY_LOOKUP);
	int n = hf_query_answer(buf, ROOM, &q, &r.a, NULL);
	assert_true(n > 0);
	assert_int_equal(hf_pkt_parse(&pkt, buf, (size_t)n, rr, 8), 0);
	assert_int_equal(pkt.id, 0x1234);
	assert_true(pkt.flags & HF_FLAG_AD);  /* DO client */
	assert_true(pkt.flags & HF_FLAG_RD);
	assert_false(pkt.flags & HF_FLAG_TC);
	assert_memory_equal(buf + 12, "\3WwW\7ExAmPlE\3cOm", 17);  /* client's case */
	assert_int_equal(pkt.ancount, 2);
	assert_int_equal(rr[0].ttl, 180);  /* 300 - 120 */
	assert_int_equal(rr[1].ttl, 0);    /* 100 - 120, floored */
	assert_true(pkt.edns.present);
	assert_true(pkt.edns.flags & HF_EDNS_FLAG_DO);
	assert_int_equal(pkt.edns.udp_size, HF_QUERY_EDNS_MAX);
	const struct hf_edns_opt *o = hf_edns_find(&pkt.edns, HF_EDNS_OPT_EDE, NULL);
	assert_non_null(o);
	assert_int_equal(hf_wire_get_u16(buf + o->off), HF_EDE_STALE_ANSWER);

	/* No EDNS, no DO: no OPT and no AD. */
	len = make_query(buf, false, 0, 0, 0);
	assert_int_equal(parse(buf, len, &q, &out, &why), HF_QUERY_LOOKUP);
	n = hf_query_answer(buf, ROOM, &q, &r.a, NULL);
	assert_int_equal(hf_pkt_parse(&pkt, buf, (size_t)n, rr, 8), 0);
	assert_false(pkt.flags & HF_FLAG_AD);
	assert_false(pkt.edns.present);
	assert_int_equal(pkt.ancount, 2);
	/* ... unless it set AD itself (RFC 6840 §5.8). */
	len = make_query(buf, false, 0, 0, 0);
	buf[3] |= HF_FLAG_AD;
	parse(buf, len, &q, &out, &why);
	n = hf_query_answer(buf, ROOM, &q, &r.a, NULL);
	assert_true(buf[3] & HF_FLAG_AD);

	/* A question of another length is a miss, not a wrong answer. */
	r.a.question_end = 40;
	assert_int_equal(hf_query_answer(buf, ROOM, &q, &r.a, NULL), -EINVAL);
}

static void test_truncation(void **state)
{
	(void)state;
	uint8_t buf[ROOM];
	struct hf_query q;
	struct hf_pkt pkt;
	uint16_t out;
	enum hf_query_reason why;
	struct rendered r;

	render(&r, 3);  /* ~900 bytes: over 512, under 1232 */
	uint16_t len = make_query(buf, false, 0, 0, 0);
	parse(buf, len, &q, &out, &why);
	int n = hf_query_answer(buf, ROOM, &q, &r.a, NULL);
	assert_int_equal(hf_pkt_parse(&pkt, buf, (size_t)n, NULL, 0), 0);
	assert_true(pkt.flags & HF_FLAG_TC);
	assert_int_equal(pkt.ancount + pkt.nscount + pkt.arcount, 0);
	assert_int_equal(n, q.question_end);

	len = make_query(buf, true, 1232, 0, 0);
	parse(buf, len, &q, &out, &why);
	n = hf_query_answer(buf, ROOM, &q, &r.a, NULL);
	assert_true(n > 512);
	assert_int_equal(hf_pkt_parse(&pkt, buf, (size_t)n, NULL, 0), 0);
	assert_false(pkt.flags & HF_FLAG_TC);
	assert_int_equal(pkt.arcount, 4);  /* 3 TXT + OPT */
}

static void test_error_with_ede(void **state)
{
	(void)state;
	uint8_t buf[ROOM];
	struct hf_query q;
	uint16_t out;
	enum hf_query_reason why;
	struct hf_pkt pkt;

	uint16_t len = make_query(buf, true, 1232, 0, 0);
	parse(buf, len, &q, &out, &why);
	int n = hf_query_error(buf, ROOM, &q, HF_RCODE_SERVFAIL, HF_EDE_NOT_READY,
			       "control plane not running");
	check_response(buf, (uint16_t)n, HF_RCODE_SERVFAIL, 1, true, HF_EDE_NOT_READY);
	hf_pkt_parse(&pkt, buf, (size_t)n, NULL, 0);
	const struct hf_edns_opt *o = hf_edns_find(&pkt.edns, HF_EDNS_OPT_EDE, NULL);
	assert_memory_equal(buf + o->off + 2, "control plane not running", 25);
	assert_memory_equal(buf + 12, "\3WwW\7ExAmPlE\3cOm", 17);
}

/* The checksum sum built from the answer's precomputed one equals summing
 * the whole response, for every age, with and without EDNS, truncated too. */
static void test_answer_sum(void **state)
{
	(void)state;
	uint8_t buf[ROOM];
	struct hf_query q;
	uint16_t out;
	enum hf_query_reason why;
	struct rendered r;

	for (unsigned txt = 0; txt <= 3; txt += 3) {
		render(&r, txt);
		r.a.has_sum = true;
		r.a.sections_sum = hf_csum_at(r.msg + r.a.question_end,
					      r.a.msg_len - r.a.question_end, r.a.question_end);
		for (uint32_t age = 0; age < 400; age += 37) {
			for (int edns = 0; edns <= 1; edns++) {
				uint16_t len = make_query(buf, edns, 1232, HF_EDNS_FLAG_DO, 0);
				assert_int_equal(parse(buf, len, &q, &out, &why), HF_QUERY_LOOKUP);
				r.a.age = age;
				uint32_t sum = 0;
				int n = hf_query_answer(buf, ROOM, &q, &r.a, &sum);
				assert_true(n > 0);
				assert_int_equal(hf_csum_fold(sum), hf_csum_at(buf, (size_t)n, 0));
			}
		}
	}
	r.a.has_sum = false;
	uint32_t sum = 1;
	uint16_t len = make_query(buf, true, 1232, 0, 0);
	parse(buf, len, &q, &out, &why);
	hf_query_answer(buf, ROOM, &q, &r.a, &sum);
	assert_int_equal(sum, 0);  /* unknown: the caller sums the packet */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_drops),
		cmocka_unit_test(test_error_responses),
		cmocka_unit_test(test_edns_cookie),
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_error_with_ede),
		cmocka_unit_test(test_answer_sum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
