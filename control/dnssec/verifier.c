/*
 * The batch signature verifier (control/dnssec/verifier.h).
 *
 * Where a job is, from submission to its callback (one place at a time):
 *
 *   v->batch  (loop thread) --uv_check--> v->queue  (v->lock)
 *       --pool thread, up to HF_VERIFIER_BATCH per lock--> verifying (that thread)
 *       --> v->done  (v->done_lock) --eventfd--> dispatched and freed (loop thread)
 *
 * Besides, every job that has not been dispatched is in the in-flight table
 * (loop thread only), keyed by its check hash: a second identical check finds
 * it there and adds a waiter instead of a job (coalescing). The table is also
 * how hf_verifier_destroy() finds every job to free, wherever it is, once
 * the threads have been joined.
 *
 * A pool thread reads a job's key, data and signature and writes its status;
 * nothing else of the verifier's. It has its own struct hf_sig_ctx
 * (crypto.h), which keeps a verification context prepared for each of the
 * last keys it used, with a reference to the key: a key evicted from the
 * key cache lives on until that thread replaces its entry or exits. The
 * waiters, the hash links and the caches belong to the loop thread, so
 * cancellation never races with a verification: it only unhooks a waiter,
 * and the verdict still goes into the cache.
 *
 * The check hash is SHA-256 over (32 | K | len | data | len | signature),
 * where K is the key cache's hash of the DNSKEY RDATA, itself SHA-256 over
 * (len | RDATA); all 32 bytes are compared. A hit is thus as exact as
 * SHA-256 is collision-resistant: two different (key, data, signature)
 * triples with the same check hash would be a SHA-256 collision, in the
 * outer hash or in K. (Hashing K, 32 octets, rather than the RDATA, ~260
 * for RSA-2048, saves about a quarter of the hashing per check; K is known
 * anyway, the key being looked up first.) The lengths matter: without them,
 * moving the first bytes of a valid signature to the end of the data would
 * give the same input and a forged pair would hit the cache.
 *
 * Per-check costs on the loop thread, kept low because with a pool thread
 * on the same CPU they come straight off verifications per core: one
 * SHA-256 over ~40 + data + signature octets, one allocation (the job, with
 * its data, signature and first waiter inline), one copy; no system call
 * per check: the pool's condition variable is signalled only when a thread
 * waits on it, and the loop's eventfd is written only when the done list
 * was empty.
 *
 * Why an eventfd under a uv_poll and not a uv_async: libuv 1.44's
 * uv_async_send() marks the handle busy, writes its eventfd, then marks it
 * done; the loop, woken by the write, spins (997 x pause, then
 * sched_yield(), over and over) until it sees "done". When the loop thread
 * and a pool thread share a CPU, the write wakes the loop, which preempts
 * the writer inside that window and spins until the scheduler runs the
 * writer again: measured, a good part of the loop thread's time per check.
 * A bare eventfd write has no such window (the done list, under its lock,
 * is the state; the eventfd only the doorbell).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <uv.h>

#include "include/holdfast/defines.h"
#include "include/holdfast/errcode.h"
#include "control/log.h"
#include "control/dnssec/verifier.h"

#define HASH_LEN 32             /*!< SHA-256 */
#define NIL UINT32_MAX          /*!< end of a cache chain */
#define KEY_CACHE_DEFAULT 4096  /*!< parsed keys */
#define SIG_CACHE_DEFAULT 65536 /*!< verified signatures (48 B each) */
#define TABLE_MIN 256           /*!< initial buckets of the growable tables */
#define LAST_KEY_MAX 1024       /*!< longest DNSKEY RDATA whose hash is remembered */

/*! A callback waiting for a job's verdict; also hashed by ctx for cancel. */
struct waiter {
	struct waiter *next;         /*!< in the job's list */
	struct waiter *cnext, **cprev; /*!< in the ctx table's bucket */
	hf_verify_cb cb;             /*!< NULL once cancelled */
	void *ctx;
};

