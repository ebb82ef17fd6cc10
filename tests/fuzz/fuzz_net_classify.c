/*
 * libFuzzer target for the dataplane's frame classifier and in-place replies
 * (dataplane/net/packet.h). Frames sit in a fake single-segment mbuf over a
 * buffer of exactly their size plus fixed tailroom, so ASan catches any read
 * past the frame. No EAL is needed: these functions touch only the mbuf.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>

#include "dataplane/net/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TAILROOM 64

static struct hf_net_addrs addrs;

static void init_addrs(void)
{
	static bool done;
	if (done)
		return;
	const struct rte_ether_addr mac = { .addr_bytes = { 0x02, 0, 0, 0, 0, 0x53 } };
	const uint8_t v6[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53 };
	hf_net_addrs_init(&addrs, &mac);
	hf_net_addrs_add4(&addrs, rte_cpu_to_be_32(0xc6120035));  /* 198.18.0.53 */
	hf_net_addrs_add6(&addrs, v6);
	done = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[RTE_PKTMBUF_HEADROOM + 2048 + TAILROOM];
	struct rte_mbuf m;
	struct hf_net_meta meta;

	if (size > 2048)
		return 0;
	init_addrs();
	memset(&m, 0, sizeof(m));
	memcpy(buf + RTE_PKTMBUF_HEADROOM, data, size);
	m.buf_addr = buf;
	m.buf_len = (uint16_t)(RTE_PKTMBUF_HEADROOM + size + TAILROOM);
	m.data_off = RTE_PKTMBUF_HEADROOM;
	m.data_len = (uint16_t)size;
	m.pkt_len = (uint32_t)size;
	m.nb_segs = 1;

	hf_net_classify(&m, &addrs, &meta);
	assert(meta.kind < HF_NET_KIND_COUNT && meta.reason < HF_NET_R_COUNT);
	if (meta.kind == HF_NET_DNS) {
		uint16_t room;
		uint8_t *p = hf_net_udp_payload(&m, &meta, &room);
		assert(p && room >= meta.payload_len);
		assert(p + meta.payload_len <= buf + RTE_PKTMBUF_HEADROOM + size);
		/* Answer with the query itself, one octet longer. */
		if (meta.payload_len < room)
			assert(hf_net_udp_reply(&m, &meta, (uint16_t)(meta.payload_len + 1)) == 0);
	} else if (meta.kind != HF_NET_OTHER && meta.kind != HF_NET_DROP) {
		(void)hf_net_reply(&m, &meta, &addrs);
	}
	assert(m.data_len <= m.buf_len - m.data_off);
	return 0;
}
