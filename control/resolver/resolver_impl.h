/*
 * Internals shared by resolver.c (the public API, control/resolver.h) and
 * iterate.c (the state machine). Not for other modules.
 *
 * A resolution is a struct hf_req. A top-level request (one per
 * hf_resolver_resolve()) owns two timers (the start "kick", so the callback
 * never runs inside hf_resolver_resolve(), and the deadline) and is freed
 * when they have closed. A glueless name server's address is found by a
 * child request (same structure, no timers, freed when it finishes); the
 * query budget is shared with the top-level request.
 *
 * At most one upstream query and one child are outstanding per request:
 * servers are tried one after another, in the order the infrastructure cache
 * suggests. That keeps the state machine small; parallel probing is a later
 * optimisation.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "control/resolver.h"
#include "control/resolver/addr.h"
#include "control/resolver/cache.h"
#include "control/resolver/hints.h"
#include "control/resolver/infra.h"
#include "control/resolver/response.h"
#include "control/resolver/rrset.h"
#include "control/resolver/upstream.h"
#include "control/resolver/validate.h"
#include "control/dnssec/anchor.h"
#include "control/dnssec/verifier.h"

/* Limits, per resolution unless noted. */
#define HF_ITER_MAX_NS          16   /*!< NS names considered per delegation */
#define HF_ITER_MAX_NS_ADDR     4    /*!< addresses kept per NS name */
#define HF_ITER_MAX_REFERRALS   30   /*!< referrals followed (depth of the descent) */
#define HF_ITER_MAX_CNAME       12   /*!< CNAME/DNAME links followed */
#define HF_ITER_MAX_QUERIES     64   /*!< upstream queries, glueless sub-resolutions included */
#define HF_ITER_MAX_NS_RESOLVE  4    /*!< glueless NS names resolved per delegation */
#define HF_ITER_MAX_DEPTH       3    /*!< nested glueless sub-resolutions */
#define HF_ITER_MAX_ROUNDS      3    /*!< times each server address may be asked per delegation (RTO doubles each time) */
#define HF_ITER_MAX_QMIN_STEPS  10   /*!< minimised queries per zone before asking the full name (Unbound's MAX_MINIMISE_COUNT) */
#define HF_ITER_MAX_ANSWER      (HF_ITER_MAX_CNAME + HF_RESP_MAX_CHAIN + 2)
#define HF_ITER_TRIED_TEXT      320  /*!< octets of the "servers tried" text for EDE 22 */
#define HF_ITER_MAX_PROOF       16   /*!< NSEC/NSEC3 RRsets kept per resolution (all zones of a chain) */

/* Defaults for zero fields of struct hf_resolver_config. */
#define HF_RESOLVER_DEF_QUERY_TIMEOUT_MS  400
#define HF_RESOLVER_DEF_RESOLUTION_MS     5000
#define HF_RESOLVER_DEF_CACHE_BYTES       (64u << 20)
/*! Share of cache_bytes given to the infrastructure cache. */
#define HF_RESOLVER_INFRA_SHARE 16

/*! A try that must not be repeated: the server refused, failed or was lame. */
#define HF_TRY_DEAD 0xff

struct hf_dp_ns {
	uint8_t name[HF_NAME_MAXLEN];
	uint8_t n_addr;
	uint8_t resolve_state;      /*!< 0 not yet, 1 A asked, 2 AAAA asked too */
	uint8_t tries[HF_ITER_MAX_NS_ADDR];  /*!< sends to addr[i], or HF_TRY_DEAD */
	union hf_addr addr[HF_ITER_MAX_NS_ADDR];
};

/*! The delegation point being asked: a zone and its servers. */
struct hf_dp {
	uint8_t zone[HF_NAME_MAXLEN];
	unsigned n_ns;
	struct hf_dp_ns ns[HF_ITER_MAX_NS];
	unsigned n_resolved;        /*!< glueless names resolved for it */
	unsigned round;             /*!< pass over the addresses, 1..HF_ITER_MAX_ROUNDS */
	bool any_answer_failure;    /*!< timeouts, refusals, bad answers: EDE 22 */
	bool any_net_error;         /*!< local transport errors: EDE 23 if nothing else */
	bool qmin_off;              /*!< QNAME minimisation given up for this zone (relaxed mode) */
	uint8_t qmin_labels;        /*!< labels of the next minimised name; 0 = zone's + 1 */
	uint8_t qmin_steps;
	char tried[HF_ITER_TRIED_TEXT];
};

struct hf_req;
struct hf_val;
/*! An internal request (zone keys: DS, DNSKEY) has finished; the callee frees it. */
typedef void (*hf_req_done_cb)(void *ctx, struct hf_req *q);

