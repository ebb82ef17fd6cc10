/* Response matching (control/resolver/match.c) and the upstream address policy (addr.c). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "control/resolver/match.h"
#include "tests/unit/resolver_pkt.h"

static union hf_addr A(const char *ip, uint16_t port)
{
	union hf_addr a;
	memset(&a, 0, sizeof(a));
	a.in.sin_family = AF_INET;
	a.in.sin_port = htons(port);
	inet_pton(AF_INET, ip, &a.in.sin_addr);
	return a;
}

static struct hf_match_key key(void)
{
	struct hf_match_key k;
	memset(&k, 0, sizeof(k));
	k.to = A("127.53.1.3", 53);
	k.id = 0x1234;
	k.qtype = HF_TYPE_A;
	k.qclass = HF_CLASS_IN;
	memcpy(k.qname, N("hOsT.c.De."), hf_name_len(N("hOsT.c.De.")));  /* as sent, 0x20 */
	return k;
}

static enum hf_match try(const struct hf_match_key *k, const union hf_addr *from, uint16_t id,
			 uint16_t flags, const char *qname, uint16_t qtype)
{
	struct test_msg m;
	struct hf_pkt pkt;
	struct hf_rr rr[8];
	msg_begin(&m, id, flags, qname, qtype);
	int len = hf_build_finish(&m.b);
	return hf_match_response(k, from, m.wire, (size_t)len, &pkt, rr, 8);
}

static void test_match(void **state)
{
	(void)state;
	struct hf_match_key k = key();
	union hf_addr from = A("127.53.1.3", 53);
	assert_int_equal(try(&k, &from, 0x1234, HF_FLAG_QR, "hOsT.c.De.", HF_TYPE_A), HF_MATCH_OK);
	/* Over TCP the connection is the address check. */
	assert_int_equal(try(&k, NULL, 0x1234, HF_FLAG_QR, "hOsT.c.De.", HF_TYPE_A), HF_MATCH_OK);
}

static void test_wrong_sender(void **state)
{
	(void)state;
	struct hf_match_key k = key();
	union hf_addr other = A("127.53.1.4", 53), port = A("127.53.1.3", 5353);
	assert_int_equal(try(&k, &other, 0x1234, HF_FLAG_QR, "hOsT.c.De.", HF_TYPE_A), HF_MATCH_ADDR);
	assert_int_equal(try(&k, &port, 0x1234, HF_FLAG_QR, "hOsT.c.De.", HF_TYPE_A), HF_MATCH_PORT);
}

static void test_wrong_id_question_case(void **state)
{
	(void)state;
	struct hf_match_key k = key();
	union hf_addr from = A("127.53.1.3", 53);
	assert_int_equal(try(&k, &from, 0x1235, HF_FLAG_QR, "hOsT.c.De.", HF_TYPE_A), HF_MATCH_ID);
	assert_int_equal(try(&k, &from, 0x1234, HF_FLAG_QR, "other.c.de.", HF_TYPE_A), HF_MATCH_QUESTION);
	assert_int_equal(try(&k, &from, 0x1234, HF_FLAG_QR, "hOsT.c.De.", HF_TYPE_AAAA), HF_MATCH_QUESTION);
	/* Same name, other case: a guess at the ID that missed the 0x20 bits. */
	assert_int_equal(try(&k, &from, 0x1234, HF_FLAG_QR, "host.c.de.", HF_TYPE_A), HF_MATCH_CASE);
	/* A query (QR clear) is no answer. */
	assert_int_equal(try(&k, &from, 0x1234, 0, "hOsT.c.De.", HF_TYPE_A), HF_MATCH_NOT_RESPONSE);
	/* Garbage. */
	struct hf_pkt pkt;
	uint8_t junk[5] = { 0x12, 0x34, 0x80, 0, 0 };
	assert_int_equal(hf_match_response(&k, &from, junk, sizeof(junk), &pkt, NULL, 0), HF_MATCH_MALFORMED);
}

static void test_address_policy(void **state)
{
	(void)state;
	union hf_addr lo = A("127.53.0.1", 53), any = A("0.0.0.0", 53), mc = A("224.0.0.251", 53),
		      bc = A("255.255.255.255", 53), ok = A("192.0.2.1", 53);
	assert_false(hf_addr_allowed(&lo, false, NULL, 0));
	assert_true(hf_addr_allowed(&lo, true, NULL, 0));
	assert_false(hf_addr_allowed(&any, true, NULL, 0));
	assert_false(hf_addr_allowed(&mc, true, NULL, 0));
	assert_false(hf_addr_allowed(&bc, true, NULL, 0));
	assert_true(hf_addr_allowed(&ok, false, NULL, 0));
	struct sockaddr_storage own;
	memset(&own, 0, sizeof(own));
	memcpy(&own, &ok.in, sizeof(ok.in));
	assert_false(hf_addr_allowed(&ok, false, &own, 1));

	union hf_addr v6;
	memset(&v6, 0, sizeof(v6));
	v6.in6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::1", &v6.in6.sin6_addr);
	assert_false(hf_addr_allowed(&v6, false, NULL, 0));
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &v6.in6.sin6_addr);
	assert_false(hf_addr_allowed(&v6, false, NULL, 0));
	inet_pton(AF_INET6, "ff02::1", &v6.in6.sin6_addr);
	assert_false(hf_addr_allowed(&v6, true, NULL, 0));
	inet_pton(AF_INET6, "2001:db8::1", &v6.in6.sin6_addr);
	assert_true(hf_addr_allowed(&v6, false, NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_wrong_sender),
		cmocka_unit_test(test_wrong_id_question_case),
		cmocka_unit_test(test_address_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
