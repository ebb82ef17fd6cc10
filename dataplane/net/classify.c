/*
 * Frame classification: Ethernet (up to two VLAN tags) -> ARP / IPv4 / IPv6
 * -> UDP/53, ICMP echo, ICMPv6 echo, Neighbour Solicitation, or the reason
 * the frame is someone else's business.
 *
 * Every read is checked against the first segment's data_len before it is
 * made; multi-octet fields are read byte by byte (rd16) or with memcpy,
 * because after a 14- or 18-octet Ethernet header nothing is 4-aligned.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dataplane/csum_fast.h"
#include "dataplane/net/net_impl.h"
#include "dataplane/net/packet.h"

#define IP4_HDR_MIN   20
#define IP6_HDR_LEN   40
#define UDP_HDR_LEN   8
#define ARP_IP4_LEN   28
#define DNS_PORT      53
#define IP4_FRAG_MASK 0x3fffu  /* MF flag and fragment offset */

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void verdict(struct hf_net_meta *meta, enum hf_net_kind kind,
			   enum hf_net_reason reason)
{
	meta->kind = (uint8_t)kind;
	meta->reason = (uint8_t)reason;
}

/* An address that is not in the set: dropped, or the host's if the operator
 * said the kernel owns addresses of its own. The reason stays the same so
 * the counters show how much of that traffic there is. */
static inline void not_ours(struct hf_net_meta *meta, const struct hf_net_addrs *a)
{
	verdict(meta, a->pass_unknown ? HF_NET_OTHER : HF_NET_DROP, HF_NET_R_NOT_OURS);
}

/* IP length beyond the first segment: truncated, or continued in the next
 * segment, which the in-place replies cannot handle. */
static inline void ip_too_long(struct hf_net_meta *meta, const struct rte_mbuf *m, uint32_t end)
{
	verdict(meta, HF_NET_DROP, end <= rte_pktmbuf_pkt_len(m) ? HF_NET_R_MULTISEG : HF_NET_R_IP_LEN);
}

/* Reflection ports: answering them could start a packet loop between us and
 * a UDP echo/chargen service, or between two resolvers (port 0 is never a
 * legitimate source). Source port 53 stays allowed: some servers and old
 * clients query from it. */
static inline bool bad_src_port(uint16_t port)
{
	return port == 0 || port == 7 || port == 19;
}

static void classify_udp(struct hf_net_meta *meta, const uint8_t *l4, uint32_t l4len)
{
	uint16_t ulen;

	if (l4len < UDP_HDR_LEN) {
		verdict(meta, HF_NET_DROP, HF_NET_R_UDP_LEN);
		return;
	}
	ulen = rd16(l4 + 4);
	if (ulen < UDP_HDR_LEN || ulen > l4len) {
		verdict(meta, HF_NET_DROP, HF_NET_R_UDP_LEN);
		return;
	}
	if (rd16(l4 + 2) != DNS_PORT) {
		verdict(meta, HF_NET_OTHER, HF_NET_R_UDP_PORT);
		return;
	}
	if (bad_src_port(rd16(l4))) {
		verdict(meta, HF_NET_DROP, HF_NET_R_SRC_PORT);
		return;
	}
	meta->payload_off = (uint16_t)(meta->l4_off + UDP_HDR_LEN);
	meta->payload_len = (uint16_t)(ulen - UDP_HDR_LEN);
	verdict(meta, HF_NET_DNS, HF_NET_R_NONE);
}

/* Echo request: type, code, checksum, identifier, sequence, data. */
static void classify_echo(struct hf_net_meta *meta, const uint8_t *l4, uint32_t l4len,
			  enum hf_net_kind kind)
{
	if (l4len < 8) {
		verdict(meta, HF_NET_DROP, HF_NET_R_SHORT);
		return;
	}
	if (l4[1] != 0) {
		verdict(meta, HF_NET_OTHER, HF_NET_R_ICMP_TYPE);
		return;
	}
	meta->payload_off = (uint16_t)(meta->l4_off + 4);
	meta->payload_len = (uint16_t)(l4len - 4);
	verdict(meta, kind, HF_NET_R_NONE);
}

