#!/usr/bin/env python3
"""With the broker killed (SIGKILL), chatctl send and listen fail with exit 5 and a clear message within their
--timeout (elapsed < timeout + 1.5 s); a listener that was running when it died ends with exit 5 too."""
from chatbus_harness import EXIT_UNREACHABLE, check, run_checks

TIMEOUT = 2.0


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
    running = bob.listen()
    running.ready()

    c.broker.kill9()

    check_unreachable(alice.run("send", "--room", "lobby", "hello?", timeout=TIMEOUT), "send --room")
    check_unreachable(alice.run("send", "--to", "bob", "hello?", timeout=TIMEOUT), "send --to")
    check_unreachable(alice.run("join", "other", timeout=TIMEOUT), "join")
    check_unreachable(alice.run("status", timeout=TIMEOUT), "status")
    check_unreachable(alice.run("listen", timeout=TIMEOUT), "listen")

    # The listener attached before the kill notices within a few heartbeats plus its timeout (default 1 s
    # heartbeat, default timeout): bounded at 15 s here.
    rc = running.wait_exit(15)
    check(rc == EXIT_UNREACHABLE, "running listener exit %s, expected 5; lines %r\n%s" % (
        rc, running.seen, running.proc.log_text()))


def never_started(c):
    """A broker endpoint nothing listens on: the same exit 5, no hang."""
    from chatbus_harness import free_port
    c.client_ep = "tcp://127.0.0.1:%d" % free_port()
    u = c.user("u")
    check_unreachable(u.run("register", "nobody", timeout=TIMEOUT, as_nick=False), "register")
    check_unreachable(u.run("rooms", timeout=TIMEOUT), "rooms")


if __name__ == "__main__":
    run_checks([
        ("a SIGKILLed broker: send/listen exit 5 with a message within --timeout", broker_killed),
        ("no broker at the endpoint at all: exit 5 within --timeout", never_started),
    ])
