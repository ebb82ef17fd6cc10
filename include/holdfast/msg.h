/*
 * Messages carried by the shared-memory rings (include/holdfast/ring.h):
 * misses from a dataplane worker to the control plane, and fills back.
 *
 * A miss asks for one question in one "variant" (the DNSSEC-relevant bits of
 * the client's query: DO and CD, which can change the answer). A fill answers
 * it with everything a worker needs to answer any number of clients from its
 * cache without looking into the records:
 *
 *   - the answer rendered once by the control plane as a DNS message: header,
 *     the question (name in lower case), answer, authority and additional
 *     sections, and no OPT record (the worker adds one per client);
 *   - where each record's TTL sits in that message, so the worker can count
 *     TTLs down in place;
 *   - the Extended DNS Errors to send, already in EDNS option wire form, so
 *     the worker copies them into each client's OPT record;
 *   - the rcode (12 bits), whether the answer is validated (AD), and how long
 *     it stays fresh.
 *
 * Compression pointers inside the rendered sections point at offsets of that
 * message; a client's question has the same length as the rendered one (the
 * names differ at most in letter case), so the worker copies the sections
 * behind the client's own question and every pointer still lands right.
 *
 * Fill payload layout (host byte order; the header is struct hf_msg_fill):
 *
 *      0  struct hf_msg_fill         24 bytes
 *     24  u16 ttl_off[n_ttl]         offsets in the message of each TTL field
 *      .  u8  ede[ede_len]           EDNS options (code 15, length, info-code, text)
 *      .  u8  msg[msg_len]           the rendered message
 *
 * The dataplane trusts the control plane (same user, mode 0600 region) but
 * not blindly: hf_msg_fill_decode() checks every length and offset, and that
 * the message parses, before a fill reaches the cache.
 */
#pragma once

#include <stdint.h>

#include "include/holdfast/dns.h"

/*! Ring message types (struct hf_ring_msg.type). */
enum hf_msg_type {
	HF_MSG_MISS = 1,  /*!< worker -> control: struct hf_msg_miss */
	HF_MSG_FILL = 2,  /*!< control -> worker: struct hf_msg_fill + tail */
	HF_MSG_PURGE = 3, /*!< control -> dataplane main lcore (ops ring): struct hf_msg_purge */
};

enum hf_purge_flag {
	HF_PURGE_SUBTREE = 1 << 0,  /*!< the name and everything below it; else the name only */
};

/*!
 * Drop cached answers (every type and variant) for a name or a subtree: an
 * NTA was added or removed, or an operator flushed the cache. The dataplane
 * applies it on every worker's view at once (the cache is shared) and
 * records seq as applied (see shm.h) so the control plane can tell when.
 */
struct hf_msg_purge {
	uint32_t seq;       /*!< increasing per control plane */
	uint8_t flags;      /*!< enum hf_purge_flag */
	uint8_t name_len;
	uint8_t reserved[2];
	uint8_t name[HF_NAME_MAXLEN];  /*!< lower-cased wire form */
};

/*! Bytes of a purge message carrying a name of name_len octets. */
#define HF_MSG_PURGE_LEN(name_len) (offsetof(struct hf_msg_purge, name) + (name_len))

/*!
 * Optional trailer of a purge: 8 more bytes right behind the name (so at an
 * offset that depends on name_len: read and write them with memcpy), the
 * control plane's CLOCK_MONOTONIC nanoseconds when it enqueued the purge.
 * The dataplane uses it only to log and count how long the purge waited
 * (docs/benchmarks.md, scripts/bench-nta). A purge without it
 * (HF_MSG_PURGE_LEN bytes) is still accepted; a dataplane built before the
 * trailer existed counts a purge carrying it as unknown, so both processes
 * must come from a tree that has it (they are built and shipped together).
 */
#define HF_MSG_PURGE_TS_LEN(name_len) (HF_MSG_PURGE_LEN(name_len) + sizeof(uint64_t))

