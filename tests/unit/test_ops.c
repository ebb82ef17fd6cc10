/*
 * The ops ring's consumer (dataplane/ops.c): purges from the control plane
 * applied to the answer cache. The test plays the control plane on a real
 * shared-memory region (no hugepages, no EAL: the region is POSIX shm) and
 * checks the cache entries that survive each operation.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <urcu/urcu-qsbr.h>

#include "dataplane/cache.h"
#include "dataplane/ops.h"
#include "include/holdfast/build.h"
#include "include/holdfast/defines.h"
#include "include/holdfast/dns.h"
#include "include/holdfast/msg.h"
#include "include/holdfast/name.h"
#include "include/holdfast/ring.h"
#include "include/holdfast/shm.h"
#include "tests/unit/shm_pair.h"

#define NOW 1000000u

static struct shm_pair shm;
static struct hf_cache *cache;

/* ---- the cache's contents ---- */

/* Inserts an answer (one A record) for name/qtype/variant. */
static void put(const char *name, uint16_t qtype, uint8_t variant)
{
	_Alignas(8) uint8_t payload[1024];
	uint8_t wire[HF_NAME_MAXLEN], msg[512];
	uint16_t ttl_off[1];
	struct hf_build b;
	struct hf_fill_view v;
	const char *why = NULL;

	assert_true(hf_name_from_text(name, wire) > 0);
	hf_name_lower(wire);
	assert_int_equal(hf_build_init(&b, msg, sizeof(msg), 0, HF_FLAG_QR | HF_FLAG_RA), 0);
	assert_int_equal(hf_build_question(&b, wire, qtype, HF_CLASS_IN), 0);
	int off = hf_build_rr(&b, HF_SECTION_ANSWER, wire, HF_TYPE_A, HF_CLASS_IN, 300,
			      (const uint8_t *)"\xc0\x00\x02\x01", 4);
	assert_true(off > 0);
	ttl_off[0] = (uint16_t)off;
	int msg_len = hf_build_finish(&b);
	assert_true(msg_len > 0);
	struct hf_msg_fill hdr = {
		.req_id = 0, .ttl = 300, .msg_len = (uint16_t)msg_len, .variant = variant, .n_ttl = 1,
	};
	int len = hf_msg_fill_encode(payload, sizeof(payload), &hdr, ttl_off, NULL, msg);
	assert_true(len > 0);
	assert_int_equal(hf_msg_fill_decode(payload, (size_t)len, &v, &why), 0);
	assert_int_equal(hf_cache_insert(cache, &v, NOW), 0);
}

static bool has(const char *name, uint16_t qtype, uint8_t variant)
{
	uint8_t wire[HF_NAME_MAXLEN];
	int len = hf_name_from_text(name, wire);
	assert_true(len > 0);
	hf_name_lower(wire);
	struct hf_cache_key k = { .name = wire, .name_len = (uint8_t)len, .qtype = qtype,
				  .qclass = HF_CLASS_IN, .variant = variant };
	return hf_cache_lookup(cache, &k, hf_cache_hash(cache, &k)) != NULL;
}

static uint64_t entries(void)
{
	struct hf_cache_stats st;
	hf_cache_stats(cache, &st);
	return st.entries;
}

/*
 * The same set in every test: a.example in two types and three variants,
 * two names below it, and neighbours that are not below it (xa.example
 * shares its last octets, example is its parent).
 */
static void populate(void)
{
	put("a.example", HF_TYPE_A, 0);
	put("a.example", HF_TYPE_AAAA, 0);
	put("a.example", HF_TYPE_A, HF_VARIANT_DO);
	put("a.example", HF_TYPE_A, HF_VARIANT_DO | HF_VARIANT_CD);
	put("b.a.example", HF_TYPE_A, 0);
	put("c.b.a.example", HF_TYPE_TXT, HF_VARIANT_DO);
	put("xa.example", HF_TYPE_A, 0);
	put("example", HF_TYPE_A, 0);
	put("a.example.net", HF_TYPE_A, 0);
	assert_int_equal(entries(), 9);
}

