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

/* ---- Validation verdicts on cached data (hf_cache_set_sec) ---- */

static void test_set_sec_on_identical_rrset(void **state)
{
	(void)state;
	struct hf_cache *c = hf_cache_create(1 << 20);
	struct hf_rrset *a = rrset_a("www.a.test.", 300, "192.0.2.1");
	assert_int_equal(hf_cache_put_rrset(c, a, HF_RANK_ANSWER, 0), 0);
	struct hf_rrset *s = hf_cache_get_rrset(c, N("www.a.test."), HF_TYPE_A, HF_CLASS_IN, 1);
	assert_int_equal(s->sec, HF_SEC_UNCHECKED);
	free(s);

	/* Other data under the same key (the cache was refreshed meanwhile): left alone. */
	struct hf_rrset *other = rrset_a("www.a.test.", 300, "192.0.2.99");
	hf_cache_set_sec(c, HF_NEG_NONE, N("www.a.test."), HF_TYPE_A, other, HF_SEC_SECURE, 2);
	s = hf_cache_get_rrset(c, N("www.a.test."), HF_TYPE_A, HF_CLASS_IN, 3);
	assert_int_equal(s->sec, HF_SEC_UNCHECKED);
	free(s);
	/* A different TTL is the same data (a copy from the cache has its time left as TTL). */
	s = hf_cache_get_rrset(c, N("www.a.test."), HF_TYPE_A, HF_CLASS_IN, 10);
	assert_int_equal(s->ttl, 290);
	hf_cache_set_sec(c, HF_NEG_NONE, s->owner, s->type, s, HF_SEC_SECURE, 10);
	free(s);
	s = hf_cache_get_rrset(c, N("WWW.A.TEST."), HF_TYPE_A, HF_CLASS_IN, 11);
	assert_int_equal(s->sec, HF_SEC_SECURE);
	free(s);
	/* The ranked lookup and the delegation lookup carry it too. */
	s = hf_cache_get_rrset_ranked(c, N("www.a.test."), HF_TYPE_A, HF_CLASS_IN, 11, HF_RANK_ANSWER);
	assert_int_equal(s->sec, HF_SEC_SECURE);
	free(s);

	/* A later verdict replaces it (a bogus copy is refetched, not kept as secure). */
	hf_cache_set_sec(c, HF_NEG_NONE, a->owner, a->type, a, HF_SEC_BOGUS, 12);
	s = hf_cache_get_rrset(c, N("www.a.test."), HF_TYPE_A, HF_CLASS_IN, 12);
	assert_int_equal(s->sec, HF_SEC_BOGUS);
	free(s);

	/* Not cached at all, or expired: nothing happens (and nothing is created). */
	struct hf_rrset *nx = rrset_a("nx.a.test.", 300, "192.0.2.1");
	hf_cache_set_sec(c, HF_NEG_NONE, nx->owner, nx->type, nx, HF_SEC_SECURE, 12);
	assert_null(hf_cache_get_rrset(c, N("nx.a.test."), HF_TYPE_A, HF_CLASS_IN, 12));
	hf_cache_set_sec(c, HF_NEG_NONE, a->owner, a->type, a, HF_SEC_SECURE, 300);
	assert_null(hf_cache_get_rrset(c, N("www.a.test."), HF_TYPE_A, HF_CLASS_IN, 300));
	free(nx);
	free(other);
	free(a);
	hf_cache_destroy(c);
}

