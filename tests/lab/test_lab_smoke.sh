#!/usr/bin/env bash
# tests/lab/test_lab_smoke.sh: proves that the lab (scripts/lab) serves what docs/lab.md says,
# and that each break mode produces its failure and `restore` undoes it.
#
# Assumes `scripts/lab start` has run (the test runner starts the lab before the `lab` suite
# and stops it after); exits 77 (skip) if the lab is not running. Leaves the lab healthy
# and running. Prints one line per check ("ok - ..." / "not ok - ...") and exits 1 if any
# check failed.
set -euo pipefail

REPO=${HF_REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LAB=$REPO/scripts/lab
LAB_DIR=${HF_LAB_DIR:-/tmp/holdfast-lab}
export HF_LAB_DIR=$LAB_DIR

if [[ ! -f $LAB_DIR/lab.env ]]; then
	echo "# SKIP: the lab is not started ($LAB_DIR/lab.env is missing); run scripts/lab start"
	exit 77
fi
# shellcheck source=/dev/null
. "$LAB_DIR/lab.env"
# Started once but stopped since (no root server answers) also counts as "not started".
# A lab where only some servers answer is a failure, reported by the checks below.
any_up=0
for root in $HF_LAB_ROOT_ADDRS; do
	dig +norec +time=1 +tries=1 @"$root" SOA . >/dev/null 2>&1 && any_up=1
done
if ((!any_up)); then
	echo "# SKIP: the lab in $LAB_DIR is stopped (no server answers); run scripts/lab start"
	exit 77
fi

TMP=$(mktemp -d)
# Whatever happens, leave the lab healthy for whoever comes next.
cleanup() {
	"$LAB" restore >/dev/null 2>&1 || echo "# WARNING: scripts/lab restore failed at exit"
	rm -rf "$TMP"
}
trap cleanup EXIT

passed=0
failed=0

# check DESCRIPTION COMMAND...: run COMMAND; report ok / not ok. On failure the command's
# output is shown as "#" comment lines.
check() {
	local desc=$1
	shift
	if "$@" >"$TMP/out" 2>&1; then
		echo "ok - $desc"
		passed=$((passed + 1))
	else
		echo "not ok - $desc"
		sed -e 's/^/#   /' "$TMP/out" | head -n 15
		failed=$((failed + 1))
	fi
}

# ---------------------------------------------------------------------------------------
# Query helpers
# ---------------------------------------------------------------------------------------

# q ADDR ARGS...: one non-recursive query, short timeouts (everything is on loopback).
q() {
	local addr=$1
	shift
	dig +norec +time=2 +tries=1 +nosplit @"$addr" "$@"
}

# Variable-name form of a zone, as in lab.env: . -> root, a.test. -> a_test.
zvar() {
	local z=$1
	[[ $z == . ]] && {
		echo root
		return
	}
	z=${z%.}
	echo "${z//./_}"
}
# lab_var NAME: the value of lab.env's variable NAME (empty if it has none).
lab_var() { echo "${!1:-}"; }
zone_addrs() { lab_var "HF_LAB_NS_$(zvar "$1")"; }
zone_first_addr() { local a; a=$(zone_addrs "$1"); echo "${a%% *}"; }
zone_parent() { lab_var "HF_LAB_PARENT_$(zvar "$1")"; }
zone_ksk() { lab_var "HF_LAB_KSK_$(zvar "$1")"; }
zone_zsk() { lab_var "HF_LAB_ZSK_$(zvar "$1")"; }
server_addr() { lab_var "HF_LAB_ADDR_${1//-/_}"; }
server_zones() { lab_var "HF_LAB_ZONES_${1//-/_}"; }
is_signed_zone() { [[ " $HF_LAB_SIGNED_ZONES " == *" $1 "* ]]; }

# ADDR answers ZONE's SOA authoritatively.
answers_aa() {
	local out
	out=$(q "$1" SOA "$2")
	echo "$out"
	[[ $out == *"status: NOERROR"* && $out == *"flags: qr aa"* ]]
}

# ADDR does not answer at all (timeout or refused connection).
silent() {
	if dig +norec +time=1 +tries=1 @"$1" SOA "$2" >/dev/null 2>&1; then
		echo "$1 answered a query for $2"
		return 1
	fi
}

answers_dnskey_signed() {
	local out
	out=$(q "$1" +dnssec DNSKEY "$2")
	echo "$out"
	[[ $out == *"flags: qr aa"* ]] &&
		grep -qE "^$2[[:space:]].*IN[[:space:]]+DNSKEY[[:space:]]" <<<"$out" &&
		grep -qE "^$2[[:space:]].*IN[[:space:]]+RRSIG[[:space:]]+DNSKEY " <<<"$out"
}

refused() {
	local out
	out=$(q "$1" SOA "$2")
	echo "$out"
	[[ $out == *"status: REFUSED"* ]]
}

# A zone of the lab, other than the root, that SERVER is not authoritative for at all (none
# of its zones is an ancestor). None exists for the root servers.
foreign_zone() {
	local z s ok
	for z in $HF_LAB_ZONES; do
		[[ $z != . ]] || continue
		ok=1
		for s in $(server_zones "$1"); do
			[[ $s == . || $z == "$s" || $z == *".$s" ]] && ok=0
		done
		((ok)) && {
			echo "$z"
			return 0
		}
	done
	return 1
}

# referral ADDR QNAME CUT [glue|noglue] [ds|nods]: ADDR answers QNAME with a referral to CUT:
# not authoritative, empty answer, CUT's NS in the authority section.
referral() {
	local addr=$1 qname=$2 cut=$3 glue=${4:-} ds=${5:-} out additional
	out=$(q "$addr" +dnssec A "$qname")
	echo "$out"
	[[ $out == *"status: NOERROR"* ]] || return 1
	[[ $out != *"flags: qr aa"* ]] || { echo "answer is authoritative"; return 1; }
	[[ $out == *"ANSWER: 0,"* ]] || { echo "answer section not empty"; return 1; }
	grep -qE "^${cut}[[:space:]].*IN[[:space:]]+NS[[:space:]]" <<<"$out" || return 1
	# The additional section always holds the OPT record; glue comes on top of it.
	additional=$(grep -o 'ADDITIONAL: [0-9]*' <<<"$out" | awk '{ print $2 }')
	case $glue in
	glue) ((additional > 1)) || { echo "no glue"; return 1; } ;;
	noglue) ((additional == 1)) || { echo "unexpected glue"; return 1; } ;;
	esac
	case $ds in
	ds) grep -qE "^${cut}[[:space:]].*IN[[:space:]]+DS[[:space:]]" <<<"$out" || { echo "no DS"; return 1; } ;;
	nods) ! grep -qE "^${cut}[[:space:]].*IN[[:space:]]+DS[[:space:]]" <<<"$out" || { echo "unexpected DS"; return 1; } ;;
	esac
}

