/*
 * Values: converting a text (from the file or from a schema default) into the
 * storage of one schema item, with the error message for each way it can be
 * wrong; comparing and rendering stored values; applying the defaults.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "include/holdfast/conf.h"
#include "include/holdfast/defines.h"
#include "include/holdfast/errcode.h"
#include "include/holdfast/name.h"
#include "include/holdfast/shm.h"
#include "lib/conf/conf_impl.h"

int hf_conf_fail(struct hf_conf_ctx *ctx, size_t line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ctx->err_size == 0)
		return -EINVAL;
	if (line > 0)
		n = snprintf(ctx->err, ctx->err_size, "%s:%zu: ", ctx->file, line);
	else
		n = snprintf(ctx->err, ctx->err_size, "%s: ", ctx->file);
	if (n < 0 || (size_t)n >= ctx->err_size)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(ctx->err + n, ctx->err_size - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The offending text for a message: bounded, control characters as '?'. */
const char *hf_conf_quote(const char *text, char *buf, size_t size)
{
	size_t i = 0;

	for (; text[i] != '\0' && i + 1 < size; i++)
		buf[i] = iscntrl((unsigned char)text[i]) ? '?' : text[i];
	buf[i] = '\0';
	if (text[i] != '\0' && size > 4)
		memcpy(buf + size - 4, "...", 4);
	return buf;
}

static int hf_conf_copy_string(struct hf_conf_ctx *ctx, const struct hf_conf_item *it, char *dst,
			       const char *text, const char *key, size_t line)
{
	size_t len = strlen(text);
	char q[HF_CONF_QUOTE_MAX];

	if (len >= it->size)
		return hf_conf_fail(ctx, line, "%s: \"%s\" is too long (at most %zu characters)",
				    key, hf_conf_quote(text, q, sizeof(q)), it->size - 1);
	memcpy(dst, text, len + 1);
	return 0;
}

static int hf_conf_set_path(struct hf_conf_ctx *ctx, const struct hf_conf_item *it, char *dst,
			    const char *text, const char *key, size_t line)
{
	char q[HF_CONF_QUOTE_MAX];
	int n;

	if (text[0] == '\0' || text[0] == '/' || ctx->dir[0] == '\0')
		return hf_conf_copy_string(ctx, it, dst, text, key, line);
	n = snprintf(dst, it->size, "%s/%s", ctx->dir, text);
	if (n < 0 || (size_t)n >= it->size) {
		dst[0] = '\0';
		return hf_conf_fail(ctx, line, "%s: \"%s\" is too long once resolved against %s "
				    "(at most %zu characters)", key, hf_conf_quote(text, q, sizeof(q)),
				    ctx->dir, it->size - 1);
	}
	return 0;
}

/* Range check of a UINT, DURATION or SIZE value, with the range in its unit. */
static int hf_conf_check_range(struct hf_conf_ctx *ctx, const struct hf_conf_item *it, int rc,
			       uint64_t v, const char *text, const char *key, size_t line)
{
	char q[HF_CONF_QUOTE_MAX], lo[32], hi[32];

	if (rc != -ERANGE && v >= it->min && v <= it->max)
		return 0;
	if (it->type == HF_CONF_T_DURATION) {
		hf_conf_fmt_duration(it->min, lo, sizeof(lo));
		hf_conf_fmt_duration(it->max, hi, sizeof(hi));
	} else if (it->type == HF_CONF_T_SIZE) {
		hf_conf_fmt_size(it->min, lo, sizeof(lo));
		hf_conf_fmt_size(it->max, hi, sizeof(hi));
	} else {
		snprintf(lo, sizeof(lo), "%" PRIu64, it->min);
		snprintf(hi, sizeof(hi), "%" PRIu64, it->max);
	}
	return hf_conf_fail(ctx, line, "%s: \"%s\" is out of range %s..%s", key,
			    hf_conf_quote(text, q, sizeof(q)), lo, hi);
}

/*
 * Convert text into the value of item `it` at dst. key and line only serve
 * the error message.
 */
