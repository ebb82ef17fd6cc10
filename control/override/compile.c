/*
 * Compiling override rule sets into one Hyperscan database and publishing
 * them through the shm region. Layout and protocol: "include/holdfast/override.h".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "control/override/compile.h"
#include "include/holdfast/defines.h"
#include "include/holdfast/dns.h"
#include "include/holdfast/errcode.h"
#include "include/holdfast/name.h"
#include "include/holdfast/override.h"
#include "include/holdfast/shm.h"

/* Regexes as the issue says; names are lower case already, CASELESS is for
 * the operator's expression. */
#define HF_OVR_REGEX_FLAGS (HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH | HS_FLAG_DOTALL)

/* One rule, prepared for Hyperscan and the table. */
struct hf_ovr_prep {
	char *expr;              /* regex: what Hyperscan compiles */
	unsigned flags;
	uint16_t pattern_len;    /* exact/subtree: text length */
	uint32_t specificity;
	uint32_t answer_len;
	char *text;              /* exact/subtree: the normalised name's text (pattern_len) */
};

HF_COLD __attribute__((format(printf, 4, 5)))
static int hf_ovr_fail(char *err, size_t err_size, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && err_size) {
		va_start(ap, fmt);
		vsnprintf(err, err_size, fmt, ap);
		va_end(ap);
	}
	return code;
}

static uint64_t hf_ovr_align64(uint64_t n)
{
	return (n + 63) & ~(uint64_t)63;
}

/* Checks a rule's fields and prepares its expression. */
static int hf_ovr_prepare(const struct hf_ovr_rule_in *r, struct hf_ovr_prep *p,
			  char *err, size_t err_size)
{
	uint8_t wire[HF_NAME_MAXLEN];
	char text[HF_OVR_TEXT_MAX];
	size_t len;
	int rc;

	memset(p, 0, sizeof(*p));
	if (!r->pattern)
		return hf_ovr_fail(err, err_size, -EINVAL, "pattern %u: no pattern", r->id);
	if (r->action < HF_OVR_INSECURE || r->action > HF_OVR_ACTION_MAX)
		return hf_ovr_fail(err, err_size, -EINVAL, "pattern %u (%s): unknown action %d",
				   r->id, r->pattern, (int)r->action);
	if (r->n_answers && r->action != HF_OVR_ANSWER)
		return hf_ovr_fail(err, err_size, -EINVAL,
				   "pattern %u (%s): records given for an action that sends none",
				   r->id, r->pattern);
	if (r->n_answers > 255)
		return hf_ovr_fail(err, err_size, -EINVAL, "pattern %u (%s): more than 255 records",
				   r->id, r->pattern);
	for (unsigned i = 0; i < r->n_answers; i++) {
		if (r->answers[i].rdlen && !r->answers[i].rdata)
			return hf_ovr_fail(err, err_size, -EINVAL,
					   "pattern %u (%s): record %u has no data", r->id,
					   r->pattern, i);
		p->answer_len += 12U + r->answers[i].rdlen;
	}
	if (p->answer_len > HF_OVR_ANSWER_MAX)
		return hf_ovr_fail(err, err_size, -EINVAL,
				   "pattern %u (%s): records take %u bytes, at most %u allowed",
				   r->id, r->pattern, p->answer_len, HF_OVR_ANSWER_MAX);

	switch (r->kind) {
	case HF_OVR_EXACT:
	case HF_OVR_SUBTREE:
		/* "*.example." is how the CLI writes a subtree. */
		rc = hf_name_from_text(r->kind == HF_OVR_SUBTREE &&
				       strncmp(r->pattern, "*.", 2) == 0 ? r->pattern + 2 :
				       r->pattern, wire);
		if (rc < 0)
			return hf_ovr_fail(err, err_size, -EINVAL, "pattern %u (%s): %s", r->id,
					   r->pattern, hf_strerror(rc));
		hf_name_lower(wire);
		len = hf_ovr_name_text(wire, text);
		p->text = malloc(len);
		if (!p->text)
			return -ENOMEM;
		memcpy(p->text, text, len);
		p->pattern_len = (uint16_t)len;
		p->specificity = (r->kind == HF_OVR_EXACT ? HF_OVR_SPEC_EXACT
							       : HF_OVR_SPEC_SUBTREE) +
				 (uint32_t)hf_name_labels(wire);
		return 0;
	case HF_OVR_REGEX:
		p->expr = strdup(r->pattern);
		if (!p->expr)
			return -ENOMEM;
		p->flags = HF_OVR_REGEX_FLAGS;
		p->specificity = HF_OVR_SPEC_REGEX;
		return 0;
	}
	return hf_ovr_fail(err, err_size, -EINVAL, "pattern %u (%s): unknown kind %d", r->id,
			   r->pattern, (int)r->kind);
}

/* The reason's bytes that fit HF_OVR_REASON_MAX, cut before a UTF-8
 * continuation byte so that the EDE text stays valid UTF-8. */
