#!/usr/bin/env python3
"""MQTT users and chatctl users chat with each other through chatbus-gateway (docs/mqtt.md), with the MQTT
clients people use: mosquitto_sub/mosquitto_pub and paho-mqtt."""
import json

from chatbus_harness import Cluster, check, check_eq, run_checks
from mqtt_harness import Gateway, MosquittoSub, PahoClient, mosquitto_pub


def event_of(room, text=None, kind="message"):
    return lambda l: (l.get("type") == "event" and l.get("room") == room and l.get("kind") == kind and
                      (text is None or l.get("text") == text))


def mosquitto_clients_with_chatctl(c):
    gw = Gateway(c)
    alice, bob, carol = c.user("alice"), c.user("bob"), c.user("carol")
    alice.register("alice")
    bob.register("bob")
    carol.register("carol")
    carol.ok("join", "lobby")
    bob.ok("join", "lobby")
    lc = carol.listen()
    lc.ready()

    # SUBSCRIBE to the room joins it: carol sees alice's join, made over MQTT.
    sub = MosquittoSub(gw, "alice", alice.token(), ["chatbus/room/lobby", "chatbus/dm/alice"])
    lc.wait_for(lambda l: event_of("lobby", kind="join")(l) and l.get("nick") == "alice",
                what="alice's join, made by mosquitto_sub")
    topic, ev = sub.wait_for(lambda t, p: isinstance(p, dict) and p.get("kind") == "join" and p.get("nick") == "alice",
                             what="alice's own join event")
    check_eq(topic, "chatbus/room/lobby", "event topic")
    check_eq(list(ev.keys()), ["type", "room", "seq", "kind", "nick", "text", "ts"], "event fields (docs/mqtt.md)")

    # mosquitto_pub as bob (a member) reaches mosquitto_sub and chatctl listen.
    r = mosquitto_pub(gw, "bob", bob.token(), "chatbus/room/lobby", "hi all")
    check_eq(r.returncode, 0, "mosquitto_pub rc (stderr %r)" % r.stderr)
    topic, ev = sub.wait_for(lambda t, p: isinstance(p, dict) and p.get("text") == "hi all", what="bob's message")
    check_eq((ev["nick"], ev["room"], ev["kind"]), ("bob", "lobby", "message"), "bob's message event")
    ln = lc.wait_for(event_of("lobby", "hi all"), what="bob's MQTT message at chatctl listen")
    check_eq(ln["seq"], ev["seq"], "the same seq for chatctl and MQTT")

    # chatctl send reaches the MQTT subscriber.
    carol.ok("send", "--room", "lobby", "from chatctl")
    sub.wait_for(lambda t, p: isinstance(p, dict) and p.get("text") == "from chatctl" and p.get("nick") == "carol",
                 what="carol's chatctl message over MQTT")

    # A DM over MQTT arrives on the recipient's DM topic; one from chatctl too.
    r = mosquitto_pub(gw, "bob", bob.token(), "chatbus/dm/alice", "psst")
    check_eq(r.returncode, 0, "mosquitto_pub DM rc (stderr %r)" % r.stderr)
    topic, dm = sub.wait_for(lambda t, p: t.startswith("chatbus/dm/"), what="bob's DM")
    check_eq(topic, "chatbus/dm/alice", "DM topic")
    check_eq((dm["from"], dm["to"], dm["text"]), ("bob", "alice", "psst"), "DM fields")
    carol.ok("send", "--to", "alice", "dm from chatctl")
    sub.wait_for(lambda t, p: t == "chatbus/dm/alice" and p.get("text") == "dm from chatctl", what="chatctl's DM")

    # alice publishes over MQTT; chatctl sees it.
    r = mosquitto_pub(gw, "alice", alice.token(), "chatbus/room/lobby", "alice over mqtt")
    check_eq(r.returncode, 0, "alice's mosquitto_pub rc")
    lc.wait_for(event_of("lobby", "alice over mqtt"), what="alice's MQTT message at chatctl")

    # A wrong token: CONNACK 5, which mosquitto_pub reports and exits non-zero.
    r = mosquitto_pub(gw, "bob", "0" * 64, "chatbus/room/lobby", "impostor")
    check(r.returncode != 0, "mosquitto_pub with a wrong token succeeded")
    check("not authori" in (r.stderr + r.stdout).lower(), "no 'not authorised' from mosquitto_pub: %r" % r.stderr)
    sub.stop()


