/*
 * Single-producer/single-consumer message ring in shared memory.
 *
 * A ring is one contiguous block that both processes map (see
 * "include/holdfast/shm.h" for where the rings sit in the region). It holds no
 * pointer: every position is an index, every slot an offset from the ring's
 * own address, so each process may map the region anywhere.
 *
 * Binary layout (offsets from the start of struct hf_ring; 64-byte lines,
 * grouped in pairs of 128 bytes because the adjacent-line prefetcher of x86
 * cores fetches lines two at a time, and a written line paired with a line
 * the other side writes would bounce just the same):
 *
 *      0  geometry   magic, slot_size, slot_count, mask, payload_max
 *                    written once by hf_ring_init(), read-only afterwards
 *    128  producer   head (next index to write) + cached copy of tail
 *                    written only by the producer
 *    256  consumer   tail (next index to read) + cached copy of head
 *                    + count of malformed messages; written only by the consumer
 *    384  slots      slot_count slots of slot_size bytes each;
 *                    slot of index i is at 384 + (i & mask) * slot_size
 *
 * Each slot holds one message (struct hf_ring_msg): an 8-byte header
 *
 *      0  u32 len     payload length, 0 ..payload_max (= slot_size - 8)
 *      4  u16 type    message type; the module using the ring defines them
 *      6  u16 flags   per-type flags; 0 unless the type says otherwise
 *      8  payload     len bytes, 8-byte aligned
 *
 * followed by its payload. Integers are in host order: both processes run on
 * the same host, so the ring is never carried over a network.
 *
 * Indices are 64-bit and only ever grow; the slot is index & mask. At 10^9
 * messages per second a 64-bit index lasts 584 years, so "head - tail" is the
 * number of messages in the ring with no wrap or ABA case to handle, and a
 * ring may be compared across restarts by index alone. (The arithmetic is
 * also correct if an index does wrap past 2^64: it is all modulo 2^64.)
 *
 * Protocol (one producer thread and one consumer thread at a time; if a
 * process drives a ring from several threads, it must serialise them itself):
 *
 *  1. The producer writes messages into the slots from head onwards, as far as
 *     tail + slot_count, then publishes them all at once with a release store
 *     of head. The release orders the slot writes before the new head.
 *  2. The consumer load-acquires head, which makes the slot contents below it
 *     visible, reads (or processes in place) the messages from tail to head,
 *     and only then acknowledges them with a release store of tail. The
 *     release orders its reads of the slots before the new tail, so the
 *     producer, which load-acquires tail before reusing a slot, never
 *     overwrites a message that is still being read.
 *  3. Each side keeps a cached copy of the other side's index on its own line
 *     and refreshes it only when the cache says the ring is full (producer)
 *     or empty (consumer); in a busy ring the other side's line is then read
 *     once per burst, not once per message.
 *
 * Restarts: all of a side's state is in its own cache line of the ring. A
 * consumer that is killed and restarted resumes at tail: messages it had read
 * but not yet acknowledged are delivered again, and nothing acknowledged is.
 * A producer that is killed and restarted resumes at head: messages it had
 * written but not published are simply overwritten. The cached copies are
 * always behind the true value, so a restarted side may trust them.
 *
 * The two processes trust each other (same user, mode 0600 region) but not
 * blindly: a consumer never trusts a length that would reach past the end of
 * the slot (such a message is delivered as HF_RING_MSG_BAD with length 0 and
 * counted in bad_msgs), and neither side moves while the indices say the ring
 * holds more than slot_count messages.
 */
#pragma once

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "include/holdfast/defines.h"

/* A non-lock-free atomic is emulated with a lock table private to each
 * process, which would silently break every index shared with the peer. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free to be shared");

#define HF_RING_MAGIC        UINT32_C(0x474e4952) /*!< "RING" in little-endian memory order */
#define HF_RING_LINE         64                   /*!< cache line, bytes */
#define HF_RING_PAIR         128                  /*!< what the adjacent-line prefetcher fetches, bytes */
#define HF_RING_SLOT_MIN     64                   /*!< smallest slot, bytes (one line) */
#define HF_RING_SLOT_MAX     (1U << 20)           /*!< largest slot, bytes */
#define HF_RING_COUNT_MAX    (1U << 24)           /*!< most slots in one ring */
#define HF_RING_MSG_BAD      UINT16_C(0xffff)     /*!< type given to a message whose length was invalid */

/*! One message in a slot; see the layout at the top of this file. */
struct hf_ring_msg {
	uint32_t len;              /*!< payload bytes, <= the ring's payload_max */
	uint16_t type;             /*!< message type, defined by the ring's user */
	uint16_t flags;            /*!< per-type flags */
	alignas(8) unsigned char data[]; /*!< payload */
};

