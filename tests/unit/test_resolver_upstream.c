/*
 * Upstream transport (control/resolver/upstream.c) against fake servers on
 * 127.0.0.1: forged datagrams ignored (wrong ID, wrong 0x20 case), timeouts,
 * refused ports, and a query over TCP; the UDP socket pool: sockets reused
 * and replaced, IDs unique per socket, a refusal failing what is in flight.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <uv.h>

#include "include/holdfast/wire_ctx.h"
#include "control/resolver/upstream.h"
#include "tests/unit/resolver_pkt.h"

enum mode { ANSWER_AFTER_FORGERIES, SILENT };

struct fake {
	uv_loop_t loop;
	uv_udp_t udp;
	uv_tcp_t tcp, conn;
	uv_write_t wr;
	enum mode mode;
	union hf_addr addr;
	uint8_t rbuf[4096];
	uint8_t tbuf[4096];
	size_t tlen;
	uint8_t reply[3][4096];
	int done;
	struct hf_upstream_result res;
	uint16_t qtype_seen;
	unsigned n_seen;                 /*!< queries received */
	uint16_t port_seen[1024];        /*!< their source ports and IDs */
	uint16_t id_seen[1024];
};

static void fake_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
	(void)s;
	struct fake *f = h->data;
	b->base = (char *)f->rbuf;
	b->len = sizeof(f->rbuf);
}

static void fake_sent(uv_udp_send_t *req, int status)
{
	(void)status;
	free(req);
}

static void send_udp(struct fake *f, const struct sockaddr *to, uint8_t *msg, size_t len)
{
	uv_udp_send_t *req = malloc(sizeof(*req));
	uv_buf_t b = uv_buf_init((char *)msg, (unsigned)len);
	uv_udp_send(req, &f->udp, &b, 1, to, fake_sent);
}

/* A reply is the query with QR set: same ID, question (and case) and OPT. */
static void fake_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
		      unsigned flags)
{
	(void)buf;
	(void)flags;
	struct fake *f = h->data;
	if (n <= 12 || from == NULL)
		return;
	if (f->n_seen < 1024) {
		f->port_seen[f->n_seen] = ntohs(((const struct sockaddr_in *)from)->sin_port);
		f->id_seen[f->n_seen] = hf_wire_get_u16(f->rbuf);
		f->n_seen++;
	}
	if (f->mode == SILENT)
		return;
	for (int i = 0; i < 3; i++) {
		memcpy(f->reply[i], f->rbuf, (size_t)n);
		f->reply[i][2] |= 0x80;
	}
	f->qtype_seen = hf_wire_get_u16(f->rbuf + (size_t)n - 4 - 11);
	/* 1: wrong ID. 2: right ID, question in the wrong case. 3: the real one. */
	f->reply[0][1] ^= 1;
	for (size_t i = 13; i < (size_t)n; i++) {
		uint8_t c = f->reply[1][i];
		if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
			f->reply[1][i] ^= 0x20;
			break;
		}
	}
	for (int i = 0; i < 3; i++)
		send_udp(f, from, f->reply[i], (size_t)n);
}

static void on_result(void *ctx, const struct hf_upstream_result *res)
{
	struct fake *f = ctx;
	f->res = *res;
	f->res.pkt = NULL;
	if (res->status == 0)
		assert_true(res->pkt->flags & HF_FLAG_QR);
	f->done++;
	if (!uv_is_closing((uv_handle_t *)&f->udp))
		uv_close((uv_handle_t *)&f->udp, NULL);
	if (uv_is_active((uv_handle_t *)&f->tcp) && !uv_is_closing((uv_handle_t *)&f->tcp))
		uv_close((uv_handle_t *)&f->tcp, NULL);
}

static void fake_start(struct fake *f, enum mode mode)
{
	memset(f, 0, sizeof(*f));
	f->mode = mode;
	assert_int_equal(uv_loop_init(&f->loop), 0);
	uv_udp_init(&f->loop, &f->udp);
	f->udp.data = f;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	assert_int_equal(uv_udp_bind(&f->udp, (const struct sockaddr *)&sin, 0), 0);
	int len = sizeof(f->addr);
	uv_udp_getsockname(&f->udp, &f->addr.sa, &len);
	uv_udp_recv_start(&f->udp, fake_alloc, fake_recv);
}

