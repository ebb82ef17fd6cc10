/*
 * Unit tests of the shared-memory region ("include/holdfast/shm.h"): create
 * and attach in one process, each test on a region of its own name. The
 * refusals are provoked by editing the region through a separate mapping, as
 * a foreign or broken peer would.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "include/holdfast/errcode.h"
#include "include/holdfast/ring.h"
#include "include/holdfast/shm.h"

#define N_WORKERS 2U

struct fixture {
	char instance[HF_SHM_INSTANCE_MAX + 1];
	char name[HF_SHM_NAME_SIZE];
	char err[256];
	struct hf_shm *dp;         /* dataplane handle, destroyed in teardown */
};

static int setup(void **state)
{
	static unsigned counter;
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->instance, sizeof(f->instance), "test-shm-%d-%u", (int)getpid(), counter++);
	if (hf_shm_name(f->name, sizeof(f->name), f->instance) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	hf_shm_destroy(f->dp);
	shm_unlink(f->name);
	free(f);
	return 0;
}

static void create_dp(struct fixture *f)
{
	int rc = hf_shm_create(f->instance, N_WORKERS, &f->dp, f->err, sizeof(f->err));

	if (rc != 0)
		fail_msg("create: %s (%s)", hf_strerror(rc), f->err);
}

/* The region's header through a mapping of our own, writable. */
static struct hf_shm_header *map_header(const struct fixture *f)
{
	int fd = shm_open(f->name, O_RDWR, 0);
	void *p;

