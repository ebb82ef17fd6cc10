/*
 * One query to one upstream server, over UDP or TCP, on libuv.
 *
 * UDP: sockets connected to one server address each, so the kernel drops
 * datagrams from elsewhere and reports ICMP errors (port unreachable ->
 * -ECONNREFUSED, given to every query in flight on that socket, as all of
 * them went to that server). Each server address has up to
 * HF_UPSTREAM_POOL_SOCKS sockets, each bound to its own kernel-chosen
 * (random) port; a query goes on one of them at random with a random ID
 * (getrandom) not in flight on that socket, and with 0x20 the question's
 * letters get random case. A socket takes new queries for at most
 * HF_UPSTREAM_SOCK_USES queries and HF_UPSTREAM_SOCK_LIFE_MS, then is
 * replaced by a new one on a new random port (as Unbound draws a new port
 * per query, but without a socket, bind, connect and epoll registration per
 * query); it closes when its last query is done, or HF_UPSTREAM_SOCK_IDLE_MS
 * after it fell idle. The guessing an off-path attacker faces per forged
 * datagram is the same as with a socket per query (the number of ports open
 * times the IDs in flight on each is the number of queries in flight), and
 * a server only ever learns the ports of the sockets connected to it.
 * Datagrams are handed to the query whose ID they carry, then checked in
 * full (match.h); those that do not match are ignored and the query keeps
 * waiting.
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
/*! UDP sockets kept per server address. */
#define HF_UPSTREAM_POOL_SOCKS 4
/*! Queries sent on one UDP socket before it is replaced (its port retired). */
#define HF_UPSTREAM_SOCK_USES 100
/*! Milliseconds a UDP socket takes new queries before it is replaced. */
#define HF_UPSTREAM_SOCK_LIFE_MS 2000
/*! Queries in flight on one UDP socket at most (a full socket is replaced). */
#define HF_UPSTREAM_SOCK_INFLIGHT 32
/*! Milliseconds an idle UDP socket stays open for the next query. */
#define HF_UPSTREAM_SOCK_IDLE_MS 200

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
	unsigned n_ignored;          /*!< other ignored datagrams (on its socket while it waited) */
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
