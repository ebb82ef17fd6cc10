/*
 * The override rule store; see control/ctl/override_rules.h.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "control/ctl/ctl_util.h"
#include "control/ctl/override_rules.h"
#include "include/holdfast/errcode.h"
#include "include/holdfast/name.h"
#include "include/holdfast/rrtype.h"

#define HF_OVERRIDE_TEXT_MAX 4096  /* a record's presentation form, bytes */

struct hf_override_store {
	struct hf_override_rule **rules;  /* id order (ids increase, rules are appended) */
	unsigned count;
	uint32_t next_id;
	hf_override_validate_fn validate;
	void *validate_ctx;
};

static const char *const hf_override_actions[HF_OVERRIDE_ACTION_COUNT] = {
	[HF_OVERRIDE_INSECURE] = "insecure", [HF_OVERRIDE_NXDOMAIN] = "nxdomain",
	[HF_OVERRIDE_NODATA] = "nodata",     [HF_OVERRIDE_REFUSE] = "refuse",
	[HF_OVERRIDE_DROP] = "drop",         [HF_OVERRIDE_SERVFAIL] = "servfail",
	[HF_OVERRIDE_ANSWER] = "answer",
};


const char *hf_override_action_name(enum hf_override_action a)
{
	return (unsigned)a < HF_OVERRIDE_ACTION_COUNT ? hf_override_actions[a] : "?";
}

int hf_override_action_parse(const char *text)
{
	for (int i = 0; i < HF_OVERRIDE_ACTION_COUNT; i++)
		if (strcasecmp(text, hf_override_actions[i]) == 0)
			return i;
	return -EINVAL;
}

const char *hf_override_kind_name(enum hf_override_kind k)
{
	switch (k) {
	case HF_OVERRIDE_EXACT:
		return "exact";
	case HF_OVERRIDE_SUBTREE:
		return "subtree";
	case HF_OVERRIDE_REGEX:
		return "regex";
	}
	return "?";
}

/* ---- records ------------------------------------------------------------- */

static const char *hf_skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Copy the next whitespace-delimited token into tok. */
static const char *hf_token(const char *p, char *tok, size_t size)
{
	size_t n = 0;

	p = hf_skip_space(p);
	while (*p && *p != ' ' && *p != '\t') {
		if (n + 1 < size)
			tok[n++] = *p;
		p++;
	}
	tok[n] = '\0';
	return hf_skip_space(p);
}

static int hf_rdata_name(const char *text, uint8_t *out, char *err, size_t err_size,
			 const char *what)
{
	int rc = strlen(text) < HF_NAME_TEXT_MAXLEN ? hf_name_from_text(text, out) : HF_ENAMELEN;

	if (rc < 0) {
		snprintf(err, err_size, "%s: bad domain name '%s': %s", what, text, hf_strerror(rc));
		return -EINVAL;
	}
	hf_name_lower(out);
	return rc;
}

/* TXT: one or more character-strings, quoted ("a b", with \" \\ \DDD) or
 * bare words. */
