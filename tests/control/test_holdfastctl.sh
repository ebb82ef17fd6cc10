#!/usr/bin/env bash
# holdfastctl against hf-ctl-test-server (control/ctl/server with recording
# hooks) in a temporary directory: human and --json output, exit codes,
# error messages, persistence across a server restart, the audit log.
#
#   test_holdfastctl.sh HOLDFASTCTL HF-CTL-TEST-SERVER
set -uo pipefail

CTL=$1 SERVER=$2
tmp=$(mktemp -d /tmp/hf-ctl-test.XXXXXX)
sock=$tmp/run/control.sock state=$tmp/state events=$tmp/events
server_pid=
fails=0

cleanup() {
	[[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

start_server() {
	"$SERVER" "$sock" "$state" "$events" 2>"$tmp/server.err" &
	server_pid=$!
	for _ in $(seq 100); do
		[[ -S $sock ]] && return 0
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "server did not start: $(cat "$tmp/server.err")"
	exit 1
}

stop_server() {
	kill "$server_pid" && wait "$server_pid"
	server_pid=
}

# run EXPECTED_RC ARGS...: runs holdfastctl; stdout in $out, stderr in $err.
run() {
	local want=$1
	shift
	out=$("$CTL" -s "$sock" "$@" 2>"$tmp/stderr")
	rc=$?
	err=$(cat "$tmp/stderr")
	if [[ $rc != "$want" ]]; then
		fail "holdfastctl $* exited $rc, expected $want (stdout: $out; stderr: $err)"
		return 1
	fi
	return 0
}

expect_out() { [[ $out == *"$1"* ]] && ok "$2" || fail "$2: stdout lacks '$1': $out"; }
expect_err() { [[ $err == "$1" ]] && ok "$2" || fail "$2: stderr is '$err', expected '$1'"; }
json() { python3 -c "import json,sys; d=json.loads(sys.stdin.read()); print($1)" <<<"$out"; }

# --- cannot connect ----------------------------------------------------------
run 3 status
expect_err "holdfastctl: cannot connect to $sock: No such file or directory" "missing socket is exit 3"
HOLDFAST_CTL_SOCKET=$tmp/nope.sock "$CTL" status 2>"$tmp/stderr"
[[ $? == 3 && $(cat "$tmp/stderr") == *"$tmp/nope.sock"* ]] && ok "HOLDFAST_CTL_SOCKET is used" ||
	fail "HOLDFAST_CTL_SOCKET not used: $(cat "$tmp/stderr")"

start_server
mode=$(stat -c %a "$sock")
[[ $mode == 600 ]] && ok "socket mode 0600" || fail "socket mode $mode"

# --- usage -------------------------------------------------------------------
run 2 && ok "no command is usage"
run 2 frobnicate && expect_err "holdfastctl: unknown command 'frobnicate' (try holdfastctl --help)" "unknown command"
run 2 nta add && expect_err "holdfastctl: nta add: expected one ZONE" "nta add without zone"
run 2 nta add de. --lifetime 6x && [[ $err == *"bad duration '6x'"* ]] && ok "bad duration" || fail "bad duration: $err"
run 2 nta add de. --bogus && [[ $err == *"unknown option '--bogus'"* ]] && ok "unknown option" || fail "unknown option: $err"
run 2 override remove abc && [[ $err == *"'abc' is not a rule id"* ]] && ok "bad rule id" || fail "bad id: $err"
run 0 --help && expect_out "nta add ZONE" "--help"

# --- NTAs --------------------------------------------------------------------
run 0 nta list && expect_out "no negative trust anchors" "empty nta list"
run 1 nta add de. --lifetime 2w --reason "broken rollover"
expect_err "holdfastctl: nta add: lifetime 2w exceeds the maximum of 1w" "lifetime over the maximum"
run 1 nta add "bad..name" && [[ $err == "holdfastctl: nta add: 'bad..name' is not a domain name"* ]] &&
	ok "bad zone refused" || fail "bad zone: $err"
run 0 nta add DE. --lifetime 6h --reason "broken KSK rollover" &&
	expect_out "negative trust anchor de. added" "nta add"
expect_out "(in 6h)" "nta add shows lifetime"
run 0 nta add example.com. && expect_out "(in 1h)" "default lifetime 1h"
run 0 nta add example.com. --lifetime 2h --reason again && expect_out "updated" "re-adding updates"
run 0 --json nta list
[[ $(json 'len(d["ntas"])') == 2 && $(json 'd["ntas"][0]["zone"]') == "example.com." ]] &&
	ok "nta list --json" || fail "nta list --json: $out"
# The lifetime is exact; "remaining" is counted from the response's own "now" (the
# add and the list may fall in different seconds).
[[ $(json 'd["ntas"][1]["reason"]') == "broken KSK rollover" &&
   $(json 'd["ntas"][1]["expires"] - d["ntas"][1]["added"]') == 21600 &&
   $(json 'd["ntas"][1]["remaining"] == d["ntas"][1]["expires"] - d["now"]') == True ]] &&
	ok "nta reason and remaining" || fail "nta fields: $out"
run 0 nta list && expect_out "broken KSK rollover" "nta list human"
expect_out "ZONE" "nta list header"
grep -q "nta_changed de. added" "$events" && ok "nta_changed hook on add" || fail "no nta_changed hook"
run 1 nta remove nosuch.example. && expect_err "holdfastctl: nta remove: no negative trust anchor for nosuch.example." "remove unknown"
run 0 nta remove example.com. && expect_out "negative trust anchor example.com. removed" "nta remove"
grep -q "nta_changed example.com. removed" "$events" && ok "nta_changed hook on remove" || fail "no remove hook"

# --- overrides ---------------------------------------------------------------
run 0 override list && expect_out "no override rules" "empty override list"
run 0 override add "*.ads.example." nxdomain --reason "ad network" && expect_out "rule 1 added: *.ads.example. nxdomain" "override add subtree"
run 0 --json override add www.example.net. answer "A 192.0.2.1" "AAAA 2001:db8::1" --type A --ttl 5m
[[ $(json 'd["rule"]["id"]') == 2 && $(json 'd["rule"]["data"]') == "['A 192.0.2.1', 'AAAA 2001:db8::1']" &&
   $(json 'd["rule"]["ttl"]') == 300 && $(json 'd["rule"]["ede"]') == None ]] &&
	ok "override answer --json" || fail "override answer: $out"
run 0 override add "/^track[0-9]+\\./" refuse --ede 17 --lifetime 1d && expect_out "rule 3 added" "override regex"
run 1 override add "/((/" drop
expect_err "holdfastctl: override add: regex /((/: Missing close parenthesis for group started at index 0." "validator message reaches the operator"
run 1 override add x.example. answer "A 300.1.2.3"
expect_err "holdfastctl: override add: data: 'A 300.1.2.3': A: bad IPv4 address '300.1.2.3'" "bad A record"
run 1 override add x.example. answer "CNAME a.example.; A 192.0.2.1" && [[ $err == *"CNAME must be the only record"* ]] &&
	ok "CNAME alone" || fail "CNAME alone: $err"
run 1 override add x.example. block && [[ $err == *"unknown action 'block'"* ]] && ok "unknown action" || fail "action: $err"
run 1 override add x.example. nxdomain "A 192.0.2.1" && [[ $err == *"only action answer takes records"* ]] &&
	ok "data only for answer" || fail "data: $err"
run 1 override add x.example. answer "TXT \"unterminated" && [[ $err == *"missing closing quote"* ]] &&
	ok "bad TXT" || fail "TXT: $err"
run 0 override add t.example. answer 'TXT "hello world" x' 'MX 10 Mail.Example.' 'PTR h.example.' && ok "TXT MX PTR"
run 0 override list
expect_out "*.ads.example." "override list shows pattern"
expect_out "nxdomain (EDE 15)" "override list shows EDE"
expect_out 'TXT "hello world" "x", MX 10 mail.example., PTR h.example.' "records normalised"
run 1 override remove 99 && expect_err "holdfastctl: override remove: no rule with id 99" "remove unknown rule"
run 0 override remove 1 && expect_out "rule 1 (*.ads.example.) removed" "override remove"
grep -q "overrides_changed" "$events" && ok "overrides_changed hook" || fail "no overrides hook"

# --- cache, stats, status ------------------------------------------------------
run 0 cache flush && expect_out "flushed 42 cache entries" "cache flush all"
run 0 cache flush Example.COM --subtree && expect_out "for Example.COM and below" "cache flush subtree"
grep -q "cache_flush example.com. subtree" "$events" && ok "cache_flush hook" || fail "no flush hook"
run 1 cache flush fail.example. && expect_err "holdfastctl: cache flush: the dataplane is not attached" "flush refused"
run 2 cache flush --subtree && ok "subtree without name is usage"
run 0 stats && expect_out "queries" "stats human"
run 0 --json status
[[ $(json 'd["status"]["dataplane"]["attached"]') == True && $(json 'd["status"]["ntas"]') == 1 ]] &&
	ok "status --json" || fail "status: $out"
run 0 status && expect_out "dataplane.attached" "status human flattened"

# --- raw protocol errors -------------------------------------------------------
raw() { python3 - "$sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode() + b"\n")
print(s.makefile().readline().strip())
PY
}
[[ $(raw 'not json') == *'"ok":false'*'not valid JSON'* ]] && ok "garbage request" || fail "garbage: $(raw 'not json')"
[[ $(raw '{"cmd":"nta.add","zone":"x.","lifetime":"6h"}') == *'\"lifetime\" must be an integer'* ]] &&
	ok "mistyped argument" || fail "mistyped: $(raw '{"cmd":"nta.add","zone":"x.","lifetime":"6h"}')"
[[ $(raw '{"cmd":"nta.list","zonez":1}') == *'unknown argument \"zonez\"'* ]] && ok "unknown argument" || fail "unknown arg"
big=$(python3 -c 'print("x" * 70000)')
[[ $(raw "$big") == *'request longer than 65536 bytes'* ]] && ok "oversized request" || fail "oversized"

# --- persistence across a restart ------------------------------------------------
stop_server
[[ ! -e $sock ]] && ok "socket removed at stop" || fail "socket left behind"
[[ -f $state/ntas.json && -f $state/overrides.json ]] && ok "state files written" || fail "no state files"
[[ $(stat -c %a "$state/ntas.json") == 600 ]] && ok "state file mode 0600" || fail "state mode"
start_server
run 0 --json nta list
[[ $(json 'd["ntas"][0]["zone"]') == "de." && $(json 'd["ntas"][0]["reason"]') == "broken KSK rollover" ]] &&
	ok "NTAs survive a restart" || fail "NTAs lost: $out"
run 0 --json override list
[[ $(json '[r["id"] for r in d["rules"]]') == "[2, 3, 4]" ]] && ok "rules survive a restart" || fail "rules lost: $out"
run 0 override add new.example. drop && expect_out "rule 5 added" "ids not reused after restart"

# --- stale socket and corrupt state --------------------------------------------------
kill -9 "$server_pid"; wait "$server_pid" 2>/dev/null; server_pid=
[[ -S $sock ]] && start_server && ok "stale socket replaced" || fail "stale socket"
stop_server
echo '{"version":1,"ntas":[{"zone":"a..b","added":1,"expires":2}]}' >"$state/ntas.json"
"$SERVER" "$sock" "$state" "$events" 2>"$tmp/server.err"
rc=$?
[[ $rc == 78 && $(cat "$tmp/server.err") == *"$state/ntas.json: ntas[0].zone: "* ]] &&
	ok "corrupt ntas.json named" || fail "corrupt state: rc $rc, $(cat "$tmp/server.err")"
echo '{"version":1,' >"$state/ntas.json"
"$SERVER" "$sock" "$state" "$events" 2>"$tmp/server.err"
[[ $? == 78 && $(cat "$tmp/server.err") == *"ntas.json: not valid JSON"* ]] && ok "truncated ntas.json named" ||
	fail "truncated: $(cat "$tmp/server.err")"

# --- audit log ---------------------------------------------------------------------------
audit=$state/audit.log
python3 - "$audit" "$(id -u)" <<'PY' && ok "audit log lines" || fail "audit log: $(head -c 2000 "$audit")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
uid = int(sys.argv[2])
add = [l for l in lines if l["cmd"] == "nta.add" and l["args"].get("zone") == "DE."]
assert add and add[0]["result"] == "ok" and add[0]["reason"] == "broken KSK rollover", add
assert add[0]["uid"] == uid and add[0]["pid"] > 0 and add[0]["time"].endswith("Z")
assert add[0]["args"]["lifetime"] == 21600
refused = [l for l in lines if l["cmd"] == "nta.add" and l["result"].startswith("nta add: lifetime 2w")]
assert refused, "refused change not audited"
assert any(l["cmd"] == "override.remove" and l["args"]["id"] == 1 for l in lines)
assert any(l["cmd"] == "cache.flush" for l in lines)
assert not any(l["cmd"] in ("nta.list", "stats", "status") for l in lines), "queries are not changes"
PY

echo "$fails failure(s)"
((fails == 0))
