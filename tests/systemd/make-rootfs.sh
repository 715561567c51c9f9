#!/usr/bin/env bash
# Builds (once) a Debian 12 minbase root file system that can boot systemd under systemd-nspawn and run the
# chatbus .deb: systemd, dbus, chatbus's runtime libraries and mosquitto-clients (mosquitto_pub/sub, the MQTT
# clients the gateway's checks use: a few hundred kB, where python3-paho-mqtt would bring all of python3).
# Cached as a tarball; prints its path. The tarball's name changes with the package list, so a cache built
# from an older list is not used (and is left for checkouts that still name it).
# Usage: make-rootfs.sh            (cache: ${XDG_CACHE_HOME:-~/.cache}/chatbus-systemd/rootfs-v3.tar)
set -euo pipefail
cache=${XDG_CACHE_HOME:-$HOME/.cache}/chatbus-systemd
tarball=$cache/rootfs-v3.tar
packages=systemd,systemd-sysv,dbus,procps,libzmq5,libspdlog1.10,libfmt9,libsodium23,libsystemd0,mosquitto-clients
mirror=${CHATBUS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
if [ ! -s "$tarball" ]; then
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/build.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "make-rootfs: debootstrap bookworm into $tmp (about a minute, once)" >&2
  debootstrap --variant=minbase --include="$packages" bookworm "$tmp/root" "$mirror" >"$tmp/debootstrap.log" 2>&1 || {
    tail -20 "$tmp/debootstrap.log" >&2
    exit 1
  }
  # smaller and quicker to boot: no apt lists, no docs, no man pages
  rm -rf "$tmp/root/var/lib/apt/lists/"* "$tmp/root/var/cache/apt/"*.bin "$tmp/root/usr/share/doc/"* \
    "$tmp/root/usr/share/man/"* "$tmp/root/usr/share/locale/"*
  tar -C "$tmp/root" -cf "$tmp/rootfs.tar" .
  mv "$tmp/rootfs.tar" "$tarball"
fi
echo "$tarball"
