#!/usr/bin/env python3
"""A raw SUB subscribed to everything on the events endpoint sees room events but never a DM."""
import chatbus_harness  # noqa: F401 (first: it makes pyzmq and msgpack importable)
import time
import uuid

import zmq

from chatbus_harness import T, check, check_eq, decode_topic_frame, run_checks


def no_dm_on_events(c):
    raw = c.raw()
    hello = raw.request("HELLO")
    check_eq(hello.get("status"), 0, "HELLO status")
    events_ep = hello.get("events")
    check_eq(events_ep, c.events_ep, "events endpoint in HELLO_REPLY")

    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.connect(events_ep)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    nonce = "n" + uuid.uuid4().hex
    sub.setsockopt(zmq.SUBSCRIBE, b"sync/" + nonce.encode() + b"\0")
    frames = []

    def read_until(pred, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sub.poll(max(1, int((deadline - time.monotonic()) * 1000))):
                f = sub.recv()
                frames.append(f)
                if pred(f):
                    return f
        raise TimeoutError("SUB: no %s within %.0f s; got %d frames" % (what, timeout, len(frames)))

    f = read_until(lambda f: f.startswith(b"sync/" + nonce.encode() + b"\0"), 5, "SYNC for our nonce")
    topic, t, body = decode_topic_frame(f)
    check_eq((t, body.get("nonce")), (T["SYNC"], nonce), "SYNC frame")

    alice, bob, lb = c.alice_and_listening_bob()
    secrets = ["SECRET-%d-%s" % (i, uuid.uuid4().hex) for i in range(5)]
    for i, s in enumerate(secrets):
        alice.ok("send", "--room", "lobby", "public %d" % i)
        alice.ok("send", "--to", "bob", s)
    bob.ok("send", "--to", "alice", "SECRET-reply")
    got = lb.collect(5, lambda l: l.get("type") == "dm", what="bob's DMs")
    check_eq([d["text"] for d in got], secrets, "DMs reached bob")
    alice.ok("send", "--room", "lobby", "END")
    read_until(lambda f: b"END" in f, 5, "the END room event")
    # Whatever is still in flight (bounded drain).
    while sub.poll(300):
        frames.append(sub.recv())
    sub.close(0)

    room_events = 0
    for f in frames:
        check(b"SECRET" not in f, "a DM travelled over the events socket: %r" % f[:200])
        check(f.startswith(b"room/") or f.startswith(b"sync/"), "frame with an unexpected topic: %r" % f[:80])
        topic, t, body = decode_topic_frame(f)
        check(t in (T["EVENT"], T["SYNC"]), "type 0x%02x on the events socket" % t)
        if t == T["EVENT"]:
            room_events += 1
            check_eq(topic, b"room/" + body["room"].encode() + b"\0", "topic matches the event's room")
    check(room_events >= 2 + 5 + 1, "saw only %d room events" % room_events)


if __name__ == "__main__":
    run_checks([("a SUB on every topic sees room events and no DM", no_dm_on_events)])