	assert_true(fd >= 0);
	p = mmap(NULL, HF_SHM_HEADER_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	assert_true(p != MAP_FAILED);
	return p;
}

static void unmap_header(struct hf_shm_header *h)
{
	munmap(h, HF_SHM_HEADER_SIZE);
}

static int attach(struct fixture *f, struct hf_shm **out)
{
	f->err[0] = '\0';
	return hf_shm_attach(f->instance, out, f->err, sizeof(f->err));
}

/* A pid that certainly belongs to no process: a child we have reaped. */
static uint32_t dead_pid(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	return (uint32_t)pid;
}

static void test_name(void **state)
{
	char buf[HF_SHM_NAME_SIZE];
	char longname[HF_SHM_INSTANCE_MAX + 2];

	(void)state;
	assert_int_equal(hf_shm_name(buf, sizeof(buf), "edge-1.fra_2"), 0);
	assert_string_equal(buf, "/holdfast.edge-1.fra_2");
	assert_int_equal(hf_shm_name(buf, sizeof(buf), ""), -EINVAL);
	assert_int_equal(hf_shm_name(buf, sizeof(buf), NULL), -EINVAL);
	assert_int_equal(hf_shm_name(buf, sizeof(buf), "a/b"), -EINVAL);
	assert_int_equal(hf_shm_name(buf, sizeof(buf), "a b"), -EINVAL);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(hf_shm_name(buf, sizeof(buf), longname), -EINVAL);
	longname[HF_SHM_INSTANCE_MAX] = '\0';
	assert_int_equal(hf_shm_name(buf, sizeof(buf), longname), 0);
	assert_int_equal(hf_shm_name(buf, 12, "default"), -ENAMETOOLONG);
}

static void test_region_size(void **state)
{
	(void)state;
	/* The numbers documented in shm.h. */
	assert_int_equal(hf_shm_region_size(1), 1318912 + 7352320 + 68161536);
	assert_int_equal(hf_shm_region_size(2), 1318912 + 2 * 7352320 + 68161536);
	assert_int_equal(hf_shm_region_size(0), 0);
	assert_int_equal(hf_shm_region_size(HF_SHM_MAX_WORKERS + 1), 0);
	assert_string_equal(hf_shm_stat_name(HF_STAT_CACHE_HITS), "cache_hits");
	assert_null(hf_shm_stat_name(HF_STAT_COUNT));
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	const struct hf_shm_header *h;
	struct hf_shm *cp;
	const struct hf_ring_msg *m;
	struct stat st;
	int fd;

	create_dp(f);
	assert_int_equal(attach(f, &cp), 0);

	fd = shm_open(f->name, O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal((uint64_t)st.st_size, hf_shm_region_size(N_WORKERS));

	h = hf_shm_header(cp);
	assert_true(h->magic == HF_SHM_MAGIC);
	assert_int_equal(h->abi_version, HF_SHM_ABI_VERSION);
	assert_int_equal(h->n_workers, N_WORKERS);
	assert_int_equal(hf_shm_n_workers(cp), N_WORKERS);
	assert_string_equal(hf_shm_region_name(cp), f->name);
	assert_int_equal(hf_shm_dp_generation(cp), 1);
	assert_int_equal(hf_shm_cp_generation(cp), 1);
	assert_int_equal(hf_shm_cp_generation(f->dp), 1);
	assert_int_equal(hf_shm_check(cp), 0);
	assert_int_equal(hf_shm_check(f->dp), 0);
	assert_int_equal(h->dp_pid, (uint32_t)getpid());
	assert_null(hf_shm_miss_ring(cp, N_WORKERS));
	assert_null(hf_shm_fill_ring(cp, N_WORKERS));
	assert_null(hf_shm_stats(cp, N_WORKERS));
	/* Since ABI 2: the override part after the workers, seen by both handles. */
	assert_int_equal(h->override_slot_size, HF_SHM_OVERRIDE_SLOT_SIZE);
	assert_int_equal(h->override_slot_count, HF_SHM_OVERRIDE_SLOTS);
	assert_int_equal(h->parts[HF_SHM_PART_OVERRIDE].offset,
			 h->parts[HF_SHM_PART_WORKERS].offset + h->parts[HF_SHM_PART_WORKERS].size);
	assert_int_equal(h->parts[HF_SHM_PART_OVERRIDE].offset + h->parts[HF_SHM_PART_OVERRIDE].size,
			 h->region_size);
	assert_null(hf_shm_override_slot(cp, HF_SHM_OVERRIDE_SLOTS));
	memcpy(hf_shm_override_slot(f->dp, 1), "slot one", 8);
	assert_memory_equal(hf_shm_override_slot(cp, 1), "slot one", 8);
	assert_int_equal((char *)hf_shm_override_slot(cp, 1) - (char *)hf_shm_override_slot(cp, 0),
			 HF_SHM_OVERRIDE_SLOT_SIZE);
	atomic_store(&hf_shm_override_state(cp)->published, 3);
	assert_int_equal(atomic_load(&hf_shm_override_state(f->dp)->published), 3);
	assert_int_equal(atomic_load(&hf_shm_override_hits(f->dp)->generation), 0);

	/* Two mappings of one region: what one side writes, the other reads. */
	for (unsigned w = 0; w < N_WORKERS; w++) {
		char q[32];

		snprintf(q, sizeof(q), "question from worker %u", w);
		assert_int_equal(hf_ring_payload_max(hf_shm_miss_ring(f->dp, w)),
				 HF_SHM_MISS_SLOT_SIZE - 8);
		assert_int_equal(hf_ring_payload_max(hf_shm_fill_ring(f->dp, w)),
				 HF_SHM_FILL_SLOT_SIZE - 8);
		assert_int_equal(hf_ring_enqueue(hf_shm_miss_ring(f->dp, w), 1, q, strlen(q)), 0);
		assert_int_equal(hf_ring_enqueue(hf_shm_fill_ring(cp, w), 2, q, strlen(q)), 0);
		hf_shm_stat_add(hf_shm_stats(f->dp, w), HF_STAT_MISS_SENT, 3 + w);
	}
	assert_int_equal(hf_ring_enqueue(hf_shm_ops_ring(cp), 3, "nta", 3), 0);
	for (unsigned w = 0; w < N_WORKERS; w++) {
		char q[32];

		snprintf(q, sizeof(q), "question from worker %u", w);
		m = hf_ring_peek(hf_shm_miss_ring(cp, w));
		assert_non_null(m);
		assert_int_equal(m->type, 1);
		assert_memory_equal(m->data, q, strlen(q));
		hf_ring_release(hf_shm_miss_ring(cp, w), 1);
		m = hf_ring_peek(hf_shm_fill_ring(f->dp, w));
		assert_non_null(m);
		assert_int_equal(m->type, 2);
		assert_int_equal(hf_shm_stat_get(hf_shm_stats(cp, w), HF_STAT_MISS_SENT), 3 + w);
	}
	m = hf_ring_peek(hf_shm_ops_ring(f->dp));
	assert_non_null(m);
	assert_memory_equal(m->data, "nta", 3);
	assert_int_equal(hf_ring_count(hf_shm_miss_ring(f->dp, 0)), 0);

	hf_shm_detach(cp);
}

static void test_attach_missing(void **state)
{
	struct fixture *f = *state;
	struct hf_shm *cp = NULL;

	assert_int_equal(attach(f, &cp), -ENOENT);
	assert_null(cp);
	assert_non_null(strstr(f->err, f->name));
	assert_non_null(strstr(f->err, "is holdfast-dataplane running?"));
	assert_int_equal(hf_shm_attach("bad/name", &cp, NULL, 0), -EINVAL);
	assert_int_equal(hf_shm_create(f->instance, 0, &cp, f->err, sizeof(f->err)), -EINVAL);
	assert_int_equal(hf_shm_create(f->instance, HF_SHM_MAX_WORKERS + 1, &cp, NULL, 0),
			 -EINVAL);
}

static void test_bad_magic(void **state)
{
	struct fixture *f = *state;
	struct hf_shm_header *h;
	struct hf_shm *cp;

	create_dp(f);
	h = map_header(f);
	atomic_store(&h->magic, UINT64_C(0x1122334455667788));
	assert_int_equal(attach(f, &cp), HF_ESHMMAGIC);
	assert_non_null(strstr(f->err, "not a holdfast region"));
	assert_non_null(strstr(f->err, "0x1122334455667788"));
	/* All zero: a region between ftruncate and its header. */
	atomic_store(&h->magic, 0);
	assert_int_equal(attach(f, &cp), -EAGAIN);
	atomic_store(&h->magic, HF_SHM_MAGIC);
	atomic_store(&h->state, HF_SHM_STATE_INIT);
	assert_int_equal(attach(f, &cp), -EAGAIN);
	assert_non_null(strstr(f->err, "being created"));
	atomic_store(&h->state, HF_SHM_STATE_READY);
	assert_int_equal(attach(f, &cp), 0);
	hf_shm_detach(cp);
	unmap_header(h);
}

static void test_other_abi(void **state)
{
	struct fixture *f = *state;
	struct hf_shm_header *h;
	struct hf_shm *cp;
	char want[128];

	create_dp(f);
	h = map_header(f);
	h->abi_version = HF_SHM_ABI_VERSION + 2;
	assert_int_equal(attach(f, &cp), HF_ESHMABI);
	snprintf(want, sizeof(want), "shm %s: ABI version %u, this build speaks %u", f->name,
		 HF_SHM_ABI_VERSION + 2, HF_SHM_ABI_VERSION);
	assert_string_equal(f->err, want);
	assert_non_null(strstr(hf_strerror(HF_ESHMABI), "ABI version"));
	unmap_header(h);
}

static void test_layout_mismatch(void **state)
{
	struct fixture *f = *state;
	struct hf_shm_header *h;
	struct hf_shm *cp;
	struct hf_ring *r;

	create_dp(f);
	h = map_header(f);

	h->fill_slot_count = HF_SHM_FILL_SLOTS * 2;
	assert_int_equal(attach(f, &cp), HF_ESHMLAYOUT);
	assert_non_null(strstr(f->err, "fill ring slot count 2048, this build uses 1024"));
	h->fill_slot_count = HF_SHM_FILL_SLOTS;

	h->n_workers = 3;
	assert_int_equal(attach(f, &cp), HF_ESHMLAYOUT);
	h->n_workers = HF_SHM_MAX_WORKERS + 1;
	assert_int_equal(attach(f, &cp), HF_ESHMLAYOUT);
	assert_non_null(strstr(f->err, "workers"));
	h->n_workers = N_WORKERS;

	h->override_slot_size = HF_SHM_OVERRIDE_SLOT_SIZE / 2;
	assert_int_equal(attach(f, &cp), HF_ESHMLAYOUT);
	assert_non_null(strstr(f->err, "override slot size"));
	h->override_slot_size = HF_SHM_OVERRIDE_SLOT_SIZE;

	h->parts[HF_SHM_PART_COUNT].size = 4096;
	assert_int_equal(attach(f, &cp), HF_ESHMLAYOUT);
	assert_non_null(strstr(f->err, "unknown to this build"));
	h->parts[HF_SHM_PART_COUNT].size = 0;

	/* A ring whose own header disagrees. */
	r = hf_shm_miss_ring(f->dp, 1);
	r->slot_size = HF_SHM_MISS_SLOT_SIZE / 2;
	assert_int_equal(attach(f, &cp), HF_ESHMLAYOUT);
	assert_non_null(strstr(f->err, "miss ring of worker 1"));
	r->slot_size = HF_SHM_MISS_SLOT_SIZE;

	/* A ring whose indices are impossible. */
	r = hf_shm_fill_ring(f->dp, 0);
	atomic_store(&r->head, HF_SHM_FILL_SLOTS + 1);
	assert_int_equal(attach(f, &cp), HF_ESHMRING);
	assert_non_null(strstr(f->err, "fill ring of worker 0"));
	atomic_store(&r->head, 0);

	assert_int_equal(attach(f, &cp), 0);
	hf_shm_detach(cp);
	unmap_header(h);
}

static void test_truncated(void **state)
{
	struct fixture *f = *state;
	struct hf_shm *cp;
	int fd;

	create_dp(f);
	fd = shm_open(f->name, O_RDWR, 0);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 2 * HF_SHM_HEADER_SIZE), 0);
	assert_int_equal(attach(f, &cp), HF_ESHMSIZE);
	assert_non_null(strstr(f->err, "region is 8192 bytes, its header says"));
	assert_int_equal(ftruncate(fd, 100), 0);
	assert_int_equal(attach(f, &cp), HF_ESHMSIZE);
	assert_non_null(strstr(f->err, "region is 100 bytes, smaller than its header"));
	assert_int_equal(ftruncate(fd, 16), 0);
	assert_int_equal(attach(f, &cp), HF_ESHMSIZE);
	assert_non_null(strstr(f->err, "too small for any header"));
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(attach(f, &cp), -EAGAIN);
	/* Give the dataplane's mapping its pages back (zeroed) so that
	 * teardown may write the header. */
	assert_int_equal(ftruncate(fd, (off_t)hf_shm_region_size(N_WORKERS)), 0);
	close(fd);
}

