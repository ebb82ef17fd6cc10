/*
 * holdfast-control: the control plane process.
 *
 *   holdfast-control -c holdfast.yaml [-v LEVEL]
 *
 * One libuv loop carries everything: the resolver (control/resolver.h), the
 * shared-memory link to holdfast-dataplane (control/link.h), DNS over TCP
 * (control/tcp.h) and the signals that stop it. Start-up order matters:
 * config, resolver, TCP listeners (port 53 needs root), the holdfastctl
 * socket (control/ctl/server.h, its directory may need root) with the
 * operator glue (control/operator.h), privilege drop (control/privs.h), and
 * only then the link, so that the region's ownership is checked as the user
 * that will re-attach after a dataplane restart.
 *
 * Exit codes: 0 after SIGINT/SIGTERM; 78 (EX_CONFIG) for a configuration
 * the process cannot use; 1 for anything else (a listener that cannot be
 * bound, a failed privilege drop, another control plane taking over).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "control/ctl/server.h"
#include "control/link.h"
#include "control/local.h"
#include "control/log.h"
#include "control/metrics.h"
#include "control/operator.h"
#include "control/privs.h"
#include "control/resolver.h"
#include "control/tcp.h"
#include "include/holdfast/conf.h"

#define HF_EXIT_CONFIG 78  /* sysexits.h EX_CONFIG: what systemd and scripts expect */

struct hf_control {
	uv_loop_t loop;
	struct hf_conf conf;
	struct hf_local local;
	struct hf_resolver *resolver;
	struct hf_tcp *tcp;
	struct hf_link *link;
	struct hf_operator *op;
	struct hf_ctl_server *ctl;
	struct hf_metrics *metrics;
	uv_timer_t metrics_timer;
	uv_signal_t sigint, sigterm;
	int exit_code;
	bool stopping;
};

static void hf_control_stop(struct hf_control *cp, int code)
{
	const struct hf_link_stats *s;

	if (cp->stopping)
		return;
	cp->stopping = true;
	cp->exit_code = code;
	if (cp->link) {
		s = hf_link_stats(cp->link);
		hf_log_info(SYSTEM, "misses %llu (bad %llu, local %llu, coalesced %llu), "
			    "resolutions %llu, fills %llu (backlogged %llu, dropped %llu), "
			    "orphaned %llu, attaches %llu",
			    (unsigned long long)s->misses, (unsigned long long)s->bad_misses,
			    (unsigned long long)s->local, (unsigned long long)s->coalesced,
			    (unsigned long long)s->resolutions, (unsigned long long)s->fills,
			    (unsigned long long)s->backlogged, (unsigned long long)s->backlog_drops,
			    (unsigned long long)s->orphaned, (unsigned long long)s->attaches);
	}
	/* The resolver goes first: once it is destroyed no callback can reach
	 * a query that the link or the TCP server is about to free. The link
	 * then detaches, which releases the claim so that a restarted control
	 * plane attaches at once. */
	if (cp->metrics) {
		uv_close((uv_handle_t *)&cp->metrics_timer, NULL);
		hf_metrics_stop(cp->metrics);
		cp->metrics = NULL;
	}
	hf_resolver_destroy(cp->resolver);
	cp->resolver = NULL;
	hf_operator_close(cp->op);
	cp->op = NULL;
	hf_ctl_server_close(cp->ctl);
	cp->ctl = NULL;
	hf_link_close(cp->link);
	cp->link = NULL;
	hf_tcp_close(cp->tcp);
	cp->tcp = NULL;
	uv_close((uv_handle_t *)&cp->sigint, NULL);
	uv_close((uv_handle_t *)&cp->sigterm, NULL);
}

static void hf_control_on_signal(uv_signal_t *h, int signum)
{
	struct hf_control *cp = h->data;

	hf_log_notice(SYSTEM, "%s: shutting down", strsignal(signum));
	hf_control_stop(cp, 0);
}

static void hf_control_on_fatal(void *ctx, int code)
{
	(void)code;
	hf_log_error(SYSTEM, "exiting: another holdfast-control now serves this dataplane");
	hf_control_stop(ctx, 1);
}

