/*
 * The Negative Trust Anchor store; see control/ctl/nta.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "control/ctl/ctl_util.h"
#include "control/ctl/nta.h"
#include "include/holdfast/errcode.h"
#include "include/holdfast/name.h"

#define HF_NTA_BUCKETS 2048  /* power of two, twice HF_NTA_MAX: short chains */

struct hf_nta_store {
	unsigned count;
	struct hf_nta e[HF_NTA_MAX];    /* canonical order of zones */
	uint16_t bucket[HF_NTA_BUCKETS]; /* index + 1 of the chain's first entry; 0 = empty */
	uint16_t next[HF_NTA_MAX];       /* index + 1 of the next entry in the chain */
};

/* FNV-1a over the lower-cased name. */
static uint32_t hf_nta_hash(const uint8_t *name)
{
	uint32_t h = 2166136261u;
	size_t len = hf_name_len(name);

	for (size_t i = 0; i < len; i++) {
		uint8_t c = name[i];

		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c + 32);
		h = (h ^ c) * 16777619u;
	}
	return h;
}

static void hf_nta_rehash(struct hf_nta_store *s)
{
	memset(s->bucket, 0, sizeof(s->bucket));
	for (unsigned i = 0; i < s->count; i++) {
		uint32_t b = hf_nta_hash(s->e[i].zone) & (HF_NTA_BUCKETS - 1);

		s->next[i] = s->bucket[b];
		s->bucket[b] = (uint16_t)(i + 1);
	}
}

struct hf_nta_store *hf_nta_store_create(void)
{
	return calloc(1, sizeof(struct hf_nta_store));
}

void hf_nta_store_destroy(struct hf_nta_store *s)
{
	free(s);
}

static int hf_nta_index(const struct hf_nta_store *s, const uint8_t *zone)
{
	uint32_t b = hf_nta_hash(zone) & (HF_NTA_BUCKETS - 1);

	for (unsigned i = s->bucket[b]; i; i = s->next[i - 1])
		if (hf_name_equal(s->e[i - 1].zone, zone))
			return (int)(i - 1);
	return -1;
}

const struct hf_nta *hf_nta_get(const struct hf_nta_store *s, const uint8_t *zone)
{
	int i = hf_nta_index(s, zone);

	return i < 0 ? NULL : &s->e[i];
}

const struct hf_nta *hf_nta_find(const struct hf_nta_store *s, const uint8_t *name)
{
	if (s->count == 0)
		return NULL;
	for (;;) {
		int i = hf_nta_index(s, name);

		if (i >= 0)
			return &s->e[i];
		if (name[0] == 0)
			return NULL;
		name += name[0] + 1;
	}
}

static int hf_nta_check(const uint8_t *zone, uint64_t lifetime, const char *reason, char *err,
			size_t err_size)
{
	char a[32], b[32];

	if (hf_name_check(zone, HF_NAME_MAXLEN) < 0) {
		snprintf(err, err_size, "zone is not a valid domain name");
		return -EINVAL;
	}
	if (lifetime > HF_NTA_LIFETIME_MAX) {
		hf_ctl_duration_format(lifetime, a, sizeof(a));
		hf_ctl_duration_format(HF_NTA_LIFETIME_MAX, b, sizeof(b));
		snprintf(err, err_size, "lifetime %s exceeds the maximum of %s", a, b);
		return -ERANGE;
	}
	return hf_ctl_reason_check(reason, HF_NTA_REASON_MAX, err, err_size);
}

/* Insert e in canonical order; the caller checked there is room and no
 * entry at the same zone. */
static void hf_nta_insert(struct hf_nta_store *s, const struct hf_nta *e)
{
	unsigned lo = 0, hi = s->count;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (hf_name_cmp_canonical(s->e[mid].zone, e->zone) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&s->e[lo + 1], &s->e[lo], (s->count - lo) * sizeof(s->e[0]));
	s->e[lo] = *e;
	s->count++;
	hf_nta_rehash(s);
}

