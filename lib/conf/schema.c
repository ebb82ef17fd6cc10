/*
 * The configuration schema: one table per section (as Knot's
 * src/knot/conf/schema.c). Keep docs/holdfast.yaml in step with it; the unit
 * test checks that every key here appears there and that the file loads.
 */
#include <stddef.h>
#include <stdint.h>

#include "include/holdfast/defines.h"
#include "lib/conf/conf_impl.h"

#define HF_MS_S   1000ULL                /*!< ms in a second */
#define HF_MS_MIN (60 * HF_MS_S)         /*!< ms in a minute */
#define HF_MS_H   (60 * HF_MS_MIN)       /*!< ms in an hour */
#define HF_MS_D   (24 * HF_MS_H)         /*!< ms in a day */
#define HF_MIB    (1ULL << 20)           /*!< bytes in a MiB */
#define HF_TIB    (1ULL << 40)           /*!< bytes in a TiB */

#define HF_CONF_MEMBER(T, field) (((T *)0)->field)

/* A scalar key of section struct T. */
#define HF_CONF_SCALAR(T, key, ty, field, lo, hi, dflt, hlp) {              \
	.name = (key), .type = (ty), .offset = offsetof(T, field),         \
	.size = sizeof(HF_CONF_MEMBER(T, field)), .min = (lo), .max = (hi), \
	.def = (dflt), .help = (hlp) }

/* A list key: array `field` with its count in `field##_count`. */
#define HF_CONF_LIST(T, key, ty, fl, field, lo, hi, dflt, hlp) {            \
	.name = (key), .type = (ty), .flags = HF_CONF_F_LIST | (fl),        \
	.offset = offsetof(T, field), .size = sizeof(HF_CONF_MEMBER(T, field)[0]), \
	.count_offset = offsetof(T, field##_count),                        \
	.max_count = HF_ARRAY_SIZE(HF_CONF_MEMBER(T, field)),              \
	.min = (lo), .max = (hi), .def = (dflt), .help = (hlp) }

#define HF_CONF_END { .name = NULL }

static const struct hf_conf_item hf_conf_instance_items[] = {
	HF_CONF_SCALAR(struct hf_conf_instance, "name", HF_CONF_T_INSTANCE, name, 0, 0,
		       "default", "instance name; the shm object is /holdfast.<name>"),
	HF_CONF_SCALAR(struct hf_conf_instance, "state-dir", HF_CONF_T_PATH, state_dir, 0, 0,
		       "/var/lib/holdfast", "directory for persistent state"),
	HF_CONF_SCALAR(struct hf_conf_instance, "user", HF_CONF_T_STRING, user, 0, 0,
		       "", "user to drop privileges to; empty = keep"),
	HF_CONF_END,
};

static const struct hf_conf_item hf_conf_port_items[] = {
	{ .name = "name", .type = HF_CONF_T_STRING, .flags = HF_CONF_F_REQUIRED | HF_CONF_F_UNIQUE,
	  .offset = offsetof(struct hf_conf_port, name),
	  .size = sizeof(HF_CONF_MEMBER(struct hf_conf_port, name)),
	  .def = "", .help = "label for logs and statistics, unique" },
	{ .name = "device", .type = HF_CONF_T_STRING, .flags = HF_CONF_F_REQUIRED | HF_CONF_F_UNIQUE,
	  .offset = offsetof(struct hf_conf_port, device),
	  .size = sizeof(HF_CONF_MEMBER(struct hf_conf_port, device)),
	  .def = "", .help = "DPDK devargs or PCI address" },
	HF_CONF_SCALAR(struct hf_conf_port, "queues", HF_CONF_T_UINT, queues, 1, HF_CONF_QUEUES_MAX,
		       "1", "RX/TX queue pairs"),
	HF_CONF_END,
};

static const struct hf_conf_section hf_conf_port_section = {
	.name = "ports", .offset = 0, .items = hf_conf_port_items,
};

static const struct hf_conf_item hf_conf_dataplane_items[] = {
	HF_CONF_LIST(struct hf_conf_dataplane, "eal-args", HF_CONF_T_STRING, 0, eal_args, 0, 0,
		     "", "arguments for rte_eal_init"),
	HF_CONF_LIST(struct hf_conf_dataplane, "workers", HF_CONF_T_UINT, HF_CONF_F_UNIQUE, workers,
		     0, HF_CONF_LCORE_MAX, "", "worker lcore ids"),
	HF_CONF_LIST(struct hf_conf_dataplane, "addresses", HF_CONF_T_ADDR, HF_CONF_F_UNIQUE,
		     addresses, 0, 0, "", "service addresses (port 53)"),
	{ .name = "ports", .type = HF_CONF_T_SECTIONS, .flags = HF_CONF_F_LIST,
	  .offset = offsetof(struct hf_conf_dataplane, ports),
	  .size = sizeof(struct hf_conf_port),
	  .count_offset = offsetof(struct hf_conf_dataplane, ports_count),
	  .max_count = HF_CONF_PORTS_MAX, .def = "", .help = "DPDK ports",
	  .sub = &hf_conf_port_section },
	HF_CONF_SCALAR(struct hf_conf_dataplane, "exception-path", HF_CONF_T_STRING, exception_path,
		       0, 0, "", "devargs of the kernel exception path; empty = none"),
	HF_CONF_END,
};

