/*
 * Unit tests of the answer cache (dataplane/cache.c).
 *
 * The test thread is a registered QSBR thread, online, like a worker; it
 * never passes a quiescent state while it holds entries, so entry pointers
 * stay valid within a test until it waits for frees (wait_frees()).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "dataplane/cache.h"
#include "include/holdfast/build.h"
#include "include/holdfast/defines.h"
#include "include/holdfast/dns.h"
#include "include/holdfast/msg.h"
#include "include/holdfast/name.h"
#include "include/holdfast/wire_ctx.h"

#define NOW 1000000u

struct fill {
	_Alignas(8) uint8_t payload[4096];
	struct hf_fill_view v;
	int payload_len;
};

struct fill_spec {
	const char *name;
	uint16_t qtype;
	uint8_t variant;
	uint8_t flags;     /*!< enum hf_fill_flag */
	uint32_t ttl;      /*!< fill TTL */
	uint32_t rec_ttl;  /*!< TTL of the records in the message */
	uint16_t pad;      /*!< RDATA bytes of an extra NULL record (size control) */
	uint16_t rcode;
};

/* Build and decode a fill: one A record (+ an optional NULL record), one EDE. */
static void make_fill(struct fill *f, const struct fill_spec *s)
{
	uint8_t name[HF_NAME_MAXLEN];
	uint8_t msg[3072];
	uint8_t ede[64];
	uint8_t pad[2048];
	uint16_t ttl_off[2];
	struct hf_build b;
	const char *why = NULL;

	assert_true(hf_name_from_text(s->name, name) > 0);
	assert_true(s->pad <= sizeof(pad));
	memset(pad, 0xab, sizeof(pad));
	assert_int_equal(hf_build_init(&b, msg, sizeof(msg), 0, HF_FLAG_QR | HF_FLAG_RA | s->rcode), 0);
	assert_int_equal(hf_build_question(&b, name, s->qtype, HF_CLASS_IN), 0);
	int off = hf_build_rr(&b, HF_SECTION_ANSWER, name, HF_TYPE_A, HF_CLASS_IN, s->rec_ttl,
			      (const uint8_t *)"\xc0\x00\x02\x01", 4);
	assert_true(off > 0);
	ttl_off[0] = (uint16_t)off;
	uint8_t n_ttl = 1;
	if (s->pad) {
		off = hf_build_rr(&b, HF_SECTION_ANSWER, name, HF_TYPE_NULL, HF_CLASS_IN, s->rec_ttl,
				  pad, s->pad);
		assert_true(off > 0);
		ttl_off[n_ttl++] = (uint16_t)off;
	}
	int msg_len = hf_build_finish(&b);
	assert_true(msg_len > 0);
	int ede_len = hf_ede_render(ede, sizeof(ede), HF_EDE_STALE_ANSWER, "x");
	assert_true(ede_len > 0);
	struct hf_msg_fill hdr = {
		.req_id = 1, .ttl = s->ttl, .rcode = s->rcode, .msg_len = (uint16_t)msg_len,
		.ede_len = (uint16_t)ede_len, .variant = s->variant, .flags = s->flags,
		.n_ttl = n_ttl,
	};
	f->payload_len = hf_msg_fill_encode(f->payload, sizeof(f->payload), &hdr, ttl_off, ede, msg);
	assert_true(f->payload_len > 0);
	assert_int_equal(hf_msg_fill_decode(f->payload, (size_t)f->payload_len, &f->v, &why), 0);
}

static int insert(struct hf_cache *c, const struct fill_spec *s, uint32_t now)
{
	struct fill f;
	make_fill(&f, s);
	return hf_cache_insert(c, &f.v, now);
}

static struct fill_spec spec(const char *name)
{
	return (struct fill_spec){ .name = name, .qtype = HF_TYPE_A, .ttl = 300, .rec_ttl = 300 };
}

struct key_buf {
	uint8_t name[HF_NAME_MAXLEN];
	struct hf_cache_key k;
};

static const struct hf_cache_key *key(struct key_buf *kb, const char *name, uint16_t qtype,
				      uint8_t variant)
{
	int len = hf_name_from_text(name, kb->name);
	assert_true(len > 0);
	hf_name_lower(kb->name);
	kb->k = (struct hf_cache_key){ .name = kb->name, .name_len = (uint8_t)len,
				       .qtype = qtype, .qclass = HF_CLASS_IN, .variant = variant };
	return &kb->k;
}

static const struct hf_cache_entry *lookup(struct hf_cache *c, const char *name, uint16_t qtype,
					   uint8_t variant)
{
	struct key_buf kb;
	const struct hf_cache_key *k = key(&kb, name, qtype, variant);
	return hf_cache_lookup(c, k, hf_cache_hash(c, k));
}

/* Let every removed entry be freed: a grace period needs us quiescent. */
static void wait_frees(void)
{
	urcu_qsbr_thread_offline();
	urcu_qsbr_barrier();
	urcu_qsbr_thread_online();
}

