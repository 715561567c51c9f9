#!/usr/bin/env python3
"""Broker restart (SIGKILL, then a new broker on the same ports and state directory): 1,000 registered nicks
survive (REGISTER gets nick_taken, the saved tokens still act); both workers come back and the 3 running
`chatctl listen` re-attach within 5 s (prints restart_recovery_s=); rooms keep their sequence numbers and
history (the next SEND continues at the old last seq + 1); the listeners print every message sent after the
restart exactly once, with no gap and no duplicate in any room."""
import time

from chatbus_harness import (NO_RATE_LIMITS, Cluster, STATUS, check, check_eq, raw_register, raw_requests,
                             run_checks, fetch_histories)

NICKS = ["n%04d" % i for i in range(1000)]
ROOMS = {"alpha": ("alice", "bob"), "beta": ("alice", "carol"), "gamma": ("bob", "carol")}
RECOVERY_BOUND_S = 5.0
AFTER = 5  # messages per room after the restart


def is_event(l):
    return l.get("type") == "event"


def restart(c):
    t0 = time.monotonic()
    regs = raw_register(c, NICKS)
    reg_s = time.monotonic() - t0
    for n in NICKS:
        check(regs[n].get("status") == 0, "REGISTER %s: %r" % (n, regs[n]))
    tokens = {n: regs[n]["token"] for n in NICKS}
    print("registered %d nicks in %.2f s" % (len(NICKS), reg_s), flush=True)

    users = {n: c.user(n) for n in ("alice", "bob", "carol")}
    for n, u in users.items():
        u.register(n)
    listeners = {n: u.listen() for n, u in users.items()}  # default --reconnect
    for l in listeners.values():
        l.ready()
    for room, members in ROOMS.items():
        for m in members:
            users[m].ok("join", room)
        for i in range(3):
            users[members[i % 2]].ok("send", "--room", room, "before %s %d" % (room, i))
    before = fetch_histories(c, list(ROOMS))
    last = {room: h[-1]["seq"] for room, h in before.items()}
    check_eq(last, {room: 5 for room in ROOMS}, "last seq per room before the restart (2 joins + 3 messages)")
    # The listeners have printed everything so far (so nothing below is confused with a late line).
    for n, l in listeners.items():
        for room, members in ROOMS.items():
            if n in members:
                l.wait_for(lambda e, room=room: is_event(e) and e.get("room") == room and e.get("seq") == 5,
                           what="seq 5 of %s" % room)
    st0 = c.status_json()
    check_eq(st0.get("listeners"), 3, "listeners before the restart")
    check_eq(st0.get("nicks"), len(NICKS) + 3, "nicks before the restart")

    t_restart = c.restart_broker(kill=True)
    st, recovery_s = c.wait_status(
        lambda s: len(s.get("workers", [])) == 2 and s.get("listeners") == 3, timeout=15,
        what="2 workers and 3 listeners after the restart")
    recovery_s = time.monotonic() - t_restart  # from the start of the new broker process
    print("restart_recovery_s=%.3f (2 workers and 3 listeners back)" % recovery_s, flush=True)
    check(st.get("boot") and st.get("boot") != st0.get("boot"), "boot id did not change: %r -> %r" % (
        st0.get("boot"), st.get("boot")))
    check_eq(st.get("nicks"), len(NICKS) + 3, "registered nicks after the restart")

    # Every nick is still registered, and its token still acts for it.
    reps = raw_requests(c, "REGISTER", [{"nick": n} for n in NICKS])
    bad = [(n, r) for n, r in zip(NICKS, reps) if r.get("status") != STATUS["nick_taken"]]
    check(not bad, "%d nicks are not taken after the restart, e.g. %r" % (len(bad), bad[:3]))
    reps = raw_requests(c, "DM", [{"nick": n, "token": tokens[n], "to": "nobody_here", "text": "x"} for n in NICKS])
    bad = [(n, r) for n, r in zip(NICKS, reps) if r.get("status") != STATUS["unknown_nick"]]
    check(not bad, "%d saved tokens no longer act (expected unknown_nick for the recipient), e.g. %r" % (
        len(bad), bad[:3]))
    rep = raw_requests(c, "DM", [{"nick": "n0001", "token": tokens["n0002"], "to": "alice", "text": "x"}])[0]
    check_eq(rep.get("status"), STATUS["bad_token"], "another nick's token after the restart")
    reps = raw_requests(c, "DM", [{"nick": n, "token": tokens[n], "to": "alice", "text": "dm from " + n}
                                  for n in NICKS[:5]])
    for n, r in zip(NICKS[:5], reps):
        check(r.get("status") == 0, "DM from %s to alice after the restart: %r" % (n, r))

    # Rooms keep their history and sequence numbers.
    after = fetch_histories(c, list(ROOMS))
    key = lambda e: (e["room"], e["seq"], e["kind"], e["nick"], e["text"], e["ts"])
    for room in ROOMS:
        check_eq([key(e) for e in after[room]], [key(e) for e in before[room]], "history of %s after the restart"
                 % room)
    sent = {}
    for room, members in ROOMS.items():
        for i in range(AFTER):
            text = "after %s %d" % (room, i)
            r = users[members[i % 2]].ok("send", "--room", room, text)
            check_eq(r.json.get("first_seq"), last[room] + 1 + i, "seq of %r" % text)
            sent.setdefault(room, []).append((last[room] + 1 + i, text))

    # Each listener prints each message after the restart once; over the whole run its events of each room
    # are consecutive (no gap, no duplicate). A sentinel closes each stream: a room's events reach a listener in
    # order, and so do its DMs, so a duplicate printed before a sentinel is in the lines read up to it.
    sentinel = {}
    for room, members in ROOMS.items():
        r = users[members[0]].ok("send", "--room", room, "sentinel " + room)
        sentinel[room] = r.json.get("first_seq")
        check_eq(sentinel[room], last[room] + AFTER + 1, "seq of the sentinel of %s" % room)
    rep = raw_requests(c, "DM", [{"nick": "n0001", "token": tokens["n0001"], "to": "alice", "text": "dm sentinel"}])
    check_eq(rep[0].get("status"), 0, "sentinel DM to alice")
    for n, l in listeners.items():
        for room, members in ROOMS.items():
            if n not in members:
                continue
            l.wait_for(lambda e, room=room: is_event(e) and e.get("room") == room and
                       e.get("seq") == sentinel[room], timeout=10, what="the sentinel of %s" % room)
        if n == "alice":
            l.wait_for(lambda e: e.get("type") == "dm" and e.get("text") == "dm sentinel", timeout=10,
                       what="the sentinel DM")
            dms = [x.get("text") for x in l.seen if x.get("type") == "dm"]
            check_eq(sorted(dms), sorted(["dm sentinel"] + ["dm from " + m for m in NICKS[:5]]),
                     "DMs printed by alice's listener")
        check(l.proc.alive(), "listener %s exited (%s); lines %r" % (n, l.proc.popen.returncode, l.seen))
        for room, members in ROOMS.items():
            if n not in members:
                continue
            seqs = [e["seq"] for e in l.seen if is_event(e) and e.get("room") == room]
            texts = {e["seq"]: e.get("text") for e in l.seen if is_event(e) and e.get("room") == room}
            first = seqs[0] if seqs else None
            check(seqs == list(range(first, sentinel[room] + 1)),
                  "listener %s, room %s: seqs %r (expected %r..%d, each once)" % (n, room, seqs, first,
                                                                                    sentinel[room]))
            for seq, text in sent[room]:
                check_eq(texts.get(seq), text, "listener %s, room %s, seq %d" % (n, room, seq))
    print("restart_recovery_s=%.3f nicks=%d listeners=%d history intact, seqs continue at +1" % (
        recovery_s, st.get("nicks"), st.get("listeners")), flush=True)
    check(recovery_s <= RECOVERY_BOUND_S, "workers and listeners back after %.2f s (bound %.1f s)" % (
        recovery_s, RECOVERY_BOUND_S))


if __name__ == "__main__":
    run_checks([("SIGKILL the broker and restart it: registrations, rooms, workers and listeners come back",
                 restart)], cluster_factory=lambda: Cluster(workers=2, broker_args=NO_RATE_LIMITS))