def paho_requests_and_errors(c):
    gw = Gateway(c)
    carol = c.user("carol")
    carol.register("carol")
    carol.ok("join", "den")

    # Registering over MQTT: an anonymous session may do only that.
    anon = PahoClient(gw)
    check_eq(anon.connect()[0], 0, "anonymous CONNACK")
    reply = anon.request("register", {"nick": "dora"})
    check_eq(reply["status"], "ok", "register reply %r" % reply)
    token = reply["token"]
    check_eq(len(token), 64, "token length")
    anon.publish("chatbus/room/den", "sneaky")
    _, err, _ = anon.next(topic="chatbus/error")
    check_eq(err["status"], "not_authorized", "anonymous publish refused")
    check_eq(anon.subscribe(["chatbus/room/den"]), [128], "anonymous subscribe refused")
    anon.close()

    dora = PahoClient(gw, "dora", token)
    check_eq(dora.connect()[0], 0, "dora's CONNACK")
    # Sending to a room she is not in: PUBACK (QoS 1 has no negative ack), then the refusal on chatbus/error.
    dora.publish("chatbus/room/den", "not yet a member")
    _, err, _ = dora.next(topic="chatbus/error")
    check_eq((err["status"], err["code"], err["topic"]), ("not_member", 12, "chatbus/room/den"), "refusal")
    check_eq(dora.subscribe(["chatbus/room/den", "chatbus/dm/dora", "chatbus/dm/carol"]), [1, 1, 128],
             "granted QoS: room, own DMs, another's DMs refused")
    _, err, _ = dora.next(topic="chatbus/error")
    check_eq(err["status"], "not_authorized", "another nick's DM topic")

    who = dora.request("who", {"room": "den"})
    check_eq(sorted(who["members"]), ["carol", "dora"], "who over MQTT")
    rooms = dora.request("rooms")
    check("den" in [r["room"] for r in rooms["rooms"]], "rooms over MQTT: %r" % rooms)
    dora.publish("chatbus/room/den", "now a member")
    _, ev, q = dora.next(topic="chatbus/room/den")
    while ev.get("text") != "now a member":
        _, ev, q = dora.next(topic="chatbus/room/den")
    check_eq(q, 1, "delivered at the granted QoS")
    hist = dora.request("history", {"room": "den", "last": 2})
    check_eq([e["text"] for e in hist["events"]], ["", "now a member"], "history over MQTT (join, message)")
    bad = dora.request("history", {"room": 5})
    check_eq(bad["status"], "bad_request", "a field of the wrong type")
    status = dora.request("status")
    check(status["gateway"]["sessions"] >= 1 and "nicks" in status["broker"], "status: %r" % status)
    nope = dora.request("join", {"room": "Bad Room!"})
    check_eq(nope["status"], "invalid_room", "join of an invalid room")
    # Unregistering ends the nick's sessions once the reply is out.
    bye = dora.request("unregister")
    check_eq(bye["status"], "ok", "unregister over MQTT")
    try:
        dora.gone.get(timeout=10.0)
    except Exception:
        raise AssertionError("the session of an unregistered nick stayed open")
    check_eq(PahoClient(gw, "dora", token).connect()[0], 5, "the old token after unregister")


def will_message(c):
    """A CONNECT's will is published as the nick's message when the connection ends without DISCONNECT."""
    gw = Gateway(c)
    alice, bob = c.user("alice"), c.user("bob")
    alice.register("alice")
    bob.register("bob")
    bob.ok("join", "porch")
    lb = bob.listen()
    lb.ready()
    a = PahoClient(gw, "alice", alice.token())
    a.c.will_set("chatbus/room/porch", "alice dropped off", qos=1)
    check_eq(a.connect()[0], 0, "alice connects with a will")
    check_eq(a.subscribe(["chatbus/room/porch"]), [1], "alice joins porch")
    a.publish("chatbus/room/porch", "brb")
    lb.wait_for(event_of("porch", "brb"), what="alice's message")
    a.c.loop_stop()
    a.c.socket().close()  # gone without DISCONNECT
    lb.wait_for(event_of("porch", "alice dropped off"), what="alice's will")
    # A clean DISCONNECT discards the will (MQTT-3.14.4-3): bob's sentinel is the next message after it.
    carol = c.user("carol")
    carol.register("carol")
    k = PahoClient(gw, "carol", carol.token())
    k.c.will_set("chatbus/room/porch", "carol's will", qos=1)
    check_eq(k.connect()[0], 0, "carol connects with a will")
    check_eq(k.subscribe(["chatbus/room/porch"]), [1], "carol joins porch")
    k.close()
    bob.ok("send", "--room", "porch", "sentinel")
    ev = lb.wait_for(lambda l: event_of("porch")(l) and l.get("nick") in ("bob", "carol"), what="the next message")
    check_eq((ev["nick"], ev["text"]), ("bob", "sentinel"), "no will after DISCONNECT")


