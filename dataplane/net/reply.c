/*
 * One entry point for the replies a worker bounces without looking further.
 */
#include <errno.h>

#include "dataplane/net/net_impl.h"
#include "dataplane/net/packet.h"

int hf_net_reply(struct rte_mbuf *m, const struct hf_net_meta *meta,
		 const struct hf_net_addrs *a)
{
	switch (meta->kind) {
	case HF_NET_ARP:
		return hf_net_arp_reply(m, meta, a);
	case HF_NET_ICMP_ECHO:
	case HF_NET_ICMP6_ECHO:
		return hf_net_icmp_echo_reply(m, meta);
	case HF_NET_ND_SOLICIT:
		return hf_net_nd_advert(m, meta, a);
	default:
		return -ENOTSUP;
	}
}
