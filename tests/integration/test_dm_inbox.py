#!/usr/bin/env python3
"""DMs sent while the recipient has no listener are kept (delivered=false) and handed to its next listener,
queued ones first and in order, then new ones; acknowledged ones leave the inbox."""
import time

from chatbus_harness import check, check_eq, run_checks


def inboxed(c):
    r = c.status()
    check(r.rc == 0, "status failed\n" + r.describe())
    return r.json.get("inboxed")


def queued_then_live(c):
    alice, bob = c.user("alice"), c.user("bob")
    alice.register("alice")
    bob.register("Bob")
    ids = []
    for i in range(3):
        r = alice.ok("send", "--to", "bob", "queued %d" % i)
        check_eq(r.json.get("delivered"), False, "DM %d to a nick without listener: delivered" % i)
        check_eq(r.json.get("to"), "Bob", "DM reply 'to' (as registered)")
        ids.append(r.json.get("id"))
    check_eq(ids, [ids[0], ids[0] + 1, ids[0] + 2], "inbox ids increase by one")
    check_eq(inboxed(c), 3, "status inboxed before listening")

    lb = bob.listen()
    lb.ready()
    queued = lb.collect(3, lambda l: l.get("type") == "dm", what="queued dm lines")
    check_eq([d["text"] for d in queued], ["queued 0", "queued 1", "queued 2"], "queued DMs in order")
    check_eq([d["id"] for d in queued], ids, "queued DM ids")
    check(all(d["from"] == "alice" for d in queued), "from of queued DMs: %r" % queued)

    r = alice.ok("send", "--to", "bob", "live one")
    check_eq(r.json.get("delivered"), True, "DM to an attached listener: delivered")
    live = lb.wait_for(lambda l: l.get("type") == "dm", what="live dm line")
    check_eq(live.get("text"), "live one", "live DM after the queued ones")
    check_eq(live.get("id"), ids[-1] + 1, "live DM id")

    # The listener acknowledges what it printed: the inbox empties (bounded poll).
    deadline = time.monotonic() + 5
    while inboxed(c) != 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    check_eq(inboxed(c), 0, "status inboxed after the listener handled every DM")

    # A new listener gets nothing old again.
    lb.stop()
    lb2 = bob.listen()
    lb2.ready()
    alice.ok("send", "--to", "bob", "for the second listener")
    d = lb2.wait_for(lambda l: l.get("type") == "dm", what="dm in the second listener")
    check_eq(d.get("text"), "for the second listener", "second listener's first DM (acknowledged ones not repeated)")


if __name__ == "__main__":
    run_checks([("DMs queued while not listening arrive first and in order", queued_then_live)])
