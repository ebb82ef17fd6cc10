/*
 * The dataplane's answer cache: pre-rendered answers in a liburcu lock-free
 * hash table (cds_lfht, QSBR flavour), shared by every worker of the
 * dataplane process.
 *
 * Key: (qname in lower-cased wire form, qtype, qclass, variant), where the
 * variant is the DO/CD bits of the client's query (enum hf_variant). Value: an
 * answer as the control plane rendered it (struct hf_fill_view), copied into
 * one allocation (struct hf_cache_entry).
 *
 * Concurrency protocol
 * --------------------
 * Every thread that touches the cache is a registered liburcu QSBR thread
 * (urcu_qsbr_register_thread()) and is online while it does.
 *
 * Readers: the workers. A worker hashes the questions of a burst
 * (hf_cache_hash()) and prefetches their index buckets (hf_cache_prefetch()),
 * probes (hf_cache_lookup()), and builds its responses straight from the
 * returned entries. A lookup takes no lock and writes nothing shared except
 * the entry's CLOCK bit, and only when that bit is 0 (a relaxed store), so a
 * hot entry's cache line is not bounced between cores on every hit.
 *
 * Index: in front of the table sits a fixed array of 64-byte buckets of
 * eight slots, each slot one word: an entry's address in the low 48 bits,
 * the low 16 bits of its hash above them (zero: empty). A probe reads the
 * one bucket its hash names (prefetched a pass earlier, so the burst's
 * misses overlap) and compares tags, then the key of a matching entry; only
 * when that finds nothing does it ask the table, whose lookup costs two
 * dependent misses and can be neither prefetched nor batched. The index is
 * a hint, never the truth: a slot may be lost to a race or overwritten by
 * another entry of its bucket (the table still has it), and a probe accepts
 * an entry only after comparing its whole key. Slots change by
 * compare-and-swap only. The rules that keep it safe:
 *   - an inserting worker writes the new entry's slot (release) before
 *     cds_lfht_add_replace() publishes it in the table, and never after;
 *   - whoever removes an entry from the table clears its slot (if it is
 *     still there) before handing the entry to call_rcu().
 * So once an entry's grace period has begun, no slot holds it and no
 * reader can pick it up afresh; a reader that took it earlier is covered
 * by the grace period like any table reader. Between the removal and the
 * clear, a probe may still find the entry (as a table lookup racing a
 * removal may): a purge's barrier (below) hides such entries.
 *
 * Writers:
 *   - the workers insert when a fill arrives (hf_cache_insert()):
 *     cds_lfht_add_replace(), lock-free, concurrently with each other; a
 *     newer answer for the same key replaces the older one atomically
 *     (lookups find exactly one of the two, never none);
 *   - the housekeeping thread (the main lcore) sweeps (hf_cache_sweep()):
 *     it clears CLOCK bits and removes entries (cds_lfht_del());
 *   - purges (hf_cache_purge()) run on the housekeeping thread too.
 * A node that is replaced and deleted at the same time is removed exactly
 * once: cds_lfht tells one of the two callers that it won, and only that
 * caller accounts for it and hands it to call_rcu.
 *
 * Freeing: a removed entry stays readable. Whoever removed it passes it to
 * urcu_qsbr_call_rcu() (the rcu_head is embedded in the entry); liburcu's
 * call_rcu thread frees it after a grace period, i.e. once every registered
 * online thread has reported a quiescent state or gone offline after the
 * removal. hf_cache_destroy() removes what is left, waits for all pending
 * callbacks (urcu_qsbr_barrier()) and frees the table.
 *
 * Quiescent states: each worker calls urcu_qsbr_quiescent_state() once per
 * loop turn, after its burst is answered, and goes urcu_qsbr_thread_offline()
 * while it sleeps or waits; the housekeeping thread does the same between its
 * jobs. A quiescent state is the thread's promise that it holds no pointer
 * into the table. Hence a reader may use an entry returned by
 * hf_cache_lookup() only until its next quiescent state (or offline period):
 * the entry may already have been replaced or evicted when it was returned,
 * and after that quiescent state the grace period that frees it can end. An
 * answer that must outlive the loop turn has to be copied out.
 *
 * Memory bound: the cache counts the allocation size of every entry in the
 * table (bytes, relaxed atomics). The housekeeper's sweep evicts down to
 * 0.9 x max_bytes when the count is above that; inserts fail with -ENOSPC
 * when an entry would take the count above 1.25 x max_bytes (the housekeeper
 * has fallen behind). Concurrent inserts check that limit without a lock, so
 * each worker can overshoot it by at most the one entry it is adding. On top
 * of that come: entries removed but still waiting for their grace period
 * (retired_bytes in the stats: what was removed during about one grace
 * period, i.e. one sweep's evictions plus the replacements made meanwhile;
 * a thread that stays online without quiescing stalls the frees), the index
 * (one 8-byte slot per 128 bytes of max_bytes, i.e. 1/16 of it, allocated
 * at creation: 4 to 2^22 buckets), the hash table's bucket arrays
 * (a few words per bucket, auto-resized by liburcu) and malloc's own overhead.
 *
 * Time: entry times are uint32 seconds of CLOCK_REALTIME, as read by the
 * caller (once per loop turn); the cache never reads a clock itself.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <urcu/urcu-qsbr.h>
#include <urcu/rculfhash.h>

#include "include/holdfast/msg.h"

/*! Fraction of max_bytes a sweep evicts down to (low watermark), in 1/100. */
#define HF_CACHE_LOW_PCT 90
/*! Fraction of max_bytes above which inserts fail with -ENOSPC, in 1/100. */
#define HF_CACHE_HARD_PCT 125
/*! Entries a sweep visits per call unless the config says otherwise. */
#define HF_CACHE_SWEEP_BATCH_DEFAULT 4096

