/*
 * Unit tests of the dataplane packet layer ("dataplane/net/packet.h").
 *
 * Frames are built byte by byte here, with checksums from a reference sum
 * of our own (not DPDK's), and every reply is compared with the frame we
 * expect, octet for octet. EAL runs without hugepages or devices; a machine
 * that does not let us start it skips the suite (exit 77).
 *
 * The truncation and mutation tests classify frames held in heap buffers of
 * exactly their length, behind a hand-made mbuf header, so that under ASan
 * any read past data_len is caught (a pool mbuf has 2 KiB of slack).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

/* DPDK 22.11 headers mark fall-throughs with comments, which clang rejects. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#pragma GCC diagnostic pop

#include "dataplane/net/packet.h"
#include "include/holdfast/csum.h"
#include "include/holdfast/defines.h"

#define FRAME_MAX 1600

static struct rte_mempool *pool;

static const uint8_t OUR_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t CLI_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t OUR4[4] = { 198, 18, 0, 1 };
static const uint8_t OUR4B[4] = { 198, 18, 0, 53 };
static const uint8_t CLI4[4] = { 198, 19, 0, 10 };
static const uint8_t OUR6[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 0x00, [15] = 0x53 };
static const uint8_t OUR6B[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 0x12, [15] = 0x34 };
static const uint8_t CLI6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 };
static const uint8_t SN6[16] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff, [13] = 0x00, [14] = 0x00, [15] = 0x53 };
static const uint8_t SN_MAC[6] = { 0x33, 0x33, 0xff, 0x00, 0x00, 0x53 };
static const uint8_t ALLNODES6[16] = { 0xff, 0x02, [15] = 0x01 };
static const uint8_t ALLNODES_MAC[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t UNSPEC6[16];

static struct hf_net_addrs addrs;

/* ---- reference checksum (RFC 1071), independent of DPDK ---- */

static uint32_t ref_sum(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i < n; i += 2)
		s += (uint32_t)(p[i] << 8 | (i + 1 < n ? p[i + 1] : 0));
	return s;
}

