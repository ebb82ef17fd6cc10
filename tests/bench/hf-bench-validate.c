/*
 * hf-bench-validate: signature verifications per second through the batch
 * verifier (control/dnssec/verifier.h), per DNSSEC algorithm. Used by
 * scripts/bench-validate, which pins it to one CPU and compares with
 * `openssl speed`.
 *
 *   hf-bench-validate [--messages N] [--seconds S] [--threads T] [ALG...]
 *
 * For each algorithm (default 8 10 13 14 15 16): generate a key, build its
 * DNSKEY RDATA, sign N distinct messages of 100 octets (the size of a small
 * RRset's signed data), then
 *  - miss pass: submit all N in one loop turn to a new verifier (empty
 *    caches, T pool threads, default 1) and run the loop until every
 *    callback has run; after each such pass, a direct pass:
 *    hf_sig_verify_ctx() with one hf_sig_ctx, as a pool thread has, on the
 *    same messages in a plain loop (the crypto layer alone); repeat
 *    with a new verifier until the miss passes took S seconds;
 *  - hit pass: submit the same N again to the last verifier, whose cache now
 *    holds them all (hf_verifier_check() returns 1); repeat for S/4 seconds.
 * Each callback must report 0 (valid), or the program exits 1.
 *
 * One line per algorithm:
 *
 *   hf-bench-validate alg=<n> name=<mnemonic> messages=<N> verify_cpu=<per s>
 *       verify_wall=<per s> pool_cpu=<per s> loop_us=<us> direct_cpu=<per s>
 *       hit_cpu=<per s> hit_wall=<per s>
 *
 * *_cpu divides by the process's CPU time (user + system, every thread: the
 * loop's hashing, queueing and callbacks as well as the pool's arithmetic),
 * as `openssl speed` divides by its user time; *_wall by CLOCK_MONOTONIC.
 * verify_cpu is the honest "per core" figure: every CPU second the verifier
 * costs, on whichever thread, counts. The split is given for reading it:
 * loop_us is the loop thread's CPU time per verification (submission, check
 * hash, copy, queueing, callbacks; CLOCK_THREAD_CPUTIME_ID of this thread),
 * pool_cpu verifications per CPU second of the other threads (the pool, and
 * the context switches it causes) alone, which flatters the verifier.
 *
 * Exit status: 0; 1 on a failure (reason on stderr); 2 for bad arguments.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <uv.h>

#include "include/holdfast/errcode.h"
#include "control/dnssec/crypto.h"
#include "control/dnssec/verifier.h"

#define MSG_LEN 100             /*!< octets of signed data per message */
#define SIG_MAX 512             /*!< up to RSA 4096 */

struct bench_key {
	uint8_t alg;
	EVP_PKEY *priv;
	uint8_t rdata[4 + 600];
	struct hf_dnskey dnskey;
};

struct bench_msg {
	uint8_t data[MSG_LEN];
	uint8_t sig[SIG_MAX];
	size_t sig_len;
};

static unsigned pending, bad;

static void done_cb(void *ctx, int status)
{
	(void)ctx;
	pending--;
	if (status != 0)
		bad++;
}

static double now_wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double now_thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "hf-bench-validate: %s\n", what);
	exit(1);
}

static size_t put_bn(EVP_PKEY *k, const char *param, uint8_t *out, size_t cap)
{
	BIGNUM *bn = NULL;
	if (EVP_PKEY_get_bn_param(k, param, &bn) != 1)
		die("EVP_PKEY_get_bn_param");
	int n = BN_num_bytes(bn);
	if (n <= 0 || (size_t)n > cap)
		die("RSA parameter too large");
	BN_bn2bin(bn, out);
	BN_free(bn);
	return (size_t)n;
}

static void key_make(struct bench_key *k, uint8_t alg)
{
	uint8_t *p = k->rdata + 4;
	size_t n = 0;

	memset(k, 0, sizeof(*k));
	k->alg = alg;
	switch (alg) {
	case HF_ALG_RSASHA256:
	case HF_ALG_RSASHA512: {
		k->priv = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		if (k->priv == NULL)
			die("RSA keygen");
		/* RFC 3110: exponent length (one octet), exponent, modulus. */
		uint8_t e[8];
		size_t elen = put_bn(k->priv, OSSL_PKEY_PARAM_RSA_E, e, sizeof(e));
		p[0] = (uint8_t)elen;
		memcpy(p + 1, e, elen);
		n = 1 + elen + put_bn(k->priv, OSSL_PKEY_PARAM_RSA_N, p + 1 + elen, 512);
		break;
	}
	case HF_ALG_ECDSAP256SHA256:
	case HF_ALG_ECDSAP384SHA384: {
		uint8_t pub[1 + 96];
		k->priv = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
					    alg == HF_ALG_ECDSAP256SHA256 ? "P-256" : "P-384");
		if (k->priv == NULL ||
		    EVP_PKEY_get_octet_string_param(k->priv, OSSL_PKEY_PARAM_PUB_KEY, pub,
						    sizeof(pub), &n) != 1)
			die("EC keygen");
		/* RFC 6605: x | y without the 04 prefix. */
		memcpy(p, pub + 1, n - 1);
		n -= 1;
		break;
	}
	case HF_ALG_ED25519:
	case HF_ALG_ED448:
		k->priv = EVP_PKEY_Q_keygen(NULL, NULL, alg == HF_ALG_ED25519 ? "ED25519" : "ED448");
		n = 600;
		if (k->priv == NULL || EVP_PKEY_get_raw_public_key(k->priv, p, &n) != 1)
			die("EdDSA keygen");
		break;
	default:
		die("unsupported algorithm");
	}
	k->rdata[0] = 1;    /* flags 257: zone key, SEP */
	k->rdata[1] = 1;
	k->rdata[2] = 3;
	k->rdata[3] = alg;
	if (hf_dnskey_parse(k->rdata, (uint16_t)(4 + n), &k->dnskey) != 0)
		die("hf_dnskey_parse");
}