# axfr ZONE [ADDR] > file: the zone as served (one SOA), for ldns-verify-zone.
axfr() {
	local zone=$1 addr=${2:-$(zone_first_addr "$1")}
	dig +time=3 +tries=1 +onesoa +nocmd +nocomments +nostats @"$addr" AXFR "$zone" >"$TMP/axfr"
	grep -qE "IN[[:space:]]+SOA[[:space:]]" "$TMP/axfr" || {
		echo "AXFR of $zone from $addr failed"
		cat "$TMP/axfr"
		return 1
	}
	cat "$TMP/axfr"
}

verify_zone() {
	axfr "$1" >"$TMP/zone.$$" || return 1
	ldns-verify-zone "$TMP/zone.$$"
}

verify_zone_fails_with() {
	local zone=$1 pattern=$2 out
	axfr "$zone" >"$TMP/zone.$$" || return 1
	if out=$(ldns-verify-zone "$TMP/zone.$$" 2>&1); then
		echo "ldns-verify-zone accepted the zone"
		return 1
	fi
	echo "$out" | head -n 5
	grep -q "$pattern" <<<"$out"
}

# Key tags of the DNSKEYs ADDR serves for ZONE.
dnskey_tags() {
	dig +norec +time=2 +tries=1 +multi +noall +answer @"$1" DNSKEY "$2" |
		grep -o 'key id = [0-9]*' | awk '{ print $4 }' | sort -n | tr '\n' ' '
}

