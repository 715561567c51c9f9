#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test (unit, in-process, integration) with ctest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CHATBUS_BUILD_DIR:-$root/build}
"$root/scripts/build.sh" "$@"
cd "$build"
ctest --output-on-failure --timeout 300