static struct hf_cache *make_cache(size_t max_bytes, uint32_t sweep_batch)
{
	struct hf_cache_config cfg = {
		.max_bytes = max_bytes, .ttl_min = 0, .ttl_max = 86400, .max_stale = 86400,
		.sweep_batch = sweep_batch,
	};
	struct hf_cache *c = hf_cache_create(&cfg);
	assert_non_null(c);
	return c;
}

/* Allocation size of the entries the numbered names below produce. */
static size_t numbered_entry_size(uint16_t pad)
{
	struct hf_cache *c = make_cache(1 << 20, 0);
	struct fill_spec s = spec("n0000.example");
	s.pad = pad;
	assert_int_equal(insert(c, &s, NOW), 0);
	size_t size = hf_cache_entry_size(lookup(c, "n0000.example", HF_TYPE_A, 0));
	hf_cache_destroy(c);
	return size;
}

static void numbered(char *buf, size_t cap, unsigned i)
{
	snprintf(buf, cap, "n%04u.example", i);
}

/* ---- Tests. */

static void test_create_checks(void **state)
{
	(void)state;
	struct hf_cache_config cfg = { .max_bytes = 0, .ttl_max = 10 };
	assert_null(hf_cache_create(&cfg));
	cfg = (struct hf_cache_config){ .max_bytes = 100, .ttl_min = 11, .ttl_max = 10 };
	assert_null(hf_cache_create(&cfg));
	hf_cache_destroy(NULL);
}

static void test_insert_lookup(void **state)
{
	(void)state;
	struct hf_cache *c = make_cache(1 << 20, 0);
	struct fill f;
	struct fill_spec s = spec("WWW.Example.COM");
	s.variant = HF_VARIANT_DO;
	s.flags = HF_FILL_AD;
	s.rcode = HF_RCODE_NXDOMAIN;
	make_fill(&f, &s);
	assert_int_equal(hf_cache_insert(c, &f.v, NOW), 0);

	const struct hf_cache_entry *e = lookup(c, "www.example.com", HF_TYPE_A, HF_VARIANT_DO);
	assert_non_null(e);
	assert_int_equal(atomic_load(&e->referenced), 1);
	assert_int_equal(e->rcode, HF_RCODE_NXDOMAIN);
	assert_int_equal(e->flags, HF_CACHE_F_AD);
	assert_int_equal(e->variant, HF_VARIANT_DO);
	assert_int_equal(e->qtype, HF_TYPE_A);
	assert_int_equal(e->qclass, HF_CLASS_IN);
	assert_int_equal(e->qname_len, 17);
	assert_int_equal(e->msg_len, f.v.hdr->msg_len);
	assert_int_equal(e->question_end, f.v.question_end);
	assert_int_equal(e->n_ttl, 1);
	assert_int_equal(hf_cache_entry_ttl_off(e)[0], f.v.ttl_off[0]);
	assert_int_equal(e->ede_len, f.v.hdr->ede_len);
	assert_memory_equal(hf_cache_entry_ede(e), f.v.ede, e->ede_len);
	/* The question name is stored in lower case; the rest is copied as is. */
	assert_memory_equal(hf_cache_entry_msg(e) + 12, "\3www\7example\3com", 17);
	assert_memory_equal(hf_cache_entry_msg(e), f.v.msg, 12);
	assert_memory_equal(hf_cache_entry_msg(e) + e->question_end, f.v.msg + e->question_end,
			    (size_t)(e->msg_len - e->question_end));
	assert_int_equal(hf_cache_entry_size(e),
			 sizeof(*e) + 2 + e->ede_len + e->msg_len);

	/* Other type, variant, name: misses. */
	assert_null(lookup(c, "www.example.com", HF_TYPE_AAAA, HF_VARIANT_DO));
	assert_null(lookup(c, "www.example.com", HF_TYPE_A, 0));
	assert_null(lookup(c, "www.example.com", HF_TYPE_A, HF_VARIANT_DO | HF_VARIANT_CD));
	assert_null(lookup(c, "www.example.org", HF_TYPE_A, HF_VARIANT_DO));
	assert_null(lookup(c, "example.com", HF_TYPE_A, HF_VARIANT_DO));

	/* The hash covers every key field. */
	struct key_buf a, b;
	uint64_t h = hf_cache_hash(c, key(&a, "www.example.com", HF_TYPE_A, 0));
	assert_int_equal(h, hf_cache_hash(c, key(&b, "www.example.com", HF_TYPE_A, 0)));
	assert_int_not_equal(h, hf_cache_hash(c, key(&b, "www.example.com", HF_TYPE_AAAA, 0)));
	assert_int_not_equal(h, hf_cache_hash(c, key(&b, "www.example.com", HF_TYPE_A, 1)));
	assert_int_not_equal(h, hf_cache_hash(c, key(&b, "www.example.co", HF_TYPE_A, 0)));

	struct hf_cache_stats st;
	hf_cache_stats(c, &st);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.inserts, 1);
	assert_int_equal(st.bytes, hf_cache_entry_size(e));
	hf_cache_destroy(c);
}

