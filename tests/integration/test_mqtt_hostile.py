#!/usr/bin/env python3
"""Hostile MQTT: hundreds of distinct malformed, out-of-order or abusive inputs, hand-built bytes on raw TCP
sockets, against a real chatbus-gateway in front of a real broker and worker. Each case states the outcome MQTT
3.1.1 prescribes (mostly: the server closes the connection without answering [MQTT-4.8.0-1]; CONNACK N then
close where the spec says so) or, for valid requests the gateway refuses and for the choices the spec leaves,
what docs/mqtt.md says; the test checks exactly that outcome, reading until EOF with a bounded timeout (EOF or a
packet is the event, never a sleep).

Meanwhile two paho clients (registered nicks) prove after every few cases that the gateway still serves other
sessions: a `who` request round trip and a room message from one to the other. The whole set runs once as a
warm-up and then several more times: the gateway's RSS must stay flat across those passes. The slow cases
(keep-alive, no CONNECT, slow-loris) run once, in threads, beside the passes.

Prints "N hostile MQTT inputs tried, M handled as specified" and fails unless M == N and N >= 150."""
import chatbus_harness  # noqa: F401 (first: it makes pyzmq and msgpack importable)
import json
import os
import socket
import struct
import sys
import threading
import time
import traceback

from chatbus_harness import NO_RATE_LIMITS, Cluster, check, check_eq, rss_kb
from mqtt_harness import Gateway, PahoClient

MAX_PACKET = 8192          # the gateway's --max-packet here
MAX_TOPIC = 1024           # bytes of a topic name or filter (docs/mqtt.md, "Limits")
MAX_FILTERS = 64           # filters in one SUBSCRIBE or UNSUBSCRIBE (docs/mqtt.md, "Limits")
MAX_CLIENT_ID = 256        # bytes of a client identifier (docs/mqtt.md, CONNACK 2)
PACKET_BURST = 2000        # packet-rate burst (docs/mqtt.md, "Limits"; default --packet-rate 1000)
CONNECT_WAIT_S = 10.0      # a connection without a complete CONNECT is closed after this (docs/mqtt.md)
SWEEP_S = 1.0              # the gateway checks keep-alives once a second
SLACK_S = 3.0              # on top of the spec's bound for a slow case, for a loaded machine
CASE_TIMEOUT = 5.0         # every wait for an answer or for EOF
PASSES = int(os.environ.get("CHATBUS_MQTT_HOSTILE_PASSES", "12"))  # the first is the warm-up
CHECK_EVERY = 25           # cases between two "still serving" checks
RSS_GROWTH_LIMIT_KB = 2048
if os.environ.get("CHATBUS_SANITIZED"):
    RSS_GROWTH_LIMIT_KB = 300 * 1024  # ASan's quarantine, see test_hostile.py

# ---------------------------------------------------------------------------------------------------------------
# Packets, built by hand (MQTT 3.1.1, section 2 and 3).


def vbi(n):
    """Remaining Length encoding (2.2.3)."""
    out = bytearray()
    while True:
        b, n = n % 128, n // 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def u16(n):
    return struct.pack("!H", n)


def s(x):
    """A two-byte length and the bytes (1.5.3); str is UTF-8 encoded, bytes are sent as they are."""
    x = x.encode() if isinstance(x, str) else x
    return u16(len(x)) + x


def packet(first, body, rl=None):
    return bytes([first]) + vbi(len(body) if rl is None else rl) + body


def connect_body(client_id="c", clean=True, ka=60, user=None, password=None, will=None, will_qos=0,
                 will_retain=False, name="MQTT", level=4, flags=None):
    f = (0x02 if clean else 0)
    if will is not None:
        f |= 0x04 | (will_qos << 3) | (0x20 if will_retain else 0)
    if user is not None:
        f |= 0x80
    if password is not None:
        f |= 0x40
    if flags is not None:
        f = flags
    body = s(name) + bytes([level, f]) + u16(ka) + s(client_id)
    if will is not None:
        body += s(will[0]) + s(will[1])
    if user is not None:
        body += s(user)
    if password is not None:
        body += s(password)
    return body


def CONNECT(first=0x10, rl=None, cut=None, extra=b"", **kw):
    """cut: keep only the first `cut` bytes of the body (the Remaining Length says so); extra: bytes appended."""
    body = connect_body(**kw)
    if cut is not None:
        body = body[:cut]
    return packet(first, body + extra, rl)


def PUBLISH(topic, payload=b"", qos=0, pid=1, dup=False, retain=False, first=None, rl=None):
    payload = payload.encode() if isinstance(payload, str) else payload
    body = s(topic) + (u16(pid) if qos else b"") + payload
    f = 0x30 | (0x08 if dup else 0) | (qos << 1) | (0x01 if retain else 0)
    return packet(f if first is None else first, body, rl)


def SUBSCRIBE(pid, filters, first=0x82, rl=None):
    return packet(first, u16(pid) + b"".join(s(f) + bytes([q]) for f, q in filters), rl)


def UNSUBSCRIBE(pid, filters, first=0xA2, rl=None):
    return packet(first, u16(pid) + b"".join(s(f) for f in filters), rl)


PINGREQ, PINGRESP, DISCONNECT = b"\xc0\x00", b"\xd0\x00", b"\xe0\x00"


def CONNACK(rc, session_present=0):
    return bytes([0x20, 2, session_present, rc])


def PUBACK(pid):
    return b"\x40\x02" + u16(pid)


def SUBACK(pid, codes):
    return packet(0x90, u16(pid) + bytes(codes))


def UNSUBACK(pid):
    return b"\xb0\x02" + u16(pid)


# ---------------------------------------------------------------------------------------------------------------
# What comes back.


class Pkt:
    def __init__(self, raw, hdr):
        self.raw, self.first, self.body = raw, raw[0], raw[hdr:]

    def publish(self):
        """(topic, qos, payload) of a PUBLISH, None for other packets."""
        if self.first >> 4 != 3 or len(self.body) < 2:
            return None
        n = struct.unpack("!H", self.body[:2])[0]
        qos = (self.first >> 1) & 3
        rest = self.body[2 + n + (2 if qos else 0):]
        return self.body[2:2 + n].decode("utf-8", "replace"), qos, rest

    def __repr__(self):
        p = self.publish()
        if p:
            return "PUBLISH(%r, qos %d, %r)" % (p[0], p[1], p[2][:160])
        return self.raw[:24].hex(" ") + ("..." if len(self.raw) > 24 else "")


class Exact:
    def __init__(self, data):
        self.data = data

    def match(self, p):
        return p.raw == self.data

    def __repr__(self):
        return self.data.hex(" ")


class Pub:
    """A QoS 0 PUBLISH from the gateway on `topic` whose JSON payload has `fields`."""

    def __init__(self, on, **fields):
        self.topic, self.fields = on, fields

    def match(self, p):
        pub = p.publish()
        if not pub or pub[0] != self.topic or pub[1] != 0 or p.first & 0x09:
            return False
        try:
            j = json.loads(pub[2])
        except ValueError:
            return False
        return all(j.get(k) == v for k, v in self.fields.items())

    def __repr__(self):
        return "PUBLISH(%r, %r)" % (self.topic, self.fields)


def Err(status, topic, pid):
    """The refusal on chatbus/error (docs/mqtt.md, "Errors")."""
    return Pub("chatbus/error", status=status, topic=topic, packet_id=pid)


class NoEof(AssertionError):
    pass