static void expect_neighbours(void)
{
	assert_true(has("xa.example", HF_TYPE_A, 0));
	assert_true(has("example", HF_TYPE_A, 0));
	assert_true(has("a.example.net", HF_TYPE_A, 0));
}

/* ---- the control plane's side ---- */

static struct hf_ring *ops_ring(void)
{
	return hf_shm_ops_ring(shm.cp);
}

/* Enqueues a purge as the control plane writes it: with or without the enqueue time. */
static void send_purge(uint32_t seq, const char *name, uint8_t flags, bool with_ts)
{
	uint8_t buf[HF_MSG_PURGE_TS_LEN(HF_NAME_MAXLEN)];
	struct hf_msg_purge p = { .seq = seq, .flags = flags };
	int len = hf_name_from_text(name, p.name);
	assert_true(len > 0);
	p.name_len = (uint8_t)len;
	memcpy(buf, &p, HF_MSG_PURGE_LEN(p.name_len));
	size_t total = HF_MSG_PURGE_LEN(p.name_len);
	if (with_ts) {
		uint64_t now = hf_shm_now_ns();
		memcpy(buf + total, &now, sizeof(now));
		total += sizeof(now);
	}
	assert_int_equal(hf_ring_enqueue(ops_ring(), HF_MSG_PURGE, buf, (uint32_t)total), 0);
}

static void send_raw(uint16_t type, const void *data, uint32_t len)
{
	assert_int_equal(hf_ring_enqueue(ops_ring(), type, data, len), 0);
}

/* ---- fixtures ---- */

static int group_setup(void **state)
{
	(void)state;
	return shm_pair_open(&shm, "to");
}

static int group_teardown(void **state)
{
	(void)state;
	shm_pair_close(&shm);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	const struct hf_cache_config cc = { .max_bytes = 1 << 20, .ttl_max = 86400, .max_stale = 3600 };
	cache = hf_cache_create(&cc);
	if (!cache)
		return -1;
	populate();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	struct hf_ops_stats st = { 0 };
	while (hf_ops_poll(shm.dp, cache, &st) > 0)
		;  /* leave the ring empty for the next test */
	hf_cache_destroy(cache);
	cache = NULL;
	return 0;
}

/* ---- tests ---- */

static void test_empty_ring(void **state)
{
	(void)state;
	struct hf_ops_stats st = { 0 };
	assert_int_equal(hf_ops_poll(shm.dp, cache, &st), 0);
	assert_int_equal(st.purges, 0);
	assert_int_equal(st.unknown, 0);
	assert_int_equal(entries(), 9);
}

static void test_purge_name(void **state)
{
	(void)state;
	struct hf_ops_stats st = { 0 };

	send_purge(7, "a.example", 0, false);
	assert_int_equal(hf_ops_poll(shm.dp, cache, &st), 1);
	assert_int_equal(st.purges, 1);
	assert_int_equal(st.purged, 4);  /* both types, all three variants */
	assert_int_equal(st.unknown, 0);
	assert_int_equal(st.last_seq, 7);
	assert_int_equal(st.last_delay_ns, 0);  /* no enqueue time sent */
	assert_false(has("a.example", HF_TYPE_A, 0));
	assert_false(has("a.example", HF_TYPE_AAAA, 0));
	assert_false(has("a.example", HF_TYPE_A, HF_VARIANT_DO));
	assert_false(has("a.example", HF_TYPE_A, HF_VARIANT_DO | HF_VARIANT_CD));
	/* Only that name: the names below it stay. */
	assert_true(has("b.a.example", HF_TYPE_A, 0));
	assert_true(has("c.b.a.example", HF_TYPE_TXT, HF_VARIANT_DO));
	expect_neighbours();
	assert_int_equal(entries(), 5);

	/* Purging it again finds nothing but is still a purge applied. */
	send_purge(8, "a.example", 0, false);
	assert_int_equal(hf_ops_poll(shm.dp, cache, &st), 1);
	assert_int_equal(st.purges, 2);
	assert_int_equal(st.purged, 4);
	assert_int_equal(st.last_seq, 8);
	assert_int_equal(entries(), 5);
}

