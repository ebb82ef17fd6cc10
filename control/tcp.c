/*
 * DNS over TCP; see control/tcp.h for the behaviour.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "control/log.h"
#include "control/tcp.h"
#include "include/holdfast/build.h"
#include "include/holdfast/errcode.h"
#include "include/holdfast/pkt.h"

#define HF_TCP_FRAME_MAX  (2 + 65535)  /* a length prefix and the largest message */
#define HF_TCP_BUF_MIN    1024         /* first receive buffer, grown on demand */
#define HF_TCP_WQUEUE_MAX (256 * 1024) /* bytes queued to a client before we stop reading it */

struct hf_tcp_conn;

/* A query being resolved; on the server's list until its callback runs. */
struct hf_tcp_query {
	struct hf_tcp_query *next, *prev;
	struct hf_tcp *srv;
	struct hf_tcp_conn *conn;      /* NULL once the connection closed */
	struct hf_client_question cq;
};

struct hf_tcp_conn {
	uv_tcp_t h;
	uv_timer_t idle;
	struct hf_tcp *srv;
	struct hf_tcp_conn *next, *prev;
	uint8_t *buf;
	size_t len, cap;
	unsigned inflight;
	unsigned open_handles;
	bool reading, closing, eof;
	uv_shutdown_t shutdown;
};

struct hf_tcp {
	uv_loop_t *loop;
	struct hf_tcp_config cfg;
	unsigned n_listeners;
	uv_tcp_t *listeners;
	struct hf_tcp_conn conns;      /* list head */
	unsigned n_conns;
	struct hf_tcp_query queries;   /* list head */
	unsigned refs;                 /* self, listeners and connection objects */
	bool closing;
	struct hf_tcp_stats stats;
};

/* A write request and its data, freed together. */
struct hf_tcp_write {
	uv_write_t req;
	uint8_t data[2 + HF_TCP_ANSWER_MAX];
};

static void hf_tcp_conn_close(struct hf_tcp_conn *c);
static void hf_tcp_process(struct hf_tcp_conn *c);
static void hf_tcp_conn_finish(struct hf_tcp_conn *c);
static void hf_tcp_resume(struct hf_tcp_conn *c);
static void hf_tcp_unref(struct hf_tcp *srv);

/* May the connection take another query? Answers that are never read pile
 * up in the write queue (local answers need no resolution, so the in-flight
 * limit alone does not bound them): stop reading until the client reads. */
static bool hf_tcp_can_take(const struct hf_tcp_conn *c)
{
	return c->inflight < HF_TCP_INFLIGHT_MAX &&
	       uv_stream_get_write_queue_size((const uv_stream_t *)&c->h) < HF_TCP_WQUEUE_MAX;
}

/* ---- rendering ----------------------------------------------------------- */

