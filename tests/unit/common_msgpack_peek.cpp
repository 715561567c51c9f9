// The broker's in-place event reader must accept exactly the bodies decode() accepts, and read the same
// fields from them.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "common/codec.hpp"
#include "common/event_kind.hpp"
#include "common/event_view.hpp"
#include "common/messages.hpp"
#include "common/msgpack_peek.hpp"
#include "tests/unit/packed.hpp"

using namespace chatbus;

namespace {

std::string event_body(const Event& e) {
    std::string frame = encode(e);
    return frame.substr(kHeaderSize);
}

// What the broker read before: decode() and the field lookups. Empty optional: refused.
struct Read {
    bool ok = false;
    std::string room, kind, nick;
    std::uint64_t seq = 0;
    std::string text;  // "" when absent or not a str
};

Read by_decode(const std::string& body) {
    Decoded d;
    std::string frame = std::string{'C', 'B', 1, static_cast<char>(MsgType::event)} + body;
    Read r;
    if (decode(frame, d) != Status::ok) return r;
    auto room = field_str(d, "room");
    auto kind = field_str(d, "kind");
    auto nick = field_str(d, "nick");
    auto seq = field_u64(d, "seq");
    if (!room || !kind || !nick || !seq) return r;
    auto text = field_str(d, "text");
    return {true, std::string(*room), std::string(*kind), std::string(*nick), *seq, std::string(text.value_or(""))};
}

Read by_peek(const std::string& body) {
    EventView f;
    Read r;
    if (!peek_event(body, f) || !f.have_room || !f.have_kind || !f.have_nick || !f.have_seq) return r;
    return {true, std::string(f.room), std::string(f.kind), std::string(f.nick), f.seq, std::string(f.text)};
}

void same(const std::string& body) {
    Read a = by_decode(body), b = by_peek(body);
    CHECK(a.ok == b.ok);
    if (a.ok && b.ok) {
        CHECK(a.room == b.room);
        CHECK(a.kind == b.kind);
        CHECK(a.nick == b.nick);
        CHECK(a.seq == b.seq);
        CHECK(a.text == b.text);
    }
}

}  // namespace

TEST_CASE("peek_event reads what decode reads") {
    Event e{"lobby", 42, "message", "alice", std::string(100, 'm'), 1700000000000};
    std::string body = event_body(e);
    Read r = by_peek(body);
    CHECK(r.ok);
    CHECK(r.room == "lobby");
    CHECK(r.kind == event_kind::message);
    CHECK(r.nick == "alice");
    CHECK(r.seq == 42);
    same(body);
    same(event_body(Event{"r", 1, "join", "bob", "", 0}));
    same(event_body(Event{"r", 0xFFFFFFFFFFull + 5, "leave", "bob", std::string(70000, 'x'), 0}));
}

TEST_CASE("peek_event refuses what decode refuses") {
    std::string body = event_body(Event{"lobby", 7, "message", "alice", "hi", 1});
    same("");
    same(body + "x");                      // trailing bytes
    same(body.substr(0, body.size() - 1));  // truncated
    same("\x90");                          // an array, not a map
    same("\xc1");                          // reserved byte
    same("\x81\xa4room\x05");              // room is not a string
    same("\x84\xa4room\xa1r\xa4kind\xa1k\xa4nick\xa1n\xa3seq\xff");  // negative seq
    same("\x84\xa4room\xa1r\xa4kind\xa1k\xa4nick\xa1n\xa3seq\xd0\x05");  // int8 5 reads as 5
    same("\x81\xa5texts\xdd\xff\xff\xff\xff");  // array bomb
    same("\x81\xa5texts\xdb\xff\xff\xff\xff");  // str bomb
    std::string deep = "\x81\xa5texts" + std::string(40, '\x91') + "\xa1x";
    same(deep);
    // Duplicate keys: the first one counts.
    same("\x85\xa4room\xa1r\xa4kind\xa1k\xa4nick\xa1n\xa3seq\x01\xa3seq\x02");
    same("\x85\xa4room\x01\xa4room\xa1r\xa4kind\xa1k\xa4nick\xa1n\xa3seq\x01");
}

