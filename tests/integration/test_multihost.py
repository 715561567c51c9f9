#!/usr/bin/env python3
"""Four hosts as network namespaces on one bridge: the broker on host A binds wildcard addresses, two workers on
hosts B and C get only `--broker tcp://A:PORT`, and chatctl on host D gets only `--broker`: two nicks register,
join a room, exchange room messages and a DM, and the listener on D sees them (the events endpoint comes from
HELLO, with the wildcard replaced by the host D used to reach the broker). Run twice: in the clear, then with
CURVE on (keys from `chatctl keygen`, listed client and worker keys; the events socket encrypted too).

Namespaces, bridge and veths carry a prefix with this process's PID and are deleted on exit. Exits 77 (SKIP)
only when network namespaces cannot be created (no root / CAP_NET_ADMIN, no `ip`), and never on CI (CI set in
the environment, as .ci/run has it): there that is a failure (docs/testing.md)."""
import atexit
import os
import shutil
import subprocess
import sys
import time

from chatbus_harness import CurveKeys, Proc, User, bin_dir, check, check_eq

SKIP = 77


def skip(why):
    if os.environ.get("CI"):
        raise AssertionError("cannot run on CI, where skipping is not allowed: " + why)
    print("SKIP: " + why, flush=True)
    sys.exit(SKIP)
PID = os.getpid()
PFX = "cb%d" % PID                      # names: cbPID + suffix, at most 15 characters for interfaces
SUBNET = "10.77.%d" % (PID % 250 + 1)   # inside our own namespaces only
HOSTS = {"a": 1, "b": 2, "c": 3, "d": 4}
NS = {h: "%s%s" % (PFX, h) for h in HOSTS}
ADDR = {h: "%s.%d" % (SUBNET, n) for h, n in HOSTS.items()}
PORTS = {"client": 5555, "worker": 5556, "events": 5558}

_created = []
_procs = []


