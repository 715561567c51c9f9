// handle_request: every frame a broker could forward gets the right reply type, or is dropped when it names
// no request; nothing throws (docs/protocol.md, "Decoding rules").
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/codec.hpp"
#include "common/event_kind.hpp"
#include "tests/unit/packed.hpp"
#include "worker/request_handler.hpp"
#include "common/worker_messages.hpp"

using namespace chatbus;
using chatbus::test::packed_with;

namespace {

std::uint64_t code(Status s) {
    return static_cast<std::uint64_t>(s);
}

// The fields every reply shares, read without caring about the rest.
struct Common {
    std::uint64_t rid = 0, status = 0;
    std::string error;
    MSGPACK_DEFINE_MAP(rid, status, error)
};

Common read_common(const std::string& frame, MsgType expected) {
    Decoded d;
    REQUIRE(decode(frame, d) == Status::ok);
    CHECK(d.type == expected);
    Common c;
    d.body.get().convert(c);
    return c;
}

struct MistypedJoin {
    std::uint64_t rid = 77, room = 3;  // room must be a string
    MSGPACK_DEFINE_MAP(rid, room)
};

struct SendWithoutTexts {
    std::uint64_t rid = 8;
    std::string nick = "alice", room = "r";
    bool extra = true;  // unknown fields are ignored
    MSGPACK_DEFINE_MAP(rid, nick, room, extra)
};

std::string with_body(MsgType type, const std::string& body_bytes, char version = 1) {
    std::string f{'C', 'B', version, static_cast<char>(type)};
    return f + body_bytes;
}

std::string packed(const auto& v) {
    msgpack::sbuffer b;
    msgpack::pack(b, v);
    return {b.data(), b.size()};
}

}  // namespace

TEST_CASE("a valid JOIN frame is answered with an encoded JOIN_REPLY and its event") {
    RoomTable t;
    std::vector<Event> ev;
    auto reply = handle_request(t, encode(Join{5, "alice", "tok", "Lobby"}), ev);
    REQUIRE(reply);
    JoinReply r;
    REQUIRE(decode_as(*reply, r) == Status::ok);
    CHECK(r.rid == 5);
    CHECK(r.status == 0);
    CHECK(r.room == "lobby");
    CHECK(r.seq == 1);
    CHECK(r.joined);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].kind == event_kind::join);
}

TEST_CASE("each worker request type gets its own reply type") {
    RoomTable t;
    std::vector<Event> ev;
    handle_request(t, encode(Join{1, "alice", "", "r"}), ev);
    SendReply s;
    REQUIRE(decode_as(*handle_request(t, encode(Send{2, "alice", "", "r", {"a", "b"}}), ev), s) ==
            Status::ok);
    CHECK(s.first_seq == 2);
    CHECK(s.last_seq == 3);
    WhoReply w;
    REQUIRE(decode_as(*handle_request(t, encode(Who{3, "r"}), ev), w) == Status::ok);
    CHECK(w.members == std::vector<std::string>{"alice"});
    HistoryReply h;
    REQUIRE(decode_as(*handle_request(t, encode(History{4, "r", 2, 0}), ev), h) == Status::ok);
    CHECK(h.events.size() == 2);
    LeaveReply l;
    REQUIRE(decode_as(*handle_request(t, encode(Leave{5, "alice", "", "r"}), ev), l) == Status::ok);
    CHECK(l.seq == 4);
    CHECK(ev.size() == 4);
}

TEST_CASE("a body with a mistyped field is bad_request with the rid it carries") {
    RoomTable t;
    std::vector<Event> ev;
    MistypedJoin body;
    auto reply = handle_request(t, with_body(MsgType::join, packed(body)), ev);
    REQUIRE(reply);
    auto c = read_common(*reply, MsgType::join_reply);
    CHECK(c.rid == 77);
    CHECK(c.status == code(Status::bad_request));
    CHECK_FALSE(c.error.empty());
    CHECK(ev.empty());
}