static uint16_t ref_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Sum of the pseudo-header and the L4 bytes (checksum field as it is). */
static uint16_t ref_l4_sum(const uint8_t *ip, bool v6, const uint8_t *l4, size_t l4len, uint8_t proto)
{
	uint32_t s = 0;

	if (v6) {
		s = ref_sum(ip + 8, 32, s);
		s += (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
	} else {
		s = ref_sum(ip + 12, 8, s);
		s += (uint32_t)l4len;
	}
	s += proto;
	return ref_fold(ref_sum(l4, l4len, s));
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* ---- frame builder ---- */

struct spec {
	const uint8_t *dmac, *smac;
	unsigned ntags;
	uint16_t tpid[3], tci[3];
	bool v6;
	const uint8_t *src, *dst;  /* 4 or 16 octets */
	uint8_t proto;
	uint8_t ttl;               /* TTL / hop limit */
	uint16_t id, frag;         /* IPv4 identification, flags+offset */
	uint8_t ihl;               /* IPv4 header words, 0 = 5 */
};

static struct spec spec4(void)
{
	return (struct spec){ .dmac = OUR_MAC, .smac = CLI_MAC, .src = CLI4, .dst = OUR4,
			      .proto = 17, .ttl = 61, .id = 0x4242 };
}

static struct spec spec6(void)
{
	return (struct spec){ .dmac = OUR_MAC, .smac = CLI_MAC, .v6 = true, .src = CLI6,
			      .dst = OUR6, .proto = 17, .ttl = 61 };
}

static size_t l3_offset(const struct spec *s)
{
	return 14 + 4 * s->ntags;
}

/* Ethernet + tags + IP header + l4; IPv4 header checksum from the reference
 * sum. Returns the frame length (no padding). */
static size_t build(uint8_t *b, const struct spec *s, const uint8_t *l4, size_t l4len)
{
	size_t o = 0;

	memcpy(b, s->dmac, 6);
	memcpy(b + 6, s->smac, 6);
	o = 12;
	for (unsigned i = 0; i < s->ntags; i++) {
		wr16(b + o, s->tpid[i]);
		wr16(b + o + 2, s->tci[i]);
		o += 4;
	}
	wr16(b + o, s->v6 ? 0x86dd : 0x0800);
	o += 2;
	if (s->v6) {
		memset(b + o, 0, 40);
		b[o] = 0x60;
		wr16(b + o + 4, (uint16_t)l4len);
		b[o + 6] = s->proto;
		b[o + 7] = s->ttl;
		memcpy(b + o + 8, s->src, 16);
		memcpy(b + o + 24, s->dst, 16);
		o += 40;
	} else {
		unsigned ihl = s->ihl ? s->ihl : 5;

		memset(b + o, 0, ihl * 4);
		b[o] = (uint8_t)(0x40 | ihl);
		wr16(b + o + 2, (uint16_t)(ihl * 4 + l4len));
		wr16(b + o + 4, s->id);
		wr16(b + o + 6, s->frag);
		b[o + 8] = s->ttl;
		b[o + 9] = s->proto;
		memcpy(b + o + 12, s->src, 4);
		memcpy(b + o + 16, s->dst, 4);
		for (unsigned i = 20; i < ihl * 4; i++)
			b[o + i] = 1; /* NOP options */
		wr16(b + o + 10, (uint16_t)~ref_fold(ref_sum(b + o, ihl * 4, 0)));
		o += ihl * 4;
	}
	memcpy(b + o, l4, l4len);
	return o + l4len;
}

/* Writes the L4 checksum (at ck_off inside L4) of a frame built by build(). */
static void set_l4_cksum(uint8_t *b, const struct spec *s, size_t l4len, size_t ck_off)
{
	uint8_t *ip = b + l3_offset(s);
	uint8_t *l4 = ip + (s->v6 ? 40 : (s->ihl ? s->ihl : 5) * 4);
	uint16_t ck;

	wr16(l4 + ck_off, 0);
	ck = (uint16_t)~ref_l4_sum(ip, s->v6, l4, l4len, s->proto);
	if (ck == 0 && s->proto == 17)
		ck = 0xffff;
	wr16(l4 + ck_off, ck);
}

static size_t udp_l4(uint8_t *l4, uint16_t sport, uint16_t dport, const uint8_t *pl, size_t n)
{
	wr16(l4, sport);
	wr16(l4 + 2, dport);
	wr16(l4 + 4, (uint16_t)(8 + n));
	wr16(l4 + 6, 0xdead); /* as a veth peer leaves it: not checked on receive */
	memcpy(l4 + 8, pl, n);
	return 8 + n;
}

static const uint8_t QUERY[] = {
	0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x00, 0x00, 0x01, 0x00, 0x01,
};

static size_t dns_frame(uint8_t *b, const struct spec *s, uint16_t sport)
{
	uint8_t l4[FRAME_MAX];
	size_t n = udp_l4(l4, sport, 53, QUERY, sizeof(QUERY));

	return build(b, s, l4, n);
}

/* Ethernet minimum: frames shorter than 60 octets arrive padded. */
static size_t pad60(uint8_t *b, size_t n)
{
	if (n < 60) {
		memset(b + n, 0, 60 - n);
		n = 60;
	}
	return n;
}

/* ---- mbufs ---- */

static struct rte_mbuf *mk(const uint8_t *b, size_t n)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *d;

	assert_non_null(m);
	d = rte_pktmbuf_append(m, (uint16_t)n);
	assert_non_null(d);
	memcpy(d, b, n);
	return m;
}

static void classify_bytes(const uint8_t *b, size_t n, struct hf_net_meta *meta)
{
	struct rte_mbuf *m = mk(b, n);

	hf_net_classify(m, &addrs, meta);
	rte_pktmbuf_free(m);
}

static void expect(const uint8_t *b, size_t n, enum hf_net_kind kind, enum hf_net_reason reason)
{
	struct hf_net_meta meta;

	classify_bytes(b, n, &meta);
	if (meta.kind != kind || meta.reason != reason)
		print_error("got %s/%s, want %s/%s\n", hf_net_kind_name(meta.kind),
			    hf_net_reason_name(meta.reason), hf_net_kind_name(kind),
			    hf_net_reason_name(reason));
	assert_int_equal(meta.kind, kind);
	assert_int_equal(meta.reason, reason);
}

static void assert_frame(struct rte_mbuf *m, const uint8_t *want, size_t n)
{
	assert_int_equal(rte_pktmbuf_data_len(m), n);
	assert_int_equal(rte_pktmbuf_pkt_len(m), n);
	assert_memory_equal(rte_pktmbuf_mtod(m, uint8_t *), want, n);
}

/* Independent checks of a reply's checksums (the byte comparison already
 * pins them; this says which one is wrong when it fails). */
static void assert_cksums(const uint8_t *f, size_t l3, bool v6, uint8_t proto)
{
	const uint8_t *ip = f + l3;
	size_t ihl = v6 ? 40 : (size_t)(ip[0] & 0xf) * 4;
	size_t l4len = v6 ? rd16(ip + 4) : rd16(ip + 2) - ihl;

	if (!v6)
		assert_int_equal(ref_fold(ref_sum(ip, ihl, 0)), 0xffff);
	assert_int_equal(ref_l4_sum(ip, v6, ip + ihl, l4len, proto), 0xffff);
	if (proto == 17)
		assert_int_not_equal(rd16(ip + ihl + 6), 0);
}

/* ---- fixtures ---- */

static int group_setup(void **state)
{
	char prefix[64];
	char *argv[] = {
		"test_net", "--no-huge", "--no-pci", "-m", "64", "--no-shconf", "--no-telemetry",
		prefix, "-l", "0", "--log-level=lib.eal:error",
	};
	struct rte_ether_addr mac;

	(void)state;
	snprintf(prefix, sizeof(prefix), "--file-prefix=hf-test-net-%d", (int)getpid());
	if (rte_eal_init((int)HF_ARRAY_SIZE(argv), argv) < 0) {
		int e = rte_errno;

		/* No permission to map memory or lock files: not our bug. */
		if (e == EACCES || e == EPERM) {
			fprintf(stderr, "EAL init not permitted here (%s): skipping\n", rte_strerror(e));
			exit(77);
		}
		fprintf(stderr, "EAL init failed: %s\n", rte_strerror(e));
		return -1;
	}
	pool = rte_pktmbuf_pool_create("hf_test_net", 511, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (!pool)
		return -1;

	memcpy(mac.addr_bytes, OUR_MAC, 6);
	hf_net_addrs_init(&addrs, &mac);
	{
		rte_be32_t a4, b4;

		memcpy(&a4, OUR4, 4);
		memcpy(&b4, OUR4B, 4);
		if (hf_net_addrs_add4(&addrs, b4) || hf_net_addrs_add4(&addrs, a4) ||
		    hf_net_addrs_add6(&addrs, OUR6B) || hf_net_addrs_add6(&addrs, OUR6))
			return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return 0;
}

/* Every test starts from the standard address set. */
static int reset_addrs(void **state)
{
	(void)state;
	addrs.pass_unknown = false;
	return 0;
}

/* ---- DNS ---- */

/* A query with `extra` octets after the IP packet (Ethernet padding, or
 * junk), answered with `resp_len` octets. */
static void check_dns_reply(const struct spec *q, size_t extra, size_t resp_len)
{
	uint8_t f[FRAME_MAX], want[FRAME_MAX], l4[FRAME_MAX], resp[FRAME_MAX];
	struct hf_net_meta meta;
	struct spec r = *q;
	struct rte_mbuf *m;
	uint16_t room;
	uint8_t *pl;
	size_t n, wn, l3 = l3_offset(q), ihl = q->v6 ? 40 : (q->ihl ? q->ihl : 5) * 4u;

	n = dns_frame(f, q, 40000);
	memset(f + n, 0xee, extra);
	m = mk(f, n + extra);
	m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_BAD | RTE_MBUF_F_RX_RSS_HASH;

	hf_net_classify(m, &addrs, &meta);
	assert_int_equal(meta.kind, HF_NET_DNS);
	assert_int_equal(meta.reason, HF_NET_R_NONE);
	assert_int_equal(meta.is_ipv6, q->v6);
	assert_int_equal(meta.vlan_n, q->ntags);
	for (unsigned i = 0; i < q->ntags; i++)
		assert_int_equal(meta.vlan_tci[i], q->tci[i]);
	assert_int_equal(meta.l3_off, l3);
	assert_int_equal(meta.l4_off, l3 + ihl);
	assert_int_equal(meta.payload_off, l3 + ihl + 8);
	assert_int_equal(meta.payload_len, sizeof(QUERY));
	assert_int_equal(meta.addr_idx, 1); /* OUR4 / OUR6 were added second */

	pl = hf_net_udp_payload(m, &meta, &room);
	assert_non_null(pl);
	assert_memory_equal(pl, QUERY, sizeof(QUERY));
	assert_int_equal(room, n + extra - meta.payload_off + rte_pktmbuf_tailroom(m));
	assert_true(resp_len <= room);
	for (size_t i = 0; i < resp_len; i++)
		resp[i] = (uint8_t)(i * 7 + 3);
	memcpy(pl, resp, resp_len);
	assert_int_equal(hf_net_udp_reply(m, &meta, (uint16_t)resp_len), 0);
	assert_int_equal(m->ol_flags, 0);

	r.dmac = q->smac;
	r.smac = q->dmac;
	r.src = q->dst;
	r.dst = q->src;
	r.ttl = 64;
	r.frag = q->v6 ? 0 : 0x4000;
	wn = udp_l4(l4, 53, 40000, resp, resp_len);
	wn = build(want, &r, l4, wn);
	set_l4_cksum(want, &r, 8 + resp_len, 6);
	assert_frame(m, want, wn);
	assert_cksums(rte_pktmbuf_mtod(m, uint8_t *), l3, q->v6, 17);
	rte_pktmbuf_free(m);

	/* The same reply from a caller that knows the payload's sum. */
	m = mk(f, n + extra);
	m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_BAD | RTE_MBUF_F_RX_RSS_HASH;
	hf_net_classify(m, &addrs, &meta);
	pl = hf_net_udp_payload(m, &meta, &room);
	assert_non_null(pl);
	memcpy(pl, resp, resp_len);
	assert_int_equal(hf_net_udp_reply_sum(m, &meta, (uint16_t)resp_len,
					      hf_csum_at(resp, resp_len, 0)), 0);
	assert_int_equal(m->ol_flags, 0);
	assert_frame(m, want, wn);
	assert_cksums(rte_pktmbuf_mtod(m, uint8_t *), l3, q->v6, 17);
	rte_pktmbuf_free(m);
}

static void test_dns_ipv4(void **state)
{
	struct spec s = spec4();

	(void)state;
	/* Answered with a shorter and a longer message, the trailing octets
	 * after the query dropped. */
	check_dns_reply(&s, 0, 12);
	check_dns_reply(&s, 9, 12);
	check_dns_reply(&s, 0, 512);
	check_dns_reply(&s, 3, 1400);
	/* Odd length: the last checksum word is zero-padded. */
	check_dns_reply(&s, 0, 33);
	/* IP options are kept (and summed). */
	s.ihl = 7;
	check_dns_reply(&s, 0, 100);
}

static void test_dns_ipv6(void **state)
{
	struct spec s = spec6();

	(void)state;
	check_dns_reply(&s, 0, 12);
	check_dns_reply(&s, 0, 1232);
	check_dns_reply(&s, 5, 77);
}

static void test_dns_vlan(void **state)
{
	struct spec s = spec4();

	(void)state;
	s.ntags = 1;
	s.tpid[0] = 0x8100;
	s.tci[0] = 0x2064; /* PCP 1, VLAN 100 */
	check_dns_reply(&s, 0, 200);

	s = spec6();
	s.ntags = 2;
	s.tpid[0] = 0x88a8;
	s.tci[0] = 0x0ffe;
	s.tpid[1] = 0x8100;
	s.tci[1] = 0x0005;
	check_dns_reply(&s, 2, 300);

	s = spec4();
	s.ntags = 2;
	s.tpid[0] = 0x9100;
	s.tci[0] = 7;
	s.tpid[1] = 0x8100;
	s.tci[1] = 8;
	check_dns_reply(&s, 0, 40);
}

static void test_vlan_depth(void **state)
{
	uint8_t f[FRAME_MAX];
	struct spec s = spec4();
	size_t n;

	(void)state;
	s.ntags = 3;
	s.tpid[0] = 0x88a8;
	s.tpid[1] = 0x8100;
	s.tpid[2] = 0x8100;
	n = dns_frame(f, &s, 40000);
	expect(f, n, HF_NET_DROP, HF_NET_R_VLAN_DEPTH);
}

static void test_dns_src_ports(void **state)
{
	static const uint16_t bad[] = { 0, 7, 19 };
	static const uint16_t good[] = { 53, 1024, 65535, 123 };
	uint8_t f[FRAME_MAX];
	struct spec s4 = spec4(), s6 = spec6();
	size_t n;

	(void)state;
	for (size_t i = 0; i < HF_ARRAY_SIZE(bad); i++) {
		n = dns_frame(f, &s4, bad[i]);
		expect(f, pad60(f, n), HF_NET_DROP, HF_NET_R_SRC_PORT);
		n = dns_frame(f, &s6, bad[i]);
		expect(f, n, HF_NET_DROP, HF_NET_R_SRC_PORT);
	}
	for (size_t i = 0; i < HF_ARRAY_SIZE(good); i++) {
		n = dns_frame(f, &s4, good[i]);
		expect(f, pad60(f, n), HF_NET_DNS, HF_NET_R_NONE);
	}
}

static void test_udp_reply_errors(void **state)
{
	uint8_t f[FRAME_MAX];
	struct spec s = spec4();
	struct hf_net_meta meta, other;
	struct rte_mbuf *m;
	uint16_t room;
	size_t n;

	(void)state;
	n = pad60(f, dns_frame(f, &s, 40000));
	m = mk(f, n);
	hf_net_classify(m, &addrs, &meta);
	assert_int_equal(meta.kind, HF_NET_DNS);
	assert_non_null(hf_net_udp_payload(m, &meta, &room));

	other = meta;
	other.kind = HF_NET_OTHER;
	assert_int_equal(hf_net_udp_reply(m, &other, 10), -EINVAL);
	assert_null(hf_net_udp_payload(m, &other, &room));
	assert_int_equal(room, 0);
	assert_int_equal(hf_net_reply(m, &meta, &addrs), -ENOTSUP);

	hf_net_udp_payload(m, &meta, &room);
	assert_int_equal(hf_net_udp_reply(m, &meta, (uint16_t)(room + 1)), -EMSGSIZE);
	assert_frame(m, f, n); /* refused: untouched */
	/* The whole room can be used. */
	assert_int_equal(hf_net_udp_reply(m, &meta, room), 0);
	assert_int_equal(rte_pktmbuf_tailroom(m), 0);
	assert_cksums(rte_pktmbuf_mtod(m, uint8_t *), 14, false, 17);
	rte_pktmbuf_free(m);
}

/* ---- ARP ---- */

static size_t arp_frame(uint8_t *b, const uint8_t *dmac, uint16_t op, const uint8_t *sip,
			const uint8_t *tip)
{
	memcpy(b, dmac, 6);
	memcpy(b + 6, CLI_MAC, 6);
	wr16(b + 12, 0x0806);
	wr16(b + 14, 1);
	wr16(b + 16, 0x0800);
	b[18] = 6;
	b[19] = 4;
	wr16(b + 20, op);
	memcpy(b + 22, CLI_MAC, 6);
	memcpy(b + 28, sip, 4);
	memset(b + 32, 0, 6);
	memcpy(b + 38, tip, 4);
	memset(b + 42, 0, 18); /* padding */
	return 60;
}

static void test_arp(void **state)
{
	static const uint8_t zero4[4];
	uint8_t f[FRAME_MAX], want[FRAME_MAX];
	struct hf_net_meta meta;
	struct rte_mbuf *m;
	size_t n;

	(void)state;
	for (int probe = 0; probe < 2; probe++) {
		const uint8_t *sip = probe ? zero4 : CLI4;

		n = arp_frame(f, probe ? OUR_MAC : BCAST, 1, sip, OUR4B);
		m = mk(f, n);
		m->ol_flags = RTE_MBUF_F_RX_RSS_HASH;
		hf_net_classify(m, &addrs, &meta);
		assert_int_equal(meta.kind, HF_NET_ARP);
		assert_int_equal(meta.l3_off, 14);
		assert_int_equal(meta.addr_idx, 0);
		assert_int_equal(hf_net_reply(m, &meta, &addrs), 0);

		memcpy(want, f, n);
		memcpy(want, CLI_MAC, 6);
		memcpy(want + 6, OUR_MAC, 6);
		wr16(want + 20, 2);
		memcpy(want + 22, OUR_MAC, 6);
		memcpy(want + 28, OUR4B, 4);
		memcpy(want + 32, CLI_MAC, 6);
		memcpy(want + 38, sip, 4);
		assert_frame(m, want, n);
		assert_int_equal(m->ol_flags, 0);
		rte_pktmbuf_free(m);
	}

	n = arp_frame(f, BCAST, 1, CLI4, CLI4);
	expect(f, n, HF_NET_DROP, HF_NET_R_NOT_OURS);
	addrs.pass_unknown = true;
	expect(f, n, HF_NET_OTHER, HF_NET_R_NOT_OURS);
	addrs.pass_unknown = false;
	n = arp_frame(f, OUR_MAC, 2, CLI4, OUR4);
	expect(f, n, HF_NET_OTHER, HF_NET_R_ARP_OP);
	n = arp_frame(f, BCAST, 1, OUR4, OUR4); /* announcement of our address */
	expect(f, n, HF_NET_OTHER, HF_NET_R_ARP_OP);
	n = arp_frame(f, BCAST, 1, CLI4, OUR4);
	f[19] = 16;
	expect(f, n, HF_NET_DROP, HF_NET_R_ARP_FORMAT);
	n = arp_frame(f, BCAST, 1, CLI4, OUR4);
	f[22] = 0x01; /* multicast sender hardware address */
	expect(f, n, HF_NET_DROP, HF_NET_R_BAD_SRC);
	n = arp_frame(f, CLI_MAC, 1, CLI4, OUR4);
	expect(f, n, HF_NET_DROP, HF_NET_R_NOT_OUR_MAC);
}

/* ---- ICMP echo ---- */

static size_t echo_l4(uint8_t *l4, uint8_t type, size_t datalen)
{
	l4[0] = type;
	l4[1] = 0;
	wr16(l4 + 2, 0);
	wr16(l4 + 4, 0xbeef);
	wr16(l4 + 6, 17);
	for (size_t i = 0; i < datalen; i++)
		l4[8 + i] = (uint8_t)(0x10 + i);
	return 8 + datalen;
}

static void check_echo(const struct spec *q, size_t datalen)
{
	uint8_t f[FRAME_MAX], want[FRAME_MAX], l4[FRAME_MAX];
	struct hf_net_meta meta;
	struct spec r = *q;
	struct rte_mbuf *m;
	size_t n, wn, l4len;
	uint8_t req = q->v6 ? 128 : 8, rep = q->v6 ? 129 : 0;

	l4len = echo_l4(l4, req, datalen);
	n = build(f, q, l4, l4len);
	set_l4_cksum(f, q, l4len, 2);
	n = pad60(f, n);
	m = mk(f, n);
	hf_net_classify(m, &addrs, &meta);
	assert_int_equal(meta.kind, q->v6 ? HF_NET_ICMP6_ECHO : HF_NET_ICMP_ECHO);
	assert_int_equal(meta.payload_len, l4len - 4);
	assert_int_equal(hf_net_reply(m, &meta, &addrs), 0);

	r.dmac = q->smac;
	r.smac = q->dmac;
	r.src = q->dst;
	r.dst = q->src;
	r.ttl = 64;
	echo_l4(l4, rep, datalen);
	wn = build(want, &r, l4, l4len);
	set_l4_cksum(want, &r, l4len, 2);
	memset(want + wn, 0, n - wn); /* the request's padding stays */
	assert_frame(m, want, n);
	assert_cksums(rte_pktmbuf_mtod(m, uint8_t *), l3_offset(q), q->v6, q->v6 ? 58 : 1);
	rte_pktmbuf_free(m);
}

static void test_icmp_echo(void **state)
{
	struct spec s = spec4();

	(void)state;
	s.proto = 1;
	check_echo(&s, 0);
	check_echo(&s, 56);
	check_echo(&s, 1001);
	s.ntags = 1;
	s.tpid[0] = 0x8100;
	s.tci[0] = 42;
	check_echo(&s, 56);

	s = spec6();
	s.proto = 58;
	check_echo(&s, 56);
	check_echo(&s, 3);
	s.ntags = 2;
	s.tpid[0] = 0x88a8;
	s.tpid[1] = 0x8100;
	check_echo(&s, 1200);
}

static void test_icmp_other(void **state)
{
	uint8_t f[FRAME_MAX], l4[64];
	struct spec s = spec4();
	size_t n;

	(void)state;
	s.proto = 1;
	n = build(f, &s, l4, echo_l4(l4, 3, 28)); /* destination unreachable */
	expect(f, n, HF_NET_OTHER, HF_NET_R_ICMP_TYPE);
	l4[0] = 8;
	n = build(f, &s, l4, 4); /* echo request cut short */
	expect(f, pad60(f, n), HF_NET_DROP, HF_NET_R_SHORT);
	s = spec6();
	s.proto = 58;
	n = build(f, &s, l4, echo_l4(l4, 129, 8)); /* an echo reply */
	expect(f, n, HF_NET_OTHER, HF_NET_R_ICMP_TYPE);
	/* Echo request to a multicast group: the host's business. */
	s.dst = ALLNODES6;
	s.dmac = ALLNODES_MAC;
	n = build(f, &s, l4, echo_l4(l4, 128, 8));
	expect(f, n, HF_NET_OTHER, HF_NET_R_MCAST);
	/* Echo request to our address on a group MAC. */
	s = spec6();
	s.proto = 58;
	s.dmac = ALLNODES_MAC;
	n = build(f, &s, l4, echo_l4(l4, 128, 8));
	expect(f, n, HF_NET_DROP, HF_NET_R_NOT_OUR_MAC);
}

/* ---- Neighbour Discovery ---- */

static size_t ns_l4(uint8_t *l4, const uint8_t *target, bool slla)
{
	memset(l4, 0, 24);
	l4[0] = 135;
	memcpy(l4 + 8, target, 16);
	if (!slla)
		return 24;
	l4[24] = 1;
	l4[25] = 1;
	memcpy(l4 + 26, CLI_MAC, 6);
	return 32;
}

static size_t ns_frame(uint8_t *f, struct spec *s, const uint8_t *target, bool slla)
{
	uint8_t l4[64];
	size_t l4len = ns_l4(l4, target, slla);
	size_t n = build(f, s, l4, l4len);

	set_l4_cksum(f, s, l4len, 2);
	return n;
}

static void check_na(struct spec *q, const uint8_t *target, bool slla, int want_idx)
{
	uint8_t f[FRAME_MAX], want[FRAME_MAX], l4[64];
	bool dad = memcmp(q->src, UNSPEC6, 16) == 0;
	struct hf_net_meta meta;
	struct spec r = *q;
	struct rte_mbuf *m;
	size_t n, wn;

	n = ns_frame(f, q, target, slla);
	m = mk(f, n);
	m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	hf_net_classify(m, &addrs, &meta);
	assert_int_equal(meta.kind, HF_NET_ND_SOLICIT);
	assert_int_equal(meta.addr_idx, want_idx);
	assert_int_equal(hf_net_reply(m, &meta, &addrs), 0);
	assert_int_equal(m->ol_flags, 0);

	r.dmac = dad ? ALLNODES_MAC : q->smac;
	r.smac = OUR_MAC;
	r.src = target;
	r.dst = dad ? ALLNODES6 : q->src;
	r.proto = 58;
	r.ttl = 255;
	memset(l4, 0, 32);
	l4[0] = 136;
	l4[4] = dad ? 0x20 : 0x60; /* (S)olicited, (O)verride */
	memcpy(l4 + 8, target, 16);
	l4[24] = 2;
	l4[25] = 1;
	memcpy(l4 + 26, OUR_MAC, 6);
	wn = build(want, &r, l4, 32);
	set_l4_cksum(want, &r, 32, 2);
	assert_frame(m, want, wn);
	assert_cksums(rte_pktmbuf_mtod(m, uint8_t *), l3_offset(q), true, 58);
	rte_pktmbuf_free(m);
}

static struct spec spec_ns(void)
{
	struct spec s = spec6();

	s.proto = 58;
	s.ttl = 255;
	return s;
}

static void test_nd(void **state)
{
	struct spec s;

	(void)state;
	/* Unicast, with the source link-layer option (32 -> 32 octets). */
	s = spec_ns();
	check_na(&s, OUR6, true, 1);
	/* Solicited-node multicast, no option (24 -> 32: the frame grows). */
	s = spec_ns();
	s.dst = SN6;
	s.dmac = SN_MAC;
	check_na(&s, OUR6, false, 1);
	check_na(&s, OUR6, true, 1);
	/* Duplicate address detection from :: */
	s.src = UNSPEC6;
	check_na(&s, OUR6, false, 1);
	/* On a QinQ VLAN, from a link-local source. */
	{
		static const uint8_t ll[16] = { 0xfe, 0x80, [15] = 0x02 };

		s = spec_ns();
		s.src = ll;
		s.ntags = 2;
		s.tpid[0] = 0x88a8;
		s.tpid[1] = 0x8100;
		s.tci[1] = 300;
		check_na(&s, OUR6B, true, 0);
	}
}

static void test_nd_invalid(void **state)
{
	static const uint8_t sn_other[16] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff, [15] = 0x99 };
	static const uint8_t mc_target[16] = { 0xff, 0x02, [15] = 0x01 };
	uint8_t f[FRAME_MAX];
	struct spec s;
	size_t n;

	(void)state;
	s = spec_ns();
	s.ttl = 64; /* crossed a router */
	n = ns_frame(f, &s, OUR6, true);
	expect(f, n, HF_NET_DROP, HF_NET_R_ND_INVALID);

	s = spec_ns();
	n = ns_frame(f, &s, OUR6, true);
	f[n - 1] ^= 0x40; /* checksum no longer matches */
	expect(f, n, HF_NET_DROP, HF_NET_R_ND_INVALID);

	s = spec_ns();
	n = ns_frame(f, &s, OUR6, true);
	f[14 + 40 + 1] = 1; /* code */
	expect(f, n, HF_NET_DROP, HF_NET_R_ND_INVALID);

	s = spec_ns();
	n = ns_frame(f, &s, mc_target, false);
	expect(f, n, HF_NET_DROP, HF_NET_R_ND_INVALID);

	/* The wrong solicited-node group for the target. */
	s = spec_ns();
	s.dst = sn_other;
	n = ns_frame(f, &s, OUR6, false);
	expect(f, n, HF_NET_DROP, HF_NET_R_ND_INVALID);

	/* DAD must go to the solicited-node group and carry no SLLA. To a
	 * unicast address, :: is just a source we cannot answer. */
	s = spec_ns();
	s.src = UNSPEC6;
	n = ns_frame(f, &s, OUR6, false);
	expect(f, n, HF_NET_DROP, HF_NET_R_BAD_SRC);
	s.dst = SN6;
	s.dmac = SN_MAC;
	n = ns_frame(f, &s, OUR6, true);
	expect(f, n, HF_NET_DROP, HF_NET_R_ND_INVALID);

	/* An option of length zero. */
	s = spec_ns();
	{
		uint8_t l4[64];
		size_t l4len = ns_l4(l4, OUR6, true);

		l4[25] = 0;
		n = build(f, &s, l4, l4len);
		set_l4_cksum(f, &s, l4len, 2);
		expect(f, n, HF_NET_DROP, HF_NET_R_ND_INVALID);
	}

	/* For someone else: multicast goes to the host, unicast is dropped. */
	s = spec_ns();
	s.dst = sn_other;
	n = ns_frame(f, &s, CLI6, false);
	expect(f, n, HF_NET_OTHER, HF_NET_R_MCAST);
	s = spec_ns();
	n = ns_frame(f, &s, CLI6, false);
	expect(f, n, HF_NET_DROP, HF_NET_R_NOT_OURS);
}

/* A frame placed at the very end of its buffer: no tailroom to grow into. */
static struct rte_mbuf *mk_no_tailroom(const uint8_t *b, size_t n)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	assert_non_null(m);
	m->data_off = (uint16_t)(m->buf_len - n);
	assert_non_null(rte_pktmbuf_append(m, (uint16_t)n));
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), b, n);
	assert_int_equal(rte_pktmbuf_tailroom(m), 0);
	return m;
}

