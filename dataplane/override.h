/*
 * Overrides, dataplane side: the current rule set (an RCU-protected pointer),
 * applying the sets the control plane publishes in the shm region, and the
 * workers' matcher. The shared layout and the publication protocol are in
 * "include/holdfast/override.h".
 *
 * Concurrency protocol
 * --------------------
 * Every thread that touches a set is a registered liburcu QSBR thread (the
 * workers and the main lcore already are, for the cache: dataplane/cache.h).
 *
 * Readers: the workers. Once per query (before the cache lookup), a worker
 * takes set = hf_ovr_current(ov); if hf_ovr_active(set) it converts the
 * question name (hf_ovr_name_text()) and calls
 * hf_ovr_match(set, hf_ovr_scratch(set, w), text, len, qtype).
 * The set, its rules and its scratch stay valid until the worker's next
 * quiescent state (once per loop turn) or offline period; a worker may take
 * the set once per burst. Nothing is locked; the only writes are the
 * worker's own hit counters (one cache-aligned array per worker per set,
 * relaxed single-writer stores).
 *
 * Writer: the main lcore only. hf_ovr_poll() builds a complete new set
 * in private memory (rule table and answers copied, database deserialised,
 * one scratch per worker), publishes it with rcu_xchg_pointer(), and hands
 * the old one to urcu_qsbr_call_rcu(). After the grace period liburcu's
 * call_rcu thread frees it and stores `applied` in the region. Swapping a
 * whole object, never editing one, is what lets the readers take no lock.
 *
 * Matching: exact and subtree rules are found in a hash table of their
 * names' texts, probed once per label boundary of the query name (4 or 5
 * probes for a usual name); Hyperscan scans the name only when the set has
 * regexes. Why: a Hyperscan literal match is confirmed against every literal
 * sharing its last 8 bytes, so 10 000 names under one parent domain cost
 * 60-125 us per query name under it (tests/bench/hf-bench-override.c), and
 * a client choosing such names could stall a worker. So the database holds
 * the regexes only ("include/holdfast/override.h" has the numbers).
 *
 * Scratch: Hyperscan needs one scratch per concurrent scan, sized for the
 * database, so each set carries its own n_workers scratches; the old set's
 * scratches die with it.
 *
 * Memory: a set holds its database (about the serialised size), n_rules x
 * 160 B of rules, its answers, n_workers scratches (tens to hundreds of KiB
 * each for 10 000 rules) and n_workers x n_rules x 8 B of counters. Two sets
 * exist while a grace period runs.
 */
#pragma once

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hs/hs.h>
#include <urcu/urcu-qsbr.h>

#include "include/holdfast/override.h"

struct hf_shm;

/*! An entry of a set's literal table: rule index + 1 (0: empty) and the
 *  hash of the rule's name text. */
struct hf_ovr_lit {
	uint32_t hash;
	uint32_t rule;
};

/*! A rule set as the workers use it (process-local, immutable once published). */
struct hf_ovr_set {
	uint64_t generation;              /*!< 0: the empty set the dataplane starts with */
	unsigned n_rules;
	unsigned n_workers;
	hs_database_t *db;                /*!< NULL iff n_rules == 0 */
	struct hf_ovr_rule *rules;   /*!< by Hyperscan id */
	uint8_t *answers;                 /*!< records of answer rules */
	uint32_t answers_len;
	hs_scratch_t **scratch;           /*!< one per worker */
	unsigned n_regex;                 /*!< regex rules: hs_scan only if > 0 */
	unsigned n_literal;               /*!< exact and subtree rules, in lit[] */
	struct hf_ovr_lit *lit;           /*!< open addressing, lit_mask + 1 entries */
	uint32_t lit_mask;
	uint64_t lit_labels[2];           /*!< bit l: some literal rule's name has l labels */
	_Atomic uint64_t *hits;           /*!< n_workers rows of hits_stride counters */
	size_t hits_stride;               /*!< counters per row (n_rules rounded up to 8) */
	struct hf_ovr_dp *owner;        /*!< for the free callback */
	/* Set when retired: the free callback stores ack_gen into *ack (the
	 * region's `applied`), NULL if there is none to tell. */
	_Atomic uint64_t *ack;
	uint64_t ack_gen;
	struct rcu_head rcu;
};

/*! The dataplane's override state (one per process). */
struct hf_ovr_dp;