static void test_second_control(void **state)
{
	struct fixture *f = *state;
	struct hf_shm_header *h;
	struct hf_shm *a, *b, *c, *d;
	uint32_t gen;

	create_dp(f);
	h = map_header(f);
	assert_int_equal(attach(f, &a), 0);
	assert_int_equal(attach(f, &b), HF_ESHMBUSY);
	assert_non_null(strstr(f->err, "control plane pid"));
	assert_non_null(strstr(f->err, "is alive"));

	/* A clean detach frees the claim at once. */
	hf_shm_detach(a);
	assert_int_equal(hf_shm_cp_generation(f->dp), 1);
	assert_int_equal(attach(f, &b), 0);
	assert_int_equal(hf_shm_cp_generation(f->dp), 2);

	/* The holder died without detaching: its pid is gone. */
	gen = hf_shm_cp_generation(f->dp);
	atomic_store(&h->cp_claim, (uint64_t)gen << 32 | dead_pid());
	assert_int_equal(attach(f, &c), 0);
	assert_int_equal(hf_shm_cp_generation(c), gen + 1);
	assert_int_equal(hf_shm_check(c), 0);
	assert_int_equal(hf_shm_heartbeat(c, hf_shm_now_ns()), 0);

	/* The holder's pid exists but its heartbeat is stale (hung, or the
	 * pid was reused): taken over too, and the holder learns it. */
	atomic_store(&h->cp_heartbeat_ns, hf_shm_now_ns() - 2 * HF_SHM_PEER_TIMEOUT_NS);
	assert_int_equal(attach(f, &d), 0);
	assert_int_equal(hf_shm_check(c), HF_ESHMTAKEN);
	assert_int_equal(hf_shm_heartbeat(c, hf_shm_now_ns()), HF_ESHMTAKEN);
	assert_int_equal(hf_shm_check(d), 0);

	/* Detaching a handle that lost its claim must not free the new one. */
	hf_shm_detach(c);
	hf_shm_detach(b);
	assert_int_equal((uint32_t)atomic_load(&h->cp_claim), (uint32_t)getpid());
	assert_int_equal(attach(f, &a), HF_ESHMBUSY);
	hf_shm_detach(d);
	unmap_header(h);
}