static void test_reply_errors(void **state)
{
	uint8_t f[FRAME_MAX];
	struct hf_net_meta meta, dns;
	struct spec s = spec_ns();
	struct rte_mbuf *m;
	uint16_t room;
	size_t n;

	(void)state;
	/* A 24-octet solicitation cannot grow into the 32-octet advert. */
	s.dst = SN6;
	s.dmac = SN_MAC;
	n = ns_frame(f, &s, OUR6, false);
	m = mk_no_tailroom(f, n);
	hf_net_classify(m, &addrs, &meta);
	assert_int_equal(meta.kind, HF_NET_ND_SOLICIT);
	assert_int_equal(hf_net_nd_advert(m, &meta, &addrs), -ENOSPC);
	assert_frame(m, f, n);
	rte_pktmbuf_free(m);

	/* Without tailroom a DNS response can still use the query's room. */
	s = spec6();
	n = dns_frame(f, &s, 40000);
	m = mk_no_tailroom(f, n);
	hf_net_classify(m, &addrs, &dns);
	assert_non_null(hf_net_udp_payload(m, &dns, &room));
	assert_int_equal(room, sizeof(QUERY));
	assert_int_equal(hf_net_udp_reply(m, &dns, (uint16_t)(room + 1)), -EMSGSIZE);
	assert_int_equal(hf_net_udp_reply(m, &dns, room), 0);
	assert_cksums(rte_pktmbuf_mtod(m, uint8_t *), 14, true, 17);

	/* Each reply refuses a frame of another kind. */
	assert_int_equal(hf_net_arp_reply(m, &dns, &addrs), -EINVAL);
	assert_int_equal(hf_net_icmp_echo_reply(m, &dns), -EINVAL);
	assert_int_equal(hf_net_nd_advert(m, &dns, &addrs), -EINVAL);
	assert_int_equal(hf_net_udp_reply(m, &meta, 10), -EINVAL);
	meta.kind = HF_NET_DROP;
	assert_int_equal(hf_net_reply(m, &meta, &addrs), -ENOTSUP);
	rte_pktmbuf_free(m);
}

