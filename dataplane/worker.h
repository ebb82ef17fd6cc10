/*
 * A polling worker: one per lcore, owning one RX/TX queue pair of one port.
 *
 * Each loop turn (hf_worker_poll()):
 *   1. reads the clocks once (CLOCK_REALTIME seconds for TTLs and expiry,
 *      CLOCK_MONOTONIC nanoseconds for resolution deadlines), so tests can
 *      move time with libfaketime;
 *   2. receives a burst, classifies it (net/packet.h), answers ARP, ND and
 *      ping in place, hands host traffic to the exception path, reads DNS
 *      queries (query.h) and answers errors at once;
 *   3. hashes every question of the burst, then probes the cache
 *      (cache.h), answering fresh hits in place;
 *   4. misses: identical questions wait together (pending.h) and one miss
 *      per question goes to the control plane on this worker's miss ring;
 *      a client's query mbuf is kept until its answer is known;
 *   5. drains this worker's fill ring: each fill goes into the shared cache
 *      and answers its waiters (their queries are read again from the kept
 *      mbufs, which costs a second parse only on the miss path);
 *   6. answers SERVFAIL to questions past the resolution timeout;
 *   7. sends, then reports a quiescent state to liburcu (QSBR): no cache
 *      entry pointer survives the turn.
 *
 * Nothing is allocated, locked or asked of the kernel per packet; counters
 * are kept in the worker and copied to the shared statistics block now and
 * then (hf_worker_flush_stats()).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/pending.h"

struct hf_cache;
struct hf_net_addrs;
struct hf_ring;
struct hf_shm;
struct hf_shm_stats;
struct hf_worker;

#define HF_WORKER_BURST 32

/*! Serve-stale (RFC 8767): what an expired entry still in its stale window is good for. */
struct hf_stale_config {
	bool enabled;
	uint32_t ttl;                 /*!< TTL of stale records, seconds (30) */
	uint32_t failure_recheck;     /*!< after a failed refresh, answer stale this long, seconds (30) */
	uint64_t client_timeout_ns;   /*!< a refresh slower than this: answer stale meanwhile (1.8 s) */
};

struct hf_ovr_dp;

struct hf_worker_config {
	unsigned index;               /*!< worker number: its rings and stats */
	uint16_t port_id;
	uint16_t queue_id;
	bool has_exception;           /*!< send host traffic to exc_port */
	uint16_t exc_port_id;
	uint16_t exc_queue_id;
	const struct hf_net_addrs *addrs;  /*!< the port's MAC and service addresses */
	struct hf_cache *cache;
	struct hf_shm *shm;           /*!< for the rings, stats and control liveness */
	struct hf_pending_config pending;
	struct hf_stale_config stale;
	struct hf_ovr_dp *ovr;        /*!< override rule sets, or NULL (none) */
};

/*! Time as the worker sees it during one loop turn. */
struct hf_worker_clock {
	uint32_t real_s;   /*!< CLOCK_REALTIME, seconds */
	uint64_t mono_ns;  /*!< CLOCK_MONOTONIC, nanoseconds */
};

/*! \brief Read both clocks (once per loop turn). */
void hf_worker_clock_read(struct hf_worker_clock *now);

/*! \brief Allocate a worker (at start-up, on its NUMA socket). \return NULL on failure. */
struct hf_worker *hf_worker_create(const struct hf_worker_config *cfg);

/*!
 * \brief Free a worker; SERVFAILs nothing, frees the mbufs it still holds.
 */
void hf_worker_destroy(struct hf_worker *w);

/*!
 * \brief One loop turn (steps 2 to 6 above; no quiescent state).
 *
 * The calling thread must be a registered, online QSBR reader.
 * \return Packets received in this turn.
 */
unsigned hf_worker_poll(struct hf_worker *w, const struct hf_worker_clock *now);

/*! \brief Copy the worker's counters to its shared statistics block. */
void hf_worker_flush_stats(struct hf_worker *w);

/*!
 * \brief The lcore entry point: registers with liburcu, polls until *stop,
 *        flushing statistics every millisecond or so, then goes offline.
 * \param arg  struct hf_worker_run.
 */
int hf_worker_main(void *arg);

struct hf_worker_run {
	struct hf_worker *worker;
	_Atomic bool *stop;       /*!< set by the main lcore to end the loop */
};
