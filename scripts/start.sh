#!/usr/bin/env bash
# Builds chatbus, then runs a broker and two workers on localhost in the foreground.
# Ctrl-C (or SIGTERM) stops all three cleanly. Extra arguments are passed to the broker.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CHATBUS_BUILD_DIR:-$root/build}
"$root/scripts/build.sh" >/dev/null
bin=$build/bin

pids=()
stop_all() {
  trap - INT TERM EXIT
  # Workers first, so they drain while the broker can still take their rooms; then the broker.
  for pid in "${pids[@]:1}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait "${pids[@]:1}" 2>/dev/null || true
  kill -TERM "${pids[0]}" 2>/dev/null || true
  wait "${pids[0]}" 2>/dev/null || true
}
trap stop_all INT TERM EXIT

# Registrations survive a restart of this script; delete build/state to start afresh.
"$bin/chatbus-broker" --state-dir "$build/state" "$@" &
pids+=($!)
worker_endpoint=${CHATBUS_WORKER_ENDPOINT:-tcp://127.0.0.1:5556}
for n in 1 2; do
  "$bin/chatbus-worker" --broker "$worker_endpoint" --id "worker$n" &
  pids+=($!)
done
echo "chatbus: broker and 2 workers running; try: $bin/chatctl status   (Ctrl-C stops)" >&2
# Stop everything as soon as any one of them exits, so a crash is not hidden.
wait -n "${pids[@]}" || true