static size_t hf_ovr_reason_len(const char *reason)
{
	size_t len = reason ? strlen(reason) : 0;

	if (len <= HF_OVR_REASON_MAX)
		return len;
	len = HF_OVR_REASON_MAX;
	while (len > 0 && ((unsigned char)reason[len] & 0xc0) == 0x80)
		len--;
	return len;
}

/* Renders a rule's records: owner 0xc00c, type, class IN, TTL, RDLENGTH, RDATA. */
static void hf_ovr_render(const struct hf_ovr_rule_in *r, uint8_t *out)
{
	for (unsigned i = 0; i < r->n_answers; i++) {
		const struct hf_ovr_answer_in *a = &r->answers[i];

		out[0] = 0xc0;
		out[1] = 0x0c;
		out[2] = (uint8_t)(a->type >> 8);
		out[3] = (uint8_t)a->type;
		out[4] = 0;
		out[5] = 1;
		out[6] = (uint8_t)(a->ttl >> 24);
		out[7] = (uint8_t)(a->ttl >> 16);
		out[8] = (uint8_t)(a->ttl >> 8);
		out[9] = (uint8_t)a->ttl;
		out[10] = (uint8_t)(a->rdlen >> 8);
		out[11] = (uint8_t)a->rdlen;
		if (a->rdlen)
			memcpy(out + 12, a->rdata, a->rdlen);
		out += 12 + a->rdlen;
	}
}

int hf_ovr_compile(const struct hf_ovr_rule_in *rules, unsigned n,
			struct hf_ovr_image **out, char *err, size_t err_size)
{
	struct hf_ovr_prep *prep = NULL;
	const char **exprs = NULL;
	unsigned *flags = NULL, *ids = NULL, n_regex = 0;
	hs_database_t *db = NULL;
	hs_compile_error_t *cerr = NULL;
	char *ser = NULL;
	size_t ser_len = 0;
	struct hf_ovr_image *img = NULL;
	struct hf_ovr_header *h;
	uint64_t rules_off, answers_off, answers_len = 0, total;
	int rc = 0;

	*out = NULL;
	if (n > HF_OVR_MAX_RULES)
		return hf_ovr_fail(err, err_size, -E2BIG, "%u rules, at most %u allowed", n,
				   HF_OVR_MAX_RULES);
	prep = calloc(n ? n : 1, sizeof(*prep));
	exprs = calloc(n ? n : 1, sizeof(*exprs));
	flags = calloc(n ? n : 1, sizeof(*flags));
	ids = calloc(n ? n : 1, sizeof(*ids));
	if (!prep || !exprs || !flags || !ids) {
		rc = -ENOMEM;
		goto err_free_prep;
	}
	for (unsigned i = 0; i < n; i++) {
		rc = hf_ovr_prepare(&rules[i], &prep[i], err, err_size);
		if (rc < 0)
			goto err_free_prep;
		/* Only regexes go to Hyperscan (see "include/holdfast/override.h"). */
		if (rules[i].kind == HF_OVR_REGEX) {
			exprs[n_regex] = prep[i].expr;
			flags[n_regex] = prep[i].flags;
			ids[n_regex++] = i;
		}
		answers_len += prep[i].answer_len + prep[i].pattern_len;
	}
	if (n_regex > 0) {
		if (hs_compile_multi(exprs, flags, ids, n_regex, HS_MODE_BLOCK, NULL, &db, &cerr) !=
		    HS_SUCCESS) {
			if (cerr->expression >= 0 && (unsigned)cerr->expression < n_regex)
				rc = hf_ovr_fail(err, err_size, -EINVAL, "pattern %u (/%s/): %s",
						 rules[ids[cerr->expression]].id,
						 rules[ids[cerr->expression]].pattern,
						 cerr->message);
			else
				rc = hf_ovr_fail(err, err_size, -EINVAL, "rule set: %s",
						 cerr->message);
			hs_free_compile_error(cerr);
			goto err_free_prep;
		}
		if (hs_serialize_database(db, &ser, &ser_len) != HS_SUCCESS) {
			rc = -ENOMEM;
			goto err_free_db;
		}
	}

	rules_off = hf_ovr_align64(sizeof(*h) + ser_len);
	answers_off = rules_off + (uint64_t)n * sizeof(struct hf_ovr_rule);
	total = answers_off + answers_len;
	if (total > HF_SHM_OVERRIDE_SLOT_SIZE) {
		rc = hf_ovr_fail(err, err_size, -E2BIG,
				 "rule set takes %llu bytes, a slot holds %u",
				 (unsigned long long)total, HF_SHM_OVERRIDE_SLOT_SIZE);
		goto err_free_ser;
	}
	img = calloc(1, sizeof(*img));
	if (img)
		img->buf = calloc(1, total);
	if (!img || !img->buf) {
		rc = -ENOMEM;
		goto err_free_img;
	}
	img->len = total;
	img->n_rules = n;
	img->db_len = ser_len;

