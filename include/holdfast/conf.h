/*
 * The configuration both processes read: one YAML file, loaded into a plain
 * struct hf_conf with fixed-size arrays (nothing to free).
 *
 * Loading is defaults-then-overrides: hf_conf_load() first fills every field
 * from the schema's default texts (lib/conf/schema.c, the same table
 * docs/holdfast.yaml documents), then overrides what the file sets. The
 * dataplane reads `instance` and `dataplane`, the control plane reads the rest;
 * both load the whole file so that an error anywhere stops both.
 *
 * Rules of the file (each violation is an error of the form
 * "FILE:LINE: what is wrong", and stops loading):
 *  - the top level is a mapping of sections; each section a mapping of keys;
 *  - unknown sections and keys, and keys given twice, are errors;
 *  - each key has one type (bool, uint, duration, size, string, path,
 *    address, name, or a list of one of those), checked as documented below;
 *  - an empty section or list (`cache:` with every key commented out) means
 *    "all defaults" / "empty list";
 *  - relative paths are taken relative to the directory of the file.
 *
 * Units: durations are milliseconds (uint64_t, *_ms), sizes are bytes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "include/holdfast/dns.h"

#define HF_CONF_STR_MAX       256   /*!< string buffer, bytes with NUL */
#define HF_CONF_PATH_MAX      1024  /*!< path buffer, bytes with NUL (after resolving) */
#define HF_CONF_INSTANCE_MAX  65    /*!< instance name buffer (HF_SHM_INSTANCE_MAX + NUL) */
#define HF_CONF_EAL_ARGS_MAX  32    /*!< dataplane.eal-args entries */
#define HF_CONF_WORKERS_MAX   128   /*!< dataplane.workers entries (= HF_SHM_MAX_WORKERS) */
#define HF_CONF_LCORE_MAX     1023  /*!< highest lcore id accepted (DPDK checks the real limit) */
#define HF_CONF_ADDRS_MAX     16    /*!< dataplane.addresses and control.listen-tcp entries */
#define HF_CONF_PORTS_MAX     8     /*!< dataplane.ports entries */
#define HF_CONF_QUEUES_MAX    128   /*!< queues per port */
#define HF_CONF_NAMES_MAX     32    /*!< control.special-use-names entries */
#define HF_CONF_DNS_PORT      53    /*!< port of every service address */

/*! \brief [instance]: what distinguishes one resolver on a host from another. */
struct hf_conf_instance {
	char name[HF_CONF_INSTANCE_MAX];   /*!< shm object "/holdfast.<name>"; [A-Za-z0-9._-] */
	char state_dir[HF_CONF_PATH_MAX];  /*!< persistent state (trust anchor updates) */
	char user[HF_CONF_STR_MAX];        /*!< drop privileges to this user; "" = don't */
};

/*! \brief One element of dataplane.ports: a DPDK device and its queue count. */
struct hf_conf_port {
	char name[HF_CONF_STR_MAX];        /*!< operator's label, unique among ports */
	char device[HF_CONF_STR_MAX];      /*!< DPDK devargs or PCI address */
	uint32_t queues;                   /*!< RX/TX queue pairs, 1..HF_CONF_QUEUES_MAX */
};

/*! \brief [dataplane]: holdfast-dataplane (DPDK primary process). */
struct hf_conf_dataplane {
	uint32_t eal_args_count;
	char eal_args[HF_CONF_EAL_ARGS_MAX][HF_CONF_STR_MAX]; /*!< argv for rte_eal_init */
	uint32_t workers_count;
	uint32_t workers[HF_CONF_WORKERS_MAX];                /*!< worker lcore ids, unique */
	uint32_t addresses_count;
	struct sockaddr_storage addresses[HF_CONF_ADDRS_MAX]; /*!< service addresses, port 53 */
	uint32_t ports_count;
	struct hf_conf_port ports[HF_CONF_PORTS_MAX];
	char exception_path[HF_CONF_STR_MAX];                 /*!< devargs; "" = none */
};

