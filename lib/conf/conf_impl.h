/*
 * Internals of the configuration loader: the schema types (schema.c holds the
 * tables), the typed value parsers (types.c) and the formatting helpers the
 * error messages use. The loader (conf.c) walks a YAML document against the
 * schema; nothing here knows about YAML.
 *
 * A schema item describes one key: its type, where its value lives (an
 * offset into the section's struct), its range and its default as text. The
 * default goes through the same parser as the file's values, so
 * hf_conf_defaults(), the loader and docs/holdfast.yaml cannot disagree on
 * what a value means.
 *
 * A list item stores its elements in a fixed array at `offset` (element size
 * `size`, at most `max_count`) and their number in a uint32_t at
 * `count_offset`. A HF_CONF_T_SECTIONS item is a list of mappings, each
 * parsed with the `sub` table relative to its element.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "include/holdfast/conf.h"
#include "include/holdfast/defines.h"

enum hf_conf_type {
	HF_CONF_T_BOOL,      /*!< bool: true/false, yes/no, on/off */
	HF_CONF_T_UINT,      /*!< uint32_t in [min, max] */
	HF_CONF_T_DURATION,  /*!< uint64_t ms in [min, max]: 500ms, 30s, 5m, 6h, 1d, 1w */
	HF_CONF_T_SIZE,      /*!< uint64_t bytes in [min, max]: 4096, 512K, 256M, 2G, 1T */
	HF_CONF_T_STRING,    /*!< char[size], any text without NUL */
	HF_CONF_T_PATH,      /*!< char[size]; relative ones resolved against the file's dir */
	HF_CONF_T_INSTANCE,  /*!< char[size]; an instance name hf_shm_name() accepts */
	HF_CONF_T_ADDR,      /*!< struct sockaddr_storage, IPv4 or IPv6, port 53 */
	HF_CONF_T_ADDRPORT,  /*!< struct sockaddr_storage: "ADDR:PORT" / "[V6]:PORT"; "" = AF_UNSPEC */
	HF_CONF_T_NAME,      /*!< uint8_t[HF_NAME_MAXLEN], a domain name in wire form */
	HF_CONF_T_SECTIONS,  /*!< list of mappings described by `sub` */
};

enum hf_conf_flag {
	HF_CONF_F_LIST     = 1 << 0,  /*!< a YAML sequence of `type` values */
	HF_CONF_F_UNIQUE   = 1 << 1,  /*!< list: elements must differ */
	HF_CONF_F_REQUIRED = 1 << 2,  /*!< inside a SECTIONS element: must be given */
};

struct hf_conf_section;

/*! \brief One key of a section. A table ends with an item whose name is NULL. */
struct hf_conf_item {
	const char *name;             /*!< key, lower-case with hyphens */
	enum hf_conf_type type;
	unsigned flags;               /*!< enum hf_conf_flag */
	size_t offset;                /*!< value (or first element) in the section's struct */
	size_t size;                  /*!< value (or one element) size, bytes */
	size_t count_offset;          /*!< lists: the uint32_t element count */
	uint32_t max_count;           /*!< lists: capacity of the array */
	uint64_t min, max;            /*!< UINT, DURATION, SIZE: accepted range */
	const char *def;              /*!< default as file text; lists: space-separated */
	const char *help;             /*!< one line: meaning and unit */
	const struct hf_conf_section *sub; /*!< SECTIONS: the element's keys */
};

/*! \brief A section (a top-level key) or the shape of a SECTIONS element. */
struct hf_conf_section {
	const char *name;
	size_t offset;                /*!< in struct hf_conf (top level only) */
	const struct hf_conf_item *items;
};

/*! The top-level sections, ending with a NULL name. */
extern const struct hf_conf_section hf_conf_schema[];

#define HF_CONF_ITEMS_MAX    32   /*!< keys in one table (checked by hf_conf_defaults) */
#define HF_CONF_SECTIONS_MAX 8    /*!< top-level sections (checked by hf_conf_defaults) */
#define HF_CONF_QUOTE_MAX    80   /*!< offending text echoed in a message, bytes */

/*! \brief State of one load: where messages go, and what was seen where. */
struct hf_conf_ctx {
	const char *file;                 /*!< as the caller named it, for messages */
	char dir[HF_CONF_PATH_MAX];       /*!< absolute directory of the file; "" = none */
	char *err;                        /*!< message buffer (may be NULL if err_size is 0) */
	size_t err_size;
	/*! Line (1-based) of each top-level key set by the file; 0 = not set. */
	size_t lines[HF_CONF_SECTIONS_MAX][HF_CONF_ITEMS_MAX];
};

