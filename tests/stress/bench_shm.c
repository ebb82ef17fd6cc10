/*
 * Throughput of the shared-memory rings between two processes.
 *
 * The parent creates a region (as holdfast-dataplane does) and produces; a
 * forked child attaches (as holdfast-control does) and consumes; each is
 * pinned to its own CPU. For every ring kind and payload size the parent
 * produces for --seconds or --max-messages, whichever comes first, then a
 * stop message; the rate is messages received / (time the consumer saw the
 * stop - time the producer started), median of --repeat runs. Two APIs are
 * measured:
 *   copy       hf_ring_enqueue_burst() from a prepared buffer,
 *              hf_ring_dequeue_burst() into a buffer
 *   zero-copy  hf_ring_reserve_burst() + write payload in place + commit,
 *              hf_ring_peek_burst() + read a word of every payload cache line
 *              (as a consumer that parses the message in place) + release
 * Output: a markdown table on stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "include/holdfast/errcode.h"
#include "include/holdfast/ring.h"
#include "include/holdfast/shm.h"

#define TYPE_DATA 1
#define TYPE_STOP 2
#define BURST_MAX 32U

enum ring_kind { RING_MISS, RING_FILL, RING_OPS };

struct cell {
	enum ring_kind ring;
	uint32_t payload;        /* bytes per message */
	unsigned burst;
};

/* Shared with the consumer child. */
struct report {
	_Atomic uint64_t received;
	_Atomic uint64_t stop_ns;
	_Atomic int ready;
	_Atomic int error;
	_Atomic unsigned sink;   /* keeps the consumer's payload reads */
};

static double opt_seconds = 0.5;
static uint64_t opt_max = 50000000;
static unsigned opt_repeat = 5;
static const char *opt_only;     /* run one ring kind only */
static int cpu_producer = 0, cpu_consumer = 1;
static const char *instance;

/* What a poller does on an empty or full ring: let the other side have the
 * line for a moment instead of asking for it again at once. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static const char *ring_name(enum ring_kind k)
{
	return k == RING_MISS ? "miss" : k == RING_FILL ? "fill" : "ops";
}

static struct hf_ring *ring_of(struct hf_shm *shm, enum ring_kind k)
{
	return k == RING_MISS ? hf_shm_miss_ring(shm, 0) :
	       k == RING_FILL ? hf_shm_fill_ring(shm, 0) : hf_shm_ops_ring(shm);
}

static bool pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0;
}

static int consumer(const struct cell *c, bool zero_copy, struct report *rep)
{
	static alignas(8) unsigned char store[BURST_MAX][HF_SHM_FILL_SLOT_SIZE];
	struct hf_ring_msg *bufs[BURST_MAX];
	struct hf_shm *shm;
	struct hf_ring *r;
	char err[256];
	uint64_t seq = 0;
	unsigned sink = 0;
	int rc;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	pin(cpu_consumer);
	rc = hf_shm_attach(instance, &shm, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "bench_shm: consumer: %s\n", err);
		atomic_store(&rep->error, 1);
		return 1;
	}
	r = ring_of(shm, c->ring);
	for (unsigned i = 0; i < BURST_MAX; i++)
		bufs[i] = (struct hf_ring_msg *)(void *)store[i];
	atomic_store(&rep->ready, 1);

	for (;;) {
		const struct hf_ring_msg *in[BURST_MAX];
		unsigned n;
		bool stop = false;

		if (zero_copy) {
			n = hf_ring_peek_burst(r, in, c->burst);
		} else {
			n = hf_ring_dequeue_burst(r, bufs, c->burst);
			for (unsigned i = 0; i < n; i++)
				in[i] = bufs[i];
		}
		for (unsigned i = 0; i < n; i++) {
			uint64_t got;

			if (in[i]->type == TYPE_STOP) {
				stop = true;
				break;
			}
			memcpy(&got, in[i]->data, sizeof(got));
			if (zero_copy) {
				/* Pull every line across, as parsing in place would. */
				for (uint32_t off = 64; off < in[i]->len; off += 64)
					sink += in[i]->data[off];
			}
			if (got != seq || in[i]->len != c->payload) {
				fprintf(stderr, "bench_shm: consumer: seq %" PRIu64 " len %u, "
					"expected %" PRIu64 " len %u\n", got, in[i]->len, seq,
					c->payload);
				atomic_store(&rep->error, 1);
				return 1;
			}
			seq++;
		}
		if (n == 0)
			cpu_relax();
		if (zero_copy && n)
			hf_ring_release(r, n);
		if (stop)
			break;
	}
	atomic_store(&rep->stop_ns, hf_shm_now_ns());
	atomic_store(&rep->sink, sink);
	atomic_store(&rep->received, seq);
	hf_shm_detach(shm);
	return 0;
}

