// The broker's copy of the rooms (RoomMirror) and the HISTORY pages answered from it.
#include <doctest/doctest.h>

#include "broker/history_page.hpp"
#include "broker/room_mirror.hpp"
#include "common/codec.hpp"

using namespace chatbus;

namespace {
// Applies an event as the broker does: its frame as published, and the fields read from it.
std::optional<MembershipChange> apply(RoomMirror& m, const Event& e, bool& brk) {
    return m.apply(EventView{.room = e.room, .kind = e.kind, .nick = e.nick, .seq = e.seq},
                   encode_with_topic(room_topic(e.room), e), brk);
}
}  // namespace

TEST_CASE("the room mirror follows events, hands out its state and adopts only newer copies") {
    RoomMirror m(3);
    bool brk = false;
    CHECK(apply(m, Event{"lobby", 1, "join", "Alice"}, brk)->joined);
    CHECK_FALSE(brk);
    CHECK_FALSE(apply(m, Event{"lobby", 2, "message", "Alice", "hi"}, brk).has_value());
    apply(m, Event{"lobby", 3, "join", "bob"}, brk);
    auto left = apply(m, Event{"lobby", 4, "leave", "bob"}, brk);
    REQUIRE(left.has_value());
    CHECK(left->folded_nick == "bob");
    CHECK_FALSE(left->joined);
    apply(m, Event{"lobby", 6, "message", "Alice", "skipped 5"}, brk);
    CHECK(brk);  // reported, and the event still wins

    WState s = m.state_of("lobby");
    CHECK(s.seq == 6);
    CHECK(s.members == std::vector<std::string>{"Alice"});
    REQUIRE(s.history.size() == 3);  // bounded
    CHECK(s.history.front().seq == 3);
    bool more = true;
    CHECK(m.list("", 10, more) == std::vector<RoomInfo>{{"lobby", 1}});
    CHECK_FALSE(more);

    CHECK_FALSE(m.adopt(WState{"lobby", 5, {"x"}, {}}));
    CHECK_FALSE(m.adopt(WState{"lobby", 6, {"x"}, {}}));
    CHECK(m.adopt(WState{"lobby", 9, {"carol", "Dave"}, {Event{"lobby", 9, "join", "Dave"}}}));
    CHECK(m.state_of("lobby").members == std::vector<std::string>{"carol", "Dave"});
    CHECK(m.adopt(WState{"new", 2, {"eve"}, {}}));
    CHECK(m.rooms_with_members() == 2);
}

TEST_CASE("the room list comes in pages that skip empty rooms") {
    RoomMirror m(3);
    bool brk = false;
    for (const char* room : {"a", "b", "c", "d", "e"}) apply(m, Event{room, 1, "join", "Alice"}, brk);
    apply(m, Event{"c", 2, "leave", "Alice"}, brk);  // no members: not listed
    bool more = false;
    auto page = m.list("", 2, more);
    CHECK(page == std::vector<RoomInfo>{{"a", 1}, {"b", 1}});
    CHECK(more);
    page = m.list("b", 2, more);
    CHECK(page == std::vector<RoomInfo>{{"d", 1}, {"e", 1}});
    CHECK_FALSE(more);  // exactly full, and nothing after
    CHECK(m.list("e", 2, more).empty());
    CHECK_FALSE(more);
    CHECK(m.list("bb", 1, more) == std::vector<RoomInfo>{{"d", 1}});  // a cursor need not be a room
    CHECK(more);
}

namespace {

// A mirror holding `n` message events of `room`, seqs 1..n, each `text_size` bytes of text.
RoomMirror mirror_with(const std::string& room, std::uint64_t n, std::size_t history,
                       std::size_t text_size = 4) {
    RoomMirror m(history);
    bool brk = false;
    for (std::uint64_t seq = 1; seq <= n; ++seq) {
        apply(m, Event{room, seq, "message", "alice", std::string(text_size, 'a' + seq % 26), 1000 + seq},
              brk);
    }
    return m;
}

HistoryReply page(const RoomMirror& m, const std::string& room, std::uint64_t last, std::uint64_t since) {
    std::string frame;
    encode_history_page(frame, History{42, room, last, since}, room, *m.find(room));
    HistoryReply r;
    REQUIRE(decode_as(frame, r) == Status::ok);
    CHECK(r.rid == 42);
    CHECK(r.status == 0);
    CHECK(r.room == room);
    return r;
}

std::vector<std::uint64_t> seqs(const HistoryReply& r) {
    std::vector<std::uint64_t> out;
    for (const auto& e : r.events) out.push_back(e.seq);
    return out;
}

}  // namespace

TEST_CASE("HISTORY from the copy selects by since and last, as a worker does") {
    RoomMirror m = mirror_with("lobby", 10, 6);  // keeps 5..10
    CHECK(seqs(page(m, "lobby", 0, 0)) == std::vector<std::uint64_t>{5, 6, 7, 8, 9, 10});
    CHECK(seqs(page(m, "lobby", 3, 0)) == std::vector<std::uint64_t>{8, 9, 10});
    CHECK(seqs(page(m, "lobby", 0, 8)) == std::vector<std::uint64_t>{9, 10});
    CHECK(seqs(page(m, "lobby", 1, 7)) == std::vector<std::uint64_t>{10});
    CHECK(seqs(page(m, "lobby", 5, 8)) == std::vector<std::uint64_t>{9, 10});
    CHECK(page(m, "lobby", 0, 10).events.empty());
    // The events are the ones published, byte for byte decoded back.
    HistoryReply r = page(m, "lobby", 1, 0);
    REQUIRE(r.events.size() == 1);
    CHECK(r.events[0] == Event{"lobby", 10, "message", "alice", std::string(4, 'a' + 10), 1010});
    CHECK_FALSE(r.more);
}

TEST_CASE("HISTORY from the copy pages at 1,000 events and about a MiB") {
    RoomMirror many = mirror_with("big", 2500, 3000);
    HistoryReply r = page(many, "big", 0, 0);
    CHECK(r.events.size() == kHistoryPageEvents);
    CHECK(r.more);
    CHECK(r.events.front().seq == 1);
    r = page(many, "big", 0, 2000);
    CHECK(r.events.size() == 500);
    CHECK_FALSE(r.more);

    RoomMirror large = mirror_with("large", 600, 600, 4000);  // ~2.4 MB kept
    r = page(large, "large", 0, 0);
    CHECK(r.more);
    CHECK(r.events.size() > 200);
    CHECK(r.events.size() < 300);
    std::size_t bytes = 0;
    for (const auto& e : r.events) bytes += e.text.size();
    CHECK(bytes <= kHistoryPageBytes);
    // The next page starts where this one ended.
    HistoryReply next = page(large, "large", 0, r.events.back().seq);
    CHECK(next.events.front().seq == r.events.back().seq + 1);
}

TEST_CASE("a mirror that keeps no history answers HISTORY with no events") {
    RoomMirror m = mirror_with("quiet", 3, 0);
    REQUIRE(m.find("quiet") != nullptr);
    CHECK(m.find("quiet")->seq == 3);
    CHECK(page(m, "quiet", 0, 0).events.empty());
}