static void run(struct fake *f, bool tcp, bool use_0x20, uint32_t timeout_ms)
{
	struct hf_upstream_query q = {
		.to = f->addr, .qname = N("host.example.test."), .qtype = HF_TYPE_A,
		.qclass = HF_CLASS_IN, .tcp = tcp, .edns = true, .use_0x20 = use_0x20,
		.timeout_ms = timeout_ms,
	};
	struct hf_upstream *u;
	assert_int_equal(hf_upstream_send(&f->loop, &q, on_result, f, &u), 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(f->done, 1);
	assert_int_equal(uv_loop_close(&f->loop), 0);
}

static void test_forgeries_ignored(void **state)
{
	(void)state;
	static struct fake f;
	fake_start(&f, ANSWER_AFTER_FORGERIES);
	run(&f, false, true, 2000);
	assert_int_equal(f.res.status, 0);
	assert_int_equal(f.res.n_ignored, 1);       /* the wrong ID */
	assert_int_equal(f.res.n_case_mismatch, 1); /* the wrong case */
}

static void test_timeout(void **state)
{
	(void)state;
	static struct fake f;
	fake_start(&f, SILENT);
	uint64_t t0 = uv_hrtime();
	run(&f, false, true, 100);
	assert_int_equal(f.res.status, -ETIMEDOUT);
	assert_true(uv_hrtime() - t0 >= 90 * 1000000ull);
}

static void test_refused(void **state)
{
	(void)state;
	static struct fake f;
	fake_start(&f, SILENT);
	/* Close the server: its port now answers with ICMP port unreachable. */
	uv_close((uv_handle_t *)&f.udp, NULL);
	uv_run(&f.loop, UV_RUN_DEFAULT);
	run(&f, false, false, 2000);
	assert_int_equal(f.res.status, -ECONNREFUSED);
}

/* ---- TCP: one length-prefixed query in, the same back with QR ---- */

static void tcp_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
	(void)s;
	struct fake *f = h->data;
	b->base = (char *)f->tbuf + f->tlen;
	b->len = sizeof(f->tbuf) - f->tlen;
}

static void tcp_written(uv_write_t *w, int status)
{
	(void)status;
	struct fake *f = w->data;
	uv_close((uv_handle_t *)&f->conn, NULL);
}

static void tcp_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	(void)b;
	struct fake *f = s->data;
	if (n < 0)
		return;
	f->tlen += (size_t)n;
	if (f->tlen < 2 || f->tlen < 2u + hf_wire_get_u16(f->tbuf))
		return;
	uv_read_stop(s);
	f->tbuf[4] |= 0x80;
	uv_buf_t out = uv_buf_init((char *)f->tbuf, (unsigned)f->tlen);
	f->wr.data = f;
	uv_write(&f->wr, s, &out, 1, tcp_written);
}

static void tcp_accept(uv_stream_t *server, int status)
{
	struct fake *f = server->data;
	assert_int_equal(status, 0);
	uv_tcp_init(&f->loop, &f->conn);
	f->conn.data = f;
	assert_int_equal(uv_accept(server, (uv_stream_t *)&f->conn), 0);
	uv_read_start((uv_stream_t *)&f->conn, tcp_alloc, tcp_read);
}

static void test_tcp(void **state)
{
	(void)state;
	static struct fake f;
	fake_start(&f, SILENT);
	uv_tcp_init(&f.loop, &f.tcp);
	f.tcp.data = &f;
	assert_int_equal(uv_tcp_bind(&f.tcp, &f.addr.sa, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&f.tcp, 4, tcp_accept), 0);
	run(&f, true, true, 2000);
	assert_int_equal(f.res.status, 0);
}

/* ---- the UDP socket pool ---- */

struct many {
	struct fake *f;
	unsigned sent, want, done, ok, refused, timedout;
	bool serial;             /*!< send the next from the callback */
};

static void many_send(struct many *m);

static void many_result(void *ctx, const struct hf_upstream_result *res)
{
	struct many *m = ctx;
	m->done++;
	m->ok += res->status == 0;
	m->refused += res->status == -ECONNREFUSED;
	m->timedout += res->status == -ETIMEDOUT;
	if (m->serial && m->sent < m->want) {
		many_send(m);
		return;
	}
	if (m->done == m->want && !uv_is_closing((uv_handle_t *)&m->f->udp))
		uv_close((uv_handle_t *)&m->f->udp, NULL);
}

static void many_send(struct many *m)
{
	struct hf_upstream_query q = {
		.to = m->f->addr, .qname = N("host.example.test."), .qtype = HF_TYPE_A,
		.qclass = HF_CLASS_IN, .edns = true, .use_0x20 = true, .timeout_ms = 300,
	};
	struct hf_upstream *u;
	assert_int_equal(hf_upstream_send(&m->f->loop, &q, many_result, m, &u), 0);
	m->sent++;
}

static unsigned distinct_ports(const struct fake *f)
{
	unsigned n = 0;
	for (unsigned i = 0; i < f->n_seen; i++) {
		bool seen = false;
		for (unsigned k = 0; k < i; k++)
			seen |= f->port_seen[k] == f->port_seen[i];
		n += !seen;
	}
	return n;
}

