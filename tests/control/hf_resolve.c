/*
 * hf-resolve: resolve questions with the real resolver (control/resolver.h)
 * and print what it renders, for people and for tests/control/test_resolve_lab.sh.
 *
 *   hf-resolve --hints FILE [--allow-loopback] [--timeout MS] [--anchors FILE [--do] [--cd]]
 *              NAME [TYPE]... [NAME [TYPE]...]...
 *
 * --anchors turns DNSSEC validation on with that trust-anchor file; --do and
 * --cd ask as a client with those bits would (RRSIGs and proofs; no validation);
 * --nta ZONE (repeatable) puts a Negative Trust Anchor on a zone; --probe asks
 * hf_resolver_probe() (does the zone validate, NTAs aside) for each NAME.
 *
 * Questions run one after another on one resolver (so later ones see the
 * cache). For each: the question, rcode, TTL, flags, time taken, the records
 * (parsed back with hf_pkt_parse()), each EDE, and a check that every TTL
 * offset points at a record's TTL field. Exit 0 when every question got an
 * answer (whatever its rcode), 1 otherwise, 2 on usage errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <uv.h>

#include "control/resolver.h"
#include "include/holdfast/dns.h"
#include "include/holdfast/name.h"
#include "include/holdfast/pkt.h"
#include "include/holdfast/wire_ctx.h"

#define MAX_Q 64

struct question {
	uint8_t name[HF_NAME_MAXLEN];
	uint16_t type;
};

struct run {
	uv_loop_t *loop;
	struct hf_resolver *r;
	struct question q[MAX_Q];
	unsigned n, cur, answered;
	uint8_t variant;
	bool probe;
	unsigned n_nta;
	uint8_t nta[8][HF_NAME_MAXLEN];
	uint64_t started_ns;
};

static const struct {
	const char *name;
	uint16_t type;
} types[] = {
	{ "A", HF_TYPE_A }, { "NS", HF_TYPE_NS }, { "CNAME", HF_TYPE_CNAME }, { "SOA", HF_TYPE_SOA },
	{ "PTR", HF_TYPE_PTR }, { "MX", HF_TYPE_MX }, { "TXT", HF_TYPE_TXT }, { "AAAA", HF_TYPE_AAAA },
	{ "SRV", HF_TYPE_SRV }, { "DNAME", HF_TYPE_DNAME }, { "DS", HF_TYPE_DS },
	{ "RRSIG", HF_TYPE_RRSIG }, { "NSEC", HF_TYPE_NSEC }, { "DNSKEY", HF_TYPE_DNSKEY },
	{ "NSEC3", HF_TYPE_NSEC3 }, { "HTTPS", HF_TYPE_HTTPS },
};

static int type_from_text(const char *s)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(s, types[i].name) == 0)
			return types[i].type;
	if (strncasecmp(s, "TYPE", 4) == 0 && s[4] >= '0' && s[4] <= '9')
		return atoi(s + 4) & 0xffff;
	return -1;
}

static void type_to_text(uint16_t t, char *out, size_t n)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == t) {
			snprintf(out, n, "%s", types[i].name);
			return;
		}
	snprintf(out, n, "TYPE%u", t);
}

static const char *rcode_text(unsigned rc)
{
	static const char *names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED" };
	return rc < 6 ? names[rc] : "RCODE?";
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void print_rdata(const struct hf_pkt *pkt, const struct hf_rr *rr)
{
	const uint8_t *rd = pkt->wire + rr->rdata_off;
	char buf[HF_NAME_TEXT_MAXLEN], buf2[HF_NAME_TEXT_MAXLEN];
	size_t pos = rr->rdata_off;
	uint8_t name[HF_NAME_MAXLEN];
	switch (rr->type) {
	case HF_TYPE_A:
		if (rr->rdlength == 4) {
			inet_ntop(AF_INET, rd, buf, sizeof(buf));
			printf("%s", buf);
			return;
		}
		break;
	case HF_TYPE_AAAA:
		if (rr->rdlength == 16) {
			inet_ntop(AF_INET6, rd, buf, sizeof(buf));
			printf("%s", buf);
			return;
		}
		break;
	case HF_TYPE_CNAME: case HF_TYPE_NS: case HF_TYPE_DNAME: case HF_TYPE_PTR:
		if (hf_name_unpack(pkt->wire, pkt->size, &pos, name) > 0) {
			hf_name_to_text(name, buf, sizeof(buf));
			printf("%s", buf);
			return;
		}
		break;
	case HF_TYPE_SOA: {
		uint8_t name2[HF_NAME_MAXLEN];
		if (hf_name_unpack(pkt->wire, pkt->size, &pos, name) > 0 &&
		    hf_name_unpack(pkt->wire, pkt->size, &pos, name2) > 0 && pos + 20 <= pkt->size) {
			hf_name_to_text(name, buf, sizeof(buf));
			hf_name_to_text(name2, buf2, sizeof(buf2));
			const uint8_t *p = pkt->wire + pos;
			printf("%s %s %u %u %u %u %u", buf, buf2, hf_wire_get_u32(p), hf_wire_get_u32(p + 4),
			       hf_wire_get_u32(p + 8), hf_wire_get_u32(p + 12), hf_wire_get_u32(p + 16));
			return;
		}
		break;
	}
	case HF_TYPE_TXT:
		for (unsigned i = 0; i < rr->rdlength;) {
			unsigned l = rd[i++];
			printf("%s\"%.*s\"", i > 1 ? " " : "", (int)(l <= rr->rdlength - i ? l : rr->rdlength - i),
			       (const char *)rd + i);
			i += l;
		}
		return;
	default:
		break;
	}
	printf("\\# %u ", rr->rdlength);
	for (unsigned i = 0; i < rr->rdlength; i++)
		printf("%02x", rd[i]);
}

static void print_answer(const struct hf_rendered *ans)
{
	struct hf_rr rr[512];
	struct hf_pkt pkt;
	int ret = hf_pkt_parse(&pkt, ans->msg, ans->msg_len, rr, 512);
	if (ret != 0) {
		printf(";; rendered message does not parse: %d\n", ret);
		return;
	}
	printf(";; rcode %s ttl %u flags%s%s%s n_ttl %u msg_len %u\n", rcode_text(ans->rcode), ans->ttl,
	       (pkt.flags & HF_FLAG_TC) ? " tc" : "", (ans->flags & HF_FILL_AD) ? " ad" : "",
	       (ans->flags & HF_FILL_NOCACHE) ? " nocache" : "", ans->n_ttl, ans->msg_len);
	static const char *sec[] = { "ANSWER", "AUTHORITY", "ADDITIONAL" };
	int last = -1;
	unsigned ttl_ok = 0;
	for (unsigned i = 0; i < pkt.rr_count; i++) {
		const struct hf_rr *r = &rr[i];
		if (r->section != last) {
			last = r->section;
			printf(";; %s\n", sec[last]);
		}
		uint8_t owner[HF_NAME_MAXLEN];
		char otext[HF_NAME_TEXT_MAXLEN], ttext[16];
		size_t pos = r->owner_off;
		hf_name_unpack(pkt.wire, pkt.size, &pos, owner);
		hf_name_to_text(owner, otext, sizeof(otext));
		type_to_text(r->type, ttext, sizeof(ttext));
		printf("%s\t%u\tIN\t%s\t", otext, r->ttl, ttext);
		print_rdata(&pkt, r);
		printf("\n");
		/* The TTL field sits 6 octets before the RDATA (TTL, RDLENGTH). */
		for (unsigned k = 0; k < ans->n_ttl; k++)
			ttl_ok += ans->ttl_off[k] == r->rdata_off - 6;
	}
	printf(";; ttl offsets %s (%u of %u records)\n",
	       ttl_ok == pkt.rr_count && ans->n_ttl == pkt.rr_count ? "ok" : "WRONG", ttl_ok, pkt.rr_count);
	for (unsigned off = 0; off + 6 <= ans->ede_len;) {
		uint16_t code = hf_wire_get_u16(ans->ede + off), len = hf_wire_get_u16(ans->ede + off + 2);
		if (code == HF_EDNS_OPT_EDE && len >= 2 && off + 4u + len <= ans->ede_len)
			printf(";; EDE %u: %.*s\n", hf_wire_get_u16(ans->ede + off + 4), (int)len - 2,
			       (const char *)ans->ede + off + 6);
		off += 4u + len;
	}
}

