/*
 * The worker end to end without a NIC: frames go in through a net_ring port
 * (rte_eth_from_rings), the worker runs one loop turn at a time with a clock
 * the test sets, and the frames it sends come out of the other ring. The test
 * plays the control plane itself on the same shared-memory region.
 */
#include <errno.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include <urcu/urcu-qsbr.h>

#include "dataplane/cache.h"
#include "dataplane/net/packet.h"
#include "dataplane/worker.h"
#include "include/holdfast/build.h"
#include "include/holdfast/msg.h"
#include "include/holdfast/name.h"
#include "include/holdfast/pkt.h"
#include "include/holdfast/ring.h"
#include "include/holdfast/shm.h"
#include "tests/unit/shm_pair.h"
#include "include/holdfast/wire_ctx.h"

#define SERVICE4 UINT32_C(0xc6120035)  /* 198.18.0.53 */
#define CLIENT4 UINT32_C(0xc6120001)   /* 198.18.0.1 */
#define T0 1800000000u            /* a fixed "now", seconds */
#define TIMEOUT_NS 1000000000ull  /* resolution timeout of the worker */
#define STALE_TTL 30              /* serve-stale: TTL of stale records */
#define RECHECK_S 30              /* serve-stale: failure-recheck */
#define CLIENT_NS 500000000ull    /* serve-stale: client-response timer */
#define MAX_STALE 3600            /* the cache keeps expired entries this long */

static struct rte_mempool *pool;
static struct rte_ring *rx, *tx;
static uint16_t port;
static struct hf_net_addrs addrs;
static struct shm_pair shm;
static struct hf_cache *cache;
static struct hf_worker *worker;
static struct hf_worker_clock clk;
static const uint8_t client_mac[6] = { 0x02, 0, 0, 0, 0, 1 };

/* ---- frames in and out ---- */

static void send_frame(const uint8_t *dns, uint16_t len, uint16_t sport)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(14 + 20 + 8 + len));
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	eth->dst_addr = addrs.mac;
	memcpy(eth->src_addr.addr_bytes, client_mac, 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + 8 + len));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(CLIENT4);
	ip->dst_addr = rte_cpu_to_be_32(SERVICE4);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(sport);
	udp->dst_port = rte_cpu_to_be_16(53);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + len));
	udp->dgram_cksum = 0;
	memcpy(udp + 1, dns, len);
	assert_int_equal(rte_ring_enqueue(rx, m), 0);
}

static uint16_t make_query(uint8_t *buf, uint16_t id, const char *name, uint16_t qtype, bool edns)
{
	struct hf_build b;
	uint8_t qname[HF_NAME_MAXLEN];
	hf_name_from_text(name, qname);
	hf_build_init(&b, buf, 512, id, HF_FLAG_RD);
	hf_build_question(&b, qname, qtype, HF_CLASS_IN);
	if (edns) {
		hf_build_opt_begin(&b, 1232, 0, 0, 0);
		hf_build_opt_end(&b);
	}
	return (uint16_t)hf_build_finish(&b);
}

static void ask(uint16_t id, const char *name, uint16_t qtype, bool edns)
{
	uint8_t q[512];
	send_frame(q, make_query(q, id, name, qtype, edns), (uint16_t)(40000 + id % 1000));
}

static void turn(void)
{
	hf_worker_poll(worker, &clk);
	urcu_qsbr_quiescent_state();
}

/* A response that came out, parsed; the test frees it with done(). */
struct reply {
	struct rte_mbuf *m;
	struct hf_pkt pkt;
	struct hf_rr rr[64];
	const uint8_t *dns;
};

static bool get_reply(struct reply *r)
{
	void *obj;
	if (rte_ring_dequeue(tx, &obj) != 0)
		return false;
	r->m = obj;
	uint8_t *p = rte_pktmbuf_mtod(r->m, uint8_t *);
	struct rte_ipv4_hdr *ip = (void *)(p + 14);
	struct rte_udp_hdr *udp = (void *)(p + 14 + 20);
	/* Addressed back to the client, with complete checksums. */
	assert_int_equal(rte_be_to_cpu_32(ip->dst_addr), CLIENT4);
	assert_int_equal(rte_be_to_cpu_16(udp->src_port), 53);
	uint16_t sent = ip->hdr_checksum;
	ip->hdr_checksum = 0;
	assert_int_equal(rte_ipv4_cksum(ip), sent);
	ip->hdr_checksum = sent;
	sent = udp->dgram_cksum;
	udp->dgram_cksum = 0;
	assert_int_equal(rte_ipv4_udptcp_cksum(ip, udp), sent);
	udp->dgram_cksum = sent;
	r->dns = (const uint8_t *)(udp + 1);
	size_t len = rte_be_to_cpu_16(udp->dgram_len) - 8;
	assert_int_equal(hf_pkt_parse(&r->pkt, r->dns, len, r->rr, 64), 0);
	return true;
}

static void done(struct reply *r)
{
	rte_pktmbuf_free(r->m);
}

static int reply_ede(const struct reply *r)
{
	const struct hf_edns_opt *o = hf_edns_find(&r->pkt.edns, HF_EDNS_OPT_EDE, NULL);
	return o ? hf_wire_get_u16(r->dns + o->off) : -1;
}

static void expect_none(void)
{
	struct reply r;
	if (get_reply(&r)) {
		done(&r);
		fail_msg("unexpected reply");
	}
}

/* ---- the control plane's side ---- */

static void control_beat(void)
{
	assert_int_equal(hf_shm_heartbeat(shm.cp, clk.mono_ns), 0);
}

static unsigned take_misses(struct hf_msg_miss *out, unsigned max)
{
	struct hf_ring *r = hf_shm_miss_ring(shm.cp, 0);
	const struct hf_ring_msg *msgs[32];
	unsigned n = hf_ring_peek_burst(r, msgs, max < 32 ? max : 32);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(msgs[i]->type, HF_MSG_MISS);
		memcpy(&out[i], msgs[i]->data, msgs[i]->len);
	}
	hf_ring_release(r, n);
	return n;
}

