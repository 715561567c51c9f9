#!/usr/bin/env python3
"""Hostile input (issue #6): hundreds of distinct malformed or out-of-order messages against a live broker (client,
worker and events ports) and a real worker (driven by a fake broker, a raw ROUTER on its own port), then floods.
Every input must get the documented answer of docs/protocol.md ("Decoding rules", status table) or a documented
drop (counted in STATUS dropped.malformed, or documented as ignored), the processes stay up, and their RSS stays
flat across the floods. Prints "N hostile inputs tried, M answered as documented" and fails unless M == N."""
import chatbus_harness  # noqa: F401 (first: it makes pyzmq and msgpack importable)
import os
import random
import subprocess
import sys
import threading
import time
import traceback

import msgpack
import zmq

from chatbus_harness import (NO_RATE_LIMITS, STATUS, T, TYPE_NAME, Cluster, Proc, RawClient, decode, encode,
                             bind_any_port, room_topic, rss_kb)

HDR = b"CB\x01"
BOMB_MAP = bytes.fromhex("88dfffffff8b")          # a map claiming 2^32-1 entries inside a map
BOMB_ARRAY = bytes.fromhex("81a57465787473ddffffffff")  # {"texts": array of 2^32-1}
BOMB_STR = bytes.fromhex("81a3726964dbffffffff")     # {"rid": str of 2^32-1 bytes}
DEEP = b"\x81\xa5texts" + b"\x91" * 40 + b"\xa1x"    # nesting far over 16
MAX_FRAME = 256 * 1024
RSS_GROWTH_LIMIT_KB = 20 * 1024
# On the ASan build (scripts/test.sh sets CHATBUS_SANITIZED) freed memory sits in ASan's quarantine (up to
# 256 MB) instead of being reused, so RSS measures the quarantine, not the broker: the bound is 300 MB there,
# which still catches a leak per frame; the normal build checks the real bound.
if os.environ.get("CHATBUS_SANITIZED"):
    RSS_GROWTH_LIMIT_KB = 300 * 1024

KNOWN = {v for v in T.values()}
CLIENT_REQUESTS = ["HELLO", "REGISTER", "UNREGISTER", "JOIN", "LEAVE", "SEND", "DM", "WHO", "ROOMS", "HISTORY",
                   "LISTEN", "PING", "STATUS"]
# Field types of every client request (docs/protocol.md, message table).
FIELDS = {
    "HELLO": {"rid": "u64", "gateway": "bool"},
    "REGISTER": {"rid": "u64", "nick": "str"},
    "UNREGISTER": {"rid": "u64", "nick": "str", "token": "str"},
    "JOIN": {"rid": "u64", "nick": "str", "token": "str", "room": "str"},
    "LEAVE": {"rid": "u64", "nick": "str", "token": "str", "room": "str"},
    "SEND": {"rid": "u64", "nick": "str", "token": "str", "room": "str", "texts": "[str]"},
    "DM": {"rid": "u64", "nick": "str", "token": "str", "to": "str", "text": "str"},
    "WHO": {"rid": "u64", "room": "str"},
    "ROOMS": {"rid": "u64"},
    "HISTORY": {"rid": "u64", "room": "str", "last": "u64", "since": "u64"},
    "LISTEN": {"rid": "u64", "nick": "str", "token": "str"},
    "PING": {"rid": "u64"},
    "STATUS": {"rid": "u64"},
}
WRONG = {
    "u64": [-1, 1.5, "7", [7], {"a": 1}, True, None],
    "str": [5, ["x"], {"x": 1}, True, None, 2.5],
    "[str]": ["x", 5, [5], [None], [["x"]], {"x": "y"}, None],
    "bool": [1, 0, "true", [True], {"a": True}, None],
}


class Tally:
    def __init__(self):
        self.tried = 0
        self.ok = 0
        self.failures = []
        self.section = ""

    def case(self, what, fn):
        self.tried += 1
        try:
            fn()
            self.ok += 1
        except Exception as e:  # noqa: BLE001 (every failure is reported, then the next case runs)
            self.failures.append("%s / %s: %s" % (self.section, what, e))
            if os.environ.get("CHATBUS_TEST_VERBOSE"):
                traceback.print_exc()


def expect_eq(got, want, what):
    if got != want:
        raise AssertionError("%s: got %r, expected %r" % (what, got, want))


def pack_raw_str(body):
    """msgpack with Python bytes packed as msgpack str (to put invalid UTF-8 in a str field)."""
    return msgpack.packb(body, use_bin_type=False)


# ---------------------------------------------------------------------------------------------------------------
# Client port

class ClientProbe:
    """One DEALER that is nobody's listener: after each hostile frame, the next frame it receives must be the
    documented answer (or, for a documented drop, the answer to a PING probe sent right after)."""

    def __init__(self, cluster):
        self.c = cluster
        self.raw = RawClient(cluster.client_ep)
        self.raw.sock.setsockopt(zmq.RCVHWM, 0)
        self.rid = 50000

    def next_rid(self):
        self.rid += 1
        return self.rid

    def answer(self, frame, want_type, want_status, rids, timeout=5.0):
        """frame: one frame, or a list of them sent as one multipart message."""
        if isinstance(frame, list):
            self.raw.sock.send_multipart(frame)
        else:
            self.raw.send_raw(frame)
        t, body = decode(self.raw.recv_raw(timeout))
        if t != want_type or body.get("status") != want_status or body.get("rid") not in rids:
            raise AssertionError("answer (%s, %s, rid %r), expected (%s, %s, rid in %r): %r" % (
                TYPE_NAME.get(t, hex(t)), _sname(body.get("status")), body.get("rid"),
                TYPE_NAME.get(want_type, hex(want_type)), _sname(want_status), rids, body))
        if want_status != 0 and not body.get("error"):
            raise AssertionError("empty error text: %r" % body)
        return body

    def dropped(self, send, counted=True):
        """send() emits something that must get no answer at all; counted: dropped.malformed grows by one."""
        before = self.malformed()
        send()
        rid = self.next_rid()
        self.raw.send_raw(encode(T["PING"], {"rid": rid}))
        t, body = decode(self.raw.recv_raw(5))
        if (t, body.get("rid")) != (T["PING_REPLY"], rid):
            raise AssertionError("answered %s %r, expected no answer (then the PING reply)" % (
                TYPE_NAME.get(t, hex(t)), body))
        after = self.malformed()
        expect_eq(after - before, 1 if counted else 0, "dropped.malformed growth")

    def malformed(self):
        rid = self.next_rid()
        self.raw.send_raw(encode(T["STATUS"], {"rid": rid}))
        t, body = decode(self.raw.recv_raw(5))
        if (t, body.get("rid")) != (T["STATUS_REPLY"], rid):
            raise AssertionError("expected STATUS_REPLY, got %s %r" % (TYPE_NAME.get(t, hex(t)), body))
        return body["dropped"]["malformed"]


def _sname(s):
    return next((k for k, v in STATUS.items() if v == s), repr(s))


