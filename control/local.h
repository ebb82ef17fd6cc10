/*
 * Special-use domain names answered by the control plane itself, never sent
 * upstream (RFC 6761 §6 and the IANA "Special-Use Domain Names" registry).
 *
 * The list comes from control.special-use-names; what each name gets is
 * fixed here, by the RFC that reserves it:
 *  - localhost. and below (RFC 6761 §6.3): A 127.0.0.1 and AAAA ::1; any
 *    other type is NODATA; the apex also answers its SOA and NS.
 *  - every other listed name and everything below it: NXDOMAIN.
 *    invalid. (RFC 6761 §6.4), test. (§6.2), onion. (RFC 7686 §2: "SHOULD
 *    generate NXDOMAIN"), local. (RFC 6762 §22.1), home.arpa. (RFC 8375;
 *    answered locally as unbound does for its default local zones).
 *    example. is listed by default too; RFC 6761 §6.5 lets resolvers
 *    resolve it normally, and the root has no such TLD, so NXDOMAIN is the
 *    answer either way, without the round trip.
 * Negative answers carry the special zone's SOA (RFC 2308 §3: a negative
 * answer without SOA is not cacheable downstream) and an informational EDE 0
 * (Other) that says why, because an operator looking at "NXDOMAIN for
 * printer.local" should not have to guess that no server was asked.
 * Nothing is validated, so no answer has AD.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/resolver.h"
#include "include/holdfast/conf.h"

/*! TTL of local answers and of their negative caching, seconds. */
#define HF_LOCAL_TTL 3600

/*! The special-use names in force (a copy of the configured list). */
struct hf_local {
	unsigned n_names;
	uint8_t names[HF_CONF_NAMES_MAX][HF_NAME_MAXLEN];  /*!< lower-case wire form */
};

/*!
 * \brief Take the list from the configuration.
 */
void hf_local_init(struct hf_local *local, const struct hf_conf_control *conf);

/*!
 * \brief The special-use name that qname is equal to or below.
 *
 * \param qname  wire form, any case.
 * \return The configured name, or NULL if qname is not special.
 */
const uint8_t *hf_local_match(const struct hf_local *local, const uint8_t *qname);

/*!
 * \brief Render the local answer for a question, if it has one.
 *
 * \param qname  lower-cased wire form.
 * \param out    receives the answer, in the form the resolver gives.
 * \return 1 if out holds the answer, 0 if the name is not special (resolve
 *         it), or a negative error code (HF_ESPACE cannot happen for names
 *         of legal length; kept for safety).
 */
int hf_local_answer(const struct hf_local *local, const uint8_t *qname, uint16_t qtype,
		    uint16_t qclass, struct hf_rendered *out);

/*!
 * \brief Render an answer with no records: used for errors that the control
 *        plane decides itself (SERVFAIL when a resolution cannot start).
 *
 * \param qname  lower-cased wire form.
 * \param rcode  12-bit rcode.
 * \param ede    EDE info-code, or -1 for none.
 * \param text   EDE text, may be NULL.
 * \param out    receives the answer; flagged HF_FILL_NOCACHE.
 * \return 0 or a negative error code.
 */
int hf_local_render_error(const uint8_t *qname, uint16_t qtype, uint16_t qclass, uint16_t rcode,
			  int ede, const char *text, struct hf_rendered *out);
