/*
 * The override rule store: operator rules that answer some questions
 * without (or despite) resolution.
 *
 * A rule matches on the query name, one of three ways, written on the
 * command line as:
 *
 *     example.com.        exact    the name only
 *     *.example.com.      subtree  the name and every name below it
 *     /^ads?\./           regex    a regular expression over the name in
 *                                  presentation form, lower-case, with the
 *                                  trailing dot (compiled by the Hyperscan
 *                                  module, which validates it through the
 *                                  store's callback)
 *
 * optionally restricted to one query type (0 = any), and has an action:
 * insecure (resolve without validation, like an NTA for those names),
 * nxdomain, nodata, refuse, drop, servfail, or answer with records given in
 * presentation form ("A 192.0.2.1", "AAAA 2001:db8::1", "CNAME x.example.",
 * "TXT \"a\" \"b\"", "MX 10 mail.example.", "PTR host.example."); a CNAME
 * must be the only record. Block actions (nxdomain, nodata, refuse, drop,
 * servfail) carry EDE 15 (Blocked) or, if asked, 17 (Filtered), with the
 * rule's reason as the EDE text; insecure and answer carry none.
 *
 * Each rule has an id (from 1, increasing, never reused: the next id is
 * persisted), the time it was added and the time it expires (epoch seconds
 * from CLOCK_REALTIME; 0 = never), and a hit counter (fed by whoever
 * counts matches, through hf_override_hit()).
 *
 * Adding a rule with the same kind, pattern and qtype as an existing one
 * updates that rule in place (same id, hits kept).
 *
 * Persistence: "<state-dir>/overrides.json",
 *
 *     {"version": 1, "next_id": 8, "rules": [{"id": 7, "pattern":
 *      "*.ads.example.", "qtype": "A", "action": "nxdomain", "ede": 15,
 *      "data": [], "reason": "...", "added": 1778000000, "expires": 0,
 *      "hits": 12}]}
 *
 * replaced atomically on every save. The store belongs to one thread (the
 * control plane's loop); no locking.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/holdfast/dns.h"

#define HF_OVERRIDE_MAX           4096   /*!< rules in the store */
#define HF_OVERRIDE_PATTERN_MAX   1024   /*!< pattern text, bytes without NUL */
#define HF_OVERRIDE_REASON_MAX    256    /*!< reason text, bytes without NUL */
#define HF_OVERRIDE_RECORDS_MAX   16     /*!< records of an answer rule */
#define HF_OVERRIDE_RDATA_MAX     1024   /*!< wire RDATA of one record, bytes */
#define HF_OVERRIDE_LIFETIME_MAX  (366u * 86400) /*!< seconds (a year); 0 = permanent */
#define HF_OVERRIDE_TTL_DEFAULT   300    /*!< TTL of the records of an answer rule, seconds */
#define HF_OVERRIDE_EDE_NONE      (-1)
#define HF_OVERRIDE_FILE          "overrides.json"

enum hf_override_kind {
	HF_OVERRIDE_EXACT,
	HF_OVERRIDE_SUBTREE,
	HF_OVERRIDE_REGEX,
};

enum hf_override_action {
	HF_OVERRIDE_INSECURE,
	HF_OVERRIDE_NXDOMAIN,
	HF_OVERRIDE_NODATA,
	HF_OVERRIDE_REFUSE,
	HF_OVERRIDE_DROP,
	HF_OVERRIDE_SERVFAIL,
	HF_OVERRIDE_ANSWER,
	HF_OVERRIDE_ACTION_COUNT,
};

/*! One record of an answer rule: owner is the query name, class IN. */
struct hf_override_record {
	uint16_t type;
	uint16_t rdlen;
	uint8_t rdata[HF_OVERRIDE_RDATA_MAX];  /*!< wire form, names uncompressed */
	char *text;                            /*!< "TYPE RDATA", normalised presentation form */
};

struct hf_override_rule {
	uint32_t id;
	enum hf_override_kind kind;
	char pattern[HF_OVERRIDE_PATTERN_MAX + 8]; /*!< as the operator writes it (see above) */
	uint8_t name[HF_NAME_MAXLEN];  /*!< exact/subtree: the name, lower-case wire form */
	char *regex;                   /*!< regex: the expression between the slashes; else NULL */
	uint16_t qtype;                /*!< 0 = any */
	enum hf_override_action action;
	int ede;                       /*!< 15, 17, or HF_OVERRIDE_EDE_NONE */
	uint32_t ttl;                  /*!< answer: TTL of the records */
	unsigned n_records;
	struct hf_override_record *records;
	char reason[HF_OVERRIDE_REASON_MAX + 1];
	int64_t added;                 /*!< epoch seconds */
	int64_t expires;               /*!< epoch seconds; 0 = never */
	uint64_t hits;
};

