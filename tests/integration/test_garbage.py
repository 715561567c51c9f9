#!/usr/bin/env python3
"""Garbage on every broker port leaves it serving: the client ROUTER answers what it can with the documented
status (rid 0 when there is no readable rid), the worker ROUTER (from an unregistered peer and from a live fake
worker) and the XPUB ignore what they cannot read, and afterwards register/join/send still work and the broker
is alive."""
import chatbus_harness  # noqa: F401 (first: it makes pyzmq and msgpack importable)
import random
import time

import msgpack
import zmq

from chatbus_harness import (NO_RATE_LIMITS, STATUS, T, Cluster, EventRecorder, check, check_eq, decode, encode,
                             room_topic, run_checks)

HEADER = b"CB\x01"
BOMB = bytes.fromhex("88dfffffff8b")


def still_serving(c, tag):
    check(c.broker.alive(), "broker died (exit %s)" % c.broker.popen.returncode)
    u = c.user("after-" + tag)
    u.register("after_" + tag)
    u.ok("join", "after-" + tag)
    r = u.ok("send", "--room", "after-" + tag, "still here")
    check(r.json.get("first_seq") == 2, "send after garbage: %r" % r.json)
    st = c.status()
    check(st.rc == 0 and len(st.json.get("workers", [])) == 1, "status after garbage\n" + st.describe())
    return st.json


def replies_of(raw, n, timeout=5.0):
    out = []
    for _ in range(n):
        out.append(decode(raw.recv_raw(timeout)))
    return out


def client_port(c):
    raw = c.raw()
    # Malformed frames whose type cannot be determined are answered with ERROR, with the rid when the frame
    # has the signature and a readable one (docs/protocol.md, "How errors are answered").
    cases = [
        (b"", "bad_request", 0), (b"C", "bad_request", 0), (b"CB", "bad_request", 0),
        (b"CB\x01", "bad_request", 0),
        (b"XB\x01\x01" + msgpack.packb({"rid": 5}), "bad_request", 0),
        (b"CB\x02\x01" + msgpack.packb({"rid": 5}), "bad_version", 5),
        (b"CB\xff\x0d" + msgpack.packb({"rid": 5}), "bad_version", 5),
        (HEADER + b"\x7e" + msgpack.packb({"rid": 5}), "unknown_type", 5),
        (HEADER + b"\xee" + msgpack.packb({"rid": 5}), "unknown_type", 5),
    ]
    for frame, status, rid in cases:
        raw.send_raw(frame)
        t, body = raw.recv(5)
        check_eq((t, body.get("status"), body.get("rid")), (T["ERROR"], STATUS[status], rid),
                 "reply (type, status, rid) to %r" % frame[:12])
        check(body.get("error"), "empty error for %r" % frame[:12])

    # Known request types with a bad body: the request's own reply type, bad_request, rid 0 when none is
    # readable; a map followed by trailing bytes has a readable rid, which the reply carries.
    for frame, rid in ((HEADER + b"\x01" + BOMB, 0), (HEADER + b"\x01" + b"\x90", 0),
                       (HEADER + b"\x02" + b"\x82\xa3rid", 0),
                       (HEADER + b"\x06" + msgpack.packb({"rid": 1}) + b"trailing", 1),
                       (HEADER + b"\x01" + msgpack.packb({"rid": "one"}), 0)):
        raw.send_raw(frame)
        t, body = raw.recv(5)
        check_eq((t, body.get("status"), body.get("rid")), (frame[3] | 0x80, STATUS["bad_request"], rid),
                 "reply (type, status, rid) to %r" % frame[:12])

    # Fields of the wrong type with a readable rid: bad_request with that rid.
    rep = raw.request("SEND", nick="x", token="y", room="r", texts=5)
    check_eq(rep.get("status"), STATUS["bad_request"], "SEND with texts=5")
    rep = raw.request("JOIN", nick=["x"], token="y", room="r")
    check_eq(rep.get("status"), STATUS["bad_request"], "JOIN with nick as an array")

    # Deep nesting, huge arrays and strings are refused; a frame over 256 KiB is too_large. The rid comes
    # first in these bodies, so it is read before what breaks the limit and the reply carries it.
    deep = b"\x81\xa5texts" + b"\x91" * 40 + b"\xa1x"
    limits = [
        ("40 nested arrays", HEADER + b"\x06" + deep, "bad_request", 0),
        ("1,025 texts", encode(T["SEND"], {"rid": 41, "nick": "x", "token": "y", "room": "r", "texts": ["t"] * 1025}),
         "bad_request", 41),
        ("a 70,000-byte string", encode(T["DM"], {"rid": 42, "nick": "x", "token": "y", "to": "z", "text": "a" * 70000}),
         "bad_request", 42),
        ("a 300 KB frame", encode(T["SEND"], {"rid": 43, "nick": "x", "token": "y", "room": "r",
                                             "texts": ["a" * 60000] * 5}), "too_large", 43),
    ]
    for what, frame, status, rid in limits:
        raw.send_raw(frame)
        t, body = raw.recv(5)
        check_eq((t, body.get("status"), body.get("rid")), (frame[3] | 0x80, STATUS[status], rid), what)

    # Notifications are never answered, even malformed ones; the next request still gets its reply.
    raw.send_raw(HEADER + bytes([T["DM_ACK"]]) + msgpack.packb({"nick": 5}))
    raw.send_raw(HEADER + bytes([T["UNLISTEN"]]) + b"\x90")
    # Types clients do not send (replies, worker and event messages) are refused.
    raw.send_raw(encode(T["W_READY"], {"worker": "sneaky", "host": "h", "pid": 1}))
    raw.send_raw(encode(T["HELLO_REPLY"], {"rid": 77}))
    rep = raw.request("PING")
    check_eq(rep.get("status"), 0, "PING after notifications")

    # Thousands of random frames and multipart messages (answered too, bad_request), then a PING must still be
    # answered.
    rng = random.Random(1234)
    for i in range(3000):
        n = rng.randrange(0, 80)
        frame = bytes(rng.randrange(256) for _ in range(n))
        if i % 3 == 1:
            frame = HEADER + bytes([rng.choice([0x01, 0x02, 0x06, 0x07, 0x0A, 0x0D])]) + frame
        if i % 50 == 0:
            raw.sock.send_multipart([frame, b"second part", b"third"])
        else:
            raw.send_raw(frame)
    rep = raw.request("PING", timeout=15)
    check_eq(rep.get("status"), 0, "PING after 3,000 random frames")
    st = still_serving(c, "client")
    dropped = st.get("dropped")
    check(isinstance(dropped, dict) and dropped.get("malformed", 0) > 0,
          "status does not count the malformed frames: dropped=%r" % dropped)