static void msg_sign(const struct bench_key *k, struct bench_msg *m, unsigned seed,
		     EVP_MD_CTX *md)
{
	const EVP_MD *dig = NULL;
	uint8_t der[160];
	size_t len;
	unsigned x = seed * 2654435761u + 1;

	for (size_t i = 0; i < MSG_LEN; i++) {
		x = x * 1103515245u + 12345u;
		m->data[i] = (uint8_t)(x >> 16);
	}
	switch (k->alg) {
	case HF_ALG_RSASHA256: dig = EVP_sha256(); break;
	case HF_ALG_RSASHA512: dig = EVP_sha512(); break;
	case HF_ALG_ECDSAP256SHA256: dig = EVP_sha256(); break;
	case HF_ALG_ECDSAP384SHA384: dig = EVP_sha384(); break;
	default: break;
	}
	if (EVP_DigestSignInit(md, NULL, dig, NULL, k->priv) != 1)
		die("EVP_DigestSignInit");
	bool ec = k->alg == HF_ALG_ECDSAP256SHA256 || k->alg == HF_ALG_ECDSAP384SHA384;
	len = ec ? sizeof(der) : sizeof(m->sig);
	if (EVP_DigestSign(md, ec ? der : m->sig, &len, m->data, MSG_LEN) != 1)
		die("EVP_DigestSign");
	m->sig_len = len;
	if (ec) {
		/* DER to r | s (RFC 6605). */
		int half = k->alg == HF_ALG_ECDSAP256SHA256 ? 32 : 48;
		const uint8_t *p = der;
		const BIGNUM *r, *s;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
		if (es == NULL)
			die("d2i_ECDSA_SIG");
		ECDSA_SIG_get0(es, &r, &s);
		BN_bn2binpad(r, m->sig, half);
		BN_bn2binpad(s, m->sig + half, half);
		m->sig_len = (size_t)(2 * half);
		ECDSA_SIG_free(es);
	}
}

static struct hf_verifier *verifier_new(uv_loop_t *loop, unsigned threads, size_t cache)
{
	struct hf_verifier_config cfg = { .threads = threads, .sig_cache = cache };
	char err[128];
	struct hf_verifier *v = hf_verifier_create(loop, &cfg, err, sizeof(err));
	if (v == NULL) {
		fprintf(stderr, "hf-bench-validate: %s\n", err);
		exit(1);
	}
	return v;
}

static void verifier_free(uv_loop_t *loop, struct hf_verifier *v)
{
	hf_verifier_destroy(v);
	uv_run(loop, UV_RUN_DEFAULT);
}

/*! \return checks answered by a callback (0) or at once (1); exits on failure. */
static unsigned submit_all(struct hf_verifier *v, const struct bench_key *k,
			   const struct bench_msg *m, unsigned n, int expect)
{
	uint64_t until = (uint64_t)time(NULL) + 86400;
	for (unsigned i = 0; i < n; i++) {
		struct hf_verify_req r = {
			.key = &k->dnskey, .data = m[i].data, .len = MSG_LEN,
			.sig = m[i].sig, .sig_len = m[i].sig_len, .valid_until = until,
		};
		int status = 0;
		int rc = hf_verifier_check(v, &r, &status, done_cb, NULL);
		if (rc != expect || status != 0) {
			fprintf(stderr, "hf-bench-validate: alg %u: check %u: rc %d status %s\n",
				k->alg, i, rc, hf_strerror(status));
			exit(1);
		}
		if (rc == 0)
			pending++;
	}
	return n;
}