static void hf_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int hf_tcp_render(const struct hf_client_question *cq, const struct hf_rendered *ans,
		  uint8_t *out, size_t cap)
{
	struct hf_pkt p;
	uint16_t flags, rcode = ans->rcode, arcount;
	size_t sections, len;
	bool ad;

	if (ans->msg_len > sizeof(ans->msg) || ans->ede_len > sizeof(ans->ede) ||
	    hf_pkt_parse(&p, ans->msg, ans->msg_len, NULL, 0) < 0 || !p.has_question ||
	    p.question_end - HF_DNS_HEADER_SIZE != cq->question_len)
		return -EINVAL;
	sections = ans->msg_len - p.question_end;
	len = HF_DNS_HEADER_SIZE + cq->question_len + sections +
	      (cq->edns ? HF_OPT_RR_FIXED + ans->ede_len : 0);
	if (len > cap)
		return HF_ESPACE;
	if (!cq->edns && rcode > 15)
		rcode = HF_RCODE_SERVFAIL;  /* an extended rcode cannot be expressed */

	/* RFC 6840 §5.7-5.8: AD only for a client that showed it understands it. */
	ad = (ans->flags & HF_FILL_AD) &&
	     ((cq->edns && (cq->edns_flags & HF_EDNS_FLAG_DO)) || (cq->flags & HF_FLAG_AD));
	flags = (uint16_t)(HF_FLAG_QR | HF_FLAG_RA | (cq->flags & (HF_FLAG_RD | HF_FLAG_CD)) |
			   (p.flags & HF_FLAG_TC) | (ad ? HF_FLAG_AD : 0) | (rcode & 0xf));
	arcount = (uint16_t)(p.arcount + (cq->edns ? 1 : 0));
	hf_put16(out, cq->id);
	hf_put16(out + 2, flags);
	hf_put16(out + 4, 1);
	hf_put16(out + 6, p.ancount);
	hf_put16(out + 8, p.nscount);
	hf_put16(out + 10, arcount);
	/* The client's question as written, then the sections: the names have
	 * the same length, so every compression pointer still lands right. */
	memcpy(out + HF_DNS_HEADER_SIZE, cq->question, cq->question_len);
	memcpy(out + HF_DNS_HEADER_SIZE + cq->question_len, ans->msg + p.question_end, sections);
	if (cq->edns) {
		uint8_t *o = out + HF_DNS_HEADER_SIZE + cq->question_len + sections;

		o[0] = 0;                                   /* root owner */
		hf_put16(o + 1, HF_TYPE_OPT);
		hf_put16(o + 3, HF_TCP_EDNS_SIZE);
		o[5] = (uint8_t)(rcode >> 4);               /* extended rcode */
		o[6] = 0;                                   /* version */
		hf_put16(o + 7, cq->edns_flags & HF_EDNS_FLAG_DO);
		hf_put16(o + 9, ans->ede_len);
		memcpy(o + 11, ans->ede, ans->ede_len);
	}
	return (int)len;
}

/* ---- writing ------------------------------------------------------------- */

static void hf_tcp_on_written(uv_write_t *req, int status)
{
	struct hf_tcp_write *w = (struct hf_tcp_write *)req;

	struct hf_tcp_conn *c = req->handle->data;

	free(w);
	if (status == UV_ECANCELED)
		return;  /* the connection is closing; c may be going away */
	if (status < 0) {
		hf_log_debug(TCP, "write failed: %s", uv_strerror(status));
		hf_tcp_conn_close(c);
		return;
	}
	if (!c->closing && !c->reading) {
		/* The client read: take what it sent meanwhile, read on. */
		hf_tcp_process(c);
		hf_tcp_resume(c);
	}
}

/* Queue one framed message (data at w->data + 2, len bytes). */
static void hf_tcp_send(struct hf_tcp_conn *c, struct hf_tcp_write *w, size_t len)
{
	uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)(len + 2));

	hf_put16(w->data, (uint16_t)len);
	if (uv_write(&w->req, (uv_stream_t *)&c->h, &b, 1, hf_tcp_on_written) < 0) {
		free(w);
		hf_tcp_conn_close(c);
		return;
	}
	c->srv->stats.answers++;
}

static void hf_tcp_answer(struct hf_tcp_conn *c, const struct hf_client_question *cq,
			  const struct hf_rendered *ans)
{
	struct hf_tcp_write *w = malloc(sizeof(*w));
	int len;

	if (!w)
		return;
	len = hf_tcp_render(cq, ans, w->data + 2, HF_TCP_ANSWER_MAX);
	if (len < 0) {
		hf_log_warning(TCP, "answer cannot be rendered for the client: %s",
			       hf_strerror(len));
		free(w);
		return;
	}
	hf_tcp_send(c, w, (size_t)len);
}

/* An error response with the client's header and question: FORMERR, NOTIMP,
 * REFUSED, BADVERS (rcode > 15 goes to OPT when the client sent one). */