/*! One verification; data and signature follow the struct. */
struct job {
	struct job *next;            /*!< batch, queue, done list */
	struct job *hnext;           /*!< in-flight table chain */
	struct waiter *waiters;
	struct waiter **wtail;
	struct waiter first;         /*!< the first waiter, not allocated apart */
	EVP_PKEY *pkey;              /*!< our reference */
	uint64_t valid_until;
	size_t len, sig_len;
	int status;                  /*!< written by the pool thread */
	uint8_t alg;
	uint8_t hash[HASH_LEN];
	uint8_t bytes[];             /*!< data, then signature */
};

/*
 * A bounded cache of fixed slots, keyed by a 32-byte hash, chained through
 * slot indices and evicted by CLOCK (a hit sets ref; the hand clears it and
 * takes the first slot found clear). Used for parsed keys and for verified
 * signatures.
 */
struct slot {
	uint8_t hash[HASH_LEN];
	union {
		EVP_PKEY *pkey;
		uint64_t valid_until;
	} u;
	uint32_t next;
	uint8_t ref;
	uint8_t used;
};

struct clock_cache {
	struct slot *slots;
	uint32_t *heads;
	uint32_t mask;
	uint32_t cap, n, hand;
	bool keys;                   /*!< slots hold EVP_PKEY references */
};

struct hf_verifier {
	uv_loop_t *loop;
	uv_check_t check;            /*!< flushes the batch once per loop turn */
	uv_idle_t idle;              /*!< keeps poll from blocking while a batch waits */
	uv_poll_t wake;              /*!< on efd: results are back */
	int efd;                     /*!< eventfd the pool writes (closed with the last handle) */
	int open_handles;
	bool destroyed;              /*!< hf_verifier_destroy() was called */
	bool dispatching;            /*!< inside wake_cb's callbacks */

	/* Loop thread only. */
	struct job *batch, **batch_tail;
	size_t batch_len;
	struct job **inflight;       /*!< buckets, by hash */
	size_t inflight_mask, inflight_n;
	struct waiter **ctxs;        /*!< buckets, by ctx pointer */
	size_t ctxs_mask, ctxs_n;
	struct clock_cache keys, sigs;
	/* The last DNSKEY RDATA hashed for the key cache, and its hash: a run
	 * of checks with one key (the usual case) hashes it once. */
	uint8_t last_key[LAST_KEY_MAX];
	size_t last_key_len;         /*!< 0: none */
	uint8_t last_key_hash[HASH_LEN];
	EVP_MD *sha256;
	EVP_MD_CTX *md;
	struct hf_verifier_stats st;

	/* Shared with the pool. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *queue, **queue_tail;
	unsigned waiting;            /*!< pool threads waiting on cond */
	bool stop;
	pthread_mutex_t done_lock;
	struct job *done, **done_tail;
	pthread_t *threads;
	unsigned nthreads;
};

static uint64_t now_s(void)
{
	struct timespec ts;
	/* REALTIME, as RRSIG validity is wall-clock time (and libfaketime moves
	 * it). The coarse clock (the last tick's time, a few ms behind at
	 * most) is plenty for whole seconds, and costs a few ns where the
	 * precise one costs ~70 ns on a VM (once per check). */
	if (clock_gettime(CLOCK_REALTIME_COARSE, &ts) != 0)
		clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec;
}

static HF_COLD void log_crypto_error(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];
	ERR_error_string_n(e, buf, sizeof(buf));
	hf_log_warning(RESOLVE, "verifier: %s: %s", what, buf);
	ERR_clear_error();
}

static uint64_t hash_word(const uint8_t h[HASH_LEN])
{
	uint64_t x;
	memcpy(&x, h, sizeof(x));
	return x;
}

