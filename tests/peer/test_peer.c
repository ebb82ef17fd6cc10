/*
 * hf-test-peer: a stand-in for holdfast-control in dataplane tests.
 *
 * It attaches to a dataplane's shared-memory region like the control plane,
 * beats the heartbeat, and answers every miss with a fill made up from the
 * question's first label, so tests can ask for each kind of answer:
 *
 *   nx.*      NXDOMAIN with an SOA in the authority section
 *   nodata.*  NOERROR, no answer, SOA
 *   sf.*      SERVFAIL with EDE 22 and a text, not cached
 *   drop.*    never answered (the dataplane's resolution timeout fires)
 *   big.*     40 TXT records of 100 octets (more than 1232: truncated)
 *   secure.*  like the default, flagged validated (AD)
 *   ttl5.*    like the default with TTL 5
 *   anything else: A 192.0.2.1 / AAAA 2001:db8::1 (NODATA for other types), TTL --ttl
 *
 *   hf-test-peer --instance NAME [--ttl SECONDS] [--seconds LIMIT]
 *                [--overrides N [--override-hit NAME]]
 *
 * --overrides N: right after attaching, publish a synthetic override rule set
 * of N patterns (control/override/compile.h) and wait until the dataplane has
 * applied it (every worker uses it), then print
 *   "hf-test-peer: overrides: N rules applied (generation G) in T ms"
 * The set is a realistic mix that matches none of the benchmark's query names
 * (www<i>.<zone>., scripts/lib/gen-dns-pcap.py): 90 % subtree rules under
 * many parents in com./net./org./example./test., 9 % exact names, and up to
 * 10 regular expressions (N < 100: 1); every rule is nxdomain with EDE 15.
 * --override-hit NAME makes the first subtree rule NAME (e.g.
 * "blocked.example.test."), so queries under it hit that rule.
 *
 * It exits on SIGTERM/SIGINT, or after --seconds, printing what it did.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control/override/compile.h"
#include "include/holdfast/build.h"
#include "include/holdfast/errcode.h"
#include "include/holdfast/msg.h"
#include "include/holdfast/name.h"
#include "include/holdfast/ring.h"
#include "include/holdfast/shm.h"

static _Atomic bool stop;
static uint32_t default_ttl = 300;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop, true);
}

static bool first_label_is(const struct hf_msg_miss *m, const char *label)
{
	size_t n = strlen(label);
	return m->qname[0] == n && memcmp(m->qname + 1, label, n) == 0;
}

/* Renders the answer for a miss; returns the fill's length or 0 for "no answer". */
static int make_fill(const struct hf_msg_miss *m, uint8_t *out, size_t cap)
{
	uint8_t msg[4096], ede[128];
	uint16_t ttl_off[64];
	struct hf_build b;
	struct hf_msg_fill hdr = { .req_id = m->req_id, .variant = m->variant };
	const uint8_t *zone = m->qname + 1 + m->qname[0];  /* the parent of the name */
	uint32_t ttl = first_label_is(m, "ttl5") ? 5 : default_ttl;
	unsigned rcode = HF_RCODE_NOERROR;
	unsigned n_ttl = 0;
	int ede_len = 0, r;

	if (first_label_is(m, "drop"))
		return 0;
	if (first_label_is(m, "nx"))
		rcode = HF_RCODE_NXDOMAIN;
	if (first_label_is(m, "sf")) {
		rcode = HF_RCODE_SERVFAIL;
		hdr.flags |= HF_FILL_NOCACHE;
		ede_len = hf_ede_render(ede, sizeof(ede), HF_EDE_NO_REACHABLE_AUTHORITY,
					"test peer: no server answered");
	}
	if (first_label_is(m, "secure"))
		hdr.flags |= HF_FILL_AD;

	hf_build_init(&b, msg, sizeof(msg), 0, (uint16_t)(HF_FLAG_QR | HF_FLAG_RA | rcode));
	hf_build_question(&b, m->qname, m->qtype, m->qclass);
	bool answered = false;
	if (rcode == HF_RCODE_NOERROR && !first_label_is(m, "nodata")) {
		if (first_label_is(m, "big") && m->qtype == HF_TYPE_TXT) {
			uint8_t txt[101];
			memset(txt, 'x', sizeof(txt));
			txt[0] = 100;
			for (int i = 0; i < 40 && n_ttl < 64; i++) {
				txt[1] = (uint8_t)('a' + i % 26);
				r = hf_build_rr(&b, 0, m->qname, HF_TYPE_TXT, HF_CLASS_IN, ttl, txt, sizeof(txt));
				if (r > 0)
					ttl_off[n_ttl++] = (uint16_t)r;
			}
			answered = true;
		} else if (m->qtype == HF_TYPE_A) {
			r = hf_build_rr(&b, 0, m->qname, HF_TYPE_A, HF_CLASS_IN, ttl,
					(const uint8_t *)"\xc0\x00\x02\x01", 4);
			ttl_off[n_ttl++] = (uint16_t)r;
			answered = true;
		} else if (m->qtype == HF_TYPE_AAAA) {
			r = hf_build_rr(&b, 0, m->qname, HF_TYPE_AAAA, HF_CLASS_IN, ttl,
					(const uint8_t *)"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\1", 16);
			ttl_off[n_ttl++] = (uint16_t)r;
			answered = true;
		}
	}
	if (!answered && rcode != HF_RCODE_SERVFAIL && zone[0] != 0) {
		/* Negative answer: the parent's SOA, TTL as the negative TTL (RFC 2308). */
		uint8_t soa[2 * HF_NAME_MAXLEN + 20];
		int l1 = hf_name_from_text("ns.test", soa);
		int l2 = hf_name_from_text("hostmaster.test", soa + l1);
		memcpy(soa + l1 + l2, "\0\0\0\1\0\0\x0e\x10\0\0\x03\x84\0\x09\x3a\x80\0\0\0\x3c", 20);
		r = hf_build_rr(&b, HF_SECTION_AUTHORITY, zone, HF_TYPE_SOA, HF_CLASS_IN, ttl, soa,
				(uint16_t)(l1 + l2 + 20));
		ttl_off[n_ttl++] = (uint16_t)r;
	}
	int len = hf_build_finish(&b);
	hdr.ttl = rcode == HF_RCODE_SERVFAIL ? 0 : ttl;
	hdr.rcode = (uint16_t)rcode;
	hdr.msg_len = (uint16_t)len;
	hdr.ede_len = (uint16_t)ede_len;
	hdr.n_ttl = (uint8_t)n_ttl;
	return hf_msg_fill_encode(out, cap, &hdr, ttl_off, ede, msg);
}

