#!/usr/bin/env python3
"""who, rooms and history (with --last and --since) print what the rooms hold."""
from chatbus_harness import EXIT_NOT_FOUND, EXIT_REFUSED, Cluster, check, check_eq, run_checks


def events(r):
    return [l for l in r.lines if l.get("type") == "event"]


def rooms_map(r):
    rooms = r.json.get("rooms")
    check(isinstance(rooms, list), "rooms output has no list: %r" % r.json)
    return {x["room"]: x["members"] for x in rooms}


def queries(c):
    alice, bob, carol = c.user("alice"), c.user("bob"), c.user("carol")
    alice.register("Alice")
    bob.register("bob")
    carol.register("carol")
    alice.ok("join", "lobby")
    bob.ok("join", "LOBBY")
    carol.ok("join", "Dev.Room")
    for i in range(5):
        alice.ok("send", "--room", "lobby", "msg %d" % i)

    w = carol.ok("who", "lobby")
    check_eq(w.json.get("room"), "lobby", "who room")
    check_eq(sorted(w.json.get("members")), ["Alice", "bob"], "who lobby (nicks as registered)")
    check_eq(carol.ok("who", "DEV.ROOM").json.get("members"), ["carol"], "who with a case variant of the room")
    carol.fails("who", "nowhere", status="no_such_room", rc=EXIT_NOT_FOUND)
    carol.fails("who", "--", "-bad", status="invalid_room", rc=EXIT_REFUSED)

    check_eq(rooms_map(carol.ok("rooms")), {"lobby": 2, "dev.room": 1}, "rooms")

    h = events(carol.ok("history", "lobby"))
    check_eq([e["seq"] for e in h], list(range(1, 8)), "history seqs")
    check_eq([e["kind"] for e in h], ["join", "join"] + ["message"] * 5, "history kinds")
    check_eq([e["nick"] for e in h], ["Alice", "bob"] + ["Alice"] * 5, "history nicks")
    check_eq([e["text"] for e in h[2:]], ["msg %d" % i for i in range(5)], "history texts")
    check(all(e["room"] == "lobby" for e in h), "history rooms: %r" % h)
    check(all(a["ts"] <= b["ts"] for a, b in zip(h, h[1:])), "history timestamps go backwards: %r" % h)

    check_eq([e["seq"] for e in events(carol.ok("history", "lobby", "--last", "2"))], [6, 7], "history --last 2")
    check_eq([e["seq"] for e in events(carol.ok("history", "lobby", "--since", "4"))], [5, 6, 7], "--since 4")
    check_eq([e["seq"] for e in events(carol.ok("history", "lobby", "--since", "3", "--last", "2"))], [6, 7],
             "--since 3 --last 2")
    check_eq(events(carol.ok("history", "lobby", "--since", "7", output=False)), [], "--since the last seq")
    check_eq([e["seq"] for e in events(carol.ok("history", "lobby", "--last", "100"))], list(range(1, 8)),
             "--last more than kept")
    carol.fails("history", "nowhere", status="no_such_room", rc=EXIT_NOT_FOUND)

    bob.ok("leave", "lobby")
    check_eq(carol.ok("who", "lobby").json.get("members"), ["Alice"], "who after bob left")
    check_eq(rooms_map(carol.ok("rooms")), {"lobby": 1, "dev.room": 1}, "rooms after bob left")
    h = events(carol.ok("history", "lobby", "--last", "1"))
    check_eq([(e["seq"], e["kind"], e["nick"], e["text"]) for e in h], [(8, "leave", "bob", "")], "leave in history")
    bob.fails("leave", "lobby", status="not_member", rc=EXIT_REFUSED)
    bob.fails("send", "--room", "lobby", "not in", status="not_member", rc=EXIT_REFUSED)

    carol.ok("leave", "dev.room")
    check_eq(rooms_map(carol.ok("rooms")), {"lobby": 1}, "rooms lists only rooms with members")


if __name__ == "__main__":
    run_checks([("who / rooms / history (--last, --since)", queries)], cluster_factory=lambda: Cluster(workers=2))
