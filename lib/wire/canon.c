#include <stdlib.h>
#include <string.h>

#include "include/holdfast/canon.h"
#include "include/holdfast/errcode.h"
#include "include/holdfast/name.h"
#include "lib/wire/rdata.h"

int hf_rdata_to_canonical(uint16_t type, const uint8_t *rdata, uint16_t len,
			  uint8_t *out, size_t cap)
{
	const struct hf_rdata_layout *lay = hf_rdata_layout(type);

	if (cap < len)
		return HF_ESPACE;
	memcpy(out, rdata, len);
	if (lay == NULL || !(lay->flags & HF_RDATA_LOWER))
		return len;
	if (len < lay->before)
		return HF_ERDATA;

	size_t pos = lay->before;
	for (int i = 0; i < lay->names; i++) {
		int nlen = hf_name_check(out + pos, len - pos);
		if (nlen < 0)
			return HF_ERDATA;
		hf_name_lower(out + pos);
		pos += (size_t)nlen;
	}
	return len;
}

int hf_rdata_cmp_canonical(const struct hf_rdata_ref *a, const struct hf_rdata_ref *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int d = n ? memcmp(a->rdata, b->rdata, n) : 0;
	return d != 0 ? d : (int)a->len - (int)b->len;
}

static int hf_rdata_qsort_cmp(const void *a, const void *b)
{
	return hf_rdata_cmp_canonical(a, b);
}

size_t hf_rrset_canonical_order(struct hf_rdata_ref *rrs, size_t n)
{
	if (n < 2)
		return n;
	qsort(rrs, n, sizeof(*rrs), hf_rdata_qsort_cmp);
	size_t kept = 1;
	for (size_t i = 1; i < n; i++)
		if (hf_rdata_cmp_canonical(&rrs[kept - 1], &rrs[i]) != 0)
			rrs[kept++] = rrs[i];
	return kept;
}
