#!/usr/bin/env python3
"""A slow subscriber (issue 6): a `chatctl listen` stopped with SIGSTOP while 100,000 room messages flow.

- another listener, which keeps reading, gets all of them live, in order, and reports no gap;
- the broker's RSS stays within RSS_GROWTH_LIMIT_KB of what it was before the flood (events-hwm bounds the
  stopped subscriber's queue: see docs/security.md, "Queues");
- after SIGCONT the stopped listener reports exactly the events its events socket lost (JSON `gap` lines), every
  sequence number is either printed once, in order, or inside a reported gap, and `dropped.slow_subscriber` in
  `chatctl status` equals the sum of its gaps, and is neither zero nor everything.
Only processes started here are stopped and continued (by PID).
"""
import json
import os
import signal
import threading
import time

from chatbus_harness import NO_RATE_LIMITS, Cluster, Proc, check, check_eq, raw_requests, rss_kb, run_checks

N = 100_000
BATCH = 500  # texts per SEND (the broker runs with --max-batch BATCH)
EVENTS_HWM = 10_000  # the broker's --events-hwm (default 30,000): the queue a stopped subscriber may hold
# The flood stays at most this many events ahead of what the reading listener has printed: a reader that falls
# EVENTS_HWM behind is a slow subscriber too (on a fast machine the flood outruns a printing chatctl).
CREDIT = EVENTS_HWM // 2
TEXT = "m" * 180  # ~300-byte events: 100,000 of them are ~30 MB, far more than socket buffers hold
# The broker's RSS may grow by the stopped subscriber's queue (EVENTS_HWM x ~300 B of event + ~350 B of libzmq
# per queued message, ~6.5 MB), the room copy (1,000 events), the reply in flight and allocator slack. With
# --events-hwm 100000 (the old shared bound) the same flood grows it by 55 MB (measured: docs/security.md).
RSS_GROWTH_LIMIT_KB = 24 * 1024


def json_lines(path):
    """Every JSON object line of a listener's output file (stderr notes in between are skipped)."""
    out = []
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode(errors="replace").strip()
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass  # a line being written right now
    return out


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(0.1)  # poll interval of a bounded wait on a file another process writes


def last_event_seq(path):
    seqs = [l["seq"] for l in json_lines(path) if l.get("type") == "event"]
    return seqs[-1] if seqs else 0


