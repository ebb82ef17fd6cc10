#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time: the committed seed corpus,
# plus the published DNS inputs in ../shared/data when they are there.
# New inputs go to a scratch directory, never into the source tree.
set -euo pipefail
target=$1 corpus=$2 seconds=${3:-60}
here=$(cd "$(dirname "$0")" && pwd)
shared=${HF_SHARED_DATA:-$here/../../../shared/data}

work=$(mktemp -d) log=$(mktemp)
trap 'rm -rf "$work" "$log"' EXIT
extra=()
[[ -d $shared/c-ares-fuzzinput ]] && extra+=("$shared/c-ares-fuzzinput")

# -max_total_time bounds the run; -timeout flags any single input that hangs.
status=0
"$target" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -max_len=4096 \
	-print_final_stats=1 -artifact_prefix="$work/" "$work" "$corpus" "${extra[@]}" \
	>"$log" 2>&1 || status=$?
tail -25 "$log"
if ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* >/dev/null 2>&1; then
	echo "fuzz: artifacts found; copy them into $corpus after fixing the bug:" >&2
	ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* >&2 2>/dev/null || true
	exit 1
fi
exit "$status"