int hf_conf_set(struct hf_conf_ctx *ctx, const struct hf_conf_item *it, void *dst,
		       const char *text, const char *key, size_t line)
{
	char q[HF_CONF_QUOTE_MAX];
	uint64_t v = 0;
	int rc;

	switch (it->type) {
	case HF_CONF_T_BOOL:
		if (hf_conf_parse_bool(text, dst) < 0)
			return hf_conf_fail(ctx, line, "%s: \"%s\" is not a boolean (use true or false)",
					    key, hf_conf_quote(text, q, sizeof(q)));
		return 0;
	case HF_CONF_T_UINT:
		rc = hf_conf_parse_uint(text, &v);
		if (rc == -EINVAL)
			return hf_conf_fail(ctx, line, "%s: \"%s\" is not an unsigned integer",
					    key, hf_conf_quote(text, q, sizeof(q)));
		rc = hf_conf_check_range(ctx, it, rc, v, text, key, line);
		if (rc == 0)
			*(uint32_t *)dst = (uint32_t)v;
		return rc;
	case HF_CONF_T_DURATION:
		rc = hf_conf_parse_duration(text, &v);
		if (rc == -EINVAL)
			return hf_conf_fail(ctx, line, "%s: \"%s\" is not a duration "
					    "(use e.g. 500ms, 30s, 5m, 6h, 1d, 1w)",
					    key, hf_conf_quote(text, q, sizeof(q)));
		rc = hf_conf_check_range(ctx, it, rc, v, text, key, line);
		if (rc == 0)
			*(uint64_t *)dst = v;
		return rc;
	case HF_CONF_T_SIZE:
		rc = hf_conf_parse_size(text, &v);
		if (rc == -EINVAL)
			return hf_conf_fail(ctx, line, "%s: \"%s\" is not a size (use e.g. 512M, 2G)",
					    key, hf_conf_quote(text, q, sizeof(q)));
		rc = hf_conf_check_range(ctx, it, rc, v, text, key, line);
		if (rc == 0)
			*(uint64_t *)dst = v;
		return rc;
	case HF_CONF_T_STRING:
		return hf_conf_copy_string(ctx, it, dst, text, key, line);
	case HF_CONF_T_PATH:
		return hf_conf_set_path(ctx, it, dst, text, key, line);
	case HF_CONF_T_INSTANCE: {
		char shm_name[HF_SHM_NAME_SIZE];

		if (hf_shm_name(shm_name, sizeof(shm_name), text) < 0)
			return hf_conf_fail(ctx, line, "%s: \"%s\" is not an instance name "
					    "(1 to %d of A-Z a-z 0-9 . _ -)", key,
					    hf_conf_quote(text, q, sizeof(q)), HF_SHM_INSTANCE_MAX);
		return hf_conf_copy_string(ctx, it, dst, text, key, line);
	}
	case HF_CONF_T_ADDR:
		if (hf_conf_parse_addr(text, HF_CONF_DNS_PORT, dst) < 0)
			return hf_conf_fail(ctx, line, "%s: \"%s\" is not an IPv4 or IPv6 address",
					    key, hf_conf_quote(text, q, sizeof(q)));
		return 0;
	case HF_CONF_T_ADDRPORT:
		if (text[0] == '\0') {
			memset(dst, 0, sizeof(struct sockaddr_storage));
			return 0;
		}
		if (hf_conf_parse_addrport(text, dst) < 0)
			return hf_conf_fail(ctx, line, "%s: \"%s\" is not ADDRESS:PORT "
					    "(use e.g. 127.0.0.1:9153 or [::1]:9153)",
					    key, hf_conf_quote(text, q, sizeof(q)));
		return 0;
	case HF_CONF_T_NAME:
		rc = text[0] == '\0' ? HF_EEMPTYLABEL : hf_name_from_text(text, dst);
		if (rc < 0)
			return hf_conf_fail(ctx, line, "%s: \"%s\" is not a domain name (%s)", key,
					    hf_conf_quote(text, q, sizeof(q)), hf_strerror(rc));
		/* Canonical case, so that consumers may compare octets. */
		hf_name_lower(dst);
		return 0;
	case HF_CONF_T_SECTIONS:
		break;
	}
	return hf_conf_fail(ctx, line, "%s: internal error: no parser for type %d", key, (int)it->type);
}

bool hf_conf_value_equal(const struct hf_conf_item *it, const void *a, const void *b)
{
	switch (it->type) {
	case HF_CONF_T_UINT:
		return *(const uint32_t *)a == *(const uint32_t *)b;
	case HF_CONF_T_ADDR:
	case HF_CONF_T_ADDRPORT:
		return hf_conf_addr_equal(a, b);
	case HF_CONF_T_NAME:
		return hf_name_equal(a, b);
	case HF_CONF_T_STRING:
	case HF_CONF_T_PATH:
	case HF_CONF_T_INSTANCE:
		return strcmp(a, b) == 0;
	default:
		return false;
	}
}

