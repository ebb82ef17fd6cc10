#include <stdlib.h>
#include <string.h>

#include "dataplane/pending.h"
#include "include/holdfast/defines.h"

#define HF_NONE UINT32_MAX

struct hf_pending_slot {
	uint64_t hash;
	uint64_t deadline_ns;
	uint32_t first_waiter;   /*!< HF_NONE when the slot is free */
	uint32_t last_waiter;
	uint32_t older, newer;   /*!< age list of slots in use */
	uint16_t gen;            /*!< bumped at each reuse; part of the request id */
	uint16_t n_waiters;
	uint16_t qtype;
	uint16_t qclass;
	uint8_t variant;
	uint8_t qname_len;
	uint8_t qname[HF_NAME_MAXLEN];
};

struct hf_pending {
	struct hf_pending_config cfg;
	uint32_t n_slots;        /*!< power of 2 */
	uint32_t n_used;
	uint32_t n_waiters;
	uint32_t free_slot;      /*!< head of the free list through slot_next_free */
	struct hf_pending_slot *slot;
	uint32_t *slot_next_free;
	/* Slots in use, oldest first: every question waits the same timeout,
	 * so this is also deadline order. */
	uint32_t oldest, newest;
	/* Index: open addressing, linear probing, 2 x n_slots cells of slot+1. */
	uint32_t *index;
	uint32_t index_mask;
	/* Waiters: a pool with a free list. */
	void **waiter_cookie;
	uint32_t *waiter_next;
	uint32_t free_waiter;
	uint32_t id_tag;          /* cfg.id_tag */
};

static uint32_t hf_req_id(const struct hf_pending *p, uint32_t s)
{
	/* Generation (15 bits) above the slot bits, the table's tag on top;
	 * never 0 because gen starts at 1. */
	return p->id_tag | (uint32_t)p->slot[s].gen << 16 | s;
}

static bool hf_req_slot(const struct hf_pending *p, uint32_t req_id, uint32_t *s)
{
	uint32_t i = req_id & 0xffff;
	if ((req_id & HF_PENDING_ID_TAG) != p->id_tag || i >= p->n_slots ||
	    p->slot[i].first_waiter == HF_NONE ||
	    p->slot[i].gen != (uint16_t)((req_id >> 16) & 0x7fff))
		return false;
	*s = i;
	return true;
}

struct hf_pending *hf_pending_create(const struct hf_pending_config *cfg)
{
	if (cfg->max_questions == 0 || cfg->max_questions > 65536 || cfg->max_waiters == 0 ||
	    cfg->max_waiters_per_q == 0 || cfg->max_waiters_per_q > UINT16_MAX)
		return NULL;
	struct hf_pending *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->cfg = *cfg;
	p->id_tag = cfg->tagged ? HF_PENDING_ID_TAG : 0;
	p->n_slots = 1;
	while (p->n_slots < cfg->max_questions)
		p->n_slots <<= 1;
	p->index_mask = 2 * p->n_slots - 1;
	p->slot = calloc(p->n_slots, sizeof(*p->slot));
	p->slot_next_free = calloc(p->n_slots, sizeof(*p->slot_next_free));
	p->index = calloc(2 * (size_t)p->n_slots, sizeof(*p->index));
	p->waiter_cookie = calloc(cfg->max_waiters, sizeof(*p->waiter_cookie));
	p->waiter_next = calloc(cfg->max_waiters, sizeof(*p->waiter_next));
	if (!p->slot || !p->slot_next_free || !p->index || !p->waiter_cookie ||
	    !p->waiter_next) {
		hf_pending_destroy(p);
		return NULL;
	}
	for (uint32_t i = 0; i < p->n_slots; i++) {
		p->slot[i].first_waiter = HF_NONE;
		p->slot[i].gen = 1;
		p->slot_next_free[i] = i + 1 < p->n_slots ? i + 1 : HF_NONE;
	}
	p->free_slot = 0;
	p->oldest = p->newest = HF_NONE;
	for (uint32_t i = 0; i < cfg->max_waiters; i++)
		p->waiter_next[i] = i + 1 < cfg->max_waiters ? i + 1 : HF_NONE;
	p->free_waiter = 0;
	return p;
}

void hf_pending_destroy(struct hf_pending *p)
{
	if (!p)
		return;
	free(p->slot);
	free(p->slot_next_free);
	free(p->index);
	free(p->waiter_cookie);
	free(p->waiter_next);
	free(p);
}

static bool hf_slot_matches(const struct hf_pending_slot *s, const struct hf_pending_key *k,
			    uint64_t hash)
{
	return s->hash == hash && s->qtype == k->qtype && s->qclass == k->qclass &&
	       s->variant == k->variant && s->qname_len == k->qname_len &&
	       memcmp(s->qname, k->qname, k->qname_len) == 0;
}

/* Index cell where the key is, or the empty cell where it would go. */
static uint32_t hf_index_probe(const struct hf_pending *p, const struct hf_pending_key *k,
			       uint64_t hash, bool *found)
{
	uint32_t c = (uint32_t)hash & p->index_mask;
	for (;;) {
		uint32_t v = p->index[c];
		if (v == 0) {
			*found = false;
			return c;
		}
		if (hf_slot_matches(&p->slot[v - 1], k, hash)) {
			*found = true;
			return c;
		}
		c = (c + 1) & p->index_mask;
	}
}

