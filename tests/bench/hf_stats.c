/*
 * hf-stats: prints the dataplane's per-worker counters from the shared-memory
 * region, read-only (hf_shm_open_ro()), so it works next to a control plane
 * (or hf-test-peer) that holds the claim. Used by the benchmark scripts.
 *
 *   hf-stats --instance NAME [--interval SECONDS] [--count N] [--workers]
 *            [--wait SECONDS]
 *   hf-stats --tsc-hz
 *
 * Each sample is one line for the sum over all workers and, with --workers,
 * one more line per worker, all of the form
 *
 *   hf-stats ns=<CLOCK_MONOTONIC ns> worker=<all|0|1|...> <name>=<value> ...
 *
 * with every counter of enum hf_shm_stat by its hf_shm_stat_name(). Workers
 * flush their counters about every millisecond, so a sample is that stale.
 * Without --interval one sample is printed; with it, --count samples (default:
 * until SIGINT/SIGTERM or the region is retired). --wait retries for that
 * long while the region does not exist yet or is being created.
 *
 * --tsc-hz measures the time-stamp counter's frequency against
 * CLOCK_MONOTONIC_RAW over 0.2 s and prints "hf-stats tsc_hz=<Hz>", to turn
 * busy_cycles (TSC cycles) into time (x86 only).
 *
 * Exit status: 0; 1 if the region cannot be opened (reason on stderr) or was
 * retired while sampling; 2 for bad arguments.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HF_HAVE_RDTSC 1
#endif

#include "include/holdfast/errcode.h"
#include "include/holdfast/shm.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: hf-stats --instance NAME [--interval SECONDS] [--count N] "
		     "[--workers] [--wait SECONDS]\n"
		     "       hf-stats --tsc-hz\n");
}

static uint64_t raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

static int print_tsc_hz(void)
{
#ifdef HF_HAVE_RDTSC
	struct timespec ts = { .tv_nsec = 200000000 };
	uint64_t t0 = raw_ns(), c0 = __rdtsc();

	nanosleep(&ts, NULL);
	uint64_t t1 = raw_ns(), c1 = __rdtsc();
	printf("hf-stats tsc_hz=%.0f\n", (double)(c1 - c0) * 1e9 / (double)(t1 - t0));
	return 0;
#else
	fprintf(stderr, "hf-stats: --tsc-hz: no TSC on this architecture\n");
	return 1;
#endif
}

static void print_line(uint64_t ns, const char *worker, const uint64_t *v)
{
	printf("hf-stats ns=%" PRIu64 " worker=%s", ns, worker);
	for (unsigned i = 0; i < HF_STAT_COUNT; i++)
		printf(" %s=%" PRIu64, hf_shm_stat_name(i), v[i]);
	putchar('\n');
}

static void sample(struct hf_shm *shm, bool per_worker)
{
	uint64_t sum[HF_STAT_COUNT] = { 0 }, one[HF_STAT_COUNT];
	unsigned n = hf_shm_n_workers(shm);
	uint64_t ns = hf_shm_now_ns();
	char name[16];

	for (unsigned w = 0; w < n; w++) {
		const struct hf_shm_stats *s = hf_shm_stats(shm, w);

		for (unsigned i = 0; i < HF_STAT_COUNT; i++) {
			one[i] = hf_shm_stat_get(s, (enum hf_shm_stat)i);
			sum[i] += one[i];
		}
		if (per_worker) {
			snprintf(name, sizeof(name), "%u", w);
			print_line(ns, name, one);
		}
	}
	print_line(ns, "all", sum);
	fflush(stdout);
}

static bool parse_seconds(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return errno == 0 && end != s && *end == '\0' && *out >= 0 && *out < 1e6;
}

static void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s,
			       .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !stop)
		;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "instance", required_argument, NULL, 'i' },
		{ "interval", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'n' },
		{ "workers", no_argument, NULL, 'w' },
		{ "wait", required_argument, NULL, 'W' },
		{ "tsc-hz", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *instance = NULL;
	double interval = 0, wait_s = 0;
	unsigned long count = 0;
	bool per_worker = false;
	struct hf_shm *shm = NULL;
	char err[256] = "";
	int c, rc;

	while ((c = getopt_long(argc, argv, "i:t:n:wW:Th", opts, NULL)) != -1) {
		switch (c) {
		case 'i': instance = optarg; break;
		case 't':
			if (!parse_seconds(optarg, &interval) || interval <= 0) {
				fprintf(stderr, "hf-stats: bad --interval '%s'\n", optarg);
				return 2;
			}
			break;
		case 'n': count = strtoul(optarg, NULL, 10); break;
		case 'w': per_worker = true; break;
		case 'W':
			if (!parse_seconds(optarg, &wait_s)) {
				fprintf(stderr, "hf-stats: bad --wait '%s'\n", optarg);
				return 2;
			}
			break;
		case 'T': return print_tsc_hz();
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!instance || optind != argc) {
		usage(stderr);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	uint64_t deadline = hf_shm_now_ns() + (uint64_t)(wait_s * 1e9);
	for (;;) {
		rc = hf_shm_open_ro(instance, &shm, err, sizeof(err));
		if (rc == 0)
			break;
		if ((rc != -ENOENT && rc != -EAGAIN && rc != HF_ESHMRETIRED) ||
		    hf_shm_now_ns() >= deadline || stop) {
			fprintf(stderr, "hf-stats: %s\n", err[0] ? err : hf_strerror(rc));
			return 1;
		}
		sleep_s(0.05);
	}

	rc = 0;
	for (unsigned long i = 0; !stop; i++) {
		if (hf_shm_check(shm) == HF_ESHMRETIRED) {
			fprintf(stderr, "hf-stats: %s was retired\n", hf_shm_region_name(shm));
			rc = 1;
			break;
		}
		sample(shm, per_worker);
		if (interval <= 0 || (count && i + 1 >= count))
			break;
		sleep_s(interval);
	}
	hf_shm_detach(shm);
	return rc;
}