/*! hf_cache_insert() result for a fill marked HF_FILL_NOCACHE (not an error). */
#define HF_CACHE_NOT_CACHED 1

struct hf_cache;

struct hf_cache_config {
	size_t max_bytes;      /*!< target size of all entries, bytes (> 0) */
	uint32_t ttl_min;      /*!< floor for entry and record TTLs, seconds */
	uint32_t ttl_max;      /*!< ceiling for entry and record TTLs, seconds (>= ttl_min) */
	uint32_t max_stale;    /*!< seconds an expired entry is kept for serve-stale */
	uint32_t sweep_batch;  /*!< entries one hf_cache_sweep() visits; 0: default */
};

/*! A lookup key. name points at the caller's copy (e.g. struct hf_pkt.qname). */
struct hf_cache_key {
	const uint8_t *name;  /*!< wire form, lower case, name_len octets */
	uint16_t qtype;
	uint16_t qclass;
	uint8_t name_len;     /*!< including the root label */
	uint8_t variant;      /*!< enum hf_variant */
};

/*! Entry flags (struct hf_cache_entry.flags). */
enum hf_cache_flag {
	HF_CACHE_F_AD = 1 << 0,  /*!< validated secure (HF_FILL_AD): AD for clients that ask */
};

/*
 * Cache entry layout: one allocation, header then data area.
 *
 *   offset  size
 *        0    16  struct cds_lfht_node node   table linkage (next, reverse hash)
 *       16     8  hash                        hf_cache_hash() of the key
 *       24     4  inserted                    seconds, CLOCK_REALTIME
 *       28     4  expires                     inserted + TTL (clamped)
 *       32     4  stale_until                 expires + max_stale
 *       36     2  qtype
 *       38     2  qclass
 *       40     2  rcode                       12 bits (header + OPT extension)
 *       42     2  msg_len
 *       44     2  question_end                offset just past the question in msg
 *       46     2  ede_len
 *       48     1  n_ttl
 *       49     1  qname_len                   the qname is msg + 12
 *       50     1  variant                     enum hf_variant
 *       51     1  flags                       enum hf_cache_flag
 *       52     1  referenced                  CLOCK bit, _Atomic
 *       53     1  (padding)
 *       54     2  sections_sum                Internet checksum sum of msg[question_end..]
 *                                             at its offset (include/holdfast/csum.h)
 *       56     8  cache                       owner, for the free callback's accounting
 *       64    16  struct rcu_head rcu         used once the entry is removed
 *       80     4  recheck_until               seconds; serve-stale's failure-recheck
 *                                             timer (RFC 8767 §4), _Atomic
 *       84     4  ovr_checked                 the override rule set (generation,
 *                                             low 32 bits) found to match none of
 *                                             this question's rules, _Atomic
 *       88        data[]:
 *                   u16 ttl_off[n_ttl]         offsets in msg of each record's TTL field
 *                   u8  ede[ede_len]           EDNS options, wire form, copied verbatim
 *                   u8  msg[msg_len]           header + question + sections, no OPT
 *
 * Everything a probe compares, and the times, sit in the first 64 bytes. The
 * message's question name is lower case (the cache rewrites it so at insert);
 * record TTLs in msg are already clamped to [ttl_min, ttl_max]. Nothing but
 * referenced, recheck_until and ovr_checked (relaxed atomics: any worker
 * may set them, every worker reads them) change after the entry is published. Allocation size:
 * sizeof(struct hf_cache_entry) + 2 * n_ttl + ede_len + msg_len.
 */