TEST_CASE("a SEND without texts is invalid_text (missing fields take their defaults)") {
    RoomTable t;
    std::vector<Event> ev;
    handle_request(t, encode(Join{1, "alice", "", "r"}), ev);
    SendWithoutTexts body;
    auto c = read_common(*handle_request(t, with_body(MsgType::send, packed(body)), ev), MsgType::send_reply);
    CHECK(c.rid == 8);
    CHECK(c.status == code(Status::invalid_text));
}

TEST_CASE("a body that does not unpack is answered with the rid read before it broke off, else 0") {
    RoomTable t;
    std::vector<Event> ev;
    // A map claiming 2^32-1 entries: refused by the unpack limits, not allocated.
    auto c = read_common(*handle_request(t, with_body(MsgType::who, "\xdf\xff\xff\xff\xff"), ev),
                         MsgType::who_reply);
    CHECK(c.rid == 0);
    CHECK(c.status == code(Status::bad_request));
    // {"rid": 13, "room": <missing>, ...}: a map of 3 entries that ends after the second key.
    c = read_common(*handle_request(t, with_body(MsgType::who, "\x83\xa3rid\x0d\xa4room"), ev),
                    MsgType::who_reply);
    CHECK(c.rid == 13);
    CHECK(c.status == code(Status::bad_request));
    // Not a map at all.
    c = read_common(*handle_request(t, with_body(MsgType::history, packed(std::uint64_t{1})), ev),
                    MsgType::history_reply);
    CHECK(c.status == code(Status::bad_request));
}

TEST_CASE("another protocol version is dropped: the broker answers it with ERROR and never forwards one") {
    RoomTable t;
    std::vector<Event> ev;
    auto frame = encode(Leave{9, "alice", "", "r"});
    frame[2] = 2;
    CHECK_FALSE(handle_request(t, frame, ev));
}

TEST_CASE("a SEND text as msgpack bin is bad_request and publishes nothing (SendView reads str only)") {
    RoomTable t;
    std::vector<Event> ev;
    REQUIRE(handle_request(t, encode(Join{1, "alice", "", "r"}), ev));
    ev.clear();
    auto body = packed_with([](auto& pk) {
        pk.pack_map(4);
        pk.pack(std::string("rid"));
        pk.pack(std::uint64_t{21});
        pk.pack(std::string("nick"));
        pk.pack(std::string("alice"));
        pk.pack(std::string("room"));
        pk.pack(std::string("r"));
        pk.pack(std::string("texts"));
        pk.pack_array(2);
        pk.pack(std::string("as str"));
        pk.pack_bin(6);
        pk.pack_bin_body("as bin", 6);
    });
    auto c = read_common(*handle_request(t, with_body(MsgType::send, body), ev), MsgType::send_reply);
    CHECK(c.rid == 21);
    CHECK(c.status == code(Status::bad_request));
    CHECK(ev.empty());
}

TEST_CASE("a request the broker keeps for itself is unknown_type, answered in its own reply type") {
    RoomTable t;
    std::vector<Event> ev;
    auto c = read_common(*handle_request(t, encode(Ping{12}), ev), MsgType::ping_reply);
    CHECK(c.rid == 12);
    CHECK(c.status == code(Status::unknown_type));
}

TEST_CASE("frames that name no request are dropped, not answered") {
    RoomTable t;
    std::vector<Event> ev;
    CHECK_FALSE(handle_request(t, "", ev));
    CHECK_FALSE(handle_request(t, "CB", ev));
    CHECK_FALSE(handle_request(t, "XY\x01\x04\x80", ev));
    CHECK_FALSE(
        handle_request(t, with_body(static_cast<MsgType>(0x7f), packed(std::map<std::string, int>{})), ev));
    CHECK_FALSE(handle_request(t, encode(JoinReply{}), ev));    // a reply has no reply
    CHECK_FALSE(handle_request(t, encode(DmAck{"a", 1}), ev));  // a notification neither
    CHECK_FALSE(handle_request(t, encode(WHeartbeat{}), ev));
    CHECK(ev.empty());
}
