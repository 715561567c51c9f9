#!/usr/bin/env python3
"""Impersonation attempts against a broker with CURVE and nick-to-key binding on, counted: each must fail as
docs/protocol.md and docs/security.md say, where they say (an unknown key at the broker's ZAP handler, which
counts exactly those handshakes, for that key; a client given an impostor's endpoint before it sends anything),
and the test prints `N impersonation attempts, N refused` for the full list of attempts."""
import secrets

from chatbus_harness import EXIT_REFUSED, EXIT_UNREACHABLE, STATUS, T, Cluster, RawClient, bind_any_port, \
    check, check_eq, encode, run_checks

import zmq  # after the harness, which re-runs the test under the Python that has pyzmq
from zmq.utils.monitor import recv_monitor_message

ATTEMPTS = [
    "wrong token", "token of another nick", "case variant of a taken nick",
    "right token from another client key (raw)", "right token from another client key (chatctl)",
    "reused ZeroMQ routing id", "unknown CURVE key (chatctl)", "unknown CURVE key (raw: ZAP answers 400)",
    "wrong broker key (real broker)", "impostor broker (client has the real broker key)",
    "worker with an unlisted key", "right token from another client key, after a restart",
]


HANDSHAKE_END = (zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_HANDSHAKE_FAILED_AUTH |
                 zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL)


def one_handshake(keys, server_public, endpoint, timeout=5.0):
    """One CURVE handshake of a DEALER (it does not reconnect) with `keys`: (monitor event, value) of its end,
    or None if it did not end within `timeout`."""
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RECONNECT_IVL, -1)
    keys.apply(sock, server_public)
    mon = sock.get_monitor_socket(HANDSHAKE_END)
    try:
        sock.connect(endpoint)
        if not mon.poll(int(timeout * 1000)):
            return None
        ev = recv_monitor_message(mon)
        return ev["event"], ev["value"]
    finally:
        sock.disable_monitor()
        mon.close(0)
        sock.close(0)


def refused_unknown_key(c):
    return c.raw_status()["dropped"].get("refused.unknown_key", 0)


class Impostor:
    """A plain ROUTER with a CURVE key of its own on a port the test owns, in a context with no ZAP handler
    (so it would take any client key): a man in the middle that a client might be pointed at."""

    def __init__(self, keys):
        self.keys = keys
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.curve_server = True
        self.sock.curve_secretkey = keys.secret.encode()
        self.sock.curve_publickey = keys.public.encode()
        self.mon = self.sock.get_monitor_socket(HANDSHAKE_END)
        self.endpoint = bind_any_port(self.sock)

    def received(self):
        """Every message that reached it so far (a client that got through would have sent its request)."""
        out = []
        while self.sock.poll(0):
            out.append(self.sock.recv_multipart())
        return out

    def next_handshake(self, timeout=5.0):
        """The next handshake outcome on its side (a monitor event), or None."""
        if not self.mon.poll(int(timeout * 1000)):
            return None
        return recv_monitor_message(self.mon)["event"]

    def close(self):
        self.sock.disable_monitor()
        self.mon.close(0)
        self.sock.close(0)
        self.ctx.term()


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

    # An unknown client key is refused by the ZAP handler: once per handshake, each counted, each for that key.
    # chatctl does not try again after the refusal, and has exited; the raw DEALER never reconnects.
    before = refused_unknown_key(c)
    mallory_keys = c.keygen("mallory")
    mallory = c.user("mallory")
    mallory.curve = (mallory_keys, c.broker_keys.pub_file)
    r = mallory.run("register", "mallory", as_nick=False, timeout=1)
    attempt("unknown CURVE key (chatctl)", r.rc == EXIT_UNREACHABLE and r.elapsed < 5,
            "exit %s in %.1f s" % (r.rc, r.elapsed))
    ev = one_handshake(mallory_keys, c.broker_keys.public, c.client_ep)
    attempt("unknown CURVE key (raw: ZAP answers 400)", ev == (zmq.EVENT_HANDSHAKE_FAILED_AUTH, 400),
            "handshake event %s, ZAP status %s" % ((int(ev[0]), int(ev[1])) if ev else (None, None)))

    # alice's own key and token, but the public key of another "broker": the real broker cannot read her
    # HELLO, so the handshake fails before ZAP is asked (the refusal count stays).
    real = alice.curve
    alice.curve = (c.client_keys["alice"], c.keygen("fake-broker").pub_file)
    r = alice.run("send", "--room", "lobby", "from eve", timeout=1)
    alice.curve = real
    attempt("wrong broker key (real broker)", r.rc == EXIT_UNREACHABLE and r.elapsed < 5,
            "exit %s in %.1f s" % (r.rc, r.elapsed))
    after = refused_unknown_key(c)
    check_eq(after - before, 2, "dropped.refused.unknown_key growth for mallory's 2 handshakes")
    lines = [l for l in c.broker.log_text().splitlines() if "refused" in l and mallory_keys.public in l]
    check_eq(len(lines), 2, "broker log lines refusing mallory's key")

    # A man in the middle: alice, who has the real broker's key, is given an impostor's endpoint. The
    # impostor takes any client key, and does get a client that has its key (so it would see alice's request
    # if her handshake got through); hers fails, after which nothing can arrive on that connection.
    imp = Impostor(c.keygen("impostor"))
    endpoint = c.client_ep
    try:
        c.client_ep = imp.endpoint
        alice.curve = (c.client_keys["alice"], imp.keys.pub_file)
        alice.run("send", "--room", "lobby", "to the impostor", timeout=1)
        check_eq(imp.next_handshake(), zmq.EVENT_HANDSHAKE_SUCCEEDED, "impostor: a client with its key")
        check(imp.received(), "the impostor received nothing from a client that has its key")
        alice.curve = real
        r = alice.run("send", "--room", "lobby", "from alice", timeout=1)
        ev = imp.next_handshake()
        got = imp.received()
        attempt("impostor broker (client has the real broker key)",
                r.rc == EXIT_UNREACHABLE and ev is not None and ev != zmq.EVENT_HANDSHAKE_SUCCEEDED and not got,
                "exit %s, impostor handshake event %s, received %r" % (r.rc, ev and int(ev), got[:1]))
    finally:
        c.client_ep = endpoint
        alice.curve = real
        imp.close()

    # A worker with an unlisted key retries for as long as it runs: its refusals are counted, and its key named.
    intruder = c.keygen("intruder")
    c.start_worker("intruder", keys=intruder)
    st, _ = c.wait_status(lambda s: s["dropped"].get("refused.unknown_key", 0) > after, timeout=15,
                          what="the intruder worker refused")
    ids = [w["id"] for w in st["workers"]]
    named = any("refused" in l and intruder.public in l for l in c.broker.log_text().splitlines())
    attempt("worker with an unlisted key", "intruder" not in ids and c.worker("intruder").alive() and named,
            "live workers %r, refusal of its key logged %r" % (ids, named))

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
    check_eq([r[0] for r in results], ATTEMPTS, "attempts made")
    check_eq([r[0] for r in results if not r[1]], [], "attempts not refused as documented")


if __name__ == "__main__":
    run_checks([("every impersonation attempt is refused as documented", attempts)],
               cluster_factory=lambda: Cluster(workers=1, curve=True, bind_nicks=True, clients=("alice", "bob")))