def client_port(c, tally, users):
    p = ClientProbe(c)
    alice_tok = users["alice"]
    ERR = T["ERROR"]

    tally.section = "client: header"
    # Truncated frames and wrong signatures: ERROR bad_request, rid 0.
    for f in [b"", b"C", b"CB", b"CB\x01", b"\x00", b"\x00\x00\x00", b"\xff" * 3, b"XB\x01\x01\x80",
              b"CX\x01\x01\x80", b"cb\x01\x01\x80", b"BC\x01\x01\x80", b"\x00\x00\x01\x01\x80",
              b"C\x00\x01\x01\x80", b"CB ", b"\x43\x42", b"GET / HTTP/1.1\r\n\r\n", b"\x16\x03\x01\x02\x00",
              b"XB\x02\x01" + msgpack.packb({"rid": 9}), b"XB\x01\x7e" + msgpack.packb({"rid": 9})]:
        tally.case("frame %r" % f[:12], lambda f=f: p.answer(f, ERR, STATUS["bad_request"], (0,)))
    # Wrong versions: ERROR bad_version, for a known, an unknown and a missing type; the rid when readable.
    for v in (0, 2, 3, 0x7F, 0x80, 0xFF):
        for typ, body, rid in ((0x01, msgpack.packb({"rid": 9}), 9), (0xEE, b"\x80", 0), (0x0D, b"", 0)):
            f = b"CB" + bytes([v, typ]) + body
            tally.case("version %d type 0x%02x" % (v, typ),
                       lambda f=f, rid=rid: p.answer(f, ERR, STATUS["bad_version"], (rid,)))
    # Every type code the table does not list: ERROR unknown_type, with the rid.
    for code in range(256):
        if code in KNOWN:
            continue
        f = HDR + bytes([code]) + msgpack.packb({"rid": 7})
        tally.case("type code 0x%02x" % code, lambda f=f: p.answer(f, ERR, STATUS["unknown_type"], (7,)))
    # Known types a client never sends (replies, notifications from the broker, worker and event messages).
    for name in ("ERROR", "HELLO_REPLY", "JOIN_REPLY", "STATUS_REPLY", "DM_DELIVER", "MEMBERSHIP", "LISTEN_END",
                 "W_READY", "W_WELCOME", "W_HEARTBEAT", "W_DISCONNECT", "W_REQUEST", "W_REPLY", "W_STATE",
                 "W_RELEASE", "EVENT", "SYNC"):
        f = encode(T[name], {"rid": 8})
        tally.case("client sends %s" % name, lambda f=f: p.answer(f, ERR, STATUS["unknown_type"], (8,)))

    tally.section = "client: bodies"
    # Bodies that are not one msgpack map: the request's own reply type, bad_request, rid 0.
    bad_bodies = [("empty", b""), ("array", b"\x90"), ("int", b"\x01"), ("nil", b"\xc0"), ("str", b"\xa3abc"),
                  ("bin", b"\xc4\x01x"), ("truncated map", b"\x82\xa3rid"), ("map bomb", BOMB_MAP),
                  ("array bomb", BOMB_ARRAY), ("str bomb", BOMB_STR), ("deep", DEEP),
                  ("reserved byte", b"\xc1"), ("two maps", b"\x80\x80"),
                  ("1,025 entries", b"\xde\x04\x01" + b"".join(msgpack.packb("k%d" % i) + b"\x00"
                                                              for i in range(1025)))]
    for name in CLIENT_REQUESTS:
        for what, body in bad_bodies:
            f = HDR + bytes([T[name]]) + body
            tally.case("%s with %s body" % (name, what),
                       lambda f=f, name=name: p.answer(f, T[name] | 0x80, STATUS["bad_request"], (0,)))
    # Trailing bytes after a readable map: bad_request with the rid.
    for name in ("HELLO", "SEND", "STATUS"):
        f = encode(T[name], {"rid": 31}) + b"junk"
        tally.case("%s with trailing bytes" % name,
                   lambda f=f, name=name: p.answer(f, T[name] | 0x80, STATUS["bad_request"], (31,)))

    tally.section = "client: field types"
    # Every field of every request with values of the wrong type: bad_request in the request's reply type.
    base = {"rid": 0, "nick": "alice", "token": alice_tok, "room": "hostile", "to": "alice", "text": "t",
            "texts": ["t"], "last": 1, "since": 0, "gateway": False}
    for name, fields in FIELDS.items():
        for field, ftype in fields.items():
            for bad in WRONG[ftype]:
                body = {k: base[k] for k in fields}
                rid = p.next_rid()
                body["rid"] = rid
                body[field] = bad
                want_rids = (0,) if field == "rid" else (rid,)
                f = encode(T[name], body)
                tally.case("%s.%s = %r" % (name, field, bad),
                           lambda f=f, name=name, want_rids=want_rids:
                           p.answer(f, T[name] | 0x80, STATUS["bad_request"], want_rids))

    tally.section = "client: limits"
    big_texts = {"rid": 41, "nick": "alice", "token": alice_tok, "room": "r", "texts": ["t"] * 1025}
    for what, f, status, rids, rtype in [
        ("1,025 texts", encode(T["SEND"], big_texts), "bad_request", (41,), T["SEND_REPLY"]),
        ("65,537-byte nick", encode(T["REGISTER"], {"rid": 42, "nick": "a" * 65537}), "bad_request", (42,),
         T["REGISTER_REPLY"]),
        ("65,537-byte bin", encode(T["DM"], {"rid": 43, "text": b"x" * 65537}), "bad_request", (43,),
         T["DM_REPLY"]),
        # Over max_frame: the request's reply type, and the rid read from the first max_frame bytes.
        ("frame of max_frame + 1", HDR + b"\x01" + b"\x80" + b"\x00" * (MAX_FRAME - 4), "too_large", (0,),
         T["HELLO_REPLY"]),
        ("300 KB SEND", encode(T["SEND"], dict(big_texts, texts=["a" * 60000] * 5, rid=44)), "too_large", (44,),
         T["SEND_REPLY"]),
        ("300 KB DM_ACK", encode(T["DM_ACK"], {"nick": "alice", "pad": ["a" * 60000] * 5}), None, None, None),
    ]:
        if status is None:  # a notification: never answered, counted in refused.too_large, not malformed
            tally.case(what, lambda f=f: p.dropped(lambda: p.raw.send_raw(f), counted=False))
            continue
        tally.case(what, lambda f=f, status=status, rids=rids, rtype=rtype: p.answer(f, rtype, STATUS[status], rids))

    tally.section = "client: values"
    # Well-typed requests with values the rules refuse: the documented status.
    tok = alice_tok
    value_cases = [
        ("REGISTER", {}, "invalid_nick"), ("REGISTER", {"nick": ""}, "invalid_nick"),
        ("REGISTER", {"nick": "a" * 33}, "invalid_nick"), ("REGISTER", {"nick": "1abc"}, "invalid_nick"),
        ("REGISTER", {"nick": "_x"}, "invalid_nick"), ("REGISTER", {"nick": "a b"}, "invalid_nick"),
        ("REGISTER", {"nick": "al\u00efce"}, "invalid_nick"), ("REGISTER", {"nick": "a\x00"}, "invalid_nick"),
        ("REGISTER", {"nick": "a/b"}, "invalid_nick"), ("REGISTER", {"nick": "x" * 60000}, "invalid_nick"),
        ("REGISTER", {"nick": "ALICE"}, "nick_taken"), ("REGISTER", {"nick": "alice"}, "nick_taken"),
        ("REGISTER", {"nick": "broker"}, "reserved_name"), ("REGISTER", {"nick": "SYSTEM"}, "reserved_name"),
        ("REGISTER", {"nick": "Admin"}, "reserved_name"), ("REGISTER", {"nick": "root"}, "reserved_name"),
        ("REGISTER", {"nick": "ChatBus"}, "reserved_name"), ("REGISTER", {"nick": "server"}, "reserved_name"),
        ("JOIN", {"nick": "alice", "room": "r"}, "bad_token"),
        ("JOIN", {"nick": "alice", "token": "0" * 64, "room": "r"}, "bad_token"),
        ("JOIN", {"nick": "alice", "token": tok.upper(), "room": "r"}, "bad_token"),
        ("JOIN", {"nick": "alice", "token": tok[:-1], "room": "r"}, "bad_token"),
        ("JOIN", {"nick": "alice", "token": tok + "0", "room": "r"}, "bad_token"),
        ("JOIN", {"nick": "alice", "token": "x" * 60000, "room": "r"}, "bad_token"),
        ("JOIN", {"nick": "nobody", "token": tok, "room": "r"}, "not_registered"),
        ("JOIN", {"token": tok, "room": "r"}, "not_registered"),
        ("JOIN", {"nick": "alice", "token": tok}, "invalid_room"),
        ("JOIN", {"nick": "alice", "token": tok, "room": "a" * 65}, "invalid_room"),
        ("JOIN", {"nick": "alice", "token": tok, "room": ".dot"}, "invalid_room"),
        ("JOIN", {"nick": "alice", "token": tok, "room": "a/b"}, "invalid_room"),
        ("JOIN", {"nick": "alice", "token": tok, "room": "a\x00b"}, "invalid_room"),
        ("JOIN", {"nick": "alice", "token": tok, "room": "caf\u00e9"}, "invalid_room"),
        ("JOIN", {"nick": "alice", "token": tok, "room": "../etc"}, "invalid_room"),
        ("LEAVE", {"nick": "alice", "token": tok, "room": "never-joined"}, "not_member"),
        ("LEAVE", {"nick": "alice", "token": tok, "room": ""}, "invalid_room"),
        ("SEND", {"nick": "alice", "token": tok, "room": "hostile"}, "invalid_text"),
        ("SEND", {"nick": "alice", "token": tok, "room": "hostile", "texts": []}, "invalid_text"),
        ("SEND", {"nick": "alice", "token": tok, "room": "hostile", "texts": [""]}, "invalid_text"),
        ("SEND", {"nick": "alice", "token": tok, "room": "hostile", "texts": ["ok", "bell\x07"]}, "invalid_text"),
        ("SEND", {"nick": "alice", "token": tok, "room": "hostile", "texts": ["del\x7f"]}, "invalid_text"),
        ("SEND", {"nick": "alice", "token": tok, "room": "hostile", "texts": ["x" * 4097]}, "text_too_long"),
        ("SEND", {"nick": "alice", "token": tok, "room": "hostile", "texts": ["t"] * 65}, "batch_too_large"),
        ("SEND", {"nick": "alice", "token": tok, "room": "no-such-room-here", "texts": ["t"]}, "no_such_room"),
        ("SEND", {"nick": "bob", "token": users["bob"], "room": "hostile", "texts": ["t"]}, "not_member"),
        ("SEND", {"nick": "alice", "token": tok, "room": "", "texts": ["t"]}, "invalid_room"),
        ("DM", {"nick": "alice", "token": tok, "to": "nobody", "text": "t"}, "unknown_nick"),
        ("DM", {"nick": "alice", "token": tok, "to": "", "text": "t"}, "unknown_nick"),
        ("DM", {"nick": "alice", "token": tok, "to": "bob", "text": ""}, "invalid_text"),
        ("DM", {"nick": "alice", "token": tok, "to": "bob", "text": "nul\x00"}, "invalid_text"),
        ("DM", {"nick": "alice", "token": tok, "to": "bob", "text": "y" * 4097}, "text_too_long"),
        ("DM", {"nick": "alice", "token": "f" * 64, "to": "bob", "text": "t"}, "bad_token"),
        ("WHO", {}, "invalid_room"), ("WHO", {"room": "nowhere-at-all"}, "no_such_room"),
        ("WHO", {"room": "x" * 1000}, "invalid_room"),
        ("HISTORY", {"room": "nowhere-at-all"}, "no_such_room"), ("HISTORY", {"room": "-"}, "invalid_room"),
        ("LISTEN", {"nick": "alice", "token": "bad"}, "bad_token"), ("LISTEN", {"nick": "ghost"}, "not_registered"),
        ("UNREGISTER", {"nick": "alice", "token": "bad"}, "bad_token"),
        ("UNREGISTER", {"nick": "ghost", "token": tok}, "not_registered"),
    ]
    for name, body, status in value_cases:
        rid = p.next_rid()
        f = encode(T[name], dict(body, rid=rid))
        tally.case("%s %r" % (name, {k: (v[:20] if isinstance(v, str) else v) for k, v in body.items()}),
                   lambda f=f, name=name, status=status, rid=rid:
                   p.answer(f, T[name] | 0x80, STATUS[status], (rid,)))
    # Invalid UTF-8 inside msgpack str fields.
    for name, body, status in [
        ("SEND", {"nick": b"alice", "token": tok.encode(), "room": b"hostile", "texts": [b"\xff\xfe"]}, "invalid_text"),
        ("SEND", {"nick": b"alice", "token": tok.encode(), "room": b"hostile", "texts": [b"\xc3"]}, "invalid_text"),
        ("SEND", {"nick": b"alice", "token": tok.encode(), "room": b"hostile", "texts": [b"\xed\xa0\x80"]},
         "invalid_text"),
        ("DM", {"nick": b"alice", "token": tok.encode(), "to": b"bob", "text": b"\xc0\xaf"}, "invalid_text"),
        ("REGISTER", {"nick": b"\xff"}, "invalid_nick"), ("WHO", {"room": b"r\xff"}, "invalid_room"),
    ]:
        rid = p.next_rid()
        f = HDR + bytes([T[name]]) + pack_raw_str(dict(body, rid=rid))
        tally.case("%s with invalid UTF-8 %r" % (name, body),
                   lambda f=f, name=name, status=status, rid=rid:
                   p.answer(f, T[name] | 0x80, STATUS[status], (rid,)))

    tally.section = "client: multipart"
    # More than one frame: bad_request, judged on the first frame (its reply type and rid).
    for what, frames, rtype, rid in [
        ("two frames", [encode(T["PING"], {"rid": 1}), encode(T["PING"], {"rid": 2})], T["PING_REPLY"], 1),
        ("three frames", [b"", b"", b""], ERR, 0),
        ("two empty frames", [b"", b""], ERR, 0),
        ("50 frames", [b"x"] * 50, ERR, 0),
        ("request + garbage", [encode(T["HELLO"], {"rid": 3}), b"\xff"], T["HELLO_REPLY"], 3),
        ("unknown type + more", [HDR + b"\x7e" + msgpack.packb({"rid": 4}), b"x"], ERR, 4),
    ]:
        tally.case(what, lambda frames=frames, rtype=rtype, rid=rid:
                   p.answer(frames, rtype, STATUS["bad_request"], (rid,)))

    tally.section = "client: drops"
    # Notifications, even multipart ones: no answer, counted in dropped.malformed.
    drops = [
        ("DM_ACK without LISTEN", [encode(T["DM_ACK"], {"nick": "alice", "upto": 5})]),
        ("DM_ACK for another nick", [encode(T["DM_ACK"], {"nick": "bob", "upto": 2 ** 64 - 1})]),
        ("DM_ACK nick=5", [encode(T["DM_ACK"], {"nick": 5})]),
        ("DM_ACK upto=-1", [encode(T["DM_ACK"], {"nick": "alice", "upto": -1})]),
        ("DM_ACK array body", [HDR + bytes([T["DM_ACK"]]) + b"\x90"]),
        ("DM_ACK bomb", [HDR + bytes([T["DM_ACK"]]) + BOMB_MAP]),
        ("DM_ACK empty body", [HDR + bytes([T["DM_ACK"]])]),
        ("UNLISTEN nick=[]", [encode(T["UNLISTEN"], {"nick": []})]),
        ("UNLISTEN str body", [HDR + bytes([T["UNLISTEN"]]) + b"\xa1x"]),
        ("UNLISTEN bomb", [HDR + bytes([T["UNLISTEN"]]) + BOMB_ARRAY]),
        ("DM_ACK + more", [encode(T["DM_ACK"], {"nick": "alice", "upto": 1}), b"x"]),
        ("UNLISTEN + more", [encode(T["UNLISTEN"], {"nick": "alice"}), b"x", b"y"]),
    ]
    for what, frames in drops:
        tally.case(what, lambda frames=frames: p.dropped(lambda: p.raw.sock.send_multipart(frames)))
    # UNLISTEN from a socket that is not the listener: ignored (the listener stays attached, nothing counted).
    tally.case("UNLISTEN from a stranger", lambda: stranger_unlisten(c, p, users))
    tally.case("DM_ACK from a stranger keeps the inbox", lambda: stranger_ack(c, p, users))
    p.raw.close()


