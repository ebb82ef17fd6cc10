/*
 * Trust anchor files: DS and DNSKEY records in zone-file form.
 *
 * The parser reads records, not lines: parentheses let one record span
 * several lines (as `dig` and `ldns-keygen` print long DNSKEYs), and the
 * base64 key or hex digest may be split into several tokens. An error
 * names the line the record starts on, because an operator with a typo in
 * the anchor gets a resolver that calls everything bogus otherwise.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "include/holdfast/errcode.h"
#include "include/holdfast/file.h"
#include "include/holdfast/name.h"
#include "control/dnssec/anchor.h"

#define ANCHOR_FILE_MAX  (1u << 20)  /*!< octets; a root.key is ~1 kB */
#define ANCHOR_RDATA_MAX 4096        /*!< octets of one record's RDATA (RSA-4096 DNSKEY is ~520) */
#define ANCHOR_TOKENS    512         /*!< tokens in one record (base64 split at any width) */
#define DEFAULT_TTL      3600        /*!< seconds; anchors do not expire, the TTL only fills the field */

/*
 * IANA's root anchors (https://data.iana.org/root-anchors/root-anchors.xml):
 * KSK-2017 (tag 20326) and KSK-2024 (tag 38696), RSASHA256, SHA-256 digests.
 */
static const char builtin_root_anchors[] =
	". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"
	". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16\n";

/* One record read from the file, before records are grouped into RRsets. */
struct anchor_rec {
	unsigned zone;   /*!< index into hf_anchors.a */
	uint16_t type;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t *rdata;
};

struct parser {
	const char *fname;
	char *err;
	size_t err_size;
	struct hf_anchors *out;
	struct anchor_rec *recs;
	unsigned n_recs, cap_recs;
};

__attribute__((format(printf, 3, 4)))
static int perr(struct parser *p, unsigned line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->err_size, "%s:%u: %s", p->fname, line, msg);
	return -EINVAL;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	if (!isdigit((unsigned char)s[0]))
		return false;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Concatenated hex tokens into out; returns octets or -1. */
