/*
 * Trust anchors: the DS or DNSKEY records validation starts from.
 *
 * Read from a file in zone-file form, one record per line as
 * `owner [TTL] [IN] DS|DNSKEY rdata...` (what `ldns-key2ds`, `dig DNSKEY`
 * and Unbound's trust-anchor-file print; comments after ';', blank lines,
 * and the DNSKEY base64 split over several tokens or in parentheses are
 * accepted). Errors name the file and line. With no file, the built-in
 * root anchors (IANA's KSK-2017 and KSK-2024 DS records) are used.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "control/resolver/rrset.h"

#define HF_ANCHOR_MAX 16  /*!< zones with an anchor */

struct hf_anchor {
	uint8_t zone[HF_NAME_MAXLEN];  /*!< lower case */
	struct hf_rrset *ds;           /*!< DS records, or NULL */
	struct hf_rrset *dnskey;       /*!< DNSKEY records, or NULL */
};

struct hf_anchors {
	unsigned n;
	struct hf_anchor a[HF_ANCHOR_MAX];
};

/*!
 * \brief Load anchors from path, or the built-in root anchors if path is NULL or "".
 * \return 0, or a negative error with err set to "FILE:LINE: what is wrong".
 */
int hf_anchors_load(const char *path, struct hf_anchors *out, char *err, size_t err_size);

/*! \brief The anchor at name or its closest ancestor, or NULL (name is then not under any anchor). */
const struct hf_anchor *hf_anchors_find(const struct hf_anchors *as, const uint8_t *name);

void hf_anchors_free(struct hf_anchors *as);