static void classify_arp(struct hf_net_meta *meta, const uint8_t *arp, uint32_t room,
			 const struct hf_net_addrs *a)
{
	rte_be32_t sip, tip;
	int idx;

	if (room < ARP_IP4_LEN) {
		verdict(meta, HF_NET_DROP, HF_NET_R_SHORT);
		return;
	}
	if (rd16(arp) != RTE_ARP_HRD_ETHER || rd16(arp + 2) != RTE_ETHER_TYPE_IPV4 ||
	    arp[4] != RTE_ETHER_ADDR_LEN || arp[5] != 4) {
		verdict(meta, HF_NET_DROP, HF_NET_R_ARP_FORMAT);
		return;
	}
	if (rd16(arp + 6) != RTE_ARP_OP_REQUEST) {
		verdict(meta, HF_NET_OTHER, HF_NET_R_ARP_OP);
		return;
	}
	memcpy(&sip, arp + 14, 4);
	memcpy(&tip, arp + 24, 4);
	idx = hf_net_addrs_find4(a, tip);
	if (idx < 0) {
		not_ours(meta, a);
		return;
	}
	/* The reply goes to the sender hardware address. */
	if (arp[8] & 1) {
		verdict(meta, HF_NET_DROP, HF_NET_R_BAD_SRC);
		return;
	}
	/* Sender claims our address (announcement or conflict): nothing to
	 * answer, but the host may want to log it. A probe (sender 0.0.0.0)
	 * is answered, which is how an address is defended (RFC 5227). */
	if (sip == tip) {
		verdict(meta, HF_NET_OTHER, HF_NET_R_ARP_OP);
		return;
	}
	meta->addr_idx = (uint8_t)idx;
	verdict(meta, HF_NET_ARP, HF_NET_R_NONE);
}

