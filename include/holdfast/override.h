/*
 * Overrides: the compiled rule set as it lives in the shared-memory region.
 *
 * A rule is a pattern on the query name (exact name, subtree, or regular
 * expression), optionally a query type, and an action (insecure, nxdomain,
 * nodata, refuse, drop, servfail, or answer with given records). The control
 * plane (control/override/compile.h) checks every rule, compiles the regular
 * expressions into ONE Hyperscan database, serialises it into a slot of the
 * region's override part together with a fixed-size rule table, the
 * pre-rendered answers and the exact/subtree names, and publishes it; the
 * dataplane's main lcore copies it out, deserialises the database into its
 * own memory and swaps the whole set in under RCU (dataplane/override.h).
 *
 * What is matched
 * ---------------
 * The query name in presentation form, lower case, with the trailing dot and
 * the escapes of hf_name_to_text() ("www.example.com.", "a\.b.example.",
 * "\000.example."), as produced by hf_ovr_name_text() below. Both sides use
 * that one function: the control plane normalises exact and subtree patterns
 * through it (text -> wire -> lower case -> text), the workers convert the
 * question name with it, so the two cannot disagree.
 *
 *  - exact "example.com.": the text equals the rule's text;
 *  - subtree "example.com.": the text equals it or ends with "." + it at a
 *    label boundary (an escaped "\." is not one); subtree "." is every name;
 *  - regex: Hyperscan, the expression as given, HS_FLAG_CASELESS |
 *    HS_FLAG_SINGLEMATCH | HS_FLAG_DOTALL, on the same text (so `^` is the
 *    first character of the name and the text ends with the root's dot).
 *
 * Departure from the issue ("all patterns in one Hyperscan database"), with
 * the measurements behind it (Hyperscan 5.4, tests/bench/hf-bench-override.c
 * and the notes in dataplane/override.h): exact and subtree names are NOT in
 * the database. The dataplane finds them in a hash table of their texts,
 * probed once per label boundary of the query name. Reasons:
 *  - scan cost: Hyperscan confirms a literal hit against every literal that
 *    shares its last 8 bytes. With 10 000 names under one parent domain, a
 *    query name under it costs 60-125 us per scan (a client choosing such
 *    names stalls a worker); the hash costs 0.1 us whatever the names.
 *  - compile cost: anchored forms (`^example\.com\.$`,
 *    `(^|\.)example\.com\.$`) take 20-30 s to compile for 10 000 rules and
 *    minutes for 100 000; the names-only table takes 0.1 s for 100 000.
 * The database holds every regular expression, and there is one per set;
 * Hyperscan pattern id = the rule's index in the table.
 *
 * When several rules match (after the qtype filter: a rule with qtype != 0
 * applies to that query type only), the most specific wins: exact, then
 * subtree with more labels, then regex; ties go to the lowest rule id. The
 * order is folded into hf_ovr_rule.specificity by the compiler (higher
 * wins).
 *
 * Slot layout (one slot of HF_SHM_OVERRIDE_SLOT_SIZE bytes; host byte order
 * except the answer records, which are DNS wire form):
 *
 *        0  struct hf_ovr_header                64 B
 *       64  db: hs_serialize_database() output       db_len B (0: no regex rule)
 *   rules_offset (64-aligned)
 *           struct hf_ovr_rule[n_rules]          160 B each, by index
 *   answers_offset
 *           u8 answers[answers_len]                   per rule, at answer_off:
 *                                                     answer_len bytes of records,
 *                                                     then pattern_len bytes of the
 *                                                     exact/subtree name's text
 *   total_len = answers_offset + answers_len <= HF_SHM_OVERRIDE_SLOT_SIZE
 *
 * Answer records of a rule (answers + answer_off, answer_len bytes,
 * n_answers records) are complete resource records in wire form, one after
 * another: owner 0xc0 0x0c (a compression pointer to the question name at
 * offset 12, so the worker need not know the name), type, class IN, TTL,
 * RDLENGTH, RDATA (names inside RDATA uncompressed). A worker copies the
 * records whose type is the query type (or CNAME, or every record for ANY)
 * behind the client's question; hf_ovr_render_answers() does it.
 *
 * Who writes what, and the publication protocol
 * ----------------------------------------------
 * The region's header has an override state block (struct
 * hf_shm_override_state in "include/holdfast/shm.h"): `published` on a cache
 * line pair written only by the control plane; `loaded`, `applied`, `error`
 * and `error_generation` on another pair written only by the dataplane's
 * main lcore (and its call_rcu thread, for `applied`). Generation G lives in
 * slot G % 2. The hit counter block after the two slots is written only by
 * the dataplane's main lcore.
 *
 *  1. Control, to publish generation G + 1 (G = published): it may write slot
 *     (G + 1) % 2 only once loaded >= G - 1, i.e. once the dataplane has
 *     finished reading every older generation (that slot last held G - 1);
 *     otherwise -EAGAIN: retry on the next timer tick. It writes the whole
 *     slot (header last but one: generation in the slot header), then stores
 *     published = G + 1 with release.
 *  2. Dataplane main lcore (hf_ovr_poll()): loads published with
 *     acquire; if newer than what it loaded, it validates the slot's header
 *     (magic, generation, sizes inside the slot), copies the rule table and
 *     answers, deserialises the database into its own memory
 *     (hs_deserialize_database), checks every rule, then reads published
 *     again: if it moved two or more ahead, the slot may have been rewritten
 *     under it and the copy is thrown away (cannot happen with step 1's
 *     rule; it is a cheap defence). It allocates one Hyperscan scratch per
 *     worker (hs_alloc_scratch + hs_clone_scratch), swaps the set in with
 *     rcu_xchg_pointer(), stores loaded = G with release, and hands the old
 *     set to call_rcu().
 *  3. After the grace period (every worker has passed a quiescent state, so
 *     every worker uses generation G) the call_rcu callback frees the old set
 *     and stores applied = G with release. The CLI reports a rule change as
 *     done when applied >= the generation it published.
 *  4. A slot the dataplane refuses (bad header, Hyperscan refuses the
 *     database, a rule out of range) is still marked loaded (so the control
 *     plane is not blocked) with error = the negative code and
 *     error_generation = G; the running set stays in place.
 * A restarted dataplane creates a new region with everything zero (no
 * rules): the control plane publishes its rule set again after attaching
 * (the general rule of "include/holdfast/shm.h", Lifecycle step 4).
 *
 * Names: these shm-level types are hf_ovr_* / HF_OVR_* so that they can sit
 * next to the control plane's rule store (control/ctl/override_rules.h,
 * hf_override_*), whose kinds and actions come in the same order: ours are
 * theirs + 1 (0 is never valid in a slot).
 *
 * Lifetimes: rule.expires is informational for the dataplane; the control
 * plane removes expired rules and publishes a new generation.
 *
 * Hit counters: each worker counts hits per rule index of its current set
 * (dataplane memory, one cache-aligned array per worker). The main lcore
 * sums them into the region's hit block (struct hf_shm_override_hits) for
 * the generation it applied; readers take generation, counts, generation and
 * retry if the generation changed. Counts start at zero with each generation;
 * carrying them over by rule id is the control plane's business.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HF_OVR_MAGIC        UINT64_C(0x3176726f46444c48) /*!< "HLDForv1" in little-endian memory order */