static void hf_control_on_attach(void *ctx, struct hf_shm *shm)
{
	struct hf_control *cp = ctx;
	if (cp->op)
		hf_operator_attached(cp->op, shm);
}

/* Renders the metrics text on the loop (control/metrics.h) and hands it over. */
static void hf_control_on_metrics_timer(uv_timer_t *t)
{
	struct hf_control *cp = t->data;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	if (!out)
		return;
	hf_operator_metrics(cp->op, out);
	if (fclose(out) == 0)
		(void)hf_metrics_publish(cp->metrics, text, len);
	free(text);
}

static int hf_control_start_metrics(struct hf_control *cp)
{
	char err[256];

	if (cp->conf.control.metrics_listen.ss_family == AF_UNSPEC)
		return 0;
	cp->metrics = hf_metrics_start(&cp->conf.control.metrics_listen, err, sizeof(err));
	if (!cp->metrics) {
		hf_log_error(SYSTEM, "control.metrics-listen: %s", err);
		return HF_EXIT_CONFIG;
	}
	uv_timer_init(&cp->loop, &cp->metrics_timer);
	cp->metrics_timer.data = cp;
	uv_timer_start(&cp->metrics_timer, hf_control_on_metrics_timer, 0, HF_METRICS_PERIOD_MS);
	hf_log_info(SYSTEM, "metrics on port %u (GET /metrics)", hf_metrics_port(cp->metrics));
	return 0;
}

static void hf_control_usage(FILE *out)
{
	fprintf(out, "usage: holdfast-control -c FILE [-v error|warning|notice|info|debug]\n");
}