static void test_purge_name_case(void **state)
{
	(void)state;
	struct hf_ops_stats st = { 0 };

	/* The control plane sends lower case, but the cache matches any case. */
	send_purge(1, "B.A.Example", 0, false);
	assert_int_equal(hf_ops_poll(shm.dp, cache, &st), 1);
	assert_int_equal(st.purged, 1);
	assert_false(has("b.a.example", HF_TYPE_A, 0));
	assert_true(has("a.example", HF_TYPE_A, 0));
	assert_true(has("c.b.a.example", HF_TYPE_TXT, HF_VARIANT_DO));
	assert_int_equal(entries(), 8);
}

static void test_purge_subtree(void **state)
{
	(void)state;
	struct hf_ops_stats st = { 0 };

	send_purge(3, "a.example", HF_PURGE_SUBTREE, true);
	uint64_t before = hf_shm_now_ns();
	assert_int_equal(hf_ops_poll(shm.dp, cache, &st), 1);
	uint64_t after = hf_shm_now_ns();
	assert_int_equal(st.purges, 1);
	assert_int_equal(st.purged, 6);
	assert_int_equal(st.last_seq, 3);
	assert_true(st.last_applied_ns >= before && st.last_applied_ns <= after);
	/* The trailer's enqueue time was read: the delay is a short, real one. */
	assert_true(st.last_delay_ns > 0);
	assert_true(st.last_delay_ns <= after - before + 1000000000ull);
	assert_false(has("a.example", HF_TYPE_A, 0));
	assert_false(has("a.example", HF_TYPE_AAAA, 0));
	assert_false(has("a.example", HF_TYPE_A, HF_VARIANT_DO));
	assert_false(has("a.example", HF_TYPE_A, HF_VARIANT_DO | HF_VARIANT_CD));
	assert_false(has("b.a.example", HF_TYPE_A, 0));
	assert_false(has("c.b.a.example", HF_TYPE_TXT, HF_VARIANT_DO));
	/* Not below a.example: a label boundary, a parent, another tree. */
	expect_neighbours();
	assert_int_equal(entries(), 3);

	/* The root's subtree is everything. */
	send_purge(4, ".", HF_PURGE_SUBTREE, false);
	assert_int_equal(hf_ops_poll(shm.dp, cache, &st), 1);
	assert_int_equal(st.purged, 9);
	assert_int_equal(entries(), 0);
}

