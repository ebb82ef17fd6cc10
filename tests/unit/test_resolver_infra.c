/* Infrastructure cache (control/resolver/infra.c): SRTT smoothing, timeout backoff, server choice with exploration. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "control/resolver/infra.h"

static union hf_addr A(const char *ip)
{
	union hf_addr a;
	memset(&a, 0, sizeof(a));
	a.in.sin_family = AF_INET;
	a.in.sin_port = htons(53);
	inet_pton(AF_INET, ip, &a.in.sin_addr);
	return a;
}

static void test_unknown_server_gets_configured_timeout(void **state)
{
	(void)state;
	struct hf_infra *in = hf_infra_create(64, 400);
	union hf_addr a = A("192.0.2.1");
	assert_int_equal(hf_infra_rto(in, &a, 1000), 400);
	hf_infra_destroy(in);
}

static void test_srtt_smoothing(void **state)
{
	(void)state;
	struct hf_infra *in = hf_infra_create(64, 400);
	union hf_addr a = A("192.0.2.1");
	hf_infra_rtt(in, &a, 100, 1000);
	/* First sample: srtt 100, rttvar 50, rto = 100 + 4*50. */
	assert_int_equal(hf_infra_rto(in, &a, 1000), 300);
	hf_infra_rtt(in, &a, 20, 1001);
	/* rttvar = (3*50 + 80)/4 = 57, srtt = (7*100 + 20)/8 = 90; rto = 90 + 228. */
	assert_int_equal(hf_infra_rto(in, &a, 1001), 318);
	for (int i = 0; i < 100; i++)
		hf_infra_rtt(in, &a, 1, 1002);
	/* Converges low but never below the floor. */
	assert_int_equal(hf_infra_rto(in, &a, 1002), HF_INFRA_RTO_MIN_MS);
	hf_infra_destroy(in);
}

static void test_timeouts_back_off_and_reset(void **state)
{
	(void)state;
	struct hf_infra *in = hf_infra_create(64, 400);
	union hf_addr a = A("192.0.2.1");
	hf_infra_timeout(in, &a, 1000);
	assert_int_equal(hf_infra_rto(in, &a, 1000), 800);
	/* Queries that time out together were sent with the same RTO: one doubling. */
	for (int i = 0; i < 10; i++)
		hf_infra_timeout(in, &a, 1000 + (uint64_t)i * 50);
	assert_int_equal(hf_infra_rto(in, &a, 1500), 800);
	/* One sent after the doubling times out after the new RTO: doubles again, up to the ceiling. */
	hf_infra_timeout(in, &a, 1800);
	assert_int_equal(hf_infra_rto(in, &a, 1800), 1600);
	hf_infra_timeout(in, &a, 3400);
	assert_int_equal(hf_infra_rto(in, &a, 3400), 3200);
	hf_infra_timeout(in, &a, 6600);
	assert_int_equal(hf_infra_rto(in, &a, 6600), HF_INFRA_RTO_MAX_MS);
	hf_infra_timeout(in, &a, 11600);
	assert_int_equal(hf_infra_rto(in, &a, 11600), HF_INFRA_RTO_MAX_MS);
	/* An answer brings it back to what was measured. */
	hf_infra_rtt(in, &a, 10, 11601);
	assert_int_equal(hf_infra_rto(in, &a, 11601), HF_INFRA_RTO_MIN_MS);
	/* ... and the next loss doubles at once. */
	hf_infra_timeout(in, &a, 11602);
	assert_int_equal(hf_infra_rto(in, &a, 11602), 2 * HF_INFRA_RTO_MIN_MS);
	/* Knowledge older than HF_INFRA_TTL_MS is dropped: the server is probed anew. */
	hf_infra_timeout(in, &a, 12000);
	assert_int_equal(hf_infra_rto(in, &a, 12000 + HF_INFRA_TTL_MS + 1), 400);
	hf_infra_destroy(in);
}

static void test_select_prefers_fast_but_explores_the_band(void **state)
{
	(void)state;
	struct hf_infra *in = hf_infra_create(64, 400);
	union hf_addr c[3] = { A("192.0.2.1"), A("192.0.2.2"), A("192.0.2.3") };
	hf_infra_rtt(in, &c[0], 10, 1000);     /* rto 50 */
	hf_infra_timeout(in, &c[1], 1000);     /* rto 800: outside the band */
	/* c[2] unknown: rto 400, within 50 + 400: explored now and then. */
	unsigned hits[3] = { 0, 0, 0 };
	for (uint32_t rnd = 0; rnd < 100; rnd++) {
		int i = hf_infra_select(in, c, 3, 1000, rnd);
		assert_true(i >= 0 && i < 3);
		hits[i]++;
	}
	assert_int_equal(hits[1], 0);
	assert_int_equal(hits[0], 50);
	assert_int_equal(hits[2], 50);
	/* With only the slow one left, it is still chosen. */
	assert_int_equal(hf_infra_select(in, &c[1], 1, 1000, 7), 0);
	assert_int_equal(hf_infra_select(in, c, 0, 1000, 7), -1);
	hf_infra_destroy(in);
}

static void test_flags_and_table_bound(void **state)
{
	(void)state;
	struct hf_infra *in = hf_infra_create(8, 400);
	union hf_addr a = A("192.0.2.1");
	hf_infra_set_flags(in, &a, HF_INFRA_NO_0X20, 1000);
	assert_int_equal(hf_infra_flags(in, &a, 1000), HF_INFRA_NO_0X20);
	char ip[32];
	/* Many more addresses than ways: the table never grows. */
	for (int i = 0; i < 1000; i++) {
		snprintf(ip, sizeof(ip), "198.51.%d.%d", i / 250, i % 250);
		union hf_addr b = A(ip);
		hf_infra_rtt(in, &b, 5, 2000 + (uint64_t)i);
	}
	assert_int_equal(in->n_sets * HF_INFRA_WAYS, 8);
	hf_infra_destroy(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_server_gets_configured_timeout),
		cmocka_unit_test(test_srtt_smoothing),
		cmocka_unit_test(test_timeouts_back_off_and_reset),
		cmocka_unit_test(test_select_prefers_fast_but_explores_the_band),
		cmocka_unit_test(test_flags_and_table_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
