/*
 * control/tcp: DNS over TCP against the stub resolver. A client thread
 * speaks blocking sockets while the test's main thread runs the loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <uv.h>

#include "control/local.h"
#include "control/log.h"
#include "control/resolver.h"
#include "control/tcp.h"
#include "include/holdfast/build.h"
#include "include/holdfast/name.h"
#include "include/holdfast/pkt.h"

struct fixture {
	uv_loop_t loop;
	struct hf_resolver *resolver;
	struct hf_local local;
	struct hf_tcp *tcp;
	struct sockaddr_in addr;
	pthread_t client;
	atomic_bool done;
};

struct reply {
	uint8_t msg[8192];
	int len;       /* -1: connection closed */
	struct hf_pkt pkt;
};

static int setup(void **state)
{
	static struct hf_conf conf;
	struct fixture *f = calloc(1, sizeof(*f));
	struct hf_resolver_config rcfg = { 0 };
	struct hf_tcp_config tcfg = { 0 };
	struct sockaddr_storage ss = { 0 }, bound;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	char err[256];

	hf_log_set_level(HF_LOG_ERROR);
	hf_conf_defaults(&conf);
	hf_local_init(&f->local, &conf.control);
	uv_loop_init(&f->loop);
	f->resolver = hf_resolver_create(&f->loop, &rcfg, err, sizeof(err));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	tcfg.addrs = &ss;
	tcfg.n_addrs = 1;
	tcfg.resolver = f->resolver;
	tcfg.local = &f->local;
	f->tcp = hf_tcp_create(&f->loop, &tcfg, err, sizeof(err));
	if (!f->tcp || hf_tcp_local_addr(f->tcp, 0, &bound) != 0)
		return -1;
	memcpy(&f->addr, &bound, sizeof(f->addr));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	hf_resolver_destroy(f->resolver);
	hf_tcp_close(f->tcp);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	free(f);
	return 0;
}

static int query(uint8_t *out, uint16_t id, const char *name, uint16_t qtype, bool edns,
		 uint16_t flags)
{
	uint8_t qname[HF_NAME_MAXLEN];
	struct hf_build b;

	hf_name_from_text(name, qname);
	hf_build_init(&b, out + 2, 512, id, flags);
	hf_build_question(&b, qname, qtype, HF_CLASS_IN);
	if (edns) {
		hf_build_opt_begin(&b, 1232, 0, 0, HF_EDNS_FLAG_DO);
		hf_build_opt_end(&b);
	}
	int len = hf_build_finish(&b);
	out[0] = (uint8_t)(len >> 8);
	out[1] = (uint8_t)len;
	return len + 2;
}

static int dial(struct fixture *f)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = { .tv_sec = 3 };

	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(s, (struct sockaddr *)&f->addr, sizeof(f->addr)) < 0) {
		close(s);
		return -1;
	}
	return s;
}

