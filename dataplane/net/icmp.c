/*
 * ICMP and ICMPv6 echo replies in place (RFC 792, RFC 4443 section 4.2).
 *
 * Only the type changes inside the ICMP message, and swapping the addresses
 * leaves the IPv6 pseudo-header sum unchanged, so the checksum is adjusted
 * incrementally (RFC 1624) instead of summed over a payload that can be
 * kilobytes long.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "dataplane/net/net_impl.h"
#include "dataplane/net/packet.h"

/* Sets the ICMP type (first octet of the first 16-bit word) and adjusts the
 * checksum at octets 2-3 for it. */
static void icmp_set_type(uint8_t *icmp, uint8_t type)
{
	uint16_t old_w, new_w, ck;

	memcpy(&old_w, icmp, 2);
	icmp[0] = type;
	memcpy(&new_w, icmp, 2);
	memcpy(&ck, icmp + 2, 2);
	ck = hf_net_cksum_adjust(ck, old_w, new_w);
	memcpy(icmp + 2, &ck, 2);
}

int hf_net_icmp_echo_reply(struct rte_mbuf *m, const struct hf_net_meta *meta)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *icmp = p + meta->l4_off;

	if (meta->kind == HF_NET_ICMP_ECHO) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + meta->l3_off);
		rte_be32_t t = ip->src_addr;

		ip->src_addr = ip->dst_addr;
		ip->dst_addr = t;
		ip->time_to_live = HF_NET_REPLY_TTL;
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		icmp_set_type(icmp, RTE_IP_ICMP_ECHO_REPLY);
	} else if (meta->kind == HF_NET_ICMP6_ECHO) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(p + meta->l3_off);

		hf_net_swap16(ip->src_addr, ip->dst_addr);
		ip->hop_limits = HF_NET_REPLY_TTL;
		icmp_set_type(icmp, HF_ICMP6_ECHO_REPLY);
	} else {
		return -EINVAL;
	}
	/* classify() saw our unicast MAC as destination: a plain swap. */
	hf_net_eth_swap((struct rte_ether_hdr *)p);
	hf_net_clear_rx_flags(m);
	return 0;
}
