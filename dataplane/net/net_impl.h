/*
 * Internal helpers shared by the packet layer's files (not an API).
 */
#pragma once

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "dataplane/net/packet.h"

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_udp.h>

/* ICMPv6 (RFC 4443, RFC 4861); rte_icmp.h of DPDK 22.11 has ICMPv4 only. */
#define HF_ICMP6_ECHO_REQUEST 128
#define HF_ICMP6_ECHO_REPLY   129
#define HF_ICMP6_NS           135
#define HF_ICMP6_NA           136
#define HF_ND_OPT_SLLA        1
#define HF_ND_OPT_TLLA        2
#define HF_ND_NS_LEN          24  /* type, code, cksum, reserved, target */
#define HF_ND_NA_LEN          32  /* the same plus a target LLA option */
#define HF_ND_NA_FLAG_S       0x40000000u
#define HF_ND_NA_FLAG_O       0x20000000u
#define HF_ND_HOP_LIMIT       255

/* Offload flags an mbuf carries as attributes of its buffer, not of the
 * packet: everything else in ol_flags is RX information a reply must shed. */
#define HF_NET_MBUF_ATTR_FLAGS (RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL)

static inline void hf_net_clear_rx_flags(struct rte_mbuf *m)
{
	m->ol_flags &= HF_NET_MBUF_ATTR_FLAGS;
}

/* Reply to the sender: destination = old source, source = our MAC (the
 * frame arrived on our unicast MAC or a group MAC; never echo the latter). */
/* Byte copies: a frame may start at any address (mbuf data offsets are the
 * driver's choice), and struct rte_ether_addr asks for 2-byte alignment. */
static inline void hf_net_eth_reply(struct rte_ether_hdr *eth, const struct rte_ether_addr *ours)
{
	uint8_t *h = (uint8_t *)eth;

	memcpy(h, h + RTE_ETHER_ADDR_LEN, RTE_ETHER_ADDR_LEN);
	memcpy(h + RTE_ETHER_ADDR_LEN, ours->addr_bytes, RTE_ETHER_ADDR_LEN);
}

static inline void hf_net_eth_swap(struct rte_ether_hdr *eth)
{
	uint8_t *h = (uint8_t *)eth;
	uint8_t t[RTE_ETHER_ADDR_LEN];

	memcpy(t, h, RTE_ETHER_ADDR_LEN);
	memcpy(h, h + RTE_ETHER_ADDR_LEN, RTE_ETHER_ADDR_LEN);
	memcpy(h + RTE_ETHER_ADDR_LEN, t, RTE_ETHER_ADDR_LEN);
}

static inline void hf_net_swap16(uint8_t *a, uint8_t *b)
{
	uint8_t t[16];

	memcpy(t, a, 16);
	memcpy(a, b, 16);
	memcpy(b, t, 16);
}

/*
 * RFC 1624 eqn. 3: the checksum after one 16-bit word of the summed data
 * changes from old_w to new_w (all in network order, as stored).
 * HC' = ~(~HC + ~m + m')
 */
static inline uint16_t hf_net_cksum_adjust(uint16_t hc, uint16_t old_w, uint16_t new_w)
{
	uint32_t sum = (uint16_t)~hc;

	sum += (uint16_t)~old_w;
	sum += new_w;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Makes the frame exactly `len` octets long (single segment only). */
static inline int hf_net_set_frame_len(struct rte_mbuf *m, uint32_t len)
{
	uint16_t cur = rte_pktmbuf_data_len(m);

	if (m->nb_segs != 1)
		return -ENOTSUP;
	if (len > cur) {
		if (rte_pktmbuf_append(m, (uint16_t)(len - cur)) == NULL)
			return -ENOSPC;
	} else if (len < cur) {
		if (rte_pktmbuf_trim(m, (uint16_t)(cur - len)) != 0)
			return -ENOSPC;
	}
	return 0;
}
