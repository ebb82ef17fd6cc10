#!/usr/bin/env bash
# Integration: holdfast-control (built with the stub resolver: A 192.0.2.1)
# behind the real holdfast-dataplane on a veth pair (net_af_packet), clients
# in a network namespace, as tests/dp/test_dataplane.sh sets them up.
#
#   test_control.sh BUILD_DIR [CONTROL_BINARY]
#
# Covers: either process starting first; a miss resolved and answered;
# special-use names answered locally; restarts of the control plane under
# load (SIGTERM and SIGKILL) with cache hits answered meanwhile; a restart
# of the dataplane (the control plane re-attaches); DNS over TCP on the
# control plane's own address; the privilege drop and the region ownership
# rule; config errors (exit 78); clean shutdown (exit 0).
#
# Needs root (namespaces, port 53); exits 77 (skipped) without it.
set -uo pipefail

build=$(realpath "$1")
cp_bin=${2:-$build/tests/control/hf-control-stub}
root=$(cd "$(dirname "$0")/../.." && pwd)
dp_bin=$build/dataplane/holdfast-dataplane
tcp_addr=127.0.0.53
metrics_port=$((19000 + $$ % 1000))

if [[ $(id -u) != 0 ]] || ! command -v ip >/dev/null || ! command -v dig >/dev/null; then
	echo "skip: needs root, iproute2 and dig"
	exit 77
fi