/* ---- classification of everything else ---- */

static void test_other(void **state)
{
	static const uint8_t mc4[4] = { 224, 0, 0, 251 };
	static const uint8_t bc4[4] = { 255, 255, 255, 255 };
	uint8_t f[FRAME_MAX], l4[64];
	struct spec s;
	size_t n;

	(void)state;
	/* TCP/53 goes to the host (the control plane answers DNS over TCP). */
	s = spec4();
	s.proto = 6;
	memset(l4, 0, 20);
	wr16(l4 + 2, 53);
	n = build(f, &s, l4, 20);
	expect(f, pad60(f, n), HF_NET_OTHER, HF_NET_R_L4_PROTO);
	s = spec6();
	s.proto = 6;
	n = build(f, &s, l4, 20);
	expect(f, n, HF_NET_OTHER, HF_NET_R_L4_PROTO);

	/* UDP to another port. */
	s = spec4();
	n = build(f, &s, l4, udp_l4(l4, 40000, 5353, QUERY, 4));
	expect(f, pad60(f, n), HF_NET_OTHER, HF_NET_R_UDP_PORT);

	/* IPv6 extension header (hop-by-hop) before UDP/53. */
	s = spec6();
	s.proto = 0;
	n = build(f, &s, l4, 8 + udp_l4(l4 + 8, 40000, 53, QUERY, 4));
	expect(f, n, HF_NET_OTHER, HF_NET_R_IP6_EXTHDR);
	f[14 + 6] = 44; /* fragment */
	expect(f, n, HF_NET_OTHER, HF_NET_R_IP6_EXTHDR);

	/* Multicast and broadcast. */
	s = spec4();
	s.dst = mc4;
	s.dmac = (const uint8_t[6]){ 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	n = dns_frame(f, &s, 5353);
	expect(f, pad60(f, n), HF_NET_OTHER, HF_NET_R_MCAST);
	s.dst = bc4;
	s.dmac = BCAST;
	n = dns_frame(f, &s, 68);
	expect(f, pad60(f, n), HF_NET_OTHER, HF_NET_R_MCAST);
	s = spec6();
	s.dst = ALLNODES6;
	s.dmac = ALLNODES_MAC;
	n = dns_frame(f, &s, 40000);
	expect(f, n, HF_NET_OTHER, HF_NET_R_MCAST);

	/* Ethertypes we don't speak (LLDP). */
	memset(f, 0, 60);
	memcpy(f, (const uint8_t[6]){ 0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e }, 6);
	memcpy(f + 6, CLI_MAC, 6);
	wr16(f + 12, 0x88cc);
	expect(f, 60, HF_NET_OTHER, HF_NET_R_ETHERTYPE);
	/* ... also behind a tag. */
	memcpy(f, OUR_MAC, 6);
	wr16(f + 12, 0x8100);
	wr16(f + 16, 0x8906);
	expect(f, 60, HF_NET_OTHER, HF_NET_R_ETHERTYPE);
}

static void test_drops(void **state)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 };
	static const uint8_t mc6[16] = { 0xff, 0x0e, [15] = 1 };
	uint8_t f[FRAME_MAX], l4[64];
	struct spec s;
	size_t n;

	(void)state;
	memset(l4, 0, sizeof(l4));
	/* Fragments: first (MF) and later (offset). */
	s = spec4();
	s.frag = 0x2000;
	n = dns_frame(f, &s, 40000);
	expect(f, pad60(f, n), HF_NET_DROP, HF_NET_R_FRAGMENT);
	s.frag = 0x00b9;
	n = dns_frame(f, &s, 40000);
	expect(f, pad60(f, n), HF_NET_DROP, HF_NET_R_FRAGMENT);
	s.frag = 0x4000; /* DF alone is fine */
	n = dns_frame(f, &s, 40000);
	expect(f, pad60(f, n), HF_NET_DNS, HF_NET_R_NONE);

	/* Header length and version. */
	s = spec4();
	n = pad60(f, dns_frame(f, &s, 40000));
	f[14] = 0x44;
	expect(f, n, HF_NET_DROP, HF_NET_R_IP_HLEN);
	f[14] = 0x4f; /* 60 octets of header in a 60-octet frame */
	expect(f, n, HF_NET_DROP, HF_NET_R_IP_HLEN);
	f[14] = 0x65;
	expect(f, n, HF_NET_DROP, HF_NET_R_IP_VERSION);
	s = spec6();
	n = dns_frame(f, &s, 40000);
	f[14] = 0x45;
	expect(f, n, HF_NET_DROP, HF_NET_R_IP_VERSION);

	/* Total length beyond the frame, and below the header. */
	s = spec4();
	n = dns_frame(f, &s, 40000);
	wr16(f + 16, (uint16_t)(rd16(f + 16) + 1));
	wr16(f + 24, 0);
	wr16(f + 24, (uint16_t)~ref_fold(ref_sum(f + 14, 20, 0)));
	expect(f, n, HF_NET_DROP, HF_NET_R_IP_LEN);
	wr16(f + 16, 19); /* below the header */
	wr16(f + 24, 0);
	wr16(f + 24, (uint16_t)~ref_fold(ref_sum(f + 14, 20, 0)));
	expect(f, pad60(f, n), HF_NET_DROP, HF_NET_R_IP_LEN);
	s = spec6();
	n = dns_frame(f, &s, 40000);
	wr16(f + 18, (uint16_t)(rd16(f + 18) + 1));
	expect(f, n, HF_NET_DROP, HF_NET_R_IP_LEN);

	/* IPv4 header checksum. */
	s = spec4();
	n = pad60(f, dns_frame(f, &s, 40000));
	f[24] ^= 1;
	expect(f, n, HF_NET_DROP, HF_NET_R_IP_CSUM);
	{
		struct hf_net_meta meta;
		struct rte_mbuf *m;

		/* A NIC's verdict is taken: GOOD skips the sum, BAD drops. */
		m = mk(f, n);
		m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD;
		hf_net_classify(m, &addrs, &meta);
		assert_int_equal(meta.kind, HF_NET_DNS);
		f[24] ^= 1;
		rte_pktmbuf_free(m);
		m = mk(f, n);
		m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_BAD;
		hf_net_classify(m, &addrs, &meta);
		assert_int_equal(meta.reason, HF_NET_R_IP_CSUM);
		rte_pktmbuf_free(m);
	}

	/* UDP length. */
	s = spec4();
	n = dns_frame(f, &s, 40000);
	wr16(f + 38, (uint16_t)(8 + sizeof(QUERY) + 1));
	expect(f, pad60(f, n), HF_NET_DROP, HF_NET_R_UDP_LEN);
	wr16(f + 38, 7);
	expect(f, pad60(f, n), HF_NET_DROP, HF_NET_R_UDP_LEN);
	n = build(f, &s, l4, 4); /* IP packet too short for a UDP header */
	expect(f, pad60(f, n), HF_NET_DROP, HF_NET_R_UDP_LEN);

	/* Not our address, not our MAC. */
	s = spec4();
	s.dst = CLI4;
	n = pad60(f, dns_frame(f, &s, 40000));
	expect(f, n, HF_NET_DROP, HF_NET_R_NOT_OURS);
	addrs.pass_unknown = true;
	expect(f, n, HF_NET_OTHER, HF_NET_R_NOT_OURS);
	addrs.pass_unknown = false;
	s = spec6();
	s.dst = CLI6;
	n = dns_frame(f, &s, 40000);
	expect(f, n, HF_NET_DROP, HF_NET_R_NOT_OURS);
	s = spec4();
	s.dmac = CLI_MAC;
	n = pad60(f, dns_frame(f, &s, 40000));
	expect(f, n, HF_NET_DROP, HF_NET_R_NOT_OUR_MAC);
	s.dmac = BCAST; /* unicast IP on a broadcast frame */
	n = pad60(f, dns_frame(f, &s, 40000));
	expect(f, n, HF_NET_DROP, HF_NET_R_NOT_OUR_MAC);

	/* Sources no reply may go to. */
	s = spec4();
	s.src = lo4;
	n = pad60(f, dns_frame(f, &s, 40000));
	expect(f, n, HF_NET_DROP, HF_NET_R_BAD_SRC);
	s = spec4();
	s.smac = BCAST;
	n = pad60(f, dns_frame(f, &s, 40000));
	expect(f, n, HF_NET_DROP, HF_NET_R_BAD_SRC);
	s = spec6();
	s.src = UNSPEC6;
	n = dns_frame(f, &s, 40000);
	expect(f, n, HF_NET_DROP, HF_NET_R_BAD_SRC);
	s.src = mc6;
	n = dns_frame(f, &s, 40000);
	expect(f, n, HF_NET_DROP, HF_NET_R_BAD_SRC);
}

