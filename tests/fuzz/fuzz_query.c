/*
 * libFuzzer target for the dataplane's query reader and responders
 * (dataplane/query.h): whatever a client sends, the verdict's response must
 * be a DNS message that parses, and answering a well-formed query from a
 * pre-rendered answer, or with an error, must too.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dataplane/query.h"
#include "include/holdfast/build.h"
#include "include/holdfast/pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ROOM 4096

/* A rendered answer for the fuzzed question, built like the control plane would. */
static int render(const struct hf_query *q, uint8_t *msg, uint16_t *ttl_off, struct hf_answer *a)
{
	struct hf_build b;
	uint8_t ede[64];
	static uint8_t ede_keep[64];

	hf_build_init(&b, msg, 1024, 0, HF_FLAG_QR);
	if (hf_build_question(&b, q->qname, q->qtype, q->qclass) != 0)
		return -1;
	int off = hf_build_rr(&b, 0, q->qname, HF_TYPE_A, HF_CLASS_IN, 300,
			      (const uint8_t *)"\xc0\x00\x02\x01", 4);
	if (off < 0)
		return -1;
	ttl_off[0] = (uint16_t)off;
	int ede_len = hf_ede_render(ede, sizeof(ede), 3, "stale");
	memcpy(ede_keep, ede, (size_t)ede_len);
	*a = (struct hf_answer){
		.msg = msg, .msg_len = (uint16_t)hf_build_finish(&b),
		.question_end = (uint16_t)(12 + q->qname_len + 4), .ttl_off = ttl_off, .n_ttl = 1,
		.ede = ede_keep, .ede_len = (uint16_t)ede_len, .rcode = 0, .ad = true, .age = 10,
	};
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[ROOM], copy[ROOM], msg[1024];
	uint16_t ttl_off[1];
	struct hf_query q;
	struct hf_answer a;
	struct hf_pkt pkt;
	enum hf_query_reason why;
	uint16_t out;

	if (size > 1500)
		return 0;
	memcpy(buf, data, size);
	memcpy(copy, data, size);
	switch (hf_query_parse(buf, (uint16_t)size, ROOM, &q, &out, &why)) {
	case HF_QUERY_DROP:
		return 0;
	case HF_QUERY_RESPOND:
		assert(out <= ROOM);
		assert(hf_pkt_parse(&pkt, buf, out, NULL, 0) == 0);
		assert(pkt.flags & HF_FLAG_QR);
		return 0;
	case HF_QUERY_LOOKUP:
		break;
	}
	if (render(&q, msg, ttl_off, &a) == 0) {
		int n = hf_query_answer(buf, ROOM, &q, &a, NULL);
		assert(n > 0 && n <= q.udp_limit);
		assert(hf_pkt_parse(&pkt, buf, (size_t)n, NULL, 0) == 0);
		assert(pkt.id == q.id);
	}
	memcpy(buf, copy, size);
	int n = hf_query_error(buf, ROOM, &q, HF_RCODE_SERVFAIL, 0, "fuzz");
	assert(n > 0 && hf_pkt_parse(&pkt, buf, (size_t)n, NULL, 0) == 0);
	return 0;
}