def worker_port(c):
    ctx = zmq.Context.instance()
    fake = ctx.socket(zmq.DEALER)
    fake.setsockopt(zmq.LINGER, 0)
    fake.connect(c.worker_ep)
    rng = random.Random(99)
    frames = [b"", b"C", b"CB\x01", b"CB\x02\x40\x80", HEADER + b"\x7f\x80", HEADER + b"\x40" + BOMB,
              HEADER + b"\x40" + msgpack.packb({"worker": 5, "host": [], "pid": "x"}),
              encode(T["W_HEARTBEAT"], {}),                      # heartbeat without W_READY
              encode(T["W_REPLY"], {"bid": 123456}),             # reply to nothing (one frame)
              encode(T["W_DISCONNECT"], {"reason": "never ready"}),
              encode(T["PING"], {"rid": 1})]                     # a client message on the worker port
    for f in frames:
        fake.send(f)
    fake.send_multipart([encode(T["W_REPLY"], {"bid": 7}), encode(T["SEND_REPLY"], {"rid": 1, "status": 0})])
    fake.send_multipart([encode(T["W_REPLY"], {"bid": 7}), b"junk", b"more junk"])
    # Events inside a W_REPLY and a W_STATE from a peer that never sent W_READY.
    fake.send_multipart([encode(T["W_REPLY"], {"bid": 8}), encode(T["SEND_REPLY"], {"rid": 1, "status": 0}),
                         room_topic("after-worker") + encode(T["EVENT"], {"room": "after-worker", "seq": 1,
                                                                          "kind": "join", "nick": "x", "ts": 1})])
    fake.send(encode(T["W_STATE"], {"room": "after-worker", "seq": 50, "members": ["x"], "history": []}))
    for _ in range(500):
        fake.send(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 60))))
    # Nothing a fake worker sends may make the broker count it as a worker.
    still_serving(c, "worker")
    fake.close(0)


