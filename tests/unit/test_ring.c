/*
 * Unit tests of the SPSC ring ("include/holdfast/ring.h"), single-threaded:
 * the cross-process behaviour is exercised by tests/stress/stress_shm.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "include/holdfast/errcode.h"
#include "include/holdfast/ring.h"

#define SLOT_SIZE  128U
#define SLOT_COUNT 8U
#define PAYLOAD_MAX (SLOT_SIZE - 8U)

/* aligned_alloc() wants a size that is a multiple of the alignment. */
static void *alloc_ring_memory(size_t size)
{
	return aligned_alloc(HF_RING_PAIR, (size + HF_RING_PAIR - 1) / HF_RING_PAIR * HF_RING_PAIR);
}

static int setup_ring(void **state)
{
	size_t size = hf_ring_memsize(SLOT_SIZE, SLOT_COUNT);
	struct hf_ring *r = alloc_ring_memory(size);

	if (!r)
		return -1;
	memset(r, 0xa5, size); /* init must not rely on zeroed memory */
	if (hf_ring_init(r, SLOT_SIZE, SLOT_COUNT) != 0) {
		free(r);
		return -1;
	}
	*state = r;
	return 0;
}

static int teardown_ring(void **state)
{
	free(*state);
	return 0;
}

/* Moves every index to `start`, as if the ring had already passed that many. */
static void ring_start_at(struct hf_ring *r, uint64_t start)
{
	atomic_store(&r->head, start);
	atomic_store(&r->tail, start);
	r->prod_tail = start;
	r->cons_head = start;
}

/* Message i: payload of (i % PAYLOAD_MAX) + 8 bytes starting with i. */
static uint32_t msg_len(uint64_t i)
{
	return (uint32_t)(8 + i % (PAYLOAD_MAX - 7));
}

static void msg_fill(unsigned char *buf, uint64_t i)
{
	uint32_t len = msg_len(i);

	memcpy(buf, &i, sizeof(i));
	for (uint32_t k = 8; k < len; k++)
		buf[k] = (unsigned char)(i * 31 + k);
}

static void msg_check(const struct hf_ring_msg *m, uint64_t i)
{
	unsigned char want[PAYLOAD_MAX];

	assert_int_equal(m->len, msg_len(i));
	assert_int_equal(m->type, (uint16_t)i);
	msg_fill(want, i);
	assert_memory_equal(m->data, want, m->len);
}

static void test_geometry(void **state)
{
	struct hf_ring *r = *state;
	struct hf_ring *odd;
	unsigned char *raw;

	assert_int_equal(hf_ring_memsize(SLOT_SIZE, SLOT_COUNT), 384 + SLOT_SIZE * SLOT_COUNT);
	assert_int_equal(hf_ring_memsize(SLOT_SIZE, 6), 0);       /* not a power of two */
	assert_int_equal(hf_ring_memsize(SLOT_SIZE, 1), 0);
	assert_int_equal(hf_ring_memsize(100, SLOT_COUNT), 0);    /* not whole lines */
	assert_int_equal(hf_ring_memsize(32, SLOT_COUNT), 0);
	assert_int_equal(hf_ring_memsize(HF_RING_SLOT_MAX * 2, 2), 0);
	assert_int_equal(hf_ring_memsize(64, HF_RING_COUNT_MAX * 2), 0);
	assert_int_equal(hf_ring_init(r, SLOT_SIZE, 12), -EINVAL);

	raw = alloc_ring_memory(hf_ring_memsize(SLOT_SIZE, SLOT_COUNT) + 64);
	assert_non_null(raw);
	odd = (struct hf_ring *)(void *)(raw + 64);
	assert_int_equal(hf_ring_init(odd, SLOT_SIZE, SLOT_COUNT), -EINVAL);
	free(raw);

	assert_int_equal(hf_ring_init(r, SLOT_SIZE, SLOT_COUNT), 0);
	assert_int_equal(hf_ring_payload_max(r), PAYLOAD_MAX);
	assert_int_equal(hf_ring_check(r, SLOT_SIZE, SLOT_COUNT), 0);
	assert_int_equal(hf_ring_check(r, SLOT_SIZE, SLOT_COUNT * 2), HF_ESHMLAYOUT);
	assert_int_equal(hf_ring_check(r, SLOT_SIZE * 2, SLOT_COUNT), HF_ESHMLAYOUT);
	r->magic ^= 1;
	assert_int_equal(hf_ring_check(r, SLOT_SIZE, SLOT_COUNT), HF_ESHMLAYOUT);
}