# "keytag alg digesttype digest" (lower case) of DS records: from the parent, or computed
# from the DNSKEYs the zone serves.
parent_ds() {
	local zone=$1 parent
	parent=$(zone_parent "$zone")
	q "$(zone_first_addr "$parent")" +noall +answer DS "$zone" |
		awk '$4 == "DS" { d = ""; for (i = 8; i <= NF; i++) d = d $i; print $5, $6, $7, tolower(d) }'
}
dnskey_ds() {
	q "$1" +noall +answer DNSKEY "$2" | awk '$4 == "DNSKEY"' >"$TMP/dnskeys"
	[[ -s $TMP/dnskeys ]] || return 0
	ldns-key2ds -n -f -2 "$TMP/dnskeys" |
		awk '$4 == "DS" { d = ""; for (i = 8; i <= NF; i++) d = d $i; print $5, $6, $7, tolower(d) }'
}

# The parent's DS for ZONE matches a DNSKEY that every server of ZONE serves.
ds_matches() {
	local zone=$1 addr ds
	ds=$(parent_ds "$zone")
	echo "parent DS: $ds"
	[[ -n $ds ]] || return 1
	for addr in $(zone_addrs "$zone"); do
		dnskey_ds "$addr" "$zone" >"$TMP/computed"
		echo "DS of DNSKEYs at $addr:"
		cat "$TMP/computed"
		grep -qxF "$ds" "$TMP/computed" || return 1
	done
}

ds_matches_nothing() {
	! ds_matches "$@"
}

# root.key's DS matches the root's KSK, and its DNSKEY is the one the root servers serve.
trust_anchor_matches() {
	local addr ta_ds ta_key
	ta_ds=$(awk '$4 == "DS" { d = ""; for (i = 8; i <= NF; i++) d = d $i; print $5, $6, $7, tolower(d) }' "$HF_LAB_ROOT_KEY")
	ta_key=$(awk '$4 == "DNSKEY" { print $NF }' "$HF_LAB_ROOT_KEY")
	echo "root.key DS: $ta_ds"
	[[ -n $ta_ds && -n $ta_key ]] || return 1
	for addr in $HF_LAB_ROOT_ADDRS; do
		dnskey_ds "$addr" . | grep -qxF "$ta_ds" || { echo "DS matches no DNSKEY at $addr"; return 1; }
		q "$addr" +noall +answer DNSKEY . | awk '{ print $NF }' | grep -qxF "$ta_key" ||
			{ echo "DNSKEY not served at $addr"; return 1; }
	done
}

# Every server of ZONE serves the same SOA serial.
same_serial() {
	local addr serials
	serials=$(for addr in $(zone_addrs "$1"); do q "$addr" +short SOA "$1" | awk '{ print $3 }'; done | sort -u)
	echo "serials: $serials"
	[[ -n $serials && $(wc -l <<<"$serials") -eq 1 ]]
}

# All RRSIGs in the served zone have expiration (which=9) or inception (which=10) before
# ("lt") or after ("gt") now.
rrsig_times() {
	local zone=$1 field=$2 op=$3 now
	now=$(date -u +%Y%m%d%H%M%S)
	axfr "$zone" >"$TMP/zone.$$" || return 1
	awk -v f="$field" -v op="$op" -v now="$now" '
		$4 == "RRSIG" { n++; t = $(f); if ((op == "lt" && t >= now) || (op == "gt" && t <= now)) { bad++; print } }
		END { printf "%d RRSIGs, %d not matching\n", n, bad; exit !(n > 0 && bad == 0) }' "$TMP/zone.$$"
}

count_type() {
	awk -v t="$2" '$4 == t { n++ } END { print n + 0 }' "$1"
}

# The zone is served without any record of the given types (and there were some to remove).
zone_has_no() {
	local zone=$1 t n
	shift
	axfr "$zone" >"$TMP/zone.$$" || return 1
	for t in "$@"; do
		n=$(count_type "$TMP/zone.$$" "$t")
		echo "$t: $n"
		((n == 0)) || return 1
	done
}

healthy_zone() {
	local zone=$1 addr
	for addr in $(zone_addrs "$zone"); do answers_aa "$addr" "$zone" >/dev/null || { echo "$addr does not answer"; return 1; }; done
	same_serial "$zone" || return 1
	verify_zone "$zone" || return 1
	[[ $zone == . ]] && { trust_anchor_matches; return; }
	ds_matches "$zone"
}

