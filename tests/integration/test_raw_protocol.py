#!/usr/bin/env python3
"""A whole session spoken by a client written from docs/protocol.md alone (chatbus_harness.RawClient: header
b"CB\\x01" + type byte + msgpack map), which shows the document is enough to write a client in another
language."""
import chatbus_harness  # noqa: F401 (first: it makes pyzmq and msgpack importable)
import time
import uuid

import msgpack
import zmq

from chatbus_harness import (STATUS, T, TYPE_NAME, Cluster, check, check_eq, decode_topic_frame, encode, room_topic,
                             run_checks)


def documented_drop_causes():
    """The `dropped` counter names listed in docs/protocol.md (STATUS: "counters by cause: `a`, `b`, ...")."""
    import os
    import re
    doc = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "protocol.md")
    with open(doc) as f:
        text = " ".join(f.read().split())
    m = re.search(r"counters by cause:([^)]*)\)", text)
    check(m, "docs/protocol.md: no 'counters by cause:' in the STATUS section")
    causes = set(re.findall(r"`([a-z_]+)`", m.group(1)))
    check(causes >= {"malformed"}, "docs/protocol.md: drop causes %r" % causes)
    return causes


def ok(rep, what):
    check(rep.get("status") == 0 and rep.get("error") == "", "%s: %r" % (what, rep))
    return rep


def notification(client, problems, after):
    """The next notification on `client`. One that came in before the reply to `after` was stashed by
    expect_reply; the document says notifications caused by a request follow its reply, so that is noted."""
    if client.notifications:
        t, body = client.notifications.pop(0)
        problems.append("%s %r arrived before the reply to %s (docs: after the reply)" % (
            TYPE_NAME.get(t, hex(t)), body, after))
        return t, body
    return client.recv(5)