def stranger_unlisten(c, p, users):
    lis = RawClient(c.client_ep)
    try:
        rep = lis.request("LISTEN", nick="bob", token=users["bob"])
        expect_eq(rep.get("status"), 0, "LISTEN bob")
        p.dropped(lambda: p.raw.send_raw(encode(T["UNLISTEN"], {"nick": "bob"})), counted=False)
        p.dropped(lambda: p.raw.send_raw(encode(T["UNLISTEN"], {"nick": "BOB"})), counted=False)
        expect_eq(lis.request("PING").get("listening"), True, "bob's listener still attached")
        lis.send_raw(encode(T["UNLISTEN"], {"nick": "bob"}))
        expect_eq(lis.request("PING").get("listening"), False, "bob's own UNLISTEN detaches")
    finally:
        lis.close()


def stranger_ack(c, p, users):
    sender = RawClient(c.client_ep)
    try:
        rep = sender.request("DM", nick="alice", token=users["alice"], to="bob", text="keep me")
        expect_eq(rep.get("status"), 0, "DM alice -> bob")
        # A stranger acknowledges everything for bob: ignored and counted.
        p.dropped(lambda: p.raw.send_raw(encode(T["DM_ACK"], {"nick": "bob", "upto": 2 ** 64 - 1})))
        lis = RawClient(c.client_ep)
        try:
            expect_eq(lis.request("LISTEN", nick="bob", token=users["bob"]).get("status"), 0, "LISTEN bob")
            deadline = time.monotonic() + 5
            got = None
            while got is None and time.monotonic() < deadline:
                t, body = lis.recv(5)
                if t == T["DM_DELIVER"] and body.get("text") == "keep me":
                    got = body
            expect_eq(bool(got), True, "the DM survived the stranger's DM_ACK")
            lis.send_raw(encode(T["DM_ACK"], {"nick": "bob", "upto": got["id"]}))
            lis.send_raw(encode(T["UNLISTEN"], {"nick": "bob"}))
            lis.request("PING")
        finally:
            lis.close()
    finally:
        sender.close()


