#!/usr/bin/env python3
"""A wrong, another nick's, or missing token cannot act as a nick (bad_token); an unknown acting nick is
not_registered. Checked on the wire with the raw client, and through chatctl with a forged token file."""
import secrets

from chatbus_harness import EXIT_REFUSED, STATUS, check, check_eq, run_checks

BAD = STATUS["bad_token"]


def history_texts(user, room):
    r = user.ok("history", room)
    return [(l.get("nick"), l.get("kind"), l.get("text")) for l in r.lines if l.get("type") == "event"]


def wire(c):
    alice, bob = c.user("alice"), c.user("bob")
    alice.register("alice")
    bob.register("bob")
    alice.ok("join", "lobby")
    bob.ok("join", "lobby")
    ta, tb = alice.token(), bob.token()
    check(ta != tb and len(ta) == 64 and len(tb) == 64, "tokens: %r %r" % (ta, tb))
    raw = c.raw()

    forged = {
        "a wrong token": {"token": secrets.token_hex(32)},
        "another nick's token": {"token": tb},
        "no token field": {},
        "an empty token": {"token": ""},
        "the token in upper case": {"token": ta.upper()},
        "the token with a character changed": {"token": ("0" if ta[0] != "0" else "1") + ta[1:]},
    }
    for how, tok in forged.items():
        for name, extra in (("SEND", {"room": "lobby", "texts": ["forged by " + how]}),
                            ("DM", {"to": "bob", "text": "forged dm"}),
                            ("LEAVE", {"room": "lobby"}),
                            ("JOIN", {"room": "elsewhere"}),
                            ("LISTEN", {}),
                            ("UNREGISTER", {})):
            rep = raw.request(name, nick="alice", **extra, **tok)
            check_eq(rep.get("status"), BAD, "%s as alice with %s: status (9 = bad_token)" % (name, how))
            check(rep.get("error"), "%s with %s: empty error message" % (name, how))

    # The real token still works: nothing above took effect.
    rep = raw.request("SEND", nick="alice", token=ta, room="lobby", texts=["real"])
    check_eq(rep.get("status"), 0, "SEND with the right token")
    msgs = [t for t in history_texts(bob, "lobby") if t[1] == "message"]
    check_eq(msgs, [("alice", "message", "real")], "messages in lobby")
    who = bob.ok("who", "lobby").json.get("members")
    check_eq(sorted(who), ["alice", "bob"], "members of lobby (no forged leave)")
    check_eq(c.status().json.get("nicks"), 2, "registered nicks (no forged unregister)")
    check_eq(c.status().json.get("inboxed"), 0, "inboxed DMs (no forged DM)")

    # Acting as a nick nobody registered.
    rep = raw.request("SEND", nick="ghost", token=ta, room="lobby", texts=["x"])
    check_eq(rep.get("status"), STATUS["not_registered"], "SEND as an unregistered nick")
    rep = raw.request("SEND", room="lobby", texts=["x"])
    check(rep.get("status") in (STATUS["not_registered"], BAD, STATUS["invalid_nick"]),
          "SEND without nick or token: status %r" % rep.get("status"))


def copied_token_file(c):
    alice, bob, mallory = c.user("alice"), c.user("bob"), c.user("mallory")
    alice.register("alice")
    bob.register("bob")
    alice.ok("join", "lobby")
    # Bob's token under alice's name, in the layout chatctl writes.
    path = mallory.forge_token_file("alice", bob.token(), like=bob.token_file())
    mallory.fails("send", "--room", "lobby", "as alice", as_nick=False, status="bad_token", rc=EXIT_REFUSED)
    mallory.fails("leave", "lobby", as_nick=False, status="bad_token", rc=EXIT_REFUSED)
    mallory.fails("send", "--to", "bob", "hi", as_nick=False, status="bad_token", rc=EXIT_REFUSED)
    mallory.fails("unregister", as_nick=False, status="bad_token", rc=EXIT_REFUSED)

    # Bob's file copied byte for byte under alice's name: whatever chatctl does, nothing happens as alice.
    with open(bob.token_file()) as src, open(path, "w") as dst:
        dst.write(src.read())
    r = mallory.run("--as", "alice", "send", "--room", "lobby", "copied", as_nick=False)
    msgs = [t for t in history_texts(alice, "lobby") if t[1] == "message"]
    check(("alice", "message", "copied") not in msgs, "a copied token file posted as alice\n" + r.describe())
    check_eq(sorted(alice.ok("who", "lobby").json.get("members")), ["alice"], "members of lobby")
    alice.ok("send", "--room", "lobby", "still mine")


if __name__ == "__main__":
    run_checks([
        ("wrong / other / missing tokens are bad_token on the wire, and change nothing", wire),
        ("a forged or copied token file does not let chatctl act as another nick", copied_token_file),
    ])
