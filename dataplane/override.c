/*
 * Overrides, dataplane side. The protocol is in "dataplane/override.h", the
 * shared layout in "include/holdfast/override.h".
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>
#include <urcu/urcu-qsbr.h>

#include "dataplane/override.h"
#include "include/holdfast/defines.h"
#include "include/holdfast/dns.h"
#include "include/holdfast/override.h"
#include "include/holdfast/shm.h"

struct hf_ovr_dp {
	struct hf_ovr_set *cur;       /* RCU-protected; never NULL */
	unsigned n_workers;
	uint64_t loaded;                   /* main lcore: newest generation read */
	_Atomic uint64_t n_applied;
	_Atomic uint64_t n_refused;
	_Atomic uint64_t n_freed;
};

static struct hf_ovr_set *hf_ovr_set_of_rcu(struct rcu_head *head)
{
	return (struct hf_ovr_set *)(void *)((char *)head -
						  offsetof(struct hf_ovr_set, rcu));
}

static void hf_ovr_set_free(struct hf_ovr_set *s)
{
	if (!s)
		return;
	for (unsigned w = 0; s->scratch && w < s->n_workers; w++)
		hs_free_scratch(s->scratch[w]);
	free(s->scratch);
	hs_free_database(s->db);
	free(s->rules);
	free(s->answers);
	free(s->hits);
	free(s->lit);
	free(s);
}

/* Allocates a set with its counter rows (and scratch array for n_rules > 0). */
static struct hf_ovr_set *hf_ovr_set_new(struct hf_ovr_dp *ov, unsigned n_rules)
{
	struct hf_ovr_set *s = calloc(1, sizeof(*s));
	size_t bytes;

	if (!s)
		return NULL;
	s->owner = ov;
	s->n_workers = ov->n_workers;
	s->n_rules = n_rules;
	/* Rows of whole cache lines: no two workers write one line. */
	s->hits_stride = ((size_t)n_rules + 7) & ~(size_t)7;
	if (s->hits_stride == 0)
		s->hits_stride = 8;
	bytes = s->hits_stride * sizeof(uint64_t) * ov->n_workers;
	s->hits = aligned_alloc(64, bytes);
	s->scratch = calloc(ov->n_workers, sizeof(*s->scratch));
	if (!s->hits || !s->scratch) {
		hf_ovr_set_free(s);
		return NULL;
	}
	memset(s->hits, 0, bytes);
	return s;
}

struct hf_ovr_dp *hf_ovr_create(unsigned n_workers)
{
	struct hf_ovr_dp *ov;

	if (n_workers == 0)
		return NULL;
	ov = calloc(1, sizeof(*ov));
	if (!ov)
		return NULL;
	ov->n_workers = n_workers;
	ov->cur = hf_ovr_set_new(ov, 0);
	if (!ov->cur) {
		free(ov);
		return NULL;
	}
	return ov;
}

static void hf_ovr_free_cb(struct rcu_head *head)
{
	struct hf_ovr_set *s = hf_ovr_set_of_rcu(head);
	struct hf_ovr_dp *ov = s->owner;

	if (s->ack) {
		/* Callbacks run in order, but keep `applied` monotonic anyway. */
		uint64_t cur = atomic_load_explicit(s->ack, memory_order_relaxed);

		while (cur < s->ack_gen &&
		       !atomic_compare_exchange_weak_explicit(s->ack, &cur, s->ack_gen,
							      memory_order_release,
							      memory_order_relaxed))
			;
	}
	hf_ovr_set_free(s);
	atomic_fetch_add_explicit(&ov->n_freed, 1, memory_order_relaxed);
}

void hf_ovr_destroy(struct hf_ovr_dp *ov)
{
	bool was_online;

	if (!ov)
		return;
	was_online = urcu_qsbr_read_ongoing();
	/* Pending callbacks use ov (n_freed): wait for them, offline. */
	if (was_online)
		urcu_qsbr_thread_offline();
	urcu_qsbr_barrier();
	if (was_online)
		urcu_qsbr_thread_online();
	hf_ovr_set_free(ov->cur);
	free(ov);
}

const struct hf_ovr_set *hf_ovr_current(struct hf_ovr_dp *ov)
{
	return rcu_dereference(ov->cur);
}

