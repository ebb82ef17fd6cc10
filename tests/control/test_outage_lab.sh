#!/usr/bin/env bash
# The May 2026 .de outage, replayed on the lab through both real processes:
#
#   warm the cache -> break de.'s signatures -> once the TTLs have passed, cached names
#   are answered stale (EDE 3, same data) and uncached ones SERVFAIL with EDE 6 naming the
#   key tag -> `holdfastctl nta add de.` -> every name under de. resolves without AD (EDE
#   33) within a second -> restore the zone -> `holdfastctl nta remove de.` -> AD again.
#
# Plus: a stale NXDOMAIN (EDE 19), a zone that opted out of stale-on-bogus, the NTA
# recheck ending an NTA once the zone validates again, NTA expiry, NTAs surviving a control-plane restart,
# holdfastctl's --json output and exit codes.
#
#   test_outage_lab.sh BUILD_DIR
#
# Needs root (namespaces, port 53) and the lab (scripts/lab start); exits 77 without
# them. It restarts the lab with 4-second TTLs (so that "after the TTLs pass" is short)
# and restarts it with the default TTL at the end.
set -uo pipefail

build=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
dp_bin=$build/dataplane/holdfast-dataplane
cp_bin=$build/control/holdfast-control
ctl_bin=$build/control/holdfastctl
LAB="$root/scripts/lab"
LAB_DIR=${HF_LAB_DIR:-/tmp/holdfast-lab}
TTL=4

if [[ $(id -u) != 0 ]] || ! command -v dig >/dev/null; then
	echo "skip: needs root and dig"
	exit 77
fi
if ! "$LAB" status >/dev/null 2>&1; then
	echo "skip: the lab is not running (scripts/lab start)"
	exit 77
fi