static int hf_rdata_txt(const char *p, uint8_t *out, char *err, size_t err_size)
{
	size_t len = 0;

	p = hf_skip_space(p);
	if (!*p) {
		snprintf(err, err_size, "TXT: needs at least one string");
		return -EINVAL;
	}
	while (*p) {
		bool quoted = *p == '"';
		size_t at = len++, n = 0;

		if (len > HF_OVERRIDE_RDATA_MAX)
			goto toolong;
		if (quoted)
			p++;
		while (*p && (quoted ? *p != '"' : (*p != ' ' && *p != '\t'))) {
			unsigned c = (unsigned char)*p++;

			if (c == '\\') {
				if (p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' &&
				    p[2] >= '0' && p[2] <= '9') {
					c = (unsigned)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
					if (c > 255) {
						snprintf(err, err_size, "TXT: bad escape \\%.3s", p);
						return -EINVAL;
					}
					p += 3;
				} else if (*p) {
					c = (unsigned char)*p++;
				} else {
					snprintf(err, err_size, "TXT: backslash at the end");
					return -EINVAL;
				}
			} else if (c < 0x20 || c == 0x7f) {
				snprintf(err, err_size, "TXT: control character (use \\DDD)");
				return -EINVAL;
			}
			if (++n > 255) {
				snprintf(err, err_size, "TXT: a string is longer than 255 bytes");
				return -EINVAL;
			}
			if (len >= HF_OVERRIDE_RDATA_MAX)
				goto toolong;
			out[len++] = (uint8_t)c;
		}
		if (quoted) {
			if (*p != '"') {
				snprintf(err, err_size, "TXT: missing closing quote");
				return -EINVAL;
			}
			p++;
			if (*p && *p != ' ' && *p != '\t') {
				snprintf(err, err_size, "TXT: text right after a closing quote");
				return -EINVAL;
			}
		}
		out[at] = (uint8_t)n;
		p = hf_skip_space(p);
	}
	return (int)len;
toolong:
	snprintf(err, err_size, "TXT: RDATA longer than %d bytes", HF_OVERRIDE_RDATA_MAX);
	return -EINVAL;
}

static void hf_txt_to_text(const uint8_t *rd, size_t len, char *out, size_t size)
{
	size_t o = 0, i = 0;

	while (i < len && o + 8 < size) {
		size_t n = rd[i++];

		out[o++] = '"';
		for (size_t k = 0; k < n && i < len && o + 8 < size; k++, i++) {
			uint8_t c = rd[i];

			if (c == '"' || c == '\\') {
				out[o++] = '\\';
				out[o++] = (char)c;
			} else if (c < 0x20 || c >= 0x7f) {
				o += (size_t)snprintf(out + o, size - o, "\\%03u", c);
			} else {
				out[o++] = (char)c;
			}
		}
		out[o++] = '"';
		if (i < len)
			out[o++] = ' ';
	}
	out[o] = '\0';
}

/* Parse "TYPE RDATA" into rec (wire RDATA and normalised text). */
static int hf_record_parse(const char *text, struct hf_override_record *rec, char *err,
			   size_t err_size)
{
	char tname[16], tok[HF_NAME_TEXT_MAXLEN], norm[HF_OVERRIDE_TEXT_MAX], buf[16];
	char rdtext[HF_OVERRIDE_TEXT_MAX - 32];
	const char *p;
	int t, rc = 0;

	if (strlen(text) >= HF_OVERRIDE_TEXT_MAX) {
		snprintf(err, err_size, "record longer than %d bytes", HF_OVERRIDE_TEXT_MAX - 1);
		return -EINVAL;
	}
	p = hf_token(text, tname, sizeof(tname));
	t = hf_type_from_text(tname);
	if (!tname[0]) {
		snprintf(err, err_size, "empty record (expected \"TYPE RDATA\")");
		return -EINVAL;
	}
	rec->type = (uint16_t)(t < 0 ? 0 : t);
	switch (t) {
	case HF_TYPE_A:
	case HF_TYPE_AAAA: {
		bool v6 = t == HF_TYPE_AAAA;

		p = hf_token(p, tok, sizeof(tok));
		if (*p || inet_pton(v6 ? AF_INET6 : AF_INET, tok, rec->rdata) != 1) {
			snprintf(err, err_size, "%s: bad %s address '%.64s'", tname, v6 ? "IPv6" : "IPv4",
				 tok);
			return -EINVAL;
		}
		rc = v6 ? 16 : 4;
		inet_ntop(v6 ? AF_INET6 : AF_INET, rec->rdata, rdtext, sizeof(rdtext));
		break;
	}
	case HF_TYPE_CNAME:
	case HF_TYPE_PTR:
		p = hf_token(p, tok, sizeof(tok));
		if (!tok[0] || *p) {
			snprintf(err, err_size, "%s: expected one domain name", tname);
			return -EINVAL;
		}
		rc = hf_rdata_name(tok, rec->rdata, err, err_size, tname);
		if (rc < 0)
			return rc;
		hf_name_to_text(rec->rdata, rdtext, sizeof(rdtext));
		break;
	case HF_TYPE_MX: {
		char *end;
		unsigned long pref;

		p = hf_token(p, tok, sizeof(tok));
		pref = strtoul(tok, &end, 10);
		if (!tok[0] || *end || pref > 65535 || tok[0] == '-') {
			snprintf(err, err_size, "MX: bad preference '%.32s' (0..65535)", tok);
			return -EINVAL;
		}
		p = hf_token(p, tok, sizeof(tok));
		if (!tok[0] || *p) {
			snprintf(err, err_size, "MX: expected a preference and one domain name");
			return -EINVAL;
		}
		rec->rdata[0] = (uint8_t)(pref >> 8);
		rec->rdata[1] = (uint8_t)pref;
		rc = hf_rdata_name(tok, rec->rdata + 2, err, err_size, "MX");
		if (rc < 0)
			return rc;
		rc += 2;
		int w = snprintf(rdtext, sizeof(rdtext), "%lu ", pref);
		hf_name_to_text(rec->rdata + 2, rdtext + w, sizeof(rdtext) - (size_t)w);
		break;
	}
	case HF_TYPE_TXT:
		rc = hf_rdata_txt(p, rec->rdata, err, err_size);
		if (rc < 0)
			return rc;
		hf_txt_to_text(rec->rdata, (size_t)rc, rdtext, sizeof(rdtext));
		break;
	default:
		snprintf(err, err_size, "record type '%s' is not supported in answers "
			 "(A, AAAA, CNAME, TXT, MX, PTR are)", tname);
		return -EINVAL;
	}
	rec->rdlen = (uint16_t)rc;
	snprintf(norm, sizeof(norm), "%s %s", hf_type_to_text(rec->type, buf, sizeof(buf)),
		 rdtext);
	rec->text = strdup(norm);
	return rec->text ? 0 : -ENOMEM;
}