_Static_assert(sizeof(struct hf_ring_msg) == 8, "ring message header is 8 bytes");

/*! A message to copy into a ring (hf_ring_enqueue_burst()). */
struct hf_ring_iov {
	const void *data;          /*!< payload; may be NULL when len is 0 */
	uint32_t len;              /*!< payload bytes */
	uint16_t type;             /*!< message type */
	uint16_t flags;            /*!< per-type flags */
};

/*! Ring header; slots follow. See the layout at the top of this file. */
struct hf_ring {
	/* Geometry: written once by hf_ring_init(), then read-only. */
	uint32_t magic;            /*!< HF_RING_MAGIC */
	uint32_t slot_size;        /*!< bytes per slot, a multiple of HF_RING_LINE */
	uint32_t slot_count;       /*!< slots, a power of two */
	uint32_t mask;             /*!< slot_count - 1 */
	uint32_t payload_max;      /*!< slot_size - sizeof(struct hf_ring_msg) */

	/* Producer: written only by the producer. */
	alignas(HF_RING_PAIR) _Atomic uint64_t head; /*!< index of the next message to publish */
	uint64_t prod_tail;        /*!< producer's last view of tail (<= tail) */

	/* Consumer: written only by the consumer. */
	alignas(HF_RING_PAIR) _Atomic uint64_t tail; /*!< index of the next message to consume */
	uint64_t cons_head;        /*!< consumer's last view of head (<= head) */
	_Atomic uint64_t bad_msgs; /*!< messages delivered as HF_RING_MSG_BAD */

	alignas(HF_RING_PAIR) unsigned char slots[]; /*!< slot_count * slot_size bytes */
};

_Static_assert(offsetof(struct hf_ring, head) == 128, "producer line at 128");
_Static_assert(offsetof(struct hf_ring, tail) == 256, "consumer line at 256");
_Static_assert(sizeof(struct hf_ring) == 384, "slots start at 384");

/*!
 * \brief Bytes a ring of the given geometry occupies (header and slots).
 *
 * \param slot_size   bytes per slot (see hf_ring_init()).
 * \param slot_count  number of slots.
 * \return The size, or 0 if the geometry is invalid.
 */
size_t hf_ring_memsize(uint32_t slot_size, uint32_t slot_count);

/*!
 * \brief Initialise a ring in memory of at least hf_ring_memsize() bytes.
 *
 * Call before any producer or consumer uses the memory (the dataplane does it
 * while creating the region, before publishing it). Indices start at 0.
 *
 * \param r           the ring; 128-byte aligned.
 * \param slot_size   bytes per slot: a multiple of HF_RING_LINE in
 *                    [HF_RING_SLOT_MIN, HF_RING_SLOT_MAX].
 * \param slot_count  a power of two in [2, HF_RING_COUNT_MAX].
 * \return 0, or -EINVAL for a bad geometry or alignment.
 */
int hf_ring_init(struct hf_ring *r, uint32_t slot_size, uint32_t slot_count);

/*!
 * \brief Check a ring found in a mapped region before using it.
 *
 * \param r           the ring.
 * \param slot_size   the slot size this build expects.
 * \param slot_count  the slot count this build expects.
 * \return 0; HF_ESHMLAYOUT if the magic or geometry differs from what is
 *         expected; HF_ESHMRING if its indices say it holds more messages
 *         than it has slots.
 */
int hf_ring_check(const struct hf_ring *r, uint32_t slot_size, uint32_t slot_count);

/* Slot of index i. */
static inline struct hf_ring_msg *hf_ring_slot_(struct hf_ring *r, uint64_t i)
{
	return (struct hf_ring_msg *)(void *)(r->slots + (size_t)(i & r->mask) * r->slot_size);
}

/*!
 * \brief Largest payload one message can carry in this ring, in bytes.
 */
static inline uint32_t hf_ring_payload_max(const struct hf_ring *r)
{
	return r->payload_max;
}

/*!
 * \brief Number of messages in the ring (published, not yet acknowledged).
 *
 * Either side, or a third party, may call it; the answer may be out of date
 * as soon as it is returned.
 */
static inline uint32_t hf_ring_count(const struct hf_ring *r)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	uint64_t used = head - tail;

	/* Loaded separately, the two may disagree for a moment. */
	return used > r->slot_count ? r->slot_count : (uint32_t)used;
}

/*!
 * \brief Number of free slots, as the producer sees them.
 */