/* ---- Matching (workers). */

struct hf_ovr_match {
	const struct hf_ovr_set *set;
	const char *text;
	size_t len;
	uint16_t qtype;
	const struct hf_ovr_rule *best;
};

static int hf_ovr_on_match(unsigned id, unsigned long long from, unsigned long long to,
			   unsigned flags, void *ctx)
{
	struct hf_ovr_match *m = ctx;
	const struct hf_ovr_rule *r, *best;

	(void)from;
	(void)flags;
	if (hf_unlikely(id >= m->set->n_rules))
		return 0;
	r = &m->set->rules[id];
	if (r->qtype != 0 && r->qtype != m->qtype)
		return 0;
	(void)to;
	if (hf_unlikely(r->kind != HF_OVR_REGEX))
		return 0;
	best = m->best;
	if (!best || r->specificity > best->specificity ||
	    (r->specificity == best->specificity && r->id < best->id))
		m->best = r;
	return 0;
}

/*
 * Where the suffixes of a name's text start: 0 (the whole name), the start
 * of each later label (escapes hide dots), and the final dot (the root's
 * suffix "."). Returns how many; the suffix at start[k] has n - 1 - k
 * labels. The root name "." has one: itself.
 */
static unsigned hf_ovr_suffixes(const char *t, size_t len, uint16_t *start)
{
	unsigned n = 0;
	size_t i = 0;

	start[n++] = 0;
	if (len == 1)
		return 1;
	while (i < len && n < HF_NAME_MAXLABELS + 1) {
		if (t[i] == '\\') {
			i += (i + 1 < len && t[i + 1] >= '0' && t[i + 1] <= '9') ? 4 : 2;
		} else if (t[i] == '.') {
			start[n++] = (uint16_t)(i + 1 < len ? i + 1 : i);
			i++;
		} else {
			i++;
		}
	}
	return n;
}

/*
 * Suffix hashes: walking the labels right to left, each label's octets
 * (8 at a time) are mixed into the hash of the suffix after it, so every
 * suffix's hash comes out of one pass. A rule's name is hashed the same
 * way, label by label, so equal texts hash equal.
 */
#define HF_OVR_HASH_BASIS UINT64_C(0x243f6a8885a308d3)
#define HF_OVR_HASH_MUL   UINT64_C(0x9e3779b97f4a7c15)

static inline uint64_t hf_ovr_mix(uint64_t h, const char *p, size_t n)
{
	uint64_t w;

	while (n >= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * HF_OVR_HASH_MUL;
		h ^= h >> 32;
		p += 8;
		n -= 8;
	}
	/* The tail: one 8-byte load, masked (both text buffers have 8 bytes of
	 * slack; a byte-wise copy would stall the load on store forwarding).
	 * Host byte order: both sides of the comparison are this process. */
	memcpy(&w, p, 8);
	if (n == 0)
		w = 0;
	else if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
		w &= ~UINT64_C(0) >> (64 - 8 * n);
	else
		w &= ~UINT64_C(0) << (64 - 8 * n);
	h = (h ^ w ^ ((uint64_t)n << 59)) * HF_OVR_HASH_MUL;
	return h ^ (h >> 32);
}

static uint32_t hf_ovr_hash_text(const char *text, size_t len)
{
	uint16_t start[HF_NAME_MAXLABELS + 2];
	unsigned n = hf_ovr_suffixes(text, len, start);
	uint64_t h = HF_OVR_HASH_BASIS;
	size_t end = len;

	for (unsigned k = n; k-- > 0;) {
		h = hf_ovr_mix(h, text + start[k], end - start[k]);
		end = start[k];
	}
	return (uint32_t)h;
}

static const char *hf_ovr_rule_text(const struct hf_ovr_set *set, const struct hf_ovr_rule *r)
{
	return (const char *)set->answers + r->answer_off + r->answer_len;
}