def session(c):
    a, b = c.raw(), c.raw()
    problems = []  # deviations that do not stop the session; reported at the end

    hello = ok(a.request("HELLO"), "HELLO")
    check_eq(hello.get("version"), 1, "HELLO version")
    limits = hello.get("limits")
    for k in ("max_text", "max_batch", "max_frame", "history", "inbox", "heartbeat_ms"):
        check(isinstance(limits.get(k), int) and limits[k] > 0, "HELLO limits.%s: %r" % (k, limits))
    check_eq(limits.get("max_text"), 4096, "default max_text")

    ra = ok(a.request("REGISTER", nick="Ann"), "REGISTER Ann")
    check_eq(ra.get("nick"), "Ann", "registered spelling")
    tok_a = ra.get("token")
    check(len(tok_a) == 64 and all(ch in "0123456789abcdef" for ch in tok_a), "token format: %r" % tok_a)
    tok_b = ok(b.request("REGISTER", nick="ben"), "REGISTER ben")["token"]

    # Subscribe to the room and to a sync topic; SYNC means the room subscription is active.
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.connect(hello["events"])
    sub.setsockopt(zmq.SUBSCRIBE, room_topic("talk"))
    sub.setsockopt(zmq.SUBSCRIBE, room_topic("ta"))  # a prefix of "talk": must never match it
    nonce = uuid.uuid4().hex
    sub.setsockopt(zmq.SUBSCRIBE, b"sync/" + nonce.encode() + b"\0")
    check(sub.poll(5000), "no SYNC within 5 s")
    topic, t, body = decode_topic_frame(sub.recv())
    check_eq((topic, t, body), (b"sync/" + nonce.encode() + b"\0", T["SYNC"], {"nonce": nonce}), "SYNC frame")

    # B listens: LISTEN_REPLY lists its rooms (none yet).
    lr = ok(b.request("LISTEN", nick="ben", token=tok_b), "LISTEN")
    check_eq(lr.get("rooms"), [], "LISTEN rooms")

    j = ok(a.request("JOIN", nick="Ann", token=tok_a, room="Talk"), "JOIN")
    check_eq((j["room"], j["seq"], j["joined"]), ("talk", 1, True), "JOIN reply")
    j = ok(b.request("JOIN", nick="ben", token=tok_b, room="talk"), "JOIN ben")
    check_eq(j["seq"], 2, "second JOIN seq")
    # MEMBERSHIP goes to ben's listener after the reply.
    t, m = notification(b, problems, "JOIN")
    check_eq((t, m), (T["MEMBERSHIP"], {"nick": "ben", "room": "talk", "joined": True, "seq": 2}), "MEMBERSHIP")

    s = ok(a.request("SEND", nick="Ann", token=tok_a, room="talk", texts=["one", "two \u00e9", "three"]), "SEND")
    check_eq((s["room"], s["first_seq"], s["last_seq"]), ("talk", 3, 5), "SEND seqs")
    got = []
    while len(got) < 5:
        check(sub.poll(5000), "room events: got %d of 5" % len(got))
        topic, t, ev = decode_topic_frame(sub.recv())
        check_eq((topic, t), (room_topic("talk"), T["EVENT"]), "event frame header")
        got.append(ev)
    check_eq([(e["seq"], e["kind"], e["nick"], e["text"]) for e in got],
             [(1, "join", "Ann", ""), (2, "join", "ben", ""), (3, "message", "Ann", "one"),
              (4, "message", "Ann", "two \u00e9"), (5, "message", "Ann", "three")], "room events")
    check(not sub.poll(200), "an extra frame on the SUB (prefix match of room/ta?)")

    # The batch is validated as a whole.
    bad = a.request("SEND", nick="Ann", token=tok_a, room="talk", texts=["fine", "bad\x01"])
    check_eq(bad["status"], STATUS["invalid_text"], "SEND with one bad text")
    big = a.request("SEND", nick="Ann", token=tok_a, room="talk", texts=["x"] * (limits["max_batch"] + 1))
    check_eq(big["status"], STATUS["batch_too_large"], "SEND over max_batch")
    check_eq(a.request("SEND", nick="Ann", token=tok_a, room="talk")["status"], STATUS["invalid_text"],
             "SEND without texts")
    check_eq(a.request("SEND", nick="Ann", token=tok_a, room="talk", texts=["x" * 4097])["status"],
             STATUS["text_too_long"], "text over max_text")
    check_eq(a.request("JOIN", nick="Ann", token=tok_a, room="Bad Room")["status"], STATUS["invalid_room"],
             "JOIN invalid room")
    check_eq(a.request("SEND", nick="Ann", token=tok_a, room="elsewhere", texts=["x"])["status"] in
             (STATUS["not_member"], STATUS["no_such_room"]), True, "SEND to a room not joined")

    h = ok(a.request("HISTORY", room="talk", last=2, since=0), "HISTORY")
    check_eq([e["seq"] for e in h["events"]], [4, 5], "HISTORY last 2")
    w = ok(a.request("WHO", room="talk"), "WHO")
    check_eq(sorted(w["members"]), ["Ann", "ben"], "WHO")
    rooms = ok(a.request("ROOMS"), "ROOMS")
    check_eq(rooms["rooms"], [{"room": "talk", "members": 2}], "ROOMS")

    # DM to the listener: DM_DELIVER on its socket, acknowledged with DM_ACK.
    d = ok(a.request("DM", nick="Ann", token=tok_a, to="BEN", text="psst"), "DM")
    check_eq((d["to"], d["delivered"]), ("ben", True), "DM reply")
    t, dd = notification(b, problems, "DM")
    check_eq(t, T["DM_DELIVER"], "DM_DELIVER type")
    check_eq((dd["id"], dd["from"], dd["to"], dd["text"]), (d["id"], "Ann", "ben", "psst"), "DM_DELIVER")
    b.send_raw(b"CB\x01" + bytes([T["DM_ACK"]]) + msgpack.packb({"nick": "ben", "upto": dd["id"]}))
    ok(b.request("PING"), "PING")
    deadline = time.monotonic() + 5
    while ok(a.request("STATUS"), "STATUS")["inboxed"] != 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    st = ok(a.request("STATUS"), "STATUS")
    check_eq((st["nicks"], st["rooms"], st["listeners"], st["inboxed"]), (2, 1, 1, 0), "STATUS counters")
    check_eq(len(st["workers"]), 1, "STATUS workers")
    check(set(st["workers"][0]) >= {"id", "host", "pid", "rooms", "served", "last_heartbeat_ms"},
          "STATUS worker fields: %r" % st["workers"][0])
    causes = documented_drop_causes()
    check(isinstance(st["dropped"], dict) and set(st["dropped"]) <= causes
          and all(isinstance(v, int) for v in st["dropped"].values()),
          "STATUS dropped: %r (docs/protocol.md documents the causes %r)" % (st["dropped"], sorted(causes)))

    # A second LISTEN for ben replaces the first: LISTEN_END reason replaced on the old socket.
    b2 = c.raw()
    ok(b2.request("LISTEN", nick="ben", token=tok_b), "second LISTEN")
    t, end = notification(b, problems, "second LISTEN")
    check_eq((t, end), (T["LISTEN_END"], {"nick": "ben", "reason": "replaced"}), "LISTEN_END to the old listener")

    # LEAVE: reply, MEMBERSHIP to the (new) listener, leave event.
    lv = ok(b.request("LEAVE", nick="ben", token=tok_b, room="talk"), "LEAVE")
    check_eq(lv["seq"], 6, "LEAVE seq")
    t, m = notification(b2, problems, "LEAVE")
    check_eq((t, m), (T["MEMBERSHIP"], {"nick": "ben", "room": "talk", "joined": False, "seq": 6}), "MEMBERSHIP leave")
    check(sub.poll(5000), "no leave event")
    check_eq(decode_topic_frame(sub.recv())[2]["kind"], "leave", "leave event")

    # UNREGISTER ends the listener with reason unregistered and leaves every room.
    ok(a.request("JOIN", nick="Ann", token=tok_a, room="second"), "JOIN second")
    ok(a.request("LISTEN", nick="Ann", token=tok_a), "LISTEN Ann")
    ok(a.request("UNREGISTER", nick="Ann", token=tok_a), "UNREGISTER")
    seen = [x[0] for x in a.notifications]
    deadline = time.monotonic() + 5
    while T["LISTEN_END"] not in seen and time.monotonic() < deadline:
        try:
            seen.append(a.recv(max(0.05, deadline - time.monotonic()))[0])
        except TimeoutError:
            break
    check(T["LISTEN_END"] in seen, "no LISTEN_END after UNREGISTER; got %r" % seen)
    # The leaves go through the rooms' workers; the UNREGISTER reply does not wait for them (the document does
    # not promise it), so ROOMS is polled (bounded) until they are applied.
    deadline = time.monotonic() + 5
    rooms = a.request("ROOMS")["rooms"]
    while rooms and time.monotonic() < deadline:
        time.sleep(0.02)  # poll interval of a bounded wait
        rooms = a.request("ROOMS")["rooms"]
    check_eq(rooms, [], "ROOMS after everyone left (5 s after UNREGISTER)")
    check_eq(a.request("DM", nick="ben", token=tok_b, to="Ann", text="x")["status"], STATUS["unknown_nick"],
             "DM to an unregistered nick")

    # UNLISTEN from the attached listener detaches it.
    b2.send_raw(b"CB\x01" + bytes([T["UNLISTEN"]]) + msgpack.packb({"nick": "ben"}))
    ok(b2.request("PING"), "PING after UNLISTEN")
    deadline = time.monotonic() + 5
    while ok(a.request("STATUS"), "STATUS")["listeners"] != 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    check_eq(ok(a.request("STATUS"), "STATUS")["listeners"], 0, "listeners after UNLISTEN")
    sub.close(0)
    check(not problems, "; ".join(problems))


