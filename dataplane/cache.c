/*
 * The dataplane's answer cache (see dataplane/cache.h for the protocol).
 *
 * The sweep is a CLOCK hand over the table's iteration order, which is the
 * split-ordered list of cds_lfht: nodes sorted by bit-reversed hash. That
 * order is stable under inserts, deletes and resizes, so a position in it can
 * be named by a reverse hash. Between calls the hand is remembered as the
 * reverse hash of the last node visited, plus the hash of the last node it
 * kept (the anchor). A new call finds the anchor with one hash lookup (a
 * replaced entry keeps its key and therefore its hash, so the anchor survives
 * refreshes) and steps past anything not beyond the saved position: only
 * entries inserted there since the last call, since everything between the
 * anchor and the hand was removed. Without an anchor (a purge removed it, or
 * the hand wrapped and then removed every entry it saw) it walks from the
 * start of the list: a pointer chase per surviving entry before the hand,
 * which is cheap after a wrap and O(entries) once after a purge.
 *
 * Cost: a call visits at most sweep_batch entries (one lap, two under
 * pressure); each visit is a few loads, plus for a removal cds_lfht_del()
 * and a call_rcu() enqueue. The split-ordered list also holds one bucket node
 * per bucket, which the walk steps over; auto-resize (with ACCOUNTING, which
 * also shrinks) keeps buckets proportional to entries.
 */
#include <endian.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#include <urcu/urcu-qsbr.h>
#include <urcu/rculfhash.h>

#include "dataplane/cache.h"
#include "include/holdfast/csum.h"
#include "include/holdfast/defines.h"
#include "include/holdfast/dns.h"
#include "include/holdfast/name.h"
#include "include/holdfast/wire_ctx.h"

/* The table's hash argument is an unsigned long; we want all 64 bits used. */
_Static_assert(sizeof(unsigned long) == sizeof(uint64_t), "64-bit unsigned long");
_Static_assert(offsetof(struct hf_cache_entry, data) % sizeof(uint16_t) == 0,
	       "ttl_off[] must be aligned");
_Static_assert(offsetof(struct hf_cache_entry, rcu) == 64, "hot fields fill the first line");
_Static_assert(offsetof(struct hf_cache_entry, hash) == 16 &&
	       offsetof(struct hf_cache_entry, qtype) == 36 &&
	       offsetof(struct hf_cache_entry, n_ttl) == 48 &&
	       offsetof(struct hf_cache_entry, referenced) == 52 &&
	       offsetof(struct hf_cache_entry, cache) == 56 &&
	       offsetof(struct hf_cache_entry, recheck_until) == 80 &&
	       offsetof(struct hf_cache_entry, ovr_checked) == 84 &&
	       offsetof(struct hf_cache_entry, data) == 88, "layout documented in cache.h");

#define HF_CACHE_LINE 64
/* Initial and minimum bucket count: small caches stay cheap, growth is automatic. */
#define HF_CACHE_INIT_BUCKETS 1024

/* The index (cache.h): one word per slot, HF_INDEX_WAYS slots per 64-byte
 * bucket, one slot per HF_INDEX_BYTES_PER_SLOT bytes of max_bytes. */
#define HF_INDEX_WAYS 8
#define HF_INDEX_BYTES_PER_SLOT 128
#define HF_INDEX_MIN_BUCKETS 4
#define HF_INDEX_MAX_BUCKETS (UINT64_C(1) << 22)
#define HF_INDEX_TAG_SHIFT 48
#define HF_INDEX_PTR_MASK ((UINT64_C(1) << HF_INDEX_TAG_SHIFT) - 1)
#define HF_INDEX_HUGE_PAGE ((size_t)2 << 20)
_Static_assert(HF_INDEX_WAYS * sizeof(uint64_t) == HF_CACHE_LINE, "a bucket is one line");

