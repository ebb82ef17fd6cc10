/*
 * Upstream server addresses: a small union that holds IPv4 or IPv6 (the
 * resolver keeps thousands of these; sockaddr_storage is 128 octets), and
 * the policy of which addresses may be queried at all.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

union hf_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/*! Room for "[ffff:...]:65535". */
#define HF_ADDR_TEXT_MAX 64

/*! \brief Equal family, address and port. */
bool hf_addr_equal(const union hf_addr *a, const union hf_addr *b);

/*! \brief Presentation form, without the port (e.g. "127.53.1.3"). */
void hf_addr_to_text(const union hf_addr *a, char *out, size_t size);

/*! \brief An address from A (4 octets) or AAAA (16 octets) RDATA with port 53. \return 0 or -EINVAL. */
int hf_addr_from_rdata(union hf_addr *out, uint16_t type, const uint8_t *rdata, uint16_t len);

/*!
 * \brief May this address be sent a query?
 *
 * Never unspecified, multicast, broadcast, or one of own[] (our own service
 * addresses: asking ourselves loops); loopback only when allow_loopback (the
 * lab lives on 127.0.0.0/8).
 */
bool hf_addr_allowed(const union hf_addr *a, bool allow_loopback,
		     const struct sockaddr_storage *own, unsigned n_own);