void hf_conf_value_text(const struct hf_conf_item *it, const void *v, char *buf, size_t size)
{
	switch (it->type) {
	case HF_CONF_T_UINT:
		snprintf(buf, size, "%" PRIu32, *(const uint32_t *)v);
		return;
	case HF_CONF_T_ADDR:
		hf_conf_fmt_addr(v, false, buf, size);
		return;
	case HF_CONF_T_ADDRPORT:
		hf_conf_fmt_addr(v, true, buf, size);
		return;
	case HF_CONF_T_NAME: {
		char text[HF_NAME_TEXT_MAXLEN];

		if (hf_name_to_text(v, text, sizeof(text)) < 0)
			snprintf(text, sizeof(text), "?");
		hf_conf_quote(text, buf, size);
		return;
	}
	default:
		hf_conf_quote(v, buf, size);
		return;
	}
}

/* Storage size each scalar type writes; 0 = a char buffer of any size > 1. */
static size_t hf_conf_type_size(enum hf_conf_type type)
{
	switch (type) {
	case HF_CONF_T_BOOL:
		return sizeof(bool);
	case HF_CONF_T_UINT:
		return sizeof(uint32_t);
	case HF_CONF_T_DURATION:
	case HF_CONF_T_SIZE:
		return sizeof(uint64_t);
	case HF_CONF_T_ADDR:
	case HF_CONF_T_ADDRPORT:
		return sizeof(struct sockaddr_storage);
	case HF_CONF_T_NAME:
		return HF_NAME_MAXLEN;
	default:
		return 0;
	}
}

/* A schema entry whose storage does not match its type would write out of bounds. */
static void hf_conf_check_item(const struct hf_conf_item *it)
{
	size_t want = hf_conf_type_size(it->type);

	hf_require(it->def != NULL && it->help != NULL);
	if (it->type == HF_CONF_T_SECTIONS)
		hf_require(it->sub != NULL && (it->flags & HF_CONF_F_LIST) && it->size > 0);
	else if (want != 0)
		hf_require(it->size == want);
	else
		hf_require(it->size > 1);
	if (it->flags & HF_CONF_F_LIST)
		hf_require(it->max_count > 0);
}

/* Defaults are constants of this file: a failure is a bug, found by the unit test. */
void hf_conf_apply_defaults(const struct hf_conf_item *items, void *base)
{
	struct hf_conf_ctx ctx = { .file = "(built-in default)" };
	char err[256];

	ctx.err = err;
	ctx.err_size = sizeof(err);
	for (const struct hf_conf_item *it = items; it->name != NULL; it++) {
		int rc = 0;

		hf_conf_check_item(it);
		hf_require(it - items < HF_CONF_ITEMS_MAX);
		if (it->type == HF_CONF_T_SECTIONS) {
			*hf_conf_count(it, base) = 0;
			continue;
		}
		if (!(it->flags & HF_CONF_F_LIST)) {
			rc = hf_conf_set(&ctx, it, (char *)base + it->offset, it->def, it->name, 0);
		} else {
			/* Space-separated elements. */
			char token[HF_CONF_STR_MAX];
			const char *s = it->def;
			uint32_t *count = hf_conf_count(it, base);

			*count = 0;
			while (rc == 0 && *s != '\0') {
				size_t len = strcspn(s, " ");

				hf_require(len > 0 && len < sizeof(token) && *count < it->max_count);
				memcpy(token, s, len);
				token[len] = '\0';
				rc = hf_conf_set(&ctx, it, hf_conf_elem(it, base, *count), token, it->name, 0);
				(*count)++;
				s += len;
				s += strspn(s, " ");
			}
		}
		if (rc < 0)
			hf_require_failed(err, __FILE__, __LINE__, __func__);
	}
}

void hf_conf_defaults(struct hf_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	for (const struct hf_conf_section *s = hf_conf_schema; s->name != NULL; s++) {
		hf_require(s - hf_conf_schema < HF_CONF_SECTIONS_MAX);
		hf_conf_apply_defaults(s->items, (char *)conf + s->offset);
	}
}