class Conn:
    """A raw TCP connection to the gateway. Every read is bounded by a deadline; a reset counts as EOF."""

    def __init__(self, gw):
        self.sock = socket.create_connection((gw.host, gw.port), timeout=CASE_TIMEOUT)
        self.buf = b""
        self.eof = False

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed by the gateway while sending: what it sent before is read next

    def packet(self, deadline):
        """The next packet from the gateway, or None at EOF; NoEof when neither comes before `deadline`."""
        while True:
            got = self._parse()
            if got:
                return got
            if self.eof:
                if self.buf:
                    raise AssertionError("EOF in the middle of a packet: %s" % self.buf[:24].hex(" "))
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                raise NoEof("neither a packet nor EOF within the time allowed (the connection stayed open)")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self.eof = True
            self.buf += chunk

    def _parse(self):
        n, mult, i = 0, 1, 1
        while True:
            if i >= len(self.buf):
                return None
            b = self.buf[i]
            n += (b & 0x7F) * mult
            mult *= 128
            i += 1
            if not b & 0x80:
                break
            if i > 4:
                raise AssertionError("the gateway sent a bad Remaining Length: %s" % self.buf[:8].hex(" "))
        if len(self.buf) < i + n:
            return None
        p = Pkt(self.buf[:i + n], i)
        self.buf = self.buf[i + n:]
        return p

    def close(self):
        self.sock.close()


class Expect:
    """Packets the gateway must send (in any order: a refusal on chatbus/error and a PUBACK are independent),
    then `then`: "eof" (the connection is closed, nothing else before) or "open" (it still answers PINGREQ,
    then DISCONNECT ends it)."""

    def __init__(self, packets=(), then="eof"):
        self.packets, self.then = list(packets), then

    def check(self, conn):
        deadline = time.monotonic() + CASE_TIMEOUT
        pending = list(self.packets)
        while pending:
            p = conn.packet(deadline)
            if p is None:
                raise AssertionError("closed before %r" % pending)
            m = next((m for m in pending if m.match(p)), None)
            if m is None:
                raise AssertionError("unexpected %r while waiting for %r" % (p, pending))
            pending.remove(m)
        if self.then == "open":
            conn.send(PINGREQ)
            p = conn.packet(deadline)
            if p is None:
                raise AssertionError("closed: the connection must stay open")
            if p.raw != PINGRESP:
                raise AssertionError("unexpected %r, expected only PINGRESP" % p)
            conn.send(DISCONNECT)
        p = conn.packet(deadline)
        if p is not None:
            raise AssertionError("unexpected %r, expected EOF" % p)

    def __repr__(self):
        what = " + ".join(repr(p) for p in self.packets)
        if self.then == "eof":
            return (what + " then close") if what else "close without answer"
        return (what + ", stays open") if what else "stays open"


CLOSE = Expect()


def connack_close(rc):
    return Expect([Exact(CONNACK(rc))])


def open_after(*packets):
    return Expect(packets, "open")


def close_after(*packets):
    return Expect(packets)


# ---------------------------------------------------------------------------------------------------------------
# The cases. pre: None (the bytes are the connection's first), "auth" (after CONNECT as the registered nick
# `hostile` and CONNACK 0) or "anon" (after an anonymous CONNECT and CONNACK 0).


class Case:
    def __init__(self, group, name, send, expect, pre=None, run=None, slow=False):
        self.group, self.name, self.expect, self.pre, self.run, self.slow = group, name, expect, pre, run, slow
        self.send = send if isinstance(send, list) else [send]
        self.failures = []


CASES = []


def case(group, name, send, expect, pre=None):
    CASES.append(Case(group, name, send, expect, pre))


def special(group, name, run, pre=None, slow=False):
    CASES.append(Case(group, name, [], None, pre, run=run, slow=slow))


NOWHERE = "chatbus/nowhere"  # a valid topic name that names no chatbus topic: unknown_topic
BAD_UTF8 = [
    ("U+0000", b"a\x00b"),
    ("overlong '/' C0 AF", b"a\xc0\xafb"),
    ("overlong U+0000 C0 80", b"a\xc0\x80b"),
    ("overlong 3-byte E0 80 AF", b"a\xe0\x80\xafb"),
    ("surrogate U+D800", b"a\xed\xa0\x80b"),
    ("surrogate U+DFFF", b"a\xed\xbf\xbfb"),
    ("truncated 3-byte sequence", b"a\xe2\x82"),
    ("byte 0xFF", b"a\xffb"),
    ("lone continuation byte", b"a\x80b"),
    ("beyond U+10FFFF", b"a\xf4\x90\x80\x80"),
]