/* ---- rules --------------------------------------------------------------- */

static void hf_override_rule_free(struct hf_override_rule *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < r->n_records; i++)
		free(r->records[i].text);
	free(r->records);
	free(r->regex);
	free(r);
}

static int hf_override_pattern(struct hf_override_rule *r, const char *pattern, char *err,
			       size_t err_size)
{
	size_t len = strlen(pattern);
	const char *name = pattern;
	char text[HF_NAME_TEXT_MAXLEN];
	int rc;

	if (len == 0) {
		snprintf(err, err_size, "pattern: empty");
		return -EINVAL;
	}
	if (len > HF_OVERRIDE_PATTERN_MAX) {
		snprintf(err, err_size, "pattern: longer than %d bytes", HF_OVERRIDE_PATTERN_MAX);
		return -EINVAL;
	}
	for (const char *p = pattern; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(err, err_size, "pattern: contains a control character");
			return -EINVAL;
		}
	}
	if (pattern[0] == '/') {
		if (len < 3 || pattern[len - 1] != '/') {
			snprintf(err, err_size, "pattern: a regular expression is written /REGEX/ "
				 "(non-empty, between slashes)");
			return -EINVAL;
		}
		r->kind = HF_OVERRIDE_REGEX;
		r->regex = strndup(pattern + 1, len - 2);
		if (!r->regex)
			return -ENOMEM;
		snprintf(r->pattern, sizeof(r->pattern), "%s", pattern);
		return 0;
	}
	r->kind = HF_OVERRIDE_EXACT;
	if (pattern[0] == '*' && (pattern[1] == '.' || pattern[1] == '\0')) {
		r->kind = HF_OVERRIDE_SUBTREE;
		name = pattern[1] ? pattern + 2 : pattern + 1;
		if (!*name)
			name = ".";
	}
	rc = len < HF_NAME_TEXT_MAXLEN ? hf_name_from_text(name, r->name) : HF_ENAMELEN;
	if (rc < 0) {
		snprintf(err, err_size, "pattern: '%s' is not a domain name: %s", name,
			 hf_strerror(rc));
		return -EINVAL;
	}
	if (strchr(name, '*')) {
		snprintf(err, err_size, "pattern: '*' only as the first label (\"*.example.com.\" "
			 "is a subtree); write \\* for a literal asterisk");
		return -EINVAL;
	}
	hf_name_lower(r->name);
	hf_name_to_text(r->name, text, sizeof(text));
	if (r->kind == HF_OVERRIDE_SUBTREE)
		snprintf(r->pattern, sizeof(r->pattern), "*.%s", text[0] == '.' ? "" : text);
	else
		snprintf(r->pattern, sizeof(r->pattern), "%s", text);
	return 0;
}

