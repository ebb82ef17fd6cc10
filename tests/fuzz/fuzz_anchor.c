/*
 * libFuzzer target for the trust-anchor file reader (control/dnssec/anchor.c).
 *
 * The text parser is static, so the input goes through the public API as
 * an operator's file would: written to a memfd and loaded by its
 * /proc/self/fd path. Beyond "no crash", it checks what hf_anchors_load()
 * promises: on success every zone has DS or DNSKEY records whose RDATA
 * parses as such; on failure an error text and nothing left to free.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "include/holdfast/name.h"
#include "control/dnssec/anchor.h"
#include "control/dnssec/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_set(const struct hf_rrset *s, const uint8_t *zone, uint16_t type)
{
	assert(s->type == type && s->n_rr > 0 && s->n_rr <= HF_RRSET_MAX_RR && s->n_sig == 0);
	assert(hf_name_equal(s->owner, zone));
	for (unsigned i = 0; i < s->n_rr; i++) {
		uint16_t len;
		const uint8_t *rd = hf_rrset_rdata(s, i, &len);
		assert(rd != NULL && rd + len <= s->data + s->len);
		if (type == HF_TYPE_DNSKEY) {
			struct hf_dnskey k;
			assert(hf_dnskey_parse(rd, len, &k) == 0 && k.key_len > 0);
		} else {
			assert(len > 4);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	char path[64], err[512];
	struct hf_anchors as;

	if (fd < 0) {
		fd = memfd_create("fuzz_anchor", 0);
		assert(fd >= 0);
	}
	assert(ftruncate(fd, 0) == 0);
	for (size_t off = 0; off < size;) {
		ssize_t n = pwrite(fd, data + off, size - off, (off_t)off);
		assert(n > 0);
		off += (size_t)n;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	err[0] = '\0';
	int ret = hf_anchors_load(path, &as, err, sizeof(err));
	if (ret < 0) {
		assert(err[0] != '\0' && as.n == 0);
		hf_anchors_free(&as);
		return 0;
	}
	assert(as.n > 0 && as.n <= HF_ANCHOR_MAX);
	for (unsigned i = 0; i < as.n; i++) {
		const struct hf_anchor *a = &as.a[i];
		assert(a->ds != NULL || a->dnskey != NULL);
		if (a->ds)
			check_set(a->ds, a->zone, HF_TYPE_DS);
		if (a->dnskey)
			check_set(a->dnskey, a->zone, HF_TYPE_DNSKEY);
		/* Each zone is its own closest anchor. */
		assert(hf_anchors_find(&as, a->zone) == a);
	}
	hf_anchors_free(&as);
	assert(as.n == 0);
	return 0;
}