def ip(*args, check_rc=True):
    p = subprocess.run(["ip"] + list(args), stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    if check_rc and p.returncode != 0:
        raise AssertionError("ip %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr.decode().strip()))
    return p


def cleanup():
    for p in reversed(_procs):
        p.stop()
    _procs.clear()
    for ns in reversed(_created):
        ip("netns", "del", ns, check_rc=False)
    _created.clear()


atexit.register(cleanup)


def create_namespaces():
    """Creates the four namespaces, or exits 77 if namespaces cannot be created here at all."""
    if shutil.which("ip") is None:
        skip("iproute2 `ip` is not installed, network namespaces cannot be created")
    first = NS["a"]
    p = ip("netns", "add", first, check_rc=False)
    if p.returncode != 0:
        err = p.stderr.decode().strip()
        if os.geteuid() != 0 or "not permitted" in err or "Permission denied" in err:
            skip("cannot create a network namespace (uid %d; needs root / CAP_NET_ADMIN): %s" % (os.geteuid(), err))
        raise AssertionError("ip netns add %s failed (not a permission problem): %s" % (first, err))
    _created.append(first)
    for h in ("b", "c", "d"):
        ip("netns", "add", NS[h])
        _created.append(NS[h])
    br = PFX + "br"
    ip("-n", NS["a"], "link", "add", br, "type", "bridge")
    ip("-n", NS["a"], "addr", "add", ADDR["a"] + "/24", "dev", br)
    ip("-n", NS["a"], "link", "set", br, "up")
    ip("-n", NS["a"], "link", "set", "lo", "up")
    for h in ("b", "c", "d"):
        port, peer = PFX + "p" + h, PFX + "v" + h
        # Created inside A with its peer directly in the host's namespace: nothing appears on the real host.
        ip("-n", NS["a"], "link", "add", port, "type", "veth", "peer", "name", peer, "netns", NS[h])
        ip("-n", NS["a"], "link", "set", port, "master", br)
        ip("-n", NS["a"], "link", "set", port, "up")
        ip("-n", NS[h], "addr", "add", ADDR[h] + "/24", "dev", peer)
        ip("-n", NS[h], "link", "set", peer, "up")
        ip("-n", NS[h], "link", "set", "lo", "up")


def in_ns(h):
    return ["ip", "netns", "exec", NS[h]]


class Hosts:
    """What harness.User needs: chatctl, the client endpoint, where to keep processes and temp dirs."""

    def __init__(self):
        d = bin_dir()
        self.chatctl = os.path.join(d, "chatctl")
        self.broker_bin = os.path.join(d, "chatbus-broker")
        self.worker_bin = os.path.join(d, "chatbus-worker")
        self.client_ep = "tcp://%s:%d" % (ADDR["a"], PORTS["client"])
        self.procs = _procs
        self._dirs = []
        self.curve = False

    def enable_curve(self):
        """Keys for a CURVE run: the broker's, one listed worker key, one listed client key for all users."""
        import tempfile
        self.key_dir = tempfile.mkdtemp(prefix="chatbus-mh-keys-")
        self._dirs.append(self.key_dir)
        self.client_keys_dir = os.path.join(self.key_dir, "clients")
        self.worker_keys_dir = os.path.join(self.key_dir, "workers")
        os.mkdir(self.client_keys_dir)
        os.mkdir(self.worker_keys_dir)
        for name, listed in (("broker", None), ("worker", self.worker_keys_dir), ("client", self.client_keys_dir)):
            subprocess.run([self.chatctl, "keygen", name, "--dir", self.key_dir], check=True, capture_output=True,
                           timeout=15)
            if listed:
                shutil.copy(os.path.join(self.key_dir, name + ".pub"), listed)
        self.keys = {n: CurveKeys(os.path.join(self.key_dir, n + ".key")) for n in ("broker", "worker", "client")}
        self.curve = True

    def client_curve(self, name):
        return (self.keys["client"], self.keys["broker"].pub_file)

    def broker_curve_args(self):
        if not self.curve:
            return []
        return ["--curve-key", self.keys["broker"].key_file, "--client-keys", self.client_keys_dir,
                "--worker-keys", self.worker_keys_dir]

    def worker_curve_args(self):
        if not self.curve:
            return []
        return ["--curve-key", self.keys["worker"].key_file, "--broker-key", self.keys["broker"].pub_file]

    def stop_all(self):
        for p in reversed(_procs):
            p.stop()

    def user(self, name):
        u = User(self, name)
        u.prefix = in_ns("d")
        return u

    def start(self, name, host, argv):
        p = Proc(name, in_ns(host) + argv)  # ip netns exec execs: p.pid is the chatbus process itself
        _procs.append(p)
        return p

    def dump_logs(self):
        for p in _procs:
            sys.stderr.write("----- %s (pid %d, %s) -----\n%s\n" % (
                p.name, p.pid, "running" if p.alive() else "exit %s" % p.popen.returncode, p.log_text()))

    def close(self):
        for d in self._dirs:
            shutil.rmtree(d, ignore_errors=True)


def scenario(hosts):
    broker = hosts.start("broker", "a", [
        hosts.broker_bin, "--client", "tcp://*:%d" % PORTS["client"], "--worker", "tcp://*:%d" % PORTS["worker"],
        "--events", "tcp://*:%d" % PORTS["events"], "--log-level", "debug"] + hosts.broker_curve_args())
    broker_ep = "tcp://%s:%d" % (ADDR["a"], PORTS["worker"])
    wb = hosts.start("worker-b", "b", [hosts.worker_bin, "--broker", broker_ep] + hosts.worker_curve_args())
    wc = hosts.start("worker-c", "c", [hosts.worker_bin, "--broker", broker_ep] + hosts.worker_curve_args())

    admin = hosts.user("admin")
    deadline = time.monotonic() + 15
    st = None
    while time.monotonic() < deadline:
        check(broker.alive() and wb.alive() and wc.alive(), "a process exited during start-up")
        r = admin.run("status", timeout=1, limit=15)
        if r.rc == 0 and r.lines and len(r.json.get("workers", [])) == 2:
            st = r.json
            break
        time.sleep(0.2)  # poll interval of a bounded wait
    check(st is not None, "the broker on host A did not report 2 workers (from hosts B and C) within 15 s")
    check_eq(sorted(w.get("pid") for w in st["workers"]), sorted([wb.pid, wc.pid]),
             "worker pids in status (seen from host D)")
    print("workers: %r" % [(w.get("id"), w.get("host"), w.get("pid")) for w in st["workers"]], flush=True)

    alice, bob = hosts.user("alice"), hosts.user("bob")
    alice.register("alice")
    bob.register("bob")
    lb = bob.listen()
    lb.ready()
    alice.ok("join", "net")
    bob.ok("join", "net")
    lb.wait_for(lambda l: l.get("type") == "membership" and l.get("room") == "net", what="bob's membership")
    for i in range(3):
        (alice if i % 2 == 0 else bob).ok("send", "--room", "net", "across hosts %d" % i)
    evs = lb.collect(3, lambda l: l.get("type") == "event" and l.get("kind") == "message", timeout=10,
                     what="room messages on host D")
    check_eq([e.get("text") for e in evs], ["across hosts %d" % i for i in range(3)], "room messages")
    check_eq([e.get("seq") for e in evs], [3, 4, 5], "seqs of the room messages")
    d = alice.ok("send", "--to", "bob", "a dm across hosts")
    dm = lb.wait_for(lambda l: l.get("type") == "dm", timeout=10, what="the DM on host D")
    check_eq((dm.get("from"), dm.get("text")), ("alice", "a dm across hosts"), "the DM")
    check_eq(d.json.get("delivered"), True, "DM delivered to the attached listener")
    h = alice.ok("history", "net")
    check_eq([l.get("seq") for l in h.lines if l.get("type") == "event"], [1, 2, 3, 4, 5], "history seqs")
    st = admin.ok("status").json
    served = {w.get("pid"): w.get("served") for w in st["workers"]}
    print("multihost%s: broker on %s, workers on %s and %s, clients on %s; served %r" % (
        " (CURVE)" if hosts.curve else "", ADDR["a"], ADDR["b"], ADDR["c"], ADDR["d"], served), flush=True)
    if hosts.curve:
        # A client without keys gets nowhere across the network either.
        plain = hosts.user("plain")
        plain.curve = None
        r = plain.run("status", timeout=1, limit=15)
        check_eq(r.rc, 5, "chatctl without CURVE keys against the CURVE broker: exit code")


def main():
    create_namespaces()
    hosts = Hosts()
    ok = False
    try:
        scenario(hosts)
        hosts.stop_all()
        hosts.enable_curve()
        scenario(hosts)
        ok = True
    except Exception:
        import traceback
        traceback.print_exc()
        hosts.dump_logs()
    finally:
        cleanup()
        hosts.close()
    left = ip("netns", "list", check_rc=False).stdout.decode()
    check(PFX not in left, "namespaces left behind: %s" % left)
    print("PASS" if ok else "FAIL", flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
