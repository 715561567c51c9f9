#include <doctest/doctest.h>

#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/gap_filler.hpp"

using namespace chatbus;
using namespace chatbus::cli;

namespace {

const Outcome kOk{.transport = Transport::ok, .status = Status::ok};
constexpr std::uint64_t kNoLimit = std::numeric_limits<std::uint64_t>::max();

Event ev(const std::string& room, std::uint64_t seq, std::string kind = "message", std::string nick = "bob") {
    return Event{.room = room, .seq = seq, .kind = std::move(kind), .nick = std::move(nick), .text = "t"};
}

// A listener without sockets: HISTORY answers from `kept` (or the next of `answers`), printing records
// "room#seq" and moves the room's `printed` as the listener does.
struct FakeListener : FillTarget {
    std::map<std::string, std::vector<Event>> kept;
    std::deque<Outcome> answers;  // taken first, one per HISTORY; a failed one comes without events
    std::map<std::string, FollowedRoom> rooms;
    std::optional<std::size_t> count;  // done once this many are printed
    std::vector<std::uint64_t> sinces;
    std::vector<std::string> printed, notes, notices;
    std::vector<Membership> memberships;

    Outcome history(const std::string& room, std::uint64_t since, std::vector<Event>& events) override {
        sinces.push_back(since);
        Outcome o = kOk;
        if (!answers.empty()) {
            o = answers.front();
            answers.pop_front();
            if (!o.ok()) return o;
        }
        for (const auto& e : kept[room]) {
            if (e.seq > since) events.push_back(e);
        }
        return o;
    }
    void print(const Event& e) override {
        printed.push_back(e.room + "#" + std::to_string(e.seq));
        rooms[e.room].printed = e.seq;
    }
    bool done() const override { return count && printed.size() >= *count; }
    void note(const std::string& text) override { notes.push_back(text); }
    void notice(const std::string& text) override { notices.push_back(text); }
    void membership(const Membership& m) override { memberships.push_back(m); }
};

std::vector<Event> events(const std::string& room, std::uint64_t from, std::uint64_t to) {
    std::vector<Event> r;
    for (std::uint64_t s = from; s <= to; ++s) r.push_back(ev(room, s));
    return r;
}

using Lines = std::vector<std::string>;

// alice's gap filler for one room, as yet without state.
struct Following {
    FakeListener l;
    GapFiller gaps{l, "alice"};
    FollowedRoom& room;
    explicit Following(const std::string& name = "lobby") : room(l.rooms[name]) {}
};

}  // namespace

TEST_CASE("followed room: a jump in what the events socket delivers is its loss") {
    FollowedRoom room;
    CHECK_FALSE(room.receive(5));  // the first: what came before is not the socket's loss
    CHECK_FALSE(room.receive(6));
    CHECK_FALSE(room.receive(6));  // a repeat
    auto lost = room.receive(10);
    REQUIRE(lost);
    CHECK(*lost == SeqRange{.from = 7, .to = 9});
    CHECK(lost->size() == 3);
    CHECK_FALSE(room.receive(1));  // numbering started again
    CHECK(room.receive(3) == SeqRange{.from = 2, .to = 2});
}

TEST_CASE("gap filler: live events print once and in order, and a gap is filled from HISTORY first") {
    Following f;
    auto& [l, gaps, room] = f;
    l.kept["lobby"] = events("lobby", 1, 9);

    CHECK(gaps.deliver(room, ev("lobby", 5), false) == FillResult::ok);  // the first sets where it stands
    CHECK(gaps.deliver(room, ev("lobby", 6), false) == FillResult::ok);
    CHECK(gaps.deliver(room, ev("lobby", 6), false) == FillResult::ok);  // repeat
    CHECK(gaps.deliver(room, ev("lobby", 4), false) == FillResult::ok);  // older
    CHECK(l.sinces.empty());
    CHECK(gaps.deliver(room, ev("lobby", 9), false) == FillResult::ok);
    CHECK(l.printed == Lines{"lobby#5", "lobby#6", "lobby#7", "lobby#8", "lobby#9"});
    CHECK(l.sinces == std::vector<std::uint64_t>{6});
    CHECK(l.notes.empty());
    CHECK(*room.printed == 9);
}