lab_break() { "$LAB" break "$@"; }
lab_restore() { "$LAB" restore; }
lab_status_fails() { ! "$LAB" status; }

# ---------------------------------------------------------------------------------------
# 1. The servers and their zones
# ---------------------------------------------------------------------------------------

for server in $HF_LAB_SERVERS; do
	addr=$(server_addr "$server")
	for zone in $(server_zones "$server"); do
		check "$server ($addr) answers SOA $zone authoritatively" answers_aa "$addr" "$zone"
		if is_signed_zone "$zone"; then
			check "$server ($addr) serves the signed DNSKEY RRset of $zone" answers_dnskey_signed "$addr" "$zone"
		fi
	done
	if other=$(foreign_zone "$server"); then
		check "$server ($addr) refuses $other, which it does not serve" refused "$addr" "$other"
	fi
done

# ---------------------------------------------------------------------------------------
# 2. Delegations: root -> TLDs, TLDs -> second level (glue, no glue, opt-out)
# ---------------------------------------------------------------------------------------

for zone in $HF_LAB_ZONES; do
	[[ $(zone_parent "$zone") == . ]] || continue
	for addr in $HF_LAB_ROOT_ADDRS; do
		check "root $addr refers nic.$zone to $zone with glue and DS, not authoritatively" \
			referral "$addr" "nic.$zone" "$zone" glue ds
	done
done
check "test. refers a.test. with in-bailiwick glue and DS" \
	referral "$(zone_first_addr test.)" host.a.test a.test. glue ds
check "example. refers b.example. with in-bailiwick glue and DS" \
	referral "$(zone_first_addr example.)" host.b.example b.example. glue ds
for addr in $(zone_addrs de.); do
	check "de. ($addr) refers c.de. without glue (NS ns2.a.test.), with DS" \
		referral "$addr" host.c.de c.de. noglue ds
done

optout_referral() {
	local out
	out=$(q "$(zone_first_addr de.)" +dnssec A host.unsigned.de)
	echo "$out"
	referral "$(zone_first_addr de.)" host.unsigned.de unsigned.de. glue nods >/dev/null || return 1
	# An NSEC3 with the opt-out flag (flags field 1) proves there is no DS.
	grep -qE "IN[[:space:]]+NSEC3[[:space:]]+1 1 0 " <<<"$out"
}
check "de. refers unsigned.de. insecurely: no DS, proof by an opt-out NSEC3" optout_referral

# ---------------------------------------------------------------------------------------
# 3. Signatures, chain of trust, trust anchor
# ---------------------------------------------------------------------------------------

for zone in $HF_LAB_SIGNED_ZONES; do
	check "ldns-verify-zone accepts $zone as served" verify_zone "$zone"
	if [[ $zone != . ]]; then
		check "the DS of $zone in $(zone_parent "$zone") matches its KSK" ds_matches "$zone"
	fi
done
for zone in $HF_LAB_ZONES; do
	[[ $(wc -w <<<"$(zone_addrs "$zone")") -gt 1 ]] || continue
	check "the servers of $zone ($(zone_addrs "$zone")) serve the same serial" same_serial "$zone"
done
check "root.key (DS and DNSKEY) matches the root's KSK" trust_anchor_matches

# ---------------------------------------------------------------------------------------
# 4. Special names
# ---------------------------------------------------------------------------------------

wildcard_answer() {
	local out
	out=$(q "$(zone_first_addr a.test.)" +dnssec A anything.wild.a.test)
	echo "$out"
	grep -qE "^anything\.wild\.a\.test\.[[:space:]].*IN[[:space:]]+A[[:space:]]+192\.0\.2\.2" <<<"$out" &&
		# RRSIG labels field 3 (*.wild.a.test without the "*") < 4 labels of the owner:
		# the signature was made over the wildcard
		grep -qE "IN[[:space:]]+RRSIG[[:space:]]+A 15 3 " <<<"$out"
}
check "wildcard *.wild.a.test answers anything.wild.a.test, signed as a wildcard" wildcard_answer