static void test_multiseg(void **state)
{
	uint8_t f[FRAME_MAX];
	struct spec s = spec6();
	struct hf_net_meta meta;
	struct rte_mbuf *m, *tail;
	size_t n, cut = 14 + 40 + 8 + 4;

	(void)state;
	n = dns_frame(f, &s, 40000);
	m = mk(f, cut);
	tail = mk(f + cut, n - cut);
	assert_int_equal(rte_pktmbuf_chain(m, tail), 0);
	hf_net_classify(m, &addrs, &meta);
	assert_int_equal(meta.kind, HF_NET_DROP);
	assert_int_equal(meta.reason, HF_NET_R_MULTISEG);
	rte_pktmbuf_free(m);
}

/* ---- reading no further than data_len ---- */

/* Classifies `n` octets held in a heap block of exactly that size, behind a
 * hand-made mbuf header (classification reads nothing else of the mbuf). */
static void classify_exact(const uint8_t *b, size_t n, uint32_t pkt_len, struct hf_net_meta *meta)
{
	struct rte_mbuf mb;
	uint8_t *buf = malloc(n ? n : 1);

	assert_non_null(buf);
	memcpy(buf, b, n);
	memset(&mb, 0, sizeof(mb));
	mb.buf_addr = buf;
	mb.data_off = 0;
	mb.data_len = (uint16_t)n;
	mb.pkt_len = pkt_len;
	mb.nb_segs = 1;
	if (n == 0) {
		/* A zero-sized block: any read at all trips ASan. */
		free(buf);
		buf = malloc(0);
		mb.buf_addr = buf;
	}
	hf_net_classify(&mb, &addrs, meta);
	free(buf);
}

