/*
 * The batch signature verifier: a pool of threads that checks RRSIGs for
 * every resolution in flight, so the resolver's event loop never blocks on
 * public-key arithmetic.
 *
 * Threads and ownership
 *   The verifier belongs to one libuv loop (the resolver's). Submissions and
 *   callbacks happen on that loop's thread only. Jobs are appended to a
 *   batch; the batch is handed to the pool once per loop turn (a uv_check
 *   handle), under one mutex acquisition, so a busy loop pays one lock and
 *   one wake-up per batch, not per signature. Pool threads take up to
 *   HF_VERIFIER_BATCH jobs per lock, verify them with their own struct
 *   hf_sig_ctx (verification contexts prepared once per key and thread,
 *   never shared between threads; crypto.h), and append the results to a
 *   done list; an eventfd (polled by the loop) wakes the loop, which runs the
 *   callbacks. Wake-ups are sent only where needed: the condition variable
 *   is signalled only when a pool thread waits on it, the eventfd written
 *   only when the done list was empty.
 *   A job's memory is owned by the verifier from submission until its
 *   callback returns.
 *
 * Caches (loop thread only)
 *   - parsed keys: EVP_PKEY per DNSKEY RDATA (refcounted; jobs hold a
 *     reference, so eviction never frees a key in use);
 *   - verified signatures: (DNSKEY RDATA, signed data, signature) → valid,
 *     until the RRSIG's expiration or the RRset's TTL, whichever is first.
 *     Keyed by SHA-256 over (the key's SHA-256, data, signature), lengths
 *     included, all 32 bytes compared: a hit is exact (verifier.c).
 *     A repeated RRset costs a hash and a lookup, not a verification. Only
 *     successes are cached: a failure is re-checked (it may have been a
 *     library failure, and BOGUS data must not poison a good copy).
 *   Identical checks in flight are coalesced onto one verification.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "control/dnssec/crypto.h"

#define HF_VERIFIER_BATCH 64   /*!< jobs a pool thread takes per lock */

struct hf_verifier;

struct hf_verifier_config {
	unsigned threads;          /*!< 0: one per online CPU */
	size_t key_cache;          /*!< parsed keys kept; 0: 4096 */
	size_t sig_cache;          /*!< verified signatures kept; 0: 65536 */
};

/*! One signature check. The verifier copies what it needs; nothing must outlive the call. */
struct hf_verify_req {
	const struct hf_dnskey *key;
	const uint8_t *data;       /*!< hf_rrsig_signed_data() output */
	size_t len;
	const uint8_t *sig;
	size_t sig_len;
	uint64_t valid_until;      /*!< CLOCK_REALTIME seconds a success may be reused */
};

/*! \param status  0 valid, HF_EBADSIG, HF_EALGORITHM, HF_EKEY, HF_ECRYPTO or -ENOMEM. */
typedef void (*hf_verify_cb)(void *ctx, int status);

/*! \return NULL on failure (err says why). */
struct hf_verifier *hf_verifier_create(uv_loop_t *loop, const struct hf_verifier_config *cfg,
				       char *err, size_t err_size);

/*!
 * \brief Stop the threads (jobs in flight are dropped; their callbacks are
 *        not called), close the handles, free everything once they closed.
 *        Run the loop afterwards until the handles have closed.
 */
void hf_verifier_destroy(struct hf_verifier *v);

/*!
 * \brief Check a signature.
 * \return 1: the verdict is known at once (cache hit): *status is set and cb
 *         will not be called; 0: queued, cb(ctx, status) runs later on the
 *         loop; negative: could not queue (-ENOMEM), cb will not be called.
 *         A key that cannot be used (HF_EALGORITHM, HF_EKEY, HF_ECRYPTO) is
 *         also known at once: 1, with that *status (keys are parsed here, on
 *         the loop, and the parsed key is cached).
 */
int hf_verifier_check(struct hf_verifier *v, const struct hf_verify_req *req, int *status,
		      hf_verify_cb cb, void *ctx);

/*!
 * \brief Forget a pending callback (its request was cancelled): the check
 *        still runs, its result is cached, cb is not called for ctx.
 */
void hf_verifier_cancel(struct hf_verifier *v, void *ctx);

/*!
 * Counters since creation: submitted (hf_verifier_check() calls), verified
 * (verifications the pool ran), cache_hits (answered from the signature
 * cache), coalesced (joined an identical check in flight), batches (hand-overs
 * to the pool, at most one per loop turn), failures (verifications with a
 * non-zero status, plus keys refused at submission).
 */
struct hf_verifier_stats {
	uint64_t submitted, verified, cache_hits, coalesced, batches, failures;
};
void hf_verifier_stats(const struct hf_verifier *v, struct hf_verifier_stats *out);