cname_hop() {
	q "$1" +short "$2" "$3" | tee /dev/stderr | grep -qxF "$4"
}
check "CNAME chain 1/3: www.a.test -> x.b.example." cname_hop "$(zone_first_addr a.test.)" CNAME www.a.test x.b.example.
check "CNAME chain 2/3: x.b.example -> host.c.de." cname_hop "$(zone_first_addr b.example.)" CNAME x.b.example host.c.de.
check "CNAME chain 3/3: host.c.de A 192.0.2.5" cname_hop "$(zone_first_addr c.de.)" A host.c.de 192.0.2.5
check "the glueless name server ns2.a.test resolves to sld-b ($(server_addr sld-b))" \
	cname_hop "$(zone_first_addr a.test.)" A ns2.a.test "$(server_addr sld-b)"
for t in A AAAA TXT; do
	check "host.unsigned.de has $t" bash -c "[[ -n \$(dig +norec +short @$(zone_first_addr unsigned.de.) $t host.unsigned.de) ]]"
done

# ---------------------------------------------------------------------------------------
# 5. The lab's own commands
# ---------------------------------------------------------------------------------------

start_is_idempotent() {
	local before after
	before=$(cat "$HF_LAB_ROOT_KEY")
	"$LAB" start | tee /dev/stderr | grep -q "already running" || return 1
	after=$(cat "$HF_LAB_ROOT_KEY")
	[[ $before == "$after" ]] || { echo "root.key changed"; return 1; }
}
check "scripts/lab start on a running lab says so and changes nothing" start_is_idempotent
check "scripts/lab status exits 0 when all servers answer" "$LAB" status

fails_with() {
	local pattern=$1 out
	shift
	if out=$("$@" 2>&1); then
		echo "succeeded: $out"
		return 1
	fi
	echo "$out"
	grep -q "$pattern" <<<"$out"
}
check "break with an unknown mode fails and says so" fails_with "unknown break mode" "$LAB" break no-such-mode
check "break of an unknown zone fails and says so" fails_with "unknown zone" "$LAB" break expired no.such.zone
check "break of an unsigned zone (other than unreachable) fails and says so" \
	fails_with "is unsigned" "$LAB" break expired unsigned.de
check "ds-mismatch of the root fails and says so" fails_with "root has no" "$LAB" break ds-mismatch .

# ---------------------------------------------------------------------------------------
# 6. Break modes, each followed by restore
# ---------------------------------------------------------------------------------------

Z=de.
ZSK=$(zone_zsk $Z)
KSK=$(zone_ksk $Z)

bogus_but_tags_match() {
	local tags out
	tags=" $(dnskey_tags "$(zone_first_addr $Z)" $Z)"
	[[ $tags == *" $ZSK "* && $tags == *" $KSK "* ]] || { echo "DNSKEY tags: $tags"; return 1; }
	axfr $Z >"$TMP/zone.$$" || return 1
	# every RRSIG still names a published key ...
	awk -v tags="$tags" '$4 == "RRSIG" && index(tags, " " $11 " ") == 0 { print "unknown key tag: " $0; bad = 1 }
		END { exit bad }' "$TMP/zone.$$" || return 1
	# ... the NSEC3 records are signed, by the ZSK ...
	grep -qE "IN[[:space:]]+RRSIG[[:space:]]+NSEC3 8 2 [0-9]+ [0-9]+ [0-9]+ $ZSK " "$TMP/zone.$$" || return 1
	# ... and only the ZSK's signatures are bad: the DNSKEY RRset still verifies.
	out=$(ldns-verify-zone "$TMP/zone.$$" 2>&1) && return 1
	grep -q "Bogus DNSSEC signature for .*NSEC3" <<<"$out" || return 1
	! grep -q "Bogus DNSSEC signature for .*DNSKEY" <<<"$out"
}

dnskey_lacks_ds_key() {
	local ds tag addr tags
	ds=$(parent_ds $Z)
	tag=${ds%% *}
	echo "parent DS key tag: $tag (KSK $KSK)"
	[[ $tag == "$KSK" ]] || return 1
	for addr in $(zone_addrs $Z); do
		tags=" $(dnskey_tags "$addr" $Z)"
		echo "DNSKEY tags at $addr:$tags"
		[[ $tags != *" $tag "* ]] || return 1
	done
}

ds_names_unknown_key() {
	local ds tag
	ds=$(parent_ds $Z)
	tag=${ds%% *}
	echo "parent DS key tag: $tag"
	[[ -n $tag && " $(dnskey_tags "$(zone_first_addr $Z)" $Z)" != *" $tag "* ]]
}

