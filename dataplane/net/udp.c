/*
 * The DNS response goes out in the mbuf the query came in: the caller writes
 * the message over the UDP payload, this file fixes up everything around it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dataplane/net/net_impl.h"
#include "dataplane/net/packet.h"
#include "dataplane/csum_fast.h"
#include "include/holdfast/csum.h"

#define UDP_HDR_LEN 8

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

/*
 * The IPv4 reply when the payload's sum is known: header and UDP checksums
 * summed word-wide in host order (csum_fast.h), the addresses once for both.
 * Every field is read before any is written, and the sums are made from
 * those values: reading back words just written in narrower pieces would
 * stall on store forwarding. Returns false for a header with options (the
 * caller takes the general path).
 */
static bool hf_udp_reply4_sum(struct rte_ipv4_hdr *ip, struct rte_udp_hdr *udp,
			      uint16_t ip_len, uint32_t payload_sum)
{
	uint16_t ver_tos;

	if (ip->version_ihl != RTE_IPV4_VHL_DEF)
		return false;
	memcpy(&ver_tos, ip, sizeof(ver_tos));
	const rte_be32_t src = ip->dst_addr, dst = ip->src_addr;
	const rte_be16_t id = ip->packet_id;
	const rte_be16_t sport = udp->dst_port, dport = udp->src_port;
	const rte_be16_t tot = rte_cpu_to_be_16(ip_len);
	const rte_be16_t ulen = rte_cpu_to_be_16((uint16_t)(ip_len - sizeof(*ip)));
	const rte_be16_t frag = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	const uint8_t ttl_proto_b[2] = { HF_NET_REPLY_TTL, ip->next_proto_id };
	uint16_t ttl_proto;
	memcpy(&ttl_proto, ttl_proto_b, sizeof(ttl_proto));

	const uint64_t addrs = (uint64_t)src + dst;
	uint64_t acc = addrs + ver_tos + tot + id + frag + ttl_proto;
	const uint16_t hc = (uint16_t)~hf_csum_fast_fold(acc);

	/* Pseudo-header (addresses, protocol, UDP length), the UDP header with
	 * a zero checksum (its length counted a second time), the payload. */
	acc = addrs + rte_cpu_to_be_16(IPPROTO_UDP) + 2u * ulen + sport + dport +
	      rte_cpu_to_be_16(hf_csum_fold(payload_sum));
	uint16_t uc = (uint16_t)~hf_csum_fast_fold(acc);

	ip->total_length = tot;
	ip->fragment_offset = frag;
	ip->time_to_live = HF_NET_REPLY_TTL;
	ip->hdr_checksum = hc;
	ip->src_addr = src;
	ip->dst_addr = dst;
	udp->src_port = sport;
	udp->dst_port = dport;
	udp->dgram_len = ulen;
	/* RFC 768: a computed 0 is sent as all ones (0 means "none"). */
	udp->dgram_cksum = uc == 0 ? 0xffff : uc;
	return true;
}

static int hf_udp_reply(struct rte_mbuf *m, const struct hf_net_meta *meta,
			uint16_t new_payload_len, bool have_sum, uint32_t payload_sum)
{
	struct rte_udp_hdr *udp;
	uint16_t room, t;
	uint8_t *p;

	if (meta->kind != HF_NET_DNS)
		return -EINVAL;
	if (m->nb_segs != 1)
		return -ENOTSUP;
	hf_net_udp_payload(m, meta, &room);
	if (new_payload_len > room)
		return -EMSGSIZE;
	/* One segment, and the new length within data + tailroom (room says
	 * so): what hf_net_set_frame_len()'s append or trim would do, without
	 * their checks again. */
	const uint16_t frame_len = (uint16_t)(meta->payload_off + new_payload_len);
	m->data_len = frame_len;
	m->pkt_len = frame_len;

	p = rte_pktmbuf_mtod(m, uint8_t *);
	hf_net_eth_swap((struct rte_ether_hdr *)p);

	udp = (struct rte_udp_hdr *)(p + meta->l4_off);
	if (have_sum && !meta->is_ipv6 &&
	    hf_udp_reply4_sum((struct rte_ipv4_hdr *)(p + meta->l3_off), udp,
			      (uint16_t)(meta->payload_off - meta->l3_off + new_payload_len),
			      payload_sum)) {
		hf_net_clear_rx_flags(m);
		return 0;
	}
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
