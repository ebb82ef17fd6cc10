/*
 * A worker's outstanding questions: the misses it has sent to the control
 * plane and the clients waiting for each answer.
 *
 * Identical questions (same name, type, class and variant) from any number of
 * clients are coalesced: the first sends one miss, later ones join its waiter
 * list, and the fill answers them all. Both the number of questions and the
 * number of waiters are bounded, so a flood of distinct or identical
 * questions costs bounded memory and is answered SERVFAIL past the bound
 * instead of growing anything.
 *
 * A question is found two ways: by key (to coalesce) through an
 * open-addressing index, and by the request id carried in the miss and echoed
 * by the fill. A request id names a slot and the slot's generation, so a fill
 * that arrives after its question timed out (and the slot was reused) is
 * recognised as stale and only fills the cache.
 *
 * Every question waits at most the same timeout, so deadlines are in
 * creation order: a list of questions by age gives the expired ones in O(1)
 * each, and an answered question leaves the list in O(1).
 *
 * Single-threaded: each worker owns its table; nothing here is shared. All
 * memory is allocated by hf_pending_create(), none per packet.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "include/holdfast/dns.h"

/*! A question's identity, as the cache keys it. */
struct hf_pending_key {
	const uint8_t *qname;  /*!< lower-cased wire form */
	uint8_t qname_len;
	uint8_t variant;
	uint16_t qtype;
	uint16_t qclass;
};

enum hf_pending_result {
	HF_PENDING_NEW = 0,     /*!< first asker: send a miss with *req_id */
	HF_PENDING_JOINED = 1,  /*!< coalesced with a question already sent */
	HF_PENDING_FULL = 2,    /*!< no room for another question */
	HF_PENDING_BUSY = 3,    /*!< this question has too many waiters already */
};

struct hf_pending_config {
	unsigned max_questions;       /*!< outstanding questions; rounded up to a power of 2, <= 65536 */
	unsigned max_waiters;         /*!< clients waiting, all questions together */
	unsigned max_waiters_per_q;   /*!< clients waiting for one question */
	uint64_t timeout_ns;          /*!< how long a question may wait for its fill */
	bool tagged;                  /*!< request ids carry HF_PENDING_ID_TAG (a second table) */
};

/*!
 * Top bit of a request id: set for the ids of a table created with
 * .tagged (the worker's serve-stale refreshes), so a fill says which
 * table its question came from even after the question has expired.
 */
#define HF_PENDING_ID_TAG (UINT32_C(1) << 31)

struct hf_pending;

/*! \brief Allocate a table (at start-up). \return NULL if out of memory or cfg invalid. */
struct hf_pending *hf_pending_create(const struct hf_pending_config *cfg);
void hf_pending_destroy(struct hf_pending *p);

/*!
 * \brief Register a client waiting for a question.
 *
 * \param cookie  The caller's handle on the client (e.g. its query mbuf),
 *                returned by hf_pending_take() or hf_pending_expire().
 * \param req_id  Receives the request id when the result is HF_PENDING_NEW.
 * \return enum hf_pending_result.
 */
enum hf_pending_result hf_pending_add(struct hf_pending *p, const struct hf_pending_key *k,
				      uint64_t hash, void *cookie, uint64_t now_ns,
				      uint32_t *req_id);

/*!
 * \brief Take the waiters of a question whose fill has arrived and forget it.
 *
 * \param cookies  Receives up to max_waiters_per_q cookies.
 * \return Number of waiters; 0 if req_id is unknown or stale (timed out).
 */
unsigned hf_pending_take(struct hf_pending *p, uint32_t req_id, void **cookies);

/*!
 * \brief Take the waiters of the oldest question whose deadline has passed.
 *
 * Call repeatedly until it returns 0.
 * \param cookies  Receives up to max_waiters_per_q cookies.
 */
unsigned hf_pending_expire(struct hf_pending *p, uint64_t now_ns, void **cookies);

/*! The question an expired entry was for (hf_pending_expire_key()). */
struct hf_pending_expired {
	uint8_t qname[HF_NAME_MAXLEN];
	uint8_t qname_len;
	uint8_t variant;
	uint16_t qtype;
	uint16_t qclass;
};

/*!
 * \brief hf_pending_expire(), also saying which question expired (serve-stale
 *        answers its waiters from the cache entry of that question).
 */
unsigned hf_pending_expire_key(struct hf_pending *p, uint64_t now_ns, void **cookies,
			       struct hf_pending_expired *key);

/*!
 * \brief Visit every outstanding question (e.g. to send its miss again to a
 *        control plane that restarted).
 */
void hf_pending_foreach(struct hf_pending *p,
			void (*fn)(void *ctx, const struct hf_pending_key *k, uint32_t req_id),
			void *ctx);

/*! \brief Outstanding questions and waiters. */
unsigned hf_pending_questions(const struct hf_pending *p);
unsigned hf_pending_waiters(const struct hf_pending *p);