static void test_retired(void **state)
{
	struct fixture *f = *state;
	struct hf_shm *dp1, *cp, *cp2;
	const struct hf_ring_msg *m;

	create_dp(f);
	dp1 = f->dp;
	assert_int_equal(attach(f, &cp), 0);
	assert_int_equal(hf_ring_enqueue(hf_shm_miss_ring(dp1, 0), 1, "old", 3), 0);

	/* The dataplane restarts: a new region replaces the old one. */
	create_dp(f);
	assert_int_equal(hf_shm_check(cp), HF_ESHMRETIRED);
	assert_int_equal(hf_shm_check(dp1), HF_ESHMRETIRED);
	assert_int_equal(hf_shm_peer_age_ns(cp, hf_shm_now_ns()), UINT64_MAX);
	assert_false(hf_shm_peer_alive(cp, hf_shm_now_ns()));
	/* The old mapping still works (nothing is pulled from under it). */
	assert_int_equal(hf_ring_count(hf_shm_miss_ring(cp, 0)), 1);
	hf_shm_detach(cp);

	assert_int_equal(attach(f, &cp2), 0);
	assert_int_equal(hf_shm_dp_generation(cp2), 2);
	assert_int_equal(hf_shm_cp_generation(cp2), 1);
	m = hf_ring_peek(hf_shm_miss_ring(cp2, 0));
	assert_null(m);

	/* The old dataplane going away must not unlink its successor. */
	hf_shm_destroy(dp1);
	hf_shm_detach(cp2);
	assert_int_equal(attach(f, &cp2), 0);

	/* A dataplane that stops retires its region and removes the name. */
	hf_shm_destroy(f->dp);
	f->dp = NULL;
	assert_int_equal(hf_shm_check(cp2), HF_ESHMRETIRED);
	hf_shm_detach(cp2);
	assert_int_equal(attach(f, &cp2), -ENOENT);
}