static void test_seed_per_cache(void **state)
{
	(void)state;
	struct hf_cache *c1 = make_cache(1 << 20, 0);
	struct hf_cache *c2 = make_cache(1 << 20, 0);
	struct key_buf kb;
	const struct hf_cache_key *k = key(&kb, "www.example.com", HF_TYPE_A, 0);
	assert_int_not_equal(hf_cache_hash(c1, k), hf_cache_hash(c2, k));
	hf_cache_destroy(c1);
	hf_cache_destroy(c2);
}

static void test_replace(void **state)
{
	(void)state;
	struct hf_cache *c = make_cache(1 << 20, 0);
	struct hf_cache_stats st;
	struct fill_spec s = spec("www.example.com");

	assert_int_equal(insert(c, &s, NOW), 0);
	const struct hf_cache_entry *e1 = lookup(c, "www.example.com", HF_TYPE_A, 0);
	assert_non_null(e1);
	s.ttl = 200;
	s.pad = 100;
	assert_int_equal(insert(c, &s, NOW + 10), 0);
	const struct hf_cache_entry *e2 = lookup(c, "www.example.com", HF_TYPE_A, 0);
	assert_non_null(e2);
	assert_ptr_not_equal(e1, e2);
	assert_int_equal(e2->expires, NOW + 10 + 200);
	assert_int_equal(e2->n_ttl, 2);
	/* The replacement inherits the CLOCK bit of the entry it displaced. */
	assert_int_equal(atomic_load(&e2->referenced), 1);

	hf_cache_stats(c, &st);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.inserts, 2);
	assert_int_equal(st.replaces, 1);
	assert_int_equal(st.bytes, hf_cache_entry_size(e2));
	/* The old entry is retired, not freed, until we pass a grace period. */
	assert_int_equal(st.retired_bytes, hf_cache_entry_size(e1));
	wait_frees();
	hf_cache_stats(c, &st);
	assert_int_equal(st.retired_bytes, 0);
	assert_int_equal(st.entries, 1);
	hf_cache_destroy(c);
}

static void test_ttl_clamp(void **state)
{
	(void)state;
	struct hf_cache_config cfg = { .max_bytes = 1 << 20, .ttl_min = 60, .ttl_max = 3600,
				       .max_stale = 100 };
	struct hf_cache *c = hf_cache_create(&cfg);
	assert_non_null(c);
	struct fill_spec s = spec("low.example");
	s.ttl = 5;
	s.rec_ttl = 10;
	s.pad = 8;
	assert_int_equal(insert(c, &s, NOW), 0);
	s = spec("high.example");
	s.ttl = 100000;
	s.rec_ttl = 200000;
	s.pad = 8;
	assert_int_equal(insert(c, &s, NOW), 0);
	s = spec("topbit.example");
	s.rec_ttl = 0x80000001u;  /* RFC 2181 §8: means zero, then the floor */
	assert_int_equal(insert(c, &s, NOW), 0);
	s = spec("mid.example");
	s.ttl = 120;
	s.rec_ttl = 130;
	assert_int_equal(insert(c, &s, NOW), 0);

	const struct hf_cache_entry *e = lookup(c, "low.example", HF_TYPE_A, 0);
	assert_non_null(e);
	assert_int_equal(e->expires, NOW + 60);
	assert_int_equal(e->n_ttl, 2);
	for (unsigned i = 0; i < e->n_ttl; i++)
		assert_int_equal(hf_wire_get_u32(hf_cache_entry_msg(e) + hf_cache_entry_ttl_off(e)[i]), 60);
	e = lookup(c, "high.example", HF_TYPE_A, 0);
	assert_non_null(e);
	assert_int_equal(e->expires, NOW + 3600);
	for (unsigned i = 0; i < e->n_ttl; i++)
		assert_int_equal(hf_wire_get_u32(hf_cache_entry_msg(e) + hf_cache_entry_ttl_off(e)[i]),
				 3600);
	e = lookup(c, "topbit.example", HF_TYPE_A, 0);
	assert_non_null(e);
	assert_int_equal(hf_wire_get_u32(hf_cache_entry_msg(e) + hf_cache_entry_ttl_off(e)[0]), 60);
	e = lookup(c, "mid.example", HF_TYPE_A, 0);
	assert_non_null(e);
	assert_int_equal(e->expires, NOW + 120);
	assert_int_equal(hf_wire_get_u32(hf_cache_entry_msg(e) + hf_cache_entry_ttl_off(e)[0]), 130);
	hf_cache_destroy(c);
}

static void test_nocache(void **state)
{
	(void)state;
	struct hf_cache *c = make_cache(1 << 20, 0);
	struct hf_cache_stats st;
	struct fill_spec s = spec("www.example.com");
	s.flags = HF_FILL_NOCACHE | HF_FILL_AD;
	assert_int_equal(insert(c, &s, NOW), HF_CACHE_NOT_CACHED);
	assert_null(lookup(c, "www.example.com", HF_TYPE_A, 0));
	hf_cache_stats(c, &st);
	assert_int_equal(st.inserts, 0);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.insert_failures, 0);
	hf_cache_destroy(c);
}