struct sample {
	const char *name;
	uint8_t f[FRAME_MAX];
	size_t n;
	enum hf_net_kind kind;
};

static size_t make_samples(struct sample *t)
{
	uint8_t l4[FRAME_MAX];
	struct spec s;
	size_t k = 0, l4len;

	s = spec4();
	t[k] = (struct sample){ .name = "ipv4 dns", .kind = HF_NET_DNS };
	t[k].n = dns_frame(t[k].f, &s, 40000);
	k++;
	s = spec4();
	s.ihl = 6;
	t[k] = (struct sample){ .name = "ipv4 dns with options", .kind = HF_NET_DNS };
	t[k].n = dns_frame(t[k].f, &s, 40000);
	k++;
	s = spec6();
	t[k] = (struct sample){ .name = "ipv6 dns", .kind = HF_NET_DNS };
	t[k].n = dns_frame(t[k].f, &s, 40000);
	k++;
	s = spec4();
	s.ntags = 1;
	s.tpid[0] = 0x8100;
	t[k] = (struct sample){ .name = "vlan ipv4 dns", .kind = HF_NET_DNS };
	t[k].n = dns_frame(t[k].f, &s, 40000);
	k++;
	s = spec6();
	s.ntags = 2;
	s.tpid[0] = 0x88a8;
	s.tpid[1] = 0x8100;
	t[k] = (struct sample){ .name = "qinq ipv6 dns", .kind = HF_NET_DNS };
	t[k].n = dns_frame(t[k].f, &s, 40000);
	k++;
	t[k] = (struct sample){ .name = "arp request", .kind = HF_NET_ARP };
	t[k].n = arp_frame(t[k].f, BCAST, 1, CLI4, OUR4) - 18; /* without padding */
	k++;
	s = spec4();
	s.proto = 1;
	l4len = echo_l4(l4, 8, 20);
	t[k] = (struct sample){ .name = "icmp echo", .kind = HF_NET_ICMP_ECHO };
	t[k].n = build(t[k].f, &s, l4, l4len);
	k++;
	s = spec6();
	s.proto = 58;
	l4len = echo_l4(l4, 128, 20);
	t[k] = (struct sample){ .name = "icmp6 echo", .kind = HF_NET_ICMP6_ECHO };
	t[k].n = build(t[k].f, &s, l4, l4len);
	k++;
	s = spec_ns();
	t[k] = (struct sample){ .name = "ns unicast", .kind = HF_NET_ND_SOLICIT };
	t[k].n = ns_frame(t[k].f, &s, OUR6, true);
	k++;
	s = spec_ns();
	s.dst = SN6;
	s.dmac = SN_MAC;
	s.ntags = 1;
	s.tpid[0] = 0x8100;
	t[k] = (struct sample){ .name = "ns multicast vlan", .kind = HF_NET_ND_SOLICIT };
	t[k].n = ns_frame(t[k].f, &s, OUR6, false);
	k++;
	return k;
}