def build_cases(token):
    # --- Remaining Length (2.2.3) -------------------------------------------------------------------------
    g = "remaining length"
    case(g, "CONNECT with a 5-byte Remaining Length", b"\x10\x80\x80\x80\x80\x01" + connect_body(), CLOSE)
    case(g, "CONNECT with Remaining Length FF FF FF FF 7F", b"\x10\xff\xff\xff\xff\x7f" + connect_body(), CLOSE)
    case(g, "PUBLISH with a 5-byte Remaining Length", b"\x30\x80\x80\x80\x80\x01" + s(NOWHERE), CLOSE, "auth")
    case(g, "PINGREQ with a 5-byte Remaining Length", b"\xc0\x80\x80\x80\x80\x00", CLOSE, "auth")
    # Announced over --max-packet: closed at once, before the bytes it announces are sent.
    case(g, "CONNECT announcing max-packet + 1, body never sent", b"\x10" + vbi(MAX_PACKET + 1), CLOSE)
    case(g, "PUBLISH announcing max-packet + 1, body never sent", b"\x30" + vbi(MAX_PACKET + 1), CLOSE, "auth")
    case(g, "SUBSCRIBE announcing max-packet + 1, body never sent", b"\x82" + vbi(MAX_PACKET + 1), CLOSE, "auth")
    case(g, "PUBLISH announcing 268,435,455 bytes, body never sent", b"\x30\xff\xff\xff\x7f", CLOSE, "auth")
    case(g, "CONNECT announcing 2 MB, body never sent", b"\x10" + vbi(2 << 20), CLOSE)
    case(g, "PUBLISH of max-packet + 1 bytes, all sent",
         PUBLISH(NOWHERE, b"x" * (MAX_PACKET + 1 - 2 - len(NOWHERE) - 2), qos=1, pid=3), CLOSE, "auth")
    case(g, "PUBLISH of exactly max-packet bytes is accepted (control)",
         PUBLISH(NOWHERE, b"x" * (MAX_PACKET - 2 - len(NOWHERE) - 2), qos=1, pid=3),
         open_after(Exact(PUBACK(3)), Err("unknown_topic", NOWHERE, 3)), "auth")
    # Lengths that disagree with the content: longer swallows the next packet, shorter cuts a field.
    case(g, "CONNECT 2 longer than its content, then PINGREQ (read as trailing CONNECT bytes)",
         [CONNECT(rl=len(connect_body()) + 2), PINGREQ], CLOSE)
    case(g, "CONNECT 1 shorter than its content", CONNECT(rl=len(connect_body()) - 1), CLOSE)
    case(g, "CONNECT 3 shorter than its content (client id cut)", CONNECT(client_id="abcdef",
                                                                          rl=len(connect_body("abcdef")) - 3), CLOSE)
    case(g, "CONNECT Remaining Length 0", b"\x10\x00", CLOSE)
    case(g, "CONNECT Remaining Length 1", b"\x10\x01\x00", CLOSE)
    case(g, "CONNECT with user and password, Remaining Length 4 short", CONNECT(
        user="hostile", password="x" * 8, rl=len(connect_body(user="hostile", password="x" * 8)) - 4), CLOSE)
    body = s(NOWHERE) + u16(7) + b"abc"
    case(g, "QoS 1 PUBLISH 2 longer than its content swallows the next PINGREQ as payload",
         [packet(0x32, body, len(body) + 2), PINGREQ],
         open_after(Exact(PUBACK(7)), Err("unknown_topic", NOWHERE, 7)), "auth")
    body = s(NOWHERE) + b"xyz\xf0\x00"
    case(g, "QoS 0 PUBLISH 2 shorter: its cut payload is handled, the rest (F0 00, reserved type) closes",
         packet(0x30, body, len(body) - 2), close_after(Err("unknown_topic", NOWHERE, 0)), "auth")
    case(g, "PUBLISH shorter than its topic", packet(0x30, s(NOWHERE), 5), CLOSE, "auth")
    case(g, "QoS 1 PUBLISH with a Remaining Length that ends inside the packet id",
         packet(0x32, s(NOWHERE) + u16(1), len(s(NOWHERE)) + 1), CLOSE, "auth")
    body = u16(9) + s("chatbus/error") + b"\x00"
    case(g, "SUBSCRIBE 2 longer than its content, then PINGREQ (read as a filter of length 0xC000)",
         [packet(0x82, body, len(body) + 2), PINGREQ], CLOSE, "auth")
    case(g, "SUBSCRIBE 1 shorter: its QoS byte cut", packet(0x82, body, len(body) - 1), CLOSE, "auth")
    body = u16(9) + s("chatbus/error")
    case(g, "UNSUBSCRIBE 3 shorter: its filter cut", packet(0xA2, body, len(body) - 3), CLOSE, "auth")
    case(g, "PUBACK Remaining Length 3", b"\x40\x03\x00\x01\x00", CLOSE, "auth")
    case(g, "PUBACK Remaining Length 1", b"\x40\x01\x00", CLOSE, "auth")
    case(g, "PUBACK Remaining Length 0", b"\x40\x00", CLOSE, "auth")
    case(g, "PINGREQ with a payload byte", b"\xc0\x01\x00", CLOSE, "auth")
    case(g, "PINGREQ Remaining Length 2", b"\xc0\x02\x00\x00", CLOSE, "auth")
    case(g, "DISCONNECT with a payload byte", b"\xe0\x01\x00", CLOSE, "auth")
    case(g, "PINGREQ with a non-minimal Remaining Length 80 00 (3.1.1 does not forbid it; docs/mqtt.md)",
         b"\xc0\x80\x00", open_after(Exact(PINGRESP)), "auth")

    # --- Truncated fields (the Remaining Length agrees with what is sent; a field inside is cut) ----------------
    g = "truncated fields"
    full = connect_body(client_id="cid", user="hostile", password="pw", will=("chatbus/room/w", "bye"))
    for cut, what in [(1, "in the protocol name length"), (4, "in the protocol name"), (6, "before the level"),
                      (7, "before the connect flags"), (8, "before the keep-alive"), (9, "in the keep-alive"),
                      (10, "before the client id"), (11, "in the client id length"), (13, "in the client id"),
                      (15, "before the will topic"), (20, "in the will topic"), (31, "before the will message"),
                      (34, "in the will message"), (36, "before the user name"), (40, "in the user name"),
                      (45, "before the password"), (46, "in the password length"), (48, "in the password")]:
        case(g, "CONNECT cut %s" % what, packet(0x10, full[:cut]), CLOSE)
    case(g, "PUBLISH Remaining Length 0", b"\x30\x00", CLOSE, "auth")
    case(g, "PUBLISH Remaining Length 1", b"\x30\x01\x00", CLOSE, "auth")
    case(g, "PUBLISH topic length 0xFFFF in a 10-byte packet", packet(0x30, b"\xff\xff" + b"a" * 8), CLOSE, "auth")
    case(g, "QoS 1 PUBLISH without packet id", packet(0x32, s(NOWHERE)), CLOSE, "auth")
    case(g, "QoS 1 PUBLISH with one byte of packet id", packet(0x32, s(NOWHERE) + b"\x01"), CLOSE, "auth")
    case(g, "SUBSCRIBE Remaining Length 0", b"\x82\x00", CLOSE, "auth")
    case(g, "SUBSCRIBE with one byte of packet id", b"\x82\x01\x00", CLOSE, "auth")
    case(g, "SUBSCRIBE with one byte of filter length", b"\x82\x03\x00\x01\x00", CLOSE, "auth")
    case(g, "SUBSCRIBE filter length 1, no filter", b"\x82\x04\x00\x01\x00\x01", CLOSE, "auth")
    case(g, "SUBSCRIBE filter without its QoS byte", b"\x82\x05\x00\x01\x00\x01a", CLOSE, "auth")
    case(g, "SUBSCRIBE second filter without its QoS byte",
         packet(0x82, u16(1) + s("chatbus/error") + b"\x00" + s("chatbus/error")), CLOSE, "auth")
    case(g, "SUBSCRIBE filter length beyond the packet", packet(0x82, u16(1) + b"\x00\x40abc\x00"), CLOSE, "auth")
    case(g, "UNSUBSCRIBE Remaining Length 0", b"\xa2\x00", CLOSE, "auth")
    case(g, "UNSUBSCRIBE with one byte of packet id", b"\xa2\x01\x00", CLOSE, "auth")
    case(g, "UNSUBSCRIBE with one byte of filter length", b"\xa2\x03\x00\x01\x00", CLOSE, "auth")

    # --- Fixed-header flags (2.2.2): every type with flags other than the table's -----------------------------
    g = "fixed-header flags"
    for f in (0x11, 0x12, 0x14, 0x18):
        case(g, "CONNECT with flags %X [MQTT-2.2.2-2]" % (f & 15), CONNECT(first=f), CLOSE)
    case(g, "PUBLISH QoS 3 [MQTT-3.3.1-4]", PUBLISH(NOWHERE, "x", first=0x36), CLOSE, "auth")
    case(g, "PUBLISH QoS 3 with DUP and RETAIN", PUBLISH(NOWHERE, "x", qos=1, first=0x3F), CLOSE, "auth")
    case(g, "PUBLISH QoS 0 with DUP [MQTT-3.3.1-2]", PUBLISH(NOWHERE, "x", first=0x38), CLOSE, "auth")
    case(g, "PUBLISH QoS 0 with DUP and RETAIN [MQTT-3.3.1-2]", PUBLISH(NOWHERE, "x", first=0x39), CLOSE, "auth")
    for first, name in [(0x41, "PUBACK"), (0x42, "PUBACK"), (0x48, "PUBACK"), (0x51, "PUBREC"), (0x52, "PUBREC"),
                        (0x60, "PUBREL"), (0x63, "PUBREL"), (0x66, "PUBREL"), (0x6A, "PUBREL"), (0x71, "PUBCOMP"),
                        (0x72, "PUBCOMP")]:
        case(g, "%s with flags %X" % (name, first & 15), bytes([first, 2, 0, 1]), CLOSE, "auth")
    for f in (0x80, 0x81, 0x83, 0x86, 0x8A):
        case(g, "SUBSCRIBE with flags %X [MQTT-3.8.1-1]" % (f & 15), SUBSCRIBE(1, [("chatbus/error", 0)], first=f),
             CLOSE, "auth")
    for f in (0xA0, 0xA3, 0xAA):
        case(g, "UNSUBSCRIBE with flags %X [MQTT-3.10.1-1]" % (f & 15), UNSUBSCRIBE(1, ["chatbus/error"], first=f),
             CLOSE, "auth")
    for f in (0xC1, 0xC2, 0xC4, 0xC8):
        case(g, "PINGREQ with flags %X" % (f & 15), bytes([f, 0]), CLOSE, "auth")
    for f in (0xE1, 0xE2, 0xE8):
        case(g, "DISCONNECT with flags %X" % (f & 15), bytes([f, 0]), CLOSE, "auth")

    # --- Packet types: reserved, server-only, QoS 2 flow, order -----------------------------------------------
    g = "packet types"
    case(g, "reserved type 0 as the first packet", b"\x00\x00", CLOSE)
    case(g, "reserved type 15 as the first packet", b"\xf0\x00", CLOSE)
    case(g, "reserved type 0 after CONNECT", b"\x00\x02\x00\x01", CLOSE, "auth")
    case(g, "reserved type 15 after CONNECT", b"\xf0\x00", CLOSE, "auth")
    case(g, "reserved type 15 with flags and a body", b"\xff\x02\x00\x01", CLOSE, "auth")
    for raw, name in [(CONNACK(0), "CONNACK"), (SUBACK(1, [0]), "SUBACK"), (UNSUBACK(1), "UNSUBACK"),
                      (PINGRESP, "PINGRESP")]:
        case(g, "%s (server to client only) as the first packet" % name, raw, CLOSE)
        case(g, "%s (server to client only) after CONNECT" % name, raw, CLOSE, "auth")
    # The gateway never starts or accepts a QoS 2 exchange, so these answer nothing: closed (docs/mqtt.md).
    case(g, "PUBREC after CONNECT (no QoS 2 exchange exists)", b"\x50\x02\x00\x01", CLOSE, "auth")
    case(g, "PUBREL after CONNECT (no QoS 2 exchange exists)", b"\x62\x02\x00\x01", CLOSE, "auth")
    case(g, "PUBCOMP after CONNECT (no QoS 2 exchange exists)", b"\x70\x02\x00\x01", CLOSE, "auth")
    case(g, "PUBACK for a packet id never sent: ignored (4.3.2)", PUBACK(0x1234), open_after(), "auth")
    case(g, "QoS 2 PUBLISH (docs/mqtt.md: closed)", PUBLISH(NOWHERE, "x", qos=2, pid=4), CLOSE, "auth")
    case(g, "QoS 2 PUBLISH with DUP", PUBLISH(NOWHERE, "x", qos=2, pid=4, dup=True), CLOSE, "auth")
    for raw, name in [(PUBLISH(NOWHERE, "x"), "PUBLISH"), (SUBSCRIBE(1, [("chatbus/error", 0)]), "SUBSCRIBE"),
                      (UNSUBSCRIBE(1, ["chatbus/error"]), "UNSUBSCRIBE"), (PINGREQ, "PINGREQ"),
                      (DISCONNECT, "DISCONNECT"), (PUBACK(1), "PUBACK"), (b"\x62\x02\x00\x01", "PUBREL")]:
        case(g, "%s as the first packet [MQTT-3.1.0-1]" % name, raw, CLOSE)
    case(g, "second CONNECT, identical [MQTT-3.1.0-2]", CONNECT(client_id="second", user="hostile",
                                                                password=token), CLOSE, "auth")
    case(g, "second CONNECT, anonymous", CONNECT(client_id="second2"), CLOSE, "auth")
    case(g, "second CONNECT with protocol level 3 (no CONNACK 1 once connected)",
         CONNECT(client_id="second3", level=3), CLOSE, "auth")
    case(g, "two CONNECTs in one write: CONNACK 0 for the first, then closed",
         CONNECT(client_id="twice") + CONNECT(client_id="twice"), close_after(Exact(CONNACK(0))))
    case(g, "DISCONNECT then a QoS 1 PUBLISH in the same write: nothing handled after DISCONNECT",
         DISCONNECT + PUBLISH(NOWHERE, "x", qos=1, pid=5), CLOSE, "auth")

    # --- CONNECT: protocol name, level, flags, payload ---------------------------------------------------------
    g = "CONNECT protocol"
    for name in ["MQIsdp", "mqtt", "MQT", "MQTTT", "", "MQTU", "MQTT\x00", "\u00d1QTT"]:
        case(g, "protocol name %r (level 4) [MQTT-3.1.2-1]" % name, CONNECT(name=name), CLOSE)
    case(g, "protocol name MQIsdp level 3 (MQTT 3.1)", CONNECT(name="MQIsdp", level=3), CLOSE)
    case(g, "protocol name with invalid UTF-8", CONNECT(name=b"MQ\xffT"), CLOSE)
    for level in (0, 1, 2, 3, 5, 6, 255):
        case(g, "protocol level %d [MQTT-3.1.2-2]: CONNACK 1" % level, CONNECT(level=level), connack_close(1))
    case(g, "protocol level 5 with an MQTT 5 properties byte: CONNACK 1",
         packet(0x10, s("MQTT") + b"\x05\x02\x00\x3c\x00" + s("v5")), connack_close(1))
    case(g, "protocol level 3, nothing after the level: CONNACK 1", packet(0x10, s("MQTT") + b"\x03"),
         connack_close(1))

    g = "CONNECT flags"
    case(g, "reserved flag bit set [MQTT-3.1.2-3]", CONNECT(flags=0x03), CLOSE)
    case(g, "reserved flag bit alone [MQTT-3.1.2-3]", CONNECT(flags=0x01), CLOSE)
    case(g, "will QoS 1 without will flag [MQTT-3.1.2-13]", CONNECT(flags=0x0A), CLOSE)
    case(g, "will QoS 2 without will flag [MQTT-3.1.2-13]", CONNECT(flags=0x12), CLOSE)
    case(g, "will retain without will flag [MQTT-3.1.2-15]", CONNECT(flags=0x22), CLOSE)
    case(g, "will QoS 3 [MQTT-3.1.2-14]", CONNECT(will=("chatbus/room/w", "bye"), will_qos=3), CLOSE)
    case(g, "password without user name [MQTT-3.1.2-22]", CONNECT(flags=0x42), CLOSE)
    case(g, "password without user name, password present [MQTT-3.1.2-22]",
         packet(0x10, connect_body(flags=0x42) + s("pw")), CLOSE)
    case(g, "will flag set, no will fields [MQTT-3.1.2-9]", CONNECT(flags=0x06), CLOSE)
    case(g, "will flag set, will topic only [MQTT-3.1.2-9]", packet(0x10, connect_body(flags=0x06) + s("a/b")),
         CLOSE)
    case(g, "user name flag set, no user name [MQTT-3.1.2-19]", CONNECT(flags=0x82), CLOSE)
    case(g, "password flag set, no password [MQTT-3.1.2-21]", packet(0x10, connect_body(flags=0xC2) + s("u")),
         CLOSE)
    case(g, "user name flag clear, a user name present [MQTT-3.1.2-18]", packet(0x10, connect_body() + s("u")),
         CLOSE)
    case(g, "password flag clear, a password present [MQTT-3.1.2-20]",
         packet(0x10, connect_body(user="hostile") + s("pw")), CLOSE)
    case(g, "empty will topic [MQTT-4.7.3-1]", CONNECT(will=("", "bye")), CLOSE)
    case(g, "will topic with + [MQTT-4.7.1-1]", CONNECT(will=("chatbus/room/+", "bye")), CLOSE)
    case(g, "will topic with # [MQTT-4.7.1-1]", CONNECT(will=("chatbus/#", "bye")), CLOSE)
    case(g, "will topic over the topic limit", CONNECT(will=("a" * (MAX_TOPIC + 1), "bye")), CLOSE)

    g = "CONNECT client id"
    case(g, "client id over %d bytes: CONNACK 2" % MAX_CLIENT_ID, CONNECT(client_id="i" * (MAX_CLIENT_ID + 1)),
         connack_close(2))
    case(g, "client id of 4,000 bytes: CONNACK 2", CONNECT(client_id="i" * 4000), connack_close(2))
    case(g, "empty client id with clean session 0 [MQTT-3.1.3-8]: CONNACK 2", CONNECT(client_id="", clean=False),
         connack_close(2))
    case(g, "empty client id, clean session 0, with credentials: CONNACK 2",
         CONNECT(client_id="", clean=False, user="hostile", password="x"), connack_close(2))
    case(g, "client id of exactly %d bytes is accepted (control)" % MAX_CLIENT_ID,
         CONNECT(client_id="k" * MAX_CLIENT_ID), open_after(Exact(CONNACK(0))))
    case(g, "empty client id with clean session 1 is accepted [MQTT-3.1.3-6]", CONNECT(client_id=""),
         open_after(Exact(CONNACK(0))))
    case(g, "client id with U+0001 is accepted (MQTT-1.5.3: MAY close; docs/mqtt.md)", CONNECT(client_id="a\x01b"),
         open_after(Exact(CONNACK(0))))
    case(g, "client id with U+FEFF is accepted, not stripped [MQTT-1.5.3-3]", CONNECT(client_id="\ufeffid"),
         open_after(Exact(CONNACK(0))))

    g = "CONNECT credentials"
    for user, what in [("", "empty"), ("has space", "with a space"), ("a/b", "with a slash"), ("9lives", "digit first"),
                       ("n" * 33, "33 characters"), ("#", "'#'"), ("h\u00e9", "non-ASCII")]:
        case(g, "user name %s: CONNACK 4" % what, CONNECT(client_id="cred", user=user, password="x"),
             connack_close(4))
    case(g, "user name without password: CONNACK 4 (docs/mqtt.md)", CONNECT(client_id="cred", user="hostile"),
         connack_close(4))
    case(g, "wrong token: CONNACK 5", CONNECT(client_id="cred", user="hostile", password="0" * 64), connack_close(5))
    case(g, "unknown nick: CONNACK 5", CONNECT(client_id="cred", user="nosuchnick", password="0" * 64),
         connack_close(5))
    case(g, "empty password: CONNACK 5", CONNECT(client_id="cred", user="hostile", password=""), connack_close(5))
    case(g, "binary password of 4,000 bytes: CONNACK 5",
         CONNECT(client_id="cred", user="hostile", password=bytes(range(256)) * 15 + b"\xff" * 160),
         connack_close(5))

    # --- Invalid UTF-8 (1.5.3) in every string field -----------------------------------------------------------
    g = "invalid UTF-8"
    for what, bad in BAD_UTF8:
        case(g, "client id: %s" % what, CONNECT(client_id=bad), CLOSE)
        case(g, "user name: %s" % what, CONNECT(client_id="u8", user=bad, password="x"), CLOSE)
        case(g, "will topic: %s" % what, CONNECT(client_id="u8", will=(b"chatbus/room/" + bad, "bye")), CLOSE)
        case(g, "PUBLISH topic: %s" % what, PUBLISH(b"chatbus/room/" + bad, "x", qos=1, pid=2), CLOSE, "auth")
        case(g, "SUBSCRIBE filter: %s" % what, SUBSCRIBE(2, [(b"chatbus/room/" + bad, 0)]), CLOSE, "auth")
        case(g, "UNSUBSCRIBE filter: %s" % what, UNSUBSCRIBE(2, [b"chatbus/room/" + bad]), CLOSE, "auth")
    case(g, "PUBLISH topic with U+FFFF is accepted (MQTT-1.5.3: MAY close; docs/mqtt.md)",
         PUBLISH(NOWHERE + "\uffff", "x", qos=1, pid=2),
         open_after(Exact(PUBACK(2)), Err("unknown_topic", NOWHERE + "\uffff", 2)), "auth")

    # --- Topic names (4.7) in PUBLISH ---------------------------------------------------------------------------
    g = "topic names"
    for topic in ["chatbus/room/+", "chatbus/#", "+", "#", "chatbus/room/lob+by", "chatbus/room/lobby#", "",
                  "a" * (MAX_TOPIC + 1)]:
        case(g, "PUBLISH to %r [MQTT-3.3.2-2, 4.7.3-1]" % (topic[:24] + ("..." if len(topic) > 24 else "")),
             PUBLISH(topic, "x", qos=1, pid=6), CLOSE, "auth")
    case(g, "QoS 0 PUBLISH to an empty topic", PUBLISH("", "x"), CLOSE, "auth")
    long_ok = "chatbus/" + "t" * (MAX_TOPIC - len("chatbus/"))
    case(g, "PUBLISH to a topic of exactly %d bytes (control: unknown_topic)" % MAX_TOPIC,
         PUBLISH(long_ok, "x", qos=1, pid=6), open_after(Exact(PUBACK(6)), Err("unknown_topic", long_ok, 6)), "auth")

    # --- Topic filters (4.7.1) in SUBSCRIBE and UNSUBSCRIBE ---------------------------------------------------
    g = "topic filters"
    for f in ["a/#/b", "a#", "+a", "#/x", "a/b+", "a/+b/c", "##", "+#", "", "chatbus/room/#/x", "f" * (MAX_TOPIC + 1)]:
        case(g, "SUBSCRIBE %r [MQTT-4.7.1-2, 4.7.1-3]" % (f[:24] + ("..." if len(f) > 24 else "")),
             SUBSCRIBE(8, [(f, 0)]), CLOSE, "auth")
    case(g, "SUBSCRIBE a good filter then a bad one", SUBSCRIBE(8, [("chatbus/error", 0), ("a/#/b", 0)]), CLOSE,
         "auth")
    for f in ["a/#/b", "", "x+"]:
        case(g, "UNSUBSCRIBE %r" % f, UNSUBSCRIBE(8, [f]), CLOSE, "auth")
    case(g, "SUBSCRIBE '+/+/+' (valid filter, no chatbus topic): SUBACK 0x80 + unknown_topic",
         SUBSCRIBE(8, [("+/+/+", 0)]), open_after(Exact(SUBACK(8, [0x80])), Err("unknown_topic", "+/+/+", 8)),
         "auth")

    # --- SUBSCRIBE / UNSUBSCRIBE payloads ------------------------------------------------------------------------
    g = "SUBSCRIBE and UNSUBSCRIBE"
    case(g, "SUBSCRIBE with no filter [MQTT-3.8.3-3]", packet(0x82, u16(3)), CLOSE, "auth")
    case(g, "SUBSCRIBE QoS 3 [MQTT-3.8.3-4]", SUBSCRIBE(3, [("chatbus/error", 3)]), CLOSE, "auth")
    for q in (0x04, 0x08, 0x40, 0x80, 0xFC, 0xFF):
        case(g, "SUBSCRIBE with reserved bits %02X in the QoS byte [MQTT-3.8.3-4]" % q,
             SUBSCRIBE(3, [("chatbus/error", q)]), CLOSE, "auth")
    case(g, "SUBSCRIBE with %d filters (over the limit)" % (MAX_FILTERS + 1),
         SUBSCRIBE(3, [("chatbus/error", 0)] * (MAX_FILTERS + 1)), CLOSE, "auth")
    case(g, "SUBSCRIBE with %d filters (control: all granted)" % MAX_FILTERS,
         SUBSCRIBE(3, [("chatbus/error", 0)] * MAX_FILTERS), open_after(Exact(SUBACK(3, [0] * MAX_FILTERS))), "auth")
    case(g, "UNSUBSCRIBE with no filter [MQTT-3.10.3-2]", packet(0xA2, u16(3)), CLOSE, "auth")
    case(g, "UNSUBSCRIBE with %d filters (over the limit)" % (MAX_FILTERS + 1),
         UNSUBSCRIBE(3, ["chatbus/error"] * (MAX_FILTERS + 1)), CLOSE, "auth")
    case(g, "SUBSCRIBE QoS 2: granted 1 (docs/mqtt.md)", SUBSCRIBE(3, [("chatbus/error", 2)]),
         open_after(Exact(SUBACK(3, [1]))), "auth")
    case(g, "UNSUBSCRIBE a filter never subscribed: UNSUBACK [MQTT-3.10.4-5]", UNSUBSCRIBE(3, ["chatbus/room/zz"]),
         open_after(Exact(UNSUBACK(3))), "auth")

    g = "packet id 0"
    case(g, "QoS 1 PUBLISH with packet id 0 [MQTT-2.3.1-1]", PUBLISH(NOWHERE, "x", qos=1, pid=0), CLOSE, "auth")
    case(g, "SUBSCRIBE with packet id 0 [MQTT-2.3.1-1]", SUBSCRIBE(0, [("chatbus/error", 0)]), CLOSE, "auth")
    case(g, "UNSUBSCRIBE with packet id 0 [MQTT-2.3.1-1]", UNSUBSCRIBE(0, ["chatbus/error"]), CLOSE, "auth")
    case(g, "PUBACK with packet id 0", PUBACK(0), CLOSE, "auth")

    # --- Valid MQTT the gateway refuses: the answers of docs/mqtt.md ("Topics", "Errors") ------------------------
    g = "refused requests"
    for topic, status in [(NOWHERE, "unknown_topic"), ("$SYS/broker/load", "unknown_topic"),
                          ("chatbus/room/Bad Room!", "invalid_room"), ("chatbus/req/nosuch/m1", "unknown_topic"),
                          ("chatbus/req/who/bad msgid", "unknown_topic"), ("chatbus/dm/nosuchnick", "unknown_nick"),
                          ("chatbus/room/hostile-nowhere", "no_such_room"), ("chatbus/room/lobby", "not_member")]:
        case(g, "QoS 1 PUBLISH to %s: PUBACK + %s" % (topic, status), PUBLISH(topic, "x", qos=1, pid=11),
             open_after(Exact(PUBACK(11)), Err(status, topic, 11)), "auth")
    case(g, "QoS 1 PUBLISH with RETAIN and DUP: retain ignored, PUBACK + refusal",
         PUBLISH(NOWHERE, "x", qos=1, pid=12, retain=True, dup=True),
         open_after(Exact(PUBACK(12)), Err("unknown_topic", NOWHERE, 12)), "auth")
    case(g, "request payload that is not JSON: reply bad_request", PUBLISH("chatbus/req/who/m1", b"\xff{", qos=1,
                                                                            pid=13),
         open_after(Exact(PUBACK(13)), Pub("chatbus/req/who/m1", status="bad_request")), "auth")
    case(g, "request payload a JSON array: reply bad_request", PUBLISH("chatbus/req/rooms/m2", "[1,2]", qos=1, pid=13),
         open_after(Exact(PUBACK(13)), Pub("chatbus/req/rooms/m2", status="bad_request")), "auth")
    for f, status in [("chatbus/dm/watcher", "not_authorized"), ("chatbus/req/who/x", "not_authorized"),
                      ("chatbus/nowhere/#", "unknown_topic"), ("chatbus/room/Bad Room!", "invalid_room")]:
        case(g, "SUBSCRIBE %s: SUBACK 0x80 + %s" % (f, status), SUBSCRIBE(14, [(f, 1)]),
             open_after(Exact(SUBACK(14, [0x80])), Err(status, f, 14)), "auth")
    case(g, "anonymous QoS 1 PUBLISH to a room: PUBACK + not_authorized",
         PUBLISH("chatbus/room/lobby", "x", qos=1, pid=15),
         open_after(Exact(PUBACK(15)), Err("not_authorized", "chatbus/room/lobby", 15)), "anon")
    case(g, "anonymous SUBSCRIBE: SUBACK 0x80 + not_authorized", SUBSCRIBE(16, [("chatbus/room/lobby", 0)]),
         open_after(Exact(SUBACK(16, [0x80])), Err("not_authorized", "chatbus/room/lobby", 16)), "anon")

    # --- Wills and session take-over ------------------------------------------------------------------------------
    g = "wills and take-over"
    special(g, "will published when the gateway closes the connection for a protocol violation [MQTT-3.1.2-8]",
            will_on_violation)
    special(g, "will discarded after DISCONNECT [MQTT-3.14.4-3]", will_discarded_on_disconnect)
    special(g, "the same nick and client id again: the first connection is closed [MQTT-3.1.4-2]", take_over)
    special(g, "an anonymous CONNECT with a nick's client id takes nothing over (docs/mqtt.md)", no_take_over)

    # --- Floods ----------------------------------------------------------------------------------------------------
    g = "floods"
    special(g, "%d PINGREQs in one write (over the packet-rate burst): answered up to the burst, then closed"
            % (PACKET_BURST + 1000), flood_over_burst, "auth")
    special(g, "1,500 PINGREQs in one write (within the burst): every one answered", flood_within_burst, "auth")

    # --- Slow cases: keep-alive and the wait for CONNECT; EOF is the event, the bounds are the spec's ------------
    g = "slow"
    special(g, "a connection that sends nothing: closed after %.0f s" % CONNECT_WAIT_S, silent_no_connect, slow=True)
    special(g, "slow-loris CONNECT, one byte every 0.5 s: closed %.0f s after the connection" % CONNECT_WAIT_S,
            slow_loris_connect, slow=True)
    special(g, "a fixed header announcing 100 bytes of CONNECT, then nothing: closed after %.0f s" % CONNECT_WAIT_S,
            partial_connect, slow=True)
    special(g, "keep-alive 1 s, then silence: closed within 1.5 s + the sweep [MQTT-3.1.2-24]", silent_keepalive,
            slow=True)
    special(g, "keep-alive 1 s, then a PUBLISH one byte every 0.25 s: a partial packet is no Control Packet, closed "
            "as silent [MQTT-3.1.2-24]", slow_loris_publish, slow=True)
    special(g, "keep-alive 1 s, PINGREQ every 0.5 s for 4 s: stays open (control)", pinging_keepalive, slow=True)