ns=hf-ctl-$$
inst=c$$
work=$(mktemp -d)
chmod 755 "$work"
dp_pid= cp_pid=
# shellcheck source=tests/lib/check.sh
source "$(dirname "$0")/../lib/check.sh"
# shellcheck source=tests/lib/dataplane.sh
source "$(dirname "$0")/../lib/dataplane.sh"
show_out() { sed 's/^/#   /' <<<"$out" >&2; }  # after a failed check of $out
has() { grep -q "$@" <<<"$out" || { show_out; false; }; }  # has [GREP OPTIONS] PATTERN: in $out
stop_cp() {  # stop_cp [SIGNAL]; leaves the exit status in cp_status
	cp_status=
	[[ -n $cp_pid ]] || return 0
	kill "-${1:-TERM}" "$cp_pid" 2>/dev/null
	wait "$cp_pid" 2>/dev/null
	cp_status=$?
	cp_pid=
}
stop_dp() { [[ -n $dp_pid ]] && kill "$dp_pid" 2>/dev/null && wait "$dp_pid" 2>/dev/null; dp_pid=; }
cleanup() {
	stop_cp
	stop_dp
	HF_NETNS_DP_IF=hcdp$$ HF_NETNS_CLIENT_IF=hccl$$ "$root/scripts/netns" down "$ns" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

wait_for() {  # wait_for FILE PATTERN [COUNT] [TENTHS]
	local n=${3:-1}
	for _ in $(seq "${4:-50}"); do
		(($(grep -c -- "$2" "$1" 2>/dev/null) >= n)) && return 0
		sleep 0.1
	done
	echo "# timed out waiting for '$2' x$n in $1:" >&2
	tail -5 "$1" >&2
	return 1
}

write_config() {  # write_config [USER [ROOT_HINTS]]
	local hints=
	[[ -n ${2:-} ]] && hints="  root-hints: \"$2\"
  trust-anchors: \"$(dirname "$2")/root.key\"
  allow-loopback-upstreams: true"
	cat >"$work/holdfast.yaml" <<EOY
instance:
  name: $inst
  user: "${1:-}"
  state-dir: $work/state
$(dataplane_yaml "hf-c$$" "net_af_packet0,iface=$dp_if")
cache:
  size: 64M
  resolution-timeout: 1s
control:
  listen-tcp: [$tcp_addr]
  metrics-listen: "$tcp_addr:$metrics_port"
  control-socket: $work/ctl/control.sock
  special-use-names: [localhost., invalid., onion.]
$hints
EOY
}

start_dp() {
	local log=$work/dp.log
	: >"$log"
	"$dp_bin" -c "$work/holdfast.yaml" >"$log" 2>&1 &
	dp_pid=$!
	wait_for "$log" 'running:'
}

start_cp() {  # start_cp [LOGFILE]
	cp_log=${1:-$work/cp.log}
	: >"$cp_log"
	HF_STUB_DELAY_MS=${HF_STUB_DELAY_MS:-20} "$cp_bin" -c "$work/holdfast.yaml" -v info \
		>"$cp_log" 2>&1 &
	cp_pid=$!
}

dig_q() { in_ns dig +tries=1 +time=2 "$@"; }
answers_a() { grep -q "IN	A	192.0.2.1" <<<"$1" || { show_out; false; }; }

dp_if=hcdp$$
eval "$(HF_NETNS_DP_IF=$dp_if HF_NETNS_CLIENT_IF=hccl$$ "$root/scripts/netns" up "$ns")"
write_config

# --- config errors ---------------------------------------------------------
printf 'control:\n  listen-tcp: [not-an-address]\n' >"$work/bad.yaml"
out=$("$cp_bin" -c "$work/bad.yaml" 2>&1); rc=$?
check "bad config: exit 78" test "$rc" = 78
check "... with holdfast-control: FILE:LINE:" grep -q "^holdfast-control: $work/bad.yaml:2:" <<<"$out"

# --- the control plane first, then the dataplane ------------------------------
start_cp
check "control first: waits for the dataplane" wait_for "$cp_log" 'waiting for holdfast-dataplane'
check "... logged once" test "$(grep -c 'waiting for holdfast-dataplane' "$cp_log")" = 1
check "dataplane starts" start_dp
check "control attaches when the region appears" wait_for "$cp_log" 'attached to /holdfast'
sleep 0.3

out=$(dig_q @"$HF_SERVICE4" WwW.ExAmPlE.test)
check "miss resolved by the control plane, question case kept" \
	grep -q '^WwW.ExAmPlE.test.	300	IN	A	192.0.2.1' <<<"$out"
out=$(dig_q -6 @"$HF_SERVICE6" www.example.test AAAA)
check "AAAA over IPv6" grep -q 'IN	AAAA	2001:db8::1' <<<"$out"
out=$(dig_q @"$HF_SERVICE4" sf.example.test)
check "resolver failure: SERVFAIL with its EDE 22" \
	grep -q 'EDE: 22 (No Reachable Authority): (stub: no server answered)' <<<"$out"
out=$(dig_q @"$HF_SERVICE4" localhost)
check "localhost: 127.0.0.1, answered locally" grep -qE '^localhost\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]+127\.0\.0\.1' <<<"$out"
out=$(dig_q @"$HF_SERVICE4" foo.localhost AAAA)
check "foo.localhost AAAA: ::1" grep -q 'IN	AAAA	::1' <<<"$out"
out=$(dig_q @"$HF_SERVICE4" www.invalid)
check "invalid.: NXDOMAIN" grep -q 'status: NXDOMAIN' <<<"$out"
check "... with the SOA" grep -qE '^invalid\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+SOA' <<<"$out"
check "... and an EDE saying why" grep -q 'EDE: 0 (Other): (special-use domain name' <<<"$out"
out=$(dig_q @"$HF_SERVICE4" facebookcorewwwi.onion)
check "onion.: NXDOMAIN (RFC 7686)" grep -q 'status: NXDOMAIN' <<<"$out"

# Ten clients, one new question: coalesced in the worker, one resolution.
for i in $(seq 10); do dig_q @"$HF_SERVICE4" +short burst.example.test >"$work/burst.$i" & done
wait $(jobs -p | grep -v -e "^$dp_pid\$" -e "^$cp_pid\$") 2>/dev/null
check "ten concurrent clients all answered" \
	bash -c "cat $work/burst.* | grep -c 192.0.2.1 | grep -qx 10"

# --- DNS over TCP on the control plane's own address ----------------------------
out=$(dig +tcp +tries=1 +time=2 @$tcp_addr TcP.Example.test)
check "TCP: answered, question case kept" grep -q '^TcP.Example.test.	300	IN	A	192.0.2.1' <<<"$out"
check "TCP: OPT in the answer (the client sent EDNS)" grep -q 'EDNS: version: 0' <<<"$out"
out=$(dig +tcp +tries=1 +time=2 +noedns @$tcp_addr sf.example.test)
check "TCP without EDNS: SERVFAIL, no OPT" \
	bash -c "grep -q 'status: SERVFAIL' <<<'$out' && ! grep -q 'OPT PSEUDOSECTION' <<<'$out'"
out=$(dig +tcp +tries=1 +time=2 @$tcp_addr localhost AAAA)
check "TCP: localhost AAAA ::1" grep -q 'IN	AAAA	::1' <<<"$out"
out=$(dig +tcp +tries=1 +time=2 +keepopen @$tcp_addr a.example.test b.example.test c.invalid)
check "TCP: three queries on one connection" test "$(grep -c 'status:' <<<"$out")" = 3
out=$(python3 - "$tcp_addr" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 53), timeout=2)
s.sendall(bytes.fromhex("0011" "abcd01000001000000000000" "0377777703"))  # name runs out
print(s.recv(4096)[2:6].hex())
s.sendall(b"\x00\x00")                       # a zero-length frame: closed
print("closed" if s.recv(10) == b"" else "open")
PY
)
check "TCP: malformed query gets FORMERR with its ID" grep -q '^abcd8181' <<<"$out"
check "TCP: bad framing closes the connection" grep -q '^closed' <<<"$out"

