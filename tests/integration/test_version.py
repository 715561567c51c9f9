#!/usr/bin/env python3
"""Every binary answers --version in one format: NAME VERSION (protocol P, BUILD_TYPE), with CMake's project
version, the build's type, and the protocol version the broker really speaks."""
import os
import re
import subprocess

from chatbus_harness import STATUS, T, Cluster, RawClient, bin_dir, check, check_eq, encode, run_checks

HERE = os.path.dirname(os.path.abspath(__file__))
BINARIES = ("chatbus-broker", "chatbus-worker", "chatbus-gateway", "chatctl", "chatbus-bench")
LINE = re.compile(r"^(\S+) ([0-9]+\.[0-9]+\.[0-9]+) \(protocol ([0-9]+), (\w+)\)$")


def project_version():
    with open(os.path.join(HERE, "..", "..", "CMakeLists.txt")) as f:
        m = re.search(r"project\(chatbus VERSION ([0-9.]+)", f.read())
    check(m is not None, "no project VERSION in CMakeLists.txt")
    return m.group(1)


def cached_build_type():
    """CMAKE_BUILD_TYPE from the build tree the binaries come from (bin/ is inside it), if it is one."""
    cache = os.path.join(bin_dir(), "..", "CMakeCache.txt")
    if not os.path.exists(cache):
        return None
    with open(cache) as f:
        m = re.search(r"^CMAKE_BUILD_TYPE:\w+=(.*)$", f.read(), re.M)
    return m.group(1) if m else None


def versions(c):
    seen = {}
    for name in BINARIES:
        p = subprocess.run([os.path.join(bin_dir(), name), "--version"], capture_output=True, timeout=15)
        out = p.stdout.decode(errors="replace")
        check_eq(p.returncode, 0, "%s --version exit code (stderr %r)" % (name, p.stderr))
        lines = out.splitlines()
        check_eq(len(lines), 1, "%s --version lines: %r" % (name, out))
        m = LINE.match(lines[0])
        check(m is not None, "%s --version: %r does not read NAME VERSION (protocol P, BUILD)" % (name, lines[0]))
        check_eq(m.group(1), name, "program name in %r" % lines[0])
        seen[name] = m.groups()[1:]
    check_eq(len(set(seen.values())), 1, "the four binaries disagree: %r" % seen)
    version, protocol, build = seen["chatctl"]
    check_eq(version, project_version(), "version against CMakeLists.txt")
    want_build = cached_build_type()
    if want_build:
        check_eq(build, want_build, "build type against CMakeCache.txt")

    # The broker answers a HELLO in that protocol version and refuses the next one as bad_version.
    raw = RawClient(c.client_ep, curve=c.raw_curve())
    try:
        check_eq(raw.request("HELLO").get("status"), STATUS["ok"], "HELLO in the default version")
        for v, want in ((int(protocol), "ok"), (int(protocol) + 1, "bad_version")):
            raw.send_raw(encode(T["HELLO"], {"rid": 7000 + v}, version=v))
            t, body = raw.recv(5)  # whether a refusal keeps the rid is not this test's business
            check_eq(body.get("status"), STATUS[want], "HELLO with version %d (reply type %#x)" % (v, t))
    finally:
        raw.close()


if __name__ == "__main__":
    run_checks([("--version of every binary", versions)], cluster_factory=lambda: Cluster(workers=0))
