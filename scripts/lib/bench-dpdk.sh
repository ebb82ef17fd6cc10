# shellcheck shell=bash
# Helpers shared by the DPDK benchmark scripts (bench-pipeline, bench-veth).
# shellcheck disable=SC2154 # root: set by the sourcing script
# Source it after setting `root` (the source tree); it defines functions and
# the variables below, and starts nothing by itself.
#
#   bench_need_root NAME                 exit 1 unless root
#   bench_release_build NAME DIR TARGET... configure DIR (release) if needed,
#                                        refuse unoptimised or sanitized builds,
#                                        build the targets; sets BENCH_BUILDTYPE
#   bench_hugepages NAME [PAGES]         ensure >= PAGES (512) 2 MiB hugepages and
#                                        hugetlbfs on /dev/hugepages; what this
#                                        changed is undone by bench_cleanup
#   bench_spawn LOG CMD...               start CMD in the background (stdout and
#                                        stderr to LOG); its pid in BENCH_PID, and
#                                        remembered for bench_cleanup
#   bench_stop PID...                    SIGTERM, wait up to 5 s, then SIGKILL
#   bench_wait_log PID LOG PATTERN SECS  wait until LOG matches PATTERN (0),
#                                        PID died or time ran out (1)
#   bench_cleanup                        stop every process bench_spawn started
#                                        (by pid), undo bench_hugepages; call
#                                        it from an EXIT trap
#   bench_stats HF_STATS INSTANCE [--workers]   one hf-stats sample
#   bench_sysinfo                        "AMD EPYC, 2 CPUs, Linux 6.x"
#   bench_port_desc                      sets BENCH_RXD and BENCH_TXD to the
#                                        dataplane's ring sizes (dataplane/port.h),
#                                        so testpmd ceilings use the same

BENCH_PIDS=()
BENCH_PID=
BENCH_HP_OLD=
BENCH_HP_MOUNTED=0
BENCH_HP_MKDIR=0
BENCH_BUILDTYPE=

bench_need_root() {
	if [[ $(id -u) != 0 ]]; then
		echo "$1: needs root (hugepages, DPDK, namespaces)" >&2
		exit 1
	fi
}

bench_release_build() {
	local name=$1 dir=$2 sanitize
	shift 2
	if [[ ! -f $dir/build.ninja ]]; then
		echo "$name: configuring $dir (release)" >&2
		meson setup "$dir" "$root" --buildtype=release >/dev/null
	fi
	read -r BENCH_BUILDTYPE sanitize < <(meson introspect "$dir" --buildoptions | python3 -c '
import json, sys
opts = {o["name"]: o["value"] for o in json.load(sys.stdin)}
print(opts["buildtype"], opts["b_sanitize"])')
	case $BENCH_BUILDTYPE in
	release|debugoptimized|minsize) ;;
	*) sanitize="$sanitize, buildtype=$BENCH_BUILDTYPE" ;;
	esac
	if [[ $sanitize != none ]]; then
		echo "$name: $dir is not an optimised build without sanitizers" \
			"(b_sanitize=$sanitize); use e.g. --build-dir build-release" >&2
		exit 1
	fi
	ninja -C "$dir" "$@" >/dev/null
}

bench_hugepages() {
	local name=$1 want=${2:-512} have
	have=$(cat /proc/sys/vm/nr_hugepages)
	if ((have < want)); then
		BENCH_HP_OLD=$have
		echo "$want" >/proc/sys/vm/nr_hugepages
		have=$(cat /proc/sys/vm/nr_hugepages)
		if ((have < want)); then
			echo "$name: only $have of $want hugepages could be reserved" >&2
		fi
	fi
	if ! grep -qs ' /dev/hugepages hugetlbfs ' /proc/mounts; then
		if [[ ! -d /dev/hugepages ]]; then
			mkdir /dev/hugepages
			BENCH_HP_MKDIR=1
		fi
		mount -t hugetlbfs nodev /dev/hugepages
		BENCH_HP_MOUNTED=1
	fi
}

bench_spawn() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	BENCH_PID=$!
	BENCH_PIDS+=("$BENCH_PID")
}

bench_stop() {
	local pid i
	for pid in "$@"; do
		[[ -n $pid ]] || continue
		kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; continue; }
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	bench_forget "$@"
}

# Drop pids that were reaped (bench_stop, or the caller's own wait) from the
# list, so that bench_cleanup never signals a reused pid.
bench_forget() {
	local pid keep=() p
	for p in "${BENCH_PIDS[@]}"; do
		for pid in "$@"; do
			[[ $p == "$pid" ]] && continue 2
		done
		keep+=("$p")
	done
	BENCH_PIDS=("${keep[@]}")
}

bench_wait_log() {
	local pid=$1 log=$2 pattern=$3 secs=$4 i
	for ((i = 0; i < secs * 10; i++)); do
		grep -aq -- "$pattern" "$log" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

bench_cleanup() {
	local pid
	for pid in "${BENCH_PIDS[@]}"; do
		bench_stop "$pid"
	done
	BENCH_PIDS=()
	if ((BENCH_HP_MOUNTED)); then
		umount /dev/hugepages 2>/dev/null || true
		BENCH_HP_MOUNTED=0
	fi
	if ((BENCH_HP_MKDIR)); then
		rmdir /dev/hugepages 2>/dev/null || true
		BENCH_HP_MKDIR=0
	fi
	if [[ -n $BENCH_HP_OLD ]]; then
		echo "$BENCH_HP_OLD" >/proc/sys/vm/nr_hugepages
		BENCH_HP_OLD=
	fi
}

bench_stats() {
	local bin=$1 instance=$2
	shift 2
	"$bin" --instance "$instance" "$@"
}

bench_sysinfo() {
	local cpu
	cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
	echo "$cpu, $(nproc) CPUs, Linux $(uname -r)"
}

# bench_busy_pct SECONDS: share (%) of all CPUs busy (not idle/iowait) over SECONDS.
bench_busy_pct() {
	local a b
	a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
	sleep "$1"
	b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ")
		busy = y[1] - x[1]; idle = y[2] - x[2]
		printf "%.0f\n", busy + idle ? 100 * busy / (busy + idle) : 0 }'
}

# bench_wait_quiet NAME MAX_SECONDS: call while nothing of ours runs; waits
# until the CPUs are < 10 % busy over 1 s (other processes share this VM), at
# most MAX_SECONDS. Prints the last busy % seen; warns if it never got quiet.
bench_wait_quiet() {
	local name=$1 max=$2 t=0 pct
	while :; do
		pct=$(bench_busy_pct 1)
		((pct < 10 || t >= max)) && break
		t=$((t + 1))
	done
	((pct < 10)) || echo "$name: other processes keep the CPUs $pct % busy; measuring anyway" >&2
	echo "$pct"
}

bench_port_desc() {
	BENCH_RXD=$(sed -n 's/^#define HF_PORT_RX_DESC \([0-9]*\).*/\1/p' "$root/dataplane/port.h")
	BENCH_TXD=$(sed -n 's/^#define HF_PORT_TX_DESC \([0-9]*\).*/\1/p' "$root/dataplane/port.h")
	[[ -n $BENCH_RXD && -n $BENCH_TXD ]] ||
		{ echo "bench: cannot read HF_PORT_RX_DESC/HF_PORT_TX_DESC from dataplane/port.h" >&2; exit 1; }
}