static size_t ptr_hash(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

/* ---- CLOCK caches ------------------------------------------------------ */

static int cc_init(struct clock_cache *c, size_t cap, bool keys)
{
	size_t nb = 1;
	if (cap > UINT32_MAX - 1)
		cap = UINT32_MAX - 1;
	while (nb < cap)
		nb <<= 1;
	c->slots = calloc(cap, sizeof(*c->slots));
	c->heads = malloc(nb * sizeof(*c->heads));
	if (c->slots == NULL || c->heads == NULL)
		return -ENOMEM;
	memset(c->heads, 0xff, nb * sizeof(*c->heads));
	c->mask = (uint32_t)(nb - 1);
	c->cap = (uint32_t)cap;
	c->keys = keys;
	return 0;
}

static void cc_free(struct clock_cache *c)
{
	if (c->keys && c->slots != NULL) {
		for (uint32_t i = 0; i < c->n; i++)
			if (c->slots[i].used)
				EVP_PKEY_free(c->slots[i].u.pkey);
	}
	free(c->slots);
	free(c->heads);
	memset(c, 0, sizeof(*c));
}

static struct slot *cc_find(struct clock_cache *c, const uint8_t h[HASH_LEN])
{
	for (uint32_t i = c->heads[hash_word(h) & c->mask]; i != NIL; i = c->slots[i].next) {
		struct slot *s = &c->slots[i];
		if (memcmp(s->hash, h, HASH_LEN) == 0)
			return s;
	}
	return NULL;
}

static void cc_unlink(struct clock_cache *c, uint32_t idx)
{
	struct slot *s = &c->slots[idx];
	uint32_t *pp = &c->heads[hash_word(s->hash) & c->mask];
	while (*pp != idx) {
		hf_require(*pp != NIL);
		pp = &c->slots[*pp].next;
	}
	*pp = s->next;
	if (c->keys)
		EVP_PKEY_free(s->u.pkey);
	s->used = 0;
}

/*!
 * \brief A slot for h, not in the cache yet: a free one, or the CLOCK
 *        victim (expired signatures go first: they count as unreferenced).
 *        The slot is linked, with its value to be set by the caller.
 */
static struct slot *cc_insert(struct clock_cache *c, const uint8_t h[HASH_LEN], uint64_t now)
{
	uint32_t idx;
	if (c->n < c->cap) {
		idx = c->n++;
	} else {
		for (;;) {
			struct slot *s = &c->slots[c->hand];
			bool expired = !c->keys && s->u.valid_until <= now;
			if (!s->used || !s->ref || expired)
				break;
			s->ref = 0;
			c->hand = (c->hand + 1) % c->cap;
		}
		idx = c->hand;
		c->hand = (c->hand + 1) % c->cap;
		if (c->slots[idx].used)
			cc_unlink(c, idx);
	}
	struct slot *s = &c->slots[idx];
	memcpy(s->hash, h, HASH_LEN);
	s->ref = 0;
	s->used = 1;
	uint32_t *head = &c->heads[hash_word(h) & c->mask];
	s->next = *head;
	*head = idx;
	return s;
}

/* ---- growable chained tables (in-flight jobs, waiters by ctx) ---------- */

static int inflight_grow(struct hf_verifier *v)
{
	size_t nb = (v->inflight_mask + 1) * 2;
	struct job **b = calloc(nb, sizeof(*b));
	if (b == NULL)
		return -ENOMEM;
	for (size_t i = 0; i <= v->inflight_mask; i++) {
		struct job *j = v->inflight[i], *next;
		for (; j != NULL; j = next) {
			next = j->hnext;
			struct job **head = &b[hash_word(j->hash) & (nb - 1)];
			j->hnext = *head;
			*head = j;
		}
	}
	free(v->inflight);
	v->inflight = b;
	v->inflight_mask = nb - 1;
	return 0;
}

static struct job *inflight_find(struct hf_verifier *v, const uint8_t h[HASH_LEN])
{
	for (struct job *j = v->inflight[hash_word(h) & v->inflight_mask]; j; j = j->hnext)
		if (memcmp(j->hash, h, HASH_LEN) == 0)
			return j;
	return NULL;
}

static void inflight_remove(struct hf_verifier *v, struct job *j)
{
	struct job **pp = &v->inflight[hash_word(j->hash) & v->inflight_mask];
	while (*pp != j) {
		hf_require(*pp != NULL);
		pp = &(*pp)->hnext;
	}
	*pp = j->hnext;
	if (--v->inflight_n == 0)
		uv_unref((uv_handle_t *)&v->wake);
}

static int ctxs_grow(struct hf_verifier *v)
{
	size_t nb = (v->ctxs_mask + 1) * 2;
	struct waiter **b = calloc(nb, sizeof(*b));
	if (b == NULL)
		return -ENOMEM;
	for (size_t i = 0; i <= v->ctxs_mask; i++) {
		struct waiter *w = v->ctxs[i], *next;
		for (; w != NULL; w = next) {
			next = w->cnext;
			struct waiter **head = &b[ptr_hash(w->ctx) & (nb - 1)];
			w->cnext = *head;
			if (*head != NULL)
				(*head)->cprev = &w->cnext;
			w->cprev = head;
			*head = w;
		}
	}
	free(v->ctxs);
	v->ctxs = b;
	v->ctxs_mask = nb - 1;
	return 0;
}

static void ctxs_unlink(struct hf_verifier *v, struct waiter *w)
{
	if (w->cprev == NULL)
		return;
	*w->cprev = w->cnext;
	if (w->cnext != NULL)
		w->cnext->cprev = w->cprev;
	w->cprev = NULL;
	w->cnext = NULL;
	v->ctxs_n--;
}

static int add_waiter(struct hf_verifier *v, struct job *j, hf_verify_cb cb, void *ctx)
{
	if (v->ctxs_n >= v->ctxs_mask + 1 && ctxs_grow(v) != 0)
		return -ENOMEM;
	struct waiter *w = j->waiters == NULL ? &j->first : malloc(sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->cb = cb;
	w->ctx = ctx;
	w->next = NULL;
	*j->wtail = w;
	j->wtail = &w->next;
	struct waiter **head = &v->ctxs[ptr_hash(ctx) & v->ctxs_mask];
	w->cnext = *head;
	if (*head != NULL)
		(*head)->cprev = &w->cnext;
	w->cprev = head;
	*head = w;
	v->ctxs_n++;
	return 0;
}

static void waiter_free(struct job *j, struct waiter *w)
{
	if (w != &j->first)
		free(w);
}

static void job_free(struct job *j)
{
	struct waiter *w, *next;
	for (w = j->waiters; w != NULL; w = next) {
		next = w->next;
		waiter_free(j, w);
	}
	EVP_PKEY_free(j->pkey);
	free(j);
}

/* ---- pool -------------------------------------------------------------- */

/*! Wake the loop (any thread). */
static void ring(struct hf_verifier *v)
{
	uint64_t one = 1;
	while (write(v->efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	/* EAGAIN: the counter is at its maximum, so the loop is woken anyway. */
}

static void *pool_main(void *arg)
{
	struct hf_verifier *v = arg;
	/* This thread's prepared contexts (crypto.h); freed when it returns.
	 * Without one (out of memory) every check is set up from scratch. */
	struct hf_sig_ctx *sc = hf_sig_ctx_new();

	for (;;) {
		struct job *take = NULL, **tail = &take;
		unsigned n = 0;

		pthread_mutex_lock(&v->lock);
		while (!v->stop && v->queue == NULL) {
			v->waiting++;
			pthread_cond_wait(&v->cond, &v->lock);
			v->waiting--;
		}
		if (v->stop) {
			pthread_mutex_unlock(&v->lock);
			hf_sig_ctx_free(sc);
			return NULL;
		}
		while (v->queue != NULL && n < HF_VERIFIER_BATCH) {
			struct job *j = v->queue;
			v->queue = j->next;
			*tail = j;
			tail = &j->next;
			n++;
		}
		*tail = NULL;
		if (v->queue == NULL)
			v->queue_tail = &v->queue;
		else if (v->waiting > 0)
			pthread_cond_signal(&v->cond);  /* more than one batch: pass the wake-up on */
		pthread_mutex_unlock(&v->lock);

		for (struct job *j = take; j != NULL; j = j->next)
			j->status = hf_sig_verify_ctx(sc, j->pkey, j->alg, j->bytes, j->len,
						      j->bytes + j->len, j->sig_len);

		pthread_mutex_lock(&v->done_lock);
		bool was_empty = v->done == NULL;
		*v->done_tail = take;
		v->done_tail = tail;
		pthread_mutex_unlock(&v->done_lock);
		/* A non-empty list was announced by whoever made it non-empty, and
		 * the loop takes the whole list: one wake-up covers both. */
		if (was_empty)
			ring(v);
	}
}

/* ---- loop side --------------------------------------------------------- */

static void idle_cb(uv_idle_t *h)
{
	(void)h;
}

static void check_cb(uv_check_t *h)
{
	struct hf_verifier *v = h->data;
	uv_check_stop(&v->check);
	uv_idle_stop(&v->idle);
	if (v->batch == NULL)
		return;
	pthread_mutex_lock(&v->lock);
	*v->queue_tail = v->batch;
	v->queue_tail = v->batch_tail;
	/* Busy threads come back for more without a signal. */
	if (v->waiting > 1 && v->batch_len > HF_VERIFIER_BATCH)
		pthread_cond_broadcast(&v->cond);
	else if (v->waiting > 0)
		pthread_cond_signal(&v->cond);
	pthread_mutex_unlock(&v->lock);
	v->batch = NULL;
	v->batch_tail = &v->batch;
	v->batch_len = 0;
	v->st.batches++;
}

static void close_cb(uv_handle_t *h)
{
	struct hf_verifier *v = h->data;
	if (--v->open_handles == 0) {
		close(v->efd);
		free(v);
	}
}

/*! Join the pool and free every job, the caches and the tables; close the handles. */
static void teardown(struct hf_verifier *v)
{
	if (v->threads != NULL) {
		pthread_mutex_lock(&v->lock);
		v->stop = true;
		pthread_cond_broadcast(&v->cond);
		pthread_mutex_unlock(&v->lock);
		for (unsigned i = 0; i < v->nthreads; i++)
			pthread_join(v->threads[i], NULL);
		free(v->threads);
		v->threads = NULL;
	}
	/* Batch, queue and done lists only hold jobs that are also in here. */
	if (v->inflight != NULL) {
		for (size_t i = 0; i <= v->inflight_mask; i++) {
			struct job *j = v->inflight[i], *next;
			for (; j != NULL; j = next) {
				next = j->hnext;
				job_free(j);
			}
		}
	}
	free(v->inflight);
	v->inflight = NULL;
	v->inflight_n = 0;
	free(v->ctxs);
	v->ctxs = NULL;
	v->batch = v->queue = v->done = NULL;
	cc_free(&v->keys);
	cc_free(&v->sigs);
	EVP_MD_CTX_free(v->md);
	EVP_MD_free(v->sha256);
	v->md = NULL;
	v->sha256 = NULL;
	pthread_mutex_destroy(&v->lock);
	pthread_cond_destroy(&v->cond);
	pthread_mutex_destroy(&v->done_lock);
	uv_close((uv_handle_t *)&v->check, close_cb);
	uv_close((uv_handle_t *)&v->idle, close_cb);
	uv_close((uv_handle_t *)&v->wake, close_cb);
}

static void wake_cb(uv_poll_t *h, int status, int events)
{
	struct hf_verifier *v = h->data;
	struct job *list;
	uint64_t count;

	(void)status;
	(void)events;
	/* Reset the doorbell before taking the list: a ring after this read
	 * wakes us again, and a result appended before it is taken now. */
	while (read(v->efd, &count, sizeof(count)) < 0 && errno == EINTR)
		;

	pthread_mutex_lock(&v->done_lock);
	list = v->done;
	v->done = NULL;
	v->done_tail = &v->done;
	pthread_mutex_unlock(&v->done_lock);

	uint64_t now = now_s();
	v->dispatching = true;
	for (struct job *j = list, *next; j != NULL && !v->destroyed; j = next) {
		next = j->next;
		inflight_remove(v, j);
		v->st.verified++;
		if (j->status != 0) {
			v->st.failures++;
		} else if (j->valid_until > now) {
			struct slot *s = cc_find(&v->sigs, j->hash);
			if (s == NULL)
				s = cc_insert(&v->sigs, j->hash, now);
			s->u.valid_until = j->valid_until;
		}
		/* Unhook each waiter before its call: the callback may cancel
		 * others (of this job too) or destroy the verifier. */
		struct waiter *w;
		while ((w = j->waiters) != NULL && !v->destroyed) {
			j->waiters = w->next;
			ctxs_unlink(v, w);
			hf_verify_cb cb = w->cb;
			void *ctx = w->ctx;
			waiter_free(j, w);
			if (cb != NULL)
				cb(ctx, j->status);
		}
		job_free(j);
	}
	v->dispatching = false;
	if (v->destroyed)
		teardown(v);
}

/* ---- API --------------------------------------------------------------- */

struct hf_verifier *hf_verifier_create(uv_loop_t *loop, const struct hf_verifier_config *cfg,
				       char *err, size_t err_size)
{
	struct hf_verifier_config c = cfg ? *cfg : (struct hf_verifier_config){ 0 };
	struct hf_verifier *v;
	int rc;

	if (c.threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		c.threads = n > 0 ? (unsigned)n : 1;
	}
	if (c.key_cache == 0)
		c.key_cache = KEY_CACHE_DEFAULT;
	if (c.sig_cache == 0)
		c.sig_cache = SIG_CACHE_DEFAULT;

	v = calloc(1, sizeof(*v));
	if (v == NULL) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	v->loop = loop;
	v->batch_tail = &v->batch;
	v->queue_tail = &v->queue;
	v->done_tail = &v->done;
	v->inflight = calloc(TABLE_MIN, sizeof(*v->inflight));
	v->inflight_mask = TABLE_MIN - 1;
	v->ctxs = calloc(TABLE_MIN, sizeof(*v->ctxs));
	v->ctxs_mask = TABLE_MIN - 1;
	if (v->inflight == NULL || v->ctxs == NULL || cc_init(&v->keys, c.key_cache, true) != 0 ||
	    cc_init(&v->sigs, c.sig_cache, false) != 0) {
		snprintf(err, err_size, "out of memory for the verifier's caches");
		goto err_free;
	}
	v->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	v->md = EVP_MD_CTX_new();
	if (v->sha256 == NULL || v->md == NULL) {
		snprintf(err, err_size, "OpenSSL: no SHA-256 (%lu)", ERR_get_error());
		goto err_free;
	}
	if ((rc = pthread_mutex_init(&v->lock, NULL)) != 0) {
		snprintf(err, err_size, "pthread_mutex_init: %s", strerror(rc));
		goto err_free;
	}
	if ((rc = pthread_mutex_init(&v->done_lock, NULL)) != 0) {
		snprintf(err, err_size, "pthread_mutex_init: %s", strerror(rc));
		goto err_lock;
	}
	if ((rc = pthread_cond_init(&v->cond, NULL)) != 0) {
		snprintf(err, err_size, "pthread_cond_init: %s", strerror(rc));
		goto err_done_lock;
	}
	v->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (v->efd < 0) {
		snprintf(err, err_size, "eventfd: %s", strerror(errno));
		goto err_cond;
	}
	if ((rc = uv_poll_init(loop, &v->wake, v->efd)) != 0) {
		snprintf(err, err_size, "uv_poll_init: %s", uv_strerror(rc));
		close(v->efd);
		goto err_cond;
	}
	uv_check_init(loop, &v->check);
	uv_idle_init(loop, &v->idle);
	v->wake.data = v->check.data = v->idle.data = v;
	v->open_handles = 3;
	/* Referenced only while jobs are in flight: an idle verifier must not keep the loop alive. */
	uv_unref((uv_handle_t *)&v->wake);
	if ((rc = uv_poll_start(&v->wake, UV_READABLE, wake_cb)) != 0) {
		snprintf(err, err_size, "uv_poll_start: %s", uv_strerror(rc));
		goto err_handles;
	}

	v->threads = calloc(c.threads, sizeof(*v->threads));
	if (v->threads == NULL) {
		snprintf(err, err_size, "out of memory");
		goto err_handles;
	}
	for (v->nthreads = 0; v->nthreads < c.threads; v->nthreads++) {
		rc = pthread_create(&v->threads[v->nthreads], NULL, pool_main, v);
		if (rc != 0) {
			snprintf(err, err_size, "pthread_create: %s", strerror(rc));
			goto err_handles;
		}
	}
	return v;

err_handles:
	/* teardown() joins what was started; v is freed in the last close
	 * callback, so the caller's loop must run (as after destroy). */
	teardown(v);
	return NULL;
err_cond:
	pthread_cond_destroy(&v->cond);
err_done_lock:
	pthread_mutex_destroy(&v->done_lock);
err_lock:
	pthread_mutex_destroy(&v->lock);
err_free:
	EVP_MD_CTX_free(v->md);
	EVP_MD_free(v->sha256);
	cc_free(&v->keys);
	cc_free(&v->sigs);
	free(v->ctxs);
	free(v->inflight);
	free(v);
	return NULL;
}

void hf_verifier_destroy(struct hf_verifier *v)
{
	if (v == NULL || v->destroyed)
		return;
	v->destroyed = true;
	/* From a callback: wake_cb stops dispatching and tears down after it. */
	if (!v->dispatching)
		teardown(v);
}

static int digest(struct hf_verifier *v, const uint8_t *const parts[], const size_t lens[],
		  size_t n, uint8_t out[HASH_LEN])
{
	if (EVP_DigestInit_ex(v->md, v->sha256, NULL) != 1)
		goto err;
	for (size_t i = 0; i < n; i++) {
		uint8_t l[4] = { (uint8_t)(lens[i] >> 24), (uint8_t)(lens[i] >> 16),
				 (uint8_t)(lens[i] >> 8), (uint8_t)lens[i] };
		/* Each part is preceded by its length: see the comment at the top. */
		if (EVP_DigestUpdate(v->md, l, sizeof(l)) != 1 ||
		    EVP_DigestUpdate(v->md, parts[i], lens[i]) != 1)
			goto err;
	}
	unsigned int len = 0;
	if (EVP_DigestFinal_ex(v->md, out, &len) != 1 || len != HASH_LEN)
		goto err;
	return 0;
err:
	log_crypto_error("SHA-256");
	return HF_ECRYPTO;
}

/*!
 * \brief The key cache's slot for this DNSKEY (parsed now if it is not there
 *        yet). The slot, and its hash, are valid until the next insertion
 *        into the key cache.
 */
static int key_lookup(struct hf_verifier *v, const struct hf_dnskey *key, uint64_t now,
		      struct slot **out)
{
	const uint8_t *parts[] = { key->rdata };
	const size_t lens[] = { key->rdlen };
	uint8_t h[HASH_LEN];
	int rc;

	/* Compared in full: the remembered hash is that of these very octets. */
	if (key->rdlen > 0 && key->rdlen == v->last_key_len &&
	    memcmp(key->rdata, v->last_key, key->rdlen) == 0) {
		memcpy(h, v->last_key_hash, HASH_LEN);
	} else {
		rc = digest(v, parts, lens, 1, h);
		if (rc != 0)
			return rc;
		v->last_key_len = 0;
		if (key->rdlen <= LAST_KEY_MAX) {
			memcpy(v->last_key, key->rdata, key->rdlen);
			memcpy(v->last_key_hash, h, HASH_LEN);
			v->last_key_len = key->rdlen;
		}
	}
	struct slot *s = cc_find(&v->keys, h);
	if (s == NULL) {
		EVP_PKEY *pkey = NULL;
		/* Parsed here, on the loop: a key serves many signatures, and a
		 * malformed one is reported at once without a round trip. */
		rc = hf_dnskey_pkey(key, &pkey);
		if (rc != 0)
			return rc;
		s = cc_insert(&v->keys, h, now);
		s->u.pkey = pkey;
	}
	s->ref = 1;
	*out = s;
	return 0;
}

int hf_verifier_check(struct hf_verifier *v, const struct hf_verify_req *req, int *status,
		      hf_verify_cb cb, void *ctx)
{
	if (hf_fails_assert(v != NULL && !v->destroyed && req != NULL && req->key != NULL &&
			    status != NULL && cb != NULL))
		return -EINVAL;
	if (hf_fails_assert(req->key->rdata != NULL && (req->data != NULL || req->len == 0) &&
			    (req->sig != NULL || req->sig_len == 0)))
		return -EINVAL;

	uint8_t h[HASH_LEN];
	uint64_t now = now_s();
	struct slot *ks;
	int rc;

	v->st.submitted++;
	/* The key first: the check hash covers its hash (see the top). A key
	 * that cannot be used never verified anything, so no cached success is
	 * missed by refusing it here. */
	rc = key_lookup(v, req->key, now, &ks);
	if (rc == -ENOMEM)
		return rc;
	if (rc != 0)
		goto verdict;
	const uint8_t *parts[] = { ks->hash, req->data, req->sig };
	const size_t lens[] = { HASH_LEN, req->len, req->sig_len };
	rc = digest(v, parts, lens, HF_ARRAY_SIZE(parts), h);
	if (rc != 0)
		goto verdict;

	struct slot *s = cc_find(&v->sigs, h);
	if (s != NULL && s->u.valid_until > now) {
		s->ref = 1;
		v->st.cache_hits++;
		*status = 0;
		return 1;
	}

	struct job *j = inflight_find(v, h);
	if (j != NULL) {
		if (add_waiter(v, j, cb, ctx) != 0)
			return -ENOMEM;
		/* The verdict is reused for a shorter time of the two. */
		if (req->valid_until < j->valid_until)
			j->valid_until = req->valid_until;
		v->st.coalesced++;
		return 0;
	}

	if (v->inflight_n >= v->inflight_mask + 1 && inflight_grow(v) != 0)
		return -ENOMEM;
	/* One allocation: the job, its first waiter, data and signature. */
	j = malloc(sizeof(*j) + req->len + req->sig_len);
	if (j == NULL)
		return -ENOMEM;
	j->waiters = NULL;
	j->wtail = &j->waiters;
	if (add_waiter(v, j, cb, ctx) != 0) {
		free(j);
		return -ENOMEM;
	}
	if (EVP_PKEY_up_ref(ks->u.pkey) != 1) {
		ctxs_unlink(v, &j->first);
		free(j);
		rc = HF_ECRYPTO;
		goto verdict;
	}
	j->pkey = ks->u.pkey;
	j->status = 0;
	memcpy(j->hash, h, HASH_LEN);
	j->alg = req->key->alg;
	j->valid_until = req->valid_until;
	j->len = req->len;
	j->sig_len = req->sig_len;
	if (req->len > 0)
		memcpy(j->bytes, req->data, req->len);
	if (req->sig_len > 0)
		memcpy(j->bytes + req->len, req->sig, req->sig_len);

	struct job **head = &v->inflight[hash_word(h) & v->inflight_mask];
	j->hnext = *head;
	*head = j;
	if (v->inflight_n++ == 0)
		uv_ref((uv_handle_t *)&v->wake);

	*v->batch_tail = j;
	v->batch_tail = &j->next;
	j->next = NULL;
	if (v->batch_len++ == 0) {
		uv_check_start(&v->check, check_cb);
		uv_idle_start(&v->idle, idle_cb);
	}
	return 0;

verdict:
	/* The key (or SHA-256) failed: known now, and never cached. */
	v->st.failures++;
	*status = rc;
	return 1;
}

void hf_verifier_cancel(struct hf_verifier *v, void *ctx)
{
	if (v == NULL || v->ctxs == NULL)
		return;
	struct waiter *w = v->ctxs[ptr_hash(ctx) & v->ctxs_mask], *next;
	for (; w != NULL; w = next) {
		next = w->cnext;
		if (w->ctx == ctx) {
			/* Stays on its job's list (freed at dispatch), just never called. */
			w->cb = NULL;
			ctxs_unlink(v, w);
		}
	}
}

void hf_verifier_stats(const struct hf_verifier *v, struct hf_verifier_stats *out)
{
	*out = v->st;
}