HDR = b"CB\x01"
MAX_FRAME = 256 * 1024


def next_frame(raw, what):
    """The next frame on `raw` (bounded), decoded; `what` names what was awaited."""
    try:
        return raw.recv(5)
    except TimeoutError:
        raise AssertionError("no answer to %s within 5 s" % what)


def error_rids(c):
    """docs/protocol.md "Errors": the answer's type is the request's reply type when the header names a client
    request, else ERROR; its rid is the frame's when one can be read (signature, then a map whose `rid` comes
    before anything unreadable, within the first max_frame bytes), else 0. Each frame must get exactly that
    answer as the next frame: a PING sent last must be answered last."""
    raw = c.raw()
    pad = "p" * 60000
    cases = [
        # (what, frames, expected (type, status, rid))
        ("SEND over max_frame, rid first", [encode(T["SEND"], {"rid": 11, "nick": "x", "token": "y", "room": "r",
                                                             "texts": [pad] * 5})],
         (T["SEND_REPLY"], "too_large", 11)),
        ("HELLO over max_frame, rid after max_frame", [HDR + bytes([T["HELLO"]]) + b"\x82\xa3pad" +
                                                       msgpack.packb([pad] * 5) + msgpack.packb("rid") + b"\x0c"],
         (T["HELLO_REPLY"], "too_large", 0)),
        ("JOIN with a truncated body after rid", [HDR + bytes([T["JOIN"]]) + b"\x83\xa3rid\x0d\xa4nick"],
         (T["JOIN_REPLY"], "bad_request", 13)),
        ("version 2 with a rid", [b"CB\x02" + bytes([T["JOIN"]]) + msgpack.packb({"rid": 14})],
         (T["ERROR"], "bad_version", 14)),
        ("unknown type code 0x7e with a rid", [HDR + b"\x7e" + msgpack.packb({"rid": 15})],
         (T["ERROR"], "unknown_type", 15)),
        ("a reply type sent by a client", [encode(T["JOIN_REPLY"], {"rid": 16})], (T["ERROR"], "unknown_type", 16)),
        ("a worker type sent by a client", [encode(T["W_READY"], {"rid": 17, "worker": "w"})],
         (T["ERROR"], "unknown_type", 17)),
        ("a bad signature", [b"XB\x01" + bytes([T["HELLO"]]) + msgpack.packb({"rid": 18})],
         (T["ERROR"], "bad_request", 0)),
        ("a 3-byte frame", [HDR], (T["ERROR"], "bad_request", 0)),
        ("an empty frame", [b""], (T["ERROR"], "bad_request", 0)),
        ("a multipart PING", [encode(T["PING"], {"rid": 19}), b"second"], (T["PING_REPLY"], "bad_request", 19)),
        ("a multipart of garbage", [b"x", b"y", b"z"], (T["ERROR"], "bad_request", 0)),
    ]
    for what, frames, (want_t, want_s, want_rid) in cases:
        raw.sock.send_multipart(frames)
        t, body = next_frame(raw, what)
        check_eq((TYPE_NAME.get(t, hex(t)), body.get("status"), body.get("rid")),
                 (TYPE_NAME[want_t], STATUS[want_s], want_rid), "answer (type, status, rid) to %s" % what)
        check(body.get("error"), "empty error text for %s" % what)
    # Notifications are never answered, not even when over max_frame or multipart: the PING after them is.
    raw.send_raw(encode(T["DM_ACK"], {"nick": "x" * 60000, "upto": 1, "pad": [pad] * 5}))
    raw.sock.send_multipart([encode(T["UNLISTEN"], {"nick": "x"}), b"more"])
    raw.send_raw(encode(T["PING"], {"rid": 20}))
    t, body = next_frame(raw, "the PING sent after two notifications")
    check_eq((t, body.get("rid"), body.get("status")), (T["PING_REPLY"], 20, 0),
             "the frame after two bad notifications (docs: notifications are never answered)")
    st = raw.request("STATUS")
    check_eq(st["refused"].get("too_large"), 3, "STATUS refused.too_large (three frames over max_frame)")