static void test_empty_full(void **state)
{
	struct hf_ring *r = *state;
	const struct hf_ring_msg *m;
	uint64_t v;

	assert_int_equal(hf_ring_count(r), 0);
	assert_int_equal(hf_ring_free_count(r), SLOT_COUNT);
	assert_null(hf_ring_peek(r));
	assert_non_null(hf_ring_reserve(r));

	for (v = 0; v < SLOT_COUNT; v++)
		assert_int_equal(hf_ring_enqueue(r, 7, &v, sizeof(v)), 0);
	assert_int_equal(hf_ring_count(r), SLOT_COUNT);
	assert_int_equal(hf_ring_free_count(r), 0);
	assert_int_equal(hf_ring_enqueue(r, 7, &v, sizeof(v)), -ENOBUFS);
	assert_null(hf_ring_reserve(r));

	/* Peeking does not acknowledge: the same message comes back. */
	m = hf_ring_peek(r);
	assert_non_null(m);
	assert_ptr_equal(hf_ring_peek(r), m);
	assert_int_equal(hf_ring_enqueue(r, 7, &v, sizeof(v)), -ENOBUFS);

	for (v = 0; v < SLOT_COUNT; v++) {
		m = hf_ring_peek(r);
		assert_non_null(m);
		assert_int_equal(m->type, 7);
		assert_int_equal(m->len, sizeof(v));
		assert_memory_equal(m->data, &v, sizeof(v));
		hf_ring_release(r, 1);
	}
	assert_null(hf_ring_peek(r));
	assert_int_equal(hf_ring_count(r), 0);
	/* Empty payload is a valid message. */
	assert_int_equal(hf_ring_enqueue(r, 9, NULL, 0), 0);
	m = hf_ring_peek(r);
	assert_non_null(m);
	assert_int_equal(m->len, 0);
	assert_int_equal(m->type, 9);
}

static void test_burst_partial(void **state)
{
	struct hf_ring *r = *state;
	struct hf_ring_iov iov[12];
	uint64_t vals[12];
	const struct hf_ring_msg *got[12];

	for (unsigned i = 0; i < 12; i++) {
		vals[i] = i;
		iov[i] = (struct hf_ring_iov){ .data = &vals[i], .len = sizeof(vals[i]),
					       .type = (uint16_t)i, .flags = 0x100 };
	}
	assert_int_equal(hf_ring_enqueue_burst(r, iov, 12), SLOT_COUNT);
	assert_int_equal(hf_ring_enqueue_burst(r, iov + 8, 4), 0);

	assert_int_equal(hf_ring_peek_burst(r, got, 3), 3);
	hf_ring_release(r, 3);
	assert_int_equal(hf_ring_enqueue_burst(r, iov + 8, 4), 3);

	assert_int_equal(hf_ring_peek_burst(r, got, 12), SLOT_COUNT);
	for (unsigned i = 0; i < SLOT_COUNT; i++) {
		assert_int_equal(got[i]->type, i + 3);
		assert_int_equal(got[i]->flags, 0x100);
		assert_memory_equal(got[i]->data, &vals[i + 3], sizeof(vals[i]));
	}
	/* Partial acknowledgement: the rest is delivered again, in order. */
	hf_ring_release(r, 5);
	assert_int_equal(hf_ring_peek_burst(r, got, 12), 3);
	assert_int_equal(got[0]->type, 8);
	hf_ring_release(r, 3);
	assert_int_equal(hf_ring_peek_burst(r, got, 12), 0);
	assert_int_equal(hf_ring_enqueue_burst(r, iov, 0), 0);
}

