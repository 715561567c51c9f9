#!/usr/bin/env python3
"""CURVE on (docs/protocol.md "CURVE"): listed clients and workers work end to end, room events arrive over the
encrypted events socket, and everyone else (unknown client key, wrong broker key, no CURVE at all, a worker
with an unlisted key or a client key) gets nowhere in bounded time while the broker counts the refusals.
Gateway keys (--gateway-keys): their connections may claim the gateway role and are then not throttled as one
client while each nick still is, a client key's claim is refused with not_authorized, bound nicks accept every
gateway key, and a gateway key is refused on the worker port."""
import time
import uuid

from chatbus_harness import EXIT_UNREACHABLE, STATUS, T, Cluster, RawClient, check, check_eq, decode, \
    decode_topic_frame, encode, room_topic, run_checks

import zmq  # after the harness, which re-runs the test under the Python that has pyzmq

CLIENTS = ("alice", "bob")


def refused(c):
    return c.raw_status().get("dropped", {}).get("refused.unknown_key", 0)


def end_to_end(c):
    alice, bob, lb = c.alice_and_listening_bob()
    # A SUB without CURVE on the same events endpoint: it must see nothing of what follows.
    plain = zmq.Context.instance().socket(zmq.SUB)
    plain.setsockopt(zmq.LINGER, 0)
    plain.setsockopt(zmq.SUBSCRIBE, b"")
    plain.connect(c.events_ep)
    # And one with CURVE and the admin key (a listed client): it sees the events.
    listed = zmq.Context.instance().socket(zmq.SUB)
    listed.setsockopt(zmq.LINGER, 0)
    c.raw_curve()[0].apply(listed, c.broker_keys.public)
    listed.setsockopt(zmq.SUBSCRIBE, room_topic("lobby"))
    listed.connect(c.events_ep)
    try:
        texts = []
        got = None
        deadline = time.monotonic() + 10
        # A SUB's subscription takes a moment to reach the XPUB: send until the listed SUB sees one.
        while got is None and time.monotonic() < deadline:
            t = "secret %d" % len(texts)
            texts.append(t)
            alice.ok("send", "--room", "lobby", t)
            if listed.poll(300):
                got = decode_topic_frame(listed.recv())
        check(got is not None, "a listed CURVE subscriber got no event within 10 s")
        check_eq(got[0], room_topic("lobby"), "topic of the event the CURVE subscriber got")
        for t in texts:
            lb.wait_for(lambda l, t=t: l.get("type") == "event" and l.get("text") == t,
                        what="bob's listener line for %r" % t)
        check(not plain.poll(500), "a SUB without CURVE received something from the events socket")
    finally:
        plain.close(0)
        listed.close(0)
    h = bob.ok("history", "lobby")
    msgs = [l.get("text") for l in h.lines if l.get("kind") == "message"]
    check_eq(msgs, texts, "history of lobby")
    alice.ok("send", "--to", "bob", "direct")
    lb.wait_for(lambda l: l.get("type") == "dm" and l.get("text") == "direct", what="bob's DM line")
    st = c.status_json()
    check_eq(st["dropped"].get("refused.unknown_key"), 0, "refusals after only listed peers")


def outsiders_fail(c):
    before = refused(c)
    mallory = c.user("mallory")
    mallory.curve = (c.keygen("mallory"), c.broker_keys.pub_file)  # a key the broker does not list
    r = mallory.fails("register", "mallory", rc=EXIT_UNREACHABLE, timeout=1, as_nick=False)
    check(r.elapsed < 5, "unknown key: exit 5 took %.1f s" % r.elapsed)
    check_eq(r.json.get("status"), "unreachable", "unknown key: status")

    fake = c.keygen("fake-broker")
    eve = c.user("alice")  # alice's own listed key, but the broker key of someone else
    eve.curve = (c.client_keys["alice"], fake.pub_file)
    r = eve.fails("status", rc=EXIT_UNREACHABLE, timeout=1)
    check(r.elapsed < 5, "wrong broker key: exit 5 took %.1f s" % r.elapsed)

    plain = c.user("plain")
    plain.curve = None
    r = plain.fails("status", rc=EXIT_UNREACHABLE, timeout=1)
    check(r.elapsed < 5, "no CURVE: exit 5 took %.1f s" % r.elapsed)

    # Only mallory's key reached ZAP: a wrong broker key fails before it, a plain client is not CURVE at all.
    c.wait_status(lambda s: s["dropped"].get("refused.unknown_key", 0) >= before + 1, what="mallory refused")

    # Workers: an unlisted key and a client's key (other ZAP domain) never join; a listed one does.
    before = refused(c)
    c.start_worker("intruder", keys=c.keygen("intruder"))
    c.start_worker("clientkey", keys=c.client_keys["bob"])
    c.wait_status(lambda s: s["dropped"].get("refused.unknown_key", 0) >= before + 2, timeout=15,
                  what="both bad workers refused")
    c.start_worker("w2")
    st = c.wait_workers(2)
    check_eq(sorted(w["id"] for w in st["workers"]), ["w1", "w2"], "live workers")
    # A client key does not get in as a worker, and the broker key from elsewhere does not either.
    c.start_worker("wrongbroker", broker_pub=c.keygen("other-broker").pub_file)
    bob = c.user("bob")
    bob.register("bob")
    for i in range(6):
        bob.ok("join", "room%d" % i)
    st = c.status_json()
    check_eq(sorted(w["id"] for w in st["workers"]), ["w1", "w2"], "workers after the joins")
    check_eq(sum(w["rooms"] for w in st["workers"]), 6, "rooms held by listed workers")
    for w in ("intruder", "clientkey", "wrongbroker"):
        check(c.worker(w).alive(), "worker %s exited instead of retrying" % w)