static inline uint32_t hf_ring_free_count(const struct hf_ring *r)
{
	return r->slot_count - hf_ring_count(r);
}

/* Producer: free slots from head, refreshing the cached tail if fewer than
 * `want` seem free. Returns 0 if the indices are inconsistent. */
static inline uint32_t hf_ring_prod_free_(struct hf_ring *r, uint64_t head, uint32_t want)
{
	uint64_t used = head - r->prod_tail;

	if (used > r->slot_count || r->slot_count - used < want) {
		/* Acquire: the consumer's reads of the slots below tail happen
		 * before we overwrite them. */
		r->prod_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
		used = head - r->prod_tail;
		if (hf_unlikely(used > r->slot_count))
			return 0;
	}
	return r->slot_count - (uint32_t)used;
}

/* Consumer: messages available from tail, refreshing the cached head if fewer
 * than `want` seem available. Returns 0 if the indices are inconsistent. */
static inline uint32_t hf_ring_cons_avail_(struct hf_ring *r, uint64_t tail, uint32_t want)
{
	uint64_t avail = r->cons_head - tail;

	if (avail > r->slot_count || avail < want) {
		/* Acquire: the producer's writes to the slots below head are
		 * visible once we see head. */
		r->cons_head = atomic_load_explicit(&r->head, memory_order_acquire);
		avail = r->cons_head - tail;
		if (hf_unlikely(avail > r->slot_count))
			return 0;
	}
	return (uint32_t)avail;
}

/*!
 * \brief Copy up to n messages into the ring and publish them.
 *
 * Producer only. Stops at the first message whose payload exceeds
 * hf_ring_payload_max() (it and the following ones are not enqueued) and when
 * the ring is full.
 *
 * \param r     the ring.
 * \param msgs  n messages.
 * \param n     number of messages.
 * \return The number of messages enqueued, from the start of msgs (0 .. n).
 */
static inline unsigned hf_ring_enqueue_burst(struct hf_ring *r, const struct hf_ring_iov *msgs,
					     unsigned n)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t room = hf_ring_prod_free_(r, head, n);
	unsigned i;

	if (n > room)
		n = room;
	for (i = 0; i < n; i++) {
		struct hf_ring_msg *m;

		if (hf_unlikely(msgs[i].len > r->payload_max))
			break;
		m = hf_ring_slot_(r, head + i);
		m->len = msgs[i].len;
		m->type = msgs[i].type;
		m->flags = msgs[i].flags;
		if (msgs[i].len)
			memcpy(m->data, msgs[i].data, msgs[i].len);
	}
	if (i)
		atomic_store_explicit(&r->head, head + i, memory_order_release);
	return i;
}

/*!
 * \brief Copy one message into the ring and publish it.
 *
 * Producer only.
 *
 * \return 0; -EMSGSIZE if len exceeds hf_ring_payload_max() (nothing is
 *         enqueued); -ENOBUFS if the ring is full.
 */
static inline int hf_ring_enqueue(struct hf_ring *r, uint16_t type, const void *data, uint32_t len)
{
	struct hf_ring_iov iov = { .data = data, .len = len, .type = type, .flags = 0 };

	if (hf_unlikely(len > r->payload_max))
		return -EMSGSIZE;
	return hf_ring_enqueue_burst(r, &iov, 1) == 1 ? 0 : -ENOBUFS;
}

/*!
 * \brief Reserve up to n free slots to build messages in place.
 *
 * Producer only. The slots stay invisible to the consumer until
 * hf_ring_commit(). Fill in each message's len (<= hf_ring_payload_max()),
 * type, flags and payload. Reserving again without committing returns the
 * same slots.
 *
 * \param r      the ring.
 * \param slots  receives up to n slot pointers, in ring order.
 * \param n      number of slots wanted.
 * \return The number of slots reserved (0 if the ring is full).
 */
static inline unsigned hf_ring_reserve_burst(struct hf_ring *r, struct hf_ring_msg **slots,
					     unsigned n)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t room = hf_ring_prod_free_(r, head, n);
	unsigned i;

	if (n > room)
		n = room;
	for (i = 0; i < n; i++)
		slots[i] = hf_ring_slot_(r, head + i);
	return n;
}

/*!
 * \brief Reserve one free slot to build a message in place.
 *
 * Producer only; see hf_ring_reserve_burst().
 *
 * \return The slot, or NULL if the ring is full.
 */
static inline struct hf_ring_msg *hf_ring_reserve(struct hf_ring *r)
{
	struct hf_ring_msg *m;

	return hf_ring_reserve_burst(r, &m, 1) ? m : NULL;
}

