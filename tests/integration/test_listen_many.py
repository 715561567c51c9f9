#!/usr/bin/env python3
"""One socket listening for many nicks (docs/protocol.md, LISTEN), as the MQTT gateway does over its one DEALER:
a raw socket listening for two nicks gets both nicks' DM_DELIVERs and MEMBERSHIPs and acknowledges each, one
PING keeps both attached, a LISTEN from elsewhere takes one nick only, and a silent socket loses all its
nicks with a LISTEN_END each while another socket that PINGs keeps its own."""
import time

from chatbus_harness import T, TYPE_NAME, Cluster, check, check_eq, encode, run_checks


def ok(rep, what):
    check(rep.get("status") == 0, "%s: %r" % (what, rep))
    return rep


def notifications(client, n, timeout=5.0):
    """The next n notifications on `client` (those stashed while it waited for a reply first), as
    (type name, body) in arrival order."""
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < n:
        if client.notifications:
            t, body = client.notifications.pop(0)
        else:
            left = deadline - time.monotonic()
            check(left > 0, "only %d of %d notifications within %.0f s: %r" % (len(got), n, timeout, got))
            t, body = client.recv(left)
        got.append((TYPE_NAME.get(t, hex(t)), body))
    return got


def register(client, nick):
    return ok(client.request("REGISTER", nick=nick), "REGISTER " + nick)["token"]


def two_nicks_one_socket(c):
    gw, alice = c.raw(), c.raw()
    tokens = {n: register(gw, n) for n in ("bob", "carol")}
    tok_a = register(alice, "alice")
    for n in ("bob", "carol"):
        ok(gw.request("LISTEN", nick=n, token=tokens[n]), "LISTEN " + n)
    ping = ok(gw.request("PING"), "PING")
    check_eq((ping.get("listening"), ping.get("nicks")), (True, 2), "PING_REPLY listening, nicks")
    st = ok(alice.request("STATUS"), "STATUS")
    check_eq((st.get("listeners"), st.get("listener_sockets")), (2, 1), "STATUS listeners, listener_sockets")

    # DMs to both nicks reach the one socket, each addressed to its nick.
    for n in ("bob", "carol"):
        dm = ok(alice.request("DM", nick="alice", token=tok_a, to=n, text="hi " + n), "DM " + n)
        check_eq(dm.get("delivered"), True, "DM to %s delivered" % n)
    got = notifications(gw, 2)
    check_eq(sorted((name, b["to"], b["text"]) for name, b in got),
             [("DM_DELIVER", "bob", "hi bob"), ("DM_DELIVER", "carol", "hi carol")], "DM_DELIVERs on the socket")
    for _, b in got:
        gw.send_raw(encode_ack(b["to"], b["id"]))
    ok(gw.request("PING"), "PING after the acks")  # read in order: the acks were taken before this answer
    check_eq(ok(alice.request("STATUS"), "STATUS").get("inboxed"), 0, "inboxed after both acks")

    # Joins of both nicks (made from the socket itself, as a gateway does) come back as MEMBERSHIP for each.
    for n in ("bob", "carol"):
        ok(gw.request("JOIN", nick=n, token=tokens[n], room="lobby"), "JOIN " + n)
    got = notifications(gw, 2)
    check_eq(sorted((name, b["nick"], b["room"], b["joined"]) for name, b in got),
             [("MEMBERSHIP", "bob", "lobby", True), ("MEMBERSHIP", "carol", "lobby", True)], "MEMBERSHIPs")
    # A change made from another socket (with carol's token) reaches carol's listener too.
    ok(alice.request("LEAVE", nick="carol", token=tokens["carol"], room="lobby"), "LEAVE carol")
    got = notifications(gw, 1)
    check_eq([(name, b["nick"], b["joined"]) for name, b in got], [("MEMBERSHIP", "carol", False)], "leave")

    # bob listens from his own client now: the socket loses bob only, with LISTEN_END replaced.
    bob_cli = c.raw()
    ok(bob_cli.request("LISTEN", nick="bob", token=tokens["bob"]), "LISTEN bob elsewhere")
    got = notifications(gw, 1)
    check_eq([(name, b["nick"], b["reason"]) for name, b in got], [("LISTEN_END", "bob", "replaced")], "LISTEN_END")
    ping = ok(gw.request("PING"), "PING")
    check_eq((ping.get("listening"), ping.get("nicks")), (True, 1), "PING_REPLY after bob moved")
    # An ack for bob from the socket that no longer listens for him is ignored: the next DM stays in his inbox
    # until his own listener acks it.
    dm = ok(alice.request("DM", nick="alice", token=tok_a, to="bob", text="again"), "DM bob again")
    got = notifications(bob_cli, 1)
    check_eq(got[0][1]["text"], "again", "DM at bob's own listener")
    gw.send_raw(encode_ack("bob", dm["id"]))
    ok(gw.request("PING"), "PING after the stranger's ack")
    check_eq(ok(alice.request("STATUS"), "STATUS").get("inboxed"), 1, "inboxed after an ack from elsewhere")
    check(not gw.notifications and not gw.sock.poll(200), "the socket got something for bob after it lost him")


def encode_ack(nick, upto):
    return encode(T["DM_ACK"], {"nick": nick, "upto": upto})


def silent_socket_loses_all(c):
    gw, cli = c.raw(), c.raw()
    tokens = {n: register(gw, n) for n in ("bob", "carol", "dave")}
    for n in ("bob", "carol"):
        ok(gw.request("LISTEN", nick=n, token=tokens[n]), "LISTEN " + n)
    ok(cli.request("LISTEN", nick="dave", token=tokens["dave"]), "LISTEN dave")
    # cli keeps PINGing, gw says nothing more: within liveness x heartbeat (3 x 200 ms) gw loses both nicks.
    ends = []
    deadline = time.monotonic() + 10
    while len(ends) < 2 and time.monotonic() < deadline:
        check_eq(ok(cli.request("PING"), "cli PING").get("nicks"), 1, "the PINGing socket's nicks")
        if gw.sock.poll(100):
            t, body = gw.recv(1)
            ends.append((TYPE_NAME.get(t, hex(t)), body.get("nick"), body.get("reason")))
    check_eq(sorted(ends), [("LISTEN_END", "bob", "silent"), ("LISTEN_END", "carol", "silent")], "LISTEN_ENDs")
    ping = ok(gw.request("PING"), "PING of the silent socket")
    check_eq((ping.get("listening"), ping.get("nicks")), (False, 0), "PING_REPLY after going silent")
    st = ok(cli.request("STATUS"), "STATUS")
    check_eq((st.get("listeners"), st.get("listener_sockets")), (1, 1), "STATUS after the silent socket")


if __name__ == "__main__":
    run_checks([
        ("one socket listens for two nicks: DMs, acks and MEMBERSHIPs of each, LISTEN elsewhere takes one",
         two_nicks_one_socket),
        ("a silent socket loses all its nicks, each with LISTEN_END silent; a PINGing one keeps its nick",
         silent_socket_loses_all, lambda: Cluster(workers=0, broker_args=("--heartbeat-ms", "200"))),
    ])
