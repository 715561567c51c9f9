#!/usr/bin/env python3
"""Every flood limit of docs/security.md ("Limits") against a live broker configured with small limits: the exact
status on the wire, chatctl's exit code (4) and --json error name, the STATUS `refused` counter, and that the
broker goes on serving everyone else afterwards."""
import time

from chatbus_harness import (EXIT_REFUSED, STATUS, T, Cluster, RawClient, check, check_eq, decode, encode,
                             run_checks, status_of)


def pipelined(raw, name, n, **fields):
    """Sends n requests without waiting, then returns their replies in order (bounded wait)."""
    rids = []
    for _ in range(n):
        rid = next(raw.rids)
        rids.append(rid)
        raw.send_raw(encode(T[name], dict(fields, rid=rid)))
    return [raw.expect_reply(rid, T[name] | 0x80, timeout=5.0) for rid in rids]


def refused(c):
    return c.status_json().get("refused", {})


# --client-rate 0.01 --client-burst 5: an identity gets five requests, then one per 100 s.
def client_rate(c):
    a = c.raw()
    reps = pipelined(a, "PING", 8)
    check_eq([status_of(r) for r in reps], ["ok"] * 5 + ["rate_limited"] * 3, "statuses of 8 pipelined PINGs")
    check(all(r["_type"] == T["PING_REPLY"] for r in reps), "rate_limited not in the request's own reply type")
    check(reps[-1].get("error"), "rate_limited without a message: %r" % reps[-1])
    # A refused request has no effect: a REGISTER over the limit registers nothing.
    r = a.request("REGISTER", nick="flooder")
    check_eq(status_of(r), "rate_limited", "REGISTER over the limit")
    # Another identity is not affected, and the refused REGISTER really did nothing.
    b = c.raw()
    check_eq(status_of(b.request("REGISTER", nick="flooder")), "ok", "REGISTER from another client")
    # A garbage frame over the limit is refused too (ERROR, rid 0), not decoded as usual.
    a.send_raw(b"garbage")
    t, body = decode(a.recv_raw())
    check_eq((t, body.get("status")), (T["ERROR"], STATUS["rate_limited"]), "garbage over the limit")
    # chatctl (each run is a new identity) still works, and STATUS counts the refusals.
    u = c.user("u")
    u.register("alice")
    check_eq(refused(c).get("rate_limited"), 5, "refused.rate_limited")


# --nick-rate 0.01 --nick-burst 4: a nick gets four acting requests.
def nick_rate(c):
    a, b = c.user("a"), c.user("b")
    a.register("alice")
    b.register("bob")
    a.ok("join", "lobby")
    for i in range(3):
        a.ok("send", "--room", "lobby", "hi %d" % i)
    r = a.fails("send", "--room", "lobby", "one too many", status="rate_limited", rc=EXIT_REFUSED)
    check(r.json.get("error"), "no error message: %r" % r.json)
    a.fails("send", "--to", "bob", "dm too", status="rate_limited", rc=EXIT_REFUSED)
    # Over one's own limit, queries that act as nobody still work; another nick is unaffected.
    check_eq(a.ok("who", "lobby").json.get("members"), ["alice"], "who lobby")
    b.ok("join", "lobby")
    b.ok("send", "--room", "lobby", "bob is fine")
    hist = [e for e in a.ok("history", "lobby").lines]
    check_eq([e.get("text") for e in hist if e.get("kind") == "message"], ["hi 0", "hi 1", "hi 2", "bob is fine"],
             "refused sends published nothing")
    check_eq(refused(c).get("rate_limited"), 2, "refused.rate_limited")


# --max-clients 3 --client-idle-ms 1000.
def clients(c):
    # The cluster's start-up polls used identities of their own: take the three places as they free up,
    # keeping the ones taken active.
    held = [c.raw() for _ in range(3)]
    deadline = time.monotonic() + 10
    for i, h in enumerate(held):
        while status_of(h.request("PING")) != "ok":
            check(time.monotonic() < deadline, "no place for client %d" % i)
            for g in held[:i]:
                check_eq(status_of(g.request("PING")), "ok", "PING of a tracked client")
            time.sleep(0.1)  # polling a time-based eviction: there is no event to wait for
    extra = c.raw()
    check_eq(status_of(extra.request("PING")), "too_many_clients", "a fourth client identity")
    u = c.user("u")
    r = u.fails("rooms", status="too_many_clients", rc=EXIT_REFUSED)
    check(r.json.get("error"), "no error message: %r" % r.json)
    # Two identities fall silent; the third keeps talking. After client-idle-ms the silent ones are forgotten
    # and new identities are served, while the active one never was refused.
    deadline = time.monotonic() + 10
    while True:
        check_eq(status_of(held[0].request("PING")), "ok", "PING of the active client")
        if status_of(extra.request("PING")) == "ok":
            break
        check(time.monotonic() < deadline, "silent identities were never evicted")
        time.sleep(0.1)  # polling a time-based eviction: there is no event to wait for
    # Asked over a tracked identity: the table may still be full.
    st = held[0].request("STATUS")
    check(st["refused"].get("too_many_clients", 0) >= 2, "refused.too_many_clients not counted: %r" % st)