#define HF_OVR_MAX_RULES    131072U  /*!< rules in one set (hit block is sized for it) */
#define HF_OVR_REASON_MAX   128U     /*!< bytes of a rule's reason text, no NUL needed */
#define HF_OVR_ANSWER_MAX   4096U    /*!< bytes of one rule's pre-rendered records */
#define HF_OVR_TEXT_MAX     1024U    /*!< buffer for a name's text (255 octets, all \DDD: 1004 + NUL) */
#define HF_OVR_NO_EDE       0xffffU  /*!< hf_ovr_rule.ede: send no Extended DNS Error */
#define HF_OVR_EDE_BLOCKED  15U      /*!< RFC 8914 Blocked */
#define HF_OVR_EDE_FILTERED 17U      /*!< RFC 8914 Filtered */

/*! What a rule's pattern is. */
enum hf_ovr_kind {
	HF_OVR_EXACT = 1,    /*!< the name itself */
	HF_OVR_SUBTREE = 2,  /*!< the name and every name below it */
	HF_OVR_REGEX = 3,    /*!< a Hyperscan regular expression on the name's text */
};

/*! What the worker does with a query a rule matches. */
enum hf_ovr_action {
	HF_OVR_INSECURE = 1, /*!< like a negative trust anchor: not validated (control plane's business) */
	HF_OVR_NXDOMAIN = 2, /*!< rcode NXDOMAIN, empty sections */
	HF_OVR_NODATA = 3,   /*!< rcode NOERROR, empty sections */
	HF_OVR_REFUSE = 4,   /*!< rcode REFUSED */
	HF_OVR_DROP = 5,     /*!< no answer at all */
	HF_OVR_SERVFAIL = 6, /*!< rcode SERVFAIL */
	HF_OVR_ANSWER = 7,   /*!< NOERROR with the rule's records */
	HF_OVR_ACTION_MAX = HF_OVR_ANSWER,
};

