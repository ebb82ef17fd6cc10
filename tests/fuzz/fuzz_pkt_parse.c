/*
 * libFuzzer target for the message parser, the codec's main attack surface:
 * both processes parse bytes from the network with it.
 *
 * Beyond "no crash", it checks the parser's promises: every record it accepts
 * has names that unpack and print, RDATA inside the message, and a question
 * that the builder can echo back into a message that parses again.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "include/holdfast/build.h"
#include "include/holdfast/name.h"
#include "include/holdfast/pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name_at(const struct hf_pkt *pkt, size_t off)
{
	uint8_t name[HF_NAME_MAXLEN];
	char text[HF_NAME_TEXT_MAXLEN];
	size_t pos = off;

	int len = hf_name_unpack(pkt->wire, pkt->size, &pos, name);
	assert(len > 0 && len <= HF_NAME_MAXLEN);
	assert((size_t)len == hf_name_len(name));
	assert(hf_name_to_text(name, text, sizeof(text)) > 0);

	uint8_t again[HF_NAME_MAXLEN];
	assert(hf_name_from_text(text, again) == len);
	assert(hf_name_equal(name, again));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hf_rr rr[512];
	struct hf_pkt pkt;

	if (hf_pkt_parse(&pkt, data, size, rr, 512) != 0)
		return 0;

	for (unsigned i = 0; i < pkt.rr_count; i++) {
		check_name_at(&pkt, rr[i].owner_off);
		assert((size_t)rr[i].rdata_off + rr[i].rdlength <= size);
	}
	for (unsigned i = 0; i < pkt.edns.n_opts; i++)
		assert((size_t)pkt.edns.opts[i].off + pkt.edns.opts[i].len <= size);
	if (!pkt.has_question)
		return 0;
	check_name_at(&pkt, pkt.qname_off);

	/* Echo the question as a responder would, then parse the result. */
	uint8_t out[512];
	struct hf_build b;
	struct hf_pkt echo;
	uint8_t qname[HF_NAME_MAXLEN];
	size_t pos = pkt.qname_off;
	hf_name_unpack(data, size, &pos, qname);
	hf_build_init(&b, out, sizeof(out), pkt.id, pkt.flags | HF_FLAG_QR);
	assert(hf_build_question(&b, qname, pkt.qtype, pkt.qclass) == 0);
	assert(hf_build_opt_begin(&b, 1232, 0, 0, 0) == 0);
	assert(hf_build_opt_ede(&b, 0, "fuzz") == 0);
	assert(hf_build_opt_end(&b) == 0);
	int len = hf_build_finish(&b);
	assert(len > 0);
	assert(hf_pkt_parse(&echo, out, (size_t)len, NULL, 0) == 0);
	assert(echo.qtype == pkt.qtype && hf_name_equal(echo.qname, pkt.qname));
	return 0;
}
