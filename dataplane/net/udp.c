/*
 * The DNS response goes out in the mbuf the query came in: the caller writes
 * the message over the UDP payload, this file fixes up everything around it.
 */
#include <errno.h>
#include <stdint.h>

#include "dataplane/net/net_impl.h"
#include "dataplane/net/packet.h"
#include "include/holdfast/csum.h"

#define UDP_HDR_LEN 8
#define IP_LEN_MAX  65535u

uint8_t *hf_net_udp_payload(struct rte_mbuf *m, const struct hf_net_meta *meta,
			    uint16_t *room)
{
	uint32_t buf_room, ip_room;

	*room = 0;
	if (meta->kind != HF_NET_DNS || m->nb_segs != 1)
		return NULL;
	/* Everything after the payload offset in the segment is ours to
	 * overwrite: the query, any Ethernet padding, and the tailroom. */
	buf_room = (uint32_t)rte_pktmbuf_data_len(m) - meta->payload_off + rte_pktmbuf_tailroom(m);
	/* IPv4 total length covers the IP header; IPv6 payload length not. */
	if (meta->is_ipv6)
		ip_room = IP_LEN_MAX - UDP_HDR_LEN;
	else
		ip_room = IP_LEN_MAX - (uint32_t)(meta->payload_off - meta->l3_off);
	*room = (uint16_t)RTE_MIN(buf_room, ip_room);
	return rte_pktmbuf_mtod_offset(m, uint8_t *, meta->payload_off);
}

/* UDP checksum from the pseudo-header, the UDP header and a known payload sum. */
static uint16_t hf_udp_cksum_from(uint16_t phdr_sum, const struct rte_udp_hdr *udp,
				  uint32_t payload_sum)
{
	uint32_t sum = phdr_sum + payload_sum;
	sum += rte_be_to_cpu_16(udp->src_port) + rte_be_to_cpu_16(udp->dst_port) +
	       rte_be_to_cpu_16(udp->dgram_len);
	uint16_t c = (uint16_t)~hf_csum_fold(sum);
	/* RFC 768: a computed 0 is sent as all ones (0 means "none"). */
	return rte_cpu_to_be_16(c == 0 ? 0xffff : c);
}

static int hf_udp_reply(struct rte_mbuf *m, const struct hf_net_meta *meta,
			uint16_t new_payload_len, bool have_sum, uint32_t payload_sum)
{
	struct rte_udp_hdr *udp;
	uint16_t room, t;
	uint8_t *p;
	int rc;

	if (meta->kind != HF_NET_DNS)
		return -EINVAL;
	if (m->nb_segs != 1)
		return -ENOTSUP;
	hf_net_udp_payload(m, meta, &room);
	if (new_payload_len > room)
		return -EMSGSIZE;
	rc = hf_net_set_frame_len(m, (uint32_t)meta->payload_off + new_payload_len);
	if (rc < 0)
		return rc;

	p = rte_pktmbuf_mtod(m, uint8_t *);
	hf_net_eth_swap((struct rte_ether_hdr *)p);

	udp = (struct rte_udp_hdr *)(p + meta->l4_off);
	t = udp->src_port;
	udp->src_port = udp->dst_port;
	udp->dst_port = t;
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(UDP_HDR_LEN + new_payload_len));
	/* The DPDK helpers sum the checksum field too, and take the L4
	 * length from the IP header: zero it, and set lengths first. */
	udp->dgram_cksum = 0;

	if (meta->is_ipv6) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(p + meta->l3_off);

		hf_net_swap16(ip->src_addr, ip->dst_addr);
		ip->payload_len = udp->dgram_len;
		ip->hop_limits = HF_NET_REPLY_TTL;
		udp->dgram_cksum = have_sum ?
			hf_udp_cksum_from(rte_be_to_cpu_16(rte_ipv6_phdr_cksum(ip, 0)), udp, payload_sum) :
			rte_ipv6_udptcp_cksum(ip, udp);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + meta->l3_off);
		rte_be32_t a = ip->src_addr;

		ip->src_addr = ip->dst_addr;
		ip->dst_addr = a;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(meta->payload_off - meta->l3_off +
							       new_payload_len));
		ip->time_to_live = HF_NET_REPLY_TTL;
		ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		udp->dgram_cksum = have_sum ?
			hf_udp_cksum_from(rte_be_to_cpu_16(rte_ipv4_phdr_cksum(ip, 0)), udp, payload_sum) :
			rte_ipv4_udptcp_cksum(ip, udp);
	}
	hf_net_clear_rx_flags(m);
	return 0;
}

int hf_net_udp_reply(struct rte_mbuf *m, const struct hf_net_meta *meta,
		     uint16_t new_payload_len)
{
	return hf_udp_reply(m, meta, new_payload_len, false, 0);
}

int hf_net_udp_reply_sum(struct rte_mbuf *m, const struct hf_net_meta *meta,
			 uint16_t new_payload_len, uint32_t payload_sum)
{
	return hf_udp_reply(m, meta, new_payload_len, true, payload_sum);
}