/*
 * A purge in progress: while the housekeeper walks the table removing a
 * name's (or a subtree's) entries, lookups already treat them as absent, so
 * the purge takes effect for every worker the moment it is published, not
 * when the walk ends (a full cache takes milliseconds to walk). Published
 * with rcu_assign_pointer(), freed with call_rcu() after the walk.
 */
struct hf_cache_barrier {
	struct rcu_head rcu;
	bool subtree;
	uint8_t len;
	uint8_t name[HF_NAME_MAXLEN];  /*!< lower case */
};

struct hf_cache {
	/* Read-mostly: every worker reads these on every probe. */
	struct cds_lfht *ht;
	_Atomic uint64_t *index;           /* index_mask + 1 buckets of HF_INDEX_WAYS words */
	uint64_t index_mask;
	struct hf_cache_barrier *barrier;  /* RCU-protected; NULL almost always */
	uint64_t seed[2];
	struct hf_cache_config cfg;
	size_t low_bytes;
	size_t hard_bytes;

	/* Written by inserting workers and the housekeeper: own cache line, so
	 * probes never miss on the line above because of a counter. */
	_Alignas(HF_CACHE_LINE) _Atomic uint64_t bytes;
	_Atomic uint64_t retired_bytes;
	_Atomic uint64_t entries;
	_Atomic uint64_t inserts;
	_Atomic uint64_t replaces;
	_Atomic uint64_t evictions;
	_Atomic uint64_t expired_drops;
	_Atomic uint64_t purged;
	_Atomic uint64_t insert_failures;

	/* The CLOCK hand: the housekeeper's alone (one sweeper at a time). */
	_Alignas(HF_CACHE_LINE) bool hand_valid;    /* hand_rev names a position */
	bool anchor_valid;
	unsigned long hand_rev;   /* reverse hash of the last node visited */
	uint64_t anchor_hash;     /* hash of the last node kept */
};

#define hf_relaxed memory_order_relaxed

static inline void hf_count(_Atomic uint64_t *ctr, uint64_t n)
{
	atomic_fetch_add_explicit(ctr, n, hf_relaxed);
}

static inline void hf_uncount(_Atomic uint64_t *ctr, uint64_t n)
{
	atomic_fetch_sub_explicit(ctr, n, hf_relaxed);
}

/* caa_container_of() casts away const, which -Wcast-qual rejects. */
static inline struct hf_cache_entry *hf_entry_of_node(struct cds_lfht_node *node)
{
	return (struct hf_cache_entry *)(void *)((char *)node - offsetof(struct hf_cache_entry, node));
}

static inline struct hf_cache_entry *hf_entry_of_rcu(struct rcu_head *head)
{
	return (struct hf_cache_entry *)(void *)((char *)head - offsetof(struct hf_cache_entry, rcu));
}

/* ---- SipHash-1-3 (Aumasson, Bernstein): keyed, so collisions cannot be chosen. */