static void test_times(void **state)
{
	(void)state;
	struct hf_cache_config cfg = { .max_bytes = 1 << 20, .ttl_max = 86400, .max_stale = 86400 };
	struct hf_cache *c = hf_cache_create(&cfg);
	assert_non_null(c);
	struct fill_spec s = spec("www.example.com");
	assert_int_equal(insert(c, &s, NOW), 0);
	const struct hf_cache_entry *e = lookup(c, "www.example.com", HF_TYPE_A, 0);
	assert_non_null(e);
	assert_int_equal(e->inserted, NOW);
	assert_int_equal(e->expires, NOW + 300);
	assert_int_equal(e->stale_until, NOW + 300 + 86400);

	/* Near the end of uint32 time the sums saturate instead of wrapping. */
	s = spec("late.example");
	assert_int_equal(insert(c, &s, UINT32_MAX - 100), 0);
	e = lookup(c, "late.example", HF_TYPE_A, 0);
	assert_non_null(e);
	assert_int_equal(e->expires, UINT32_MAX);
	assert_int_equal(e->stale_until, UINT32_MAX);
	hf_cache_destroy(c);
}

static void test_sweep_watermark(void **state)
{
	(void)state;
	enum { N = 100 };
	char name[32];
	size_t size = numbered_entry_size(0);
	/* N entries make 1.2 x max_bytes: above the low watermark (0.9), below
	 * the hard limit (1.25); a quarter of them must go. */
	size_t max_bytes = N * size * 10 / 12;
	struct hf_cache *c = make_cache(max_bytes, 0);
	struct hf_cache_stats st;

	for (unsigned i = 0; i < N; i++) {
		numbered(name, sizeof(name), i);
		struct fill_spec s = spec(name);
		assert_int_equal(insert(c, &s, NOW), 0);
	}
	const struct hf_cache_entry *hot[N / 2];
	for (unsigned i = 0; i < N; i += 2) {
		numbered(name, sizeof(name), i);
		hot[i / 2] = lookup(c, name, HF_TYPE_A, 0);
		assert_non_null(hot[i / 2]);
	}
	size_t freed = hf_cache_sweep(c, NOW + 1);
	hf_cache_stats(c, &st);
	assert_true(st.bytes <= max_bytes * 9 / 10 + 1);
	assert_true(st.bytes + size > max_bytes * 9 / 10);  /* not one more than needed */
	assert_int_equal(freed, st.evictions * size);
	assert_int_equal(st.entries, N - st.evictions);
	assert_true(st.evictions >= N / 4 && st.evictions <= N / 4 + 1);
	assert_int_equal(st.expired_drops, 0);
	/* Every referenced entry survived (second chance), its bit now cleared. */
	for (unsigned i = 0; i < N; i += 2) {
		assert_int_equal(atomic_load(&hot[i / 2]->referenced), 0);
		numbered(name, sizeof(name), i);
		assert_ptr_equal(lookup(c, name, HF_TYPE_A, 0), hot[i / 2]);
	}
	/* Below the watermark, with nothing expired, a sweep frees nothing. */
	assert_int_equal(hf_cache_sweep(c, NOW + 2), 0);
	wait_frees();
	hf_cache_stats(c, &st);
	assert_int_equal(st.retired_bytes, 0);
	hf_cache_destroy(c);
}

static void test_sweep_clears_bits(void **state)
{
	(void)state;
	enum { N = 20 };
	char name[32];
	const struct hf_cache_entry *e[N];
	struct hf_cache *c = make_cache(1 << 20, 0);

	for (unsigned i = 0; i < N; i++) {
		numbered(name, sizeof(name), i);
		struct fill_spec s = spec(name);
		assert_int_equal(insert(c, &s, NOW), 0);
		e[i] = lookup(c, name, HF_TYPE_A, 0);
		assert_non_null(e[i]);
	}
	/* No pressure: one lap clears every bit and removes nothing. */
	assert_int_equal(hf_cache_sweep(c, NOW), 0);
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(atomic_load(&e[i]->referenced), 0);
	hf_cache_destroy(c);
}

static void test_sweep_stale(void **state)
{
	(void)state;
	struct hf_cache_config cfg = { .max_bytes = 1 << 20, .ttl_max = 86400, .max_stale = 100 };
	struct hf_cache *c = hf_cache_create(&cfg);
	struct hf_cache_stats st;
	char name[32];
	assert_non_null(c);

	for (unsigned i = 0; i < 10; i++) {
		numbered(name, sizeof(name), i);
		struct fill_spec s = spec(name);
		s.ttl = (i % 2) ? 60 : 600;
		assert_int_equal(insert(c, &s, NOW), 0);
		assert_non_null(lookup(c, name, HF_TYPE_A, 0));  /* referenced or not, they go */
	}
	/* Expired but within max_stale: kept for serve-stale. */
	assert_int_equal(hf_cache_sweep(c, NOW + 160), 0);
	hf_cache_stats(c, &st);
	assert_int_equal(st.entries, 10);
	/* Past stale_until: dropped even without memory pressure. */
	assert_true(hf_cache_sweep(c, NOW + 161) > 0);
	hf_cache_stats(c, &st);
	assert_int_equal(st.entries, 5);
	assert_int_equal(st.expired_drops, 5);
	assert_int_equal(st.evictions, 0);
	for (unsigned i = 0; i < 10; i++) {
		numbered(name, sizeof(name), i);
		if (i % 2)
			assert_null(lookup(c, name, HF_TYPE_A, 0));
		else
			assert_non_null(lookup(c, name, HF_TYPE_A, 0));
	}
	hf_cache_destroy(c);
}

