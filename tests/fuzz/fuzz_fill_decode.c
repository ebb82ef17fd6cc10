/*
 * libFuzzer target for the fill decoder (include/holdfast/msg.h): a fill
 * that passes hf_msg_fill_decode() must be safe to answer from, whatever its
 * bytes, since the dataplane copies and patches it without further checks.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "include/holdfast/msg.h"
#include "include/holdfast/pkt.h"
#include "include/holdfast/wire_ctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t slot[8192] __attribute__((aligned(8)));
	static uint8_t out[8192];
	struct hf_fill_view v;
	const char *why;

	if (size > sizeof(slot))
		return 0;
	memcpy(slot, data, size);  /* ring payloads are 8-byte aligned */
	if (hf_msg_fill_decode(slot, size, &v, &why) != 0)
		return 0;

	/* Everything the worker touches lies inside the payload. */
	assert((const uint8_t *)v.msg + v.hdr->msg_len <= slot + size);
	assert(v.question_end <= v.hdr->msg_len);
	memcpy(out, v.msg, v.hdr->msg_len);
	for (unsigned i = 0; i < v.hdr->n_ttl; i++) {
		assert(v.ttl_off[i] >= v.question_end && v.ttl_off[i] + 4u <= v.hdr->msg_len);
		hf_wire_put_u32(out + v.ttl_off[i], hf_wire_get_u32(out + v.ttl_off[i]) - 1);
	}
	struct hf_pkt pkt;
	assert(hf_pkt_parse(&pkt, v.msg, v.hdr->msg_len, NULL, 0) == 0);
	assert(pkt.qtype == v.qtype && pkt.qname_len == v.qname_len);
	return 0;
}