static void classify_ip4(struct hf_net_meta *meta, const struct rte_mbuf *m,
			 const uint8_t *frame, uint32_t len, bool group_mac,
			 const struct hf_net_addrs *a)
{
	const uint8_t *ip = frame + meta->l3_off;
	uint32_t ihl, tot;
	rte_be32_t dst;
	uint8_t src0, dst0;
	int idx;

	if (len - meta->l3_off < IP4_HDR_MIN) {
		verdict(meta, HF_NET_DROP, HF_NET_R_SHORT);
		return;
	}
	if ((ip[0] >> 4) != 4) {
		verdict(meta, HF_NET_DROP, HF_NET_R_IP_VERSION);
		return;
	}
	ihl = (uint32_t)(ip[0] & 0xf) * 4;
	tot = rd16(ip + 2);
	if (ihl < IP4_HDR_MIN) {
		verdict(meta, HF_NET_DROP, HF_NET_R_IP_HLEN);
		return;
	}
	/* Once tot >= ihl, "tot within the frame" covers the options too, so a
	 * frame cut inside the options counts as cut, not as a bad IHL. */
	if (tot < IP4_HDR_MIN || tot < ihl) {
		verdict(meta, HF_NET_DROP, tot < IP4_HDR_MIN ? HF_NET_R_IP_LEN : HF_NET_R_IP_HLEN);
		return;
	}
	if (meta->l3_off + tot > len) {
		ip_too_long(meta, m, meta->l3_off + tot);
		return;
	}
	/* A header the NIC did not vouch for is summed here: a corrupted
	 * source address would make us answer a stranger. */
	if ((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) != RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
	    ((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
	     hf_csum_fast_fold(ihl == IP4_HDR_MIN ? hf_csum_fast_add(0, ip, IP4_HDR_MIN) :
						    hf_csum_fast_add(0, ip, ihl)) != 0xffff)) {
		verdict(meta, HF_NET_DROP, HF_NET_R_IP_CSUM);
		return;
	}

	/* Multicast (224/4), class E and the limited broadcast: the host's
	 * (IGMP, routing protocols, DHCP), never DNS to us. */
	dst0 = ip[16];
	if (dst0 >= 224) {
		verdict(meta, HF_NET_OTHER, HF_NET_R_MCAST);
		return;
	}
	memcpy(&dst, ip + 16, 4);
	idx = hf_net_addrs_find4(a, dst);
	if (idx < 0) {
		not_ours(meta, a);
		return;
	}
	if (group_mac) {
		verdict(meta, HF_NET_DROP, HF_NET_R_NOT_OUR_MAC);
		return;
	}
	meta->addr_idx = (uint8_t)idx;
	/* Sources no reply can go to: this-network, loopback, multicast,
	 * class E and broadcast (RFC 1122 3.2.1.3). */
	src0 = ip[12];
	if (src0 == 0 || src0 == 127 || src0 >= 224) {
		verdict(meta, HF_NET_DROP, HF_NET_R_BAD_SRC);
		return;
	}
	if (rd16(ip + 6) & IP4_FRAG_MASK) {
		verdict(meta, HF_NET_DROP, HF_NET_R_FRAGMENT);
		return;
	}

	meta->l4_off = (uint16_t)(meta->l3_off + ihl);
	switch (ip[9]) {
	case IPPROTO_UDP:
		classify_udp(meta, ip + ihl, tot - ihl);
		return;
	case IPPROTO_ICMP:
		if (tot - ihl >= 1 && ip[ihl] == RTE_IP_ICMP_ECHO_REQUEST)
			classify_echo(meta, ip + ihl, tot - ihl, HF_NET_ICMP_ECHO);
		else
			verdict(meta, HF_NET_OTHER, HF_NET_R_ICMP_TYPE);
		return;
	default:
		verdict(meta, HF_NET_OTHER, HF_NET_R_L4_PROTO);
		return;
	}
}

static inline bool ip6_is_unspecified(const uint8_t *addr)
{
	static const uint8_t zero[16];

	return memcmp(addr, zero, 16) == 0;
}

/* Next-header values that are IPv6 extension headers (IANA registry). */
static inline bool ip6_is_exthdr(uint8_t nh)
{
	switch (nh) {
	case 0:   /* hop-by-hop options */
	case 43:  /* routing */
	case 44:  /* fragment */
	case 50:  /* ESP */
	case 51:  /* AH */
	case 60:  /* destination options */
	case 135: /* mobility */
	case 139: /* HIP */
	case 140: /* shim6 */
	case 253: /* experimental */
	case 254:
		return true;
	default:
		return false;
	}
}

/* Sum over the pseudo-header and the ICMPv6 message, checksum included:
 * all ones when it is right. (rte_ipv6_udptcp_cksum_verify() would do, but
 * it is still experimental in DPDK 22.11.) */
static bool ip6_l4_cksum_ok(const uint8_t *ip, const uint8_t *l4, uint32_t l4len)
{
	uint32_t sum = rte_ipv6_phdr_cksum((const struct rte_ipv6_hdr *)(const void *)ip, 0);

	sum += rte_raw_cksum(l4, l4len);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/*
 * Neighbour Solicitation, checked as RFC 4861 section 7.1.1 asks: hop limit
 * 255 (it cannot have crossed a router), code 0, at least 24 octets, a valid
 * checksum, a unicast target, options of non-zero length; from the
 * unspecified source only to the solicited-node address and without a
 * source link-layer address option.
 */
static void classify_ns(struct hf_net_meta *meta, const uint8_t *ip, const uint8_t *l4,
			uint32_t l4len, bool mcast_dst, const struct hf_net_addrs *a)
{
	const uint8_t *target = l4 + 8;
	bool unspec_src;
	int idx;

	if (l4len < HF_ND_NS_LEN || ip[7] != HF_ND_HOP_LIMIT || l4[1] != 0 || target[0] == 0xff) {
		verdict(meta, HF_NET_DROP, HF_NET_R_ND_INVALID);
		return;
	}
	idx = hf_net_addrs_find6(a, target);
	if (idx < 0) {
		/* Someone else's neighbour (the host's link-local, say). */
		if (mcast_dst)
			verdict(meta, HF_NET_OTHER, HF_NET_R_MCAST);
		else
			not_ours(meta, a);
		return;
	}
	if (mcast_dst) {
		/* ff02::1:ffXX:XXXX with the target's low 24 bits. */
		static const uint8_t sn_prefix[13] = {
			0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff,
		};

		if (memcmp(ip + 24, sn_prefix, 13) != 0 || memcmp(ip + 24 + 13, target + 13, 3) != 0) {
			verdict(meta, HF_NET_DROP, HF_NET_R_ND_INVALID);
			return;
		}
	}
	unspec_src = ip6_is_unspecified(ip + 8);
	if (unspec_src && !mcast_dst) {
		verdict(meta, HF_NET_DROP, HF_NET_R_ND_INVALID);
		return;
	}
	for (uint32_t o = HF_ND_NS_LEN; o < l4len;) {
		uint32_t olen;

		if (l4len - o < 2 || l4[o + 1] == 0) {
			verdict(meta, HF_NET_DROP, HF_NET_R_ND_INVALID);
			return;
		}
		olen = (uint32_t)l4[o + 1] * 8;
		if (olen > l4len - o || (unspec_src && l4[o] == HF_ND_OPT_SLLA)) {
			verdict(meta, HF_NET_DROP, HF_NET_R_ND_INVALID);
			return;
		}
		o += olen;
	}
	/* The caller checked that 40 + l4len octets are in the frame. */
	if (!ip6_l4_cksum_ok(ip, l4, l4len)) {
		verdict(meta, HF_NET_DROP, HF_NET_R_ND_INVALID);
		return;
	}
	meta->addr_idx = (uint8_t)idx;
	meta->payload_off = (uint16_t)(meta->l4_off + 4);
	meta->payload_len = (uint16_t)(l4len - 4);
	verdict(meta, HF_NET_ND_SOLICIT, HF_NET_R_NONE);
}

static void classify_ip6(struct hf_net_meta *meta, const struct rte_mbuf *m,
			 const uint8_t *frame, uint32_t len, bool group_mac,
			 const struct hf_net_addrs *a)
{
	const uint8_t *ip = frame + meta->l3_off;
	const uint8_t *l4 = ip + IP6_HDR_LEN;
	uint32_t plen;
	uint8_t nh;
	int idx;

	meta->is_ipv6 = 1;
	if (len - meta->l3_off < IP6_HDR_LEN) {
		verdict(meta, HF_NET_DROP, HF_NET_R_SHORT);
		return;
	}
	if ((ip[0] >> 4) != 6) {
		verdict(meta, HF_NET_DROP, HF_NET_R_IP_VERSION);
		return;
	}
	plen = rd16(ip + 4);
	if (meta->l3_off + IP6_HDR_LEN + plen > len) {
		ip_too_long(meta, m, meta->l3_off + IP6_HDR_LEN + plen);
		return;
	}
	if (ip[8] == 0xff) {
		verdict(meta, HF_NET_DROP, HF_NET_R_BAD_SRC);
		return;
	}
	nh = ip[6];
	meta->l4_off = (uint16_t)(meta->l3_off + IP6_HDR_LEN);

	if (ip[24] == 0xff) {
		/* Multicast: the only one we answer is a solicitation for one
		 * of our addresses; RS/RA/MLD and the rest are the host's. */
		if (nh == IPPROTO_ICMPV6 && plen >= 1 && l4[0] == HF_ICMP6_NS)
			classify_ns(meta, ip, l4, plen, true, a);
		else
			verdict(meta, HF_NET_OTHER, HF_NET_R_MCAST);
		return;
	}
	idx = hf_net_addrs_find6(a, ip + 24);
	if (idx < 0) {
		not_ours(meta, a);
		return;
	}
	if (group_mac) {
		verdict(meta, HF_NET_DROP, HF_NET_R_NOT_OUR_MAC);
		return;
	}
	meta->addr_idx = (uint8_t)idx;
	if (ip6_is_unspecified(ip + 8)) {
		verdict(meta, HF_NET_DROP, HF_NET_R_BAD_SRC);
		return;
	}
	switch (nh) {
	case IPPROTO_UDP:
		classify_udp(meta, l4, plen);
		return;
	case IPPROTO_ICMPV6:
		if (plen >= 1 && l4[0] == HF_ICMP6_ECHO_REQUEST)
			classify_echo(meta, l4, plen, HF_NET_ICMP6_ECHO);
		else if (plen >= 1 && l4[0] == HF_ICMP6_NS)
			classify_ns(meta, ip, l4, plen, false, a);
		else
			verdict(meta, HF_NET_OTHER, HF_NET_R_ICMP_TYPE);
		return;
	default:
		verdict(meta, HF_NET_OTHER,
			ip6_is_exthdr(nh) ? HF_NET_R_IP6_EXTHDR : HF_NET_R_L4_PROTO);
		return;
	}
}

static inline bool is_vlan_tpid(uint16_t t)
{
	return t == RTE_ETHER_TYPE_VLAN || t == RTE_ETHER_TYPE_QINQ || t == RTE_ETHER_TYPE_QINQ1;
}

void hf_net_classify(const struct rte_mbuf *m, const struct hf_net_addrs *a,
		     struct hf_net_meta *meta)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	uint32_t off = RTE_ETHER_HDR_LEN;
	bool group_mac;
	uint16_t et;

	memset(meta, 0, sizeof(*meta));
	if (len < RTE_ETHER_HDR_LEN) {
		verdict(meta, HF_NET_DROP, HF_NET_R_SHORT);
		return;
	}
	/* Group bit of the first octet: broadcast or multicast. */
	group_mac = p[0] & 1;
	if (!group_mac && memcmp(p, a->mac.addr_bytes, RTE_ETHER_ADDR_LEN) != 0) {
		verdict(meta, HF_NET_DROP, HF_NET_R_NOT_OUR_MAC);
		return;
	}
	/* Replies go to the source MAC; a group address there is invalid. */
	if (p[6] & 1) {
		verdict(meta, HF_NET_DROP, HF_NET_R_BAD_SRC);
		return;
	}
	et = rd16(p + 12);
	while (is_vlan_tpid(et)) {
		if (meta->vlan_n == HF_NET_MAX_VLAN) {
			verdict(meta, HF_NET_DROP, HF_NET_R_VLAN_DEPTH);
			return;
		}
		if (len - off < 4) {
			verdict(meta, HF_NET_DROP, HF_NET_R_SHORT);
			return;
		}
		meta->vlan_tci[meta->vlan_n++] = rd16(p + off);
		et = rd16(p + off + 2);
		off += 4;
	}
	meta->l3_off = (uint16_t)off;

	switch (et) {
	case RTE_ETHER_TYPE_IPV4:
		classify_ip4(meta, m, p, len, group_mac, a);
		return;
	case RTE_ETHER_TYPE_IPV6:
		classify_ip6(meta, m, p, len, group_mac, a);
		return;
	case RTE_ETHER_TYPE_ARP:
		classify_arp(meta, p + off, len - off, a);
		return;
	default:
		verdict(meta, HF_NET_OTHER, HF_NET_R_ETHERTYPE);
		return;
	}
}

void hf_net_classify_burst(struct rte_mbuf **pkts, uint16_t n,
			   const struct hf_net_addrs *a, struct hf_net_meta *meta)
{
	uint16_t i;

	/* Warm up, steady state, drain: as l3fwd_lpm's burst loop. The headers
	 * sit in the first cache line of the data; the second holds the DNS
	 * header and question, which the query parser reads right after. */
	for (i = 0; i < HF_NET_PREFETCH_OFFSET && i < n; i++) {
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
		rte_prefetch0(rte_pktmbuf_mtod_offset(pkts[i], char *, RTE_CACHE_LINE_SIZE));
	}
	for (i = 0; i + HF_NET_PREFETCH_OFFSET < n; i++) {
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i + HF_NET_PREFETCH_OFFSET], void *));
		rte_prefetch0(rte_pktmbuf_mtod_offset(pkts[i + HF_NET_PREFETCH_OFFSET], char *,
						      RTE_CACHE_LINE_SIZE));
		hf_net_classify(pkts[i], a, &meta[i]);
	}
	for (; i < n; i++)
		hf_net_classify(pkts[i], a, &meta[i]);
}