def bad_config_refused(c):
    """A broker given CURVE with a missing or malformed key file does not start; the error names the file."""
    import subprocess
    for extra, needle in ((["--curve-key", "/nonexistent.key", "--client-keys", c.client_keys_dir,
                            "--worker-keys", c.worker_keys_dir], "/nonexistent.key"),
                          (["--curve-key", c.broker_keys.pub_file, "--client-keys", c.client_keys_dir,
                            "--worker-keys", c.worker_keys_dir], "secret-key"),
                          (["--curve-key", c.broker_keys.key_file], "client-keys")):
        p = subprocess.run([c.broker_bin, "--client", "tcp://127.0.0.1:*", "--worker", "tcp://127.0.0.1:*",
                            "--events", "tcp://127.0.0.1:*"] + extra, capture_output=True, timeout=15)
        out = (p.stdout + p.stderr).decode(errors="replace")
        check(p.returncode != 0, "broker started with %r" % extra)
        check(needle in out, "error for %r does not mention %r: %s" % (extra, needle, out))


GATEWAY_LIMITS = ("--client-rate", "0.001", "--client-burst", "20", "--nick-rate", "0.001", "--nick-burst", "5")


def status_name(rep):
    return [k for k, v in STATUS.items() if v == rep.get("status")][0]


def ok(rep, what):
    check(rep.get("status") == 0, "%s: %r" % (what, rep))
    return rep