static void test_set_sec_compares_rrsigs_too(void **state)
{
	(void)state;
	struct hf_cache *c = hf_cache_create(1 << 20);
	/* The same record with an RRSIG appended: a different copy. */
	struct hf_rrset *a = rrset_a("www.a.test.", 300, "192.0.2.1");
	struct hf_rrset *signed_a = malloc(hf_rrset_size(a) + 2 + 30);
	memcpy(signed_a, a, hf_rrset_size(a));
	uint16_t l = 30;
	memcpy(signed_a->data + signed_a->len, &l, 2);
	memset(signed_a->data + signed_a->len + 2, 0x11, 30);
	signed_a->len += 32;
	signed_a->n_sig = 1;
	assert_int_equal(hf_cache_put_rrset(c, signed_a, HF_RANK_ANSWER, 0), 0);
	hf_cache_set_sec(c, HF_NEG_NONE, a->owner, a->type, a, HF_SEC_SECURE, 1);
	struct hf_rrset *s = hf_cache_get_rrset(c, N("www.a.test."), HF_TYPE_A, HF_CLASS_IN, 1);
	assert_int_equal(s->sec, HF_SEC_UNCHECKED);
	assert_int_equal(s->n_sig, 1);
	free(s);
	hf_cache_set_sec(c, HF_NEG_NONE, signed_a->owner, signed_a->type, signed_a, HF_SEC_SECURE, 1);
	s = hf_cache_get_rrset(c, N("www.a.test."), HF_TYPE_A, HF_CLASS_IN, 1);
	assert_int_equal(s->sec, HF_SEC_SECURE);
	free(s);
	free(a);
	free(signed_a);
	hf_cache_destroy(c);
}

static void test_set_sec_on_negative_entries(void **state)
{
	(void)state;
	struct hf_cache *c = hf_cache_create(1 << 20);
	struct hf_rrset *soa = rrset_soa("a.test.", 300, 60), *got = NULL;
	assert_int_equal(hf_cache_put_neg(c, HF_NEG_NXDOMAIN, N("nx.a.test."), HF_TYPE_A, HF_CLASS_IN, soa, 0), 0);
	assert_int_equal(hf_cache_put_neg(c, HF_NEG_NODATA, N("host.a.test."), HF_TYPE_MX, HF_CLASS_IN, soa, 0), 0);

	/* The verdict on the NXDOMAIN lives in its SOA copy, whatever type is asked later. */
	hf_cache_set_sec(c, HF_NEG_NXDOMAIN, N("nx.a.test."), HF_TYPE_A, soa, HF_SEC_SECURE, 1);
	assert_int_equal(hf_cache_get_neg(c, N("nx.a.test."), HF_TYPE_TXT, HF_CLASS_IN, 2, &got), HF_NEG_NXDOMAIN);
	assert_int_equal(got->sec, HF_SEC_SECURE);
	free(got);
	/* ...and not on the NODATA entry, which has its own. */
	assert_int_equal(hf_cache_get_neg(c, N("host.a.test."), HF_TYPE_MX, HF_CLASS_IN, 2, &got), HF_NEG_NODATA);
	assert_int_equal(got->sec, HF_SEC_UNCHECKED);
	free(got);
	/* The kind must match: an NXDOMAIN verdict does not land on the NODATA entry and back. */
	hf_cache_set_sec(c, HF_NEG_NXDOMAIN, N("host.a.test."), HF_TYPE_MX, soa, HF_SEC_SECURE, 2);
	hf_cache_set_sec(c, HF_NEG_NONE, N("host.a.test."), HF_TYPE_MX, soa, HF_SEC_SECURE, 2);
	assert_int_equal(hf_cache_get_neg(c, N("host.a.test."), HF_TYPE_MX, HF_CLASS_IN, 2, &got), HF_NEG_NODATA);
	assert_int_equal(got->sec, HF_SEC_UNCHECKED);
	free(got);
	hf_cache_set_sec(c, HF_NEG_NODATA, N("host.a.test."), HF_TYPE_MX, soa, HF_SEC_INSECURE, 2);
	assert_int_equal(hf_cache_get_neg(c, N("host.a.test."), HF_TYPE_MX, HF_CLASS_IN, 3, &got), HF_NEG_NODATA);
	assert_int_equal(got->sec, HF_SEC_INSECURE);
	free(got);
	/* A NODATA verdict for another type of the name: no entry, nothing set. */
	hf_cache_set_sec(c, HF_NEG_NODATA, N("host.a.test."), HF_TYPE_A, soa, HF_SEC_SECURE, 3);
	assert_int_equal(hf_cache_get_neg(c, N("host.a.test."), HF_TYPE_A, HF_CLASS_IN, 3, &got), HF_NEG_NONE);
	/* A different SOA (new serial): the verdict was on other data. */
	struct hf_rrset *soa2 = rrset_soa("a.test.", 300, 61);
	hf_cache_set_sec(c, HF_NEG_NXDOMAIN, N("nx.a.test."), HF_TYPE_A, soa2, HF_SEC_BOGUS, 3);
	assert_int_equal(hf_cache_get_neg(c, N("nx.a.test."), HF_TYPE_A, HF_CLASS_IN, 3, &got), HF_NEG_NXDOMAIN);
	assert_int_equal(got->sec, HF_SEC_SECURE);
	free(got);
	free(soa2);
	free(soa);
	hf_cache_destroy(c);
}

