/*
 * Infrastructure cache: SRTT, RTO and quirks per server address.
 */
#include <stdlib.h>
#include <string.h>

#include "control/resolver/infra.h"

struct hf_infra *hf_infra_create(size_t max_entries, uint32_t unknown_rto_ms)
{
	struct hf_infra *in = calloc(1, sizeof(*in));
	if (in == NULL)
		return NULL;
	in->n_sets = max_entries / HF_INFRA_WAYS;
	if (in->n_sets == 0)
		in->n_sets = 1;
	in->unknown_rto_ms = unknown_rto_ms;
	in->e = calloc(in->n_sets * HF_INFRA_WAYS, sizeof(*in->e));
	if (in->e == NULL) {
		free(in);
		return NULL;
	}
	return in;
}

void hf_infra_destroy(struct hf_infra *in)
{
	if (in == NULL)
		return;
	free(in->e);
	free(in);
}

static uint64_t addr_hash(const union hf_addr *a)
{
	/* FNV-1a over the address octets and port: no adversary picks these. */
	const uint8_t *p;
	size_t n;
	if (a->sa.sa_family == AF_INET6) {
		p = (const uint8_t *)&a->in6.sin6_addr;
		n = 16;
	} else {
		p = (const uint8_t *)&a->in.sin_addr;
		n = 4;
	}
	uint64_t h = 1469598103934665603ull ^ a->in.sin_port;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* The entry for addr, or NULL; with create, the set's least recently used way is reset for it. */
static struct hf_infra_entry *lookup(struct hf_infra *in, const union hf_addr *addr, uint64_t now,
				     bool create)
{
	struct hf_infra_entry *set = &in->e[(addr_hash(addr) % in->n_sets) * HF_INFRA_WAYS];
	struct hf_infra_entry *victim = &set[0];
	for (unsigned w = 0; w < HF_INFRA_WAYS; w++) {
		struct hf_infra_entry *e = &set[w];
		if (e->used_ms != 0 && hf_addr_equal(&e->addr, addr)) {
			if (now - e->used_ms > HF_INFRA_TTL_MS) {
				/* Stale knowledge: start over rather than trust an old timeout. */
				victim = e;
				break;
			}
			return e;
		}
		if (e->used_ms < victim->used_ms)
			victim = e;
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->addr = *addr;
	victim->rto_ms = in->unknown_rto_ms;
	victim->used_ms = now ? now : 1;
	return victim;
}

uint32_t hf_infra_rto(struct hf_infra *in, const union hf_addr *addr, uint64_t now_ms)
{
	struct hf_infra_entry *e = lookup(in, addr, now_ms, false);
	return e ? e->rto_ms : in->unknown_rto_ms;
}

static uint32_t clamp_rto(uint64_t v)
{
	if (v < HF_INFRA_RTO_MIN_MS)
		return HF_INFRA_RTO_MIN_MS;
	if (v > HF_INFRA_RTO_MAX_MS)
		return HF_INFRA_RTO_MAX_MS;
	return (uint32_t)v;
}

void hf_infra_rtt(struct hf_infra *in, const union hf_addr *addr, uint32_t rtt_ms, uint64_t now_ms)
{
	struct hf_infra_entry *e = lookup(in, addr, now_ms, true);
	if (!e->known) {
		e->srtt_ms = rtt_ms;
		e->rttvar_ms = rtt_ms / 2;
		e->known = 1;
	} else {
		uint32_t diff = e->srtt_ms > rtt_ms ? e->srtt_ms - rtt_ms : rtt_ms - e->srtt_ms;
		e->rttvar_ms = (3 * e->rttvar_ms + diff) / 4;
		e->srtt_ms = (7 * e->srtt_ms + rtt_ms) / 8;
	}
	e->rto_ms = clamp_rto((uint64_t)e->srtt_ms + 4ull * e->rttvar_ms);
	e->timeouts = 0;
	e->backoff_ms = 0;
	e->used_ms = now_ms ? now_ms : 1;
}

void hf_infra_timeout(struct hf_infra *in, const union hf_addr *addr, uint64_t now_ms)
{
	struct hf_infra_entry *e = lookup(in, addr, now_ms, true);
	/* A query sent after the last doubling waited at least the doubled RTO:
	 * one timing out sooner than that was sent before it, with a smaller RTO. */
	if (e->backoff_ms == 0 || now_ms - e->backoff_ms >= e->rto_ms) {
		e->rto_ms = clamp_rto(2ull * e->rto_ms);
		e->backoff_ms = now_ms ? now_ms : 1;
	}
	if (e->timeouts < UINT16_MAX)
		e->timeouts++;
	e->used_ms = now_ms ? now_ms : 1;
}

uint8_t hf_infra_flags(struct hf_infra *in, const union hf_addr *addr, uint64_t now_ms)
{
	struct hf_infra_entry *e = lookup(in, addr, now_ms, false);
	return e ? e->flags : 0;
}

void hf_infra_set_flags(struct hf_infra *in, const union hf_addr *addr, uint8_t flags, uint64_t now_ms)
{
	struct hf_infra_entry *e = lookup(in, addr, now_ms, true);
	e->flags |= flags;
}

int hf_infra_select(struct hf_infra *in, const union hf_addr *cand, unsigned n, uint64_t now_ms,
		    uint32_t rnd)
{
	if (n == 0)
		return -1;
	uint32_t best = UINT32_MAX;
	for (unsigned i = 0; i < n; i++) {
		uint32_t r = hf_infra_rto(in, &cand[i], now_ms);
		if (r < best)
			best = r;
	}
	unsigned eligible = 0;
	for (unsigned i = 0; i < n; i++)
		eligible += hf_infra_rto(in, &cand[i], now_ms) <= best + HF_INFRA_BAND_MS;
	unsigned pick = rnd % eligible;
	for (unsigned i = 0; i < n; i++) {
		if (hf_infra_rto(in, &cand[i], now_ms) > best + HF_INFRA_BAND_MS)
			continue;
		if (pick-- == 0)
			return (int)i;
	}
	return -1;
}