/*
 * Answers a miss with rcode: n_rr A records (TTL ttl), or n_rr TXT records
 * of 200 octets; NXDOMAIN gets a SOA in the authority section instead. ede:
 * an EDE info-code the fill carries (with a text), or -1.
 */
static void fill_rcode(const struct hf_msg_miss *m, uint32_t ttl, unsigned n_rr, uint8_t flags,
		       uint16_t rcode, int ede)
{
	uint8_t msg[4096], buf[HF_SHM_FILL_SLOT_SIZE], txt[201], opts[64], soa[22];
	uint16_t ttl_off[64];
	uint16_t n_ttl = 0;
	int ede_len = 0;
	struct hf_build b;

	memset(txt, 't', sizeof(txt));
	txt[0] = 200;
	hf_build_init(&b, msg, sizeof(msg), 0, (uint16_t)(HF_FLAG_QR | HF_FLAG_RA | rcode));
	hf_build_question(&b, m->qname, m->qtype, m->qclass);
	for (unsigned i = 0; i < n_rr; i++) {
		int r = m->qtype == HF_TYPE_TXT ?
			hf_build_rr(&b, 0, m->qname, HF_TYPE_TXT, HF_CLASS_IN, ttl, txt, sizeof(txt)) :
			hf_build_rr(&b, 0, m->qname, HF_TYPE_A, HF_CLASS_IN, ttl,
				    (const uint8_t *)"\xc0\x00\x02\x01", 4);
		assert_true(r > 0);
		ttl_off[n_ttl++] = (uint16_t)r;
	}
	if (rcode == HF_RCODE_NXDOMAIN) {
		/* ". . 1 1800 900 604800 86400": root names, five numbers. */
		memset(soa, 0, sizeof(soa));
		soa[5] = 1;
		int r = hf_build_rr(&b, HF_SECTION_AUTHORITY, (const uint8_t *)"\4test", HF_TYPE_SOA,
				    HF_CLASS_IN, ttl, soa, sizeof(soa));
		assert_true(r > 0);
		ttl_off[n_ttl++] = (uint16_t)r;
	}
	if (ede >= 0) {
		ede_len = hf_ede_render(opts, sizeof(opts), (uint16_t)ede, "from the fill");
		assert_true(ede_len > 0);
	}
	struct hf_msg_fill hdr = {
		.req_id = m->req_id, .ttl = ttl, .rcode = rcode, .variant = m->variant, .flags = flags,
		.n_ttl = (uint8_t)n_ttl, .ede_len = (uint16_t)ede_len,
	};
	hdr.msg_len = (uint16_t)hf_build_finish(&b);
	int len = hf_msg_fill_encode(buf, sizeof(buf), &hdr, ttl_off, ede_len ? opts : NULL, msg);
	assert_true(len > 0);
	assert_int_equal(hf_ring_enqueue(hf_shm_fill_ring(shm.cp, 0), HF_MSG_FILL, buf, (uint32_t)len), 0);
}

/* Answers a miss: n_rr A records (TTL ttl), or n_rr TXT records of 200 octets. */
static void fill(const struct hf_msg_miss *m, uint32_t ttl, unsigned n_rr, uint8_t flags)
{
	fill_rcode(m, ttl, n_rr, flags, HF_RCODE_NOERROR, -1);
}

/* ---- fixtures ---- */

