#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "dataplane/pending.h"
#include "include/holdfast/defines.h"

static const struct hf_pending_config cfg = {
	.max_questions = 8, .max_waiters = 12, .max_waiters_per_q = 4, .timeout_ns = 1000,
};

static struct hf_pending_key key(const char *name, uint16_t qtype)
{
	return (struct hf_pending_key){
		.qname = (const uint8_t *)name, .qname_len = (uint8_t)(strlen(name) + 1),
		.qtype = qtype, .qclass = 1,
	};
}

static int setup(void **state)
{
	*state = hf_pending_create(&cfg);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	hf_pending_destroy(*state);
	return 0;
}

static void test_coalesce_and_take(void **state)
{
	struct hf_pending *p = *state;
	struct hf_pending_key a = key("\1a", 1), a_aaaa = key("\1a", 28);
	uint32_t id1, id2, id3 = 0;
	void *got[4];
	int c[6];

	assert_int_equal(hf_pending_add(p, &a, 7, &c[0], 0, &id1), HF_PENDING_NEW);
	assert_int_equal(hf_pending_add(p, &a, 7, &c[1], 0, &id3), HF_PENDING_JOINED);
	assert_int_equal(id3, 0);
	assert_int_equal(hf_pending_add(p, &a, 7, &c[2], 0, &id3), HF_PENDING_JOINED);
	/* Same hash, other type: its own question. */
	assert_int_equal(hf_pending_add(p, &a_aaaa, 7, &c[3], 0, &id2), HF_PENDING_NEW);
	assert_int_not_equal(id1, id2);
	assert_int_equal(hf_pending_questions(p), 2);
	assert_int_equal(hf_pending_waiters(p), 4);

	assert_int_equal(hf_pending_take(p, id1, got), 3);
	assert_ptr_equal(got[0], &c[0]);  /* in arrival order */
	assert_ptr_equal(got[2], &c[2]);
	assert_int_equal(hf_pending_take(p, id1, got), 0);  /* once only */
	assert_int_equal(hf_pending_take(p, id2, got), 1);
	assert_int_equal(hf_pending_questions(p), 0);
	assert_int_equal(hf_pending_waiters(p), 0);
	assert_int_equal(hf_pending_take(p, 0, got), 0);
	assert_int_equal(hf_pending_take(p, 0xffffffff, got), 0);
}

static void test_bounds(void **state)
{
	struct hf_pending *p = *state;
	struct hf_pending_key a = key("\1a", 1);
	uint32_t id, ids[8];
	void *got[4];
	int c;
	char names[8][3];

	for (int i = 0; i < 4; i++)
		assert_true(hf_pending_add(p, &a, 1, &c, 0, &id) <= HF_PENDING_JOINED);
	assert_int_equal(hf_pending_add(p, &a, 1, &c, 0, &id), HF_PENDING_BUSY);
	/* 12 waiters in all: 4 used, 7 more questions take 7, then the pool has 1 left. */
	for (int i = 0; i < 7; i++) {
		snprintf(names[i], sizeof(names[i]), "\1%c", 'b' + i);
		struct hf_pending_key k = key(names[i], 1);
		assert_int_equal(hf_pending_add(p, &k, (uint64_t)i * 8 + 1, &c, 0, &ids[i]),
				 HF_PENDING_NEW);
	}
	struct hf_pending_key z = key("\1z", 1);
	assert_int_equal(hf_pending_add(p, &z, 99, &c, 0, &id), HF_PENDING_FULL);  /* 8 questions */
	assert_int_equal(hf_pending_take(p, ids[3], got), 1);
	assert_int_equal(hf_pending_add(p, &z, 99, &c, 0, &id), HF_PENDING_NEW);
}

