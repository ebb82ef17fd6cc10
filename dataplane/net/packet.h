/*
 * The dataplane's packet layer: classify received frames and turn them into
 * replies in place.
 *
 * Everything here is a pure function of an rte_mbuf (plus the read-only
 * address set): no ethdev calls, no allocation, no locks, no logging, so a
 * worker can call it for every packet of a burst. The worker decides what to
 * do with each kind (answer DNS, bounce ARP/ICMP/ND, hand OTHER to the kernel
 * through the exception path, free DROP and count its reason).
 *
 * Assumptions about the mbufs (the port setup must match them):
 * - The headers and, for DNS/ICMP/ND, the whole IP packet sit in the first
 *   segment. A packet whose IP length reaches past the first segment is
 *   dropped with HF_NET_R_MULTISEG: the in-place replies need one segment.
 * - VLAN tags are left in the frame (no RTE_ETH_RX_OFFLOAD_VLAN_STRIP): the
 *   replies keep them in place, so they go back on the same VLAN.
 * - All offsets in struct hf_net_meta count from the start of the frame
 *   (rte_pktmbuf_mtod(m, uint8_t *)) and are valid only while the frame is
 *   not moved (no rte_pktmbuf_prepend/adj in between).
 *
 * Checksums: received UDP checksums are not verified (a veth peer sends
 * them partial, left to an offload that never happens). The IPv4 header
 * checksum is verified unless the PMD already did, since a bad header may
 * carry a bad address we would answer to. Replies always carry complete
 * checksums.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

/* Service addresses per family; a handful is the normal case (anycast
 * service addresses), and a linear scan of 16 beats any hash at that size. */
#define HF_NET_MAX_ADDR4 16
#define HF_NET_MAX_ADDR6 16

/* Tags we look through: 802.1Q and QinQ (802.1ad or the legacy 0x9100). */
#define HF_NET_MAX_VLAN 2

/* TTL / hop limit of the UDP and ICMP echo replies (the Linux default). */
#define HF_NET_REPLY_TTL 64

/* Lines ahead the burst classifier prefetches (as DPDK's l3fwd does). */
#define HF_NET_PREFETCH_OFFSET 3

/*!
 * \brief The addresses this host answers for, and the port's MAC.
 *
 * Written once at start-up (or swapped whole under RCU by the caller); the
 * classifier only reads it. Addresses are kept in network order.
 */
struct hf_net_addrs {
	struct rte_ether_addr mac;   /*!< the port's unicast MAC */
	uint8_t n4;                  /*!< IPv4 addresses in use */
	uint8_t n6;                  /*!< IPv6 addresses in use */
	/*! Frames for our MAC but to an address that is not in the set go to
	 *  the kernel (HF_NET_OTHER) instead of being dropped, still with
	 *  HF_NET_R_NOT_OURS: set it when the host stack on the exception
	 *  interface owns addresses of its own (management, BGP peering,
	 *  link-local next hop). ARP and NS for such addresses go along. */
	bool pass_unknown;
	rte_be32_t v4[HF_NET_MAX_ADDR4];
	uint8_t v6[HF_NET_MAX_ADDR6][16];
};

/*! What a frame is, i.e. what the worker should do with it. */
enum hf_net_kind {
	HF_NET_DNS = 0,     /*!< UDP to port 53 on a service address */
	HF_NET_ARP,         /*!< ARP request for a service IPv4 address */
	HF_NET_ICMP_ECHO,   /*!< ICMP echo request to a service address */
	HF_NET_ICMP6_ECHO,  /*!< ICMPv6 echo request to a service address */
	HF_NET_ND_SOLICIT,  /*!< valid Neighbour Solicitation for a service address */
	HF_NET_OTHER,       /*!< for the host: hand to the kernel (exception path) */
	HF_NET_DROP,        /*!< malformed or not for us: free and count `reason` */
	HF_NET_KIND_COUNT
};

/*!
 * \brief Why a frame is OTHER or DROP, for per-reason counters.
 *
 * HF_NET_R_NONE goes with the kinds we handle ourselves. The list is part
 * of the statistics the operator sees (hf_net_reason_name()): append only.
 */