static unsigned count_cleared(const struct hf_cache_entry **e, unsigned n)
{
	unsigned cleared = 0;
	for (unsigned i = 0; i < n; i++)
		cleared += e[i] && atomic_load(&e[i]->referenced) == 0;
	return cleared;
}

static void test_sweep_resume(void **state)
{
	(void)state;
	enum { N = 40, BATCH = 10 };
	char name[32];
	const struct hf_cache_entry *e[N];
	struct hf_cache *c = make_cache(1 << 20, BATCH);

	for (unsigned i = 0; i < N; i++) {
		numbered(name, sizeof(name), i);
		struct fill_spec s = spec(name);
		assert_int_equal(insert(c, &s, NOW), 0);
		e[i] = lookup(c, name, HF_TYPE_A, 0);
		assert_non_null(e[i]);
	}
	/* Each partial sweep clears BATCH bits it has not cleared before. */
	for (unsigned round = 1; round <= N / BATCH; round++) {
		assert_int_equal(hf_cache_sweep(c, NOW), 0);
		assert_int_equal(count_cleared(e, N), round * BATCH);
	}

	/* Second lap; then purge the entries it visited (the hand's anchor among
	 * them): the next sweep still goes on to entries it has not visited. */
	for (unsigned i = 0; i < N; i++) {
		numbered(name, sizeof(name), i);
		assert_non_null(lookup(c, name, HF_TYPE_A, 0));
	}
	assert_int_equal(hf_cache_sweep(c, NOW), 0);
	assert_int_equal(count_cleared(e, N), BATCH);
	for (unsigned i = 0; i < N; i++) {
		if (atomic_load(&e[i]->referenced) == 0) {
			uint8_t wire[HF_NAME_MAXLEN];
			numbered(name, sizeof(name), i);
			hf_name_from_text(name, wire);
			assert_int_equal(hf_cache_purge(c, wire, false), 1);
			e[i] = NULL;  /* retired: do not look at it any more */
		}
	}
	assert_int_equal(hf_cache_sweep(c, NOW), 0);
	assert_int_equal(count_cleared(e, N), BATCH);
	assert_int_equal(hf_cache_sweep(c, NOW), 0);
	assert_int_equal(count_cleared(e, N), 2 * BATCH);
	hf_cache_destroy(c);
}

/* A batch that does not divide the table: the hand wraps mid-call and the
 * next call still resumes right after it. */
static void test_sweep_wrap(void **state)
{
	(void)state;
	enum { N = 25, BATCH = 10 };
	char name[32];
	const struct hf_cache_entry *e[N];
	struct hf_cache *c = make_cache(1 << 20, BATCH);
	static const unsigned expect[] = { 10, 20, 25 };

	for (unsigned i = 0; i < N; i++) {
		numbered(name, sizeof(name), i);
		struct fill_spec s = spec(name);
		assert_int_equal(insert(c, &s, NOW), 0);
	}
	for (int lap = 0; lap < 3; lap++) {
		for (unsigned i = 0; i < N; i++) {
			numbered(name, sizeof(name), i);
			e[i] = lookup(c, name, HF_TYPE_A, 0);
			assert_non_null(e[i]);
		}
		for (unsigned k = 0; k < HF_ARRAY_SIZE(expect); k++) {
			assert_int_equal(hf_cache_sweep(c, NOW), 0);
			assert_int_equal(count_cleared(e, N), expect[k]);
		}
	}
	hf_cache_destroy(c);
}

