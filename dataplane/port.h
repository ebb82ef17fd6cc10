/*
 * Ethernet ports: any DPDK ethdev, named by its devargs as an operator
 * writes them in the configuration ("net_af_xdp0,iface=hf0",
 * "0000:3b:00.0", "net_tap0,iface=hf-exc"). A port already probed through
 * the EAL arguments is reused; otherwise it is hot-plugged here.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>

struct rte_mempool;

/*! Descriptors per queue (adjusted to what the device accepts). */
#define HF_PORT_RX_DESC 2048  /* af_xdp on a veth dropped at 1024 under bursts (docs/benchmarks.md) */
#define HF_PORT_TX_DESC 1024

struct hf_port {
	uint16_t port_id;
	uint16_t n_queues;
	struct rte_ether_addr mac;
	char name[64];    /*!< the device name (devargs up to the first comma) */
};

/*!
 * \brief Probe (if needed), configure n_queues RX/TX queue pairs with RSS over
 *        IP addresses and UDP ports when there are several, and start a port.
 *
 * \param err  receives a one-line reason on failure.
 * \return 0, or a negative errno.
 */
int hf_port_open(const char *devargs, uint16_t n_queues, struct rte_mempool *mp,
		 struct hf_port *out, char *err, size_t err_size);

/*! \brief Stop and close a port. */
void hf_port_close(struct hf_port *p);