static void run_alg(uv_loop_t *loop, uint8_t alg, unsigned n, double seconds, unsigned threads)
{
	struct bench_key k;
	struct bench_msg *m = calloc(n, sizeof(*m));
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	char name[32];
	struct hf_verifier *v = NULL;

	if (m == NULL || md == NULL)
		die("out of memory");
	key_make(&k, alg);
	for (unsigned i = 0; i < n; i++)
		msg_sign(&k, &m[i], i, md);

	/* Miss passes, each on a new verifier (empty caches; set up and torn
	 * down outside the timed part), each followed by the same checks
	 * without the verifier (hf_sig_verify_ctx() in a plain loop on this
	 * thread, with a hf_sig_ctx of its own as each pool thread has):
	 * interleaved, so that both see the same neighbours, and what the
	 * verifier adds is the difference. */
	EVP_PKEY *pkey = NULL;
	struct hf_sig_ctx *sc = hf_sig_ctx_new();
	if (sc == NULL)
		die("out of memory");
	if (hf_dnskey_pkey(&k.dnskey, &pkey) != 0)
		die("hf_dnskey_pkey");
	double cpu = 0, wall = 0, dcpu = 0, lcpu = 0;
	uint64_t verified = 0, direct = 0;
	do {
		if (v != NULL)
			verifier_free(loop, v);
		v = verifier_new(loop, threads, (size_t)n * 2);
		double w0 = now_wall(), c0 = now_cpu(), l0 = now_thread_cpu();
		submit_all(v, &k, m, n, 0);
		uv_run(loop, UV_RUN_DEFAULT);
		lcpu += now_thread_cpu() - l0;
		cpu += now_cpu() - c0;
		wall += now_wall() - w0;
		verified += n;
		if (pending != 0 || bad != 0) {
			fprintf(stderr, "hf-bench-validate: alg %u: %u pending, %u invalid\n", alg,
				pending, bad);
			exit(1);
		}
		c0 = now_cpu();
		for (unsigned i = 0; i < n; i++)
			if (hf_sig_verify_ctx(sc, pkey, alg, m[i].data, MSG_LEN, m[i].sig,
					      m[i].sig_len) != 0)
				die("hf_sig_verify_ctx failed on a valid signature");
		dcpu += now_cpu() - c0;
		direct += n;
	} while (wall < seconds);
	hf_sig_ctx_free(sc);
	EVP_PKEY_free(pkey);
	struct hf_verifier_stats st;
	hf_verifier_stats(v, &st);
	if (st.verified != n || st.cache_hits != 0 || st.coalesced != 0)
		die("the miss pass did not verify every message once");

	/* Hit passes on the last verifier: its cache holds all n. */
	double hcpu = 0, hwall = 0;
	uint64_t hits = 0;
	do {
		double w0 = now_wall(), c0 = now_cpu();
		submit_all(v, &k, m, n, 1);
		hcpu += now_cpu() - c0;
		hwall += now_wall() - w0;
		hits += n;
	} while (hwall < seconds / 4);
	verifier_free(loop, v);

	printf("hf-bench-validate alg=%u name=%s messages=%u verify_cpu=%.0f verify_wall=%.0f "
	       "pool_cpu=%.0f loop_us=%.2f direct_cpu=%.0f hit_cpu=%.0f hit_wall=%.0f\n",
	       alg, hf_alg_name(alg, name, sizeof(name)), n,
	       cpu > 0 ? (double)verified / cpu : 0, (double)verified / wall,
	       cpu - lcpu > 0 ? (double)verified / (cpu - lcpu) : 0, lcpu * 1e6 / (double)verified,
	       dcpu > 0 ? (double)direct / dcpu : 0,
	       hcpu > 0 ? (double)hits / hcpu : 0, (double)hits / hwall);
	fflush(stdout);
	EVP_PKEY_free(k.priv);
	EVP_MD_CTX_free(md);
	free(m);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: hf-bench-validate [--messages N] [--seconds S] [--threads T] [ALG...]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "messages", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const uint8_t default_algs[] = { 8, 10, 13, 14, 15, 16 };
	unsigned n = 1000, threads = 1;
	double seconds = 2;
	int c;

	while ((c = getopt_long(argc, argv, "n:s:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': n = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': seconds = strtod(optarg, NULL); break;
		case 't': threads = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (n == 0 || seconds <= 0 || threads == 0) {
		usage(stderr);
		return 2;
	}

	uv_loop_t loop;
	if (uv_loop_init(&loop) != 0)
		die("uv_loop_init");
	if (optind == argc) {
		for (size_t i = 0; i < sizeof(default_algs); i++)
			run_alg(&loop, default_algs[i], n, seconds, threads);
	}
	for (int i = optind; i < argc; i++) {
		unsigned long alg = strtoul(argv[i], NULL, 10);
		if (!hf_alg_supported((uint8_t)alg) || alg > 255) {
			fprintf(stderr, "hf-bench-validate: algorithm %s not supported\n", argv[i]);
			return 2;
		}
		run_alg(&loop, (uint8_t)alg, n, seconds, threads);
	}
	uv_loop_close(&loop);
	return 0;
}
