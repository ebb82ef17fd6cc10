/*
 * Override rule sets, control-plane side: compile every rule's pattern into
 * one Hyperscan database, lay the set out as "include/holdfast/override.h"
 * describes, write it into the shm slot the dataplane is not reading and
 * publish it.
 *
 * Typical use (the control plane's override store, on its libuv loop):
 *
 *   char err[512];
 *   struct hf_ovr_image *img;
 *   if (hf_ovr_compile(rules, n, &img, err, sizeof(err)) < 0)
 *           refuse the change with err, keep running the old set;
 *   rc = hf_ovr_publish(shm, img, &gen);
 *   -EAGAIN: the dataplane has not read the previous set yet: keep img and
 *            call hf_ovr_publish() again on the next tick;
 *   0:       done when hf_ovr_status_get() says applied >= gen.
 *   hf_ovr_image_free(img);
 *
 * Exact and subtree rules are checked by the name parser and go into the
 * rule table only (the dataplane hashes them); regexes are compiled by
 * Hyperscan into the set's one database. 100 000 exact/subtree rules take
 * about 0.1 s; regexes cost what Hyperscan makes them cost (10 typical ones:
 * 30 ms). Both are fine on the loop for CLI-sized changes; move very large
 * regex sets to uv_queue_work.
 * Everything here is thread-safe except publishing, which the claim holder
 * does from one thread.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "include/holdfast/override.h"

struct hf_shm;

/*! One record of an answer rule, as the CLI parsed it. */
struct hf_ovr_answer_in {
	uint16_t type;           /*!< RR type (A, AAAA, CNAME, TXT, ...) */
	uint32_t ttl;            /*!< seconds */
	uint16_t rdlen;          /*!< bytes of rdata */
	const uint8_t *rdata;    /*!< wire form, names uncompressed */
};

/*! A rule as the control plane keeps it. */
struct hf_ovr_rule_in {
	uint32_t id;             /*!< unique; ties between equally specific rules go to the lowest */
	enum hf_ovr_kind kind;
	const char *pattern;     /*!< exact/subtree: a name in presentation form (any case,
				      trailing dot optional; a subtree may be written
				      "*.example."); regex: a Hyperscan expression */
	uint16_t qtype;          /*!< 0: every type */
	enum hf_ovr_action action;
	uint16_t ede;            /*!< RFC 8914 info-code (15 Blocked, 17 Filtered), or HF_OVR_NO_EDE */
	const char *reason;      /*!< EDE extra text or NULL; cut to HF_OVR_REASON_MAX bytes
				      (at a UTF-8 character boundary) */
	int64_t expires;         /*!< CLOCK_REALTIME seconds; 0: never */
	const struct hf_ovr_answer_in *answers; /*!< action HF_OVR_ANSWER only */
	unsigned n_answers;      /*!< <= 255, rendered size <= HF_OVR_ANSWER_MAX */
};

/*! A compiled rule set, laid out as one slot's bytes (process-local). */
struct hf_ovr_image {
	uint8_t *buf;            /*!< the slot image; header's generation is filled by publish */
	size_t len;              /*!< bytes (total_len) */
	unsigned n_rules;
	size_t db_len;           /*!< bytes of the serialised Hyperscan database */
};

/*!
 * \brief Check one rule alone (the CLI, before it changes anything).
 *
 * Checks the fields and compiles the pattern alone with Hyperscan.
 *
 * \param err  receives e.g. "pattern 3 (/foo(/): Missing close parenthesis
 *             for group started at index 3." (3 is the rule id).
 * \return 0; -EINVAL (bad field or pattern, err says which); -ENOMEM.
 */
int hf_ovr_validate(const struct hf_ovr_rule_in *rule, char *err, size_t err_size);

/*!
 * \brief Compile a whole rule set into a slot image.
 *
 * n may be 0 (an empty set: no database). Rules go into the table in the
 * given order; a rule's index there is its Hyperscan id and its hit counter
 * index. Fails without side effects.
 *
 * \param err  on failure, the first bad rule as hf_ovr_validate() words it.
 * \return 0; -EINVAL (a bad rule; err says which); -E2BIG (more than
 *         HF_OVR_MAX_RULES rules, or the image exceeds
 *         HF_SHM_OVERRIDE_SLOT_SIZE); -ENOMEM.
 */
int hf_ovr_compile(const struct hf_ovr_rule_in *rules, unsigned n,
			struct hf_ovr_image **out, char *err, size_t err_size);

/*! \brief Free an image; NULL is ignored. */
void hf_ovr_image_free(struct hf_ovr_image *img);

/*!
 * \brief Write an image into a slot, stamped with a generation (no
 *        publication; for hf_ovr_publish() and tests).
 *
 * \return 0; -E2BIG if it does not fit slot_size.
 */
int hf_ovr_image_write(const struct hf_ovr_image *img, uint64_t generation,
			    void *slot, size_t slot_size);

/*!
 * \brief Write the image into the free slot and publish it (control plane
 *        holding the claim).
 *
 * \param generation  receives the generation published; done when
 *                    applied >= it (hf_ovr_status_get()).
 * \return 0; -EAGAIN if the dataplane has not loaded the previous
 *         generation yet (nothing written: retry later); -E2BIG.
 */
int hf_ovr_publish(struct hf_shm *shm, const struct hf_ovr_image *img,
			uint64_t *generation);

/*! What the dataplane did with the published sets. */
struct hf_ovr_status {
	uint64_t published;        /*!< newest generation the control plane published */
	uint64_t loaded;           /*!< newest the dataplane read and swapped in (or refused) */
	uint64_t applied;          /*!< newest every worker uses */
	int64_t error;             /*!< why error_generation was refused; 0: none */
	uint64_t error_generation;
};

/*! \brief Read the publication state (any handle, read-only ones too). */
void hf_ovr_status_get(const struct hf_shm *shm, struct hf_ovr_status *st);