enum hf_net_reason {
	HF_NET_R_NONE = 0,
	/* Drops: malformed. */
	HF_NET_R_SHORT,       /*!< frame ends inside a header */
	HF_NET_R_VLAN_DEPTH,  /*!< more than HF_NET_MAX_VLAN tags */
	HF_NET_R_IP_VERSION,  /*!< version field disagrees with the ethertype */
	HF_NET_R_IP_HLEN,     /*!< IPv4 IHL below 5 or beyond the total length */
	HF_NET_R_IP_LEN,      /*!< IP length below its header or past the frame */
	HF_NET_R_IP_CSUM,     /*!< IPv4 header checksum wrong */
	HF_NET_R_MULTISEG,    /*!< packet continues in a second segment */
	HF_NET_R_UDP_LEN,     /*!< UDP length below 8 or past the IP packet */
	HF_NET_R_ARP_FORMAT,  /*!< ARP not Ethernet/IPv4 */
	HF_NET_R_ND_INVALID,  /*!< NS failing RFC 4861 section 7.1.1 */
	/* Drops: not for us, or not to be answered. */
	HF_NET_R_NOT_OUR_MAC, /*!< unicast to another MAC, or a group MAC on unicast IP */
	HF_NET_R_NOT_OURS,    /*!< not one of our addresses (OTHER if pass_unknown) */
	HF_NET_R_BAD_SRC,     /*!< source we must not answer (multicast, 0/8, 127/8, ::) */
	HF_NET_R_FRAGMENT,    /*!< IPv4 fragment (we never reassemble) */
	HF_NET_R_SRC_PORT,    /*!< UDP source port 0, 7 or 19 (loop protection) */
	/* OTHER: the host stack's business. */
	HF_NET_R_ETHERTYPE,   /*!< neither IPv4, IPv6 nor ARP (LLDP, LACP, ...) */
	HF_NET_R_ARP_OP,      /*!< ARP reply, gratuitous ARP, other opcodes */
	HF_NET_R_MCAST,       /*!< IP multicast or broadcast we don't answer */
	HF_NET_R_IP6_EXTHDR,  /*!< IPv6 with extension headers */
	HF_NET_R_L4_PROTO,    /*!< TCP and other transports */
	HF_NET_R_UDP_PORT,    /*!< UDP to a port other than 53 */
	HF_NET_R_ICMP_TYPE,   /*!< ICMP/ICMPv6 other than echo request and NS */
	HF_NET_R_COUNT
};

/*!
 * \brief What the classifier learnt about one frame (18 octets).
 *
 * Offsets count from the start of the frame. l3_off, l4_off, payload_off
 * and payload_len are meaningful as far as classification got: all of them
 * for DNS (payload = UDP payload), l3_off for ARP, l3/l4 for ICMP and ND
 * (payload = the ICMP message after its 4-octet header).
 */
struct hf_net_meta {
	uint8_t kind;         /*!< enum hf_net_kind */
	uint8_t reason;       /*!< enum hf_net_reason */
	uint8_t is_ipv6;      /*!< 1 for IPv6 frames */
	uint8_t vlan_n;       /*!< VLAN tags in the frame, 0..HF_NET_MAX_VLAN */
	uint16_t vlan_tci[HF_NET_MAX_VLAN]; /*!< host order, outer tag first */
	uint16_t l3_off;
	uint16_t l4_off;
	uint16_t payload_off;
	uint16_t payload_len;
	uint8_t addr_idx;     /*!< index of the matched service address */
	uint8_t pad_;
};

/*! \brief Empties the set and records the port's MAC. */
void hf_net_addrs_init(struct hf_net_addrs *a, const struct rte_ether_addr *mac);

/*!
 * \brief Adds a service IPv4 address (network order).
 * \return 0, -EINVAL (unspecified, multicast, broadcast), -EEXIST, -ENOSPC.
 */
int hf_net_addrs_add4(struct hf_net_addrs *a, rte_be32_t addr);

/*!
 * \brief Adds a service IPv6 address (16 octets, network order).
 * \return 0, -EINVAL (unspecified or multicast), -EEXIST, -ENOSPC.
 */
int hf_net_addrs_add6(struct hf_net_addrs *a, const uint8_t addr[16]);

/*! \brief Index of `addr` in the IPv4 set, or -1. */
static inline int hf_net_addrs_find4(const struct hf_net_addrs *a, rte_be32_t addr)
{
	for (unsigned i = 0; i < a->n4; i++)
		if (a->v4[i] == addr)
			return (int)i;
	return -1;
}

/*! \brief Index of `addr` (16 octets, any alignment) in the IPv6 set, or -1. */
static inline int hf_net_addrs_find6(const struct hf_net_addrs *a, const uint8_t *addr)
{
	uint64_t hi, lo;

	/* Two 64-bit compares per entry; memcpy because header fields are
	 * only 2-octet aligned. */
	memcpy(&hi, addr, 8);
	memcpy(&lo, addr + 8, 8);
	for (unsigned i = 0; i < a->n6; i++) {
		uint64_t h, l;

		memcpy(&h, a->v6[i], 8);
		memcpy(&l, a->v6[i] + 8, 8);
		if (h == hi && l == lo)
			return (int)i;
	}
	return -1;
}

/*!
 * \brief Classifies one frame.
 *
 * Reads only the first segment, never past its data_len. Never writes the
 * mbuf.
 *
 * \param m     a received frame (Ethernet at the data offset)
 * \param a     the address set
 * \param meta  filled in completely
 */
void hf_net_classify(const struct rte_mbuf *m, const struct hf_net_addrs *a,
		     struct hf_net_meta *meta);

/*!
 * \brief Classifies a burst, prefetching HF_NET_PREFETCH_OFFSET frames ahead.
 *
 * \param pkts  n received frames
 * \param meta  n entries, meta[i] describes pkts[i]
 */
void hf_net_classify_burst(struct rte_mbuf **pkts, uint16_t n,
			   const struct hf_net_addrs *a, struct hf_net_meta *meta);

