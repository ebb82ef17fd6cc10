/*
 * UDP and TCP query transport with response matching.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "include/holdfast/build.h"
#include "include/holdfast/defines.h"
#include "include/holdfast/name.h"
#include "include/holdfast/wire_ctx.h"
#include "control/resolver/match.h"
#include "control/resolver/rand.h"
#include "control/resolver/upstream.h"

#define QUERY_MAX 512          /*!< a query: header, question, OPT */
/* We advertise HF_UPSTREAM_EDNS_SIZE; a larger datagram is cut by the kernel, fails to
 * parse and is ignored. */
#define UDP_RECV_MAX 4096
#define TCP_RECV_MAX (2 + UINT16_MAX)
#define POOL_BUCKETS 256       /*!< server addresses hashed per loop */

struct server;
struct pool;

/* A UDP socket connected to one server, shared by up to HF_UPSTREAM_SOCK_INFLIGHT queries. */
struct usock {
	uv_udp_t udp;
	uv_timer_t timer;          /*!< idle close, or the deferred failure of its queries */
	struct pool *pool;
	struct server *srv;        /*!< NULL once retired: takes no new queries */
	unsigned slot;
	unsigned open_handles;
	unsigned uses;
	unsigned n_pending;
	uint64_t born_ms;
	int err;                   /*!< failure to give the pending queries (deferred) */
	bool closing;
	struct hf_upstream *pending[HF_UPSTREAM_SOCK_INFLIGHT];
	uint8_t rbuf[UDP_RECV_MAX];
};

struct server {
	union hf_addr addr;
	struct server *next;       /*!< hash chain */
	struct usock *slot[HF_UPSTREAM_POOL_SOCKS];
};

/* The sockets of one loop; freed when its last socket has closed. */
struct pool {
	uv_loop_t *loop;
	struct pool *next;
	unsigned n_socks;          /*!< open sockets, retired ones included */
	struct server *bucket[POOL_BUCKETS];
};

/* One loop per thread runs the resolver; callbacks never nest, so one parse
 * area per thread serves every response (it is valid during the callback). */
static _Thread_local struct pool *pools;
static _Thread_local struct hf_rr rr_scratch[HF_UPSTREAM_MAX_RR];

struct hf_upstream {
	uv_loop_t *loop;
	union {
		uv_tcp_t tcp;
		uv_handle_t handle;
	} sock;                 /*!< TCP only */
	uv_timer_t timer;
	uv_connect_t conn;
	uv_write_t wr;
	bool tcp;
	bool sock_open;
	bool done;              /*!< result delivered or cancelled */
	unsigned open_handles;
	struct usock *us;       /*!< UDP: the socket it waits on */
	hf_upstream_cb cb;
	void *ctx;
	uint64_t sent_at;
	struct hf_match_key key;
	unsigned n_case, n_ignored;
	uint16_t qlen;
	uint8_t query[2 + QUERY_MAX];   /*!< TCP length prefix, then the query */
	uint32_t rlen;                  /*!< octets received (TCP: including the prefix) */
	uint8_t *rbuf;                  /*!< TCP only */
};

/* ---- the socket pool ---- */

static struct pool *pool_get(uv_loop_t *loop)
{
	for (struct pool *p = pools; p != NULL; p = p->next)
		if (p->loop == loop)
			return p;
	struct pool *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->loop = loop;
	p->next = pools;
	pools = p;
	return p;
}

