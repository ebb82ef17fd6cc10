#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "dataplane/port.h"

static int hf_port_find(const char *devargs, struct hf_port *p, char *err, size_t err_size)
{
	size_t n = strcspn(devargs, ",");
	if (n == 0 || n >= sizeof(p->name)) {
		snprintf(err, err_size, "port \"%s\": no device name", devargs);
		return -EINVAL;
	}
	memcpy(p->name, devargs, n);
	p->name[n] = '\0';

	if (rte_eth_dev_get_port_by_name(p->name, &p->port_id) == 0)
		return 0;
	int ret = rte_dev_probe(devargs);
	if (ret < 0) {
		snprintf(err, err_size, "port \"%s\": cannot probe the device: %s", devargs,
			 rte_strerror(-ret));
		return ret;
	}
	if (rte_eth_dev_get_port_by_name(p->name, &p->port_id) != 0) {
		snprintf(err, err_size, "port \"%s\": probed, but no ethdev named %s", devargs,
			 p->name);
		return -ENODEV;
	}
	return 0;
}

int hf_port_open(const char *devargs, uint16_t n_queues, struct rte_mempool *mp,
		 struct hf_port *out, char *err, size_t err_size)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf = { 0 };
	uint16_t nb_rxd = HF_PORT_RX_DESC, nb_txd = HF_PORT_TX_DESC;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = hf_port_find(devargs, out, err, err_size);
	if (ret < 0)
		return ret;
	uint16_t pid = out->port_id;
	ret = rte_eth_dev_info_get(pid, &info);
	if (ret < 0) {
		snprintf(err, err_size, "port %s: no device info: %s", out->name, rte_strerror(-ret));
		return ret;
	}
	if (n_queues > info.max_rx_queues || n_queues > info.max_tx_queues) {
		snprintf(err, err_size, "port %s: %u queues asked, the device has %u RX and %u TX "
			 "(on a veth, use one vdev per queue)", out->name, n_queues,
			 info.max_rx_queues, info.max_tx_queues);
		return -EINVAL;
	}
	/* Spread clients over the queues by addresses and ports, so one
	 * client's queries stay on one worker (its cache lines stay warm). */
	uint64_t rss = info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);
	if (n_queues > 1 && rss) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = rss;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;

	ret = rte_eth_dev_configure(pid, n_queues, n_queues, &conf);
	if (ret == 0)
		ret = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nb_rxd, &nb_txd);
	for (uint16_t q = 0; ret == 0 && q < n_queues; q++) {
		ret = rte_eth_rx_queue_setup(pid, q, nb_rxd, rte_eth_dev_socket_id(pid), NULL, mp);
		if (ret == 0)
			ret = rte_eth_tx_queue_setup(pid, q, nb_txd, rte_eth_dev_socket_id(pid), NULL);
	}
	if (ret == 0)
		ret = rte_eth_dev_start(pid);
	if (ret < 0) {
		snprintf(err, err_size, "port %s: cannot set up %u queues: %s", out->name, n_queues,
			 rte_strerror(-ret));
		return ret;
	}
	rte_eth_macaddr_get(pid, &out->mac);
	out->n_queues = n_queues;
	return 0;
}

void hf_port_close(struct hf_port *p)
{
	rte_eth_dev_stop(p->port_id);
	rte_eth_dev_close(p->port_id);
}
