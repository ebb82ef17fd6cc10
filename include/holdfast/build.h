/*
 * Building DNS messages into a caller's buffer.
 *
 * The builder writes the header first, then the question, then records in
 * section order (answer, authority, additional), then optionally one OPT
 * record, and patches the section counts in hf_build_finish(). It allocates
 * nothing.
 *
 * Each call either writes its whole item or leaves the message as it was and
 * returns HF_ESPACE, so a responder can stop at the first item that does not
 * fit, set TC and finish the message with what it has.
 *
 * Owner names, and names inside the RDATA of the RFC 1035 types that allow it
 * (RFC 3597 §4), are compressed against names already written. The question
 * name is copied as given, so a client's letter case (and 0x20 bits) comes
 * back unchanged.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/holdfast/dns.h"

/*! Names remembered as compression targets; later names just compress less. */
#define HF_BUILD_COMP_MAX 64

struct hf_build {
	uint8_t *wire;
	uint16_t cap;
	uint16_t pos;
	uint16_t count[4];      /*!< QD, AN, NS, AR */
	uint8_t section;        /*!< the section records go to next (enum hf_section) */
	bool has_opt;
	uint16_t opt_rdlen_at;  /*!< offset of the open OPT's RDLENGTH, 0 if none */
	uint16_t n_comp;
	uint16_t comp[HF_BUILD_COMP_MAX];  /*!< offsets of names written in place */
};

/*!
 * \brief Start a message: header with the given ID and flags, zero counts.
 *        Only the 12 header octets of wire are written.
 * \return 0, or HF_ESPACE if cap is smaller than a header.
 */
int hf_build_init(struct hf_build *b, uint8_t *wire, uint16_t cap, uint16_t id, uint16_t flags);

/*! \brief Set the header flags word (QR, opcode, AA, TC, RD, RA, AD, CD, rcode). */
void hf_build_set_flags(struct hf_build *b, uint16_t flags);

/*!
 * \brief Write the question. qname is in wire form, uncompressed, copied as is.
 * \return 0, HF_ESPACE, or -EINVAL if records were already added.
 */
int hf_build_question(struct hf_build *b, const uint8_t *qname, uint16_t qtype, uint16_t qclass);

/*!
 * \brief Keep the question that the buffer already holds at offset 12, up to
 *        question_end, as sent by the client (responding in place).
 * \return 0, HF_ESPACE or -EINVAL (records already added, or no room).
 */
int hf_build_keep_question(struct hf_build *b, uint16_t question_end);

/*!
 * \brief Append a record.
 *
 * \param section  Must not go back to an earlier section (-EINVAL).
 * \param owner    Uncompressed wire name.
 * \param rdata    Uncompressed RDATA.
 * \return Offset of the record's TTL field (for callers that patch TTLs
 *         later), HF_ESPACE, HF_ERDATA for RDATA that does not parse as its
 *         type, or -EINVAL.
 */
int hf_build_rr(struct hf_build *b, uint8_t section, const uint8_t *owner, uint16_t type,
		uint16_t rclass, uint32_t ttl, const uint8_t *rdata, uint16_t rdlength);

/*!
 * \brief Open the OPT record (in the additional section).
 * \param flags  EDNS flags, e.g. HF_EDNS_FLAG_DO.
 * \return 0, HF_ESPACE, or -EINVAL if one is already written.
 */
int hf_build_opt_begin(struct hf_build *b, uint16_t udp_size, uint8_t ext_rcode,
		       uint8_t version, uint16_t flags);

/*! \brief Add an option to the open OPT record. \return 0, HF_ESPACE or -EINVAL. */
int hf_build_opt_option(struct hf_build *b, uint16_t code, const void *data, uint16_t len);

/*!
 * \brief Add an Extended DNS Error option (RFC 8914). text may be NULL or
 *        empty; it is sent without a terminating NUL.
 */
int hf_build_opt_ede(struct hf_build *b, uint16_t info_code, const char *text);

/*!
 * \brief Add EDNS options already in wire form (e.g. a cache entry's EDEs).
 * \return 0, HF_ESPACE or -EINVAL if no OPT record is open.
 */
int hf_build_opt_raw(struct hf_build *b, const uint8_t *options, uint16_t len);

/*! \brief Close the OPT record. */
int hf_build_opt_end(struct hf_build *b);

/*!
 * \brief Render one Extended DNS Error option (code 15, length, info-code,
 *        text without NUL) into buf, e.g. for a fill's list of EDEs.
 * \return Bytes written, or HF_ESPACE.
 */
int hf_ede_render(uint8_t *buf, size_t cap, uint16_t info_code, const char *text);

/*!
 * \brief Write the section counts into the header.
 * \return Message length, or -EINVAL if an OPT record is still open.
 */
int hf_build_finish(struct hf_build *b);