TEST_CASE("gap filler: what the room still keeps of a gap is printed, the end it lost is said to be missed") {
    Following f;
    auto& [l, gaps, room] = f;
    l.kept["lobby"] = events("lobby", 8, 12);  // history starts at #8
    room.printed = 3;
    CHECK(gaps.deliver(room, ev("lobby", 12), false) == FillResult::ok);
    CHECK(l.printed == Lines{"lobby#8", "lobby#9", "lobby#10", "lobby#11", "lobby#12"});

    Following g;
    g.l.kept["lobby"] = {ev("lobby", 1), ev("lobby", 2)};  // 3..6 are gone
    g.room.printed = 2;
    CHECK(g.gaps.deliver(g.room, ev("lobby", 7), false) == FillResult::ok);
    CHECK(g.l.notes == Lines{"[lobby] events #3-#6 were missed and are no longer kept"});
    CHECK(g.l.printed == Lines{"lobby#7"});
}

TEST_CASE("gap filler: a refused fetch is said, an unanswered one is the caller's, a held gap waits") {
    Following f;
    auto& [l, gaps, room] = f;
    room.printed = 2;
    SUBCASE("refused") {
        l.answers = {Outcome{.transport = Transport::ok, .status = Status::no_worker}};
        CHECK(gaps.deliver(room, ev("lobby", 5), false) == FillResult::ok);
        CHECK(l.notes == Lines{"[lobby] events #3-#4 were missed and could not be fetched (no_worker)"});
        CHECK(l.printed == Lines{"lobby#5"});
    }
    SUBCASE("unanswered") {
        l.answers = {Outcome{.transport = Transport::timeout}};
        CHECK(gaps.deliver(room, ev("lobby", 5), false) == FillResult::unreachable);
        CHECK(l.printed.empty());
        CHECK(l.notes.empty());
        CHECK(*room.printed == 2);
    }
    SUBCASE("held during an outage") {
        CHECK(gaps.deliver(room, ev("lobby", 5), true) == FillResult::ok);
        CHECK(gaps.deliver(room, ev("lobby", 3), true) == FillResult::ok);  // the next one still prints
        CHECK(l.sinces.empty());
        CHECK(l.printed == Lines{"lobby#3"});
    }
}

TEST_CASE("gap filler: fill stops printing once the listener is done") {
    Following f;
    auto& [l, gaps, room] = f;
    l.kept["lobby"] = events("lobby", 1, 10);
    l.count = 3;
    room.printed = 0;
    CHECK(gaps.fill("lobby", room, 0, kNoLimit, false) == FillResult::ok);
    CHECK(l.printed == Lines{"lobby#1", "lobby#2", "lobby#3"});
}

TEST_CASE("gap filler: fill prints only what is not printed yet, up to `upto`") {
    Following f;
    auto& [l, gaps, room] = f;
    l.kept["lobby"] = events("lobby", 1, 9);
    room.printed = 5;
    CHECK(gaps.fill("lobby", room, 2, 7, true) == FillResult::ok);
    CHECK(l.sinces == std::vector<std::uint64_t>{2});
    CHECK(l.printed == Lines{"lobby#6", "lobby#7"});
    CHECK(l.notes.empty());
}

TEST_CASE("gap filler: fill without note_missing (a join or a leave) reports nothing missing") {
    Following f;
    auto& [l, gaps, room] = f;
    l.kept["lobby"] = {ev("lobby", 4)};
    room.printed = 1;
    CHECK(gaps.fill("lobby", room, 1, 6, false) == FillResult::ok);
    CHECK(l.printed == Lines{"lobby#4"});
    CHECK(l.notes.empty());
    CHECK(*room.printed == 4);
}

