#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "include/holdfast/canon.h"
#include "include/holdfast/dns.h"
#include "include/holdfast/errcode.h"
#include "tests/unit/hex.h"

static void test_names_lowered_by_type(void **state)
{
	(void)state;
	uint8_t out[64];
	static const uint8_t mx[] = "\0\12\4MAIL\7Example\3COM";
	static const uint8_t nsec[] = "\4Next\3COM\0\0\1\x40";
	static const uint8_t txt[] = "\5HeLLo";

	assert_int_equal(hf_rdata_to_canonical(HF_TYPE_MX, mx, sizeof(mx), out, sizeof(out)),
			 sizeof(mx));
	assert_memory_equal(out, "\0\12\4mail\7example\3com", sizeof(mx));
	/* RFC 6840 §5.1: NSEC's next name keeps its case. */
	assert_int_equal(hf_rdata_to_canonical(HF_TYPE_NSEC, nsec, sizeof(nsec) - 1, out, sizeof(out)),
			 sizeof(nsec) - 1);
	assert_memory_equal(out, nsec, sizeof(nsec) - 1);
	/* Text is data, not a name. */
	hf_rdata_to_canonical(HF_TYPE_TXT, txt, sizeof(txt) - 1, out, sizeof(out));
	assert_memory_equal(out, txt, sizeof(txt) - 1);
	/* RRSIG signer name, after 18 fixed octets, is lowered; the signature is not. */
	uint8_t sig[18 + 13 + 4];
	memset(sig, 'Q', 18);
	memcpy(sig + 18, "\7EXAMPLE\3Com", 13);
	memcpy(sig + 31, "ABCD", 4);
	assert_int_equal(hf_rdata_to_canonical(HF_TYPE_RRSIG, sig, sizeof(sig), out, sizeof(out)),
			 sizeof(sig));
	assert_memory_equal(out, "QQQQQQQQQQQQQQQQQQ\7example\3com\0ABCD", sizeof(sig));
	/* SOA: both names. */
	uint8_t soa[64];
	int soalen = hex_decode("024e53 00 024d58 00 0000000100000002000000030000000400000005", soa, sizeof(soa));
	assert_int_equal(hf_rdata_to_canonical(HF_TYPE_SOA, soa, (uint16_t)soalen, out, sizeof(out)), soalen);
	assert_memory_equal(out, "\2ns\0\2mx\0", 8);
}

static void test_errors(void **state)
{
	(void)state;
	uint8_t out[8];
	assert_int_equal(hf_rdata_to_canonical(HF_TYPE_NS, (const uint8_t *)"\5ab", 3, out, sizeof(out)),
			 HF_ERDATA);
	assert_int_equal(hf_rdata_to_canonical(HF_TYPE_MX, (const uint8_t *)"\0", 1, out, sizeof(out)),
			 HF_ERDATA);
	assert_int_equal(hf_rdata_to_canonical(HF_TYPE_A, (const uint8_t *)"123456789", 9, out, sizeof(out)),
			 HF_ESPACE);
}

static void test_rrset_order_and_dedup(void **state)
{
	(void)state;
	struct hf_rdata_ref rrs[] = {
		{ (const uint8_t *)"\x02\x01", 2 },
		{ (const uint8_t *)"\x01\xff", 2 },
		{ (const uint8_t *)"\x01", 1 },      /* prefix sorts first */
		{ (const uint8_t *)"\x01\x00", 2 },
		{ (const uint8_t *)"\x02\x01", 2 },  /* duplicate */
		{ (const uint8_t *)"", 0 },
	};
	size_t n = hf_rrset_canonical_order(rrs, HF_ARRAY_SIZE(rrs));
	assert_int_equal(n, 5);
	assert_int_equal(rrs[0].len, 0);
	assert_int_equal(rrs[1].len, 1);
	assert_memory_equal(rrs[2].rdata, "\x01\x00", 2);
	assert_memory_equal(rrs[3].rdata, "\x01\xff", 2);
	assert_memory_equal(rrs[4].rdata, "\x02\x01", 2);
	for (size_t i = 1; i < n; i++)
		assert_true(hf_rdata_cmp_canonical(&rrs[i - 1], &rrs[i]) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_lowered_by_type),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_rrset_order_and_dedup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