# ---------------------------------------------------------------------------------------------------------------
# Worker port (of the broker)

class FakeWorker:
    """A DEALER on the broker's worker port. In `live` mode a thread completes the handshake and answers
    heartbeats; sends from the test go through the same thread (a zmq socket is used by one thread)."""

    def __init__(self, endpoint, wid):
        self.ctx = zmq.Context.instance()
        self.endpoint = endpoint
        self.wid = wid
        self.out = []
        self.lock = threading.Lock()
        self.seen = []
        self.stop = False
        self.welcomed = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def send(self, frames):
        with self.lock:
            self.out.append(frames)

    def _run(self):
        s = self.ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(self.endpoint)
        s.send(encode(T["W_READY"], {"worker": self.wid, "host": "hostile", "pid": 1}))
        while not self.stop:
            with self.lock:
                out, self.out = self.out, []
            for frames in out:
                s.send_multipart(frames)
            if not s.poll(5):
                continue
            parts = s.recv_multipart()
            try:
                t, body = decode(parts[0])
            except Exception:  # noqa: BLE001
                continue
            self.seen.append((t, body))
            if t == T["W_WELCOME"] and not self.welcomed.is_set():
                self.welcomed.set()
                s.send(encode(T["W_HEARTBEAT"], {}))
            elif t == T["W_HEARTBEAT"]:
                s.send(encode(T["W_HEARTBEAT"], {}))
        s.close(0)

    def welcomed_again(self, timeout=3.0):
        """Sends W_READY again (same id, same connection: the broker only welcomes it again) and waits for the
        W_WELCOME: a sentinel after which everything sent before it has been handled."""
        n = self.welcomes()
        self.send([encode(T["W_READY"], {"worker": self.wid, "host": "hostile", "pid": 1})])
        deadline = time.monotonic() + timeout
        while self.welcomes() == n:
            if time.monotonic() > deadline:
                raise AssertionError("no W_WELCOME for the fake worker's W_READY within %.0f s" % timeout)
            time.sleep(0.005)  # poll interval of a bounded wait on the fake's thread

    def welcomes(self):
        return sum(1 for t, _ in list(self.seen) if t == T["W_WELCOME"])

    def close(self):
        self.stop = True
        self.thread.join(5)