static void start_next(struct run *run);

static bool nta_lookup(void *ctx, const uint8_t *name, uint8_t *zone, char *reason, size_t size)
{
	const struct run *run = ctx;
	for (unsigned i = 0; i < run->n_nta; i++)
		if (hf_name_is_subdomain(name, run->nta[i])) {
			memcpy(zone, run->nta[i], hf_name_len(run->nta[i]));
			snprintf(reason, size, "hf-resolve --nta");
			return true;
		}
	return false;
}

static void on_answer(void *ctx, const struct hf_rendered *ans)
{
	struct run *run = ctx;
	uint64_t took = now_ns() - run->started_ns;
	print_answer(ans);
	printf(";; time %.1f ms\n\n", (double)took / 1e6);
	fflush(stdout);
	run->answered++;
	run->cur++;
	start_next(run);
}

static void start_next(struct run *run)
{
	if (run->cur >= run->n)
		return;  /* the loop ends once the last request's handles have closed */
	struct question *q = &run->q[run->cur];
	char name[HF_NAME_TEXT_MAXLEN], type[16];
	hf_name_to_text(q->name, name, sizeof(name));
	type_to_text(q->type, type, sizeof(type));
	printf(";; QUESTION %s %s\n", name, type);
	run->started_ns = now_ns();
	int ret = run->probe ? hf_resolver_probe(run->r, q->name, on_answer, run)
			     : hf_resolver_resolve(run->r, q->name, q->type, HF_CLASS_IN, run->variant,
						   on_answer, run);
	if (ret != 0) {
		printf(";; resolve failed: %d\n\n", ret);
		run->cur++;
		start_next(run);
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: hf-resolve --hints FILE [--allow-loopback] [--timeout MS] "
			"[--anchors FILE [--do] [--cd] [--nta ZONE]... [--probe]] NAME [TYPE]... ...\n");
	return 2;
}

