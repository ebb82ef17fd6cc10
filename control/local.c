/*
 * Special-use domain names answered locally; see control/local.h for what
 * each name gets and why.
 */
#include <errno.h>
#include <string.h>

#include "control/local.h"
#include "include/holdfast/build.h"
#include "include/holdfast/errcode.h"
#include "include/holdfast/name.h"

/* "\x09localhost\0": the one name that gets positive answers. */
static const uint8_t hf_local_localhost[] = "\x09localhost";

void hf_local_init(struct hf_local *local, const struct hf_conf_control *conf)
{
	memset(local, 0, sizeof(*local));
	for (unsigned i = 0; i < conf->special_use_names_count && i < HF_CONF_NAMES_MAX; i++) {
		memcpy(local->names[local->n_names], conf->special_use_names[i],
		       hf_name_len(conf->special_use_names[i]));
		hf_name_lower(local->names[local->n_names]);
		local->n_names++;
	}
}

const uint8_t *hf_local_match(const struct hf_local *local, const uint8_t *qname)
{
	for (unsigned i = 0; i < local->n_names; i++)
		if (hf_name_is_subdomain(qname, local->names[i]))
			return local->names[i];
	return NULL;
}

/* Fill in the parts of out that describe the finished message. */
static int hf_local_finish(struct hf_build *b, struct hf_rendered *out, uint16_t rcode,
			   uint32_t ttl)
{
	int len = hf_build_finish(b);

	if (len < 0)
		return len;
	out->msg_len = (uint16_t)len;
	out->rcode = rcode;
	out->ttl = ttl;
	return 0;
}

/* The zone's SOA, in the authority section for negative answers (RFC 2308 §3)
 * or the answer section for an SOA question at the apex. */
static int hf_local_soa(struct hf_build *b, uint8_t section, const uint8_t *zone,
			struct hf_rendered *out)
{
	uint8_t rdata[2 * HF_NAME_MAXLEN + 20];
	size_t zlen = hf_name_len(zone);
	int rlen, ttl_off;

	memcpy(rdata, zone, zlen);
	rlen = hf_name_from_text("nobody.invalid.", rdata + zlen);
	if (rlen < 0)
		return rlen;
	/* serial 1, refresh 1h, retry 20m, expire 1w, minimum = our negative TTL */
	memcpy(rdata + zlen + (size_t)rlen,
	       "\x00\x00\x00\x01" "\x00\x00\x0e\x10" "\x00\x00\x04\xb0" "\x00\x09\x3a\x80"
	       "\x00\x00\x0e\x10", 20);
	ttl_off = hf_build_rr(b, section, zone, HF_TYPE_SOA, HF_CLASS_IN, HF_LOCAL_TTL, rdata,
			      (uint16_t)(zlen + (size_t)rlen + 20));
	if (ttl_off < 0)
		return ttl_off;
	out->ttl_off[out->n_ttl++] = (uint16_t)ttl_off;
	return 0;
}

static int hf_local_add_ede(struct hf_rendered *out, uint16_t code, const char *text)
{
	int n = hf_ede_render(out->ede + out->ede_len, sizeof(out->ede) - out->ede_len, code, text);

	if (n < 0)
		return n;
	out->ede_len = (uint16_t)(out->ede_len + n);
	return 0;
}

/* localhost. and below: loopback addresses, NODATA otherwise. */
static int hf_local_localhost_answer(struct hf_build *b, const uint8_t *qname, uint16_t qtype,
				     uint16_t qclass, const uint8_t *zone, struct hf_rendered *out)
{
	bool apex = hf_name_equal(qname, zone);
	int ttl_off;

	if (qclass == HF_CLASS_IN && qtype == HF_TYPE_A)
		ttl_off = hf_build_rr(b, HF_SECTION_ANSWER, qname, HF_TYPE_A, HF_CLASS_IN,
				      HF_LOCAL_TTL, (const uint8_t *)"\x7f\x00\x00\x01", 4);
	else if (qclass == HF_CLASS_IN && qtype == HF_TYPE_AAAA)
		ttl_off = hf_build_rr(b, HF_SECTION_ANSWER, qname, HF_TYPE_AAAA, HF_CLASS_IN,
				      HF_LOCAL_TTL,
				      (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16);
	else if (apex && qclass == HF_CLASS_IN && qtype == HF_TYPE_NS)
		ttl_off = hf_build_rr(b, HF_SECTION_ANSWER, qname, HF_TYPE_NS, HF_CLASS_IN,
				      HF_LOCAL_TTL, zone, (uint16_t)hf_name_len(zone));
	else if (apex && qclass == HF_CLASS_IN && qtype == HF_TYPE_SOA)
		return hf_local_soa(b, HF_SECTION_ANSWER, zone, out);
	else
		return hf_local_soa(b, HF_SECTION_AUTHORITY, zone, out);  /* NODATA */
	if (ttl_off < 0)
		return ttl_off;
	out->ttl_off[out->n_ttl++] = (uint16_t)ttl_off;
	return 0;
}

int hf_local_answer(const struct hf_local *local, const uint8_t *qname, uint16_t qtype,
		    uint16_t qclass, struct hf_rendered *out)
{
	const uint8_t *zone = hf_local_match(local, qname);
	uint16_t rcode = HF_RCODE_NOERROR;
	struct hf_build b;
	int rc;

	if (!zone)
		return 0;
	memset(out, 0, offsetof(struct hf_rendered, ede));
	out->ede_len = 0;
	if (hf_name_equal(zone, hf_local_localhost)) {
		hf_build_init(&b, out->msg, sizeof(out->msg), 0, HF_FLAG_QR | HF_FLAG_RA);
		rc = hf_build_question(&b, qname, qtype, qclass);
		if (rc == 0)
			rc = hf_local_localhost_answer(&b, qname, qtype, qclass, zone, out);
	} else {
		rcode = HF_RCODE_NXDOMAIN;
		hf_build_init(&b, out->msg, sizeof(out->msg), 0,
			      HF_FLAG_QR | HF_FLAG_RA | HF_RCODE_NXDOMAIN);
		rc = hf_build_question(&b, qname, qtype, qclass);
		if (rc == 0)
			rc = hf_local_soa(&b, HF_SECTION_AUTHORITY, zone, out);
		if (rc == 0)
			rc = hf_local_add_ede(out, HF_EDE_OTHER,
					      "special-use domain name, answered locally (RFC 6761)");
	}
	if (rc == 0)
		rc = hf_local_finish(&b, out, rcode, HF_LOCAL_TTL);
	return rc < 0 ? rc : 1;
}

int hf_local_render_error(const uint8_t *qname, uint16_t qtype, uint16_t qclass, uint16_t rcode,
			  int ede, const char *text, struct hf_rendered *out)
{
	struct hf_build b;
	int rc;

	memset(out, 0, offsetof(struct hf_rendered, ede));
	out->flags = HF_FILL_NOCACHE;
	rc = hf_build_init(&b, out->msg, sizeof(out->msg), 0,
			   (uint16_t)(HF_FLAG_QR | HF_FLAG_RA | (rcode & 0xf)));
	if (rc == 0)
		rc = hf_build_question(&b, qname, qtype, qclass);
	if (rc == 0 && ede >= 0)
		rc = hf_local_add_ede(out, (uint16_t)ede, text);
	if (rc == 0)
		rc = hf_local_finish(&b, out, rcode, 0);
	return rc;
}