static void test_purge(void **state)
{
	(void)state;
	static const char *const names[] = { "a.example", "b.a.example", "example", "other.test",
					     "xa.example" };
	struct hf_cache *c = make_cache(1 << 20, 0);
	struct hf_cache_stats st;
	uint8_t wire[HF_NAME_MAXLEN];

	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < HF_ARRAY_SIZE(names); i++) {
			struct fill_spec s = spec(names[i]);
			assert_int_equal(insert(c, &s, NOW), 0);
		}
		struct fill_spec s = spec("a.example");
		s.qtype = HF_TYPE_AAAA;
		s.variant = HF_VARIANT_DO;
		assert_int_equal(insert(c, &s, NOW), 0);
		if (round == 0) {
			/* Exact: both entries of a.example, any case in the argument. */
			hf_name_from_text("A.Example", wire);
			assert_int_equal(hf_cache_purge(c, wire, false), 2);
			assert_null(lookup(c, "a.example", HF_TYPE_A, 0));
			assert_null(lookup(c, "a.example", HF_TYPE_AAAA, HF_VARIANT_DO));
			assert_non_null(lookup(c, "b.a.example", HF_TYPE_A, 0));
			assert_non_null(lookup(c, "example", HF_TYPE_A, 0));
			/* Subtree of example: everything but other.test. */
			hf_name_from_text("example", wire);
			assert_int_equal(hf_cache_purge(c, wire, true), 3);
			assert_non_null(lookup(c, "other.test", HF_TYPE_A, 0));
			assert_null(lookup(c, "b.a.example", HF_TYPE_A, 0));
			assert_null(lookup(c, "xa.example", HF_TYPE_A, 0));
		} else {
			/* Subtree of a.example: not example, not xa.example. */
			hf_name_from_text("a.example", wire);
			assert_int_equal(hf_cache_purge(c, wire, true), 3);
			assert_non_null(lookup(c, "example", HF_TYPE_A, 0));
			assert_non_null(lookup(c, "xa.example", HF_TYPE_A, 0));
			assert_non_null(lookup(c, "other.test", HF_TYPE_A, 0));
			assert_null(lookup(c, "b.a.example", HF_TYPE_A, 0));
			hf_name_from_text("nothing.here", wire);
			assert_int_equal(hf_cache_purge(c, wire, true), 0);
		}
	}
	hf_cache_stats(c, &st);
	assert_int_equal(st.purged, 8);
	assert_int_equal(st.entries, 3);
	hf_cache_destroy(c);
}

/* The index in front of the table: new entries in it, removed ones out of
 * it, and everything found through the table when a bucket overflows. */
static void test_index(void **state)
{
	(void)state;
	char name[32];
	struct hf_cache *c = make_cache(1 << 20, 0);

	struct fill_spec s = spec("a.example");
	assert_int_equal(insert(c, &s, NOW), 0);
	const struct hf_cache_entry *e1 = lookup(c, "a.example", HF_TYPE_A, 0);
	assert_non_null(e1);
	assert_true(hf_cache_index_holds(c, e1));
	/* A replacement takes the slot of the entry it displaces. */
	s.ttl = 77;
	assert_int_equal(insert(c, &s, NOW), 0);
	const struct hf_cache_entry *e2 = lookup(c, "a.example", HF_TYPE_A, 0);
	assert_non_null(e2);
	assert_ptr_not_equal(e1, e2);
	assert_int_equal(e2->expires, NOW + 77);
	assert_true(hf_cache_index_holds(c, e2));
	assert_false(hf_cache_index_holds(c, e1));
	/* Purged: out of both. */
	uint8_t wire[HF_NAME_MAXLEN];
	hf_name_from_text("a.example", wire);
	assert_int_equal(hf_cache_purge(c, wire, false), 1);
	assert_false(hf_cache_index_holds(c, e2));
	assert_null(lookup(c, "a.example", HF_TYPE_A, 0));
	wait_frees();
	hf_cache_destroy(c);

	/* A cache of 4 KiB has the smallest index, 4 buckets of 8 slots; filled
	 * to its hard limit (5 KiB), it holds more entries than that, and the
	 * table finds what the index lost. */
	c = make_cache(4096, 0);
	unsigned n = 0, indexed = 0;
	for (; n < 100; n++) {
		numbered(name, sizeof(name), n);
		struct fill_spec f = spec(name);
		int rc = insert(c, &f, NOW);
		if (rc == -ENOSPC)
			break;
		assert_int_equal(rc, 0);
	}
	assert_true(n > 4 * 8);
	for (unsigned i = 0; i < n; i++) {
		numbered(name, sizeof(name), i);
		const struct hf_cache_entry *e = lookup(c, name, HF_TYPE_A, 0);
		assert_non_null(e);
		assert_memory_equal(hf_cache_entry_msg(e) + 13, name, 5);
		indexed += hf_cache_index_holds(c, e);
	}
	assert_true(indexed > 0 && indexed <= 4 * 8);
	/* Evicted entries leave the index too. */
	hf_cache_sweep(c, NOW);   /* clears the CLOCK bits the lookups set */
	hf_cache_sweep(c, NOW);   /* evicts down to the low watermark */
	struct hf_cache_stats st;
	hf_cache_stats(c, &st);
	assert_true(st.evictions > 0);
	for (unsigned i = 0; i < n; i++) {
		numbered(name, sizeof(name), i);
		const struct hf_cache_entry *e = lookup(c, name, HF_TYPE_A, 0);
		if (e)
			assert_memory_equal(hf_cache_entry_msg(e) + 13, name, 5);
	}
	hf_cache_destroy(c);
}