static void hf_tcp_error(struct hf_tcp_conn *c, const struct hf_pkt *p, uint16_t rcode)
{
	struct hf_tcp_write *w = malloc(sizeof(*w));
	uint8_t *msg;
	struct hf_build b;
	uint16_t flags;
	int len;

	if (!w)
		return;
	msg = w->data + 2;
	flags = (uint16_t)(HF_FLAG_QR | (p->flags & (0xf << 11)) | (p->flags & HF_FLAG_RD) |
			   HF_FLAG_RA | (rcode & 0xf));
	hf_build_init(&b, msg, HF_TCP_ANSWER_MAX, p->id, flags);
	if (p->has_question && p->question_end <= HF_TCP_ANSWER_MAX) {
		memcpy(msg + HF_DNS_HEADER_SIZE, p->wire + HF_DNS_HEADER_SIZE,
		       p->question_end - HF_DNS_HEADER_SIZE);
		hf_build_keep_question(&b, p->question_end);
	}
	if (p->edns.present) {
		hf_build_opt_begin(&b, HF_TCP_EDNS_SIZE, (uint8_t)(rcode >> 4), 0,
				   p->edns.flags & HF_EDNS_FLAG_DO);
		hf_build_opt_end(&b);
	}
	len = hf_build_finish(&b);
	if (len < 0) {
		free(w);
		return;
	}
	hf_tcp_send(c, w, (size_t)len);
}

/* ---- queries ------------------------------------------------------------- */

static void hf_tcp_query_free(struct hf_tcp_query *q)
{
	q->prev->next = q->next;
	q->next->prev = q->prev;
	free(q);
}

static void hf_tcp_idle_restart(struct hf_tcp_conn *c);

static void hf_tcp_on_answer(void *ctx, const struct hf_rendered *ans)
{
	struct hf_tcp_query *q = ctx;
	struct hf_tcp_conn *c = q->conn;

	if (c) {
		hf_tcp_answer(c, &q->cq, ans);
		c->inflight--;
	}
	hf_tcp_query_free(q);
	if (c && !c->closing) {
		/* Room for another query: take what is buffered, read on. */
		hf_tcp_process(c);
		hf_tcp_resume(c);
		hf_tcp_idle_restart(c);
	}
}

/* Handle one message. Returns false if the connection must close. */
static bool hf_tcp_query(struct hf_tcp_conn *c, const uint8_t *wire, size_t len)
{
	struct hf_tcp *srv = c->srv;
	struct hf_tcp_query *q;
	struct hf_rendered *ans;
	struct hf_pkt p;
	int rc;

	rc = hf_pkt_parse(&p, wire, len, NULL, 0);
	if (!p.header_ok || (p.flags & HF_FLAG_QR))
		return false;  /* not a query we could even address an answer to */
	srv->stats.queries++;
	if (rc < 0 || !p.has_question) {
		srv->stats.formerr++;
		hf_log_debug(TCP, "malformed query: %s", hf_strerror(rc));
		hf_tcp_error(c, &p, HF_RCODE_FORMERR);
		return true;
	}
	if (HF_FLAGS_OPCODE(p.flags) != HF_OPCODE_QUERY) {
		hf_tcp_error(c, &p, HF_RCODE_NOTIMP);
		return true;
	}
	if (p.edns.present && p.edns.version > 0) {
		hf_tcp_error(c, &p, HF_RCODE_BADVERS);
		return true;
	}
	if (p.qclass != HF_CLASS_IN) {
		hf_tcp_error(c, &p, HF_RCODE_REFUSED);
		return true;
	}
	if (p.qtype == HF_TYPE_OPT) {
		srv->stats.formerr++;
		hf_tcp_error(c, &p, HF_RCODE_FORMERR);
		return true;
	}
	if (p.qtype == HF_TYPE_AXFR || p.qtype == HF_TYPE_IXFR) {
		hf_tcp_error(c, &p, HF_RCODE_REFUSED);  /* a resolver has no zones to transfer */
		return true;
	}

	q = calloc(1, sizeof(*q));
	if (!q)
		return false;
	q->srv = srv;
	q->cq.id = p.id;
	q->cq.flags = p.flags;
	q->cq.edns = p.edns.present;
	q->cq.edns_flags = p.edns.flags;
	q->cq.question_len = (uint16_t)(p.question_end - HF_DNS_HEADER_SIZE);
	memcpy(q->cq.question, wire + HF_DNS_HEADER_SIZE, q->cq.question_len);

	if (hf_local_match(srv->cfg.local, p.qname)) {
		ans = malloc(sizeof(*ans));
		if (ans && hf_local_answer(srv->cfg.local, p.qname, p.qtype, p.qclass, ans) == 1)
			hf_tcp_answer(c, &q->cq, ans);
		free(ans);
		free(q);
		return true;
	}

	q->conn = c;
	q->next = &srv->queries;
	q->prev = srv->queries.prev;
	srv->queries.prev->next = q;
	srv->queries.prev = q;
	c->inflight++;
	rc = hf_resolver_resolve(srv->cfg.resolver, p.qname, p.qtype, p.qclass,
				 (uint8_t)(((p.edns.flags & HF_EDNS_FLAG_DO) ? HF_VARIANT_DO : 0) |
					   ((p.flags & HF_FLAG_CD) ? HF_VARIANT_CD : 0)),
				 hf_tcp_on_answer, q);
	if (rc < 0) {
		c->inflight--;
		hf_tcp_query_free(q);
		hf_tcp_error(c, &p, HF_RCODE_SERVFAIL);
	}
	return true;
}

