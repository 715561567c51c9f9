#!/usr/bin/env python3
"""chatbus-broker --local-workers N (docs/architecture.md, "Local workers"): workers inside the broker process,
over inproc://. With no worker process at all the real binaries serve rooms end to end; with CURVE on the local
workers need no key while an unlisted worker process is still refused; a TCP worker's rooms move to the local
worker when it stops; SIGTERM ends the broker and its local workers promptly."""
import time

from chatbus_harness import Cluster, check, check_eq, run_checks


def alone(c):
    st = c.wait_workers(1)
    check(st["workers"][0]["id"].startswith("local0-"), "local worker id: %r" % st["workers"][0]["id"])
    alice, bob, lb = c.alice_and_listening_bob()
    for i in range(5):
        alice.ok("send", "--room", "lobby", "m%d" % i)
    for i in range(5):
        lb.wait_for(lambda l, i=i: l.get("type") == "event" and l.get("text") == "m%d" % i,
                    what="bob's listener line for m%d" % i)
    h = bob.ok("history", "lobby")
    check_eq([l.get("text") for l in h.lines if l.get("kind") == "message"], ["m%d" % i for i in range(5)],
             "history of lobby")


def curve_needs_no_worker_key(c):
    c.wait_workers(1)
    before = c.raw_status().get("dropped", {}).get("refused.unknown_key", 0)
    c.start_worker("intruder", keys=c.keygen("intruder"))
    alice = c.user("alice")
    alice.register("alice")
    for i in range(6):
        alice.ok("join", "room%d" % i)
    alice.ok("send", "--room", "room0", "over curve")
    c.wait_status(lambda s: s["dropped"].get("refused.unknown_key", 0) >= before + 1, timeout=15,
                  what="the unlisted worker refused")
    st = c.status_json()
    check_eq([w["id"][:7] for w in st["workers"]], ["local0-"], "live workers")
    check_eq(st["workers"][0]["rooms"], 6, "rooms held by the local worker")


def tcp_worker_leaves(c):
    c.wait_workers(2)
    alice = c.user("alice")
    alice.register("alice")
    rooms = ["r%d" % i for i in range(20)]
    for r in rooms:
        alice.ok("join", r)
        alice.ok("send", "--room", r, "before")
    st = c.status_json()
    held = {w["id"][:6]: w["rooms"] for w in st["workers"]}
    check(held.get("w1", 0) > 0, "the TCP worker holds no room: %r" % held)
    check_eq(c.worker("w1").term(10), 0, "TCP worker's exit status on SIGTERM")
    c.wait_workers(1)
    for r in rooms:
        alice.ok("send", "--room", r, "after")
        h = alice.ok("history", r)
        check_eq([l.get("text") for l in h.lines if l.get("kind") == "message"], ["before", "after"],
                 "history of %s after the move" % r)
    check_eq(c.status_json()["workers"][0]["rooms"], len(rooms), "rooms held by the local worker")


def sigterm(c):
    c.wait_workers(1)
    c.user("alice").register("alice")
    t0 = time.monotonic()
    rc = c.broker.term(10)
    took = time.monotonic() - t0
    check_eq(rc, 0, "broker exit status on SIGTERM")
    check(took < 3, "broker with a local worker took %.1f s to stop" % took)


if __name__ == "__main__":
    run_checks([
        ("no worker process: rooms, events, listen and history served by a local worker", alone),
        ("CURVE on: the local worker needs no key; an unlisted worker process is still refused",
         curve_needs_no_worker_key, lambda: Cluster(workers=0, local_workers=1, curve=True, clients=("alice",))),
        ("a TCP worker stops: its rooms move to the local worker, nothing lost", tcp_worker_leaves,
         lambda: Cluster(workers=1, local_workers=1)),
        ("SIGTERM: broker and local worker exit 0 promptly", sigterm),
    ], cluster_factory=lambda: Cluster(workers=0, local_workers=1))
