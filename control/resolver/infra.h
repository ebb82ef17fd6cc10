/*
 * Infrastructure cache: what we know about each upstream server address —
 * smoothed RTT and its variance (Jacobson/Karels, RFC 6298), the
 * retransmission timeout that follows, and per-server quirks (no EDNS, no
 * 0x20). Server choice uses it: the lowest RTO wins, but any server within
 * HF_INFRA_BAND_MS of it may be picked at random, so that every server gets
 * measured now and then (exploration, as Unbound's 400 ms band).
 *
 * Memory: a fixed table of 4-way sets chosen at creation; a new address takes
 * the least recently used way of its set. Entries not used for
 * HF_INFRA_TTL_MS are forgotten, so a server that was down gets probed anew.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "control/resolver/addr.h"

#define HF_INFRA_RTO_MIN_MS   50      /*!< floor of a server's timeout */
#define HF_INFRA_RTO_MAX_MS   5000    /*!< ceiling after backoff */
#define HF_INFRA_BAND_MS      400     /*!< servers this close to the best are all candidates */
#define HF_INFRA_TTL_MS       (15 * 60 * 1000)  /*!< forget a server after this long unused */
#define HF_INFRA_WAYS         4

enum hf_infra_flag {
	HF_INFRA_NO_EDNS = 1 << 0,  /*!< answered FORMERR to EDNS: query without OPT */
	HF_INFRA_NO_0X20 = 1 << 1,  /*!< does not echo the question's case */
};

struct hf_infra_entry {
	union hf_addr addr;
	uint64_t used_ms;    /*!< last update, monotonic ms; 0 = free way */
	uint64_t backoff_ms; /*!< when the RTO was last doubled; 0 = since the last answer, never */
	uint32_t srtt_ms;
	uint32_t rttvar_ms;
	uint32_t rto_ms;
	uint16_t timeouts;   /*!< in a row */
	uint8_t known;       /*!< srtt holds a measurement */
	uint8_t flags;       /*!< enum hf_infra_flag */
};

struct hf_infra {
	uint32_t unknown_rto_ms;  /*!< timeout for a server never measured */
	size_t n_sets;
	struct hf_infra_entry *e;  /*!< n_sets * HF_INFRA_WAYS */
};

/*! \brief Table for about max_entries addresses. \return NULL on allocation failure. */
struct hf_infra *hf_infra_create(size_t max_entries, uint32_t unknown_rto_ms);
void hf_infra_destroy(struct hf_infra *in);

/*! \brief The timeout for the next query to addr. */
uint32_t hf_infra_rto(struct hf_infra *in, const union hf_addr *addr, uint64_t now_ms);

/*! \brief A reply came after rtt_ms: smooth it in, clear the timeout streak. */
void hf_infra_rtt(struct hf_infra *in, const union hf_addr *addr, uint32_t rtt_ms, uint64_t now_ms);

/*!
 * \brief A query timed out (or was refused): double the RTO, up to
 *        HF_INFRA_RTO_MAX_MS, at most once per RTO: the queries that time out
 *        together were sent with the same RTO and count as one loss (as
 *        Unbound's rtt_lost() doubles the RTO a query was sent with, not the
 *        current one), so a burst of losses under load does not jump to the
 *        ceiling and then fall back to the floor with the next answer.
 */
void hf_infra_timeout(struct hf_infra *in, const union hf_addr *addr, uint64_t now_ms);

/*! \brief enum hf_infra_flag bits known for addr. */
uint8_t hf_infra_flags(struct hf_infra *in, const union hf_addr *addr, uint64_t now_ms);
void hf_infra_set_flags(struct hf_infra *in, const union hf_addr *addr, uint8_t flags, uint64_t now_ms);

/*!
 * \brief Choose one of n candidate addresses: uniformly among those whose
 *        RTO is within HF_INFRA_BAND_MS of the lowest.
 * \param rnd  a random number (the caller's getrandom), so tests can steer it.
 * \return index in cand, or -1 if n is 0.
 */
int hf_infra_select(struct hf_infra *in, const union hf_addr *cand, unsigned n, uint64_t now_ms,
		    uint32_t rnd);