unsigned_answer() {
	local out
	out=$(q "$(zone_first_addr $Z)" +dnssec A nic.de)
	echo "$out"
	[[ $out == *"status: NOERROR"* ]] && grep -qE "^nic\.de\.[[:space:]].*IN[[:space:]]+A[[:space:]]" <<<"$out" &&
		! grep -qE "IN[[:space:]]+RRSIG[[:space:]]" <<<"$out"
}

nxdomain_without_proof() {
	local out
	out=$(q "$(zone_first_addr $Z)" +dnssec A no-such-name.de)
	echo "$out"
	[[ $out == *"status: NXDOMAIN"* ]] && ! grep -qE "IN[[:space:]]+NSEC3?[[:space:]]" <<<"$out"
}

other_servers_up() {
	local server
	for server in $HF_LAB_SERVERS; do
		[[ " $(server_zones "$server") " == *" $Z "* ]] && continue
		for zone in $(server_zones "$server"); do answers_aa "$(server_addr "$server")" "$zone" >/dev/null || return 1; done
	done
}

for mode in $HF_LAB_BREAK_MODES; do
	check "break $mode $Z" lab_break "$mode" "$Z"
	case $mode in
	bogus-rrsig)
		check "$mode: ZSK signatures (NSEC3 too) are bogus, key tags match, DNSKEY RRset intact" bogus_but_tags_match
		;;
	expired)
		check "$mode: every RRSIG expired before now" rrsig_times $Z 9 lt
		check "$mode: ldns-verify-zone reports expired signatures" verify_zone_fails_with $Z "signature has expired"
		;;
	not-yet-valid)
		check "$mode: every RRSIG has its inception after now" rrsig_times $Z 10 gt
		check "$mode: ldns-verify-zone reports not yet incepted signatures" verify_zone_fails_with $Z "not incepted yet"
		;;
	dnskey-missing)
		check "$mode: the DS in the root names a key the DNSKEY RRset lacks" dnskey_lacks_ds_key
		check "$mode: the DS matches no DNSKEY" ds_matches_nothing $Z
		;;
	ds-mismatch)
		check "$mode: the DS in the root names a key $Z does not have" ds_names_unknown_key
		check "$mode: the DS matches no DNSKEY" ds_matches_nothing $Z
		check "$mode: $Z itself still verifies" verify_zone $Z
		;;
	rrsig-stripped)
		check "$mode: the served zone has no RRSIG" zone_has_no $Z RRSIG
		check "$mode: answers carry no RRSIG" unsigned_answer
		;;
	nsec-missing)
		check "$mode: the served zone has no NSEC, NSEC3, NSEC3PARAM" zone_has_no $Z NSEC NSEC3 NSEC3PARAM
		check "$mode: NXDOMAIN carries no NSEC/NSEC3 proof" nxdomain_without_proof
		;;
	unreachable)
		for addr in $(zone_addrs $Z); do
			check "$mode: $addr does not answer" silent "$addr" $Z
		done
		check "$mode: the other servers still answer" other_servers_up
		check "$mode: scripts/lab status exits non-zero" lab_status_fails
		;;
	esac
	check "restore after $mode" lab_restore
	check "after $mode: $Z is healthy again (answers, verifies, DS matches)" healthy_zone $Z
done

# A break below a NSEC3 parent, and one in a NSEC zone, to exercise the other renderings.
check "break ds-mismatch c.de. (DS in the NSEC3 zone de.)" lab_break ds-mismatch c.de.
check "ds-mismatch c.de.: the DS in de. matches no DNSKEY of c.de." ds_matches_nothing c.de.
check "ds-mismatch c.de.: de. still verifies" verify_zone de.
check "break bogus-rrsig a.test. (Ed25519, NSEC)" lab_break bogus-rrsig a.test.
check "bogus-rrsig a.test.: ldns-verify-zone reports bogus NSEC signatures" \
	verify_zone_fails_with a.test. "Bogus DNSSEC signature for .*NSEC"
check "restore after two breaks at once" lab_restore
for zone in c.de. a.test. de.; do
	check "after restore: $zone is healthy" healthy_zone "$zone"
done
check "scripts/lab status exits 0 at the end" "$LAB" status

echo "# $passed passed, $failed failed"
((failed == 0))
