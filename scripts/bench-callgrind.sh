#!/usr/bin/env bash
# User-space instructions per message of chatbus-bench's fanout and rr cases under callgrind (the method of
# docs/benchmarks.md, "Where the time goes"): everything the process executed — broker, workers, the
# benchmark's clients, every ZeroMQ I/O thread, start-up included — divided by the BENCH lines' sent=.
# The kernel's share is not counted. Callgrind serialises threads, so time-bounded cases send fewer messages
# than without it; read the counts, not the rates.
#
# Usage: scripts/bench-callgrind.sh [-b BENCH_BIN] [-o DIR] [CASE...] [-- EXTRA_BENCH_ARGS...]
#   CASE: fanout-tcp fanout-local fanout-raw (10 subscribers, 100 B), rr-who-tcp rr-who-local rr-who-raw,
#         rr-send-tcp rr-send-local rr-send-raw (1 and 100 in flight together); default: all of them.
#   The callgrind.out files stay in DIR (default: callgrind/) for callgrind_annotate.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/build/bin/chatbus-bench
out=callgrind
while getopts "b:o:" opt; do
    case $opt in
        b) bin=$OPTARG ;;
        o) out=$OPTARG ;;
        *) sed -n '2,12p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
cases=()
while [[ $# -gt 0 && $1 != -- ]]; do cases+=("$1"); shift; done
[[ ${1:-} == -- ]] && shift
extra=("$@")
[[ ${#cases[@]} -gt 0 ]] || cases=(fanout-tcp fanout-local fanout-raw rr-who-tcp rr-who-local rr-who-raw
                                   rr-send-tcp rr-send-local rr-send-raw)
command -v valgrind >/dev/null || { echo "valgrind not found (apt-get install -y valgrind)" >&2; exit 1; }
mkdir -p "$out"

echo "| case | messages | instructions | per message |"
echo "|---|---|---|---|"
for c in "${cases[@]}"; do
    case $c in
        fanout-*) args=(--workload fanout --fanout-subs 10 --fanout-size 100) ;;
        rr-who-*) args=(--workload rr --rr-request WHO) ;;
        rr-send-*) args=(--workload rr --rr-request SEND) ;;
        *) echo "unknown case $c" >&2; exit 2 ;;
    esac
    case $c in
        *-tcp) args+=(--system chatbus --link tcp) ;;
        *-local) args+=(--system chatbus --link local) ;;
        *-raw) args+=(--system zmq-raw) ;;
        *) echo "unknown case $c" >&2; exit 2 ;;
    esac
    file=$out/callgrind.out.$c
    # A loss under callgrind's slow clock (exit status 3) still leaves a valid count of what ran.
    valgrind --tool=callgrind --callgrind-out-file="$file" "$bin" "${args[@]}" "${extra[@]}" \
        >"$out/$c.stdout" 2>"$out/$c.stderr" || [[ $? == 3 ]] || { echo "$c failed: see $out/$c.stderr" >&2; exit 1; }
    sent=$(awk '/^BENCH /{for (i = 2; i <= NF; i++) if ($i ~ /^sent=/) s += substr($i, 6)} END {print s + 0}' \
        "$out/$c.stdout")
    ir=$(awk '/^(summary|totals):/{print $2; exit}' "$file")
    awk -v c="$c" -v s="$sent" -v ir="$ir" \
        'BEGIN {printf "| %s | %d | %d | %s |\n", c, s, ir, s ? sprintf("%.0f", ir / s) : "–"}'
done
