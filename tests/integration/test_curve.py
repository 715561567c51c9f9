#!/usr/bin/env python3
"""CURVE on (docs/protocol.md "CURVE"): listed clients and workers work end to end, room events arrive over the
encrypted events socket, and everyone else (unknown client key, wrong broker key, no CURVE at all, a worker
with an unlisted key or a client key) gets nowhere in bounded time while the broker counts the refusals."""
import time

from chatbus_harness import EXIT_UNREACHABLE, Cluster, check, check_eq, decode_topic_frame, room_topic, \
    run_checks

import zmq  # after the harness, which re-runs the test under the Python that has pyzmq

CLIENTS = ("alice", "bob")


def refused(c):
    return c.raw_status().get("dropped", {}).get("refused.unknown_key", 0)


def end_to_end(c):
    alice, bob, lb = c.alice_and_listening_bob()
    # A SUB without CURVE on the same events endpoint: it must see nothing of what follows.
    plain = zmq.Context.instance().socket(zmq.SUB)
    plain.setsockopt(zmq.LINGER, 0)
    plain.setsockopt(zmq.SUBSCRIBE, b"")
    plain.connect(c.events_ep)
    # And one with CURVE and the admin key (a listed client): it sees the events.
    listed = zmq.Context.instance().socket(zmq.SUB)
    listed.setsockopt(zmq.LINGER, 0)
    c.raw_curve()[0].apply(listed, c.broker_keys.public)
    listed.setsockopt(zmq.SUBSCRIBE, room_topic("lobby"))
    listed.connect(c.events_ep)
    try:
        texts = []
        got = None
        deadline = time.monotonic() + 10
        # A SUB's subscription takes a moment to reach the XPUB: send until the listed SUB sees one.
        while got is None and time.monotonic() < deadline:
            t = "secret %d" % len(texts)
            texts.append(t)
            alice.ok("send", "--room", "lobby", t)
            if listed.poll(300):
                got = decode_topic_frame(listed.recv())
        check(got is not None, "a listed CURVE subscriber got no event within 10 s")
        check_eq(got[0], room_topic("lobby"), "topic of the event the CURVE subscriber got")
        for t in texts:
            lb.wait_for(lambda l, t=t: l.get("type") == "event" and l.get("text") == t,
                        what="bob's listener line for %r" % t)
        check(not plain.poll(500), "a SUB without CURVE received something from the events socket")
    finally:
        plain.close(0)
        listed.close(0)
    h = bob.ok("history", "lobby")
    msgs = [l.get("text") for l in h.lines if l.get("kind") == "message"]
    check_eq(msgs, texts, "history of lobby")
    alice.ok("send", "--to", "bob", "direct")
    lb.wait_for(lambda l: l.get("type") == "dm" and l.get("text") == "direct", what="bob's DM line")
    st = c.status_json()
    check_eq(st["dropped"].get("refused.unknown_key"), 0, "refusals after only listed peers")


def outsiders_fail(c):
    before = refused(c)
    mallory = c.user("mallory")
    mallory.curve = (c.keygen("mallory"), c.broker_keys.pub_file)  # a key the broker does not list
    r = mallory.fails("register", "mallory", rc=EXIT_UNREACHABLE, timeout=1, as_nick=False)
    check(r.elapsed < 5, "unknown key: exit 5 took %.1f s" % r.elapsed)
    check_eq(r.json.get("status"), "unreachable", "unknown key: status")

    fake = c.keygen("fake-broker")
    eve = c.user("alice")  # alice's own listed key, but the broker key of someone else
    eve.curve = (c.client_keys["alice"], fake.pub_file)
    r = eve.fails("status", rc=EXIT_UNREACHABLE, timeout=1)
    check(r.elapsed < 5, "wrong broker key: exit 5 took %.1f s" % r.elapsed)

    plain = c.user("plain")
    plain.curve = None
    r = plain.fails("status", rc=EXIT_UNREACHABLE, timeout=1)
    check(r.elapsed < 5, "no CURVE: exit 5 took %.1f s" % r.elapsed)

    # Only mallory's key reached ZAP: a wrong broker key fails before it, a plain client is not CURVE at all.
    c.wait_status(lambda s: s["dropped"].get("refused.unknown_key", 0) >= before + 1, what="mallory refused")

    # Workers: an unlisted key and a client's key (other ZAP domain) never join; a listed one does.
    before = refused(c)
    c.start_worker("intruder", keys=c.keygen("intruder"))
    c.start_worker("clientkey", keys=c.client_keys["bob"])
    c.wait_status(lambda s: s["dropped"].get("refused.unknown_key", 0) >= before + 2, timeout=15,
                  what="both bad workers refused")
    c.start_worker("w2")
    st = c.wait_workers(2)
    check_eq(sorted(w["id"] for w in st["workers"]), ["w1", "w2"], "live workers")
    # A client key does not get in as a worker, and the broker key from elsewhere does not either.
    c.start_worker("wrongbroker", broker_pub=c.keygen("other-broker").pub_file)
    bob = c.user("bob")
    bob.register("bob")
    for i in range(6):
        bob.ok("join", "room%d" % i)
    st = c.status_json()
    check_eq(sorted(w["id"] for w in st["workers"]), ["w1", "w2"], "workers after the joins")
    check_eq(sum(w["rooms"] for w in st["workers"]), 6, "rooms held by listed workers")
    for w in ("intruder", "clientkey", "wrongbroker"):
        check(c.worker(w).alive(), "worker %s exited instead of retrying" % w)


def bad_config_refused(c):
    """A broker given CURVE with a missing or malformed key file does not start; the error names the file."""
    import subprocess
    for extra, needle in ((["--curve-key", "/nonexistent.key", "--client-keys", c.client_keys_dir,
                            "--worker-keys", c.worker_keys_dir], "/nonexistent.key"),
                          (["--curve-key", c.broker_keys.pub_file, "--client-keys", c.client_keys_dir,
                            "--worker-keys", c.worker_keys_dir], "secret-key"),
                          (["--curve-key", c.broker_keys.key_file], "client-keys")):
        p = subprocess.run([c.broker_bin, "--client", "tcp://127.0.0.1:*", "--worker", "tcp://127.0.0.1:*",
                            "--events", "tcp://127.0.0.1:*"] + extra, capture_output=True, timeout=15)
        out = (p.stdout + p.stderr).decode(errors="replace")
        check(p.returncode != 0, "broker started with %r" % extra)
        check(needle in out, "error for %r does not mention %r: %s" % (extra, needle, out))


if __name__ == "__main__":
    run_checks([
        ("listed client registers, joins, sends, listens; events come over the CURVE events socket", end_to_end),
        ("unknown key, wrong broker key, no CURVE, unlisted worker keys: all refused in bounded time",
         outsiders_fail),
        ("bad CURVE configuration stops the broker with an error naming the file", bad_config_refused),
    ], cluster_factory=lambda: Cluster(workers=1, curve=True, clients=CLIENTS))