ns=hf-out-$$
work=$(mktemp -d)
chmod 755 "$work"
dp_pid= cp_pid=
# shellcheck source=tests/lib/check.sh
source "$(dirname "$0")/../lib/check.sh"
# shellcheck source=tests/lib/dataplane.sh
source "$(dirname "$0")/../lib/dataplane.sh"
show_out() { sed 's/^/#   /' <<<"$out" >&2; }
has() { grep -Eq -- "$1" <<<"$out" || { show_out; false; }; }
hasnt() { ! grep -Eq -- "$1" <<<"$out" || { show_out; false; }; }
cleanup() {
	[[ -n $cp_pid ]] && kill "$cp_pid" 2>/dev/null && wait "$cp_pid" 2>/dev/null
	[[ -n $dp_pid ]] && kill "$dp_pid" 2>/dev/null && wait "$dp_pid" 2>/dev/null
	HF_NETNS_DP_IF=hodp$$ HF_NETNS_CLIENT_IF=hocl$$ "$root/scripts/netns" down "$ns" >/dev/null 2>&1
	"$LAB" stop >/dev/null 2>&1
	"$LAB" start >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

"$LAB" stop >/dev/null 2>&1
if ! HF_LAB_TTL=$TTL "$LAB" start >/dev/null 2>&1; then
	echo "not ok - the lab restarts with ${TTL}s TTLs"
	exit 1
fi
eval "$(HF_NETNS_DP_IF=hodp$$ HF_NETNS_CLIENT_IF=hocl$$ "$root/scripts/netns" up "$ns")"

cat >"$work/holdfast.yaml" <<EOY
instance:
  name: out$$
  state-dir: $work/state
$(dataplane_yaml "hf-o$$" "net_af_packet0,iface=hodp$$")
cache:
  size: 64M
  resolution-timeout: 3s
control:
  root-hints: $LAB_DIR/root.hints
  trust-anchors: $LAB_DIR/root.key
  allow-loopback-upstreams: true
  special-use-names: [localhost., invalid., onion.]
  control-socket: $work/ctl.sock
  nta-recheck: 1s
  nta-recheck-ends: true
serve-stale:
  enabled: true
  client-timeout: 1800ms
  failure-recheck: 30s
  stale-ttl: 30s
  no-stale-on-bogus: [c.de.]
EOY

wait_for() {  # wait_for FILE PATTERN: up to 5 s
	for _ in $(seq 50); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
cp_starts=0
start_cp() {  # each start logs to its own file, so waiting sees this start's lines
	cp_starts=$((cp_starts + 1))
	"$cp_bin" -c "$work/holdfast.yaml" -v info >"$work/cp.$cp_starts.log" 2>&1 &
	cp_pid=$!
	wait_for "$work/cp.$cp_starts.log" 'attached to /holdfast'
}
q() { ip netns exec "$ns" dig +tries=1 +time=4 +dnssec @"$HF_SERVICE4" "$@" 2>&1; }
ctl() { "$ctl_bin" -s "$work/ctl.sock" "$@"; }

"$dp_bin" -c "$work/holdfast.yaml" >"$work/dp.log" 2>&1 &
dp_pid=$!
check "dataplane starts" wait_for "$work/dp.log" 'running:'
check "control plane attaches" start_cp

# --- a healthy lab: warm the cache ---------------------------------------------------
out=$(q nic.de A)
check "warm: nic.de A validated (AD)" has 'flags: qr rd ra ad;'
out=$(q host.c.de A)
check "warm: host.c.de A validated (AD)" has 'flags: qr rd ra ad;'
out=$(q nx.de A)
check "warm: nx.de NXDOMAIN" has 'status: NXDOMAIN'
out=$(ctl status --json)
check "holdfastctl status --json: the dataplane is attached" has '"dataplane": *"attached"'

# --- the outage ----------------------------------------------------------------------
check "the lab breaks de.'s signatures (bogus-rrsig)" "$LAB" break bogus-rrsig de.
sleep $((TTL + 1))
out=$(q nic.de A)
check "after the TTL: nic.de is answered stale, same data" has 'IN[[:space:]]+A[[:space:]]+192\.0\.2\.30'
check "... with EDE 3 (Stale Answer)" has 'EDE: 3'
check "... and the EDE 6 of the refresh that failed" has 'EDE: 6'
check "... with the stale TTL (30)" has 'nic\.de\.[[:space:]]+30[[:space:]]+IN[[:space:]]+A'
out=$(q host.c.de A)
check "host.c.de (serve-stale.no-stale-on-bogus: [c.de.]): SERVFAIL, not stale" has 'status: SERVFAIL'
check "... with EDE 6, no EDE 3" bash -c 'grep -q "EDE: 6" <<<"$0" && ! grep -q "EDE: 3 " <<<"$0"' "$out"
out=$(q nx.de A)
check "nx.de: a stale NXDOMAIN, EDE 19" has 'status: NXDOMAIN'
check "... EDE 19 (Stale NXDOMAIN Answer)" has 'EDE: 19'
out=$(q nic.de TXT)
check "an uncached name: SERVFAIL" has 'status: SERVFAIL'
check "... EDE 6 naming the ZSK's key tag" has "EDE: 6 \(DNSSEC Bogus\): \(RRSIG with malformed signature found for nic\.de/txt \(keytag=$(. "$LAB_DIR/lab.env"; echo "$HF_LAB_ZSK_de")\)"

# --- the operator's NTA ----------------------------------------------------------------
out=$(ctl nta add de. --lifetime 1h --reason "de. signatures broken" 2>&1)
check "holdfastctl nta add de. succeeds" has 'negative trust anchor de\. added'
start_ns=$(date +%s%N)
out=$(q nic.de TXT)
ms=$((($(date +%s%N) - start_ns) / 1000000))
check "nic.de TXT resolves under the NTA: NOERROR, no AD" has 'flags: qr rd ra;'
check "... EDE 33 naming the NTA and its reason" has 'EDE: 33.*negative trust anchor for de\.: de\. signatures broken'
check "... within a second of the command (${ms} ms)" test "$ms" -lt 1000
out=$(q nic.de A)
check "the stale-cached nic.de A was purged: a fresh answer under the NTA (EDE 33, no EDE 3)" \
	bash -c 'grep -q "EDE: 33" <<<"$0" && ! grep -q "EDE: 3 " <<<"$0"' "$out"
out=$(q host.c.de A)
check "host.c.de (below de.) resolves without AD" has 'flags: qr rd ra;'
out=$(q host.a.test A)
check "other zones keep AD" has 'flags: qr rd ra ad;'
out=$(ctl nta list --json)
check "nta list --json shows the NTA with its reason" has '"zone": *"de\."'
# nta-recheck is 1s here: the recheck probes de., still broken.
rechecked() { for _ in $(seq 50); do ctl nta list --json | grep -q '"recheck": *"fails"' && return 0; sleep 0.1; done; return 1; }
check "the recheck finds de. still failing (nta list --json: recheck fails)" rechecked
out=$(ctl nta list)
check "... and nta list shows it: 'fails Ns ago'" has '^de\. .* fails [0-9]+s ago '

# --- NTAs survive a restart of the control plane -------------------------------------------
kill "$cp_pid"; wait "$cp_pid" 2>/dev/null; cp_pid=
check "control plane restarts" start_cp
out=$(ctl nta list)
check "... the NTA is still listed" has '^de\.'
out=$(q nic.de MX)
check "... and applied (EDE 33)" has 'EDE: 33'

# --- the zone is fixed; the NTA goes --------------------------------------------------------
check "the lab restores de." "$LAB" restore
nta_gone() { ! ctl nta list | grep -q '^de\.'; }
wait_gone() { for _ in $(seq 100); do nta_gone && return 0; sleep 0.1; done; return 1; }
check "the recheck sees de. validate again and ends the NTA (nta-recheck-ends)" wait_gone
check "... audited as nta.recheck-end" grep -q '"nta.recheck-end"' "$work/state/audit.log"
out=$(q nic.de A)
check "nic.de validated again (AD)" has 'flags: qr rd ra ad;'
out=$(ctl nta remove de. 2>&1); rc=$?
check "removing it twice: exit status 1" test "$rc" = 1
check "... with a message naming the zone" has 'de\.'

# --- an NTA expires on its own ----------------------------------------------------------------
"$LAB" break bogus-rrsig de. >/dev/null 2>&1
out=$(ctl nta add de. --lifetime 2s --reason short 2>&1)
check "a 2-second NTA" has 'added'
out=$(q nic.de AAAA)
check "... applies" has 'EDE: 33'
sleep 3
out=$(q nic.de CAA)
check "... and once expired, de. is bogus again (EDE 6)" has 'EDE: 6'
"$LAB" restore >/dev/null 2>&1

# --- override rules (Hyperscan for regexes), applied by the dataplane before its cache -----
# until N CMD...: retry a check for up to N tenths of a second (a rule set is published
# to the dataplane right after the command returns, and applied within milliseconds).
until_ok() {
	local n=$1; shift
	for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	"$@"
}
q_has() { out=$(q "$1" "$2"); grep -Eq -- "$3" <<<"$out"; }
q_hasnt() { out=$(q "$1" "$2"); ! grep -Eq -- "$3" <<<"$out"; }
out=$(ctl override add ads.a.test. nxdomain --reason "ads policy" 2>&1)
check "override add (exact, nxdomain)" has 'rule [0-9]+'
check "... ads.a.test answers NXDOMAIN" until_ok 20 q_has ads.a.test A 'status: NXDOMAIN'
out=$(q ads.a.test A)
check "... with EDE 15 (Blocked) and the rule's reason" has 'EDE: 15 \(Blocked\): \(ads policy\)'
out=$(ctl override add '*.blocked.test.' refuse --ede 17 2>&1)
check "override add (subtree, refuse, EDE 17)" has 'rule [0-9]+'
check "... x.y.blocked.test REFUSED" until_ok 20 q_has x.y.blocked.test A 'status: REFUSED'
out=$(q x.y.blocked.test A)
check "... with EDE 17 (Filtered)" has 'EDE: 17'
out=$(ctl override add '/^tracker[0-9]+\.a\.test\.$/' servfail --reason trackers 2>&1)
check "override add (regex, servfail)" has 'rule [0-9]+'
check "... tracker42.a.test SERVFAIL" until_ok 20 q_has tracker42.a.test A 'status: SERVFAIL'
out=$(q trackerx.a.test A)
check "... the regex does not match trackerx.a.test" hasnt 'status: SERVFAIL'
out=$(ctl override add portal.a.test. answer "A 192.0.2.99" "AAAA 2001:db8::99" 2>&1)
check "override add (answer with records)" has 'rule [0-9]+'
check "... portal.a.test A 192.0.2.99" until_ok 20 q_has portal.a.test A 'IN[[:space:]]+A[[:space:]]+192\.0\.2\.99'
out=$(q portal.a.test AAAA)
check "... and AAAA 2001:db8::99" has 'IN[[:space:]]+AAAA[[:space:]]+2001:db8::99'
out=$(ctl override add nodata.a.test. nodata 2>&1)
check "... nodata.a.test: no records" until_ok 20 q_has nodata.a.test A 'ANSWER: 0,'
check "... NOERROR" has 'status: NOERROR'
out=$(ctl override add quiet.a.test. drop 2>&1)
check "... quiet.a.test dropped (no answer)" until_ok 20 q_has quiet.a.test A 'timed out|no servers could be reached'
out=$(ctl override add '/foo(/' nxdomain 2>&1); rc=$?
check "an invalid regex is refused: exit 1" test "$rc" = 1
check "... with Hyperscan's message" has 'Missing close parenthesis'
check "override list --json counts hits (collected every second)" \
	until_ok 30 bash -c '"$0" -s "$1" override list --json | grep -Eq "\"hits\": *[1-9]"' "$ctl_bin" "$work/ctl.sock"
id=$(ctl override list --json | grep -oE '"id": *[0-9]+' | head -1 | grep -oE '[0-9]+')
out=$(ctl override remove "$id" 2>&1)
check "override remove" has 'removed'
check "... ads.a.test resolves normally again (no EDE 15)" until_ok 20 q_hasnt ads.a.test A 'EDE: 15'

out=$(ctl stats --json)
check "holdfastctl stats --json: the dataplane's stale answers counted" has '"stale_answers": *[1-9]'
check "... and its override hits" has '"override_hits": *[1-9]'
check "audit log records the changes" grep -q '"nta.add"' "$work/state/audit.log"

echo "outage: $passed passed, $failed failed"
((failed == 0))
