/*
 * DNS protocol constants: header layout, opcodes, rcodes, types, classes,
 * EDNS(0) option codes and Extended DNS Error info-codes (RFC 8914).
 */
#pragma once

#include <stdint.h>

/* Sizes, in octets, from RFC 1035 §2.3.4 and §4.1.1. */
#define HF_DNS_HEADER_SIZE  12
#define HF_NAME_MAXLEN      255   /*!< wire form, including the root label */
#define HF_LABEL_MAXLEN     63
#define HF_NAME_MAXLABELS   128   /*!< 127 one-octet labels + root */
#define HF_UDP_MIN_SIZE     512   /*!< answer size limit without EDNS */
#define HF_OPT_RR_FIXED     11    /*!< root owner + type, class, ttl, rdlength */

/* Header flag bits, within the 16-bit word that follows the ID. */
#define HF_FLAG_QR  0x8000
#define HF_FLAG_AA  0x0400
#define HF_FLAG_TC  0x0200
#define HF_FLAG_RD  0x0100
#define HF_FLAG_RA  0x0080
#define HF_FLAG_Z   0x0040
#define HF_FLAG_AD  0x0020
#define HF_FLAG_CD  0x0010
#define HF_FLAGS_OPCODE(f) (((f) >> 11) & 0xf)
#define HF_FLAGS_RCODE(f)  ((f) & 0xf)

/* EDNS(0) flags (the low 16 bits of the OPT TTL). */
#define HF_EDNS_FLAG_DO 0x8000

enum hf_opcode {
	HF_OPCODE_QUERY  = 0,
	HF_OPCODE_IQUERY = 1,
	HF_OPCODE_STATUS = 2,
	HF_OPCODE_NOTIFY = 4,
	HF_OPCODE_UPDATE = 5,
};

enum hf_rcode {
	HF_RCODE_NOERROR  = 0,
	HF_RCODE_FORMERR  = 1,
	HF_RCODE_SERVFAIL = 2,
	HF_RCODE_NXDOMAIN = 3,
	HF_RCODE_NOTIMP   = 4,
	HF_RCODE_REFUSED  = 5,
	HF_RCODE_BADVERS  = 16,  /*!< extended: needs EDNS to be expressed */
};

enum hf_rrtype {
	HF_TYPE_A          = 1,
	HF_TYPE_NS         = 2,
	HF_TYPE_MD         = 3,
	HF_TYPE_MF         = 4,
	HF_TYPE_CNAME      = 5,
	HF_TYPE_SOA        = 6,
	HF_TYPE_MB         = 7,
	HF_TYPE_MG         = 8,
	HF_TYPE_MR         = 9,
	HF_TYPE_NULL       = 10,
	HF_TYPE_PTR        = 12,
	HF_TYPE_HINFO      = 13,
	HF_TYPE_MINFO      = 14,
	HF_TYPE_MX         = 15,
	HF_TYPE_TXT        = 16,
	HF_TYPE_RP         = 17,
	HF_TYPE_AFSDB      = 18,
	HF_TYPE_RT         = 21,
	HF_TYPE_SIG        = 24,
	HF_TYPE_PX         = 26,
	HF_TYPE_AAAA       = 28,
	HF_TYPE_NXT        = 30,
	HF_TYPE_SRV        = 33,
	HF_TYPE_NAPTR      = 35,
	HF_TYPE_KX         = 36,
	HF_TYPE_A6         = 38,
	HF_TYPE_DNAME      = 39,
	HF_TYPE_OPT        = 41,
	HF_TYPE_DS         = 43,
	HF_TYPE_RRSIG      = 46,
	HF_TYPE_NSEC       = 47,
	HF_TYPE_DNSKEY     = 48,
	HF_TYPE_NSEC3      = 50,
	HF_TYPE_NSEC3PARAM = 51,
	HF_TYPE_SVCB       = 64,
	HF_TYPE_HTTPS      = 65,
	HF_TYPE_IXFR       = 251,
	HF_TYPE_AXFR       = 252,
	HF_TYPE_ANY        = 255,
};

enum hf_rrclass {
	HF_CLASS_IN   = 1,
	HF_CLASS_CH   = 3,
	HF_CLASS_NONE = 254,
	HF_CLASS_ANY  = 255,
};

enum hf_section {
	HF_SECTION_ANSWER     = 0,
	HF_SECTION_AUTHORITY  = 1,
	HF_SECTION_ADDITIONAL = 2,
	HF_SECTION_COUNT      = 3,
};

enum hf_edns_option {
	HF_EDNS_OPT_COOKIE  = 10,  /*!< RFC 7873 */
	HF_EDNS_OPT_PADDING = 12,  /*!< RFC 7830 */
	HF_EDNS_OPT_EDE     = 15,  /*!< RFC 8914 */
};

/* COOKIE option lengths (RFC 7873 §4): client cookie alone, or with a server
 * cookie of 8 to 32 octets. */
#define HF_COOKIE_CLIENT_LEN     8
#define HF_COOKIE_SERVER_MIN_LEN 8
#define HF_COOKIE_SERVER_MAX_LEN 32

/* Extended DNS Error info-codes (RFC 8914 §4 and the IANA registry). */
enum hf_ede {
	HF_EDE_OTHER                  = 0,
	HF_EDE_UNSUPPORTED_DNSKEY_ALG = 1,
	HF_EDE_UNSUPPORTED_DS_DIGEST  = 2,
	HF_EDE_STALE_ANSWER           = 3,
	HF_EDE_FORGED_ANSWER          = 4,
	HF_EDE_DNSSEC_INDETERMINATE   = 5,
	HF_EDE_DNSSEC_BOGUS           = 6,
	HF_EDE_SIGNATURE_EXPIRED      = 7,
	HF_EDE_SIGNATURE_NOT_YET      = 8,
	HF_EDE_DNSKEY_MISSING         = 9,
	HF_EDE_RRSIGS_MISSING         = 10,
	HF_EDE_NO_ZONE_KEY_BIT        = 11,
	HF_EDE_NSEC_MISSING           = 12,
	HF_EDE_CACHED_ERROR           = 13,
	HF_EDE_NOT_READY              = 14,
	HF_EDE_BLOCKED                = 15,
	HF_EDE_CENSORED               = 16,
	HF_EDE_FILTERED               = 17,
	HF_EDE_PROHIBITED             = 18,
	HF_EDE_STALE_NXDOMAIN         = 19,
	HF_EDE_NOT_AUTHORITATIVE      = 20,
	HF_EDE_NOT_SUPPORTED          = 21,
	HF_EDE_NO_REACHABLE_AUTHORITY = 22,
	HF_EDE_NETWORK_ERROR          = 23,
	HF_EDE_INVALID_DATA           = 24,
	HF_EDE_TOO_EARLY              = 26,
	HF_EDE_NSEC3_ITERATIONS       = 27,
	HF_EDE_NTA                    = 33,
};
