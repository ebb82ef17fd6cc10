/*
 * The DNS side of the fast path: read a client's query, then answer it in
 * place, in the buffer that received it.
 *
 * hf_query_parse() decides what a query deserves: a cache lookup, an error
 * response it writes at once (FORMERR, NOTIMP, REFUSED, BADVERS), or nothing
 * at all (a response sent to us, which must never be answered: that is how
 * reflection loops start). It keeps from the query what is needed to answer
 * it later, so a worker can hold a question while the control plane resolves
 * it and still answer exactly as RFC 1035/6891 want: the client's ID, RD and
 * CD bits, its question in its own letter case (0x20), its EDNS buffer size
 * and DO bit.
 *
 * hf_query_answer() writes a response from a pre-rendered answer (a cache
 * entry or a fill): the client's header and question stay where they are,
 * the answer sections are copied behind the question, TTLs are counted down
 * by the entry's age, and an OPT record with the answer's Extended DNS
 * Errors is added for EDNS clients. An answer larger than the client's
 * buffer is sent truncated (TC=1, no records), so the client retries over TCP.
 *
 * Nothing here allocates, locks or calls the kernel.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "include/holdfast/dns.h"

/*! What to do with a query. */
enum hf_query_verdict {
	HF_QUERY_LOOKUP,   /*!< well formed: look the question up */
	HF_QUERY_RESPOND,  /*!< an error response was written in place */
	HF_QUERY_DROP,     /*!< say nothing */
};

/*! Why a query did not reach the cache; indexes per-worker counters. */
enum hf_query_reason {
	HF_QREASON_NONE = 0,
	HF_QREASON_SHORT,      /*!< dropped: shorter than a header */
	HF_QREASON_RESPONSE,   /*!< dropped: QR=1 */
	HF_QREASON_MALFORMED,  /*!< FORMERR: does not parse */
	HF_QREASON_QDCOUNT,    /*!< FORMERR: not exactly one question */
	HF_QREASON_OPCODE,     /*!< NOTIMP: opcode other than QUERY */
	HF_QREASON_BADVERS,    /*!< BADVERS: EDNS version above 0 */
	HF_QREASON_CLASS,      /*!< REFUSED: class other than IN */
	HF_QREASON_QTYPE,      /*!< REFUSED or FORMERR: AXFR/IXFR/OPT/meta type over UDP */
	HF_QREASON_COUNT,
};

/*! EDNS buffer size we advertise and honour at most (DNS flag day 2020). */
#define HF_QUERY_EDNS_MAX 1232

/*! What a worker keeps of a query to answer it, now or later. */
struct hf_query {
	uint16_t id;
	uint16_t flags;         /*!< the client's header flags word */
	uint16_t question_end;  /*!< offset just past the question */
	uint16_t udp_limit;     /*!< bytes the response may take */
	uint16_t qtype;
	uint16_t qclass;
	uint8_t variant;        /*!< enum hf_variant: DO and CD */
	bool edns;              /*!< the client sent an OPT record */
	uint8_t qname_len;
	uint16_t question_sum;  /*!< hf_csum_at() of the question as received,
				     dns[12..question_end) at offset 12 */
	uint8_t qname[HF_NAME_MAXLEN];  /*!< lower case: the cache key */
};

/*! A pre-rendered answer, from a cache entry or straight from a fill. */
struct hf_answer {
	const uint8_t *msg;        /*!< header + question + sections, no OPT */
	uint16_t msg_len;
	uint16_t question_end;
	const uint16_t *ttl_off;   /*!< TTL fields in msg */
	uint8_t n_ttl;
	const uint8_t *ede;        /*!< EDNS options in wire form */
	uint16_t ede_len;
	uint16_t rcode;            /*!< 12 bits */
	bool ad;                   /*!< validated secure */
	bool has_sum;              /*!< sections_sum is known */
	uint16_t sections_sum;     /*!< hf_csum_at() of msg[question_end..msg_len) at question_end */
	uint32_t age;              /*!< seconds to take off every TTL */
	uint32_t stale_ttl;        /*!< nonzero: serve-stale, every TTL becomes this (RFC 8767 §4) */
};

/*!
 * \brief Read a query and decide what it deserves.
 *
 * \param dns     The DNS message (UDP payload), writable.
 * \param len     Its length.
 * \param room    Bytes available at dns for a response (>= len).
 * \param q       Receives the query's essentials when the verdict is LOOKUP.
 * \param out_len Receives the response length when the verdict is RESPOND.
 * \param reason  Receives why the verdict is not LOOKUP.
 * \return The verdict.
 */
enum hf_query_verdict hf_query_parse(uint8_t *dns, uint16_t len, uint16_t room,
				     struct hf_query *q, uint16_t *out_len,
				     enum hf_query_reason *reason);

/*!
 * \brief Write the response to q from a pre-rendered answer, in place.
 *
 * \param dns   The buffer holding the client's query (header and question are
 *              kept).
 * \param room  Bytes available at dns.
 * \param sum   If not NULL and a->has_sum, receives the Internet checksum sum
 *              (unfolded, include/holdfast/csum.h) of the whole response,
 *              built from the answer's precomputed sum instead of reading the
 *              copied sections again; left 0 when it cannot be known.
 * \return Response length, or -EINVAL if the answer is for a question of
 *         another length (then treat the query as a miss).
 */
int hf_query_answer(uint8_t *dns, uint16_t room, const struct hf_query *q,
		    const struct hf_answer *a, uint32_t *sum);

/*!
 * \brief Write an error response (e.g. SERVFAIL) with one Extended DNS Error.
 *
 * \param ede   EDE info-code, or -1 for none.
 * \param text  EDE extra text, or NULL.
 * \return Response length (always fits: the query's own room suffices for a
 *         header, its question and an OPT with a short text; a text that does
 *         not fit is dropped, the code is kept).
 */
int hf_query_error(uint8_t *dns, uint16_t room, const struct hf_query *q, uint16_t rcode,
		   int ede, const char *text);

/*! \brief Name of a reason, for counters and logs. */
const char *hf_query_reason_name(enum hf_query_reason r);
