/*
 * The configuration loader: read the YAML file into a libyaml document, then
 * walk it against the schema (schema.c), converting each value (value.c, with
 * the typed parsers of types.c). The first error stops the walk and is reported as
 * "FILE:LINE: key: what is wrong" (Redis' loadServerConfig() shape), with the
 * offending text quoted.
 *
 * The document API is used rather than events because duplicate-key checks
 * and cross-field checks want to look back; the files are small.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

#include "include/holdfast/conf.h"
#include "include/holdfast/defines.h"
#include "include/holdfast/shm.h"
#include "lib/conf/conf_impl.h"

_Static_assert(HF_CONF_WORKERS_MAX <= HF_SHM_MAX_WORKERS, "one shm worker block per worker");
_Static_assert(HF_CONF_INSTANCE_MAX == HF_SHM_INSTANCE_MAX + 1, "instance name buffer");

#define HF_CONF_KEY_MAX      128  /*!< "dataplane.ports[7].device" and the like */

/* Key paths are built from the schema's short names and list indexes; they fit. */
__attribute__((format(printf, 3, 4)))
static void hf_conf_key(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

static size_t hf_conf_line(const yaml_node_t *node)
{
	return node->start_mark.line + 1;
}

static const char *hf_conf_kind(const yaml_node_t *node)
{
	switch (node->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

/* `key:` with nothing after it, or `~` / `null`: an explicitly empty value. */
static bool hf_conf_is_null(const yaml_node_t *node)
{
	const char *v;

	if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)node->data.scalar.value;
	return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	       strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static bool hf_conf_type_allows_empty(enum hf_conf_type type)
{
	return type == HF_CONF_T_STRING || type == HF_CONF_T_PATH || type == HF_CONF_T_ADDRPORT;
}

/* Scalar text of a node; NULL (and an error) if it is not one we can use. */
static const char *hf_conf_scalar(struct hf_conf_ctx *ctx, const struct hf_conf_item *it,
				  const yaml_node_t *node, const char *key, int *rc)
{
	const char *text;

	if (node->type != YAML_SCALAR_NODE) {
		*rc = hf_conf_fail(ctx, hf_conf_line(node), "%s: expected a single value, got %s",
				   key, hf_conf_kind(node));
		return NULL;
	}
	text = (const char *)node->data.scalar.value;
	if (strlen(text) != node->data.scalar.length) {
		*rc = hf_conf_fail(ctx, hf_conf_line(node), "%s: value contains a NUL character", key);
		return NULL;
	}
	if (hf_conf_is_null(node)) {
		if (!hf_conf_type_allows_empty(it->type)) {
			*rc = hf_conf_fail(ctx, hf_conf_line(node), "%s: missing value", key);
			return NULL;
		}
		return "";
	}
	return text;
}

static int hf_conf_parse_map(struct hf_conf_ctx *ctx, yaml_document_t *doc, const yaml_node_t *map,
			     const struct hf_conf_item *items, void *base, const char *prefix,
			     size_t *lines);

/* Elements i < n of a list must differ from element n. */
static int hf_conf_check_unique(struct hf_conf_ctx *ctx, const struct hf_conf_item *it, void *base,
				uint32_t n, const char *key, size_t line)
{
	const void *v = hf_conf_elem(it, base, n);
	char text[HF_CONF_QUOTE_MAX];

	for (uint32_t i = 0; i < n; i++) {
		if (!hf_conf_value_equal(it, hf_conf_elem(it, base, i), v))
			continue;
		hf_conf_value_text(it, v, text, sizeof(text));
		return hf_conf_fail(ctx, line, "%s: duplicate value \"%s\" (same as entry %" PRIu32 ")",
				    key, text, i);
	}
	return 0;
}

/* In a list of sections, keys flagged UNIQUE must differ between elements. */
static int hf_conf_check_unique_fields(struct hf_conf_ctx *ctx, const struct hf_conf_item *it,
				       void *base, uint32_t n, const char *key, const size_t *lines)
{
	const struct hf_conf_item *sub = it->sub->items;
	char text[HF_CONF_QUOTE_MAX];

	for (size_t j = 0; sub[j].name != NULL; j++) {
		if (!(sub[j].flags & HF_CONF_F_UNIQUE))
			continue;
		const void *v = (const char *)hf_conf_elem(it, base, n) + sub[j].offset;

		for (uint32_t i = 0; i < n; i++) {
			if (!hf_conf_value_equal(&sub[j], (const char *)hf_conf_elem(it, base, i) +
						 sub[j].offset, v))
				continue;
			hf_conf_value_text(&sub[j], v, text, sizeof(text));
			return hf_conf_fail(ctx, lines[j], "%s.%s: duplicate value \"%s\" "
					    "(same as entry %" PRIu32 ")", key, sub[j].name, text, i);
		}
	}
	return 0;
}

static int hf_conf_parse_section_elem(struct hf_conf_ctx *ctx, yaml_document_t *doc,
				      const struct hf_conf_item *it, void *base, uint32_t n,
				      const yaml_node_t *node, const char *key)
{
	const struct hf_conf_item *sub = it->sub->items;
	size_t lines[HF_CONF_ITEMS_MAX] = { 0 };
	void *elem = hf_conf_elem(it, base, n);
	int rc;

	if (node->type != YAML_MAPPING_NODE)
		return hf_conf_fail(ctx, hf_conf_line(node), "%s: expected a mapping, got %s",
				    key, hf_conf_kind(node));
	memset(elem, 0, it->size);
	hf_conf_apply_defaults(sub, elem);
	rc = hf_conf_parse_map(ctx, doc, node, sub, elem, key, lines);
	if (rc < 0)
		return rc;
	for (size_t j = 0; sub[j].name != NULL; j++) {
		if ((sub[j].flags & HF_CONF_F_REQUIRED) && lines[j] == 0)
			return hf_conf_fail(ctx, hf_conf_line(node), "%s: missing required key \"%s\"",
					    key, sub[j].name);
	}
	return hf_conf_check_unique_fields(ctx, it, base, n, key, lines);
}

static int hf_conf_parse_list(struct hf_conf_ctx *ctx, yaml_document_t *doc,
			      const struct hf_conf_item *it, void *base, const yaml_node_t *node,
			      const char *key)
{
	uint32_t *count = hf_conf_count(it, base);
	char elem_key[HF_CONF_KEY_MAX];

	*count = 0;
	if (hf_conf_is_null(node))
		return 0;
	if (node->type != YAML_SEQUENCE_NODE)
		return hf_conf_fail(ctx, hf_conf_line(node), "%s: expected a list, got %s",
				    key, hf_conf_kind(node));
	for (yaml_node_item_t *p = node->data.sequence.items.start;
	     p < node->data.sequence.items.top; p++) {
		const yaml_node_t *elem = yaml_document_get_node(doc, *p);
		const char *text;
		int rc = 0;

		if (*count >= it->max_count)
			return hf_conf_fail(ctx, hf_conf_line(elem), "%s: too many entries (at most %" PRIu32 ")",
					    key, it->max_count);
		hf_conf_key(elem_key, sizeof(elem_key), "%s[%" PRIu32 "]", key, *count);
		if (it->type == HF_CONF_T_SECTIONS) {
			rc = hf_conf_parse_section_elem(ctx, doc, it, base, *count, elem, elem_key);
			if (rc < 0)
				return rc;
			(*count)++;
			continue;
		}
		text = hf_conf_scalar(ctx, it, elem, elem_key, &rc);
		if (text == NULL)
			return rc;
		rc = hf_conf_set(ctx, it, hf_conf_elem(it, base, *count), text, elem_key,
				 hf_conf_line(elem));
		if (rc == 0 && (it->flags & HF_CONF_F_UNIQUE))
			rc = hf_conf_check_unique(ctx, it, base, *count, elem_key, hf_conf_line(elem));
		if (rc < 0)
			return rc;
		(*count)++;
	}
	return 0;
}

/*
 * Walk a mapping of keys described by items into base. lines[j] receives the
 * line of item j's key (0 if absent); prefix names the mapping in messages.
 */
static int hf_conf_parse_map(struct hf_conf_ctx *ctx, yaml_document_t *doc, const yaml_node_t *map,
			     const struct hf_conf_item *items, void *base, const char *prefix,
			     size_t *lines)
{
	char key[HF_CONF_KEY_MAX], q[HF_CONF_QUOTE_MAX];

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(doc, p->key);
		const yaml_node_t *v = yaml_document_get_node(doc, p->value);
		const char *name;
		size_t j;
		int rc = 0;

		if (k->type != YAML_SCALAR_NODE)
			return hf_conf_fail(ctx, hf_conf_line(k), "in \"%s\": expected a key name, got %s",
					    prefix, hf_conf_kind(k));
		name = (const char *)k->data.scalar.value;
		for (j = 0; items[j].name != NULL; j++) {
			if (strcmp(items[j].name, name) == 0)
				break;
		}
		if (items[j].name == NULL)
			return hf_conf_fail(ctx, hf_conf_line(k), "unknown key \"%s\" in section \"%s\"",
					    hf_conf_quote(name, q, sizeof(q)), prefix);
		if (lines[j] != 0)
			return hf_conf_fail(ctx, hf_conf_line(k), "duplicate key \"%s\" in section \"%s\" "
					    "(first at line %zu)", name, prefix, lines[j]);
		lines[j] = hf_conf_line(k);
		hf_conf_key(key, sizeof(key), "%s.%s", prefix, name);

		if (items[j].flags & HF_CONF_F_LIST) {
			rc = hf_conf_parse_list(ctx, doc, &items[j], base, v, key);
		} else {
			const char *text = hf_conf_scalar(ctx, &items[j], v, key, &rc);

			if (text == NULL)
				return rc;
			rc = hf_conf_set(ctx, &items[j], (char *)base + items[j].offset, text, key,
					 hf_conf_line(v));
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Line of a top-level key set by the file, or 0. */
static size_t hf_conf_line_of(const struct hf_conf_ctx *ctx, const char *section, const char *key)
{
	for (size_t s = 0; hf_conf_schema[s].name != NULL; s++) {
		if (strcmp(hf_conf_schema[s].name, section) != 0)
			continue;
		for (size_t j = 0; hf_conf_schema[s].items[j].name != NULL; j++) {
			if (strcmp(hf_conf_schema[s].items[j].name, key) == 0)
				return ctx->lines[s][j];
		}
	}
	return 0;
}

/* Checks that involve more than one key. */
static int hf_conf_check(struct hf_conf_ctx *ctx, const struct hf_conf *conf)
{
	char a[32], b[32];

	if (conf->dataplane.ports_count > 0 && conf->dataplane.workers_count == 0)
		return hf_conf_fail(ctx, hf_conf_line_of(ctx, "dataplane", "ports"),
				    "dataplane.ports: ports are defined but dataplane.workers is empty");
	if (conf->cache.ttl_min_ms > conf->cache.ttl_max_ms) {
		size_t line = hf_conf_line_of(ctx, "cache", "ttl-min");

		if (line == 0)
			line = hf_conf_line_of(ctx, "cache", "ttl-max");
		hf_conf_fmt_duration(conf->cache.ttl_min_ms, a, sizeof(a));
		hf_conf_fmt_duration(conf->cache.ttl_max_ms, b, sizeof(b));
		return hf_conf_fail(ctx, line, "cache.ttl-min (%s) is greater than cache.ttl-max (%s)",
				    a, b);
	}
	return 0;
}

static int hf_conf_walk(struct hf_conf_ctx *ctx, yaml_document_t *doc, struct hf_conf *conf)
{
	const yaml_node_t *root = yaml_document_get_root_node(doc);
	char q[HF_CONF_QUOTE_MAX];

	/* An empty file, or one with only comments: all defaults. */
	if (root == NULL || hf_conf_is_null(root))
		return hf_conf_check(ctx, conf);
	if (root->type != YAML_MAPPING_NODE)
		return hf_conf_fail(ctx, hf_conf_line(root), "expected a mapping of sections at the top "
				    "level, got %s", hf_conf_kind(root));

	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(doc, p->key);
		const yaml_node_t *v = yaml_document_get_node(doc, p->value);
		const char *name;
		size_t s;
		int rc;

		if (k->type != YAML_SCALAR_NODE)
			return hf_conf_fail(ctx, hf_conf_line(k), "expected a section name, got %s",
					    hf_conf_kind(k));
		name = (const char *)k->data.scalar.value;
		for (s = 0; hf_conf_schema[s].name != NULL; s++) {
			if (strcmp(hf_conf_schema[s].name, name) == 0)
				break;
		}
		if (hf_conf_schema[s].name == NULL)
			return hf_conf_fail(ctx, hf_conf_line(k), "unknown section \"%s\"",
					    hf_conf_quote(name, q, sizeof(q)));
		/* Sections have no line slot of their own: look back for the name. */
		for (yaml_node_pair_t *e = root->data.mapping.pairs.start; e < p; e++) {
			const yaml_node_t *ek = yaml_document_get_node(doc, e->key);

			if (ek->type == YAML_SCALAR_NODE &&
			    strcmp((const char *)ek->data.scalar.value, name) == 0)
				return hf_conf_fail(ctx, hf_conf_line(k), "duplicate section \"%s\" "
						    "(first at line %zu)", name, hf_conf_line(ek));
		}
		if (hf_conf_is_null(v))
			continue;
		if (v->type != YAML_MAPPING_NODE)
			return hf_conf_fail(ctx, hf_conf_line(v), "section \"%s\": expected a mapping of "
					    "keys, got %s", name, hf_conf_kind(v));
		rc = hf_conf_parse_map(ctx, doc, v, hf_conf_schema[s].items,
				       (char *)conf + hf_conf_schema[s].offset, name, ctx->lines[s]);
		if (rc < 0)
			return rc;
	}
	return hf_conf_check(ctx, conf);
}

/* Line of a byte offset: the reader fails before the scanner has a mark for it. */
static size_t hf_conf_offset_line(FILE *f, size_t offset)
{
	size_t line = 1;
	int c;

	rewind(f);
	for (size_t i = 0; i < offset && (c = getc(f)) != EOF; i++)
		line += c == '\n';
	return line;
}

HF_COLD
static int hf_conf_yaml_error(struct hf_conf_ctx *ctx, const yaml_parser_t *parser, FILE *f)
{
	const char *problem = parser->problem ? parser->problem : "unknown error";

	switch (parser->error) {
	case YAML_MEMORY_ERROR:
		hf_conf_fail(ctx, 0, "out of memory");
		return -ENOMEM;
	case YAML_READER_ERROR:
		return hf_conf_fail(ctx, hf_conf_offset_line(f, parser->problem_offset),
				    "invalid input: %s (at byte %zu)", problem, parser->problem_offset);
	default:
		if (parser->context != NULL)
			return hf_conf_fail(ctx, parser->problem_mark.line + 1,
					    "YAML syntax error: %s (%s at line %zu)", problem,
					    parser->context, parser->context_mark.line + 1);
		return hf_conf_fail(ctx, parser->problem_mark.line + 1, "YAML syntax error: %s",
				    problem);
	}
}

/* The file's directory, absolute, for relative paths inside it. */
static void hf_conf_set_dir(struct hf_conf_ctx *ctx, const char *path)
{
	char dir[PATH_MAX], abs[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t len = slash == NULL ? 1 : (size_t)(slash - path);

	if (slash == NULL)
		memcpy(dir, ".", 2);
	else if (len == 0)
		memcpy(dir, "/", 2);
	else if (len < sizeof(dir))
		memcpy(dir, path, len);
	else
		return;
	if (slash != NULL && len > 0)
		dir[len] = '\0';
	/* realpath() so a later chdir() does not change what a path means. If
	 * it fails (it should not: the file was opened), relative paths stay
	 * relative to the working directory. */
	if (realpath(dir, abs) == NULL)
		return;
	if (strlen(abs) < sizeof(ctx->dir))
		memcpy(ctx->dir, abs, strlen(abs) + 1);
}

int hf_conf_load(struct hf_conf *conf, const char *path, char *err, size_t err_size)
{
	struct hf_conf_ctx ctx = { .file = path, .err = err, .err_size = err_size };
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	struct stat st;
	FILE *f;
	int rc;

	if (err_size > 0)
		err[0] = '\0';
	hf_conf_defaults(conf);

	f = fopen(path, "rb");
	if (f == NULL) {
		rc = -errno;
		hf_conf_fail(&ctx, 0, "cannot open: %s", strerror(-rc));
		return rc;
	}
	if (fstat(fileno(f), &st) < 0) {
		rc = -errno;
		hf_conf_fail(&ctx, 0, "cannot read: %s", strerror(-rc));
		goto close_file;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		hf_conf_fail(&ctx, 0, "cannot read: %s", strerror(-rc));
		goto close_file;
	}
	hf_conf_set_dir(&ctx, path);

	if (!yaml_parser_initialize(&parser)) {
		hf_conf_fail(&ctx, 0, "out of memory");
		rc = -ENOMEM;
		goto close_file;
	}
	yaml_parser_set_input_file(&parser, f);
	/* On failure yaml_parser_load() leaves nothing to delete. */
	if (!yaml_parser_load(&parser, &doc)) {
		rc = hf_conf_yaml_error(&ctx, &parser, f);
		goto delete_parser;
	}
	/* A second document would be silently ignored: refuse it. */
	if (!yaml_parser_load(&parser, &extra)) {
		rc = hf_conf_yaml_error(&ctx, &parser, f);
		goto free_doc;
	}
	if (yaml_document_get_root_node(&extra) != NULL) {
		rc = hf_conf_fail(&ctx, extra.start_mark.line + 1,
				  "more than one YAML document (only one is allowed)");
		yaml_document_delete(&extra);
		goto free_doc;
	}
	yaml_document_delete(&extra);

	rc = hf_conf_walk(&ctx, &doc, conf);

free_doc:
	yaml_document_delete(&doc);
delete_parser:
	yaml_parser_delete(&parser);
close_file:
	fclose(f);
	return rc;
}
