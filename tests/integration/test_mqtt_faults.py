#!/usr/bin/env python3
"""Faults around chatbus-gateway (docs/mqtt.md, "Errors"): the broker down at CONNECT, a broker restart under
live sessions, a gateway killed under a persistent session, a client that does not read."""
import socket
import time

from chatbus_harness import check, check_eq, run_checks
from mqtt_harness import Gateway, PahoClient


def connack_until(gw, nick, token, want, timeout=15.0):
    """Connects repeatedly (bounded) until CONNACK is `want`; returns the connected client for 0."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        c = PahoClient(gw, nick, token)
        rc, _ = c.connect()
        if rc == want:
            if rc != 0:
                c.close()
            return c
        seen.append(rc)
        c.close()
        time.sleep(0.2)  # the gateway notices the broker's state by heartbeat; poll interval of a bounded wait
    raise AssertionError("CONNACK %d never came in %.0f s; got %r" % (want, timeout, seen))


def broker_down_at_connect(c):
    gw = Gateway(c, "--request-timeout-ms", "1000")
    alice = c.user("alice")
    alice.register("alice")
    first = connack_until(gw, "alice", alice.token(), 0)
    first.close()
    c.broker.kill9()
    # "server unavailable" (3) while the broker is away, and the gateway keeps running.
    connack_until(gw, "alice", alice.token(), 3)
    check(gw.proc.alive(), "gateway died with the broker")
    c.restart_broker()
    again = connack_until(gw, "alice", alice.token(), 0)
    check_eq(again.subscribe(["chatbus/dm/alice"]), [1], "subscribe after the broker came back")
    again.close()


def broker_restart_under_sessions(c):
    gw = Gateway(c)
    alice, bob = c.user("alice"), c.user("bob")
    alice.register("alice")
    bob.register("bob")
    bob.ok("join", "lobby")
    a = PahoClient(gw, "alice", alice.token())
    check_eq(a.connect()[0], 0, "alice connects")
    check_eq(a.subscribe(["chatbus/room/lobby", "chatbus/dm/alice"]), [1, 1], "alice subscribes")
    got = []

    def take_until(text):
        while True:
            _, ev, _ = a.next(timeout=20.0, topic="chatbus/room/lobby")
            got.append(ev)
            if ev.get("text") == text:
                return

    bob.ok("send", "--room", "lobby", "before")
    take_until("before")
    c.restart_broker(kill=True)
    # Sent as soon as the broker is back, perhaps before the gateway's events socket has reconnected: the
    # gateway must fill these from history, once each.
    bob.ok("send", "--room", "lobby", "during 1")
    bob.ok("send", "--room", "lobby", "during 2")
    take_until("during 2")
    bob.ok("send", "--room", "lobby", "after")
    take_until("after")
    seqs = [e["seq"] for e in got]
    check_eq(seqs, list(range(seqs[0], seqs[0] + len(seqs))), "seqs in order, no gap, nothing twice")
    texts = [e["text"] for e in got if e["kind"] == "message"]
    check_eq(texts, ["before", "during 1", "during 2", "after"], "messages across the restart")
    # The session is still attached at the new broker: a DM reaches it.
    bob.ok("send", "--to", "alice", "still here?")
    _, dm, _ = a.next(timeout=10.0, topic="chatbus/dm/alice")
    check_eq(dm["text"], "still here?", "DM after the restart")
    a.close()


def gateway_killed_persistent_session(c):
    gw1, gw2 = Gateway(c), Gateway(c)
    alice, bob = c.user("alice"), c.user("bob")
    alice.register("alice")
    bob.register("bob")
    a = PahoClient(gw1, "alice", alice.token(), client_id="phone", clean=False)
    check_eq(a.connect(), (0, 0), "alice's first persistent session")
    check_eq(a.subscribe(["chatbus/dm/alice"]), [1], "alice subscribes to her DMs")
    bob.ok("send", "--to", "alice", "dm 1")
    _, dm, _ = a.next(topic="chatbus/dm/alice")
    check_eq(dm["text"], "dm 1", "first DM")
    gw1.kill9()
    # DMs sent while alice has no gateway wait in her inbox.
    for i in range(2, 6):
        bob.ok("send", "--to", "alice", "dm %d" % i)
    a.c.loop_stop()
    b = PahoClient(gw2, "alice", alice.token(), client_id="phone", clean=False)
    rc, present = b.connect()
    check_eq(rc, 0, "alice reconnects to the other gateway")
    check_eq(present, 0, "a new gateway has no session state (docs/mqtt.md, Sessions)")
    check_eq(b.subscribe(["chatbus/dm/alice"]), [1], "alice subscribes again")
    texts = []
    while len(set(texts)) < 4:
        _, dm, _ = b.next(timeout=10.0, topic="chatbus/dm/alice")
        texts.append(dm["text"])
    check_eq(sorted(set(texts)), ["dm 2", "dm 3", "dm 4", "dm 5"], "no DM lost with the gateway")
    # The same session again on the same gateway: the subscription is kept, DMs flow without SUBSCRIBE.
    b.close()
    again = PahoClient(gw2, "alice", alice.token(), client_id="phone", clean=False)
    check_eq(again.connect(), (0, 1), "session present on the gateway that kept it")
    bob.ok("send", "--to", "alice", "dm 6")
    _, dm, _ = again.next(timeout=10.0, topic="chatbus/dm/alice")
    check_eq(dm["text"], "dm 6", "DM to the kept subscription")
    again.close()


def persistent_session_replays_rooms(c):
    gw = Gateway(c)
    alice, bob = c.user("alice"), c.user("bob")
    alice.register("alice")
    bob.register("bob")
    bob.ok("join", "hall")
    a = PahoClient(gw, "alice", alice.token(), client_id="tab", clean=False)
    check_eq(a.connect(), (0, 0), "alice's first connection")
    check_eq(a.subscribe(["chatbus/room/hall"]), [1], "alice follows hall")
    bob.ok("send", "--room", "hall", "m1")
    while a.next(topic="chatbus/room/hall")[1].get("text") != "m1":
        pass
    a.close()  # DISCONNECT: the session stays on the gateway
    for t in ("m2", "m3"):
        bob.ok("send", "--room", "hall", t)
    again = PahoClient(gw, "alice", alice.token(), client_id="tab", clean=False)
    check_eq(again.connect(), (0, 1), "session present")
    bob.ok("send", "--room", "hall", "m4")
    got = []
    while not got or got[-1]["text"] != "m4":
        got.append(again.next(timeout=10.0, topic="chatbus/room/hall")[1])
    check_eq([e["text"] for e in got], ["m2", "m3", "m4"], "missed events first, in order, once, then live ones")
    seqs = [e["seq"] for e in got]
    check_eq(seqs, list(range(seqs[0], seqs[0] + 3)), "consecutive seqs")
    again.close()


def mqtt_connect_packet(nick, token, client_id="slow", keepalive=60):
    def s(b):
        return len(b).to_bytes(2, "big") + b
    flags = 0x02 | 0x80 | 0x40
    var = s(b"MQTT") + bytes([4, flags]) + keepalive.to_bytes(2, "big")
    payload = s(client_id.encode()) + s(nick.encode()) + s(token.encode())
    body = var + payload
    return bytes([0x10, len(body)]) + body


def slow_consumer(c):
    gw = Gateway(c, "--session-queue", "20")
    alice, bob = c.user("alice"), c.user("bob")
    alice.register("alice")
    bob.register("bob")
    bob.ok("join", "flood")
    # alice's client subscribes, then never reads: a raw socket with a small receive buffer.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((gw.host, gw.port))
    sock.settimeout(10.0)
    sock.sendall(mqtt_connect_packet("alice", alice.token()))
    check_eq(sock.recv(4), b"\x20\x02\x00\x00", "CONNACK 0")
    topic = b"chatbus/room/flood"
    sub = b"\x00\x01" + len(topic).to_bytes(2, "big") + topic + b"\x00"
    sock.sendall(bytes([0x82, len(sub)]) + sub)
    check_eq(sock.recv(5), b"\x90\x03\x00\x01\x00", "SUBACK granted QoS 0")
    watcher = PahoClient(gw, "bob", bob.token())
    check_eq(watcher.connect()[0], 0, "bob connects")
    raw = c.raw()
    tok = bob.token()
    big = "x" * 4000
    closed = False
    for i in range(200):
        r = raw.request("SEND", nick="bob", token=tok, room="flood", texts=[big] * 32)
        check_eq(r["status"], 0, "bob's SEND %d" % i)
        st = watcher.request("status")
        if st["gateway"]["dropped"]["slow_consumer"] >= 1:
            closed = True
            break
    check(closed, "the gateway never closed the client that does not read")
    check_eq(st["gateway"]["sessions"], 1, "only bob's session is left")
    # The connection is closed by the gateway: reading what is left ends in EOF.
    end = time.monotonic() + 10
    while time.monotonic() < end:
        try:
            if not sock.recv(65536):
                break
        except (ConnectionResetError, socket.timeout):
            break
    sock.close()
    watcher.close()


if __name__ == "__main__":
    run_checks([
        ("the broker down: CONNECT gets 3, and 0 again once it is back", broker_down_at_connect),
        ("a broker restart under a live session: nothing missed, nothing twice", broker_restart_under_sessions),
        ("a gateway killed: its client reconnects to another, no DM of the persistent session lost",
         gateway_killed_persistent_session),
        ("a persistent session gets the room events it missed while away, then live ones",
         persistent_session_replays_rooms),
        ("a client that does not read is closed as a slow consumer and counted in status", slow_consumer),
    ])