/* Candidates for the suffix text[p..len) (p == 0: the whole name). */
static void hf_ovr_probe(const struct hf_ovr_set *set, struct hf_ovr_match *m, size_t p,
			 uint32_t h)
{
	size_t slen = m->len - p;

	for (uint32_t i = h & set->lit_mask;; i = (i + 1) & set->lit_mask) {
		const struct hf_ovr_lit *e = &set->lit[i];
		const struct hf_ovr_rule *r, *best;

		if (e->rule == 0)
			return;
		if (e->hash != h)
			continue;
		r = &set->rules[e->rule - 1];
		if (r->pattern_len != slen ||
		    memcmp(hf_ovr_rule_text(set, r), m->text + p, slen) != 0)
			continue;
		if ((r->kind == HF_OVR_EXACT && p != 0) || (r->qtype != 0 && r->qtype != m->qtype))
			continue;
		best = m->best;
		if (!best || r->specificity > best->specificity ||
		    (r->specificity == best->specificity && r->id < best->id))
			m->best = r;
	}
}

/* Exact and subtree rules: one probe per suffix that starts a label, and the
 * root ("." at the end), skipping label counts no rule has. All hashes
 * first, then prefetches, then probes: the table is large and the probes
 * are random, so their cache misses should overlap. */
static void hf_ovr_match_literals(const struct hf_ovr_set *set, struct hf_ovr_match *m)
{
	uint16_t start[HF_NAME_MAXLABELS + 2];
	uint16_t at[HF_NAME_MAXLABELS + 2];
	uint32_t hash[HF_NAME_MAXLABELS + 2];
	unsigned n = hf_ovr_suffixes(m->text, m->len, start), n_probe = 0;
	uint64_t h = HF_OVR_HASH_BASIS;
	size_t end = m->len;

	for (unsigned k = n; k-- > 0;) {
		unsigned labels = n - 1 - k;

		h = hf_ovr_mix(h, m->text + start[k], end - start[k]);
		end = start[k];
		if (!(set->lit_labels[labels >> 6] & (UINT64_C(1) << (labels & 63))))
			continue;
		at[n_probe] = start[k];
		hash[n_probe] = (uint32_t)h;
		__builtin_prefetch(&set->lit[hash[n_probe] & set->lit_mask]);
		n_probe++;
	}
	for (unsigned k = 0; k < n_probe; k++)
		hf_ovr_probe(set, m, at[k], hash[k]);
}

const struct hf_ovr_rule *hf_ovr_match(const struct hf_ovr_set *set,
						 hs_scratch_t *scratch, const char *name_text,
						 size_t len, uint16_t qtype)
{
	struct hf_ovr_match m;

	/* The usual case, and the fast pre-check: no rules, no work. */
	if (set->n_rules == 0)
		return NULL;
	m.set = set;
	m.text = name_text;
	m.len = len;
	m.qtype = qtype;
	m.best = NULL;
	if (set->n_literal)
		hf_ovr_match_literals(set, &m);
	/* An exact match cannot be beaten by a regex. */
	if (set->n_regex && !(m.best && m.best->kind == HF_OVR_EXACT) &&
	    hs_scan(set->db, name_text, (unsigned)len, 0, scratch, hf_ovr_on_match, &m) !=
	    HS_SUCCESS)
		return NULL;
	return m.best;
}

uint64_t hf_ovr_hits(const struct hf_ovr_set *set, unsigned i)
{
	uint64_t sum = 0;

	if (i >= set->n_rules)
		return 0;
	for (unsigned w = 0; w < set->n_workers; w++)
		sum += atomic_load_explicit(&set->hits[(size_t)w * set->hits_stride + i],
					    memory_order_relaxed);
	return sum;
}

/* ---- Applying sets (main lcore). */

/* Checks a slot's header against the slot size; returns n_rules or -EBADMSG. */
static int hf_ovr_check_header(const struct hf_ovr_header *h, uint64_t gen)
{
	uint64_t rules_end;

	if (h->magic != HF_OVR_MAGIC || h->generation != gen ||
	    h->rule_size != sizeof(struct hf_ovr_rule) ||
	    h->n_rules > HF_OVR_MAX_RULES ||
	    h->total_len > HF_SHM_OVERRIDE_SLOT_SIZE)
		return -EBADMSG;
	if (h->db_offset < sizeof(*h) || (uint64_t)h->db_offset + h->db_len > h->rules_offset)
		return -EBADMSG;
	rules_end = h->rules_offset + (uint64_t)h->n_rules * sizeof(struct hf_ovr_rule);
	if (h->rules_offset % 8 || rules_end > h->answers_offset ||
	    (uint64_t)h->answers_offset + h->answers_len != h->total_len)
		return -EBADMSG;
	return (int)h->n_rules;
}

