#!/usr/bin/env bash
# Integration: the real holdfast-dataplane on a veth pair, clients in a network
# namespace (198.18.0.0/15), the control plane played by hf-test-peer.
#
#   test_dataplane.sh BUILD_DIR [DRIVER...]      drivers: af_packet af_xdp (default both)
#
# Needs root (namespaces, AF_XDP); exits 77 (skipped) without it.
set -uo pipefail

build=$(realpath "$1"); shift
drivers=("$@")
((${#drivers[@]})) || drivers=(af_packet af_xdp)
root=$(cd "$(dirname "$0")/../.." && pwd)
dp_bin=$build/dataplane/holdfast-dataplane
peer_bin=$build/tests/peer/hf-test-peer

if [[ $(id -u) != 0 ]] || ! command -v ip >/dev/null; then
	echo "skip: needs root and iproute2"
	exit 77
fi

ns=hf-test-$$
work=$(mktemp -d)
dp_pid= peer_pid=
# shellcheck source=tests/lib/check.sh
source "$(dirname "$0")/../lib/check.sh"
# shellcheck source=tests/lib/dataplane.sh
source "$(dirname "$0")/../lib/dataplane.sh"
quiet() { "$@" >/dev/null 2>&1; }
stop_peer() { [[ -n $peer_pid ]] && kill "$peer_pid" 2>/dev/null && wait "$peer_pid" 2>/dev/null; peer_pid=; }
stop_dp() { [[ -n $dp_pid ]] && kill "$dp_pid" 2>/dev/null && wait "$dp_pid" 2>/dev/null; dp_pid=; }
cleanup() {
	stop_peer
	stop_dp
	HF_NETNS_DP_IF=hfdp$$ HF_NETNS_CLIENT_IF=hfcl$$ "$root/scripts/netns" down "$ns" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

start_dp() {  # start_dp DRIVER
	local vdev
	case $1 in
	af_packet) vdev="net_af_packet0,iface=$dp_if" ;;
	af_xdp) vdev="net_af_xdp0,iface=$dp_if,start_queue=0,queue_count=1" ;;
	esac
	cat >"$work/holdfast.yaml" <<EOY
instance:
  name: t$$
$(dataplane_yaml "hf-t$$" "$vdev")
cache:
  size: 64M
  resolution-timeout: 1s
  max-waiters: 16   # the coalescing check sends ten at once
EOY
	"$dp_bin" -c "$work/holdfast.yaml" >"$work/dp.log" 2>&1 &
	dp_pid=$!
	for _ in $(seq 100); do
		grep -q 'running:' "$work/dp.log" && return 0
		kill -0 "$dp_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$work/dp.log" >&2
	return 1
}

start_peer() {
	"$peer_bin" --instance "t$$" --seconds 300 >"$work/peer.log" 2>&1 &
	peer_pid=$!
	for _ in $(seq 50); do
		grep -q attached "$work/peer.log" && { sleep 0.3; return 0; }
		sleep 0.1
	done
	return 1
}

dig_q() { in_ns dig +tries=1 +time=3 "$@"; }

# Sends raw octets (hex) over UDP to the service address; prints the reply in hex.
raw_udp() {
	in_ns python3 - "$HF_SERVICE4" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.5)
s.sendto(bytes.fromhex(sys.argv[2]), (sys.argv[1], 53))
try:
    print(s.recv(4096).hex())
except socket.timeout:
    print("timeout")
PY
}

run_driver() {
	local drv=$1
	echo "# driver $drv"
	dp_if=hfdp$$
	eval "$(HF_NETNS_DP_IF=$dp_if HF_NETNS_CLIENT_IF=hfcl$$ "$root/scripts/netns" up "$ns")"
	if ! start_dp "$drv"; then
		not_ok "$drv: dataplane starts"
		return
	fi
	ok "$drv: dataplane starts"

	out=$(dig_q @"$HF_SERVICE4" www.example.test)
	check "$drv: miss without a control plane: SERVFAIL, EDE 14" \
		grep -q 'status: SERVFAIL.*' <<<"$out"
	check "$drv: ... the EDE says why" grep -q 'EDE: 14 (Not Ready): (control plane not running)' <<<"$out"

	check "$drv: the test peer attaches" start_peer
	out=$(dig_q @"$HF_SERVICE4" WwW.ExAmPlE.test)
	check "$drv: A answered, question case kept" grep -q '^WwW.ExAmPlE.test.	300	IN	A	192.0.2.1' <<<"$out"
	check "$drv: RA set, AA not" grep -q 'flags: qr rd ra;' <<<"$out"
	mac=$(cat "/sys/class/net/$dp_if/address")
	check "$drv: ARP answered with the port's MAC" \
		bash -c "ip netns exec $ns ip neigh show $HF_SERVICE4 | grep -qi '$mac'"
	check "$drv: ping" quiet in_ns ping -q -c 2 -i 0.2 -W 1 "$HF_SERVICE4"
	check "$drv: ping over IPv6 (ND answered)" quiet in_ns ping -q -6 -c 2 -i 0.2 -W 1 "$HF_SERVICE6"
	out=$(dig_q -6 @"$HF_SERVICE6" www.example.test AAAA)
	check "$drv: AAAA over IPv6" grep -q 'IN	AAAA	2001:db8::1' <<<"$out"
	out=$(dig_q @"$HF_SERVICE4" www.example.test)
	check "$drv: second query is a cache hit" grep -q 'IN	A	192.0.2.1' <<<"$out"
	out=$(dig_q @"$HF_SERVICE4" nx.example.test)
	check "$drv: NXDOMAIN with SOA" grep -q 'status: NXDOMAIN' <<<"$out"
	out=$(dig_q @"$HF_SERVICE4" nodata.example.test)
	check "$drv: NODATA" grep -qE 'status: NOERROR.*' <<<"$out"
	out=$(dig_q +ignore @"$HF_SERVICE4" big.example.test TXT)
	check "$drv: answer over 1232 octets is truncated" grep -q 'flags: qr tc rd ra' <<<"$out"
	out=$(dig_q +ignore +noedns @"$HF_SERVICE4" big.example.test TXT)
	check "$drv: ... and without EDNS too" grep -q 'flags: qr tc rd ra' <<<"$out"
	out=$(dig_q @"$HF_SERVICE4" sf.example.test)
	check "$drv: SERVFAIL passes the control plane's EDE 22" \
		grep -q 'EDE: 22 (No Reachable Authority): (test peer: no server answered)' <<<"$out"
	out=$(dig_q @"$HF_SERVICE4" drop.example.test)
	check "$drv: no fill within the timeout: SERVFAIL, EDE 0 says so" \
		grep -q 'no answer from the control plane within 1000 ms' <<<"$out"
	out=$(dig_q +opcode=notify @"$HF_SERVICE4" www.example.test)
	check "$drv: NOTIFY: NOTIMP" grep -q 'status: NOTIMP' <<<"$out"
	out=$(dig_q +edns=1 +noednsneg @"$HF_SERVICE4" www.example.test)
	check "$drv: EDNS version 1: BADVERS" grep -q 'status: BADVERS' <<<"$out"
	out=$(dig_q @"$HF_SERVICE4" www.example.test CH)
	check "$drv: class CH: REFUSED" grep -q 'status: REFUSED' <<<"$out"
	out=$(raw_udp "abcd0100000100000000000003777777")
	check "$drv: malformed query: FORMERR with its ID" grep -q '^abcd8181' <<<"$out"
	out=$(raw_udp "abcd8100000100000000000003777777076578616d706c650474657374000000010001")
	check "$drv: a response (QR=1) is never answered" grep -q '^timeout' <<<"$out"

	# Coalescing: ten clients ask the same new question at once.
	for i in $(seq 10); do dig_q +tries=2 @"$HF_SERVICE4" +short burst.example.test >"$work/burst.$i" & done
	wait $(jobs -p | grep -v -e "^$dp_pid\$" -e "^$peer_pid\$") 2>/dev/null
	check "$drv: ten concurrent clients all answered" \
		bash -c "cat $work/burst.* | grep -c 192.0.2.1 | grep -qx 10"

	stop_peer
	sleep 2.5  # the heartbeat goes stale after 2 s
	out=$(dig_q @"$HF_SERVICE4" www.example.test)
	check "$drv: control plane gone: cache hits still answered" grep -q 'IN	A	192.0.2.1' <<<"$out"
	out=$(dig_q @"$HF_SERVICE4" new.example.test)
	check "$drv: ... and misses get EDE 14" grep -q 'EDE: 14' <<<"$out"

	stop_dp
	check "$drv: dataplane exits cleanly and removes its region" bash -c "! ls /dev/shm/holdfast.t$$ 2>/dev/null"
	HF_NETNS_DP_IF=$dp_if HF_NETNS_CLIENT_IF=hfcl$$ "$root/scripts/netns" down "$ns"
}

for d in "${drivers[@]}"; do
	run_driver "$d"
done
echo "dataplane: $passed passed, $failed failed"
((failed == 0))