static void test_malformed(void **state)
{
	(void)state;
	struct hf_ops_stats st = { 0 };
	struct hf_msg_purge p;
	uint8_t big[HF_MSG_PURGE_TS_LEN(HF_NAME_MAXLEN) + 16];
	unsigned sent = 0;

	/* Shorter than a header and a one-octet name. */
	memset(&p, 0, sizeof(p));
	p.name_len = 1;
	send_raw(HF_MSG_PURGE, &p, (uint32_t)HF_MSG_PURGE_LEN(0));
	sent++;
	send_raw(HF_MSG_PURGE, NULL, 0);
	sent++;
	/* Longer than any purge, even with its trailer. */
	memset(big, 0, sizeof(big));
	memcpy(big, &p, sizeof(p));
	send_raw(HF_MSG_PURGE, big, sizeof(big));
	sent++;
	/* name_len disagrees with the length (the name is a.example, 11 octets). */
	memset(&p, 0, sizeof(p));
	p.flags = HF_PURGE_SUBTREE;
	int len = hf_name_from_text("a.example", p.name);
	assert_int_equal(len, 11);
	p.name_len = 10;
	send_raw(HF_MSG_PURGE, &p, (uint32_t)HF_MSG_PURGE_LEN(11));
	sent++;
	p.name_len = 12;
	send_raw(HF_MSG_PURGE, &p, (uint32_t)HF_MSG_PURGE_LEN(11));
	sent++;
	/* A name that ends early: its root label comes before name_len. */
	p.name_len = 13;
	send_raw(HF_MSG_PURGE, &p, (uint32_t)HF_MSG_PURGE_LEN(13));
	sent++;
	/* A label running past the name. */
	memcpy(p.name, "\x0a" "a" "\x07" "example" "\0", 11);
	p.name_len = 11;
	send_raw(HF_MSG_PURGE, &p, (uint32_t)HF_MSG_PURGE_LEN(11));
	sent++;
	/* No root label at all. */
	memcpy(p.name, "\x01" "a" "\x07" "example", 10);
	p.name_len = 10;
	send_raw(HF_MSG_PURGE, &p, (uint32_t)HF_MSG_PURGE_LEN(10));
	sent++;
	/* A compression pointer: not allowed in an uncompressed name. */
	memcpy(p.name, "\x01" "a" "\xc0\x0c", 4);
	p.name_len = 4;
	send_raw(HF_MSG_PURGE, &p, (uint32_t)HF_MSG_PURGE_LEN(4));
	sent++;
	/* A reserved label type (0x40). */
	memcpy(p.name, "\x41" "a" "\0", 3);
	p.name_len = 3;
	send_raw(HF_MSG_PURGE, &p, (uint32_t)HF_MSG_PURGE_LEN(3));
	sent++;
	/* One good purge among them is applied as usual. */
	send_purge(5, "a.example", 0, false);

	/* A type the ops consumer does not know, with a valid purge inside. */
	memset(&p, 0, sizeof(p));
	len = hf_name_from_text("example", p.name);
	p.name_len = (uint8_t)len;
	p.flags = HF_PURGE_SUBTREE;
	send_raw(99, &p, (uint32_t)HF_MSG_PURGE_LEN(p.name_len));
	sent++;
	send_raw(HF_MSG_FILL, &p, (uint32_t)HF_MSG_PURGE_LEN(p.name_len));
	sent++;

	assert_int_equal(hf_ops_poll(shm.dp, cache, &st), sent + 1);
	assert_int_equal(st.unknown, sent);
	assert_int_equal(st.purges, 1);  /* only the good one */
	assert_int_equal(st.purged, 4);
	assert_int_equal(st.last_seq, 5);
	/* Nothing else changed: not the names below a.example, not example's subtree. */
	assert_true(has("b.a.example", HF_TYPE_A, 0));
	assert_true(has("c.b.a.example", HF_TYPE_TXT, HF_VARIANT_DO));
	expect_neighbours();
	assert_int_equal(entries(), 5);
	assert_int_equal(hf_ops_poll(shm.dp, cache, &st), 0);
}

static void test_malformed_alone(void **state)
{
	(void)state;
	struct hf_ops_stats st = { 0 };
	struct hf_msg_purge p;

	/* A subtree purge of the root with a bad length would empty the cache. */
	memset(&p, 0, sizeof(p));
	p.flags = HF_PURGE_SUBTREE;
	p.name_len = 1;  /* "." */
	send_raw(HF_MSG_PURGE, &p, (uint32_t)HF_MSG_PURGE_LEN(1) + 3);
	assert_int_equal(hf_ops_poll(shm.dp, cache, &st), 1);
	assert_int_equal(st.unknown, 1);
	assert_int_equal(st.purges, 0);
	assert_int_equal(st.purged, 0);
	assert_int_equal(st.last_seq, 0);
	assert_int_equal(entries(), 9);
}

static void test_burst_bound(void **state)
{
	(void)state;
	struct hf_ops_stats st = { 0 };
	const unsigned total = HF_OPS_BURST + 5;

	for (unsigned i = 0; i < total; i++)
		send_purge(100 + i, i == total - 1 ? "a.example" : "nothing.test", 0, false);
	assert_int_equal(hf_ops_poll(shm.dp, cache, &st), HF_OPS_BURST);
	assert_int_equal(st.purges, HF_OPS_BURST);
	assert_int_equal(st.last_seq, 100 + HF_OPS_BURST - 1);
	assert_int_equal(entries(), 9);  /* the last purge has not been applied yet */
	assert_int_equal(hf_ops_poll(shm.dp, cache, &st), total - HF_OPS_BURST);
	assert_int_equal(st.purges, total);
	assert_int_equal(st.last_seq, 100 + total - 1);
	assert_int_equal(st.purged, 4);
	assert_int_equal(entries(), 5);
	assert_int_equal(hf_ops_poll(shm.dp, cache, &st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge_name_case, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge_subtree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_burst_bound, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