static bool hf_override_is_block(enum hf_override_action a)
{
	return a != HF_OVERRIDE_INSECURE && a != HF_OVERRIDE_ANSWER;
}

/* Build a rule from an operator's spec: everything checked but the validator. */
static int hf_override_build(const struct hf_override_spec *spec, int64_t now,
			     struct hf_override_rule **out, char *err, size_t err_size)
{
	struct hf_override_rule *r = calloc(1, sizeof(*r));
	char a[32], b[32], why[512];
	int rc, action;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	rc = hf_override_pattern(r, spec->pattern ? spec->pattern : "", err, err_size);
	if (rc < 0)
		goto err;
	rc = -EINVAL;
	if (spec->qtype && spec->qtype[0]) {
		int t = hf_type_from_text(spec->qtype);

		if (t < 0) {
			snprintf(err, err_size, "type: unknown record type '%s'", spec->qtype);
			goto err;
		}
		r->qtype = (uint16_t)t;
	}
	action = hf_override_action_parse(spec->action ? spec->action : "");
	if (action < 0) {
		snprintf(err, err_size, "action: unknown action '%s' (insecure, nxdomain, nodata, "
			 "refuse, drop, servfail, answer)", spec->action ? spec->action : "");
		goto err;
	}
	r->action = (enum hf_override_action)action;
	if (hf_override_is_block(r->action)) {
		if (spec->ede != 0 && spec->ede != HF_EDE_BLOCKED && spec->ede != HF_EDE_FILTERED) {
			snprintf(err, err_size, "ede: %d is not 15 (Blocked) or 17 (Filtered)",
				 spec->ede);
			goto err;
		}
		r->ede = spec->ede ? spec->ede : HF_EDE_BLOCKED;
	} else {
		if (spec->ede != 0 && spec->ede != HF_OVERRIDE_EDE_NONE) {
			snprintf(err, err_size, "ede: action %s carries no Extended DNS Error",
				 hf_override_actions[r->action]);
			goto err;
		}
		r->ede = HF_OVERRIDE_EDE_NONE;
	}
	if (r->action == HF_OVERRIDE_ANSWER) {
		bool cname = false, fits_qtype = r->qtype == 0 || r->qtype == HF_TYPE_ANY;

		if (spec->n_data == 0) {
			snprintf(err, err_size, "data: action answer needs at least one record "
				 "(\"A 192.0.2.1\")");
			goto err;
		}
		if (spec->n_data > HF_OVERRIDE_RECORDS_MAX) {
			snprintf(err, err_size, "data: more than %d records", HF_OVERRIDE_RECORDS_MAX);
			goto err;
		}
		r->records = calloc(spec->n_data, sizeof(r->records[0]));
		if (!r->records) {
			rc = -ENOMEM;
			goto err;
		}
		for (unsigned i = 0; i < spec->n_data; i++) {
			rc = hf_record_parse(spec->data[i] ? spec->data[i] : "", &r->records[i],
					     why, sizeof(why));
			r->n_records = i + 1;
			if (rc < 0) {
				snprintf(err, err_size, "data: '%s': %s", spec->data[i], why);
				goto err;
			}
			cname |= r->records[i].type == HF_TYPE_CNAME;
			fits_qtype |= r->records[i].type == r->qtype ||
				      r->records[i].type == HF_TYPE_CNAME;
		}
		if (cname && spec->n_data > 1) {
			snprintf(err, err_size, "data: a CNAME must be the only record (RFC 1034 §3.6.2)");
			goto err;
		}
		if (!fits_qtype) {
			snprintf(err, err_size, "data: no record of type %s, which the rule is "
				 "restricted to", hf_type_to_text(r->qtype, a, sizeof(a)));
			goto err;
		}
		r->ttl = spec->ttl ? spec->ttl : HF_OVERRIDE_TTL_DEFAULT;
	} else if (spec->n_data) {
		snprintf(err, err_size, "data: only action answer takes records");
		goto err;
	}
	if (spec->lifetime > HF_OVERRIDE_LIFETIME_MAX) {
		hf_ctl_duration_format(spec->lifetime, a, sizeof(a));
		hf_ctl_duration_format(HF_OVERRIDE_LIFETIME_MAX, b, sizeof(b));
		snprintf(err, err_size, "lifetime %s exceeds the maximum of %s", a, b);
		rc = -ERANGE;
		goto err;
	}
	rc = hf_ctl_reason_check(spec->reason ? spec->reason : "", HF_OVERRIDE_REASON_MAX, err,
				 err_size);
	if (rc < 0)
		goto err;
	snprintf(r->reason, sizeof(r->reason), "%s", spec->reason ? spec->reason : "");
	r->added = now;
	r->expires = spec->lifetime ? now + (int64_t)spec->lifetime : 0;
	*out = r;
	return 0;
err:
	hf_override_rule_free(r);
	return rc < 0 ? rc : -EINVAL;
}