static void test_expiry_in_order(void **state)
{
	struct hf_pending *p = *state;
	struct hf_pending_key a = key("\1a", 1), b = key("\1b", 1), d = key("\1d", 1);
	uint32_t ida, idb, idd;
	void *got[4];
	int c[3];

	hf_pending_add(p, &a, 1, &c[0], 100, &ida);   /* deadline 1100 */
	hf_pending_add(p, &b, 2, &c[1], 200, &idb);   /* 1200 */
	hf_pending_add(p, &d, 3, &c[2], 300, &idd);   /* 1300 */
	assert_int_equal(hf_pending_take(p, idb, got), 1);  /* answered in time */
	assert_int_equal(hf_pending_expire(p, 1099, got), 0);
	assert_int_equal(hf_pending_expire(p, 1250, got), 1);
	assert_ptr_equal(got[0], &c[0]);
	assert_int_equal(hf_pending_expire(p, 1250, got), 0);  /* b is gone, d not due */
	assert_int_equal(hf_pending_expire(p, 5000, got), 1);
	assert_ptr_equal(got[0], &c[2]);
	assert_int_equal(hf_pending_expire(p, 5000, got), 0);
	/* A fill for a question that timed out is recognised as stale. */
	assert_int_equal(hf_pending_take(p, ida, got), 0);
	uint32_t again;
	assert_int_equal(hf_pending_add(p, &a, 1, &c[0], 6000, &again), HF_PENDING_NEW);
	assert_int_not_equal(again, ida);  /* same slot maybe, new generation */
	assert_int_equal(hf_pending_take(p, ida, got), 0);
	assert_int_equal(hf_pending_take(p, again, got), 1);
}

static void count_cb(void *ctx, const struct hf_pending_key *k, uint32_t req_id)
{
	(void)k;
	(void)req_id;
	(*(int *)ctx)++;
}

/* Many adds and removes with colliding hashes keep the index consistent. */
static void test_churn_with_collisions(void **state)
{
	(void)state;
	const struct hf_pending_config big = {
		.max_questions = 64, .max_waiters = 128, .max_waiters_per_q = 2, .timeout_ns = 10,
	};
	struct hf_pending *p = hf_pending_create(&big);
	uint8_t names[64][4];
	uint32_t ids[64] = { 0 };
	void *got[2];
	int c;
	uint64_t rnd = 1;

	for (int round = 0; round < 20000; round++) {
		rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
		unsigned i = (unsigned)(rnd >> 33) % 64;
		names[i][0] = 2;
		names[i][1] = (uint8_t)('a' + i % 26);
		names[i][2] = (uint8_t)('a' + i / 26);
		names[i][3] = 0;
		struct hf_pending_key k = { .qname = names[i], .qname_len = 4, .qtype = 1, .qclass = 1 };
		uint64_t h = i % 5;  /* heavy collisions */
		if (ids[i] == 0) {
			assert_int_equal(hf_pending_add(p, &k, h, &c, 0, &ids[i]), HF_PENDING_NEW);
		} else if (rnd & (1ULL << 20)) {
			uint32_t unused;
			enum hf_pending_result r = hf_pending_add(p, &k, h, &c, 0, &unused);
			assert_true(r == HF_PENDING_JOINED || r == HF_PENDING_BUSY);
		} else {
			assert_true(hf_pending_take(p, ids[i], got) >= 1);
			ids[i] = 0;
		}
	}
	int n = 0;
	hf_pending_foreach(p, count_cb, &n);
	assert_int_equal(n, hf_pending_questions(p));
	/* Everything still outstanding expires, through the age list. */
	unsigned expired = 0, waiters = hf_pending_waiters(p), got_n;
	while ((got_n = hf_pending_expire(p, UINT64_MAX, got)) > 0)
		expired += got_n;
	assert_int_equal(expired, waiters);
	assert_int_equal(hf_pending_questions(p), 0);
	hf_pending_destroy(p);
}

static void test_bad_config(void **state)
{
	(void)state;
	struct hf_pending_config c = cfg;
	c.max_questions = 0;
	assert_null(hf_pending_create(&c));
	c = cfg;
	c.max_questions = 70000;
	assert_null(hf_pending_create(&c));
	c = cfg;
	c.max_waiters_per_q = 0;
	assert_null(hf_pending_create(&c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_coalesce_and_take, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_in_order, setup, teardown),
		cmocka_unit_test(test_churn_with_collisions),
		cmocka_unit_test(test_bad_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
