/* RRset cache (control/resolver/cache.c): delegation selection, TTLs, negative and failure entries, trust, memory bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "control/resolver/cache.h"
#include "tests/unit/resolver_pkt.h"

static void put(struct hf_cache *c, struct hf_rrset *s, enum hf_cache_rank rank, uint64_t now)
{
	assert_int_equal(hf_cache_put_rrset(c, s, rank, now), 0);
	free(s);
}

static void test_delegation_closest_enclosing_cut(void **state)
{
	(void)state;
	struct hf_cache *c = hf_cache_create(1 << 20);
	put(c, rrset_name(".", HF_TYPE_NS, 3600, "a.root-servers.test."), HF_RANK_GLUE, 100);
	put(c, rrset_name("de.", HF_TYPE_NS, 600, "a.nic.de."), HF_RANK_GLUE, 100);
	put(c, rrset_name("c.de.", HF_TYPE_NS, 60, "ns2.a.test."), HF_RANK_GLUE, 100);
	/* An unrelated deeper cut must not be picked. */
	put(c, rrset_name("x.unsigned.de.", HF_TYPE_NS, 600, "ns.x."), HF_RANK_GLUE, 100);

	struct hf_rrset *ns = hf_cache_find_ns(c, N("www.host.C.DE."), HF_CLASS_IN, 110);
	assert_non_null(ns);
	assert_true(hf_name_equal(ns->owner, N("c.de.")));
	assert_int_equal(ns->ttl, 50);  /* time left, not the original TTL */
	free(ns);

	ns = hf_cache_find_ns(c, N("unsigned.de."), HF_CLASS_IN, 110);
	assert_true(hf_name_equal(ns->owner, N("de.")));
	free(ns);

	/* The cut itself is its own closest delegation (a DS caller passes the parent). */
	ns = hf_cache_find_ns(c, N("c.de."), HF_CLASS_IN, 110);
	assert_true(hf_name_equal(ns->owner, N("c.de.")));
	free(ns);

	/* Once c.de.'s NS expires, de. is the closest cut; then the root. */
	ns = hf_cache_find_ns(c, N("host.c.de."), HF_CLASS_IN, 160);
	assert_true(hf_name_equal(ns->owner, N("de.")));
	free(ns);
	ns = hf_cache_find_ns(c, N("host.c.de."), HF_CLASS_IN, 100 + 601);
	assert_true(hf_name_equal(ns->owner, N(".")));
	free(ns);
	assert_null(hf_cache_find_ns(c, N("host.c.de."), HF_CLASS_IN, 100 + 3601));
	hf_cache_destroy(c);
}

static void test_ttl_and_rank(void **state)
{
	(void)state;
	struct hf_cache *c = hf_cache_create(1 << 20);
	put(c, rrset_a("ns.a.test.", 300, "192.0.2.1"), HF_RANK_ANSWER, 0);
	/* Glue for the same name does not replace an authoritative answer (RFC 2181 §5.4.1). */
	put(c, rrset_a("ns.a.test.", 300, "198.51.100.1"), HF_RANK_GLUE, 10);
	struct hf_rrset *s = hf_cache_get_rrset(c, N("NS.A.TEST."), HF_TYPE_A, HF_CLASS_IN, 10);
	assert_non_null(s);
	uint16_t len;
	const uint8_t *rd = hf_rrset_rdata(s, 0, &len);
	assert_int_equal(rd[0], 192);
	assert_int_equal(s->ttl, 290);
	free(s);
	/* Glue-ranked data is not an answer for clients. */
	put(c, rrset_a("glue.a.test.", 300, "192.0.2.7"), HF_RANK_GLUE, 10);
	assert_null(hf_cache_get_rrset_ranked(c, N("glue.a.test."), HF_TYPE_A, HF_CLASS_IN, 10, HF_RANK_AUTHORITY));
	s = hf_cache_get_rrset_ranked(c, N("glue.a.test."), HF_TYPE_A, HF_CLASS_IN, 10, HF_RANK_GLUE);
	assert_non_null(s);
	free(s);
	/* After expiry anything may take its place. */
	assert_null(hf_cache_get_rrset(c, N("ns.a.test."), HF_TYPE_A, HF_CLASS_IN, 300));
	put(c, rrset_a("ns.a.test.", 300, "198.51.100.1"), HF_RANK_GLUE, 301);
	s = hf_cache_get_rrset(c, N("ns.a.test."), HF_TYPE_A, HF_CLASS_IN, 302);
	rd = hf_rrset_rdata(s, 0, &len);
	assert_int_equal(rd[0], 198);
	free(s);
	/* TTL 0 is never cached. */
	put(c, rrset_a("zero.a.test.", 0, "192.0.2.9"), HF_RANK_ANSWER, 0);
	assert_null(hf_cache_get_rrset(c, N("zero.a.test."), HF_TYPE_A, HF_CLASS_IN, 0));
	hf_cache_destroy(c);
}

