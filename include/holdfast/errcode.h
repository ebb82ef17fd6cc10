/*
 * holdfast error codes.
 *
 * Every function that can fail returns 0 (or a count) on success and a negative
 * number on failure: either a negated errno (-ENOMEM, -EINVAL, ...) for failures
 * the C library already names, or one of the HF_E* codes below for failures of
 * our own domain. HF_E* live in the reserved range [-1000, -501] so that they
 * never collide with errno values; hf_strerror() names both kinds.
 */
#pragma once

enum hf_error {
	HF_EOK = 0,

	/* Wire parsing: each malformation has its own code so that tests and
	 * counters can tell them apart. */
	HF_ETRUNC = -1000,    /*!< message ends inside a field */
	HF_EPTRRANGE,         /*!< compression pointer outside the message */
	HF_EPTRLOOP,          /*!< compression pointer not strictly backwards */
	HF_ELABELTYPE,        /*!< reserved/extended label type (0x40, 0x80) */
	HF_ELABELLEN,         /*!< label longer than 63 octets */
	HF_ENAMELEN,          /*!< name longer than 255 octets */
	HF_EQDCOUNT,          /*!< more than one question */
	HF_ERDLEN,            /*!< RDATA runs past the end of the message */
	HF_ERDATA,            /*!< RDATA malformed for its type (length, embedded name) */
	HF_ETRAILING,         /*!< octets after the last section */
	HF_ETOOMANYRR,        /*!< more records than the caller's array holds */
	HF_EMULTIOPT,         /*!< more than one OPT record */
	HF_EOPTSECTION,       /*!< OPT outside the additional section */
	HF_EOPTOWNER,         /*!< OPT owner is not the root name */
	HF_EOPTLEN,           /*!< EDNS option overruns the OPT RDATA */
	HF_ETOOMANYOPT,       /*!< more EDNS options than we keep */
	HF_ECOOKIE,           /*!< COOKIE option of an invalid length */
	HF_EEDELEN,           /*!< EDE option shorter than its info-code */
	HF_EBADESC,           /*!< bad escape in a presentation-form name */
	HF_EEMPTYLABEL,       /*!< empty label inside a presentation-form name */
	HF_ESPACE,            /*!< output buffer too small */

	/* Shared-memory channel. */
	HF_ESHMMAGIC,         /*!< region does not start with our magic */
	HF_ESHMABI,           /*!< region built for another ABI version */
	HF_ESHMLAYOUT,        /*!< region sizes disagree with this build */
	HF_ESHMSIZE,          /*!< region smaller than its header claims */
	HF_ESHMBUSY,          /*!< another live consumer is attached */
	HF_ESHMRETIRED,       /*!< region retired by a restarted or stopped dataplane */
	HF_ESHMTAKEN,         /*!< another control plane took over this one's claim */
	HF_ESHMRING,          /*!< ring indices say it holds more than it can */

	/* DNSSEC (control/dnssec). */
	HF_EBADSIG,           /*!< signature does not verify with this key */
	HF_EALGORITHM,        /*!< DNSSEC algorithm or DS digest type not supported */
	HF_EKEY,              /*!< DNSKEY public key malformed for its algorithm */
	HF_ECRYPTO,           /*!< the crypto library failed (not a verdict on the data) */

	HF_ERROR_LAST,        /*!< one past the last code (codes count up from -1000) */
	HF_ERROR_RESERVED_END = -501,  /*!< codes up to here are ours, known or not */
};

/*!
 * \brief Human-readable text for a return code.
 *
 * \param code  0, a negative errno, or an HF_E* code.
 * \return A static string; never NULL.
 */
const char *hf_strerror(int code);
