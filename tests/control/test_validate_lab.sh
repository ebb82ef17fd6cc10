#!/usr/bin/env bash
# DNSSEC validation of the real resolver (hf-resolve --anchors) against the signed lab
# (docs/lab.md): AD for every healthy signed zone and algorithm, NSEC and NSEC3 denial,
# wildcards, no AD for the opt-out and unsigned zones, RRSIGs and proofs for DO, CD
# returning unvalidated data, and one check per failure mode of `scripts/lab break`,
# each with the Extended DNS Error that is true (docs/ede.md).
#
#   test_validate_lab.sh PATH/TO/hf-resolve
#
# Expects `scripts/lab start` to have run; exits 77 (skip) without it. Breaks zones, so
# it must not run in parallel with other lab users; always restores.
set -uo pipefail

HF_RESOLVE=${1:?usage: test_validate_lab.sh PATH/TO/hf-resolve}
REPO=${HF_REPO_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
LAB_DIR=${HF_LAB_DIR:-/tmp/holdfast-lab}
LAB="$REPO/scripts/lab"
. "$REPO/tests/lib/check.sh"

if [[ ! -f $LAB_DIR/root.hints || ! -f $LAB_DIR/root.key ]]; then
	echo "SKIP: $LAB_DIR/root.hints or root.key missing (run scripts/lab start)"
	exit 77
fi
if ! "$LAB" status >/dev/null 2>&1; then
	echo "SKIP: the lab is not running (scripts/lab status)"
	exit 77
fi
set -a
. "$LAB_DIR/lab.env"
set +a
trap '"$LAB" restore >/dev/null 2>&1' EXIT

T=$'\t'
OUT=""
resolve() {
	OUT=$("$HF_RESOLVE" --hints "$LAB_DIR/root.hints" --allow-loopback --timeout 4000 \
		--anchors "$LAB_DIR/root.key" "$@" 2>&1)
}

# The answer to the Nth question (1-based) of the last output; 0: the whole output.
nth() { awk -v n="$1" '/^;; QUESTION /{k++} n==0 || k==n' <<<"$OUT"; }

# expect N DESCRIPTION REGEX...: every regex matches the Nth answer.
expect() {
	local n=$1 what=$2 re
	shift 2
	local ans
	ans=$(nth "$n")
	for re in "$@"; do
		if ! grep -Eq -- "$re" <<<"$ans"; then
			not_ok "$what: no line matches /$re/"
			sed 's/^/    | /' <<<"$ans"
			return
		fi
	done
	ok "$what"
}

# reject N DESCRIPTION REGEX: the regex matches no line of the Nth answer.
reject() {
	local n=$1 what=$2 re=$3 ans
	ans=$(nth "$n")
	if grep -Eq -- "$re" <<<"$ans"; then
		not_ok "$what: unexpected /$re/"
		sed 's/^/    | /' <<<"$ans"
	else
		ok "$what"
	fi
}

SECURE="rcode NOERROR ttl [0-9]+ flags ad"
FAIL_DNSSEC="EDE (6|7|8|9|10|12):"

# --- healthy: every algorithm, both denial methods, wildcards --------------------------
resolve nic.test nic.example nic.de host.a.test host.b.example host.c.de www.a.test \
	anything.wild.a.test anything.wild.b.example nx.a.test nx.b.example wild.a.test \
	host.a.test MX host.unsigned.de nx.de . DNSKEY
expect 1 "nic.test (ECDSAP256SHA256, NSEC): AD" "$SECURE" "IN${T}A${T}192\.0\.2\.10$"
expect 2 "nic.example (ECDSAP384SHA384, NSEC3): AD" "$SECURE" "IN${T}A${T}192\.0\.2\.20$"
expect 3 "nic.de (RSASHA256, NSEC3 opt-out): AD" "$SECURE" "IN${T}A${T}192\.0\.2\.30$"
expect 4 "host.a.test (ED25519): AD" "$SECURE" "IN${T}A${T}192\.0\.2\.1$"
expect 5 "host.b.example (ED448, salted NSEC3): AD" "$SECURE" "IN${T}A${T}192\.0\.2\.3$"
expect 6 "host.c.de (glueless, ECDSAP256SHA256): AD" "$SECURE" "IN${T}A${T}192\.0\.2\.5$"
expect 7 "www.a.test: CNAME chain across three zones and algorithms: AD" "$SECURE" \
	"IN${T}CNAME${T}x\.b\.example\.$" "IN${T}A${T}192\.0\.2\.5$"
expect 8 "wildcard in an NSEC zone (anything.wild.a.test): AD" "$SECURE" "IN${T}A${T}192\.0\.2\.2$"
expect 9 "wildcard in an NSEC3 zone (anything.wild.b.example): AD" "$SECURE" "IN${T}A${T}192\.0\.2\.4$"
expect 10 "nx.a.test: NXDOMAIN proved by NSEC: AD" "rcode NXDOMAIN ttl [0-9]+ flags ad"
expect 11 "nx.b.example: NXDOMAIN proved by NSEC3: AD" "rcode NXDOMAIN ttl [0-9]+ flags ad"
expect 12 "wild.a.test A: NODATA (empty non-terminal) proved: AD" "$SECURE"
expect 13 "host.a.test MX: NODATA proved: AD" "$SECURE" "IN${T}SOA"
expect 14 "host.unsigned.de (no DS, opt-out): answer without AD" "rcode NOERROR ttl [0-9]+ flags n_ttl" \
	"IN${T}A${T}192\.0\.2\.6$"
expect 15 "nx.de (NSEC3 opt-out): NXDOMAIN without AD" "rcode NXDOMAIN ttl [0-9]+ flags n_ttl"
expect 16 "the root's DNSKEY RRset: AD" "$SECURE" "IN${T}DNSKEY${T}"
reject 0 "no validation failure on a healthy lab" "$FAIL_DNSSEC"

# --- insecure, and saying why: EDE 1, 2 and 27 on answers that are not SERVFAIL ---------
resolve host.alg.test host.digest.test nx.iter.example host.iter.example MX host.iter.example
expect 1 "alg.test. (DS names algorithm 253): insecure answer with EDE 1" \
	"rcode NOERROR ttl [0-9]+ flags n_ttl" "IN${T}A${T}192\.0\.2\.8$" "EDE 1: DS of alg\.test\. names unsupported algorithm"
expect 2 "digest.test. (DS digest type 3): insecure answer with EDE 2" \
	"rcode NOERROR ttl [0-9]+ flags n_ttl" "IN${T}A${T}192\.0\.2\.9$" "EDE 2: DS of digest\.test\. uses unsupported digest type 3"
expect 3 "iter.example. (NSEC3, 200 iterations): NXDOMAIN insecure with EDE 27" \
	"rcode NXDOMAIN ttl [0-9]+ flags n_ttl" "EDE 27: NSEC3 of iter\.example\."
expect 4 "iter.example.: NODATA insecure with EDE 27" "rcode NOERROR ttl [0-9]+ flags n_ttl" "EDE 27:"
expect 5 "iter.example.: its positive answers still validate" "$SECURE" "IN${T}A${T}192\.0\.2\.7$"

# --- DO: signatures and proofs for the client --------------------------------------------
resolve --do host.a.test nx.b.example anything.wild.a.test
expect 1 "DO: the answer comes with its RRSIG" "IN${T}A${T}192\.0\.2\.1$" "IN${T}RRSIG${T}"
expect 2 "DO: NXDOMAIN comes with SOA, NSEC3 and their RRSIGs" "flags ad" "IN${T}NSEC3${T}" \
	"IN${T}SOA${T}" "IN${T}RRSIG${T}"
expect 3 "DO: a wildcard answer comes with the NSEC that proves it" "flags ad" "IN${T}NSEC${T}"
resolve host.a.test
reject 1 "no DO: no RRSIG in the answer" "IN${T}RRSIG${T}"

# --- one failure mode at a time ----------------------------------------------------------
# break MODE ZONE: break the lab, or say why the check cannot run.
brk() {
	if ! "$LAB" break "$@" >/dev/null 2>&1; then
		not_ok "scripts/lab break $*"
		return 1
	fi
}

if brk bogus-rrsig de.; then
	resolve nic.de nx.de host.c.de host.a.test
	expect 1 "bogus-rrsig de.: nic.de SERVFAIL, EDE 6 naming owner, type and the ZSK's key tag" \
		"rcode SERVFAIL" "EDE 6: RRSIG with malformed signature found for nic\.de/a \(keytag=${HF_LAB_ZSK_de}\)"
	expect 2 "bogus-rrsig de.: nx.de SERVFAIL with EDE 6 (the denial's signatures are bad)" \
		"rcode SERVFAIL" "EDE 6: .*keytag=${HF_LAB_ZSK_de}"
	expect 3 "bogus-rrsig de.: host.c.de fails through the DS of c.de (EDE 6)" \
		"rcode SERVFAIL" "EDE 6: .*c\.de/ds \(keytag=${HF_LAB_ZSK_de}\)"
	expect 4 "bogus-rrsig de.: other zones still validate" "$SECURE"
	reject 1 "bogus-rrsig de.: never EDE 22/23" "EDE 2[23]:"
	resolve --nta de. nic.de host.c.de nx.de host.a.test
	expect 1 "bogus-rrsig de. with an NTA on de.: nic.de answers without AD, EDE 33" \
		"rcode NOERROR ttl [0-9]+ flags n_ttl" "IN${T}A${T}192\.0\.2\.30$" "EDE 33: negative trust anchor for de\."
	expect 2 "... host.c.de below it too (EDE 33)" "IN${T}A${T}192\.0\.2\.5$" "EDE 33:"
	expect 3 "... nx.de NXDOMAIN without AD (EDE 33)" "rcode NXDOMAIN ttl [0-9]+ flags n_ttl" "EDE 33:"
	expect 4 "... other zones keep AD" "$SECURE"
	resolve --probe de.
	expect 1 "probe of de. (NTAs aside): still bogus, EDE 6" "rcode SERVFAIL" "EDE 6:"
	resolve --cd nic.de
	expect 1 "bogus-rrsig de.: CD=1 gets the data, without AD" "rcode NOERROR ttl [0-9]+ flags n_ttl" \
		"IN${T}A${T}192\.0\.2\.30$"
fi
"$LAB" restore >/dev/null 2>&1
resolve --probe de.
expect 1 "probe of de. after the restore: secure again (AD)" "rcode NOERROR ttl [0-9]+ flags ad"

if brk expired c.de.; then
	resolve host.c.de
	expect 1 "expired c.de.: SERVFAIL, EDE 7" "rcode SERVFAIL" "EDE 7: .*c\.de"
fi
"$LAB" restore >/dev/null 2>&1

if brk not-yet-valid c.de.; then
	resolve host.c.de
	expect 1 "not-yet-valid c.de.: SERVFAIL, EDE 8" "rcode SERVFAIL" "EDE 8: .*c\.de"
fi
"$LAB" restore >/dev/null 2>&1

if brk ds-mismatch c.de.; then
	resolve host.c.de
	expect 1 "ds-mismatch c.de.: SERVFAIL, EDE 9 naming the zone" "rcode SERVFAIL" \
		"EDE 9: no DNSKEY of c\.de\. matches its DS"
fi
"$LAB" restore >/dev/null 2>&1

if brk dnskey-missing c.de.; then
	resolve host.c.de
	expect 1 "dnskey-missing c.de.: SERVFAIL, EDE 9" "rcode SERVFAIL" "EDE 9: .*c\.de"
fi
"$LAB" restore >/dev/null 2>&1

if brk rrsig-stripped c.de.; then
	resolve host.c.de
	expect 1 "rrsig-stripped c.de.: SERVFAIL, EDE 10" "rcode SERVFAIL" "EDE 10: .*c\.de"
fi
"$LAB" restore >/dev/null 2>&1

if brk nsec-missing a.test.; then
	resolve nx.a.test host.a.test MX host.a.test
	expect 1 "nsec-missing a.test.: NXDOMAIN without proof: SERVFAIL, EDE 12" "rcode SERVFAIL" \
		"EDE 12: .*nx\.a\.test"
	expect 2 "nsec-missing a.test.: NODATA without proof: SERVFAIL, EDE 12" "rcode SERVFAIL" "EDE 12:"
	expect 3 "nsec-missing a.test.: positive answers still validate" "$SECURE"
fi
"$LAB" restore >/dev/null 2>&1

if brk unreachable de.; then
	resolve nic.de host.c.de
	expect 1 "unreachable de.: SERVFAIL, EDE 22" "rcode SERVFAIL" "EDE 22:"
	expect 2 "unreachable de.: below it too, EDE 22" "rcode SERVFAIL" "EDE 22:"
	reject 0 "unreachable de.: never a DNSSEC code (6-12)" "$FAIL_DNSSEC"
fi
"$LAB" restore >/dev/null 2>&1

echo "validate: $passed passed, $failed failed"
((failed == 0))