def gateway_keys(c):
    raw = lambda keys: RawClient(c.client_ep, curve=c.raw_curve(keys))  # noqa: E731
    gw, gw2 = raw(c.gateway_keys["gw"]), raw(c.gateway_keys["gw2"])
    alice, bob = raw(c.client_keys["alice"]), raw(c.client_keys["bob"])
    try:
        # The claim: accepted from a gateway key, not_authorized from a client key, which stays limited.
        check_eq(ok(gw.request("HELLO", gateway=True), "gateway HELLO").get("gateway"), True, "gateway claim")
        r = alice.request("HELLO", gateway=True)
        check_eq(status_name(r), "not_authorized", "a client key's gateway claim")
        check(not r.get("gateway"), "a refused claim says gateway: %r" % r)
        check_eq(ok(alice.request("STATUS"), "STATUS").get("gateways"), 1, "STATUS gateways")

        # Bound nicks (bind-nicks-to-keys): alice's nick works through any gateway key, not from bob's key; a
        # nick registered through a gateway works through every gateway but from no client key.
        tok_alice = ok(alice.request("REGISTER", nick="alice"), "REGISTER alice")["token"]
        tok_carol = ok(gw.request("REGISTER", nick="carol"), "REGISTER carol through gw")["token"]
        ok(gw.request("LISTEN", nick="alice", token=tok_alice), "LISTEN alice through gw")
        ok(gw.request("JOIN", nick="alice", token=tok_alice, room="lobby"), "JOIN alice through gw")
        check_eq(status_name(bob.request("JOIN", nick="alice", token=tok_alice, room="lobby")), "wrong_key",
                 "alice's token from bob's key")
        ok(gw2.request("JOIN", nick="carol", token=tok_carol, room="lobby"), "JOIN carol through gw2")
        check_eq(status_name(alice.request("SEND", nick="carol", token=tok_carol, room="lobby", texts=["x"])),
                 "wrong_key", "carol's token from alice's client key")

        # alice's listener is the gateway's socket: her join came back to it.
        t, body = gw.notifications.pop(0) if gw.notifications else gw.recv(5)
        check_eq((t, body.get("nick"), body.get("room")), (T["MEMBERSHIP"], "alice", "lobby"),
                 "MEMBERSHIP on the gateway's socket")

        # The events socket lets gateway keys in too.
        sub = c_sub(c, c.gateway_keys["gw"], "lobby")
        try:
            # Well beyond the identity's burst of 20, as fast as the broker answers: none refused.
            n, t0 = 200, time.monotonic()
            for i in range(n):
                gw.send_raw(encode(T["WHO"], {"rid": 5000 + i, "room": "lobby"}))
            answers = [decode(gw.recv_raw(5)) for _ in range(n)]
            rate = n / (time.monotonic() - t0)
            check_eq(sorted({(t, b.get("status")) for t, b in answers}), [(T["WHO_REPLY"], 0)],
                     "%d pipelined WHOs through the gateway key (types, statuses)" % n)
            print("gateway key: %d requests at %.0f/s, client burst 20, none refused" % (n, rate), flush=True)
            # Each nick's own bucket of 5 still bites: alice's JOIN took one, so 4 SENDs pass and the 5th fails.
            for i in range(4):
                ok(gw.request("SEND", nick="alice", token=tok_alice, room="lobby", texts=["m%d" % i]), "SEND %d" % i)
            r = gw.request("SEND", nick="alice", token=tok_alice, room="lobby", texts=["one too many"])
            check_eq(status_name(r), "rate_limited", "alice's SEND past her nick burst, through the gateway")
            texts = []
            while len(texts) < 4:
                check(sub.poll(5000), "the gateway key's SUB got %d of 4 events" % len(texts))
                topic, t, body = decode_topic_frame(sub.recv())
                if body.get("kind") == "message":
                    texts.append(body["text"])
            check_eq(texts, ["m0", "m1", "m2", "m3"], "messages on the gateway key's SUB")
        finally:
            sub.close(0)
        # alice's own connection is one client: its burst of 20 went to the refused claim, STATUS, REGISTER and
        # SEND, and 16 PINGs.
        served = 0
        while served < 40 and alice.request("PING").get("status") == 0:
            served += 1
        check_eq(served, 20 - 4, "PINGs of the client key's connection before rate_limited")

        # A gateway key is a client key for the worker port: refused there.
        before = refused(c)
        c.start_worker("gatewaykey", keys=c.gateway_keys["gw"])
        c.wait_status(lambda s: s["dropped"].get("refused.unknown_key", 0) >= before + 1, timeout=15,
                      what="the worker with a gateway key refused")
        st = c.wait_workers(1)
        check_eq([w["id"] for w in st["workers"]], ["w1"], "live workers")
    finally:
        for r in (gw, gw2, alice, bob):
            r.close()


def c_sub(c, keys, room):
    """A CURVE SUB with `keys` on `room`, returned once a sync mark proves the subscription is active."""
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    keys.apply(sub, c.broker_keys.public)
    sub.setsockopt(zmq.SUBSCRIBE, room_topic(room))
    nonce = uuid.uuid4().hex
    sub.setsockopt(zmq.SUBSCRIBE, b"sync/" + nonce.encode() + b"\0")
    sub.connect(c.events_ep)
    check(sub.poll(10000), "no sync mark on the gateway key's SUB within 10 s")
    topic, t, body = decode_topic_frame(sub.recv())
    check_eq((t, body.get("nonce")), (T["SYNC"], nonce), "sync mark")
    return sub


if __name__ == "__main__":
    run_checks([
        ("listed client registers, joins, sends, listens; events come over the CURVE events socket", end_to_end),
        ("unknown key, wrong broker key, no CURVE, unlisted worker keys: all refused in bounded time",
         outsiders_fail),
        ("bad CURVE configuration stops the broker with an error naming the file", bad_config_refused),
        ("gateway keys: the claim, not throttled as one client while each nick is, bound nicks, events, not a worker",
         gateway_keys, lambda: Cluster(workers=1, curve=True, bind_nicks=True, clients=CLIENTS,
                                       gateways=("gw", "gw2"), broker_args=GATEWAY_LIMITS)),
    ], cluster_factory=lambda: Cluster(workers=1, curve=True, clients=CLIENTS))