def worker_port(c, tally):
    admin = RawClient(c.client_ep)

    def malformed():
        return admin.request("STATUS")["dropped"]["malformed"]

    def dropped_once(sock_send, frames, sentinel):
        """`frames` are dropped and counted once: `sentinel` sends, on the same connection, a message the broker
        answers, and waits for the answer; the broker handles a connection's messages in order, so by then it
        has counted whatever the frames cost."""
        before = malformed()
        sock_send(frames)
        sentinel()
        expect_eq(malformed() - before, 1, "dropped.malformed growth")

    tally.section = "worker port: unregistered peer"
    ctx = zmq.Context.instance()
    stranger = ctx.socket(zmq.DEALER)
    stranger.setsockopt(zmq.LINGER, 0)
    stranger.connect(c.worker_ep)
    undecodable = [b"", b"C", b"CB\x01", b"CB\x02\x40\x80", HDR + b"\x7f\x80", HDR + b"\x42" + BOMB_MAP,
                   HDR + b"\x46" + DEEP, HDR + b"\x45\x90", b"\xff" * 100, HDR + b"\x44" + b"\x80junk"]
    def disconnected(frames):
        stranger.send_multipart(frames)
        if not stranger.poll(3000):
            raise AssertionError("no W_DISCONNECT for a message from an unknown worker")
        t, body = decode(stranger.recv_multipart()[0])
        expect_eq(t, T["W_DISCONNECT"], "answer to an unknown worker")

    # A heartbeat from a stranger is answered W_DISCONNECT, and not counted as malformed.
    stranger_sentinel = lambda: disconnected([encode(T["W_HEARTBEAT"], {})])
    for f in undecodable:
        tally.case("stranger sends %r" % f[:10],
                   lambda f=f: dropped_once(stranger.send_multipart, [f], stranger_sentinel))
    for what, body in [("worker=''", {"worker": "", "host": "h", "pid": 1}),
                       ("no worker", {"host": "h"}), ("worker=5", {"worker": 5}),
                       ("pid=-1", {"worker": "w", "pid": -1}), ("host=[]", {"worker": "w", "host": []})]:
        f = encode(T["W_READY"], body)
        tally.case("W_READY %s" % what, lambda f=f: dropped_once(stranger.send_multipart, [f], stranger_sentinel))

    for name, body in [("W_HEARTBEAT", {}), ("W_REPLY", {"bid": 1}), ("W_STATE", {"room": "x", "seq": 9}),
                       ("W_RELEASE", {"room": "x"}), ("PING", {"rid": 1}), ("EVENT", {"room": "x"})]:
        f = encode(T[name], body)
        tally.case("stranger sends %s" % name, lambda f=f: disconnected([f]))
    stranger.close(0)

    tally.section = "worker port: registered fake worker"
    fake = FakeWorker(c.worker_ep, "hostile-fake")
    try:
        if not fake.welcomed.wait(5):
            raise AssertionError("the fake worker was not welcomed")
        c.wait_status(lambda st: len(st.get("workers", [])) == 2, timeout=5, what="the fake worker live")
        event = room_topic("hostile") + encode(T["EVENT"], {"room": "hostile", "seq": 99, "kind": "message",
                                                            "nick": "alice", "text": "forged", "ts": 1})
        reply = encode(T["SEND_REPLY"], {"rid": 1, "status": 0})
        cases = [
            ("W_REPLY unknown bid", [encode(T["W_REPLY"], {"bid": 123456789}), reply, event]),
            ("W_REPLY bid 0", [encode(T["W_REPLY"], {"bid": 0}), reply]),
            ("W_REPLY max bid", [encode(T["W_REPLY"], {"bid": 2 ** 64 - 1}), reply, event, event]),
            ("W_REPLY bid str", [encode(T["W_REPLY"], {"bid": "1"}), reply]),
            ("W_REPLY bid -1", [encode(T["W_REPLY"], {"bid": -1}), reply]),
            ("W_REPLY alone", [encode(T["W_REPLY"], {"bid": 1})]),
            ("W_REPLY + 1 frame", [encode(T["W_REPLY"], {"bid": 1}), reply]),
            ("W_REPLY array body", [HDR + b"\x45\x90", reply, event]),
            ("W_REPLY bomb", [HDR + b"\x45" + BOMB_MAP, reply]),
            ("W_STATE seq str", [encode(T["W_STATE"], {"room": "hostile", "seq": "one"})]),
            ("W_STATE members int", [encode(T["W_STATE"], {"room": "hostile", "members": 5})]),
            ("W_STATE history garbage", [encode(T["W_STATE"], {"room": "hostile", "history": [1, "x"]})]),
            ("W_STATE history of lists", [encode(T["W_STATE"], {"room": "hostile", "history": [[1]]})]),
            ("W_STATE bad room", [encode(T["W_STATE"], {"room": "Not A Room!", "seq": 5})]),
            ("W_STATE empty room", [encode(T["W_STATE"], {"seq": 5})]),
            ("W_STATE room/..", [encode(T["W_STATE"], {"room": "../x", "seq": 5})]),
            # W_STATE may carry more than 1,024 members (sized limits), but never more than its bytes hold.
            ("W_STATE 65,535 members claimed in a short frame",
             [HDR + b"\x46" + bytes.fromhex("83a4726f6f6da3626967a373657105a76d656d62657273dcffff") +
              b"\xa2n1" * 10]),
            ("W_STATE array bomb", [HDR + b"\x46" + bytes.fromhex("82a4726f6f6da178a76d656d62657273ddffffffff")]),
            ("W_STATE deep", [HDR + b"\x46" + DEEP]),
            ("W_RELEASE from a worker", [encode(T["W_RELEASE"], {"room": "hostile"})]),
            ("W_WELCOME from a worker", [encode(T["W_WELCOME"], {"boot": "x"})]),
            ("W_REQUEST from a worker", [encode(T["W_REQUEST"], {"bid": 1}), encode(T["PING"], {"rid": 1})]),
            ("EVENT on the worker port", [event]),
            ("HELLO on the worker port", [encode(T["HELLO"], {"rid": 1})]),
            ("SYNC on the worker port", [encode(T["SYNC"], {"nonce": "x"})]),
            ("bad version", [b"CB\x02\x42\x80"]),
            ("unknown type", [HDR + b"\x4f\x80"]),
            ("garbage", [os.urandom(64)]),
        ]
        for what, frames in cases:
            tally.case("fake worker: %s" % what,
                       lambda frames=frames: dropped_once(fake.send, frames, fake.welcomed_again))
        # The fake's garbage published nothing and the room state is untouched.
        st = admin.request("STATUS")
        tally.case("fake worker garbage: nothing published, seq_break 0",
                   lambda: expect_eq(st["dropped"].get("seq_break"), 0, "seq_break"))
        fake.send([encode(T["W_DISCONNECT"], {"reason": "done"})])
        c.wait_status(lambda st: len(st.get("workers", [])) == 1, timeout=5, what="the fake worker gone")
    finally:
        fake.close()
        admin.close()


