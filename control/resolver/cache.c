/*
 * RRset, negative and failure cache with an LRU memory bound.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "include/holdfast/name.h"
#include "include/holdfast/wire_ctx.h"
#include "control/resolver/cache.h"

enum entry_space {
	SPACE_DATA = 0,  /*!< RRset, or NODATA for the same (name, type) */
	SPACE_NXDOMAIN,  /*!< type 0 */
	SPACE_FAIL,
};

struct entry {
	struct entry *hnext;
	struct entry *prev, *next;   /*!< LRU list, most recent first */
	uint64_t expire;             /*!< seconds, same clock as now */
	size_t bytes;
	uint16_t type, rclass;
	uint8_t space;               /*!< enum entry_space */
	uint8_t rank;                /*!< enum hf_cache_rank */
	uint8_t neg;                 /*!< enum hf_neg_kind, in SPACE_DATA */
	uint16_t ede;                /*!< SPACE_FAIL */
	uint8_t name[HF_NAME_MAXLEN];
	struct hf_rrset *rrset;      /*!< the data, or the proving SOA (may be NULL) */
	char text[];                 /*!< SPACE_FAIL: EDE text */
};

struct hf_cache {
	size_t max_bytes, bytes;
	size_t n_buckets;            /*!< power of two */
	struct entry **bucket;
	struct entry *head, *tail;
};

/* An average entry is a few hundred octets; this sizes the table so chains stay short. */
#define AVG_ENTRY_BYTES 512
#define MIN_BUCKETS 1024

struct hf_cache *hf_cache_create(size_t max_bytes)
{
	struct hf_cache *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->max_bytes = max_bytes;
	c->n_buckets = MIN_BUCKETS;
	while (c->n_buckets < max_bytes / AVG_ENTRY_BYTES && c->n_buckets < (1u << 24))
		c->n_buckets <<= 1;
	c->bucket = calloc(c->n_buckets, sizeof(*c->bucket));
	if (c->bucket == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

static void entry_free(struct entry *e)
{
	free(e->rrset);
	free(e);
}

void hf_cache_destroy(struct hf_cache *c)
{
	if (c == NULL)
		return;
	for (struct entry *e = c->head, *n; e; e = n) {
		n = e->next;
		entry_free(e);
	}
	free(c->bucket);
	free(c);
}

size_t hf_cache_bytes(const struct hf_cache *c)
{
	return c->bytes;
}

static size_t key_hash(const uint8_t *name, uint16_t type, uint16_t rclass, uint8_t space)
{
	uint64_t h = 1469598103934665603ull;
	size_t len = hf_name_len(name);
	for (size_t i = 0; i < len; i++) {
		uint8_t ch = name[i];
		if (ch >= 'A' && ch <= 'Z')
			ch += 32;
		h = (h ^ ch) * 1099511628211ull;
	}
	h = (h ^ type) * 1099511628211ull;
	h = (h ^ rclass) * 1099511628211ull;
	h = (h ^ space) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29));
}

static struct entry **find_slot(struct hf_cache *c, const uint8_t *name, uint16_t type,
				uint16_t rclass, uint8_t space)
{
	struct entry **pp = &c->bucket[key_hash(name, type, rclass, space) & (c->n_buckets - 1)];
	for (; *pp; pp = &(*pp)->hnext) {
		struct entry *e = *pp;
		if (e->type == type && e->rclass == rclass && e->space == space &&
		    hf_name_equal(e->name, name))
			break;
	}
	return pp;
}

