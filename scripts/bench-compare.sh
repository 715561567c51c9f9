#!/usr/bin/env bash
# Compares two chatbus-bench binaries on this machine: each workload runs before, after, before, after, ...
# (--runs N times each, one run per invocation), so both see the same load as it drifts. Prints one Markdown
# table per workload: the median of each row's figure (rate; p50 for latency and cli; RSS for scale) for
# before and after, after ÷ before, chatbus ÷ raw within each binary's runs (the steadier figure on a shared
# machine), and WORSE where after is more than 5% worse than before (or anything was lost).
#
# Usage: scripts/bench-compare.sh BEFORE_BIN AFTER_BIN [chatbus-bench args...]
#   e.g. scripts/bench-compare.sh /tmp/before/chatbus-bench build/bin/chatbus-bench --workload rr --runs 3
# The BENCH lines stay in $CHATBUS_COMPARE_DIR if set (a temporary directory otherwise, removed at exit).
set -euo pipefail
[[ $# -ge 2 ]] || { sed -n '2,10p' "$0" >&2; exit 2; }
before=$1 after=$2
shift 2
runs=1 workloads=(fanout latency rr dm scale cli) args=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --runs) runs=$2; shift 2 ;;
        --runs=*) runs=${1#--runs=}; shift ;;
        --workload) [[ $2 == all ]] || workloads=("$2"); shift 2 ;;
        --workload=*) [[ ${1#*=} == all ]] || workloads=("${1#*=}"); shift ;;
        --markdown) shift 2 ;;  # the comparison is the table
        *) args+=("$1"); shift ;;
    esac
done
if [[ -n ${CHATBUS_COMPARE_DIR:-} ]]; then
    dir=$CHATBUS_COMPARE_DIR
    mkdir -p "$dir"
else
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
fi

for ((run = 1; run <= runs; run++)); do
    # Workload by workload, so a before and its after are minutes apart at most even in a full set.
    for w in "${workloads[@]}"; do
        for side in before after; do
            echo "run $run/$runs: $w, $side" >&2
            status=0
            "${!side}" --workload "$w" "${args[@]}" >"$dir/$side-$run-$w.out" 2>"$dir/$side-$run-$w.err" || status=$?
            # 3: something was lost, which the table shows; anything else is a failure of the binary.
            if [[ $status != 0 && $status != 3 ]]; then
                echo "$side ($w) exited with $status: $(tail -n 3 "$dir/$side-$run-$w.err")" >&2
                exit 1
            fi
        done
    done
done

/usr/bin/python3 - "$dir" <<'PY'
import glob, os, statistics, sys
from collections import defaultdict

LOWER_IS_BETTER = {"latency", "cli", "scale"}  # p50 latency; RSS

def row_key(f):
    # As the bench's own --markdown groups rows: rr's size and fanout's window are not separate cases.
    case = [f.get("variant", "")]
    if f["subs"] != "0": case.append("subs=" + f["subs"])
    if f["size"] != "0" and f["workload"] != "rr": case.append(f["size"] + " B")
    if f["inflight"] != "0" and f["workload"] != "fanout": case.append("inflight=" + f["inflight"])
    if f["offered"] != "max": case.append(f["offered"] + " msg/s")
    series = f["system"] + ("+local" if f.get("workers") == "local" else "")
    return " ".join(c for c in case if c), series

def figure(f):
    return float(f["p50_us"] if f["workload"] in ("latency", "cli") else f["rate"])

# values[workload][(case, series)][side] -> [figure per run]; lost likewise summed.
values = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
lost = defaultdict(int)
order = defaultdict(list)
# Before's files first, so rows come in before's order and after's new rows follow.
def before_first(path):
    return os.path.basename(path).startswith("after"), path

for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.out")), key=before_first):
    side = os.path.basename(path).split("-")[0]
    for line in open(path):
        if not line.startswith("BENCH "):
            continue
        f = dict(t.split("=", 1) for t in line.split()[1:])
        w, k = f["workload"], row_key(f)
        if k not in values[w]:
            order[w].append(k)
        values[w][k][side].append(figure(f))
        lost[w, k] += int(f["lost"])

def num(x):  # as the bench's own table writes them
    if x is None: return "–"
    if x >= 1e6: return "%.2f M" % (x / 1e6)
    if x >= 1e4: return "%.1f k" % (x / 1e3)
    return "%.0f" % x if x >= 100 else "%.1f" % x

def med(v):
    return statistics.median(v) if v else None

def paired(cb, raw):
    if not cb or len(cb) != len(raw) or not all(raw):
        return None
    return statistics.median(c / r for c, r in zip(cb, raw))

for w in ("fanout", "latency", "rr", "dm", "scale", "cli"):
    if w not in values:
        continue
    print("\n### %s\n" % w)
    print("| case | system | before | after | after ÷ before | ÷ raw before → after | lost | |")
    print("|---|---|---|---|---|---|---|---|")
    for case, series in order[w]:
        g = values[w][case, series]
        b, a = med(g["before"]), med(g["after"])
        ratio = a / b if a is not None and b else None
        worse = ratio is not None and (ratio > 1.05 if w in LOWER_IS_BETTER else ratio < 0.95)
        raw = values[w].get((case, "zmq-raw"), {})
        vs_raw = "–"
        if series != "zmq-raw" and raw:
            # Within each run, as the bench's table does: the pair saw the same moment of the machine.
            vb, va = paired(g["before"], raw["before"]), paired(g["after"], raw["after"])
            if vb is not None and va is not None:
                vs_raw = "%.2f× → %.2f×" % (vb, va)
        flag = "WORSE" if worse or lost[w, (case, series)] else ""
        print("| %s | %s | %s | %s | %s | %s | %d | %s |" % (
            case, series, num(b), num(a), "–" if ratio is None else "%.2f×" % ratio, vs_raw,
            lost[w, (case, series)], flag))
PY