/* Returns messages per second, or a negative value on failure. */
static double run_cell(struct hf_shm *shm, const struct cell *c, bool zero_copy, struct report *rep)
{
	static alignas(8) unsigned char payload[HF_SHM_FILL_SLOT_SIZE];
	static alignas(8) unsigned char stage[BURST_MAX][HF_SHM_FILL_SLOT_SIZE];
	struct hf_ring *r = ring_of(shm, c->ring);
	uint64_t seq = 0, start = 0, deadline, check = 0;
	pid_t child;
	int status;

	memset(rep, 0, sizeof(*rep));
	memset(payload, 0x5a, sizeof(payload));
	memset(stage, 0x5a, sizeof(stage));
	fflush(NULL);
	child = fork();
	if (child < 0)
		return -1;
	if (child == 0)
		_exit(consumer(c, zero_copy, rep));
	while (!atomic_load(&rep->ready) && !atomic_load(&rep->error))
		sched_yield();
	if (atomic_load(&rep->error))
		goto out_wait;

	start = hf_shm_now_ns();
	deadline = start + (uint64_t)(opt_seconds * 1e9);
	while (seq < opt_max) {
		unsigned n, want = c->burst;

		if (want > opt_max - seq)
			want = (unsigned)(opt_max - seq);
		if (zero_copy) {
			struct hf_ring_msg *slots[BURST_MAX];

			n = hf_ring_reserve_burst(r, slots, want);
			for (unsigned i = 0; i < n; i++) {
				uint64_t s = seq + i;

				slots[i]->len = c->payload;
				slots[i]->type = TYPE_DATA;
				slots[i]->flags = 0;
				memcpy(slots[i]->data, payload, c->payload);
				memcpy(slots[i]->data, &s, sizeof(s));
			}
			hf_ring_commit(r, n);
		} else {
			struct hf_ring_iov iov[BURST_MAX];

			/* Messages are built in a local buffer (only the
			 * sequence number changes), then copied in. */
			for (unsigned i = 0; i < want; i++) {
				uint64_t s = seq + i;

				memcpy(stage[i], &s, sizeof(s));
				iov[i] = (struct hf_ring_iov){ .data = stage[i], .len = c->payload,
							       .type = TYPE_DATA };
			}
			n = hf_ring_enqueue_burst(r, iov, want);
		}
		seq += n;
		if (n == 0)
			cpu_relax();
		if (n == 0 || ++check % 64 == 0) {
			if (atomic_load(&rep->error) || hf_shm_now_ns() >= deadline)
				break;
		}
	}
	while (hf_ring_enqueue(r, TYPE_STOP, NULL, 0) != 0) {
		if (atomic_load(&rep->error))
			break;
		sched_yield();
	}
out_wait:
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    atomic_load(&rep->received) != seq)
		return -1;
	return (double)seq / ((double)(atomic_load(&rep->stop_ns) - start) / 1e9);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct rates {
	double median, min, max;   /* messages per second */
};

/* opt_repeat runs of a cell; false if any failed. */
static bool measure(struct hf_shm *shm, const struct cell *c, bool zero_copy, struct report *rep,
		    struct rates *out)
{
	double runs[15];
	unsigned n = opt_repeat;