static void lru_unlink(struct hf_cache *c, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push(struct hf_cache *c, struct entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
}

static void remove_entry(struct hf_cache *c, struct entry *e)
{
	struct entry **pp = find_slot(c, e->name, e->type, e->rclass, e->space);
	if (*pp == e)
		*pp = e->hnext;
	lru_unlink(c, e);
	c->bytes -= e->bytes;
	entry_free(e);
}

/* The live entry for a key (expired ones are dropped on the way), moved to the LRU front. */
static struct entry *lookup(struct hf_cache *c, const uint8_t *name, uint16_t type, uint16_t rclass,
			    uint8_t space, uint64_t now)
{
	struct entry *e = *find_slot(c, name, type, rclass, space);
	if (e == NULL)
		return NULL;
	if (e->expire <= now) {
		remove_entry(c, e);
		return NULL;
	}
	lru_unlink(c, e);
	lru_push(c, e);
	return e;
}

static void evict(struct hf_cache *c, const struct entry *keep)
{
	while (c->bytes > c->max_bytes && c->tail && c->tail != keep)
		remove_entry(c, c->tail);
}

/* Insert or replace; takes ownership of rrset. Returns the entry or NULL (rrset freed). */
static struct entry *insert(struct hf_cache *c, const uint8_t *name, uint16_t type, uint16_t rclass,
			    uint8_t space, uint8_t rank, uint32_t ttl, uint64_t now,
			    struct hf_rrset *rrset, const char *text)
{
	struct entry **pp = find_slot(c, name, type, rclass, space);
	struct entry *old = *pp;
	if (old && old->expire > now && old->rank > rank) {
		free(rrset);
		return NULL;  /* keep the more trusted data until it expires */
	}
	if (old)
		remove_entry(c, old);
	size_t tlen = text ? strlen(text) + 1 : 0;
	struct entry *e = calloc(1, sizeof(*e) + tlen);
	if (e == NULL) {
		free(rrset);
		return NULL;
	}
	memcpy(e->name, name, hf_name_len(name));
	hf_name_lower(e->name);
	e->type = type;
	e->rclass = rclass;
	e->space = space;
	e->rank = rank;
	e->expire = now + ttl;
	e->rrset = rrset;
	if (text)
		memcpy(e->text, text, tlen);
	e->bytes = sizeof(*e) + tlen + (rrset ? hf_rrset_size(rrset) : 0);
	pp = find_slot(c, name, type, rclass, space);
	e->hnext = *pp;
	*pp = e;
	lru_push(c, e);
	c->bytes += e->bytes;
	evict(c, e);
	return e;
}

int hf_cache_put_rrset(struct hf_cache *c, const struct hf_rrset *s, enum hf_cache_rank rank,
		       uint64_t now)
{
	uint32_t ttl = s->ttl < HF_CACHE_MAX_TTL ? s->ttl : HF_CACHE_MAX_TTL;
	if (ttl == 0)
		return 0;  /* TTL 0: use once, never cache (RFC 1035 §3.2.1) */
	struct hf_rrset *copy = hf_rrset_dup(s);
	if (copy == NULL)
		return -ENOMEM;
	struct entry *e = insert(c, s->owner, s->type, s->rclass, SPACE_DATA, (uint8_t)rank, ttl, now,
				 copy, NULL);
	(void)e;
	return 0;
}

static struct hf_rrset *copy_left(const struct entry *e, uint64_t now)
{
	struct hf_rrset *s = hf_rrset_dup(e->rrset);
	if (s)
		s->ttl = (uint32_t)(e->expire - now);
	return s;
}

struct hf_rrset *hf_cache_get_rrset(struct hf_cache *c, const uint8_t *name, uint16_t type,
				    uint16_t rclass, uint64_t now)
{
	struct entry *e = lookup(c, name, type, rclass, SPACE_DATA, now);
	if (e == NULL || e->neg != HF_NEG_NONE || e->rrset == NULL)
		return NULL;
	return copy_left(e, now);
}

struct hf_rrset *hf_cache_get_rrset_ranked(struct hf_cache *c, const uint8_t *name, uint16_t type,
					   uint16_t rclass, uint64_t now, enum hf_cache_rank min_rank)
{
	struct entry *e = lookup(c, name, type, rclass, SPACE_DATA, now);
	if (e == NULL || e->neg != HF_NEG_NONE || e->rrset == NULL || e->rank < min_rank)
		return NULL;
	return copy_left(e, now);
}

struct hf_rrset *hf_cache_find_ns(struct hf_cache *c, const uint8_t *name, uint16_t rclass,
				  uint64_t now)
{
	for (const uint8_t *n = name;; n += n[0] + 1) {
		struct hf_rrset *s = hf_cache_get_rrset(c, n, HF_TYPE_NS, rclass, now);
		if (s)
			return s;
		if (n[0] == 0)
			return NULL;
	}
}

uint32_t hf_soa_neg_ttl(const struct hf_rrset *soa)
{
	uint16_t len;
	const uint8_t *rd = hf_rrset_rdata(soa, 0, &len);
	if (rd == NULL)
		return 0;
	/* MNAME, RNAME, then five 32-bit fields; MINIMUM is the last. */
	size_t m = hf_name_len(rd);
	if (m >= len)
		return 0;
	size_t r = hf_name_len(rd + m);
	if (m + r + 20 != len)
		return 0;
	uint32_t minimum = hf_wire_get_u32(rd + len - 4);
	return soa->ttl < minimum ? soa->ttl : minimum;
}

int hf_cache_put_neg(struct hf_cache *c, enum hf_neg_kind kind, const uint8_t *name, uint16_t type,
		     uint16_t rclass, const struct hf_rrset *soa, uint64_t now)
{
	if (soa == NULL || soa->type != HF_TYPE_SOA || soa->n_rr != 1)
		return -EINVAL;
	uint32_t ttl = hf_soa_neg_ttl(soa);
	if (ttl > HF_CACHE_NEG_MAX_TTL)
		ttl = HF_CACHE_NEG_MAX_TTL;
	if (ttl == 0)
		return 0;
	struct hf_rrset *copy = hf_rrset_dup(soa);
	if (copy == NULL)
		return -ENOMEM;
	copy->ttl = ttl;
	uint8_t space = kind == HF_NEG_NXDOMAIN ? SPACE_NXDOMAIN : SPACE_DATA;
	uint16_t key_type = kind == HF_NEG_NXDOMAIN ? 0 : type;
	struct entry *e = insert(c, name, key_type, rclass, space, HF_RANK_ANSWER, ttl, now, copy, NULL);
	if (e)
		e->neg = (uint8_t)kind;
	return 0;
}

enum hf_neg_kind hf_cache_get_neg(struct hf_cache *c, const uint8_t *name, uint16_t type,
				  uint16_t rclass, uint64_t now, struct hf_rrset **soa)
{
	*soa = NULL;
	struct entry *e = lookup(c, name, 0, rclass, SPACE_NXDOMAIN, now);
	if (e == NULL) {
		e = lookup(c, name, type, rclass, SPACE_DATA, now);
		if (e == NULL || e->neg != HF_NEG_NODATA)
			return HF_NEG_NONE;
	}
	*soa = copy_left(e, now);
	if (*soa == NULL)
		return HF_NEG_NONE;
	return (enum hf_neg_kind)e->neg;
}

void hf_cache_set_sec(struct hf_cache *c, enum hf_neg_kind neg, const uint8_t *name, uint16_t type,
		      const struct hf_rrset *s, uint8_t sec, uint64_t now)
{
	struct entry *e;
	if (neg == HF_NEG_NXDOMAIN)
		e = lookup(c, name, 0, s->rclass, SPACE_NXDOMAIN, now);
	else
		e = lookup(c, name, type, s->rclass, SPACE_DATA, now);
	if (e == NULL || e->neg != (uint8_t)neg || e->rrset == NULL)
		return;
	const struct hf_rrset *k = e->rrset;
	/* Only the very data validated: the entry may have been replaced meanwhile. */
	if (k->type != s->type || k->n_rr != s->n_rr || k->n_sig != s->n_sig || k->len != s->len ||
	    memcmp(k->data, s->data, s->len) != 0)
		return;
	e->rrset->sec = sec;
}

int hf_cache_put_fail(struct hf_cache *c, const uint8_t *name, uint16_t type, uint16_t rclass,
		      uint16_t ede, const char *text, uint32_t seconds, uint64_t now)
{
	struct entry *e = insert(c, name, type, rclass, SPACE_FAIL, HF_RANK_ANSWER, seconds, now, NULL,
				 text ? text : "");
	if (e == NULL)
		return -ENOMEM;
	e->ede = ede;
	return 0;
}

int hf_cache_get_fail(struct hf_cache *c, const uint8_t *name, uint16_t type, uint16_t rclass,
		      uint64_t now, uint16_t *ede, char *text, size_t text_size)
{
	struct entry *e = lookup(c, name, type, rclass, SPACE_FAIL, now);
	if (e == NULL)
		return 0;
	*ede = e->ede;
	if (text_size > 0) {
		strncpy(text, e->text, text_size - 1);
		text[text_size - 1] = '\0';
	}
	return 1;
}

void hf_cache_flush(struct hf_cache *c, const uint8_t *name)
{
	for (struct entry *e = c->head, *n; e; e = n) {
		n = e->next;
		if (hf_name_is_subdomain(e->name, name))
			remove_entry(c, e);
	}
}
