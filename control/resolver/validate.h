/*
 * DNSSEC validation inside the resolver (issue 5): the stage between the
 * iterator and the rendering. Internal to control/resolver/.
 *
 * Three small state machines, all on the resolver's loop thread:
 *
 *  - sigcheck (sigcheck.c): one RRset against one zone's DNSKEY set. It
 *    walks the RRSIGs (signer, type, labels, validity window, key tag and
 *    algorithm), hands each candidate (RRSIG, DNSKEY) pair to the batch
 *    verifier (control/dnssec/verifier.h) and stops at the first that
 *    verifies. When none does it says why, in the order of truth: a
 *    signature that failed to verify (EDE 6, with owner, type and key tag),
 *    expired (7), not yet valid (8), no DNSKEY with the RRSIG's tag (9), no
 *    RRSIG at all (10).
 *
 *  - zone keys (zonekey.c): the trusted DNSKEY set of a zone, or the proof
 *    that the zone is insecure, or why neither could be had. Fetched once
 *    per zone however many resolutions wait for it, from the trust anchor
 *    down: DS of the zone (checked with the parent's keys, found the same
 *    way), then its DNSKEY set (a key must match a DS and sign the set). A
 *    parent's signed "no DS" (NSEC/NSEC3, control/dnssec/denial.h) makes
 *    the zone insecure. Results are cached for their TTL; failures for a few
 *    seconds (RFC 9520's spirit: do not hammer a broken zone).
 *
 *  - the answer (validate.c): every RRset of a finished resolution (CNAME
 *    chain, answer, SOA, NSEC/NSEC3) against its zone's keys, then the
 *    denial proof for NXDOMAIN/NODATA and the "no closer match" proof for
 *    wildcard expansions. The verdict (SECURE, INSECURE, BOGUS,
 *    INDETERMINATE) sets AD, or turns the answer into SERVFAIL with the EDE
 *    that names what failed; it is written back into the RRset cache so a
 *    cached answer is not validated twice.
 *
 * Callbacks: sigcheck may call back synchronously (a verified-signature
 * cache hit); zone-key waiters are always called back later. The machines
 * use a "running / waiting" pair so a synchronous callback only records its
 * result and the running loop goes on: no recursion, no re-entry.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/holdfast/dns.h"
#include "control/resolver/rrset.h"

#define HF_VAL_TEXT 300           /*!< octets of an EDE text */
#define HF_VAL_SKEW_S 300         /*!< clock skew allowed around RRSIG validity (seconds) */
#define HF_VAL_BOGUS_TTL_S 5      /*!< how long a failed zone-key fetch is remembered */
#define HF_VAL_MAX_SIGS 8         /*!< RRSIGs tried per RRset */
#define HF_VAL_MAX_PARTS 48       /*!< RRsets validated per answer */
#define HF_ZKEY_BUCKETS 1024

struct hf_req;
struct hf_resolver;
struct hf_zkey;

/*! What validation concluded about something, and why. */
struct hf_verdict {
	uint8_t sec;              /*!< enum hf_sec */
	bool has_ede;
	uint16_t ede;
	char text[HF_VAL_TEXT];
};

/*! \brief Set a verdict (printf-style text). */
__attribute__((format(printf, 4, 5)))
void hf_verdict_set(struct hf_verdict *v, uint8_t sec, int ede, const char *fmt, ...);

/*! \brief "owner/type" as EDE texts name an RRset ("example.de/nsec3"). */
const char *hf_val_rrname(const uint8_t *owner, uint16_t type, char *out, size_t size);
/*! \brief Lower-case mnemonic of a type ("nsec3"), or "typeN". */
const char *hf_val_type_name(uint16_t type, char *buf, size_t size);
/*! \brief Now, for RRSIG validity windows: CLOCK_REALTIME seconds (faketime moves it). */
uint32_t hf_val_now_epoch(void);

/* ---- sigcheck.c ---- */

/*! \param labels  the Labels field of the RRSIG that verified (SECURE only). */
typedef void (*hf_sigcheck_cb)(void *ctx, const struct hf_verdict *v, unsigned labels);

struct hf_sigcheck {
	struct hf_resolver *r;
	const struct hf_rrset *set;     /*!< borrowed: must outlive the check */
	const struct hf_rrset *keys;    /*!< borrowed: the zone's DNSKEY set */
	const uint8_t *zone;            /*!< borrowed */
	unsigned sig_i, key_i;
	bool waiting, running, done;
	int last_status;
	/* Why nothing verified so far, most telling first; each reason keeps the first tag it saw. */
	uint16_t badsig_tag, expired_tag, early_tag, nokey_tag;
	uint8_t nokey_alg, unusable_alg;
	bool any_badsig, any_expired, any_early, any_nokey, any_unusable, any_crypto;
	bool tried_key;  /*!< a key with the current RRSIG's tag was tried */
	hf_sigcheck_cb cb;
	void *ctx;
};

/*!
 * \brief Check set against the DNSKEY set keys of zone. cb runs exactly once
 *        (possibly before this returns) unless hf_sigcheck_cancel() is called.
 */
void hf_sigcheck_start(struct hf_sigcheck *c, struct hf_resolver *r, const struct hf_rrset *set,
		       const uint8_t *zone, const struct hf_rrset *keys, hf_sigcheck_cb cb, void *ctx);
void hf_sigcheck_cancel(struct hf_sigcheck *c);

/* ---- zonekey.c ---- */

/*! A zone's key state, as handed to waiters (dnskey is theirs to keep: free()). */
struct hf_zstate {
	struct hf_verdict v;            /*!< SECURE, INSECURE (maybe with EDE 1/2/27), BOGUS, INDETERMINATE */
	struct hf_rrset *dnskey;        /*!< SECURE: the trusted DNSKEY set (a copy) */
};

typedef void (*hf_zkey_cb)(void *ctx, struct hf_zstate *st);

/*! A waiter, embedded in whoever waits (so cancelling never allocates). */
struct hf_zwait {
	struct hf_zwait *next;
	struct hf_zkey *zk;             /*!< NULL when not waiting */
	hf_zkey_cb cb;
	void *ctx;
};

/*!
 * \brief Key state of zone.
 * \return 1: known now, *st filled (st->dnskey to be freed by the caller);
 *         0: w is queued and cb(ctx, st) runs later (never before this returns);
 *         -ENOMEM.
 */
int hf_zkey_get(struct hf_resolver *r, const uint8_t *zone, struct hf_zwait *w, hf_zkey_cb cb,
		void *ctx, struct hf_zstate *st);
/*! \brief Stop waiting (no callback). Safe on a waiter that is not waiting. */
void hf_zkey_unwait(struct hf_zwait *w);

/*! \brief The zone-key table; part of the resolver. \return 0 or -ENOMEM. */
int hf_zkeys_init(struct hf_resolver *r);
/*! \brief Stop every fetch, drop every entry (waiters are not called back). */
void hf_zkeys_destroy(struct hf_resolver *r);
/*! \brief Forget the key state of name and every zone below it. */
void hf_zkeys_flush(struct hf_resolver *r, const uint8_t *name);

/* ---- validate.c ---- */

/*! \brief Does this top-level request get validated (validation on, not CD)? */
bool hf_val_wanted(const struct hf_req *q);

/*! \brief Validate a finished top-level request; calls hf_req_complete() when done. */
void hf_val_start(struct hf_req *q);

/*! \brief Stop a request's validation (from hf_iter_release()). */
void hf_val_cancel(struct hf_req *q);