/* A monitor (hf-stats, holdfastctl) opens the region read-only next to a
 * control plane that holds the claim: it sees the counters, takes and
 * releases nothing, and cannot heartbeat. */
static void test_open_ro(void **state)
{
	struct fixture *f = *state;
	struct hf_shm *cp, *ro, *ro2;
	uint64_t claim;

	f->err[0] = '\0';
	assert_int_equal(hf_shm_open_ro(f->instance, &ro, f->err, sizeof(f->err)), -ENOENT);
	assert_non_null(strstr(f->err, "is holdfast-dataplane running?"));

	create_dp(f);
	assert_int_equal(attach(f, &cp), 0);
	claim = atomic_load(&hf_shm_header(f->dp)->cp_claim);
	assert_int_equal(hf_shm_open_ro(f->instance, &ro, f->err, sizeof(f->err)), 0);
	assert_int_equal(hf_shm_open_ro(f->instance, &ro2, f->err, sizeof(f->err)), 0);
	assert_int_equal(atomic_load(&hf_shm_header(f->dp)->cp_claim), claim);
	assert_int_equal(hf_shm_n_workers(ro), N_WORKERS);
	assert_int_equal(hf_shm_check(ro), 0);
	assert_true(hf_shm_peer_alive(ro, hf_shm_now_ns()));

	hf_shm_stat_add(hf_shm_stats(f->dp, 1), HF_STAT_CACHE_HITS, 42);
	assert_int_equal(hf_shm_stat_get(hf_shm_stats(ro, 1), HF_STAT_CACHE_HITS), 42);
	assert_int_equal(hf_shm_stat_get(hf_shm_stats(ro, 0), HF_STAT_CACHE_HITS), 0);
	assert_null(hf_shm_stats(ro, N_WORKERS));

	assert_int_equal(hf_shm_heartbeat(ro, hf_shm_now_ns()), -EPERM);
	/* Detaching a read-only handle releases nobody's claim. */
	hf_shm_detach(ro2);
	assert_int_equal(atomic_load(&hf_shm_header(f->dp)->cp_claim), claim);
	assert_int_equal(hf_shm_check(cp), 0);

	/* Retirement is seen, and the mapping stays readable. */
	hf_shm_destroy(f->dp);
	f->dp = NULL;
	assert_int_equal(hf_shm_check(ro), HF_ESHMRETIRED);
	assert_int_equal(hf_shm_stat_get(hf_shm_stats(ro, 1), HF_STAT_CACHE_HITS), 42);
	assert_int_equal(hf_shm_open_ro(f->instance, &ro2, f->err, sizeof(f->err)), -ENOENT);
	hf_shm_detach(ro);
	hf_shm_detach(cp);
}