def recv_worker_frames(sock, want_type, timeout=5.0):
    """Reads frames on a fake worker's DEALER until one of type want_type arrives (bounded); returns its body."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        if not sock.poll(100):
            continue
        parts = sock.recv_multipart()
        try:
            t, body = decode(parts[0])
        except ValueError:
            seen.append(parts[0][:16])
            continue
        if t == want_type:
            return body
        seen.append(t)
        if t == T["W_HEARTBEAT"]:
            sock.send(encode(T["W_HEARTBEAT"], {}))
    raise AssertionError("fake worker: no message 0x%02x within %.0f s; got %r" % (want_type, timeout, seen))


def worker_events(c):
    """A fake worker that completes the handshake sends garbage W_REPLY (unknown bids, forged and malformed event
    frames) and W_STATE messages, then drains: nothing it sent is published, the broker and a listener survive,
    and a stale W_STATE is answered with W_RELEASE. (Replaces the XSUB case: events now travel in W_REPLY.)"""
    alice = c.user("alice")
    alice.register("alice")
    alice.ok("join", "lobby")
    la = alice.listen()
    la.ready()
    rec = EventRecorder(c.events_ep).start()
    ctx = zmq.Context.instance()
    fake = ctx.socket(zmq.DEALER)
    fake.setsockopt(zmq.LINGER, 0)
    fake.connect(c.worker_ep)
    try:
        fake.send(encode(T["W_READY"], {"worker": "fake-garbage", "host": "nowhere", "pid": 1}))
        welcome = recv_worker_frames(fake, T["W_WELCOME"])
        check(welcome.get("boot"), "W_WELCOME without boot: %r" % welcome)
        fake.send(encode(T["W_HEARTBEAT"], {}))
        c.wait_status(lambda st: len(st.get("workers", [])) == 2, timeout=5, what="the fake worker counted live")

        forged = room_topic("lobby") + encode(T["EVENT"], {"room": "lobby", "seq": 2, "kind": "message",
                                                           "nick": "alice", "text": "forged", "ts": 1})
        reply = encode(T["SEND_REPLY"], {"rid": 1, "status": 0, "room": "lobby", "first_seq": 2, "last_seq": 2})
        rng = random.Random(7)
        multiparts = [
            [encode(T["W_REPLY"], {"bid": 123456}), reply, forged],           # a bid never issued
            [encode(T["W_REPLY"], {"bid": 0}), reply, forged, forged],
            [encode(T["W_REPLY"], {"bid": "x"}), reply, forged],
            [encode(T["W_REPLY"], {"bid": 5})],
            [encode(T["W_REPLY"], {"bid": 6}), b"junk", b"room/lobby\0garbage", b"room/lobby\0CB\x01\x50" + BOMB,
             b"room/lobby\0CB\x02\x50\x80", b"\0", b"", b"no zero byte"],
            [encode(T["W_STATE"], {"room": "lobby", "seq": "one"})],
            [HEADER + b"\x46" + BOMB],
            [encode(T["W_STATE"], {"room": "lobby", "history": "none", "members": 5})],
            [encode(T["W_STATE"], {"room": "Not A Room!", "seq": 1, "members": [], "history": []})],
            [encode(T["W_STATE"], {"room": "lobby", "seq": 1, "members": ["alice"], "history": [5, "x"]})],
            [encode(T["W_RELEASE"], {"room": "lobby"})],                      # broker -> worker only
            [encode(T["W_WELCOME"], {"boot": "mine"})],
            [encode(T["W_READY"], {"worker": "fake-garbage", "host": "again", "pid": 2})],
        ]
        multiparts += [[bytes(rng.randrange(256) for _ in range(rng.randrange(0, 64)))] for _ in range(300)]
        for i, m in enumerate(multiparts):
            fake.send_multipart(m)
            if i % 100 == 0:
                fake.send(encode(T["W_HEARTBEAT"], {}))
        # A well-formed W_STATE for a room the broker has at the same seq: answered with W_RELEASE.
        fake.send(encode(T["W_STATE"], {"room": "lobby", "seq": 1, "members": ["alice"], "history": []}))
        rel = recv_worker_frames(fake, T["W_RELEASE"])
        check_eq(rel.get("room"), "lobby", "W_RELEASE answering a stale W_STATE")
        # Drain: W_DISCONNECT is answered with W_DISCONNECT, and the broker forgets the fake.
        fake.send(encode(T["W_DISCONNECT"], {"reason": "garbage done"}))
        recv_worker_frames(fake, T["W_DISCONNECT"])
    finally:
        fake.close(0)
    c.wait_status(lambda st: len(st.get("workers", [])) == 1, timeout=5, what="the fake worker gone")

    r = alice.ok("send", "--room", "lobby", "after garbage")
    # A sentinel after it: events of a room reach a subscriber in order, so once it is here anything the garbage
    # or the message published (a duplicate, a forged event) is here too.
    alice.ok("send", "--room", "lobby", "sentinel")
    rec.wait_until(lambda x: any(e.get("text") == "sentinel" for e in x.events), timeout=5,
                   what="the sentinel sent after the garbage")
    rec.stop()
    check_eq([(e["seq"], e["kind"], e["text"]) for e in rec.events],
             [(2, "message", "after garbage"), (3, "message", "sentinel")],
             "events published since the fake worker connected (a raw subscriber on room/)")
    check_eq(r.json.get("first_seq"), 2, "seq of the message after the garbage")
    m = la.wait_for(lambda l: l.get("type") == "event" and l.get("text") == "after garbage",
                    what="the message sent after the garbage")
    check_eq(m.get("seq"), 2, "seq of the message after the garbage (nothing the fake sent was applied)")
    check(not any(l.get("text") == "forged" for l in la.seen), "a forged event was published: %r" % la.seen)
    h = alice.ok("history", "lobby")
    check_eq([(l.get("seq"), l.get("text")) for l in h.lines if l.get("type") == "event"],
             [(1, ""), (2, "after garbage"), (3, "sentinel")], "history of lobby")
    check(la.proc.alive(), "the listener died")
    still_serving(c, "wevents")


def xpub_port(c):
    """Raw subscribers send odd subscriptions (and non-subscription frames through an XSUB)."""
    ctx = zmq.Context.instance()
    subs = []
    for topic in (b"", b"\0", b"room/", b"sync/", b"sync/\0", b"sync/" + b"A" * 100 + b"\0",
                  b"sync/../x\0", b"sync/" + bytes(range(1, 40)) + b"\0", b"x" * 5000, b"\xff\xfe"):
        s = ctx.socket(zmq.SUB)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(c.events_ep)
        s.setsockopt(zmq.SUBSCRIBE, topic)
        s.setsockopt(zmq.UNSUBSCRIBE, b"never-subscribed")
        subs.append(s)
    x = ctx.socket(zmq.XSUB)
    x.setsockopt(zmq.LINGER, 0)
    x.connect(c.events_ep)
    for f in (b"\x01sync/ok\0", b"\x00sync/ok\0", b"\x01", b"\x00", b"\x02garbage", b"", b"CB\x01\x01\x80"):
        x.send(f)
    # An oversized subscription (the broker may drop the connection that sent it, so its own socket).
    big = ctx.socket(zmq.XSUB)
    big.setsockopt(zmq.LINGER, 0)
    big.connect(c.events_ep)
    big.send(b"\x01sync/" + b"z" * 70000 + b"\0")
    subs.append(big)
    for _ in range(200):
        x.send(b"\x01sync/n%d\0" % _)
    # A well-formed sync subscription after the garbage is still honoured.
    x.send(b"\x01sync/final\0")
    deadline = time.monotonic() + 5
    got = False
    while time.monotonic() < deadline and not got:
        if x.poll(200):
            got = x.recv().startswith(b"sync/final\0")
    check(got, "no SYNC for a well-formed sync subscription after the garbage")
    for s in subs:
        s.close(0)
    x.close(0)
    still_serving(c, "xpub")


if __name__ == "__main__":
    run_checks([
        ("client ROUTER: malformed frames get the documented status; random and multipart frames are survived",
         client_port),
        ("worker ROUTER: garbage from a fake worker is ignored", worker_port),
        ("a live fake worker: garbage W_REPLY/W_STATE is not published and hurts nobody", worker_events),
        ("events XPUB: odd subscriptions and frames are survived", xpub_port),
    ], cluster_factory=lambda: Cluster(workers=1, broker_args=NO_RATE_LIMITS))