/*! Variant bits: which answer of a question a client gets. */
enum hf_variant {
	HF_VARIANT_DO = 1 << 0,  /*!< client set DO: RRSIGs and proofs wanted */
	HF_VARIANT_CD = 1 << 1,  /*!< client set CD: unvalidated data wanted */
};

enum hf_miss_flag {
	HF_MISS_REFRESH = 1 << 0,  /*!< the worker holds a stale answer; refresh it */
};

/*! A question the cache could not answer. */
struct hf_msg_miss {
	uint32_t req_id;    /*!< worker-chosen handle, echoed by the fill */
	uint16_t qtype;
	uint16_t qclass;
	uint8_t variant;    /*!< enum hf_variant */
	uint8_t flags;      /*!< enum hf_miss_flag */
	uint8_t qname_len;
	uint8_t reserved;
	uint8_t qname[HF_NAME_MAXLEN];  /*!< lower-cased wire form */
};

/*! Bytes of a miss message carrying a name of qname_len octets. */
#define HF_MSG_MISS_LEN(qname_len) (offsetof(struct hf_msg_miss, qname) + (qname_len))

enum hf_fill_flag {
	HF_FILL_AD      = 1 << 0,  /*!< validated secure: AD for clients that ask */
	HF_FILL_NOCACHE = 1 << 1,  /*!< answer the waiters, do not cache */
	HF_FILL_NOSTALE = 1 << 2,  /*!< a failure not to paper over with stale data (bogus, opted out) */
};

struct hf_msg_fill {
	uint32_t req_id;    /*!< from the miss; 0 for a fill nobody asked for */
	uint32_t ttl;       /*!< seconds the answer stays fresh */
	uint16_t rcode;     /*!< 12-bit rcode (header and OPT extension) */
	uint16_t msg_len;   /*!< bytes of the rendered message */
	uint16_t ede_len;   /*!< bytes of EDNS options */
	uint8_t variant;    /*!< enum hf_variant this answer is for */
	uint8_t flags;      /*!< enum hf_fill_flag */
	uint8_t n_ttl;      /*!< TTL fields listed */
	uint8_t reserved[7];
};

_Static_assert(sizeof(struct hf_msg_fill) == 24, "fill header is 24 bytes");

/*! Most TTL fields a fill lists (records in an answer worth caching). */
#define HF_FILL_MAX_TTLS 255

/*! A decoded fill: pointers into the ring slot, valid while it is held. */
struct hf_fill_view {
	const struct hf_msg_fill *hdr;
	const uint16_t *ttl_off;    /*!< n_ttl offsets; may be unaligned-safe copies */
	const uint8_t *ede;         /*!< ede_len bytes */
	const uint8_t *msg;         /*!< msg_len bytes */
	uint16_t question_end;      /*!< offset just past the question in msg */
	uint16_t qtype;
	uint16_t qclass;
	uint8_t qname_len;
	uint8_t qname[HF_NAME_MAXLEN];  /*!< lower case */
};

/*!
 * \brief Encode a fill into buf.
 *
 * \param hdr      header fields; msg_len, ede_len and n_ttl are taken from here.
 * \param ttl_off  hdr->n_ttl offsets into msg.
 * \param ede      hdr->ede_len bytes of EDNS options.
 * \param msg      hdr->msg_len bytes.
 * \return Bytes written, HF_ESPACE if buf is too small, -EINVAL on
 *         inconsistent input (same checks as hf_msg_fill_decode()).
 */
int hf_msg_fill_encode(void *buf, size_t cap, const struct hf_msg_fill *hdr,
		       const uint16_t *ttl_off, const uint8_t *ede, const uint8_t *msg);

/*!
 * \brief Check a fill payload and locate its parts.
 *
 * Checks: lengths add up; the message parses (hf_pkt_parse()) with exactly
 * one question and no OPT record; every TTL offset points at 4 bytes inside
 * the sections; the EDNS options are well formed.
 *
 * \return 0, or -EBADMSG with *why naming the problem.
 */
int hf_msg_fill_decode(const void *payload, size_t len, struct hf_fill_view *view,
		       const char **why);