static void test_give(void **state)
{
	struct fixture *f = *state;
	struct hf_shm *cp;
	char path[HF_SHM_NAME_SIZE + 16];
	struct stat st;

	create_dp(f);
	snprintf(path, sizeof(path), "/dev/shm%s", f->name);
	if (geteuid() != 0) {
		assert_int_equal(hf_shm_give(f->dp, 65534, 65534), -EPERM);
		skip();
	}
	assert_int_equal(attach(f, &cp), 0);
	assert_int_equal(hf_shm_give(cp, 0, 0), -EPERM);  /* only the creator gives */
	hf_shm_detach(cp);
	assert_int_equal(hf_shm_give(f->dp, 65534, 65534), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_gid, 65534);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Now only that user may attach: the owner check refuses everyone else. */
	assert_int_equal(attach(f, &cp), -EPERM);
}

static void test_second_dataplane(void **state)
{
	struct fixture *f = *state;
	struct hf_shm_header *h;
	struct hf_shm *other = NULL;
	pid_t child;

	create_dp(f);
	/* Pretend another, live process created the region. */
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	h = map_header(f);
	atomic_store(&h->dp_pid, (uint32_t)child);
	assert_int_equal(hf_shm_create(f->instance, N_WORKERS, &other, f->err, sizeof(f->err)),
			 HF_ESHMBUSY);
	assert_non_null(strstr(f->err, "dataplane pid"));
	assert_int_equal(hf_shm_check(f->dp), 0);

	/* It died: the next dataplane replaces its region. */
	kill(child, SIGKILL);
	assert_int_equal(waitpid(child, NULL, 0), child);
	unmap_header(h);
	hf_shm_destroy(f->dp);
	f->dp = NULL;
	create_dp(f);
	/* destroy() unlinked the previous one, so the generation starts again. */
	assert_int_equal(hf_shm_dp_generation(f->dp), 1);
}

static void test_heartbeat(void **state)
{
	struct fixture *f = *state;
	struct hf_shm *cp;
	uint64_t now;

	create_dp(f);
	now = hf_shm_now_ns();
	/* No control plane yet. */
	assert_int_equal(hf_shm_peer_age_ns(f->dp, now), UINT64_MAX);
	assert_false(hf_shm_peer_alive(f->dp, now));

	assert_int_equal(attach(f, &cp), 0);
	now = hf_shm_now_ns();
	assert_true(hf_shm_peer_alive(f->dp, now));
	assert_true(hf_shm_peer_alive(cp, now));

	assert_int_equal(hf_shm_heartbeat(cp, now), 0);
	assert_int_equal(hf_shm_heartbeat(f->dp, now), 0);
	assert_int_equal(hf_shm_peer_age_ns(f->dp, now + 1000), 1000);
	assert_int_equal(hf_shm_peer_age_ns(cp, now + 2000), 2000);
	assert_int_equal(hf_shm_peer_age_ns(cp, now - 5), 0);
	assert_true(hf_shm_peer_alive(cp, now + HF_SHM_PEER_TIMEOUT_NS));
	assert_false(hf_shm_peer_alive(cp, now + HF_SHM_PEER_TIMEOUT_NS + 1));
	assert_false(hf_shm_peer_alive(f->dp, now + HF_SHM_PEER_TIMEOUT_NS + 1));

	/* After a clean detach the dataplane sees no control plane. */
	hf_shm_detach(cp);
	assert_int_equal(hf_shm_peer_age_ns(f->dp, now), UINT64_MAX);
	assert_true(hf_shm_now_ns() >= now);
}