/* Take every complete frame from the buffer, as long as the in-flight limit
 * allows; then read more, or stop reading until an answer leaves. */
static void hf_tcp_process(struct hf_tcp_conn *c)
{
	size_t off = 0;

	while (!c->closing && hf_tcp_can_take(c) && c->len - off >= 2) {
		size_t flen = (size_t)c->buf[off] << 8 | c->buf[off + 1];

		if (flen == 0 || flen < HF_DNS_HEADER_SIZE) {
			c->srv->stats.closed_bad++;
			hf_tcp_conn_close(c);
			return;
		}
		if (c->len - off < 2 + flen)
			break;
		if (!hf_tcp_query(c, c->buf + off + 2, flen)) {
			c->srv->stats.closed_bad++;
			hf_tcp_conn_close(c);
			return;
		}
		off += 2 + flen;
	}
	if (c->closing)
		return;
	if (off) {
		memmove(c->buf, c->buf + off, c->len - off);
		c->len -= off;
	}
	if (!hf_tcp_can_take(c) && c->reading) {
		if (c->inflight < HF_TCP_INFLIGHT_MAX)
			c->srv->stats.throttled++;
		uv_read_stop((uv_stream_t *)&c->h);
		c->reading = false;
	}
	if (c->eof && !c->inflight)
		hf_tcp_conn_finish(c);
}

/* ---- connections --------------------------------------------------------- */

static void hf_tcp_on_conn_closed(uv_handle_t *h)
{
	struct hf_tcp_conn *c = h->data;
	struct hf_tcp *srv = c->srv;

	if (--c->open_handles)
		return;
	free(c->buf);
	free(c);
	hf_tcp_unref(srv);
}

static void hf_tcp_conn_close(struct hf_tcp_conn *c)
{
	struct hf_tcp *srv = c->srv;

	if (c->closing)
		return;
	c->closing = true;
	/* Answers still to come go nowhere; the queries are freed when they come. */
	for (struct hf_tcp_query *q = srv->queries.next; q != &srv->queries; q = q->next)
		if (q->conn == c)
			q->conn = NULL;
	c->prev->next = c->next;
	c->next->prev = c->prev;
	srv->n_conns--;
	uv_close((uv_handle_t *)&c->idle, hf_tcp_on_conn_closed);
	uv_close((uv_handle_t *)&c->h, hf_tcp_on_conn_closed);
}

static void hf_tcp_on_shutdown(uv_shutdown_t *req, int status)
{
	(void)status;
	hf_tcp_conn_close(req->handle->data);
}

