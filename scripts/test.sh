#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test (docs/testing.md):
#   1. build/       the normal build (RelWithDebInfo): every test, the 60 s libFuzzer runs included;
#   2. build-asan/  an ASan+UBSan build: the unit and in-process tests and the integration tests labelled
#                   `sanitize`, where a sanitizer report in any process fails the test.
# Both parts run even when the first fails, so one run shows everything; the last line counts both.
# Environment: CHATBUS_BUILD_DIR, CHATBUS_ASAN_BUILD_DIR (the two trees), CHATBUS_TEST_PARTS ("normal asan" by
# default; e.g. "asan" runs only the sanitizer part). Extra arguments go to the normal build's configure step.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CHATBUS_BUILD_DIR:-$root/build}
asan_build=${CHATBUS_ASAN_BUILD_DIR:-$root/build-asan}
parts=${CHATBUS_TEST_PARTS:-normal asan}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

"$root/scripts/install-deps.sh" --test

stage() { echo "== test.sh: $* ($(date +%T))"; }

# Runs ctest in $1 with the rest as arguments; its output goes to the terminal and to $logs/$part.log.
run_ctest() {
  local dir=$1 part=$2
  shift 2
  (cd "$dir" && ctest --output-on-failure --timeout 300 "$@") 2>&1 | tee "$logs/$part.log" || true
}

for part in $parts; do
  case $part in
  normal)
    stage "building $build"
    "$root/scripts/build.sh" "$@"
    stage "running every test in $build"
    run_ctest "$build" normal
    ;;
  asan)
    stage "building $asan_build (ASan+UBSan, -O1)"
    # -O1 -g1: fast enough to run the failover tests' timings, line numbers in reports, a quicker build.
    cmake -S "$root" -B "$asan_build" -DCHATBUS_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
      -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" >/dev/null
    cmake --build "$asan_build" -j"$(nproc)" --target chatbus-broker chatbus-worker chatbus-gateway chatctl \
      unit_common unit_worker unit_broker unit_client unit_gateway unit_inproc
    stage "running the unit, in-process and sanitize-labelled tests in $asan_build"
    # A finding must fail the test: abort at the first one, in every process the tests start.
    CHATBUS_SANITIZED=1 ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
      run_ctest "$asan_build" asan -L 'unit|sanitize'
    ;;
  *)
    echo "test.sh: unknown part '$part' in CHATBUS_TEST_PARTS (normal, asan)" >&2
    exit 2
    ;;
  esac
done

# One summary over both parts. ctest's own closing line counts a skipped test as passed, so skips are listed here.
total=0 failed=0 skipped=0 skipped_names=() failed_names=()
for part in $parts; do
  log=$logs/$part.log
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1 || true)
  if [ -z "$line" ]; then
    echo "test.sh: the $part part ran no ctest to completion (build failure?)" >&2
    failed=$((failed + 1))
    failed_names+=("$part:(no test run)")
    continue
  fi
  n=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
  f=$(sed -E 's/.*, ([0-9]+) tests? failed.*/\1/' <<<"$line")
  total=$((total + n))
  failed=$((failed + f))
  while read -r name; do
    [ -n "$name" ] && skipped_names+=("$part:$name")
  done < <(grep -E '\*\*\*Skipped|\(Skipped\)' "$log" | grep -oE '(integration|fuzz|common|worker|broker|client|gateway|inproc)\.[A-Za-z0-9_.]+' | sort -u)
  while read -r name; do
    [ -n "$name" ] && failed_names+=("$part:$name")
  done < <(sed -n '/The following tests FAILED/,$p' "$log" | grep -oE ' - [^ ]+' | cut -c4- | sort -u)
done
skipped=${#skipped_names[@]}
echo
echo "skipped tests: $skipped${skipped_names:+ (${skipped_names[*]})} (docs/testing.md says which may skip, and when)"
[ ${#failed_names[@]} -gt 0 ] && echo "failed tests: ${failed_names[*]}"
echo "tests: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