static void test_max_size_and_oversize(void **state)
{
	struct hf_ring *r = *state;
	unsigned char big[PAYLOAD_MAX + 1];
	struct hf_ring_iov iov[3];
	const struct hf_ring_msg *m;

	for (unsigned i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i ^ 0x5a);
	assert_int_equal(hf_ring_enqueue(r, 1, big, PAYLOAD_MAX + 1), -EMSGSIZE);
	assert_int_equal(hf_ring_count(r), 0);

	assert_int_equal(hf_ring_enqueue(r, 2, big, PAYLOAD_MAX), 0);
	m = hf_ring_peek(r);
	assert_non_null(m);
	assert_int_equal(m->len, PAYLOAD_MAX);
	assert_memory_equal(m->data, big, PAYLOAD_MAX);
	/* The whole slot was used and nothing beyond it. */
	assert_ptr_equal(m->data + PAYLOAD_MAX, (const unsigned char *)m + SLOT_SIZE);
	hf_ring_release(r, 1);

	/* A burst stops at the first oversize message. */
	iov[0] = (struct hf_ring_iov){ .data = big, .len = 10, .type = 3 };
	iov[1] = (struct hf_ring_iov){ .data = big, .len = PAYLOAD_MAX + 1, .type = 4 };
	iov[2] = (struct hf_ring_iov){ .data = big, .len = 10, .type = 5 };
	assert_int_equal(hf_ring_enqueue_burst(r, iov, 3), 1);
	assert_int_equal(hf_ring_count(r), 1);
	assert_int_equal(hf_ring_enqueue_burst(r, iov + 1, 2), 0);
}

/* Interleaved bursts of varying sizes over many laps, starting at `start`. */
static void run_laps(struct hf_ring *r, uint64_t start, uint64_t total)
{
	unsigned char buf[PAYLOAD_MAX];
	uint64_t produced = 0, consumed = 0;
	unsigned step = 0;

	ring_start_at(r, start);
	while (consumed < total) {
		unsigned want = 1 + (step * 7) % (SLOT_COUNT + 3);
		struct hf_ring_msg *slots[SLOT_COUNT + 3];
		const struct hf_ring_msg *got[SLOT_COUNT + 3];
		unsigned n;

		/* Alternate copying enqueue and in-place reserve/commit. */
		if (step % 2) {
			struct hf_ring_iov iov;

			for (n = 0; n < want && produced < total; n++) {
				msg_fill(buf, produced);
				iov = (struct hf_ring_iov){ .data = buf, .len = msg_len(produced),
							    .type = (uint16_t)produced };
				if (hf_ring_enqueue_burst(r, &iov, 1) != 1)
					break;
				produced++;
			}
		} else {
			if (want > total - produced)
				want = (unsigned)(total - produced);
			n = hf_ring_reserve_burst(r, slots, want);
			for (unsigned i = 0; i < n; i++) {
				slots[i]->len = msg_len(produced + i);
				slots[i]->type = (uint16_t)(produced + i);
				slots[i]->flags = 0;
				msg_fill(slots[i]->data, produced + i);
			}
			hf_ring_commit(r, n);
			produced += n;
		}
		assert_true(produced - consumed <= SLOT_COUNT);
		assert_int_equal(hf_ring_count(r), produced - consumed);

		want = 1 + (step * 5) % (SLOT_COUNT + 3);
		n = hf_ring_peek_burst(r, got, want);
		assert_int_equal(n, want < produced - consumed ? want : produced - consumed);
		for (unsigned i = 0; i < n; i++)
			msg_check(got[i], consumed + i);
		/* Acknowledge only part of it now and then. */
		if (n && step % 3 == 0)
			n--;
		hf_ring_release(r, n);
		consumed += n;
		step++;
	}
	assert_int_equal(atomic_load(&r->head), start + total);
	assert_int_equal(atomic_load(&r->tail), start + total);
}

static void test_many_laps(void **state)
{
	run_laps(*state, 0, 200000);
}

static void test_wraparound_64bit(void **state)
{
	struct hf_ring *r = *state;

	/* Indices pass 2^64 (which real rings never reach) and the unsigned
	 * arithmetic still holds; and a start that is not a multiple of the
	 * slot count puts index 0 in the middle of the slots. */
	run_laps(r, UINT64_MAX - 1000 * SLOT_COUNT - 3, 5000 * SLOT_COUNT);
	assert_true(atomic_load(&r->head) < 5000 * SLOT_COUNT);
	/* And from far beyond 2^32, where a 32-bit index would have wrapped. */
	run_laps(r, (UINT64_C(1) << 32) - 5, 1000 * SLOT_COUNT);
}