def two_gateways(c):
    gw1, gw2 = Gateway(c), Gateway(c)
    alice, bob = c.user("alice"), c.user("bob")
    alice.register("alice")
    bob.register("bob")
    a = PahoClient(gw1, "alice", alice.token())
    b = PahoClient(gw2, "bob", bob.token())
    check_eq(a.connect()[0], 0, "alice on gateway 1")
    check_eq(b.connect()[0], 0, "bob on gateway 2")
    check_eq(a.subscribe(["chatbus/room/hall", "chatbus/dm/alice"]), [1, 1], "alice subscribes")
    check_eq(b.subscribe(["chatbus/room/hall", "chatbus/dm/bob"]), [1, 1], "bob subscribes")
    b.publish("chatbus/room/hall", "hello from gw2")
    a_seen = [a.next(topic="chatbus/room/hall")[1] for _ in range(3)]
    check("hello from gw2" in [e["text"] for e in a_seen], "alice's events: %r" % a_seen)
    a.publish("chatbus/dm/bob", "dm across gateways")
    _, dm, _ = b.next(topic="chatbus/dm/bob")
    check_eq((dm["from"], dm["text"]), ("alice", "dm across gateways"), "DM across gateways")
    a.close()
    b.close()


def rate_limits_per_nick(c):
    """The broker allows 5 requests per second per identity and per nick: through a gateway, one nick's flood
    is refused while another nick on the same gateway (the same broker connection) still gets through."""
    gw = Gateway(c)
    alice, bob = c.user("alice"), c.user("bob")
    alice.register("alice")
    bob.register("bob")
    a = PahoClient(gw, "alice", alice.token())
    b = PahoClient(gw, "bob", bob.token())
    check_eq(a.connect()[0], 0, "alice connects")
    check_eq(b.connect()[0], 0, "bob connects")
    check_eq(a.subscribe(["chatbus/room/r"]), [1], "alice joins r")
    check_eq(b.subscribe(["chatbus/room/r"]), [1], "bob joins r")
    for i in range(20):
        a.c.publish("chatbus/room/r", "flood %d" % i, qos=0)
    # The sentinel's PUBACK follows, on the wire, the refusal of every earlier PUBLISH (the broker answers in
    # order), and paho hands messages over in wire order: once it is acknowledged, every refusal is queued.
    a.publish("chatbus/room/r", "sentinel", qos=1)
    refused = 0
    while not a.messages.empty():
        topic, payload, _ = a.messages.get_nowait()
        if topic == "chatbus/error":
            check_eq(json.loads(payload)["status"], "rate_limited", "alice's refusal")
            refused += 1
    check(refused >= 10, "only %d of alice's 21 sends were refused with a 5/s limit" % refused)
    # bob's own bucket is untouched by alice's flood, although both came through one gateway socket.
    for i in range(4):
        b.publish("chatbus/room/r", "bob %d" % i, qos=1)
    texts = set()
    while len(texts) < 4:
        _, ev, _ = b.next(timeout=10.0, topic="chatbus/room/r")
        if ev.get("nick") == "bob" and ev.get("kind") == "message":
            texts.add(ev["text"])
    check_eq(sorted(texts), ["bob 0", "bob 1", "bob 2", "bob 3"], "bob's messages all went through")
    a.close()
    b.close()


def curve_gateway(c):
    """With CURVE the gateway authenticates to the broker with a key from gateway-keys, and its claim is
    accepted; MQTT users chat with chatctl users as without CURVE."""
    keys = c.gateway_keys["gw"]
    gw = Gateway(c, "--curve-key", keys.key_file, "--broker-key", c.broker_keys.pub_file)
    alice, bob = c.user("alice"), c.user("bob")
    alice.register("alice")
    bob.register("bob")
    bob.ok("join", "vault")
    lb = bob.listen()
    lb.ready()
    a = PahoClient(gw, "alice", alice.token())
    check_eq(a.connect()[0], 0, "alice connects through the CURVE gateway")
    check_eq(a.subscribe(["chatbus/room/vault"]), [1], "alice joins vault")
    a.publish("chatbus/room/vault", "sealed")
    lb.wait_for(event_of("vault", "sealed"), what="alice's message at bob's chatctl")
    bob.ok("send", "--room", "vault", "reply")
    while a.next(topic="chatbus/room/vault")[1].get("text") != "reply":
        pass
    st = c.raw_status()
    check_eq(st["gateways"], 1, "the broker counts the gateway")
    check("the broker did not accept" not in gw.proc.log_text(), "the gateway's claim was refused")
    a.close()


def curve_cluster():
    return Cluster(workers=1, curve=True, clients=("alice", "bob"), gateways=("gw",))


def limited_cluster():
    return Cluster(workers=1, broker_args=["--nick-rate", "5", "--nick-burst", "5", "--client-rate", "5",
                                           "--client-burst", "5"])


if __name__ == "__main__":
    run_checks([
        ("mosquitto_sub/mosquitto_pub users and chatctl users chat both ways (rooms, DMs, wrong token)",
         mosquitto_clients_with_chatctl),
        ("paho: register anonymously, requests with replies, refusals on chatbus/error", paho_requests_and_errors),
        ("a will is published when the connection ends without DISCONNECT, not after one", will_message),
        ("two gateways against one broker: room and DM across them", two_gateways),
        ("rate limits apply per nick through a gateway, not to the gateway as one client", rate_limits_per_nick,
         limited_cluster),
        ("CURVE: the gateway connects with a gateway key and MQTT users chat as without", curve_gateway,
         curve_cluster),
    ])
