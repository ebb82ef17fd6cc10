#include <string.h>

#include "include/holdfast/errcode.h"
#include "include/holdfast/name.h"
#include "include/holdfast/pkt.h"
#include "lib/wire/rdata.h"

int hf_rdata_unpack(const struct hf_pkt *pkt, const struct hf_rr *rr, uint8_t *out, size_t cap)
{
	const uint8_t *rd = pkt->wire + rr->rdata_off;
	const struct hf_rdata_layout *lay = hf_rdata_layout(rr->type);
	if (lay == NULL || lay->names == 0) {
		if (rr->rdlength > cap)
			return HF_ESPACE;
		memcpy(out, rd, rr->rdlength);
		return rr->rdlength;
	}
	/* Names may be compressed (old servers compress more types than RFC 3597
	 * allows); expand every name the layout table knows of. */
	size_t in = 0, o = 0, end = rr->rdlength;
	if (lay->before > end || lay->before > cap)
		return HF_ERDATA;
	memcpy(out, rd, lay->before);
	in = o = lay->before;
	for (unsigned n = 0; n < lay->names; n++) {
		uint8_t name[HF_NAME_MAXLEN];
		size_t pos = rr->rdata_off + in;
		int len = hf_name_unpack(pkt->wire, pkt->size, &pos, name);
		if (len < 0 || pos > (size_t)rr->rdata_off + end)
			return HF_ERDATA;
		if (o + (size_t)len > cap)
			return HF_ESPACE;
		memcpy(out + o, name, (size_t)len);
		o += (size_t)len;
		in = pos - rr->rdata_off;
	}
	size_t rest = end - in;
	if (o + rest > cap || o + rest > UINT16_MAX)
		return HF_ESPACE;
	memcpy(out + o, rd + in, rest);
	return (int)(o + rest);
}