# ---------------------------------------------------------------------------------------------------------------
# Events port

def events_port(c, tally):
    tally.section = "events port"
    ctx = zmq.Context.instance()
    x = ctx.socket(zmq.XSUB)
    x.setsockopt(zmq.LINGER, 0)
    x.connect(c.events_ep)
    # The connection is up once a first sync mark is answered (XSUB replays its subscriptions on connecting):
    # a probe sent before would be lost, and pass without testing anything.
    x.send(b"\x01sync/up\0")
    deadline = time.monotonic() + 5
    while not (x.poll(100) and x.recv().startswith(b"sync/up\0")):
        if time.monotonic() > deadline:
            raise AssertionError("no SYNC from the events socket within 5 s")

    def no_sync(frames, nonce_expected=None):
        for f in frames:
            x.send(f)
        tag = b"sync/probe%d\0" % random.randrange(1 << 30)
        x.send(b"\x01" + tag)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            if not x.poll(100):
                continue
            m = x.recv()
            if m.startswith(tag):
                return
            raise AssertionError("published %r before the probe's SYNC" % m[:40])
        raise AssertionError("no SYNC for the probe")

    for f in [b"", b"\x00", b"\x01", b"\x02garbage", b"\xffsync/x\0", b"CB\x01\x01\x80", b"\x01sync/\0",
              b"\x01sync/" + b"a" * 65 + b"\0", b"\x01sync/../x\0", b"\x01sync/A B\0", b"\x01sync/x",
              b"\x01sync/x\0\0", b"\x01sync/" + bytes(range(1, 32)) + b"\0", b"\x00sync/never\0",
              b"\x01room/\0", b"\x01" + b"r" * 4000]:
        tally.case("XSUB sends %r" % f[:16], lambda f=f: no_sync([f]))
    # Over 4 KiB: libzmq disconnects that subscriber (documented); the broker serves the others.
    big = ctx.socket(zmq.XSUB)
    big.setsockopt(zmq.LINGER, 0)
    big.connect(c.events_ep)
    big.send(b"\x01sync/" + b"z" * 70000 + b"\0")
    tally.case("5 KB and 70 KB subscriptions", lambda: (big.send(b"\x01" + b"q" * 5000), no_sync([])))
    big.close(0)
    x.close(0)


# ---------------------------------------------------------------------------------------------------------------
# A real worker behind a fake broker