static void test_enospc(void **state)
{
	(void)state;
	char name[32];
	size_t size = numbered_entry_size(0);
	struct hf_cache *c = make_cache(10 * size, 0);
	struct hf_cache_stats st;

	/* Hard limit 12.5 entries: 12 fit, the 13th does not. */
	for (unsigned i = 0; i < 12; i++) {
		numbered(name, sizeof(name), i);
		struct fill_spec s = spec(name);
		assert_int_equal(insert(c, &s, NOW), 0);
	}
	numbered(name, sizeof(name), 12);
	struct fill_spec s = spec(name);
	assert_int_equal(insert(c, &s, NOW), -ENOSPC);
	assert_null(lookup(c, name, HF_TYPE_A, 0));
	hf_cache_stats(c, &st);
	assert_int_equal(st.insert_failures, 1);
	assert_int_equal(st.entries, 12);
	assert_int_equal(st.bytes, 12 * size);

	/* The housekeeper catches up (down to 9 entries); inserts work again. */
	assert_int_equal(hf_cache_sweep(c, NOW), 3 * size);
	assert_int_equal(insert(c, &s, NOW), 0);
	hf_cache_stats(c, &st);
	assert_int_equal(st.entries, 10);
	assert_int_equal(st.evictions, 3);
	assert_int_equal(st.inserts, 13);
	hf_cache_destroy(c);
}

/* ---- Concurrency: workers probe and insert while the housekeeper sweeps and purges. */

enum { CONC_NAMES = 64, CONC_FORMS = 4, CONC_READERS = 2 };

struct conc {
	struct hf_cache *c;
	atomic_bool stop;
	_Atomic uint32_t now;
	atomic_ulong hits;
	atomic_ulong misses;
	atomic_ulong wrong;       /* entries of another key: cmocka cannot fail off its thread */
	atomic_ulong bad_insert;  /* insert results other than 0 / -ENOSPC */
	atomic_ulong worker_inserts;
	struct key_buf keys[CONC_NAMES];
	uint64_t hashes[CONC_NAMES];
	/* Built up front: cmocka's assertions in make_fill() need the main thread. */
	struct fill fills[CONC_NAMES][CONC_FORMS];
};

static void *conc_reader(void *arg)
{
	struct conc *x = arg;
	unsigned long hits = 0, misses = 0, wrong = 0, sum = 0;

	urcu_qsbr_register_thread();
	while (!atomic_load_explicit(&x->stop, memory_order_relaxed)) {
		/* One "burst": probe every name, read what we found, then quiesce. */
		for (unsigned i = 0; i < CONC_NAMES; i++) {
			const struct hf_cache_entry *e = hf_cache_lookup(x->c, &x->keys[i].k,
									 x->hashes[i]);
			if (!e) {
				misses++;
				continue;
			}
			hits++;
			const uint8_t *msg = hf_cache_entry_msg(e);
			if (e->qname_len != x->keys[i].k.name_len ||
			    memcmp(msg + 12, x->keys[i].name, e->qname_len) != 0)
				wrong++;
			for (unsigned j = 0; j < e->msg_len; j++)
				sum += msg[j];
			for (unsigned j = 0; j < e->n_ttl; j++)
				sum += hf_wire_get_u32(msg + hf_cache_entry_ttl_off(e)[j]);
		}
		urcu_qsbr_quiescent_state();
	}
	urcu_qsbr_unregister_thread();
	atomic_fetch_add(&x->hits, hits);
	atomic_fetch_add(&x->misses, misses);
	atomic_fetch_add(&x->wrong, wrong + (sum == 1));  /* keeps the reads */
	return NULL;
}

/* A worker that only inserts (fills arriving), racing the housekeeper's deletes. */
static void *conc_writer(void *arg)
{
	struct conc *x = arg;
	unsigned long round = 0, inserts = 0;

	urcu_qsbr_register_thread();
	while (!atomic_load_explicit(&x->stop, memory_order_relaxed)) {
		for (unsigned i = 0; i < 16; i++) {
			unsigned n = (unsigned)(round * 5 + i * 3) % CONC_NAMES;
			struct fill *f = &x->fills[n][(round + i) % CONC_FORMS];
			int rc = hf_cache_insert(x->c, &f->v, atomic_load(&x->now));
			if (rc == 0)
				inserts++;
			else if (rc != -ENOSPC)
				atomic_fetch_add(&x->bad_insert, 1);
		}
		round++;
		urcu_qsbr_quiescent_state();
	}
	urcu_qsbr_unregister_thread();
	atomic_fetch_add(&x->worker_inserts, inserts);
	return NULL;
}