static void pool_put(struct pool *p)
{
	if (p->n_socks > 0)
		return;
	for (struct pool **pp = &pools; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	free(p);
}

static struct server **server_bucket(struct pool *p, const union hf_addr *a)
{
	/* FNV-1a over address and port: only our own choice of servers lands here. */
	const uint8_t *o = a->sa.sa_family == AF_INET6 ? (const uint8_t *)&a->in6.sin6_addr
						       : (const uint8_t *)&a->in.sin_addr;
	size_t n = a->sa.sa_family == AF_INET6 ? 16 : 4;
	uint32_t h = 2166136261u ^ a->in.sin_port;
	for (size_t i = 0; i < n; i++)
		h = (h ^ o[i]) * 16777619u;
	return &p->bucket[h % POOL_BUCKETS];
}

static struct server *server_get(struct pool *p, const union hf_addr *a)
{
	struct server **b = server_bucket(p, a);
	for (struct server *s = *b; s != NULL; s = s->next)
		if (hf_addr_equal(&s->addr, a))
			return s;
	struct server *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->addr = *a;
	s->next = *b;
	*b = s;
	return s;
}

/* Forget the server once none of its slots holds a socket. */
static void server_put(struct pool *p, struct server *s)
{
	for (unsigned i = 0; i < HF_UPSTREAM_POOL_SOCKS; i++)
		if (s->slot[i] != NULL)
			return;
	for (struct server **pp = server_bucket(p, &s->addr); *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	free(s);
}

static void usock_on_close(uv_handle_t *h)
{
	struct usock *us = h->data;
	if (--us->open_handles > 0)
		return;
	struct pool *p = us->pool;
	free(us);
	p->n_socks--;
	pool_put(p);
}

static void usock_close(struct usock *us)
{
	if (us->closing)
		return;
	us->closing = true;
	uv_timer_stop(&us->timer);
	uv_close((uv_handle_t *)&us->timer, usock_on_close);
	uv_close((uv_handle_t *)&us->udp, usock_on_close);
}

/* No new queries on it; it closes when its last one is done. */
static void usock_retire(struct usock *us)
{
	struct server *srv = us->srv;
	if (srv != NULL) {
		us->srv = NULL;
		srv->slot[us->slot] = NULL;
		server_put(us->pool, srv);
	}
	if (us->n_pending == 0)
		usock_close(us);
}

static void usock_on_idle(uv_timer_t *t)
{
	struct usock *us = t->data;
	if (us->n_pending == 0)
		usock_retire(us);
}

static void usock_detach(struct hf_upstream *u)
{
	struct usock *us = u->us;
	if (us == NULL)
		return;
	u->us = NULL;
	for (unsigned i = 0; i < us->n_pending; i++) {
		if (us->pending[i] == u) {
			us->pending[i] = us->pending[--us->n_pending];
			break;
		}
	}
	if (us->n_pending > 0 || us->closing)
		return;
	if (us->srv == NULL)
		usock_close(us);
	else if (us->err == 0)
		uv_timer_start(&us->timer, usock_on_idle, HF_UPSTREAM_SOCK_IDLE_MS, 0);
}

static void finish(struct hf_upstream *u, int status, const struct hf_pkt *pkt);

/* Every query in flight on the socket fails with us->err (they all went to its server). */
static void usock_fail_all(struct usock *us)
{
	usock_retire(us);
	/* finish() detaches each; a callback may cancel others, so re-read the count. */
	while (us->n_pending > 0)
		finish(us->pending[us->n_pending - 1], us->err, NULL);
}

static void usock_on_deferred_fail(uv_timer_t *t)
{
	usock_fail_all(t->data);
}

/* Called in the send path, where the caller's callbacks must not run: fail them on the next turn. */
static void usock_fail_later(struct usock *us, int err)
{
	us->err = err;
	usock_retire(us);
	if (!us->closing)
		uv_timer_start(&us->timer, usock_on_deferred_fail, 0, 0);
}

static void consider(struct hf_upstream *u, const union hf_addr *from, const uint8_t *wire, size_t len);

static void usock_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	struct usock *us = h->data;
	buf->base = (char *)us->rbuf;
	buf->len = UDP_RECV_MAX;
}

static void usock_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
		       unsigned flags)
{
	(void)buf;
	(void)flags;
	struct usock *us = h->data;
	if (us->closing)
		return;
	if (nread < 0) {
		us->err = (int)nread;  /* libuv errors are negative errno on Linux */
		usock_fail_all(us);
		return;
	}
	if (addr == NULL)
		return;  /* nothing more to read this round */
	union hf_addr from;
	memset(&from, 0, sizeof(from));
	memcpy(&from, addr, addr->sa_family == AF_INET6 ? sizeof(from.in6) : sizeof(from.in));
	if (nread >= 2) {
		uint16_t id = hf_wire_get_u16(us->rbuf);
		for (unsigned i = 0; i < us->n_pending; i++) {
			if (us->pending[i]->key.id == id) {
				consider(us->pending[i], &from, us->rbuf, (size_t)nread);
				return;
			}
		}
	}
	/* Not an ID in flight here (a forgery, or a late answer): every waiting query saw it. */
	for (unsigned i = 0; i < us->n_pending; i++)
		us->pending[i]->n_ignored++;
}

static void usock_free_early(uv_handle_t *h)
{
	free(h->data);
}

/*
 * Read what the kernel holds for the socket now. After a stall of this
 * process, libuv runs the timers that fell due before it polls the sockets,
 * so an answer that came in time would be taken for a timeout (and the query
 * sent again, adding load just when the host is busiest): a query's timeout
 * first reads its socket.
 */
static void usock_drain(struct usock *us)
{
	uv_os_fd_t fd;
	if (us->closing || uv_fileno((const uv_handle_t *)&us->udp, &fd) != 0)
		return;
	for (unsigned i = 0; i < 2 * HF_UPSTREAM_SOCK_INFLIGHT && !us->closing; i++) {
		struct sockaddr_storage from;
		socklen_t from_len = sizeof(from);
		ssize_t n = recvfrom(fd, us->rbuf, UDP_RECV_MAX, MSG_DONTWAIT, (struct sockaddr *)&from,
				     &from_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			usock_recv(&us->udp, -errno, NULL, NULL, 0);
			return;
		}
		usock_recv(&us->udp, n, NULL, (const struct sockaddr *)&from, 0);
	}
}