class FakeBroker:
    def __init__(self, worker_bin):
        self.ctx = zmq.Context.instance()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        # A ROUTER drops silently at its high-water mark: unbounded, so the flood and the probe after it arrive.
        self.sock.setsockopt(zmq.SNDHWM, 0)
        self.sock.setsockopt(zmq.RCVHWM, 0)
        self.proc = Proc("worker-hostile", [worker_bin, "--broker", bind_any_port(self.sock), "--id", "hw",
                                            "--log-level", "warn"])
        self.peer = None
        self.bid = 1000
        deadline = time.monotonic() + 10
        while self.peer is None:
            if time.monotonic() > deadline:
                raise AssertionError("no W_READY from the worker\n" + self.proc.log_text())
            if self.sock.poll(200):
                parts = self.sock.recv_multipart()
                if decode(parts[1])[0] == T["W_READY"]:
                    self.peer = parts[0]
        self.send([encode(T["W_WELCOME"], {"boot": "hostile-boot", "heartbeat_ms": 2000, "liveness": 5,
                                          "max_text": 4096, "max_batch": 64})])
        self.wait_for(T["W_HEARTBEAT"])

    def send(self, frames):
        self.sock.send_multipart([self.peer] + frames)

    def wait_for(self, want, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sock.poll(100):
                parts = self.sock.recv_multipart()[1:]
                t, body = decode(parts[0])
                if t == want:
                    return body, parts
        raise AssertionError("no 0x%02x from the worker within %.0f s" % (want, timeout))

    def request(self, frame, extra=()):
        """Forwards one request frame; returns the W_REPLY's (bid, parts) for it, or None if none came before
        the probe that follows it."""
        self.bid += 1
        bid = self.bid
        self.send([encode(T["W_REQUEST"], {"bid": bid}), frame] + list(extra))
        return self.probe_after(bid)

    def probe_after(self, bid):
        self.bid += 1
        probe = self.bid
        self.send([encode(T["W_REQUEST"], {"bid": probe}), encode(T["WHO"], {"rid": 1, "room": "probe-room"})])
        answer = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if not self.sock.poll(100):
                continue
            parts = self.sock.recv_multipart()[1:]
            t, body = decode(parts[0])
            if t == T["W_HEARTBEAT"]:
                continue
            if t != T["W_REPLY"]:
                raise AssertionError("unexpected %s from the worker" % TYPE_NAME.get(t, hex(t)))
            if body.get("bid") == probe:
                return answer
            if body.get("bid") == bid and answer is None:
                answer = parts
            else:
                raise AssertionError("W_REPLY for bid %r (expected %d or the probe)" % (body.get("bid"), bid))
        raise AssertionError("the worker did not answer the probe\n" + self.proc.log_text()[-2000:])

    def close(self):
        self.proc.stop()
        self.sock.close(0)


def worker_process(c, tally):
    fb = FakeBroker(c.worker_bin)
    try:
        def answered(frame, want_type, status, rids=None):
            parts = fb.request(frame)
            if parts is None:
                raise AssertionError("no W_REPLY")
            t, body = decode(parts[1])
            if t != want_type or body.get("status") != STATUS[status] or (rids and body.get("rid") not in rids):
                raise AssertionError("reply %s %r, expected %s %s" % (TYPE_NAME.get(t, hex(t)), body,
                                                                      TYPE_NAME.get(want_type), status))
            if len(parts) != 2:
                raise AssertionError("%d event frames for a refused request" % (len(parts) - 2))

        def not_answered(frames):
            fb.send(frames)
            if fb.probe_after(-1) is not None:
                raise AssertionError("answered")

        tally.section = "worker: forwarded requests"
        fb.request(encode(T["JOIN"], {"rid": 1, "nick": "alice", "room": "wroom"}))
        for name in ("JOIN", "LEAVE", "SEND", "WHO", "HISTORY"):
            fields = FIELDS[name]
            for field, ftype in fields.items():
                if field == "token":
                    continue
                for bad in WRONG[ftype][:4]:
                    body = {"rid": 77, "nick": "alice", "room": "wroom", "texts": ["t"], "last": 0, "since": 0}
                    body = {k: v for k, v in body.items() if k in fields}
                    body[field] = bad
                    f = encode(T[name], body)
                    tally.case("%s.%s = %r" % (name, field, bad),
                               lambda f=f, name=name, field=field: answered(
                                   f, T[name] | 0x80, "bad_request", (0,) if field == "rid" else (77,)))
            for what, body in [("array", b"\x90"), ("bomb", BOMB_MAP), ("deep", DEEP), ("truncated", b"\x81\xa3ri"),
                               ("trailing", msgpack.packb({"rid": 77}) + b"x"), ("array bomb", BOMB_ARRAY)]:
                f = HDR + bytes([T[name]]) + body
                tally.case("%s %s body" % (name, what),
                           lambda f=f, name=name: answered(f, T[name] | 0x80, "bad_request", (0, 77)))
            # Answered with ERROR by the broker, which never forwards it: the worker drops it.
            f = b"CB\x02" + bytes([T[name]]) + msgpack.packb({"rid": 77})
            tally.case("%s version 2" % name,
                       lambda f=f: not_answered([encode(T["W_REQUEST"], {"bid": 5}), f]))
        for name in ("HELLO", "REGISTER", "DM", "PING", "STATUS", "LISTEN", "ROOMS", "UNREGISTER"):
            f = encode(T[name], {"rid": 78})
            tally.case("%s forwarded to a worker" % name,
                       lambda f=f, name=name: answered(f, T[name] | 0x80, "unknown_type", (78,)))
        for what, body, status in [
            ("SEND 65 texts", {"rid": 79, "nick": "alice", "room": "wroom", "texts": ["t"] * 65}, "batch_too_large"),
            ("SEND control char", {"rid": 79, "nick": "alice", "room": "wroom", "texts": ["\x1b[2J"]}, "invalid_text"),
            ("SEND bad room", {"rid": 79, "nick": "alice", "room": "W/ROOM", "texts": ["t"]}, "invalid_room"),
            ("SEND not member", {"rid": 79, "nick": "mallory", "room": "wroom", "texts": ["t"]}, "not_member"),
            ("JOIN bad nick", {"rid": 79, "nick": "bad nick!", "room": "wroom"}, "bad_request"),
            ("JOIN empty nick", {"rid": 79, "room": "wroom"}, "bad_request"),
            ("LEAVE stranger", {"rid": 79, "nick": "mallory", "room": "wroom"}, "not_member"),
            ("WHO missing room", {"rid": 79, "room": "nothing-here"}, "no_such_room"),
        ]:
            name = what.split()[0]
            f = encode(T[name], body)
            tally.case("worker %s" % what,
                       lambda f=f, name=name, status=status: answered(f, T[name] | 0x80, status, (79,)))
        tally.case("HISTORY last=2^64-1 since=2^64-1", lambda: answered(
            encode(T["HISTORY"], {"rid": 80, "room": "wroom", "last": 2 ** 64 - 1, "since": 2 ** 64 - 1}),
            T["HISTORY_REPLY"], "ok", (80,)))

        tally.section = "worker: dropped"
        # What does not name a request has no reply type: the worker drops it (worker/request_handler.hpp).
        for f in [b"", b"junk", b"XB\x01\x04\x80", HDR + b"\x7e\x80", HDR + bytes([T["DM_ACK"]]) + b"\x80",
                  HDR + bytes([T["JOIN_REPLY"]]) + b"\x80", HDR + bytes([T["EVENT"]]) + b"\x80"]:
            tally.case("forwarded %r" % f[:8], lambda f=f: not_answered([encode(T["W_REQUEST"], {"bid": 5}), f]))
        # Broker-to-worker messages that make no sense: ignored, the worker keeps serving.
        for what, frames in [
            ("W_REQUEST without a request", [encode(T["W_REQUEST"], {"bid": 6})]),
            ("W_REQUEST bid str", [encode(T["W_REQUEST"], {"bid": "x"}), encode(T["WHO"], {"rid": 1, "room": "x"})]),
            ("W_REQUEST three frames", [encode(T["W_REQUEST"], {"bid": 6}), b"a", b"b"]),
            ("W_WELCOME again", [encode(T["W_WELCOME"], {"boot": "other", "heartbeat_ms": 1})]),
            ("W_WELCOME garbage", [HDR + b"\x41\x90"]),
            ("W_RELEASE unknown room", [encode(T["W_RELEASE"], {"room": "never-held"})]),
            ("W_RELEASE garbage", [encode(T["W_RELEASE"], {"room": 5})]),
            ("W_STATE garbage", [encode(T["W_STATE"], {"room": "wstate", "seq": "x"})]),
            ("W_STATE invalid room", [encode(T["W_STATE"], {"room": "A B", "seq": 1})]),
            ("W_STATE deep", [HDR + b"\x46" + DEEP]),
            ("W_STATE map bomb", [HDR + b"\x46" + BOMB_MAP]),
            ("W_STATE array bomb (2^32-1 members)",
             [HDR + b"\x46" + bytes.fromhex("82a4726f6f6da178a76d656d62657273ddffffffff")]),
            ("W_STATE array bomb (2^24 members)",
             [HDR + b"\x46" + bytes.fromhex("82a4726f6f6da178a76d656d62657273dd01000000")]),
            ("W_STATE str bomb", [HDR + b"\x46" + bytes.fromhex("81a4726f6f6ddbffffffff")]),
            ("W_HEARTBEAT with body", [encode(T["W_HEARTBEAT"], {"x": [1, 2, 3]})]),
            ("EVENT from the broker", [room_topic("x") + encode(T["EVENT"], {"room": "x"})]),
            ("client request outside W_REQUEST", [encode(T["JOIN"], {"rid": 1, "nick": "a", "room": "b"})]),
            ("random", [os.urandom(200)]),
            ("bad version", [b"CB\x09\x44" + msgpack.packb({"bid": 1})]),
        ]:
            tally.case(what, lambda frames=frames: not_answered(frames))

        tally.section = "worker: flood"
        rss0 = rss_kb(fb.proc.pid)
        rng = random.Random(6)
        for i in range(5000):
            kind = i % 4
            if kind == 0:
                fb.send([bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))])
            elif kind == 1:
                fb.send([HDR + b"\x46" + bytes.fromhex("82a4726f6f6da178a76d656d62657273dd00100000")])
            elif kind == 2:
                fb.send([encode(T["W_REQUEST"], {"bid": 10 ** 6 + i}), b"CB\x01\x04" + os.urandom(8)])
            else:
                fb.send([encode(T["W_REQUEST"], {"bid": 10 ** 6 + i}), HDR + b"\x7e"])

        def survived():
            # Drain the replies to the flood's requests, then the worker must still answer a probe.
            fb.bid += 1
            probe = fb.bid
            fb.send([encode(T["W_REQUEST"], {"bid": probe}), encode(T["WHO"], {"rid": 1, "room": "probe"})])
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if fb.sock.poll(100):
                    parts = fb.sock.recv_multipart()[1:]
                    t, body = decode(parts[0])
                    if t == T["W_REPLY"] and body.get("bid") == probe:
                        break
            else:
                raise AssertionError("the worker did not answer after the flood")
            if not fb.proc.alive():
                raise AssertionError("worker died")
            grown = rss_kb(fb.proc.pid) - rss0
            print("  worker RSS %d kB -> %d kB after 5,000 hostile frames" % (rss0, rss0 + grown), flush=True)
            if grown > RSS_GROWTH_LIMIT_KB:
                raise AssertionError("worker RSS grew by %d kB" % grown)
        tally.case("worker flood of 5,000 frames (incl. 1,250 W_STATE claiming 2^20 members)", survived)
    finally:
        fb.close()


