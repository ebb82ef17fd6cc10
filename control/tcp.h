/*
 * DNS over TCP (RFC 7766) on control.listen-tcp: the slow path of the
 * service, answered by the control plane's own resolver.
 *
 * Each connection carries 2-octet length-prefixed messages. Queries are
 * read with hf_pkt_parse() and pipelined: up to HF_TCP_INFLIGHT_MAX per
 * connection are resolved at once and answered in whatever order they
 * finish (RFC 7766 §6.2.1.1); beyond that the connection is not read until
 * an answer goes out, which is the back-pressure TCP is for. A connection
 * with no query in flight and nothing received for HF_TCP_IDLE_MS is closed
 * (§6.2.3); at most HF_TCP_CONN_MAX connections are open, later ones are
 * accepted and closed at once, so that they do not sit in the kernel's
 * backlog.
 *
 * Each client gets its own response rendered from the resolver's answer
 * (hf_tcp_render()): its ID and its question as written (0x20 case), its RD
 * and CD, RA, AD only for validated data asked for with DO or AD (RFC 6840
 * §5.7-5.8), and an OPT record carrying the answer's EDEs when the client
 * sent EDNS. Bad input gets FORMERR (when the header can be read), NOTIMP,
 * REFUSED or BADVERS as the dataplane answers them; a message that is not
 * even a header, a response (QR=1) or a zero-length frame closes the
 * connection.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>

#include "control/local.h"
#include "control/resolver.h"

#define HF_TCP_CONN_MAX      256     /*!< open client connections */
#define HF_TCP_INFLIGHT_MAX  32      /*!< queries resolving at once per connection */
#define HF_TCP_IDLE_MS       10000   /*!< idle connection timeout, ms */
#define HF_TCP_EDNS_SIZE     1232    /*!< UDP size we advertise in OPT (DNS flag day 2020) */
#define HF_TCP_ANSWER_MAX    (HF_DNS_HEADER_SIZE + HF_NAME_MAXLEN + 4 + HF_RENDERED_MSG_MAX + \
			      HF_OPT_RR_FIXED + HF_RENDERED_EDE_MAX) /*!< largest response, bytes */

/*! What the response to one client depends on, copied from its query. */
struct hf_client_question {
	uint16_t id;
	uint16_t flags;            /*!< the query's header flags (RD, AD, CD matter) */
	bool edns;                 /*!< the query had an OPT record */
	uint16_t edns_flags;       /*!< its DO bit */
	uint16_t question_len;     /*!< bytes of question, as written */
	uint8_t question[HF_NAME_MAXLEN + 4];
};

struct hf_tcp_config {
	const struct sockaddr_storage *addrs;  /*!< listen addresses with ports */
	unsigned n_addrs;
	struct hf_resolver *resolver;
	const struct hf_local *local;          /*!< must outlive the server */
};

/*! Counters since start. */
struct hf_tcp_stats {
	uint64_t accepted;
	uint64_t refused;          /*!< connections over HF_TCP_CONN_MAX */
	uint64_t queries;
	uint64_t answers;
	uint64_t formerr;          /*!< malformed queries answered FORMERR */
	uint64_t closed_bad;       /*!< connections closed for bad framing or input */
	uint64_t idle_closed;
	uint64_t throttled;        /*!< times reading stopped for a long write queue */
};

struct hf_tcp;

/*!
 * \brief Bind and listen on every address (before dropping privileges).
 * \param err  receives "ADDRESS: reason" on failure.
 * \return NULL on failure.
 */
struct hf_tcp *hf_tcp_create(uv_loop_t *loop, const struct hf_tcp_config *cfg, char *err,
			     size_t err_size);

/*!
 * \brief The address listener i is bound to (its port, if 0 was asked).
 * \return 0, or -EINVAL / a libuv error.
 */
int hf_tcp_local_addr(const struct hf_tcp *tcp, unsigned i, struct sockaddr_storage *out);

/*! \brief The counters. */
const struct hf_tcp_stats *hf_tcp_stats(const struct hf_tcp *tcp);

/*!
 * \brief Close listeners and connections and free every query; the server
 *        frees itself once the loop has run the close callbacks.
 *
 * Call after hf_resolver_destroy() (queries in flight are freed here). NULL
 * is ignored.
 */
void hf_tcp_close(struct hf_tcp *tcp);

/*!
 * \brief Render the response to one client from a resolver's answer.
 *
 * \param cq   the client's query.
 * \param ans  the answer; its question must be the client's, case aside.
 * \param out  at least HF_TCP_ANSWER_MAX bytes.
 * \return Bytes written, or -EINVAL if ans is malformed or answers another
 *         question, or HF_ESPACE.
 */
int hf_tcp_render(const struct hf_client_question *cq, const struct hf_rendered *ans,
		  uint8_t *out, size_t cap);