struct hf_override_store *hf_override_store_create(hf_override_validate_fn validate, void *ctx)
{
	struct hf_override_store *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->rules = calloc(HF_OVERRIDE_MAX, sizeof(s->rules[0]));
	if (!s->rules) {
		free(s);
		return NULL;
	}
	s->next_id = 1;
	s->validate = validate;
	s->validate_ctx = ctx;
	return s;
}

static void hf_override_clear(struct hf_override_store *s)
{
	for (unsigned i = 0; i < s->count; i++)
		hf_override_rule_free(s->rules[i]);
	s->count = 0;
}

void hf_override_store_destroy(struct hf_override_store *s)
{
	if (!s)
		return;
	hf_override_clear(s);
	free(s->rules);
	free(s);
}

static int hf_override_index(const struct hf_override_store *s, uint32_t id)
{
	unsigned lo = 0, hi = s->count;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (s->rules[mid]->id == id)
			return (int)mid;
		if (s->rules[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int hf_override_same(const struct hf_override_store *s, const struct hf_override_rule *r)
{
	for (unsigned i = 0; i < s->count; i++)
		if (s->rules[i]->kind == r->kind && s->rules[i]->qtype == r->qtype &&
		    strcmp(s->rules[i]->pattern, r->pattern) == 0)
			return (int)i;
	return -1;
}

int hf_override_add(struct hf_override_store *s, const struct hf_override_spec *spec,
		    int64_t now, uint32_t *id, char *err, size_t err_size)
{
	struct hf_override_rule *r;
	int rc, i;

	rc = hf_override_build(spec, now, &r, err, err_size);
	if (rc < 0)
		return rc;
	i = hf_override_same(s, r);
	if (i < 0 && s->count >= HF_OVERRIDE_MAX) {
		snprintf(err, err_size, "too many override rules (the maximum is %d)", HF_OVERRIDE_MAX);
		hf_override_rule_free(r);
		return -ENOSPC;
	}
	if (i < 0 && s->next_id == UINT32_MAX) {
		snprintf(err, err_size, "rule ids are exhausted");
		hf_override_rule_free(r);
		return -ENOSPC;
	}
	r->id = i >= 0 ? s->rules[i]->id : s->next_id;
	if (s->validate) {
		char why[512] = "";

		rc = s->validate(s->validate_ctx, r, why, sizeof(why));
		if (rc < 0) {
			snprintf(err, err_size, "%s", why[0] ? why : "refused by the rule compiler");
			hf_override_rule_free(r);
			return -EINVAL;
		}
	}
	*id = r->id;
	if (i >= 0) {
		r->hits = s->rules[i]->hits;
		hf_override_rule_free(s->rules[i]);
		s->rules[i] = r;
		return 1;
	}
	s->next_id++;
	s->rules[s->count++] = r;
	return 0;
}

static void hf_override_delete(struct hf_override_store *s, unsigned i)
{
	hf_override_rule_free(s->rules[i]);
	memmove(&s->rules[i], &s->rules[i + 1], (s->count - i - 1) * sizeof(s->rules[0]));
	s->count--;
}

int hf_override_remove(struct hf_override_store *s, uint32_t id)
{
	int i = hf_override_index(s, id);

	if (i < 0)
		return -ENOENT;
	hf_override_delete(s, (unsigned)i);
	return 0;
}

const struct hf_override_rule *hf_override_get(const struct hf_override_store *s, uint32_t id)
{
	int i = hf_override_index(s, id);

	return i < 0 ? NULL : s->rules[i];
}

unsigned hf_override_count(const struct hf_override_store *s)
{
	return s->count;
}

const struct hf_override_rule *hf_override_at(const struct hf_override_store *s, unsigned i)
{
	return i < s->count ? s->rules[i] : NULL;
}

int hf_override_hit(struct hf_override_store *s, uint32_t id, uint64_t n)
{
	int i = hf_override_index(s, id);

	if (i < 0)
		return -ENOENT;
	s->rules[i]->hits += n;
	return 0;
}

const struct hf_override_rule *hf_override_match(const struct hf_override_store *s,
						 const uint8_t *name, uint16_t qtype)
{
	const struct hf_override_rule *best = NULL;
	int best_score = -1;

	for (unsigned i = 0; i < s->count; i++) {
		const struct hf_override_rule *r = s->rules[i];
		int score;

		if (r->kind == HF_OVERRIDE_REGEX || (r->qtype && r->qtype != qtype))
			continue;
		if (r->kind == HF_OVERRIDE_EXACT) {
			if (!hf_name_equal(name, r->name))
				continue;
			score = 1000;
		} else {
			if (!hf_name_is_subdomain(name, r->name))
				continue;
			score = hf_name_labels(r->name) * 2;
		}
		score = score * 2 + (r->qtype ? 1 : 0);
		if (score > best_score) {
			best = r;
			best_score = score;
		}
	}
	return best;
}

unsigned hf_override_expire(struct hf_override_store *s, int64_t now, hf_override_expired_fn cb,
			    void *ctx)
{
	unsigned n = 0, i = 0;

	while (i < s->count) {
		if (s->rules[i]->expires && s->rules[i]->expires <= now) {
			if (cb)
				cb(ctx, s->rules[i]);
			hf_override_delete(s, i);
			n++;
		} else {
			i++;
		}
	}
	return n;
}

int64_t hf_override_next_expiry(const struct hf_override_store *s)
{
	int64_t t = INT64_MAX;

	for (unsigned i = 0; i < s->count; i++)
		if (s->rules[i]->expires && s->rules[i]->expires < t)
			t = s->rules[i]->expires;
	return t;
}

/* ---- persistence --------------------------------------------------------- */

static const char *hf_json_str(json_object *o, const char *key, bool *bad)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	if (!json_object_is_type(v, json_type_string)) {
		*bad = true;
		return NULL;
	}
	return json_object_get_string(v);
}

static bool hf_json_int(json_object *o, const char *key, int64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

static int hf_override_load_rule(void *store, json_object *o, unsigned idx, int64_t now,
				 char *err, size_t err_size)
{
	struct hf_override_store *s = store;
	struct hf_override_spec spec = { 0 };
	const char *data[HF_OVERRIDE_RECORDS_MAX];
	struct hf_override_rule *r;
	json_object *arr, *v;
	int64_t id, added, expires, hits, ttl = 0, ede = 0;
	bool bad = false;
	char why[600];
	int rc;

	if (!json_object_is_type(o, json_type_object) || !hf_json_int(o, "id", &id) ||
	    !hf_json_int(o, "added", &added) || !hf_json_int(o, "expires", &expires) ||
	    !hf_json_int(o, "hits", &hits)) {
		snprintf(err, err_size, "rules[%u]: needs integers \"id\", \"added\", \"expires\", "
			 "\"hits\"", idx);
		return -EINVAL;
	}
	if (id < 1 || id >= UINT32_MAX || hits < 0 || expires < 0 ||
	    (expires && expires <= added)) {
		snprintf(err, err_size, "rules[%u]: id, hits or times out of range", idx);
		return -EINVAL;
	}
	spec.pattern = hf_json_str(o, "pattern", &bad);
	spec.qtype = hf_json_str(o, "qtype", &bad);
	spec.action = hf_json_str(o, "action", &bad);
	spec.reason = hf_json_str(o, "reason", &bad);
	if (bad || !spec.pattern || !spec.action) {
		snprintf(err, err_size, "rules[%u]: \"pattern\" and \"action\" must be strings, "
			 "\"qtype\" and \"reason\" strings or null", idx);
		return -EINVAL;
	}
	if (json_object_object_get_ex(o, "ede", &v) && !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_int)) {
			snprintf(err, err_size, "rules[%u].ede: not an integer", idx);
			return -EINVAL;
		}
		ede = json_object_get_int64(v);
		if (ede < 0 || ede > 65535) {
			snprintf(err, err_size, "rules[%u].ede: out of range", idx);
			return -EINVAL;
		}
	}
	spec.ede = (int)ede;
	if (json_object_object_get_ex(o, "ttl", &v) &&
	    (!json_object_is_type(v, json_type_int) || (ttl = json_object_get_int64(v)) < 0 ||
	     ttl > INT32_MAX)) {
		snprintf(err, err_size, "rules[%u].ttl: not an integer 0..2147483647", idx);
		return -EINVAL;
	}
	spec.ttl = (uint32_t)ttl;
	if (json_object_object_get_ex(o, "data", &arr) && !json_object_is_type(arr, json_type_null)) {
		if (!json_object_is_type(arr, json_type_array) ||
		    json_object_array_length(arr) > HF_OVERRIDE_RECORDS_MAX) {
			snprintf(err, err_size, "rules[%u].data: not an array of at most %d strings",
				 idx, HF_OVERRIDE_RECORDS_MAX);
			return -EINVAL;
		}
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			v = json_object_array_get_idx(arr, i);
			if (!json_object_is_type(v, json_type_string)) {
				snprintf(err, err_size, "rules[%u].data[%zu]: not a string", idx, i);
				return -EINVAL;
			}
			data[i] = json_object_get_string(v);
		}
		spec.data = data;
		spec.n_data = (unsigned)json_object_array_length(arr);
	}
	if (expires && expires <= now)
		return 0;  /* expired while we were down */
	rc = hf_override_build(&spec, added, &r, why, sizeof(why));
	if (rc < 0) {
		snprintf(err, err_size, "rules[%u]: %s", idx, why);
		return -EINVAL;
	}
	r->id = (uint32_t)id;
	r->expires = expires;
	r->hits = (uint64_t)hits;
	if (s->count >= HF_OVERRIDE_MAX || (s->count && s->rules[s->count - 1]->id >= r->id)) {
		snprintf(err, err_size, "rules[%u]: %s", idx, s->count >= HF_OVERRIDE_MAX
			 ? "too many rules" : "ids must be unique and increasing");
		hf_override_rule_free(r);
		return -EINVAL;
	}
	s->rules[s->count++] = r;
	return 0;
}