TEST_CASE("gap filler: catch-up after an outage starts at the last event printed") {
    Following f;
    auto& [l, gaps, room] = f;
    room.printed = 4;
    SUBCASE("all of it kept") {
        l.kept["lobby"] = events("lobby", 1, 6);
        CHECK(gaps.catch_up("lobby", room) == FillResult::ok);
        CHECK(l.sinces == std::vector<std::uint64_t>{3});  // #4 must come back
        CHECK(l.printed == Lines{"lobby#5", "lobby#6"});
        CHECK(l.notes.empty());
        CHECK(l.notices.empty());
    }
    SUBCASE("its start no longer kept") {
        l.kept["lobby"] = events("lobby", 9, 10);
        CHECK(gaps.catch_up("lobby", room) == FillResult::ok);
        CHECK(l.notes == Lines{"[lobby] events #5-#8 were missed and are no longer kept"});
        CHECK(l.printed == Lines{"lobby#9", "lobby#10"});
    }
}

TEST_CASE("gap filler: catch-up of a room where nothing was printed starts at its floor") {
    Following f("quiet");
    auto& [l, gaps, room] = f;
    l.kept["quiet"] = events("quiet", 1, 3);
    room.floor = 1;
    CHECK(gaps.catch_up("quiet", room) == FillResult::ok);
    CHECK(l.printed == Lines{"quiet#2", "quiet#3"});

    Following g("quiet");  // no floor either: only what comes later can be told apart
    g.l.kept["quiet"] = events("quiet", 1, 3);
    CHECK(g.gaps.catch_up("quiet", g.room) == FillResult::ok);
    CHECK(g.l.printed.empty());
    CHECK(*g.room.printed == 3);
}

TEST_CASE("gap filler: a room joined while detached is shown from the nick's own join") {
    Following f("dev");
    auto& [l, gaps, room] = f;
    l.kept["dev"] = {ev("dev", 1), ev("dev", 2, "join", "Alice"), ev("dev", 3), ev("dev", 4, "join", "bob")};
    room.unanchored = true;
    room.floor = 3;  // not used: the join is where it starts
    CHECK(gaps.catch_up("dev", room) == FillResult::ok);
    CHECK(l.sinces == std::vector<std::uint64_t>{0});
    CHECK(l.printed == Lines{"dev#2", "dev#3", "dev#4"});
    REQUIRE(l.memberships.size() == 1);
    CHECK(l.memberships[0].room == "dev");
    CHECK(l.memberships[0].joined);
    CHECK(l.memberships[0].seq == 2);
    CHECK_FALSE(room.unanchored);
}

TEST_CASE("gap filler: a room whose numbering started again is shown again from #1") {
    Following f;
    auto& [l, gaps, room] = f;
    l.kept["lobby"] = events("lobby", 1, 2);  // the restarted broker's: #5 printed before is not there
    room.printed = 5;
    CHECK(gaps.catch_up("lobby", room) == FillResult::ok);
    CHECK(l.sinces == std::vector<std::uint64_t>{4, 0});
    REQUIRE(l.notices.size() == 1);
    CHECK(l.notices[0].find("[lobby] starts again from #1") == 0);
    CHECK(l.printed == Lines{"lobby#1", "lobby#2"});
}

TEST_CASE("gap filler: catch-up of a room that is gone, refused, or not answered") {
    Following f;
    auto& [l, gaps, room] = f;
    room.printed = 4;
    l.answers = {Outcome{.transport = Transport::ok, .status = Status::no_such_room}};
    CHECK(gaps.catch_up("lobby", room) == FillResult::gone);
    l.answers = {Outcome{.transport = Transport::ok, .status = Status::timeout, .error = "busy"}};
    CHECK(gaps.catch_up("lobby", room) == FillResult::failed);
    CHECK(l.notices == Lines{"[lobby] could not fetch the events missed after #4: busy"});
    l.answers = {Outcome{.transport = Transport::timeout}};
    CHECK(gaps.catch_up("lobby", room) == FillResult::unreachable);
    CHECK(*room.printed == 4);
    CHECK(l.printed.empty());
}
