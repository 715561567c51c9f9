#!/usr/bin/env python3
"""With the broker killed (SIGKILL), chatctl send and listen fail with exit 5 and a clear message within their
--timeout (elapsed < timeout + 1.5 s); a listener that was running when it died keeps retrying for --reconnect
seconds, then ends with exit 5 (with --reconnect 0 at once, once it notices)."""
import threading
import time

from chatbus_harness import EXIT_UNREACHABLE, check, run_checks

TIMEOUT = 2.0
RECONNECT = 3


def check_unreachable(r, what):
    check(r.rc == EXIT_UNREACHABLE, "%s: exit %s, expected 5\n%s" % (what, r.rc, r.describe()))
    check(r.elapsed < TIMEOUT + 1.5, "%s took %.2f s with --timeout %s\n%s" % (what, r.elapsed, TIMEOUT, r.describe()))
    message = " ".join(str(l.get("error", "")) for l in r.lines if l.get("ok") is False) + r.stderr
    check(message.strip(), "%s: no error message\n%s" % (what, r.describe()))
    check(r.lines and r.json.get("ok") is False, "%s: no {\"ok\": false} line\n%s" % (what, r.describe()))
    print("  %s: exit 5 in %.2f s: %s" % (what, r.elapsed, message.strip()[:200]))


def broker_killed(c):
    alice, bob = c.user("alice"), c.user("bob")
    alice.register("alice")
    bob.register("bob")
    alice.ok("join", "lobby")
    running = bob.listen("--reconnect", "0")
    running.ready()
    carol = c.user("carol")
    carol.register("carol")
    retrying = carol.listen("--reconnect", str(RECONNECT))
    retrying.ready()

    exited = {}

    def watch(name, l):
        rc = l.proc.popen.wait()  # ends when the listener exits (it is stopped by the cluster at the latest)
        exited[name] = (rc, time.monotonic() - t_kill)
    t_kill = time.monotonic()
    c.broker.kill9()
    for name, l in (("0", running), (str(RECONNECT), retrying)):
        threading.Thread(target=watch, args=(name, l), daemon=True).start()

    check_unreachable(alice.run("send", "--room", "lobby", "hello?", timeout=TIMEOUT), "send --room")
    check_unreachable(alice.run("send", "--to", "bob", "hello?", timeout=TIMEOUT), "send --to")
    check_unreachable(alice.run("join", "other", timeout=TIMEOUT), "join")
    check_unreachable(alice.run("status", timeout=TIMEOUT), "status")
    check_unreachable(alice.run("listen", timeout=TIMEOUT), "listen")

    # Both listeners attached before the kill: with --reconnect 0 one exits 5 once it notices (a few heartbeats
    # plus its timeout: bounded at 15 s here); with --reconnect N the other keeps retrying N more seconds.
    deadline = t_kill + RECONNECT + 15
    while len(exited) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)  # poll interval of a bounded wait
    for name, l in (("0", running), (str(RECONNECT), retrying)):
        check(name in exited, "listener --reconnect %s still running %.0f s after the kill; lines %r" % (
            name, time.monotonic() - t_kill, l.seen))
        rc, took = exited[name]
        check(rc == EXIT_UNREACHABLE, "listener --reconnect %s: exit %s, expected 5; lines %r\n%s" % (
            name, rc, l.seen, l.proc.log_text()))
        print("  listener --reconnect %s: exit 5 %.2f s after the kill" % (name, took))
    check(exited["0"][1] <= 15, "listener --reconnect 0 took %.2f s to exit" % exited["0"][1])
    check(exited[str(RECONNECT)][1] >= exited["0"][1] + RECONNECT - 1.0,
          "listener --reconnect %d exited %.2f s after the kill, the --reconnect 0 one after %.2f s" % (
              RECONNECT, exited[str(RECONNECT)][1], exited["0"][1]))


def never_started(c):
    """A broker endpoint nothing listens on: the same exit 5, no hang."""
    from chatbus_harness import DeadPort
    dead = DeadPort()
    try:
        c.client_ep = dead.endpoint
        u = c.user("u")
        check_unreachable(u.run("register", "nobody", timeout=TIMEOUT, as_nick=False), "register")
        check_unreachable(u.run("rooms", timeout=TIMEOUT), "rooms")
    finally:
        dead.close()


if __name__ == "__main__":
    run_checks([
        ("a SIGKILLed broker: send/listen exit 5 with a message within --timeout", broker_killed),
        ("no broker at the endpoint at all: exit 5 within --timeout", never_started),
    ])
