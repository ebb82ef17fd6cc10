/*
 * One query to one upstream server, over UDP or TCP, on libuv.
 *
 * UDP: a fresh socket per query, bound to a kernel-chosen (random) port and
 * connected to the server, so the kernel drops datagrams from elsewhere and
 * reports ICMP errors (port unreachable -> -ECONNREFUSED). The ID is random
 * (getrandom); with 0x20 the question's letters get random case. Datagrams
 * that do not match (match.h) are ignored and the query keeps waiting.
 *
 * TCP (RFC 7766): connect, send the length-prefixed query, read one
 * length-prefixed response, close. Used after a truncated UDP answer.
 *
 * Lifetime: hf_upstream_send() returns a handle; the callback runs exactly
 * once unless hf_upstream_cancel() is called first. After the callback (or
 * the cancel) the handle closes and frees itself; the caller must forget it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "include/holdfast/pkt.h"
#include "control/resolver/addr.h"

/*! EDNS payload size we advertise (DNS flag day 2020). */
#define HF_UPSTREAM_EDNS_SIZE 1232
/*! Records parsed per response; a larger response is treated as malformed. */
#define HF_UPSTREAM_MAX_RR 512

struct hf_upstream_query {
	union hf_addr to;
	const uint8_t *qname;   /*!< lower case wire form */
	uint16_t qtype;
	uint16_t qclass;
	bool tcp;
	bool edns;              /*!< add OPT with DO */
	bool use_0x20;
	uint32_t timeout_ms;
};

struct hf_upstream_result {
	int status;                  /*!< 0, -ETIMEDOUT, -ECONNREFUSED, other -errno */
	const struct hf_pkt *pkt;    /*!< with status 0: the matched response (valid during the callback) */
	uint32_t rtt_ms;
	unsigned n_case_mismatch;    /*!< datagrams ignored for letter case only */
	unsigned n_ignored;          /*!< other ignored datagrams */
};

typedef void (*hf_upstream_cb)(void *ctx, const struct hf_upstream_result *res);

struct hf_upstream;

/*!
 * \brief Send a query.
 * \param out  receives the handle (for cancelling).
 * \return 0 (cb will be called), or a negative error (cb will not be called).
 */
int hf_upstream_send(uv_loop_t *loop, const struct hf_upstream_query *q, hf_upstream_cb cb,
		     void *ctx, struct hf_upstream **out);

/*! \brief Abandon a query: cb is not called. */
void hf_upstream_cancel(struct hf_upstream *u);