/*! \brief [cache]: the dataplane's answer cache and its miss handling. */
struct hf_conf_cache {
	uint64_t size;                   /*!< bytes, >= 1 MiB */
	uint64_t ttl_min_ms;             /*!< TTLs below are raised to this */
	uint64_t ttl_max_ms;             /*!< TTLs above are lowered to this */
	uint64_t max_stale_ms;           /*!< keep expired records this long (RFC 8767) */
	uint64_t resolution_timeout_ms;  /*!< give up on a miss after this long (SERVFAIL) */
	uint32_t max_waiters;            /*!< queries parked on one outstanding miss */
};

/*! \brief [control]: holdfast-control (recursion, validation, management). */
struct hf_conf_control {
	char root_hints[HF_CONF_PATH_MAX];     /*!< "" = built-in root hints */
	char trust_anchors[HF_CONF_PATH_MAX];  /*!< "" = built-in root trust anchors */
	bool dnssec_validation;                /*!< validate (AD, SERVFAIL for bogus) */
	uint32_t listen_tcp_count;
	struct sockaddr_storage listen_tcp[HF_CONF_ADDRS_MAX]; /*!< port 53 */
	char control_socket[HF_CONF_PATH_MAX]; /*!< unix socket for holdfastctl */
	bool allow_loopback_upstreams;         /*!< lab only: accept 127/8, ::1 servers */
	uint32_t special_use_names_count;
	uint8_t special_use_names[HF_CONF_NAMES_MAX][HF_NAME_MAXLEN]; /*!< wire form */
	struct sockaddr_storage metrics_listen; /*!< address and port; AF_UNSPEC = off */
	uint64_t nta_recheck_ms;               /*!< test NTA zones this often; 0 = never */
	bool nta_recheck_ends;                 /*!< end an NTA once its zone validates */
};

/*! \brief [serve-stale]: RFC 8767 behaviour. */
struct hf_conf_serve_stale {
	bool enabled;
	uint64_t client_timeout_ms;   /*!< answer stale after this long without fresh data */
	uint64_t failure_recheck_ms;  /*!< after a failed refresh, wait this long before retrying */
	uint64_t stale_ttl_ms;        /*!< TTL put on stale answers */
	uint32_t no_stale_on_bogus_count;
	uint8_t no_stale_on_bogus[HF_CONF_NAMES_MAX][HF_NAME_MAXLEN]; /*!< wire form: bogus refreshes fail */
};

/*! \brief The whole configuration. Plain data: copy it, compare it, no free. */
struct hf_conf {
	struct hf_conf_instance instance;
	struct hf_conf_dataplane dataplane;
	struct hf_conf_cache cache;
	struct hf_conf_control control;
	struct hf_conf_serve_stale serve_stale;
};

/*!
 * \brief Fill every field with its documented default.
 *
 * \param conf  Receives the defaults; any previous content is overwritten.
 */
void hf_conf_defaults(struct hf_conf *conf);

/*!
 * \brief Load a YAML configuration file over the defaults.
 *
 * Not thread-safe with respect to *conf; load into a fresh struct and swap
 * it in (STYLE.md rule 18) to reload.
 *
 * \param conf      Receives the configuration. On failure its content is
 *                  unspecified (defaults plus part of the file); it owns no
 *                  memory either way.
 * \param path      File to read. Relative paths inside it are resolved
 *                  against its directory.
 * \param err       Receives a NUL-terminated message on failure, of the form
 *                  "PATH:LINE: key: what is wrong" (or "PATH: ..." where no
 *                  line applies); may be NULL if err_size is 0.
 * \param err_size  Size of err; messages are truncated to fit.
 * \return 0; -errno if the file cannot be opened or read (-ENOENT, -EACCES,
 *         -EISDIR, ...); -EINVAL for any error in its content (syntax,
 *         schema, value or cross-field check); -ENOMEM.
 */
int hf_conf_load(struct hf_conf *conf, const char *path, char *err, size_t err_size);