int hf_override_load(struct hf_override_store *s, const char *path, int64_t now, char *err,
		     size_t err_size)
{
	struct hf_override_store *tmp;
	json_object *root;
	int64_t next_id;
	int rc;

	rc = hf_ctl_json_load(path, &root, err, err_size);
	if (rc < 0)
		return rc;
	if (!root) {
		hf_override_clear(s);
		s->next_id = 1;
		return 0;
	}
	tmp = hf_override_store_create(NULL, NULL);
	if (!tmp) {
		json_object_put(root);
		snprintf(err, err_size, "%s: out of memory", path);
		return -ENOMEM;
	}
	rc = hf_ctl_state_version(root, path, err, err_size);
	if (rc < 0)
		goto out;
	rc = -EINVAL;
	if (!hf_json_int(root, "next_id", &next_id) || next_id < 1 || next_id > UINT32_MAX) {
		snprintf(err, err_size, "%s: \"next_id\" is missing or out of range", path);
		goto out;
	}
	rc = hf_ctl_state_entries(root, path, "rules", hf_override_load_rule, tmp, now, err,
				  err_size);
	if (rc < 0)
		goto out;
	rc = -EINVAL;
	tmp->next_id = (uint32_t)next_id;
	if (tmp->count && tmp->rules[tmp->count - 1]->id >= tmp->next_id) {
		snprintf(err, err_size, "%s: \"next_id\" is not above every rule's id", path);
		goto out;
	}
	/* Swap the content in; the validator stays. */
	hf_override_clear(s);
	memcpy(s->rules, tmp->rules, tmp->count * sizeof(s->rules[0]));
	s->count = tmp->count;
	s->next_id = tmp->next_id;
	tmp->count = 0;
	rc = (int)s->count;
out:
	hf_override_store_destroy(tmp);
	json_object_put(root);
	return rc;
}

