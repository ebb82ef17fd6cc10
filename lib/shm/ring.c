/*
 * Ring set-up and validation. The fast path (enqueue, reserve, peek, release)
 * is inline in "include/holdfast/ring.h".
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "include/holdfast/errcode.h"
#include "include/holdfast/ring.h"

static bool hf_ring_geometry_ok(uint32_t slot_size, uint32_t slot_count)
{
	return slot_size >= HF_RING_SLOT_MIN && slot_size <= HF_RING_SLOT_MAX &&
	       slot_size % HF_RING_LINE == 0 &&
	       slot_count >= 2 && slot_count <= HF_RING_COUNT_MAX &&
	       (slot_count & (slot_count - 1)) == 0;
}

size_t hf_ring_memsize(uint32_t slot_size, uint32_t slot_count)
{
	if (!hf_ring_geometry_ok(slot_size, slot_count))
		return 0;
	return sizeof(struct hf_ring) + (size_t)slot_size * slot_count;
}

int hf_ring_init(struct hf_ring *r, uint32_t slot_size, uint32_t slot_count)
{
	if (!hf_ring_geometry_ok(slot_size, slot_count) || (uintptr_t)r % HF_RING_PAIR != 0)
		return -EINVAL;

	memset(r, 0, sizeof(*r));
	r->magic = HF_RING_MAGIC;
	r->slot_size = slot_size;
	r->slot_count = slot_count;
	r->mask = slot_count - 1;
	r->payload_max = slot_size - (uint32_t)sizeof(struct hf_ring_msg);
	atomic_init(&r->head, 0);
	r->prod_tail = 0;
	atomic_init(&r->tail, 0);
	r->cons_head = 0;
	atomic_init(&r->bad_msgs, 0);
	return 0;
}

int hf_ring_check(const struct hf_ring *r, uint32_t slot_size, uint32_t slot_count)
{
	uint64_t head, tail;

	if (r->magic != HF_RING_MAGIC || r->slot_size != slot_size ||
	    r->slot_count != slot_count || r->mask != slot_count - 1 ||
	    r->payload_max != slot_size - sizeof(struct hf_ring_msg))
		return HF_ESHMLAYOUT;

	/* Tail first: head only grows, so a later head is never below it. */
	tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	head = atomic_load_explicit(&r->head, memory_order_acquire);
	if (head - tail > slot_count)
		return HF_ESHMRING;
	return 0;
}
