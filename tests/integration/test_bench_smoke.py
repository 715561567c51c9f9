#!/usr/bin/env python3
"""chatbus-bench --quick: every workload prints BENCH lines for chatbus and for the raw-libzmq baseline, with
every documented key, and nothing is lost; chatbus is measured with TCP workers and with local workers. The mqtt
workload prints each of its rows for chatbus (through chatbus-gateway) and for its peer (Mosquitto, or a ZeroMQ SUB
client of the same broker). Tiny counts: this checks the benchmark's correctness, not speed (docs/benchmarks.md)."""
import os
import subprocess
import sys
import tempfile
import time

KEYS = ("system workload subs size inflight offered sent delivered lost wall_s rate unit "
        "p50_us p99_us p999_us max_us").split()
WORKLOADS = ("fanout", "latency", "rr", "dm", "scale", "cli")
SYSTEMS = ("chatbus/tcp", "chatbus/local", "zmq-raw")  # chatbus by its `workers=` key
BOTH_LINKS = ("fanout", "latency", "rr", "dm", "cli")  # scale runs the real binaries with worker processes
RR_REQUESTS = ("WHO", "SEND")  # rr's `variant=`: each request beside the raw baseline with its hops
# mqtt's rows (`variant=`) and the systems each is measured on; its peers are not raw libzmq.
MQTT_ROWS = {
    "fanout": ("chatbus/tcp", "chatbus/local", "mosquitto"),
    "latency": ("chatbus/tcp", "chatbus/local", "zmq-sub"),
    "idle": ("chatbus/tcp", "mosquitto"),
    "idle-anonymous": ("chatbus/tcp",),
}
BUDGET_S = 60  # a quick run takes ~5-10 s; a loaded machine gets slack before this counts as a hang


def parse(line):
    fields = {}
    for token in line.split()[1:]:
        key, sep, value = token.partition("=")
        if not sep:
            raise AssertionError("token without '=' in %r" % line)
        fields[key] = value
    return fields


def main():
    bin_dir = os.environ.get("CHATBUS_BIN_DIR")
    if not bin_dir:
        sys.exit("CHATBUS_BIN_DIR is not set (ctest sets it)")
    exe = os.path.join(bin_dir, "chatbus-bench")
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        md = os.path.join(tmp, "bench.md")
        started = time.monotonic()
        try:
            proc = subprocess.run([exe, "--quick", "--markdown", md], capture_output=True, text=True,
                                  timeout=BUDGET_S)
        except subprocess.TimeoutExpired:
            sys.exit("FAIL: chatbus-bench --quick did not finish within %d s" % BUDGET_S)
        took = time.monotonic() - started
        lines = [l for l in proc.stdout.splitlines() if l.startswith("BENCH ")]
        if proc.returncode != 0:
            failures.append("exit status %d; stderr:\n%s" % (proc.returncode, proc.stderr[-4000:]))
        seen = set()
        for line in lines:
            f = parse(line)
            missing = [k for k in KEYS if k not in f]
            if missing:
                failures.append("missing %s in %r" % (missing, line))
                continue
            system = f["system"]
            if system == "chatbus":
                system += "/" + f.get("workers", "?")
            if f["workload"] == "mqtt" and system != "chatbus/tcp" and system != "chatbus/local":
                system = f["system"]  # the peers: mosquitto, and zmq-sub (tagged with the cluster's workers=)
            seen.add((f["workload"], system))
            seen.add((f["workload"] + "/" + f.get("variant", ""), system))
            if f["lost"] != "0":
                failures.append("lost=%s in %r" % (f["lost"], line))
            if int(f["sent"]) <= 0 or int(f["delivered"]) <= 0:
                failures.append("nothing sent or delivered in %r" % line)
            for k in ("wall_s", "rate", "p50_us", "p99_us", "p999_us", "max_us"):
                float(f[k])  # a number, or this raises
        for w in WORKLOADS:
            for s in SYSTEMS:
                if s == "chatbus/local" and w not in BOTH_LINKS:
                    continue
                if (w, s) not in seen:
                    failures.append("no BENCH line for workload=%s system=%s" % (w, s))
        for variant, systems in MQTT_ROWS.items():
            for s in systems:
                if ("mqtt/" + variant, s) not in seen:
                    failures.append("no BENCH line for workload=mqtt variant=%s system=%s" % (variant, s))
        for r in RR_REQUESTS:
            for s in SYSTEMS:
                if ("rr/" + r, s) not in seen:
                    failures.append("no BENCH line for workload=rr variant=%s system=%s" % (r, s))
        table = open(md).read() if os.path.exists(md) else ""
        if "| fanout |" not in table or "(local workers)" not in table:
            failures.append("--markdown wrote no table, or none with local workers")
        if "| mqtt | fanout subs=10 100 B inflight=500 vs mosquitto |" not in table:
            failures.append("--markdown wrote no mqtt fan-out row beside Mosquitto")
    if failures:
        print("\n".join("FAIL: " + f for f in failures))
        print("stdout was:\n" + proc.stdout)
        sys.exit(1)
    print("ok: %d BENCH lines, every workload for every system, nothing lost (%.1f s)" % (len(lines), took))


if __name__ == "__main__":
    main()