/*! Specificity classes, high 16 bits of hf_ovr_rule.specificity. */
#define HF_OVR_SPEC_REGEX   (1U << 16)
#define HF_OVR_SPEC_SUBTREE (2U << 16)  /*!< + labels of the subtree's name */
#define HF_OVR_SPEC_EXACT   (3U << 16)  /*!< + labels of the name */

/*! A slot's header (64 bytes, offset 0 of the slot). */
struct hf_ovr_header {
	uint64_t magic;           /*!< HF_OVR_MAGIC */
	uint64_t generation;      /*!< the generation this slot holds (1, 2, ...) */
	uint32_t n_rules;         /*!< entries of the rule table */
	uint32_t rule_size;       /*!< sizeof(struct hf_ovr_rule) of the writer */
	uint32_t db_offset;       /*!< from the slot start; 64 */
	uint32_t db_len;          /*!< bytes of the serialised database; 0 iff no regex rule */
	uint32_t rules_offset;    /*!< 64-aligned */
	uint32_t answers_offset;
	uint32_t answers_len;
	uint32_t total_len;       /*!< answers_offset + answers_len */
	uint8_t reserved[16];
};

_Static_assert(sizeof(struct hf_ovr_header) == 64, "slot header is 64 bytes");

/*
 * One rule (160 bytes). Everything the worker needs to answer is here or in
 * the answers area; the 32-byte head is what the match callback reads.
 *
 *   0  u32 id            control-plane rule id (ties: lowest wins)
 *   4  u32 specificity   HF_OVR_SPEC_* + labels; higher wins
 *   8  u8  kind          enum hf_ovr_kind
 *   9  u8  action        enum hf_ovr_action
 *  10  u16 qtype         0: any type
 *  12  u16 ede           RFC 8914 info-code, or HF_OVR_NO_EDE
 *  14  u16 pattern_len   exact/subtree: text length of the name, trailing dot
 *                        included (the text follows the rule's records); regex: 0
 *  16  u16 answer_len    bytes of records at answers + answer_off
 *  18  u8  n_answers     records there
 *  19  u8  reason_len    bytes of reason
 *  20  u32 answer_off
 *  24  i64 expires       CLOCK_REALTIME seconds; 0: never (informational)
 *  32  char reason[128]  EDE extra text (UTF-8, not NUL-terminated)
 */
struct hf_ovr_rule {
	uint32_t id;
	uint32_t specificity;
	uint8_t kind;
	uint8_t action;
	uint16_t qtype;
	uint16_t ede;
	uint16_t pattern_len;
	uint16_t answer_len;
	uint8_t n_answers;
	uint8_t reason_len;
	uint32_t answer_off;
	int64_t expires;
	char reason[HF_OVR_REASON_MAX];
};

_Static_assert(sizeof(struct hf_ovr_rule) == 160, "rule is 160 bytes");

/*
 * Octet -> text character for hf_ovr_name_text(): the lower-cased octet, or
 * 0 for octets hf_name_to_text() escapes (non-printable: \DDD; its special
 * characters . \ " ( ) @ ; $: backslash + the character).
 */
