/*
 * Iterative resolution: the control plane's recursion engine.
 *
 * A resolver lives on one libuv loop and is used from that loop's thread
 * only: hf_resolver_resolve() starts a resolution and returns at once; the
 * callback runs later on the same loop with the answer rendered the way the
 * dataplane's cache stores it (struct hf_rendered: a DNS message plus the
 * offsets of its TTL fields and its Extended DNS Errors). Thousands of
 * resolutions may be in flight; none blocks the loop.
 *
 * What it does (issue 4): iterate from the root hints over kernel UDP
 * sockets (TCP when a response is truncated); delegation cache (NS + glue),
 * infrastructure cache (smoothed RTT per server address, EDNS, lameness),
 * server choice by SRTT with exploration, retries and timeouts; glueless
 * delegations; CNAME chains across zones; DNAME; NXDOMAIN/NODATA with
 * negative caching (RFC 2308); cached failures (RFC 9520); random source
 * port and ID per query, 0x20 with fallback, QNAME minimisation (RFC 9156,
 * relaxed), bailiwick checks on every record kept, responses matched on
 * address, port, ID and question; limits on referral depth, CNAME chain
 * length, queries per resolution and NS names resolved per delegation.
 * DNSSEC validation (issue 5, control/resolver/validate.h) sits between the
 * iterator and the rendering: AD for SECURE answers, RRSIGs and proofs for
 * DO clients, no validation for CD clients, SERVFAIL for BOGUS.
 *
 * Failures are rendered as SERVFAIL with the EDE that is true: 22 (No
 * Reachable Authority) when no server answered, 23 (Network Error) for
 * transport errors; validation failures carry 6-12 (docs/ede.md), never 22
 * or 23.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>

#include "include/holdfast/dns.h"
#include "include/holdfast/msg.h"

/*! Largest rendered message: what a fill slot carries (see shm.h). */
#define HF_RENDERED_MSG_MAX 4096
/*! Room for the EDNS options (EDEs) of one answer. */
#define HF_RENDERED_EDE_MAX 512

/*!
 * An answer as the dataplane caches it (see include/holdfast/msg.h, "fill").
 * msg holds header (QR, RA, rcode, TC if the answer did not fit), the
 * question with the name in lower case, and the answer, authority and
 * additional sections; no OPT record.
 */
struct hf_rendered {
	uint16_t msg_len;
	uint16_t rcode;        /*!< 12 bits */
	uint32_t ttl;          /*!< seconds it stays fresh: the smallest TTL, or the negative TTL */
	uint8_t flags;         /*!< enum hf_fill_flag: HF_FILL_AD, HF_FILL_NOCACHE */
	uint8_t n_ttl;
	uint16_t ede_len;
	uint16_t ttl_off[HF_FILL_MAX_TTLS];
	uint8_t ede[HF_RENDERED_EDE_MAX];    /*!< EDNS options, wire form (hf_ede_render()) */
	uint8_t msg[HF_RENDERED_MSG_MAX];
};

struct hf_resolver_config {
	const char *root_hints;          /*!< named.root-style file */
	bool allow_loopback_upstreams;   /*!< the lab runs on 127.0.0.0/8 */
	const struct sockaddr_storage *own_addresses;  /*!< never send queries to these */
	unsigned n_own_addresses;
	uint32_t query_timeout_ms;       /*!< first retransmission timeout for an unknown server */
	uint32_t resolution_timeout_ms;  /*!< give up on a whole resolution after this */
	size_t cache_bytes;              /*!< RRset, delegation and infrastructure caches together */
	bool dnssec;                     /*!< validate (issue 5) */
	const char *trust_anchors;       /*!< DS/DNSKEY file; NULL or "": the built-in root anchors */
	unsigned verifier_threads;       /*!< signature-checking threads; 0: one per CPU */
	/*! Zones where a bogus answer must reach clients (no serve-stale): HF_FILL_NOSTALE. */
	const uint8_t (*no_stale_on_bogus)[HF_NAME_MAXLEN];
	unsigned n_no_stale_on_bogus;
};

/*! Called once per resolution, on the loop's thread; ans is valid during the call only. */
typedef void (*hf_resolve_cb)(void *ctx, const struct hf_rendered *ans);

struct hf_resolver;

/*!
 * \brief Create a resolver on a loop.
 * \param err  receives a one-line reason on failure (e.g. "root.hints:3: ...").
 * \return NULL on failure.
 */
struct hf_resolver *hf_resolver_create(uv_loop_t *loop, const struct hf_resolver_config *cfg,
				       char *err, size_t err_size);

/*!
 * \brief Stop every resolution (their callbacks are not called), close the
 *        sockets and free the resolver. Run the loop afterwards until the
 *        handles have closed.
 */
void hf_resolver_destroy(struct hf_resolver *r);

/*!
 * \brief Start resolving a question.
 *
 * \param qname    lower-cased wire form.
 * \param variant  enum hf_variant (DO, CD) of the client's question.
 * \return 0 (cb will be called exactly once), or a negative error code
 *         (cb will not be called).
 */
int hf_resolver_resolve(struct hf_resolver *r, const uint8_t *qname, uint16_t qtype,
			uint16_t qclass, uint8_t variant, hf_resolve_cb cb, void *ctx);

/*! \brief Drop everything cached at or below name (all caches). */
void hf_resolver_flush(struct hf_resolver *r, const uint8_t *name);

/*!
 * Negative Trust Anchors (RFC 7646), as the resolver asks about them: is
 * name at or below an NTA? If so, fill zone (wire form) and reason (a
 * NUL-terminated text) and return true. Called on the loop's thread, once
 * per validated RRset: keep it cheap.
 */
typedef bool (*hf_nta_lookup_fn)(void *ctx, const uint8_t *name, uint8_t *zone, char *reason,
				 size_t reason_size);

/*!
 * \brief Let the resolver consult the operator's NTAs. Data at or below an NTA
 *        is not validated: no AD, and EDE 33 (Negative Trust Anchor) naming
 *        the NTA and its reason. Changing the NTA set must be followed by
 *        hf_resolver_flush() of the zone, so nothing validated before lingers.
 */
void hf_resolver_set_nta_lookup(struct hf_resolver *r, hf_nta_lookup_fn fn, void *ctx);

/*!
 * \brief Does zone validate again? Resolve its SOA with validation, ignoring
 *        NTAs (RFC 7646 §4: the operator is told when an NTA is no longer
 *        needed). cb gets the rendered answer: AD set when the zone is
 *        secure, SERVFAIL with the EDE when it is still bogus. The outcome is
 *        not remembered as a cached failure (clients under the NTA must not
 *        see it).
 * \return 0 (cb will be called once) or a negative error code.
 */
int hf_resolver_probe(struct hf_resolver *r, const uint8_t *zone, hf_resolve_cb cb, void *ctx);
