/*
 * Parsing DNS messages.
 *
 * hf_pkt_parse() walks a whole message once, checking every field, and
 * records where things are rather than copying them: records are offsets into
 * the caller's buffer, which must outlive the struct hf_pkt. It allocates
 * nothing; the caller passes the array that receives the records (or none,
 * when only the header, question and EDNS matter, as on the dataplane).
 *
 * On error the header fields are still valid whenever the message is at least
 * HF_DNS_HEADER_SIZE long (pkt->header_ok), so a responder can send FORMERR
 * with the right ID.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "include/holdfast/dns.h"

/*! Options kept per OPT record; a message with more is refused (HF_ETOOMANYOPT). */
#define HF_EDNS_MAX_OPTS 16

/*! One resource record, located in the message. */
struct hf_rr {
	uint16_t owner_off;  /*!< offset of the owner name (may be compressed) */
	uint16_t type;
	uint16_t rclass;
	uint16_t rdlength;
	uint32_t ttl;
	uint16_t rdata_off;  /*!< offset of the RDATA */
	uint8_t section;     /*!< enum hf_section */
};

/*! One EDNS option, located in the message. Unknown options are kept too. */
struct hf_edns_opt {
	uint16_t code;
	uint16_t len;
	uint16_t off;  /*!< offset of the option data */
};

struct hf_edns {
	bool present;
	uint8_t version;
	uint8_t ext_rcode;   /*!< upper 8 bits of the 12-bit rcode */
	uint16_t udp_size;   /*!< as sent, not clamped */
	uint16_t flags;      /*!< HF_EDNS_FLAG_DO, ... */
	uint16_t rr_off;     /*!< offset of the OPT record */
	uint8_t n_opts;
	struct hf_edns_opt opts[HF_EDNS_MAX_OPTS];
};

struct hf_pkt {
	const uint8_t *wire;
	uint16_t size;

	bool header_ok;
	uint16_t id;
	uint16_t flags;      /*!< QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode */
	uint16_t qdcount, ancount, nscount, arcount;

	bool has_question;
	uint8_t qname_len;   /*!< wire length of qname */
	uint16_t qname_off;  /*!< the question name as the client wrote it */
	uint16_t qtype;
	uint16_t qclass;
	uint16_t question_end;  /*!< offset just past the question */
	uint8_t qname[HF_NAME_MAXLEN];  /*!< lower-cased copy, the cache key */

	struct hf_edns edns;

	struct hf_rr *rr;    /*!< caller's array, or NULL */
	uint16_t rr_cap;
	uint16_t rr_count;   /*!< records stored in rr[] (OPT excluded) */
};

/*!
 * \brief Parse and check a DNS message.
 *
 * \param pkt     Receives the result.
 * \param wire    The message; must stay valid while pkt is used.
 * \param size    Its size (at most 65535).
 * \param rr      Array for the answer, authority and additional records other
 *                than OPT, or NULL to check records without keeping them.
 * \param rr_cap  Its length.
 * \return 0, or the first error: HF_ETRUNC, HF_EQDCOUNT, HF_EPTRRANGE,
 *         HF_EPTRLOOP, HF_ELABELTYPE, HF_ENAMELEN, HF_ERDLEN, HF_ERDATA,
 *         HF_ETOOMANYRR, HF_EMULTIOPT, HF_EOPTSECTION, HF_EOPTOWNER,
 *         HF_EOPTLEN, HF_ETOOMANYOPT, HF_ECOOKIE, HF_EEDELEN, HF_ETRAILING.
 */
int hf_pkt_parse(struct hf_pkt *pkt, const uint8_t *wire, size_t size,
		 struct hf_rr *rr, uint16_t rr_cap);

/*!
 * \brief Parse and check the options of an OPT record's RDATA into edns
 *        (appending to edns->opts), for callers that locate the OPT record
 *        themselves (the dataplane's fast path). Same checks and errors as
 *        hf_pkt_parse(): HF_EOPTLEN, HF_ETOOMANYOPT, HF_ECOOKIE, HF_EEDELEN.
 */
int hf_edns_parse_options(struct hf_edns *edns, const uint8_t *wire, size_t off, size_t len);

/*!
 * \brief Copy a record's RDATA out of its message with every embedded name
 *        expanded (the layouts the parser checks; other types are copied as
 *        they are), ready to be cached, compared or re-rendered elsewhere.
 * \return Length written, HF_ERDATA or HF_ESPACE.
 */
int hf_rdata_unpack(const struct hf_pkt *pkt, const struct hf_rr *rr, uint8_t *out, size_t cap);

/*! \brief The first option with this code at or after index *from, or NULL. */
const struct hf_edns_opt *hf_edns_find(const struct hf_edns *edns, uint16_t code, unsigned *from);

/*! \brief 12-bit rcode combining the header and the OPT extension. */
static inline unsigned hf_pkt_rcode(const struct hf_pkt *pkt)
{
	return (unsigned)pkt->edns.ext_rcode << 4 | HF_FLAGS_RCODE(pkt->flags);
}