static const char hf_ovr_text_map[256] = {
	['!'] = '!', ['#'] = '#', ['%'] = '%', ['&'] = '&', ['\''] = '\'', ['*'] = '*',
	['+'] = '+', [','] = ',', ['-'] = '-', ['/'] = '/',
	[':'] = ':', ['<'] = '<', ['='] = '=', ['>'] = '>', ['?'] = '?',
	['['] = '[', [']'] = ']', ['^'] = '^', ['_'] = '_', ['`'] = '`',
	['{'] = '{', ['|'] = '|', ['}'] = '}', ['~'] = '~',
	['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4',
	['5'] = '5', ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9',
	['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f',
	['g'] = 'g', ['h'] = 'h', ['i'] = 'i', ['j'] = 'j', ['k'] = 'k', ['l'] = 'l',
	['m'] = 'm', ['n'] = 'n', ['o'] = 'o', ['p'] = 'p', ['q'] = 'q', ['r'] = 'r',
	['s'] = 's', ['t'] = 't', ['u'] = 'u', ['v'] = 'v', ['w'] = 'w', ['x'] = 'x',
	['y'] = 'y', ['z'] = 'z',
	['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd', ['E'] = 'e', ['F'] = 'f',
	['G'] = 'g', ['H'] = 'h', ['I'] = 'i', ['J'] = 'j', ['K'] = 'k', ['L'] = 'l',
	['M'] = 'm', ['N'] = 'n', ['O'] = 'o', ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r',
	['S'] = 's', ['T'] = 't', ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x',
	['Y'] = 'y', ['Z'] = 'z',
};

/*!
 * \brief Wire-form name to the matched text: lower case, trailing dot,
 *        escapes as hf_name_to_text() writes them. One pass, no allocation,
 *        one table load per octet.
 *
 * The name must be well formed (checked by the parser: labels <= 63, total
 * <= 255, no pointers), as struct hf_pkt's qname is.
 *
 * \param name  wire form, any letter case.
 * \param out   HF_OVR_TEXT_MAX bytes; NUL-terminated on return.
 * \return Text length (>= 1), without the NUL.
 */
static inline size_t hf_ovr_name_text(const uint8_t *name, char *out)
{
	size_t n = 0;

	if (name[0] == 0) {
		out[0] = '.';
		out[1] = '\0';
		return 1;
	}
	for (const uint8_t *l = name; *l != 0; l += 1 + *l) {
		for (unsigned i = 1; i <= *l; i++) {
			uint8_t c = l[i];
			char m = hf_ovr_text_map[c];

			if (m) {
				out[n++] = m;
			} else if (c <= 0x20 || c >= 0x7f) {
				out[n++] = '\\';
				out[n++] = (char)('0' + c / 100);
				out[n++] = (char)('0' + c / 10 % 10);
				out[n++] = (char)('0' + c % 10);
			} else {
				out[n++] = '\\';
				out[n++] = (char)c;
			}
		}
		out[n++] = '.';
	}
	out[n] = '\0';
	return n;
}

/*!
 * \brief Copy the records of an answer rule that fit the query type.
 *
 * Copies each record whose type is qtype or CNAME (all of them for qtype
 * ANY, 255) behind the caller's question; owners are 0xc00c, so the
 * question name must sit at offset 12 of the message being built.
 *
 * \param answers  the set's answer area (hf_ovr_answers()).
 * \param rule     a rule with action HF_OVR_ANSWER.
 * \param qtype    the query type.
 * \param out      where the answer section goes.
 * \param cap      room there.
 * \param ancount  receives the number of records copied.
 * \return Bytes copied, or -1 if they do not fit (the caller sets TC).
 */
static inline int hf_ovr_render_answers(const uint8_t *answers,
					     const struct hf_ovr_rule *rule, uint16_t qtype,
					     uint8_t *out, size_t cap, uint16_t *ancount)
{
	const uint8_t *p = answers + rule->answer_off;
	const uint8_t *end = p + rule->answer_len;
	size_t n = 0;

	*ancount = 0;
	while (p + 12 <= end) {
		uint16_t type = (uint16_t)(p[2] << 8 | p[3]);
		size_t rr = 12 + (size_t)(p[10] << 8 | p[11]);

		if (type == qtype || type == 5 || qtype == 255) {
			if (n + rr > cap)
				return -1;
			memcpy(out + n, p, rr);
			n += rr;
			(*ancount)++;
		}
		p += rr;
	}
	return (int)n;
}