struct hf_cache_entry {
	struct cds_lfht_node node;
	uint64_t hash;
	uint32_t inserted;
	uint32_t expires;
	uint32_t stale_until;
	uint16_t qtype;
	uint16_t qclass;
	uint16_t rcode;
	uint16_t msg_len;
	uint16_t question_end;
	uint16_t ede_len;
	uint8_t n_ttl;
	uint8_t qname_len;
	uint8_t variant;
	uint8_t flags;
	_Atomic uint8_t referenced;
	uint16_t sections_sum;
	struct hf_cache *cache;
	struct rcu_head rcu;
	_Atomic uint32_t recheck_until;  /*!< serve-stale: a refresh failed; answer stale until then */
	_Atomic uint32_t ovr_checked;    /*!< override set generation that matched no rule here */
	uint8_t data[];
};

/*!
 * \brief Start an entry's serve-stale failure-recheck timer (a refresh of it
 *        failed): until then every worker answers it stale without asking.
 *        One of the two fields that change after publication (a relaxed
 *        atomic store; readers load it relaxed).
 */
static inline void hf_cache_entry_set_recheck(const struct hf_cache_entry *e, uint32_t until)
{
	/* Published entries are const to readers; this field is meant to change. */
	struct hf_cache_entry *w = (struct hf_cache_entry *)(uintptr_t)e;
	atomic_store_explicit(&w->recheck_until, until, memory_order_relaxed);
}

/*!
 * \brief Remember that the override set of this generation has no rule for
 *        this entry's question: later hits skip the match (one compare
 *        instead of a name conversion, a hash walk and a Hyperscan scan).
 */
static inline void hf_cache_entry_set_ovr_checked(const struct hf_cache_entry *e, uint32_t gen)
{
	struct hf_cache_entry *w = (struct hf_cache_entry *)(uintptr_t)e;
	atomic_store_explicit(&w->ovr_checked, gen, memory_order_relaxed);
}

/*! \brief The TTL field offsets (n_ttl of them, offsets into hf_cache_entry_msg()). */
static inline const uint16_t *hf_cache_entry_ttl_off(const struct hf_cache_entry *e)
{
	return (const uint16_t *)(const void *)e->data;
}

/*! \brief The EDNS options (ede_len bytes) to copy into each client's OPT record. */
static inline const uint8_t *hf_cache_entry_ede(const struct hf_cache_entry *e)
{
	return e->data + (size_t)e->n_ttl * sizeof(uint16_t);
}

/*! \brief The rendered message (msg_len bytes); its qname starts at offset 12. */
static inline const uint8_t *hf_cache_entry_msg(const struct hf_cache_entry *e)
{
	return hf_cache_entry_ede(e) + e->ede_len;
}

/*! \brief Bytes the entry accounts for (its allocation size). */
static inline size_t hf_cache_entry_size(const struct hf_cache_entry *e)
{
	return sizeof(*e) + (size_t)e->n_ttl * sizeof(uint16_t) + e->ede_len + e->msg_len;
}

struct hf_cache_stats {
	uint64_t entries;          /*!< entries in the table */
	uint64_t bytes;            /*!< allocation bytes of the entries in the table */
	uint64_t retired_bytes;    /*!< removed, waiting for their grace period */
	uint64_t inserts;          /*!< entries added, replacements included */
	uint64_t replaces;         /*!< inserts that displaced an entry of the same key */
	uint64_t evictions;        /*!< removed by the sweep to make room */
	uint64_t expired_drops;    /*!< removed by the sweep past stale_until */
	uint64_t purged;           /*!< removed by hf_cache_purge() */
	uint64_t insert_failures;  /*!< -ENOMEM and -ENOSPC from hf_cache_insert() */
};

/*!
 * \brief Create an empty cache with a random hash seed.
 *
 * May be called from any thread, registered with RCU or not.
 *
 * \param cfg  Limits; copied. max_bytes must be > 0 and ttl_min <= ttl_max.
 * \return The cache, or NULL (bad config, no memory, no randomness).
 */
struct hf_cache *hf_cache_create(const struct hf_cache_config *cfg);