	for (unsigned i = 0; i < n; i++) {
		runs[i] = run_cell(shm, c, zero_copy, rep);
		if (runs[i] < 0)
			return false;
	}
	qsort(runs, n, sizeof(runs[0]), cmp_double);
	out->median = runs[n / 2];
	out->min = runs[0];
	out->max = runs[n - 1];
	return true;
}

int main(int argc, char **argv)
{
	static const struct cell cells[] = {
		{ RING_MISS, 16, 32 },
		{ RING_MISS, 64, 1 },
		{ RING_MISS, 64, 32 },
		{ RING_MISS, 256, 32 },
		{ RING_MISS, HF_SHM_MISS_SLOT_SIZE - 8, 32 },
		{ RING_FILL, 64, 32 },
		{ RING_FILL, 512, 32 },
		{ RING_FILL, 1232, 32 },
		{ RING_FILL, 4096, 1 },
		{ RING_FILL, 4096, 32 },
		{ RING_FILL, HF_SHM_FILL_SLOT_SIZE - 8, 32 },
		{ RING_OPS, 256, 32 },
		{ RING_OPS, HF_SHM_OPS_SLOT_SIZE - 8, 32 },
	};
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "max-messages", required_argument, NULL, 'm' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "only", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	char name[HF_SHM_INSTANCE_MAX + 1], err[256];
	struct hf_shm *shm;
	struct report *rep;
	bool pinned;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 's')
			opt_seconds = strtod(optarg, NULL);
		else if (c == 'm')
			opt_max = strtoull(optarg, NULL, 0);
		else if (c == 'r')
			opt_repeat = (unsigned)strtoul(optarg, NULL, 0);
		else if (c == 'o')
			opt_only = optarg;
		else
			opt_repeat = 0;
	}
	if (opt_repeat == 0 || opt_repeat > 15 || opt_seconds <= 0 || opt_max == 0) {
		fprintf(stderr, "usage: %s [--seconds S] [--max-messages N] [--repeat 1..15] "
			"[--only miss|fill|ops]\n",
			argv[0]);
		return 2;
	}
	snprintf(name, sizeof(name), "bench-%d", (int)getpid());
	instance = name;
	rep = mmap(NULL, sizeof(*rep), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rep == MAP_FAILED)
		return 1;
	rc = hf_shm_create(instance, 1, &shm, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "bench_shm: %s\n", err);
		return 1;
	}
	pinned = sysconf(_SC_NPROCESSORS_ONLN) >= 2 && pin(cpu_producer);
	if (!pinned)
		cpu_producer = cpu_consumer = -1;

	printf("Producer on CPU %d, consumer (another process) on CPU %d; each run %.2f s or "
	       "%" PRIu64 " messages, median of %u runs per cell.\n\n", cpu_producer, cpu_consumer,
	       opt_seconds, opt_max, opt_repeat);
	printf("| ring | slot | payload (B) | burst | copy: M msg/s median (min-max) | copy: GB/s "
	       "| zero-copy: M msg/s median (min-max) | zero-copy: GB/s |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		const struct cell *cl = &cells[i];
		struct hf_ring *r = ring_of(shm, cl->ring);

		if (opt_only && strcmp(opt_only, ring_name(cl->ring)) != 0)
			continue;
		struct rates copy, zc;

		if (!measure(shm, cl, false, rep, &copy) || !measure(shm, cl, true, rep, &zc)) {
			fprintf(stderr, "bench_shm: %s ring, %u B: run failed\n", ring_name(cl->ring),
				cl->payload);
			rc = 1;
			break;
		}
		printf("| %s | %u x %u B | %u | %u | %.2f (%.2f-%.2f) | %.2f | %.2f (%.2f-%.2f) | %.2f |\n",
		       ring_name(cl->ring), r->slot_count, r->slot_size, cl->payload, cl->burst,
		       copy.median / 1e6, copy.min / 1e6, copy.max / 1e6,
		       copy.median * cl->payload / 1e9,
		       zc.median / 1e6, zc.min / 1e6, zc.max / 1e6, zc.median * cl->payload / 1e9);
	}
	hf_shm_destroy(shm);
	return rc;
}