static void test_concurrency(void **state)
{
	(void)state;
	static struct conc x;
	pthread_t threads[CONC_READERS + 1];
	char names[CONC_NAMES][32];
	struct timespec start, t;
	struct hf_cache_stats st;
	size_t size = numbered_entry_size(32);
	size_t max_bytes = CONC_NAMES / 2 * size;

	memset(&x, 0, sizeof(x));
	atomic_init(&x.now, NOW);
	/* Room for about half the names: the sweep has to evict constantly;
	 * TTLs of seconds and a short stale window make it drop entries too. */
	struct hf_cache_config cfg = { .max_bytes = max_bytes, .ttl_max = 3600, .max_stale = 2,
				       .sweep_batch = 48 };
	x.c = hf_cache_create(&cfg);
	assert_non_null(x.c);
	for (unsigned i = 0; i < CONC_NAMES; i++) {
		numbered(names[i], sizeof(names[i]), i);
		key(&x.keys[i], names[i], HF_TYPE_A, 0);
		x.hashes[i] = hf_cache_hash(x.c, &x.keys[i].k);
		for (unsigned j = 0; j < CONC_FORMS; j++) {
			struct fill_spec s = spec(names[i]);
			s.pad = (uint16_t)(32 + 5 * j);
			s.ttl = 1 + j;
			make_fill(&x.fills[i][j], &s);
		}
	}
	for (int i = 0; i < CONC_READERS; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, conc_reader, &x), 0);
	assert_int_equal(pthread_create(&threads[CONC_READERS], NULL, conc_writer, &x), 0);

	/* The housekeeper: inserts of its own, purges, sweeps, time moving on. */
	unsigned long ops = 0, inserts = 0;
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		uint32_t now = atomic_load(&x.now);
		/* A few inserts of its own; most come from the worker thread. */
		for (unsigned i = 0; i < 2; i++) {
			unsigned n = (unsigned)(ops * 7 + i * 13) % CONC_NAMES;
			int rc = hf_cache_insert(x.c, &x.fills[n][(ops + i) % CONC_FORMS].v, now);
			assert_true(rc == 0 || rc == -ENOSPC);
			inserts += rc == 0;
		}
		if (ops % 5 == 0) {
			uint8_t wire[HF_NAME_MAXLEN];
			hf_name_from_text(names[ops % CONC_NAMES], wire);
			hf_cache_purge(x.c, wire, false);
		}
		if (ops % 97 == 0) {
			uint8_t wire[HF_NAME_MAXLEN];
			hf_name_from_text("example", wire);
			hf_cache_purge(x.c, wire, true);
		}
		hf_cache_sweep(x.c, now);
		if (ops % 20 == 0)
			atomic_store(&x.now, now + 1);
		ops++;
		/* A quiescent state between jobs, holding no entry. */
		urcu_qsbr_quiescent_state();
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - start.tv_sec) * 1000000000L + (t.tv_nsec - start.tv_nsec) < 1000000000L);

	atomic_store(&x.stop, true);
	urcu_qsbr_thread_offline();
	for (int i = 0; i < CONC_READERS + 1; i++)
		pthread_join(threads[i], NULL);
	urcu_qsbr_thread_online();
	wait_frees();

	hf_cache_stats(x.c, &st);
	print_message("concurrency: %lu housekeeper rounds, %lu hits, %lu misses, %lu + %lu inserts "
		      "(%llu replaces), %llu evictions, %llu expired, %llu purged, %llu refused\n",
		      ops, atomic_load(&x.hits), atomic_load(&x.misses), inserts,
		      atomic_load(&x.worker_inserts), (unsigned long long)st.replaces,
		      (unsigned long long)st.evictions, (unsigned long long)st.expired_drops,
		      (unsigned long long)st.purged, (unsigned long long)st.insert_failures);
	assert_true(atomic_load(&x.hits) > 0);
	assert_int_equal(atomic_load(&x.wrong), 0);
	assert_int_equal(atomic_load(&x.bad_insert), 0);
	assert_true(st.evictions > 0);
	assert_int_equal(st.inserts, inserts + atomic_load(&x.worker_inserts));
	assert_int_equal(st.retired_bytes, 0);
	/* Every insert is still in the table or was removed exactly once. */
	assert_int_equal(st.inserts, st.entries + st.replaces + st.evictions + st.expired_drops +
				     st.purged);
	/* Two inserting threads may each overshoot the hard limit by one entry. */
	assert_true(st.bytes <= max_bytes * 5 / 4 + 2 * (size + 16));

	/* Long after everything's stale window, sweeps empty the table. */
	for (int i = 0; i < 10 && st.entries > 0; i++) {
		hf_cache_sweep(x.c, atomic_load(&x.now) + 1000);
		hf_cache_stats(x.c, &st);
	}
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.bytes, 0);
	assert_true(st.expired_drops > 0);
	assert_int_equal(st.inserts, st.replaces + st.evictions + st.expired_drops + st.purged);
	hf_cache_destroy(x.c);
}

static int group_setup(void **state)
{
	(void)state;
	urcu_qsbr_register_thread();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	urcu_qsbr_unregister_thread();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_checks),
		cmocka_unit_test(test_insert_lookup),
		cmocka_unit_test(test_seed_per_cache),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_ttl_clamp),
		cmocka_unit_test(test_nocache),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_sweep_watermark),
		cmocka_unit_test(test_sweep_clears_bits),
		cmocka_unit_test(test_sweep_stale),
		cmocka_unit_test(test_sweep_resume),
		cmocka_unit_test(test_sweep_wrap),
		cmocka_unit_test(test_purge),
		cmocka_unit_test(test_enospc),
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_concurrency),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
