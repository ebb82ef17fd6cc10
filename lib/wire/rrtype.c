/*
 * RR type mnemonics (include/holdfast/rrtype.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "include/holdfast/dns.h"
#include "include/holdfast/rrtype.h"

static const struct {
	const char *name;
	uint16_t type;
} hf_types[] = {
	{ "A", HF_TYPE_A }, { "NS", HF_TYPE_NS }, { "CNAME", HF_TYPE_CNAME },
	{ "SOA", HF_TYPE_SOA }, { "NULL", HF_TYPE_NULL }, { "PTR", HF_TYPE_PTR },
	{ "HINFO", HF_TYPE_HINFO }, { "MX", HF_TYPE_MX }, { "TXT", HF_TYPE_TXT },
	{ "AAAA", HF_TYPE_AAAA }, { "SRV", HF_TYPE_SRV }, { "NAPTR", HF_TYPE_NAPTR },
	{ "DNAME", HF_TYPE_DNAME }, { "DS", HF_TYPE_DS }, { "SSHFP", 44 },
	{ "RRSIG", HF_TYPE_RRSIG }, { "NSEC", HF_TYPE_NSEC }, { "DNSKEY", HF_TYPE_DNSKEY },
	{ "NSEC3", HF_TYPE_NSEC3 }, { "NSEC3PARAM", HF_TYPE_NSEC3PARAM }, { "TLSA", 52 },
	{ "CDS", 59 }, { "CDNSKEY", 60 }, { "SVCB", HF_TYPE_SVCB }, { "HTTPS", HF_TYPE_HTTPS },
	{ "ANY", HF_TYPE_ANY }, { "CAA", 257 },
};

int hf_type_from_text(const char *text)
{
	for (size_t i = 0; i < sizeof(hf_types) / sizeof(hf_types[0]); i++)
		if (strcasecmp(text, hf_types[i].name) == 0)
			return hf_types[i].type;
	if (strncasecmp(text, "TYPE", 4) == 0 && text[4] >= '0' && text[4] <= '9') {
		char *end;
		unsigned long v = strtoul(text + 4, &end, 10);

		if (*end == '\0' && v >= 1 && v <= 65535 && strlen(text + 4) <= 5)
			return (int)v;
	}
	return -EINVAL;
}

const char *hf_type_to_text(uint16_t type, char *buf, size_t size)
{
	for (size_t i = 0; i < sizeof(hf_types) / sizeof(hf_types[0]); i++)
		if (hf_types[i].type == type)
			return hf_types[i].name;
	snprintf(buf, size, "TYPE%u", type);
	return buf;
}
