# shellcheck shell=bash
# Helpers for benchmark scripts that record their results in docs/benchmarks.md.
# Source it; it defines functions only.
#
#   bench_doc_splice NAME SECTION_FILE [DOC]
#       Replace NAME's section of DOC (default docs/benchmarks.md next to this
#       script), i.e. the lines between "<!-- NAME:begin -->" and
#       "<!-- NAME:end -->", by the contents of SECTION_FILE; append the
#       section with its markers if DOC has none yet. Other sections and the
#       rest of DOC are left as they are.
#
#   bench_doc_status SCRIPT STATUS [DOC]
#       Set the last column ("status") of the summary-table row whose script
#       column is `SCRIPT` (e.g. scripts/bench-pipeline) to STATUS. A row that
#       is not there is left alone (with a warning).

bench_doc_default() {
	local here
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	echo "$here/docs/benchmarks.md"
}

bench_doc_splice() {
	local name=$1 section=$2 out=${3:-$(bench_doc_default)}
	local begin="<!-- $name:begin -->" end="<!-- $name:end -->"

	[[ -f $out ]] || printf '# Benchmarks\n' >"$out"
	if grep -qF "$begin" "$out"; then
		awk -v b="$begin" -v e="$end" -v f="$section" '
			$0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
			$0 == e { skip = 0 }
			!skip' "$out" >"$out.new"
	else
		{ cat "$out"; echo; echo "$begin"; cat "$section"; echo "$end"; } >"$out.new"
	fi
	mv "$out.new" "$out"
}

bench_doc_status() {
	local script=$1 status=$2 out=${3:-$(bench_doc_default)}

	if ! grep -qF "| \`$script\` |" "$out"; then
		echo "bench-doc: no summary row for $script in $out" >&2
		return 0
	fi
	STATUS=$status SCRIPT=$script awk '
		BEGIN { key = "| `" ENVIRON["SCRIPT"] "` |" }
		index($0, key) && /^\|/ {
			n = split($0, c, "|")
			# c[1] and c[n] are the empty ends of "| a | ... |"
			c[n - 1] = " " ENVIRON["STATUS"] " "
			line = ""
			for (i = 1; i < n; i++) line = line c[i] "|"
			print line
			next
		}
		{ print }' "$out" >"$out.new"
	mv "$out.new" "$out"
}