static void test_negative_ttl_is_min_of_soa_ttl_and_minimum(void **state)
{
	(void)state;
	struct hf_cache *c = hf_cache_create(1 << 20);
	struct hf_rrset *soa = rrset_soa("a.test.", 300, 60), *got = NULL;
	assert_int_equal(hf_soa_neg_ttl(soa), 60);
	assert_int_equal(hf_cache_put_neg(c, HF_NEG_NXDOMAIN, N("nx.a.test."), HF_TYPE_A, HF_CLASS_IN, soa, 0), 0);
	assert_int_equal(hf_cache_put_neg(c, HF_NEG_NODATA, N("host.a.test."), HF_TYPE_MX, HF_CLASS_IN, soa, 0), 0);
	free(soa);
	/* NXDOMAIN covers every type; NODATA only its own. */
	assert_int_equal(hf_cache_get_neg(c, N("nx.a.test."), HF_TYPE_AAAA, HF_CLASS_IN, 10, &got), HF_NEG_NXDOMAIN);
	assert_int_equal(got->ttl, 50);
	free(got);
	assert_int_equal(hf_cache_get_neg(c, N("host.a.test."), HF_TYPE_MX, HF_CLASS_IN, 10, &got), HF_NEG_NODATA);
	free(got);
	assert_int_equal(hf_cache_get_neg(c, N("host.a.test."), HF_TYPE_A, HF_CLASS_IN, 10, &got), HF_NEG_NONE);
	assert_null(got);
	assert_int_equal(hf_cache_get_neg(c, N("nx.a.test."), HF_TYPE_A, HF_CLASS_IN, 60, &got), HF_NEG_NONE);

	soa = rrset_soa("a.test.", 20, 600);
	assert_int_equal(hf_soa_neg_ttl(soa), 20);
	free(soa);
	hf_cache_destroy(c);
}

static void test_cached_failure(void **state)
{
	(void)state;
	struct hf_cache *c = hf_cache_create(1 << 20);
	uint16_t ede = 0;
	char text[64];
	assert_int_equal(hf_cache_put_fail(c, N("nic.de."), HF_TYPE_A, HF_CLASS_IN, 22, "no server of de.", 5, 100), 0);
	assert_int_equal(hf_cache_get_fail(c, N("nic.de."), HF_TYPE_A, HF_CLASS_IN, 104, &ede, text, sizeof(text)), 1);
	assert_int_equal(ede, 22);
	assert_string_equal(text, "no server of de.");
	assert_int_equal(hf_cache_get_fail(c, N("nic.de."), HF_TYPE_AAAA, HF_CLASS_IN, 104, &ede, text, sizeof(text)), 0);
	assert_int_equal(hf_cache_get_fail(c, N("nic.de."), HF_TYPE_A, HF_CLASS_IN, 105, &ede, text, sizeof(text)), 0);
	hf_cache_destroy(c);
}

static void test_memory_bound_evicts_least_recent(void **state)
{
	(void)state;
	struct hf_cache *c = hf_cache_create(16 * 1024);
	char name[64];
	put(c, rrset_a("keep.test.", 3600, "192.0.2.1"), HF_RANK_ANSWER, 0);
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "n%d.test.", i);
		put(c, rrset_a(name, 3600, "192.0.2.2"), HF_RANK_ANSWER, 0);
		/* Touch keep.test. so it stays the most recently used. */
		free(hf_cache_get_rrset(c, N("keep.test."), HF_TYPE_A, HF_CLASS_IN, 0));
		assert_true(hf_cache_bytes(c) <= 16 * 1024);
	}
	struct hf_rrset *s = hf_cache_get_rrset(c, N("keep.test."), HF_TYPE_A, HF_CLASS_IN, 0);
	assert_non_null(s);
	free(s);
	assert_null(hf_cache_get_rrset(c, N("n0.test."), HF_TYPE_A, HF_CLASS_IN, 0));
	assert_non_null(s = hf_cache_get_rrset(c, N("n199.test."), HF_TYPE_A, HF_CLASS_IN, 0));
	free(s);
	hf_cache_destroy(c);
}

static void test_flush_below_name(void **state)
{
	(void)state;
	struct hf_cache *c = hf_cache_create(1 << 20);
	put(c, rrset_a("host.c.de.", 300, "192.0.2.5"), HF_RANK_ANSWER, 0);
	put(c, rrset_name("c.de.", HF_TYPE_NS, 300, "ns2.a.test."), HF_RANK_GLUE, 0);
	put(c, rrset_a("host.a.test.", 300, "192.0.2.1"), HF_RANK_ANSWER, 0);
	hf_cache_put_fail(c, N("x.c.de."), HF_TYPE_A, HF_CLASS_IN, 22, "x", 5, 0);
	hf_cache_flush(c, N("c.de."));
	assert_null(hf_cache_get_rrset(c, N("host.c.de."), HF_TYPE_A, HF_CLASS_IN, 1));
	assert_null(hf_cache_find_ns(c, N("c.de."), HF_CLASS_IN, 1));
	uint16_t ede;
	char t[8];
	assert_int_equal(hf_cache_get_fail(c, N("x.c.de."), HF_TYPE_A, HF_CLASS_IN, 1, &ede, t, sizeof(t)), 0);
	struct hf_rrset *s = hf_cache_get_rrset(c, N("host.a.test."), HF_TYPE_A, HF_CLASS_IN, 1);
	assert_non_null(s);
	free(s);
	hf_cache_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delegation_closest_enclosing_cut),
		cmocka_unit_test(test_ttl_and_rank),
		cmocka_unit_test(test_negative_ttl_is_min_of_soa_ttl_and_minimum),
		cmocka_unit_test(test_cached_failure),
		cmocka_unit_test(test_memory_bound_evicts_least_recent),
		cmocka_unit_test(test_flush_below_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