struct hf_req {
	struct hf_resolver *r;
	struct hf_req *prev, *next;     /*!< resolver's list of top-level requests */
	struct hf_req *parent, *child, *top;
	unsigned depth;
	int child_ns;                   /*!< dp.ns index the child resolves */

	hf_resolve_cb cb;
	void *ctx;
	uv_timer_t kick, deadline;
	unsigned open_handles;
	bool done;
	bool cancelled;

	uint8_t orig_qname[HF_NAME_MAXLEN];
	uint16_t orig_qtype, qclass;
	uint8_t variant;
	uint8_t qname[HF_NAME_MAXLEN];  /*!< current name: the end of the CNAME chain */
	uint16_t qtype;

	unsigned n_answer;
	struct hf_rrset *answer[HF_ITER_MAX_ANSWER];
	struct hf_rrset *soa;
	uint16_t rcode;
	unsigned n_proof;
	struct hf_rrset *proof[HF_ITER_MAX_PROOF];  /*!< NSEC/NSEC3 from the responses, for validation */

	/* Internal requests (hf_req_internal()): no timers, no rendering; on_done instead. */
	bool internal;
	hf_req_done_cb on_done;
	void *done_ctx;

	/* Validation (validate.c), top-level requests only. */
	struct hf_val *val;
	uint8_t sec;                    /*!< enum hf_sec of the answer */
	bool ede_info;                  /*!< has_ede is informational (insecure: EDE 1/2/27), not a failure */
	bool probe;                     /*!< hf_resolver_probe(): ignore NTAs, cache no failure */

	bool have_dp;
	struct hf_dp dp;
	unsigned n_queries, n_referrals, n_cname;

	struct hf_upstream *up;
	union hf_addr up_addr;
	int up_ns, up_ai;
	bool up_tcp, up_edns;
	bool up_min;                    /*!< the query in flight is minimised: up_name A */
	uint8_t up_name[HF_NAME_MAXLEN];  /*!< name asked (q->qname or an ancestor of it) */
	uint16_t up_type;

	bool has_ede;
	bool cached_error;              /*!< the failure came from the cache (RFC 9520): EDE 13 too */
	uint16_t ede;
	char ede_text[HF_ITER_TRIED_TEXT + 96];
};

struct hf_resolver {
	uv_loop_t *loop;
	struct hf_resolver_config cfg;
	struct sockaddr_storage *own;
	struct hf_hints hints;
	struct hf_cache *cache;
	struct hf_infra *infra;
	struct hf_req *reqs;
	bool trace;                     /*!< HF_RESOLVE_TRACE set: log each query to stderr */

	/* DNSSEC (validate.h): on when cfg.dnssec. */
	struct hf_anchors anchors;
	struct hf_verifier *verifier;
	struct hf_zkey **zkeys;         /*!< HF_ZKEY_BUCKETS chains (zonekey.c) */
	size_t n_zkeys;
	struct hf_zkey *zkey_starting;  /*!< fetches to start on the next loop turn */
	uv_timer_t *zkey_kick;          /*!< allocated: its close outlives the resolver */
	hf_nta_lookup_fn nta_lookup;    /*!< hf_resolver_set_nta_lookup(), or NULL */
	uint8_t (*no_stale)[HF_NAME_MAXLEN];  /*!< cfg.no_stale_on_bogus, copied */
	unsigned n_no_stale;
	void *nta_ctx;
};

/*!
 * \brief Start an internal request (no timers, never rendered): done(ctx, q)
 *        runs when it finishes, possibly before this returns; then the
 *        callee owns q and frees it with hf_req_internal_free().
 * \return The request, or NULL on allocation failure (done not called).
 */
struct hf_req *hf_req_internal(struct hf_resolver *r, const uint8_t *name, uint16_t type,
			       uint16_t qclass, hf_req_done_cb done, void *ctx);
/*! \brief Stop (if running) and free an internal request. */
void hf_req_internal_free(struct hf_req *q);

/*!
 * \brief snprintf for EDE texts and logs, where cutting a long text short is
 *        intended (the EDE room is bounded).
 * \return What snprintf returns.
 */
__attribute__((format(printf, 3, 4)))
int hf_text_fmt(char *out, size_t size, const char *fmt, ...);

/*! \brief Seconds on the cache's clock (CLOCK_MONOTONIC, which faketime can move). */
uint64_t hf_resolver_now_s(void);
/*! \brief Milliseconds on the infrastructure cache's clock. */
uint64_t hf_resolver_now_ms(void);

/*! \brief Advance a request (iterate.c): answer from cache, or ask the next server. */
void hf_iter_step(struct hf_req *q);

/*! \brief Stop a request's query and child; free its RRsets (iterate.c). */
void hf_iter_release(struct hf_req *q);

/*!
 * \brief Finish a top-level request (resolver.c): render, call back, cache a
 *        failure, close its handles. Called by iterate.c.
 */
void hf_req_complete(struct hf_req *q);
