#!/usr/bin/env python3
"""A slow subscriber (issue 6): a `chatctl listen` stopped with SIGSTOP while 100,000 room messages flow.

- another listener, which keeps reading, gets all of them live, in order, and reports no gap;
- the broker's RSS stays within RSS_GROWTH_LIMIT_KB of what it was before the flood (events-hwm bounds the
  stopped subscriber's queue: see docs/security.md, "Queues");
- after SIGCONT the stopped listener prints what its events socket still delivers; the real loss is counted by
  the test itself, independently of the listener's own accounting: every seq the flood published (the SEND
  replies' first_seq..last_seq, and the marker) that the listener never printed. It is neither zero nor
  everything, the listener's `gap` lines name exactly those seqs, and `dropped.slow_subscriber` in `chatctl
  status` equals it once the listener has exited (SIGTERM: its last PING, answered, comes after every report).
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
# The room keeps only its last event (broker --history, which the workers take): a listener fills a gap from history before it shows
# the event after it (docs/chatctl.md), and none of the flood can come back that way, so what the continued
# listener prints is exactly what its events socket read.
HISTORY = 1
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
    # What was published, from the broker's replies alone: the flood's seqs and the marker.
    published = set(range(4, marker + 1))
    check_eq(sorted(s for r in replies for s in range(r["first_seq"], r["last_seq"] + 1)) + [marker],
             sorted(published), "seqs the flood's SEND replies and the marker were given")
    # The listener was ready (subscribed) before the flood, so every one of them was due to it.
    rc = slow_p.term(10)
    check_eq(rc, 0, "exit code of the continued listener after SIGTERM\n" + slow_p.log_text()[-2000:])
    lines = json_lines(slow_p.log.name)
    printed = [l["seq"] for l in lines if l.get("type") == "event"]
    check(all(a < b for a, b in zip(printed, printed[1:])), "continued listener printed out of order")
    check_eq(set(printed) - set(range(1, marker + 1)), set(), "seqs printed that nobody published")
    lost = published - set(printed)  # what its events socket never delivered
    check(0 < len(lost) < N, "the stopped listener lost %d of %d (events-hwm not in effect?)" % (len(lost), N))
    print("stopped listener: %d of %d published events printed, %d never read from its events socket" % (
        len(printed), len(published), len(lost)), flush=True)

    # The listener's own account (its `gap` lines) names exactly the seqs it never printed.
    gaps = [l for l in lines if l.get("type") == "gap"]
    covered = []
    for g in gaps:
        check_eq(g["missed"], g["to"] - g["from"] + 1, "gap size %r" % g)
        covered += range(g["from"], g["to"] + 1)
    check_eq(len(covered), len(set(covered)), "seqs in more than one gap line")
    check_eq(sorted(set(covered) ^ lost)[:10], [], "seqs in a gap line but printed, or lost but in no gap line")
    check_eq(gaps[-1]["total"], len(lost), "the listener's running total")

    # The broker counted every lost event once: the listener's exit (its last PING answered, on the connection
    # that carried every report) is the sentinel after which no report can come.
    dropped = c.status_json()["dropped"]
    check_eq(dropped.get("slow_subscriber"), len(lost), "dropped.slow_subscriber in chatctl status")
    print("dropped.slow_subscriber = %d" % dropped["slow_subscriber"])


if __name__ == "__main__":
    run_checks([
        ("a stopped listener loses events, bounded, and the broker counts exactly what it lost", slow_subscriber),
    ], cluster_factory=lambda: Cluster(workers=1, log_level="info",
                                       broker_args=("--history", str(HISTORY), "--max-batch", str(BATCH),
                                                    "--liveness", "60",
                                                    "--events-hwm", str(EVENTS_HWM), *NO_RATE_LIMITS)))