static bool read_all(int s, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = recv(s, buf + got, n - got, 0);

		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

static void read_reply(int s, struct reply *r)
{
	uint8_t len[2];

	r->len = -1;
	if (!read_all(s, len, 2))
		return;
	r->len = len[0] << 8 | len[1];
	if (!read_all(s, r->msg, (size_t)r->len)) {
		r->len = -1;
		return;
	}
	hf_pkt_parse(&r->pkt, r->msg, (size_t)r->len, NULL, 0);
}

/* What the client thread saw, checked by the main thread. */
static struct reply replies[8];

static void *client(void *arg)
{
	struct fixture *f = arg;
	uint8_t q[2048];
	int n = 0, s;

	/* Connection 1: two pipelined queries in one write, then junk. */
	s = dial(f);
	if (s >= 0) {
		n = query(q, 0x1111, "WwW.Example.COM", HF_TYPE_A, true, HF_FLAG_RD);
		n += query(q + n, 0x2222, "localhost", HF_TYPE_AAAA, false, HF_FLAG_RD);
		send(s, q, (size_t)n, 0);
		read_reply(s, &replies[0]);
		read_reply(s, &replies[1]);
		/* A question whose name runs past the message: FORMERR, same ID. */
		memcpy(q, "\x00\x0f" "\x33\x33\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" "\x07" "ab", 17);
		send(s, q, 17, 0);
		read_reply(s, &replies[2]);
		/* A response (QR=1): the connection closes. */
		n = query(q, 0x4444, "x.example", HF_TYPE_A, false, HF_FLAG_QR);
		send(s, q, (size_t)n, 0);
		read_reply(s, &replies[3]);
		close(s);
	}
	/* Connection 2: query, half-close, the answer still comes (RFC 7766). */
	s = dial(f);
	if (s >= 0) {
		n = query(q, 0x5555, "sf.example.net", HF_TYPE_A, true, 0);
		send(s, q, (size_t)n, 0);
		shutdown(s, SHUT_WR);
		read_reply(s, &replies[4]);
		read_reply(s, &replies[5]);
		close(s);
	}
	atomic_store(&f->done, true);
	return NULL;
}

static void test_pipelined_session(void **state)
{
	struct fixture *f = *state;
	const struct hf_edns_opt *ede;
	unsigned from = 0;

	pthread_create(&f->client, NULL, client, f);
	while (!atomic_load(&f->done))
		uv_run(&f->loop, UV_RUN_NOWAIT), usleep(200);
	pthread_join(f->client, NULL);

	/* Answers come as they finish: the local one first. */
	struct reply *a = replies[0].pkt.id == 0x1111 ? &replies[0] : &replies[1];
	struct reply *l = replies[0].pkt.id == 0x2222 ? &replies[0] : &replies[1];
	assert_int_equal(a->pkt.id, 0x1111);
	assert_int_equal(l->pkt.id, 0x2222);
	assert_memory_equal(a->msg + 13, "WwW\x07" "Example\x03" "COM", 15);
	assert_int_equal(a->pkt.ancount, 1);
	assert_true(a->pkt.flags & HF_FLAG_RD);
	assert_true(a->pkt.flags & HF_FLAG_RA);
	assert_true(a->pkt.edns.present);
	assert_true(a->pkt.edns.flags & HF_EDNS_FLAG_DO);
	assert_false(l->pkt.edns.present);
	assert_memory_equal(l->msg + l->len - 16, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16);

	assert_int_equal(replies[2].pkt.id, 0x3333);
	assert_int_equal(HF_FLAGS_RCODE(replies[2].pkt.flags), HF_RCODE_FORMERR);
	assert_int_equal(replies[3].len, -1);

	assert_int_equal(replies[4].pkt.id, 0x5555);
	assert_int_equal(HF_FLAGS_RCODE(replies[4].pkt.flags), HF_RCODE_SERVFAIL);
	ede = hf_edns_find(&replies[4].pkt.edns, HF_EDNS_OPT_EDE, &from);
	assert_non_null(ede);
	assert_int_equal(replies[4].msg[ede->off + 1], HF_EDE_NO_REACHABLE_AUTHORITY);
	assert_int_equal(replies[5].len, -1);  /* closed after the answer */

	const struct hf_tcp_stats *st = hf_tcp_stats(f->tcp);
	assert_int_equal(st->accepted, 2);
	assert_int_equal(st->formerr, 1);
	assert_int_equal(st->closed_bad, 1);
}

/* A client that sends many queries before reading any answer: nothing is
 * lost or reordered per answer. (Whether the server's write queue grows long
 * enough to pause reading depends on the kernel's socket buffers, which
 * usually absorb this much; the count is printed, not asserted.) */
#define FLOOD 8000
static int flood_sock;
static atomic_int flood_read;

static void *flood_reader(void *arg)
{
	struct reply *r = malloc(sizeof(*r));

	(void)arg;
	for (int i = 0; i < FLOOD; i++) {
		read_reply(flood_sock, r);
		if (r->len < 0 || r->pkt.id != (uint16_t)i)
			break;
		atomic_fetch_add(&flood_read, 1);
	}
	free(r);
	return NULL;
}

static void *flood_writer(void *arg)
{
	struct fixture *f = arg;
	pthread_t reader;
	uint8_t q[600];

	flood_sock = socket(AF_INET, SOCK_STREAM, 0);
	/* A small receive window, so that answers back up into our queue. */
	setsockopt(flood_sock, SOL_SOCKET, SO_RCVBUF, &(int){ 4096 }, sizeof(int));
	if (connect(flood_sock, (struct sockaddr *)&f->addr, sizeof(f->addr)) < 0)
		return NULL;
	/* Answers pile up unread for a while: the reader starts late. */
	for (int i = 0; i < FLOOD; i++) {
		int n = query(q, (uint16_t)i, "localhost", HF_TYPE_TXT, true, 0);

		if (i == FLOOD / 2)
			pthread_create(&reader, NULL, flood_reader, NULL);
		if (send(flood_sock, q, (size_t)n, 0) != n)
			break;
	}
	pthread_join(reader, NULL);
	close(flood_sock);
	atomic_store(&f->done, true);
	return NULL;
}

static void test_flood_backpressure(void **state)
{
	struct fixture *f = *state;

	pthread_create(&f->client, NULL, flood_writer, f);
	while (!atomic_load(&f->done))
		uv_run(&f->loop, UV_RUN_NOWAIT), usleep(100);
	pthread_join(f->client, NULL);
	assert_int_equal(atomic_load(&flood_read), FLOOD);
	print_message("reading paused %llu times for a long write queue\n",
		      (unsigned long long)hf_tcp_stats(f->tcp)->throttled);
}

/* One connection over the limit is accepted and closed at once. */
static int conn_socks[HF_TCP_CONN_MAX + 1];
static bool over_limit_closed;

static void *conn_flood(void *arg)
{
	struct fixture *f = arg;
	uint8_t q[600], b[4];
	int n;

	for (int i = 0; i <= HF_TCP_CONN_MAX; i++)
		conn_socks[i] = dial(f);
	/* The last one is closed by the server without a word. */
	over_limit_closed = recv(conn_socks[HF_TCP_CONN_MAX], b, sizeof(b), 0) == 0;
	/* The others still work. */
	n = query(q, 7, "localhost", HF_TYPE_A, false, 0);
	send(conn_socks[0], q, (size_t)n, 0);
	read_reply(conn_socks[0], &replies[6]);
	for (int i = 0; i <= HF_TCP_CONN_MAX; i++)
		close(conn_socks[i]);
	atomic_store(&f->done, true);
	return NULL;
}

static void test_connection_limit(void **state)
{
	struct fixture *f = *state;

	pthread_create(&f->client, NULL, conn_flood, f);
	while (!atomic_load(&f->done))
		uv_run(&f->loop, UV_RUN_NOWAIT), usleep(100);
	pthread_join(f->client, NULL);
	assert_true(over_limit_closed);
	assert_int_equal(replies[6].pkt.id, 7);
	assert_int_equal(hf_tcp_stats(f->tcp)->refused, 1);
}

static void test_render_ad(void **state)
{
	static struct hf_rendered ans;
	struct hf_client_question cq = { .id = 9, .flags = HF_FLAG_RD };
	uint8_t qname[HF_NAME_MAXLEN], out[HF_TCP_ANSWER_MAX];
	struct hf_build b;
	int qlen, len;

	(void)state;
	qlen = hf_name_from_text("a.example", qname);
	hf_build_init(&b, ans.msg, sizeof(ans.msg), 0, HF_FLAG_QR | HF_FLAG_RA);
	hf_build_question(&b, qname, HF_TYPE_A, HF_CLASS_IN);
	ans.msg_len = (uint16_t)hf_build_finish(&b);
	ans.flags = HF_FILL_AD;
	cq.question_len = (uint16_t)(qlen + 4);
	memcpy(cq.question, ans.msg + 12, cq.question_len);

	len = hf_tcp_render(&cq, &ans, out, sizeof(out));
	assert_true(len > 0);
	assert_false(out[3] & HF_FLAG_AD);           /* neither DO nor AD asked */
	cq.flags |= HF_FLAG_AD;
	hf_tcp_render(&cq, &ans, out, sizeof(out));
	assert_true(out[3] & HF_FLAG_AD);
	cq.flags = 0;
	cq.edns = true;
	cq.edns_flags = HF_EDNS_FLAG_DO;
	len = hf_tcp_render(&cq, &ans, out, sizeof(out));
	assert_true(out[3] & HF_FLAG_AD);
	assert_int_equal(len, 12 + qlen + 4 + 11);
	/* Another question length: refused, not misrendered. */
	cq.question_len--;
	assert_int_equal(hf_tcp_render(&cq, &ans, out, sizeof(out)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pipelined_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flood_backpressure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_limit, setup, teardown),
		cmocka_unit_test(test_render_ad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