static uint64_t now_ns(void)
{
	return hf_shm_now_ns();
}

/* Regular expressions of a blocklist; none matches www<i>.example.test. */
static const char *const bench_regex[] = {
	"^ads?[0-9]*\\.",
	"(^|\\.)doubleclick\\.net\\.$",
	"^[a-z0-9]{32}\\.",
	"tracking[0-9]+\\.",
	"(^|\\.)xn--[a-z0-9-]+\\.bad\\.$",
	"^(.*\\.)?telemetry\\.",
	"(^|\\.)metrics\\.[a-z]+\\.com\\.$",
	"^[0-9]+-[0-9]+-[0-9]+-[0-9]+\\.",
	"(^|\\.)malware[a-z]*\\.",
	"\\.onion\\.example\\.$",
};

/* Compiles the synthetic set of n rules (see the top of the file). */
static struct hf_ovr_image *bench_rules(unsigned n, const char *hit)
{
	static const char *const tld[] = { "com", "net", "org", "example", "test" };
	unsigned n_regex = n == 0 ? 0 : n < 100 ? 1 : 10;
	unsigned n_exact = n * 9 / 100;
	if (n_exact == 0 && n >= 2)
		n_exact = 1;
	struct hf_ovr_rule_in *r = calloc(n ? n : 1, sizeof(*r));
	char *names = calloc(n ? n : 1, 96);
	if (!r || !names)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		char *t = names + (size_t)i * 96;
		r[i].id = i + 1;
		r[i].action = HF_OVR_NXDOMAIN;
		r[i].ede = HF_OVR_EDE_BLOCKED;
		r[i].reason = "bench blocklist";
		if (i < n_regex) {
			r[i].kind = HF_OVR_REGEX;
			r[i].pattern = bench_regex[i];
			continue;
		}
		if (i < n_regex + n_exact) {
			r[i].kind = HF_OVR_EXACT;
			snprintf(t, 96, "host%u.site%u.%s.", i, i % 4099, tld[i % 5]);
		} else if (i == n_regex + n_exact && hit) {
			r[i].kind = HF_OVR_SUBTREE;
			snprintf(t, 96, "%s", hit);
		} else {
			/* Subtrees under many parents: ~1/8 second-level names, the
			 * rest one or two labels below one of 8191 parents. */
			r[i].kind = HF_OVR_SUBTREE;
			if (i % 8 == 0)
				snprintf(t, 96, "blocked%u.%s.", i, tld[i % 5]);
			else if (i % 2)
				snprintf(t, 96, "ad%u.cdn%u.%s.", i, i % 8191, tld[i % 5]);
			else
				snprintf(t, 96, "x%u.trk.net%u.%s.", i, i % 8191, tld[(i / 2) % 5]);
		}
		r[i].pattern = t;
	}
	struct hf_ovr_image *img = NULL;
	char err[512];
	if (hf_ovr_compile(r, n, &img, err, sizeof(err)) < 0) {
		fprintf(stderr, "hf-test-peer: compiling %u rules: %s\n", n, err);
		img = NULL;
	}
	free(r);
	free(names);
	return img;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "instance", required_argument, NULL, 'i' },
		{ "ttl", required_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 's' },
		{ "overrides", required_argument, NULL, 'o' },
		{ "override-hit", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	const char *instance = NULL;
	unsigned seconds = 600;
	long overrides = -1;
	const char *hit = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "i:t:s:", opts, NULL)) != -1) {
		switch (c) {
		case 'i': instance = optarg; break;
		case 't': default_ttl = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 's': seconds = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'o': overrides = strtol(optarg, NULL, 10); break;
		case 'H': hit = optarg; break;
		default:
			fprintf(stderr, "usage: hf-test-peer --instance NAME [--ttl S] [--seconds S]"
				" [--overrides N [--override-hit NAME]]\n");
			return 2;
		}
	}
	if (!instance) {
		fprintf(stderr, "hf-test-peer: --instance is required\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	struct hf_ovr_image *img = NULL;
	uint64_t t_compile = now_ns();
	if (overrides >= 0) {
		if (overrides > (long)HF_OVR_MAX_RULES) {
			fprintf(stderr, "hf-test-peer: --overrides: at most %u\n", HF_OVR_MAX_RULES);
			return 2;
		}
		img = bench_rules((unsigned)overrides, hit);
		if (!img)
			return 1;
		fprintf(stderr, "hf-test-peer: overrides: %ld rules compiled in %.0f ms (%zu bytes, database %zu)\n",
			overrides, (double)(now_ns() - t_compile) / 1e6, img->len, img->db_len);
	}

	struct hf_shm *shm = NULL;
	char err[256];
	uint64_t deadline = now_ns() + (uint64_t)seconds * 1000000000;
	int ret;
	while ((ret = hf_shm_attach(instance, &shm, err, sizeof(err))) < 0) {
		if (now_ns() > deadline || atomic_load(&stop) ||
		    (ret != -ENOENT && ret != -EAGAIN && ret != HF_ESHMRETIRED)) {
			fprintf(stderr, "hf-test-peer: %s\n", err);
			return 1;
		}
		usleep(10000);
	}
	fprintf(stderr, "hf-test-peer: attached to %s\n", hf_shm_region_name(shm));

	unsigned n_workers = hf_shm_header(shm)->n_workers;
	uint64_t misses = 0, fills = 0, next_beat = 0;
	static uint8_t fill[HF_SHM_FILL_SLOT_SIZE];
	uint64_t ovr_gen = 0, t_publish = 0;
	while (!atomic_load(&stop) && now_ns() < deadline) {
		uint64_t t = now_ns();
		if (t >= next_beat) {
			if (hf_shm_heartbeat(shm, t) != 0 || hf_shm_check(shm) != 0)
				break;
			next_beat = t + HF_SHM_HEARTBEAT_NS;
		}
		if (img && ovr_gen == 0) {
			int rc = hf_ovr_publish(shm, img, &ovr_gen);
			if (rc == 0) {
				t_publish = t;
			} else if (rc != -EAGAIN) {
				fprintf(stderr, "hf-test-peer: publishing overrides: %s\n", strerror(-rc));
				break;
			}
		} else if (img) {
			struct hf_ovr_status st;
			hf_ovr_status_get(shm, &st);
			if (st.error_generation == ovr_gen && st.error) {
				fprintf(stderr, "hf-test-peer: the dataplane refused the overrides: %s\n",
					strerror((int)-st.error));
				break;
			}
			if (st.applied >= ovr_gen) {
				fprintf(stderr, "hf-test-peer: overrides: %ld rules applied (generation %llu) in %.1f ms\n",
					overrides, (unsigned long long)ovr_gen, (double)(t - t_publish) / 1e6);
				hf_ovr_image_free(img);
				img = NULL;
			}
		}
		unsigned busy = 0;
		for (unsigned w = 0; w < n_workers; w++) {
			struct hf_ring *miss = hf_shm_miss_ring(shm, w);
			struct hf_ring *out = hf_shm_fill_ring(shm, w);
			const struct hf_ring_msg *msgs[32];
			unsigned n = hf_ring_peek_burst(miss, msgs, 32);
			for (unsigned i = 0; i < n; i++) {
				const struct hf_msg_miss *m = (const void *)msgs[i]->data;
				misses++;
				int len = make_fill(m, fill, sizeof(fill));
				if (len > 0 && hf_ring_enqueue(out, HF_MSG_FILL, fill, (uint32_t)len) == 0)
					fills++;
			}
			if (n)
				hf_ring_release(miss, n);
			busy += n;
		}
		if (!busy)
			usleep(200);
	}
	fprintf(stderr, "hf-test-peer: %llu misses, %llu fills\n", (unsigned long long)misses,
		(unsigned long long)fills);
	hf_shm_detach(shm);
	return 0;
}
