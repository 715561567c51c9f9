#!/usr/bin/env python3
"""Direct messages between registered nicks: delivery to a running listener, unknown recipients, unregister."""
import os

from chatbus_harness import EXIT_NOT_FOUND, check, check_eq, run_checks


def dm_to_running_listener(c):
    alice, bob = c.user("alice"), c.user("bob")
    r = alice.register("Alice")
    bob.register("bob")
    tf = alice.token_file()
    check(os.path.exists(tf), "no token file at %s" % tf)
    check_eq(os.stat(tf).st_mode & 0o777, 0o600, "token file mode")
    check(len(alice.token()) == 64, "saved token is not 64 characters: %r" % alice.token())

    lb = bob.listen()
    ready = lb.ready()
    check_eq(ready.get("nick"), "bob", "ready line nick")
    check_eq(ready.get("rooms"), [], "ready line rooms")

    text = "hello bob \u00e9\u20ac\U0001F600 with spaces"
    r = alice.ok("send", "--to", "bob", text)
    check_eq(r.json.get("to"), "bob", "send --to reply 'to'")
    check_eq(r.json.get("delivered"), True, "delivered to an attached listener")
    dm = lb.wait_for(lambda l: l.get("type") == "dm", what="dm line")
    check_eq(dm.get("from"), "Alice", "dm from (as registered)")
    check_eq(dm.get("to"), "bob", "dm to")
    check_eq(dm.get("text"), text, "dm text")
    check_eq(dm.get("id"), r.json.get("id"), "dm id equals the id in the sender's reply")
    check(isinstance(dm.get("ts"), int) and dm["ts"] > 1_600_000_000_000, "dm ts is not epoch ms: %r" % dm.get("ts"))

    # Several words are joined into one text; the recipient nick is case-insensitive.
    r2 = alice.ok("send", "--to", "BOB", "second", "message")
    dm2 = lb.wait_for(lambda l: l.get("type") == "dm", what="second dm line")
    check_eq(dm2.get("text"), "second message", "multi-word dm text")
    check_eq(dm2.get("id"), r.json["id"] + 1, "dm ids increase by one")
    check_eq(r2.json.get("delivered"), True, "second dm delivered")


def dm_to_unknown_nick(c):
    alice = c.user("alice")
    alice.register("alice")
    r = alice.fails("send", "--to", "nobody", "hi", status="unknown_nick", rc=EXIT_NOT_FOUND)
    check(r.json.get("error"), "error message is empty: %r" % r.json)


def unregister_then_dm(c):
    alice, bob = c.user("alice"), c.user("bob")
    alice.register("alice")
    bob.register("bob")
    bob.ok("join", "lobby")
    old_token = bob.token()
    bob.ok("unregister")
    check(not os.path.exists(bob.token_file()), "token file still there after unregister: %s" % bob.token_file())
    alice.fails("send", "--to", "bob", "are you there?", status="unknown_nick", rc=EXIT_NOT_FOUND)

    # The unregistered nick's own commands fail: through chatctl (no saved token any more) ...
    r = bob.run("join", "lobby")
    check(r.rc != 0, "join by an unregistered nick succeeded\n" + r.describe())
    r = bob.run("send", "--room", "lobby", "ghost")
    check(r.rc != 0, "send by an unregistered nick succeeded\n" + r.describe())
    # ... and on the wire with the old token.
    raw = c.raw()
    for name, extra in (("JOIN", {"room": "lobby"}), ("SEND", {"room": "lobby", "texts": ["x"]}),
                        ("LISTEN", {}), ("UNREGISTER", {}), ("DM", {"to": "alice", "text": "x"})):
        rep = raw.request(name, nick="bob", token=old_token, **extra)
        check_eq(rep.get("status"), 8, "%s by an unregistered nick: status (8 = not_registered)" % name)
    # Unregistering left the room (and published a leave).
    r = alice.run("who", "lobby")
    check(r.rc == 3 or (r.rc == 0 and "bob" not in r.json.get("members", [])),
          "bob is still a member of lobby after unregister\n" + r.describe())
    # The nick can be registered again by someone else.
    carol = c.user("carol")
    carol.register("bob")


if __name__ == "__main__":
    run_checks([
        ("register a nick; a DM reaches a running listener as a dm line", dm_to_running_listener),
        ("a DM to an unknown nick fails with unknown_nick, exit 3", dm_to_unknown_nick),
        ("after unregister a DM to the nick is unknown_nick and its own commands fail", unregister_then_dm),
    ])
