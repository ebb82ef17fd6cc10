/*
 * Test helpers for the resolver's unit tests: names from text, RRsets, and
 * responses built with hf_build and parsed back with hf_pkt_parse.
 */
#pragma once

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "include/holdfast/build.h"
#include "include/holdfast/name.h"
#include "include/holdfast/pkt.h"
#include "control/resolver/rrset.h"

/* Wire form of a presentation name; a few rotating buffers so calls can nest in one expression. */
static inline const uint8_t *N(const char *text)
{
	static uint8_t buf[8][HF_NAME_MAXLEN];
	static unsigned next;
	uint8_t *out = buf[next++ % 8];
	if (hf_name_from_text(text, out) < 0)
		abort();
	return out;
}

static inline struct hf_rrset *rrset_a(const char *owner, uint32_t ttl, const char *ip)
{
	uint8_t rd[4];
	inet_pton(AF_INET, ip, rd);
	return hf_rrset_new1(N(owner), HF_TYPE_A, HF_CLASS_IN, ttl, rd, 4);
}

static inline struct hf_rrset *rrset_name(const char *owner, uint16_t type, uint32_t ttl,
					  const char *target)
{
	const uint8_t *t = N(target);
	return hf_rrset_new1(N(owner), type, HF_CLASS_IN, ttl, t, (uint16_t)hf_name_len(t));
}

/* SOA RDATA: mname, rname, serial 1, refresh, retry, expire, minimum. */
static inline struct hf_rrset *rrset_soa(const char *owner, uint32_t ttl, uint32_t minimum)
{
	uint8_t rd[2 * HF_NAME_MAXLEN + 20];
	size_t n = 0;
	const uint8_t *m = N("ns.invalid."), *r = N("host.invalid.");
	memcpy(rd, m, hf_name_len(m));
	n += hf_name_len(m);
	memcpy(rd + n, r, hf_name_len(r));
	n += hf_name_len(r);
	uint32_t f[5] = { 1, 3600, 600, 86400, minimum };
	for (int i = 0; i < 5; i++) {
		rd[n++] = (uint8_t)(f[i] >> 24);
		rd[n++] = (uint8_t)(f[i] >> 16);
		rd[n++] = (uint8_t)(f[i] >> 8);
		rd[n++] = (uint8_t)f[i];
	}
	return hf_rrset_new1(N(owner), HF_TYPE_SOA, HF_CLASS_IN, ttl, rd, (uint16_t)n);
}

/* A response under construction. */
struct test_msg {
	uint8_t wire[4096];
	struct hf_build b;
	struct hf_pkt pkt;
	struct hf_rr rr[128];
};

static inline void msg_begin(struct test_msg *m, uint16_t id, uint16_t flags, const char *qname,
			     uint16_t qtype)
{
	if (hf_build_init(&m->b, m->wire, sizeof(m->wire), id, flags) != 0 ||
	    hf_build_question(&m->b, N(qname), qtype, HF_CLASS_IN) != 0)
		abort();
}

static inline void msg_rr(struct test_msg *m, uint8_t section, const char *owner, uint16_t type,
			  const uint8_t *rdata, uint16_t len)
{
	if (hf_build_rr(&m->b, section, N(owner), type, HF_CLASS_IN, 300, rdata, len) < 0)
		abort();
}

static inline void msg_name_rr(struct test_msg *m, uint8_t section, const char *owner, uint16_t type,
			       const char *target)
{
	const uint8_t *t = N(target);
	uint8_t copy[HF_NAME_MAXLEN];
	memcpy(copy, t, hf_name_len(t));
	msg_rr(m, section, owner, type, copy, (uint16_t)hf_name_len(copy));
}

static inline void msg_a_rr(struct test_msg *m, uint8_t section, const char *owner, const char *ip)
{
	uint8_t rd[4];
	inet_pton(AF_INET, ip, rd);
	msg_rr(m, section, owner, HF_TYPE_A, rd, 4);
}

static inline void msg_soa_rr(struct test_msg *m, const char *owner)
{
	struct hf_rrset *s = rrset_soa(owner, 300, 60);
	uint16_t len;
	const uint8_t *rd = hf_rrset_rdata(s, 0, &len);
	msg_rr(m, HF_SECTION_AUTHORITY, owner, HF_TYPE_SOA, rd, len);
	free(s);
}

/* Finish and parse; returns the length. */
static inline int msg_end(struct test_msg *m)
{
	int len = hf_build_finish(&m->b);
	if (len < 0 || hf_pkt_parse(&m->pkt, m->wire, (size_t)len, m->rr, 128) != 0)
		abort();
	return len;
}