/*!
 * \brief Remove every entry, wait for all pending frees, free the cache.
 *
 * No other thread may use the cache any more. The caller must be a
 * registered QSBR thread; it may be online or offline, and is returned in the
 * same state (it goes offline inside, to wait for urcu_qsbr_barrier()).
 *
 * \param c  The cache, or NULL (nothing happens).
 */
void hf_cache_destroy(struct hf_cache *c);

/*!
 * \brief Hash a key with the cache's seed (SipHash-1-3 over the name, qtype,
 *        qclass and variant).
 *
 * The seed is random per cache, so a client cannot choose names that
 * collide. Pure function: a worker hashes a whole burst before probing.
 *
 * \return The hash to pass to hf_cache_lookup().
 */
uint64_t hf_cache_hash(const struct hf_cache *c, const struct hf_cache_key *k);

/*!
 * \brief Prefetch the index bucket of a hash, a pass before hf_cache_lookup()
 *        of the same hash, so that a burst's probes do not wait on memory
 *        one after the other.
 */
void hf_cache_prefetch(const struct hf_cache *c, uint64_t hash);

/*!
 * \brief Find the entry of a key, whatever its age.
 *
 * The caller must be a registered QSBR thread, online; it may use the entry
 * until its next quiescent state or offline period, and must not write to
 * it. The caller decides fresh / stale / expired by comparing its `now` with
 * expires and stale_until. Sets the entry's CLOCK bit.
 *
 * \param hash  hf_cache_hash(c, k).
 * \return The entry, or NULL.
 */
const struct hf_cache_entry *hf_cache_lookup(struct hf_cache *c, const struct hf_cache_key *k,
					     uint64_t hash);

/*!
 * \brief Add the answer of a decoded fill, replacing any entry of the same key.
 *
 * Copies the fill into a new entry: the entry TTL and every listed record
 * TTL in the copied message are clamped to [ttl_min, ttl_max]; inserted =
 * now, expires = now + TTL, stale_until = expires + max_stale (saturating).
 * The entry starts with its CLOCK bit clear (a replacement inherits the bit
 * of the entry it displaces). The replaced entry is freed after a grace
 * period. The caller must be a registered QSBR thread, online.
 *
 * \param v    A fill checked by hf_msg_fill_decode().
 * \param now  Seconds of CLOCK_REALTIME.
 * \return 0 (inserted), HF_CACHE_NOT_CACHED (the fill says HF_FILL_NOCACHE;
 *         nothing done), -ENOMEM, -ENOSPC (over the hard limit: the
 *         housekeeper is behind), or -EINVAL (the view is inconsistent).
 *         On failure the caller still answers its waiters from the fill.
 */
int hf_cache_insert(struct hf_cache *c, const struct hf_fill_view *v, uint32_t now);

/*!
 * \brief Housekeeping: advance the CLOCK hand over up to sweep_batch entries.
 *
 * Walks the table in its own order, resuming after the entry where the
 * previous call stopped. For each entry: drop it if now is past stale_until;
 * otherwise, if its CLOCK bit is set, clear it (second chance); otherwise
 * evict it while the cache holds more than HF_CACHE_LOW_PCT % of max_bytes.
 * Under pressure a call may pass an entry twice (to evict entries whose bit
 * it cleared); otherwise it visits each entry at most once.
 *
 * Must be called from a registered QSBR thread that is online (the
 * housekeeping thread), by one thread at a time.
 *
 * \param now  Seconds of CLOCK_REALTIME.
 * \return Bytes of the entries removed (freed after a grace period).
 */
size_t hf_cache_sweep(struct hf_cache *c, uint32_t now);

/*!
 * \brief Remove every entry (all types, classes and variants) whose qname is
 *        name, or with subtree also every name below it.
 *
 * Walks the whole table (cost proportional to the number of entries). An
 * entry inserted concurrently may survive; callers that must stop that (an
 * NTA) change what the control plane sends first. Must be called from a
 * registered QSBR thread that is online (the housekeeping thread).
 *
 * \param name     Wire form, any letter case.
 * \return Number of entries removed.
 */
unsigned hf_cache_purge(struct hf_cache *c, const uint8_t *name, bool subtree);

/*!
 * \brief Does the index (not only the table) hold this entry? For tests and
 *        assertions; any registered online thread.
 */
bool hf_cache_index_holds(const struct hf_cache *c, const struct hf_cache_entry *e);

/*!
 * \brief Read the counters (each one relaxed; together they are not a
 *        consistent snapshot). Any thread.
 */
void hf_cache_stats(const struct hf_cache *c, struct hf_cache_stats *out);