def flood_over_burst(ctx, conn):
    n = PACKET_BURST + 1000
    conn.send(PINGREQ * n)
    deadline = time.monotonic() + CASE_TIMEOUT
    answered = 0
    while True:
        p = conn.packet(deadline)
        if p is None:
            break
        check(p.raw == PINGRESP, "unexpected %r" % p)
        answered += 1
    # The burst counts every packet, CONNECT included; the bucket refills at 1,000 a second while the burst is
    # read, so a few more may pass.
    check(PACKET_BURST - 1 <= answered <= PACKET_BURST + 100,
          "%d of %d PINGREQs answered before the close, expected the burst of %d less CONNECT" % (
              answered, n, PACKET_BURST))


def flood_within_burst(ctx, conn):
    n = 1500
    conn.send(PINGREQ * n)
    deadline = time.monotonic() + CASE_TIMEOUT
    for i in range(n):
        p = conn.packet(deadline)
        check(p is not None, "closed after %d of %d PINGRESPs" % (i, n))
        check(p.raw == PINGRESP, "unexpected %r" % p)
    Expect(then="open").check(conn)


WILLS = iter(range(1, 1 << 30))


def witness_dm(ctx, what):
    """The next DM to the nick witness (JSON), waited for with a deadline."""
    _, dm, _ = ctx.witness.next(timeout=CASE_TIMEOUT, topic="chatbus/dm/witness")
    check(isinstance(dm, dict) and dm.get("type") == "dm", "%s: not a DM: %r" % (what, dm))
    return dm