/* Checks one copied rule: fields in range, its records inside the answers. */
static bool hf_ovr_rule_ok(const struct hf_ovr_rule *r, const uint8_t *answers,
			   uint32_t answers_len)
{
	const uint8_t *p, *end;
	unsigned n = 0;

	if (r->kind < HF_OVR_EXACT || r->kind > HF_OVR_REGEX ||
	    r->action < HF_OVR_INSECURE || r->action > HF_OVR_ACTION_MAX ||
	    r->reason_len > HF_OVR_REASON_MAX ||
	    (r->kind != HF_OVR_REGEX && (r->pattern_len == 0 || r->pattern_len >= HF_OVR_TEXT_MAX)) ||
	    (r->kind == HF_OVR_REGEX && r->pattern_len != 0) ||
	    (uint64_t)r->answer_off + r->answer_len + r->pattern_len > answers_len)
		return false;
	p = answers + r->answer_off;
	end = p + r->answer_len;
	while (p < end) {
		if (end - p < 12 || (size_t)(end - p) < 12 + (size_t)(p[10] << 8 | p[11]) ||
		    p[0] != 0xc0 || p[1] != 0x0c)
			return false;
		p += 12 + (p[10] << 8 | p[11]);
		n++;
	}
	return n == r->n_answers;
}

/* The literal table: load factor <= 1/2, so probes stay short. */
static int hf_ovr_build_literals(struct hf_ovr_set *s)
{
	uint32_t size = 8;

	while (size < 2 * s->n_literal)
		size *= 2;
	s->lit = calloc(size, sizeof(*s->lit));
	if (!s->lit)
		return -ENOMEM;
	s->lit_mask = size - 1;
	for (unsigned i = 0; i < s->n_rules; i++) {
		const struct hf_ovr_rule *r = &s->rules[i];
		uint32_t h, j, labels;

		if (r->kind == HF_OVR_REGEX)
			continue;
		h = hf_ovr_hash_text(hf_ovr_rule_text(s, r), r->pattern_len);
		labels = (r->specificity & 0xffff) & (HF_NAME_MAXLABELS - 1);
		s->lit_labels[labels >> 6] |= UINT64_C(1) << (labels & 63);
		for (j = h & s->lit_mask; s->lit[j].rule != 0; j = (j + 1) & s->lit_mask)
			;
		s->lit[j] = (struct hf_ovr_lit){ .hash = h, .rule = i + 1 };
	}
	return 0;
}

/* Builds a private set from the slot of generation gen. */
static int hf_ovr_load(struct hf_ovr_dp *ov, const uint8_t *slot, uint64_t gen,
		       struct hf_ovr_set **out)
{
	struct hf_ovr_header h;
	struct hf_ovr_set *s;
	hs_scratch_t *proto = NULL;
	int n, rc;