static struct usock *usock_open(struct pool *p, struct server *srv, unsigned slot, int *err)
{
	struct usock *us = calloc(1, sizeof(*us));
	if (us == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	us->pool = p;
	us->udp.data = us;
	us->timer.data = us;
	int ret = uv_udp_init(p->loop, &us->udp);
	if (ret < 0) {
		free(us);
		*err = ret;
		return NULL;
	}
	ret = uv_timer_init(p->loop, &us->timer);
	if (ret < 0) {
		uv_close((uv_handle_t *)&us->udp, usock_free_early);
		*err = ret;
		return NULL;
	}
	us->open_handles = 2;
	p->n_socks++;
	union hf_addr any;
	memset(&any, 0, sizeof(any));
	any.sa.sa_family = srv->addr.sa.sa_family;
	/* Port 0: the kernel picks a random ephemeral port for each socket. */
	ret = uv_udp_bind(&us->udp, &any.sa, 0);
	if (ret == 0)
		ret = uv_udp_connect(&us->udp, &srv->addr.sa);
	if (ret == 0)
		ret = uv_udp_recv_start(&us->udp, usock_alloc, usock_recv);
	if (ret < 0) {
		usock_close(us);
		*err = ret;
		return NULL;
	}
	us->born_ms = uv_now(p->loop);
	us->srv = srv;
	us->slot = slot;
	srv->slot[slot] = us;
	return us;
}

/* A socket to addr with room for one more query: a random slot's, or a new one in it. */
static struct usock *usock_for(struct pool *p, const union hf_addr *addr, int *err)
{
	struct server *srv = server_get(p, addr);
	if (srv == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	unsigned slot = hf_rand_u32() % HF_UPSTREAM_POOL_SOCKS;
	struct usock *us = srv->slot[slot];
	if (us != NULL && (us->uses >= HF_UPSTREAM_SOCK_USES || us->n_pending >= HF_UPSTREAM_SOCK_INFLIGHT ||
			   uv_now(p->loop) - us->born_ms >= HF_UPSTREAM_SOCK_LIFE_MS)) {
		usock_retire(us);  /* may free srv: look it up again */
		us = NULL;
		srv = server_get(p, addr);
		if (srv == NULL) {
			*err = -ENOMEM;
			return NULL;
		}
	}
	if (us == NULL)
		us = usock_open(p, srv, slot, err);
	if (us == NULL)
		server_put(p, srv);
	return us;
}

/* Put u on a socket to its server with an ID not in flight there, and send it. */
static int udp_send(struct hf_upstream *u)
{
	struct pool *p = pool_get(u->loop);
	if (p == NULL)
		return -ENOMEM;
	int ret = 0;
	/* A send can report an ICMP error that belongs to the socket's earlier queries:
	 * those fail (on the next turn) and this one is tried on another socket; each
	 * failure retires one, so the last attempt is on a fresh socket at the latest. */
	for (int attempt = 0; attempt <= HF_UPSTREAM_POOL_SOCKS; attempt++) {
		struct usock *us = usock_for(p, &u->key.to, &ret);
		if (us == NULL)
			break;
		bool clash;
		do {
			uint16_t id;
			hf_rand_bytes(&id, sizeof(id));
			u->key.id = id;
			clash = false;
			for (unsigned i = 0; i < us->n_pending; i++)
				clash |= us->pending[i]->key.id == id;
		} while (clash);
		hf_wire_put_u16(u->query + 2, u->key.id);
		uv_buf_t b = uv_buf_init((char *)u->query + 2, u->qlen);
		int n = uv_udp_try_send(&us->udp, &b, 1, NULL);
		if (n >= 0) {
			us->uses++;
			us->pending[us->n_pending++] = u;
			u->us = us;
			uv_timer_stop(&us->timer);
			return 0;
		}
		ret = n;
		if (us->n_pending > 0)
			usock_fail_later(us, n);
		else
			usock_retire(us);
		if (n != UV_ECONNREFUSED && n != UV_EHOSTUNREACH && n != UV_ENETUNREACH)
			break;
	}
	pool_put(p);
	return ret;
}

/* ---- one query ---- */

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
	usock_detach(u);
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
	/* Off the socket before the callback, which may send the next query on it. */
	usock_detach(u);
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
	struct hf_upstream *u = t->data;
	/* Its answer may be waiting unread (usock_drain()); u stays allocated
	 * until its timer has closed, so it can be looked at afterwards. */
	if (u->us != NULL)
		usock_drain(u->us);
	if (!u->done)
		finish(u, -ETIMEDOUT, NULL);
}

/* Match and deliver, or count and keep waiting. */
static void consider(struct hf_upstream *u, const union hf_addr *from, const uint8_t *wire, size_t len)
{
	struct hf_pkt pkt;
	enum hf_match m = hf_match_response(&u->key, from, wire, len, &pkt, rr_scratch, HF_UPSTREAM_MAX_RR);
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
	if (q->tcp) {
		u->rbuf = malloc(TCP_RECV_MAX);
		if (u->rbuf == NULL)
			goto err_free;
	}
	u->loop = loop;
	u->cb = cb;
	u->ctx = ctx;
	u->tcp = q->tcp;
	u->key.to = q->to;
	u->key.qtype = q->qtype;
	u->key.qclass = q->qclass;
	uint16_t id;
	hf_rand_bytes(&id, sizeof(id));
	u->key.id = id;  /* UDP: replaced by one not in flight on the socket chosen */
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
		ret = udp_send(u);
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