def connect_with_will(ctx, conn, cid, text):
    conn.send(CONNECT(client_id=cid, user="hostile", password=ctx.token, will=("chatbus/dm/witness", text)))
    p = conn.packet(time.monotonic() + CASE_TIMEOUT)
    check(p is not None and p.raw == CONNACK(0), "CONNACK 0 expected, got %r" % p)


def will_on_violation(ctx, conn):
    text = "will %d" % next(WILLS)
    connect_with_will(ctx, conn, "will-violation", text)
    conn.send(b"\xf0\x00")  # reserved type 15
    CLOSE.check(conn)
    dm = witness_dm(ctx, "the will")
    check_eq((dm.get("from"), dm.get("text")), ("hostile", text), "the will's DM")


def will_discarded_on_disconnect(ctx, conn):
    text = "will %d" % next(WILLS)
    connect_with_will(ctx, conn, "will-disconnect", text)
    conn.send(DISCONNECT)
    CLOSE.check(conn)
    # A will would have reached the broker before this DM, which is sent after the EOF: the marker coming first
    # proves there was none.
    marker = "marker %d" % next(WILLS)
    ctx.speaker.publish("chatbus/dm/witness", marker, qos=1, timeout=CASE_TIMEOUT)
    dm = witness_dm(ctx, "the marker")
    check_eq((dm.get("from"), dm.get("text")), ("speaker", marker), "the first DM after DISCONNECT")


