/*
 * UDP and TCP query transport with response matching.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "include/holdfast/build.h"
#include "include/holdfast/defines.h"
#include "include/holdfast/name.h"
#include "include/holdfast/wire_ctx.h"
#include "control/resolver/match.h"
#include "control/resolver/rand.h"
#include "control/resolver/upstream.h"

#define QUERY_MAX 512          /*!< a query: header, question, OPT */
/* We advertise HF_UPSTREAM_EDNS_SIZE; a larger datagram is cut by the kernel, fails to
 * parse and is ignored. Kept small: thousands of queries may be in flight. */
#define UDP_RECV_MAX 4096
#define TCP_RECV_MAX (2 + UINT16_MAX)

struct hf_upstream {
	uv_loop_t *loop;
	union {
		uv_udp_t udp;
		uv_tcp_t tcp;
		uv_handle_t handle;
	} sock;
	uv_timer_t timer;
	uv_connect_t conn;
	uv_write_t wr;
	bool tcp;
	bool sock_open;
	bool done;              /*!< result delivered or cancelled */
	unsigned open_handles;
	hf_upstream_cb cb;
	void *ctx;
	uint64_t sent_at;
	struct hf_match_key key;
	unsigned n_case, n_ignored;
	uint16_t qlen;
	uint8_t query[2 + QUERY_MAX];   /*!< TCP length prefix, then the query */
	uint32_t rlen;                  /*!< octets received (TCP: including the prefix) */
	uint8_t *rbuf;
	struct hf_rr rr[HF_UPSTREAM_MAX_RR];
};

static void on_close(uv_handle_t *h)
{
	struct hf_upstream *u = h->data;
	if (--u->open_handles == 0) {
		free(u->rbuf);
		free(u);
	}
}

static void shut(struct hf_upstream *u)
{
	u->done = true;
	uv_timer_stop(&u->timer);
	if (!uv_is_closing((uv_handle_t *)&u->timer))
		uv_close((uv_handle_t *)&u->timer, on_close);
	if (u->sock_open && !uv_is_closing(&u->sock.handle))
		uv_close(&u->sock.handle, on_close);
}

static void finish(struct hf_upstream *u, int status, const struct hf_pkt *pkt)
{
	if (u->done)
		return;
	struct hf_upstream_result res = {
		.status = status,
		.pkt = pkt,
		.rtt_ms = (uint32_t)(uv_now(u->loop) - u->sent_at),
		.n_case_mismatch = u->n_case,
		.n_ignored = u->n_ignored,
	};
	u->done = true;
	u->cb(u->ctx, &res);
	shut(u);
}

void hf_upstream_cancel(struct hf_upstream *u)
{
	if (u != NULL && !u->done)
		shut(u);
}

static void on_timeout(uv_timer_t *t)
{
	finish(t->data, -ETIMEDOUT, NULL);
}

/* Match and deliver, or count and keep waiting. */
static void consider(struct hf_upstream *u, const union hf_addr *from, const uint8_t *wire, size_t len)
{
	struct hf_pkt pkt;
	enum hf_match m = hf_match_response(&u->key, from, wire, len, &pkt, u->rr, HF_UPSTREAM_MAX_RR);
	if (m == HF_MATCH_OK) {
		finish(u, 0, &pkt);
		return;
	}
	if (m == HF_MATCH_CASE)
		u->n_case++;
	else
		u->n_ignored++;
	/* Over TCP the connection carries only our query: a mismatch there is final. */
	if (u->tcp)
		finish(u, -EBADMSG, NULL);
}

static void udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	struct hf_upstream *u = h->data;
	buf->base = (char *)u->rbuf;
	buf->len = UDP_RECV_MAX;
}

static void udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
		     unsigned flags)
{
	(void)buf;
	(void)flags;
	struct hf_upstream *u = h->data;
	if (u->done)
		return;
	if (nread < 0) {
		finish(u, (int)nread, NULL);  /* libuv errors are negative errno on Linux */
		return;
	}
	if (addr == NULL)
		return;  /* nothing more to read this round */
	union hf_addr from;
	memset(&from, 0, sizeof(from));
	memcpy(&from, addr, addr->sa_family == AF_INET6 ? sizeof(from.in6) : sizeof(from.in));
	consider(u, &from, u->rbuf, (size_t)nread);
}

static void tcp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	struct hf_upstream *u = h->data;
	buf->base = (char *)u->rbuf + u->rlen;
	buf->len = 2 + UINT16_MAX - u->rlen;
}

static void tcp_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	struct hf_upstream *u = s->data;
	if (u->done)
		return;
	if (nread < 0) {
		finish(u, nread == UV_EOF ? -ECONNRESET : (int)nread, NULL);
		return;
	}
	u->rlen += (uint32_t)nread;
	if (u->rlen < 2)
		return;
	uint32_t want = 2u + hf_wire_get_u16(u->rbuf);
	if (u->rlen >= want)
		consider(u, NULL, u->rbuf + 2, want - 2);
	else if (u->rlen >= 2 + UINT16_MAX)
		finish(u, -EBADMSG, NULL);
}

static void tcp_written(uv_write_t *w, int status)
{
	struct hf_upstream *u = w->data;
	if (status < 0)
		finish(u, status, NULL);
}