static void test_pool_reuses_sockets(void **state)
{
	(void)state;
	static struct fake f;
	fake_start(&f, ANSWER_AFTER_FORGERIES);
	/* One after another, fewer than a socket's uses: at most one port per pool slot. */
	struct many m = { .f = &f, .want = 40, .serial = true };
	many_send(&m);
	uv_run(&f.loop, UV_RUN_DEFAULT);
	assert_int_equal(m.ok, 40);
	assert_int_equal(f.n_seen, 40);
	assert_true(distinct_ports(&f) <= HF_UPSTREAM_POOL_SOCKS);
	/* Idle sockets close by themselves: nothing keeps the loop open. */
	assert_int_equal(uv_loop_close(&f.loop), 0);
}

static void test_pool_replaces_sockets(void **state)
{
	(void)state;
	static struct fake f;
	fake_start(&f, ANSWER_AFTER_FORGERIES);
	/* More than all slots' uses: new sockets (ports) take over. */
	unsigned want = HF_UPSTREAM_POOL_SOCKS * HF_UPSTREAM_SOCK_USES + 100;
	assert_true(want <= 1024);
	struct many m = { .f = &f, .want = want, .serial = true };
	many_send(&m);
	uv_run(&f.loop, UV_RUN_DEFAULT);
	assert_int_equal(m.ok, want);
	assert_true(distinct_ports(&f) > HF_UPSTREAM_POOL_SOCKS);
	assert_int_equal(uv_loop_close(&f.loop), 0);
}

static void test_pool_ids_unique_in_flight(void **state)
{
	(void)state;
	static struct fake f;
	fake_start(&f, SILENT);
	/* Far more in flight than one socket holds: each (port, ID) pair appears once. */
	struct many m = { .f = &f, .want = 128 };
	for (unsigned i = 0; i < m.want; i++)
		many_send(&m);
	uv_run(&f.loop, UV_RUN_DEFAULT);
	assert_int_equal(m.timedout, 128);
	assert_int_equal(f.n_seen, 128);
	for (unsigned i = 0; i < f.n_seen; i++)
		for (unsigned k = 0; k < i; k++)
			assert_false(f.port_seen[k] == f.port_seen[i] && f.id_seen[k] == f.id_seen[i]);
	/* No socket holds more than its share in flight, so several ports were used. */
	assert_true(distinct_ports(&f) >= 128 / HF_UPSTREAM_SOCK_INFLIGHT);
	assert_int_equal(uv_loop_close(&f.loop), 0);
}

static void test_pool_refused_fails_all_in_flight(void **state)
{
	(void)state;
	static struct fake f;
	fake_start(&f, SILENT);
	uv_close((uv_handle_t *)&f.udp, NULL);
	uv_run(&f.loop, UV_RUN_DEFAULT);
	/* Several at once share sockets; every one learns of the refusal, none waits for its timeout. */
	struct many m = { .f = &f, .want = 20 };
	for (unsigned i = 0; i < m.want; i++)
		many_send(&m);
	uint64_t t0 = uv_hrtime();
	uv_run(&f.loop, UV_RUN_DEFAULT);
	assert_int_equal(m.done, 20);
	assert_int_equal(m.refused, 20);
	assert_true(uv_hrtime() - t0 < 250 * 1000000ull);
	assert_int_equal(uv_loop_close(&f.loop), 0);
}

/* The loop stalled past the timeout while the answer waited in the socket: it still counts. */
static void stall_result(void *ctx, const struct hf_upstream_result *res)
{
	struct hf_upstream_result *out = ctx;
	*out = *res;
	out->pkt = NULL;
}

static void test_answer_read_before_timeout(void **state)
{
	(void)state;
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	union hf_addr srv;
	memset(&srv, 0, sizeof(srv));
	srv.in.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &srv.in.sin_addr);
	assert_int_equal(bind(fd, &srv.sa, sizeof(srv.in)), 0);
	socklen_t len = sizeof(srv.in);
	assert_int_equal(getsockname(fd, &srv.sa, &len), 0);
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	struct hf_upstream_result res = { .status = 1 };
	struct hf_upstream_query q = {
		.to = srv, .qname = N("host.example.test."), .qtype = HF_TYPE_A,
		.qclass = HF_CLASS_IN, .edns = true, .use_0x20 = true, .timeout_ms = 50,
	};
	struct hf_upstream *u;
	assert_int_equal(hf_upstream_send(&loop, &q, stall_result, &res, &u), 0);
	/* Answer at once, then keep the loop from running until the timeout is long past. */
	uint8_t buf[512];
	struct sockaddr_storage from;
	socklen_t from_len = sizeof(from);
	ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &from_len);
	assert_true(n > 12);
	buf[2] |= 0x80;
	assert_int_equal(sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, from_len), n);
	usleep(150 * 1000);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(res.status, 0);
	close(fd);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forgeries_ignored),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_pool_reuses_sockets),
		cmocka_unit_test(test_pool_replaces_sockets),
		cmocka_unit_test(test_pool_ids_unique_in_flight),
		cmocka_unit_test(test_pool_refused_fails_all_in_flight),
		cmocka_unit_test(test_answer_read_before_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