#define N_SAMPLES 10

static void test_truncation(void **state)
{
	static struct sample t[N_SAMPLES];
	struct hf_net_meta meta;
	size_t k = make_samples(t);

	(void)state;
	assert_int_equal(k, N_SAMPLES);
	for (size_t i = 0; i < k; i++) {
		classify_exact(t[i].f, t[i].n, (uint32_t)t[i].n, &meta);
		if (meta.kind != t[i].kind)
			print_error("%s: %s/%s\n", t[i].name, hf_net_kind_name(meta.kind),
				    hf_net_reason_name(meta.reason));
		assert_int_equal(meta.kind, t[i].kind);
		for (size_t len = 0; len < t[i].n; len++) {
			/* Cut short on the wire ... */
			classify_exact(t[i].f, len, (uint32_t)len, &meta);
			if (meta.kind != HF_NET_DROP ||
			    (meta.reason != HF_NET_R_SHORT && meta.reason != HF_NET_R_IP_LEN))
				print_error("%s cut at %zu: %s/%s\n", t[i].name, len,
					    hf_net_kind_name(meta.kind),
					    hf_net_reason_name(meta.reason));
			assert_int_equal(meta.kind, HF_NET_DROP);
			assert_true(meta.reason == HF_NET_R_SHORT || meta.reason == HF_NET_R_IP_LEN);
			/* ... or continued in a segment we do not look at. */
			classify_exact(t[i].f, len, (uint32_t)t[i].n, &meta);
			assert_int_equal(meta.kind, HF_NET_DROP);
			assert_true(meta.reason == HF_NET_R_SHORT || meta.reason == HF_NET_R_MULTISEG);
		}
	}
}

/* Every single-octet corruption of every sample (a few values per octet)
 * classifies without reading past the frame, and whatever it becomes, the
 * reply functions cope with it. */