def tail_event_seq(path):
    """The seq of the last complete event line, reading only the file's end (called often during the flood)."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - 8192))
        tail = f.read().decode(errors="replace")
    for line in reversed(tail.split("\n")[1:-1]):  # the first may be cut, the last still being written
        if line.startswith('{"type":"event"'):
            try:
                return json.loads(line)["seq"]
            except ValueError:
                pass
    return 0


def start_listener(c, user):
    """`chatctl listen --json` with stdout in a file: a pipe read by this (busy) interpreter would slow it down."""
    p = Proc("listen-%s" % user.name, user.argv("listen"), env=user.env())
    c.procs.append(p)
    wait_for(lambda: any(l.get("type") == "ready" for l in json_lines(p.log.name)), 15, "%s ready" % user.name)
    return p


def slow_subscriber(c):
    alice, slow, fast = c.user("alice"), c.user("slow"), c.user("fast")
    for u in (alice, slow, fast):
        u.register(u.name)
        u.ok("join", "flood")  # seqs 1, 2, 3
    slow_p = start_listener(c, slow)
    fast_p = start_listener(c, fast)

    base = rss_kb(c.broker.pid)
    peak = [base]
    sampling = threading.Event()

    def sample():
        while not sampling.is_set():
            peak[0] = max(peak[0], rss_kb(c.broker.pid))
            sampling.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    bodies = [{"nick": "alice", "token": alice.token(), "room": "flood",
               "texts": ["%s %d" % (TEXT, i + j) for j in range(BATCH)]} for i in range(0, N, BATCH)]
    os.kill(slow_p.pid, signal.SIGSTOP)
    try:
        sampler.start()
        t0 = time.monotonic()
        replies = []
        per_group = CREDIT // BATCH
        for g in range(0, len(bodies), per_group):
            wait_for(lambda: g == 0 or tail_event_seq(fast_p.log.name) >= 3 + g * BATCH, 60,
                     "the reading listener to come within %d events of the flood" % CREDIT)
            replies += raw_requests(c, "SEND", bodies[g:g + per_group], window=4, timeout=60)
        check(all(r.get("status") == 0 for r in replies), "a SEND failed: %r" %
              [r for r in replies if r.get("status") != 0][:1])
        last = replies[-1]["last_seq"]
        check_eq(last, 3 + N, "last seq of the flood")
        wait_for(lambda: last_event_seq(fast_p.log.name) == last, 60, "the reading listener to get #%d" % last)
        print("flood of %d messages sent and read in %.1f s" % (N, time.monotonic() - t0), flush=True)
    finally:
        sampling.set()
        sampler.join(5)
        os.kill(slow_p.pid, signal.SIGCONT)
    print("broker RSS %d kB before the flood, at most %d kB during it (limit +%d kB)" % (
        base, peak[0], RSS_GROWTH_LIMIT_KB), flush=True)
    check(peak[0] - base <= RSS_GROWTH_LIMIT_KB, "broker RSS grew by %d kB (limit %d kB)" % (
        peak[0] - base, RSS_GROWTH_LIMIT_KB))

    # The reader got everything live, in order, and lost nothing.
    lines = json_lines(fast_p.log.name)
    seqs = [l["seq"] for l in lines if l.get("type") == "event"]
    check_eq(seqs, list(range(4, last + 1)), "events the reading listener printed")
    check_eq([l for l in lines if l.get("type") == "gap"], [], "gaps of the reading listener")

    # The stopped one, continued, sees the loss when the next event arrives.
    marker = alice.ok("send", "--room", "flood", "marker").json.get("first_seq")
    check_eq(marker, last + 1, "marker seq")
    wait_for(lambda: last_event_seq(slow_p.log.name) == marker, 30, "the continued listener to get the marker")
    lines = json_lines(slow_p.log.name)
    printed = [l["seq"] for l in lines if l.get("type") == "event"]
    gaps = [l for l in lines if l.get("type") == "gap"]
    check(all(a < b for a, b in zip(printed, printed[1:])), "continued listener printed out of order")
    check(gaps, "the stopped listener reported no gap: nothing was dropped (events-hwm not in effect?)")
    covered = set()
    for g in gaps:
        check_eq(g["missed"], g["to"] - g["from"] + 1, "gap size %r" % g)
        span = set(range(g["from"], g["to"] + 1))
        check(not span & covered, "gaps overlap: %r" % gaps)
        covered |= span
    missed = sum(g["missed"] for g in gaps)
    check_eq(gaps[-1]["total"], missed, "the listener's running total")
    check(0 < missed < N, "missed %d of %d" % (missed, N))
    # Every seq from the first one printed to the marker was either printed or reported lost.
    unaccounted = set(range(printed[0], marker + 1)) - set(printed) - covered
    check_eq(sorted(unaccounted)[:10], [], "seqs neither printed nor in a gap")
    print("stopped listener: %d events printed, %d lost on its events socket in %d gap(s)" % (
        len(printed), missed, len(gaps)), flush=True)

    # The broker counts what the listener reported, with its next PING (one heartbeat).
    st, _ = c.wait_status(lambda s: s.get("dropped", {}).get("slow_subscriber", 0) >= missed, timeout=10,
                       what="dropped.slow_subscriber >= %d" % missed)
    time.sleep(1.5)  # one more heartbeat: a second report of the same loss would show now
    dropped = c.status_json()["dropped"]
    check_eq(dropped.get("slow_subscriber"), missed, "dropped.slow_subscriber in chatctl status")
    print("dropped.slow_subscriber = %d (was %d at first sight)" % (dropped["slow_subscriber"],
                                                                   st["dropped"]["slow_subscriber"]))


if __name__ == "__main__":
    run_checks([
        ("a stopped listener loses events, bounded, and the broker counts exactly what it lost", slow_subscriber),
    ], cluster_factory=lambda: Cluster(workers=1, log_level="info",
                                       broker_args=("--max-batch", str(BATCH), "--liveness", "60",
                                                    "--events-hwm", str(EVENTS_HWM), *NO_RATE_LIMITS)))
