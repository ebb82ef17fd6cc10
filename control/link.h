/*
 * The control plane's side of the shared-memory channel to
 * holdfast-dataplane (include/holdfast/shm.h): attach and re-attach,
 * heartbeat, miss polling, coalescing, fills and their backlog.
 *
 * Everything runs on the one libuv loop of the process; nothing here is
 * thread-safe, nothing needs to be.
 *
 * Attaching
 * ---------
 * hf_link_start() attaches at once if it can, else retries every
 * HF_LINK_RETRY_MS while the region is absent, being created or retired
 * (-ENOENT, -EAGAIN, HF_ESHMRETIRED) — either process may start first — and
 * logs "waiting for holdfast-dataplane" once. Other failures (a region of
 * another ABI, owned by another user, claimed by a live control plane) are
 * logged once per distinct reason and retried at the same pace, because each
 * is cured by restarting the other side, not this one.
 * While attached, a timer every HF_SHM_HEARTBEAT_NS publishes the heartbeat
 * and calls hf_shm_check(); each poll calls hf_shm_check() too (it is two
 * atomic loads), so that after any pause (SIGSTOP, a slow callback) this
 * process notices a takeover before it touches a ring again.
 *  - HF_ESHMRETIRED (the dataplane restarted or stopped): detach, forget
 *    everything tied to the old region — the backlogs, and the waiters of
 *    resolutions in flight, whose req_ids mean nothing to the new dataplane
 *    (the resolutions finish and their answers are dropped) — and attach
 *    again at once.
 *  - HF_ESHMTAKEN (another control plane took the claim): stop touching the
 *    rings at once and report it through the fatal callback; the process
 *    exits.
 *
 * Misses
 * ------
 * Polled from every worker's miss ring in bursts (peek, handle, release).
 * Each message is checked (type, length, name) and counted as bad if it
 * fails. A special-use name (control/local.h) is answered at once. Any other
 * question is coalesced on (qname, qtype, qclass, variant): the first miss
 * starts a resolution, later ones — from any worker — join it as waiters,
 * and the answer is encoded once and sent to each waiter's worker with that
 * waiter's req_id. Workers coalesce their own clients already, so a query
 * rarely has more waiters than there are workers; HF_LINK_WAITERS_MAX and
 * HF_LINK_INFLIGHT_MAX bound memory against a misbehaving peer, and what
 * they refuse is dropped and counted (the worker's resolution timeout then
 * answers its clients SERVFAIL).
 *
 * Fills and the backlog
 * ---------------------
 * A fill goes straight onto the worker's fill ring. If that ring is full
 * (the worker is stalled), the fill waits on the worker's backlog, a FIFO
 * of at most HF_LINK_BACKLOG_MAX fills retried on every poll, before any
 * newer fill for that worker; when the backlog is full too, the fill is
 * dropped and counted.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "control/local.h"
#include "control/resolver.h"

#define HF_LINK_POLL_MS       1      /*!< miss ring poll period while idle, ms */
#define HF_LINK_RETRY_MS      100    /*!< attach retry period, ms */
#define HF_LINK_BURST         32     /*!< misses taken from a ring at once */
#define HF_LINK_POLL_BUDGET   256    /*!< misses per worker per poll, for fairness */
#define HF_LINK_BACKLOG_MAX   256    /*!< fills held per worker while its ring is full */
#define HF_LINK_WAITERS_MAX   256    /*!< workers' requests joined to one resolution */
#define HF_LINK_INFLIGHT_MAX  65536  /*!< distinct questions being resolved at once */

/*! Called when the link cannot go on (HF_ESHMTAKEN); the process should exit. */
typedef void (*hf_link_fatal_cb)(void *ctx, int code);
struct hf_shm;

/*! Called after each attach (a new or restarted dataplane): give it what it must know. */
typedef void (*hf_link_attach_cb)(void *ctx, struct hf_shm *shm);

struct hf_link_config {
	const char *instance;          /*!< instance name: region /holdfast.<instance> */
	struct hf_resolver *resolver;  /*!< answers what is not local */
	const struct hf_local *local;  /*!< special-use names; must outlive the link */
	hf_link_fatal_cb on_fatal;
	hf_link_attach_cb on_attach;   /*!< may be NULL */
	void *ctx;                     /*!< for on_fatal and on_attach */
};

/*! Counters since the link was created (all regions together). */
struct hf_link_stats {
	uint64_t attaches;        /*!< regions attached */
	uint64_t misses;          /*!< miss messages taken from the rings */
	uint64_t bad_misses;      /*!< ... that failed validation */
	uint64_t local;           /*!< ... answered as special-use names */
	uint64_t coalesced;       /*!< ... that joined a resolution in flight */
	uint64_t resolutions;     /*!< resolutions started */
	uint64_t resolve_errors;  /*!< resolutions that could not start (SERVFAIL sent) */
	uint64_t orphaned;        /*!< waiters forgotten because the region went away */
	uint64_t fills;           /*!< fills put on a fill ring */
	uint64_t backlogged;      /*!< fills that had to wait on a backlog */
	uint64_t backlog_drops;   /*!< fills dropped: ring and backlog full */
	uint64_t limit_drops;     /*!< misses dropped by the waiter or in-flight limit */
};

struct hf_link;

/*!
 * \brief Create the link (not attached yet; see hf_link_start()).
 * \return NULL on allocation failure.
 */
struct hf_link *hf_link_create(uv_loop_t *loop, const struct hf_link_config *cfg);

/*!
 * \brief Attach now if possible, else keep retrying on the loop.
 * \return 0, or a negative error code if a timer cannot start.
 */
int hf_link_start(struct hf_link *link);

/*!
 * \brief Detach (releasing the claim, so that a new control plane may attach
 *        at once), free every query and close the handles; the link frees
 *        itself once the loop has run their close callbacks.
 *
 * Call after hf_resolver_destroy(): queries in flight are freed here, so the
 * resolver must never call back into them afterwards. NULL is ignored.
 */
void hf_link_close(struct hf_link *link);

/*!
 * \brief Ask the dataplane to drop its cached answers for name (or the whole
 *        subtree): an NTA changed, or an operator flushed the cache.
 * \return 0 (queued), -ENOTCONN (no dataplane attached: nothing to purge),
 *         -ENOBUFS (the ops ring is full; try again), -EINVAL (bad name).
 */
int hf_link_purge(struct hf_link *link, const uint8_t *name, bool subtree);

/*! \brief The attached region, or NULL. */
struct hf_shm *hf_link_shm(struct hf_link *link);

/*! \brief Is a region attached right now? */
bool hf_link_attached(const struct hf_link *link);

/*! \brief The counters. */
const struct hf_link_stats *hf_link_stats(const struct hf_link *link);

/*! \brief Fills waiting on worker's backlog (0 when detached). */
unsigned hf_link_backlog(const struct hf_link *link, unsigned worker);

/*!
 * \brief Encode a rendered answer as the fill payload for one request.
 *
 * \param buf  receives the payload; HF_SHM_FILL_SLOT_SIZE bytes are enough.
 * \return Bytes written, or HF_ESPACE / -EINVAL (see hf_msg_fill_encode()).
 */
int hf_link_fill_encode(const struct hf_rendered *ans, uint32_t req_id, uint8_t variant,
			void *buf, size_t cap);