/* The client half-closed (RFC 7766 §6.2.4 lets it, after its last query):
 * send what is queued, then close. uv_close() alone would cancel the
 * writes still queued; uv_shutdown() runs after them. */
static void hf_tcp_conn_finish(struct hf_tcp_conn *c)
{
	if (c->closing || c->shutdown.handle)
		return;
	if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->h, hf_tcp_on_shutdown) < 0)
		hf_tcp_conn_close(c);
}

static void hf_tcp_on_idle(uv_timer_t *t)
{
	struct hf_tcp_conn *c = t->data;

	if (c->inflight) {
		hf_tcp_idle_restart(c);
		return;
	}
	c->srv->stats.idle_closed++;
	hf_tcp_conn_close(c);
}

static void hf_tcp_idle_restart(struct hf_tcp_conn *c)
{
	if (!c->closing)
		uv_timer_start(&c->idle, hf_tcp_on_idle, HF_TCP_IDLE_MS, 0);
}

static void hf_tcp_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct hf_tcp_conn *c = h->data;

	(void)suggested;
	/* Grow only when a frame needs it: most queries are under 100 bytes,
	 * and 256 connections with 64 KiB each would be 16 MiB for nothing. */
	if (c->cap - c->len < 512 && c->cap < HF_TCP_FRAME_MAX) {
		size_t cap = c->cap * 2 > HF_TCP_FRAME_MAX ? HF_TCP_FRAME_MAX : c->cap * 2;
		uint8_t *nb = realloc(c->buf, cap);

		if (nb) {
			c->buf = nb;
			c->cap = cap;
		}
	}
	*buf = uv_buf_init((char *)c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void hf_tcp_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct hf_tcp_conn *c = s->data;

	(void)buf;
	if (n == UV_EOF) {
		/* Answer what was asked, then close. */
		uv_read_stop(s);
		c->reading = false;
		c->eof = true;
		hf_tcp_process(c);
		return;
	}
	if (n < 0) {
		hf_tcp_conn_close(c);  /* a reset: pending answers go nowhere */
		return;
	}
	if (n == 0)
		return;
	c->len += (size_t)n;
	hf_tcp_idle_restart(c);
	hf_tcp_process(c);
	/* The buffer is full of one frame that never completes (cannot happen
	 * with a 65537-byte buffer) or memory ran out while growing it. */
	if (!c->closing && c->len == c->cap && hf_tcp_can_take(c)) {
		c->srv->stats.closed_bad++;
		hf_tcp_conn_close(c);
	}
}

static void hf_tcp_resume(struct hf_tcp_conn *c)
{
	if (!c->closing && !c->reading && !c->eof && hf_tcp_can_take(c) &&
	    uv_read_start((uv_stream_t *)&c->h, hf_tcp_on_alloc, hf_tcp_on_read) == 0)
		c->reading = true;
}

static void hf_tcp_on_rejected(uv_handle_t *h)
{
	free(h);
}