static inline uint64_t hf_rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define HF_SIPROUND(v0, v1, v2, v3) do { \
	v0 += v1; v1 = hf_rotl(v1, 13); v1 ^= v0; v0 = hf_rotl(v0, 32); \
	v2 += v3; v3 = hf_rotl(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = hf_rotl(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = hf_rotl(v1, 17); v1 ^= v2; v2 = hf_rotl(v2, 32); \
} while (0)

static inline uint64_t hf_load_le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static uint64_t hf_siphash13(const uint64_t key[2], const uint8_t *in, size_t len)
{
	uint64_t v0 = key[0] ^ 0x736f6d6570736575ULL;
	uint64_t v1 = key[1] ^ 0x646f72616e646f6dULL;
	uint64_t v2 = key[0] ^ 0x6c7967656e657261ULL;
	uint64_t v3 = key[1] ^ 0x7465646279746573ULL;
	const uint8_t *end = in + (len & ~(size_t)7);

	for (; in != end; in += 8) {
		uint64_t m = hf_load_le64(in);
		v3 ^= m;
		HF_SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	uint64_t b = (uint64_t)len << 56;
	const size_t left = len & 7;
	if (left != 0 && len >= 8) {
		/* The last eight octets of the input, shifted so only the
		 * left-over ones remain: one load instead of a byte loop. */
		b |= hf_load_le64(in + left - 8) >> (8 * (8 - left));
	} else {
		for (size_t i = 0; i < left; i++)
			b |= (uint64_t)in[i] << (8 * i);
	}
	v3 ^= b;
	HF_SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	HF_SIPROUND(v0, v1, v2, v3);
	HF_SIPROUND(v0, v1, v2, v3);
	HF_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t hf_cache_hash(const struct hf_cache *c, const struct hf_cache_key *k)
{
	/* The keyed hash covers the name, which is what an attacker picks; the
	 * type, class and variant are mixed in after it (a multiply and a
	 * shift, as in fxhash), which saves copying the name on the hot path. */
	uint64_t h = hf_siphash13(c->seed, k->name, k->name_len);
	uint64_t tail = (uint64_t)k->qtype | (uint64_t)k->qclass << 16 | (uint64_t)k->variant << 32;
	h = (h ^ tail) * UINT64_C(0x9e3779b97f4a7c15);
	return h ^ (h >> 32);
}

/* ---- Table callbacks and removal. */

static int hf_cache_match(struct cds_lfht_node *node, const void *key)
{
	const struct hf_cache_entry *e = hf_entry_of_node(node);
	const struct hf_cache_key *k = key;

	if (e->qtype != k->qtype || e->qclass != k->qclass || e->variant != k->variant ||
	    e->qname_len != k->name_len)
		return 0;
	/* Names are short (a few dozen octets): compare inline, eight at a
	 * time, rather than call memcmp. */
	const uint8_t *a = hf_cache_entry_msg(e) + HF_DNS_HEADER_SIZE, *b = k->name;
	size_t n = k->name_len, i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t x, y;
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return 0;
	}
	for (; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* Any node with the looked-up hash: finds the sweep's anchor. */
static int hf_cache_match_any(struct cds_lfht_node *node HF_UNUSED, const void *key HF_UNUSED)
{
	return 1;
}

/* ---- The index in front of the table (cache.h, "Index"). */

static inline _Atomic uint64_t *hf_index_bucket(const struct hf_cache *c, uint64_t hash)
{
	return c->index + ((hash >> 16) & c->index_mask) * HF_INDEX_WAYS;
}

/* A slot's word: the low 16 bits of the hash above the entry's address. */
static inline uint64_t hf_index_word(const struct hf_cache_entry *e)
{
	return e->hash << HF_INDEX_TAG_SHIFT | (uint64_t)(uintptr_t)e;
}

static inline struct hf_cache_entry *hf_index_entry(uint64_t word)
{
	return (struct hf_cache_entry *)(uintptr_t)(word & HF_INDEX_PTR_MASK);
}

/* The entry of key k among the bucket's slots, or NULL (then ask the table). */
static struct hf_cache_entry *hf_index_find(const struct hf_cache *c, const struct hf_cache_key *k,
					    uint64_t hash)
{
	const _Atomic uint64_t *b = hf_index_bucket(c, hash);
	const uint64_t tag = hash << HF_INDEX_TAG_SHIFT;

	for (unsigned i = 0; i < HF_INDEX_WAYS; i++) {
		/* Acquire pairs with the publishing CAS: the entry is whole. */
		uint64_t w = atomic_load_explicit(&b[i], memory_order_acquire);
		if ((w & ~HF_INDEX_PTR_MASK) != tag || w == tag)
			continue;
		struct hf_cache_entry *e = hf_index_entry(w);
		if (e->hash == hash && hf_cache_match(&e->node, k))
			return e;
	}
	return NULL;
}

void hf_cache_prefetch(const struct hf_cache *c, uint64_t hash)
{
	__builtin_prefetch(hf_index_bucket(c, hash));
}

/*
 * Put a new entry in its bucket before the table has it: in the slot of an
 * entry of the same key (which the table is about to displace), else an
 * empty one, else over another entry (which the table still finds). Best
 * effort: a lost race leaves e to the table alone.
 */
static void hf_index_publish(struct hf_cache *c, struct hf_cache_entry *e,
			     const struct hf_cache_key *k)
{
	if ((uintptr_t)e & ~HF_INDEX_PTR_MASK)
		return;  /* an address the tag would clobber: the table alone finds it */
	_Atomic uint64_t *b = hf_index_bucket(c, e->hash);
	const uint64_t tag = e->hash << HF_INDEX_TAG_SHIFT;
	unsigned slot = HF_INDEX_WAYS, empty = HF_INDEX_WAYS;
	uint64_t seen = 0;

	for (unsigned i = 0; i < HF_INDEX_WAYS; i++) {
		uint64_t w = atomic_load_explicit(&b[i], memory_order_acquire);
		if (w == 0) {
			if (empty == HF_INDEX_WAYS)
				empty = i;
		} else if ((w & ~HF_INDEX_PTR_MASK) == tag && hf_cache_match(&hf_index_entry(w)->node, k)) {
			slot = i;
			seen = w;
			break;
		}
	}
	if (slot == HF_INDEX_WAYS) {
		/* No older answer here: an empty slot, else one the hash picks. */
		slot = empty != HF_INDEX_WAYS ? empty : (unsigned)(e->hash >> 61) % HF_INDEX_WAYS;
		seen = atomic_load_explicit(&b[slot], memory_order_relaxed);
	}
	/* Release: a reader that loads the word sees the entry's contents. */
	(void)atomic_compare_exchange_strong_explicit(&b[slot], &seen, hf_index_word(e),
						      memory_order_release, memory_order_relaxed);
}

/* Take a removed entry out of the index, before its grace period starts. */
static void hf_index_forget(struct hf_cache *c, const struct hf_cache_entry *e)
{
	_Atomic uint64_t *b = hf_index_bucket(c, e->hash);
	const uint64_t word = hf_index_word(e);

	for (unsigned i = 0; i < HF_INDEX_WAYS; i++) {
		uint64_t expected = word;
		/* Fails only if the slot holds something else: then e is not there. */
		if (atomic_compare_exchange_strong_explicit(&b[i], &expected, 0, memory_order_relaxed,
							    memory_order_relaxed))
			return;
	}
}

static void hf_cache_free_cb(struct rcu_head *head)
{
	struct hf_cache_entry *e = hf_entry_of_rcu(head);

	hf_uncount(&e->cache->retired_bytes, hf_cache_entry_size(e));
	free(e);
}

/* e was unlinked by this thread (del or replace succeeded): account, free later. */
static void hf_cache_retire(struct hf_cache *c, struct hf_cache_entry *e)
{
	size_t size = hf_cache_entry_size(e);

	hf_uncount(&c->bytes, size);
	hf_uncount(&c->entries, 1);
	hf_count(&c->retired_bytes, size);
	/* Out of the index before call_rcu(): no reader may find it after its
	 * grace period has begun. */
	hf_index_forget(c, e);
	urcu_qsbr_call_rcu(&e->rcu, hf_cache_free_cb);
}

/* Remove e unless someone else (a replacing worker) already did. */
static bool hf_cache_unlink(struct hf_cache *c, struct hf_cache_entry *e)
{
	if (cds_lfht_del(c->ht, &e->node) != 0)
		return false;
	hf_cache_retire(c, e);
	return true;
}

/* ---- Lifetime. */

struct hf_cache *hf_cache_create(const struct hf_cache_config *cfg)
{
	struct hf_cache *c;
	size_t size = (sizeof(*c) + HF_CACHE_LINE - 1) & ~(size_t)(HF_CACHE_LINE - 1);

	if (cfg->max_bytes == 0 || cfg->ttl_min > cfg->ttl_max)
		return NULL;
	c = aligned_alloc(HF_CACHE_LINE, size);
	if (!c)
		return NULL;
	memset(c, 0, sizeof(*c));
	if (getrandom(c->seed, sizeof(c->seed), 0) != (ssize_t)sizeof(c->seed))
		goto err_free_cache;
	c->cfg = *cfg;
	if (c->cfg.sweep_batch == 0)
		c->cfg.sweep_batch = HF_CACHE_SWEEP_BATCH_DEFAULT;
	c->low_bytes = cfg->max_bytes / 100 * HF_CACHE_LOW_PCT +
		       cfg->max_bytes % 100 * HF_CACHE_LOW_PCT / 100;
	c->hard_bytes = cfg->max_bytes / 100 * HF_CACHE_HARD_PCT +
			cfg->max_bytes % 100 * HF_CACHE_HARD_PCT / 100;
	uint64_t buckets = HF_INDEX_MIN_BUCKETS;
	while (buckets < HF_INDEX_MAX_BUCKETS &&
	       buckets * HF_INDEX_WAYS * HF_INDEX_BYTES_PER_SLOT < cfg->max_bytes)
		buckets *= 2;
	const size_t index_size = buckets * HF_CACHE_LINE;
	void *index = NULL;
	if (index_size >= HF_INDEX_HUGE_PAGE) {
		/* Every probe lands on a random bucket: with 4 KiB pages a big
		 * index would cost a TLB miss (a page walk the prefetch waits
		 * for) per question. Transparent huge pages where the kernel
		 * allows them (madvise mode); an advice refused changes nothing. */
		if (posix_memalign(&index, HF_INDEX_HUGE_PAGE, index_size) != 0)
			index = NULL;
		else
			(void)madvise(index, index_size, MADV_HUGEPAGE);
	} else {
		index = aligned_alloc(HF_CACHE_LINE, index_size);
	}
	if (!index)
		goto err_free_cache;
	memset(index, 0, index_size);
	c->index = index;
	c->index_mask = buckets - 1;
	/* ACCOUNTING lets the table shrink again after a flush. */
	c->ht = cds_lfht_new_flavor(HF_CACHE_INIT_BUCKETS, HF_CACHE_INIT_BUCKETS, 0,
				    CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
				    &urcu_qsbr_flavor, NULL);
	if (!c->ht)
		goto err_free_cache;
	return c;

err_free_cache:
	free(c->index);
	free(c);
	return NULL;
}

void hf_cache_destroy(struct hf_cache *c)
{
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;

	if (!c)
		return;
	bool was_online = urcu_qsbr_read_ongoing();
	/* Walking the table needs protection from the resize worker's frees. */
	if (!was_online)
		urcu_qsbr_thread_online();
	cds_lfht_for_each(c->ht, &iter, node)
		hf_cache_unlink(c, hf_entry_of_node(node));
	/* rcu_barrier() refuses to run inside a read-side critical section, and
	 * a pending resize waits for our quiescent state: wait offline. */
	urcu_qsbr_thread_offline();
	urcu_qsbr_barrier();
	int rc = cds_lfht_destroy(c->ht, NULL);
	hf_require(rc == 0);
	if (was_online)
		urcu_qsbr_thread_online();
	free(c->index);
	free(c);
}

/* ---- Reader side. */

static bool hf_barred(const struct hf_cache_barrier *b, const struct hf_cache_entry *e)
{
	const uint8_t *qname = hf_cache_entry_msg(e) + HF_DNS_HEADER_SIZE;
	return b->subtree ? hf_name_is_subdomain(qname, b->name)
			  : e->qname_len == b->len && memcmp(qname, b->name, b->len) == 0;
}

static void hf_barrier_free(struct rcu_head *head)
{
	/* Not caa_container_of(): it casts through const, which -Wcast-qual refuses. */
	free((char *)head - offsetof(struct hf_cache_barrier, rcu));
}

const struct hf_cache_entry *hf_cache_lookup(struct hf_cache *c, const struct hf_cache_key *k,
					     uint64_t hash)
{
	struct hf_cache_entry *e = hf_index_find(c, k, hash);
	if (hf_unlikely(!e)) {
		struct cds_lfht_iter iter;
		cds_lfht_lookup(c->ht, hash, hf_cache_match, k, &iter);
		struct cds_lfht_node *node = cds_lfht_iter_get_node(&iter);
		if (!node)
			return NULL;
		e = hf_entry_of_node(node);
	}
	const struct hf_cache_barrier *b = rcu_dereference(c->barrier);
	if (hf_unlikely(b != NULL) && hf_barred(b, e))
		return NULL;
	/* Test first: a store on every hit would bounce the line between cores. */
	if (atomic_load_explicit(&e->referenced, hf_relaxed) == 0)
		atomic_store_explicit(&e->referenced, 1, hf_relaxed);
	return e;
}

/* ---- Insert. */

static inline uint32_t hf_clamp_ttl(const struct hf_cache *c, uint32_t ttl)
{
	/* RFC 2181 §8: a TTL with the top bit set means zero. */
	if (ttl > INT32_MAX)
		ttl = 0;
	if (ttl < c->cfg.ttl_min)
		return c->cfg.ttl_min;
	if (ttl > c->cfg.ttl_max)
		return c->cfg.ttl_max;
	return ttl;
}

static inline uint32_t hf_add_sat(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

int hf_cache_insert(struct hf_cache *c, const struct hf_fill_view *v, uint32_t now)
{
	const struct hf_msg_fill *h = v->hdr;

	if (h->flags & HF_FILL_NOCACHE)
		return HF_CACHE_NOT_CACHED;
	/* hf_msg_fill_decode() guarantees these; a hand-made view might not. */
	if (hf_fails_assert(v->qname_len >= 1 &&
			    v->question_end == HF_DNS_HEADER_SIZE + v->qname_len + 4 &&
			    v->question_end <= h->msg_len))
		return -EINVAL;

	size_t ttl_bytes = (size_t)h->n_ttl * sizeof(uint16_t);
	size_t size = sizeof(struct hf_cache_entry) + ttl_bytes + h->ede_len + h->msg_len;
	if (atomic_load_explicit(&c->bytes, hf_relaxed) + size > c->hard_bytes) {
		hf_count(&c->insert_failures, 1);
		return -ENOSPC;
	}
	struct hf_cache_entry *e = malloc(size);
	if (!e) {
		hf_count(&c->insert_failures, 1);
		return -ENOMEM;
	}

	uint32_t ttl = hf_clamp_ttl(c, h->ttl);
	cds_lfht_node_init(&e->node);
	e->inserted = now;
	e->expires = hf_add_sat(now, ttl);
	e->stale_until = hf_add_sat(e->expires, c->cfg.max_stale);
	e->qtype = v->qtype;
	e->qclass = v->qclass;
	e->rcode = h->rcode & 0x0fff;
	e->msg_len = h->msg_len;
	e->question_end = v->question_end;
	e->ede_len = h->ede_len;
	e->n_ttl = h->n_ttl;
	e->qname_len = v->qname_len;
	e->variant = h->variant;
	e->flags = (h->flags & HF_FILL_AD) ? HF_CACHE_F_AD : 0;
	atomic_init(&e->referenced, 0);
	atomic_init(&e->recheck_until, 0);
	atomic_init(&e->ovr_checked, 0);
	e->cache = c;

	/* The view's offsets may be unaligned in the ring slot: copy bytes. */
	memcpy(e->data, v->ttl_off, ttl_bytes);
	memcpy(e->data + ttl_bytes, v->ede, h->ede_len);
	uint8_t *msg = e->data + ttl_bytes + h->ede_len;
	memcpy(msg, v->msg, h->msg_len);
	/* Probes compare the key with the message's own qname: make it lower case. */
	memcpy(msg + HF_DNS_HEADER_SIZE, v->qname, v->qname_len);
	hf_name_lower(msg + HF_DNS_HEADER_SIZE);

	/* Clients must never see a TTL above the ceiling (or below the floor). */
	const uint16_t *ttl_off = hf_cache_entry_ttl_off(e);
	for (unsigned i = 0; i < e->n_ttl; i++) {
		if (hf_fails_assert(ttl_off[i] >= e->question_end &&
				    ttl_off[i] + 4u <= e->msg_len)) {
			free(e);
			return -EINVAL;
		}
		uint8_t *p = msg + ttl_off[i];
		hf_wire_put_u32(p, hf_clamp_ttl(c, hf_wire_get_u32(p)));
	}
	/* Summed once here, so that no answer reads the sections twice. */
	e->sections_sum = hf_csum_at(msg + e->question_end, e->msg_len - e->question_end,
				     e->question_end);

	struct hf_cache_key key = {
		.name = msg + HF_DNS_HEADER_SIZE, .name_len = e->qname_len,
		.qtype = e->qtype, .qclass = e->qclass, .variant = e->variant,
	};
	e->hash = hf_cache_hash(c, &key);

	/* Count before publishing, so bytes never undercounts the table. */
	hf_count(&c->bytes, size);
	hf_count(&c->entries, 1);
	hf_count(&c->inserts, 1);
	/* The index first: once the table has e, a sweep or purge may remove it
	 * at once, and its hf_index_forget() must find it already there. */
	hf_index_publish(c, e, &key);
	struct cds_lfht_node *old = cds_lfht_add_replace(c->ht, e->hash, hf_cache_match, &key,
							 &e->node);
	if (old) {
		struct hf_cache_entry *oe = hf_entry_of_node(old);
		/* A refreshed answer keeps the popularity of the one it replaces. */
		if (atomic_load_explicit(&oe->referenced, hf_relaxed))
			atomic_store_explicit(&e->referenced, 1, hf_relaxed);
		hf_count(&c->replaces, 1);
		hf_cache_retire(c, oe);
	}
	return 0;
}

/* ---- Sweep and purge (housekeeping thread). */

/* Put iter on the first node after the hand, or at the end of the list. */
static void hf_cache_hand_seek(struct hf_cache *c, struct cds_lfht_iter *iter)
{
	struct cds_lfht_node *node;

	if (!c->hand_valid) {
		cds_lfht_first(c->ht, iter);
		return;
	}
	node = NULL;
	if (c->anchor_valid) {
		cds_lfht_lookup(c->ht, c->anchor_hash, hf_cache_match_any, NULL, iter);
		node = cds_lfht_iter_get_node(iter);
		/* Defensive: an anchor beyond the hand would skip entries. */
		if (node && node->reverse_hash > c->hand_rev)
			node = NULL;
	}
	if (!node) {
		c->anchor_valid = false;
		cds_lfht_first(c->ht, iter);
		node = cds_lfht_iter_get_node(iter);
	}
	/* The anchor lies at or before the hand; nodes inserted since between
	 * them wait for the next lap. */
	while (node && node->reverse_hash <= c->hand_rev) {
		cds_lfht_next(c->ht, iter);
		node = cds_lfht_iter_get_node(iter);
	}
}

size_t hf_cache_sweep(struct hf_cache *c, uint32_t now)
{
	struct cds_lfht_iter iter;
	size_t freed = 0;
	unsigned laps = 0;

	uint64_t entries = atomic_load_explicit(&c->entries, hf_relaxed);
	bool pressure = atomic_load_explicit(&c->bytes, hf_relaxed) > c->low_bytes;
	/* One lap at most; two under pressure, so that entries whose bit this
	 * call cleared can still be evicted by it. */
	uint64_t budget = pressure ? 2 * entries : entries;
	if (budget > c->cfg.sweep_batch)
		budget = c->cfg.sweep_batch;

	hf_cache_hand_seek(c, &iter);
	while (budget > 0) {
		struct cds_lfht_node *node = cds_lfht_iter_get_node(&iter);
		if (!node) {
			/* End of the list: wrap, unless the table is empty. */
			if (++laps > 2)
				break;
			/* An anchor from before the wrap lies ahead of the hand now. */
			c->anchor_valid = false;
			cds_lfht_first(c->ht, &iter);
			if (!cds_lfht_iter_get_node(&iter))
				break;
			continue;
		}
		struct hf_cache_entry *e = hf_entry_of_node(node);
		budget--;
		c->hand_valid = true;
		c->hand_rev = node->reverse_hash;

		size_t size = hf_cache_entry_size(e);
		if (now > e->stale_until) {
			if (hf_cache_unlink(c, e)) {
				hf_count(&c->expired_drops, 1);
				freed += size;
			}
		} else if (atomic_load_explicit(&e->referenced, hf_relaxed)) {
			atomic_store_explicit(&e->referenced, 0, hf_relaxed);
			c->anchor_valid = true;
			c->anchor_hash = e->hash;
		} else if (atomic_load_explicit(&c->bytes, hf_relaxed) > c->low_bytes) {
			if (hf_cache_unlink(c, e)) {
				hf_count(&c->evictions, 1);
				freed += size;
			}
		} else {
			c->anchor_valid = true;
			c->anchor_hash = e->hash;
		}
		cds_lfht_next(c->ht, &iter);
	}
	return freed;
}

unsigned hf_cache_purge(struct hf_cache *c, const uint8_t *name, bool subtree)
{
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	uint8_t lname[HF_NAME_MAXLEN];
	unsigned n = 0;

	size_t len = hf_name_len(name);
	memcpy(lname, name, len);
	hf_name_lower(lname);
	/* Lookups stop finding the purged entries now; the walk frees them. */
	struct hf_cache_barrier *b = calloc(1, sizeof(*b));
	if (b) {
		b->subtree = subtree;
		b->len = (uint8_t)len;
		memcpy(b->name, lname, len);
		rcu_assign_pointer(c->barrier, b);
	}
	cds_lfht_for_each(c->ht, &iter, node) {
		struct hf_cache_entry *e = hf_entry_of_node(node);
		const uint8_t *qname = hf_cache_entry_msg(e) + HF_DNS_HEADER_SIZE;
		bool hit = subtree ? hf_name_is_subdomain(qname, lname)
				   : e->qname_len == len && memcmp(qname, lname, len) == 0;
		if (hit && hf_cache_unlink(c, e))
			n++;
	}
	if (b) {
		rcu_assign_pointer(c->barrier, NULL);
		urcu_qsbr_call_rcu(&b->rcu, hf_barrier_free);
	}
	hf_count(&c->purged, n);
	return n;
}

bool hf_cache_index_holds(const struct hf_cache *c, const struct hf_cache_entry *e)
{
	const _Atomic uint64_t *b = hf_index_bucket(c, e->hash);
	for (unsigned i = 0; i < HF_INDEX_WAYS; i++)
		if (atomic_load_explicit(&b[i], memory_order_acquire) == hf_index_word(e))
			return true;
	return false;
}

void hf_cache_stats(const struct hf_cache *c, struct hf_cache_stats *out)
{
	*out = (struct hf_cache_stats){
		.entries = atomic_load_explicit(&c->entries, hf_relaxed),
		.bytes = atomic_load_explicit(&c->bytes, hf_relaxed),
		.retired_bytes = atomic_load_explicit(&c->retired_bytes, hf_relaxed),
		.inserts = atomic_load_explicit(&c->inserts, hf_relaxed),
		.replaces = atomic_load_explicit(&c->replaces, hf_relaxed),
		.evictions = atomic_load_explicit(&c->evictions, hf_relaxed),
		.expired_drops = atomic_load_explicit(&c->expired_drops, hf_relaxed),
		.purged = atomic_load_explicit(&c->purged, hf_relaxed),
		.insert_failures = atomic_load_explicit(&c->insert_failures, hf_relaxed),
	};
}