static void test_reserve_commit(void **state)
{
	struct hf_ring *r = *state;
	struct hf_ring_msg *slots[SLOT_COUNT];
	struct hf_ring_msg *again[SLOT_COUNT];
	const struct hf_ring_msg *got[SLOT_COUNT];

	assert_int_equal(hf_ring_reserve_burst(r, slots, 3), 3);
	for (unsigned i = 0; i < 3; i++) {
		slots[i]->len = 4;
		slots[i]->type = (uint16_t)(100 + i);
		slots[i]->flags = 0;
		memcpy(slots[i]->data, "abcd", 4);
	}
	/* Reserved but not committed: invisible to the consumer. */
	assert_int_equal(hf_ring_peek_burst(r, got, SLOT_COUNT), 0);
	hf_ring_commit(r, 2);
	assert_int_equal(hf_ring_peek_burst(r, got, SLOT_COUNT), 2);
	assert_int_equal(got[1]->type, 101);
	/* The uncommitted third slot is offered again. */
	assert_int_equal(hf_ring_reserve_burst(r, again, SLOT_COUNT), SLOT_COUNT - 2);
	assert_ptr_equal(again[0], slots[2]);
	hf_ring_commit(r, 1);
	assert_int_equal(hf_ring_peek_burst(r, got, SLOT_COUNT), 3);
	assert_int_equal(got[2]->type, 102);
	assert_memory_equal(got[2]->data, "abcd", 4);
}

static void test_dequeue_copy(void **state)
{
	struct hf_ring *r = *state;
	alignas(8) unsigned char store[SLOT_COUNT][SLOT_SIZE];
	struct hf_ring_msg *bufs[SLOT_COUNT];
	unsigned char payload[PAYLOAD_MAX];

	for (unsigned i = 0; i < SLOT_COUNT; i++)
		bufs[i] = (struct hf_ring_msg *)(void *)store[i];
	for (uint64_t i = 0; i < 5; i++) {
		msg_fill(payload, i * 13);
		assert_int_equal(hf_ring_enqueue(r, (uint16_t)(i * 13), payload, msg_len(i * 13)), 0);
	}
	assert_int_equal(hf_ring_dequeue_burst(r, bufs, 3), 3);
	for (unsigned i = 0; i < 3; i++)
		msg_check(bufs[i], i * 13);
	/* Copied means acknowledged. */
	assert_int_equal(hf_ring_count(r), 2);
	assert_int_equal(hf_ring_dequeue_burst(r, bufs, SLOT_COUNT), 2);
	msg_check(bufs[1], 4 * 13);
	assert_int_equal(hf_ring_dequeue_burst(r, bufs, SLOT_COUNT), 0);
}

static void test_bad_length_from_peer(void **state)
{
	struct hf_ring *r = *state;
	struct hf_ring_msg *slot;
	const struct hf_ring_msg *got[2];

	/* A producer that bypasses the API and writes a length beyond the slot. */
	slot = hf_ring_reserve(r);
	assert_non_null(slot);
	slot->len = PAYLOAD_MAX + 1;
	slot->type = 42;
	atomic_store(&r->head, atomic_load(&r->head) + 1);
	assert_int_equal(hf_ring_enqueue(r, 43, "ok", 2), 0);

	assert_int_equal(hf_ring_peek_burst(r, got, 2), 2);
	assert_int_equal(got[0]->type, HF_RING_MSG_BAD);
	assert_int_equal(got[0]->len, 0);
	assert_int_equal(got[1]->type, 43);
	assert_int_equal(atomic_load(&r->bad_msgs), 1);
}

static void test_inconsistent_indices(void **state)
{
	struct hf_ring *r = *state;
	const struct hf_ring_msg *got[2];
	uint64_t v = 1;

	/* head - tail > slot_count: neither side may move. */
	atomic_store(&r->head, SLOT_COUNT + 1);
	assert_int_equal(hf_ring_check(r, SLOT_SIZE, SLOT_COUNT), HF_ESHMRING);
	assert_int_equal(hf_ring_peek_burst(r, got, 2), 0);
	assert_int_equal(hf_ring_enqueue(r, 1, &v, sizeof(v)), -ENOBUFS);
	assert_int_equal(hf_ring_count(r), SLOT_COUNT);

	/* tail beyond head. */
	ring_start_at(r, 100);
	atomic_store(&r->tail, 101);
	r->prod_tail = 101;
	assert_int_equal(hf_ring_check(r, SLOT_SIZE, SLOT_COUNT), HF_ESHMRING);
	assert_int_equal(hf_ring_enqueue(r, 1, &v, sizeof(v)), -ENOBUFS);
	assert_int_equal(hf_ring_peek_burst(r, got, 2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_geometry, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_empty_full, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_burst_partial, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_max_size_and_oversize, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_many_laps, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_wraparound_64bit, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_reserve_commit, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_dequeue_copy, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_bad_length_from_peer, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_inconsistent_indices, setup_ring, teardown_ring),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