static void hf_tcp_on_connection(uv_stream_t *listener, int status)
{
	struct hf_tcp *srv = listener->data;
	struct hf_tcp_conn *c;

	if (status < 0 || srv->closing)
		return;
	if (srv->n_conns >= HF_TCP_CONN_MAX) {
		uv_tcp_t *t = malloc(sizeof(*t));

		/* Accept and close at once: left in the kernel's backlog, the
		 * client would wait for its own timeout instead of retrying. */
		if (t && uv_tcp_init(srv->loop, t) == 0) {
			uv_accept(listener, (uv_stream_t *)t);
			uv_close((uv_handle_t *)t, hf_tcp_on_rejected);
		} else {
			free(t);
		}
		if (srv->stats.refused++ == 0)
			hf_log_warning(TCP, "more than %u connections: refusing more (counted)",
				       HF_TCP_CONN_MAX);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->buf = malloc(HF_TCP_BUF_MIN);
	if (!c->buf) {
		free(c);
		return;
	}
	c->cap = HF_TCP_BUF_MIN;
	c->srv = srv;
	uv_tcp_init(srv->loop, &c->h);
	uv_timer_init(srv->loop, &c->idle);
	c->h.data = c->idle.data = c;
	c->open_handles = 2;
	srv->refs++;
	c->next = &srv->conns;
	c->prev = srv->conns.prev;
	srv->conns.prev->next = c;
	srv->conns.prev = c;
	srv->n_conns++;
	if (uv_accept(listener, (uv_stream_t *)&c->h) < 0) {
		hf_tcp_conn_close(c);
		return;
	}
	srv->stats.accepted++;
	uv_tcp_nodelay(&c->h, 1);
	hf_tcp_idle_restart(c);
	hf_tcp_resume(c);
}

/* ---- server -------------------------------------------------------------- */

static void hf_tcp_addr_text(const struct sockaddr_storage *ss, char *out, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(out, size, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(out, size, "%s:%u", ip, ntohs(s4->sin_port));
	}
}

static void hf_tcp_unref(struct hf_tcp *srv)
{
	if (--srv->refs == 0) {
		free(srv->listeners);
		free(srv);
	}
}

static void hf_tcp_on_listener_closed(uv_handle_t *h)
{
	hf_tcp_unref(h->data);
}

struct hf_tcp *hf_tcp_create(uv_loop_t *loop, const struct hf_tcp_config *cfg, char *err,
			     size_t err_size)
{
	struct hf_tcp *srv = calloc(1, sizeof(*srv));
	char addr[INET6_ADDRSTRLEN + 8];
	int rc;

	if (!srv)
		return NULL;
	srv->listeners = calloc(cfg->n_addrs ? cfg->n_addrs : 1, sizeof(*srv->listeners));
	if (!srv->listeners) {
		free(srv);
		return NULL;
	}
	srv->loop = loop;
	srv->cfg = *cfg;
	srv->refs = 1;
	srv->conns.next = srv->conns.prev = &srv->conns;
	srv->queries.next = srv->queries.prev = &srv->queries;
	for (unsigned i = 0; i < cfg->n_addrs; i++) {
		uv_tcp_t *l = &srv->listeners[i];
		const struct sockaddr *sa = (const struct sockaddr *)&cfg->addrs[i];

		hf_tcp_addr_text(&cfg->addrs[i], addr, sizeof(addr));
		uv_tcp_init(loop, l);
		l->data = srv;
		srv->n_listeners++;
		srv->refs++;
		rc = uv_tcp_bind(l, sa, sa->sa_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0);
		if (rc == 0)
			rc = uv_listen((uv_stream_t *)l, 128, hf_tcp_on_connection);
		if (rc < 0) {
			snprintf(err, err_size, "listen-tcp %s: %s", addr, uv_strerror(rc));
			hf_tcp_close(srv);
			return NULL;
		}
		hf_log_info(TCP, "listening on %s", addr);
	}
	return srv;
}

int hf_tcp_local_addr(const struct hf_tcp *tcp, unsigned i, struct sockaddr_storage *out)
{
	int len = sizeof(*out);

	if (i >= tcp->n_listeners)
		return -EINVAL;
	return uv_tcp_getsockname(&tcp->listeners[i], (struct sockaddr *)out, &len);
}

const struct hf_tcp_stats *hf_tcp_stats(const struct hf_tcp *tcp)
{
	return &tcp->stats;
}

void hf_tcp_close(struct hf_tcp *tcp)
{
	if (!tcp || tcp->closing)
		return;
	tcp->closing = true;
	while (tcp->queries.next != &tcp->queries)
		hf_tcp_query_free(tcp->queries.next);
	while (tcp->conns.next != &tcp->conns)
		hf_tcp_conn_close(tcp->conns.next);
	for (unsigned i = 0; i < tcp->n_listeners; i++)
		uv_close((uv_handle_t *)&tcp->listeners[i], hf_tcp_on_listener_closed);
	hf_tcp_unref(tcp);  /* the last close callback frees it */
}
