# Sourced by the shell integration tests: one line per check ("ok - ..." or
# "not ok - ..."), counted in $passed and $failed for the closing summary.
passed=0 failed=0

ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }

check() {  # check DESCRIPTION COMMAND...: runs COMMAND, ok if it succeeds
	local what=$1; shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

in_ns() { ip netns exec "$ns" "$@"; }  # the caller sets $ns