def bin_is_not_str(c):
    """msgpack bin where the document says str is bad_request, in every request, and changes nothing."""
    raw = c.raw()
    tok = ok(raw.request("REGISTER", nick="ann"), "REGISTER ann")["token"]
    ok(raw.request("JOIN", nick="ann", token=tok, room="binroom"), "JOIN")
    for name, body in [
        ("REGISTER", {"nick": b"bob"}),
        ("JOIN", {"nick": "ann", "token": tok, "room": b"other"}),
        ("JOIN", {"nick": b"ann", "token": tok, "room": "other"}),
        ("SEND", {"nick": "ann", "token": tok, "room": "binroom", "texts": [b"as bin"]}),
        ("SEND", {"nick": "ann", "token": tok, "room": "binroom", "texts": ["fine", b"as bin"]}),
        ("SEND", {"nick": "ann", "token": tok.encode(), "room": "binroom", "texts": ["token as bin"]}),
        ("DM", {"nick": "ann", "token": tok, "to": "ann", "text": b"as bin"}),
        ("DM", {"nick": "ann", "token": tok, "to": b"ann", "text": "to as bin"}),
        ("WHO", {"room": b"binroom"}),
        ("HISTORY", {"room": b"binroom"}),
        ("ROOMS", {"after": b""}),
        ("LISTEN", {"nick": "ann", "token": tok.encode()}),
        ("UNREGISTER", {"nick": b"ann", "token": tok}),
    ]:
        rep = raw.request(name, **body)
        check_eq((rep["_type"], status_name(rep)), (T[name] | 0x80, "bad_request"), "%s %r" % (name, body))
    check_eq(raw.request("STATUS")["nicks"], 1, "nicks after REGISTER with a bin nick")
    h = ok(raw.request("HISTORY", room="binroom"), "HISTORY")
    check_eq([e["kind"] for e in h["events"]], ["join"], "binroom events after SENDs with bin texts")
    check_eq(ok(raw.request("HISTORY", room="binroom"), "HISTORY")["events"][0]["nick"], "ann", "event nick")


