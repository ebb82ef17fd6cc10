# shellcheck shell=bash
# scripts/bench-pipeline --overrides LIST [--override-hit K]: sourced by
# bench-pipeline after its setup (run_dp, vdev, peer_args, pcap_tag, calc,
# work, results, ...); runs the rounds, prints the table and, unless
# --no-write, writes the bench-pipeline-overrides section of docs/benchmarks.md.
# shellcheck disable=SC2154 # everything comes from bench-pipeline

IFS=, read -r -a ovr_counts <<<"$overrides"
variants=(miss)
((override_hit)) && variants+=(hit)
quiet=()
for ((round = 1; round <= repeat; round++)); do
	quiet+=("$(bench_wait_quiet bench-pipeline 60)")
	echo "bench-pipeline: overrides round $round of $repeat" >&2
	# Rotate the order each round, so no count always runs first or last.
	n=${#ovr_counts[@]}
	for ((k = 0; k < n; k++)); do
		c=${ovr_counts[$(((k + round - 1) % n))]}
		for v in "${variants[@]}"; do
			peer_args=(--overrides "$c")
			pcap_tag=
			if [[ $v == hit ]]; then
				peer_args+=(--override-hit blocked.example.test.)
				# shellcheck disable=SC2034 # read by vdev() in bench-pipeline
				pcap_tag=hit
			fi
			run_dp "r$round-o$c-$v" 1 "$round" "$dp_bin" "ovr-$v-$c"
			grep -ao 'overrides: .*' "$work/r$round-o$c-$v.peer.log" | tr '\n' ' ' |
				sed "s/^/round $round, $c rules, $v: /" >>"$work/ovr-load.txt"
			echo >>"$work/ovr-load.txt"
		done
	done
done
peer_args=()

table=$(python3 - "$results" "$tsc_hz" "$overrides" "${variants[*]}" "${quiet[*]}" "$override_hit" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
tsc = float(sys.argv[2])
counts = [int(c) for c in sys.argv[3].split(",")]
variants = sys.argv[4].split()
quiet = sys.argv[5].split()
hit_every = int(sys.argv[6])
by = {}
for t, r, rate, w0, w1, hit, busy, cpu, ovr in rows:
    by.setdefault(t, {})[int(r)] = dict(rate=float(rate), hit=float(hit), busy=float(busy),
                                        cpu=float(cpu), ovr=float(ovr))

def mmm(v, fmt):
    v = sorted(v)
    return (fmt + " (" + fmt + "–" + fmt + ")") % (statistics.median(v), v[0], v[-1])

base0 = counts[0] if 0 not in counts else 0
for v in variants:
    if v == "miss":
        print("**No query matches a rule** (every query pays the match, then is answered from the cache):")
    else:
        print()
        print("**1 query in %d matches a rule** (`www<i>.blocked.example.test`, i %% %d = 0; a subtree rule, nxdomain with EDE 15, answered by the worker without the cache; with 0 rules those names are cache hits like the rest):" % (hit_every, hit_every))
    print()
    print("| rules | M answers/s: median (min–max) | answers/s / 0 rules, per round: median (min–max) | on-CPU ns per answer: median (min–max) | extra on-CPU ns per answer vs 0 rules (per round, median) | on-CPU ns 0 rules / N rules (per round, median) | target (≥ 0.85) | busy ns per answer (median) | cache hits | override hits |")
    print("|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    b = by.get("ovr-%s-%d" % (v, base0), {})
    for c in counts:
        d = by.get("ovr-%s-%d" % (v, c), {})
        if not d:
            continue
        vals = list(d.values())
        ratios = [d[r]["rate"] / b[r]["rate"] for r in d if r in b]
        extra = [d[r]["cpu"] - b[r]["cpu"] for r in d if r in b]
        cpur = [b[r]["cpu"] / d[r]["cpu"] for r in d if r in b]
        target = ""
        if c == 10000 and v == "miss" and ratios:
            rr, cr = statistics.median(ratios), statistics.median(cpur)
            target = "answers/s %s, on-CPU %s" % ("met" if rr >= 0.85 else "not met",
                                                 "met" if cr >= 0.85 else "not met")
        print("| %d | %s | %s | %s | %s | %s | %s | %.0f | %.2f %% | %.2f %% |" % (
            c, mmm([x["rate"] / 1e6 for x in vals], "%.2f"), mmm(ratios, "%.3f") if ratios else "–",
            mmm([x["cpu"] for x in vals], "%.0f"),
            "%+.0f" % statistics.median(extra) if extra else "–",
            "%.3f" % statistics.median(cpur) if cpur else "–", target,
            statistics.median(x["busy"] for x in vals) / tsc * 1e9,
            statistics.median(x["hit"] for x in vals), statistics.median(x["ovr"] for x in vals)))
print()
print("| round | CPUs busy before it | " + " | ".join("M/s %s %d rules" % (v, c) for v in variants for c in counts) + " |")
print("|---:|---:|" + "---:|" * (len(variants) * len(counts)))
for r in range(1, len(quiet) + 1):
    print("| %d | %s %% | " % (r, quiet[r - 1]) + " | ".join(
        "%.2f" % (by.get("ovr-%s-%d" % (v, c), {}).get(r, {}).get("rate", 0) / 1e6) for v in variants for c in counts) + " |")
PY
)
echo "$table"
((write)) || exit 0

ratio10k=$(sed -n 's/^| 10000 | [^|]* | \([0-9.]*\) .*/\1/p' <<<"$table" | head -1)
cpu10k=$(awk -F' [|] ' '$1 == "| 10000" { print $6; exit }' <<<"$table")
cc_version=$(sed -n 's/^C compiler for the host machine: *//p' \
	"$builddir/meson-logs/meson-log.txt" | head -1)
rel_build=$(realpath --relative-to="$root" "$builddir")
busiest=$(printf '%s\n' "${quiet[@]}" | sort -n | tail -1)
section=$work/section-ovr.md
{
	echo "## Dataplane pipeline with override rules (pcap replay, no kernel)"
	echo
	echo "Measured on $(date -u '+%Y-%m-%d %H:%M UTC') with \`$command\`"
	echo "($rel_build, buildtype=$BENCH_BUILDTYPE, source \`$src_rev\` as built when the run started, $cc_version), on $(bench_sysinfo)."
	echo
	echo "The 1-worker configuration of the section above (same pcap replay of $names"
	echo "names \`www<i>.example.test\`, \`--lcores $lcores_1\`, $seconds s window after a"
	echo "0.3 s window of 100 % cache (or override) hits), once per rule count in each"
	echo "round, the order of the counts rotated from round to round; $repeat rounds."
	echo "Before the load starts, \`hf-test-peer --overrides N\` compiles a rule set of N"
	echo "patterns with the control plane's compiler (\`hf_ovr_compile\`), publishes it"
	echo "(\`hf_ovr_publish\`) and waits until \`hf_ovr_status_get\` says applied ≥ its"
	echo "generation (0 rules: an empty set is published). The set, every rule nxdomain with"
	echo "EDE 15: 10 regular expressions (1 below 100 rules; blocklist-style, e.g."
	echo "\`^ads?[0-9]*\\.\`, \`^[a-z0-9]{32}\\.\`, \`(^|\\.)malware[a-z]*\\.\`), 9 % exact"
	echo "names (\`host<i>.site<i%4099>.<tld>.\`) and the rest subtree rules under"
	echo "many parents (\`ad<i>.cdn<i%8191>.<tld>.\`, \`x<i>.trk.net<i%8191>.<tld>.\`,"
	echo "\`blocked<i>.<tld>.\`; tld one of com, net, org, example, test). No rule matches a"
	echo "query name, so every query pays the whole match (name to text, a hash probe"
	echo "per label boundary, one Hyperscan scan when the set has regexes) and is then"
	echo "answered from the cache."
	if ((override_hit)); then
		echo "With \`--override-hit $override_hit\` every count also runs with a second query"
		echo "set in which one name in $override_hit is \`www<i>.blocked.example.test\`, and one"
		echo "subtree rule of each set is \`blocked.example.test.\`."
	fi
	echo "Compile and apply times (hf-test-peer's log; *applied* is from publishing to"
	echo "applied ≥ generation, through the dataplane's 1 ms main-lcore tick and an RCU"
	echo "grace period):"
	echo
	echo '```'
	sed 's/hf-test-peer: //g' "$work/ovr-load.txt"
	echo '```'
	echo
	echo "Other processes share this VM: before each round the script waits (up to 60 s)"
	echo "for the CPUs to be < 10 % busy; they were busy $(printf '%s %%, ' "${quiet[@]}" | sed 's/, $//')"
	echo "(one value per round, over 1 s) when the rounds started."
	echo
	echo "$table"
	echo
	echo "Reading it: the ratio column divides each run's answers/s by the 0-rule run"
	echo "of the same round (seconds apart), which is what the target (≤ 15 % fewer"
	echo "answers/s at 10 000 patterns, i.e. ≥ 0.85) is held against. The *extra on-CPU ns*"
	echo "column is the cost of matching per query, from the worker threads' own CPU time"
	echo "(it does not count time other processes had the CPU). Noise: a shared 2-vCPU VM;"
	echo "absolute rates move by tens of percent between runs, so compare within a round."
} >"$section"
bench_doc_splice bench-pipeline-overrides "$section" "$root/docs/benchmarks.md"
if [[ -n $ratio10k ]]; then
	# The on-CPU ratio does not count time other processes took the CPU from
	# the worker: when it is below target too, a busy machine does not excuse it.
	status=$(awk -v r="$ratio10k" -v c="${cpu10k:-0}" -v busy="${busiest:-0}" 'BEGIN {
		v = r >= 0.85 ? "met" : "not met"
		if (busy >= 50 && r < 0.85 && c >= 0.85)
			v = sprintf("inconclusive (CPUs up to %d %% busy with other work)", busy)
		printf "%s: %.3f of the 0-rule answers/s at 10 000 rules, %.3f by worker on-CPU time per answer (medians of per-round ratios)", v, r, c }')
	bench_doc_status "scripts/bench-pipeline --overrides" "$status" "$root/docs/benchmarks.md"
fi
echo "bench-pipeline: wrote its overrides section of docs/benchmarks.md" >&2
