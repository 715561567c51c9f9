#!/usr/bin/env python3
"""Impersonation attempts against a broker with CURVE and nick-to-key binding on, counted: each must fail as
docs/protocol.md and docs/security.md say, and the test prints `N impersonation attempts, N refused`."""
import secrets

from chatbus_harness import EXIT_REFUSED, EXIT_UNREACHABLE, STATUS, T, Cluster, RawClient, check, check_eq, \
    encode, run_checks


def attempts(c):
    alice, bob = c.user("alice"), c.user("bob")
    alice.register("alice")
    bob.register("bob")
    alice.ok("join", "lobby")
    ta, tb = alice.token(), bob.token()
    results = []  # (attempt, refused as documented, detail)

    def attempt(name, refused, detail=""):
        results.append((name, bool(refused), detail))
        print("  %-52s %s %s" % (name, "refused" if refused else "NOT REFUSED", detail), flush=True)

    # Raw clients with bob's key: they are listed, so only the token and the binding stand in the way.
    as_bob = RawClient(c.client_ep, curve=c.raw_curve(c.client_keys["bob"]))
    try:
        rep = as_bob.request("SEND", nick="alice", token=secrets.token_hex(32), room="lobby", texts=["x"])
        attempt("wrong token", rep.get("status") == STATUS["bad_token"], "status %r" % rep.get("status"))
        rep = as_bob.request("SEND", nick="alice", token=tb, room="lobby", texts=["x"])
        attempt("token of another nick", rep.get("status") == STATUS["bad_token"], "status %r" % rep.get("status"))
        rep = as_bob.request("REGISTER", nick="ALICE")
        attempt("case variant of a taken nick", rep.get("status") == STATUS["nick_taken"],
                "status %r" % rep.get("status"))
        # The right token, from a connection with bob's key: alice is bound to alice's key.
        rep = as_bob.request("SEND", nick="alice", token=ta, room="lobby", texts=["x"])
        attempt("right token from another client key (raw)", rep.get("status") == STATUS["wrong_key"],
                "status %r" % rep.get("status"))
    finally:
        as_bob.close()

    # The same through chatctl: bob's key with a token file holding alice's real token.
    bob.forge_token_file("alice", ta, like=bob.token_file("bob"))
    r = bob.run("--as", "alice", "send", "--room", "lobby", "forged", as_nick=False, timeout=3)
    attempt("right token from another client key (chatctl)",
            r.rc == EXIT_REFUSED and r.lines and r.json.get("status") == "wrong_key", "exit %s" % r.rc)

    # Reused routing id: alice's listener socket has id "victim"; a second socket claims the same id.
    victim = RawClient(c.client_ep, curve=c.raw_curve(c.client_keys["alice"]), routing_id=b"victim")
    thief = RawClient(c.client_ep, curve=c.raw_curve(c.client_keys["bob"]), routing_id=b"victim")
    try:
        check_eq(victim.request("LISTEN", nick="alice", token=ta).get("status"), 0, "alice's LISTEN")
        got = None
        try:
            got = thief.request("PING", timeout=2.0)
        except TimeoutError:
            pass
        thief.send_raw(encode(T["UNLISTEN"], {"nick": "alice"}))
        still = victim.request("PING").get("listening")
        attempt("reused ZeroMQ routing id", got is None and still is True,
                "thief reply %r, victim still listening %r" % (got, still))
    finally:
        victim.close()
        thief.close()

    before = c.raw_status()["dropped"].get("refused.unknown_key", 0)
    mallory = c.user("mallory")
    mallory.curve = (c.keygen("mallory"), c.broker_keys.pub_file)
    r = mallory.run("register", "mallory", as_nick=False, timeout=1)
    attempt("unknown CURVE key", r.rc == EXIT_UNREACHABLE and r.elapsed < 5, "exit %s in %.1f s" % (r.rc, r.elapsed))

    # alice's own key and token, but the public key of another "broker" (a man in the middle).
    real = alice.curve
    alice.curve = (c.client_keys["alice"], c.keygen("fake-broker").pub_file)
    r = alice.run("send", "--room", "lobby", "from eve", timeout=1)
    alice.curve = real
    attempt("wrong broker key", r.rc == EXIT_UNREACHABLE and r.elapsed < 5, "exit %s in %.1f s" % (r.rc, r.elapsed))

    c.start_worker("intruder", keys=c.keygen("intruder"))
    st, _ = c.wait_status(lambda s: s["dropped"].get("refused.unknown_key", 0) >= before + 2, timeout=15,
                          what="mallory and the intruder worker refused")
    ids = [w["id"] for w in st["workers"]]
    attempt("worker with an unlisted key", "intruder" not in ids and c.worker("intruder").alive(),
            "live workers %r" % ids)

    # Nothing above took effect.
    h = alice.ok("history", "lobby")
    texts = [l.get("text") for l in h.lines if l.get("kind") == "message"]
    check_eq(texts, [], "messages in lobby after the attempts")

    # The binding is on disk (--state-dir): after a broker restart alice's token from bob's key still fails.
    c.restart_broker()
    as_bob = RawClient(c.client_ep, curve=c.raw_curve(c.client_keys["bob"]))
    try:
        rep = as_bob.request("SEND", nick="alice", token=ta, room="lobby", texts=["x"], timeout=10)
        attempt("right token from another client key, after a restart", rep.get("status") == STATUS["wrong_key"],
                "status %r" % rep.get("status"))
    finally:
        as_bob.close()

    n, ok = len(results), sum(1 for r in results if r[1])
    print("%d impersonation attempts, %d refused" % (n, ok), flush=True)
    check_eq(ok, n, "refused attempts")
    check(n >= 8, "only %d attempts" % n)


if __name__ == "__main__":
    run_checks([("every impersonation attempt is refused as documented", attempts)],
               cluster_factory=lambda: Cluster(workers=1, curve=True, bind_nicks=True, clients=("alice", "bob")))