def take_over(ctx, conn):
    conn.send(CONNECT(client_id="taken", user="hostile", password=ctx.token))
    p = conn.packet(time.monotonic() + CASE_TIMEOUT)
    check(p is not None and p.raw == CONNACK(0), "CONNACK 0 expected, got %r" % p)
    second = Conn(ctx.gw)
    try:
        second.send(CONNECT(client_id="taken", user="hostile", password=ctx.token))
        open_after(Exact(CONNACK(0))).check(second)
    finally:
        second.close()
    CLOSE.check(conn)


def no_take_over(ctx, conn):
    conn.send(CONNECT(client_id="kept", user="hostile", password=ctx.token))
    p = conn.packet(time.monotonic() + CASE_TIMEOUT)
    check(p is not None and p.raw == CONNACK(0), "CONNACK 0 expected, got %r" % p)
    second = Conn(ctx.gw)
    try:
        second.send(CONNECT(client_id="kept"))
        open_after(Exact(CONNACK(0))).check(second)
    finally:
        second.close()
    open_after().check(conn)


def expect_eof_between(conn, t0, lo, hi, what):
    """EOF (and nothing else) at lo..hi seconds after t0."""
    p = conn.packet(t0 + hi)
    took = time.monotonic() - t0
    check(p is None, "unexpected %r" % p)
    check(took >= lo, "%s: closed after %.2f s, before %.2f s" % (what, took, lo))