void hf_net_addrs_init(struct hf_net_addrs *a, const struct rte_ether_addr *mac)
{
	memset(a, 0, sizeof(*a));
	rte_ether_addr_copy(mac, &a->mac);
}

int hf_net_addrs_add4(struct hf_net_addrs *a, rte_be32_t addr)
{
	const uint8_t *b = (const uint8_t *)&addr;

	if (b[0] == 0 || b[0] >= 224)
		return -EINVAL;
	if (hf_net_addrs_find4(a, addr) >= 0)
		return -EEXIST;
	if (a->n4 == HF_NET_MAX_ADDR4)
		return -ENOSPC;
	a->v4[a->n4++] = addr;
	return 0;
}

int hf_net_addrs_add6(struct hf_net_addrs *a, const uint8_t addr[16])
{
	if (addr[0] == 0xff || ip6_is_unspecified(addr))
		return -EINVAL;
	if (hf_net_addrs_find6(a, addr) >= 0)
		return -EEXIST;
	if (a->n6 == HF_NET_MAX_ADDR6)
		return -ENOSPC;
	memcpy(a->v6[a->n6++], addr, 16);
	return 0;
}

static const char *const reason_names[HF_NET_R_COUNT] = {
	[HF_NET_R_NONE] = "none",
	[HF_NET_R_SHORT] = "short",
	[HF_NET_R_VLAN_DEPTH] = "vlan_depth",
	[HF_NET_R_IP_VERSION] = "ip_version",
	[HF_NET_R_IP_HLEN] = "ip_hlen",
	[HF_NET_R_IP_LEN] = "ip_len",
	[HF_NET_R_IP_CSUM] = "ip_csum",
	[HF_NET_R_MULTISEG] = "multiseg",
	[HF_NET_R_UDP_LEN] = "udp_len",
	[HF_NET_R_ARP_FORMAT] = "arp_format",
	[HF_NET_R_ND_INVALID] = "nd_invalid",
	[HF_NET_R_NOT_OUR_MAC] = "not_our_mac",
	[HF_NET_R_NOT_OURS] = "not_ours",
	[HF_NET_R_BAD_SRC] = "bad_src",
	[HF_NET_R_FRAGMENT] = "ip_fragment",
	[HF_NET_R_SRC_PORT] = "src_port",
	[HF_NET_R_ETHERTYPE] = "ethertype",
	[HF_NET_R_ARP_OP] = "arp_op",
	[HF_NET_R_MCAST] = "mcast",
	[HF_NET_R_IP6_EXTHDR] = "ip6_exthdr",
	[HF_NET_R_L4_PROTO] = "l4_proto",
	[HF_NET_R_UDP_PORT] = "udp_port",
	[HF_NET_R_ICMP_TYPE] = "icmp_type",
};

static const char *const kind_names[HF_NET_KIND_COUNT] = {
	[HF_NET_DNS] = "dns",
	[HF_NET_ARP] = "arp",
	[HF_NET_ICMP_ECHO] = "icmp_echo",
	[HF_NET_ICMP6_ECHO] = "icmp6_echo",
	[HF_NET_ND_SOLICIT] = "nd_solicit",
	[HF_NET_OTHER] = "other",
	[HF_NET_DROP] = "drop",
};

const char *hf_net_reason_name(unsigned reason)
{
	return reason < HF_NET_R_COUNT && reason_names[reason] ? reason_names[reason] : "unknown";
}

const char *hf_net_kind_name(unsigned kind)
{
	return kind < HF_NET_KIND_COUNT && kind_names[kind] ? kind_names[kind] : "unknown";
}