static int hf_control_parse_args(int argc, char **argv, const char **config)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbosity", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, level;

	while ((c = getopt_long(argc, argv, "c:v:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			*config = optarg;
			break;
		case 'v':
			level = hf_log_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr, "holdfast-control: unknown log level '%s'\n", optarg);
				return -EINVAL;
			}
			hf_log_set_level((enum hf_log_level)level);
			break;
		case 'h':
			hf_control_usage(stdout);
			exit(0);
		default:
			hf_control_usage(stderr);
			return -EINVAL;
		}
	}
	if (!*config || optind != argc) {
		hf_control_usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* Config, resolver, listeners, privileges, link: see the top of the file. */
static int hf_control_start(struct hf_control *cp, const char *config)
{
	struct hf_resolver_config rcfg = { 0 };
	struct hf_tcp_config tcfg = { 0 };
	struct hf_link_config lcfg = { 0 };
	char err[512];
	int rc;

	if (hf_conf_load(&cp->conf, config, err, sizeof(err)) < 0) {
		fprintf(stderr, "holdfast-control: %s\n", err);
		return HF_EXIT_CONFIG;
	}
	hf_local_init(&cp->local, &cp->conf.control);

	/* The config says "" for the built-in hints, the resolver NULL. */
	rcfg.root_hints = cp->conf.control.root_hints[0] ? cp->conf.control.root_hints : NULL;
	rcfg.allow_loopback_upstreams = cp->conf.control.allow_loopback_upstreams;
	rcfg.dnssec = cp->conf.control.dnssec_validation;
	rcfg.trust_anchors = cp->conf.control.trust_anchors;
	rcfg.no_stale_on_bogus = (const uint8_t (*)[HF_NAME_MAXLEN])cp->conf.serve_stale.no_stale_on_bogus;
	rcfg.n_no_stale_on_bogus = cp->conf.serve_stale.no_stale_on_bogus_count;
	rcfg.own_addresses = cp->conf.dataplane.addresses;
	rcfg.n_own_addresses = cp->conf.dataplane.addresses_count;
	/* Give up a little before the dataplane does, so that the client gets
	 * the resolver's own SERVFAIL and EDE (22: which servers failed), not
	 * the dataplane's "no answer in time". */
	uint64_t timeout_ms = cp->conf.cache.resolution_timeout_ms;
	rcfg.resolution_timeout_ms = (uint32_t)(timeout_ms > 500 ? timeout_ms - 250 : timeout_ms * 3 / 4);
	err[0] = '\0';
	cp->resolver = hf_resolver_create(&cp->loop, &rcfg, err, sizeof(err));
	if (!cp->resolver) {
		fprintf(stderr, "holdfast-control: %s\n", err[0] ? err : "cannot create the resolver");
		return HF_EXIT_CONFIG;
	}

	tcfg.addrs = cp->conf.control.listen_tcp;
	tcfg.n_addrs = cp->conf.control.listen_tcp_count;
	tcfg.resolver = cp->resolver;
	tcfg.local = &cp->local;
	cp->tcp = hf_tcp_create(&cp->loop, &tcfg, err, sizeof(err));
	if (!cp->tcp) {
		hf_log_error(TCP, "%s", err);
		return 1;
	}

	/* The control socket's directory (/run/holdfast) may need root: before the drop. */
	struct hf_operator_config ocfg = {
		.resolver = cp->resolver,
		.nta_recheck_ms = cp->conf.control.nta_recheck_ms,
		.nta_recheck_ends = cp->conf.control.nta_recheck_ends,
	};
	cp->op = hf_operator_create(&cp->loop, &ocfg);
	if (!cp->op) {
		hf_log_error(SYSTEM, "out of memory");
		return 1;
	}
	struct hf_ctl_server_config ccfg = {
		.socket_path = cp->conf.control.control_socket,
		.state_dir = cp->conf.instance.state_dir,
	};
	hf_operator_hooks(cp->op, &ccfg.hooks);
	cp->ctl = hf_ctl_server_create(&cp->loop, &ccfg, err, sizeof(err));
	if (!cp->ctl) {
		hf_log_error(SYSTEM, "control socket: %s", err);
		return HF_EXIT_CONFIG;
	}

	/* A port below 1024 needs root too. */
	rc = hf_control_start_metrics(cp);
	if (rc != 0)
		return rc;

	if (hf_privs_drop(cp->conf.instance.user, err, sizeof(err)) < 0) {
		hf_log_error(SYSTEM, "%s; refusing to run on with the privileges it started with",
			     err);
		return 1;
	}
	if (cp->conf.instance.user[0])
		hf_log_info(SYSTEM, "running as user %s", cp->conf.instance.user);

	lcfg.instance = cp->conf.instance.name;
	lcfg.resolver = cp->resolver;
	lcfg.local = &cp->local;
	lcfg.on_fatal = hf_control_on_fatal;
	lcfg.on_attach = hf_control_on_attach;
	lcfg.ctx = cp;
	cp->link = hf_link_create(&cp->loop, &lcfg);
	if (!cp->link || hf_link_start(cp->link) < 0) {
		hf_log_error(SHM, "cannot create the link to the dataplane");
		return 1;
	}
	/* NTAs loaded from the state directory apply from the first resolution on. */
	hf_operator_start(cp->op, cp->ctl, cp->link);
	return 0;
}

int main(int argc, char **argv)
{
	static struct hf_control cp;  /* large (the config): not on the stack */
	const char *config = NULL;
	int rc;

	if (hf_control_parse_args(argc, argv, &config) < 0)
		return 2;
	/* A client that resets its TCP connection must not kill the process
	 * through a write to it. */
	signal(SIGPIPE, SIG_IGN);
	if (uv_loop_init(&cp.loop) < 0) {
		fprintf(stderr, "holdfast-control: cannot create the event loop\n");
		return 1;
	}
	uv_signal_init(&cp.loop, &cp.sigint);
	uv_signal_init(&cp.loop, &cp.sigterm);
	cp.sigint.data = cp.sigterm.data = &cp;
	uv_signal_start(&cp.sigint, hf_control_on_signal, SIGINT);
	uv_signal_start(&cp.sigterm, hf_control_on_signal, SIGTERM);

	rc = hf_control_start(&cp, config);
	if (rc != 0)
		hf_control_stop(&cp, rc);
	else
		hf_log_notice(SYSTEM, "running (instance %s)", cp.conf.instance.name);
	uv_run(&cp.loop, UV_RUN_DEFAULT);
	/* Every handle is closed by now; run once more for stragglers the
	 * resolver closed last. */
	uv_run(&cp.loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&cp.loop) != 0)
		hf_log_warning(SYSTEM, "event loop closed with handles still open");
	if (cp.exit_code == 0)
		hf_log_notice(SYSTEM, "stopped");
	return cp.exit_code;
}
