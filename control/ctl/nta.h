/*
 * Negative Trust Anchors (RFC 7646): zones whose names, at or below them,
 * are resolved without DNSSEC validation (no AD; EDE 33 on the answer).
 *
 * The store is plain data owned by one thread (the control plane's loop):
 * no locking. Each NTA has a zone (wire form, lower-cased), the wall-clock
 * time it was added, the time it expires (both epoch seconds from
 * CLOCK_REALTIME, so libfaketime moves them) and the operator's reason.
 *
 * Lookup (hf_nta_find()) is meant to run once per resolution: a chained
 * hash over the zones, probed with the name and then each of its ancestors
 * (at most 128 probes; none when the store is empty), so it costs the same
 * whatever the number of NTAs.
 *
 * Persistence (hf_nta_load()/hf_nta_save()): "<state-dir>/ntas.json",
 *
 *     {"version": 1, "ntas": [{"zone": "example.com.", "added": 1778000000,
 *                              "expires": 1778003600, "reason": "..."}]}
 *
 * replaced atomically on every save (control/ctl/ctl_util.h).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/holdfast/dns.h"

#define HF_NTA_MAX               1024      /*!< NTAs in the store */
#define HF_NTA_LIFETIME_DEFAULT  3600      /*!< seconds (1 hour, RFC 7646 §2.3 suggests short) */
#define HF_NTA_LIFETIME_MAX      604800    /*!< seconds (1 week, RFC 7646 §2.3) */
#define HF_NTA_REASON_MAX        256       /*!< reason text, bytes without the NUL */
#define HF_NTA_FILE              "ntas.json"

/*! What the latest recheck of an NTA's zone found (RFC 7646 §4). */
enum hf_nta_check {
	HF_NTA_CHECK_NONE = 0,   /*!< not rechecked yet (since this process started) */
	HF_NTA_CHECK_FAILS,      /*!< the zone still does not validate */
	HF_NTA_CHECK_VALIDATES,  /*!< the zone validates: the NTA is no longer needed */
};

struct hf_nta {
	uint8_t zone[HF_NAME_MAXLEN];        /*!< wire form, lower-cased */
	int64_t added;                       /*!< epoch seconds */
	int64_t expires;                     /*!< epoch seconds; the NTA is gone at this time */
	char reason[HF_NTA_REASON_MAX + 1];
	/* The latest recheck: runtime state, not saved (a restarted control
	 * plane rechecks within one period). */
	int64_t checked;                     /*!< epoch seconds; 0: never */
	enum hf_nta_check check;
};

struct hf_nta_store;

/*! \brief An empty store, or NULL (out of memory). */
struct hf_nta_store *hf_nta_store_create(void);

/*! \brief Free the store; NULL is ignored. */
void hf_nta_store_destroy(struct hf_nta_store *s);

/*!
 * \brief Add an NTA, or update the one already at zone (new lifetime from
 *        now, new reason; its added time becomes now).
 *
 * \param zone      wire form (any case).
 * \param lifetime  seconds, 1..HF_NTA_LIFETIME_MAX; 0 means the default.
 * \param reason    NULL or "" for none; at most HF_NTA_REASON_MAX bytes of
 *                  UTF-8 (control characters refused).
 * \param err       receives what is wrong, e.g. "lifetime 2w exceeds the
 *                  maximum of 1w".
 * \return 0 (added), 1 (updated), -ERANGE (lifetime), -EINVAL (reason,
 *         zone), -ENOSPC (HF_NTA_MAX reached).
 */
int hf_nta_add(struct hf_nta_store *s, const uint8_t *zone, uint64_t lifetime,
	       const char *reason, int64_t now, char *err, size_t err_size);

/*!
 * \brief Remove the NTA at exactly zone.
 * \return 0, or -ENOENT.
 */
int hf_nta_remove(struct hf_nta_store *s, const uint8_t *zone);

/*!
 * \brief Record a recheck's result on the NTA of exactly this zone.
 * \return 0, or -ENOENT (no such NTA: it ended while the probe ran).
 */
int hf_nta_set_check(struct hf_nta_store *s, const uint8_t *zone, int64_t when, bool validates);

/*! \brief "validates", "fails" or "none", for output. */
const char *hf_nta_check_name(enum hf_nta_check c);

/*!
 * \brief The NTA covering name: at name itself or its closest ancestor.
 *
 * Does not check expiry: call hf_nta_expire() on a timer (the control
 * server does it every second) so that lookups stay cheap.
 *
 * \return The NTA (valid until the store next changes), or NULL.
 */
const struct hf_nta *hf_nta_find(const struct hf_nta_store *s, const uint8_t *name);

/*! \brief The NTA at exactly zone, or NULL. */
const struct hf_nta *hf_nta_get(const struct hf_nta_store *s, const uint8_t *zone);

/*! \brief Called by hf_nta_expire() for each NTA, before it is removed. */
typedef void (*hf_nta_expired_fn)(void *ctx, const struct hf_nta *nta);

/*!
 * \brief Remove every NTA with expires <= now.
 * \param cb  NULL, or called once per expired NTA.
 * \return How many expired.
 */
unsigned hf_nta_expire(struct hf_nta_store *s, int64_t now, hf_nta_expired_fn cb, void *ctx);

/*! \brief Earliest expiry in the store, or INT64_MAX when it is empty. */
int64_t hf_nta_next_expiry(const struct hf_nta_store *s);

/*! \brief Number of NTAs. */
unsigned hf_nta_count(const struct hf_nta_store *s);

/*!
 * \brief The i-th NTA, 0 <= i < hf_nta_count(), in canonical order of zones
 *        (RFC 4034 §6.1), so that lists read like a zone file. Valid until
 *        the store next changes.
 */
const struct hf_nta *hf_nta_at(const struct hf_nta_store *s, unsigned i);

/*!
 * \brief Replace the store's content with a file's (see the top of the
 *        file). A missing file is an empty store. Entries that expired
 *        before now are dropped.
 * \param err  on failure: "PATH: ntas[3].zone: empty label", etc.
 * \return The number of NTAs loaded, or -errno (-EINVAL for bad content);
 *         on failure the store is left as it was.
 */
int hf_nta_load(struct hf_nta_store *s, const char *path, int64_t now, char *err,
		size_t err_size);

/*!
 * \brief Write the store to path atomically.
 * \return 0, or -errno with err naming the file and the failed step.
 */
int hf_nta_save(const struct hf_nta_store *s, const char *path, char *err, size_t err_size);

