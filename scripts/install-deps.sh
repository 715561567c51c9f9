#!/usr/bin/env bash
# Installs chatbus's dependencies from Debian 12 packages.
#
#   install-deps.sh          what building and running needs (scripts/build.sh, scripts/start.sh)
#   install-deps.sh --test   that and what only the tests need (scripts/test.sh; docs/testing.md)
#
# Build: doctest-dev and python3 too, because the default configure (CHATBUS_TESTS=ON) looks for them;
# file: cpack's dpkg-shlibdeps step for the .deb. nlohmann-json3-dev: the one JSON library (chatctl's --json, the
# gateway's payloads); header-only, so the .deb needs nothing for it. libboost-dev: Boost.Asio for the gateway's
# event loop, Debian's default Boost 1.74 (never libboost1.81-dev: it removes libmsgpack-cxx-dev).
# Test only: python3-zmq, python3-msgpack (the integration tests' raw client); iproute2 (test_multihost's network
# namespaces); debootstrap, systemd-container (test_systemd boots the .deb under real systemd); clang-14 and
# libclang-rt-14-dev (tests/fuzz: clang-14 only recommends the libFuzzer runtime, and recommends are not installed);
# mosquitto-clients, python3-paho-mqtt (the MQTT clients the gateway's tests use) and mosquitto (the peer broker
# chatbus-bench's mqtt workload measures beside the gateway).
# Idempotent: does nothing when everything is present, runs `apt-get update` at most once otherwise.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libzmq3-dev cppzmq-dev libmsgpack-cxx-dev libcli11-dev libspdlog-dev doctest-dev libsodium-dev
  nlohmann-json3-dev libboost-dev
  python3 file
)
case "${1:-}" in
  "") ;;
  --test) packages+=(python3-zmq python3-msgpack iproute2 debootstrap systemd-container clang-14 libclang-rt-14-dev
    mosquitto-clients python3-paho-mqtt mosquitto) ;;
  *) echo "usage: $0 [--test]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
