#!/usr/bin/env python3
"""Two nicks in a room, both listening: join/message/leave events arrive in order, with strictly consecutive
sequence numbers, identical in both listeners."""
from chatbus_harness import Cluster, check, check_eq, run_checks


def is_event(room):
    return lambda l: l.get("type") == "event" and l.get("room") == room


def check_consecutive(events, who):
    seqs = [e["seq"] for e in events]
    for a, b in zip(seqs, seqs[1:]):
        check(b == a + 1, "%s: sequence numbers not consecutive: %r" % (who, seqs))


def two_listeners(c):
    alice, bob = c.user("alice"), c.user("bob")
    alice.register("Alice")
    bob.register("bob")
    la, lb = alice.listen(), bob.listen()
    la.ready()
    lb.ready()

    j1 = alice.ok("join", "Lobby")  # room names fold to lower case
    check_eq(j1.json.get("room"), "lobby", "join reply room (folded)")
    check_eq(j1.json.get("joined"), True, "first join: joined")
    check_eq(j1.json.get("seq"), 1, "first event of a new room has seq 1")
    m = la.wait_for(lambda l: l.get("type") == "membership", what="alice's membership line")
    check_eq((m.get("room"), m.get("joined"), m.get("seq")), ("lobby", True, 1), "alice's membership line")

    again = alice.ok("join", "lobby")
    check_eq((again.json.get("joined"), again.json.get("seq")), (False, 0), "joining again: joined false, seq 0")

    j2 = bob.ok("join", "lobby")
    check_eq(j2.json.get("seq"), 2, "bob's join seq")
    lb.wait_for(lambda l: l.get("type") == "membership" and l.get("room") == "lobby", what="bob's membership line")

    texts = ["first", "second \u00e9", "third\twith tab"]
    for i, t in enumerate(texts):
        sender = alice if i % 2 == 0 else bob
        r = sender.ok("send", "--room", "lobby", t)
        check_eq(r.json.get("room"), "lobby", "send reply room")
        check_eq((r.json.get("first_seq"), r.json.get("last_seq")), (3 + i, 3 + i), "send %d seqs" % i)
    lv = bob.ok("leave", "lobby")
    check_eq(lv.json.get("seq"), 6, "leave seq")
    alice.ok("send", "--room", "lobby", "after bob left")

    ea = la.collect(7, is_event("lobby"), what="events in alice's listener")
    check_consecutive(ea, "alice")
    check_eq([e["seq"] for e in ea], list(range(1, 8)), "alice's event seqs")
    check_eq([e["kind"] for e in ea], ["join", "join", "message", "message", "message", "leave", "message"],
             "alice's event kinds")
    check_eq([e["nick"] for e in ea], ["Alice", "bob", "Alice", "bob", "Alice", "bob", "Alice"], "event nicks")
    check_eq([e["text"] for e in ea if e["kind"] == "message"], texts + ["after bob left"], "message texts")
    for e in ea:
        check(e.get("kind") == "message" or e.get("text") == "", "join/leave with text: %r" % e)
        check(isinstance(e.get("ts"), int) and e["ts"] > 1_600_000_000_000, "bad ts: %r" % e)

    # Bob saw his own join through the leave; he may or may not print events after leaving.
    eb = lb.collect(4, is_event("lobby"), what="events in bob's listener")
    check_consecutive(eb, "bob")
    by_seq = {e["seq"]: e for e in ea}
    for e in eb:
        check_eq(e, by_seq.get(e["seq"]), "bob's event %d differs from alice's" % e["seq"])
    check_eq(eb[0]["seq"], 2, "bob's first event is his own join")
    lb.wait_for(lambda l: l.get("type") == "membership" and l.get("joined") is False, what="bob's leave membership")
    # No event is printed twice.
    for lst, who in ((la, "alice"), (lb, "bob")):
        seqs = [l["seq"] for l in lst.seen if l.get("type") == "event"]
        check(len(seqs) == len(set(seqs)), "%s printed an event twice: %r" % (who, seqs))


def batch_send(c):
    alice = c.user("alice")
    alice.register("alice")
    la = alice.listen()
    la.ready()
    alice.ok("join", "batch")
    r = alice.ok("send", "--room", "batch", "one", "two", "three")
    first, last = r.json.get("first_seq"), r.json.get("last_seq")
    check(first == 2 and last >= first, "send reply seqs: %r" % r.json)
    events = la.collect(1 + last - first + 1, is_event("batch"), what="batch events")
    check_consecutive(events, "alice")
    msgs = [e["text"] for e in events if e["kind"] == "message"]
    check(msgs in (["one two three"], ["one", "two", "three"]), "texts of the batch: %r" % msgs)


if __name__ == "__main__":
    run_checks([
        ("two listeners see the same join/message/leave events with consecutive seqs", two_listeners),
        ("a send with several words gives consecutive message events", batch_send),
    ], cluster_factory=lambda: Cluster(workers=2))