def status_name(rep):
    return next((k for k, v in STATUS.items() if v == rep.get("status")), repr(rep.get("status")))


def silent_listener(c):
    """A listener that stops sending PING is detached after 3 heartbeats and told so: LISTEN_END reason
    `silent`; its next PING says listening false."""
    raw = c.raw()
    hello = ok(raw.request("HELLO"), "HELLO")
    check_eq(hello["limits"]["heartbeat_ms"], 100, "heartbeat_ms")
    tok = ok(raw.request("REGISTER", nick="quiet"), "REGISTER")["token"]
    ok(raw.request("LISTEN", nick="quiet", token=tok), "LISTEN")
    t0 = time.monotonic()
    t, body = next_frame(raw, "a LISTEN_END for a listener silent for 3 heartbeats")
    check_eq((TYPE_NAME.get(t, hex(t)), body), ("LISTEN_END", {"nick": "quiet", "reason": "silent"}),
             "the frame a silent listener gets")
    check(time.monotonic() - t0 >= 0.3, "detached after %.2f s, before 3 heartbeats" % (time.monotonic() - t0))
    check_eq(ok(raw.request("PING"), "PING")["listening"], False, "PING after LISTEN_END")
    check_eq(ok(raw.request("STATUS"), "STATUS")["listeners"], 0, "listeners after LISTEN_END")


def history_limit(c):
    """HELLO limits.history is how many events HISTORY returns for a busy room, whatever the worker's own
    --history: the broker's W_WELCOME sets it."""
    raw = c.raw()
    limit = ok(raw.request("HELLO"), "HELLO")["limits"]["history"]
    check_eq(limit, 20, "HELLO limits.history (broker --history 20)")
    tok = ok(raw.request("REGISTER", nick="ann"), "REGISTER")["token"]
    ok(raw.request("JOIN", nick="ann", token=tok, room="busy"), "JOIN")
    ok(raw.request("SEND", nick="ann", token=tok, room="busy", texts=["m%d" % i for i in range(30)]), "SEND")
    h = ok(raw.request("HISTORY", room="busy"), "HISTORY")
    check_eq([e["seq"] for e in h["events"]], list(range(12, 32)), "HISTORY of a room with 31 events")
    # The same after the room moved to another worker (from the broker's copy).
    c.start_worker()
    c.wait_workers(2)
    c.kill_worker(c.worker("w1"))
    ok(raw.request("SEND", nick="ann", token=tok, room="busy", texts=["after"], timeout=10), "SEND after the move")
    h = ok(raw.request("HISTORY", room="busy"), "HISTORY after the move")
    check_eq([e["seq"] for e in h["events"]], list(range(13, 33)), "HISTORY after the room moved")


