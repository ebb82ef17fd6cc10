/*
 * Domain names.
 *
 * Unless a function says otherwise, a name is in uncompressed wire form: a
 * sequence of length-prefixed labels ending with the zero-length root label,
 * e.g. "\3www\7example\0", at most HF_NAME_MAXLEN octets. Functions taking such
 * a name trust that it is well formed (it came from hf_name_unpack() or
 * hf_name_from_text()); functions reading names out of a message check
 * everything.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/holdfast/dns.h"

/*! Room for the longest presentation form: every octet as \DDD, plus dots and NUL. */
#define HF_NAME_TEXT_MAXLEN 1024

/*!
 * \brief Read a possibly compressed name out of a message.
 *
 * A compression pointer must land past the header and strictly before the
 * start of the label sequence it was found in (the name itself, or the target
 * of the previous pointer). Every compressor writes pointers that way, since
 * it can only point at names already written; the targets then strictly
 * decrease, which bounds the walk without a hop counter and rejects every
 * loop.
 *
 * \param msg       Whole message (pointers are offsets into it).
 * \param msg_size  Its size.
 * \param pos       In: offset of the name. Out: offset just past the name's
 *                  octets in place (after the first pointer, if any).
 * \param out       Receives the uncompressed name; may be NULL to only check.
 * \return Length of the uncompressed name (>= 1), or HF_ETRUNC, HF_EPTRRANGE,
 *         HF_EPTRLOOP, HF_ELABELTYPE, HF_ENAMELEN.
 */
int hf_name_unpack(const uint8_t *msg, size_t msg_size, size_t *pos, uint8_t *out);

/*!
 * \brief Check an uncompressed wire name that must lie within max octets.
 * \return Its length, or HF_ETRUNC, HF_ELABELTYPE (pointers included), HF_ENAMELEN.
 */
int hf_name_check(const uint8_t *name, size_t max);

/*!
 * \brief Convert presentation form ("www.Example.com.", escapes \DDD and \X)
 *        to wire form. The trailing dot is optional; "." and "" are the root.
 *
 * \param out  At least HF_NAME_MAXLEN octets.
 * \return Wire length, or HF_EBADESC, HF_EEMPTYLABEL, HF_ELABELLEN, HF_ENAMELEN.
 */
int hf_name_from_text(const char *text, uint8_t *out);

/*!
 * \brief Convert a wire-form name to presentation form, absolute (trailing dot),
 *        escaping special and non-printable octets.
 *
 * \return Text length (without the NUL), or HF_ESPACE if out_size is too small.
 */
int hf_name_to_text(const uint8_t *name, char *out, size_t out_size);

/*! \brief Length in octets of a well-formed wire name, root label included. */
size_t hf_name_len(const uint8_t *name);

/*! \brief Number of labels, not counting the root (RFC 4034 §3.1.3 "Labels"). */
int hf_name_labels(const uint8_t *name);

/*! \brief Lower-case ASCII letters in place (canonical form, RFC 4034 §6.2). */
void hf_name_lower(uint8_t *name);

/*! \brief Case-insensitive equality of two wire names. */
bool hf_name_equal(const uint8_t *a, const uint8_t *b);

/*! \brief True if name equals zone or lies below it (case-insensitive). */
bool hf_name_is_subdomain(const uint8_t *name, const uint8_t *zone);

/*!
 * \brief Canonical DNS name order (RFC 4034 §6.1): labels compared from the
 *        root down, each as a lower-cased octet string.
 * \return <0, 0 or >0 as a sorts before, equal to or after b.
 */
int hf_name_cmp_canonical(const uint8_t *a, const uint8_t *b);
