#!/usr/bin/env bash
# Installs chatbus's build, test and runtime dependencies from Debian 12 packages.
# file: cpack's dpkg-shlibdeps step for the .deb;
# debootstrap and systemd-container: tests/integration/test_systemd.py boots the .deb under real systemd.
# Idempotent: does nothing when everything is present, runs `apt-get update` at most once otherwise.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libzmq3-dev cppzmq-dev libmsgpack-cxx-dev libcli11-dev libspdlog-dev doctest-dev libsodium-dev
  python3 python3-zmq python3-msgpack iproute2
  debootstrap systemd-container file
)

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