static void test_replaced_entry_does_not_inherit_sec(void **state)
{
	(void)state;
	struct hf_cache *c = hf_cache_create(1 << 20);
	struct hf_rrset *a = rrset_a("www.a.test.", 300, "192.0.2.1"), *s;
	assert_int_equal(hf_cache_put_rrset(c, a, HF_RANK_ANSWER, 0), 0);
	hf_cache_set_sec(c, HF_NEG_NONE, a->owner, a->type, a, HF_SEC_SECURE, 1);
	/* New data of the same rank replaces the entry: unchecked again. */
	struct hf_rrset *b = rrset_a("www.a.test.", 300, "192.0.2.2");
	assert_int_equal(hf_cache_put_rrset(c, b, HF_RANK_ANSWER, 5), 0);
	s = hf_cache_get_rrset(c, N("www.a.test."), HF_TYPE_A, HF_CLASS_IN, 6);
	assert_int_equal(s->sec, HF_SEC_UNCHECKED);
	assert_int_equal(hf_rrset_rdata(s, 0, &(uint16_t){ 0 })[3], 2);
	free(s);
	/* Even the very same data stored again starts unchecked (its validation is redone). */
	hf_cache_set_sec(c, HF_NEG_NONE, b->owner, b->type, b, HF_SEC_SECURE, 6);
	assert_int_equal(hf_cache_put_rrset(c, b, HF_RANK_ANSWER, 7), 0);
	s = hf_cache_get_rrset(c, N("www.a.test."), HF_TYPE_A, HF_CLASS_IN, 8);
	assert_int_equal(s->sec, HF_SEC_UNCHECKED);
	free(s);

	/* A negative entry replaced by a new negative answer: no verdict carried over. */
	struct hf_rrset *soa = rrset_soa("a.test.", 300, 60), *got = NULL;
	assert_int_equal(hf_cache_put_neg(c, HF_NEG_NODATA, N("host.a.test."), HF_TYPE_MX, HF_CLASS_IN, soa, 0), 0);
	hf_cache_set_sec(c, HF_NEG_NODATA, N("host.a.test."), HF_TYPE_MX, soa, HF_SEC_SECURE, 1);
	assert_int_equal(hf_cache_put_neg(c, HF_NEG_NODATA, N("host.a.test."), HF_TYPE_MX, HF_CLASS_IN, soa, 10), 0);
	assert_int_equal(hf_cache_get_neg(c, N("host.a.test."), HF_TYPE_MX, HF_CLASS_IN, 11, &got), HF_NEG_NODATA);
	assert_int_equal(got->sec, HF_SEC_UNCHECKED);
	free(got);
	/* ...nor when the name gets data of that type (the NODATA entry is replaced). */
	hf_cache_set_sec(c, HF_NEG_NODATA, N("host.a.test."), HF_TYPE_MX, soa, HF_SEC_SECURE, 11);
	struct hf_rrset *mx = rrset_name("host.a.test.", HF_TYPE_MX, 300, "mx.a.test.");
	assert_int_equal(hf_cache_put_rrset(c, mx, HF_RANK_ANSWER, 12), 0);
	s = hf_cache_get_rrset(c, N("host.a.test."), HF_TYPE_MX, HF_CLASS_IN, 12);
	assert_non_null(s);
	assert_int_equal(s->sec, HF_SEC_UNCHECKED);
	free(s);
	free(mx);
	free(soa);
	free(a);
	free(b);
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
		cmocka_unit_test(test_set_sec_on_identical_rrset),
		cmocka_unit_test(test_set_sec_compares_rrsigs_too),
		cmocka_unit_test(test_set_sec_on_negative_entries),
		cmocka_unit_test(test_replaced_entry_does_not_inherit_sec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