TEST_CASE("peek_event agrees with decode on mutated events") {
    std::mt19937 rng(12345);
    std::string base = event_body(Event{"lobby", 300, "message", "alice", "some text here", 1700000000000});
    for (int i = 0; i < 20000; ++i) {
        std::string body = base;
        int edits = 1 + static_cast<int>(rng() % 3);
        for (int k = 0; k < edits; ++k) {
            std::size_t at = rng() % body.size();
            switch (rng() % 3) {
                case 0:
                    body[at] = static_cast<char>(rng() & 0xff);
                    break;
                case 1:
                    body.erase(at, 1 + rng() % 3);
                    break;
                default:
                    body.insert(at, 1, static_cast<char>(rng() & 0xff));
            }
            if (body.empty()) break;
        }
        same(body);
    }
}

TEST_CASE("msgpack_well_formed matches the unpack limits") {
    CHECK(msgpack_well_formed("\x80"));
    CHECK(msgpack_well_formed("\x92\x01\xa1x"));
    CHECK_FALSE(msgpack_well_formed("\x92\x01"));
    CHECK_FALSE(msgpack_well_formed("\x80\x80"));
    // Nesting at and around the depth limit: as decode() decides.
    for (int depth = 13; depth <= 18; ++depth) {
        std::string body = "\x81\xa1k" + std::string(static_cast<std::size_t>(depth - 1), '\x91') + "\x01";
        Decoded d;
        bool decoded = decode(std::string{'C', 'B', 1, static_cast<char>(MsgType::event)} + body, d) == Status::ok;
        CHECK_MESSAGE(msgpack_well_formed(body) == decoded, "depth ", depth);
    }
}

TEST_CASE("frame_rid: the first rid read before anything unreadable, with the signature, else 0") {
    auto body = [](auto&& build) { return test::packed_with(build); };
    const std::string hdr{'C', 'B', 1, static_cast<char>(MsgType::send)};
    const std::string good = body([](auto& pk) {
        pk.pack_map(2);
        pk.pack(std::string("texts"));
        pk.pack(std::vector<std::string>{"a", "b"});
        pk.pack(std::string("rid"));
        pk.pack(std::uint64_t{1} << 40);
    });
    CHECK(frame_rid(hdr + good) == std::uint64_t{1} << 40);
    // Any version and any type code: the body is read if it is a map.
    CHECK(frame_rid(std::string{'C', 'B', 9, 0x7e} + good) == std::uint64_t{1} << 40);
    // Another signature or a short frame: 0.
    CHECK(frame_rid(std::string{'X', 'B', 1, 6} + good) == 0);
    CHECK(frame_rid("CB\x01") == 0);
    // Cut before the rid (a prefix of an oversized frame, or a truncated body): 0; cut after it: the rid.
    for (std::size_t cut = 0; cut < good.size(); ++cut) {
        CAPTURE(cut);
        CHECK(frame_rid(hdr + good.substr(0, cut)) == 0);  // the rid's value is the last thing in the body
    }
    // The first rid counts: a mistyped first one gives 0 even if a good one follows.
    CHECK(frame_rid(hdr + body([](auto& pk) {
              pk.pack_map(2);
              pk.pack(std::string("rid"));
              pk.pack(std::string("7"));
              pk.pack(std::string("rid"));
              pk.pack(7);
          })) == 0);
    // A key that is not a str is stepped over; a string over the limit stops the reading.
    CHECK(frame_rid(hdr + body([](auto& pk) {
              pk.pack_map(2);
              pk.pack(5);
              pk.pack(5);
              pk.pack(std::string("rid"));
              pk.pack(8);
          })) == 8);
    CHECK(frame_rid(hdr + body([](auto& pk) {
              pk.pack_map(2);
              pk.pack(std::string("pad"));
              pk.pack(std::string(70000, 'x'));
              pk.pack(std::string("rid"));
              pk.pack(8);
          })) == 0);
    // Not a map, or a negative rid: 0.
    CHECK(frame_rid(hdr + body([](auto& pk) { pk.pack(std::vector<int>{1}); })) == 0);
    CHECK(frame_rid(hdr + body([](auto& pk) {
              pk.pack_map(1);
              pk.pack(std::string("rid"));
              pk.pack(-3);
          })) == 0);
}