# --- the metrics endpoint (control.metrics-listen) --------------------------------
# Rendered once a second: wait for a text that counts the queries above.
metrics() { curl -s --max-time 5 "http://$tcp_addr:$metrics_port${1:-/metrics}"; }
metrics_ready() {
	for _ in $(seq 30); do
		metrics | grep -qE '^holdfast_dataplane_dns_queries [1-9]' && return 0
		sleep 0.2
	done
	return 1
}
check "metrics: served, with the dataplane's query count" metrics_ready
out=$(metrics)
check "metrics: the dataplane is attached" grep -qx 'holdfast_dataplane_attached 1' <<<"$out"
check "metrics: the link's misses" grep -qE '^holdfast_link_misses [1-9][0-9]*$' <<<"$out"
check "metrics: per worker, labelled" \
	grep -qE '^holdfast_dataplane_worker_dns_queries\{worker="0"\} [1-9][0-9]*$' <<<"$out"
check "metrics: every line a sample" bash -c '! grep -vqE "^[a-z_][a-z0-9_]*(\{[a-z]+=\"[0-9]+\"\})? -?[0-9.e+]+$"' <<<"$out"
check "metrics: other paths 404" test "$(curl -s -o /dev/null -w '%{http_code}' "http://$tcp_addr:$metrics_port/")" = 404

# --- control plane restarts under load ------------------------------------------
dig_q @"$HF_SERVICE4" +short cached.example.test >/dev/null
load() {  # load NAME COUNT: one new question every 50 ms
	for i in $(seq "$2"); do
		echo "$i $(dig_q @"$HF_SERVICE4" +short "q$i.$1.example.test" | head -1)"
		sleep 0.05
	done >"$work/load.$1"
}
for sig in TERM KILL; do
	load "$sig" 60 &
	load_pid=$!
	sleep 1
	stop_cp "$sig"
	[[ $sig == TERM ]] && check "SIGTERM: control plane exits 0" test "$cp_status" = 0
	[[ $sig == TERM ]] && check "... and logs its counters" grep -q 'misses [1-9]' "$cp_log"
	# Two tries: in about one run in six, one UDP exchange of this check
	# was lost on the veth while the load ran (not reproduced in
	# isolation, 0 of 15 restarts; see the report).
	out=$(dig_q +tries=2 +time=1 @"$HF_SERVICE4" cached.example.test)
	check "control down ($sig): cache hits still answered" answers_a "$out"
	start_cp "$work/cp.$sig.log"
	check "restarted after SIG$sig: attaches at once (claim released or taken over)" \
		wait_for "$cp_log" 'attached to /holdfast' 1 20
	wait "$load_pid"
	check "misses keep being answered after the restart ($sig)" \
		bash -c "tail -15 $work/load.$sig | grep -c 192.0.2.1 | grep -qx 15"
	tail -15 "$work/load.$sig" | grep -qv 192.0.2.1 &&
		{ tr '\n' ' ' <"$work/load.$sig" | sed 's/^/# /' >&2; echo >&2; tail "$cp_log" >&2; }