def dribble(conn, data, every, t0, hi):
    """Sends `data` one byte every `every` s until EOF, or until hi s after t0; returns when EOF came."""
    for i in range(len(data)):
        conn.send(data[i:i + 1])
        try:
            p = conn.packet(min(time.monotonic() + every, t0 + hi))
        except NoEof:
            if time.monotonic() >= t0 + hi:
                raise
            continue
        check(p is None, "unexpected %r" % p)
        return time.monotonic() - t0
    raise AssertionError("the whole packet was sent without the connection being closed")


def silent_no_connect(ctx, conn):
    expect_eof_between(conn, conn.t0, CONNECT_WAIT_S - 0.1, CONNECT_WAIT_S + SWEEP_S + SLACK_S, "no CONNECT")


def slow_loris_connect(ctx, conn):
    data = CONNECT(client_id="loris" * 8)  # 54 bytes: 27 s at this pace
    took = dribble(conn, data, 0.5, conn.t0, CONNECT_WAIT_S + SWEEP_S + SLACK_S)
    check(took >= CONNECT_WAIT_S - 0.1, "closed after %.2f s" % took)


def partial_connect(ctx, conn):
    conn.send(b"\x10\x64" + s("MQTT"))
    expect_eof_between(conn, conn.t0, CONNECT_WAIT_S - 0.1, CONNECT_WAIT_S + SWEEP_S + SLACK_S, "partial CONNECT")


def connect_ka1(ctx, conn, cid):
    t0 = time.monotonic()
    conn.send(CONNECT(client_id=cid, ka=1, user="hostile", password=ctx.token))
    p = conn.packet(time.monotonic() + CASE_TIMEOUT)
    check(p is not None and p.raw == CONNACK(0), "CONNACK 0 expected, got %r" % p)
    return t0


def silent_keepalive(ctx, conn):
    t0 = connect_ka1(ctx, conn, "ka-silent")
    expect_eof_between(conn, t0, 1.5, 1.5 + SWEEP_S + SLACK_S, "keep-alive 1 s")


def slow_loris_publish(ctx, conn):
    t0 = connect_ka1(ctx, conn, "ka-loris")
    data = PUBLISH(NOWHERE, "y" * 40, qos=1, pid=9)  # 59 bytes: 15 s at this pace
    took = dribble(conn, data, 0.25, t0, 1.5 + SWEEP_S + SLACK_S)
    check(took >= 1.5, "closed after %.2f s" % took)


def pinging_keepalive(ctx, conn):
    connect_ka1(ctx, conn, "ka-ping")
    t1 = time.monotonic()
    n = 0
    while time.monotonic() - t1 < 4.0:
        conn.send(PINGREQ)
        p = conn.packet(time.monotonic() + CASE_TIMEOUT)
        check(p is not None and p.raw == PINGRESP, "PINGRESP %d expected, got %r" % (n + 1, p))
        n += 1
        try:  # pacing: the next PINGREQ 0.5 s later; anything the gateway sends meanwhile is a failure
            p = conn.packet(time.monotonic() + 0.5)
            raise AssertionError("unexpected %r" % p if p else "closed after %d PINGRESPs" % n)
        except NoEof:
            pass
    Expect(then="open").check(conn)


# ---------------------------------------------------------------------------------------------------------------


class Ctx:
    pass


