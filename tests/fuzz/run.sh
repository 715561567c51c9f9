#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang++-14 (ASan + UBSan) and runs each for SECONDS on a seed
# corpus generated from encode() of sample messages.
#
#   tests/fuzz/run.sh SECONDS [TARGET...]      TARGET: codec worker broker mqtt (default: all four)
#
# Environment: CHATBUS_FUZZ_DIR (build and corpus directory; default build-fuzz/ in the repository),
# CHATBUS_FUZZ_CXX (default clang++-14), CHATBUS_FUZZ_JOBS (parallel compiles, default 2).
# libFuzzer's own default error exit code is 77, which ctest would read as "skipped": it is set to 1.
# SECONDS=0 only builds. Exit: 0 no crash; 1 a crash, a hang, or targets that cannot be built (no clang++-14, no
# libFuzzer runtime: never a skip, so a machine without them cannot pass the test command); the reproducer's path
# and hex are printed. Reproduce a crash: build-fuzz/fuzz_TARGET FILE.
set -uo pipefail

secs=${1:-}
if [[ ! $secs =~ ^[0-9]+$ ]]; then
    echo "usage: $0 SECONDS [codec|worker|broker|mqtt]..." >&2
    exit 2
fi
shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(codec worker broker mqtt)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${CHATBUS_FUZZ_DIR:-$root/build-fuzz}
cxx=${CHATBUS_FUZZ_CXX:-clang++-14}
mkdir -p "$out"

if ! command -v "$cxx" >/dev/null 2>&1; then
    echo "FAIL: $cxx not found (scripts/install-deps.sh --test installs clang-14 and libclang-rt-14-dev)"
    exit 1
fi
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
    >"$out/probe.cpp"
if ! "$cxx" -fsanitize=fuzzer,address,undefined "$out/probe.cpp" -o "$out/probe" >"$out/probe.log" 2>&1; then
    echo "FAIL: $cxx cannot build libFuzzer targets (Debian: libclang-rt-14-dev holds the runtime):"
    cat "$out/probe.log"
    exit 1
fi

echo "building fuzz targets in $out"
if ! make -s -f "$here/fuzz.mk" ROOT="$root" OUT="$out" CXX="$cxx" -j"${CHATBUS_FUZZ_JOBS:-2}"; then
    echo "FAIL: the fuzz targets do not build"
    exit 1
fi
"$out/gen_seeds" "$out/seeds" || { echo "FAIL: gen_seeds"; exit 1; }
if [ "$secs" -eq 0 ]; then
    echo "built (SECONDS=0: nothing run)"
    exit 0
fi

failed=0
total=0
for t in "${targets[@]}"; do
    bin="$out/fuzz_$t"
    [ -x "$bin" ] || { echo "FAIL: no target $t"; failed=1; continue; }
    mkdir -p "$out/corpus/$t" "$out/crashes"
    log="$out/$t.log"
    opts=(-max_total_time="$secs" -print_final_stats=1 -max_len=16384 -timeout=20 -rss_limit_mb=2048
          -error_exitcode=1 -timeout_exitcode=1
          -artifact_prefix="$out/crashes/$t-")
    asan=${ASAN_OPTIONS:-}
    if [ "$t" = broker ]; then
        # The broker harness keeps one broker (and its threads) across inputs: memory it still holds is state,
        # not a leak, and libFuzzer's per-input leak check cannot tell the two apart.
        opts+=(-detect_leaks=0)
        asan="detect_leaks=0${asan:+:$asan}"
    fi
    before=$(ls "$out/crashes" | grep -c "^$t-" || true)
    ASAN_OPTIONS="$asan" UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
        "$bin" "${opts[@]}" "$out/corpus/$t" "$out/seeds/$t" >"$log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    execs=${execs:-0}
    total=$((total + execs))
    units=$(ls "$out/corpus/$t" | wc -l)
    rate=$((execs / (secs > 0 ? secs : 1)))
    after=$(ls "$out/crashes" | grep -c "^$t-" || true)
    if [ $rc -ne 0 ] || [ "$after" -gt "$before" ]; then
        failed=1
        echo "FAIL: fuzz_$t exited $rc after $execs execs"
        grep -E 'ERROR|SUMMARY|fuzz_[a-z]+:|Test unit written|==[0-9]+==' "$log" | head -20
        crash=$(ls -t "$out"/crashes/"$t"-* 2>/dev/null | head -1)
        if [ -n "$crash" ]; then
            echo "reproducer: $crash ($(wc -c <"$crash") bytes); rerun: $bin $crash"
            echo "hex: $(od -An -v -tx1 "$crash" | tr -d ' \n' | cut -c1-2048)"
        fi
        echo "log: $log"
    else
        echo "fuzz_$t: $execs execs in $secs s (~$rate/s), corpus $units units, no crash"
    fi
done
echo "fuzz: ${#targets[@]} targets, $total execs, $([ $failed -eq 0 ] && echo "no crash" || echo "FAILED")"
exit $failed