static const struct hf_conf_item hf_conf_cache_items[] = {
	HF_CONF_SCALAR(struct hf_conf_cache, "size", HF_CONF_T_SIZE, size, HF_MIB, HF_TIB,
		       "256M", "cache memory, bytes"),
	HF_CONF_SCALAR(struct hf_conf_cache, "ttl-min", HF_CONF_T_DURATION, ttl_min_ms,
		       0, 7 * HF_MS_D, "0", "lower bound on cached TTLs"),
	HF_CONF_SCALAR(struct hf_conf_cache, "ttl-max", HF_CONF_T_DURATION, ttl_max_ms,
		       HF_MS_S, 7 * HF_MS_D, "1d", "upper bound on cached TTLs"),
	HF_CONF_SCALAR(struct hf_conf_cache, "max-stale", HF_CONF_T_DURATION, max_stale_ms,
		       0, 7 * HF_MS_D, "1d", "how long expired records are kept for serve-stale"),
	HF_CONF_SCALAR(struct hf_conf_cache, "resolution-timeout", HF_CONF_T_DURATION,
		       resolution_timeout_ms, 10, 60 * HF_MS_S, "3s",
		       "time a miss may take before SERVFAIL"),
	HF_CONF_SCALAR(struct hf_conf_cache, "max-waiters", HF_CONF_T_UINT, max_waiters,
		       1, 65535, "64", "queries parked on one outstanding miss"),
	HF_CONF_END,
};

static const struct hf_conf_item hf_conf_control_items[] = {
	HF_CONF_SCALAR(struct hf_conf_control, "root-hints", HF_CONF_T_PATH, root_hints, 0, 0,
		       "", "root hints file; empty = built-in"),
	HF_CONF_SCALAR(struct hf_conf_control, "trust-anchors", HF_CONF_T_PATH, trust_anchors, 0, 0,
		       "", "trust anchor file; empty = built-in root anchors"),
	HF_CONF_SCALAR(struct hf_conf_control, "dnssec-validation", HF_CONF_T_BOOL, dnssec_validation,
		       0, 0, "true", "validate DNSSEC (RFC 4035)"),
	HF_CONF_LIST(struct hf_conf_control, "listen-tcp", HF_CONF_T_ADDR, HF_CONF_F_UNIQUE,
		     listen_tcp, 0, 0, "", "TCP service addresses (port 53)"),
	HF_CONF_SCALAR(struct hf_conf_control, "control-socket", HF_CONF_T_PATH, control_socket,
		       0, 0, "/run/holdfast/control.sock", "unix socket for holdfastctl"),
	HF_CONF_SCALAR(struct hf_conf_control, "allow-loopback-upstreams", HF_CONF_T_BOOL,
		       allow_loopback_upstreams, 0, 0, "false",
		       "accept loopback name server addresses (lab only)"),
	HF_CONF_LIST(struct hf_conf_control, "special-use-names", HF_CONF_T_NAME, HF_CONF_F_UNIQUE,
		     special_use_names, 0, 0,
		     "localhost. invalid. onion. local. home.arpa. test.",
		     "names never resolved upstream (RFC 6761 and the IANA registry)"),
	HF_CONF_SCALAR(struct hf_conf_control, "metrics-listen", HF_CONF_T_ADDRPORT, metrics_listen,
		       0, 0, "", "ADDR:PORT of the metrics endpoint; empty = off"),
	HF_CONF_SCALAR(struct hf_conf_control, "nta-recheck", HF_CONF_T_DURATION, nta_recheck_ms,
		       0, 7 * HF_MS_D, "1m", "how often zones under an NTA are tested; 0 = never"),
	HF_CONF_SCALAR(struct hf_conf_control, "nta-recheck-ends", HF_CONF_T_BOOL, nta_recheck_ends,
		       0, 0, "false", "end an NTA once its zone validates again"),
	HF_CONF_END,
};

static const struct hf_conf_item hf_conf_serve_stale_items[] = {
	HF_CONF_SCALAR(struct hf_conf_serve_stale, "enabled", HF_CONF_T_BOOL, enabled, 0, 0,
		       "true", "answer from expired records when upstreams fail"),
	HF_CONF_SCALAR(struct hf_conf_serve_stale, "client-timeout", HF_CONF_T_DURATION,
		       client_timeout_ms, 0, 60 * HF_MS_S, "1800ms",
		       "answer stale after this long without fresh data"),
	HF_CONF_SCALAR(struct hf_conf_serve_stale, "failure-recheck", HF_CONF_T_DURATION,
		       failure_recheck_ms, HF_MS_S, HF_MS_H, "30s",
		       "wait after a failed refresh before trying again"),
	HF_CONF_SCALAR(struct hf_conf_serve_stale, "stale-ttl", HF_CONF_T_DURATION, stale_ttl_ms,
		       HF_MS_S, HF_MS_H, "30s", "TTL of stale answers"),
	HF_CONF_LIST(struct hf_conf_serve_stale, "no-stale-on-bogus", HF_CONF_T_NAME, HF_CONF_F_UNIQUE,
		     no_stale_on_bogus, 0, 0, "",
		     "zones (and below) where a refresh that validates bogus is not papered over"),
	HF_CONF_END,
};

const struct hf_conf_section hf_conf_schema[] = {
	{ "instance", offsetof(struct hf_conf, instance), hf_conf_instance_items },
	{ "dataplane", offsetof(struct hf_conf, dataplane), hf_conf_dataplane_items },
	{ "cache", offsetof(struct hf_conf, cache), hf_conf_cache_items },
	{ "control", offsetof(struct hf_conf, control), hf_conf_control_items },
	{ "serve-stale", offsetof(struct hf_conf, serve_stale), hf_conf_serve_stale_items },
	{ NULL, 0, NULL },
};