def run_case(ctx, i, c):
    conn = Conn(ctx.gw)
    conn.t0 = time.monotonic()
    try:
        if c.pre:
            cid = "hostile-%03d" % i
            if c.pre == "auth":
                conn.send(CONNECT(client_id=cid, user="hostile", password=ctx.token))
            else:
                conn.send(CONNECT(client_id=cid))
            p = conn.packet(time.monotonic() + CASE_TIMEOUT)
            if p is None or p.raw != CONNACK(0):
                raise AssertionError("no CONNACK 0 before the case: %r" % p)
        if c.run:
            c.run(ctx, conn)
        else:
            for chunk in c.send:
                conn.send(chunk)
            c.expect.check(conn)
    finally:
        conn.close()


def attempt(ctx, i, c, label):
    try:
        run_case(ctx, i, c)
    except Exception as e:  # noqa: BLE001 (each case's failure is recorded, then the next case runs)
        c.failures.append("%s: %s: %s" % (label, type(e).__name__, e))
        if os.environ.get("CHATBUS_TEST_VERBOSE"):
            traceback.print_exc()


def still_serving(ctx, tag):
    """Another session is served: a request round trip, and a room message from one paho client to the other."""
    check(ctx.gw.proc.alive(), "the gateway exited (%s)" % ctx.gw.proc.popen.returncode)
    who = ctx.watcher.request("who", {"room": "lobby"}, timeout=CASE_TIMEOUT)
    check_eq((who.get("status"), sorted(who.get("members", []))), ("ok", ["speaker", "watcher"]),
             "who lobby (%s)" % tag)
    text = "still serving %s" % tag
    ctx.speaker.publish("chatbus/room/lobby", text, qos=1, timeout=CASE_TIMEOUT)
    deadline = time.monotonic() + CASE_TIMEOUT
    while True:
        _, ev, _ = ctx.watcher.next(timeout=max(0.01, deadline - time.monotonic()), topic="chatbus/room/lobby")
        if isinstance(ev, dict) and ev.get("text") == text:
            check_eq((ev.get("nick"), ev.get("kind")), ("speaker", "message"), "the event (%s)" % tag)
            return


def main():
    t_start = time.monotonic()
    serving_failures = []
    rss = []
    with Cluster(workers=1, log_level="info", broker_args=list(NO_RATE_LIMITS)) as cl:
        ctx = Ctx()
        ctx.gw = Gateway(cl, "--max-packet", str(MAX_PACKET))
        users = {}
        for nick in ("hostile", "watcher", "speaker", "witness"):
            u = cl.user(nick)
            u.register(nick)
            users[nick] = u.token()
        ctx.token = users["hostile"]
        build_cases(ctx.token)
        names = [c.group + "/" + c.name for c in CASES]
        check(len(set(names)) == len(names), "two cases with one name")
        # The nick `hostile` stays attached through this session, so the cases' CONNECTs need no broker round
        # trip; watcher and speaker are the sessions that must go on being served.
        anchor = PahoClient(ctx.gw, "hostile", users["hostile"], client_id="anchor")
        ctx.watcher = PahoClient(ctx.gw, "watcher", users["watcher"], client_id="watcher")
        ctx.speaker = PahoClient(ctx.gw, "speaker", users["speaker"], client_id="speaker")
        ctx.witness = PahoClient(ctx.gw, "witness", users["witness"], client_id="witness")  # receives the wills
        for p in (anchor, ctx.watcher, ctx.speaker, ctx.witness):
            check_eq(p.connect()[0], 0, "CONNACK of a paho client")
        check_eq(ctx.speaker.subscribe(["chatbus/room/lobby"]), [1], "speaker joins lobby")
        check_eq(ctx.watcher.subscribe(["chatbus/room/lobby"]), [1], "watcher joins lobby")
        check_eq(ctx.witness.subscribe(["chatbus/dm/witness"]), [1], "witness follows its DMs")
        still_serving(ctx, "at the start")

        slow = [(i, c) for i, c in enumerate(CASES) if c.slow]
        fast = [(i, c) for i, c in enumerate(CASES) if not c.slow]
        threads = [threading.Thread(target=attempt, args=(ctx, i, c, "once"), daemon=True) for i, c in slow]
        for t in threads:
            t.start()
        for n in range(PASSES):
            t1 = time.monotonic()
            label = "warm-up pass" if n == 0 else "pass %d" % (n + 1)
            for k, (i, c) in enumerate(fast):
                attempt(ctx, i, c, label)
                if (k + 1) % CHECK_EVERY == 0 or k + 1 == len(fast):
                    try:
                        still_serving(ctx, "%s, after case %d" % (label, k + 1))
                    except Exception as e:  # noqa: BLE001
                        serving_failures.append("%s, after case %d: %s" % (label, k + 1, e))
            rss.append(rss_kb(ctx.gw.proc.pid))
            print("%-13s %d cases in %.1f s, gateway RSS %d kB" % (label, len(fast), time.monotonic() - t1, rss[-1]),
                  flush=True)
        for t in threads:
            t.join(CONNECT_WAIT_S + 10)
            if t.is_alive():
                serving_failures.append("a slow case did not end")
        dropped = {}
        try:
            still_serving(ctx, "at the end")
            status = ctx.watcher.request("status", timeout=CASE_TIMEOUT)
            dropped = status.get("gateway", {}).get("dropped", {})
        except Exception as e:  # noqa: BLE001
            serving_failures.append("at the end: %s" % e)
        print("gateway status: dropped %s" % json.dumps(dropped), flush=True)
        # Counted as docs/mqtt.md says: one flood per pass, the five slow cases that end by a timer, and no
        # slow consumer (every case reads what it is sent).
        counted = {k: dropped.get(k) for k in ("flood", "keepalive", "slow_consumer")}
        if counted != {"flood": PASSES, "keepalive": 5, "slow_consumer": 0}:
            serving_failures.append("status dropped %r, expected flood %d, keepalive 5, slow_consumer 0" % (
                dropped, PASSES))
        if dropped.get("malformed", 0) < 200 * PASSES:
            serving_failures.append("status dropped.malformed %r: fewer than the malformed cases" % dropped)
        for p in (anchor, ctx.watcher, ctx.speaker, ctx.witness):
            p.close()
        if any(c.failures for c in CASES) or serving_failures:
            print(ctx.gw.proc.log_text()[-6000:])

    growth = max(rss[1:]) - rss[0]
    print("gateway RSS after the warm-up pass %d kB, after %d more passes %s kB: growth %d kB (limit %d kB)" % (
        rss[0], PASSES - 1, rss[1:], growth, RSS_GROWTH_LIMIT_KB))
    by_group = {}
    for c in CASES:
        tried, ok = by_group.get(c.group, (0, 0))
        by_group[c.group] = (tried + 1, ok + (0 if c.failures else 1))
    for gname, (tried, ok) in by_group.items():
        print("  %-26s %4d tried, %4d as specified" % (gname, tried, ok))
    for c in CASES:
        if c.failures:
            print("NOT AS SPECIFIED: %s / %s (expected: %s)\n    %s" % (
                c.group, c.name, "see the case" if c.run else repr(c.expect), "\n    ".join(c.failures[:2])))
    for f in serving_failures:
        print("GATEWAY NOT SERVING: %s" % f)
    if growth >= RSS_GROWTH_LIMIT_KB:
        print("GATEWAY RSS GREW by %d kB across the passes after the warm-up (limit %d kB)" % (
            growth, RSS_GROWTH_LIMIT_KB))
    n = len(CASES)
    m = sum(1 for c in CASES if not c.failures)
    print("%d hostile MQTT inputs tried, %d handled as specified" % (n, m))
    print("(%.1f s)" % (time.monotonic() - t_start))
    ok = m == n and n >= 150 and not serving_failures and growth < RSS_GROWTH_LIMIT_KB
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