	h = (struct hf_ovr_header *)(void *)img->buf;
	h->magic = HF_OVR_MAGIC;
	h->n_rules = n;
	h->rule_size = sizeof(struct hf_ovr_rule);
	h->db_offset = sizeof(*h);
	h->db_len = (uint32_t)ser_len;
	h->rules_offset = (uint32_t)rules_off;
	h->answers_offset = (uint32_t)answers_off;
	h->answers_len = (uint32_t)answers_len;
	h->total_len = (uint32_t)total;
	if (ser_len)
		memcpy(img->buf + h->db_offset, ser, ser_len);

	answers_len = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct hf_ovr_rule_in *r = &rules[i];
		struct hf_ovr_rule *t = (struct hf_ovr_rule *)(void *)
			(img->buf + rules_off + (size_t)i * sizeof(*t));
		size_t rlen = hf_ovr_reason_len(r->reason);

		t->id = r->id;
		t->specificity = prep[i].specificity;
		t->kind = (uint8_t)r->kind;
		t->action = (uint8_t)r->action;
		t->qtype = r->qtype;
		t->ede = r->ede;
		t->pattern_len = prep[i].pattern_len;
		t->answer_len = (uint16_t)prep[i].answer_len;
		t->n_answers = (uint8_t)r->n_answers;
		t->reason_len = (uint8_t)rlen;
		t->answer_off = (uint32_t)answers_len;
		t->expires = r->expires;
		if (rlen)
			memcpy(t->reason, r->reason, rlen);
		hf_ovr_render(r, img->buf + answers_off + answers_len);
		answers_len += prep[i].answer_len;
		/* The name's text follows the records (the dataplane's hash). */
		if (prep[i].pattern_len)
			memcpy(img->buf + answers_off + answers_len, prep[i].text,
			       prep[i].pattern_len);
		answers_len += prep[i].pattern_len;
	}
	*out = img;
	img = NULL;
	rc = 0;

err_free_img:
	hf_ovr_image_free(img);
err_free_ser:
	free(ser);
err_free_db:
	hs_free_database(db);
err_free_prep:
	for (unsigned i = 0; prep && i < n; i++) {
		free(prep[i].expr);
		free(prep[i].text);
	}
	free(prep);
	free(exprs);
	free(flags);
	free(ids);
	return rc;
}

int hf_ovr_validate(const struct hf_ovr_rule_in *rule, char *err, size_t err_size)
{
	struct hf_ovr_image *img;
	int rc = hf_ovr_compile(rule, 1, &img, err, err_size);

	hf_ovr_image_free(rc == 0 ? img : NULL);
	return rc == -E2BIG ? -EINVAL : rc;
}

void hf_ovr_image_free(struct hf_ovr_image *img)
{
	if (!img)
		return;
	free(img->buf);
	free(img);
}

int hf_ovr_image_write(const struct hf_ovr_image *img, uint64_t generation,
			    void *slot, size_t slot_size)
{
	struct hf_ovr_header *h = slot;

	if (img->len > slot_size)
		return -E2BIG;
	memcpy(slot, img->buf, img->len);
	h->generation = generation;
	return 0;
}

int hf_ovr_publish(struct hf_shm *shm, const struct hf_ovr_image *img,
			uint64_t *generation)
{
	struct hf_shm_override_state *st = hf_shm_override_state(shm);
	uint64_t published = atomic_load_explicit(&st->published, memory_order_relaxed);
	/* Acquire: the dataplane's reads of the slot we are about to reuse
	 * happened before it stored `loaded`. */
	uint64_t loaded = atomic_load_explicit(&st->loaded, memory_order_acquire);
	uint64_t gen = published + 1;
	int rc;

	/* The slot of gen last held gen - 2: the dataplane must be done with it. */
	if (gen >= 3 && loaded < gen - 2)
		return -EAGAIN;
	rc = hf_ovr_image_write(img, gen, hf_shm_override_slot(shm, (unsigned)(gen % 2)),
				     HF_SHM_OVERRIDE_SLOT_SIZE);
	if (rc < 0)
		return rc;
	/* Release: whoever sees gen sees the whole slot. */
	atomic_store_explicit(&st->published, gen, memory_order_release);
	hf_shm_doorbell_ring(shm);
	if (generation)
		*generation = gen;
	return 0;
}

void hf_ovr_status_get(const struct hf_shm *shm, struct hf_ovr_status *out)
{
	const struct hf_shm_override_state *st = &hf_shm_header(shm)->override;

	out->published = atomic_load_explicit(&st->published, memory_order_acquire);
	out->loaded = atomic_load_explicit(&st->loaded, memory_order_acquire);
	out->applied = atomic_load_explicit(&st->applied, memory_order_acquire);
	out->error = atomic_load_explicit(&st->error, memory_order_relaxed);
	out->error_generation = atomic_load_explicit(&st->error_generation, memory_order_acquire);
}