/*!
 * \brief Publish the first n reserved slots.
 *
 * Producer only, after hf_ring_reserve_burst() returned at least n. A
 * message whose len exceeds hf_ring_payload_max() is a bug in the caller:
 * debug builds abort, release builds publish it as HF_RING_MSG_BAD.
 *
 * \param r  the ring.
 * \param n  number of messages to publish.
 */
static inline void hf_ring_commit(struct hf_ring *r, unsigned n)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);

	if (hf_fails_assert(n <= r->slot_count - (head - r->prod_tail)))
		return;
	for (unsigned i = 0; i < n; i++) {
		struct hf_ring_msg *m = hf_ring_slot_(r, head + i);

		if (hf_fails_assert(m->len <= r->payload_max)) {
			m->len = 0;
			m->type = HF_RING_MSG_BAD;
		}
	}
	atomic_store_explicit(&r->head, head + n, memory_order_release);
}

/*!
 * \brief Look at up to n messages without acknowledging them.
 *
 * Consumer only. The messages stay in their slots, and valid, until
 * hf_ring_release(); peeking again without releasing returns the same
 * messages. A message whose length exceeds the slot is returned with type
 * HF_RING_MSG_BAD and length 0 (and counted in r->bad_msgs).
 *
 * \param r     the ring.
 * \param msgs  receives up to n message pointers, oldest first.
 * \param n     number of messages wanted.
 * \return The number of messages returned (0 if the ring is empty).
 */
static inline unsigned hf_ring_peek_burst(struct hf_ring *r, const struct hf_ring_msg **msgs,
					  unsigned n)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint32_t avail = hf_ring_cons_avail_(r, tail, n);

	if (n > avail)
		n = avail;
	for (unsigned i = 0; i < n; i++) {
		struct hf_ring_msg *m = hf_ring_slot_(r, tail + i);

		/* Until we release it the slot is ours, so we may mark it. */
		if (hf_unlikely(m->len > r->payload_max)) {
			m->len = 0;
			m->type = HF_RING_MSG_BAD;
			atomic_store_explicit(&r->bad_msgs,
					      atomic_load_explicit(&r->bad_msgs, memory_order_relaxed) + 1,
					      memory_order_relaxed);
		}
		msgs[i] = m;
	}
	return n;
}

/*!
 * \brief Look at the oldest message without acknowledging it.
 *
 * Consumer only; see hf_ring_peek_burst().
 *
 * \return The message, or NULL if the ring is empty.
 */
static inline const struct hf_ring_msg *hf_ring_peek(struct hf_ring *r)
{
	const struct hf_ring_msg *m;

	return hf_ring_peek_burst(r, &m, 1) ? m : NULL;
}

/*!
 * \brief Acknowledge the n oldest messages, freeing their slots.
 *
 * Consumer only, after a peek returned at least n messages; pointers to
 * those messages must not be used afterwards.
 *
 * \param r  the ring.
 * \param n  number of messages to acknowledge.
 */
static inline void hf_ring_release(struct hf_ring *r, unsigned n)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);

	if (hf_fails_assert(n <= r->cons_head - tail))
		return;
	atomic_store_explicit(&r->tail, tail + n, memory_order_release);
}

/*!
 * \brief Copy up to n messages out of the ring and acknowledge them.
 *
 * Consumer only. Each message (header and payload) is copied to its buffer;
 * once this returns, the messages are acknowledged, so a consumer that must
 * not lose a message it has not finished processing should use
 * hf_ring_peek_burst() and hf_ring_release() instead.
 *
 * \param r     the ring.
 * \param bufs  n buffers of at least r->slot_size bytes each, 8-byte aligned.
 * \param n     number of messages wanted.
 * \return The number of messages copied (0 if the ring is empty).
 */
static inline unsigned hf_ring_dequeue_burst(struct hf_ring *r, struct hf_ring_msg *const *bufs,
					     unsigned n)
{
	unsigned done = 0;

	while (done < n) {
		/* Chunks keep the pointer array on the stack and still
		 * acknowledge a whole chunk with one store. */
		const struct hf_ring_msg *chunk[32];
		unsigned want = n - done < HF_ARRAY_SIZE(chunk) ? n - done : HF_ARRAY_SIZE(chunk);
		unsigned got = hf_ring_peek_burst(r, chunk, want);

		for (unsigned i = 0; i < got; i++)
			memcpy(bufs[done + i], chunk[i], sizeof(*chunk[i]) + chunk[i]->len);
		if (got)
			hf_ring_release(r, got);
		done += got;
		if (got < want)
			break;
	}
	return done;
}
