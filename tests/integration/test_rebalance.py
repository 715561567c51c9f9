#!/usr/bin/env python3
"""Rebalancing under load: 3 workers, 50 rooms, one raw sender pipelining 2,000 SENDs (paced, 32 in flight);
mid-run a 4th worker joins, later one of the first three stops with SIGTERM (drains, exits 0). Every message
acknowledged `ok` is delivered exactly once and is in history; per room no gap and no repeat; every request is
acknowledged `ok` (a worker joining or draining is no reason for a `timeout`). Adding the 4th worker moves roughly a quarter of the rooms (rooms move lazily, on
their next request: `moved` is compared once every room got traffic again, between 5 and 25 of 50).
Prints moved= after each step."""
import time

from chatbus_harness import (NO_RATE_LIMITS, Cluster, EventRecorder, RoomLoad, check, check_eq, owner_of,
                             raw_requests, run_checks, setup_sender, verify_streams)

ROOMS = ["r%02d" % i for i in range(50)]
TOTAL = 2000
RATE = 250.0  # messages per second: the run lasts about 8 s, long enough for both steps


def moved_of(c):
    st = c.status_json()
    return st.get("moved"), {w["id"]: w.get("rooms") for w in st["workers"]}, st


def rebalance(c):
    rec = EventRecorder(c.events_ep).start()
    try:
        nick, token = setup_sender(c, ROOMS)
        load = RoomLoad(c.client_ep, nick, token, ROOMS, TOTAL, window=32, client_timeout=10.0, rate=RATE).start()

        # Step 0: every room has had traffic with 3 workers.
        load.wait_sent(2 * len(ROOMS))
        moved0, per0, _ = moved_of(c)
        print("moved=%s after the start with 3 workers, rooms per worker %r" % (moved0, per0), flush=True)
        expect3 = {w: sum(1 for r in ROOMS if owner_of(r, ["w1", "w2", "w3"]) == w) for w in ("w1", "w2", "w3")}
        check_eq(per0, expect3, "rooms per worker with 3 workers (STATUS vs rendezvous)")

        # Step 1: a 4th worker joins mid-run (at about a third of the messages).
        load.wait_sent(TOTAL // 3)
        w4 = c.start_worker("w4")
        _, waited = c.wait_status(lambda s: len(s.get("workers", [])) == 4, timeout=10, what="4 live workers")
        at_add = load.sent
        print("w4 (pid %d) live after %.2f s, at %d sends" % (w4.pid, waited, at_add), flush=True)
        # Every room gets traffic again (two full rounds), then the moves are counted.
        load.wait_sent(at_add + 2 * len(ROOMS) + 32)
        moved1, per1, _ = moved_of(c)
        to_w4 = sorted(r for r in ROOMS if owner_of(r, ["w1", "w2", "w3", "w4"]) == "w4")
        delta1 = moved1 - moved0
        print("moved=%s after adding w4 (+%d; rendezvous says %d rooms go to w4), rooms per worker %r" % (
            moved1, delta1, len(to_w4), per1), flush=True)
        check(5 <= delta1 <= 25, "adding a 4th worker moved %d of 50 rooms (expected 5..25, about 12)" % delta1)
        check_eq(per1.get("w4"), len(to_w4), "rooms owned by w4 (STATUS vs rendezvous)")

        # Step 2: w2 stops with SIGTERM mid-run (at about two thirds): it drains and exits 0.
        load.wait_sent(2 * TOTAL // 3)
        w2 = c.worker("w2")
        t0 = time.monotonic()
        rc = c.stop_worker(w2, timeout=15)
        drain_s = time.monotonic() - t0
        at_stop = load.sent
        print("w2 (pid %d) exited %s after SIGTERM in %.2f s, at %d sends" % (w2.pid, rc, drain_s, at_stop),
              flush=True)
        check_eq(rc, 0, "exit code of w2 after SIGTERM (drain)\n" + w2.log_text()[-3000:])
        c.wait_status(lambda s: sorted(w["id"] for w in s.get("workers", [])) == ["w1", "w3", "w4"], timeout=10,
                      what="workers w1, w3, w4")

        load.join(timeout=120)
        moved2, per2, st = moved_of(c)
        from_w2 = sum(1 for r in ROOMS if owner_of(r, ["w1", "w2", "w3", "w4"]) == "w2")
        print("moved=%s after stopping w2 (+%d; w2 owned %d rooms)" % (moved2, moved2 - moved1, from_w2), flush=True)
        check(moved2 - moved1 >= from_w2,
              "stopping w2 moved only %d rooms, it owned %d" % (moved2 - moved1, from_w2))

        summary = verify_streams(c, load, rec, ROOMS, allowed=("ok",))
        reps = raw_requests(c, "SEND", [{"nick": nick, "token": token, "room": r, "texts": ["after-%s" % r]}
                                        for r in ROOMS])
        for r, rep in zip(ROOMS, reps):
            check(rep.get("status") == 0, "SEND to %s after the rebalancing: %r" % (r, rep))
        moved3, per3, st = moved_of(c)
        expect = {w: sum(1 for r in ROOMS if owner_of(r, ["w1", "w3", "w4"]) == w) for w in ("w1", "w3", "w4")}
        check_eq(per3, expect, "rooms per worker after the rebalancing (STATUS vs rendezvous over w1, w3, w4)")
        elapsed = load.finished - load.started
        print("moved=%s at the end; acked=%d timeouts=%d timeouts_delivered=%d retried=%s statuses=%r "
              "load_s=%.2f drain_s=%.2f" % (moved3, summary["acked"], summary["timeouts"],
                                            summary["timeouts_delivered"], st.get("retried"), summary["counts"],
                                            elapsed, drain_s), flush=True)
    finally:
        rec.stop()


if __name__ == "__main__":
    run_checks([("add a 4th worker, then SIGTERM one, under load: exactly-once, no gaps, a quarter of rooms move",
                 rebalance)],
               cluster_factory=lambda: Cluster(workers=3, log_level="info", broker_args=NO_RATE_LIMITS))
