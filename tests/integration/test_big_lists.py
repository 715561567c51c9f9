#!/usr/bin/env python3
"""Lists longer than the 1,024-element decode limit (issue 6, security.md open bug 2).

- `chatctl rooms` with 1,500 rooms lists every one (ROOMS is paged; raw pages are at most 1,000 rooms, in
  order, and `after` continues where a page ended);
- `chatctl history` of a room keeping 1,500 events (broker --history 1500) prints all of them (HISTORY is
  paged) and `--last 1100` the last 1,100;
- a worker hands such a room back to a restarted broker (W_STATE with 1,500 history events): the broker adopts
  it instead of refusing it as malformed, and a new worker gets it from the broker's copy.
"""
from chatbus_harness import NO_RATE_LIMITS, Cluster, check, check_eq, raw_register, raw_requests, run_checks

ROOMS = 1500
KEPT = 1500


def many_rooms(c):
    nicks = ["n%d" % i for i in range(ROOMS)]
    regs = raw_register(c, nicks, timeout=30)
    joins = raw_requests(c, "JOIN", [{"nick": n, "token": regs[n]["token"], "room": "room-%04d" % i}
                                     for i, n in enumerate(nicks)], timeout=30)
    check(all(j.get("status") == 0 for j in joins), "a JOIN failed: %r" % [j for j in joins if j["status"]][:1])

    r = c.user("reader").ok("rooms")
    listed = [x["room"] for x in r.json["rooms"]]
    check_eq(listed, ["room-%04d" % i for i in range(ROOMS)], "chatctl rooms")

    raw = c.raw()
    first = raw.request("ROOMS")
    check_eq((len(first["rooms"]), first.get("more")), (1000, True), "first ROOMS page (size, more)")
    second = raw.request("ROOMS", after=first["rooms"][-1]["room"])
    check_eq((len(second["rooms"]), second.get("more")), (ROOMS - 1000, False), "second ROOMS page")
    check_eq(second["rooms"][0]["room"], "room-1000", "the second page starts after the first")


def long_history(c):
    alice = c.user("alice")
    alice.register("alice")
    alice.ok("join", "big")  # seq 1
    bodies = [{"nick": "alice", "token": alice.token(), "room": "big", "texts": ["t%d" % (i + j) for j in range(50)]}
              for i in range(0, KEPT, 50)]
    replies = raw_requests(c, "SEND", bodies, window=4, timeout=30)
    check(all(x.get("status") == 0 for x in replies), "a SEND failed")
    last = replies[-1]["last_seq"]
    check_eq(last, KEPT + 1, "last seq")

    seqs = [l["seq"] for l in alice.ok("history", "big").lines if l.get("type") == "event"]
    check_eq(seqs, list(range(last - KEPT + 1, last + 1)), "chatctl history (all kept events)")
    seqs = [l["seq"] for l in alice.ok("history", "big", "--last", "1100").lines if l.get("type") == "event"]
    check_eq(seqs, list(range(last - 1099, last + 1)), "chatctl history --last 1100")
    page = c.raw().request("HISTORY", room="big")
    check_eq((len(page["events"]), page.get("more")), (1000, True), "first raw HISTORY page (size, more)")

    # The worker hands the room (1,500 kept events) back to a restarted broker.
    c.restart_broker()
    st, _ = c.wait_status(lambda s: s.get("rooms") == 1, timeout=15, what="the room handed back")
    check_eq(st["dropped"].get("malformed"), 0, "frames the restarted broker refused")
    check_eq([(x["room"], x["members"]) for x in alice.ok("rooms").json["rooms"]], [("big", 1)], "rooms")
    # A new worker gets the room from the broker's copy: numbering and the last kept events continue.
    c.kill_worker(c.worker("w1"))
    c.start_worker()
    c.wait_workers(1, timeout=15)
    r = alice.ok("send", "--room", "big", "after the move", timeout=10)
    check_eq(r.json.get("first_seq"), last + 1, "seq after the move")
    h = [l for l in alice.ok("history", "big", "--last", "2").lines if l.get("type") == "event"]
    check_eq([(e["seq"], e["text"]) for e in h], [(last, "t%d" % (KEPT - 1)), (last + 1, "after the move")],
             "history after the move")


if __name__ == "__main__":
    run_checks([
        ("chatctl rooms lists 1,500 rooms over paged ROOMS replies", many_rooms),
        ("a room keeping 1,500 events: paged HISTORY, handed back to a restarted broker and moved on",
         long_history),
    ], cluster_factory=lambda: Cluster(workers=1, log_level="info",
                                     broker_args=("--history", str(KEPT), *NO_RATE_LIMITS)))