static void test_mutation(void **state)
{
	static const uint8_t vals[] = { 0x00, 0x01, 0x05, 0x06, 0x0f, 0x11, 0x3a, 0x45, 0x60,
					0x80, 0x81, 0x87, 0xfe, 0xff };
	static struct sample t[N_SAMPLES];
	uint8_t f[FRAME_MAX];
	struct hf_net_meta meta;
	size_t k = make_samples(t), replies = 0;

	(void)state;
	for (size_t i = 0; i < k; i++) {
		for (size_t pos = 0; pos < t[i].n; pos++) {
			for (size_t v = 0; v < HF_ARRAY_SIZE(vals); v++) {
				memcpy(f, t[i].f, t[i].n);
				f[pos] = vals[v];
				classify_exact(f, t[i].n, (uint32_t)t[i].n, &meta);
				assert_true(meta.kind < HF_NET_KIND_COUNT);
				assert_true(meta.reason < HF_NET_R_COUNT);
				assert_true((meta.kind >= HF_NET_OTHER) == (meta.reason != HF_NET_R_NONE));
				if (meta.kind < HF_NET_OTHER) {
					struct rte_mbuf *m = mk(f, t[i].n);

					if (meta.kind == HF_NET_DNS)
						assert_int_equal(hf_net_udp_reply(m, &meta, 12), 0);
					else
						assert_int_equal(hf_net_reply(m, &meta, &addrs), 0);
					replies++;
					rte_pktmbuf_free(m);
				}
			}
		}
	}
	assert_true(replies > 0);
}

/* ---- burst, names, address set ---- */

static void test_burst(void **state)
{
	static struct sample t[N_SAMPLES];
	struct rte_mbuf *pkts[2 * N_SAMPLES + 1];
	struct hf_net_meta meta[2 * N_SAMPLES + 1], one;
	size_t k = make_samples(t);
	uint16_t n = 0;

	(void)state;
	for (size_t r = 0; r < 2; r++)
		for (size_t i = 0; i < k; i++)
			pkts[n++] = mk(t[i].f, t[i].n);
	pkts[n++] = mk(t[0].f, 10); /* a runt */
	for (uint16_t len = 0; len <= n; len++) {
		memset(meta, 0xa5, sizeof(meta));
		hf_net_classify_burst(pkts, len, &addrs, meta);
		for (uint16_t i = 0; i < len; i++) {
			hf_net_classify(pkts[i], &addrs, &one);
			assert_memory_equal(&meta[i], &one, sizeof(one));
		}
		if (len < n)
			assert_int_equal(((uint8_t *)&meta[len])[0], 0xa5);
	}
	assert_int_equal(meta[n - 1].kind, HF_NET_DROP);
	assert_int_equal(meta[0].kind, HF_NET_DNS);
	for (uint16_t i = 0; i < n; i++)
		rte_pktmbuf_free(pkts[i]);
}

static void test_names(void **state)
{
	(void)state;
	for (unsigned r = 0; r < HF_NET_R_COUNT; r++)
		assert_string_not_equal(hf_net_reason_name(r), "unknown");
	for (unsigned k = 0; k < HF_NET_KIND_COUNT; k++)
		assert_string_not_equal(hf_net_kind_name(k), "unknown");
	assert_string_equal(hf_net_reason_name(HF_NET_R_COUNT), "unknown");
	assert_string_equal(hf_net_reason_name(HF_NET_R_FRAGMENT), "ip_fragment");
	assert_string_equal(hf_net_kind_name(HF_NET_DNS), "dns");
	assert_true(sizeof(struct hf_net_meta) <= 20);
}

static void test_addrs(void **state)
{
	struct hf_net_addrs a;
	struct rte_ether_addr mac = { .addr_bytes = { 2, 0, 0, 0, 0, 9 } };
	uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	rte_be32_t v4;

	(void)state;
	hf_net_addrs_init(&a, &mac);
	assert_int_equal(a.n4, 0);
	assert_memory_equal(a.mac.addr_bytes, mac.addr_bytes, 6);
	for (unsigned i = 0; i < HF_NET_MAX_ADDR4; i++) {
		v4 = rte_cpu_to_be_32(0xc6120000u + i + 1);
		assert_int_equal(hf_net_addrs_add4(&a, v4), 0);
		assert_int_equal(hf_net_addrs_find4(&a, v4), (int)i);
	}
	assert_int_equal(hf_net_addrs_add4(&a, rte_cpu_to_be_32(0xc6120001u)), -EEXIST);
	assert_int_equal(hf_net_addrs_add4(&a, rte_cpu_to_be_32(0xc61200ffu)), -ENOSPC);
	hf_net_addrs_init(&a, &mac);
	assert_int_equal(hf_net_addrs_add4(&a, 0), -EINVAL);
	assert_int_equal(hf_net_addrs_add4(&a, rte_cpu_to_be_32(0xe0000001u)), -EINVAL);
	assert_int_equal(hf_net_addrs_add4(&a, 0xffffffffu), -EINVAL);
	assert_int_equal(hf_net_addrs_find4(&a, rte_cpu_to_be_32(0xc6120001u)), -1);

	for (unsigned i = 0; i < HF_NET_MAX_ADDR6; i++) {
		v6[15] = (uint8_t)i;
		assert_int_equal(hf_net_addrs_add6(&a, v6), 0);
		assert_int_equal(hf_net_addrs_find6(&a, v6), (int)i);
	}
	assert_int_equal(hf_net_addrs_add6(&a, v6), -EEXIST);
	v6[15] = 0xee;
	assert_int_equal(hf_net_addrs_add6(&a, v6), -ENOSPC);
	assert_int_equal(hf_net_addrs_find6(&a, v6), -1);
	hf_net_addrs_init(&a, &mac);
	assert_int_equal(hf_net_addrs_add6(&a, UNSPEC6), -EINVAL);
	assert_int_equal(hf_net_addrs_add6(&a, ALLNODES6), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_dns_ipv4, reset_addrs),
		cmocka_unit_test_setup(test_dns_ipv6, reset_addrs),
		cmocka_unit_test_setup(test_dns_vlan, reset_addrs),
		cmocka_unit_test_setup(test_vlan_depth, reset_addrs),
		cmocka_unit_test_setup(test_dns_src_ports, reset_addrs),
		cmocka_unit_test_setup(test_udp_reply_errors, reset_addrs),
		cmocka_unit_test_setup(test_arp, reset_addrs),
		cmocka_unit_test_setup(test_icmp_echo, reset_addrs),
		cmocka_unit_test_setup(test_icmp_other, reset_addrs),
		cmocka_unit_test_setup(test_nd, reset_addrs),
		cmocka_unit_test_setup(test_nd_invalid, reset_addrs),
		cmocka_unit_test_setup(test_reply_errors, reset_addrs),
		cmocka_unit_test_setup(test_other, reset_addrs),
		cmocka_unit_test_setup(test_drops, reset_addrs),
		cmocka_unit_test_setup(test_multiseg, reset_addrs),
		cmocka_unit_test_setup(test_truncation, reset_addrs),
		cmocka_unit_test_setup(test_mutation, reset_addrs),
		cmocka_unit_test_setup(test_burst, reset_addrs),
		cmocka_unit_test_setup(test_names, reset_addrs),
		cmocka_unit_test_setup(test_addrs, reset_addrs),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