# --max-rooms-per-nick 2.
def rooms_per_nick(c):
    a = c.user("a")
    a.register("alice")
    a.ok("join", "r1")
    a.ok("join", "r2")
    r = a.fails("join", "r3", status="too_many_rooms", rc=EXIT_REFUSED)
    check(r.json.get("error"), "no error message: %r" % r.json)
    # Joining a room it is already in is never refused.
    check_eq(a.ok("join", "R1").json.get("joined"), False, "idempotent re-join")
    check_eq(a.ok("rooms").json.get("rooms"), [{"room": "r1", "members": 1}, {"room": "r2", "members": 1}], "rooms")
    a.ok("leave", "r1")
    a.ok("join", "r3")
    check_eq(refused(c).get("too_many_rooms"), 1, "refused.too_many_rooms")


# --max-room-members 2.
def room_full(c):
    a, b, d = c.user("a"), c.user("b"), c.user("d")
    a.register("alice")
    b.register("bob")
    d.register("dave")
    a.ok("join", "small")
    b.ok("join", "small")
    r = d.fails("join", "small", status="room_full", rc=EXIT_REFUSED)
    check(r.json.get("error"), "no error message: %r" % r.json)
    check_eq(a.ok("join", "small").json.get("joined"), False, "a member re-joins a full room")
    check_eq(sorted(a.ok("who", "small").json.get("members")), ["alice", "bob"], "who small")
    d.ok("join", "other")
    b.ok("leave", "small")
    d.ok("join", "small")
    check_eq(refused(c).get("room_full"), 1, "refused.room_full")


def reserved(c):
    u = c.user("u")
    for n in ("broker", "Broker", "SYSTEM", "admin", "root", "chatbus", "server"):
        r = u.fails("register", n, as_nick=False, status="reserved_name", rc=EXIT_REFUSED)
        check(r.json.get("error"), "no error message: %r" % r.json)
    raw = c.raw()
    check_eq(status_of(raw.request("REGISTER", nick="sYsTeM")), "reserved_name", "raw REGISTER sYsTeM")
    # Invalid beats reserved; names that only contain a reserved word are fine.
    check_eq(status_of(raw.request("REGISTER", nick="root!")), "invalid_nick", "raw REGISTER root!")
    u.register("broker2")
    u.register("rooted")
    check_eq(refused(c).get("reserved_name"), 8, "refused.reserved_name")


# --max-frame 8192: over it too_large; over 4 x it libzmq cuts the connection without an answer.
def frame_size(c):
    raw = c.raw()
    hello = raw.request("HELLO")
    check_eq(hello["limits"]["max_frame"], 8192, "HELLO limits.max_frame")
    raw.send_raw(encode(T["PING"], {"rid": 1, "pad": "x" * 9000}))
    t, body = decode(raw.recv_raw())
    # Answered in the request's own reply type with its rid (docs/protocol.md, "How errors are answered").
    check_eq((t, body.get("status"), body.get("rid")), (T["PING"] | 0x80, STATUS["too_large"], 1), "a 9 KB frame")
    big = RawClient(c.client_ep)
    try:
        big.send_raw(b"CB" + b"\x01\x0c" + b"x" * 40000)
        try:
            big.recv_raw(timeout=1.0)
            check(False, "a frame over ZMQ_MAXMSGSIZE was answered")
        except TimeoutError:
            pass
    finally:
        big.close()
    check_eq(status_of(raw.request("PING")), "ok", "PING after the oversized frames")
    check_eq(refused(c).get("too_large"), 1, "refused.too_large")


CHECKS = [
    ("client rate: rate_limited on the wire, other clients served", client_rate,
     ["--client-rate", "0.01", "--client-burst", "5"]),
    ("nick rate: rate_limited, exit 4, nothing published", nick_rate, ["--nick-rate", "0.01", "--nick-burst", "4"]),
    ("max-clients: too_many_clients, exit 4, idle identities evicted", clients,
     ["--max-clients", "3", "--client-idle-ms", "1000"]),
    ("max-rooms-per-nick: too_many_rooms, exit 4, re-join allowed", rooms_per_nick, ["--max-rooms-per-nick", "2"]),
    ("max-room-members: room_full, exit 4, members re-join", room_full, ["--max-room-members", "2"]),
    ("reserved nicks: reserved_name, exit 4", reserved, []),
    ("max-frame: too_large, then a cut connection", frame_size, ["--max-frame", "8192"]),
]


def surviving(fn):
    """The check, then: the broker that was refused at is still running."""
    def run(c):
        fn(c)
        check(c.broker.alive(), "the broker died")
    return run


if __name__ == "__main__":
    run_checks([(desc, surviving(fn), lambda args=args: Cluster(workers=1, broker_args=args))
                for desc, fn, args in CHECKS])