static int hex_tokens(char **tok, unsigned n, uint8_t *out, size_t cap)
{
	size_t o = 0;
	int hi = -1;
	for (unsigned i = 0; i < n; i++) {
		for (const char *c = tok[i]; *c; c++) {
			int v = hexval((unsigned char)*c);
			if (v < 0)
				return -1;
			if (hi < 0) {
				hi = v;
				continue;
			}
			if (o == cap)
				return -1;
			out[o++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return hi < 0 && o > 0 ? (int)o : -1;
}

/*
 * Concatenated base64 tokens into out; returns octets or -1.
 * EVP_DecodeBlock wants whole 4-character groups and counts '=' padding as
 * zero octets, so the padding is checked and subtracted here.
 */
static int base64_tokens(char **tok, unsigned n, uint8_t *out, size_t cap)
{
	char buf[ANCHOR_RDATA_MAX * 2];
	size_t len = 0;
	for (unsigned i = 0; i < n; i++) {
		size_t l = strlen(tok[i]);
		if (len + l >= sizeof(buf))
			return -1;
		memcpy(buf + len, tok[i], l);
		len += l;
	}
	if (len == 0 || len % 4 != 0 || len / 4 * 3 > cap)
		return -1;
	size_t pad = 0;
	while (pad < 2 && buf[len - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < len - pad; i++)
		if (!isalnum((unsigned char)buf[i]) && buf[i] != '+' && buf[i] != '/')
			return -1;
	int got = EVP_DecodeBlock(out, (const unsigned char *)buf, (int)len);
	if (got < 0 || (size_t)got != len / 4 * 3)
		return -1;
	return got - (int)pad;
}

static int find_or_add_zone(struct parser *p, const uint8_t *zone, unsigned line, unsigned *idx)
{
	struct hf_anchors *as = p->out;
	for (unsigned i = 0; i < as->n; i++) {
		if (hf_name_equal(as->a[i].zone, zone)) {
			*idx = i;
			return 0;
		}
	}
	if (as->n == HF_ANCHOR_MAX)
		return perr(p, line, "more than %u zones with trust anchors", HF_ANCHOR_MAX);
	memcpy(as->a[as->n].zone, zone, hf_name_len(zone));
	*idx = as->n++;
	return 0;
}

static int add_rec(struct parser *p, unsigned zone, uint16_t type, uint32_t ttl,
		   const uint8_t *rd, size_t rdlen, unsigned line)
{
	unsigned same = 0;
	for (unsigned i = 0; i < p->n_recs; i++)
		same += p->recs[i].zone == zone && p->recs[i].type == type;
	if (same == HF_RRSET_MAX_RR)
		return perr(p, line, "more than %u %s records for one zone", HF_RRSET_MAX_RR,
			    type == HF_TYPE_DS ? "DS" : "DNSKEY");
	if (p->n_recs == p->cap_recs) {
		unsigned cap = p->cap_recs ? p->cap_recs * 2 : 8;
		struct anchor_rec *r = realloc(p->recs, cap * sizeof(*r));
		if (r == NULL)
			return -ENOMEM;
		p->recs = r;
		p->cap_recs = cap;
	}
	uint8_t *copy = malloc(rdlen);
	if (copy == NULL)
		return -ENOMEM;
	memcpy(copy, rd, rdlen);
	p->recs[p->n_recs++] = (struct anchor_rec){
		.zone = zone, .type = type, .ttl = ttl, .rdlen = (uint16_t)rdlen, .rdata = copy,
	};
	return 0;
}

/* One record: owner [TTL] [IN] TYPE rdata (TTL and class in either order, as RFC 1035 §5.1 allows). */
static int parse_record(struct parser *p, char **tok, unsigned n, unsigned line)
{
	uint8_t owner[HF_NAME_MAXLEN];
	uint8_t rd[ANCHOR_RDATA_MAX];
	unsigned long ttl = DEFAULT_TTL;
	unsigned i = 1;
	bool have_ttl = false, have_class = false;

	if (tok[0][0] == '$')
		return perr(p, line, "directive '%s' is not supported", tok[0]);
	if (hf_name_from_text(tok[0], owner) < 0)
		return perr(p, line, "bad owner name '%s'", tok[0]);
	hf_name_lower(owner);
	while (i < n) {
		if (!have_ttl && isdigit((unsigned char)tok[i][0])) {
			if (!parse_uint(tok[i], INT32_MAX, &ttl))
				return perr(p, line, "bad TTL '%s'", tok[i]);
			have_ttl = true;
		} else if (!have_class && strcasecmp(tok[i], "IN") == 0) {
			have_class = true;
		} else if (!have_class && (strcasecmp(tok[i], "CH") == 0 || strcasecmp(tok[i], "HS") == 0 ||
					   strcasecmp(tok[i], "CS") == 0 || strncasecmp(tok[i], "CLASS", 5) == 0)) {
			return perr(p, line, "wrong class '%s' (only IN)", tok[i]);
		} else {
			break;
		}
		i++;
	}
	if (i == n)
		return perr(p, line, "expected 'owner [TTL] [IN] DS|DNSKEY rdata'");
	const char *type = tok[i++];
	char **rdt = tok + i;
	unsigned n_rd = n - i;
	size_t rdlen;
	uint16_t rtype;

	if (strcasecmp(type, "DS") == 0) {
		rtype = HF_TYPE_DS;
		if (n_rd < 4)
			return perr(p, line, "DS needs key tag, algorithm, digest type and digest");
		unsigned long tag, alg, dt;
		if (!parse_uint(rdt[0], UINT16_MAX, &tag))
			return perr(p, line, "bad DS key tag '%s'", rdt[0]);
		if (!parse_uint(rdt[1], UINT8_MAX, &alg))
			return perr(p, line, "bad DS algorithm '%s'", rdt[1]);
		if (!parse_uint(rdt[2], UINT8_MAX, &dt))
			return perr(p, line, "bad DS digest type '%s'", rdt[2]);
		int dl = hex_tokens(rdt + 3, n_rd - 3, rd + 4, sizeof(rd) - 4);
		if (dl < 0)
			return perr(p, line, "bad DS digest (hex expected)");
		/* RFC 4509, RFC 6605: the digest length is fixed by its type. */
		int want = dt == 1 ? 20 : dt == 2 ? 32 : dt == 4 ? 48 : dl;
		if (dl != want)
			return perr(p, line, "DS digest of %d octets, digest type %lu needs %d", dl, dt, want);
		rd[0] = (uint8_t)(tag >> 8);
		rd[1] = (uint8_t)tag;
		rd[2] = (uint8_t)alg;
		rd[3] = (uint8_t)dt;
		rdlen = 4 + (size_t)dl;
	} else if (strcasecmp(type, "DNSKEY") == 0) {
		rtype = HF_TYPE_DNSKEY;
		if (n_rd < 4)
			return perr(p, line, "DNSKEY needs flags, protocol, algorithm and key");
		unsigned long flags, proto, alg;
		if (!parse_uint(rdt[0], UINT16_MAX, &flags))
			return perr(p, line, "bad DNSKEY flags '%s'", rdt[0]);
		if (!parse_uint(rdt[1], UINT8_MAX, &proto) || proto != 3)
			return perr(p, line, "DNSKEY protocol '%s', must be 3", rdt[1]);
		if (!parse_uint(rdt[2], UINT8_MAX, &alg))
			return perr(p, line, "bad DNSKEY algorithm '%s'", rdt[2]);
		int kl = base64_tokens(rdt + 3, n_rd - 3, rd + 4, sizeof(rd) - 4);
		if (kl <= 0)
			return perr(p, line, "bad DNSKEY key (base64 expected)");
		rd[0] = (uint8_t)(flags >> 8);
		rd[1] = (uint8_t)flags;
		rd[2] = (uint8_t)proto;
		rd[3] = (uint8_t)alg;
		rdlen = 4 + (size_t)kl;
	} else {
		return perr(p, line, "unexpected type '%s' (only DS and DNSKEY)", type);
	}

	unsigned zone = 0;
	int ret = find_or_add_zone(p, owner, line, &zone);
	if (ret < 0)
		return ret;
	return add_rec(p, zone, rtype, (uint32_t)ttl, rd, rdlen, line);
}

/*
 * Split text into records: ';' starts a comment to the end of the line,
 * '(' and ')' join lines. Each complete record goes to parse_record().
 */
static int parse_text(struct parser *p, char *text)
{
	char **tok = malloc(ANCHOR_TOKENS * sizeof(*tok));
	if (tok == NULL)
		return -ENOMEM;
	unsigned n = 0, lineno = 0, start = 0, depth = 0;
	int ret = 0;
	char *next = text;

	char *line;
	while ((line = hf_text_next_line(&next)) != NULL) {
		lineno++;
		/* Parentheses are separators that also count depth. */
		for (char *c = line; *c; c++) {
			if (*c == '(') {
				depth++;
				*c = ' ';
			} else if (*c == ')') {
				if (depth == 0) {
					ret = perr(p, lineno, "')' without '('");
					goto out_free;
				}
				depth--;
				*c = ' ';
			}
		}
		char *save = NULL;
		for (char *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
			if (n == 0)
				start = lineno;
			if (n == ANCHOR_TOKENS) {
				ret = perr(p, start, "record too long");
				goto out_free;
			}
			tok[n++] = t;
		}
		if (depth == 0 && n > 0) {
			ret = parse_record(p, tok, n, start);
			if (ret < 0)
				goto out_free;
			n = 0;
		}
	}
	if (depth > 0)
		ret = perr(p, start ? start : lineno, "'(' without ')'");
out_free:
	free(tok);
	return ret;
}

/* An RRset of the anchor records of one zone and type (no RRSIGs). */
static struct hf_rrset *rrset_build(const uint8_t *owner, uint16_t type, const struct anchor_rec *recs,
				    unsigned n_recs, unsigned zone)
{
	size_t need = 0;
	uint32_t ttl = UINT32_MAX;
	unsigned n = 0;
	for (unsigned i = 0; i < n_recs; i++) {
		if (recs[i].zone != zone || recs[i].type != type)
			continue;
		need += 2 + recs[i].rdlen;
		ttl = recs[i].ttl < ttl ? recs[i].ttl : ttl;
		n++;
	}
	if (n == 0)
		return NULL;
	struct hf_rrset *s = hf_rrset_alloc(owner, type, HF_CLASS_IN, ttl, need);
	if (s == NULL)
		return NULL;
	for (unsigned i = 0; i < n_recs; i++)
		if (recs[i].zone == zone && recs[i].type == type)
			hf_rrset_add_rr(s, recs[i].rdata, recs[i].rdlen);
	return s;
}

static int anchors_parse(char *text, const char *fname, struct hf_anchors *out, char *err, size_t err_size)
{
	struct parser p = { .fname = fname, .err = err, .err_size = err_size, .out = out };
	memset(out, 0, sizeof(*out));
	int ret = parse_text(&p, text);
	if (ret < 0)
		goto out_free;
	if (out->n == 0) {
		snprintf(err, err_size, "no trust anchors in %s", fname);
		ret = -EINVAL;
		goto out_free;
	}
	for (unsigned z = 0; z < out->n; z++) {
		struct hf_anchor *a = &out->a[z];
		bool want_ds = false, want_key = false;
		for (unsigned i = 0; i < p.n_recs; i++) {
			want_ds |= p.recs[i].zone == z && p.recs[i].type == HF_TYPE_DS;
			want_key |= p.recs[i].zone == z && p.recs[i].type == HF_TYPE_DNSKEY;
		}
		a->ds = want_ds ? rrset_build(a->zone, HF_TYPE_DS, p.recs, p.n_recs, z) : NULL;
		a->dnskey = want_key ? rrset_build(a->zone, HF_TYPE_DNSKEY, p.recs, p.n_recs, z) : NULL;
		if ((want_ds && a->ds == NULL) || (want_key && a->dnskey == NULL)) {
			snprintf(err, err_size, "%s: out of memory", fname);
			ret = -ENOMEM;
			goto out_free;
		}
	}
out_free:
	for (unsigned i = 0; i < p.n_recs; i++)
		free(p.recs[i].rdata);
	free(p.recs);
	if (ret < 0)
		hf_anchors_free(out);
	return ret;
}

int hf_anchors_load(const char *path, struct hf_anchors *out, char *err, size_t err_size)
{
	if (path == NULL || path[0] == '\0') {
		char *text = strdup(builtin_root_anchors);
		if (text == NULL)
			return -ENOMEM;
		int ret = anchors_parse(text, "built-in root anchors", out, err, err_size);
		free(text);
		return ret;
	}
	memset(out, 0, sizeof(*out));
	char *buf;
	int ret = hf_file_read_text(path, ANCHOR_FILE_MAX, &buf, err, err_size);
	if (ret < 0)
		return ret;
	ret = anchors_parse(buf, path, out, err, err_size);
	free(buf);
	return ret;
}

const struct hf_anchor *hf_anchors_find(const struct hf_anchors *as, const uint8_t *name)
{
	const struct hf_anchor *best = NULL;
	int best_labels = -1;
	for (unsigned i = 0; i < as->n; i++) {
		if (!hf_name_is_subdomain(name, as->a[i].zone))
			continue;
		int l = hf_name_labels(as->a[i].zone);
		if (l > best_labels) {
			best = &as->a[i];
			best_labels = l;
		}
	}
	return best;
}

void hf_anchors_free(struct hf_anchors *as)
{
	for (unsigned i = 0; i < as->n; i++) {
		free(as->a[i].ds);
		free(as->a[i].dnskey);
		as->a[i].ds = NULL;
		as->a[i].dnskey = NULL;
	}
	as->n = 0;
}