done

# --- the dataplane restarts: the control plane re-attaches -------------------------
stop_dp
check "dataplane stopped: control notices the retired region" \
	wait_for "$cp_log" 'was retired' 1 30
check "dataplane restarts" start_dp
check "control re-attaches to the new region" wait_for "$cp_log" 'attached to /holdfast' 2 50
sleep 0.3
out=$(dig_q @"$HF_SERVICE4" after-restart.example.test)
check "misses answered through the new region" answers_a "$out"
check "control plane still the same process" kill -0 "$cp_pid"

# --- privilege drop and the region ownership rule ----------------------------------
if id nobody >/dev/null 2>&1; then
	stop_cp
	write_config nobody
	start_cp "$work/cp.nobody.log"
	check "user nobody: the root-owned region is refused, with the rule" \
		wait_for "$cp_log" 'both processes must run as instance.user'
	check "... TCP was bound before the drop" \
		bash -c "dig +tcp +short +tries=1 +time=2 @$tcp_addr localhost | grep -q 127.0.0.1"
	check "... the process runs as nobody" \
		test "$(ps -o user= -p "$cp_pid" | tr -d ' ')" = nobody
	# What the dataplane will do under the rule: the region belongs to instance.user.
	chown nobody "/dev/shm/holdfast.$inst"
	check "region owned by instance.user: attached" wait_for "$cp_log" 'attached to /holdfast' 1 20
	sleep 0.3
	out=$(dig_q @"$HF_SERVICE4" as-nobody.example.test)
	check "... and misses answered" answers_a "$out"
	stop_cp
	check "... exits 0" test "$cp_status" = 0
	chown root "/dev/shm/holdfast.$inst"
	write_config
fi

# --- the real resolver against the lab, when both are there ----------------------
real_bin=$build/control/holdfast-control
hints=${HF_LAB_ROOT_HINTS:-/tmp/holdfast-lab/root.hints}
if [[ -x $real_bin && -r $hints ]] && dig +tries=1 +time=1 @127.53.0.1 . SOA 2>/dev/null | grep -q "status: NOERROR"; then
	stop_cp
	write_config "" "$hints"
	cp_bin=$real_bin start_cp "$work/cp.real.log"
	check "real resolver: attaches" wait_for "$cp_log" 'attached to /holdfast'
	sleep 0.3
	# One zone only (a.test.): other tests break lab zones (de. above all)
	# while they run, and this test must not depend on them.
	out=$(dig_q +time=4 @"$HF_SERVICE4" HoSt.a.test)
	check "real resolver: answer from the lab through the dataplane" \
		has -E '^HoSt\.a\.test\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]+192\.0\.2\.1'
	out=$(dig +tcp +tries=1 +time=4 @$tcp_addr nope.b.example)
	check "real resolver: NXDOMAIN over TCP" has 'status: NXDOMAIN'
	# DNSSEC through the dataplane: AD and RRSIGs for DO, a separate cache entry per variant.
	out=$(dig_q +time=4 +dnssec @"$HF_SERVICE4" host.a.test)
	check "real resolver: DO query validated: AD set" has -E 'flags: qr rd ra ad;'
	check "real resolver: DO query gets the RRSIG" has -E 'IN[[:space:]]+RRSIG[[:space:]]+A '
	out=$(dig_q +time=4 +noadflag @"$HF_SERVICE4" host.a.test)
	check "real resolver: plain query (no DO, no AD): no AD, no RRSIG" bash -c '! grep -qE "flags: .* ad;|RRSIG" <<<"$0"' "$out"
	out=$(dig_q +time=4 +adflag @"$HF_SERVICE4" host.a.test)
	check "real resolver: AD=1 query (RFC 6840 5.7): AD, no RRSIG" bash -c 'grep -qE "flags: qr rd ra ad;" <<<"$0" && ! grep -q RRSIG <<<"$0"' "$out"
	stop_cp
	check "real resolver: exits 0" test "$cp_status" = 0
else
	echo "# skip: the real resolver against the lab (needs $real_bin and scripts/lab start)"
fi

stop_dp
echo "control: $passed passed, $failed failed"
((failed == 0))