static void test_consumer_resumes(void **state)
{
	struct fixture *f = *state;
	struct hf_ring *miss;
	struct hf_shm *cp;
	const struct hf_ring_msg *got[8];

	create_dp(f);
	miss = hf_shm_miss_ring(f->dp, 1);
	for (uint64_t i = 0; i < 5; i++)
		assert_int_equal(hf_ring_enqueue(miss, (uint16_t)i, &i, sizeof(i)), 0);

	/* A control plane reads three, acknowledges two, and goes away. */
	assert_int_equal(attach(f, &cp), 0);
	assert_int_equal(hf_ring_peek_burst(hf_shm_miss_ring(cp, 1), got, 3), 3);
	hf_ring_release(hf_shm_miss_ring(cp, 1), 2);
	hf_shm_detach(cp);

	/* The next one resumes at the first unacknowledged message. */
	assert_int_equal(attach(f, &cp), 0);
	assert_int_equal(hf_ring_peek_burst(hf_shm_miss_ring(cp, 1), got, 8), 3);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(got[i]->type, i + 2);
	hf_shm_detach(cp);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The doorbell wakes the dataplane from another process, and loses no ring. */
static void test_doorbell(void **state)
{
	struct fixture *f = *state;
	struct hf_shm *cp;

	create_dp(f);
	/* Not rung: the wait runs out. */
	uint32_t bell = hf_shm_doorbell_peek(f->dp);
	uint64_t t0 = mono_ms();
	assert_int_equal(hf_shm_doorbell_wait(f->dp, bell, 20 * 1000000ULL), -ETIMEDOUT);
	assert_true(mono_ms() - t0 >= 15);

	/* Rung between the peek and the wait: the wait returns at once. */
	assert_int_equal(attach(f, &cp), 0);
	hf_shm_doorbell_ring(cp);
	t0 = mono_ms();
	assert_int_equal(hf_shm_doorbell_wait(f->dp, bell, 10ULL * 1000000000ULL), 0);
	assert_true(mono_ms() - t0 < 1000);
	assert_int_equal(hf_shm_doorbell_peek(f->dp), bell + 1);
	hf_shm_detach(cp);

	/* Rung by another process while we sleep: woken long before the timeout. */
	bell = hf_shm_doorbell_peek(f->dp);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct hf_shm *child;
		char err[256];
		usleep(50000);
		if (hf_shm_attach(f->instance, &child, err, sizeof(err)) != 0)
			_exit(1);
		hf_shm_doorbell_ring(child);
		hf_shm_detach(child);
		_exit(0);
	}
	t0 = mono_ms();
	int rc;
	do  /* a wake for the futex word alone: a spurious 0 only if the value moved */
		rc = hf_shm_doorbell_wait(f->dp, bell, 10ULL * 1000000000ULL);
	while (rc == -EINTR);
	assert_int_equal(rc, 0);
	assert_true(mono_ms() - t0 < 5000);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(hf_shm_doorbell_peek(f->dp), bell + 1);

	/* A read-only monitor cannot ring. */
	struct hf_shm *ro;
	assert_int_equal(hf_shm_open_ro(f->instance, &ro, f->err, sizeof(f->err)), 0);
	hf_shm_doorbell_ring(ro);
	assert_int_equal(hf_shm_doorbell_peek(f->dp), bell + 1);
	hf_shm_detach(ro);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_region_size),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_magic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_abi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layout_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_control, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_ro, setup, teardown),
		cmocka_unit_test_setup_teardown(test_give, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_dataplane, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_consumer_resumes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_doorbell, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