/*! \brief The uint32_t element count of a list item in the struct at base. */
static inline uint32_t *hf_conf_count(const struct hf_conf_item *it, void *base)
{
	return (uint32_t *)((char *)base + it->count_offset);
}

/*! \brief Element i of a list item (or the value of a scalar one, i = 0). */
static inline void *hf_conf_elem(const struct hf_conf_item *it, void *base, size_t i)
{
	return (char *)base + it->offset + i * it->size;
}

/*!
 * \brief Write "FILE:LINE: " (or "FILE: " if line is 0) and the message into
 *        ctx->err, truncated to fit.
 * \return -EINVAL, so that callers can `return hf_conf_fail(...)`.
 */
HF_COLD __attribute__((format(printf, 3, 4)))
int hf_conf_fail(struct hf_conf_ctx *ctx, size_t line, const char *fmt, ...);

/*!
 * \brief Copy text for a message: at most size - 1 bytes ("..." if cut),
 *        control characters replaced by '?'.
 * \return buf.
 */
const char *hf_conf_quote(const char *text, char *buf, size_t size);

/*!
 * \brief Convert text into the storage of item `it` at dst (one value, or one
 *        list element), checking type and range.
 * \param key   Full key for messages ("cache.size", "dataplane.workers[3]").
 * \param line  Line for messages; 0 for none.
 * \return 0, or -EINVAL with the message in ctx.
 */
int hf_conf_set(struct hf_conf_ctx *ctx, const struct hf_conf_item *it, void *dst,
		const char *text, const char *key, size_t line);

/*! \brief Equality of two stored values of item `it` (UINT, ADDR*, NAME, strings). */
bool hf_conf_value_equal(const struct hf_conf_item *it, const void *a, const void *b);

/*! \brief Render a stored value of item `it` for a message. */
void hf_conf_value_text(const struct hf_conf_item *it, const void *v, char *buf, size_t size);

/*!
 * \brief Fill the values of a table at base from its default texts, after
 *        checking each entry's storage against its type (hf_require).
 */
void hf_conf_apply_defaults(const struct hf_conf_item *items, void *base);

/*
 * Typed parsers: strict (no whitespace, no sign), overflow reported rather
 * than wrapped. Range checks against an item's min/max are the caller's.
 */

/*!
 * \brief true/yes/on or false/no/off (lower case).
 * \return 0, or -EINVAL.
 */
int hf_conf_parse_bool(const char *text, bool *out);

/*!
 * \brief Decimal digits only.
 * \return 0, -EINVAL (not a number) or -ERANGE (above UINT64_MAX).
 */
int hf_conf_parse_uint(const char *text, uint64_t *out);

/*!
 * \brief A number and one unit (ms, s, m, h, d, w), or a bare "0", into ms.
 * \return 0, -EINVAL or -ERANGE.
 */
int hf_conf_parse_duration(const char *text, uint64_t *out_ms);

/*!
 * \brief Bytes, or a number and K, M, G, T (powers of 1024, either case).
 * \return 0, -EINVAL or -ERANGE.
 */
int hf_conf_parse_size(const char *text, uint64_t *out_bytes);

/*!
 * \brief IPv4 or IPv6 literal (inet_pton; no port, no scope).
 * \param port  Port to store in the result, host order.
 * \return 0, or -EINVAL (and *out zeroed).
 */
int hf_conf_parse_addr(const char *text, uint16_t port, struct sockaddr_storage *out);

/*!
 * \brief "192.0.2.1:9153" or "[2001:db8::1]:9153"; port 1..65535.
 * \return 0, or -EINVAL.
 */
int hf_conf_parse_addrport(const char *text, struct sockaddr_storage *out);

/*! \brief Equality of two parsed addresses (family, address, port). */
bool hf_conf_addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

/*!
 * \brief Render a duration (ms) with the largest unit that divides it
 *        exactly ("1d", "90m", "1800ms"), for messages.
 */
void hf_conf_fmt_duration(uint64_t ms, char *buf, size_t size);

/*! \brief Render a size (bytes) the same way ("256M", "1536"). */
void hf_conf_fmt_size(uint64_t bytes, char *buf, size_t size);

/*! \brief Render an address, as "[V6]:port" / "V4:port" if with_port. */
void hf_conf_fmt_addr(const struct sockaddr_storage *ss, bool with_port, char *buf, size_t size);