/*! \brief A short stable name for a reason ("ip_fragment"), for stats output. */
const char *hf_net_reason_name(unsigned reason);

/*! \brief A short stable name for a kind ("dns", "drop"). */
const char *hf_net_kind_name(unsigned kind);

/*
 * In-place replies. Each takes a frame that hf_net_classify() gave the
 * matching kind (with the same, unmodified meta), rewrites it into the reply
 * and returns 0; the caller then transmits the same mbuf. On a negative
 * return the frame is left unchanged except where noted and should be freed.
 * Every reply clears the RX offload flags (checksum status, RSS, VLAN-strip
 * info) so that they cannot be read as TX requests; it requests no TX
 * offload.
 */

/*!
 * \brief Turns an HF_NET_ARP request into the ARP reply for our MAC.
 * \return 0 or -EINVAL (meta is not HF_NET_ARP).
 */
int hf_net_arp_reply(struct rte_mbuf *m, const struct hf_net_meta *meta,
		     const struct hf_net_addrs *a);

/*!
 * \brief Turns an HF_NET_ICMP_ECHO or HF_NET_ICMP6_ECHO request into the
 *        echo reply (addresses swapped, TTL/hop limit HF_NET_REPLY_TTL).
 *
 * The ICMP checksum is updated incrementally (RFC 1624): only the type
 * changes, and a request that arrived with a wrong checksum keeps a wrong
 * one, as the sender deserves.
 *
 * \return 0 or -EINVAL (meta is not an echo request).
 */
int hf_net_icmp_echo_reply(struct rte_mbuf *m, const struct hf_net_meta *meta);

/*!
 * \brief Turns an HF_NET_ND_SOLICIT frame into the Neighbour Advertisement
 *        for its target (RFC 4861 section 7.2.4).
 *
 * The advertisement carries the target link-layer address option with our
 * MAC, the Override flag, and the Solicited flag unless the solicitation came
 * from the unspecified address (duplicate address detection), in which case
 * it goes to all-nodes (ff02::1). Hop limit 255. The frame is resized to the
 * advertisement's length.
 *
 * \return 0, -EINVAL (meta is not HF_NET_ND_SOLICIT), -ENOSPC (no tailroom to
 *         grow a 24-octet solicitation to the 32-octet advertisement).
 */
int hf_net_nd_advert(struct rte_mbuf *m, const struct hf_net_meta *meta,
		     const struct hf_net_addrs *a);

/*!
 * \brief Replies to ARP/ICMP echo/ND in place, whichever meta says.
 * \return 0, -ENOTSUP for DNS/OTHER/DROP, or the reply function's error.
 */
int hf_net_reply(struct rte_mbuf *m, const struct hf_net_meta *meta,
		 const struct hf_net_addrs *a);

/*!
 * \brief Where the DNS response can be written in place.
 *
 * The payload starts with the query (meta->payload_len octets); the room
 * runs to the end of the segment's tailroom (Ethernet padding and tailroom
 * included), capped so the IP packet stays within 65535 octets.
 *
 * \param room  out: the most octets hf_net_udp_reply() can send
 * \return pointer to the UDP payload, or NULL (*room = 0) if meta is not DNS
 *         or the frame has more than one segment.
 */
/* Inline: the worker calls it for every query, and the reply again. */
static inline uint8_t *hf_net_udp_payload(struct rte_mbuf *m, const struct hf_net_meta *meta,
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
		ip_room = UINT16_MAX - 8;  /* the UDP header */
	else
		ip_room = UINT16_MAX - (uint32_t)(meta->payload_off - meta->l3_off);
	*room = (uint16_t)RTE_MIN(buf_room, ip_room);
	return rte_pktmbuf_mtod_offset(m, uint8_t *, meta->payload_off);
}

/*!
 * \brief Turns an HF_NET_DNS query into the UDP response the caller has
 *        written over the payload.
 *
 * Resizes the frame to end right after the new payload (appending from the
 * tailroom or trimming, which also drops Ethernet padding), swaps MACs, IP
 * addresses and UDP ports, sets the IP and UDP lengths, TTL/hop limit
 * HF_NET_REPLY_TTL and DF (IPv4; avoids fragmentation of responses, which
 * off-path spoofing relies on), and writes complete IPv4 header and UDP
 * checksums in software. VLAN tags stay in place.
 *
 * \param new_payload_len  octets of the DNS response at the payload offset
 * \return 0, -EINVAL (meta is not DNS), -EMSGSIZE (above the room
 *         hf_net_udp_payload() gives), -ENOSPC (no tailroom),
 *         -ENOTSUP (multi-segment frame).
 */
int hf_net_udp_reply(struct rte_mbuf *m, const struct hf_net_meta *meta,
		     uint16_t new_payload_len);

/*!
 * \brief hf_net_udp_reply() for a caller that knows the Internet checksum
 *        sum of the payload it wrote (include/holdfast/csum.h: the unfolded
 *        sum of the payload's 16-bit words), so the payload is not read again.
 */
int hf_net_udp_reply_sum(struct rte_mbuf *m, const struct hf_net_meta *meta,
			 uint16_t new_payload_len, uint32_t payload_sum);