/* Removes a slot from the index; backward-shift keeps probe chains intact. */
static void hf_index_remove(struct hf_pending *p, uint32_t s)
{
	uint32_t c = (uint32_t)p->slot[s].hash & p->index_mask;
	while (p->index[c] != s + 1)
		c = (c + 1) & p->index_mask;
	p->index[c] = 0;
	for (uint32_t n = (c + 1) & p->index_mask; p->index[n] != 0; n = (n + 1) & p->index_mask) {
		uint32_t home = (uint32_t)p->slot[p->index[n] - 1].hash & p->index_mask;
		/* Move the entry back if its home is not in (c, n]. */
		if (((n - home) & p->index_mask) >= ((n - c) & p->index_mask)) {
			p->index[c] = p->index[n];
			p->index[n] = 0;
			c = n;
		}
	}
}

static bool hf_waiter_push(struct hf_pending *p, struct hf_pending_slot *s, void *cookie)
{
	uint32_t w = p->free_waiter;
	if (w == HF_NONE)
		return false;
	p->free_waiter = p->waiter_next[w];
	p->waiter_cookie[w] = cookie;
	p->waiter_next[w] = HF_NONE;
	if (s->first_waiter == HF_NONE)
		s->first_waiter = w;
	else
		p->waiter_next[s->last_waiter] = w;
	s->last_waiter = w;
	s->n_waiters++;
	p->n_waiters++;
	return true;
}

enum hf_pending_result hf_pending_add(struct hf_pending *p, const struct hf_pending_key *k,
				      uint64_t hash, void *cookie, uint64_t now_ns,
				      uint32_t *req_id)
{
	bool found;
	uint32_t c = hf_index_probe(p, k, hash, &found);

	if (found) {
		struct hf_pending_slot *s = &p->slot[p->index[c] - 1];
		if (s->n_waiters >= p->cfg.max_waiters_per_q || !hf_waiter_push(p, s, cookie))
			return HF_PENDING_BUSY;
		return HF_PENDING_JOINED;
	}
	if (p->free_slot == HF_NONE || p->free_waiter == HF_NONE)
		return HF_PENDING_FULL;

	uint32_t i = p->free_slot;
	struct hf_pending_slot *s = &p->slot[i];
	p->free_slot = p->slot_next_free[i];
	s->hash = hash;
	s->deadline_ns = now_ns + p->cfg.timeout_ns;
	s->qtype = k->qtype;
	s->qclass = k->qclass;
	s->variant = k->variant;
	s->qname_len = k->qname_len;
	memcpy(s->qname, k->qname, k->qname_len);
	s->n_waiters = 0;
	s->first_waiter = HF_NONE;
	hf_require(hf_waiter_push(p, s, cookie));
	p->index[c] = i + 1;
	p->n_used++;
	*req_id = hf_req_id(p, i);
	s->older = p->newest;
	s->newer = HF_NONE;
	if (p->newest != HF_NONE)
		p->slot[p->newest].newer = i;
	else
		p->oldest = i;
	p->newest = i;
	return HF_PENDING_NEW;
}

/* Moves a slot's waiters out and frees the slot. */
static unsigned hf_slot_release(struct hf_pending *p, uint32_t i, void **cookies)
{
	struct hf_pending_slot *s = &p->slot[i];
	unsigned n = 0;

	hf_index_remove(p, i);
	if (s->older != HF_NONE)
		p->slot[s->older].newer = s->newer;
	else
		p->oldest = s->newer;
	if (s->newer != HF_NONE)
		p->slot[s->newer].older = s->older;
	else
		p->newest = s->older;
	for (uint32_t w = s->first_waiter; w != HF_NONE;) {
		uint32_t next = p->waiter_next[w];
		cookies[n++] = p->waiter_cookie[w];
		p->waiter_next[w] = p->free_waiter;
		p->free_waiter = w;
		w = next;
	}
	p->n_waiters -= n;
	p->n_used--;
	s->first_waiter = HF_NONE;
	s->n_waiters = 0;
	s->gen = (uint16_t)((s->gen + 1) & 0x7fff ? (s->gen + 1) & 0x7fff : 1);
	p->slot_next_free[i] = p->free_slot;
	p->free_slot = i;
	return n;
}

unsigned hf_pending_take(struct hf_pending *p, uint32_t req_id, void **cookies)
{
	uint32_t i;
	if (!hf_req_slot(p, req_id, &i))
		return 0;
	return hf_slot_release(p, i, cookies);
}

unsigned hf_pending_expire(struct hf_pending *p, uint64_t now_ns, void **cookies)
{
	if (p->oldest == HF_NONE || p->slot[p->oldest].deadline_ns > now_ns)
		return 0;
	return hf_slot_release(p, p->oldest, cookies);
}

unsigned hf_pending_expire_key(struct hf_pending *p, uint64_t now_ns, void **cookies,
			       struct hf_pending_expired *key)
{
	if (p->oldest == HF_NONE || p->slot[p->oldest].deadline_ns > now_ns)
		return 0;
	const struct hf_pending_slot *s = &p->slot[p->oldest];
	memcpy(key->qname, s->qname, s->qname_len);
	key->qname_len = s->qname_len;
	key->variant = s->variant;
	key->qtype = s->qtype;
	key->qclass = s->qclass;
	return hf_slot_release(p, p->oldest, cookies);
}

void hf_pending_foreach(struct hf_pending *p,
			void (*fn)(void *ctx, const struct hf_pending_key *k, uint32_t req_id),
			void *ctx)
{
	for (uint32_t i = 0; i < p->n_slots; i++) {
		const struct hf_pending_slot *s = &p->slot[i];
		if (s->first_waiter == HF_NONE)
			continue;
		struct hf_pending_key k = {
			.qname = s->qname, .qname_len = s->qname_len, .variant = s->variant,
			.qtype = s->qtype, .qclass = s->qclass,
		};
		fn(ctx, &k, hf_req_id(p, i));
	}
}

unsigned hf_pending_questions(const struct hf_pending *p)
{
	return p->n_used;
}

unsigned hf_pending_waiters(const struct hf_pending *p)
{
	return p->n_waiters;
}