# ---------------------------------------------------------------------------------------------------------------
# Floods against the broker

def broker_flood(c, tally):
    tally.section = "broker flood"
    pid = c.broker.pid
    admin = RawClient(c.client_ep)
    before = admin.request("STATUS")["dropped"]
    rss0 = rss_kb(pid)
    rng = random.Random(20000)
    socks = [RawClient(c.client_ep) for _ in range(4)]
    for s in socks:
        s.sock.setsockopt(zmq.RCVHWM, 0)
        s.sock.setsockopt(zmq.SNDHWM, 0)
    expect_replies = [{} for _ in socks]  # status -> count
    drops = 0
    n = 20000
    for i in range(n):
        s = i % 4
        kind = rng.randrange(6)
        if kind == 0:
            f = b"X" + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 60)))
            st = "bad_request"
        elif kind == 1:
            f = b"CB" + bytes([rng.randrange(2, 256), rng.randrange(256)]) + os.urandom(rng.randrange(0, 20))
            st = "bad_version"
        elif kind == 2:
            code = rng.choice([x for x in range(256) if x not in KNOWN])
            f = HDR + bytes([code]) + os.urandom(rng.randrange(0, 20))
            st = "unknown_type"
        elif kind == 3:
            first = rng.choice([b"\x90", b"\x01", b"\xc0", b"\xa1", b"\xc1", b"\xdd\xff\xff\xff\xff", b"\x93"])
            f = HDR + bytes([rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13])]) + first + os.urandom(
                rng.randrange(0, 30))
            st = "bad_request"
        elif kind == 4:
            # Multipart: bad_request, judged on the first frame (too short for a header: ERROR).
            socks[s].sock.send_multipart([b"a", os.urandom(10)])
            expect_replies[s]["bad_request"] = expect_replies[s].get("bad_request", 0) + 1
            continue
        else:
            f = HDR + bytes([T["DM_ACK"]]) + bytes([0x90]) + os.urandom(rng.randrange(0, 10))
            drops += 1
            socks[s].send_raw(f)
            continue
        socks[s].send_raw(f)
        expect_replies[s][st] = expect_replies[s].get(st, 0) + 1
    # Worker port: 5,000 undecodable frames from a stranger (dropped and counted).
    ctx = zmq.Context.instance()
    ws = ctx.socket(zmq.DEALER)
    ws.setsockopt(zmq.LINGER, 0)
    ws.setsockopt(zmq.SNDHWM, 0)
    ws.connect(c.worker_ep)
    for i in range(5000):
        ws.send(b"\x00" + os.urandom(rng.randrange(0, 50)))
    wdrops = 5000

    def all_answered():
        for s, want in zip(socks, expect_replies):
            # A PING after the flood, on the same socket, is answered after every frame before it.
            rid = 1 << 40
            s.send_raw(encode(T["PING"], {"rid": rid}))
            got = {}
            while True:
                t, body = decode(s.recv_raw(20))
                if t == T["PING_REPLY"] and body.get("rid") == rid:
                    break
                if t != T["ERROR"] and not (t & 0x80):
                    raise AssertionError("flood: a reply of type 0x%02x" % t)
                name = _sname(body.get("status"))
                got[name] = got.get(name, 0) + 1
            expect_eq(got, want, "flood replies by status (all of them before the PING's)")

    tally.case("20,000-frame client flood: every frame answered with its documented status", all_answered)

    def counted():
        deadline = time.monotonic() + 10
        want = before["malformed"] + n + wdrops
        while True:
            after = admin.request("STATUS")["dropped"]
            if after["malformed"] >= want or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        expect_eq(after["malformed"], want, "dropped.malformed after the floods (%d client drops)" % drops)
        expect_eq(after.get("unroutable", 0), before.get("unroutable", 0), "dropped.unroutable")

    tally.case("floods counted in dropped.malformed", counted)

    def flat():
        if not c.broker.alive():
            raise AssertionError("broker died")
        grown = rss_kb(pid) - rss0
        print("  broker RSS %d kB -> %d kB after 25,000 hostile frames" % (rss0, rss0 + grown), flush=True)
        if grown > RSS_GROWTH_LIMIT_KB:
            raise AssertionError("broker RSS grew by %d kB" % grown)

    tally.case("broker RSS flat across the floods", flat)
    for s in socks:
        s.close()
    ws.close(0)
    admin.close()


def still_serving(c, tally, users):
    tally.section = "afterwards"

    def serving():
        r = RawClient(c.client_ep)
        try:
            rep = r.request("SEND", nick="alice", token=users["alice"], room="hostile", texts=["still here"])
            expect_eq(rep.get("status"), 0, "SEND after everything")
            expect_eq(r.request("WHO", room="hostile").get("members"), ["alice"], "WHO hostile")
        finally:
            r.close()
        for p in [c.broker] + c.workers:
            if not p.alive():
                raise AssertionError("%s died (exit %s)" % (p.name, p.popen.returncode))

    tally.case("broker and worker still serve", serving)


def main():
    t0 = time.monotonic()
    tally = Tally()
    with Cluster(workers=1, log_level="warn", broker_args=["--fsync", "never", *NO_RATE_LIMITS]) as c:
        r = RawClient(c.client_ep)
        users = {}
        for nick in ("alice", "bob"):
            rep = r.request("REGISTER", nick=nick)
            assert rep.get("status") == 0, rep
            users[nick] = rep["token"]
        assert r.request("JOIN", nick="alice", token=users["alice"], room="hostile").get("status") == 0
        r.close()
        sections = [("client port", lambda: client_port(c, tally, users)),
                    ("broker worker port", lambda: worker_port(c, tally)),
                    ("events port", lambda: events_port(c, tally)),
                    ("worker process", lambda: worker_process(c, tally)),
                    ("floods", lambda: broker_flood(c, tally)),
                    ("afterwards", lambda: still_serving(c, tally, users))]
        for name, fn in sections:
            t1 = time.monotonic()
            n0, ok0 = tally.tried, tally.ok
            try:
                fn()
            except Exception:  # noqa: BLE001 (a section that cannot go on is one failed case)
                traceback.print_exc()
                tally.tried += 1
                tally.failures.append("%s: aborted (see the traceback)" % name)
            print("%-20s %4d tried, %4d as documented (%.1f s)" % (
                name, tally.tried - n0, tally.ok - ok0, time.monotonic() - t1), flush=True)
        if tally.failures:
            c.dump_logs()
    for f in tally.failures:
        print("NOT AS DOCUMENTED: %s" % f)
    print("%d hostile inputs tried, %d answered as documented" % (tally.tried, tally.ok))
    print("(%.1f s)" % (time.monotonic() - t0))
    sys.exit(0 if tally.tried == tally.ok and tally.tried >= 200 else 1)


if __name__ == "__main__":
    main()
