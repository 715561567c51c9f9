#!/usr/bin/env bash
# Builds chatbus's four programs, then runs a broker, two workers and an MQTT gateway on localhost in the
# foreground, and says what to type next once the workers are live and the gateway reached the broker.
# Ctrl-C (or SIGTERM) stops what it started, by PID.
# Extra arguments are passed to the broker. Environment: CHATBUS_BUILD_DIR (default build/),
# CHATBUS_BROKER (the broker's client endpoint chatctl and the gateway use, default tcp://127.0.0.1:5555),
# CHATBUS_WORKER_ENDPOINT (default tcp://127.0.0.1:5556), CHATBUS_MQTT_LISTEN (the gateway's HOST:PORT for MQTT
# clients, default 127.0.0.1:1883, or a free port when something else, e.g. mosquitto, has 1883),
# CHATBUS_READY_TIMEOUT (seconds, default 30).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CHATBUS_BUILD_DIR:-$root/build}
bin=$build/bin
log=$build/start-build.log
ready_timeout=${CHATBUS_READY_TIMEOUT:-30}
say() { echo "start: $*" >&2; }

# pids[0] is the broker, then the workers, then the gateway; names[i] says which process pids[i] is.
pids=()
names=()
stop_all() {
  trap - INT TERM EXIT
  [ ${#pids[@]} -gt 0 ] || return 0
  # The gateway and the workers first (the gateway is a client; workers drain while the broker can still take
  # their rooms); then the broker.
  for pid in "${pids[@]:1}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]:1}"; do wait "$pid" 2>/dev/null || true; done
  kill -TERM "${pids[0]}" 2>/dev/null || true
  wait "${pids[0]}" 2>/dev/null || true
}
trap 'stop_all; exit 130' INT TERM
trap stop_all EXIT

# Make's "[ NN%] ..." lines, shortened: on a terminal one line rewritten in place, otherwise a line every 10%.
progress() {
  local tty=0 shown=-10 line pct
  [ -t 2 ] && tty=1
  while IFS= read -r line; do
    echo "$line" >>"$log"
    [[ $line =~ ^\[\ *([0-9]+)%\]\ (.*)$ ]] || continue
    pct=${BASH_REMATCH[1]}
    if [ $tty -eq 1 ]; then
      printf '\r\033[K  [%3d%%] %.70s' "$pct" "${BASH_REMATCH[2]}" >&2
    elif [ "$pct" -ge $((shown + 10)) ]; then
      shown=$pct
      printf '  [%3d%%] %s\n' "$pct" "${BASH_REMATCH[2]}" >&2
    fi
  done
  [ $tty -eq 0 ] || printf '\r\033[K' >&2
}

failed() {
  say "$1 failed; the last lines of $log:"
  tail -n 30 "$log" >&2
  exit 1
}

say "[1/4] checking build dependencies (Debian packages; installs what is missing)"
"$root/scripts/install-deps.sh"

mkdir -p "$build"
: >"$log"
say "[2/4] configuring with CMake into $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >>"$log" 2>&1 || failed "configuring"

# Only what runs here: the tests are built by scripts/test.sh.
targets=(chatbus-broker chatbus-worker chatbus-gateway chatctl)
say "[3/4] building ${targets[*]} on $(nproc) cores (minutes on a fresh machine, seconds after that)"
started=$SECONDS
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" 2>&1 | progress || failed "building"
say "      built in $((SECONDS - started)) s"

say "[4/4] starting a broker, 2 workers and an MQTT gateway"
# Registrations survive a restart of this script; delete build/state to start afresh.
"$bin/chatbus-broker" --state-dir "$build/state" "$@" &
pids+=($!)
names+=(broker)
worker_endpoint=${CHATBUS_WORKER_ENDPOINT:-tcp://127.0.0.1:5556}
for n in 1 2; do
  "$bin/chatbus-worker" --broker "$worker_endpoint" --id "worker$n" &
  pids+=($!)
  names+=("worker$n")
done

# The gateway is a client of the broker (its client endpoint). 1883 is MQTT's port; a mosquitto installed as a
# service listens there too, so unless CHATBUS_MQTT_LISTEN names the address, a taken 1883 means a free port
# (port 0), which the ready file tells.
broker=${CHATBUS_BROKER:-tcp://127.0.0.1:5555}
mqtt_listen=${CHATBUS_MQTT_LISTEN:-127.0.0.1:1883}
mqtt_note=""
if [ -z "${CHATBUS_MQTT_LISTEN:-}" ] && (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
  mqtt_listen=127.0.0.1:0
  mqtt_note="(1883 is taken by another program, a mosquitto service?; CHATBUS_MQTT_LISTEN=HOST:PORT chooses)"$'\n'
fi
gateway_ready=$build/gateway.ready
rm -f "$gateway_ready"
"$bin/chatbus-gateway" --listen "$mqtt_listen" --broker "$broker" --ready-file "$gateway_ready" &
pids+=($!)
names+=(gateway)

# Ready means both workers are live (before that a JOIN gets no_worker) and the gateway reached the broker (its
# ready file is written then): poll STATUS and the file, bounded.
deadline=$((SECONDS + ready_timeout))
workers=0
while :; do
  for i in "${!pids[@]}"; do
    kill -0 "${pids[$i]}" 2>/dev/null ||
      { say "the ${names[$i]} (pid ${pids[$i]}) exited during start-up (its log is above); stopping"; exit 1; }
  done
  status=$("$bin/chatctl" --broker "$broker" --timeout 1 --json status 2>/dev/null || true)
  workers=$(grep -o '"last_heartbeat_ms"' <<<"$status" | wc -l || true)
  [ "$workers" -ge 2 ] && [ -s "$gateway_ready" ] && break
  if [ $SECONDS -ge $deadline ]; then
    if [ -z "$status" ]; then
      say "the broker did not answer chatctl status at $broker within ${ready_timeout}s; stopping"
    elif [ "$workers" -lt 2 ]; then
      say "only $workers of 2 workers reached the broker within ${ready_timeout}s; stopping"
    else
      say "the MQTT gateway did not reach the broker within ${ready_timeout}s; stopping"
    fi
    exit 1
  fi
  sleep 0.2  # poll interval of the bounded wait above
done
mqtt=$(sed -n 's/^mqtt=//p' "$gateway_ready")
mqtt_host=${mqtt%:*}
mqtt_port=${mqtt##*:}

env_line=""
[ -z "${CHATBUS_BROKER:-}" ] || env_line="  export CHATBUS_BROKER=$broker"$'\n'
cat >&2 <<EOF

chatbus is ready: broker at $broker, $workers workers, MQTT gateway at $mqtt.
${mqtt_note}In another terminal:

  export PATH=$bin:\$PATH
$env_line  chatctl register alice         # claim a nick (the token is saved under ~/.config/chatbus/)
  chatctl chat lobby             # interactive; type /help there
  chatctl --json status          # counters and workers

MQTT 3.1.1 clients (mosquitto_sub/mosquitto_pub from mosquitto-clients, paho) connect to $mqtt:
user name = nick, password = its token (the token= line of ~/.config/chatbus/nicks/NICK), for example:

  mosquitto_sub -h $mqtt_host -p $mqtt_port -u alice -P TOKEN -t chatbus/room/lobby -v
  mosquitto_pub -h $mqtt_host -p $mqtt_port -u alice -P TOKEN -t chatbus/room/lobby -m 'hi from MQTT'

More in README.md ("A chat session"), docs/chatctl.md and docs/mqtt.md. Ctrl-C here stops the gateway, the
workers and the broker.

EOF
# Stop everything as soon as any one of them exits, so a crash is not hidden.
wait -n "${pids[@]}" || true