	memcpy(&h, slot, sizeof(h));
	n = hf_ovr_check_header(&h, gen);
	if (n < 0)
		return n;
	s = hf_ovr_set_new(ov, (unsigned)n);
	if (!s)
		return -ENOMEM;
	s->generation = gen;
	s->answers_len = h.answers_len;
	s->rules = malloc((size_t)n * sizeof(*s->rules) + 1);
	s->answers = calloc(1, (size_t)h.answers_len + 8);  /* + 8: hf_ovr_mix() reads ahead */
	if (!s->rules || !s->answers) {
		rc = -ENOMEM;
		goto err_free_set;
	}
	memcpy(s->rules, slot + h.rules_offset, (size_t)n * sizeof(*s->rules));
	memcpy(s->answers, slot + h.answers_offset, h.answers_len);
	for (int i = 0; i < n; i++) {
		if (!hf_ovr_rule_ok(&s->rules[i], s->answers, s->answers_len)) {
			rc = -EBADMSG;
			goto err_free_set;
		}
		if (s->rules[i].kind == HF_OVR_REGEX)
			s->n_regex++;
		else
			s->n_literal++;
	}
	rc = hf_ovr_build_literals(s);
	if (rc < 0)
		goto err_free_set;
	if ((s->n_regex == 0) != (h.db_len == 0)) {
		rc = -EBADMSG;
		goto err_free_set;
	}
	if (s->n_regex == 0) {
		*out = s;
		return 0;
	}
	/* Into our own memory: the slot will be reused. */
	if (hs_deserialize_database((const char *)slot + h.db_offset, h.db_len, &s->db) !=
	    HS_SUCCESS) {
		s->db = NULL;
		rc = -EPROTO;
		goto err_free_set;
	}
	if (hs_alloc_scratch(s->db, &proto) != HS_SUCCESS) {
		rc = -ENOMEM;
		goto err_free_set;
	}
	s->scratch[0] = proto;
	for (unsigned w = 1; w < s->n_workers; w++) {
		if (hs_clone_scratch(proto, &s->scratch[w]) != HS_SUCCESS) {
			rc = -ENOMEM;
			goto err_free_set;
		}
	}
	*out = s;
	return 0;

err_free_set:
	hf_ovr_set_free(s);
	return rc;
}

int hf_ovr_poll(struct hf_ovr_dp *ov, struct hf_shm *shm)
{
	struct hf_shm_override_state *st = hf_shm_override_state(shm);
	struct hf_ovr_set *s = NULL, *old;
	uint64_t gen, again;
	int rc;

	gen = atomic_load_explicit(&st->published, memory_order_acquire);
	if (gen <= ov->loaded)
		return 0;
	rc = hf_ovr_load(ov, hf_shm_override_slot(shm, (unsigned)(gen % 2)), gen, &s);
	/* The control plane reuses this slot for gen + 2 only after we store
	 * loaded >= gen; if it did not wait, what we copied may be torn. */
	again = atomic_load_explicit(&st->published, memory_order_acquire);
	if (again >= gen + 2) {
		hf_ovr_set_free(s);
		return -EAGAIN;
	}
	if (rc < 0) {
		atomic_store_explicit(&st->error, rc, memory_order_relaxed);
		atomic_store_explicit(&st->error_generation, gen, memory_order_release);
		ov->loaded = gen;
		atomic_store_explicit(&st->loaded, gen, memory_order_release);
		atomic_fetch_add_explicit(&ov->n_refused, 1, memory_order_relaxed);
		return rc;
	}
	old = rcu_xchg_pointer(&ov->cur, s);
	ov->loaded = gen;
	/* Release: our reads of the slot are done before the control plane
	 * may reuse it. */
	atomic_store_explicit(&st->loaded, gen, memory_order_release);
	old->ack = &st->applied;
	old->ack_gen = gen;
	urcu_qsbr_call_rcu(&old->rcu, hf_ovr_free_cb);
	atomic_fetch_add_explicit(&ov->n_applied, 1, memory_order_relaxed);
	return 1;
}

void hf_ovr_publish_hits(struct hf_ovr_dp *ov, struct hf_shm *shm)
{
	struct hf_shm_override_hits *hb = hf_shm_override_hits(shm);
	const struct hf_ovr_set *s = ov->cur;  /* the writer's own pointer */

	/* Readers retry while the generation changes under them; zero it first
	 * so that a reader never pairs new counts with the old generation. */
	atomic_store_explicit(&hb->generation, 0, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&hb->n_rules, s->n_rules, memory_order_relaxed);
	for (unsigned i = 0; i < s->n_rules; i++)
		atomic_store_explicit(&hb->hits[i], hf_ovr_hits(s, i), memory_order_relaxed);
	atomic_store_explicit(&hb->generation, s->generation, memory_order_release);
}

void hf_ovr_stats(const struct hf_ovr_dp *ov, struct hf_ovr_dp_stats *out)
{
	const struct hf_ovr_set *s = ov->cur;

	out->applied = atomic_load_explicit(&ov->n_applied, memory_order_relaxed);
	out->refused = atomic_load_explicit(&ov->n_refused, memory_order_relaxed);
	out->freed = atomic_load_explicit(&ov->n_freed, memory_order_relaxed);
	out->generation = s->generation;
	out->n_rules = s->n_rules;
}