static void tcp_connected(uv_connect_t *c, int status)
{
	struct hf_upstream *u = c->data;
	if (u->done)
		return;
	if (status < 0) {
		finish(u, status, NULL);
		return;
	}
	uv_buf_t b = uv_buf_init((char *)u->query, 2u + u->qlen);
	u->wr.data = u;
	int ret = uv_write(&u->wr, (uv_stream_t *)&u->sock.tcp, &b, 1, tcp_written);
	if (ret == 0)
		ret = uv_read_start((uv_stream_t *)&u->sock.tcp, tcp_alloc, tcp_read);
	if (ret < 0)
		finish(u, ret, NULL);
}

/* The question name with each letter's case flipped at random (0x20, draft-vixie-dnsext-dns0x20). */
static void apply_0x20(uint8_t *name)
{
	uint8_t bits[32];
	hf_rand_bytes(bits, sizeof(bits));
	size_t len = hf_name_len(name);
	for (size_t i = 0; i < len; i++) {
		uint8_t c = name[i];
		bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		if (letter && (bits[(i / 8) % sizeof(bits)] >> (i % 8) & 1))
			name[i] = c ^ 0x20;
	}
}

static int build_query(struct hf_upstream *u, const struct hf_upstream_query *q)
{
	struct hf_build b;
	uint8_t *msg = u->query + 2;
	int ret = hf_build_init(&b, msg, QUERY_MAX, u->key.id, 0);  /* RD clear: iterative */
	if (ret == 0)
		ret = hf_build_question(&b, u->key.qname, q->qtype, q->qclass);
	if (ret == 0 && q->edns) {
		/* DO: keep the RRSIGs now, so validation (issue 5) and DO clients have them. */
		ret = hf_build_opt_begin(&b, HF_UPSTREAM_EDNS_SIZE, 0, 0, HF_EDNS_FLAG_DO);
		if (ret == 0)
			ret = hf_build_opt_end(&b);
	}
	if (ret < 0)
		return ret;
	ret = hf_build_finish(&b);
	if (ret < 0)
		return ret;
	u->qlen = (uint16_t)ret;
	hf_wire_put_u16(u->query, u->qlen);
	return 0;
}

int hf_upstream_send(uv_loop_t *loop, const struct hf_upstream_query *q, hf_upstream_cb cb,
		     void *ctx, struct hf_upstream **out)
{
	struct hf_upstream *u = calloc(1, sizeof(*u));
	if (u == NULL)
		return -ENOMEM;
	int ret = -ENOMEM;
	u->rbuf = malloc(q->tcp ? TCP_RECV_MAX : UDP_RECV_MAX);
	if (u->rbuf == NULL)
		goto err_free;
	u->loop = loop;
	u->cb = cb;
	u->ctx = ctx;
	u->tcp = q->tcp;
	u->key.to = q->to;
	u->key.qtype = q->qtype;
	u->key.qclass = q->qclass;
	uint16_t id;
	hf_rand_bytes(&id, sizeof(id));
	u->key.id = id;
	memcpy(u->key.qname, q->qname, hf_name_len(q->qname));
	if (q->use_0x20)
		apply_0x20(u->key.qname);
	ret = build_query(u, q);
	if (ret < 0)
		goto err_free;

	ret = uv_timer_init(loop, &u->timer);
	if (ret < 0)
		goto err_free;
	u->timer.data = u;
	u->open_handles = 1;
	u->sock.handle.data = u;
	if (q->tcp) {
		ret = uv_tcp_init(loop, &u->sock.tcp);
		if (ret < 0)
			goto err_close;
		u->sock_open = true;
		u->open_handles++;
		u->sock.handle.data = u;
		u->conn.data = u;
		ret = uv_tcp_connect(&u->conn, &u->sock.tcp, &q->to.sa, tcp_connected);
	} else {
		ret = uv_udp_init(loop, &u->sock.udp);
		if (ret < 0)
			goto err_close;
		u->sock_open = true;
		u->open_handles++;
		u->sock.handle.data = u;
		union hf_addr any;
		memset(&any, 0, sizeof(any));
		any.sa.sa_family = q->to.sa.sa_family;
		/* Port 0: the kernel picks a random ephemeral port for each socket. */
		ret = uv_udp_bind(&u->sock.udp, &any.sa, 0);
		if (ret == 0)
			ret = uv_udp_connect(&u->sock.udp, &q->to.sa);
		if (ret == 0)
			ret = uv_udp_recv_start(&u->sock.udp, udp_alloc, udp_recv);
		if (ret == 0) {
			uv_buf_t b = uv_buf_init((char *)u->query + 2, u->qlen);
			int n = uv_udp_try_send(&u->sock.udp, &b, 1, NULL);
			ret = n < 0 ? n : 0;
		}
	}
	if (ret < 0)
		goto err_close;
	u->sent_at = uv_now(loop);
	ret = uv_timer_start(&u->timer, on_timeout, q->timeout_ms, 0);
	if (ret < 0)
		goto err_close;
	*out = u;
	return 0;

err_close:
	/* Handles are open: let their close callbacks free u. */
	u->done = true;
	shut(u);
	return ret;
err_free:
	free(u->rbuf);
	free(u);
	return ret;
}