int hf_override_save(const struct hf_override_store *s, const char *path, char *err,
		     size_t err_size)
{
	json_object *root = json_object_new_object(), *list = json_object_new_array();
	const char *text;
	char buf[16];
	size_t len;
	int rc;

	if (!root || !list) {
		json_object_put(root);
		json_object_put(list);
		snprintf(err, err_size, "%s: out of memory", path);
		return -ENOMEM;
	}
	json_object_object_add(root, "version", json_object_new_int(1));
	json_object_object_add(root, "next_id", json_object_new_int64(s->next_id));
	json_object_object_add(root, "rules", list);
	for (unsigned i = 0; i < s->count; i++) {
		const struct hf_override_rule *r = s->rules[i];
		json_object *o = json_object_new_object(), *data = json_object_new_array();

		json_object_object_add(o, "id", json_object_new_int64(r->id));
		json_object_object_add(o, "pattern", json_object_new_string(r->pattern));
		json_object_object_add(o, "qtype", r->qtype ? json_object_new_string(
			hf_type_to_text(r->qtype, buf, sizeof(buf))) : NULL);
		json_object_object_add(o, "action", json_object_new_string(
			hf_override_action_name(r->action)));
		json_object_object_add(o, "ede", r->ede >= 0 ? json_object_new_int(r->ede) : NULL);
		for (unsigned k = 0; k < r->n_records; k++)
			json_object_array_add(data, json_object_new_string(r->records[k].text));
		json_object_object_add(o, "data", data);
		json_object_object_add(o, "ttl", json_object_new_int64(r->ttl));
		json_object_object_add(o, "reason", json_object_new_string(r->reason));
		json_object_object_add(o, "added", json_object_new_int64(r->added));
		json_object_object_add(o, "expires", json_object_new_int64(r->expires));
		json_object_object_add(o, "hits", json_object_new_int64((int64_t)r->hits));
		json_object_array_add(list, o);
	}
	text = hf_ctl_json_text(root, 1, &len);
	rc = text ? hf_ctl_write_atomic(path, text, len, err, err_size) : -ENOMEM;
	if (!text)
		snprintf(err, err_size, "%s: out of memory", path);
	json_object_put(root);
	return rc;
}
