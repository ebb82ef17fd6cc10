/*
 * The ops ring's consumer: operations the control plane asks of the whole
 * dataplane (include/holdfast/msg.h), applied by the main lcore between
 * its housekeeping jobs. Today: purges (an NTA changed, an operator flushed
 * the cache). The main lcore is a registered QSBR thread, online while it
 * runs this; removed entries are freed through call_rcu like any eviction.
 *
 * Each purge applied logs one line on stderr with the time from the control
 * plane's enqueue to applied (when the purge carries its enqueue time):
 *   holdfast-dataplane: purge seq 3 de. (subtree): 12 entries, applied 1043 us after enqueue (purging took 40 us)
 * scripts/bench-nta reads it.
 */
#pragma once

#include "dataplane/cache.h"
#include "include/holdfast/shm.h"

#define HF_OPS_BURST 16  /*!< operations applied per call: the main loop must keep beating */

struct hf_ops_stats {
	uint64_t purges;     /*!< purge operations applied */
	uint64_t purged;     /*!< entries they removed */
	uint64_t unknown;    /*!< messages of a type or size we do not know (skipped) */
	uint64_t last_seq;        /*!< seq of the latest purge applied */
	uint64_t last_applied_ns; /*!< CLOCK_MONOTONIC ns when it was applied */
	uint64_t last_delay_ns;   /*!< from the control plane's enqueue (the purge's trailer,
				       msg.h) to applied; 0 if it carried none */
	uint64_t last_work_ns;    /*!< of which hf_cache_purge() itself took */
};

/*!
 * \brief Apply up to HF_OPS_BURST waiting operations.
 * \return How many were taken from the ring.
 */
unsigned hf_ops_poll(struct hf_shm *shm, struct hf_cache *cache, struct hf_ops_stats *stats);