int main(int argc, char **argv)
{
	static struct run run;
	struct hf_resolver_config cfg = { 0 };
	int i = 1;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--hints") == 0 && i + 1 < argc)
			cfg.root_hints = argv[++i];
		else if (strcmp(argv[i], "--allow-loopback") == 0)
			cfg.allow_loopback_upstreams = true;
		else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
			cfg.resolution_timeout_ms = (uint32_t)atoi(argv[++i]);
		else if (strcmp(argv[i], "--anchors") == 0 && i + 1 < argc) {
			cfg.dnssec = true;
			cfg.trust_anchors = argv[++i];
		} else if (strcmp(argv[i], "--do") == 0)
			run.variant |= HF_VARIANT_DO;
		else if (strcmp(argv[i], "--cd") == 0)
			run.variant |= HF_VARIANT_CD;
		else if (strcmp(argv[i], "--probe") == 0)
			run.probe = true;
		else if (strcmp(argv[i], "--nta") == 0 && i + 1 < argc && run.n_nta < 8) {
			if (hf_name_from_text(argv[++i], run.nta[run.n_nta]) < 0)
				return usage();
			hf_name_lower(run.nta[run.n_nta++]);
		}
		else
			return usage();
	}
	if (cfg.root_hints == NULL || i >= argc)
		return usage();
	for (; i < argc; i++) {
		int t = type_from_text(argv[i]);
		if (t >= 0 && run.n > 0 && (run.q[run.n - 1].type == 0 || i > 0)) {
			struct question *prev = &run.q[run.n - 1];
			if (prev->type == 0) {
				prev->type = (uint16_t)t;
			} else if (run.n < MAX_Q) {
				run.q[run.n] = *prev;
				run.q[run.n++].type = (uint16_t)t;
			}
			continue;
		}
		if (run.n == MAX_Q)
			return usage();
		if (hf_name_from_text(argv[i], run.q[run.n].name) < 0) {
			fprintf(stderr, "hf-resolve: bad name '%s'\n", argv[i]);
			return 2;
		}
		hf_name_lower(run.q[run.n].name);
		run.q[run.n++].type = 0;
	}
	for (unsigned k = 0; k < run.n; k++)
		if (run.q[k].type == 0)
			run.q[k].type = HF_TYPE_A;

	uv_loop_t loop;
	uv_loop_init(&loop);
	run.loop = &loop;
	char err[256];
	run.r = hf_resolver_create(&loop, &cfg, err, sizeof(err));
	if (run.r == NULL) {
		fprintf(stderr, "hf-resolve: %s\n", err);
		return 1;
	}
	if (run.n_nta > 0)
		hf_resolver_set_nta_lookup(run.r, nta_lookup, &run);
	start_next(&run);
	uv_run(&loop, UV_RUN_DEFAULT);
	if (run.r)
		hf_resolver_destroy(run.r);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return run.answered == run.n ? 0 : 1;
}
