/*
 * ARP reply in place (RFC 826): the request becomes the reply, so no mbuf is
 * allocated and the VLAN tags stay where they are.
 */
#include <errno.h>
#include <stdint.h>

#include "dataplane/net/net_impl.h"
#include "dataplane/net/packet.h"

int hf_net_arp_reply(struct rte_mbuf *m, const struct hf_net_meta *meta,
		     const struct hf_net_addrs *a)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_arp_hdr *arp;
	struct rte_arp_ipv4 *d;
	uint32_t tip;

	if (meta->kind != HF_NET_ARP)
		return -EINVAL;
	arp = (struct rte_arp_hdr *)(p + meta->l3_off);
	d = &arp->arp_data;

	hf_net_eth_reply(eth, &a->mac);
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	tip = d->arp_tip;
	rte_ether_addr_copy(&d->arp_sha, &d->arp_tha);
	d->arp_tip = d->arp_sip;
	rte_ether_addr_copy(&a->mac, &d->arp_sha);
	d->arp_sip = tip;
	hf_net_clear_rx_flags(m);
	return 0;
}