int hf_nta_add(struct hf_nta_store *s, const uint8_t *zone, uint64_t lifetime,
	       const char *reason, int64_t now, char *err, size_t err_size)
{
	struct hf_nta e;
	int rc, i;

	if (!reason)
		reason = "";
	if (lifetime == 0)
		lifetime = HF_NTA_LIFETIME_DEFAULT;
	rc = hf_nta_check(zone, lifetime, reason, err, err_size);
	if (rc < 0)
		return rc;
	memset(&e, 0, sizeof(e));
	memcpy(e.zone, zone, hf_name_len(zone));
	hf_name_lower(e.zone);
	e.added = now;
	e.expires = now + (int64_t)lifetime;
	snprintf(e.reason, sizeof(e.reason), "%s", reason);
	i = hf_nta_index(s, e.zone);
	if (i >= 0) {
		/* A renewal: what the zone's recheck found still stands. */
		e.checked = s->e[i].checked;
		e.check = s->e[i].check;
		s->e[i] = e;
		return 1;
	}
	if (s->count >= HF_NTA_MAX) {
		snprintf(err, err_size, "too many negative trust anchors (the maximum is %u)",
			 HF_NTA_MAX);
		return -ENOSPC;
	}
	hf_nta_insert(s, &e);
	return 0;
}

int hf_nta_set_check(struct hf_nta_store *s, const uint8_t *zone, int64_t when, bool validates)
{
	int i = hf_nta_index(s, zone);

	if (i < 0)
		return -ENOENT;
	s->e[i].checked = when;
	s->e[i].check = validates ? HF_NTA_CHECK_VALIDATES : HF_NTA_CHECK_FAILS;
	return 0;
}

const char *hf_nta_check_name(enum hf_nta_check c)
{
	switch (c) {
	case HF_NTA_CHECK_FAILS: return "fails";
	case HF_NTA_CHECK_VALIDATES: return "validates";
	case HF_NTA_CHECK_NONE:
	default: return "none";
	}
}

static void hf_nta_delete(struct hf_nta_store *s, unsigned i)
{
	memmove(&s->e[i], &s->e[i + 1], (s->count - i - 1) * sizeof(s->e[0]));
	s->count--;
}

int hf_nta_remove(struct hf_nta_store *s, const uint8_t *zone)
{
	int i = hf_nta_index(s, zone);

	if (i < 0)
		return -ENOENT;
	hf_nta_delete(s, (unsigned)i);
	hf_nta_rehash(s);
	return 0;
}

unsigned hf_nta_expire(struct hf_nta_store *s, int64_t now, hf_nta_expired_fn cb, void *ctx)
{
	unsigned n = 0, i = 0;

	while (i < s->count) {
		if (s->e[i].expires <= now) {
			if (cb)
				cb(ctx, &s->e[i]);
			hf_nta_delete(s, i);
			n++;
		} else {
			i++;
		}
	}
	if (n)
		hf_nta_rehash(s);
	return n;
}

int64_t hf_nta_next_expiry(const struct hf_nta_store *s)
{
	int64_t t = INT64_MAX;

	for (unsigned i = 0; i < s->count; i++)
		if (s->e[i].expires < t)
			t = s->e[i].expires;
	return t;
}

unsigned hf_nta_count(const struct hf_nta_store *s)
{
	return s->count;
}

const struct hf_nta *hf_nta_at(const struct hf_nta_store *s, unsigned i)
{
	return i < s->count ? &s->e[i] : NULL;
}

/* ---- persistence --------------------------------------------------------- */