/*! What an operator asks for (hf_override_add()); text as from the CLI. */
struct hf_override_spec {
	const char *pattern;     /*!< "name.", "*.name." or "/regex/" */
	const char *qtype;       /*!< NULL or "" = any; a type mnemonic or TYPEnnn */
	const char *action;      /*!< "nxdomain", ... (hf_override_action_parse()) */
	const char *const *data; /*!< answer: records "TYPE RDATA" */
	unsigned n_data;
	int ede;                 /*!< 0 = the default for the action, else 15 or 17 */
	uint64_t lifetime;       /*!< seconds; 0 = permanent */
	uint32_t ttl;            /*!< answer records; 0 = HF_OVERRIDE_TTL_DEFAULT */
	const char *reason;      /*!< NULL or "" = none */
};

/*!
 * \brief Checks a rule before it enters the store (the Hyperscan module
 *        compiles a regex here, so the operator gets its message).
 * \return 0 to accept; <0 to refuse, with err saying why.
 */
typedef int (*hf_override_validate_fn)(void *ctx, const struct hf_override_rule *rule,
				       char *err, size_t err_size);

struct hf_override_store;

/*!
 * \brief An empty store.
 * \param validate  NULL, or called for every rule added (not for rules
 *                  loaded from the file, which were validated when added;
 *                  the compiler will see them anyway).
 */
struct hf_override_store *hf_override_store_create(hf_override_validate_fn validate, void *ctx);

/*! \brief Free the store and its rules; NULL is ignored. */
void hf_override_store_destroy(struct hf_override_store *s);

/*!
 * \brief Add a rule, or update the one with the same kind, pattern and qtype.
 * \param id  receives the rule's id.
 * \param err receives what is wrong, naming the field ("data: A: bad IPv4
 *            address '1.2.3'"), or the validator's message.
 * \return 0 (added), 1 (updated), -EINVAL (bad spec, refused by the
 *         validator), -ERANGE (lifetime), -ENOSPC (HF_OVERRIDE_MAX), -ENOMEM.
 */
int hf_override_add(struct hf_override_store *s, const struct hf_override_spec *spec,
		    int64_t now, uint32_t *id, char *err, size_t err_size);

/*! \brief Remove a rule. \return 0 or -ENOENT. */
int hf_override_remove(struct hf_override_store *s, uint32_t id);

/*! \brief The rule with this id, or NULL. */
const struct hf_override_rule *hf_override_get(const struct hf_override_store *s, uint32_t id);

/*! \brief Number of rules. */
unsigned hf_override_count(const struct hf_override_store *s);

/*! \brief The i-th rule in id order; valid until the store next changes. */
const struct hf_override_rule *hf_override_at(const struct hf_override_store *s, unsigned i);

/*! \brief Add n to a rule's hit counter. \return 0 or -ENOENT. */
int hf_override_hit(struct hf_override_store *s, uint32_t id, uint64_t n);

/*!
 * \brief The rule that applies to a name and type, among exact and subtree
 *        rules only (regex rules are the Hyperscan module's): an exact rule
 *        beats a subtree rule, a deeper subtree beats a shallower one, a rule
 *        for the type beats a rule for any type.
 * \return The rule or NULL. O(number of rules); for the control plane's
 *         slow paths, not per packet.
 */
const struct hf_override_rule *hf_override_match(const struct hf_override_store *s,
						 const uint8_t *name, uint16_t qtype);

/*! \brief Called by hf_override_expire() for each rule, before it is removed. */
typedef void (*hf_override_expired_fn)(void *ctx, const struct hf_override_rule *rule);

/*! \brief Remove rules with 0 < expires <= now. \return How many. */
unsigned hf_override_expire(struct hf_override_store *s, int64_t now, hf_override_expired_fn cb,
			    void *ctx);

/*! \brief Earliest expiry, or INT64_MAX. */
int64_t hf_override_next_expiry(const struct hf_override_store *s);

/*!
 * \brief Replace the content with a file's; missing file = empty store.
 *        Expired rules are dropped. On failure the store is unchanged.
 * \return Number of rules, or -errno with err "PATH: rules[2].data[0]: ...".
 */
int hf_override_load(struct hf_override_store *s, const char *path, int64_t now, char *err,
		     size_t err_size);

/*! \brief Write the store atomically. \return 0 or -errno, err set. */
int hf_override_save(const struct hf_override_store *s, const char *path, char *err,
		     size_t err_size);

/*! \brief "nxdomain", ... for an action. */
const char *hf_override_action_name(enum hf_override_action a);

/*! \brief Parse an action name (case-insensitive). \return The action or -EINVAL. */
int hf_override_action_parse(const char *text);

/*! \brief "exact", "subtree", "regex". */
const char *hf_override_kind_name(enum hf_override_kind k);


