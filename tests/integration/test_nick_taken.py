#!/usr/bin/env python3
"""Nicks are unique case-insensitively: Alice blocks alice and ALICE (nick_taken, exit 4); bad nicks are
invalid_nick."""
from chatbus_harness import EXIT_REFUSED, STATUS, check, check_eq, run_checks


def taken(c):
    a, b = c.user("a"), c.user("b")
    a.register("Alice")
    for variant in ("Alice", "alice", "ALICE", "aLiCe"):
        r = b.fails("register", variant, as_nick=False, status="nick_taken", rc=EXIT_REFUSED)
        check(r.json.get("error"), "nick_taken without an error message: %r" % r.json)
    # The first registration is intact, with its own spelling.
    r = c.raw().request("REGISTER", nick="alice")
    check_eq(r.get("status"), STATUS["nick_taken"], "raw REGISTER alice status")
    r = a.ok("send", "--to", "ALICE", "note to self")
    check_eq(r.json.get("to"), "Alice", "DM to a case variant reaches the registered spelling")
    b.register("alice2")


def invalid(c):
    u = c.user("u")
    for bad in ("1abc", "_abc", "a b", "a.b", "x" * 33, "caf\u00e9"):
        u.fails("register", bad, as_nick=False, status="invalid_nick", rc=EXIT_REFUSED)
    # A nick starting with '-' needs '--' to reach chatctl as an argument.
    u.fails("register", "--", "-abc", as_nick=False, status="invalid_nick", rc=EXIT_REFUSED)
    raw = c.raw()
    for bad in ("", "a" * 33, "a\u0000b"):
        r = raw.request("REGISTER", nick=bad)
        check_eq(r.get("status"), STATUS["invalid_nick"], "raw REGISTER %r" % bad)
    r = raw.request("REGISTER")  # no nick field: judged as the empty nick
    check_eq(r.get("status"), STATUS["invalid_nick"], "raw REGISTER without nick")
    u.register("x" * 32)


if __name__ == "__main__":
    run_checks([
        ("a nick is taken, also by case variants: nick_taken, exit 4", taken),
        ("nicks breaking the rules: invalid_nick, exit 4", invalid),
    ])