static int hf_nta_load_entry(void *store, json_object *o, unsigned idx, int64_t now,
			     char *err, size_t err_size)
{
	struct hf_nta_store *s = store;
	json_object *zone, *added, *expires, *reason;
	uint8_t wire[HF_NAME_MAXLEN];
	struct hf_nta e;
	char why[300];
	int rc;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "zone", &zone) ||
	    !json_object_is_type(zone, json_type_string) ||
	    !json_object_object_get_ex(o, "added", &added) ||
	    !json_object_is_type(added, json_type_int) ||
	    !json_object_object_get_ex(o, "expires", &expires) ||
	    !json_object_is_type(expires, json_type_int)) {
		snprintf(err, err_size, "ntas[%u]: needs \"zone\" (string), \"added\" and "
			 "\"expires\" (integers)", idx);
		return -EINVAL;
	}
	if (json_object_object_get_ex(o, "reason", &reason) &&
	    !json_object_is_type(reason, json_type_string)) {
		snprintf(err, err_size, "ntas[%u].reason: not a string", idx);
		return -EINVAL;
	}
	rc = json_object_get_string_len(zone) < HF_NAME_TEXT_MAXLEN
		     ? hf_name_from_text(json_object_get_string(zone), wire) : HF_ENAMELEN;
	if (rc < 0) {
		snprintf(err, err_size, "ntas[%u].zone: %s", idx, hf_strerror(rc));
		return -EINVAL;
	}
	memset(&e, 0, sizeof(e));
	memcpy(e.zone, wire, (size_t)rc);
	hf_name_lower(e.zone);
	e.added = json_object_get_int64(added);
	e.expires = json_object_get_int64(expires);
	if (e.expires <= e.added || (uint64_t)(e.expires - e.added) > HF_NTA_LIFETIME_MAX) {
		snprintf(err, err_size, "ntas[%u]: expires must be after added, by at most %u s",
			 idx, HF_NTA_LIFETIME_MAX);
		return -EINVAL;
	}
	if (reason) {
		if (hf_ctl_reason_check(json_object_get_string(reason), HF_NTA_REASON_MAX, why,
					sizeof(why)) < 0) {
			snprintf(err, err_size, "ntas[%u]: %s", idx, why);
			return -EINVAL;
		}
		snprintf(e.reason, sizeof(e.reason), "%s", json_object_get_string(reason));
	}
	if (e.expires <= now)
		return 0;  /* expired while we were down */
	if (hf_nta_index(s, e.zone) >= 0) {
		snprintf(err, err_size, "ntas[%u].zone: %s is listed twice", idx,
			 json_object_get_string(zone));
		return -EINVAL;
	}
	if (s->count >= HF_NTA_MAX) {
		snprintf(err, err_size, "more than %u entries", HF_NTA_MAX);
		return -EINVAL;
	}
	hf_nta_insert(s, &e);
	return 0;
}

int hf_nta_load(struct hf_nta_store *s, const char *path, int64_t now, char *err,
		size_t err_size)
{
	struct hf_nta_store *tmp;
	json_object *root;
	int rc;

	rc = hf_ctl_json_load(path, &root, err, err_size);
	if (rc < 0)
		return rc;
	if (!root) {
		s->count = 0;
		hf_nta_rehash(s);
		return 0;
	}
	tmp = hf_nta_store_create();
	if (!tmp) {
		rc = -ENOMEM;
		snprintf(err, err_size, "%s: out of memory", path);
		goto out;
	}
	rc = hf_ctl_state_version(root, path, err, err_size);
	if (rc == 0)
		rc = hf_ctl_state_entries(root, path, "ntas", hf_nta_load_entry, tmp, now, err,
					  err_size);
	if (rc < 0)
		goto out;
	memcpy(s, tmp, sizeof(*s));
	rc = (int)s->count;
out:
	free(tmp);
	json_object_put(root);
	return rc;
}

int hf_nta_save(const struct hf_nta_store *s, const char *path, char *err, size_t err_size)
{
	json_object *root = json_object_new_object(), *list = json_object_new_array();
	char zone[HF_NAME_TEXT_MAXLEN];
	const char *text;
	size_t len;
	int rc;

	if (!root || !list) {
		json_object_put(root);
		json_object_put(list);
		snprintf(err, err_size, "%s: out of memory", path);
		return -ENOMEM;
	}
	json_object_object_add(root, "version", json_object_new_int(1));
	json_object_object_add(root, "ntas", list);
	for (unsigned i = 0; i < s->count; i++) {
		json_object *o = json_object_new_object();

		hf_name_to_text(s->e[i].zone, zone, sizeof(zone));
		json_object_object_add(o, "zone", json_object_new_string(zone));
		json_object_object_add(o, "added", json_object_new_int64(s->e[i].added));
		json_object_object_add(o, "expires", json_object_new_int64(s->e[i].expires));
		json_object_object_add(o, "reason", json_object_new_string(s->e[i].reason));
		json_object_array_add(list, o);
	}
	text = hf_ctl_json_text(root, 1, &len);
	rc = text ? hf_ctl_write_atomic(path, text, len, err, err_size) : -ENOMEM;
	if (!text)
		snprintf(err, err_size, "%s: out of memory", path);
	json_object_put(root);
	return rc;
}
