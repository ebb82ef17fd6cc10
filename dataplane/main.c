/*
 * holdfast-dataplane: the DPDK primary process.
 *
 *   holdfast-dataplane -c holdfast.yaml
 *
 * Reads the configuration (EAL arguments, ports, worker lcores, service
 * addresses, cache size), creates the shared-memory region the control plane
 * attaches to, opens the ports, and starts one polling worker per configured
 * lcore, each owning one RX/TX queue pair. The main lcore does not poll
 * packets: it beats the heartbeat, sweeps the cache (CLOCK eviction) and
 * prints statistics, sleeping in between (on the shm doorbell, which the
 * control plane rings when it asks something of the dataplane).
 */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include <urcu/urcu-qsbr.h>

#include "dataplane/cache.h"
#include "dataplane/net/packet.h"
#include "dataplane/ops.h"
#include "dataplane/override.h"
#include "dataplane/port.h"
#include "dataplane/worker.h"
#include "include/holdfast/conf.h"
#include "include/holdfast/errcode.h"
#include "include/holdfast/shm.h"

RTE_LOG_REGISTER(hf_logtype_dp, hf.dp.main, INFO);
#define DP_LOG(level, ...) \
	rte_log(RTE_LOG_##level, hf_logtype_dp, "holdfast-dataplane: " __VA_ARGS__)

#define HF_EAL_ARGV_MAX (HF_CONF_EAL_ARGS_MAX + 2)
#define HF_MAIN_TICK_PRESSURE_NS UINT64_C(100000)  /* sweep period while the cache is over its low watermark */
#define HF_STATS_PERIOD_NS UINT64_C(10000000000)
#define HF_SWEEP_IDLE_NS UINT64_C(100000000)  /* sweep period while memory is plentiful */
#define HF_PENDING_QUESTIONS 4096   /* outstanding questions per worker */
#define HF_PENDING_WAITERS 4096     /* clients waiting, per worker */

struct hf_dataplane {
	struct hf_conf conf;
	struct hf_shm *shm;
	struct hf_cache *cache;
	struct rte_mempool *mp;
	unsigned n_ports;
	struct hf_port ports[HF_CONF_PORTS_MAX];
	struct hf_net_addrs addrs[HF_CONF_PORTS_MAX];
	bool has_exception;
	struct hf_port exception;
	unsigned n_workers;
	struct hf_worker *workers[HF_CONF_WORKERS_MAX];
	struct hf_worker_run runs[HF_CONF_WORKERS_MAX];
	struct hf_ops_stats ops_stats;
	struct hf_ovr_dp *ovr;        /* override rule sets (RCU-swapped; the main lcore polls) */
};

static _Atomic bool hf_stop;

static void hf_on_signal(int sig)
{
	(void)sig;
	atomic_store(&hf_stop, true);
}

static void hf_usage(FILE *out)
{
	fprintf(out, "usage: holdfast-dataplane -c FILE\n"
		     "  -c, --config FILE  the YAML configuration (see docs/holdfast.yaml)\n"
		     "  -h, --help         this text\n");
}

/* EAL wants a writable argv that outlives it. */
static int hf_eal_init(struct hf_dataplane *dp, const char *prog)
{
	static char *argv[HF_EAL_ARGV_MAX];
	int argc = 0;

	argv[argc++] = (char *)(uintptr_t)prog;
	for (uint32_t i = 0; i < dp->conf.dataplane.eal_args_count; i++)
		argv[argc++] = dp->conf.dataplane.eal_args[i];
	argv[argc] = NULL;
	return rte_eal_init(argc, argv);
}

static int hf_addrs_setup(struct hf_dataplane *dp, unsigned p)
{
	struct hf_net_addrs *a = &dp->addrs[p];
	hf_net_addrs_init(a, &dp->ports[p].mac);
	for (uint32_t i = 0; i < dp->conf.dataplane.addresses_count; i++) {
		const struct sockaddr_storage *ss = &dp->conf.dataplane.addresses[i];
		int ret = ss->ss_family == AF_INET ?
			hf_net_addrs_add4(a, ((const struct sockaddr_in *)ss)->sin_addr.s_addr) :
			hf_net_addrs_add6(a, ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr);
		if (ret < 0) {
			DP_LOG(ERR, "service address %u: %s\n", i, hf_strerror(ret));
			return ret;
		}
	}
	return 0;
}

static int hf_ports_open(struct hf_dataplane *dp)
{
	const struct hf_conf_dataplane *c = &dp->conf.dataplane;
	char err[256];
	unsigned queues = 0;

	for (uint32_t p = 0; p < c->ports_count; p++)
		queues += c->ports[p].queues;
	if (queues != dp->n_workers) {
		DP_LOG(ERR, "%u worker lcores but %u port queues: each worker owns one queue\n",
		       dp->n_workers, queues);
		return -EINVAL;
	}
	for (uint32_t p = 0; p < c->ports_count; p++) {
		int ret = hf_port_open(c->ports[p].device, (uint16_t)c->ports[p].queues, dp->mp,
				       &dp->ports[p], err, sizeof(err));
		if (ret < 0) {
			DP_LOG(ERR, "%s\n", err);
			return ret;
		}
		dp->n_ports++;
		ret = hf_addrs_setup(dp, p);
		if (ret < 0)
			return ret;
		DP_LOG(INFO, "port %s (%s): %u queues, MAC " RTE_ETHER_ADDR_PRT_FMT "\n",
		       c->ports[p].name, dp->ports[p].name, c->ports[p].queues,
		       RTE_ETHER_ADDR_BYTES(&dp->ports[p].mac));
	}
	if (c->exception_path[0] != '\0') {
		int ret = hf_port_open(c->exception_path, (uint16_t)dp->n_workers, dp->mp,
				       &dp->exception, err, sizeof(err));
		if (ret < 0) {
			DP_LOG(ERR, "exception path: %s\n", err);
			return ret;
		}
		dp->has_exception = true;
	}
	return 0;
}

static int hf_workers_start(struct hf_dataplane *dp)
{
	const struct hf_conf_dataplane *c = &dp->conf.dataplane;
	unsigned w = 0;

	for (uint32_t p = 0; p < c->ports_count; p++) {
		for (uint16_t q = 0; q < c->ports[p].queues; q++, w++) {
			unsigned lcore = c->workers[w];
			struct hf_worker_config wc = {
				.index = w, .port_id = dp->ports[p].port_id, .queue_id = q,
				.has_exception = dp->has_exception,
				.exc_port_id = dp->exception.port_id, .exc_queue_id = (uint16_t)w,
				.addrs = &dp->addrs[p], .cache = dp->cache, .shm = dp->shm,
				.pending = {
					.max_questions = HF_PENDING_QUESTIONS,
					.max_waiters = HF_PENDING_WAITERS,
					.max_waiters_per_q = dp->conf.cache.max_waiters,
					.timeout_ns = dp->conf.cache.resolution_timeout_ms * 1000000,
				},
				.stale = {
					.enabled = dp->conf.serve_stale.enabled &&
						   dp->conf.cache.max_stale_ms > 0,
					.ttl = (uint32_t)(dp->conf.serve_stale.stale_ttl_ms / 1000),
					.failure_recheck =
						(uint32_t)(dp->conf.serve_stale.failure_recheck_ms / 1000),
					.client_timeout_ns = dp->conf.serve_stale.client_timeout_ms * 1000000,
				},
				.ovr = dp->ovr,
			};
			dp->workers[w] = hf_worker_create(&wc);
			if (!dp->workers[w]) {
				DP_LOG(ERR, "worker %u: out of memory\n", w);
				return -ENOMEM;
			}
			dp->runs[w] = (struct hf_worker_run){ .worker = dp->workers[w], .stop = &hf_stop };
			int ret = rte_eal_remote_launch(hf_worker_main, &dp->runs[w], lcore);
			if (ret < 0) {
				DP_LOG(ERR, "worker %u: cannot launch on lcore %u: %s\n", w, lcore,
				       rte_strerror(-ret));
				return ret;
			}
			DP_LOG(INFO, "worker %u on lcore %u: port %s queue %u\n", w, lcore,
			       dp->ports[p].name, q);
		}
	}
	return 0;
}

static int hf_check_lcores(const struct hf_dataplane *dp)
{
	for (unsigned w = 0; w < dp->n_workers; w++) {
		unsigned lcore = dp->conf.dataplane.workers[w];
		if (lcore >= RTE_MAX_LCORE || !rte_lcore_is_enabled(lcore)) {
			DP_LOG(ERR, "worker lcore %u is not in the EAL's lcore list (-l/--lcores)\n",
			       lcore);
			return -EINVAL;
		}
		if (lcore == rte_get_main_lcore()) {
			DP_LOG(ERR, "worker lcore %u is the main lcore: list another first in -l\n",
			       lcore);
			return -EINVAL;
		}
	}
	return 0;
}

/* The control plane attaches as instance.user (see hf_shm_give()). */
static int hf_give_region(struct hf_dataplane *dp)
{
	const char *user = dp->conf.instance.user;
	if (user[0] == '\0')
		return 0;
	const struct passwd *pw = getpwnam(user);
	if (!pw) {
		DP_LOG(ERR, "instance.user \"%s\": no such user\n", user);
		return -ENOENT;
	}
	int ret = hf_shm_give(dp->shm, pw->pw_uid, pw->pw_gid);
	if (ret < 0)
		DP_LOG(ERR, "cannot give %s to %s: %s\n", hf_shm_region_name(dp->shm), user,
		       hf_strerror(ret));
	return ret;
}

static int hf_dataplane_start(struct hf_dataplane *dp)
{
	char err[256];
	int ret;

	dp->n_workers = dp->conf.dataplane.workers_count;
	if (dp->n_workers == 0 || dp->conf.dataplane.ports_count == 0) {
		DP_LOG(ERR, "the configuration names no ports or no worker lcores\n");
		return -EINVAL;
	}
	ret = hf_check_lcores(dp);
	if (ret < 0)
		return ret;

	ret = hf_shm_create(dp->conf.instance.name, dp->n_workers, &dp->shm, err, sizeof(err));
	if (ret < 0) {
		DP_LOG(ERR, "%s\n", err);
		return ret;
	}
	ret = hf_give_region(dp);
	if (ret < 0)
		return ret;
	const struct hf_cache_config cc = {
		.max_bytes = dp->conf.cache.size,
		.ttl_min = (uint32_t)(dp->conf.cache.ttl_min_ms / 1000),
		.ttl_max = (uint32_t)(dp->conf.cache.ttl_max_ms / 1000),
		.max_stale = (uint32_t)(dp->conf.cache.max_stale_ms / 1000),
	};
	dp->cache = hf_cache_create(&cc);
	if (!dp->cache) {
		DP_LOG(ERR, "cannot create a cache of %llu bytes\n",
		       (unsigned long long)dp->conf.cache.size);
		return -ENOMEM;
	}

	/* Enough mbufs for every descriptor ring, the bursts in flight, and
	 * the queries held while their answers are resolved. */
	unsigned n_mbufs = dp->n_workers * (2 * (HF_PORT_RX_DESC + HF_PORT_TX_DESC) +
					    HF_PENDING_WAITERS + 4 * HF_WORKER_BURST) + 4096;
	dp->mp = rte_pktmbuf_pool_create("hf_mbufs", n_mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					 (int)rte_socket_id());
	if (!dp->mp) {
		DP_LOG(ERR, "cannot allocate %u mbufs: %s (hugepages reserved?)\n", n_mbufs,
		       rte_strerror(rte_errno));
		return -ENOMEM;
	}
	dp->ovr = hf_ovr_create(dp->n_workers);
	if (!dp->ovr) {
		DP_LOG(ERR, "out of memory for the override rules\n");
		return -ENOMEM;
	}
	ret = hf_ports_open(dp);
	if (ret < 0)
		return ret;
	return hf_workers_start(dp);
}

static void hf_print_stats(struct hf_dataplane *dp)
{
	uint64_t rx = 0, hits = 0, misses = 0, answers = 0;
	for (unsigned w = 0; w < dp->n_workers; w++) {
		const struct hf_shm_stats *s = hf_shm_stats(dp->shm, w);
		rx += hf_shm_stat_get(s, HF_STAT_RX_PACKETS);
		hits += hf_shm_stat_get(s, HF_STAT_CACHE_HITS);
		misses += hf_shm_stat_get(s, HF_STAT_CACHE_MISSES);
		answers += hf_shm_stat_get(s, HF_STAT_DNS_ANSWERS);
	}
	struct hf_cache_stats cs;
	hf_cache_stats(dp->cache, &cs);
	DP_LOG(INFO, "rx %llu, answers %llu, hits %llu, misses %llu, cache %llu entries %llu bytes\n",
	       (unsigned long long)rx, (unsigned long long)answers, (unsigned long long)hits,
	       (unsigned long long)misses, (unsigned long long)cs.entries,
	       (unsigned long long)cs.bytes);
}

/* Nanoseconds from now until the earliest of the deadlines, within [0, max]. */
static uint64_t hf_until(uint64_t now, uint64_t max, const uint64_t *deadline, unsigned n)
{
	uint64_t wait = max;
	for (unsigned i = 0; i < n; i++) {
		if (deadline[i] <= now)
			return 0;
		if (deadline[i] - now < wait)
			wait = deadline[i] - now;
	}
	return wait;
}

/*
 * The main lcore's loop: heartbeat, cache sweeps, statistics, and what the
 * control plane asks (ops ring, override sets). Between jobs it sleeps on
 * the shm doorbell until the next deadline: on a small host it shares a CPU
 * with a worker, and a wake-up every 100 us cost that worker a fifth of its
 * answers (docs/benchmarks.md), while the doorbell brings an operator's
 * purge here at once.
 */
static void hf_dataplane_run(struct hf_dataplane *dp)
{
	struct hf_worker_clock now;
	struct hf_cache_stats cs;
	enum { BEAT, SWEEP, HITS, STATS, N_DEADLINES };
	uint64_t next[N_DEADLINES] = { 0 };
	const uint64_t low_water = dp->conf.cache.size / 100 * HF_CACHE_LOW_PCT;

	urcu_qsbr_register_thread();
	while (!atomic_load(&hf_stop)) {
		/* Read before looking: a ring from now on ends the wait below. */
		const uint32_t bell = hf_shm_doorbell_peek(dp->shm);
		bool again = false;

		hf_worker_clock_read(&now);
		if (now.mono_ns >= next[BEAT]) {
			hf_shm_heartbeat(dp->shm, now.mono_ns);
			next[BEAT] = now.mono_ns + HF_SHM_HEARTBEAT_NS;
		}
		/* Operations first: an NTA's purge or a rule set is waited for by an operator. */
		if (hf_ops_poll(dp->shm, dp->cache, &dp->ops_stats) == HF_OPS_BURST)
			again = true;  /* more may be waiting */
		int ovr = hf_ovr_poll(dp->ovr, dp->shm);
		if (ovr == -EAGAIN)
			again = true;  /* the slot changed under us: read the newer one */
		else if (ovr < 0)
			DP_LOG(WARNING, "override rule set refused: %s\n", strerror(-ovr));
		/* Sweep every HF_MAIN_TICK_PRESSURE_NS while the cache is above
		 * its low watermark; otherwise only the stale-window expiry
		 * needs the hand to move, and a sweep every 100 ms does that. */
		hf_cache_stats(dp->cache, &cs);
		const bool pressure = cs.bytes > low_water;
		if (pressure || now.mono_ns >= next[SWEEP]) {
			hf_cache_sweep(dp->cache, now.real_s);
			next[SWEEP] = now.mono_ns + HF_SWEEP_IDLE_NS;
		}
		if (now.mono_ns >= next[HITS]) {
			hf_ovr_publish_hits(dp->ovr, dp->shm);
			next[HITS] = now.mono_ns + UINT64_C(1000000000);
		}
		if (now.mono_ns >= next[STATS]) {
			if (next[STATS])
				hf_print_stats(dp);
			next[STATS] = now.mono_ns + HF_STATS_PERIOD_NS;
		}
		urcu_qsbr_quiescent_state();
		if (again)
			continue;
		uint64_t wait = hf_until(now.mono_ns, pressure ? HF_MAIN_TICK_PRESSURE_NS
							       : HF_SHM_DOORBELL_MAX_SLEEP_NS,
					 next, N_DEADLINES);
		/* Sleeping offline so that writers' grace periods need not wait for us. */
		urcu_qsbr_thread_offline();
		if (wait > 0)
			(void)hf_shm_doorbell_wait(dp->shm, bell, wait);
		urcu_qsbr_thread_online();
	}
	urcu_qsbr_unregister_thread();
}

static void hf_dataplane_stop(struct hf_dataplane *dp)
{
	atomic_store(&hf_stop, true);
	rte_eal_mp_wait_lcore();
	for (unsigned w = 0; w < dp->n_workers; w++)
		hf_worker_destroy(dp->workers[w]);
	for (unsigned p = 0; p < dp->n_ports; p++)
		hf_port_close(&dp->ports[p]);
	if (dp->has_exception)
		hf_port_close(&dp->exception);
	if (dp->cache)
		hf_cache_destroy(dp->cache);
	/* Its pending RCU callbacks write into the region: before the region goes.
	 * It waits for a grace period, so this thread must be a QSBR reader. */
	urcu_qsbr_register_thread();
	hf_ovr_destroy(dp->ovr);
	urcu_qsbr_unregister_thread();
	hf_shm_destroy(dp->shm);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	char err[512];
	int c, status = EXIT_SUCCESS;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'h':
			hf_usage(stdout);
			return EXIT_SUCCESS;
		default:
			hf_usage(stderr);
			return EX_USAGE;
		}
	}
	if (!config || optind != argc) {
		hf_usage(stderr);
		return EX_USAGE;
	}

	static struct hf_dataplane dp;
	if (hf_conf_load(&dp.conf, config, err, sizeof(err)) < 0) {
		fprintf(stderr, "holdfast-dataplane: %s\n", err);
		return EX_CONFIG;
	}
	if (hf_eal_init(&dp, argv[0]) < 0) {
		fprintf(stderr, "holdfast-dataplane: EAL initialisation failed: %s "
			"(eal-args in %s)\n", rte_strerror(rte_errno), config);
		return EX_CONFIG;
	}
	signal(SIGINT, hf_on_signal);
	signal(SIGTERM, hf_on_signal);

	if (hf_dataplane_start(&dp) == 0) {
		DP_LOG(INFO, "running: %u workers, shm %s\n", dp.n_workers,
		       hf_shm_region_name(dp.shm));
		hf_dataplane_run(&dp);
	} else {
		status = EXIT_FAILURE;
	}
	hf_dataplane_stop(&dp);
	rte_eal_cleanup();
	return status;
}