def dm_to_self(c):
    """A DM to oneself is a DM like any other: kept in the inbox and delivered to the nick's own listener."""
    raw = c.raw()
    tok = ok(raw.request("REGISTER", nick="ann"), "REGISTER")["token"]
    d = ok(raw.request("DM", nick="ann", token=tok, to="ANN", text="note to self"), "DM to oneself")
    check_eq((d["to"], d["id"], d["delivered"]), ("ann", 1, False), "DM reply")
    ok(raw.request("LISTEN", nick="ann", token=tok), "LISTEN")
    t, dd = next_frame(raw, "DM_DELIVER of the DM to oneself")
    check_eq((t, dd["from"], dd["to"], dd["text"]), (T["DM_DELIVER"], "ann", "ann", "note to self"), "DM_DELIVER")


def room_lifetime(c):
    """docs/protocol.md "Rooms": a room exists from its first JOIN on, members or not; ROOMS lists only rooms
    with members. An emptied room keeps its seq and history; a room never joined is no_such_room."""
    raw = c.raw()
    tok = ok(raw.request("REGISTER", nick="ann"), "REGISTER")["token"]
    ok(raw.request("JOIN", nick="ann", token=tok, room="brief"), "JOIN")
    ok(raw.request("SEND", nick="ann", token=tok, room="brief", texts=["hi"]), "SEND")
    check_eq(ok(raw.request("LEAVE", nick="ann", token=tok, room="brief"), "LEAVE")["seq"], 3, "LEAVE seq")
    check_eq(ok(raw.request("ROOMS"), "ROOMS")["rooms"], [], "ROOMS after the last member left")
    check_eq(ok(raw.request("WHO", room="brief"), "WHO")["members"], [], "WHO of an emptied room")
    check_eq([e["seq"] for e in ok(raw.request("HISTORY", room="brief"), "HISTORY")["events"]], [1, 2, 3],
             "HISTORY of an emptied room")
    for name, body, want in [("SEND", {"room": "brief", "texts": ["x"]}, "not_member"),
                             ("LEAVE", {"room": "brief"}, "not_member"),
                             ("SEND", {"room": "never", "texts": ["x"]}, "no_such_room"),
                             ("LEAVE", {"room": "never"}, "not_member"),
                             ("WHO", {"room": "never"}, "no_such_room"),
                             ("HISTORY", {"room": "never"}, "no_such_room")]:
        if name in ("SEND", "LEAVE"):
            body = dict(body, nick="ann", token=tok)
        check_eq(status_name(raw.request(name, **body)), want, "%s %r" % (name, body))
    check_eq(ok(raw.request("JOIN", nick="ann", token=tok, room="brief"), "JOIN again")["seq"], 4,
             "JOIN of an emptied room continues its seq")


if __name__ == "__main__":
    run_checks([
        ("a full session by a raw client written from the document", session),
        ("error answers: the request's reply type and rid whenever they can be read", error_rids),
        ("msgpack bin where a str is meant is bad_request", bin_is_not_str),
        ("a listener silent for 3 heartbeats gets LISTEN_END reason silent", silent_listener,
         lambda: Cluster(workers=1, broker_args=("--heartbeat-ms", "100"))),
        ("HELLO limits.history is what HISTORY keeps", history_limit,
         lambda: Cluster(workers=1, broker_args=("--history", "20"), worker_args=("--history", "1000"))),
        ("a DM to oneself", dm_to_self),
        ("a room exists from its first JOIN; ROOMS lists rooms with members", room_lifetime),
    ])
