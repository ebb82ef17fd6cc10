#include <string.h>

#include "include/holdfast/errcode.h"

static const char *const hf_error_text[] = {
	[HF_ETRUNC - HF_ETRUNC]         = "message truncated",
	[HF_EPTRRANGE - HF_ETRUNC]      = "compression pointer outside the message",
	[HF_EPTRLOOP - HF_ETRUNC]       = "compression pointer loop (pointer does not point backwards)",
	[HF_ELABELTYPE - HF_ETRUNC]     = "reserved label type",
	[HF_ELABELLEN - HF_ETRUNC]      = "label longer than 63 octets",
	[HF_ENAMELEN - HF_ETRUNC]       = "name longer than 255 octets",
	[HF_EQDCOUNT - HF_ETRUNC]       = "more than one question",
	[HF_ERDLEN - HF_ETRUNC]         = "RDATA runs past the end of the message",
	[HF_ERDATA - HF_ETRUNC]         = "RDATA malformed for its type",
	[HF_ETRAILING - HF_ETRUNC]      = "trailing data after the last section",
	[HF_ETOOMANYRR - HF_ETRUNC]     = "too many resource records",
	[HF_EMULTIOPT - HF_ETRUNC]      = "more than one OPT record",
	[HF_EOPTSECTION - HF_ETRUNC]    = "OPT record outside the additional section",
	[HF_EOPTOWNER - HF_ETRUNC]      = "OPT record owner is not the root",
	[HF_EOPTLEN - HF_ETRUNC]        = "EDNS option overruns the OPT RDATA",
	[HF_ETOOMANYOPT - HF_ETRUNC]    = "too many EDNS options",
	[HF_ECOOKIE - HF_ETRUNC]        = "EDNS COOKIE option of invalid length",
	[HF_EEDELEN - HF_ETRUNC]        = "EDNS EDE option shorter than its info-code",
	[HF_EBADESC - HF_ETRUNC]        = "bad escape sequence in name",
	[HF_EEMPTYLABEL - HF_ETRUNC]    = "empty label in name",
	[HF_ESPACE - HF_ETRUNC]         = "not enough space in output buffer",
	[HF_ESHMMAGIC - HF_ETRUNC]      = "shared memory region has a foreign magic number",
	[HF_ESHMABI - HF_ETRUNC]        = "shared memory region has another ABI version",
	[HF_ESHMLAYOUT - HF_ETRUNC]     = "shared memory region layout differs from this build",
	[HF_ESHMSIZE - HF_ETRUNC]       = "shared memory region is smaller than its header says",
	[HF_ESHMBUSY - HF_ETRUNC]       = "shared memory ring already has a live consumer",
	[HF_ESHMRETIRED - HF_ETRUNC]    = "shared memory region was retired (dataplane restarted or stopped); attach again",
	[HF_ESHMTAKEN - HF_ETRUNC]      = "shared memory region was taken over by another control plane",
	[HF_ESHMRING - HF_ETRUNC]       = "shared memory ring indices are inconsistent (more messages than slots)",
	[HF_EBADSIG - HF_ETRUNC]        = "signature does not verify",
	[HF_EALGORITHM - HF_ETRUNC]     = "DNSSEC algorithm or digest type not supported",
	[HF_EKEY - HF_ETRUNC]           = "DNSKEY public key malformed for its algorithm",
	[HF_ECRYPTO - HF_ETRUNC]        = "crypto library failure",
};

_Static_assert(sizeof(hf_error_text) / sizeof(hf_error_text[0]) == HF_ERROR_LAST - HF_ETRUNC,
	       "every HF_E* code needs a text");

const char *hf_strerror(int code)
{
	if (code == 0)
		return "success";
	if (code >= HF_ETRUNC && code < HF_ERROR_LAST)
		return hf_error_text[code - HF_ETRUNC];
	if (code >= HF_ETRUNC && code <= HF_ERROR_RESERVED_END)
		return "unknown error";
	if (code < 0 && code > -4096)
		return strerror(-code);
	return "unknown error";
}
