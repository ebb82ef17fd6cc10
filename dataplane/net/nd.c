/*
 * Neighbour Advertisement in place of the Neighbour Solicitation
 * (RFC 4861 sections 4.4 and 7.2.4).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dataplane/net/net_impl.h"
#include "dataplane/net/packet.h"

static const uint8_t all_nodes_ip[16] = { 0xff, 0x02, [15] = 0x01 };
static const struct rte_ether_addr all_nodes_mac = {
	.addr_bytes = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 },
};

int hf_net_nd_advert(struct rte_mbuf *m, const struct hf_net_meta *meta,
		     const struct hf_net_addrs *a)
{
	static const uint8_t zero[16];
	struct rte_ether_hdr *eth;
	struct rte_ipv6_hdr *ip;
	uint8_t target[16];
	uint8_t *p, *na;
	uint32_t flags;
	uint16_t ck;
	bool dad;
	int rc;

	if (meta->kind != HF_NET_ND_SOLICIT)
		return -EINVAL;
	/* Resize first, so that a failure leaves the frame as it was. The
	 * advertisement is 32 octets whatever options the solicitation had. */
	rc = hf_net_set_frame_len(m, (uint32_t)meta->l4_off + HF_ND_NA_LEN);
	if (rc < 0)
		return rc;

	p = rte_pktmbuf_mtod(m, uint8_t *);
	eth = (struct rte_ether_hdr *)p;
	ip = (struct rte_ipv6_hdr *)(p + meta->l3_off);
	na = p + meta->l4_off;
	memcpy(target, na + 8, 16);
	/* From the unspecified address: duplicate address detection. The
	 * answer defends the address to all nodes, unsolicited (S=0). */
	dad = memcmp(ip->src_addr, zero, 16) == 0;

	if (dad)
		rte_ether_addr_copy(&all_nodes_mac, &eth->dst_addr);
	else
		rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&a->mac, &eth->src_addr);

	/* Traffic class and flow label of a solicitation say nothing about
	 * the advertisement: start from a clean version-6 word. */
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(HF_ND_NA_LEN);
	ip->proto = IPPROTO_ICMPV6;
	ip->hop_limits = HF_ND_HOP_LIMIT;
	memcpy(ip->dst_addr, dad ? all_nodes_ip : ip->src_addr, 16);
	memcpy(ip->src_addr, target, 16);

	/* We are not a router (R=0); Override, since the address is ours. */
	flags = HF_ND_NA_FLAG_O | (dad ? 0 : HF_ND_NA_FLAG_S);
	flags = rte_cpu_to_be_32(flags);
	na[0] = HF_ICMP6_NA;
	na[1] = 0;
	na[2] = 0;
	na[3] = 0;
	memcpy(na + 4, &flags, 4);
	memcpy(na + 8, target, 16);
	na[24] = HF_ND_OPT_TLLA;
	na[25] = 1; /* in units of 8 octets */
	memcpy(na + 26, a->mac.addr_bytes, RTE_ETHER_ADDR_LEN);

	ck = rte_ipv6_udptcp_cksum(ip, na);
	memcpy(na + 2, &ck, 2);
	hf_net_clear_rx_flags(m);
	return 0;
}
