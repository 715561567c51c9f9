#!/usr/bin/env bash
# Instructions per SEND in a broker process alone (with 2 local workers), under callgrind: the broker runs under
# valgrind, chatbus-bench's rr SEND runs outside it (--broker). Compares two brokers' cost of a request that
# reaches a worker, with one bench driving both, e.g. an older build's broker against this one's.
#
# Usage: scripts/bench-broker-callgrind.sh BROKER_BIN [BENCH_BIN]   (BENCH_BIN: build/bin/chatbus-bench)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
broker=${1:?usage: $0 BROKER_BIN [BENCH_BIN]}
bench=${2:-$root/build/bin/chatbus-bench}
command -v valgrind >/dev/null || { echo "valgrind not found (apt-get install -y valgrind)" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# A benchmark is a flood by design: the limits are off, as in chatbus-bench's own cluster.
valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$broker" --client 'tcp://127.0.0.1:*' \
    --worker 'tcp://127.0.0.1:*' --events 'tcp://127.0.0.1:*' --local-workers 2 --ready-file "$dir/ready" \
    --client-rate 0 --nick-rate 0 --max-clients 0 --max-rooms-per-nick 0 --max-room-members 0 \
    --log-level warn >"$dir/broker.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do [[ -s $dir/ready ]] && break; sleep 0.1; done
[[ -s $dir/ready ]] || { echo "broker not ready: $(cat "$dir/broker.log")" >&2; kill "$pid"; exit 1; }
ep=$(sed -n 's/^client=//p' "$dir/ready")
# The bench registers and joins first; its rr waits for its replies, so a slow start only delays it.
"$bench" --broker "$ep" --workload rr --rr-request SEND --system chatbus >"$dir/bench.out" 2>"$dir/bench.err" ||
    { echo "bench failed: $(cat "$dir/bench.err")" >&2; kill "$pid"; exit 1; }
kill -INT "$pid"
wait "$pid" || true
sent=$(awk '/^BENCH /{for (i = 2; i <= NF; i++) if ($i ~ /^sent=/) s += substr($i, 6)} END {print s + 0}' \
    "$dir/bench.out")
ir=$(awk '/^(summary|totals):/{print $2; exit}' "$dir/cg.out")
echo "| $broker | SEND $sent | instructions $ir | per SEND $((ir / (sent > 0 ? sent : 1))) |"
