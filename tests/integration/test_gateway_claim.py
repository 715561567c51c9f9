#!/usr/bin/env python3
"""The gateway role without CURVE (docs/protocol.md, "Gateways"): any client's HELLO claim is accepted, and a
raw socket acting for two nicks, as the MQTT gateway does, then sends far more than the per-identity limit
while each nick's own limit still refuses its excess with rate_limited. An ordinary client beside it is
limited as before. (With CURVE, test_curve.py checks that only gateway keys may claim.)"""
from chatbus_harness import STATUS, Cluster, check, check_eq, run_checks

CLIENT_BURST = 20
NICK_BURST = 5
# Refills too slowly to matter within the test: every count below is exact.
LIMITS = ("--client-rate", "0.001", "--client-burst", str(CLIENT_BURST),
          "--nick-rate", "0.001", "--nick-burst", str(NICK_BURST))


def ok(rep, what):
    check(rep.get("status") == 0, "%s: %r" % (what, rep))
    return rep


def status_name(rep):
    return [k for k, v in STATUS.items() if v == rep.get("status")][0]


def gateway_not_throttled_as_one_client(c):
    gw, plain = c.raw(), c.raw()
    hello = ok(gw.request("HELLO", gateway=True), "HELLO gateway")
    check_eq(hello.get("gateway"), True, "HELLO_REPLY gateway")
    tokens = {n: ok(gw.request("REGISTER", nick=n), "REGISTER " + n)["token"] for n in ("alice", "bob")}
    for n, t in tokens.items():
        ok(gw.request("LISTEN", nick=n, token=t), "LISTEN " + n)
        ok(gw.request("JOIN", nick=n, token=t, room="lobby"), "JOIN " + n)  # one of the nick's tokens
    # Well past the identity's burst: none refused.
    for i in range(3 * CLIENT_BURST):
        ok(gw.request("WHO", room="lobby"), "WHO #%d through the gateway" % i)
    # Each nick: its JOIN and 4 SENDs use its burst of 5; the 6th request is refused, for each nick alone.
    for n, t in tokens.items():
        for i in range(NICK_BURST - 1):
            ok(gw.request("SEND", nick=n, token=t, room="lobby", texts=["%s %d" % (n, i)]), "SEND %s %d" % (n, i))
        r = gw.request("SEND", nick=n, token=t, room="lobby", texts=["one too many"])
        check_eq(status_name(r), "rate_limited", "SEND of %s past its nick burst" % n)
    st = ok(gw.request("STATUS"), "STATUS")
    check_eq(st.get("gateways"), 1, "STATUS gateways")
    check_eq(st.get("refused", {}).get("rate_limited"), 2, "STATUS refused.rate_limited")
    check_eq((st.get("listeners"), st.get("listener_sockets")), (2, 1), "STATUS listeners, listener_sockets")
    history = ok(gw.request("HISTORY", room="lobby"), "HISTORY")
    texts = [e["text"] for e in history["events"] if e["kind"] == "message"]
    check_eq(sorted(texts), sorted("%s %d" % (n, i) for n in tokens for i in range(NICK_BURST - 1)),
             "published messages (none of the refused)")

    # An ordinary client is limited per identity as before.
    for i in range(CLIENT_BURST):
        ok(plain.request("PING"), "PING #%d of an ordinary client" % i)
    check_eq(status_name(plain.request("PING")), "rate_limited", "ordinary client past its burst")


if __name__ == "__main__":
    run_checks([
        ("without CURVE a gateway claim is accepted: not throttled as one client, each nick still is",
         gateway_not_throttled_as_one_client),
    ], cluster_factory=lambda: Cluster(workers=1, broker_args=LIMITS))
