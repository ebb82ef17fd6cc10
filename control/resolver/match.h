/*
 * Does a datagram answer the query we sent? (RFC 5452 §9.1: source address
 * and port, ID, and the question, here with the 0x20 letter case too.)
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "include/holdfast/dns.h"
#include "include/holdfast/pkt.h"
#include "control/resolver/addr.h"

/*! What we sent, as the response must echo it. */
struct hf_match_key {
	union hf_addr to;                /*!< the server (address and port) */
	uint16_t id;
	uint16_t qtype;
	uint16_t qclass;
	uint8_t qname[HF_NAME_MAXLEN];   /*!< as sent: with its 0x20 letter case */
};

/*! Verdict on a datagram; anything but HF_MATCH_OK is ignored (keep waiting). */
enum hf_match {
	HF_MATCH_OK = 0,
	HF_MATCH_ADDR,         /*!< from another address */
	HF_MATCH_PORT,         /*!< from another port */
	HF_MATCH_MALFORMED,    /*!< does not parse */
	HF_MATCH_NOT_RESPONSE, /*!< QR clear, or not a QUERY */
	HF_MATCH_ID,           /*!< other ID */
	HF_MATCH_QUESTION,     /*!< other name, type or class (or no question) */
	HF_MATCH_CASE,         /*!< same question, other letter case: a forgery, or a server that breaks 0x20 */
};

/*!
 * \brief Check a received message against the query.
 * \param from  sender, or NULL when the transport already guarantees it (TCP).
 * \param pkt   receives the parse; rr/rr_cap as for hf_pkt_parse().
 * \return enum hf_match.
 */
enum hf_match hf_match_response(const struct hf_match_key *key, const union hf_addr *from,
				const uint8_t *wire, size_t len, struct hf_pkt *pkt,
				struct hf_rr *rr, uint16_t rr_cap);

/*! \brief Short name of a verdict, for logs. */
const char *hf_match_str(enum hf_match m);