/*! Counters of the apply path (main lcore), for logs and tests. */
struct hf_ovr_dp_stats {
	uint64_t applied;          /*!< sets swapped in */
	uint64_t refused;          /*!< published sets refused (see the region's error) */
	uint64_t freed;            /*!< sets freed after their grace period */
	uint64_t generation;       /*!< generation in use (0: none yet) */
	unsigned n_rules;          /*!< rules in use */
};

/*!
 * \brief Create the override state with an empty set (matches nothing).
 *
 * \param n_workers  workers that will match (scratches and counter rows).
 * \return The state, or NULL (no memory, n_workers 0).
 */
struct hf_ovr_dp *hf_ovr_create(unsigned n_workers);

/*!
 * \brief Free everything, after waiting for pending frees.
 *
 * No worker may use the state any more. Call from a registered QSBR thread
 * (online or offline; it returns in the same state), before the shm region
 * is destroyed (the free callbacks write `applied` into it). NULL is ignored.
 */
void hf_ovr_destroy(struct hf_ovr_dp *ov);

/*!
 * \brief Apply a newly published set, if any (main lcore).
 *
 * Cheap when nothing changed (one acquire load). Call once per housekeeping
 * round from the main lcore, a registered QSBR thread. Never blocks on a
 * grace period.
 *
 * \return 1 if a new set was swapped in; 0 if there was nothing new; a
 *         negative code if the published set was refused (-EBADMSG: bad
 *         slot; -EPROTO: Hyperscan refused the database; -ENOMEM), which is
 *         also recorded in the region (error, error_generation) and marked
 *         loaded, the running set staying in place; -EAGAIN if the slot
 *         changed during the copy (retried on the next call).
 */
int hf_ovr_poll(struct hf_ovr_dp *ov, struct hf_shm *shm);

/*!
 * \brief Sum the workers' hit counters of the current set into the region's
 *        hit block (main lcore; about once per second).
 */
void hf_ovr_publish_hits(struct hf_ovr_dp *ov, struct hf_shm *shm);

/*! \brief Apply-path counters and the set in use (main lcore). */
void hf_ovr_stats(const struct hf_ovr_dp *ov, struct hf_ovr_dp_stats *out);

/*!
 * \brief The current set (workers; registered QSBR thread, online).
 *
 * Valid until the caller's next quiescent state or offline period. Never NULL.
 */
const struct hf_ovr_set *hf_ovr_current(struct hf_ovr_dp *ov);

/*!
 * \brief Does set have any rule? Workers test it before converting the
 *        question name to text (the usual case: no overrides, no cost).
 */
static inline bool hf_ovr_active(const struct hf_ovr_set *set)
{
	return set->n_rules != 0;
}

/*! \brief Worker w's scratch for set (w < n_workers). */
static inline hs_scratch_t *hf_ovr_scratch(const struct hf_ovr_set *set, unsigned w)
{
	return set->db ? set->scratch[w] : NULL;
}

/*!
 * \brief The most specific rule matching a name and query type.
 *
 * Free when the set is empty (no Hyperscan call). Does not count the hit:
 * call hf_ovr_count_hit() when acting on the rule.
 *
 * \param set        hf_ovr_current().
 * \param scratch    hf_ovr_scratch(set, this worker).
 * \param name_text  hf_ovr_name_text() of the question name, in a buffer of
 *                   HF_OVR_TEXT_MAX bytes (the matcher reads up to 8 bytes
 *                   past the text).
 * \param len        its length.
 * \param qtype      the query type.
 * \return The rule (valid as long as set), or NULL.
 */
const struct hf_ovr_rule *hf_ovr_match(const struct hf_ovr_set *set,
						 hs_scratch_t *scratch, const char *name_text,
						 size_t len, uint16_t qtype);

/*! \brief The answer area of set, for hf_ovr_render_answers(). */
static inline const uint8_t *hf_ovr_answers(const struct hf_ovr_set *set)
{
	return set->answers;
}

/*!
 * \brief Count a hit of rule (from hf_ovr_match() on set) for worker w.
 */
static inline void hf_ovr_count_hit(const struct hf_ovr_set *set, unsigned w,
				     const struct hf_ovr_rule *rule)
{
	_Atomic uint64_t *c = &set->hits[(size_t)w * set->hits_stride + (size_t)(rule - set->rules)];

	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

/*! \brief Hits of the rule at index i of set, summed over the workers (any thread). */
uint64_t hf_ovr_hits(const struct hf_ovr_set *set, unsigned i);