static int group_setup(void **state)
{
	char prefix[64];
	char *argv[] = {
		"test_worker", "--no-huge", "--no-pci", "-m", "128", "--no-shconf", "--no-telemetry",
		prefix, "-l", "0", "--log-level=lib.eal:error",
	};
	(void)state;
	snprintf(prefix, sizeof(prefix), "--file-prefix=hf-test-worker-%d", (int)getpid());
	if (rte_eal_init((int)HF_ARRAY_SIZE(argv), argv) < 0) {
		fprintf(stderr, "EAL init failed: %s\n", rte_strerror(rte_errno));
		if (rte_errno == EACCES || rte_errno == EPERM)
			exit(77);
		return -1;
	}
	pool = rte_pktmbuf_pool_create("hf_test_worker", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	rx = rte_ring_create("hf_tw_rx", 256, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	tx = rte_ring_create("hf_tw_tx", 256, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!pool || !rx || !tx)
		return -1;
	int p = rte_eth_from_rings("hf_tw", &rx, 1, &tx, 1, SOCKET_ID_ANY);
	if (p < 0)
		return -1;
	port = (uint16_t)p;
	struct rte_eth_conf conf = { 0 };
	if (rte_eth_dev_configure(port, 1, 1, &conf) < 0 ||
	    rte_eth_rx_queue_setup(port, 0, 256, SOCKET_ID_ANY, NULL, pool) < 0 ||
	    rte_eth_tx_queue_setup(port, 0, 256, SOCKET_ID_ANY, NULL) < 0 ||
	    rte_eth_dev_start(port) < 0)
		return -1;
	struct rte_ether_addr mac;
	rte_eth_macaddr_get(port, &mac);
	hf_net_addrs_init(&addrs, &mac);
	hf_net_addrs_add4(&addrs, rte_cpu_to_be_32(SERVICE4));

	return shm_pair_open(&shm, "tw");
}

static int group_teardown(void **state)
{
	(void)state;
	shm_pair_close(&shm);
	return 0;
}

static int setup_with(const struct hf_stale_config *stale)
{
	const struct hf_cache_config cc = { .max_bytes = 1 << 20, .ttl_max = 86400,
					    .max_stale = MAX_STALE };
	cache = hf_cache_create(&cc);
	struct hf_worker_config wc = {
		.index = 0, .port_id = port, .queue_id = 0, .addrs = &addrs, .cache = cache,
		.shm = shm.dp,
		.pending = { .max_questions = 16, .max_waiters = 32, .max_waiters_per_q = 3,
			     .timeout_ns = TIMEOUT_NS },
	};
	if (stale)
		wc.stale = *stale;
	worker = hf_worker_create(&wc);
	clk = (struct hf_worker_clock){ .real_s = T0, .mono_ns = 1000000000000ull };
	control_beat();
	turn();  /* housekeeping sees the control plane */
	return worker && cache ? 0 : -1;
}

static int setup(void **state)
{
	(void)state;
	return setup_with(NULL);
}

/* Serve-stale on (RFC 8767), with timers short enough to step through. */
static int setup_stale(void **state)
{
	(void)state;
	const struct hf_stale_config st = {
		.enabled = true, .ttl = STALE_TTL, .failure_recheck = RECHECK_S,
		.client_timeout_ns = CLIENT_NS,
	};
	return setup_with(&st);
}

static int teardown(void **state)
{
	(void)state;
	struct hf_msg_miss m[32];
	hf_worker_destroy(worker);
	hf_cache_destroy(cache);
	while (take_misses(m, 32) > 0)
		;
	return 0;
}

/* Moves both clocks; the control plane keeps beating unless told otherwise. */
static void advance(uint32_t seconds, uint64_t ns, bool beat)
{
	clk.real_s += seconds;
	clk.mono_ns += (uint64_t)seconds * 1000000000ull + ns;
	if (beat)
		control_beat();
}

/* ---- tests ---- */

static void test_miss_coalesce_fill_hit(void **state)
{
	(void)state;
	struct hf_msg_miss m[4];
	struct reply r;

	ask(1, "www.example.test", HF_TYPE_A, true);
	ask(2, "WWW.Example.TEST", HF_TYPE_A, false);
	turn();
	expect_none();
	assert_int_equal(take_misses(m, 4), 1);  /* two clients, one question */
	assert_memory_equal(m[0].qname, "\3www\7example\4test", 18);
	assert_int_equal(m[0].qtype, HF_TYPE_A);
	assert_int_equal(m[0].variant, 0);

	fill(&m[0], 300, 2, 0);
	turn();
	assert_true(get_reply(&r));
	assert_int_equal(r.pkt.id, 1);
	assert_int_equal(r.pkt.ancount, 2);
	assert_true(r.pkt.edns.present);
	assert_memory_equal(r.dns + 12, "\3www\7example\4test", 18);
	done(&r);
	assert_true(get_reply(&r));
	assert_int_equal(r.pkt.id, 2);
	assert_false(r.pkt.edns.present);
	assert_memory_equal(r.dns + 12, "\3WWW\7Example\4TEST", 18);  /* its own case */
	done(&r);

	/* A hit, then the same hit 100 s later: TTLs count down. */
	ask(3, "www.example.test", HF_TYPE_A, true);
	turn();
	assert_true(get_reply(&r));
	assert_int_equal(r.rr[0].ttl, 300);
	done(&r);
	advance(100, 0, true);
	ask(4, "www.example.test", HF_TYPE_A, true);
	turn();
	assert_true(get_reply(&r));
	assert_int_equal(r.pkt.id, 4);
	assert_int_equal(r.rr[0].ttl, 200);
	assert_int_equal(r.rr[1].ttl, 200);
	done(&r);
	assert_int_equal(take_misses(m, 4), 0);

	/* Past the TTL the entry is not fresh: a new miss. */
	advance(201, 0, true);
	ask(5, "www.example.test", HF_TYPE_A, true);
	turn();
	expect_none();
	assert_int_equal(take_misses(m, 4), 1);
}

static void test_variants_apart(void **state)
{
	(void)state;
	struct hf_msg_miss m[4];
	uint8_t q[512];

	ask(1, "v.example.test", HF_TYPE_A, true);
	uint16_t len = make_query(q, 2, "v.example.test", HF_TYPE_A, false);
	q[3] |= HF_FLAG_CD;
	send_frame(q, len, 40002);
	turn();
	assert_int_equal(take_misses(m, 4), 2);  /* CD asks for another answer */
	assert_int_equal(m[1].variant, HF_VARIANT_CD);
}

static void test_timeout_and_waiter_bound(void **state)
{
	(void)state;
	struct hf_msg_miss m[4];
	struct reply r;

	for (uint16_t id = 1; id <= 4; id++)
		ask(id, "slow.example.test", HF_TYPE_A, true);
	turn();
	/* Three may wait (max_waiters_per_q); the fourth is told at once. */
	assert_true(get_reply(&r));
	assert_int_equal(r.pkt.id, 4);
	assert_int_equal(hf_pkt_rcode(&r.pkt), HF_RCODE_SERVFAIL);
	assert_int_equal(reply_ede(&r), HF_EDE_OTHER);
	done(&r);
	assert_int_equal(take_misses(m, 4), 1);

	advance(0, TIMEOUT_NS - 1, true);
	turn();
	expect_none();
	advance(0, 2, true);
	turn();
	for (int i = 0; i < 3; i++) {
		assert_true(get_reply(&r));
		assert_int_equal(hf_pkt_rcode(&r.pkt), HF_RCODE_SERVFAIL);
		assert_int_equal(reply_ede(&r), HF_EDE_OTHER);
		done(&r);
	}
	/* The late fill only fills the cache. */
	fill(&m[0], 60, 1, 0);
	turn();
	expect_none();
	ask(9, "slow.example.test", HF_TYPE_A, true);
	turn();
	assert_true(get_reply(&r));
	assert_int_equal(hf_pkt_rcode(&r.pkt), 0);
	done(&r);
}

static void test_no_control_plane(void **state)
{
	(void)state;
	struct reply r;
	struct hf_msg_miss m[4];

	advance(3, 0, false);  /* heartbeat now 3 s old */
	turn();
	ask(1, "gone.example.test", HF_TYPE_A, true);
	turn();
	assert_true(get_reply(&r));
	assert_int_equal(hf_pkt_rcode(&r.pkt), HF_RCODE_SERVFAIL);
	assert_int_equal(reply_ede(&r), HF_EDE_NOT_READY);
	done(&r);
	assert_int_equal(take_misses(m, 4), 0);
}

static void test_truncation(void **state)
{
	(void)state;
	struct hf_msg_miss m[4];
	struct reply r;

	ask(1, "big.example.test", HF_TYPE_TXT, false);
	turn();
	assert_int_equal(take_misses(m, 4), 1);
	fill(&m[0], 300, 4, 0);  /* ~850 octets: over 512 */
	turn();
	assert_true(get_reply(&r));
	assert_true(r.pkt.flags & HF_FLAG_TC);
	assert_int_equal(r.pkt.ancount, 0);
	done(&r);
	ask(2, "big.example.test", HF_TYPE_TXT, true);  /* 1232 is enough */
	turn();
	assert_true(get_reply(&r));
	assert_false(r.pkt.flags & HF_FLAG_TC);
	assert_int_equal(r.pkt.ancount, 4);
	done(&r);
}

static void test_errors_and_drops(void **state)
{
	(void)state;
	uint8_t q[512];
	struct reply r;
	uint16_t len;

	len = make_query(q, 7, "x.test", HF_TYPE_A, false);
	q[2] |= 0x80;  /* QR */
	send_frame(q, len, 40000);
	send_frame(q, 5, 40001);  /* shorter than a header */
	turn();
	expect_none();

	len = make_query(q, 8, "x.test", HF_TYPE_A, false);
	q[len++] = 0;  /* trailing octet */
	send_frame(q, len, 40000);
	turn();
	assert_true(get_reply(&r));
	assert_int_equal(r.pkt.id, 8);
	assert_int_equal(hf_pkt_rcode(&r.pkt), HF_RCODE_FORMERR);
	done(&r);

	len = make_query(q, 9, "x.test", HF_TYPE_A, true);
	q[len - 11 + 6] = 1;  /* EDNS version 1 */
	send_frame(q, len, 40000);
	turn();
	assert_true(get_reply(&r));
	assert_int_equal(hf_pkt_rcode(&r.pkt), HF_RCODE_BADVERS);
	done(&r);

	/* The worker counts each reason. */
	hf_worker_flush_stats(worker);
	const struct hf_shm_stats *s = hf_shm_stats(shm.dp, 0);
	assert_int_equal(hf_shm_stat_get(s, HF_STAT_Q_RESPONSE), 1);
	assert_int_equal(hf_shm_stat_get(s, HF_STAT_Q_SHORT), 1);
	assert_int_equal(hf_shm_stat_get(s, HF_STAT_Q_MALFORMED), 1);
	assert_int_equal(hf_shm_stat_get(s, HF_STAT_Q_BADVERS), 1);
}

static void test_control_restart_resends(void **state)
{
	(void)state;
	struct hf_msg_miss m[4];
	char err[256];

	ask(1, "lost.example.test", HF_TYPE_A, true);
	turn();
	assert_int_equal(take_misses(m, 4), 1);  /* taken by a control plane that dies */
	/* A new control plane attaches (generation + 1). */
	hf_shm_detach(shm.cp);
	assert_int_equal(hf_shm_attach(shm.instance, &shm.cp, err, sizeof(err)), 0);
	advance(0, 2000000, true);
	turn();
	assert_int_equal(take_misses(m, 4), 1);  /* asked again */
	assert_memory_equal(m[0].qname, "\4lost\7example\4test", 19);
}

/* ---- serve-stale (RFC 8767) ---- */

static uint64_t counter(enum hf_shm_stat i)
{
	hf_worker_flush_stats(worker);
	return hf_shm_stat_get(hf_shm_stats(shm.dp, 0), i);
}

/* A burst of hits over several names: per-burst counting gives the same
 * totals as per-packet counting, and an entry replaced or purged after a
 * hit is never used again once its grace period is over. */
static void test_burst_hits_and_hints(void **state)
{
	(void)state;
	struct hf_msg_miss m[8];
	struct reply r;
	static const char *const names[] = { "a.example.test", "b.example.test", "c.example.test" };

	for (unsigned i = 0; i < 3; i++)
		ask((uint16_t)(1 + i), names[i], HF_TYPE_A, i != 1);
	turn();
	assert_int_equal(take_misses(m, 8), 3);
	for (unsigned i = 0; i < 3; i++)
		fill(&m[i], 300, 1, 0);
	turn();
	for (unsigned i = 0; i < 3; i++) {
		assert_true(get_reply(&r));
		done(&r);
	}
	uint64_t q0 = counter(HF_STAT_DNS_QUERIES), h0 = counter(HF_STAT_CACHE_HITS);
	uint64_t a0 = counter(HF_STAT_DNS_ANSWERS);

	/* 24 hits in one burst, plus one miss. */
	for (unsigned i = 0; i < 24; i++)
		ask((uint16_t)(100 + i), names[i % 3], HF_TYPE_A, i % 2);
	ask(200, "d.example.test", HF_TYPE_A, true);
	turn();
	for (unsigned i = 0; i < 24; i++) {
		assert_true(get_reply(&r));
		assert_int_equal(r.pkt.id, 100 + i);
		assert_int_equal(r.pkt.ancount, 1);
		assert_int_equal(r.pkt.edns.present, i % 2);
		done(&r);
	}
	expect_none();
	assert_int_equal(take_misses(m, 8), 1);
	assert_int_equal(counter(HF_STAT_DNS_QUERIES) - q0, 25);
	assert_int_equal(counter(HF_STAT_CACHE_HITS) - h0, 24);
	assert_int_equal(counter(HF_STAT_DNS_ANSWERS) - a0, 24);

	/* b is replaced (now two records), c purged: after a grace period the
	 * old entries are gone, and the answers say so. */
	ask(300, "b.example.test", HF_TYPE_A, false);
	turn();
	assert_true(get_reply(&r));
	done(&r);
	struct hf_msg_miss mb = { .qtype = HF_TYPE_A, .qclass = HF_CLASS_IN,
				  .qname_len = 16 };
	memcpy(mb.qname, "\1b\7example\4test", 16);
	fill(&mb, 600, 2, 0);
	turn();
	assert_int_equal(hf_cache_purge(cache, (const uint8_t *)"\1c\7example\4test", false), 1);
	turn();
	urcu_qsbr_thread_offline();  /* a barrier waits outside read-side sections */
	urcu_qsbr_barrier();         /* the old b and c are freed now */
	urcu_qsbr_thread_online();
	ask(301, "b.example.test", HF_TYPE_A, false);
	ask(302, "c.example.test", HF_TYPE_A, false);
	turn();
	assert_true(get_reply(&r));
	assert_int_equal(r.pkt.id, 301);
	assert_int_equal(r.pkt.ancount, 2);
	assert_int_equal(r.rr[0].ttl, 600);
	done(&r);
	expect_none();
	assert_int_equal(take_misses(m, 8), 1);
	assert_memory_equal(m[0].qname, "\1c\7example\4test", 16);
}

/* The EDE info-codes of a reply, in order. */
static unsigned reply_edes(const struct reply *r, int *codes, unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < r->pkt.edns.n_opts && n < max; i++)
		if (r->pkt.edns.opts[i].code == HF_EDNS_OPT_EDE)
			codes[n++] = hf_wire_get_u16(r->dns + r->pkt.edns.opts[i].off);
	return n;
}

/* A stale answer to id: its rcode, records all at the stale TTL, exactly these EDEs. */
static void expect_stale(uint16_t id, unsigned rcode, unsigned n_rr, const int *edes,
			 unsigned n_edes)
{
	struct reply r;
	int got[8];
	assert_true(get_reply(&r));
	assert_int_equal(r.pkt.id, id);
	assert_int_equal(hf_pkt_rcode(&r.pkt), rcode);
	assert_int_equal(r.pkt.rr_count, n_rr);
	for (unsigned i = 0; i < r.pkt.rr_count; i++)
		assert_int_equal(r.rr[i].ttl, STALE_TTL);
	assert_true(r.pkt.edns.present);
	unsigned n = reply_edes(&r, got, 8);
	assert_int_equal(n, n_edes);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(got[i], edes[i]);
	done(&r);
}

/* A fresh answer to id: n_rr records at TTL ttl, no EDE. */
static void expect_fresh(uint16_t id, unsigned n_rr, uint32_t ttl)
{
	struct reply r;
	assert_true(get_reply(&r));
	assert_int_equal(r.pkt.id, id);
	assert_int_equal(hf_pkt_rcode(&r.pkt), HF_RCODE_NOERROR);
	assert_int_equal(r.pkt.ancount, n_rr);
	for (unsigned i = 0; i < r.pkt.rr_count; i++)
		assert_int_equal(r.rr[i].ttl, ttl);
	assert_int_equal(reply_ede(&r), -1);
	done(&r);
}

/* Takes the one miss the worker sent, which must be a refresh of name. */
static void take_refresh(struct hf_msg_miss *m, const char *name)
{
	uint8_t wire[HF_NAME_MAXLEN];
	int len = hf_name_from_text(name, wire);
	assert_int_equal(take_misses(m, 1), 1);
	assert_int_equal(m->flags, HF_MISS_REFRESH);
	assert_true(m->req_id & HF_PENDING_ID_TAG);
	assert_int_equal(m->qname_len, len);
	assert_memory_equal(m->qname, wire, (size_t)len);
	assert_int_equal(m->qtype, HF_TYPE_A);
	assert_int_equal(take_misses(m + 1, 1), 0);
}

/* The cache's entry for name/A (variant 0): valid until the next turn(). */
static const struct hf_cache_entry *entry_of(const char *name)
{
	uint8_t wire[HF_NAME_MAXLEN];
	int len = hf_name_from_text(name, wire);
	assert_true(len > 0);
	hf_name_lower(wire);
	struct hf_cache_key k = { .name = wire, .name_len = (uint8_t)len, .qtype = HF_TYPE_A,
				  .qclass = HF_CLASS_IN, .variant = 0 };
	return hf_cache_lookup(cache, &k, hf_cache_hash(cache, &k));
}

/*
 * Caches name/A with TTL ttl (two A records for NOERROR; a SOA for
 * NXDOMAIN) through an ordinary miss and fill; the asking client is answered.
 */
static void prime(const char *name, uint32_t ttl, uint16_t rcode)
{
	struct hf_msg_miss m[4];
	struct reply r;
	ask(900, name, HF_TYPE_A, true);
	turn();
	assert_int_equal(take_misses(m, 4), 1);
	assert_int_equal(m[0].flags, 0);
	assert_false(m[0].req_id & HF_PENDING_ID_TAG);
	fill_rcode(&m[0], ttl, rcode == HF_RCODE_NOERROR ? 2 : 0, 0, rcode, -1);
	turn();
	assert_true(get_reply(&r));
	assert_int_equal(r.pkt.id, 900);
	assert_int_equal(hf_pkt_rcode(&r.pkt), rcode);
	done(&r);
	const struct hf_cache_entry *e = entry_of(name);
	assert_non_null(e);
	assert_int_equal(e->expires, clk.real_s + ttl);
	assert_int_equal(e->stale_until, clk.real_s + ttl + MAX_STALE);
}

#define S_NAME "stale.example.test"

/* Cases 1 and 2: expired, control plane alive: a refresh; a good fill answers fresh. */
static void test_stale_refresh_fresh(void **state)
{
	(void)state;
	struct hf_msg_miss m[4];

	prime(S_NAME, 60, HF_RCODE_NOERROR);
	advance(59, 0, true);  /* one second left: a plain hit */
	ask(1, S_NAME, HF_TYPE_A, true);
	turn();
	expect_fresh(1, 2, 1);
	assert_int_equal(take_misses(m, 4), 0);

	advance(1, 0, true);  /* now == expires: stale */
	ask(2, S_NAME, HF_TYPE_A, true);
	turn();
	expect_none();  /* the client waits for the refresh */
	take_refresh(m, S_NAME);
	assert_int_equal(counter(HF_STAT_STALE_REFRESHES), 1);
	assert_int_equal(counter(HF_STAT_STALE_ANSWERS), 0);
	assert_int_equal(counter(HF_STAT_STALE_FAILED), 0);
	assert_int_equal(counter(HF_STAT_CACHE_MISSES), 1);  /* prime's only */
	assert_int_equal(counter(HF_STAT_MISS_SENT), 2);

	/* The refresh succeeds: the waiting client gets the new answer. */
	fill(&m[0], 300, 3, 0);
	turn();
	expect_fresh(2, 3, 300);
	expect_none();
	const struct hf_cache_entry *e = entry_of(S_NAME);
	assert_non_null(e);
	assert_int_equal(e->expires, clk.real_s + 300);
	assert_int_equal(e->n_ttl, 3);

	/* ... and the cache has it: the next client is a hit, no miss. */
	advance(10, 0, true);
	ask(3, S_NAME, HF_TYPE_A, true);
	turn();
	expect_fresh(3, 3, 290);
	assert_int_equal(take_misses(m, 4), 0);
	assert_int_equal(counter(HF_STAT_CACHE_HITS), 2);
	assert_int_equal(counter(HF_STAT_STALE_ANSWERS), 0);
	assert_int_equal(counter(HF_STAT_STALE_REFRESHES), 1);
	assert_int_equal(counter(HF_STAT_STALE_FAILED), 0);
}

/* Case 3: the refresh fails (SERVFAIL, EDE 6): stale with EDE 3 then 6; failure-recheck. */
static void test_stale_refresh_servfail(void **state)
{
	(void)state;
	struct hf_msg_miss m[4];
	static const int ede_3_6[] = { HF_EDE_STALE_ANSWER, HF_EDE_DNSSEC_BOGUS };
	static const int ede_3[] = { HF_EDE_STALE_ANSWER };

	prime(S_NAME, 60, HF_RCODE_NOERROR);
	const uint32_t expires = clk.real_s + 60;
	advance(60, 0, true);
	ask(1, S_NAME, HF_TYPE_A, true);
	turn();
	expect_none();
	take_refresh(m, S_NAME);

	fill_rcode(&m[0], 5, 0, 0, HF_RCODE_SERVFAIL, HF_EDE_DNSSEC_BOGUS);
	turn();
	expect_stale(1, HF_RCODE_NOERROR, 2, ede_3_6, 2);
	expect_none();
	/* The entry stays as it was (not replaced by the SERVFAIL), timer started. */
	const struct hf_cache_entry *e = entry_of(S_NAME);
	assert_non_null(e);
	assert_int_equal(e->rcode, HF_RCODE_NOERROR);
	assert_int_equal(e->expires, expires);
	assert_int_equal(e->n_ttl, 2);
	assert_int_equal(atomic_load(&e->recheck_until), clk.real_s + RECHECK_S);
	assert_int_equal(counter(HF_STAT_STALE_FAILED), 1);
	assert_int_equal(counter(HF_STAT_STALE_ANSWERS), 1);
	assert_int_equal(counter(HF_STAT_STALE_REFRESHES), 1);

	/* Within failure-recheck: stale at once, no refresh, only EDE 3. */
	advance(RECHECK_S - 1, 0, true);
	ask(2, S_NAME, HF_TYPE_A, true);
	turn();
	expect_stale(2, HF_RCODE_NOERROR, 2, ede_3, 1);
	assert_int_equal(take_misses(m, 4), 0);
	assert_int_equal(counter(HF_STAT_STALE_ANSWERS), 2);
	assert_int_equal(counter(HF_STAT_STALE_REFRESHES), 1);

	/* failure-recheck over: the next client triggers a refresh again. */
	advance(1, 0, true);
	ask(3, S_NAME, HF_TYPE_A, true);
	turn();
	expect_none();
	take_refresh(m, S_NAME);
	assert_int_equal(counter(HF_STAT_STALE_REFRESHES), 2);
	fill(&m[0], 300, 1, 0);
	turn();
	expect_fresh(3, 1, 300);
	e = entry_of(S_NAME);
	assert_non_null(e);
	assert_int_equal(e->expires, clk.real_s + 300);
	assert_int_equal(atomic_load(&e->recheck_until), 0);  /* a new entry, no timer */
	assert_int_equal(counter(HF_STAT_STALE_ANSWERS), 2);
	assert_int_equal(counter(HF_STAT_STALE_FAILED), 1);
}

/* Case 4: no fill within the client-response timer: stale meanwhile; a late fill still counts. */
static void test_stale_client_timeout(void **state)
{
	(void)state;
	struct hf_msg_miss m[4];
	static const int ede_3[] = { HF_EDE_STALE_ANSWER };

	prime(S_NAME, 60, HF_RCODE_NOERROR);
	advance(60, 0, true);
	ask(1, S_NAME, HF_TYPE_A, true);
	turn();
	take_refresh(m, S_NAME);
	advance(0, CLIENT_NS - 1, true);
	turn();
	expect_none();
	advance(0, 1, true);
	turn();
	expect_stale(1, HF_RCODE_NOERROR, 2, ede_3, 1);
	expect_none();
	assert_int_equal(counter(HF_STAT_STALE_ANSWERS), 1);
	assert_int_equal(counter(HF_STAT_SERVFAIL_TIMEOUT), 0);
	assert_int_equal(counter(HF_STAT_STALE_FAILED), 0);

	/* The refresh arrives late: nobody to answer, but the cache takes it. */
	fill(&m[0], 300, 1, 0);
	turn();
	expect_none();
	assert_int_equal(counter(HF_STAT_FILLS_UNCLAIMED), 1);
	const struct hf_cache_entry *e = entry_of(S_NAME);
	assert_non_null(e);
	assert_int_equal(e->expires, clk.real_s + 300);
	ask(2, S_NAME, HF_TYPE_A, true);
	turn();
	expect_fresh(2, 1, 300);
	assert_int_equal(take_misses(m, 4), 0);
	assert_int_equal(counter(HF_STAT_STALE_ANSWERS), 1);
	assert_int_equal(counter(HF_STAT_STALE_REFRESHES), 1);
}

/*
 * A refresh that fails after its clients were answered stale by the
 * client-response timer: the failure-recheck timer starts, nobody is answered.
 */
static void test_stale_late_servfail(void **state)
{
	(void)state;
	struct hf_msg_miss m[4];
	static const int ede_3[] = { HF_EDE_STALE_ANSWER };

	prime(S_NAME, 60, HF_RCODE_NOERROR);
	advance(60, 0, true);
	ask(1, S_NAME, HF_TYPE_A, true);
	turn();
	take_refresh(m, S_NAME);
	advance(0, CLIENT_NS, true);
	turn();
	expect_stale(1, HF_RCODE_NOERROR, 2, ede_3, 1);
	assert_int_equal(counter(HF_STAT_STALE_ANSWERS), 1);

	fill_rcode(&m[0], 5, 0, 0, HF_RCODE_SERVFAIL, HF_EDE_DNSSEC_BOGUS);
	turn();
	expect_none();
	assert_int_equal(counter(HF_STAT_STALE_FAILED), 1);
	const struct hf_cache_entry *e = entry_of(S_NAME);
	assert_non_null(e);
	assert_int_equal(e->rcode, HF_RCODE_NOERROR);
	assert_int_equal(atomic_load(&e->recheck_until), clk.real_s + RECHECK_S);
	/* The recheck timer holds: stale at once, no refresh. */
	ask(2, S_NAME, HF_TYPE_A, true);
	turn();
	expect_stale(2, HF_RCODE_NOERROR, 2, ede_3, 1);
	assert_int_equal(take_misses(m, 4), 0);
	/*
	 * Two clients got a stale answer. Regression: a late SERVFAIL (its
	 * clients already answered by the client-response timer) used to count
	 * a stale answer nobody got.
	 */
	assert_int_equal(counter(HF_STAT_STALE_ANSWERS), 2);
}

/* Case 5: a stale NXDOMAIN says EDE 19, not 3. */
static void test_stale_nxdomain(void **state)
{
	(void)state;
	struct hf_msg_miss m[4];
	static const int ede_19_22[] = { HF_EDE_STALE_NXDOMAIN, HF_EDE_NO_REACHABLE_AUTHORITY };
	static const int ede_19[] = { HF_EDE_STALE_NXDOMAIN };

	prime("nx.example.test", 60, HF_RCODE_NXDOMAIN);
	advance(60, 0, true);
	ask(1, "nx.example.test", HF_TYPE_A, true);
	turn();
	expect_none();
	take_refresh(m, "nx.example.test");
	fill_rcode(&m[0], 5, 0, 0, HF_RCODE_SERVFAIL, HF_EDE_NO_REACHABLE_AUTHORITY);
	turn();
	expect_stale(1, HF_RCODE_NXDOMAIN, 1, ede_19_22, 2);  /* the SOA at the stale TTL */

	ask(2, "nx.example.test", HF_TYPE_A, true);  /* within failure-recheck */
	turn();
	expect_stale(2, HF_RCODE_NXDOMAIN, 1, ede_19, 1);

	/* And through the client-response timer. */
	advance(RECHECK_S, 0, true);
	ask(3, "nx.example.test", HF_TYPE_A, true);
	turn();
	take_refresh(m, "nx.example.test");
	advance(0, CLIENT_NS, true);
	turn();
	expect_stale(3, HF_RCODE_NXDOMAIN, 1, ede_19, 1);
	assert_int_equal(counter(HF_STAT_STALE_ANSWERS), 3);
}

/* Case 6: no control plane: stale at once, no miss, until the stale window ends. */
static void test_stale_no_control(void **state)
{
	(void)state;
	struct hf_msg_miss m[4];
	struct reply r;
	static const int ede_3[] = { HF_EDE_STALE_ANSWER };

	prime(S_NAME, 60, HF_RCODE_NOERROR);
	advance(60, 0, false);  /* the heartbeat is 60 s old: the control plane is gone */
	ask(1, S_NAME, HF_TYPE_A, true);
	turn();
	expect_stale(1, HF_RCODE_NOERROR, 2, ede_3, 1);
	assert_int_equal(take_misses(m, 4), 0);
	assert_int_equal(counter(HF_STAT_STALE_ANSWERS), 1);
	assert_int_equal(counter(HF_STAT_STALE_REFRESHES), 0);
	assert_int_equal(counter(HF_STAT_SERVFAIL_NO_CONTROL), 0);

	/* The last second of the stale window, then past it: SERVFAIL, not ready. */
	advance(MAX_STALE - 1, 0, false);
	ask(2, S_NAME, HF_TYPE_A, true);
	turn();
	expect_stale(2, HF_RCODE_NOERROR, 2, ede_3, 1);
	advance(1, 0, false);
	ask(3, S_NAME, HF_TYPE_A, true);
	turn();
	assert_true(get_reply(&r));
	assert_int_equal(r.pkt.id, 3);
	assert_int_equal(hf_pkt_rcode(&r.pkt), HF_RCODE_SERVFAIL);
	assert_int_equal(reply_ede(&r), HF_EDE_NOT_READY);
	done(&r);
	assert_int_equal(take_misses(m, 4), 0);
	assert_int_equal(counter(HF_STAT_STALE_ANSWERS), 2);
	assert_int_equal(counter(HF_STAT_SERVFAIL_NO_CONTROL), 1);
}

/* Past stale_until (entry not swept yet), control plane alive: a plain miss. */
static void test_stale_window_over(void **state)
{
	(void)state;
	struct hf_msg_miss m[4];

	prime(S_NAME, 60, HF_RCODE_NOERROR);
	advance(60 + MAX_STALE, 0, true);
	assert_non_null(entry_of(S_NAME));
	ask(1, S_NAME, HF_TYPE_A, true);
	turn();
	expect_none();
	assert_int_equal(take_misses(m, 4), 1);
	assert_int_equal(m[0].flags, 0);
	assert_false(m[0].req_id & HF_PENDING_ID_TAG);
	fill(&m[0], 300, 1, 0);
	turn();
	expect_fresh(1, 1, 300);
	assert_int_equal(counter(HF_STAT_STALE_REFRESHES), 0);
	assert_int_equal(counter(HF_STAT_STALE_ANSWERS), 0);
}

/* Clients coalesce on one refresh; past max-waiters-per-question, stale at once. */
static void test_stale_coalesced(void **state)
{
	(void)state;
	struct hf_msg_miss m[4];
	static const int ede_3_6[] = { HF_EDE_STALE_ANSWER, HF_EDE_DNSSEC_BOGUS };
	static const int ede_3[] = { HF_EDE_STALE_ANSWER };

	prime(S_NAME, 60, HF_RCODE_NOERROR);
	advance(60, 0, true);
	for (uint16_t id = 1; id <= 4; id++)
		ask(id, S_NAME, HF_TYPE_A, true);
	turn();
	expect_stale(4, HF_RCODE_NOERROR, 2, ede_3, 1);  /* three may wait */
	expect_none();
	take_refresh(m, S_NAME);
	assert_int_equal(counter(HF_STAT_COALESCED), 2);
	assert_int_equal(counter(HF_STAT_STALE_REFRESHES), 1);

	fill_rcode(&m[0], 5, 0, 0, HF_RCODE_SERVFAIL, HF_EDE_DNSSEC_BOGUS);
	turn();
	for (uint16_t id = 1; id <= 3; id++)
		expect_stale(id, HF_RCODE_NOERROR, 2, ede_3_6, 2);
	expect_none();
	assert_int_equal(counter(HF_STAT_STALE_ANSWERS), 4);
	assert_int_equal(counter(HF_STAT_STALE_FAILED), 1);
}

/* The miss ring is full: the refresh cannot be sent, so the client is answered stale at once. */
static void test_stale_miss_ring_full(void **state)
{
	(void)state;
	struct hf_msg_miss junk = { 0 }, m[32];
	static const int ede_3[] = { HF_EDE_STALE_ANSWER };

	prime(S_NAME, 60, HF_RCODE_NOERROR);
	advance(60, 0, true);
	/* Fill the worker's miss ring as if the control plane had stopped reading it. */
	struct hf_ring *ring = hf_shm_miss_ring(shm.dp, 0);
	unsigned queued = 0;
	while (hf_ring_enqueue(ring, HF_MSG_MISS, &junk, (uint32_t)HF_MSG_MISS_LEN(1)) == 0)
		queued++;
	assert_true(queued > 0);
	ask(1, S_NAME, HF_TYPE_A, true);
	turn();
	expect_stale(1, HF_RCODE_NOERROR, 2, ede_3, 1);
	expect_none();
	assert_int_equal(counter(HF_STAT_MISS_RING_FULL), 1);
	assert_int_equal(counter(HF_STAT_STALE_ANSWERS), 1);
	while (take_misses(m, 32) > 0)
		;
	/* Nothing is left waiting: the next client (ring drained) refreshes again. */
	ask(2, S_NAME, HF_TYPE_A, true);
	turn();
	expect_none();
	take_refresh(m, S_NAME);
	/*
	 * Regression: a refresh that never reached the control plane (miss ring
	 * full) used to be counted as sent.
	 */
	assert_int_equal(counter(HF_STAT_STALE_REFRESHES), 1);
}

/* Case 7: serve-stale off: an expired entry is a plain miss, and SERVFAIL without a control plane. */
static void test_stale_disabled(void **state)
{
	(void)state;
	struct hf_msg_miss m[4];
	struct reply r;

	prime(S_NAME, 60, HF_RCODE_NOERROR);
	advance(60, 0, true);
	ask(1, S_NAME, HF_TYPE_A, true);
	turn();
	expect_none();
	assert_int_equal(take_misses(m, 4), 1);
	assert_int_equal(m[0].flags, 0);
	assert_false(m[0].req_id & HF_PENDING_ID_TAG);
	fill(&m[0], 60, 1, 0);
	turn();
	expect_fresh(1, 1, 60);
	assert_int_equal(counter(HF_STAT_CACHE_MISSES), 2);

	advance(60, 0, false);  /* expired again, and no control plane */
	ask(2, S_NAME, HF_TYPE_A, true);
	turn();
	assert_true(get_reply(&r));
	assert_int_equal(hf_pkt_rcode(&r.pkt), HF_RCODE_SERVFAIL);
	assert_int_equal(reply_ede(&r), HF_EDE_NOT_READY);
	done(&r);
	assert_int_equal(take_misses(m, 4), 0);
	assert_int_equal(counter(HF_STAT_STALE_ANSWERS), 0);
	assert_int_equal(counter(HF_STAT_STALE_REFRESHES), 0);
	assert_int_equal(counter(HF_STAT_STALE_FAILED), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_miss_coalesce_fill_hit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_variants_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_and_waiter_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_control_plane, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_and_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_restart_resends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_burst_hits_and_hints, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_refresh_fresh, setup_stale, teardown),
		cmocka_unit_test_setup_teardown(test_stale_refresh_servfail, setup_stale, teardown),
		cmocka_unit_test_setup_teardown(test_stale_client_timeout, setup_stale, teardown),
		cmocka_unit_test_setup_teardown(test_stale_late_servfail, setup_stale, teardown),
		cmocka_unit_test_setup_teardown(test_stale_nxdomain, setup_stale, teardown),
		cmocka_unit_test_setup_teardown(test_stale_no_control, setup_stale, teardown),
		cmocka_unit_test_setup_teardown(test_stale_window_over, setup_stale, teardown),
		cmocka_unit_test_setup_teardown(test_stale_coalesced, setup_stale, teardown),
		cmocka_unit_test_setup_teardown(test_stale_miss_ring_full, setup_stale, teardown),
		cmocka_unit_test_setup_teardown(test_stale_disabled, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
